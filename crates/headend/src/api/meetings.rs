//! Admin endpoints for branches, members, households, meetings, roll-calls
//! and attendance (`/api/v1/admin/…`).
//!
//! Changes need an operator (or admin) account, reads any account; the
//! branch, member, household or meeting must lie in the account's region.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{AreaCode, DEFAULT_WINDOW_SECS};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::csv_export::CsvExport;
use crate::db::{
    AttendanceRate, AttendanceRow, Branch, Db, Meeting, NewMeeting, NewMember, OpenRollCall,
    Permission, Target,
};
use crate::push::{now_ms, HubEvent};

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
    blocking(move || {
        let db = &state.db;
        caller.require(db, Permission::Operate, &Target::Region(&branch.region))?;
        // Moving a branch needs its present region too.
        match db.target_regions(&Target::Branch(&branch.id)) {
            Ok(_) => caller.require(db, Permission::Operate, &Target::Branch(&branch.id))?,
            Err(crate::DbError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(db.upsert_branch(&branch)?)
    })
    .await?;
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
    blocking(move || {
        let db = &state.db;
        caller.require(db, Permission::Operate, &Target::Branch(&member.branch))?;
        match db.target_regions(&Target::Member(&member.id)) {
            Ok(_) => caller.require(db, Permission::Operate, &Target::Member(&member.id))?,
            Err(crate::DbError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(db.upsert_member(&member)?)
    })
    .await?;
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
        let db = &state.db;
        caller.require(db, Permission::Operate, &Target::Region(&body.village))?;
        match db.target_regions(&Target::Household(&device)) {
            Ok(_) => caller.require(db, Permission::Operate, &Target::Household(&device))?,
            Err(crate::DbError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        for member in &body.members {
            caller.require(db, Permission::Operate, &Target::Member(member))?;
        }
        state
            .db
            .set_household(&device, &body.village, &body.members)?;
        Ok(state.db.household(&device)?)
    })
    .await?;
    Ok(Json(h).into_response())
}

/// Schedules a meeting for `caller` (the API's and the console's one code
/// path): an operating role, and every invited branch in its region.
/// Blocking: call it inside [`blocking`].
pub(crate) fn schedule_meeting(
    db: &Db,
    caller: &Caller,
    new: &NewMeeting,
) -> Result<Meeting, ApiError> {
    // Branch by branch first, so that a refusal is audited in the region
    // of the branch; the role alone where no branch is invited.
    for branch in &new.branches {
        caller.require(db, Permission::Operate, &Target::Branch(branch))?;
    }
    caller.require_role(Permission::Operate)?;
    Ok(db.create_meeting(new, now_ms() / 1000)?)
}

async fn create_meeting(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewMeeting>,
) -> Result<Response, ApiError> {
    let meeting = blocking(move || schedule_meeting(&state.db, &caller, &new)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(meeting)).into_response())
}

#[derive(Debug, Deserialize)]
struct Period {
    #[serde(default)]
    from: i64,
    #[serde(default = "far_future")]
    to: i64,
}

pub(crate) fn far_future() -> i64 {
    i64::MAX / 2
}

/// How much of a meeting (the regions of its branches) lies inside an
/// account's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// No branch (or the meeting is unknown).
    Outside,
    /// Some branches but not all.
    Partly,
    /// Every branch: what [`Caller::require`] asks of a meeting.
    Wholly,
}

/// Where `meeting` lies for `caller`. Blocking.
pub(crate) fn reach(db: &Db, caller: &Caller, meeting: &str) -> Reach {
    let Ok(regions) = db.target_regions(&Target::Meeting(meeting)) else {
        return Reach::Outside;
    };
    let inside = regions.iter().filter(|r| caller.sees(db, r)).count();
    match inside {
        0 => Reach::Outside,
        n if n == regions.len() => Reach::Wholly,
        _ => Reach::Partly,
    }
}

/// Meetings with at least one branch inside the caller's region.
async fn list_meetings(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<Period>,
) -> Result<Response, ApiError> {
    let list = blocking(move || {
        let db = &state.db;
        let mut list = db.meetings(p.from, p.to)?;
        list.retain(|m| reach(db, &caller, &m.id) != Reach::Outside);
        Ok(list)
    })
    .await?;
    Ok(Json(list).into_response())
}

async fn meeting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let m = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Meeting(&id))?;
        state
            .db
            .meeting(&id)?
            .ok_or_else(|| ApiError::NotFound(format!("unknown meeting {id}")))
    })
    .await?;
    Ok(Json(m).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StartBody {
    window_secs: Option<u32>,
}

/// Opens a roll-call in `meeting` now (server time) for `caller`, who must
/// operate every branch of it, and pushes it to the invited boxes. The
/// API's and the console's one code path.
pub(crate) async fn open_rollcall_now(
    state: &AppState,
    caller: Caller,
    meeting: String,
    window_secs: u32,
) -> Result<Arc<OpenRollCall>, ApiError> {
    let db = state.db.clone();
    let open = blocking(move || {
        caller.require(&db, Permission::Operate, &Target::Meeting(&meeting))?;
        Ok(db.start_rollcall(&meeting, window_secs, now_ms())?)
    })
    .await?;
    let open = Arc::new(open);
    state.hub.publish(HubEvent::RollCall(open.clone()));
    Ok(open)
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
    let open = open_rollcall_now(&state, caller, id, window).await?;
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
    let rows = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Meeting(&id))?;
        Ok(state.db.meeting_attendance(&id)?)
    })
    .await?;
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
    let rows = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::RollCall(&id))?;
        Ok(state.db.rollcall_attendance(&id)?)
    })
    .await?;
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
    let record = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Member(&id))?;
        Ok(state.db.member_attendance(&id)?)
    })
    .await?;
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
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        Ok(state.db.attendance_rates(&q.region, q.from, q.to)?)
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
