//! Passwords that arrive from the network: logging in (the API and the
//! console) and changing one's own password. Around the lock-out in
//! `db::login` this adds:
//!
//! - **A limit on failures per address** (`Throttles::login_failures_by_addr`,
//!   an IPv6 address counted by its /64). An attempt takes one from the
//!   address's allowance *before* its password is checked and gives it back
//!   if the password was right, so only failures use it up and parallel
//!   attempts cannot slip past it. A throttled address is answered `429`
//!   with `Retry-After`; nothing it sends is checked, so its guesses count
//!   towards no account's lock-out.
//! - **A bound on Argon2id work**: at most [`ARGON2_AT_ONCE`] checks run at a
//!   time (19 MiB each); a flood of guesses waits its turn instead of
//!   exhausting memory.
//! - **One audit entry per attempt**, with the reason the person is not told
//!   (refusals for being over the limit: one a minute per address).
//!
//! Why nobody can keep the county admin locked out from the network: the
//! account's lock-out binds only addresses the account has not logged in
//! from successfully (see `db::login`), so an attacker who keeps failing
//! locks out other addresses, never the admin's own desk; and an address
//! that keeps failing is throttled here, its attempts not counted at all.

use std::net::IpAddr;

use tokio::sync::Semaphore;

use crate::db::{AuditEntry, DbError, LoginRefused, Outcome, Session};
use crate::throttle::RetryAfter;
use crate::{Actor, Ops, OpsError};

/// Argon2id checks of network passwords running at once.
pub const ARGON2_AT_ONCE: usize = 4;

static ARGON2_SLOTS: Semaphore = Semaphore::const_new(ARGON2_AT_ONCE);

/// A user name as typed is kept in the audit log up to this many characters.
const MAX_LOGGED_NAME: usize = 64;

/// What came of a password from the network.
#[derive(Debug)]
pub enum Checked<T> {
    Ok(T),
    /// Shown to the person as "wrong user name or password", whatever it was.
    Refused(LoginRefused),
    /// Too many failures from this address: not checked at all.
    Throttled(RetryAfter),
}

/// The key an address is limited and trusted by: IPv4 as is, IPv6 by its
/// /64 (one subscriber's network), anything else as given.
pub fn addr_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

/// Runs one password check from `ip` under the per-address limit and the
/// Argon2id bound. `check` gets the address key and the time (unix secs).
async fn guarded<T: Send + 'static>(
    ops: &Ops,
    ip: &str,
    check: impl FnOnce(&str, i64) -> Result<Result<T, LoginRefused>, DbError> + Send + 'static,
) -> Result<Checked<T>, OpsError> {
    let key = addr_key(ip);
    let throttle = &ops.throttles.login_failures_by_addr;
    if let Err(wait) = throttle.hit(&key, ops.now_ms()).await {
        return Ok(Checked::Throttled(wait));
    }
    let slot = ARGON2_SLOTS
        .acquire()
        .await
        .map_err(|e| OpsError::Internal(format!("argon2 slots: {e}")))?;
    let (addr, now) = (key.clone(), ops.now());
    let result = tokio::task::spawn_blocking(move || check(&addr, now))
        .await
        .map_err(|e| OpsError::Internal(e.to_string()))
        .and_then(|r| r.map_err(OpsError::from));
    drop(slot);
    match result {
        Ok(Err(refused)) => Ok(Checked::Refused(refused)),
        // A right password, or an error that was no guess (a new password
        // the rules refuse): the attempt is given back.
        Ok(Ok(value)) => {
            throttle.refund(&key, ops.now_ms()).await;
            Ok(Checked::Ok(value))
        }
        Err(e) => {
            throttle.refund(&key, ops.now_ms()).await;
            Err(e)
        }
    }
}

/// Writes one audit entry about `username`'s password, in the account's
/// region when it exists.
async fn record(
    ops: &Ops,
    username: &str,
    action: &str,
    outcome: Outcome,
    detail: String,
    ip: String,
) -> Result<(), OpsError> {
    let db = ops.db.clone();
    let name: String = username.chars().take(MAX_LOGGED_NAME).collect();
    let lookup = name.clone();
    let region = tokio::task::spawn_blocking(move || db.account(&lookup))
        .await
        .map_err(|e| OpsError::Internal(e.to_string()))??
        .map(|a| a.region.to_string());
    let entry = AuditEntry {
        account: Some(name.clone()),
        action: action.to_string(),
        target: name,
        region,
        ip,
        outcome: Some(outcome),
        detail,
        ..AuditEntry::default()
    };
    if ops.audit.record(entry).await {
        Ok(())
    } else {
        Err(OpsError::Internal("cannot write the audit log".into()))
    }
}

fn throttled_detail(wait: RetryAfter) -> String {
    format!(
        "too many failed attempts from this address; not checked; retry after {} s \
         (further refusals from it in the next minute are not logged)",
        wait.0
    )
}

/// Whether a refusal of `ip` for being over its limit goes into the audit
/// log (one a minute per address).
async fn log_throttled(ops: &Ops, ip: &str) -> bool {
    ops.throttles
        .throttled_logins_logged_by_addr
        .hit(&addr_key(ip), ops.now_ms())
        .await
        .is_ok()
}

/// Tries a login from `ip` and writes the attempt to the audit log,
/// whatever the answer (the API and the console both log in here).
pub async fn login(
    ops: &Ops,
    username: String,
    password: String,
    ip: String,
) -> Result<Checked<Session>, OpsError> {
    let db = ops.db.clone();
    let name = username.clone();
    let checked = guarded(ops, &ip, move |addr, now| {
        db.login(&name, &password, addr, now)
    })
    .await?;
    if matches!(checked, Checked::Throttled(_)) && !log_throttled(ops, &ip).await {
        return Ok(checked);
    }
    let (action, outcome, detail) = match &checked {
        Checked::Ok(_) => ("login", Outcome::Ok, String::new()),
        Checked::Refused(r) if r.unchecked() => ("login_locked", Outcome::Refused, r.detail()),
        Checked::Refused(r) => ("login_failed", Outcome::Failed, r.detail()),
        Checked::Throttled(wait) => ("login_throttled", Outcome::Refused, throttled_detail(*wait)),
    };
    record(ops, &username, action, outcome, detail, ip).await?;
    Ok(checked)
}

/// Changes the caller's own password given the current one, checked and
/// counted like a login from `ip`; a refusal is audited and noted for the
/// request's own audit entry (the API and the console both change here).
/// `session` is the token of the request, which stays logged in.
pub async fn change_own_password(
    ops: &Ops,
    caller: &Actor,
    session: &str,
    ip: String,
    current: String,
    new: String,
) -> Result<Checked<()>, OpsError> {
    let db = ops.db.clone();
    let name = caller.account.username.clone();
    let keep = session.to_string();
    let checked = guarded(ops, &ip, move |addr, now| {
        db.change_own_password(&name, &current, &new, addr, &keep, now)
    })
    .await?;
    let (action, outcome, detail) = match &checked {
        Checked::Ok(()) => return Ok(checked),
        Checked::Refused(r) if r.unchecked() => {
            ("password_change_locked", Outcome::Refused, r.detail())
        }
        Checked::Refused(r) => ("password_change_failed", Outcome::Failed, r.detail()),
        Checked::Throttled(wait) => (
            "password_change_throttled",
            Outcome::Refused,
            throttled_detail(*wait),
        ),
    };
    caller.note_refusal(&format!("current password not accepted: {detail}"));
    if matches!(checked, Checked::Throttled(_)) && !log_throttled(ops, &ip).await {
        return Ok(checked);
    }
    record(ops, &caller.account.username, action, outcome, detail, ip).await?;
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::addr_key;

    #[test]
    fn ipv6_is_limited_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(addr_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(addr_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(
            addr_key("2001:db8:1:2:aaaa::1"),
            addr_key("2001:db8:1:2:bbbb::2")
        );
        assert_ne!(addr_key("2001:db8:1:2::1"), addr_key("2001:db8:1:3::1"));
        assert_eq!(addr_key(""), "");
    }
}
