//! The headend's domain operations: what county, town and village staff and
//! boxes can do, with the rules that decide whether they may, in terms of
//! the store and the model, and nothing of HTTP.
//!
//! The HTTP layer (`headend`: the API and the web console) turns a request
//! into an [`Actor`] (a logged-in account) or a box id, calls an operation
//! and renders its result or [`OpsError`]. Operations read the time from an
//! injected [`Clock`] and announce what boxes should hear through
//! [`Events`] (the push hub implements it); they never see a request, a
//! status code or a socket. Most are blocking (the store is): the HTTP
//! layer runs them on tokio's blocking pool.
//!
//! Layers, top to bottom: `headend` (HTTP) → `headend-ops` (this) →
//! `headend-store` (SQLite or PostgreSQL). Nothing below HTTP imports it.

pub mod accounts;
pub mod actor;
pub mod audit;
pub mod boxes;
pub mod clock;
pub mod content;
pub mod error;
pub mod events;
pub mod feed;
pub mod fleet;
pub mod households;
pub mod import;
pub mod ingest;
pub mod login;
pub mod meetings;
pub mod provision;
pub mod services;
pub mod stats;
#[cfg(test)]
mod testing;
pub mod throttle;

use std::sync::Arc;

pub use actor::{Actor, AuditNotes, Notes};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::OpsError;
pub use events::{Event, Events};
pub use headend_store as db;

/// Everything an operation needs, shared by every request.
#[derive(Clone)]
pub struct Ops {
    pub db: Arc<db::Db>,
    pub clock: Arc<dyn Clock>,
    pub events: Arc<dyn Events>,
    /// Box submissions, group-committed by one writer thread.
    pub ingest: ingest::Ingest,
    /// Audit entries, group-committed by one writer thread.
    pub audit: audit::AuditWriter,
    pub throttles: Arc<throttle::Throttles>,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops").finish_non_exhaustive()
    }
}

impl Ops {
    /// Operations on `db`, telling boxes through `events`, at `clock`'s time.
    pub fn new(db: Arc<db::Db>, events: Arc<dyn Events>, clock: Arc<dyn Clock>) -> Ops {
        Ops {
            ingest: ingest::Ingest::start(db.clone(), clock.clone()),
            audit: audit::AuditWriter::start(db.clone(), clock.clone()),
            throttles: Arc::new(throttle::Throttles::new(db.clone())),
            db,
            clock,
            events,
        }
    }

    /// Milliseconds since the Unix epoch, by the injected clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Seconds since the Unix epoch, by the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms() / 1000
    }
}
