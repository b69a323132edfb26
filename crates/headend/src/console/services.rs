//! The service-request inbox (一键服务): requests from the boxes of the
//! account's region, oldest open first, with assign, reply and close for
//! operators. The same checks and side effects as the API (the box is told
//! over the push channel): both call the operation `Ops::act_on_request`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use model::RequestStatus;
use serde::Deserialize;

use super::{layout, Nav, Notice, PageResult, Staff};
use crate::api::AppState;
use crate::db::{Permission, RequestAction, RequestFilter, StaffRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/services", get(inbox))
        .route("/console/services/{id}/assign", post(assign))
        .route("/console/services/{id}/reply", post(reply))
        .route("/console/services/{id}/close", post(close))
}

/// Which requests the inbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    All,
    Open,
    Overdue,
}

impl Show {
    const ALL: [Show; 3] = [Show::All, Show::Open, Show::Overdue];

    fn parse(s: Option<&str>) -> Show {
        match s {
            Some("open") => Show::Open,
            Some("overdue") => Show::Overdue,
            _ => Show::All,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Open => "open",
            Show::Overdue => "overdue",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Show::All => "全部",
            Show::Open => "未办结",
            Show::Overdue => "超时",
        }
    }

    fn href(self) -> String {
        match self {
            Show::All => "/console/services".into(),
            other => format!("/console/services?show={}", other.key()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    show: Option<String>,
}

/// The field of one row's form that was not filled in right.
#[derive(Debug, Clone)]
struct RowError {
    id: i64,
    field: &'static str,
    value: String,
    message: &'static str,
}

impl RowError {
    fn on(&self, id: i64, field: &str) -> Option<&RowError> {
        (self.id == id && self.field == field).then_some(self)
    }
}

async fn load(
    state: &AppState,
    staff: &Staff,
    show: Show,
) -> Result<Vec<StaffRequest>, super::PageError> {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    super::blocking(move || {
        let region = caller.account.region.clone();
        let filter = RequestFilter {
            status: None,
            overdue_only: show == Show::Overdue,
        };
        let mut rows = ops.service_requests(&caller, &region, &filter)?;
        if show == Show::Open {
            rows.retain(|r| r.status != RequestStatus::Closed);
        }
        Ok(rows)
    })
    .await
}

async fn inbox(
    staff: Staff,
    State(state): State<AppState>,
    Query(q): Query<ShowQuery>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let show = Show::parse(q.show.as_deref());
    let rows = load(&state, &staff, show).await?;
    Ok(super::page(
        &staff,
        Nav::Services,
        "服务工单",
        body(&staff, &rows, show, &notice, None),
    ))
}

fn body(
    staff: &Staff,
    rows: &[StaffRequest],
    show: Show,
    notice: &Notice,
    error: Option<&RowError>,
) -> Markup {
    let operate = staff.role().allows(Permission::Operate);
    let overdue = rows.iter().filter(|r| r.overdue).count();
    html! {
        (layout::notice(&notice.ok))
        nav.filters aria-label="筛选" {
            @for s in Show::ALL {
                a href=(s.href()) aria-current=[(s == show).then_some("page")] { (s.label()) }
            }
        }
        p.hint {
            "共 " (rows.len()) " 条"
            @if overdue > 0 { "，其中 " strong { (overdue) } " 条超过回复期限仍未回复" }
            "。"
            @if !operate { "您的账号只能查看，不能处理工单。" }
        }
        @if rows.is_empty() {
            p.muted { "没有符合条件的服务请求。" }
        } @else {
            table.requests {
                caption.hint { "服务请求（" (show.label()) "）" }
                thead {
                    tr {
                        th scope="col" { "收到时间" }
                        th scope="col" { "村" }
                        th scope="col" { "类别" }
                        th scope="col" { "事项" }
                        th scope="col" { "联系电话" }
                        th scope="col" { "状态" }
                        th scope="col" { "受理人" }
                        th scope="col" { "回复" }
                        @if operate { th scope="col" { "处理" } }
                    }
                }
                tbody {
                    @for r in rows {
                        tr id=(format!("request-{}", r.id)) class=[r.overdue.then_some("overdue")] {
                            td { (super::when(r.received_at)) }
                            td { (r.village_name) }
                            td { (r.category_name) }
                            td { (r.preset.as_deref().unwrap_or("—")) }
                            td { (r.phone) }
                            td {
                                (r.status.label())
                                @if r.overdue { " " span.badge.overdue { "超时" } }
                            }
                            td { (r.assignee.as_deref().unwrap_or("—")) }
                            td {
                                @if let Some(text) = &r.reply {
                                    (text)
                                    @if let Some(at) = r.replied_at { br; span.muted { (super::when(at)) } }
                                } @else { span.muted { "未回复" } }
                            }
                            @if operate { td { (actions(staff, r, show, error)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The assign, reply and close forms of one open request.
fn actions(staff: &Staff, r: &StaffRequest, show: Show, error: Option<&RowError>) -> Markup {
    if r.status == RequestStatus::Closed {
        return html! { span.muted { "已办结" } };
    }
    let id = r.id;
    let assign_err = error.and_then(|e| e.on(id, "assignee"));
    let reply_err = error.and_then(|e| e.on(id, "reply"));
    let assign_id = format!("assignee-{id}");
    let reply_id = format!("reply-{id}");
    html! {
        form.stack method="post" action=(format!("/console/services/{id}/assign")) {
            (layout::csrf_field(staff))
            input type="hidden" name="show" value=(show.key());
            label for=(assign_id) { "指派给" }
            input type="text" id=(assign_id) name="assignee" maxlength="40"
                value=(assign_err.map(|e| e.value.as_str()).or(r.assignee.as_deref()).unwrap_or(""))
                aria-invalid=(assign_err.is_some()) aria-describedby=(format!("{assign_id}-error"));
            span.field-error id=(format!("{assign_id}-error")) role="alert" {
                @if let Some(e) = assign_err { (e.message) }
            }
            button.small.secondary type="submit" { "指派" }
        }
        form.stack method="post" action=(format!("/console/services/{id}/reply")) {
            (layout::csrf_field(staff))
            input type="hidden" name="show" value=(show.key());
            label for=(reply_id) { "回复" }
            textarea id=(reply_id) name="reply" rows="2"
                aria-invalid=(reply_err.is_some()) aria-describedby=(format!("{reply_id}-error")) {
                @if let Some(e) = reply_err { (e.value) }
            }
            span.field-error id=(format!("{reply_id}-error")) role="alert" {
                @if let Some(e) = reply_err { (e.message) }
            }
            button.small type="submit" { "回复" }
        }
        form.inline method="post" action=(format!("/console/services/{id}/close")) {
            (layout::csrf_field(staff))
            input type="hidden" name="show" value=(show.key());
            button.small.secondary type="submit" { "办结" }
        }
    }
}

#[derive(Debug, Deserialize)]
struct AssignForm {
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    show: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReplyForm {
    #[serde(default)]
    reply: String,
    #[serde(default)]
    show: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CloseForm {
    #[serde(default)]
    show: Option<String>,
}

async fn assign(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> PageResult {
    let show = Show::parse(f.show.as_deref());
    let invalid = f.assignee.trim().is_empty().then(|| RowError {
        id,
        field: "assignee",
        value: f.assignee.clone(),
        message: "请填写由谁受理",
    });
    let action = RequestAction::Assign(f.assignee);
    act(staff, state, id, action, invalid, show, "已指派").await
}

async fn reply(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> PageResult {
    let show = Show::parse(f.show.as_deref());
    let invalid = f.reply.trim().is_empty().then(|| RowError {
        id,
        field: "reply",
        value: f.reply.clone(),
        message: "请填写回复内容",
    });
    let action = RequestAction::Reply(f.reply);
    act(
        staff,
        state,
        id,
        action,
        invalid,
        show,
        "已回复，机顶盒会马上显示",
    )
    .await
}

async fn close(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> PageResult {
    let show = Show::parse(f.show.as_deref());
    act(staff, state, id, RequestAction::Close, None, show, "已办结").await
}

/// Acts like the API; a form error is shown next to its field, but only
/// to someone the API would have let act (otherwise the refusal).
async fn act(
    staff: Staff,
    state: AppState,
    id: i64,
    action: RequestAction,
    invalid: Option<RowError>,
    show: Show,
    done: &str,
) -> PageResult {
    let (ops, caller) = (state.ops.clone(), staff.caller.clone());
    let refused = invalid.is_some();
    super::blocking(move || {
        if refused {
            ops.may_act_on_request(&caller, id)?;
        } else {
            ops.act_on_request(&caller, id, &action)?;
        }
        Ok(())
    })
    .await?;
    let Some(error) = invalid else {
        return Ok(super::see_other(&show.href(), done));
    };
    let mut rows = load(&state, &staff, show).await?;
    let mut show = show;
    if !rows.iter().any(|r| r.id == error.id) {
        // The filter hides the row: show them all so the error is seen.
        show = Show::All;
        rows = load(&state, &staff, show).await?;
    }
    let body = body(&staff, &rows, show, &Notice::default(), Some(&error));
    Ok(bad_request(super::page(
        &staff,
        Nav::Services,
        "服务工单",
        body,
    )))
}

fn bad_request(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}
