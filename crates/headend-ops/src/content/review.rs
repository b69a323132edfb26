//! Review from the level above (or at the same level, where the county
//! allows it): approve a submitted draft to publish now or at a time,
//! return it with a comment; the queue a reviewer works through; and the
//! scheduler's side, publishing approved drafts whose time has come.

use model::FeedItem;

use super::refuse_foreign_item;
use crate::db::{Draft, DraftStatus, Permission};
use crate::{Actor, Event, Ops, OpsError};

impl Ops {
    /// Approves submitted draft `id` as a reviewer of its region: it is
    /// published now (boxes sync at once) or, with `publish_at` (unix
    /// seconds) in the future, scheduled. The item is `None` when
    /// scheduled. Blocking.
    pub fn approve_draft(
        &self,
        actor: &Actor,
        id: i64,
        publish_at: Option<i64>,
    ) -> Result<(Draft, Option<FeedItem>), OpsError> {
        let db = &self.db;
        let d = db.draft(id)?;
        actor.require_review(db, &d.scope)?;
        refuse_foreign_item(db, actor, &d.item_id, &d.scope)?;
        let before = db
            .item_history(&d.item_id)?
            .last()
            .map(|h| format!("{}@{}", d.item_id, h.version));
        let (d, item) = db.approve_draft(id, &actor.account.username, publish_at, self.now())?;
        actor.note_change(
            before,
            item.as_ref()
                .map(|i| format!("{}@{}", i.id, i.version))
                .or_else(|| Some(format!("draft {id} scheduled"))),
        );
        if let Some(item) = &item {
            // Boxes sync now instead of at their next poll.
            self.events.publish(Event::FeedChanged { head: item.seq });
        }
        Ok((d, item))
    }

    /// Sends submitted draft `id` back to its author with what to change.
    /// Blocking.
    pub fn return_draft(&self, actor: &Actor, id: i64, comment: &str) -> Result<Draft, OpsError> {
        let db = &self.db;
        let d = db.draft(id)?;
        actor.require_review(db, &d.scope)?;
        Ok(db.return_draft(id, &actor.account.username, comment, self.now())?)
    }

    /// What waits for this reviewer: drafts submitted under its region by
    /// others that it may review. Blocking.
    pub fn review_queue(&self, actor: &Actor) -> Result<Vec<Draft>, OpsError> {
        actor.require_role(Permission::ReviewContent)?;
        let db = &self.db;
        let me = &actor.account;
        Ok(db
            .drafts_under(&me.region, Some(DraftStatus::Submitted))?
            .into_iter()
            .filter(|d| d.author != me.username)
            .filter(|d| db.may_review(&me.region, &d.scope).unwrap_or(false))
            .collect())
    }

    /// Publishes the scheduled drafts whose time has come (by the
    /// injected clock) and tells boxes to sync; what was published, oldest
    /// first. A draft that can no longer be published goes back to its
    /// author instead. The scheduler calls this every second. Blocking.
    pub fn publish_due(&self) -> Result<Vec<FeedItem>, OpsError> {
        let items = self.db.publish_due(self.now())?;
        if let Some(head) = items.iter().map(|i| i.seq).max() {
            self.events.publish(Event::FeedChanged { head });
        }
        Ok(items)
    }
}
