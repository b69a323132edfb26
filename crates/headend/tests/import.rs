//! Spreadsheet import over HTTP: a village accountant's workbook becomes a
//! draft for review; a file with problems is answered with every problem
//! by sheet and cell and nothing is stored; a 5 MB list goes through.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use common::{demo_admin_token, login, upload};
use headend::db::{NewAccount, Role};
use headend::{seed, Db, TestServer};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

const DONGPO: &str = "990101101001";

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    db.create_account(
        &NewAccount {
            username: "dongpo-accountant".into(),
            display_name: "东坡村会计".into(),
            region: DONGPO.parse().unwrap(),
            role: Role::Editor,
            password: "correct-horse-42".into(),
        },
        None,
        0,
    )
    .unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let token = login(server.addr, "dongpo-accountant", "correct-horse-42").unwrap();
    (dir, db, server, token)
}

fn workbook(li: f64, total: f64) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Sheet1").unwrap();
    sheet
        .merge_range(
            0,
            0,
            0,
            1,
            "东坡村2026年11月种粮补贴发放明细",
            &Format::new(),
        )
        .unwrap();
    sheet.write_string(1, 0, "户主").unwrap();
    sheet.write_string(1, 1, "金额（元）").unwrap();
    sheet.write_string(2, 0, "王建国").unwrap();
    sheet.write_number(2, 1, 320.0).unwrap();
    sheet.write_string(3, 0, "李桂兰").unwrap();
    sheet.write_number(3, 1, li).unwrap();
    sheet.write_string(4, 0, "合计").unwrap();
    sheet.write_number(4, 1, total).unwrap();
    book.save_to_buffer().unwrap()
}

const PATH: &str = "/api/v1/admin/import?scope=990101101001&category=finance&module=%E8%A1%A5%E5%8A%A9%E8%B5%84%E9%87%91&period=2026%E5%B9%B411%E6%9C%88";

fn drafts(server: &TestServer) -> usize {
    let (_, text) = common::call(
        server.addr,
        "GET",
        &format!("/api/v1/admin/content?region={DONGPO}"),
        None,
    );
    serde_json::from_str::<Vec<Value>>(&text).unwrap().len()
}

#[test]
fn a_workbook_becomes_a_draft_and_a_bad_one_stores_nothing() {
    let (_dir, _db, server, token) = demo();
    let (code, body) = upload(
        server.addr,
        &token,
        &format!("{PATH}&format=xlsx"),
        &workbook(280.5, 600.5),
    );
    assert_eq!(code, 201, "{body}");
    let draft: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["author"], "dongpo-accountant");
    assert_eq!(
        draft["content"]["title"],
        "东坡村2026年11月种粮补贴发放明细"
    );
    assert_eq!(draft["content"]["body"][0]["rows"][1][1], "280.50");
    assert_eq!(drafts(&server), 1);

    // Totals that do not add up: every problem named, nothing stored.
    let (code, body) = upload(
        server.addr,
        &token,
        &format!("{PATH}&format=xlsx"),
        &workbook(300.5, 600.5),
    );
    assert_eq!(code, 400, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["lines"][0],
        "Sheet1!B5: 合计 600.50 与上面各行之和 620.50 不符"
    );
    assert_eq!(answer["problems"][0]["cell"], "B5");
    assert_eq!(drafts(&server), 1, "nothing stored from a file with errors");

    // Not a workbook at all; another village; a reader cannot import.
    let (code, body) = upload(
        server.addr,
        &token,
        &format!("{PATH}&format=xlsx"),
        b"PK-not-really",
    );
    assert_eq!(code, 400, "{body}");
    let other = PATH.replace(DONGPO, "990101101002");
    let (code, _) = upload(
        server.addr,
        &token,
        &format!("{other}&format=xlsx"),
        &workbook(280.5, 600.5),
    );
    assert_eq!(code, 403);
    assert_eq!(drafts(&server), 1);
}

#[test]
fn a_five_megabyte_csv_list_is_imported_whole() {
    let (_dir, _db, server, _) = demo();
    let mut csv = String::from("序号,户主,家庭住址,困难类型,备注,金额（元）\n");
    let mut n = 0;
    while csv.len() < 5 * 1024 * 1024 {
        n += 1;
        csv.push_str(&format!(
            "{n},户主{n},青山县青石镇东坡村第{}组,因病致贫,{},{}.00\n",
            n % 12 + 1,
            "家中有长期病人需要照顾，收入来源单一，已核实。".repeat(8),
            300 + n % 500
        ));
    }
    let path = "/api/v1/admin/import?scope=990101101001&category=village&module=%E4%BD%8E%E4%BF%9D%E6%88%B7&period=2026%E5%B9%B411%E6%9C%88&format=csv&name=%E4%BD%8E%E4%BF%9D%E5%90%8D%E5%8D%95.csv&title=%E4%BD%8E%E4%BF%9D%E5%90%8D%E5%8D%95";
    let (code, body) = upload(
        server.addr,
        &demo_admin_token(server.addr, false),
        path,
        csv.as_bytes(),
    );
    assert_eq!(code, 201, "{}", &body[..body.len().min(500)]);
    let draft: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        draft["content"]["body"][0]["rows"]
            .as_array()
            .unwrap()
            .len(),
        n
    );
}
