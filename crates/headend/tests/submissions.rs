//! Box submissions through the real server: a burst from many boxes at once
//! is group-committed, and every sign-in is answered and stored exactly
//! once; resends are duplicates; one bad item in a batch does not spoil the
//! others; an unknown box (no device token) stores nothing.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use common::{call, json};
use headend::{push::now_ms, seed, seed_meetings, Db, TestServer};
use serde_json::json;

const BOXES: usize = 300;

fn signin(n: usize, rollcall: &str, key: &str) -> serde_json::Value {
    json!({
        "device": format!("bench-box-{n}"),
        "items": [{ "key": key, "kind": "signin",
                    "payload": { "rollcall": rollcall, "member": format!("bench-m-{n}"), "elapsed_ms": 1500 } }],
    })
}

#[test]
fn a_burst_of_sign_ins_is_stored_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_test(dir.path()).unwrap();
    let (regions, _) = seed::demo_content();
    for r in &regions {
        db.upsert_region(r).unwrap();
    }
    seed::seed_admin(&db).unwrap();
    let meeting = seed_meetings::seed_bench_boxes(&db, BOXES, now_ms() / 1000).unwrap();
    let server = TestServer::start(Arc::new(db), "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.addr;
    let (code, rc) = json(
        addr,
        "POST",
        &format!("/api/v1/admin/meetings/{meeting}/rollcalls"),
        json!({ "window_secs": 120 }),
    );
    assert_eq!(code, 201, "{rc}");
    let rollcall = rc["id"].as_str().unwrap().to_string();

    // Every box at once, each sending its sign-in twice (a lost reply).
    let threads: Vec<_> = (0..BOXES)
        .map(|n| {
            let rollcall = rollcall.clone();
            std::thread::spawn(move || {
                let body = signin(n, &rollcall, &format!("k-{n}"));
                let first = json(addr, "POST", "/api/v1/submissions", body.clone());
                let again = json(addr, "POST", "/api/v1/submissions", body);
                (first, again)
            })
        })
        .collect();
    for t in threads {
        let ((c1, a1), (c2, a2)) = t.join().unwrap();
        assert_eq!((c1, c2), (200, 200), "{a1} {a2}");
        assert_eq!(a1[0]["result"], "accepted", "{a1}");
        assert_eq!(a1[0]["status"], "present", "{a1}");
        assert_eq!(a2[0]["result"], "duplicate", "{a2}");
        assert_eq!(a2[0]["status"], "present", "{a2}");
    }
    let (code, rows) = common::get_json(
        addr,
        &format!("/api/v1/admin/rollcalls/{rollcall}/attendance"),
    );
    assert_eq!(code, 200);
    assert_eq!(rows["invited"], BOXES);
    assert_eq!(rows["present"], BOXES, "{rows}");

    // A batch with one good, one malformed and one unknown-kind item.
    let (code, mixed) = json(
        addr,
        "POST",
        "/api/v1/submissions",
        json!({ "device": "bench-box-0", "items": [
            { "key": "k-0", "kind": "signin", "payload": { "rollcall": rollcall, "member": "bench-m-0", "elapsed_ms": 1 } },
            { "key": "bad", "kind": "signin", "payload": { "member": 7 } },
            { "key": "odd", "kind": "telepathy", "payload": {} },
            { "key": "", "kind": "signin", "payload": {} },
        ]}),
    );
    assert_eq!(code, 200, "{mixed}");
    assert_eq!(mixed[0]["result"], "duplicate");
    assert_eq!(mixed[1]["result"], "rejected");
    assert!(mixed[1]["reason"]
        .as_str()
        .unwrap()
        .contains("malformed sign-in"));
    assert_eq!(mixed[2]["result"], "rejected");
    assert_eq!(mixed[3]["result"], "rejected");

    // An unknown box is refused and nothing of it is stored.
    let (code, body) = call(
        addr,
        "POST",
        "/api/v1/submissions",
        Some(&signin(BOXES + 1, &rollcall, "x").to_string()),
    );
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("device_token"), "{body}");
}
