//! Households: who lives where a box is. Operators set a household
//! outright; a box names its household from its village's members, and a
//! member who lives in another box's household is not taken on the box's
//! word: the whole claim is refused, written to the audit log and kept
//! until an operator whose region holds the claiming box, the member and
//! every household the member lives in confirms the move.

use model::{AreaCode, Household};

use crate::db::{AuditEntry, Claimed, DbError, HouseholdClaim, Outcome, Permission, Target};
use crate::{Actor, Ops, OpsError};

impl Ops {
    /// Binds box `device` to `village` with `members` living there, for an
    /// operator of the village, of the box's present household (if any)
    /// and of every member. Blocking.
    pub fn set_household(
        &self,
        actor: &Actor,
        device: &str,
        village: &AreaCode,
        members: &[String],
    ) -> Result<Option<Household>, OpsError> {
        let db = &self.db;
        actor.require(db, Permission::Operate, &Target::Region(village))?;
        match db.target_regions(&Target::Household(device)) {
            Ok(_) => actor.require(db, Permission::Operate, &Target::Household(device))?,
            Err(DbError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        for member in members {
            actor.require(db, Permission::Operate, &Target::Member(member))?;
        }
        db.set_household(device, village, members)?;
        Ok(db.household(device)?)
    }

    /// Box `device` (proved by `token`) says `members` live there: its
    /// household as it is now, or the members who live in another
    /// household (nothing changed; kept for an operator). Either way the
    /// claim is audited, as from `ip`. Blocking.
    pub fn claim_household(
        &self,
        device: &str,
        token: Option<&str>,
        ip: &str,
        members: &[String],
    ) -> Result<Claimed, OpsError> {
        let db = &self.db;
        self.authorize_box(device, token)?;
        let village = db.device_village(device)?;
        let known = db.village_members(&village)?;
        if let Some(stranger) = members.iter().find(|m| !known.iter().any(|k| &k.id == *m)) {
            return Err(OpsError::BadRequest(format!(
                "member {stranger} is not in this box's village {village}"
            )));
        }
        let claimed = db.claim_household(device, &village, members, self.now())?;
        let (outcome, detail) = match &claimed {
            Claimed::Household(home) => {
                let ids: Vec<&str> = home.members.iter().map(|m| m.id.as_str()).collect();
                (Outcome::Ok, format!("members: {}", ids.join(", ")))
            }
            Claimed::Elsewhere(members) => (
                Outcome::Refused,
                format!(
                    "claimed members living in another household: {}; kept for an operator to confirm",
                    members.join(", ")
                ),
            ),
        };
        db.audit(
            &AuditEntry {
                account: None,
                action: "household.claim".into(),
                target: format!("box {device}"),
                region: Some(village.to_string()),
                ip: ip.to_string(),
                outcome: Some(outcome),
                detail,
                ..AuditEntry::default()
            },
            self.now_ms(),
        )?;
        Ok(claimed)
    }

    /// Claims waiting for (or confirmed by) an operator under `region`.
    /// Blocking.
    pub fn household_claims(
        &self,
        actor: &Actor,
        region: &AreaCode,
    ) -> Result<Vec<HouseholdClaim>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        Ok(self.db.household_claims(region)?)
    }

    /// Moves claim `id`'s member into the claiming box's household (out
    /// of every other one): the claiming household, the member and every
    /// household the member lives in now must all be the operator's.
    /// Blocking.
    pub fn confirm_household_claim(&self, actor: &Actor, id: i64) -> Result<Household, OpsError> {
        let db = &self.db;
        let claim = match db.household_claim(id) {
            Ok(claim) => claim,
            // Only an operator learns that a claim does not exist.
            Err(e) => {
                actor.require_role(Permission::Operate)?;
                return Err(e.into());
            }
        };
        actor.require(db, Permission::Operate, &Target::Household(&claim.device))?;
        actor.require(db, Permission::Operate, &Target::Member(&claim.member))?;
        let holders = db.member_holders(&claim.member, &claim.device)?;
        for holder in &holders {
            actor.require(db, Permission::Operate, &Target::Household(holder))?;
        }
        let (_, home) = db.confirm_household_claim(id, &actor.account.username, self.now())?;
        actor.note_change(
            Some(format!("{} in {}", claim.member, holders.join(", "))),
            Some(format!("{} in {}", claim.member, claim.device)),
        );
        Ok(home)
    }
}
