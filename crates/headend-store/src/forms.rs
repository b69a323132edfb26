//! Evaluations (党风评议) and exams: questionnaires and exams are published
//! as feed items; the answers come back through the outbox.
//!
//! A household answers a questionnaire once; only totals per question are
//! ever given out (see [`super::evaluation_totals`]). Exams are drawn from a question bank whose answers stay here:
//! the box gets the questions only, the headend scores each member's paper
//! once.

use crate::sql::{params, OptionalExtension, Sql};
use model::{
    exam_score, Answer, AreaCode, Content, EvaluationAnswers, Exam, ExamPaper, ExamResult,
    Household, Question, QuestionKind, SubmissionAnswer,
};

use super::{published, scope_chain, Db, DbError};

/// Answers made offline are taken this long after a questionnaire or exam
/// closes, for boxes that were offline when their household answered.
const LATE_GRACE_SECS: i64 = 24 * 3600;

/// A question with its answer, as kept in the bank.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BankQuestion {
    #[serde(flatten)]
    pub question: Question,
    /// The correct options, 0-based.
    pub answer: Vec<u8>,
    /// Which exam it is for, e.g. 党章.
    #[serde(default)]
    pub tag: String,
}

/// What an admin asks for when setting an exam.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewExam {
    pub scope: AreaCode,
    pub title: String,
    pub time_limit_s: u32,
    pub opens_at: i64,
    pub closes_at: i64,
    /// Bank question ids, in order; or empty to draw `pick` at random.
    #[serde(default)]
    pub questions: Vec<String>,
    #[serde(default)]
    pub pick: usize,
    /// Draw only from questions with this tag.
    #[serde(default)]
    pub tag: Option<String>,
}

fn village_of(conn: &impl Sql, device: &str) -> Result<Option<String>, DbError> {
    conn.prepare_cached("SELECT village FROM households WHERE device = ?1")?
        .query_row([device], |r| r.get(0))
        .optional()
}

/// Whether an item published for `scope` reaches boxes in `village`.
fn reaches(conn: &impl Sql, scope: &AreaCode, village: &str) -> Result<bool, DbError> {
    let Ok(village) = village.parse::<AreaCode>() else {
        return Ok(false);
    };
    Ok(scope_chain(conn, &village)?.contains(scope))
}

/// Every question answered, each answer fitting its question, none twice.
fn check_answers(questions: &[Question], answers: &[Answer], all: bool) -> Result<(), String> {
    for a in answers {
        let Some(q) = questions.iter().find(|q| q.id == a.question) else {
            return Err(format!("there is no question {:?}", a.question));
        };
        if !q.kind.accepts(&a.choices) {
            return Err(format!("answer to {:?} does not fit the question", q.id));
        }
        if answers.iter().filter(|b| b.question == a.question).count() > 1 {
            return Err(format!("question {:?} is answered twice", q.id));
        }
    }
    if all && answers.len() != questions.len() {
        return Err("every question must be answered".into());
    }
    Ok(())
}

fn within(opens_at: i64, closes_at: i64, now: i64) -> Result<(), String> {
    if now < opens_at {
        return Err("it is not open yet".into());
    }
    if now >= closes_at + LATE_GRACE_SECS {
        return Err("it closed".into());
    }
    Ok(())
}

/// Stores a household's evaluation; a second one is refused.
pub(super) fn store_evaluation(
    conn: &impl Sql,
    home: &Household,
    answers: &EvaluationAnswers,
    now_ms: i64,
) -> Result<SubmissionAnswer, DbError> {
    let reject = |reason: String| Ok(SubmissionAnswer::Rejected { reason });
    let Some((scope, Content::Questionnaire(q))) = published(conn, &answers.questionnaire)? else {
        return reject(format!("unknown questionnaire {}", answers.questionnaire));
    };
    let Some(village) = village_of(conn, &home.device)? else {
        return reject(format!("box {} is not bound to a village", home.device));
    };
    if !reaches(conn, &scope, &village)? {
        return reject("this questionnaire is not for this village".into());
    }
    if let Err(why) = within(q.opens_at, q.closes_at, now_ms / 1000) {
        return reject(format!("questionnaire {}: {why}", answers.questionnaire));
    }
    if let Err(why) = check_answers(&q.questions, &answers.answers, true) {
        return reject(why);
    }
    let stored = conn
        .prepare_cached(
            "INSERT INTO evaluations(questionnaire, device, village, answers, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            answers.questionnaire,
            home.device,
            village,
            serde_json::to_string(&answers.answers)?,
            now_ms / 1000
        ])?;
    if stored == 0 {
        return reject("this household has already answered this questionnaire".into());
    }
    Ok(SubmissionAnswer::Accepted { status: None })
}

/// Scores and stores a member's exam paper; a second paper is a duplicate.
pub(super) fn store_exam(
    conn: &impl Sql,
    home: &Household,
    paper: &ExamPaper,
    now_ms: i64,
) -> Result<SubmissionAnswer, DbError> {
    let reject = |reason: String| Ok(SubmissionAnswer::Rejected { reason });
    let Some((_, Content::Exam(exam))) = published(conn, &paper.exam)? else {
        return reject(format!("unknown exam {}", paper.exam));
    };
    if !home.members.iter().any(|m| m.id == paper.member) {
        return reject(format!(
            "member {} does not live where box {} is",
            paper.member, home.device
        ));
    }
    if let Err(why) = within(exam.opens_at, exam.closes_at, now_ms / 1000) {
        return reject(format!("exam {}: {why}", paper.exam));
    }
    if let Err(why) = check_answers(&exam.questions, &paper.answers, false) {
        return reject(why);
    }
    let mut correct = 0u32;
    for a in &paper.answers {
        let key: Option<String> = conn
            .prepare_cached("SELECT answer FROM exam_keys WHERE exam = ?1 AND question = ?2")?
            .query_row(params![paper.exam, a.question], |r| r.get(0))
            .optional()?;
        let Some(key) = key else { continue };
        let mut right: Vec<u8> = serde_json::from_str(&key)?;
        let mut given = a.choices.clone();
        right.sort_unstable();
        given.sort_unstable();
        if right == given {
            correct += 1;
        }
    }
    let questions = exam.questions.len() as u32;
    let stored = conn
        .prepare_cached(
            "INSERT INTO exam_results(exam, member, device, answers, correct, questions, score,
                                      timed_out, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            paper.exam,
            paper.member,
            home.device,
            serde_json::to_string(&paper.answers)?,
            correct,
            questions,
            exam_score(correct, questions),
            paper.timed_out,
            now_ms / 1000
        ])?;
    if stored == 0 {
        return Ok(SubmissionAnswer::Duplicate { status: None });
    }
    Ok(SubmissionAnswer::Accepted { status: None })
}

fn result_rows(
    conn: &impl Sql,
    sql: &str,
    p: impl crate::sql::Params,
) -> Result<Vec<ExamResult>, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let exam: String = r.get(0)?;
        let title = match published(conn, &exam)? {
            Some((_, Content::Exam(e))) => e.title,
            _ => String::new(),
        };
        out.push(ExamResult {
            exam,
            title,
            member: r.get(1)?,
            name: r.get(2)?,
            correct: r.get(3)?,
            questions: r.get(4)?,
            score: r.get(5)?,
            timed_out: r.get(6)?,
            submitted_at: r.get(7)?,
        });
    }
    Ok(out)
}

const RESULT_SELECT: &str = "SELECT e.exam, e.member, m.name, e.correct, e.questions, e.score,
    e.timed_out, e.received_at FROM exam_results e JOIN members m ON m.id = e.member";

/// Questionnaires this household answered, and its members' exam results.
pub(super) fn household_forms(
    conn: &impl Sql,
    home: &Household,
) -> Result<(Vec<String>, Vec<ExamResult>), DbError> {
    let evaluated = conn
        .prepare_cached(
            "SELECT questionnaire FROM evaluations WHERE device = ?1 ORDER BY received_at DESC",
        )?
        .query_map([&home.device], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let mut exams = Vec::new();
    for m in &home.members {
        exams.extend(result_rows(
            conn,
            &format!("{RESULT_SELECT} WHERE e.member = ?1"),
            [&m.id],
        )?);
    }
    exams.sort_by_key(|r| std::cmp::Reverse(r.submitted_at));
    Ok((evaluated, exams))
}

impl Db {
    pub fn put_bank_question(&self, q: &BankQuestion) -> Result<(), DbError> {
        if q.question.kind == QuestionKind::Rating {
            return Err(DbError::BadInput(
                "an exam question cannot be a rating".into(),
            ));
        }
        if q.question.text.trim().is_empty() || q.question.kind.options().len() < 2 {
            return Err(DbError::BadInput(
                "a question needs a text and at least two options".into(),
            ));
        }
        if !q.question.kind.accepts(&q.answer) {
            return Err(DbError::BadInput(format!(
                "question {}: the answer does not fit its options",
                q.question.id
            )));
        }
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO bank_questions(id, question, answer, tag) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET question = excluded.question,
             answer = excluded.answer, tag = excluded.tag",
            params![
                q.question.id,
                serde_json::to_string(&q.question)?,
                serde_json::to_string(&q.answer)?,
                q.tag
            ],
        )?;
        Ok(())
    }

    pub fn bank_questions(&self) -> Result<Vec<BankQuestion>, DbError> {
        let conn = self.lock()?;
        let mut stmt =
            conn.prepare_cached("SELECT question, answer, tag FROM bank_questions ORDER BY id")?;
        let rows = stmt
            .query_map(params![], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(q, a, tag)| {
                Ok(BankQuestion {
                    question: serde_json::from_str(&q)?,
                    answer: serde_json::from_str(&a)?,
                    tag,
                })
            })
            .collect()
    }

    /// Draws an exam from the bank: the questions (never the answers) as
    /// a draft's content; the key is copied from the bank when the exam is
    /// approved and published.
    pub fn draw_exam(&self, new: &NewExam) -> Result<Exam, DbError> {
        let bank = self.bank_questions()?;
        let chosen: Vec<BankQuestion> = if new.questions.is_empty() {
            let mut pool: Vec<BankQuestion> = bank
                .into_iter()
                .filter(|q| new.tag.as_ref().is_none_or(|t| &q.tag == t))
                .collect();
            if new.pick == 0 || new.pick > pool.len() {
                return Err(DbError::BadInput(format!(
                    "pick between 1 and {} questions (the bank has that many{})",
                    pool.len(),
                    new.tag
                        .as_ref()
                        .map(|t| format!(" tagged {t:?}"))
                        .unwrap_or_default()
                )));
            }
            // A random draw, so a village cannot learn the paper in advance.
            let mut drawn = Vec::with_capacity(new.pick);
            for _ in 0..new.pick {
                let i = (uuid::Uuid::new_v4().as_u128() % pool.len() as u128) as usize;
                drawn.push(pool.swap_remove(i));
            }
            drawn
        } else {
            new.questions
                .iter()
                .map(|qid| {
                    bank.iter()
                        .find(|b| &b.question.id == qid)
                        .cloned()
                        .ok_or_else(|| DbError::NotFound(format!("bank question {qid}")))
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Exam {
            title: new.title.clone(),
            time_limit_s: new.time_limit_s,
            opens_at: new.opens_at,
            closes_at: new.closes_at,
            questions: chosen.into_iter().map(|b| b.question).collect(),
        })
    }

    /// Every member's result of `exam`, best first.
    pub fn exam_results(&self, exam: &str) -> Result<Vec<ExamResult>, DbError> {
        let conn = self.lock()?;
        result_rows(
            &conn,
            &format!("{RESULT_SELECT} WHERE e.exam = ?1 ORDER BY e.score DESC, m.name"),
            [exam],
        )
    }
}
