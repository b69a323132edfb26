//! Roll-call end to end: the real headend (meetings, push channel,
//! attendance), the real sync client, the TV rendered headlessly and driven
//! by remote keys, and a live HLS meeting served by the headend.
//!
//! What a member sees (the overlay, 已签到) and what the headend stores (one
//! record per member, judged on time by the box's own clock, flagged when
//! the box was not playing the meeting) are both asserted.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::{demo_headend_db, http, screenshot_dir, VILLAGE};
use headend::db::NewMeeting;
use headend::Db;
use input::RemoteKey::{Down, Ok, Red, Right};
use model::{AttendanceStatus, MeetingKind};
use player::streams::{self, Generator, Picture};
use player::PlaybackState;
use tv::{Display, HeadlessSession};

const WAIT: Duration = Duration::from_secs(60);
const LIVE: &str = "live-qingshi-party-day";

struct Headend {
    db: Arc<Db>,
    media: tempfile::TempDir,
    server: Option<headend::TestServer>,
    addr: SocketAddr,
    _live: Generator,
}

impl Headend {
    /// The demo headend with its live meeting (HLS from `/media/`).
    fn start(dir: &Path) -> Headend {
        let media = tempfile::tempdir().unwrap();
        let live_dir = media.path().join("live/meeting");
        let live = streams::hls_live(&live_dir, Picture::SMALL.with_pattern("bar")).unwrap();
        assert!(streams::wait_for_segments(&live_dir, 3, WAIT));
        let db = demo_headend_db(dir);
        let demo = headend::seed_streams::DemoStreams {
            rtsp_base: "rtsp://127.0.0.1:9".into(),
            multicast: "udp://239.255.77.9:5004".into(),
        };
        headend::seed_streams::seed_streams(&db, &demo, now()).unwrap();
        let server = headend::TestServer::start_with_media(
            db.clone(),
            "127.0.0.1:0".parse().unwrap(),
            Some(media.path().to_path_buf()),
        )
        .unwrap();
        Headend {
            db,
            addr: server.addr,
            server: Some(server),
            media,
            _live: live,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn stop(&mut self) {
        self.server = None;
    }

    /// Starts again on the same port, as after a headend restart.
    fn restart(&mut self) {
        self.server = Some(
            headend::TestServer::start_with_media(
                self.db.clone(),
                self.addr,
                Some(self.media.path().to_path_buf()),
            )
            .unwrap(),
        );
    }

    /// A meeting of 东坡村党支部 broadcast as the demo's live item.
    fn meeting(&self) -> String {
        let t = now();
        self.db
            .create_meeting(
                &NewMeeting {
                    kind: MeetingKind::MembersAssembly,
                    title: "东坡村党支部党员大会".into(),
                    branches: vec![headend::seed_meetings::branch_id(VILLAGE)],
                    starts_at: t - 60,
                    ends_at: t + 3600,
                    live_item: Some(LIVE.into()),
                    rollcalls: vec![],
                },
                t,
            )
            .unwrap()
            .id
    }

    /// Opens a roll-call as an admin does, over HTTP, and pushes it.
    fn start_rollcall(&self, meeting: &str, window_secs: u32) -> String {
        let body = format!("{{\"window_secs\":{window_secs}}}");
        let answer = http(
            self.addr,
            "POST",
            &format!("/api/v1/admin/meetings/{meeting}/rollcalls"),
            &body,
        );
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        v["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"))
            .to_string()
    }

    fn status(&self, rollcall: &str, member: &str) -> AttendanceStatus {
        let rows = self.db.rollcall_attendance(rollcall).unwrap();
        rows.iter().find(|r| r.member == member).unwrap().status
    }

    /// Waits until the headend has judged `member` (anything but absent).
    fn wait_answered(&self, rollcall: &str, member: &str) -> AttendanceStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.status(rollcall, member);
            if s != AttendanceStatus::Absent {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{member} never arrived at the headend"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn config(headend: &str, data_dir: &Path, device: &str) -> tv::Config {
    e2e::demo_identity(data_dir, device);
    let text = format!(
        "headend_url = \"{headend}\"\nvillage_code = \"{VILLAGE}\"\ndevice_id = \"{device}\"\n\
         data_dir = \"{}\"\n[player]\naudio_sink = \"fakesink\"\nstall_secs = 2.0\n\
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

/// Opens 党群直播 with the red key and plays the first broadcast (the
/// theme day) until its pictures arrive.
fn watch_meeting(tv: &mut HeadlessSession) {
    tv.press(Red);
    tv.press(Ok);
    tv.wait_for_playback("the meeting playing", WAIT, |tv| {
        tv.playback_panes()
            .iter()
            .any(|p| p.0 == LIVE && p.1 == PlaybackState::Playing)
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", tv.playback_panes()));
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

fn overlay_shows(tv: &HeadlessSession, text: &str) -> bool {
    tv.visible_texts().iter().any(|t| t.contains(text))
}

#[test]
fn a_member_watching_the_meeting_signs_in_with_one_press_and_is_counted_present() {
    let dir = tempfile::tempdir().unwrap();
    let headend = Headend::start(dir.path());
    let meeting = headend.meeting();
    // demo-box-2: one member, 张德顺 (dongpo-03).
    let mut tv = synced(&config(
        &headend.url(),
        &dir.path().join("box"),
        "demo-box-2",
    ));
    watch_meeting(&mut tv);

    let rollcall = headend.start_rollcall(&meeting, 120);
    tv.wait_for_rollcall(WAIT).unwrap();
    assert!(overlay_shows(&tv, "在线点名"));
    assert!(
        overlay_shows(&tv, "张德顺，请签到"),
        "{:?}",
        tv.visible_texts()
    );
    assert!(overlay_shows(&tv, "内签到"));
    assert!(!overlay_shows(&tv, "观看会议"), "the meeting is already on");
    shoot_both(&mut tv, "30-rollcall-one-member");

    // One press.
    tv.press(Ok);
    assert!(
        overlay_shows(&tv, "已签到：张德顺"),
        "{:?}",
        tv.visible_texts()
    );
    shoot_both(&mut tv, "31-rollcall-signed");
    assert_eq!(
        headend.wait_answered(&rollcall, "dongpo-03"),
        AttendanceStatus::Present
    );
    // The meeting kept playing under the overlay.
    assert!(tv
        .playback_panes()
        .iter()
        .any(|p| p.0 == LIVE && p.1 == PlaybackState::Playing));
    // OK closes 已签到; the roll-call is not offered again.
    tv.press(Ok);
    assert!(!overlay_shows(&tv, "在线点名"));

    // The member's record on the box: the last row of 党群直播. The record
    // is refetched after each delivery; the sign-in's may come after
    // another item's (the module-use report of opening 党群直播).
    tv.press(input::RemoteKey::Back);
    let rows = tv.view().rows;
    assert_eq!(rows.last().unwrap().0, "我的签到记录");
    tv.press(input::RemoteKey::Digit(rows.len() as u8));
    let deadline = Instant::now() + WAIT;
    while !tv.visible_texts().iter().any(|t| t == "已到") {
        assert!(
            Instant::now() < deadline,
            "the record never showed 已到: {:?}",
            tv.visible_texts()
        );
        let _ = tv.wait_for("the attendance record", Duration::from_secs(1), |e| {
            matches!(e, sync::SyncEvent::HouseholdChanged)
        });
    }
    let texts = tv.visible_texts();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("支部党员大会：东坡村党支部党员大会")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("张德顺")), "{texts:?}");
    assert!(texts.iter().any(|t| t == "已到"), "{texts:?}");
    shoot_both(&mut tv, "35-attendance-record");
}

#[test]
fn sign_ins_made_while_the_headend_is_down_survive_an_app_restart_and_arrive_once_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut headend = Headend::start(dir.path());
    let meeting = headend.meeting();
    let data = dir.path().join("box");
    // demo-box: 王建国 (dongpo-01) and 李桂兰 (dongpo-02).
    let cfg = config(&headend.url(), &data, "demo-box");
    let mut tv = synced(&cfg);
    watch_meeting(&mut tv);

    let rollcall = headend.start_rollcall(&meeting, 5);
    let opened = Instant::now();
    tv.wait_for_rollcall(WAIT).unwrap();
    assert!(overlay_shows(&tv, "1. 王建国") && overlay_shows(&tv, "2. 李桂兰"));
    assert!(overlay_shows(&tv, "确认签到"));
    shoot_both(&mut tv, "32-rollcall-two-members");

    headend.stop();
    // Tick both (OK on the first, digit 2), go down to 确认签到, confirm.
    tv.press(Ok);
    tv.press(input::RemoteKey::Digit(2));
    tv.press(Down);
    tv.press(Ok);
    assert!(
        overlay_shows(&tv, "已签到：王建国、李桂兰"),
        "{:?}",
        tv.visible_texts()
    );
    let outbox = store::Outbox::open(&data.join("outbox.db"), now()).unwrap();
    assert_eq!(
        outbox.count(model::SIGN_IN_KIND).unwrap(),
        2,
        "both sign-ins are on disk"
    );
    drop(outbox);
    // The app is closed before anything could be sent.
    drop(tv);

    // The headend comes back after the 5 s window has passed.
    while opened.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(Duration::from_millis(100));
    }
    headend.restart();
    // The app starts again (a fresh UI platform needs a thread of its own).
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let app = std::thread::spawn(move || {
        let _tv = synced(&cfg);
        let _ = finished.recv();
    });
    assert_eq!(
        headend.wait_answered(&rollcall, "dongpo-01"),
        AttendanceStatus::Present
    );
    assert_eq!(
        headend.wait_answered(&rollcall, "dongpo-02"),
        AttendanceStatus::Present
    );
    let deadline = Instant::now() + WAIT;
    while store::Outbox::open(&data.join("outbox.db"), now())
        .unwrap()
        .len()
        .unwrap()
        > 0
    {
        assert!(Instant::now() < deadline, "outbox never emptied");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Exactly once: one record each, even though the box may have tried
    // more than once.
    let rows = headend.db.rollcall_attendance(&rollcall).unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.device.as_deref() == Some("demo-box"))
            .count(),
        2
    );
    done.send(()).unwrap();
    app.join().unwrap();
}

#[test]
fn a_box_not_playing_the_meeting_is_flagged_and_an_answer_after_the_window_is_late() {
    let dir = tempfile::tempdir().unwrap();
    let headend = Headend::start(dir.path());
    let meeting = headend.meeting();
    let mut tv = synced(&config(
        &headend.url(),
        &dir.path().join("box"),
        "demo-box-2",
    ));

    // On the home screen, not the meeting: the overlay offers to open it.
    let first = headend.start_rollcall(&meeting, 120);
    tv.wait_for_rollcall(WAIT).unwrap();
    assert!(overlay_shows(&tv, "观看会议"));
    shoot_both(&mut tv, "33-rollcall-not-watching");
    tv.press(Ok);
    assert_eq!(
        headend.wait_answered(&first, "dongpo-03"),
        AttendanceStatus::Flagged
    );
    tv.press(Ok);

    // Second roll-call: open the meeting from the overlay, then wait out
    // the 2 s window before answering.
    let second = headend.start_rollcall(&meeting, 2);
    tv.wait_for_rollcall(WAIT).unwrap();
    tv.press(Right);
    tv.press(Ok);
    tv.wait_for_playback("the meeting playing", WAIT, |tv| {
        tv.playback_panes()
            .iter()
            .any(|p| p.0 == LIVE && p.1 == PlaybackState::Playing)
    })
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while !overlay_shows(&tv, "记为迟到") {
        assert!(Instant::now() < deadline, "the countdown never ran out");
        std::thread::sleep(Duration::from_millis(200));
        tv.tick();
    }
    shoot_both(&mut tv, "34-rollcall-late");
    tv.press(Ok);
    assert_eq!(
        headend.wait_answered(&second, "dongpo-03"),
        AttendanceStatus::Late
    );
}
