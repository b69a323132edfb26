//! The content lifecycle over HTTP: drafts written by editors, reviewed
//! from the level above, published now or later; corrections with a
//! reason; retractions that keep the record (`/api/v1/admin/content`,
//! `/api/v1/admin/items/{id}/…`, `/api/v1/admin/settings/{county}`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{AreaCode, Content};
use serde::Deserialize;

use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::db::{Db, Draft, DraftStatus, Permission, Target};
use crate::push::{now_ms, HubEvent};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/content", post(create_draft).get(list_drafts))
        .route(
            "/api/v1/admin/content/{id}",
            get(one_draft).put(update_draft),
        )
        .route("/api/v1/admin/content/{id}/submit", post(submit))
        .route("/api/v1/admin/content/{id}/approve", post(approve))
        .route("/api/v1/admin/content/{id}/return", post(return_draft))
        .route("/api/v1/admin/items/{id}/correct", post(correct))
        .route("/api/v1/admin/items/{id}/retract", post(retract))
        .route("/api/v1/admin/items/{id}/history", get(history))
        .route("/api/v1/admin/settings/{county}", put(put_settings))
}

fn now() -> i64 {
    now_ms() / 1000
}

#[derive(Debug, Deserialize)]
struct NewDraft {
    scope: AreaCode,
    content: Content,
    /// Publish under this id (a new item); generated when absent.
    item_id: Option<String>,
}

async fn create_draft(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewDraft>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        new_draft(
            &state.db,
            &caller,
            &new.scope,
            &new.content,
            new.item_id.as_deref(),
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// Makes a draft as `caller` (content, menus, questionnaires and exams
/// all start here): an editing role for `scope`, and an item id that no
/// other region has taken. Blocking: call it inside [`blocking`].
pub(crate) fn new_draft(
    db: &Db,
    caller: &Caller,
    scope: &AreaCode,
    content: &Content,
    item_id: Option<&str>,
) -> Result<Draft, ApiError> {
    caller.require(db, Permission::EditContent, &Target::Region(scope))?;
    if let Some(id) = item_id {
        refuse_foreign_item(db, caller, id, scope)?;
    }
    let d = db.create_draft(&caller.account.username, scope, content, item_id, now())?;
    caller.note_change(None, Some(format!("draft {}", d.id)));
    Ok(d)
}

/// A draft for `scope` never takes (to overwrite or squat) an item id
/// another region holds.
fn refuse_foreign_item(
    db: &Db,
    caller: &Caller,
    item_id: &str,
    scope: &AreaCode,
) -> Result<(), ApiError> {
    match db.item_owner(item_id)? {
        Some(owner) if owner != *scope => Err(ApiError::from(caller.refuse(format!(
            "item {item_id} belongs to region {owner}; a draft for {scope} cannot take it"
        )))),
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    region: AreaCode,
    status: Option<String>,
}

async fn list_drafts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DraftStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status is one of draft, submitted, returned, scheduled, published, not {s:?}"
            ))
        })?),
    };
    let list = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Region(&q.region))?;
        Ok(state.db.drafts_under(&q.region, status)?)
    })
    .await?;
    Ok(Json(list).into_response())
}

async fn one_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let answer = blocking(move || {
        let db = &state.db;
        caller.require(db, Permission::View, &Target::Draft(id))?;
        let d = db.draft(id)?;
        let history = db.item_history(&d.item_id)?;
        Ok(serde_json::json!({ "draft": d, "history": history }))
    })
    .await?;
    Ok(Json(answer).into_response())
}

#[derive(Debug, Deserialize)]
struct ContentBody {
    content: Content,
}

async fn update_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ContentBody>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        caller.require(&state.db, Permission::EditContent, &Target::Draft(id))?;
        Ok(state.db.update_draft(id, &b.content, now())?)
    })
    .await?;
    Ok(Json(d).into_response())
}

async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        caller.require(&state.db, Permission::EditContent, &Target::Draft(id))?;
        Ok(state.db.submit_draft(id, now())?)
    })
    .await?;
    Ok(Json(d).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ApproveBody {
    /// Unix seconds; absent or past: publish now.
    publish_at: Option<i64>,
}

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // The body is optional: none (or `{}`) publishes now.
    let publish_at = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<ApproveBody>(&body)
            .map_err(|e| ApiError::BadRequest(format!("approve body: {e}")))?
            .publish_at
    };
    let (d, item) = approve_and_push(state, caller, id, publish_at).await?;
    Ok(Json(serde_json::json!({ "draft": d, "item": item })).into_response())
}

/// Approves a submitted draft (now, or at `publish_at`) for a reviewer of
/// the level above, and tells boxes to sync when it was published now.
pub(crate) async fn approve_and_push(
    state: AppState,
    caller: Caller,
    id: i64,
    publish_at: Option<i64>,
) -> Result<(crate::db::Draft, Option<model::FeedItem>), ApiError> {
    let hub = state.hub.clone();
    let (d, item) = blocking(move || {
        let db = &state.db;
        let d = db.draft(id)?;
        caller.require_review(db, &d.scope)?;
        refuse_foreign_item(db, &caller, &d.item_id, &d.scope)?;
        let before = db
            .item_history(&d.item_id)?
            .last()
            .map(|h| format!("{}@{}", d.item_id, h.version));
        let (d, item) = db.approve_draft(id, &caller.account.username, publish_at, now())?;
        caller.note_change(
            before,
            item.as_ref()
                .map(|i| format!("{}@{}", i.id, i.version))
                .or_else(|| Some(format!("draft {id} scheduled"))),
        );
        Ok((d, item))
    })
    .await?;
    if let Some(item) = &item {
        // Boxes sync now instead of at their next poll.
        hub.publish(HubEvent::FeedChanged { head: item.seq });
    }
    Ok((d, item))
}

#[derive(Debug, Deserialize)]
struct ReturnBody {
    comment: String,
}

async fn return_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ReturnBody>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        let db = &state.db;
        let d = db.draft(id)?;
        caller.require_review(db, &d.scope)?;
        Ok(db.return_draft(id, &caller.account.username, &b.comment, now())?)
    })
    .await?;
    Ok(Json(d).into_response())
}

#[derive(Debug, Deserialize)]
struct CorrectBody {
    content: Content,
    reason: String,
}

async fn correct(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<CorrectBody>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        let db = &state.db;
        caller.require(db, Permission::EditContent, &Target::Item(&id))?;
        Ok(db.create_correction(&caller.account.username, &id, &b.content, &b.reason, now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReasonBody {
    reason: String,
}

async fn retract(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> Result<Response, ApiError> {
    let hub = state.hub.clone();
    let head = blocking(move || {
        let db = &state.db;
        let scope = db
            .target_regions(&Target::Item(&id))?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::NotFound(format!("unknown item {id}")))?;
        caller.require_review(db, &scope)?;
        db.retract(&id, &caller.account.username, &b.reason, now())?;
        caller.note_change(Some(id.clone()), None);
        Ok(db.head(&db.scope_chain(&scope)?)?)
    })
    .await?;
    hub.publish(HubEvent::FeedChanged { head });
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let h = blocking(move || {
        caller.require(&state.db, Permission::View, &Target::Item(&id))?;
        Ok(state.db.item_history(&id)?)
    })
    .await?;
    Ok(Json(h).into_response())
}

#[derive(Debug, Deserialize)]
struct SettingsBody {
    same_level_review: bool,
}

async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(county): Path<AreaCode>,
    Json(b): Json<SettingsBody>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let db = &state.db;
        caller.require(db, Permission::ManageAccounts, &Target::Region(&county))?;
        let is_county = db.scope_chain(&county)?.len() == 1;
        if !is_county {
            return Err(ApiError::BadRequest(format!(
                "{county} is not a county; settings are per county"
            )));
        }
        Ok(db.set_same_level_review(&county, b.same_level_review)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
