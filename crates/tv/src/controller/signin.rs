//! The roll-call overlay on the UI thread: prompts from sync, keys while it
//! is up, sign-ins written to the outbox before the screen says 已签到, and
//! the playback heartbeat that tells the headend the meeting is on screen.

use std::time::Instant;

use input::RemoteKey;
use model::{RollCallPrompt, SignIn, SIGN_IN_KIND};

use super::{now_unix, Controller};
use crate::bridge;
use crate::rollcall::OverlayAction;
use crate::view::clock;

impl Controller {
    /// The live item playing on screen now (from the player's own events).
    pub(crate) fn live_playing(&self) -> Option<String> {
        self.playback
            .panes()
            .iter()
            .find(|p| p.live && p.state == player::PlaybackState::Playing)
            .map(|p| p.item_id.clone())
    }

    /// A prompt arrived from the headend.
    pub(super) fn offer_rollcall(&mut self, prompt: RollCallPrompt, received: Instant) {
        let signed: Vec<String> = self
            .cache
            .signed(&prompt.rollcall)
            .unwrap_or_default()
            .into_iter()
            .map(|(member, _)| member)
            .collect();
        if self.rollcalls.offer(prompt, received, &signed) {
            self.show_rollcall();
        }
    }

    /// Keys go to the overlay while it is up; the red key brings back a
    /// prompt that was put away. Returns whether the key was taken.
    pub(super) fn rollcall_key(&mut self, key: RemoteKey) -> bool {
        if !self.rollcalls.visible() {
            if key == RemoteKey::Red && self.rollcalls.reopen() {
                self.show_rollcall();
                return true;
            }
            return false;
        }
        let now = Instant::now();
        let playing = self.live_playing();
        match self.rollcalls.key(key, playing.as_deref(), now) {
            OverlayAction::None => {}
            OverlayAction::Watch(item) => {
                if self.nav.watch_live(&item) {
                    self.refresh();
                }
            }
            OverlayAction::SignIn {
                rollcall,
                members,
                elapsed_ms,
            } => self.sign_in(&rollcall, &members, elapsed_ms, now),
        }
        self.show_rollcall();
        true
    }

    /// Writes each sign-in durably, then says 已签到. If any write fails,
    /// the screen says so and the person can press again; nothing is shown
    /// as done that is not on disk.
    fn sign_in(
        &mut self,
        rollcall: &str,
        members: &[(String, String)],
        elapsed_ms: u64,
        now: Instant,
    ) {
        let Some(outbox) = self.outbox.as_mut() else {
            self.rollcalls
                .failed(rollcall, "本机存储出错，签到没有保存，请联系安装人员");
            return;
        };
        let at = now_unix();
        let mut saved = Vec::new();
        for (id, _) in members {
            let payload = SignIn {
                rollcall: rollcall.to_string(),
                member: id.clone(),
                elapsed_ms,
            };
            let written = serde_json::to_value(&payload)
                .map_err(|e| e.to_string())
                .and_then(|p| {
                    outbox
                        .enqueue(SIGN_IN_KIND, &p, at)
                        .map_err(|e| e.to_string())
                });
            match written {
                Ok(_) => saved.push(id.clone()),
                Err(e) => {
                    tracing::error!(error = %e, "cannot write a sign-in to the outbox");
                    break;
                }
            }
        }
        for id in &saved {
            if let Err(e) = self.cache.mark_signed(rollcall, id, at) {
                tracing::warn!(error = %e, "cannot remember the sign-in in the cache");
            }
        }
        if saved.len() < members.len() {
            self.rollcalls
                .failed(rollcall, "签到没有保存成功，请再按一次“确定”");
        }
        if !saved.is_empty() {
            let names: Vec<&str> = members
                .iter()
                .filter(|(id, _)| saved.contains(id))
                .map(|(_, name)| name.as_str())
                .collect();
            let text = format!("已签到：{}  {}", names.join("、"), clock(at));
            self.rollcalls.signed(rollcall, &saved, text, now);
            if let Some(sync) = &self.sync {
                sync.flush_outbox();
            }
        }
    }

    /// Once a second while a prompt is held: the countdown, and prompts
    /// that are done or expired go away.
    pub fn tick(&mut self) {
        if self.rollcalls.tick(Instant::now()) {
            self.show_rollcall();
        }
        self.tick_form();
        self.report_use(false);
    }

    pub(super) fn show_rollcall(&self) {
        let view = self
            .rollcalls
            .view(self.live_playing().as_deref(), Instant::now());
        bridge::apply_rollcall(&self.ui, view.as_ref());
    }

    /// Tells sync which live item is on screen, for the heartbeat.
    pub(super) fn report_playing(&mut self) {
        let playing = self.live_playing();
        if playing != self.reported_playing {
            if let Some(sync) = &self.sync {
                sync.playing(playing.clone());
            }
            self.reported_playing = playing;
        }
    }
}
