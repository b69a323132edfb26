//! Starting and stopping chromedriver (and the Chromium it starts).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::wire::Wire;
use crate::BrowserError;

const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// Where the binaries are: the Debian paths unless the environment says otherwise.
pub(crate) struct Paths {
    pub(crate) chromedriver: PathBuf,
    pub(crate) chromium: PathBuf,
}

impl Paths {
    pub(crate) fn from_env() -> Paths {
        let pick = |var: &str, default: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        Paths {
            chromedriver: pick("DANGJIAN_CHROMEDRIVER", DEFAULT_CHROMEDRIVER),
            chromium: pick("DANGJIAN_CHROMIUM", DEFAULT_CHROMIUM),
        }
    }

    pub(crate) fn check(&self) -> Result<(), BrowserError> {
        if !self.chromedriver.is_file() {
            return Err(BrowserError::DriverMissing(self.chromedriver.clone()));
        }
        if !self.chromium.is_file() {
            return Err(BrowserError::BrowserMissing(self.chromium.clone()));
        }
        Ok(())
    }
}

/// A running chromedriver with its scratch directory (profile and log).
///
/// Dropping it kills chromedriver, then any Chromium still using the
/// profile, then removes the directory.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
    log: PathBuf,
    // Declared last so it is removed after the processes are gone.
    _dir: TempDir,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub(crate) fn start(paths: &Paths) -> Result<(Driver, Wire), BrowserError> {
        let dir = tempfile::Builder::new()
            .prefix("dangjian-browser-")
            .tempdir()
            .map_err(|e| BrowserError::io("cannot create temp dir", std::env::temp_dir(), e))?;
        let profile = dir.path().join("profile");
        fs::create_dir(&profile)
            .map_err(|e| BrowserError::io("cannot create profile dir", &profile, e))?;
        let log = dir.path().join("chromedriver.log");
        let out = File::create(&log).map_err(|e| BrowserError::io("cannot create log", &log, e))?;
        let err = out
            .try_clone()
            .map_err(|e| BrowserError::io("cannot open log", &log, e))?;
        let port = free_port()?;
        let child = Command::new(&paths.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| BrowserError::io("cannot start chromedriver", &paths.chromedriver, e))?;
        let mut driver = Driver {
            child,
            port,
            profile,
            log,
            _dir: dir,
        };
        let wire = Wire::new(port)?;
        driver.wait_ready(&wire)?;
        Ok((driver, wire))
    }

    fn wait_ready(&mut self, wire: &Wire) -> Result<(), BrowserError> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.not_ready(start, format!("chromedriver exited with {status}")));
            }
            let reply =
                wire.call_with_timeout(Method::GET, "/status", None, Duration::from_secs(2));
            if let Ok(value) = reply {
                if value.get("ready").and_then(Value::as_bool) == Some(true) {
                    return Ok(());
                }
            }
            if start.elapsed() >= READY_TIMEOUT {
                return Err(self.not_ready(start, "no ready reply to GET /status".into()));
            }
            std::thread::sleep(POLL);
        }
    }

    fn not_ready(&self, start: Instant, why: String) -> BrowserError {
        BrowserError::DriverNotReady {
            port: self.port,
            waited: start.elapsed(),
            detail: format!("{why}; chromedriver log ends: {}", self.log_tail()),
        }
    }

    /// The end of chromedriver's log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        const TAIL: u64 = 1500;
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).trim().to_string();
        }
        if text.is_empty() {
            "(empty)".into()
        } else {
            text
        }
    }

    /// The W3C capabilities for a headless Chromium using this driver's profile.
    pub(crate) fn capabilities(&self, chromium: &Path) -> Value {
        json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 30_000 },
                    "goog:chromeOptions": {
                        "binary": chromium.to_string_lossy(),
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-quic",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--disable-dev-shm-usage",
                            format!("--user-data-dir={}", self.profile.display()),
                            "--window-size=1280,900",
                            "--lang=zh-CN",
                        ]
                    }
                }
            }
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_users_of(&self.profile);
    }
}

/// Asks the kernel for a free loopback port. Another process could take it
/// before chromedriver binds it; chromedriver then exits and we say so.
fn free_port() -> Result<u16, BrowserError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BrowserError::io("cannot bind a loopback port", "127.0.0.1:0", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| BrowserError::io("cannot read bound port", "127.0.0.1:0", e))?
        .port();
    Ok(port)
}

/// Kills every process whose command line names `profile`: Chromium and its
/// helpers left behind when chromedriver dies without closing the session.
fn kill_users_of(profile: &Path) {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw)
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let names_profile = cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == needle.as_bytes());
        if names_profile {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}
