//! Checking a password against the lock-out, safely under parallel guesses,
//! and so that nobody on the network can keep an account locked for good.
//!
//! **Reserve, then check.** Argon2id takes tens of milliseconds, so the
//! failure count cannot be read before the check and written after it:
//! forty guesses sent at once would all be checked. Instead one
//! transaction counts the attempt as a failure *before* its password is
//! checked (refusing it unchecked when the allowance is used up), and the
//! count is cleared if the password turns out right. However many guesses
//! arrive together, at most [`MAX_FAILED_LOGINS`] passwords are checked per
//! lock-out period; the one that uses the last allowance locks the account
//! at once, and a success releases it.
//!
//! **Trusted addresses.** The lock-out only binds addresses the account has
//! not logged in from successfully in the last [`TRUSTED_ADDRESS_SECS`]: an
//! attacker who keeps failing from the cable network locks out everybody
//! else, but not the county admin at the desk they always use. A trusted
//! address has its own allowance of [`MAX_FAILED_LOGINS`] failures in a row;
//! past that it loses its standing and the account's lock-out binds it too.
//! (The per-address limit in `crate::login` comes on top of both.)
//!
//! **Same work, same answer.** An unknown user name and a locked account
//! are checked against a dummy hash, so every refusal costs one Argon2id
//! check; the caller shows every [`LoginRefused`] the same way.
//!
//! **Decided on the account as it is.** The check runs outside any lock, so
//! the password may be reset or the account disabled meanwhile. What a
//! right password opens (a session, a new password) is written in one
//! transaction that first locks the account row and finds the password
//! checked still current and the account enabled; a reset or a disabling
//! writes that row first too, so one of the two comes entirely after the
//! other and no session of an old password outlives a reset.

use std::sync::OnceLock;

use crate::sql::{params, OptionalExtension, Sql, Tx};

use super::accounts::{
    account, check_password, hash_password, new_token, password_matches, token_digest,
    LOCKOUT_SECS, MAX_FAILED_LOGINS, SESSION_SECS,
};
use super::{Db, DbError};
use crate::Session;

/// How long a successful login keeps its address trusted.
pub const TRUSTED_ADDRESS_SECS: i64 = 90 * 24 * 3600;
/// Addresses remembered per account (the most recent).
const MAX_TRUSTED_ADDRESSES: i64 = 16;

/// Why a password was not accepted. The API and the console answer every
/// one of these the same way (so nobody learns which accounts exist or
/// are locked); the audit log keeps the difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefused {
    /// No such account (checked against a dummy hash).
    UnknownAccount,
    /// The account is disabled (the password was checked and counted).
    Disabled,
    /// The password was checked and is wrong; `locked_until` is set when
    /// this failure locked the account.
    WrongPassword { locked_until: Option<i64> },
    /// Locked: refused without checking the password.
    Locked { until: i64 },
}

impl LoginRefused {
    /// For the audit log: what happened, in a few words.
    pub fn detail(&self) -> String {
        match self {
            LoginRefused::UnknownAccount => "no such account".into(),
            LoginRefused::Disabled => "account disabled".into(),
            LoginRefused::WrongPassword { locked_until: None } => "wrong password".into(),
            LoginRefused::WrongPassword {
                locked_until: Some(until),
            } => format!("wrong password; account locked until {until}"),
            LoginRefused::Locked { until } => {
                format!("refused without checking the password: locked until {until}")
            }
        }
    }

    /// True if the password was not even checked (the account is locked).
    pub fn unchecked(&self) -> bool {
        matches!(self, LoginRefused::Locked { .. })
    }
}

/// How one attempt was counted before its password was checked.
enum Reserved {
    Unknown,
    Locked {
        until: i64,
    },
    /// From a trusted address: counted against that address only.
    Trusted {
        hash: String,
        disabled: bool,
    },
    /// Counted against the account's lock-out.
    Counted {
        hash: String,
        disabled: bool,
        locks_until: Option<i64>,
    },
}

/// A hash no password matches, checked for unknown and locked accounts so
/// they cost as much time as a wrong password.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password(&new_token()).ok())
        .as_deref()
}

/// One Argon2id check of `password`, against `hash` or (none: always
/// false) the dummy.
fn check(password: &str, hash: Option<&str>) -> bool {
    match (hash, dummy_hash()) {
        (Some(stored), _) => password_matches(password, stored),
        (None, Some(dummy)) => {
            let _ = password_matches(password, dummy);
            false
        }
        (None, None) => {
            // No dummy could be made: spend the time another way.
            let _ = hash_password(password);
            false
        }
    }
}

fn trusted_failures(
    tx: &impl Sql,
    username: &str,
    addr: &str,
    now: i64,
) -> Result<Option<i64>, DbError> {
    if addr.is_empty() {
        return Ok(None);
    }
    Ok(tx
        .prepare_cached(
            "SELECT failed FROM login_addresses
             WHERE username = ?1 AND addr = ?2 AND last_ok_at > ?3",
        )?
        .query_row(params![username, addr, now - TRUSTED_ADDRESS_SECS], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
        .filter(|failed| *failed < i64::from(MAX_FAILED_LOGINS)))
}

fn reserve(tx: &impl Sql, username: &str, addr: &str, now: i64) -> Result<Reserved, DbError> {
    let row: Option<(String, bool, i64, i64)> = tx
        .prepare_cached(&format!(
            "SELECT password_hash, disabled, failed_logins, locked_until
                 FROM accounts WHERE username = ?1{}",
            tx.backend().for_update()
        ))?
        .query_row([username], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((hash, disabled, failed, locked_until)) = row else {
        return Ok(Reserved::Unknown);
    };
    if trusted_failures(tx, username, addr, now)?.is_some() {
        tx.execute(
            "UPDATE login_addresses SET failed = failed + 1 WHERE username = ?1 AND addr = ?2",
            params![username, addr],
        )?;
        return Ok(Reserved::Trusted { hash, disabled });
    }
    if locked_until > now {
        return Ok(Reserved::Locked {
            until: locked_until,
        });
    }
    // A lock that has run out gives a fresh allowance.
    let failed = if locked_until > 0 { 0 } else { failed } + 1;
    let locks_until = (failed >= i64::from(MAX_FAILED_LOGINS)).then_some(now + LOCKOUT_SECS);
    tx.execute(
        "UPDATE accounts SET failed_logins = ?2, locked_until = ?3 WHERE username = ?1",
        params![username, failed, locks_until.unwrap_or(0)],
    )?;
    Ok(Reserved::Counted {
        hash,
        disabled,
        locks_until,
    })
}

/// Remembers `addr` as one `username` logs in from, with a clean slate.
fn trust(tx: &impl Sql, username: &str, addr: &str, now: i64) -> Result<(), DbError> {
    if addr.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO login_addresses(username, addr, last_ok_at, failed) VALUES (?1, ?2, ?3, 0)
         ON CONFLICT(username, addr) DO UPDATE SET last_ok_at = excluded.last_ok_at, failed = 0",
        params![username, addr, now],
    )?;
    tx.execute(
        "DELETE FROM login_addresses WHERE username = ?1 AND addr NOT IN
         (SELECT addr FROM login_addresses WHERE username = ?1
          ORDER BY last_ok_at DESC LIMIT ?2)",
        params![username, MAX_TRUSTED_ADDRESSES],
    )?;
    Ok(())
}

impl Db {
    /// Checks `password` for `username` from `addr` under the lock-out (see
    /// the module notes); a success clears the failures it answers for and
    /// runs `then` in the same transaction, with the account row locked and
    /// found unchanged since the check.
    fn attempt<T>(
        &self,
        username: &str,
        password: &str,
        addr: &str,
        now: i64,
        then: impl FnOnce(&Tx<'_>) -> Result<T, DbError>,
    ) -> Result<Result<T, LoginRefused>, DbError> {
        let reserved = {
            let mut conn = self.lock()?;
            let tx = conn.transaction()?;
            let reserved = reserve(&tx, username, addr, now)?;
            tx.commit()?;
            reserved
        };
        // Check outside the lock: Argon2id takes tens of milliseconds.
        let (hash, disabled, trusted, locks_until) = match &reserved {
            Reserved::Unknown => {
                check(password, None);
                return Ok(Err(LoginRefused::UnknownAccount));
            }
            Reserved::Locked { until } => {
                check(password, None);
                return Ok(Err(LoginRefused::Locked { until: *until }));
            }
            Reserved::Trusted { hash, disabled } => (hash, *disabled, true, None),
            Reserved::Counted {
                hash,
                disabled,
                locks_until,
            } => (hash, *disabled, false, *locks_until),
        };
        let right = check(password, Some(hash));
        if disabled {
            return Ok(Err(LoginRefused::Disabled));
        }
        if !right {
            // Already counted when reserved.
            return Ok(Err(LoginRefused::WrongPassword {
                locked_until: locks_until,
            }));
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let current: Option<(String, bool)> = tx
            .query_row(
                &format!(
                    "SELECT password_hash, disabled FROM accounts WHERE username = ?1{}",
                    tx.backend().for_update()
                ),
                [username],
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
            )
            .optional()?;
        match current {
            Some((_, true)) => return Ok(Err(LoginRefused::Disabled)),
            Some((now_hash, false)) if now_hash == *hash => {}
            // Reset while it was checked: the password given is not the
            // account's any more, and its failure stays counted.
            _ => return Ok(Err(LoginRefused::WrongPassword { locked_until: None })),
        }
        if !trusted {
            // The attempt's reservation and the failures before it are
            // forgiven, and a lock it took is released.
            tx.execute(
                "UPDATE accounts SET failed_logins = 0, locked_until = 0 WHERE username = ?1",
                [username],
            )?;
        }
        trust(&tx, username, addr, now)?;
        let out = then(&tx)?;
        tx.commit()?;
        Ok(Ok(out))
    }

    /// Checks a password from `addr` and, if right, opens a session.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        addr: &str,
        now: i64,
    ) -> Result<Result<Session, LoginRefused>, DbError> {
        let token = new_token();
        let expires_at = now + SESSION_SECS;
        let opened = self.attempt(username, password, addr, now, |tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
            tx.execute(
                "INSERT INTO sessions(token_sha256, username, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_digest(&token), username, now, expires_at],
            )?;
            account(tx, username)?.ok_or_else(|| DbError::NotFound("account".into()))
        })?;
        Ok(opened.map(|account| Session {
            token,
            expires_at,
            account,
        }))
    }

    /// Changes one's own password, given the current one (checked and
    /// counted like a login from `addr`). Other sessions end, the one that
    /// asked (`keep_token`) stays; the lock-out is cleared and only `addr`
    /// stays trusted. The new password is hashed before the current one is
    /// checked, so the transaction that stores it never waits for Argon2id.
    pub fn change_own_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
        addr: &str,
        keep_token: &str,
        now: i64,
    ) -> Result<Result<(), LoginRefused>, DbError> {
        // A new password the rules refuse must not cost an attempt.
        check_password(new)?;
        let hash = hash_password(new)?;
        self.attempt(username, current, addr, now, |tx| {
            tx.execute(
                "UPDATE accounts SET password_hash = ?2, failed_logins = 0, locked_until = 0
                 WHERE username = ?1",
                params![username, hash],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE username = ?1 AND token_sha256 != ?2",
                params![username, token_digest(keep_token)],
            )?;
            tx.execute(
                "DELETE FROM login_addresses WHERE username = ?1",
                [username],
            )?;
            trust(tx, username, addr, now)
        })
    }
}
