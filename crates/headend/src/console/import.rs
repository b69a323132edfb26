//! Spreadsheet import: an XLSX or CSV file becomes a disclosure draft.
//! Every problem in the file is listed by sheet and cell (the same
//! operation as `POST /api/v1/admin/import`), and nothing is stored until
//! there are none.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use model::DisclosureCategory;

use super::{blocking, layout, see_other, Nav, PageError, PageResult, Staff};
use crate::api::{ApiError, AppState};
use crate::db::Permission;
use headend_ops::import::ImportRequest;
use headend_ops::OpsError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/console/import", get(form).post(upload))
}

#[derive(Debug, Default)]
struct ImportForm {
    scope: String,
    category: String,
    module: String,
    period: String,
    title: String,
}

fn render(
    staff: &Staff,
    f: &ImportForm,
    scopes: &[(String, String)],
    field_errors: &[(&'static str, String)],
    problems: &[sheets::Problem],
) -> Markup {
    let error = |id: &str| {
        field_errors
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, m)| m.clone())
    };
    html! {
        @if !problems.is_empty() {
            section.errors #problems role="alert" {
                p { "文件里有 " (problems.len()) " 处问题，没有导入。请在表格里改好后重新上传：" }
                table {
                    thead { tr { th { "工作表" } th { "单元格" } th { "问题" } } }
                    tbody { @for p in problems {
                        tr { td { (p.sheet) } td { (p.cell) } td { (p.message) } }
                    } }
                }
            }
        }
        p.hint { "第一行可以是标题（可合并单元格），然后是表头和各行，最后一行可以是“合计”。金额最多两位小数。支持 .xlsx 和 .csv（UTF-8 或 GBK），最大 16 MB。" }
        form.stack method="post" action="/console/import" enctype="multipart/form-data" {
            (layout::csrf_field(staff))
            label for="scope" { "发布到" }
            select #scope name="scope" {
                @for (code, name) in scopes { option value=(code) selected[*code == f.scope] { (name) " (" (code) ")" } }
            }
            label for="category" { "公开类别" }
            select #category name="category" {
                @for c in DisclosureCategory::ALL { option value=(c.as_str()) selected[c.as_str() == f.category] { (c.label()) } }
            }
            label for="module" { "栏目" }
            select #module name="module" aria-invalid=(error("module").is_some()) {
                @for c in DisclosureCategory::ALL {
                    optgroup label=(c.label()) { @for m in c.modules() { option value=(m) selected[*m == f.module] { (m) } } }
                }
            }
            span.field-error #module-error { @if let Some(e) = error("module") { (e) } }
            label for="period" { "公开时期" }
            input #period type="text" name="period" value=(f.period) aria-invalid=(error("period").is_some());
            span.field-error #period-error { @if let Some(e) = error("period") { (e) } }
            label for="title" { "标题（不填则用表格第一行的标题）" }
            input #title type="text" name="title" value=(f.title) aria-invalid=(error("title").is_some());
            span.field-error #title-error { @if let Some(e) = error("title") { (e) } }
            label for="file" { "表格文件" }
            input #file type="file" name="file" accept=".xlsx,.csv" aria-invalid=(error("file").is_some());
            span.field-error #file-error { @if let Some(e) = error("file") { (e) } }
            div.actions { button type="submit" { "导入为草稿" } }
        }
    }
}

async fn form(staff: Staff, State(state): State<AppState>) -> PageResult {
    staff.caller.require_role(Permission::EditContent)?;
    let who = staff.clone();
    let scopes = blocking(move || super::publish_scopes(&state, &who)).await?;
    let f = ImportForm {
        scope: staff.region().to_string(),
        category: "finance".into(),
        module: "收支情况".into(),
        ..ImportForm::default()
    };
    Ok(super::page(
        &staff,
        Nav::Import,
        "表格导入",
        render(&staff, &f, &scopes, &[], &[]),
    ))
}

async fn upload(
    staff: Staff,
    State(state): State<AppState>,
    mut multipart: Multipart,
) -> PageResult {
    let mut f = ImportForm::default();
    let mut file: Option<(String, Vec<u8>)> = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError::from(ApiError::BadRequest(format!("表单读取失败：{e}")))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            if !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "scope" => f.scope = value,
            "category" => f.category = value,
            "module" => f.module = value,
            "period" => f.period = value.trim().into(),
            "title" => f.title = value.trim().into(),
            _ => {}
        }
    }
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    if let Some(c) = DisclosureCategory::parse(&f.category) {
        if !c.modules().contains(&f.module.as_str()) {
            errors.push((
                "module",
                format!("“{}”不属于{}，请重新选择栏目", f.module, c.label()),
            ));
        }
    }
    if f.period.is_empty() {
        errors.push(("period", "请填写公开的时期，如 2026年第四季度".into()));
    }
    let format = match &file {
        None => {
            errors.push(("file", "请选择要导入的表格文件".into()));
            ""
        }
        Some((name, _)) if name.to_lowercase().ends_with(".xlsx") => "xlsx",
        Some((name, _)) if name.to_lowercase().ends_with(".csv") => "csv",
        Some(_) => {
            errors.push(("file", "只能导入 .xlsx 或 .csv 文件".into()));
            ""
        }
    };
    let show =
        |errors: Vec<(&'static str, String)>, problems: Vec<sheets::Problem>, f: ImportForm| {
            let staff = staff.clone();
            let state = state.clone();
            async move {
                let who = staff.clone();
                let scopes = blocking(move || super::publish_scopes(&state, &who)).await?;
                let mut response = super::page(
                    &staff,
                    Nav::Import,
                    "表格导入",
                    render(&staff, &f, &scopes, &errors, &problems),
                );
                *response.status_mut() = StatusCode::BAD_REQUEST;
                Ok::<_, PageError>(response)
            }
        };
    let scope = match f.scope.parse() {
        Ok(s) => s,
        Err(_) => return Err(ApiError::BadRequest("unknown region".into()).into()),
    };
    let Some((name, bytes)) = file.filter(|_| errors.is_empty()) else {
        return show(errors, Vec::new(), f).await;
    };
    let request = ImportRequest {
        scope,
        category: f.category.clone(),
        module: f.module.clone(),
        period: f.period.clone(),
        title: Some(f.title.clone()).filter(|t| !t.is_empty()),
        format: format.into(),
        name: Some(name),
    };
    match state
        .ops
        .import_disclosure(&staff.caller, request, bytes)
        .await
    {
        Ok(Ok(draft)) => Ok(see_other(
            &format!("/console/content/{}", draft.id),
            "已导入为草稿，请检查后提交审核",
        )),
        Ok(Err(problems)) => show(Vec::new(), problems, f).await,
        Err(OpsError::BadRequest(why)) if why.contains("title") => {
            show(
                vec![("title", "表格没有标题行，请填写标题".into())],
                Vec::new(),
                f,
            )
            .await
        }
        Err(OpsError::BadRequest(why)) => {
            show(
                vec![("file", format!("文件读不出来：{why}"))],
                Vec::new(),
                f,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
