//! The page shell every console page shares: navigation, who is logged
//! in, the compiled-in style sheet and script, and the security headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::{role_label, Staff};
use crate::db::{Permission, Role};

const CSS: &str = include_str!("../../console/console.css");
const JS: &str = include_str!("../../console/console.js");

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Dashboard,
    Content,
    Review,
    Import,
    Meetings,
    Services,
    Devices,
    Accounts,
    /// One's own password (linked next to the name, not in the menu).
    Password,
}

impl Nav {
    const ALL: [Nav; 8] = [
        Nav::Dashboard,
        Nav::Content,
        Nav::Review,
        Nav::Import,
        Nav::Meetings,
        Nav::Services,
        Nav::Devices,
        Nav::Accounts,
    ];

    fn label(self) -> &'static str {
        match self {
            Nav::Dashboard => "概览",
            Nav::Content => "内容",
            Nav::Review => "审核",
            Nav::Import => "表格导入",
            Nav::Meetings => "会议点名",
            Nav::Services => "服务工单",
            Nav::Devices => "机顶盒",
            Nav::Accounts => "账号",
            Nav::Password => "修改密码",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Nav::Dashboard => "/console/",
            Nav::Content => "/console/content",
            Nav::Review => "/console/review",
            Nav::Import => "/console/import",
            Nav::Meetings => "/console/meetings",
            Nav::Services => "/console/services",
            Nav::Devices => "/console/devices",
            Nav::Accounts => "/console/accounts",
            Nav::Password => "/console/password",
        }
    }

    /// Entries a role has no use for are not shown (the pages still check).
    fn shown_to(self, role: Role) -> bool {
        match self {
            Nav::Dashboard | Nav::Content => true,
            Nav::Review => role.allows(Permission::ReviewContent),
            Nav::Import => role.allows(Permission::EditContent),
            Nav::Meetings | Nav::Services | Nav::Devices => {
                role.allows(Permission::Operate) || role == Role::Viewer
            }
            Nav::Accounts => role.allows(Permission::ManageAccounts),
            Nav::Password => false,
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · 智慧党建管理台" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A page for a logged-in staff member.
pub(crate) fn page(staff: &Staff, current: Nav, title: &str, body: Markup) -> Markup {
    let account = &staff.caller.account;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body {
                a.skip href="#main" { "跳到正文" }
                header.top {
                    span.brand { "智慧党建管理台" }
                    nav aria-label="主菜单" {
                        @for entry in Nav::ALL {
                            @if entry.shown_to(account.role) {
                                a href=(entry.href())
                                    aria-current=[(entry == current).then_some("page")] { (entry.label()) }
                            }
                        }
                    }
                    div.who {
                        span { (account.display_name) " · " (staff.region_name) (role_label(account.role)) }
                        a href=(Nav::Password.href())
                            aria-current=[(current == Nav::Password).then_some("page")] { (Nav::Password.label()) }
                        form method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(staff.csrf);
                            button.link type="submit" { "退出" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without navigation (login, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body.bare { (body) }
        }
    }
}

/// The one-line notice a redirect left (`?ok=`).
pub(crate) fn notice(ok: &Option<String>) -> Markup {
    html! {
        @if let Some(text) = ok {
            p.notice role="status" { (text) }
        }
    }
}

/// The hidden CSRF field every form starts with.
pub(crate) fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

pub(crate) async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        JS,
    )
        .into_response()
}

/// Only our own scripts and styles; never framed; no referrer elsewhere.
/// `Server-Timing` says how long the page took on the server (what
/// `cargo xtask bench console` reports).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={took:.2}")) {
        headers.insert("server-timing", v);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
