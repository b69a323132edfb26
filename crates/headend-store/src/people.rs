//! Party branches attached to region nodes, their members, and households:
//! the boxes and the members who live where each box is installed.

use std::collections::HashMap;

use crate::locks::{self, Named};
use crate::sql::{params, OptionalExtension, Sql, Value};
use model::{AreaCode, Household, Member};

use super::{Db, DbError};

/// A party branch (党支部) and the region it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Branch {
    pub id: String,
    pub name: String,
    pub region: AreaCode,
}

/// A member as the headend keeps them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewMember {
    pub id: String,
    pub name: String,
    pub branch: String,
}

/// Boxes per statement of [`households`]; a short chunk repeats its last
/// id, so there is one statement text.
const HOUSEHOLD_CHUNK: usize = 32;

/// The households of `devices` that exist, by device, in a statement per
/// [`HOUSEHOLD_CHUNK`] boxes.
pub(super) fn households<'a>(
    conn: &impl Sql,
    devices: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, Household>, DbError> {
    let mut devices: Vec<&str> = devices.collect();
    devices.sort_unstable();
    devices.dedup();
    let placeholders: Vec<String> = (1..=HOUSEHOLD_CHUNK).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "SELECT h.device, m.id, m.name, b.id, b.name FROM households h
         LEFT JOIN household_members hm ON hm.device = h.device
         LEFT JOIN members m ON m.id = hm.member
         LEFT JOIN branches b ON b.id = m.branch
         WHERE h.device IN ({}) ORDER BY h.device, m.id",
        placeholders.join(", ")
    );
    let mut homes: HashMap<String, Household> = HashMap::new();
    for chunk in devices.chunks(HOUSEHOLD_CHUNK) {
        let mut ids: Vec<Value> = chunk.iter().map(|d| Value::Text(d.to_string())).collect();
        if let Some(last) = ids.last().cloned() {
            ids.resize(HOUSEHOLD_CHUNK, last);
        }
        for row in conn.rows(&sql, ids)? {
            let device: String = row.get(0)?;
            let home = homes.entry(device.clone()).or_insert_with(|| Household {
                device,
                members: Vec::new(),
            });
            let member: (
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            ) = (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
            if let (Some(id), Some(name), Some(branch), Some(branch_name)) = member {
                home.members.push(Member {
                    id,
                    name,
                    branch,
                    branch_name,
                });
            }
        }
    }
    Ok(homes)
}

pub(super) fn household(conn: &impl Sql, device: &str) -> Result<Option<Household>, DbError> {
    // One statement (a box's every request reads it; on PostgreSQL each
    // statement is a round trip): no row means no household, a row
    // without a member a household with nobody in it yet.
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.name, b.id, b.name FROM households h
         LEFT JOIN household_members hm ON hm.device = h.device
         LEFT JOIN members m ON m.id = hm.member
         LEFT JOIN branches b ON b.id = m.branch
         WHERE h.device = ?1 ORDER BY m.id",
    )?;
    let rows = stmt
        .query_map([device], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Ok(None);
    }
    let members = rows
        .into_iter()
        .filter_map(|row| match row {
            (Some(id), Some(name), Some(branch), Some(branch_name)) => Some(Member {
                id,
                name,
                branch,
                branch_name,
            }),
            _ => None,
        })
        .collect();
    Ok(Some(Household {
        device: device.to_string(),
        members,
    }))
}

impl Db {
    pub fn upsert_branch(&self, branch: &Branch) -> Result<(), DbError> {
        let conn = self.lock()?;
        let region_known: Option<String> = conn
            .query_row(
                "SELECT code FROM regions WHERE code = ?1",
                [branch.region.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if region_known.is_none() {
            return Err(DbError::UnknownRegion(branch.region.to_string()));
        }
        conn.execute(
            "INSERT INTO branches(id, name, region) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, region = excluded.region",
            params![branch.id, branch.name, branch.region.as_str()],
        )?;
        Ok(())
    }

    pub fn branches(&self) -> Result<Vec<Branch>, DbError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached("SELECT id, name, region FROM branches ORDER BY id")?;
        let rows = stmt
            .query_map(params![], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, name, region)| {
                Ok(Branch {
                    id,
                    name,
                    region: region
                        .parse()
                        .map_err(|_| DbError::UnknownRegion(region.clone()))?,
                })
            })
            .collect()
    }

    pub fn upsert_member(&self, member: &NewMember) -> Result<(), DbError> {
        let conn = self.lock()?;
        if !exists(&conn, "branches", &member.branch)? {
            return Err(DbError::NotFound(format!("branch {}", member.branch)));
        }
        conn.execute(
            "INSERT INTO members(id, name, branch) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, branch = excluded.branch",
            params![member.id, member.name, member.branch],
        )?;
        Ok(())
    }

    /// Binds a box to a village and says who lives there (replacing the
    /// previous list).
    pub fn set_household(
        &self,
        device: &str,
        village: &AreaCode,
        members: &[String],
    ) -> Result<(), DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // With the boxes' claims (households.rs), one at a time.
        locks::lock(&tx, Named::Households)?;
        let region: Option<String> = tx
            .query_row(
                "SELECT level FROM regions WHERE code = ?1",
                [village.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if region.as_deref() != Some("village") {
            return Err(DbError::UnknownRegion(village.to_string()));
        }
        tx.execute(
            "INSERT INTO households(device, village) VALUES (?1, ?2)
             ON CONFLICT(device) DO UPDATE SET village = excluded.village",
            params![device, village.as_str()],
        )?;
        tx.execute("DELETE FROM household_members WHERE device = ?1", [device])?;
        for member in members {
            if !exists(&tx, "members", member)? {
                return Err(DbError::NotFound(format!("member {member}")));
            }
            tx.execute(
                "INSERT INTO household_members(device, member) VALUES (?1, ?2)",
                params![device, member],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The members living where `device` is installed; `None` for an
    /// unknown box.
    pub fn household(&self, device: &str) -> Result<Option<Household>, DbError> {
        let conn = self.lock()?;
        household(&conn, device)
    }
}

pub(super) fn exists(conn: &impl Sql, table: &str, id: &str) -> Result<bool, DbError> {
    // `table` is one of ours, never user input.
    let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], |_| Ok(())).optional()?.is_some())
}
