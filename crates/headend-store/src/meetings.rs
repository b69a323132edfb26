//! Meetings (三会一课 and others) and the roll-calls within them.
//!
//! A roll-call is opened by an admin ("now") or at a planned time; a planned
//! one gets its random offset when the meeting is created and keeps it, so
//! a restart does not move it. The server's clock decides when it opened,
//! and everything about being on time is measured from that.

use crate::sql::{params, OptionalExtension, Sql};
use model::{Invitee, MeetingKind, RollCallPrompt, MAX_WINDOW_SECS};

use super::people::exists;
use super::{Db, DbError};

/// A roll-call planned when the meeting is created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlannedRollCall {
    /// Seconds after the meeting starts.
    pub after_start_secs: u32,
    /// Up to this many seconds later, chosen at random, so members cannot
    /// know the moment in advance.
    #[serde(default)]
    pub random_secs: u32,
    #[serde(default = "default_window")]
    pub window_secs: u32,
}

fn default_window() -> u32 {
    model::DEFAULT_WINDOW_SECS
}

/// What an admin schedules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewMeeting {
    pub kind: MeetingKind,
    pub title: String,
    pub branches: Vec<String>,
    /// Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
    /// Feed item id of the meeting's live broadcast, if it is broadcast.
    #[serde(default)]
    pub live_item: Option<String>,
    #[serde(default)]
    pub rollcalls: Vec<PlannedRollCall>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meeting {
    pub id: String,
    pub kind: MeetingKind,
    pub title: String,
    pub branches: Vec<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub live_item: Option<String>,
    pub rollcalls: Vec<RollCall>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RollCall {
    pub id: String,
    pub meeting: String,
    /// Server milliseconds; `None` while it waits for its planned time.
    pub opened_at_ms: Option<i64>,
    pub window_secs: u32,
}

/// An open roll-call as the push hub needs it: enough to build each
/// household's prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRollCall {
    pub id: String,
    pub meeting: String,
    pub title: String,
    pub kind: MeetingKind,
    pub live_item: Option<String>,
    pub window_secs: u32,
    pub opened_at_ms: i64,
    pub branches: Vec<String>,
}

impl OpenRollCall {
    /// The prompt for a household whose members are `members` (id, name,
    /// branch); `None` if nobody there is invited.
    pub fn prompt_for(&self, members: &[model::Member], now_ms: i64) -> Option<RollCallPrompt> {
        let invitees: Vec<Invitee> = members
            .iter()
            .filter(|m| self.branches.contains(&m.branch))
            .map(|m| Invitee {
                id: m.id.clone(),
                name: m.name.clone(),
            })
            .collect();
        if invitees.is_empty() {
            return None;
        }
        Some(RollCallPrompt {
            rollcall: self.id.clone(),
            meeting: self.meeting.clone(),
            meeting_title: self.title.clone(),
            meeting_kind: self.kind,
            live_item: self.live_item.clone(),
            window_secs: self.window_secs,
            age_ms: (now_ms - self.opened_at_ms).max(0) as u64,
            invitees,
        })
    }

    /// Whether its response window is still running at `now_ms`. Boxes are
    /// sent roll-calls until the meeting ends, so a late sign-in is still
    /// possible; the window only decides on time or late.
    pub fn in_window(&self, now_ms: i64) -> bool {
        now_ms <= self.opened_at_ms + i64::from(self.window_secs) * 1000
    }
}

pub(super) fn kind_str(kind: MeetingKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(super) fn parse_kind(s: &str) -> Result<MeetingKind, DbError> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_string(),
    ))?)
}

fn random_below(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    (uuid::Uuid::new_v4().as_u128() % (u128::from(n) + 1)) as u32
}

fn check_window(window_secs: u32) -> Result<(), DbError> {
    if window_secs == 0 || window_secs > MAX_WINDOW_SECS {
        return Err(DbError::BadInput(format!(
            "window_secs must be between 1 and {MAX_WINDOW_SECS}"
        )));
    }
    Ok(())
}

fn new_id(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

fn branches_of(conn: &impl Sql, meeting: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn
        .prepare_cached("SELECT branch FROM meeting_branches WHERE meeting = ?1 ORDER BY branch")?;
    let rows = stmt
        .query_map([meeting], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

const OPEN_SELECT: &str = "SELECT r.id, r.meeting, m.title, m.kind, m.live_item, r.window_secs,
    r.opened_at_ms FROM rollcalls r JOIN meetings m ON m.id = r.meeting";

fn open_row(conn: &impl Sql, row: &crate::sql::Row) -> Result<OpenRollCall, DbError> {
    let meeting: String = row.get(1)?;
    Ok(OpenRollCall {
        id: row.get(0)?,
        branches: branches_of(conn, &meeting)?,
        meeting,
        title: row.get(2)?,
        kind: parse_kind(&row.get::<_, String>(3)?)?,
        live_item: row.get(4)?,
        window_secs: row.get(5)?,
        opened_at_ms: row.get(6)?,
    })
}

fn open_where(
    conn: &impl Sql,
    clause: &str,
    p: impl crate::sql::Params,
) -> Result<Vec<OpenRollCall>, DbError> {
    let sql = format!("{OPEN_SELECT} {clause}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(p)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(open_row(conn, row)?);
    }
    Ok(out)
}

pub(super) fn open_rollcall(conn: &impl Sql, id: &str) -> Result<Option<OpenRollCall>, DbError> {
    Ok(
        open_where(conn, "WHERE r.id = ?1 AND r.opened_at_ms IS NOT NULL", [id])?
            .into_iter()
            .next(),
    )
}

fn meeting_in(tx: &impl Sql, id: &str) -> Result<Option<Meeting>, DbError> {
    let row = tx
        .query_row(
            "SELECT kind, title, starts_at, ends_at, live_item FROM meetings WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((kind, title, starts_at, ends_at, live_item)) = row else {
        return Ok(None);
    };
    let mut stmt = tx.prepare_cached(
        "SELECT id, opened_at_ms, window_secs FROM rollcalls WHERE meeting = ?1
         ORDER BY due_at_ms, id",
    )?;
    let rollcalls = stmt
        .query_map([id], |r| {
            Ok(RollCall {
                id: r.get(0)?,
                meeting: id.to_string(),
                opened_at_ms: r.get(1)?,
                window_secs: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Meeting {
        id: id.to_string(),
        kind: parse_kind(&kind)?,
        title,
        branches: branches_of(tx, id)?,
        starts_at,
        ends_at,
        live_item,
        rollcalls,
    }))
}

impl Db {
    /// Schedules a meeting with its planned roll-calls.
    pub fn create_meeting(&self, new: &NewMeeting, now: i64) -> Result<Meeting, DbError> {
        if new.title.trim().is_empty() {
            return Err(DbError::BadInput("a meeting needs a title".into()));
        }
        if new.branches.is_empty() {
            return Err(DbError::BadInput("invite at least one branch".into()));
        }
        if new.ends_at <= new.starts_at {
            return Err(DbError::BadInput(
                "a meeting must end after it starts".into(),
            ));
        }
        for planned in &new.rollcalls {
            check_window(planned.window_secs)?;
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        for branch in &new.branches {
            if !exists(&tx, "branches", branch)? {
                return Err(DbError::NotFound(format!("branch {branch}")));
            }
        }
        let id = new_id("m");
        tx.execute(
            "INSERT INTO meetings(id, kind, title, starts_at, ends_at, live_item, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                kind_str(new.kind),
                new.title.trim(),
                new.starts_at,
                new.ends_at,
                new.live_item,
                now
            ],
        )?;
        for branch in &new.branches {
            tx.execute(
                "INSERT INTO meeting_branches(meeting, branch) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![id, branch],
            )?;
        }
        for planned in &new.rollcalls {
            let due_secs = new.starts_at
                + i64::from(planned.after_start_secs)
                + i64::from(random_below(planned.random_secs));
            tx.execute(
                "INSERT INTO rollcalls(id, meeting, due_at_ms, window_secs) VALUES (?1, ?2, ?3, ?4)",
                params![new_id("rc"), id, due_secs * 1000, planned.window_secs],
            )?;
        }
        let meeting = meeting_in(&tx, &id)?.ok_or_else(|| DbError::NotFound(id.clone()))?;
        tx.commit()?;
        Ok(meeting)
    }

    pub fn meeting(&self, id: &str) -> Result<Option<Meeting>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        meeting_in(&tx, id)
    }

    /// Meetings starting in `[from, to)` (unix seconds), newest first.
    pub fn meetings(&self, from: i64, to: i64) -> Result<Vec<Meeting>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let ids = {
            let mut stmt = tx.prepare_cached(
                "SELECT id FROM meetings WHERE starts_at >= ?1 AND starts_at < ?2
                 ORDER BY starts_at DESC, id",
            )?;

            stmt.query_map([from, to], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = meeting_in(&tx, &id)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Opens a roll-call in `meeting` now (server time).
    pub fn start_rollcall(
        &self,
        meeting: &str,
        window_secs: u32,
        now_ms: i64,
    ) -> Result<OpenRollCall, DbError> {
        check_window(window_secs)?;
        let conn = self.lock()?;
        if !exists(&conn, "meetings", meeting)? {
            return Err(DbError::NotFound(format!("meeting {meeting}")));
        }
        let id = new_id("rc");
        conn.execute(
            "INSERT INTO rollcalls(id, meeting, due_at_ms, opened_at_ms, window_secs)
             VALUES (?1, ?2, ?3, ?3, ?4)",
            params![id, meeting, now_ms, window_secs],
        )?;
        open_rollcall(&conn, &id)?.ok_or_else(|| DbError::NotFound(format!("roll-call {id}")))
    }

    /// Opens every planned roll-call whose time has come; returns them.
    pub fn open_due_rollcalls(&self, now_ms: i64) -> Result<Vec<OpenRollCall>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let due: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id FROM rollcalls WHERE opened_at_ms IS NULL AND due_at_ms <= ?1",
            )?;

            stmt.query_map([now_ms], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut out = Vec::with_capacity(due.len());
        for id in &due {
            // Only if still waiting: another replica's scheduler may have
            // opened (and pushed) it since it was listed.
            let opened = tx.execute(
                "UPDATE rollcalls SET opened_at_ms = ?2 WHERE id = ?1 AND opened_at_ms IS NULL",
                params![id, now_ms],
            )?;
            if opened == 0 {
                continue;
            }
            if let Some(open) = open_rollcall(&tx, id)? {
                out.push(open);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Roll-calls that boxes should still show at `now_ms`: opened, and the
    /// meeting not yet over (a late answer is still an answer).
    pub fn open_rollcalls(&self, now_ms: i64) -> Result<Vec<OpenRollCall>, DbError> {
        let conn = self.lock()?;
        open_where(
            &conn,
            "WHERE r.opened_at_ms IS NOT NULL AND r.opened_at_ms <= ?1
             AND (m.ends_at * 1000 >= ?1 OR r.opened_at_ms + r.window_secs * 1000 >= ?1)
             ORDER BY r.opened_at_ms",
            [now_ms],
        )
    }
}
