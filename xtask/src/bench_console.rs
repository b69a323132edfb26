//! `cargo xtask bench console`: server time of each web console page on
//! the demo data, as the release headend reports it in `Server-Timing`,
//! and the round trip on loopback. Writes target/bench/console.json.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::bench::{machine, write_json};
use crate::demo::start_demo_headend;
use crate::system::{self, workspace_root};

const WARMUP: usize = 5;
const ROUNDS: usize = 50;

struct Answer {
    status: u16,
    server_ms: Option<f64>,
    body: String,
}

fn request(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> Result<Answer> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").context("no header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    let server_ms = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("server-timing: app;dur=")
                .map(str::to_string)
        })
        .and_then(|v| v.trim().parse().ok());
    Ok(Answer {
        status,
        server_ms,
        body: body.to_string(),
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn console() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&[
        "build",
        "--release",
        "-p",
        "headend",
        "-p",
        "headend-bench",
        "--bins",
    ])?;
    let dir = workspace_root().join("target/bench/console");
    let headend = start_demo_headend("release", &dir, &[])?;
    let addr = headend
        .url
        .strip_prefix("http://")
        .context("headend url")?
        .to_string();
    let login = json!({ "username": "qingshan-admin", "password": "dangjian-demo" }).to_string();
    let answer = request(
        &addr,
        "POST",
        "/api/v1/admin/login",
        "content-type: application/json\r\n",
        &login,
    )?;
    let session: serde_json::Value = serde_json::from_str(&answer.body)?;
    let token = session["token"]
        .as_str()
        .context("login token")?
        .to_string();
    // One draft with a table, so the draft page has something to show.
    let draft = json!({ "scope": "990101101001", "content": {
        "kind": "disclosure", "category": "finance", "module": "补助资金",
        "title": "基准测试草稿", "period": "2026年11月",
        "body": [ { "type": "table", "caption": "明细",
            "columns": [ { "name": "户主", "kind": "text" }, { "name": "金额", "kind": "money" } ],
            "rows": [ ["王建国", "320.00"], ["李桂兰", "280.50"] ], "totals": ["合计", "600.50"] } ] } });
    let created = request(
        &addr,
        "POST",
        "/api/v1/admin/content",
        &format!("content-type: application/json\r\nauthorization: Bearer {token}\r\n"),
        &draft.to_string(),
    )?;
    let id = serde_json::from_str::<serde_json::Value>(&created.body)?["id"]
        .as_i64()
        .context("draft id")?;
    let cookie = format!("cookie: dangjian_session={token}\r\n");
    let draft_page = format!("/console/content/{id}");
    let pages = [
        "/console/login",
        "/console/",
        "/console/content",
        "/console/content/new",
        draft_page.as_str(),
        "/console/review",
        "/console/import",
        "/console/meetings",
        "/console/services",
        "/console/devices",
        "/console/accounts",
    ];
    let mut results = Vec::new();
    for page in pages {
        let mut server = Vec::new();
        let mut round_trip = Vec::new();
        for i in 0..WARMUP + ROUNDS {
            let started = Instant::now();
            let a = request(&addr, "GET", page, &cookie, "")?;
            let rt = started.elapsed().as_secs_f64() * 1000.0;
            if a.status != 200 {
                bail!("{page} answered {}", a.status);
            }
            if i >= WARMUP {
                server.push(a.server_ms.context("no Server-Timing header")?);
                round_trip.push(rt);
            }
        }
        server.sort_by(f64::total_cmp);
        round_trip.sort_by(f64::total_cmp);
        let r = json!({
            "page": page,
            "server_p50_ms": percentile(&server, 0.5),
            "server_p99_ms": percentile(&server, 0.99),
            "server_max_ms": server.last().copied().unwrap_or(f64::NAN),
            "round_trip_p50_ms": percentile(&round_trip, 0.5),
        });
        println!(
            "{page:<24} server p50 {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms  (round trip p50 {:.2} ms)",
            percentile(&server, 0.5),
            percentile(&server, 0.99),
            server.last().copied().unwrap_or(f64::NAN),
            percentile(&round_trip, 0.5)
        );
        results.push(r);
    }
    drop(headend);
    let worst = results
        .iter()
        .filter_map(|r| r["server_max_ms"].as_f64())
        .fold(0.0_f64, f64::max);
    println!("slowest single page view: {worst:.2} ms server time (target < 200 ms)");
    write_json(
        "console",
        &json!({
            "bench": "console",
            "what": format!("release dangjian-headend with the demo county on loopback; each console page fetched {ROUNDS} times (after {WARMUP} warm-up) one at a time with the demo county admin's session; server time from the Server-Timing header the console sets (handler plus middleware), round trip measured by the client"),
            "targets": { "server_ms_per_page": 200 },
            "machine": machine(),
            "slowest_ms": worst,
            "results": results,
        }),
    )
}
