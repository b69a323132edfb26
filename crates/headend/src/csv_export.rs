//! CSV files for staff to open in a spreadsheet program (`?format=csv` on
//! the reports), all written here: with the `csv` crate, so commas, quotes
//! and line breaks inside a cell stay inside it, and safe to open. A cell
//! that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be
//! taken for a formula (a member named `=HYPERLINK(…)`, a module name a
//! box sent), so it gets a leading `'`, which spreadsheet programs show as
//! text (OWASP's advice on CSV injection).

use std::borrow::Cow;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

/// One CSV file being written.
pub(crate) struct CsvExport {
    writer: csv::Writer<Vec<u8>>,
}

/// `cell` as it may go into a CSV file: unchanged, or with a `'` in front
/// when a spreadsheet program would read it as a formula.
pub(crate) fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("cannot write the csv file: {e}"))
}

impl CsvExport {
    /// A file whose first row is `header`.
    pub fn new(header: &[&str]) -> Result<CsvExport, ApiError> {
        let mut export = CsvExport {
            writer: csv::WriterBuilder::new()
                .flexible(false)
                .from_writer(Vec::new()),
        };
        export.row(header)?;
        Ok(export)
    }

    /// One row; every cell neutralised.
    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> Result<(), ApiError> {
        let cells: Vec<S> = cells.into_iter().collect();
        self.writer
            .write_record(cells.iter().map(|c| neutralise(c.as_ref()).into_owned()))
            .map_err(failed)
    }

    /// The file as a download named `name.csv`: UTF-8 with a byte-order
    /// mark, so spreadsheet programs read the Chinese right.
    pub fn into_response(self, name: &str) -> Result<Response, ApiError> {
        let bytes = self.writer.into_inner().map_err(failed)?;
        let mut body = Vec::with_capacity(bytes.len() + 3);
        body.extend_from_slice("\u{feff}".as_bytes());
        body.extend_from_slice(&bytes);
        // Only safe characters in the header, whatever the id was.
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            body,
        )
            .into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_other_cells_stay() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("\r=1"), "'\r=1");
        assert_eq!(neutralise("王建国"), "王建国");
        assert_eq!(neutralise("0.500"), "0.500");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn cells_with_commas_quotes_and_newlines_are_quoted() {
        let mut export = CsvExport::new(&["a", "b"]).expect("header");
        export.row(["王,\"老\"\n二", "=x"]).expect("row");
        let bytes = export.writer.into_inner().expect("bytes");
        assert_eq!(
            String::from_utf8(bytes).expect("utf-8"),
            "a,b\n\"王,\"\"老\"\"\n二\",'=x\n"
        );
    }
}
