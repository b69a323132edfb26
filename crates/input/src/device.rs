//! Input devices: the real evdev node, and the trait the service reads
//! through so tests can stand in for `/dev/input`.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use evdev::KeyCode;

use crate::event::{EventLayout, EventReader, RawEvent};

/// An open input device, read on its own thread.
pub trait InputDevice: Send {
    /// Blocks until at least one event arrives. An empty batch or an error
    /// means the device is gone.
    fn read_batch(&mut self) -> io::Result<Vec<RawEvent>>;
    /// Keys down right now, if the device can say (after `SYN_DROPPED`).
    fn keys_down(&self) -> Option<Vec<u16>>;
}

/// A device found in the watched directory.
pub struct OpenedDevice {
    pub name: String,
    pub device: Box<dyn InputDevice>,
}

/// Opens device nodes for the service.
pub trait DeviceOpener: Send {
    /// `Ok(None)` means the node is an input device but not a remote.
    fn open(&self, path: &Path) -> io::Result<Option<OpenedDevice>>;
}

/// The real thing: evdev nodes, grabbed exclusively.
#[derive(Debug, Default)]
pub struct EvdevOpener;

struct EvdevDevice {
    // Kept open: the grab belongs to this file description.
    device: evdev::raw_stream::RawDevice,
    reader: EventReader<File>,
}

impl InputDevice for EvdevDevice {
    fn read_batch(&mut self) -> io::Result<Vec<RawEvent>> {
        self.reader.read_batch()
    }

    fn keys_down(&self) -> Option<Vec<u16>> {
        let state = self.device.get_key_state().ok()?;
        Some(state.iter().map(|k| k.code()).collect())
    }
}

/// Whether a device's keys look like a remote: OK (or ENTER/SELECT) and arrows.
pub fn is_remote_like(has: impl Fn(u16) -> bool) -> bool {
    let ok = [KeyCode::KEY_OK, KeyCode::KEY_ENTER, KeyCode::KEY_SELECT]
        .iter()
        .any(|k| has(k.code()));
    let arrows = [KeyCode::KEY_UP, KeyCode::KEY_DOWN]
        .iter()
        .all(|k| has(k.code()));
    ok && arrows
}

impl DeviceOpener for EvdevOpener {
    fn open(&self, path: &Path) -> io::Result<Option<OpenedDevice>> {
        let mut device = evdev::raw_stream::RawDevice::open(path)?;
        let remote = device
            .supported_keys()
            .is_some_and(|keys| is_remote_like(|code| keys.contains(KeyCode::new(code))));
        if !remote {
            return Ok(None);
        }
        // Exclusive, so remote keys do not also reach the console.
        if let Err(e) = device.grab() {
            tracing::warn!(path = %path.display(), error = %e, "cannot grab the remote exclusively; its keys may also reach the console");
        }
        let name = device.name().unwrap_or("遥控器").to_string();
        let file = File::from(device.as_fd().try_clone_to_owned()?);
        Ok(Some(OpenedDevice {
            name,
            device: Box::new(EvdevDevice {
                device,
                reader: EventReader::new(file, EventLayout::native()),
            }),
        }))
    }
}

/// Treats each `event*` file in a directory as a recording that is still
/// being written: new bytes are new events, deleting the file unplugs the
/// device. Stands in for `/dev/input` where there is no uinput (tests).
#[derive(Debug, Clone)]
pub struct RecordingOpener {
    pub layout: EventLayout,
    /// How often a quiet recording is checked for growth or removal.
    pub poll: std::time::Duration,
}

impl Default for RecordingOpener {
    fn default() -> Self {
        RecordingOpener {
            layout: EventLayout::native(),
            poll: std::time::Duration::from_millis(10),
        }
    }
}

struct TailedRecording {
    path: std::path::PathBuf,
    reader: EventReader<File>,
    poll: std::time::Duration,
}

impl InputDevice for TailedRecording {
    fn read_batch(&mut self) -> io::Result<Vec<RawEvent>> {
        loop {
            let batch = self.reader.read_batch()?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            if !self.path.exists() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "device node removed",
                ));
            }
            std::thread::sleep(self.poll);
        }
    }

    fn keys_down(&self) -> Option<Vec<u16>> {
        None
    }
}

impl DeviceOpener for RecordingOpener {
    fn open(&self, path: &Path) -> io::Result<Option<OpenedDevice>> {
        let file = File::open(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Some(OpenedDevice {
            name: format!("recording {name}"),
            device: Box::new(TailedRecording {
                path: path.to_path_buf(),
                reader: EventReader::new(file, self.layout),
                poll: self.poll,
            }),
        }))
    }
}
