//! The box's one configuration file (TOML), with defaults and clear errors.
//!
//! ```toml
//! headend_url = "http://127.0.0.1:8080"
//! village_code = "990101101001"
//! device_id = "qs-dongpo-0012"
//! data_dir = "/var/lib/dangjian"
//! [display]
//! width = 1920
//! height = 1080
//! [input]
//! evdev = true
//! [player]
//! max_decoders = 4
//! sink = { kind = "element", description = "kmssink plane-id=31" }
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use model::AreaCode;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub headend_url: String,
    pub village_code: AreaCode,
    /// This box's id on the headend, which binds it to a household. Without
    /// one the box only reads: no roll-call, nothing sent.
    pub device_id: Option<String>,
    /// The device token from provisioning (`<data_dir>/device.toml`).
    pub device_token: Option<String>,
    pub data_dir: PathBuf,
    pub display: Display,
    pub poll_interval: Duration,
    pub input: InputSettings,
    /// Playback: sink, decoder budget, watchdog (see `player::PlayerConfig`).
    pub player: player::PlayerConfig,
}

/// Where remote keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSettings {
    /// Read remotes through evdev. Off by default so a developer's desktop
    /// keyboard is never grabbed; box images turn it on.
    pub evdev: bool,
    pub devices_dir: PathBuf,
    /// Vendor keymaps (`*.toml`) added by the installer, over the built-in map.
    pub keymap_dir: PathBuf,
}

impl Default for InputSettings {
    fn default() -> Self {
        InputSettings {
            evdev: false,
            devices_dir: PathBuf::from("/dev/input"),
            keymap_dir: PathBuf::from(DEFAULT_KEYMAP_DIR),
        }
    }
}

pub const DEFAULT_KEYMAP_DIR: &str = "/etc/dangjian/keymaps";

/// Physical output size. The UI is designed at 1280x720 and scaled to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    pub width: u32,
    pub height: u32,
}

impl Display {
    pub const HD: Display = Display {
        width: 1280,
        height: 720,
    };
    pub const FULL_HD: Display = Display {
        width: 1920,
        height: 1080,
    };

    /// Scale from the 1280x720 design to this output.
    pub fn scale(self) -> f32 {
        self.height as f32 / 720.0
    }
}

/// What first-boot provisioning needs before the box has a village.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallSettings {
    pub headend_url: String,
    pub data_dir: PathBuf,
    pub display: Display,
    pub input: InputSettings,
    /// The id the box had, when it is provisioned again.
    pub device_id: Option<String>,
    /// Its current token, sent when it is provisioned again so that it may
    /// move to a village outside its old region.
    pub device_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither the config file nor a provisioned identity names the
    /// village: the box shows first-boot provisioning.
    #[error(
        "this box is not provisioned yet: {path} has no village_code and there is no {}",
        crate::identity::IDENTITY_FILE
    )]
    NotProvisioned {
        path: String,
        settings: Box<InstallSettings>,
    },
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("config file {path}: {key} {problem}")]
    Value {
        path: String,
        key: &'static str,
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    headend_url: Option<String>,
    village_code: Option<String>,
    device_id: Option<String>,
    data_dir: Option<PathBuf>,
    poll_interval_secs: Option<u64>,
    display: Option<RawDisplay>,
    input: Option<RawInput>,
    player: Option<player::PlayerConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    evdev: Option<bool>,
    devices_dir: Option<PathBuf>,
    keymap_dir: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDisplay {
    width: u32,
    height: u32,
}

pub const DEFAULT_HEADEND_URL: &str = "http://127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "/var/lib/dangjian";

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses config text; `origin` names the file in errors.
    /// Parses `text`, then lays over it what the county centre set on this
    /// box (`<data_dir>/overrides.toml`) and the provisioned identity
    /// (`<data_dir>/device.toml`).
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let syntax = |e: toml::de::Error| ConfigError::Syntax {
            path: origin.to_string(),
            message: e.to_string().trim().to_string(),
        };
        let mut table: toml::Table = text.parse().map_err(syntax)?;
        let data_dir = table
            .get("data_dir")
            .and_then(|d| d.as_str())
            .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from);
        for (key, value) in crate::overrides::load(&data_dir) {
            if crate::overrides::KEYS.contains(&key.as_str()) {
                table.insert(key, value);
            }
        }
        let raw: RawConfig = table.try_into().map_err(syntax)?;
        let value = |key, problem: String| ConfigError::Value {
            path: origin.to_string(),
            key,
            problem,
        };
        let headend_url = raw
            .headend_url
            .unwrap_or_else(|| DEFAULT_HEADEND_URL.to_string());
        let after_scheme = headend_url
            .strip_prefix("http://")
            .or_else(|| headend_url.strip_prefix("https://"));
        if after_scheme.is_none_or(str::is_empty) {
            return Err(value(
                "headend_url",
                format!("must start with http:// or https:// and name a host, got {headend_url:?}"),
            ));
        }
        let display = match raw.display {
            None => Display::HD,
            Some(d) => {
                if !(640..=3840).contains(&d.width) || !(360..=2160).contains(&d.height) {
                    return Err(value(
                        "display",
                        format!(
                            "{}x{} is out of range; use 1280x720 or 1920x1080",
                            d.width, d.height
                        ),
                    ));
                }
                Display {
                    width: d.width,
                    height: d.height,
                }
            }
        };
        let device_id = match raw.device_id.map(|d| d.trim().to_string()) {
            Some(d)
                if d.is_empty()
                    || d.len() > 64
                    || !d
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                return Err(value(
                    "device_id",
                    format!("{d:?} must be 1 to 64 letters, digits, '-' or '_'"),
                ))
            }
            other => other,
        };
        let data_dir = raw.data_dir.unwrap_or(data_dir);
        let input = {
            let d = InputSettings::default();
            match raw.input {
                None => d,
                Some(i) => InputSettings {
                    evdev: i.evdev.unwrap_or(d.evdev),
                    devices_dir: i.devices_dir.unwrap_or(d.devices_dir),
                    keymap_dir: i.keymap_dir.unwrap_or(d.keymap_dir),
                },
            }
        };
        // A provisioned identity wins over what the file says.
        let identity = crate::identity::Identity::load(&data_dir);
        let (village_code, device_id, device_token) = match (identity, raw.village_code) {
            (Some(id), _) => (id.village, Some(id.device), Some(id.token)),
            (None, Some(code)) => (
                code.parse()
                    .map_err(|e: model::AreaCodeError| value("village_code", e.to_string()))?,
                device_id,
                None,
            ),
            (None, None) => {
                return Err(ConfigError::NotProvisioned {
                    path: origin.to_string(),
                    settings: Box::new(InstallSettings {
                        headend_url,
                        data_dir,
                        display,
                        input,
                        device_id,
                        device_token: None,
                    }),
                })
            }
        };
        let poll = raw.poll_interval_secs.unwrap_or(60);
        if !(5..=3600).contains(&poll) {
            return Err(value(
                "poll_interval_secs",
                format!("must be between 5 and 3600, got {poll}"),
            ));
        }
        let player = raw.player.unwrap_or_default();
        if !(1..=16).contains(&player.max_decoders) {
            return Err(value(
                "player.max_decoders",
                format!("must be between 1 and 16, got {}", player.max_decoders),
            ));
        }
        Ok(Config {
            player,
            headend_url,
            village_code,
            device_id,
            device_token,
            data_dir,
            display,
            poll_interval: Duration::from_secs(poll),
            input,
        })
    }

    /// What provisioning needs, to provision this box again.
    pub fn install_settings(&self) -> InstallSettings {
        InstallSettings {
            headend_url: self.headend_url.clone(),
            data_dir: self.data_dir.clone(),
            display: self.display,
            input: self.input.clone(),
            device_id: self.device_id.clone(),
            device_token: self.device_token.clone(),
        }
    }

    pub fn cache_path(&self) -> PathBuf {
        self.data_dir.join("cache.db")
    }

    pub fn outbox_path(&self) -> PathBuf {
        self.data_dir.join("outbox.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_what_is_left_out() {
        let c = Config::parse("village_code = \"990101101001\"", "t.toml").unwrap();
        assert_eq!(c.headend_url, DEFAULT_HEADEND_URL);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.display, Display::HD);
        assert_eq!(c.poll_interval, Duration::from_secs(60));
    }

    #[test]
    fn bad_values_name_the_file_and_key() {
        for (text, words) in [
            ("", "not provisioned yet"),
            (
                "village_code = \"12345\"",
                "village_code area code \"12345\" must be exactly 12 digits",
            ),
            (
                "village_code = \"990101101001\"\nheadend_url = \"ftp://x\"",
                "headend_url must start with http://",
            ),
            (
                "village_code = \"990101101001\"\n[display]\nwidth = 100\nheight = 100",
                "display 100x100 is out of range",
            ),
            (
                "village_code = \"990101101001\"\npoll_interval_secs = 1",
                "poll_interval_secs must be between",
            ),
            ("village_code = 990101101001", "not valid TOML"),
            (
                "vilage_code = \"990101101001\"",
                "unknown field `vilage_code`",
            ),
        ] {
            let err = Config::parse(text, "/etc/dangjian/tv.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains("/etc/dangjian/tv.toml"), "{err}");
            assert!(err.contains(words), "{text:?}: {err}");
        }
    }

    #[test]
    fn input_defaults_to_off_and_reads_its_section() {
        let c = Config::parse("village_code = \"990101101001\"", "t").unwrap();
        assert_eq!(c.input, InputSettings::default());
        assert!(!c.input.evdev);
        let c = Config::parse(
            "village_code = \"990101101001\"\n[input]\nevdev = true\nkeymap_dir = \"/opt/km\"",
            "t",
        )
        .unwrap();
        assert!(c.input.evdev);
        assert_eq!(c.input.devices_dir, PathBuf::from("/dev/input"));
        assert_eq!(c.input.keymap_dir, PathBuf::from("/opt/km"));
        let err = Config::parse(
            "village_code = \"990101101001\"\n[input]\nevdevv = true",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `evdevv`"), "{err}");
    }

    #[test]
    fn the_deploy_example_parses() {
        // As shipped, a box has no village yet: it starts in provisioning.
        let text = include_str!("../../../deploy/tv.toml.example");
        match Config::parse(text, "deploy/tv.toml.example") {
            Err(ConfigError::NotProvisioned { settings, .. }) => {
                assert!(settings.input.evdev, "boxes read the remote through evdev");
                assert_eq!(settings.headend_url, "http://headend.example.invalid:8080");
            }
            other => panic!("{other:?}"),
        }
        // With the village line uncommented it reads as before.
        let text = text.replace("# village_code =", "village_code =");
        let c = Config::parse(&text, "deploy/tv.toml.example").unwrap();
        assert!(c.input.evdev);
        assert_eq!(c.player, player::PlayerConfig::default());
    }

    #[test]
    fn a_device_id_is_checked() {
        let v = "village_code = \"990101101001\"\n";
        assert_eq!(Config::parse(v, "t").unwrap().device_id, None);
        let err = Config::parse(&format!("{v}device_id = \"box 1\""), "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("device_id") && err.contains("box 1"), "{err}");
    }

    #[test]
    fn a_box_with_a_video_plane_sets_a_hardware_sink() {
        let c = Config::parse(
            "village_code = \"990101101001\"\n[player]\n\
             sink = { kind = \"element\", description = \"kmssink plane-id=31\" }\n\
             max_decoders = 2\nmulticast_iface = \"eth0\"",
            "t",
        )
        .unwrap();
        assert_eq!(
            c.player.sink,
            player::SinkChoice::Element {
                description: "kmssink plane-id=31".into()
            }
        );
        assert_eq!(c.player.max_decoders, 2);
        assert_eq!(c.player.multicast_iface.as_deref(), Some("eth0"));
        let err = Config::parse(
            "village_code = \"990101101001\"\n[player]\nmax_decoders = 0",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().contains("max_decoders"), "{err}");
        let err = Config::parse(
            "village_code = \"990101101001\"\n[player]\nsink = { kind = \"hdmi\" }",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().contains("hdmi"), "{err}");
    }

    #[test]
    fn full_hd_scales_by_one_and_a_half() {
        let c = Config::parse(
            "village_code = \"990101101001\"\n[display]\nwidth = 1920\nheight = 1080",
            "t",
        )
        .unwrap();
        assert_eq!(c.display.scale(), 1.5);
    }
}
