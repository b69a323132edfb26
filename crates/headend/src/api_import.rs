//! Importing a spreadsheet as a disclosure draft
//! (`POST /api/v1/admin/import`): each sheet becomes a table; any problem
//! anywhere in the file is answered with every problem by sheet and cell,
//! and nothing is stored.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use model::{AreaCode, Block, Content, Disclosure, DisclosureCategory};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::db::{Permission, Target};
use crate::push::now_ms;

/// Largest file accepted (a county-wide list with remarks stays well under).
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// Files parsed at once.
const PARSERS: usize = 2;
static PARSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PARSERS);

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/import", post(import))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportQuery {
    pub scope: AreaCode,
    pub category: String,
    pub module: String,
    pub period: String,
    /// Defaults to the first sheet's title row.
    pub title: Option<String>,
    /// `xlsx` or `csv`.
    pub format: String,
    /// The file's name, used to name a CSV's "sheet" in problems.
    pub name: Option<String>,
}

async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    match import_draft(state, caller, q, Vec::from(body)).await? {
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

/// Reads a workbook or CSV into a disclosure draft for `q.scope` (the API
/// and the console both import through here). `Ok(Err(problems))`: the
/// file has problems, named by sheet and cell, and nothing was stored.
pub(crate) async fn import_draft(
    state: AppState,
    caller: Caller,
    q: ImportQuery,
    body: Vec<u8>,
) -> Result<Result<crate::db::Draft, Vec<sheets::Problem>>, ApiError> {
    let category = DisclosureCategory::parse(&q.category).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "category is party, village or finance, not {:?}",
            q.category
        ))
    })?;
    let scope = q.scope.clone();
    let db = state.db.clone();
    let allowed = caller.clone();
    blocking(move || Ok(allowed.require(&db, Permission::EditContent, &Target::Region(&scope))?))
        .await?;
    // Parsing a large workbook is CPU work: off the async threads, and at
    // most PARSERS at once, so the memory a burst of imports takes is
    // bounded by PARSERS times what one file may cost.
    let _parser = PARSING
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let format = q.format.clone();
    let name = q.name.clone().unwrap_or_else(|| "CSV".into());
    let read = tokio::task::spawn_blocking(move || match format.as_str() {
        "xlsx" => Ok(sheets::read_xlsx(&body)),
        "csv" => Ok(sheets::read_csv(&name, &body)),
        other => Err(ApiError::BadRequest(format!(
            "format is xlsx or csv, not {other:?}"
        ))),
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let tables = match read {
        Ok(t) => t,
        Err(sheets::SheetsError::Problems(problems)) => return Ok(Err(problems)),
        Err(e) => return Err(ApiError::BadRequest(e.to_string())),
    };
    let title = q
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| tables.iter().find_map(|t| t.title.clone()))
        .ok_or_else(|| {
            ApiError::BadRequest("give the disclosure a title: the file has no title row".into())
        })?;
    let content = Content::Disclosure(Disclosure {
        category,
        module: q.module.clone(),
        title,
        period: q.period.clone(),
        body: tables.into_iter().map(|t| Block::Table(t.table)).collect(),
        corrections: Vec::new(),
    });
    let draft = blocking(move || {
        let d = state.db.create_draft(
            &caller.account.username,
            &q.scope,
            &content,
            None,
            now_ms() / 1000,
        )?;
        caller.note_change(None, Some(format!("draft {}", d.id)));
        Ok(d)
    })
    .await?;
    Ok(Ok(draft))
}
