//! One way to talk SQL to either backend.
//!
//! The queries of this crate are written once, in the SQL SQLite and
//! PostgreSQL both speak (`?1` parameters, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`, `CAST(… AS BIGINT)` around sums), against the [`Sql`]
//! trait. Two copies of a hundred queries would drift; one copy run by the
//! whole test suite on both backends cannot. What differs — the schema
//! (migrations per backend), connection handling, `PRAGMA`s, `LISTEN` —
//! lives in [`sqlite`] and [`pg`].
//!
//! The API mirrors the small part of rusqlite the queries use
//! (`execute`, `query_row`, `prepare_cached` + `query_map`, `optional()`,
//! `transaction`), so a query reads the same whichever backend runs it.
//! Values cross as [`Value`]; rows are read whole into [`Row`]s.

mod conn;
pub mod pg;
pub mod sqlite;

pub use conn::{Conn, Tx};

use crate::DbError;

/// A value as both backends store it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Anything a query takes as a parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                // Wider than i64 only past 2^63, which no id or count reaches.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_value!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

/// The parameters of one statement.
pub trait Params {
    fn values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToValue] {
    fn values(self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

impl<T: ToValue, const N: usize> Params for [T; N] {
    fn values(self) -> Vec<Value> {
        self.iter().map(ToValue::to_value).collect()
    }
}

impl<T: ToValue, const N: usize> Params for &[T; N] {
    fn values(self) -> Vec<Value> {
        self.iter().map(ToValue::to_value).collect()
    }
}

impl Params for Vec<Value> {
    fn values(self) -> Vec<Value> {
        self
    }
}

/// Parameters from an iterator (a list whose length is known at run time).
pub fn params_from_iter<T: ToValue>(items: impl IntoIterator<Item = T>) -> Vec<Value> {
    items.into_iter().map(|v| v.to_value()).collect()
}

/// `params![a, b, c]`: the parameters of one statement, of mixed types.
#[macro_export]
macro_rules! sql_params {
    () => {
        &[] as &[&dyn $crate::sql::ToValue]
    };
    ($($x:expr),+ $(,)?) => {
        &[$(&$x as &dyn $crate::sql::ToValue),+] as &[&dyn $crate::sql::ToValue]
    };
}
pub use crate::sql_params as params;

/// A value read back as a Rust type.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, String>;
}

fn wrong(want: &str, got: &Value) -> String {
    format!("expected {want}, found {got:?}")
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|e| e.to_string()),
                    // A PostgreSQL numeric (a SUM) that holds a whole number.
                    Value::Real(f) if f.fract() == 0.0 && f.is_finite() => {
                        <$t>::try_from(*f as i64).map_err(|e| e.to_string())
                    }
                    other => Err(wrong("an integer", other)),
                }
            }
        }
    )*};
}
int_from_value!(i32, i64, u32, u64, usize, u8, u16, i16);

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(*i != 0),
            other => Err(wrong("a boolean", other)),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => Err(wrong("a number", other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(wrong("text", other)),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(wrong("bytes", other)),
        }
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A column position (rusqlite's `get::<_, T>(i)` shape).
pub trait RowIndex {
    fn index(&self) -> usize;
}

impl RowIndex for usize {
    fn index(&self) -> usize {
        *self
    }
}

/// One row, read whole.
#[derive(Debug, Clone, Default)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    pub fn new(values: Vec<Value>) -> Row {
        Row { values }
    }

    /// Column `idx` as `T`.
    pub fn get<I: RowIndex, T: FromValue>(&self, idx: I) -> Result<T, DbError> {
        let i = idx.index();
        let value = self
            .values
            .get(i)
            .ok_or_else(|| DbError::Column(format!("no column {i}")))?;
        T::from_value(value).map_err(|e| DbError::Column(format!("column {i}: {e}")))
    }

    /// Column `idx` as a raw value.
    pub fn value(&self, idx: usize) -> &Value {
        self.values.get(idx).unwrap_or(&Value::Null)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Rows as rusqlite's `Rows`: `while let Some(row) = rows.next()? { … }`.
#[derive(Debug)]
pub struct Rows {
    rows: std::vec::IntoIter<Row>,
    current: Option<Row>,
}

impl Rows {
    #[allow(clippy::should_implement_trait)] // rusqlite's shape: fallible, borrowing
    pub fn next(&mut self) -> Result<Option<&Row>, DbError> {
        self.current = self.rows.next();
        Ok(self.current.as_ref())
    }
}

/// What every connection and transaction of either backend can do.
pub trait Sql {
    /// Runs `sql` and returns every row.
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError>;

    /// Runs `sql` and returns how many rows it changed.
    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError>;

    /// Runs several statements without parameters (schema changes).
    fn execute_batch(&self, sql: &str) -> Result<(), DbError>;

    /// Which backend this is (for the few statements that differ).
    fn backend(&self) -> Backend;

    fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize, DbError>
    where
        Self: Sized,
    {
        self.run(sql, params.values())
    }

    /// The first row, through `f`; [`DbError::NoRow`] if there is none
    /// (`.optional()` turns that into `None`).
    fn query_row<P: Params, T, F: FnOnce(&Row) -> Result<T, DbError>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> Result<T, DbError>
    where
        Self: Sized,
    {
        let rows = self.rows(sql, params.values())?;
        match rows.first() {
            Some(row) => f(row),
            None => Err(DbError::NoRow),
        }
    }

    /// A statement to run (statements are cached per connection by the
    /// backend; this only names the SQL).
    fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_, Self>, DbError>
    where
        Self: Sized,
    {
        Ok(Stmt {
            conn: self,
            sql: sql.to_string(),
        })
    }

    fn prepare(&self, sql: &str) -> Result<Stmt<'_, Self>, DbError>
    where
        Self: Sized,
    {
        self.prepare_cached(sql)
    }
}

/// Which database runs a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Appended to a `SELECT` whose rows the transaction then changes: on
    /// PostgreSQL the rows stay locked until it ends (so two guesses at a
    /// password cannot both read the count before either writes it);
    /// SQLite's transactions hold the whole database already.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// A column that addresses one row within a statement.
    pub fn row_address(self) -> &'static str {
        match self {
            Backend::Sqlite => "rowid",
            Backend::Postgres => "ctid",
        }
    }

    /// The text of top-level field `field` of the JSON text in `column`.
    /// Both are names from this crate's code, never from a request.
    pub fn json_text(self, column: &str, field: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_extract({column}, '$.{field}')"),
            Backend::Postgres => format!("(CAST({column} AS jsonb) ->> '{field}')"),
        }
    }
}

/// A statement bound to a connection.
pub struct Stmt<'s, C: Sql> {
    conn: &'s C,
    sql: String,
}

impl<C: Sql> Stmt<'_, C> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize, DbError> {
        self.conn.run(&self.sql, params.values())
    }

    pub fn query_map<P: Params, T, F: FnMut(&Row) -> Result<T, DbError>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T, DbError>>, DbError> {
        let rows = self.conn.rows(&self.sql, params.values())?;
        Ok(rows.iter().map(&mut f).collect::<Vec<_>>().into_iter())
    }

    pub fn query_row<P: Params, T, F: FnOnce(&Row) -> Result<T, DbError>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<T, DbError> {
        let rows = self.conn.rows(&self.sql, params.values())?;
        match rows.first() {
            Some(row) => f(row),
            None => Err(DbError::NoRow),
        }
    }

    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows, DbError> {
        let rows = self.conn.rows(&self.sql, params.values())?;
        Ok(Rows {
            rows: rows.into_iter(),
            current: None,
        })
    }

    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool, DbError> {
        Ok(!self.conn.rows(&self.sql, params.values())?.is_empty())
    }
}

/// `.optional()` on a single-row result, as in rusqlite.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>, DbError>;
}

impl<T> OptionalExtension<T> for Result<T, DbError> {
    fn optional(self) -> Result<Option<T>, DbError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Rewrites `?1`-style (and bare `?`) parameters as PostgreSQL's `$1`,
/// leaving string literals, quoted names and comments alone.
pub fn numbered_dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next_bare = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    next_bare += 1;
                    out.push_str(&next_bare.to_string());
                } else {
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_dollars_outside_literals() {
        assert_eq!(
            numbered_dollars("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12"
        );
        assert_eq!(
            numbered_dollars("INSERT INTO t VALUES (?, ?) -- ?\n"),
            "INSERT INTO t VALUES ($1, $2) -- ?\n"
        );
        assert_eq!(numbered_dollars("SELECT \"?x\""), "SELECT \"?x\"");
    }

    #[test]
    fn values_convert_both_ways() {
        let row = Row::new(vec![
            Value::Int(7),
            Value::Null,
            Value::Text("村".into()),
            Value::Real(12.0),
        ]);
        assert_eq!(row.get::<_, i64>(0).ok(), Some(7));
        assert_eq!(row.get::<_, bool>(0).ok(), Some(true));
        assert_eq!(row.get::<_, Option<String>>(1).ok(), Some(None));
        assert_eq!(row.get::<_, String>(2).ok().as_deref(), Some("村"));
        assert_eq!(row.get::<_, u64>(3).ok(), Some(12));
        assert!(row.get::<_, i64>(2).is_err());
        assert!(row.get::<_, i64>(9).is_err());
        let p: Vec<Value> = params![1i64, "a", Option::<i64>::None, true].values();
        assert_eq!(
            p,
            vec![
                Value::Int(1),
                Value::Text("a".into()),
                Value::Null,
                Value::Int(1)
            ]
        );
    }
}
