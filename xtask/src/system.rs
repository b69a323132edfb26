//! Running commands and installing what the machine lacks.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Debian packages for building and testing (and, from the playback issue
/// on, GStreamer). Already-installed ones are skipped.
const PACKAGES: &[&str] = &[
    "pkg-config",
    "build-essential",
    "libfontconfig-dev",
    "libxkbcommon-dev",
    "libudev-dev",
    "fonts-dejavu-core",
    "libgstreamer1.0-dev",
    "libgstreamer-plugins-base1.0-dev",
    "libgstrtspserver-1.0-dev",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
    "gstreamer1.0-tools",
    // timeoverlay (pango) for the clock in the test streams.
    "gstreamer1.0-x",
    "xvfb",
    // The web console tests (tests/tests/console.rs) drive a real browser.
    "chromium",
    "chromium-driver",
    // The headend's tests run a second time on PostgreSQL, in a throw-away
    // cluster (xtask/src/pg_cluster.rs).
    "postgresql",
];

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command to completion, failing with its name if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

pub fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).args(args).current_dir(workspace_root()))
}

/// What a test run printed: the sums of its `test result:` lines, and
/// whether every command of it succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub ok: bool,
}

impl Tally {
    /// Both runs together.
    pub fn and(self, other: Tally) -> Tally {
        Tally {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
            ok: self.ok && other.ok,
        }
    }
}

/// Runs a test command (`cargo test …` or one test binary), passing its
/// output through, and adds up the `test result:` lines. A failing test
/// is counted, not an error; only a command that cannot start is.
pub fn run_tests(mut cmd: Command) -> Result<Tally> {
    use std::io::{BufRead, BufReader};
    cmd.stdout(std::process::Stdio::piped());
    eprintln!("+ {cmd:?}");
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    let stdout = child.stdout.take().context("test output")?;
    let mut tally = Tally::default();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        let (passed, failed) = test_result(&line);
        tally.passed += passed;
        tally.failed += failed;
    }
    let status = child.wait()?;
    tally.ok = status.success();
    if !tally.ok {
        eprintln!(
            "{cmd:?} failed with {status} ({} passed, {} failed)",
            tally.passed, tally.failed
        );
    }
    Ok(tally)
}

/// The passed and failed counts of a libtest `test result:` line.
fn test_result(line: &str) -> (u64, u64) {
    let Some(rest) = line.strip_prefix("test result: ") else {
        return (0, 0);
    };
    let count = |word: &str| -> u64 {
        rest.split(';')
            .find_map(|part| part.trim().strip_suffix(word))
            .and_then(|n| n.trim().rsplit(' ').next().map(str::to_string))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (count(" passed"), count(" failed"))
}

/// `cargo <args>` in the workspace, as a command to adjust and run.
pub fn cargo_command(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(workspace_root());
    cmd
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

pub fn bootstrap() -> Result<()> {
    install_packages(PACKAGES, &[])
}

/// Installs the Debian packages of `packages` that are missing, after
/// adding the dpkg `architectures` (multiarch) they need. An index that
/// fails to download during `apt-get update` (a mirror mid-sync) is
/// reported and the install is tried with what was fetched.
pub fn install_packages(packages: &[&str], architectures: &[&str]) -> Result<()> {
    if !std::path::Path::new("/usr/bin/dpkg-query").exists() {
        eprintln!("not a Debian system: install the equivalents of {packages:?} yourself");
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        eprintln!("system packages: all present");
        return Ok(());
    }
    eprintln!("installing system packages: {}", missing.join(" "));
    let as_root = is_root();
    let command = |program: &str| {
        let mut cmd = if as_root {
            Command::new(program)
        } else {
            let mut c = Command::new("sudo");
            c.arg(program);
            c
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    for arch in architectures {
        run(command("dpkg").args(["--add-architecture", arch]))?;
    }
    if let Err(e) = run(command("apt-get").args(["update", "-qq"])) {
        eprintln!("warning: {e}; installing with the package lists that were fetched");
    }
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    run(command("apt-get").args(&args))
}

#[cfg(test)]
mod tests {
    use super::test_result;

    #[test]
    fn test_result_lines_are_counted() {
        assert_eq!(
            test_result("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.31s"),
            (12, 0)
        );
        assert_eq!(
            test_result("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s"),
            (3, 2)
        );
        assert_eq!(test_result("running 12 tests"), (0, 0));
    }
}
