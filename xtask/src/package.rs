//! `cargo xtask package`: Debian packages for the TV app (arm64, armhf,
//! amd64) and the headend (amd64, arm64), made with `dpkg-deb`.
//!
//! Each package holds the binary in `/usr/bin`, a systemd unit (`Type=notify`,
//! restart on failure, a watchdog the app feeds), its configuration in
//! `/etc/dangjian/` (a conffile, kept on upgrade) and its data under
//! `/var/lib/dangjian/` (the unit's `StateDirectory`); logs go to the
//! journal from stderr. The layout lives in [`Spec`] so tests can build a
//! package from any binary and check it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cross::{self, Arch};
use crate::system::{run, workspace_root};

/// One package to build.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `dangjian-tv` or `dangjian-headend`.
    pub name: &'static str,
    /// Debian architecture: amd64, arm64, armhf.
    pub arch: &'static str,
    pub version: String,
    pub binary: PathBuf,
}

pub const TV_UNIT: &str = "[Unit]
Description=智慧党建 TV app (dangjian-tv)
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
ExecStart=/usr/bin/dangjian-tv --config /etc/dangjian/tv.toml
Restart=on-failure
RestartSec=2
# The app tells systemd it is alive from its UI loop once a second.
WatchdogSec=30
StateDirectory=dangjian
StateDirectoryMode=0700
# The remote and the screen.
SupplementaryGroups=input video render
Environment=RUST_LOG=info
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
";

pub const HEADEND_UNIT: &str = "[Unit]
Description=智慧党建 headend (dangjian-headend)
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
# The database, unless headend.env names another (its settings win).
Environment=DANGJIAN_DB=/var/lib/dangjian/headend.db
EnvironmentFile=-/etc/dangjian/headend.env
ExecStart=/usr/bin/dangjian-headend serve --media-dir /var/lib/dangjian/media
Restart=on-failure
RestartSec=2
WatchdogSec=30
StateDirectory=dangjian dangjian/media
DynamicUser=yes
Environment=RUST_LOG=info
# Each held push stream is a descriptor (DANGJIAN_MAX_CONNECTIONS).
LimitNOFILE=262144
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
";

pub const TV_CONFIG: &str =
    "# /etc/dangjian/tv.toml: the headend this box talks to. On first boot the
# box shows provisioning (village + installer code); the identity it gets
# is kept in /var/lib/dangjian/device.toml. See deploy/tv.toml.example in
# the source for every key.
headend_url = \"http://headend.example.invalid:8080\"
data_dir = \"/var/lib/dangjian\"

[input]
evdev = true
";

pub const HEADEND_ENV: &str = "# /etc/dangjian/headend.env: where and how the headend listens
# (every DANGJIAN_ variable is listed in the API contract, Transport).
DANGJIAN_BIND=0.0.0.0:8080
# Serve HTTPS (HSTS, Secure cookies): PEM certificate chain and key.
#DANGJIAN_TLS_CERT=/etc/dangjian/tls/fullchain.pem
#DANGJIAN_TLS_KEY=/etc/dangjian/tls/privkey.pem
# Or, behind a reverse proxy that terminates TLS, trust only that proxy's
# X-Forwarded-For (addresses or CIDR blocks, comma-separated).
#DANGJIAN_TRUSTED_PROXIES=10.0.0.5
# Headend URLs a set_config command may move boxes to (comma-separated).
#DANGJIAN_HEADEND_URL_ALLOW=
# The database: /var/lib/dangjian/headend.db (SQLite) unless set here.
# Several headends behind a load balancer share one PostgreSQL database and
# one key file (copy the first headend's to the others; keep this file 0600
# if the URL carries a password).
#DANGJIAN_DB=postgres://dangjian@db.example.invalid/dangjian
#DANGJIAN_SECRET_KEY_FILE=/var/lib/dangjian/headend.key
";

const POSTINST: &str = "#!/bin/sh
set -e
if [ \"$1\" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    systemctl enable --now UNIT >/dev/null || true
fi
";

const PRERM: &str = "#!/bin/sh
set -e
if [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then
    systemctl disable --now UNIT >/dev/null || true
fi
";

impl Spec {
    fn unit(&self) -> &'static str {
        if self.name == "dangjian-tv" {
            TV_UNIT
        } else {
            HEADEND_UNIT
        }
    }

    fn config(&self) -> (&'static str, &'static str) {
        if self.name == "dangjian-tv" {
            ("etc/dangjian/tv.toml", TV_CONFIG)
        } else {
            ("etc/dangjian/headend.env", HEADEND_ENV)
        }
    }

    fn depends(&self) -> &'static str {
        if self.name == "dangjian-tv" {
            "libc6, libgstreamer1.0-0, libgstreamer-plugins-base1.0-0, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-libav, libudev1, libfontconfig1"
        } else {
            "libc6"
        }
    }

    fn description(&self) -> &'static str {
        if self.name == "dangjian-tv" {
            "智慧党建 set-top-box app\n Party-building disclosures, live meetings with roll-call, service-hall\n cameras, videos, services and exams on the TV, with the remote."
        } else {
            "智慧党建 headend\n Publishes content to the set-top boxes of a county, runs meetings and\n roll-calls, answers service requests and manages the fleet."
        }
    }

    pub fn file_name(&self) -> String {
        format!("{}_{}_{}.deb", self.name, self.version, self.arch)
    }

    /// Lays the package out under `work` and builds it into `out_dir`.
    pub fn build(&self, work: &Path, out_dir: &Path) -> Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let root = work.join(format!("{}-{}", self.name, self.arch));
        let _ = std::fs::remove_dir_all(&root);
        let write = |rel: &str, text: &str, mode: u32| -> Result<()> {
            let path = root.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
            Ok(())
        };
        let bin = root.join("usr/bin").join(self.name);
        std::fs::create_dir_all(bin.parent().context("bin dir")?)?;
        std::fs::copy(&self.binary, &bin)
            .with_context(|| format!("copying {}", self.binary.display()))?;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))?;
        write(
            &format!("lib/systemd/system/{}.service", self.name),
            self.unit(),
            0o644,
        )?;
        let (config_path, config) = self.config();
        write(config_path, config, 0o644)?;
        if self.name == "dangjian-tv" {
            // The headend's comes from systemd (StateDirectory, DynamicUser).
            std::fs::create_dir_all(root.join("var/lib/dangjian"))?;
            std::fs::set_permissions(
                root.join("var/lib/dangjian"),
                std::fs::Permissions::from_mode(0o700),
            )?;
        }
        let size_kib = dir_size(&root)?.div_ceil(1024);
        write(
            "DEBIAN/control",
            &format!(
                "Package: {}\nVersion: {}\nArchitecture: {}\nMaintainer: dangjian <dangjian@example.invalid>\nSection: misc\nPriority: optional\nInstalled-Size: {size_kib}\nDepends: {}\nDescription: {}\n",
                self.name,
                self.version,
                self.arch,
                self.depends(),
                self.description()
            ),
            0o644,
        )?;
        write("DEBIAN/conffiles", &format!("/{config_path}\n"), 0o644)?;
        let unit = format!("{}.service", self.name);
        write("DEBIAN/postinst", &POSTINST.replace("UNIT", &unit), 0o755)?;
        write("DEBIAN/prerm", &PRERM.replace("UNIT", &unit), 0o755)?;
        std::fs::create_dir_all(out_dir)?;
        let deb = out_dir.join(self.file_name());
        run(Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&root)
            .arg(&deb))?;
        Ok(deb)
    }
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Builds the host (amd64) binaries with `--profile`.
fn host_build(package: &str, bin: &str, features: &[&str]) -> Result<PathBuf> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root()).args([
        "build",
        "--locked",
        "--profile",
        cross::SHIP_PROFILE,
        "-p",
        package,
        "--bin",
        bin,
    ]);
    if !features.is_empty() {
        cmd.args(["--no-default-features", "--features"])
            .arg(features.join(","));
    }
    run(&mut cmd)?;
    Ok(workspace_root()
        .join("target")
        .join(cross::SHIP_PROFILE)
        .join(bin))
}

/// `cargo xtask package [arch…]`: every package, or those of the named
/// Debian architectures.
pub fn package(args: &[String]) -> Result<()> {
    let wanted = |arch: &str| args.is_empty() || args.iter().any(|a| a == arch);
    let out = workspace_root().join("target/deb");
    let work = workspace_root().join("target/deb-root");
    let mut built = Vec::new();
    if wanted("amd64") {
        let tv = host_build("tv", "dangjian-tv", &["box"])?;
        let headend = host_build("headend", "dangjian-headend", &[])?;
        for (name, binary) in [("dangjian-tv", tv), ("dangjian-headend", headend)] {
            built.push(
                Spec {
                    name,
                    arch: "amd64",
                    version: version(),
                    binary,
                }
                .build(&work, &out)?,
            );
        }
    }
    for arch in [Arch::Aarch64, Arch::Armv7] {
        if !wanted(arch.deb()) {
            continue;
        }
        let binary = cross::build(arch, cross::SHIP_PROFILE)?;
        built.push(
            Spec {
                name: "dangjian-tv",
                arch: arch.deb(),
                version: version(),
                binary,
            }
            .build(&work, &out)?,
        );
        if arch == Arch::Aarch64 {
            let binary = cross::build_headend(arch)?;
            built.push(
                Spec {
                    name: "dangjian-headend",
                    arch: arch.deb(),
                    version: version(),
                    binary,
                }
                .build(&work, &out)?,
            );
        }
    }
    if built.is_empty() {
        bail!("no packages for {args:?}; name amd64, arm64 or armhf");
    }
    for deb in &built {
        let size = std::fs::metadata(deb)?.len();
        println!("{} ({:.1} MB)", deb.display(), size as f64 / 1_048_576.0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dpkg_deb(args: &[&str], deb: &Path) -> String {
        let out = Command::new("dpkg-deb")
            .args(args)
            .arg(deb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    #[test]
    fn a_package_holds_the_binary_unit_config_and_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        // Any executable stands in for the app: this checks the layout.
        let spec = Spec {
            name: "dangjian-tv",
            arch: "arm64",
            version: "0.1.0".into(),
            binary: PathBuf::from("/bin/true"),
        };
        let deb = spec
            .build(&dir.path().join("work"), &dir.path().join("out"))
            .unwrap();
        assert!(deb.ends_with("dangjian-tv_0.1.0_arm64.deb"));

        let contents = dpkg_deb(&["--contents"], &deb);
        for (mode, path) in [
            ("-rwxr-xr-x root/root", "./usr/bin/dangjian-tv"),
            (
                "-rw-r--r-- root/root",
                "./lib/systemd/system/dangjian-tv.service",
            ),
            ("-rw-r--r-- root/root", "./etc/dangjian/tv.toml"),
            ("drwx------ root/root", "./var/lib/dangjian/"),
        ] {
            assert!(
                contents
                    .lines()
                    .any(|l| l.starts_with(mode) && l.ends_with(path)),
                "{mode} {path} not in\n{contents}"
            );
        }
        let control = dpkg_deb(&["--field"], &deb);
        assert!(control.contains("Package: dangjian-tv"));
        assert!(control.contains("Architecture: arm64"));
        assert!(control.contains("libgstreamer1.0-0"));

        let info = dir.path().join("info");
        dpkg_deb(&["--control"], &deb);
        let out = Command::new("dpkg-deb")
            .arg("--control")
            .arg(&deb)
            .arg(&info)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            std::fs::read_to_string(info.join("conffiles")).unwrap(),
            "/etc/dangjian/tv.toml\n"
        );
        let postinst = std::fs::read_to_string(info.join("postinst")).unwrap();
        assert!(postinst.contains("systemctl enable --now dangjian-tv.service"));

        // The unit: notify with a watchdog, restarted on failure, data in
        // /var/lib/dangjian, logs to the journal; the config the binary reads.
        let extracted = dir.path().join("x");
        let out = Command::new("dpkg-deb")
            .arg("--extract")
            .arg(&deb)
            .arg(&extracted)
            .output()
            .unwrap();
        assert!(out.status.success());
        let unit =
            std::fs::read_to_string(extracted.join("lib/systemd/system/dangjian-tv.service"))
                .unwrap();
        for line in [
            "Type=notify",
            "Restart=on-failure",
            "WatchdogSec=30",
            "StateDirectory=dangjian",
            "StandardError=journal",
            "ExecStart=/usr/bin/dangjian-tv --config /etc/dangjian/tv.toml",
        ] {
            assert!(unit.lines().any(|l| l == line), "{line} not in\n{unit}");
        }
        let config = std::fs::read_to_string(extracted.join("etc/dangjian/tv.toml")).unwrap();
        assert!(config.contains("data_dir = \"/var/lib/dangjian\""));
        assert!(
            !config.lines().any(|l| l.starts_with("village_code")),
            "boxes ship unprovisioned"
        );
    }

    #[test]
    fn the_headend_package_runs_under_its_own_user_with_an_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let spec = Spec {
            name: "dangjian-headend",
            arch: "amd64",
            version: "0.1.0".into(),
            binary: PathBuf::from("/bin/true"),
        };
        let deb = spec
            .build(&dir.path().join("work"), &dir.path().join("out"))
            .unwrap();
        let contents = dpkg_deb(&["--contents"], &deb);
        assert!(contents.contains("./etc/dangjian/headend.env"));
        assert!(contents.contains("./lib/systemd/system/dangjian-headend.service"));
        assert!(HEADEND_UNIT.contains("DynamicUser=yes"));
        assert!(HEADEND_UNIT
            .lines()
            .any(|l| l == "Environment=DANGJIAN_DB=/var/lib/dangjian/headend.db"));
        // On the command line it would override headend.env's DANGJIAN_DB.
        assert!(!HEADEND_UNIT.contains("--db"));
    }
}
