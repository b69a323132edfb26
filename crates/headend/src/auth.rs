//! Who is calling an admin endpoint, and may they.
//!
//! Every `/api/v1/admin/…` handler takes a [`Caller`] (a session token in
//! `Authorization: Bearer …` or the console's session cookie) and asks
//! [`Caller::require`] before it touches anything: the role must allow the
//! action and every region the target lives in must lie in the account's
//! subtree. The [`audit`] middleware writes one audit entry per admin
//! request that changes something or is refused.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::api::{blocking, ApiError, AppState};
use crate::db::{AuditEntry, Outcome};
use crate::push::now_ms;
use headend_ops::Actor;

/// The console's session cookie (issue 9); the API also takes the token
/// as a bearer token.
pub const SESSION_COOKIE: &str = "dangjian_session";

/// What the audit middleware learns from the handler (who called, which
/// region, a refusal, the versions changed): the operations' notes.
pub(crate) use headend_ops::Notes as AuditNote;

/// An authenticated staff member: the operations' [`Actor`] (role,
/// region, the checks) and the session token the request came with.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    actor: Actor,
    token: SessionToken,
}

impl std::ops::Deref for Caller {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.actor
    }
}

/// The session token a caller came with, kept out of `Debug` output.
#[derive(Clone)]
struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

pub(crate) fn client_ip(parts: &Parts) -> String {
    crate::client_addr::of(&parts.extensions)
}

/// The peer address of a request ("" when served without one, as in tests
/// that call the router directly).
#[derive(Debug, Clone)]
pub(crate) struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// The session token a request carries, if any.
pub(crate) fn session_token(parts: &Parts) -> Option<String> {
    if let Some(bearer) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    cookie(&parts.headers, SESSION_COOKIE)
}

/// The value of cookie `name` in a request's headers.
pub(crate) fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let note = parts
            .extensions
            .get::<AuditNote>()
            .cloned()
            .unwrap_or_default();
        let Some(token) = session_token(parts) else {
            return Err(ApiError::Unauthorized);
        };
        let db = state.db.clone();
        let presented = token.clone();
        let account =
            blocking(move || Ok(db.session_account(&presented, now_ms() / 1000)?)).await?;
        let Some(account) = account else {
            return Err(ApiError::Unauthorized);
        };
        Ok(Caller {
            actor: Actor::new(account, note),
            token: SessionToken(token),
        })
    }
}

impl Caller {
    /// The session token this request came with.
    pub fn session_token(&self) -> &str {
        &self.token.0
    }
}

/// One audit entry per admin request that changes something or is refused
/// (reads that succeed are not logged). Logins log themselves.
pub(crate) async fn audit(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let console = path.starts_with("/console/")
        && path != "/console/login"
        && !path.starts_with("/console/assets/");
    if !(console || path.starts_with("/api/v1/admin/")) || path == "/api/v1/admin/login" {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let note = AuditNote::default();
    request.extensions_mut().insert(note.clone());
    let ip = crate::client_addr::of(request.extensions());
    let response = next.run(request).await;
    let status = response.status();
    let refused = matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    );
    if method == Method::GET && !refused {
        return response;
    }
    let headend_ops::AuditNotes {
        account,
        region,
        refusal,
        before: before_id,
        after: after_id,
    } = note.snapshot();
    let entry = AuditEntry {
        account,
        action: format!("{method} {path}"),
        target: path,
        region,
        ip,
        // A console form that worked answers with a redirect.
        outcome: Some(if refused {
            Outcome::Refused
        } else if status.is_success() || status.is_redirection() {
            Outcome::Ok
        } else {
            Outcome::Failed
        }),
        detail: refusal.unwrap_or_else(|| status.as_u16().to_string()),
        before_id,
        after_id,
        ..AuditEntry::default()
    };
    if !state.ops.audit.record(entry).await {
        tracing::error!("cannot write the audit log");
    }
    response
}
