//! Logging in and out, staff accounts within one's own subtree, and reading
//! the audit log (`/api/v1/admin/login`, `/me`, `/accounts`, `/audit`).

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::{session_token, Caller, ClientIp};
use crate::db::{AuditQuery, LoginRefused, NewAccount};
use headend_ops::login::{change_own_password, Checked};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/login", post(login))
        .route("/api/v1/admin/logout", post(logout))
        .route("/api/v1/admin/me", get(me))
        .route(
            "/api/v1/admin/accounts",
            get(list_accounts).post(create_account),
        )
        .route(
            "/api/v1/admin/accounts/{username}/disable",
            post(disable_account),
        )
        .route(
            "/api/v1/admin/accounts/{username}/enable",
            post(enable_account),
        )
        .route(
            "/api/v1/admin/accounts/{username}/password",
            put(set_password),
        )
        .route("/api/v1/admin/audit", get(audit_log))
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// `{username, password}` -> `{token, expires_at, account}`. Every attempt
/// is in the audit log; every refusal reads the same (`headend_ops::login`).
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(b): Json<LoginBody>,
) -> Result<Response, ApiError> {
    match headend_ops::login::login(&state.ops, b.username, b.password, ip).await? {
        Checked::Ok(session) => Ok(Json(serde_json::json!({
            "token": session.token,
            "expires_at": session.expires_at,
            "account": session.account,
        }))
        .into_response()),
        Checked::Refused(_) => Err(ApiError::WrongPassword),
        Checked::Throttled(wait) => Err(ApiError::Throttled(wait)),
    }
}

async fn logout(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    if let Some(token) = session_token(&parts) {
        let ops = state.ops.clone();
        blocking(move || Ok(ops.logout(&token)?)).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(caller: Caller) -> Result<Response, ApiError> {
    Ok(Json(caller.account.clone()).into_response())
}

async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let list = blocking(move || Ok(state.ops.accounts(&caller)?)).await?;
    Ok(Json(list).into_response())
}

async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewAccount>,
) -> Result<Response, ApiError> {
    let account = blocking(move || Ok(state.ops.create_account(&caller, &new)?)).await?;
    Ok((StatusCode::CREATED, Json(account)).into_response())
}

async fn set_disabled(
    state: AppState,
    caller: Caller,
    username: String,
    disabled: bool,
) -> Result<Response, ApiError> {
    blocking(move || {
        Ok(state
            .ops
            .set_account_disabled(&caller, &username, disabled)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn disable_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(state, caller, username, true).await
}

async fn enable_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(state, caller, username, false).await
}

#[derive(Debug, Deserialize)]
struct PasswordBody {
    password: String,
    /// Needed to change one's own.
    #[serde(default)]
    current_password: Option<String>,
}

/// One's own password, given the current one (a wrong one counts like a
/// failed login from this address); or, an admin, someone's in the subtree.
async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
    Json(b): Json<PasswordBody>,
) -> Result<Response, ApiError> {
    if username == caller.account.username {
        let Some(current) = b.current_password else {
            return Err(ApiError::BadRequest(
                "give current_password: changing your own password needs the current one".into(),
            ));
        };
        return match change_own_password(
            &state.ops,
            &caller,
            caller.session_token(),
            ip,
            current,
            b.password,
        )
        .await?
        {
            Checked::Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
            Checked::Refused(LoginRefused::Locked { until }) => Err(ApiError::Forbidden(format!(
                "the current password was not checked: too many wrong passwords, the account is locked until {until} (unix seconds) for addresses it has not logged in from"
            ))),
            Checked::Refused(_) => Err(ApiError::Forbidden(
                "the current password is wrong; the password was not changed".into(),
            )),
            Checked::Throttled(wait) => Err(ApiError::Throttled(wait)),
        };
    }
    blocking(move || Ok(state.ops.set_password(&caller, &username, &b.password)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct AuditParams {
    account: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    limit: Option<usize>,
}

/// Read-only: there is no endpoint that changes or removes an entry.
async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let query = AuditQuery {
        account: q.account,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        limit: q.limit.unwrap_or(200),
    };
    let entries = blocking(move || Ok(state.ops.audit_log(&caller, &query)?)).await?;
    Ok(Json(entries).into_response())
}
