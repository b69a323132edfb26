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
//! A group's keys are claimed, its households read and its answers written
//! a chunk of rows per statement: on PostgreSQL each statement is a round
//! trip, and a sign-in is then one statement of its own (the sign-in row).

use std::collections::{HashMap, HashSet};

use crate::sql::{params, Backend, Sql, Tx, Value};
use model::{
    EvaluationAnswers, ExamPaper, Household, HouseholdServices, ServiceRequest, SignIn, Submission,
    SubmissionAnswer, SubmissionBatch, SubmissionReceipt,
};

use super::attendance::judge_sign_in;
use super::forms::{household_forms, store_evaluation, store_exam};
use super::people::{household, households};
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
        let devices = || batches.iter().map(|b| b.device.as_str());
        lock_households(&tx, devices())?;
        // On PostgreSQL every statement is a round trip: the group's
        // households, key claims and answers take a few statements for
        // the whole group rather than some for each item.
        let homes = households(&tx, devices())?;
        let claimed = claim_keys(&tx, batches, &homes, now_ms)?;
        let mut group = Group {
            claimed,
            // A roll-call's burst names one roll-call hundreds of times:
            // read it once per transaction.
            rollcalls: OpenRollCalls::default(),
            answered: HashMap::new(),
            to_store: Vec::new(),
        };
        let mut answers = Vec::with_capacity(batches.len());
        for batch in batches {
            let Some(home) = homes.get(&batch.device) else {
                answers.push(None);
                continue;
            };
            let receipts = batch
                .items
                .iter()
                .map(|item| {
                    Ok(SubmissionReceipt {
                        key: item.key.clone(),
                        answer: group.answer(&tx, home, item, now_ms)?,
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            answers.push(Some(receipts));
        }
        store_answers(&tx, &group.to_store)?;
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
pub(super) type OpenRollCalls = HashMap<String, Option<crate::OpenRollCall>>;

/// A box's item, named as the database names it.
type ItemId = (String, String);

/// What one transaction's group of batches has decided so far.
struct Group {
    /// Keys this transaction claimed (their rows are new).
    claimed: HashSet<ItemId>,
    rollcalls: OpenRollCalls,
    /// Answers given in this group, for a key sent twice within it.
    answered: HashMap<ItemId, SubmissionAnswer>,
    /// (device, key, answer) to write before the commit.
    to_store: Vec<(String, String, String)>,
}

impl Group {
    fn answer(
        &mut self,
        conn: &impl Sql,
        home: &Household,
        item: &Submission,
        now_ms: i64,
    ) -> Result<SubmissionAnswer, DbError> {
        if !usable_key(&item.key) {
            // Not stored: there is no key to remember it by.
            return Ok(SubmissionAnswer::Rejected {
                reason: format!("key must be 1 to {MAX_KEY_LEN} characters"),
            });
        }
        let id = (home.device.clone(), item.key.clone());
        if let Some(first) = self.answered.get(&id) {
            return Ok(as_duplicate(first.clone()));
        }
        if !self.claimed.contains(&id) {
            // Stored before (a resend, maybe to another replica): its
            // claim was committed, or waited for and then found.
            let stored: String = conn
                .prepare_cached("SELECT answer FROM submissions WHERE device = ?1 AND key = ?2")?
                .query_row(params![id.0, id.1], |r| r.get(0))?;
            return Ok(as_duplicate(serde_json::from_str(&stored)?));
        }
        let answer = judge(conn, home, item, now_ms, &mut self.rollcalls)?;
        self.to_store
            .push((id.0.clone(), id.1.clone(), serde_json::to_string(&answer)?));
        self.answered.insert(id, answer.clone());
        Ok(answer)
    }
}

fn usable_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN
}

/// What a resend of an item that got `first` is told.
fn as_duplicate(first: SubmissionAnswer) -> SubmissionAnswer {
    match first {
        SubmissionAnswer::Accepted { status } | SubmissionAnswer::Duplicate { status } => {
            SubmissionAnswer::Duplicate { status }
        }
        rejected => rejected,
    }
}

/// Rows per statement when claiming keys; a short chunk repeats its last
/// row, so there is one statement text (a repeated row is skipped).
const CLAIM_CHUNK: usize = 64;

/// Claims the key of every item of a known box (its row inserted with an
/// empty answer) and returns those this transaction claimed. A key another
/// transaction holds makes this one wait until that one ends, then it is
/// not ours: of two replicas storing one resend, one acts and the other
/// answers duplicate.
fn claim_keys(
    tx: &Tx<'_>,
    batches: &[SubmissionBatch],
    homes: &HashMap<String, Household>,
    now_ms: i64,
) -> Result<HashSet<ItemId>, DbError> {
    let mut seen = HashSet::new();
    let mut rows: Vec<[Value; 4]> = Vec::new();
    for batch in batches.iter().filter(|b| homes.contains_key(&b.device)) {
        for item in batch.items.iter().filter(|i| usable_key(&i.key)) {
            if seen.insert((batch.device.as_str(), item.key.as_str())) {
                rows.push([
                    Value::Text(batch.device.clone()),
                    Value::Text(item.key.clone()),
                    Value::Text(item.kind.clone()),
                    Value::Int(now_ms),
                ]);
            }
        }
    }
    let sql = format!(
        "INSERT INTO submissions(device, key, kind, answer, received_at_ms) VALUES {}
         ON CONFLICT(device, key) DO NOTHING RETURNING device, key",
        vec!["(?, ?, ?, '', ?)"; CLAIM_CHUNK].join(", ")
    );
    let mut claimed = HashSet::new();
    for chunk in rows.chunks(CLAIM_CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(CLAIM_CHUNK * 4);
        for i in 0..CLAIM_CHUNK {
            values.extend(chunk[i.min(chunk.len() - 1)].iter().cloned());
        }
        for row in tx.rows(&sql, values)? {
            claimed.insert((row.get(0)?, row.get(1)?));
        }
    }
    Ok(claimed)
}

/// Writes the answers of the items this transaction claimed.
fn store_answers(tx: &Tx<'_>, answers: &[(String, String, String)]) -> Result<(), DbError> {
    // No padding here: one statement may not update a row twice.
    for chunk in answers.chunks(CLAIM_CHUNK) {
        let sql = format!(
            "INSERT INTO submissions(device, key, kind, answer, received_at_ms) VALUES {}
             ON CONFLICT(device, key) DO UPDATE SET answer = excluded.answer",
            vec!["(?, ?, '', ?, 0)"; chunk.len()].join(", ")
        );
        let mut values = Vec::with_capacity(chunk.len() * 3);
        for (device, key, answer) in chunk {
            values.push(Value::Text(device.clone()));
            values.push(Value::Text(key.clone()));
            values.push(Value::Text(answer.clone()));
        }
        tx.run(&sql, values)?;
    }
    Ok(())
}

/// Acts on a claimed item by its kind.
fn judge(
    conn: &impl Sql,
    home: &Household,
    item: &Submission,
    now_ms: i64,
    rollcalls: &mut OpenRollCalls,
) -> Result<SubmissionAnswer, DbError> {
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
    Ok(answer)
}
