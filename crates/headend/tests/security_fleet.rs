//! Issue 19, the fleet as an attacker on the cable network sees it: taking
//! over another region's box with an installer code, guessing codes from
//! one address or many, aiming a good code at the wrong village, reading
//! codes back from a stolen database, keeping a push stream after the box
//! was re-provisioned, opening push streams without end, and pointing a
//! box at another headend. Each test asserts the refusal, the audit row
//! and that nothing changed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{call, call_as, call_from, json, login, Sse};
use headend::db::{NewAccount, Role};
use headend::{push::now_ms, seed, Db, ServeOptions, TestServer};
use serde_json::{json, Value};

const DONGPO: &str = "990101101001";
const LIULIN: &str = "990101102001";
const LIUXI_TOWN: &str = "990101102000";
const PASSWORD: &str = "correct-horse-42";

fn demo_with(options: ServeOptions) -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("headend.db")).unwrap());
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

fn account(db: &Db, username: &str, region: &str, role: Role) {
    db.create_account(
        &NewAccount {
            username: username.into(),
            display_name: username.into(),
            region: region.parse().unwrap(),
            role,
            password: PASSWORD.into(),
        },
        None,
        0,
    )
    .unwrap();
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

// Finding 2: installer codes cannot be guessed, sprayed or read back.

#[test]
fn wrong_codes_from_one_address_are_told_to_wait() {
    let (_dir, _db, server) = demo();
    let good = code_for(&server, DONGPO);
    let attacker = "127.0.0.2";
    let mut refusals = 0;
    let throttled = loop {
        let guess = format!("{:08}", 10_000_000 + refusals * 7_919);
        let answer = provision_from(&server, attacker, None, DONGPO, &guess, None);
        if answer.status == 429 {
            break answer;
        }
        assert_eq!(answer.json()["code"], "code_unknown", "{}", answer.body);
        refusals += 1;
        assert!(refusals <= 50, "never throttled");
    };
    assert!(refusals >= 3, "throttled after {refusals} guesses");
    assert_eq!(throttled.json()["code"], "provision_throttled");
    let wait: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    // Even the right code waits from there…
    let answer = provision_from(&server, attacker, None, DONGPO, &good, None);
    assert_eq!(answer.status, 429);
    // …but an installer elsewhere is not held up.
    let answer = provision_from(&server, "127.0.0.3", None, DONGPO, &good, None);
    assert_eq!(answer.status, 201, "{}", answer.body);

    let throttles = audit_with(&server, "provision_throttled");
    assert!(!throttles.is_empty());
    assert_eq!(throttles[0]["ip"], attacker);
    assert_eq!(
        audit_with(&server, "provision_refused").len(),
        refusals as usize
    );
}

#[test]
fn guesses_spread_over_many_addresses_still_hit_the_code_prefix_limit() {
    let (_dir, _db, server) = demo();
    let good = code_for(&server, DONGPO);
    // Guesses that share three leading digits the good code does not have.
    let prefix = if good.starts_with("123") {
        "456"
    } else {
        "123"
    };
    let mut sent = 0;
    let mut throttled = None;
    'spray: for host in 10..60 {
        let source = format!("127.0.0.{host}");
        // Few enough from each address that no address limit trips.
        for _ in 0..3 {
            let guess = format!("{prefix}{:05}", sent * 37);
            let answer = provision_from(&server, &source, None, DONGPO, &guess, None);
            if answer.status == 429 {
                throttled = Some(answer);
                break 'spray;
            }
            assert_eq!(answer.status, 403, "{}", answer.body);
            sent += 1;
        }
    }
    let throttled = throttled.expect("the prefix was never throttled");
    assert_eq!(throttled.json()["code"], "provision_throttled");
    assert!(throttled.header("retry-after").is_some());
    // The good code, from a fresh address, is not affected.
    let answer = provision_from(&server, "127.0.0.99", None, DONGPO, &good, None);
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[test]
fn every_attempt_is_audited_with_the_code_prefix_only() {
    let (_dir, _db, server) = demo();
    let code = code_for(&server, DONGPO);
    let (status, new_box) = provision(&server, None, DONGPO, &code, None);
    assert_eq!(status, 201);
    let (status, _) = provision(&server, None, DONGPO, &code, None);
    assert_eq!(status, 403);
    let (status, _) = provision(&server, None, DONGPO, "87654321", None);
    assert_eq!(status, 403);
    // A village that does not exist is filed under its town, to be seen.
    let (status, _) = provision(&server, None, "990101101099", "11223344", None);
    assert_eq!(status, 404);

    let ok = audit_with(&server, "provision");
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert_eq!(ok[0]["target"], new_box["device"]);
    assert_eq!(ok[0]["region"], DONGPO);
    assert_eq!(ok[0]["outcome"], "ok");
    assert_eq!(ok[0]["ip"], "127.0.0.1");
    assert!(ok[0]["detail"].as_str().unwrap().contains(&code[..3]));
    let refused = audit_with(&server, "provision_refused");
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused[0]["detail"]
        .as_str()
        .unwrap()
        .contains("village_unknown"));
    assert_eq!(refused[0]["region"], "990101101000");
    assert!(refused[1]["detail"]
        .as_str()
        .unwrap()
        .contains("code_unknown"));
    assert!(refused[2]["detail"].as_str().unwrap().contains("code_used"));
    let text = serde_json::to_string(&audit(&server)).unwrap();
    assert!(!text.contains(&code), "the whole code is in the log");
    assert!(!text.contains("87654321"), "the whole guess is in the log");
    assert!(!text.contains("11223344"), "the whole guess is in the log");
}

#[test]
fn a_code_aimed_at_wrong_villages_is_locked() {
    let (_dir, _db, server) = demo();
    let code = code_for(&server, DONGPO);
    for _ in 0..3 {
        let (status, refused) = provision(&server, None, LIULIN, &code, None);
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("code_outside_region"))
        );
    }
    // Now even its own village is refused: ask for a new code.
    let (status, locked) = provision(&server, None, DONGPO, &code, None);
    assert_eq!(
        (status, locked["code"].as_str()),
        (403, Some("code_locked"))
    );
    let (_, list) = json(
        server.addr,
        "GET",
        &format!("/api/v1/admin/devices?region={DONGPO}"),
        Value::Null,
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| !d["device"].as_str().unwrap().starts_with("box-")),
        "{list}"
    );
    let refused = audit_with(&server, "provision_refused");
    assert!(refused[0]["detail"]
        .as_str()
        .unwrap()
        .contains("code_locked"));
}

/// SHA-256 of `text` as lowercase hex.
fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn installer_codes_are_stored_keyed_with_a_secret_outside_the_database() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("headend.db");
    let db = Db::open(&path).unwrap();
    seed::seed_demo(&db).unwrap();
    let village = DONGPO.parse().unwrap();
    let code = db
        .issue_installer_code(&village, "test", now_ms() / 1000, 3600)
        .unwrap()
        .code;
    drop(db);

    // The key sits beside the database, readable by its owner only.
    let key = dir.path().join("headend.db.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // A stolen database holds no plain SHA-256 of any code (8 digits
    // would fall to a brute force in seconds).
    let raw = rusqlite::Connection::open(&path).unwrap();
    let stored: Vec<String> = raw
        .prepare("SELECT * FROM installer_codes")
        .unwrap()
        .query_map([], |r| {
            (0..6)
                .map(|i| {
                    r.get_ref(i).map(|v| match v {
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        other => format!("{other:?}"),
                    })
                })
                .collect::<Result<Vec<String>, _>>()
        })
        .unwrap()
        .map(|r| r.unwrap().join(" "))
        .collect();
    drop(raw);
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&sha256_hex(&code)), "{stored:?}");
    assert!(!stored[0].contains(&code), "{stored:?}");

    // Without the key the code is worth nothing: the same database next
    // to a different key does not know it…
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(&path, copy.path().join("headend.db")).unwrap();
    let elsewhere = Db::open(&copy.path().join("headend.db")).unwrap();
    assert_eq!(
        elsewhere
            .provision(&village, &code, None, now_ms() / 1000)
            .unwrap()
            .err(),
        Some(headend::db::Refusal::CodeUnknown)
    );
    // …and with it, after a restart, the code still works.
    let db = Db::open(&path).unwrap();
    assert!(db
        .provision(&village, &code, None, now_ms() / 1000)
        .unwrap()
        .is_ok());
}

#[test]
fn a_key_file_named_by_the_operator_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("headend.db");
    let key = dir.path().join("secret").join("installer.key");
    std::fs::create_dir(key.parent().unwrap()).unwrap();
    let db = Db::open_with_key_file(&path, &key).unwrap();
    seed::seed_demo(&db).unwrap();
    let village = DONGPO.parse().unwrap();
    let code = db
        .issue_installer_code(&village, "test", now_ms() / 1000, 3600)
        .unwrap()
        .code;
    drop(db);
    assert!(key.exists());
    assert!(!dir.path().join("headend.db.key").exists());
    let db = Db::open_with_key_file(&path, &key).unwrap();
    assert!(db
        .provision(&village, &code, None, now_ms() / 1000)
        .unwrap()
        .is_ok());
    // A key that is not 32 bytes of hex is refused, not used.
    std::fs::write(&key, "short").unwrap();
    let err = Db::open_with_key_file(&path, &key).err().unwrap();
    assert!(err.to_string().contains("installer.key"), "{err}");
}

#[test]
fn an_old_database_with_sha256_codes_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("headend.db");
    // The device tables as the previous release created them, with one
    // code stored as a plain SHA-256.
    let old = rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(
        "PRAGMA foreign_keys = OFF;
        CREATE TABLE devices(
            device TEXT PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            village TEXT NOT NULL REFERENCES regions(code),
            provisioned_at INTEGER NOT NULL,
            revoked_at INTEGER,
            revoked_reason TEXT,
            heartbeat TEXT,
            heartbeat_at INTEGER);
        CREATE TABLE installer_codes(
            code_sha256 TEXT PRIMARY KEY,
            region TEXT NOT NULL REFERENCES regions(code),
            issued_by TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            used_by TEXT);",
    )
    .unwrap();
    let later = now_ms() / 1000 + 3600;
    old.execute(
        "INSERT INTO installer_codes(code_sha256, region, issued_by, issued_at, expires_at)
         VALUES (?1, ?2, 'old', 0, ?3)",
        rusqlite::params![sha256_hex("24681357"), DONGPO, later],
    )
    .unwrap();
    drop(old);

    let db = Arc::new(Db::open(&path).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    // The old code no longer works (documented); new ones do, and the
    // demo boxes registered into the old table still check out.
    let (status, old_code) = provision(&server, None, DONGPO, "24681357", None);
    assert_eq!(
        (status, old_code["code"].as_str()),
        (403, Some("code_unknown"))
    );
    let (device, token) = dongpo_box(&server);
    assert_eq!(household_status(&server, &device, &token), 200);
    assert_eq!(
        household_status(&server, "demo-box", &common::device_token("demo-box")),
        200
    );
}

// Finding 3: a re-provisioned box's old push stream ends at once.

#[test]
fn a_reprovisioned_box_loses_its_old_push_stream() {
    let (_dir, _db, server) = demo();
    let (device, token) = dongpo_box(&server);
    let events = format!("/api/v1/events?device={device}");
    let mut old = Sse::open_with(server.addr, &events, Some(&token)).unwrap();

    let code = code_for(&server, DONGPO);
    let (status, again) = provision(&server, None, DONGPO, &code, Some(&device));
    assert_eq!(status, 201, "{again}");
    // Had the old stream stayed open, this command would arrive on it.
    let (status, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        json!({ "kind": "show_message", "text": "只给新的机顶盒" }),
    );
    assert_eq!(status, 201);
    assert!(
        old.ended(Duration::from_secs(10)),
        "the old stream stayed open"
    );

    // The new token's stream gets the command.
    let fresh = again["token"].as_str().unwrap();
    let mut new = Sse::open_with(server.addr, &events, Some(fresh)).unwrap();
    let (name, data) = new.next(Duration::from_secs(10)).unwrap();
    assert_eq!(name, "command");
    assert!(data.contains("只给新的机顶盒"));
    assert_eq!(
        Sse::open_with(server.addr, &events, Some(&token)).err(),
        Some(401)
    );
}

// Finding 4: one box holds a bounded number of push streams.

#[test]
fn a_box_cannot_hold_more_than_its_push_streams() {
    let (_dir, _db, server) = demo();
    let (device, token) = dongpo_box(&server);
    let events = format!("/api/v1/events?device={device}");
    let mut first = Sse::open_with(server.addr, &events, Some(&token)).unwrap();
    let mut second = Sse::open_with(server.addr, &events, Some(&token)).unwrap();
    assert_eq!(
        Sse::open_with(server.addr, &events, Some(&token)).err(),
        Some(429)
    );
    let third = call_as(server.addr, Some(&token), "GET", &events, None);
    assert_eq!(third.0, 429, "{}", third.1);
    let third: Value = serde_json::from_str(&third.1).unwrap();
    assert_eq!(third["code"], "too_many_streams");
    // A wrong token takes no slot and gets no stream.
    assert_eq!(
        Sse::open_with(server.addr, &events, Some("forged")).err(),
        Some(401)
    );

    // The two held streams still work.
    let (status, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        json!({ "kind": "resync" }),
    );
    assert_eq!(status, 201);
    assert_eq!(first.next(Duration::from_secs(10)).unwrap().0, "command");
    assert_eq!(second.next(Duration::from_secs(10)).unwrap().0, "command");

    // Once the box is provisioned again its old streams end and free
    // their places for the new token.
    let code = code_for(&server, DONGPO);
    let (_, again) = provision(&server, None, DONGPO, &code, Some(&device));
    assert!(first.ended(Duration::from_secs(10)));
    assert!(second.ended(Duration::from_secs(10)));
    let fresh = again["token"].as_str().unwrap();
    let _a = Sse::open_with(server.addr, &events, Some(fresh)).unwrap();
    let _b = Sse::open_with(server.addr, &events, Some(fresh)).unwrap();
}

#[test]
fn the_push_stream_limit_is_an_option() {
    let mut options = ServeOptions::default();
    options.limits.max_push_per_device = 1;
    let (_dir, _db, server) = demo_with(options);
    let events = "/api/v1/events?device=demo-box";
    let _held = Sse::open(server.addr, events).unwrap();
    assert_eq!(Sse::open(server.addr, events).err(), Some(429));
    // Another box is not affected.
    let _other = Sse::open(server.addr, "/api/v1/events?device=demo-box-2").unwrap();
}

// Finding 5: a box is pointed at another headend only on the allow-list.

fn send_command(server: &TestServer, device: &str, command: Value) -> (u16, Value) {
    json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        command,
    )
}

#[test]
fn set_config_cannot_point_a_box_at_an_unlisted_headend() {
    let allowed = "https://headend-b.qingshan.example";
    let options = ServeOptions {
        headend_url_allow_list: vec![allowed.to_string()],
        ..ServeOptions::default()
    };
    let (_dir, _db, server) = demo_with(options);
    let mut push = Sse::open(server.addr, "/api/v1/events?device=demo-box").unwrap();

    for evil in [
        "http://10.6.6.6:8080",
        "https://headend-b.qingshan.example/",
        "https://headend-b.qingshan.example.evil.cn",
    ] {
        let (status, refused) = send_command(
            &server,
            "demo-box",
            json!({ "kind": "set_config", "key": "headend_url", "value": evil }),
        );
        assert_eq!(status, 403, "{evil}: {refused}");
        assert!(
            refused["message"].as_str().unwrap().contains("allow"),
            "{refused}"
        );
    }
    // Nothing was queued or pushed: the next thing the box hears is this.
    let (status, _) = send_command(&server, "demo-box", json!({ "kind": "resync" }));
    assert_eq!(status, 201);
    let (_, data) = push.next(Duration::from_secs(10)).unwrap();
    assert!(data.contains("resync"), "{data}");
    let (_, commands) = json(
        server.addr,
        "GET",
        "/api/v1/admin/devices/demo-box/commands",
        Value::Null,
    );
    assert_eq!(commands.as_array().unwrap().len(), 1, "{commands}");

    // A listed address and other settings go through.
    let (status, sent) = send_command(
        &server,
        "demo-box",
        json!({ "kind": "set_config", "key": "headend_url", "value": allowed }),
    );
    assert_eq!(status, 201, "{sent}");
    let (status, _) = send_command(
        &server,
        "demo-box",
        json!({ "kind": "set_config", "key": "poll_interval_secs", "value": "30" }),
    );
    assert_eq!(status, 201);

    // Each refusal and the allowed change are in the log, with the URL.
    let target = "/api/v1/admin/devices/demo-box/commands";
    let log: Vec<Value> = audit(&server)
        .into_iter()
        .filter(|e| e["target"] == target)
        .collect();
    let refused: Vec<&Value> = log.iter().filter(|e| e["outcome"] == "refused").collect();
    assert_eq!(refused.len(), 3, "{log:?}");
    assert!(refused.iter().any(|e| e["detail"]
        .as_str()
        .unwrap()
        .contains("http://10.6.6.6:8080")));
    let changed = log
        .iter()
        .find(|e| {
            e["outcome"] == "ok"
                && e["after_id"]
                    .as_str()
                    .is_some_and(|a| a.contains("headend_url") && a.contains(allowed))
        })
        .unwrap_or_else(|| panic!("no audit row for the change: {log:?}"));
    assert_eq!(changed["account"], seed::DEMO_ADMIN.0);
}

#[test]
fn without_an_allow_list_the_headend_url_is_not_changed_remotely() {
    let (_dir, _db, server) = demo();
    let (status, refused) = send_command(
        &server,
        "demo-box",
        json!({ "kind": "set_config", "key": " headend_url ", "value": "http://127.0.0.1:9" }),
    );
    assert_eq!(status, 403, "{refused}");
    let (_, commands) = json(
        server.addr,
        "GET",
        "/api/v1/admin/devices/demo-box/commands",
        Value::Null,
    );
    assert_eq!(commands.as_array().unwrap().len(), 0, "{commands}");
}
