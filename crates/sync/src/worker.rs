//! The sync loop on its own thread with its own tokio runtime.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::{AreaCode, RollCallPrompt, PLAYBACK_BEAT_SECS};
use store::{Cache, Outbox};
use tokio::sync::{mpsc, watch, Notify};

use crate::delivery::{Delivered, DeviceLink};
use crate::fleet::{heartbeats, send_acks, DeviceStatus, HeartbeatSource};
use crate::push::{PushListener, Pushed};
use crate::{FailureKind, SyncClient, SyncError, SyncReport};

#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub headend_url: String,
    pub scope: AreaCode,
    pub cache_path: PathBuf,
    /// Pause between polls while all is well.
    pub poll_interval: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// First retry delay after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Bytes of images kept in cache.db.
    pub image_cache_bytes: u64,
    /// The box's id on the headend. Without one the box only reads: no
    /// push channel, no outbox, no heartbeats.
    pub device: Option<String>,
    /// The device token from provisioning, sent with every request the box
    /// makes as itself.
    pub device_token: Option<String>,
    /// The app's version, for heartbeats.
    pub app_version: String,
    /// Time between fleet heartbeats.
    pub heartbeat_interval: Duration,
    /// Where `outbox.db` is; the sender delivers what the UI writes there.
    pub outbox_path: Option<PathBuf>,
}

impl SyncConfig {
    pub fn new(headend_url: &str, scope: AreaCode, cache_path: PathBuf) -> SyncConfig {
        SyncConfig {
            headend_url: headend_url.to_string(),
            scope,
            cache_path,
            poll_interval: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            min_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            image_cache_bytes: store::DEFAULT_BLOB_CAP,
            device: None,
            device_token: None,
            app_version: String::new(),
            heartbeat_interval: Duration::from_secs(model::HEARTBEAT_SECS),
            outbox_path: None,
        }
    }
}

/// What the UI hears from sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    /// A pass began.
    Syncing,
    /// A pass finished; the cache is current.
    Synced(SyncReport),
    /// A pass failed; the cache is unchanged and another try follows.
    Failed {
        kind: FailureKind,
        detail: String,
        retry_in: Duration,
    },
    /// A roll-call prompt from the push channel (or its polling fallback).
    RollCall {
        prompt: RollCallPrompt,
        /// When it arrived, on the monotonic clock.
        received: Instant,
    },
    /// Outbox items the headend answered.
    Delivered(Vec<Delivered>),
    /// Sending the outbox failed; `pending` items wait for the next try.
    OutboxWaiting { pending: usize, detail: String },
    /// The household, its attendance record or its services record
    /// (requests and replies, evaluations, exam results) changed in the cache.
    HouseholdChanged,
    /// A command from the county centre; the UI carries it out and answers
    /// with [`SyncSender::answer`]. Can arrive twice (until the answer
    /// reaches the headend): the UI skips ids it has done.
    Command(model::DeviceCommand),
    /// The headend refused this box's token: revoked, or never provisioned.
    DeviceRefused { revoked: bool },
}

/// Exponential backoff with jitter, so a county's boxes do not all return at
/// the same second after a headend outage.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max,
            failures: 0,
        }
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// The next delay: min * 2^failures capped at max, minus up to 25% jitter.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32 << self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let base = self.min.saturating_mul(factor).min(self.max);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = base.mul_f64(f64::from(nanos % 250) / 1000.0);
        base.saturating_sub(jitter)
    }
}

enum Command {
    Nudge,
    Stop,
}

/// What the UI thread uses to reach the sync thread; cheap to clone.
#[derive(Clone)]
pub struct SyncSender {
    commands: mpsc::UnboundedSender<Command>,
    flush: Arc<Notify>,
    playing: Arc<watch::Sender<Option<String>>>,
    acks: mpsc::UnboundedSender<(u64, model::CommandAck)>,
    status: Arc<DeviceStatus>,
}

impl SyncSender {
    /// Sync now instead of waiting for the next poll or retry.
    pub fn nudge(&self) {
        let _ = self.commands.send(Command::Nudge);
    }

    /// Send the outbox now (the UI just wrote to it).
    pub fn flush_outbox(&self) {
        self.flush.notify_one();
    }

    /// Answers command `id` to the headend.
    pub fn answer(&self, id: u64, ok: bool, detail: impl Into<String>) {
        let _ = self.acks.send((
            id,
            model::CommandAck {
                ok,
                detail: detail.into(),
            },
        ));
    }

    /// What the box knows about itself (for heartbeats and diagnostics).
    pub fn status(&self) -> Arc<DeviceStatus> {
        self.status.clone()
    }

    /// The live item on screen, for playback heartbeats; `None`: nothing
    /// live (a video on demand, a menu).
    pub fn playing(&self, item: Option<String>) {
        self.playing.send_if_modified(|current| {
            let changed = *current != item;
            *current = item;
            changed
        });
    }
}

/// Controls the sync thread; dropping it stops the thread.
pub struct SyncHandle {
    sender: SyncSender,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncHandle {
    /// Sync now instead of waiting for the next poll or retry.
    pub fn nudge(&self) {
        self.sender.nudge();
    }

    pub fn sender(&self) -> SyncSender {
        self.sender.clone()
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.sender.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the sync loop on a new thread. `on_event` is called on that
/// thread; the TV forwards events to its UI thread from there.
pub fn spawn(
    config: SyncConfig,
    on_event: impl Fn(SyncEvent) + Send + 'static,
) -> std::io::Result<SyncHandle> {
    let (commands, mut rx) = mpsc::unbounded_channel();
    let flush = Arc::new(Notify::new());
    let (playing, playing_rx) = watch::channel(None);
    let (acks, acks_rx) = mpsc::unbounded_channel();
    let status = Arc::new(DeviceStatus::default());
    let nudge = commands.clone();
    let sender = SyncSender {
        commands,
        flush: flush.clone(),
        playing: Arc::new(playing),
        acks,
        status: status.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let on_event: Report = Arc::new(Mutex::new(Box::new(on_event)));
    let thread = std::thread::Builder::new()
        .name("sync".into())
        .spawn(move || {
            runtime.block_on(async move {
                let tasks = DeviceTasks {
                    flush: flush.clone(),
                    playing: playing_rx,
                    nudge,
                    acks: acks_rx,
                    status: status.clone(),
                };
                start_device_tasks(&config, &on_event, tasks);
                run(config, on_event, flush, status, &mut rx).await
            })
        })?;
    Ok(SyncHandle {
        sender,
        thread: Some(thread),
    })
}

type Report = Arc<Mutex<Box<dyn Fn(SyncEvent) + Send>>>;

fn report(on_event: &Report, event: SyncEvent) {
    if let Ok(f) = on_event.lock() {
        f(event);
    }
}

/// What the device tasks share with the UI side of [`SyncSender`].
struct DeviceTasks {
    flush: Arc<Notify>,
    playing: watch::Receiver<Option<String>>,
    nudge: mpsc::UnboundedSender<Command>,
    acks: mpsc::UnboundedReceiver<(u64, model::CommandAck)>,
    status: Arc<DeviceStatus>,
}

/// The push listener, the outbox sender, the playback and fleet heartbeats
/// and the command answers, for a box with a device id; each runs until the
/// sync thread stops.
fn start_device_tasks(config: &SyncConfig, on_event: &Report, tasks: DeviceTasks) {
    let DeviceTasks {
        flush,
        playing,
        nudge,
        acks,
        status,
    } = tasks;
    let flush = &flush;
    let Some(device) = config.device.clone() else {
        return;
    };
    let token = config.device_token.as_deref();
    match PushListener::new(&config.headend_url, &device, token, config.connect_timeout) {
        Ok(listener) => {
            let on_event = on_event.clone();
            let flush = flush.clone();
            let (min, max) = (
                config.min_backoff,
                config.max_backoff.min(Duration::from_secs(30)),
            );
            tokio::spawn(listener.run(
                move |pushed| match pushed {
                    Pushed::RollCall { prompt, received } => {
                        report(&on_event, SyncEvent::RollCall { prompt, received })
                    }
                    // Back online: whatever waited in the outbox goes now.
                    Pushed::Connected(true) => flush.notify_one(),
                    // A sync pass fetches the feed and the household's
                    // record (replies, results) alike.
                    Pushed::FeedChanged | Pushed::ServicesChanged => {
                        let _ = nudge.send(Command::Nudge);
                    }
                    Pushed::Connected(false) => {}
                    Pushed::Command(command) => report(&on_event, SyncEvent::Command(command)),
                    Pushed::Refused { revoked } => {
                        report(&on_event, SyncEvent::DeviceRefused { revoked })
                    }
                },
                min,
                max,
            ));
        }
        Err(e) => tracing::error!(error = %e, "push listener not started"),
    }
    let link = match DeviceLink::new(
        &config.headend_url,
        &device,
        token,
        config.connect_timeout,
        config.request_timeout,
    ) {
        Ok(link) => Arc::new(link),
        Err(e) => {
            tracing::error!(error = %e, "outbox sender not started");
            return;
        }
    };
    if let Some(path) = config.outbox_path.clone() {
        tokio::spawn(send_outbox(
            link.clone(),
            path,
            on_event.clone(),
            flush.clone(),
            Backoff::new(
                config.min_backoff,
                config.max_backoff.min(Duration::from_secs(60)),
            ),
        ));
    }
    tokio::spawn(send_acks(link.clone(), acks));
    let source = HeartbeatSource {
        status,
        version: config.app_version.clone(),
        headend_url: config.headend_url.clone(),
        data_dir: config
            .cache_path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
        playing: playing.clone(),
        every: config.heartbeat_interval,
    };
    let refused = on_event.clone();
    tokio::spawn(heartbeats(link.clone(), source, move |revoked| {
        report(&refused, SyncEvent::DeviceRefused { revoked })
    }));
    tokio::spawn(heartbeat(link, playing));
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Delivers the outbox whenever the UI writes to it, after every feed pass,
/// and on a backoff while it cannot.
async fn send_outbox(
    link: Arc<DeviceLink>,
    path: PathBuf,
    on_event: Report,
    flush: Arc<Notify>,
    mut backoff: Backoff,
) {
    let mut outbox: Option<Outbox> = None;
    // Whatever a previous run left behind goes first.
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = flush.notified() => {}
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let box_ = match outbox.as_mut() {
            Some(o) => o,
            None => match Outbox::open(&path, now) {
                Ok(o) => outbox.insert(o),
                Err(e) => {
                    tracing::error!(error = %e, "cannot open the outbox");
                    wait = backoff.next_delay();
                    continue;
                }
            },
        };
        let result = link.deliver(box_).await;
        let pending = box_.len().unwrap_or(0);
        match result {
            Ok(done) => {
                backoff.reset();
                wait = Duration::from_secs(300);
                if !done.is_empty() {
                    report(&on_event, SyncEvent::Delivered(done));
                }
            }
            Err(e) => {
                wait = backoff.next_delay();
                tracing::info!(error = %e, pending, retry_in = ?wait, "outbox not delivered yet");
                if matches!(e, SyncError::Store(_)) {
                    outbox = None;
                }
                report(
                    &on_event,
                    SyncEvent::OutboxWaiting {
                        pending,
                        detail: e.to_string(),
                    },
                );
            }
        }
    }
}

/// Reports the live item on screen when it changes and every
/// [`PLAYBACK_BEAT_SECS`] while one plays. A lost beat is not retried: the
/// next one follows soon enough, and the evidence is only ever "playing".
async fn heartbeat(link: Arc<DeviceLink>, mut playing: watch::Receiver<Option<String>>) {
    let every = Duration::from_secs(PLAYBACK_BEAT_SECS);
    loop {
        let item = playing.borrow_and_update().clone();
        if let Err(e) = link.beat(item.as_deref()).await {
            tracing::debug!(error = %e, "playback heartbeat not delivered");
        }
        if item.is_some() {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                changed = playing.changed() => if changed.is_err() { return },
            }
        } else if playing.changed().await.is_err() {
            return;
        }
    }
}

async fn run(
    config: SyncConfig,
    on_event: Report,
    flush: Arc<Notify>,
    status: Arc<DeviceStatus>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) {
    let on_event = |event: SyncEvent| report(&on_event, event);
    let household = config.device.as_deref().and_then(|device| {
        DeviceLink::new(
            &config.headend_url,
            device,
            config.device_token.as_deref(),
            config.connect_timeout,
            config.request_timeout,
        )
        .ok()
    });
    let mut backoff = Backoff::new(config.min_backoff, config.max_backoff);
    let client = SyncClient::new(
        &config.headend_url,
        config.scope.clone(),
        config.connect_timeout,
        config.request_timeout,
    )
    .map(|c| c.with_image_cache_bytes(config.image_cache_bytes));
    let mut cache: Option<Cache> = None;
    loop {
        on_event(SyncEvent::Syncing);
        let result = match (&client, &mut cache) {
            (Err(e), _) => Err(SyncError::BadUrl(e.to_string())),
            (Ok(client), Some(cache)) => client.sync_once(cache).await,
            (Ok(client), slot @ None) => match Cache::open(&config.cache_path) {
                Ok((opened, _)) => client.sync_once(slot.insert(opened)).await,
                Err(e) => Err(e.into()),
            },
        };
        let wait = match result {
            Ok(report) => {
                backoff.reset();
                if report.changed() || report.full_refetch {
                    tracing::info!(?report, "feed synced");
                }
                // The household first, so that a pass reported as synced
                // includes the members, replies and results it fetched.
                if let (Some(link), Some(cache)) = (&household, cache.as_mut()) {
                    match link.refresh_household(cache).await {
                        Ok(true) => on_event(SyncEvent::HouseholdChanged),
                        Ok(false) => {}
                        Err(SyncError::DeviceRefused { revoked, .. }) => {
                            on_event(SyncEvent::DeviceRefused { revoked })
                        }
                        Err(e) => tracing::warn!(error = %e, "household not refreshed"),
                    }
                }
                status.synced(unix_now());
                on_event(SyncEvent::Synced(report));
                flush.notify_one();
                config.poll_interval
            }
            Err(e) => {
                let retry_in = backoff.next_delay();
                tracing::warn!(error = %e, ?retry_in, "sync failed; will retry");
                if e.kind() == FailureKind::LocalStorage {
                    // Reopen next time: opening rebuilds a damaged cache.
                    cache = None;
                }
                status.sync_failed(&e.to_string());
                on_event(SyncEvent::Failed {
                    kind: e.kind(),
                    detail: e.to_string(),
                    retry_in,
                });
                retry_in
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            command = commands.recv() => match command {
                Some(Command::Nudge) => {}
                Some(Command::Stop) | None => return,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
        let delays: Vec<_> = (0..8).map(|_| b.next_delay()).collect();
        for (n, d) in delays.iter().enumerate() {
            let base = Duration::from_secs(2 * (1 << n)).min(Duration::from_secs(60));
            assert!(
                *d <= base && *d >= base.mul_f64(0.75),
                "{n}: {d:?} vs {base:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(2));
    }
}
