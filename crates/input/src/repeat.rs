//! Autorepeat for IR remotes.
//!
//! An IR remote sends a press, then repeats (value 2) while held, then a
//! release that is sometimes late or never comes. The rules:
//! - the first repeat after a press is ignored, because a short press often
//!   produces one and the focus would jump two places;
//! - arrows and channel/volume keys then repeat at a steady `period` of our
//!   own, whatever rate the receiver sends repeats at;
//! - OK, Back, digits and colour keys never repeat;
//! - a key counts as released when neither a repeat nor a release has come
//!   for `release_after`, so a lost release cannot leave it running.
//!
//! The filter is driven by a timeline the caller supplies (device arrival
//! time, or the timestamps of a recording), so it is deterministic in tests.

use std::time::Duration;

use crate::RemoteKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatPolicy {
    /// Interval between generated repeats while a key is held.
    pub period: Duration,
    /// A held key with no repeat or release for this long is released.
    pub release_after: Duration,
    /// The receiver's delay before its first repeat is at most this; a
    /// repeat later than that after the press is stale and ignored.
    pub first_repeat_within: Duration,
}

impl Default for RepeatPolicy {
    fn default() -> Self {
        RepeatPolicy {
            // Five steps a second: fast enough through a long list, slow
            // enough that an elderly viewer can let go in time.
            period: Duration::from_millis(200),
            // rc-core repeats every 125 ms; two missed repeats plus slack.
            release_after: Duration::from_millis(350),
            // rc-core's REP_DELAY is 500 ms.
            first_repeat_within: Duration::from_millis(1000),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Held {
    code: u16,
    action: Option<RemoteKey>,
    last_seen: Duration,
    repeats_seen: u32,
    next_emit: Option<Duration>,
}

/// What the filter lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emit {
    pub code: u16,
    pub repeat: bool,
    pub at: Duration,
}

#[derive(Debug, Default)]
pub struct RepeatFilter {
    policy: RepeatPolicy,
    held: Option<Held>,
}

impl RepeatFilter {
    pub fn new(policy: RepeatPolicy) -> RepeatFilter {
        RepeatFilter { policy, held: None }
    }

    /// Emits scheduled repeats up to `now` and releases a key whose release
    /// was lost.
    pub fn advance(&mut self, now: Duration, out: &mut Vec<Emit>) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        match held.next_emit {
            Some(mut next) => {
                while next <= now {
                    if next.saturating_sub(held.last_seen) > self.policy.release_after {
                        self.held = None;
                        return;
                    }
                    out.push(Emit {
                        code: held.code,
                        repeat: true,
                        at: next,
                    });
                    next += self.policy.period;
                }
                held.next_emit = Some(next);
            }
            None => {
                let limit = if held.repeats_seen == 0 {
                    self.policy.first_repeat_within
                } else {
                    self.policy.release_after
                };
                if now.saturating_sub(held.last_seen) >= limit {
                    self.held = None;
                }
            }
        }
    }

    /// When [`RepeatFilter::advance`] next has something to do.
    pub fn next_deadline(&self) -> Option<Duration> {
        let held = self.held.as_ref()?;
        Some(match held.next_emit {
            Some(next) => next,
            None if held.repeats_seen == 0 => held.last_seen + self.policy.first_repeat_within,
            None => held.last_seen + self.policy.release_after,
        })
    }

    pub fn press(
        &mut self,
        code: u16,
        action: Option<RemoteKey>,
        now: Duration,
        out: &mut Vec<Emit>,
    ) {
        self.advance(now, out);
        self.held = Some(Held {
            code,
            action,
            last_seen: now,
            repeats_seen: 0,
            next_emit: None,
        });
        out.push(Emit {
            code,
            repeat: false,
            at: now,
        });
    }

    pub fn repeat(&mut self, code: u16, now: Duration, out: &mut Vec<Emit>) {
        self.advance(now, out);
        let period = self.policy.period;
        let Some(held) = self.held.as_mut().filter(|h| h.code == code) else {
            // A repeat with no press we know of (after SYN_DROPPED, or for a
            // key already timed out): acting on it could jump unexpectedly.
            return;
        };
        held.last_seen = now;
        held.repeats_seen += 1;
        let repeats = held.action.is_some_and(RemoteKey::repeats);
        if held.repeats_seen == 2 && repeats {
            out.push(Emit {
                code,
                repeat: true,
                at: now,
            });
            held.next_emit = Some(now + period);
        }
    }

    pub fn release(&mut self, code: u16, now: Duration, out: &mut Vec<Emit>) {
        self.advance(now, out);
        if self.held.is_some_and(|h| h.code == code) {
            self.held = None;
        }
    }

    /// Forgets the held key unless `still_down` says it is down.
    pub fn resync(&mut self, still_down: Option<&[u16]>) {
        if let Some(held) = self.held {
            if !still_down.is_some_and(|down| down.contains(&held.code)) {
                self.held = None;
            }
        }
    }

    pub fn held_code(&self) -> Option<u16> {
        self.held.map(|h| h.code)
    }
}
