//! Where each thing an admin endpoint touches lives in the region tree, so
//! permission checks can ask "is it inside the account's subtree?".

use crate::sql::{OptionalExtension, Sql};
use model::AreaCode;

use super::{Db, DbError};

/// What an admin request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    Region(&'a AreaCode),
    Branch(&'a str),
    Member(&'a str),
    Meeting(&'a str),
    RollCall(&'a str),
    Household(&'a str),
    ServiceRequest(i64),
    /// A published feed item (questionnaire, exam).
    Item(&'a str),
    /// A content draft.
    Draft(i64),
}

fn parse(code: String) -> Result<AreaCode, DbError> {
    code.parse().map_err(|_| DbError::UnknownRegion(code))
}

fn one(
    conn: &impl Sql,
    sql: &str,
    key: &dyn crate::sql::ToValue,
    what: impl FnOnce() -> String,
) -> Result<Vec<AreaCode>, DbError> {
    let code: Option<String> = conn
        .prepare_cached(sql)?
        .query_row([key], |r| r.get(0))
        .optional()?;
    match code {
        Some(c) => Ok(vec![parse(c)?]),
        None => Err(DbError::NotFound(what())),
    }
}

fn many(
    conn: &impl Sql,
    sql: &str,
    key: &str,
    what: impl FnOnce() -> String,
) -> Result<Vec<AreaCode>, DbError> {
    let codes = conn
        .prepare_cached(sql)?
        .query_map([key], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if codes.is_empty() {
        return Err(DbError::NotFound(what()));
    }
    codes.into_iter().map(parse).collect()
}

impl Db {
    /// The regions `target` lies in (a meeting of several branches has
    /// several); `NotFound` if it does not exist.
    pub fn target_regions(&self, target: &Target<'_>) -> Result<Vec<AreaCode>, DbError> {
        let conn = self.lock()?;
        match target {
            Target::Region(code) => Ok(vec![(*code).clone()]),
            Target::Branch(id) => one(
                &conn,
                "SELECT region FROM branches WHERE id = ?1",
                id,
                || format!("branch {id}"),
            ),
            Target::Member(id) => one(
                &conn,
                "SELECT b.region FROM members m JOIN branches b ON b.id = m.branch WHERE m.id = ?1",
                id,
                || format!("member {id}"),
            ),
            Target::Meeting(id) => many(
                &conn,
                "SELECT DISTINCT b.region FROM meeting_branches mb
                 JOIN branches b ON b.id = mb.branch WHERE mb.meeting = ?1",
                id,
                || format!("meeting {id}"),
            ),
            Target::RollCall(id) => many(
                &conn,
                "SELECT DISTINCT b.region FROM rollcalls r
                 JOIN meeting_branches mb ON mb.meeting = r.meeting
                 JOIN branches b ON b.id = mb.branch WHERE r.id = ?1",
                id,
                || format!("roll-call {id}"),
            ),
            Target::Household(device) => one(
                &conn,
                "SELECT village FROM households WHERE device = ?1",
                device,
                || format!("box {device}"),
            ),
            Target::ServiceRequest(id) => one(
                &conn,
                "SELECT village FROM service_requests WHERE id = ?1",
                id,
                || format!("service request {id}"),
            ),
            Target::Draft(id) => one(&conn, "SELECT scope FROM drafts WHERE id = ?1", id, || {
                format!("draft {id}")
            }),
            Target::Item(id) => one(&conn, "SELECT scope FROM items WHERE id = ?1", id, || {
                format!("item {id}")
            }),
        }
    }
}
