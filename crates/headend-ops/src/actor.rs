//! Who acts, and may they: a logged-in staff account, checked against the
//! role it has and the region subtree it is attached to.
//!
//! Every staff operation asks [`Actor::require`] (or
//! [`Actor::require_review`]) before it touches anything: the role must
//! allow the action and every region the target lives in must lie in the
//! account's subtree. What the operation learned (the region, a refusal,
//! the versions a change replaced and made) goes into the actor's
//! [`Notes`], which the HTTP layer writes as the request's audit entry.

use std::sync::{Arc, Mutex};

use crate::db::{Account, Db, Permission, Target};
use crate::OpsError;

/// What one request learned for its audit entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditNotes {
    pub account: Option<String>,
    pub region: Option<String>,
    pub refusal: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The notes of one request, shared by its handler and the layer that
/// writes its audit entry.
#[derive(Debug, Clone, Default)]
pub struct Notes(Arc<Mutex<AuditNotes>>);

impl Notes {
    fn update(&self, f: impl FnOnce(&mut AuditNotes)) {
        if let Ok(mut inner) = self.0.lock() {
            f(&mut inner);
        }
    }

    /// What was noted so far.
    pub fn snapshot(&self) -> AuditNotes {
        self.0.lock().map(|n| n.clone()).unwrap_or_default()
    }

    pub fn set_account(&self, username: &str) {
        self.update(|n| n.account = Some(username.to_string()));
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: Account,
    notes: Notes,
}

impl Actor {
    /// `account`, noting into `notes` (the request's).
    pub fn new(account: Account, notes: Notes) -> Actor {
        notes.set_account(&account.username);
        Actor { account, notes }
    }

    /// Refuses with `why`, noted for the audit log. The entry names the
    /// target's region if one was noted, else the account's own (what a
    /// request without a target, such as a list, is about), so every
    /// refusal is seen by the admins of the region it concerns.
    pub fn refuse(&self, why: String) -> OpsError {
        self.note_refusal(&why);
        let own = self.account.region.as_str().to_string();
        self.notes.update(|n| {
            n.region.get_or_insert(own);
        });
        OpsError::Forbidden(why)
    }

    /// Why the request was refused, for its audit entry.
    pub fn note_refusal(&self, why: &str) {
        self.notes.update(|n| n.refusal = Some(why.to_string()));
    }

    /// The role allows `permission` (no region involved).
    pub fn require_role(&self, permission: Permission) -> Result<(), OpsError> {
        if self.account.role.allows(permission) {
            Ok(())
        } else {
            Err(self.refuse(format!(
                "an account with the {} role cannot do this; ask an account with the right role",
                self.account.role.as_str()
            )))
        }
    }

    /// The role allows `permission` and `target` lies wholly inside the
    /// account's region. Blocking (reads the store).
    pub fn require(
        &self,
        db: &Db,
        permission: Permission,
        target: &Target<'_>,
    ) -> Result<(), OpsError> {
        if !self.account.role.allows(permission) {
            // Refused for the role alone, but audited in the target's
            // region, so that region's admins see the attempt. A target
            // that does not exist is refused like one that does.
            if let Some(first) = db
                .target_regions(target)
                .ok()
                .and_then(|r| r.first().cloned())
            {
                self.notes
                    .update(|n| n.region = Some(first.as_str().to_string()));
            }
            return self.require_role(permission);
        }
        let regions = db.target_regions(target)?;
        if let Some(first) = regions.first() {
            self.notes
                .update(|n| n.region = Some(first.as_str().to_string()));
        }
        for region in &regions {
            if !db.region_within(&self.account.region, region)? {
                return Err(self.refuse(format!(
                    "region {region} is outside this account's region {}",
                    self.account.region
                )));
            }
        }
        Ok(())
    }

    /// The account may review content of `scope`: the role allows it, and
    /// it sits above the scope (or at it, where the county allows that).
    pub fn require_review(&self, db: &Db, scope: &model::AreaCode) -> Result<(), OpsError> {
        self.require(db, Permission::ReviewContent, &Target::Region(scope))?;
        if db.may_review(&self.account.region, scope)? {
            Ok(())
        } else {
            Err(self.refuse(format!(
                "content of {scope} is reviewed from the level above; this county does not allow review at the same level"
            )))
        }
    }

    /// Records the ids a change replaced and made (e.g. `item@1`, `item@2`).
    pub fn note_change(&self, before: Option<String>, after: Option<String>) {
        self.notes.update(|n| {
            n.before = before;
            n.after = after;
        });
    }

    /// Like [`Actor::require`] for a list: true if `region` is inside.
    pub fn sees(&self, db: &Db, region: &model::AreaCode) -> bool {
        db.region_within(&self.account.region, region)
            .unwrap_or(false)
    }
}
