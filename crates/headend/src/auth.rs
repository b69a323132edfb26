//! Who is calling an admin endpoint, and may they.
//!
//! Every `/api/v1/admin/…` handler takes a [`Caller`] (a session token in
//! `Authorization: Bearer …` or the console's session cookie) and asks
//! [`Caller::require`] before it touches anything: the role must allow the
//! action and every region the target lives in must lie in the account's
//! subtree. The [`audit`] middleware writes one audit entry per admin
//! request that changes something or is refused.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::api::{blocking, ApiError, AppState};
use crate::db::{Account, AuditEntry, Db, Outcome, Permission, Target};
use crate::push::now_ms;

/// The console's session cookie (issue 9); the API also takes the token
/// as a bearer token.
pub const SESSION_COOKIE: &str = "dangjian_session";

/// What the audit middleware learns from the handler: who called and which
/// region the request was about.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditNote(Arc<Mutex<NoteInner>>);

#[derive(Debug, Default)]
struct NoteInner {
    account: Option<String>,
    region: Option<String>,
    refusal: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

impl AuditNote {
    fn update(&self, f: impl FnOnce(&mut NoteInner)) {
        if let Ok(mut inner) = self.0.lock() {
            f(&mut inner);
        }
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub account: Account,
    note: AuditNote,
    token: SessionToken,
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
        note.update(|n| n.account = Some(account.username.clone()));
        Ok(Caller {
            account,
            note,
            token: SessionToken(token),
        })
    }
}

impl Caller {
    /// Refuses the request with `why`, noted for the audit log. The entry
    /// names the target's region if one was noted, else the account's
    /// own (what a request without a target, such as a list, is about),
    /// so every refusal is seen by the admins of the region it concerns.
    pub(crate) fn refuse(&self, why: String) -> ApiError {
        self.note_refusal(&why);
        let own = self.account.region.as_str().to_string();
        self.note.update(|n| {
            n.region.get_or_insert(own);
        });
        ApiError::Forbidden(why)
    }

    /// Why the request was refused, for its audit entry.
    pub fn note_refusal(&self, why: &str) {
        self.note.update(|n| n.refusal = Some(why.to_string()));
    }

    /// The session token this request came with.
    pub fn session_token(&self) -> &str {
        &self.token.0
    }

    /// The role allows `permission` (no region involved).
    pub fn require_role(&self, permission: Permission) -> Result<(), ApiError> {
        if self.account.role.allows(permission) {
            Ok(())
        } else {
            Err(self.refuse(format!(
                "an account with the {} role cannot do this; ask an account with the right role",
                self.account.role.as_str()
            )))
        }
    }

    /// The role allows `permission` and `target` lies wholly inside the
    /// account's region. Blocking: call it inside [`blocking`].
    pub fn require(
        &self,
        db: &Db,
        permission: Permission,
        target: &Target<'_>,
    ) -> Result<(), ApiError> {
        if !self.account.role.allows(permission) {
            // Refused for the role alone, but audited in the target's
            // region, so that region's admins see the attempt. A target
            // that does not exist is refused like one that does.
            if let Some(first) = db
                .target_regions(target)
                .ok()
                .and_then(|r| r.first().cloned())
            {
                self.note
                    .update(|n| n.region = Some(first.as_str().to_string()));
            }
            return self.require_role(permission);
        }
        let regions = db.target_regions(target)?;
        if let Some(first) = regions.first() {
            self.note
                .update(|n| n.region = Some(first.as_str().to_string()));
        }
        for region in &regions {
            if !db.region_within(&self.account.region, region)? {
                return Err(self.refuse(format!(
                    "region {region} is outside this account's region {}",
                    self.account.region
                )));
            }
        }
        Ok(())
    }

    /// The account may review content of `scope`: the role allows it, and
    /// it sits above the scope (or at it, where the county allows that).
    pub fn require_review(&self, db: &Db, scope: &model::AreaCode) -> Result<(), ApiError> {
        self.require(db, Permission::ReviewContent, &Target::Region(scope))?;
        if db.may_review(&self.account.region, scope)? {
            Ok(())
        } else {
            Err(self.refuse(format!(
                "content of {scope} is reviewed from the level above; this county does not allow review at the same level"
            )))
        }
    }

    /// Records the ids a change replaced and made (e.g. `item@1`, `item@2`).
    pub fn note_change(&self, before: Option<String>, after: Option<String>) {
        self.note.update(|n| {
            n.before = before;
            n.after = after;
        });
    }

    /// Like [`Caller::require`] for a list: true if `region` is inside.
    pub fn sees(&self, db: &Db, region: &model::AreaCode) -> bool {
        db.region_within(&self.account.region, region)
            .unwrap_or(false)
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
    let (account, region, refusal, before_id, after_id) = match note.0.lock() {
        Ok(n) => (
            n.account.clone(),
            n.region.clone(),
            n.refusal.clone(),
            n.before.clone(),
            n.after.clone(),
        ),
        Err(_) => (None, None, None, None, None),
    };
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
    if !state.audit.record(entry).await {
        tracing::error!("cannot write the audit log");
    }
    response
}
