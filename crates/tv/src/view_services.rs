//! What the interactive service screens show: 一键服务, 我的服务, 党风评议,
//! 在线考试 and the form screens, built from the core and the cache.
//!
//! List rows and the ids the core opens come from one function per list
//! ([`service_rows`]), so what is on screen is always what OK opens.

use std::time::Instant;

use model::{format_date, HouseholdServices, QuestionKind, RequestStatus, ServiceRecord};
use store::{Cache, StoreError, TakenKind};

use crate::app::{
    presets, FormDraft, FormKind, Nav, Screen, ServiceList, LIST_PAGE_SIZE, PARTY_EDUCATION_CARDS,
    RESULTS_ROW,
};
use crate::view::{BlockView, View};

/// The form page (screen 10).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormView {
    pub title: String,
    pub progress_text: String,
    pub progress: f32,
    pub timer: String,
    pub prompt: String,
    pub field: String,
    pub has_field: bool,
    /// (label, chosen, confirm row)
    pub options: Vec<(String, bool, bool)>,
    pub focus: usize,
    pub message: String,
    pub message_ok: bool,
}

/// One row of a service list, with the id OK opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    pub id: String,
    pub title: String,
    pub meta: String,
    pub badge: String,
}

fn row(id: impl Into<String>, title: String, meta: String, badge: &str) -> ServiceRow {
    ServiceRow {
        id: id.into(),
        title,
        meta,
        badge: badge.into(),
    }
}

/// Whether the household (member empty) or a member handed `item` in,
/// here or as the headend last said.
pub fn is_taken(cache: &Cache, kind: TakenKind, item: &str, member: &str) -> bool {
    let here = cache
        .taken(kind, item)
        .map(|t| t.iter().any(|t| t.member == member))
        .unwrap_or(false);
    let record = cache.services().unwrap_or_default();
    here || match kind {
        TakenKind::Evaluation => record.evaluated.iter().any(|e| e == item),
        TakenKind::Exam => record
            .exams
            .iter()
            .any(|r| r.exam == item && r.member == member),
    }
}

/// The household's requests: the headend's record, then any written here
/// that it does not have yet, newest first.
pub fn requests(cache: &Cache) -> Result<Vec<(ServiceRecord, bool)>, StoreError> {
    let record = cache.services()?;
    let mut all: Vec<(ServiceRecord, bool)> = cache
        .local_requests()?
        .into_iter()
        .filter(|l| !record.requests.iter().any(|r| r.key == l.key))
        .map(|l| (l, false))
        .collect();
    all.extend(record.requests.into_iter().map(|r| (r, true)));
    all.sort_by_key(|(r, _)| std::cmp::Reverse(r.submitted_at));
    Ok(all)
}

fn minutes(secs: u32) -> String {
    if secs.is_multiple_of(60) {
        format!("{} 分钟", secs / 60)
    } else {
        format!("{} 分 {} 秒", secs / 60, secs % 60)
    }
}

/// Every row of `list`.
pub fn service_rows(
    cache: &Cache,
    list: &ServiceList,
    now: i64,
) -> Result<Vec<ServiceRow>, StoreError> {
    let record: HouseholdServices = cache.services()?;
    Ok(match list {
        ServiceList::Requests => requests(cache)?
            .into_iter()
            .map(|(r, known)| {
                let title = match &r.preset {
                    Some(p) => format!("{} · {p}", r.category_name),
                    None => r.category_name.clone(),
                };
                let status = if known {
                    r.status.label()
                } else {
                    "已提交，等待送达"
                };
                let unread = r.reply.is_some() && !cache.is_reply_read(&r.key).unwrap_or(true);
                let meta = format!("{} 提交 · {status}", format_date(r.submitted_at));
                row(r.key, title, meta, if unread { "新回复" } else { "" })
            })
            .collect(),
        ServiceList::Evaluations => cache
            .questionnaires()?
            .into_iter()
            .filter(|e| e.item.opens_at <= now && now < e.item.closes_at)
            .map(|e| {
                let taken = is_taken(cache, TakenKind::Evaluation, &e.id, "");
                let meta = format!(
                    "评议对象：{} · {} 截止",
                    e.item.target_name,
                    format_date(e.item.closes_at)
                );
                row(e.id, e.item.title, meta, if taken { "已参加" } else { "" })
            })
            .collect(),
        ServiceList::Exams => {
            let mut rows: Vec<ServiceRow> = cache
                .exams()?
                .into_iter()
                .filter(|e| e.item.opens_at <= now && now < e.item.closes_at)
                .map(|e| {
                    let meta = format!(
                        "{} 题 · 限时 {} · {} 截止",
                        e.item.questions.len(),
                        minutes(e.item.time_limit_s),
                        format_date(e.item.closes_at)
                    );
                    row(e.id, e.item.title, meta, "")
                })
                .collect();
            rows.push(row(
                RESULTS_ROW,
                "我的成绩".into(),
                format!("{} 次考试成绩", record.exams.len()),
                "",
            ));
            rows
        }
        ServiceList::ExamResults => record
            .exams
            .iter()
            .map(|r| {
                let mut meta = format!("{} 分 · 答对 {}/{} 题", r.score, r.correct, r.questions);
                if r.timed_out {
                    meta.push_str(" · 到时交卷");
                }
                meta.push_str(&format!(" · {}", format_date(r.submitted_at)));
                row(
                    format!("{}/{}", r.exam, r.member),
                    format!("{} · {}", r.name, r.title),
                    meta,
                    "",
                )
            })
            .collect(),
        ServiceList::ExamMembers(exam) => cache
            .household()?
            .members
            .into_iter()
            .map(|m| {
                let result = record
                    .exams
                    .iter()
                    .find(|r| &r.exam == exam && r.member == m.id);
                let meta = match result {
                    Some(r) => format!("已交卷 · {} 分", r.score),
                    None if is_taken(cache, TakenKind::Exam, exam, &m.id) => {
                        "已交卷 · 成绩计算中".into()
                    }
                    None => "未考".into(),
                };
                row(m.id, m.name, meta, "")
            })
            .collect(),
    })
}

fn page_rows(v: &mut View, rows: Vec<ServiceRow>, page: usize) {
    let pages = rows.len().div_ceil(LIST_PAGE_SIZE);
    v.page_text = if pages > 1 {
        format!("第 {}/{} 页", page + 1, pages)
    } else {
        String::new()
    };
    for r in rows
        .into_iter()
        .skip(page * LIST_PAGE_SIZE)
        .take(LIST_PAGE_SIZE)
    {
        v.rows.push((r.title, r.meta));
        v.row_badges.push(r.badge);
    }
}

/// 138 1234 5678, or the landline as typed.
pub fn grouped_phone(digits: &str) -> String {
    if digits.starts_with('1') {
        let (a, rest) = digits.split_at(digits.len().min(3));
        let (b, c) = rest.split_at(rest.len().min(4));
        [a, b, c]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        digits.to_string()
    }
}

fn form_view(form: &FormDraft, nav: &Nav, now: Instant) -> FormView {
    let total = form.questions.len();
    let Some(q) = form.question() else {
        return FormView::default();
    };
    let chosen = &form.answers[form.index];
    let mut options: Vec<(String, bool, bool)> = q
        .kind
        .options()
        .into_iter()
        .enumerate()
        .map(|(i, label)| (label, chosen.contains(&(i as u8)), false))
        .collect();
    if q.kind.is_multiple() {
        options.push(("下一题（选好后按这里）".into(), false, true));
    }
    let timer = form
        .remaining(now)
        .map(|left| {
            let secs = left.as_secs();
            format!("剩余 {}:{:02}", secs / 60, secs % 60)
        })
        .unwrap_or_default();
    let kind = match &q.kind {
        QuestionKind::Multiple { .. } => "多选题，可选几项",
        other => other.label(),
    };
    // The footer says which keys to use; the message line is kept for what
    // needs saying (a gap, a missing tick, time up).
    let message = nav.form_message().to_string();
    let who = match &form.kind {
        FormKind::Exam { member_name, .. } => format!(" · {member_name}"),
        FormKind::Evaluation => String::new(),
    };
    FormView {
        title: form.title.clone(),
        progress_text: format!("第 {}/{} 题 · {kind}{who}", form.index + 1, total),
        progress: (form.index + 1) as f32 / total.max(1) as f32,
        timer,
        prompt: format!("{}. {}", form.index + 1, q.text),
        options,
        focus: nav.form_focus(),
        message_ok: false,
        message,
        ..FormView::default()
    }
}

fn member_name(cache: &Cache, member: &str) -> String {
    cache
        .household()
        .ok()
        .and_then(|h| h.members.into_iter().find(|m| m.id == member))
        .map(|m| m.name)
        .unwrap_or_default()
}

/// Fills `v` for a services screen; false if `screen` is not one.
pub fn build(v: &mut View, nav: &Nav, cache: &Cache, now: i64) -> Result<bool, StoreError> {
    let page = nav.page();
    let offline_note = if nav.is_offline() {
        "\n现在网络不通，恢复后会自动送达，不用再按。"
    } else {
        ""
    };
    match nav.screen() {
        Screen::Services => {
            v.screen = 7;
            v.title = "一键服务".into();
            v.hint = "选择要办的事，按确定键；数字键直达".into();
            let menu = cache.service_menu()?;
            for c in &menu.categories {
                v.categories.push((c.name.clone(), String::new()));
                v.card_badges.push(String::new());
            }
            // Three rows of cards leave no room for a count under the
            // label; new replies go in the badge.
            let unread = cache.unread_replies()?;
            v.categories.push(("我的服务".into(), String::new()));
            v.card_badges.push(if unread > 0 {
                format!("{unread} 条新回复")
            } else {
                String::new()
            });
        }
        Screen::ServicePresets(category) => {
            let menu = cache.service_menu()?;
            let name = menu
                .category(category)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            v.screen = 2;
            v.title = format!("{name}：要办什么事？");
            v.breadcrumb = "一键服务".into();
            v.hint = "选一项，按确定键；数字键直达".into();
            let rows = presets(&menu, category)
                .into_iter()
                .map(|p| match p {
                    Some(p) => row(p.clone(), p, String::new(), ""),
                    None => row(
                        "",
                        "不选，直接留电话".into(),
                        "工作人员会打电话问您".into(),
                        "",
                    ),
                })
                .collect();
            page_rows(v, rows, page);
        }
        Screen::ServicePhone(draft) => {
            let menu = cache.service_menu()?;
            let name = menu
                .category(&draft.category)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            v.screen = 10;
            v.breadcrumb = match &draft.preset {
                Some(p) => format!("一键服务 › {name} › {p}"),
                None => format!("一键服务 › {name}"),
            };
            v.hint = "数字键输入 · ←键删除一位 · OK键提交 · 返回键重新选".into();
            let message = nav.form_message().to_string();
            v.form = FormView {
                title: "留个联系电话".into(),
                prompt: "用数字键输入手机号（11位）或带区号的座机号".into(),
                field: grouped_phone(nav.phone()),
                has_field: true,
                message_ok: message.is_empty() || message.starts_with("号码已输完"),
                message: if message.is_empty() && !nav.phone().is_empty() {
                    "号码对的话，按OK提交".into()
                } else {
                    message
                },
                ..FormView::default()
            };
        }
        Screen::ServiceSent(key) => {
            v.screen = 4;
            v.title = "已提交".into();
            v.hint = "按确定键或返回键回到一键服务".into();
            let what = requests(cache)?
                .into_iter()
                .find(|(r, _)| &r.key == key)
                .map(|(r, _)| match r.preset {
                    Some(p) => format!("{} · {p}", r.category_name),
                    None => r.category_name,
                })
                .unwrap_or_default();
            v.meta = format!(
                "{what}\n工作人员会在24小时内回复，回复会显示在“我的服务”里。{offline_note}"
            );
        }
        Screen::MyRequests => {
            v.screen = 2;
            v.title = "我的服务".into();
            v.breadcrumb = "一键服务".into();
            v.hint = "上下键选择，确定键看回复，频道键翻页".into();
            v.empty_text = "还没有提交过服务请求。".into();
            page_rows(v, service_rows(cache, &ServiceList::Requests, now)?, page);
        }
        Screen::RequestDetail(key) => {
            v.screen = 3;
            v.breadcrumb = "一键服务 › 我的服务".into();
            v.hint = "按返回键回到我的服务".into();
            let Some((r, known)) = requests(cache)?.into_iter().find(|(r, _)| &r.key == key) else {
                v.title = "找不到这件服务请求".into();
                return Ok(true);
            };
            v.title = r.category_name.clone();
            v.meta = format!("{} 提交", format_date(r.submitted_at));
            let status = if known {
                r.status.label()
            } else {
                "已提交，等待送达"
            };
            let mut blocks = vec![
                BlockView::Paragraph(format!(
                    "内容：{}",
                    r.preset
                        .as_deref()
                        .unwrap_or("（未选，请工作人员电话联系）")
                )),
                BlockView::Paragraph(format!("状态：{status}")),
            ];
            blocks.push(BlockView::Paragraph(match (&r.reply, r.replied_at) {
                (Some(reply), at) => format!(
                    "回复{}：{reply}",
                    at.map(|t| format!("（{}）", format_date(t)))
                        .unwrap_or_default()
                ),
                (None, _) if r.status == RequestStatus::Closed => "已办结。".into(),
                (None, _) => "还没有回复，工作人员会在24小时内回复。".into(),
            }));
            v.blocks = blocks;
        }
        Screen::Evaluations => {
            v.screen = 2;
            v.title = "党风评议".into();
            v.hint = "上下键选择，确定键开始评议".into();
            v.empty_text = "现在没有进行中的评议。".into();
            page_rows(
                v,
                service_rows(cache, &ServiceList::Evaluations, now)?,
                page,
            );
        }
        Screen::Taken(id) => {
            let title = cache
                .questionnaires()?
                .into_iter()
                .find(|q| &q.id == id)
                .map(|q| q.item.title)
                .unwrap_or_default();
            v.screen = 4;
            v.title = "已参加".into();
            v.hint = "按确定键或返回键回到评议列表".into();
            v.meta = format!("您家已经参加了“{title}”，每户只评一次。谢谢您的意见！");
        }
        Screen::PartyEducation => {
            v.screen = 7;
            v.title = "党教园地".into();
            v.hint = "1 学习视频 · 2 在线考试".into();
            let videos = cache.videos(model::VideoCategory::PartyEducation)?.len();
            let exams = service_rows(cache, &ServiceList::Exams, now)?.len() - 1;
            v.categories = vec![
                (PARTY_EDUCATION_CARDS[0].into(), format!("共 {videos} 个")),
                (PARTY_EDUCATION_CARDS[1].into(), format!("{exams} 场进行中")),
            ];
            v.card_badges = vec![String::new(); 2];
        }
        Screen::Exams => {
            v.screen = 2;
            v.title = "在线考试".into();
            v.breadcrumb = "党教园地".into();
            v.hint = "上下键选择，确定键开始".into();
            page_rows(v, service_rows(cache, &ServiceList::Exams, now)?, page);
        }
        Screen::ExamMembers(exam) => {
            v.screen = 2;
            v.title = "哪一位来考试？".into();
            v.breadcrumb = "党教园地 › 在线考试".into();
            v.hint = "上下键选择，确定键开始".into();
            v.empty_text = "本机还没有登记党员，不能参加考试。请联系村里登记。".into();
            let list = ServiceList::ExamMembers(exam.clone());
            page_rows(v, service_rows(cache, &list, now)?, page);
        }
        Screen::ExamIntro { exam, member } => {
            let Some(e) = cache.exams()?.into_iter().find(|e| &e.id == exam) else {
                v.screen = 4;
                v.title = "考试已取消".into();
                return Ok(true);
            };
            v.screen = 4;
            v.title = e.item.title;
            v.hint = "按确定键开始考试，返回键回到列表".into();
            v.meta = format!(
                "考试人：{}\n共 {} 题，限时 {}，时间到会自动交卷。\n每题按数字键选答案，OK键确认。\n\n按确定键开始",
                member_name(cache, member),
                e.item.questions.len(),
                minutes(e.item.time_limit_s)
            );
        }
        Screen::ExamResults => {
            v.screen = 2;
            v.title = "我的成绩".into();
            v.breadcrumb = "党教园地 › 在线考试".into();
            v.hint = "频道键翻页；按返回键回到在线考试".into();
            v.empty_text = "还没有考试成绩。".into();
            page_rows(
                v,
                service_rows(cache, &ServiceList::ExamResults, now)?,
                page,
            );
        }
        Screen::Form => {
            v.screen = 10;
            v.hint = "数字键选答案 · OK键确认 · ←键上一题 · 返回键暂时离开".into();
            if let Some(form) = nav.form() {
                if form.question().is_some_and(|q| q.kind.is_multiple()) {
                    v.hint = "数字键勾选或取消 · 选好后到“下一题”按OK · ←键上一题".into();
                }
                v.breadcrumb = match &form.kind {
                    FormKind::Evaluation => "党风评议".into(),
                    FormKind::Exam { member_name, .. } => {
                        format!("在线考试 · 考试人：{member_name}")
                    }
                };
                v.form = form_view(form, nav, Instant::now());
            }
        }
        Screen::FormReview => {
            v.screen = 4;
            v.hint = "确定键提交 · ←键回去检查".into();
            if let Some(form) = nav.form() {
                let total = form.questions.len();
                let answered = form.answered();
                let missing: Vec<String> = form
                    .answers
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.is_empty())
                    .map(|(i, _)| (i + 1).to_string())
                    .collect();
                v.title = if form.is_exam() {
                    "交卷".into()
                } else {
                    "提交评议".into()
                };
                let mut text = format!("共 {total} 题，已答 {answered} 题。");
                if !missing.is_empty() {
                    text.push_str(&format!("\n第 {} 题还没答。", missing.join("、")));
                }
                text.push_str(if form.is_exam() {
                    "\n\n按确定键交卷，交了就不能再改。"
                } else {
                    "\n\n按确定键提交，每户只评一次。"
                });
                v.meta = text;
            }
        }
        Screen::FormDone { item, member } => {
            v.screen = 4;
            v.hint = "按确定键或返回键回到列表".into();
            if member.is_empty() {
                v.title = "已提交".into();
                v.meta = format!("谢谢您参加评议，您家的意见已记下。{offline_note}");
            } else {
                let record = cache.services()?;
                let name = member_name(cache, member);
                let note = nav.form_message();
                match record
                    .exams
                    .iter()
                    .find(|r| &r.exam == item && &r.member == member)
                {
                    Some(r) => {
                        v.title = format!("{} 分", r.score);
                        let timed_out = if r.timed_out {
                            "时间到自动交卷，"
                        } else {
                            ""
                        };
                        v.meta = format!(
                            "{name}：{}\n{timed_out}答对 {}/{} 题。成绩已记入“我的成绩”。",
                            r.title, r.correct, r.questions
                        );
                    }
                    None => {
                        v.title = "已交卷".into();
                        v.meta = format!(
                            "{note}{name} 的答卷已保存，成绩算好后显示在这里和“我的成绩”里。{offline_note}"
                        );
                    }
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}
