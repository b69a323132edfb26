//! One meeting's page: its facts, the "roll-call now" button, the live
//! view of the latest roll-call (the `/live` fragment the script reloads
//! every 2 s) and the whole meeting's attendance with its CSV export.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use maud::{html, Markup};
use model::{AttendanceStatus, DEFAULT_WINDOW_SECS};

use super::{clock, meeting_href, phase, status_class, status_label};
use crate::api::AppState;
use crate::console::csrf::form_pairs;
use crate::console::{
    blocking, layout, urlencode, when, Nav, Notice, PageError, PageResult, Staff,
};
use crate::db::{AttendanceRow, Permission};
use headend_ops::meetings::MeetingOverview;

/// A meeting as its page shows it, read at server time `now_ms`.
struct MeetingView {
    overview: MeetingOverview,
    now_ms: i64,
}

async fn load_meeting(
    state: &AppState,
    staff: &Staff,
    id: String,
    with_report: bool,
) -> Result<MeetingView, PageError> {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    blocking(move || {
        Ok(MeetingView {
            overview: ops.meeting_overview(&caller, &id, with_report)?,
            now_ms: ops.now_ms(),
        })
    })
    .await
}

fn counts(rows: &[AttendanceRow]) -> Markup {
    let n = |s: AttendanceStatus| rows.iter().filter(|r| r.status == s).count();
    html! {
        div.tiles {
            div.tile { div.n { (rows.len()) } div.l { "应到" } }
            @for s in [AttendanceStatus::Present, AttendanceStatus::Late, AttendanceStatus::Flagged, AttendanceStatus::Absent] {
                div class={ "tile " (status_class(s)) } { div.n { (n(s)) } div.l { (status_label(s)) } }
            }
        }
    }
}

fn member_table(rows: &[AttendanceRow], caption: &str) -> Markup {
    html! {
        table.members {
            caption.muted { (caption) }
            thead { tr {
                th scope="col" { "姓名" } th scope="col" { "支部" } th scope="col" { "状态" }
                th scope="col" { "签到时间" } th.num scope="col" { "用时（秒）" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td { (r.name) }
                        td { (r.branch_name) }
                        td { span class={ "badge " (status_class(r.status)) } { (status_label(r.status)) } }
                        td { @if let Some(t) = r.received_at_ms { (clock(t)) } @else { "—" } }
                        td.num { @if let Some(e) = r.elapsed_ms { (format!("{:.1}", e as f64 / 1000.0)) } }
                    }
                }
            }
        }
    }
}

/// The live view's content (also the `/live` fragment).
fn live_view(view: &MeetingView) -> Markup {
    let now = view.now_ms;
    let overview = &view.overview;
    html! {
        @match overview.current() {
            None => {
                p.muted { "这场会议还没有点名。"
                    @if !overview.meeting.rollcalls.is_empty() { "已计划的点名到时间会自动发起。" } }
            }
            Some((n, rc)) => {
                @let opened = rc.opened_at_ms.unwrap_or_default();
                @let running = now <= opened + i64::from(rc.window_secs) * 1000;
                p.live {
                    "第 " (n) " 次点名，" (clock(opened)) " 开始，签到时限 " (rc.window_secs / 60) " 分 "
                    (rc.window_secs % 60) " 秒，"
                    @if running { strong { "正在签到" } } @else { "时限已过（之后签到算迟到）" }
                    "。更新于 " (clock(now)) "。"
                }
                (counts(&overview.live))
                @if overview.meeting.live_item.is_some() {
                    p.hint { "存疑：签到时机顶盒没有在播放这场会议的直播，需要核实。" }
                }
                (member_table(&overview.live, "本次点名各党员签到情况"))
            }
        }
    }
}

pub(super) async fn detail(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let view = load_meeting(&state, &staff, id, true).await?;
    let m = &view.overview.meeting;
    let href = meeting_href(&m.id);
    let (phase_label, phase_class) = phase(m, view.now_ms / 1000);
    let opened = m
        .rollcalls
        .iter()
        .filter(|r| r.opened_at_ms.is_some())
        .count();
    let branches = m
        .branches
        .iter()
        .map(|b| view.overview.branch_names.get(b).unwrap_or(b).as_str())
        .collect::<Vec<_>>()
        .join("、");
    let csv = format!(
        "/api/v1/admin/meetings/{}/attendance?format=csv",
        urlencode(&m.id)
    );
    let body = html! {
        (layout::notice(&notice.ok))
        p { a href="/console/meetings" { "← 返回会议列表" } }
        section.card {
            dl.facts {
                dt { "类型" } dd { (m.kind.label()) }
                dt { "时间" } dd { (when(m.starts_at)) " 至 " (when(m.ends_at)) " "
                    span class={ "badge " (phase_class) } { (phase_label) } }
                dt { "参会支部" } dd { (branches) }
                dt { "直播" } dd { @if let Some(item) = &m.live_item { (item) } @else { "不直播" } }
                dt { "点名" } dd { "已点名 " (opened) " 次"
                    @if m.rollcalls.len() > opened { "，还有 " (m.rollcalls.len() - opened) " 次计划中的点名" } }
            }
        }
        @if staff.role().allows(Permission::Operate) {
            form.actions method="post" action={ (href) "/rollcall" } {
                (layout::csrf_field(&staff))
                label for="window" { "签到时限" }
                select #window name="window_minutes" {
                    @for min in [1u32, 2, 3, 5, 10] {
                        option value=(min) selected[min * 60 == DEFAULT_WINDOW_SECS] { (min) " 分钟" }
                    }
                }
                button type="submit" { "现在点名" }
                span.hint { "参会支部党员家里的机顶盒会马上弹出签到。" }
            }
        }
        h2 { "当前点名" }
        div.live-box data-live={ (href) "/live" } { (live_view(&view)) }
        h2 { "整场会议出勤" }
        @match (&view.overview.report, opened) {
            (Some(rows), 1..) => {
                p.hint { "每位党员取本场各次点名中最差的一次。" }
                (counts(rows))
                p { a.button.secondary href=(csv) download { "导出出勤表（CSV）" } }
                (member_table(rows, "整场会议各党员出勤"))
            }
            _ => { p.muted { "还没有点名，暂无出勤记录。" } }
        }
    };
    Ok(crate::console::page(&staff, Nav::Meetings, &m.title, body))
}

pub(super) async fn live(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let view = load_meeting(&state, &staff, id, false).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], live_view(&view)).into_response())
}

pub(super) async fn rollcall(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let window = form_pairs(&body)
        .into_iter()
        .find(|(k, _)| k == "window_minutes")
        .and_then(|(_, v)| v.trim().parse::<u32>().ok())
        .filter(|m| (1..=60).contains(m))
        .map_or(DEFAULT_WINDOW_SECS, |m| m * 60);
    let href = meeting_href(&id);
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    blocking(move || Ok(ops.open_rollcall(&caller, &id, window)?)).await?;
    Ok(crate::console::see_other(
        &href,
        "已开始点名，机顶盒正在弹出签到",
    ))
}
