//! Issue 19, the fleet as an attacker on the cable network sees it: taking
//! over another region's box with an installer code, guessing codes from
//! one address or many, aiming a good code at the wrong village, reading
//! codes back from a stolen database, keeping a push stream after the box
//! was re-provisioned, opening push streams without end, and pointing a
//! box at another headend. Each test asserts the refusal, the audit row
//! and that nothing changed. Finding 1 (box takeover) and the console's
//! release are here; installer codes in `security_fleet/codes.rs`; push
//! streams and `set_config` in `security_fleet/streams_and_config.rs`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[path = "security_fleet/codes.rs"]
mod codes;
mod common;
#[path = "common/console.rs"]
mod console;
#[path = "security_fleet/streams_and_config.rs"]
mod streams_and_config;

use std::sync::Arc;

use common::{call, call_as, call_from, json, login, Sse};
use console::{account, PASSWORD};
use headend::db::Role;
use headend::{seed, Db, ServeOptions, TestServer};
use serde_json::{json, Value};

const DONGPO: &str = "990101101001";
const LIULIN: &str = "990101102001";
const LIUXI_TOWN: &str = "990101102000";

fn demo_with(options: ServeOptions) -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server =
        TestServer::start_with_options(db.clone(), "127.0.0.1:0".parse().unwrap(), options)
            .unwrap();
    (dir, db, server)
}

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer) {
    demo_with(ServeOptions::default())
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

fn provision_body(village: &str, code: &str, device: Option<&str>) -> String {
    let mut body = json!({ "village": village, "code": code });
    if let Some(d) = device {
        body["device"] = json!(d);
    }
    body.to_string()
}

/// `POST /api/v1/provision` from `source`, with `bearer` if given.
fn provision_from(
    server: &TestServer,
    source: &str,
    bearer: Option<&str>,
    village: &str,
    code: &str,
    device: Option<&str>,
) -> common::Answer {
    call_from(
        server.addr,
        source,
        bearer,
        "POST",
        "/api/v1/provision",
        Some(&provision_body(village, code, device)),
    )
}

fn provision(
    server: &TestServer,
    bearer: Option<&str>,
    village: &str,
    code: &str,
    device: Option<&str>,
) -> (u16, Value) {
    let answer = provision_from(server, "127.0.0.1", bearer, village, code, device);
    (answer.status, answer.json())
}

/// A new box in 东坡村: (device id, token).
fn dongpo_box(server: &TestServer) -> (String, String) {
    let code = code_for(server, DONGPO);
    let (status, new_box) = provision(server, None, DONGPO, &code, None);
    assert_eq!(status, 201, "{new_box}");
    (
        new_box["device"].as_str().unwrap().to_string(),
        new_box["token"].as_str().unwrap().to_string(),
    )
}

fn household_status(server: &TestServer, device: &str, token: &str) -> u16 {
    call_as(
        server.addr,
        Some(token),
        "GET",
        &format!("/api/v1/devices/{device}/household"),
        None,
    )
    .0
}

fn device_row(server: &TestServer, device: &str) -> Value {
    let (status, list) = json(
        server.addr,
        "GET",
        "/api/v1/admin/devices?region=990101000000",
        Value::Null,
    );
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == device)
        .cloned()
        .unwrap_or_else(|| panic!("{device} not listed: {list}"))
}

/// The audit log as the county admin reads it, newest first.
fn audit(server: &TestServer) -> Vec<Value> {
    let (status, log) = json(
        server.addr,
        "GET",
        "/api/v1/admin/audit?limit=5000",
        Value::Null,
    );
    assert_eq!(status, 200, "{log}");
    log.as_array().unwrap().clone()
}

fn audit_with(server: &TestServer, action: &str) -> Vec<Value> {
    audit(server)
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

// Finding 1: a box bound in one region cannot be re-bound from another.

#[test]
fn a_code_from_another_town_cannot_take_over_a_box() {
    let (_dir, _db, server) = demo();
    let (device, token) = dongpo_box(&server);
    // The reported attack: a code for 柳溪乡's 柳林村 naming 东坡村's box.
    let liulin_code = code_for(&server, LIULIN);
    let (status, refused) = provision(&server, None, LIULIN, &liulin_code, Some(&device));
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("device_elsewhere")),
        "{refused}"
    );
    assert!(refused.get("token").is_none(), "{refused}");
    // Someone else's token proves nothing about this box.
    let other = common::device_token("demo-box");
    let (status, refused) = provision(&server, Some(&other), LIULIN, &liulin_code, Some(&device));
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("device_elsewhere"))
    );

    // Nothing changed: the real box still works, still in 东坡村.
    assert_eq!(household_status(&server, &device, &token), 200);
    assert_eq!(device_row(&server, &device)["village"], DONGPO);

    // Both attempts are in the log, for 东坡村, naming the box, with the
    // code's first digits only.
    let refusals = audit_with(&server, "provision_refused");
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    for entry in &refusals {
        assert_eq!(entry["region"], DONGPO, "{entry}");
        assert_eq!(entry["target"], device.as_str(), "{entry}");
        assert_eq!(entry["outcome"], "refused", "{entry}");
        assert_eq!(entry["ip"], "127.0.0.1", "{entry}");
        let detail = entry["detail"].as_str().unwrap();
        assert!(detail.contains("device_elsewhere"), "{detail}");
        assert!(detail.contains(&liulin_code[..3]), "{detail}");
    }
    assert!(!serde_json::to_string(&audit(&server))
        .unwrap()
        .contains(&liulin_code));

    // The refused code was not spent: it still binds a new box in 柳林村.
    let (status, _) = provision(&server, None, LIULIN, &liulin_code, None);
    assert_eq!(status, 201);
}

#[test]
fn a_box_moves_to_another_region_with_its_own_token() {
    let (_dir, _db, server) = demo();
    let (device, token) = dongpo_box(&server);
    let liulin_code = code_for(&server, LIULIN);
    let (status, moved) = provision(&server, Some(&token), LIULIN, &liulin_code, Some(&device));
    assert_eq!(status, 201, "{moved}");
    assert_eq!(moved["device"], device.as_str());
    assert_eq!(moved["village"], LIULIN);
    let fresh = moved["token"].as_str().unwrap();
    assert_eq!(household_status(&server, &device, fresh), 200);
    assert_eq!(household_status(&server, &device, &token), 401);
    assert_eq!(device_row(&server, &device)["village"], LIULIN);

    // The re-bind is audited: from where, to where, on what proof.
    let rebinds = audit_with(&server, "provision.rebind");
    assert_eq!(rebinds.len(), 1, "{rebinds:?}");
    let detail = rebinds[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(DONGPO) && detail.contains(LIULIN),
        "{detail}"
    );
    assert!(detail.contains("token"), "{detail}");
    assert_eq!(rebinds[0]["target"], device.as_str());
    assert_eq!(rebinds[0]["outcome"], "ok");
}

#[test]
fn a_revoked_token_does_not_move_a_box() {
    let (_dir, _db, server) = demo();
    let (device, token) = dongpo_box(&server);
    let (status, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/revoke"),
        json!({ "reason": "机顶盒被盗" }),
    );
    assert_eq!(status, 204);
    let liulin_code = code_for(&server, LIULIN);
    let (status, refused) = provision(&server, Some(&token), LIULIN, &liulin_code, Some(&device));
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("device_elsewhere"))
    );
    let row = device_row(&server, &device);
    assert_eq!(row["village"], DONGPO);
    assert_eq!(row["revoked_reason"], "机顶盒被盗");
}

#[test]
fn an_operator_of_the_boxs_region_releases_it_for_another_region() {
    let (_dir, db, server) = demo();
    let (device, token) = dongpo_box(&server);
    let release = format!("/api/v1/admin/devices/{device}/release");

    // 柳溪乡's operator cannot release 青石镇's box.
    account(&db, "liuxi-operator", LIUXI_TOWN, Role::Operator);
    let liuxi = login(server.addr, "liuxi-operator", PASSWORD).unwrap();
    let body = json!({ "reason": "搬到柳林村" }).to_string();
    let (status, text) = call_as(server.addr, Some(&liuxi), "POST", &release, Some(&body));
    assert_eq!(status, 403, "{text}");
    let liulin_code = code_for(&server, LIULIN);
    let (status, _) = provision(&server, None, LIULIN, &liulin_code, Some(&device));
    assert_eq!(status, 403);

    // The county's admin can; then a 柳林村 code binds the box there.
    let (status, text) = call(server.addr, "POST", &release, Some(&body));
    assert_eq!(status, 204, "{text}");
    let (status, moved) = provision(&server, None, LIULIN, &liulin_code, Some(&device));
    assert_eq!(status, 201, "{moved}");
    assert_eq!(household_status(&server, &device, &token), 401);
    assert_eq!(device_row(&server, &device)["village"], LIULIN);

    // The release is used up by that re-bind.
    let again = code_for(&server, DONGPO);
    let fresh = moved["token"].as_str().unwrap();
    assert_eq!(household_status(&server, &device, fresh), 200);
    let (status, _) = provision(&server, None, DONGPO, &again, Some(&device));
    assert_eq!(status, 403);

    // Who released it and who refused to, and the re-bind, are logged.
    let log = audit(&server);
    let releases: Vec<&Value> = log.iter().filter(|e| e["target"] == release).collect();
    assert_eq!(releases.len(), 2, "{releases:?}");
    assert_eq!(releases[0]["account"], seed::DEMO_ADMIN.0);
    assert_eq!(releases[0]["outcome"], "ok");
    assert_eq!(releases[1]["account"], "liuxi-operator");
    assert_eq!(releases[1]["outcome"], "refused");
    let rebind = log
        .iter()
        .find(|e| e["action"] == "provision.rebind")
        .unwrap();
    assert!(rebind["detail"].as_str().unwrap().contains("released"));
}

#[tokio::test]
async fn the_console_releases_a_box_only_for_operators_of_its_region() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let router = headend::app(db.clone());
    let released = |db: &Db| {
        db.devices(&DONGPO.parse().unwrap())
            .unwrap()
            .into_iter()
            .find(|d| d.device == "demo-box")
            .unwrap()
            .released_at
    };
    let path = "/console/devices/demo-box/release";

    account(&db, "liuxi-operator", LIUXI_TOWN, Role::Operator);
    let liuxi =
        console::Console::login(&router, "liuxi-operator", PASSWORD, "/console/devices").await;
    let page = liuxi.post(path, &[("reason", "搬到柳林村")]).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(released(&db).is_none());

    account(&db, "qingshi-operator", "990101101000", Role::Operator);
    let staff = console::Console::login(
        &router,
        "qingshi-operator",
        PASSWORD,
        "/console/devices/demo-box",
    )
    .await;
    let page = staff.post(path, &[("reason", " ")]).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(
        page.text_of("release-reason-error").unwrap(),
        "请写明释放原因"
    );
    assert!(released(&db).is_none());
    let done = staff.post(path, &[("reason", "搬到柳林村")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(released(&db).is_some());
    let detail = staff.get("/console/devices/demo-box").await;
    assert!(detail.body.contains("释放时间"), "{}", detail.body);
}

#[test]
fn a_box_is_provisioned_again_in_its_own_region_without_its_token() {
    // The installer's usual case: the box lost its identity (flashed
    // again) and gets a new code for its own village or town.
    let (_dir, _db, server) = demo();
    let (device, token) = dongpo_box(&server);
    let code = code_for(&server, "990101101000");
    let (status, again) = provision(&server, None, DONGPO, &code, Some(&device));
    assert_eq!(status, 201, "{again}");
    assert_eq!(household_status(&server, &device, &token), 401);
    let rebind = audit_with(&server, "provision.rebind");
    assert_eq!(rebind.len(), 1);
    assert!(rebind[0]["detail"].as_str().unwrap().contains("region"));
}
