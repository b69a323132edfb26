//! The real sync client against the real headend on a loopback port.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::{mpsc, Arc};
use std::time::Duration;

use headend::{seed, Db, TestServer};
use model::{AreaCode, DisclosureCategory};
use store::Cache;
use sync::{FailureKind, SyncClient, SyncConfig, SyncEvent};

const VILLAGE: &str = "990101101001";

struct Fixture {
    _dir: tempfile::TempDir,
    db: Arc<Db>,
    server: TestServer,
    cache_path: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let cache_path = dir.path().join("cache.db");
    Fixture {
        _dir: dir,
        db,
        server,
        cache_path,
    }
}

fn client(url: &str) -> SyncClient {
    SyncClient::new(
        url,
        VILLAGE.parse::<AreaCode>().unwrap(),
        Duration::from_secs(2),
        Duration::from_secs(10),
    )
    .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn first_sync_fills_the_cache_and_the_next_poll_is_one_304() {
    let f = fixture();
    let (mut cache, _) = Cache::open(&f.cache_path).unwrap();
    let c = client(&f.server.url());
    let first = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert_eq!(
        first.upserted, 31,
        "16 disclosures and notices, 6 honours, 5 info pages, a service menu, two questionnaires, an exam"
    );
    assert!(first.bytes > 0);
    assert_eq!(
        cache.region_names().unwrap(),
        ["东坡村", "青石镇", "青山县"]
    );
    let finance = cache.disclosures(DisclosureCategory::Finance).unwrap();
    assert!(finance
        .iter()
        .any(|s| s.title == "东坡村2026年第三季度财务收支公开"));
    assert_eq!(cache.notices().unwrap().len(), 4);

    let again = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert_eq!(
        (again.requests, again.not_modified, again.bytes),
        (1, true, 0)
    );
}

#[test]
fn later_syncs_fetch_only_changes_and_apply_withdrawals() {
    let f = fixture();
    let (mut cache, _) = Cache::open(&f.cache_path).unwrap();
    let c = client(&f.server.url());
    rt().block_on(c.sync_once(&mut cache)).unwrap();
    let id = format!("{VILLAGE}-party-day-2026-10");
    f.db.withdraw(&id).unwrap();
    let report = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert_eq!(
        (report.upserted, report.deleted, report.requests),
        (0, 1, 1)
    );
    assert!(cache.item(&id).unwrap().is_none());
}

#[test]
fn a_stale_cursor_refetches_everything_and_sweeps_what_vanished() {
    let f = fixture();
    let (mut cache, _) = Cache::open(&f.cache_path).unwrap();
    let c = client(&f.server.url());
    rt().block_on(c.sync_once(&mut cache)).unwrap();
    let before = cache.item_count().unwrap();
    let id = format!("{VILLAGE}-village-family-2026");
    f.db.withdraw(&id).unwrap();
    // The headend forgets that tombstone, so the box cannot learn of it incrementally.
    f.db.purge_tombstones(u64::MAX / 2).unwrap();
    let (_, items) = seed::demo_content();
    f.db.publish(&items[..1]).unwrap();
    let report = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert!(report.full_refetch);
    assert!(cache.item(&id).unwrap().is_none());
    assert_eq!(cache.item_count().unwrap(), before - 1);
}

#[test]
fn an_unreachable_headend_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut cache, _) = Cache::open(&dir.path().join("cache.db")).unwrap();
    let err = rt()
        .block_on(client(&format!("http://127.0.0.1:{port}")).sync_once(&mut cache))
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::Unreachable, "{err}");
}

#[test]
fn the_sync_thread_reports_and_picks_up_changes_when_nudged() {
    let f = fixture();
    let (tx, rx) = mpsc::channel();
    let config = SyncConfig::new(
        &f.server.url(),
        VILLAGE.parse().unwrap(),
        f.cache_path.clone(),
    );
    let handle = sync::spawn(config, move |e| {
        let _ = tx.send(e);
    })
    .unwrap();
    let next_synced = || loop {
        match rx.recv_timeout(Duration::from_secs(30)).unwrap() {
            SyncEvent::Synced(report) => return report,
            SyncEvent::Syncing => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(next_synced().upserted, 31);
    let (_, items) = seed::demo_content();
    f.db.publish(&items[..2]).unwrap();
    handle.nudge();
    assert_eq!(next_synced().upserted, 2);
    drop(handle);
    let (cache, _) = Cache::open(&f.cache_path).unwrap();
    assert_eq!(cache.item_count().unwrap(), 31);
}

#[test]
fn images_come_after_the_feed_once_and_a_lost_one_is_marked_missing() {
    let f = fixture();
    let (mut cache, _) = Cache::open(&f.cache_path).unwrap();
    let c = client(&f.server.url());
    let first = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert!(first.images >= 5, "demo honour photos: {first:?}");
    assert!(cache.missing_blobs(100).unwrap().is_empty());
    assert!(cache.blob_bytes().unwrap() > 0);

    // A new honour whose photo the headend then loses (a restore from an
    // old backup, say): the box asks once, is told 404, and shows 照片缺失.
    let photo = include_bytes!("../../../assets/demo/photos/member-1.jpg");
    let mut lost = photo.to_vec();
    lost.extend_from_slice(b"\0\0"); // same picture, other bytes, other id
    let sha = f.db.put_image(&lost).unwrap();
    f.db.publish(&[headend::NewItem {
        id: "lost-photo".into(),
        scope: VILLAGE.parse().unwrap(),
        published_at: 1_790_000_000,
        content: model::Content::Honour(model::Honour {
            kind: model::HonourKind::Member,
            name: "赵四".into(),
            award: "优秀共产党员".into(),
            unit: "东坡村党支部".into(),
            photo: Some(sha.clone()),
            citation: "热心为群众办事。".into(),
        }),
    }])
    .unwrap();
    let conn = rusqlite::Connection::open(f._dir.path().join("headend.db")).unwrap();
    assert_eq!(
        conn.execute("DELETE FROM blobs WHERE sha256 = ?1", [&sha])
            .unwrap(),
        1
    );

    let second = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert_eq!(
        (second.upserted, second.images, second.images_missing),
        (1, 0, 1)
    );
    assert_eq!(cache.blob(&sha).unwrap(), store::BlobState::Missing);
    let third = rt().block_on(c.sync_once(&mut cache)).unwrap();
    assert_eq!(
        (third.requests, third.images_missing),
        (1, 0),
        "not asked again"
    );
}
