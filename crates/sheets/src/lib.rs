//! Spreadsheets as village accountants produce them (XLSX from Excel or
//! WPS, CSV in UTF-8 or GBK) read into disclosure tables.
//!
//! Each sheet is one table: an optional title row (one cell, often merged
//! across the columns), a header row, data rows, and an optional 合计 row
//! last. A column whose header mentions 元 or 金额 holds amounts. Every
//! problem is collected and named by sheet and cell in the accountant's
//! words (`Sheet1!C7: 金额格式错误`), so the whole file can be fixed in one
//! go; a file with any problem yields no tables at all.
//!
//! Files are hostile input: every bound in [`limits`] (declared sheet
//! size, cells, columns, inflated bytes, shared strings) is checked before
//! the memory it protects is taken, and a refused file is answered like any
//! other problem, by sheet and cell.
//!
//! This crate owns calamine, zip and csv; callers see only [`SheetTable`]
//! and [`Problem`].

mod layout;
pub mod limits;
mod read;
mod zipcheck;

pub use layout::MONEY_HINTS;
pub use limits::MAX_ROWS;
pub use read::{read_csv, read_xlsx};

/// One sheet read as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetTable {
    pub sheet: String,
    /// The title row, if the sheet had one.
    pub title: Option<String>,
    pub table: model::Table,
}

/// One thing wrong with the file, where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub sheet: String,
    /// `C7`, `A5:A6`, or empty for the whole sheet.
    pub cell: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.cell.is_empty() {
            write!(f, "{}: {}", self.sheet, self.message)
        } else {
            write!(f, "{}!{}: {}", self.sheet, self.cell, self.message)
        }
    }
}

/// Why a file gave no tables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetsError {
    #[error("the file cannot be read as {format}: {detail}")]
    Unreadable {
        format: &'static str,
        detail: String,
    },
    #[error("{} problem(s) in the file; nothing was imported", .0.len())]
    Problems(Vec<Problem>),
}
