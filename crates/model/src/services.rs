//! Interactive services on the wire: one-key service requests (一键服务),
//! evaluations (党风评议) and exams.
//!
//! What the box shows comes through the feed like any content: a county's
//! service menu, questionnaires and exams (without their answers). What a
//! household does goes back through the outbox as submissions of the kinds
//! below, each judged by the headend; the household's record (requests with
//! their replies, questionnaires answered, exam scores) is fetched back.

/// Outbox kind of a one-key service request.
pub const SERVICE_REQUEST_KIND: &str = "service_request";
/// Outbox kind of an evaluation (one per household per questionnaire).
pub const EVALUATION_KIND: &str = "evaluation";
/// Outbox kind of an exam paper (one per member per exam).
pub const EXAM_KIND: &str = "exam";
/// Hours the headend has to reply to a service request.
pub const REPLY_DEADLINE_HOURS: i64 = 24;
/// Most options a question may have (digits 1..9 pick them).
pub const MAX_OPTIONS: usize = 9;
/// Most questions in a questionnaire or an exam.
pub const MAX_QUESTIONS: usize = 100;

use crate::ValidationError;

/// A county's 一键服务 menu (feed kind `service_menu`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceMenu {
    pub categories: Vec<ServiceCategory>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceCategory {
    /// Stable id, e.g. `agri`.
    pub id: String,
    /// e.g. 农业技术服务
    pub name: String,
    /// Short descriptions a viewer can pick instead of typing.
    #[serde(default)]
    pub presets: Vec<String>,
}

impl ServiceMenu {
    /// The categories the platforms this replaces offered, with presets.
    pub fn standard() -> ServiceMenu {
        let c = |id: &str, name: &str, presets: &[&str]| ServiceCategory {
            id: id.into(),
            name: name.into(),
            presets: presets.iter().map(|p| p.to_string()).collect(),
        };
        ServiceMenu {
            categories: vec![
                c(
                    "agri",
                    "农业技术服务",
                    &["庄稼病虫害", "果树栽培管理", "畜禽养殖防疫"],
                ),
                c(
                    "subsidy",
                    "惠农政策咨询",
                    &["种粮补贴", "农机购置补贴", "危房改造补助"],
                ),
                c("law", "政策法规咨询", &["土地承包", "婚姻家庭", "劳动工资"]),
                c(
                    "culture",
                    "文化休闲需求",
                    &["送戏下乡", "图书借阅", "广场舞场地"],
                ),
                c(
                    "dispute",
                    "邻里纠纷调解",
                    &["宅基地边界", "用水用路", "家庭矛盾"],
                ),
                c(
                    "report",
                    "问题举报投诉",
                    &["村务不公开", "环境卫生", "干部作风"],
                ),
                c(
                    "jobs",
                    "致富就业指导",
                    &["外出务工信息", "技能培训报名", "创业贷款"],
                ),
                c("other", "其他", &["请回电话联系我"]),
            ],
        }
    }

    pub fn category(&self, id: &str) -> Option<&ServiceCategory> {
        self.categories.iter().find(|c| c.id == id)
    }
}

/// The payload of a service request in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceRequest {
    /// [`ServiceCategory::id`].
    pub category: String,
    /// One of the category's presets, or none.
    #[serde(default)]
    pub preset: Option<String>,
    /// Digits only; see [`check_phone`].
    pub phone: String,
}

/// Why a contact phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    #[error("no phone number")]
    Empty,
    #[error("a phone number has digits only")]
    NotDigits,
    #[error("a mobile number has 11 digits starting with 13 to 19")]
    Mobile,
    #[error("a landline starts with its area code (0 and 2 or 3 digits) and has 10 to 12 digits")]
    Landline,
    #[error("a phone number starts with 1 (mobile) or 0 (landline with area code)")]
    Start,
}

impl PhoneProblem {
    /// What the screen says, in plain words.
    pub fn message(self) -> &'static str {
        match self {
            PhoneProblem::Empty => "请用数字键输入联系电话",
            PhoneProblem::NotDigits => "电话号码只能是数字",
            PhoneProblem::Mobile => "手机号码是11位，以13到19开头，请检查",
            PhoneProblem::Landline => "座机号码要带区号，如 0731 8888 6666，请检查",
            PhoneProblem::Start => "手机号以1开头，座机号以区号0开头，请检查",
        }
    }
}

/// An 11-digit mobile number (1[3-9]…) or a landline with its area code
/// (0, then 2 or 3 more area digits, then 7 or 8 digits: 10 to 12 in all).
pub fn check_phone(phone: &str) -> Result<(), PhoneProblem> {
    if phone.is_empty() {
        return Err(PhoneProblem::Empty);
    }
    if !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneProblem::NotDigits);
    }
    let b = phone.as_bytes();
    match b[0] {
        b'1' if phone.len() == 11 && (b'3'..=b'9').contains(&b[1]) => Ok(()),
        b'1' => Err(PhoneProblem::Mobile),
        b'0' if (10..=12).contains(&phone.len()) && b[1] != b'0' => Ok(()),
        b'0' => Err(PhoneProblem::Landline),
        _ => Err(PhoneProblem::Start),
    }
}

/// Whether `digits` (being typed) is a complete, valid number already, so
/// the form can move focus to 提交 by itself.
pub fn phone_complete(digits: &str) -> bool {
    digits.len() == 11 && digits.starts_with('1') && check_phone(digits).is_ok()
}

/// Where a service request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// 已提交: received, nobody has taken it yet.
    Submitted,
    /// 已受理: assigned to someone.
    Accepted,
    /// 已回复: a reply was sent to the box.
    Replied,
    /// 已办结: closed.
    Closed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Submitted,
        RequestStatus::Accepted,
        RequestStatus::Replied,
        RequestStatus::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "已提交",
            RequestStatus::Accepted => "已受理",
            RequestStatus::Replied => "已回复",
            RequestStatus::Closed => "已办结",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "submitted",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Replied => "replied",
            RequestStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One of the household's requests as the headend has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceRecord {
    /// The outbox key the box sent it with.
    pub key: String,
    pub category: String,
    pub category_name: String,
    #[serde(default)]
    pub preset: Option<String>,
    pub status: RequestStatus,
    /// Unix seconds, headend clock.
    pub submitted_at: i64,
    #[serde(default)]
    pub reply: Option<String>,
    #[serde(default)]
    pub replied_at: Option<i64>,
}

/// Who an evaluation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationTarget {
    /// 镇领导班子
    TownLeadership,
    /// 站所 (a town office)
    Office,
    /// 村两委成员
    VillageCommittee,
}

impl EvaluationTarget {
    pub fn label(self) -> &'static str {
        match self {
            EvaluationTarget::TownLeadership => "镇领导班子",
            EvaluationTarget::Office => "站所",
            EvaluationTarget::VillageCommittee => "村两委成员",
        }
    }
}

/// How a question is answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of `options`.
    Single { options: Vec<String> },
    /// Any number of `options`, at least one.
    Multiple { options: Vec<String> },
    /// 1 to 5 (非常不满意 … 非常满意).
    Rating,
    /// 对 / 错 (exams).
    TrueFalse,
}

impl QuestionKind {
    /// The choices shown, in order; digits 1..n pick them.
    pub fn options(&self) -> Vec<String> {
        match self {
            QuestionKind::Single { options } | QuestionKind::Multiple { options } => {
                options.clone()
            }
            QuestionKind::Rating => ["非常不满意", "不满意", "一般", "满意", "非常满意"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            QuestionKind::TrueFalse => vec!["对".into(), "错".into()],
        }
    }

    pub fn is_multiple(&self) -> bool {
        matches!(self, QuestionKind::Multiple { .. })
    }

    pub fn label(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "单选题",
            QuestionKind::Multiple { .. } => "多选题",
            QuestionKind::Rating => "评分",
            QuestionKind::TrueFalse => "判断题",
        }
    }

    /// Whether `choices` (0-based option indexes) is a complete answer.
    pub fn accepts(&self, choices: &[u8]) -> bool {
        let n = self.options().len();
        let in_range = choices.iter().all(|&c| usize::from(c) < n);
        let mut sorted = choices.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let unique = sorted.len() == choices.len();
        in_range
            && unique
            && match self {
                QuestionKind::Multiple { .. } => !choices.is_empty(),
                _ => choices.len() == 1,
            }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Question {
    /// Stable within its questionnaire or bank, e.g. `q1`.
    pub id: String,
    pub text: String,
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// 党风评议 questionnaire (feed kind `questionnaire`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Questionnaire {
    pub title: String,
    pub target: EvaluationTarget,
    /// e.g. 青石镇领导班子 or 东坡村 王建国.
    pub target_name: String,
    /// Unix seconds; answers are taken in `[opens_at, closes_at)`.
    pub opens_at: i64,
    pub closes_at: i64,
    pub questions: Vec<Question>,
}

/// Exam (feed kind `exam`): questions without their answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exam {
    pub title: String,
    /// Seconds a member has from the first question.
    pub time_limit_s: u32,
    pub opens_at: i64,
    pub closes_at: i64,
    pub questions: Vec<Question>,
}

/// One answered question: the chosen options, 0-based.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub question: String,
    pub choices: Vec<u8>,
}

/// The payload of an evaluation in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EvaluationAnswers {
    /// Feed item id of the questionnaire.
    pub questionnaire: String,
    pub answers: Vec<Answer>,
}

/// The payload of an exam paper in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExamPaper {
    /// Feed item id of the exam.
    pub exam: String,
    pub member: String,
    /// Questions left unanswered are simply absent.
    pub answers: Vec<Answer>,
    /// The time limit ran out and the box handed in what was answered.
    #[serde(default)]
    pub timed_out: bool,
}

/// A member's scored exam.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExamResult {
    pub exam: String,
    pub title: String,
    pub member: String,
    pub name: String,
    pub correct: u32,
    pub questions: u32,
    /// Out of 100, rounded.
    pub score: u32,
    pub timed_out: bool,
    /// Unix seconds, headend clock.
    pub submitted_at: i64,
}

/// `GET /api/v1/devices/{device}/services`: what the household did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct HouseholdServices {
    /// Newest first.
    pub requests: Vec<ServiceRecord>,
    /// Feed item ids of questionnaires this household has answered.
    pub evaluated: Vec<String>,
    /// Newest first.
    pub exams: Vec<ExamResult>,
}

/// Most categories in a menu: digits 1..8 pick them, 9 is 我的服务.
pub const MAX_CATEGORIES: usize = 8;

fn form_error(id: &str, why: impl Into<String>) -> ValidationError {
    ValidationError::Form {
        id: id.to_string(),
        why: why.into(),
    }
}

pub(crate) fn validate_menu(id: &str, menu: &ServiceMenu) -> Result<(), ValidationError> {
    if menu.categories.is_empty() || menu.categories.len() > MAX_CATEGORIES {
        return Err(form_error(
            id,
            format!("a service menu has 1 to {MAX_CATEGORIES} categories"),
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for c in &menu.categories {
        if c.id.trim().is_empty() || c.name.trim().is_empty() {
            return Err(form_error(id, "every category needs an id and a name"));
        }
        if !ids.insert(c.id.as_str()) {
            return Err(form_error(
                id,
                format!("category id {:?} appears twice", c.id),
            ));
        }
        if c.presets.len() > MAX_OPTIONS || c.presets.iter().any(|p| p.trim().is_empty()) {
            return Err(form_error(
                id,
                format!(
                    "category {:?}: at most {MAX_OPTIONS} presets, none empty",
                    c.id
                ),
            ));
        }
    }
    Ok(())
}

fn validate_questions(id: &str, questions: &[Question], exam: bool) -> Result<(), ValidationError> {
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return Err(form_error(id, format!("1 to {MAX_QUESTIONS} questions")));
    }
    let mut ids = std::collections::HashSet::new();
    for q in questions {
        if q.id.trim().is_empty() || q.text.trim().is_empty() {
            return Err(form_error(id, "every question needs an id and a text"));
        }
        if !ids.insert(q.id.as_str()) {
            return Err(form_error(
                id,
                format!("question id {:?} appears twice", q.id),
            ));
        }
        if exam && q.kind == QuestionKind::Rating {
            return Err(form_error(
                id,
                format!("question {:?}: an exam has no ratings", q.id),
            ));
        }
        let options = q.kind.options();
        if options.len() < 2
            || options.len() > MAX_OPTIONS
            || options.iter().any(|o| o.trim().is_empty())
        {
            return Err(form_error(
                id,
                format!(
                    "question {:?}: 2 to {MAX_OPTIONS} options, none empty",
                    q.id
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn validate_questionnaire(id: &str, q: &Questionnaire) -> Result<(), ValidationError> {
    if q.title.trim().is_empty() || q.target_name.trim().is_empty() {
        return Err(form_error(id, "a questionnaire needs a title and a target"));
    }
    if q.closes_at <= q.opens_at {
        return Err(form_error(id, "a questionnaire must close after it opens"));
    }
    validate_questions(id, &q.questions, false)
}

pub(crate) fn validate_exam(id: &str, e: &Exam) -> Result<(), ValidationError> {
    if e.title.trim().is_empty() {
        return Err(form_error(id, "an exam needs a title"));
    }
    if e.closes_at <= e.opens_at || e.time_limit_s == 0 {
        return Err(form_error(
            id,
            "an exam must close after it opens and have a time limit",
        ));
    }
    validate_questions(id, &e.questions, true)
}

/// Score out of 100 for `correct` of `questions`.
pub fn exam_score(correct: u32, questions: u32) -> u32 {
    if questions == 0 {
        return 0;
    }
    (correct * 100 + questions / 2) / questions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for good in [
            "13812345678",
            "19900001111",
            "07318888666",
            "073188886666",
            "0108888666",
        ] {
            assert_eq!(check_phone(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", PhoneProblem::Empty),
            ("1381234567", PhoneProblem::Mobile),
            ("138123456789", PhoneProblem::Mobile),
            ("12812345678", PhoneProblem::Mobile),
            ("073188", PhoneProblem::Landline),
            ("0031888866661", PhoneProblem::Landline),
            ("88886666", PhoneProblem::Start),
            ("1381234567a", PhoneProblem::NotDigits),
        ] {
            assert_eq!(check_phone(bad), Err(why), "{bad}");
        }
        assert!(phone_complete("13812345678"));
        assert!(!phone_complete("0731888866"));
    }

    #[test]
    fn answers_must_fit_the_question() {
        let single = QuestionKind::Single {
            options: vec!["a".into(), "b".into()],
        };
        assert!(single.accepts(&[1]));
        assert!(!single.accepts(&[0, 1]));
        assert!(!single.accepts(&[2]));
        assert!(!single.accepts(&[]));
        let multi = QuestionKind::Multiple {
            options: vec!["a".into(), "b".into(), "c".into()],
        };
        assert!(multi.accepts(&[0, 2]));
        assert!(!multi.accepts(&[0, 0]));
        assert!(!multi.accepts(&[]));
        assert!(QuestionKind::Rating.accepts(&[4]));
        assert!(!QuestionKind::Rating.accepts(&[5]));
        assert!(QuestionKind::TrueFalse.accepts(&[1]));
        assert_eq!(exam_score(7, 10), 70);
        assert_eq!(exam_score(2, 3), 67);
        assert_eq!(exam_score(0, 0), 0);
    }
}
