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
//! - Images (honour photos, images in bodies) are blobs in `cache.db`, keyed
//!   by their SHA-256, verified on arrival, and evicted least recently used
//!   beyond a byte cap.
//! - Streams (cameras, live broadcasts, videos) are items like any other;
//!   the resume position of each video is kept beside them.
//!
//! - Roll-calls: the household's members and attendance record as the
//!   headend last sent them, and which roll-calls were answered here.
//!
//! No `rusqlite` type leaves this crate.

mod blobs;
mod browse;
mod cache;
mod media;
mod notices;
mod outbox;
mod rollcall;
mod services;
mod shelf;

pub use blobs::{BlobState, DEFAULT_BLOB_CAP};
pub use browse::{DisclosureRow, ModuleCount};
pub use cache::{ApplyStats, Cache, CategoryCount, ItemSummary, OpenOutcome, SyncState};
pub use media::MediaEntry;
pub use notices::NoticeRow;
pub use outbox::{Outbox, OutboxItem};
pub use services::{Taken, TakenKind};
pub use shelf::Shelf;

/// Bump when the box learns new content kinds: the cache then refetches
/// everything once so items it skipped before are shown.
pub const CONTENT_SCHEMA: i64 = 4;

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
    #[error("image {sha} does not match its id (got {actual}); it was not stored")]
    BlobMismatch { sha: String, actual: String },
    #[error("image {sha} is {bytes} bytes, over the {max}-byte limit; it was not stored")]
    BlobTooLarge {
        sha: String,
        bytes: usize,
        max: usize,
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
