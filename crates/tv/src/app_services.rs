//! Navigation of the interactive services: 一键服务 (category, preset,
//! phone, sent; 我的服务 with replies), 党风评议 and 在线考试 (one question
//! per screen, then a review, then handed in).
//!
//! A child of `app`, so it shares the navigation stack. What is typed or
//! ticked lives here (`phone`, `form`); writing it to the outbox is the
//! controller's, asked for with [`NavAction::SendRequest`] and
//! [`NavAction::SubmitForm`], and only then does the screen say it was sent.

use std::time::{Duration, Instant};

use input::RemoteKey;
use model::{Question, ServiceMenu, VideoCategory};
use store::TakenKind;

use super::{Counts, Nav, NavAction, Screen};

/// The last row of 在线考试, which opens 我的成绩.
pub const RESULTS_ROW: &str = "results";
/// Longest number the phone field takes (a landline with a 4-digit area code).
pub const MAX_PHONE_DIGITS: usize = 12;

/// The service lists the core pages through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceList {
    /// 我的服务: the household's requests, newest first.
    Requests,
    /// Open questionnaires.
    Evaluations,
    /// Open exams, then [`RESULTS_ROW`].
    Exams,
    /// 我的成绩: the household's exam results.
    ExamResults,
    /// Who in the household takes the exam.
    ExamMembers(String),
}

/// A request being filled in: its category and preset (none: 不选内容).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestDraft {
    pub category: String,
    pub preset: Option<String>,
}

/// Which form is being answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Evaluation,
    Exam { member: String, member_name: String },
}

/// A questionnaire or exam being answered, one question at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormDraft {
    pub kind: FormKind,
    /// Feed item id.
    pub item: String,
    pub title: String,
    pub questions: Vec<Question>,
    /// Chosen options per question, 0-based; empty: not answered.
    pub answers: Vec<Vec<u8>>,
    pub index: usize,
    /// Exams: when time is up (monotonic).
    pub deadline: Option<Instant>,
}

impl FormDraft {
    pub fn answered(&self) -> usize {
        self.answers.iter().filter(|a| !a.is_empty()).count()
    }

    /// The question on screen.
    pub fn question(&self) -> Option<&Question> {
        self.questions.get(self.index)
    }

    /// Rows on the question screen: its options, plus 下一题 for a
    /// multiple choice (OK there confirms the ticks).
    pub fn rows(&self) -> usize {
        self.question().map_or(0, |q| {
            q.kind.options().len() + usize::from(q.kind.is_multiple())
        })
    }

    pub fn is_exam(&self) -> bool {
        matches!(self.kind, FormKind::Exam { .. })
    }

    /// Time left on an exam, if it has a deadline.
    pub fn remaining(&self, now: Instant) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(now))
    }
}

/// Cards of the 党教园地 menu.
pub const PARTY_EDUCATION_CARDS: [&str; 2] = ["学习视频", "在线考试"];

impl Nav {
    /// The digits typed into the phone field.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    /// A plain sentence under a form: what is wrong, or what to do.
    pub fn form_message(&self) -> &str {
        &self.message
    }

    pub fn set_form_message(&mut self, message: &str) {
        self.message = message.to_string();
    }

    pub fn form(&self) -> Option<&FormDraft> {
        self.form.as_ref()
    }

    /// The request on the phone screen, if that is where the viewer is.
    pub fn request_draft(&self) -> Option<&RequestDraft> {
        match self.screen() {
            Screen::ServicePhone(draft) => Some(draft),
            _ => None,
        }
    }

    /// The controller wrote the request (as `key`) to the outbox: leave the
    /// form for the 已提交 screen, with Back going to the categories.
    pub fn request_sent(&mut self, key: String) {
        while matches!(
            self.screen(),
            Screen::ServicePhone(_) | Screen::ServicePresets(_)
        ) {
            self.back();
        }
        self.message.clear();
        self.open(Screen::ServiceSent(key));
    }

    /// The controller wrote the form to the outbox (`timed_out`: because
    /// the exam's time ran out, which the 已交卷 screen says).
    pub fn form_submitted(&mut self, timed_out: bool) {
        let Some(form) = self.form.take() else {
            return;
        };
        while matches!(self.screen(), Screen::Form | Screen::FormReview) {
            self.back();
        }
        self.message = if timed_out {
            "时间到，已自动交卷。".into()
        } else {
            String::new()
        };
        let member = match form.kind {
            FormKind::Exam { member, .. } => member,
            FormKind::Evaluation => String::new(),
        };
        self.open(Screen::FormDone {
            item: form.item,
            member,
        });
    }

    pub(super) fn service_key(&mut self, key: RemoteKey, screen: Screen, counts: &dyn Counts) {
        match screen {
            Screen::Services => {
                let menu = counts.service_menu();
                let n = menu.categories.len();
                match self.grid_key(key, n + 1) {
                    Some(i) if i < n => {
                        self.open(Screen::ServicePresets(menu.categories[i].id.clone()))
                    }
                    Some(_) => self.open(Screen::MyRequests),
                    None => {}
                }
            }
            Screen::ServicePresets(category) => {
                let len = presets(&counts.service_menu(), &category).len();
                let before = self.stack.len();
                let ids = |_: &Nav, page: usize| {
                    presets(&counts.service_menu(), &category)
                        .into_iter()
                        .skip(page * super::LIST_PAGE_SIZE)
                        .take(super::LIST_PAGE_SIZE)
                        .map(|p| p.unwrap_or_default())
                        .collect()
                };
                let cat = category.clone();
                self.paged_key(key, len, ids, |preset| {
                    Screen::ServicePhone(RequestDraft {
                        category: cat,
                        preset: (!preset.is_empty()).then_some(preset),
                    })
                });
                if self.stack.len() > before {
                    self.phone = counts.last_phone().unwrap_or_default();
                    self.message.clear();
                }
            }
            Screen::ServicePhone(_) => self.phone_key(key),
            Screen::ServiceSent(_) | Screen::Taken(_) | Screen::FormDone { .. }
                if key == RemoteKey::Ok =>
            {
                self.back();
            }
            Screen::MyRequests => {
                let len = counts.service_len(&ServiceList::Requests);
                let ids = |_: &Nav, page| counts.service_ids(&ServiceList::Requests, page);
                self.paged_key(key, len, ids, Screen::RequestDetail);
            }
            Screen::RequestDetail(_) => {}
            Screen::Evaluations => {
                let len = counts.service_len(&ServiceList::Evaluations);
                let ids = |_: &Nav, page| counts.service_ids(&ServiceList::Evaluations, page);
                let before = self.stack.len();
                self.paged_key(key, len, ids, Screen::Taken);
                if self.stack.len() > before {
                    if let Screen::Taken(id) = self.screen().clone() {
                        if !counts.taken(TakenKind::Evaluation, &id, "") {
                            self.back();
                            self.start_evaluation(&id, counts);
                        }
                    }
                }
            }
            Screen::PartyEducation => match self.grid_key(key, PARTY_EDUCATION_CARDS.len()) {
                Some(0) => self.open(Screen::Videos(VideoCategory::PartyEducation)),
                Some(_) => self.open(Screen::Exams),
                None => {}
            },
            Screen::Exams => {
                let len = counts.service_len(&ServiceList::Exams);
                let ids = |_: &Nav, page| counts.service_ids(&ServiceList::Exams, page);
                let before = self.stack.len();
                self.paged_key(key, len, ids, |id| {
                    if id == RESULTS_ROW {
                        Screen::ExamResults
                    } else {
                        Screen::ExamMembers(id)
                    }
                });
                // One member: straight to the exam's first screen.
                if self.stack.len() > before {
                    if let Screen::ExamMembers(exam) = self.screen().clone() {
                        let members = counts.members();
                        if members.len() == 1 {
                            self.back();
                            let (member, _) = &members[0];
                            self.open_exam(&exam, member, counts);
                        }
                    }
                }
            }
            Screen::ExamMembers(exam) => {
                let list = ServiceList::ExamMembers(exam.clone());
                let len = counts.service_len(&list);
                let ids = |_: &Nav, page| counts.service_ids(&list, page);
                let before = self.stack.len();
                self.paged_key(key, len, ids, |member| Screen::ExamIntro {
                    exam: exam.clone(),
                    member,
                });
                if self.stack.len() > before {
                    if let Screen::ExamIntro { exam, member } = self.screen().clone() {
                        self.back();
                        self.open_exam(&exam, &member, counts);
                    }
                }
            }
            Screen::ExamIntro { exam, member } if key == RemoteKey::Ok => {
                self.start_exam(&exam, &member, counts);
            }
            Screen::ExamResults => {
                let len = counts.service_len(&ServiceList::ExamResults);
                self.paged_key(key, len, |_, _| Vec::new(), |_| Screen::ExamResults);
            }
            Screen::Form => self.form_key(key),
            Screen::FormReview => self.review_key(key),
            _ => {}
        }
    }

    /// The exam's intro, or what it scored if this member handed it in.
    fn open_exam(&mut self, exam: &str, member: &str, counts: &dyn Counts) {
        self.message.clear();
        if counts.taken(TakenKind::Exam, exam, member) {
            self.open(Screen::FormDone {
                item: exam.to_string(),
                member: member.to_string(),
            });
        } else {
            self.open(Screen::ExamIntro {
                exam: exam.to_string(),
                member: member.to_string(),
            });
        }
    }

    fn start_evaluation(&mut self, id: &str, counts: &dyn Counts) {
        let Some(q) = counts.questionnaire(id) else {
            return;
        };
        // Coming back to a questionnaire left half way picks up there.
        if !matches!(&self.form, Some(f) if f.item == id && !f.is_exam()) {
            self.form = Some(FormDraft {
                kind: FormKind::Evaluation,
                item: id.to_string(),
                title: q.title.clone(),
                answers: vec![Vec::new(); q.questions.len()],
                questions: q.questions,
                index: 0,
                deadline: None,
            });
        }
        self.message.clear();
        self.focus_answer();
        self.open(Screen::Form);
    }

    fn start_exam(&mut self, exam: &str, member: &str, counts: &dyn Counts) {
        let Some(e) = counts.exam(exam) else {
            return;
        };
        let Some((_, name)) = counts.members().into_iter().find(|(id, _)| id == member) else {
            return;
        };
        let same = |f: &FormDraft| {
            f.item == exam && matches!(&f.kind, FormKind::Exam { member: m, .. } if m == member)
        };
        if !self.form.as_ref().is_some_and(same) {
            self.form = Some(FormDraft {
                kind: FormKind::Exam {
                    member: member.to_string(),
                    member_name: name,
                },
                item: exam.to_string(),
                title: e.title.clone(),
                answers: vec![Vec::new(); e.questions.len()],
                questions: e.questions,
                index: 0,
                deadline: Some(Instant::now() + Duration::from_secs(u64::from(e.time_limit_s))),
            });
        }
        self.message.clear();
        // The intro gives way to the questions; Back returns to the list.
        self.back();
        self.focus_answer();
        self.open(Screen::Form);
    }

    /// Focus on the current question's answer (or its first option).
    fn focus_answer(&mut self) -> usize {
        let focus = self
            .form
            .as_ref()
            .and_then(|f| f.answers.get(f.index))
            .and_then(|a| a.first())
            .map_or(0, |c| usize::from(*c));
        self.form_focus = focus;
        focus
    }

    /// The focused row of the question on screen.
    pub fn form_focus(&self) -> usize {
        self.form_focus
    }

    fn phone_key(&mut self, key: RemoteKey) {
        match key {
            RemoteKey::Digit(d) if self.phone.len() < MAX_PHONE_DIGITS => {
                self.phone.push(char::from(b'0' + d));
                self.message = if model::phone_complete(&self.phone) {
                    "号码已输完，按OK提交".into()
                } else {
                    String::new()
                };
            }
            RemoteKey::Digit(_) => self.message = "号码太长了，按←键删除多余的数字".into(),
            RemoteKey::Left => {
                self.phone.pop();
                self.message.clear();
            }
            RemoteKey::Ok => match model::check_phone(&self.phone) {
                Ok(()) => self.action = Some(NavAction::SendRequest),
                // Say how far off a mobile number is: the usual slip is a
                // digit missed or pressed twice.
                Err(model::PhoneProblem::Mobile) if self.phone.len() != 11 => {
                    self.message = format!("手机号码是11位，现在是{}位，请检查", self.phone.len())
                }
                Err(problem) => self.message = problem.message().into(),
            },
            _ => {}
        }
    }

    fn form_key(&mut self, key: RemoteKey) {
        let Some(form) = self.form.as_mut() else {
            self.back();
            return;
        };
        let Some(question) = form.question().cloned() else {
            return;
        };
        let options = question.kind.options().len();
        let multiple = question.kind.is_multiple();
        let rows = form.rows();
        let index = form.index;
        let mut advance = false;
        match key {
            RemoteKey::Up if self.form_focus > 0 => self.form_focus -= 1,
            RemoteKey::Down if self.form_focus + 1 < rows => self.form_focus += 1,
            RemoteKey::Digit(d) if (1..=options).contains(&usize::from(d)) => {
                let choice = d - 1;
                self.form_focus = usize::from(choice);
                toggle_or_set(&mut form.answers[index], choice, multiple);
                self.message.clear();
            }
            RemoteKey::Ok if self.form_focus < options => {
                let choice = self.form_focus as u8;
                if multiple {
                    toggle_or_set(&mut form.answers[index], choice, true);
                } else {
                    form.answers[index] = vec![choice];
                    advance = true;
                }
            }
            // 下一题 under a multiple choice.
            RemoteKey::Ok => {
                if form.answers[index].is_empty() {
                    self.message = "请至少选一项，再按OK".into();
                } else {
                    advance = true;
                }
            }
            RemoteKey::Left if index > 0 => {
                form.index -= 1;
                self.message.clear();
                self.focus_answer();
            }
            // An exam question may be skipped and come back to.
            RemoteKey::Right if form.is_exam() || !form.answers[index].is_empty() => {
                advance = true;
            }
            _ => {}
        }
        if advance {
            self.message.clear();
            let Some(form) = self.form.as_mut() else {
                return;
            };
            if form.index + 1 < form.questions.len() {
                form.index += 1;
                self.focus_answer();
            } else {
                self.open(Screen::FormReview);
            }
        }
    }

    fn review_key(&mut self, key: RemoteKey) {
        let Some(form) = self.form.as_mut() else {
            self.back();
            return;
        };
        match key {
            RemoteKey::Ok => {
                let missing = form.answers.iter().position(Vec::is_empty);
                match missing {
                    // A questionnaire is answered whole; go to the gap.
                    Some(i) if !form.is_exam() => {
                        form.index = i;
                        self.back();
                        self.focus_answer();
                        self.message = format!("第{}题还没有回答", i + 1);
                    }
                    _ => self.action = Some(NavAction::SubmitForm),
                }
            }
            RemoteKey::Left => {
                self.back();
                self.focus_answer();
            }
            _ => {}
        }
    }

    /// An exam's time ran out: hand in what was answered. Returns true if
    /// the controller must submit now.
    pub fn exam_time_up(&mut self, now: Instant) -> bool {
        let Some(form) = &self.form else {
            return false;
        };
        if form.remaining(now) != Some(Duration::ZERO) {
            return false;
        }
        // Show the questions' screen while it is handed in, wherever the
        // member was.
        if !matches!(self.screen(), Screen::Form | Screen::FormReview) {
            self.open(Screen::Form);
        }
        true
    }
}

fn toggle_or_set(answer: &mut Vec<u8>, choice: u8, multiple: bool) {
    if !multiple {
        *answer = vec![choice];
    } else if let Some(at) = answer.iter().position(|c| *c == choice) {
        answer.remove(at);
    } else {
        answer.push(choice);
        answer.sort_unstable();
    }
}

/// A category's presets, then `None` for 不选内容.
pub fn presets(menu: &ServiceMenu, category: &str) -> Vec<Option<String>> {
    menu.category(category)
        .map(|c| c.presets.iter().cloned().map(Some).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(std::iter::once(None))
        .collect()
}
