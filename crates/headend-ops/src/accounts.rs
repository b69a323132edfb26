//! Staff accounts: listing, creating, disabling and re-enabling accounts
//! and setting others' passwords, within the acting admin's subtree; the
//! read-only audit log. (Logging in and changing one's own password, which
//! need the password check and its throttles, are in [`crate::login`].)

use crate::db::{Account, AuditEntry, AuditQuery, NewAccount, Permission, Target};
use crate::{Actor, Ops, OpsError};

/// Most audit entries one read returns.
pub const MAX_AUDIT_ENTRIES: usize = 5000;

impl Ops {
    /// The accounts of the actor's subtree.
    pub fn accounts(&self, actor: &Actor) -> Result<Vec<Account>, OpsError> {
        actor.require_role(Permission::ManageAccounts)?;
        Ok(self.db.accounts_under(&actor.account.region)?)
    }

    /// Whether `username` is taken (anywhere: user names are global).
    pub fn account_exists(&self, username: &str) -> Result<bool, OpsError> {
        Ok(self.db.account(username)?.is_some())
    }

    /// Creates `new` if its region lies in the actor's subtree and the role
    /// allows managing accounts.
    pub fn create_account(&self, actor: &Actor, new: &NewAccount) -> Result<Account, OpsError> {
        actor.require(
            &self.db,
            Permission::ManageAccounts,
            &Target::Region(&new.region),
        )?;
        Ok(self
            .db
            .create_account(new, Some(&actor.account.username), self.now())?)
    }

    /// The account `username`, if the actor may manage it.
    fn managed(&self, actor: &Actor, username: &str) -> Result<Account, OpsError> {
        let account = self
            .db
            .account(username)?
            .ok_or_else(|| OpsError::NotFound(format!("unknown account {username}")))?;
        actor.require(
            &self.db,
            Permission::ManageAccounts,
            &Target::Region(&account.region),
        )?;
        Ok(account)
    }

    /// Disables (ending its sessions) or re-enables an account in the
    /// actor's subtree; nobody disables their own.
    pub fn set_account_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<(), OpsError> {
        if disabled && username == actor.account.username {
            return Err(OpsError::BadRequest(
                "you cannot disable your own account; ask another admin".into(),
            ));
        }
        self.managed(actor, username)?;
        self.db.set_account_disabled(username, disabled)?;
        Ok(())
    }

    /// Sets the password of another account in the actor's subtree (its
    /// sessions end). One's own goes through
    /// [`crate::login::change_own_password`], which checks the current one.
    pub fn set_password(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> Result<(), OpsError> {
        if username == actor.account.username {
            return Err(OpsError::BadRequest(
                "give current_password: changing your own password needs the current one".into(),
            ));
        }
        self.managed(actor, username)?;
        self.db.set_password(username, password)?;
        Ok(())
    }

    /// Audit entries the actor's region may see, newest first.
    pub fn audit_log(
        &self,
        actor: &Actor,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, OpsError> {
        actor.require_role(Permission::ManageAccounts)?;
        let query = AuditQuery {
            limit: query.limit.min(MAX_AUDIT_ENTRIES),
            ..query.clone()
        };
        Ok(self.db.audit_log(&actor.account.region, &query)?)
    }

    /// Ends the session `token` (unknown tokens are fine: already out).
    pub fn logout(&self, token: &str) -> Result<(), OpsError> {
        Ok(self.db.logout(token)?)
    }
}

#[cfg(test)]
mod tests {
    use crate::db::{NewAccount, Role};
    use crate::testing::{actor, code, world, OTHER_VILLAGE, TOWN, VILLAGE};
    use crate::OpsError;

    fn new(username: &str, region: &str) -> NewAccount {
        NewAccount {
            username: username.into(),
            display_name: username.into(),
            region: code(region),
            role: Role::Editor,
            password: "a long enough password 1".into(),
        }
    }

    #[test]
    fn an_admin_manages_accounts_of_its_subtree_only() {
        let w = world();
        let village_admin = actor("village-admin", VILLAGE, Role::Admin);
        let town_admin = actor("town-admin", TOWN, Role::Admin);
        let made = w
            .ops
            .create_account(&village_admin, &new("clerk", VILLAGE))
            .expect("created in its own village");
        assert_eq!(made.created_by.as_deref(), Some("village-admin"));
        assert!(matches!(
            w.ops
                .create_account(&village_admin, &new("spy", OTHER_VILLAGE)),
            Err(OpsError::Forbidden(_))
        ));
        assert!(!w.ops.account_exists("spy").expect("read"));

        // The town sees the village's account; the neighbour village does not.
        let names = |a| -> Vec<String> {
            w.ops
                .accounts(a)
                .expect("listed")
                .into_iter()
                .map(|a| a.username)
                .collect()
        };
        assert_eq!(names(&town_admin), ["clerk"]);
        let neighbour = actor("neighbour", OTHER_VILLAGE, Role::Admin);
        assert!(names(&neighbour).is_empty());
        assert!(matches!(
            w.ops.set_account_disabled(&neighbour, "clerk", true),
            Err(OpsError::Forbidden(_))
        ));
        w.ops
            .set_account_disabled(&town_admin, "clerk", true)
            .expect("disabled from above");
        assert!(w.ops.accounts(&town_admin).expect("listed")[0].disabled);
    }

    #[test]
    fn nobody_disables_or_resets_their_own_account_here() {
        let w = world();
        let admin = actor("village-admin", VILLAGE, Role::Admin);
        assert!(matches!(
            w.ops.set_account_disabled(&admin, "village-admin", true),
            Err(OpsError::BadRequest(_))
        ));
        assert!(matches!(
            w.ops
                .set_password(&admin, "village-admin", "a long enough password 2"),
            Err(OpsError::BadRequest(_))
        ));
        let editor = actor("editor", VILLAGE, Role::Editor);
        assert!(matches!(
            w.ops.accounts(&editor),
            Err(OpsError::Forbidden(_))
        ));
    }
}
