//! `cargo xtask bench city [--boxes N]`: a city's boxes (130,000 unless
//! told) against two headend replicas on one throw-away PostgreSQL, then
//! against one headend on SQLite, side by side. The client is
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

/// Raises the descriptor limit (root may raise the hard one) and runs the
/// rest of the command line.
const ULIMIT: &str =
    "ulimit -Hn 1048576 2>/dev/null; ulimit -n 1048576 2>/dev/null || ulimit -n $(ulimit -Hn);";

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
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting dangjian-headend")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("headend stdout")?).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            bail!("replica {i} did not start: {line:?}");
        };
        let addr = addr.to_string();
        replicas.0.push((child, addr));
    }
    Ok(replicas)
}

/// One backend's run: seed, start `count` replicas, run the client.
fn run_city(name: &str, db: &str, dir: &Path, replicas: usize, boxes: usize) -> Result<Value> {
    eprintln!("== city on {name}: {replicas} replica(s), {boxes} boxes");
    let meeting = seed(db, dir, boxes)?;
    let running = start_replicas(db, dir, replicas)?;
    let addrs: Vec<&str> = running.0.iter().map(|(_, a)| a.as_str()).collect();
    let pids: Vec<String> = running.0.iter().map(|(c, _)| c.id().to_string()).collect();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{ULIMIT} exec '{}' --replicas {} --pids {} --sources {SOURCES} --boxes {boxes} --meeting {meeting}",
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
    r["replicas_alive_at_end"] = json!(alive);
    Ok(r)
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
                r["backend"].as_str().unwrap_or("?"),
                r["connecting"]["connected"],
                r["connecting"]["asked"],
                r["connecting"]["why_not_all"]
            );
        }
    }
}

pub fn city(args: &[String]) -> Result<()> {
    let boxes = match args {
        [] => CITY_BOXES,
        [flag, n] if flag == "--boxes" => n.parse().context("--boxes takes a number")?,
        _ => bail!("usage: cargo xtask bench city [--boxes N]"),
    };
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
    let root = workspace_root().join("target/bench/city");
    let _ = std::fs::remove_dir_all(&root);
    let mut runs = Vec::new();
    {
        let dir = root.join("postgres");
        std::fs::create_dir_all(&dir)?;
        let cluster = Cluster::start(&dir)?;
        runs.push(run_city("postgres", &cluster.url, &dir, 2, boxes)?);
    }
    {
        let dir = root.join("sqlite");
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("headend.db").to_string_lossy().to_string();
        runs.push(run_city("sqlite", &db, &dir, 1, boxes)?);
    }
    print_side_by_side(&runs);
    write_json(
        "city",
        &json!({
            "bench": "city",
            "what": "release dangjian-headend replicas on loopback (2 on a throw-away PostgreSQL 15 cluster, fsync off; 1 on SQLite), with the demo county plus N bench boxes in one branch of 东坡村. dangjian-citybench (one process, multi-threaded, on the same machine) holds one push stream per box from 8 loopback source addresses, box n on replica n % replicas; starts a roll-call on the first replica and times its arrival at every box; sends every box's sign-in over 128 keep-alive connections spread over the replicas; then polls a caught-up feed (304 with ETag) over 32 keep-alive connections for 10 s, all while the streams are held. Memory is each replica's RSS holding the streams minus before, per held connection (kernel socket buffers not included).",
            "goals": { "push_p99_ms": 2000, "signins_per_second": 10000, "signin_p99_ms": 50, "kib_per_held_connection": 20 },
            "machine": crate::bench::machine(),
            "results": runs,
        }),
    )
}
