//! The binary's `--db`: a SQLite file or a PostgreSQL URL, opened through
//! `Db::open_url`, and the `migrate` command. (Part of `dangjian-headend`,
//! not of the library.)

use std::sync::{Arc, Mutex};

use anyhow::Context;
use headend::db::migrate;
use headend::db::sql::{params, Sql};
use headend::Db;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{self, Layer};

/// The help of every `--db`.
pub const DB_HELP: &str = "The database: a SQLite file (a path, or sqlite:///path) \
or a PostgreSQL URL (postgres://user@host:port/dbname; then DANGJIAN_SECRET_KEY_FILE \
must name the key file, the same file on every headend sharing the database)";

/// Opens the database `url` names; opening applies pending migrations.
pub fn open(url: &str) -> anyhow::Result<Db> {
    Db::open_url(url).with_context(|| format!("opening {}", redacted(url)))
}

/// `url` with its password, if it has one, replaced by `***`: error
/// messages name the database but never show its password.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    // libpq also takes the password as a query parameter.
    let path = match path.split_once('?') {
        Some((base, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => path.to_string(),
    };
    format!("{scheme}://{authority}{path}")
}

/// The versions the store reported applying while this process ran (its
/// `database migrated` events): opening a database already migrates it, so
/// `migrate` learns what it did from them.
#[derive(Clone, Default)]
pub struct MigrationsSeen(Arc<Mutex<Vec<i64>>>);

impl MigrationsSeen {
    /// A layer seeing only the store's migration events (nothing else is
    /// sent to it, so it costs nothing elsewhere).
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        self.clone().with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target("headend_store::migrate", tracing::Level::INFO),
        )
    }

    fn versions(&self) -> Vec<i64> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl<S: tracing::Subscriber> Layer<S> for MigrationsSeen {
    fn on_event(&self, event: &tracing::Event<'_>, _: layer::Context<'_, S>) {
        struct Version(Option<i64>);
        impl Visit for Version {
            fn record_i64(&mut self, field: &Field, value: i64) {
                if field.name() == "version" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut version = Version(None);
        event.record(&mut version);
        if let (Some(v), Ok(mut seen)) = (version.0, self.0.lock()) {
            seen.push(v);
        }
    }
}

/// `dangjian-headend migrate`: applies what is pending and says what it
/// did. A database newer than this binary fails to open with the store's
/// message (exit code 1).
pub fn migrate(url: &str, seen: &MigrationsSeen) -> anyhow::Result<()> {
    // Opening runs `migrate::run` (every start does, so a headend never
    // serves a schema it does not know); running it again finds nothing
    // left unless another headend was migrating at the same moment.
    let db = open(url)?;
    migrate::run(&db)?;
    let mut applied = seen.versions();
    applied.sort_unstable();
    applied.dedup();
    let at = migrate::applied(&db)?.last().copied().unwrap_or(0);
    if applied.is_empty() {
        println!("already at version {at}");
        return Ok(());
    }
    let conn = db.raw()?;
    for version in applied {
        let name: String = conn.query_row(
            "SELECT name FROM schema_migrations WHERE version = ?1",
            params![version],
            |r| r.get(0),
        )?;
        println!("applied version {version} ({name})");
    }
    println!("the database is at version {at}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redacted("postgres://dangjian:hunter2@db.example:5432/dangjian"),
            "postgres://dangjian:***@db.example:5432/dangjian"
        );
        assert_eq!(
            redacted("postgres://dangjian@db/dangjian?sslmode=disable&password=hunter2"),
            "postgres://dangjian@db/dangjian?sslmode=disable&password=***"
        );
        assert_eq!(
            redacted("postgres://dangjian@127.0.0.1:54329/postgres"),
            "postgres://dangjian@127.0.0.1:54329/postgres"
        );
        assert_eq!(
            redacted("/var/lib/dangjian/headend.db"),
            "/var/lib/dangjian/headend.db"
        );
        assert_eq!(redacted("sqlite:///tmp/h.db"), "sqlite:///tmp/h.db");
    }
}
