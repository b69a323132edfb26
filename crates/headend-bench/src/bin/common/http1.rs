//! The little HTTP/1.1 the benchmark clients need: keep-alive responses
//! with a Content-Length, read from a tokio socket; one request on a fresh
//! connection; the demo admin's login; a caught-up box's feed poll.

// Each client uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1.1 response with a Content-Length body (or none):
/// (status, head lowercased, body). Bytes past it stay in `buf`.
pub async fn response(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut tmp = [0u8; 16384];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            return Ok((status, head, body));
        }
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// `request` (a whole HTTP/1.1 request) on a fresh connection: (status,
/// head lowercased, body).
pub async fn once(addr: SocketAddr, request: &[u8]) -> Result<(u16, String, Vec<u8>), String> {
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    s.write_all(request).await.map_err(|e| e.to_string())?;
    response(&mut s, &mut Vec::new())
        .await
        .map_err(|e| e.to_string())
}

/// A JSON request with a bearer token (none when empty).
pub fn json_request(method: &str, path: &str, token: &str, body: &str) -> String {
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("authorization: Bearer {token}\r\n")
    };
    format!(
        "{method} {path} HTTP/1.1\r\nhost: bench\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The demo county admin's session token, as staff log in.
pub async fn login(addr: SocketAddr) -> Result<String, String> {
    let (user, password) = headend_seed::DEMO_ADMIN;
    let body = serde_json::json!({ "username": user, "password": password }).to_string();
    let request = json_request("POST", "/api/v1/admin/login", "", &body);
    let (status, _, answer) = once(addr, request.as_bytes()).await?;
    if status != 200 {
        return Err(format!("logging in as {user}: {status}"));
    }
    let session: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    session["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the login answer has no token".into())
}

/// A caught-up box's poll of `village`'s feed: catches up as a box would,
/// then returns the request with the cursor and ETag it holds (answered
/// 304 while nothing changes).
pub async fn caught_up_poll(addr: SocketAddr, village: &str) -> Result<String, String> {
    let mut since = 0u64;
    loop {
        let request = format!(
            "GET /api/v1/feed?scope={village}&since={since}&limit=1000 HTTP/1.1\r\nhost: bench\r\n\r\n"
        );
        let (status, head, body) = once(addr, request.as_bytes()).await?;
        if status != 200 {
            return Err(format!("feed answered {status}"));
        }
        let page: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        since = page["next_cursor"].as_u64().unwrap_or(since);
        if page["more"] != true {
            let etag = head
                .lines()
                .find_map(|l| l.strip_prefix("etag:"))
                .map(|v| v.trim().to_string())
                .ok_or("the feed sent no etag")?;
            return Ok(format!(
                "GET /api/v1/feed?scope={village}&since={since}&limit=1000 HTTP/1.1\r\nhost: bench\r\nif-none-match: {etag}\r\n\r\n"
            ));
        }
    }
}
