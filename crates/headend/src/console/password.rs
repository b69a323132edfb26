//! Changing one's own password in the console: the current password, the
//! new one twice. The current one is checked and counted like a login from
//! this address ([`headend_ops::login::change_own_password`], the same as the
//! API), so a session left open on a shared computer cannot be used to
//! guess it or take the account over.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use super::{layout, Nav, PageResult, Staff};
use crate::api::AppState;
use crate::auth::ClientIp;
use crate::db::{check_password, LoginRefused, MIN_PASSWORD_CHARS};
use headend_ops::login::Checked;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/console/password", get(form).post(change))
}

#[derive(Debug, Default, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// What is wrong, per field (`current`, `password`, `confirm`).
type Errors = Vec<(&'static str, String)>;

fn field(name: &'static str, label: &str, hint: &str, errors: &Errors) -> Markup {
    let error = errors.iter().find(|(f, _)| *f == name).map(|(_, e)| e);
    let autocomplete = if name == "current" {
        "current-password"
    } else {
        "new-password"
    };
    html! {
        label for=(name) { (label) }
        input id=(name) type="password" name=(name) autocomplete=(autocomplete) required
            aria-invalid=(error.is_some())
            aria-describedby=(format!("{name}-error{}", if hint.is_empty() { "" } else { " password-hint" }));
        @if !hint.is_empty() { span.hint #password-hint { (hint) } }
        span.field-error id=(format!("{name}-error")) role="alert" { @if let Some(e) = error { (e) } }
    }
}

fn page(staff: &Staff, errors: &Errors) -> Response {
    let body = html! {
        p.hint { "为了账号安全，修改密码要先输入现在的密码。修改后，其他电脑上的登录会退出。" }
        form.stack method="post" action="/console/password" novalidate {
            (layout::csrf_field(staff))
            (field("current", "当前密码", "", errors))
            (field("password", "新密码", &format!("至少 {MIN_PASSWORD_CHARS} 个字符"), errors))
            (field("confirm", "再输一遍新密码", "", errors))
            div.actions { button type="submit" { "修改密码" } }
        }
    };
    super::page(staff, Nav::Password, "修改密码", body)
}

async fn form(staff: Staff) -> PageResult {
    Ok(page(&staff, &Errors::new()))
}

async fn change(
    staff: Staff,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    let mut errors = Errors::new();
    if f.current.is_empty() {
        errors.push(("current", "请输入当前密码".into()));
    }
    if check_password(&f.password).is_err() {
        errors.push((
            "password",
            format!(
                "新密码太短：至少 {MIN_PASSWORD_CHARS} 个字符，现在 {} 个",
                f.password.chars().count()
            ),
        ));
    } else if f.password != f.confirm {
        errors.push(("confirm", "两次输入的新密码不一样".into()));
    }
    if errors.is_empty() {
        let checked = headend_ops::login::change_own_password(
            &state.ops,
            &staff.caller,
            staff.caller.session_token(),
            ip,
            f.current,
            f.password,
        )
        .await?;
        match checked {
            Checked::Ok(()) => {
                return Ok(super::see_other(
                    "/console/",
                    "密码已修改，其他电脑上的登录已退出",
                ))
            }
            Checked::Refused(LoginRefused::Locked { .. }) => errors.push((
                "current",
                "密码输错次数太多，暂时不能修改。请稍后再试，或请上级管理员重设密码。".into(),
            )),
            Checked::Refused(_) => errors.push(("current", "当前密码不对，密码没有修改".into())),
            Checked::Throttled(wait) => return Ok(super::login::too_many_attempts(wait)),
        }
    }
    let mut response = page(&staff, &errors);
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
}
