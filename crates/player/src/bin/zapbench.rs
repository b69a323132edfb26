//! `dangjian-zapbench`: time from "play" to the first picture, per source
//! kind, next to a bare `playbin3 ! fakesink` on the same stream; and CPU
//! and memory while playing one 720p stream and the 2x2 grid. Run by
//! `cargo xtask bench zap`, which starts the streams and the headend.
//! Prints one JSON object on stdout.

use std::time::{Duration, Instant};

use player::{PlayRequest, Player, PlayerConfig, PlayerEvent, SinkChoice};

const TIMEOUT: Duration = Duration::from_secs(20);

struct Args {
    sources: Vec<(String, String)>,
    grid: Vec<String>,
    zaps: usize,
    iface: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        sources: Vec::new(),
        grid: Vec::new(),
        zaps: 30,
        iface: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--source" => {
                let v = value()?;
                let (kind, url) = v.split_once('=').ok_or("--source is kind=url")?;
                a.sources.push((kind.to_string(), url.to_string()));
            }
            "--grid" => a.grid = value()?.split(',').map(str::to_string).collect(),
            "--zaps" => a.zaps = value()?.parse().map_err(|e| format!("--zaps: {e}"))?,
            "--iface" => a.iface = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

/// Opens a session and waits for its first picture; ms, or None.
fn zap(player: &Player, url: &str, live: bool, size: (u32, u32)) -> Option<f64> {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let request = PlayRequest {
        url: url.to_string(),
        latency_ms: None,
        rtsp_udp: false,
        live,
        start_at: None,
        width: size.0,
        height: size.1,
    };
    let session = player
        .open(request, move |e| {
            if let PlayerEvent::FirstFrame { since_play, .. } = e {
                let _ = tx.lock().map(|tx| tx.send(since_play));
            }
        })
        .ok()?;
    let first = rx.recv_timeout(TIMEOUT).ok();
    drop(session);
    first.map(|d| d.as_secs_f64() * 1000.0)
}

/// (cpu seconds used by this process, resident bytes).
fn usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name's closing parenthesis; utime and stime
    // are the 12th and 13th of them, in clock ticks (100 per second).
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    (tick(11) + tick(12), rss)
}

/// Plays `urls` at once for `secs` and reports CPU % (of one core) and RSS.
fn steady(player: &Player, urls: &[String], size: (u32, u32), secs: u64) -> serde_json::Value {
    let (tx, rx) = std::sync::mpsc::channel();
    let sessions: Vec<_> = urls
        .iter()
        .filter_map(|u| {
            let tx = std::sync::Mutex::new(tx.clone());
            let request = PlayRequest {
                url: u.clone(),
                latency_ms: None,
                rtsp_udp: false,
                live: true,
                start_at: None,
                width: size.0,
                height: size.1,
            };
            player
                .open(request, move |e| {
                    if matches!(e, PlayerEvent::FirstFrame { .. }) {
                        let _ = tx.lock().map(|tx| tx.send(()));
                    }
                })
                .ok()
        })
        .collect();
    let started = (0..sessions.len())
        .filter(|_| rx.recv_timeout(TIMEOUT).is_ok())
        .count();
    // Frames keep arriving; count them to show the panes really play.
    let (cpu0, _) = usage();
    let t0 = Instant::now();
    let serial0: u64 = sessions
        .iter()
        .filter_map(|s| s.latest_frame())
        .map(|f| f.serial)
        .sum();
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, rss) = usage();
    let serial1: u64 = sessions
        .iter()
        .filter_map(|s| s.latest_frame())
        .map(|f| f.serial)
        .sum();
    let wall = t0.elapsed().as_secs_f64();
    serde_json::json!({
        "streams": urls.len(),
        "started": started,
        "decode_size": format!("{}x{}", size.0, size.1),
        "cpu_percent_of_one_core": (cpu1 - cpu0) / wall * 100.0,
        "rss_mib": rss as f64 / 1048576.0,
        "frames_per_second_total": (serial1 - serial0) as f64 / wall,
    })
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dangjian-zapbench: {e}");
            std::process::exit(2);
        }
    };
    let player = match Player::new(PlayerConfig {
        sink: SinkChoice::AppSink,
        audio_sink: "fakesink".into(),
        multicast_iface: args.iface.clone(),
        ..PlayerConfig::default()
    }) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dangjian-zapbench: {e}");
            std::process::exit(1);
        }
    };
    let mut kinds = Vec::new();
    for (kind, url) in &args.sources {
        let live = kind != "hls_vod";
        // One warm-up of each, so plugin loading is not counted.
        let _ = zap(&player, url, live, (1280, 720));
        let _ = player::bare_first_buffer(url, TIMEOUT, args.iface.as_deref());
        let (mut ours, mut bare, mut failed) = (Vec::new(), Vec::new(), 0);
        for _ in 0..args.zaps {
            match zap(&player, url, live, (1280, 720)) {
                Some(ms) => ours.push(ms),
                None => failed += 1,
            }
            match player::bare_first_buffer(url, TIMEOUT, args.iface.as_deref()) {
                Ok(Some(d)) => bare.push(d.as_secs_f64() * 1000.0),
                _ => failed += 1,
            }
        }
        let (m, p95) = (percentile(&mut ours, 0.5), percentile(&mut ours, 0.95));
        let (bm, bp95) = (percentile(&mut bare, 0.5), percentile(&mut bare, 0.95));
        eprintln!(
            "{kind}: play -> first picture median {m:.0} ms, p95 {p95:.0} ms; bare playbin3 median {bm:.0} ms, p95 {bp95:.0} ms; ratio {:.2}",
            m / bm
        );
        kinds.push(serde_json::json!({
            "kind": kind,
            "url": url,
            "zaps": args.zaps,
            "failed": failed,
            "median_ms": m,
            "p95_ms": p95,
            "bare_median_ms": bm,
            "bare_p95_ms": bp95,
            "ratio_to_bare": m / bm,
        }));
    }
    let mut load = Vec::new();
    if let Some((_, url)) = args.sources.iter().find(|(k, _)| k == "rtsp") {
        load.push((
            "one_720p",
            steady(&player, std::slice::from_ref(url), (1280, 720), 10),
        ));
    }
    if !args.grid.is_empty() {
        load.push(("grid_2x2", steady(&player, &args.grid, (550, 216), 10)));
    }
    let load: serde_json::Map<String, serde_json::Value> =
        load.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    println!("{}", serde_json::json!({ "sources": kinds, "load": load }));
}
