//! The box's local storage on SQLite: `cache.db` and `outbox.db`.
//!
//! - [`Cache`] holds what the headend published for this box's village,
//!   its town and its county. It can always be rebuilt by a full sync, so it
//!   runs with `synchronous=NORMAL`, and a cache that fails `quick_check` at
//!   start is deleted and recreated rather than crashing the box. A feed page
//!   is applied in one transaction together with its cursor.
//! - [`Outbox`] holds what a person did on the box and the headend has not
//!   acknowledged yet. It runs with `synchronous=FULL`; a row is durable
//!   before the UI says "done" and is deleted only on acknowledgement. A
//!   corrupt outbox is moved aside, never deleted.
//!
//! No `rusqlite` type leaves this crate.

mod browse;
mod cache;
mod notices;
mod outbox;

pub use browse::{DisclosureRow, ModuleCount};
pub use cache::{ApplyStats, Cache, CategoryCount, ItemSummary, OpenOutcome, SyncState};
pub use notices::NoticeRow;
pub use outbox::{Outbox, OutboxItem};

/// Bump when the box learns new content kinds: the cache then refetches
/// everything once so items it skipped before are shown.
pub const CONTENT_SCHEMA: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot replace the damaged database file {path}: {source}")]
    Replace {
        path: String,
        source: std::io::Error,
    },
    #[error("cached item {id} is unreadable: {source}")]
    CorruptItem {
        id: String,
        source: serde_json::Error,
    },
    #[error("cannot encode item for the cache: {0}")]
    Encode(#[from] serde_json::Error),
}

fn check_integrity(conn: &rusqlite::Connection) -> Result<(), String> {
    match conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)) {
        Ok(s) if s == "ok" => Ok(()),
        Ok(s) => Err(s),
        Err(e) => Err(e.to_string()),
    }
}

/// The database file and its WAL and shared-memory side files.
fn db_files(path: &std::path::Path) -> [std::path::PathBuf; 3] {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}
