//! Spreadsheet import as an attacker with an editor account tries it: the
//! 1.6 KB workbook that claims cell XFD1048576 (it used to abort the
//! headend allocating 512 GiB), a 16 MB CSV, and random multipart and
//! form bodies at the console. Each is refused by sheet and cell, nothing
//! is stored, and the headend keeps answering.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;
#[path = "common/console.rs"]
mod console;

use std::sync::Arc;

use console::{account, multipart_body, Console, PASSWORD};
use headend::db::Role;
use headend::{app, seed, Db, TestServer};
use proptest::prelude::*;
use rust_xlsxwriter::Workbook;

const DONGPO: &str = "990101101001";
const IMPORT: &str = "/api/v1/admin/import?scope=990101101001&category=finance&module=%E8%A1%A5%E5%8A%A9%E8%B5%84%E9%87%91&period=2026%E5%B9%B411%E6%9C%88";
const XLSX: &str = "&format=xlsx";

fn demo() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    account(&db, "dongpo-editor", DONGPO, Role::Editor);
    (dir, db)
}

/// The attack file: `A1` and `XFD1048576`, nothing between.
fn whole_grid_workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Sheet1").unwrap();
    sheet.write_string(0, 0, "户主").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    book.save_to_buffer().unwrap()
}

fn drafts(db: &Db) -> usize {
    db.drafts_under(&DONGPO.parse().unwrap(), None)
        .unwrap()
        .len()
}

#[test]
fn the_whole_grid_workbook_is_refused_and_the_headend_keeps_answering() {
    let (_dir, db) = demo();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let token = common::login(server.addr, "dongpo-editor", PASSWORD).unwrap();
    let before = drafts(&db);
    let file = whole_grid_workbook();
    assert!(file.len() < 8 * 1024);
    let (status, body) = common::upload(server.addr, &token, &format!("{IMPORT}{XLSX}"), &file);
    assert_eq!(status, 400, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let problems = answer["problems"].to_string();
    assert!(problems.contains("XFD1048576"), "{body}");
    assert!(problems.contains("Sheet1"), "{body}");
    assert_eq!(drafts(&db), before, "nothing is stored");
    // Still alive and serving.
    let (status, _) = common::call_as(server.addr, None, "GET", "/api/v1/regions", None);
    assert_eq!(status, 200);

    // A 16 MB CSV: refused by its first row past the limit, nothing stored.
    let mut csv = String::from("户主,金额（元）\n");
    while csv.len() < 16 * 1024 * 1024 - 64 {
        csv.push_str("王建国,320.00\n");
    }
    let csv_import = format!("{IMPORT}&format=csv");
    let (status, body) = common::upload(server.addr, &token, &csv_import, csv.as_bytes());
    assert_eq!(status, 400, "{}", &body[..body.len().min(400)]);
    assert!(
        body.contains("超出了可导入的范围"),
        "{}",
        &body[..body.len().min(400)]
    );
    assert_eq!(drafts(&db), before);
    let (status, _) = common::call_as(server.addr, None, "GET", "/api/v1/regions", None);
    assert_eq!(status, 200);
}

fn import_fields(csrf: &str) -> Vec<(&str, &str)> {
    vec![
        ("csrf", csrf),
        ("scope", DONGPO),
        ("category", "finance"),
        ("module", "补助资金"),
        ("period", "2026年11月"),
        ("title", "导入的补贴"),
    ]
}

#[tokio::test]
async fn the_console_import_page_refuses_it_too() {
    let (_dir, db) = demo();
    let router = app(db.clone());
    let editor = Console::login(&router, "dongpo-editor", PASSWORD, "/console/import").await;
    let before = drafts(&db);
    let body = multipart_body(
        &import_fields(&editor.csrf),
        Some(("file", "补贴.xlsx", &whole_grid_workbook())),
    );
    let page = editor.post_multipart("/console/import", body).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("XFD1048576"), "{}", page.body);
    assert_eq!(drafts(&db), before);
}

/// Random damage to a good multipart body.
fn damage(bytes: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, kind, value) in edits {
        if out.is_empty() {
            break;
        }
        let at = at % out.len();
        match kind % 4 {
            0 => out[at] = value,
            1 => {
                out.remove(at);
            }
            2 => out.truncate(at),
            _ => out.insert(at, value),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the browser (or an attacker posing as one) sends, the
    /// console answers with a page, never a crash or an internal error, and
    /// stores a draft only from a whole, valid form.
    #[test]
    fn damaged_multipart_never_crashes_the_console(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
        target in 0usize..2,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (_dir, db) = shared();
            let router = app(db.clone());
            let editor = Console::login(&router, "dongpo-editor", PASSWORD, "/console/import").await;
            let csv = "户主,金额\n王建国,320.00\n合计,320.00\n".as_bytes();
            let body = multipart_body(&import_fields(&editor.csrf), Some(("file", "补贴.csv", csv)));
            let path = ["/console/import", "/console/content/new"][target];
            let page = editor.post_multipart(path, damage(&body, &edits)).await;
            prop_assert!(page.status < 500, "{} {}", page.status, page.body);
            Ok(())
        })?;
    }

    /// The form decoder takes any bytes.
    #[test]
    fn arbitrary_forms_never_crash_the_login(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (_dir, db) = shared();
            let router = app(db);
            let request = axum::http::Request::post("/console/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", "dangjian_login_csrf=abc")
                .body(axum::body::Body::from(bytes))
                .unwrap();
            let page = console::send(&router, request).await;
            prop_assert!(page.status < 500, "{} {}", page.status, page.body);
            Ok(())
        })?;
    }
}

/// One seeded database for every property case (seeding takes a while).
fn shared() -> (Arc<tempfile::TempDir>, Arc<Db>) {
    use std::sync::OnceLock;
    static DEMO: OnceLock<(Arc<tempfile::TempDir>, Arc<Db>)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let (dir, db) = demo();
        (Arc::new(dir), db)
    })
    .clone()
}
