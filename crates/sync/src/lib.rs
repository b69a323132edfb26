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
//! (which live item is on screen, the roll-call's anti-proxy evidence).

mod client;
mod delivery;
mod push;
mod worker;

pub use client::{SyncClient, SyncReport};
pub use delivery::Delivered;
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
}

impl SyncError {
    pub fn kind(&self) -> FailureKind {
        match self {
            SyncError::Unreachable(_) => FailureKind::Unreachable,
            SyncError::Server { .. } | SyncError::BadUrl(_) => FailureKind::Server,
            SyncError::Malformed { .. } => FailureKind::BadData,
            SyncError::Store(_) => FailureKind::LocalStorage,
        }
    }
}
