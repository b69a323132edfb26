//! Boxes as devices: tokens, installer codes, heartbeats and commands.
//!
//! Tokens and installer codes are stored as SHA-256 digests only, like
//! session tokens. A box is registered by provisioning (an installer code
//! issued for a region, single-use, expiring); registering again with a
//! new code replaces its token, so a lost or sold box can be cut off by
//! revoking and then re-provisioned by an installer.

use model::{
    refusal, AreaCode, CommandAck, CommandKind, DeviceCommand, Heartbeat, InstallerCode, Member,
};
use rusqlite::{params, Connection, OptionalExtension};

use super::accounts::{new_token, token_digest};
use super::{region_name, subtree, Db, DbError};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS devices(
    device TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    village TEXT NOT NULL REFERENCES regions(code),
    provisioned_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    heartbeat TEXT,
    heartbeat_at INTEGER
);
CREATE INDEX IF NOT EXISTS devices_village ON devices(village);
CREATE TABLE IF NOT EXISTS installer_codes(
    code_sha256 TEXT PRIMARY KEY,
    region TEXT NOT NULL REFERENCES regions(code),
    issued_by TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);
CREATE TABLE IF NOT EXISTS device_commands(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL REFERENCES devices(device),
    command TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    acked_at INTEGER,
    ok INTEGER,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS device_commands_open ON device_commands(device, acked_at);
";

/// Why a box was not let in; each maps to a `model::refusal` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    CodeUnknown,
    CodeExpired,
    CodeUsed,
    CodeOutside,
    VillageUnknown,
    Revoked,
    BadToken,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::CodeUnknown => refusal::CODE_UNKNOWN,
            Self::CodeExpired => refusal::CODE_EXPIRED,
            Self::CodeUsed => refusal::CODE_USED,
            Self::CodeOutside => refusal::CODE_OUTSIDE,
            Self::VillageUnknown => refusal::VILLAGE_UNKNOWN,
            Self::Revoked => refusal::DEVICE_REVOKED,
            Self::BadToken => refusal::DEVICE_TOKEN,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::CodeUnknown => "this installer code is not known; check the digits",
            Self::CodeExpired => "this installer code has expired; ask the county for a new one",
            Self::CodeUsed => "this installer code was used already; each code binds one box",
            Self::CodeOutside => "this installer code is for another region",
            Self::VillageUnknown => "no such village on this headend",
            Self::Revoked => "this box was revoked; provision it again with an installer code",
            Self::BadToken => "this box has no valid device token; provision it again",
        }
    }
}

/// A device as staff see it in the device list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviceRow {
    pub device: String,
    pub village: AreaCode,
    pub village_name: String,
    pub provisioned_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    /// Unix ms of the last heartbeat.
    pub heartbeat_at: Option<i64>,
    pub heartbeat: Option<Heartbeat>,
    /// Filled in by the API from heartbeats and push connections.
    #[serde(default)]
    pub online: bool,
    /// Unix ms the box last reached the headend, by any endpoint.
    #[serde(default)]
    pub last_seen: Option<i64>,
}

/// A command and what the box answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandRow {
    pub id: u64,
    pub device: String,
    #[serde(flatten)]
    pub kind: CommandKind,
    pub sent_by: String,
    pub sent_at: i64,
    pub acked_at: Option<i64>,
    pub ok: Option<bool>,
    pub detail: Option<String>,
}

/// Eight random digits from the OS generator.
fn new_installer_code() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let n = u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    format!("{:08}", n % 100_000_000)
}

fn village_members(conn: &Connection, village: &AreaCode) -> Result<Vec<Member>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.name, b.id, b.name FROM members m JOIN branches b ON b.id = m.branch
         WHERE b.region = ?1 ORDER BY m.id",
    )?;
    let rows = stmt.query_map([village.as_str()], |r| {
        Ok(Member {
            id: r.get(0)?,
            name: r.get(1)?,
            branch: r.get(2)?,
            branch_name: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Db {
    /// The party members of a village's branches.
    pub fn village_members(&self, village: &AreaCode) -> Result<Vec<Member>, DbError> {
        village_members(&*self.lock()?, village)
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
        let conn = self.lock()?;
        region_name(&conn, region.as_str())?;
        let code = new_installer_code();
        conn.execute(
            "INSERT INTO installer_codes(code_sha256, region, issued_by, issued_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                token_digest(&code),
                region.as_str(),
                issued_by,
                now,
                now + valid_secs
            ],
        )?;
        Ok(InstallerCode {
            code,
            region: region.clone(),
            expires_at: now + valid_secs,
        })
    }

    /// Registers a box in `village` with an installer code and returns its
    /// id, its new token and the village's members. The code is spent in
    /// the same transaction, so two boxes cannot use it.
    pub fn provision(
        &self,
        village: &AreaCode,
        code: &str,
        device: Option<&str>,
        now: i64,
    ) -> Result<Result<model::Provisioned, Refusal>, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let level: Option<String> = tx
            .query_row(
                "SELECT level FROM regions WHERE code = ?1",
                [village.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if level.as_deref() != Some("village") {
            return Ok(Err(Refusal::VillageUnknown));
        }
        let found: Option<(String, i64, Option<i64>)> = tx
            .query_row(
                "SELECT region, expires_at, used_at FROM installer_codes WHERE code_sha256 = ?1",
                [token_digest(code)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((region, expires_at, used_at)) = found else {
            return Ok(Err(Refusal::CodeUnknown));
        };
        if used_at.is_some() {
            return Ok(Err(Refusal::CodeUsed));
        }
        if expires_at <= now {
            return Ok(Err(Refusal::CodeExpired));
        }
        let region: AreaCode = region
            .parse()
            .map_err(|_| DbError::UnknownRegion(region.clone()))?;
        if !subtree(&tx, &region)?.iter().any(|c| c == village.as_str()) {
            return Ok(Err(Refusal::CodeOutside));
        }
        let device = match device.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) if d.len() <= 64 => d.to_string(),
            Some(_) => return Err(DbError::BadInput("a device id is at most 64 bytes".into())),
            None => format!("box-{}-{}", village.as_str(), &new_token()[..8]),
        };
        let token = new_token();
        tx.execute(
            "INSERT INTO devices(device, token_sha256, village, provisioned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(device) DO UPDATE SET token_sha256 = excluded.token_sha256,
               village = excluded.village, provisioned_at = excluded.provisioned_at,
               revoked_at = NULL, revoked_reason = NULL",
            params![device, token_digest(&token), village.as_str(), now],
        )?;
        // A box moved to another village keeps no members from the old one.
        let moved: Option<String> = tx
            .query_row(
                "SELECT village FROM households WHERE device = ?1",
                [&device],
                |r| r.get(0),
            )
            .optional()?;
        if moved.as_deref().is_some_and(|v| v != village.as_str()) {
            tx.execute("DELETE FROM household_members WHERE device = ?1", [&device])?;
        }
        tx.execute(
            "INSERT INTO households(device, village) VALUES (?1, ?2)
             ON CONFLICT(device) DO UPDATE SET village = excluded.village",
            params![device, village.as_str()],
        )?;
        tx.execute(
            "UPDATE installer_codes SET used_at = ?2, used_by = ?3 WHERE code_sha256 = ?1",
            params![token_digest(code), now, device],
        )?;
        let members = village_members(&tx, village)?;
        tx.commit()?;
        Ok(Ok(model::Provisioned {
            device,
            token,
            village: village.clone(),
            members,
        }))
    }

    /// Registers a device with a token the caller chose (demo and bench
    /// boxes, whose tokens are known in advance).
    pub fn register_device(
        &self,
        device: &str,
        village: &AreaCode,
        token: &str,
        now: i64,
    ) -> Result<(), DbError> {
        self.lock()?.execute(
            "INSERT INTO devices(device, token_sha256, village, provisioned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(device) DO UPDATE SET token_sha256 = excluded.token_sha256,
               village = excluded.village, revoked_at = NULL, revoked_reason = NULL",
            params![device, token_digest(token), village.as_str(), now],
        )?;
        Ok(())
    }

    /// Checks a box's token against the device it names.
    pub fn check_device(
        &self,
        device: &str,
        token: Option<&str>,
    ) -> Result<Result<(), Refusal>, DbError> {
        let Some(token) = token else {
            return Ok(Err(Refusal::BadToken));
        };
        let found: Option<(String, Option<i64>)> = self
            .lock()?
            .prepare_cached("SELECT token_sha256, revoked_at FROM devices WHERE device = ?1")?
            .query_row([device], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match found {
            Some((_, Some(_))) => Err(Refusal::Revoked),
            Some((digest, None)) if digest == token_digest(token) => Ok(()),
            _ => Err(Refusal::BadToken),
        })
    }

    /// Cuts a box off: its token is refused until it is provisioned again.
    pub fn revoke_device(&self, device: &str, reason: &str, now: i64) -> Result<(), DbError> {
        let n = self.lock()?.execute(
            "UPDATE devices SET revoked_at = ?2, revoked_reason = ?3 WHERE device = ?1",
            params![device, now, reason],
        )?;
        if n == 0 {
            return Err(DbError::NotFound(format!("device {device}")));
        }
        Ok(())
    }

    pub fn record_heartbeat(
        &self,
        device: &str,
        beat: &Heartbeat,
        now_ms: i64,
    ) -> Result<(), DbError> {
        let json = serde_json::to_string(beat)?;
        self.lock()?.execute(
            "UPDATE devices SET heartbeat = ?2, heartbeat_at = ?3 WHERE device = ?1",
            params![device, json, now_ms],
        )?;
        Ok(())
    }

    /// Devices in `region`'s subtree, by village then id.
    pub fn devices(&self, region: &AreaCode) -> Result<Vec<DeviceRow>, DbError> {
        let conn = self.lock()?;
        let villages = subtree(&conn, region)?;
        let mut stmt = conn.prepare_cached(
            "SELECT d.device, d.village, r.name, d.provisioned_at, d.revoked_at, d.revoked_reason,
                    d.heartbeat_at, d.heartbeat
             FROM devices d JOIN regions r ON r.code = d.village
             ORDER BY d.village, d.device",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let village: String = r.get(1)?;
            if !villages.contains(&village) {
                continue;
            }
            let heartbeat: Option<String> = r.get(7)?;
            out.push(DeviceRow {
                device: r.get(0)?,
                village: village
                    .parse()
                    .map_err(|_| DbError::UnknownRegion(village.clone()))?,
                village_name: r.get(2)?,
                provisioned_at: r.get(3)?,
                revoked_at: r.get(4)?,
                revoked_reason: r.get(5)?,
                heartbeat_at: r.get(6)?,
                heartbeat: heartbeat.and_then(|h| serde_json::from_str(&h).ok()),
                online: false,
                last_seen: None,
            });
        }
        Ok(out)
    }

    /// The village a device is registered in, for scope checks.
    pub fn device_village(&self, device: &str) -> Result<AreaCode, DbError> {
        let village: Option<String> = self
            .lock()?
            .query_row(
                "SELECT village FROM devices WHERE device = ?1",
                [device],
                |r| r.get(0),
            )
            .optional()?;
        village
            .ok_or_else(|| DbError::NotFound(format!("device {device}")))?
            .parse()
            .map_err(|_| DbError::UnknownRegion(device.to_string()))
    }

    /// Queues a command for a box; it is pushed now if the box is connected
    /// and again each time it connects until it is acknowledged.
    pub fn queue_command(
        &self,
        device: &str,
        kind: &CommandKind,
        sent_by: &str,
        now: i64,
    ) -> Result<DeviceCommand, DbError> {
        let json = serde_json::to_string(kind)?;
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO device_commands(device, command, sent_by, sent_at) VALUES (?1, ?2, ?3, ?4)",
            params![device, json, sent_by, now],
        )?;
        Ok(DeviceCommand {
            id: conn.last_insert_rowid() as u64,
            kind: kind.clone(),
        })
    }

    /// Commands a box has not acknowledged, oldest first.
    pub fn pending_commands(&self, device: &str) -> Result<Vec<DeviceCommand>, DbError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, command FROM device_commands WHERE device = ?1 AND acked_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([device], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row?;
            if let Ok(kind) = serde_json::from_str(&json) {
                out.push(DeviceCommand {
                    id: id as u64,
                    kind,
                });
            }
        }
        Ok(out)
    }

    /// Records a box's answer; a second answer to the same command is
    /// ignored. Returns false when the command is not this device's.
    pub fn ack_command(
        &self,
        device: &str,
        id: u64,
        ack: &CommandAck,
        now: i64,
    ) -> Result<bool, DbError> {
        let conn = self.lock()?;
        let owner: Option<String> = conn
            .query_row(
                "SELECT device FROM device_commands WHERE id = ?1",
                [id as i64],
                |r| r.get(0),
            )
            .optional()?;
        if owner.as_deref() != Some(device) {
            return Ok(false);
        }
        let mut detail = ack.detail.clone();
        if detail.len() > model::MAX_LOG_BYTES {
            let mut end = model::MAX_LOG_BYTES;
            while !detail.is_char_boundary(end) {
                end -= 1;
            }
            detail.truncate(end);
        }
        conn.execute(
            "UPDATE device_commands SET acked_at = ?2, ok = ?3, detail = ?4
             WHERE id = ?1 AND acked_at IS NULL",
            params![id as i64, now, ack.ok, detail],
        )?;
        Ok(true)
    }

    /// A device's commands, newest first.
    pub fn commands(&self, device: &str) -> Result<Vec<CommandRow>, DbError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, command, sent_by, sent_at, acked_at, ok, detail FROM device_commands
             WHERE device = ?1 ORDER BY id DESC LIMIT 200",
        )?;
        let rows = stmt.query_map([device], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<bool>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json, sent_by, sent_at, acked_at, ok, detail) = row?;
            let kind = serde_json::from_str(&json)?;
            out.push(CommandRow {
                id: id as u64,
                device: device.to_string(),
                kind,
                sent_by,
                sent_at,
                acked_at,
                ok,
                detail,
            });
        }
        Ok(out)
    }
}
