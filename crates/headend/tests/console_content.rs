//! The console's content pages driven through the router as a browser
//! would: the editor's multipart form (table, totals, an uploaded image),
//! CSRF on multipart posts, another village's draft refused by address and
//! by form, returning without a comment, a correction with its reason
//! published as version 2, and the import page naming bad cells.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[path = "common/console.rs"]
mod console;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request};
use console::{account, send, Console, Page, PASSWORD};
use headend::db::{DraftStatus, Role};
use headend::{app, seed, Db};
use model::{Block, Content};

const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";
const QINGSHI: &str = "990101101000";
const BOUNDARY: &str = "----dangjian-test-boundary";

fn demo() -> (tempfile::TempDir, Arc<Db>, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    account(&db, "dongpo-editor", DONGPO, Role::Editor);
    account(&db, "hewan-editor", HEWAN, Role::Editor);
    account(&db, "qingshi-reviewer", QINGSHI, Role::Reviewer);
    let router = app(db.clone());
    (dir, db, router)
}

/// A multipart body: text fields, then an optional file field.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(c: &Console, path: &str, body: Vec<u8>) -> Page {
    let request = Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::COOKIE, format!("dangjian_session={}", c.session))
        .body(Body::from(body))
        .unwrap();
    send(&c.router, request).await
}

fn tiny_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 4, 3);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[200u8; 4 * 3 * 3]).unwrap();
    }
    out
}

fn editor_fields<'a>(csrf: &'a str, title: &'a str, amount: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("scope", DONGPO),
        ("category", "finance"),
        ("module", "补助资金"),
        ("title", title),
        ("period", "2026年11月"),
        ("intro", "本月种粮补贴发放情况如下。"),
        ("caption", "补贴发放明细"),
        ("role", ""),
        ("col_name_0", "户主"),
        ("col_kind_0", "text"),
        ("col_name_1", "金额"),
        ("col_kind_1", "money"),
        ("col_name_2", ""),
        ("col_kind_2", "text"),
        ("cell_0_0", "王建国"),
        ("cell_0_1", "320.00"),
        ("cell_1_0", "李桂兰"),
        ("cell_1_1", amount),
        ("totals", "on"),
        ("image_caption", "发放现场"),
    ]
}

fn draft_id(page: &Page) -> i64 {
    let to = page.location.clone().unwrap_or_else(|| panic!("{page:?}"));
    to.trim_start_matches("/console/content/")
        .split(['?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{to}"))
}

#[tokio::test]
async fn the_editor_saves_a_table_with_totals_and_an_image_and_refuses_without_its_token() {
    let (_dir, db, router) = demo();
    let editor = Console::login(&router, "dongpo-editor", PASSWORD, "/console/content/new").await;

    // Without the form token (or with another session's): refused, nothing stored.
    let before = db
        .drafts_under(&DONGPO.parse().unwrap(), None)
        .unwrap()
        .len();
    let mut fields = editor_fields("", "无令牌", "280.50");
    fields.remove(0);
    let refused = post_multipart(&editor, "/console/content/new", multipart(&fields, None)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let forged = editor_fields("0000", "伪造", "280.50");
    let refused = post_multipart(&editor, "/console/content/new", multipart(&forged, None)).await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        db.drafts_under(&DONGPO.parse().unwrap(), None)
            .unwrap()
            .len(),
        before
    );

    // A bad amount: shown next to its cell, what was typed kept, nothing stored.
    let csrf = editor.csrf.clone();
    let bad = editor_fields(&csrf, "十一月补贴", "28O.50");
    let page = post_multipart(&editor, "/console/content/new", multipart(&bad, None)).await;
    assert_eq!(page.status, 400);
    assert!(page
        .text_of("cell_1_1-error")
        .unwrap()
        .contains("金额格式不对"));
    assert!(page
        .tag_of("cell_1_1")
        .unwrap()
        .contains("aria-invalid=\"true\""));
    assert!(page.tag_of("cell_1_1").unwrap().contains("28O.50"));
    assert_eq!(
        db.drafts_under(&DONGPO.parse().unwrap(), None)
            .unwrap()
            .len(),
        before
    );

    // Good: stored with its 合计 and the uploaded image.
    let png = tiny_png();
    let good = editor_fields(&csrf, "十一月补贴", "280.50");
    let page = post_multipart(
        &editor,
        "/console/content/new",
        multipart(&good, Some(("image", "现场.png", &png))),
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let id = draft_id(&page);
    let d = db.draft(id).unwrap();
    assert_eq!(d.status, DraftStatus::Draft);
    let Content::Disclosure(disclosure) = &d.content else {
        panic!("{:?}", d.content)
    };
    let table = disclosure
        .body
        .iter()
        .find_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
        .unwrap();
    assert_eq!(table.columns.len(), 2, "the unnamed column is left out");
    assert_eq!(
        table.totals.as_deref(),
        Some(&["合计".to_string(), "600.50".to_string()][..])
    );
    let image = disclosure.body.iter().find_map(|b| match b {
        Block::Image { blob, caption } => Some((blob.clone(), caption.clone())),
        _ => None,
    });
    let (blob, caption) = image.expect("the uploaded image");
    assert_eq!(caption, "发放现场");
    assert!(db.blob(&blob).unwrap().is_some());
    let shown = editor.get(&format!("/console/content/{id}")).await;
    assert!(shown.body.contains("600.50") && shown.body.contains(&blob));
}

#[tokio::test]
async fn another_villages_draft_is_refused_by_address_and_by_form() {
    let (_dir, db, router) = demo();
    let editor = Console::login(&router, "dongpo-editor", PASSWORD, "/console/content/new").await;
    let csrf = editor.csrf.clone();
    let page = post_multipart(
        &editor,
        "/console/content/new",
        multipart(&editor_fields(&csrf, "东坡村的草稿", "280.50"), None),
    )
    .await;
    let id = draft_id(&page);

    let other = Console::login(&router, "hewan-editor", PASSWORD, "/console/content").await;
    let list = other.get("/console/content").await;
    assert!(!list.body.contains("东坡村的草稿"));
    for path in [
        format!("/console/content/{id}"),
        format!("/console/content/{id}/edit"),
        format!("/console/content/{id}/correct"),
    ] {
        let page = other.get(&path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.body.contains("没有权限") && !page.body.contains("东坡村的草稿"));
    }
    let submit = other
        .post(&format!("/console/content/{id}/submit"), &[])
        .await;
    assert_eq!(submit.status, 403);
    let edit = post_multipart(
        &other,
        &format!("/console/content/{id}/edit"),
        multipart(&editor_fields(&other.csrf, "改掉", "1.00"), None),
    )
    .await;
    assert_eq!(edit.status, 403);
    let d = db.draft(id).unwrap();
    assert_eq!(d.status, DraftStatus::Draft);
    assert_eq!(d.content.title(), "东坡村的草稿");
    // The refusals are in the audit log with the account.
    let query = headend::db::AuditQuery {
        account: Some("hewan-editor".into()),
        limit: 100,
        ..Default::default()
    };
    let refused = db
        .audit_log(&"990101000000".parse().unwrap(), &query)
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.account.as_deref() == Some("hewan-editor") && e.action.contains("/console/content")
        })
        .count();
    assert!(refused >= 2, "{refused}");
}

#[tokio::test]
async fn review_returns_with_a_comment_and_a_correction_publishes_version_two() {
    let (_dir, db, router) = demo();
    let editor = Console::login(&router, "dongpo-editor", PASSWORD, "/console/content/new").await;
    let csrf = editor.csrf.clone();
    let mut fields = editor_fields(&csrf, "待审核的补贴", "280.50");
    fields.push(("action", "submit"));
    let page = post_multipart(&editor, "/console/content/new", multipart(&fields, None)).await;
    let id = draft_id(&page);
    assert_eq!(db.draft(id).unwrap().status, DraftStatus::Submitted);

    let reviewer = Console::login(&router, "qingshi-reviewer", PASSWORD, "/console/review").await;
    let queue = reviewer.get("/console/review").await;
    assert!(queue.body.contains("待审核的补贴"));
    // Returning needs a reason, said next to the field.
    let page = reviewer
        .post(
            &format!("/console/content/{id}/return"),
            &[("comment", " ")],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(page
        .text_of("comment-error")
        .unwrap()
        .contains("退回的原因"));
    let page = reviewer
        .post(
            &format!("/console/content/{id}/return"),
            &[("comment", "请补充发放日期")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(db.draft(id).unwrap().status, DraftStatus::Returned);

    // Resubmitted and approved now.
    editor
        .post(&format!("/console/content/{id}/submit"), &[])
        .await;
    let page = reviewer
        .post(
            &format!("/console/content/{id}/approve"),
            &[("publish_at", "")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let d = db.draft(id).unwrap();
    assert_eq!(d.status, DraftStatus::Published);

    // A correction needs its reason; with one it becomes version 2.
    let form = editor.get(&format!("/console/content/{id}/correct")).await;
    assert_eq!(form.status, 200);
    let mut fix = editor_fields(&csrf, "待审核的补贴", "300.50");
    fix.push(("reason", ""));
    let page = post_multipart(
        &editor,
        &format!("/console/content/{id}/correct"),
        multipart(&fix, None),
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.text_of("reason-error").unwrap().contains("更正的原因"));
    fix.pop();
    fix.push(("reason", "李桂兰的金额录入有误"));
    let page = post_multipart(
        &editor,
        &format!("/console/content/{id}/correct"),
        multipart(&fix, None),
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let fix_id = draft_id(&page);
    editor
        .post(&format!("/console/content/{fix_id}/submit"), &[])
        .await;
    reviewer
        .post(
            &format!("/console/content/{fix_id}/approve"),
            &[("publish_at", "")],
        )
        .await;
    let history = db.item_history(&d.item_id).unwrap();
    assert_eq!(history.last().unwrap().version, 2);
    let page = reviewer.get(&format!("/console/content/{fix_id}")).await;
    assert!(page.body.contains("第2版") && page.body.contains("李桂兰的金额录入有误"));
}

#[tokio::test]
async fn the_import_page_names_each_bad_cell_and_stores_nothing() {
    let (_dir, db, router) = demo();
    let editor = Console::login(&router, "dongpo-editor", PASSWORD, "/console/import").await;
    let before = db
        .drafts_under(&DONGPO.parse().unwrap(), None)
        .unwrap()
        .len();
    let csv = "户主,金额\n王建国,320.00\n李桂兰,28O.5\n合计,600.50\n".as_bytes();
    let fields = [
        ("csrf", editor.csrf.as_str()),
        ("scope", DONGPO),
        ("category", "finance"),
        ("module", "补助资金"),
        ("period", "2026年11月"),
        ("title", "导入的补贴"),
    ];
    let page = post_multipart(
        &editor,
        "/console/import",
        multipart(&fields, Some(("file", "补贴.csv", csv))),
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("B3"), "{}", page.body);
    assert_eq!(
        db.drafts_under(&DONGPO.parse().unwrap(), None)
            .unwrap()
            .len(),
        before
    );
    let good = "户主,金额\n王建国,320.00\n李桂兰,280.50\n合计,600.50\n".as_bytes();
    let page = post_multipart(
        &editor,
        "/console/import",
        multipart(&fields, Some(("file", "补贴.csv", good))),
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        db.draft(draft_id(&page)).unwrap().content.title(),
        "导入的补贴"
    );
}

#[tokio::test]
async fn a_reviewer_sees_what_a_menu_questionnaire_or_exam_draft_holds() {
    let (_dir, db, router) = demo();
    let dongpo: model::AreaCode = DONGPO.parse().unwrap();
    let mut menu = model::ServiceMenu::standard();
    menu.categories[0].name = "村里的农技服务".into();
    let exam = db
        .draw_exam(&headend::db::NewExam {
            scope: dongpo.clone(),
            title: "村里的小测验".into(),
            time_limit_s: 300,
            opens_at: 0,
            closes_at: 4_000_000_000,
            questions: vec!["dz-02".into()],
            pick: 0,
            tag: None,
        })
        .unwrap();
    let menu = db
        .create_draft(
            "dongpo-editor",
            &dongpo,
            &Content::ServiceMenu(menu),
            None,
            0,
        )
        .unwrap();
    let exam = db
        .create_draft("dongpo-editor", &dongpo, &Content::Exam(exam), None, 0)
        .unwrap();
    let reviewer = Console::login(&router, "qingshi-reviewer", PASSWORD, "/console/review").await;
    let page = reviewer.get(&format!("/console/content/{}", menu.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("村里的农技服务"), "{}", page.body);
    let page = reviewer.get(&format!("/console/content/{}", exam.id)).await;
    assert!(
        page.body.contains("预备党员的预备期为多长时间？"),
        "{}",
        page.body
    );
    assert!(page.body.contains("半年 / 一年"), "{}", page.body);
}
