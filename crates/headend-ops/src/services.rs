//! Interactive services: the 一键服务 menu, the request inbox (list,
//! assign, reply, close, counts), questionnaires and their totals, the
//! exam question bank, exams and their results.
//!
//! Menus, questionnaires, the bank and exams need an editor; the inbox an
//! operator; reading results any account; always inside its region. The
//! bank holds the answers and is shared by the whole county, so only
//! county accounts read or edit it. Menus, questionnaires and exams are
//! drafts like any content: they reach boxes only through review.

use model::{AreaCode, Content, ExamResult, Questionnaire, RegionLevel, ServiceMenu};

use crate::db::{
    menu_id, BankQuestion, Draft, EvaluationResults, NewExam, Permission, RequestAction,
    RequestCount, RequestFilter, StaffRequest, Target,
};
use crate::{Actor, Event, Ops, OpsError};

/// A fresh item id with `prefix` (`eval`, `exam`).
fn fresh_id(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

impl Ops {
    /// A draft for `scope` of `content` as item `item_id`, under the rules
    /// of every draft ([`Ops::create_draft`]: the actor edits content there,
    /// and an item id another region holds is never taken). Blocking.
    fn service_draft(
        &self,
        actor: &Actor,
        scope: &AreaCode,
        content: &Content,
        item_id: &str,
    ) -> Result<Draft, OpsError> {
        self.create_draft(actor, scope, content, Some(item_id))
    }

    /// A draft of `region`'s service menu (a county, or a town or village
    /// that needs its own; boxes use the nearest one). Blocking.
    pub fn draft_service_menu(
        &self,
        actor: &Actor,
        region: &AreaCode,
        menu: ServiceMenu,
    ) -> Result<Draft, OpsError> {
        self.service_draft(actor, region, &Content::ServiceMenu(menu), &menu_id(region))
    }

    /// Service requests from boxes under `region`, oldest open first.
    /// Blocking.
    pub fn service_requests(
        &self,
        actor: &Actor,
        region: &AreaCode,
        filter: &RequestFilter,
    ) -> Result<Vec<StaffRequest>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        Ok(self.db.service_requests(region, filter, self.now())?)
    }

    /// One service request. Blocking.
    pub fn service_request(&self, actor: &Actor, id: i64) -> Result<StaffRequest, OpsError> {
        actor.require(&self.db, Permission::View, &Target::ServiceRequest(id))?;
        Ok(self.db.service_request(id, self.now())?)
    }

    /// Refuses unless the actor may act on request `id` (what a form that
    /// is not filled in right is checked against before it is shown
    /// again). Blocking.
    pub fn may_act_on_request(&self, actor: &Actor, id: i64) -> Result<(), OpsError> {
        actor.require(&self.db, Permission::Operate, &Target::ServiceRequest(id))
    }

    /// Assigns, replies to or closes request `id`, and tells its box.
    /// Blocking.
    pub fn act_on_request(
        &self,
        actor: &Actor,
        id: i64,
        action: &RequestAction,
    ) -> Result<StaffRequest, OpsError> {
        self.may_act_on_request(actor, id)?;
        let r = self.db.act_on_request(id, action, self.now())?;
        // The box shows the new status (and the reply) without waiting to poll.
        self.events.publish(Event::ServicesChanged {
            device: r.device.clone(),
        });
        Ok(r)
    }

    /// Request counts per category and per village under `region`, for
    /// requests received in `[from, to)`. Blocking.
    pub fn service_counts(
        &self,
        actor: &Actor,
        region: &AreaCode,
        from: i64,
        to: i64,
    ) -> Result<(Vec<RequestCount>, Vec<RequestCount>), OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        Ok(self.db.service_counts(region, from, to, self.now())?)
    }

    /// A draft questionnaire under a fresh id. Blocking.
    pub fn draft_questionnaire(
        &self,
        actor: &Actor,
        scope: &AreaCode,
        questionnaire: Questionnaire,
    ) -> Result<Draft, OpsError> {
        self.service_draft(
            actor,
            scope,
            &Content::Questionnaire(questionnaire),
            &fresh_id("eval"),
        )
    }

    /// A questionnaire's totals under `region`: totals only, no
    /// household's answers are ever listed. Blocking.
    pub fn questionnaire_results(
        &self,
        actor: &Actor,
        questionnaire: &str,
        region: &AreaCode,
    ) -> Result<EvaluationResults, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Region(region))?;
        Ok(self.db.evaluation_results(questionnaire, region)?)
    }

    /// Refuses unless the role allows `permission` and the actor is a
    /// county account: the bank holds the answers and serves the county.
    fn require_county(&self, actor: &Actor, permission: Permission) -> Result<(), OpsError> {
        actor.require_role(permission)?;
        let county = self
            .db
            .regions()?
            .iter()
            .any(|r| r.code == actor.account.region && r.level == RegionLevel::County);
        if county {
            Ok(())
        } else {
            Err(actor
                .refuse("the question bank belongs to the county; ask a county account".into()))
        }
    }

    /// The question bank, answers included. Blocking.
    pub fn bank_questions(&self, actor: &Actor) -> Result<Vec<BankQuestion>, OpsError> {
        self.require_county(actor, Permission::View)?;
        Ok(self.db.bank_questions()?)
    }

    /// Adds or replaces a bank question. Blocking.
    pub fn put_bank_question(&self, actor: &Actor, q: &BankQuestion) -> Result<(), OpsError> {
        self.require_county(actor, Permission::EditContent)?;
        Ok(self.db.put_bank_question(q)?)
    }

    /// A draft exam drawn from the bank (questions only) under a fresh id;
    /// its answer key is copied from the bank when a reviewer approves it.
    /// Blocking.
    pub fn draft_exam(&self, actor: &Actor, new: &NewExam) -> Result<Draft, OpsError> {
        actor.require(
            &self.db,
            Permission::EditContent,
            &Target::Region(&new.scope),
        )?;
        let exam = self.db.draw_exam(new)?;
        self.service_draft(actor, &new.scope, &Content::Exam(exam), &fresh_id("exam"))
    }

    /// An exam's results. Blocking.
    pub fn exam_results(&self, actor: &Actor, exam: &str) -> Result<Vec<ExamResult>, OpsError> {
        actor.require(&self.db, Permission::View, &Target::Item(exam))?;
        Ok(self.db.exam_results(exam)?)
    }
}
