//! Sync benchmark (run by `cargo xtask bench sync`): the real headend on a
//! loopback port with a village holding N extra items, the real sync client
//! filling an empty cache.db, then a no-change poll. Prints the figures and
//! writes them as JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use headend::{seed, Db, TestServer};
use store::Cache;
use sync::SyncClient;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let items: usize = arg("--items").unwrap_or_else(|| "10000".into()).parse()?;
    let out = arg("--out").context("--out FILE is required")?;

    let dir = tempfile::tempdir()?;
    let db = Arc::new(Db::open_test(dir.path())?);
    seed::seed_demo(&db)?;
    let village = e2e::VILLAGE.parse()?;
    seed::seed_bulk(&db, &village, items)?;
    let server = TestServer::start(db, "127.0.0.1:0".parse()?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = SyncClient::new(
        &server.url(),
        village,
        Duration::from_secs(5),
        Duration::from_secs(60),
    )?;

    const RUNS: usize = 5;
    let mut times = Vec::new();
    let mut first = None;
    for run in 0..RUNS {
        let cache_path = dir.path().join(format!("cache-{run}.db"));
        let (mut cache, _) = Cache::open(&cache_path)?;
        let start = Instant::now();
        let report = runtime.block_on(client.sync_once(&mut cache))?;
        times.push(start.elapsed().as_secs_f64());
        if cache.item_count()? != items + 14 {
            bail!(
                "cache holds {} items, expected {}",
                cache.item_count()?,
                items + 14
            );
        }
        if run == 0 {
            let again = runtime.block_on(client.sync_once(&mut cache))?;
            first = Some((report, again, std::fs::metadata(&cache_path)?.len()));
        }
    }
    let (report, poll, cache_bytes) = first.context("no run")?;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[RUNS / 2];
    println!(
        "initial sync of {} items: {:.2} s median of {RUNS} ({:.2}-{:.2} s), {} requests, {:.1} MiB received, cache.db {:.1} MiB",
        report.upserted,
        median,
        sorted[0],
        sorted[RUNS - 1],
        report.requests,
        report.bytes as f64 / 1048576.0,
        cache_bytes as f64 / 1048576.0
    );
    println!(
        "no-change poll: {} request(s), not modified = {}, {} body bytes",
        poll.requests, poll.not_modified, poll.bytes
    );
    let json = serde_json::json!({
        "bench": "sync",
        "what": "empty cache.db to caught up against a loopback headend (same machine), then one poll with no changes",
        "targets": { "initial_sync_s": 2.0 },
        "items": report.upserted,
        "initial_sync_s_median": median,
        "initial_sync_s_all": times,
        "requests": report.requests,
        "pages": report.pages,
        "bytes_received": report.bytes,
        "cache_db_bytes": cache_bytes,
        "no_change_poll": { "requests": poll.requests, "not_modified": poll.not_modified, "bytes": poll.bytes },
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json)?)?;
    println!("wrote {out}");
    Ok(())
}
