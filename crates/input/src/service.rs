//! The input service: finds remotes in a directory (`/dev/input`), reads
//! each on its own thread, follows hotplug, decodes keys and hands them to
//! a sink (in the app, one that calls `slint::invoke_from_event_loop`).
//!
//! Threads: one per open device doing blocking reads; one watching the
//! directory with inotify; and the service thread, which owns the decoders
//! and the repeat timers. A device that errors is dropped and opened again
//! when a rescan finds it (on the next directory change, or every
//! `rescan_every` as a fallback).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::decoder::{Decoder, KeyPress};
use crate::device::{DeviceOpener, InputDevice};
use crate::event::{RawEvent, EV_SYN, SYN_DROPPED};
use crate::keymap::Keymap;
use crate::repeat::RepeatPolicy;

/// What the service tells the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputMessage {
    Key {
        press: KeyPress,
        /// When the event that caused this key was read (or the repeat fell
        /// due), for latency measurement.
        read_at: Instant,
    },
    Connected {
        path: PathBuf,
        name: String,
    },
    Disconnected {
        path: PathBuf,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct InputConfig {
    /// The directory to watch, `/dev/input` on a box.
    pub dir: PathBuf,
    pub keymap: Arc<Keymap>,
    pub policy: RepeatPolicy,
    pub rescan_every: Duration,
}

impl InputConfig {
    pub fn new(dir: impl Into<PathBuf>, keymap: Arc<Keymap>) -> InputConfig {
        InputConfig {
            dir: dir.into(),
            keymap,
            policy: RepeatPolicy::default(),
            rescan_every: Duration::from_secs(2),
        }
    }
}

/// Decoder timelines start this far after zero, so a backlog read in one
/// batch can be placed before the moment the device was opened.
const TIMELINE_ORIGIN: Duration = Duration::from_secs(3600);

enum Msg {
    DirChanged,
    Batch {
        id: u64,
        events: Vec<RawEvent>,
        keys_down: Option<Vec<u16>>,
        read_at: Instant,
    },
    Gone {
        id: u64,
        reason: String,
    },
    Stop,
}

/// Stops the service when dropped.
pub struct InputHandle {
    tx: Sender<Msg>,
}

impl Drop for InputHandle {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
    }
}

/// Starts the service.
pub fn spawn(
    config: InputConfig,
    opener: Box<dyn DeviceOpener>,
    sink: impl FnMut(InputMessage) + Send + 'static,
) -> std::io::Result<InputHandle> {
    let (tx, rx) = mpsc::channel();
    watch_dir(&config.dir, tx.clone());
    let service_tx = tx.clone();
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            let mut service = Service {
                config,
                opener,
                sink: Box::new(sink),
                tx: service_tx,
                devices: HashMap::new(),
                not_remotes: HashSet::new(),
                failing: HashSet::new(),
                next_id: 0,
                start: Instant::now(),
            };
            service.run(rx);
        })?;
    Ok(InputHandle { tx })
}

struct Open {
    id: u64,
    decoder: Decoder,
    /// The decoder's timeline so far; it never goes backwards.
    last_t: Duration,
}

struct Service {
    config: InputConfig,
    opener: Box<dyn DeviceOpener>,
    sink: Box<dyn FnMut(InputMessage) + Send>,
    tx: Sender<Msg>,
    devices: HashMap<PathBuf, Open>,
    /// Input devices that are not remotes (mice, power buttons): not retried.
    not_remotes: HashSet<PathBuf>,
    /// Nodes that failed to open; logged once, retried on every rescan.
    failing: HashSet<PathBuf>,
    next_id: u64,
    start: Instant,
}

impl Service {
    fn run(&mut self, rx: mpsc::Receiver<Msg>) {
        self.rescan();
        let mut next_rescan = Instant::now() + self.config.rescan_every;
        loop {
            let deadline = self
                .devices
                .values()
                .filter_map(|d| d.decoder.next_deadline())
                .map(|d| self.start + d.saturating_sub(TIMELINE_ORIGIN))
                .fold(next_rescan, Instant::min);
            let wait = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(Msg::DirChanged) => self.rescan(),
                Ok(Msg::Batch {
                    id,
                    events,
                    keys_down,
                    read_at,
                }) => self.batch(id, events, keys_down, read_at),
                Ok(Msg::Gone { id, reason }) => {
                    let path = self
                        .devices
                        .iter()
                        .find(|(_, d)| d.id == id)
                        .map(|(p, _)| p.clone());
                    if let Some(path) = path {
                        self.drop_device(&path, reason);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            self.tick(now);
            if now >= next_rescan {
                self.rescan();
                next_rescan = now + self.config.rescan_every;
            }
        }
    }

    fn timeline(&self, at: Instant) -> Duration {
        at.duration_since(self.start) + TIMELINE_ORIGIN
    }

    fn tick(&mut self, now: Instant) {
        let t = self.timeline(now);
        let mut out = Vec::new();
        // Only decoders with something due: ticking an idle one would move
        // its timeline past a backlog that has not been read yet.
        for d in self.devices.values_mut() {
            if d.decoder.next_deadline().is_none_or(|due| due > t) {
                continue;
            }
            let t = t.max(d.last_t);
            d.last_t = t;
            out.extend(d.decoder.tick(t));
        }
        for press in out {
            (self.sink)(InputMessage::Key {
                press,
                read_at: now,
            });
        }
    }

    fn batch(
        &mut self,
        id: u64,
        events: Vec<RawEvent>,
        keys_down: Option<Vec<u16>>,
        read_at: Instant,
    ) {
        let read_t = self.timeline(read_at);
        let Some(d) = self.devices.values_mut().find(|d| d.id == id) else {
            return;
        };
        if let Some(down) = keys_down {
            d.decoder.set_resync_state(down);
        }
        // The newest event of a batch happened about when it was read; the
        // older ones are placed before it by their kernel timestamps, so a
        // backlog read in one go keeps its spacing (for repeat timing).
        let newest = events.last().map(|e| e.time).unwrap_or_default();
        let mut out = Vec::new();
        for e in events {
            let t = read_t
                .saturating_sub(newest.saturating_sub(e.time))
                .max(d.last_t);
            d.last_t = t;
            out.extend(d.decoder.feed(e, t));
        }
        for press in out {
            (self.sink)(InputMessage::Key { press, read_at });
        }
    }

    fn drop_device(&mut self, path: &Path, reason: String) {
        if self.devices.remove(path).is_some() {
            tracing::info!(path = %path.display(), %reason, "remote disconnected");
            (self.sink)(InputMessage::Disconnected {
                path: path.to_path_buf(),
                reason,
            });
        }
    }

    fn rescan(&mut self) {
        let present: HashSet<PathBuf> = match std::fs::read_dir(&self.config.dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .filter(|e| is_event_node(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect(),
            Err(e) => {
                if self.failing.insert(self.config.dir.clone()) {
                    tracing::warn!(dir = %self.config.dir.display(), error = %e, "cannot list input devices; will keep trying");
                }
                HashSet::new()
            }
        };
        let gone: Vec<PathBuf> = self
            .devices
            .keys()
            .filter(|p| !present.contains(*p))
            .cloned()
            .collect();
        for path in gone {
            self.drop_device(&path, "设备已拔出".into());
        }
        self.not_remotes.retain(|p| present.contains(p));
        self.failing
            .retain(|p| present.contains(p) || *p == self.config.dir);
        let mut new: Vec<&PathBuf> = present
            .iter()
            .filter(|p| !self.devices.contains_key(*p) && !self.not_remotes.contains(*p))
            .collect();
        new.sort();
        for path in new {
            match self.opener.open(path) {
                Ok(Some(opened)) => {
                    self.failing.remove(path);
                    self.next_id += 1;
                    let id = self.next_id;
                    if let Err(e) = read_on_thread(id, opened.device, self.tx.clone()) {
                        tracing::warn!(path = %path.display(), error = %e, "cannot start a reader thread");
                        continue;
                    }
                    tracing::info!(path = %path.display(), name = %opened.name, "remote connected");
                    self.devices.insert(
                        path.clone(),
                        Open {
                            id,
                            decoder: Decoder::new(self.config.keymap.clone(), self.config.policy),
                            last_t: Duration::ZERO,
                        },
                    );
                    (self.sink)(InputMessage::Connected {
                        path: path.clone(),
                        name: opened.name,
                    });
                }
                Ok(None) => {
                    self.not_remotes.insert(path.clone());
                }
                Err(e) => {
                    if self.failing.insert(path.clone()) {
                        tracing::warn!(path = %path.display(), error = %e, "cannot open input device; will retry");
                    }
                }
            }
        }
    }
}

/// `eventN`: the nodes evdev creates (not `mouse0`, `js0`, `by-id/`).
fn is_event_node(name: &str) -> bool {
    name.strip_prefix("event")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn read_on_thread(
    id: u64,
    mut device: Box<dyn InputDevice>,
    tx: Sender<Msg>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("input-dev-{id}"))
        .spawn(move || loop {
            let msg = match device.read_batch() {
                Ok(events) if events.is_empty() => Msg::Gone {
                    id,
                    reason: "设备没有数据了".into(),
                },
                Ok(events) => {
                    let read_at = Instant::now();
                    let dropped = events
                        .iter()
                        .any(|e| e.kind == EV_SYN && e.code == SYN_DROPPED);
                    let keys_down = if dropped { device.keys_down() } else { None };
                    Msg::Batch {
                        id,
                        events,
                        keys_down,
                        read_at,
                    }
                }
                Err(e) => Msg::Gone {
                    id,
                    reason: format!("读取出错：{e}"),
                },
            };
            let gone = matches!(msg, Msg::Gone { .. });
            if tx.send(msg).is_err() || gone {
                return;
            }
        })?;
    Ok(())
}

/// Wakes the service when entries in `dir` appear, disappear or change
/// permissions (udev fixes those after creating a node). Without inotify
/// the periodic rescan still finds devices, only later.
fn watch_dir(dir: &Path, tx: Sender<Msg>) {
    use inotify::{Inotify, WatchMask};
    let mut inotify = match Inotify::init() {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "inotify unavailable; finding remotes by periodic rescan");
            return;
        }
    };
    let mask = WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::ATTRIB
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM;
    if let Err(e) = inotify.watches().add(dir, mask) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot watch for new remotes; finding them by periodic rescan");
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("input-watch".into())
        .spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                match inotify.read_events_blocking(&mut buffer) {
                    Ok(events) => {
                        let mut ignored = false;
                        for e in events {
                            ignored |= e.mask.contains(inotify::EventMask::IGNORED);
                        }
                        if tx.send(Msg::DirChanged).is_err() || ignored {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the directory watcher; using periodic rescan");
    }
}
