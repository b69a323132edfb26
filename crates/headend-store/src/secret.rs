//! The headend's secret key, kept outside the database, and HMAC-SHA256
//! with it.
//!
//! An installer code is only 8 digits: a plain SHA-256 of it, read from a
//! stolen database file, falls to a brute force in seconds. Keyed with a
//! secret that is not in the database, the stored digests say nothing
//! without the key file too. The key is 32 random bytes written as hex to
//! `<db>.key` (mode 0600) when the database is first opened, or read from
//! the file the operator names in [`SECRET_KEY_ENV`]; an in-memory
//! database gets a random key that lives as long as the process.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::DbError;

/// Environment variable naming the key file (instead of `<db>.key`).
pub const SECRET_KEY_ENV: &str = "DANGJIAN_SECRET_KEY_FILE";

const KEY_BYTES: usize = 32;
const BLOCK: usize = 64;

/// The secret key. Never printed.
#[derive(Clone)]
pub(crate) struct SecretKey([u8; KEY_BYTES]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Where a database's key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    File(PathBuf),
    /// A fresh random key (in-memory databases).
    Random,
}

impl KeySource {
    /// The key for the database at `db`: the file named in the environment
    /// (`env`), else `<db>.key`; random for an in-memory database.
    pub fn for_db(db: &Path, env: Option<PathBuf>) -> KeySource {
        if let Some(file) = env.filter(|p| !p.as_os_str().is_empty()) {
            return KeySource::File(file);
        }
        let name = db.as_os_str();
        if name.is_empty() || name == ":memory:" {
            return KeySource::Random;
        }
        let mut file = name.to_owned();
        file.push(".key");
        KeySource::File(PathBuf::from(file))
    }
}

fn random_key() -> [u8; KEY_BYTES] {
    // Three v4 UUIDs: 366 bits from the OS generator, hashed to 256.
    let mut hasher = Sha256::new();
    for _ in 0..3 {
        hasher.update(uuid::Uuid::new_v4().as_bytes());
    }
    hasher.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str) -> Option<[u8; KEY_BYTES]> {
    let text = text.trim();
    if text.len() != KEY_BYTES * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut key = [0u8; KEY_BYTES];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(key)
}

impl SecretKey {
    pub fn load(source: &KeySource) -> Result<SecretKey, DbError> {
        match source {
            KeySource::Random => Ok(SecretKey(random_key())),
            KeySource::File(path) => load_or_create(path),
        }
    }

    /// HMAC-SHA256 (RFC 2104) of `message` for `purpose`, as lowercase
    /// hex. The purpose keeps digests made for one use from matching
    /// another's.
    pub fn mac_hex(&self, purpose: &str, message: &str) -> String {
        hex(&self.mac(&[purpose.as_bytes(), b"\0", message.as_bytes()]))
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // The key is shorter than a block: padded with zeros, not hashed.
        let mut ipad = [0x36u8; BLOCK];
        let mut opad = [0x5cu8; BLOCK];
        for (i, k) in self.0.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let mut inner = Sha256::new();
        inner.update(ipad);
        for part in parts {
            inner.update(part);
        }
        let mut outer = Sha256::new();
        outer.update(opad);
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

fn key_error(path: &Path, why: impl std::fmt::Display) -> DbError {
    DbError::SecretKey(format!("secret key file {}: {why}", path.display()))
}

fn load_or_create(path: &Path) -> Result<SecretKey, DbError> {
    match create(path) {
        Ok(key) => return Ok(SecretKey(key)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(key_error(path, format!("cannot create it: {e}"))),
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| key_error(path, format!("cannot read it: {e}")))?;
    let key = parse_hex(&text).ok_or_else(|| {
        key_error(
            path,
            "must hold 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`",
        )
    })?;
    warn_if_readable_by_others(path);
    Ok(SecretKey(key))
}

/// Writes a new random key, readable by the owner only; fails with
/// `AlreadyExists` when there is one. The key is written whole to a
/// temporary file first and then linked into place, so a second process
/// opening the database at the same moment reads all of it or none.
fn create(path: &Path) -> std::io::Result<[u8; KEY_BYTES]> {
    if path.exists() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let key = random_key();
    let placed = options
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(format!("{}\n", hex(&key)).as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    placed.map(|()| key)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the secret key file is readable by other users; chmod 600 it"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Keys shorter than a block are padded with zeros, so the RFC's
        // short keys, zero-padded to 32 bytes, give its answers.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = SecretKey(key).mac(&[b"what do ya want ".as_slice(), b"for nothing?"]);
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut key = [0u8; 32];
        key[..20].fill(0x0b);
        let mac = SecretKey(key).mac(&[b"Hi There".as_slice()]);
        assert_eq!(
            hex(&mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn key_sources() {
        let env = Some(PathBuf::from("/etc/dangjian/secret.key"));
        assert_eq!(
            KeySource::for_db(Path::new("/var/lib/dangjian/headend.db"), None),
            KeySource::File("/var/lib/dangjian/headend.db.key".into())
        );
        assert_eq!(
            KeySource::for_db(Path::new("/var/lib/dangjian/headend.db"), env.clone()),
            KeySource::File("/etc/dangjian/secret.key".into())
        );
        assert_eq!(
            KeySource::for_db(Path::new(":memory:"), None),
            KeySource::Random
        );
        assert_eq!(
            KeySource::for_db(Path::new("x.db"), Some(PathBuf::new())),
            KeySource::File("x.db.key".into())
        );
    }

    #[test]
    fn keys_are_created_once_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        let first = load_or_create(&path).expect("created");
        let again = load_or_create(&path).expect("read");
        assert_eq!(first.mac_hex("p", "m"), again.mac_hex("p", "m"));
        assert_ne!(first.mac_hex("p", "m"), first.mac_hex("q", "m"));
        std::fs::write(&path, "not a key").expect("write");
        let err = load_or_create(&path).expect_err("refused");
        assert!(err.to_string().contains("64 hex digits"), "{err}");
    }
}
