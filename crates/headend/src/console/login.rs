//! Logging in and out of the console. The same login as the API (Argon2id,
//! lock-out, audit log); the session token goes into an `HttpOnly;
//! SameSite=Strict` cookie instead of the page.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use super::csrf::{self, LOGIN_COOKIE};
use super::{blocking, layout, PageResult};
use crate::api::AppState;
use crate::api_accounts::login_audited;
use crate::auth::{session_token, ClientIp, SESSION_COOKIE};
use crate::db::{LoginRefused, SESSION_SECS};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/login", get(form).post(submit))
        .route("/console/logout", post(logout))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only our own console pages (no `//host` or absolute URLs).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/console/".to_string(),
    }
}

fn login_page(token: &str, username: &str, next: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "登录",
        html! {
            main.narrow {
                h1 { "智慧党建管理台 · 登录" }
                form.stack method="post" action="/console/login" {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="next" value=(next);
                    label for="username" { "用户名" }
                    input #username type="text" name="username" value=(username)
                        autocomplete="username" required autofocus;
                    label for="password" { "密码" }
                    input #password type="password" name="password" autocomplete="current-password"
                        required aria-invalid=(error.is_some()) aria-describedby="password-error";
                    span.field-error #password-error role="alert" { @if let Some(e) = error { (e) } }
                    div.actions { button type="submit" { "登录" } }
                }
                p.hint { "忘记密码或账号被锁定，请联系上级管理员。" }
            }
        },
    )
}

fn with_login_cookie(token: &str, status: StatusCode, body: Markup) -> Response {
    (
        status,
        [
            (
                header::SET_COOKIE,
                format!(
                    "{LOGIN_COOKIE}={token}; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=1800"
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

async fn form(Query(q): Query<NextQuery>) -> Response {
    let token = csrf::fresh();
    let next = safe_next(q.next.as_deref());
    with_login_cookie(&token, StatusCode::OK, login_page(&token, "", &next, None))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let db = state.db.clone();
    let username = f.username.trim().to_string();
    let name = username.clone();
    let result = blocking(move || login_audited(&db, &name, &f.password, ip)).await?;
    let next = safe_next(f.next.as_deref());
    let error = match result {
        Ok(session) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}",
                session.token
            );
            // Two cookies: `AppendHeaders` keeps both (an array would
            // keep only the last).
            return Ok((
                AppendHeaders([
                    (header::SET_COOKIE, cookie),
                    (
                        header::SET_COOKIE,
                        format!("{LOGIN_COOKIE}=; Path=/console/login; Max-Age=0"),
                    ),
                ]),
                Redirect::to(&next),
            )
                .into_response());
        }
        Err(LoginRefused::BadCredentials) => "用户名或密码不对，请重新输入。".to_string(),
        Err(LoginRefused::Locked { until }) => format!(
            "密码输错次数太多，账号已锁定到 {}。请稍后再试，或请管理员重设密码。",
            super::when(until)
        ),
    };
    let token = csrf::fresh();
    Ok(with_login_cookie(
        &token,
        StatusCode::UNAUTHORIZED,
        login_page(&token, &username, &next, Some(&error)),
    ))
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.headers = headers;
    if let Some(token) = session_token(&parts) {
        let db = state.db.clone();
        blocking(move || Ok(db.logout(&token)?)).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        Redirect::to("/console/login"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_the_console() {
        assert_eq!(safe_next(Some("/console/content")), "/console/content");
        assert_eq!(safe_next(Some("//evil.example/")), "/console/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/console/");
        assert_eq!(safe_next(None), "/console/");
    }
}
