//! The aarch64 box binary under `qemu-aarch64-static`: it starts
//! (`--version`), syncs a small cache from the real headend on loopback and
//! renders the home screen headlessly. `cargo xtask test` builds the binary
//! first (`cargo xtask cross aarch64 --smoke`) and names it in
//! `DANGJIAN_BOX_BIN`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::demo_headend_db;

fn box_binary() -> PathBuf {
    let path = std::env::var_os("DANGJIAN_BOX_BIN").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/cross/aarch64-unknown-linux-gnu/box-smoke/dangjian-tv")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "no aarch64 box binary at {}: run `cargo xtask cross aarch64 --smoke` (cargo xtask test does)",
        path.display()
    );
    path
}

/// Runs the box binary under qemu-user with the target's libraries.
fn qemu(bin: &Path, args: &[&str], registry: &Path) -> std::process::Output {
    Command::new("qemu-aarch64-static")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .args(["-E", "LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu"])
        // The plugin scanner hangs under qemu-user when it forks.
        .args(["-E", "GST_REGISTRY_FORK=no"])
        .args(["-E", &format!("GST_REGISTRY={}", registry.display())])
        .arg(bin)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_aarch64_binary_starts_and_renders_home_under_qemu() {
    let bin = box_binary();
    let file = Command::new("file").arg(&bin).output().unwrap();
    let kind = String::from_utf8_lossy(&file.stdout);
    assert!(kind.contains("ARM aarch64"), "{kind}");

    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.bin");
    let out = qemu(&bin, &["--version"], &registry);
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
    let shots = dir.path().join("shots");
    let out = qemu(
        &bin,
        &[
            "--config",
            config.to_str().unwrap(),
            "--screenshots",
            shots.to_str().unwrap(),
        ],
        &registry,
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    assert!(log.contains("synced from"), "{log}");
    let home = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("01-home")
        })
        .unwrap_or_else(|| panic!("no home screen in {log}"));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&home).unwrap()));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (1280, 720));
    // Keep one for people to look at.
    let keep = e2e::screenshot_dir().join("90-box-aarch64-home.png");
    std::fs::create_dir_all(keep.parent().unwrap()).unwrap();
    std::fs::copy(&home, keep).unwrap();
}
