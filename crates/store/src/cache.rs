//! `cache.db`: the box's copy of its feed.

use std::path::Path;

use model::{Content, DisclosureCategory, FeedItem, FeedPage};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{check_integrity, db_files, StoreError, CONTENT_SCHEMA};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items(
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT,
    module TEXT,
    title TEXT NOT NULL,
    period TEXT,
    urgent INTEGER NOT NULL DEFAULT 0,
    published_at INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_list ON items(kind, category, published_at DESC);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_module ON items(kind, category, module, published_at DESC);
-- Items this box has shown (id, version): what is not here is marked new.
CREATE TABLE IF NOT EXISTS opened(id TEXT PRIMARY KEY, version INTEGER NOT NULL);
-- Urgent notices the viewer has acknowledged with OK: each pops up once.
CREATE TABLE IF NOT EXISTS acknowledged(id TEXT PRIMARY KEY, at INTEGER NOT NULL);
-- Images the cached items show (honour photos, images in bodies).
CREATE TABLE IF NOT EXISTS item_blobs(item_id TEXT NOT NULL, sha TEXT NOT NULL,
    PRIMARY KEY(item_id, sha));
CREATE INDEX IF NOT EXISTS item_blobs_sha ON item_blobs(sha);
-- Where each video was left, for the resume prompt.
CREATE TABLE IF NOT EXISTS resume(item_id TEXT PRIMARY KEY, position_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS signed(rollcall TEXT NOT NULL, member TEXT NOT NULL,
    at INTEGER NOT NULL, PRIMARY KEY(rollcall, member));
-- Questionnaires answered and exams handed in on this box (member '' for a
-- questionnaire), so 已参加 shows before the headend's record comes back.
CREATE TABLE IF NOT EXISTS taken(kind TEXT NOT NULL, item TEXT NOT NULL, member TEXT NOT NULL,
    at INTEGER NOT NULL, PRIMARY KEY(kind, item, member));";

/// How opening the cache went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    Opened,
    /// The file failed its integrity check and was recreated empty.
    Rebuilt {
        reason: String,
    },
}

/// Where the sync stands, as stored with the last applied page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncState {
    pub scope: Option<String>,
    pub cursor: u64,
    /// ETag of the last page that left the box caught up.
    pub etag: Option<String>,
    /// Unix seconds of the last successful sync.
    pub last_synced: Option<i64>,
    /// A full refetch is under way; old items stay visible until it ends.
    pub refetching: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyStats {
    pub upserted: usize,
    pub deleted: usize,
    /// Items left over from before a full refetch, removed at its end.
    pub swept: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    pub id: String,
    pub title: String,
    pub module: Option<String>,
    pub period: Option<String>,
    pub scope: String,
    pub published_at: i64,
    pub urgent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryCount {
    pub category: DisclosureCategory,
    pub count: usize,
}

pub struct Cache {
    pub(crate) conn: Connection,
}

fn open_checked(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    check_integrity(&conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| e.to_string())?;
    conn.execute_batch(SCHEMA).map_err(|e| e.to_string())?;
    conn.execute_batch(crate::blobs::SCHEMA)
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

impl Cache {
    /// Opens (or creates) the cache. A damaged file is deleted and recreated:
    /// everything in it can be fetched again.
    pub fn open(path: &Path) -> Result<(Cache, OpenOutcome), StoreError> {
        let (conn, outcome) = match open_checked(path) {
            Ok(conn) => (conn, OpenOutcome::Opened),
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "cache.db is damaged; rebuilding it");
                for file in db_files(path) {
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => {
                            return Err(StoreError::Replace {
                                path: file.display().to_string(),
                                source,
                            })
                        }
                    }
                }
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.execute_batch(SCHEMA)?;
                conn.execute_batch(crate::blobs::SCHEMA)?;
                (conn, OpenOutcome::Rebuilt { reason })
            }
        };
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut cache = Cache { conn };
        if cache.meta("content_schema")? != Some(CONTENT_SCHEMA.to_string()) {
            cache.restart_from_zero()?;
            cache.set_meta("content_schema", &CONTENT_SCHEMA.to_string())?;
        }
        Ok((cache, outcome))
    }

    /// The viewer's display mode (`elder` or `standard`); kept when the box
    /// is bound to another village, since it belongs to the household.
    pub fn display_mode(&self) -> Result<Option<String>, StoreError> {
        self.meta("display_mode")
    }

    pub fn set_display_mode(&mut self, mode: &str) -> Result<(), StoreError> {
        self.set_meta("display_mode", mode)
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn sync_state(&self) -> Result<SyncState, StoreError> {
        Ok(SyncState {
            scope: self.meta("scope")?,
            cursor: self
                .meta("cursor")?
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            etag: self.meta("etag")?,
            last_synced: self.meta("last_synced")?.and_then(|c| c.parse().ok()),
            refetching: self.meta("refetching")?.as_deref() == Some("1"),
        })
    }

    /// Binds the cache to a village. A different village than before empties it.
    pub fn bind_scope(&mut self, scope: &str) -> Result<(), StoreError> {
        if self.meta("scope")?.as_deref() == Some(scope) {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM items", [])?;
        tx.execute("DELETE FROM item_blobs", [])?;
        tx.execute("DELETE FROM opened", [])?;
        tx.execute("DELETE FROM acknowledged", [])?;
        tx.execute(
            "DELETE FROM meta WHERE key IN ('cursor', 'etag', 'last_synced', 'refetching', 'region_names')",
            [],
        )?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('scope', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [scope],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Starts a full refetch (after a `409`): the cursor goes back to zero and
    /// a new generation begins; items not seen again are swept at its end.
    pub fn restart_from_zero(&mut self) -> Result<(), StoreError> {
        let generation = self.generation()? + 1;
        let tx = self.conn.transaction()?;
        for (k, v) in [
            ("cursor", "0".to_string()),
            ("generation", generation.to_string()),
            ("refetching", "1".to_string()),
        ] {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![k, v],
            )?;
        }
        tx.execute("DELETE FROM meta WHERE key = 'etag'", [])?;
        tx.commit()?;
        Ok(())
    }

    fn generation(&self) -> Result<i64, StoreError> {
        Ok(self
            .meta("generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0))
    }

    /// Applies one validated page and its cursor in a single transaction.
    /// `etag` is stored when the page leaves the box caught up (`more == false`).
    pub fn apply_page(
        &mut self,
        page: &FeedPage,
        etag: Option<&str>,
        now: i64,
    ) -> Result<ApplyStats, StoreError> {
        let generation = self.generation()?;
        let refetching = self.meta("refetching")?.as_deref() == Some("1");
        let tx = self.conn.transaction()?;
        let mut stats = ApplyStats::default();
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO items(id, seq, scope, kind, category, module, title, period, urgent,
                                   published_at, generation, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, scope = excluded.scope,
                   kind = excluded.kind, category = excluded.category, module = excluded.module,
                   title = excluded.title, period = excluded.period, urgent = excluded.urgent,
                   published_at = excluded.published_at, generation = excluded.generation,
                   json = excluded.json",
            )?;
            let mut forget_blobs =
                tx.prepare_cached("DELETE FROM item_blobs WHERE item_id = ?1")?;
            let mut retry_blob = tx.prepare_cached("DELETE FROM blob_missing WHERE sha = ?1")?;
            let mut remember_blob = tx
                .prepare_cached("INSERT OR IGNORE INTO item_blobs(item_id, sha) VALUES (?1, ?2)")?;
            for item in &page.upserts {
                // `category` is what a list filters on: the disclosure
                // category, the honour's kind or the info page's topic.
                let (category, module, period, urgent) = match &item.content {
                    Content::Disclosure(d) => (
                        Some(d.category.as_str()),
                        Some(d.module.as_str()),
                        Some(d.period.as_str()),
                        false,
                    ),
                    Content::Notice(n) => (None, None, None, n.urgent),
                    Content::Honour(h) => (Some(h.kind.as_str()), None, None, false),
                    Content::Ranking(r) => (None, None, Some(r.period.as_str()), false),
                    Content::Info(i) => (Some(i.page.topic().as_str()), None, None, false),
                    Content::Camera(c) => (Some(c.hall.as_str()), None, None, false),
                    Content::Live(l) => (Some(l.branch.as_str()), None, None, false),
                    Content::Video(v) => (Some(v.category.as_str()), None, None, false),
                    Content::ServiceMenu(_) | Content::Questionnaire(_) | Content::Exam(_) => {
                        (None, None, None, false)
                    }
                    // Kept out of the cache; CONTENT_SCHEMA brings it back later.
                    Content::Unsupported => continue,
                };
                upsert.execute(params![
                    item.id,
                    item.seq as i64,
                    item.scope.as_str(),
                    item.content.kind(),
                    category,
                    module,
                    item.content.title(),
                    period,
                    urgent,
                    item.published_at,
                    generation,
                    serde_json::to_string(item)?,
                ])?;
                stats.upserted += 1;
                forget_blobs.execute([&item.id])?;
                for sha in item.content.image_blobs() {
                    remember_blob.execute(params![item.id, sha])?;
                    // A corrected item gets another try at a missing image.
                    retry_blob.execute([sha])?;
                }
            }
            let mut delete = tx.prepare_cached("DELETE FROM items WHERE id = ?1")?;
            for t in &page.tombstones {
                stats.deleted += delete.execute([&t.id])?;
                forget_blobs.execute([&t.id])?;
            }
        }
        let set = |k: &str, v: &str| {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![k, v],
            )
        };
        set("cursor", &page.next_cursor.to_string())?;
        if !page.more {
            set("last_synced", &now.to_string())?;
            if let Some(tag) = etag {
                set("etag", tag)?;
            }
            if refetching {
                set("refetching", "0")?;
                stats.swept =
                    tx.execute("DELETE FROM items WHERE generation < ?1", [generation])?;
                tx.execute(
                    "DELETE FROM item_blobs WHERE item_id NOT IN (SELECT id FROM items)",
                    [],
                )?;
            }
        }
        tx.commit()?;
        Ok(stats)
    }

    /// Records a successful no-change poll (`304`).
    pub fn mark_synced(&mut self, now: i64) -> Result<(), StoreError> {
        self.set_meta("last_synced", &now.to_string())
    }

    pub fn item_count(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0))?
            as usize)
    }

    pub fn disclosure_counts(&self) -> Result<Vec<CategoryCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*) FROM items WHERE kind = 'disclosure' AND category = ?1",
        )?;
        let mut out = Vec::new();
        for category in DisclosureCategory::ALL {
            let count: i64 = stmt.query_row([category.as_str()], |r| r.get(0))?;
            out.push(CategoryCount {
                category,
                count: count as usize,
            });
        }
        Ok(out)
    }

    fn summaries(&self, sql: &str, arg: &str) -> Result<Vec<ItemSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([arg], |r| {
            Ok(ItemSummary {
                id: r.get(0)?,
                title: r.get(1)?,
                module: r.get(2)?,
                period: r.get(3)?,
                scope: r.get(4)?,
                published_at: r.get(5)?,
                urgent: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Disclosures of one category, newest first.
    pub fn disclosures(
        &self,
        category: DisclosureCategory,
    ) -> Result<Vec<ItemSummary>, StoreError> {
        self.disclosures_page(category, 0, i64::MAX as usize)
    }

    /// One screenful of a category's disclosures, newest first.
    pub fn disclosures_page(
        &self,
        category: DisclosureCategory,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<ItemSummary>, StoreError> {
        let sql = format!(
            "SELECT id, title, module, period, scope, published_at, urgent FROM items
             WHERE kind = 'disclosure' AND category = ?1 ORDER BY published_at DESC, id
             LIMIT {} OFFSET {offset}",
            limit.min(i64::MAX as usize)
        );
        self.summaries(&sql, category.as_str())
    }

    /// Names of the box's village, town and county, nearest first, as the
    /// headend last reported them; empty before the first sync.
    pub fn region_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .meta("region_names")?
            .map(|s| s.split('\u{1f}').map(str::to_string).collect())
            .unwrap_or_default())
    }

    pub fn set_region_names(&mut self, names: &[String]) -> Result<(), StoreError> {
        self.set_meta("region_names", &names.join("\u{1f}"))
    }

    /// Notices, newest first.
    pub fn notices(&self) -> Result<Vec<ItemSummary>, StoreError> {
        self.summaries(
            "SELECT id, title, module, period, scope, published_at, urgent FROM items
             WHERE kind = ?1 ORDER BY published_at DESC, id",
            "notice",
        )
    }

    pub fn item(&self, id: &str) -> Result<Option<FeedItem>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM items WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|source| StoreError::CorruptItem {
                id: id.to_string(),
                source,
            })
        })
        .transpose()
    }
}
