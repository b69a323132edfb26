//! Turns one device's raw events into key presses for the app.
//!
//! Events are applied a packet at a time (up to `SYN_REPORT`), as the
//! kernel documents. On `SYN_DROPPED` the rest of the packet and everything
//! up to the next `SYN_REPORT` is discarded and held-key state is resynced
//! from the device (or dropped, for a recording, which cannot be asked).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::event::{
    RawEvent, EV_KEY, EV_MSC, EV_SYN, KEY_PRESS, KEY_RELEASE, KEY_REPEAT, MSC_SCAN, SYN_DROPPED,
    SYN_REPORT,
};
use crate::keymap::{key_name, Keymap};
use crate::repeat::{Emit, RepeatFilter, RepeatPolicy};
use crate::RemoteKey;

/// A key as the app receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPress {
    /// The evdev key code and its name (`KEY_OK`).
    pub code: u16,
    pub name: String,
    /// The receiver's scancode, when it reports one (`MSC_SCAN`), for
    /// writing vendor keymaps.
    pub scancode: Option<u32>,
    /// The mapped action; `None` for a key the keymap does not know.
    pub action: Option<RemoteKey>,
    /// A generated repeat of a held key.
    pub repeat: bool,
    /// On the decoder's timeline.
    pub at: Duration,
}

pub struct Decoder {
    keymap: Arc<Keymap>,
    filter: RepeatFilter,
    packet: Vec<RawEvent>,
    dropping: bool,
    resync_with: Option<Vec<u16>>,
    scancode: Option<u32>,
    last_scancode: Option<(u16, u32)>,
    warned: HashSet<u16>,
    /// Events discarded after `SYN_DROPPED` (for tests and logs).
    pub discarded: usize,
}

impl Decoder {
    pub fn new(keymap: Arc<Keymap>, policy: RepeatPolicy) -> Decoder {
        Decoder {
            keymap,
            filter: RepeatFilter::new(policy),
            packet: Vec::new(),
            dropping: false,
            resync_with: None,
            scancode: None,
            last_scancode: None,
            warned: HashSet::new(),
            discarded: 0,
        }
    }

    /// Keys the device says are down, read after a `SYN_DROPPED`; used at
    /// the resync instead of assuming every key was released.
    pub fn set_resync_state(&mut self, keys_down: Vec<u16>) {
        self.resync_with = Some(keys_down);
    }

    /// Feeds one event at `now`; returns the presses it completes.
    pub fn feed(&mut self, event: RawEvent, now: Duration) -> Vec<KeyPress> {
        let mut emits = Vec::new();
        self.filter.advance(now, &mut emits);
        match (event.kind, event.code) {
            (EV_SYN, SYN_DROPPED) => {
                self.discarded += self.packet.len() + 1;
                self.packet.clear();
                self.dropping = true;
                tracing::warn!("input events were dropped by the kernel; resyncing");
            }
            (EV_SYN, SYN_REPORT) => {
                if self.dropping {
                    self.dropping = false;
                    let state = self.resync_with.take();
                    self.filter.resync(state.as_deref());
                    self.scancode = None;
                } else {
                    for e in std::mem::take(&mut self.packet) {
                        self.apply(e, now, &mut emits);
                    }
                    self.scancode = None;
                }
            }
            _ if self.dropping => self.discarded += 1,
            _ => self.packet.push(event),
        }
        emits.into_iter().map(|e| self.report(e)).collect()
    }

    /// Emits repeats that fall due by `now` with no new event.
    pub fn tick(&mut self, now: Duration) -> Vec<KeyPress> {
        let mut emits = Vec::new();
        self.filter.advance(now, &mut emits);
        emits.into_iter().map(|e| self.report(e)).collect()
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        self.filter.next_deadline()
    }

    /// How many distinct unmapped key codes this device has sent (each is
    /// logged once).
    pub fn unmapped_seen(&self) -> usize {
        self.warned.len()
    }

    /// Forget everything held (the device went away).
    pub fn reset(&mut self) {
        self.filter.resync(None);
        self.packet.clear();
        self.dropping = false;
    }

    fn apply(&mut self, e: RawEvent, now: Duration, emits: &mut Vec<Emit>) {
        match e.kind {
            EV_MSC if e.code == MSC_SCAN => self.scancode = Some(e.value as u32),
            EV_KEY => {
                let action = self.keymap.action(e.code);
                if action.is_none() && self.warned.insert(e.code) {
                    tracing::warn!(
                        code = e.code,
                        name = %key_name(e.code),
                        scancode = ?self.scancode,
                        "key not in the keymap; ignored (add it to a keymap file)"
                    );
                }
                if let Some(scan) = self.scancode {
                    self.last_scancode = Some((e.code, scan));
                }
                match e.value {
                    KEY_PRESS => self.filter.press(e.code, action, now, emits),
                    KEY_REPEAT => self.filter.repeat(e.code, now, emits),
                    KEY_RELEASE => self.filter.release(e.code, now, emits),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn report(&self, e: Emit) -> KeyPress {
        KeyPress {
            code: e.code,
            name: key_name(e.code),
            scancode: self
                .last_scancode
                .filter(|(code, _)| *code == e.code)
                .map(|(_, s)| s),
            action: self.keymap.action(e.code),
            repeat: e.repeat,
            at: e.at,
        }
    }
}

/// Decodes a whole recording on its own timeline (the first event is 0),
/// as fast as it can: for tests and for replays that need no pacing.
pub fn decode_recording(
    events: &[RawEvent],
    keymap: Arc<Keymap>,
    policy: RepeatPolicy,
) -> Vec<KeyPress> {
    let Some(start) = events.first().map(|e| e.time) else {
        return Vec::new();
    };
    let mut decoder = Decoder::new(keymap, policy);
    let mut out = Vec::new();
    for e in events {
        out.extend(decoder.feed(*e, e.time.saturating_sub(start)));
    }
    // Let a held key run out, as it would with no more events.
    while let Some(deadline) = decoder.next_deadline() {
        out.extend(decoder.tick(deadline));
    }
    out
}
