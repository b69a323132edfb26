//! A minimal HTTP/1.1 client over a loopback socket, for tests that need a
//! real server (the push channel, the roll-call scheduler).

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub mod routes;

/// The device a box request names (query `device=`, a `/devices/{id}/`
/// path or a `"device"` field in the body).
pub fn named_device(path: &str, body: Option<&str>) -> Option<String> {
    if path.starts_with("/api/v1/admin/") {
        return None;
    }
    if let Some((_, rest)) = path.split_once("device=") {
        return Some(rest.split('&').next().unwrap_or("").to_string());
    }
    if let Some(rest) = path.strip_prefix("/api/v1/devices/") {
        return rest.split('/').next().map(str::to_string);
    }
    let body: serde_json::Value = serde_json::from_str(body?).ok()?;
    body["device"].as_str().map(str::to_string)
}

/// The demo token of a device: seeded boxes have it, and tests register
/// theirs with it.
pub fn device_token(device: &str) -> String {
    headend::seed_meetings::demo_device_token(device)
}

/// Sends one request and returns (status, body). Admin paths go as the
/// demo county admin (logged in once per server); box paths carry the demo
/// token of the device they name.
pub fn call(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    if !path.starts_with("/api/v1/admin/") || path == "/api/v1/admin/login" {
        let token = named_device(path, body).map(|d| device_token(&d));
        return call_as(addr, token.as_deref(), method, path, body);
    }
    let answer = call_as(
        addr,
        Some(&demo_admin_token(addr, false)),
        method,
        path,
        body,
    );
    if answer.0 != 401 {
        return answer;
    }
    // Another server once had this port: log in again.
    call_as(
        addr,
        Some(&demo_admin_token(addr, true)),
        method,
        path,
        body,
    )
}

/// A session token for the seeded demo admin on the server at `addr`.
pub fn demo_admin_token(addr: SocketAddr, fresh: bool) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static TOKENS: Mutex<Option<HashMap<SocketAddr, String>>> = Mutex::new(None);
    if !fresh {
        if let Some(t) = TOKENS
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new)
            .get(&addr)
        {
            return t.clone();
        }
    }
    let (user, password) = headend::seed::DEMO_ADMIN;
    let token = login(addr, user, password).expect("demo admin logs in");
    TOKENS
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(addr, token.clone());
    token
}

/// Logs in; the token, or the status and body of the refusal.
pub fn login(addr: SocketAddr, user: &str, password: &str) -> Result<String, (u16, String)> {
    let body = serde_json::json!({ "username": user, "password": password }).to_string();
    let (status, text) = call_as(addr, None, "POST", "/api/v1/admin/login", Some(&body));
    if status != 200 {
        return Err((status, text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    Ok(v["token"].as_str().unwrap().to_string())
}

/// Sends raw bytes (a spreadsheet) with `token`; returns (status, body).
pub fn upload(addr: SocketAddr, token: &str, path: &str, bytes: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\
         content-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
        bytes.len()
    )
    .unwrap();
    s.write_all(bytes).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

/// Sends one request with `token` (if any) as the bearer token.
pub fn call_as(
    addr: SocketAddr,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    let s = TcpStream::connect(addr).unwrap();
    let answer = send(s, token, method, path, body);
    (answer.status, answer.body)
}

/// A whole answer: status, header lines and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Connects to `addr` from the loopback address `source` (any of
/// 127.0.0.0/8), so a test can play several clients.
pub fn connect_from(addr: SocketAddr, source: std::net::IpAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(source, 0)).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        stream.into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Like [`call_as`] from the loopback address `source`, with the headers.
pub fn call_from(
    addr: SocketAddr,
    source: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Answer {
    let s = connect_from(addr, source.parse().unwrap());
    send(s, token, method, path, body)
}

fn send(
    mut s: TcpStream,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Answer {
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n{auth}\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Answer {
        status,
        head: head.to_string(),
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
}

pub fn json(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, text) = call(addr, method, path, Some(&body.to_string()));
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

pub fn get_json(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let (status, text) = call(addr, "GET", path, None);
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// An open `text/event-stream` response, read event by event.
pub struct Sse {
    reader: BufReader<TcpStream>,
}

impl Sse {
    /// Opens a box's push channel with the demo token of the device named.
    pub fn open(addr: SocketAddr, path: &str) -> Result<Sse, u16> {
        let token = named_device(path, None).map(|d| device_token(&d));
        Sse::open_with(addr, path, token.as_deref())
    }

    pub fn open_with(addr: SocketAddr, path: &str, token: Option<&str>) -> Result<Sse, u16> {
        let auth = token
            .map(|t| format!("authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n{auth}\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(s);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        if status != 200 {
            return Err(status);
        }
        Ok(Sse { reader })
    }

    /// Whether the headend ends the stream (the last chunk, or the
    /// connection closed) before `timeout`; events on the way are skipped.
    pub fn ended(&mut self, timeout: Duration) -> bool {
        self.reader
            .get_mut()
            .set_read_timeout(Some(timeout))
            .unwrap();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return true,
                Ok(_) if line.trim_end_matches(['\r', '\n']) == "0" => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    /// The next event's (name, data), skipping keep-alive comments; `None`
    /// when nothing arrives within `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<(String, String)> {
        self.reader
            .get_mut()
            .set_read_timeout(Some(timeout))
            .unwrap();
        let (mut name, mut data) = (String::new(), String::new());
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            // Chunk-size lines of the chunked body are bare hex numbers.
            if !line.is_empty()
                && line.chars().all(|c| c.is_ascii_hexdigit())
                && !line.contains(':')
            {
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            } else if line.is_empty() && !data.is_empty() {
                return Some((name, data));
            }
        }
    }
}
