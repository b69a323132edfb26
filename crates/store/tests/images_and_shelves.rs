//! Images in cache.db (checked, capped, evicted least recently used) and the
//! honours and 便民信息 shelves, on real files.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use model::{
    Content, FeedItem, FeedPage, Honour, HonourKind, Info, InfoPage, InfoTopic, RankEntry, Ranking,
    Tombstone,
};
use sha2::{Digest, Sha256};
use store::{BlobState, Cache, Shelf, StoreError};

const VILLAGE: &str = "990101101001";

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn item(id: &str, seq: u64, content: Content) -> FeedItem {
    FeedItem {
        id: id.into(),
        seq,
        scope: VILLAGE.parse().unwrap(),
        published_at: 1_790_000_000 + seq as i64,
        version: 1,
        content,
    }
}

fn honour(name: &str, photo: Option<String>) -> Content {
    Content::Honour(Honour {
        kind: HonourKind::Member,
        name: name.into(),
        award: "2026年度优秀共产党员".into(),
        unit: "石桥村党支部".into(),
        photo,
        citation: "带头修路。".into(),
    })
}

fn apply(cache: &mut Cache, upserts: Vec<FeedItem>, tombstones: Vec<Tombstone>, cursor: u64) {
    cache
        .apply_page(
            &FeedPage {
                upserts,
                tombstones,
                next_cursor: cursor,
                more: false,
            },
            None,
            0,
        )
        .unwrap();
}

fn open() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cache, _) = Cache::open(&dir.path().join("cache.db")).unwrap();
    cache.bind_scope(VILLAGE).unwrap();
    (dir, cache)
}

#[test]
fn photos_are_wanted_until_fetched_and_checked_against_their_id() {
    let (_dir, mut cache) = open();
    let photo = vec![7u8; 1000];
    let id = sha(&photo);
    apply(
        &mut cache,
        vec![item("h1", 1, honour("李秀英", Some(id.clone())))],
        vec![],
        1,
    );
    assert_eq!(cache.missing_blobs(10).unwrap(), vec![id.clone()]);
    assert_eq!(cache.blob(&id).unwrap(), BlobState::Pending);

    let err = cache.put_blob(&id, &[1, 2, 3], u64::MAX).unwrap_err();
    assert!(matches!(err, StoreError::BlobMismatch { .. }), "{err}");
    let huge = vec![0u8; model::MAX_IMAGE_BYTES + 1];
    let err = cache.put_blob(&sha(&huge), &huge, u64::MAX).unwrap_err();
    assert!(matches!(err, StoreError::BlobTooLarge { .. }), "{err}");
    assert_eq!(
        cache.blob_bytes().unwrap(),
        0,
        "refused images are not stored"
    );

    cache.put_blob(&id, &photo, u64::MAX).unwrap();
    assert_eq!(cache.blob(&id).unwrap(), BlobState::Ready(photo));
    assert!(cache.missing_blobs(10).unwrap().is_empty());

    let gone = sha(b"gone");
    apply(
        &mut cache,
        vec![item("h2", 2, honour("王建国", Some(gone.clone())))],
        vec![],
        2,
    );
    cache.mark_blob_missing(&gone).unwrap();
    assert_eq!(cache.blob(&gone).unwrap(), BlobState::Missing);
    assert!(
        cache.missing_blobs(10).unwrap().is_empty(),
        "404s are not asked again"
    );
}

#[test]
fn the_image_cache_evicts_unused_then_least_recently_used_beyond_its_cap() {
    let (_dir, mut cache) = open();
    let images: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 1000]).collect();
    let ids: Vec<String> = images.iter().map(|b| sha(b)).collect();
    // Items show images 0..3; image 3 belongs to no item.
    let items = (0..3)
        .map(|i| {
            item(
                &format!("h{i}"),
                i as u64 + 1,
                honour("甲", Some(ids[i].clone())),
            )
        })
        .collect();
    apply(&mut cache, items, vec![], 3);
    for (id, bytes) in ids.iter().zip(&images).take(3) {
        assert_eq!(cache.put_blob(id, bytes, 3000).unwrap(), 0);
    }
    // Image 0 was shown most recently; the cap holds three.
    assert!(matches!(cache.blob(&ids[0]).unwrap(), BlobState::Ready(_)));
    assert_eq!(cache.put_blob(&ids[3], &images[3], 3000).unwrap(), 1);
    assert_eq!(cache.blob_bytes().unwrap(), 3000);
    assert_eq!(
        cache.blob(&ids[1]).unwrap(),
        BlobState::Pending,
        "LRU goes first"
    );
    assert!(matches!(cache.blob(&ids[0]).unwrap(), BlobState::Ready(_)));
    // Now image 3 (no item shows it) is the first to go, though newer.
    assert_eq!(cache.put_blob(&ids[1], &images[1], 3000).unwrap(), 1);
    assert_eq!(cache.blob(&ids[3]).unwrap(), BlobState::Pending);

    // A withdrawn item no longer asks for its image.
    apply(
        &mut cache,
        vec![],
        vec![Tombstone {
            id: "h2".into(),
            seq: 4,
        }],
        4,
    );
    cache.put_blob(&ids[3], &images[3], 3000).unwrap();
    assert_eq!(
        cache.blob(&ids[2]).unwrap(),
        BlobState::Pending,
        "h2 was withdrawn"
    );
    assert!(cache.missing_blobs(10).unwrap().is_empty());
}

#[test]
fn honours_and_info_shelves_list_their_items_with_new_marks() {
    let (_dir, mut cache) = open();
    let ranking = Content::Ranking(Ranking {
        title: "党员积分排行".into(),
        period: "2026年10月".into(),
        entries: vec![RankEntry {
            name: "李秀英".into(),
            branch: "石桥村党支部".into(),
            points: 98,
        }],
    });
    let weather = Content::Info(Info {
        title: "石桥村天气预报".into(),
        source: "县气象局".into(),
        page: InfoPage::Weather {
            place: "石桥村".into(),
            days: vec![],
        },
    });
    apply(
        &mut cache,
        vec![
            item("h1", 1, honour("李秀英", None)),
            item("r1", 2, ranking),
            item("h2", 3, honour("王建国", None)),
            item("w1", 4, weather),
        ],
        vec![],
        4,
    );
    assert_eq!(cache.shelf_len(Shelf::Honours).unwrap(), 3);
    let rows = cache.shelf_page(Shelf::Honours, 0, 10).unwrap();
    let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        titles,
        ["党员积分排行", "优秀党员 王建国", "优秀党员 李秀英"]
    );
    assert_eq!(rows[0].period, "2026年10月");
    assert_eq!(cache.shelf_new(Shelf::Honours).unwrap(), 3);
    cache.mark_opened("h1", 1).unwrap();
    assert_eq!(cache.shelf_new(Shelf::Honours).unwrap(), 2);

    assert_eq!(cache.shelf_len(Shelf::Info(InfoTopic::Weather)).unwrap(), 1);
    assert_eq!(cache.shelf_len(Shelf::Info(InfoTopic::Jobs)).unwrap(), 0);
    let rows = cache
        .shelf_page(Shelf::Info(InfoTopic::Weather), 0, 10)
        .unwrap();
    assert_eq!(rows[0].title, "石桥村天气预报");
    assert!(rows[0].new);
}
