//! What a file may hold before anything is allocated for it.
//!
//! A spreadsheet is hostile input: its sheets declare their own size, its
//! shared-string table declares its own count, and a zip member can
//! inflate a thousandfold. Each bound here is checked before the memory it
//! protects is taken, so refusing a 1.6 KB workbook that claims
//! `A1:XFD1048576` costs nothing, and the largest file we accept costs a
//! known amount. The numbers sit far above what a village accountant
//! produces (hundreds of rows, a dozen columns).

use crate::layout::cell_name;
use crate::Problem;

/// Most data rows a sheet may have (a village list is hundreds; this
/// keeps a mistaken export from becoming a disclosure nobody can page).
pub const MAX_ROWS: usize = 20_000;
/// Rows a sheet may span: the data rows plus title, header, 合计 and a
/// few blank lines.
pub const MAX_SHEET_ROWS: usize = MAX_ROWS + 50;
/// Columns a sheet may span.
pub const MAX_COLUMNS: usize = 64;
/// Filled cells in the whole file.
pub const MAX_CELLS: usize = 400_000;
/// Sheets in a workbook.
pub const MAX_SHEETS: usize = 32;
/// Members of the zip container (a workbook has a dozen or so).
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// Bytes of all zip members once inflated.
pub const MAX_UNZIPPED_BYTES: u64 = 64 * 1024 * 1024;
/// Entries the shared-string table may declare.
pub const MAX_SHARED_STRINGS: usize = MAX_CELLS;
/// Merged ranges read per sheet.
pub const MAX_MERGED: usize = 1_000;
/// Problems listed for one file; the rest are counted in a last line.
pub const MAX_PROBLEMS: usize = 200;

/// The problems of a file, collected up to [`MAX_PROBLEMS`]: a file with a
/// bad amount on every one of 20,000 rows must not cost a million strings.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    listed: Vec<Problem>,
    more: usize,
}

impl Problems {
    pub fn push(&mut self, sheet: &str, cell: String, message: &str) {
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(Problem {
                sheet: sheet.to_string(),
                cell,
                message: message.to_string(),
            });
        } else {
            self.more += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.listed.len() + self.more
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every listed problem, and one line saying how many were not.
    pub fn into_vec(mut self) -> Vec<Problem> {
        if self.more > 0 {
            self.listed.push(Problem {
                sheet: self
                    .listed
                    .last()
                    .map(|p| p.sheet.clone())
                    .unwrap_or_default(),
                cell: String::new(),
                message: format!("还有 {} 处问题没有列出，请先改正上面的再导入", self.more),
            });
        }
        self.listed
    }
}

/// A cell at 0-based (`row`, `col`) is refused when it lies outside what a
/// sheet may span; the message names the cell.
pub(crate) fn outside(row: usize, col: usize) -> Option<(String, String)> {
    (row >= MAX_SHEET_ROWS || col >= MAX_COLUMNS).then(|| {
        (
            cell_name(row, col),
            format!(
                "这一格超出了可导入的范围（最多 {MAX_SHEET_ROWS} 行、{MAX_COLUMNS} 列），请删去表格外的内容后再导入"
            ),
        )
    })
}

/// A sheet that declares (0-based, inclusive) `start`..=`end` is refused
/// before its cells are read when the range is larger than a sheet may be.
pub(crate) fn declared_too_large(
    start: (usize, usize),
    end: (usize, usize),
) -> Option<(String, String)> {
    let rows = end.0.saturating_sub(start.0) + 1;
    let cols = end.1.saturating_sub(start.1) + 1;
    (end.0 >= MAX_SHEET_ROWS || end.1 >= MAX_COLUMNS).then(|| {
        (
            format!("{}:{}", cell_name(start.0, start.1), cell_name(end.0, end.1)),
            format!(
                "工作表的范围有 {rows} 行 × {cols} 列，超过可导入的 {MAX_SHEET_ROWS} 行 × {MAX_COLUMNS} 列；请删去表格外多余的行和列（或把内容复制到新工作表）后再导入"
            ),
        )
    })
}
