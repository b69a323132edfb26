//! Operations run at once by many threads on two replicas (two `Db`s on one
//! database, each with connections of its own), as several headend
//! processes behind a load balancer run them: each must come out as if the
//! calls had run one after another. On PostgreSQL (with
//! `DANGJIAN_TEST_DATABASE_URL`) the connections really interleave; on
//! SQLite the two replicas are two connections to one file. Accounts and
//! logins are in `concurrency_accounts.rs`.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use headend_store::{
    DbError, DraftStatus, FeedAnswer, NewMeeting, PlannedRollCall, Refusal, RequestAction,
    RequestFilter,
};
use model::{
    CommandAck, CommandKind, Content, MeetingKind, SignIn, Submission, SubmissionAnswer,
    SubmissionBatch,
};

fn accepted(a: &SubmissionAnswer) -> bool {
    matches!(a, SubmissionAnswer::Accepted { .. })
}

fn duplicate(a: &SubmissionAnswer) -> bool {
    matches!(a, SubmissionAnswer::Duplicate { .. })
}

#[test]
fn one_submitted_draft_approved_by_many_reviewers_is_published_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let id = submitted_draft(r.db(), None, &notice("秋收安排"))?;
    let results = r.at_once(CALLERS, |i, db| {
        db.approve_draft(id, &format!("reviewer-{i}"), None, NOW)
    });
    let published: Vec<_> = results.iter().filter_map(|res| res.as_ref().ok()).collect();
    assert_eq!(published.len(), 1, "{results:?}");
    let item = published[0].1.as_ref().expect("approved now: published");
    assert_eq!(item.version, 1);
    assert_eq!(
        results.iter().filter(|res| bad_input(res)).count(),
        CALLERS - 1
    );
    let draft = r.db().draft(id)?;
    assert_eq!(draft.status, DraftStatus::Published);
    assert_eq!(draft.published_version, Some(1));
    assert_eq!(r.db().item_history(&item.id)?.len(), 1);
    assert_eq!(r.db().head(&chain())?, 1, "one change in the feed");
    Ok(())
}

#[test]
fn one_installer_code_used_by_many_boxes_provisions_one() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let code_issued = r
        .db()
        .issue_installer_code(&code(TOWN), "admin", NOW, 3600)?;
    let results = r.at_once(CALLERS, |i, db| {
        db.provision(
            &code(VILLAGE),
            &code_issued.code,
            Some(&format!("box-new-{i}")),
            NOW + 1,
        )
    });
    let bound = results
        .iter()
        .filter(|res| matches!(res, Ok(Ok(_))))
        .count();
    let used = results
        .iter()
        .filter(|res| matches!(res, Ok(Err(Refusal::CodeUsed))))
        .count();
    assert_eq!((bound, used), (1, CALLERS - 1), "{results:?}");
    assert_eq!(r.db().devices(&code(COUNTY))?.len(), 1);
    Ok(())
}

/// Publishers on both replicas, through every path that publishes, while
/// a box on each replica polls the feed by cursor: sequence numbers have no
/// gaps, and each box sees every item exactly once, in cursor order.
#[test]
fn publishers_at_once_leave_no_gap_and_a_polling_box_misses_nothing() -> anyhow::Result<()> {
    const PUBLISHERS: usize = 12;
    const ROUNDS: usize = 4;
    let r = Replicas::open()?;
    let mut drafts = Vec::new();
    for p in (0..PUBLISHERS).filter(|p| p % 3 == 2) {
        for round in 0..ROUNDS {
            let id = format!("approved-{p}-{round}");
            drafts.push((
                (p, round),
                submitted_draft(r.db(), Some(&id), &notice(&id))?,
            ));
        }
    }
    let mut expected = HashSet::new();
    let done = AtomicBool::new(false);
    let published = AtomicUsize::new(0);
    let results = std::thread::scope(|s| {
        let readers: Vec<_> = r
            .dbs
            .iter()
            .map(|db| s.spawn(|| poll_feed(db, &done)))
            .collect();
        let publishers = r.at_once(PUBLISHERS, |p, db| -> anyhow::Result<()> {
            for round in 0..ROUNDS {
                let scope = [VILLAGE, TOWN, COUNTY][round % 3];
                let id = format!("item-{p}-{round}");
                match p % 3 {
                    0 => {
                        let pair = [new_item(&id, scope), new_item(&format!("{id}-b"), scope)];
                        published.fetch_add(db.publish(&pair)?.len(), Ordering::Relaxed);
                    }
                    1 => {
                        db.publish_reviewed("reviewer", &new_item(&id, scope))?;
                        published.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        let (_, draft) = drafts
                            .iter()
                            .find(|(key, _)| *key == (p, round))
                            .expect("a draft per approving round");
                        db.approve_draft(*draft, "reviewer", None, NOW)?;
                        published.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(())
        });
        done.store(true, Ordering::SeqCst);
        let reads: Vec<_> = readers
            .into_iter()
            .map(|h| h.join().expect("a reader panicked"))
            .collect();
        (publishers, reads)
    });
    for outcome in results.0 {
        outcome?;
    }
    for p in 0..PUBLISHERS {
        for round in 0..ROUNDS {
            match p % 3 {
                0 => {
                    expected.insert(format!("item-{p}-{round}"));
                    expected.insert(format!("item-{p}-{round}-b"));
                }
                1 => {
                    expected.insert(format!("item-{p}-{round}"));
                }
                _ => {
                    expected.insert(format!("approved-{p}-{round}"));
                }
            }
        }
    }
    let total = published.load(Ordering::Relaxed);
    assert_eq!(total, expected.len());
    for read in results.1 {
        let read = read?;
        let seqs: Vec<u64> = read.iter().map(|(seq, _)| *seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "out of order: {seqs:?}"
        );
        assert_eq!(
            seqs,
            (1..=total as u64).collect::<Vec<_>>(),
            "gaps or misses"
        );
        let ids: HashSet<String> = read.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids, expected);
    }
    Ok(())
}

/// What one box polling by cursor sees until the publishers are done:
/// (seq, id) in the order it applied them.
fn poll_feed(db: &headend_store::Db, done: &AtomicBool) -> anyhow::Result<Vec<(u64, String)>> {
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        // Read before polling: a poll that starts after the last publisher
        // finished and comes back with nothing more ends the loop.
        let finished = done.load(Ordering::SeqCst);
        match db.feed(&chain(), cursor, 4)? {
            FeedAnswer::Page { page, .. } => {
                anyhow::ensure!(page.tombstones.is_empty(), "nothing was withdrawn");
                seen.extend(page.upserts.into_iter().map(|u| (u.seq, u.id)));
                cursor = page.next_cursor;
                if page.more {
                    continue;
                }
            }
            FeedAnswer::StaleCursor => anyhow::bail!("cursor {cursor} called stale"),
        }
        if finished {
            return Ok(seen);
        }
        std::thread::yield_now();
    }
}

fn batch(device: &str, items: &[(&str, &str, serde_json::Value)]) -> SubmissionBatch {
    SubmissionBatch {
        device: device.into(),
        items: items
            .iter()
            .map(|(key, kind, payload)| Submission {
                key: (*key).into(),
                kind: (*kind).into(),
                payload: payload.clone(),
            })
            .collect(),
    }
}

fn request_payload() -> serde_json::Value {
    serde_json::json!({"category": "agri", "phone": "13812345678"})
}

#[test]
fn one_submission_key_sent_by_many_threads_is_stored_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    r.db()
        .set_household("box-home", &code(VILLAGE), &[member(0)])?;
    let sent = batch(
        "box-home",
        &[
            (
                "use-1",
                model::USAGE_KIND,
                serde_json::json!({"module": "党费缴纳", "opens": 3}),
            ),
            ("ask-1", model::SERVICE_REQUEST_KIND, request_payload()),
        ],
    );
    let results = r.at_once(CALLERS, |i, db| {
        db.submit_batches(std::slice::from_ref(&sent), NOW * 1000 + i as i64)
    });
    let mut answers = Vec::new();
    for res in &results {
        match res {
            Ok(batches) => match batches.as_slice() {
                [Some(receipts)] if receipts.len() == 2 => {
                    answers.push((receipts[0].answer.clone(), receipts[1].answer.clone()))
                }
                other => anyhow::bail!("unexpected answer {other:?}"),
            },
            Err(e) => anyhow::bail!("a resend failed: {e}; all: {results:?}"),
        }
    }
    type Pick = fn(&(SubmissionAnswer, SubmissionAnswer)) -> SubmissionAnswer;
    let picks: [Pick; 2] = [|a| a.0.clone(), |a| a.1.clone()];
    for pick in picks {
        let each: Vec<SubmissionAnswer> = answers.iter().map(pick).collect();
        assert_eq!(each.iter().filter(|a| accepted(a)).count(), 1, "{each:?}");
        assert_eq!(each.iter().filter(|a| duplicate(a)).count(), CALLERS - 1);
    }
    let usage = r.db().usage_counts(&code(COUNTY), 0, i64::MAX)?;
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].opens, 3, "opens counted once");
    let requests = r
        .db()
        .service_requests(&code(COUNTY), &RequestFilter::default(), NOW)?;
    assert_eq!(requests.len(), 1);
    Ok(())
}

#[test]
fn one_member_signing_in_to_one_rollcall_from_many_threads_signs_in_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    r.db()
        .set_household("box-home", &code(VILLAGE), &[member(0)])?;
    let meeting = r.db().create_meeting(
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
    let rollcall = r.db().start_rollcall(&meeting.id, 120, NOW * 1000)?;
    let signin = SignIn {
        rollcall: rollcall.id.clone(),
        member: member(0),
        elapsed_ms: 1000,
    };
    let results = r.at_once(CALLERS, |i, db| {
        db.sign_in(
            "box-home",
            &format!("signin-{i}"),
            &signin,
            NOW * 1000 + 2000,
        )
    });
    let answers = results
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("a sign-in failed: {e}"))?;
    assert_eq!(
        answers.iter().filter(|a| accepted(a)).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(answers.iter().filter(|a| duplicate(a)).count(), CALLERS - 1);
    let rows = r.db().rollcall_attendance(&rollcall.id)?;
    let signed: Vec<_> = rows.iter().filter(|row| row.device.is_some()).collect();
    assert_eq!(signed.len(), 1);
    assert_eq!(signed[0].member, member(0));
    Ok(())
}

#[test]
fn boxes_claiming_one_member_at_once_leave_them_in_one_household() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    for i in 0..CALLERS {
        r.db()
            .set_household(&format!("box-{i}"), &code(VILLAGE), &[])?;
    }
    let wanted = [member(1)];
    let results = r.at_once(CALLERS, |i, db| {
        db.claim_household(&format!("box-{i}"), &code(VILLAGE), &wanted, NOW)
    });
    let homes = results
        .iter()
        .filter(|res| matches!(res, Ok(headend_store::Claimed::Household(_))))
        .count();
    let refused = results
        .iter()
        .filter(|res| matches!(res, Ok(headend_store::Claimed::Elsewhere(m)) if m[..] == wanted))
        .count();
    assert_eq!((homes, refused), (1, CALLERS - 1), "{results:?}");
    assert_eq!(r.db().member_holders(&member(1), "")?.len(), 1);
    assert_eq!(r.db().household_claims(&code(COUNTY))?.len(), CALLERS - 1);
    Ok(())
}

#[test]
fn many_answers_to_one_command_record_one_whole_answer() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    r.db()
        .register_device("box-cmd", &code(VILLAGE), "token-of-box-cmd", NOW)?;
    let command = r
        .db()
        .queue_command("box-cmd", &CommandKind::Resync, "operator", NOW)?;
    let results = r.at_once(CALLERS, |i, db| {
        let ack = CommandAck {
            ok: i % 2 == 0,
            detail: format!("answer {i}"),
        };
        db.ack_command("box-cmd", command.id, &ack, NOW + i as i64)
    });
    assert!(
        results.iter().all(|res| matches!(res, Ok(true))),
        "{results:?}"
    );
    let stored = r.db().commands("box-cmd")?;
    assert_eq!(stored.len(), 1);
    let detail = stored[0].detail.clone().expect("an answer is recorded");
    let i: i64 = detail.trim_start_matches("answer ").parse()?;
    assert_eq!(stored[0].acked_at, Some(NOW + i), "one answer, whole");
    assert_eq!(stored[0].ok, Some(i % 2 == 0));
    assert!(r.db().pending_commands("box-cmd")?.is_empty());
    Ok(())
}

#[test]
fn replicas_running_the_rollcall_scheduler_open_each_rollcall_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let planned = |after| PlannedRollCall {
        after_start_secs: after,
        random_secs: 0,
        window_secs: 120,
    };
    let meeting = r.db().create_meeting(
        &NewMeeting {
            kind: MeetingKind::PartyLesson,
            title: "党课".into(),
            branches: vec![BRANCH.into()],
            starts_at: NOW,
            ends_at: NOW + 3600,
            live_item: None,
            rollcalls: vec![planned(0), planned(60), planned(120)],
        },
        NOW,
    )?;
    let now_ms = |i: usize| (NOW + 300) * 1000 + i as i64;
    let results = r.at_once(CALLERS, |i, db| db.open_due_rollcalls(now_ms(i)));
    let mut opened = Vec::new();
    for (i, res) in results.into_iter().enumerate() {
        for rollcall in res? {
            opened.push((rollcall.id, now_ms(i)));
        }
    }
    assert_eq!(opened.len(), 3, "each opened (and pushed) once: {opened:?}");
    let stored = r.db().meeting(&meeting.id)?.expect("the meeting");
    for rollcall in stored.rollcalls {
        let by = opened.iter().find(|(id, _)| *id == rollcall.id);
        assert_eq!(
            rollcall.opened_at_ms,
            by.map(|(_, at)| *at),
            "opened by who said so"
        );
    }
    Ok(())
}

#[test]
fn replicas_running_the_publishing_scheduler_publish_each_draft_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let mut ids = BTreeSet::new();
    for d in 0..4 {
        let id = submitted_draft(r.db(), None, &notice(&format!("定时通知{d}")))?;
        let (draft, item) = r.db().approve_draft(id, "reviewer", Some(NOW + 100), NOW)?;
        assert!(item.is_none() && draft.status == DraftStatus::Scheduled);
        ids.insert(draft.item_id);
    }
    let results = r.at_once(CALLERS, |i, db| db.publish_due(NOW + 200 + i as i64));
    let mut published = Vec::new();
    for res in results {
        published.extend(res?);
    }
    assert_eq!(published.len(), ids.len(), "{published:?}");
    assert!(published.iter().all(|item| item.version == 1));
    let got: BTreeSet<String> = published.into_iter().map(|item| item.id).collect();
    assert_eq!(got, ids);
    assert_eq!(r.db().head(&chain())?, 4);
    Ok(())
}

#[test]
fn reviewers_approving_and_returning_at_once_agree_on_one_outcome() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let id = submitted_draft(r.db(), None, &notice("村务通知"))?;
    let results = r.at_once(CALLERS, |i, db| {
        let reviewer = format!("reviewer-{i}");
        if i % 2 == 0 {
            db.approve_draft(id, &reviewer, None, NOW)
                .map(|_| "approved")
        } else {
            db.return_draft(id, &reviewer, "请补充内容", NOW)
                .map(|_| "returned")
        }
    });
    let done: Vec<&str> = results
        .iter()
        .filter_map(|res| res.as_ref().ok().copied())
        .collect();
    assert_eq!(done.len(), 1, "{results:?}");
    assert_eq!(
        results.iter().filter(|res| bad_input(res)).count(),
        CALLERS - 1
    );
    let draft = r.db().draft(id)?;
    let in_feed = r.db().head(&chain())? > 0;
    match done[0] {
        "approved" => assert!(draft.status == DraftStatus::Published && in_feed),
        _ => assert!(
            draft.status == DraftStatus::Returned && !in_feed,
            "{draft:?}"
        ),
    }
    Ok(())
}

#[test]
fn one_item_retracted_by_many_is_retracted_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    r.db().publish(&[new_item("notice-retract", VILLAGE)])?;
    let results = r.at_once(CALLERS, |i, db| {
        db.retract("notice-retract", &format!("reviewer-{i}"), "内容有误", NOW)
    });
    assert_eq!(
        results.iter().filter(|res| res.is_ok()).count(),
        1,
        "{results:?}"
    );
    let not_found = results
        .iter()
        .filter(|res| matches!(res, Err(DbError::NotFound(_))))
        .count();
    assert_eq!(not_found, CALLERS - 1);
    assert_eq!(r.db().item_history("notice-retract")?.len(), 1);
    assert_eq!(r.db().head(&chain())?, 2, "one publication, one withdrawal");
    Ok(())
}

#[test]
fn corrections_approved_at_once_each_make_the_next_version() -> anyhow::Result<()> {
    const CORRECTIONS: usize = 8;
    let r = Replicas::open()?;
    let first = submitted_draft(
        r.db(),
        Some("low-income-2026-10"),
        &disclosure("低保户名单"),
    )?;
    let (_, item) = r.db().approve_draft(first, "reviewer", None, NOW)?;
    let item = item.expect("published");
    let mut drafts = Vec::new();
    for c in 0..CORRECTIONS {
        let content = disclosure(&format!("低保户名单（更正{c}）"));
        let d = r
            .db()
            .create_correction("editor", &item.id, &content, &format!("原因{c}"), NOW)?;
        r.db().submit_draft(d.id, NOW)?;
        drafts.push(d.id);
    }
    let results = r.at_once(CORRECTIONS, |i, db| {
        db.approve_draft(drafts[i], "reviewer", None, NOW + 1 + i as i64)
    });
    let mut versions = BTreeSet::new();
    for res in results {
        versions.insert(res?.1.expect("published").version);
    }
    let last = CORRECTIONS as u32 + 1;
    assert_eq!(versions, (2..=last).collect());
    let FeedAnswer::Page { page, .. } = r.db().feed(&chain(), 0, 100)? else {
        anyhow::bail!("a fresh cursor is never stale");
    };
    let Content::Disclosure(shown) = &page.upserts[0].content else {
        anyhow::bail!("a disclosure");
    };
    let listed: Vec<u32> = shown.corrections.iter().map(|c| c.version).collect();
    assert_eq!(
        listed,
        (2..=last).collect::<Vec<_>>(),
        "every correction listed once"
    );
    Ok(())
}

#[test]
fn a_request_closed_by_many_operators_is_closed_once() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    r.db().set_household("box-home", &code(VILLAGE), &[])?;
    let sent = batch(
        "box-home",
        &[("ask-1", model::SERVICE_REQUEST_KIND, request_payload())],
    );
    r.db().submit_batches(&[sent], NOW * 1000)?;
    let id = r
        .db()
        .service_requests(&code(COUNTY), &RequestFilter::default(), NOW)?[0]
        .id;
    let results = r.at_once(CALLERS, |i, db| {
        db.act_on_request(id, &RequestAction::Close, NOW + i as i64)
    });
    let closed: Vec<_> = results.iter().filter_map(|res| res.as_ref().ok()).collect();
    assert_eq!(closed.len(), 1, "{results:?}");
    assert_eq!(
        results.iter().filter(|res| bad_input(res)).count(),
        CALLERS - 1
    );
    assert_eq!(
        r.db().service_request(id, NOW)?.closed_at,
        closed[0].closed_at
    );
    Ok(())
}
