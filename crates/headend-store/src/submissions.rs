//! Box submissions: the items of a box's outbox, each stored once per
//! (device, key) with the answer it got, so a resend after a lost reply
//! gets the same answer and changes nothing.
//!
//! Batches from many boxes are stored in one transaction (group commit):
//! during a roll-call thousands of boxes answer within seconds, and one
//! synced commit for everything that arrived meanwhile is what lets the
//! headend keep up without acknowledging anything that is not on disk.
//!
//! Several headend processes store batches at once, and a box whose reply
//! was lost may resend to another one: an item's key is claimed (its row
//! inserted) before the item is acted on, so of two transactions holding
//! the same key one acts and the other waits, then answers duplicate.

use crate::sql::{params, Backend, Sql, Tx, Value};
use model::{
    EvaluationAnswers, ExamPaper, Household, HouseholdServices, ServiceRequest, SignIn, Submission,
    SubmissionAnswer, SubmissionBatch, SubmissionReceipt,
};

use super::attendance::judge_sign_in;
use super::forms::{household_forms, store_evaluation, store_exam};
use super::people::household;
use super::services::{household_requests, store_request};
use super::{Db, DbError};

/// Longest idempotency key a box may use.
pub const MAX_KEY_LEN: usize = 64;

impl Db {
    /// Stores every item of every batch in one transaction and answers
    /// each batch: `None` for a box the headend does not know (nothing of
    /// it is stored), else one receipt per item, in order. A database error
    /// stores nothing of any batch.
    pub fn submit_batches(
        &self,
        batches: &[SubmissionBatch],
        now_ms: i64,
    ) -> Result<Vec<Option<Vec<SubmissionReceipt>>>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        lock_households(&tx, batches.iter().map(|b| b.device.as_str()))?;
        let mut answers = Vec::with_capacity(batches.len());
        // A roll-call's burst names one roll-call hundreds of times: read
        // it once per transaction.
        let mut rollcalls = OpenRollCalls::default();
        for batch in batches {
            let Some(home) = household(&tx, &batch.device)? else {
                answers.push(None);
                continue;
            };
            let receipts = batch
                .items
                .iter()
                .map(|item| {
                    Ok(SubmissionReceipt {
                        key: item.key.clone(),
                        answer: submit_item(&tx, &home, item, now_ms, &mut rollcalls)?,
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            answers.push(Some(receipts));
        }
        tx.commit()?;
        Ok(answers)
    }
}

impl Db {
    /// What the household of `device` did: its requests with replies, the
    /// questionnaires it answered, its members' exam results.
    pub fn household_services(&self, device: &str) -> Result<HouseholdServices, DbError> {
        let conn = self.lock()?;
        let Some(home) = household(&conn, device)? else {
            return Err(DbError::NotFound(format!("box {device}")));
        };
        let requests = household_requests(&conn, device)?;
        let (evaluated, exams) = household_forms(&conn, &home)?;
        Ok(HouseholdServices {
            requests,
            evaluated,
            exams,
        })
    }
}

/// How many boxes one statement of [`lock_households`] locks.
const LOCK_CHUNK: usize = 32;

/// Locks the households of `devices`, in the order of their ids: two
/// groups of batches (two replicas) that share boxes meet at the first box
/// they share instead of each holding what the other waits for. SQLite's
/// transaction holds the whole database already.
fn lock_households<'a>(tx: &Tx<'_>, devices: impl Iterator<Item = &'a str>) -> Result<(), DbError> {
    if tx.backend() != Backend::Postgres {
        return Ok(());
    }
    let mut devices: Vec<&str> = devices.collect();
    devices.sort_unstable();
    devices.dedup();
    // One statement text for every chunk: a short chunk repeats its last id.
    let placeholders: Vec<String> = (1..=LOCK_CHUNK).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "SELECT device FROM households WHERE device IN ({}) ORDER BY device{}",
        placeholders.join(", "),
        tx.backend().for_update()
    );
    for chunk in devices.chunks(LOCK_CHUNK) {
        let mut ids: Vec<Value> = chunk.iter().map(|d| Value::Text(d.to_string())).collect();
        if let Some(last) = ids.last().cloned() {
            ids.resize(LOCK_CHUNK, last);
        }
        tx.rows(&sql, ids)?;
    }
    Ok(())
}

/// The roll-calls one transaction has read, by id (`None`: not open).
pub(super) type OpenRollCalls = std::collections::HashMap<String, Option<crate::OpenRollCall>>;

fn submit_item(
    conn: &impl Sql,
    home: &Household,
    item: &Submission,
    now_ms: i64,
    rollcalls: &mut OpenRollCalls,
) -> Result<SubmissionAnswer, DbError> {
    if item.key.is_empty() || item.key.len() > MAX_KEY_LEN {
        // Not stored: there is no key to remember it by.
        return Ok(SubmissionAnswer::Rejected {
            reason: format!("key must be 1 to {MAX_KEY_LEN} characters"),
        });
    }
    let device = home.device.as_str();
    // Claim the key first: a transaction storing it too (another replica,
    // a resend) waits here until this one ends, then finds it stored.
    let claimed = conn
        .prepare_cached(
            "INSERT INTO submissions(device, key, kind, answer, received_at_ms)
             VALUES (?1, ?2, ?3, '', ?4) ON CONFLICT(device, key) DO NOTHING",
        )?
        .execute(params![device, item.key, item.kind, now_ms])?;
    if claimed == 0 {
        let stored: String = conn
            .prepare_cached("SELECT answer FROM submissions WHERE device = ?1 AND key = ?2")?
            .query_row(params![device, item.key], |r| r.get(0))?;
        return Ok(match serde_json::from_str::<SubmissionAnswer>(&stored)? {
            SubmissionAnswer::Accepted { status } | SubmissionAnswer::Duplicate { status } => {
                SubmissionAnswer::Duplicate { status }
            }
            rejected => rejected,
        });
    }
    fn parse<T: serde::de::DeserializeOwned>(
        item: &Submission,
        what: &str,
    ) -> Result<T, SubmissionAnswer> {
        serde_json::from_value(item.payload.clone()).map_err(|e| SubmissionAnswer::Rejected {
            reason: format!("malformed {what}: {e}"),
        })
    }
    let key = item.key.as_str();
    let answer = match item.kind.as_str() {
        model::SIGN_IN_KIND => match parse::<SignIn>(item, "sign-in") {
            Ok(signin) => judge_sign_in(conn, home, key, &signin, now_ms, rollcalls)?,
            Err(refused) => refused,
        },
        model::USAGE_KIND => match parse::<model::UsageReport>(item, "use report") {
            Ok(report) => super::stats::count_use(conn, home, &report, now_ms)?,
            Err(refused) => refused,
        },
        model::SERVICE_REQUEST_KIND => match parse::<ServiceRequest>(item, "service request") {
            Ok(request) => store_request(conn, home, key, &request, now_ms)?,
            Err(refused) => refused,
        },
        model::EVALUATION_KIND => match parse::<EvaluationAnswers>(item, "evaluation") {
            Ok(answers) => store_evaluation(conn, home, &answers, now_ms)?,
            Err(refused) => refused,
        },
        model::EXAM_KIND => match parse::<ExamPaper>(item, "exam paper") {
            Ok(paper) => store_exam(conn, home, &paper, now_ms)?,
            Err(refused) => refused,
        },
        other => SubmissionAnswer::Rejected {
            reason: format!("this headend does not take {other:?} submissions"),
        },
    };
    conn.prepare_cached("UPDATE submissions SET answer = ?3 WHERE device = ?1 AND key = ?2")?
        .execute(params![device, item.key, serde_json::to_string(&answer)?])?;
    Ok(answer)
}
