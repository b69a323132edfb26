//! What several headend processes on one database share beyond the data:
//! a doorbell between them, a lock for jobs that must run once, which
//! boxes were seen lately, and rate limits.
//!
//! - **Doorbell**: [`Db::ring`] sends a short text to every process
//!   (PostgreSQL `NOTIFY`); [`Db::listen`] receives them on a connection of
//!   its own. It only says "look again": what changed is read from the
//!   database, so a ring lost while a listener reconnects loses nothing
//!   (the listener reports [`Heard::Reconnected`] and its owner re-reads).
//!   SQLite has one process: ringing there is local and listening is
//!   unnecessary ([`Db::listen`] answers `None`).
//! - **Exclusive jobs**: [`Db::exclusive`] runs a job only if no other
//!   process is running the same one (a transaction-scoped advisory lock).
//! - **Presence**: when each box last reached any process.
//! - **Rate limits**: token buckets in a table, so every process counts
//!   the same attempts and a restart forgets nothing.

use std::sync::mpsc;
use std::time::Duration;

use crate::sql::{params, Backend, OptionalExtension, Sql};
use crate::{Db, DbError};

/// What a listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A ring with its text.
    Ring(String),
    /// The connection was lost and made again: rings in between may be
    /// lost; read again what they would have announced.
    Reconnected,
}

/// Rings on one channel, received on a thread of its own. Dropping it
/// stops listening (the thread ends at its next wake-up).
#[derive(Debug)]
pub struct Listener {
    heard: mpsc::Receiver<Heard>,
    _stop: mpsc::Sender<()>,
}

impl Listener {
    /// The next ring, waiting at most `timeout`; `None` if none came.
    pub fn next(&self, timeout: Duration) -> Option<Heard> {
        self.heard.recv_timeout(timeout).ok()
    }
}

/// Channel names are identifiers we choose; keep them plain.
fn checked_channel(channel: &str) -> Result<&str, DbError> {
    if !channel.is_empty()
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
    {
        Ok(channel)
    } else {
        Err(DbError::BadInput(format!(
            "channel {channel:?} must be lowercase letters, digits and _"
        )))
    }
}

/// A rate-limit step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateOp {
    /// Take one token, or say how long until there is one.
    Take,
    /// Say whether one could be taken, without taking it.
    Check,
    /// Give one back (the attempt turned out not to count).
    Refund,
}

/// A bucket: `burst` tokens, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

impl Rate {
    fn per_ms(self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60_000.0
    }

    fn burst(self) -> f64 {
        f64::from(self.burst.max(1))
    }
}

/// A token, allowing for the rounding of many small refills.
const WHOLE: f64 = 1.0 - 1e-9;

impl Db {
    /// Rings every process listening on `channel` (including this one)
    /// with `text` (at most a few hundred bytes: an id, not the data).
    /// On SQLite nothing is sent (there are no other processes); the
    /// caller delivers locally. Returns whether it was sent.
    pub fn ring(&self, channel: &str, text: &str) -> Result<bool, DbError> {
        let channel = checked_channel(channel)?;
        if self.backend() == Backend::Sqlite {
            return Ok(false);
        }
        self.lock()?
            .execute("SELECT pg_notify(?1, ?2)", params![channel, text])?;
        Ok(true)
    }

    /// Listens on `channel` on a connection of its own (PostgreSQL); `None`
    /// on SQLite, where [`Db::ring`] sends nothing.
    pub fn listen(&self, channel: &str) -> Result<Option<Listener>, DbError> {
        let channel = checked_channel(channel)?.to_string();
        let url = match self.pg_url() {
            Some(url) => url.to_string(),
            None => return Ok(None),
        };
        let (heard_tx, heard) = mpsc::channel();
        let (stop, stopped) = mpsc::channel::<()>();
        let (ready_tx, ready) = mpsc::channel::<Result<(), DbError>>();
        std::thread::Builder::new()
            .name("listen".into())
            .spawn(move || {
                crate::sql::pg::listen_loop(&url, &channel, &heard_tx, &stopped, ready_tx)
            })
            .map_err(|e| DbError::Postgres(format!("cannot start the listener: {e}")))?;
        // The first connection must work: a wrong URL fails at start.
        ready
            .recv()
            .map_err(|_| DbError::Postgres("the listener stopped".into()))??;
        Ok(Some(Listener { heard, _stop: stop }))
    }

    /// Runs `job` unless another process is running the job named `key`
    /// right now; `None` when it was skipped. On SQLite (one process) it
    /// always runs.
    pub fn exclusive<T>(
        &self,
        key: &str,
        job: impl FnOnce() -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        if self.backend() == Backend::Sqlite {
            return job().map(Some);
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let got: bool = tx.query_row(
            "SELECT pg_try_advisory_xact_lock(?1)",
            params![lock_key(key)],
            |r| r.get(0),
        )?;
        if !got {
            return Ok(None);
        }
        // The lock is the transaction's: it is held while the job runs on
        // other connections, and let go when the transaction ends.
        let out = job();
        tx.commit()?;
        out.map(Some)
    }

    /// Notes that `devices` reached this process at `now_ms`.
    pub fn mark_seen(&self, devices: &[String], now_ms: i64) -> Result<(), DbError> {
        if devices.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        for chunk in devices.chunks(500) {
            let rows = vec!["(?, ?)"; chunk.len()].join(", ");
            let mut args = Vec::with_capacity(chunk.len() * 2);
            for d in chunk {
                args.push(crate::sql::Value::Text(d.clone()));
                args.push(crate::sql::Value::Int(now_ms));
            }
            tx.execute(
                &format!(
                    "INSERT INTO presence(device, seen_at_ms) VALUES {rows}
                     ON CONFLICT(device) DO UPDATE SET seen_at_ms = excluded.seen_at_ms
                     WHERE presence.seen_at_ms < excluded.seen_at_ms"
                ),
                args,
            )?;
        }
        tx.commit()
    }

    /// Boxes seen by any process since `since_ms`, with when.
    pub fn seen_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>, DbError> {
        self.lock()?
            .prepare_cached("SELECT device, seen_at_ms FROM presence WHERE seen_at_ms >= ?1")?
            .query_map([since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    }

    /// When each box was last seen by any process.
    pub fn last_seen_all(&self) -> Result<Vec<(String, i64)>, DbError> {
        self.seen_since(0)
    }

    /// One step of the token bucket (`kind`, `key`) at `now_ms`: `Ok` or
    /// the milliseconds until a token is there.
    pub fn rate_limit(
        &self,
        kind: &str,
        key: &str,
        rate: Rate,
        op: RateOp,
        now_ms: i64,
    ) -> Result<Result<(), u64>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let stored: Option<(f64, i64)> = tx
            .query_row(
                &format!(
                    "SELECT tokens, at_ms FROM rate_limits WHERE kind = ?1 AND key = ?2{}",
                    tx.backend().for_update()
                ),
                params![kind, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let tokens = match stored {
            Some((tokens, at)) => {
                (tokens + (now_ms - at).max(0) as f64 * rate.per_ms()).min(rate.burst())
            }
            None => rate.burst(),
        };
        let (after, answer) = match op {
            RateOp::Check => (None, tokens),
            RateOp::Take if tokens >= WHOLE => (Some((tokens - 1.0).max(0.0)), tokens),
            RateOp::Take => (Some(tokens), tokens),
            RateOp::Refund => (Some((tokens + 1.0).min(rate.burst())), rate.burst()),
        };
        if let Some(after) = after {
            tx.execute(
                "INSERT INTO rate_limits(kind, key, tokens, at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(kind, key) DO UPDATE SET tokens = excluded.tokens,
                 at_ms = excluded.at_ms",
                params![kind, key, after, now_ms],
            )?;
        }
        tx.commit()?;
        if answer >= WHOLE {
            Ok(Ok(()))
        } else {
            let missing = (1.0 - answer).max(0.0);
            Ok(Err((missing / rate.per_ms()).ceil().max(1.0) as u64))
        }
    }

    /// Forgets buckets untouched for `longest_refill_ms` (full again, so
    /// they hold nothing).
    pub fn prune_rates(&self, now_ms: i64, longest_refill_ms: i64) -> Result<usize, DbError> {
        let conn = self.lock()?;
        conn.execute(
            "DELETE FROM rate_limits WHERE at_ms < ?1",
            params![now_ms - longest_refill_ms],
        )
    }
}

/// A stable 64-bit key for a job name (FNV-1a), for the advisory lock.
fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_take_refill_and_refund() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_test(dir.path()).expect("db");
        let rate = Rate {
            burst: 2,
            per_minute: 60,
        };
        let take = |t| db.rate_limit("login", "10.0.0.1", rate, RateOp::Take, t);
        assert_eq!(take(0).expect("db"), Ok(()));
        assert_eq!(take(0).expect("db"), Ok(()));
        assert_eq!(take(0).expect("db"), Err(1000));
        // Another key is its own bucket.
        assert_eq!(
            db.rate_limit("login", "10.0.0.2", rate, RateOp::Take, 0)
                .expect("db"),
            Ok(())
        );
        assert_eq!(take(1_000).expect("db"), Ok(()));
        assert!(take(1_000).expect("db").is_err());
        db.rate_limit("login", "10.0.0.1", rate, RateOp::Refund, 1_000)
            .expect("db")
            .expect("refund");
        assert_eq!(
            db.rate_limit("login", "10.0.0.1", rate, RateOp::Check, 1_000)
                .expect("db"),
            Ok(())
        );
        assert_eq!(db.prune_rates(10_000_000, 60_000).expect("db"), 2);
    }

    #[test]
    fn presence_keeps_the_latest() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_test(dir.path()).expect("db");
        db.mark_seen(&["a".into(), "b".into()], 100).expect("seen");
        db.mark_seen(&["a".into()], 50).expect("older");
        let mut seen = db.seen_since(60).expect("read");
        seen.sort();
        assert_eq!(seen, vec![("a".to_string(), 100), ("b".to_string(), 100)]);
    }

    #[test]
    fn a_ring_reaches_the_listener_and_an_exclusive_job_runs_once_at_a_time() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_test(dir.path()).expect("db");
        let Some(listener) = db.listen("dangjian_test").expect("listen") else {
            // SQLite: one process, nothing to ring; jobs always run.
            assert!(!db.ring("dangjian_test", "x").expect("ring"));
            assert_eq!(db.exclusive("job", || Ok(1)).expect("run"), Some(1));
            return;
        };
        assert!(db.ring("dangjian_test", "feed:42").expect("ring"));
        let heard = (0..40).find_map(|_| listener.next(Duration::from_millis(250)));
        assert_eq!(heard, Some(Heard::Ring("feed:42".into())));
        // While one process runs the job, another skips it.
        let inner = db
            .exclusive("scheduler", || db.exclusive("scheduler", || Ok(2)))
            .expect("outer");
        assert_eq!(inner, Some(None));
        assert_eq!(db.exclusive("scheduler", || Ok(3)).expect("again"), Some(3));
    }

    #[test]
    fn channel_names_are_plain() {
        assert!(checked_channel("dangjian_push").is_ok());
        assert!(checked_channel("a; DROP").is_err());
        assert!(checked_channel("").is_err());
    }
}
