//! The installer's remote test: every key as it arrives, with its evdev
//! name, scancode and the action it maps to, and a warning for keys the
//! keymap does not know. UI-agnostic, like `app.rs`.

use std::collections::VecDeque;
use std::path::PathBuf;

use input::{InputMessage, KeyPress, RemoteKey};

/// Keys kept on the screen, newest first.
pub const KEYS_SHOWN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySeen {
    /// `KEY_OK`, or `键盘` for the desktop keyboard.
    pub name: String,
    pub scancode: Option<u32>,
    pub action: Option<RemoteKey>,
    pub repeat: bool,
}

impl KeySeen {
    pub fn from_press(p: &KeyPress) -> KeySeen {
        KeySeen {
            name: p.name.clone(),
            scancode: p.scancode,
            action: p.action,
            repeat: p.repeat,
        }
    }

    pub fn from_keyboard(action: RemoteKey) -> KeySeen {
        KeySeen {
            name: "键盘".into(),
            scancode: None,
            action: Some(action),
            repeat: false,
        }
    }
}

#[derive(Debug, Default)]
pub struct RemoteTest {
    pub seen: VecDeque<KeySeen>,
    pub total: usize,
    pub unmapped: usize,
    /// Remotes open now: (device node, device name).
    pub remotes: Vec<(PathBuf, String)>,
    /// Keymap files in use, and keymap files that were refused.
    pub keymap_sources: Vec<String>,
    pub keymap_errors: Vec<String>,
    /// Whether the evdev path is on at all (off on a desktop).
    pub evdev_enabled: bool,
    last_exit_key: Option<RemoteKey>,
}

impl RemoteTest {
    /// Records a key shown on the test screen. Returns true when the
    /// installer asked to leave: Back or Home twice in a row, so that the
    /// first press of each can itself be tested.
    pub fn record(&mut self, key: KeySeen) -> bool {
        let exit_key = key
            .action
            .filter(|a| matches!(a, RemoteKey::Back | RemoteKey::Home));
        let leave = !key.repeat && exit_key.is_some() && exit_key == self.last_exit_key;
        if !key.repeat {
            self.last_exit_key = exit_key;
        }
        self.total += 1;
        if key.action.is_none() {
            self.unmapped += 1;
        }
        self.seen.push_front(key);
        self.seen.truncate(KEYS_SHOWN);
        if leave {
            self.reset_session();
        }
        leave
    }

    /// Starts a fresh test when the screen is opened.
    pub fn reset_session(&mut self) {
        self.seen.clear();
        self.total = 0;
        self.unmapped = 0;
        self.last_exit_key = None;
    }

    /// Follows remotes coming and going. Returns true for a device message.
    pub fn device_message(&mut self, msg: &InputMessage) -> bool {
        match msg {
            InputMessage::Connected { path, name } => {
                self.remotes.retain(|(p, _)| p != path);
                self.remotes.push((path.clone(), name.clone()));
                true
            }
            InputMessage::Disconnected { path, .. } => {
                self.remotes.retain(|(p, _)| p != path);
                true
            }
            InputMessage::Key { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_twice_leaves_and_other_keys_in_between_do_not() {
        let mut t = RemoteTest::default();
        assert!(!t.record(KeySeen::from_keyboard(RemoteKey::Back)));
        assert!(!t.record(KeySeen::from_keyboard(RemoteKey::Ok)));
        assert!(!t.record(KeySeen::from_keyboard(RemoteKey::Back)));
        assert!(t.record(KeySeen::from_keyboard(RemoteKey::Back)));
        assert_eq!(t.total, 0, "a fresh session after leaving");
    }

    #[test]
    fn keeps_the_newest_keys_and_counts_unmapped_ones() {
        let mut t = RemoteTest::default();
        for d in 0..7 {
            t.record(KeySeen::from_keyboard(RemoteKey::Digit(d)));
        }
        t.record(KeySeen {
            name: "KEY_F13".into(),
            scancode: Some(0x45),
            action: None,
            repeat: false,
        });
        assert_eq!(t.seen.len(), KEYS_SHOWN);
        assert_eq!(t.seen[0].name, "KEY_F13");
        assert_eq!((t.total, t.unmapped), (8, 1));
    }
}
