//! Publishing 时代先锋 and 便民信息: what the headend refuses (with a message
//! that names the problem, storing nothing) and what the demo publishes.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use headend::{seed, Db, NewItem};
use model::{Content, InfoPage};

const VILLAGE: &str = "990101101001";

fn demo() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_test(dir.path()).unwrap();
    seed::seed_demo(&db).unwrap();
    (dir, db)
}

fn demo_item(id: &str) -> NewItem {
    let (_, items) = seed::demo_content();
    let mut item = items.into_iter().find(|i| i.id == id).unwrap();
    item.id = format!("{id}-edited");
    item
}

/// Publishes `item` expecting a refusal; checks nothing was stored.
fn refused(db: &Db, item: NewItem) -> String {
    let chain = [VILLAGE.parse().unwrap()];
    let head = db.head(&chain).unwrap();
    let err = db.publish(&[item]).unwrap_err().to_string();
    assert_eq!(
        db.head(&chain).unwrap(),
        head,
        "something was stored: {err}"
    );
    err
}

#[test]
fn honours_and_rankings_with_missing_parts_are_refused() {
    let (_dir, db) = demo();

    let mut no_photo = demo_item("honour-wang-jianguo-2026");
    if let Content::Honour(h) = &mut no_photo.content {
        h.photo = Some("ef".repeat(32));
    }
    let err = refused(&db, no_photo);
    assert!(err.contains(&"ef".repeat(32)), "{err}");

    let mut no_name = demo_item("honour-wang-jianguo-2026");
    if let Content::Honour(h) = &mut no_name.content {
        h.name = " ".into();
    }
    let err = refused(&db, no_name);
    assert!(err.contains("name"), "{err}");

    let mut ranking = demo_item("ranking-points-2026-10");
    if let Content::Ranking(r) = &mut ranking.content {
        r.entries[3].name.clear();
    }
    let err = refused(&db, ranking);
    assert!(err.contains("name"), "{err}");

    let mut huge = demo_item("ranking-points-2026-10");
    if let Content::Ranking(r) = &mut huge.content {
        let one = r.entries[0].clone();
        r.entries = vec![one; model::MAX_RANK_ENTRIES + 1];
    }
    let err = refused(&db, huge);
    assert!(err.contains(&model::MAX_RANK_ENTRIES.to_string()), "{err}");
}

#[test]
fn info_pages_with_bad_numbers_are_refused_naming_them() {
    let (_dir, db) = demo();

    for bad in ["3.5元", "abc", "1.234"] {
        let mut prices = demo_item("info-prices-2026-11-22");
        if let Content::Info(i) = &mut prices.content {
            if let InfoPage::Prices { items, .. } = &mut i.page {
                items[2].price = bad.into();
            }
        }
        let err = refused(&db, prices);
        assert!(err.contains("黄豆") && err.contains(bad), "{err}");
    }

    let mut weather = demo_item("info-weather-2026-11-23");
    if let Content::Info(i) = &mut weather.content {
        if let InfoPage::Weather { days, .. } = &mut i.page {
            days[1].low = 15;
        }
    }
    let err = refused(&db, weather);
    assert!(err.contains("11月24日"), "{err}");

    let mut steps = demo_item("info-procedure-dibao");
    if let Content::Info(i) = &mut steps.content {
        if let InfoPage::Procedure { steps, .. } = &mut i.page {
            steps.clear();
        }
    }
    let err = refused(&db, steps);
    assert!(err.contains("steps"), "{err}");
}

#[test]
fn the_demo_publishes_every_honour_kind_and_info_topic_with_photos_served() {
    let (_dir, db) = demo();
    let chain = db.scope_chain(&VILLAGE.parse().unwrap()).unwrap();
    let headend::db::FeedAnswer::Page { page, .. } = db.feed(&chain, 0, 1000).unwrap() else {
        panic!("a fresh cursor is never stale");
    };
    let mut honour_kinds = Vec::new();
    let mut topics = Vec::new();
    let mut rankings = 0;
    for item in &page.upserts {
        match &item.content {
            Content::Honour(h) => {
                honour_kinds.push(h.kind);
                let sha = h.photo.as_deref().unwrap();
                let (content_type, bytes) = db.blob(sha).unwrap().unwrap();
                assert_eq!(content_type, "image/jpeg");
                assert!(seed_photo_matches(sha, &bytes));
            }
            Content::Ranking(_) => rankings += 1,
            Content::Info(i) => topics.push(i.page.topic()),
            _ => {}
        }
    }
    for kind in model::HonourKind::ALL {
        assert!(honour_kinds.contains(&kind), "{kind:?}");
    }
    assert_eq!(topics.len(), model::InfoTopic::ALL.len());
    for topic in model::InfoTopic::ALL {
        assert!(topics.contains(&topic), "{topic:?}");
    }
    assert_eq!(rankings, 1);
}

fn seed_photo_matches(sha: &str, bytes: &[u8]) -> bool {
    use sha2::Digest;
    let got: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    got == sha
}
