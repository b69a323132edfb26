//! The provisioning wizard on screen: [`InstallSession`] renders it
//! headlessly (tests, screenshots) and [`run_install`] in a window or on
//! the box's display, with the remote through evdev. The wizard itself is
//! in [`crate::install`].

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use input::{InputMessage, RemoteKey};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::config::InstallSettings;
use crate::headless::HeadlessWindow;
use crate::install::{HeadendBackend, Wizard, WizardView};
use crate::ui::{InstallRow, InstallState, InstallWindow};
use crate::{AppError, Display};

/// How long each provisioning call may take before it counts as failed.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

fn apply(ui: &InstallWindow, v: &WizardView) {
    let s = ui.global::<InstallState>();
    s.set_step_text(v.step_text.clone().into());
    s.set_title(v.title.clone().into());
    s.set_prompt(v.prompt.clone().into());
    s.set_field_label(v.field_label.clone().into());
    s.set_field(v.field.clone().into());
    s.set_error(v.error.clone().into());
    s.set_hint(v.hint.clone().into());
    s.set_busy(v.busy);
    s.set_focus(v.focus as i32);
    let rows: Vec<InstallRow> = v
        .rows
        .iter()
        .map(|(title, meta)| InstallRow {
            title: SharedString::from(title.as_str()),
            meta: SharedString::from(meta.as_str()),
        })
        .collect();
    s.set_rows(ModelRc::new(VecModel::from(rows)));
}

/// The wizard rendering into memory on this thread.
pub struct InstallSession {
    window: HeadlessWindow,
    ui: InstallWindow,
    wizard: Wizard,
    backend: HeadendBackend,
}

impl InstallSession {
    /// Shows the first step and runs its network check.
    pub fn start(settings: &InstallSettings) -> Result<InstallSession, AppError> {
        let window = HeadlessWindow::install(settings.display, false)?;
        let ui = InstallWindow::new()?;
        ui.show()?;
        let mut session = InstallSession {
            window,
            ui,
            wizard: Wizard::new(settings),
            backend: HeadendBackend {
                timeout: CALL_TIMEOUT,
            },
        };
        session.settle();
        Ok(session)
    }

    /// Draws the busy state, runs the pending call, draws the result.
    fn settle(&mut self) {
        apply(&self.ui, &self.wizard.view());
        if self.wizard.pending().is_some() {
            self.window.render();
            self.wizard.run_pending(&self.backend);
            apply(&self.ui, &self.wizard.view());
        }
    }

    pub fn press(&mut self, key: RemoteKey) {
        self.wizard.key(key);
        self.settle();
    }

    pub fn digits(&mut self, digits: &str) {
        for d in digits.bytes().filter(u8::is_ascii_digit) {
            self.press(RemoteKey::Digit(d - b'0'));
        }
    }

    pub fn view(&self) -> WizardView {
        self.wizard.view()
    }

    /// `Some(true)` when provisioning finished, `Some(false)` when the
    /// installer left re-provisioning.
    pub fn finished(&self) -> Option<bool> {
        self.wizard.finished
    }

    pub fn set_display(&mut self, display: Display) {
        self.window.set_display(display, &self.ui);
        apply(&self.ui, &self.wizard.view());
    }

    pub fn save_png(&self, path: &Path) -> Result<std::path::PathBuf, AppError> {
        Ok(self.window.save_png(path)?)
    }
}

#[cfg(feature = "testing")]
impl InstallSession {
    /// What a viewer can read now, found the way a screen reader would.
    pub fn visible_texts(&self) -> Vec<String> {
        use i_slint_backend_testing::ElementHandle;
        let mut out = Vec::new();
        let mut push = |e: &ElementHandle| {
            out.extend(e.accessible_label().map(|s| s.to_string()));
            out.extend(e.accessible_value().map(|s| s.to_string()));
        };
        for id in ["header", "page", "footer"] {
            for root in ElementHandle::find_by_element_id(&self.ui, &format!("InstallWindow::{id}"))
            {
                push(&root);
                root.visit_descendants(|e| {
                    push(&e);
                    std::ops::ControlFlow::<()>::Continue(())
                });
            }
        }
        out.retain(|t| !t.is_empty());
        out
    }
}

thread_local! {
    static WIZARD: RefCell<Option<(Wizard, InstallWindow)>> = const { RefCell::new(None) };
}

fn wizard_key(key: RemoteKey) {
    let backend = HeadendBackend {
        timeout: CALL_TIMEOUT,
    };
    let busy = WIZARD.with(|w| {
        let mut w = w.borrow_mut();
        let Some((wizard, ui)) = w.as_mut() else {
            return false;
        };
        wizard.key(key);
        apply(ui, &wizard.view());
        if wizard.finished.is_some() {
            let _ = slint::quit_event_loop();
        }
        wizard.pending().is_some()
    });
    if busy {
        // Let "请稍候" reach the screen before the call blocks the loop.
        slint::Timer::single_shot(Duration::from_millis(50), move || {
            WIZARD.with(|w| {
                if let Some((wizard, ui)) = w.borrow_mut().as_mut() {
                    wizard.run_pending(&backend);
                    apply(ui, &wizard.view());
                }
            });
        });
    }
}

fn deliver_to_wizard(msg: InputMessage) {
    let _ = slint::invoke_from_event_loop(move || {
        if let InputMessage::Key { press, .. } = msg {
            if let Some(key) = press.action {
                wizard_key(key);
            }
        }
    });
}

/// Runs the wizard on screen until the box is provisioned (`true`) or the
/// installer leaves re-provisioning (`false`).
pub fn run_install(settings: &InstallSettings) -> Result<bool, AppError> {
    if std::env::var_os("SLINT_SCALE_FACTOR").is_none() {
        std::env::set_var("SLINT_SCALE_FACTOR", settings.display.scale().to_string());
    }
    let ui = InstallWindow::new()?;
    ui.global::<InstallState>().on_key(|text| {
        if let Some(key) = crate::keys::from_desktop_key(&text) {
            wizard_key(key);
        }
    });
    let wizard = Wizard::new(settings);
    apply(&ui, &wizard.view());
    WIZARD.with(|w| *w.borrow_mut() = Some((wizard, ui.clone_strong())));
    // The first step's network check.
    wizard_key(RemoteKey::Info);
    let _input = if settings.input.evdev {
        let keymap = input::Keymap::load_dir_lenient(&settings.input.keymap_dir).0;
        let config =
            input::InputConfig::new(&settings.input.devices_dir, std::sync::Arc::new(keymap));
        Some(
            input::spawn(config, Box::new(input::EvdevOpener), deliver_to_wizard)
                .map_err(AppError::InputThread)?,
        )
    } else {
        None
    };
    ui.run()?;
    let finished = WIZARD.with(|w| w.borrow_mut().take().and_then(|(w, _)| w.finished));
    Ok(finished == Some(true))
}
