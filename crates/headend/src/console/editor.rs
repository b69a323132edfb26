//! The disclosure editor form: a text, one table (rows added as needed,
//! amounts checked as they are typed and again here) and an optional image.
//! What was typed is always shown back; each problem is shown next to its
//! field, and nothing is saved until there are none.

use axum::extract::Multipart;
use maud::{html, Markup};
use model::{
    AreaCode, Block, Column, ColumnKind, Content, Disclosure, DisclosureCategory, Money, Table,
    TableRole,
};

use super::{layout, Staff};

/// Columns of the editor's table.
pub(crate) const COLUMNS: usize = 3;
/// Rows shown for a new table.
const NEW_ROWS: usize = 3;
/// More rows than anyone types by hand; imports take the large lists.
const MAX_ROWS: usize = 500;

/// The form as typed.
#[derive(Debug, Clone)]
pub(crate) struct EditorForm {
    pub scope: String,
    pub category: String,
    pub module: String,
    pub title: String,
    pub period: String,
    pub intro: String,
    pub caption: String,
    pub role: String,
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<String>>,
    pub auto_total: bool,
    /// An image already stored (blob id, caption).
    pub image: Option<(String, String)>,
    pub image_caption: String,
    /// For a correction of a published disclosure.
    pub reason: String,
    /// Which button was pressed: `save`, `submit` or `add_row`.
    pub action: String,
    /// Kept for the next step: corrections of earlier versions.
    pub corrections: Vec<model::Correction>,
}

/// Problems by field id (the input's `id`), in the order of the form.
pub(crate) type FieldErrors = Vec<(String, String)>;

impl EditorForm {
    /// Nothing typed yet (what a posted form starts from).
    fn blank() -> EditorForm {
        let mut form = EditorForm::new(&String::new());
        form.rows.clear();
        form
    }

    pub fn new(scope: &impl ToString) -> EditorForm {
        EditorForm {
            scope: scope.to_string(),
            category: "finance".into(),
            module: "收支情况".into(),
            title: String::new(),
            period: String::new(),
            intro: String::new(),
            caption: String::new(),
            role: String::new(),
            columns: vec![
                ("项目".into(), "text".into()),
                ("金额（元）".into(), "money".into()),
                ("备注".into(), "text".into()),
            ],
            rows: vec![vec![String::new(); COLUMNS]; NEW_ROWS],
            auto_total: true,
            image: None,
            image_caption: String::new(),
            reason: String::new(),
            action: String::new(),
            corrections: Vec::new(),
        }
    }

    /// The form for an existing disclosure (its first table and image).
    pub fn from_content(scope: &AreaCode, content: &Content) -> Option<EditorForm> {
        let Content::Disclosure(d) = content else {
            return None;
        };
        let mut form = EditorForm::new(scope);
        form.category = d.category.as_str().into();
        form.module = d.module.clone();
        form.title = d.title.clone();
        form.period = d.period.clone();
        form.corrections = d.corrections.clone();
        form.auto_total = false;
        let mut texts = Vec::new();
        for block in &d.body {
            match block {
                Block::Paragraph { text } => texts.push(text.clone()),
                Block::Table(t) if form.caption.is_empty() && t.columns.len() <= COLUMNS => {
                    form.caption = t.caption.clone();
                    form.role = match t.role {
                        Some(TableRole::Income) => "income".into(),
                        Some(TableRole::Spending) => "spending".into(),
                        None => String::new(),
                    };
                    form.columns = (0..COLUMNS)
                        .map(|c| match t.columns.get(c) {
                            Some(col) => (col.name.clone(), kind_str(col.kind).into()),
                            None => (String::new(), "text".into()),
                        })
                        .collect();
                    form.rows = t
                        .rows
                        .iter()
                        .map(|r| {
                            (0..COLUMNS)
                                .map(|c| r.get(c).cloned().unwrap_or_default())
                                .collect()
                        })
                        .collect();
                    form.auto_total = t.totals.is_some();
                }
                Block::Image { blob, caption } if form.image.is_none() => {
                    form.image = Some((blob.clone(), caption.clone()));
                }
                _ => {}
            }
        }
        form.intro = texts.join("\n\n");
        Some(form)
    }

    /// Reads the multipart form; an uploaded image is stored by `store`.
    pub async fn read(mut multipart: Multipart) -> Result<(EditorForm, Option<Vec<u8>>), String> {
        let mut form = EditorForm::blank();
        form.columns = vec![(String::new(), "text".into()); COLUMNS];
        form.auto_total = false;
        let mut upload = None;
        let mut blob = String::new();
        let mut blob_caption = String::new();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| format!("表单读取失败：{e}"))?
        {
            let name = field.name().unwrap_or_default().to_string();
            if name == "image" {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| format!("图片读取失败：{e}"))?;
                if !bytes.is_empty() {
                    upload = Some(bytes.to_vec());
                }
                continue;
            }
            let value = field
                .text()
                .await
                .map_err(|e| format!("表单读取失败：{e}"))?;
            form.set(&name, value, &mut blob, &mut blob_caption);
        }
        if !blob.is_empty() {
            form.image = Some((blob, blob_caption));
        }
        if form.rows.is_empty() {
            form.rows.push(vec![String::new(); COLUMNS]);
        }
        Ok((form, upload))
    }

    fn set(&mut self, name: &str, value: String, blob: &mut String, blob_caption: &mut String) {
        match name {
            "scope" => self.scope = value.trim().into(),
            "category" => self.category = value,
            "module" => self.module = value,
            "title" => self.title = value,
            "period" => self.period = value,
            "intro" => self.intro = value,
            "caption" => self.caption = value,
            "role" => self.role = value,
            "totals" => self.auto_total = value == "on",
            "image_blob" => *blob = value,
            "image_blob_caption" => *blob_caption = value,
            "image_caption" => self.image_caption = value,
            "reason" => self.reason = value,
            "action" => self.action = value,
            _ => {
                if let Some(c) = name
                    .strip_prefix("col_name_")
                    .and_then(|c| c.parse::<usize>().ok())
                {
                    if c < COLUMNS {
                        self.columns[c].0 = value;
                    }
                } else if let Some(c) = name
                    .strip_prefix("col_kind_")
                    .and_then(|c| c.parse::<usize>().ok())
                {
                    if c < COLUMNS {
                        self.columns[c].1 = value;
                    }
                } else if let Some((r, c)) = cell_index(name) {
                    if r < MAX_ROWS && c < COLUMNS {
                        while self.rows.len() <= r {
                            self.rows.push(vec![String::new(); COLUMNS]);
                        }
                        self.rows[r][c] = value;
                    }
                }
            }
        }
    }

    /// The disclosure this form describes, or every problem by field.
    pub fn to_content(&self, needs_reason: bool) -> Result<(AreaCode, Content), FieldErrors> {
        let mut errors = FieldErrors::new();
        let scope = self.scope.parse::<AreaCode>();
        if scope.is_err() {
            errors.push(("scope".into(), "请选择发布到哪个村、镇或县".into()));
        }
        let category = DisclosureCategory::parse(&self.category);
        match category {
            None => errors.push(("category".into(), "请选择公开类别".into())),
            Some(c) if !c.modules().contains(&self.module.as_str()) => errors.push((
                "module".into(),
                format!("“{}”不属于{}，请重新选择栏目", self.module, c.label()),
            )),
            Some(_) => {}
        }
        if self.title.trim().is_empty() {
            errors.push(("title".into(), "请填写标题".into()));
        }
        if self.period.trim().is_empty() {
            errors.push((
                "period".into(),
                "请填写公开的时期，如 2026年第四季度".into(),
            ));
        }
        if needs_reason && self.reason.trim().is_empty() {
            errors.push((
                "reason".into(),
                "请说明更正的原因，群众会在电视上看到".into(),
            ));
        }
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
            .map(|r| r.iter().map(|c| c.trim().to_string()).collect())
            .collect();
        let used: Vec<usize> = (0..COLUMNS)
            .filter(|&c| !self.columns[c].0.trim().is_empty())
            .collect();
        let mut sums = [Money::ZERO; COLUMNS];
        for (r, row) in self.rows.iter().enumerate() {
            for c in 0..COLUMNS {
                let value = row[c].trim();
                if self.columns[c].1 == "money" && !value.is_empty() {
                    match value.parse::<Money>() {
                        Ok(m) => sums[c] = sums[c].checked_add(m).unwrap_or(sums[c]),
                        Err(_) => errors.push((
                            format!("cell_{r}_{c}"),
                            "金额格式不对：只填数字，最多两位小数，如 1234.50".into(),
                        )),
                    }
                } else if self.columns[c].0.trim().is_empty() && !value.is_empty() {
                    errors.push((format!("col_name_{c}"), "这一列有内容，请填写列名".into()));
                }
            }
        }
        if !rows.is_empty() && used.is_empty() {
            errors.push(("col_name_0".into(), "请填写表格的列名".into()));
        }
        if !rows.is_empty() && self.caption.trim().is_empty() {
            errors.push((
                "caption".into(),
                "请填写表格名称，如 2026年第四季度收入".into(),
            ));
        }
        errors.dedup();
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Ok(scope), Some(category)) = (scope, category) else {
            return Err(errors);
        };
        let mut body = Vec::new();
        for text in self
            .intro
            .split("\n\n")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            body.push(Block::Paragraph {
                text: text.replace("\r\n", "\n"),
            });
        }
        if !rows.is_empty() {
            let columns: Vec<Column> = used
                .iter()
                .map(|&c| Column {
                    name: self.columns[c].0.trim().into(),
                    kind: if self.columns[c].1 == "money" {
                        ColumnKind::Money
                    } else {
                        ColumnKind::Text
                    },
                })
                .collect();
            let totals = self.auto_total.then(|| {
                used.iter()
                    .enumerate()
                    .map(|(i, &c)| match (self.columns[c].1.as_str(), i) {
                        ("money", _) => sums[c].to_string(),
                        (_, 0) => "合计".to_string(),
                        _ => String::new(),
                    })
                    .collect()
            });
            body.push(Block::Table(Table {
                caption: self.caption.trim().into(),
                columns,
                rows: rows
                    .iter()
                    .map(|r| used.iter().map(|&c| self.normalised(c, &r[c])).collect())
                    .collect(),
                totals,
                role: match self.role.as_str() {
                    "income" => Some(TableRole::Income),
                    "spending" => Some(TableRole::Spending),
                    _ => None,
                },
            }));
        }
        if let Some((blob, caption)) = &self.image {
            body.push(Block::Image {
                blob: blob.clone(),
                caption: caption.clone(),
            });
        }
        Ok((
            scope,
            Content::Disclosure(Disclosure {
                category,
                module: self.module.clone(),
                title: self.title.trim().into(),
                period: self.period.trim().into(),
                body,
                corrections: self.corrections.clone(),
            }),
        ))
    }
}

impl EditorForm {
    /// Amounts as the feed writes them (`3,000` becomes `3000.00`).
    fn normalised(&self, column: usize, value: &str) -> String {
        if self.columns[column].1 == "money" {
            if let Ok(m) = value.parse::<Money>() {
                return m.to_string();
            }
        }
        value.to_string()
    }
}

fn kind_str(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Money => "money",
        ColumnKind::Text => "text",
    }
}

fn cell_index(name: &str) -> Option<(usize, usize)> {
    let (r, c) = name.strip_prefix("cell_")?.split_once('_')?;
    Some((r.parse().ok()?, c.parse().ok()?))
}

fn error_of<'a>(errors: &'a FieldErrors, id: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|(f, _)| f == id)
        .map(|(_, m)| m.as_str())
}

/// A labelled text input with its error beside it.
fn text_field(id: &str, label: &str, value: &str, hint: &str, errors: &FieldErrors) -> Markup {
    let error = error_of(errors, id);
    html! {
        div.field {
            label for=(id) { (label) }
            input type="text" id=(id) name=(id) value=(value)
                aria-invalid=(error.is_some()) aria-describedby=(format!("{id}-error"));
            @if !hint.is_empty() { span.hint { (hint) } }
            span.field-error id=(format!("{id}-error")) { @if let Some(e) = error { (e) } }
        }
    }
}

/// The whole form. `scopes` are the regions the account may publish for.
pub(crate) fn render(
    staff: &Staff,
    action: &str,
    form: &EditorForm,
    scopes: &[(String, String)],
    errors: &FieldErrors,
    correcting: bool,
) -> Markup {
    let rows = form.rows.len().max(1);
    html! {
        @if !errors.is_empty() {
            div.errors role="alert" {
                p { "还有 " (errors.len()) " 处需要修改，没有保存：" }
                ul { @for (field, message) in errors { li { a href=(format!("#{field}")) { (message) } } } }
            }
        }
        form.stack method="post" action=(action) enctype="multipart/form-data" novalidate {
            (layout::csrf_field(staff))
            @if correcting {
                (text_field("reason", "更正原因", &form.reason, "会和更正后的内容一起显示在电视上", errors))
                input type="hidden" name="scope" value=(form.scope);
                input type="hidden" name="category" value=(form.category);
            } @else {
                div.field {
                    label for="scope" { "发布到" }
                    select #scope name="scope" aria-invalid=(error_of(errors, "scope").is_some()) {
                        @for (code, name) in scopes {
                            option value=(code) selected[*code == form.scope] { (name) " (" (code) ")" }
                        }
                    }
                    span.field-error #scope-error { @if let Some(e) = error_of(errors, "scope") { (e) } }
                }
                div.field {
                    label for="category" { "公开类别" }
                    select #category name="category" {
                        @for c in DisclosureCategory::ALL {
                            option value=(c.as_str()) selected[c.as_str() == form.category] { (c.label()) }
                        }
                    }
                    span.field-error #category-error { @if let Some(e) = error_of(errors, "category") { (e) } }
                }
            }
            div.field {
                label for="module" { "栏目" }
                select #module name="module" aria-invalid=(error_of(errors, "module").is_some()) {
                    @for c in DisclosureCategory::ALL {
                        optgroup label=(c.label()) {
                            @for m in c.modules() {
                                option value=(m) selected[*m == form.module] { (m) }
                            }
                        }
                    }
                }
                span.field-error #module-error { @if let Some(e) = error_of(errors, "module") { (e) } }
            }
            (text_field("title", "标题", &form.title, "", errors))
            (text_field("period", "公开时期", &form.period, "如 2026年第四季度、2026年11月", errors))
            div.field {
                label for="intro" { "说明文字" }
                textarea #intro name="intro" { (form.intro) }
                span.hint { "空一行另起一段。" }
            }
            h2 { "表格" }
            (text_field("caption", "表格名称", &form.caption, "", errors))
            div.field {
                label for="role" { "表格内容" }
                select #role name="role" {
                    option value="" selected[form.role.is_empty()] { "一般表格" }
                    option value="income" selected[form.role == "income"] { "收入（电视上画收支图）" }
                    option value="spending" selected[form.role == "spending"] { "支出（电视上画收支图）" }
                }
            }
            input #rows type="hidden" name="rows" value=(rows);
            table #cells {
                thead {
                    tr {
                        @for c in 0..COLUMNS {
                            th {
                                @let id = format!("col_name_{c}");
                                label for=(id) { "第" (c + 1) "列名称" }
                                input type="text" id=(id) name=(id) value=(form.columns[c].0)
                                    aria-invalid=(error_of(errors, &id).is_some());
                                select name=(format!("col_kind_{c}")) aria-label=(format!("第{}列类型", c + 1)) {
                                    option value="text" selected[form.columns[c].1 == "text"] { "文字" }
                                    option value="money" selected[form.columns[c].1 == "money"] { "金额（元）" }
                                }
                                span.field-error id=(format!("{id}-error")) { @if let Some(e) = error_of(errors, &id) { (e) } }
                            }
                        }
                    }
                }
                tbody {
                    @for (r, row) in form.rows.iter().enumerate() {
                        tr {
                            @for c in 0..COLUMNS {
                                @let id = format!("cell_{r}_{c}");
                                @let error = error_of(errors, &id);
                                td {
                                    input type="text" id=(id) name=(id) value=(row[c])
                                        aria-label=(format!("第{}行第{}列", r + 1, c + 1))
                                        data-money[form.columns[c].1 == "money"]
                                        inputmode=[(form.columns[c].1 == "money").then_some("decimal")]
                                        aria-invalid=(error.is_some())
                                        aria-describedby=(format!("{id}-error"));
                                    span.field-error id=(format!("{id}-error")) { @if let Some(e) = error { (e) } }
                                }
                            }
                        }
                    }
                }
            }
            div.actions {
                button.secondary type="submit" name="action" value="add_row" data-add-row="cells" { "添加一行" }
                label { input type="checkbox" name="totals" checked[form.auto_total]; " 自动计算合计行" }
            }
            h2 { "图片" }
            @if let Some((blob, caption)) = &form.image {
                input type="hidden" name="image_blob" value=(blob);
                input type="hidden" name="image_blob_caption" value=(caption);
                p { img src=(format!("/api/v1/blobs/{blob}")) alt=(caption) width="240"; br; (caption) }
            }
            div.field {
                label for="image" { "上传图片（JPEG 或 PNG）" }
                input #image type="file" name="image" accept="image/jpeg,image/png";
                span.field-error #image-error { @if let Some(e) = error_of(errors, "image") { (e) } }
            }
            (text_field("image_caption", "图片说明", &form.image_caption, "", errors))
            div.actions {
                button type="submit" name="action" value="save" { "保存草稿" }
                button type="submit" name="action" value="submit" { "保存并提交审核" }
                a.button.secondary href="/console/content" { "取消" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> EditorForm {
        let mut f = EditorForm::new(&"990101101001");
        f.title = "2026年第四季度收支".into();
        f.period = "2026年第四季度".into();
        f.caption = "收入".into();
        f.rows = vec![
            vec!["上级补助".into(), "12000.50".into(), String::new()],
            vec!["租金".into(), "3,000".into(), "鱼塘".into()],
            vec![String::new(); COLUMNS],
        ];
        f
    }

    #[test]
    fn a_filled_form_becomes_a_disclosure_with_totals() {
        let (_, content) = filled().to_content(false).expect("valid");
        let Content::Disclosure(d) = content else {
            panic!("disclosure")
        };
        let Block::Table(t) = &d.body[0] else {
            panic!("table")
        };
        assert_eq!(t.rows.len(), 2, "empty rows are dropped");
        assert_eq!(t.totals.as_ref().expect("totals")[1], "15000.50");
        t.check_totals().expect("totals add up");
    }

    #[test]
    fn each_problem_names_its_field() {
        let mut f = filled();
        f.title.clear();
        f.rows[1][1] = "3千".into();
        f.module = "低保户".into();
        let errors = f.to_content(true).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["module", "title", "reason", "cell_1_1"]);
    }

    #[test]
    fn an_existing_disclosure_fills_the_form() {
        let (scope, content) = filled().to_content(false).expect("valid");
        let form = EditorForm::from_content(&scope, &content).expect("disclosure");
        assert_eq!(form.rows[1][1], "3000.00");
        assert!(form.auto_total);
    }
}
