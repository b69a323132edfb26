//! 时代先锋 and 便民信息 end to end: the real headend on port 0, the real
//! sync (feed, then photos), cache.db, and the TV rendered headlessly at
//! 720p and 1080p. Asserts what a viewer reads and sees.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use e2e::{box_config, demo_headend_db, screenshot_dir, start_headend, VILLAGE};
use input::RemoteKey::{Back, Digit, Down, Home};
use sync::SyncEvent;
use tv::view::{BlockView, RowKind, TableRowView};
use tv::{Display, HeadlessSession};

/// The middle of the honour card's photo at 720p, as screen fractions.
const PHOTO: (f32, f32, f32, f32) = (0.06, 0.43, 0.10, 0.12);

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t == needle)
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

fn table_rows(view: &tv::View) -> Vec<TableRowView> {
    view.blocks
        .iter()
        .flat_map(|b| match b {
            BlockView::Table { rows, .. } => rows.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn cells(row: &TableRowView) -> Vec<&str> {
    row.cells.iter().map(|(t, _)| t.as_str()).collect()
}

fn synced_session(dir: &std::path::Path) -> (headend::TestServer, HeadlessSession) {
    let server = start_headend(demo_headend_db(dir));
    let config = box_config(&server.url(), &dir.join("box"));
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let synced = tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(&synced, SyncEvent::Synced(r) if r.images >= 5),
        "feed and photos: {synced:?}"
    );
    tv.acknowledge_notices();
    (server, tv)
}

#[test]
fn honours_show_photo_name_and_citation_and_the_ranking_shares_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, mut tv) = synced_session(dir.path());
    assert!(
        !tv.view().tiles[6].badge.is_empty(),
        "new honours are counted on home"
    );

    // Home -> 7: the honours shelf, ranking first, each row marked new.
    tv.press(Digit(7));
    let view = tv.view();
    assert_eq!((view.screen, view.title.as_str()), (2, "时代先锋"));
    assert!(view.rows[0].0.contains("积分"), "{:?}", view.rows);
    assert!(view.row_badges.iter().all(|b| b == "新"));
    shoot_both(&mut tv, "e2e-honours");

    // The ranking: 名次/姓名/所在支部/积分, ties share a rank.
    tv.press(Digit(1));
    let view = tv.view();
    assert_eq!(view.breadcrumb, "时代先锋 › 党员积分");
    let rows = table_rows(&view);
    assert_eq!(cells(&rows[0]), ["名次", "姓名", "所在支部", "积分"]);
    assert_eq!(rows[0].kind, RowKind::Header);
    assert_eq!(cells(&rows[1])[0], "第1名");
    let ranks: Vec<&str> = rows[1..].iter().map(|r| r.cells[0].0.as_str()).collect();
    let shared = ranks.windows(2).any(|w| w[0] == w[1]);
    assert!(shared, "the demo has a tie: {ranks:?}");
    let points: Vec<u32> = rows[1..]
        .iter()
        .map(|r| r.cells[3].0.parse().unwrap())
        .collect();
    assert!(points.windows(2).all(|w| w[0] >= w[1]), "{points:?}");
    let texts = tv.visible_texts();
    assert!(has(&texts, "第1名"), "{texts:?}");
    shoot_both(&mut tv, "e2e-ranking");
    tv.press(Back);

    // An outstanding member: the photo on a card, name, award, citation.
    tv.press(Down);
    tv.press(input::RemoteKey::Ok);
    let view = tv.view();
    assert!(
        view.breadcrumb.starts_with("时代先锋 › "),
        "{}",
        view.breadcrumb
    );
    let Some(BlockView::Profile {
        picture,
        status,
        name,
        lines,
        ..
    }) = view.page_blocks.first()
    else {
        panic!("an honour opens with its card: {:?}", view.page_blocks);
    };
    let picture = picture.as_ref().expect("the photo was fetched and decoded");
    assert_eq!(status, "");
    // Scaled on the box to the 225x300 card (3:4), not the upload's size.
    assert!(picture.width <= 225 && picture.height <= 300, "{picture:?}");
    assert!(
        view.title.ends_with(name.as_str()),
        "{} / {name}",
        view.title
    );
    let texts = tv.visible_texts();
    assert!(has(&texts, name), "{texts:?}");
    assert!(has(&texts, &lines[0]), "the award is shown: {texts:?}");
    assert!(has(&texts, &format!("照片：{name}")), "{texts:?}");
    // The citation starts beside the photo (the demo's first is long
    // enough to continue below it).
    assert!(lines.len() > 2, "citation beside the photo: {lines:?}");
    assert!(has(&texts, &lines[2]), "{texts:?}");
    shoot_both(&mut tv, "e2e-honour");

    // The photo is really on screen: the card's area is not one flat colour.
    let colours = tv.distinct_colours_in(PHOTO.0, PHOTO.1, PHOTO.2, PHOTO.3);
    assert!(colours > 200, "photo area has {colours} colours");

    // Back keeps the row; the opened honour is no longer new.
    tv.press(Back);
    assert_eq!((tv.view().focus, tv.view().row_badges[1].as_str()), (1, ""));
}

#[test]
fn every_info_topic_reads_as_a_structured_page() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, mut tv) = synced_session(dir.path());

    // Home -> 0: the five topics with counts.
    tv.press(Digit(0));
    let view = tv.view();
    assert_eq!((view.screen, view.title.as_str()), (7, "便民信息"));
    let labels: Vec<&str> = view.categories.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["天气预报", "农产品价格", "招工信息", "政策指南", "办事指南"]
    );
    assert!(
        view.categories.iter().all(|(_, n)| n != "共 0 条"),
        "{:?}",
        view.categories
    );
    shoot_both(&mut tv, "e2e-info-topics");

    // 天气预报: a table of days, never low above high.
    tv.press(Digit(1));
    assert_eq!(tv.view().breadcrumb, "便民信息");
    tv.press(Digit(1));
    let view = tv.view();
    assert_eq!(view.breadcrumb, "便民信息 › 天气预报");
    let rows = table_rows(&view);
    assert_eq!(cells(&rows[0]), ["日期", "天气", "气温", "风力"]);
    assert!(rows.len() >= 4, "{rows:?}");
    assert!(rows[1..].iter().all(|r| r.cells[2].0.ends_with('℃')));
    shoot_both(&mut tv, "e2e-info-weather");
    tv.press(Back);
    tv.press(Back);

    // 农产品价格: exact prices and the change since the last quote.
    tv.press(Digit(2));
    tv.press(Digit(1));
    let view = tv.view();
    let rows = table_rows(&view);
    assert_eq!(cells(&rows[0]), ["品名", "今日价格", "单位", "比上期"]);
    let changes: Vec<&str> = rows[1..].iter().map(|r| r.cells[3].0.as_str()).collect();
    for word in ["涨 ", "跌 ", "持平"] {
        assert!(
            changes.iter().any(|c| c.starts_with(word)),
            "{word}: {changes:?}"
        );
    }
    for r in &rows[1..] {
        let price = &r.cells[1].0;
        assert!(
            price.split_once('.').is_some_and(|(_, fen)| fen.len() == 2),
            "price to the fen: {price}"
        );
    }
    let texts = tv.visible_texts();
    assert!(has(&texts, &rows[1].cells[1].0), "{texts:?}");
    shoot_both(&mut tv, "e2e-info-prices");
    tv.press(Back);
    tv.press(Back);

    // 招工信息, 政策指南, 办事指南: numbered paragraphs.
    for (digit, first_words, name) in [
        (3, "1. ", "jobs"),
        (4, "", "policy"),
        (5, "办理地点：", "procedure"),
    ] {
        tv.press(Digit(digit));
        tv.press(Digit(1));
        let view = tv.view();
        let paragraphs: Vec<&str> = view
            .blocks
            .iter()
            .filter_map(|b| match b {
                BlockView::Paragraph(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(paragraphs.len() >= 3, "{name}: {paragraphs:?}");
        assert!(
            paragraphs[0].starts_with(first_words),
            "{name}: {paragraphs:?}"
        );
        if name != "jobs" {
            assert!(
                paragraphs.iter().any(|p| p.starts_with("1. ")),
                "{name} numbered"
            );
        }
        if name == "procedure" {
            assert!(
                paragraphs.iter().any(|p| p.starts_with("第1步")),
                "{paragraphs:?}"
            );
        }
        let texts = tv.visible_texts();
        assert!(has(&texts, paragraphs[0]), "{name}: {texts:?}");
        shoot_both(&mut tv, &format!("e2e-info-{name}"));
        tv.press(Back);
        tv.press(Back);
    }
    tv.press(Home);
}

#[test]
fn a_photo_not_fetched_yet_or_lost_shows_a_placeholder_not_a_blank_card() {
    use model::{Content, FeedItem, FeedPage, Honour, HonourKind};
    let dir = tempfile::tempdir().unwrap();
    let server = start_headend(demo_headend_db(dir.path()));
    let config = box_config(&server.url(), &dir.path().join("box"));

    // A cache that has the honour but not its photo yet (the box was
    // switched off between the feed and the photos).
    let honour = |photo: &str| {
        Content::Honour(Honour {
            kind: HonourKind::Household,
            name: "周家".into(),
            award: "2026年度文明家庭".into(),
            unit: "东坡村".into(),
            photo: Some(photo.into()),
            citation: "孝老爱亲，邻里和睦。".into(),
        })
    };
    // And one whose photo the headend no longer has (it answered 404).
    let lost = "cd".repeat(32);
    {
        let (mut cache, _) = tv::open_storage(&config).unwrap();
        cache.bind_scope(VILLAGE).unwrap();
        let item = |id: &str, seq: u64, photo: &str| FeedItem {
            id: id.into(),
            seq,
            scope: VILLAGE.parse().unwrap(),
            published_at: 1_790_000_000 - seq as i64,
            version: 1,
            content: honour(photo),
        };
        let page = FeedPage {
            upserts: vec![
                item("household-zhou", 1, &"ab".repeat(32)),
                item("household-wu", 2, &lost),
            ],
            tombstones: vec![],
            next_cursor: 2,
            more: false,
        };
        cache.apply_page(&page, None, 1_790_000_000).unwrap();
        cache.mark_blob_missing(&lost).unwrap();
    }
    let mut tv = HeadlessSession::start(&config, false).unwrap();
    tv.press(Digit(7));
    tv.press(Digit(1));
    let texts = tv.visible_texts();
    assert!(has(&texts, "照片加载中…"), "{texts:?}");
    assert!(has(&texts, "周家"), "{texts:?}");
    assert!(
        has(&texts, "孝老爱亲，邻里和睦。"),
        "a short citation sits beside the photo"
    );
    assert_eq!(tv.view().page_text, "", "and needs no second page");
    let colours = tv.distinct_colours_in(PHOTO.0, PHOTO.1, PHOTO.2, PHOTO.3);
    assert!(colours < 5, "a flat placeholder, not a picture: {colours}");
    shoot_both(&mut tv, "e2e-honour-photo-loading");
    tv.press(Back);
    tv.press(Digit(2));
    let texts = tv.visible_texts();
    assert!(has(&texts, "照片缺失"), "{texts:?}");
}
