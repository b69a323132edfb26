//! Staff publish through the review flow and a box shows it: a village
//! editor's finance disclosure approved by the town reviewer reaches a
//! synced box; its correction arrives as a new version marked 更正 with the
//! reason; a retraction removes it from the box.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use e2e::{demo_headend_db, http_as, login, screenshot_dir, start_headend, VILLAGE};
use headend::db::{NewAccount, Role};
use input::RemoteKey::{Digit, Ok as OkKey};
use serde_json::{json, Value};
use tv::{Display, HeadlessSession};

const WAIT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "correct-horse-42";

fn subsidy(li: &str, total: &str) -> Value {
    json!({
        "kind": "disclosure", "category": "finance", "module": "补助资金",
        "title": "2026年11月种粮补贴发放", "period": "2026年11月",
        "body": [ { "type": "table", "caption": "补贴发放明细",
            "columns": [ { "name": "户主", "kind": "text" }, { "name": "金额", "kind": "money" } ],
            "rows": [ ["王建国", "320.00"], ["李桂兰", li] ], "totals": ["合计", total] } ]
    })
}

fn call(addr: std::net::SocketAddr, token: &str, method: &str, path: &str, body: Value) -> Value {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let answer = http_as(addr, token, method, path, &body);
    serde_json::from_str(&answer).unwrap_or(Value::Null)
}

#[test]
fn an_approved_disclosure_and_its_correction_reach_a_synced_box() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    for (name, region, role) in [
        ("dongpo-editor", VILLAGE, Role::Editor),
        ("qingshi-reviewer", "990101101000", Role::Reviewer),
    ] {
        db.create_account(
            &NewAccount {
                username: name.into(),
                display_name: name.into(),
                region: region.parse().unwrap(),
                role,
                password: PASSWORD.into(),
            },
            None,
            0,
        )
        .unwrap();
    }
    let server = start_headend(db);
    let addr = server.addr;
    let editor = login(addr, "dongpo-editor", PASSWORD);
    let reviewer = login(addr, "qingshi-reviewer", PASSWORD);
    // demo-box holds the push channel, so approvals reach it at once.
    e2e::demo_identity(&dir.path().join("box"), "demo-box");
    let config = tv::Config::parse(
        &format!(
            "headend_url = \"{}\"\nvillage_code = \"{VILLAGE}\"\ndevice_id = \"demo-box\"\ndata_dir = \"{}\"\n",
            server.url(),
            dir.path().join("box").display()
        ),
        "test.toml",
    )
    .unwrap();
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    tv.wait_for_sync_result(WAIT).unwrap();
    tv.acknowledge_notices();

    // Written, submitted, approved by the town.
    let draft = call(
        addr,
        &editor,
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": VILLAGE, "content": subsidy("280.50", "600.50") }),
    );
    let id = draft["id"].as_i64().unwrap_or_else(|| panic!("{draft}"));
    let item = draft["item_id"].as_str().unwrap().to_string();
    call(
        addr,
        &editor,
        "POST",
        &format!("/api/v1/admin/content/{id}/submit"),
        Value::Null,
    );
    let approved = call(
        addr,
        &reviewer,
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(approved["item"]["version"], 1, "{approved}");

    // 三务公开 › 财务公开 › 补助资金: the new disclosure arrives (push, sync).
    tv.press(OkKey);
    tv.press(Digit(3));
    tv.press(Digit(2));
    e2e::wait_until_shown(
        &mut tv,
        "2026年11月种粮补贴发放",
        &[input::RemoteKey::Back, Digit(2)],
        WAIT,
    );
    let rows = tv.view().rows;
    let row = rows
        .iter()
        .position(|(t, _)| t.contains("2026年11月种粮补贴发放"))
        .unwrap();
    tv.press(Digit(row as u8 + 1));
    assert!(tv.visible_texts().iter().any(|t| t.contains("280.50")));

    // The correction: version 2 with its reason, first on the page.
    let fix = call(
        addr,
        &editor,
        "POST",
        &format!("/api/v1/admin/items/{item}/correct"),
        json!({ "content": subsidy("300.50", "620.50"), "reason": "李桂兰的补贴金额录入有误" }),
    );
    let fix_id = fix["id"].as_i64().unwrap_or_else(|| panic!("{fix}"));
    call(
        addr,
        &editor,
        "POST",
        &format!("/api/v1/admin/content/{fix_id}/submit"),
        Value::Null,
    );
    let approved = call(
        addr,
        &reviewer,
        "POST",
        &format!("/api/v1/admin/content/{fix_id}/approve"),
        Value::Null,
    );
    assert_eq!(approved["item"]["version"], 2, "{approved}");
    e2e::wait_until_shown(
        &mut tv,
        "【更正】第2版",
        &[input::RemoteKey::Back, Digit(row as u8 + 1)],
        WAIT,
    );
    let texts = tv.visible_texts();
    assert!(
        texts.iter().any(|t| t.contains("李桂兰的补贴金额录入有误")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("300.50")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("已更正")), "{texts:?}");
    let shots = screenshot_dir();
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&shots.join(format!(
            "70-correction-{}x{}.png",
            display.width, display.height
        )))
        .unwrap();
    }
    tv.set_display(Display::HD);

    // Retracted: gone from the box's list.
    let answer = http_as(
        addr,
        &reviewer,
        "POST",
        &format!("/api/v1/admin/items/{item}/retract"),
        &json!({ "reason": "重复发布" }).to_string(),
    );
    assert!(answer.is_empty(), "{answer}");
    tv.press(input::RemoteKey::Back);
    let deadline = Instant::now() + WAIT;
    loop {
        tv.press(input::RemoteKey::Back);
        tv.press(Digit(2));
        if !tv
            .view()
            .rows
            .iter()
            .any(|(t, _)| t.contains("2026年11月种粮补贴发放"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "still on the box");
        let _ = tv.wait_for("a sync", Duration::from_secs(1), |e| {
            matches!(e, sync::SyncEvent::Synced(_))
        });
    }
}
