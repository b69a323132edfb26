//! Finding 2: installer codes cannot be guessed from one address or
//! many, aimed at the wrong village, or read back from a stolen database;
//! every attempt is audited with the code's first digits only.

use std::sync::Arc;

use headend::{push::now_ms, seed, Db, TestServer};
use serde_json::Value;

use super::{
    audit, audit_with, code_for, common, demo, dongpo_box, household_status, json, provision,
    provision_from, DONGPO, LIULIN,
};

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
