//! Meetings and roll-calls as operations: who sees a meeting that spans
//! villages, who may open a roll-call in it, and what the boxes are told
//! and owed, at the injected clock's time.

mod village;

use headend_ops::db::{NewMeeting, PlannedRollCall, Role};
use headend_ops::meetings::Reach;
use headend_ops::{Event, OpsError};
use model::{MeetingKind, PushEvent};
use village::*;

fn meeting_of(branches: &[&str], starts_at: i64) -> NewMeeting {
    NewMeeting {
        kind: MeetingKind::MembersAssembly,
        title: "党员大会".into(),
        branches: branches.iter().map(|b| b.to_string()).collect(),
        starts_at,
        ends_at: starts_at + 3600,
        live_item: None,
        rollcalls: Vec::new(),
    }
}

#[test]
fn a_meeting_of_two_villages_is_listed_to_each_but_run_from_the_town() -> anyhow::Result<()> {
    let v = Village::open()?;
    let now = START_MS / 1000;
    let town = actor(Role::Operator, TOWN);
    let m = v
        .ops
        .schedule_meeting(&town, &meeting_of(&[BRANCH, OTHER_BRANCH], now))?;

    let village = actor(Role::Operator, VILLAGE);
    let partly = v
        .ops
        .meetings(&village, now - 10, now + 10, Reach::Partly)?;
    assert_eq!(partly.iter().map(|x| &x.id).collect::<Vec<_>>(), [&m.id]);
    assert!(v
        .ops
        .meetings(&village, now - 10, now + 10, Reach::Wholly)?
        .is_empty());
    assert!(matches!(
        v.ops.open_rollcall(&village, &m.id, 120),
        Err(OpsError::Forbidden(_))
    ));
    assert!(
        v.heard.take().is_empty(),
        "a refused roll-call is not pushed"
    );

    v.clock.advance(5 * 60_000);
    let open = v.ops.open_rollcall(&town, &m.id, 120)?;
    assert_eq!(open.opened_at_ms, START_MS + 5 * 60_000);
    let heard = v.heard.take();
    assert!(
        matches!(heard.as_slice(), [Event::RollCall(o)] if o.id == open.id),
        "{heard:?}"
    );
    Ok(())
}

#[test]
fn a_village_operator_cannot_invite_another_villages_branch() -> anyhow::Result<()> {
    let v = Village::open()?;
    let now = START_MS / 1000;
    let village = actor(Role::Operator, VILLAGE);
    let refused = v
        .ops
        .schedule_meeting(&village, &meeting_of(&[BRANCH, OTHER_BRANCH], now));
    assert!(
        matches!(refused, Err(OpsError::Forbidden(_))),
        "{refused:?}"
    );
    let viewer = actor(Role::Viewer, VILLAGE);
    assert!(matches!(
        v.ops.schedule_meeting(&viewer, &meeting_of(&[BRANCH], now)),
        Err(OpsError::Forbidden(_))
    ));
    let county = actor(Role::Admin, COUNTY);
    assert!(v
        .ops
        .meetings(&county, 0, i64::MAX / 2, Reach::Partly)?
        .is_empty());
    Ok(())
}

#[test]
fn a_box_is_owed_the_prompts_open_at_the_clocks_time() -> anyhow::Result<()> {
    let v = Village::open()?;
    let now = START_MS / 1000;
    let town = actor(Role::Operator, TOWN);
    let ours = v.ops.schedule_meeting(&town, &meeting_of(&[BRANCH], now))?;
    let theirs = v
        .ops
        .schedule_meeting(&town, &meeting_of(&[OTHER_BRANCH], now))?;
    let open = v.ops.open_rollcall(&town, &ours.id, 60)?;
    v.ops.open_rollcall(&town, &theirs.id, 60)?;

    v.clock.advance(30_000);
    let home = v.ops.box_household(BOX, Some(BOX_TOKEN))?;
    let backlog = v.ops.push_backlog(&home)?;
    assert!(
        matches!(backlog.as_slice(),
            [PushEvent::RollCall(p)] if p.rollcall == open.id && p.age_ms == 30_000),
        "only the roll-call its member is invited to, as old as the clock says: {backlog:?}"
    );
    let polled = v.ops.box_open_prompts(BOX, Some(BOX_TOKEN))?;
    assert_eq!(polled.len(), 1);
    assert_eq!(polled[0].invitees[0].id, "m-1");

    // Once the meeting is over and the window has passed, nothing is owed.
    v.clock.advance(3600 * 1000);
    assert!(v.ops.push_backlog(&home)?.is_empty());
    assert!(matches!(
        v.ops.box_open_prompts(BOX, Some("not-its-token")),
        Err(OpsError::Device(_))
    ));
    Ok(())
}

#[test]
fn a_meetings_overview_follows_its_latest_roll_call() -> anyhow::Result<()> {
    let v = Village::open()?;
    let now = START_MS / 1000;
    let town = actor(Role::Operator, TOWN);
    let m = v.ops.schedule_meeting(&town, &meeting_of(&[BRANCH], now))?;
    let viewer = actor(Role::Viewer, VILLAGE);
    let before = v.ops.meeting_overview(&viewer, &m.id, true)?;
    assert!(before.current().is_none() && before.live.is_empty());
    assert_eq!(before.branch_names[BRANCH], "东坡村党支部");

    v.ops.open_rollcall(&town, &m.id, 60)?;
    v.clock.advance(120_000);
    let second = v.ops.open_rollcall(&town, &m.id, 60)?;
    let after = v.ops.meeting_overview(&viewer, &m.id, false)?;
    let (n, current) = after.current().expect("opened");
    assert_eq!((n, current.id.as_str()), (2, second.id.as_str()));
    assert_eq!(
        after.live.len(),
        2,
        "both members of the branch are invited"
    );
    assert!(after.report.is_none());

    let outsider = actor(Role::Viewer, OTHER_VILLAGE);
    assert!(matches!(
        v.ops.meeting_overview(&outsider, &m.id, true),
        Err(OpsError::Forbidden(_))
    ));
    Ok(())
}

#[test]
fn a_planned_roll_call_opens_once_when_the_clock_reaches_it() -> anyhow::Result<()> {
    let v = Village::open()?;
    let now = START_MS / 1000;
    let town = actor(Role::Operator, TOWN);
    let mut planned = meeting_of(&[BRANCH], now + 60);
    planned.rollcalls = vec![PlannedRollCall {
        after_start_secs: 600,
        random_secs: 0,
        window_secs: 120,
    }];
    let m = v.ops.schedule_meeting(&town, &planned)?;

    v.clock.advance(600_000);
    assert!(v.ops.open_due_rollcalls()?.is_empty(), "not due yet");
    assert!(v.heard.take().is_empty());

    v.clock.advance(60_000);
    let opened = v.ops.open_due_rollcalls()?;
    assert!(
        matches!(opened.as_slice(), [o] if o.meeting == m.id && o.opened_at_ms == START_MS + 660_000),
        "{opened:?}"
    );
    let heard = v.heard.take();
    assert!(
        matches!(heard.as_slice(), [Event::RollCall(o)] if o.id == opened[0].id),
        "{heard:?}"
    );

    v.clock.advance(1_000);
    assert!(v.ops.open_due_rollcalls()?.is_empty(), "opened once");
    assert!(v.heard.take().is_empty());
    Ok(())
}
