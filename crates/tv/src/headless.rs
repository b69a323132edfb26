//! Headless rendering with Slint's software renderer: for tests, for
//! `cargo xtask run` on machines without a display, and for the startup
//! benchmark. One platform per thread, as Slint requires.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter, WindowEvent};
use slint::Rgb8Pixel;
use slint::{ComponentHandle, PhysicalSize};

use crate::config::Display;
use crate::ui::AppWindow;

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    start: Instant,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
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
}

impl HeadlessWindow {
    /// Installs the headless platform on this thread (once per thread).
    pub fn install(display: Display) -> Result<HeadlessWindow, RenderError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
            start: Instant::now(),
        }))
        .map_err(|e| RenderError::Platform(e.to_string()))?;
        let w = HeadlessWindow { window, display };
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

    pub fn set_display(&mut self, display: Display, ui: &AppWindow) {
        self.display = display;
        self.apply_display();
        // Re-show so the component sees the new size.
        let _ = ui.show();
    }

    pub fn display(&self) -> Display {
        self.display
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
