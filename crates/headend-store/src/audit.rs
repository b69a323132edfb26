//! The append-only audit log: who did what, when, from where, to what, and
//! whether it was allowed. SQLite triggers refuse any UPDATE or DELETE, so
//! not even a bug in this crate can rewrite history; the API only reads it.

use std::collections::HashMap;

use crate::sql::{params, Sql};
use model::AreaCode;

use super::{accounts::within, scope_chain, Db, DbError};

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// The account may not do this (role or region).
    Refused,
    /// Wrong password, locked account, bad input.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Outcome {
        match s {
            "ok" => Outcome::Ok,
            "refused" => Outcome::Refused,
            _ => Outcome::Failed,
        }
    }
}

/// One entry, as written and as read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub at_ms: i64,
    /// The user name, or None before anyone is logged in.
    pub account: Option<String>,
    /// e.g. `login`, `login_failed`, `account.create`, `POST /api/v1/admin/…`.
    pub action: String,
    pub target: String,
    /// The region the action was about, when it had one.
    pub region: Option<String>,
    pub ip: String,
    pub outcome: Option<Outcome>,
    /// Ids before and after, for content changes (a correction's old and
    /// new version).
    pub before_id: Option<String>,
    pub after_id: Option<String>,
    pub detail: String,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub account: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: usize,
}

impl Db {
    pub fn audit(&self, entry: &AuditEntry, at_ms: i64) -> Result<(), DbError> {
        self.audit_batch(std::slice::from_ref(&(entry.clone(), at_ms)))
    }

    /// Writes `entries` (each with its time) in one transaction: one disk
    /// sync for a whole storm of refusals (see `audit_writer`).
    pub fn audit_batch(&self, entries: &[(AuditEntry, i64)]) -> Result<(), DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO audit(at_ms, account, action, target, region, ip, outcome,
                 before_id, after_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (entry, at_ms) in entries {
                insert.execute(params![
                    at_ms,
                    entry.account,
                    entry.action,
                    entry.target,
                    entry.region,
                    entry.ip,
                    entry.outcome.unwrap_or(Outcome::Ok).as_str(),
                    entry.before_id,
                    entry.after_id,
                    entry.detail
                ])?;
            }
        }
        tx.commit()?;
        self.audit_commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Audit transactions committed since this database was opened: fewer
    /// than entries when refusals arrive together.
    pub fn audit_commits(&self) -> u64 {
        self.audit_commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Entries newest first, limited to what `viewer_region` may see:
    /// entries about its subtree, and those of accounts in it. Entries
    /// that belong to no region at all (a request refused before any
    /// region was known, a guess at a user name nobody has, the command
    /// line) are seen from the top of the tree (the county) only.
    pub fn audit_log(
        &self,
        viewer_region: &AreaCode,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, DbError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT a.id, a.at_ms, a.account, a.action, a.target, a.region, a.ip, a.outcome,
                    a.before_id, a.after_id, a.detail, acc.region
             FROM audit a LEFT JOIN accounts acc ON acc.username = a.account
             WHERE (CAST(?1 AS TEXT) IS NULL OR a.account = ?1) AND a.at_ms >= ?2 AND a.at_ms < ?3
             ORDER BY a.id DESC",
        )?;
        let rows = stmt.query_map(
            params![
                query.account,
                query.from_ms.unwrap_or(0),
                query.to_ms.unwrap_or(i64::MAX)
            ],
            |r| {
                Ok((
                    AuditEntry {
                        id: r.get(0)?,
                        at_ms: r.get(1)?,
                        account: r.get(2)?,
                        action: r.get(3)?,
                        target: r.get(4)?,
                        region: r.get(5)?,
                        ip: r.get(6)?,
                        outcome: Some(Outcome::parse(&r.get::<_, String>(7)?)),
                        before_id: r.get(8)?,
                        after_id: r.get(9)?,
                        detail: r.get(10)?,
                    },
                    r.get::<_, Option<String>>(11)?,
                ))
            },
        )?;
        let at_top = scope_chain(&conn, viewer_region).is_ok_and(|chain| chain.len() == 1);
        // Whether a region is the viewer's; None when the code names no
        // region we have. Remembered: the same few regions recur.
        let mut seen: HashMap<String, Option<bool>> = HashMap::new();
        let mut place = |code: &Option<String>| -> Option<bool> {
            let code = code.as_deref()?;
            *seen.entry(code.to_string()).or_insert_with(|| {
                let code = code.parse::<AreaCode>().ok()?;
                scope_chain(&conn, &code).ok()?;
                Some(within(&conn, viewer_region, &code))
            })
        };
        let mut out = Vec::new();
        for row in rows {
            let (entry, account_region) = row?;
            let visible = match (place(&entry.region), place(&account_region)) {
                (Some(true), _) | (_, Some(true)) => true,
                (None, None) => at_top,
                _ => false,
            };
            if visible {
                out.push(entry);
                if out.len() >= query.limit.max(1) {
                    break;
                }
            }
        }
        Ok(out)
    }
}
