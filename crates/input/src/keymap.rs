//! Keymaps: evdev key names to [`RemoteKey`] actions, from TOML files.
//!
//! ```toml
//! name = "某品牌机顶盒遥控器"
//! [keys]
//! KEY_OK = "Ok"
//! KEY_NUMERIC_1 = "Digit1"
//! ```
//!
//! The default map (`assets/keymaps/default.toml`) is compiled in; an
//! installer drops vendor maps into the keymap directory and they are read
//! at start, later files overriding earlier entries, with no rebuild. Any
//! mistake names the file, the line and the key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use toml::de::{DeTable, DeValue};

use crate::RemoteKey;

const DEFAULT_MAP: &str = include_str!("../../../assets/keymaps/default.toml");
const DEFAULT_ORIGIN: &str = "assets/keymaps/default.toml (built in)";

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("cannot read keymap {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("keymap {file} line {line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("keymap {file} line {line}: {key} is not an evdev key name (write it as in linux/input-event-codes.h, e.g. KEY_OK)")]
    UnknownKey {
        file: String,
        line: usize,
        key: String,
    },
    #[error("keymap {file} line {line}: {key} maps to unknown action {action:?} (use one of Up, Down, Left, Right, Ok, Back, Home, Menu, Info, ChannelUp, ChannelDown, VolumeUp, VolumeDown, Mute, Red, Green, Yellow, Blue, Digit0-Digit9, Play, Pause, Stop, Rewind, FastForward, Power)")]
    UnknownAction {
        file: String,
        line: usize,
        key: String,
        action: String,
    },
    #[error("keymap {file} line {line}: {key} is the same key as {first} on line {first_line}; list each key once")]
    Duplicate {
        file: String,
        line: usize,
        key: String,
        first: String,
        first_line: usize,
    },
}

/// The name of an evdev key code (`KEY_OK`), or its number if it has none.
pub fn key_name(code: u16) -> String {
    let name = format!("{:?}", evdev::KeyCode::new(code));
    if name.starts_with("unknown") {
        format!("KEY_{code:#05x}")
    } else {
        name
    }
}

/// The code of an evdev key name.
pub fn key_code(name: &str) -> Option<u16> {
    evdev::KeyCode::from_str(name).ok().map(|k| k.code())
}

/// Key codes to actions, merged from the built-in map and vendor maps.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    actions: HashMap<u16, RemoteKey>,
    /// Files merged into this map, in order.
    pub sources: Vec<String>,
}

impl Keymap {
    /// The built-in rc-core map.
    pub fn builtin() -> Keymap {
        let mut map = Keymap::default();
        // The built-in map is checked by a test, so this cannot fail at run time.
        if let Err(e) = map.merge_text(DEFAULT_MAP, DEFAULT_ORIGIN) {
            tracing::error!(error = %e, "the built-in keymap is broken");
        }
        map
    }

    /// The built-in map plus every `*.toml` in `dir` in name order. A missing
    /// directory means no vendor maps.
    pub fn load_dir(dir: &Path) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::builtin();
        for file in keymap_files(dir)? {
            map.merge_file(&file)?;
        }
        Ok(map)
    }

    /// Like [`Keymap::load_dir`], but a bad file is skipped and reported
    /// instead of failing: the box must keep working with a mistyped map,
    /// and the remote test screen shows what was skipped.
    pub fn load_dir_lenient(dir: &Path) -> (Keymap, Vec<KeymapError>) {
        let mut map = Keymap::builtin();
        let mut errors = Vec::new();
        let files = keymap_files(dir).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        for file in files {
            if let Err(e) = map.merge_file(&file) {
                tracing::error!(error = %e, "keymap skipped");
                errors.push(e);
            }
        }
        (map, errors)
    }

    pub fn merge_file(&mut self, file: &Path) -> Result<(), KeymapError> {
        let origin = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|source| KeymapError::Read {
            file: origin.clone(),
            source,
        })?;
        self.merge_text(&text, &origin)
    }

    /// Parses one keymap and merges it; nothing is merged if it has an error.
    pub fn merge_text(&mut self, text: &str, origin: &str) -> Result<(), KeymapError> {
        let parsed = parse(text, origin)?;
        for (code, action) in parsed {
            self.actions.insert(code, action);
        }
        self.sources.push(origin.to_string());
        Ok(())
    }

    pub fn action(&self, code: u16) -> Option<RemoteKey> {
        self.actions.get(&code).copied()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// The `*.toml` files of a keymap directory in name order; none if it is missing.
fn keymap_files(dir: &Path) -> Result<Vec<PathBuf>, KeymapError> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(KeymapError::Read {
                file: dir.display().to_string(),
                source,
            })
        }
    };
    files.sort();
    Ok(files)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn parse(text: &str, origin: &str) -> Result<Vec<(u16, RemoteKey)>, KeymapError> {
    let syntax = |line: usize, message: String| KeymapError::Syntax {
        file: origin.to_string(),
        line,
        message,
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        // Quote the line: TOML's messages ("duplicate key") do not name it.
        let source = text.lines().nth(line - 1).unwrap_or("").trim();
        syntax(line, format!("{} (`{source}`)", e.message().trim()))
    })?;
    let mut keys = None;
    for (name, value) in doc.get_ref() {
        let line = line_of(text, name.span().start);
        match (name.get_ref().as_ref(), value.get_ref()) {
            ("name", DeValue::String(_)) => {}
            ("keys", DeValue::Table(t)) => keys = Some(t),
            (other, _) => {
                return Err(syntax(
                    line,
                    format!(
                        "unexpected {other:?}; a keymap has `name = \"...\"` and a [keys] table"
                    ),
                ))
            }
        }
    }
    let keys = keys.ok_or_else(|| syntax(1, "there is no [keys] table".into()))?;
    // Sorted by position so errors and duplicates name lines in file order.
    let mut entries: Vec<_> = keys.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut seen: HashMap<u16, (String, usize)> = HashMap::new();
    let mut out = Vec::new();
    for (key, value) in entries {
        let line = line_of(text, key.span().start);
        let key_text = key.get_ref().to_string();
        let code = key_code(&key_text).ok_or_else(|| KeymapError::UnknownKey {
            file: origin.to_string(),
            line,
            key: key_text.clone(),
        })?;
        let action_text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            _ => {
                return Err(syntax(
                    line,
                    format!("{key_text} must map to an action name in quotes, e.g. \"Ok\""),
                ))
            }
        };
        let action =
            RemoteKey::from_name(&action_text).ok_or_else(|| KeymapError::UnknownAction {
                file: origin.to_string(),
                line,
                key: key_text.clone(),
                action: action_text.clone(),
            })?;
        if let Some((first, first_line)) = seen.get(&code) {
            return Err(KeymapError::Duplicate {
                file: origin.to_string(),
                line,
                key: key_text,
                first: first.clone(),
                first_line: *first_line,
            });
        }
        seen.insert(code, (key_text, line));
        out.push((code, action));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_map_parses_and_follows_rc_core_conventions() {
        let mut map = Keymap::default();
        map.merge_text(DEFAULT_MAP, DEFAULT_ORIGIN).unwrap();
        let action = |name: &str| map.action(key_code(name).unwrap());
        for d in 0..10u8 {
            let digit = Some(RemoteKey::Digit(d));
            assert_eq!(action(&format!("KEY_NUMERIC_{d}")), digit);
            assert_eq!(action(&format!("KEY_{d}")), digit);
        }
        for back in ["KEY_BACK", "KEY_EXIT", "KEY_ESC"] {
            assert_eq!(action(back), Some(RemoteKey::Back), "{back}");
        }
        for ok in ["KEY_OK", "KEY_SELECT", "KEY_ENTER"] {
            assert_eq!(action(ok), Some(RemoteKey::Ok), "{ok}");
        }
        assert_eq!(action("KEY_CHANNELUP"), Some(RemoteKey::ChannelUp));
        assert_eq!(action("KEY_RED"), Some(RemoteKey::Red));
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(key_name(0x160), "KEY_OK");
        assert_eq!(key_code("KEY_OK"), Some(0x160));
        assert_eq!(key_code("KEY_NOPE"), None);
        assert_eq!(key_name(0x2ff), "KEY_0x2ff");
    }
}
