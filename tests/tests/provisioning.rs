//! First-boot provisioning on the TV, end to end with the real headend: a
//! box with no identity checks the network, picks county, town and village
//! with the arrows (or types the village code), enters the installer code,
//! picks who lives there, and starts provisioned. Refusals are said in
//! plain words: an expired code, a reused one, a wrong one, an unknown
//! village, and a headend that cannot be reached.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::path::Path;

use e2e::{demo_headend_db, http, screenshot_dir, VILLAGE};
use input::RemoteKey::{Back, Down, Ok};
use serde_json::{json, Value};
use tv::config::ConfigError;
use tv::install_ui::InstallSession;
use tv::Display;

fn code_for(addr: SocketAddr, region: &str) -> String {
    let text = http(
        addr,
        "POST",
        "/api/v1/admin/installer-codes",
        &json!({ "region": region }).to_string(),
    );
    let code: Value = serde_json::from_str(&text).unwrap();
    code["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{text}"))
        .to_string()
}

/// A box as it leaves the factory: the package's config names the headend
/// and nothing else.
fn factory_settings(headend: &str, data_dir: &Path) -> tv::config::InstallSettings {
    let text = format!(
        "headend_url = \"{headend}\"\ndata_dir = \"{}\"\n",
        data_dir.display()
    );
    match tv::Config::parse(&text, "/etc/dangjian/tv.toml") {
        Err(ConfigError::NotProvisioned { settings, .. }) => *settings,
        other => panic!("expected a box that is not provisioned: {other:?}"),
    }
}

fn shoot_both(tv: &mut InstallSession, name: &str) {
    let shots = screenshot_dir();
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&shots.join(format!("{name}-{}x{}.png", display.width, display.height)))
            .unwrap();
    }
    tv.set_display(Display::HD);
}

fn shows(tv: &InstallSession, text: &str) -> bool {
    tv.visible_texts().iter().any(|t| t.contains(text))
}

#[track_caller]
fn assert_shows(tv: &InstallSession, text: &str) {
    assert!(shows(tv, text), "{text:?} not in {:?}", tv.visible_texts());
}

#[test]
fn a_new_box_is_provisioned_with_the_remote_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let server = e2e::start_headend(db.clone());
    let addr = server.addr;
    let data_dir = dir.path().join("box");
    let settings = factory_settings(&format!("http://{addr}"), &data_dir);
    // 王建国 and 李桂兰 move here from demo-box's home: staff took them off
    // that box first (a box cannot take members of another household).
    db.set_household("demo-box", &VILLAGE.parse().unwrap(), &[])
        .unwrap();
    let mut tv = InstallSession::start(&settings).unwrap();

    // 1. The network check found the headend.
    assert_shows(&tv, "第 1 步");
    assert_shows(&tv, "服务器连接正常");
    assert_shows(&tv, "本机地址：127.0.0.1");
    shoot_both(&mut tv, "80-install-network");
    tv.press(Ok);

    // 2. One county, so the towns come first; arrows to 青石镇, then 东坡村.
    assert_eq!(tv.view().step_text, "开通本机 · 第 2 步，共 5 步");
    assert_shows(&tv, "青山县 › 请选择");
    assert_shows(&tv, "青石镇");
    shoot_both(&mut tv, "81-install-region");
    tv.press(Ok);
    assert_shows(&tv, "东坡村");
    tv.press(Ok);

    // 3. A wrong code, an expired one and a used one are each explained.
    assert_shows(&tv, "输入开通码");
    assert_shows(&tv, "东坡村（990101101001）");
    tv.digits("1234");
    tv.press(Ok);
    assert_shows(&tv, "开通码是 8 位数字，现在输入了 4 位");
    for _ in 0..4 {
        tv.press(input::RemoteKey::Left);
    }
    tv.digits("00000000");
    tv.press(Ok);
    assert_shows(&tv, "开通码不对");
    shoot_both(&mut tv, "82-install-wrong-code");
    let expired = {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        db.issue_installer_code(&VILLAGE.parse().unwrap(), "test", now - 7200, 3600)
            .unwrap()
            .code
    };
    tv.digits(&expired);
    tv.press(Ok);
    assert_shows(&tv, "开通码已过期");
    let used = code_for(addr, VILLAGE);
    let text = http(
        addr,
        "POST",
        "/api/v1/provision",
        &json!({ "village": VILLAGE, "code": used }).to_string(),
    );
    assert!(text.contains("token"), "{text}");
    tv.digits(&used);
    tv.press(Ok);
    assert_shows(&tv, "已经用过了");

    // A good code from the county: provisioned, the identity is on disk.
    let good = code_for(addr, "990101000000");
    tv.digits(&good);
    shoot_both(&mut tv, "83-install-code");
    tv.press(Ok);
    assert_eq!(tv.view().title, "谁住在这里", "{:?}", tv.view());
    let identity = tv::identity::Identity::load(&data_dir).unwrap();
    assert!(identity.device.starts_with("box-990101101001-"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tv::identity::path(&data_dir))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // 4. 王建国 and 李桂兰 live here.
    assert_shows(&tv, "☐ 王建国");
    tv.press(Ok);
    tv.press(Down);
    tv.press(Ok);
    assert_shows(&tv, "☑ 王建国");
    assert_shows(&tv, "☑ 李桂兰");
    shoot_both(&mut tv, "84-install-members");
    let rows = tv.view().rows.len();
    for _ in 0..rows {
        tv.press(Down);
    }
    // The list pages; "完成" is its last row.
    while tv.view().rows[tv.view().focus].0 != "完成" {
        tv.press(Down);
    }
    tv.press(Ok);

    // 5. Done; the headend has the household.
    assert_eq!(tv.view().title, "开通完成");
    assert_shows(&tv, "王建国、李桂兰");
    shoot_both(&mut tv, "85-install-done");
    tv.press(Ok);
    assert_eq!(tv.finished(), Some(true));
    let household: Value = serde_json::from_str(&e2e::http_as(
        addr,
        &identity.token,
        "GET",
        &format!("/api/v1/devices/{}/household", identity.device),
        "",
    ))
    .unwrap();
    let names: Vec<&str> = household["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["王建国", "李桂兰"]);

    // The box now starts as itself.
    let text = format!(
        "headend_url = \"http://{addr}\"\ndata_dir = \"{}\"\n",
        data_dir.display()
    );
    let config = tv::Config::parse(&text, "/etc/dangjian/tv.toml").unwrap();
    assert_eq!(config.village_code.as_str(), VILLAGE);
    assert_eq!(config.device_id.as_deref(), Some(identity.device.as_str()));
}

#[test]
fn the_village_code_can_be_typed_and_an_unreachable_headend_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback.
    let settings = factory_settings("http://127.0.0.1:9", &dir.path().join("box"));
    let mut tv = InstallSession::start(&settings).unwrap();
    assert_shows(&tv, "连不上服务器");
    tv.press(Ok);
    assert_shows(&tv, "服务器还连不上");
    shoot_both(&mut tv, "86-install-unreachable");

    // The installer types the right address: digits, Right for ".", Yellow
    // for ":".
    let db = demo_headend_db(dir.path());
    let server = e2e::start_headend(db);
    let addr = server.addr;
    tv.press(Down);
    tv.press(Ok);
    assert_eq!(tv.view().title, "修改服务器地址");
    for _ in 0.."127.0.0.1:9".len() {
        tv.press(input::RemoteKey::Left);
    }
    for part in addr.to_string().chars() {
        match part {
            '.' => tv.press(input::RemoteKey::Right),
            ':' => tv.press(input::RemoteKey::Yellow),
            d => tv.press(input::RemoteKey::Digit(d as u8 - b'0')),
        }
    }
    assert_shows(&tv, &format!("http://{addr}"));
    shoot_both(&mut tv, "87-install-address");
    tv.press(Ok);
    assert_shows(&tv, "服务器连接正常");
    tv.press(Ok);

    // An unknown village code, then the right one typed.
    tv.digits("990101101099");
    assert_shows(&tv, "没有编码为 990101101099 的村");
    tv.digits(VILLAGE);
    assert_shows(&tv, "输入开通码");
    // Back goes back to the list.
    tv.press(Back);
    assert_shows(&tv, "选择所在的村");
}

#[test]
fn settings_lead_to_provisioning_again_behind_a_new_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let server = e2e::start_headend(db);
    let addr = server.addr;
    let data_dir = dir.path().join("box");
    e2e::demo_identity(&data_dir, "demo-box");
    let text = format!(
        "headend_url = \"http://{addr}\"\ndata_dir = \"{}\"\n",
        data_dir.display()
    );
    let config = tv::Config::parse(&text, "tv.toml").unwrap();
    // Slint's platform is set once per thread: each screen gets its own.
    let on_its_own_thread = |f: Box<dyn FnOnce() + Send>| std::thread::spawn(f).join().unwrap();
    let app_config = config.clone();
    on_its_own_thread(Box::new(move || {
        let mut tv = tv::HeadlessSession::start(&app_config, false).unwrap();
        tv.acknowledge_notices();
        // 设置 → 4. 重新开通本机: the app asks to restart into provisioning.
        tv.press(input::RemoteKey::Menu);
        tv.press(input::RemoteKey::Digit(4));
        assert_eq!(tv.exit_requested(), Some(75));
    }));
    assert!(tv::install::take_reprovision_request(&data_dir));

    // The wizard keeps the box's id; leaving it changes nothing.
    let settings = config.install_settings();
    assert_eq!(settings.device_id.as_deref(), Some("demo-box"));
    let leave = settings.clone();
    on_its_own_thread(Box::new(move || {
        let mut wizard = InstallSession::start(&leave).unwrap();
        wizard.press(Back);
        assert_eq!(wizard.finished(), Some(false));
    }));
    // The box moves to 柳溪乡's 柳林村: a code from there re-binds it only
    // because the box proves itself with its current token.
    const LIULIN: &str = "990101102001";
    let code = code_for(addr, LIULIN);
    on_its_own_thread(Box::new(move || {
        let mut wizard = InstallSession::start(&settings).unwrap();
        wizard.press(Ok);
        wizard.digits(LIULIN);
        wizard.digits(&code);
        wizard.press(Ok);
        assert_eq!(wizard.view().title, "谁住在这里", "{:?}", wizard.view());
    }));
    let identity = tv::identity::Identity::load(&data_dir).unwrap();
    assert_eq!(identity.device, "demo-box", "the same box, a new token");
    assert_eq!(identity.village.as_str(), LIULIN);
    assert_ne!(
        identity.token,
        headend::seed_meetings::demo_device_token("demo-box")
    );
}
