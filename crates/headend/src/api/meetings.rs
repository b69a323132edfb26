//! Admin endpoints for branches, members, households, meetings, roll-calls
//! and attendance (`/api/v1/admin/…`).
//!
//! Changes need an operator (or admin) account, reads any account; the
//! branch, member, household or meeting must lie in the account's region.
//! Those rules are the operations' (`headend_ops::meetings`,
//! `headend_ops::households`); here requests are parsed and answers
//! rendered as JSON or CSV.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{AreaCode, DEFAULT_WINDOW_SECS};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::csv_export::CsvExport;
use crate::db::{AttendanceRate, AttendanceRow, Branch, NewMeeting, NewMember, Permission};
use headend_ops::meetings::Reach;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/branches/{id}", put(put_branch))
        .route("/api/v1/admin/members/{id}", put(put_member))
        .route(
            "/api/v1/admin/members/{id}/attendance",
            get(member_attendance),
        )
        .route("/api/v1/admin/households/{device}", put(put_household))
        .route(
            "/api/v1/admin/meetings",
            post(create_meeting).get(list_meetings),
        )
        .route("/api/v1/admin/meetings/{id}", get(meeting))
        .route(
            "/api/v1/admin/meetings/{id}/rollcalls",
            post(start_rollcall),
        )
        .route(
            "/api/v1/admin/meetings/{id}/attendance",
            get(meeting_attendance),
        )
        .route(
            "/api/v1/admin/rollcalls/{id}/attendance",
            get(rollcall_attendance),
        )
        .route("/api/v1/admin/attendance/rates", get(rates))
        .route("/api/v1/admin/push", get(push_stats))
}

#[derive(Debug, Deserialize)]
struct BranchBody {
    name: String,
    region: AreaCode,
}

async fn put_branch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<BranchBody>,
) -> Result<Response, ApiError> {
    let branch = Branch {
        id,
        name: body.name,
        region: body.region,
    };
    let out = branch.clone();
    blocking(move || Ok(state.ops.put_branch(&caller, &branch)?)).await?;
    Ok(Json(out).into_response())
}

#[derive(Debug, Deserialize)]
struct MemberBody {
    name: String,
    branch: String,
}

async fn put_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<MemberBody>,
) -> Result<Response, ApiError> {
    let member = NewMember {
        id,
        name: body.name,
        branch: body.branch,
    };
    let out = member.clone();
    blocking(move || Ok(state.ops.put_member(&caller, &member)?)).await?;
    Ok(Json(out).into_response())
}

#[derive(Debug, Deserialize)]
struct HouseholdBody {
    village: AreaCode,
    members: Vec<String>,
}

async fn put_household(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(body): Json<HouseholdBody>,
) -> Result<Response, ApiError> {
    let h = blocking(move || {
        Ok(state
            .ops
            .set_household(&caller, &device, &body.village, &body.members)?)
    })
    .await?;
    Ok(Json(h).into_response())
}

async fn create_meeting(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewMeeting>,
) -> Result<Response, ApiError> {
    let meeting = blocking(move || Ok(state.ops.schedule_meeting(&caller, &new)?)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(meeting)).into_response())
}

#[derive(Debug, Deserialize)]
struct Period {
    #[serde(default)]
    from: i64,
    #[serde(default = "far_future")]
    to: i64,
}

/// The default end of a period: no end.
pub(crate) fn far_future() -> i64 {
    i64::MAX / 2
}

/// Meetings with at least one branch inside the caller's region.
async fn list_meetings(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<Period>,
) -> Result<Response, ApiError> {
    let list =
        blocking(move || Ok(state.ops.meetings(&caller, p.from, p.to, Reach::Partly)?)).await?;
    Ok(Json(list).into_response())
}

async fn meeting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let m = blocking(move || Ok(state.ops.meeting(&caller, &id)?)).await?;
    Ok(Json(m).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StartBody {
    window_secs: Option<u32>,
}

/// Opens a roll-call now and pushes it to the invited boxes.
async fn start_rollcall(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<StartBody>>,
) -> Result<Response, ApiError> {
    let window = body
        .and_then(|Json(b)| b.window_secs)
        .unwrap_or(DEFAULT_WINDOW_SECS);
    let open = blocking(move || Ok(state.ops.open_rollcall(&caller, &id, window)?)).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({
            "id": open.id,
            "meeting": open.meeting,
            "opened_at_ms": open.opened_at_ms,
            "window_secs": open.window_secs,
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct Format {
    format: Option<String>,
}

fn wants_csv(f: &Format) -> bool {
    f.format.as_deref() == Some("csv")
}

/// A meeting's or roll-call's attendance as CSV.
fn attendance_csv(name: &str, rows: &[AttendanceRow]) -> Result<Response, ApiError> {
    let mut csv = CsvExport::new(&[
        "成员编号",
        "姓名",
        "支部",
        "状态",
        "签到用时(秒)",
        "签到时间(毫秒)",
        "机顶盒",
    ])?;
    for r in rows {
        csv.row([
            r.member.clone(),
            r.name.clone(),
            r.branch_name.clone(),
            r.status.label().to_string(),
            r.elapsed_ms
                .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                .unwrap_or_default(),
            r.received_at_ms.map(|t| t.to_string()).unwrap_or_default(),
            r.device.clone().unwrap_or_default(),
        ])?;
    }
    csv.into_response(name)
}

fn rates_csv(csv: &mut CsvExport, kind: &str, rates: &[AttendanceRate]) -> Result<(), ApiError> {
    for r in rates {
        csv.row([
            kind.to_string(),
            r.id.clone(),
            r.name.clone(),
            r.invited.to_string(),
            r.present.to_string(),
            r.late.to_string(),
            r.flagged.to_string(),
            r.absent.to_string(),
            format!("{:.3}", r.rate),
        ])?;
    }
    Ok(())
}

/// Attendance with the late and absent lists split out, as admins read it.
fn attendance_json(rows: Vec<AttendanceRow>) -> serde_json::Value {
    use model::AttendanceStatus as S;
    let names = |s: S| -> Vec<&str> {
        rows.iter()
            .filter(|r| r.status == s)
            .map(|r| r.name.as_str())
            .collect()
    };
    serde_json::json!({
        "invited": rows.len(),
        "present": names(S::Present).len(),
        "late": names(S::Late),
        "flagged": names(S::Flagged),
        "absent": names(S::Absent),
        "members": rows,
    })
}

async fn meeting_attendance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<Format>,
) -> Result<Response, ApiError> {
    let name = id.clone();
    let rows = blocking(move || Ok(state.ops.meeting_attendance(&caller, &id)?)).await?;
    if wants_csv(&f) {
        return attendance_csv(&format!("attendance-{name}"), &rows);
    }
    Ok(Json(attendance_json(rows)).into_response())
}

async fn rollcall_attendance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(f): Query<Format>,
) -> Result<Response, ApiError> {
    let name = id.clone();
    let rows = blocking(move || Ok(state.ops.rollcall_attendance(&caller, &id)?)).await?;
    if wants_csv(&f) {
        return attendance_csv(&format!("rollcall-{name}"), &rows);
    }
    Ok(Json(attendance_json(rows)).into_response())
}

async fn member_attendance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = blocking(move || Ok(state.ops.member_attendance(&caller, &id)?)).await?;
    Ok(Json(record).into_response())
}

#[derive(Debug, Deserialize)]
struct RatesQuery {
    region: AreaCode,
    #[serde(default)]
    from: i64,
    #[serde(default = "far_future")]
    to: i64,
    format: Option<String>,
}

async fn rates(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RatesQuery>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let (branches, villages) = blocking(move || {
        Ok(state
            .ops
            .attendance_rates(&caller, &q.region, q.from, q.to)?)
    })
    .await?;
    if csv {
        let mut csv = CsvExport::new(&[
            "类别",
            "编号",
            "名称",
            "应到",
            "已到",
            "迟到",
            "待核实",
            "缺席",
            "出勤率",
        ])?;
        rates_csv(&mut csv, "支部", &branches)?;
        rates_csv(&mut csv, "村", &villages)?;
        return csv.into_response("attendance-rates");
    }
    Ok(Json(serde_json::json!({ "branches": branches, "villages": villages })).into_response())
}

async fn push_stats(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require_role(Permission::View)?;
    Ok(Json(state.hub.stats()).into_response())
}
