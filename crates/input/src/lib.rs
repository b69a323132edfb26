//! Remote-control input for the box.
//!
//! This crate will own evdev: discovering IR remotes under `/dev/input`,
//! grabbing them, following hotplug, keymaps from `assets/keymaps/*.toml`,
//! and IR autorepeat rules. Today it defines [`RemoteKey`], the one key
//! vocabulary the app understands, so the desktop keyboard path and the
//! evdev path produce the same actions.

/// A remote-control action, independent of where the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteKey {
    Up,
    Down,
    Left,
    Right,
    Ok,
    Back,
    Home,
    Menu,
    Info,
    ChannelUp,
    ChannelDown,
    VolumeUp,
    VolumeDown,
    Mute,
    Red,
    Green,
    Yellow,
    Blue,
    Digit(u8),
    Play,
    Pause,
    Stop,
    Rewind,
    FastForward,
    Power,
}

impl RemoteKey {
    /// Keys that repeat while held (arrows and channel keys); OK, Back,
    /// digits and colour keys never repeat.
    pub fn repeats(self) -> bool {
        matches!(
            self,
            RemoteKey::Up
                | RemoteKey::Down
                | RemoteKey::Left
                | RemoteKey::Right
                | RemoteKey::ChannelUp
                | RemoteKey::ChannelDown
                | RemoteKey::VolumeUp
                | RemoteKey::VolumeDown
        )
    }
}
