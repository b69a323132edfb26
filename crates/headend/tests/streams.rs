//! Streams as content: the demo's cameras, live broadcasts and videos are
//! valid and reach the village's feed; bad stream addresses are refused;
//! HLS files are served under /media/ and nothing outside it is.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use headend::seed_streams::{seed_streams, stream_items, DemoStreams};
use headend::{app_with, seed, Db, Hub};
use http_body_util::BodyExt;
use model::{Content, StreamSpec};
use tower::ServiceExt;

const VILLAGE: &str = "990101101001";

fn demo_streams() -> DemoStreams {
    DemoStreams {
        rtsp_base: "rtsp://127.0.0.1:8554".into(),
        multicast: "udp://239.255.10.1:5004".into(),
    }
}

#[test]
fn the_demo_streams_reach_the_village_feed() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_test(dir.path()).unwrap();
    seed::seed_demo(&db).unwrap();
    let n = seed_streams(&db, &demo_streams(), 1_800_000_000).unwrap();
    assert_eq!(n, 12);
    let chain = db.scope_chain(&VILLAGE.parse().unwrap()).unwrap();
    let headend::db::FeedAnswer::Page { page, .. } = db.feed(&chain, 0, 1000).unwrap() else {
        panic!("stale cursor from zero")
    };
    let kinds = |k: &str| {
        page.upserts
            .iter()
            .filter(|i| i.content.kind() == k)
            .count()
    };
    // 4 village cameras + 2 town cameras; 3 broadcasts; 3 videos.
    assert_eq!((kinds("camera"), kinds("live"), kinds("video")), (6, 3, 3));
    let grid = page
        .upserts
        .iter()
        .find(|i| i.id == "camera-dongpo-1")
        .unwrap();
    let Content::Camera(c) = &grid.content else {
        panic!("not a camera")
    };
    assert_eq!(c.stream.url, "rtsp://127.0.0.1:8554/hall1");
    assert_eq!(
        c.sub_stream.as_ref().unwrap().url,
        "rtsp://127.0.0.1:8554/hall1/sub"
    );
}

#[test]
fn bad_stream_addresses_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_test(dir.path()).unwrap();
    seed::seed_demo(&db).unwrap();
    for (url, why) in [
        ("ftp://10.0.0.1/cam", "scheme"),
        ("udp://10.0.0.1:5004", "multicast"),
        ("udp://239.255.1.1", "udp://group:port"),
    ] {
        let mut item = stream_items(&demo_streams(), 1_800_000_000).remove(0);
        item.id = "camera-bad".into();
        if let Content::Camera(c) = &mut item.content {
            c.stream = StreamSpec::new(url);
        }
        let err = db.publish(&[item]).unwrap_err().to_string();
        assert!(err.contains(why), "{url}: {err}");
        assert!(err.contains("camera-bad"), "{err}");
    }
}

async fn get(media: &std::path::Path, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    let resp = app_with(
        db,
        std::sync::Arc::new(Hub::new()),
        Some(media.to_path_buf()),
    )
    .oneshot(Request::get(uri).body(Body::empty()).unwrap())
    .await
    .unwrap();
    let status = resp.status();
    let kind = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, kind, body)
}

#[tokio::test]
async fn hls_files_are_served_from_the_media_directory_only() {
    let root = tempfile::tempdir().unwrap();
    let media = root.path().join("media");
    std::fs::create_dir_all(media.join("vod/a")).unwrap();
    std::fs::write(media.join("vod/a/index.m3u8"), "#EXTM3U\n#EXT-X-ENDLIST\n").unwrap();
    std::fs::write(media.join("vod/a/segment00000.ts"), [0x47u8; 188]).unwrap();
    std::fs::write(root.path().join("secret.txt"), "no").unwrap();

    let (status, kind, body) = get(&media, "/media/vod/a/index.m3u8").await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::OK, "application/vnd.apple.mpegurl")
    );
    assert!(String::from_utf8(body).unwrap().contains("#EXT-X-ENDLIST"));
    let (status, kind, body) = get(&media, "/media/vod/a/segment00000.ts").await;
    assert_eq!(
        (status, kind.as_str(), body.len()),
        (StatusCode::OK, "video/mp2t", 188)
    );
    for uri in [
        "/media/vod/missing/index.m3u8",
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
    ] {
        let (status, _, body) = get(&media, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!String::from_utf8_lossy(&body).contains("no\n"));
    }
}
