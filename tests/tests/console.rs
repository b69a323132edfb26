//! The web console in a real browser (Debian's headless Chromium through
//! ChromeDriver): a village editor writes a finance disclosure with a
//! table and submits it, the town reviewer approves it, and a box synced
//! from the same headend shows it; a second village's editor can neither
//! list nor open it (URL tampering included); form errors show next to the
//! field; the session cookie is HttpOnly and SameSite=Strict. Screenshots
//! of each page go to target/screenshots/console/.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::time::Duration;

use browser::Browser;
use e2e::{demo_headend_db, screenshot_dir, start_headend, VILLAGE};
use headend::db::{NewAccount, Role};
use input::RemoteKey::{Digit, Ok as OkKey};
use tv::HeadlessSession;

const WAIT: Duration = Duration::from_secs(60);
const PAGE: Duration = Duration::from_secs(15);
const PASSWORD: &str = "correct-horse-42";
const TITLE: &str = "2026年11月种粮补贴发放（管理台）";

fn shots() -> PathBuf {
    let dir = screenshot_dir().join("console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves the page at 1280 wide (as staff use it) under `name`.
fn shoot(b: &Browser, name: &str) {
    b.save_screenshot(shots().join(format!("{name}.png")))
        .unwrap();
}

fn type_into(b: &Browser, css: &str, text: &str) {
    let e = b.find(css).unwrap();
    e.clear().unwrap();
    e.send_keys(text).unwrap();
}

fn log_in(b: &Browser, base: &str, user: &str, password: &str) {
    b.goto(&format!("{base}/console/login")).unwrap();
    type_into(b, "#username", user);
    type_into(b, "#password", password);
    b.find("form button[type=submit]").unwrap().click().unwrap();
}

fn log_out(b: &Browser) {
    b.find("header .who button").unwrap().click().unwrap();
    b.wait_for("#username", PAGE).unwrap();
}

fn account(db: &headend::Db, name: &str, region: &str, role: Role) {
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

fn write_bad_csv(dir: &Path) -> PathBuf {
    let path = dir.join("补贴明细.csv");
    std::fs::write(
        &path,
        "户主,金额\n王建国,320.00\n李桂兰,28O.5\n合计,600.50\n",
    )
    .unwrap();
    path
}

#[test]
fn a_disclosure_written_in_the_console_is_approved_and_reaches_a_box() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    account(&db, "dongpo-editor", VILLAGE, Role::Editor);
    account(&db, "hewan-editor", "990101101002", Role::Editor);
    account(&db, "qingshi-reviewer", "990101101000", Role::Reviewer);
    let server = start_headend(db);
    let base = server.url();

    e2e::demo_identity(&dir.path().join("box"), "demo-box");
    let config = tv::Config::parse(
        &format!(
            "headend_url = \"{base}\"\nvillage_code = \"{VILLAGE}\"\ndevice_id = \"demo-box\"\ndata_dir = \"{}\"\n",
            dir.path().join("box").display()
        ),
        "test.toml",
    )
    .unwrap();
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    tv.wait_for_sync_result(WAIT).unwrap();
    tv.acknowledge_notices();

    let b = Browser::launch().unwrap();
    b.set_window_size(1280, 1000).unwrap();

    // A wrong password is said next to the field.
    log_in(&b, &base, "dongpo-editor", "not-the-password");
    b.wait_for_text("#password-error", "用户名或密码不对", PAGE)
        .unwrap();
    shoot(&b, "01-login-wrong-password");

    // The editor's dashboard; the session cookie cannot be read by scripts
    // or sent by another site.
    log_in(&b, &base, "dongpo-editor", PASSWORD);
    b.wait_for("#boxes-online", PAGE).unwrap();
    shoot(&b, "02-dashboard-village-editor");
    let cookies = b.cookies().unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name == headend::SESSION_COOKIE)
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert!(session.http_only, "{session:?}");
    assert_eq!(session.same_site.as_deref(), Some("Strict"));
    assert_eq!(b.execute("return document.cookie", &[]).unwrap(), "");

    // The editor: an amount is checked as it is typed; saving with no
    // title and that amount shows both errors next to their fields and
    // keeps what was typed.
    b.goto(&format!("{base}/console/content/new")).unwrap();
    b.find("#module")
        .unwrap()
        .select_by_value("补助资金")
        .unwrap();
    type_into(&b, "#period", "2026年11月");
    type_into(&b, "#caption", "补贴发放明细");
    type_into(&b, "#col_name_0", "户主");
    type_into(&b, "#col_name_1", "金额");
    type_into(&b, "#cell_0_0", "王建国");
    type_into(&b, "#cell_0_1", "320.00");
    type_into(&b, "#cell_1_0", "李桂兰");
    type_into(&b, "#cell_1_1", "280.505");
    b.wait_for_text("#cell_1_1-error", "金额格式不对", PAGE)
        .unwrap();
    b.find("button[value=save]").unwrap().click().unwrap();
    b.wait_for_text("#title-error", "请填写标题", PAGE).unwrap();
    b.wait_for_text("#cell_1_1-error", "金额格式不对", PAGE)
        .unwrap();
    assert_eq!(
        b.find("#cell_0_0")
            .unwrap()
            .property("value")
            .unwrap()
            .as_deref(),
        Some("王建国"),
        "what was typed is kept"
    );
    shoot(&b, "03-editor-field-errors");

    // Fixed, one more row added with the button, saved and submitted.
    type_into(&b, "#title", TITLE);
    type_into(&b, "#cell_1_1", "280.50");
    b.find("button[data-add-row]").unwrap().click().unwrap();
    b.wait_for("#cell_3_0", PAGE).unwrap();
    type_into(&b, "#cell_3_0", "张秀英");
    type_into(&b, "#cell_3_1", "150");
    shoot(&b, "04-editor-filled");
    b.find("button[value=submit]").unwrap().click().unwrap();
    b.wait_for_text("#status", "待审核", PAGE).unwrap();
    b.wait_for_text("#preview", "750.50", PAGE).unwrap();
    let url = b.current_url().unwrap();
    let draft_path = url[url.find("/console/").unwrap()..]
        .split('?')
        .next()
        .unwrap()
        .to_string();
    shoot(&b, "05-draft-submitted");

    b.goto(&format!("{base}/console/content")).unwrap();
    b.wait_for_text("main table", TITLE, PAGE).unwrap();
    shoot(&b, "06-content-list");

    // A spreadsheet with a bad amount: every problem by cell, nothing kept.
    b.goto(&format!("{base}/console/import")).unwrap();
    b.find("#module")
        .unwrap()
        .select_by_value("补助资金")
        .unwrap();
    type_into(&b, "#period", "2026年11月");
    type_into(&b, "#title", "导入的补贴明细");
    let csv = write_bad_csv(dir.path());
    b.find("#file")
        .unwrap()
        .send_keys(csv.to_str().unwrap())
        .unwrap();
    b.find("form.stack button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    b.wait_for_text("#problems", "B3", PAGE).unwrap();
    shoot(&b, "07-import-problems");
    log_out(&b);

    // Another village's editor: not in the list, and the address refused.
    log_in(&b, &base, "hewan-editor", PASSWORD);
    b.wait_for("#boxes-online", PAGE).unwrap();
    b.goto(&format!("{base}/console/content")).unwrap();
    b.wait_for("main", PAGE).unwrap();
    assert!(!b.page_source().unwrap().contains(TITLE));
    b.goto(&format!("{base}{draft_path}")).unwrap();
    b.wait_for_text("main h1", "没有权限", PAGE).unwrap();
    assert!(!b.page_source().unwrap().contains(TITLE));
    shoot(&b, "08-other-village-refused");
    b.goto(&format!("{base}{draft_path}/edit")).unwrap();
    b.wait_for_text("main h1", "没有权限", PAGE).unwrap();
    b.find("main a").unwrap().click().unwrap();
    b.wait_for("#boxes-online", PAGE).unwrap();
    log_out(&b);

    // The town reviewer approves it from the queue.
    log_in(&b, &base, "qingshi-reviewer", PASSWORD);
    b.wait_for("#boxes-online", PAGE).unwrap();
    b.goto(&format!("{base}/console/review")).unwrap();
    b.wait_for_text("main table", TITLE, PAGE).unwrap();
    shoot(&b, "09-review-queue");
    b.find("main table a").unwrap().click().unwrap();
    b.wait_for("#approve", PAGE).unwrap();
    b.find("#approve").unwrap().click().unwrap();
    b.wait_for_text(".notice", "已通过并发布", PAGE).unwrap();
    b.wait_for_text("#history", "第1版", PAGE).unwrap();
    shoot(&b, "10-approved-history");

    // 三务公开 › 财务公开 › 补助资金 on the box: the disclosure arrives.
    tv.press(OkKey);
    tv.press(Digit(3));
    tv.press(Digit(2));
    e2e::wait_until_shown(&mut tv, TITLE, &[input::RemoteKey::Back, Digit(2)], WAIT);
    let rows = tv.view().rows;
    let row = rows.iter().position(|(t, _)| t.contains(TITLE)).unwrap();
    tv.press(Digit(row as u8 + 1));
    let texts = tv.visible_texts();
    assert!(texts.iter().any(|t| t.contains("280.50")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("张秀英")), "{texts:?}");
}

#[test]
fn every_page_renders_for_the_county_admin_and_works_from_the_keyboard() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let server = start_headend(db);
    let base = server.url();
    let b = Browser::launch().unwrap();
    b.set_window_size(1280, 1000).unwrap();

    // Logged in with the keyboard alone: type, Tab, type, Enter.
    b.goto(&format!("{base}/console/login")).unwrap();
    shoot(&b, "00-login");
    let (user, password) = headend::seed::DEMO_ADMIN;
    b.find("#username").unwrap().send_keys(user).unwrap();
    b.find("#username")
        .unwrap()
        .send_keys(browser::keys::TAB)
        .unwrap();
    let focused = b.execute("return document.activeElement.id", &[]).unwrap();
    assert_eq!(focused, "password");
    b.find("#password")
        .unwrap()
        .send_keys(&format!("{password}{}", browser::keys::ENTER))
        .unwrap();
    b.wait_for("#boxes-online", PAGE).unwrap();
    shoot(&b, "11-dashboard-county-admin");
    assert!(
        b.page_source().unwrap().contains("<svg"),
        "charts are drawn"
    );

    for (path, name) in [
        ("/console/content/new", "12-editor-new"),
        ("/console/review", "13-review-empty"),
        ("/console/import", "14-import"),
        ("/console/meetings", "15-meetings"),
        ("/console/services", "16-services"),
        ("/console/devices", "17-devices"),
        ("/console/accounts", "18-accounts"),
    ] {
        b.goto(&format!("{base}{path}")).unwrap();
        let heading = b.wait_for("main h1", PAGE).unwrap().text().unwrap();
        assert!(!heading.contains("没有权限"), "{path}: {heading}");
        // Nothing is pulled from elsewhere (no CDN).
        let external = b
            .execute(
                "return Array.from(document.querySelectorAll('script[src],link[href],img[src]')).map(e => e.src || e.href).filter(u => !u.startsWith(location.origin)).join(' ')",
                &[],
            )
            .unwrap();
        assert_eq!(external, "", "{path}");
        shoot(&b, name);
    }
}

#[test]
fn roll_call_responses_arrive_live_on_the_meeting_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_headend_db(dir.path());
    let now = headend::push::now_ms();
    let meeting = headend::seed_meetings::seed_demo_meeting(&db, now / 1000).unwrap();
    let server = start_headend(db.clone());
    let base = server.url();
    let b = Browser::launch().unwrap();
    b.set_window_size(1280, 1000).unwrap();
    let (user, password) = headend::seed::DEMO_ADMIN;
    log_in(&b, &base, user, password);
    b.wait_for("#boxes-online", PAGE).unwrap();

    // From the list to the meeting, then 现在点名.
    b.goto(&format!("{base}/console/meetings")).unwrap();
    b.wait_for(&format!("a[href='/console/meetings/{meeting}']"), PAGE)
        .unwrap()
        .click()
        .unwrap();
    b.wait_for("#window", PAGE).unwrap();
    b.find("form.actions button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    b.wait_for_text(".live-box", "正在签到", PAGE).unwrap();
    b.wait_for_text(".live-box .tile.present .n", "0", PAGE)
        .unwrap();
    shoot(&b, "19-rollcall-started");

    // A box signs in while the broadcast plays; the page updates by itself.
    b.execute("window.stillHere = 'yes'; return 'ok'", &[])
        .unwrap();
    let rollcall = db
        .open_rollcalls(headend::push::now_ms())
        .unwrap()
        .into_iter()
        .find(|r| r.meeting == meeting)
        .unwrap()
        .id;
    let t = headend::push::now_ms();
    db.playback_beat("demo-box", Some("live-qingshi-party-day"), t)
        .unwrap();
    let sign_in = model::SignIn {
        rollcall,
        member: "dongpo-01".into(),
        elapsed_ms: 4_000,
    };
    db.sign_in("demo-box", "console-live-1", &sign_in, t + 500)
        .unwrap();
    b.wait_for_text(".live-box .tile.present .n", "1", PAGE)
        .unwrap();
    assert_eq!(
        b.execute("return window.stillHere", &[]).unwrap(),
        "yes",
        "updated in place, not reloaded"
    );
    shoot(&b, "20-rollcall-live");
}
