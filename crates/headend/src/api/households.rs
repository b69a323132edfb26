//! Households as boxes name them, and the moves operators confirm (the
//! rules are the operations' in `headend_ops::households`).
//!
//! Box side (`PUT /api/v1/devices/{device}/members`): a box names who lives
//! where it is, from its village's members. A member who lives in another
//! box's household is not taken on the box's word: the whole claim is
//! refused (`409 member_in_other_household`), written to the audit log and
//! kept for an operator. Staff side (`/api/v1/admin/household-claims…`):
//! an operator whose region holds the claiming box, the member and the
//! household the member lives in confirms the move.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{AreaCode, HouseholdMembers};
use serde::Deserialize;

use crate::api::boxes::BoxToken;
use crate::api::{blocking, ApiError, AppState};
use crate::auth::{Caller, ClientIp};
use crate::db::Claimed;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices/{device}/members", put(claim_members))
        .route("/api/v1/admin/household-claims", get(list_claims))
        .route(
            "/api/v1/admin/household-claims/{id}/confirm",
            post(confirm_claim),
        )
}

async fn claim_members(
    State(state): State<AppState>,
    token: BoxToken,
    ClientIp(ip): ClientIp,
    Path(device): Path<String>,
    Json(body): Json<HouseholdMembers>,
) -> Result<Response, ApiError> {
    let answer = blocking(move || {
        Ok(state
            .ops
            .claim_household(&device, token.bearer(), &ip, &body.members)?)
    })
    .await?;
    match answer {
        Claimed::Household(home) => Ok(Json(home).into_response()),
        Claimed::Elsewhere(members) => Ok((
            StatusCode::CONFLICT,
            Json(model::ApiError {
                code: model::refusal::MEMBER_ELSEWHERE.into(),
                message: format!(
                    "{} already live(s) in another household; an operator of the village must confirm the move",
                    members.join(", ")
                ),
            }),
        )
            .into_response()),
    }
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    region: AreaCode,
}

async fn list_claims(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RegionQuery>,
) -> Result<Response, ApiError> {
    let claims = blocking(move || Ok(state.ops.household_claims(&caller, &q.region)?)).await?;
    Ok(Json(claims).into_response())
}

async fn confirm_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let home = blocking(move || Ok(state.ops.confirm_household_claim(&caller, id)?)).await?;
    Ok(Json(home).into_response())
}
