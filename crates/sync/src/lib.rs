//! Headend client for the box: feed sync on its own tokio thread.
//!
//! [`SyncClient::sync_once`] walks the feed from the cached cursor to the
//! end, validating each page and applying it to `cache.db` in one
//! transaction with its cursor; a `304` costs one request and no body; a
//! `409` restarts from zero without emptying the screen. [`spawn`] runs that
//! in a loop on a dedicated thread with timeouts and exponential backoff
//! with jitter, and reports [`SyncEvent`]s through a callback, which the TV
//! forwards to its UI thread.
//!
//! A box with a device id also runs, on the same thread: the push listener
//! (`GET /api/v1/events`, server-sent events, with polling of open
//! roll-calls while it is down), the outbox sender (everything a person did,
//! resent until the headend answers for its key) and playback heartbeats
//! (which live item is on screen, the roll-call's anti-proxy evidence), the
//! fleet heartbeat (version, uptime, address, storage, last sync, errors)
//! and the answers to commands from the county centre. Every request a box
//! makes as itself carries its device token; a refused token is reported
//! as [`SyncEvent::DeviceRefused`]. [`Installer`] makes the calls of
//! first-boot provisioning.

mod client;
mod delivery;
mod fleet;
mod push;
mod worker;

pub use client::{SyncClient, SyncReport};
pub use delivery::Delivered;
pub use fleet::{
    free_bytes, local_ip_toward, DeviceStatus, Installer, ProvisionRefusal, Reachability,
    StatusSnapshot,
};
pub use push::SseParser;
pub use worker::{spawn, Backoff, SyncConfig, SyncEvent, SyncHandle, SyncSender};

/// What went wrong, in categories the UI can explain in plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No route, refused, timed out: the network or the headend is down.
    Unreachable,
    /// The headend answered with an error status.
    Server,
    /// The headend (or something in between) sent data we cannot use.
    BadData,
    /// The box's own storage failed.
    LocalStorage,
    /// The headend refused this box's device token: it was revoked or the
    /// box was never provisioned.
    DeviceRefused,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("headend unreachable: {0}")]
    Unreachable(String),
    #[error("headend answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("malformed feed page (since={since}): {reason}")]
    Malformed { since: u64, reason: String },
    #[error("local cache failed: {0}")]
    Store(#[from] store::StoreError),
    #[error("invalid headend address {0:?}")]
    BadUrl(String),
    #[error("the headend refused this box ({message}); provision it again")]
    DeviceRefused { revoked: bool, message: String },
}

impl SyncError {
    pub fn kind(&self) -> FailureKind {
        match self {
            SyncError::Unreachable(_) => FailureKind::Unreachable,
            SyncError::Server { .. } | SyncError::BadUrl(_) => FailureKind::Server,
            SyncError::Malformed { .. } => FailureKind::BadData,
            SyncError::Store(_) => FailureKind::LocalStorage,
            SyncError::DeviceRefused { .. } => FailureKind::DeviceRefused,
        }
    }
}
