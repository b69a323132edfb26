//! Issue 19, staff accounts as an attacker on the cable network sees them,
//! on the real server over real HTTP: parallel password guesses, guesses
//! spread over many addresses or many accounts, keeping the county admin
//! locked out, telling accounts apart by their refusals, changing a
//! password with a stolen session, reading the audit list from a town,
//! uploading images without the role, and spreadsheet formulas smuggled
//! into CSV exports.
//!
//! Each attacker is a source address on the loopback network (127.0.0.N),
//! since the headend limits and trusts by address.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[path = "common/attacker.rs"]
mod attacker;

use std::net::SocketAddr;
use std::sync::Arc;

use attacker::*;

use headend::db::{NewAccount, Role, MAX_FAILED_LOGINS};
use headend::{seed, Db, TestServer};
use serde_json::{json, Value};

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const LIUXI: &str = "990101102000";
const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";
const PASSWORD: &str = "correct-horse-42";
const ADMIN: (&str, &str) = seed::DEMO_ADMIN;

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

// ---------------------------------------------------------------------
// 1. The lock-out holds under parallel guesses.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_guesses_are_checked_at_most_max_times_and_the_lock_holds() {
    let (_dir, db, server) = demo();
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    let addr = server.addr;

    // Forty guesses at once, from five addresses (eight each, under the
    // per-address limit, so only the account's lock-out is in play).
    let guesses = (0..40u8).map(|i| {
        let password = format!("guess-number-{i}");
        async move { api_login(addr, 2 + i % 5, "dongpo-clerk", &password).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    for a in &answers {
        assert_eq!(a.status, 401, "{}", a.body);
        assert_eq!(a.body, answers[0].body, "every refusal reads the same");
    }

    // Only MAX_FAILED_LOGINS of them had their password checked; the rest
    // were refused unchecked because the account was (being) locked.
    let admin = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let log = audit(addr, &admin, "&account=dongpo-clerk").await;
    assert_eq!(
        count(&log, "login_failed"),
        MAX_FAILED_LOGINS as usize,
        "{log:#?}"
    );
    assert_eq!(count(&log, "login_locked"), 40 - MAX_FAILED_LOGINS as usize);

    // Locked: the right password from a new address is refused, the same way.
    let right = api_login(addr, 7, "dongpo-clerk", PASSWORD).await;
    assert_eq!((right.status, &right.body), (401, &answers[0].body));
    let list = api(addr, OFFICE, &admin, "GET", "/api/v1/admin/accounts", None).await;
    let clerk = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "dongpo-clerk")
        .cloned()
        .unwrap();
    assert!(
        clerk["locked_until"].as_i64().unwrap() > 0,
        "locked: {clerk}"
    );
}

// ---------------------------------------------------------------------
// 2. Failed logins are limited per address; the lock-out cannot be held
//    from the network.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_one_address_are_throttled_on_api_and_console_and_do_not_lock_the_account() {
    let (_dir, db, server) = demo();
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    let addr = server.addr;
    let attacker = 8;

    // A few guesses at a real account, then spraying unknown names.
    for i in 0..3 {
        let a = api_login(addr, attacker, "dongpo-clerk", &format!("wrong-{i}")).await;
        assert_eq!(a.status, 401);
    }
    let mut tries = 3;
    let throttled = loop {
        let a = api_login(
            addr,
            attacker,
            &format!("sprayed-{tries}"),
            "wrong-password",
        )
        .await;
        tries += 1;
        if a.status == 429 {
            break a;
        }
        assert_eq!(a.status, 401, "{}", a.body);
        assert!(tries < 40, "never throttled");
    };
    assert!(tries > 10, "throttled after only {tries} failures");
    let wait: u64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    assert_eq!(
        throttled.json()["code"],
        "too_many_attempts",
        "{}",
        throttled.body
    );

    // While throttled, nothing is checked: not even the right password,
    // and the guesses do not count towards the account's lock-out.
    for _ in 0..(2 * MAX_FAILED_LOGINS) {
        let a = api_login(addr, attacker, "dongpo-clerk", "still-guessing").await;
        assert_eq!(a.status, 429);
    }
    assert_eq!(
        api_login(addr, attacker, "dongpo-clerk", PASSWORD)
            .await
            .status,
        429
    );
    // The console's login form shares the limit and says it in Chinese.
    let page = console_login_form(addr, attacker, "dongpo-clerk", PASSWORD).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.header("retry-after").is_some());
    assert!(page.body.contains("尝试次数太多"), "{}", page.body);

    // Another address is not affected, and the account is not locked.
    token(addr, 9, "dongpo-clerk", PASSWORD).await;

    let admin = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let log = audit(addr, &admin, "").await;
    let throttled: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "login_throttled")
        .collect();
    assert!(!throttled.is_empty());
    assert!(throttled
        .iter()
        .all(|e| e["ip"] == "127.0.0.8" && e["outcome"] == "refused"));
    let clerk = audit(addr, &admin, "&account=dongpo-clerk").await;
    assert_eq!(count(&clerk, "login_failed"), 3, "{clerk:#?}");

    // The console's form alone is throttled too.
    let mut tries = 0;
    let page = loop {
        let page = console_login_form(addr, 10, "dongpo-clerk", "not-it-at-all").await;
        tries += 1;
        if page.status == 429 {
            break page;
        }
        assert_eq!(page.status, 401);
        assert!(tries < 40, "never throttled");
    };
    assert!(tries > 10);
    assert!(page.body.contains("尝试次数太多"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_attacker_cannot_keep_the_county_admin_locked_out() {
    let (_dir, _db, server) = demo();
    let addr = server.addr;
    // The admin works from the office.
    token(addr, OFFICE, ADMIN.0, ADMIN.1).await;

    // An attacker locks the account for everyone who has not logged in
    // successfully from their address...
    for i in 0..MAX_FAILED_LOGINS {
        let a = api_login(addr, 12, ADMIN.0, &format!("guess-{i}")).await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(api_login(addr, 13, ADMIN.0, ADMIN.1).await.status, 401);
    assert_eq!(api_login(addr, 12, ADMIN.0, ADMIN.1).await.status, 401);
    // ...but the admin still gets in from the office, however long it goes on.
    token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    for i in 0..MAX_FAILED_LOGINS {
        let a = api_login(addr, 14, ADMIN.0, &format!("more-{i}")).await;
        assert_eq!(a.status, 401);
    }
    token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let page = console_login_form(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    assert_eq!(page.status, 303, "{}", page.body);

    // Guessing from the office itself loses the office its standing.
    for i in 0..MAX_FAILED_LOGINS {
        let a = api_login(addr, OFFICE, ADMIN.0, &format!("inside-{i}")).await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(api_login(addr, OFFICE, ADMIN.0, ADMIN.1).await.status, 401);
}

// ---------------------------------------------------------------------
// 3. Nobody can tell an unknown, disabled or locked account from a wrong
//    password.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_login_refusal_looks_the_same() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    account(&db, "dongpo-gone", DONGPO, Role::Editor);
    account(&db, "dongpo-locked", DONGPO, Role::Editor);
    db.set_account_disabled("dongpo-gone", true).unwrap();
    for i in 0..MAX_FAILED_LOGINS {
        api_login(addr, 15, "dongpo-locked", &format!("guess-{i}")).await;
    }

    let tries = [
        ("nobody-here", PASSWORD),
        ("dongpo-gone", PASSWORD),
        ("dongpo-locked", PASSWORD),
        ("dongpo-clerk", "not-the-password"),
    ];
    let mut api_answers = Vec::new();
    let mut console_answers = Vec::new();
    for (user, password) in tries {
        let a = api_login(addr, 16, user, password).await;
        api_answers.push((user, a.status, a.body.clone()));
        let page = console_login_form(addr, 17, user, password).await;
        console_answers.push((user, page.status, page.login_error()));
    }
    for (user, status, body) in &api_answers {
        assert_eq!(*status, 401, "{user}: {body}");
        assert_eq!(body, &api_answers[0].2, "{user}");
    }
    let first: Value = serde_json::from_str(&api_answers[0].2).unwrap();
    assert_eq!(first["code"], "wrong_password");
    for (user, status, error) in &console_answers {
        assert_eq!(*status, 401, "{user}");
        assert_eq!(error, &console_answers[0].2, "{user}");
    }
    assert!(console_answers[0].2.starts_with("用户名或密码不对"));
}

// ---------------------------------------------------------------------
// 4. Changing one's own password needs the current one.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_ones_own_password_needs_the_current_one_through_the_api() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    let desk = 18;
    let session = token(addr, desk, "dongpo-clerk", PASSWORD).await;
    let other_session = token(addr, desk, "dongpo-clerk", PASSWORD).await;
    let path = "/api/v1/admin/accounts/dongpo-clerk/password";

    // Without the current password, or with a wrong one: refused.
    let a = api(
        addr,
        desk,
        &session,
        "PUT",
        path,
        Some(json!({ "password": "taken-over-123" })),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("current_password"), "{}", a.body);
    let a = api(
        addr,
        desk,
        &session,
        "PUT",
        path,
        Some(json!({ "password": "taken-over-123", "current_password": "a-wild-guess" })),
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("current password"), "{}", a.body);
    token(addr, 19, "dongpo-clerk", PASSWORD).await;

    // A stolen session used from elsewhere cannot guess its way to the
    // password: wrong current passwords count like failed logins.
    let thief = 20;
    for i in 0..MAX_FAILED_LOGINS {
        let a = api(
            addr,
            thief,
            &session,
            "PUT",
            path,
            Some(json!({ "password": "taken-over-123", "current_password": format!("guess-{i}") })),
        )
        .await;
        assert_eq!(a.status, 403, "{}", a.body);
    }
    let a = api(
        addr,
        thief,
        &session,
        "PUT",
        path,
        Some(json!({ "password": "taken-over-123", "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(a.status, 403, "locked now: {}", a.body);
    assert_eq!(
        api_login(addr, 21, "dongpo-clerk", PASSWORD).await.status,
        401
    );

    let admin = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let log = audit(addr, &admin, "&account=dongpo-clerk").await;
    let failed: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "password_change_failed")
        .collect();
    assert_eq!(failed.len(), 1 + MAX_FAILED_LOGINS as usize, "{log:#?}");
    assert!(failed.iter().any(|e| e["ip"] == "127.0.0.20"));
    assert!(log
        .iter()
        .any(|e| e["action"] == format!("PUT {path}") && e["outcome"] == "refused"));

    // From the desk it logs in from, the right current password works: the
    // new password holds, the old one does not, other sessions end.
    let a = api(
        addr,
        desk,
        &session,
        "PUT",
        path,
        Some(json!({ "password": "a-better-password-1", "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.body);
    assert_eq!(
        api(addr, desk, &session, "GET", "/api/v1/admin/me", None)
            .await
            .status,
        200,
        "the session that changed it stays"
    );
    assert_eq!(
        api(addr, desk, &other_session, "GET", "/api/v1/admin/me", None)
            .await
            .status,
        401
    );
    assert_eq!(
        api_login(addr, desk, "dongpo-clerk", PASSWORD).await.status,
        401
    );
    token(addr, desk, "dongpo-clerk", "a-better-password-1").await;

    // An admin resets someone else's without knowing it.
    let a = api(
        addr,
        OFFICE,
        &admin,
        "PUT",
        path,
        Some(json!({ "password": "reset-by-county-1" })),
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.body);
    token(addr, 22, "dongpo-clerk", "reset-by-county-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_ones_own_password_needs_the_current_one_in_the_console() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    let desk = 23;
    let me = console_login(addr, desk, "dongpo-clerk", PASSWORD).await;

    let form = http(
        addr,
        desk,
        "GET",
        "/console/password",
        std::slice::from_ref(&me.cookie),
        b"",
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("当前密码"));

    let page = console_post(
        addr,
        desk,
        &me,
        "/console/password",
        &[
            ("current", "a-wild-guess"),
            ("password", "taken-over-123"),
            ("confirm", "taken-over-123"),
        ],
    )
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("当前密码不对"), "{}", page.body);
    token(addr, 24, "dongpo-clerk", PASSWORD).await;

    let page = console_post(
        addr,
        desk,
        &me,
        "/console/password",
        &[
            ("current", PASSWORD),
            ("password", "a-better-password-1"),
            ("confirm", "a-better-password-1"),
        ],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        api_login(addr, 24, "dongpo-clerk", PASSWORD).await.status,
        401
    );
    token(addr, 24, "dongpo-clerk", "a-better-password-1").await;

    let admin = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let log = audit(addr, &admin, "&account=dongpo-clerk").await;
    assert_eq!(count(&log, "password_change_failed"), 1, "{log:#?}");
    assert!(log
        .iter()
        .any(|e| e["action"] == "POST /console/password" && e["outcome"] == "ok"));
}

// ---------------------------------------------------------------------
// 5. Entries without a region reach the county admin, not the towns.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_without_a_region_are_shown_to_the_county_only() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    account(&db, "dongpo-clerk", DONGPO, Role::Editor);
    account(&db, "qingshi-admin", QINGSHI, Role::Admin);
    account(&db, "liuxi-admin", LIUXI, Role::Admin);
    let outsider = 25;

    // A guess at a name nobody has, a guess at a 东坡村 account, and an
    // admin request without a session.
    assert_eq!(
        api_login(addr, outsider, "nobody-here", "wrong-password")
            .await
            .status,
        401
    );
    assert_eq!(
        api_login(addr, outsider, "dongpo-clerk", "wrong-password")
            .await
            .status,
        401
    );
    let a = http(
        addr,
        outsider,
        "POST",
        "/api/v1/admin/accounts",
        &[json_type()],
        b"{}",
    )
    .await;
    assert_eq!(a.status, 401);
    // What the command line writes: no account, no region.
    db.audit(
        &headend::db::AuditEntry {
            account: None,
            action: "account.disable".into(),
            target: "someone".into(),
            ip: "cli".into(),
            detail: "dangjian-headend admin".into(),
            ..Default::default()
        },
        1,
    )
    .unwrap();

    let is_unknown = |e: &Value| e["account"] == "nobody-here";
    let is_anonymous =
        |e: &Value| e["account"].is_null() && e["action"] == "POST /api/v1/admin/accounts";
    let is_cli = |e: &Value| e["ip"] == "cli";
    let is_clerk = |e: &Value| e["account"] == "dongpo-clerk" && e["action"] == "login_failed";

    let county = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let log = audit(addr, &county, "").await;
    assert!(log.iter().any(is_unknown), "{log:#?}");
    assert!(log.iter().any(is_anonymous), "{log:#?}");
    assert!(log.iter().any(is_cli), "{log:#?}");
    assert!(log.iter().any(is_clerk));

    let town = token(addr, 26, "qingshi-admin", PASSWORD).await;
    let log = audit(addr, &town, "").await;
    assert!(
        log.iter().any(is_clerk),
        "a guess at its own village's account"
    );
    assert!(!log.iter().any(is_unknown), "{log:#?}");
    assert!(!log.iter().any(is_anonymous), "{log:#?}");
    assert!(!log.iter().any(is_cli), "{log:#?}");
    assert!(
        !log.iter().any(|e| e["account"] == ADMIN.0),
        "not the county's own"
    );

    let other = token(addr, 26, "liuxi-admin", PASSWORD).await;
    let log = audit(addr, &other, "").await;
    assert!(!log.iter().any(is_clerk), "{log:#?}");
    assert!(!log.iter().any(is_unknown));
}

// ---------------------------------------------------------------------
// 6. An image from an account that may not edit is refused before it is
//    stored.

const BOUNDARY: &str = "----security-test-boundary";

fn multipart(fields: &[(&str, &str)], image: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A PNG that differs per `seed`, so each upload would be a new blob.
fn png(seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 4, 3);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[seed; 4 * 3 * 3]).unwrap();
    }
    out
}

fn editor_fields(csrf: &str, scope: &str) -> Vec<(&'static str, String)> {
    [
        ("csrf", csrf),
        ("scope", scope),
        ("category", "finance"),
        ("module", "补助资金"),
        ("title", "十一月补贴"),
        ("period", "2026年11月"),
        ("intro", "本月种粮补贴发放情况如下。"),
        ("caption", "补贴发放明细"),
        ("col_name_0", "户主"),
        ("col_kind_0", "text"),
        ("col_name_1", "金额"),
        ("col_kind_1", "money"),
        ("cell_0_0", "王建国"),
        ("cell_0_1", "320.00"),
        ("image_caption", "发放现场"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

async fn post_editor(
    server: SocketAddr,
    from: u8,
    session: &ConsoleSession,
    path: &str,
    scope: &str,
    image: &[u8],
) -> Answer {
    let fields = editor_fields(&session.csrf, scope);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http(
        server,
        from,
        "POST",
        path,
        &[
            session.cookie.clone(),
            (
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
        ],
        &multipart(&borrowed, image),
    )
    .await
}

fn blobs(db: &Db) -> i64 {
    use headend::db::sql::{params, Sql};
    let conn = db.raw().unwrap();
    conn.query_row("SELECT COUNT(*) FROM blobs", params![], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_from_an_account_that_may_not_edit_is_refused_before_it_is_stored() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    account(&db, "qingshi-reviewer", QINGSHI, Role::Reviewer);
    account(&db, "dongpo-viewer", DONGPO, Role::Viewer);
    account(&db, "dongpo-editor", DONGPO, Role::Editor);
    account(&db, "hewan-editor", HEWAN, Role::Editor);
    let from = 27;

    // An editor's own draft, with an image: stored.
    let editor = console_login(addr, from, "dongpo-editor", PASSWORD).await;
    let before = blobs(&db);
    let page = post_editor(addr, from, &editor, "/console/content/new", DONGPO, &png(1)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(blobs(&db), before + 1);
    let draft = page
        .header("location")
        .unwrap()
        .trim_start_matches("/console/content/")
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_string();

    let before = blobs(&db);
    for (user, path, seed) in [
        ("qingshi-reviewer", "/console/content/new".to_string(), 2),
        ("dongpo-viewer", "/console/content/new".to_string(), 3),
        ("dongpo-viewer", format!("/console/content/{draft}/edit"), 4),
        (
            "qingshi-reviewer",
            format!("/console/content/{draft}/edit"),
            5,
        ),
        // Another village's editor, at this village's draft or region.
        ("hewan-editor", format!("/console/content/{draft}/edit"), 6),
        ("hewan-editor", "/console/content/new".to_string(), 7),
    ] {
        let who = console_login(addr, from, user, PASSWORD).await;
        let page = post_editor(addr, from, &who, &path, DONGPO, &png(seed)).await;
        assert_eq!(page.status, 403, "{user} {path}: {}", page.body);
        assert_eq!(blobs(&db), before, "{user} {path} stored an image");
    }

    let admin = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let log = audit(addr, &admin, "&account=dongpo-viewer").await;
    assert!(
        log.iter()
            .any(|e| e["action"] == "POST /console/content/new" && e["outcome"] == "refused"),
        "{log:#?}"
    );
}

// ---------------------------------------------------------------------
// 7. CSV exports: no formulas, proper quoting.

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_exports_neutralise_formulas_and_quote_what_staff_and_boxes_typed() {
    let (_dir, db, server) = demo();
    let addr = server.addr;
    let admin = token(addr, OFFICE, ADMIN.0, ADMIN.1).await;
    let hyperlink = "=HYPERLINK(\"http://x\",\"点我\")";
    let branch = headend::seed_meetings::branch_id(DONGPO);
    let names = [
        ("dongpo-01", hyperlink),
        ("dongpo-02", "+1"),
        ("dongpo-03", "-2"),
        ("dongpo-04", "@SUM(A1)"),
        ("dongpo-05", "\t=1+1"),
        ("dongpo-06", "王,\"老\"\n二"),
    ];
    for (id, name) in names {
        let a = api(
            addr,
            OFFICE,
            &admin,
            "PUT",
            &format!("/api/v1/admin/members/{id}"),
            Some(json!({ "name": name, "branch": branch })),
        )
        .await;
        assert!(a.status < 300, "{id}: {} {}", a.status, a.body);
    }
    let a = api(
        addr,
        OFFICE,
        &admin,
        "PUT",
        &format!("/api/v1/admin/branches/{branch}"),
        Some(json!({ "name": "-东坡村党支部", "region": DONGPO })),
    )
    .await;
    assert!(a.status < 300, "{} {}", a.status, a.body);
    let meeting =
        headend::seed_meetings::seed_demo_meeting(&db, headend::push::now_ms() / 1000).unwrap();
    let export = api(
        addr,
        OFFICE,
        &admin,
        "GET",
        &format!("/api/v1/admin/meetings/{meeting}/attendance?format=csv"),
        None,
    )
    .await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(export
        .header("content-type")
        .unwrap()
        .starts_with("text/csv"));
    let rows = csv_rows(&export.body);
    let name_of = |id: &str| -> String {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("{id} in {rows:?}"))[1]
            .clone()
    };
    assert_eq!(name_of("dongpo-01"), format!("'{hyperlink}"));
    assert_eq!(name_of("dongpo-02"), "'+1");
    assert_eq!(name_of("dongpo-03"), "'-2");
    assert_eq!(name_of("dongpo-04"), "'@SUM(A1)");
    assert_eq!(name_of("dongpo-05"), "'\t=1+1");
    assert_eq!(name_of("dongpo-06"), "王,\"老\"\n二", "quoted, kept whole");
    let first = rows.iter().find(|r| r[0] == "dongpo-01").unwrap();
    assert_eq!(first[2], "'-东坡村党支部");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");

    // Text a box sends ends up in the usage export.
    let device = "demo-box";
    let items: Vec<Value> = ["@SUM(A1)", "+1", "-2", "=1+1"]
        .iter()
        .enumerate()
        .map(
            |(i, m)| json!({ "key": format!("u{i}"), "kind": "usage", "payload": { "module": m } }),
        )
        .collect();
    let a = api(
        addr,
        40,
        &headend::seed_meetings::demo_device_token(device),
        "POST",
        "/api/v1/submissions",
        Some(json!({ "device": device, "items": items })),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(!a.body.contains("rejected"), "{}", a.body);
    let export = api(
        addr,
        OFFICE,
        &admin,
        "GET",
        &format!("/api/v1/admin/stats/usage?region={QINGSHI}&format=csv"),
        None,
    )
    .await;
    let modules: Vec<String> = csv_rows(&export.body)
        .into_iter()
        .skip(1)
        .map(|r| r[2].clone())
        .collect();
    for m in ["'@SUM(A1)", "'+1", "'-2", "'=1+1"] {
        assert!(modules.iter().any(|x| x == m), "{m:?} in {modules:?}");
    }
    assert!(
        !modules
            .iter()
            .any(|m| m.starts_with(['=', '+', '-', '@', '\t', '\r'])),
        "{modules:?}"
    );

    // Every other export goes through the same writer.
    for path in [
        format!("/api/v1/admin/attendance/rates?region={COUNTY}&format=csv"),
        format!("/api/v1/admin/service-requests?region={COUNTY}&format=csv"),
        format!("/api/v1/admin/service-requests/counts?region={COUNTY}&format=csv"),
        format!("/api/v1/admin/stats/uploads?region={COUNTY}&format=csv"),
        format!("/api/v1/admin/stats/supervision?region={COUNTY}&format=csv"),
        format!("/api/v1/admin/stats/boxes?region={COUNTY}&format=csv"),
    ] {
        let export = api(addr, OFFICE, &admin, "GET", &path, None).await;
        assert_eq!(export.status, 200, "{path}: {}", export.body);
        let rows = csv_rows(&export.body);
        assert!(!rows.is_empty(), "{path}");
        for cell in rows.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{path}: {cell:?}"
            );
        }
    }
}
