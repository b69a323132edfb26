//! Cross-site request forgery: every console POST must carry the `csrf`
//! field its form was rendered with. Checked here, before any handler, so
//! a form cannot forget it.
//!
//! Logged in, the token is derived from the session token (a page cannot
//! read the `HttpOnly` cookie, so another site cannot compute it); at the
//! login form, before any session, it is a random value also set in a
//! short-lived cookie (double submit). `SameSite=Strict` cookies are the
//! second line.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;
use sha2::{Digest, Sha256};

use crate::api::AppState;
use crate::auth::{cookie, session_token};

/// The login form's double-submit cookie.
pub(crate) const LOGIN_COOKIE: &str = "dangjian_login_csrf";

/// The largest console form (the spreadsheet import). The body-limit
/// middleware has already cut the body to what this request may send
/// (64 KB without a valid session), so this is only the ceiling.
const MAX_FORM_BYTES: usize = crate::body_limit::LARGE_BYTES;

/// The page for a body over its limit.
pub(crate) fn too_large_page(limit: usize) -> maud::Markup {
    let mb = (limit as f64 / (1024.0 * 1024.0)).max(0.1);
    super::layout::bare(
        "内容太大",
        html! {
            main.narrow {
                h1 { "提交的内容太大，没有保存" }
                p { (format!("这一页最多可以提交 {mb:.1} MB。如果已经很久没有操作，请先重新登录再提交。")) }
                p { a href="/console/" { "返回概览" } }
            }
        },
    )
}

/// The token the forms of the session `token` carry.
pub(crate) fn for_session(token: &str) -> String {
    let digest = Sha256::digest(format!("dangjian-console-csrf\0{token}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random token for the login form.
pub(crate) fn fresh() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn same(a: &str, b: &str) -> bool {
    // Constant time in the length of the expected token.
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The `csrf` field of an urlencoded or multipart body.
fn field(content_type: &str, body: &[u8]) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_pairs(body)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v);
    }
    if content_type.starts_with("multipart/form-data") {
        let at = find(body, b"name=\"csrf\"")?;
        let rest = &body[at..];
        let start = find(rest, b"\r\n\r\n")? + 4;
        let len = find(&rest[start..], b"\r\n")?;
        return std::str::from_utf8(&rest[start..start + len])
            .ok()
            .map(str::to_string);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `a=1&b=%E4…` without another dependency.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |&b| b == b'=');
            let k = decode(it.next().unwrap_or_default());
            let v = decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

fn decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn refused() -> Response {
    let body = super::layout::bare(
        "表单已过期",
        html! {
            main.narrow {
                h1 { "表单已过期或来源不明，没有保存" }
                p { "请返回上一页，刷新后重新提交。" }
                p { a href="/console/" { "返回概览" } }
            }
        },
    );
    (StatusCode::FORBIDDEN, body).into_response()
}

/// Refuses a console POST whose `csrf` field is missing or wrong.
pub(crate) async fn guard(State(_): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() == Method::GET
        || request.method() == Method::HEAD
        || !path.starts_with("/console/")
    {
        return next.run(request).await;
    }
    let expected = if path == "/console/login" {
        cookie(request.headers(), LOGIN_COOKIE)
    } else {
        let (parts, body) = request.into_parts();
        let token = session_token(&parts);
        request = Request::from_parts(parts, body);
        match token {
            Some(t) => Some(for_session(&t)),
            // Not logged in: the handler sends them to the login page.
            None => return next.run(request).await,
        }
    };
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return refused();
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            too_large_page(MAX_FORM_BYTES),
        )
            .into_response();
    };
    match field(&content_type, &bytes) {
        Some(sent) if same(&sent, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => refused(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_in_both_encodings() {
        assert_eq!(
            field(
                "application/x-www-form-urlencoded",
                b"a=1&csrf=abc&b=%E4%B8%80"
            )
            .as_deref(),
            Some("abc")
        );
        let multipart =
            b"--X\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ndef\r\n--X--\r\n";
        assert_eq!(
            field("multipart/form-data; boundary=X", multipart).as_deref(),
            Some("def")
        );
        assert_eq!(field("text/plain", b"csrf=abc"), None);
    }

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(
            form_pairs(b"t=%E4%B8%80+%E4%BA%8C&x=%zz"),
            vec![("t".into(), "一 二".into()), ("x".into(), "%zz".into())]
        );
    }

    proptest::proptest! {
        /// Any bytes decode without a panic, and never into more text than
        /// was sent (no amplification).
        #[test]
        fn decoding_is_total_and_bounded(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..4096)) {
            let pairs = form_pairs(&bytes);
            let decoded: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
            // U+FFFD (3 bytes) may replace each invalid byte.
            proptest::prop_assert!(decoded <= bytes.len() * 3);
            let _ = field("multipart/form-data; boundary=x", &bytes);
            let _ = field("application/x-www-form-urlencoded", &bytes);
        }
    }

    #[test]
    fn tokens_differ_per_session() {
        assert_ne!(for_session("a"), for_session("b"));
        assert!(same(&for_session("a"), &for_session("a")));
    }
}
