//! A holder: one process holding the push streams of boxes `from..to`
//! (a process may have only so many descriptors, so a city's boxes are
//! spread over several). It talks to the coordinator in lines:
//!
//! 1. it connects every box, then prints `{"connected":…,"failed":…,"waiting":…,"why":{…}}`;
//! 2. on `arrivals <t0 µs since the epoch>` it waits until every held box
//!    has seen a roll-call prompt after t0 (or two minutes), then prints
//!    `{"arrived_ms":[…],"held":…}`, each arrival in ms after t0;
//! 3. on `quit` or end of input it exits.
//!
//! Arrival times are wall-clock, so the coordinator and its holders on one
//! machine agree on them.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::{connect, find, route, Args};

/// Connecting stops when nothing more connected for this long.
const STALL: Duration = Duration::from_secs(60);

/// Connections being opened at once by one holder.
const CONNECTING: usize = 128;

pub fn epoch_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

struct Boxes {
    from: usize,
    connected: AtomicUsize,
    dropped: AtomicUsize,
    failed: Mutex<BTreeMap<String, usize>>,
    /// When the roll-call arrived (µs since the epoch), 0 before.
    arrived: Vec<AtomicU64>,
}

impl Boxes {
    fn fail(&self, why: String) {
        if let Ok(mut f) = self.failed.lock() {
            *f.entry(why).or_default() += 1;
        }
    }

    /// Notes a roll-call prompt now. The latest is kept: a box connecting
    /// to a headend with a roll-call already open (an earlier run's) is
    /// sent that one first, and only prompts after t0 count.
    fn arrive(&self, n: usize) {
        self.arrived[n - self.from].store(epoch_us(), Ordering::Relaxed);
    }

    fn failures(&self) -> usize {
        self.failed.lock().map(|f| f.values().sum()).unwrap_or(0)
    }
}

/// One box: connects, holds its push stream, notes when the roll-call
/// arrives. Held until the process exits: no timer per box, so idle boxes
/// cost no wake-ups; the read buffer keeps only a tail long enough to
/// find an event name split across reads.
async fn hold(args: Arc<Args>, n: usize, boxes: Arc<Boxes>, connecting: Arc<Semaphore>) {
    let (to, from) = route(&args, n);
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
            boxes.arrive(n);
        }
        s
    };
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
            boxes.arrive(n);
        }
        let tail = end.min(32);
        buf.copy_within(end - tail..end, 0);
        kept = tail;
    }
}

async fn connect_all(args: &Arc<Args>, boxes: &Arc<Boxes>, count: usize) -> serde_json::Value {
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    for n in boxes.from..boxes.from + count {
        tokio::spawn(hold(args.clone(), n, boxes.clone(), connecting.clone()));
    }
    let (mut last, mut last_change) = (0usize, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let connected = boxes.connected.load(Ordering::Relaxed);
        let failed = boxes.failures();
        if connected != last {
            (last, last_change) = (connected, Instant::now());
        }
        if connected + failed >= count || last_change.elapsed() > STALL {
            let why = boxes.failed.lock().map(|f| f.clone()).unwrap_or_default();
            return serde_json::json!({
                "connected": connected,
                "failed": failed,
                // Connected at TCP but never answered (the server could
                // not take them).
                "waiting": count - connected - failed,
                "why": why,
            });
        }
    }
}

/// Waits until every held box has the roll-call (or two minutes).
async fn arrivals(boxes: &Boxes, t0: u64) -> serde_json::Value {
    let held = boxes.connected.load(Ordering::Relaxed) - boxes.dropped.load(Ordering::Relaxed);
    let arrived = || {
        boxes
            .arrived
            .iter()
            .filter(|a| a.load(Ordering::Relaxed) >= t0)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrived() < held && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ms: Vec<f64> = boxes
        .arrived
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .filter(|&a| a >= t0)
        .map(|a| (a - t0) as f64 / 1000.0)
        .collect();
    serde_json::json!({ "arrived_ms": ms, "held": held })
}

/// Runs a holder for boxes `from..to`; returns when told to quit.
pub async fn run(args: Args, from: usize, to: usize) -> Result<(), String> {
    let args = Arc::new(args);
    let count = to.saturating_sub(from);
    let boxes = Arc::new(Boxes {
        from,
        connected: AtomicUsize::new(0),
        dropped: AtomicUsize::new(0),
        failed: Mutex::new(BTreeMap::new()),
        arrived: (0..count).map(|_| AtomicU64::new(0)).collect(),
    });
    println!("{}", connect_all(&args, &boxes, count).await);
    // Commands from the coordinator, read off the async threads.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["arrivals", t0] => {
                let t0 = t0.parse().map_err(|e| format!("arrivals: {e}"))?;
                println!("{}", arrivals(&boxes, t0).await);
            }
            ["quit"] => break,
            other => return Err(format!("unknown command {other:?}")),
        }
    }
    Ok(())
}
