//! Box submissions: the items of a box's outbox, each stored once per
//! (device, key) with the answer it got, so a resend after a lost reply
//! gets the same answer and changes nothing.
//!
//! Batches from many boxes are stored in one transaction (group commit):
//! during a roll-call thousands of boxes answer within seconds, and one
//! synced commit for everything that arrived meanwhile is what lets the
//! headend keep up without acknowledging anything that is not on disk.

use crate::sql::{params, OptionalExtension, Sql};
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
        let mut answers = Vec::with_capacity(batches.len());
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
                        answer: submit_item(&tx, &home, item, now_ms)?,
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

fn submit_item(
    conn: &impl Sql,
    home: &Household,
    item: &Submission,
    now_ms: i64,
) -> Result<SubmissionAnswer, DbError> {
    if item.key.is_empty() || item.key.len() > MAX_KEY_LEN {
        // Not stored: there is no key to remember it by.
        return Ok(SubmissionAnswer::Rejected {
            reason: format!("key must be 1 to {MAX_KEY_LEN} characters"),
        });
    }
    let device = home.device.as_str();
    let stored: Option<String> = conn
        .prepare_cached("SELECT answer FROM submissions WHERE device = ?1 AND key = ?2")?
        .query_row(params![device, item.key], |r| r.get(0))
        .optional()?;
    if let Some(stored) = stored {
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
            Ok(signin) => judge_sign_in(conn, home, key, &signin, now_ms)?,
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
    conn.prepare_cached(
        "INSERT INTO submissions(device, key, kind, answer, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        device,
        item.key,
        item.kind,
        serde_json::to_string(&answer)?,
        now_ms
    ])?;
    Ok(answer)
}
