//! The content lifecycle on the real server: a village editor's draft,
//! returned and approved by the town's reviewer, published into the feed;
//! same-level review only where the county allows it; a correction as a
//! new version with its reason and history; scheduled publishing; a
//! retraction that keeps the record.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{call, call_as, login};
use headend::db::{NewAccount, Role};
use headend::{seed, Db, TestServer};
use serde_json::{json, Value};

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const DONGPO: &str = "990101101001";
const PASSWORD: &str = "correct-horse-42";

struct Staff {
    addr: std::net::SocketAddr,
    editor: String,
    town_reviewer: String,
    village_reviewer: String,
}

impl Staff {
    fn as_(&self, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
        let body = (!body.is_null()).then(|| body.to_string());
        let (code, text) = call_as(self.addr, Some(token), method, path, body.as_deref());
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer, Staff) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    for (name, region, role) in [
        ("dongpo-editor", DONGPO, Role::Editor),
        ("qingshi-reviewer", QINGSHI, Role::Reviewer),
        ("dongpo-reviewer", DONGPO, Role::Reviewer),
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
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.addr;
    let staff = Staff {
        addr,
        editor: login(addr, "dongpo-editor", PASSWORD).unwrap(),
        town_reviewer: login(addr, "qingshi-reviewer", PASSWORD).unwrap(),
        village_reviewer: login(addr, "dongpo-reviewer", PASSWORD).unwrap(),
    };
    (dir, db, server, staff)
}

fn subsidy(total: &str, note: &str) -> Value {
    json!({
        "kind": "disclosure", "category": "finance", "module": "补助资金",
        "title": "2026年11月种粮补贴发放", "period": "2026年11月",
        "body": [
            { "type": "paragraph", "text": note },
            { "type": "table", "caption": "补贴发放明细",
              "columns": [ { "name": "户主", "kind": "text" }, { "name": "金额", "kind": "money" } ],
              "rows": [ ["王建国", "320.00"], ["李桂兰", "280.50"] ],
              "totals": ["合计", total] }
        ]
    })
}

fn feed_item(addr: std::net::SocketAddr, id: &str) -> Option<Value> {
    let (_, text) = call(
        addr,
        "GET",
        &format!("/api/v1/feed?scope={DONGPO}&since=0&limit=1000"),
        None,
    );
    let page: Value = serde_json::from_str(&text).unwrap();
    page["upserts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
}

#[test]
fn a_village_draft_is_reviewed_by_the_town_published_corrected_and_retracted() {
    let (_dir, _db, server, s) = demo();
    let addr = server.addr;

    // A total that does not add up is refused, naming the cell.
    let (code, bad) = s.as_(
        &s.editor,
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": DONGPO, "content": subsidy("700.00", "本月发放种粮补贴。") }),
    );
    assert_eq!(code, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("B4"), "{bad}");
    // Not in another village.
    let (code, _) = s.as_(
        &s.editor,
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": "990101101002", "content": subsidy("600.50", "x") }),
    );
    assert_eq!(code, 403);

    let (code, draft) = s.as_(
        &s.editor,
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": DONGPO, "content": subsidy("600.50", "本月发放种粮补贴。") }),
    );
    assert_eq!(code, 201, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    let item = draft["item_id"].as_str().unwrap().to_string();
    assert_eq!(draft["status"], "draft");
    // Nothing reaches boxes before review.
    assert!(feed_item(addr, &item).is_none());
    let (code, _) = s.as_(
        &s.town_reviewer,
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 400, "only a submitted draft is approved");
    let (code, _) = s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 403, "an editor does not approve");

    let (code, d) = s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/content/{id}/submit"),
        Value::Null,
    );
    assert_eq!((code, &d["status"]), (200, &json!("submitted")));
    // The village's own reviewer may not, unless the county allows it.
    let (code, refused) = s.as_(
        &s.village_reviewer,
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 403, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("level above"));

    // Returned with a comment, fixed, submitted again, approved.
    let (code, d) = s.as_(
        &s.town_reviewer,
        "POST",
        &format!("/api/v1/admin/content/{id}/return"),
        json!({ "comment": "请写明发放依据" }),
    );
    assert_eq!(
        (code, &d["status"], &d["comment"]),
        (200, &json!("returned"), &json!("请写明发放依据"))
    );
    let (code, _) = s.as_(
        &s.editor,
        "PUT",
        &format!("/api/v1/admin/content/{id}"),
        json!({ "content": subsidy("600.50", "依据县农业农村局文件，本月发放种粮补贴。") }),
    );
    assert_eq!(code, 200);
    s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/content/{id}/submit"),
        Value::Null,
    );
    let (code, approved) = s.as_(
        &s.town_reviewer,
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 200, "{approved}");
    assert_eq!(approved["item"]["version"], 1);
    let published = feed_item(addr, &item).expect("in the feed");
    assert!(published.to_string().contains("依据县农业农村局文件"));

    // A published item is not edited in place.
    let (code, refused) = s.as_(
        &s.editor,
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": DONGPO, "item_id": item, "content": subsidy("600.50", "改") }),
    );
    assert_eq!(code, 400);
    assert!(refused["message"].as_str().unwrap().contains("correct it"));
    let (code, _) = s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/items/{item}/correct"),
        json!({ "content": subsidy("600.50", "改"), "reason": " " }),
    );
    assert_eq!(code, 400, "a correction needs its reason");

    // The correction: a new version carrying its reason.
    let corrected = json!({
        "kind": "disclosure", "category": "finance", "module": "补助资金",
        "title": "2026年11月种粮补贴发放", "period": "2026年11月",
        "body": [ { "type": "table", "caption": "补贴发放明细",
            "columns": [ { "name": "户主", "kind": "text" }, { "name": "金额", "kind": "money" } ],
            "rows": [ ["王建国", "320.00"], ["李桂兰", "300.50"] ], "totals": ["合计", "620.50"] } ]
    });
    let (code, fix) = s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/items/{item}/correct"),
        json!({ "content": corrected, "reason": "李桂兰的补贴金额录入有误" }),
    );
    assert_eq!(code, 201, "{fix}");
    let fix_id = fix["id"].as_i64().unwrap();
    s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/content/{fix_id}/submit"),
        Value::Null,
    );
    let (code, approved) = s.as_(
        &s.town_reviewer,
        "POST",
        &format!("/api/v1/admin/content/{fix_id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 200, "{approved}");
    let v2 = feed_item(addr, &item).unwrap();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["content"]["corrections"][0]["version"], 2);
    assert_eq!(
        v2["content"]["corrections"][0]["reason"],
        "李桂兰的补贴金额录入有误"
    );
    let (_, history) = s.as_(
        &s.editor,
        "GET",
        &format!("/api/v1/admin/items/{item}/history"),
        Value::Null,
    );
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["published", "corrected"]);

    // Retracted with a reason: gone from boxes, kept on the headend.
    let (code, _) = s.as_(
        &s.town_reviewer,
        "POST",
        &format!("/api/v1/admin/items/{item}/retract"),
        json!({ "reason": "重复发布" }),
    );
    assert_eq!(code, 204);
    assert!(feed_item(addr, &item).is_none());
    let (_, history) = s.as_(
        &s.editor,
        "GET",
        &format!("/api/v1/admin/items/{item}/history"),
        Value::Null,
    );
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["kind"].as_str(), last["reason"].as_str()),
        (Some("retracted"), Some("重复发布"))
    );
    let (code, kept) = s.as_(
        &s.editor,
        "GET",
        &format!("/api/v1/admin/content/{fix_id}"),
        Value::Null,
    );
    assert_eq!(code, 200);
    assert_eq!(kept["draft"]["status"], "published");

    // Each step is in the audit log with the versions it replaced and made.
    let (_, log) = call(
        addr,
        "GET",
        "/api/v1/admin/audit?account=qingshi-reviewer&limit=100",
        None,
    );
    let log: Vec<Value> = serde_json::from_str(&log).unwrap();
    let correction = log
        .iter()
        .find(|e| e["action"] == format!("POST /api/v1/admin/content/{fix_id}/approve"))
        .unwrap();
    assert_eq!(correction["before_id"], format!("{item}@1"));
    assert_eq!(correction["after_id"], format!("{item}@2"));
    assert!(log
        .iter()
        .any(|e| e["action"] == format!("POST /api/v1/admin/items/{item}/retract")));
}

#[test]
fn same_level_review_where_the_county_allows_it_and_scheduled_publishing() {
    let (_dir, _db, server, s) = demo();
    let addr = server.addr;
    // The county admin allows review at the same level.
    let (code, _) = call(
        addr,
        "PUT",
        &format!("/api/v1/admin/settings/{COUNTY}"),
        Some(r#"{"same_level_review":true}"#),
    );
    assert_eq!(code, 204);
    let (code, _) = call(
        addr,
        "PUT",
        &format!("/api/v1/admin/settings/{QINGSHI}"),
        Some(r#"{"same_level_review":true}"#),
    );
    assert_eq!(code, 400, "settings are per county");

    let (_, draft) = s.as_(
        &s.editor,
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": DONGPO, "content": subsidy("600.50", "下周一发布") }),
    );
    let id = draft["id"].as_i64().unwrap();
    let item = draft["item_id"].as_str().unwrap().to_string();
    s.as_(
        &s.editor,
        "POST",
        &format!("/api/v1/admin/content/{id}/submit"),
        Value::Null,
    );
    let at = headend::push::now_ms() / 1000 + 2;
    let (code, answer) = s.as_(
        &s.village_reviewer,
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        json!({ "publish_at": at }),
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["draft"]["status"], "scheduled");
    assert!(answer["item"].is_null());
    assert!(feed_item(addr, &item).is_none(), "not before its time");
    let (_, queue) = s.as_(
        &s.town_reviewer,
        "GET",
        &format!("/api/v1/admin/content?region={QINGSHI}&status=scheduled"),
        Value::Null,
    );
    assert_eq!(queue.as_array().unwrap().len(), 1);

    // The headend's scheduler publishes it when its time comes.
    let deadline = Instant::now() + Duration::from_secs(20);
    while feed_item(addr, &item).is_none() {
        assert!(Instant::now() < deadline, "never published");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, d) = s.as_(
        &s.editor,
        "GET",
        &format!("/api/v1/admin/content/{id}"),
        Value::Null,
    );
    assert_eq!(d["draft"]["status"], "published");
    assert_eq!(d["history"][0]["by"], "dongpo-reviewer");
}
