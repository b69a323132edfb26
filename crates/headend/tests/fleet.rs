//! The fleet through the real server: installer codes and provisioning
//! (good, expired, reused, unknown, other region, unknown village), the
//! household picked by the box, heartbeats in the device list, a command
//! pushed and acknowledged (and sent again until it is), and revocation.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{call, call_as, json, Sse};
use headend::{push::now_ms, seed, Db, TestServer};
use serde_json::{json, Value};

const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";
const QINGSHI_TOWN: &str = "990101101000";

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    (dir, db, server)
}

fn code_for(server: &TestServer, region: &str) -> String {
    let (status, code) = json(
        server.addr,
        "POST",
        "/api/v1/admin/installer-codes",
        json!({ "region": region, "valid_hours": 2 }),
    );
    assert_eq!(status, 201, "{code}");
    code["code"].as_str().unwrap().to_string()
}

fn provision(server: &TestServer, village: &str, code: &str, device: Option<&str>) -> (u16, Value) {
    let mut body = json!({ "village": village, "code": code });
    if let Some(d) = device {
        body["device"] = json!(d);
    }
    let (status, text) = call_as(
        server.addr,
        None,
        "POST",
        "/api/v1/provision",
        Some(&body.to_string()),
    );
    (status, serde_json::from_str(&text).unwrap())
}

/// A box request with an explicit token.
fn as_box(server: &TestServer, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let body = (!body.is_null()).then(|| body.to_string());
    let (status, text) = call_as(server.addr, Some(token), method, path, body.as_deref());
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, value)
}

#[test]
fn installer_codes_are_single_use_expiring_and_regional() {
    let (_dir, db, server) = demo();
    // A code for the town binds a box in any of its villages, once.
    let code = code_for(&server, QINGSHI_TOWN);
    assert_eq!(code.len(), 8);
    let (status, new_box) = provision(&server, DONGPO, &code, None);
    assert_eq!(status, 201, "{new_box}");
    let device = new_box["device"].as_str().unwrap().to_string();
    let token = new_box["token"].as_str().unwrap().to_string();
    assert!(device.starts_with("box-990101101001-"), "{device}");
    let names: Vec<&str> = new_box["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"王建国"), "{names:?}");

    let (status, again) = provision(&server, DONGPO, &code, None);
    assert_eq!((status, again["code"].as_str()), (403, Some("code_used")));

    let (status, unknown) = provision(&server, DONGPO, "00000000", None);
    assert_eq!(
        (status, unknown["code"].as_str()),
        (403, Some("code_unknown"))
    );

    // Issued two hours ago for one hour.
    let old = db
        .issue_installer_code(
            &DONGPO.parse().unwrap(),
            "test",
            now_ms() / 1000 - 7200,
            3600,
        )
        .unwrap();
    let (status, expired) = provision(&server, DONGPO, &old.code, None);
    assert_eq!(
        (status, expired["code"].as_str()),
        (403, Some("code_expired"))
    );
    assert!(expired["message"].as_str().unwrap().contains("expired"));

    let hewan_code = code_for(&server, HEWAN);
    let (status, outside) = provision(&server, DONGPO, &hewan_code, None);
    assert_eq!(
        (status, outside["code"].as_str()),
        (403, Some("code_outside_region"))
    );
    let (status, nowhere) = provision(&server, "990101101099", &hewan_code, None);
    assert_eq!(
        (status, nowhere["code"].as_str()),
        (404, Some("village_unknown"))
    );
    // Refusals did not spend the code.
    let (status, _) = provision(&server, HEWAN, &hewan_code, None);
    assert_eq!(status, 201);

    // The box picks its household from the village's members; a member of
    // another village is refused (and one of another household: see
    // tests/security_content.rs).
    let path = format!("/api/v1/devices/{device}/members");
    let (status, err) = as_box(
        &server,
        &token,
        "PUT",
        &path,
        json!({ "members": ["hewan-01"] }),
    );
    assert_eq!(status, 400, "{err}");
    let (status, household) = as_box(
        &server,
        &token,
        "PUT",
        &path,
        json!({ "members": ["dongpo-04"] }),
    );
    assert_eq!(status, 200, "{household}");
    assert_eq!(household["members"][0]["name"], "赵秀英");
    let (status, _) = as_box(&server, "wrong", "PUT", &path, json!({ "members": [] }));
    assert_eq!(status, 401);
    let (status, fetched) = as_box(
        &server,
        &token,
        "GET",
        &format!("/api/v1/devices/{device}/household"),
        Value::Null,
    );
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["members"].as_array().unwrap().len(), 1);
}

#[test]
fn heartbeats_commands_and_revocation() {
    let (_dir, _db, server) = demo();
    let code = code_for(&server, DONGPO);
    let (_, new_box) = provision(&server, DONGPO, &code, None);
    let device = new_box["device"].as_str().unwrap().to_string();
    let token = new_box["token"].as_str().unwrap().to_string();

    // Listed, offline until it is heard from; a heartbeat brings it online.
    let list = |server: &TestServer| {
        let (status, list) = json(
            server.addr,
            "GET",
            &format!("/api/v1/admin/devices?region={DONGPO}"),
            Value::Null,
        );
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["device"] == device.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(list(&server)["online"], false);
    let beat = json!({ "version": "0.9.1", "uptime_s": 42, "ip": "10.1.2.3",
        "free_bytes": 123456789, "last_sync": 1_700_000_000, "last_sync_result": "已同步",
        "playing": "live-qingshi-party-day", "errors": ["信号中断"] });
    let (status, _) = as_box(
        &server,
        &token,
        "POST",
        &format!("/api/v1/devices/{device}/heartbeat"),
        beat,
    );
    assert_eq!(status, 204);
    let row = list(&server);
    assert_eq!(row["online"], true, "{row}");
    assert_eq!(row["heartbeat"]["version"], "0.9.1");
    assert_eq!(row["heartbeat"]["playing"], "live-qingshi-party-day");
    assert_eq!(row["village_name"], "东坡村");

    // A command reaches the connected box over push.
    let events = format!("/api/v1/events?device={device}");
    let mut push = Sse::open_with(server.addr, &events, Some(&token)).unwrap();
    let (status, sent) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        json!({ "kind": "show_message", "text": "明天上午停电检修" }),
    );
    assert_eq!(status, 201, "{sent}");
    let (name, data) = push.next(Duration::from_secs(10)).unwrap();
    assert_eq!(name, "command");
    let pushed: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(pushed["kind"], "show_message");
    assert_eq!(pushed["text"], "明天上午停电检修");
    let id = pushed["id"].as_u64().unwrap();
    assert_eq!(id, sent["id"].as_u64().unwrap());

    // Not acknowledged: sent again when the box reconnects.
    drop(push);
    let mut push = Sse::open_with(server.addr, &events, Some(&token)).unwrap();
    let (name, data) = push.next(Duration::from_secs(10)).unwrap();
    assert_eq!(name, "command");
    assert!(data.contains("明天上午停电检修"));
    drop(push);
    let ack = format!("/api/v1/devices/{device}/commands/{id}/ack");
    let (status, _) = as_box(
        &server,
        &token,
        "POST",
        &ack,
        json!({ "ok": true, "detail": "shown" }),
    );
    assert_eq!(status, 204);
    let (_, commands) = json(
        server.addr,
        "GET",
        &format!("/api/v1/admin/devices/{device}/commands"),
        Value::Null,
    );
    assert_eq!(commands[0]["ok"], true, "{commands}");
    assert_eq!(commands[0]["detail"], "shown");
    assert!(commands[0]["acked_at"].is_i64());
    // Acknowledged: not sent again; another box cannot answer for it.
    let mut push = Sse::open_with(server.addr, &events, Some(&token)).unwrap();
    assert!(push.next(Duration::from_millis(500)).is_none());
    let (status, _) = call(
        server.addr,
        "POST",
        &format!("/api/v1/devices/demo-box/commands/{id}/ack"),
        Some(r#"{"ok":false}"#),
    );
    assert_eq!(status, 404);

    // A bad command is refused before it is queued.
    let (status, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        json!({ "kind": "show_message", "text": "  " }),
    );
    assert_eq!(status, 400);

    // Revoked: the push connection ends and the token is refused.
    let (status, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/revoke"),
        json!({ "reason": "机顶盒丢失" }),
    );
    assert_eq!(status, 204);
    // Had the connection stayed open, this command would arrive on it.
    let (status, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        json!({ "kind": "resync" }),
    );
    assert_eq!(status, 201);
    assert!(
        push.next(Duration::from_secs(2)).is_none(),
        "connection ended"
    );
    let (status, refused) = as_box(
        &server,
        &token,
        "GET",
        &format!("/api/v1/devices/{device}/household"),
        Value::Null,
    );
    assert_eq!(
        (status, refused["code"].as_str()),
        (401, Some("device_revoked"))
    );
    assert_eq!(
        Sse::open_with(server.addr, &events, Some(&token)).err(),
        Some(401)
    );
    let row = list(&server);
    assert_eq!(row["online"], false);
    assert_eq!(row["revoked_reason"], "机顶盒丢失");

    // Provisioned again with a new code: a new token works, the old does not.
    let code = code_for(&server, DONGPO);
    let (status, again) = provision(&server, DONGPO, &code, Some(&device));
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["device"], device.as_str());
    let fresh = again["token"].as_str().unwrap();
    assert_ne!(fresh, token);
    let household = format!("/api/v1/devices/{device}/household");
    assert_eq!(
        as_box(&server, fresh, "GET", &household, Value::Null).0,
        200
    );
    assert_eq!(
        as_box(&server, &token, "GET", &household, Value::Null).0,
        401
    );
}
