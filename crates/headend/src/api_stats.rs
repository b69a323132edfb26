//! Statistics for assessment and supervision, as JSON or CSV
//! (`/api/v1/admin/stats/…`): uploads per village and module, who wrote
//! what, villages lagging in required modules, boxes online per village.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use model::AreaCode;
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::api_meetings::far_future;
use crate::auth::Caller;
use crate::csv_export::CsvExport;
use crate::db::{Permission, Target, REQUIRED_MODULES};
use crate::push::now_ms;

/// A box is online if it holds the push channel or was seen this recently.
pub const ONLINE_WINDOW_MS: i64 = model::ONLINE_WINDOW_SECS * 1000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/stats/uploads", get(uploads))
        .route("/api/v1/admin/stats/supervision", get(supervision))
        .route("/api/v1/admin/stats/boxes", get(boxes))
        .route("/api/v1/admin/stats/usage", get(usage))
}

#[derive(Debug, Deserialize)]
struct PeriodQuery {
    region: AreaCode,
    #[serde(default)]
    from: i64,
    #[serde(default = "far_future")]
    to: i64,
    format: Option<String>,
}

fn date(secs: i64) -> String {
    model::format_date(secs)
}

async fn uploads(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let (counts, authors) = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        Ok(state.db.upload_counts(&q.region, q.from, q.to)?)
    })
    .await?;
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "模块", "条数", "最近发布"])?;
        for c in &counts {
            csv.row([
                c.village.clone(),
                c.village_name.clone(),
                c.module.clone(),
                c.count.to_string(),
                date(c.last_published_at),
            ])?;
        }
        return csv.into_response("uploads");
    }
    Ok(Json(serde_json::json!({ "villages": counts, "authors": authors })).into_response())
}

#[derive(Debug, Deserialize)]
struct SupervisionQuery {
    region: AreaCode,
    /// Comma-separated module names; default [`REQUIRED_MODULES`].
    modules: Option<String>,
    /// How recent counts as current; default one quarter.
    within_days: Option<i64>,
    format: Option<String>,
}

async fn supervision(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SupervisionQuery>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let modules: Vec<String> = match q.modules.as_deref() {
        Some(list) if !list.trim().is_empty() => list
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect(),
        _ => REQUIRED_MODULES.iter().map(|m| m.to_string()).collect(),
    };
    let days = q.within_days.unwrap_or(92).clamp(1, 3660);
    let since = now_ms() / 1000 - days * 24 * 3600;
    let wanted = modules.clone();
    let lagging = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        Ok(state.db.lagging_villages(&q.region, &wanted, since)?)
    })
    .await?;
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "缺少的模块", "各模块最近发布"])?;
        for l in &lagging {
            let last: Vec<String> = l
                .last
                .iter()
                .map(|(m, at)| format!("{m}:{}", at.map(date).unwrap_or_else(|| "从未".into())))
                .collect();
            csv.row([
                l.village.clone(),
                l.village_name.clone(),
                l.missing.join("、"),
                last.join("；"),
            ])?;
        }
        return csv.into_response("supervision");
    }
    Ok(Json(serde_json::json!({
        "modules": modules,
        "within_days": days,
        "villages": lagging,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct RegionFormat {
    region: AreaCode,
    format: Option<String>,
}

async fn boxes(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RegionFormat>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let hub = state.hub.clone();
    let (villages, online) = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        let villages = state.db.boxes_by_village(&q.region)?;
        Ok((villages, hub.online(&state.db, now_ms(), ONLINE_WINDOW_MS)))
    })
    .await?;
    let rows: Vec<serde_json::Value> = villages
        .iter()
        .map(|(code, name, devices)| {
            let up = devices.iter().filter(|d| online.contains(*d)).count();
            serde_json::json!({ "village": code, "village_name": name,
                                "boxes": devices.len(), "online": up })
        })
        .collect();
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "机顶盒", "在线"])?;
        for r in &rows {
            csv.row([
                r["village"].as_str().unwrap_or_default().to_string(),
                r["village_name"].as_str().unwrap_or_default().to_string(),
                r["boxes"].to_string(),
                r["online"].to_string(),
            ])?;
        }
        return csv.into_response("boxes");
    }
    let total: usize = villages.iter().map(|(_, _, d)| d.len()).sum();
    let up: usize = rows
        .iter()
        .filter_map(|r| r["online"].as_u64())
        .sum::<u64>() as usize;
    Ok(Json(serde_json::json!({ "boxes": total, "online": up, "villages": rows })).into_response())
}

/// Module opens reported by the boxes (their `usage` outbox items).
async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let counts = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        Ok(state.db.usage_counts(&q.region, q.from, q.to)?)
    })
    .await?;
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "模块", "打开次数", "机顶盒数"])?;
        for c in &counts {
            csv.row([
                c.village.clone(),
                c.village_name.clone(),
                c.module.clone(),
                c.opens.to_string(),
                c.boxes.to_string(),
            ])?;
        }
        return csv.into_response("usage");
    }
    Ok(Json(serde_json::json!({ "villages": counts })).into_response())
}
