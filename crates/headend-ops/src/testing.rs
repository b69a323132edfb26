//! A small world for the operations' unit tests: a county with one town
//! and two villages on a scratch database (SQLite, or PostgreSQL when
//! `DANGJIAN_TEST_DATABASE_URL` is set), a clock that moves only when
//! told, and a recorder of what boxes were told.

use std::sync::{Arc, Mutex};

use model::{AreaCode, Region, RegionLevel};

use crate::db::{Account, Db, Role};
use crate::{Actor, Event, Events, FixedClock, Notes, Ops};

pub(crate) const COUNTY: &str = "990101000000";
pub(crate) const TOWN: &str = "990101101000";
pub(crate) const VILLAGE: &str = "990101101001";
pub(crate) const OTHER_VILLAGE: &str = "990101101002";
/// Unix seconds the tests start at.
pub(crate) const NOW: i64 = 1_791_421_200;

/// Feed heads boxes were told of.
#[derive(Default)]
pub(crate) struct Heard(Mutex<Vec<u64>>);

impl Heard {
    pub(crate) fn heads(&self) -> Vec<u64> {
        self.0.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

impl Events for Heard {
    fn publish(&self, event: Event) {
        if let Event::FeedChanged { head } = event {
            if let Ok(mut heads) = self.0.lock() {
                heads.push(head);
            }
        }
    }
}

pub(crate) struct World {
    pub ops: Ops,
    pub clock: Arc<FixedClock>,
    pub heard: Arc<Heard>,
    _dir: tempfile::TempDir,
}

pub(crate) fn code(c: &str) -> AreaCode {
    c.parse().expect("a test region code")
}

pub(crate) fn world() -> World {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let db = Db::open_test(dir.path()).expect("a test database");
    let regions = [
        (COUNTY, "青山县", RegionLevel::County, None),
        (TOWN, "青石镇", RegionLevel::Town, Some(COUNTY)),
        (VILLAGE, "东坡村", RegionLevel::Village, Some(TOWN)),
        (OTHER_VILLAGE, "西坡村", RegionLevel::Village, Some(TOWN)),
    ];
    for (c, name, level, parent) in regions {
        db.upsert_region(&Region {
            code: code(c),
            name: name.into(),
            level,
            parent: parent.map(code),
        })
        .expect("a region");
    }
    let clock = Arc::new(FixedClock::at(NOW * 1000));
    let heard = Arc::new(Heard::default());
    World {
        ops: Ops::new(Arc::new(db), heard.clone(), clock.clone()),
        clock,
        heard,
        _dir: dir,
    }
}

pub(crate) fn actor(name: &str, region: &str, role: Role) -> Actor {
    let account = Account {
        username: name.into(),
        display_name: name.into(),
        region: code(region),
        role,
        disabled: false,
        locked_until: 0,
        created_at: 0,
        created_by: None,
    };
    Actor::new(account, Notes::default())
}
