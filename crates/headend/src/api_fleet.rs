//! The fleet: provisioning boxes with installer codes, heartbeats, the
//! device list, commands over the push channel, revoking and releasing a
//! box.
//!
//! Box side (`/api/v1/provision` in `api_provision`,
//! `/api/v1/devices/{device}/…`): a new box trades an installer code for
//! its id and token, then names who lives in the household. Staff side
//! (`/api/v1/admin/…`): installer codes for a region, the device list with
//! online status, commands, revocation and release, all limited to the
//! account's region. A command that would point a box at another headend
//! (`set_config headend_url`) is sent only to an address on the operator's
//! allow-list: a box follows it blindly, so it is the one command that
//! could hand the box to an impostor.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::{AreaCode, CommandAck, CommandKind, DeviceCommand, Heartbeat, ONLINE_WINDOW_SECS};
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
        .route("/api/v1/provision", post(crate::api_provision::provision))
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
    let list = blocking(move || devices_with_status(&state, &caller, &q.region)).await?;
    Ok(Json(list).into_response())
}

/// The boxes under `region` with online status (a push connection, or a
/// heartbeat within the window) and when each was last seen. Blocking.
pub(crate) fn devices_with_status(
    state: &AppState,
    caller: &Caller,
    region: &AreaCode,
) -> Result<Vec<crate::db::DeviceRow>, ApiError> {
    caller.require(&state.db, Permission::View, &Target::Region(region))?;
    let mut list = state.db.devices(region)?;
    let now = now_ms();
    let online = state.hub.online(&state.db, now, ONLINE_WINDOW_SECS * 1000);
    let seen = state.hub.last_seen(&state.db);
    for d in &mut list {
        d.last_seen = seen.get(&d.device).copied().or(d.heartbeat_at);
        d.online = d.revoked_at.is_none()
            && (online.contains(&d.device)
                || d.heartbeat_at
                    .is_some_and(|at| now - at <= ONLINE_WINDOW_SECS * 1000));
    }
    Ok(list)
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
    check_command(&kind)?;
    let command = blocking(move || queue_command(&state, &caller, &device, &kind)).await?;
    Ok((StatusCode::CREATED, Json(command)).into_response())
}

/// A command's own rules, before anyone is asked: a message is 1 to
/// [`MAX_MESSAGE_CHARS`] characters, a setting has a key.
pub(crate) fn check_command(kind: &CommandKind) -> Result<(), ApiError> {
    match kind {
        CommandKind::ShowMessage { text }
            if text.trim().is_empty() || text.chars().count() > MAX_MESSAGE_CHARS =>
        {
            Err(ApiError::BadRequest(format!(
                "a message is 1 to {MAX_MESSAGE_CHARS} characters"
            )))
        }
        CommandKind::SetConfig { key, .. } if key.trim().is_empty() => {
            Err(ApiError::BadRequest("set_config needs a key".into()))
        }
        _ => Ok(()),
    }
}

/// Checks `kind`, queues it for `device` if the caller may operate the
/// box, and pushes it now if the box is connected (the API and the
/// console both send through here). Blocking: call it inside [`blocking`].
pub(crate) fn queue_command(
    state: &AppState,
    caller: &Caller,
    device: &str,
    kind: &CommandKind,
) -> Result<DeviceCommand, ApiError> {
    check_command(kind)?;
    caller.require(&state.db, Permission::Operate, &Target::Household(device))?;
    let new_headend = new_headend_url(kind);
    if let Some(url) = new_headend {
        if !state
            .options
            .headend_url_allow_list
            .iter()
            .any(|a| a == url)
        {
            return Err(ApiError::from(caller.refuse(format!(
                "headend_url {url:?} is not on this headend's allow list (headend_url_allow_list); a box is pointed only at a listed headend"
            ))));
        }
    }
    let command =
        state
            .db
            .queue_command(device, kind, &caller.account.username, now_ms() / 1000)?;
    let after = match new_headend {
        Some(url) => format!("command {}: headend_url={url}", command.id),
        None => format!("command {}", command.id),
    };
    caller.note_change(None, Some(after));
    state.hub.publish(HubEvent::Command {
        device: device.to_string(),
        command: command.clone(),
    });
    Ok(command)
}

/// The headend address a command would point the box at, if any. The key
/// is matched loosely so that no spelling slips past the allow-list.
fn new_headend_url(kind: &CommandKind) -> Option<&str> {
    match kind {
        CommandKind::SetConfig { key, value } if key.trim().eq_ignore_ascii_case("headend_url") => {
            Some(value.as_str())
        }
        _ => None,
    }
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
    check_reason(&body.reason)?;
    blocking(move || revoke_box(&state, &caller, &device, &body.reason)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Longest reason for revoking or releasing a box.
pub const MAX_REASON_CHARS: usize = 200;

/// A revocation says why, briefly.
pub(crate) fn check_reason(reason: &str) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "say why the box is revoked (reason)".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a reason is at most {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(())
}

/// Cuts `device` off (its token is refused from now on) if the caller may
/// operate it, and closes its push connection (the API and the console
/// both revoke through here). Blocking: call it inside [`blocking`].
pub(crate) fn revoke_box(
    state: &AppState,
    caller: &Caller,
    device: &str,
    reason: &str,
) -> Result<(), ApiError> {
    check_reason(reason)?;
    caller.require(&state.db, Permission::Operate, &Target::Household(device))?;
    state
        .db
        .revoke_device(device, reason.trim(), now_ms() / 1000)?;
    state.hub.publish(HubEvent::Revoked {
        device: device.to_string(),
    });
    Ok(())
}

async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(device): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Response, ApiError> {
    blocking(move || release_box(&state, &caller, &device, &body.reason)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Lets an installer code for any region bind `device` during the next
/// [`crate::db::RELEASE_SECS`] (a box moving to another town), if the
/// caller may operate it (the API and the console both release through
/// here). Blocking: call it inside [`blocking`].
pub(crate) fn release_box(
    state: &AppState,
    caller: &Caller,
    device: &str,
    reason: &str,
) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "say why the box is released (reason)".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a reason is at most {MAX_REASON_CHARS} characters"
        )));
    }
    caller.require(&state.db, Permission::Operate, &Target::Household(device))?;
    state
        .db
        .release_device(device, &caller.account.username, now_ms() / 1000)?;
    caller.note_change(None, Some(format!("released {device}: {}", reason.trim())));
    Ok(())
}
