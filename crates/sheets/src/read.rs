//! Reading XLSX (calamine) and CSV (UTF-8 or GBK) into grids.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::layout::{tables, Grid, Value};
use crate::{SheetTable, SheetsError};

fn problems(
    result: Result<Vec<SheetTable>, Vec<crate::Problem>>,
) -> Result<Vec<SheetTable>, SheetsError> {
    result.map_err(SheetsError::Problems)
}

/// Every sheet of an XLSX workbook as a table.
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<SheetTable>, SheetsError> {
    let unreadable = |e: &dyn std::fmt::Display| SheetsError::Unreadable {
        format: "XLSX",
        detail: e.to_string(),
    };
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut grids = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
        // Cells are addressed from A1, whatever the used range's start.
        let (row0, col0) = range
            .start()
            .map_or((0, 0), |(r, c)| (r as usize, c as usize));
        let mut rows: Vec<Vec<Value>> = vec![Vec::new(); row0];
        for row in range.rows() {
            let mut cells = vec![Value::Empty; col0];
            cells.extend(row.iter().map(|d| match d {
                Data::Empty => Value::Empty,
                Data::String(s) => Value::Text(s.clone()),
                Data::Int(i) => Value::Int(*i),
                Data::Float(f) => Value::Float(*f),
                Data::Bool(b) => Value::Text(if *b { "是" } else { "否" }.into()),
                Data::Error(e) => Value::Error(format!("{e:?}")),
                // Dates as the ISO text Excel would show in a text column.
                other => Value::Text(other.to_string()),
            }));
            rows.push(cells);
        }
        let merged = book
            .merge_cells_by_sheet_name(&name)
            .map_err(|e| unreadable(&e))?
            .iter()
            .map(|d| {
                (
                    d.start.0 as usize,
                    d.start.1 as usize,
                    d.end.0 as usize,
                    d.end.1 as usize,
                )
            })
            .collect();
        grids.push(Grid { name, rows, merged });
    }
    problems(tables(&grids))
}

/// A CSV file (named `sheet` in problems) as one table. UTF-8 with or
/// without a byte-order mark, or GBK as Excel saves it on Chinese Windows.
pub fn read_csv(sheet: &str, bytes: &[u8]) -> Result<Vec<SheetTable>, SheetsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => {
            let (decoded, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                return Err(SheetsError::Unreadable {
                    format: "CSV",
                    detail: "the text is neither UTF-8 nor GBK".into(),
                });
            }
            decoded.into_owned()
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| SheetsError::Unreadable {
            format: "CSV",
            detail: e.to_string(),
        })?;
        rows.push(
            record
                .iter()
                .map(|s| {
                    if s.trim().is_empty() {
                        Value::Empty
                    } else {
                        Value::Text(s.to_string())
                    }
                })
                .collect(),
        );
    }
    let grid = Grid {
        name: sheet.to_string(),
        rows,
        merged: Vec::new(),
    };
    problems(tables(&[grid]))
}
