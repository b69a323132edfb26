//! Issue 19, content and households, as an attacker on the real server:
//! an editor alone tries to put a menu, a questionnaire and an exam in
//! front of boxes; a village editor's draft tries to take the town's item
//! ids; a box claims members of another household; staff difference
//! questionnaire totals down to one household. Each is refused, logged,
//! and leaves nothing changed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{call_as, get_json, json, login};
use headend::db::{NewAccount, Role};
use headend::seed_services::TOWN_EVALUATION;
use headend::{seed, Db, TestServer};
use serde_json::{json, Value};

const COUNTY: &str = "990101000000";
const QINGSHI: &str = "990101101000";
const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";
const TAOYUAN: &str = "990101101003";
const PASSWORD: &str = "correct-horse-42";

struct Site {
    /// Holds the database's directory for the test's life.
    _dir: tempfile::TempDir,
    db: Arc<Db>,
    server: TestServer,
    tokens: HashMap<&'static str, String>,
}

impl Site {
    /// The demo with one account per (name, region, role) below, logged in.
    fn start() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open_test(dir.path()).unwrap());
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

    /// What boxes in `village` are given: (id, content) of every item.
    fn feed(&self, village: &str) -> Vec<(String, Value)> {
        let (code, page) = get_json(
            self.server.addr,
            &format!("/api/v1/feed?scope={village}&since=0&limit=1000"),
        );
        assert_eq!(code, 200, "{page}");
        page["upserts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_str().unwrap().to_string(), i["content"].clone()))
            .collect()
    }

    fn feed_has_title(&self, village: &str, title: &str) -> bool {
        self.feed(village)
            .iter()
            .any(|(_, c)| c["title"] == title || c.to_string().contains(title))
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

fn menu_with(category: &str) -> Value {
    let mut menu = serde_json::to_value(model::ServiceMenu::standard()).unwrap();
    // The standard menu is full: the last category gives way.
    let categories = menu["categories"].as_array_mut().unwrap();
    categories.pop();
    categories.push(json!({ "id": category, "name": "村里自定的服务", "presets": [] }));
    menu
}

fn disclosure(title: &str) -> Value {
    json!({ "kind": "disclosure", "category": "village", "module": "低保户",
            "title": title, "period": "2026年11月",
            "body": [ { "type": "paragraph", "text": "正文" } ] })
}

#[test]
fn an_editor_alone_puts_no_menu_questionnaire_or_exam_in_front_of_boxes() {
    let s = Site::start();
    let now = headend::push::now_ms() / 1000;
    let (menu_code, menu) = s.as_(
        "dongpo-editor",
        "PUT",
        &format!("/api/v1/admin/service-menus/{DONGPO}"),
        menu_with("well"),
    );
    let (q_code, questionnaire) = s.as_(
        "dongpo-editor",
        "POST",
        "/api/v1/admin/questionnaires",
        json!({ "scope": DONGPO, "title": "编辑自己发的评议", "target": "village_committee",
                "target_name": "东坡村两委", "opens_at": now - 60, "closes_at": now + 3600,
                "questions": [ { "id": "q1", "text": "满意吗", "type": "rating" } ] }),
    );
    let (x_code, exam) = s.as_(
        "dongpo-editor",
        "POST",
        "/api/v1/admin/exams",
        json!({ "scope": DONGPO, "title": "编辑自己发的考试", "time_limit_s": 300,
                "opens_at": now - 60, "closes_at": now + 3600, "questions": ["dz-01", "dz-02"] }),
    );

    // Nothing of it reaches a box, and a box cannot answer it.
    let feed = s.feed(DONGPO);
    assert!(
        !feed
            .iter()
            .any(|(id, _)| *id == format!("service-menu-{DONGPO}")),
        "the editor's menu is in front of boxes"
    );
    assert!(!s.feed_has_title(DONGPO, "编辑自己发的评议"));
    assert!(!s.feed_has_title(DONGPO, "编辑自己发的考试"));
    let request = json!({ "category": "well", "phone": "13812345678" });
    assert_eq!(
        s.submit("demo-box", "r1", "service_request", request.clone())["result"],
        "rejected"
    );

    // Each is a draft, to be submitted and reviewed like any content.
    for (code, d) in [
        (menu_code, &menu),
        (q_code, &questionnaire),
        (x_code, &exam),
    ] {
        assert_eq!((code, &d["status"]), (201, &json!("draft")), "{d}");
    }
    assert_eq!(menu["item_id"], format!("service-menu-{DONGPO}"));
    assert_eq!(exam["content"]["questions"].as_array().unwrap().len(), 2);
    assert!(!exam.to_string().contains("answer"), "no key in the draft");
    // An exam draft holds bank questions only: none without an answer key.
    let mut forged = exam["content"].clone();
    forged["questions"][1] =
        json!({ "id": "mine", "text": "自编题", "type": "single", "options": ["对", "错"] });
    let (code, body) = s.as_(
        "dongpo-editor",
        "PUT",
        &format!("/api/v1/admin/content/{}", exam["id"]),
        json!({ "content": forged }),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("bank"), "{body}");

    for d in [&menu, &questionnaire, &exam] {
        let id = d["id"].as_i64().unwrap();
        let approve = format!("/api/v1/admin/content/{id}/approve");
        let (code, _) = s.as_(
            "dongpo-editor",
            "POST",
            &format!("/api/v1/admin/content/{id}/submit"),
            Value::Null,
        );
        assert_eq!(code, 200);
        // Not the editor, not a reviewer of the same village...
        assert_eq!(s.as_("dongpo-editor", "POST", &approve, Value::Null).0, 403);
        assert_eq!(
            s.as_("dongpo-reviewer", "POST", &approve, Value::Null).0,
            403
        );
        assert!(!s.feed_has_title(DONGPO, "编辑自己发的考试"));
        // ...the town's reviewer.
        let (code, approved) = s.as_("qingshi-reviewer", "POST", &approve, Value::Null);
        assert_eq!(code, 200, "{approved}");
        assert_eq!(approved["item"]["version"], 1, "{approved}");
    }
    assert!(s.feed_has_title(DONGPO, "编辑自己发的评议"));
    assert_eq!(
        s.submit("demo-box", "r2", "service_request", request)["result"],
        "accepted"
    );
    // The exam's key came from the bank on approval: dz-01 and dz-02 are
    // both answered with option 1, which is right.
    let exam_id = exam["item_id"].as_str().unwrap();
    let paper = json!({ "exam": exam_id, "member": "dongpo-01", "answers": [
        { "question": "dz-01", "choices": [1] }, { "question": "dz-02", "choices": [1] } ] });
    assert_eq!(
        s.submit("demo-box", "x1", "exam", paper)["result"],
        "accepted"
    );
    let (_, board) = get_json(
        s.server.addr,
        &format!("/api/v1/admin/exams/{exam_id}/results"),
    );
    assert_eq!(board[0]["correct"], 2, "{board}");

    // The refusals are in the audit log; each approval names what it made.
    let log = s.audit();
    let refused = log
        .iter()
        .filter(|e| {
            e["outcome"] == "refused"
                && e["action"].as_str().unwrap().ends_with("/approve")
                && ["dongpo-editor", "dongpo-reviewer"].contains(&e["account"].as_str().unwrap())
        })
        .count();
    assert_eq!(refused, 6, "{log:?}");
    assert!(log
        .iter()
        .any(|e| e["account"] == "qingshi-reviewer" && e["after_id"] == format!("{exam_id}@1")));
}

/// Whether a draft of `item_id` exists under 东坡村.
fn dongpo_drafts_of(s: &Site, item_id: &str) -> usize {
    let (_, list) = s.as_(
        "dongpo-editor",
        "GET",
        &format!("/api/v1/admin/content?region={DONGPO}"),
        Value::Null,
    );
    list.as_array()
        .unwrap()
        .iter()
        .filter(|d| d["item_id"] == item_id)
        .count()
}

#[test]
fn a_village_draft_cannot_take_the_towns_item_ids() {
    let s = Site::start();
    let town_menu = format!("service-menu-{QINGSHI}");

    // The town's pending draft, and a town item published then retracted.
    let (code, pending) = s.as_(
        "qingshi-editor",
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": QINGSHI, "item_id": "qingshi-plan-2027", "content": disclosure("镇里的计划") }),
    );
    assert_eq!(code, 201, "{pending}");
    let (_, old) = s.as_(
        "qingshi-editor",
        "POST",
        "/api/v1/admin/content",
        json!({ "scope": QINGSHI, "item_id": "qingshi-old-notice", "content": disclosure("旧公告") }),
    );
    let id = old["id"].as_i64().unwrap();
    s.as_(
        "qingshi-editor",
        "POST",
        &format!("/api/v1/admin/content/{id}/submit"),
        Value::Null,
    );
    let (code, _) = s.as_(
        "county-reviewer",
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 200);
    let (code, _) = s.as_(
        "county-reviewer",
        "POST",
        "/api/v1/admin/items/qingshi-old-notice/retract",
        json!({ "reason": "过期" }),
    );
    assert_eq!(code, 204);

    // 东坡村's editor tries each: the town's menu id, its pending draft's
    // id, its retracted item's id.
    let mut menu_content = menu_with("well");
    menu_content["kind"] = json!("service_menu");
    for (item_id, content) in [
        (town_menu.as_str(), menu_content),
        ("qingshi-plan-2027", disclosure("抢先发布")),
        ("qingshi-old-notice", disclosure("借尸还魂")),
    ] {
        let (code, body) = s.as_(
            "dongpo-editor",
            "POST",
            "/api/v1/admin/content",
            json!({ "scope": DONGPO, "item_id": item_id, "content": content }),
        );
        assert_eq!(code, 403, "{item_id}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("belongs to region"),
            "{body}"
        );
        assert_eq!(dongpo_drafts_of(&s, item_id), 0, "{item_id}");
    }
    let log = s.audit();
    let refusals = log
        .iter()
        .filter(|e| {
            e["account"] == "dongpo-editor"
                && e["outcome"] == "refused"
                && e["detail"].as_str().unwrap().contains("belongs to region")
        })
        .count();
    assert_eq!(refusals, 3, "{log:?}");
    // The town itself can still publish its own menu and pending item.
    let (code, mine) = s.as_(
        "qingshi-editor",
        "PUT",
        &format!("/api/v1/admin/service-menus/{QINGSHI}"),
        menu_with("bridge"),
    );
    assert_eq!((code, &mine["item_id"]), (201, &json!(town_menu)), "{mine}");
    let id = pending["id"].as_i64().unwrap();
    s.as_(
        "qingshi-editor",
        "POST",
        &format!("/api/v1/admin/content/{id}/submit"),
        Value::Null,
    );
    let (code, body) = s.as_(
        "county-reviewer",
        "POST",
        &format!("/api/v1/admin/content/{id}/approve"),
        Value::Null,
    );
    assert_eq!(code, 200, "{body}");
}

#[test]
fn a_draft_stored_before_the_checks_is_refused_at_approval() {
    let s = Site::start();
    let town_menu = format!("service-menu-{QINGSHI}");
    // 东坡村's menu under the town's menu id (it lacks 农业技术服务), as
    // a draft made before drafts were checked.
    use headend::db::sql::{params, Sql};
    let conn = s.db.raw().unwrap();
    let menu = json!({ "kind": "service_menu", "categories": [
        { "id": "well", "name": "村里自定的服务", "presets": [] } ] });
    let legacy: i64 = conn
        .query_row(
            "INSERT INTO drafts(item_id, scope, content, status, author, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'submitted', 'dongpo-editor', 0, 0) RETURNING id",
            params![town_menu, DONGPO, menu.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let (code, body) = s.as_(
        "qingshi-reviewer",
        "POST",
        &format!("/api/v1/admin/content/{legacy}/approve"),
        Value::Null,
    );
    assert_eq!(code, 403, "{body}");
    assert!(!s.feed(DONGPO).iter().any(|(id, _)| *id == town_menu));
    // 河湾村's boxes still get the county's menu.
    s.add_box("hewan-box", HEWAN, &[]);
    let request = json!({ "category": "agri", "phone": "13812345678" });
    assert_eq!(
        s.submit("hewan-box", "r1", "service_request", request)["result"],
        "accepted"
    );
    let log = s.audit();
    assert!(
        log.iter().any(|e| e["account"] == "qingshi-reviewer"
            && e["outcome"] == "refused"
            && e["detail"].as_str().unwrap().contains("belongs to region")),
        "{log:?}"
    );
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

/// Answers to every question of the town questionnaire: `pick` for
/// ratings, option `pick % n` for choices.
fn answers(questionnaire: &Value, pick: u8) -> Value {
    let answers: Vec<Value> = questionnaire["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let n = q["options"].as_array().map_or(5, Vec::len) as u8;
            let choice = if q["type"] == "rating" {
                pick
            } else {
                pick % n
            };
            json!({ "question": q["id"], "choices": [choice] })
        })
        .collect();
    json!({ "questionnaire": TOWN_EVALUATION, "answers": answers })
}

#[test]
fn questionnaire_totals_cannot_be_differenced_down_to_one_household() {
    let s = Site::start();
    let addr = s.server.addr;
    // 青石镇: 东坡村 5 households (two demo boxes and three more), 河湾村 4,
    // 桃源村 1, whose answers stand out.
    let mut boxes: Vec<(String, &str)> =
        vec![("demo-box".into(), DONGPO), ("demo-box-2".into(), DONGPO)];
    for (village, n) in [(DONGPO, 3), (HEWAN, 4), (TAOYUAN, 1)] {
        for i in 0..n {
            let device = format!("box-{village}-{i}");
            s.add_box(&device, village, &[]);
            boxes.push((device, village));
        }
    }
    let questionnaire = s
        .feed(DONGPO)
        .into_iter()
        .find(|(id, _)| id == TOWN_EVALUATION)
        .unwrap()
        .1;
    for (device, village) in &boxes {
        let pick = if *village == TAOYUAN { 0 } else { 4 };
        let answer = s.submit(device, "e1", "evaluation", answers(&questionnaire, pick));
        assert_eq!(answer["result"], "accepted", "{answer}");
    }

    // Everything the stats endpoint gives for every region of the county.
    let (_, regions) = get_json(addr, "/api/v1/regions");
    let parent: HashMap<String, Option<String>> = regions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["parent"].as_str().map(str::to_string),
            )
        })
        .collect();
    let mut shown: HashMap<String, (u64, Vec<Vec<u64>>)> = HashMap::new();
    for code in parent.keys() {
        let (status, r) = get_json(
            addr,
            &format!("/api/v1/admin/questionnaires/{TOWN_EVALUATION}/results?region={code}"),
        );
        assert_eq!(status, 200, "{r}");
        let households = r["households"].as_u64().unwrap();
        let questions = r["questions"].as_array().unwrap();
        if questions.is_empty() {
            assert!(households == 0 || r["withheld"].is_string(), "{r}");
            continue;
        }
        let counts = questions
            .iter()
            .map(|q| {
                q["counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_u64().unwrap())
                    .collect()
            })
            .collect();
        shown.insert(code.clone(), (households, counts));
    }
    assert!(!shown.contains_key(TAOYUAN), "one household shown");
    assert!(shown.contains_key(QINGSHI), "the town's totals are kept");

    // Every difference of a shown region and shown regions under it that
    // do not overlap covers no household or at least three.
    let within = |code: &str, above: &str| {
        let mut at = parent[code].clone();
        while let Some(p) = at {
            if p == above {
                return true;
            }
            at = parent[&p].clone();
        }
        false
    };
    for (top, (households, _)) in &shown {
        let below: Vec<&String> = shown.keys().filter(|c| within(c, top)).collect();
        for mask in 0u32..(1 << below.len()) {
            let picked: Vec<&String> = (0..below.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| below[i])
                .collect();
            let overlapping = picked
                .iter()
                .any(|a| picked.iter().any(|b| a != b && within(a, b)));
            if overlapping {
                continue;
            }
            let rest = households - picked.iter().map(|c| shown[*c].0).sum::<u64>();
            assert!(
                rest == 0 || rest >= 3,
                "{top} minus {picked:?} gives the answers of {rest} household(s)"
            );
        }
    }
}
