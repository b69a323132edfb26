//! Support for the end-to-end tests: the real headend on a loopback port,
//! box configurations in temporary data directories, and a deliberately
//! broken HTTP server for malformed-feed cases.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use headend::{seed, Db, TestServer};

pub const VILLAGE: &str = "990101101001";

/// A seeded headend database: SQLite in `dir`, or a scratch database on
/// the PostgreSQL server `DANGJIAN_TEST_DATABASE_URL` names (dropped with
/// the `Db`), so every end-to-end test runs on either backend.
pub fn demo_headend_db(dir: &Path) -> Arc<Db> {
    let db = Arc::new(Db::open_test(dir).expect("open headend db"));
    seed::seed_demo(&db).expect("seed demo");
    db
}

pub fn start_headend(db: Arc<Db>) -> TestServer {
    TestServer::start(db, "127.0.0.1:0".parse().expect("addr")).expect("start headend")
}

/// A loopback address nothing listens on (yet).
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

pub fn box_config(headend_url: &str, data_dir: &Path) -> tv::Config {
    let text = format!(
        "headend_url = \"{headend_url}\"\nvillage_code = \"{VILLAGE}\"\ndata_dir = \"{}\"\n",
        data_dir.display()
    );
    tv::Config::parse(&text, "test.toml").expect("test config")
}

/// Gives the box in `data_dir` the identity of the demo box `device` (its
/// demo token), as provisioning would have; call before parsing its config.
pub fn demo_identity(data_dir: &Path, device: &str) {
    tv::identity::Identity {
        device: device.to_string(),
        village: VILLAGE.parse().expect("village"),
        token: headend::seed_meetings::demo_device_token(device),
    }
    .save(data_dir)
    .expect("identity");
}

/// Where tests leave PNGs for people to look at.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// An HTTP/1.1 server on loopback that answers every feed request with the
/// same broken body, and region requests properly. Counts feed requests.
pub struct BrokenFeedServer {
    pub addr: SocketAddr,
    pub feed_requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BrokenFeedServer {
    pub fn start(feed_body: &'static str) -> BrokenFeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let feed_requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (feed_requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    continue;
                };
                if halt.load(Ordering::Relaxed) {
                    break;
                }
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok() && line != "\r\n" && !line.is_empty() {
                    line.clear();
                }
                let body = if request_line.contains("/chain") {
                    r#"[{"code":"990101101001","name":"东坡村","level":"village","parent":"990101101000"}]"#
                } else {
                    count.fetch_add(1, Ordering::SeqCst);
                    feed_body
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        BrokenFeedServer {
            addr,
            feed_requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for BrokenFeedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept so the thread sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A bare HTTP/1.1 request on loopback; returns the body. Admin paths go
/// as the seeded demo county admin (logged in for the request).
pub fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    if path.starts_with("/api/v1/admin/") {
        let (user, password) = headend::seed::DEMO_ADMIN;
        http_as(addr, &login(addr, user, password), method, path, body)
    } else {
        raw_http(addr, method, path, body, "")
    }
}

/// Logs in on the headend at `addr`; the session token.
pub fn login(addr: SocketAddr, user: &str, password: &str) -> String {
    let login = serde_json::json!({ "username": user, "password": password }).to_string();
    let answer = raw_http(addr, "POST", "/api/v1/admin/login", &login, "");
    let session: serde_json::Value = serde_json::from_str(&answer).expect("login answer");
    session["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{user} cannot log in: {answer}"))
        .to_string()
}

/// A request with `token` as the bearer token; returns the body.
pub fn http_as(addr: SocketAddr, token: &str, method: &str, path: &str, body: &str) -> String {
    raw_http(
        addr,
        method,
        path,
        body,
        &format!("authorization: Bearer {token}\r\n"),
    )
}

fn raw_http(addr: SocketAddr, method: &str, path: &str, body: &str, headers: &str) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n{headers}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// Waits (up to `timeout`) until the box's open screen shows `text`,
/// pressing `reopen` before each look (to reopen a list the sync changed)
/// and waiting for the next sync in between. Panics with what was shown.
pub fn wait_until_shown(
    tv: &mut tv::HeadlessSession,
    text: &str,
    reopen: &[input::RemoteKey],
    timeout: std::time::Duration,
) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        for key in reopen {
            tv.press(*key);
        }
        if tv.visible_texts().iter().any(|t| t.contains(text)) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{text:?} never showed: {:?}",
            tv.visible_texts()
        );
        let _ = tv.wait_for("a sync", std::time::Duration::from_secs(1), |e| {
            matches!(e, sync::SyncEvent::Synced(_))
        });
    }
}
