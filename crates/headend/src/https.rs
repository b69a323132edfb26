//! What a response says when the headend terminates TLS itself: browsers
//! must keep to HTTPS (HSTS) and send the session cookies only over it
//! (`Secure`). Done here, on every response, so no page can forget it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// One year, the value browsers' preload lists expect.
const HSTS: &str = "max-age=31536000";

/// Middleware; `tls` says whether this listener is HTTPS.
pub(crate) async fn mark(State(tls): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if !tls {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(secure)
        .collect();
    if !cookies.is_empty() {
        headers.remove(header::SET_COOKIE);
        for cookie in cookies {
            headers.append(header::SET_COOKIE, cookie);
        }
    }
    response
}

/// `cookie` with the `Secure` attribute.
fn secure(cookie: &HeaderValue) -> HeaderValue {
    let Ok(text) = cookie.to_str() else {
        return cookie.clone();
    };
    let has = text
        .split(';')
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"));
    if has {
        return cookie.clone();
    }
    HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or_else(|_| cookie.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_become_secure_once() {
        let plain = HeaderValue::from_static("s=1; Path=/; HttpOnly");
        assert_eq!(secure(&plain), "s=1; Path=/; HttpOnly; Secure");
        let already = HeaderValue::from_static("s=1; Secure; HttpOnly");
        assert_eq!(secure(&already), already);
    }
}
