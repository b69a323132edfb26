//! Reading XLSX (calamine, cell by cell) and CSV (UTF-8 or GBK) into
//! grids, within the bounds of [`crate::limits`].

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::layout::{tables, Grid, Value};
use crate::limits::{self, Problems, MAX_CELLS, MAX_MERGED, MAX_SHEETS};
use crate::{SheetTable, SheetsError};

/// A grid filled cell by cell, refusing any cell outside the bounds and
/// any cell past the file's budget before it takes memory for it.
struct GridBuilder<'a> {
    name: String,
    rows: Vec<Vec<Value>>,
    /// Filled cells left for the whole file.
    budget: &'a mut usize,
}

impl GridBuilder<'_> {
    /// Places a filled cell; `Err` names the cell that broke a bound, and
    /// the sheet should not be read further.
    fn put(&mut self, row: usize, col: usize, value: Value) -> Result<(), (String, String)> {
        if let Some(refusal) = limits::outside(row, col) {
            return Err(refusal);
        }
        if *self.budget == 0 {
            return Err((
                crate::layout::cell_name(row, col),
                format!("文件里填了内容的格子超过 {MAX_CELLS} 个，请分成几个文件导入"),
            ));
        }
        *self.budget -= 1;
        // Both indices are bounded above, so these pushes are too.
        while self.rows.len() <= row {
            self.rows.push(Vec::new());
        }
        let cells = &mut self.rows[row];
        while cells.len() <= col {
            cells.push(Value::Empty);
        }
        cells[col] = value;
        Ok(())
    }
}

fn value(data: Data) -> Value {
    match data {
        Data::Empty => Value::Empty,
        Data::String(s) if s.trim().is_empty() => Value::Empty,
        Data::String(s) => Value::Text(s),
        Data::Int(i) => Value::Int(i),
        Data::Float(f) => Value::Float(f),
        Data::Bool(b) => Value::Text(if b { "是" } else { "否" }.into()),
        Data::Error(e) => Value::Error(format!("{e:?}")),
        // Dates as the ISO text Excel would show in a text column.
        other => Value::Text(other.to_string()),
    }
}

fn finish(grids: &[Grid], mut problems: Problems) -> Result<Vec<SheetTable>, SheetsError> {
    if problems.is_empty() {
        let out = tables(grids, &mut problems);
        if problems.is_empty() {
            return Ok(out);
        }
    }
    Err(SheetsError::Problems(problems.into_vec()))
}

/// Every sheet of an XLSX workbook as a table.
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<SheetTable>, SheetsError> {
    let unreadable = |e: &dyn std::fmt::Display| SheetsError::Unreadable {
        format: "XLSX",
        detail: e.to_string(),
    };
    let problems = crate::zipcheck::check(bytes).map_err(|e| unreadable(&e))?;
    if !problems.is_empty() {
        return Err(SheetsError::Problems(problems.into_vec()));
    }
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let names = book.sheet_names();
    let mut problems = Problems::default();
    if names.len() > MAX_SHEETS {
        problems.push(
            crate::zipcheck::WORKBOOK,
            String::new(),
            &format!(
                "工作簿有 {} 个工作表，最多可导入 {MAX_SHEETS} 个，请分成几个文件",
                names.len()
            ),
        );
        return Err(SheetsError::Problems(problems.into_vec()));
    }
    let mut budget = MAX_CELLS;
    let mut grids = Vec::new();
    for name in names {
        let mut grid = GridBuilder {
            name: name.clone(),
            rows: Vec::new(),
            budget: &mut budget,
        };
        {
            let mut cells = book
                .worksheet_cells_reader(&name)
                .map_err(|e| unreadable(&e))?;
            let declared = cells.dimensions();
            let start = (declared.start.0 as usize, declared.start.1 as usize);
            let end = (declared.end.0 as usize, declared.end.1 as usize);
            if let Some((range, why)) = limits::declared_too_large(start, end) {
                problems.push(&name, range, &why);
                continue;
            }
            while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
                let (row, col) = cell.get_position();
                let v = value(Data::from(cell.get_value().clone()));
                if matches!(v, Value::Empty) {
                    continue;
                }
                if let Err((at, why)) = grid.put(row as usize, col as usize, v) {
                    problems.push(&name, at, &why);
                    break;
                }
            }
        }
        let merged: Vec<(usize, usize, usize, usize)> = book
            .merge_cells_by_sheet_name(&name)
            .map_err(|e| unreadable(&e))?
            .iter()
            .take(MAX_MERGED)
            .map(|d| {
                (
                    d.start.0 as usize,
                    d.start.1 as usize,
                    d.end.0 as usize,
                    d.end.1 as usize,
                )
            })
            .collect();
        grids.push(Grid {
            name: grid.name,
            rows: grid.rows,
            merged,
        });
    }
    finish(&grids, problems)
}

/// A CSV file (named `sheet` in problems) as one table. UTF-8 with or
/// without a byte-order mark, or GBK as Excel saves it on Chinese Windows.
pub fn read_csv(sheet: &str, bytes: &[u8]) -> Result<Vec<SheetTable>, SheetsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text: Cow<'_, str> = match std::str::from_utf8(bytes) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => {
            let (decoded, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                return Err(SheetsError::Unreadable {
                    format: "CSV",
                    detail: "the text is neither UTF-8 nor GBK".into(),
                });
            }
            decoded
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut problems = Problems::default();
    let mut budget = MAX_CELLS;
    let mut grid = GridBuilder {
        name: sheet.to_string(),
        rows: Vec::new(),
        budget: &mut budget,
    };
    // One record buffer for the whole file.
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    'rows: loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(SheetsError::Unreadable {
                    format: "CSV",
                    detail: e.to_string(),
                })
            }
        }
        for (col, field) in record.iter().enumerate() {
            if field.trim().is_empty() {
                continue;
            }
            if let Err((at, why)) = grid.put(row, col, Value::Text(field.to_string())) {
                problems.push(sheet, at, &why);
                break 'rows;
            }
        }
        row += 1;
    }
    let grid = Grid {
        name: grid.name,
        rows: grid.rows,
        merged: Vec::new(),
    };
    finish(&[grid], problems)
}
