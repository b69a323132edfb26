//! cache.db and outbox.db on real files.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use model::{
    Block, Content, Disclosure, DisclosureCategory, FeedItem, FeedPage, Notice, Tombstone,
};
use store::{Cache, OpenOutcome, Outbox};

const VILLAGE: &str = "990101101001";

fn disclosure(
    id: &str,
    seq: u64,
    category: DisclosureCategory,
    module: &str,
    title: &str,
) -> FeedItem {
    FeedItem {
        id: id.into(),
        seq,
        scope: VILLAGE.parse().unwrap(),
        published_at: 1_790_000_000 + seq as i64,
        version: 1,
        content: Content::Disclosure(Disclosure {
            category,
            module: module.into(),
            title: title.into(),
            period: "2026年10月".into(),
            body: vec![Block::Paragraph {
                text: "正文".into(),
            }],
            corrections: vec![],
        }),
    }
}

fn page(
    upserts: Vec<FeedItem>,
    tombstones: Vec<Tombstone>,
    next_cursor: u64,
    more: bool,
) -> FeedPage {
    FeedPage {
        upserts,
        tombstones,
        next_cursor,
        more,
    }
}

#[test]
fn pages_apply_with_their_cursor_and_tombstones_remove_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let (mut cache, outcome) = Cache::open(&path).unwrap();
    assert_eq!(outcome, OpenOutcome::Opened);
    cache.bind_scope(VILLAGE).unwrap();
    let stats = cache
        .apply_page(
            &page(
                vec![
                    disclosure(
                        "a",
                        1,
                        DisclosureCategory::Finance,
                        "收支情况",
                        "三季度收支",
                    ),
                    disclosure("b", 2, DisclosureCategory::Party, "党费缴纳", "党费"),
                ],
                vec![],
                2,
                true,
            ),
            None,
            100,
        )
        .unwrap();
    assert_eq!(stats.upserted, 2);
    let state = cache.sync_state().unwrap();
    assert_eq!((state.cursor, state.last_synced), (2, None));

    cache
        .apply_page(
            &page(
                vec![],
                vec![Tombstone {
                    id: "b".into(),
                    seq: 3,
                }],
                3,
                false,
            ),
            Some("\"t\""),
            200,
        )
        .unwrap();
    drop(cache);

    // Reopen: what was applied is there, with the cursor that goes with it.
    let (cache, _) = Cache::open(&path).unwrap();
    let state = cache.sync_state().unwrap();
    assert_eq!(state.cursor, 3);
    assert_eq!(state.etag.as_deref(), Some("\"t\""));
    assert_eq!(state.last_synced, Some(200));
    let finance = cache.disclosures(DisclosureCategory::Finance).unwrap();
    assert_eq!(finance[0].title, "三季度收支");
    assert!(cache
        .disclosures(DisclosureCategory::Party)
        .unwrap()
        .is_empty());
    let item = cache.item("a").unwrap().unwrap();
    assert_eq!(item.content.title(), "三季度收支");
}

#[test]
fn a_full_refetch_keeps_old_items_visible_then_sweeps_the_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cache, _) = Cache::open(&dir.path().join("cache.db")).unwrap();
    cache.bind_scope(VILLAGE).unwrap();
    cache
        .apply_page(
            &page(
                vec![
                    disclosure("keep", 1, DisclosureCategory::Village, "低保户", "低保"),
                    disclosure("gone", 2, DisclosureCategory::Village, "其他事项", "已撤回"),
                ],
                vec![],
                2,
                false,
            ),
            None,
            1,
        )
        .unwrap();
    cache.restart_from_zero().unwrap();
    assert!(cache.sync_state().unwrap().refetching);
    cache
        .apply_page(
            &page(
                vec![disclosure(
                    "keep",
                    5,
                    DisclosureCategory::Village,
                    "低保户",
                    "低保",
                )],
                vec![],
                5,
                true,
            ),
            None,
            2,
        )
        .unwrap();
    assert_eq!(
        cache.item_count().unwrap(),
        2,
        "old items stay until the refetch ends"
    );
    let stats = cache
        .apply_page(&page(vec![], vec![], 5, false), None, 3)
        .unwrap();
    assert_eq!(stats.swept, 1);
    assert!(cache.item("gone").unwrap().is_none());
    assert!(!cache.sync_state().unwrap().refetching);
}

#[test]
fn binding_another_village_empties_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cache, _) = Cache::open(&dir.path().join("cache.db")).unwrap();
    cache.bind_scope(VILLAGE).unwrap();
    cache
        .apply_page(
            &page(
                vec![disclosure(
                    "a",
                    1,
                    DisclosureCategory::Finance,
                    "收支情况",
                    "x",
                )],
                vec![],
                1,
                false,
            ),
            None,
            1,
        )
        .unwrap();
    cache.bind_scope(VILLAGE).unwrap();
    assert_eq!(cache.item_count().unwrap(), 1);
    cache.bind_scope("990101102003").unwrap();
    assert_eq!(cache.item_count().unwrap(), 0);
    assert_eq!(cache.sync_state().unwrap().cursor, 0);
}

#[test]
fn notices_and_unknown_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cache, _) = Cache::open(&dir.path().join("cache.db")).unwrap();
    let notice = FeedItem {
        id: "n".into(),
        seq: 1,
        scope: "990101000000".parse().unwrap(),
        published_at: 5,
        version: 1,
        content: Content::Notice(Notice {
            title: "紧急通知".into(),
            issuer: "县应急局".into(),
            urgent: true,
            body: vec![],
        }),
    };
    let mut future = notice.clone();
    future.id = "f".into();
    future.content = Content::Unsupported;
    cache
        .apply_page(&page(vec![notice, future], vec![], 2, false), None, 1)
        .unwrap();
    let notices = cache.notices().unwrap();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].urgent);
    assert_eq!(cache.item_count().unwrap(), 1);
}

#[test]
fn a_corrupt_cache_is_rebuilt_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    std::fs::write(
        &path,
        b"this is not a database, it is what a power cut left behind",
    )
    .unwrap();
    let (mut cache, outcome) = Cache::open(&path).unwrap();
    assert!(
        matches!(outcome, OpenOutcome::Rebuilt { .. }),
        "{outcome:?}"
    );
    assert_eq!(cache.item_count().unwrap(), 0);
    cache.bind_scope(VILLAGE).unwrap();
    assert_eq!(cache.sync_state().unwrap().cursor, 0);
}

#[test]
fn a_cache_with_a_damaged_page_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        let (mut cache, _) = Cache::open(&path).unwrap();
        let items = (0..400)
            .map(|n| {
                disclosure(
                    &format!("i{n}"),
                    n + 1,
                    DisclosureCategory::Finance,
                    "收支情况",
                    &"很长的标题".repeat(20),
                )
            })
            .collect();
        cache
            .apply_page(&page(items, vec![], 400, false), None, 1)
            .unwrap();
    }
    // Checkpoint is done on close; scribble over a b-tree page in the middle.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8 * 4096);
    for b in &mut bytes[3 * 4096..5 * 4096] {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    let (cache, outcome) = Cache::open(&path).unwrap();
    assert!(
        matches!(outcome, OpenOutcome::Rebuilt { .. }),
        "{outcome:?}"
    );
    assert_eq!(cache.item_count().unwrap(), 0);
}

#[test]
fn outbox_keeps_actions_until_acknowledged_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let (k1, k2) = {
        let mut outbox = Outbox::open(&path, 1).unwrap();
        let k1 = outbox
            .enqueue(
                "sign_in",
                &serde_json::json!({"roll_call": 7, "member": "m1"}),
                10,
            )
            .unwrap();
        let k2 = outbox
            .enqueue(
                "request",
                &serde_json::json!({"category": "农业技术服务"}),
                11,
            )
            .unwrap();
        assert_ne!(k1, k2);
        (k1, k2)
    };
    let mut outbox = Outbox::open(&path, 2).unwrap();
    let pending = outbox.pending(10).unwrap();
    assert_eq!(
        pending.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        [k1.as_str(), k2.as_str()]
    );
    assert_eq!(pending[0].payload["roll_call"], 7);
    assert!(outbox.acknowledge(&k1).unwrap());
    assert!(!outbox.acknowledge(&k1).unwrap());
    assert_eq!(outbox.len().unwrap(), 1);
}

#[test]
fn a_damaged_outbox_is_moved_aside_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    std::fs::write(
        &path,
        b"garbage that is not sqlite at all, not even close......",
    )
    .unwrap();
    let outbox = Outbox::open(&path, 42).unwrap();
    assert!(outbox.is_empty().unwrap());
    let aside = dir.path().join("outbox.db.damaged-42");
    assert!(aside.exists());
    assert!(std::fs::read(aside).unwrap().starts_with(b"garbage"));
}
