//! Findings 3 to 5: a re-provisioned box's old push streams end at once,
//! a box holds a bounded number of them, and a box is pointed at another
//! headend only when the address is on the operator's allow-list.

use std::time::Duration;

use headend::{seed, ServeOptions, TestServer};
use serde_json::{json, Value};

use super::common::json;
use super::{audit, call_as, code_for, demo, demo_with, dongpo_box, provision, Sse, DONGPO};

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
