//! Statistics on the real server: uploads per village and module with who
//! wrote them, the supervision list, boxes online; JSON and CSV; only
//! inside the caller's region.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{call, call_as, get_json, login, Sse};
use headend::db::{NewAccount, Role};
use headend::{seed, Db, TestServer};
use serde_json::Value;

const QINGSHI: &str = "990101101000";
const LIUXI: &str = "990101102000";
const DONGPO: &str = "990101101001";

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    (dir, db, server)
}

#[test]
fn uploads_supervision_and_boxes_as_json_and_csv() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    db.create_account(
        &NewAccount {
            username: "dongpo-editor".into(),
            display_name: "东坡村会计".into(),
            region: DONGPO.parse().unwrap(),
            role: Role::Editor,
            password: "correct-horse-42".into(),
        },
        None,
        0,
    )
    .unwrap();
    let editor = login(addr, "dongpo-editor", "correct-horse-42").unwrap();
    let draft = serde_json::json!({ "scope": DONGPO, "content": {
        "kind": "disclosure", "category": "village", "module": "低保户",
        "title": "低保名单", "period": "2026年11月",
        "body": [ { "type": "paragraph", "text": "名单" } ] } });
    let (code, _) = call_as(
        addr,
        Some(&editor),
        "POST",
        "/api/v1/admin/content",
        Some(&draft.to_string()),
    );
    assert_eq!(code, 201);

    let (code, uploads) = get_json(
        addr,
        &format!("/api/v1/admin/stats/uploads?region={QINGSHI}"),
    );
    assert_eq!(code, 200, "{uploads}");
    let rows = uploads["villages"].as_array().unwrap();
    let finance = rows
        .iter()
        .find(|r| r["village"] == DONGPO && r["module"] == "收支情况")
        .unwrap_or_else(|| panic!("{uploads}"));
    assert!(finance["count"].as_u64().unwrap() >= 1);
    assert!(rows
        .iter()
        .all(|r| r["village"].as_str().unwrap().starts_with("990101101")));
    assert_eq!(uploads["authors"][0]["author"], "dongpo-editor");
    assert_eq!(uploads["authors"][0]["drafts"], 1);
    let (code, csv) = call(
        addr,
        "GET",
        &format!("/api/v1/admin/stats/uploads?region={QINGSHI}&format=csv"),
        None,
    );
    assert_eq!(code, 200);
    assert!(
        csv.trim_start_matches('\u{feff}')
            .starts_with("村编码,村,模块,条数,最近发布"),
        "{csv}"
    );
    assert!(csv.contains("东坡村,收支情况"), "{csv}");

    // 东坡村 keeps its accounts current but has published no 督查通报.
    let path = format!(
        "/api/v1/admin/stats/supervision?region={QINGSHI}&modules=%E6%94%B6%E6%94%AF%E6%83%85%E5%86%B5,%E7%9D%A3%E6%9F%A5%E9%80%9A%E6%8A%A5&within_days=3650"
    );
    let (code, list) = get_json(addr, &path);
    assert_eq!(code, 200, "{list}");
    let dongpo = list["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["village"] == DONGPO)
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(dongpo["missing"], serde_json::json!(["督查通报"]), "{list}");
    assert!(dongpo["last"][0][1].is_i64(), "{list}");
    let (_, csv) = call(addr, "GET", &format!("{path}&format=csv"), None);
    assert!(csv.contains("督查通报:从未"), "{csv}");

    // Boxes: two in 东坡村, online once one holds its push channel.
    let (_, boxes) = get_json(addr, &format!("/api/v1/admin/stats/boxes?region={QINGSHI}"));
    assert_eq!(
        (boxes["boxes"].as_u64(), boxes["online"].as_u64()),
        (Some(2), Some(0)),
        "{boxes}"
    );
    let _push = Sse::open(addr, "/api/v1/events?device=demo-box").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (_, boxes) = get_json(addr, &format!("/api/v1/admin/stats/boxes?region={QINGSHI}"));
    assert_eq!(boxes["online"], 1, "{boxes}");
    let dongpo: &Value = boxes["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["village"] == DONGPO)
        .unwrap();
    assert_eq!(
        (dongpo["boxes"].as_u64(), dongpo["online"].as_u64()),
        (Some(2), Some(1))
    );

    // Module opens reported by boxes through their outbox.
    for (key, module) in [("u1", "三务公开"), ("u2", "三务公开"), ("u3", "一键服务")] {
        let batch = serde_json::json!({ "device": "demo-box", "items": [
            { "key": key, "kind": "usage", "payload": { "module": module } } ] });
        let (code, answer) = call(
            addr,
            "POST",
            "/api/v1/submissions",
            Some(&batch.to_string()),
        );
        assert_eq!(code, 200, "{answer}");
        assert!(answer.contains("accepted"), "{answer}");
    }
    // A resend of the same key counts once.
    let again = serde_json::json!({ "device": "demo-box", "items": [
        { "key": "u1", "kind": "usage", "payload": { "module": "三务公开" } } ] });
    call(
        addr,
        "POST",
        "/api/v1/submissions",
        Some(&again.to_string()),
    );
    // Counts batched on the box arrive as one report.
    let batched = serde_json::json!({ "device": "demo-box-2", "items": [
        { "key": "u4", "kind": "usage", "payload": { "module": "党群直播", "opens": 3 } },
        { "key": "u5", "kind": "usage", "payload": { "module": "党群直播", "opens": 0 } } ] });
    let (_, answer) = call(
        addr,
        "POST",
        "/api/v1/submissions",
        Some(&batched.to_string()),
    );
    assert!(
        answer.contains("rejected"),
        "zero opens is not a report: {answer}"
    );
    let (code, usage) = get_json(addr, &format!("/api/v1/admin/stats/usage?region={QINGSHI}"));
    assert_eq!(code, 200, "{usage}");
    assert_eq!(usage["villages"][0]["village"], DONGPO, "{usage}");
    assert_eq!(
        usage["villages"][0]["module"], "党群直播",
        "most used first"
    );
    let disclosures = usage["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "三务公开")
        .unwrap();
    assert_eq!(disclosures["opens"], 2);
    assert_eq!(disclosures["boxes"], 1);
    let live = usage["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "党群直播")
        .unwrap();
    assert_eq!(live["opens"], 3, "{usage}");
    let service = usage["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "一键服务")
        .unwrap();
    assert_eq!(service["opens"], 1, "{usage}");
    let (_, csv) = call(
        addr,
        "GET",
        &format!("/api/v1/admin/stats/usage?region={QINGSHI}&format=csv"),
        None,
    );
    assert!(csv.contains("东坡村,三务公开,2,1"), "{csv}");

    // A town's viewer sees its own town only.
    db.create_account(
        &NewAccount {
            username: "liuxi-viewer".into(),
            display_name: "柳溪乡".into(),
            region: LIUXI.parse().unwrap(),
            role: Role::Viewer,
            password: "correct-horse-42".into(),
        },
        None,
        0,
    )
    .unwrap();
    let viewer = login(addr, "liuxi-viewer", "correct-horse-42").unwrap();
    for path in ["uploads", "supervision", "boxes", "usage"] {
        let (code, _) = call_as(
            addr,
            Some(&viewer),
            "GET",
            &format!("/api/v1/admin/stats/{path}?region={QINGSHI}"),
            None,
        );
        assert_eq!(code, 403, "{path}");
        let (code, _) = call_as(
            addr,
            Some(&viewer),
            "GET",
            &format!("/api/v1/admin/stats/{path}?region={LIUXI}"),
            None,
        );
        assert_eq!(code, 200, "{path}");
    }
}
