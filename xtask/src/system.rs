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

/// Runs `cargo test ...`, passing its output through, and adds up the
/// `test result:` lines. Fails if cargo fails.
pub fn cargo_test(args: &[&str]) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(args)
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped());
    eprintln!("+ {cmd:?}");
    let mut child = cmd.spawn().context("starting cargo test")?;
    let stdout = child.stdout.take().context("cargo test stdout")?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| -> u64 {
                rest.split(';')
                    .find_map(|part| part.trim().strip_suffix(word))
                    .and_then(|n| n.trim().rsplit(' ').next().map(str::to_string))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
            };
            passed += count(" passed");
            failed += count(" failed");
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo test failed with {status} ({passed} passed, {failed} failed)");
    }
    Ok((passed, failed))
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
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
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
