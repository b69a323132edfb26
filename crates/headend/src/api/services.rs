//! Admin endpoints for interactive services (`/api/v1/admin/…`): the
//! 一键服务 menu, the request inbox (assign, reply, close, overdue, counts),
//! questionnaires and their totals, the exam question bank, exams and
//! their results.
//!
//! Menus, questionnaires, the bank and exams need an editor; the inbox an
//! operator; reading results any account; always inside its region. The
//! bank is shared by the whole county, so only county accounts edit it.
//! Menus, questionnaires and exams are drafts like any content: they reach
//! boxes only through review (see [`crate::api::content`]). Those rules
//! are the operations' (`headend_ops::services`); here requests are parsed
//! and answers rendered as JSON or CSV.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use model::{AreaCode, Question, QuestionKind, Questionnaire, RequestStatus, ServiceMenu};
use serde::Deserialize;

use crate::api::meetings::far_future;
use crate::api::{blocking, ApiError, AppState};
use crate::auth::Caller;
use crate::csv_export::CsvExport;
use crate::db::{BankQuestion, NewExam, RequestAction, RequestFilter, StaffRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/service-menus/{region}", put(put_menu))
        .route("/api/v1/admin/service-requests", get(list_requests))
        .route("/api/v1/admin/service-requests/counts", get(counts))
        .route("/api/v1/admin/service-requests/{id}", get(one_request))
        .route("/api/v1/admin/service-requests/{id}/assign", post(assign))
        .route("/api/v1/admin/service-requests/{id}/reply", post(reply))
        .route("/api/v1/admin/service-requests/{id}/close", post(close))
        .route("/api/v1/admin/questionnaires", post(create_questionnaire))
        .route(
            "/api/v1/admin/questionnaires/{id}/results",
            get(questionnaire_results),
        )
        .route("/api/v1/admin/questions", get(list_questions))
        .route("/api/v1/admin/questions/{id}", put(put_question))
        .route("/api/v1/admin/exams", post(create_exam))
        .route("/api/v1/admin/exams/{id}/results", get(exam_results))
}

/// A draft of `menu` for `region` (a county, or a town or village that
/// needs its own; boxes use the nearest one). Like all content it reaches
/// boxes only once a reviewer approves it (`/api/v1/admin/content/…`).
async fn put_menu(
    State(state): State<AppState>,
    caller: Caller,
    Path(region): Path<AreaCode>,
    Json(menu): Json<ServiceMenu>,
) -> Result<Response, ApiError> {
    let d = blocking(move || Ok(state.ops.draft_service_menu(&caller, &region, menu)?)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    region: AreaCode,
    status: Option<String>,
    #[serde(default)]
    overdue: bool,
    format: Option<String>,
}

async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(RequestStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status is one of submitted, accepted, replied, closed, not {s:?}"
            ))
        })?),
    };
    let filter = RequestFilter {
        status,
        overdue_only: q.overdue,
    };
    let csv = q.format.as_deref() == Some("csv");
    let rows =
        blocking(move || Ok(state.ops.service_requests(&caller, &q.region, &filter)?)).await?;
    if csv {
        return requests_csv(&rows);
    }
    Ok(Json(rows).into_response())
}

fn requests_csv(rows: &[StaffRequest]) -> Result<Response, ApiError> {
    let mut csv = CsvExport::new(&[
        "编号",
        "村",
        "类别",
        "内容",
        "联系电话",
        "状态",
        "提交时间",
        "回复期限",
        "超期",
        "受理人",
        "回复",
    ])?;
    for r in rows {
        csv.row([
            r.id.to_string(),
            r.village_name.clone(),
            r.category_name.clone(),
            r.preset.clone().unwrap_or_default(),
            r.phone.clone(),
            r.status.label().to_string(),
            r.received_at.to_string(),
            r.reply_due.to_string(),
            if r.overdue { "是" } else { "否" }.to_string(),
            r.assignee.clone().unwrap_or_default(),
            r.reply.clone().unwrap_or_default(),
        ])?;
    }
    csv.into_response("service-requests")
}

async fn one_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let r = blocking(move || Ok(state.ops.service_request(&caller, id)?)).await?;
    Ok(Json(r).into_response())
}

async fn act(
    state: AppState,
    caller: Caller,
    id: i64,
    action: RequestAction,
) -> Result<Response, ApiError> {
    let r = blocking(move || Ok(state.ops.act_on_request(&caller, id, &action)?)).await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize)]
struct AssignBody {
    assignee: String,
}

async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<AssignBody>,
) -> Result<Response, ApiError> {
    act(state, caller, id, RequestAction::Assign(b.assignee)).await
}

#[derive(Debug, Deserialize)]
struct ReplyBody {
    text: String,
}

async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(b): Json<ReplyBody>,
) -> Result<Response, ApiError> {
    act(state, caller, id, RequestAction::Reply(b.text)).await
}

async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    act(state, caller, id, RequestAction::Close).await
}

#[derive(Debug, Deserialize)]
struct CountsQuery {
    region: AreaCode,
    #[serde(default)]
    from: i64,
    #[serde(default = "far_future")]
    to: i64,
    format: Option<String>,
}

async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CountsQuery>,
) -> Result<Response, ApiError> {
    let csv = q.format.as_deref() == Some("csv");
    let (categories, villages) =
        blocking(move || Ok(state.ops.service_counts(&caller, &q.region, q.from, q.to)?)).await?;
    if csv {
        let mut csv = CsvExport::new(&["类别", "编号", "名称", "总数", "未办结", "超期"])?;
        for (kind, list) in [("服务类别", &categories), ("村", &villages)] {
            for c in list.iter() {
                csv.row([
                    kind.to_string(),
                    c.id.clone(),
                    c.name.clone(),
                    c.total.to_string(),
                    c.open.to_string(),
                    c.overdue.to_string(),
                ])?;
            }
        }
        return csv.into_response("service-counts");
    }
    Ok(Json(serde_json::json!({ "categories": categories, "villages": villages })).into_response())
}

#[derive(Debug, Deserialize)]
struct NewQuestionnaire {
    scope: AreaCode,
    #[serde(flatten)]
    questionnaire: Questionnaire,
}

/// A draft questionnaire; boxes get it once a reviewer approves it.
async fn create_questionnaire(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewQuestionnaire>,
) -> Result<Response, ApiError> {
    let d = blocking(move || {
        Ok(state
            .ops
            .draft_questionnaire(&caller, &new.scope, new.questionnaire)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    region: AreaCode,
}

/// Totals only: no household's answers are ever listed.
async fn questionnaire_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RegionQuery>,
) -> Result<Response, ApiError> {
    let r = blocking(move || Ok(state.ops.questionnaire_results(&caller, &id, &q.region)?)).await?;
    Ok(Json(r).into_response())
}

async fn list_questions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let bank = blocking(move || Ok(state.ops.bank_questions(&caller)?)).await?;
    Ok(Json(bank).into_response())
}

/// A bank question; its id is in the path.
#[derive(Debug, Deserialize)]
struct QuestionBody {
    text: String,
    #[serde(flatten)]
    kind: QuestionKind,
    answer: Vec<u8>,
    #[serde(default)]
    tag: String,
}

async fn put_question(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<QuestionBody>,
) -> Result<Response, ApiError> {
    let q = BankQuestion {
        question: Question {
            id,
            text: body.text,
            kind: body.kind,
        },
        answer: body.answer,
        tag: body.tag,
    };
    blocking(move || Ok(state.ops.put_bank_question(&caller, &q)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A draft exam drawn from the bank (questions only); boxes get it once a
/// reviewer approves it, and its answer key is copied from the bank then.
async fn create_exam(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewExam>,
) -> Result<Response, ApiError> {
    let d = blocking(move || Ok(state.ops.draft_exam(&caller, &new)?)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

async fn exam_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = blocking(move || Ok(state.ops.exam_results(&caller, &id)?)).await?;
    Ok(Json(r).into_response())
}
