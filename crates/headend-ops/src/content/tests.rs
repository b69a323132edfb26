//! The content operations' rules on a small region tree, at a set time:
//! scheduled publishing when the clock reaches it, review from the level
//! above only (unless the county allows it), item ids that stay with
//! their region, the review queue, retraction telling boxes.

use model::{Content, Notice};

use crate::db::{DraftStatus, Role};
use crate::testing::{actor, code, world, COUNTY, NOW, OTHER_VILLAGE, TOWN, VILLAGE};
use crate::OpsError;

fn notice(title: &str) -> Content {
    Content::Notice(Notice {
        title: title.into(),
        issuer: "青石镇党委".into(),
        urgent: false,
        body: vec![],
    })
}

#[test]
fn a_scheduled_draft_is_published_when_the_clock_reaches_its_time() {
    let w = world();
    let editor = actor("dongpo-editor", VILLAGE, Role::Editor);
    let reviewer = actor("town-reviewer", TOWN, Role::Reviewer);
    let d = w
        .ops
        .create_draft(&editor, &code(VILLAGE), &notice("停水通知"), None)
        .expect("a draft");
    w.ops.submit_draft(&editor, d.id).expect("submitted");
    let at = NOW + 3600;
    let (d, item) = w
        .ops
        .approve_draft(&reviewer, d.id, Some(at))
        .expect("approved");
    assert_eq!((d.status, item), (DraftStatus::Scheduled, None));
    assert!(w.heard.heads().is_empty(), "nothing published yet");

    w.clock.set((at - 1) * 1000);
    assert!(w.ops.publish_due().expect("a tick").is_empty());
    w.clock.set(at * 1000);
    let published = w.ops.publish_due().expect("a tick");
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].id, d.item_id);
    assert_eq!(published[0].published_at, at);
    assert_eq!(w.heard.heads(), [published[0].seq], "boxes told once");
    assert!(w.ops.publish_due().expect("a tick").is_empty());
    assert_eq!(
        w.ops.draft(&editor, d.id).expect("draft").status,
        DraftStatus::Published
    );
}

#[test]
fn review_is_from_the_level_above_unless_the_county_allows_the_same() {
    let w = world();
    let editor = actor("town-editor", TOWN, Role::Editor);
    let town_reviewer = actor("town-reviewer", TOWN, Role::Reviewer);
    let county_admin = actor("county-admin", COUNTY, Role::Admin);
    let d = w
        .ops
        .create_draft(&editor, &code(TOWN), &notice("镇通知"), None)
        .expect("a draft");
    w.ops.submit_draft(&editor, d.id).expect("submitted");
    assert!(w
        .ops
        .review_queue(&town_reviewer)
        .expect("queue")
        .is_empty());
    let refused = w.ops.approve_draft(&town_reviewer, d.id, None);
    assert!(
        matches!(refused, Err(OpsError::Forbidden(_))),
        "{refused:?}"
    );

    let not_a_county = w
        .ops
        .set_same_level_review(&county_admin, &code(TOWN), true);
    assert!(matches!(not_a_county, Err(OpsError::BadRequest(_))));
    w.ops
        .set_same_level_review(&county_admin, &code(COUNTY), true)
        .expect("allowed");
    let queue = w.ops.review_queue(&town_reviewer).expect("queue");
    assert_eq!(queue.iter().map(|d| d.id).collect::<Vec<_>>(), [d.id]);
    let (_, item) = w
        .ops
        .approve_draft(&town_reviewer, d.id, None)
        .expect("approved at the same level");
    let item = item.expect("published now");
    assert_eq!(w.heard.heads(), [item.seq]);
}

#[test]
fn a_draft_cannot_take_an_item_id_another_region_holds() {
    let w = world();
    let dongpo = actor("dongpo-editor", VILLAGE, Role::Editor);
    let xipo = actor("xipo-editor", OTHER_VILLAGE, Role::Editor);
    let reviewer = actor("town-reviewer", TOWN, Role::Reviewer);
    let d = w
        .ops
        .create_draft(&dongpo, &code(VILLAGE), &notice("东坡"), Some("notice-1"))
        .expect("a draft");
    let squat = |title: &str| {
        w.ops.create_draft(
            &xipo,
            &code(OTHER_VILLAGE),
            &notice(title),
            Some("notice-1"),
        )
    };
    // Taken by the first draft already, before anything is published.
    let Err(OpsError::Forbidden(why)) = squat("西坡") else {
        panic!("a foreign item id was taken from a draft")
    };
    assert!(why.contains(VILLAGE), "{why}");
    // Its own region may write another draft for it.
    w.ops
        .create_draft(&dongpo, &code(VILLAGE), &notice("东坡二"), Some("notice-1"))
        .expect("the owner's second draft");
    w.ops.submit_draft(&dongpo, d.id).expect("submitted");
    w.ops
        .approve_draft(&reviewer, d.id, None)
        .expect("published");
    let Err(OpsError::Forbidden(why)) = squat("西坡二") else {
        panic!("a foreign item id was taken from a published item")
    };
    assert!(why.contains(VILLAGE), "{why}");
}

#[test]
fn the_review_queue_leaves_out_what_the_reviewer_wrote() {
    let w = world();
    let admin = actor("town-admin", TOWN, Role::Admin);
    let editor = actor("dongpo-editor", VILLAGE, Role::Editor);
    let own = w
        .ops
        .create_draft(&admin, &code(VILLAGE), &notice("自己写的"), None)
        .expect("a draft");
    w.ops.submit_draft(&admin, own.id).expect("submitted");
    let theirs = w
        .ops
        .create_draft(&editor, &code(VILLAGE), &notice("村里写的"), None)
        .expect("a draft");
    w.ops.submit_draft(&editor, theirs.id).expect("submitted");
    let queue = w.ops.review_queue(&admin).expect("queue");
    assert_eq!(queue.iter().map(|d| d.id).collect::<Vec<_>>(), [theirs.id]);
    let not_a_reviewer = w.ops.review_queue(&editor);
    assert!(matches!(not_a_reviewer, Err(OpsError::Forbidden(_))));
}

#[test]
fn a_retraction_keeps_the_history_and_tells_boxes() {
    let w = world();
    let editor = actor("dongpo-editor", VILLAGE, Role::Editor);
    let reviewer = actor("town-reviewer", TOWN, Role::Reviewer);
    let d = w
        .ops
        .create_draft(&editor, &code(VILLAGE), &notice("错发的"), None)
        .expect("a draft");
    w.ops.submit_draft(&editor, d.id).expect("submitted");
    w.ops
        .approve_draft(&reviewer, d.id, None)
        .expect("published");
    let refused = w.ops.retract_item(&editor, &d.item_id, "发错了");
    assert!(
        matches!(refused, Err(OpsError::Forbidden(_))),
        "{refused:?}"
    );
    w.clock.advance(60_000);
    w.ops
        .retract_item(&reviewer, &d.item_id, "发错了")
        .expect("retracted");
    let history = w.ops.item_history(&editor, &d.item_id).expect("history");
    let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(kinds, ["published", "retracted"]);
    assert_eq!(history[1].at, NOW + 60);
    assert_eq!(history[1].reason.as_deref(), Some("发错了"));
    let heads = w.heard.heads();
    assert_eq!(heads.len(), 2, "published, then retracted: {heads:?}");
    assert!(heads[1] > heads[0]);
}
