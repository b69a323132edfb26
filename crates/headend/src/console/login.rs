//! Logging in and out of the console. The same login as the API (Argon2id,
//! lock-out, per-address limit, audit log: `headend_ops::login`); the session
//! token goes into an `HttpOnly; SameSite=Strict` cookie instead of the
//! page.

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
use crate::auth::{session_token, ClientIp, SESSION_COOKIE};
use crate::db::SESSION_SECS;
use crate::throttle::RetryAfter;
use headend_ops::login::Checked;

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

/// What the form says for every refused login, whatever the reason (an
/// unknown name, a wrong password, a disabled or locked account), so the
/// page does not tell which accounts exist or are locked.
pub(crate) const REFUSED: &str =
    "用户名或密码不对，请重新输入。连续输错多次后账号会暂时锁定，请稍后再试或请上级管理员重设密码。";

/// `429` for an address that failed too often, in plain Chinese.
pub(crate) fn too_many_attempts(wait: RetryAfter) -> Response {
    let minutes = wait.0.div_ceil(60);
    let body = layout::bare(
        "尝试次数太多",
        html! {
            main.narrow {
                h1 { "尝试次数太多，请稍后再试" }
                p { "这台电脑输错密码的次数太多，为了账号安全，请 " (minutes) " 分钟后再登录。" }
                p { "如果忘记了密码，请联系上级管理员重设。" }
                p { a href="/console/login" { "返回登录" } }
            }
        },
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, wait.0.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let username = f.username.trim().to_string();
    let next = safe_next(f.next.as_deref());
    match headend_ops::login::login(&state.ops, username.clone(), f.password, ip).await? {
        Checked::Ok(session) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}",
                session.token
            );
            // Two cookies: `AppendHeaders` keeps both (an array would
            // keep only the last).
            Ok((
                AppendHeaders([
                    (header::SET_COOKIE, cookie),
                    (
                        header::SET_COOKIE,
                        format!("{LOGIN_COOKIE}=; Path=/console/login; Max-Age=0"),
                    ),
                ]),
                Redirect::to(&next),
            )
                .into_response())
        }
        Checked::Refused(_) => {
            let token = csrf::fresh();
            Ok(with_login_cookie(
                &token,
                StatusCode::UNAUTHORIZED,
                login_page(&token, &username, &next, Some(REFUSED)),
            ))
        }
        Checked::Throttled(wait) => Ok(too_many_attempts(wait)),
    }
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
