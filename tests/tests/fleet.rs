//! The box as part of the fleet, end to end with the real headend and sync
//! client: its heartbeat fills the device list; commands from the county
//! centre reach it over push and are answered (a message shown until OK,
//! logs sent back, a setting kept, a restart asked for); a revoked box keeps
//! its cache and says it must be provisioned again.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{demo_headend_db, http, screenshot_dir, VILLAGE};
use input::RemoteKey::Ok;
use serde_json::{json, Value};
use sync::SyncEvent;
use tv::{Display, HeadlessSession};

const WAIT: Duration = Duration::from_secs(60);

fn call(addr: SocketAddr, method: &str, path: &str, body: Value) -> Value {
    let text = http(addr, method, path, &body.to_string());
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn config(headend: &str, data_dir: &Path) -> tv::Config {
    e2e::demo_identity(data_dir, "demo-box");
    let text = format!(
        "headend_url = \"{headend}\"\ndata_dir = \"{}\"\n",
        data_dir.display()
    );
    tv::Config::parse(&text, "test.toml").unwrap()
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

fn shows(tv: &HeadlessSession, text: &str) -> bool {
    tv.visible_texts().iter().any(|t| t.contains(text))
}

/// Sends a command as the demo admin and waits for the box to carry it out.
fn command(tv: &mut HeadlessSession, addr: SocketAddr, body: Value) -> u64 {
    let sent = call(
        addr,
        "POST",
        "/api/v1/admin/devices/demo-box/commands",
        body,
    );
    let id = sent["id"].as_u64().unwrap_or_else(|| panic!("{sent}"));
    tv.wait_for(
        "the command",
        WAIT,
        |e| matches!(e, SyncEvent::Command(c) if c.id == id),
    )
    .unwrap();
    id
}

/// Waits until the headend has the box's answer to command `id`.
fn answer(addr: SocketAddr, id: u64) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let list = call(
            addr,
            "GET",
            "/api/v1/admin/devices/demo-box/commands",
            Value::Null,
        );
        if let Some(c) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id && !c["acked_at"].is_null())
        {
            return c.clone();
        }
        assert!(
            Instant::now() < deadline,
            "command {id} never answered: {list}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn commands_reach_the_box_and_a_revoked_box_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let server = e2e::start_headend(db);
    let addr = server.addr;
    let data_dir = dir.path().join("box");
    let config = config(&format!("http://{addr}"), &data_dir);
    assert_eq!(config.village_code.as_str(), VILLAGE);
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    tv.wait_for_sync_result(WAIT).unwrap();
    tv.acknowledge_notices();

    // The heartbeat puts the box in the device list, online, with its version.
    let deadline = Instant::now() + WAIT;
    let row = loop {
        let list = call(
            addr,
            "GET",
            &format!("/api/v1/admin/devices?region={VILLAGE}"),
            Value::Null,
        );
        let row = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["device"] == "demo-box")
            .cloned()
            .unwrap();
        if !row["heartbeat"].is_null() {
            break row;
        }
        assert!(Instant::now() < deadline, "no heartbeat: {row}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(row["online"], true, "{row}");
    assert_eq!(row["heartbeat"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(row["heartbeat"]["ip"], "127.0.0.1");
    assert!(row["heartbeat"]["free_bytes"].as_u64().unwrap() > 0);

    // A message stays on screen until OK.
    let id = command(
        &mut tv,
        addr,
        json!({ "kind": "show_message", "text": "明天上午九点停电检修，请提前关机。" }),
    );
    assert!(
        shows(&tv, "明天上午九点停电检修"),
        "{:?}",
        tv.visible_texts()
    );
    assert!(shows(&tv, "县党建中心消息"));
    shoot_both(&mut tv, "70-fleet-message");
    assert_eq!(answer(addr, id)["ok"], true);
    tv.press(Ok);
    assert!(!shows(&tv, "明天上午九点停电检修"));

    // Logs come back with the answer; a setting is kept for the next start.
    let id = command(&mut tv, addr, json!({ "kind": "upload_logs" }));
    let logs = answer(addr, id);
    assert_eq!(logs["ok"], true);
    assert!(!logs["detail"].as_str().unwrap().is_empty());
    let id = command(
        &mut tv,
        addr,
        json!({ "kind": "set_config", "key": "poll_interval_secs", "value": "120" }),
    );
    assert_eq!(answer(addr, id)["ok"], true);
    let id = command(
        &mut tv,
        addr,
        json!({ "kind": "set_config", "key": "data_dir", "value": "/" }),
    );
    let refused = answer(addr, id);
    assert_eq!(refused["ok"], false);
    assert!(
        refused["detail"].as_str().unwrap().contains("不支持"),
        "{refused}"
    );
    let again = tv::Config::parse(
        &format!(
            "headend_url = \"http://{addr}\"\ndata_dir = \"{}\"\n",
            data_dir.display()
        ),
        "test.toml",
    )
    .unwrap();
    assert_eq!(again.poll_interval, Duration::from_secs(120));

    // A restart is answered first, then asked of the app.
    assert_eq!(tv.exit_requested(), None);
    let id = command(&mut tv, addr, json!({ "kind": "restart_app" }));
    assert_eq!(answer(addr, id)["ok"], true);
    assert_eq!(tv.exit_requested(), Some(75));

    // Revoked: the box is told at once and keeps showing its cache.
    call(
        addr,
        "POST",
        "/api/v1/admin/devices/demo-box/revoke",
        json!({ "reason": "测试停用" }),
    );
    tv.wait_for("the refusal", WAIT, |e| {
        matches!(e, SyncEvent::DeviceRefused { revoked: true })
    })
    .unwrap();
    tv.render_frame();
    assert!(shows(&tv, "本机已被停用"), "{:?}", tv.visible_texts());
    assert!(shows(&tv, "已停用"));
    assert!(shows(&tv, "三务公开"), "home still shows the cache");
    shoot_both(&mut tv, "71-fleet-revoked");
}

/// Camera mounts as the demo seeds them.
fn camera_mounts() -> Vec<(String, player::streams::Picture)> {
    let mut mounts = Vec::new();
    for i in 1..=6 {
        let pic = player::streams::Picture::SMALL;
        mounts.push((format!("/hall{i}"), pic));
        mounts.push((format!("/hall{i}/sub"), pic));
    }
    mounts
}

#[test]
fn the_settings_page_diagnoses_the_box_and_plays_a_test_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mounts = camera_mounts();
    let mounts: Vec<(&str, player::streams::Picture)> =
        mounts.iter().map(|(m, p)| (m.as_str(), *p)).collect();
    let cameras = player::streams::RtspServer::start(0, &mounts).unwrap();
    let db = demo_headend_db(dir.path());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    headend::seed_streams::seed_streams(
        &db,
        &headend::seed_streams::DemoStreams {
            rtsp_base: format!("rtsp://127.0.0.1:{}", cameras.port()),
            multicast: "udp://239.255.77.9:5999".into(),
        },
        now,
    )
    .unwrap();
    let server = e2e::start_headend(db);
    let data_dir = dir.path().join("box");
    e2e::demo_identity(&data_dir, "demo-box");
    let text = format!(
        "headend_url = \"http://{}\"\ndata_dir = \"{}\"\n[player]\naudio_sink = \"fakesink\"\n",
        server.addr,
        data_dir.display()
    );
    let config = tv::Config::parse(&text, "test.toml").unwrap();
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    tv.wait_for_sync_result(WAIT).unwrap();
    tv.acknowledge_notices();

    // 设置 (Menu), then 3: 本机信息与诊断.
    tv.press(input::RemoteKey::Menu);
    assert!(shows(&tv, "重新开通本机"), "{:?}", tv.visible_texts());
    tv.press(input::RemoteKey::Digit(3));
    for expected in [
        "本机编号",
        "demo-box",
        "东坡村",
        "127.0.0.1",
        "连接正常",
        "上次同步",
        "待发送",
        "软件版本",
    ] {
        assert!(
            shows(&tv, expected),
            "{expected:?} not in {:?}",
            tv.visible_texts()
        );
    }
    tv.press(Ok);
    assert!(
        tv.visible_texts().iter().any(|t| t.contains("毫秒出画面")),
        "{:?}",
        tv.visible_texts()
    );
    shoot_both(&mut tv, "72-diagnostics");
    drop(cameras);
}
