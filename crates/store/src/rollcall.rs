//! What the box keeps for roll-calls: its household (who may sign in here),
//! the household's attendance record as the headend last reported it, and
//! which roll-calls each member already answered on this box, so a prompt
//! the headend sends again after a reconnect is not shown twice.

use model::{Household, MemberAttendance};
use rusqlite::params;

use crate::{Cache, StoreError};

impl Cache {
    /// The household as last fetched; empty before the first fetch.
    pub fn household(&self) -> Result<Household, StoreError> {
        match self.meta("household")? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(Household::default()),
        }
    }

    pub fn set_household(&mut self, household: &Household) -> Result<(), StoreError> {
        self.set_meta("household", &serde_json::to_string(household)?)
    }

    /// The household's attendance records, as last fetched.
    pub fn attendance(&self) -> Result<Vec<MemberAttendance>, StoreError> {
        match self.meta("attendance")? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(Vec::new()),
        }
    }

    pub fn set_attendance(&mut self, records: &[MemberAttendance]) -> Result<(), StoreError> {
        self.set_meta("attendance", &serde_json::to_string(records)?)
    }

    /// Remembers that `member` answered `rollcall` on this box.
    pub fn mark_signed(&mut self, rollcall: &str, member: &str, at: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO signed(rollcall, member, at) VALUES (?1, ?2, ?3)",
            params![rollcall, member, at],
        )?;
        Ok(())
    }

    /// Members who answered `rollcall` on this box, with when (unix seconds).
    pub fn signed(&self, rollcall: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT member, at FROM signed WHERE rollcall = ?1 ORDER BY at, member",
        )?;
        let rows = stmt
            .query_map([rollcall], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
