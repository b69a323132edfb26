//! Statistics for assessment and supervision: what each village published
//! per module and period, and who wrote it; villages with nothing current
//! in a required module; boxes per village.

use crate::sql::{params, OptionalExtension, Sql};
use model::{AreaCode, Household, SubmissionAnswer, UsageReport};

use super::{region_name, subtree, Db, DbError};

const DAY_SECS: i64 = 24 * 3600;

/// Counts one module opened on a box (a `usage` outbox item).
pub(super) fn count_use(
    conn: &impl Sql,
    home: &Household,
    report: &UsageReport,
    now_ms: i64,
) -> Result<SubmissionAnswer, DbError> {
    let module = report.module.trim();
    if module.is_empty() || module.chars().count() > 16 || !(1..=100_000).contains(&report.opens) {
        return Ok(SubmissionAnswer::Rejected {
            reason: "a use report names a module of 1 to 16 characters and 1 to 100000 opens"
                .into(),
        });
    }
    let village: Option<String> = conn
        .prepare_cached("SELECT village FROM households WHERE device = ?1")?
        .query_row([&home.device], |r| r.get(0))
        .optional()?;
    conn.execute(
        "INSERT INTO box_usage(device, village, day, module, opens) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(device, day, module) DO UPDATE SET opens = box_usage.opens + excluded.opens",
        params![
            home.device,
            village.unwrap_or_default(),
            now_ms / 1000 / DAY_SECS * DAY_SECS,
            module,
            report.opens
        ],
    )?;
    Ok(SubmissionAnswer::Accepted { status: None })
}

/// Opens of one module on the boxes of one village.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageCount {
    pub village: String,
    pub village_name: String,
    pub module: String,
    pub opens: u32,
    pub boxes: u32,
}

/// Modules every village must keep current unless the caller names others:
/// its quarterly accounts, its low-income list and party dues.
pub const REQUIRED_MODULES: [&str; 3] = ["收支情况", "低保户", "党费缴纳"];

/// Published disclosures of one village in one module.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UploadCount {
    pub village: String,
    pub village_name: String,
    pub module: String,
    pub count: u32,
    /// Unix seconds of the newest.
    pub last_published_at: i64,
}

/// Drafts an account wrote in the period, by status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthorCount {
    pub author: String,
    pub drafts: u32,
    pub published: u32,
}

/// A village behind in one or more required modules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lagging {
    pub village: String,
    pub village_name: String,
    /// Required modules with nothing published in the window.
    pub missing: Vec<String>,
    /// Per required module, when it was last published (None: never).
    pub last: Vec<(String, Option<i64>)>,
}

fn villages(conn: &impl Sql, region: &AreaCode) -> Result<Vec<String>, DbError> {
    let below = subtree(conn, region)?;
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT level FROM regions WHERE code = ?1")?;
    for code in below {
        let level: String = stmt.query_row([&code], |r| r.get(0))?;
        if level == "village" {
            out.push(code);
        }
    }
    out.sort();
    Ok(out)
}

impl Db {
    /// Disclosures published per village and module in `[from, to)`, for
    /// villages under `region`; and drafts per author there.
    pub fn upload_counts(
        &self,
        region: &AreaCode,
        from: i64,
        to: i64,
    ) -> Result<(Vec<UploadCount>, Vec<AuthorCount>), DbError> {
        let conn = self.lock()?;
        let mut counts = Vec::new();
        let b = conn.backend();
        let (module, kind) = (
            b.json_text("content", "module"),
            b.json_text("content", "kind"),
        );
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {module}, COUNT(*), MAX(published_at) FROM items
             WHERE scope = ?1 AND deleted = 0 AND {kind} = 'disclosure'
               AND published_at >= ?2 AND published_at < ?3
             GROUP BY 1 ORDER BY 1"
        ))?;
        for village in villages(&conn, region)? {
            let name = region_name(&conn, &village)?;
            let rows = stmt
                .query_map(params![village, from, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (module, count, last) in rows {
                counts.push(UploadCount {
                    village: village.clone(),
                    village_name: name.clone(),
                    module,
                    count: count as u32,
                    last_published_at: last,
                });
            }
        }
        let below = subtree(&conn, region)?;
        let mut authors: Vec<AuthorCount> = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT author, scope, status FROM drafts WHERE created_at >= ?1 AND created_at < ?2",
        )?;
        let rows = stmt
            .query_map(params![from, to], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (author, scope, status) in rows {
            if !below.contains(&scope) {
                continue;
            }
            let entry = match authors.iter_mut().position(|a| a.author == author) {
                Some(i) => &mut authors[i],
                None => {
                    authors.push(AuthorCount {
                        author,
                        drafts: 0,
                        published: 0,
                    });
                    let last = authors.len() - 1;
                    &mut authors[last]
                }
            };
            entry.drafts += 1;
            if status == "published" {
                entry.published += 1;
            }
        }
        authors.sort_by(|a, b| b.drafts.cmp(&a.drafts).then(a.author.cmp(&b.author)));
        Ok((counts, authors))
    }

    /// Villages under `region` with nothing published in one of `modules`
    /// since `since` (published for the village itself: a town-wide notice
    /// does not keep a village's own accounts current).
    pub fn lagging_villages(
        &self,
        region: &AreaCode,
        modules: &[String],
        since: i64,
    ) -> Result<Vec<Lagging>, DbError> {
        let conn = self.lock()?;
        let module = conn.backend().json_text("content", "module");
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT MAX(published_at) FROM items
             WHERE scope = ?1 AND deleted = 0 AND {module} = ?2"
        ))?;
        let mut out = Vec::new();
        for village in villages(&conn, region)? {
            let mut last = Vec::new();
            let mut missing = Vec::new();
            for module in modules {
                let at: Option<i64> = stmt.query_row(params![village, module], |r| r.get(0))?;
                if at.is_none_or(|t| t < since) {
                    missing.push(module.clone());
                }
                last.push((module.clone(), at));
            }
            if !missing.is_empty() {
                out.push(Lagging {
                    village_name: region_name(&conn, &village)?,
                    village,
                    missing,
                    last,
                });
            }
        }
        Ok(out)
    }

    /// Module opens reported by boxes of villages under `region`, in
    /// `[from, to)` (days).
    pub fn usage_counts(
        &self,
        region: &AreaCode,
        from: i64,
        to: i64,
    ) -> Result<Vec<UsageCount>, DbError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT module, SUM(opens), COUNT(DISTINCT device) FROM box_usage
             WHERE village = ?1 AND day >= ?2 AND day < ?3 GROUP BY module ORDER BY 2 DESC, 1",
        )?;
        let mut out = Vec::new();
        for village in villages(&conn, region)? {
            let name = region_name(&conn, &village)?;
            let rows = stmt
                .query_map(params![village, from / DAY_SECS * DAY_SECS, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (module, opens, boxes) in rows {
                out.push(UsageCount {
                    village: village.clone(),
                    village_name: name.clone(),
                    module,
                    opens: opens as u32,
                    boxes: boxes as u32,
                });
            }
        }
        Ok(out)
    }

    /// Boxes (households) per village under `region`: (village, name, devices).
    pub fn boxes_by_village(
        &self,
        region: &AreaCode,
    ) -> Result<Vec<(String, String, Vec<String>)>, DbError> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached("SELECT device FROM households WHERE village = ?1 ORDER BY device")?;
        let mut out = Vec::new();
        for village in villages(&conn, region)? {
            let devices = stmt
                .query_map([&village], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            out.push((village.clone(), region_name(&conn, &village)?, devices));
        }
        Ok(out)
    }
}
