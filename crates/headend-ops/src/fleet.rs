//! The fleet: heartbeats and command acknowledgements from boxes; for
//! staff, installer codes, the device list with online status, commands,
//! revocation and release, each limited to the account's region.
//!
//! A command that would point a box at another headend (`set_config
//! headend_url`) is queued only for an address on the operator's
//! allow-list: a box follows it blindly, so it is the one command that
//! could hand the box to an impostor.

use model::{AreaCode, CommandAck, CommandKind, DeviceCommand, Heartbeat, ONLINE_WINDOW_SECS};

use crate::db::{CommandRow, DeviceRow, Permission, Target};
use crate::{Actor, Event, Ops, OpsError};

/// Longest an installer code may be valid: a week.
pub const MAX_CODE_HOURS: i64 = 7 * 24;
/// Longest message a box is asked to show.
pub const MAX_MESSAGE_CHARS: usize = 200;
/// Longest reason for revoking or releasing a box.
pub const MAX_REASON_CHARS: usize = 200;

/// A command's own rules, before anyone is asked: a message is 1 to
/// [`MAX_MESSAGE_CHARS`] characters, a setting has a key.
pub fn check_command(kind: &CommandKind) -> Result<(), OpsError> {
    match kind {
        CommandKind::ShowMessage { text }
            if text.trim().is_empty() || text.chars().count() > MAX_MESSAGE_CHARS =>
        {
            Err(OpsError::BadRequest(format!(
                "a message is 1 to {MAX_MESSAGE_CHARS} characters"
            )))
        }
        CommandKind::SetConfig { key, .. } if key.trim().is_empty() => {
            Err(OpsError::BadRequest("set_config needs a key".into()))
        }
        _ => Ok(()),
    }
}

/// A revocation or release says why, briefly.
pub fn check_reason(reason: &str, what: &str) -> Result<(), OpsError> {
    if reason.trim().is_empty() {
        return Err(OpsError::BadRequest(format!(
            "say why the box is {what} (reason)"
        )));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(OpsError::BadRequest(format!(
            "a reason is at most {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(())
}

/// The headend address a command would point the box at, if any. The key
/// is matched loosely so that no spelling slips past the allow-list.
fn new_headend_url(kind: &CommandKind) -> Option<&str> {
    match kind {
        CommandKind::SetConfig { key, value } if key.trim().eq_ignore_ascii_case("headend_url") => {
            Some(value.as_str())
        }
        _ => None,
    }
}

impl Ops {
    /// Checks `token` (a box's `Authorization: Bearer`) for `device`: a
    /// missing, wrong or revoked token is refused in the words the box
    /// turns into "provision me again".
    pub fn authorize_box(&self, device: &str, token: Option<&str>) -> Result<(), OpsError> {
        self.db
            .check_device(device, token)?
            .map_err(OpsError::Device)
    }

    /// A box's heartbeat, stored trimmed.
    pub fn heartbeat(
        &self,
        device: &str,
        token: Option<&str>,
        beat: &Heartbeat,
    ) -> Result<(), OpsError> {
        self.authorize_box(device, token)?;
        self.db
            .record_heartbeat(device, &beat.clone().trimmed(), self.now_ms())?;
        Ok(())
    }

    /// A box answers command `id`.
    pub fn ack_command(
        &self,
        device: &str,
        token: Option<&str>,
        id: u64,
        ack: &CommandAck,
    ) -> Result<(), OpsError> {
        self.authorize_box(device, token)?;
        if self.db.ack_command(device, id, ack, self.now())? {
            Ok(())
        } else {
            Err(OpsError::NotFound(format!(
                "no command {id} for box {device}"
            )))
        }
    }

    /// An installer code for `region` and everything under it, valid for
    /// `valid_hours`.
    pub fn issue_installer_code(
        &self,
        actor: &Actor,
        region: &AreaCode,
        valid_hours: i64,
    ) -> Result<model::InstallerCode, OpsError> {
        if !(1..=MAX_CODE_HOURS).contains(&valid_hours) {
            return Err(OpsError::BadRequest(format!(
                "valid_hours is 1 to {MAX_CODE_HOURS}"
            )));
        }
        actor.require(&self.db, Permission::Operate, &Target::Region(region))?;
        Ok(self.db.issue_installer_code(
            region,
            &actor.account.username,
            self.now(),
            valid_hours * 3600,
        )?)
    }

    /// Boxes online now on any replica: holding a push stream on this
    /// process, or seen by any process within the online window.
    pub fn online(&self) -> std::collections::HashSet<String> {
        let now = self.now_ms();
        let mut online: std::collections::HashSet<String> =
            self.events.connected().into_iter().collect();
        match self.db.seen_since(now - ONLINE_WINDOW_SECS * 1000) {
            Ok(seen) => online.extend(seen.into_iter().map(|(d, _)| d)),
            Err(e) => tracing::warn!(error = %e, "cannot read who the other replicas saw"),
        }
        online
    }

    /// The boxes under `region` with online status (a push connection or
    /// a visit within the window, or a heartbeat within it) and when each
    /// was last seen.
    pub fn devices(&self, actor: &Actor, region: &AreaCode) -> Result<Vec<DeviceRow>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        let mut list = self.db.devices(region)?;
        let now = self.now_ms();
        let online = self.online();
        let seen: std::collections::HashMap<String, i64> =
            self.db.last_seen_all()?.into_iter().collect();
        let window = ONLINE_WINDOW_SECS * 1000;
        for d in &mut list {
            d.last_seen = seen.get(&d.device).copied().max(d.heartbeat_at);
            d.online = d.revoked_at.is_none()
                && (online.contains(&d.device)
                    || d.heartbeat_at.is_some_and(|at| now - at <= window));
        }
        Ok(list)
    }

    /// The commands sent to `device`, with their answers.
    pub fn device_commands(
        &self,
        actor: &Actor,
        device: &str,
    ) -> Result<Vec<crate::db::CommandRow>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Household(device))?;
        Ok(self.db.commands(device)?)
    }

    /// Queues `kind` for `device` if the actor may operate the box, and
    /// pushes it now if the box is connected. `allow_list`: the headend
    /// addresses a box may be pointed at.
    pub fn send_command(
        &self,
        actor: &Actor,
        device: &str,
        kind: &CommandKind,
        allow_list: &[String],
    ) -> Result<DeviceCommand, OpsError> {
        check_command(kind)?;
        actor.require(&self.db, Permission::Operate, &Target::Household(device))?;
        let new_headend = new_headend_url(kind);
        if let Some(url) = new_headend {
            if !allow_list.iter().any(|a| a == url) {
                return Err(actor.refuse(format!(
                    "headend_url {url:?} is not on this headend's allow list (headend_url_allow_list); a box is pointed only at a listed headend"
                )));
            }
        }
        let command = self
            .db
            .queue_command(device, kind, &actor.account.username, self.now())?;
        let after = match new_headend {
            Some(url) => format!("command {}: headend_url={url}", command.id),
            None => format!("command {}", command.id),
        };
        actor.note_change(None, Some(after));
        self.events.publish(Event::Command {
            device: device.to_string(),
            command: command.clone(),
        });
        Ok(command)
    }

    /// One box as the device list shows it, and its commands, newest
    /// first, if the actor may see it.
    pub fn device_detail(
        &self,
        actor: &Actor,
        device: &str,
    ) -> Result<(DeviceRow, Vec<CommandRow>), OpsError> {
        actor.require(&self.db, Permission::View, &Target::Household(device))?;
        let village = self.db.device_village(device)?;
        let row = self
            .devices(actor, &village)?
            .into_iter()
            .find(|d| d.device == device)
            .ok_or_else(|| OpsError::NotFound(format!("box {device}")))?;
        Ok((row, self.db.commands(device)?))
    }

    /// Cuts `device` off (its token is refused from now on) and closes its
    /// push connection, if the actor may operate it.
    pub fn revoke_box(&self, actor: &Actor, device: &str, reason: &str) -> Result<(), OpsError> {
        check_reason(reason, "revoked")?;
        actor.require(&self.db, Permission::Operate, &Target::Household(device))?;
        self.db.revoke_device(device, reason.trim(), self.now())?;
        self.events.publish(Event::Revoked {
            device: device.to_string(),
        });
        Ok(())
    }

    /// Lets an installer code for any region bind `device` during the next
    /// [`crate::db::RELEASE_SECS`] (a box moving to another town), if the
    /// actor may operate it.
    pub fn release_box(&self, actor: &Actor, device: &str, reason: &str) -> Result<(), OpsError> {
        check_reason(reason, "released")?;
        actor.require(&self.db, Permission::Operate, &Target::Household(device))?;
        self.db
            .release_device(device, &actor.account.username, self.now())?;
        actor.note_change(None, Some(format!("released {device}: {}", reason.trim())));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_reasons_have_their_own_rules() {
        assert!(check_command(&CommandKind::ShowMessage { text: " ".into() }).is_err());
        assert!(check_command(&CommandKind::ShowMessage {
            text: "请明晚七点收看".into()
        })
        .is_ok());
        assert!(check_command(&CommandKind::SetConfig {
            key: "".into(),
            value: "x".into()
        })
        .is_err());
        assert!(check_reason("", "revoked").is_err());
        assert!(check_reason(&"长".repeat(MAX_REASON_CHARS + 1), "revoked").is_err());
        assert_eq!(
            new_headend_url(&CommandKind::SetConfig {
                key: " HEADEND_URL ".into(),
                value: "http://x".into()
            }),
            Some("http://x")
        );
    }
}
