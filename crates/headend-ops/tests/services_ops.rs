//! Services, households and box records as operations: who may act on a
//! request and which box is told, the county's question bank, boxes
//! claiming members who live elsewhere, and what a box's token and batch
//! size let through.

mod village;

use headend_ops::db::{AuditQuery, BankQuestion, Claimed, RequestAction, RequestFilter, Role};
use headend_ops::{Event, OpsError};
use model::{Question, QuestionKind, Submission, SubmissionBatch, SERVICE_REQUEST_KIND};
use village::*;

fn request_from(device: &str, key: &str) -> SubmissionBatch {
    SubmissionBatch {
        device: device.into(),
        items: vec![Submission {
            key: key.into(),
            kind: SERVICE_REQUEST_KIND.into(),
            payload: serde_json::json!({"category": "agri", "phone": "13812345678"}),
        }],
    }
}

#[test]
fn a_reply_tells_the_requesting_box_and_comes_from_its_village() -> anyhow::Result<()> {
    let v = Village::open()?;
    v.db()
        .submit_batches(&[request_from(BOX, "ask-1")], v.ops.now_ms())?;
    let county = actor(Role::Viewer, COUNTY);
    let id = v
        .ops
        .service_requests(&county, &code(COUNTY), &RequestFilter::default())?[0]
        .id;

    for outsider in [
        actor(Role::Operator, OTHER_VILLAGE),
        actor(Role::Viewer, VILLAGE),
    ] {
        let refused = v
            .ops
            .act_on_request(&outsider, id, &RequestAction::Reply("好的".into()));
        assert!(
            matches!(refused, Err(OpsError::Forbidden(_))),
            "{refused:?}"
        );
        assert!(matches!(
            v.ops.may_act_on_request(&outsider, id),
            Err(OpsError::Forbidden(_))
        ));
    }
    assert!(v.heard.take().is_empty(), "nobody is told of a refusal");

    let operator = actor(Role::Operator, VILLAGE);
    v.ops.may_act_on_request(&operator, id)?;
    v.clock.advance(60_000);
    let replied = v
        .ops
        .act_on_request(&operator, id, &RequestAction::Reply("明天上门".into()))?;
    assert_eq!(replied.reply.as_deref(), Some("明天上门"));
    assert_eq!(replied.replied_at, Some(START_MS / 1000 + 60));
    let heard = v.heard.take();
    assert!(
        matches!(heard.as_slice(), [Event::ServicesChanged { device }] if device == BOX),
        "{heard:?}"
    );
    Ok(())
}

#[test]
fn the_question_bank_is_the_countys() -> anyhow::Result<()> {
    let v = Village::open()?;
    let q = BankQuestion {
        question: Question {
            id: "q-1".into(),
            text: "党的根本宗旨是什么？".into(),
            kind: QuestionKind::Single {
                options: vec!["全心全意为人民服务".into(), "发展经济".into()],
            },
        },
        answer: vec![0],
        tag: "党章".into(),
    };
    let town_editor = actor(Role::Editor, TOWN);
    assert!(matches!(
        v.ops.put_bank_question(&town_editor, &q),
        Err(OpsError::Forbidden(_))
    ));
    assert!(matches!(
        v.ops.bank_questions(&town_editor),
        Err(OpsError::Forbidden(_))
    ));
    let county_viewer = actor(Role::Viewer, COUNTY);
    assert!(matches!(
        v.ops.put_bank_question(&county_viewer, &q),
        Err(OpsError::Forbidden(_))
    ));
    v.ops.put_bank_question(&actor(Role::Editor, COUNTY), &q)?;
    assert_eq!(v.ops.bank_questions(&county_viewer)?, vec![q]);
    Ok(())
}

#[test]
fn a_claim_of_a_member_living_elsewhere_waits_for_an_operator() -> anyhow::Result<()> {
    let v = Village::open()?;
    let claimed = v.ops.claim_household(
        NEW_BOX,
        Some(NEW_BOX_TOKEN),
        "10.0.0.7",
        &["m-1".to_string(), "m-3".to_string()],
    )?;
    assert_eq!(claimed, Claimed::Elsewhere(vec!["m-1".to_string()]));
    let everything = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    let audit = v.db().audit_log(&code(COUNTY), &everything)?;
    let entry = audit
        .iter()
        .find(|e| e.action == "household.claim")
        .expect("the claim is audited");
    assert_eq!(entry.at_ms, START_MS);
    assert_eq!(entry.ip, "10.0.0.7");
    assert_eq!(entry.region.as_deref(), Some(VILLAGE));

    let operator = actor(Role::Operator, VILLAGE);
    let claims = v.ops.household_claims(&operator, &code(VILLAGE))?;
    assert_eq!(claims.len(), 1);
    let (outsider, _) = staff(Role::Operator, OTHER_VILLAGE);
    assert!(matches!(
        v.ops.confirm_household_claim(&outsider, claims[0].id),
        Err(OpsError::Forbidden(_))
    ));
    // A claim nobody made is news only to an operator.
    assert!(matches!(
        v.ops
            .confirm_household_claim(&actor(Role::Viewer, VILLAGE), 9_999),
        Err(OpsError::Forbidden(_))
    ));
    assert!(matches!(
        v.ops.confirm_household_claim(&operator, 9_999),
        Err(OpsError::NotFound(_))
    ));

    let (operator, notes) = staff(Role::Operator, VILLAGE);
    let home = v.ops.confirm_household_claim(&operator, claims[0].id)?;
    assert_eq!(home.device, NEW_BOX);
    assert!(home.members.iter().any(|m| m.id == "m-1"));
    let noted = notes.snapshot();
    assert_eq!(noted.before.as_deref(), Some("m-1 in box-1"));
    assert_eq!(noted.after.as_deref(), Some("m-1 in box-3"));
    Ok(())
}

#[test]
fn a_box_names_only_members_of_its_village() -> anyhow::Result<()> {
    let v = Village::open()?;
    let refused = v
        .ops
        .claim_household(NEW_BOX, Some(NEW_BOX_TOKEN), "10.0.0.7", &["m-2".into()]);
    assert!(
        matches!(refused, Err(OpsError::BadRequest(_))),
        "{refused:?}"
    );
    let refused = v
        .ops
        .claim_household(NEW_BOX, Some(BOX_TOKEN), "10.0.0.7", &["m-3".into()]);
    assert!(matches!(refused, Err(OpsError::Device(_))), "{refused:?}");
    let claimed =
        v.ops
            .claim_household(NEW_BOX, Some(NEW_BOX_TOKEN), "10.0.0.7", &["m-3".into()])?;
    assert!(matches!(claimed, Claimed::Household(h) if h.members.len() == 1));
    Ok(())
}

#[test]
fn a_batch_is_checked_for_size_and_token_then_stored() -> anyhow::Result<()> {
    let v = Village::open()?;
    let mut big = request_from(BOX, "ask");
    big.items = (0..=headend_ops::boxes::MAX_SUBMISSIONS)
        .map(|i| Submission {
            key: format!("ask-{i}"),
            ..big.items[0].clone()
        })
        .collect();
    // Too big is said before the token is even looked at.
    assert!(matches!(
        v.ops.check_submission(None, &big),
        Err(OpsError::BadRequest(_))
    ));
    let one = request_from(BOX, "ask-1");
    assert!(matches!(
        v.ops.check_submission(Some(NEW_BOX_TOKEN), &one),
        Err(OpsError::Device(_))
    ));
    v.ops.check_submission(Some(BOX_TOKEN), &one)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let receipts = runtime.block_on(v.ops.submit(one))?;
    assert_eq!(receipts.len(), 1);
    let services = v.ops.box_services(BOX, Some(BOX_TOKEN))?;
    assert_eq!(services.requests.len(), 1);
    // A box nobody lives at has no record to read.
    assert!(matches!(
        v.ops.box_services(NEW_BOX, Some(NEW_BOX_TOKEN)),
        Err(OpsError::NotFound(_))
    ));
    Ok(())
}
