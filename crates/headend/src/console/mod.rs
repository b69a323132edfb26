//! The web console (`/console/…`): server-rendered Chinese pages for
//! county, town and village staff, on top of the same accounts, permission
//! checks ([`Caller::require`]) and database calls as the admin API.
//!
//! No build step and no external assets: pages are `maud` templates, the
//! style sheet and the one small script are compiled in and served from
//! `/console/assets/`. The session is the API's session token in an
//! `HttpOnly; SameSite=Strict` cookie; every POST carries a CSRF token
//! (derived from the session, or a login cookie before there is one) that
//! [`csrf::guard`] checks before any handler runs. Forms work without
//! JavaScript; the script only adds rows, checks amounts as they are typed
//! and refreshes the live roll-call view.

mod accounts;
mod charts;
mod content;
mod csrf;
mod dashboard;
mod devices;
mod draft_view;
mod editor;
mod import;
mod layout;
mod login;
mod meetings;
mod password;
mod services;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use crate::api::{ApiError, AppState};
use crate::auth::{session_token, Caller};
use crate::db::Role;

pub(crate) use layout::Nav;

pub(crate) use csrf::too_large_page;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(dashboard::page))
        .route("/console/assets/console.css", get(layout::css))
        .route("/console/assets/console.js", get(layout::js))
        .merge(login::routes())
        .merge(content::routes())
        .merge(import::routes())
        .merge(meetings::routes())
        .merge(services::routes())
        .merge(devices::routes())
        .merge(accounts::routes())
        .merge(password::routes())
        .layer(middleware::from_fn_with_state(state, csrf::guard))
        .layer(middleware::from_fn(layout::security_headers))
}

/// A logged-in staff member on a console page: the API's [`Caller`] plus
/// what every page needs (the CSRF token for its forms).
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub caller: Caller,
    pub csrf: String,
    /// The name of the account's region, for headings.
    pub region_name: String,
}

impl Staff {
    pub fn username(&self) -> &str {
        &self.caller.account.username
    }

    pub fn role(&self) -> Role {
        self.caller.account.role
    }

    pub fn region(&self) -> &model::AreaCode {
        &self.caller.account.region
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = session_token(parts);
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => {
                let db = state.db.clone();
                let code = caller.account.region.clone();
                let region_name = crate::api::blocking(move || {
                    Ok(db
                        .regions()?
                        .into_iter()
                        .find(|r| r.code == code)
                        .map(|r| r.name)
                        .unwrap_or_else(|| code.to_string()))
                })
                .await
                .map_err(|e| PageError::from(e).into_response())?;
                Ok(Staff {
                    caller,
                    csrf: csrf::for_session(token.as_deref().unwrap_or_default()),
                    region_name,
                })
            }
            Err(ApiError::Unauthorized) => {
                // Back to the page after logging in (same-site paths only).
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/console/".into());
                let to = format!("/console/login?next={}", urlencode(&next));
                Err(Redirect::to(&to).into_response())
            }
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Why a console page could not be shown, as a page in plain Chinese.
/// Like [`ApiError`], internal details are logged, never shown.
#[derive(Debug)]
pub(crate) struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<headend_ops::OpsError> for PageError {
    fn from(e: headend_ops::OpsError) -> Self {
        PageError(e.into())
    }
}

impl From<crate::db::DbError> for PageError {
    fn from(e: crate::db::DbError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, headline, detail) = match &self.0 {
            ApiError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                "没有权限：这不在您的账号可以管理的范围内",
                why.clone(),
            ),
            ApiError::NotFound(why) => {
                (StatusCode::NOT_FOUND, "找不到这一页或这条记录", why.clone())
            }
            ApiError::BadRequest(why) => (StatusCode::BAD_REQUEST, "请求有误", why.clone()),
            ApiError::Unauthorized | ApiError::WrongPassword => (
                StatusCode::UNAUTHORIZED,
                "请先登录",
                String::from("the session has ended"),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "console page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器出错，请稍后再试",
                    String::new(),
                )
            }
            other => (StatusCode::BAD_REQUEST, "请求有误", other.to_string()),
        };
        let body = layout::bare(
            headline,
            html! {
                main.narrow {
                    h1 { (headline) }
                    @if !detail.is_empty() { p.detail { (detail) } }
                    p { a href="/console/" { "返回概览" } }
                }
            },
        );
        (status, body).into_response()
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

/// A finished page as a response (never cached: it shows live data).
pub(crate) fn page(staff: &Staff, nav: Nav, title: &str, body: Markup) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        layout::page(staff, nav, title, body),
    )
        .into_response()
}

/// After a POST: back to a page with a one-line notice (`?ok=`).
pub(crate) fn see_other(path: &str, notice: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}ok={}", urlencode(notice))).into_response()
}

/// Runs blocking database work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, PageError> {
    crate::api::blocking(f).await.map_err(PageError)
}

/// `YYYY-MM-DD HH:MM` in China time for unix seconds.
pub(crate) fn when(unix: i64) -> String {
    let t = unix + 8 * 3600;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Howard Hinnant's days-to-civil.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DDTHH:MM` (an `<input type=datetime-local>`) as China
/// time into unix seconds.
pub(crate) fn parse_local(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 {
        return None;
    }
    let days = days_from_civil(y, m, day);
    Some(days * 86_400 + h * 3600 + min * 60 - 8 * 3600)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The role in Chinese.
pub(crate) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "管理员",
        Role::Editor => "编辑",
        Role::Reviewer => "审核员",
        Role::Operator => "运维值班",
        Role::Viewer => "查看",
    }
}

/// The `?ok=` notice a redirect left, shown once at the top of a page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Notice {
    #[serde(default)]
    pub ok: Option<String>,
}

/// Regions the account may publish for, as (code, name): its own and
/// everything under it. Blocking.
pub(crate) fn publish_scopes(
    state: &AppState,
    staff: &Staff,
) -> Result<Vec<(String, String)>, ApiError> {
    Ok(state
        .ops
        .publish_scopes(&staff.caller)?
        .into_iter()
        .map(|r| (r.code.to_string(), r.name))
        .collect())
}

/// Region names for codes, for tables that show villages.
pub(crate) fn region_names(
    state: &AppState,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    Ok(state
        .db
        .regions()?
        .into_iter()
        .map(|r| (r.code.to_string(), r.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_china_time() {
        let t = parse_local("2026-11-29T19:05").expect("valid");
        assert_eq!(when(t), "2026-11-29 19:05");
        assert_eq!(when(0), "1970-01-01 08:00");
        assert!(parse_local("2026-13-01T10:00").is_none());
        assert!(parse_local("yesterday").is_none());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(urlencode("/console/x?a=1&b"), "/console/x%3Fa%3D1%26b");
        assert_eq!(urlencode("已保存"), "%E5%B7%B2%E4%BF%9D%E5%AD%98");
    }
}
