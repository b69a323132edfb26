//! The headend: where county, town and village staff publish and boxes sync.
//!
//! This first cut serves the region tree, the per-village feed (cursor
//! paging, tombstones, `ETag`/`304`, `409` for stale cursors) and blobs, from
//! SQLite, and stream files (HLS) from a media directory; party branches,
//! members and households; meetings with roll-calls pushed to boxes over
//! server-sent events (`push`), sign-ins judged on time and on playback
//! evidence, and attendance reports. `app()` returns the router so tests
//! run it without a socket; `serve()` runs it on a listener with the
//! roll-call scheduler; the binary only parses arguments.
//! Staff accounts (roles, region subtrees, Argon2id, sessions, lock-out)
//! guard every admin endpoint (`auth`), and an append-only audit log
//! records logins, refusals and every change.
//! Later: review flow, imports, statistics, PostgreSQL at scale.

mod api;
mod auth;
mod body_limit;
pub mod client_addr;
mod console;
mod csv_export;
/// The domain operations (the `headend-ops` crate).
pub use headend_ops as ops;
pub use headend_ops::throttle;
/// Demo content (the `headend-seed` crate).
pub use headend_seed as seed;
pub use headend_seed::{
    meetings as seed_meetings, services as seed_services, streams as seed_streams,
};
/// Storage (the `headend-store` crate), under its old name.
pub use headend_store as db;
mod https;
mod media;
pub mod options;
pub mod push;
mod relay;
mod scheduler;
mod server;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use api::boxes::MAX_SUBMISSIONS;
pub use api::{app, app_with, app_with_options, ApiError, DEFAULT_FEED_PAGE};
pub use auth::SESSION_COOKIE;
pub use db::{Db, DbError, NewItem};
pub use options::{IpNet, Limits, ServeOptions, TlsFiles};
pub use push::Hub;
pub use server::listen;

/// Serves the API on `listener` until `shutdown` resolves, opening planned
/// roll-calls when their time comes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    db: Arc<Db>,
    media_dir: Option<PathBuf>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let options = ServeOptions {
        media_dir,
        ..ServeOptions::default()
    };
    serve_with(listener, db, options, shutdown).await
}

/// Like [`serve`], with TLS, trusted proxies and limits from `options`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    db: Arc<Db>,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = Arc::new(Hub::new());
    // Other replicas on the same database hear our events, we theirs.
    relay::start(&hub, &db).map_err(std::io::Error::other)?;
    let ops = ops::Ops::new(db, hub.clone(), Arc::new(ops::SystemClock));
    let scheduler = tokio::spawn(scheduler::run(ops.clone(), hub.clone()));
    let closing = hub.clone();
    let shutdown = async move {
        shutdown.await;
        // Held push connections would keep a graceful shutdown waiting.
        closing.close();
    };
    let tls = match &options.tls {
        Some(files) => Some(
            server::acceptor(files)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        ),
        None => None,
    };
    let limits = options.limits.clone();
    let app = api::app_with_ops(ops, hub, options);
    let served = server::run(listener, app, tls, limits, shutdown).await;
    scheduler.abort();
    served
}

/// A headend running on its own thread, for tests and benchmarks.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Binds `addr` (use port 0 for a free one) and serves `db` until dropped.
    pub fn start(db: Arc<Db>, addr: SocketAddr) -> std::io::Result<TestServer> {
        Self::start_with_media(db, addr, None)
    }

    /// Like [`TestServer::start`], also serving `/media/…` from `media_dir`.
    pub fn start_with_media(
        db: Arc<Db>,
        addr: SocketAddr,
        media_dir: Option<PathBuf>,
    ) -> std::io::Result<TestServer> {
        let options = ServeOptions {
            media_dir,
            ..ServeOptions::default()
        };
        Self::start_with_options(db, addr, options)
    }

    /// Like [`TestServer::start`], served as `serve_with` would with `options`.
    pub fn start_with_options(
        db: Arc<Db>,
        addr: SocketAddr,
        options: ServeOptions,
    ) -> std::io::Result<TestServer> {
        let std_listener = server::listen(addr)?;
        let addr = std_listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("headend".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("headend listener: {e}");
                            return;
                        }
                    };
                    let shutdown = async {
                        let _ = stopped.await;
                    };
                    if let Err(e) = serve_with(listener, db, options, shutdown).await {
                        tracing::error!("headend stopped: {e}");
                    }
                });
            })?;
        Ok(TestServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
