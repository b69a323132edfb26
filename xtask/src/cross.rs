//! `cargo xtask cross aarch64|armv7`: `dangjian-tv` for the boxes, built
//! with Debian's Rust toolchain (`rustc-web`, whose standard library comes
//! for each target as a multiarch package; rustup cannot add targets here),
//! the cross linker from `cross/config.toml`, and the target's libraries.
//!
//! armv7 takes its libraries from a sysroot of its own instead (see
//! `sysroot.rs`: the mirror's armhf security index is broken, so armhf
//! multiarch packages cannot match the host's versions).
//!
//! GStreamer's `plugins-base` development package cannot be installed for
//! two architectures at once (its GObject introspection files conflict), and
//! the host's tests need the amd64 one. The cross build only needs to link
//! against the target's libraries, so it gets a small pkg-config shim under
//! `target/cross/<triple>/shim`: the `.pc` files of the host with `libdir`
//! pointing at symlinks to the target's runtime `.so.0` files.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::system::{install_packages, run, workspace_root};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Aarch64,
    Armv7,
}

/// The cross profile: `box` is what ships (small: opt-level "s", fat LTO);
/// `box-smoke` is the same code built quickly for the smoke test in CI.
pub const SHIP_PROFILE: &str = "box";
pub const SMOKE_PROFILE: &str = "box-smoke";

/// Libraries from GStreamer's plugins-base the app links.
const SHIMMED: [(&str, &str); 2] = [
    ("gstreamer-video-1.0", "libgstvideo-1.0.so"),
    ("gstreamer-app-1.0", "libgstapp-1.0.so"),
];

impl Arch {
    pub fn parse(name: &str) -> Result<Arch> {
        match name {
            "aarch64" | "arm64" => Ok(Arch::Aarch64),
            "armv7" | "armhf" => Ok(Arch::Armv7),
            other => bail!("unknown box architecture {other:?}; use aarch64 or armv7"),
        }
    }

    pub fn triple(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64-unknown-linux-gnu",
            Arch::Armv7 => "armv7-unknown-linux-gnueabihf",
        }
    }

    /// Debian's name, for packages (`:arm64`) and `.deb` files.
    pub fn deb(self) -> &'static str {
        match self {
            Arch::Aarch64 => "arm64",
            Arch::Armv7 => "armhf",
        }
    }

    /// The multiarch directory under /usr/lib.
    pub fn multiarch(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64-linux-gnu",
            Arch::Armv7 => "arm-linux-gnueabihf",
        }
    }

    pub fn qemu(self) -> &'static str {
        match self {
            Arch::Aarch64 => "qemu-aarch64-static",
            Arch::Armv7 => "qemu-arm-static",
        }
    }

    fn gcc(self) -> String {
        format!("{}-gcc", self.multiarch())
    }

    fn packages(self) -> Vec<String> {
        let a = self.deb();
        let mut p: Vec<String> = [
            "rustc-web",
            "cargo-web",
            "qemu-user-static",
            "pkg-config",
            &format!("gcc-{}", self.multiarch()),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if self == Arch::Armv7 {
            // Its libraries go into its own sysroot (sysroot.rs).
            p.extend(["curl", "debian-archive-keyring"].map(String::from));
            return p;
        }
        for lib in [
            "libstd-rust-web-dev",
            "libgstreamer1.0-dev",
            "libgstreamer-plugins-base1.0-0",
            // gstreamer-video-1.0.pc (shimmed) names orc in Requires.private,
            // which pkg-config must find even for a dynamic link.
            "liborc-0.4-dev",
            "libudev-dev",
            "libfontconfig-dev",
            "libxkbcommon-dev",
            "libc6-dev",
        ] {
            p.push(format!("{lib}:{a}"));
        }
        p
    }

    /// Where the cross build puts its output.
    pub fn target_dir() -> PathBuf {
        workspace_root().join("target/cross")
    }

    pub fn binary(self, profile: &str) -> PathBuf {
        Self::target_dir()
            .join(self.triple())
            .join(profile)
            .join("dangjian-tv")
    }
}

/// Installs what the cross build needs and writes the pkg-config shim.
pub fn setup(arch: Arch) -> Result<PathBuf> {
    let packages = arch.packages();
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    install_packages(&packages, &[arch.deb()])?;
    shim(arch)
}

/// Where qemu finds the target's loader and libraries: the multiarch ones
/// for aarch64 (`-L /`, the loader from the same glibc build as the
/// libraries), armv7's own sysroot.
pub fn qemu_prefix(arch: Arch) -> PathBuf {
    match arch {
        Arch::Aarch64 => PathBuf::from("/"),
        Arch::Armv7 => armv7_dir().join("sysroot"),
    }
}

fn armv7_dir() -> PathBuf {
    Arch::target_dir().join(Arch::Armv7.triple())
}

fn shim(arch: Arch) -> Result<PathBuf> {
    let root = Arch::target_dir().join(arch.triple()).join("shim");
    let (pc_dir, lib_dir) = (root.join("pkgconfig"), root.join("lib"));
    std::fs::create_dir_all(&pc_dir)?;
    std::fs::create_dir_all(&lib_dir)?;
    let target_lib = Path::new("/usr/lib").join(arch.multiarch());
    for (pc, so) in SHIMMED {
        let host = Path::new("/usr/lib/x86_64-linux-gnu/pkgconfig").join(format!("{pc}.pc"));
        let text = std::fs::read_to_string(&host).with_context(|| {
            format!(
                "reading {} (libgstreamer-plugins-base1.0-dev)",
                host.display()
            )
        })?;
        let text: String = text
            .lines()
            .map(|line| {
                if line.starts_with("libdir=") {
                    format!("libdir={}", lib_dir.display())
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(pc_dir.join(format!("{pc}.pc")), text + "\n")?;
        let link = lib_dir.join(so);
        let _ = std::fs::remove_file(&link);
        let real = target_lib.join(format!("{so}.0"));
        if !real.exists() {
            bail!(
                "{} is missing; is libgstreamer-plugins-base1.0-0:{} installed?",
                real.display(),
                arch.deb()
            );
        }
        std::os::unix::fs::symlink(&real, &link)?;
    }
    Ok(root)
}

/// Builds `dangjian-tv` for `arch` with `profile`; returns the binary.
pub fn build(arch: Arch, profile: &str) -> Result<PathBuf> {
    debian_cargo(
        arch,
        profile,
        &[
            "-p",
            "tv",
            "--bin",
            "dangjian-tv",
            "--no-default-features",
            "--features",
            "box",
        ],
    )?;
    let bin = arch.binary(profile);
    if !bin.exists() {
        bail!("the build finished but {} is not there", bin.display());
    }
    Ok(bin)
}

/// Builds `dangjian-headend` for `arch` (the shipping profile).
pub fn build_headend(arch: Arch) -> Result<PathBuf> {
    debian_cargo(
        arch,
        SHIP_PROFILE,
        &["-p", "headend", "--bin", "dangjian-headend"],
    )?;
    let bin = Arch::target_dir()
        .join(arch.triple())
        .join(SHIP_PROFILE)
        .join("dangjian-headend");
    if !bin.exists() {
        bail!("the build finished but {} is not there", bin.display());
    }
    Ok(bin)
}

/// Runs Debian's cargo for `arch` with the cross setup.
fn debian_cargo(arch: Arch, profile: &str, what: &[&str]) -> Result<()> {
    if arch == Arch::Armv7 {
        return armv7_cargo(profile, what);
    }
    let shim = setup(arch)?;
    let target_lib = Path::new("/usr/lib").join(arch.multiarch());
    let mut cmd = cargo_for(arch, profile, what);
    cmd.env(
        "PKG_CONFIG_LIBDIR",
        format!(
            "{}:{}:/usr/share/pkgconfig",
            shim.join("pkgconfig").display(),
            target_lib.join("pkgconfig").display()
        ),
    );
    run(&mut cmd)
}

/// Runs Debian's cargo for armv7 against its own sysroot.
fn armv7_cargo(profile: &str, what: &[&str]) -> Result<()> {
    let arch = Arch::Armv7;
    let packages = arch.packages();
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    install_packages(&packages, &[])?;
    let roots = crate::sysroot::prepare(&armv7_dir(), arch.triple(), arch.deb())?;
    let c = roots.c.display().to_string();
    let triple_env = arch.triple().replace('-', "_");
    let mut cmd = cargo_for(arch, profile, what);
    cmd.env("PKG_CONFIG_SYSROOT_DIR", &c)
        .env(
            "PKG_CONFIG_LIBDIR",
            format!(
                "{c}/usr/lib/{}/pkgconfig:{c}/usr/share/pkgconfig",
                arch.multiarch()
            ),
        )
        .env(format!("CFLAGS_{triple_env}"), format!("--sysroot={c}"))
        // Target crates only: the std of the sysroot, the C sysroot's libraries.
        .env(
            format!("CARGO_TARGET_{}_RUSTFLAGS", triple_env.to_uppercase()),
            format!(
                "--sysroot={} -C link-arg=--sysroot={c}",
                roots.rust.display()
            ),
        );
    run(&mut cmd)
}

/// Debian's cargo and rustc building `what` for `arch`, with the cross C
/// compiler; the caller adds where the target's libraries are.
fn cargo_for(arch: Arch, profile: &str, what: &[&str]) -> Command {
    let mut cmd = Command::new("/usr/bin/cargo");
    cmd.current_dir(workspace_root())
        .args(["--config", "cross/config.toml", "build", "--locked"])
        .args(["--profile", profile, "--target", arch.triple()])
        .args(what)
        .env("RUSTC", "/usr/bin/rustc")
        .env("RUSTDOC", "/usr/bin/rustdoc")
        .env("CARGO_TARGET_DIR", Arch::target_dir())
        .env("PKG_CONFIG_ALLOW_CROSS", "1")
        .env(
            format!("CC_{}", arch.triple().replace('-', "_")),
            arch.gcc(),
        );
    // The rustup toolchain that runs xtask must not leak into Debian's.
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
        "CARGO",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `cargo xtask cross <arch> [--smoke]`: the shipping build (or the quick
/// one the smoke test uses), with its size.
pub fn cross(args: &[String]) -> Result<()> {
    let arch = Arch::parse(args.first().map(String::as_str).unwrap_or(""))?;
    let profile = if args.iter().any(|a| a == "--smoke") {
        SMOKE_PROFILE
    } else {
        SHIP_PROFILE
    };
    let started = std::time::Instant::now();
    let bin = build(arch, profile)?;
    let size = std::fs::metadata(&bin)?.len();
    println!(
        "{}: {} bytes ({:.1} MB, stripped, font included), built in {:.0} s",
        bin.display(),
        size,
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    println!(
        "run it here: {} -L {} -E LD_LIBRARY_PATH=/usr/lib/{} -E GST_REGISTRY_FORK=no {} --version",
        arch.qemu(),
        qemu_prefix(arch).display(),
        arch.multiarch(),
        bin.display()
    );
    if profile != SHIP_PROFILE {
        return Ok(());
    }
    let json = serde_json::json!({
        "arch": arch.triple(),
        "profile": SHIP_PROFILE,
        "binary": bin.display().to_string(),
        "bytes": size,
        "megabytes": size as f64 / 1_048_576.0,
        "budget_megabytes": 15,
        "build_secs": started.elapsed().as_secs_f64(),
    });
    let out = workspace_root().join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join(format!("size-{}.json", arch.deb())),
        serde_json::to_string_pretty(&json)?,
    )?;
    Ok(())
}
