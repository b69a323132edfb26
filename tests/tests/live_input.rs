//! The live remote path, in a process of its own because Slint allows one
//! event-loop proxy per process.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use e2e::{box_config, demo_headend_db, start_headend};
use sync::SyncEvent;
use tv::HeadlessSession;

#[test]
fn keys_from_a_device_node_reach_the_ui_thread_through_the_event_loop() {
    // The live path: bytes in a FIFO named event0 in a watched directory,
    // the input service's reader thread, the decoder, invoke_from_event_loop
    // and a frame rendered by the event loop for every key.
    let dir = tempfile::tempdir().unwrap();
    let server = start_headend(demo_headend_db(dir.path()));
    let config = box_config(&server.url(), &dir.path().join("box"));
    let mut tv = HeadlessSession::start_with_event_loop(&config, true).unwrap();
    let synced = tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    assert!(matches!(synced, SyncEvent::Synced(_)), "{synced:?}");
    // The first 16 keys of the tour end on the 集体工程项目 disclosure.
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    let r = tv::bench::key_latency(&mut tv, 16).unwrap();
    assert_eq!(r.latencies.len(), 16, "every key changed the screen");
    assert_eq!(r.no_frame, 0);
    let view = tv.view();
    assert_eq!(view.screen, 3);
    assert_eq!(view.title, "东坡村村内道路硬化工程预决算公开");
}
