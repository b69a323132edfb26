#![allow(clippy::unwrap_used)]
//! The input service against a temporary directory standing in for
//! `/dev/input` (this machine has no uinput): recordings appear, grow,
//! disappear and come back, and keys arrive from two devices at once.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use input::replay::RecordingBuilder;
use input::{
    DeviceOpener, EvdevOpener, EventLayout, InputConfig, InputMessage, Keymap, RecordingOpener,
    RemoteKey,
};

const WAIT: Duration = Duration::from_secs(20);

struct Harness {
    rx: mpsc::Receiver<InputMessage>,
    _handle: input::InputHandle,
}

impl Harness {
    fn start(dir: &Path) -> Harness {
        let (tx, rx) = mpsc::channel();
        let mut config = InputConfig::new(dir, std::sync::Arc::new(Keymap::builtin()));
        // Long, so these tests show inotify finds devices, not the fallback.
        config.rescan_every = Duration::from_secs(3600);
        let handle = input::spawn(config, Box::new(RecordingOpener::default()), move |m| {
            let _ = tx.send(m);
        })
        .unwrap();
        Harness {
            rx,
            _handle: handle,
        }
    }

    /// Collects messages until `done` holds for what was collected.
    fn until(&self, done: impl Fn(&[InputMessage]) -> bool) -> Vec<InputMessage> {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        while !done(&got) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) => got.push(m),
                Err(_) => panic!("timed out; got so far: {got:#?}"),
            }
        }
        got
    }
}

fn keys(msgs: &[InputMessage]) -> Vec<RemoteKey> {
    msgs.iter()
        .filter_map(|m| match m {
            InputMessage::Key { press, .. } => press.action,
            _ => None,
        })
        .collect()
}

fn taps(names: &[&str]) -> Vec<u8> {
    RecordingBuilder::new()
        .taps(names)
        .bytes(EventLayout::native())
}

/// Puts a whole recording in place at once, as a device appears with its
/// backlog (a plain write could be read half-written).
fn plug(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn devices_are_found_followed_dropped_and_picked_up_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mouse0"), b"not an event node").unwrap();
    let h = Harness::start(dir.path());
    let node = dir.path().join("event3");

    // Plugged in: found through inotify, keys decoded.
    plug(&node, &taps(&["KEY_OK", "KEY_DOWN"]));
    let got = h.until(|m| keys(m).len() == 2);
    assert!(matches!(&got[0], InputMessage::Connected { path, .. } if *path == node));
    assert_eq!(keys(&got), [RemoteKey::Ok, RemoteKey::Down]);

    // Still open: new events are read as they come.
    append(&node, &taps(&["KEY_NUMERIC_7"]));
    assert_eq!(
        keys(&h.until(|m| !keys(m).is_empty())),
        [RemoteKey::Digit(7)]
    );

    // Unplugged.
    std::fs::remove_file(&node).unwrap();
    let got = h.until(|m| {
        m.iter()
            .any(|m| matches!(m, InputMessage::Disconnected { .. }))
    });
    assert!(got
        .iter()
        .any(|m| matches!(m, InputMessage::Disconnected { path, .. } if *path == node)));

    // Back again, under the same name: picked up again.
    plug(&node, &taps(&["KEY_BACK"]));
    let got = h.until(|m| !keys(m).is_empty());
    assert!(got
        .iter()
        .any(|m| matches!(m, InputMessage::Connected { path, .. } if *path == node)));
    assert_eq!(keys(&got), [RemoteKey::Back]);
}

#[test]
fn two_devices_at_once_keep_separate_repeat_state() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::start(dir.path());
    // Device A holds Down for 1.5 s; device B taps OK twice meanwhile. B's
    // presses must not cut A's repeats short, nor the other way round.
    let mut a = RecordingBuilder::new();
    a.hold("KEY_DOWN", Duration::from_millis(1500), true);
    let mut b = RecordingBuilder::new();
    b.wait(Duration::from_millis(300))
        .taps(&["KEY_OK", "KEY_OK"]);
    plug(&dir.path().join("event0"), &a.bytes(EventLayout::native()));
    plug(&dir.path().join("event1"), &b.bytes(EventLayout::native()));
    let got = h.until(|m| {
        let k = keys(m);
        k.iter().filter(|k| **k == RemoteKey::Ok).count() == 2
            && k.iter().filter(|k| **k == RemoteKey::Down).count() == 6
    });
    // Press, then our repeats at 625, 825, 1025, 1225 and 1425 ms; the
    // release at 1610 ms ends it. Nothing more may follow.
    assert!(h.rx.recv_timeout(Duration::from_millis(800)).is_err());
    let connected = got
        .iter()
        .filter(|m| matches!(m, InputMessage::Connected { .. }))
        .count();
    assert_eq!(connected, 2);
}

#[test]
fn the_evdev_opener_refuses_a_file_that_is_not_an_input_device() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event0");
    std::fs::write(&path, taps(&["KEY_OK"])).unwrap();
    let err = EvdevOpener
        .open(&path)
        .err()
        .expect("a regular file is not evdev");
    // ENOTTY from the ioctl that asks for the device's event types.
    assert_eq!(err.raw_os_error(), Some(25), "{err}");
}

#[test]
fn the_remote_test_is_keys_and_arrows() {
    use input::keymap::key_code;
    let has = |names: &'static [&'static str]| {
        move |code: u16| names.iter().any(|n| key_code(n) == Some(code))
    };
    assert!(input::device::is_remote_like(has(&[
        "KEY_OK", "KEY_UP", "KEY_DOWN"
    ])));
    assert!(input::device::is_remote_like(has(&[
        "KEY_ENTER",
        "KEY_UP",
        "KEY_DOWN"
    ])));
    assert!(!input::device::is_remote_like(has(&["KEY_POWER"])));
    assert!(!input::device::is_remote_like(has(&[
        "KEY_OK",
        "KEY_VOLUMEUP"
    ])));
}
