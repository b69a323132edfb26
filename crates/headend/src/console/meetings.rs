//! Console pages: meetings and roll-calls. The list of the account's
//! meetings with a form to schedule one, and a meeting's page with a
//! "roll-call now" button, the live view of the current roll-call
//! (refreshed by the script from `/live`) and the meeting's attendance.
//!
//! Scheduling and opening a roll-call are the same operations as the
//! admin API's (`Ops::schedule_meeting`, `Ops::open_rollcall`), so the
//! checks and the push to the boxes are the same. One meeting's page is in
//! [`meeting`].

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use model::{AttendanceStatus, MeetingKind, DEFAULT_WINDOW_SECS};

use super::csrf::form_pairs;
use super::{blocking, layout, urlencode, when, Nav, Notice, PageResult, Staff};
use crate::api::AppState;
use crate::db::{Branch, Meeting, NewMeeting, Permission, PlannedRollCall};
use headend_ops::meetings::Reach;

mod meeting;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/meetings", get(list).post(create))
        .route("/console/meetings/{id}", get(meeting::detail))
        .route("/console/meetings/{id}/rollcall", post(meeting::rollcall))
        .route("/console/meetings/{id}/live", get(meeting::live))
}

/// The list shows meetings starting this long before and after now.
const LIST_SPAN_SECS: i64 = 60 * 86_400;

const KINDS: [MeetingKind; 6] = [
    MeetingKind::MembersAssembly,
    MeetingKind::BranchCommittee,
    MeetingKind::PartyGroup,
    MeetingKind::PartyLesson,
    MeetingKind::Training,
    MeetingKind::VideoConference,
];

/// The form value of a kind (its JSON name).
fn kind_value(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::MembersAssembly => "members_assembly",
        MeetingKind::BranchCommittee => "branch_committee",
        MeetingKind::PartyGroup => "party_group",
        MeetingKind::PartyLesson => "party_lesson",
        MeetingKind::Training => "training",
        MeetingKind::VideoConference => "video_conference",
    }
}

fn status_label(s: AttendanceStatus) -> &'static str {
    match s {
        AttendanceStatus::Present => "已签到",
        AttendanceStatus::Late => "迟到",
        AttendanceStatus::Flagged => "存疑",
        AttendanceStatus::Absent => "未到",
    }
}

fn status_class(s: AttendanceStatus) -> &'static str {
    match s {
        AttendanceStatus::Present => "present",
        AttendanceStatus::Late => "late",
        AttendanceStatus::Flagged => "flagged",
        AttendanceStatus::Absent => "absent",
    }
}

/// Not yet, on now, or over, as (label, class).
fn phase(m: &Meeting, now: i64) -> (&'static str, &'static str) {
    if now < m.starts_at {
        ("未开始", "m-upcoming")
    } else if now < m.ends_at {
        ("进行中", "m-running")
    } else {
        ("已结束", "m-over")
    }
}

/// `HH:MM:SS` China time of server milliseconds.
fn clock(ms: i64) -> String {
    let s = (ms.div_euclid(1000) + 8 * 3600).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

fn meeting_href(id: &str) -> String {
    format!("/console/meetings/{}", urlencode(id))
}

/// Branch names of a meeting, the first few and how many more.
fn branch_summary(m: &Meeting, names: &HashMap<String, String>) -> String {
    let shown: Vec<&str> = m
        .branches
        .iter()
        .take(3)
        .map(|b| names.get(b).map(String::as_str).unwrap_or(b))
        .collect();
    let mut out = shown.join("、");
    if m.branches.len() > 3 {
        out.push_str(&format!(" 等 {} 个支部", m.branches.len()));
    }
    out
}

// ---- the list and the schedule form ----

/// What the list page shows.
struct ListData {
    /// Server time (unix seconds) the list was read at.
    now: i64,
    meetings: Vec<Meeting>,
    /// Branch id to name, for the branches of `mine`: every branch of a
    /// listed meeting is one of them.
    names: HashMap<String, String>,
    /// Branches inside the account's region, for the form.
    mine: Vec<Branch>,
}

async fn load_list(state: &AppState, staff: &Staff) -> Result<ListData, super::PageError> {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    blocking(move || {
        let now = ops.now();
        let (from, to) = (now - LIST_SPAN_SECS, now + LIST_SPAN_SECS);
        let meetings = ops.meetings(&caller, from, to, Reach::Wholly)?;
        let mine = ops.branches_within(&caller)?;
        let names = mine
            .iter()
            .map(|b| (b.id.clone(), b.name.clone()))
            .collect();
        Ok(ListData {
            now,
            meetings,
            names,
            mine,
        })
    })
    .await
}

/// The schedule form as typed.
#[derive(Debug, Default)]
struct Draft {
    title: String,
    kind: String,
    branches: Vec<String>,
    starts: String,
    ends: String,
    live_item: String,
    rollcall_after: String,
    rollcall_random: String,
}

/// Field name and message, in form order.
type Errors = Vec<(&'static str, &'static str)>;

fn error_for(errors: &Errors, field: &str) -> Option<&'static str> {
    errors.iter().find(|(f, _)| *f == field).map(|(_, e)| *e)
}

fn parse_draft(body: &[u8]) -> Draft {
    let mut d = Draft::default();
    for (k, v) in form_pairs(body) {
        match k.as_str() {
            "title" => d.title = v,
            "kind" => d.kind = v,
            "branch" => d.branches.push(v),
            "starts" => d.starts = v,
            "ends" => d.ends = v,
            "live_item" => d.live_item = v,
            "rollcall_after" => d.rollcall_after = v,
            "rollcall_random" => d.rollcall_random = v,
            _ => {}
        }
    }
    d
}

/// Minutes as typed: empty is `None`, not a whole number is `Err`.
fn minutes(s: &str) -> Result<Option<u32>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<u32>().map(Some).map_err(|_| ())
}

fn validate(d: &Draft) -> Result<NewMeeting, Errors> {
    let mut errors: Errors = Vec::new();
    let title = d.title.trim();
    if title.is_empty() {
        errors.push(("title", "请填写会议名称。"));
    } else if title.chars().count() > 100 {
        errors.push(("title", "会议名称太长，请不超过 100 个字。"));
    }
    let kind = KINDS.into_iter().find(|k| kind_value(*k) == d.kind);
    if kind.is_none() {
        errors.push(("kind", "请选择会议类型。"));
    }
    if d.branches.is_empty() {
        errors.push(("branches", "请至少选择一个参会支部。"));
    }
    let starts = super::parse_local(&d.starts);
    if starts.is_none() {
        errors.push(("starts", "请填写开始时间（年-月-日 时:分）。"));
    }
    let ends = super::parse_local(&d.ends);
    match (starts, ends) {
        (_, None) => errors.push(("ends", "请填写结束时间（年-月-日 时:分）。")),
        (Some(s), Some(e)) if e <= s => errors.push(("ends", "结束时间要晚于开始时间。")),
        _ => {}
    }
    let live_item = d.live_item.trim();
    if live_item.chars().any(char::is_whitespace) || live_item.len() > 200 {
        errors.push(("live_item", "直播编号不能有空格，请从内容页复制。"));
    }
    let length_min = match (starts, ends) {
        (Some(s), Some(e)) if e > s => Some((e - s) / 60),
        _ => None,
    };
    let after = minutes(&d.rollcall_after);
    let random = minutes(&d.rollcall_random);
    match (after, length_min) {
        (Err(()), _) => errors.push(("rollcall_after", "请填写整数分钟，如 30；不点名就留空。")),
        (Ok(Some(a)), Some(len)) if i64::from(a) >= len => {
            errors.push(("rollcall_after", "点名时间要在会议结束之前。"))
        }
        _ => {}
    }
    match (random, after) {
        (Err(()), _) => errors.push(("rollcall_random", "请填写整数分钟，如 5；不需要就留空。")),
        (Ok(Some(r)), _) if r > 60 => errors.push(("rollcall_random", "最多推迟 60 分钟。")),
        (Ok(Some(r)), Ok(Some(a))) if length_min.is_some_and(|len| i64::from(a + r) >= len) => {
            errors.push(("rollcall_random", "推迟后点名时间要在会议结束之前。"))
        }
        _ => {}
    }
    let (Some(kind), Some(starts_at), Some(ends_at), true) =
        (kind, starts, ends, errors.is_empty())
    else {
        return Err(errors);
    };
    let rollcalls = match after {
        Ok(Some(a)) => vec![PlannedRollCall {
            after_start_secs: a * 60,
            random_secs: random.ok().flatten().unwrap_or(0) * 60,
            window_secs: DEFAULT_WINDOW_SECS,
        }],
        _ => Vec::new(),
    };
    Ok(NewMeeting {
        kind,
        title: title.to_string(),
        branches: d.branches.clone(),
        starts_at,
        ends_at,
        live_item: (!live_item.is_empty()).then(|| live_item.to_string()),
        rollcalls,
    })
}

/// A label, the input (built by `input` with its invalid flag and error
/// id), and the error under it.
fn field(id: &str, label: &str, errors: &Errors, input: impl Fn(bool, &str) -> Markup) -> Markup {
    let error = error_for(errors, id);
    let error_id = format!("{id}-error");
    html! {
        div.field {
            label for=(id) { (label) }
            (input(error.is_some(), &error_id))
            span.field-error id=(error_id) { @if let Some(e) = error { (e) } }
        }
    }
}

fn schedule_form(staff: &Staff, mine: &[Branch], d: &Draft, errors: &Errors) -> Markup {
    let branch_error = error_for(errors, "branches");
    html! {
        section.card aria-labelledby="schedule-h" {
            h2 #schedule-h { "安排会议" }
            @if !errors.is_empty() {
                p.errors role="alert" { "有 " (errors.len()) " 处需要修改，见下方红字。" }
            }
            form method="post" action="/console/meetings" {
                (layout::csrf_field(staff))
                (field("title", "会议名称", errors, |bad, err| html! {
                    input #title type="text" name="title" value=(d.title) required
                        aria-invalid=(bad) aria-describedby=(err);
                }))
                (field("kind", "会议类型", errors, |bad, err| html! {
                    select #kind name="kind" aria-invalid=(bad) aria-describedby=(err) {
                        @for k in KINDS {
                            option value=(kind_value(k)) selected[d.kind == kind_value(k)] { (k.label()) }
                        }
                    }
                }))
                fieldset.field.checks aria-describedby="branches-error" {
                    legend { "参会支部" }
                    @if mine.is_empty() { p.muted { "您的管理范围内还没有支部。" } }
                    @for b in mine {
                        @let id = format!("branch-{}", b.id);
                        div {
                            input type="checkbox" id=(id) name="branch" value=(b.id)
                                checked[d.branches.contains(&b.id)]
                                aria-invalid=(branch_error.is_some());
                            " "
                            label for=(id) { (b.name) }
                        }
                    }
                    span.field-error #branches-error { @if let Some(e) = branch_error { (e) } }
                }
                (field("starts", "开始时间", errors, |bad, err| html! {
                    input #starts type="datetime-local" name="starts" value=(d.starts) required
                        aria-invalid=(bad) aria-describedby=(err);
                }))
                (field("ends", "结束时间", errors, |bad, err| html! {
                    input #ends type="datetime-local" name="ends" value=(d.ends) required
                        aria-invalid=(bad) aria-describedby=(err);
                }))
                (field("live_item", "直播编号（可不填）", errors, |bad, err| html! {
                    input #live_item type="text" name="live_item" value=(d.live_item)
                        aria-invalid=(bad) aria-describedby=(err);
                }))
                p.hint { "填了直播编号，签到时机顶盒要正在播放这场直播才算到会。" }
                (field("rollcall_after", "计划点名：开始后多少分钟（可不填）", errors, |bad, err| html! {
                    input #rollcall_after type="number" name="rollcall_after" min="0" inputmode="numeric"
                        value=(d.rollcall_after) aria-invalid=(bad) aria-describedby=(err);
                }))
                (field("rollcall_random", "再随机推迟最多几分钟（可不填）", errors, |bad, err| html! {
                    input #rollcall_random type="number" name="rollcall_random" min="0" max="60"
                        inputmode="numeric" value=(d.rollcall_random)
                        aria-invalid=(bad) aria-describedby=(err);
                }))
                p.hint { "随机推迟让党员无法提前知道点名时间。也可以开会时在会议页“现在点名”。" }
                div.actions { button type="submit" { "安排会议" } }
            }
        }
    }
}

fn list_page(
    staff: &Staff,
    data: &ListData,
    notice: &Option<String>,
    draft: &Draft,
    errors: &Errors,
) -> Markup {
    let now = data.now;
    html! {
        (layout::notice(notice))
        p.hint { "前后 60 天内、参会支部都在您管理范围内的会议。" }
        @if data.meetings.is_empty() {
            p.muted { "这段时间没有会议。" }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "会议" } th scope="col" { "类型" } th scope="col" { "时间" }
                    th scope="col" { "状态" } th scope="col" { "参会支部" } th scope="col" { "点名" }
                } }
                tbody {
                    @for m in &data.meetings {
                        @let (label, class) = phase(m, now);
                        @let opened = m.rollcalls.iter().filter(|r| r.opened_at_ms.is_some()).count();
                        tr {
                            td { a href=(meeting_href(&m.id)) { (m.title) } }
                            td { (m.kind.label()) }
                            td { (when(m.starts_at)) " 至 " (when(m.ends_at)) }
                            td { span class={ "badge " (class) } { (label) } }
                            td { (branch_summary(m, &data.names)) }
                            td { "已点名 " (opened) " 次"
                                @if m.rollcalls.len() > opened { "，计划 " (m.rollcalls.len() - opened) " 次" } }
                        }
                    }
                }
            }
        }
        @if staff.role().allows(Permission::Operate) {
            (schedule_form(staff, &data.mine, draft, errors))
        }
    }
}

async fn list(
    staff: Staff,
    State(state): State<AppState>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let data = load_list(&state, &staff).await?;
    let body = list_page(&staff, &data, &notice.ok, &Draft::default(), &Vec::new());
    Ok(super::page(&staff, Nav::Meetings, "会议点名", body))
}

async fn create(staff: Staff, State(state): State<AppState>, body: Bytes) -> PageResult {
    staff.caller.require_role(Permission::Operate)?;
    let draft = parse_draft(&body);
    match validate(&draft) {
        Ok(new) => {
            let (ops, caller) = (state.ops.clone(), staff.caller.clone());
            let m = blocking(move || Ok(ops.schedule_meeting(&caller, &new)?)).await?;
            Ok(super::see_other(&meeting_href(&m.id), "已安排会议"))
        }
        Err(errors) => {
            let data = load_list(&state, &staff).await?;
            let body = list_page(&staff, &data, &None, &draft, &errors);
            let page = super::page(&staff, Nav::Meetings, "会议点名", body);
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            title: "支部党员大会".into(),
            kind: "members_assembly".into(),
            branches: vec!["b-1".into()],
            starts: "2026-12-01T19:00".into(),
            ends: "2026-12-01T21:00".into(),
            ..Draft::default()
        }
    }

    #[test]
    fn a_good_form_becomes_a_meeting() {
        let mut d = draft();
        d.rollcall_after = "30".into();
        d.rollcall_random = "5".into();
        let m = validate(&d).expect("valid");
        assert_eq!(m.kind, MeetingKind::MembersAssembly);
        assert_eq!(m.ends_at - m.starts_at, 7200);
        assert_eq!(m.rollcalls[0].after_start_secs, 1800);
        assert_eq!(m.rollcalls[0].random_secs, 300);
        assert_eq!(m.live_item, None);
    }

    #[test]
    fn errors_name_their_fields() {
        let mut d = draft();
        d.title = "  ".into();
        d.ends = "2026-12-01T18:00".into();
        d.rollcall_after = "abc".into();
        let fields: Vec<_> = validate(&d)
            .expect_err("invalid")
            .iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(fields, ["title", "ends", "rollcall_after"]);
        let mut d = draft();
        d.rollcall_after = "120".into();
        assert_eq!(validate(&d).expect_err("invalid")[0].0, "rollcall_after");
    }

    #[test]
    fn form_values_of_kinds_parse_as_the_api_does() {
        for k in KINDS {
            let v = serde_json::Value::String(kind_value(k).into());
            assert_eq!(serde_json::from_value::<MeetingKind>(v).ok(), Some(k));
        }
        assert_eq!(clock(0), "08:00:00");
    }
}
