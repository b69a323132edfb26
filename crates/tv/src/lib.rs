//! The TV app (`dangjian-tv`): screens, navigation and the composition root.
//!
//! Layout follows helix: [`app`] is the UI-agnostic core (navigation, focus,
//! sync status), [`view`] turns it and the cache into plain view data,
//! `bridge` hands that to the Slint globals declared in `ui/state.slint`
//! (one global per screen), and this file wires the window, the cache and
//! the sync thread together. Sync runs on its own thread and reaches the UI
//! thread only through `slint::invoke_from_event_loop`.

pub mod app;
mod bridge;
pub mod config;
mod controller;
pub mod headless;
pub mod keys;
pub mod view;

mod ui {
    slint::include_modules!();
}

use std::cell::RefCell;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use input::RemoteKey;
use slint::ComponentHandle;
use store::{Cache, OpenOutcome, Outbox};
use sync::{SyncConfig, SyncEvent, SyncHandle};

pub use config::{Config, ConfigError, Display};
pub use controller::Controller;
pub use headless::{HeadlessWindow, RenderError};
pub use view::View;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("user interface failed: {0}")]
    Ui(String),
    #[error("cannot start the sync thread: {0}")]
    SyncThread(std::io::Error),
    #[error("gave up waiting for {0}")]
    Timeout(&'static str),
}

impl From<slint::PlatformError> for AppError {
    fn from(e: slint::PlatformError) -> Self {
        AppError::Ui(e.to_string())
    }
}

thread_local! {
    // The UI thread's controller; Slint callbacks and sync events reach it here.
    static CONTROLLER: RefCell<Option<Controller>> = const { RefCell::new(None) };
}

fn with_controller<R>(f: impl FnOnce(&mut Controller) -> R) -> Option<R> {
    CONTROLLER.with(|c| c.borrow_mut().as_mut().map(f))
}

/// Opens the data directory: `cache.db` (rebuilt if damaged) and `outbox.db`.
pub fn open_storage(config: &Config) -> Result<(Cache, OpenOutcome), AppError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| AppError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let (cache, outcome) = Cache::open(&config.cache_path())?;
    if let OpenOutcome::Rebuilt { reason } = &outcome {
        tracing::warn!(%reason, "cache.db was damaged and has been rebuilt; a full sync follows");
    }
    // Opened at start so a damaged outbox is moved aside before anyone acts.
    Outbox::open(&config.outbox_path(), controller::now_unix())?;
    Ok((cache, outcome))
}

pub fn sync_config(config: &Config) -> SyncConfig {
    let mut s = SyncConfig::new(
        &config.headend_url,
        config.village_code.clone(),
        config.cache_path(),
    );
    s.poll_interval = config.poll_interval;
    s
}

fn install_controller(ui: &AppWindow, cache: Cache, config: &Config) {
    let controller = Controller::new(ui.clone_strong(), cache, config.village_code.to_string());
    CONTROLLER.with(|c| *c.borrow_mut() = Some(controller));
    ui.global::<ui::AppState>().on_key(|text| {
        if let Some(key) = keys::from_desktop_key(&text) {
            with_controller(|c| c.key(key));
        }
    });
}

use ui::AppWindow;

/// Runs the app in a window until it is closed.
pub fn run(config: &Config) -> Result<(), AppError> {
    let (cache, _) = open_storage(config)?;
    if std::env::var_os("SLINT_SCALE_FACTOR").is_none() {
        std::env::set_var("SLINT_SCALE_FACTOR", config.display.scale().to_string());
    }
    let ui = AppWindow::new()?;
    install_controller(&ui, cache, config);
    let _sync = sync::spawn(sync_config(config), |event| {
        let _ = slint::invoke_from_event_loop(move || {
            with_controller(|c| c.sync_event(&event));
        });
    })
    .map_err(AppError::SyncThread)?;
    ui.run()?;
    CONTROLLER.with(|c| c.borrow_mut().take());
    Ok(())
}

/// The app rendering into memory on this thread; used by tests, by
/// `--screenshots` and by the startup benchmark.
pub struct HeadlessSession {
    window: HeadlessWindow,
    ui: AppWindow,
    events: mpsc::Receiver<SyncEvent>,
    sync: Option<SyncHandle>,
    pub opened: OpenOutcome,
}

impl HeadlessSession {
    /// Opens storage and the UI. With `start_sync`, the sync thread runs
    /// and its events are applied by [`HeadlessSession::wait_for`].
    pub fn start(config: &Config, start_sync: bool) -> Result<HeadlessSession, AppError> {
        let window = HeadlessWindow::install(config.display)?;
        let (cache, opened) = open_storage(config)?;
        let ui = AppWindow::new()?;
        install_controller(&ui, cache, config);
        ui.show()?;
        let (tx, events) = mpsc::channel();
        let sync = if start_sync {
            let handle = sync::spawn(sync_config(config), move |event| {
                let _ = tx.send(event);
            })
            .map_err(AppError::SyncThread)?;
            Some(handle)
        } else {
            None
        };
        Ok(HeadlessSession {
            window,
            ui,
            events,
            sync,
            opened,
        })
    }

    /// Applies sync events as they arrive until one matches `done`.
    pub fn wait_for(
        &mut self,
        what: &'static str,
        timeout: Duration,
        done: impl Fn(&SyncEvent) -> bool,
    ) -> Result<SyncEvent, AppError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self
                .events
                .recv_timeout(left)
                .map_err(|_| AppError::Timeout(what))?;
            with_controller(|c| c.sync_event(&event));
            if done(&event) {
                return Ok(event);
            }
        }
    }

    /// Waits for the next finished sync pass, successful or not.
    pub fn wait_for_sync_result(&mut self, timeout: Duration) -> Result<SyncEvent, AppError> {
        self.wait_for("a sync result", timeout, |e| {
            matches!(e, SyncEvent::Synced(_) | SyncEvent::Failed { .. })
        })
    }

    pub fn nudge_sync(&self) {
        if let Some(s) = &self.sync {
            s.nudge();
        }
    }

    /// Presses a remote key.
    pub fn press(&mut self, key: RemoteKey) {
        with_controller(|c| c.key(key));
    }

    /// Types a desktop key through Slint's own key dispatch, as a window would.
    pub fn type_key(&mut self, text: &str) {
        let text = slint::SharedString::from(text);
        self.ui
            .window()
            .dispatch_event(slint::platform::WindowEvent::KeyPressed { text: text.clone() });
        self.ui
            .window()
            .dispatch_event(slint::platform::WindowEvent::KeyReleased { text });
    }

    pub fn view(&self) -> View {
        with_controller(|c| c.view()).unwrap_or_default()
    }

    pub fn set_display(&mut self, display: Display) {
        self.window.set_display(display, &self.ui);
        with_controller(|c| c.refresh());
    }

    pub fn save_png(&self, path: &Path) -> Result<std::path::PathBuf, AppError> {
        Ok(self.window.save_png(path)?)
    }

    /// Renders one frame (for timing).
    pub fn render_frame(&self) -> usize {
        self.window.render().len()
    }
}

impl Drop for HeadlessSession {
    fn drop(&mut self) {
        self.sync.take();
        CONTROLLER.with(|c| c.borrow_mut().take());
    }
}

/// Renders every main screen at 720p and 1080p into `dir`; returns the files.
pub fn render_screens(
    session: &mut HeadlessSession,
    dir: &Path,
) -> Result<Vec<std::path::PathBuf>, AppError> {
    use RemoteKey::{Digit, Down, Home};
    let mut files = Vec::new();
    for display in [Display::HD, Display::FULL_HD] {
        session.set_display(display);
        session.press(Home);
        let tag = format!("{}x{}", display.width, display.height);
        let mut shoot = |s: &mut HeadlessSession, name: &str| -> Result<(), AppError> {
            files.push(s.save_png(&dir.join(format!("{name}-{tag}.png")))?);
            Ok(())
        };
        shoot(session, "01-home")?;
        session.press(Digit(1));
        shoot(session, "02-disclosures")?;
        session.press(Digit(3));
        shoot(session, "03-finance-list")?;
        session.press(RemoteKey::Ok);
        shoot(session, "04-finance-detail")?;
        session.press(Down);
        shoot(session, "05-finance-detail-page2")?;
        session.press(Home);
        session.press(Digit(3));
        shoot(session, "06-coming-soon")?;
        session.press(Home);
    }
    Ok(files)
}

#[cfg(feature = "testing")]
impl HeadlessSession {
    /// Accessible labels and values of what is visible now: the header, the
    /// offline banner, the footer and the current page. What a viewer can
    /// read, found the way a screen reader would.
    pub fn visible_texts(&self) -> Vec<String> {
        use i_slint_backend_testing::ElementHandle;
        fn push(e: &ElementHandle, out: &mut Vec<String>) {
            out.extend(e.accessible_label().map(|s| s.to_string()));
            out.extend(e.accessible_value().map(|s| s.to_string()));
        }
        let page = match self.view().screen {
            0 => "home",
            1 => "categories",
            2 => "list",
            3 => "detail",
            _ => "coming",
        };
        let mut out = Vec::new();
        for id in [page, "header", "banner", "footer"] {
            for root in ElementHandle::find_by_element_id(&self.ui, &format!("AppWindow::{id}")) {
                push(&root, &mut out);
                root.visit_descendants(|e| {
                    push(&e, &mut out);
                    std::ops::ControlFlow::<()>::Continue(())
                });
            }
        }
        out.retain(|t| !t.is_empty());
        out
    }
}
