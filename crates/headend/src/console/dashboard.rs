//! The dashboard for the account's region: boxes online, disclosures
//! published this quarter, villages on the supervision list, attendance of
//! recent meetings, open and overdue service requests; with charts and the
//! numbers beside them.

use axum::extract::{Query, State};
use maud::html;

use super::{blocking, charts, layout, when, Nav, Notice, PageResult, Staff};
use crate::api::AppState;

/// What the dashboard shows: the operations' figures and the boxes.
struct Figures {
    boxes: usize,
    online: usize,
    published: u32,
    uploads: Vec<(String, f64)>,
    lagging: Vec<(String, Vec<String>)>,
    /// (date of the meeting, attendance in percent), oldest first.
    attendance: Vec<(String, f64)>,
    open_requests: usize,
    overdue_requests: usize,
    since: i64,
}

fn figures(state: &AppState, staff: &Staff) -> Result<Figures, crate::api::ApiError> {
    let f = state.ops.dashboard(&staff.caller)?;
    let devices = state.ops.devices(&staff.caller, staff.region())?;
    let live: Vec<_> = devices.iter().filter(|d| d.revoked_at.is_none()).collect();
    Ok(Figures {
        boxes: live.len(),
        online: live.iter().filter(|d| d.online).count(),
        published: f.published,
        uploads: f.uploads,
        lagging: f.lagging,
        attendance: f
            .attendance
            .into_iter()
            .map(|(starts_at, rate)| (when(starts_at)[5..10].to_string(), rate))
            .collect(),
        open_requests: f.open_requests,
        overdue_requests: f.overdue_requests,
        since: f.since,
    })
}

pub(crate) async fn page(
    staff: Staff,
    State(state): State<AppState>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let who = staff.clone();
    let f = blocking(move || figures(&state, &who)).await?;
    let latest = f.attendance.last().map(|(_, r)| *r);
    let body = html! {
        (layout::notice(&notice.ok))
        p.muted { "统计范围：" (staff.region_name) "（" (staff.region()) "）及下属单位；本季度自 " (when(f.since)[..10]) " 起。" }
        section.tiles aria-label="主要数字" {
            div.tile { div.n #boxes-online { (f.online) " / " (f.boxes) } div.l { "机顶盒在线 / 已开通" } }
            div.tile { div.n #published { (f.published) } div.l { "本季度发布的公开内容（条）" } }
            div.tile.warn[!f.lagging.is_empty()] { div.n #lagging { (f.lagging.len()) } div.l { "督办名单上的村" } }
            div.tile { div.n #attendance {
                @match latest { Some(r) => { (format!("{r:.0}")) "%" } None => { "—" } }
            } div.l { "最近一次会议到会率" } }
            div.tile { div.n #open-requests { (f.open_requests) } div.l { "待办服务工单" } }
            div.tile.warn[f.overdue_requests > 0] { div.n #overdue-requests { (f.overdue_requests) } div.l { "超过24小时未回复" } }
        }
        div.grid2 {
            section.card {
                h2 { "本季度各村发布数" }
                (charts::bars("本季度各村发布的公开内容条数", &f.uploads, "条"))
            }
            section.card {
                h2 { "最近会议到会率" }
                (charts::trend("最近会议的到会率（签到和迟到占应到人数）", &f.attendance))
            }
        }
        section.card {
            h2 { "督办名单" }
            @if f.lagging.is_empty() {
                p { "本季度各村的必报栏目都已更新。" }
            } @else {
                p.hint { "这些村本季度还没有发布以下必报栏目：" }
                table {
                    thead { tr { th { "村" } th { "未更新的栏目" } } }
                    tbody {
                        @for (village, missing) in &f.lagging {
                            tr { td { (village) } td { (missing.join("、")) } }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&staff, Nav::Dashboard, "概览", body))
}
