//! Headless rendering with Slint's software renderer: for tests, for
//! `cargo xtask run` on machines without a display, and for the startup
//! benchmark. One platform per thread, as Slint requires.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, WindowAdapter, WindowEvent};
use slint::PhysicalSize;
use slint::Rgb8Pixel;

use crate::config::Display;

type Task = Box<dyn FnOnce() + Send>;

/// Work handed to the UI thread by `slint::invoke_from_event_loop`.
#[derive(Default)]
struct Queue {
    state: Mutex<(VecDeque<Task>, bool)>,
    ready: Condvar,
}

struct Proxy(Arc<Queue>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), slint::EventLoopError> {
        let mut s = self
            .0
            .state
            .lock()
            .map_err(|_| slint::EventLoopError::EventLoopTerminated)?;
        s.1 = true;
        self.0.ready.notify_one();
        Ok(())
    }

    fn invoke_from_event_loop(&self, event: Task) -> Result<(), slint::EventLoopError> {
        let mut s = self
            .0
            .state
            .lock()
            .map_err(|_| slint::EventLoopError::EventLoopTerminated)?;
        s.0.push_back(event);
        self.0.ready.notify_one();
        Ok(())
    }
}

/// Called after each task the event loop runs, with whether a frame was
/// rendered because of it.
type FrameHook = Rc<RefCell<Option<Box<dyn FnMut(bool)>>>>;

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    start: Instant,
    /// Slint keeps one event-loop proxy per process, so only a platform that
    /// needs `invoke_from_event_loop` (the live-input benchmark and its test,
    /// each in a process of its own) offers one; the rest can then run one
    /// platform per test thread.
    queue: Option<Arc<Queue>>,
    on_frame: FrameHook,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        let queue = self.queue.clone()?;
        Some(Box::new(Proxy(queue)))
    }

    /// Runs tasks from other threads and renders after each one that
    /// changed the screen, as a real event loop would, until quit.
    fn run_event_loop(&self) -> Result<(), slint::PlatformError> {
        let Some(queue) = &self.queue else {
            return Err(slint::PlatformError::NoEventLoopProvider);
        };
        let mut buffer = Vec::new();
        loop {
            let task = {
                let mut s = queue
                    .state
                    .lock()
                    .map_err(|_| slint::PlatformError::Other("event queue poisoned".into()))?;
                loop {
                    if let Some(task) = s.0.pop_front() {
                        break Some(task);
                    }
                    if s.1 {
                        s.1 = false;
                        break None;
                    }
                    s = queue
                        .ready
                        .wait(s)
                        .map_err(|_| slint::PlatformError::Other("event queue poisoned".into()))?;
                }
            };
            let Some(task) = task else {
                return Ok(());
            };
            task();
            slint::platform::update_timers_and_animations();
            let size = self.window.size();
            let (w, h) = (size.width as usize, size.height as usize);
            buffer.resize(w * h, Rgb8Pixel::new(0, 0, 0));
            let drew = self.window.draw_if_needed(|renderer| {
                renderer.render(&mut buffer, w);
            });
            if let Some(hook) = self.on_frame.borrow_mut().as_mut() {
                hook(drew);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot start the headless renderer: {0}")]
    Platform(String),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// A window that renders into memory.
pub struct HeadlessWindow {
    window: Rc<MinimalSoftwareWindow>,
    display: Display,
    on_frame: FrameHook,
}

impl HeadlessWindow {
    /// Installs the headless platform on this thread (once per thread).
    /// With `event_loop`, `slint::invoke_from_event_loop` works and
    /// [`HeadlessWindow::run_event_loop`] runs; that is once per process.
    pub fn install(display: Display, event_loop: bool) -> Result<HeadlessWindow, RenderError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        let on_frame = FrameHook::default();
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
            start: Instant::now(),
            queue: event_loop.then(Arc::default),
            on_frame: on_frame.clone(),
        }))
        .map_err(|e| RenderError::Platform(e.to_string()))?;
        let w = HeadlessWindow {
            window,
            display,
            on_frame,
        };
        w.apply_display();
        Ok(w)
    }

    fn apply_display(&self) {
        self.window.dispatch_event(WindowEvent::ScaleFactorChanged {
            scale_factor: self.display.scale(),
        });
        self.window
            .set_size(PhysicalSize::new(self.display.width, self.display.height));
    }

    pub fn set_display(&mut self, display: Display, ui: &impl slint::ComponentHandle) {
        self.display = display;
        self.apply_display();
        // Re-show so the component sees the new size.
        let _ = ui.show();
    }

    pub fn display(&self) -> Display {
        self.display
    }

    /// Runs the event loop (`slint::run_event_loop`) until something calls
    /// `slint::quit_event_loop`; `on_frame` runs after each task with
    /// whether it produced a frame.
    pub fn run_event_loop(&self, on_frame: impl FnMut(bool) + 'static) -> Result<(), RenderError> {
        *self.on_frame.borrow_mut() = Some(Box::new(on_frame));
        let result = slint::run_event_loop().map_err(|e| RenderError::Platform(e.to_string()));
        self.on_frame.borrow_mut().take();
        result
    }

    /// Renders the current frame into RGB pixels.
    pub fn render(&self) -> Vec<Rgb8Pixel> {
        slint::platform::update_timers_and_animations();
        let (w, h) = (self.display.width as usize, self.display.height as usize);
        let mut buffer = vec![Rgb8Pixel::new(0, 0, 0); w * h];
        self.window.request_redraw();
        self.window.draw_if_needed(|renderer| {
            renderer.render(&mut buffer, w);
        });
        buffer
    }

    /// Renders and saves a PNG.
    pub fn save_png(&self, path: &Path) -> Result<PathBuf, RenderError> {
        let pixels = self.render();
        let write_err = |message: String| RenderError::Write {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_err(e.to_string()))?;
        }
        let file = std::fs::File::create(path).map_err(|e| write_err(e.to_string()))?;
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            self.display.width,
            self.display.height,
        );
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| write_err(e.to_string()))?;
        let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        writer
            .write_image_data(&bytes)
            .map_err(|e| write_err(e.to_string()))?;
        Ok(path.to_path_buf())
    }
}
