//! `outbox.db`: actions taken on the box, kept until the headend acknowledges them.

use std::path::Path;

use rusqlite::{params, Connection};

use crate::{check_integrity, db_files, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox(
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected(
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reason TEXT NOT NULL
);
";

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Random idempotency key; the headend deduplicates on it.
    pub key: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub created_at: i64,
    pub attempts: u32,
}

pub struct Outbox {
    conn: Connection,
}

impl Outbox {
    /// Opens (or creates) the outbox. A damaged file is renamed to
    /// `outbox.db.damaged-<unix time>` for recovery, never deleted.
    pub fn open(path: &Path, now: i64) -> Result<Outbox, StoreError> {
        let conn = Connection::open(path)?;
        let conn = match check_integrity(&conn) {
            Ok(()) => conn,
            Err(reason) => {
                drop(conn);
                tracing::error!(path = %path.display(), %reason, "outbox.db is damaged; moving it aside");
                for file in db_files(path) {
                    if !file.exists() {
                        continue;
                    }
                    let mut aside = file.clone().into_os_string();
                    aside.push(format!(".damaged-{now}"));
                    std::fs::rename(&file, &aside).map_err(|source| StoreError::Replace {
                        path: file.display().to_string(),
                        source,
                    })?;
                }
                Connection::open(path)?
            }
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Every acknowledged action must survive a power cut.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Outbox { conn })
    }

    /// Durably records an action and returns its idempotency key. Only after
    /// this returns may the UI tell the person it is done.
    pub fn enqueue(
        &mut self,
        kind: &str,
        payload: &serde_json::Value,
        now: i64,
    ) -> Result<String, StoreError> {
        let key = uuid::Uuid::new_v4().to_string();
        self.conn.execute(
            "INSERT INTO outbox(key, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![key, kind, serde_json::to_string(payload)?, now],
        )?;
        Ok(key)
    }

    /// Oldest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, kind, payload, created_at, attempts FROM outbox
             ORDER BY created_at, rowid LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, kind, payload, created_at, attempts) = row?;
            out.push(OutboxItem {
                payload: serde_json::from_str(&payload).map_err(|source| {
                    StoreError::CorruptItem {
                        id: key.clone(),
                        source,
                    }
                })?,
                key,
                kind,
                created_at,
                attempts: attempts as u32,
            });
        }
        Ok(out)
    }

    pub fn record_attempt(&mut self, key: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1 WHERE key = ?1",
            [key],
        )?;
        Ok(())
    }

    /// Deletes an item the headend acknowledged (accepted or duplicate).
    pub fn acknowledge(&mut self, key: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM outbox WHERE key = ?1", [key])?
            == 1)
    }

    /// Moves an item the headend refused for good (with its reason) out of
    /// the queue into `rejected`, where it is kept for the installer to see:
    /// nothing a person did is silently thrown away.
    pub fn reject(&mut self, key: &str, reason: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let moved = tx.execute(
            "INSERT OR REPLACE INTO rejected(key, kind, payload, created_at, reason)
             SELECT key, kind, payload, created_at, ?2 FROM outbox WHERE key = ?1",
            params![key, reason],
        )?;
        tx.execute("DELETE FROM outbox WHERE key = ?1", [key])?;
        tx.commit()?;
        Ok(moved == 1)
    }

    /// Items the headend refused, with its reasons: (key, kind, reason).
    pub fn rejected(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, kind, reason FROM rejected ORDER BY created_at, key")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn len(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))?
            as usize)
    }

    /// Items of one kind waiting to be sent.
    pub fn count(&self, kind: &str) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox WHERE kind = ?1", [kind], |r| {
                r.get::<_, i64>(0)
            })? as usize)
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }
}
