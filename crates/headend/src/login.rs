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

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio::sync::Semaphore;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::db::{AuditEntry, DbError, LoginRefused, Outcome, Session};
use crate::push::now_ms;
use crate::throttle::RetryAfter;

/// Argon2id checks of network passwords running at once.
pub const ARGON2_AT_ONCE: usize = 4;

static ARGON2_SLOTS: Semaphore = Semaphore::const_new(ARGON2_AT_ONCE);

/// A user name as typed is kept in the audit log up to this many characters.
const MAX_LOGGED_NAME: usize = 64;

/// What came of a password from the network.
#[derive(Debug)]
pub(crate) enum Checked<T> {
    Ok(T),
    /// Shown to the person as "wrong user name or password", whatever it was.
    Refused(LoginRefused),
    /// Too many failures from this address: not checked at all.
    Throttled(RetryAfter),
}

/// The key an address is limited and trusted by: IPv4 as is, IPv6 by its
/// /64 (one subscriber's network), anything else as given.
pub(crate) fn addr_key(ip: &str) -> String {
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

/// `429 too_many_attempts` with `Retry-After`, for the API.
pub(crate) fn throttled_response(wait: RetryAfter) -> Response {
    let body = model::ApiError {
        code: "too_many_attempts".into(),
        message: format!(
            "too many failed attempts from this address; try again in {} seconds",
            wait.0
        ),
    };
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait.0.to_string())],
        Json(body),
    )
        .into_response()
}

/// Runs one password check from `ip` under the per-address limit and the
/// Argon2id bound. `check` gets the address key and the time (unix secs).
async fn guarded<T: Send + 'static>(
    state: &AppState,
    ip: &str,
    check: impl FnOnce(&str, i64) -> Result<Result<T, LoginRefused>, DbError> + Send + 'static,
) -> Result<Checked<T>, ApiError> {
    let key = addr_key(ip);
    let throttle = &state.ops.throttles.login_failures_by_addr;
    if let Err(wait) = throttle.hit(&key, now_ms()).await {
        return Ok(Checked::Throttled(wait));
    }
    let slot = ARGON2_SLOTS
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("argon2 slots: {e}")))?;
    let addr = key.clone();
    let result = blocking(move || Ok(check(&addr, now_ms() / 1000)?)).await;
    drop(slot);
    match result {
        Ok(Err(refused)) => Ok(Checked::Refused(refused)),
        // A right password, or an error that was no guess (a new password
        // the rules refuse): the attempt is given back.
        Ok(Ok(value)) => {
            throttle.refund(&key, now_ms()).await;
            Ok(Checked::Ok(value))
        }
        Err(e) => {
            throttle.refund(&key, now_ms()).await;
            Err(e)
        }
    }
}

/// Writes one audit entry about `username`'s password, in the account's
/// region when it exists.
async fn record(
    state: &AppState,
    username: &str,
    action: &str,
    outcome: Outcome,
    detail: String,
    ip: String,
) -> Result<(), ApiError> {
    let db = state.db.clone();
    let name: String = username.chars().take(MAX_LOGGED_NAME).collect();
    let lookup = name.clone();
    let region = blocking(move || Ok(db.account(&lookup)?.map(|a| a.region.to_string()))).await?;
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
    if state.ops.audit.record(entry).await {
        Ok(())
    } else {
        Err(ApiError::Internal("cannot write the audit log".into()))
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
async fn log_throttled(state: &AppState, ip: &str) -> bool {
    state
        .ops
        .throttles
        .throttled_logins_logged_by_addr
        .hit(&addr_key(ip), now_ms())
        .await
        .is_ok()
}

/// Tries a login from `ip` and writes the attempt to the audit log,
/// whatever the answer (the API and the console both log in here).
pub(crate) async fn login(
    state: &AppState,
    username: String,
    password: String,
    ip: String,
) -> Result<Checked<Session>, ApiError> {
    let db = state.db.clone();
    let name = username.clone();
    let checked = guarded(state, &ip, move |addr, now| {
        db.login(&name, &password, addr, now)
    })
    .await?;
    if matches!(checked, Checked::Throttled(_)) && !log_throttled(state, &ip).await {
        return Ok(checked);
    }
    let (action, outcome, detail) = match &checked {
        Checked::Ok(_) => ("login", Outcome::Ok, String::new()),
        Checked::Refused(r) if r.unchecked() => ("login_locked", Outcome::Refused, r.detail()),
        Checked::Refused(r) => ("login_failed", Outcome::Failed, r.detail()),
        Checked::Throttled(wait) => ("login_throttled", Outcome::Refused, throttled_detail(*wait)),
    };
    record(state, &username, action, outcome, detail, ip).await?;
    Ok(checked)
}

/// Changes the caller's own password given the current one, checked and
/// counted like a login from `ip`; a refusal is audited and noted for the
/// request's own audit entry (the API and the console both change here).
pub(crate) async fn change_own_password(
    state: &AppState,
    caller: &Caller,
    ip: String,
    current: String,
    new: String,
) -> Result<Checked<()>, ApiError> {
    let db = state.db.clone();
    let name = caller.account.username.clone();
    let keep = caller.session_token().to_string();
    let checked = guarded(state, &ip, move |addr, now| {
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
    if matches!(checked, Checked::Throttled(_)) && !log_throttled(state, &ip).await {
        return Ok(checked);
    }
    record(state, &caller.account.username, action, outcome, detail, ip).await?;
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
