//! The box binaries under qemu-user (`qemu-aarch64-static`,
//! `qemu-arm-static`): each starts (`--version`), syncs a small cache from
//! the real headend on loopback (HTTP, SQLite, the feed and images) and
//! renders the home screen from that cache headlessly to PNG at 720p and
//! 1080p. `cargo xtask test` builds both first (`cargo xtask cross aarch64
//! --smoke`, `… armv7 --smoke`) and names them in `DANGJIAN_BOX_BIN` and
//! `DANGJIAN_BOX_ARMV7_BIN`.
//!
//! The loader must come from the same glibc as the libraries: `-L /` takes
//! the multiarch `libc6:arm64` one. The cross toolchain's
//! `/usr/aarch64-linux-gnu` holds an older glibc build, and its `ld.so`
//! with the multiarch `libc.so.6` spins forever in the first
//! `pthread_create` (their private structures differ).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::demo_headend_db;

/// One box architecture: its binary, qemu and where qemu finds the loader.
struct BoxArch {
    name: &'static str,
    bin: PathBuf,
    qemu: &'static str,
    prefix: PathBuf,
    /// What `file` says of the binary.
    kind: &'static str,
    /// Where its screenshots go, for people to look at.
    tag: &'static str,
}

fn cross_dir(triple: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/cross")
        .join(triple)
}

fn aarch64() -> BoxArch {
    BoxArch {
        name: "aarch64",
        bin: std::env::var_os("DANGJIAN_BOX_BIN").map_or_else(
            || cross_dir("aarch64-unknown-linux-gnu").join("box-smoke/dangjian-tv"),
            PathBuf::from,
        ),
        qemu: "qemu-aarch64-static",
        // The multiarch loader: from the same glibc build as the libraries.
        prefix: PathBuf::from("/"),
        kind: "ARM aarch64",
        tag: "aarch64",
    }
}

fn armv7() -> BoxArch {
    let dir = cross_dir("armv7-unknown-linux-gnueabihf");
    BoxArch {
        name: "armv7",
        bin: std::env::var_os("DANGJIAN_BOX_ARMV7_BIN")
            .map_or_else(|| dir.join("box-smoke/dangjian-tv"), PathBuf::from),
        qemu: "qemu-arm-static",
        // The armv7 build's own sysroot (xtask/src/sysroot.rs).
        prefix: dir.join("sysroot"),
        kind: "ARM, EABI5",
        tag: "armv7",
    }
}

/// Runs the box binary under qemu-user with the target's libraries.
fn qemu(arch: &BoxArch, args: &[&str], registry: &Path) -> std::process::Output {
    Command::new(arch.qemu)
        .arg("-L")
        .arg(&arch.prefix)
        // The plugin scanner hangs under qemu-user when it forks.
        .args(["-E", "GST_REGISTRY_FORK=no"])
        .args(["-E", &format!("GST_REGISTRY={}", registry.display())])
        .arg(&arch.bin)
        .args(args)
        .output()
        .unwrap()
}

/// Runs the box binary and asserts it succeeded; its stdout and stderr.
fn qemu_ok(arch: &BoxArch, args: &[&str], registry: &Path) -> String {
    let out = qemu(arch, args, registry);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{} {args:?}: {log}", arch.name);
    log
}

#[test]
fn the_aarch64_binary_starts_syncs_and_renders_under_qemu() {
    smoke(&aarch64());
}

#[test]
fn the_armv7_binary_starts_syncs_and_renders_under_qemu() {
    smoke(&armv7());
}

fn smoke(arch: &BoxArch) {
    assert!(
        arch.bin.exists(),
        "no {} box binary at {}: run `cargo xtask cross {} --smoke` (cargo xtask test does)",
        arch.name,
        arch.bin.display(),
        arch.name
    );
    let bin = &arch.bin;
    let file = Command::new("file").arg(bin).output().unwrap();
    let kind = String::from_utf8_lossy(&file.stdout);
    assert!(kind.contains(arch.kind), "{kind}");

    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.bin");
    let out = qemu(arch, &["--version"], &registry);
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{version}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        version.trim(),
        format!("dangjian-tv {}", env!("CARGO_PKG_VERSION"))
    );

    // A small cache from the real headend, then the screens as PNG files.
    let db = demo_headend_db(dir.path());
    let server = e2e::start_headend(db);
    let data_dir = dir.path().join("box");
    e2e::demo_identity(&data_dir, "demo-box");
    let config = dir.path().join("tv.toml");
    std::fs::write(
        &config,
        format!(
            "headend_url = \"http://{}\"\ndata_dir = \"{}\"\n[player]\naudio_sink = \"fakesink\"\n",
            server.addr,
            data_dir.display()
        ),
    )
    .unwrap();
    let log = qemu_ok(
        arch,
        &["--config", config.to_str().unwrap(), "--sync-only"],
        &registry,
    );
    assert!(log.contains("upserted: "), "{log}");
    assert!(
        !log.contains("upserted: 0,"),
        "the feed reached the cache: {log}"
    );
    // What the box synced is in its cache, readable on the host too.
    let (cache, _) = store::Cache::open(&data_dir.join("cache.db")).unwrap();
    assert!(cache.sync_state().unwrap().last_synced.is_some());
    assert_eq!(
        cache.region_names().unwrap().first().map(String::as_str),
        Some("东坡村")
    );
    drop(cache);

    // The home screen from that cache, rendered by the box build.
    let shots = dir.path().join("shots");
    qemu_ok(
        arch,
        &[
            "--config",
            config.to_str().unwrap(),
            "--screenshots",
            shots.to_str().unwrap(),
            "--home-only",
        ],
        &registry,
    );
    for (w, h) in [(1280, 720), (1920, 1080)] {
        let file = shots.join(format!("01-home-{w}x{h}.png"));
        let (width, height, pixels) = rgb_pixels(&file);
        assert_eq!((width, height), (w, h), "{}", file.display());
        // The red title bar across the top and the tiles: a real frame,
        // not a blank buffer.
        let top = &pixels[(width as usize * 3 * 10)..(width as usize * 3 * 11)];
        let reds = top
            .chunks(3)
            .filter(|p| p[0] > 150 && p[1] < 60 && p[2] < 60)
            .count();
        assert!(
            reds > width as usize / 2,
            "no title bar in {}",
            file.display()
        );
        let mut colours: Vec<[u8; 3]> = pixels.chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(colours.len() > 50, "{} colours only", colours.len());
        let shot = e2e::screenshot_dir().join(format!("90-box-{}-home-{w}x{h}.png", arch.tag));
        std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
        std::fs::copy(&file, shot).unwrap();
    }
}

/// Width, height and RGB bytes of a PNG.
fn rgb_pixels(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}
