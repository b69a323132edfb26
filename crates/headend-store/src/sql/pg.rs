//! PostgreSQL through the `postgres` crate (the blocking client of
//! rust-postgres, the well-kept driver `tokio-postgres` is part of): for a
//! city, several headend processes on one database.
//!
//! Blocking, like the SQLite side: every query already runs on tokio's
//! blocking pool, so an async driver would only add a second runtime hop.
//! A small pool of connections (no extra crate: a mutex, a condition
//! variable and a cap) with each connection's prepared statements cached,
//! so a hot query is parsed once per connection, not once per request.
//! Transactions are `BEGIN … COMMIT` on the pooled connection; dropped
//! without a commit they roll back.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{mpsc, Condvar, Mutex};
use std::time::Duration;

use postgres::types::{FromSql, IsNull, ToSql, Type};

use super::{numbered_dollars, Backend, Row, Sql, Value};
use crate::DbError;

type BoxError = Box<dyn StdError + Sync + Send>;

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        // The server's own message (with its SQLSTATE) says what was wrong.
        match e.as_db_error() {
            Some(db) => DbError::Postgres(format!("{} ({})", db.message(), db.code().code())),
            None => DbError::Postgres(e.to_string()),
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let text = |s: &str, out: &mut bytes::BytesMut| s.to_sql(&Type::TEXT, out);
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    text(&i.to_string(), out)
                }
                _ => Err(format!("an integer cannot be sent as {ty}").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::INT8 if f.fract() == 0.0 => (*f as i64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => text(&f.to_string(), out),
                _ => Err(format!("a number cannot be sent as {ty}").into()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    text(s, out)
                }
                Type::INT8 => s.trim().parse::<i64>()?.to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                _ => Err(format!("text cannot be sent as {ty}").into()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(format!("bytes cannot be sent as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in to_sql, like SQLite's loose typing.
        true
    }

    postgres::types::to_sql_checked!();
}

/// A `NUMERIC` (what `SUM` and `AVG` of integers give) read as a number.
struct Numeric(f64);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let word = |i: usize| -> Result<u16, BoxError> {
            raw.get(i..i + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "a short numeric".into())
        };
        let digits = word(0)? as usize;
        let weight = word(2)? as i16;
        let sign = word(4)?;
        if sign == 0xC000 {
            return Ok(Numeric(f64::NAN));
        }
        let mut value = 0.0f64;
        for i in 0..digits {
            let d = f64::from(word(8 + 2 * i)?);
            value += d * 10_000f64.powi(i32::from(weight) - i as i32);
        }
        Ok(Numeric(if sign == 0x4000 { -value } else { value }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

fn cell(row: &postgres::Row, i: usize) -> Result<Value, DbError> {
    let ty = row.columns()[i].type_().clone();
    let v = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Real(v.into())),
        Type::NUMERIC => row.try_get::<_, Option<Numeric>>(i)?.map(|n| {
            if n.0.fract() == 0.0 && n.0.abs() < 9.0e15 {
                Value::Int(n.0 as i64)
            } else {
                Value::Real(n.0)
            }
        }),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
        Type::OID => row
            .try_get::<_, Option<u32>>(i)?
            .map(|v| Value::Int(v.into())),
        other => {
            return Err(DbError::Column(format!(
                "column {i} has type {other}, which the headend does not read"
            )))
        }
    };
    Ok(v.unwrap_or(Value::Null))
}

/// One connection and the statements prepared on it. It lives on a thread
/// of its own ([`Worker`]): the blocking client drives its own small tokio
/// runtime, which must never run inside another one, and the headend's
/// callers may be anywhere (a blocking-pool thread, an async test).
struct Client {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl Client {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client.prepare(&numbered_dollars(sql))?;
        // Queries are fixed strings: the cache stays as small as the code.
        self.statements.insert(sql.to_string(), prepared.clone());
        Ok(prepared)
    }

    fn rows(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let statement = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        let rows = self.client.query(&statement, &refs)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| cell(r, i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map(|values| values.map(Row::new))
            .collect()
    }

    fn run(&mut self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        let statement = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        if statement.columns().is_empty() {
            Ok(usize::try_from(self.client.execute(&statement, &refs)?).unwrap_or(usize::MAX))
        } else {
            Ok(self.client.query(&statement, &refs)?.len())
        }
    }

    fn serve(&mut self, job: Job) -> Done {
        let answer = match job {
            Job::Rows(sql, params) => Answer::Rows(self.rows(&sql, &params)),
            Job::Run(sql, params) => Answer::Run(self.run(&sql, &params)),
            Job::Batch(sql) => {
                Answer::Batch(self.client.batch_execute(&sql).map_err(DbError::from))
            }
        };
        Done {
            answer,
            closed: self.client.is_closed(),
        }
    }
}

enum Job {
    Rows(String, Vec<Value>),
    Run(String, Vec<Value>),
    Batch(String),
}

enum Answer {
    Rows(Result<Vec<Row>, DbError>),
    Run(Result<usize, DbError>),
    Batch(Result<(), DbError>),
}

struct Done {
    answer: Answer,
    /// The connection is gone: do not give it back to the pool.
    closed: bool,
}

/// A connection's thread, and the way to it.
struct Worker {
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Done>,
    closed: bool,
}

fn gone() -> DbError {
    DbError::Postgres("the database connection closed".into())
}

impl Worker {
    fn connect(url: &str) -> Result<Worker, DbError> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Done>();
        let (ready_tx, ready) = mpsc::channel::<Result<(), DbError>>();
        let url = url.to_string();
        std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let mut client = match postgres::Client::connect(&url, postgres::NoTls) {
                    Ok(client) => Client {
                        client,
                        statements: HashMap::new(),
                    },
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                // Ends when the Worker (the only sender) is dropped.
                while let Ok(job) = job_rx.recv() {
                    if done_tx.send(client.serve(job)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| DbError::Postgres(format!("cannot start a connection thread: {e}")))?;
        ready.recv().map_err(|_| gone())??;
        Ok(Worker {
            jobs,
            done,
            closed: false,
        })
    }

    fn call(&mut self, job: Job) -> Result<Answer, DbError> {
        if self.closed || self.jobs.send(job).is_err() {
            self.closed = true;
            return Err(gone());
        }
        match self.done.recv() {
            Ok(done) => {
                self.closed |= done.closed;
                Ok(done.answer)
            }
            Err(_) => {
                self.closed = true;
                Err(gone())
            }
        }
    }

    fn rows(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        match self.call(Job::Rows(sql.to_string(), params))? {
            Answer::Rows(r) => r,
            _ => Err(gone()),
        }
    }

    fn run(&mut self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        match self.call(Job::Run(sql.to_string(), params))? {
            Answer::Run(r) => r,
            _ => Err(gone()),
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self.call(Job::Batch(sql.to_string()))? {
            Answer::Batch(r) => r,
            _ => Err(gone()),
        }
    }
}

/// Runs `f` on a thread of its own (connecting outside the pool may
/// happen inside an async context, where the blocking client must not).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Connections to one database, at most `max` open.
pub struct Pool {
    url: String,
    max: usize,
    idle: Mutex<(Vec<Worker>, usize)>,
    freed: Condvar,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("max", &self.max).finish()
    }
}

/// How long a request waits for a free connection before giving up.
const WAIT: Duration = Duration::from_secs(30);

impl Pool {
    /// Connects once (so a wrong URL fails at start, not at first use).
    pub fn connect(url: &str, max: usize) -> Result<Pool, DbError> {
        let pool = Pool {
            url: url.to_string(),
            max: max.max(1),
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
        };
        let first = pool.open()?;
        if let Ok(mut idle) = pool.idle.lock() {
            idle.0.push(first);
            idle.1 = 1;
        }
        Ok(pool)
    }

    fn open(&self) -> Result<Worker, DbError> {
        Worker::connect(&self.url)
    }

    /// A connection for one operation; back to the pool when dropped.
    pub fn get(&self) -> Result<PgConn<'_>, DbError> {
        let mut idle = self.idle.lock().map_err(|_| DbError::Poisoned)?;
        loop {
            if let Some(client) = idle.0.pop() {
                return Ok(PgConn {
                    pool: self,
                    client: Some(RefCell::new(client)),
                });
            }
            if idle.1 < self.max {
                idle.1 += 1;
                drop(idle);
                return match self.open() {
                    Ok(client) => Ok(PgConn {
                        pool: self,
                        client: Some(RefCell::new(client)),
                    }),
                    Err(e) => {
                        self.forget();
                        Err(e)
                    }
                };
            }
            let (guard, waited) = self
                .freed
                .wait_timeout(idle, WAIT)
                .map_err(|_| DbError::Poisoned)?;
            idle = guard;
            if waited.timed_out() && idle.0.is_empty() {
                return Err(DbError::Postgres(format!(
                    "no database connection free after {} s; all {} are busy",
                    WAIT.as_secs(),
                    self.max
                )));
            }
        }
    }

    /// A connection that broke is not returned; make room for a new one.
    fn forget(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.1 = idle.1.saturating_sub(1);
        }
        self.freed.notify_one();
    }

    fn give_back(&self, client: Worker) {
        if client.closed {
            self.forget();
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.0.push(client);
        }
        self.freed.notify_one();
    }

    /// The URL connections are made to (for a connection of its own,
    /// such as the one that listens for notifications).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The most connections this pool opens.
    pub fn max(&self) -> usize {
        self.max
    }
}

/// A pooled connection, held for one operation.
pub struct PgConn<'a> {
    pool: &'a Pool,
    client: Option<RefCell<Worker>>,
}

impl Drop for PgConn<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.give_back(client.into_inner());
        }
    }
}

impl PgConn<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut Worker) -> Result<T, DbError>) -> Result<T, DbError> {
        let cell = self
            .client
            .as_ref()
            .ok_or_else(|| DbError::Postgres("the connection was given back".into()))?;
        let mut client = cell
            .try_borrow_mut()
            .map_err(|_| DbError::Postgres("the connection is busy".into()))?;
        f(&mut client)
    }

    pub fn transaction(&mut self) -> Result<PgTx<'_>, DbError> {
        self.with(|c| c.batch("BEGIN"))?;
        Ok(PgTx {
            conn: self,
            done: false,
        })
    }
}

impl Sql for PgConn<'_> {
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        self.with(|c| c.rows(sql, params))
    }

    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        self.with(|c| c.run(sql, params))
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.with(|c| c.batch(sql))
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

/// A transaction on a pooled connection.
pub struct PgTx<'a> {
    conn: &'a PgConn<'a>,
    done: bool,
}

impl PgTx<'_> {
    pub fn commit(mut self) -> Result<(), DbError> {
        self.done = true;
        self.conn.with(|c| c.batch("COMMIT"))
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let rolled_back = self.conn.with(|c| c.batch("ROLLBACK"));
            if let Err(e) = rolled_back {
                tracing::warn!(error = %e, "rollback failed");
            }
        }
    }
}

impl Sql for PgTx<'_> {
    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        self.conn.rows(sql, params)
    }

    fn run(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        self.conn.run(sql, params)
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql)
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

/// A throw-away database on a PostgreSQL server, for one test: created
/// with a unique name, dropped (after the pool is closed) when this is.
#[derive(Debug)]
pub struct Scratch {
    server: String,
    name: String,
}

impl Scratch {
    /// Creates the database on the server `server` names (any database of
    /// it, usually `postgres`).
    pub fn create(server: &str) -> Result<Scratch, DbError> {
        let name = format!("dangjian_test_{}", uuid::Uuid::new_v4().simple());
        off_runtime(|| -> Result<(), DbError> {
            let mut admin = postgres::Client::connect(server, postgres::NoTls)?;
            admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
            Ok(())
        })?;
        Ok(Scratch {
            server: server.to_string(),
            name,
        })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> String {
        replace_database(&self.server, &self.name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let dropped = off_runtime(|| {
            postgres::Client::connect(&self.server, postgres::NoTls).and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
            })
        });
        if let Err(e) = dropped {
            tracing::warn!(error = %e, db = %self.name, "cannot drop a test database");
        }
    }
}

/// `url` with its database name replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    // postgres://user@host:port/db: the database is after the third '/'.
    let slash = base
        .match_indices('/')
        .nth(2)
        .map_or(base.len(), |(i, _)| i);
    format!("{}/{name}{query}", &base[..slash])
}

/// The body of a listener's thread: `LISTEN` on `channel`, forward every
/// notification, and on a lost connection make a new one (saying so, since
/// notifications in between are gone). `ready` hears whether the first
/// connection worked. Ends when `stopped` says its owner is gone.
pub(crate) fn listen_loop(
    url: &str,
    channel: &str,
    heard: &mpsc::Sender<crate::replicas::Heard>,
    stopped: &mpsc::Receiver<()>,
    ready: mpsc::Sender<Result<(), DbError>>,
) {
    use crate::replicas::Heard;
    use fallible_iterator::FallibleIterator;
    let connect = || -> Result<postgres::Client, DbError> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        client.batch_execute(&format!("LISTEN {channel}"))?;
        Ok(client)
    };
    let mut client = match connect() {
        Ok(c) => {
            let _ = ready.send(Ok(()));
            c
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let owner_gone = || matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut lost = false;
        {
            let mut notifications = client.notifications();
            let mut it = notifications.timeout_iter(Duration::from_millis(500));
            loop {
                match it.next() {
                    Ok(Some(n)) => {
                        if heard.send(Heard::Ring(n.payload().to_string())).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the notification connection");
                        lost = true;
                        break;
                    }
                }
            }
        }
        if owner_gone() {
            return;
        }
        if lost || client.is_closed() {
            loop {
                std::thread::sleep(backoff);
                if owner_gone() {
                    return;
                }
                match connect() {
                    Ok(c) => {
                        client = c;
                        backoff = Duration::from_millis(200);
                        if heard.send(Heard::Reconnected).is_err() {
                            return;
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen again yet");
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            super::replace_database("postgres://u@127.0.0.1:5/postgres", "x"),
            "postgres://u@127.0.0.1:5/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h:5", "x"),
            "postgres://u@h:5/x"
        );
    }
}
