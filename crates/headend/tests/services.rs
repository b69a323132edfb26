//! Interactive services on the real server: service requests from boxes,
//! worked through by staff, with the box told over the push channel;
//! evaluations once per household with totals only; exams scored here from
//! a bank whose answers never reach the feed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{call, get_json, json, Sse};
use headend::db::RequestFilter;
use headend::seed_services::{DEMO_EXAM, TOWN_EVALUATION, VILLAGE_EVALUATION};
use headend::{push::now_ms, seed, Db, TestServer};
use serde_json::{json, Value};

const QINGSHI: &str = "990101101000";
const LIUXI: &str = "990101102000";

fn demo() -> (tempfile::TempDir, Arc<Db>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    (dir, db, server)
}

fn submit(server: &TestServer, device: &str, key: &str, kind: &str, payload: Value) -> Value {
    let (code, answer) = json(
        server.addr,
        "POST",
        "/api/v1/submissions",
        json!({ "device": device, "items": [{ "key": key, "kind": kind, "payload": payload }] }),
    );
    assert_eq!(code, 200, "{answer}");
    answer[0].clone()
}

#[test]
fn a_service_request_is_checked_answered_and_the_box_is_told() {
    let (_dir, db, server) = demo();
    let request = |phone: &str, category: &str, preset: Option<&str>| json!({ "category": category, "preset": preset, "phone": phone });
    let bad_phone = submit(
        &server,
        "demo-box",
        "r0",
        "service_request",
        request("1381234567", "agri", None),
    );
    assert_eq!(bad_phone["result"], "rejected");
    assert!(bad_phone["reason"].as_str().unwrap().contains("11 digits"));
    let unknown = submit(
        &server,
        "demo-box",
        "r0b",
        "service_request",
        request("13812345678", "astrology", None),
    );
    assert_eq!(unknown["result"], "rejected");
    let wrong_preset = submit(
        &server,
        "demo-box",
        "r0c",
        "service_request",
        request("13812345678", "agri", Some("送戏下乡")),
    );
    assert_eq!(wrong_preset["result"], "rejected");

    let good = request("13812345678", "agri", Some("庄稼病虫害"));
    let first = submit(&server, "demo-box", "r1", "service_request", good.clone());
    assert_eq!(first["result"], "accepted", "{first}");
    let again = submit(&server, "demo-box", "r1", "service_request", good);
    assert_eq!(again["result"], "duplicate");
    let landline = submit(
        &server,
        "demo-box-2",
        "r2",
        "service_request",
        request("073188886666", "dispute", None),
    );
    assert_eq!(landline["result"], "accepted", "{landline}");

    // Staff of 青石镇 see both; 柳溪乡 sees none.
    let (code, inbox) = get_json(
        server.addr,
        &format!("/api/v1/admin/service-requests?region={QINGSHI}"),
    );
    assert_eq!(code, 200);
    assert_eq!(inbox.as_array().unwrap().len(), 2, "{inbox}");
    let mine = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["device"] == "demo-box")
        .unwrap()
        .clone();
    assert_eq!(mine["category_name"], "农业技术服务");
    assert_eq!(mine["village_name"], "东坡村");
    assert_eq!(mine["status"], "submitted");
    assert_eq!(mine["overdue"], false);
    let (_, other_town) = get_json(
        server.addr,
        &format!("/api/v1/admin/service-requests?region={LIUXI}"),
    );
    assert_eq!(other_town, json!([]));

    // A day later, unanswered requests are overdue.
    let tomorrow = now_ms() / 1000 + 25 * 3600;
    let overdue = db
        .service_requests(
            &QINGSHI.parse().unwrap(),
            &RequestFilter {
                status: None,
                overdue_only: true,
            },
            tomorrow,
        )
        .unwrap();
    assert_eq!(overdue.len(), 2);

    // The box holds its push connection; staff take, reply, close.
    let mut push = Sse::open(server.addr, "/api/v1/events?device=demo-box").unwrap();
    let mut other_box = Sse::open(server.addr, "/api/v1/events?device=demo-box-2").unwrap();
    let id = mine["id"].as_i64().unwrap();
    let (code, taken) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/service-requests/{id}/assign"),
        json!({ "assignee": "镇农技站 刘站长" }),
    );
    assert_eq!(
        (code, &taken["status"]),
        (200, &json!("accepted")),
        "{taken}"
    );
    let (name, _) = push.next(Duration::from_secs(10)).expect("box told");
    assert_eq!(name, "services");
    let (code, replied) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/service-requests/{id}/reply"),
        json!({ "text": "明天上午农技员到您家查看，请留意电话。" }),
    );
    assert_eq!((code, &replied["status"]), (200, &json!("replied")));
    assert_eq!(push.next(Duration::from_secs(10)).unwrap().0, "services");
    // Only the box whose request it is hears about it.
    assert!(other_box.next(Duration::from_millis(500)).is_none());

    let (code, record) = get_json(server.addr, "/api/v1/devices/demo-box/services");
    assert_eq!(code, 200);
    assert_eq!(record["requests"][0]["key"], "r1");
    assert_eq!(record["requests"][0]["status"], "replied");
    assert_eq!(
        record["requests"][0]["reply"],
        "明天上午农技员到您家查看，请留意电话。"
    );

    let (code, closed) = call(
        server.addr,
        "POST",
        &format!("/api/v1/admin/service-requests/{id}/close"),
        None,
    );
    assert_eq!(code, 200, "{closed}");
    let (code, _) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/service-requests/{id}/reply"),
        json!({ "text": "again" }),
    );
    assert_eq!(code, 400, "a closed request takes no more replies");

    let (_, counts) = get_json(
        server.addr,
        &format!("/api/v1/admin/service-requests/counts?region={QINGSHI}"),
    );
    let cats = counts["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 2);
    assert_eq!(counts["villages"][0]["name"], "东坡村");
    assert_eq!(counts["villages"][0]["total"], 2);
    assert_eq!(counts["villages"][0]["open"], 1);
    let (code, csv) = call(
        server.addr,
        "GET",
        &format!("/api/v1/admin/service-requests?region={QINGSHI}&format=csv"),
        None,
    );
    assert_eq!(code, 200);
    // A byte-order mark first, so spreadsheet programs read it as UTF-8.
    assert!(
        csv.trim_start_matches('\u{feff}')
            .starts_with("编号,村,类别"),
        "{csv}"
    );
    assert!(csv.contains("已办结"));
}

fn rate_all(q: &Value, pick: u8) -> Value {
    let answers: Vec<Value> = q["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|question| {
            let choices = if question["type"] == "rating" {
                vec![pick]
            } else {
                vec![0]
            };
            json!({ "question": question["id"], "choices": choices })
        })
        .collect();
    json!(answers)
}

fn feed_item(server: &TestServer, village: &str, id: &str) -> Value {
    let (_, page) = get_json(
        server.addr,
        &format!("/api/v1/feed?scope={village}&since=0&limit=1000"),
    );
    page["upserts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the feed"))
        .clone()
}

#[test]
fn one_evaluation_per_household_and_totals_only() {
    let (_dir, db, server) = demo();
    let questionnaire = feed_item(&server, "990101101001", TOWN_EVALUATION)["content"].clone();
    assert_eq!(questionnaire["kind"], "questionnaire");
    // A third household in 东坡村, so totals can be shown.
    let (code, _) = json(
        server.addr,
        "PUT",
        "/api/v1/admin/households/third-box",
        json!({ "village": "990101101001", "members": ["dongpo-04"] }),
    );
    db.register_device(
        "third-box",
        &"990101101001".parse().unwrap(),
        &common::device_token("third-box"),
        0,
    )
    .unwrap();
    assert_eq!(code, 200);

    let answer = |pick| json!({ "questionnaire": TOWN_EVALUATION, "answers": rate_all(&questionnaire, pick) });
    let first = submit(&server, "demo-box", "e1", "evaluation", answer(4));
    assert_eq!(first["result"], "accepted", "{first}");
    let second = submit(&server, "demo-box", "e2", "evaluation", answer(0));
    assert_eq!(second["result"], "rejected");
    assert!(second["reason"]
        .as_str()
        .unwrap()
        .contains("already answered"));
    let incomplete = submit(
        &server,
        "demo-box-2",
        "e3",
        "evaluation",
        json!({ "questionnaire": TOWN_EVALUATION, "answers": [] }),
    );
    assert_eq!(incomplete["result"], "rejected");
    // The village questionnaire is not for 柳溪乡's boxes (none bound there)
    // and an unknown questionnaire is refused.
    let unknown = submit(
        &server,
        "demo-box-2",
        "e4",
        "evaluation",
        json!({ "questionnaire": "eval-nope", "answers": [] }),
    );
    assert_eq!(unknown["result"], "rejected");

    let (_, record) = get_json(server.addr, "/api/v1/devices/demo-box/services");
    assert_eq!(record["evaluated"], json!([TOWN_EVALUATION]));
    let path = format!("/api/v1/admin/questionnaires/{TOWN_EVALUATION}/results?region={QINGSHI}");
    let (code, few) = get_json(server.addr, &path);
    assert_eq!(code, 200);
    assert_eq!(few["households"], 1);
    assert_eq!(
        few["questions"],
        json!([]),
        "one household's answers stay hidden"
    );
    assert!(few["withheld"].as_str().unwrap().contains("only 1"));

    assert_eq!(
        submit(&server, "demo-box-2", "e5", "evaluation", answer(2))["result"],
        "accepted"
    );
    assert_eq!(
        submit(&server, "third-box", "e6", "evaluation", answer(3))["result"],
        "accepted"
    );
    let (_, totals) = get_json(server.addr, &path);
    assert_eq!(totals["households"], 3);
    assert_eq!(totals["withheld"], Value::Null);
    let q1 = &totals["questions"][0];
    assert_eq!(q1["counts"], json!([0, 0, 1, 1, 1]));
    assert_eq!(q1["mean_rating"], 4.0);
    let text = totals.to_string();
    assert!(!text.contains("demo-box"), "no household named: {text}");

    // The village questionnaire reaches only 东坡村.
    assert_eq!(
        submit(
            &server,
            "demo-box",
            "e7",
            "evaluation",
            json!({ "questionnaire": VILLAGE_EVALUATION, "answers": rate_all(&feed_item(&server, "990101101001", VILLAGE_EVALUATION)["content"], 4) })
        )["result"],
        "accepted"
    );
}

#[test]
fn exams_are_scored_here_and_their_answers_never_reach_the_feed() {
    let (_dir, _db, server) = demo();
    let exam = feed_item(&server, "990101101001", DEMO_EXAM);
    assert_eq!(exam["content"]["questions"].as_array().unwrap().len(), 10);
    assert!(!exam.to_string().contains("answer"), "{exam}");

    // Seven right (dz-01..dz-07), three wrong.
    let key = [1u8, 1, 0, 1, 1, 2, 0, 0, 0, 0];
    let answers: Vec<Value> = key
        .iter()
        .enumerate()
        .map(|(i, right)| {
            let choice = if i < 7 { *right } else { (right + 1) % 4 };
            json!({ "question": format!("dz-{:02}", i + 1), "choices": [choice] })
        })
        .collect();
    let paper = json!({ "exam": DEMO_EXAM, "member": "dongpo-01", "answers": answers });
    let first = submit(&server, "demo-box", "x1", "exam", paper.clone());
    assert_eq!(first["result"], "accepted", "{first}");
    // A second paper from the same member is the same result, not a retake.
    assert_eq!(
        submit(&server, "demo-box", "x2", "exam", paper.clone())["result"],
        "duplicate"
    );
    // Someone else's member cannot take it on this box.
    let mut stranger = paper.clone();
    stranger["member"] = json!("dongpo-03");
    assert_eq!(
        submit(&server, "demo-box", "x3", "exam", stranger)["result"],
        "rejected"
    );
    // Timed out with two answered: scored on what was handed in.
    let partial = json!({ "exam": DEMO_EXAM, "member": "dongpo-02", "timed_out": true,
        "answers": [ { "question": "dz-01", "choices": [1] }, { "question": "dz-02", "choices": [3] } ] });
    assert_eq!(
        submit(&server, "demo-box", "x4", "exam", partial)["result"],
        "accepted"
    );

    let (_, record) = get_json(server.addr, "/api/v1/devices/demo-box/services");
    let results = record["exams"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let wang = results.iter().find(|r| r["member"] == "dongpo-01").unwrap();
    assert_eq!(
        (wang["correct"].as_u64(), wang["score"].as_u64()),
        (Some(7), Some(70))
    );
    assert_eq!(wang["title"], "2026年党章知识考试");
    let li = results.iter().find(|r| r["member"] == "dongpo-02").unwrap();
    assert_eq!(
        (li["score"].as_u64(), li["timed_out"].as_bool()),
        (Some(10), Some(true))
    );

    let (_, board) = get_json(
        server.addr,
        &format!("/api/v1/admin/exams/{DEMO_EXAM}/results"),
    );
    assert_eq!(board[0]["name"], "王建国");

    // A new exam drawn from the bank at random: a draft for review.
    let (code, drawn) = json(
        server.addr,
        "POST",
        "/api/v1/admin/exams",
        json!({ "scope": "990101000000", "title": "随机抽题", "time_limit_s": 300,
                "opens_at": 0, "closes_at": 4_000_000_000i64, "pick": 5, "tag": "党章" }),
    );
    assert_eq!(code, 201, "{drawn}");
    assert_eq!(drawn["status"], "draft");
    assert_eq!(drawn["content"]["questions"].as_array().unwrap().len(), 5);
    let (code, too_many) = json(
        server.addr,
        "POST",
        "/api/v1/admin/exams",
        json!({ "scope": "990101000000", "title": "太多", "time_limit_s": 300,
                "opens_at": 0, "closes_at": 4_000_000_000i64, "pick": 50 }),
    );
    assert_eq!(code, 400, "{too_many}");
    let (code, bad) = call(
        server.addr,
        "PUT",
        "/api/v1/admin/questions/bad",
        Some(r#"{"text":"?","type":"single","options":["a","b"],"answer":[5]}"#),
    );
    assert_eq!(code, 400, "{bad}");
}
