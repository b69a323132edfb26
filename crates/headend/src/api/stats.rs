//! Statistics for assessment and supervision, as JSON or CSV
//! (`/api/v1/admin/stats/…`): uploads per village and module, who wrote
//! what, villages lagging in required modules, boxes online per village.
//! The figures come from [`headend_ops::stats`]; here they are rendered.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use model::AreaCode;
use serde::Deserialize;

use headend_ops::stats::ONLINE_WINDOW_MS;

use crate::api::meetings::far_future;
use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::csv_export::CsvExport;

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
    let uploads =
        blocking(move || Ok(state.ops.upload_stats(&caller, &q.region, q.from, q.to)?)).await?;
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "模块", "条数", "最近发布"])?;
        for c in &uploads.villages {
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
    Ok(Json(uploads).into_response())
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
    let modules: Vec<String> = q
        .modules
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    let supervision = blocking(move || {
        Ok(state
            .ops
            .supervision(&caller, &q.region, modules, q.within_days)?)
    })
    .await?;
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "缺少的模块", "各模块最近发布"])?;
        for l in &supervision.villages {
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
    Ok(Json(supervision).into_response())
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
    let counts = blocking(move || {
        let (db, hub) = (state.db.clone(), state.hub.clone());
        let online = move |now_ms| hub.online(&db, now_ms, ONLINE_WINDOW_MS);
        Ok(state.ops.box_counts(&caller, &q.region, online)?)
    })
    .await?;
    if csv {
        let mut csv = CsvExport::new(&["村编码", "村", "机顶盒", "在线"])?;
        for v in &counts.villages {
            csv.row([
                v.village.clone(),
                v.village_name.clone(),
                v.boxes.to_string(),
                v.online.to_string(),
            ])?;
        }
        return csv.into_response("boxes");
    }
    Ok(Json(counts).into_response())
}

/// Module opens reported by the boxes (their `usage` outbox items).
async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let counts =
        blocking(move || Ok(state.ops.usage_stats(&caller, &q.region, q.from, q.to)?)).await?;
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
