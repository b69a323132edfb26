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
    /// Staff accounts: create the first county admin, reset a password,
    /// disable an account, list accounts. The password is read from the
    /// DANGJIAN_PASSWORD environment variable or the first line of stdin.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
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

#[derive(Subcommand)]
enum AdminAction {
    /// Create an account (the first one: a county admin).
    CreateAccount {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        username: String,
        /// Shown in the console and the audit log, e.g. 青山县组织部 张三.
        #[arg(long)]
        name: String,
        /// The region code the account is attached to (its subtree).
        #[arg(long)]
        region: String,
        /// admin, editor, reviewer, operator or viewer.
        #[arg(long)]
        role: String,
    },
    /// Set a new password (also unlocks the account and ends its sessions).
    SetPassword {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        username: String,
    },
    /// List accounts under a region (default: all).
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        region: Option<String>,
    },
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("DANGJIAN_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn now_secs() -> anyhow::Result<i64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64)
}

fn admin(action: AdminAction) -> anyhow::Result<()> {
    let open = |db: &PathBuf| Db::open(db).with_context(|| format!("opening {}", db.display()));
    let audit = |db: &Db, action: &str, target: &str| -> anyhow::Result<()> {
        db.audit(
            &headend::db::AuditEntry {
                account: None,
                action: action.into(),
                target: target.into(),
                ip: "cli".into(),
                detail: "dangjian-headend admin".into(),
                ..Default::default()
            },
            now_secs()? * 1000,
        )?;
        Ok(())
    };
    match action {
        AdminAction::CreateAccount {
            db,
            username,
            name,
            region,
            role,
        } => {
            let db = open(&db)?;
            let role = headend::db::Role::parse(&role).with_context(|| {
                format!("unknown role {role}; use admin, editor, reviewer, operator or viewer")
            })?;
            let account = db.create_account(
                &headend::db::NewAccount {
                    username: username.clone(),
                    display_name: name,
                    region: region.parse()?,
                    role,
                    password: read_password()?,
                },
                None,
                now_secs()?,
            )?;
            audit(&db, "account.create", &username)?;
            println!(
                "created {} ({}) for region {}",
                account.username,
                account.role.as_str(),
                account.region
            );
        }
        AdminAction::SetPassword { db, username } => {
            let db = open(&db)?;
            db.set_password(&username, &read_password()?)?;
            audit(&db, "account.password", &username)?;
            println!("password of {username} set; its sessions are ended");
        }
        AdminAction::Disable { db, username } => {
            let db = open(&db)?;
            db.set_account_disabled(&username, true)?;
            audit(&db, "account.disable", &username)?;
            println!("{username} disabled");
        }
        AdminAction::List { db, region } => {
            let db = open(&db)?;
            let regions = db.regions()?;
            let roots: Vec<model::AreaCode> = match region {
                Some(r) => vec![r.parse()?],
                None => regions
                    .iter()
                    .filter(|r| r.parent.is_none())
                    .map(|r| r.code.clone())
                    .collect(),
            };
            for root in roots {
                for a in db.accounts_under(&root)? {
                    println!(
                        "{}\t{}\t{}\t{}{}",
                        a.username,
                        a.role.as_str(),
                        a.region,
                        a.display_name,
                        if a.disabled { "\t(disabled)" } else { "" }
                    );
                }
            }
        }
    }
    Ok(())
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
        Command::Admin { action } => admin(action),
        Command::SeedBulk { db, village, count } => {
            let db = Db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let village = village.parse()?;
            let n = seed::seed_bulk(&db, &village, count)?;
            println!("seeded {n} items into {village}");
            Ok(())
        }
    }
}
