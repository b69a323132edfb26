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
use model::{
    Household, PlaybackBeat, SignIn, SubmissionAnswer, SubmissionBatch, SubmissionReceipt,
    SIGN_IN_KIND,
};
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
}

#[derive(Debug, Deserialize)]
struct DeviceQuery {
    device: String,
}

fn known_household(db: &Db, device: &str) -> Result<Household, ApiError> {
    db.household(device)?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown box {device}; bind it to a household on the headend first"
        ))
    })
}

async fn events(
    State(state): State<AppState>,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, ApiError> {
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

fn submit_one(
    db: &Db,
    device: &str,
    item: &model::Submission,
    now: i64,
) -> Result<SubmissionAnswer, ApiError> {
    if item.key.is_empty() || item.key.len() > 64 {
        return Ok(SubmissionAnswer::Rejected {
            reason: "key must be 1 to 64 characters".into(),
        });
    }
    match item.kind.as_str() {
        SIGN_IN_KIND => match serde_json::from_value::<SignIn>(item.payload.clone()) {
            Ok(signin) => Ok(db.sign_in(device, &item.key, &signin, now)?),
            Err(e) => Ok(db.reject_submission(
                device,
                &item.key,
                &item.kind,
                &format!("malformed sign-in: {e}"),
                now,
            )?),
        },
        other => Ok(db.reject_submission(
            device,
            &item.key,
            other,
            &format!("this headend does not take {other:?} submissions"),
            now,
        )?),
    }
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
    let receipts = blocking(move || {
        let db = &state.db;
        known_household(db, &batch.device)?;
        let now = now_ms();
        batch
            .items
            .iter()
            .map(|item| {
                Ok(SubmissionReceipt {
                    key: item.key.clone(),
                    answer: submit_one(db, &batch.device, item, now)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    Ok(Json(receipts).into_response())
}

async fn playback(
    State(state): State<AppState>,
    Json(beat): Json<PlaybackBeat>,
) -> Result<Response, ApiError> {
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
