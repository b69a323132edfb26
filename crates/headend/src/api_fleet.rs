//! The fleet: provisioning boxes with installer codes, heartbeats, the
//! device list, commands over the push channel, and revoking a box.
//!
//! Box side (`/api/v1/provision`, `/api/v1/devices/{device}/…`): a new box
//! trades an installer code for its id and token, then names who lives in
//! the household. Staff side (`/api/v1/admin/…`): installer codes for a
//! region, the device list with online status, commands and revocation,
//! all limited to the account's region.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{
    AreaCode, CommandAck, CommandKind, Heartbeat, HouseholdMembers, ProvisionRequest,
    ONLINE_WINDOW_SECS,
};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::api_box::{authorize, BoxToken};
use crate::auth::Caller;
use crate::db::{Permission, Target};
use crate::push::{now_ms, HubEvent};

/// Longest an installer code may be valid: a week.
pub const MAX_CODE_HOURS: i64 = 7 * 24;
/// Longest message a box is asked to show.
pub const MAX_MESSAGE_CHARS: usize = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/provision", post(provision))
        .route("/api/v1/devices/{device}/members", put(members))
        .route("/api/v1/devices/{device}/heartbeat", post(heartbeat))
        .route("/api/v1/devices/{device}/commands/{id}/ack", post(ack))
        .route("/api/v1/admin/installer-codes", post(issue_code))
        .route("/api/v1/admin/devices", get(devices))
        .route(
            "/api/v1/admin/devices/{device}/commands",
            get(commands).post(send_command),
        )
        .route("/api/v1/admin/devices/{device}/revoke", post(revoke))
}

async fn provision(
    State(state): State<AppState>,
    Json(request): Json<ProvisionRequest>,
) -> Result<Response, ApiError> {
    let answer = blocking(move || {
        Ok(state.db.provision(
            &request.village,
            request.code.trim(),
            request.device.as_deref(),
            now_ms() / 1000,
        )?)
    })
    .await?;
    match answer {
        Ok(provisioned) => {
            tracing::info!(device = %provisioned.device, village = %provisioned.village, "box provisioned");
            Ok((StatusCode::CREATED, Json(provisioned)).into_response())
        }
        Err(refusal) => Err(ApiError::Device(refusal)),
    }
}

async fn members(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
    Json(body): Json<HouseholdMembers>,
) -> Result<Response, ApiError> {
    let household = blocking(move || {
        let db = &state.db;
        authorize(db, &device, &token)?;
        let village = db.device_village(&device)?;
        let known = db.village_members(&village)?;
        if let Some(stranger) = body
            .members
            .iter()
            .find(|m| !known.iter().any(|k| &k.id == *m))
        {
            return Err(ApiError::BadRequest(format!(
                "member {stranger} is not in this box's village {village}"
            )));
        }
        db.set_household(&device, &village, &body.members)?;
        Ok(db.household(&device)?)
    })
    .await?;
    Ok(Json(household).into_response())
}

async fn heartbeat(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
    Json(beat): Json<Heartbeat>,
) -> Result<Response, ApiError> {
    let hub = state.hub.clone();
    blocking(move || {
        authorize(&state.db, &device, &token)?;
        state
            .db
            .record_heartbeat(&device, &beat.trimmed(), now_ms())?;
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
    blocking(move || {
        authorize(&state.db, &device, &token)?;
        if state.db.ack_command(&device, id, &ack, now_ms() / 1000)? {
            Ok(())
        } else {
            Err(ApiError::NotFound(format!(
                "no command {id} for box {device}"
            )))
        }
    })
    .await?;
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
    if !(1..=MAX_CODE_HOURS).contains(&body.valid_hours) {
        return Err(ApiError::BadRequest(format!(
            "valid_hours is 1 to {MAX_CODE_HOURS}"
        )));
    }
    let code = blocking(move || {
        caller.require(
            &state.db,
            Permission::Operate,
            &Target::Region(&body.region),
        )?;
        Ok(state.db.issue_installer_code(
            &body.region,
            &caller.account.username,
            now_ms() / 1000,
            body.valid_hours * 3600,
        )?)
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
    let hub = state.hub.clone();
    let list = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        let mut list = state.db.devices(&q.region)?;
        let now = now_ms();
        let online = hub.online(now, ONLINE_WINDOW_SECS * 1000);
        let seen = hub.last_seen();
        for d in &mut list {
            d.last_seen = seen.get(&d.device).copied().or(d.heartbeat_at);
            d.online = d.revoked_at.is_none()
                && (online.contains(&d.device)
                    || d.heartbeat_at
                        .is_some_and(|at| now - at <= ONLINE_WINDOW_SECS * 1000));
        }
        Ok(list)
    })
    .await?;
    Ok(Json(list).into_response())
}

async fn commands(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let list = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Household(&device))?;
        Ok(state.db.commands(&device)?)
    })
    .await?;
    Ok(Json(list).into_response())
}

async fn send_command(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(kind): Json<CommandKind>,
) -> Result<Response, ApiError> {
    match &kind {
        CommandKind::ShowMessage { text }
            if text.trim().is_empty() || text.chars().count() > MAX_MESSAGE_CHARS =>
        {
            return Err(ApiError::BadRequest(format!(
                "a message is 1 to {MAX_MESSAGE_CHARS} characters"
            )));
        }
        CommandKind::SetConfig { key, .. } if key.trim().is_empty() => {
            return Err(ApiError::BadRequest("set_config needs a key".into()));
        }
        _ => {}
    }
    let hub = state.hub.clone();
    let command = blocking(move || {
        caller.require(&state.db, Permission::Operate, &Target::Household(&device))?;
        let command =
            state
                .db
                .queue_command(&device, &kind, &caller.account.username, now_ms() / 1000)?;
        caller.note_change(None, Some(format!("command {}", command.id)));
        hub.publish(HubEvent::Command {
            device: device.clone(),
            command: command.clone(),
        });
        Ok(command)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(command)).into_response())
}

#[derive(Debug, Deserialize)]
struct RevokeBody {
    reason: String,
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(body): Json<RevokeBody>,
) -> Result<Response, ApiError> {
    if body.reason.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "say why the box is revoked (reason)".into(),
        ));
    }
    let hub = state.hub.clone();
    blocking(move || {
        caller.require(&state.db, Permission::Operate, &Target::Household(&device))?;
        state
            .db
            .revoke_device(&device, body.reason.trim(), now_ms() / 1000)?;
        hub.publish(HubEvent::Revoked { device });
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
