//! `dangjian-headend admin`: the first county admin, accounts, import and
//! publish from the command line, under the same rules as the API.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::process::Command;

fn headend(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dangjian-headend"))
        .args(args)
        .arg("--db")
        .arg(dir.join("h.db"))
        .env("DANGJIAN_PASSWORD", "correct-horse-42")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn accounts_import_and_publish_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(headend(d, &["seed-demo"]).0);
    let (ok, text) = headend(
        d,
        &[
            "admin",
            "create-account",
            "--username",
            "county-chief",
            "--name",
            "青山县组织部",
            "--region",
            "990101000000",
            "--role",
            "admin",
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = headend(
        d,
        &[
            "admin",
            "create-account",
            "--username",
            "bad",
            "--name",
            "x",
            "--region",
            "990101000000",
            "--role",
            "emperor",
        ],
    );
    assert!(!ok && text.contains("unknown role"), "{text}");
    assert!(
        headend(
            d,
            &[
                "admin",
                "create-account",
                "--username",
                "dongpo-acc",
                "--name",
                "会计",
                "--region",
                "990101101001",
                "--role",
                "editor"
            ]
        )
        .0
    );
    let (_, list) = headend(d, &["admin", "list"]);
    assert!(list.contains("county-chief\tadmin\t990101000000"), "{list}");

    std::fs::write(d.join("bad.csv"), "户主,金额\n王建国,abc\n").unwrap();
    std::fs::write(
        d.join("sub.csv"),
        "东坡村11月补贴\n户主,金额（元）\n王建国,320\n李桂兰,280.5\n合计,600.50\n",
    )
    .unwrap();
    let import = |file: &str| {
        let path = d.join(file);
        headend(
            d,
            &[
                "admin",
                "import",
                "--file",
                path.to_str().unwrap(),
                "--scope",
                "990101101001",
                "--category",
                "finance",
                "--module",
                "补助资金",
                "--period",
                "2026年11月",
                "--as",
                "dongpo-acc",
            ],
        )
    };
    let (ok, text) = import("bad.csv");
    assert!(!ok && text.contains("bad.csv!B2: 金额格式错误"), "{text}");
    let (ok, text) = import("sub.csv");
    assert!(ok, "{text}");
    // The author may not publish its own; the county admin may.
    let (ok, text) = headend(
        d,
        &["admin", "publish", "--draft", "1", "--as", "dongpo-acc"],
    );
    assert!(!ok, "{text}");
    let (ok, text) = headend(
        d,
        &["admin", "publish", "--draft", "1", "--as", "county-chief"],
    );
    assert!(ok && text.contains("version 1"), "{text}");

    let db = headend::Db::open(&d.join("h.db")).unwrap();
    let chain = db.scope_chain(&"990101101001".parse().unwrap()).unwrap();
    let headend::db::FeedAnswer::Page { page, .. } = db.feed(&chain, 0, 1000).unwrap() else {
        panic!("stale");
    };
    assert!(page
        .upserts
        .iter()
        .any(|i| i.content.title() == "东坡村11月补贴"));
}
