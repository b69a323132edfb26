//! Wire and domain types shared by the box and the headend.
//!
//! This crate is the contract: the feed page the headend serves and the box
//! applies, the region tree, disclosures with their tables, notices,
//! honours and rankings (时代先锋), service information (便民信息), streams (cameras, live meetings,
//! videos on demand), roll-call prompts, sign-ins and attendance, service
//! requests, evaluations and exams, money as
//! exact fen, and the validation both sides run. It has no I/O; everything
//! here can be tested with plain values.

mod content;
mod fleet;
mod honour;
mod image;
mod info;
mod media;
mod money;
mod region;
mod rollcall;
mod services;
mod time;

pub use content::{
    Block, Column, ColumnKind, Content, Correction, Disclosure, DisclosureCategory, FeedItem,
    FeedPage, Notice, Table, TableRole, Tombstone, ValidationError,
};
pub use fleet::{
    is_installer_code, refusal, CommandAck, CommandKind, DeviceCommand, Heartbeat,
    HouseholdMembers, InstallerCode, ProvisionRequest, Provisioned, HEARTBEAT_SECS,
    INSTALLER_CODE_LEN, MAX_HEARTBEAT_ERRORS, MAX_LOG_BYTES, ONLINE_WINDOW_SECS,
};
pub use honour::{Honour, HonourKind, RankEntry, Ranking, MAX_RANK_ENTRIES};
pub use image::{ImageError, IMAGE_TYPES, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE};
pub use info::{Info, InfoPage, InfoTopic, JobPosting, PriceItem, WeatherDay};
pub use media::{
    format_duration, resume_point, Camera, LiveChannel, LiveStatus, MeetingKind, StreamKind,
    StreamSpec, Video, VideoCategory,
};
pub use money::{Money, MoneyError};
pub use region::{AreaCode, AreaCodeError, Region, RegionLevel};
pub use rollcall::{
    AttendanceEntry, AttendanceStatus, Household, Invitee, Member, MemberAttendance, PlaybackBeat,
    PushEvent, RollCallPrompt, SignIn, Submission, SubmissionAnswer, SubmissionBatch,
    SubmissionReceipt, UsageReport, DEFAULT_WINDOW_SECS, MAX_WINDOW_SECS, PLAYBACK_BEAT_SECS,
    SIGN_IN_KIND, USAGE_KIND,
};
pub use services::{
    check_phone, exam_score, phone_complete, Answer, EvaluationAnswers, EvaluationTarget, Exam,
    ExamPaper, ExamResult, HouseholdServices, PhoneProblem, Question, QuestionKind, Questionnaire,
    RequestStatus, ServiceCategory, ServiceMenu, ServiceRecord, ServiceRequest, EVALUATION_KIND,
    EXAM_KIND, MAX_CATEGORIES, MAX_OPTIONS, MAX_QUESTIONS, REPLY_DEADLINE_HOURS,
    SERVICE_REQUEST_KIND,
};
pub use time::format_date;

/// Version of the headend API this build speaks.
pub const API_VERSION: u32 = 1;
/// Header carrying [`API_VERSION`] on every request and response.
pub const API_VERSION_HEADER: &str = "x-dangjian-api";
/// Largest page the headend serves; the box rejects bigger ones as malformed.
pub const MAX_FEED_PAGE: usize = 1000;

/// Error body returned by every failing headend endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `stale_cursor`.
    pub code: String,
    /// Human-readable explanation, lowercase English.
    pub message: String,
}
