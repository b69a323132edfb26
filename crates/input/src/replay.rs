//! Recorded input: reading recordings (`dangjian-tv --replay FILE`),
//! playing them back through the same decoder as a live remote, and
//! building them in code for tests and benchmarks.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::decoder::Decoder;
use crate::event::{decode_all, EventLayout, RawEvent, KEY_PRESS, KEY_RELEASE, KEY_REPEAT};
use crate::keymap::{key_code, Keymap};
use crate::repeat::RepeatPolicy;
use crate::service::InputMessage;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read recording {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("recording {file} is {len} bytes, not a whole number of {size}-byte input events; was it recorded on a box with a different word size?")]
    Length {
        file: String,
        len: usize,
        size: usize,
    },
}

/// Reads a recording in this machine's event layout (what `cat
/// /dev/input/eventN > FILE` on the same kind of box produces).
pub fn read_recording(path: &Path) -> Result<Vec<RawEvent>, ReplayError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReplayError::Read {
        file: file.clone(),
        source,
    })?;
    let layout = EventLayout::native();
    if bytes.len() % layout.size() != 0 {
        return Err(ReplayError::Length {
            file,
            len: bytes.len(),
            size: layout.size(),
        });
    }
    Ok(decode_all(&bytes, layout))
}

/// Plays events back on a thread at their recorded pace, through a decoder
/// exactly as a live device's events go, and hands keys to `sink`.
pub fn spawn_replay(
    events: Vec<RawEvent>,
    keymap: Arc<Keymap>,
    policy: RepeatPolicy,
    mut sink: impl FnMut(InputMessage) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("input-replay".into())
        .spawn(move || {
            let Some(first) = events.first().map(|e| e.time) else {
                return;
            };
            let start = Instant::now();
            let mut decoder = Decoder::new(keymap, policy);
            let mut deliver = |presses: Vec<crate::KeyPress>| {
                for press in presses {
                    sink(InputMessage::Key {
                        press,
                        read_at: Instant::now(),
                    });
                }
            };
            for e in events {
                let offset = e.time.saturating_sub(first);
                // Repeats that fall due before this event, at their time.
                while let Some(due) = decoder.next_deadline().filter(|d| *d < offset) {
                    sleep_until(start + due);
                    deliver(decoder.tick(due));
                }
                sleep_until(start + offset);
                deliver(decoder.feed(e, offset));
            }
            while let Some(due) = decoder.next_deadline() {
                sleep_until(start + due);
                deliver(decoder.tick(due));
            }
        })
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// Builds recordings the way an IR receiver under rc-core produces them:
/// `MSC_SCAN`, the key, `SYN_REPORT`; repeats 500 ms after a press and then
/// every 125 ms; a release about 110 ms after the last repeat.
#[derive(Debug, Clone)]
pub struct RecordingBuilder {
    t: Duration,
    pub events: Vec<RawEvent>,
}

impl Default for RecordingBuilder {
    fn default() -> Self {
        RecordingBuilder::new()
    }
}

impl RecordingBuilder {
    pub fn new() -> RecordingBuilder {
        RecordingBuilder {
            t: Duration::from_secs(1_800_000_000),
            events: Vec::new(),
        }
    }

    fn code(name: &str) -> u16 {
        key_code(name).unwrap_or(0)
    }

    fn packet(&mut self, code: u16, value: i32) {
        self.events
            .push(RawEvent::scan(self.t, 0x0400 + u32::from(code)));
        self.events.push(RawEvent::key(self.t, code, value));
        self.events.push(RawEvent::syn(self.t));
    }

    pub fn wait(&mut self, d: Duration) -> &mut Self {
        self.t += d;
        self
    }

    /// A short press: press, release 100 ms later, then 400 ms of nothing.
    pub fn tap(&mut self, name: &str) -> &mut Self {
        let code = Self::code(name);
        self.packet(code, KEY_PRESS);
        self.wait(Duration::from_millis(100));
        self.packet(code, KEY_RELEASE);
        self.wait(Duration::from_millis(400))
    }

    pub fn taps(&mut self, names: &[&str]) -> &mut Self {
        for n in names {
            self.tap(n);
        }
        self
    }

    /// A press held for `held` with rc-core's repeats; `release` false
    /// leaves the release out, as a receiver sometimes does.
    pub fn hold(&mut self, name: &str, held: Duration, release: bool) -> &mut Self {
        let code = Self::code(name);
        let end = self.t + held;
        self.packet(code, KEY_PRESS);
        let mut next = self.t + Duration::from_millis(500);
        while next <= end {
            self.t = next;
            self.packet(code, KEY_REPEAT);
            next += Duration::from_millis(125);
        }
        self.t = end.max(self.t) + Duration::from_millis(110);
        if release {
            self.packet(code, KEY_RELEASE);
        }
        self.wait(Duration::from_millis(600))
    }

    pub fn push(&mut self, e: RawEvent) -> &mut Self {
        self.events.push(e);
        self
    }

    pub fn now(&self) -> Duration {
        self.t
    }

    pub fn bytes(&self, layout: EventLayout) -> Vec<u8> {
        layout.encode_all(&self.events)
    }
}
