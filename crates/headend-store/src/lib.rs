//! Headend storage on SQLite or PostgreSQL: the region tree, published
//! items with a global change sequence, tombstones, and blobs; accounts,
//! drafts, meetings, boxes and what they send.
//!
//! Every publish or withdrawal takes the next value of one counter (`seq`),
//! so a box's cursor is just the last `seq` it applied. Withdrawn items stay
//! as tombstones until purged; purging raises the horizon below which
//! cursors are too old (the box then refetches everything).
//!
//! # Several processes at once
//!
//! On SQLite one connection behind a mutex runs one operation at a time;
//! on PostgreSQL several headend processes, each with a pool of
//! connections, run many at once under READ COMMITTED, where every
//! statement sees what was committed when it started. Every public method
//! therefore comes out as if it had run alone, on both backends, by one
//! rule: **an operation that reads and then writes, or writes more than one
//! statement, is one transaction, and on PostgreSQL what it decides on is
//! locked or decided by the write itself.** In order of preference:
//!
//! 1. a write that decides by itself: `INSERT … ON CONFLICT DO NOTHING`
//!    with its row count (a submission's key is claimed before the item is
//!    acted on; a user name; a sign-in per member and roll-call),
//!    `UPDATE … WHERE <still as expected>` with its row count (a roll-call
//!    opens only if still waiting, a command takes its first answer), an
//!    increment in place (`SET n = n + 1`);
//! 2. `SELECT … {Backend::for_update}` on the rows the transaction then
//!    changes (a draft under review, an installer code being spent, the
//!    device it binds, a service request, the account a login opens a
//!    session for);
//! 3. where no single row says who goes first (is this member in anyone's
//!    household?), a lock named for the kind of decision (`locks`,
//!    `pg_advisory_xact_lock`), held until the transaction ends.
//!
//! **The feed counter comes first.** Every transaction that changes the
//! feed (publish, withdraw, retract, approve, the scheduled publisher, the
//! reviewed publishing of menus, questionnaires and exams, purging) begins
//! with `next_seq` (`UPDATE counters … RETURNING`, whose row stays locked
//! until commit) or, for a purge, `lock_feed`. Publishers thus run one after
//! another from their first statement: everything they read (a draft's
//! status, an item's version, its corrections) is as the previous one left
//! it, and they commit in the order of their numbers, so a box reading by
//! cursor never sees change 7 before 6 is visible (and never skips 6). A
//! transaction that takes a number and then finds nothing to do rolls
//! back, so numbers have no gaps. Locks are taken in one order — the feed
//! counter, then a named lock, then rows — so no two transactions wait for
//! each other in a circle; a group of box batches locks its households in
//! the order of their ids for the same reason.
//!
//! SQLite's transactions are `BEGIN IMMEDIATE` and hold the whole database,
//! which covers the same cases there, including a second process (the
//! command line) on the same file. `tests/concurrency*.rs` run each of
//! these races on two [`Db`]s on one database ([`Db::open_replica`]).

mod accounts;
mod attendance;
mod audit;
mod content;
mod devices;
mod evaluation_totals;
mod forms;
mod households;
mod installer_codes;
mod locks;
mod login;
mod meetings;
pub mod migrate;
mod open;
mod people;
mod publishing;
pub mod replicas;
mod scopes;
mod secret;
mod services;
mod stats;
mod submissions;

use open::Engine;

pub use accounts::{
    check_password, check_username, hash_password, Account, NewAccount, Permission, Role, Session,
    LOCKOUT_SECS, MAX_FAILED_LOGINS, MIN_PASSWORD_CHARS, SESSION_SECS,
};
pub use attendance::{AttendanceRate, AttendanceRow};
pub use audit::{AuditEntry, AuditQuery, Outcome};
pub use content::{Draft, DraftStatus, HistoryEntry};
pub use devices::{CommandRow, DeviceRow, Refusal};
pub use evaluation_totals::{EvaluationResults, QuestionTotals, MIN_GROUP};
pub use forms::{BankQuestion, NewExam};
pub use households::{Claimed, HouseholdClaim};
pub use installer_codes::{
    ProvisionAttempt, ProvisionOutcome, RebindGrounds, Rebound, MAX_CODE_MISUSES, RELEASE_SECS,
};
pub use login::{LoginRefused, TRUSTED_ADDRESS_SECS};
pub use meetings::{Meeting, NewMeeting, OpenRollCall, PlannedRollCall, RollCall};
pub use people::{Branch, NewMember};
pub use scopes::Target;
pub use secret::SECRET_KEY_ENV;
pub use services::{menu_id, RequestAction, RequestCount, RequestFilter, StaffRequest};
pub use stats::{AuthorCount, Lagging, UploadCount, UsageCount, REQUIRED_MODULES};
pub use submissions::MAX_KEY_LEN;

use model::{AreaCode, Content, FeedItem, FeedPage, Region, RegionLevel, Tombstone};
pub mod sql;

use crate::sql::{params, OptionalExtension, Sql, Value};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored item is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("unknown region {0}")]
    UnknownRegion(String),
    #[error("item {id} belongs to region {existing}; publish a new item for {requested}")]
    ScopeChange {
        id: String,
        existing: String,
        requested: String,
    },
    #[error("item rejected: {0}")]
    Invalid(#[from] model::ValidationError),
    #[error("image rejected: {0}")]
    Image(#[from] model::ImageError),
    #[error("item {id} shows image {blob}, which has not been uploaded; upload the image first")]
    MissingImage { id: String, blob: String },
    #[error("the database lock was poisoned by an earlier panic")]
    Poisoned,
    #[error("unknown {0}")]
    NotFound(String),
    #[error("{0}")]
    BadInput(String),
    /// The key file for installer codes is missing, unreadable or malformed.
    #[error("{0}")]
    SecretKey(String),
    #[error("database error: {0}")]
    Postgres(String),
    /// A query that must return a row returned none (`.optional()` maps it).
    #[error("the query returned no row")]
    NoRow,
    #[error("a stored value has the wrong type: {0}")]
    Column(String),
    #[error("cannot migrate the database: {0}")]
    Migration(String),
}

/// Result of a feed request before HTTP concerns.
#[derive(Debug)]
pub enum FeedAnswer {
    Page {
        page: FeedPage,
        head: u64,
    },
    /// The cursor predates purged tombstones, or is ahead of the server.
    StaleCursor,
}

pub struct Db {
    engine: Engine,
    /// Audit transactions committed (see `audit_batch`).
    audit_commits: std::sync::atomic::AtomicU64,
    /// Keys the installer-code digests; never stored in the database.
    secret: secret::SecretKey,
}

fn level_str(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::County => "county",
        RegionLevel::Town => "town",
        RegionLevel::Village => "village",
    }
}

fn parse_level(s: &str) -> RegionLevel {
    match s {
        "county" => RegionLevel::County,
        "town" => RegionLevel::Town,
        _ => RegionLevel::Village,
    }
}

/// The next change sequence number, taken by incrementing the counter row
/// in place. On PostgreSQL that row stays locked until the transaction
/// ends, so publishing transactions run one after another from this
/// statement on and commit in the order of their numbers: a box reading
/// by cursor can never see 7 before 6 is committed (and so skip 6). Take
/// it first in a publishing transaction, before reading what it changes.
fn next_seq(tx: &impl Sql) -> Result<u64, DbError> {
    let seq: i64 = tx.query_row(
        "UPDATE counters SET value = value + 1 WHERE name = 'last_seq' RETURNING value",
        params![],
        |r| r.get(0),
    )?;
    Ok(seq as u64)
}

/// Waits for the publishers before it, like [`next_seq`], without taking a
/// number: for a transaction that changes the feed without adding to it
/// (purging tombstones).
fn lock_feed(tx: &impl Sql) -> Result<(), DbError> {
    tx.query_row(
        &format!(
            "SELECT value FROM counters WHERE name = 'last_seq'{}",
            tx.backend().for_update()
        ),
        params![],
        |r| r.get::<_, i64>(0),
    )?;
    Ok(())
}

/// What to publish: the caller picks the id; seq and version are assigned.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub id: String,
    pub scope: AreaCode,
    pub published_at: i64,
    pub content: Content,
}

impl Db {
    pub fn upsert_region(&self, region: &Region) -> Result<(), DbError> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO regions(code, name, level, parent) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level,
             parent = excluded.parent",
            params![
                region.code.as_str(),
                region.name,
                level_str(region.level),
                region.parent.as_ref().map(|p| p.as_str().to_string()),
            ],
        )?;
        Ok(())
    }

    pub fn regions(&self) -> Result<Vec<Region>, DbError> {
        let conn = self.lock()?;
        let mut stmt =
            conn.prepare_cached("SELECT code, name, level, parent FROM regions ORDER BY code")?;
        let rows = stmt.query_map(params![], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, name, level, parent) = row?;
            let bad = |c: String| DbError::UnknownRegion(c);
            out.push(Region {
                code: code.parse().map_err(|_| bad(code.clone()))?,
                name,
                level: parse_level(&level),
                parent: match parent {
                    Some(p) => Some(p.parse().map_err(|_| bad(p.clone()))?),
                    None => None,
                },
            });
        }
        Ok(out)
    }

    /// The region and its ancestors, nearest first: village, town, county.
    pub fn scope_chain(&self, code: &AreaCode) -> Result<Vec<AreaCode>, DbError> {
        let conn = self.lock()?;
        scope_chain(&conn, code)
    }

    /// Publishes items in one transaction. An existing id gets a new version.
    pub fn publish(&self, items: &[NewItem]) -> Result<Vec<FeedItem>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // The first statement of the transaction (see next_seq).
            let seq = next_seq(&tx)?;
            out.push(publish_one(&tx, item, seq)?);
        }
        tx.commit()?;
        Ok(out)
    }

    /// Withdraws an item, leaving a tombstone. Returns false if unknown.
    pub fn withdraw(&self, id: &str) -> Result<bool, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // First: publishers queue here (see next_seq); rolled back unused
        // when there is nothing to withdraw.
        let seq = next_seq(&tx)?;
        if withdraw_in(&tx, id, seq)?.is_none() {
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
    }

    /// Deletes tombstones at or below `seq`; cursors older than that become stale.
    pub fn purge_tombstones(&self, up_to_seq: u64) -> Result<usize, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // After the publishers before it, so the horizon never passes a
        // withdrawal still being committed.
        lock_feed(&tx)?;
        let n = tx.execute(
            "DELETE FROM items WHERE deleted = 1 AND seq <= ?1",
            [up_to_seq as i64],
        )?;
        tx.execute(
            "UPDATE counters SET value = CASE WHEN value > ?1 THEN value ELSE ?1 END
             WHERE name = 'tombstone_horizon'",
            [up_to_seq as i64],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Latest change relevant to a village: the feed's ETag is built on it.
    /// The chain of `code` (as [`Db::scope_chain`]) and its feed's head
    /// (as [`Db::head`]), read in one statement.
    pub fn chain_and_head(&self, code: &AreaCode) -> Result<(Vec<AreaCode>, u64), DbError> {
        let conn = self.lock()?;
        let rows = chain_rows(&conn, code, true)?;
        let head = rows.iter().map(|(_, h)| *h).max().unwrap_or(0);
        Ok((rows.into_iter().map(|(region, _)| region).collect(), head))
    }

    pub fn head(&self, chain: &[AreaCode]) -> Result<u64, DbError> {
        let conn = self.lock()?;
        head(&conn, chain)
    }

    pub fn feed(
        &self,
        chain: &[AreaCode],
        since: u64,
        limit: usize,
    ) -> Result<FeedAnswer, DbError> {
        let conn = self.lock()?;
        // The page is read first, then the head and the horizon: each
        // statement sees the database as committed when it starts, so a
        // purge that removed tombstones this page needed is seen by the
        // horizon read after it (and the cursor called stale), never
        // missed in between.
        let codes: Vec<&str> = chain.iter().map(AreaCode::as_str).collect();
        let placeholders = vec!["?"; codes.len()].join(",");
        let sql = format!(
            "SELECT id, seq, scope, published_at, version, deleted, content FROM items
             WHERE scope IN ({placeholders}) AND seq > ? ORDER BY seq LIMIT ?"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut args: Vec<Value> = codes.iter().map(|c| Value::Text(c.to_string())).collect();
        args.push(Value::Int(since as i64));
        args.push(Value::Int(limit as i64 + 1));
        let mut rows = stmt.query(crate::sql::params_from_iter(args))?;
        let mut page = FeedPage {
            upserts: Vec::new(),
            tombstones: Vec::new(),
            next_cursor: since,
            more: false,
        };
        let mut count = 0;
        while let Some(row) = rows.next()? {
            if count == limit {
                page.more = true;
                break;
            }
            count += 1;
            let id: String = row.get(0)?;
            let seq = row.get::<_, i64>(1)? as u64;
            page.next_cursor = seq;
            if row.get::<_, i64>(5)? != 0 {
                page.tombstones.push(Tombstone { id, seq });
                continue;
            }
            let scope: String = row.get(2)?;
            let content: String = row.get(6)?;
            page.upserts.push(FeedItem {
                id,
                seq,
                scope: scope
                    .parse()
                    .map_err(|_| DbError::UnknownRegion(scope.clone()))?,
                published_at: row.get(3)?,
                version: row.get::<_, i64>(4)? as u32,
                content: serde_json::from_str(&content)?,
            });
        }
        let head = head(&conn, chain)?;
        let horizon: i64 = conn.query_row(
            "SELECT value FROM counters WHERE name = 'tombstone_horizon'",
            params![],
            |r| r.get(0),
        )?;
        if (since > 0 && since < horizon as u64) || since > head {
            return Ok(FeedAnswer::StaleCursor);
        }
        Ok(FeedAnswer::Page { page, head })
    }

    /// Checks and stores an image for content to show; returns its blob id
    /// (sha-256). PNG or JPEG, at most 1 MiB and 1920 pixels a side.
    pub fn put_image(&self, bytes: &[u8]) -> Result<String, DbError> {
        use sha2::Digest;
        let (content_type, _, _) = check_image(bytes)?;
        let sha256: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.put_blob(&sha256, content_type, bytes)?;
        Ok(sha256)
    }

    fn put_blob(&self, sha256: &str, content_type: &str, bytes: &[u8]) -> Result<(), DbError> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO blobs(sha256, content_type, bytes) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![sha256, content_type, bytes],
        )?;
        Ok(())
    }

    pub fn blob(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, DbError> {
        let conn = self.lock()?;
        conn.query_row(
            "SELECT content_type, bytes FROM blobs WHERE sha256 = ?1",
            [sha256],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
    }
}

/// `region` and every region below it, as codes.
fn subtree(conn: &impl Sql, region: &AreaCode) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE below(code) AS (
             SELECT code FROM regions WHERE code = ?1
             UNION ALL SELECT r.code FROM regions r JOIN below b ON r.parent = b.code)
         SELECT code FROM below",
    )?;
    let codes = stmt
        .query_map([region.as_str()], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    if codes.is_empty() {
        return Err(DbError::UnknownRegion(region.to_string()));
    }
    Ok(codes)
}

fn region_name(conn: &impl Sql, code: &str) -> Result<String, DbError> {
    Ok(conn
        .query_row("SELECT name FROM regions WHERE code = ?1", [code], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_else(|| code.to_string()))
}

/// How many regions a chain may hold: a cycle in a hand-edited tree must
/// not hang the server.
const MAX_CHAIN: usize = 9;

/// A region and its ancestors, nearest first, in one statement (one round
/// trip on PostgreSQL, where a caught-up box's poll is mostly this).
const CHAIN: &str = "WITH RECURSIVE chain(code, parent, depth) AS (
        SELECT code, parent, 0 FROM regions WHERE code = ?1
        UNION ALL
        SELECT r.code, r.parent, chain.depth + 1 FROM regions r
        JOIN chain ON r.code = chain.parent WHERE chain.depth < 8
    )
    SELECT code, parent, NULL FROM chain ORDER BY depth";

/// [`CHAIN`] with the newest change of each region's own items.
const CHAIN_WITH_HEADS: &str = "WITH RECURSIVE chain(code, parent, depth) AS (
        SELECT code, parent, 0 FROM regions WHERE code = ?1
        UNION ALL
        SELECT r.code, r.parent, chain.depth + 1 FROM regions r
        JOIN chain ON r.code = chain.parent WHERE chain.depth < 8
    )
    SELECT code, parent, (SELECT max(seq) FROM items WHERE items.scope = chain.code)
    FROM chain ORDER BY depth";

/// The chain of `code` with each region's head (0 without `heads`).
fn chain_rows(
    conn: &impl Sql,
    code: &AreaCode,
    heads: bool,
) -> Result<Vec<(AreaCode, u64)>, DbError> {
    let mut stmt = conn.prepare_cached(if heads { CHAIN_WITH_HEADS } else { CHAIN })?;
    let rows: Vec<(String, Option<String>, Option<i64>)> = stmt
        .query_map([code.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let Some((_, last_parent, _)) = rows.last() else {
        return Err(DbError::UnknownRegion(code.as_str().to_string()));
    };
    // A parent named but missing ends the walk early.
    if let (Some(parent), true) = (last_parent, rows.len() < MAX_CHAIN) {
        return Err(DbError::UnknownRegion(parent.clone()));
    }
    rows.into_iter()
        .map(|(current, _, head)| {
            let region = current
                .parse()
                .map_err(|_| DbError::UnknownRegion(current.clone()))?;
            Ok((region, head.unwrap_or(0).max(0) as u64))
        })
        .collect()
}

fn scope_chain(conn: &impl Sql, code: &AreaCode) -> Result<Vec<AreaCode>, DbError> {
    Ok(chain_rows(conn, code, false)?
        .into_iter()
        .map(|(region, _)| region)
        .collect())
}

fn head(conn: &impl Sql, chain: &[AreaCode]) -> Result<u64, DbError> {
    let mut head = 0u64;
    let mut stmt = conn.prepare_cached("SELECT max(seq) FROM items WHERE scope = ?1")?;
    for code in chain {
        let max: Option<i64> = stmt.query_row([code.as_str()], |r| r.get(0))?;
        head = head.max(max.unwrap_or(0) as u64);
    }
    Ok(head)
}

/// Publishes `item` as change `seq`, which the caller took first in its
/// transaction (see [`next_seq`]): every read below sees the last
/// publication committed.
fn publish_one(tx: &impl Sql, item: &NewItem, seq: u64) -> Result<FeedItem, DbError> {
    let known: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM regions WHERE code = ?1",
            [item.scope.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_none() {
        return Err(DbError::UnknownRegion(item.scope.to_string()));
    }
    let existing: Option<(String, i64)> = tx
        .query_row(
            "SELECT scope, version FROM items WHERE id = ?1",
            [&item.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let version = match &existing {
        Some((scope, _)) if scope != item.scope.as_str() => {
            return Err(DbError::ScopeChange {
                id: item.id.clone(),
                existing: scope.clone(),
                requested: item.scope.to_string(),
            })
        }
        Some((_, v)) => *v as u32 + 1,
        None => 1,
    };
    let feed_item = FeedItem {
        id: item.id.clone(),
        seq,
        scope: item.scope.clone(),
        published_at: item.published_at,
        version,
        content: item.content.clone(),
    };
    feed_item.validate()?;
    feed_item.check_totals()?;
    for blob in feed_item.content.image_blobs() {
        let present: Option<i64> = tx
            .query_row("SELECT 1 FROM blobs WHERE sha256 = ?1", [blob], |r| {
                r.get(0)
            })
            .optional()?;
        if present.is_none() {
            return Err(DbError::MissingImage {
                id: feed_item.id.clone(),
                blob: blob.to_string(),
            });
        }
    }
    tx.execute(
        "INSERT INTO items(id, seq, scope, published_at, version, deleted, content)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)
         ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, published_at = excluded.published_at,
         version = excluded.version, deleted = 0, content = excluded.content",
        params![
            feed_item.id,
            seq as i64,
            item.scope.as_str(),
            item.published_at,
            version,
            serde_json::to_string(&item.content)?,
        ],
    )?;
    Ok(feed_item)
}

/// Withdraws published item `id` as change `seq` (taken first in the
/// transaction, see [`next_seq`]); returns the version withdrawn, `None`
/// if it is not published.
fn withdraw_in(tx: &impl Sql, id: &str, seq: u64) -> Result<Option<i64>, DbError> {
    let found: Option<(i64, i64)> = tx
        .query_row(
            "SELECT deleted, version FROM items WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((0, version)) = found else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE items SET seq = ?1, deleted = 1, content = NULL WHERE id = ?2",
        params![seq as i64, id],
    )?;
    Ok(Some(version))
}

/// A published (not withdrawn) item's scope and content.
fn published(conn: &impl Sql, id: &str) -> Result<Option<(AreaCode, Content)>, DbError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT scope, content FROM items WHERE id = ?1 AND deleted = 0")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((scope, content)) = row else {
        return Ok(None);
    };
    let scope = scope
        .parse()
        .map_err(|_| DbError::BadInput(format!("stored item {id} has a bad scope")))?;
    Ok(Some((scope, serde_json::from_str(&content)?)))
}

/// Type and size of an image, or why it is refused.
pub fn check_image(bytes: &[u8]) -> Result<(&'static str, u32, u32), model::ImageError> {
    use model::{ImageError, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE};
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge {
            bytes: bytes.len(),
            max: MAX_IMAGE_BYTES,
        });
    }
    let content_type = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => "image/png",
        Ok(imagesize::ImageType::Jpeg) => "image/jpeg",
        _ => return Err(ImageError::NotAnImage),
    };
    let size = imagesize::blob_size(bytes).map_err(|_| ImageError::NotAnImage)?;
    let (width, height) = (size.width as u32, size.height as u32);
    if width == 0 || height == 0 {
        return Err(ImageError::NotAnImage);
    }
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            max: MAX_IMAGE_SIDE,
        });
    }
    Ok((content_type, width, height))
}
