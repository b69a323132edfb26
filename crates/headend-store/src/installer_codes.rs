//! Installer codes and provisioning: who may bind which box where.
//!
//! A code is issued for a region and binds one box in that region's
//! subtree, once, before it expires. It is stored only as an HMAC-SHA256
//! keyed with the headend's secret (`secret`), so a copy of the database
//! does not give the codes away. A code aimed at a village or a box outside
//! its region [`MAX_CODE_MISUSES`] times is locked.
//!
//! Re-binding a box that exists already (it keeps its id) is allowed when
//! the box is in the code's region, or the request carries that box's
//! current, unrevoked token, or an operator released it within
//! [`RELEASE_SECS`]; otherwise anyone holding any code could take over any
//! box in the county. The caller learns on which grounds, for the audit
//! log.

use crate::sql::{params, OptionalExtension, Sql};
use model::{is_installer_code, AreaCode, InstallerCode, Provisioned};

use super::accounts::{new_token, token_digest};
use super::devices::{village_members, Refusal};
use super::{region_name, subtree, Db, DbError};

/// Attempts naming a village or box outside its region before a code is
/// locked.
pub const MAX_CODE_MISUSES: i64 = 3;
/// How long a release lets a code for another region bind a box.
pub const RELEASE_SECS: i64 = 24 * 3600;
/// Longest device id a box may name.
const MAX_DEVICE_ID: usize = 64;
/// HMAC purpose of installer-code digests.
const CODE_PURPOSE: &str = "installer-code";

/// Eight random digits from the OS generator.
fn new_installer_code() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let n = u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    format!("{:08}", n % 100_000_000)
}

/// One `POST /api/v1/provision`.
#[derive(Debug, Clone, Copy)]
pub struct ProvisionAttempt<'a> {
    pub village: &'a AreaCode,
    pub code: &'a str,
    /// The id the box had, when it is provisioned again.
    pub device: Option<&'a str>,
    /// The token the request carried (`Authorization: Bearer`).
    pub bearer: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// Why an existing box could be bound again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebindGrounds {
    /// It is in the code's region.
    Region,
    /// The request carried its current token.
    Token,
    /// An operator released it.
    Released,
}

impl RebindGrounds {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Region => "in the code's region",
            Self::Token => "with its own token",
            Self::Released => "released by an operator",
        }
    }
}

/// An existing box bound again: where it was, and why that was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebound {
    pub from: String,
    pub grounds: RebindGrounds,
}

/// What became of an attempt, with what the audit log needs.
#[derive(Debug, Clone)]
pub struct ProvisionOutcome {
    pub answer: Result<Provisioned, Refusal>,
    /// The device named, or the one assigned.
    pub device: Option<String>,
    /// The region the attempt concerns: the box's village when it was
    /// refused for being elsewhere, else the village named (if it exists).
    pub region: Option<String>,
    /// Set when an existing box was bound again.
    pub rebound: Option<Rebound>,
}

/// Counts one use of a code outside its region; the last allowed one
/// locks it. Committed even though the attempt is refused.
fn misused(tx: crate::sql::Tx<'_>, digest: &str, now: i64) -> Result<(), DbError> {
    tx.execute(
        "UPDATE installer_codes SET misuses = misuses + 1,
           locked_at = CASE WHEN misuses + 1 >= ?2 THEN ?3 ELSE locked_at END
         WHERE code_digest = ?1",
        params![digest, MAX_CODE_MISUSES, now],
    )?;
    tx.commit()?;
    Ok(())
}

/// The region an attempt naming `code` is filed under in the audit log, so
/// that someone can read it: that region if it exists, else its town or
/// county by the shape of the statistical code (`TTTTTT` `XXX` `VVV`), else
/// the top of the tree.
fn audit_region(conn: &impl Sql, code: &str) -> Result<Option<String>, DbError> {
    let mut candidates = vec![code.to_string()];
    if code.len() == 12 && code.is_ascii() {
        candidates.push(format!("{}000", &code[..9]));
        candidates.push(format!("{}000000", &code[..6]));
    }
    let mut stmt = conn.prepare_cached("SELECT code FROM regions WHERE code = ?1")?;
    for candidate in candidates {
        if let Some(found) = stmt
            .query_row([&candidate], |r| r.get::<_, String>(0))
            .optional()?
        {
            return Ok(Some(found));
        }
    }
    conn.query_row(
        "SELECT code FROM regions WHERE parent IS NULL ORDER BY code LIMIT 1",
        params![],
        |r| r.get(0),
    )
    .optional()
}

/// A box already registered under the id asked for.
struct Existing {
    village: String,
    token_digest: String,
    revoked: bool,
    released_at: Option<i64>,
}

/// The box registered as `device`, locked until the transaction ends (its
/// token, revocation and release are what the attempt decides on).
fn existing(tx: &impl Sql, device: &str) -> Result<Option<Existing>, DbError> {
    tx.query_row(
        &format!(
            "SELECT village, token_sha256, revoked_at, released_at FROM devices
             WHERE device = ?1{}",
            tx.backend().for_update()
        ),
        [device],
        |r| {
            Ok(Existing {
                village: r.get(0)?,
                token_digest: r.get(1)?,
                revoked: r.get::<_, Option<i64>>(2)?.is_some(),
                released_at: r.get(3)?,
            })
        },
    )
    .optional()
}

impl Db {
    fn code_digest(&self, code: &str) -> String {
        self.secret.mac_hex(CODE_PURPOSE, code)
    }

    /// Where the audit log files an attempt that names `village` (see
    /// [`audit_region`]).
    pub fn provision_audit_region(&self, village: &AreaCode) -> Result<Option<String>, DbError> {
        audit_region(&self.lock()?, village.as_str())
    }

    /// Issues an installer code for `region` (and everything under it),
    /// valid for `valid_secs`.
    pub fn issue_installer_code(
        &self,
        region: &AreaCode,
        issued_by: &str,
        now: i64,
        valid_secs: i64,
    ) -> Result<InstallerCode, DbError> {
        let code = new_installer_code();
        let digest = self.code_digest(&code);
        let conn = self.lock()?;
        region_name(&conn, region.as_str())?;
        conn.execute(
            "INSERT INTO installer_codes(code_digest, region, issued_by, issued_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![digest, region.as_str(), issued_by, now, now + valid_secs],
        )?;
        Ok(InstallerCode {
            code,
            region: region.clone(),
            expires_at: now + valid_secs,
        })
    }

    /// [`Db::provision_attempt`] without a token: a new box, or one in the
    /// code's region (or released).
    pub fn provision(
        &self,
        village: &AreaCode,
        code: &str,
        device: Option<&str>,
        now: i64,
    ) -> Result<Result<Provisioned, Refusal>, DbError> {
        Ok(self
            .provision_attempt(&ProvisionAttempt {
                village,
                code,
                device,
                bearer: None,
                now,
            })?
            .answer)
    }

    /// Registers a box in the village named with an installer code and
    /// returns its id, its new token and the village's members. The code
    /// is spent in the same transaction, so two boxes cannot use it.
    pub fn provision_attempt(&self, a: &ProvisionAttempt<'_>) -> Result<ProvisionOutcome, DbError> {
        let named = a.device.map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = named {
            if d.len() > MAX_DEVICE_ID || d.chars().any(char::is_control) {
                return Err(DbError::BadInput(format!(
                    "a device id is 1 to {MAX_DEVICE_ID} bytes without control characters"
                )));
            }
        }
        let digest = self.code_digest(a.code);
        let mut out = ProvisionOutcome {
            answer: Err(Refusal::VillageUnknown),
            device: named.map(str::to_string),
            region: None,
            rebound: None,
        };
        let refused = |mut out: ProvisionOutcome, why| {
            out.answer = Err(why);
            Ok(out)
        };
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let level: Option<String> = tx
            .query_row(
                "SELECT level FROM regions WHERE code = ?1",
                [a.village.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if level.as_deref() != Some("village") {
            out.region = audit_region(&tx, a.village.as_str())?;
            return refused(out, Refusal::VillageUnknown);
        }
        out.region = Some(a.village.as_str().to_string());
        if !is_installer_code(a.code) {
            return refused(out, Refusal::CodeUnknown);
        }
        // Locked until the code is spent (or the attempt refused): two boxes
        // sending one code at once are decided one after the other, and the
        // second finds it used.
        let found: Option<(String, i64, Option<i64>, Option<i64>)> = tx
            .query_row(
                &format!(
                    "SELECT region, expires_at, used_at, locked_at FROM installer_codes
                     WHERE code_digest = ?1{}",
                    tx.backend().for_update()
                ),
                [&digest],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((region, expires_at, used_at, locked_at)) = found else {
            return refused(out, Refusal::CodeUnknown);
        };
        if used_at.is_some() {
            return refused(out, Refusal::CodeUsed);
        }
        if locked_at.is_some() {
            return refused(out, Refusal::CodeLocked);
        }
        if expires_at <= a.now {
            return refused(out, Refusal::CodeExpired);
        }
        let region: AreaCode = region
            .parse()
            .map_err(|_| DbError::UnknownRegion(region.clone()))?;
        let covered = subtree(&tx, &region)?;
        if !covered.iter().any(|c| c == a.village.as_str()) {
            misused(tx, &digest, a.now)?;
            return refused(out, Refusal::CodeOutside);
        }
        if let Some(d) = named {
            if let Some(box_) = existing(&tx, d)? {
                let grounds = if covered.contains(&box_.village) {
                    Some(RebindGrounds::Region)
                } else if !box_.revoked
                    && a.bearer
                        .is_some_and(|t| token_digest(t) == box_.token_digest)
                {
                    Some(RebindGrounds::Token)
                } else if box_.released_at.is_some_and(|at| a.now - at < RELEASE_SECS) {
                    Some(RebindGrounds::Released)
                } else {
                    None
                };
                let Some(grounds) = grounds else {
                    out.region = Some(box_.village);
                    misused(tx, &digest, a.now)?;
                    return refused(out, Refusal::DeviceElsewhere);
                };
                out.rebound = Some(Rebound {
                    from: box_.village,
                    grounds,
                });
            }
        }
        let device = match named {
            Some(d) => d.to_string(),
            None => format!("box-{}-{}", a.village.as_str(), &new_token()[..8]),
        };
        let token = new_token();
        bind(&tx, &device, &token, a.village, a.now)?;
        tx.execute(
            "UPDATE installer_codes SET used_at = ?2, used_by = ?3 WHERE code_digest = ?1",
            params![digest, a.now, device],
        )?;
        let members = village_members(&tx, a.village)?;
        tx.commit()?;
        out.device = Some(device.clone());
        out.answer = Ok(Provisioned {
            device,
            token,
            village: a.village.clone(),
            members,
        });
        Ok(out)
    }
}

/// Gives `device` a new token in `village` (ending any revocation or
/// release) and moves its household there.
fn bind(
    tx: &impl Sql,
    device: &str,
    token: &str,
    village: &AreaCode,
    now: i64,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO devices(device, token_sha256, village, provisioned_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(device) DO UPDATE SET token_sha256 = excluded.token_sha256,
           village = excluded.village, provisioned_at = excluded.provisioned_at,
           revoked_at = NULL, revoked_reason = NULL, released_at = NULL, released_by = NULL",
        params![device, token_digest(token), village.as_str(), now],
    )?;
    // A box moved to another village keeps no members from the old one.
    let moved: Option<String> = tx
        .query_row(
            &format!(
                "SELECT village FROM households WHERE device = ?1{}",
                tx.backend().for_update()
            ),
            [device],
            |r| r.get(0),
        )
        .optional()?;
    if moved.as_deref().is_some_and(|v| v != village.as_str()) {
        tx.execute("DELETE FROM household_members WHERE device = ?1", [device])?;
    }
    tx.execute(
        "INSERT INTO households(device, village) VALUES (?1, ?2)
         ON CONFLICT(device) DO UPDATE SET village = excluded.village",
        params![device, village.as_str()],
    )?;
    Ok(())
}
