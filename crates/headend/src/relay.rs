//! Push across replicas: each headend process holds its own boxes' push
//! streams, so an event that happens on one (a correction published, a
//! roll-call opened, a command sent) must reach the boxes held by all.
//!
//! On PostgreSQL [`crate::push::Hub::publish`] does not deliver locally:
//! it hands the event to a ringer thread, which rings the database's
//! doorbell (`NOTIFY`) with a few bytes (`{"t":"roll_call","id":…}`); a
//! listener thread in every process (this one included) hears the ring,
//! reads what it names from the database (the open roll-call) and delivers
//! it to the process's own streams. The ring carries no data a box relies
//! on: boxes read the feed by cursor, and when the listener had to
//! reconnect (rings in between are lost) every stream re-reads its
//! backlog (open roll-calls, unacknowledged commands) and tells its box
//! to sync. On SQLite there is one process and events are delivered
//! directly.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::db::replicas::Heard;
use crate::db::Db;
use crate::push::{now_ms, Hub, HubEvent};

/// The doorbell's channel.
const CHANNEL: &str = "dangjian_push";

/// What a ring says: names, not data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Ring {
    RollCall {
        id: String,
    },
    Feed {
        head: u64,
    },
    Services {
        device: String,
    },
    Command {
        device: String,
        command: model::DeviceCommand,
    },
    Revoked {
        device: String,
    },
    Resync,
}

impl Ring {
    fn of(event: &HubEvent) -> Ring {
        match event {
            HubEvent::RollCall(open) => Ring::RollCall {
                id: open.id.clone(),
            },
            HubEvent::FeedChanged { head } => Ring::Feed { head: *head },
            HubEvent::ServicesChanged { device } => Ring::Services {
                device: device.clone(),
            },
            HubEvent::Command { device, command } => Ring::Command {
                device: device.clone(),
                command: command.clone(),
            },
            HubEvent::Revoked { device } => Ring::Revoked {
                device: device.clone(),
            },
            HubEvent::Resync => Ring::Resync,
        }
    }

    /// The event to deliver here; `None` when what it names is gone (a
    /// roll-call closed in between).
    fn event(self, db: &Db) -> Option<HubEvent> {
        Some(match self {
            Ring::RollCall { id } => {
                let open = db
                    .open_rollcalls(now_ms())
                    .map_err(|e| tracing::warn!(error = %e, "cannot read an announced roll-call"))
                    .ok()?
                    .into_iter()
                    .find(|o| o.id == id)?;
                HubEvent::RollCall(Arc::new(open))
            }
            Ring::Feed { head } => HubEvent::FeedChanged { head },
            Ring::Services { device } => HubEvent::ServicesChanged { device },
            Ring::Command { device, command } => HubEvent::Command { device, command },
            Ring::Revoked { device } => HubEvent::Revoked { device },
            Ring::Resync => HubEvent::Resync,
        })
    }
}

/// Hands events to the ringer thread (so `publish` never waits for the
/// database).
#[derive(Debug)]
pub(crate) struct Ringer {
    tx: mpsc::Sender<HubEvent>,
}

impl Ringer {
    pub fn ring(&self, event: HubEvent) -> Result<(), HubEvent> {
        self.tx.send(event).map_err(|e| e.0)
    }
}

/// Connects `hub` to the other processes through `db`, if there can be
/// any (PostgreSQL). Threads end when the hub closes.
pub fn start(hub: &Arc<Hub>, db: &Arc<Db>) -> Result<(), crate::db::DbError> {
    let Some(listener) = db.listen(CHANNEL)? else {
        return Ok(());
    };
    let (tx, rx) = mpsc::channel::<HubEvent>();
    let ringer_db = db.clone();
    let ringer_hub = hub.clone();
    std::thread::Builder::new()
        .name("ringer".into())
        .spawn(move || {
            while let Ok(event) = rx.recv() {
                let text = serde_json::to_string(&Ring::of(&event)).unwrap_or_default();
                match ringer_db.ring(CHANNEL, &text) {
                    Ok(true) => {}
                    Ok(false) => ringer_hub.deliver(event),
                    Err(e) => {
                        // Our own boxes at least hear it; the others catch
                        // up by cursor and on their next reconnect.
                        tracing::warn!(error = %e, "cannot ring the other replicas");
                        ringer_hub.deliver(event);
                    }
                }
            }
        })
        .map_err(|e| crate::db::DbError::Postgres(format!("cannot start the ringer: {e}")))?;
    let listen_db = db.clone();
    let listen_hub = hub.clone();
    std::thread::Builder::new()
        .name("relay".into())
        .spawn(move || loop {
            match listener.next(Duration::from_millis(500)) {
                Some(Heard::Ring(text)) => match serde_json::from_str::<Ring>(&text) {
                    Ok(ring) => {
                        if let Some(event) = ring.event(&listen_db) {
                            listen_hub.deliver(event);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "an unreadable ring"),
                },
                Some(Heard::Reconnected) => listen_hub.deliver(HubEvent::Resync),
                None => {
                    if listen_hub.is_closing() {
                        return;
                    }
                }
            }
        })
        .map_err(|e| crate::db::DbError::Postgres(format!("cannot start the relay: {e}")))?;
    hub.set_ringer(Ringer { tx });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_are_small_and_read_back() {
        let ring = Ring::Command {
            device: "box-1".into(),
            command: model::DeviceCommand {
                id: 7,
                kind: model::CommandKind::Resync,
            },
        };
        let text = serde_json::to_string(&ring).expect("json");
        assert!(text.len() < 200, "{text}");
        assert_eq!(serde_json::from_str::<Ring>(&text).expect("back"), ring);
        assert_eq!(
            serde_json::to_string(&Ring::Feed { head: 9 }).expect("json"),
            r#"{"t":"feed","head":9}"#
        );
    }
}
