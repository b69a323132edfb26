//! Files made to hurt the reader: a 1.6 KB workbook claiming the whole
//! grid, a zip bomb, a shared-string table that lies about its size, too
//! many sheets, a CSV too wide or too long, and random damage to good
//! files. Each is refused with a message by sheet and cell, never a
//! panic, and reading it stays under a fixed memory bound (measured by a
//! counting allocator).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::io::Write;

use proptest::prelude::*;
use rust_xlsxwriter::Workbook;
use sheets::{read_csv, read_xlsx, SheetsError};

#[global_allocator]
static METER: allocmeter::Meter = allocmeter::Meter::new();

/// What reading any one file may cost: far above the largest legal file's
/// needs, far below what the attacks would take unbounded (512 GiB for the
/// whole-grid workbook).
const MEMORY_BOUND: usize = 256 * 1024 * 1024;

/// The meter counts every thread: tests in this binary run one at a time
/// so one test's input (the bomb's 200 MB) is not counted as another's.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn problems(result: Result<Vec<sheets::SheetTable>, SheetsError>) -> Vec<String> {
    match result {
        Err(SheetsError::Problems(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

/// Reads `bytes` as XLSX under the meter; the result and the peak bytes.
fn read_measured(bytes: &[u8]) -> (Result<Vec<sheets::SheetTable>, SheetsError>, usize) {
    let (result, usage) = METER.measure(|| read_xlsx(bytes));
    (result, usage.peak_above)
}

#[test]
fn a_workbook_claiming_the_whole_grid_is_refused_by_its_dimension() {
    let _serial = serial();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Sheet1").unwrap();
    sheet.write_string(0, 0, "户主").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 8 * 1024, "a tiny file: {} bytes", bytes.len());
    let (result, peak) = read_measured(&bytes);
    let found = problems(result);
    assert!(
        found
            .iter()
            .any(|p| p.contains("Sheet1") && p.contains("XFD1048576")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.contains("请删去")), "{found:?}");
    assert!(peak < MEMORY_BOUND, "peak {peak} bytes");
}

/// A zip holding `members` (name, text) compressed with deflate.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(text).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// The parts of a one-sheet workbook, with `sheet` and `shared` as the
/// worksheet and shared-string XML.
fn workbook_parts(sheet: Vec<u8>, shared: Vec<u8>) -> Vec<u8> {
    let content_types = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    let rels = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let workbook_rels = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    zip_of(&[
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/worksheets/sheet1.xml", &sheet),
        ("xl/sharedStrings.xml", &shared),
    ])
}

fn small_sheet() -> Vec<u8> {
    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>金额（元）</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>王建国</t></is></c><c r="B2"><v>320</v></c></row></sheetData></worksheet>"#.as_bytes().to_vec()
}

#[test]
fn a_zip_bomb_is_refused_after_its_budget() {
    let _serial = serial();
    // 200 MB of spaces inside the worksheet: a few hundred KB on the wire.
    let mut sheet = small_sheet();
    let at = sheet.len() - "</worksheet>".len();
    sheet.splice(at..at, std::iter::repeat_n(b' ', 200 * 1024 * 1024));
    let shared = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>户主</t></si></sst>"#.as_bytes().to_vec();
    let bytes = workbook_parts(sheet, shared);
    assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes", bytes.len());
    let (result, peak) = read_measured(&bytes);
    let found = problems(result);
    assert!(found.iter().any(|p| p.contains("解压后超过")), "{found:?}");
    assert!(peak < MEMORY_BOUND, "peak {peak} bytes");
}

#[test]
fn a_shared_string_table_that_lies_about_its_size_is_refused() {
    let _serial = serial();
    let shared = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>户主</t></si></sst>"#.as_bytes().to_vec();
    let bytes = workbook_parts(small_sheet(), shared);
    let (result, peak) = read_measured(&bytes);
    let found = problems(result);
    assert!(found.iter().any(|p| p.contains("4000000000")), "{found:?}");
    assert!(peak < MEMORY_BOUND, "peak {peak} bytes");
}

#[test]
fn too_many_sheets_are_refused() {
    let _serial = serial();
    let mut book = Workbook::new();
    for i in 0..(sheets::limits::MAX_SHEETS + 1) {
        book.add_worksheet()
            .set_name(format!("S{i}"))
            .unwrap()
            .write_string(0, 0, "x")
            .unwrap();
    }
    let found = problems(read_xlsx(&book.save_to_buffer().unwrap()));
    assert!(found.iter().any(|p| p.contains("个工作表")), "{found:?}");
}

#[test]
fn a_csv_too_wide_or_too_long_is_refused_by_cell() {
    let _serial = serial();
    let wide = format!("{}\n", vec!["金额（元）"; 100].join(","));
    let found = problems(read_csv("宽表", wide.as_bytes()));
    assert!(
        found
            .iter()
            .any(|p| p.contains("宽表") && p.contains("BM1")),
        "the first cell past the last column is named: {found:?}"
    );

    // 16 MB of rows: refused at the first row past the limit, within the
    // memory bound.
    let mut long = String::from("户主,金额（元）\n");
    while long.len() < 16 * 1024 * 1024 {
        long.push_str("王建国,320.00\n");
    }
    let (result, usage) = METER.measure(|| read_csv("长表", long.as_bytes()));
    let found = problems(result);
    let limit_row = sheets::limits::MAX_SHEET_ROWS + 1;
    assert!(
        found.iter().any(|p| p.contains(&format!("A{limit_row}"))),
        "{found:?}"
    );
    assert!(
        usage.peak_above < MEMORY_BOUND,
        "peak {} bytes",
        usage.peak_above
    );
}

#[test]
fn every_problem_past_the_first_two_hundred_is_counted_not_listed() {
    let _serial = serial();
    let mut text = String::from("户主,金额（元）\n");
    for i in 0..1_000 {
        text.push_str(&format!("户{i},不是数字\n"));
    }
    let found = problems(read_csv("Sheet1", text.as_bytes()));
    assert_eq!(found.len(), sheets::limits::MAX_PROBLEMS + 1);
    assert!(
        found.last().unwrap().contains("还有 800 处问题没有列出"),
        "{found:?}"
    );
}

fn good_workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Sheet1").unwrap();
    sheet.write_string(0, 0, "户主").unwrap();
    sheet.write_string(0, 1, "金额（元）").unwrap();
    for r in 1..20u32 {
        sheet.write_string(r, 0, format!("户{r}")).unwrap();
        sheet.write_number(r, 1, f64::from(r) * 10.5).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// A damaged copy of `bytes`: some bytes changed, some cut, some added.
fn damage(bytes: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, kind, value) in edits {
        if out.is_empty() {
            break;
        }
        let at = at % out.len();
        match kind % 4 {
            0 => out[at] = value,
            1 => out[at] ^= 1 << (value % 8),
            2 => out.truncate(at),
            _ => out.insert(at, value),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_workbooks_never_panic_or_blow_memory(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
    ) {
        let _serial = serial();
        let bytes = damage(&good_workbook(), &edits);
        let (_, peak) = read_measured(&bytes);
        prop_assert!(peak < MEMORY_BOUND, "peak {} bytes", peak);
    }

    #[test]
    fn generated_workbooks_never_panic_or_blow_memory(
        cells in proptest::collection::vec((0u32..1_048_576, 0u16..16_384, ".{0,20}", any::<f64>()), 0..40),
        merges in proptest::collection::vec((0u32..100, 0u16..100, 0u32..100, 0u16..100), 0..4),
    ) {
        let _serial = serial();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (row, col, text, number) in &cells {
            if row % 2 == 0 {
                let _ = sheet.write_string(*row, *col, text);
            } else {
                let _ = sheet.write_number(*row, *col, *number);
            }
        }
        // Each merge in its own band of rows: the writer itself panics on
        // some overlapping ranges.
        for (i, (r0, c0, r1, c1)) in merges.into_iter().enumerate() {
            let band = i as u32 * 200;
            let _ = sheet.merge_range(band + r0.min(r1), c0.min(c1), band + r0.max(r1), c0.max(c1), "合并", &rust_xlsxwriter::Format::new());
        }
        let bytes = book.save_to_buffer().unwrap();
        let (_, peak) = read_measured(&bytes);
        prop_assert!(peak < MEMORY_BOUND, "peak {} bytes", peak);
    }

    #[test]
    fn arbitrary_csv_never_panics_or_blows_memory(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _serial = serial();
        let (_, usage) = METER.measure(|| read_csv("Sheet1", &bytes));
        prop_assert!(usage.peak_above < MEMORY_BOUND);
    }

    #[test]
    fn csv_shaped_text_never_panics(
        rows in proptest::collection::vec(proptest::collection::vec("[^\n]{0,12}", 0..70), 0..60)
    ) {
        let _serial = serial();
        let text: String = rows.iter().map(|r| r.join(",") + "\n").collect();
        let _ = read_csv("Sheet1", text.as_bytes());
    }
}
