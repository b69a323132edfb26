//! Timed jobs: once a second, publish scheduled content (the operation
//! [`Ops::publish_due`], which tells boxes) and open planned roll-calls
//! that are due, and push them; every half minute, share which boxes this
//! process saw; hourly, forget old playback evidence and spent rate-limit
//! buckets. Time is the operations' clock.
//!
//! With several replicas every process ticks, but the once-a-second and
//! hourly work runs under [`Db::exclusive`](crate::db::Db::exclusive): one process at a time does
//! it, the others skip that tick. The store's own operations claim each
//! due draft and roll-call atomically as well, so even two processes
//! racing could not open a roll-call twice; the lock keeps them from
//! doing the work twice. Sharing presence is per process and runs on all.
//! Opening (and announcing) due roll-calls is the operation
//! `Ops::open_due_rollcalls`, at the operations' clock.

use std::sync::Arc;
use std::time::Duration;

use headend_ops::Ops;

use crate::db::DbError;
use crate::push::Hub;

/// How often each process writes who it saw (for online counts across
/// replicas; the online window is minutes).
pub const PRESENCE_EVERY: Duration = Duration::from_secs(30);

const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
/// Rate-limit buckets untouched this long are full again (the slowest
/// refill is one a minute on a burst of at most a few dozen).
const SPENT_BUCKET_MS: i64 = 24 * 3600 * 1000;

/// One tick's work; `None` when another replica did it. The operations
/// announce what they publish and open themselves.
fn tick(ops: &Ops, hourly: bool) -> Result<Option<()>, DbError> {
    let (db, now) = (&ops.db, ops.now_ms());
    db.exclusive("scheduler", || {
        if hourly {
            if let Err(e) = db.prune_playback(now - WEEK_MS) {
                tracing::warn!(error = %e, "cannot prune playback evidence");
            }
            if let Err(e) = db.prune_rates(now, SPENT_BUCKET_MS) {
                tracing::warn!(error = %e, "cannot prune rate limits");
            }
        }
        // Scheduled content whose time has come.
        if let Err(e) = ops.publish_due() {
            tracing::error!(error = %e, "cannot publish scheduled content");
        }
        // Planned roll-calls now due, announced to the invited boxes.
        if let Err(e) = ops.open_due_rollcalls() {
            tracing::error!(error = %e, "cannot open planned roll-calls");
        }
        Ok(())
    })
}

/// Runs until the task is aborted.
pub(crate) async fn run(ops: Ops, hub: Arc<Hub>) {
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ticks: u64 = 0;
    loop {
        every_second.tick().await;
        ticks += 1;
        let (tick_ops, hourly) = (ops.clone(), ticks.is_multiple_of(3600));
        let done = tokio::task::spawn_blocking(move || tick(&tick_ops, hourly)).await;
        match done {
            // Done here, or by another replica.
            Ok(Ok(Some(()) | None)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the scheduler's tick failed in the store"),
            Err(e) => tracing::error!(error = %e, "the scheduler's tick failed"),
        }
        if ticks.is_multiple_of(PRESENCE_EVERY.as_secs()) {
            let (ops, hub) = (ops.clone(), hub.clone());
            let shared =
                tokio::task::spawn_blocking(move || hub.share_presence(&ops.db, ops.now_ms()))
                    .await;
            if !matches!(shared, Ok(Ok(()))) {
                tracing::warn!(?shared, "cannot share which boxes this process saw");
            }
        }
    }
}
