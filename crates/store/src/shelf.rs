//! Lists outside 三务公开: the honours shelf (时代先锋, with the 党员积分
//! ranking) and the 便民信息 shelves, one per topic. Rows reuse
//! [`DisclosureRow`] so the list screen draws them the same way.

use model::InfoTopic;
use rusqlite::params;

use crate::browse::NOT_OPENED;
use crate::{Cache, DisclosureRow, StoreError};

/// A list of non-disclosure items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Honoured members, branches and households, and rankings.
    Honours,
    /// Service information of one topic.
    Info(InfoTopic),
}

impl Shelf {
    /// SQL condition and its one argument.
    fn filter(self) -> (&'static str, &'static str) {
        match self {
            // `?1` is always bound so both arms share one statement shape.
            Shelf::Honours => ("kind IN ('honour', 'ranking') AND ?1 = ''", ""),
            Shelf::Info(topic) => ("kind = 'info' AND category = ?1", topic.as_str()),
        }
    }
}

impl Cache {
    pub fn shelf_len(&self, shelf: Shelf) -> Result<usize, StoreError> {
        let (cond, arg) = shelf.filter();
        let n: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM items WHERE {cond}"),
            [arg],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Items on the shelf not opened on this box yet.
    pub fn shelf_new(&self, shelf: Shelf) -> Result<usize, StoreError> {
        let (cond, arg) = shelf.filter();
        let n: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM items WHERE {cond} AND {NOT_OPENED}"),
            [arg],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// One screenful of the shelf. Rankings come first on the honours shelf
    /// (they change every period), then newest first.
    pub fn shelf_page(
        &self,
        shelf: Shelf,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<DisclosureRow>, StoreError> {
        let (cond, arg) = shelf.filter();
        let sql = format!(
            "SELECT id, title, coalesce(period, ''), scope, published_at,
                    json_extract(json, '$.version'), {NOT_OPENED}
             FROM items WHERE {cond}
             ORDER BY kind = 'ranking' DESC, published_at DESC, id LIMIT ?2 OFFSET ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![arg, limit.min(i64::MAX as usize) as i64, offset as i64],
            |r| {
                Ok(DisclosureRow {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    period: r.get(2)?,
                    scope: r.get(3)?,
                    published_at: r.get(4)?,
                    version: r.get::<_, i64>(5)? as u32,
                    new: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
