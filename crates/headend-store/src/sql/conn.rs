//! The connection a query gets from [`crate::Db`], whichever backend holds
//! it: an enum over the two, so queries are generic over nothing.

use super::pg::{PgConn, PgTx};
use super::sqlite::{SqliteConn, SqliteTx};
use super::{Backend, Row, Sql, Value};
use crate::DbError;

/// A connection held for one operation.
pub enum Conn<'a> {
    Sqlite(SqliteConn<'a>),
    Pg(PgConn<'a>),
}

/// A transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx<'a> {
    Sqlite(SqliteTx<'a>),
    Pg(PgTx<'a>),
}

impl Conn<'_> {
    pub fn transaction(&mut self) -> Result<Tx<'_>, DbError> {
        Ok(match self {
            Conn::Sqlite(c) => Tx::Sqlite(c.transaction()?),
            Conn::Pg(c) => Tx::Pg(c.transaction()?),
        })
    }
}

impl Tx<'_> {
    pub fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit(),
            Tx::Pg(t) => t.commit(),
        }
    }
}

impl Sql for Conn<'_> {
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        match self {
            Conn::Sqlite(c) => c.rows(sql, params),
            Conn::Pg(c) => c.rows(sql, params),
        }
    }

    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        match self {
            Conn::Sqlite(c) => c.run(sql, params),
            Conn::Pg(c) => c.run(sql, params),
        }
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql),
            Conn::Pg(c) => c.execute_batch(sql),
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }
}

impl Sql for Tx<'_> {
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        match self {
            Tx::Sqlite(t) => t.rows(sql, params),
            Tx::Pg(t) => t.rows(sql, params),
        }
    }

    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        match self {
            Tx::Sqlite(t) => t.run(sql, params),
            Tx::Pg(t) => t.run(sql, params),
        }
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.execute_batch(sql),
            Tx::Pg(t) => t.execute_batch(sql),
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Pg(_) => Backend::Postgres,
        }
    }
}
