//! Headend on port 0 -> real sync client -> cache.db in a temp dir -> the TV
//! app rendered headlessly. Asserts what a viewer reads on screen.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use e2e::{box_config, demo_headend_db, screenshot_dir, start_headend};
use input::RemoteKey::{self, Digit, Down, Home, Ok as OkKey};
use sync::SyncEvent;
use tv::{Display, HeadlessSession};

fn has(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t == needle)
}

#[test]
fn synced_home_and_finance_disclosure_show_what_was_published() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_headend(demo_headend_db(dir.path()));
    let config = box_config(&server.url(), &dir.path().join("box"));
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let synced = tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(synced, SyncEvent::Synced(r) if r.upserted == 31),
        "{synced:?}"
    );
    let shots = screenshot_dir();

    // Home: the ten tiles, the village in the header, synced status.
    let texts = tv.visible_texts();
    for tile in [
        "三务公开",
        "通知公告",
        "党群直播",
        "服务视窗",
        "党教园地",
        "视频点播",
        "时代先锋",
        "党风评议",
        "一键服务",
        "便民信息",
    ] {
        assert!(has(&texts, tile), "home lacks {tile}: {texts:?}");
    }
    let view = tv.view();
    assert_eq!(view.region, "青山县 青石镇 东坡村");
    assert!(view.status.starts_with("已同步"), "{}", view.status);
    assert!(!view.offline);
    tv.save_png(&shots.join("e2e-home-1280x720.png")).unwrap();

    // 三务公开 -> categories with counts from the cache.
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(OkKey);
    let texts = tv.visible_texts();
    assert!(has(&texts, "党务公开") && has(&texts, "村务公开") && has(&texts, "财务公开"));
    assert_eq!(
        tv.view().categories,
        [
            ("党务公开".into(), "共 4 条".into()),
            ("村务公开".into(), "共 3 条".into()),
            ("财务公开".into(), "共 5 条".into())
        ]
    );

    // 财务公开: its three modules with counts and "new" marks.
    tv.press(Digit(3));
    let view = tv.view();
    assert_eq!(view.screen, 7);
    assert_eq!(
        view.categories,
        [
            ("收支情况".into(), "共 3 条".into()),
            ("补助资金".into(), "共 1 条".into()),
            ("集体工程项目".into(), "共 1 条".into())
        ]
    );
    assert_eq!(view.card_badges, ["3 条新", "1 条新", "1 条新"]);
    tv.save_png(&shots.join("e2e-finance-modules-1280x720.png"))
        .unwrap();

    // 收支情况: the quarterly income/spending, marked new, scoped 本村.
    tv.press(Digit(1));
    let texts = tv.visible_texts();
    assert!(has(&texts, "东坡村2026年第三季度财务收支公开"), "{texts:?}");
    assert!(has(&texts, "三务公开 › 财务公开"), "{texts:?}");
    assert!(has(&texts, "新"), "{texts:?}");
    assert!(
        tv.view().rows[0].1.starts_with("2026年第三季度 · 本村 · "),
        "{:?}",
        tv.view().rows
    );
    assert!(
        !texts.iter().any(|t| t.contains("河湾村")),
        "another village's content leaked"
    );
    tv.press(OkKey);
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&shots.join(format!(
            "e2e-finance-detail-{}x{}.png",
            display.width, display.height
        )))
        .unwrap();
    }
    tv.set_display(Display::HD);
    let first_page = tv.visible_texts();
    assert!(
        has(&first_page, "东坡村2026年第三季度财务收支公开"),
        "{first_page:?}"
    );
    let pages: usize = tv
        .view()
        .page_text
        .trim_start_matches("第 1/")
        .trim_end_matches(" 页")
        .parse()
        .unwrap();
    assert!(pages > 1, "the quarterly accounts take several pages");
    assert!(
        has(&first_page, &format!("第 1/{pages} 页")),
        "{first_page:?}"
    );
    // Page through with the remote as a viewer would, reading each page;
    // every page that continues a table starts with its header row.
    let mut texts = first_page;
    for page in 2..=pages {
        tv.press(Down);
        tv.render_frame();
        let view = tv.view();
        if let Some(tv::view::BlockView::Table { rows, .. }) = view.page_blocks.first() {
            assert_eq!(rows[0].kind, tv::view::RowKind::Header, "page {page}");
        }
        if page == 2 {
            tv.save_png(&shots.join("e2e-finance-detail-page2-1280x720.png"))
                .unwrap();
        }
        if view
            .page_blocks
            .iter()
            .any(|b| matches!(b, tv::view::BlockView::Trend { .. }))
        {
            for display in [Display::HD, Display::FULL_HD] {
                tv.set_display(display);
                tv.save_png(&shots.join(format!(
                    "e2e-finance-trend-{}x{}.png",
                    display.width, display.height
                )))
                .unwrap();
            }
            tv.set_display(Display::HD);
        }
        texts.extend(tv.visible_texts());
    }
    assert!(has(&texts, &format!("第 {pages}/{pages} 页")), "{texts:?}");
    tv.press(Down);
    assert_eq!(tv.view().detail_page, pages - 1, "stops at the last page");
    // Amounts exactly as published, grouped, to the fen.
    for cell in [
        "收入明细",
        "上级转移支付",
        "86,000.00",
        "集体土地承包费",
        "支出明细",
        "村干部报酬",
        "合计",
    ] {
        assert!(has(&texts, cell), "detail lacks {cell}: {texts:?}");
    }
    let view = tv.view();
    assert_eq!(view.breadcrumb, "三务公开 › 财务公开 › 收支情况");
    // The charts, computed on the box from the income and spending tables.
    let bars: Vec<&tv::view::BarView> = view
        .blocks
        .iter()
        .flat_map(|b| match b {
            tv::view::BlockView::BarChart { bars, .. } => bars.iter().collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(bars.len(), 4 + 5, "one bar per income and spending row");
    assert_eq!(bars[0].label, "上级转移支付");
    assert_eq!(bars[0].value, "86,000.00 元");
    assert!(bars[0].income && !bars[4].income);
    assert!(bars.iter().all(|b| (0.0..=1.0).contains(&b.fraction)));
    assert!(
        bars.iter().any(|b| b.fraction == 1.0),
        "the largest bar is full length"
    );
    let trend = view
        .blocks
        .iter()
        .find_map(|b| match b {
            tv::view::BlockView::Trend { points, .. } => Some(points.clone()),
            _ => None,
        })
        .expect("a trend over the quarters");
    let periods: Vec<&str> = trend.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        periods,
        ["2026年第一季度", "2026年第二季度", "2026年第三季度"]
    );
    assert_eq!(trend[2].income_text, "188,637.66");
    assert!(
        view.meta.starts_with("2026年第三季度 · 本村 · 发布于"),
        "{}",
        view.meta
    );
    let income_total = income_total(&view);
    // 86,000.00 + 45,475.11 + 20,862.22 + 36,300.33, checked by hand.
    for row in ["45,475.11", "20,862.22", "36,300.33"] {
        assert!(has(&texts, row), "detail lacks {row}");
    }
    assert_eq!(income_total, "188,637.66");
    assert!(has(&texts, &income_total));

    // Back returns to the list; the item is no longer new.
    tv.press(RemoteKey::Back);
    assert_eq!((tv.view().screen, tv.view().focus), (2, 0));
    assert_eq!(tv.view().row_badges, ["", "新", "新"]);
    tv.press(RemoteKey::Back);
    assert_eq!(tv.view().card_badges, ["2 条新", "1 条新", "1 条新"]);
    tv.press(Home);
    assert_eq!(tv.view().screen, 0);
}

fn income_total(view: &tv::View) -> String {
    for block in &view.blocks {
        if let tv::view::BlockView::Table {
            caption,
            rows,
            warning,
        } = block
        {
            if caption == "收入明细" {
                assert!(warning.is_empty(), "totals flagged as wrong: {warning}");
                let last = rows.last().unwrap();
                assert_eq!(last.kind, tv::view::RowKind::Totals);
                return last.cells[1].0.clone();
            }
        }
    }
    panic!("no income table in {:?}", view.blocks);
}

#[test]
fn keyboard_keys_drive_the_app_through_slint() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_headend(demo_headend_db(dir.path()));
    let config = box_config(&server.url(), &dir.path().join("box"));
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    // Enter opens 三务公开, Right + Enter opens 村务公开, Escape goes back.
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.type_key("\n");
    assert_eq!(tv.view().screen, 1);
    tv.type_key("\u{f703}");
    tv.type_key("\n");
    assert_eq!(tv.view().title, "村务公开");
    tv.type_key("\u{1b}");
    assert_eq!(tv.view().screen, 1);
}
