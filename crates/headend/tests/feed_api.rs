//! The feed and blob API driven through `app()` without a socket.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use headend::{app, seed, Db};
use http_body_util::BodyExt;
use model::{FeedPage, API_VERSION_HEADER};
use tower::ServiceExt;

const VILLAGE: &str = "990101101001";

/// A real PNG; `noisy` makes it incompressible.
pub fn png(width: u32, height: u32, noisy: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    let mut x: u32 = 0x9e37_79b9;
    let pixels: Vec<u8> = (0..width * height * 3)
        .map(|i| {
            if noisy {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            } else {
                (i / (width * 3 * 40)) as u8 ^ 0x80
            }
        })
        .collect();
    w.write_image_data(&pixels).unwrap();
    drop(w);
    out
}

fn demo_db() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_test(dir.path()).unwrap();
    seed::seed_demo(&db).unwrap();
    (dir, Arc::new(db))
}

async fn get(db: &Arc<Db>, uri: &str, etag: Option<&str>) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut req = Request::get(uri).header(API_VERSION_HEADER, "1");
    if let Some(tag) = etag {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    let resp = app(db.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let tag = resp
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, tag, body)
}

async fn page(db: &Arc<Db>, since: u64, limit: usize) -> (FeedPage, String) {
    let (status, tag, body) = get(
        db,
        &format!("/api/v1/feed?scope={VILLAGE}&since={since}&limit={limit}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    (serde_json::from_slice(&body).unwrap(), tag.unwrap())
}

#[tokio::test]
async fn village_feed_holds_its_own_town_and_county_items_only() {
    let (_dir, db) = demo_db();
    let (first, _) = page(&db, 0, 1000).await;
    assert!(!first.more);
    let scopes: std::collections::BTreeSet<_> =
        first.upserts.iter().map(|i| i.scope.to_string()).collect();
    assert_eq!(
        scopes.into_iter().collect::<Vec<_>>(),
        ["990101000000", "990101101000", VILLAGE]
    );
    // 10 disclosures of its own, 2 county notices, 2 notices of its town,
    // …, and the services content: the county's menu and exam, the town's
    // and the village's questionnaires.
    assert_eq!(first.upserts.len(), 31);
    assert!(first
        .upserts
        .iter()
        .any(|i| i.content.title() == "东坡村2026年第三季度财务收支公开"));
    assert!(!first
        .upserts
        .iter()
        .any(|i| i.content.title().contains("河湾村")));
}

#[tokio::test]
async fn paging_walks_every_change_once_in_order() {
    let (_dir, db) = demo_db();
    let mut since = 0;
    let mut seen = Vec::new();
    loop {
        let (p, _) = page(&db, since, 4).await;
        assert!(p.upserts.len() <= 4);
        seen.extend(p.upserts.iter().map(|i| i.seq));
        since = p.next_cursor;
        if !p.more {
            break;
        }
    }
    assert_eq!(seen.len(), 31);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn withdrawn_items_come_as_tombstones_and_corrections_as_new_versions() {
    let (_dir, db) = demo_db();
    let (all, _) = page(&db, 0, 1000).await;
    let cursor = all.next_cursor;
    let id = format!("{VILLAGE}-party-day-2026-10");
    assert!(db.withdraw(&id).unwrap());
    let (after, _) = page(&db, cursor, 1000).await;
    assert_eq!(after.upserts.len(), 0);
    assert_eq!(after.tombstones.len(), 1);
    assert_eq!(after.tombstones[0].id, id);

    let (_, items) = seed::demo_content();
    db.publish(&items[..1]).unwrap();
    let (again, _) = page(&db, after.next_cursor, 1000).await;
    assert_eq!(again.upserts.len(), 1);
    assert_eq!(again.upserts[0].version, 2);
}

#[tokio::test]
async fn unchanged_feed_answers_304_to_its_etag() {
    let (_dir, db) = demo_db();
    let (p, tag) = page(&db, 0, 1000).await;
    let uri = format!("/api/v1/feed?scope={VILLAGE}&since={}", p.next_cursor);
    let (status, again, body) = get(&db, &uri, Some(&tag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.as_deref(), Some(tag.as_str()));
    assert!(body.is_empty());

    // A change in another village does not disturb this one; one here does.
    let (_, items) = seed::demo_content();
    let other = items
        .iter()
        .find(|i| i.scope.as_str() == "990101101002")
        .unwrap();
    db.publish(std::slice::from_ref(other)).unwrap();
    assert_eq!(get(&db, &uri, Some(&tag)).await.0, StatusCode::NOT_MODIFIED);
    let own = items.iter().find(|i| i.scope.as_str() == VILLAGE).unwrap();
    db.publish(std::slice::from_ref(own)).unwrap();
    assert_eq!(get(&db, &uri, Some(&tag)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn cursor_behind_purged_tombstones_or_ahead_of_server_is_409() {
    let (_dir, db) = demo_db();
    let (p, _) = page(&db, 0, 3).await;
    db.withdraw(&format!("{VILLAGE}-party-day-2026-10"))
        .unwrap();
    let horizon = db
        .head(&db.scope_chain(&VILLAGE.parse().unwrap()).unwrap())
        .unwrap();
    db.purge_tombstones(horizon).unwrap();
    let (status, _, body) = get(
        &db,
        &format!("/api/v1/feed?scope={VILLAGE}&since={}", p.next_cursor),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let err: model::ApiError = serde_json::from_slice(&body).unwrap();
    assert_eq!(err.code, "stale_cursor");
    // since=0 always works: a full refetch needs no tombstones.
    assert_eq!(
        get(&db, &format!("/api/v1/feed?scope={VILLAGE}&since=0"), None)
            .await
            .0,
        StatusCode::OK
    );
    let (status, _, _) = get(
        &db,
        &format!("/api/v1/feed?scope={VILLAGE}&since=999999"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let (_dir, db) = demo_db();
    for (uri, status, words) in [
        (
            "/api/v1/feed?scope=123",
            StatusCode::BAD_REQUEST,
            "12 digits",
        ),
        (
            "/api/v1/feed?scope=990101109009",
            StatusCode::NOT_FOUND,
            "unknown region",
        ),
        (
            "/api/v1/feed?scope=990101101001&limit=5000",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        ("/api/v1/blobs/xyz", StatusCode::BAD_REQUEST, "sha-256"),
    ] {
        let (got, _, body) = get(&db, uri, None).await;
        assert_eq!(got, status, "{uri}");
        let err: model::ApiError = serde_json::from_slice(&body).unwrap();
        assert!(err.message.contains(words), "{uri}: {}", err.message);
    }
    let resp = app(db.clone())
        .oneshot(
            Request::get("/api/v1/health")
                .header(API_VERSION_HEADER, "2")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn blobs_are_served_immutable_by_their_hash() {
    let (_dir, db) = demo_db();
    let bytes = &png(4, 3, false)[..];
    let sha = db.put_image(bytes).unwrap();
    let resp = app(db.clone())
        .oneshot(
            Request::get(format!("/api/v1/blobs/{sha}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/png");
    assert!(resp.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(resp.headers()[API_VERSION_HEADER], "1");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], bytes);
    let missing = "5".repeat(64);
    assert_eq!(
        get(&db, &format!("/api/v1/blobs/{missing}"), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn publishing_a_table_with_wrong_totals_is_refused_naming_the_cell() {
    let (_dir, db) = demo_db();
    let (_, mut items) = seed::demo_content();
    let mut item = items
        .drain(..)
        .find(|i| i.id.ends_with("fin-income-2026q3"))
        .unwrap();
    if let model::Content::Disclosure(d) = &mut item.content {
        for block in &mut d.body {
            if let model::Block::Table(t) = block {
                t.rows[0][1] = "1.00".into();
                break;
            }
        }
    }
    let err = db.publish(&[item]).unwrap_err().to_string();
    assert!(err.contains("cell B6"), "{err}");
}

/// Publishes `item` expecting a refusal; checks nothing was stored.
fn refused(db: &Db, item: headend::NewItem) -> String {
    let chain = [VILLAGE.parse().unwrap()];
    let head = db.head(&chain).unwrap();
    let id = item.id.clone();
    let err = db.publish(&[item]).unwrap_err().to_string();
    assert_eq!(db.head(&chain).unwrap(), head, "{id}: something was stored");
    err
}

fn income_item() -> headend::NewItem {
    let (_, items) = seed::demo_content();
    items
        .into_iter()
        .find(|i| i.id.ends_with("fin-income-2026q3"))
        .unwrap()
}

fn first_table(item: &mut headend::NewItem) -> &mut model::Table {
    match &mut item.content {
        model::Content::Disclosure(d) => d
            .body
            .iter_mut()
            .find_map(|b| match b {
                model::Block::Table(t) => Some(t),
                _ => None,
            })
            .unwrap(),
        _ => panic!("not a disclosure"),
    }
}

fn add_image(item: &mut headend::NewItem, blob: &str) {
    if let model::Content::Disclosure(d) = &mut item.content {
        d.body.push(model::Block::Image {
            blob: blob.into(),
            caption: "工程现场".into(),
        });
    }
}

#[test]
fn publishing_refuses_bad_content_with_clear_errors_and_stores_nothing() {
    let (_dir, db) = demo_db();

    let mut item = income_item();
    first_table(&mut item).rows[1][1] = "12,000.5O".into();
    let err = refused(&db, item);
    assert!(
        err.contains("cell B3") && err.contains("not an amount in yuan"),
        "{err}"
    );

    let mut item = income_item();
    first_table(&mut item).rows[0][1] = "1.5e3".into();
    let err = refused(&db, item);
    assert!(err.contains("cell B2"), "{err}");

    let mut item = income_item();
    if let model::Content::Disclosure(d) = &mut item.content {
        d.module = "收入情况".into();
    }
    let err = refused(&db, item);
    assert!(
        err.contains("module \"收入情况\" does not belong to 财务公开"),
        "{err}"
    );

    let mut item = income_item();
    add_image(&mut item, &"ab".repeat(32));
    let err = refused(&db, item);
    assert!(err.contains("has not been uploaded"), "{err}");
}

#[test]
fn oversize_or_broken_images_are_refused_and_good_ones_can_be_shown() {
    let (_dir, db) = demo_db();
    let big = png(700, 700, true);
    assert!(big.len() > model::MAX_IMAGE_BYTES);
    let err = db.put_image(&big).unwrap_err().to_string();
    assert!(err.contains("the limit is 1048576 bytes"), "{err}");

    let wide = png(2400, 20, false);
    let err = db.put_image(&wide).unwrap_err().to_string();
    assert!(err.contains("2400x20 pixels"), "{err}");

    let err = db
        .put_image(b"GIF89a not what we draw")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a PNG or JPEG"), "{err}");

    // A photo that fits is stored, and an item may then show it.
    let sha = db.put_image(&png(1920, 1080, false)).unwrap();
    let mut item = income_item();
    add_image(&mut item, &sha);
    let published = db.publish(&[item]).unwrap();
    assert_eq!(published[0].version, 2);
}

#[test]
fn demo_seed_is_deterministic() {
    let (a_regions, a) = seed::demo_content();
    let (b_regions, b) = seed::demo_content();
    assert_eq!(a_regions, b_regions);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.id.as_str(), &x.content, x.published_at),
            (y.id.as_str(), &y.content, y.published_at)
        );
    }
    assert_eq!(a_regions.len(), 1 + 2 + 6);
    assert_eq!(
        a.len(),
        2 + 4 + 6 * 12 + 6 + 5,
        "plus 东坡村 honours and 便民信息"
    );
}
