//! Interactive services end to end: the real headend (service inbox,
//! questionnaires, exams scored there), the real sync client with its
//! outbox, and the TV rendered headlessly and driven by remote keys.
//!
//! Each flow is counted in key presses, since an elderly viewer pays for
//! every one; `cargo xtask bench presses` runs these tests with
//! `DANGJIAN_PRESSES_JSON` set to collect the counts.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::{demo_headend_db, http, screenshot_dir, VILLAGE};
use headend::seed_services::VILLAGE_EVALUATION;
use headend::Db;
use input::RemoteKey::{self, Back, Digit, Left, Ok, Yellow};
use serde_json::{json, Value};
use tv::{Display, HeadlessSession};

const WAIT: Duration = Duration::from_secs(60);
const QINGSHI: &str = "990101101000";
const REPLY: &str = "明天上午农技员到您家查看，请留意电话。";

struct Headend {
    db: Arc<Db>,
    server: Option<headend::TestServer>,
    addr: SocketAddr,
}

impl Headend {
    fn start(dir: &Path) -> Headend {
        let db = demo_headend_db(dir);
        let server = e2e::start_headend(db.clone());
        Headend {
            db,
            addr: server.addr,
            server: Some(server),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn stop(&mut self) {
        self.server = None;
    }

    fn restart(&mut self) {
        self.server = Some(headend::TestServer::start(self.db.clone(), self.addr).unwrap());
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        serde_json::from_str(&http(self.addr, method, path, &body.to_string())).unwrap()
    }

    /// Submits a draft the demo admin wrote and has the town's reviewer
    /// approve it (content reaches boxes only through review); the id it
    /// is published as.
    fn publish(&self, draft: &Value) -> String {
        let id = draft["id"].as_i64().unwrap_or_else(|| panic!("{draft}"));
        self.call(
            "POST",
            &format!("/api/v1/admin/content/{id}/submit"),
            &Value::Null,
        );
        let reviewer = "qingshi-reviewer";
        if self.db.account(reviewer).unwrap().is_none() {
            self.db
                .create_account(
                    &headend::db::NewAccount {
                        username: reviewer.into(),
                        display_name: reviewer.into(),
                        region: QINGSHI.parse().unwrap(),
                        role: headend::db::Role::Reviewer,
                        password: "correct-horse-42".into(),
                    },
                    None,
                    0,
                )
                .unwrap();
        }
        let token = e2e::login(self.addr, reviewer, "correct-horse-42");
        let approved: Value = serde_json::from_str(&e2e::http_as(
            self.addr,
            &token,
            "POST",
            &format!("/api/v1/admin/content/{id}/approve"),
            "",
        ))
        .unwrap();
        approved["item"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{approved}"))
            .to_string()
    }

    /// The town's inbox, as staff see it.
    fn inbox(&self) -> Vec<Value> {
        let body = http(
            self.addr,
            "GET",
            &format!("/api/v1/admin/service-requests?region={QINGSHI}"),
            "",
        );
        serde_json::from_str::<Value>(&body)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits until the inbox holds `n` requests.
    fn wait_inbox(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let inbox = self.inbox();
            if inbox.len() >= n {
                return inbox;
            }
            assert!(Instant::now() < deadline, "the request never arrived");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn config(headend: &str, data_dir: &Path, device: &str) -> tv::Config {
    e2e::demo_identity(data_dir, device);
    let text = format!(
        "headend_url = \"{headend}\"\nvillage_code = \"{VILLAGE}\"\ndevice_id = \"{device}\"\n\
         data_dir = \"{}\"\n",
        data_dir.display()
    );
    tv::Config::parse(&text, "test.toml").unwrap()
}

fn synced(config: &tv::Config) -> HeadlessSession {
    let mut tv = HeadlessSession::start(config, true).unwrap();
    tv.wait_for_sync_result(WAIT).unwrap();
    tv.acknowledge_notices();
    tv
}

/// Presses keys and counts them.
struct Remote {
    presses: usize,
}

impl Remote {
    fn new() -> Remote {
        Remote { presses: 0 }
    }

    fn press(&mut self, tv: &mut HeadlessSession, keys: &[RemoteKey]) {
        for key in keys {
            tv.press(*key);
            self.presses += 1;
        }
    }

    fn digits(&mut self, tv: &mut HeadlessSession, digits: &str) {
        for d in digits.bytes() {
            self.press(tv, &[Digit(d - b'0')]);
        }
    }
}

fn shoot_both(tv: &mut HeadlessSession, name: &str) {
    let shots = screenshot_dir();
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&shots.join(format!("{name}-{}x{}.png", display.width, display.height)))
            .unwrap();
    }
    tv.set_display(Display::HD);
}

fn shows(tv: &HeadlessSession, text: &str) -> bool {
    tv.visible_texts().iter().any(|t| t.contains(text))
}

#[track_caller]
fn assert_shows(tv: &HeadlessSession, text: &str) {
    assert!(shows(tv, text), "{text:?} not in {:?}", tv.visible_texts());
}

/// Records a press count for `cargo xtask bench presses`.
fn report_presses(name: &str, presses: usize) {
    println!("presses {name}: {presses}");
    let Some(path) = std::env::var_os("DANGJIAN_PRESSES_JSON") else {
        return;
    };
    let path = Path::new(&path);
    let mut all: Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    all[name] = json!(presses);
    std::fs::write(path, serde_json::to_string_pretty(&all).unwrap()).unwrap();
}

/// Waits, as the household's record is refetched, until `text` shows.
fn wait_until_shows(tv: &mut HeadlessSession, text: &str) {
    let deadline = Instant::now() + WAIT;
    while !shows(tv, text) {
        assert!(
            Instant::now() < deadline,
            "{text:?} never showed: {:?}",
            tv.visible_texts()
        );
        let _ = tv.wait_for("the household's record", Duration::from_secs(1), |e| {
            matches!(e, sync::SyncEvent::HouseholdChanged)
        });
    }
}

fn wait_household(tv: &mut HeadlessSession) {
    tv.wait_for("the household's record", WAIT, |e| {
        matches!(e, sync::SyncEvent::HouseholdChanged)
    })
    .unwrap();
}

#[test]
fn a_service_request_takes_fifteen_presses_and_its_reply_reaches_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let headend = Headend::start(dir.path());
    // demo-box: 王建国 and 李桂兰 of 东坡村.
    let mut tv = synced(&config(&headend.url(), &dir.path().join("box"), "demo-box"));
    let mut remote = Remote::new();

    // Yellow opens 一键服务; OK takes 农业技术服务, OK its first preset.
    remote.press(&mut tv, &[Yellow]);
    assert_shows(&tv, "农业技术服务");
    assert_shows(&tv, "我的服务");
    shoot_both(&mut tv, "40-services");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "要办什么事");
    shoot_both(&mut tv, "41-service-presets");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "留个联系电话");
    remote.digits(&mut tv, "13812345678");
    assert_shows(&tv, "138 1234 5678");
    shoot_both(&mut tv, "42-service-phone");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "已提交");
    assert_shows(&tv, "24小时内回复");
    shoot_both(&mut tv, "43-service-sent");
    assert!(remote.presses <= 16, "{} presses", remote.presses);
    report_presses("service_request_preset_11_digit_phone", remote.presses);

    let inbox = headend.wait_inbox(1);
    assert_eq!(inbox[0]["category_name"], "农业技术服务");
    assert_eq!(inbox[0]["phone"], "13812345678");
    assert!(inbox[0]["preset"].as_str().is_some_and(|p| !p.is_empty()));

    // A second request remembers the number: from 一键服务 (Yellow from
    // home), a digit for the category, OK for its first preset, OK to send.
    remote = Remote::new();
    remote.press(&mut tv, &[Ok]); // back to 一键服务, as Yellow from home
    remote.press(&mut tv, &[Digit(2), Ok]);
    assert_shows(&tv, "138 1234 5678");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "已提交");
    report_presses("service_request_remembered_phone", remote.presses);
    assert_eq!(headend.wait_inbox(2).len(), 2);

    // A number one digit short is refused with a plain message, and
    // nothing is sent.
    tv.press(Ok);
    tv.press(Digit(1));
    tv.press(Ok);
    tv.press(Left);
    tv.press(Ok);
    assert_shows(&tv, "手机号码是11位，现在是10位");
    assert_shows(&tv, "138 1234 567");
    shoot_both(&mut tv, "44-service-phone-wrong");
    tv.press(Back);
    tv.press(Back);
    tv.press(Back);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(headend.inbox().len(), 2, "a refused number is not sent");

    // Staff answer the first request; the box is told over the push channel.
    let first = inbox[0]["id"].as_i64().unwrap();
    headend.call(
        "POST",
        &format!("/api/v1/admin/service-requests/{first}/assign"),
        &json!({ "assignee": "镇农技站 刘站长" }),
    );
    wait_household(&mut tv);
    headend.call(
        "POST",
        &format!("/api/v1/admin/service-requests/{first}/reply"),
        &json!({ "text": REPLY }),
    );
    let deadline = Instant::now() + WAIT;
    while tv.view().tiles[8].badge != "1" {
        assert!(Instant::now() < deadline, "no badge: {:?}", tv.view().tiles);
        let _ = tv.wait_for("the reply", Duration::from_secs(1), |e| {
            matches!(e, sync::SyncEvent::HouseholdChanged)
        });
    }
    // Home shows the badge on 一键服务, and 我的服务 says how many are new.
    assert_eq!(tv.view().tiles[8].label, "一键服务");
    shoot_both(&mut tv, "45-home-reply-badge");
    tv.press(Yellow);
    assert_shows(&tv, "1 条新回复");
    tv.press(Digit(9));
    assert_shows(&tv, "已回复");
    shoot_both(&mut tv, "46-my-requests");
    let rows = tv.view().rows;
    let answered = rows
        .iter()
        .position(|(title, _)| title.contains("农业技术服务"))
        .unwrap_or_else(|| panic!("{rows:?}"));
    tv.press(Digit(answered as u8 + 1));
    assert_shows(&tv, REPLY);
    shoot_both(&mut tv, "47-request-reply");
    tv.press(Back);
    tv.press(Back);
    tv.press(Back);
    assert_eq!(
        tv.view().tiles[8].badge,
        "",
        "read replies lose their badge"
    );
}

#[test]
fn a_request_made_while_the_headend_is_down_arrives_once_after_an_app_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut headend = Headend::start(dir.path());
    let data = dir.path().join("box");
    let cfg = config(&headend.url(), &data, "demo-box-2");
    let mut tv = synced(&cfg);
    headend.stop();

    tv.press(Yellow);
    tv.press(Digit(5)); // 邻里纠纷调解
    let presets = tv.view().rows.len();
    tv.press(Digit(presets as u8)); // 不选，直接留电话
    for d in "073188886666".bytes() {
        tv.press(Digit(d - b'0'));
    }
    tv.press(Ok);
    assert_shows(&tv, "已提交");
    let outbox = store::Outbox::open(&data.join("outbox.db"), 0).unwrap();
    assert_eq!(
        outbox.count(model::SERVICE_REQUEST_KIND).unwrap(),
        1,
        "on disk before 已提交"
    );
    drop(outbox);
    // 我的服务 lists it before the headend has it.
    tv.press(Ok);
    tv.press(Digit(9));
    assert_shows(&tv, "邻里纠纷调解");
    drop(tv);

    headend.restart();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let app = std::thread::spawn(move || {
        let _tv = synced(&cfg);
        let _ = finished.recv();
    });
    let inbox = headend.wait_inbox(1);
    assert_eq!(inbox[0]["category_name"], "邻里纠纷调解");
    assert_eq!(inbox[0]["phone"], "073188886666");
    let deadline = Instant::now() + WAIT;
    while store::Outbox::open(&data.join("outbox.db"), 0)
        .unwrap()
        .len()
        .unwrap()
        > 0
    {
        assert!(Instant::now() < deadline, "outbox never emptied");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(headend.inbox().len(), 1, "exactly once");
    // Opening 一键服务 was counted in memory, written when the app closed,
    // and reported once it could be sent.
    let usage = headend.call(
        "GET",
        &format!("/api/v1/admin/stats/usage?region={VILLAGE}"),
        &Value::Null,
    );
    let opened = usage["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "一键服务")
        .unwrap_or_else(|| panic!("{usage}"));
    assert_eq!(opened["opens"], 1, "{usage}");
    done.send(()).unwrap();
    app.join().unwrap();
}

#[test]
fn an_evaluation_is_answered_once_per_household_and_then_shows_taken() {
    let dir = tempfile::tempdir().unwrap();
    let headend = Headend::start(dir.path());
    let data = dir.path().join("box");
    let mut tv = synced(&config(&headend.url(), &data, "demo-box"));
    let mut remote = Remote::new();

    remote.press(&mut tv, &[Digit(8)]);
    assert_shows(&tv, "党风评议");
    shoot_both(&mut tv, "50-evaluations");
    let rows = tv.view().rows;
    let village = rows
        .iter()
        .position(|(title, _)| title.contains("村"))
        .unwrap_or_else(|| panic!("{rows:?}"));
    remote.press(&mut tv, &[Digit(village as u8 + 1)]);
    assert_shows(&tv, "第 1/3 题");
    shoot_both(&mut tv, "51-evaluation-question");
    // Two ratings and a single choice: a digit picks, OK confirms.
    remote.press(&mut tv, &[Digit(5), Ok, Digit(4), Ok]);
    assert_shows(&tv, "第 3/3 题");
    remote.press(&mut tv, &[Digit(1), Ok]);
    shoot_both(&mut tv, "52-evaluation-review");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "已提交");
    report_presses("evaluation_3_questions", remote.presses);

    // The headend has it once; the box lists it as 已参加.
    let deadline = Instant::now() + WAIT;
    let results = loop {
        let r = headend.call(
            "GET",
            &format!("/api/v1/admin/questionnaires/{VILLAGE_EVALUATION}/results?region={VILLAGE}"),
            &Value::Null,
        );
        if r["households"] == 1 {
            break r;
        }
        assert!(Instant::now() < deadline, "never arrived: {r}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(results["households"], 1);
    tv.press(Ok);
    assert_shows(&tv, "已参加");
    tv.press(Digit(village as u8 + 1));
    assert_shows(&tv, "已参加");
    shoot_both(&mut tv, "53-evaluation-taken");
    tv.press(Ok);

    // A second answer from this household (as from a box whose own record
    // was lost) is refused by the headend and kept aside, not retried.
    let mut outbox = store::Outbox::open(&data.join("outbox.db"), 0).unwrap();
    let answers: Vec<Value> = (1..=3)
        .map(|i| json!({ "question": format!("q{i}"), "choices": [0] }))
        .collect();
    let key = outbox
        .enqueue(
            model::EVALUATION_KIND,
            &json!({ "questionnaire": VILLAGE_EVALUATION, "answers": answers }),
            0,
        )
        .unwrap();
    tv.nudge_sync();
    let deadline = Instant::now() + WAIT;
    while !outbox.rejected().unwrap().iter().any(|(k, _, _)| k == &key) {
        assert!(
            Instant::now() < deadline,
            "the second answer was not refused"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let refused = outbox.rejected().unwrap();
    assert!(
        refused
            .iter()
            .any(|(_, _, reason)| reason.contains("already")),
        "{refused:?}"
    );
    assert_eq!(outbox.count(model::EVALUATION_KIND).unwrap(), 0);
    let again = headend.call(
        "GET",
        &format!("/api/v1/admin/questionnaires/{VILLAGE_EVALUATION}/results?region={VILLAGE}"),
        &Value::Null,
    );
    assert_eq!(again["households"], 1, "counted once");
    assert_shows(&tv, "已参加");
}

/// Opens 在线考试 from home: 党教园地 (5), 在线考试 (2).
fn open_exams(tv: &mut HeadlessSession, remote: &mut Remote) {
    remote.press(tv, &[Digit(5), Digit(2)]);
    assert_shows(tv, "我的成绩");
}

#[test]
fn a_ten_question_exam_is_answered_with_digits_and_scored_on_the_headend() {
    let dir = tempfile::tempdir().unwrap();
    let headend = Headend::start(dir.path());
    let mut tv = synced(&config(&headend.url(), &dir.path().join("box"), "demo-box"));
    let mut remote = Remote::new();
    open_exams(&mut tv, &mut remote);
    shoot_both(&mut tv, "60-exams");
    let rows = tv.view().rows;
    assert!(rows[0].0.contains("党章"), "{rows:?}");
    // The exam, then who takes it (王建国, first), then the rules.
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "王建国");
    assert_shows(&tv, "李桂兰");
    shoot_both(&mut tv, "61-exam-members");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "10 题");
    shoot_both(&mut tv, "62-exam-intro");
    remote.press(&mut tv, &[Ok]);
    assert_shows(&tv, "第 1/10 题");
    assert_shows(&tv, "剩余");
    shoot_both(&mut tv, "63-exam-question");
    // Eight right, two wrong: the key is dz-01..dz-10.
    let key = [1u8, 1, 0, 1, 1, 2, 0, 0, 0, 0];
    for (i, right) in key.iter().enumerate() {
        let pick = if i < 8 { *right } else { (right + 1) % 2 };
        remote.press(&mut tv, &[Digit(pick + 1), Ok]);
    }
    assert_shows(&tv, "已答 10 题");
    shoot_both(&mut tv, "64-exam-review");
    remote.press(&mut tv, &[Ok]);
    report_presses("exam_10_single_choice", remote.presses);
    assert_shows(&tv, "已交卷");

    // The score comes back from the headend.
    wait_until_shows(&mut tv, "80 分");
    shoot_both(&mut tv, "65-exam-score");
    // Back at who takes it: 王建国 has his score, 李桂兰 has not taken it.
    tv.press(Ok);
    assert_shows(&tv, "已交卷 · 80 分");
    assert_shows(&tv, "未考");
    // 我的成绩, the last row of 在线考试, keeps each member's history.
    tv.press(Back);
    let rows = tv.view().rows;
    tv.press(Digit(rows.len() as u8));
    assert_shows(&tv, "王建国 · 2026年党章知识考试");
    assert_shows(&tv, "80 分");
    shoot_both(&mut tv, "66-exam-results");
}

#[test]
fn an_exam_that_runs_out_of_time_hands_in_what_was_answered() {
    let dir = tempfile::tempdir().unwrap();
    let headend = Headend::start(dir.path());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let draft = headend.call(
        "POST",
        "/api/v1/admin/exams",
        &json!({ "scope": VILLAGE, "title": "三分钟小测验", "time_limit_s": 6,
                 "opens_at": now - 60, "closes_at": now + 3600,
                 "questions": ["dz-01", "dz-02", "dz-03", "dz-04"] }),
    );
    let exam_id = headend.publish(&draft);
    let mut tv = synced(&config(&headend.url(), &dir.path().join("box"), "demo-box"));
    let mut remote = Remote::new();
    open_exams(&mut tv, &mut remote);
    let rows = tv.view().rows;
    let row = rows
        .iter()
        .position(|(title, _)| title == "三分钟小测验")
        .unwrap_or_else(|| panic!("{rows:?}"));
    remote.press(&mut tv, &[Digit(row as u8 + 1), Digit(2), Ok]);
    assert_shows(&tv, "第 1/4 题");
    // Two answered right, then time runs out.
    remote.press(&mut tv, &[Digit(2), Ok, Digit(2), Ok]);
    assert_shows(&tv, "第 3/4 题");
    let deadline = Instant::now() + WAIT;
    while !shows(&tv, "已交卷") {
        assert!(Instant::now() < deadline, "time never ran out");
        std::thread::sleep(Duration::from_millis(200));
        tv.tick();
    }
    assert_shows(&tv, "时间到");
    wait_until_shows(&mut tv, "50 分");
    shoot_both(&mut tv, "67-exam-timed-out");
    let board = headend.call(
        "GET",
        &format!("/api/v1/admin/exams/{exam_id}/results"),
        &Value::Null,
    );
    assert_eq!(board[0]["name"], "李桂兰", "{board}");
    assert_eq!(board[0]["correct"], 2, "{board}");
    assert_eq!(board[0]["timed_out"], true, "{board}");
}
