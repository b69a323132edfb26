//! The sync loop on its own thread with its own tokio runtime.

use std::path::PathBuf;
use std::time::Duration;

use model::AreaCode;
use store::Cache;
use tokio::sync::mpsc;

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

/// Controls the sync thread; dropping it stops the thread.
pub struct SyncHandle {
    commands: mpsc::UnboundedSender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncHandle {
    /// Sync now instead of waiting for the next poll or retry.
    pub fn nudge(&self) {
        let _ = self.commands.send(Command::Nudge);
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("sync".into())
        .spawn(move || runtime.block_on(run(config, on_event, &mut rx)))?;
    Ok(SyncHandle {
        commands,
        thread: Some(thread),
    })
}

async fn run(
    config: SyncConfig,
    on_event: impl Fn(SyncEvent),
    commands: &mut mpsc::UnboundedReceiver<Command>,
) {
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
                on_event(SyncEvent::Synced(report));
                config.poll_interval
            }
            Err(e) => {
                let retry_in = backoff.next_delay();
                tracing::warn!(error = %e, ?retry_in, "sync failed; will retry");
                if e.kind() == FailureKind::LocalStorage {
                    // Reopen next time: opening rebuilds a damaged cache.
                    cache = None;
                }
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
