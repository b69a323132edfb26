//! Content that does not fit a screen stays readable: a 200-row table pages
//! with its header on every page and loses no row or fen, a 30-column table
//! is shown in column groups, a very long title wraps in full.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::{box_config, demo_headend_db, screenshot_dir, start_headend, VILLAGE};
use headend::seed::{seed_long_tables, LONG_TABLE_TITLE, WIDE_TABLE_TITLE};
use input::RemoteKey::{ChannelDown, Digit, Home, Ok as OkKey};
use model::Money;
use sync::SyncEvent;
use tv::view::{BlockView, RowKind, TableRowView};
use tv::{Display, HeadlessSession};

fn session(dir: &std::path::Path) -> (HeadlessSession, headend::TestServer) {
    let db = demo_headend_db(dir);
    seed_long_tables(&db, &VILLAGE.parse().unwrap()).unwrap();
    let server = start_headend(db);
    let config = box_config(&server.url(), &dir.join("box"));
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let synced = tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    assert!(matches!(synced, SyncEvent::Synced(_)), "{synced:?}");
    (tv, server)
}

/// Page count from 第 x/N 页.
fn pages(tv: &HeadlessSession) -> usize {
    let text = tv.view().page_text;
    text.rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(" 页")
        .parse()
        .unwrap()
}

fn tables(view: &tv::View) -> Vec<Vec<TableRowView>> {
    view.page_blocks
        .iter()
        .filter_map(|b| match b {
            BlockView::Table { rows, .. } => Some(rows.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_200_row_table_pages_with_its_header_and_keeps_every_row_and_fen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut tv, _server) = session(dir.path());
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(Digit(1));
    tv.press(Digit(3));
    tv.press(Digit(2)); // 补助资金: the ledger is newest
    assert_eq!(tv.view().rows[0].0, LONG_TABLE_TITLE);
    tv.press(OkKey);
    assert_eq!(tv.view().title, LONG_TABLE_TITLE);
    let n = pages(&tv);
    assert!(n > 20, "{n} pages");
    let shots = screenshot_dir();
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&shots.join(format!(
            "e2e-long-table-p1-{}x{}.png",
            display.width, display.height
        )))
        .unwrap();
    }
    tv.set_display(Display::HD);

    let mut households = Vec::new();
    let mut sum = Money::from_fen(0);
    let mut totals = None;
    for page in 1..=n {
        let view = tv.view();
        assert_eq!(view.page_text, format!("第 {page}/{n} 页"));
        for rows in tables(&view) {
            assert_eq!(rows[0].kind, RowKind::Header, "page {page}");
            assert_eq!(rows[0].cells[0].0, "户号");
            for r in &rows[1..] {
                match r.kind {
                    RowKind::Body => {
                        households.push(r.cells[0].0.clone());
                        sum = sum
                            .checked_add(r.cells[3].0.replace(',', "").parse().unwrap())
                            .unwrap();
                    }
                    RowKind::Totals => totals = Some(r.cells[3].0.clone()),
                    RowKind::Header => panic!("a second header on page {page}"),
                }
            }
        }
        if page == n / 2 {
            tv.save_png(&shots.join("e2e-long-table-middle-1280x720.png"))
                .unwrap();
        }
        tv.press(ChannelDown);
    }
    let expected: Vec<String> = (1..=200).map(|i| format!("{i:03}")).collect();
    assert_eq!(households, expected, "every household once, in order");
    assert_eq!(totals.as_deref(), Some(sum.grouped().as_str()));
    tv.press(Home);
}

#[test]
fn a_30_column_table_is_shown_in_column_groups_that_keep_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let (mut tv, _server) = session(dir.path());
    // The demo has an urgent notice; acknowledge it as a viewer would.
    tv.acknowledge_notices();
    tv.press(Digit(1));
    tv.press(Digit(3));
    tv.press(Digit(1)); // 收支情况: the wide table is newest
    tv.press(OkKey);
    assert_eq!(tv.view().title, WIDE_TABLE_TITLE);
    let max = tv::paging::max_columns(1152.0);
    let mut columns = BTreeSet::new();
    let n = pages(&tv);
    for page in 1..=n {
        let view = tv.view();
        for rows in tables(&view) {
            let header = &rows[0];
            assert!(header.cells.len() <= max, "{} columns", header.cells.len());
            assert_eq!(header.cells[0].0, "项目");
            columns.extend(header.cells.iter().map(|c| c.0.clone()));
            let labels: Vec<&str> = rows[1..].iter().map(|r| r.cells[0].0.as_str()).collect();
            assert!(
                labels.contains(&"筹资") || labels.contains(&"合计"),
                "{labels:?}"
            );
        }
        if page == 1 {
            tv.save_png(&screenshot_dir().join("e2e-wide-table-1280x720.png"))
                .unwrap();
        }
        tv.press(ChannelDown);
    }
    assert_eq!(columns.len(), 30, "every column shown: {columns:?}");
    let texts = tv.visible_texts();
    assert!(
        texts.iter().any(|t| t.contains("部分")),
        "the caption says which part: {texts:?}"
    );
}

#[test]
fn standard_mode_shows_more_per_page_and_is_remembered() {
    use input::RemoteKey::Menu;
    let dir = tempfile::tempdir().unwrap();
    let (mut tv, _server) = session(dir.path());
    tv.acknowledge_notices();
    let open_ledger = |tv: &mut HeadlessSession| {
        tv.press(Home);
        for d in [1, 3, 2] {
            tv.press(Digit(d));
        }
        tv.press(OkKey);
        assert_eq!(tv.view().title, LONG_TABLE_TITLE);
        pages(tv)
    };
    let elder = open_ledger(&mut tv);

    // 设置 -> 显示模式: OK switches to 标准模式.
    tv.press(Menu);
    assert_eq!(tv.view().rows[0].0, "显示模式：长辈模式");
    tv.press(OkKey);
    assert_eq!(tv.view().rows[0].0, "显示模式：标准模式");
    tv.save_png(&screenshot_dir().join("e2e-settings-standard-1280x720.png"))
        .unwrap();
    let standard = open_ledger(&mut tv);
    assert!(standard < elder, "standard {standard} pages, elder {elder}");
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&screenshot_dir().join(format!(
            "e2e-long-table-standard-{}x{}.png",
            display.width, display.height
        )))
        .unwrap();
    }
    let config = box_config("http://127.0.0.1:9", &dir.path().join("box"));
    drop(tv);

    // The household's choice survives a restart.
    std::thread::spawn(move || {
        let mut tv = HeadlessSession::start(&config, false).unwrap();
        tv.acknowledge_notices();
        tv.press(Menu);
        assert_eq!(tv.view().rows[0].0, "显示模式：标准模式");
    })
    .join()
    .unwrap();
}
