//! Staff accounts: each attached to a region node with one role, a password
//! hashed with Argon2id, and sessions that expire. What an account may
//! touch is its region's subtree. Logging in and the lock-out after
//! repeated failures are in `db::login`.

use crate::sql::{params, OptionalExtension, Sql};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use model::AreaCode;
use sha2::{Digest, Sha256};

use super::{scope_chain, Db, DbError};

/// Failed logins in a row before an account is locked.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a lock-out lasts.
pub const LOCKOUT_SECS: i64 = 15 * 60;
/// How long a session token is good for.
pub const SESSION_SECS: i64 = 8 * 3600;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What an account does; each role is a fixed set of [`Permission`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts in its subtree.
    Admin,
    /// Writes content and imports spreadsheets.
    Editor,
    /// Approves or returns what editors submit.
    Reviewer,
    /// Runs meetings and roll-calls, answers service requests, manages boxes.
    Operator,
    /// Reads reports and statistics.
    Viewer,
}

/// One kind of action an admin endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ManageAccounts,
    EditContent,
    ReviewContent,
    Operate,
    View,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Editor,
        Role::Reviewer,
        Role::Operator,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Reviewer => "reviewer",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Editor => matches!(permission, Permission::EditContent | Permission::View),
            Role::Reviewer => matches!(permission, Permission::ReviewContent | Permission::View),
            Role::Operator => matches!(permission, Permission::Operate | Permission::View),
            Role::Viewer => permission == Permission::View,
        }
    }
}

/// An account as the API shows it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub region: AreaCode,
    pub role: Role,
    pub disabled: bool,
    /// Unix seconds; 0 when not locked.
    pub locked_until: i64,
    pub created_at: i64,
    pub created_by: Option<String>,
}

/// What creating an account needs.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub region: AreaCode,
    pub role: Role,
    pub password: String,
}

/// A session that was granted.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: i64,
    pub account: Account,
}

/// OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Result<Argon2<'static>, DbError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| DbError::BadInput(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_password(password: &str) -> Result<String, DbError> {
    // 16 bytes from the OS generator (a v4 UUID's random bits).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| DbError::BadInput(format!("cannot salt the password: {e}")))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DbError::BadInput(format!("cannot hash the password: {e}")))
}

pub(super) fn password_matches(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    hasher()
        .map(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

pub(super) fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn new_token() -> String {
    // Two v4 UUIDs: 244 random bits from the OS generator.
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn check_username(name: &str) -> Result<(), DbError> {
    let ok = (3..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(DbError::BadInput(
            "a user name is 3 to 32 characters: lowercase letters, digits, - and _".into(),
        ))
    }
}

pub fn check_password(password: &str) -> Result<(), DbError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DbError::BadInput(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

const ACCOUNT_COLUMNS: &str =
    "username, display_name, region, role, disabled, locked_until, created_at, created_by";

fn account_row(r: &crate::sql::Row) -> Result<(Account, String), DbError> {
    let region: String = r.get(2)?;
    let role: String = r.get(3)?;
    Ok((
        Account {
            username: r.get(0)?,
            display_name: r.get(1)?,
            region: region
                .parse()
                .map_err(|e: model::AreaCodeError| DbError::Column(format!("region: {e}")))?,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            disabled: r.get::<_, i64>(4)? != 0,
            locked_until: r.get(5)?,
            created_at: r.get(6)?,
            created_by: r.get(7)?,
        },
        role,
    ))
}

pub(super) fn account(conn: &impl Sql, username: &str) -> Result<Option<Account>, DbError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?1"
        ))?
        .query_row([username], account_row)
        .optional()?
        .map(|(a, _)| a))
}

/// True if `target` is `region` or lies under it.
pub(super) fn within(conn: &impl Sql, region: &AreaCode, target: &AreaCode) -> bool {
    scope_chain(conn, target)
        .map(|chain| chain.contains(region))
        .unwrap_or(false)
}

impl Db {
    /// Creates an account. `by` is the admin creating it (None: the CLI
    /// bootstrapping the first one); the region must exist.
    pub fn create_account(
        &self,
        new: &NewAccount,
        by: Option<&str>,
        now: i64,
    ) -> Result<Account, DbError> {
        check_username(&new.username)?;
        check_password(&new.password)?;
        if new.display_name.trim().is_empty() {
            return Err(DbError::BadInput("give the account a display name".into()));
        }
        // Hash outside the lock: it takes tens of milliseconds.
        let hash = hash_password(&new.password)?;
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        scope_chain(&tx, &new.region)?;
        // The name is taken by whoever inserts it first: two admins
        // creating one name at once get one account and one refusal.
        let created = tx.execute(
            "INSERT INTO accounts(username, display_name, region, role, password_hash,
             created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(username) DO NOTHING",
            params![
                new.username,
                new.display_name.trim(),
                new.region.as_str(),
                new.role.as_str(),
                hash,
                now,
                by
            ],
        )?;
        if created == 0 {
            return Err(DbError::BadInput(format!(
                "user name {} is taken",
                new.username
            )));
        }
        let made =
            account(&tx, &new.username)?.ok_or_else(|| DbError::NotFound("account".into()))?;
        tx.commit()?;
        Ok(made)
    }

    pub fn account(&self, username: &str) -> Result<Option<Account>, DbError> {
        account(&self.lock()?, username)
    }

    /// Accounts whose region lies in `region`'s subtree.
    pub fn accounts_under(&self, region: &AreaCode) -> Result<Vec<Account>, DbError> {
        let conn = self.lock()?;
        let all = conn
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY region, username"
            ))?
            .query_map(params![], account_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(all
            .into_iter()
            .map(|(a, _)| a)
            .filter(|a| within(&conn, region, &a.region))
            .collect())
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    pub fn set_account_disabled(&self, username: &str, disabled: bool) -> Result<(), DbError> {
        let mut conn = self.lock()?;
        // One transaction, the account row updated (so locked) first: a
        // login checks it under that lock before opening its session.
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE accounts SET disabled = ?2 WHERE username = ?1",
            params![username, i64::from(disabled)],
        )?;
        if n == 0 {
            return Err(DbError::NotFound(format!("account {username}")));
        }
        if disabled {
            tx.execute("DELETE FROM sessions WHERE username = ?1", [username])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Sets a password without asking for the old one: an admin's reset or
    /// the command line. Unlocks the account and ends its sessions.
    pub fn set_password(&self, username: &str, password: &str) -> Result<(), DbError> {
        check_password(password)?;
        let hash = hash_password(password)?;
        let mut conn = self.lock()?;
        // As in set_account_disabled: a login that checked the old password
        // finds the new one when it comes to open its session.
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE accounts SET password_hash = ?2, failed_logins = 0, locked_until = 0
             WHERE username = ?1",
            params![username, hash],
        )?;
        if n == 0 {
            return Err(DbError::NotFound(format!("account {username}")));
        }
        tx.execute("DELETE FROM sessions WHERE username = ?1", [username])?;
        // A new password starts with no trusted addresses (db::login).
        tx.execute(
            "DELETE FROM login_addresses WHERE username = ?1",
            [username],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The account a session token belongs to, if the token is current and
    /// the account enabled.
    pub fn session_account(&self, token: &str, now: i64) -> Result<Option<Account>, DbError> {
        let conn = self.lock()?;
        let username: Option<String> = conn
            .prepare_cached(
                "SELECT username FROM sessions WHERE token_sha256 = ?1 AND expires_at > ?2",
            )?
            .query_row(params![token_digest(token), now], |r| r.get(0))
            .optional()?;
        let Some(username) = username else {
            return Ok(None);
        };
        Ok(account(&conn, &username)?.filter(|a| !a.disabled))
    }

    pub fn logout(&self, token: &str) -> Result<(), DbError> {
        self.lock()?.execute(
            "DELETE FROM sessions WHERE token_sha256 = ?1",
            [token_digest(token)],
        )?;
        Ok(())
    }

    /// True if `target` is `region` or lies under it.
    pub fn region_within(&self, region: &AreaCode, target: &AreaCode) -> Result<bool, DbError> {
        Ok(within(&self.lock()?, region, target))
    }
}
