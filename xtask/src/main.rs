//! Developer tasks: `cargo xtask <task>`.
//!
//! - `bootstrap`: install the Debian packages builds and tests need.
//! - `run`: bootstrap, build, seed a demo headend under `target/demo/`,
//!   serve it on loopback and start the TV app against it (a window when
//!   there is a display, PNG screenshots when there is not).
//! - `test`: bootstrap, then `cargo fmt --check`, clippy with `-D warnings`,
//!   the aarch64 and armv7 box binaries for the qemu smoke test, and every
//!   test in the workspace. CI runs exactly this.
//! - `bench startup|sync|keys|render|zap|rollcall|presses|headend|console|security`:
//!   measure and write JSON
//!   under `target/bench/`.
//! - `cross aarch64|armv7 [--smoke]`: `dangjian-tv` for the boxes (size in
//!   `target/bench/size-<arch>.json`).
//! - `package [amd64|arm64|armhf…]`: `.deb` packages under `target/deb/`.

mod bench;
mod bench_console;
mod bench_security;
mod cross;
mod demo;
mod package;
mod sysroot;
mod system;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = &args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("bootstrap") => system::bootstrap(),
        Some("run") => demo::run(),
        Some("test") => test(),
        Some("bench") => bench::run(rest),
        Some("cross") => cross::cross(rest),
        Some("package") => package::package(rest),
        _ => bail!(
            "usage: cargo xtask <bootstrap | run | test | bench <startup | sync | keys | render | zap | rollcall | presses | headend | console | security> | cross <aarch64 | armv7> [--smoke] | package [amd64 | arm64 | armhf]>\n\
             run:  set up this machine and start the demo (headend + TV app)\n\
             test: set up this machine and run fmt, clippy and every test"
        ),
    }
}

fn test() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&["fmt", "--all", "--", "--check"])?;
    system::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // The box binaries for the qemu smoke test (tests/tests/box_smoke.rs):
    // the shipping code built quickly (profile box-smoke).
    let smoke = cross::build(cross::Arch::Aarch64, cross::SMOKE_PROFILE)?;
    std::env::set_var("DANGJIAN_BOX_BIN", &smoke);
    let smoke = cross::build(cross::Arch::Armv7, cross::SMOKE_PROFILE)?;
    std::env::set_var("DANGJIAN_BOX_ARMV7_BIN", &smoke);
    let (passed, failed) = system::cargo_test(&["test", "--workspace"])?;
    // One closing line for the whole run: cargo's own last line is whichever
    // binary ran last, often a doc-test run with nothing in it.
    println!("tests: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        anyhow::bail!("tests failed");
    }
    Ok(())
}
