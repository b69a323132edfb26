//! `dangjian-loadgen`: keep-alive HTTP/1.1 load on a headend over loopback
//! for `cargo xtask bench headend`. Scenarios: the feed answered in full
//! (200), the feed of a box that is caught up (304 with its ETag), and an
//! admin list read with a staff session. Prints one JSON object.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/http1.rs"]
mod http1;
use http1::{caught_up_poll, login, response};

const VILLAGE: &str = "990101101001";
const COUNTY: &str = "990101000000";

struct Args {
    addr: SocketAddr,
    scenario: String,
    connections: usize,
    seconds: f64,
}

fn parse() -> Result<Args, String> {
    let mut addr = None;
    let mut scenario = None;
    let mut connections = 32;
    let mut seconds = 10.0;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = Some(value.parse().map_err(|e| format!("--addr: {e}"))?),
            "--scenario" => scenario = Some(value),
            "--connections" => connections = value.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => seconds = value.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        addr: addr.ok_or("--addr is required")?,
        scenario: scenario.ok_or("--scenario feed200|feed304|admin is required")?,
        connections,
        seconds,
    })
}

/// The request a scenario repeats, and the status it expects.
async fn prepare(addr: SocketAddr, scenario: &str) -> Result<(String, u16), String> {
    match scenario {
        "feed200" => Ok((
            format!("GET /api/v1/feed?scope={VILLAGE}&since=0&limit=500 HTTP/1.1\r\nhost: bench\r\n\r\n"),
            200,
        )),
        "feed304" => Ok((caught_up_poll(addr, VILLAGE).await?, 304)),
        "admin" => {
            let token = login(addr).await?;
            Ok((
                format!("GET /api/v1/admin/service-requests?region={COUNTY} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {token}\r\n\r\n"),
                200,
            ))
        }
        other => Err(format!("unknown scenario {other}")),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    let (request, expect) = prepare(args.addr, &args.scenario).await?;
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let wrong = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let (request, stop, latencies, wrong) = (
            request.clone(),
            stop.clone(),
            latencies.clone(),
            wrong.clone(),
        );
        let addr = args.addr;
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(100_000);
            let mut bad = 0u64;
            let Ok(mut s) = TcpStream::connect(addr).await else {
                return;
            };
            let _ = s.set_nodelay(true);
            let mut buf = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if s.write_all(request.as_bytes()).await.is_err() {
                    break;
                }
                match response(&mut s, &mut buf).await {
                    Ok((status, _, _)) => {
                        mine.push(t.elapsed().as_secs_f64() * 1000.0);
                        if status != expect {
                            bad += 1;
                        }
                    }
                    Err(_) => break,
                }
            }
            if let Ok(mut all) = latencies.lock() {
                all.extend(mine);
            }
            if let Ok(mut w) = wrong.lock() {
                *w += bad;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort_by(f64::total_cmp);
    let wrong = wrong.lock().map(|w| *w).unwrap_or(0);
    Ok(serde_json::json!({
        "scenario": args.scenario,
        "expected_status": expect,
        "connections": args.connections,
        "seconds": elapsed,
        "requests": all.len(),
        "requests_per_second": all.len() as f64 / elapsed,
        "p50_ms": percentile(&all, 0.50),
        "p99_ms": percentile(&all, 0.99),
        "max_ms": all.last().copied().unwrap_or(f64::NAN),
        "unexpected_status": wrong,
    }))
}

fn main() {
    // One thread: the headend under test gets the other core.
    cli::main_with("dangjian-loadgen", false, parse, run);
}
