//! How many body bytes a request may make us hold, decided before any of
//! them is read.
//!
//! A box on the cable network can open many connections and post to any
//! route, so only requests that have proved who they are get the large
//! limits. Every body is wrapped in a limit; a declared `Content-Length`
//! over it is answered `413` at once, without reading a byte.
//!
//! | route | limit |
//! |---|---|
//! | spreadsheet import, console content (an image) | 17 MB, with a valid staff session |
//! | other admin and console routes | 2 MB, with a valid staff session |
//! | box uploads (`/api/v1/submissions`, `/api/v1/devices/…`) | 256 KB |
//! | everything else, and any of the above without a session | `unauthenticated_body_bytes` (64 KB) |
//!
//! The session is looked up here only when the body could exceed the small
//! limit, so ordinary requests cost nothing extra.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::{ApiError, AppState};
use crate::push::now_ms;

/// The spreadsheet import and the console forms that carry a file.
pub(crate) const LARGE_BYTES: usize = crate::api::import::MAX_IMPORT_BYTES + 1024 * 1024;
/// Admin and console requests of a logged-in account (axum's default).
pub(crate) const STAFF_BYTES: usize = 2 * 1024 * 1024;
/// What a box sends: outbox batches, heartbeats with log excerpts.
pub(crate) const BOX_BYTES: usize = 256 * 1024;

/// The largest body `path` may have, and whether that needs a session.
fn route_limit(method: &Method, path: &str) -> (usize, bool) {
    if path == "/api/v1/admin/login" || path == "/console/login" {
        return (0, false);
    }
    let large = path == "/api/v1/admin/import"
        || path == "/console/import"
        || (path.starts_with("/console/content") && method == Method::POST);
    if large {
        return (LARGE_BYTES, true);
    }
    if path.starts_with("/api/v1/admin/") || path.starts_with("/console/") {
        return (STAFF_BYTES, true);
    }
    if path == "/api/v1/submissions" || path.starts_with("/api/v1/devices/") {
        return (BOX_BYTES, false);
    }
    (0, false)
}

fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn too_large(path: &str, limit: usize) -> Response {
    if path.starts_with("/console/") {
        let page = crate::console::too_large_page(limit);
        return (StatusCode::PAYLOAD_TOO_LARGE, page).into_response();
    }
    let body = model::ApiError {
        code: "payload_too_large".into(),
        message: format!(
            "the request body is larger than {limit} bytes; log in first, or send less"
        ),
    };
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response()
}

/// Middleware: wraps every body in its limit.
pub(crate) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let small = state.options.limits.unauthenticated_body_bytes;
    let path = request.uri().path().to_string();
    let (route, needs_session) = route_limit(request.method(), &path);
    let mut allowed = route.max(small);
    let declared = declared_length(&request);
    let could_exceed_small = declared.is_none_or(|n| n > small as u64);
    if needs_session && allowed > small && could_exceed_small {
        let (parts, body) = request.into_parts();
        let token = crate::auth::session_token(&parts);
        let request_back = Request::from_parts(parts, body);
        let valid = match token {
            Some(token) => {
                let db = state.db.clone();
                crate::api::blocking(move || Ok(db.session_account(&token, now_ms() / 1000)?))
                    .await
                    .map(|a| a.is_some())
                    .unwrap_or_else(|e: ApiError| {
                        tracing::warn!(error = %e, "cannot check a session for the body limit");
                        false
                    })
            }
            None => false,
        };
        if !valid {
            allowed = small;
        }
        return finish(request_back, allowed, declared, &path, next).await;
    }
    finish(request, allowed, declared, &path, next).await
}

async fn finish(
    request: Request,
    allowed: usize,
    declared: Option<u64>,
    path: &str,
    next: Next,
) -> Response {
    if declared.is_some_and(|n| n > allowed as u64) {
        return too_large(path, allowed);
    }
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, allowed));
    next.run(Request::from_parts(parts, limited)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_staff_routes_can_be_large() {
        assert_eq!(
            route_limit(&Method::POST, "/api/v1/admin/import"),
            (LARGE_BYTES, true)
        );
        assert_eq!(
            route_limit(&Method::POST, "/console/content/new"),
            (LARGE_BYTES, true)
        );
        assert_eq!(route_limit(&Method::POST, "/console/login"), (0, false));
        assert_eq!(route_limit(&Method::POST, "/api/v1/provision"), (0, false));
        assert_eq!(
            route_limit(&Method::POST, "/api/v1/submissions"),
            (BOX_BYTES, false)
        );
        assert_eq!(
            route_limit(&Method::PUT, "/api/v1/admin/exams"),
            (STAFF_BYTES, true)
        );
    }
}
