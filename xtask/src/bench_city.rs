//! `cargo xtask bench city [--boxes N]`: a city's boxes (130,000 unless
//! told) against two headend replicas on one throw-away PostgreSQL, then
//! against as many replicas as it takes to hold them all (a process may
//! open only so many descriptors), then against one headend on SQLite,
//! side by side. Each run holds as many boxes as its processes may; the
//! output says how many and why. The client is
//! `dangjian-citybench` (see its overview); everything runs on loopback on
//! this machine, the client included, so the figures are for all of it
//! sharing its cores.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::bench::write_json;
use crate::demo::bin;
use crate::pg_cluster::Cluster;
use crate::system::{self, workspace_root};

/// The city in our references: ~130,000 households with a box each.
const CITY_BOXES: usize = 130_000;

/// Loopback source addresses for the boxes: one address has ~28,000
/// ephemeral ports, so 130,000 connections need at least five.
const SOURCES: &str =
    "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9";

/// Raises the descriptor limit (root with CAP_SYS_RESOURCE may raise the
/// hard one) before the rest of the command line.
const ULIMIT: &str =
    "ulimit -Hn 1048576 2>/dev/null; ulimit -n 1048576 2>/dev/null || ulimit -n $(ulimit -Hn);";

/// Descriptors a process keeps for other things than held streams: the
/// database, sign-in and poll connections, files.
const RESERVED_FDS: usize = 1_500;

/// How many descriptors one process may have here (after trying to raise
/// the limit as [`ULIMIT`] does), and whether raising it was refused.
fn descriptor_limit() -> Result<(usize, bool)> {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -Hn 1048576 2>/dev/null && echo raised; ulimit -Hn")
        .output()
        .context("asking the shell for the descriptor limit")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let raised = text.lines().any(|l| l == "raised");
    let limit = text
        .lines()
        .last()
        .map(str::trim)
        .map(|l| {
            if l == "unlimited" {
                Ok(1 << 20)
            } else {
                l.parse()
            }
        })
        .context("no descriptor limit printed")??;
    Ok((limit, !raised))
}

/// Running headend replicas; killed when dropped.
struct Replicas(Vec<(Child, String)>);

impl Drop for Replicas {
    fn drop(&mut self) {
        for (child, _) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The headend's CLI with the key file every replica shares.
fn headend(dir: &Path) -> Command {
    let mut cmd = Command::new(bin("release", "dangjian-headend"));
    cmd.env("DANGJIAN_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("RUST_LOG", "warn");
    cmd
}

/// Seeds the demo county and `boxes` bench boxes; returns the meeting the
/// boxes are invited to.
fn seed(db: &str, dir: &Path, boxes: usize) -> Result<String> {
    let started = std::time::Instant::now();
    system::run(headend(dir).args(["seed-demo", "--db", db]))?;
    let out = headend(dir)
        .args([
            "seed-bench-boxes",
            "--count",
            &boxes.to_string(),
            "--db",
            db,
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("seeding bench boxes")?;
    if !out.status.success() {
        bail!("seed-bench-boxes failed");
    }
    let meeting = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("meeting ").map(str::to_string))
        .context("seed-bench-boxes printed no meeting")?;
    eprintln!(
        "seeded {boxes} boxes in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(meeting)
}

fn start_replicas(db: &str, dir: &Path, count: usize) -> Result<Replicas> {
    let mut replicas = Replicas(Vec::new());
    for i in 0..count {
        let log = std::fs::File::create(dir.join(format!("replica-{i}.log")))?;
        let headend = bin("release", "dangjian-headend");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{ULIMIT} exec '{}' serve --db '{db}' --bind 127.0.0.1:0",
                headend.display()
            ))
            .env("DANGJIAN_SECRET_KEY_FILE", dir.join("secret.key"))
            // The listener's own reasons for closing a connection are
            // debug lines: kept, to say why a box got no answer.
            .env("RUST_LOG", "warn,headend::server=debug")
            .stdout(Stdio::piped())
            .stderr(log.try_clone()?)
            .spawn()
            .context("starting dangjian-headend")?;
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().context("headend stdout")?);
        stdout.read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            bail!("replica {i} did not start: {line:?}");
        };
        // Its log lines follow on stdout: into the log file (a closed pipe
        // would lose them).
        let mut log = log;
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut log));
        let addr = addr.to_string();
        replicas.0.push((child, addr));
    }
    Ok(replicas)
}

/// One run: start `replicas` headends on `db` (seeded, with the meeting
/// its boxes are invited to), hold `boxes` push streams, measure.
struct Run<'a> {
    name: &'a str,
    db: &'a str,
    dir: &'a Path,
    meeting: &'a str,
    replicas: usize,
    boxes: usize,
    per_process: usize,
}

fn run_city(run: &Run<'_>) -> Result<Value> {
    let Run {
        name,
        db,
        dir,
        meeting,
        replicas,
        boxes,
        per_process,
    } = *run;
    eprintln!("== city on {name}: {replicas} replica(s), {boxes} boxes");
    let running = start_replicas(db, dir, replicas)?;
    let addrs: Vec<&str> = running.0.iter().map(|(_, a)| a.as_str()).collect();
    let pids: Vec<String> = running.0.iter().map(|(c, _)| c.id().to_string()).collect();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{ULIMIT} exec '{}' --replicas {} --pids {} --sources {SOURCES} --boxes {boxes} --meeting {meeting} --per-holder {per_process}",
            bin("release", "dangjian-citybench").display(),
            addrs.join(","),
            pids.join(","),
        ))
        .stderr(Stdio::inherit())
        .output()
        .context("running dangjian-citybench")?;
    // Whether a replica died under the load is part of the answer.
    let mut alive = Vec::new();
    let mut running = running;
    for (child, _) in &mut running.0 {
        alive.push(matches!(child.try_wait(), Ok(None)));
    }
    drop(running);
    if !out.status.success() {
        bail!(
            "dangjian-citybench failed on {name} (replica logs in {})",
            dir.display()
        );
    }
    let mut r: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("citybench output: {}", String::from_utf8_lossy(&out.stdout)))?;
    r["backend"] = json!(name);
    r["run"] = json!(format!("{name} x{replicas}"));
    r["replicas_alive_at_end"] = json!(alive);
    r["replica_log"] = json!(log_summary(dir, replicas));
    Ok(r)
}

/// What the replicas logged, by message (timestamps, addresses and
/// numbers left out), most frequent first.
fn log_summary(dir: &Path, replicas: usize) -> Vec<(String, usize)> {
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for i in 0..replicas {
        let Ok(text) = std::fs::read_to_string(dir.join(format!("replica-{i}.log"))) else {
            continue;
        };
        for line in text.lines() {
            // `<time> LEVEL target: message peer=…`: keep level and message.
            let words: Vec<&str> = line
                .split_whitespace()
                .skip(1)
                .filter(|w| !w.contains('=') && !w.chars().any(|c| c.is_ascii_digit()))
                .collect();
            *counts.entry(words.join(" ")).or_default() += 1;
        }
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.truncate(12);
    counts
}

fn f(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
        None => v.to_string(),
    }
}

fn print_side_by_side(runs: &[Value]) {
    type Cell = fn(&Value) -> String;
    let rows: [(&str, Cell); 9] = [
        ("push streams held", |r| {
            format!(
                "{} of {}",
                r["connecting"]["connected"], r["connecting"]["asked"]
            )
        }),
        ("roll-call start -> prompt p50 ms", |r| {
            f(&r["push"]["p50_ms"])
        }),
        ("roll-call start -> prompt p99 ms", |r| {
            f(&r["push"]["p99_ms"])
        }),
        ("prompts delivered", |r| r["push"]["delivered"].to_string()),
        ("sign-ins per second", |r| f(&r["signin"]["per_second"])),
        ("sign-in p99 ms", |r| f(&r["signin"]["p99_ms"])),
        ("present at the headend", |r| {
            r["present_at_headend"].to_string()
        }),
        ("feed 304 polls per second", |r| {
            f(&r["feed304"]["per_second"])
        }),
        ("MiB per replica per 10k connections", |r| {
            r["mib_per_10k_connections"]
                .as_array()
                .map(|v| v.iter().map(f).collect::<Vec<_>>().join(" / "))
                .unwrap_or_default()
        }),
    ];
    let header: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{} x{}",
                r["backend"].as_str().unwrap_or("?"),
                r["replicas"]
            )
        })
        .collect();
    println!(
        "{:<40}{}",
        "",
        header
            .iter()
            .map(|h| format!("{h:>22}"))
            .collect::<String>()
    );
    for (label, cell) in rows {
        println!(
            "{label:<40}{}",
            runs.iter()
                .map(|r| format!("{:>22}", cell(r)))
                .collect::<String>()
        );
    }
    for r in runs {
        if !r["connecting"]["why_not_all"].is_null() {
            println!(
                "{}: connecting stopped at {} of {} boxes: {}",
                r["run"].as_str().unwrap_or("?"),
                r["connecting"]["connected"],
                r["connecting"]["asked"],
                r["connecting"]["why_not_all"]
            );
        }
    }
}

pub fn city(args: &[String]) -> Result<()> {
    let usage = "usage: cargo xtask bench city [--boxes N] [--per-process N]";
    let (mut boxes, mut cap) = (CITY_BOXES, None);
    for pair in args.chunks(2) {
        match pair {
            [flag, n] if flag == "--boxes" => {
                boxes = n.parse().context("--boxes takes a number")?
            }
            // Fewer streams per process than the descriptors allow: a
            // quick run of the whole procedure.
            [flag, n] if flag == "--per-process" => {
                cap = Some(n.parse::<usize>().context("--per-process takes a number")?)
            }
            _ => bail!(usage),
        }
    }
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
    let (fds, fixed) = descriptor_limit()?;
    let mut per_process = fds.saturating_sub(RESERVED_FDS).max(1);
    if let Some(cap) = cap {
        per_process = per_process.min(cap.max(1));
    }
    let why_fewer = format!(
        "a process may hold {per_process} streams here: {fds} descriptors (RLIMIT_NOFILE{}) less {RESERVED_FDS} kept for the database, requests and files",
        if fixed { ", a hard limit this machine does not let even root raise: no CAP_SYS_RESOURCE" } else { "" }
    );
    println!("{why_fewer}");
    let root = workspace_root().join("target/bench/city");
    let _ = std::fs::remove_dir_all(&root);
    let mut runs = Vec::new();
    let mut limited = Vec::new();
    {
        let dir = root.join("postgres");
        std::fs::create_dir_all(&dir)?;
        let cluster = Cluster::start(&dir)?;
        let meeting = seed(&cluster.url, &dir, boxes)?;
        let run = |replicas: usize| Run {
            name: "postgres",
            db: &cluster.url,
            dir: &dir,
            meeting: &meeting,
            replicas,
            boxes: boxes.min(replicas * per_process),
            per_process,
        };
        // The asked configuration: two replicas.
        let two = run(2);
        if two.boxes < boxes {
            limited.push(format!(
                "postgres x2 holds {} of {boxes}: {why_fewer}",
                two.boxes
            ));
        }
        runs.push(run_city(&two)?);
        // As many replicas as it takes to hold every box.
        let needed = boxes.div_ceil(per_process);
        if needed > 2 {
            runs.push(run_city(&run(needed))?);
        }
    }
    {
        let dir = root.join("sqlite");
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("headend.db").to_string_lossy().to_string();
        let held = boxes.min(per_process);
        if held < boxes {
            limited.push(format!("sqlite x1 holds {held} of {boxes}: {why_fewer}"));
        }
        let meeting = seed(&db, &dir, held)?;
        runs.push(run_city(&Run {
            name: "sqlite",
            db: &db,
            dir: &dir,
            meeting: &meeting,
            replicas: 1,
            boxes: held,
            per_process,
        })?);
    }
    for l in &limited {
        println!("{l}");
    }
    print_side_by_side(&runs);
    write_json(
        "city",
        &json!({
            "bench": "city",
            "what": "release dangjian-headend replicas on loopback (2, then as many as it takes to hold every box, on a throw-away PostgreSQL 15 cluster with fsync off; 1 on SQLite), with the demo county plus N bench boxes in one branch of 东坡村. dangjian-citybench on the same machine spreads the boxes over holder processes (as many streams each as a process may open descriptors), one push stream per box from 8 loopback source addresses, box n on replica n % replicas; starts a roll-call on the first replica and times its arrival at every box; sends every box's sign-in over 128 keep-alive connections spread over the replicas; then polls a caught-up feed (304 with ETag) over 32 keep-alive connections for 10 s, all while the streams are held. Memory is each replica's RSS holding the streams minus before, per held connection (kernel socket buffers not included).",
            "goals": { "push_p99_ms": 2000, "signins_per_second": 10000, "signin_p99_ms": 50, "kib_per_held_connection": 20 },
            "machine": crate::bench::machine(),
            "descriptors_per_process": fds,
            "descriptor_limit_fixed": fixed,
            "streams_per_process": per_process,
            "fewer_than_asked": limited,
            "results": runs,
        }),
    )
}
