//! Households as boxes claim them. A box names who lives where it is, from
//! its village's members; a member who already lives in another box's
//! household does not move on a box's word (that box would then answer the
//! member's roll-calls and see their records): the claim is refused and
//! kept for an operator, who confirms the move or leaves it.

use crate::locks::{self, Named};
use crate::sql::{params, OptionalExtension, Sql};
use model::{AreaCode, Household};

use super::people::household;
use super::{region_name, subtree, Db, DbError};

/// What came of a box's claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// Nobody else had them: the household as it is now.
    Household(Household),
    /// These members live in another box's household; nothing changed and
    /// the claim waits for an operator.
    Elsewhere(Vec<String>),
}

/// A box's claim of a member who lived in another household, as staff
/// see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HouseholdClaim {
    pub id: i64,
    /// The box that claims the member.
    pub device: String,
    pub village: String,
    pub village_name: String,
    pub member: String,
    pub member_name: String,
    /// The box whose household the member was in when claimed.
    pub held_by: String,
    /// Unix seconds.
    pub claimed_at: i64,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
}

const CLAIM_SELECT: &str = "SELECT c.id, c.device, h.village, c.member, m.name, c.held_by,
    c.claimed_at, c.confirmed_by, c.confirmed_at FROM household_claims c
    JOIN households h ON h.device = c.device JOIN members m ON m.id = c.member";

fn claim_row(conn: &impl Sql, r: &crate::sql::Row) -> Result<HouseholdClaim, DbError> {
    let village: String = r.get(2)?;
    Ok(HouseholdClaim {
        id: r.get(0)?,
        device: r.get(1)?,
        village_name: region_name(conn, &village)?,
        village,
        member: r.get(3)?,
        member_name: r.get(4)?,
        held_by: r.get(5)?,
        claimed_at: r.get(6)?,
        confirmed_by: r.get(7)?,
        confirmed_at: r.get(8)?,
    })
}

fn claim(conn: &impl Sql, id: i64) -> Result<HouseholdClaim, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{CLAIM_SELECT} WHERE c.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => claim_row(conn, r),
        None => Err(DbError::NotFound(format!("household claim {id}"))),
    }
}

/// The boxes other than `device` whose households hold `member`.
fn holders(conn: &impl Sql, member: &str, device: &str) -> Result<Vec<String>, DbError> {
    conn.prepare_cached(
        "SELECT device FROM household_members WHERE member = ?1 AND device != ?2
             ORDER BY device",
    )?
    .query_map(params![member, device], |r| r.get(0))?
    .collect::<Result<_, _>>()
}

impl Db {
    /// `device`, bound to `village`, says these members live where it is.
    /// Members nobody else has replace its list; if any lives in another
    /// box's household, nothing changes and the claim is kept for an
    /// operator.
    pub fn claim_household(
        &self,
        device: &str,
        village: &AreaCode,
        members: &[String],
        now: i64,
    ) -> Result<Claimed, DbError> {
        let mut wanted: Vec<&String> = members.iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // "Does anyone else have them?" asks about rows that may not
        // exist, so no row lock can answer it for two boxes at once.
        locks::lock(&tx, Named::Households)?;
        tx.execute(
            "INSERT INTO households(device, village) VALUES (?1, ?2)
             ON CONFLICT(device) DO UPDATE SET village = excluded.village",
            params![device, village.as_str()],
        )?;
        let mut elsewhere = Vec::new();
        for member in &wanted {
            if let Some(held_by) = holders(&tx, member, device)?.into_iter().next() {
                let open: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM household_claims
                         WHERE device = ?1 AND member = ?2 AND confirmed_at IS NULL",
                        params![device, member],
                        |r| r.get(0),
                    )
                    .optional()?;
                match open {
                    Some(id) => tx.execute(
                        "UPDATE household_claims SET held_by = ?2, claimed_at = ?3 WHERE id = ?1",
                        params![id, held_by, now],
                    )?,
                    None => tx.execute(
                        "INSERT INTO household_claims(device, member, held_by, claimed_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![device, member, held_by, now],
                    )?,
                };
                elsewhere.push((*member).clone());
            }
        }
        if !elsewhere.is_empty() {
            tx.commit()?;
            return Ok(Claimed::Elsewhere(elsewhere));
        }
        tx.execute("DELETE FROM household_members WHERE device = ?1", [device])?;
        for member in &wanted {
            tx.execute(
                "INSERT INTO household_members(device, member) VALUES (?1, ?2)",
                params![device, member],
            )?;
        }
        let home =
            household(&tx, device)?.ok_or_else(|| DbError::NotFound(format!("box {device}")))?;
        tx.commit()?;
        Ok(Claimed::Household(home))
    }

    /// Claims from boxes in villages under `region`, open ones first, then
    /// newest first.
    pub fn household_claims(&self, region: &AreaCode) -> Result<Vec<HouseholdClaim>, DbError> {
        let conn = self.lock()?;
        let villages = subtree(&conn, region)?;
        let mut stmt = conn.prepare_cached(&format!(
            "{CLAIM_SELECT} ORDER BY c.confirmed_at IS NOT NULL, c.claimed_at DESC, c.id DESC"
        ))?;
        let mut rows = stmt.query(params![])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let village: String = r.get(2)?;
            if villages.contains(&village) {
                out.push(claim_row(&conn, r)?);
            }
        }
        Ok(out)
    }

    pub fn household_claim(&self, id: i64) -> Result<HouseholdClaim, DbError> {
        claim(&self.lock()?, id)
    }

    /// The boxes other than `device` whose households hold `member`.
    pub fn member_holders(&self, member: &str, device: &str) -> Result<Vec<String>, DbError> {
        holders(&self.lock()?, member, device)
    }

    /// Moves the claimed member into the claiming box's household (out of
    /// every other one), as operator `by` confirmed.
    pub fn confirm_household_claim(
        &self,
        id: i64,
        by: &str,
        now: i64,
    ) -> Result<(HouseholdClaim, Household), DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        locks::lock(&tx, Named::Households)?;
        let c = claim(&tx, id)?;
        if c.confirmed_at.is_some() {
            return Err(DbError::BadInput(format!(
                "household claim {id} was confirmed already"
            )));
        }
        tx.execute(
            "DELETE FROM household_members WHERE member = ?1 AND device != ?2",
            params![c.member, c.device],
        )?;
        tx.execute(
            "INSERT INTO household_members(device, member) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            params![c.device, c.member],
        )?;
        tx.execute(
            "UPDATE household_claims SET confirmed_by = ?2, confirmed_at = ?3 WHERE id = ?1",
            params![id, by, now],
        )?;
        let home = household(&tx, &c.device)?
            .ok_or_else(|| DbError::NotFound(format!("box {}", c.device)))?;
        let c = claim(&tx, id)?;
        tx.commit()?;
        Ok((c, home))
    }
}
