//! `dangjian-tv`: the set-top-box app.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(name = "dangjian-tv", version, about = "智慧党建 TV app")]
struct Args {
    /// Configuration file (TOML).
    #[arg(long, default_value = "/etc/dangjian/tv.toml")]
    config: PathBuf,
    /// Render every main screen to PNG files in DIR instead of opening a window.
    #[arg(long, value_name = "DIR")]
    screenshots: Option<PathBuf>,
    /// With --screenshots: only the home screen.
    #[arg(long, requires = "screenshots")]
    home_only: bool,
    /// Render the first frame headlessly from the cache, print timing and RSS, exit.
    #[arg(long)]
    bench_first_frame: bool,
    /// Run one sync pass against the headend, print what it did, exit.
    #[arg(long)]
    sync_only: bool,
    /// Drive the app with a recorded input event stream (the bytes of
    /// /dev/input/eventN), played at its recorded pace.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Press N keys through the live input path (FIFO, input service,
    /// invoke_from_event_loop, render) and print key-to-frame latency.
    #[arg(long, value_name = "N")]
    bench_keys: Option<usize>,
    /// Time N rounds of page changes (home -> module list, open a 200-row
    /// table, page down) rendered headlessly, and print p50/p99.
    #[arg(long, value_name = "N")]
    bench_render: Option<usize>,
    /// Check the keymap directory strictly, print what is wrong, exit.
    #[arg(long)]
    check_keymaps: bool,
    /// Print what the box knows about itself (network, headend round trip,
    /// last sync, cache, outbox, versions, identity) and play a test stream;
    /// for SSH. Exits 1 when something needs attention.
    #[arg(long)]
    diagnose: bool,
}

/// Starts this program again in place, with the same arguments: after
/// provisioning, and when a command or the settings page asks for a
/// restart. The process id stays, so the service manager sees no exit.
fn restart_self() -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().context("finding this program")?;
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .exec();
    Err(err).context("restarting")
}

/// p50, p99 and max of durations, in milliseconds.
fn percentiles(d: &[std::time::Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        ms.get(((ms.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (pct(0.5), pct(0.99), pct(1.0))
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(tv::logs::Tee::new)
        .init();
    let config = match tv::Config::load(&args.config) {
        Ok(config) => config,
        Err(tv::config::ConfigError::NotProvisioned { settings, .. }) if !args.diagnose => {
            // First boot: the installer binds the box with the remote.
            if tv::install_ui::run_install(&settings)? {
                restart_self()?;
            }
            anyhow::bail!("the box was not provisioned");
        }
        Err(e) => return Err(e.into()),
    };
    if args.diagnose {
        let mut lines = tv::diagnose::diagnose(&config, std::time::Duration::from_secs(3));
        lines.push(tv::diagnose::stream_test(
            &config,
            std::time::Duration::from_secs(10),
        ));
        println!("{}", tv::diagnose::to_text(&lines));
        if lines.iter().any(|l| l.problem) {
            std::process::exit(1);
        }
        return Ok(());
    }
    if tv::install::take_reprovision_request(&config.data_dir) {
        // Asked for on the settings page: provision again (the old identity
        // stays until a new one is saved), then start as whatever it is.
        tv::install_ui::run_install(&config.install_settings())?;
        restart_self()?;
    }

    if args.bench_first_frame {
        let session = tv::HeadlessSession::start(&config, false)?;
        session.render_frame();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!(
            "first_frame_ms={ms:.1} rss_kib={} width={} height={}",
            rss_kib().unwrap_or(0),
            config.display.width,
            config.display.height
        );
        return Ok(());
    }

    if let Some(rounds) = args.bench_render {
        let mut session = tv::HeadlessSession::start(&config, false)?;
        let t = tv::bench::render_changes(&mut session, rounds);
        let stats = |name: &str, d: &[std::time::Duration]| {
            let (p50, p99, max) = percentiles(d);
            format!(
                "{name}_n={} {name}_p50_ms={p50:.2} {name}_p99_ms={p99:.2} {name}_max_ms={max:.2}",
                d.len()
            )
        };
        println!(
            "{} {} {} width={} height={}",
            stats("nav", &t.to_module_list),
            stats("open", &t.open_long_table),
            stats("down", &t.table_page_down),
            config.display.width,
            config.display.height
        );
        return Ok(());
    }

    if let Some(presses) = args.bench_keys {
        let mut session = tv::HeadlessSession::start_with_event_loop(&config, false)?;
        let r = tv::bench::key_latency(&mut session, presses)?;
        let (p50, p99, max) = percentiles(&r.latencies);
        println!(
            "frames={} no_frame={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} width={} height={}",
            r.latencies.len(),
            r.no_frame,
            p50,
            p99,
            max,
            config.display.width,
            config.display.height
        );
        return Ok(());
    }

    if args.sync_only {
        let (mut cache, _) = tv::open_storage(&config)?;
        let client = sync::SyncClient::new(
            &config.headend_url,
            config.village_code.clone(),
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(60),
        )?;
        let report = client.sync_once_blocking(&mut cache)?;
        println!("{report:?}");
        return Ok(());
    }

    if let Some(dir) = args.screenshots {
        let mut session = tv::HeadlessSession::start(&config, true)?;
        match session.wait_for_sync_result(std::time::Duration::from_secs(60))? {
            sync::SyncEvent::Failed { detail, .. } => {
                eprintln!("sync failed ({detail}); rendering from the cache")
            }
            _ => eprintln!("synced from {}", config.headend_url),
        }
        let files = if args.home_only {
            tv::render_home(&mut session, &dir)
        } else {
            tv::render_screens(&mut session, &dir)
        };
        for file in files.context("rendering screens")? {
            println!("{}", file.display());
        }
        return Ok(());
    }

    if args.check_keymaps {
        let map = input::Keymap::load_dir(&config.input.keymap_dir)?;
        println!(
            "keymaps ok: {} keys from {}",
            map.len(),
            map.sources.join(", ")
        );
        return Ok(());
    }

    if let Some(code) = tv::run(&config, args.replay.as_deref())? {
        tracing::info!(code, "restarting the app");
        restart_self()?;
    }
    Ok(())
}
