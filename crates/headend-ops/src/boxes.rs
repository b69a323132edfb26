//! What boxes do besides the feed: prove who they are, learn what they
//! are owed on connecting the push channel (or polling instead), hand in
//! their outbox, report what they play, and read their household's
//! attendance and service records.
//!
//! A box names itself with its device id (given at provisioning) and
//! proves it with its device token; a missing, wrong or revoked token is
//! refused with [`OpsError::Device`], which tells the box to be
//! provisioned again (the check is [`Ops::authorize_box`], shared with
//! the fleet's box endpoints). Most records also need the box bound to a
//! household.

use model::{
    Household, HouseholdServices, MemberAttendance, PlaybackBeat, PushEvent, RollCallPrompt,
    SubmissionBatch, SubmissionReceipt,
};

use crate::{Ops, OpsError};

/// Most items accepted in one submission batch.
pub const MAX_SUBMISSIONS: usize = 100;

fn unknown_box(device: &str) -> OpsError {
    OpsError::NotFound(format!(
        "unknown box {device}; bind it to a household on the headend first"
    ))
}

impl Ops {
    /// The household of a box whose token checks out. Blocking.
    pub fn box_household(&self, device: &str, token: Option<&str>) -> Result<Household, OpsError> {
        self.authorize_box(device, token)?;
        self.db
            .household(device)?
            .ok_or_else(|| unknown_box(device))
    }

    /// The prompts of every roll-call open now that someone in
    /// `household` is invited to. Blocking.
    pub fn open_prompts(&self, household: &Household) -> Result<Vec<RollCallPrompt>, OpsError> {
        let now = self.now_ms();
        Ok(self
            .db
            .open_rollcalls(now)?
            .iter()
            .filter_map(|open| open.prompt_for(&household.members, now))
            .collect())
    }

    /// What a box is owed on connecting (and after events may have been
    /// lost): the prompts of the roll-calls open now, then the commands it
    /// has not acknowledged. Boxes ignore a prompt they already have.
    /// Blocking.
    pub fn push_backlog(&self, household: &Household) -> Result<Vec<PushEvent>, OpsError> {
        let mut events: Vec<PushEvent> = self
            .open_prompts(household)?
            .into_iter()
            .map(PushEvent::RollCall)
            .collect();
        events.extend(
            self.db
                .pending_commands(&household.device)?
                .into_iter()
                .map(PushEvent::Command),
        );
        Ok(events)
    }

    /// The open prompts for a box that polls instead of holding the push
    /// channel. Blocking.
    pub fn box_open_prompts(
        &self,
        device: &str,
        token: Option<&str>,
    ) -> Result<Vec<RollCallPrompt>, OpsError> {
        let household = self.box_household(device, token)?;
        self.open_prompts(&household)
    }

    /// Refuses a batch that is too big or from a box whose token does not
    /// check out: what [`Ops::submit`] may then store. Blocking.
    pub fn check_submission(
        &self,
        token: Option<&str>,
        batch: &SubmissionBatch,
    ) -> Result<(), OpsError> {
        if batch.items.len() > MAX_SUBMISSIONS {
            return Err(OpsError::BadRequest(format!(
                "at most {MAX_SUBMISSIONS} items per request"
            )));
        }
        self.authorize_box(&batch.device, token)
    }

    /// Stores a checked batch (see [`Ops::check_submission`]) through the
    /// submission writer: a receipt per item, duplicates answered as
    /// before.
    pub async fn submit(&self, batch: SubmissionBatch) -> Result<Vec<SubmissionReceipt>, OpsError> {
        let device = batch.device.clone();
        self.ingest
            .submit(batch)
            .await?
            .ok_or_else(|| unknown_box(&device))
    }

    /// A box says what live item it is playing, which may clear its
    /// flagged sign-ins. Blocking.
    pub fn playback_beat(&self, token: Option<&str>, beat: &PlaybackBeat) -> Result<(), OpsError> {
        self.box_household(&beat.device, token)?;
        self.db
            .playback_beat(&beat.device, beat.item.as_deref(), self.now_ms())?;
        Ok(())
    }

    /// The attendance records of a box's household. Blocking.
    pub fn box_attendance(
        &self,
        device: &str,
        token: Option<&str>,
    ) -> Result<Vec<MemberAttendance>, OpsError> {
        self.box_household(device, token)?;
        Ok(self.db.household_attendance(device)?)
    }

    /// The service requests, questionnaires and exams of a box's
    /// household. Blocking.
    pub fn box_services(
        &self,
        device: &str,
        token: Option<&str>,
    ) -> Result<HouseholdServices, OpsError> {
        self.box_household(device, token)?;
        Ok(self.db.household_services(device)?)
    }
}
