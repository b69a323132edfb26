//! Content pages: the list by module, period and status; the editor for new
//! drafts, edits and corrections; one draft with its preview, actions and
//! version history; the review queue with approve and return.
//! Every page calls the same operations ([`headend_ops::content`]) as the
//! API, so a village editor who types another village's draft id gets the
//! refusal page.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use model::Content;
use serde::Deserialize;

use super::draft_view::draft_page;
use super::editor::{self, EditorForm, FieldErrors};
use super::{blocking, layout, see_other, when, Nav, Notice, PageError, PageResult, Staff};
use crate::api::{ApiError, AppState};
use crate::db::{Draft, DraftStatus, Permission};
use headend_ops::content::{module_of, period_of, DraftFilter};
use headend_ops::OpsError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/content", get(list))
        .route("/console/content/new", get(new_form).post(create))
        .route("/console/content/{id}", get(show))
        .route("/console/content/{id}/edit", get(edit_form).post(update))
        .route(
            "/console/content/{id}/correct",
            get(correct_form).post(correct),
        )
        .route("/console/content/{id}/submit", post(submit))
        .route("/console/content/{id}/approve", post(approve))
        .route("/console/content/{id}/return", post(return_draft))
        .route("/console/review", get(review_queue))
}

pub(crate) fn status_label(s: DraftStatus) -> &'static str {
    match s {
        DraftStatus::Draft => "草稿",
        DraftStatus::Submitted => "待审核",
        DraftStatus::Returned => "已退回",
        DraftStatus::Scheduled => "定时发布",
        DraftStatus::Published => "已发布",
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    module: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    ok: Option<String>,
}

fn draft_rows(drafts: &[Draft], names: &std::collections::HashMap<String, String>) -> Markup {
    html! {
        table {
            thead { tr { th { "标题" } th { "栏目" } th { "时期" } th { "发布到" } th { "状态" } th { "作者" } th { "更新时间" } } }
            tbody {
                @for d in drafts {
                    tr {
                        td { a href=(format!("/console/content/{}", d.id)) { (d.content.title()) } }
                        td { (module_of(&d.content)) }
                        td { (period_of(&d.content)) }
                        td { (names.get(d.scope.as_str()).cloned().unwrap_or_else(|| d.scope.to_string())) }
                        td { span class=(format!("badge {}", d.status.as_str())) { (status_label(d.status)) } }
                        td { (d.author) }
                        td { (when(d.updated_at)) }
                    }
                }
            }
        }
        @if drafts.is_empty() { p.muted { "没有符合条件的内容。" } }
    }
}

async fn list(
    staff: Staff,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let caller = staff.caller.clone();
    let filter = DraftFilter {
        status: DraftStatus::parse(&q.status),
        module: q.module.clone(),
        period: q.period.clone(),
    };
    let (drafts, names) = blocking(move || {
        let drafts = state.ops.drafts(&caller, &caller.account.region, &filter)?;
        Ok((drafts, super::region_names(&state)?))
    })
    .await?;
    let body = html! {
        (layout::notice(&q.ok))
        form.filters method="get" action="/console/content" {
            div { label for="f-module" { "栏目" }
                select #f-module name="module" {
                    option value="" { "全部栏目" }
                    @for c in model::DisclosureCategory::ALL {
                        optgroup label=(c.label()) {
                            @for m in c.modules() { option value=(m) selected[*m == q.module] { (m) } }
                        }
                    }
                }
            }
            div { label for="f-period" { "时期" } input #f-period type="text" name="period" value=(q.period) placeholder="如 2026年第四季度"; }
            div { label for="f-status" { "状态" }
                select #f-status name="status" {
                    option value="" { "全部" }
                    @for s in [DraftStatus::Draft, DraftStatus::Submitted, DraftStatus::Returned, DraftStatus::Scheduled, DraftStatus::Published] {
                        option value=(s.as_str()) selected[s.as_str() == q.status] { (status_label(s)) }
                    }
                }
            }
            button type="submit" { "筛选" }
            @if staff.role().allows(Permission::EditContent) {
                a.button.secondary href="/console/content/new" { "新建公开内容" }
            }
        }
        (draft_rows(&drafts, &names))
    };
    Ok(super::page(&staff, Nav::Content, "公开内容", body))
}

/// Which editor page: a new draft, a draft's edit, or a correction.
#[derive(Debug, Clone, Copy)]
enum EditorMode {
    New,
    Edit(i64),
    Correct(i64),
}

impl EditorMode {
    fn title(self) -> &'static str {
        match self {
            EditorMode::New => "新建公开内容",
            EditorMode::Edit(_) => "修改草稿",
            EditorMode::Correct(_) => "更正已发布的内容",
        }
    }

    fn action(self) -> String {
        match self {
            EditorMode::New => "/console/content/new".into(),
            EditorMode::Edit(id) => format!("/console/content/{id}/edit"),
            EditorMode::Correct(id) => format!("/console/content/{id}/correct"),
        }
    }
}

/// The editor page for `form`, 400 when it shows problems. A correction
/// keeps its region, so only the other modes offer the regions the account
/// may publish for.
async fn editor_page(
    state: &AppState,
    staff: &Staff,
    mode: EditorMode,
    form: &EditorForm,
    errors: &FieldErrors,
) -> PageResult {
    let correcting = matches!(mode, EditorMode::Correct(_));
    let scopes = if correcting {
        Vec::new()
    } else {
        let (state, who) = (state.clone(), staff.clone());
        blocking(move || super::publish_scopes(&state, &who)).await?
    };
    let body = editor::render(staff, &mode.action(), form, &scopes, errors, correcting);
    let mut response = super::page(staff, Nav::Content, mode.title(), body);
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

async fn new_form(staff: Staff, State(state): State<AppState>) -> PageResult {
    staff.caller.require_role(Permission::EditContent)?;
    let form = EditorForm::new(staff.region());
    editor_page(&state, &staff, EditorMode::New, &form, &Vec::new()).await
}

/// Reads a posted editor form; stores an uploaded image. The account must
/// be allowed to edit what the form is for before the body is read, and a
/// new draft's image is kept only once the region the form names is the
/// account's too: a refused request stores nothing. `Err` is the form to
/// show again with its problems.
async fn read_form(
    state: &AppState,
    staff: &Staff,
    mode: EditorMode,
    multipart: Multipart,
) -> Result<Result<(EditorForm, model::AreaCode, Content), (EditorForm, FieldErrors)>, PageError> {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    let draft = match mode {
        EditorMode::New => None,
        EditorMode::Edit(id) | EditorMode::Correct(id) => Some(id),
    };
    blocking(move || Ok(ops.may_write(&caller, draft)?)).await?;
    let correcting = matches!(mode, EditorMode::Correct(_));
    let (mut form, upload) = EditorForm::read(multipart)
        .await
        .map_err(|e| PageError::from(ApiError::BadRequest(e)))?;
    let mut errors = FieldErrors::new();
    if let Some(bytes) = upload {
        let (ops, caller) = (state.ops.clone(), staff.caller.clone());
        // A new draft's image is kept only for a region the account may
        // write for; an edit's region was checked above.
        let scope = match mode {
            EditorMode::New => form.scope.trim().parse::<model::AreaCode>().ok(),
            EditorMode::Edit(_) | EditorMode::Correct(_) => None,
        };
        let stored = blocking(move || Ok(ops.store_image(&caller, scope.as_ref(), &bytes))).await?;
        match stored {
            Ok(blob) => form.image = Some((blob, form.image_caption.trim().to_string())),
            Err(e @ (OpsError::Forbidden(_) | OpsError::NotFound(_))) => return Err(e.into()),
            Err(e) => errors.push(("image".into(), format!("图片不能用：{e}"))),
        }
    }
    if form.action == "add_row" {
        form.rows.push(vec![String::new(); editor::COLUMNS]);
        return Ok(Err((form, errors)));
    }
    match form.to_content(correcting) {
        Ok((scope, content)) if errors.is_empty() => Ok(Ok((form, scope, content))),
        Ok(_) => Ok(Err((form, errors))),
        Err(mut more) => {
            errors.append(&mut more);
            Ok(Err((form, errors)))
        }
    }
}

async fn create(staff: Staff, State(state): State<AppState>, multipart: Multipart) -> PageResult {
    let (form, scope, content) = match read_form(&state, &staff, EditorMode::New, multipart).await?
    {
        Ok(ok) => ok,
        Err((form, errors)) => {
            return editor_page(&state, &staff, EditorMode::New, &form, &errors).await;
        }
    };
    let caller = staff.caller.clone();
    let submit = form.action == "submit";
    let draft = blocking(move || {
        let d = state.ops.create_draft(&caller, &scope, &content, None)?;
        if submit {
            return Ok(state.ops.submit_draft(&caller, d.id)?);
        }
        Ok(d)
    })
    .await?;
    let notice = if submit {
        "已保存并提交审核"
    } else {
        "已保存草稿"
    };
    Ok(see_other(&format!("/console/content/{}", draft.id), notice))
}

/// The draft, if the account may see it (the same check as the API).
async fn visible_draft(state: &AppState, staff: &Staff, id: i64) -> Result<Draft, PageError> {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    blocking(move || Ok(ops.draft(&caller, id)?)).await
}

async fn edit_form(staff: Staff, State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    let d = blocking(move || Ok(ops.draft_to_edit(&caller, id)?)).await?;
    let form = EditorForm::from_content(&d.scope, &d.content).ok_or_else(|| {
        ApiError::BadRequest("only disclosures are edited here; use the API for other kinds".into())
    })?;
    editor_page(&state, &staff, EditorMode::Edit(id), &form, &Vec::new()).await
}

async fn update(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> PageResult {
    let (form, scope, content) =
        match read_form(&state, &staff, EditorMode::Edit(id), multipart).await? {
            Ok(ok) => ok,
            Err((form, errors)) => {
                return editor_page(&state, &staff, EditorMode::Edit(id), &form, &errors).await;
            }
        };
    let caller = staff.caller.clone();
    let submit = form.action == "submit";
    blocking(move || {
        state.ops.update_draft_for(&caller, id, &scope, &content)?;
        if submit {
            state.ops.submit_draft(&caller, id)?;
        }
        Ok(())
    })
    .await?;
    Ok(see_other(
        &format!("/console/content/{id}"),
        if submit {
            "已保存并提交审核"
        } else {
            "已保存"
        },
    ))
}

async fn correct_form(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> PageResult {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    let d = blocking(move || Ok(ops.draft_to_correct(&caller, id)?)).await?;
    let form = EditorForm::from_content(&d.scope, &d.content)
        .ok_or_else(|| ApiError::BadRequest("only disclosures take corrections".into()))?;
    editor_page(&state, &staff, EditorMode::Correct(id), &form, &Vec::new()).await
}

async fn correct(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> PageResult {
    let d = visible_draft(&state, &staff, id).await?;
    let (form, _, content) =
        match read_form(&state, &staff, EditorMode::Correct(id), multipart).await? {
            Ok(ok) => ok,
            Err((form, errors)) => {
                return editor_page(&state, &staff, EditorMode::Correct(id), &form, &errors).await;
            }
        };
    let caller = staff.caller.clone();
    let new = blocking(move || {
        Ok(state
            .ops
            .correct_item(&caller, &d.item_id, &content, form.reason.trim())?)
    })
    .await?;
    Ok(see_other(
        &format!("/console/content/{}", new.id),
        "已保存更正草稿，提交审核后发布",
    ))
}

async fn submit(staff: Staff, State(state): State<AppState>, Path(id): Path<i64>) -> PageResult {
    let caller = staff.caller.clone();
    blocking(move || Ok(state.ops.submit_draft(&caller, id)?)).await?;
    Ok(see_other(&format!("/console/content/{id}"), "已提交审核"))
}

#[derive(Debug, Deserialize)]
struct ApproveForm {
    #[serde(default)]
    publish_at: String,
}

async fn approve(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<ApproveForm>,
) -> PageResult {
    let publish_at = match f.publish_at.trim() {
        "" => None,
        s => Some(
            super::parse_local(s).ok_or_else(|| ApiError::BadRequest("发布时间格式不对".into()))?,
        ),
    };
    let caller = staff.caller.clone();
    let (d, item) = blocking(move || Ok(state.ops.approve_draft(&caller, id, publish_at)?)).await?;
    let notice = match item {
        Some(i) => format!("已通过并发布（第{}版），机顶盒会马上同步", i.version),
        None => format!(
            "已通过，将于 {} 发布",
            when(d.publish_at.unwrap_or_default())
        ),
    };
    Ok(see_other(&format!("/console/content/{id}"), &notice))
}

#[derive(Debug, Deserialize)]
struct ReturnForm {
    #[serde(default)]
    comment: String,
}

async fn return_draft(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<ReturnForm>,
) -> PageResult {
    if f.comment.trim().is_empty() {
        let (d, history, scope_name) = draft_with_history(&state, &staff, id).await?;
        let body = draft_page(
            &staff,
            &d,
            &scope_name,
            &history,
            &None,
            Some("请写明退回的原因和需要修改的地方"),
        );
        let mut response = super::page(&staff, Nav::Review, &d.content.title(), body);
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    let caller = staff.caller.clone();
    blocking(move || Ok(state.ops.return_draft(&caller, id, &f.comment)?)).await?;
    Ok(see_other(
        &format!("/console/content/{id}"),
        "已退回给作者修改",
    ))
}

/// A draft the account may see, its version history and the name of the
/// region it is for.
async fn draft_with_history(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<(Draft, Vec<crate::db::HistoryEntry>, String), PageError> {
    let (state, caller) = (state.clone(), staff.caller.clone());
    blocking(move || {
        let (d, history) = state.ops.draft_with_history(&caller, id)?;
        let scope = d.scope.to_string();
        let name = super::region_names(&state)?.remove(&scope).unwrap_or(scope);
        Ok((d, history, name))
    })
    .await
}

async fn show(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> PageResult {
    let (d, history, scope_name) = draft_with_history(&state, &staff, id).await?;
    let body = draft_page(&staff, &d, &scope_name, &history, &n.ok, None);
    Ok(super::page(&staff, Nav::Content, &d.content.title(), body))
}

async fn review_queue(
    staff: Staff,
    State(state): State<AppState>,
    Query(n): Query<Notice>,
) -> PageResult {
    let caller = staff.caller.clone();
    let (drafts, names) = blocking(move || {
        let drafts = state.ops.review_queue(&caller)?;
        Ok((drafts, super::region_names(&state)?))
    })
    .await?;
    let body = html! {
        (layout::notice(&n.ok))
        p.hint { "下级提交的内容，打开后可以通过发布或退回修改。" }
        (draft_rows(&drafts, &names))
    };
    Ok(super::page(&staff, Nav::Review, "待审核", body))
}
