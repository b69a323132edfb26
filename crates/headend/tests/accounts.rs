//! Staff accounts on the real server: logging in (Argon2id, sessions,
//! lock-out), accounts managed within one's subtree, and the append-only
//! audit log. The permission matrix (every admin endpoint x every role x a
//! target inside and outside the account's region) is in
//! tests/permission_matrix.rs.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use common::{call, call_as, login};
use headend::db::sql::{params, Sql};
use headend::db::{NewAccount, Role, MAX_FAILED_LOGINS};
use headend::{seed, Db, TestServer};
use serde_json::json;

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const DONGPO: &str = "990101101001";
const PASSWORD: &str = "correct-horse-42";

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
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
    let (_, stored) = stored_hash(&db, "dongpo-clerk");
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
fn stored_hash(db: &Db, username: &str) -> (String, String) {
    let conn = db.raw().unwrap();
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM accounts WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .unwrap();
    (username.to_string(), hash)
}

#[test]
fn admins_manage_accounts_only_in_their_subtree_and_the_audit_log_cannot_be_changed() {
    let (_dir, db, server) = demo();
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
    // Not even SQL on the database can rewrite it.
    let conn = db.raw().unwrap();
    let update = conn.execute("UPDATE audit SET outcome = 'ok'", params![]);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(conn.execute("DELETE FROM audit", params![]).is_err());
}
