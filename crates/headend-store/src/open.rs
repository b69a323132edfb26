//! Opening a [`Db`]: a SQLite file, a PostgreSQL URL, a scratch database
//! for a test, a second handle on the same database (a replica); and the
//! connection each operation takes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::sql::{self, Conn};
use crate::{migrate, secret, Db, DbError, SECRET_KEY_ENV};

/// Where the data lives.
pub(crate) enum Engine {
    /// One connection (SQLite has one writer anyway), and the file it is
    /// to (for [`Db::open_replica`]).
    Sqlite(Mutex<rusqlite::Connection>, PathBuf),
    /// A pool; the scratch database of a test is dropped with the last
    /// `Db` on it (after the pool, so no connection of ours is left in it).
    Postgres(
        sql::pg::Pool,
        #[allow(dead_code)] // held for its Drop
        Option<Arc<sql::pg::Scratch>>,
    ),
}

/// Connections a headend process keeps to PostgreSQL.
const PG_POOL: usize = 16;

impl Db {
    /// Opens (creating if needed) the database at `path`, with the secret
    /// key from the file named in `DANGJIAN_SECRET_KEY_FILE`, else from
    /// `<path>.key` (created, mode 0600, on first open).
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let env = std::env::var_os(SECRET_KEY_ENV).map(PathBuf::from);
        Self::open_keyed(path, &secret::KeySource::for_db(path, env))
    }

    /// Opens the database a URL names: `postgres://…` (or
    /// `postgresql://…`) for PostgreSQL, `sqlite://<path>` or a plain path
    /// for SQLite. PostgreSQL needs the secret key in a file
    /// (`DANGJIAN_SECRET_KEY_FILE`, the same file on every replica).
    pub fn open_url(url: &str) -> Result<Db, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let key = std::env::var_os(SECRET_KEY_ENV)
                .map(PathBuf::from)
                .filter(|p| !p.as_os_str().is_empty())
                .ok_or_else(|| {
                    DbError::SecretKey(format!(
                        "with PostgreSQL, name the key file in {SECRET_KEY_ENV} (the same file on every replica)"
                    ))
                })?;
            return Self::open_postgres(url, &secret::KeySource::File(key), PG_POOL, None);
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Self::open(Path::new(path))
    }

    fn open_postgres(
        url: &str,
        key: &secret::KeySource,
        pool: usize,
        scratch: Option<Arc<sql::pg::Scratch>>,
    ) -> Result<Db, DbError> {
        let secret = secret::SecretKey::load(key)?;
        let db = Db {
            engine: Engine::Postgres(sql::pg::Pool::connect(url, pool)?, scratch),
            audit_commits: std::sync::atomic::AtomicU64::new(0),
            secret,
        };
        migrate::run(&db)?;
        Ok(db)
    }

    /// A fresh database for one test: SQLite in `dir`, or, when
    /// `DANGJIAN_TEST_DATABASE_URL` names a PostgreSQL server, a new
    /// database of its own there (dropped when the `Db` is), so the same
    /// test runs on either backend.
    pub fn open_test(dir: &Path) -> Result<Db, DbError> {
        let Some(server) = std::env::var("DANGJIAN_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return Self::open(&dir.join("headend.db"));
        };
        let scratch = sql::pg::Scratch::create(&server)?;
        let url = scratch.url();
        Self::open_postgres(
            &url,
            &secret::KeySource::File(dir.join("headend.key")),
            4,
            Some(Arc::new(scratch)),
        )
    }

    /// Another handle on the same database with connections of its own,
    /// as a second headend process (a replica) opens it, with the same
    /// secret key: for tests of what replicas do at once. A test's scratch
    /// database lives until the last handle on it is dropped.
    pub fn open_replica(&self) -> Result<Db, DbError> {
        let engine = match &self.engine {
            Engine::Sqlite(_, path) => {
                let name = path.as_os_str();
                if name.is_empty() || name == ":memory:" {
                    return Err(DbError::BadInput(
                        "an in-memory database cannot be opened twice".into(),
                    ));
                }
                Engine::Sqlite(Mutex::new(sql::sqlite::open(path)?), path.clone())
            }
            Engine::Postgres(pool, scratch) => Engine::Postgres(
                sql::pg::Pool::connect(pool.url(), pool.max())?,
                scratch.clone(),
            ),
        };
        Ok(Db {
            engine,
            audit_commits: std::sync::atomic::AtomicU64::new(0),
            secret: self.secret.clone(),
        })
    }

    /// The PostgreSQL URL, if that is where the data lives (so a test can
    /// start more headend processes on the same database).
    pub fn database_url(&self) -> Option<String> {
        self.pg_url().map(str::to_string)
    }

    /// The PostgreSQL URL, if that is where the data lives.
    pub(crate) fn pg_url(&self) -> Option<&str> {
        match &self.engine {
            Engine::Postgres(pool, _) => Some(pool.url()),
            Engine::Sqlite(..) => None,
        }
    }

    /// Which backend holds the data.
    pub fn backend(&self) -> sql::Backend {
        match self.engine {
            Engine::Sqlite(..) => sql::Backend::Sqlite,
            Engine::Postgres(..) => sql::Backend::Postgres,
        }
    }

    /// A connection for SQL written outside this crate: tests that tamper
    /// with rows as an attacker with the database would, maintenance.
    /// Nothing here passes through the rules of this crate.
    pub fn raw(&self) -> Result<sql::Conn<'_>, DbError> {
        self.lock()
    }

    /// Like [`Db::open`] with the secret key in `key_file` (created if
    /// missing).
    pub fn open_with_key_file(path: &Path, key_file: &Path) -> Result<Db, DbError> {
        Self::open_keyed(path, &secret::KeySource::File(key_file.to_path_buf()))
    }

    fn open_keyed(path: &Path, key: &secret::KeySource) -> Result<Db, DbError> {
        let secret = secret::SecretKey::load(key)?;
        let conn = sql::sqlite::open(path)?;
        let db = Db {
            engine: Engine::Sqlite(Mutex::new(conn), path.to_path_buf()),
            audit_commits: std::sync::atomic::AtomicU64::new(0),
            secret,
        };
        migrate::run(&db)?;
        Ok(db)
    }

    /// A connection for one operation (the SQLite one, or one from the
    /// PostgreSQL pool).
    pub(crate) fn lock(&self) -> Result<Conn<'_>, DbError> {
        match &self.engine {
            Engine::Sqlite(conn, _) => Ok(Conn::Sqlite(sql::sqlite::SqliteConn(
                conn.lock().map_err(|_| DbError::Poisoned)?,
            ))),
            Engine::Postgres(pool, _) => Ok(Conn::Pg(pool.get()?)),
        }
    }
}
