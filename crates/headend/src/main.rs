//! `dangjian-headend`: serve the API, migrate its database, manage staff
//! accounts, or seed demo content.

mod cli_database;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cli_database::DB_HELP;
use headend::{seed, Db};

#[derive(Parser)]
#[command(version, about = "智慧党建 headend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API. Every option can also come from the environment
    /// (the systemd unit reads /etc/dangjian/headend.env).
    Serve {
        #[arg(long, env = "DANGJIAN_DB", help = DB_HELP)]
        db: String,
        #[arg(long, env = "DANGJIAN_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Directory served under /media/ (HLS videos and live streams).
        #[arg(long, env = "DANGJIAN_MEDIA_DIR")]
        media_dir: Option<PathBuf>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Apply the schema migrations the database lacks (serve also does at
    /// start) and print the version it is at. A database a newer headend
    /// has migrated is refused.
    Migrate {
        #[arg(long, env = "DANGJIAN_DB", help = DB_HELP)]
        db: String,
    },
    /// Create the demo county (2 towns x 3 villages) with disclosures and notices.
    SeedDemo {
        #[arg(long, help = DB_HELP)]
        db: String,
    },
    /// Publish the demo's cameras, live broadcasts and videos, pointing at
    /// the streams `dangjian-teststreams` serves, and schedule the live
    /// theme day as a meeting with a roll-call about two minutes from now.
    SeedStreams {
        #[arg(long, help = DB_HELP)]
        db: String,
        /// Base of the RTSP cameras, e.g. rtsp://127.0.0.1:8554
        #[arg(long)]
        rtsp_base: String,
        /// The multicast channel, e.g. udp://239.255.10.1:5004
        #[arg(long, default_value = "udp://239.255.10.1:5004")]
        multicast: String,
    },
    /// Add a 200-row and a 30-column table to one village (render benchmark).
    SeedLongTables {
        #[arg(long, help = DB_HELP)]
        db: String,
        #[arg(long)]
        village: String,
    },
    /// Add COUNT boxes with one member each and a meeting for them (for the
    /// roll-call benchmark); prints the meeting id.
    SeedBenchBoxes {
        #[arg(long, help = DB_HELP)]
        db: String,
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
        #[arg(long, help = DB_HELP)]
        db: String,
        #[arg(long)]
        village: String,
        #[arg(long)]
        count: usize,
    },
}

/// TLS, proxies and limits of `serve`.
#[derive(clap::Args)]
struct SecurityArgs {
    /// PEM certificate chain: serve HTTPS (with HSTS and Secure cookies).
    #[arg(long, env = "DANGJIAN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long, env = "DANGJIAN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Reverse proxies whose X-Forwarded-For is believed (addresses or
    /// CIDR blocks, comma-separated). Nobody else's is.
    #[arg(long, env = "DANGJIAN_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Headend URLs a set_config command may point boxes at
    /// (comma-separated; empty: boxes' headend_url cannot be changed remotely).
    #[arg(long, env = "DANGJIAN_HEADEND_URL_ALLOW", default_value = "")]
    headend_url_allow: String,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "DANGJIAN_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds without a byte either way before a connection is closed.
    #[arg(long, env = "DANGJIAN_IDLE_TIMEOUT_SECS", default_value_t = 120)]
    idle_timeout_secs: u64,
    /// Connections served at once (each held push stream is one).
    #[arg(long, env = "DANGJIAN_MAX_CONNECTIONS", default_value_t = 200_000)]
    max_connections: usize,
    /// Push streams one box may hold at once.
    #[arg(long, env = "DANGJIAN_MAX_PUSH_PER_BOX", default_value_t = 2)]
    max_push_per_box: usize,
}

impl SecurityArgs {
    fn options(self, media_dir: Option<PathBuf>) -> anyhow::Result<headend::ServeOptions> {
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(headend::TlsFiles { cert, key }),
            _ => None,
        };
        let trusted_proxies = headend::options::parse_nets(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("DANGJIAN_TRUSTED_PROXIES: {e}"))?;
        Ok(headend::ServeOptions {
            media_dir,
            tls,
            trusted_proxies,
            headend_url_allow_list: self
                .headend_url_allow
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            limits: headend::Limits {
                header_read_timeout: std::time::Duration::from_secs(self.header_timeout_secs),
                idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs),
                max_connections: self.max_connections,
                max_push_per_device: self.max_push_per_box.max(1),
                ..headend::Limits::default()
            },
        })
    }
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create an account (the first one: a county admin).
    CreateAccount {
        #[arg(long, help = DB_HELP)]
        db: String,
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
        #[arg(long, help = DB_HELP)]
        db: String,
        #[arg(long)]
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long, help = DB_HELP)]
        db: String,
        #[arg(long)]
        username: String,
    },
    /// Import an XLSX or CSV file as a disclosure draft written by
    /// `--as` (an editor or admin of the scope), ready to submit.
    Import {
        #[arg(long, help = DB_HELP)]
        db: String,
        #[arg(long)]
        file: PathBuf,
        /// Region code the disclosure is for.
        #[arg(long)]
        scope: String,
        /// party, village or finance.
        #[arg(long)]
        category: String,
        #[arg(long)]
        module: String,
        #[arg(long)]
        period: String,
        /// Defaults to the first sheet's title row.
        #[arg(long)]
        title: Option<String>,
        #[arg(long = "as")]
        author: String,
    },
    /// Submit (if needed) and approve a draft as reviewer `--as`, under the
    /// same rules as the API (level above, not its author); publishes now.
    Publish {
        #[arg(long, help = DB_HELP)]
        db: String,
        #[arg(long)]
        draft: i64,
        #[arg(long = "as")]
        reviewer: String,
    },
    /// List accounts under a region (default: all).
    List {
        #[arg(long, help = DB_HELP)]
        db: String,
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
    let open = |db: &String| cli_database::open(db);
    // In the region the action concerns, so that region's admins see it;
    // without one, only the county's admins do.
    let audit =
        |db: &Db, action: &str, target: &str, region: Option<String>| -> anyhow::Result<()> {
            db.audit(
                &headend::db::AuditEntry {
                    account: None,
                    action: action.into(),
                    target: target.into(),
                    region,
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
            audit(
                &db,
                "account.create",
                &username,
                Some(account.region.to_string()),
            )?;
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
            let region = db.account(&username)?.map(|a| a.region.to_string());
            audit(&db, "account.password", &username, region)?;
            println!("password of {username} set; its sessions are ended");
        }
        AdminAction::Disable { db, username } => {
            let db = open(&db)?;
            db.set_account_disabled(&username, true)?;
            let region = db.account(&username)?.map(|a| a.region.to_string());
            audit(&db, "account.disable", &username, region)?;
            println!("{username} disabled");
        }
        AdminAction::Import {
            db,
            file,
            scope,
            category,
            module,
            period,
            title,
            author,
        } => {
            let db = open(&db)?;
            let account = db
                .account(&author)?
                .with_context(|| format!("no account {author}"))?;
            let scope: model::AreaCode = scope.parse()?;
            anyhow::ensure!(
                account.role.allows(headend::db::Permission::EditContent)
                    && db.region_within(&account.region, &scope)?,
                "{author} may not write content for {scope}"
            );
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let tables = if name.to_lowercase().ends_with(".csv") {
                sheets::read_csv(&name, &bytes)
            } else {
                sheets::read_xlsx(&bytes)
            };
            let tables = match tables {
                Ok(t) => t,
                Err(sheets::SheetsError::Problems(problems)) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    anyhow::bail!(
                        "{} problem(s) in {name}; nothing was imported",
                        problems.len()
                    );
                }
                Err(e) => return Err(e.into()),
            };
            let category = model::DisclosureCategory::parse(&category).with_context(|| {
                format!("category is party, village or finance, not {category}")
            })?;
            let title = title
                .or_else(|| tables.iter().find_map(|t| t.title.clone()))
                .context("give --title: the file has no title row")?;
            let content = model::Content::Disclosure(model::Disclosure {
                category,
                module,
                title,
                period,
                body: tables
                    .into_iter()
                    .map(|t| model::Block::Table(t.table))
                    .collect(),
                corrections: Vec::new(),
            });
            let draft = db.create_draft(&author, &scope, &content, None, now_secs()?)?;
            audit(
                &db,
                "content.import",
                &format!("draft {}", draft.id),
                Some(scope.to_string()),
            )?;
            println!(
                "draft {} ({}) by {author}; submit and approve it to publish",
                draft.id, draft.item_id
            );
        }
        AdminAction::Publish {
            db,
            draft,
            reviewer,
        } => {
            let db = open(&db)?;
            let account = db
                .account(&reviewer)?
                .with_context(|| format!("no account {reviewer}"))?;
            let d = db.draft(draft)?;
            anyhow::ensure!(
                account.role.allows(headend::db::Permission::ReviewContent)
                    && db.may_review(&account.region, &d.scope)?,
                "{reviewer} may not review content of {}",
                d.scope
            );
            if d.status != headend::db::DraftStatus::Submitted {
                db.submit_draft(draft, now_secs()?)?;
            }
            let (_, item) = db.approve_draft(draft, &reviewer, None, now_secs()?)?;
            let item = item.context("not published")?;
            audit(
                &db,
                "content.publish",
                &format!("{}@{}", item.id, item.version),
                Some(d.scope.to_string()),
            )?;
            println!("published {} version {}", item.id, item.version);
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
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;
    let cli = Cli::parse();
    let migrations = cli_database::MigrationsSeen::default();
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        ))
        .with(matches!(cli.command, Command::Migrate { .. }).then(|| migrations.layer()))
        .init();
    match cli.command {
        Command::Serve {
            db,
            bind,
            media_dir,
            security,
        } => {
            let options = security.options(media_dir)?;
            let scheme = if options.tls.is_some() {
                "https"
            } else {
                "http"
            };
            let db = Arc::new(cli_database::open(&db)?);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = headend::listen(bind)
                    .and_then(tokio::net::TcpListener::from_std)
                    .with_context(|| format!("binding {bind}"))?;
                // Printed on stdout so scripts can find the port when bind uses port 0.
                println!("listening on {scheme}://{}", listener.local_addr()?);
                service::ready();
                if let Some(every) = service::watchdog_interval() {
                    // The runtime still schedules tasks: tell systemd so.
                    tokio::spawn(async move {
                        loop {
                            service::watchdog();
                            tokio::time::sleep(every).await;
                        }
                    });
                }
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                headend::serve_with(listener, db, options, shutdown).await?;
                anyhow::Ok(())
            })
        }
        Command::SeedDemo { db } => {
            let db = cli_database::open(&db)?;
            let n = seed::seed_demo(&db)?;
            println!("seeded {n} demo items");
            Ok(())
        }
        Command::SeedStreams {
            db,
            rtsp_base,
            multicast,
        } => {
            let db = cli_database::open(&db)?;
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
            let db = cli_database::open(&db)?;
            let village = village.parse()?;
            let n = seed::seed_long_tables(&db, &village)?;
            println!("seeded {n} long tables into {village}");
            Ok(())
        }
        Command::SeedBenchBoxes { db, count } => {
            let db = cli_database::open(&db)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs() as i64;
            let meeting = headend::seed_meetings::seed_bench_boxes(&db, count, now)?;
            println!("meeting {meeting}");
            Ok(())
        }
        Command::Migrate { db } => cli_database::migrate(&db, &migrations),
        Command::Admin { action } => admin(action),
        Command::SeedBulk { db, village, count } => {
            let db = cli_database::open(&db)?;
            let village = village.parse()?;
            let n = seed::seed_bulk(&db, &village, count)?;
            println!("seeded {n} items into {village}");
            Ok(())
        }
    }
}
