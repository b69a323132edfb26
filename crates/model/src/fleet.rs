//! Boxes as a fleet: provisioning with an installer code, the device token,
//! heartbeats, and commands the county centre sends over the push channel.
//!
//! A box with no identity asks for one with `POST /api/v1/provision`
//! (village + installer code); the answer carries its device id and token,
//! which it presents as `Authorization: Bearer` on every box endpoint from
//! then on. Installer codes are 8 digits so they can be typed with a remote.

use crate::{AreaCode, Member};

/// Digits in an installer code.
pub const INSTALLER_CODE_LEN: usize = 8;
/// Default time between heartbeats.
pub const HEARTBEAT_SECS: u64 = 180;
/// A box is shown online when it holds its push connection or was heard
/// from within this many seconds (more than three heartbeats).
pub const ONLINE_WINDOW_SECS: i64 = 600;
/// Most recent errors a heartbeat carries, and their length.
pub const MAX_HEARTBEAT_ERRORS: usize = 10;
pub const MAX_ERROR_LEN: usize = 200;
/// Largest log upload a box sends in answer to `upload_logs`.
pub const MAX_LOG_BYTES: usize = 64 * 1024;

/// `ApiError.code` values a provisioning box turns into plain words.
pub mod refusal {
    /// A member the box named lives in another box's household; an
    /// operator must confirm the move (`409`).
    pub const MEMBER_ELSEWHERE: &str = "member_in_other_household";
    pub const CODE_UNKNOWN: &str = "code_unknown";
    pub const CODE_EXPIRED: &str = "code_expired";
    pub const CODE_USED: &str = "code_used";
    pub const CODE_OUTSIDE: &str = "code_outside_region";
    /// The code was aimed at villages or boxes outside its region too
    /// often and is locked: ask for a new one.
    pub const CODE_LOCKED: &str = "code_locked";
    pub const VILLAGE_UNKNOWN: &str = "village_unknown";
    /// The box id named is bound in a region the code does not cover: the
    /// box itself (its current token) or an operator there must let it go.
    pub const DEVICE_ELSEWHERE: &str = "device_elsewhere";
    /// Too many failed attempts from this address or with codes like this
    /// one (HTTP 429, `Retry-After` says how long to wait).
    pub const PROVISION_THROTTLED: &str = "provision_throttled";
    /// The box already holds as many push streams as it may (HTTP 429).
    pub const TOO_MANY_STREAMS: &str = "too_many_streams";
    /// The box's token was revoked or never issued: it must be provisioned.
    pub const DEVICE_REVOKED: &str = "device_revoked";
    pub const DEVICE_TOKEN: &str = "device_token";
}

/// `POST /api/v1/provision`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProvisionRequest {
    pub village: AreaCode,
    pub code: String,
    /// The id this box had, when it is provisioned again; a new box leaves
    /// it out and the headend assigns one. An id already bound outside the
    /// code's region is re-bound only when the request carries that box's
    /// current token (`Authorization: Bearer`) or an operator released it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// The answer to a provisioning request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provisioned {
    pub device: String,
    /// Secret: stored on the box readable by its owner only.
    pub token: String,
    pub village: AreaCode,
    /// The village's party members, to pick who lives in this household.
    pub members: Vec<Member>,
}

/// `PUT /api/v1/devices/{device}/members`: who lives where this box is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HouseholdMembers {
    pub members: Vec<String>,
}

/// `POST /api/v1/heartbeat`, every few minutes.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    pub version: String,
    pub uptime_s: u64,
    /// The box's own address as it sees it.
    pub ip: String,
    /// Free bytes where the box keeps its data.
    pub free_bytes: u64,
    /// Unix seconds of the last successful sync.
    pub last_sync: Option<i64>,
    /// The last sync's result in plain words (`已同步` or the failure).
    pub last_sync_result: String,
    /// Feed id of what is playing, if anything.
    pub playing: Option<String>,
    /// Recent errors, newest last.
    pub errors: Vec<String>,
}

impl Heartbeat {
    /// Caps what a box may send so one heartbeat stays small.
    pub fn trimmed(mut self) -> Heartbeat {
        let cut = |s: &mut String| {
            if s.len() > MAX_ERROR_LEN {
                let mut end = MAX_ERROR_LEN;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.truncate(end);
            }
        };
        let skip = self.errors.len().saturating_sub(MAX_HEARTBEAT_ERRORS);
        self.errors.drain(..skip);
        self.errors.iter_mut().for_each(cut);
        for s in [&mut self.version, &mut self.ip, &mut self.last_sync_result] {
            cut(s);
        }
        if let Some(p) = self.playing.as_mut() {
            cut(p);
        }
        self
    }
}

/// What the county centre can ask a box to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandKind {
    /// Sync the feed and the household's record now.
    Resync,
    /// Exit so the service manager starts the app again.
    RestartApp,
    /// Show a message on the screen until OK is pressed.
    ShowMessage { text: String },
    /// Set one value in the box's settings (see the box's settings page).
    SetConfig { key: String, value: String },
    /// Send the recent log lines back with the acknowledgement.
    UploadLogs,
}

impl CommandKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Resync => "resync",
            Self::RestartApp => "restart_app",
            Self::ShowMessage { .. } => "show_message",
            Self::SetConfig { .. } => "set_config",
            Self::UploadLogs => "upload_logs",
        }
    }
}

/// A command as it reaches the box (push event `command`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceCommand {
    pub id: u64,
    #[serde(flatten)]
    pub kind: CommandKind,
}

/// `POST /api/v1/commands/{id}/ack`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandAck {
    pub ok: bool,
    /// What happened, or the log text for `upload_logs`.
    #[serde(default)]
    pub detail: String,
}

/// An installer code as issued to staff (the only time it is shown).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstallerCode {
    pub code: String,
    pub region: AreaCode,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Whether `code` looks like an installer code (8 digits).
pub fn is_installer_code(code: &str) -> bool {
    code.len() == INSTALLER_CODE_LEN && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_their_kind_beside_the_id() {
        let c = DeviceCommand {
            id: 7,
            kind: CommandKind::ShowMessage {
                text: "明天停电".into(),
            },
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"id":7,"kind":"show_message","text":"明天停电"}"#);
        assert_eq!(serde_json::from_str::<DeviceCommand>(&json).unwrap(), c);
        let r: DeviceCommand = serde_json::from_str(r#"{"id":1,"kind":"resync"}"#).unwrap();
        assert_eq!(r.kind, CommandKind::Resync);
    }

    #[test]
    fn a_heartbeat_is_capped() {
        let beat = Heartbeat {
            errors: (0..30)
                .map(|i| format!("{i}{}", "错".repeat(100)))
                .collect(),
            ..Heartbeat::default()
        }
        .trimmed();
        assert_eq!(beat.errors.len(), MAX_HEARTBEAT_ERRORS);
        assert!(beat.errors[0].starts_with("20"));
        assert!(beat.errors.iter().all(|e| e.len() <= MAX_ERROR_LEN));
    }

    #[test]
    fn installer_codes_are_eight_digits() {
        assert!(is_installer_code("12345678"));
        assert!(!is_installer_code("1234567"));
        assert!(!is_installer_code("1234567a"));
    }
}
