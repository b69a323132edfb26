//! One-key service requests (一键服务): stored from boxes' outboxes, worked
//! through by staff (assign, reply, close) with the 24-hour reply deadline
//! tracked, counted per category and village, and reported back to the box.

use crate::sql::{params, OptionalExtension, Sql};
use model::{
    AreaCode, Content, Household, RequestStatus, ServiceMenu, ServiceRecord, ServiceRequest,
    SubmissionAnswer, REPLY_DEADLINE_HOURS,
};

use super::{published, region_name, scope_chain, subtree, Db, DbError};

const DEADLINE_SECS: i64 = REPLY_DEADLINE_HOURS * 3600;

/// A request as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaffRequest {
    pub id: i64,
    pub device: String,
    pub village: String,
    pub village_name: String,
    pub category: String,
    pub category_name: String,
    pub preset: Option<String>,
    pub phone: String,
    pub status: RequestStatus,
    /// Unix seconds.
    pub received_at: i64,
    /// A reply is due by then.
    pub reply_due: i64,
    /// No reply yet and past `reply_due`.
    pub overdue: bool,
    pub assignee: Option<String>,
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Which requests a staff list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub overdue_only: bool,
}

/// Counts for one category or village.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestCount {
    pub id: String,
    pub name: String,
    pub total: u32,
    /// Not yet replied to or closed.
    pub open: u32,
    pub overdue: u32,
}

/// What staff do to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestAction {
    Assign(String),
    Reply(String),
    Close,
}

fn village_of(conn: &impl Sql, device: &str) -> Result<Option<AreaCode>, DbError> {
    let village: Option<String> = conn
        .prepare_cached("SELECT village FROM households WHERE device = ?1")?
        .query_row([device], |r| r.get(0))
        .optional()?;
    Ok(village.and_then(|v| v.parse().ok()))
}

/// The menu that applies in `village`: its own, its town's or its county's,
/// else the standard one.
fn menu_for(conn: &impl Sql, village: &AreaCode) -> Result<ServiceMenu, DbError> {
    for scope in scope_chain(conn, village)? {
        let id = menu_id(&scope);
        if let Some((_, Content::ServiceMenu(menu))) = published(conn, &id)? {
            return Ok(menu);
        }
    }
    Ok(ServiceMenu::standard())
}

/// Feed item id of the menu published for `region`.
pub fn menu_id(region: &AreaCode) -> String {
    format!("service-menu-{region}")
}

fn is_overdue(status: RequestStatus, received_at: i64, now: i64) -> bool {
    matches!(status, RequestStatus::Submitted | RequestStatus::Accepted)
        && now > received_at + DEADLINE_SECS
}

/// Stores a service request from the box of `home`.
pub(super) fn store_request(
    conn: &impl Sql,
    home: &Household,
    key: &str,
    request: &ServiceRequest,
    now_ms: i64,
) -> Result<SubmissionAnswer, DbError> {
    let reject = |reason: String| Ok(SubmissionAnswer::Rejected { reason });
    if let Err(problem) = model::check_phone(&request.phone) {
        return reject(format!("phone {:?}: {problem}", request.phone));
    }
    let Some(village) = village_of(conn, &home.device)? else {
        return reject(format!("box {} is not bound to a village", home.device));
    };
    let menu = menu_for(conn, &village)?;
    let Some(category) = menu.category(&request.category) else {
        return reject(format!("unknown service category {:?}", request.category));
    };
    if let Some(preset) = &request.preset {
        if !category.presets.contains(preset) {
            return reject(format!("{preset:?} is not a preset of {:?}", category.name));
        }
    }
    conn.prepare_cached(
        "INSERT INTO service_requests(device, key, village, category, category_name, preset,
                                      phone, status, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        home.device,
        key,
        village.as_str(),
        category.id,
        category.name,
        request.preset,
        request.phone,
        RequestStatus::Submitted.as_str(),
        now_ms / 1000,
    ])?;
    Ok(SubmissionAnswer::Accepted { status: None })
}

fn staff_row(conn: &impl Sql, r: &crate::sql::Row, now: i64) -> Result<StaffRequest, DbError> {
    let status: String = r.get(8)?;
    let status = RequestStatus::parse(&status)
        .ok_or_else(|| DbError::BadInput(format!("stored request has status {status:?}")))?;
    let village: String = r.get(2)?;
    let received_at: i64 = r.get(9)?;
    Ok(StaffRequest {
        id: r.get(0)?,
        device: r.get(1)?,
        village_name: region_name(conn, &village)?,
        village,
        category: r.get(3)?,
        category_name: r.get(4)?,
        preset: r.get(5)?,
        phone: r.get(6)?,
        status,
        received_at,
        reply_due: received_at + DEADLINE_SECS,
        overdue: is_overdue(status, received_at, now),
        assignee: r.get(10)?,
        reply: r.get(11)?,
        replied_at: r.get(12)?,
        closed_at: r.get(13)?,
    })
}

const STAFF_SELECT: &str = "SELECT id, device, village, category, category_name, preset, phone,
    key, status, received_at, assignee, reply, replied_at, closed_at FROM service_requests";

fn request(conn: &impl Sql, id: i64, now: i64) -> Result<StaffRequest, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{STAFF_SELECT} WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(row) => staff_row(conn, row, now),
        None => Err(DbError::NotFound(format!("service request {id}"))),
    }
}

impl Db {
    /// Requests from villages under `region`, oldest open first.
    pub fn service_requests(
        &self,
        region: &AreaCode,
        filter: &RequestFilter,
        now: i64,
    ) -> Result<Vec<StaffRequest>, DbError> {
        let conn = self.lock()?;
        let villages = subtree(&conn, region)?;
        let mut stmt = conn.prepare_cached(&format!(
            "{STAFF_SELECT} ORDER BY status = 'closed', status = 'replied', received_at, id"
        ))?;
        let mut rows = stmt.query(params![])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let village: String = row.get(2)?;
            if !villages.contains(&village) {
                continue;
            }
            let request = staff_row(&conn, row, now)?;
            if filter.status.is_some_and(|s| s != request.status)
                || (filter.overdue_only && !request.overdue)
            {
                continue;
            }
            out.push(request);
        }
        Ok(out)
    }

    pub fn service_request(&self, id: i64, now: i64) -> Result<StaffRequest, DbError> {
        request(&self.lock()?, id, now)
    }

    /// Assigns, replies to or closes a request; returns it and the box it
    /// came from (to tell that box).
    pub fn act_on_request(
        &self,
        id: i64,
        action: &RequestAction,
        now: i64,
    ) -> Result<StaffRequest, DbError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // Locked: a reply and a close sent at once are applied one after
        // the other, and nothing changes a request once it is closed.
        let status: Option<String> = tx
            .query_row(
                &format!(
                    "SELECT status FROM service_requests WHERE id = ?1{}",
                    tx.backend().for_update()
                ),
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(status) = status else {
            return Err(DbError::NotFound(format!("service request {id}")));
        };
        if status == RequestStatus::Closed.as_str() {
            return Err(DbError::BadInput(format!(
                "service request {id} is closed already"
            )));
        }
        match action {
            RequestAction::Assign(to) => {
                if to.trim().is_empty() {
                    return Err(DbError::BadInput("say who takes the request".into()));
                }
                // Assigning after a reply keeps it replied.
                tx.execute(
                    "UPDATE service_requests SET assignee = ?2,
                     status = CASE status WHEN 'submitted' THEN 'accepted' ELSE status END
                     WHERE id = ?1",
                    params![id, to.trim()],
                )?;
            }
            RequestAction::Reply(text) => {
                if text.trim().is_empty() {
                    return Err(DbError::BadInput("a reply needs some text".into()));
                }
                tx.execute(
                    "UPDATE service_requests SET reply = ?2, replied_at = ?3,
                     status = 'replied' WHERE id = ?1",
                    params![id, text.trim(), now],
                )?;
            }
            RequestAction::Close => {
                tx.execute(
                    "UPDATE service_requests SET closed_at = ?2, status = 'closed'
                     WHERE id = ?1",
                    params![id, now],
                )?;
            }
        }
        let request = request(&tx, id, now)?;
        tx.commit()?;
        Ok(request)
    }

    /// Counts per category and per village under `region`, for requests
    /// received in `[from, to)` (unix seconds).
    pub fn service_counts(
        &self,
        region: &AreaCode,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<(Vec<RequestCount>, Vec<RequestCount>), DbError> {
        let all = self.service_requests(region, &RequestFilter::default(), now)?;
        let mut categories: Vec<RequestCount> = Vec::new();
        let mut villages: Vec<RequestCount> = Vec::new();
        for r in all
            .iter()
            .filter(|r| r.received_at >= from && r.received_at < to)
        {
            for (list, id, name) in [
                (&mut categories, &r.category, &r.category_name),
                (&mut villages, &r.village, &r.village_name),
            ] {
                let i = match list.iter().position(|c| &c.id == id) {
                    Some(i) => i,
                    None => {
                        list.push(RequestCount {
                            id: id.clone(),
                            name: name.clone(),
                            total: 0,
                            open: 0,
                            overdue: 0,
                        });
                        list.len() - 1
                    }
                };
                let c = &mut list[i];
                c.total += 1;
                if matches!(r.status, RequestStatus::Submitted | RequestStatus::Accepted) {
                    c.open += 1;
                }
                if r.overdue {
                    c.overdue += 1;
                }
            }
        }
        Ok((categories, villages))
    }
}

/// The household's requests as its box shows them, newest first.
pub(super) fn household_requests(
    conn: &impl Sql,
    device: &str,
) -> Result<Vec<ServiceRecord>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, category, category_name, preset, status, received_at, reply, replied_at
         FROM service_requests WHERE device = ?1 ORDER BY received_at DESC, id DESC",
    )?;
    let mut rows = stmt.query([device])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let status: String = r.get(4)?;
        out.push(ServiceRecord {
            key: r.get(0)?,
            category: r.get(1)?,
            category_name: r.get(2)?,
            preset: r.get(3)?,
            status: RequestStatus::parse(&status).unwrap_or(RequestStatus::Submitted),
            submitted_at: r.get(5)?,
            reply: r.get(6)?,
            replied_at: r.get(7)?,
        });
    }
    Ok(out)
}
