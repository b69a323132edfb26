//! An attacker's HTTP client for the security tests: every request from a
//! chosen loopback address (127.0.0.N), since the headend limits and
//! trusts by address; the admin API, the console's login form and its
//! form posts; the answer's status, headers and body as sent.
//!
//! Use it with `#[path = "common/attacker.rs"] mod attacker;`.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The county admin's own desk in the tests.
pub const OFFICE: u8 = 1;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| {
                v.split(';')
                    .next()?
                    .trim()
                    .strip_prefix(name)?
                    .strip_prefix('=')
                    .map(str::to_string)
            })
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The hidden `csrf` field of the first form on a console page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no form token: {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// What the console's login form says under the password field.
    pub fn login_error(&self) -> String {
        let at = self.body.find("id=\"password-error\"").unwrap();
        let rest = &self.body[at..];
        let start = rest.find('>').unwrap() + 1;
        rest[start..start + rest[start..].find('<').unwrap()].to_string()
    }
}

/// Sends one request from 127.0.0.`from` to the server.
pub async fn http(
    server: SocketAddr,
    from: u8,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Answer {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, from), 0)))
        .unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stream.read_to_end(&mut raw),
    )
    .await
    .expect("the server answers")
    .unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

pub fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

pub fn json_type() -> (&'static str, String) {
    ("content-type", "application/json".to_string())
}

/// `POST /api/v1/admin/login` from 127.0.0.`from`.
pub async fn api_login(server: SocketAddr, from: u8, user: &str, password: &str) -> Answer {
    let body = json!({ "username": user, "password": password }).to_string();
    http(
        server,
        from,
        "POST",
        "/api/v1/admin/login",
        &[json_type()],
        body.as_bytes(),
    )
    .await
}

pub async fn token(server: SocketAddr, from: u8, user: &str, password: &str) -> String {
    let answer = api_login(server, from, user, password).await;
    assert_eq!(answer.status, 200, "{user} logs in: {}", answer.body);
    answer.json()["token"].as_str().unwrap().to_string()
}

pub async fn api(
    server: SocketAddr,
    from: u8,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    http(
        server,
        from,
        method,
        path,
        &[bearer(token), json_type()],
        body.as_bytes(),
    )
    .await
}

/// The audit list as `token`'s account sees it.
pub async fn audit(server: SocketAddr, token: &str, query: &str) -> Vec<Value> {
    let answer = api(
        server,
        OFFICE,
        token,
        "GET",
        &format!("/api/v1/admin/audit?limit=5000{query}"),
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json().as_array().unwrap().clone()
}

pub fn count(log: &[Value], action: &str) -> usize {
    log.iter().filter(|e| e["action"] == action).count()
}

/// A console session: its cookie and its form token.
pub struct ConsoleSession {
    pub cookie: (&'static str, String),
    pub csrf: String,
}

/// Posts the console's login form from 127.0.0.`from`.
pub async fn console_login_form(
    server: SocketAddr,
    from: u8,
    user: &str,
    password: &str,
) -> Answer {
    let form = http(server, from, "GET", "/console/login", &[], b"").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let login_cookie = form.cookie("dangjian_login_csrf").unwrap();
    let body = form_encode(&[
        ("csrf", &form.csrf()),
        ("username", user),
        ("password", password),
        ("next", "/console/"),
    ]);
    http(
        server,
        from,
        "POST",
        "/console/login",
        &[
            ("cookie", format!("dangjian_login_csrf={login_cookie}")),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
        ],
        body.as_bytes(),
    )
    .await
}

pub async fn console_login(
    server: SocketAddr,
    from: u8,
    user: &str,
    password: &str,
) -> ConsoleSession {
    let answer = console_login_form(server, from, user, password).await;
    assert_eq!(answer.status, 303, "{user} logs in: {}", answer.body);
    let session = answer.cookie("dangjian_session").unwrap();
    let cookie = ("cookie", format!("dangjian_session={session}"));
    let page = http(
        server,
        from,
        "GET",
        "/console/",
        std::slice::from_ref(&cookie),
        b"",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    ConsoleSession {
        csrf: page.csrf(),
        cookie,
    }
}

pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| -> String {
                s.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn console_post(
    server: SocketAddr,
    from: u8,
    session: &ConsoleSession,
    path: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let mut all = vec![("csrf", session.csrf.as_str())];
    all.extend_from_slice(fields);
    http(
        server,
        from,
        "POST",
        path,
        &[
            session.cookie.clone(),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
        ],
        form_encode(&all).as_bytes(),
    )
    .await
}
