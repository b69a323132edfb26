//! Rate limits: how often one key (a source address, a code prefix) may
//! do something before it is told to wait.
//!
//! Each (kind, key) has a token bucket: `burst` tokens, refilled at
//! `per_minute`. An attempt takes a token or is refused with the seconds
//! until the next one. The buckets live in the database
//! (`headend_store::replicas`), so every replica counts the same attempts
//! and a restart forgets none; buckets that filled up again are pruned
//! hourly, so a flood of spoofed keys costs a bounded table.

use std::sync::Arc;

use crate::db::replicas::{Rate, RateOp};
use crate::db::Db;

/// An attempt that must wait: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// One kind of limit.
#[derive(Clone)]
pub struct Throttle {
    kind: &'static str,
    rate: Rate,
    db: Arc<Db>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("kind", &self.kind)
            .field("rate", &self.rate)
            .finish()
    }
}

impl Throttle {
    /// `burst` attempts at once, then `per_minute` on average, per key.
    pub fn new(db: Arc<Db>, kind: &'static str, burst: u32, per_minute: u32) -> Throttle {
        Throttle {
            kind,
            rate: Rate { burst, per_minute },
            db,
        }
    }

    async fn step(&self, key: &str, op: RateOp, now_ms: i64) -> Result<(), RetryAfter> {
        let (db, kind, rate, key) = (self.db.clone(), self.kind, self.rate, key.to_string());
        let answer =
            tokio::task::spawn_blocking(move || db.rate_limit(kind, &key, rate, op, now_ms)).await;
        match answer {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(wait_ms))) => Err(RetryAfter(wait_ms.div_ceil(1000).max(1))),
            // A broken limit must not lock everybody out; the database is
            // failing anyway and says so in the log.
            other => {
                tracing::warn!(?other, kind, "cannot apply a rate limit");
                Ok(())
            }
        }
    }

    /// Takes one attempt for `key` at `now_ms`, or says how long to wait.
    pub async fn hit(&self, key: &str, now_ms: i64) -> Result<(), RetryAfter> {
        self.step(key, RateOp::Take, now_ms).await
    }

    /// Whether `key` would be refused now, without taking anything.
    pub async fn check(&self, key: &str, now_ms: i64) -> Result<(), RetryAfter> {
        self.step(key, RateOp::Check, now_ms).await
    }

    /// Gives back one attempt (it turned out not to count).
    pub async fn refund(&self, key: &str, now_ms: i64) {
        let _ = self.step(key, RateOp::Refund, now_ms).await;
    }
}

/// Failed logins (and wrong current passwords) one address may make at once.
pub const LOGIN_FAILURE_BURST: u32 = 10;
/// ... and how fast it may make more after that.
pub const LOGIN_FAILURES_PER_MINUTE: u32 = 1;

/// The limits the headend applies, one per kind of attempt.
#[derive(Debug)]
pub struct Throttles {
    /// Failed logins from one source address.
    pub login_failures_by_addr: Throttle,
    /// Audit entries for logins refused by `login_failures_by_addr`, per
    /// address: one a minute is enough to see it, a flood must not fill
    /// the disk.
    pub throttled_logins_logged_by_addr: Throttle,
    /// `/provision` attempts from one source address.
    pub provision_by_addr: Throttle,
    /// `/provision` attempts naming codes with the same first digits (a
    /// brute force spread over many addresses still hits one prefix).
    pub provision_by_code_prefix: Throttle,
    /// Audit rows for `/provision` attempts refused by the two limits
    /// above, per source address: enough to see a flood, too few to fill
    /// the disk with it.
    pub provision_refusals_audited_by_addr: Throttle,
}

impl Throttles {
    pub fn new(db: Arc<Db>) -> Self {
        let t = |kind, burst, per_minute| Throttle::new(db.clone(), kind, burst, per_minute);
        Throttles {
            // Ten mistakes at once (an office behind one address), then
            // one a minute: a password spray from one address gets ~1,400
            // guesses a day over all accounts, while each account's own
            // lock-out allows 5 per 15 minutes (see `crate::login`).
            login_failures_by_addr: t(
                "login_failures",
                LOGIN_FAILURE_BURST,
                LOGIN_FAILURES_PER_MINUTE,
            ),
            throttled_logins_logged_by_addr: t("login_throttled_logged", 1, 1),
            provision_by_addr: t("provision_addr", 10, 6),
            provision_by_code_prefix: t("provision_prefix", 20, 10),
            provision_refusals_audited_by_addr: t("provision_throttled_logged", 1, 1),
        }
    }
}
