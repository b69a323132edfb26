//! Households as boxes name them, and the moves operators confirm.
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

use crate::api::boxes::{authorize, BoxToken};
use crate::api::{blocking, ApiError, AppState};
use crate::auth::{Caller, ClientIp};
use crate::db::{AuditEntry, Claimed, Outcome, Permission, Target};
use crate::push::now_ms;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices/{device}/members", put(claim_members))
        .route("/api/v1/admin/household-claims", get(list_claims))
        .route(
            "/api/v1/admin/household-claims/{id}/confirm",
            post(confirm_claim),
        )
}

/// What a box's claim came to, in one blocking call.
enum Answer {
    Household(model::Household),
    Elsewhere(Vec<String>),
}

async fn claim_members(
    State(state): State<AppState>,
    token: BoxToken,
    ClientIp(ip): ClientIp,
    Path(device): Path<String>,
    Json(body): Json<HouseholdMembers>,
) -> Result<Response, ApiError> {
    let answer = blocking(move || {
        let db = &state.db;
        authorize(db, &device, &token)?;
        let village = db.device_village(&device)?;
        let known = db.village_members(&village)?;
        if let Some(stranger) = body
            .members
            .iter()
            .find(|m| !known.iter().any(|k| &k.id == *m))
        {
            return Err(ApiError::BadRequest(format!(
                "member {stranger} is not in this box's village {village}"
            )));
        }
        let claimed = db.claim_household(&device, &village, &body.members, now_ms() / 1000)?;
        let (outcome, detail, answer) = match claimed {
            Claimed::Household(home) => {
                let ids: Vec<&str> = home.members.iter().map(|m| m.id.as_str()).collect();
                (
                    Outcome::Ok,
                    format!("members: {}", ids.join(", ")),
                    Answer::Household(home),
                )
            }
            Claimed::Elsewhere(members) => (
                Outcome::Refused,
                format!(
                    "claimed members living in another household: {}; kept for an operator to confirm",
                    members.join(", ")
                ),
                Answer::Elsewhere(members),
            ),
        };
        db.audit(
            &AuditEntry {
                account: None,
                action: "household.claim".into(),
                target: format!("box {device}"),
                region: Some(village.to_string()),
                ip,
                outcome: Some(outcome),
                detail,
                ..AuditEntry::default()
            },
            now_ms(),
        )?;
        Ok(answer)
    })
    .await?;
    match answer {
        Answer::Household(home) => Ok(Json(home).into_response()),
        Answer::Elsewhere(members) => Ok((
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
    let claims = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        Ok(state.db.household_claims(&q.region)?)
    })
    .await?;
    Ok(Json(claims).into_response())
}

async fn confirm_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let home = blocking(move || {
        let db = &state.db;
        let claim = match db.household_claim(id) {
            Ok(claim) => claim,
            // Only an operator learns that a claim does not exist.
            Err(e) => {
                caller.require_role(Permission::Operate)?;
                return Err(e.into());
            }
        };
        // The claiming household, the member and every household the
        // member lives in now must all be the operator's.
        caller.require(db, Permission::Operate, &Target::Household(&claim.device))?;
        caller.require(db, Permission::Operate, &Target::Member(&claim.member))?;
        let holders = db.member_holders(&claim.member, &claim.device)?;
        for holder in &holders {
            caller.require(db, Permission::Operate, &Target::Household(holder))?;
        }
        let (_, home) =
            db.confirm_household_claim(id, &caller.account.username, now_ms() / 1000)?;
        caller.note_change(
            Some(format!("{} in {}", claim.member, holders.join(", "))),
            Some(format!("{} in {}", claim.member, claim.device)),
        );
        Ok(home)
    })
    .await?;
    Ok(Json(home).into_response())
}
