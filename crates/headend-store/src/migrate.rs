//! Versioned migrations, one SQL file per backend and version under
//! `migrations/{sqlite,postgres}/`, applied in order and recorded in
//! `schema_migrations`.
//!
//! Every start runs the ones not yet applied (`dangjian-headend migrate`
//! runs them alone), each in its own transaction with its record, so a
//! crash mid-way leaves the database at the previous version. On
//! PostgreSQL a transaction-scoped advisory lock makes replicas starting
//! together take turns; the second finds the work done. A database that
//! has a version this binary does not know (made by a newer headend) is
//! refused rather than used.
//!
//! Version 1 is the schema as it stood when migrations came in, written
//! with `IF NOT EXISTS` on SQLite so a database made by an earlier release
//! is taken over as it is; the columns earlier releases lacked are added
//! by the Rust step of version 1 ([`sqlite_legacy_columns`]).

use crate::sql::{params, Backend, OptionalExtension, Sql, Tx};
use crate::{Db, DbError};

/// A step of a migration written in Rust, run in its transaction.
type RustStep = fn(&Tx<'_>) -> Result<(), DbError>;

/// One step of the schema.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    /// Run after the SQL, in the same transaction, on SQLite only.
    sqlite_after: Option<RustStep>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "baseline",
        sqlite: include_str!("../migrations/sqlite/0001_baseline.sql"),
        postgres: include_str!("../migrations/postgres/0001_baseline.sql"),
        sqlite_after: Some(sqlite_legacy_columns),
    },
    Migration {
        version: 2,
        name: "replicas",
        sqlite: include_str!("../migrations/sqlite/0002_replicas.sql"),
        postgres: include_str!("../migrations/postgres/0002_replicas.sql"),
        sqlite_after: None,
    },
];

/// The key of the advisory lock migrations hold on PostgreSQL.
const MIGRATION_LOCK: i64 = 0x6461_6e67_6a69_616e; // "dangjian"

/// The newest version this binary knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Versions applied to the database, oldest first.
pub fn applied(db: &Db) -> Result<Vec<i64>, DbError> {
    let conn = db.lock()?;
    ensure_table(&conn)?;
    conn.prepare_cached("SELECT version FROM schema_migrations ORDER BY version")?
        .query_map(params![], |r| r.get(0))?
        .collect()
}

fn ensure_table(conn: &impl Sql) -> Result<(), DbError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations(
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Applies every migration not yet applied; returns the versions it applied.
pub fn run(db: &Db) -> Result<Vec<i64>, DbError> {
    let mut conn = db.lock()?;
    ensure_table(&conn)?;
    let newest: Option<i64> = conn
        .query_row(
            "SELECT MAX(version) FROM schema_migrations",
            params![],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if let Some(v) = newest.filter(|v| *v > latest()) {
        return Err(DbError::Migration(format!(
            "the database is at version {v}, newer than this headend knows ({}); run the newer headend, or restore a backup",
            latest()
        )));
    }
    let mut done = Vec::new();
    for m in MIGRATIONS {
        let tx = conn.transaction()?;
        if tx.backend() == Backend::Postgres {
            // Replicas starting together take turns; the lock ends with the
            // transaction.
            tx.execute("SELECT pg_advisory_xact_lock(?1)", params![MIGRATION_LOCK])?;
        }
        let applied: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                params![m.version],
                |r| r.get(0),
            )
            .optional()?;
        if applied.is_some() {
            continue;
        }
        let sql = match tx.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        tx.execute_batch(sql)
            .map_err(|e| DbError::Migration(format!("{} {}: {e}", m.version, m.name)))?;
        if let (Backend::Sqlite, Some(after)) = (tx.backend(), m.sqlite_after) {
            after(&tx)?;
        }
        tx.execute(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now()],
        )?;
        tx.commit()?;
        tracing::info!(version = m.version, name = m.name, "database migrated");
        done.push(m.version);
    }
    Ok(done)
}

/// The columns of `table` on SQLite (empty when there is no such table).
fn sqlite_columns(conn: &impl Sql, table: &str) -> Result<Vec<String>, DbError> {
    conn.prepare(&format!("PRAGMA table_info({table})"))?
        .query_map(params![], |r| r.get::<_, String>(1))?
        .collect()
}

/// Brings tables made by releases before migrations up to version 1:
/// installer codes were stored as a plain SHA-256 (`code_sha256`; those
/// rows stay as history but no longer match any code), and some columns
/// came later.
fn sqlite_legacy_columns(tx: &Tx<'_>) -> Result<(), DbError> {
    let codes = sqlite_columns(tx, "installer_codes")?;
    if codes.iter().any(|c| c == "code_sha256") {
        tx.execute_batch("ALTER TABLE installer_codes RENAME COLUMN code_sha256 TO code_digest")?;
    }
    for (table, name, kind) in [
        ("installer_codes", "misuses", "INTEGER NOT NULL DEFAULT 0"),
        ("installer_codes", "locked_at", "INTEGER"),
        ("devices", "released_at", "INTEGER"),
        ("devices", "released_by", "TEXT"),
    ] {
        if !sqlite_columns(tx, table)?.iter().any(|c| c == name) {
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}
