//! Zapping between channels many times must not leak: memory, threads and
//! file descriptors stay flat. The bounds are generous on purpose: this is
//! about leaks, not speed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use common::{open, player, process_usage, request};
use player::streams::{Picture, RtspServer};

#[test]
fn two_hundred_zaps_leave_memory_threads_and_fds_flat() {
    let server = RtspServer::start(
        0,
        &[
            ("/one", Picture::SMALL.with_pattern("ball")),
            ("/two", Picture::SMALL.with_pattern("smpte")),
        ],
    )
    .unwrap();
    let p = player(1);
    let zap = |i: usize| {
        let mount = if i.is_multiple_of(2) { "/one" } else { "/two" };
        // Drawn full screen, so a leaked picture (2.7 MB) shows in RSS.
        let mut w = open(&p, request(&server.url(mount), true, (1280, 720)));
        assert!(w.first_frame().is_some(), "zap {i}: {:?}", w.seen);
        drop(w);
    };
    // Warm up: plugin loading, the server's shared media, thread pools.
    for i in 0..20 {
        zap(i);
    }
    let (fds0, threads0, rss0) = process_usage();
    for i in 0..200 {
        zap(i);
    }
    let (fds1, threads1, rss1) = process_usage();
    assert_eq!(p.active(), 0);
    assert!(fds1 <= fds0 + 8, "fds {fds0} -> {fds1}");
    assert!(threads1 <= threads0 + 6, "threads {threads0} -> {threads1}");
    assert!(
        rss1 <= rss0 + 48 * 1024 * 1024,
        "rss {} MiB -> {} MiB",
        rss0 >> 20,
        rss1 >> 20
    );
}
