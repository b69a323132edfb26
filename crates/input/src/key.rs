//! [`RemoteKey`]: the one key vocabulary the app understands.

/// A remote-control action, independent of where the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

const NAMED: [(&str, RemoteKey); 24] = [
    ("Up", RemoteKey::Up),
    ("Down", RemoteKey::Down),
    ("Left", RemoteKey::Left),
    ("Right", RemoteKey::Right),
    ("Ok", RemoteKey::Ok),
    ("Back", RemoteKey::Back),
    ("Home", RemoteKey::Home),
    ("Menu", RemoteKey::Menu),
    ("Info", RemoteKey::Info),
    ("ChannelUp", RemoteKey::ChannelUp),
    ("ChannelDown", RemoteKey::ChannelDown),
    ("VolumeUp", RemoteKey::VolumeUp),
    ("VolumeDown", RemoteKey::VolumeDown),
    ("Mute", RemoteKey::Mute),
    ("Red", RemoteKey::Red),
    ("Green", RemoteKey::Green),
    ("Yellow", RemoteKey::Yellow),
    ("Blue", RemoteKey::Blue),
    ("Play", RemoteKey::Play),
    ("Pause", RemoteKey::Pause),
    ("Stop", RemoteKey::Stop),
    ("Rewind", RemoteKey::Rewind),
    ("FastForward", RemoteKey::FastForward),
    ("Power", RemoteKey::Power),
];

impl RemoteKey {
    /// Keys that repeat while held (arrows, channel and volume keys); OK,
    /// Back, digits and colour keys never repeat, so a held OK cannot open
    /// two things.
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

    /// The action's name as keymap files write it (`Ok`, `Digit7`).
    pub fn name(self) -> String {
        match self {
            RemoteKey::Digit(d) => format!("Digit{d}"),
            other => NAMED
                .iter()
                .find(|(_, k)| *k == other)
                .map(|(n, _)| (*n).to_string())
                .unwrap_or_default(),
        }
    }

    /// Parses an action name as keymap files write it.
    pub fn from_name(name: &str) -> Option<RemoteKey> {
        if let Some(d) = name.strip_prefix("Digit") {
            return match d.as_bytes() {
                [c @ b'0'..=b'9'] => Some(RemoteKey::Digit(c - b'0')),
                _ => None,
            };
        }
        NAMED.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    /// What the remote test screen calls the action, in Chinese.
    pub fn label(self) -> String {
        let s = match self {
            RemoteKey::Up => "上",
            RemoteKey::Down => "下",
            RemoteKey::Left => "左",
            RemoteKey::Right => "右",
            RemoteKey::Ok => "确认",
            RemoteKey::Back => "返回",
            RemoteKey::Home => "首页",
            RemoteKey::Menu => "菜单",
            RemoteKey::Info => "信息",
            RemoteKey::ChannelUp => "频道+",
            RemoteKey::ChannelDown => "频道-",
            RemoteKey::VolumeUp => "音量+",
            RemoteKey::VolumeDown => "音量-",
            RemoteKey::Mute => "静音",
            RemoteKey::Red => "红键",
            RemoteKey::Green => "绿键",
            RemoteKey::Yellow => "黄键",
            RemoteKey::Blue => "蓝键",
            RemoteKey::Digit(d) => return format!("数字{d}"),
            RemoteKey::Play => "播放",
            RemoteKey::Pause => "暂停",
            RemoteKey::Stop => "停止",
            RemoteKey::Rewind => "快退",
            RemoteKey::FastForward => "快进",
            RemoteKey::Power => "待机",
        };
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (name, key) in NAMED {
            assert_eq!(RemoteKey::from_name(name), Some(key));
            assert_eq!(key.name(), name);
        }
        for d in 0..10 {
            let k = RemoteKey::Digit(d);
            assert_eq!(RemoteKey::from_name(&k.name()), Some(k));
        }
        assert_eq!(RemoteKey::from_name("Digit10"), None);
        assert_eq!(RemoteKey::from_name("OK"), None);
    }
}
