//! `dangjian-tv --diagnose`, as an installer runs it over SSH: against a
//! real headend on loopback it names the box, its village, the round trip
//! and what waits to be sent; against no headend it says the server cannot
//! be reached and exits 1.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn write_box(dir: &Path, headend: &str) -> std::path::PathBuf {
    let data = dir.join("box");
    tv::identity::Identity {
        device: "demo-box".into(),
        village: "990101101001".parse().unwrap(),
        token: headend::seed_meetings::demo_device_token("demo-box"),
    }
    .save(&data)
    .unwrap();
    let config = dir.join("tv.toml");
    std::fs::write(
        &config,
        format!(
            "headend_url = \"{headend}\"\ndata_dir = \"{}\"\n",
            data.display()
        ),
    )
    .unwrap();
    config
}

fn diagnose(config: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dangjian-tv"))
        .args(["--config", config.to_str().unwrap(), "--diagnose"])
        .env("GST_REGISTRY_FORK", "no")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn diagnose_reports_the_box_and_its_headend() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(headend::Db::open_test(dir.path()).unwrap());
    headend::seed::seed_demo(&db).unwrap();
    let server = headend::TestServer::start(db, "127.0.0.1:0".parse().unwrap()).unwrap();
    let config = write_box(dir.path(), &format!("http://{}", server.addr));
    let (_, text) = diagnose(&config);
    for expected in [
        "本机编号：demo-box",
        "所在村：990101101001",
        "本机地址：127.0.0.1",
        "连接正常，往返",
        "上次同步：还没有同步过",
        "待发送：没有",
        "软件版本：dangjian-tv",
        "播放测试：",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }

    drop(server);
    let (code, text) = diagnose(&config);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("! 服务器："), "{text}");
    assert!(text.contains("连不上"), "{text}");
}
