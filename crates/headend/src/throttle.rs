//! Rate limits: how often one key (a source address, a code prefix, an
//! account) may do something before it is told to wait.
//!
//! Each key has a token bucket: `burst` tokens, refilled at `per_minute`.
//! An attempt takes a token or is refused with the seconds until the next
//! one. The table is bounded: past `max_keys` the buckets that have filled
//! up again (they hold no information) are dropped, then the stalest, so a
//! flood of spoofed keys costs a fixed amount of memory.
//!
//! Kept in memory per process for now; the city-scale issue moves them
//! into the database so every replica shares them.

use std::collections::HashMap;
use std::sync::Mutex;

/// A token, allowing for the rounding of many small refills.
const WHOLE: f64 = 1.0 - 1e-9;

/// One kind of limit.
#[derive(Debug)]
pub struct Throttle {
    burst: f64,
    per_ms: f64,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// An attempt that must wait: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl Throttle {
    /// `burst` attempts at once, then `per_minute` on average.
    pub fn new(burst: u32, per_minute: u32) -> Throttle {
        Throttle::bounded(burst, per_minute, 100_000)
    }

    /// Like [`Throttle::new`] with at most `max_keys` keys remembered.
    pub fn bounded(burst: u32, per_minute: u32, max_keys: usize) -> Throttle {
        Throttle {
            burst: f64::from(burst.max(1)),
            per_ms: f64::from(per_minute.max(1)) / 60_000.0,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, bucket: Bucket, now_ms: i64) -> f64 {
        let elapsed = (now_ms - bucket.at_ms).max(0) as f64;
        (bucket.tokens + elapsed * self.per_ms).min(self.burst)
    }

    fn wait(&self, tokens: f64) -> RetryAfter {
        let missing = (1.0 - tokens).max(0.0);
        RetryAfter(((missing / self.per_ms) / 1000.0).ceil().max(1.0) as u64)
    }

    /// Takes one attempt for `key` at `now_ms`, or says how long to wait.
    pub fn hit(&self, key: &str, now_ms: i64) -> Result<(), RetryAfter> {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned table must not lock everybody out.
            return Ok(());
        };
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            self.make_room(&mut buckets, now_ms);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at_ms: now_ms,
        });
        let tokens = self.refilled(*bucket, now_ms);
        if tokens >= WHOLE {
            *bucket = Bucket {
                tokens: (tokens - 1.0).max(0.0),
                at_ms: now_ms,
            };
            Ok(())
        } else {
            *bucket = Bucket {
                tokens,
                at_ms: now_ms,
            };
            Err(self.wait(tokens))
        }
    }

    /// Whether `key` would be refused now, without taking anything.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), RetryAfter> {
        let Ok(buckets) = self.buckets.lock() else {
            return Ok(());
        };
        match buckets.get(key) {
            Some(b) => {
                let tokens = self.refilled(*b, now_ms);
                if tokens >= WHOLE {
                    Ok(())
                } else {
                    Err(self.wait(tokens))
                }
            }
            None => Ok(()),
        }
    }

    /// Gives back one attempt taken by [`Throttle::hit`] (e.g. a login
    /// that turned out right: only failures should use up the limit).
    pub fn refund(&self, key: &str, now_ms: i64) {
        if let Ok(mut buckets) = self.buckets.lock() {
            if let Some(bucket) = buckets.get_mut(key) {
                let tokens = self.refilled(*bucket, now_ms);
                *bucket = Bucket {
                    tokens: (tokens + 1.0).min(self.burst),
                    at_ms: now_ms,
                };
            }
        }
    }

    /// Forgets `key` (e.g. after a successful login from that address).
    pub fn forget(&self, key: &str) {
        if let Ok(mut buckets) = self.buckets.lock() {
            buckets.remove(key);
        }
    }

    fn make_room(&self, buckets: &mut HashMap<String, Bucket>, now_ms: i64) {
        let full = self.burst;
        buckets.retain(|_, b| self.refilled(*b, now_ms) < full);
        if buckets.len() >= self.max_keys {
            // Still full of active keys: drop the stalest tenth.
            let mut ages: Vec<(i64, String)> =
                buckets.iter().map(|(k, b)| (b.at_ms, k.clone())).collect();
            ages.sort_unstable();
            for (_, key) in ages.into_iter().take(self.max_keys / 10 + 1) {
                buckets.remove(&key);
            }
        }
    }

    /// Keys remembered now (for tests and the memory bound).
    pub fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

impl Default for Throttles {
    fn default() -> Self {
        Throttles {
            // Ten mistakes at once (an office behind one address), then
            // one a minute: a password spray from one address gets ~1,400
            // guesses a day over all accounts, while each account's own
            // lock-out allows 5 per 15 minutes (see `crate::login`).
            login_failures_by_addr: Throttle::new(LOGIN_FAILURE_BURST, LOGIN_FAILURES_PER_MINUTE),
            throttled_logins_logged_by_addr: Throttle::new(1, 1),
            provision_by_addr: Throttle::new(10, 6),
            provision_by_code_prefix: Throttle::new(20, 10),
            provision_refusals_audited_by_addr: Throttle::new(1, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_then_refill() {
        let t = Throttle::new(3, 60); // one a second after the burst
        for _ in 0..3 {
            assert_eq!(t.hit("a", 0), Ok(()));
        }
        assert_eq!(t.hit("a", 0), Err(RetryAfter(1)));
        // Another key is not affected.
        assert_eq!(t.hit("b", 0), Ok(()));
        assert_eq!(t.hit("a", 1_000), Ok(()));
        assert!(t.hit("a", 1_000).is_err());
        assert!(t.check("a", 1_000).is_err());
        t.forget("a");
        assert_eq!(t.check("a", 1_000), Ok(()));
    }

    #[test]
    fn a_refund_gives_back_one_attempt_only() {
        let t = Throttle::new(2, 1);
        assert!(t.hit("a", 0).is_ok());
        assert!(t.hit("a", 0).is_ok());
        assert!(t.hit("a", 0).is_err());
        t.refund("a", 0);
        t.refund("a", 0);
        t.refund("a", 0);
        assert!(t.hit("a", 0).is_ok());
        assert!(t.hit("a", 0).is_ok());
        assert!(t.hit("a", 0).is_err(), "never more than the burst");
    }

    #[test]
    fn refusals_do_not_extend_the_wait() {
        let t = Throttle::new(1, 60);
        assert!(t.hit("a", 0).is_ok());
        for ms in (0..1_000).step_by(100) {
            assert!(t.hit("a", ms).is_err());
        }
        assert!(t.hit("a", 1_000).is_ok());
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = Throttle::bounded(2, 1, 100);
        for i in 0..10_000 {
            let _ = t.hit(&format!("k{i}"), i);
        }
        assert!(t.len() <= 100, "{} keys", t.len());
    }
}
