//! `dangjian-citybench`: a city's boxes against one or more headend
//! replicas, for `cargo xtask bench city`.
//!
//! Box `bench-box-<n>` holds its push stream on replica `n % replicas`,
//! connecting from one of several loopback source addresses (one address
//! has ~28,000 ephemeral ports). Then: a roll-call is started through the
//! admin API on the first replica and its arrival is timed at every box;
//! every box signs in (`POST /api/v1/submissions`) over keep-alive
//! connections spread over the replicas; caught-up boxes poll the feed
//! (304) for a while, all with the push streams still held. When not every
//! box could connect, the figures are for those that did, and the output
//! says where connecting stopped and why. Prints one JSON object.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

#[path = "common/http1.rs"]
mod http1;
use http1::{find, response};

#[path = "common/measure.rs"]
mod measure;
use measure::{percentile, rss_mib};

/// The village whose feed caught-up boxes poll (the demo's 东坡村).
const VILLAGE: &str = "990101101001";

/// Connecting stops when nothing more connected for this long.
const STALL: Duration = Duration::from_secs(60);

struct Args {
    replicas: Vec<SocketAddr>,
    pids: Vec<u32>,
    sources: Vec<IpAddr>,
    boxes: usize,
    meeting: String,
    concurrency: usize,
    feed_seconds: f64,
}

fn list<T: std::str::FromStr>(flag: &str, value: &str) -> Result<Vec<T>, String>
where
    T::Err: std::fmt::Display,
{
    value
        .split(',')
        .map(|v| v.trim().parse().map_err(|e| format!("{flag}: {v:?}: {e}")))
        .collect()
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        replicas: vec![],
        pids: vec![],
        sources: vec![],
        boxes: 0,
        meeting: String::new(),
        concurrency: 128,
        feed_seconds: 10.0,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--replicas" => a.replicas = list(&flag, &value)?,
            "--pids" => a.pids = list(&flag, &value)?,
            "--sources" => a.sources = list(&flag, &value)?,
            "--boxes" => a.boxes = number(&value)?,
            "--meeting" => a.meeting = value,
            "--concurrency" => a.concurrency = number(&value)?.max(1),
            "--feed-seconds" => {
                a.feed_seconds = value.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.replicas.is_empty() || a.meeting.is_empty() || a.boxes == 0 {
        return Err("--replicas, --meeting and --boxes are required".into());
    }
    if a.sources.is_empty() {
        a.sources.push(IpAddr::from([127, 0, 0, 1]));
    }
    Ok(a)
}

/// Where connection `n` goes and comes from.
fn route(args: &Args, n: usize) -> (SocketAddr, IpAddr) {
    let replica = args.replicas[n % args.replicas.len()];
    let source = args.sources[(n / args.replicas.len()) % args.sources.len()];
    (replica, source)
}

async fn connect(to: SocketAddr, from: IpAddr) -> std::io::Result<TcpStream> {
    let socket = if from.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(from, 0))?;
    let s = socket.connect(to).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

async fn request(
    to: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, String, Vec<u8>), String> {
    let mut s = TcpStream::connect(to).await.map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    response(&mut s, &mut Vec::new())
        .await
        .map_err(|e| e.to_string())
}

/// What the boxes share while they hold their streams.
struct Boxes {
    base: Instant,
    connected: AtomicUsize,
    /// Why connections failed, by reason.
    failed: Mutex<BTreeMap<String, usize>>,
    /// Microseconds after `base` (plus one) when the roll-call arrived.
    arrived: Vec<AtomicU64>,
    /// Streams that ended after they were connected.
    dropped: AtomicUsize,
}

impl Boxes {
    fn fail(&self, why: String) {
        if let Ok(mut f) = self.failed.lock() {
            *f.entry(why).or_default() += 1;
        }
    }
}

/// One box: connects, holds its push stream, notes when the roll-call
/// arrives. The read buffer is small and reused: a box keeps only the
/// tail it needs to find the event name across reads.
async fn hold(
    to: SocketAddr,
    from: IpAddr,
    n: usize,
    boxes: Arc<Boxes>,
    connecting: Arc<Semaphore>,
) {
    let mut s = {
        let _permit = connecting.acquire().await;
        let mut s = match connect(to, from).await {
            Ok(s) => s,
            Err(e) => return boxes.fail(format!("connect: {e}")),
        };
        let req = format!(
            "GET /api/v1/events?device=bench-box-{n} HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\nauthorization: Bearer demo-token-bench-box-{n}\r\n\r\n"
        );
        if let Err(e) = s.write_all(req.as_bytes()).await {
            return boxes.fail(format!("send: {e}"));
        }
        // The answer's head: 200 and the stream, or a refusal.
        let mut head = Vec::with_capacity(512);
        let mut tmp = [0u8; 512];
        loop {
            match s.read(&mut tmp).await {
                Ok(0) => return boxes.fail("closed before answering".into()),
                Ok(k) => head.extend_from_slice(&tmp[..k]),
                Err(e) => return boxes.fail(format!("read: {e}")),
            }
            if find(&head, b"\r\n\r\n").is_some() {
                break;
            }
            if head.len() > 8192 {
                return boxes.fail("answer head too long".into());
            }
        }
        let status = String::from_utf8_lossy(&head[..head.len().min(12)]).to_string();
        if !status.starts_with("HTTP/1.1 200") {
            return boxes.fail(format!("answered {}", status.trim()));
        }
        boxes.connected.fetch_add(1, Ordering::Relaxed);
        if find(&head, b"event: rollcall").is_some() {
            let _ = boxes.arrived[n].compare_exchange(
                0,
                boxes.base.elapsed().as_micros() as u64 + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        s
    };
    // Held until the process exits: no timer per box, so 130,000 idle
    // boxes cost no wake-ups.
    let mut buf = [0u8; 1024];
    let mut kept = 0usize;
    loop {
        let k = match s.read(&mut buf[kept..]).await {
            Ok(0) | Err(_) => {
                boxes.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(k) => k,
        };
        let end = kept + k;
        if find(&buf[..end], b"event: rollcall").is_some() {
            let _ = boxes.arrived[n].compare_exchange(
                0,
                boxes.base.elapsed().as_micros() as u64 + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        // Keep a tail long enough to hold a split event name.
        let tail = end.min(32);
        buf.copy_within(end - tail..end, 0);
        kept = tail;
    }
}

/// Connects every box; returns (seconds taken, how it ended).
async fn connect_all(args: &Args, boxes: &Arc<Boxes>) -> (f64, serde_json::Value) {
    let started = Instant::now();
    let connecting = Arc::new(Semaphore::new(512));
    for n in 0..args.boxes {
        let (to, from) = route(args, n);
        tokio::spawn(hold(to, from, n, boxes.clone(), connecting.clone()));
    }
    let (mut last, mut last_change) = (0usize, Instant::now());
    let mut next_report = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let connected = boxes.connected.load(Ordering::Relaxed);
        let failed: usize = boxes.failed.lock().map(|f| f.values().sum()).unwrap_or(0);
        if Instant::now() >= next_report {
            eprintln!("citybench: {connected} boxes connected, {failed} failed");
            next_report += Duration::from_secs(10);
        }
        if connected != last {
            (last, last_change) = (connected, Instant::now());
        }
        let stalled = last_change.elapsed() > STALL;
        if connected + failed >= args.boxes || stalled {
            let reasons = boxes.failed.lock().map(|f| f.clone()).unwrap_or_default();
            let secs = started.elapsed().as_secs_f64();
            let why = if connected == args.boxes {
                serde_json::Value::Null
            } else if reasons.is_empty() {
                format!("nothing more connected for {} s", STALL.as_secs()).into()
            } else {
                serde_json::json!(reasons)
            };
            return (
                secs,
                serde_json::json!({ "asked": args.boxes, "connected": connected, "failed": failed, "why_not_all": why }),
            );
        }
    }
}

async fn login(to: SocketAddr) -> Result<String, String> {
    let (user, password) = headend_seed::DEMO_ADMIN;
    let body = serde_json::json!({ "username": user, "password": password }).to_string();
    let (status, _, answer) = request(to, "", "POST", "/api/v1/admin/login", &body).await?;
    if status != 200 {
        return Err(format!("logging in as {user}: {status}"));
    }
    let session: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    Ok(session["token"].as_str().unwrap_or_default().to_string())
}

/// Starts the roll-call on the first replica; times its arrival at every
/// connected box.
async fn push(
    args: &Args,
    boxes: &Arc<Boxes>,
    token: &str,
) -> Result<(String, serde_json::Value), String> {
    let connected = boxes.connected.load(Ordering::Relaxed);
    let t0 = boxes.base.elapsed().as_micros() as u64;
    let (status, _, body) = request(
        args.replicas[0],
        token,
        "POST",
        &format!("/api/v1/admin/meetings/{}/rollcalls", args.meeting),
        "{\"window_secs\":600}",
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
    let arrived = || {
        boxes
            .arrived
            .iter()
            .filter(|a| a.load(Ordering::Relaxed) != 0)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrived() < connected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut ms: Vec<f64> = boxes
        .arrived
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .filter(|&a| a != 0)
        .map(|a| (a - 1).saturating_sub(t0) as f64 / 1000.0)
        .collect();
    Ok((
        rollcall,
        serde_json::json!({
            "boxes_holding": connected,
            "delivered": ms.len(),
            "p50_ms": percentile(&mut ms, 0.50),
            "p99_ms": percentile(&mut ms, 0.99),
            "max_ms": percentile(&mut ms, 1.0),
        }),
    ))
}

/// Keep-alive workers, worker `w` on replica `w % replicas`; each calls
/// `next` for its next request until it says stop. Returns latencies (ms),
/// failures and the first few reasons.
async fn workers<F>(args: &Args, count: usize, next: F) -> (Vec<f64>, usize, Vec<String>, f64)
where
    F: Fn() -> Option<(String, u16)> + Send + Sync + 'static,
{
    let next = Arc::new(next);
    let out = Arc::new(Mutex::new((Vec::new(), 0usize, Vec::<String>::new())));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..count {
        // Past the boxes' own addresses, so their ports are not taken.
        let (to, from) = route(args, args.boxes + w);
        let (next, out) = (next.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut why = None;
            let mut failed = 0;
            match connect(to, from).await {
                Err(e) => {
                    failed += 1;
                    why = Some(format!("connect: {e}"));
                }
                Ok(mut s) => {
                    let mut buf = Vec::new();
                    while let Some((req, expect)) = next() {
                        let t = Instant::now();
                        let answer = match s.write_all(req.as_bytes()).await {
                            Ok(()) => response(&mut s, &mut buf).await,
                            Err(e) => Err(e),
                        };
                        match answer {
                            Ok((status, _, _)) if status == expect => {
                                mine.push(t.elapsed().as_secs_f64() * 1000.0)
                            }
                            Ok((status, _, body)) => {
                                failed += 1;
                                why.get_or_insert(format!(
                                    "answered {status}: {}",
                                    String::from_utf8_lossy(&body)
                                ));
                            }
                            Err(e) => {
                                failed += 1;
                                why = Some(format!("connection: {e}"));
                                break;
                            }
                        }
                    }
                }
            }
            if let Ok(mut o) = out.lock() {
                o.0.extend(mine);
                o.1 += failed;
                if let Some(why) = why {
                    if o.2.len() < 5 {
                        o.2.push(why);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let (lat, failed, why) = out.lock().map(|o| o.clone()).unwrap_or_default();
    (lat, failed, why, secs)
}

/// Every connected box signs in once, as boxes do.
async fn sign_ins(args: &Args, rollcall: &str) -> serde_json::Value {
    let boxes = args.boxes;
    let n = Arc::new(AtomicUsize::new(0));
    let rollcall = rollcall.to_string();
    let (mut lat, failed, why, secs) = workers(args, args.concurrency, move || {
        let n = n.fetch_add(1, Ordering::Relaxed);
        (n < boxes).then(|| {
            let body = format!(
                "{{\"device\":\"bench-box-{n}\",\"items\":[{{\"key\":\"city-{n}\",\"kind\":\"signin\",\"payload\":{{\"rollcall\":\"{rollcall}\",\"member\":\"bench-m-{n}\",\"elapsed_ms\":1500}}}}]}}"
            );
            (format!(
                "POST /api/v1/submissions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nauthorization: Bearer demo-token-bench-box-{n}\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ), 200)
        })
    })
    .await;
    serde_json::json!({
        "requests": lat.len(),
        "failed": failed,
        "why_failed": why,
        "concurrency": args.concurrency,
        "per_second": lat.len() as f64 / secs,
        "p50_ms": percentile(&mut lat, 0.50),
        "p99_ms": percentile(&mut lat, 0.99),
        "max_ms": percentile(&mut lat, 1.0),
    })
}

/// A caught-up box's poll: the feed request with the ETag it holds.
async fn caught_up_poll(to: SocketAddr) -> Result<String, String> {
    let mut since = 0u64;
    loop {
        let path = format!("/api/v1/feed?scope={VILLAGE}&since={since}&limit=1000");
        let (status, head, body) = request(to, "", "GET", &path, "").await?;
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
                "GET /api/v1/feed?scope={VILLAGE}&since={since}&limit=1000 HTTP/1.1\r\nhost: bench\r\nif-none-match: {etag}\r\n\r\n"
            ));
        }
    }
}

async fn feed_polls(args: &Args) -> Result<serde_json::Value, String> {
    let poll = caught_up_poll(args.replicas[0]).await?;
    let until = Instant::now() + Duration::from_secs_f64(args.feed_seconds);
    let connections = 32;
    let (mut lat, failed, why, secs) = workers(args, connections, move || {
        (Instant::now() < until).then(|| (poll.clone(), 304))
    })
    .await;
    Ok(serde_json::json!({
        "connections": connections,
        "requests": lat.len(),
        "failed": failed,
        "why_failed": why,
        "per_second": lat.len() as f64 / secs,
        "p50_ms": percentile(&mut lat, 0.50),
        "p99_ms": percentile(&mut lat, 0.99),
    }))
}

fn rss_all(args: &Args) -> Vec<f64> {
    args.pids.iter().map(|&p| rss_mib(p)).collect()
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    let token = login(args.replicas[0]).await?;
    let rss_idle = rss_all(&args);
    let boxes = Arc::new(Boxes {
        base: Instant::now(),
        connected: AtomicUsize::new(0),
        failed: Mutex::new(BTreeMap::new()),
        arrived: (0..args.boxes).map(|_| AtomicU64::new(0)).collect(),
        dropped: AtomicUsize::new(0),
    });
    let (connect_secs, connecting) = connect_all(&args, &boxes).await;
    eprintln!("citybench: connecting ended: {connecting}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_held = rss_all(&args);
    let held = boxes.connected.load(Ordering::Relaxed);
    // Held connections per replica: box n went to replica n % replicas,
    // and those that failed are spread the same way.
    let per_replica = held as f64 / args.replicas.len() as f64;
    let kib_per_connection: Vec<f64> = rss_idle
        .iter()
        .zip(&rss_held)
        .map(|(idle, held)| (held - idle) * 1024.0 / per_replica.max(1.0))
        .collect();

    eprintln!("citybench: starting the roll-call");
    let (rollcall, push) = push(&args, &boxes, &token).await?;
    eprintln!("citybench: push {push}");
    let sign_ins = sign_ins(&args, &rollcall).await;
    eprintln!("citybench: sign-ins {sign_ins}");
    let feed = feed_polls(&args).await?;
    eprintln!("citybench: feed polls {feed}");
    let rss_end = rss_all(&args);
    let (_, _, attendance) = request(
        args.replicas[0],
        &token,
        "GET",
        &format!("/api/v1/admin/rollcalls/{rollcall}/attendance"),
        "",
    )
    .await?;
    let attendance: serde_json::Value =
        serde_json::from_slice(&attendance).map_err(|e| e.to_string())?;
    let still_held =
        boxes.connected.load(Ordering::Relaxed) - boxes.dropped.load(Ordering::Relaxed);
    Ok(serde_json::json!({
        "replicas": args.replicas.len(),
        "source_addresses": args.sources.len(),
        "connecting": connecting,
        "connect_seconds": connect_secs,
        "push": push,
        "signin": sign_ins,
        "present_at_headend": attendance["present"],
        "feed304": feed,
        "held_at_end": still_held,
        "replica_rss_mib": { "idle": rss_idle, "holding": rss_held, "end": rss_end },
        "kib_per_held_connection": kib_per_connection,
        "mib_per_10k_connections": kib_per_connection.iter().map(|k| k * 10_000.0 / 1024.0).collect::<Vec<_>>(),
    }))
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dangjian-citybench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dangjian-citybench: {e}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("dangjian-citybench: {e}");
            std::process::exit(1);
        }
    }
}
