//! Remote-control input for the box, owning evdev.
//!
//! - [`RemoteKey`] is the one key vocabulary the app understands; the
//!   desktop keyboard path and the evdev path both produce it.
//! - [`event`] decodes the kernel's `struct input_event` (from a device node
//!   or a recording; both are the same bytes).
//! - [`keymap`] maps evdev key names to actions from `assets/keymaps/*.toml`.
//! - [`repeat`] applies the IR autorepeat rules; [`decoder`] groups events
//!   into packets, handles `SYN_DROPPED` and produces [`KeyPress`]es.
//! - [`service`] finds remotes in `/dev/input`, grabs them, follows hotplug
//!   with inotify and delivers [`InputMessage`]s to a sink on its own thread.
//! - [`replay`] plays a recording back, paced or as fast as possible.
//!
//! No evdev type leaves this crate.

pub mod decoder;
pub mod device;
pub mod event;
mod key;
pub mod keymap;
pub mod repeat;
pub mod replay;
pub mod service;

pub use decoder::{decode_recording, Decoder, KeyPress};
pub use device::{DeviceOpener, EvdevOpener, InputDevice, OpenedDevice, RecordingOpener};
pub use event::{EventLayout, RawEvent};
pub use key::RemoteKey;
pub use keymap::{Keymap, KeymapError};
pub use repeat::RepeatPolicy;
pub use service::{spawn, InputConfig, InputHandle, InputMessage};
