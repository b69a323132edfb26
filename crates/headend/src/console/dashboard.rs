//! The dashboard for the account's region: boxes online, disclosures
//! published this quarter, villages on the supervision list, attendance of
//! recent meetings, open and overdue service requests; with charts and the
//! numbers beside them.

use axum::extract::{Query, State};
use maud::html;

use super::{blocking, charts, layout, when, Nav, Notice, PageResult, Staff};
use crate::api::AppState;
use crate::db::{Permission, RequestFilter, Target, REQUIRED_MODULES};
use crate::push::now_ms;

/// What the dashboard shows, gathered in one blocking call.
struct Figures {
    boxes: usize,
    online: usize,
    published: u32,
    uploads: Vec<(String, f64)>,
    lagging: Vec<(String, Vec<String>)>,
    attendance: Vec<(String, f64)>,
    open_requests: usize,
    overdue_requests: usize,
    since: i64,
}

/// Unix seconds of the first day of the current quarter, China time.
fn quarter_start(now: i64) -> i64 {
    let local = super::when(now);
    let year: i64 = local[0..4].parse().unwrap_or(1970);
    let month: i64 = local[5..7].parse().unwrap_or(1);
    let first = (month - 1) / 3 * 3 + 1;
    super::parse_local(&format!("{year:04}-{first:02}-01T00:00")).unwrap_or(0)
}

fn figures(state: &AppState, staff: &Staff) -> Result<Figures, crate::api::ApiError> {
    let db = &state.db;
    let region = staff.region().clone();
    staff
        .caller
        .require(db, Permission::View, &Target::Region(&region))?;
    let now = now_ms() / 1000;
    let since = quarter_start(now);
    let devices = crate::api::fleet::devices_with_status(state, &staff.caller, &region)?;
    let live: Vec<_> = devices.iter().filter(|d| d.revoked_at.is_none()).collect();
    let (uploads, _) = db.upload_counts(&region, since, now + 1)?;
    let mut per_village: Vec<(String, f64)> = Vec::new();
    for u in &uploads {
        match per_village
            .iter_mut()
            .find(|(name, _)| *name == u.village_name)
        {
            Some(entry) => entry.1 += f64::from(u.count),
            None => per_village.push((u.village_name.clone(), f64::from(u.count))),
        }
    }
    per_village.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    per_village.truncate(12);
    let modules: Vec<String> = REQUIRED_MODULES.iter().map(|m| m.to_string()).collect();
    let lagging = db
        .lagging_villages(&region, &modules, since)?
        .into_iter()
        .map(|l| (l.village_name, l.missing))
        .collect();
    // Attendance of the last eight meetings with a roll-call, oldest first.
    let mut meetings: Vec<_> = db
        .meetings(now - 180 * 86_400, now + 1)?
        .into_iter()
        .filter(|m| m.rollcalls.iter().any(|r| r.opened_at_ms.is_some()))
        .filter(|m| {
            staff
                .caller
                .require(db, Permission::View, &Target::Meeting(&m.id))
                .is_ok()
        })
        .collect();
    meetings.sort_by_key(|m| m.starts_at);
    let recent = meetings.len().saturating_sub(8);
    let mut attendance = Vec::new();
    for m in &meetings[recent..] {
        let rows = db.meeting_attendance(&m.id)?;
        let came = rows
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    model::AttendanceStatus::Present | model::AttendanceStatus::Late
                )
            })
            .count();
        let rate = if rows.is_empty() {
            0.0
        } else {
            came as f64 * 100.0 / rows.len() as f64
        };
        attendance.push((when(m.starts_at)[5..10].to_string(), rate));
    }
    let requests = db.service_requests(&region, &RequestFilter::default(), now)?;
    let open = requests
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                model::RequestStatus::Submitted | model::RequestStatus::Accepted
            )
        })
        .count();
    Ok(Figures {
        boxes: live.len(),
        online: live.iter().filter(|d| d.online).count(),
        published: uploads.iter().map(|u| u.count).sum(),
        uploads: per_village,
        lagging,
        attendance,
        open_requests: open,
        overdue_requests: requests.iter().filter(|r| r.overdue).count(),
        since,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_start_on_their_first_day() {
        let t = super::super::parse_local("2026-11-29T19:00").expect("valid");
        assert_eq!(when(quarter_start(t)), "2026-10-01 00:00");
        let t = super::super::parse_local("2026-03-31T23:59").expect("valid");
        assert_eq!(when(quarter_start(t)), "2026-01-01 00:00");
    }
}
