//! Two `dangjian-headend serve` processes on one PostgreSQL database, as
//! behind a load balancer: a box that syncs through replica A hears of a
//! correction published on replica B; a roll-call opened on A reaches a
//! box that holds its push stream on B; a planned roll-call is opened once
//! though both schedulers tick; and A killed with SIGKILL in the middle of
//! a sign-in burst loses none of the sign-ins it acknowledged (the boxes
//! resend the rest to B, as their outboxes do).
//!
//! Needs `DANGJIAN_TEST_DATABASE_URL` (the test command's PostgreSQL run);
//! on SQLite there is only ever one process and it says so and passes.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{call_as, device_token, login, Sse};
use headend::db::{NewAccount, NewMeeting, PlannedRollCall, Role};
use headend::{push::now_ms, seed, seed_meetings, Db};
use model::{AttendanceStatus, MeetingKind, SubmissionAnswer};
use serde_json::{json, Value};

const DONGPO: &str = "990101101001";
const PASSWORD: &str = "correct-horse-42";
const BOXES: usize = 200;
/// A guard against hanging, never a figure asserted.
const PATIENCE: Duration = Duration::from_secs(30);

/// One `dangjian-headend serve`, killed when dropped.
struct Replica {
    child: Child,
    addr: SocketAddr,
}

impl Replica {
    fn start(url: &str, key: &std::path::Path) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dangjian-headend"))
            .args(["serve", "--db", url, "--bind", "127.0.0.1:0"])
            .env("DANGJIAN_SECRET_KEY_FILE", key)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("replica did not start: {line:?}"))
            .parse()
            .unwrap();
        Replica { child, addr }
    }

    /// SIGKILL: no shutdown, nothing flushed.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn events_path(device: &str) -> String {
    format!("/api/v1/events?device={device}")
}

/// The next event named `name` on `sse`, skipping others.
fn next_named(sse: &mut Sse, name: &str) -> Option<String> {
    let until = Instant::now() + PATIENCE;
    while Instant::now() < until {
        match sse.next(Duration::from_secs(1)) {
            Some((n, data)) if n == name => return Some(data),
            _ => {}
        }
    }
    None
}

/// Every upsert of the village's feed from `since`, through `addr`: (items,
/// cursor).
fn sync(addr: SocketAddr, since: u64) -> (Vec<Value>, u64) {
    let (mut items, mut cursor) = (Vec::new(), since);
    loop {
        let (status, text) = call_as(
            addr,
            None,
            "GET",
            &format!("/api/v1/feed?scope={DONGPO}&since={cursor}&limit=1000"),
            None,
        );
        assert_eq!(status, 200, "{text}");
        let page: Value = serde_json::from_str(&text).unwrap();
        items.extend(page["upserts"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_u64().unwrap();
        if page["more"] != true {
            return (items, cursor);
        }
    }
}

fn admin(addr: SocketAddr) -> String {
    let (user, password) = seed::DEMO_ADMIN;
    login(addr, user, password).unwrap()
}

fn sign_in(addr: SocketAddr, n: usize, rollcall: &str) -> Option<SubmissionAnswer> {
    let device = format!("bench-box-{n}");
    let body = json!({ "device": device, "items": [{
        "key": format!("signin-{n}"), "kind": "signin",
        "payload": { "rollcall": rollcall, "member": format!("bench-m-{n}"), "elapsed_ms": 1000 } }] });
    // A dead replica answers nothing: the box keeps it in its outbox.
    let answer = std::panic::catch_unwind(|| {
        call_as(
            addr,
            Some(&device_token(&device)),
            "POST",
            "/api/v1/submissions",
            Some(&body.to_string()),
        )
    })
    .ok()?;
    if answer.0 != 200 {
        return None;
    }
    let receipts: Vec<model::SubmissionReceipt> = serde_json::from_str(&answer.1).ok()?;
    receipts.into_iter().next().map(|r| r.answer)
}

#[test]
fn two_replicas_share_the_feed_push_and_scheduler_and_a_killed_one_loses_no_sign_in() {
    let Some(_) = std::env::var("DANGJIAN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("replicas: SQLite has one process; run with DANGJIAN_TEST_DATABASE_URL");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_test(dir.path()).unwrap());
    seed::seed_demo(&db).unwrap();
    let meeting = seed_meetings::seed_bench_boxes(&db, BOXES, now_ms() / 1000).unwrap();
    db.create_account(
        &NewAccount {
            username: "qingshi-reviewer".into(),
            display_name: "青石镇审核".into(),
            region: "990101101000".parse().unwrap(),
            role: Role::Reviewer,
            password: PASSWORD.into(),
        },
        None,
        0,
    )
    .unwrap();
    let url = db.database_url().unwrap();
    let key = dir.path().join("headend.key");
    let mut a = Replica::start(&url, &key);
    let b = Replica::start(&url, &key);

    // 1. A box synced through A hears of a correction published on B.
    let (items, cursor) = sync(a.addr, 0);
    let mut on_a = Sse::open(a.addr, &events_path("bench-box-0")).unwrap();
    let disclosure = items
        .iter()
        .find(|i| i["content"]["kind"] == "disclosure" && i["scope"] == DONGPO)
        .unwrap()
        .clone();
    let item = disclosure["id"].as_str().unwrap();
    let mut corrected = disclosure["content"].clone();
    corrected["title"] = json!(format!("{}（更正）", corrected["title"].as_str().unwrap()));
    let token_b = admin(b.addr);
    let (code, draft) = call_as(
        b.addr,
        Some(&token_b),
        "POST",
        &format!("/api/v1/admin/items/{item}/correct"),
        Some(&json!({ "content": corrected, "reason": "标题补充更正" }).to_string()),
    );
    assert_eq!(code, 201, "{draft}");
    let draft: Value = serde_json::from_str(&draft).unwrap();
    let id = draft["id"].as_i64().unwrap();
    let submit = format!("/api/v1/admin/content/{id}/submit");
    assert_eq!(
        call_as(b.addr, Some(&token_b), "POST", &submit, None).0,
        200
    );
    let reviewer = login(b.addr, "qingshi-reviewer", PASSWORD).unwrap();
    let approve = format!("/api/v1/admin/content/{id}/approve");
    let (code, body) = call_as(b.addr, Some(&reviewer), "POST", &approve, None);
    assert_eq!(code, 200, "{body}");
    assert!(
        next_named(&mut on_a, "feed").is_some(),
        "the box held by A is told to sync"
    );
    let (changed, _) = sync(a.addr, cursor);
    let v2 = changed.iter().find(|i| i["id"] == item).unwrap();
    assert_eq!(v2["version"], 2);
    assert!(v2["content"]["title"]
        .as_str()
        .unwrap()
        .ends_with("（更正）"));

    // 2. A roll-call opened on A reaches a box holding its stream on B.
    let mut on_b = Sse::open(b.addr, &events_path("bench-box-1")).unwrap();
    let token_a = admin(a.addr);
    let (code, rc) = call_as(
        a.addr,
        Some(&token_a),
        "POST",
        &format!("/api/v1/admin/meetings/{meeting}/rollcalls"),
        Some("{}"),
    );
    assert_eq!(code, 201, "{rc}");
    let rc: Value = serde_json::from_str(&rc).unwrap();
    let rollcall = rc["id"].as_str().unwrap().to_string();
    let prompt: Value =
        serde_json::from_str(&next_named(&mut on_b, "rollcall").expect("prompt on B")).unwrap();
    assert_eq!(prompt["rollcall"], rollcall.as_str());

    // 3. A planned roll-call opens once though both schedulers tick: each
    // box gets its prompt once.
    let now = now_ms() / 1000;
    let planned = db
        .create_meeting(
            &NewMeeting {
                kind: MeetingKind::PartyLesson,
                title: "计划点名".into(),
                branches: vec!["b-bench".into()],
                starts_at: now,
                ends_at: now + 3600,
                live_item: None,
                rollcalls: vec![PlannedRollCall {
                    after_start_secs: 2,
                    random_secs: 0,
                    window_secs: 120,
                }],
            },
            now,
        )
        .unwrap();
    let mut held_a = Sse::open(a.addr, &events_path("bench-box-2")).unwrap();
    let mut held_b = Sse::open(b.addr, &events_path("bench-box-3")).unwrap();
    let mut planned_ids = Vec::new();
    for sse in [&mut held_a, &mut held_b] {
        // The roll-call of step 2 comes first, on connecting; then the
        // planned one; a second copy of it would follow within a tick or two.
        let mut got = Vec::new();
        let mut until = Instant::now() + PATIENCE;
        while Instant::now() < until {
            if let Some((name, data)) = sse.next(Duration::from_millis(500)) {
                let p: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                if name == "rollcall" && p["rollcall"] != rollcall.as_str() {
                    if got.is_empty() {
                        until = Instant::now() + Duration::from_secs(4);
                    }
                    got.push(p["rollcall"].as_str().unwrap().to_string());
                }
            }
        }
        assert_eq!(
            got.len(),
            1,
            "one prompt for the planned roll-call: {got:?}"
        );
        planned_ids.push(got.remove(0));
    }
    assert_eq!(planned_ids[0], planned_ids[1]);
    assert_eq!(
        db.open_rollcalls(now_ms())
            .unwrap()
            .iter()
            .filter(|o| o.meeting == planned.id)
            .count(),
        1
    );

    // 4. SIGKILL A in the middle of a sign-in burst.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let addr_a = a.addr;
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (acknowledged, sent, rollcall) =
                (acknowledged.clone(), sent.clone(), rollcall.clone());
            std::thread::spawn(move || {
                for n in (w..BOXES).step_by(8) {
                    sent.fetch_add(1, Ordering::Relaxed);
                    if let Some(answer) = sign_in(addr_a, n, &rollcall) {
                        acknowledged.lock().unwrap().push((n, answer));
                    }
                }
            })
        })
        .collect();
    let until = Instant::now() + PATIENCE;
    while sent.load(Ordering::Relaxed) < BOXES / 3 && Instant::now() < until {
        std::thread::yield_now();
    }
    a.kill();
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(!acknowledged.is_empty(), "A answered some before it died");
    // Every box resends what A did not acknowledge, to B.
    let answered: std::collections::HashSet<usize> = acknowledged.iter().map(|(n, _)| *n).collect();
    for n in (0..BOXES).filter(|n| !answered.contains(n)) {
        assert!(sign_in(b.addr, n, &rollcall).is_some(), "B takes box {n}");
    }
    let rows = db.rollcall_attendance(&rollcall).unwrap();
    for (n, answer) in &acknowledged {
        assert!(
            matches!(
                answer,
                SubmissionAnswer::Accepted { .. } | SubmissionAnswer::Duplicate { .. }
            ),
            "{answer:?}"
        );
        let member = format!("bench-m-{n}");
        let row = rows.iter().find(|r| r.member == member).unwrap();
        assert_ne!(
            row.status,
            AttendanceStatus::Absent,
            "{member} was acknowledged by A"
        );
    }
    let signed = rows
        .iter()
        .filter(|r| r.status != AttendanceStatus::Absent)
        .count();
    assert_eq!(signed, BOXES, "every box signed in once");
    assert_eq!(rows.len(), BOXES, "one row per member");
    drop(b);
}
