//! Workbooks written with rust_xlsxwriter the way accountants lay them
//! out, read back: good files, wrong types, merged cells, totals that do
//! not add up, an empty sheet, GBK CSV and a 5 MB file.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use rust_xlsxwriter::{Format, Workbook, Worksheet};
use sheets::{read_csv, read_xlsx, SheetsError};

/// 补贴发放明细 with a merged title row, two households and the 合计.
fn subsidy_sheet(sheet: &mut Worksheet, li: f64, total: f64) {
    sheet
        .merge_range(
            0,
            0,
            0,
            2,
            "东坡村2026年11月种粮补贴发放明细",
            &Format::new(),
        )
        .unwrap();
    sheet.write_string(1, 0, "户主").unwrap();
    sheet.write_string(1, 1, "面积（亩）").unwrap();
    sheet.write_string(1, 2, "金额（元）").unwrap();
    sheet.write_string(2, 0, "王建国").unwrap();
    sheet.write_number(2, 1, 3.5).unwrap();
    sheet.write_number(2, 2, 320.0).unwrap();
    sheet.write_string(3, 0, "李桂兰").unwrap();
    sheet.write_number(3, 1, 3.0).unwrap();
    sheet.write_number(3, 2, li).unwrap();
    sheet.write_string(4, 0, "合计").unwrap();
    sheet.write_number(4, 2, total).unwrap();
}

fn problems(result: Result<Vec<sheets::SheetTable>, SheetsError>) -> Vec<String> {
    match result {
        Err(SheetsError::Problems(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn a_good_workbook_becomes_one_table_per_sheet() {
    let mut book = Workbook::new();
    subsidy_sheet(book.add_worksheet().set_name("补贴").unwrap(), 280.5, 600.5);
    let income = book.add_worksheet().set_name("收入").unwrap();
    income.write_string(0, 0, "项目").unwrap();
    income.write_string(0, 1, "金额").unwrap();
    income.write_string(1, 0, "上级补助").unwrap();
    income.write_string(1, 1, "1,200.00").unwrap();
    let tables = read_xlsx(&book.save_to_buffer().unwrap()).unwrap();
    assert_eq!(tables.len(), 2);
    let t = &tables[0];
    assert_eq!(t.title.as_deref(), Some("东坡村2026年11月种粮补贴发放明细"));
    assert_eq!(t.table.caption, "东坡村2026年11月种粮补贴发放明细");
    let kinds: Vec<_> = t.table.columns.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            model::ColumnKind::Text,
            model::ColumnKind::Text,
            model::ColumnKind::Money
        ]
    );
    assert_eq!(
        t.table.rows,
        [["王建国", "3.5", "320.00"], ["李桂兰", "3", "280.50"]]
    );
    assert_eq!(t.table.totals.as_ref().unwrap(), &["合计", "", "600.50"]);
    t.table.validate().unwrap();
    t.table.check_totals().unwrap();
    assert_eq!(tables[1].table.role, Some(model::TableRole::Income));
    assert_eq!(tables[1].table.rows, [["上级补助", "1200.00"]]);
}

#[test]
fn wrong_types_merged_cells_bad_totals_and_empty_sheets_are_named_by_cell() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Sheet1").unwrap();
    subsidy_sheet(sheet, 280.5, 700.0);
    sheet.write_string(2, 2, "三百二").unwrap();
    sheet.write_number(3, 2, 280.505).unwrap();
    let merged = book.add_worksheet().set_name("Sheet2").unwrap();
    merged.write_string(0, 0, "户主").unwrap();
    merged.write_string(0, 1, "金额").unwrap();
    merged
        .merge_range(1, 0, 2, 0, "王建国", &Format::new())
        .unwrap();
    merged.write_number(1, 1, 10.0).unwrap();
    merged.write_number(2, 1, 20.0).unwrap();
    book.add_worksheet().set_name("Sheet3").unwrap();
    let found = problems(read_xlsx(&book.save_to_buffer().unwrap()));
    assert_eq!(
        found,
        [
            "Sheet1!C3: 金额格式错误",
            "Sheet1!C4: 金额最多两位小数",
            "Sheet1!C5: 合计 700.00 与上面各行之和 0.00 不符",
            "Sheet2!A2:A3: 合并单元格无法导入，请取消合并、每格填好后再导入",
            "Sheet3: 工作表是空的，没有可导入的内容",
        ]
    );
}

#[test]
fn totals_that_do_not_add_up_name_the_total_cell() {
    let mut book = Workbook::new();
    subsidy_sheet(
        book.add_worksheet().set_name("Sheet1").unwrap(),
        300.5,
        600.5,
    );
    let found = problems(read_xlsx(&book.save_to_buffer().unwrap()));
    assert_eq!(found, ["Sheet1!C5: 合计 600.50 与上面各行之和 620.50 不符"]);
}

#[test]
fn csv_in_gbk_or_utf8_and_files_that_are_not_spreadsheets() {
    let text = "户主,金额（元）\n王建国,320.00\n李桂兰,280.5\n合计,600.50\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    for bytes in [
        text.as_bytes().to_vec(),
        gbk.into_owned(),
        [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
    ] {
        let tables = read_csv("低保名单.csv", &bytes).unwrap();
        assert_eq!(
            tables[0].table.rows,
            [["王建国", "320.00"], ["李桂兰", "280.50"]]
        );
        assert_eq!(tables[0].table.caption, "低保名单.csv");
    }
    let found = problems(read_csv("a.csv", "户主,金额\n王建国,abc\n".as_bytes()));
    assert_eq!(found, ["a.csv!B2: 金额格式错误"]);
    assert!(matches!(
        read_xlsx(b"not a zip file"),
        Err(SheetsError::Unreadable { format: "XLSX", .. })
    ));
}

#[test]
fn a_five_megabyte_list_is_read_whole() {
    let mut csv = String::from("序号,户主,家庭住址,困难类型,备注,金额（元）\n");
    let mut n = 0;
    while csv.len() < 5 * 1024 * 1024 {
        n += 1;
        csv.push_str(&format!(
            "{n},户主{n},青山县青石镇东坡村第{}组{}号,因病致贫,{},{}.{:02}\n",
            n % 12 + 1,
            n,
            "家中有长期病人需要照顾，收入来源单一，已核实。".repeat(8),
            300 + n % 500,
            n % 100
        ));
    }
    let tables = read_csv("低保名单.csv", csv.as_bytes()).unwrap();
    assert_eq!(tables[0].table.rows.len(), n);
    assert!(n < sheets::MAX_ROWS);
}
