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
                match overrides::set(&self.config.data_dir, key, value) {
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

    /// Gathers 本机信息与诊断 (the headend check waits at most 2 s).
    pub(super) fn diagnose(&mut self) {
        let mut lines = crate::diagnose::diagnose(&self.config, std::time::Duration::from_secs(2));
        if let Some(sync) = &self.sync {
            let s = sync.status().snapshot();
            if !s.last_result.is_empty() && s.last_result != "已同步" {
                lines.push(crate::diagnose::Line {
                    label: "同步结果".into(),
                    value: s.last_result,
                    problem: false,
                });
            }
            if let Some(e) = s.errors.last() {
                lines.push(crate::diagnose::Line {
                    label: "最近的错误".into(),
                    value: e.clone(),
                    problem: true,
                });
            }
        }
        lines.push(crate::diagnose::Line {
            label: "播放测试".into(),
            value: "按确定键开始".into(),
            problem: false,
        });
        self.diagnosis = lines;
        self.refresh();
    }

    /// Plays the test stream (the screen waits up to 8 s).
    pub(super) fn stream_test(&mut self) {
        let result = crate::diagnose::stream_test(&self.config, std::time::Duration::from_secs(8));
        if let Some(last) = self.diagnosis.last_mut() {
            *last = result;
        } else {
            self.diagnosis.push(result);
        }
        self.refresh();
    }

    /// 重新开通本机: the next start is the provisioning wizard (with this
    /// box's id, behind an installer code); the app restarts now.
    pub(super) fn reprovision(&mut self) {
        match crate::install::request_reprovision(&self.config.data_dir) {
            Ok(()) => self.exit_requested = Some(RESTART_EXIT_CODE),
            Err(e) => tracing::error!(error = %e, "cannot ask for provisioning"),
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
