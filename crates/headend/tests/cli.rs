//! `dangjian-headend` from the command line: the first county admin,
//! accounts, import and publish under the same rules as the API, and
//! `migrate`. Each test runs on SQLite, or on a scratch PostgreSQL
//! database when `DANGJIAN_TEST_DATABASE_URL` names a server (`--db` takes
//! either).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use headend::db::migrate;
use headend::db::sql::pg::Scratch;
use headend::db::sql::{params, Sql};
use headend::Db;

/// The database one test's commands share: a SQLite file in its temporary
/// directory, or a scratch database of its own on the test server (dropped
/// with it).
struct TestDb {
    dir: tempfile::TempDir,
    url: String,
    postgres: Option<Scratch>,
}

impl TestDb {
    fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("DANGJIAN_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(server) => {
                let scratch = Scratch::create(&server).unwrap();
                TestDb {
                    dir,
                    url: scratch.url(),
                    postgres: Some(scratch),
                }
            }
            None => {
                let url = dir.path().join("h.db").to_str().unwrap().to_string();
                TestDb {
                    dir,
                    url,
                    postgres: None,
                }
            }
        }
    }

    /// Opens it in this process, as the headend would.
    fn open(&self) -> Db {
        if self.postgres.is_some() {
            // Every PostgreSQL test of this binary uses the one key file.
            std::env::set_var(headend::db::SECRET_KEY_ENV, key_file());
        }
        Db::open_url(&self.url).unwrap()
    }
}

/// The key file of the PostgreSQL runs, written once (the headend would
/// create it on first open, but two commands of parallel tests must not
/// race to).
fn key_file() -> &'static Path {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-test-headend.key");
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .unwrap();
            writeln!(file, "{}", "5a".repeat(32)).unwrap();
        }
        std::fs::rename(&tmp, &path).unwrap();
        path
    })
}

/// `dangjian-headend <args> --db <url>`, with the key file a PostgreSQL
/// database needs when `key` is given.
fn command(url: &str, key: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian-headend"));
    cmd.args(args)
        .arg("--db")
        .arg(url)
        .env("DANGJIAN_PASSWORD", "correct-horse-42")
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LOG", "warn")
        .env_remove(headend::db::SECRET_KEY_ENV)
        .env_remove("DANGJIAN_DB");
    if let Some(key) = key {
        cmd.env(headend::db::SECRET_KEY_ENV, key);
    }
    cmd
}

/// Runs `dangjian-headend <args> --db <db>`: its exit code, and its stdout
/// and stderr.
fn exit_code(db: &TestDb, args: &[&str]) -> (Option<i32>, String) {
    let key = db.postgres.as_ref().map(|_| key_file());
    output(&mut command(&db.url, key, args))
}

/// Like [`exit_code`]: whether it succeeded.
fn headend(db: &TestDb, args: &[&str]) -> (bool, String) {
    let (code, text) = exit_code(db, args);
    (code == Some(0), text)
}

fn output(cmd: &mut Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn accounts_import_and_publish_from_the_command_line() {
    let db = TestDb::new();
    let d = db.dir.path();
    assert!(headend(&db, &["seed-demo"]).0);
    let (ok, text) = headend(
        &db,
        &[
            "admin",
            "create-account",
            "--username",
            "county-chief",
            "--name",
            "青山县组织部",
            "--region",
            "990101000000",
            "--role",
            "admin",
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = headend(
        &db,
        &[
            "admin",
            "create-account",
            "--username",
            "bad",
            "--name",
            "x",
            "--region",
            "990101000000",
            "--role",
            "emperor",
        ],
    );
    assert!(!ok && text.contains("unknown role"), "{text}");
    assert!(
        headend(
            &db,
            &[
                "admin",
                "create-account",
                "--username",
                "dongpo-acc",
                "--name",
                "会计",
                "--region",
                "990101101001",
                "--role",
                "editor"
            ]
        )
        .0
    );
    let (_, list) = headend(&db, &["admin", "list"]);
    assert!(list.contains("county-chief\tadmin\t990101000000"), "{list}");

    std::fs::write(d.join("bad.csv"), "户主,金额\n王建国,abc\n").unwrap();
    std::fs::write(
        d.join("sub.csv"),
        "东坡村11月补贴\n户主,金额（元）\n王建国,320\n李桂兰,280.5\n合计,600.50\n",
    )
    .unwrap();
    let import = |file: &str| {
        let path = d.join(file);
        headend(
            &db,
            &[
                "admin",
                "import",
                "--file",
                path.to_str().unwrap(),
                "--scope",
                "990101101001",
                "--category",
                "finance",
                "--module",
                "补助资金",
                "--period",
                "2026年11月",
                "--as",
                "dongpo-acc",
            ],
        )
    };
    let (ok, text) = import("bad.csv");
    assert!(!ok && text.contains("bad.csv!B2: 金额格式错误"), "{text}");
    let (ok, text) = import("sub.csv");
    assert!(ok, "{text}");
    // The author may not publish its own; the county admin may.
    let (ok, text) = headend(
        &db,
        &["admin", "publish", "--draft", "1", "--as", "dongpo-acc"],
    );
    assert!(!ok, "{text}");
    let (ok, text) = headend(
        &db,
        &["admin", "publish", "--draft", "1", "--as", "county-chief"],
    );
    assert!(ok && text.contains("version 1"), "{text}");

    let opened = db.open();
    let chain = opened
        .scope_chain(&"990101101001".parse().unwrap())
        .unwrap();
    let headend::db::FeedAnswer::Page { page, .. } = opened.feed(&chain, 0, 1000).unwrap() else {
        panic!("stale");
    };
    assert!(page
        .upserts
        .iter()
        .any(|i| i.content.title() == "东坡村11月补贴"));
}

#[test]
fn migrate_applies_what_is_pending_then_has_nothing_to_do() {
    let db = TestDb::new();
    let at = format!("version {}", migrate::latest());
    let (ok, text) = headend(&db, &["migrate"]);
    assert!(ok, "{text}");
    assert!(text.contains("applied version 1 (baseline)"), "{text}");
    assert!(text.contains(&format!("the database is at {at}")), "{text}");
    assert!(!text.contains("already"), "{text}");

    // Content in it, then again: nothing pending, nothing lost.
    assert!(headend(&db, &["seed-demo"]).0);
    let (ok, text) = headend(&db, &["migrate"]);
    assert!(ok, "{text}");
    assert_eq!(text.trim(), format!("already at {at}"));
    if db.postgres.is_none() {
        // The URL form of a SQLite file names the same database.
        let url = format!("sqlite://{}", db.url);
        let (code, text) = output(&mut command(&url, None, &["migrate"]));
        assert_eq!(code, Some(0), "{text}");
        assert_eq!(text.trim(), format!("already at {at}"));
    }
    let opened = db.open();
    assert_eq!(
        migrate::applied(&opened).unwrap(),
        (1..=migrate::latest()).collect::<Vec<_>>()
    );
    assert_eq!(opened.regions().unwrap().len(), 9, "the demo county");
}

#[test]
fn a_database_from_a_newer_headend_is_refused() {
    let db = TestDb::new();
    assert!(headend(&db, &["seed-demo"]).0);
    let newer = migrate::latest() + 1;
    {
        let opened = db.open();
        opened
            .raw()
            .unwrap()
            .execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, 'from a newer headend', 0)",
                params![newer],
            )
            .unwrap();
    }
    let (code, text) = exit_code(&db, &["migrate"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "the database is at version {newer}, newer than this headend knows ({})",
            migrate::latest()
        )),
        "{text}"
    );
    // Every command that opens it refuses the same way.
    let (code, text) = exit_code(&db, &["admin", "list"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("newer than this headend knows"), "{text}");
}

#[test]
fn a_postgres_url_needs_the_key_file_and_its_password_is_never_shown() {
    // Nothing listens on port 1 of loopback.
    let url = "postgres://dangjian:hunter2@127.0.0.1:1/dangjian";
    let (code, text) = output(&mut command(url, None, &["migrate"]));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("DANGJIAN_SECRET_KEY_FILE"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("headend.key");
    let (code, text) = output(&mut command(url, Some(&key), &["migrate"]));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("opening postgres://dangjian:***@127.0.0.1:1/dangjian"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
