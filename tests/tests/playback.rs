//! Streams end to end: the real headend (feed and HLS under /media/), a
//! real RTSP server for the service-hall cameras, multicast MPEG-TS on
//! `lo`, and the TV rendered headlessly, driven by remote keys. Asserts what
//! a viewer sees: pictures in the panes, the on-screen display, 信号中断，
//! 正在重连 and recovery, and a video resumed after the app restarts.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::time::Duration;

use e2e::{demo_headend_db, screenshot_dir, VILLAGE};
use headend::seed_streams::{seed_streams, DemoStreams};
use input::RemoteKey::{Back, ChannelDown, Digit, Down, Home, Ok, Red, Right};
use player::streams::{self, Generator, Picture, RtspServer};
use player::PlaybackState;
use tv::{Display, HeadlessSession, View};

const WAIT: Duration = Duration::from_secs(60);

/// Camera mounts as the demo has them (small pictures keep CI light).
fn camera_mounts() -> Vec<(String, Picture)> {
    let patterns = [
        "smpte",
        "ball",
        "pinwheel",
        "spokes",
        "colors",
        "zone-plate",
    ];
    let mut mounts = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let pic = Picture::SMALL.with_pattern(pattern);
        mounts.push((format!("/hall{}", i + 1), pic));
        mounts.push((format!("/hall{}/sub", i + 1), pic));
    }
    mounts
}

fn start_cameras(port: u16) -> RtspServer {
    let mounts = camera_mounts();
    let mounts: Vec<(&str, Picture)> = mounts.iter().map(|(m, p)| (m.as_str(), *p)).collect();
    RtspServer::start(port, &mounts).unwrap()
}

struct Streams {
    cameras: Option<RtspServer>,
    _live: Generator,
    _multicast: Generator,
    server: headend::TestServer,
    _media: tempfile::TempDir,
}

fn streams(dir: &Path) -> Streams {
    let media = tempfile::tempdir().unwrap();
    for (name, seconds) in [("news-1", 20), ("lesson-1", 80), ("skills-1", 20)] {
        streams::hls_vod(
            &media.path().join("vod").join(name),
            Picture::SMALL,
            seconds,
        )
        .unwrap();
    }
    let live_dir = media.path().join("live/meeting");
    let live = streams::hls_live(&live_dir, Picture::SMALL.with_pattern("bar")).unwrap();
    assert!(streams::wait_for_segments(&live_dir, 3, WAIT));
    let port = 21_000 + (std::process::id() % 20_000) as u16;
    let group = "239.255.77.1";
    let multicast =
        streams::multicast(group, port, Picture::SMALL.with_pattern("circular")).unwrap();
    let cameras = start_cameras(0);
    let db = demo_headend_db(dir);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let demo = DemoStreams {
        rtsp_base: format!("rtsp://127.0.0.1:{}", cameras.port()),
        multicast: format!("udp://{group}:{port}"),
    };
    seed_streams(&db, &demo, now).unwrap();
    let server = headend::TestServer::start_with_media(
        db,
        "127.0.0.1:0".parse().unwrap(),
        Some(media.path().to_path_buf()),
    )
    .unwrap();
    Streams {
        cameras: Some(cameras),
        _live: live,
        _multicast: multicast,
        server,
        _media: media,
    }
}

fn config(headend: &str, data_dir: &Path) -> tv::Config {
    let text = format!(
        "headend_url = \"{headend}\"\nvillage_code = \"{VILLAGE}\"\ndata_dir = \"{}\"\n\
         [player]\naudio_sink = \"fakesink\"\nmulticast_iface = \"lo\"\nstall_secs = 2.0\n\
         max_backoff_secs = 1.0\n",
        data_dir.display()
    );
    tv::Config::parse(&text, "test.toml").unwrap()
}

fn synced(config: &tv::Config) -> HeadlessSession {
    let mut tv = HeadlessSession::start(config, true).unwrap();
    tv.wait_for_sync_result(WAIT).unwrap();
    tv.acknowledge_notices();
    tv
}

fn all_playing(tv: &HeadlessSession, n: usize) -> bool {
    let panes = tv.playback_panes();
    panes.len() == n && panes.iter().all(|p| p.1 == PlaybackState::Playing)
}

/// Waits until `n` streams play, each with a picture on screen.
fn wait_playing(tv: &mut HeadlessSession, n: usize) -> View {
    tv.wait_for_playback("streams playing", WAIT, |tv| all_playing(tv, n))
        .unwrap_or_else(|e| panic!("{e}: {:?}", tv.playback_panes()))
}

fn shoot_both(tv: &mut HeadlessSession, name: &str) {
    let shots = screenshot_dir();
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&shots.join(format!("{name}-{}x{}.png", display.width, display.height)))
            .unwrap();
    }
    tv.set_display(Display::HD);
}

#[test]
fn service_hall_cameras_play_four_at_once_and_one_full_screen() {
    let dir = tempfile::tempdir().unwrap();
    let s = streams(dir.path());
    let mut tv = synced(&config(&s.server.url(), &dir.path().join("box")));

    tv.press(Home);
    tv.press(Digit(4));
    let halls = tv.view();
    assert_eq!(halls.title, "服务视窗");
    assert_eq!(halls.rows[0].0, "东坡村党群服务中心");
    assert_eq!(halls.rows[0].1, "本村 · 4 个画面");
    assert_eq!(halls.rows[1].0, "青石镇便民服务中心");
    shoot_both(&mut tv, "20-camera-halls");

    tv.press(Digit(1));
    let grid = wait_playing(&mut tv, 4);
    assert_eq!(grid.screen, 9);
    let labels: Vec<&str> = grid.panes.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        ["1 办事大厅", "2 党员活动室", "3 便民服务窗口", "4 文化广场"]
    );
    assert!(
        grid.panes.iter().all(|p| p.message.is_empty()),
        "{:?}",
        grid.panes
    );
    // Each pane shows a real picture: many colours in its middle.
    for (x, y) in [(0.12, 0.32), (0.60, 0.32), (0.12, 0.70), (0.60, 0.70)] {
        let colours = tv.distinct_colours_in(x, y, 0.2, 0.12);
        assert!(colours > 6, "pane at {x},{y} shows {colours} colours");
    }
    shoot_both(&mut tv, "21-camera-grid");

    // Arrows pick the fourth pane, OK makes it full screen.
    tv.press(Right);
    tv.press(Down);
    tv.press(Ok);
    let full = wait_playing(&mut tv, 1);
    assert_eq!(full.screen, 8);
    assert_eq!(full.video.title, "东坡村党群服务中心 · 文化广场");
    assert!(full.video.live);
    assert!(tv.distinct_colours_in(0.3, 0.3, 0.4, 0.4) > 6);
    shoot_both(&mut tv, "22-camera-full");

    // Channel+ moves to the next camera, across halls.
    tv.press(ChannelDown);
    let next = wait_playing(&mut tv, 1);
    assert_eq!(next.video.title, "青石镇便民服务中心 · 综合受理窗口");

    // Back returns to the grid, with its four pictures.
    tv.press(Back);
    let grid = wait_playing(&mut tv, 4);
    assert_eq!(grid.screen, 9);
    assert_eq!(grid.focus, 3);
}

#[test]
fn a_camera_that_drops_off_says_so_and_comes_back_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = streams(dir.path());
    let mut tv = synced(&config(&s.server.url(), &dir.path().join("box")));
    tv.press(Home);
    tv.press(Digit(4));
    tv.press(Digit(1));
    tv.press(Digit(1));
    let full = wait_playing(&mut tv, 1);
    assert_eq!(full.video.title, "东坡村党群服务中心 · 办事大厅");

    let cameras = s.cameras.take().unwrap();
    let port = cameras.port();
    cameras.stop();
    let lost = tv
        .wait_for_playback("the loss shown", WAIT, |tv| {
            tv.view().video.message == "信号中断，正在重连"
        })
        .unwrap();
    assert_eq!(lost.screen, 8);
    shoot_both(&mut tv, "23-camera-reconnecting");

    let _back = start_cameras(port);
    let back = wait_playing(&mut tv, 1);
    assert_eq!(back.video.message, "");
    assert!(tv.distinct_colours_in(0.3, 0.3, 0.4, 0.4) > 6);
}

#[test]
fn live_broadcasts_list_play_and_switch_with_channel_keys() {
    let dir = tempfile::tempdir().unwrap();
    let s = streams(dir.path());
    let mut tv = synced(&config(&s.server.url(), &dir.path().join("box")));

    tv.press(Red);
    let list = tv.view();
    assert_eq!(list.title, "党群直播");
    let titles: Vec<&str> = list.rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            "青石镇11月主题党日：学习贯彻全会精神",
            "县委党校冬训直播课",
            "东坡村党支部党员大会"
        ]
    );
    assert_eq!(list.row_badges, ["直播", "直播", "预告"]);
    shoot_both(&mut tv, "24-live-list");

    tv.press(Ok);
    let hls = wait_playing(&mut tv, 1);
    assert_eq!(hls.video.title, "青石镇11月主题党日：学习贯彻全会精神");
    assert_eq!(hls.video.subtitle, "青石镇党委 · 党课");
    assert!(hls.video.live && hls.video.osd);
    assert!(!hls.video.clock.is_empty());
    shoot_both(&mut tv, "25-live-player");

    // The next broadcast comes over multicast.
    tv.press(ChannelDown);
    let multicast = wait_playing(&mut tv, 1);
    assert_eq!(multicast.video.title, "县委党校冬训直播课");
    // OK hides the on-screen display; the picture stays.
    tv.press(Ok);
    assert!(!tv.view().video.osd);
    assert!(tv.distinct_colours_in(0.2, 0.1, 0.6, 0.3) > 6);

    // A scheduled broadcast says when it starts and plays nothing.
    tv.press(Back);
    tv.press(Digit(3));
    let later = tv.view();
    assert!(
        later.video.message.starts_with("直播将于 "),
        "{:?}",
        later.video
    );
    assert!(tv.playback_panes().is_empty());
}

#[test]
fn a_video_resumes_where_it_was_left_after_the_app_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let s = streams(dir.path());
    let config = config(&s.server.url(), &dir.path().join("box"));
    let mut tv = synced(&config);

    tv.press(Home);
    tv.press(Digit(6));
    assert_eq!(tv.view().title, "视频点播");
    tv.press(Digit(2));
    let list = tv.view();
    assert_eq!(list.title, "党教园地");
    assert_eq!(list.rows[0].0, "党章学习第一讲：党的性质和宗旨");
    assert!(list.row_pictures[0].is_some(), "the poster is shown");
    assert!(
        tv.distinct_colours_in(0.10, 0.30, 0.10, 0.12) > 6,
        "poster pixels"
    );
    shoot_both(&mut tv, "26-video-list");
    tv.press(Digit(1));
    let playing = wait_playing(&mut tv, 1);
    assert!(!playing.video.live);
    // Right seeks 30 s forward; wait until the position shows it.
    tv.press(Right);
    tv.wait_for_playback("the seek", WAIT, |tv| {
        tv.view().video.progress.starts_with("0:3")
    })
    .unwrap();
    shoot_both(&mut tv, "26-video-player");
    tv.press(Back);
    let list = tv.view();
    assert!(
        list.rows[0].1.contains("上次看到 0:3"),
        "{:?}",
        list.rows[0]
    );
    drop(tv);

    // A new app on the same data directory offers to resume.
    std::thread::spawn(move || {
        let mut tv = HeadlessSession::start(&config, false).unwrap();
        tv.acknowledge_notices();
        tv.press(Home);
        // 党教园地 › 学习视频 › the first video.
        tv.press(Digit(5));
        tv.press(Digit(1));
        tv.press(Digit(1));
        let prompt = tv.view();
        assert_eq!(prompt.screen, 7);
        assert_eq!(prompt.categories[0].0, "继续播放");
        assert!(
            prompt.categories[0].1.starts_with("从 0:3"),
            "{:?}",
            prompt.categories
        );
        shoot_both(&mut tv, "27-video-resume");
        tv.press(Ok);
        let resumed = wait_playing(&mut tv, 1);
        assert!(
            resumed.video.progress.starts_with("0:3"),
            "{:?}",
            resumed.video
        );
    })
    .join()
    .unwrap();
}
