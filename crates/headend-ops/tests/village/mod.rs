//! What the tests of the people, meeting, service and box operations
//! share: a county with a town of two villages, a party branch and a box
//! in each village, operations at a fixed clock, and the events they
//! announced.

#![allow(dead_code)] // each test file uses part of it

use std::sync::{Arc, Mutex};

use headend_ops::db::{Account, Branch, Db, NewMember, Role};
use headend_ops::{Actor, Event, Events, FixedClock, Notes, Ops};
use model::{AreaCode, Region, RegionLevel};

pub const COUNTY: &str = "990101000000";
pub const TOWN: &str = "990101101000";
pub const VILLAGE: &str = "990101101001";
pub const OTHER_VILLAGE: &str = "990101101002";
/// The branch of `VILLAGE`, with members `m-1` and `m-3`.
pub const BRANCH: &str = "b-1";
/// The branch of `OTHER_VILLAGE`, with member `m-2`.
pub const OTHER_BRANCH: &str = "b-2";
/// `VILLAGE`'s box: `m-1` lives there.
pub const BOX: &str = "box-1";
pub const BOX_TOKEN: &str = "token-box-1";
/// Another box of `VILLAGE`, with nobody living there yet.
pub const NEW_BOX: &str = "box-3";
pub const NEW_BOX_TOKEN: &str = "token-box-3";
/// Unix milliseconds the clock starts at.
pub const START_MS: i64 = 1_791_421_200_000;

pub fn code(c: &str) -> AreaCode {
    c.parse().expect("a test region code")
}

/// The events operations announced, in order.
#[derive(Debug, Default)]
pub struct Heard(Mutex<Vec<Event>>);

impl Heard {
    pub fn take(&self) -> Vec<Event> {
        self.0
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

impl Events for Heard {
    fn publish(&self, event: Event) {
        if let Ok(mut heard) = self.0.lock() {
            heard.push(event);
        }
    }
}

/// Operations on a scratch database of the test villages.
pub struct Village {
    pub ops: Ops,
    pub clock: Arc<FixedClock>,
    pub heard: Arc<Heard>,
    _dir: tempfile::TempDir,
}

impl Village {
    pub fn open() -> anyhow::Result<Village> {
        let dir = tempfile::tempdir()?;
        let db = Arc::new(Db::open_test(dir.path())?);
        seed(&db)?;
        let clock = Arc::new(FixedClock::at(START_MS));
        let heard = Arc::new(Heard::default());
        Ok(Village {
            ops: Ops::new(db, heard.clone(), clock.clone()),
            clock,
            heard,
            _dir: dir,
        })
    }

    pub fn db(&self) -> &Db {
        &self.ops.db
    }
}

/// A staff member with `role` over `region`, and the notes of their
/// request.
pub fn staff(role: Role, region: &str) -> (Actor, Notes) {
    let notes = Notes::default();
    let account = Account {
        username: format!("{}-{region}", role.as_str()),
        display_name: "测试".into(),
        region: code(region),
        role,
        disabled: false,
        locked_until: 0,
        created_at: 0,
        created_by: None,
    };
    (Actor::new(account, notes.clone()), notes)
}

pub fn actor(role: Role, region: &str) -> Actor {
    staff(role, region).0
}

fn seed(db: &Db) -> anyhow::Result<()> {
    let regions = [
        (COUNTY, "青山县", RegionLevel::County, None),
        (TOWN, "青石镇", RegionLevel::Town, Some(COUNTY)),
        (VILLAGE, "东坡村", RegionLevel::Village, Some(TOWN)),
        (OTHER_VILLAGE, "河湾村", RegionLevel::Village, Some(TOWN)),
    ];
    for (c, name, level, parent) in regions {
        db.upsert_region(&Region {
            code: code(c),
            name: name.into(),
            level,
            parent: parent.map(code),
        })?;
    }
    for (id, name, region) in [
        (BRANCH, "东坡村党支部", VILLAGE),
        (OTHER_BRANCH, "河湾村党支部", OTHER_VILLAGE),
    ] {
        db.upsert_branch(&Branch {
            id: id.into(),
            name: name.into(),
            region: code(region),
        })?;
    }
    for (id, branch) in [("m-1", BRANCH), ("m-2", OTHER_BRANCH), ("m-3", BRANCH)] {
        db.upsert_member(&NewMember {
            id: id.into(),
            name: format!("党员{id}"),
            branch: branch.into(),
        })?;
    }
    let now = START_MS / 1000;
    db.register_device(BOX, &code(VILLAGE), BOX_TOKEN, now)?;
    db.set_household(BOX, &code(VILLAGE), &["m-1".to_string()])?;
    db.register_device(NEW_BOX, &code(VILLAGE), NEW_BOX_TOKEN, now)?;
    Ok(())
}
