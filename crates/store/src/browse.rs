//! Browsing 三务公开 from `cache.db`: modules with counts, a module's items
//! page by page, and which items this box has already shown ("new" marks).

use model::DisclosureCategory;
use rusqlite::params;

use crate::{Cache, StoreError};

/// One module of a category as the module screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleCount {
    pub module: &'static str,
    pub count: usize,
    /// Items never opened on this box (or changed since).
    pub new: usize,
}

/// One row of a module's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRow {
    pub id: String,
    pub title: String,
    pub period: String,
    pub scope: String,
    pub published_at: i64,
    pub version: u32,
    pub new: bool,
}

/// SQL: the row is an item this box has not shown in its current version.
pub(crate) const NOT_OPENED: &str = "NOT EXISTS (SELECT 1 FROM opened o
    WHERE o.id = items.id AND o.version = json_extract(items.json, '$.version'))";

impl Cache {
    /// Every module of `category`, in the platform's order, with counts.
    pub fn module_counts(
        &self,
        category: DisclosureCategory,
    ) -> Result<Vec<ModuleCount>, StoreError> {
        let sql = format!(
            "SELECT count(*), coalesce(sum({NOT_OPENED}), 0) FROM items
             WHERE kind = 'disclosure' AND category = ?1 AND module = ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        for module in category.modules() {
            let (count, new): (i64, i64) = stmt
                .query_row(params![category.as_str(), module], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            out.push(ModuleCount {
                module,
                count: count as usize,
                new: new as usize,
            });
        }
        Ok(out)
    }

    /// Unopened disclosures per category, in [`DisclosureCategory::ALL`] order.
    pub fn new_per_category(&self) -> Result<Vec<usize>, StoreError> {
        let sql = format!(
            "SELECT coalesce(sum({NOT_OPENED}), 0) FROM items
             WHERE kind = 'disclosure' AND category = ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        DisclosureCategory::ALL
            .iter()
            .map(|c| {
                let n: i64 = stmt.query_row([c.as_str()], |r| r.get(0))?;
                Ok(n as usize)
            })
            .collect()
    }

    pub fn module_len(
        &self,
        category: DisclosureCategory,
        module: &str,
    ) -> Result<usize, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM items WHERE kind = 'disclosure' AND category = ?1 AND module = ?2",
            params![category.as_str(), module],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// One screenful of a module's items, newest first.
    pub fn module_page(
        &self,
        category: DisclosureCategory,
        module: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<DisclosureRow>, StoreError> {
        let sql = format!(
            "SELECT id, title, coalesce(period, ''), scope, published_at,
                    json_extract(json, '$.version'), {NOT_OPENED}
             FROM items WHERE kind = 'disclosure' AND category = ?1 AND module = ?2
             ORDER BY published_at DESC, id LIMIT ?3 OFFSET ?4"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                category.as_str(),
                module,
                limit.min(i64::MAX as usize) as i64,
                offset as i64
            ],
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

    /// Records that the box showed this version of an item.
    pub fn mark_opened(&mut self, id: &str, version: u32) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO opened(id, version) VALUES (?1, ?2)
             ON CONFLICT(id) DO UPDATE SET version = excluded.version",
            params![id, version],
        )?;
        Ok(())
    }
}
