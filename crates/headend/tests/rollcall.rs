//! Meetings and roll-calls on the headend: who is prompted, how sign-ins
//! are judged (on time, late, without playback evidence), that a resend is
//! never counted twice, planned roll-calls opening by themselves, and the
//! attendance reports and their CSV.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{call, get_json, json, Sse};
use headend::db::{Branch, NewMeeting, NewMember, PlannedRollCall};
use headend::{push::now_ms, seed, Db, TestServer};
use model::{AttendanceStatus as S, MeetingKind, SignIn, SubmissionAnswer};
use serde_json::json;

const DONGPO: &str = "990101101001";
const HEWAN: &str = "990101101002";

/// The demo regions, two branches, and three boxes: `box-a` with two
/// members of 东坡村, `box-b` with one, `box-c` in 河湾村.
fn people() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_test(dir.path()).unwrap();
    let (regions, _) = seed::demo_content();
    for r in &regions {
        db.upsert_region(r).unwrap();
    }
    seed::seed_admin(&db).unwrap();
    for (id, name, region) in [
        ("b-dongpo", "东坡村党支部", DONGPO),
        ("b-hewan", "河湾村党支部", HEWAN),
    ] {
        db.upsert_branch(&Branch {
            id: id.into(),
            name: name.into(),
            region: region.parse().unwrap(),
        })
        .unwrap();
    }
    for (id, name, branch) in [
        ("m1", "王建国", "b-dongpo"),
        ("m2", "李桂兰", "b-dongpo"),
        ("m3", "张德顺", "b-dongpo"),
        ("m4", "赵秀英", "b-dongpo"),
        ("m5", "陈志强", "b-hewan"),
    ] {
        db.upsert_member(&NewMember {
            id: id.into(),
            name: name.into(),
            branch: branch.into(),
        })
        .unwrap();
    }
    db.set_household(
        "box-a",
        &DONGPO.parse().unwrap(),
        &["m1".into(), "m2".into()],
    )
    .unwrap();
    db.set_household("box-b", &DONGPO.parse().unwrap(), &["m3".into()])
        .unwrap();
    db.set_household("box-c", &HEWAN.parse().unwrap(), &["m5".into()])
        .unwrap();
    for (device, village) in [("box-a", DONGPO), ("box-b", DONGPO), ("box-c", HEWAN)] {
        db.register_device(
            device,
            &village.parse().unwrap(),
            &common::device_token(device),
            0,
        )
        .unwrap();
    }
    (dir, Arc::new(db))
}

fn meeting(db: &Db, branches: &[&str], planned: Vec<PlannedRollCall>) -> String {
    let now = now_ms() / 1000;
    db.create_meeting(
        &NewMeeting {
            kind: MeetingKind::MembersAssembly,
            title: "东坡村党支部党员大会".into(),
            branches: branches.iter().map(|b| b.to_string()).collect(),
            starts_at: now - 60,
            ends_at: now + 3600,
            live_item: Some("live-dongpo".into()),
            rollcalls: planned,
        },
        now,
    )
    .unwrap()
    .id
}

fn sign(rollcall: &str, member: &str, elapsed_ms: u64) -> SignIn {
    SignIn {
        rollcall: rollcall.into(),
        member: member.into(),
        elapsed_ms,
    }
}

fn status(answer: &SubmissionAnswer) -> Option<S> {
    match answer {
        SubmissionAnswer::Accepted { status } | SubmissionAnswer::Duplicate { status } => *status,
        SubmissionAnswer::Rejected { .. } => None,
    }
}

#[test]
fn sign_ins_are_judged_on_time_and_on_playback_and_never_counted_twice() {
    let (_dir, db) = people();
    let m = meeting(&db, &["b-dongpo"], vec![]);
    let t0 = now_ms();
    // box-a plays the meeting; box-b does not.
    db.playback_beat("box-a", Some("live-dongpo"), t0 - 5_000)
        .unwrap();
    let rc = db.start_rollcall(&m, 120, t0).unwrap();

    let a = db
        .sign_in("box-a", "k1", &sign(&rc.id, "m1", 4_000), t0 + 4_000)
        .unwrap();
    assert_eq!(
        a,
        SubmissionAnswer::Accepted {
            status: Some(S::Present)
        }
    );
    // The same sign-in sent three times: one record, the same verdict.
    for _ in 0..2 {
        let again = db
            .sign_in("box-a", "k1", &sign(&rc.id, "m1", 4_000), t0 + 9_000)
            .unwrap();
        assert_eq!(
            again,
            SubmissionAnswer::Duplicate {
                status: Some(S::Present)
            }
        );
    }
    // Another key for a member who already answered: still one record.
    let other = db
        .sign_in("box-a", "k1b", &sign(&rc.id, "m1", 6_000), t0 + 6_000)
        .unwrap();
    assert_eq!(
        other,
        SubmissionAnswer::Duplicate {
            status: Some(S::Present)
        }
    );

    // Past the window (judged by the box's elapsed time, not arrival).
    let late = db
        .sign_in("box-a", "k2", &sign(&rc.id, "m2", 130_000), t0 + 130_000)
        .unwrap();
    assert_eq!(status(&late), Some(S::Late));
    // Pressed in time while offline, delivered ten minutes later: on time.
    let offline = db
        .sign_in("box-b", "k3", &sign(&rc.id, "m3", 30_000), t0 + 600_000)
        .unwrap();
    // ... but box-b never reported the meeting playing: flagged, kept.
    assert_eq!(status(&offline), Some(S::Flagged));
    let rows = db.rollcall_attendance(&rc.id).unwrap();
    let by = |id: &str| rows.iter().find(|r| r.member == id).unwrap().clone();
    assert_eq!(by("m1").status, S::Present);
    assert_eq!(by("m2").status, S::Late);
    assert_eq!(by("m3").status, S::Flagged);
    assert_eq!(by("m4").status, S::Absent);
    assert_eq!(by("m1").elapsed_ms, Some(4_000));
    assert_eq!(rows.len(), 4, "only 东坡村's members are invited");

    // Refusals name the problem and are remembered for that key.
    let wrong_home = db
        .sign_in("box-b", "k4", &sign(&rc.id, "m4", 1_000), t0 + 1_000)
        .unwrap();
    assert!(matches!(&wrong_home, SubmissionAnswer::Rejected { reason } if reason.contains("m4")));
    let unknown = db
        .sign_in("box-a", "k5", &sign("rc-nope", "m1", 1_000), t0)
        .unwrap();
    assert!(
        matches!(&unknown, SubmissionAnswer::Rejected { reason } if reason.contains("rc-nope"))
    );
    let not_invited = db
        .sign_in("box-c", "k6", &sign(&rc.id, "m5", 1_000), t0)
        .unwrap();
    assert!(
        matches!(&not_invited, SubmissionAnswer::Rejected { reason } if reason.contains("not invited"))
    );
}

#[test]
fn playback_reported_just_after_signing_in_clears_the_flag() {
    let (_dir, db) = people();
    let m = meeting(&db, &["b-dongpo"], vec![]);
    let t0 = now_ms();
    let rc = db.start_rollcall(&m, 120, t0).unwrap();
    // "Open the meeting and sign in": the sign-in lands first.
    let first = db
        .sign_in("box-b", "k1", &sign(&rc.id, "m3", 2_000), t0 + 2_000)
        .unwrap();
    assert_eq!(status(&first), Some(S::Flagged));
    // Another stream is no evidence.
    assert_eq!(
        db.playback_beat("box-b", Some("live-other"), t0 + 3_000)
            .unwrap(),
        0
    );
    assert_eq!(
        db.playback_beat("box-b", Some("live-dongpo"), t0 + 4_000)
            .unwrap(),
        1
    );
    let rows = db.rollcall_attendance(&rc.id).unwrap();
    assert_eq!(
        rows.iter().find(|r| r.member == "m3").unwrap().status,
        S::Present
    );
}

#[test]
fn meeting_records_rates_and_csv() {
    let (_dir, db) = people();
    let m = meeting(&db, &["b-dongpo", "b-hewan"], vec![]);
    let t0 = now_ms();
    for device in ["box-a", "box-b", "box-c"] {
        db.playback_beat(device, Some("live-dongpo"), t0).unwrap();
    }
    let first = db.start_rollcall(&m, 60, t0).unwrap();
    let second = db.start_rollcall(&m, 60, t0 + 1).unwrap();
    // m1 answers both in time; m2 only the first; m3 the first late; m5 both.
    db.sign_in("box-a", "a1", &sign(&first.id, "m1", 1_000), t0 + 1_000)
        .unwrap();
    db.sign_in("box-a", "a2", &sign(&second.id, "m1", 1_000), t0 + 1_000)
        .unwrap();
    db.sign_in("box-a", "a3", &sign(&first.id, "m2", 1_000), t0 + 1_000)
        .unwrap();
    db.sign_in("box-b", "b1", &sign(&first.id, "m3", 70_000), t0 + 70_000)
        .unwrap();
    db.sign_in("box-b", "b2", &sign(&second.id, "m3", 2_000), t0 + 70_000)
        .unwrap();
    db.sign_in("box-c", "c1", &sign(&first.id, "m5", 1_000), t0 + 1_000)
        .unwrap();
    db.sign_in("box-c", "c2", &sign(&second.id, "m5", 1_000), t0 + 1_000)
        .unwrap();

    let rows = db.meeting_attendance(&m).unwrap();
    let by = |id: &str| rows.iter().find(|r| r.member == id).unwrap().status;
    assert_eq!(by("m1"), S::Present);
    assert_eq!(by("m2"), S::Absent, "missed the second roll-call");
    assert_eq!(by("m3"), S::Late);
    assert_eq!(by("m4"), S::Absent);
    assert_eq!(by("m5"), S::Present);

    let record = db.member_attendance("m3").unwrap();
    assert_eq!(record.entries.len(), 1);
    assert_eq!(record.entries[0].status, S::Late);
    let home = db.household_attendance("box-a").unwrap();
    assert_eq!(home.len(), 2);

    let county = "990101000000".parse().unwrap();
    let (branches, villages) = db.attendance_rates(&county, 0, i64::MAX / 2).unwrap();
    let dongpo = branches.iter().find(|b| b.id == "b-dongpo").unwrap();
    assert_eq!(
        (dongpo.invited, dongpo.present, dongpo.late, dongpo.absent),
        (4, 1, 1, 2)
    );
    assert!((dongpo.rate - 0.5).abs() < 1e-9);
    let hewan = villages.iter().find(|v| v.id == HEWAN).unwrap();
    assert_eq!(
        (hewan.name.as_str(), hewan.invited, hewan.present),
        ("河湾村", 1, 1)
    );
    // A village's own view leaves the other village out.
    let (only, _) = db
        .attendance_rates(&HEWAN.parse().unwrap(), 0, i64::MAX / 2)
        .unwrap();
    assert_eq!(
        only.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b-hewan"]
    );

    // The same through HTTP, with the CSV export.
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let (code, body) = get_json(
        server.addr,
        &format!("/api/v1/admin/meetings/{m}/attendance"),
    );
    assert_eq!(code, 200);
    assert_eq!(body["invited"], 5);
    assert_eq!(body["late"], json!(["张德顺"]));
    assert_eq!(body["absent"], json!(["李桂兰", "赵秀英"]));
    let (code, csv) = call(
        server.addr,
        "GET",
        &format!("/api/v1/admin/meetings/{m}/attendance?format=csv"),
        None,
    );
    assert_eq!(code, 200);
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines[0].starts_with("成员编号,姓名,支部,状态"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("m3,张德顺,东坡村党支部,迟到,")),
        "{csv}"
    );
    let (code, rates) = call(
        server.addr,
        "GET",
        "/api/v1/admin/attendance/rates?region=990101000000&format=csv",
        None,
    );
    assert_eq!(code, 200);
    assert!(
        rates.contains("支部,b-dongpo,东坡村党支部,4,1,1,0,2,0.500"),
        "{rates}"
    );
}

#[test]
fn roll_calls_are_pushed_to_invited_households_only_and_resent_on_reconnect() {
    let (_dir, db) = people();
    let m = meeting(&db, &["b-dongpo"], vec![]);
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    assert_eq!(
        Sse::open(server.addr, "/api/v1/events?device=nobody").err(),
        Some(401),
        "a box with no token is refused"
    );
    let mut a = Sse::open(server.addr, "/api/v1/events?device=box-a").unwrap();
    let mut c = Sse::open(server.addr, "/api/v1/events?device=box-c").unwrap();
    // Both connections are held before the roll-call starts.
    let wait = std::time::Instant::now();
    while get_json(server.addr, "/api/v1/admin/push").1["connected"] != 2 {
        assert!(
            wait.elapsed() < Duration::from_secs(10),
            "boxes never connected"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let (code, started) = json(
        server.addr,
        "POST",
        &format!("/api/v1/admin/meetings/{m}/rollcalls"),
        json!({ "window_secs": 90 }),
    );
    assert_eq!(code, 201, "{started}");
    let (name, data) = a
        .next(Duration::from_secs(10))
        .expect("box-a gets the prompt");
    assert_eq!(name, "rollcall");
    let prompt: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(prompt["rollcall"], started["id"]);
    assert_eq!(prompt["window_secs"], 90);
    assert_eq!(prompt["live_item"], "live-dongpo");
    let names: Vec<&str> = prompt["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["王建国", "李桂兰"]);
    // 河湾村's box is not invited; it only sees keep-alives.
    assert!(c.next(Duration::from_millis(500)).is_none());

    // A box that connects later (or polls) still gets the open roll-call.
    let mut late = Sse::open(server.addr, "/api/v1/events?device=box-b").unwrap();
    let (_, data) = late.next(Duration::from_secs(10)).unwrap();
    assert!(data.contains("张德顺"), "{data}");
    let (_, polled) = get_json(server.addr, "/api/v1/rollcalls/open?device=box-b");
    assert_eq!(polled[0]["rollcall"], started["id"]);
    assert!(polled[0]["age_ms"].as_u64().unwrap() < 90_000);

    // Signing in over HTTP, three times with one key: one record.
    let batch = json!({
        "device": "box-a",
        "items": [{ "key": "k-1", "kind": "signin",
                    "payload": { "rollcall": started["id"], "member": "m1", "elapsed_ms": 3000 } }]
    });
    let answers: Vec<_> = (0..3)
        .map(|_| {
            json(server.addr, "POST", "/api/v1/submissions", batch.clone()).1[0]["result"].clone()
        })
        .collect();
    assert_eq!(
        answers,
        [json!("accepted"), json!("duplicate"), json!("duplicate")]
    );
    let (_, weird) = json(
        server.addr,
        "POST",
        "/api/v1/submissions",
        json!({ "device": "box-a", "items": [{ "key": "k-2", "kind": "teleport", "payload": {} }] }),
    );
    assert_eq!(weird[0]["result"], "rejected");
    let rows = db
        .rollcall_attendance(started["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(rows.iter().filter(|r| r.status != S::Absent).count(), 1);
}

#[test]
fn a_planned_roll_call_opens_by_itself_and_reaches_the_box() {
    let (_dir, db) = people();
    let server = TestServer::start(db.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let mut a = Sse::open(server.addr, "/api/v1/events?device=box-a").unwrap();
    // Due one second after the meeting's start, which is now.
    let now = now_ms() / 1000;
    let (code, created) = json(
        server.addr,
        "POST",
        "/api/v1/admin/meetings",
        json!({
            "kind": "party_lesson", "title": "十一月党课", "branches": ["b-dongpo"],
            "starts_at": now, "ends_at": now + 3600,
            "rollcalls": [{ "after_start_secs": 1, "random_secs": 1, "window_secs": 60 }]
        }),
    );
    assert_eq!(code, 201, "{created}");
    assert!(created["rollcalls"][0]["opened_at_ms"].is_null());
    let (name, data) = a
        .next(Duration::from_secs(15))
        .expect("the planned roll-call arrives");
    assert_eq!(name, "rollcall");
    assert!(data.contains("十一月党课"), "{data}");
    let (_, after) = get_json(
        server.addr,
        &format!("/api/v1/admin/meetings/{}", created["id"].as_str().unwrap()),
    );
    let opened = after["rollcalls"][0]["opened_at_ms"].as_i64().unwrap();
    assert!(opened >= now * 1000 + 1000, "opened before its time");
    // Shutting down does not wait for boxes that hold their connection.
    drop(server);
    assert!(a.next(Duration::from_secs(5)).is_none());
}

#[test]
fn bad_meetings_are_refused_with_the_reason() {
    let (_dir, db) = people();
    let server = TestServer::start(db, "127.0.0.1:0".parse().unwrap()).unwrap();
    let now = now_ms() / 1000;
    for (body, expect) in [
        (
            json!({ "kind": "training", "title": " ", "branches": ["b-dongpo"], "starts_at": now, "ends_at": now + 60 }),
            "title",
        ),
        (
            json!({ "kind": "training", "title": "培训", "branches": [], "starts_at": now, "ends_at": now + 60 }),
            "branch",
        ),
        (
            json!({ "kind": "training", "title": "培训", "branches": ["b-none"], "starts_at": now, "ends_at": now + 60 }),
            "b-none",
        ),
        (
            json!({ "kind": "training", "title": "培训", "branches": ["b-dongpo"], "starts_at": now, "ends_at": now - 60 }),
            "end after",
        ),
        (
            json!({ "kind": "training", "title": "培训", "branches": ["b-dongpo"], "starts_at": now, "ends_at": now + 60,
                 "rollcalls": [{ "after_start_secs": 0, "window_secs": 0 }] }),
            "window_secs",
        ),
    ] {
        let (code, err) = json(server.addr, "POST", "/api/v1/admin/meetings", body);
        assert!(code == 400 || code == 404, "{code} {err}");
        assert!(err["message"].as_str().unwrap().contains(expect), "{err}");
    }
    let (code, err) = json(
        server.addr,
        "POST",
        "/api/v1/admin/meetings/m-nope/rollcalls",
        json!({}),
    );
    assert_eq!(code, 404, "{err}");
}
