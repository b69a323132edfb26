//! The fleet's HTTP side: box heartbeats and command acknowledgements,
//! and for staff installer codes, the device list, commands, revocation
//! and release. The rules are the operations' (`headend_ops::fleet`); the
//! console's device pages call the same ones.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::{AreaCode, CommandAck, CommandKind, Heartbeat};
use serde::Deserialize;

use crate::api::boxes::BoxToken;
use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/provision", post(crate::api::provision::provision))
        .route("/api/v1/devices/{device}/heartbeat", post(heartbeat))
        .route("/api/v1/devices/{device}/commands/{id}/ack", post(ack))
        .route("/api/v1/admin/installer-codes", post(issue_code))
        .route("/api/v1/admin/devices", get(devices))
        .route(
            "/api/v1/admin/devices/{device}/commands",
            get(commands).post(send_command),
        )
        .route("/api/v1/admin/devices/{device}/revoke", post(revoke))
        .route("/api/v1/admin/devices/{device}/release", post(release))
}

async fn heartbeat(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
    Json(beat): Json<Heartbeat>,
) -> Result<Response, ApiError> {
    let hub = state.hub.clone();
    blocking(move || {
        state.ops.heartbeat(&device, token.bearer(), &beat)?;
        hub.seen(&device);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn ack(
    State(state): State<AppState>,
    token: BoxToken,
    Path((device, id)): Path<(String, u64)>,
    Json(ack): Json<CommandAck>,
) -> Result<Response, ApiError> {
    blocking(move || Ok(state.ops.ack_command(&device, token.bearer(), id, &ack)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct CodeRequest {
    region: AreaCode,
    /// How long the code is valid; a day unless given.
    #[serde(default = "one_day")]
    valid_hours: i64,
}

fn one_day() -> i64 {
    24
}

async fn issue_code(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CodeRequest>,
) -> Result<Response, ApiError> {
    let code = blocking(move || {
        Ok(state
            .ops
            .issue_installer_code(&caller, &body.region, body.valid_hours)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(code)).into_response())
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    region: AreaCode,
}

async fn devices(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RegionQuery>,
) -> Result<Response, ApiError> {
    let list = blocking(move || Ok(state.ops.devices(&caller, &q.region)?)).await?;
    Ok(Json(list).into_response())
}

/// The boxes under `region` with online status (for the console's
/// overview). Blocking.
pub(crate) fn devices_with_status(
    state: &AppState,
    caller: &Caller,
    region: &AreaCode,
) -> Result<Vec<crate::db::DeviceRow>, ApiError> {
    Ok(state.ops.devices(caller, region)?)
}

async fn commands(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let list = blocking(move || Ok(state.ops.device_commands(&caller, &device)?)).await?;
    Ok(Json(list).into_response())
}

async fn send_command(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(kind): Json<CommandKind>,
) -> Result<Response, ApiError> {
    headend_ops::fleet::check_command(&kind)?;
    let command = blocking(move || {
        let allow = &state.options.headend_url_allow_list;
        Ok(state.ops.send_command(&caller, &device, &kind, allow)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(command)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReasonBody {
    reason: String,
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Response, ApiError> {
    headend_ops::fleet::check_reason(&body.reason, "revoked")?;
    blocking(move || Ok(state.ops.revoke_box(&caller, &device, &body.reason)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Response, ApiError> {
    blocking(move || Ok(state.ops.release_box(&caller, &device, &body.reason)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
