//! What boxes call besides the feed: the push channel and its polling
//! fallback, submissions from the outbox, playback heartbeats, and their
//! household and attendance record.
//!
//! A box names itself with `device` (its id, set when it is installed).
//! Device tokens arrive with provisioning; until then the id is the
//! identity, and an unknown id is refused.

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

async fn events(
    State(state): State<AppState>,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
    state.hub.seen(&q.device);
    let db = state.db.clone();
    let (household, backlog) = blocking(move || {
        let household = known_household(&db, &q.device)?;
        let backlog = push::open_prompts(&db, &household)?;
        Ok((household, backlog))
    })
    .await?;
    Ok(push::stream(state.hub.clone(), state.db.clone(), household, backlog).into_response())
}

async fn open_rollcalls(
    State(state): State<AppState>,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
    state.hub.seen(&q.device);
    let prompts = blocking(move || {
        let household = known_household(&state.db, &q.device)?;
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
    Json(batch): Json<SubmissionBatch>,
) -> Result<Response, ApiError> {
    if batch.items.len() > MAX_SUBMISSIONS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_SUBMISSIONS} items per request"
        )));
    }
    let device = batch.device.clone();
    state.hub.seen(&device);
    match state.ingest.submit(batch).await? {
        Some(receipts) => Ok(Json(receipts).into_response()),
        None => Err(unknown_box(&device)),
    }
}

async fn playback(
    State(state): State<AppState>,
    Json(beat): Json<PlaybackBeat>,
) -> Result<Response, ApiError> {
    state.hub.seen(&beat.device);
    blocking(move || {
        known_household(&state.db, &beat.device)?;
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
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    state.hub.seen(&device);
    let h = blocking(move || known_household(&state.db, &device)).await?;
    Ok(Json(h).into_response())
}

async fn attendance(
    State(state): State<AppState>,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    let db: Arc<Db> = state.db.clone();
    let records = blocking(move || {
        known_household(&db, &device)?;
        Ok(db.household_attendance(&device)?)
    })
    .await?;
    Ok(Json(records).into_response())
}

async fn services(
    State(state): State<AppState>,
    Path(device): Path<String>,
) -> Result<Response, ApiError> {
    state.hub.seen(&device);
    let record = blocking(move || {
        known_household(&state.db, &device)?;
        Ok(state.db.household_services(&device)?)
    })
    .await?;
    Ok(Json(record).into_response())
}
