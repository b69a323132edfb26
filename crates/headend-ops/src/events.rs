//! What operations tell boxes: the push hub (HTTP layer) implements
//! [`Events`] and carries each [`Event`] to the streams it concerns, on
//! every replica.

use std::sync::Arc;

use crate::db::OpenRollCall;

/// Something boxes should hear of now.
#[derive(Debug, Clone)]
pub enum Event {
    RollCall(Arc<OpenRollCall>),
    FeedChanged {
        head: u64,
    },
    /// Staff acted on something of this box's household (a reply to a
    /// request): the box fetches its record again.
    ServicesChanged {
        device: String,
    },
    /// Staff sent this box a command.
    Command {
        device: String,
        command: model::DeviceCommand,
    },
    /// The box's token was revoked or replaced (it was provisioned
    /// again): its connections end, and reconnecting with the old token is
    /// refused.
    Revoked {
        device: String,
    },
    /// Events may have been lost (the relay between replicas reconnected):
    /// every stream re-reads its box's backlog and tells it to sync.
    Resync,
}

/// Where events go, and who is there to hear them.
pub trait Events: Send + Sync {
    fn publish(&self, event: Event);

    /// Boxes holding a push stream on this process now (their online
    /// status; other processes' boxes are known from the store).
    fn connected(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Events nobody hears (tools, tests of operations alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct Nobody;

impl Events for Nobody {
    fn publish(&self, _: Event) {}
}
