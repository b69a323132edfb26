//! From a grid of cells to a table: finding the title, header, data and
//! 合计 rows, typing the columns, and collecting every problem by cell.

use model::{Column, ColumnKind, Money, Table, TableRole};

use crate::limits::{Problems, MAX_ROWS};
use crate::SheetTable;

/// A header containing one of these marks a money column.
pub const MONEY_HINTS: [&str; 3] = ["元", "金额", "款"];

/// A cell as read, before typing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    /// The spreadsheet shows an error (`#DIV/0!`, `#REF!`).
    Error(String),
}

impl Value {
    fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// As text in a text column.
    fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(t) => t.trim().to_string(),
            Value::Int(i) => i.to_string(),
            // Whole numbers without ".0"; others as the spreadsheet shows.
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Value::Float(f) => f.to_string(),
            Value::Error(e) => e.clone(),
        }
    }
}

/// A sheet as read: cells by 0-based (row, column), merged ranges.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grid {
    pub name: String,
    pub rows: Vec<Vec<Value>>,
    /// (first row, first column, last row, last column), inclusive.
    pub merged: Vec<(usize, usize, usize, usize)>,
}

/// `C7` for 0-based (6, 2).
pub(crate) fn cell_name(row: usize, col: usize) -> String {
    let mut n = col + 1;
    let mut name = String::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        name.insert(0, char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    format!("{name}{}", row + 1)
}

fn money(value: &Value) -> Result<Money, &'static str> {
    match value {
        Value::Empty => Err("金额为空"),
        Value::Int(i) => i.checked_mul(100).map(Money::from_fen).ok_or("金额太大"),
        Value::Float(f) => {
            let fen = (f * 100.0).round();
            if !f.is_finite() || fen.abs() > 9e15 {
                Err("金额太大")
            } else if ((f * 100.0) - fen).abs() > 1e-6 {
                Err("金额最多两位小数")
            } else {
                Ok(Money::from_fen(fen as i64))
            }
        }
        Value::Text(t) => {
            let cleaned: String = t
                .trim()
                .trim_start_matches(['¥', '￥'])
                .trim_end_matches('元')
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            cleaned.parse::<Money>().map_err(|_| "金额格式错误")
        }
        Value::Error(_) => Err("单元格是公式错误，请改正后再导入"),
    }
}

fn is_total_label(value: &Value) -> bool {
    matches!(value, Value::Text(t) if {
        let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        t == "合计" || t == "总计" || t == "小计"
    })
}

/// Reads one grid; problems are pushed to `problems`.
pub(crate) fn table(grid: &Grid, problems: &mut Problems) -> Option<SheetTable> {
    let before = problems.len();
    let mut problem = |cell: String, message: &str| problems.push(&grid.name, cell, message);
    let filled: Vec<usize> = (0..grid.rows.len())
        .filter(|r| grid.rows[*r].iter().any(|v| !v.is_empty()))
        .collect();
    let Some(&first) = filled.first() else {
        problem(String::new(), "工作表是空的，没有可导入的内容");
        return None;
    };
    let width = |r: usize| {
        grid.rows[r]
            .iter()
            .rposition(|v| !v.is_empty())
            .map_or(0, |c| c + 1)
    };
    // A first row with one filled cell is the title.
    let one_cell = grid.rows[first].iter().filter(|v| !v.is_empty()).count() == 1;
    let (title, header_row) = if one_cell && filled.len() > 1 {
        let text = grid.rows[first]
            .iter()
            .find(|v| !v.is_empty())
            .map(Value::text);
        (text, filled[1])
    } else {
        (None, first)
    };
    for &(r0, c0, r1, c1) in &grid.merged {
        if title.is_some() && r0 == first && r1 == first {
            continue;
        }
        let range = format!("{}:{}", cell_name(r0, c0), cell_name(r1, c1));
        problem(range, "合并单元格无法导入，请取消合并、每格填好后再导入");
    }
    let columns = width(header_row);
    let mut cols = Vec::with_capacity(columns);
    for c in 0..columns {
        let value = grid.rows[header_row]
            .get(c)
            .cloned()
            .unwrap_or(Value::Empty);
        if value.is_empty() {
            problem(cell_name(header_row, c), "表头为空，请填写这一列的名称");
        }
        let name = value.text();
        let kind = if MONEY_HINTS.iter().any(|h| name.contains(h)) {
            ColumnKind::Money
        } else {
            ColumnKind::Text
        };
        cols.push(Column { name, kind });
    }
    let data: Vec<usize> = filled.iter().copied().filter(|r| *r > header_row).collect();
    if data.is_empty() {
        problem(String::new(), "只有表头，没有数据行");
    }
    if data.len() > MAX_ROWS {
        problem(
            String::new(),
            &format!("有 {} 行，超过 {MAX_ROWS} 行，请分成几个表导入", data.len()),
        );
        return None;
    }
    let mut rows = Vec::with_capacity(data.len());
    let mut totals = None;
    let mut sums = vec![Money::ZERO; columns];
    for (i, &r) in data.iter().enumerate() {
        let row = &grid.rows[r];
        if width(r) > columns {
            problem(
                cell_name(r, columns),
                "这一格在表头之外，请删除或给这一列加上表头",
            );
        }
        let is_totals = row.first().is_some_and(is_total_label);
        if is_totals && i + 1 != data.len() {
            problem(cell_name(r, 0), "合计行要放在最后一行");
        }
        let mut cells = Vec::with_capacity(columns);
        for (c, col) in cols.iter().enumerate() {
            let value = row.get(c).cloned().unwrap_or(Value::Empty);
            match col.kind {
                ColumnKind::Money if is_totals && value.is_empty() => cells.push(String::new()),
                ColumnKind::Money => match money(&value) {
                    Ok(m) => {
                        if !is_totals {
                            sums[c] = sums[c].checked_add(m).unwrap_or(sums[c]);
                        } else if m != sums[c] {
                            problem(
                                cell_name(r, c),
                                &format!("合计 {m} 与上面各行之和 {} 不符", sums[c]),
                            );
                        }
                        cells.push(m.to_string());
                    }
                    Err(why) => {
                        problem(cell_name(r, c), why);
                        cells.push(String::new());
                    }
                },
                ColumnKind::Text => {
                    if let Value::Error(_) = value {
                        problem(cell_name(r, c), "单元格是公式错误，请改正后再导入");
                    }
                    cells.push(value.text());
                }
            }
        }
        if is_totals {
            totals = Some(cells);
        } else {
            rows.push(cells);
        }
    }
    if problems.len() > before {
        return None;
    }
    let caption = title.clone().unwrap_or_else(|| grid.name.clone());
    let role = if grid.name.contains("收入") || caption.contains("收入") {
        Some(TableRole::Income)
    } else if grid.name.contains("支出") || caption.contains("支出") {
        Some(TableRole::Spending)
    } else {
        None
    };
    Some(SheetTable {
        sheet: grid.name.clone(),
        title,
        table: Table {
            caption,
            columns: cols,
            rows,
            totals,
            role,
        },
    })
}

/// Every sheet's table; what is wrong goes to `problems`.
pub(crate) fn tables(grids: &[Grid], problems: &mut Problems) -> Vec<SheetTable> {
    grids.iter().filter_map(|g| table(g, problems)).collect()
}
