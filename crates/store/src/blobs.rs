//! Images in `cache.db`: fetched once, checked against their SHA-256 id,
//! capped in size, and evicted least recently used beyond a byte budget.
//!
//! The sync asks [`Cache::missing_blobs`] what to download after each feed
//! run; the screens ask [`Cache::blob`], which says whether an image is
//! ready, still to come (a placeholder shows 照片加载中) or gone from the
//! headend (照片缺失).

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{Cache, StoreError};

pub(crate) const SCHEMA: &str = "
-- last_used is a logical clock: larger is more recent.
CREATE TABLE IF NOT EXISTS blobs(sha TEXT PRIMARY KEY, bytes BLOB NOT NULL,
    size INTEGER NOT NULL, last_used INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_lru ON blobs(last_used);
-- Images the headend answered 404 for; asked again when an item changes.
CREATE TABLE IF NOT EXISTS blob_missing(sha TEXT PRIMARY KEY);
";

/// Default byte budget for cached images: 64 MiB, a small share of a box's
/// flash, and room for hundreds of scaled photos.
pub const DEFAULT_BLOB_CAP: u64 = 64 * 1024 * 1024;

/// What a screen can show for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobState {
    Ready(Vec<u8>),
    /// Not downloaded yet; the next sync fetches it.
    Pending,
    /// The headend does not have it.
    Missing,
}

impl Cache {
    /// Stores a downloaded image after checking it is what `sha` names and
    /// within the size limit, then evicts the least recently used images
    /// until the cache holds at most `cap` bytes. Returns how many were evicted.
    pub fn put_blob(&mut self, sha: &str, bytes: &[u8], cap: u64) -> Result<usize, StoreError> {
        if bytes.len() > model::MAX_IMAGE_BYTES {
            return Err(StoreError::BlobTooLarge {
                sha: sha.to_string(),
                bytes: bytes.len(),
                max: model::MAX_IMAGE_BYTES,
            });
        }
        let actual = hex(&Sha256::digest(bytes));
        if actual != sha {
            return Err(StoreError::BlobMismatch {
                sha: sha.to_string(),
                actual,
            });
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO blobs(sha, bytes, size, last_used)
             VALUES (?1, ?2, ?3, (SELECT coalesce(max(last_used), 0) + 1 FROM blobs))
             ON CONFLICT(sha) DO UPDATE SET last_used = excluded.last_used",
            params![sha, bytes, bytes.len() as i64],
        )?;
        tx.execute("DELETE FROM blob_missing WHERE sha = ?1", [sha])?;
        let mut evicted = 0;
        loop {
            let total: i64 =
                tx.query_row("SELECT coalesce(sum(size), 0) FROM blobs", [], |r| r.get(0))?;
            if total as u64 <= cap {
                break;
            }
            // Images no cached item shows go first, then the least recently used.
            let victim: Option<String> = tx
                .query_row(
                    "SELECT sha FROM blobs WHERE sha != ?1
                     ORDER BY EXISTS (SELECT 1 FROM item_blobs i WHERE i.sha = blobs.sha),
                              last_used
                     LIMIT 1",
                    [sha],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(victim) = victim else { break };
            tx.execute("DELETE FROM blobs WHERE sha = ?1", [victim])?;
            evicted += 1;
        }
        tx.commit()?;
        Ok(evicted)
    }

    /// Records that the headend has no such image (it answered 404).
    pub fn mark_blob_missing(&mut self, sha: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT OR IGNORE INTO blob_missing(sha) VALUES (?1)", [sha])?;
        Ok(())
    }

    /// An image for a screen; marks it used so eviction keeps it longest.
    pub fn blob(&self, sha: &str) -> Result<BlobState, StoreError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT bytes FROM blobs WHERE sha = ?1", [sha], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(bytes) = bytes {
            self.conn.execute(
                "UPDATE blobs SET last_used = (SELECT max(last_used) + 1 FROM blobs)
                 WHERE sha = ?1",
                [sha],
            )?;
            return Ok(BlobState::Ready(bytes));
        }
        let missing: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM blob_missing WHERE sha = ?1)",
            [sha],
            |r| r.get(0),
        )?;
        Ok(if missing {
            BlobState::Missing
        } else {
            BlobState::Pending
        })
    }

    /// Images cached items show that are neither stored nor known missing.
    pub fn missing_blobs(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT sha FROM item_blobs
             WHERE sha NOT IN (SELECT sha FROM blobs)
               AND sha NOT IN (SELECT sha FROM blob_missing)
             ORDER BY sha LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit.min(i64::MAX as usize) as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Bytes of images stored, for the settings page and tests.
    pub fn blob_bytes(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT coalesce(sum(size), 0) FROM blobs", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
