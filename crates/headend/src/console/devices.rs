//! The boxes of the account's region: online or not, what their last
//! heartbeat said, and for operators the commands (resync, restart, a
//! message on the screen), revocation, and release for another region.
//! Sent, revoked and released through the same operations as the API
//! (`headend_ops::fleet`), so the box is told the same way.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use model::CommandKind;
use serde::Deserialize;

use super::{layout, Nav, Notice, PageError, PageResult, Staff};
use crate::api::{ApiError, AppState};
use crate::db::{CommandRow, DeviceRow, Permission, Target};
use headend_ops::fleet::MAX_MESSAGE_CHARS;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/devices", get(list))
        .route("/console/devices/{id}", get(detail))
        .route("/console/devices/{id}/command", post(command))
        .route("/console/devices/{id}/revoke", post(revoke))
        .route("/console/devices/{id}/release", post(release))
}

async fn list(
    staff: Staff,
    State(state): State<AppState>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let caller = staff.caller.clone();
    let rows = super::blocking(move || {
        let region = caller.account.region.clone();
        Ok(state.ops.devices(&caller, &region)?)
    })
    .await?;
    let online = rows.iter().filter(|d| d.online).count();
    let revoked = rows.iter().filter(|d| d.revoked_at.is_some()).count();
    let body = html! {
        (layout::notice(&notice.ok))
        p.hint {
            "共 " (rows.len()) " 台机顶盒，" strong { (online) } " 台在线"
            @if revoked > 0 { "，" (revoked) " 台已吊销" }
            "。点机顶盒编号查看详情、发送命令。"
        }
        @if rows.is_empty() {
            p.muted { "这个范围内还没有安装机顶盒。" }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { "机顶盒" }
                        th scope="col" { "村" }
                        th scope="col" { "状态" }
                        th scope="col" { "最近联系" }
                        th scope="col" { "版本" }
                        th scope="col" { "IP 地址" }
                        th scope="col" { "最近同步" }
                    }
                }
                tbody {
                    @for d in &rows {
                        tr {
                            td { a href=(format!("/console/devices/{}", super::urlencode(&d.device))) { (d.device) } }
                            td { (d.village_name) }
                            td { (status_badge(d)) }
                            td { (ms_time(d.last_seen)) }
                            td { (d.heartbeat.as_ref().map(|h| h.version.as_str()).unwrap_or("—")) }
                            td { (d.heartbeat.as_ref().map(|h| h.ip.as_str()).unwrap_or("—")) }
                            td { (last_sync(d)) }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&staff, Nav::Devices, "机顶盒", body))
}

fn status_badge(d: &DeviceRow) -> Markup {
    html! {
        @if d.revoked_at.is_some() {
            span.badge.offline { "已吊销" }
        } @else if d.online {
            span.badge.online { "在线" }
        } @else {
            span.badge.offline { "离线" }
        }
    }
}

/// Unix ms (heartbeats, last seen) in China time.
fn ms_time(ms: Option<i64>) -> String {
    ms.map(|ms| super::when(ms / 1000))
        .unwrap_or_else(|| "从未".into())
}

fn last_sync(d: &DeviceRow) -> Markup {
    html! {
        @match d.heartbeat.as_ref() {
            Some(h) => {
                @if let Some(at) = h.last_sync { (super::when(at)) } @else { "从未同步" }
                @if !h.last_sync_result.is_empty() { br; span.muted { (h.last_sync_result) } }
            }
            None => { "—" }
        }
    }
}

fn bytes(n: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if n >= 1024 * MB {
        format!("{:.1} GB", n as f64 / (1024 * MB) as f64)
    } else {
        format!("{} MB", n / MB)
    }
}

fn uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} 天 {h} 小时")
    } else {
        format!("{h} 小时 {m} 分")
    }
}

fn command_label(kind: &CommandKind) -> String {
    match kind {
        CommandKind::Resync => "重新同步".into(),
        CommandKind::RestartApp => "重启应用".into(),
        CommandKind::ShowMessage { text } => format!("发送消息：{text}"),
        CommandKind::SetConfig { key, value } => format!("修改设置：{key} = {value}"),
        CommandKind::UploadLogs => "上传日志".into(),
    }
}

/// What was typed into a form that did not pass, and why.
#[derive(Debug, Default)]
struct FormErrors {
    message: Option<(String, String)>,
    reason: Option<(String, String)>,
    release: Option<(String, String)>,
}

impl FormErrors {
    fn any(&self) -> bool {
        self.message.is_some() || self.reason.is_some() || self.release.is_some()
    }
}

/// The box (if the caller may see it) and its commands, newest first.
async fn load(
    state: &AppState,
    staff: &Staff,
    device: &str,
) -> Result<(DeviceRow, Vec<CommandRow>), PageError> {
    let (state, caller, device) = (state.clone(), staff.caller.clone(), device.to_string());
    super::blocking(move || Ok(state.ops.device_detail(&caller, &device)?)).await
}

async fn detail(
    staff: Staff,
    State(state): State<AppState>,
    Path(device): Path<String>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let (row, commands) = load(&state, &staff, &device).await?;
    Ok(detail_page(
        &staff,
        &row,
        &commands,
        &notice,
        &FormErrors::default(),
    ))
}

fn detail_page(
    staff: &Staff,
    d: &DeviceRow,
    commands: &[CommandRow],
    notice: &Notice,
    errors: &FormErrors,
) -> Response {
    let title = format!("机顶盒 {}", d.device);
    let body = html! {
        (layout::notice(&notice.ok))
        p { a href="/console/devices" { "← 返回机顶盒列表" } }
        div.grid2 {
            section.card aria-labelledby="state-h" {
                h2 #state-h { "状态" }
                table {
                    tr { th scope="row" { "村" } td { (d.village_name) } }
                    tr { th scope="row" { "状态" } td { (status_badge(d)) } }
                    tr { th scope="row" { "最近联系" } td { (ms_time(d.last_seen)) } }
                    @if d.provisioned_at > 0 {
                        tr { th scope="row" { "安装时间" } td { (super::when(d.provisioned_at)) } }
                    }
                    @if let Some(at) = d.revoked_at {
                        tr { th scope="row" { "吊销时间" } td { (super::when(at)) } }
                        tr { th scope="row" { "吊销原因" } td { (d.revoked_reason.as_deref().unwrap_or("")) } }
                    }
                    @if let Some(at) = d.released_at {
                        tr { th scope="row" { "释放时间" } td { (super::when(at)) " （24 小时内可用别处的安装码重新开通）" } }
                    }
                }
            }
            section.card aria-labelledby="beat-h" {
                h2 #beat-h { "最近一次心跳" }
                @if let Some(h) = &d.heartbeat {
                    table {
                        tr { th scope="row" { "时间" } td { (ms_time(d.heartbeat_at)) } }
                        tr { th scope="row" { "软件版本" } td { (h.version) } }
                        tr { th scope="row" { "IP 地址" } td { (h.ip) } }
                        tr { th scope="row" { "已运行" } td { (uptime(h.uptime_s)) } }
                        tr { th scope="row" { "剩余空间" } td { (bytes(h.free_bytes)) } }
                        tr { th scope="row" { "最近同步" } td { (last_sync(d)) } }
                        tr { th scope="row" { "正在播放" } td { (h.playing.as_deref().unwrap_or("—")) } }
                    }
                    h2 { "最近的错误" }
                    @if h.errors.is_empty() {
                        p.muted { "没有错误。" }
                    } @else {
                        ol.errors { @for e in h.errors.iter().rev() { li { (e) } } }
                    }
                } @else {
                    p.muted { "这台机顶盒还没有发来心跳。" }
                }
            }
        }
        @if staff.role().allows(Permission::Operate) {
            (operate_forms(staff, d, errors))
        }
        h2 { "命令记录" }
        @if commands.is_empty() {
            p.muted { "还没有发过命令。" }
        } @else {
            table.commands {
                thead {
                    tr {
                        th scope="col" { "编号" }
                        th scope="col" { "命令" }
                        th scope="col" { "发送人" }
                        th scope="col" { "发送时间" }
                        th scope="col" { "结果" }
                    }
                }
                tbody {
                    @for c in commands {
                        tr {
                            td.num { (c.id) }
                            td { (command_label(&c.kind)) }
                            td { (c.sent_by) }
                            td { (super::when(c.sent_at)) }
                            td {
                                @match (c.acked_at, c.ok) {
                                    (Some(at), Some(true)) => { "已完成 " span.muted { (super::when(at)) } }
                                    (Some(at), _) => { "失败 " span.muted { (super::when(at)) } }
                                    (None, _) => { span.muted { "等待机顶盒回应" } }
                                }
                                @if let Some(detail) = c.detail.as_deref().filter(|t| !t.is_empty()) {
                                    details { summary { "详情" } pre { (detail) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = if errors.any() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = super::page(staff, Nav::Devices, &title, body);
    *response.status_mut() = status;
    response
}

fn operate_forms(staff: &Staff, d: &DeviceRow, errors: &FormErrors) -> Markup {
    let action = format!("/console/devices/{}/command", super::urlencode(&d.device));
    let revoke = format!("/console/devices/{}/revoke", super::urlencode(&d.device));
    let release = format!("/console/devices/{}/release", super::urlencode(&d.device));
    let message = errors.message.as_ref();
    let reason = errors.reason.as_ref();
    let why_release = errors.release.as_ref();
    html! {
        @if d.revoked_at.is_some() {
            p.hint { "这台机顶盒已吊销，不能再发命令；请安装人员用新的安装码重新激活。" }
        } @else {
            section.card aria-labelledby="cmd-h" {
                h2 #cmd-h { "发送命令" }
                p.hint { "在线的机顶盒马上收到；离线的下次联网时收到。" }
                div.actions {
                    form.inline method="post" action=(action) {
                        (layout::csrf_field(staff))
                        input type="hidden" name="kind" value="resync";
                        button.secondary type="submit" { "重新同步" }
                    }
                    form.inline method="post" action=(action) {
                        (layout::csrf_field(staff))
                        input type="hidden" name="kind" value="restart_app";
                        button.secondary type="submit" { "重启应用" }
                    }
                }
                form.stack method="post" action=(action) {
                    (layout::csrf_field(staff))
                    input type="hidden" name="kind" value="show_message";
                    label for="message" { "在电视上显示的消息（最多 " (MAX_MESSAGE_CHARS) " 字）" }
                    textarea #message name="text" rows="2"
                        aria-invalid=(message.is_some()) aria-describedby="message-error" {
                        @if let Some((typed, _)) = message { (typed) }
                    }
                    span.field-error #message-error role="alert" {
                        @if let Some((_, why)) = message { (why) }
                    }
                    div.actions { button type="submit" { "发送消息" } }
                }
            }
            section.card aria-labelledby="revoke-h" {
                h2 #revoke-h { "吊销" }
                p.hint { "机顶盒丢失、转卖或被挪用时吊销：它从此不能再同步，需要用新的安装码重新激活。" }
                form.stack method="post" action=(revoke) {
                    (layout::csrf_field(staff))
                    label for="reason" { "吊销原因" }
                    input #reason type="text" name="reason" maxlength="200"
                        value=(reason.map(|(typed, _)| typed.as_str()).unwrap_or(""))
                        aria-invalid=(reason.is_some()) aria-describedby="reason-error";
                    span.field-error #reason-error role="alert" {
                        @if let Some((_, why)) = reason { (why) }
                    }
                    div.actions { button type="submit" { "吊销这台机顶盒" } }
                }
            }
        }
        section.card aria-labelledby="release-h" {
            h2 #release-h { "释放到别的乡镇" }
            p.hint {
                "机顶盒搬到别的乡镇或县时释放：24 小时内，那里的安装码可以把它重新开通到新的村。"
                "不释放时，只有本辖区的安装码能重新开通它。"
            }
            form.stack method="post" action=(release) {
                (layout::csrf_field(staff))
                label for="release-reason" { "释放原因" }
                input #release-reason type="text" name="reason" maxlength="200"
                    value=(why_release.map(|(typed, _)| typed.as_str()).unwrap_or(""))
                    aria-invalid=(why_release.is_some()) aria-describedby="release-reason-error";
                span.field-error #release-reason-error role="alert" {
                    @if let Some((_, why)) = why_release { (why) }
                }
                div.actions { button.secondary type="submit" { "释放这台机顶盒" } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct CommandForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
}

async fn command(
    staff: Staff,
    State(state): State<AppState>,
    Path(device): Path<String>,
    Form(f): Form<CommandForm>,
) -> PageResult {
    let kind = match f.kind.as_str() {
        "resync" => CommandKind::Resync,
        "restart_app" => CommandKind::RestartApp,
        "show_message" => CommandKind::ShowMessage {
            text: f.text.trim().to_string(),
        },
        other => {
            return Err(PageError::from(ApiError::BadRequest(format!(
                "unknown command {other:?}"
            ))))
        }
    };
    let mut errors = FormErrors::default();
    if let CommandKind::ShowMessage { text } = &kind {
        let n = text.chars().count();
        if n == 0 {
            errors.message = Some((f.text.clone(), "请填写要显示的消息".into()));
        } else if n > MAX_MESSAGE_CHARS {
            errors.message = Some((
                f.text.clone(),
                format!("消息太长：最多 {MAX_MESSAGE_CHARS} 字，现在 {n} 字"),
            ));
        }
    }
    let done = format!("已发送“{}”", command_label(&kind));
    send(
        staff,
        state,
        device,
        errors,
        move |state, caller, device| {
            let allow = &state.options.headend_url_allow_list;
            Ok(state
                .ops
                .send_command(caller, device, &kind, allow)
                .map(|_| ())?)
        },
        &done,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    reason: String,
}

async fn revoke(
    staff: Staff,
    State(state): State<AppState>,
    Path(device): Path<String>,
    Form(f): Form<RevokeForm>,
) -> PageResult {
    let mut errors = FormErrors::default();
    if f.reason.trim().is_empty() {
        errors.reason = Some((f.reason.clone(), "请写明吊销原因".into()));
    }
    send(
        staff,
        state,
        device,
        errors,
        move |state, caller, device| Ok(state.ops.revoke_box(caller, device, &f.reason)?),
        "已吊销，这台机顶盒不能再同步",
    )
    .await
}

async fn release(
    staff: Staff,
    State(state): State<AppState>,
    Path(device): Path<String>,
    Form(f): Form<RevokeForm>,
) -> PageResult {
    let mut errors = FormErrors::default();
    if f.reason.trim().is_empty() {
        errors.release = Some((f.reason.clone(), "请写明释放原因".into()));
    }
    send(
        staff,
        state,
        device,
        errors,
        move |state, caller, device| Ok(state.ops.release_box(caller, device, &f.reason)?),
        "已释放：24 小时内可用别处的安装码重新开通",
    )
    .await
}

/// Runs `work` for someone the API would let operate the box, unless the
/// form has errors: those are shown next to their field, but only to such
/// a person (others get the refusal, as from the API).
async fn send(
    staff: Staff,
    state: AppState,
    device: String,
    errors: FormErrors,
    work: impl FnOnce(&AppState, &crate::auth::Caller, &str) -> Result<(), ApiError> + Send + 'static,
    done: &str,
) -> PageResult {
    let (st, caller, dev) = (state.clone(), staff.caller.clone(), device.clone());
    let invalid = errors.any();
    super::blocking(move || {
        caller.require(&st.db, Permission::Operate, &Target::Household(&dev))?;
        if invalid {
            return Ok(());
        }
        work(&st, &caller, &dev)
    })
    .await?;
    if !invalid {
        let to = format!("/console/devices/{}", super::urlencode(&device));
        return Ok(super::see_other(&to, done));
    }
    let (row, commands) = load(&state, &staff, &device).await?;
    Ok(detail_page(
        &staff,
        &row,
        &commands,
        &Notice::default(),
        &errors,
    ))
}
