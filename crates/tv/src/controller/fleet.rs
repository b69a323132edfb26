//! Commands from the county centre, carried out on the box and answered:
//! sync now, show a message until OK, set a value in the box's overrides,
//! send recent logs, restart the app. Each command id is done once, even
//! when the headend sends it again before the answer arrives.

use model::{CommandKind, DeviceCommand};

use super::Controller;
use crate::overrides;

/// Exit status that asks the service manager to start the app again
/// (`EX_TEMPFAIL`; the unit restarts on failure).
pub const RESTART_EXIT_CODE: i32 = 75;

/// A message from the county centre on screen until OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub text: String,
}

impl Controller {
    pub(super) fn command(&mut self, command: &DeviceCommand) {
        if !self.commands_done.insert(command.id) {
            return;
        }
        tracing::info!(
            id = command.id,
            kind = command.kind.name(),
            "command from the headend"
        );
        let (ok, detail) = match &command.kind {
            CommandKind::Resync => match &self.sync {
                Some(sync) => {
                    sync.nudge();
                    (true, "同步已开始".to_string())
                }
                None => (false, "同步未运行".to_string()),
            },
            CommandKind::ShowMessage { text } => {
                self.message = Some(Message { text: text.clone() });
                self.refresh();
                (true, "已显示".to_string())
            }
            CommandKind::SetConfig { key, value } => {
                match overrides::set(&self.data_dir, key, value) {
                    Ok(()) => (true, format!("{key} 已保存，重启后生效")),
                    Err(e) => (false, e.to_string()),
                }
            }
            CommandKind::UploadLogs => (true, crate::logs::recent()),
            CommandKind::RestartApp => {
                self.exit_requested = Some(RESTART_EXIT_CODE);
                (true, "正在重启".to_string())
            }
        };
        if let Some(sync) = &self.sync {
            sync.answer(command.id, ok, detail);
        }
    }

    /// OK closes a message from the county centre; other keys are held
    /// back so it is not missed. Returns whether the key was taken.
    pub(super) fn message_key(&mut self, key: input::RemoteKey) -> bool {
        if self.message.is_none() {
            return false;
        }
        if key == input::RemoteKey::Ok {
            self.message = None;
            self.refresh();
        }
        true
    }

    /// Set when a command asked the app to restart: the window loop ends
    /// with this exit status once the answer has had time to go out.
    pub fn exit_requested(&self) -> Option<i32> {
        self.exit_requested
    }
}
