//! Interactive services on the UI thread: a request or a form is written to
//! the outbox before the screen says it was sent; an exam whose time runs
//! out is handed in as it stands; an opened reply loses its badge.

use std::time::Instant;

use model::{
    Answer, EvaluationAnswers, ExamPaper, RequestStatus, ServiceRecord, ServiceRequest,
    EVALUATION_KIND, EXAM_KIND, SERVICE_REQUEST_KIND,
};
use store::TakenKind;

use super::{now_unix, Controller};
use crate::app::{FormKind, Screen};

/// What the screen says when the outbox cannot be written.
const NOT_SAVED: &str = "本机存储出错，没有保存。请再按一次OK，还不行请联系安装人员";

impl Controller {
    /// Writes `payload` to the outbox; the key, or why it failed (logged).
    fn enqueue(&mut self, kind: &str, payload: &impl serde::Serialize, at: i64) -> Option<String> {
        let outbox = self.outbox.as_mut()?;
        let written = serde_json::to_value(payload)
            .map_err(|e| e.to_string())
            .and_then(|p| outbox.enqueue(kind, &p, at).map_err(|e| e.to_string()));
        match written {
            Ok(key) => {
                if let Some(sync) = &self.sync {
                    sync.flush_outbox();
                }
                Some(key)
            }
            Err(e) => {
                tracing::error!(error = %e, kind, "cannot write to the outbox");
                None
            }
        }
    }

    /// The request on the phone screen: outbox first, then 已提交.
    pub(super) fn send_request(&mut self) {
        let Some(draft) = self.nav.request_draft().cloned() else {
            return;
        };
        let phone = self.nav.phone().to_string();
        let request = ServiceRequest {
            category: draft.category.clone(),
            preset: draft.preset.clone(),
            phone: phone.clone(),
        };
        let at = now_unix();
        let Some(key) = self.enqueue(SERVICE_REQUEST_KIND, &request, at) else {
            self.nav.set_form_message(NOT_SAVED);
            self.refresh();
            return;
        };
        let category_name = self
            .cache
            .service_menu()
            .ok()
            .and_then(|m| m.category(&draft.category).map(|c| c.name.clone()))
            .unwrap_or_default();
        let local = ServiceRecord {
            key: key.clone(),
            category: draft.category,
            category_name,
            preset: draft.preset,
            status: RequestStatus::Submitted,
            submitted_at: at,
            reply: None,
            replied_at: None,
        };
        // The outbox holds the request; these only make the screens nicer.
        if let Err(e) = self.cache.add_local_request(&local) {
            tracing::warn!(error = %e, "cannot list the request on this box");
        }
        if let Err(e) = self.cache.set_last_phone(&phone) {
            tracing::warn!(error = %e, "cannot remember the phone number");
        }
        self.nav.request_sent(key);
        self.refresh();
    }

    /// The form being answered: outbox first, then 已提交 / 已交卷.
    pub(super) fn submit_form(&mut self, timed_out: bool) {
        let Some(form) = self.nav.form().cloned() else {
            return;
        };
        let answers: Vec<Answer> = form
            .questions
            .iter()
            .zip(&form.answers)
            .filter(|(_, a)| !a.is_empty())
            .map(|(q, a)| Answer {
                question: q.id.clone(),
                choices: a.clone(),
            })
            .collect();
        let at = now_unix();
        let (written, kind, member) = match &form.kind {
            FormKind::Evaluation => {
                let payload = EvaluationAnswers {
                    questionnaire: form.item.clone(),
                    answers,
                };
                (
                    self.enqueue(EVALUATION_KIND, &payload, at),
                    TakenKind::Evaluation,
                    String::new(),
                )
            }
            FormKind::Exam { member, .. } => {
                let payload = ExamPaper {
                    exam: form.item.clone(),
                    member: member.clone(),
                    answers,
                    timed_out,
                };
                (
                    self.enqueue(EXAM_KIND, &payload, at),
                    TakenKind::Exam,
                    member.clone(),
                )
            }
        };
        if written.is_none() {
            self.nav.set_form_message(NOT_SAVED);
            self.refresh();
            return;
        }
        if let Err(e) = self.cache.mark_taken(kind, &form.item, &member, at) {
            tracing::warn!(error = %e, "cannot remember what was handed in");
        }
        self.nav.form_submitted(timed_out);
        self.refresh();
    }

    /// A home module was opened: counted in memory, so opening it costs no
    /// disk write; [`Controller::report_use`] sends the counts.
    pub(super) fn count_use(&mut self, tile: crate::app::Tile) {
        *self.usage.entry(tile.label()).or_default() += 1;
    }

    /// Once a minute (or `now`, when the app closes): one `usage` outbox
    /// item per module opened since the last report, for the headend's
    /// statistics. Losing a minute of counts to a power cut is harmless.
    pub(super) fn report_use(&mut self, now: bool) {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(60);
        if self.usage.is_empty() || (!now && self.usage_reported.elapsed() < EVERY) {
            return;
        }
        self.usage_reported = Instant::now();
        for (module, opens) in std::mem::take(&mut self.usage) {
            let report = model::UsageReport {
                module: module.to_string(),
                opens,
            };
            let _ = self.enqueue(model::USAGE_KIND, &report, now_unix());
        }
    }

    /// A reply on screen is read.
    pub(super) fn mark_reply_read(&mut self) {
        let Screen::RequestDetail(key) = self.nav.screen() else {
            return;
        };
        let key = key.clone();
        let replied = crate::view_services::requests(&self.cache)
            .map(|all| all.iter().any(|(r, _)| r.key == key && r.reply.is_some()))
            .unwrap_or(false);
        if replied {
            if let Err(e) = self.cache.mark_reply_read(&key) {
                tracing::warn!(error = %e, "cannot remember the reply was read");
            }
        }
    }

    /// Once a second: an exam's clock on screen, and handing it in when
    /// time is up.
    pub(super) fn tick_form(&mut self) {
        if self.nav.form().is_none_or(|f| !f.is_exam()) {
            return;
        }
        if self.nav.exam_time_up(Instant::now()) {
            self.submit_form(true);
        } else if matches!(self.nav.screen(), Screen::Form) {
            self.refresh();
        }
    }
}
