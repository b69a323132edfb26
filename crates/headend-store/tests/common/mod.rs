//! What the concurrency tests share: two handles on one database (two
//! headend replicas), a small region tree with a branch, members and
//! boxes, and a way to start many calls at the same moment.

#![allow(dead_code)] // each test file uses part of it

use std::sync::{Arc, Barrier};

use headend_store::{Branch, Db, DbError, NewItem, NewMember};
use model::{
    AreaCode, Block, Content, Disclosure, DisclosureCategory, Notice, Region, RegionLevel,
};

pub const COUNTY: &str = "990101000000";
pub const TOWN: &str = "990101101000";
pub const VILLAGE: &str = "990101101001";
pub const OTHER_VILLAGE: &str = "990101101002";
pub const BRANCH: &str = "b-dongpo";
/// Unix seconds all tests pretend it is.
pub const NOW: i64 = 1_791_421_200;

/// How many calls each test starts at once.
pub const CALLERS: usize = 24;

pub fn code(c: &str) -> AreaCode {
    c.parse().expect("a test region code")
}

/// Two `Db`s on one database, each with connections of its own, as two
/// headend processes behind a load balancer have; the first holds the
/// scratch directory (and, on PostgreSQL, the scratch database).
pub struct Replicas {
    pub dbs: [Arc<Db>; 2],
    _dir: tempfile::TempDir,
}

impl Replicas {
    pub fn open() -> anyhow::Result<Replicas> {
        let dir = tempfile::tempdir()?;
        let first = Db::open_test(dir.path())?;
        let second = first.open_replica()?;
        let replicas = Replicas {
            dbs: [Arc::new(first), Arc::new(second)],
            _dir: dir,
        };
        replicas.seed()?;
        Ok(replicas)
    }

    /// The first replica (for setting up and checking).
    pub fn db(&self) -> &Db {
        &self.dbs[0]
    }

    /// Runs `f(i, db)` for `i` in `0..n` on `n` threads released at the
    /// same moment, alternating between the replicas; results in order.
    pub fn at_once<T: Send>(&self, n: usize, f: impl Fn(usize, &Db) -> T + Sync) -> Vec<T> {
        let start = Barrier::new(n);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let (db, start, f) = (&self.dbs[i % 2], &start, &f);
                    s.spawn(move || {
                        start.wait();
                        f(i, db)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a caller thread panicked"))
                .collect()
        })
    }

    fn seed(&self) -> anyhow::Result<()> {
        let db = self.db();
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
        db.upsert_branch(&Branch {
            id: BRANCH.into(),
            name: "东坡村党支部".into(),
            region: code(VILLAGE),
        })?;
        for m in 0..4 {
            db.upsert_member(&NewMember {
                id: member(m),
                name: format!("党员{m}"),
                branch: BRANCH.into(),
            })?;
        }
        Ok(())
    }
}

pub fn member(m: usize) -> String {
    format!("m-{m}")
}

/// The feed chain of the test village: village, town, county.
pub fn chain() -> Vec<AreaCode> {
    vec![code(VILLAGE), code(TOWN), code(COUNTY)]
}

pub fn notice(title: &str) -> Content {
    Content::Notice(Notice {
        title: title.into(),
        issuer: "青石镇党委".into(),
        urgent: false,
        body: vec![Block::Paragraph {
            text: format!("{title}的内容。"),
        }],
    })
}

pub fn disclosure(title: &str) -> Content {
    Content::Disclosure(Disclosure {
        category: DisclosureCategory::Village,
        module: "低保户".into(),
        title: title.into(),
        period: "2026年10月".into(),
        body: vec![Block::Paragraph {
            text: format!("{title}的名单。"),
        }],
        corrections: vec![],
    })
}

pub fn new_item(id: &str, scope: &str) -> NewItem {
    NewItem {
        id: id.into(),
        scope: code(scope),
        published_at: NOW,
        content: notice(id),
    }
}

/// A draft of `content` for the village by `editor`, submitted for review.
pub fn submitted_draft(db: &Db, item_id: Option<&str>, content: &Content) -> anyhow::Result<i64> {
    let draft = db.create_draft("editor", &code(VILLAGE), content, item_id, NOW)?;
    db.submit_draft(draft.id, NOW)?;
    Ok(draft.id)
}

/// Refused as bad input (what a caller who lost a race is told).
pub fn bad_input<T>(r: &Result<T, DbError>) -> bool {
    matches!(r, Err(DbError::BadInput(_)))
}
