//! `dangjian-headend`: serve the API, or seed demo content.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use headend::{seed, Db};

#[derive(Parser)]
#[command(version, about = "智慧党建 headend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Directory served under /media/ (HLS videos and live streams).
        #[arg(long)]
        media_dir: Option<PathBuf>,
    },
    /// Create the demo county (2 towns x 3 villages) with disclosures and notices.
    SeedDemo {
        #[arg(long)]
        db: PathBuf,
    },
    /// Publish the demo's cameras, live broadcasts and videos, pointing at
    /// the streams `dangjian-teststreams` serves, and schedule the live
    /// theme day as a meeting with a roll-call about two minutes from now.
    SeedStreams {
        #[arg(long)]
        db: PathBuf,
        /// Base of the RTSP cameras, e.g. rtsp://127.0.0.1:8554
        #[arg(long)]
        rtsp_base: String,
        /// The multicast channel, e.g. udp://239.255.10.1:5004
        #[arg(long, default_value = "udp://239.255.10.1:5004")]
        multicast: String,
    },
    /// Add a 200-row and a 30-column table to one village (render benchmark).
    SeedLongTables {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        village: String,
    },
    /// Add COUNT boxes with one member each and a meeting for them (for the
    /// roll-call benchmark); prints the meeting id.
    SeedBenchBoxes {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        count: usize,
    },
    /// Add COUNT extra disclosures to one village (for sync benchmarks).
    SeedBulk {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        village: String,
        #[arg(long)]
        count: usize,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            db,
            bind,
            media_dir,
        } => {
            let db = Arc::new(Db::open(&db).with_context(|| format!("opening {}", db.display()))?);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(bind)
                    .await
                    .with_context(|| format!("binding {bind}"))?;
                // Printed on stdout so scripts can find the port when bind uses port 0.
                println!("listening on http://{}", listener.local_addr()?);
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                headend::serve(listener, db, media_dir, shutdown).await?;
                anyhow::Ok(())
            })
        }
        Command::SeedDemo { db } => {
            let db = Db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let n = seed::seed_demo(&db)?;
            println!("seeded {n} demo items");
            Ok(())
        }
        Command::SeedStreams {
            db,
            rtsp_base,
            multicast,
        } => {
            let db = Db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs() as i64;
            let streams = headend::seed_streams::DemoStreams {
                rtsp_base,
                multicast,
            };
            let n = headend::seed_streams::seed_streams(&db, &streams, now)?;
            println!("seeded {n} stream items");
            let meeting = headend::seed_meetings::seed_demo_meeting(&db, now)?;
            println!("seeded meeting {meeting} with a roll-call in about two minutes");
            Ok(())
        }
        Command::SeedLongTables { db, village } => {
            let db = Db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let village = village.parse()?;
            let n = seed::seed_long_tables(&db, &village)?;
            println!("seeded {n} long tables into {village}");
            Ok(())
        }
        Command::SeedBenchBoxes { db, count } => {
            let db = Db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs() as i64;
            let meeting = headend::seed_meetings::seed_bench_boxes(&db, count, now)?;
            println!("meeting {meeting}");
            Ok(())
        }
        Command::SeedBulk { db, village, count } => {
            let db = Db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let village = village.parse()?;
            let n = seed::seed_bulk(&db, &village, count)?;
            println!("seeded {n} items into {village}");
            Ok(())
        }
    }
}
