//! The content lifecycle over HTTP: drafts written by editors, reviewed
//! from the level above, published now or later; corrections with a
//! reason; retractions that keep the record (`/api/v1/admin/content`,
//! `/api/v1/admin/items/{id}/…`, `/api/v1/admin/settings/{county}`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{AreaCode, Content};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::db::DraftStatus;
use headend_ops::content::DraftFilter;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/content", post(create_draft).get(list_drafts))
        .route(
            "/api/v1/admin/content/{id}",
            get(one_draft).put(update_draft),
        )
        .route("/api/v1/admin/content/{id}/submit", post(submit))
        .route("/api/v1/admin/content/{id}/approve", post(approve))
        .route("/api/v1/admin/content/{id}/return", post(return_draft))
        .route("/api/v1/admin/items/{id}/correct", post(correct))
        .route("/api/v1/admin/items/{id}/retract", post(retract))
        .route("/api/v1/admin/items/{id}/history", get(history))
        .route("/api/v1/admin/settings/{county}", put(put_settings))
}

#[derive(Debug, Deserialize)]
struct NewDraft {
    scope: AreaCode,
    content: Content,
    /// Publish under this id (a new item); generated when absent.
    item_id: Option<String>,
}

async fn create_draft(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewDraft>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        Ok(state
            .ops
            .create_draft(&caller, &new.scope, &new.content, new.item_id.as_deref())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    region: AreaCode,
    status: Option<String>,
}

async fn list_drafts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DraftStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status is one of draft, submitted, returned, scheduled, published, not {s:?}"
            ))
        })?),
    };
    let filter = DraftFilter {
        status,
        ..DraftFilter::default()
    };
    let list = blocking(move || Ok(state.ops.drafts(&caller, &q.region, &filter)?)).await?;
    Ok(Json(list).into_response())
}

async fn one_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (d, history) = blocking(move || Ok(state.ops.draft_with_history(&caller, id)?)).await?;
    Ok(Json(serde_json::json!({ "draft": d, "history": history })).into_response())
}

#[derive(Debug, Deserialize)]
struct ContentBody {
    content: Content,
}

async fn update_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ContentBody>,
) -> Result<Response, ApiError> {
    let d = blocking(move || Ok(state.ops.update_draft(&caller, id, &b.content)?)).await?;
    Ok(Json(d).into_response())
}

async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let d = blocking(move || Ok(state.ops.submit_draft(&caller, id)?)).await?;
    Ok(Json(d).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ApproveBody {
    /// Unix seconds; absent or past: publish now.
    publish_at: Option<i64>,
}

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // The body is optional: none (or `{}`) publishes now.
    let publish_at = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<ApproveBody>(&body)
            .map_err(|e| ApiError::BadRequest(format!("approve body: {e}")))?
            .publish_at
    };
    let (d, item) = blocking(move || Ok(state.ops.approve_draft(&caller, id, publish_at)?)).await?;
    Ok(Json(serde_json::json!({ "draft": d, "item": item })).into_response())
}

#[derive(Debug, Deserialize)]
struct ReturnBody {
    comment: String,
}

async fn return_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ReturnBody>,
) -> Result<Response, ApiError> {
    let d = blocking(move || Ok(state.ops.return_draft(&caller, id, &b.comment)?)).await?;
    Ok(Json(d).into_response())
}

#[derive(Debug, Deserialize)]
struct CorrectBody {
    content: Content,
    reason: String,
}

async fn correct(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<CorrectBody>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        Ok(state
            .ops
            .correct_item(&caller, &id, &b.content, &b.reason)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReasonBody {
    reason: String,
}

async fn retract(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> Result<Response, ApiError> {
    blocking(move || Ok(state.ops.retract_item(&caller, &id, &b.reason)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let h = blocking(move || Ok(state.ops.item_history(&caller, &id)?)).await?;
    Ok(Json(h).into_response())
}

#[derive(Debug, Deserialize)]
struct SettingsBody {
    same_level_review: bool,
}

async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(county): Path<AreaCode>,
    Json(b): Json<SettingsBody>,
) -> Result<Response, ApiError> {
    blocking(move || {
        Ok(state
            .ops
            .set_same_level_review(&caller, &county, b.same_level_review)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
