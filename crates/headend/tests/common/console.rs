//! The web console driven through the router, without a socket or a
//! browser: the login dance (login cookie + hidden `csrf` field, then the
//! session cookie), pages as text, and form posts that carry the session's
//! form token.
//!
//! Use it with `#[path = "common/console.rs"] mod console;` (or as
//! `common::console` where `common/mod.rs` declares it).

#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The password of the accounts [`account`] creates.
pub const PASSWORD: &str = "correct-horse-42";

/// Creates a staff account with [`PASSWORD`] directly in the database.
pub fn account(db: &headend::Db, username: &str, region: &str, role: headend::db::Role) {
    db.create_account(
        &headend::db::NewAccount {
            username: username.into(),
            display_name: username.into(),
            region: region.parse().unwrap(),
            role,
            password: PASSWORD.into(),
        },
        None,
        0,
    )
    .unwrap();
}

/// One answer: status, where a redirect goes, cookies set, and the body.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value of cookie `name` set by this answer.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            c.split(';')
                .next()?
                .trim()
                .strip_prefix(name)?
                .strip_prefix('=')
                .map(str::to_string)
        })
    }

    /// The hidden `csrf` field of the first form on the page.
    pub fn csrf(&self) -> Option<String> {
        hidden(&self.body, "csrf")
    }

    /// The text of the element with `id` (up to its first closing tag).
    pub fn text_of(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let rest = &self.body[at..];
        let start = rest.find('>')? + 1;
        let end = rest[start..].find('<')? + start;
        Some(rest[start..end].to_string())
    }

    /// The opening tag of the element with `id`.
    pub fn tag_of(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let open = self.body[..at].rfind('<')?;
        let close = self.body[at..].find('>')? + at;
        Some(self.body[open..=close].to_string())
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// `application/x-www-form-urlencoded` for `fields`.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Sends one request through `router`.
pub async fn send(router: &Router, request: Request<Body>) -> Page {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Posts `fields` as a form with `cookie` (if any).
pub async fn post_form(
    router: &Router,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Page {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    send(
        router,
        request.body(Body::from(form_encode(fields))).unwrap(),
    )
    .await
}

/// A logged-in staff member's browser, minus the browser.
#[derive(Debug, Clone)]
pub struct Console {
    pub router: Router,
    /// The session token (also good as the API's bearer token).
    pub session: String,
    /// The session's form token.
    pub csrf: String,
}

impl Console {
    /// Logs in through `POST /console/login` and reads the form token from
    /// `landing` (any console page the account may open).
    pub async fn login(router: &Router, user: &str, password: &str, landing: &str) -> Console {
        let form = send(
            router,
            Request::get(format!("/console/login?next={landing}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(form.status, 200, "{}", form.body);
        let login_cookie = form.cookie("dangjian_login_csrf").expect("login cookie");
        let token = form.csrf().expect("csrf field on the login form");
        let answer = post_form(
            router,
            "/console/login",
            Some(&format!("dangjian_login_csrf={login_cookie}")),
            &[
                ("username", user),
                ("password", password),
                ("csrf", &token),
                ("next", landing),
            ],
        )
        .await;
        assert!(
            answer.status == 303 || answer.status == 302,
            "login refused: {} {}",
            answer.status,
            answer.body
        );
        let session = answer
            .cookie("dangjian_session")
            .unwrap_or_else(|| panic!("session cookie: {:?}", answer.cookies));
        let mut console = Console {
            router: router.clone(),
            session,
            csrf: String::new(),
        };
        let page = console.get(landing).await;
        assert_eq!(page.status, 200, "{landing}: {}", page.body);
        console.csrf = page.csrf().expect("csrf field on the landing page");
        console
    }

    fn cookie(&self) -> String {
        format!("dangjian_session={}", self.session)
    }

    pub async fn get(&self, path: &str) -> Page {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookie())
            .body(Body::empty())
            .unwrap();
        send(&self.router, request).await
    }

    /// Posts a form with the session's form token first.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        post_form(&self.router, path, Some(&self.cookie()), &all).await
    }

    /// Posts exactly `fields` (to try a missing or wrong form token).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        post_form(&self.router, path, Some(&self.cookie()), fields).await
    }

    /// An admin API call with the same session as a bearer token.
    pub async fn api_get(&self, path: &str) -> (u16, serde_json::Value) {
        let request = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.session))
            .body(Body::empty())
            .unwrap();
        let page = send(&self.router, request).await;
        (
            page.status,
            serde_json::from_str(&page.body).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// The boundary [`multipart_body`] uses.
pub const MULTIPART_BOUNDARY: &str = "----dangjian-test-boundary";

/// A multipart body: text fields, then an optional (field, file name,
/// bytes) file.
pub fn multipart_body(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let b = MULTIPART_BOUNDARY;
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    body
}

impl Console {
    /// Posts raw multipart `body` (boundary [`MULTIPART_BOUNDARY`]) with
    /// the session cookie.
    pub async fn post_multipart(&self, path: &str, body: Vec<u8>) -> Page {
        let request = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
            )
            .header(header::COOKIE, self.cookie())
            .body(Body::from(body))
            .unwrap();
        send(&self.router, request).await
    }
}
