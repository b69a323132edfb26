#![allow(clippy::unwrap_used)]
//! Decoding recorded `struct input_event` streams: presses, repeats,
//! releases, lost releases, SYN_DROPPED, unknown codes.

use std::sync::Arc;
use std::time::Duration;

use input::event::{decode_all, EventLayout, RawEvent, KEY_PRESS, KEY_REPEAT};
use input::keymap::key_code;
use input::replay::RecordingBuilder;
use input::{decode_recording, Decoder, KeyPress, Keymap, RemoteKey, RepeatPolicy};

fn keymap() -> Arc<Keymap> {
    Arc::new(Keymap::builtin())
}

/// Decodes through the byte encoding, as a file would be read.
fn decode(rec: &RecordingBuilder) -> Vec<KeyPress> {
    let bytes = rec.bytes(EventLayout::native());
    let events = decode_all(&bytes, EventLayout::native());
    decode_recording(&events, keymap(), RepeatPolicy::default())
}

fn actions(presses: &[KeyPress]) -> Vec<RemoteKey> {
    presses.iter().filter_map(|p| p.action).collect()
}

use RemoteKey::*;

#[test]
fn taps_become_one_action_each_with_name_and_scancode() {
    let mut rec = RecordingBuilder::new();
    rec.taps(&["KEY_DOWN", "KEY_NUMERIC_3", "KEY_OK", "KEY_EXIT", "KEY_3"]);
    let got = decode(&rec);
    assert_eq!(actions(&got), [Down, Digit(3), Ok, Back, Digit(3)]);
    assert_eq!(got[2].name, "KEY_OK");
    assert_eq!(got[2].scancode, Some(0x0400 + 0x160));
    assert!(got.iter().all(|p| !p.repeat));
}

#[test]
fn a_held_arrow_repeats_at_a_steady_rate_after_ignoring_the_first_repeat() {
    let mut rec = RecordingBuilder::new();
    rec.hold("KEY_DOWN", Duration::from_secs(2), true);
    let got = decode(&rec);
    assert!(got.iter().all(|p| p.action == Some(Down)));
    assert!(!got[0].repeat);
    // rc-core repeats at 500 ms and every 125 ms after; the one at 500 ms
    // is ignored, the one at 625 ms starts our 200 ms rhythm, and the
    // release at 2,110 ms stops it: 625, 825, ..., 2025.
    let repeats: Vec<Duration> = got.iter().filter(|p| p.repeat).map(|p| p.at).collect();
    assert_eq!(repeats.len(), 8, "{repeats:?}");
    assert_eq!(repeats[0], Duration::from_millis(625));
    for pair in repeats.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::from_millis(200));
    }
}

#[test]
fn ok_back_digits_and_colour_keys_never_repeat() {
    for key in ["KEY_OK", "KEY_BACK", "KEY_NUMERIC_5", "KEY_RED"] {
        let mut rec = RecordingBuilder::new();
        rec.hold(key, Duration::from_secs(3), true);
        let got = decode(&rec);
        assert_eq!(got.len(), 1, "{key}: {got:?}");
    }
}

#[test]
fn a_quick_stray_repeat_after_a_short_press_is_ignored() {
    let code = key_code("KEY_RIGHT").unwrap();
    let ms = Duration::from_millis;
    let events = [
        RawEvent::key(ms(0), code, KEY_PRESS),
        RawEvent::syn(ms(0)),
        RawEvent::key(ms(110), code, KEY_REPEAT),
        RawEvent::syn(ms(110)),
        RawEvent::key(ms(220), code, 0),
        RawEvent::syn(ms(220)),
    ];
    let got = decode_recording(&events, keymap(), RepeatPolicy::default());
    assert_eq!(actions(&got), [Right]);
}

#[test]
fn a_missing_release_does_not_leave_the_key_running() {
    let mut rec = RecordingBuilder::new();
    rec.hold("KEY_DOWN", Duration::from_secs(1), false);
    rec.wait(Duration::from_secs(5));
    rec.tap("KEY_UP");
    let got = decode(&rec);
    let downs: Vec<&KeyPress> = got.iter().filter(|p| p.action == Some(Down)).collect();
    // Last repeat from the receiver at 1,000 ms; ours at 625, 825, 1025,
    // 1225; at 1425 nothing has been heard for over 350 ms: released.
    assert_eq!(downs.len(), 5, "{downs:?}");
    assert!(downs.iter().all(|p| p.at <= Duration::from_millis(1225)));
    assert_eq!(got.last().unwrap().action, Some(Up));
    assert!(!got.last().unwrap().repeat);
}

#[test]
fn syn_dropped_discards_the_packet_and_resyncs() {
    let down = key_code("KEY_DOWN").unwrap();
    let ok = key_code("KEY_OK").unwrap();
    let ms = Duration::from_millis;
    let mut d = Decoder::new(keymap(), RepeatPolicy::default());
    let mut got = Vec::new();
    let mut feed = |e: RawEvent| got.extend(d.feed(e, e.time));
    feed(RawEvent::key(ms(0), down, KEY_PRESS));
    feed(RawEvent::syn(ms(0)));
    feed(RawEvent::key(ms(500), down, KEY_REPEAT));
    feed(RawEvent::syn(ms(500)));
    feed(RawEvent::key(ms(625), down, KEY_REPEAT));
    feed(RawEvent::syn(ms(625)));
    // The buffer overran: an OK press in the same packet is lost, and so is
    // everything up to the next SYN_REPORT.
    feed(RawEvent::key(ms(700), ok, KEY_PRESS));
    feed(RawEvent::dropped(ms(700)));
    feed(RawEvent::key(ms(710), ok, 0));
    feed(RawEvent::key(ms(720), down, KEY_REPEAT));
    feed(RawEvent::syn(ms(720)));
    // The receiver keeps repeating, but after the resync nothing is held:
    // stray repeats must not move the focus.
    feed(RawEvent::key(ms(750), down, KEY_REPEAT));
    feed(RawEvent::syn(ms(750)));
    feed(RawEvent::key(ms(875), down, KEY_REPEAT));
    feed(RawEvent::syn(ms(875)));
    // A fresh press works normally.
    feed(RawEvent::key(ms(1500), ok, KEY_PRESS));
    feed(RawEvent::syn(ms(1500)));
    assert_eq!(actions(&got), [Down, Down, Ok]);
    assert_eq!(got[1].at, ms(625));
    assert_eq!(d.discarded, 4);
}

#[test]
fn syn_dropped_keeps_a_key_the_device_says_is_still_down() {
    let down = key_code("KEY_DOWN").unwrap();
    let ms = Duration::from_millis;
    let mut d = Decoder::new(keymap(), RepeatPolicy::default());
    let mut got = Vec::new();
    for e in [
        RawEvent::key(ms(0), down, KEY_PRESS),
        RawEvent::syn(ms(0)),
        RawEvent::key(ms(500), down, KEY_REPEAT),
        RawEvent::syn(ms(500)),
        RawEvent::dropped(ms(600)),
    ] {
        got.extend(d.feed(e, e.time));
    }
    d.set_resync_state(vec![down]);
    for e in [
        RawEvent::syn(ms(610)),
        RawEvent::key(ms(625), down, KEY_REPEAT),
        RawEvent::syn(ms(625)),
    ] {
        got.extend(d.feed(e, e.time));
    }
    assert_eq!(actions(&got), [Down, Down], "the held key keeps repeating");
}

#[test]
fn unknown_codes_are_reported_unmapped_and_logged_once() {
    let mut rec = RecordingBuilder::new();
    rec.taps(&["KEY_F13", "KEY_F13", "KEY_DOWN", "KEY_F13"]);
    let events = decode_all(&rec.bytes(EventLayout::native()), EventLayout::native());
    let mut d = Decoder::new(keymap(), RepeatPolicy::default());
    let mut got = Vec::new();
    let start = events[0].time;
    for e in &events {
        got.extend(d.feed(*e, e.time - start));
    }
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].name, "KEY_F13");
    assert_eq!(got[0].action, None);
    assert_eq!(actions(&got), [Down]);
    assert_eq!(d.unmapped_seen(), 1);
}

#[test]
fn other_event_types_and_garbage_values_are_ignored() {
    let ms = Duration::from_millis;
    let ok = key_code("KEY_OK").unwrap();
    let events = [
        RawEvent::new(ms(0), 0x02, 0, 5), // EV_REL from an air mouse
        RawEvent::new(ms(0), 0x11, 0, 1), // EV_LED
        RawEvent::key(ms(0), ok, 7),      // not a key value
        RawEvent::syn(ms(0)),
        RawEvent::key(ms(10), ok, KEY_PRESS),
        RawEvent::syn(ms(10)),
    ];
    let got = decode_recording(&events, keymap(), RepeatPolicy::default());
    assert_eq!(actions(&got), [Ok]);
}

#[test]
fn a_recording_from_a_32_bit_box_decodes_with_the_narrow_layout() {
    let mut rec = RecordingBuilder::new();
    rec.taps(&["KEY_LEFT", "KEY_OK"]);
    let events = decode_all(&rec.bytes(EventLayout::Narrow), EventLayout::Narrow);
    let got = decode_recording(&events, keymap(), RepeatPolicy::default());
    assert_eq!(actions(&got), [Left, Ok]);
}

#[test]
fn a_paced_replay_delivers_the_same_keys_on_its_own_thread() {
    let mut rec = RecordingBuilder::new();
    rec.taps(&["KEY_NUMERIC_1", "KEY_OK"])
        .hold("KEY_DOWN", Duration::from_millis(700), true);
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = input::replay::spawn_replay(
        rec.events.clone(),
        keymap(),
        RepeatPolicy::default(),
        move |m| {
            let _ = tx.send(m);
        },
    )
    .unwrap();
    handle.join().unwrap();
    let got: Vec<RemoteKey> = rx
        .try_iter()
        .filter_map(|m| match m {
            input::InputMessage::Key { press, .. } => press.action,
            _ => None,
        })
        .collect();
    assert_eq!(got, [Digit(1), Ok, Down, Down]);
    assert_eq!(got, actions(&decode(&rec)), "same as decoding at once");
}
