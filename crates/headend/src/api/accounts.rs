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
use crate::db::{AuditQuery, LoginRefused, NewAccount, Permission, Target};
use crate::push::now_ms;
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
        let db = state.db.clone();
        blocking(move || Ok(db.logout(&token)?)).await?;
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
    caller.require_role(Permission::ManageAccounts)?;
    let region = caller.account.region.clone();
    let list = blocking(move || Ok(state.db.accounts_under(&region)?)).await?;
    Ok(Json(list).into_response())
}

async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewAccount>,
) -> Result<Response, ApiError> {
    let account = blocking(move || create_managed(&state, &caller, &new)).await?;
    Ok((StatusCode::CREATED, Json(account)).into_response())
}

/// Creates `new` if its region lies in the caller's subtree and the role
/// allows managing accounts (the API and the console both create through
/// here). Blocking: call it inside [`blocking`].
pub(crate) fn create_managed(
    state: &AppState,
    caller: &Caller,
    new: &NewAccount,
) -> Result<crate::db::Account, ApiError> {
    let db = &state.db;
    caller.require(db, Permission::ManageAccounts, &Target::Region(&new.region))?;
    Ok(db.create_account(new, Some(&caller.account.username), now_ms() / 1000)?)
}

/// The account `username`, if the caller may manage it.
fn managed(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> Result<crate::db::Account, ApiError> {
    let account = state
        .db
        .account(username)?
        .ok_or_else(|| ApiError::NotFound(format!("unknown account {username}")))?;
    caller.require(
        &state.db,
        Permission::ManageAccounts,
        &Target::Region(&account.region),
    )?;
    Ok(account)
}

async fn set_disabled(
    state: AppState,
    caller: Caller,
    username: String,
    disabled: bool,
) -> Result<Response, ApiError> {
    blocking(move || set_account_disabled(&state, &caller, &username, disabled)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Disables (ending its sessions) or re-enables an account in the caller's
/// subtree; nobody disables their own (the API and the console both go
/// through here). Blocking: call it inside [`blocking`].
pub(crate) fn set_account_disabled(
    state: &AppState,
    caller: &Caller,
    username: &str,
    disabled: bool,
) -> Result<(), ApiError> {
    if disabled && username == caller.account.username {
        return Err(ApiError::BadRequest(
            "you cannot disable your own account; ask another admin".into(),
        ));
    }
    managed(state, caller, username)?;
    state.db.set_account_disabled(username, disabled)?;
    Ok(())
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
    blocking(move || {
        managed(&state, &caller, &username)?;
        state.db.set_password(&username, &b.password)?;
        Ok(())
    })
    .await?;
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
    caller.require_role(Permission::ManageAccounts)?;
    let region = caller.account.region.clone();
    let query = AuditQuery {
        account: q.account,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        limit: q.limit.unwrap_or(200).min(5000),
    };
    let entries = blocking(move || Ok(state.db.audit_log(&region, &query)?)).await?;
    Ok(Json(entries).into_response())
}
