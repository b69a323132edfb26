//! Values the county centre set on this box (`set_config` commands), kept
//! in `<data_dir>/overrides.toml` and laid over `tv.toml` when the app
//! starts. Only keys that are safe to change remotely are accepted.

use std::path::{Path, PathBuf};

pub const OVERRIDES_FILE: &str = "overrides.toml";

/// Keys a `set_config` command may set.
pub const KEYS: [&str; 2] = ["headend_url", "poll_interval_secs"];

#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("不支持远程设置 {0}；可设置的有 headend_url、poll_interval_secs")]
    UnknownKey(String),
    #[error("{key} 的值 {value:?} 不对：{why}")]
    BadValue {
        key: String,
        value: String,
        why: &'static str,
    },
    #[error("保存设置失败（{path}）：{source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(OVERRIDES_FILE)
}

/// The stored overrides as a TOML table (empty when there are none or the
/// file is unreadable).
pub fn load(data_dir: &Path) -> toml::Table {
    std::fs::read_to_string(path(data_dir))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .unwrap_or_default()
}

/// Checks and stores one value.
pub fn set(data_dir: &Path, key: &str, value: &str) -> Result<(), OverrideError> {
    let bad = |why| OverrideError::BadValue {
        key: key.into(),
        value: value.into(),
        why,
    };
    let value = match key {
        "headend_url" => {
            let rest = value
                .strip_prefix("http://")
                .or_else(|| value.strip_prefix("https://"));
            if rest.is_none_or(str::is_empty) {
                return Err(bad("要以 http:// 或 https:// 开头"));
            }
            toml::Value::String(value.to_string())
        }
        "poll_interval_secs" => match value.parse::<i64>() {
            Ok(n) if (5..=3600).contains(&n) => toml::Value::Integer(n),
            _ => return Err(bad("要在 5 到 3600 秒之间")),
        },
        other => return Err(OverrideError::UnknownKey(other.into())),
    };
    let mut table = load(data_dir);
    table.insert(key.to_string(), value);
    let file = path(data_dir);
    let write = |source| OverrideError::Write {
        path: file.clone(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(write)?;
    let tmp = data_dir.join(format!("{OVERRIDES_FILE}.tmp"));
    std::fs::write(&tmp, toml::to_string(&table).unwrap_or_default()).map_err(write)?;
    std::fs::rename(&tmp, &file).map_err(write)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_keys_with_good_values_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        set(dir.path(), "poll_interval_secs", "120").unwrap();
        assert!(set(dir.path(), "poll_interval_secs", "1").is_err());
        assert!(set(dir.path(), "data_dir", "/")
            .unwrap_err()
            .to_string()
            .contains("不支持"));
        set(dir.path(), "headend_url", "http://10.0.0.2:8080").unwrap();
        let t = load(dir.path());
        assert_eq!(t["poll_interval_secs"].as_integer(), Some(120));
        assert_eq!(t["headend_url"].as_str(), Some("http://10.0.0.2:8080"));
    }
}
