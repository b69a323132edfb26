//! `cargo xtask run`: the demo headend and the TV app on this machine.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::system::{self, workspace_root};

pub const DEMO_VILLAGE: &str = "990101101001";

/// A headend child process that is killed when dropped.
pub struct Headend {
    pub child: Child,
    pub url: String,
}

impl Drop for Headend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn bin(profile: &str, name: &str) -> PathBuf {
    workspace_root().join("target").join(profile).join(name)
}

/// `dangjian-teststreams`: the demo's cameras (RTSP), live HLS and videos
/// (written into a media directory the headend serves) and a multicast
/// channel, all on loopback. Killed when dropped.
pub struct TestStreams {
    child: Child,
    pub rtsp: String,
    pub multicast: String,
}

impl Drop for TestStreams {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the stream generators; HLS goes under `media_dir`. The first run
/// encodes the demo videos (a minute or so); later runs reuse them.
pub fn start_test_streams(profile: &str, media_dir: &Path) -> Result<TestStreams> {
    let mut child = Command::new(bin(profile, "dangjian-teststreams"))
        .arg("--media-dir")
        .arg(media_dir)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting dangjian-teststreams")?;
    let stdout = child.stdout.take().context("teststreams stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let parsed: serde_json::Value = match serde_json::from_str(&line) {
        Ok(v) => v,
        Err(_) => {
            let _ = child.kill();
            bail!("dangjian-teststreams did not start: {line:?}");
        }
    };
    let get = |k: &str| parsed[k].as_str().unwrap_or_default().to_string();
    Ok(TestStreams {
        rtsp: get("rtsp"),
        multicast: get("multicast"),
        child,
    })
}

/// Seeds a fresh demo database in `dir` and serves it on a free loopback
/// port (with `/media/` from `dir/media`).
pub fn start_demo_headend(profile: &str, dir: &Path, extra: &[&str]) -> Result<Headend> {
    std::fs::create_dir_all(dir)?;
    let db = dir.join("headend.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let headend = bin(profile, "dangjian-headend");
    system::run(Command::new(&headend).arg("seed-demo").arg("--db").arg(&db))?;
    if !extra.is_empty() {
        system::run(Command::new(&headend).args(extra).arg("--db").arg(&db))?;
    }
    let mut child = Command::new(&headend)
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .args(["--bind", "127.0.0.1:0"])
        .arg("--media-dir")
        .arg(dir.join("media"))
        .stdout(Stdio::piped())
        .spawn()
        .context("starting dangjian-headend")?;
    let stdout = child.stdout.take().context("headend stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        bail!("headend did not start: {line:?}");
    };
    Ok(Headend {
        url: url.to_string(),
        child,
    })
}

pub fn write_tv_config(path: &Path, url: &str, data_dir: &Path, size: (u32, u32)) -> Result<()> {
    // The demo box's identity, as provisioning would leave it (its token is
    // the demo one the headend seeds).
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(data_dir)?;
        let identity = data_dir.join("device.toml");
        let _ = std::fs::remove_file(&identity);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&identity)
            .and_then(|mut f| {
                f.write_all(
                    format!(
                        "device = \"demo-box\"\nvillage = \"{DEMO_VILLAGE}\"\ntoken = \"demo-token-demo-box\"\n"
                    )
                    .as_bytes(),
                )
            })
            .with_context(|| format!("writing {}", identity.display()))?;
    }
    std::fs::write(
        path,
        format!(
            "headend_url = \"{url}\"\nvillage_code = \"{DEMO_VILLAGE}\"\n# The demo household: 王建国 and 李桂兰 of 东坡村党支部.\ndevice_id = \"demo-box\"\ndata_dir = \"{}\"\n\n[display]\nwidth = {}\nheight = {}\n\n[player]\n# The demo's multicast channel is sent on the loopback interface.\nmulticast_iface = \"lo\"\n",
            data_dir.display(),
            size.0,
            size.1
        ),
    )
    .with_context(|| format!("writing {}", path.display()))
}

pub fn run() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&[
        "build",
        "-p",
        "headend",
        "-p",
        "tv",
        "-p",
        "player",
        "--features",
        "player/test-streams",
    ])?;
    let dir = workspace_root().join("target/demo");
    eprintln!("starting the demo streams (the first run encodes the demo videos)");
    let streams = start_test_streams("debug", &dir.join("media"))?;
    let headend = start_demo_headend(
        "debug",
        &dir,
        &[
            "seed-streams",
            "--rtsp-base",
            &streams.rtsp,
            "--multicast",
            &streams.multicast,
        ],
    )?;
    eprintln!("demo headend: {}", headend.url);
    eprintln!(
        "web console: {}/console/ (demo login qingshan-admin / dangjian-demo)",
        headend.url
    );
    let config = dir.join("tv.toml");
    write_tv_config(&config, &headend.url, &dir.join("box"), (1280, 720))?;
    let tv = bin("debug", "dangjian-tv");
    let has_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if has_display {
        eprintln!(
            "opening the TV app; keys: arrows, Enter=OK, Esc=Back, Home, F1-F4 colour keys, digits"
        );
        system::run(Command::new(tv).arg("--config").arg(&config))?;
    } else {
        eprintln!("no display: rendering each main screen to PNG");
        system::run(
            Command::new(tv)
                .arg("--config")
                .arg(&config)
                .arg("--screenshots")
                .arg(dir.join("screens")),
        )?;
    }
    Ok(())
}
