//! What boxes call besides the feed: the push channel and its polling
//! fallback, submissions from the outbox, playback heartbeats, and their
//! household and attendance record.
//!
//! A box names itself with `device` (its id, given at provisioning) and
//! proves it with its device token as `Authorization: Bearer`; a missing,
//! wrong or revoked token is refused with `device_token` or
//! `device_revoked`, which tells the box to be provisioned again.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::{Household, PlaybackBeat, SubmissionBatch};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::db::Db;
use crate::push::{self, now_ms};

/// Most items accepted in one `POST /api/v1/submissions`.
pub const MAX_SUBMISSIONS: usize = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", get(events))
        .route("/api/v1/rollcalls/open", get(open_rollcalls))
        .route("/api/v1/submissions", post(submissions))
        .route("/api/v1/playback", post(playback))
        .route("/api/v1/devices/{device}/household", get(household))
        .route("/api/v1/devices/{device}/attendance", get(attendance))
        .route("/api/v1/devices/{device}/services", get(services))
}

#[derive(Debug, Deserialize)]
struct DeviceQuery {
    device: String,
}

fn unknown_box(device: &str) -> ApiError {
    ApiError::NotFound(format!(
        "unknown box {device}; bind it to a household on the headend first"
    ))
}

fn known_household(db: &Db, device: &str) -> Result<Household, ApiError> {
    db.household(device)?.ok_or_else(|| unknown_box(device))
}

/// The device token a box sends (`Authorization: Bearer …`).
#[derive(Debug, Clone)]
pub(crate) struct BoxToken(Option<String>);

impl BoxToken {
    pub fn bearer(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for BoxToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(BoxToken(
            parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_string()),
        ))
    }
}

/// Checks the token for `device`. Blocking: call it inside [`blocking`].
pub(crate) fn authorize(db: &Db, device: &str, token: &BoxToken) -> Result<(), ApiError> {
    db.check_device(device, token.0.as_deref())?
        .map_err(ApiError::Device)
}

/// The household of a box whose token checks out.
fn known_box(db: &Db, device: &str, token: &BoxToken) -> Result<Household, ApiError> {
    authorize(db, device, token)?;
    known_household(db, device)
}

/// How long a box told it holds too many push streams should wait: about
/// two keep-alives, by when a connection it lost is noticed and freed.
const STREAMS_RETRY_SECS: u64 = 30;

async fn events(
    State(state): State<AppState>,
    token: BoxToken,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
    // Before the token check, so a revocation just after it still ends
    // this stream.
    let listener = state.hub.listen();
    let db = state.db.clone();
    let checked = token.clone();
    let household = blocking(move || known_box(&db, &q.device, &checked)).await?;
    state.hub.seen(&household.device);
    let max = state.options.limits.max_push_per_device.max(1);
    let Some(held) = state.hub.hold(&household.device, max) else {
        tracing::warn!(device = %household.device, max, "push stream refused: too many");
        return Ok(crate::api_provision::too_many(
            model::refusal::TOO_MANY_STREAMS,
            format!("this box already holds {max} push streams; close one or wait"),
            crate::throttle::RetryAfter(STREAMS_RETRY_SECS),
        ));
    };
    let db = state.db.clone();
    let h = household.clone();
    // Commands not yet acknowledged go again on every connection.
    let backlog = blocking(move || Ok(push::backlog(&db, &h)?)).await?;
    let token = token.0.unwrap_or_default();
    Ok(push::stream(state.db.clone(), household, backlog, listener, held, token).into_response())
}

async fn open_rollcalls(
    State(state): State<AppState>,
    token: BoxToken,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
    let prompts = blocking(move || {
        let household = known_box(&state.db, &q.device, &token)?;
        state.hub.seen(&q.device);
        let now = now_ms();
        Ok(state
            .db
            .open_rollcalls(now)?
            .iter()
            .filter_map(|open| open.prompt_for(&household.members, now))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(prompts).into_response())
}

async fn submissions(
    State(state): State<AppState>,
    token: BoxToken,
    Json(batch): Json<SubmissionBatch>,
) -> Result<Response, ApiError> {
    if batch.items.len() > MAX_SUBMISSIONS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_SUBMISSIONS} items per request"
        )));
    }
    let device = batch.device.clone();
    let db = state.db.clone();
    let named = device.clone();
    blocking(move || authorize(&db, &named, &token)).await?;
    state.hub.seen(&device);
    match state.ops.ingest.submit(batch).await? {
        Some(receipts) => Ok(Json(receipts).into_response()),
        None => Err(unknown_box(&device)),
    }
}

async fn playback(
    State(state): State<AppState>,
    token: BoxToken,
    Json(beat): Json<PlaybackBeat>,
) -> Result<Response, ApiError> {
    blocking(move || {
        known_box(&state.db, &beat.device, &token)?;
        state.hub.seen(&beat.device);
        state
            .db
            .playback_beat(&beat.device, beat.item.as_deref(), now_ms())?;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn household(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let h = blocking(move || {
        let h = known_box(&state.db, &device, &token)?;
        state.hub.seen(&device);
        Ok(h)
    })
    .await?;
    Ok(Json(h).into_response())
}

async fn attendance(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let db: Arc<Db> = state.db.clone();
    let records = blocking(move || {
        known_box(&db, &device, &token)?;
        Ok(db.household_attendance(&device)?)
    })
    .await?;
    Ok(Json(records).into_response())
}

async fn services(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let record = blocking(move || {
        known_box(&state.db, &device, &token)?;
        state.hub.seen(&device);
        Ok(state.db.household_services(&device)?)
    })
    .await?;
    Ok(Json(record).into_response())
}
