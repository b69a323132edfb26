//! `dangjian-citybench`: a city's boxes against one or more headend
//! replicas, for `cargo xtask bench city`.
//!
//! Box `bench-box-<n>` holds its push stream on replica `n % replicas`,
//! connecting from one of several loopback source addresses (one address
//! has ~28,000 ephemeral ports); the boxes are spread over holder
//! processes (this binary again, `--hold FROM TO`; see `holder.rs`) of at
//! most `--per-holder` boxes each, since a process may open only so many
//! descriptors. Then: a roll-call is started through the
//! admin API on the first replica and its arrival is timed at every box;
//! every box signs in (`POST /api/v1/submissions`) over keep-alive
//! connections spread over the replicas; caught-up boxes poll the feed
//! (304) for a while, all with the push streams still held. When not every
//! box could connect, the figures are for those that did, and the output
//! says where connecting stopped and why. Prints one JSON object.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

#[path = "common/cli.rs"]
mod cli;
#[path = "common/http1.rs"]
mod http1;
use http1::{caught_up_poll, find, json_request, login, once, response};

#[path = "common/measure.rs"]
mod measure;
use measure::{percentile, rss_mib};

/// The village whose feed caught-up boxes poll (the demo's 东坡村).
const VILLAGE: &str = "990101101001";

#[path = "citybench/holder.rs"]
mod holder;

struct Args {
    replicas: Vec<SocketAddr>,
    pids: Vec<u32>,
    sources: Vec<IpAddr>,
    boxes: usize,
    meeting: String,
    concurrency: usize,
    feed_seconds: f64,
    per_holder: usize,
    /// `Some((from, to))`: be a holder of those boxes.
    hold: Option<(usize, usize)>,
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
        per_holder: 18_000,
        hold: None,
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
            "--per-holder" => a.per_holder = number(&value)?.max(1),
            "--hold" => {
                let to = it.next().ok_or("--hold needs FROM and TO")?;
                a.hold = Some((number(&value)?, number(&to)?));
            }
            "--feed-seconds" => {
                a.feed_seconds = value.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.replicas.is_empty() || (a.hold.is_none() && (a.meeting.is_empty() || a.boxes == 0)) {
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
    once(to, json_request(method, path, token, body).as_bytes()).await
}

/// A holder process and its two ends.
struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    /// Its next line, parsed (blocking: holders answer between phases).
    fn answer(&mut self) -> Result<serde_json::Value, String> {
        let mut line = String::new();
        tokio::task::block_in_place(|| self.stdout.read_line(&mut line))
            .map_err(|e| format!("reading a holder: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("a holder said {line:?}: {e}"))
    }

    fn tell(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.stdin, "{line}").map_err(|e| format!("telling a holder: {e}"))
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.tell("quit");
        let _ = self.child.wait();
    }
}

fn spawn_holders(args: &Args) -> Result<Vec<Holder>, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let list = |v: &[String]| v.join(",");
    let replicas: Vec<String> = args.replicas.iter().map(|r| r.to_string()).collect();
    let sources: Vec<String> = args.sources.iter().map(|s| s.to_string()).collect();
    let mut holders = Vec::new();
    let mut from = 0;
    while from < args.boxes {
        let to = (from + args.per_holder).min(args.boxes);
        let mut child = Command::new(&me)
            .args(["--replicas", &list(&replicas), "--sources", &list(&sources)])
            .args(["--hold", &from.to_string(), &to.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting a holder: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("a holder without pipes".into());
        };
        holders.push(Holder {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        });
        from = to;
    }
    Ok(holders)
}

/// Every holder's connecting report, summed: how many boxes hold a stream,
/// and where connecting stopped and why.
fn connected(holders: &mut [Holder], asked: usize) -> Result<serde_json::Value, String> {
    let (mut connected, mut failed, mut waiting) = (0, 0, 0);
    let mut why: BTreeMap<String, u64> = BTreeMap::new();
    for h in holders.iter_mut() {
        let r = h.answer()?;
        connected += r["connected"].as_u64().unwrap_or(0);
        failed += r["failed"].as_u64().unwrap_or(0);
        waiting += r["waiting"].as_u64().unwrap_or(0);
        if let Some(reasons) = r["why"].as_object() {
            for (k, v) in reasons {
                *why.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
            }
        }
    }
    if waiting > 0 {
        why.insert(
            "connected but never answered: the replica could not take them".into(),
            waiting,
        );
    }
    Ok(serde_json::json!({
        "asked": asked,
        "connected": connected,
        "failed": failed,
        "waiting": waiting,
        "why_not_all": if why.is_empty() { serde_json::Value::Null } else { serde_json::json!(why) },
    }))
}

/// Starts the roll-call on the first replica; times its arrival at every
/// box the holders hold.
async fn push(
    args: &Args,
    holders: &mut [Holder],
    held: u64,
    token: &str,
) -> Result<(String, serde_json::Value), String> {
    let t0 = holder::epoch_us();
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
    for h in holders.iter_mut() {
        h.tell(&format!("arrivals {t0}"))?;
    }
    let mut ms = Vec::new();
    for h in holders.iter_mut() {
        let r = h.answer()?;
        ms.extend(
            r["arrived_ms"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_f64),
        );
    }
    Ok((
        rollcall,
        serde_json::json!({
            "boxes_holding": held,
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
                "{{\"device\":\"bench-box-{n}\",\"items\":[{{\"key\":\"city-{rollcall}-{n}\",\"kind\":\"signin\",\"payload\":{{\"rollcall\":\"{rollcall}\",\"member\":\"bench-m-{n}\",\"elapsed_ms\":1500}}}}]}}"
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

async fn feed_polls(args: &Args) -> Result<serde_json::Value, String> {
    let poll = caught_up_poll(args.replicas[0], VILLAGE).await?;
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
    let started = Instant::now();
    let mut holders = spawn_holders(&args)?;
    let connecting = connected(&mut holders, args.boxes)?;
    let connect_secs = started.elapsed().as_secs_f64();
    eprintln!("citybench: connecting ended: {connecting}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_held = rss_all(&args);
    let held = connecting["connected"].as_u64().unwrap_or(0);
    // Box n went to replica n % replicas.
    let per_replica = held as f64 / args.replicas.len() as f64;
    let kib_per_connection: Vec<f64> = rss_idle
        .iter()
        .zip(&rss_held)
        .map(|(idle, held)| (held - idle) * 1024.0 / per_replica.max(1.0))
        .collect();

    eprintln!("citybench: starting the roll-call");
    let (rollcall, push) = push(&args, &mut holders, held, &token).await?;
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
    drop(holders);
    Ok(serde_json::json!({
        "replicas": args.replicas.len(),
        "source_addresses": args.sources.len(),
        "holder_processes": args.boxes.div_ceil(args.per_holder),
        "connecting": connecting,
        "connect_seconds": connect_secs,
        "push": push,
        "signin": sign_ins,
        "present_at_headend": attendance["present"],
        "feed304": feed,
        "replica_rss_mib": { "idle": rss_idle, "holding": rss_held, "end": rss_end },
        "kib_per_held_connection": kib_per_connection,
        "mib_per_10k_connections": kib_per_connection.iter().map(|k| k * 10_000.0 / 1024.0).collect::<Vec<_>>(),
    }))
}

fn main() {
    cli::main_with("dangjian-citybench", true, parse, |args: Args| async move {
        match args.hold {
            // A holder speaks to its coordinator in lines of its own.
            Some((from, to)) => holder::run(args, from, to).await.map(|()| String::new()),
            None => run(args).await.map(|out| out.to_string()),
        }
    });
}
