//! Staff accounts on the real server: logging in (Argon2id, sessions,
//! lock-out), the permission matrix (every admin endpoint x every role x a
//! target inside and outside the account's region), and the append-only
//! audit log.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use common::{call, call_as, login};
use headend::db::{NewAccount, Role, MAX_FAILED_LOGINS};
use headend::seed_services::{DEMO_EXAM, TOWN_EVALUATION};
use headend::{seed, Db, TestServer};
use serde_json::json;

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";
const PASSWORD: &str = "correct-horse-42";

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("headend.db")).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    (dir, db, server)
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

#[test]
fn login_gives_an_expiring_session_and_repeated_failures_lock_the_account() {
    let (_dir, db, server) = demo();
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    let addr = server.addr;

    // Nothing admin without a session.
    let (code, body) = call_as(addr, None, "GET", "/api/v1/admin/me", None);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("log in first"));
    let (code, _) = call_as(addr, Some("forged"), "GET", "/api/v1/admin/me", None);
    assert_eq!(code, 401);

    // The API's login is below; this session comes straight from the
    // database (no address), so this test's address stays one the account
    // never logged in from, which is what the lock-out binds.
    let token = db
        .login("dongpo-clerk", PASSWORD, "", headend::push::now_ms() / 1000)
        .unwrap()
        .unwrap()
        .token;
    let (code, me) = call_as(addr, Some(&token), "GET", "/api/v1/admin/me", None);
    assert_eq!(code, 200);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["role"], "editor");
    assert_eq!(me["region"], DONGPO);
    assert!(!me.to_string().contains("argon2"), "no hash leaves: {me}");
    // The stored hash is Argon2id with OWASP's parameters.
    let (_, stored) = stored_hash(&_dir, "dongpo-clerk");
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );

    // Same answer for a wrong password and an unknown user.
    let wrong = login(addr, "dongpo-clerk", "not-the-password").unwrap_err();
    let unknown = login(addr, "nobody-here", "not-the-password").unwrap_err();
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown);

    // Five wrong in a row lock it, even against the right password. The
    // refusal reads like a wrong password, so nobody learns it is locked.
    for _ in 1..MAX_FAILED_LOGINS {
        let _ = login(addr, "dongpo-clerk", "not-the-password");
    }
    let locked = login(addr, "dongpo-clerk", PASSWORD).unwrap_err();
    assert_eq!(locked, wrong, "{locked:?}");
    // A session opened before still works until it expires or is ended.
    assert_eq!(
        call_as(addr, Some(&token), "GET", "/api/v1/admin/me", None).0,
        200
    );
    let (code, _) = call_as(addr, Some(&token), "POST", "/api/v1/admin/logout", None);
    assert_eq!(code, 204);
    assert_eq!(
        call_as(addr, Some(&token), "GET", "/api/v1/admin/me", None).0,
        401
    );
    // An expired session is refused.
    let session = db
        .login("qingshan-admin", "dangjian-demo", "", 0)
        .unwrap()
        .unwrap();
    assert!(db
        .session_account(&session.token, session.expires_at)
        .unwrap()
        .is_none());

    // Logins, failures and the lock-out are in the audit log.
    let (code, log) = call(
        addr,
        "GET",
        "/api/v1/admin/audit?account=dongpo-clerk",
        None,
    );
    assert_eq!(code, 200, "{log}");
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "login_failed").count(),
        MAX_FAILED_LOGINS as usize,
        "each password checked"
    );
    assert!(actions.contains(&"login_locked"), "{actions:?}");
    // (A login that works is logged too: the demo admin's, through `call`.)
    let (_, log) = call(
        addr,
        "GET",
        "/api/v1/admin/audit?account=qingshan-admin",
        None,
    );
    assert!(log.contains("\"action\":\"login\""), "{log}");
}

/// The hash as stored (the API never shows it), read from the file.
fn stored_hash(dir: &tempfile::TempDir, username: &str) -> (String, String) {
    let conn = rusqlite::Connection::open(dir.path().join("headend.db")).unwrap();
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM accounts WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .unwrap();
    (username.to_string(), hash)
}

/// One admin request: method, path, body; what it needs; where its target
/// lives (`inside` for an account of 东坡村 or 青石镇, `outside` for 河湾村).
struct Case {
    method: &'static str,
    path: String,
    body: Option<String>,
    needs: Needs,
}

#[derive(Clone, Copy, PartialEq)]
enum Needs {
    View,
    Edit,
    Operate,
    Accounts,
}

fn allowed(role: Role, needs: Needs) -> bool {
    match needs {
        Needs::View => true,
        Needs::Edit => matches!(role, Role::Admin | Role::Editor),
        Needs::Operate => matches!(role, Role::Admin | Role::Operator),
        Needs::Accounts => role == Role::Admin,
    }
}

/// Every region-scoped admin endpoint, aimed at `village`.
fn cases(village: &str, meeting: &str, rollcall: &str, request: i64) -> Vec<Case> {
    let branch = headend::seed_meetings::branch_id(village);
    let member = format!("m-{village}");
    let c = |method, path: String, body: Option<serde_json::Value>, needs| Case {
        method,
        path,
        body: body.map(|b| b.to_string()),
        needs,
    };
    vec![
        c(
            "PUT",
            format!("/api/v1/admin/branches/{branch}"),
            Some(json!({"name": "支部", "region": village})),
            Needs::Operate,
        ),
        c(
            "PUT",
            format!("/api/v1/admin/members/{member}"),
            Some(json!({"name": "测试", "branch": branch})),
            Needs::Operate,
        ),
        c(
            "GET",
            format!("/api/v1/admin/members/{member}/attendance"),
            None,
            Needs::View,
        ),
        c(
            "PUT",
            format!("/api/v1/admin/households/box-{village}"),
            Some(json!({"village": village, "members": [member]})),
            Needs::Operate,
        ),
        c(
            "POST",
            "/api/v1/admin/meetings".into(),
            Some(
                json!({"kind": "party_lesson", "title": "党课", "branches": [branch], "starts_at": 1_900_000_000i64, "ends_at": 1_900_003_600i64, "rollcalls": []}),
            ),
            Needs::Operate,
        ),
        c(
            "GET",
            format!("/api/v1/admin/meetings/{meeting}"),
            None,
            Needs::View,
        ),
        c(
            "POST",
            format!("/api/v1/admin/meetings/{meeting}/rollcalls"),
            Some(json!({"window_secs": 60})),
            Needs::Operate,
        ),
        c(
            "GET",
            format!("/api/v1/admin/meetings/{meeting}/attendance"),
            None,
            Needs::View,
        ),
        c(
            "GET",
            format!("/api/v1/admin/rollcalls/{rollcall}/attendance"),
            None,
            Needs::View,
        ),
        c(
            "GET",
            format!("/api/v1/admin/attendance/rates?region={village}"),
            None,
            Needs::View,
        ),
        c(
            "PUT",
            format!("/api/v1/admin/service-menus/{village}"),
            Some(serde_json::to_value(model::ServiceMenu::standard()).unwrap()),
            Needs::Edit,
        ),
        c(
            "GET",
            format!("/api/v1/admin/service-requests?region={village}"),
            None,
            Needs::View,
        ),
        c(
            "GET",
            format!("/api/v1/admin/service-requests/counts?region={village}"),
            None,
            Needs::View,
        ),
        c(
            "GET",
            format!("/api/v1/admin/service-requests/{request}"),
            None,
            Needs::View,
        ),
        c(
            "POST",
            format!("/api/v1/admin/service-requests/{request}/assign"),
            Some(json!({"assignee": "值班员"})),
            Needs::Operate,
        ),
        c(
            "POST",
            "/api/v1/admin/questionnaires".into(),
            Some(
                json!({"scope": village, "title": "评议", "target": "village_committee", "target_name": "两委", "opens_at": 0, "closes_at": 4_000_000_000i64, "questions": [{"id": "q1", "text": "满意吗", "type": "rating"}]}),
            ),
            Needs::Edit,
        ),
        c(
            "GET",
            format!("/api/v1/admin/questionnaires/{TOWN_EVALUATION}/results?region={village}"),
            None,
            Needs::View,
        ),
        c(
            "POST",
            "/api/v1/admin/exams".into(),
            Some(
                json!({"scope": village, "title": "小测", "time_limit_s": 60, "opens_at": 0, "closes_at": 4_000_000_000i64, "questions": ["dz-01"]}),
            ),
            Needs::Edit,
        ),
        c(
            "GET",
            format!("/api/v1/admin/devices?region={village}"),
            None,
            Needs::View,
        ),
        c(
            "POST",
            "/api/v1/admin/installer-codes".into(),
            Some(json!({"region": village})),
            Needs::Operate,
        ),
        c(
            "GET",
            format!("/api/v1/admin/devices/box-{village}/commands"),
            None,
            Needs::View,
        ),
        c(
            "POST",
            format!("/api/v1/admin/devices/box-{village}/commands"),
            Some(json!({"kind": "resync"})),
            Needs::Operate,
        ),
        c(
            "POST",
            format!("/api/v1/admin/devices/box-{village}/revoke"),
            Some(json!({"reason": "测试"})),
            Needs::Operate,
        ),
        c(
            "POST",
            "/api/v1/admin/accounts".into(),
            Some(
                json!({"username": format!("new-{village}"), "display_name": "新", "region": village, "role": "viewer", "password": PASSWORD}),
            ),
            Needs::Accounts,
        ),
    ]
}

#[test]
fn every_admin_endpoint_checks_role_and_region_and_logs_refusals() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    // Targets in both villages: a member, a household, a meeting with an
    // open roll-call, a service request.
    let mut meetings = Vec::new();
    let mut requests = Vec::new();
    for village in [DONGPO, HEWAN] {
        let branch = headend::seed_meetings::branch_id(village);
        let member = format!("m-{village}");
        assert_eq!(
            call(
                addr,
                "PUT",
                &format!("/api/v1/admin/members/{member}"),
                Some(&json!({"name": "测试", "branch": branch}).to_string())
            )
            .0,
            200
        );
        let (code, m) = call(
            addr,
            "POST",
            "/api/v1/admin/meetings",
            Some(
                &json!({"kind": "members_assembly", "title": "大会", "branches": [branch],
                "starts_at": 1_900_000_000i64, "ends_at": 1_900_003_600i64, "rollcalls": []})
                .to_string(),
            ),
        );
        assert_eq!(code, 201, "{m}");
        let m: serde_json::Value = serde_json::from_str(&m).unwrap();
        let id = m["id"].as_str().unwrap().to_string();
        let (code, rc) = call(
            addr,
            "POST",
            &format!("/api/v1/admin/meetings/{id}/rollcalls"),
            Some("{}"),
        );
        assert_eq!(code, 201, "{rc}");
        let rc: serde_json::Value = serde_json::from_str(&rc).unwrap();
        meetings.push((id, rc["id"].as_str().unwrap().to_string()));
        let device = format!("box-{village}");
        call(
            addr,
            "PUT",
            &format!("/api/v1/admin/households/{device}"),
            Some(&json!({"village": village, "members": [member]}).to_string()),
        );
        db.register_device(
            &device,
            &village.parse().unwrap(),
            &common::device_token(&device),
            0,
        )
        .unwrap();
        let (code, _) = call(
            addr,
            "POST",
            "/api/v1/submissions",
            Some(
                &json!({"device": device, "items": [{"key": "r1", "kind": "service_request",
                "payload": {"category": "agri", "phone": "13812345678"}}]})
                .to_string(),
            ),
        );
        assert_eq!(code, 200);
    }
    for village in [DONGPO, HEWAN] {
        let (_, inbox) = call(
            addr,
            "GET",
            &format!("/api/v1/admin/service-requests?region={village}"),
            None,
        );
        let inbox: serde_json::Value = serde_json::from_str(&inbox).unwrap();
        requests.push(inbox[0]["id"].as_i64().unwrap());
    }

    // One account per role in 东坡村; its own village is inside, 河湾村 outside.
    let mut checked = 0;
    for role in Role::ALL {
        let username = format!("dongpo-{}", role.as_str());
        account(&db, &username, DONGPO, role);
        let token = login(addr, &username, PASSWORD).unwrap();
        for (i, village) in [DONGPO, HEWAN].into_iter().enumerate() {
            let inside = village == DONGPO;
            let (meeting, rollcall) = &meetings[i];
            for case in cases(village, meeting, rollcall, requests[i]) {
                let (code, body) = call_as(
                    addr,
                    Some(&token),
                    case.method,
                    &case.path,
                    case.body.as_deref(),
                );
                let expect_ok = inside && allowed(role, case.needs);
                if expect_ok {
                    assert!(
                        (200..300).contains(&code),
                        "{role:?} {} {} inside: {code} {body}",
                        case.method,
                        case.path
                    );
                } else {
                    assert_eq!(
                        code, 403,
                        "{role:?} {} {} (inside: {inside}): {body}",
                        case.method, case.path
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * 2 * 24);

    // Lists only show what is inside.
    let token = login(addr, "dongpo-viewer", PASSWORD).unwrap();
    let (_, list) = call_as(addr, Some(&token), "GET", "/api/v1/admin/meetings", None);
    let list: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    assert!(!list.is_empty());
    assert!(
        list.iter().all(|m| m["id"] != meetings[1].0.as_str()),
        "河湾村's meeting hidden"
    );
    // The bank belongs to the county.
    let (code, _) = call_as(addr, Some(&token), "GET", "/api/v1/admin/questions", None);
    assert_eq!(code, 403);
    assert_eq!(call(addr, "GET", "/api/v1/admin/questions", None).0, 200);
    // An exam's results are read where it was published (the county).
    let (code, _) = call_as(
        addr,
        Some(&token),
        "GET",
        &format!("/api/v1/admin/exams/{DEMO_EXAM}/results"),
        None,
    );
    assert_eq!(code, 403);

    // Every refusal is logged, with who and which region.
    let (_, log) = call(
        addr,
        "GET",
        "/api/v1/admin/audit?account=dongpo-operator&limit=1000",
        None,
    );
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    let refused: Vec<&serde_json::Value> =
        log.iter().filter(|e| e["outcome"] == "refused").collect();
    assert!(refused.iter().any(|e| e["region"] == HEWAN), "{refused:?}");
    assert!(refused.iter().all(|e| e["account"] == "dongpo-operator"));
    let expected_refusals = [DONGPO, HEWAN]
        .iter()
        .map(|v| {
            let (m, r) = &meetings[if *v == DONGPO { 0 } else { 1 }];
            cases(v, m, r, 0)
                .iter()
                .filter(|c| !(*v == DONGPO && allowed(Role::Operator, c.needs)))
                .count()
        })
        .sum::<usize>();
    assert_eq!(refused.len(), expected_refusals, "one entry per refusal");
}

#[test]
fn admins_manage_accounts_only_in_their_subtree_and_the_audit_log_cannot_be_changed() {
    let (dir, db, server) = demo();
    let addr = server.addr;
    account(&db, "qingshi-admin", QINGSHI, Role::Admin);
    let town = login(addr, "qingshi-admin", PASSWORD).unwrap();
    let new = |name: &str, region: &str| {
        json!({"username": name, "display_name": "书记员", "region": region, "role": "editor",
               "password": PASSWORD})
        .to_string()
    };
    let (code, body) = call_as(
        addr,
        Some(&town),
        "POST",
        "/api/v1/admin/accounts",
        Some(&new("dongpo-editor", DONGPO)),
    );
    assert_eq!(code, 201, "{body}");
    // Not above itself, not in another town.
    let (code, _) = call_as(
        addr,
        Some(&town),
        "POST",
        "/api/v1/admin/accounts",
        Some(&new("county-editor", COUNTY)),
    );
    assert_eq!(code, 403);
    let (code, _) = call_as(
        addr,
        Some(&town),
        "POST",
        "/api/v1/admin/accounts",
        Some(&new("liuxi-editor", "990101102001")),
    );
    assert_eq!(code, 403);
    // A short password is refused with the rule.
    let short = json!({"username": "short-pw", "display_name": "x", "region": DONGPO, "role": "viewer", "password": "123"}).to_string();
    let (code, body) = call_as(
        addr,
        Some(&town),
        "POST",
        "/api/v1/admin/accounts",
        Some(&short),
    );
    assert_eq!(code, 400);
    assert!(body.contains("at least 10"), "{body}");

    let (_, list) = call_as(addr, Some(&town), "GET", "/api/v1/admin/accounts", None);
    let list: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    let names: Vec<&str> = list
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["qingshi-admin", "dongpo-editor"],
        "the county admin is not listed to a town"
    );

    // Disabling ends the account's sessions.
    let editor = login(addr, "dongpo-editor", PASSWORD).unwrap();
    let (code, _) = call_as(
        addr,
        Some(&town),
        "POST",
        "/api/v1/admin/accounts/dongpo-editor/disable",
        None,
    );
    assert_eq!(code, 204);
    assert_eq!(
        call_as(addr, Some(&editor), "GET", "/api/v1/admin/me", None).0,
        401
    );
    assert_eq!(login(addr, "dongpo-editor", PASSWORD).unwrap_err().0, 401);
    let (code, _) = call_as(
        addr,
        Some(&town),
        "POST",
        "/api/v1/admin/accounts/qingshan-admin/disable",
        None,
    );
    assert_eq!(code, 403, "not the county's admin");

    // The log has the creation and the disabling, and no API changes it.
    let (_, log) = call(
        addr,
        "GET",
        "/api/v1/admin/audit?account=qingshi-admin",
        None,
    );
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    assert!(log
        .iter()
        .any(|e| e["action"] == "POST /api/v1/admin/accounts" && e["outcome"] == "ok"));
    assert!(log
        .iter()
        .any(|e| e["action"] == "POST /api/v1/admin/accounts/dongpo-editor/disable"));
    for method in ["DELETE", "PUT", "POST", "PATCH"] {
        let (code, _) = call(addr, method, "/api/v1/admin/audit", Some("{}"));
        assert_eq!(code, 405, "{method} on the audit log");
    }
    // Not even SQL on the database file can rewrite it.
    let conn = rusqlite::Connection::open(dir.path().join("headend.db")).unwrap();
    let update = conn.execute("UPDATE audit SET outcome = 'ok'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(conn.execute("DELETE FROM audit", []).is_err());
}
