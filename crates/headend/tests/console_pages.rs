//! The console's service inbox, box and account pages driven through the
//! router as a browser would (login cookie, session cookie, form tokens):
//! what they list, that their forms do what the API does, that form errors
//! land next to their field, and that they refuse what the API refuses.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[path = "common/console.rs"]
mod console;

use std::sync::Arc;

use console::{account, Console, PASSWORD};
use headend::db::{RequestFilter, Role};
use headend::{app, push::now_ms, seed, Db};
use model::{CommandKind, RequestStatus, SubmissionBatch};
use serde_json::json;

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const DONGPO: &str = "990101101001";
const LIULIN: &str = "990101102001";
/// `api_fleet::MAX_MESSAGE_CHARS`.
const MAX_MESSAGE_CHARS: usize = 200;

struct Demo {
    /// Holds the database's directory for the test's life.
    _dir: tempfile::TempDir,
    db: Arc<Db>,
    router: axum::Router,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let router = app(db.clone());
    Demo {
        _dir: dir,
        db,
        router,
    }
}

async fn admin(demo: &Demo, landing: &str) -> Console {
    let (user, password) = seed::DEMO_ADMIN;
    Console::login(&demo.router, user, password, landing).await
}

/// A service request from `demo-box` in 东坡村, as the box sends it; its id.
fn service_request(db: &Db, key: &str) -> i64 {
    let batch: SubmissionBatch = serde_json::from_value(json!({
        "device": "demo-box",
        "items": [{ "key": key, "kind": "service_request",
                    "payload": { "category": "agri", "preset": "庄稼病虫害", "phone": "13812345678" } }],
    }))
    .unwrap();
    let answers = db.submit_batches(&[batch], now_ms()).unwrap();
    let receipt = serde_json::to_value(&answers[0].as_ref().unwrap()[0]).unwrap();
    assert_eq!(receipt["result"], "accepted", "{receipt}");
    db.service_requests(
        &COUNTY.parse().unwrap(),
        &RequestFilter::default(),
        now_ms() / 1000,
    )
    .unwrap()
    .into_iter()
    .max_by_key(|r| r.id)
    .unwrap()
    .id
}

#[tokio::test]
async fn the_inbox_lists_a_request_and_a_console_reply_is_what_the_api_shows() {
    let demo = demo();
    let id = service_request(&demo.db, "r1");
    let staff = admin(&demo, "/console/services").await;

    let inbox = staff.get("/console/services").await;
    assert_eq!(inbox.status, 200);
    for text in [
        "13812345678",
        "庄稼病虫害",
        "东坡村",
        "已提交",
        "指派",
        "办结",
    ] {
        assert!(inbox.body.contains(text), "{text} missing: {}", inbox.body);
    }
    assert!(!inbox.body.contains("badge overdue"), "nothing is late yet");

    let assigned = staff
        .post(
            &format!("/console/services/{id}/assign"),
            &[("assignee", "王书记"), ("show", "open")],
        )
        .await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    assert!(assigned
        .location
        .as_deref()
        .unwrap()
        .starts_with("/console/services?show=open&ok="));
    let replied = staff
        .post(
            &format!("/console/services/{id}/reply"),
            &[("reply", "已安排农技员明天上门"), ("show", "all")],
        )
        .await;
    assert_eq!(replied.status, 303, "{}", replied.body);

    // The API sees exactly what the console did.
    let (code, via_api) = staff
        .api_get(&format!("/api/v1/admin/service-requests/{id}"))
        .await;
    assert_eq!(code, 200, "{via_api}");
    assert_eq!(via_api["status"], "replied");
    assert_eq!(via_api["assignee"], "王书记");
    assert_eq!(via_api["reply"], "已安排农技员明天上门");

    let after = staff.get(replied.location.as_deref().unwrap()).await;
    assert!(after.body.contains("已回复"), "{}", after.body);
    assert!(after.body.contains("已安排农技员明天上门"));
    assert!(after.body.contains("class=\"notice\""), "the notice shows");

    let closed = staff
        .post(&format!("/console/services/{id}/close"), &[])
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let r = demo.db.service_request(id, now_ms() / 1000).unwrap();
    assert_eq!(r.status, RequestStatus::Closed);
    let open = staff.get("/console/services?show=open").await;
    assert!(!open.body.contains("13812345678"), "closed is not open");

    // A request nobody answered for three days is marked late.
    let late = service_request(&demo.db, "r2");
    use headend::db::sql::Sql;
    // (A statement of its own: the raw connection is given back at once.)
    demo.db
        .raw()
        .unwrap()
        .execute(
            "UPDATE service_requests SET received_at = received_at - 3 * 86400 WHERE id = ?1",
            [late],
        )
        .unwrap();
    let overdue = staff.get("/console/services?show=overdue").await;
    assert_eq!(overdue.status, 200);
    let row = overdue.tag_of(&format!("request-{late}")).unwrap();
    assert!(row.contains("overdue"), "{row}");
    assert!(overdue
        .body
        .contains("<span class=\"badge overdue\">超时</span>"));
    assert!(!overdue.body.contains(&format!("id=\"request-{id}\"")));
}

#[tokio::test]
async fn an_empty_reply_is_shown_next_to_the_field_and_viewers_get_no_forms() {
    let demo = demo();
    let id = service_request(&demo.db, "r1");
    let staff = admin(&demo, "/console/services").await;

    let page = staff
        .post(
            &format!("/console/services/{id}/reply"),
            &[("reply", "   ")],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    let error = page.text_of(&format!("reply-{id}-error")).unwrap();
    assert_eq!(error, "请填写回复内容");
    let field = page.tag_of(&format!("reply-{id}")).unwrap();
    assert!(field.contains("aria-invalid=\"true\""), "{field}");
    assert_eq!(
        demo.db.service_request(id, now_ms() / 1000).unwrap().status,
        RequestStatus::Submitted
    );

    // A viewer reads the inbox but has nothing to press, and the API's
    // refusal stands even for a form that would not pass.
    account(&demo.db, "dongpo-viewer", DONGPO, Role::Viewer);
    let viewer = Console::login(&demo.router, "dongpo-viewer", PASSWORD, "/console/services").await;
    let inbox = viewer.get("/console/services").await;
    assert!(inbox.body.contains("13812345678"));
    assert!(!inbox.body.contains("/reply\""), "no forms for a viewer");
    let refused = viewer
        .post(&format!("/console/services/{id}/reply"), &[("reply", "")])
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn the_box_list_shows_the_demo_box_and_a_message_from_the_console_is_queued() {
    let demo = demo();
    let staff = admin(&demo, "/console/devices").await;

    let list = staff.get("/console/devices").await;
    assert_eq!(list.status, 200, "{}", list.body);
    for text in [
        "demo-box",
        "东坡村",
        "/console/devices/demo-box",
        "badge offline",
    ] {
        assert!(list.body.contains(text), "{text} missing: {}", list.body);
    }

    let too_long = "长".repeat(MAX_MESSAGE_CHARS + 1);
    let page = staff
        .post(
            "/console/devices/demo-box/command",
            &[("kind", "show_message"), ("text", &too_long)],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.text_of("message-error").unwrap().contains("消息太长"));
    assert!(page.body.contains(&too_long), "what was typed stays");
    assert!(demo.db.commands("demo-box").unwrap().is_empty());

    let sent = staff
        .post(
            "/console/devices/demo-box/command",
            &[("kind", "show_message"), ("text", "今晚七点村部开会")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let resync = staff
        .post("/console/devices/demo-box/command", &[("kind", "resync")])
        .await;
    assert_eq!(resync.status, 303, "{}", resync.body);
    let commands = demo.db.commands("demo-box").unwrap();
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].kind, CommandKind::Resync);
    assert_eq!(
        commands[1].kind,
        CommandKind::ShowMessage {
            text: "今晚七点村部开会".into()
        }
    );
    assert_eq!(commands[1].sent_by, seed::DEMO_ADMIN.0);

    let detail = staff.get("/console/devices/demo-box").await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("发送消息：今晚七点村部开会"));
    assert!(detail.body.contains("等待机顶盒回应"));
}

#[tokio::test]
async fn revoking_a_box_needs_a_reason() {
    let demo = demo();
    let staff = admin(&demo, "/console/devices/demo-box").await;
    let dongpo = DONGPO.parse().unwrap();
    let revoked = |db: &Db| {
        db.devices(&dongpo)
            .unwrap()
            .into_iter()
            .find(|d| d.device == "demo-box")
            .unwrap()
            .revoked_at
    };

    let page = staff
        .post("/console/devices/demo-box/revoke", &[("reason", " ")])
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(page.text_of("reason-error").unwrap(), "请写明吊销原因");
    assert!(page
        .tag_of("reason")
        .unwrap()
        .contains("aria-invalid=\"true\""));
    assert!(revoked(&demo.db).is_none());

    let done = staff
        .post(
            "/console/devices/demo-box/revoke",
            &[("reason", "机顶盒被转卖")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(revoked(&demo.db).is_some());
    let detail = staff.get("/console/devices/demo-box").await;
    assert!(detail.body.contains("已吊销"));
    assert!(detail.body.contains("机顶盒被转卖"));
}

#[tokio::test]
async fn a_town_admin_creates_accounts_only_inside_its_town() {
    let demo = demo();
    account(&demo.db, "qingshi-admin", QINGSHI, Role::Admin);
    let town = Console::login(&demo.router, "qingshi-admin", PASSWORD, "/console/accounts").await;

    let page = town.get("/console/accounts").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("value=\"{DONGPO}\"")));
    assert!(
        !page.body.contains(&format!("value=\"{LIULIN}\"")),
        "another town's village"
    );
    assert!(
        !page.body.contains("qingshan-admin"),
        "the county's account is not listed"
    );

    let form = |username: &'static str, region: &'static str, password: &'static str| {
        [
            ("username", username),
            ("display_name", "东坡村编辑"),
            ("role", "editor"),
            ("region", region),
            ("password", password),
        ]
    };
    let created = town
        .post(
            "/console/accounts",
            &form("dongpo-editor", DONGPO, PASSWORD),
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let made = demo.db.account("dongpo-editor").unwrap().unwrap();
    assert_eq!((made.role, made.region.as_str()), (Role::Editor, DONGPO));
    assert_eq!(made.created_by.as_deref(), Some("qingshi-admin"));

    // A region outside the town, typed into the form by hand: refused.
    let outside = town
        .post(
            "/console/accounts",
            &form("liulin-editor", LIULIN, PASSWORD),
        )
        .await;
    assert_eq!(outside.status, 403, "{}", outside.body);
    assert!(demo.db.account("liulin-editor").unwrap().is_none());

    let short = town
        .post("/console/accounts", &form("hewan-editor", DONGPO, "short"))
        .await;
    assert_eq!(short.status, 400, "{}", short.body);
    assert!(short
        .text_of("password-error")
        .unwrap()
        .contains("至少 10 个字符"));
    assert!(short
        .tag_of("password")
        .unwrap()
        .contains("aria-invalid=\"true\""));
    assert!(short
        .tag_of("username")
        .unwrap()
        .contains("value=\"hewan-editor\""));
    assert!(demo.db.account("hewan-editor").unwrap().is_none());

    let taken = town
        .post(
            "/console/accounts",
            &form("dongpo-editor", DONGPO, PASSWORD),
        )
        .await;
    assert_eq!(taken.status, 400);
    assert!(taken
        .text_of("username-error")
        .unwrap()
        .contains("已被使用"));

    // Disable and enable inside the subtree; not oneself, not the county.
    let off = town
        .post("/console/accounts/dongpo-editor/disable", &[])
        .await;
    assert_eq!(off.status, 303, "{}", off.body);
    assert!(demo.db.account("dongpo-editor").unwrap().unwrap().disabled);
    let on = town
        .post("/console/accounts/dongpo-editor/enable", &[])
        .await;
    assert_eq!(on.status, 303);
    assert!(!demo.db.account("dongpo-editor").unwrap().unwrap().disabled);
    let own = town
        .post("/console/accounts/qingshi-admin/disable", &[])
        .await;
    assert_eq!(own.status, 400);
    let county = town
        .post("/console/accounts/qingshan-admin/disable", &[])
        .await;
    assert_eq!(county.status, 403);
    assert!(!demo.db.account("qingshan-admin").unwrap().unwrap().disabled);

    // Not an admin: the page itself is refused.
    let editor = Console::login(&demo.router, "dongpo-editor", PASSWORD, "/console/services").await;
    assert_eq!(editor.get("/console/accounts").await.status, 403);
}

#[tokio::test]
async fn a_post_with_a_wrong_form_token_is_refused_and_changes_nothing() {
    let demo = demo();
    let id = service_request(&demo.db, "r1");
    account(&demo.db, "dongpo-editor", DONGPO, Role::Editor);
    let staff = admin(&demo, "/console/services").await;

    let forged = staff
        .post_raw(
            &format!("/console/services/{id}/reply"),
            &[("csrf", "0000"), ("reply", "伪造的回复")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let missing = staff
        .post_raw("/console/accounts/dongpo-editor/disable", &[])
        .await;
    assert_eq!(missing.status, 403);
    let other_session =
        Console::login(&demo.router, "dongpo-editor", PASSWORD, "/console/services").await;
    let borrowed = staff
        .post_raw(
            "/console/devices/demo-box/command",
            &[("csrf", &other_session.csrf), ("kind", "resync")],
        )
        .await;
    assert_eq!(borrowed.status, 403, "another session's token");

    let r = demo.db.service_request(id, now_ms() / 1000).unwrap();
    assert_eq!(r.status, RequestStatus::Submitted);
    assert!(r.reply.is_none());
    assert!(!demo.db.account("dongpo-editor").unwrap().unwrap().disabled);
    assert!(demo.db.commands("demo-box").unwrap().is_empty());
}
