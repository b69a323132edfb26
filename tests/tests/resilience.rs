//! The box keeps working from its cache when the headend is away, a cache
//! file is damaged, or a feed page is malformed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use e2e::{box_config, demo_headend_db, free_addr, screenshot_dir, BrokenFeedServer, VILLAGE};
use headend::TestServer;
use input::RemoteKey::{Digit, Ok as OkKey};
use store::{Cache, OpenOutcome};
use sync::{FailureKind, SyncEvent};
use tv::HeadlessSession;

const WAIT: Duration = Duration::from_secs(30);

/// Fills `data_dir` with a synced cache from a headend that then goes away.
fn prime_cache(db: &Arc<headend::Db>, data_dir: &std::path::Path) {
    let server = e2e::start_headend(db.clone());
    let config = box_config(&server.url(), data_dir);
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let result = tv.wait_for_sync_result(WAIT).unwrap();
    assert!(matches!(result, SyncEvent::Synced(_)), "{result:?}");
}

fn primed_in_own_thread(db: Arc<headend::Db>, data_dir: std::path::PathBuf) {
    // Slint allows one platform per thread: priming gets its own.
    std::thread::spawn(move || prime_cache(&db, &data_dir))
        .join()
        .unwrap();
}

#[test]
fn starts_offline_from_the_cache_then_catches_up_when_the_headend_appears() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let data_dir = dir.path().join("box");
    primed_in_own_thread(db.clone(), data_dir.clone());

    // The headend is down when the box starts.
    let addr = free_addr();
    let config = box_config(&format!("http://{addr}"), &data_dir);
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let failed = tv.wait_for_sync_result(WAIT).unwrap();
    assert!(
        matches!(
            failed,
            SyncEvent::Failed {
                kind: FailureKind::Unreachable,
                ..
            }
        ),
        "{failed:?}"
    );
    let texts = tv.visible_texts();
    let banner = texts.iter().find(|t| t.starts_with("网络未连接")).cloned();
    assert!(banner.is_some(), "no offline banner in {texts:?}");
    assert!(banner.unwrap().contains("会自动重试"));
    assert!(texts.iter().any(|t| t == "离线"), "{texts:?}");
    // Cached content is all there.
    assert!(texts.iter().any(|t| t == "三务公开"));
    tv.save_png(&screenshot_dir().join("e2e-offline-home-1280x720.png"))
        .unwrap();
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(Digit(1));
    tv.press(Digit(3));
    tv.press(Digit(1));
    let texts = tv.visible_texts();
    assert!(
        texts
            .iter()
            .any(|t| t == "东坡村2026年第三季度财务收支公开"),
        "{texts:?}"
    );

    // Meanwhile the village publishes a correction; then the headend comes back.
    let (_, items) = headend::seed::demo_content();
    let income = items
        .iter()
        .find(|i| i.id == format!("{VILLAGE}-fin-income-2026q3"))
        .unwrap()
        .clone();
    let mut corrected = income;
    if let model::Content::Disclosure(d) = &mut corrected.content {
        d.title = "东坡村2026年第三季度财务收支公开（更正）".into();
    }
    db.publish(&[corrected]).unwrap();
    let _server = TestServer::start(db, addr).unwrap();
    tv.nudge_sync();
    let synced = tv
        .wait_for("the catch-up sync", WAIT, |e| {
            matches!(e, SyncEvent::Synced(_))
        })
        .unwrap();
    assert!(
        matches!(synced, SyncEvent::Synced(r) if r.upserted == 1),
        "{synced:?}"
    );
    let view = tv.view();
    assert!(!view.offline);
    let texts = tv.visible_texts();
    assert!(
        !texts.iter().any(|t| t.starts_with("网络未连接")),
        "banner still up: {texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t == "东坡村2026年第三季度财务收支公开（更正）"),
        "{texts:?}"
    );
}

#[test]
fn a_corrupt_cache_is_rebuilt_and_refilled_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let data_dir = dir.path().join("box");
    primed_in_own_thread(db.clone(), data_dir.clone());
    // A power cut left garbage where cache.db was.
    std::fs::write(data_dir.join("cache.db"), vec![0xA5u8; 64 * 1024]).unwrap();
    let _ = std::fs::remove_file(data_dir.join("cache.db-wal"));

    let server = e2e::start_headend(db);
    let config = box_config(&server.url(), &data_dir);
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    assert!(
        matches!(tv.opened, OpenOutcome::Rebuilt { .. }),
        "{:?}",
        tv.opened
    );
    let synced = tv.wait_for_sync_result(WAIT).unwrap();
    assert!(
        matches!(synced, SyncEvent::Synced(r) if r.upserted == 31),
        "{synced:?}"
    );
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(Digit(1));
    assert_eq!(tv.view().categories[2].1, "共 5 条");
}

#[test]
fn a_malformed_feed_page_is_rejected_the_cache_kept_and_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let data_dir = dir.path().join("box");
    primed_in_own_thread(db, data_dir.clone());
    let before = {
        let (cache, _) = Cache::open(&data_dir.join("cache.db")).unwrap();
        (
            cache.item_count().unwrap(),
            cache.sync_state().unwrap().cursor,
        )
    };

    // A page whose amount is not money: the whole page must be refused.
    let broken = BrokenFeedServer::start(
        r#"{"upserts":[{"id":"x","seq":999,"scope":"990101101001","published_at":0,"version":1,
        "content":{"kind":"disclosure","category":"finance","module":"收支情况","title":"坏数据","period":"2026年",
        "body":[{"type":"table","caption":"t","columns":[{"name":"金额","kind":"money"}],"rows":[["一百元"]],"totals":null}]}}],
        "tombstones":[],"next_cursor":999,"more":false}"#,
    );
    let config = box_config(&broken.url(), &data_dir);
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let mut delays = Vec::new();
    while delays.len() < 2 {
        match tv.wait_for_sync_result(WAIT).unwrap() {
            SyncEvent::Failed {
                kind,
                detail,
                retry_in,
            } => {
                assert_eq!(kind, FailureKind::BadData);
                assert!(
                    detail.contains("malformed feed page") && detail.contains("cell A2"),
                    "{detail}"
                );
                delays.push(retry_in);
            }
            other => panic!("a malformed page was accepted: {other:?}"),
        }
    }
    assert!(delays[1] > delays[0], "no backoff: {delays:?}");
    assert!(broken.feed_requests.load(Ordering::SeqCst) >= 2);
    let texts = tv.visible_texts();
    assert!(
        texts.iter().any(|t| t.starts_with("收到的内容有误")),
        "{texts:?}"
    );
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(Digit(1));
    tv.press(Digit(3));
    tv.press(Digit(1));
    tv.press(OkKey);
    assert_ne!(tv.view().title, "坏数据");
    drop(tv);

    let (cache, _) = Cache::open(&data_dir.join("cache.db")).unwrap();
    assert_eq!(
        (
            cache.item_count().unwrap(),
            cache.sync_state().unwrap().cursor
        ),
        before
    );
    assert!(cache.item("x").unwrap().is_none());
}
