//! `cargo xtask bench <name>`: figures printed and written as JSON under
//! `target/bench/`. Release builds; nothing here is a pass/fail test.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::demo::{bin, start_demo_headend, start_test_streams, write_tv_config};
use crate::system::{self, workspace_root};

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("startup") => startup(),
        Some("sync") => sync(),
        Some("keys") => keys(),
        Some("render") => render(),
        Some("zap") => zap(),
        Some("rollcall") => rollcall(),
        Some("presses") => presses(),
        Some("headend") => headend(),
        Some("console") => crate::bench_console::console(),
        Some("security") => crate::bench_security::security(),
        Some("city") => crate::bench_city::city(&args[1..]),
        _ => bail!(
            "usage: cargo xtask bench <startup | sync | keys | render | zap | rollcall | presses | headend | console | security | city [--boxes N]>"
        ),
    }
}

pub fn write_json(name: &str, value: &serde_json::Value) -> Result<()> {
    let dir = workspace_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(value)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}

/// Builds release binaries and fills a box cache from a demo headend in
/// `dir/box`; the benchmarks themselves then run offline.
fn filled_cache(dir: &std::path::Path, extra: &[&str]) -> Result<std::path::PathBuf> {
    system::bootstrap()?;
    system::cargo(&["build", "--release", "-p", "headend", "-p", "tv"])?;
    let data_dir = dir.join("box");
    let _ = std::fs::remove_dir_all(&data_dir);
    {
        // Fill the cache once from a demo headend; startup itself is offline.
        let headend = start_demo_headend("release", dir, extra)?;
        let config = dir.join("fill.toml");
        write_tv_config(&config, &headend.url, &data_dir, (1280, 720))?;
        system::run(
            Command::new(bin("release", "dangjian-tv"))
                .arg("--config")
                .arg(&config)
                .arg("--sync-only"),
        )?;
    }
    Ok(data_dir)
}

/// Runs `dangjian-tv FLAG N` (release) offline on the filled cache at one
/// display size; returns the figures line it prints last.
fn tv_bench(
    dir: &std::path::Path,
    data_dir: &std::path::Path,
    (w, h): (u32, u32),
    flag: &str,
    n: usize,
) -> Result<String> {
    let config = dir.join(format!("tv-{w}x{h}.toml"));
    // The URL is unused: the benchmarks do not sync.
    write_tv_config(&config, "http://127.0.0.1:9", data_dir, (w, h))?;
    let out = Command::new(bin("release", "dangjian-tv"))
        .arg("--config")
        .arg(&config)
        .arg(flag)
        .arg(n.to_string())
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("running dangjian-tv {flag}"))?;
    if !out.status.success() {
        bail!(
            "dangjian-tv {flag} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().last().unwrap_or_default().to_string())
}

/// Remote key read to rendered frame, through the live input path.
fn keys() -> Result<()> {
    let dir = workspace_root().join("target/bench/keys");
    let data_dir = filled_cache(&dir, &[])?;
    const PRESSES: usize = 1000;
    let mut results = Vec::new();
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let line = tv_bench(&dir, &data_dir, (w, h), "--bench-keys", PRESSES)?;
        let get = |k: &str| field(&line, k);
        let (Some(frames), Some(p50), Some(p99), Some(max)) =
            (get("frames"), get("p50_ms"), get("p99_ms"), get("max_ms"))
        else {
            bail!("unexpected output from dangjian-tv --bench-keys: {line:?}");
        };
        println!(
            "keys {w}x{h}: event read -> frame rendered p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms over {frames} key presses"
        );
        results.push(json!({
            "display": format!("{w}x{h}"),
            "presses": PRESSES,
            "frames": frames,
            "no_frame": get("no_frame"),
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max,
        }));
    }
    write_json(
        "keys",
        &json!({
            "bench": "keys",
            "what": "release dangjian-tv, software renderer: struct input_event bytes written to a FIFO in a watched directory; input service reader thread -> decoder -> invoke_from_event_loop -> controller -> frame rendered; latency from the reader having the bytes to the frame done; one key at a time",
            "targets": { "p99_ms_720p": 16 },
            "machine": machine(),
            "results": results,
        }),
    )
}

/// Page changes rendered with the software renderer, p50/p99.
fn render() -> Result<()> {
    let dir = workspace_root().join("target/bench/render");
    let data_dir = filled_cache(
        &dir,
        &["seed-long-tables", "--village", crate::demo::DEMO_VILLAGE],
    )?;
    const ROUNDS: usize = 200;
    let mut results = Vec::new();
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let line = tv_bench(&dir, &data_dir, (w, h), "--bench-render", ROUNDS)?;
        let line = line.as_str();
        let mut r = serde_json::Map::new();
        r.insert("display".into(), json!(format!("{w}x{h}")));
        for (name, what) in [
            (
                "nav",
                "home -> 三务公开 -> 财务公开 -> 补助资金 list, each step",
            ),
            ("open", "list -> the 200-row table (paging included)"),
            ("down", "page down in the 200-row table"),
        ] {
            let (Some(n), Some(p50), Some(p99), Some(max)) = (
                field(line, &format!("{name}_n")),
                field(line, &format!("{name}_p50_ms")),
                field(line, &format!("{name}_p99_ms")),
                field(line, &format!("{name}_max_ms")),
            ) else {
                bail!("unexpected output from dangjian-tv --bench-render: {line:?}");
            };
            println!("render {w}x{h} {what}: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms ({n} changes)");
            r.insert(
                name.into(),
                json!({ "what": what, "changes": n, "p50_ms": p50, "p99_ms": p99, "max_ms": max }),
            );
        }
        results.push(serde_json::Value::Object(r));
    }
    write_json(
        "render",
        &json!({
            "bench": "render",
            "what": "release dangjian-tv in process: key handled (cache queries, paging, Slint properties) plus a full frame from the software renderer, per page change",
            "targets": { "p99_ms_720p": 16 },
            "machine": machine(),
            "results": results,
        }),
    )
}

/// Process start to first frame with a populated cache, and RSS then.
fn startup() -> Result<()> {
    let dir = workspace_root().join("target/bench/startup");
    let data_dir = filled_cache(&dir, &[])?;
    const RUNS: usize = 15;
    let mut results = Vec::new();
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let config = dir.join(format!("tv-{w}x{h}.toml"));
        // The URL is unused: --bench-first-frame does not sync.
        write_tv_config(&config, "http://127.0.0.1:9", &data_dir, (w, h))?;
        let (mut wall, mut inner, mut rss) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let start = Instant::now();
            let mut child = Command::new(bin("release", "dangjian-tv"))
                .arg("--config")
                .arg(&config)
                .arg("--bench-first-frame")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .spawn()
                .context("starting dangjian-tv")?;
            let mut line = String::new();
            BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            child.wait()?;
            let (Some(ms), Some(kib)) = (field(&line, "first_frame_ms"), field(&line, "rss_kib"))
            else {
                bail!("unexpected output from dangjian-tv: {line:?}");
            };
            wall.push(elapsed);
            inner.push(ms);
            rss.push(kib / 1024.0);
        }
        let max_wall = wall.iter().copied().fold(0.0, f64::max);
        let r = json!({
            "display": format!("{w}x{h}"),
            "runs": RUNS,
            "first_frame_ms_median": median(&mut wall),
            "first_frame_ms_max": max_wall,
            "in_process_ms_median": median(&mut inner),
            "rss_mib_median": median(&mut rss),
        });
        println!(
            "startup {w}x{h}: first frame {:.1} ms median ({:.1} ms max, {:.1} ms inside the process), RSS {:.1} MiB",
            r["first_frame_ms_median"].as_f64().unwrap_or(0.0),
            max_wall,
            r["in_process_ms_median"].as_f64().unwrap_or(0.0),
            r["rss_mib_median"].as_f64().unwrap_or(0.0),
        );
        results.push(r);
    }
    write_json(
        "startup",
        &json!({
            "bench": "startup",
            "what": "spawn of dangjian-tv (release, software renderer, populated cache) to first frame rendered; RSS after that frame",
            "targets": { "first_frame_ms": 300, "rss_mib": 60 },
            "machine": machine(),
            "results": results,
        }),
    )
}

fn sync() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&["build", "--release", "-p", "e2e", "--bin", "bench-sync"])?;
    let out = workspace_root().join("target/bench/sync.json");
    std::fs::create_dir_all(out.parent().context("bench dir")?)?;
    system::run(
        Command::new(bin("release", "bench-sync"))
            .args(["--items", "10000", "--out"])
            .arg(&out),
    )
}

pub fn machine() -> serde_json::Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    json!({ "cpus": cpus, "cpu": model, "arch": std::env::consts::ARCH })
}

/// Play -> first picture per source kind, against a bare playbin3, and CPU
/// and memory while playing; streams and headend on loopback.
fn zap() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&[
        "build",
        "--release",
        "-p",
        "headend",
        "-p",
        "player",
        "--features",
        "player/test-streams",
    ])?;
    let dir = workspace_root().join("target/bench/zap");
    std::fs::create_dir_all(&dir)?;
    let streams = start_test_streams("release", &dir.join("media"))?;
    let headend = start_demo_headend("release", &dir, &[])?;
    let hls = |path: &str| format!("{}/media/{path}/index.m3u8", headend.url);
    let grid: Vec<String> = (1..=4)
        .map(|i| format!("{}/hall{i}/sub", streams.rtsp))
        .collect();
    const ZAPS: usize = 30;
    let out = Command::new(bin("release", "dangjian-zapbench"))
        .args(["--source", &format!("rtsp={}/hall1", streams.rtsp)])
        .args(["--source", &format!("hls_live={}", hls("live/meeting"))])
        .args(["--source", &format!("hls_vod={}", hls("vod/lesson-1"))])
        .args(["--source", &format!("multicast={}", streams.multicast)])
        .args(["--grid", &grid.join(",")])
        .args(["--zaps", &ZAPS.to_string(), "--iface", "lo"])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .context("running dangjian-zapbench")?;
    if !out.status.success() {
        bail!("dangjian-zapbench failed");
    }
    let results: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("zapbench output: {}", String::from_utf8_lossy(&out.stdout)))?;
    for (name, load) in results["load"].as_object().into_iter().flatten() {
        println!(
            "{name}: {:.0}% of one core, {:.0} MiB resident, {:.0} pictures/s over {} stream(s) at {}",
            load["cpu_percent_of_one_core"].as_f64().unwrap_or(f64::NAN),
            load["rss_mib"].as_f64().unwrap_or(f64::NAN),
            load["frames_per_second_total"].as_f64().unwrap_or(f64::NAN),
            load["streams"],
            load["decode_size"].as_str().unwrap_or_default(),
        );
    }
    write_json(
        "zap",
        &json!({
            "bench": "zap",
            "what": "release build; streams from dangjian-teststreams on loopback (RTSP 1280x720 H.264, 1 s keyframe interval; HLS live and VOD served by the headend; multicast MPEG-TS on lo); per kind, 30 zaps: open a session (playbin3 -> appsink scaled to 1280x720 RGB), time from open to the first picture in the appsink; a live stream's first picture is handed to the UI as soon as it is decoded (the synced pictures follow); the bare figure is playbin3 -> fakesink, time from building the pipeline to the first buffer reaching the sink, on the same stream, alternating with ours. Load: CPU and RSS of the player process while one 720p stream or four grid sub-streams play for 10 s (the encoders run in another process).",
            "targets": { "rtsp_median_ms": 500, "hls_vod_median_ms": 1000, "ratio_to_bare": 1.2 },
            "machine": machine(),
            "results": results,
        }),
    )
}

/// Roll-call at scale: N simulated boxes hold push connections to a release
/// headend; a roll-call is started and its arrival timed at each box; then
/// every box signs in.
fn rollcall() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&["build", "--release", "-p", "headend", "-p", "headend-bench"])?;
    let mut runs = Vec::new();
    for boxes in [1_000usize, 10_000] {
        let dir = workspace_root().join(format!("target/bench/rollcall/{boxes}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("headend.db");
        let headend = bin("release", "dangjian-headend");
        system::run(Command::new(&headend).arg("seed-demo").arg("--db").arg(&db))?;
        let seeded = Command::new(&headend)
            .args(["seed-bench-boxes", "--count", &boxes.to_string(), "--db"])
            .arg(&db)
            .output()
            .context("seeding bench boxes")?;
        let seeded = String::from_utf8_lossy(&seeded.stdout).to_string();
        let meeting = seeded
            .lines()
            .find_map(|l| l.strip_prefix("meeting "))
            .context("seed-bench-boxes printed no meeting")?
            .to_string();
        // Ten thousand held connections need more descriptors than the
        // default 1024, on both sides.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec '{}' serve --db '{}' --bind 127.0.0.1:0",
                headend.display(),
                db.display()
            ))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .context("starting dangjian-headend")?;
        let pid = child.id();
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("headend stdout")?).read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            bail!("headend did not start: {line:?}");
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec '{}' --addr {url} --boxes {boxes} --meeting {meeting} --headend-pid {pid}",
                bin("release", "dangjian-rollcallbench").display()
            ))
            .stderr(Stdio::inherit())
            .output()
            .context("running dangjian-rollcallbench")?;
        let _ = child.kill();
        let _ = child.wait();
        if !out.status.success() {
            bail!("dangjian-rollcallbench failed");
        }
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "rollcallbench output: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })?;
        println!(
            "{boxes} boxes: roll-call shown on {} in p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; headend {:.0} MiB idle, {:.0} MiB holding the connections",
            r["push"]["delivered"],
            r["push"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
            r["push"]["p99_ms"].as_f64().unwrap_or(f64::NAN),
            r["push"]["max_ms"].as_f64().unwrap_or(f64::NAN),
            r["headend_rss_mib"]["idle"].as_f64().unwrap_or(f64::NAN),
            r["headend_rss_mib"]["holding_connections"].as_f64().unwrap_or(f64::NAN),
        );
        println!(
            "{boxes} boxes: {} sign-ins at {:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({} failed); headend counts {} present",
            r["signin"]["requests"],
            r["signin"]["per_second"].as_f64().unwrap_or(f64::NAN),
            r["signin"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
            r["signin"]["p99_ms"].as_f64().unwrap_or(f64::NAN),
            r["signin"]["failures"],
            r["signin"]["present_at_headend"],
        );
        runs.push(r);
    }
    write_json(
        "rollcall",
        &json!({
            "bench": "rollcall",
            "what": "release headend (SQLite) on loopback; N simulated boxes (bench-box-<n>, one member each) hold GET /api/v1/events; POST /api/v1/admin/meetings/<id>/rollcalls starts a roll-call; delivery = time from sending that request to the rollcall event arriving at each box (the box-side overlay is not drawn by the simulated boxes); then each box sends its own sign-in (POST /api/v1/submissions, one item) over 64 keep-alive connections, latency per request. Headend RSS from /proc.",
            "targets": { "push_p99_ms_at_10000": 2000, "signins_per_second": 5000, "signin_p99_ms": 50 },
            "machine": machine(),
            "runs": runs,
        }),
    )
}

/// Key presses per service flow, counted by the services end-to-end tests
/// as they drive the TV (real headend, sync client, headless UI).
fn presses() -> Result<()> {
    system::bootstrap()?;
    let out = workspace_root().join("target/bench/presses-raw.json");
    std::fs::create_dir_all(out.parent().context("bench dir")?)?;
    let _ = std::fs::remove_file(&out);
    system::run(
        Command::new("cargo")
            .args([
                "test",
                "-p",
                "e2e",
                "--test",
                "services",
                "--",
                "--test-threads=1",
            ])
            .env("DANGJIAN_PRESSES_JSON", &out)
            .current_dir(workspace_root()),
    )?;
    let counts: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let _ = std::fs::remove_file(&out);
    for (flow, n) in counts.as_object().into_iter().flatten() {
        println!("{flow}: {n} presses");
    }
    write_json(
        "presses",
        &json!({
            "bench": "presses",
            "what": "remote key presses from the home screen (or, for the remembered-phone request, from 一键服务) until the screen says it was sent; counted by tests/tests/services.rs",
            "flows": {
                "service_request_preset_11_digit_phone": "Yellow (一键服务), OK (first category), OK (first preset), 11 digits, OK",
                "service_request_remembered_phone": "OK/Yellow to 一键服务, digit (category), OK (first preset), OK (number already filled in)",
                "evaluation_3_questions": "8 (党风评议), digit (questionnaire), per question digit + OK, OK to hand in",
                "exam_10_single_choice": "5 (党教园地), 2 (在线考试), OK (exam), OK (member), OK (start), per question digit + OK, OK to hand in"
            },
            "targets": { "service_request_preset_11_digit_phone": 16 },
            "results": counts,
        }),
    )
}

/// Requests/s and latency of a release headend (SQLite) on loopback under
/// keep-alive load: the feed in full (200), a caught-up box's poll (304),
/// and an admin list with a staff session.
fn headend() -> Result<()> {
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
    let dir = workspace_root().join("target/bench/headend");
    let headend = start_demo_headend("release", &dir, &[])?;
    let addr = headend
        .url
        .strip_prefix("http://")
        .context("headend url")?
        .to_string();
    let mut results = Vec::new();
    for scenario in ["feed304", "feed200", "admin"] {
        let out = Command::new(bin("release", "dangjian-loadgen"))
            .args(["--addr", &addr, "--scenario", scenario])
            .args(["--connections", "32", "--seconds", "10"])
            .stderr(Stdio::inherit())
            .output()
            .context("running dangjian-loadgen")?;
        if !out.status.success() {
            bail!("dangjian-loadgen {scenario} failed");
        }
        let r: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        println!(
            "{scenario}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {} unexpected status)",
            r["requests_per_second"].as_f64().unwrap_or(f64::NAN),
            r["p50_ms"].as_f64().unwrap_or(f64::NAN),
            r["p99_ms"].as_f64().unwrap_or(f64::NAN),
            r["requests"],
            r["unexpected_status"],
        );
        results.push(r);
    }
    drop(headend);
    write_json(
        "headend",
        &json!({
            "bench": "headend",
            "what": "release dangjian-headend on SQLite with the demo county, on loopback; dangjian-loadgen (one thread, 32 keep-alive connections, 10 s per scenario) on the same 2-core machine. feed304: GET /api/v1/feed for 东坡村 with since=head and If-None-Match (a caught-up box's poll); feed200: the same village's first page (since=0, 31 items); admin: GET /api/v1/admin/service-requests?region=<county> with the demo admin's session (session lookup, region check, list).",
            "targets": { "feed304_requests_per_second": 10000 },
            "machine": machine(),
            "results": results,
        }),
    )
}
