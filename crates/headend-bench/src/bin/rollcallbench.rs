//! `dangjian-rollcallbench`: simulated boxes for `cargo xtask bench
//! rollcall`. Holds one push connection per box (`bench-box-<n>`), starts a
//! roll-call through the admin API, times its arrival at every box, then
//! sends every box's sign-in as the box would (one `POST
//! /api/v1/submissions` each) over a pool of keep-alive connections.
//! Prints JSON on stdout. Loopback only; raise `ulimit -n` first.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};

#[path = "common/cli.rs"]
mod cli;
#[path = "common/http1.rs"]
mod http1;
use http1::find;

#[path = "common/measure.rs"]
mod measure;
use measure::{percentile, rss_mib};

struct Args {
    addr: SocketAddr,
    boxes: usize,
    meeting: String,
    headend_pid: u32,
    concurrency: usize,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut addr, mut boxes, mut meeting, mut pid, mut concurrency) = (None, 0, None, 0, 64);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--addr" => addr = Some(value()?.parse().map_err(|e| format!("--addr: {e}"))?),
            "--boxes" => boxes = value()?.parse().map_err(|e| format!("--boxes: {e}"))?,
            "--meeting" => meeting = Some(value()?),
            "--headend-pid" => {
                pid = value()?
                    .parse()
                    .map_err(|e| format!("--headend-pid: {e}"))?
            }
            "--concurrency" => {
                concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        addr: addr.ok_or("--addr is required")?,
        boxes,
        meeting: meeting.ok_or("--meeting is required")?,
        headend_pid: pid,
        concurrency,
    })
}

/// One response: (status, body). Bytes past it stay in `buf`.
async fn response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, Vec<u8>)> {
    http1::response(s, buf)
        .await
        .map(|(status, _, body)| (status, body))
}

async fn request(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, Vec<u8>), String> {
    http1::once(
        addr,
        http1::json_request(method, path, token, body).as_bytes(),
    )
    .await
    .map(|(status, _, body)| (status, body))
}

/// One box: holds its push connection, notes when the roll-call arrives,
/// and hangs up when told.
async fn hold(
    addr: SocketAddr,
    n: usize,
    connecting: Arc<Semaphore>,
    connected: Arc<AtomicUsize>,
    arrived: Arc<Mutex<Vec<Option<Instant>>>>,
    mut stop: watch::Receiver<bool>,
) {
    let stream = {
        let _permit = connecting.acquire().await;
        let Ok(mut s) = TcpStream::connect(addr).await else {
            return;
        };
        let req = format!(
            "GET /api/v1/events?device=bench-box-{n} HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\nauthorization: Bearer demo-token-bench-box-{n}\r\n\r\n"
        );
        if s.write_all(req.as_bytes()).await.is_err() {
            return;
        }
        s
    };
    let mut s = stream;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut tmp = [0u8; 1024];
    let mut counted = false;
    loop {
        tokio::select! {
            read = s.read(&mut tmp) => {
                let Ok(k) = read else { return };
                if k == 0 {
                    return;
                }
                buf.extend_from_slice(&tmp[..k]);
                if !counted && find(&buf, b"\r\n\r\n").is_some() {
                    counted = true;
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                if find(&buf, b"event: rollcall").is_some() {
                    if let Ok(mut a) = arrived.lock() {
                        a[n].get_or_insert_with(Instant::now);
                    }
                    buf.clear();
                } else if buf.len() > 8192 {
                    buf.drain(..buf.len() - 64);
                }
            }
            _ = stop.changed() => return,
        }
    }
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    // The demo county admin starts the roll-call, as staff would.
    let token = http1::login(args.addr).await?;
    let rss_idle = rss_mib(args.headend_pid);
    let arrived = Arc::new(Mutex::new(vec![None; args.boxes]));
    let connected = Arc::new(AtomicUsize::new(0));
    let connecting = Arc::new(Semaphore::new(256));
    let (stop_tx, stop) = watch::channel(false);
    let started_connecting = Instant::now();
    for n in 0..args.boxes {
        tokio::spawn(hold(
            args.addr,
            n,
            connecting.clone(),
            connected.clone(),
            arrived.clone(),
            stop.clone(),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected.load(Ordering::Relaxed) < args.boxes {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {} boxes connected",
                connected.load(Ordering::Relaxed),
                args.boxes
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_secs = started_connecting.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_held = rss_mib(args.headend_pid);

    // Start the roll-call and time its arrival at every box.
    let t0 = Instant::now();
    let (status, body) = request(
        args.addr,
        &token,
        "POST",
        &format!("/api/v1/admin/meetings/{}/rollcalls", args.meeting),
        "{\"window_secs\":120}",
    )
    .await?;
    if status != 201 {
        return Err(format!(
            "starting the roll-call: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let started: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let rollcall = started["id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = arrived
            .lock()
            .map(|a| a.iter().filter(|t| t.is_some()).count())
            .unwrap_or(0);
        if done == args.boxes || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut delivery: Vec<f64> = arrived
        .lock()
        .map(|a| {
            a.iter()
                .flatten()
                .map(|t| t.duration_since(t0).as_secs_f64() * 1000.0)
                .collect()
        })
        .unwrap_or_default();
    let delivered = delivery.len();
    let rss_after_push = rss_mib(args.headend_pid);

    // Every box signs in, as boxes do: one request each, many at once.
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.boxes)));
    let failures = Arc::new(AtomicUsize::new(0));
    let t1 = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (next, latencies, failures, rollcall) = (
            next.clone(),
            latencies.clone(),
            failures.clone(),
            rollcall.clone(),
        );
        let addr = args.addr;
        let boxes = args.boxes;
        workers.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(addr).await else {
                failures.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let mut buf = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= boxes {
                    return;
                }
                let body = format!(
                    "{{\"device\":\"bench-box-{n}\",\"items\":[{{\"key\":\"bench-{n}\",\"kind\":\"signin\",\"payload\":{{\"rollcall\":\"{rollcall}\",\"member\":\"bench-m-{n}\",\"elapsed_ms\":1500}}}}]}}"
                );
                let req = format!(
                    "POST /api/v1/submissions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nauthorization: Bearer demo-token-bench-box-{n}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let sent = Instant::now();
                let ok = match s.write_all(req.as_bytes()).await {
                    Ok(()) => matches!(response(&mut s, &mut buf).await, Ok((200, b)) if find(&b, b"accepted").is_some()),
                    Err(_) => false,
                };
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                if let Ok(mut l) = latencies.lock() {
                    l.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let ingest_secs = t1.elapsed().as_secs_f64();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let signed = lat.len();
    let rss_end = rss_mib(args.headend_pid);
    let _ = stop_tx.send(true);

    let (_, attendance) = request(
        args.addr,
        &token,
        "GET",
        &format!("/api/v1/admin/rollcalls/{rollcall}/attendance"),
        "",
    )
    .await?;
    let attendance: serde_json::Value =
        serde_json::from_slice(&attendance).map_err(|e| e.to_string())?;

    Ok(serde_json::json!({
        "boxes": args.boxes,
        "connect_seconds": connect_secs,
        "push": {
            "delivered": delivered,
            "p50_ms": percentile(&mut delivery, 0.50),
            "p99_ms": percentile(&mut delivery, 0.99),
            "max_ms": percentile(&mut delivery, 1.0),
        },
        "signin": {
            "requests": signed,
            "failures": failures.load(Ordering::Relaxed),
            "concurrency": args.concurrency,
            "per_second": signed as f64 / ingest_secs,
            "p50_ms": percentile(&mut lat, 0.50),
            "p99_ms": percentile(&mut lat, 0.99),
            "present_at_headend": attendance["present"],
        },
        "headend_rss_mib": {
            "idle": rss_idle,
            "holding_connections": rss_held,
            "after_push": rss_after_push,
            "after_signins": rss_end,
        },
    }))
}

fn main() {
    cli::main_with("dangjian-rollcallbench", true, parse, run);
}
