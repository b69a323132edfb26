//! The box's identity from provisioning: its device id, its village and
//! the device token, kept in `<data_dir>/device.toml` readable by its owner
//! only (mode 0600), written atomically so a power cut leaves the old file
//! or the new one.

use std::io::Write;
use std::path::{Path, PathBuf};

use model::AreaCode;
use serde::{Deserialize, Serialize};

/// File name under the data directory.
pub const IDENTITY_FILE: &str = "device.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub device: String,
    pub village: AreaCode,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot write the box identity {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the box identity: {0}")]
    Encode(String),
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(IDENTITY_FILE)
}

impl Identity {
    /// The stored identity; `None` when there is none or it is unreadable
    /// (the box then asks to be provisioned again).
    pub fn load(data_dir: &Path) -> Option<Identity> {
        let file = path(data_dir);
        let text = std::fs::read_to_string(&file).ok()?;
        match toml::from_str(&text) {
            Ok(identity) => Some(identity),
            Err(e) => {
                tracing::error!(path = %file.display(), error = %e, "box identity unreadable; provision the box again");
                None
            }
        }
    }

    /// Writes the identity with mode 0600: temp file, fsync, rename, fsync
    /// the directory.
    pub fn save(&self, data_dir: &Path) -> Result<(), IdentityError> {
        let file = path(data_dir);
        let write = |source| IdentityError::Write {
            path: file.clone(),
            source,
        };
        let text = toml::to_string(self).map_err(|e| IdentityError::Encode(e.to_string()))?;
        std::fs::create_dir_all(data_dir).map_err(write)?;
        let tmp = data_dir.join(format!("{IDENTITY_FILE}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(write)?;
            f.write_all(text.as_bytes()).map_err(write)?;
            f.sync_all().map_err(write)?;
        }
        std::fs::rename(&tmp, &file).map_err(write)?;
        if let Ok(dir) = std::fs::File::open(data_dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_private_and_survives_a_reload() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Identity::load(dir.path()), None);
        let id = Identity {
            device: "box-1".into(),
            village: "990101101001".parse().unwrap(),
            token: "secret".into(),
        };
        id.save(dir.path()).unwrap();
        let mode = std::fs::metadata(path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Identity::load(dir.path()), Some(id));
        std::fs::write(path(dir.path()), "garbage = ").unwrap();
        assert_eq!(Identity::load(dir.path()), None);
    }
}
