//! Statistics for assessment and supervision: disclosures published per
//! village and module and who wrote them, villages lagging in required
//! modules, boxes online per village, module opens reported by boxes; and
//! the figures of a region's dashboard.
//!
//! Each asks that the actor may view the region. Which boxes are online
//! is known to the push layer (connections held, heartbeats seen), so the
//! caller passes it in.

use std::collections::HashSet;

use model::AreaCode;
use serde::Serialize;

use crate::db::{
    AuthorCount, Lagging, Permission, RequestFilter, Target, UploadCount, UsageCount,
    REQUIRED_MODULES,
};
use crate::{Actor, Ops, OpsError};

/// A box is online if it holds the push channel or was seen this recently.
pub const ONLINE_WINDOW_MS: i64 = model::ONLINE_WINDOW_SECS * 1000;

/// How recent a required module's last disclosure must be by default (one
/// quarter), and the bounds a caller may ask for.
const DEFAULT_WITHIN_DAYS: i64 = 92;
const MAX_WITHIN_DAYS: i64 = 3660;
const DAY: i64 = 86_400;
/// China time, in which quarters begin.
const CHINA_OFFSET: i64 = 8 * 3600;

/// Disclosures published per village and module, and drafts per author.
#[derive(Debug, Clone, Serialize)]
pub struct Uploads {
    pub villages: Vec<UploadCount>,
    pub authors: Vec<AuthorCount>,
}

/// Villages with nothing current in some of `modules`.
#[derive(Debug, Clone, Serialize)]
pub struct Supervision {
    pub modules: Vec<String>,
    pub within_days: i64,
    pub villages: Vec<Lagging>,
}

/// Boxes of one village and how many of them are online.
#[derive(Debug, Clone, Serialize)]
pub struct VillageBoxes {
    pub village: String,
    pub village_name: String,
    pub boxes: usize,
    pub online: usize,
}

/// Boxes under a region, in total and per village.
#[derive(Debug, Clone, Serialize)]
pub struct BoxCounts {
    pub boxes: usize,
    pub online: usize,
    pub villages: Vec<VillageBoxes>,
}

/// What a region's dashboard shows besides its boxes.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Unix seconds the current quarter began (China time).
    pub since: i64,
    /// Disclosures published this quarter.
    pub published: u32,
    /// Published this quarter per village name, most first, at most 12.
    pub uploads: Vec<(String, f64)>,
    /// Villages behind in required modules: (name, missing modules).
    pub lagging: Vec<(String, Vec<String>)>,
    /// Attendance (percent present or late) of the last eight meetings
    /// with a roll-call, oldest first: (starts_at, rate).
    pub attendance: Vec<(i64, f64)>,
    pub open_requests: usize,
    pub overdue_requests: usize,
}

impl Ops {
    /// Disclosures published in `[from, to)` under `region`. Blocking.
    pub fn upload_stats(
        &self,
        actor: &Actor,
        region: &AreaCode,
        from: i64,
        to: i64,
    ) -> Result<Uploads, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        let (villages, authors) = self.db.upload_counts(region, from, to)?;
        Ok(Uploads { villages, authors })
    }

    /// Villages under `region` with no disclosure in some of `modules`
    /// (empty: [`REQUIRED_MODULES`]) within the last `within_days` (default
    /// a quarter). Blocking.
    pub fn supervision(
        &self,
        actor: &Actor,
        region: &AreaCode,
        modules: Vec<String>,
        within_days: Option<i64>,
    ) -> Result<Supervision, OpsError> {
        let modules = if modules.is_empty() {
            REQUIRED_MODULES.iter().map(|m| m.to_string()).collect()
        } else {
            modules
        };
        let days = within_days
            .unwrap_or(DEFAULT_WITHIN_DAYS)
            .clamp(1, MAX_WITHIN_DAYS);
        let since = self.now() - days * DAY;
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        let villages = self.db.lagging_villages(region, &modules, since)?;
        Ok(Supervision {
            modules,
            within_days: days,
            villages,
        })
    }

    /// Boxes per village under `region`; `online` gives the boxes online
    /// at a time (milliseconds), as the push layer knows them. Blocking.
    pub fn box_counts(
        &self,
        actor: &Actor,
        region: &AreaCode,
        online: impl FnOnce(i64) -> HashSet<String>,
    ) -> Result<BoxCounts, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        let per_village = self.db.boxes_by_village(region)?;
        let online = online(self.now_ms());
        let villages: Vec<VillageBoxes> = per_village
            .into_iter()
            .map(|(village, village_name, devices)| VillageBoxes {
                online: devices.iter().filter(|d| online.contains(*d)).count(),
                boxes: devices.len(),
                village,
                village_name,
            })
            .collect();
        Ok(BoxCounts {
            boxes: villages.iter().map(|v| v.boxes).sum(),
            online: villages.iter().map(|v| v.online).sum(),
            villages,
        })
    }

    /// Module opens reported by boxes under `region` in `[from, to)`.
    /// Blocking.
    pub fn usage_stats(
        &self,
        actor: &Actor,
        region: &AreaCode,
        from: i64,
        to: i64,
    ) -> Result<Vec<UsageCount>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        Ok(self.db.usage_counts(region, from, to)?)
    }

    /// The dashboard of the actor's region for the current quarter.
    /// Blocking.
    pub fn dashboard(&self, actor: &Actor) -> Result<Dashboard, OpsError> {
        let db = &self.db;
        let region = actor.account.region.clone();
        actor.require(db, Permission::View, &Target::Region(&region))?;
        let now = self.now();
        let since = quarter_start(now);
        let (uploads, _) = db.upload_counts(&region, since, now + 1)?;
        let mut per_village: Vec<(String, f64)> = Vec::new();
        for u in &uploads {
            match per_village
                .iter_mut()
                .find(|(name, _)| *name == u.village_name)
            {
                Some(entry) => entry.1 += f64::from(u.count),
                None => per_village.push((u.village_name.clone(), f64::from(u.count))),
            }
        }
        per_village.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        per_village.truncate(12);
        let modules: Vec<String> = REQUIRED_MODULES.iter().map(|m| m.to_string()).collect();
        let lagging = db
            .lagging_villages(&region, &modules, since)?
            .into_iter()
            .map(|l| (l.village_name, l.missing))
            .collect();
        let requests = db.service_requests(&region, &RequestFilter::default(), now)?;
        let open_requests = requests
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    model::RequestStatus::Submitted | model::RequestStatus::Accepted
                )
            })
            .count();
        Ok(Dashboard {
            since,
            published: uploads.iter().map(|u| u.count).sum(),
            uploads: per_village,
            lagging,
            attendance: self.recent_attendance(actor, now)?,
            open_requests,
            overdue_requests: requests.iter().filter(|r| r.overdue).count(),
        })
    }

    /// Attendance of the last eight meetings with a roll-call in the last
    /// half year that the actor may view, oldest first.
    fn recent_attendance(&self, actor: &Actor, now: i64) -> Result<Vec<(i64, f64)>, OpsError> {
        let db = &self.db;
        let mut meetings: Vec<_> = db
            .meetings(now - 180 * DAY, now + 1)?
            .into_iter()
            .filter(|m| m.rollcalls.iter().any(|r| r.opened_at_ms.is_some()))
            .filter(|m| {
                actor
                    .require(db, Permission::View, &Target::Meeting(&m.id))
                    .is_ok()
            })
            .collect();
        meetings.sort_by_key(|m| m.starts_at);
        let recent = meetings.len().saturating_sub(8);
        let mut attendance = Vec::new();
        for m in &meetings[recent..] {
            let rows = db.meeting_attendance(&m.id)?;
            let came = rows
                .iter()
                .filter(|r| {
                    matches!(
                        r.status,
                        model::AttendanceStatus::Present | model::AttendanceStatus::Late
                    )
                })
                .count();
            let rate = if rows.is_empty() {
                0.0
            } else {
                came as f64 * 100.0 / rows.len() as f64
            };
            attendance.push((m.starts_at, rate));
        }
        Ok(attendance)
    }
}

/// Unix seconds of the first day of `now`'s quarter, China time.
pub fn quarter_start(now: i64) -> i64 {
    let (year, month, _) = civil_from_days((now + CHINA_OFFSET).div_euclid(DAY));
    let first = (month - 1) / 3 * 3 + 1;
    days_from_civil(year, first, 1) * DAY - CHINA_OFFSET
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_start_on_their_first_day_in_china_time() {
        // 2026-11-29 19:00 China time.
        let t = days_from_civil(2026, 11, 29) * DAY + 19 * 3600 - CHINA_OFFSET;
        let start = quarter_start(t);
        // 2026-10-01 00:00 China time is 2026-09-30 16:00 UTC.
        assert_eq!(start, days_from_civil(2026, 9, 30) * DAY + 16 * 3600);
        // The first minute of a quarter belongs to it; the last of the
        // previous one does not.
        assert_eq!(quarter_start(start), start);
        assert_eq!(
            quarter_start(start - 60),
            days_from_civil(2026, 6, 30) * DAY + 16 * 3600
        );
        // 2026-03-31 23:59 China time: still the first quarter.
        let march = days_from_civil(2026, 3, 31) * DAY + 23 * 3600 + 59 * 60 - CHINA_OFFSET;
        assert_eq!(
            quarter_start(march),
            days_from_civil(2025, 12, 31) * DAY + 16 * 3600
        );
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1, 0, 59, 365, 11_016, 20_788, 20_820] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
