//! The HTTP API (v1). See `docs/API.md` for the contract. One module per
//! area; each handler parses the request, calls the operations
//! (`headend-ops`) and renders the answer.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use headend_ops::feed::FeedRead;
use model::{AreaCode, API_VERSION, API_VERSION_HEADER};
use serde::Deserialize;

pub(crate) mod accounts;
pub(crate) mod boxes;
pub(crate) mod content;
pub(crate) mod fleet;
pub(crate) mod households;
pub(crate) mod import;
pub(crate) mod meetings;
pub(crate) mod provision;
pub(crate) mod services;
pub(crate) mod stats;

use crate::db::{Db, DbError};
use crate::options::ServeOptions;
use crate::push::Hub;

/// Default number of changes per feed page.
pub const DEFAULT_FEED_PAGE: usize = 500;

/// The one error type handlers return. Internal details are logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error(
        "log in first: POST /api/v1/admin/login, then send the token as Authorization: Bearer"
    )]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("wrong user name or password")]
    WrongPassword,
    #[error("cursor is too old or unknown; fetch again from since=0")]
    StaleCursor,
    /// A box or an installer code was refused (see `model::refusal`).
    #[error("{}", .0.message())]
    Device(crate::db::Refusal),
    /// Too many attempts from here: `429` with `Retry-After`.
    #[error("too many failed attempts from this address; try again in {} seconds", .0 .0)]
    Throttled(headend_ops::throttle::RetryAfter),
    #[error("internal error")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::UnknownRegion(code) => ApiError::NotFound(format!("unknown region {code}")),
            DbError::NotFound(what) => ApiError::NotFound(format!("unknown {what}")),
            DbError::BadInput(why) => ApiError::BadRequest(why),
            e @ (DbError::Invalid(_)
            | DbError::ScopeChange { .. }
            | DbError::MissingImage { .. }
            | DbError::Image(_)) => ApiError::BadRequest(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<headend_ops::OpsError> for ApiError {
    fn from(e: headend_ops::OpsError) -> Self {
        use headend_ops::OpsError as O;
        match e {
            O::BadRequest(why) => ApiError::BadRequest(why),
            O::NotFound(what) => ApiError::NotFound(what),
            O::Unauthorized => ApiError::Unauthorized,
            O::Forbidden(why) => ApiError::Forbidden(why),
            O::WrongPassword => ApiError::WrongPassword,
            O::StaleCursor => ApiError::StaleCursor,
            O::Device(refusal) => ApiError::Device(refusal),
            O::Throttled(wait) => ApiError::Throttled(wait),
            O::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::WrongPassword => (StatusCode::UNAUTHORIZED, "wrong_password"),
            ApiError::StaleCursor => (StatusCode::CONFLICT, "stale_cursor"),
            ApiError::Device(refusal) => {
                let status = match refusal {
                    crate::db::Refusal::VillageUnknown => StatusCode::NOT_FOUND,
                    crate::db::Refusal::Revoked | crate::db::Refusal::BadToken => {
                        StatusCode::UNAUTHORIZED
                    }
                    _ => StatusCode::FORBIDDEN,
                };
                (status, refusal.code())
            }
            ApiError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let body = model::ApiError {
            code: code.to_string(),
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Throttled(wait) = &self {
            if let Ok(v) = HeaderValue::from_str(&wait.0.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub db: Arc<Db>,
    pub hub: Arc<Hub>,
    /// The domain operations (and their writer threads).
    pub ops: headend_ops::Ops,
    pub options: Arc<ServeOptions>,
}

/// The whole API as a router, so tests can drive it without a socket.
pub fn app(db: Arc<Db>) -> Router {
    app_with(db, Arc::new(Hub::new()), None)
}

/// The API plus `/media/…` served from `media_dir` (HLS for videos and
/// live), pushing to boxes through `hub`.
pub fn app_with(db: Arc<Db>, hub: Arc<Hub>, media_dir: Option<std::path::PathBuf>) -> Router {
    app_with_options(
        db,
        hub,
        ServeOptions {
            media_dir,
            ..ServeOptions::default()
        },
    )
}

/// The API as [`serve_with`](crate::serve_with) runs it: `options` name the
/// media directory, the trusted proxies and the limits.
pub fn app_with_options(db: Arc<Db>, hub: Arc<Hub>, options: ServeOptions) -> Router {
    let ops = headend_ops::Ops::new(db, hub.clone(), Arc::new(headend_ops::SystemClock));
    app_with_ops(ops, hub, options)
}

/// The API on `ops` (whose events reach boxes through `hub`), which
/// [`serve_with`](crate::serve_with) shares with the scheduler, so both run
/// the same operations and writer threads.
pub(crate) fn app_with_ops(ops: headend_ops::Ops, hub: Arc<Hub>, options: ServeOptions) -> Router {
    let media = Router::new()
        .route("/media/{*path}", get(crate::media::media))
        .with_state(options.media_dir.clone());
    let trusted = Arc::new(options.trusted_proxies.clone());
    let tls = options.tls.is_some();
    let state = AppState {
        db: ops.db.clone(),
        ops,
        hub,
        options: Arc::new(options),
    };
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/regions", get(regions))
        .route("/api/v1/regions/{code}/chain", get(region_chain))
        .route("/api/v1/feed", get(feed))
        .route("/api/v1/blobs/{sha256}", get(blob))
        .merge(crate::api::boxes::routes())
        .merge(crate::api::fleet::routes())
        .merge(crate::api::households::routes())
        .merge(crate::api::accounts::routes())
        .merge(crate::api::content::routes())
        .merge(crate::api::import::routes())
        .merge(crate::api::stats::routes())
        .merge(crate::api::meetings::routes())
        .merge(crate::api::services::routes())
        .merge(crate::console::routes(state.clone()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::audit,
        ))
        .layer(middleware::from_fn(api_version))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::body_limit::limit,
        ))
        .with_state(state)
        .merge(media)
        .layer(middleware::from_fn_with_state(tls, crate::https::mark))
        // Outermost: everything below sees the client address we believe.
        .layer(middleware::from_fn_with_state(
            trusted,
            crate::client_addr::record,
        ))
}

/// Refuses clients that speak another API version; tags every response.
async fn api_version(request: Request, next: Next) -> Response {
    if let Some(v) = request.headers().get(API_VERSION_HEADER) {
        if v.to_str().ok() != Some(API_VERSION.to_string().as_str()) {
            return ApiError::BadRequest(format!(
                "this headend speaks api version {API_VERSION}; update the box software"
            ))
            .into_response();
        }
    }
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(API_VERSION_HEADER, HeaderValue::from(API_VERSION));
    response
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

async fn health() -> &'static str {
    "ok"
}

async fn regions(State(state): State<AppState>) -> Result<Response, ApiError> {
    let regions = blocking(move || Ok(state.ops.regions()?)).await?;
    Ok(Json(regions).into_response())
}

/// A region and its ancestors, nearest first: what a box shows as its place.
async fn region_chain(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code: AreaCode = code
        .parse()
        .map_err(|e: model::AreaCodeError| ApiError::BadRequest(e.to_string()))?;
    let chain = blocking(move || Ok(state.ops.region_chain(&code)?)).await?;
    Ok(Json(chain).into_response())
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    scope: String,
    #[serde(default)]
    since: u64,
    limit: Option<usize>,
}

fn etag(scope: &AreaCode, head: u64) -> String {
    format!("\"v{API_VERSION}-{scope}-{head}\"")
}

/// The head an ETag of ours for `scope` names, if it is one.
fn etag_head(scope: &AreaCode, tag: &str) -> Option<u64> {
    tag.strip_prefix(&format!("\"v{API_VERSION}-{scope}-"))?
        .strip_suffix('"')?
        .parse()
        .ok()
}

async fn feed(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let scope: AreaCode = q
        .scope
        .parse()
        .map_err(|e: model::AreaCodeError| ApiError::BadRequest(e.to_string()))?;
    let limit = q.limit.unwrap_or(DEFAULT_FEED_PAGE);
    // A box that is caught up asks with its ETag: the head it holds.
    let holds = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .and_then(|tag| etag_head(&scope, tag));
    let (since, read_scope) = (q.since, scope.clone());
    let read = blocking(move || Ok(state.ops.read_feed(&read_scope, since, limit, holds)?)).await?;
    Ok(match read {
        FeedRead::Unchanged { head } => (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag(&scope, head))],
        )
            .into_response(),
        FeedRead::Page { page, head } => {
            ([(header::ETAG, etag(&scope, head))], Json(page)).into_response()
        }
    })
}

async fn blob(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let key = sha256.clone();
    let found = blocking(move || Ok(state.ops.blob(&key)?)).await?;
    let Some((content_type, bytes)) = found else {
        return Err(ApiError::NotFound(format!("no blob {sha256}")));
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_string(),
            ),
            (header::ETAG, format!("\"{sha256}\"")),
        ],
        bytes,
    )
        .into_response())
}
