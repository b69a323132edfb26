//! Roll-call (在线点名) on the wire: the household a box serves, the prompt
//! the headend pushes when a roll-call opens, the sign-in the box sends back,
//! and how the headend judged it.
//!
//! Time on the box is only ever a duration: the headend says how old the
//! roll-call was when it sent the prompt (`age_ms`), the box adds how long it
//! has held the prompt on its monotonic clock, and the sign-in carries the
//! sum (`elapsed_ms`). A box with a wrong wall clock, or one that was offline
//! for an hour, is still judged on when the person pressed OK.

use crate::MeetingKind;

/// Default response window of a roll-call, in seconds.
pub const DEFAULT_WINDOW_SECS: u32 = 120;
/// Longest response window a roll-call may have, in seconds.
pub const MAX_WINDOW_SECS: u32 = 3600;
/// Outbox kind of a sign-in.
pub const SIGN_IN_KIND: &str = "signin";
/// How often a box reports that it is playing a live stream, in seconds.
pub const PLAYBACK_BEAT_SECS: u64 = 20;

/// A party member registered in a household.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    /// Branch id, e.g. `b-dongpo`.
    pub branch: String,
    /// Branch name, e.g. `东坡村党支部`.
    pub branch_name: String,
}

/// The members who live where a box is installed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Household {
    pub device: String,
    pub members: Vec<Member>,
}

/// Who in the household is asked to answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invitee {
    pub id: String,
    pub name: String,
}

/// What a box shows when a roll-call opens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RollCallPrompt {
    pub rollcall: String,
    pub meeting: String,
    pub meeting_title: String,
    pub meeting_kind: MeetingKind,
    /// Feed item id of the meeting's live broadcast (党群直播), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_item: Option<String>,
    pub window_secs: u32,
    /// How long the roll-call had been open when the headend sent this.
    pub age_ms: u64,
    /// Members of this household invited to the meeting.
    pub invitees: Vec<Invitee>,
}

/// What the push channel (`GET /api/v1/events`) carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushEvent {
    RollCall(RollCallPrompt),
    /// New content was published for the box's region: sync now.
    FeedChanged {
        head: u64,
    },
    /// Staff replied to, took or closed one of this household's requests:
    /// fetch `GET /api/v1/devices/{device}/services` again.
    ServicesChanged,
    /// The county centre sent this box a command; it answers with
    /// `POST /api/v1/commands/{id}/ack`.
    Command(crate::DeviceCommand),
}

impl PushEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RollCall(_) => "rollcall",
            Self::FeedChanged { .. } => "feed",
            Self::ServicesChanged => "services",
            Self::Command(_) => "command",
        }
    }
}

/// The payload of a sign-in in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignIn {
    pub rollcall: String,
    pub member: String,
    /// Time since the roll-call opened when OK was pressed: the prompt's
    /// `age_ms` plus the box's monotonic time since the prompt arrived.
    pub elapsed_ms: u64,
}

/// One outbox item on the wire.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Submission {
    /// The idempotency key; the headend deduplicates on (device, key) forever.
    pub key: String,
    pub kind: String,
    pub payload: serde_json::Value,
}

/// `POST /api/v1/submissions`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubmissionBatch {
    pub device: String,
    pub items: Vec<Submission>,
}

/// The headend's answer for one item; the box deletes the item on any of them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SubmissionAnswer {
    /// Stored now; for a sign-in, how it was judged.
    Accepted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<AttendanceStatus>,
    },
    /// This key was stored before (a resend), or the member already signed in.
    Duplicate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<AttendanceStatus>,
    },
    /// Never acceptable (unknown roll-call, member not in this household).
    Rejected { reason: String },
}

/// `POST /api/v1/submissions` answer: one per item, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubmissionReceipt {
    pub key: String,
    #[serde(flatten)]
    pub answer: SubmissionAnswer,
}

/// `POST /api/v1/playback`: what a box is playing (anti-proxy evidence).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlaybackBeat {
    pub device: String,
    /// Feed item id of the live broadcast on screen; `None`: nothing live.
    pub item: Option<String>,
}

/// How a member's answer to a roll-call was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Signed in within the window while the box played the meeting.
    Present,
    /// Signed in after the window closed, while the box played the meeting.
    Late,
    /// Signed in, but the box did not report the meeting playing: kept for
    /// review, not counted as present.
    Flagged,
    /// No sign-in.
    Absent,
}

impl AttendanceStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Present => "已到",
            Self::Late => "迟到",
            Self::Flagged => "待核实",
            Self::Absent => "缺席",
        }
    }

    /// How a sign-in is judged from its two facts.
    pub fn judge(on_time: bool, playing: bool) -> Self {
        match (playing, on_time) {
            (false, _) => Self::Flagged,
            (true, true) => Self::Present,
            (true, false) => Self::Late,
        }
    }

    /// The worse of two roll-calls' answers, for a meeting with several.
    pub fn worst(self, other: Self) -> Self {
        fn rank(s: AttendanceStatus) -> u8 {
            match s {
                AttendanceStatus::Present => 0,
                AttendanceStatus::Late => 1,
                AttendanceStatus::Flagged => 2,
                AttendanceStatus::Absent => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// One meeting in a member's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttendanceEntry {
    pub meeting: String,
    pub title: String,
    pub kind: MeetingKind,
    /// Unix seconds.
    pub starts_at: i64,
    pub status: AttendanceStatus,
}

/// `GET /api/v1/devices/{device}/attendance`: the household's records.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MemberAttendance {
    pub member: String,
    pub name: String,
    /// Newest first.
    pub entries: Vec<AttendanceEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging_needs_both_time_and_playback() {
        assert_eq!(
            AttendanceStatus::judge(true, true),
            AttendanceStatus::Present
        );
        assert_eq!(AttendanceStatus::judge(false, true), AttendanceStatus::Late);
        assert_eq!(
            AttendanceStatus::judge(true, false),
            AttendanceStatus::Flagged
        );
        assert_eq!(
            AttendanceStatus::Present.worst(AttendanceStatus::Late),
            AttendanceStatus::Late
        );
        assert_eq!(
            AttendanceStatus::Absent.worst(AttendanceStatus::Present),
            AttendanceStatus::Absent
        );
    }

    #[test]
    fn push_events_and_receipts_have_a_stable_shape() {
        let e = PushEvent::FeedChanged { head: 7 };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"feed_changed","head":7}"#
        );
        let r = SubmissionReceipt {
            key: "k".into(),
            answer: SubmissionAnswer::Accepted {
                status: Some(AttendanceStatus::Late),
            },
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"key":"k","result":"accepted","status":"late"}"#);
        assert_eq!(serde_json::from_str::<SubmissionReceipt>(&json).unwrap(), r);
    }
}

/// Outbox kind of a use report: the box opened a home module.
pub const USAGE_KIND: &str = "usage";

/// Payload of a [`USAGE_KIND`] item: how often a module was opened (its
/// home tile label, e.g. 三务公开) since the last report. Sent through the
/// outbox like everything the box reports, so opens made offline are
/// counted once when it returns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsageReport {
    pub module: String,
    #[serde(default = "one")]
    pub opens: u32,
}

fn one() -> u32 {
    1
}
