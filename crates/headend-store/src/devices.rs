//! Boxes as devices: tokens, heartbeats, commands, revocation and release.
//!
//! Tokens are stored as SHA-256 digests only, like session tokens (they
//! are long and random, so a digest is enough). A box is registered by
//! provisioning (`installer_codes`); registering again replaces its token,
//! so a lost or sold box can be cut off by revoking and then re-provisioned
//! by an installer. An operator may release a box so that a code for
//! another region can bind it (a box moved to another town).

use crate::sql::{params, OptionalExtension, Sql};
use model::{refusal, AreaCode, CommandAck, CommandKind, DeviceCommand, Heartbeat, Member};

use super::accounts::token_digest;
use super::{subtree, Db, DbError};

/// Why a box was not let in; each maps to a `model::refusal` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    CodeUnknown,
    CodeExpired,
    CodeUsed,
    CodeOutside,
    /// Aimed outside its region too often (`MAX_CODE_MISUSES`).
    CodeLocked,
    VillageUnknown,
    /// The device id is bound outside the code's region and the request
    /// proved neither that it is that box nor that it was released.
    DeviceElsewhere,
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
            Self::CodeLocked => refusal::CODE_LOCKED,
            Self::VillageUnknown => refusal::VILLAGE_UNKNOWN,
            Self::DeviceElsewhere => refusal::DEVICE_ELSEWHERE,
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
            Self::CodeLocked => {
                "this installer code was aimed outside its region too often and is locked; ask for a new one"
            }
            Self::VillageUnknown => "no such village on this headend",
            Self::DeviceElsewhere => {
                "this box is bound in a region the code does not cover; send the box's current token, or ask an operator there to release it"
            }
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
    /// Unix seconds an operator released the box for another region (a
    /// code from anywhere may bind it for [`super::RELEASE_SECS`]).
    #[serde(default)]
    pub released_at: Option<i64>,
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

pub(super) fn village_members(conn: &impl Sql, village: &AreaCode) -> Result<Vec<Member>, DbError> {
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
    rows.collect::<Result<_, _>>()
}

impl Db {
    /// The party members of a village's branches.
    pub fn village_members(&self, village: &AreaCode) -> Result<Vec<Member>, DbError> {
        village_members(&self.lock()?, village)
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

    /// Lets a code for any region bind `device` during the next
    /// [`super::RELEASE_SECS`] (the box moves to another town); its token
    /// keeps working until then.
    pub fn release_device(&self, device: &str, by: &str, now: i64) -> Result<(), DbError> {
        let n = self.lock()?.execute(
            "UPDATE devices SET released_at = ?2, released_by = ?3 WHERE device = ?1",
            params![device, now, by],
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
                    d.heartbeat_at, d.heartbeat, d.released_at
             FROM devices d JOIN regions r ON r.code = d.village
             ORDER BY d.village, d.device",
        )?;
        let mut rows = stmt.query(params![])?;
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
                released_at: r.get(8)?,
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
        let id: i64 = conn.query_row(
            "INSERT INTO device_commands(device, command, sent_by, sent_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            params![device, json, sent_by, now],
            |r| r.get(0),
        )?;
        Ok(DeviceCommand {
            id: id as u64,
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
