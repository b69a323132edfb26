//! The remote-control path end to end: a recorded `struct input_event`
//! stream (as /dev/input/eventN delivers it) drives the TV app through the
//! same decoder and controller as a live remote; the installer's remote
//! test screen shows names, scancodes and unmapped keys.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::PathBuf;
use std::time::Duration;

use e2e::{box_config, demo_headend_db, screenshot_dir, start_headend};
use input::replay::RecordingBuilder;
use input::{EventLayout, InputMessage, RemoteKey};
use sync::SyncEvent;
use tv::{Display, HeadlessSession};

fn synced_session(dir: &std::path::Path, evdev: bool) -> (HeadlessSession, headend::TestServer) {
    let server = start_headend(demo_headend_db(dir));
    let mut config = box_config(&server.url(), &dir.join("box"));
    config.input.evdev = evdev;
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let synced = tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    assert!(matches!(synced, SyncEvent::Synced(_)), "{synced:?}");
    (tv, server)
}

fn write_recording(dir: &std::path::Path, rec: &RecordingBuilder) -> PathBuf {
    let path = dir.join("remote.events");
    std::fs::write(&path, rec.bytes(EventLayout::native())).unwrap();
    path
}

#[test]
fn a_recorded_remote_session_opens_the_named_finance_disclosure() {
    let dir = tempfile::tempdir().unwrap();
    let (mut tv, _server) = synced_session(dir.path(), false);

    let mut rec = RecordingBuilder::new();
    rec.tap("KEY_NUMERIC_1") // 三务公开
        // Held right: press, the ignored first repeat, then two of ours;
        // focus stops at the last category, 财务公开.
        .hold("KEY_RIGHT", Duration::from_millis(900), true)
        .tap("KEY_OK")
        // Held right for 0.7 s on the modules: two steps, to 集体工程项目.
        .hold("KEY_RIGHT", Duration::from_millis(700), true)
        .tap("KEY_OK")
        .tap("KEY_OK")
        .tap("KEY_EXIT") // Back, as many Chinese cable remotes send it
        // OK held for two seconds opens once; it never repeats into paging.
        .hold("KEY_OK", Duration::from_secs(2), false);
    let file = write_recording(dir.path(), &rec);

    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    let presses = tv.replay(&file).unwrap();
    let actions: Vec<RemoteKey> = presses.iter().filter_map(|p| p.action).collect();
    use RemoteKey::*;
    assert_eq!(
        actions,
        [
            Digit(1),
            Right,
            Right,
            Right,
            Ok,
            Right,
            Right,
            Ok,
            Ok,
            Back,
            Ok
        ]
    );

    let view = tv.view();
    assert_eq!(view.screen, 3, "on a detail page");
    assert_eq!(view.title, "东坡村村内道路硬化工程预决算公开");
    assert_eq!(view.detail_page, 0, "a held OK must not page the detail");
    let texts = tv.visible_texts();
    assert!(
        texts
            .iter()
            .any(|t| t == "东坡村村内道路硬化工程预决算公开"),
        "{texts:?}"
    );
    tv.save_png(&screenshot_dir().join("e2e-replay-finance-1280x720.png"))
        .unwrap();

    // Back returns to the list with the focus where it was.
    tv.press(Back);
    assert_eq!((tv.view().screen, tv.view().focus), (2, 0));
    tv.press(Back);
    assert_eq!((tv.view().screen, tv.view().focus), (7, 2));
}

#[test]
fn the_remote_test_screen_shows_names_scancodes_and_unmapped_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (mut tv, _server) = synced_session(dir.path(), true);

    // Menu -> 设置 -> 遥控器测试.
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(RemoteKey::Menu);
    assert_eq!(tv.view().screen, 5);
    assert!(tv.visible_texts().iter().any(|t| t == "遥控器测试"));
    tv.press(RemoteKey::Digit(2));
    assert_eq!(tv.view().screen, 6);

    tv.input(InputMessage::Connected {
        path: "/dev/input/event3".into(),
        name: "sunxi-ir".into(),
    });
    let mut rec = RecordingBuilder::new();
    rec.taps(&["KEY_OK", "KEY_NUMERIC_5", "KEY_F13", "KEY_BACK"]);
    let file = write_recording(dir.path(), &rec);
    tv.replay(&file).unwrap();

    // Keys are shown, not acted on: still on the test screen after one Back.
    let view = tv.view();
    assert_eq!(view.screen, 6);
    assert_eq!(view.test_status, "已连接：sunxi-ir（event3）");
    let names: Vec<&str> = view.test_keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["KEY_BACK", "KEY_F13", "KEY_NUMERIC_5", "KEY_OK"]);
    let f13 = &view.test_keys[1];
    assert!(f13.unmapped);
    assert_eq!(f13.action, "未设置功能，请在按键表中添加");
    assert_eq!(f13.scancode, format!("扫描码 {:#x}", 0x0400 + 183));
    assert_eq!(view.test_keys[3].action, "确认");
    let texts = tv.visible_texts();
    for needle in [
        "KEY_F13",
        "未设置功能，请在按键表中添加",
        "KEY_OK",
        "确认",
        "数字5",
    ] {
        assert!(texts.iter().any(|t| t == needle), "{needle}: {texts:?}");
    }
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&screenshot_dir().join(format!(
            "e2e-remote-test-{}x{}.png",
            display.width, display.height
        )))
        .unwrap();
    }
    tv.set_display(Display::HD);

    // The remote goes away: the screen says so.
    tv.input(InputMessage::Disconnected {
        path: "/dev/input/event3".into(),
        reason: "设备已拔出".into(),
    });
    assert_eq!(tv.view().test_status, "没有找到遥控器接收器，请检查连接");

    // A second Back in a row leaves, from the keyboard as from the remote.
    tv.press(RemoteKey::Back);
    assert_eq!(tv.view().screen, 5);
}
