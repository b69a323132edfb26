//! The content lifecycle: editors write drafts for a region (content,
//! menus, questionnaires and exams all start as drafts), submit them,
//! and correct what was published with a reason; the level above reviews
//! them (see [`review`]: approve now or at a time, return with a comment,
//! retract) and the scheduler publishes what is due.
//!
//! Every operation asks the actor's role and region first, as the API and
//! the console both did before they called here.

pub mod review;
#[cfg(test)]
mod tests;

use model::{AreaCode, Content, Region};

use crate::db::{Db, Draft, DraftStatus, HistoryEntry, Permission, Target};
use crate::{Actor, Event, Ops, OpsError};

/// Which drafts of a region a list shows.
#[derive(Debug, Clone, Default)]
pub struct DraftFilter {
    pub status: Option<DraftStatus>,
    /// Only this module (see [`module_of`]); empty: every module.
    pub module: String,
    /// Only disclosures whose period contains this; empty: every period.
    pub period: String,
}

/// The module a draft is listed under: a disclosure's module, else its
/// kind (`service_menu`, `exam`…).
pub fn module_of(c: &Content) -> String {
    match c {
        Content::Disclosure(d) => d.module.clone(),
        other => other.kind().to_string(),
    }
}

/// A disclosure's period; empty for other kinds.
pub fn period_of(c: &Content) -> String {
    match c {
        Content::Disclosure(d) => d.period.clone(),
        _ => String::new(),
    }
}

/// Makes a draft as `actor` at `now` (unix seconds): an editing role for
/// `scope`, and an item id that no other region holds. This is
/// [`Ops::create_draft`] for HTTP handlers of other areas that still make
/// drafts without an [`Ops`] (menus, questionnaires and exams), until they
/// move to operations of their own. Blocking.
pub fn new_draft(
    db: &Db,
    actor: &Actor,
    scope: &AreaCode,
    content: &Content,
    item_id: Option<&str>,
    now: i64,
) -> Result<Draft, OpsError> {
    actor.require(db, Permission::EditContent, &Target::Region(scope))?;
    if let Some(id) = item_id {
        refuse_foreign_item(db, actor, id, scope)?;
    }
    let d = db.create_draft(&actor.account.username, scope, content, item_id, now)?;
    actor.note_change(None, Some(format!("draft {}", d.id)));
    Ok(d)
}

/// A draft for `scope` never takes (to overwrite or squat) an item id
/// another region holds.
fn refuse_foreign_item(
    db: &Db,
    actor: &Actor,
    item_id: &str,
    scope: &AreaCode,
) -> Result<(), OpsError> {
    match db.item_owner(item_id)? {
        Some(owner) if owner != *scope => Err(actor.refuse(format!(
            "item {item_id} belongs to region {owner}; a draft for {scope} cannot take it"
        ))),
        _ => Ok(()),
    }
}

impl Ops {
    /// A new draft for `scope`, published later under `item_id` (a new
    /// item when absent). Blocking.
    pub fn create_draft(
        &self,
        actor: &Actor,
        scope: &AreaCode,
        content: &Content,
        item_id: Option<&str>,
    ) -> Result<Draft, OpsError> {
        new_draft(&self.db, actor, scope, content, item_id, self.now())
    }

    /// The drafts of `region` and everything under it that `filter` lets
    /// through, for an actor who may view the region. Blocking.
    pub fn drafts(
        &self,
        actor: &Actor,
        region: &AreaCode,
        filter: &DraftFilter,
    ) -> Result<Vec<Draft>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        let period = filter.period.trim();
        Ok(self
            .db
            .drafts_under(region, filter.status)?
            .into_iter()
            .filter(|d| filter.module.is_empty() || module_of(&d.content) == filter.module)
            .filter(|d| period.is_empty() || period_of(&d.content).contains(period))
            .collect())
    }

    /// One draft the actor may view. Blocking.
    pub fn draft(&self, actor: &Actor, id: i64) -> Result<Draft, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Draft(id))?;
        Ok(self.db.draft(id)?)
    }

    /// One draft with its item's version history. Blocking.
    pub fn draft_with_history(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(Draft, Vec<HistoryEntry>), OpsError> {
        let d = self.draft(actor, id)?;
        let history = self.db.item_history(&d.item_id)?;
        Ok((d, history))
    }

    /// A draft to open in the editor: the actor may view and edit it.
    /// Blocking.
    pub fn draft_to_edit(&self, actor: &Actor, id: i64) -> Result<Draft, OpsError> {
        let d = self.draft(actor, id)?;
        actor.require(&self.db, Permission::EditContent, &Target::Draft(id))?;
        Ok(d)
    }

    /// A published draft to start a correction from: the actor may view it
    /// and has an editing role (the correction itself checks the item).
    /// Blocking.
    pub fn draft_to_correct(&self, actor: &Actor, id: i64) -> Result<Draft, OpsError> {
        let d = self.draft(actor, id)?;
        actor.require_role(Permission::EditContent)?;
        Ok(d)
    }

    /// May the actor write a new draft (`None`: its role allows editing)
    /// or change draft `id`? Asked before a form's body is read, so a
    /// refused request stores nothing. Blocking.
    pub fn may_write(&self, actor: &Actor, draft: Option<i64>) -> Result<(), OpsError> {
        match draft {
            None => actor.require_role(Permission::EditContent),
            Some(id) => actor.require(&self.db, Permission::EditContent, &Target::Draft(id)),
        }
    }

    /// Stores an image for a draft and gives its blob id. For a new
    /// draft, `scope` is the region the form names: the image is kept only
    /// if the actor may write for it. An image that cannot be used is a
    /// [`OpsError::BadRequest`]. Blocking.
    pub fn store_image(
        &self,
        actor: &Actor,
        scope: Option<&AreaCode>,
        bytes: &[u8],
    ) -> Result<String, OpsError> {
        if let Some(scope) = scope {
            actor.require(&self.db, Permission::EditContent, &Target::Region(scope))?;
        }
        Ok(self.db.put_image(bytes)?)
    }

    /// Replaces a draft's content (not yet submitted, or returned).
    /// Blocking.
    pub fn update_draft(
        &self,
        actor: &Actor,
        id: i64,
        content: &Content,
    ) -> Result<Draft, OpsError> {
        actor.require(&self.db, Permission::EditContent, &Target::Draft(id))?;
        Ok(self.db.update_draft(id, content, self.now())?)
    }

    /// Like [`Ops::update_draft`] from a form that names the region too:
    /// a draft keeps the region it was written for. Blocking.
    pub fn update_draft_for(
        &self,
        actor: &Actor,
        id: i64,
        scope: &AreaCode,
        content: &Content,
    ) -> Result<Draft, OpsError> {
        let db = &self.db;
        actor.require(db, Permission::EditContent, &Target::Draft(id))?;
        if db.draft(id)?.scope != *scope {
            actor.require(db, Permission::EditContent, &Target::Region(scope))?;
            return Err(OpsError::BadRequest(
                "a draft keeps the region it was written for; start a new one for another region"
                    .into(),
            ));
        }
        self.update_draft(actor, id, content)
    }

    /// Sends a draft to the level above for review. Blocking.
    pub fn submit_draft(&self, actor: &Actor, id: i64) -> Result<Draft, OpsError> {
        actor.require(&self.db, Permission::EditContent, &Target::Draft(id))?;
        Ok(self.db.submit_draft(id, self.now())?)
    }

    /// A correction of published item `item_id`: a new draft with the
    /// reason the boxes will show, reviewed like any other. Blocking.
    pub fn correct_item(
        &self,
        actor: &Actor,
        item_id: &str,
        content: &Content,
        reason: &str,
    ) -> Result<Draft, OpsError> {
        let db = &self.db;
        actor.require(db, Permission::EditContent, &Target::Item(item_id))?;
        Ok(db.create_correction(
            &actor.account.username,
            item_id,
            content,
            reason,
            self.now(),
        )?)
    }

    /// Withdraws a published item from the boxes (a reviewer of its
    /// region), keeping its drafts and history with the reason; boxes
    /// sync now. Blocking.
    pub fn retract_item(&self, actor: &Actor, item_id: &str, reason: &str) -> Result<(), OpsError> {
        let db = &self.db;
        let scope = db
            .target_regions(&Target::Item(item_id))?
            .into_iter()
            .next()
            .ok_or_else(|| OpsError::NotFound(format!("unknown item {item_id}")))?;
        actor.require_review(db, &scope)?;
        db.retract(item_id, &actor.account.username, reason, self.now())?;
        actor.note_change(Some(item_id.to_string()), None);
        let head = db.head(&db.scope_chain(&scope)?)?;
        self.events.publish(Event::FeedChanged { head });
        Ok(())
    }

    /// An item's versions: published, corrected, retracted. Blocking.
    pub fn item_history(
        &self,
        actor: &Actor,
        item_id: &str,
    ) -> Result<Vec<HistoryEntry>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Item(item_id))?;
        Ok(self.db.item_history(item_id)?)
    }

    /// Whether content of `county` may be reviewed at the level it was
    /// written for (by a county admin). Blocking.
    pub fn set_same_level_review(
        &self,
        actor: &Actor,
        county: &AreaCode,
        allowed: bool,
    ) -> Result<(), OpsError> {
        let db = &self.db;
        actor.require(db, Permission::ManageAccounts, &Target::Region(county))?;
        let is_county = db.scope_chain(county)?.len() == 1;
        if !is_county {
            return Err(OpsError::BadRequest(format!(
                "{county} is not a county; settings are per county"
            )));
        }
        Ok(db.set_same_level_review(county, allowed)?)
    }

    /// The regions the actor may write for: its own and everything under
    /// it. Blocking.
    pub fn publish_scopes(&self, actor: &Actor) -> Result<Vec<Region>, OpsError> {
        Ok(self
            .db
            .regions()?
            .into_iter()
            .filter(|r| actor.sees(&self.db, &r.code))
            .collect())
    }
}
