//! The content lifecycle: an editor writes a draft and submits it; a
//! reviewer at the level above (or the same level, where the county allows
//! it) approves it, now or for a later time, or returns it with a comment.
//! A published disclosure is never edited in place: a correction is a new
//! draft with a reason that, once approved, publishes the next version with
//! its history. A retraction withdraws the item from boxes but keeps the
//! record and the reason.

use crate::locks::{self, Named};
use crate::sql::{params, OptionalExtension, Sql};
use model::{AreaCode, Content, FeedItem};

use super::publishing::{check_draft, default_item_id, publish_draft};
use super::{next_seq, scope_chain, withdraw_in, Db, DbError};

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    Draft,
    Submitted,
    Returned,
    /// Approved for a later time.
    Scheduled,
    Published,
}

impl DraftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::Submitted => "submitted",
            DraftStatus::Returned => "returned",
            DraftStatus::Scheduled => "scheduled",
            DraftStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<DraftStatus> {
        [
            DraftStatus::Draft,
            DraftStatus::Submitted,
            DraftStatus::Returned,
            DraftStatus::Scheduled,
            DraftStatus::Published,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A draft as staff see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Draft {
    pub id: i64,
    /// The feed id it publishes as.
    pub item_id: String,
    pub scope: AreaCode,
    pub content: Content,
    pub status: DraftStatus,
    /// Set for a correction of a published item.
    pub reason: Option<String>,
    pub author: String,
    pub reviewer: Option<String>,
    /// Why a reviewer returned it.
    pub comment: Option<String>,
    pub publish_at: Option<i64>,
    pub published_version: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One line of an item's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    pub version: u32,
    pub at: i64,
    /// `published`, `corrected` or `retracted`.
    pub kind: String,
    pub reason: Option<String>,
    pub by: Option<String>,
}

const DRAFT_COLUMNS: &str = "id, item_id, scope, content, status, reason, author, reviewer, \
     comment, publish_at, published_version, created_at, updated_at";

fn draft_row(r: &crate::sql::Row) -> Result<(Draft, String, String), DbError> {
    let bad = |i: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        DbError::Column(format!("column {i}: {e}"))
    };
    let scope: String = r.get(2)?;
    let content: String = r.get(3)?;
    let status: String = r.get(4)?;
    Ok((
        Draft {
            id: r.get(0)?,
            item_id: r.get(1)?,
            scope: scope
                .parse()
                .map_err(|e: model::AreaCodeError| bad(2, e.into()))?,
            content: serde_json::from_str(&content).map_err(|e| bad(3, e.into()))?,
            status: DraftStatus::parse(&status).unwrap_or(DraftStatus::Draft),
            reason: r.get(5)?,
            author: r.get(6)?,
            reviewer: r.get(7)?,
            comment: r.get(8)?,
            publish_at: r.get(9)?,
            published_version: r.get::<_, Option<i64>>(10)?.map(|v| v as u32),
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
        },
        scope,
        status,
    ))
}

fn draft(conn: &impl Sql, id: i64) -> Result<Draft, DbError> {
    conn.prepare_cached(&format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = ?1"))?
        .query_row([id], draft_row)
        .optional()?
        .map(|(d, _, _)| d)
        .ok_or_else(|| DbError::NotFound(format!("draft {id}")))
}

/// The draft, locked until the transaction `tx` ends: whoever changes a
/// draft decides on what it is now, not on what it was when two reviewers
/// opened it.
fn draft_locked(tx: &impl Sql, id: i64) -> Result<Draft, DbError> {
    tx.prepare_cached(&format!(
        "SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = ?1{}",
        tx.backend().for_update()
    ))?
    .query_row([id], draft_row)
    .optional()?
    .map(|(d, _, _)| d)
    .ok_or_else(|| DbError::NotFound(format!("draft {id}")))
}

/// Checks content the way the feed will, before anyone reviews it.
fn check(item_id: &str, scope: &AreaCode, content: &Content) -> Result<(), DbError> {
    let item = FeedItem {
        id: item_id.to_string(),
        seq: 1,
        scope: scope.clone(),
        published_at: 0,
        version: 1,
        content: content.clone(),
    };
    item.validate()?;
    item.check_totals()?;
    Ok(())
}

pub(super) fn history(conn: &impl Sql, item_id: &str) -> Result<Vec<HistoryEntry>, DbError> {
    let rows = conn
        .prepare_cached(
            "SELECT version, at, kind, reason, by_account FROM item_history
             WHERE item_id = ?1 ORDER BY version, at",
        )?
        .query_map([item_id], |r| {
            Ok(HistoryEntry {
                version: r.get::<_, i64>(0)? as u32,
                at: r.get(1)?,
                kind: r.get(2)?,
                reason: r.get(3)?,
                by: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Moves draft `id` from one of `from` to `to`, in the caller's transaction.
fn set_status(
    tx: &impl Sql,
    id: i64,
    from: &[DraftStatus],
    to: DraftStatus,
    now: i64,
) -> Result<(), DbError> {
    let d = draft_locked(tx, id)?;
    if !from.contains(&d.status) {
        return Err(DbError::BadInput(format!(
            "draft {id} is {}; it must be {} for this",
            d.status.as_str(),
            from.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    tx.execute(
        "UPDATE drafts SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, to.as_str(), now],
    )?;
    Ok(())
}

/// What an approval does: publish now as change `seq`, or schedule.
enum Approval {
    Publish(u64),
    Schedule(i64),
}

impl Db {
    /// A new draft for `scope` (a new item, or `item_id` when given).
    pub fn create_draft(
        &self,
        author: &str,
        scope: &AreaCode,
        content: &Content,
        item_id: Option<&str>,
        now: i64,
    ) -> Result<Draft, DbError> {
        let item_id = item_id
            .map(str::to_string)
            .unwrap_or_else(|| default_item_id(scope, content));
        check(&item_id, scope, content)?;
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // Two regions naming one new id at once: the first to commit takes
        // it, the other sees its draft (see publishing::owner).
        locks::lock(&tx, Named::ItemOwners)?;
        scope_chain(&tx, scope)?;
        check_draft(&tx, &item_id, scope, content)?;
        let published: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM items WHERE id = ?1 AND deleted = 0",
                [&item_id],
                |r| r.get(0),
            )
            .optional()?;
        // A menu is replaced by its next version; a disclosure is corrected
        // with a reason; other kinds are published anew.
        if published.is_some() && !matches!(content, Content::ServiceMenu(_)) {
            return Err(DbError::BadInput(format!(
                "{item_id} is published; correct it (with a reason) instead of editing it"
            )));
        }
        let id: i64 = tx.query_row(
            "INSERT INTO drafts(item_id, scope, content, status, author, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?5) RETURNING id",
            params![
                item_id,
                scope.as_str(),
                serde_json::to_string(content)?,
                author,
                now
            ],
            |r| r.get(0),
        )?;
        let made = draft(&tx, id)?;
        tx.commit()?;
        Ok(made)
    }

    /// A correction of a published item: a new draft with the reason.
    pub fn create_correction(
        &self,
        author: &str,
        item_id: &str,
        content: &Content,
        reason: &str,
        now: i64,
    ) -> Result<Draft, DbError> {
        if reason.trim().is_empty() {
            return Err(DbError::BadInput(
                "say why it is corrected; the reason is shown on the boxes".into(),
            ));
        }
        let conn = self.lock()?;
        let scope: Option<String> = conn
            .query_row(
                "SELECT scope FROM items WHERE id = ?1 AND deleted = 0",
                [item_id],
                |r| r.get(0),
            )
            .optional()?;
        let scope: AreaCode = scope
            .ok_or_else(|| DbError::NotFound(format!("published item {item_id}")))?
            .parse()
            .map_err(|_| DbError::NotFound(format!("region of {item_id}")))?;
        if !matches!(content, Content::Disclosure(_)) {
            return Err(DbError::BadInput(
                "corrections are for disclosures; publish other kinds again".into(),
            ));
        }
        check(item_id, &scope, content)?;
        let id: i64 = conn.query_row(
            "INSERT INTO drafts(item_id, scope, content, status, reason, author, created_at,
             updated_at) VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?6, ?6) RETURNING id",
            params![
                item_id,
                scope.as_str(),
                serde_json::to_string(content)?,
                reason.trim(),
                author,
                now
            ],
            |r| r.get(0),
        )?;
        draft(&conn, id)
    }

    pub fn draft(&self, id: i64) -> Result<Draft, DbError> {
        draft(&self.lock()?, id)
    }

    /// Drafts of every region under `region`, newest first, optionally of
    /// one status.
    pub fn drafts_under(
        &self,
        region: &AreaCode,
        status: Option<DraftStatus>,
    ) -> Result<Vec<Draft>, DbError> {
        let conn = self.lock()?;
        let all = conn
            .prepare_cached(&format!(
                "SELECT {DRAFT_COLUMNS} FROM drafts WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1)
                 ORDER BY updated_at DESC, id DESC"
            ))?
            .query_map([status.map(DraftStatus::as_str)], draft_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(all
            .into_iter()
            .map(|(d, _, _)| d)
            .filter(|d| super::accounts::within(&conn, region, &d.scope))
            .collect())
    }

    /// Replaces a draft's content (draft or returned only).
    pub fn update_draft(&self, id: i64, content: &Content, now: i64) -> Result<Draft, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let d = draft_locked(&tx, id)?;
        if !matches!(d.status, DraftStatus::Draft | DraftStatus::Returned) {
            return Err(DbError::BadInput(format!(
                "draft {id} is {}; only a draft or a returned one can be edited",
                d.status.as_str()
            )));
        }
        check(&d.item_id, &d.scope, content)?;
        check_draft(&tx, &d.item_id, &d.scope, content)?;
        tx.execute(
            "UPDATE drafts SET content = ?2, status = 'draft', updated_at = ?3 WHERE id = ?1",
            params![id, serde_json::to_string(content)?, now],
        )?;
        let updated = draft(&tx, id)?;
        tx.commit()?;
        Ok(updated)
    }

    pub fn submit_draft(&self, id: i64, now: i64) -> Result<Draft, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        set_status(
            &tx,
            id,
            &[DraftStatus::Draft, DraftStatus::Returned],
            DraftStatus::Submitted,
            now,
        )?;
        let submitted = draft(&tx, id)?;
        tx.commit()?;
        Ok(submitted)
    }

    pub fn return_draft(
        &self,
        id: i64,
        reviewer: &str,
        comment: &str,
        now: i64,
    ) -> Result<Draft, DbError> {
        if comment.trim().is_empty() {
            return Err(DbError::BadInput(
                "say what to change when returning a draft".into(),
            ));
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        set_status(
            &tx,
            id,
            &[DraftStatus::Submitted],
            DraftStatus::Returned,
            now,
        )?;
        tx.execute(
            "UPDATE drafts SET reviewer = ?2, comment = ?3 WHERE id = ?1",
            params![id, reviewer, comment.trim()],
        )?;
        let returned = draft(&tx, id)?;
        tx.commit()?;
        Ok(returned)
    }

    /// Approves a submitted draft: published now, or scheduled for
    /// `publish_at`. Returns the draft and, if published, the feed item.
    pub fn approve_draft(
        &self,
        id: i64,
        reviewer: &str,
        publish_at: Option<i64>,
        now: i64,
    ) -> Result<(Draft, Option<FeedItem>), DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // Publishing now: the feed counter first (see next_seq), so the
        // draft and the item are read after every publication before.
        let approval = match publish_at.filter(|at| *at > now) {
            Some(at) => Approval::Schedule(at),
            None => Approval::Publish(next_seq(&tx)?),
        };
        let d = draft_locked(&tx, id)?;
        if d.status != DraftStatus::Submitted {
            return Err(DbError::BadInput(format!(
                "draft {id} is {}; only a submitted draft can be approved",
                d.status.as_str()
            )));
        }
        if d.author == reviewer {
            return Err(DbError::BadInput(
                "a draft is approved by someone other than its author".into(),
            ));
        }
        // Checked again: the item may have been taken since the draft was
        // made, or the draft made before these checks existed.
        check_draft(&tx, &d.item_id, &d.scope, &d.content)?;
        tx.execute(
            "UPDATE drafts SET reviewer = ?2, publish_at = ?3, comment = NULL WHERE id = ?1",
            params![id, reviewer, publish_at],
        )?;
        let item = match approval {
            Approval::Schedule(at) => {
                tx.execute(
                    "UPDATE drafts SET status = 'scheduled', publish_at = ?2, updated_at = ?3
                     WHERE id = ?1",
                    params![id, at, now],
                )?;
                None
            }
            Approval::Publish(seq) => Some(publish_draft(&tx, &d, reviewer, now, seq)?),
        };
        let approved = draft(&tx, id)?;
        tx.commit()?;
        Ok((approved, item))
    }

    /// Publishes scheduled drafts whose time has come.
    pub fn publish_due(&self, now: i64) -> Result<Vec<FeedItem>, DbError> {
        let mut conn = self.lock()?;
        let due = conn
            .prepare_cached(
                "SELECT id FROM drafts WHERE status = 'scheduled' AND publish_at <= ?1
                 ORDER BY publish_at, id",
            )?
            .query_map([now], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        // Each in a transaction of its own, so one that fails does not
        // hold back the others; each decided on again under the locks,
        // since another replica's scheduler may have published it since.
        for id in due {
            let tx = conn.transaction()?;
            let seq = next_seq(&tx)?;
            let d = draft_locked(&tx, id)?;
            if d.status != DraftStatus::Scheduled || d.publish_at.is_none_or(|at| at > now) {
                continue;
            }
            let by = d.reviewer.clone().unwrap_or_default();
            match publish_draft(&tx, &d, &by, now, seq) {
                Ok(item) => {
                    tx.commit()?;
                    out.push(item);
                }
                // One that can no longer be published goes back to its
                // author with the reason, instead of blocking the others.
                Err(
                    e @ (DbError::BadInput(_) | DbError::ScopeChange { .. } | DbError::Invalid(_)),
                ) => {
                    drop(tx);
                    conn.execute(
                        "UPDATE drafts SET status = 'returned', comment = ?2, updated_at = ?3
                         WHERE id = ?1 AND status = 'scheduled'",
                        params![d.id, format!("could not be published: {e}"), now],
                    )?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Withdraws a published item from the boxes, keeping its drafts and
    /// history with the reason.
    pub fn retract(&self, item_id: &str, by: &str, reason: &str, now: i64) -> Result<(), DbError> {
        if reason.trim().is_empty() {
            return Err(DbError::BadInput("say why it is retracted".into()));
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let seq = next_seq(&tx)?;
        let version = withdraw_in(&tx, item_id, seq)?
            .ok_or_else(|| DbError::NotFound(format!("published item {item_id}")))?;
        tx.execute(
            "INSERT INTO item_history(item_id, version, at, kind, reason, by_account)
             VALUES (?1, ?2, ?3, 'retracted', ?4, ?5)
             ON CONFLICT(item_id, version, kind) DO UPDATE SET at = excluded.at,
             reason = excluded.reason, by_account = excluded.by_account, draft = NULL",
            params![item_id, version, now, reason.trim(), by],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn item_history(&self, item_id: &str) -> Result<Vec<HistoryEntry>, DbError> {
        history(&self.lock()?, item_id)
    }

    /// Whether reviewers may approve drafts of their own level in `county`.
    pub fn same_level_review(&self, county: &AreaCode) -> Result<bool, DbError> {
        Ok(self
            .lock()?
            .query_row(
                "SELECT same_level_review FROM county_settings WHERE county = ?1",
                [county.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .is_some_and(|v| v != 0))
    }

    pub fn set_same_level_review(&self, county: &AreaCode, allowed: bool) -> Result<(), DbError> {
        self.lock()?.execute(
            "INSERT INTO county_settings(county, same_level_review) VALUES (?1, ?2)
             ON CONFLICT(county) DO UPDATE SET same_level_review = excluded.same_level_review",
            params![county.as_str(), i64::from(allowed)],
        )?;
        Ok(())
    }

    /// May an account at `reviewer_region` review content of `scope`? Only
    /// from above, or from the same level where the county allows it.
    pub fn may_review(
        &self,
        reviewer_region: &AreaCode,
        scope: &AreaCode,
    ) -> Result<bool, DbError> {
        let chain = self.scope_chain(scope)?;
        if !chain.contains(reviewer_region) {
            return Ok(false);
        }
        if reviewer_region != scope {
            return Ok(true);
        }
        match chain.last() {
            Some(county) => self.same_level_review(county),
            None => Ok(false),
        }
    }
}
