//! Developer tasks: `cargo xtask <task>`.
//!
//! - `bootstrap`: install the Debian packages builds and tests need.
//! - `run`: bootstrap, build, seed a demo headend under `target/demo/`,
//!   serve it on loopback and start the TV app against it (a window when
//!   there is a display, PNG screenshots when there is not).
//! - `test`: bootstrap, then `cargo fmt --check`, clippy with `-D warnings`,
//!   the aarch64 and armv7 box binaries for the qemu smoke test, every
//!   test in the workspace, then the headend's tests again on a throw-away
//!   PostgreSQL cluster. CI runs exactly this. `test postgres`: only that
//!   second run.
//! - `bench startup|sync|keys|render|zap|rollcall|presses|headend|console|security`:
//!   measure and write JSON
//!   under `target/bench/`.
//! - `cross aarch64|armv7 [--smoke]`: `dangjian-tv` for the boxes (size in
//!   `target/bench/size-<arch>.json`).
//! - `package [amd64|arm64|armhf…]`: `.deb` packages under `target/deb/`.

mod bench;
mod bench_city;
mod bench_console;
mod bench_security;
mod cross;
mod demo;
mod package;
mod pg_cluster;
mod suite;
mod sysroot;
mod system;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = &args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("bootstrap") => system::bootstrap(),
        Some("run") => demo::run(),
        Some("test") if rest.first().map(String::as_str) == Some("postgres") => {
            suite::postgres_only()
        }
        Some("test") => suite::test(),
        Some("bench") => bench::run(rest),
        Some("cross") => cross::cross(rest),
        Some("package") => package::package(rest),
        _ => bail!(
            "usage: cargo xtask <bootstrap | run | test [postgres] | bench <startup | sync | keys | render | zap | rollcall | presses | headend | console | security> | cross <aarch64 | armv7> [--smoke] | package [amd64 | arm64 | armhf]>\n\
             run:  set up this machine and start the demo (headend + TV app)\n\
             test: set up this machine and run fmt, clippy and every test (the headend's also on PostgreSQL)"
        ),
    }
}
