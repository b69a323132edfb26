//! `cargo xtask bench security`: a release headend with the demo county
//! under the attacks of the security issue, measured by
//! `dangjian-securitybench` (login and installer-code guessing from one
//! address, the whole-grid workbook and a 16 MB CSV imported), with a
//! bystander's `GET /api/v1/regions` latency during each.

use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::bench::{machine, write_json};
use crate::demo::{bin, start_demo_headend};
use crate::system::{self, workspace_root};

pub fn security() -> Result<()> {
    system::bootstrap()?;
    system::cargo(&[
        "build",
        "--release",
        "-p",
        "headend",
        "-p",
        "headend-bench",
        "--bins",
    ])?;
    let dir = workspace_root().join("target/bench/security");
    let headend = start_demo_headend("release", &dir, &[])?;
    let addr = headend
        .url
        .strip_prefix("http://")
        .context("headend url")?
        .to_string();
    let out = Command::new(bin("release", "dangjian-securitybench"))
        .args(["--addr", &addr, "--seconds", "20"])
        .args(["--headend-pid", &headend.child.id().to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running dangjian-securitybench")?;
    drop(headend);
    if !out.status.success() {
        bail!("dangjian-securitybench failed");
    }
    let r: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    for (name, key) in [
        ("login", "login_one_address"),
        ("provision", "provision_one_address"),
    ] {
        let p = &r[key];
        println!(
            "{name}: one address made {} attempts in {:.0} s ({:.0} answers/s); {} judged before the first 429 (after {:.1} s), then {:.2} judged/s; regions p50 {:.1} ms, p99 {:.1} ms ({} failed)",
            p["attempts"],
            f(&p["seconds"]),
            f(&p["answers_per_second"]),
            p["judged_before_first_429"],
            f(&p["first_429_after_seconds"]),
            f(&p["judged_per_second_after_throttling"]),
            f(&p["regions_during"]["p50_ms"]),
            f(&p["regions_during"]["p99_ms"]),
            p["regions_during"]["failures"],
        );
    }
    for (name, key) in [
        ("xlsx A1+XFD1048576", "xlsx_whole_grid"),
        ("csv 16 MB", "csv_16_mb"),
    ] {
        let p = &r[key];
        println!(
            "{name}: {} bytes refused with {} in {:.0} ms, headend peak RSS +{:.1} MiB over {:.1} MiB idle; regions p50 {:.1} ms, p99 {:.1} ms",
            p["bytes"],
            p["status"],
            f(&p["refused_in_ms"]),
            f(&p["rss_peak_above_idle_mib"]),
            f(&p["rss_idle_mib"]),
            f(&p["regions_during"]["p50_ms"]),
            f(&p["regions_during"]["p99_ms"]),
        );
    }
    write_json(
        "security",
        &json!({
            "bench": "security",
            "what": "release dangjian-headend (SQLite, demo county) on loopback; dangjian-securitybench on the same 2-core machine. login/provision: one source address sends wrong passwords for the county admin / wrong installer codes back to back for 20 s; judged = answered 401/403/404 (the guess was checked), throttled = 429. xlsx: the whole-grid workbook (A1 and XFD1048576) imported by the county admin; csv: a 16 MB CSV; time to the refusal and the headend's VmHWM above its idle RSS. During each phase a bystander polls GET /api/v1/regions every 20 ms on its own keep-alive connection.",
            "machine": machine(),
            "results": r,
        }),
    )
}
