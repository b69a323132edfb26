//! The armv7 build's own sysroot, kept apart from the host's packages.
//!
//! The aarch64 build takes its target libraries as multiarch packages
//! (`libfoo-dev:arm64`). For armhf that cannot work on this mirror: the
//! armhf index of bookworm-security fails to download ("Mirror sync in
//! progress?"), and multiarch packages must have exactly the host's
//! versions, many of which come from bookworm-security. So the armv7 build
//! resolves its libraries with a private apt configuration (armhf only,
//! bookworm main, an empty package database) and unpacks them into
//! `target/cross/armv7-unknown-linux-gnueabihf/sysroot`, which the linker,
//! pkg-config and qemu use; nothing is installed on the host for armhf.
//! Debian's Rust standard library for armhf, which must be the host
//! `rustc-web`'s exact version, is fetched as the `.deb` of that version and
//! unpacked into a rustc sysroot beside the host's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::system::run;

/// What the armv7 build's link needs, resolved with their dependencies.
const LIBRARIES: [&str; 6] = [
    "libc6-dev",
    "libgstreamer1.0-dev",
    "libgstreamer-plugins-base1.0-dev",
    "libudev-dev",
    "libfontconfig-dev",
    "libxkbcommon-dev",
];

const MIRROR: &str = "http://deb.debian.org/debian";
const SECURITY_POOL: &str = "http://deb.debian.org/debian-security/pool/updates/main";
const MAIN_POOL: &str = "http://deb.debian.org/debian/pool/main";

/// The C sysroot and the rustc sysroot for `triple` (`deb_arch`: armhf).
#[derive(Debug)]
pub struct Sysroots {
    pub c: PathBuf,
    pub rust: PathBuf,
}

pub fn prepare(dir: &Path, triple: &str, deb_arch: &str) -> Result<Sysroots> {
    let c = dir.join("sysroot");
    let rust = dir.join("rust-sysroot");
    let stamp = dir.join("sysroot.done");
    let wanted = format!("{}\n{}\n", LIBRARIES.join(" "), rustc_version()?);
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let _ = std::fs::remove_dir_all(&c);
        let _ = std::fs::remove_dir_all(dir.join("rust-deb"));
        let _ = std::fs::remove_dir_all(&rust);
        c_sysroot(dir, &c, deb_arch)?;
        rust_sysroot(dir, &rust, triple, deb_arch)?;
        std::fs::write(&stamp, wanted)?;
    }
    Ok(Sysroots { c, rust })
}

fn apt(root: &Path, deb_arch: &str) -> Command {
    let mut cmd = Command::new("apt-get");
    cmd.arg("-q")
        .arg(format!("-oDir={}", root.display()))
        .arg(format!(
            "-oDir::State::status={}",
            root.join("var/lib/dpkg/status").display()
        ))
        .arg(format!("-oAPT::Architecture={deb_arch}"))
        .arg(format!("-oAPT::Architectures={deb_arch}"))
        .arg(format!(
            "-oDir::Etc::SourceParts={}",
            root.join("etc/apt/sources.list.d").display()
        ))
        .arg(format!(
            "-oDir::Etc::Preferences={}",
            root.join("etc/apt/preferences").display()
        ))
        .arg(format!(
            "-oDir::Etc::PreferencesParts={}",
            root.join("etc/apt/preferences.d").display()
        ))
        .arg("-oDebug::NoLocking=1");
    cmd
}

fn c_sysroot(dir: &Path, sysroot: &Path, deb_arch: &str) -> Result<()> {
    let root = dir.join("apt");
    for sub in [
        "etc/apt/sources.list.d",
        "etc/apt/preferences.d",
        "var/lib/apt/lists/partial",
        "var/cache/apt/archives/partial",
        "var/lib/dpkg",
    ] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "")?;
    std::fs::write(
        root.join("etc/apt/sources.list"),
        format!(
            "deb [arch={deb_arch} signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {MIRROR} bookworm main\n"
        ),
    )?;
    run(apt(&root, deb_arch).arg("update"))?;
    run(apt(&root, deb_arch)
        .args([
            "install",
            "--download-only",
            "-y",
            "--no-install-recommends",
        ])
        .args(LIBRARIES))?;
    std::fs::create_dir_all(sysroot)?;
    let archives = root.join("var/cache/apt/archives");
    for entry in std::fs::read_dir(&archives)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            run(Command::new("dpkg-deb").arg("-x").arg(&path).arg(sysroot))?;
        }
    }
    relative_links(sysroot)
}

/// Absolute symlinks (`libz.so -> /lib/…`) point at the host once the tree
/// is a sysroot; make them relative so they stay inside it.
fn relative_links(sysroot: &Path) -> Result<()> {
    let mut stack = vec![sysroot.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let meta = std::fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path)?;
                if let Ok(inside) = target.strip_prefix("/") {
                    let depth = path
                        .parent()
                        .and_then(|p| p.strip_prefix(sysroot).ok())
                        .map_or(0, |p| p.components().count());
                    let mut relative = PathBuf::new();
                    for _ in 0..depth {
                        relative.push("..");
                    }
                    relative.push(inside);
                    std::fs::remove_file(&path)?;
                    std::os::unix::fs::symlink(&relative, &path)?;
                }
            } else if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// The host's `rustc-web` version (`1.96.0+dfsg1-1~deb12u2`).
fn rustc_version() -> Result<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "rustc-web"])
        .output()
        .context("dpkg-query rustc-web")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || version.is_empty() {
        bail!("rustc-web is not installed: apt-get install rustc-web cargo-web");
    }
    Ok(version)
}

fn rust_sysroot(dir: &Path, sysroot: &Path, triple: &str, deb_arch: &str) -> Result<()> {
    let version = rustc_version()?;
    // `1.96.0+dfsg1-…` -> the runtime package `libstd-rust-web-1.96`.
    let short: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let debs = dir.join("debs");
    std::fs::create_dir_all(&debs)?;
    let unpacked = dir.join("rust-deb");
    for package in [
        "libstd-rust-web-dev".to_string(),
        format!("libstd-rust-web-{short}"),
    ] {
        let file = format!("{package}_{}_{deb_arch}.deb", version.replace('+', "%2B"));
        let path = debs.join(&file);
        if !path.exists() {
            let fetched = [SECURITY_POOL, MAIN_POOL].iter().any(|pool| {
                Command::new("curl")
                    .args(["-sSfL", "-o"])
                    .arg(&path)
                    .arg(format!("{pool}/r/rustc-web/{file}"))
                    .status()
                    .is_ok_and(|s| s.success())
            });
            if !fetched {
                let _ = std::fs::remove_file(&path);
                bail!("cannot download {file} from the Debian pools; the armv7 build needs the host rustc-web's exact version");
            }
        }
        run(Command::new("dpkg-deb").arg("-x").arg(&path).arg(&unpacked))?;
    }
    let rustlib = sysroot.join("lib/rustlib");
    std::fs::create_dir_all(&rustlib)?;
    // The host's own libraries (proc macros) and the target's.
    std::os::unix::fs::symlink(
        "/usr/lib/rustlib/x86_64-unknown-linux-gnu",
        rustlib.join("x86_64-unknown-linux-gnu"),
    )?;
    let target = unpacked.join("usr/lib/rustlib").join(triple);
    if !target.join("lib").exists() {
        bail!(
            "{} has no standard library for {triple}",
            unpacked.display()
        );
    }
    std::os::unix::fs::symlink(&target, rustlib.join(triple))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly by design
mod tests {
    use super::*;

    #[test]
    fn absolute_links_become_relative_inside_the_sysroot() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("lib/arm")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib/arm")).unwrap();
        std::fs::write(root.join("lib/arm/libz.so.1"), b"x").unwrap();
        std::os::unix::fs::symlink("/lib/arm/libz.so.1", root.join("usr/lib/arm/libz.so")).unwrap();
        relative_links(root).unwrap();
        assert_eq!(
            std::fs::read_link(root.join("usr/lib/arm/libz.so")).unwrap(),
            PathBuf::from("../../../lib/arm/libz.so.1")
        );
        assert_eq!(
            std::fs::read(root.join("usr/lib/arm/libz.so")).unwrap(),
            b"x"
        );
    }
}
