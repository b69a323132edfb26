//! Demo party branches, members and households, and a meeting to go with
//! the demo's live broadcast, so `cargo xtask run` shows a roll-call.
//!
//! The demo box is `demo-box` in 东坡村 with two members; `demo-box-2` has
//! one. Every village has a branch; members' names are invented.

use model::{AreaCode, MeetingKind};

use crate::db::{Branch, Db, DbError, NewMeeting, NewMember, PlannedRollCall};
use crate::VILLAGES;

/// Members per village branch, in village order.
const MEMBERS: [&[&str]; 6] = [
    &[
        "王建国",
        "李桂兰",
        "张德顺",
        "赵秀英",
        "刘长春",
        "陈玉梅",
        "杨福海",
        "周淑芬",
    ],
    &["孙立新", "吴桂香", "郑国强", "冯秀兰", "何志明", "许玉英"],
    &["马向阳", "朱春燕", "胡建军", "郭美华", "林永福"],
    &["高俊峰", "罗丽萍", "梁国栋", "宋桂芝", "唐明亮", "韩秀云"],
    &["曹德胜", "邓月娥", "萧建华", "田翠兰", "董立军"],
    &["袁海涛", "潘春梅", "蒋志远", "蔡玉兰", "余长江", "杜秀珍"],
];

/// The demo boxes: (device id, member ids).
pub const DEMO_HOUSEHOLDS: [(&str, &[&str]); 2] = [
    ("demo-box", &["dongpo-01", "dongpo-02"]),
    ("demo-box-2", &["dongpo-03"]),
];

fn code(s: &str) -> Result<AreaCode, DbError> {
    s.parse().map_err(|_| DbError::UnknownRegion(s.to_string()))
}

/// Branch id of a demo village, e.g. `b-990101101001`.
pub fn branch_id(village: &str) -> String {
    format!("b-{village}")
}

/// Branches, members and the demo households. Idempotent.
pub fn seed_people(db: &Db) -> Result<usize, DbError> {
    let mut members = 0;
    for ((village, name, _), names) in VILLAGES.iter().zip(MEMBERS) {
        let branch = branch_id(village);
        db.upsert_branch(&Branch {
            id: branch.clone(),
            name: format!("{name}党支部"),
            region: code(village)?,
        })?;
        let slug = village_slug(name);
        for (n, member) in names.iter().enumerate() {
            db.upsert_member(&NewMember {
                id: format!("{slug}-{:02}", n + 1),
                name: member.to_string(),
                branch: branch.clone(),
            })?;
            members += 1;
        }
    }
    let dongpo = code(VILLAGES[0].0)?;
    for (device, ids) in DEMO_HOUSEHOLDS {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        db.set_household(device, &dongpo, &ids)?;
        db.register_device(device, &dongpo, &demo_device_token(device), 0)?;
    }
    Ok(members)
}

fn village_slug(name: &str) -> &'static str {
    match name {
        "东坡村" => "dongpo",
        "河湾村" => "hewan",
        "桃源村" => "taoyuan",
        "柳林村" => "liulin",
        "石桥村" => "shiqiao",
        _ => "xintian",
    }
}

/// The 青石镇 theme day, broadcast as `live-qingshi-party-day`, for the
/// town's three village branches, with one roll-call a minute or two after
/// `now` (unix seconds).
pub fn seed_demo_meeting(db: &Db, now: i64) -> Result<String, DbError> {
    let branches = VILLAGES
        .iter()
        .filter(|(_, _, town)| *town == 0)
        .map(|(code, _, _)| branch_id(code))
        .collect();
    let meeting = db.create_meeting(
        &NewMeeting {
            kind: MeetingKind::PartyLesson,
            title: "青石镇11月主题党日：学习贯彻全会精神".into(),
            branches,
            starts_at: now - 1200,
            ends_at: now + 2 * 3600,
            live_item: Some("live-qingshi-party-day".into()),
            rollcalls: vec![PlannedRollCall {
                after_start_secs: 1200 + 90,
                random_secs: 60,
                window_secs: model::DEFAULT_WINDOW_SECS,
            }],
        },
        now,
    )?;
    Ok(meeting.id)
}

/// The token of a demo or bench box, known in advance so the demo and the
/// tests can configure boxes without provisioning them. Real boxes get a
/// random token from `POST /api/v1/provision`.
pub fn demo_device_token(device: &str) -> String {
    format!("demo-token-{device}")
}

/// For the roll-call benchmark: `count` boxes `bench-box-<n>` in 东坡村,
/// each with one member `bench-m-<n>` of branch `b-bench`, and a meeting of
/// that branch (no live broadcast) with no roll-call yet. Returns the
/// meeting id.
pub fn seed_bench_boxes(db: &Db, count: usize, now: i64) -> Result<String, DbError> {
    let dongpo = code(VILLAGES[0].0)?;
    db.upsert_branch(&Branch {
        id: "b-bench".into(),
        name: "压力测试党支部".into(),
        region: dongpo.clone(),
    })?;
    for n in 0..count {
        let member = format!("bench-m-{n}");
        db.upsert_member(&NewMember {
            id: member.clone(),
            name: format!("党员{n}"),
            branch: "b-bench".into(),
        })?;
        let device = format!("bench-box-{n}");
        db.set_household(&device, &dongpo, &[member])?;
        db.register_device(&device, &dongpo, &demo_device_token(&device), 0)?;
    }
    let meeting = db.create_meeting(
        &NewMeeting {
            kind: MeetingKind::VideoConference,
            title: "压力测试视频会议".into(),
            branches: vec!["b-bench".into()],
            starts_at: now,
            ends_at: now + 3600,
            live_item: None,
            rollcalls: vec![],
        },
        now,
    )?;
    Ok(meeting.id)
}
