//! A group of batches stored in one transaction (the submission writer's
//! group commit): keys are claimed and answers written for the whole group
//! in a few statements, and every item still gets the answer it would have
//! got alone. On either backend (`DANGJIAN_TEST_DATABASE_URL`).

mod common;

use common::*;
use headend_store::NewMeeting;
use model::{MeetingKind, Submission, SubmissionAnswer, SubmissionBatch};

fn signin(key: &str, rollcall: &str, member: &str) -> Submission {
    Submission {
        key: key.into(),
        kind: model::SIGN_IN_KIND.into(),
        payload: serde_json::json!({ "rollcall": rollcall, "member": member, "elapsed_ms": 1000 }),
    }
}

#[test]
fn a_group_answers_each_item_as_it_would_alone() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let db = r.db();
    // Three boxes, one member each.
    for b in 0..3 {
        db.set_household(&format!("box-{b}"), &code(VILLAGE), &[member(b)])?;
    }
    let meeting = db.create_meeting(
        &NewMeeting {
            kind: MeetingKind::MembersAssembly,
            title: "党员大会".into(),
            branches: vec![BRANCH.into()],
            starts_at: NOW,
            ends_at: NOW + 3600,
            live_item: None,
            rollcalls: vec![],
        },
        NOW,
    )?;
    let rc = db.start_rollcall(&meeting.id, 120, NOW * 1000)?.id;
    let at = NOW * 1000 + 2000;

    // Box 2 signed in earlier, alone.
    let earlier = db.submit_batches(
        &[SubmissionBatch {
            device: "box-2".into(),
            items: vec![signin("k-2", &rc, &member(2))],
        }],
        at,
    )?;
    assert!(matches!(
        earlier[0].as_ref().unwrap()[0].answer,
        SubmissionAnswer::Accepted { .. }
    ));

    // More keys than one claiming statement takes (items of a kind this
    // headend does not take: refused, and remembered as refused).
    let many: Vec<SubmissionBatch> = (0..150)
        .map(|n| SubmissionBatch {
            device: format!("box-{}", n % 2),
            items: vec![Submission {
                key: format!("use-{n}"),
                kind: "no-such-kind".into(),
                payload: serde_json::json!({}),
            }],
        })
        .collect();
    let mut group = vec![
        SubmissionBatch {
            device: "box-0".into(),
            // The same key twice in one batch: a resend inside the group.
            items: vec![
                signin("k-0", &rc, &member(0)),
                signin("k-0", &rc, &member(0)),
                signin("", &rc, &member(0)),
            ],
        },
        // Box 1 signs in for a member of another box: refused, and stored
        // as refused.
        SubmissionBatch {
            device: "box-1".into(),
            items: vec![signin("k-1", &rc, &member(0))],
        },
        // Box 2's resend of what it sent earlier.
        SubmissionBatch {
            device: "box-2".into(),
            items: vec![signin("k-2", &rc, &member(2))],
        },
        SubmissionBatch {
            device: "box-unknown".into(),
            items: vec![signin("k-9", &rc, &member(3))],
        },
        // The same key again in a later batch of the group.
        SubmissionBatch {
            device: "box-0".into(),
            items: vec![signin("k-0", &rc, &member(0))],
        },
    ];
    group.extend(many);
    let answers = db.submit_batches(&group, at)?;
    let first = |b: usize, i: usize| answers[b].as_ref().expect("a known box")[i].answer.clone();
    assert!(matches!(
        first(0, 0),
        SubmissionAnswer::Accepted { status: Some(_) }
    ));
    assert_eq!(
        first(0, 1),
        SubmissionAnswer::Duplicate {
            status: match first(0, 0) {
                SubmissionAnswer::Accepted { status } => status,
                other => panic!("{other:?}"),
            }
        }
    );
    assert!(matches!(first(0, 2), SubmissionAnswer::Rejected { .. }));
    assert!(matches!(first(1, 0), SubmissionAnswer::Rejected { .. }));
    assert!(matches!(
        first(2, 0),
        SubmissionAnswer::Duplicate { status: Some(_) }
    ));
    assert!(answers[3].is_none(), "an unknown box stores nothing");
    assert!(matches!(
        first(4, 0),
        SubmissionAnswer::Duplicate { status: Some(_) }
    ));
    for b in 5..group.len() {
        assert!(matches!(first(b, 0), SubmissionAnswer::Rejected { .. }));
    }

    // Sent again alone, every item gets the answer the group stored.
    let again = db.submit_batches(&group, at + 1000)?;
    assert!(matches!(
        again[0].as_ref().unwrap()[0].answer,
        SubmissionAnswer::Duplicate { status: Some(_) }
    ));
    assert_eq!(again[1].as_ref().unwrap()[0].answer, first(1, 0));
    assert_eq!(again[100].as_ref().unwrap()[0].answer, first(100, 0));
    let rows = db.rollcall_attendance(&rc)?;
    let signed: Vec<_> = rows.iter().filter(|row| row.device.is_some()).collect();
    assert_eq!(signed.len(), 2, "members 0 and 2 signed in once each");
    Ok(())
}
