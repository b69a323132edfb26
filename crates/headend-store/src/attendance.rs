//! Sign-ins, the playback evidence that makes them count, and attendance.
//!
//! Every box submission is stored once per (device, key), with the answer
//! it got, forever: a resend after a lost reply gets the same answer and
//! changes nothing. A member signs in once per roll-call; a second sign-in
//! (another key, another box) is a duplicate, not a second record.
//!
//! Anti-proxy: a sign-in counts as present only if the box reported the
//! meeting's live broadcast playing during the roll-call's window. Playback
//! is kept as intervals per (device, item), extended by each heartbeat. A
//! sign-in without that evidence is stored and flagged; a heartbeat that
//! arrives later for the same window clears the flag.

use crate::locks::{self, Named};
use crate::sql::{params, OptionalExtension, Sql};
use model::{
    AttendanceEntry, AttendanceStatus, Household, MemberAttendance, SignIn, SubmissionAnswer,
    PLAYBACK_BEAT_SECS,
};

use super::meetings::{open_rollcall, parse_kind};
use super::people::household;
use super::{Db, DbError};

/// A heartbeat older than this no longer extends an interval: playback
/// stopped (or the box went away) in between.
const BEAT_GAP_MS: i64 = 2 * PLAYBACK_BEAT_SECS as i64 * 1000 + 5_000;

/// One invited member's answer to a roll-call or meeting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttendanceRow {
    pub member: String,
    pub name: String,
    pub branch: String,
    pub branch_name: String,
    /// Village the branch belongs to.
    pub region: String,
    pub status: AttendanceStatus,
    /// Server milliseconds the sign-in arrived; `None` if absent.
    pub received_at_ms: Option<i64>,
    /// Time from the roll-call opening to OK on the box.
    pub elapsed_ms: Option<i64>,
    pub device: Option<String>,
}

/// Counts for one branch or village.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttendanceRate {
    /// Branch id or village code.
    pub id: String,
    pub name: String,
    pub invited: u32,
    pub present: u32,
    pub late: u32,
    pub flagged: u32,
    pub absent: u32,
    /// (present + late) / invited, 0 when nobody was invited.
    pub rate: f64,
}

fn playing_during(
    conn: &impl Sql,
    device: &str,
    item: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM playback WHERE device = ?1 AND item = ?2
             AND last_ms + ?5 >= ?3 AND first_ms <= ?4 LIMIT 1",
        )?
        .query_row(params![device, item, from_ms, to_ms, BEAT_GAP_MS], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

fn status_of(on_time: bool, playing: bool) -> AttendanceStatus {
    AttendanceStatus::judge(on_time, playing)
}

impl Db {
    /// Stores and judges one sign-in from `device` in its own transaction
    /// (idempotent on `key`); boxes' batches go through
    /// [`Db::submit_batches`].
    pub fn sign_in(
        &self,
        device: &str,
        key: &str,
        signin: &SignIn,
        now_ms: i64,
    ) -> Result<SubmissionAnswer, DbError> {
        let item = model::Submission {
            key: key.to_string(),
            kind: model::SIGN_IN_KIND.to_string(),
            payload: serde_json::to_value(signin)?,
        };
        let batch = model::SubmissionBatch {
            device: device.to_string(),
            items: vec![item],
        };
        let answers = self.submit_batches(std::slice::from_ref(&batch), now_ms)?;
        Ok(match answers.into_iter().next().flatten() {
            Some(mut receipts) if !receipts.is_empty() => receipts.remove(0).answer,
            _ => SubmissionAnswer::Rejected {
                reason: format!("box {device} is not bound to a household"),
            },
        })
    }

    /// A box says what live item it is playing (`None`: nothing live).
    /// Returns how many flagged sign-ins this evidence cleared.
    pub fn playback_beat(
        &self,
        device: &str,
        item: Option<&str>,
        now_ms: i64,
    ) -> Result<usize, DbError> {
        let Some(item) = item else {
            return Ok(0);
        };
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // Two beats of one box at once (two replicas) would both find no
        // interval to extend and both start one.
        locks::lock(&tx, Named::Playback(device))?;
        // The row's own address: SQLite's rowid, PostgreSQL's ctid (stable
        // within this statement, which is all it is used for).
        let rowid = tx.backend().row_address();
        let extended = tx.execute(
            &format!(
                "UPDATE playback SET last_ms = ?3
                 WHERE {rowid} = (SELECT {rowid} FROM playback WHERE device = ?1 AND item = ?2
                                AND last_ms >= CAST(?3 AS BIGINT) - CAST(?4 AS BIGINT) ORDER BY last_ms DESC LIMIT 1)"
            ),
            params![device, item, now_ms, BEAT_GAP_MS],
        )?;
        if extended == 0 {
            tx.execute(
                "INSERT INTO playback(device, item, first_ms, last_ms) VALUES (?1, ?2, ?3, ?3)",
                params![device, item, now_ms],
            )?;
        }
        // Sign-ins made just before playback was reported (e.g. "open the
        // meeting and sign in" in one press) count once the evidence is in.
        let cleared = tx.execute(
            "UPDATE signins SET playing = 1 WHERE device = ?1 AND playing = 0
             AND rollcall IN (SELECT r.id FROM rollcalls r JOIN meetings m ON m.id = r.meeting
                 WHERE m.live_item = ?2 AND r.opened_at_ms <= ?3
                 AND r.opened_at_ms + r.window_secs * 1000 + ?4 >= ?3)",
            params![device, item, now_ms, BEAT_GAP_MS],
        )?;
        tx.commit()?;
        Ok(cleared)
    }

    /// Drops playback intervals that ended before `before_ms`.
    pub fn prune_playback(&self, before_ms: i64) -> Result<usize, DbError> {
        let conn = self.lock()?;
        conn.execute("DELETE FROM playback WHERE last_ms < ?1", [before_ms])
    }

    /// Every invited member of a roll-call with their answer.
    pub fn rollcall_attendance(&self, rollcall: &str) -> Result<Vec<AttendanceRow>, DbError> {
        let conn = self.lock()?;
        let meeting: Option<String> = conn
            .query_row(
                "SELECT meeting FROM rollcalls WHERE id = ?1",
                [rollcall],
                |r| r.get(0),
            )
            .optional()?;
        let Some(meeting) = meeting else {
            return Err(DbError::NotFound(format!("roll-call {rollcall}")));
        };
        rows_for(&conn, &meeting, Some(rollcall))
    }

    /// Every invited member of a meeting, each with the worst of their
    /// answers over the meeting's opened roll-calls.
    pub fn meeting_attendance(&self, meeting: &str) -> Result<Vec<AttendanceRow>, DbError> {
        let conn = self.lock()?;
        if !super::people::exists(&conn, "meetings", meeting)? {
            return Err(DbError::NotFound(format!("meeting {meeting}")));
        }
        rows_for(&conn, meeting, None)
    }

    /// A member's record, newest meeting first: meetings of their branch
    /// that held at least one roll-call.
    pub fn member_attendance(&self, member: &str) -> Result<MemberAttendance, DbError> {
        let conn = self.lock()?;
        member_record(&conn, member)
    }

    /// The records of everyone in `device`'s household.
    pub fn household_attendance(&self, device: &str) -> Result<Vec<MemberAttendance>, DbError> {
        let conn = self.lock()?;
        let Some(h) = household(&conn, device)? else {
            return Err(DbError::NotFound(format!("box {device}")));
        };
        h.members
            .iter()
            .map(|m| member_record(&conn, &m.id))
            .collect()
    }

    /// Attendance rates per branch and per village for meetings starting in
    /// `[from, to)` (unix seconds), limited to branches under `region`.
    pub fn attendance_rates(
        &self,
        region: &model::AreaCode,
        from: i64,
        to: i64,
    ) -> Result<(Vec<AttendanceRate>, Vec<AttendanceRate>), DbError> {
        let conn = self.lock()?;
        let meetings: Vec<String> = {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT m.id FROM meetings m JOIN rollcalls r ON r.meeting = m.id
                 WHERE m.starts_at >= ?1 AND m.starts_at < ?2 AND r.opened_at_ms IS NOT NULL",
            )?;

            stmt.query_map([from, to], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let subtree = super::subtree(&conn, region)?;
        let mut branches: Vec<AttendanceRate> = Vec::new();
        let mut villages: Vec<AttendanceRate> = Vec::new();
        for meeting in &meetings {
            for row in rows_for(&conn, meeting, None)? {
                if !subtree.iter().any(|c| c == &row.region) {
                    continue;
                }
                let village_name = super::region_name(&conn, &row.region)?;
                count(&mut branches, &row.branch, &row.branch_name, row.status);
                count(&mut villages, &row.region, &village_name, row.status);
            }
        }
        for r in branches.iter_mut().chain(villages.iter_mut()) {
            r.rate = if r.invited == 0 {
                0.0
            } else {
                f64::from(r.present + r.late) / f64::from(r.invited)
            };
        }
        branches.sort_by(|a, b| a.id.cmp(&b.id));
        villages.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((branches, villages))
    }
}

fn count(rates: &mut Vec<AttendanceRate>, id: &str, name: &str, status: AttendanceStatus) {
    let i = match rates.iter().position(|r| r.id == id) {
        Some(i) => i,
        None => {
            rates.push(AttendanceRate {
                id: id.to_string(),
                name: name.to_string(),
                invited: 0,
                present: 0,
                late: 0,
                flagged: 0,
                absent: 0,
                rate: 0.0,
            });
            rates.len() - 1
        }
    };
    let r = &mut rates[i];
    r.invited += 1;
    match status {
        AttendanceStatus::Present => r.present += 1,
        AttendanceStatus::Late => r.late += 1,
        AttendanceStatus::Flagged => r.flagged += 1,
        AttendanceStatus::Absent => r.absent += 1,
    }
}

/// Judges a sign-in from the box of `home` and stores it in `signins`.
pub(super) fn judge_sign_in(
    conn: &impl Sql,
    home: &Household,
    key: &str,
    signin: &SignIn,
    now_ms: i64,
    rollcalls: &mut super::submissions::OpenRollCalls,
) -> Result<SubmissionAnswer, DbError> {
    let device = home.device.as_str();
    let reject = |reason: String| Ok(SubmissionAnswer::Rejected { reason });
    let open = match rollcalls.get(&signin.rollcall) {
        Some(known) => known.clone(),
        None => {
            let read = open_rollcall(conn, &signin.rollcall)?;
            rollcalls.insert(signin.rollcall.clone(), read.clone());
            read
        }
    };
    let Some(open) = open else {
        return reject(format!("unknown roll-call {}", signin.rollcall));
    };
    let Some(member) = home.members.iter().find(|m| m.id == signin.member) else {
        return reject(format!(
            "member {} does not live where box {device} is",
            signin.member
        ));
    };
    if !open.branches.contains(&member.branch) {
        return reject(format!(
            "member {} is not invited to this meeting",
            signin.member
        ));
    }
    // The box's own count of time since the roll-call opened; it cannot be
    // more than the time that has really passed here.
    let elapsed = (signin.elapsed_ms as i64).min((now_ms - open.opened_at_ms).max(0));
    let window_ms = i64::from(open.window_secs) * 1000;
    let on_time = elapsed <= window_ms;
    let playing = match &open.live_item {
        Some(item) => playing_during(
            conn,
            device,
            item,
            open.opened_at_ms,
            open.opened_at_ms + window_ms,
        )?,
        // Nothing to watch: nothing to prove.
        None => true,
    };
    let inserted = conn
        .prepare_cached(
            "INSERT INTO signins(rollcall, member, device, key, elapsed_ms, received_at_ms,
                                 on_time, playing)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(rollcall, member) DO NOTHING",
        )?
        .execute(params![
            open.id, member.id, device, key, elapsed, now_ms, on_time, playing
        ])?;
    if inserted == 0 {
        let (on_time, playing): (bool, bool) = conn
            .prepare_cached(
                "SELECT on_time, playing FROM signins WHERE rollcall = ?1 AND member = ?2",
            )?
            .query_row(params![open.id, member.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        return Ok(SubmissionAnswer::Duplicate {
            status: Some(status_of(on_time, playing)),
        });
    }
    Ok(SubmissionAnswer::Accepted {
        status: Some(status_of(on_time, playing)),
    })
}

/// Invited members of `meeting` with their answer to `rollcall`, or the
/// worst over all of the meeting's opened roll-calls.
fn rows_for(
    conn: &impl Sql,
    meeting: &str,
    rollcall: Option<&str>,
) -> Result<Vec<AttendanceRow>, DbError> {
    let rollcalls: Vec<String> = match rollcall {
        Some(id) => vec![id.to_string()],
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM rollcalls WHERE meeting = ?1 AND opened_at_ms IS NOT NULL",
            )?;

            stmt.query_map([meeting], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.name, b.id, b.name, b.region FROM meeting_branches mb
         JOIN branches b ON b.id = mb.branch JOIN members m ON m.branch = b.id
         WHERE mb.meeting = ?1 ORDER BY b.id, m.id",
    )?;
    let invited = stmt
        .query_map([meeting], |r| {
            Ok(AttendanceRow {
                member: r.get(0)?,
                name: r.get(1)?,
                branch: r.get(2)?,
                branch_name: r.get(3)?,
                region: r.get(4)?,
                status: AttendanceStatus::Absent,
                received_at_ms: None,
                elapsed_ms: None,
                device: None,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut signed = conn.prepare_cached(
        "SELECT on_time, playing, received_at_ms, elapsed_ms, device FROM signins
         WHERE rollcall = ?1 AND member = ?2",
    )?;
    let mut out = Vec::with_capacity(invited.len());
    for mut row in invited {
        let mut status: Option<AttendanceStatus> = None;
        for rc in &rollcalls {
            let found = signed
                .query_row(params![rc, row.member], |r| {
                    Ok((
                        r.get::<_, bool>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .optional()?;
            let this = match found {
                Some((on_time, playing, received, elapsed, device)) => {
                    row.received_at_ms = Some(received);
                    row.elapsed_ms = Some(elapsed);
                    row.device = Some(device);
                    status_of(on_time, playing)
                }
                None => AttendanceStatus::Absent,
            };
            status = Some(status.map_or(this, |s| s.worst(this)));
        }
        row.status = status.unwrap_or(AttendanceStatus::Absent);
        out.push(row);
    }
    Ok(out)
}

fn member_record(conn: &impl Sql, member: &str) -> Result<MemberAttendance, DbError> {
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT name, branch FROM members WHERE id = ?1",
            [member],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((name, branch)) = found else {
        return Err(DbError::NotFound(format!("member {member}")));
    };
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT m.id, m.title, m.kind, m.starts_at FROM meetings m
         JOIN meeting_branches mb ON mb.meeting = m.id
         JOIN rollcalls r ON r.meeting = m.id
         WHERE mb.branch = ?1 AND r.opened_at_ms IS NOT NULL
         ORDER BY m.starts_at DESC, m.id",
    )?;
    let meetings = stmt
        .query_map([&branch], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut entries = Vec::with_capacity(meetings.len());
    for (id, title, kind, starts_at) in meetings {
        let status = rows_for(conn, &id, None)?
            .into_iter()
            .find(|r| r.member == member)
            .map_or(AttendanceStatus::Absent, |r| r.status);
        entries.push(AttendanceEntry {
            meeting: id,
            title,
            kind: parse_kind(&kind)?,
            starts_at,
            status,
        });
    }
    Ok(MemberAttendance {
        member: member.to_string(),
        name,
        entries,
    })
}
