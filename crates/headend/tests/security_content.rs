//! Issue 19, content and households, as an attacker on the real server:
//! a box claims members of another household. It is refused, logged, and
//! leaves nothing changed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{call_as, get_json, json, login};
use headend::db::{NewAccount, Role};
use headend::{seed, Db, TestServer};
use serde_json::{json, Value};

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";
const PASSWORD: &str = "correct-horse-42";

struct Site {
    _dir: tempfile::TempDir,
    db: Arc<Db>,
    server: TestServer,
    tokens: HashMap<&'static str, String>,
}

impl Site {
    /// The demo with one account per (name, region, role) below, logged in.
    fn start() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(&dir.path().join("headend.db")).unwrap());
        seed::seed_demo(&db).unwrap();
        let accounts = [
            ("dongpo-editor", DONGPO, Role::Editor),
            ("dongpo-reviewer", DONGPO, Role::Reviewer),
            ("dongpo-operator", DONGPO, Role::Operator),
            ("hewan-operator", HEWAN, Role::Operator),
            ("qingshi-editor", QINGSHI, Role::Editor),
            ("qingshi-reviewer", QINGSHI, Role::Reviewer),
            ("county-reviewer", COUNTY, Role::Reviewer),
        ];
        for (name, region, role) in accounts {
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
        let tokens = accounts
            .iter()
            .map(|(name, _, _)| (*name, login(server.addr, name, PASSWORD).unwrap()))
            .collect();
        Site {
            _dir: dir,
            db,
            server,
            tokens,
        }
    }

    /// A request as account `who`.
    fn as_(&self, who: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
        let body = (!body.is_null()).then(|| body.to_string());
        let (code, text) = call_as(
            self.server.addr,
            Some(&self.tokens[who]),
            method,
            path,
            body.as_deref(),
        );
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A box in `village` with the demo token, its household `members`.
    fn add_box(&self, device: &str, village: &str, members: &[&str]) {
        let members: Vec<String> = members.iter().map(|m| m.to_string()).collect();
        self.db
            .set_household(device, &village.parse().unwrap(), &members)
            .unwrap();
        self.db
            .register_device(
                device,
                &village.parse().unwrap(),
                &common::device_token(device),
                0,
            )
            .unwrap();
    }

    /// One outbox item from `device`; the headend's answer to it.
    fn submit(&self, device: &str, key: &str, kind: &str, payload: Value) -> Value {
        let (code, answer) = json(
            self.server.addr,
            "POST",
            "/api/v1/submissions",
            json!({ "device": device, "items": [{ "key": key, "kind": kind, "payload": payload }] }),
        );
        assert_eq!(code, 200, "{answer}");
        answer[0].clone()
    }

    /// Audit entries (newest first) as the county admin sees them.
    fn audit(&self) -> Vec<Value> {
        let (code, log) = get_json(self.server.addr, "/api/v1/admin/audit?limit=1000");
        assert_eq!(code, 200, "{log}");
        log.as_array().unwrap().clone()
    }
}

#[test]
fn a_box_cannot_claim_members_of_another_household() {
    let s = Site::start();
    let addr = s.server.addr;
    s.add_box("intruder-box", DONGPO, &[]);
    let claim = |members: Value| {
        json(
            addr,
            "PUT",
            "/api/v1/devices/intruder-box/members",
            json!({ "members": members }),
        )
    };

    // 王建国 (dongpo-01) lives where demo-box is.
    let (code, refused) = claim(json!(["dongpo-01", "dongpo-05"]));
    assert_eq!(code, 409, "{refused}");
    assert_eq!(refused["code"], "member_in_other_household");
    let household = |device: &str| {
        let (_, h) = get_json(addr, &format!("/api/v1/devices/{device}/household"));
        h["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(household("intruder-box"), Vec::<String>::new());
    assert_eq!(household("demo-box"), ["dongpo-01", "dongpo-02"]);
    // So the box cannot act as him.
    let paper = json!({ "exam": headend::seed_services::DEMO_EXAM, "member": "dongpo-01",
                        "answers": [ { "question": "dz-01", "choices": [1] } ] });
    assert_eq!(
        s.submit("intruder-box", "x1", "exam", paper)["result"],
        "rejected"
    );
    let log = s.audit();
    let entry = log
        .iter()
        .find(|e| e["action"] == "household.claim" && e["target"] == "box intruder-box")
        .unwrap_or_else(|| panic!("{log:?}"));
    assert_eq!(entry["outcome"], "refused", "{entry}");
    assert_eq!(entry["region"], DONGPO);
    assert!(entry["detail"].as_str().unwrap().contains("dongpo-01"));

    // Members nobody else has are its to name.
    let (code, h) = claim(json!(["dongpo-05"]));
    assert_eq!(code, 200, "{h}");
    assert_eq!(household("intruder-box"), ["dongpo-05"]);

    // The claim waits for an operator of the village; another village's
    // operator and 东坡村's editor cannot confirm it.
    let (code, claims) = s.as_(
        "dongpo-operator",
        "GET",
        &format!("/api/v1/admin/household-claims?region={DONGPO}"),
        Value::Null,
    );
    assert_eq!(code, 200, "{claims}");
    let open: Vec<&Value> = claims
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["confirmed_at"].is_null())
        .collect();
    assert_eq!(open.len(), 1, "{claims}");
    assert_eq!(
        (&open[0]["member"], &open[0]["held_by"]),
        (&json!("dongpo-01"), &json!("demo-box"))
    );
    let confirm = format!("/api/v1/admin/household-claims/{}/confirm", open[0]["id"]);
    assert_eq!(
        s.as_("hewan-operator", "POST", &confirm, Value::Null).0,
        403
    );
    assert_eq!(s.as_("dongpo-editor", "POST", &confirm, Value::Null).0, 403);
    assert_eq!(household("demo-box"), ["dongpo-01", "dongpo-02"]);
    let (code, moved) = s.as_("dongpo-operator", "POST", &confirm, Value::Null);
    assert_eq!(code, 200, "{moved}");
    assert_eq!(household("intruder-box"), ["dongpo-01", "dongpo-05"]);
    assert_eq!(household("demo-box"), ["dongpo-02"]);
    assert_eq!(
        s.as_("dongpo-operator", "POST", &confirm, Value::Null).0,
        400
    );
    let log = s.audit();
    assert!(
        log.iter().any(|e| e["account"] == "dongpo-operator"
            && e["outcome"] == "ok"
            && e["before_id"] == "dongpo-01 in demo-box"
            && e["after_id"] == "dongpo-01 in intruder-box"),
        "{log:?}"
    );
    assert!(log
        .iter()
        .any(|e| e["account"] == "hewan-operator" && e["outcome"] == "refused"));
}
