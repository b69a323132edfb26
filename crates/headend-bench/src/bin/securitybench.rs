//! `dangjian-securitybench`: how a release headend holds up against the
//! attacks of the security issue, for `cargo xtask bench security`.
//!
//! Phases, each with a bystander polling `GET /api/v1/regions` on its own
//! connection the whole time (its latency is what other users feel):
//! - `login`: wrong passwords for the county admin from one address, as
//!   fast as the headend answers: how many were judged (401) before the
//!   first `429`, and the rate judged after that (the sustained budget).
//! - `provision`: wrong installer codes from one address, the same.
//! - `xlsx`: the whole-grid workbook (`A1` and `XFD1048576`) imported by
//!   an editor: time to the refusal and the headend's peak RSS above idle.
//! - `csv`: a 16 MB CSV the same way.
//!
//! Peak RSS is the headend's `VmHWM`, reset before each phase through
//! `/proc/<pid>/clear_refs`. Prints one JSON object.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/http1.rs"]
mod http1;
use http1::response;

const VILLAGE: &str = "990101101001";
const WHOLE_GRID: &[u8] = include_bytes!("../../../headend/tests/fixtures/whole-grid.xlsx");

struct Args {
    addr: SocketAddr,
    pid: u32,
    seconds: f64,
}

fn parse() -> Result<Args, String> {
    let mut addr = None;
    let mut pid = None;
    let mut seconds = 20.0;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = Some(value.parse().map_err(|e| format!("--addr: {e}"))?),
            "--headend-pid" => {
                pid = Some(value.parse().map_err(|e| format!("--headend-pid: {e}"))?)
            }
            "--seconds" => seconds = value.parse().map_err(|e| format!("--seconds: {e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        addr: addr.ok_or("--addr is required")?,
        pid: pid.ok_or("--headend-pid is required")?,
        seconds,
    })
}

fn request(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nhost: bench\r\n{headers}content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// One request on a fresh connection: (status, body).
async fn once(addr: SocketAddr, bytes: &[u8]) -> Result<(u16, Vec<u8>), String> {
    http1::once(addr, bytes)
        .await
        .map(|(status, _, body)| (status, body))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Polls the region list until `stop`; latencies in ms and failures.
fn bystander(addr: SocketAddr, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(Vec<f64>, u64)> {
    tokio::spawn(async move {
        let get = request("GET", "/api/v1/regions", "", b"");
        let mut latencies = Vec::new();
        let mut failures = 0u64;
        let mut conn: Option<(TcpStream, Vec<u8>)> = None;
        while !stop.load(Ordering::Relaxed) {
            if conn.is_none() {
                match TcpStream::connect(addr).await {
                    Ok(s) => conn = Some((s, Vec::new())),
                    Err(_) => {
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
            }
            let Some((s, buf)) = conn.as_mut() else {
                continue;
            };
            let t = Instant::now();
            let ok = s.write_all(&get).await.is_ok()
                && matches!(response(s, buf).await, Ok((200, _, _)));
            if ok {
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            } else {
                failures += 1;
                conn = None;
            }
            // A user clicking, not a load generator.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (latencies, failures)
    })
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak(pid: u32) {
    // "5" resets the peak resident set size (VmHWM) to the current one.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Sends attempts made by `make(i)` back to back for `seconds`; counts
/// answers by status.
async fn attempts(
    addr: SocketAddr,
    seconds: f64,
    make: impl Fn(u64) -> Vec<u8>,
) -> serde_json::Value {
    let started = Instant::now();
    let mut judged = 0u64;
    let mut throttled = 0u64;
    let mut other = 0u64;
    let mut before_first_429: Option<u64> = None;
    let mut first_429_at: Option<f64> = None;
    let mut judged_after = 0u64;
    let mut i = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        i += 1;
        match once(addr, &make(i)).await {
            Ok((429, _)) => {
                throttled += 1;
                if first_429_at.is_none() {
                    first_429_at = Some(started.elapsed().as_secs_f64());
                    before_first_429 = Some(judged);
                }
            }
            Ok((s, _)) if (400..500).contains(&s) => {
                judged += 1;
                if first_429_at.is_some() {
                    judged_after += 1;
                }
            }
            _ => other += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after_secs = first_429_at.map(|t| elapsed - t).unwrap_or(0.0);
    serde_json::json!({
        "seconds": elapsed,
        "attempts": i,
        "answers_per_second": i as f64 / elapsed,
        "judged": judged,
        "throttled_429": throttled,
        "other": other,
        "judged_before_first_429": before_first_429,
        "first_429_after_seconds": first_429_at,
        "judged_per_second_after_throttling": if after_secs > 0.0 { judged_after as f64 / after_secs } else { f64::NAN },
    })
}

/// One refused import: (status, seconds, peak RSS above idle in MiB).
async fn refused_import(
    addr: SocketAddr,
    pid: u32,
    token: &str,
    format: &str,
    file: &[u8],
) -> serde_json::Value {
    let idle = rss_kib(pid, "VmRSS:");
    reset_peak(pid);
    let path = format!(
        "/api/v1/admin/import?scope={VILLAGE}&category=finance&module=bench&period=2026&format={format}"
    );
    let t = Instant::now();
    let answer = once(
        addr,
        &request(
            "POST",
            &path,
            &format!("authorization: Bearer {token}\r\ncontent-type: application/octet-stream\r\n"),
            file,
        ),
    )
    .await;
    let seconds = t.elapsed().as_secs_f64();
    let peak = rss_kib(pid, "VmHWM:");
    serde_json::json!({
        "bytes": file.len(),
        "status": answer.as_ref().map(|a| a.0).unwrap_or(0),
        "refused_in_ms": seconds * 1000.0,
        "rss_idle_mib": idle as f64 / 1024.0,
        "rss_peak_above_idle_mib": peak.saturating_sub(idle) as f64 / 1024.0,
    })
}

async fn phase<F: std::future::Future<Output = serde_json::Value>>(
    addr: SocketAddr,
    work: F,
) -> serde_json::Value {
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = bystander(addr, stop.clone());
    let mut result = work.await;
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, failures) = watcher.await.unwrap_or_default();
    latencies.sort_by(f64::total_cmp);
    result["regions_during"] = serde_json::json!({
        "requests": latencies.len(),
        "failures": failures,
        "p50_ms": percentile(&latencies, 0.5),
        "p99_ms": percentile(&latencies, 0.99),
        "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
    });
    result
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    let addr = args.addr;
    let (user, _) = headend_seed::DEMO_ADMIN;
    // The imports need a session; take it before the guessing starts (a
    // session outlives a lock-out of its account).
    let token = http1::login(addr).await;
    let login = phase(
        addr,
        attempts(addr, args.seconds, |i| {
            let body = serde_json::json!({ "username": user, "password": format!("guess-{i}") })
                .to_string();
            request(
                "POST",
                "/api/v1/admin/login",
                "content-type: application/json\r\n",
                body.as_bytes(),
            )
        }),
    )
    .await;
    let provision = phase(
        addr,
        attempts(addr, args.seconds, |i| {
            let body = serde_json::json!({ "village": VILLAGE, "code": format!("{:08}", (i * 7_919) % 100_000_000) })
                .to_string();
            request(
                "POST",
                "/api/v1/provision",
                "content-type: application/json\r\n",
                body.as_bytes(),
            )
        }),
    )
    .await;
    let (xlsx, csv) = match token {
        Ok(token) => {
            let xlsx = phase(
                addr,
                refused_import(addr, args.pid, &token, "xlsx", WHOLE_GRID),
            )
            .await;
            let mut big = String::from("户主,金额（元）\n");
            while big.len() < 16 * 1024 * 1024 - 64 {
                big.push_str("王建国,320.00\n");
            }
            let csv = phase(
                addr,
                refused_import(addr, args.pid, &token, "csv", big.as_bytes()),
            )
            .await;
            (xlsx, csv)
        }
        Err(e) => {
            let why =
                serde_json::json!({ "error": format!("the county admin could not log in: {e}") });
            (why.clone(), why)
        }
    };
    Ok(serde_json::json!({
        "login_one_address": login,
        "provision_one_address": provision,
        "xlsx_whole_grid": xlsx,
        "csv_16_mb": csv,
    }))
}

fn main() {
    cli::main_with("dangjian-securitybench", false, parse, run);
}
