//! SQLite through rusqlite: the embedded default for the demo and a small
//! county. One connection behind a mutex (SQLite has one writer anyway);
//! WAL and `synchronous=FULL`, so an acknowledged write survives a power
//! cut. Statements are cached per connection by rusqlite.

use std::path::Path;
use std::sync::MutexGuard;

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{Backend, Row, Sql, Value};
use crate::DbError;

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// Opens the database file with the settings the headend relies on.
pub fn open(path: &Path) -> Result<rusqlite::Connection, DbError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a sign-in or request acknowledged to a box is deleted from its
    // outbox, so it must survive a power cut here too. Submissions are
    // group-committed, so the sync per commit is not per box.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Another process (the CLI, a second `serve` by mistake) may hold the
    // write lock for a moment: wait rather than fail.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

fn rows(conn: &rusqlite::Connection, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(value(row.get_ref(i)?));
        }
        out.push(Row::new(values));
    }
    Ok(out)
}

fn run(conn: &rusqlite::Connection, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    // A statement with RETURNING yields rows; step through them all.
    if stmt.column_count() > 0 {
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut n = 0;
        while rows.next()?.is_some() {
            n += 1;
        }
        return Ok(n);
    }
    Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))?)
}

/// The connection, held for one operation.
pub struct SqliteConn<'a>(pub(crate) MutexGuard<'a, rusqlite::Connection>);

impl SqliteConn<'_> {
    pub fn transaction(&mut self) -> Result<SqliteTx<'_>, DbError> {
        // IMMEDIATE: take the write lock now, so a read-then-write (the
        // feed counter) cannot be overtaken by another process.
        Ok(SqliteTx(self.0.transaction_with_behavior(
            rusqlite::TransactionBehavior::Immediate,
        )?))
    }
}

impl Sql for SqliteConn<'_> {
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        rows(&self.0, sql, params)
    }

    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        run(&self.0, sql, params)
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}

/// A transaction; dropped without [`SqliteTx::commit`] it rolls back.
pub struct SqliteTx<'a>(rusqlite::Transaction<'a>);

impl SqliteTx<'_> {
    pub fn commit(self) -> Result<(), DbError> {
        Ok(self.0.commit()?)
    }
}

impl Sql for SqliteTx<'_> {
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        rows(&self.0, sql, params)
    }

    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        run(&self.0, sql, params)
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}
