//! The push channel to boxes: `GET /api/v1/events?device=…` as
//! server-sent events.
//!
//! One broadcast channel carries every opened roll-call; each connection
//! knows its household and turns a roll-call into that household's prompt,
//! or skips it when nobody there is invited. On connecting (and after
//! falling behind the channel) a box is sent every roll-call still open, so
//! a box that was offline or rebooted gets the prompt it missed; boxes
//! ignore a prompt they already have (what a box is owed is the
//! operation [`Ops::push_backlog`]). Boxes that cannot hold a connection
//! poll `GET /api/v1/rollcalls/open` instead.
//!
//! A box holds at most a few streams ([`Hub::hold`]), so one token cannot
//! tie up the headend's connections. A stream ends when its box is revoked
//! or provisioned again (the token it was opened with is no longer the
//! box's): it listens ([`Hub::listen`]) before the token is checked, so a
//! revocation in between is not missed, and checks the token again
//! whenever it may have missed events.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use model::{Household, PushEvent};
use tokio::sync::broadcast;

use headend_ops::{Ops, OpsError};

use crate::db::Db;

/// Milliseconds since the Unix epoch on the headend's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What the hub broadcasts to every connection: the operations' events.
pub use headend_ops::Event as HubEvent;

impl headend_ops::Events for Hub {
    fn publish(&self, event: HubEvent) {
        Hub::publish(self, event);
    }

    fn connected(&self) -> Vec<String> {
        self.held()
    }
}

/// Counters an operator (and the benchmark) can read.
#[derive(Debug, Default, serde::Serialize)]
pub struct PushStats {
    pub connected: usize,
    pub prompts_sent: u64,
}

#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<HubEvent>,
    connected: AtomicUsize,
    prompts_sent: AtomicU64,
    /// Set when the headend shuts down: every held connection ends, so a
    /// graceful shutdown does not wait for boxes that never hang up.
    closing: tokio::sync::watch::Sender<bool>,
    /// When each box last reached the headend (ms), for online counts. In
    /// memory: after a restart boxes reappear within seconds as they
    /// reconnect their push channel.
    last_seen: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// Boxes holding a push connection now, with how many.
    holding: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    /// Where events go first when other replicas share the database
    /// (`crate::relay`); unset on SQLite.
    ringer: std::sync::OnceLock<crate::relay::Ringer>,
    /// Boxes seen since presence was last shared with the other replicas.
    dirty: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(256);
        Hub {
            tx,
            connected: AtomicUsize::new(0),
            prompts_sent: AtomicU64::new(0),
            closing: tokio::sync::watch::channel(false).0,
            last_seen: std::sync::Mutex::new(std::collections::HashMap::new()),
            holding: std::sync::Mutex::new(std::collections::HashMap::new()),
            ringer: std::sync::OnceLock::new(),
            dirty: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// Sends events through the doorbell between replicas from now on.
    pub(crate) fn set_ringer(&self, ringer: crate::relay::Ringer) {
        let _ = self.ringer.set(ringer);
    }

    /// True once the headend is shutting down.
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Boxes holding a push stream on this process now.
    pub fn held(&self) -> Vec<String> {
        self.holding
            .lock()
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Notes that `device` reached the headend now.
    pub fn seen(&self, device: &str) {
        if let Ok(mut dirty) = self.dirty.lock() {
            if !dirty.contains(device) {
                dirty.insert(device.to_string());
            }
        }
        if let Ok(mut seen) = self.last_seen.lock() {
            match seen.get_mut(device) {
                Some(at) => *at = now_ms(),
                None => {
                    seen.insert(device.to_string(), now_ms());
                }
            }
        }
    }

    /// Boxes online at `now_ms` on any replica: holding a push stream
    /// here, or seen by any process within `window_ms` (the processes
    /// write who they saw every [`crate::scheduler::PRESENCE_EVERY`]).
    /// Blocking: reads the database.
    pub fn online(
        &self,
        db: &Db,
        now_ms: i64,
        window_ms: i64,
    ) -> std::collections::HashSet<String> {
        let mut online: std::collections::HashSet<String> = self.held().into_iter().collect();
        online.extend(
            self.last_seen_here()
                .into_iter()
                .filter(|(_, at)| now_ms - at <= window_ms)
                .map(|(d, _)| d),
        );
        match db.seen_since(now_ms - window_ms) {
            Ok(seen) => online.extend(seen.into_iter().map(|(d, _)| d)),
            Err(e) => tracing::warn!(error = %e, "cannot read who the other replicas saw"),
        }
        online
    }

    /// When each box was last seen, by this process or any other.
    /// Blocking: reads the database.
    pub fn last_seen(&self, db: &Db) -> std::collections::HashMap<String, i64> {
        let mut seen = self.last_seen_here();
        match db.last_seen_all() {
            Ok(rows) => {
                for (device, at) in rows {
                    let entry = seen.entry(device).or_insert(at);
                    *entry = (*entry).max(at);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read who the other replicas saw"),
        }
        seen
    }

    fn last_seen_here(&self) -> std::collections::HashMap<String, i64> {
        self.last_seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Writes who this process saw since the last call (and who holds a
    /// stream here now) for the other replicas. Blocking.
    pub fn share_presence(&self, db: &Db, now_ms: i64) -> Result<(), crate::db::DbError> {
        let mut devices = self.held();
        if let Ok(mut dirty) = self.dirty.lock() {
            devices.extend(dirty.drain());
        }
        devices.sort_unstable();
        devices.dedup();
        db.mark_seen(&devices, now_ms)
    }

    /// Ends every push connection (the headend is shutting down).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Sends an event to every connected box, on every replica.
    pub fn publish(&self, event: HubEvent) {
        let event = match self.ringer.get() {
            Some(ringer) => match ringer.ring(event) {
                Ok(()) => return,
                Err(event) => event,
            },
            None => event,
        };
        self.deliver(event);
    }

    /// Sends an event to the boxes connected to this process.
    pub(crate) fn deliver(&self, event: HubEvent) {
        let _ = self.tx.send(event);
    }

    /// Starts receiving events for a stream about to be opened: call it
    /// before checking the box's token.
    pub fn listen(&self) -> Listener {
        Listener {
            rx: self.tx.subscribe(),
            closing: self.closing.subscribe(),
        }
    }

    /// Takes one of the `max` push streams `device` may hold at once
    /// (at least one); `None` when it holds them all. The place is given
    /// back when the returned guard is dropped.
    pub fn hold(self: &Arc<Self>, device: &str, max: usize) -> Option<Held> {
        // A panic elsewhere must not refuse every box from then on.
        let mut holding = self
            .holding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = holding.entry(device.to_string()).or_default();
        if *n >= max.max(1) {
            return None;
        }
        *n += 1;
        self.connected.fetch_add(1, Ordering::Relaxed);
        Some(Held(self.clone(), device.to_string()))
    }

    pub fn stats(&self) -> PushStats {
        PushStats {
            connected: self.connected.load(Ordering::Relaxed),
            prompts_sent: self.prompts_sent.load(Ordering::Relaxed),
        }
    }
}

/// What a stream receives, subscribed before the box was let in.
pub struct Listener {
    rx: broadcast::Receiver<HubEvent>,
    closing: tokio::sync::watch::Receiver<bool>,
}

/// One of a box's push-stream places; given back when dropped.
pub struct Held(Arc<Hub>, String);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.connected.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut holding) = self.0.holding.lock() {
            if let Some(n) = holding.get_mut(&self.1) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    holding.remove(&self.1);
                }
            }
        }
        // Online until it has been gone for a while.
        self.0.seen(&self.1);
    }
}

fn event(push: &PushEvent) -> Event {
    let data = serde_json::to_string(push).unwrap_or_default();
    let mut e = Event::default().event(push.name()).data(data);
    if let PushEvent::RollCall(p) = push {
        e = e.id(p.rollcall.clone());
    }
    e
}

/// Whether `token` is still the token of `device` (not revoked, not
/// replaced). A database error keeps the stream: the next check decides.
async fn still_valid(ops: &Ops, device: &str, token: &str) -> bool {
    let (ops, device, token) = (ops.clone(), device.to_string(), token.to_string());
    !matches!(
        tokio::task::spawn_blocking(move || ops.authorize_box(&device, Some(&token))).await,
        Ok(Err(OpsError::Device(_)))
    )
}

/// The event stream for one box, which proved itself with `token`.
pub fn stream(
    ops: Ops,
    household: Household,
    backlog: Vec<PushEvent>,
    listener: Listener,
    guard: Held,
    token: String,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let Listener { rx, closing } = listener;
    let state = (
        rx,
        closing,
        backlog.into_iter().rev().collect::<Vec<_>>(),
        guard,
    );
    let stream = futures_util::stream::unfold(
        state,
        move |(mut rx, mut closing, mut pending, guard)| {
            let ops = ops.clone();
            let household = household.clone();
            let token = token.clone();
            async move {
                loop {
                    if *closing.borrow() {
                        return None;
                    }
                    if let Some(next) = pending.pop() {
                        if matches!(next, PushEvent::RollCall(_)) {
                            guard.0.prompts_sent.fetch_add(1, Ordering::Relaxed);
                        }
                        return Some((Ok(event(&next)), (rx, closing, pending, guard)));
                    }
                    let received = tokio::select! {
                        r = rx.recv() => r,
                        _ = closing.changed() => return None,
                    };
                    match received {
                        Ok(HubEvent::RollCall(open)) => {
                            if let Some(prompt) = open.prompt_for(&household.members, ops.now_ms())
                            {
                                pending.push(PushEvent::RollCall(prompt));
                            }
                        }
                        Ok(HubEvent::FeedChanged { head }) => {
                            pending.push(PushEvent::FeedChanged { head });
                        }
                        Ok(HubEvent::ServicesChanged { device }) => {
                            if device == household.device {
                                pending.push(PushEvent::ServicesChanged);
                            }
                        }
                        Ok(HubEvent::Command { device, command }) => {
                            if device == household.device {
                                pending.push(PushEvent::Command(command));
                            }
                        }
                        Ok(HubEvent::Revoked { device }) => {
                            if device == household.device {
                                return None;
                            }
                        }
                        lost @ (Ok(HubEvent::Resync)
                        | Err(broadcast::error::RecvError::Lagged(_))) => {
                            if let Err(broadcast::error::RecvError::Lagged(missed)) = lost {
                                tracing::warn!(missed, device = %household.device, "push connection lagged");
                            }
                            // Events were lost: it may have missed its own
                            // revocation, so ask again.
                            if !still_valid(&ops, &household.device, &token).await {
                                return None;
                            }
                            // Resend what is open rather than guess.
                            let ops = ops.clone();
                            let h = household.clone();
                            let again = tokio::task::spawn_blocking(move || ops.push_backlog(&h))
                                .await
                                .ok()
                                .and_then(Result::ok)
                                .unwrap_or_default();
                            pending.extend(again.into_iter().rev());
                            // It may have missed news for its household
                            // and the feed too.
                            pending.insert(0, PushEvent::ServicesChanged);
                            pending.insert(0, PushEvent::FeedChanged { head: 0 });
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
