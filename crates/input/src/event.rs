//! The kernel's `struct input_event`, as `/dev/input/eventN` delivers it.
//!
//! A recording is the same bytes written to a file, so the device reader and
//! the replay source decode with the same code. The layout depends on the
//! word size: 24 bytes on 64-bit (two 64-bit time fields), 16 bytes on
//! 32-bit ARM (two 32-bit fields; the kernel keeps them 32-bit even with a
//! 64-bit `time_t`). Then `u16 type`, `u16 code`, `i32 value`, native endian.

use std::io::Read;
use std::time::Duration;

pub const EV_SYN: u16 = 0x00;
pub const EV_KEY: u16 = 0x01;
pub const EV_MSC: u16 = 0x04;
pub const SYN_REPORT: u16 = 0;
pub const SYN_DROPPED: u16 = 3;
pub const MSC_SCAN: u16 = 4;

/// Key event values.
pub const KEY_RELEASE: i32 = 0;
pub const KEY_PRESS: i32 = 1;
pub const KEY_REPEAT: i32 = 2;

/// One decoded `struct input_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent {
    /// Kernel timestamp.
    pub time: Duration,
    pub kind: u16,
    pub code: u16,
    pub value: i32,
}

impl RawEvent {
    pub fn new(time: Duration, kind: u16, code: u16, value: i32) -> RawEvent {
        RawEvent {
            time,
            kind,
            code,
            value,
        }
    }

    pub fn key(time: Duration, code: u16, value: i32) -> RawEvent {
        RawEvent::new(time, EV_KEY, code, value)
    }

    pub fn syn(time: Duration) -> RawEvent {
        RawEvent::new(time, EV_SYN, SYN_REPORT, 0)
    }

    pub fn dropped(time: Duration) -> RawEvent {
        RawEvent::new(time, EV_SYN, SYN_DROPPED, 0)
    }

    pub fn scan(time: Duration, scancode: u32) -> RawEvent {
        RawEvent::new(time, EV_MSC, MSC_SCAN, scancode as i32)
    }
}

/// Word size of the `struct input_event` being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLayout {
    /// 24 bytes: x86_64, aarch64.
    Wide,
    /// 16 bytes: armhf and other 32-bit targets.
    Narrow,
}

impl EventLayout {
    /// The layout this program's kernel uses.
    pub fn native() -> EventLayout {
        if cfg!(target_pointer_width = "64") {
            EventLayout::Wide
        } else {
            EventLayout::Narrow
        }
    }

    pub fn size(self) -> usize {
        match self {
            EventLayout::Wide => 24,
            EventLayout::Narrow => 16,
        }
    }

    fn word(self) -> usize {
        self.size() / 2 - 4
    }

    /// Decodes one event; `bytes` must be exactly [`EventLayout::size`] long.
    pub fn decode(self, bytes: &[u8]) -> Option<RawEvent> {
        if bytes.len() != self.size() {
            return None;
        }
        let w = self.word();
        let int = |b: &[u8]| -> u64 {
            match b.len() {
                8 => u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])),
                _ => u64::from(u32::from_ne_bytes(b.try_into().unwrap_or([0; 4]))),
            }
        };
        let sec = int(&bytes[..w]);
        let usec = int(&bytes[w..2 * w]).min(999_999);
        let rest = &bytes[2 * w..];
        Some(RawEvent {
            time: Duration::from_secs(sec) + Duration::from_micros(usec),
            kind: u16::from_ne_bytes([rest[0], rest[1]]),
            code: u16::from_ne_bytes([rest[2], rest[3]]),
            value: i32::from_ne_bytes([rest[4], rest[5], rest[6], rest[7]]),
        })
    }

    /// Encodes one event the way the kernel writes it (for recordings).
    pub fn encode(self, e: &RawEvent) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size());
        match self {
            EventLayout::Wide => {
                out.extend(e.time.as_secs().to_ne_bytes());
                out.extend(u64::from(e.time.subsec_micros()).to_ne_bytes());
            }
            EventLayout::Narrow => {
                out.extend((e.time.as_secs() as u32).to_ne_bytes());
                out.extend(e.time.subsec_micros().to_ne_bytes());
            }
        }
        out.extend(e.kind.to_ne_bytes());
        out.extend(e.code.to_ne_bytes());
        out.extend(e.value.to_ne_bytes());
        out
    }

    /// Encodes a whole recording.
    pub fn encode_all(self, events: &[RawEvent]) -> Vec<u8> {
        events.iter().flat_map(|e| self.encode(e)).collect()
    }
}

/// Reads whole events from a byte stream (a device node, a pipe, a file).
pub struct EventReader<R> {
    inner: R,
    layout: EventLayout,
    buf: Vec<u8>,
    filled: usize,
}

impl<R: Read> EventReader<R> {
    pub fn new(inner: R, layout: EventLayout) -> EventReader<R> {
        EventReader {
            inner,
            layout,
            buf: vec![0; layout.size() * 64],
            filled: 0,
        }
    }

    /// Reads at least one whole event, blocking as the source does. Returns
    /// an empty list at end of stream (a trailing partial event is dropped).
    pub fn read_batch(&mut self) -> std::io::Result<Vec<RawEvent>> {
        let size = self.layout.size();
        loop {
            let n = self.inner.read(&mut self.buf[self.filled..])?;
            if n == 0 {
                return Ok(Vec::new());
            }
            self.filled += n;
            let whole = self.filled / size * size;
            if whole == 0 {
                continue;
            }
            let events = self.buf[..whole]
                .chunks_exact(size)
                .filter_map(|c| self.layout.decode(c))
                .collect();
            self.buf.copy_within(whole..self.filled, 0);
            self.filled -= whole;
            return Ok(events);
        }
    }
}

/// Decodes a whole recording held in memory.
pub fn decode_all(bytes: &[u8], layout: EventLayout) -> Vec<RawEvent> {
    bytes
        .chunks_exact(layout.size())
        .filter_map(|c| layout.decode(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_round_trip() {
        let e = RawEvent::new(Duration::new(1_700_000_000, 123_456_000), EV_KEY, 0x160, 2);
        for layout in [EventLayout::Wide, EventLayout::Narrow] {
            let bytes = layout.encode(&e);
            assert_eq!(bytes.len(), layout.size());
            assert_eq!(layout.decode(&bytes), Some(e));
        }
    }

    #[test]
    fn reader_reassembles_events_split_across_reads() {
        // A reader that hands out 5 bytes at a time.
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = out.len().min(5).min(self.0.len() - self.1);
                out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let events: Vec<RawEvent> = (0..3)
            .map(|i| RawEvent::key(Duration::from_millis(i), 103, 1))
            .collect();
        let bytes = EventLayout::Wide.encode_all(&events);
        let mut r = EventReader::new(Trickle(bytes, 0), EventLayout::Wide);
        let mut got = Vec::new();
        loop {
            let batch = r.read_batch().unwrap();
            if batch.is_empty() {
                break;
            }
            got.extend(batch);
        }
        assert_eq!(got, events);
    }
}
