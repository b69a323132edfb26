//! Notices (通知公告) in `cache.db`: pages of the list, what is unread, and
//! urgent notices this box has acknowledged (each pops up once per box).

use rusqlite::{params, OptionalExtension};

use crate::browse::NOT_OPENED;
use crate::{Cache, StoreError};

/// One row of the notices list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: String,
    pub title: String,
    pub scope: String,
    pub published_at: i64,
    pub urgent: bool,
    pub new: bool,
}

impl Cache {
    pub fn notice_len(&self) -> Result<usize, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM items WHERE kind = 'notice'",
            [],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Notices not opened on this box yet (the home badge).
    pub fn unread_notices(&self) -> Result<usize, StoreError> {
        let n: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM items WHERE kind = 'notice' AND {NOT_OPENED}"),
            [],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// One screenful of notices: urgent first, then newest first.
    pub fn notice_page(&self, offset: usize, limit: usize) -> Result<Vec<NoticeRow>, StoreError> {
        let sql = format!(
            "SELECT id, title, scope, published_at, urgent, {NOT_OPENED} FROM items
             WHERE kind = 'notice' ORDER BY urgent DESC, published_at DESC, id
             LIMIT ?1 OFFSET ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![limit.min(i64::MAX as usize) as i64, offset as i64],
            |r| {
                Ok(NoticeRow {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    scope: r.get(2)?,
                    published_at: r.get(3)?,
                    urgent: r.get(4)?,
                    new: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The oldest urgent notice this box has not acknowledged, if any.
    pub fn pending_urgent(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM items WHERE kind = 'notice' AND urgent = 1
                 AND id NOT IN (SELECT id FROM acknowledged)
                 ORDER BY published_at, id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records that the viewer pressed OK on an urgent notice.
    pub fn acknowledge(&mut self, id: &str, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO acknowledged(id, at) VALUES (?1, ?2)",
            params![id, now],
        )?;
        Ok(())
    }
}
