//! People, meetings and roll-call: branches and members, meetings and
//! who may see them, opening a roll-call now or when a planned one is due
//! (and telling the invited boxes), and the attendance reports and rates.
//!
//! Changes need an operating role, reads any account; the branch, member
//! or meeting must lie in the account's region. A meeting lies in the
//! regions of its branches, so it can lie partly inside an account's
//! region ([`Reach`]): lists show those, but acting on a meeting (or
//! reading its attendance) needs every branch.

use std::collections::HashMap;
use std::sync::Arc;

use model::AreaCode;

use crate::db::{
    AttendanceRate, AttendanceRow, Branch, Db, DbError, Meeting, NewMeeting, NewMember,
    OpenRollCall, Permission, RollCall, Target,
};
use crate::{Actor, Event, Ops, OpsError};

/// How much of a meeting (the regions of its branches) lies inside an
/// account's region. Ordered: `Outside < Partly < Wholly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// No branch (or the meeting is unknown).
    Outside,
    /// Some branches but not all.
    Partly,
    /// Every branch: what [`Actor::require`] asks of a meeting.
    Wholly,
}

/// A meeting as its page shows it: the facts, its branches' names, the
/// answers to its latest roll-call and, if asked for, the whole meeting's
/// attendance.
#[derive(Debug, Clone)]
pub struct MeetingOverview {
    pub meeting: Meeting,
    /// Branch id to name, for the meeting's branches.
    pub branch_names: HashMap<String, String>,
    /// Answers to the roll-call opened last (empty before the first).
    pub live: Vec<AttendanceRow>,
    /// Each member's worst answer over the meeting's roll-calls.
    pub report: Option<Vec<AttendanceRow>>,
}

impl MeetingOverview {
    /// The roll-call opened last, and its number among the opened ones.
    pub fn current(&self) -> Option<(usize, &RollCall)> {
        latest_opened(&self.meeting)
    }
}

/// The roll-call of `meeting` opened last, and its number (from 1) among
/// the opened ones.
pub fn latest_opened(meeting: &Meeting) -> Option<(usize, &RollCall)> {
    let mut opened: Vec<&RollCall> = meeting
        .rollcalls
        .iter()
        .filter(|r| r.opened_at_ms.is_some())
        .collect();
    opened.sort_by_key(|r| r.opened_at_ms);
    opened.last().map(|r| (opened.len(), *r))
}

/// Where `meeting` lies for `actor`. Blocking.
fn reach(db: &Db, actor: &Actor, meeting: &str) -> Reach {
    let Ok(regions) = db.target_regions(&Target::Meeting(meeting)) else {
        return Reach::Outside;
    };
    let inside = regions.iter().filter(|r| actor.sees(db, r)).count();
    match inside {
        0 => Reach::Outside,
        n if n == regions.len() => Reach::Wholly,
        _ => Reach::Partly,
    }
}

/// Operating on `target` if it exists already (a change moves it away
/// from where it is now, so that place must be the actor's too).
fn require_if_known(db: &Db, actor: &Actor, target: &Target<'_>) -> Result<(), OpsError> {
    match db.target_regions(target) {
        Ok(_) => actor.require(db, Permission::Operate, target),
        Err(DbError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl Ops {
    /// Creates or changes (and perhaps moves) a branch. Blocking.
    pub fn put_branch(&self, actor: &Actor, branch: &Branch) -> Result<(), OpsError> {
        let db = &self.db;
        actor.require(db, Permission::Operate, &Target::Region(&branch.region))?;
        require_if_known(db, actor, &Target::Branch(&branch.id))?;
        Ok(db.upsert_branch(branch)?)
    }

    /// Creates or changes (and perhaps moves) a member. Blocking.
    pub fn put_member(&self, actor: &Actor, member: &NewMember) -> Result<(), OpsError> {
        let db = &self.db;
        actor.require(db, Permission::Operate, &Target::Branch(&member.branch))?;
        require_if_known(db, actor, &Target::Member(&member.id))?;
        Ok(db.upsert_member(member)?)
    }

    /// Branches inside the actor's region. Blocking.
    pub fn branches_within(&self, actor: &Actor) -> Result<Vec<Branch>, OpsError> {
        actor.require_role(Permission::View)?;
        let db = &self.db;
        Ok(db
            .branches()?
            .into_iter()
            .filter(|b| actor.sees(db, &b.region))
            .collect())
    }

    /// Schedules a meeting: an operating role, and every invited branch
    /// in the actor's region. Blocking.
    pub fn schedule_meeting(&self, actor: &Actor, new: &NewMeeting) -> Result<Meeting, OpsError> {
        let db = &self.db;
        // Branch by branch first, so that a refusal is audited in the region
        // of the branch; the role alone where no branch is invited.
        for branch in &new.branches {
            actor.require(db, Permission::Operate, &Target::Branch(branch))?;
        }
        actor.require_role(Permission::Operate)?;
        Ok(db.create_meeting(new, self.now())?)
    }

    /// Meetings starting in `[from, to)` (unix seconds) that lie at least
    /// `at_least` inside the actor's region. Blocking.
    pub fn meetings(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
        at_least: Reach,
    ) -> Result<Vec<Meeting>, OpsError> {
        actor.require_role(Permission::View)?;
        let db = &self.db;
        let mut list = db.meetings(from, to)?;
        list.retain(|m| reach(db, actor, &m.id) >= at_least);
        Ok(list)
    }

    /// One meeting, wholly inside the actor's region. Blocking.
    pub fn meeting(&self, actor: &Actor, id: &str) -> Result<Meeting, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Meeting(id))?;
        self.db
            .meeting(id)?
            .ok_or_else(|| OpsError::NotFound(format!("unknown meeting {id}")))
    }

    /// One meeting with its branches' names, its latest roll-call's
    /// answers and (`with_report`) the whole meeting's attendance.
    /// Blocking.
    pub fn meeting_overview(
        &self,
        actor: &Actor,
        id: &str,
        with_report: bool,
    ) -> Result<MeetingOverview, OpsError> {
        let meeting = self.meeting(actor, id)?;
        let db = &self.db;
        let branch_names = db
            .branches()?
            .into_iter()
            .filter(|b| meeting.branches.contains(&b.id))
            .map(|b| (b.id, b.name))
            .collect();
        let live = match latest_opened(&meeting) {
            Some((_, rc)) => db.rollcall_attendance(&rc.id)?,
            None => Vec::new(),
        };
        let report = if with_report {
            Some(db.meeting_attendance(id)?)
        } else {
            None
        };
        Ok(MeetingOverview {
            meeting,
            branch_names,
            live,
            report,
        })
    }

    /// Opens a roll-call in `meeting` now, for an actor who operates every
    /// branch of it, and tells the invited boxes. Blocking.
    pub fn open_rollcall(
        &self,
        actor: &Actor,
        meeting: &str,
        window_secs: u32,
    ) -> Result<Arc<OpenRollCall>, OpsError> {
        actor.require(&self.db, Permission::Operate, &Target::Meeting(meeting))?;
        let open = Arc::new(
            self.db
                .start_rollcall(meeting, window_secs, self.now_ms())?,
        );
        self.events.publish(Event::RollCall(open.clone()));
        Ok(open)
    }

    /// Opens every planned roll-call whose time has come by the clock (the
    /// scheduler's tick) and tells the invited boxes. The store claims
    /// each one atomically, so two replicas ticking at once cannot open
    /// one twice. Blocking.
    pub fn open_due_rollcalls(&self) -> Result<Vec<Arc<OpenRollCall>>, OpsError> {
        let opened = self.db.open_due_rollcalls(self.now_ms())?;
        Ok(opened
            .into_iter()
            .map(|open| {
                tracing::info!(rollcall = %open.id, meeting = %open.meeting, "planned roll-call opened");
                let open = Arc::new(open);
                self.events.publish(Event::RollCall(open.clone()));
                open
            })
            .collect())
    }

    /// Each invited member's attendance over a meeting's roll-calls.
    /// Blocking.
    pub fn meeting_attendance(
        &self,
        actor: &Actor,
        meeting: &str,
    ) -> Result<Vec<AttendanceRow>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Meeting(meeting))?;
        Ok(self.db.meeting_attendance(meeting)?)
    }

    /// Each invited member's answer to one roll-call. Blocking.
    pub fn rollcall_attendance(
        &self,
        actor: &Actor,
        rollcall: &str,
    ) -> Result<Vec<AttendanceRow>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::RollCall(rollcall))?;
        Ok(self.db.rollcall_attendance(rollcall)?)
    }

    /// One member's record over every meeting. Blocking.
    pub fn member_attendance(
        &self,
        actor: &Actor,
        member: &str,
    ) -> Result<model::MemberAttendance, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Member(member))?;
        Ok(self.db.member_attendance(member)?)
    }

    /// Attendance rates per branch and per village under `region`, for
    /// meetings starting in `[from, to)`. Blocking.
    pub fn attendance_rates(
        &self,
        actor: &Actor,
        region: &AreaCode,
        from: i64,
        to: i64,
    ) -> Result<(Vec<AttendanceRate>, Vec<AttendanceRate>), OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        Ok(self.db.attendance_rates(region, from, to)?)
    }
}
