//! From an approved draft to the feed, and the rules a draft is held to on
//! the way, so that nothing reaches a box without a reviewer and no region
//! can reach into another's items:
//!
//! - an item id stays with the region that first took it: the scope it was
//!   published (or retracted) under, else the scope of the first draft
//!   that named it; a draft for another region cannot take it, neither when
//!   it is made nor when it is approved;
//! - a service menu is published under its own region's menu id only (the
//!   headend checks requests against the menu found by that id), and no
//!   other kind may use a menu id;
//! - an exam holds bank questions only, worded as the bank words them; its
//!   answer key is copied from the bank when it is published, in the same
//!   transaction.

use crate::sql::{params, OptionalExtension, Sql};
use model::{AreaCode, Content, Correction, Exam, FeedItem, Question};

use super::content::{history, Draft};
use super::{menu_id, next_seq, publish_one, DbError, NewItem};

const MENU_PREFIX: &str = "service-menu-";

/// The region item `item_id` belongs to, if any region has taken it yet.
pub(super) fn owner(conn: &impl Sql, item_id: &str) -> Result<Option<AreaCode>, DbError> {
    if let Some(region) = item_id
        .strip_prefix(MENU_PREFIX)
        .and_then(|code| code.parse::<AreaCode>().ok())
    {
        return Ok(Some(region));
    }
    let published: Option<String> = conn
        .prepare_cached("SELECT scope FROM items WHERE id = ?1")?
        .query_row([item_id], |r| r.get(0))
        .optional()?;
    let scope = match published {
        Some(scope) => Some(scope),
        None => conn
            .prepare_cached("SELECT scope FROM drafts WHERE item_id = ?1 ORDER BY id LIMIT 1")?
            .query_row([item_id], |r| r.get(0))
            .optional()?,
    };
    scope
        .map(|s: String| s.parse().map_err(|_| DbError::UnknownRegion(s.clone())))
        .transpose()
}

/// Why a draft for `scope` may not publish as `item_id`, if it may not.
pub(super) fn ownership_problem(
    conn: &impl Sql,
    item_id: &str,
    scope: &AreaCode,
) -> Result<Option<String>, DbError> {
    Ok(owner(conn, item_id)?
        .filter(|owner| owner != scope)
        .map(|owner| {
            format!("item {item_id} belongs to region {owner}; a draft for {scope} cannot take it")
        }))
}

fn check_owner(conn: &impl Sql, item_id: &str, scope: &AreaCode) -> Result<(), DbError> {
    match ownership_problem(conn, item_id, scope)? {
        Some(why) => Err(DbError::BadInput(why)),
        None => Ok(()),
    }
}

/// The id a new draft publishes as when its author names none.
pub(super) fn default_item_id(scope: &AreaCode, content: &Content) -> String {
    match content {
        Content::ServiceMenu(_) => menu_id(scope),
        _ => format!(
            "{scope}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ),
    }
}

/// Menus live under their region's menu id and nothing else does there;
/// exams hold bank questions only.
pub(super) fn check_kind(
    conn: &impl Sql,
    item_id: &str,
    scope: &AreaCode,
    content: &Content,
) -> Result<(), DbError> {
    match content {
        Content::ServiceMenu(_) if item_id != menu_id(scope) => Err(DbError::BadInput(format!(
            "the service menu of {scope} is published as {}, not {item_id}",
            menu_id(scope)
        ))),
        Content::ServiceMenu(_) => Ok(()),
        _ if item_id.starts_with(MENU_PREFIX) => Err(DbError::BadInput(format!(
            "{item_id} is a service menu's id; publish this under another id"
        ))),
        Content::Exam(exam) => exam_key(conn, exam).map(|_| ()),
        _ => Ok(()),
    }
}

/// Everything a draft for `scope` must satisfy to publish as `item_id`.
pub(super) fn check_draft(
    conn: &impl Sql,
    item_id: &str,
    scope: &AreaCode,
    content: &Content,
) -> Result<(), DbError> {
    check_owner(conn, item_id, scope)?;
    check_kind(conn, item_id, scope, content)
}

/// The bank's answer to each question of `exam`; refused if a question is
/// not in the bank or is worded otherwise there (the bank changed since the
/// exam was drawn).
fn exam_key(conn: &impl Sql, exam: &Exam) -> Result<Vec<(String, String)>, DbError> {
    let mut key = Vec::with_capacity(exam.questions.len());
    for q in &exam.questions {
        let stored: Option<(String, String)> = conn
            .prepare_cached("SELECT question, answer FROM bank_questions WHERE id = ?1")?
            .query_row([&q.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((question, answer)) = stored else {
            return Err(DbError::BadInput(format!(
                "exam question {} is not in the question bank; exams are drawn from the bank",
                q.id
            )));
        };
        if serde_json::from_str::<Question>(&question)? != *q {
            return Err(DbError::BadInput(format!(
                "exam question {} differs from the bank's; draw the exam from the bank again",
                q.id
            )));
        }
        key.push((q.id.clone(), answer));
    }
    Ok(key)
}

/// Publishes approved content as `item_id` in `tx`, as change `seq` (which
/// the caller took first, see `next_seq`, so everything read here is as
/// the last publication left it): checks it again, carries a disclosure's
/// corrections, stores an exam's answer key, and writes the history line
/// (`by` approved it).
fn publish_approved(
    tx: &impl Sql,
    item: &NewItem,
    reason: Option<&str>,
    by: &str,
    draft: Option<i64>,
    seq: u64,
) -> Result<FeedItem, DbError> {
    check_draft(tx, &item.id, &item.scope, &item.content)?;
    let mut content = item.content.clone();
    let current: Option<i64> = tx
        .query_row(
            "SELECT version FROM items WHERE id = ?1 AND deleted = 0",
            [&item.id],
            |r| r.get(0),
        )
        .optional()?;
    if let (Some(reason), Content::Disclosure(disclosure)) = (reason, &mut content) {
        let mut corrections: Vec<Correction> = history(tx, &item.id)?
            .into_iter()
            .filter(|h| h.kind == "corrected")
            .map(|h| Correction {
                version: h.version,
                corrected_at: h.at,
                reason: h.reason.unwrap_or_default(),
            })
            .collect();
        corrections.push(Correction {
            version: current.map_or(1, |v| v as u32 + 1),
            corrected_at: item.published_at,
            reason: reason.to_string(),
        });
        disclosure.corrections = corrections;
    }
    if let Content::Exam(exam) = &content {
        tx.execute("DELETE FROM exam_keys WHERE exam = ?1", [&item.id])?;
        for (question, answer) in exam_key(tx, exam)? {
            tx.execute(
                "INSERT INTO exam_keys(exam, question, answer) VALUES (?1, ?2, ?3)",
                params![item.id, question, answer],
            )?;
        }
    }
    let published = publish_one(
        tx,
        &NewItem {
            content,
            ..item.clone()
        },
        seq,
    )?;
    let kind = if reason.is_some() {
        "corrected"
    } else {
        "published"
    };
    tx.execute(
        "INSERT INTO item_history(item_id, version, at, kind, reason, by_account, draft)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(item_id, version, kind) DO UPDATE SET at = excluded.at,
         reason = excluded.reason, by_account = excluded.by_account, draft = excluded.draft",
        params![
            item.id,
            published.version,
            item.published_at,
            kind,
            reason,
            by,
            draft
        ],
    )?;
    Ok(published)
}

/// Publishes an approved draft (the next version of its item) as change
/// `seq`, in the caller's transaction.
pub(super) fn publish_draft(
    tx: &impl Sql,
    d: &Draft,
    by: &str,
    now: i64,
    seq: u64,
) -> Result<FeedItem, DbError> {
    let item = publish_approved(
        tx,
        &NewItem {
            id: d.item_id.clone(),
            scope: d.scope.clone(),
            published_at: now,
            content: d.content.clone(),
        },
        d.reason.as_deref(),
        by,
        Some(d.id),
        seq,
    )?;
    tx.execute(
        "UPDATE drafts SET status = 'published', published_version = ?2, updated_at = ?3
         WHERE id = ?1",
        params![d.id, item.version, now],
    )?;
    Ok(item)
}

impl super::Db {
    /// Publishes content a reviewer approved outside the draft flow, e.g.
    /// the demo seed's menus, questionnaires and exams reviewed by the
    /// seeding admin `reviewer`: the same checks and history as an
    /// approval, the next version if the item exists.
    pub fn publish_reviewed(&self, reviewer: &str, item: &NewItem) -> Result<FeedItem, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let seq = next_seq(&tx)?;
        let published = publish_approved(&tx, item, None, reviewer, None, seq)?;
        tx.commit()?;
        Ok(published)
    }

    /// The region item `item_id` belongs to, if a region has taken it.
    pub fn item_owner(&self, item_id: &str) -> Result<Option<AreaCode>, DbError> {
        owner(&self.lock()?, item_id)
    }
}
