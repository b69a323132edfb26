//! Importing a spreadsheet as a disclosure draft
//! (`POST /api/v1/admin/import`): the query names the disclosure, the body
//! is the file; the operation ([`headend_ops::import`]) reads it. A file
//! with problems is answered with every problem by sheet and cell, and
//! nothing is stored.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use headend_ops::import::ImportRequest;

use crate::api::{ApiError, AppState};
use crate::auth::Caller;

/// Largest file accepted (a county-wide list with remarks stays well under).
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/import", post(import))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportRequest>,
    body: Bytes,
) -> Result<Response, ApiError> {
    match state
        .ops
        .import_disclosure(&caller, q, Vec::from(body))
        .await?
    {
        Ok(draft) => Ok((StatusCode::CREATED, Json(draft)).into_response()),
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            Ok((
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({
                    "code": "import_problems",
                    "message": format!("{} problem(s) in the file; nothing was imported", problems.len()),
                    "problems": problems,
                    "lines": lines,
                })),
            )
                .into_response())
        }
    }
}
