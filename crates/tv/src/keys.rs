//! Desktop keyboard to remote semantics, so a developer's keyboard and the
//! IR remote drive the app the same way.

use input::RemoteKey;
use slint::platform::Key;

/// Maps the text of a Slint key event to a remote key.
pub fn from_desktop_key(text: &str) -> Option<RemoteKey> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    let is = |k: Key| c == char::from(k);
    Some(match c {
        _ if is(Key::UpArrow) => RemoteKey::Up,
        _ if is(Key::DownArrow) => RemoteKey::Down,
        _ if is(Key::LeftArrow) => RemoteKey::Left,
        _ if is(Key::RightArrow) => RemoteKey::Right,
        _ if is(Key::Return) => RemoteKey::Ok,
        ' ' => RemoteKey::Ok,
        _ if is(Key::Escape) || is(Key::Backspace) => RemoteKey::Back,
        _ if is(Key::Home) => RemoteKey::Home,
        _ if is(Key::Menu) || is(Key::F10) => RemoteKey::Menu,
        _ if is(Key::PageUp) => RemoteKey::ChannelUp,
        _ if is(Key::PageDown) => RemoteKey::ChannelDown,
        _ if is(Key::F1) => RemoteKey::Red,
        _ if is(Key::F2) => RemoteKey::Green,
        _ if is(Key::F3) => RemoteKey::Yellow,
        _ if is(Key::F4) => RemoteKey::Blue,
        '0'..='9' => RemoteKey::Digit(c as u8 - b'0'),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: Key) -> String {
        char::from(k).to_string()
    }

    #[test]
    fn keyboard_maps_to_remote_semantics() {
        assert_eq!(from_desktop_key(&key(Key::UpArrow)), Some(RemoteKey::Up));
        assert_eq!(from_desktop_key(&key(Key::Return)), Some(RemoteKey::Ok));
        assert_eq!(from_desktop_key(&key(Key::Escape)), Some(RemoteKey::Back));
        assert_eq!(
            from_desktop_key(&key(Key::Backspace)),
            Some(RemoteKey::Back)
        );
        assert_eq!(from_desktop_key(&key(Key::Home)), Some(RemoteKey::Home));
        assert_eq!(from_desktop_key(&key(Key::F2)), Some(RemoteKey::Green));
        assert_eq!(
            from_desktop_key(&key(Key::PageDown)),
            Some(RemoteKey::ChannelDown)
        );
        assert_eq!(from_desktop_key("7"), Some(RemoteKey::Digit(7)));
        assert_eq!(from_desktop_key("x"), None);
        assert_eq!(from_desktop_key(""), None);
    }
}
