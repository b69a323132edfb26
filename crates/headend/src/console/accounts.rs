//! Staff accounts under the account's region (admins only): the list with
//! role, region and state, a form to create one, and disable / enable.
//! Created and switched through the same operations as the API
//! ([`headend_ops::Ops::create_account`],
//! [`headend_ops::Ops::set_account_disabled`]), so the same subtree and
//! self checks apply.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use model::{AreaCode, Region};
use serde::Deserialize;

use super::{layout, role_label, Nav, Notice, PageError, PageResult, Staff};
use crate::api::AppState;
use crate::db::{
    check_password, check_username, Account, NewAccount, Permission, Role, Target,
    MIN_PASSWORD_CHARS,
};
use crate::push::now_ms;
use headend_ops::OpsError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/accounts", get(list).post(create))
        .route("/console/accounts/{username}/disable", post(disable))
        .route("/console/accounts/{username}/enable", post(enable))
}

/// The create form as typed (never the password) and what is wrong.
#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Default)]
struct Errors(HashMap<&'static str, String>);

impl Errors {
    fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the page shows: accounts and the regions one may create in.
struct Listing {
    accounts: Vec<Account>,
    regions: Vec<Region>,
    names: HashMap<String, String>,
}

async fn load(state: &AppState, staff: &Staff) -> Result<Listing, PageError> {
    let (state, caller) = (state.clone(), staff.caller.clone());
    super::blocking(move || {
        let accounts = state.ops.accounts(&caller)?;
        let all = state.db.regions()?;
        let names = all
            .iter()
            .map(|r| (r.code.to_string(), r.name.clone()))
            .collect();
        let regions = all
            .into_iter()
            .filter(|r| caller.sees(&state.db, &r.code))
            .collect();
        Ok(Listing {
            accounts,
            regions,
            names,
        })
    })
    .await
}

async fn list(
    staff: Staff,
    State(state): State<AppState>,
    Query(notice): Query<Notice>,
) -> PageResult {
    let listing = load(&state, &staff).await?;
    let fresh = CreateForm {
        role: Role::Editor.as_str().into(),
        region: staff.region().to_string(),
        ..CreateForm::default()
    };
    let body = body(&staff, &listing, &notice, &fresh, &Errors::default());
    Ok(super::page(&staff, Nav::Accounts, "账号", body))
}

fn state_label(a: &Account, now: i64) -> Markup {
    html! {
        @if a.disabled {
            span.badge.returned { "已停用" }
        } @else if a.locked_until > now {
            span.badge.overdue { "锁定到 " (super::when(a.locked_until)) }
        } @else {
            span.badge.published { "正常" }
        }
    }
}

fn body(
    staff: &Staff,
    listing: &Listing,
    notice: &Notice,
    form: &CreateForm,
    errors: &Errors,
) -> Markup {
    let now = now_ms() / 1000;
    let region_name = |code: &AreaCode| {
        listing
            .names
            .get(code.as_str())
            .cloned()
            .unwrap_or_else(|| code.to_string())
    };
    html! {
        (layout::notice(&notice.ok))
        p.hint { "您可以管理 " (region_name(staff.region())) " 及下级地区的账号。停用的账号立刻退出登录。" }
        table {
            thead {
                tr {
                    th scope="col" { "用户名" }
                    th scope="col" { "姓名" }
                    th scope="col" { "角色" }
                    th scope="col" { "地区" }
                    th scope="col" { "状态" }
                    th scope="col" { "创建" }
                    th scope="col" { "操作" }
                }
            }
            tbody {
                @for a in &listing.accounts {
                    tr id=(format!("account-{}", a.username)) {
                        td { (a.username) }
                        td { (a.display_name) }
                        td { (role_label(a.role)) }
                        td { (region_name(&a.region)) }
                        td { (state_label(a, now)) }
                        td {
                            (super::when(a.created_at))
                            @if let Some(by) = &a.created_by { br; span.muted { "由 " (by) } }
                        }
                        td {
                            @if a.username == staff.username() {
                                span.muted { "（本人）" }
                            } @else if a.disabled {
                                form.inline method="post" action=(format!("/console/accounts/{}/enable", super::urlencode(&a.username))) {
                                    (layout::csrf_field(staff))
                                    button.small.secondary type="submit" { "启用 " span.muted { (a.username) } }
                                }
                            } @else {
                                form.inline method="post" action=(format!("/console/accounts/{}/disable", super::urlencode(&a.username))) {
                                    (layout::csrf_field(staff))
                                    button.small.secondary type="submit" { "停用 " span.muted { (a.username) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="create-h" {
            h2 #create-h { "新建账号" }
            form.stack method="post" action="/console/accounts" novalidate {
                (layout::csrf_field(staff))
                (text_field("username", "用户名", "text", &form.username, errors,
                    "3 到 32 个字符：小写字母、数字、- 和 _，如 dongpo-editor"))
                (text_field("display_name", "姓名", "text", &form.display_name, errors, ""))
                label for="role" { "角色" }
                select #role name="role" aria-invalid=(errors.get("role").is_some()) aria-describedby="role-error" {
                    @for r in Role::ALL {
                        option value=(r.as_str()) selected[form.role == r.as_str()] { (role_label(r)) }
                    }
                }
                span.field-error #role-error role="alert" { @if let Some(e) = errors.get("role") { (e) } }
                label for="region" { "地区" }
                select #region name="region" aria-invalid=(errors.get("region").is_some()) aria-describedby="region-error" {
                    @for r in &listing.regions {
                        option value=(r.code) selected[form.region == r.code.as_str()] {
                            (r.name) "（" (r.level.label()) "）"
                        }
                    }
                }
                span.field-error #region-error role="alert" { @if let Some(e) = errors.get("region") { (e) } }
                (text_field("password", "初始密码", "password", "", errors,
                    &format!("至少 {MIN_PASSWORD_CHARS} 个字符；请当面告诉本人，登录后自己修改")))
                @if let Some(e) = errors.get("form") { p.errors role="alert" { (e) } }
                div.actions { button type="submit" { "创建账号" } }
            }
        }
    }
}

fn text_field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &Errors,
    hint: &str,
) -> Markup {
    let error = errors.get(name);
    let described = if hint.is_empty() {
        format!("{name}-error")
    } else {
        format!("{name}-error {name}-hint")
    };
    html! {
        label for=(name) { (label) }
        input id=(name) type=(kind) name=(name) value=(value)
            autocomplete=(if kind == "password" { "new-password" } else { "off" })
            aria-invalid=(error.is_some()) aria-describedby=(described);
        @if !hint.is_empty() { span.hint id=(format!("{name}-hint")) { (hint) } }
        span.field-error id=(format!("{name}-error")) role="alert" { @if let Some(e) = error { (e) } }
    }
}

/// The field errors the console can tell before asking the database (the
/// same rules as `db::accounts::check_username` and `check_password`).
fn check(form: &CreateForm) -> (Errors, Option<Role>, Option<AreaCode>) {
    let mut errors = Errors::default();
    let name = form.username.trim();
    // The database's own rules, said in Chinese next to the field.
    if check_username(name).is_err() {
        errors.0.insert(
            "username",
            "用户名要 3 到 32 个字符，只能用小写字母、数字、- 和 _".into(),
        );
    }
    if form.display_name.trim().is_empty() {
        errors.0.insert("display_name", "请填写姓名".into());
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.0.insert("role", "请选择角色".into());
    }
    let region = form.region.trim().parse::<AreaCode>().ok();
    if region.is_none() {
        errors.0.insert("region", "请选择地区".into());
    }
    let n = form.password.chars().count();
    if check_password(&form.password).is_err() {
        errors.0.insert(
            "password",
            format!("密码太短：至少 {MIN_PASSWORD_CHARS} 个字符，现在 {n} 个"),
        );
    }
    (errors, role, region)
}

async fn create(
    staff: Staff,
    State(state): State<AppState>,
    Form(mut form): Form<CreateForm>,
) -> PageResult {
    let (mut errors, role, region) = check(&form);
    let new = NewAccount {
        username: form.username.trim().to_string(),
        display_name: form.display_name.trim().to_string(),
        region: region.clone().unwrap_or_else(|| staff.region().clone()),
        role: role.unwrap_or(Role::Viewer),
        password: std::mem::take(&mut form.password),
    };
    let (st, caller) = (state.clone(), staff.caller.clone());
    let region_given = region.is_some();
    let fields_ok = errors.is_empty();
    let outcome = super::blocking(move || {
        caller.require_role(Permission::ManageAccounts)?;
        if region_given {
            // Outside the subtree is refused before anything else, as in the API.
            caller.require(
                &st.db,
                Permission::ManageAccounts,
                &Target::Region(&new.region),
            )?;
        }
        if !fields_ok {
            return Ok(Err(None));
        }
        if st.ops.account_exists(&new.username)? {
            return Ok(Err(Some((
                "username",
                "这个用户名已被使用，请换一个".to_string(),
            ))));
        }
        match st.ops.create_account(&caller, &new) {
            Ok(account) => Ok(Ok(account)),
            // A rule the form did not know: say so on the form.
            Err(OpsError::BadRequest(why)) => Ok(Err(Some(("form", format!("没有创建：{why}"))))),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    match outcome {
        Ok(account) => Ok(super::see_other(
            "/console/accounts",
            &format!(
                "已创建账号 {}（{}）",
                account.username,
                role_label(account.role)
            ),
        )),
        Err(extra) => {
            if let Some((field, why)) = extra {
                errors.0.insert(field, why);
            }
            let listing = load(&state, &staff).await?;
            let body = body(&staff, &listing, &Notice::default(), &form, &errors);
            let mut response = super::page(&staff, Nav::Accounts, "账号", body);
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}

async fn disable(
    staff: Staff,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> PageResult {
    switch(staff, state, username, true).await
}

async fn enable(
    staff: Staff,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> PageResult {
    switch(staff, state, username, false).await
}

async fn switch(staff: Staff, state: AppState, username: String, disabled: bool) -> PageResult {
    let caller = staff.caller.clone();
    let name = username.clone();
    super::blocking(move || Ok(state.ops.set_account_disabled(&caller, &name, disabled)?)).await?;
    let done = if disabled {
        format!("已停用 {username}，它已退出登录")
    } else {
        format!("已启用 {username}")
    };
    Ok(super::see_other("/console/accounts", &done))
}
