//! Playback against real streams on loopback: an RTSP server, HLS served by
//! the real headend, multicast MPEG-TS on `lo`, and local files.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{colours, open, player, request};
use player::streams::{self, Picture, RtspServer};
use player::{PlaybackState, PlayerError, PlayerEvent, Reason};

const WAIT: Duration = Duration::from_secs(30);

fn headend_with_media(dir: &std::path::Path) -> (headend::TestServer, tempfile::TempDir) {
    let db_dir = tempfile::tempdir().unwrap();
    let db = Arc::new(headend::Db::open(&db_dir.path().join("headend.db")).unwrap());
    let server = headend::TestServer::start_with_media(
        db,
        "127.0.0.1:0".parse().unwrap(),
        Some(dir.to_path_buf()),
    )
    .unwrap();
    (server, db_dir)
}

#[test]
fn an_rtsp_camera_shows_moving_pictures_at_the_drawn_size() {
    let smpte = Picture::SMALL.with_pattern("smpte");
    let server = RtspServer::start(0, &[("/hall", smpte)]).unwrap();
    let p = player(4);
    let mut w = open(&p, request(&server.url("/hall"), true, (320, 180)));
    assert!(w.first_frame().is_some(), "no picture: {:?}", w.seen);
    let frame = w
        .session
        .latest_frame()
        .expect("a frame after the first-frame event");
    assert_eq!((frame.width, frame.height), (320, 180));
    assert_eq!(frame.rgb.len(), 320 * 180 * 3);
    assert!(colours(&frame) > 8, "a test picture has many colours");
    // The picture is whole: the second colour bar (yellow) is yellow from
    // below the clock to the bottom, not grey-green where slices were lost.
    let px = |x: usize, y: usize| {
        let o = (y * 320 + x) * 3;
        (frame.rgb[o], frame.rgb[o + 1], frame.rgb[o + 2])
    };
    // (The clock overlay covers the top-left corner down to y=35.)
    for y in [50, 100, 150] {
        let (r, g, b) = px(60, y);
        assert!(
            r > 200 && g > 200 && b < 60,
            "bar 2 at y={y} is {:?}",
            (r, g, b)
        );
    }
    w.wait_for(WAIT, |e| *e == PlayerEvent::State(PlaybackState::Playing));
    assert_eq!(w.session.state(), PlaybackState::Playing);
    // The picture moves: a later frame differs.
    let first_serial = frame.serial;
    w.wait_for(Duration::from_secs(2), |_| false);
    let later = w.session.latest_frame().unwrap();
    assert!(later.serial > first_serial);
}

#[test]
fn hls_vod_and_live_play_from_the_headend() {
    let media = tempfile::tempdir().unwrap();
    streams::hls_vod(&media.path().join("vod/a"), Picture::SMALL, 4).unwrap();
    let _live = streams::hls_live(&media.path().join("live/m"), Picture::SMALL).unwrap();
    assert!(streams::wait_for_segments(
        &media.path().join("live/m"),
        3,
        Duration::from_secs(30)
    ));
    let (headend, _db) = headend_with_media(media.path());
    let p = player(4);

    let mut vod = open(
        &p,
        request(
            &format!("{}/media/vod/a/index.m3u8", headend.url()),
            false,
            (320, 180),
        ),
    );
    assert!(vod.first_frame().is_some(), "vod: {:?}", vod.seen);
    let duration = vod.session.duration().expect("a vod has a duration");
    assert!((3..=5).contains(&duration.as_secs()), "{duration:?}");
    assert!(
        vod.wait_for(WAIT, |e| *e == PlayerEvent::EndOfStream)
            .is_some(),
        "vod runs to its end: {:?}",
        vod.seen
    );
    assert_eq!(vod.session.state(), PlaybackState::Ended);

    let mut live = open(
        &p,
        request(
            &format!("{}/media/live/m/index.m3u8", headend.url()),
            true,
            (320, 180),
        ),
    );
    assert!(live.first_frame().is_some(), "live: {:?}", live.seen);
    assert!(colours(&live.session.latest_frame().unwrap()) > 8);
}

#[test]
fn multicast_mpeg_ts_plays_on_loopback() {
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let _sender = streams::multicast("239.255.42.7", port, Picture::SMALL).unwrap();
    let p = player(4);
    let mut w = open(
        &p,
        request(&format!("udp://239.255.42.7:{port}"), true, (320, 180)),
    );
    assert!(w.first_frame().is_some(), "multicast: {:?}", w.seen);
    assert!(colours(&w.session.latest_frame().unwrap()) > 8);
}

#[test]
fn a_local_file_plays_to_its_end_and_seeks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lesson.mp4");
    streams::video_file(&file, Picture::SMALL, 6).unwrap();
    let p = player(4);
    let mut req = request(&format!("file://{}", file.display()), false, (320, 180));
    req.start_at = Some(Duration::from_secs(3));
    let mut w = open(&p, req);
    assert!(w.first_frame().is_some(), "file: {:?}", w.seen);
    let pos = w.session.position().unwrap();
    assert!(pos >= Duration::from_millis(2_500), "resumed at {pos:?}");

    w.session.pause();
    assert!(w
        .wait_for(WAIT, |e| *e == PlayerEvent::State(PlaybackState::Paused))
        .is_some());
    w.session.resume();
    assert!(w
        .wait_for(WAIT, |e| *e == PlayerEvent::State(PlaybackState::Playing))
        .is_some());
    assert!(w
        .wait_for(WAIT, |e| *e == PlayerEvent::EndOfStream)
        .is_some());
}

#[test]
fn a_camera_that_drops_off_comes_back_by_itself() {
    let server = RtspServer::start(0, &[("/hall", Picture::SMALL)]).unwrap();
    let port = server.port();
    let url = server.url("/hall");
    let p = player(4);
    let mut w = open(&p, request(&url, true, (320, 180)));
    assert!(w.first_frame().is_some());

    server.stop();
    assert!(
        w.wait_for(WAIT, |e| matches!(e, PlayerEvent::Reconnecting { .. }))
            .is_some(),
        "the loss is noticed: {:?}",
        w.seen
    );
    assert_eq!(w.session.state(), PlaybackState::Reconnecting);
    assert_eq!(
        PlaybackState::Reconnecting.message(),
        Some("信号中断，正在重连")
    );
    assert!(w.session.latest_frame().is_none(), "no stale picture");

    let _back = RtspServer::start(port, &[("/hall", Picture::SMALL)]).unwrap();
    let again = w.wait_for(WAIT, |e| {
        matches!(
            e,
            PlayerEvent::FirstFrame {
                reconnected: true,
                ..
            }
        )
    });
    assert!(again.is_some(), "picture returns: {:?}", w.seen);
    assert!(
        w.wait_for(WAIT, |e| *e == PlayerEvent::State(PlaybackState::Playing))
            .is_some()
            || w.session.state() == PlaybackState::Playing
    );
}

#[test]
fn bad_sources_give_a_plain_error_and_do_not_hang() {
    let media = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(media.path().join("junk")).unwrap();
    let garbage: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(media.path().join("junk/index.m3u8"), &garbage).unwrap();
    std::fs::write(media.path().join("junk/video.ts"), &garbage).unwrap();
    let (headend, _db) = headend_with_media(media.path());
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let cases = [
        (
            "unknown host",
            "http://no-such-host.invalid/live/index.m3u8".to_string(),
        ),
        (
            "404 playlist",
            format!("{}/media/missing/index.m3u8", headend.url()),
        ),
        (
            "garbage playlist",
            format!("{}/media/junk/index.m3u8", headend.url()),
        ),
        (
            "garbage file",
            format!("file://{}", media.path().join("junk/video.ts").display()),
        ),
        (
            "nothing listening",
            format!("rtsp://127.0.0.1:{closed_port}/hall"),
        ),
    ];
    let p = player(4);
    for (what, url) in cases {
        let mut w = open(&p, request(&url, false, (320, 180)));
        let error = w.wait_for(WAIT, |e| matches!(e, PlayerEvent::Error { .. }));
        let Some(PlayerEvent::Error { reason, detail }) = error else {
            panic!("{what}: no error event: {:?}", w.seen);
        };
        assert!(!detail.is_empty());
        if what == "404 playlist" {
            assert_eq!(reason, Reason::NotFound, "{detail}");
        }
        assert!(
            w.wait_for(WAIT, |e| matches!(
                e,
                PlayerEvent::State(PlaybackState::Failed(_))
            ))
            .is_some()
                || matches!(w.session.state(), PlaybackState::Failed(_)),
            "{what}: gives up: {:?}",
            w.seen
        );
        let message = w.session.state().message().unwrap();
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{message}"
        );
    }
}

#[test]
fn four_cameras_play_at_once_and_a_fifth_is_refused() {
    let mounts = [
        ("/a/sub", Picture::SMALL.with_pattern("ball")),
        ("/b/sub", Picture::SMALL.with_pattern("smpte")),
        ("/c/sub", Picture::SMALL.with_pattern("snow")),
        ("/d/sub", Picture::SMALL.with_pattern("pinwheel")),
    ];
    let server = RtspServer::start(0, &mounts).unwrap();
    let p = player(4);
    let mut panes: Vec<_> = mounts
        .iter()
        .map(|(m, _)| open(&p, request(&server.url(m), true, (300, 170))))
        .collect();
    for pane in &mut panes {
        assert!(pane.first_frame().is_some(), "{:?}", pane.seen);
        assert!(pane.session.latest_frame().is_some());
    }
    assert_eq!(p.active(), 4);
    let fifth = p.open(request(&server.url("/a/sub"), true, (300, 170)), |_| {});
    assert!(matches!(
        fifth,
        Err(PlayerError::TooManyDecoders { max: 4 })
    ));
    panes.pop();
    assert_eq!(p.active(), 3);
    let mut again = open(&p, request(&server.url("/d/sub"), true, (300, 170)));
    assert!(again.first_frame().is_some());
}
