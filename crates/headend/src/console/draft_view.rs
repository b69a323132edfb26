//! One draft as staff see it: status, the actions their role allows
//! (edit, submit, correct; approve or return for reviewers), a preview
//! close to what the box shows, and the version history.

use maud::{html, Markup};
use model::{Block, Content};

use super::content::status_label;
use super::{layout, when, Staff};
use crate::db::{Draft, DraftStatus, Permission};

/// The content as the box will show it, roughly.
fn preview(content: &Content) -> Markup {
    html! {
        @if let Content::Disclosure(d) = content {
            p.muted { (d.category.label()) " · " (d.module) " · " (d.period) }
            @for c in &d.corrections {
                p.notice { "【更正】第" (c.version) "版（" (when(c.corrected_at)) "）：" (c.reason) }
            }
        }
        (form_preview(content))
        @for block in content.body() {
            @match block {
                Block::Paragraph { text } => p { (text) },
                Block::Table(t) => {
                    table {
                        caption { (t.caption) }
                        thead { tr { @for c in &t.columns { th.num[c.kind == model::ColumnKind::Money] { (c.name) } } } }
                        tbody {
                            @for row in &t.rows {
                                tr { @for (i, cell) in row.iter().enumerate() {
                                    td.num[t.columns.get(i).is_some_and(|c| c.kind == model::ColumnKind::Money)] { (cell) }
                                } }
                            }
                            @if let Some(totals) = &t.totals {
                                tr { @for (i, cell) in totals.iter().enumerate() {
                                    th.num[t.columns.get(i).is_some_and(|c| c.kind == model::ColumnKind::Money)] { (cell) }
                                } }
                            }
                        }
                    }
                },
                Block::Image { blob, caption } => figure {
                    img src=(format!("/api/v1/blobs/{blob}")) alt=(caption) width="360";
                    figcaption { (caption) }
                },
            }
        }
    }
}

/// Menus, questionnaires and exams have no body: the reviewer sees their
/// categories or questions (an exam's without the answers, which stay in
/// the bank).
fn form_preview(content: &Content) -> Markup {
    let questions = |questions: &[model::Question]| {
        html! {
            ol { @for q in questions {
                li { (q.text) " （" (q.kind.label()) "）"
                    @let options = q.kind.options();
                    @if !options.is_empty() { br; span.muted { (options.join(" / ")) } }
                }
            } }
        }
    };
    html! {
        @match content {
            Content::ServiceMenu(menu) => {
                p.muted { "一键服务菜单" }
                ul { @for c in &menu.categories {
                    li { (c.name) @if !c.presets.is_empty() { "：" (c.presets.join("、")) } }
                } }
            },
            Content::Questionnaire(q) => {
                p.muted { "评议 · " (q.target.label()) " · " (q.target_name) " · "
                    (when(q.opens_at)) " 至 " (when(q.closes_at)) }
                (questions(&q.questions))
            },
            Content::Exam(e) => {
                p.muted { "考试 · 限时 " (e.time_limit_s / 60) " 分钟 · "
                    (when(e.opens_at)) " 至 " (when(e.closes_at)) }
                (questions(&e.questions))
            },
            _ => {},
        }
    }
}

pub(crate) fn draft_page(
    staff: &Staff,
    d: &Draft,
    scope_name: &str,
    history: &[crate::db::HistoryEntry],
    ok: &Option<String>,
    return_error: Option<&str>,
) -> Markup {
    let role = staff.role();
    let editable = matches!(d.status, DraftStatus::Draft | DraftStatus::Returned);
    html! {
        (layout::notice(ok))
        p {
            span class=(format!("badge {}", d.status.as_str())) #status { (status_label(d.status)) }
            " 作者 " (d.author) " · 发布到 " (scope_name) " · 更新于 " (when(d.updated_at))
            @if let Some(r) = &d.reviewer { " · 审核 " (r) }
        }
        @if let (DraftStatus::Returned, Some(c)) = (d.status, &d.comment) {
            p.errors { "退回意见：" (c) }
        }
        @if let Some(reason) = &d.reason { p.notice { "更正原因：" (reason) } }
        div.actions {
            @if editable && role.allows(Permission::EditContent) {
                a.button.secondary href=(format!("/console/content/{}/edit", d.id)) { "修改" }
                form.inline method="post" action=(format!("/console/content/{}/submit", d.id)) {
                    (layout::csrf_field(staff))
                    button type="submit" { "提交审核" }
                }
            }
            @if d.status == DraftStatus::Published && role.allows(Permission::EditContent)
                && matches!(d.content, Content::Disclosure(_)) {
                a.button.secondary href=(format!("/console/content/{}/correct", d.id)) { "更正" }
            }
        }
        @if d.status == DraftStatus::Submitted && role.allows(Permission::ReviewContent) && d.author != staff.caller.account.username {
            section.card #review {
                h2 { "审核" }
                form.stack method="post" action=(format!("/console/content/{}/approve", d.id)) {
                    (layout::csrf_field(staff))
                    label for="publish_at" { "定时发布（不填则马上发布）" }
                    input #publish_at type="datetime-local" name="publish_at";
                    div.actions { button #approve type="submit" { "通过并发布" } }
                }
                form.stack method="post" action=(format!("/console/content/{}/return", d.id)) {
                    (layout::csrf_field(staff))
                    label for="comment" { "退回意见" }
                    textarea #comment name="comment" aria-invalid=(return_error.is_some()) aria-describedby="comment-error" {}
                    span.field-error #comment-error { @if let Some(e) = return_error { (e) } }
                    div.actions { button.secondary type="submit" { "退回修改" } }
                }
            }
        }
        section.card #preview {
            h2 { "预览" }
            (preview(&d.content))
        }
        section.card #history {
            h2 { "版本记录" }
            @if history.is_empty() { p.muted { "尚未发布。" } }
            @else {
                table {
                    thead { tr { th { "版本" } th { "时间" } th { "事件" } th { "原因" } th { "操作人" } } }
                    tbody { @for h in history {
                        tr {
                            td { "第" (h.version) "版" }
                            td { (when(h.at)) }
                            td { (match h.kind.as_str() { "published" => "发布", "corrected" => "更正", "retracted" => "撤回", other => other }) }
                            td { (h.reason.clone().unwrap_or_default()) }
                            td { (h.by.clone().unwrap_or_default()) }
                        }
                    } }
                }
            }
        }
    }
}
