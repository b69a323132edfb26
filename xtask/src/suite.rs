//! `cargo xtask test`: what CI runs.
//!
//! fmt and clippy, the box binaries for the qemu smoke test, then every
//! test of the workspace on SQLite (`cargo test --workspace`), then the
//! headend's tests a second time on PostgreSQL: the test binaries the first
//! run used, run again with `DANGJIAN_TEST_DATABASE_URL` naming a
//! throw-away cluster, so the second run builds nothing. (`cargo test -p`
//! with fewer packages could resolve features differently and rebuild.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::pg_cluster::Cluster;
use crate::system::{self, Tally};

/// The variable the headend's tests read (`Db::open_test`).
const TEST_DATABASE_ENV: &str = "DANGJIAN_TEST_DATABASE_URL";

/// Packages (by directory) whose test binaries run again on PostgreSQL:
/// the headend's storage, the headend itself (API, console, roll-call,
/// fleet, security, the permission matrix, the CLI) and the end-to-end
/// tests, all of which start a headend.
const ON_POSTGRES: &[&str] = &["crates/headend-store", "crates/headend", "tests"];

/// Test binaries of those packages that do not run again: the qemu smoke
/// test is about the ARM box binaries (its headend side is what
/// `end_to_end` covers), and needs them built.
const NOT_ON_POSTGRES: &[(&str, &str)] = &[("tests", "box_smoke")];

/// One test executable cargo built.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestBinary {
    /// The package directory: cargo runs tests there.
    package_dir: PathBuf,
    /// e.g. `console` for tests/tests/console.rs.
    name: String,
    executable: PathBuf,
}

/// `cargo xtask test postgres`: only the second run (bootstrap, build,
/// the headend's tests on a throw-away cluster), for working on the
/// PostgreSQL backend.
pub fn postgres_only() -> Result<()> {
    system::bootstrap()?;
    let binaries = test_binaries()?;
    let started = Instant::now();
    let postgres = on_postgres(&binaries)?;
    println!(
        "tests on PostgreSQL: {} passed, {} failed ({}, the cluster included)",
        postgres.passed,
        postgres.failed,
        minutes(started.elapsed())
    );
    if !postgres.ok || postgres.failed > 0 || postgres.passed == 0 {
        bail!("tests failed");
    }
    Ok(())
}

pub fn test() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&["fmt", "--all", "--", "--check"])?;
    system::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // The box binaries for the qemu smoke test (tests/tests/box_smoke.rs):
    // the shipping code built quickly (profile box-smoke).
    let smoke = crate::cross::build(crate::cross::Arch::Aarch64, crate::cross::SMOKE_PROFILE)?;
    std::env::set_var("DANGJIAN_BOX_BIN", &smoke);
    let smoke = crate::cross::build(crate::cross::Arch::Armv7, crate::cross::SMOKE_PROFILE)?;
    std::env::set_var("DANGJIAN_BOX_ARMV7_BIN", &smoke);

    // Build once, and learn which binaries the build made.
    let binaries = test_binaries()?;

    let started = Instant::now();
    let mut sqlite = system::cargo_command(&["test", "--workspace", "--no-fail-fast"]);
    sqlite.env_remove(TEST_DATABASE_ENV);
    let sqlite = system::run_tests(sqlite)?;
    let sqlite_time = started.elapsed();

    let started = Instant::now();
    let postgres = on_postgres(&binaries)?;
    let postgres_time = started.elapsed();

    let all = sqlite.and(postgres);
    println!(
        "tests on SQLite: {} passed, {} failed ({})",
        sqlite.passed,
        sqlite.failed,
        minutes(sqlite_time)
    );
    println!(
        "tests on PostgreSQL: {} passed, {} failed ({}, the cluster included)",
        postgres.passed,
        postgres.failed,
        minutes(postgres_time)
    );
    // One closing line for the whole run: cargo's own last line is whichever
    // binary ran last, often a doc-test run with nothing in it.
    println!("tests: {} passed, {} failed", all.passed, all.failed);
    if !all.ok || all.failed > 0 || sqlite.passed == 0 || postgres.passed == 0 {
        bail!("tests failed");
    }
    Ok(())
}

/// The headend's test binaries once more, on a fresh PostgreSQL cluster
/// (stopped again whatever the tests did).
fn on_postgres(binaries: &[TestBinary]) -> Result<Tally> {
    let root = system::workspace_root();
    let cluster = Cluster::start(&root.join("target"))?;
    eprintln!(
        "test cluster: {} (log: {})",
        cluster.url,
        cluster.log().display()
    );
    let mut tally = Tally {
        ok: true,
        ..Tally::default()
    };
    for binary in binaries.iter().filter(|b| runs_on_postgres(&root, b)) {
        let mut cmd = Command::new(&binary.executable);
        // As `cargo test` runs it: in its package's directory.
        cmd.current_dir(&binary.package_dir)
            .env("CARGO_MANIFEST_DIR", &binary.package_dir)
            .env(TEST_DATABASE_ENV, &cluster.url);
        eprintln!("on PostgreSQL: {}", binary.name);
        tally = tally.and(system::run_tests(cmd)?);
    }
    drop(cluster);
    Ok(tally)
}

fn runs_on_postgres(root: &Path, binary: &TestBinary) -> bool {
    ON_POSTGRES
        .iter()
        .any(|p| binary.package_dir == root.join(p))
        && !NOT_ON_POSTGRES
            .iter()
            .any(|(p, name)| binary.package_dir == root.join(p) && binary.name == *name)
}

/// Builds every test of the workspace (`cargo test --workspace --no-run`,
/// the build `cargo test --workspace` then reuses) and lists the test
/// executables it made.
fn test_binaries() -> Result<Vec<TestBinary>> {
    let mut cmd = system::cargo_command(&[
        "test",
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    cmd.stdout(std::process::Stdio::piped());
    eprintln!("+ {cmd:?}");
    let out = cmd
        .spawn()?
        .wait_with_output()
        .context("building the tests")?;
    if !out.status.success() {
        bail!("building the tests failed with {}", out.status);
    }
    let binaries = parse_test_binaries(&String::from_utf8_lossy(&out.stdout));
    if binaries.is_empty() {
        bail!("cargo test --no-run listed no test binaries");
    }
    Ok(binaries)
}

/// The test executables among cargo's JSON messages (one per line).
fn parse_test_binaries(messages: &str) -> Vec<TestBinary> {
    let mut out: Vec<TestBinary> = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            Some(TestBinary {
                package_dir: Path::new(m["manifest_path"].as_str()?)
                    .parent()?
                    .to_path_buf(),
                name: m["target"]["name"].as_str()?.to_string(),
                executable: PathBuf::from(m["executable"].as_str()?),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.package_dir, &a.name).cmp(&(&b.package_dir, &b.name)));
    out.dedup();
    out
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{} min {:02} s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_executables_are_found_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/headend#0.1.0","manifest_path":"/w/crates/headend/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"cli","src_path":"/w/crates/headend/tests/cli.rs","edition":"2021","doc":false,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":1,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/w/target/debug/deps/cli-0123"],"executable":"/w/target/debug/deps/cli-0123","fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/crates/headend#0.1.0","manifest_path":"/w/crates/headend/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"dangjian-headend","src_path":"/w/crates/headend/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":1,"debug_assertions":true,"overflow_checks":true,"test":false},"features":[],"filenames":["/w/target/debug/dangjian-headend"],"executable":"/w/target/debug/dangjian-headend","fresh":true}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            parse_test_binaries(messages),
            vec![TestBinary {
                package_dir: PathBuf::from("/w/crates/headend"),
                name: "cli".into(),
                executable: PathBuf::from("/w/target/debug/deps/cli-0123"),
            }]
        );
    }

    #[test]
    fn the_headend_binaries_run_on_postgres() {
        let root = Path::new("/w");
        let binary = |dir: &str, name: &str| TestBinary {
            package_dir: root.join(dir),
            name: name.into(),
            executable: root.join("target/debug/deps").join(name),
        };
        assert!(runs_on_postgres(root, &binary("crates/headend", "cli")));
        assert!(runs_on_postgres(
            root,
            &binary("crates/headend-store", "old_database")
        ));
        assert!(runs_on_postgres(root, &binary("tests", "console")));
        assert!(!runs_on_postgres(root, &binary("tests", "box_smoke")));
        assert!(!runs_on_postgres(root, &binary("crates/tv", "tv")));
    }

    #[test]
    fn durations_read_as_minutes() {
        assert_eq!(minutes(Duration::from_secs(754)), "12 min 34 s");
        assert_eq!(minutes(Duration::from_secs(5)), "0 min 05 s");
    }
}
