//! What boxes call besides the feed: the push channel and its polling
//! fallback, submissions from the outbox, playback heartbeats, and their
//! household and attendance record.
//!
//! A box names itself with `device` (its id, given at provisioning) and
//! proves it with its device token as `Authorization: Bearer`; a missing,
//! wrong or revoked token is refused with `device_token` or
//! `device_revoked`, which tells the box to be provisioned again. The
//! checks and records are the operations' (`headend_ops::boxes`); here the
//! requests are parsed, presence is noted on the push hub and the push
//! stream is held.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::{PlaybackBeat, SubmissionBatch};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::push;

/// Most items accepted in one `POST /api/v1/submissions`.
pub use headend_ops::boxes::MAX_SUBMISSIONS;

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
    let ops = state.ops.clone();
    let checked = token.clone();
    let household = blocking(move || Ok(ops.box_household(&q.device, checked.bearer())?)).await?;
    state.hub.seen(&household.device);
    let max = state.options.limits.max_push_per_device.max(1);
    let Some(held) = state.hub.hold(&household.device, max) else {
        tracing::warn!(device = %household.device, max, "push stream refused: too many");
        return Ok(crate::api::provision::too_many(
            model::refusal::TOO_MANY_STREAMS,
            format!("this box already holds {max} push streams; close one or wait"),
            crate::throttle::RetryAfter(STREAMS_RETRY_SECS),
        ));
    };
    let ops = state.ops.clone();
    let h = household.clone();
    // Commands not yet acknowledged go again on every connection.
    let backlog = blocking(move || Ok(ops.push_backlog(&h)?)).await?;
    let token = token.0.unwrap_or_default();
    Ok(push::stream(state.ops.clone(), household, backlog, listener, held, token).into_response())
}

async fn open_rollcalls(
    State(state): State<AppState>,
    token: BoxToken,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
    let prompts = blocking(move || {
        let prompts = state.ops.box_open_prompts(&q.device, token.bearer())?;
        state.hub.seen(&q.device);
        Ok(prompts)
    })
    .await?;
    Ok(Json(prompts).into_response())
}

async fn submissions(
    State(state): State<AppState>,
    token: BoxToken,
    Json(batch): Json<SubmissionBatch>,
) -> Result<Response, ApiError> {
    let ops = state.ops.clone();
    let batch = blocking(move || {
        ops.check_submission(token.bearer(), &batch)?;
        Ok(batch)
    })
    .await?;
    state.hub.seen(&batch.device);
    let receipts = state.ops.submit(batch).await?;
    Ok(Json(receipts).into_response())
}

async fn playback(
    State(state): State<AppState>,
    token: BoxToken,
    Json(beat): Json<PlaybackBeat>,
) -> Result<Response, ApiError> {
    blocking(move || {
        state.ops.playback_beat(token.bearer(), &beat)?;
        state.hub.seen(&beat.device);
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
        let h = state.ops.box_household(&device, token.bearer())?;
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
    let records = blocking(move || Ok(state.ops.box_attendance(&device, token.bearer())?)).await?;
    Ok(Json(records).into_response())
}

async fn services(
    State(state): State<AppState>,
    token: BoxToken,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let record = blocking(move || {
        let record = state.ops.box_services(&device, token.bearer())?;
        state.hub.seen(&device);
        Ok(record)
    })
    .await?;
    Ok(Json(record).into_response())
}
