//! The console's meeting pages driven through the router as a browser
//! would (login cookie, session cookie, form tokens): the list of the
//! account's meetings, scheduling with errors next to their fields,
//! "roll-call now" and the live view, and refusals for forged posts and
//! accounts that may only look.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[path = "common/console.rs"]
mod console;

use std::sync::Arc;

use console::{account, Console, PASSWORD};
use headend::db::Role;
use headend::{app, push::now_ms, seed, seed_meetings, Db};
use model::{MeetingKind, SignIn};

const COUNTY: &str = "990101000000";
const LIUXI: &str = "990101102000";
const TITLE: &str = "青石镇11月主题党日：学习贯彻全会精神";

struct Demo {
    _dir: tempfile::TempDir,
    db: Arc<Db>,
    router: axum::Router,
    /// The seeded 青石镇 meeting (three village branches, 19 members).
    meeting: String,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let meeting = seed_meetings::seed_demo_meeting(&db, now_ms() / 1000).unwrap();
    let router = app(db.clone());
    Demo {
        _dir: dir,
        db,
        router,
        meeting,
    }
}

async fn admin(demo: &Demo) -> Console {
    let (user, password) = seed::DEMO_ADMIN;
    Console::login(&demo.router, user, password, "/console/meetings").await
}

fn meeting_count(db: &Db) -> usize {
    db.meetings(0, i64::MAX / 2).unwrap().len()
}

fn opened_rollcalls(db: &Db, meeting: &str) -> usize {
    let m = db.meeting(meeting).unwrap().unwrap();
    m.rollcalls
        .iter()
        .filter(|r| r.opened_at_ms.is_some())
        .count()
}

/// A complete schedule form for 东坡村, with `title`.
fn schedule_fields(title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_string()),
        ("kind", "branch_committee".into()),
        ("branch", seed_meetings::branch_id("990101101001")),
        ("starts", "2026-12-01T19:00".into()),
        ("ends", "2026-12-01T21:00".into()),
        ("live_item", String::new()),
        ("rollcall_after", "30".into()),
        ("rollcall_random", "5".into()),
    ]
}

fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn the_list_shows_the_accounts_meetings_and_the_schedule_form() {
    let demo = demo();
    let county = admin(&demo).await;
    let page = county.get("/console/meetings").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains(TITLE), "{body}");
    assert!(body.contains(&format!("href=\"/console/meetings/{}\"", demo.meeting)));
    assert!(body.contains(MeetingKind::PartyLesson.label()));
    assert!(body.contains("东坡村党支部"));
    assert!(
        body.contains("计划 1 次"),
        "the planned roll-call is listed"
    );
    assert!(
        body.contains("action=\"/console/meetings\""),
        "schedule form"
    );
    assert!(
        body.contains("value=\"b-990101102001\""),
        "county sees every branch"
    );

    // A 柳溪乡 operator: not the 青石镇 meeting, and only 柳溪乡 branches.
    account(&demo.db, "liuxi-op", LIUXI, Role::Operator);
    let town = Console::login(&demo.router, "liuxi-op", PASSWORD, "/console/meetings").await;
    let page = town.get("/console/meetings").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(TITLE));
    assert!(page.body.contains("value=\"b-990101102001\""));
    assert!(!page.body.contains("value=\"b-990101101001\""));
    let other = town
        .get(&format!("/console/meetings/{}", demo.meeting))
        .await;
    assert_eq!(other.status, 403);
}

#[tokio::test]
async fn posts_without_the_form_token_are_refused_and_change_nothing() {
    let demo = demo();
    let county = admin(&demo).await;
    let before = meeting_count(&demo.db);
    let fields = schedule_fields("没有令牌的会议");
    let page = county
        .post_raw("/console/meetings", &borrowed(&fields))
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    let mut wrong = borrowed(&fields);
    wrong.push(("csrf", "0123456789abcdef"));
    let page = county.post_raw("/console/meetings", &wrong).await;
    assert_eq!(page.status, 403);
    assert_eq!(meeting_count(&demo.db), before);

    let rollcall = format!("/console/meetings/{}/rollcall", demo.meeting);
    let page = county.post_raw(&rollcall, &[("window_minutes", "2")]).await;
    assert_eq!(page.status, 403);
    assert_eq!(opened_rollcalls(&demo.db, &demo.meeting), 0);
}

#[tokio::test]
async fn scheduling_shows_errors_next_to_fields_and_a_good_form_creates_the_meeting() {
    let demo = demo();
    let county = admin(&demo).await;
    let before = meeting_count(&demo.db);

    let fields = schedule_fields("  ");
    let page = county.post("/console/meetings", &borrowed(&fields)).await;
    assert_eq!(page.status, 400, "{}", page.body);
    let error = page.text_of("title-error").unwrap();
    assert!(error.contains("请填写会议名称"), "{error}");
    let input = page.tag_of("title").unwrap();
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(
        input.contains("aria-describedby=\"title-error\""),
        "{input}"
    );
    // What was typed is still there; the other fields are not marked.
    assert!(page.body.contains("value=\"2026-12-01T19:00\""));
    assert!(page
        .tag_of("branch-b-990101101001")
        .unwrap()
        .contains("checked"));
    assert!(page
        .tag_of("starts")
        .unwrap()
        .contains("aria-invalid=\"false\""));
    assert_eq!(page.text_of("starts-error").as_deref(), Some(""));
    assert_eq!(meeting_count(&demo.db), before);

    let mut fields = schedule_fields("东坡村支委会");
    fields.retain(|(k, _)| *k != "branch");
    for (k, v) in &mut fields {
        if *k == "ends" {
            *v = "2026-12-01T18:00".into(); // before it starts
        }
    }
    let page = county.post("/console/meetings", &borrowed(&fields)).await;
    assert_eq!(page.status, 400);
    assert!(page.text_of("branches-error").unwrap().contains("支部"));
    assert!(page.text_of("ends-error").unwrap().contains("晚于开始"));
    assert!(page.text_of("title-error").unwrap().is_empty());

    let fields = schedule_fields("东坡村支委会");
    let page = county.post("/console/meetings", &borrowed(&fields)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location.unwrap();
    assert!(location.starts_with("/console/meetings/m-"), "{location}");
    let id = location["/console/meetings/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let m = demo.db.meeting(&id).unwrap().unwrap();
    assert_eq!(m.title, "东坡村支委会");
    assert_eq!(m.kind, MeetingKind::BranchCommittee);
    assert_eq!(m.branches, ["b-990101101001"]);
    assert_eq!(m.ends_at - m.starts_at, 7200);
    assert_eq!(m.rollcalls.len(), 1);
    assert_eq!(m.rollcalls[0].opened_at_ms, None);
    let shown = county.get(&location).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("已安排会议"));
    assert!(shown.body.contains("东坡村支委会"));
}

#[tokio::test]
async fn roll_call_now_opens_a_roll_call_and_the_live_view_lists_the_members() {
    let demo = demo();
    let county = admin(&demo).await;
    let page_path = format!("/console/meetings/{}", demo.meeting);
    let live_path = format!("{page_path}/live");
    let live = county.get(&live_path).await;
    assert_eq!(live.status, 200);
    assert!(live.body.contains("还没有点名"), "{}", live.body);

    let page = county
        .post(&format!("{page_path}/rollcall"), &[("window_minutes", "3")])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page
        .location
        .as_deref()
        .unwrap()
        .starts_with(&format!("{page_path}?ok=")));
    let m = demo.db.meeting(&demo.meeting).unwrap().unwrap();
    let rc = m
        .rollcalls
        .iter()
        .find(|r| r.opened_at_ms.is_some())
        .unwrap();
    assert_eq!(rc.window_secs, 180);
    let open = demo.db.open_rollcalls(now_ms()).unwrap();
    assert!(open.iter().any(|o| o.id == rc.id), "boxes are sent it");

    // One member signs in with the broadcast playing, one without.
    let t = now_ms();
    demo.db
        .playback_beat("demo-box", Some("live-qingshi-party-day"), t)
        .unwrap();
    let sign = |member: &str| SignIn {
        rollcall: rc.id.clone(),
        member: member.into(),
        elapsed_ms: 3_000,
    };
    demo.db
        .sign_in("demo-box", "k1", &sign("dongpo-01"), t + 1_000)
        .unwrap();
    demo.db
        .sign_in("demo-box-2", "k2", &sign("dongpo-03"), t + 1_000)
        .unwrap();

    let live = county.get(&live_path).await;
    assert_eq!(live.status, 200);
    let body = &live.body;
    assert!(!body.contains("<html"), "a fragment, not a page");
    assert!(
        body.contains("<div class=\"n\">19</div><div class=\"l\">应到</div>"),
        "{body}"
    );
    assert!(body.contains("<div class=\"n\">1</div><div class=\"l\">已签到</div>"));
    assert!(body.contains("<div class=\"n\">1</div><div class=\"l\">存疑</div>"));
    assert!(body.contains("<div class=\"n\">17</div><div class=\"l\">未到</div>"));
    for name in ["王建国", "张德顺", "孙立新", "马向阳"] {
        assert!(body.contains(name), "{name} listed");
    }
    assert!(body.contains("class=\"badge present\""));
    assert!(body.contains("class=\"badge flagged\""));
    assert!(body.contains("class=\"badge absent\""));
    assert!(body.contains("正在签到"));

    let page = county.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("data-live=\"{live_path}\"")));
    assert!(page.body.contains("现在点名"));
    let csv = format!(
        "/api/v1/admin/meetings/{}/attendance?format=csv",
        demo.meeting
    );
    assert!(page.body.contains(&csv));
    let export = county.get(&csv).await;
    assert_eq!(export.status, 200, "the API takes the console's cookie");
    assert!(export.body.contains("王建国"));
}

#[tokio::test]
async fn a_viewer_sees_no_schedule_form_and_is_refused_on_post() {
    let demo = demo();
    account(&demo.db, "county-viewer", COUNTY, Role::Viewer);
    let viewer = Console::login(&demo.router, "county-viewer", PASSWORD, "/console/meetings").await;
    let page = viewer.get("/console/meetings").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(TITLE));
    assert!(!page.body.contains("action=\"/console/meetings\""));
    assert!(!page.body.contains("name=\"title\""));

    let before = meeting_count(&demo.db);
    let fields = schedule_fields("查看账号的会议");
    let page = viewer.post("/console/meetings", &borrowed(&fields)).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert_eq!(meeting_count(&demo.db), before);

    let page_path = format!("/console/meetings/{}", demo.meeting);
    let page = viewer.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("现在点名"));
    assert_eq!(viewer.get(&format!("{page_path}/live")).await.status, 200);
    let page = viewer
        .post(&format!("{page_path}/rollcall"), &[("window_minutes", "2")])
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(opened_rollcalls(&demo.db, &demo.meeting), 0);
}
