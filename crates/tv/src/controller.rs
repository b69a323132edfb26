//! Ties the core, the cache and the Slint window together on the UI thread.

mod fleet;
mod services;
mod signin;

use std::cell::RefCell;

use input::{InputMessage, RemoteKey};
use slint::ComponentHandle;
use store::{BlobState, Cache, Outbox};
use sync::{SyncEvent, SyncSender};

use crate::app::{Nav, NavAction, Screen};
use crate::bridge;
use crate::paging::{self, Metrics, PHOTO_W, PICTURE_H};
use crate::picture::Pictures;
use crate::playback::{Playback, Progress};
use crate::remote_test::{KeySeen, RemoteTest};
use crate::rollcall::RollCalls;
use crate::ui::AppWindow;
use crate::view::{self, BlockView, CacheCounts, View};

pub struct Controller {
    nav: Nav,
    cache: Cache,
    ui: AppWindow,
    scope: String,
    pub remote_test: RemoteTest,
    /// The open detail split into pages, as last laid out.
    detail_pages: Vec<Vec<BlockView>>,
    /// What `detail_pages` was cut from: paging down a long table re-reads
    /// the same blocks and metrics, and need not cut them again.
    paged_from: Option<(Vec<BlockView>, Metrics)>,
    /// An urgent notice on screen over everything until OK.
    popup: Option<String>,
    /// Decoded photos and images, scaled to the size they are drawn at.
    pictures: RefCell<Pictures>,
    /// Streams playing for the screen on show.
    pub(crate) playback: Playback,
    /// Roll-call prompts waiting for an answer (the overlay).
    rollcalls: RollCalls,
    /// Where sign-ins are written before the screen says 已签到; `None` if
    /// it could not be opened (the overlay then says so).
    outbox: Option<Outbox>,
    /// The sync thread, once it runs: outbox flushes and heartbeats.
    sync: Option<SyncSender>,
    /// The live item last reported to sync as playing.
    reported_playing: Option<String>,
    /// Home modules opened since the last use report, and when that was:
    /// written to the outbox once a minute, not on the key that opened them.
    usage: std::collections::BTreeMap<&'static str, u32>,
    usage_reported: std::time::Instant,
    /// Commands from the headend already carried out (by id).
    commands_done: std::collections::HashSet<u64>,
    /// A message from the county centre on screen until OK.
    message: Option<fleet::Message>,
    /// The box's configuration (data directory, headend, player), for
    /// overrides and diagnostics.
    config: crate::Config,
    /// 本机信息与诊断, as last gathered.
    diagnosis: Vec<crate::diagnose::Line>,
    /// A command asked the app to exit with this status (restart).
    exit_requested: Option<i32>,
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Controller {
    pub fn new(
        ui: AppWindow,
        cache: Cache,
        outbox: Option<Outbox>,
        scope: String,
        playback: Playback,
        config: &crate::Config,
    ) -> Controller {
        let mut c = Controller {
            nav: Nav::new(),
            cache,
            ui,
            scope,
            remote_test: RemoteTest::default(),
            detail_pages: Vec::new(),
            paged_from: None,
            popup: None,
            commands_done: Default::default(),
            message: None,
            config: config.clone(),
            diagnosis: Vec::new(),
            exit_requested: None,
            pictures: RefCell::default(),
            playback,
            rollcalls: RollCalls::default(),
            outbox,
            sync: None,
            reported_playing: None,
            usage: std::collections::BTreeMap::new(),
            usage_reported: std::time::Instant::now(),
        };
        c.nav.standard_mode = matches!(c.cache.display_mode(), Ok(Some(m)) if m == "standard");
        bridge::apply_display_mode(&c.ui, c.nav.standard_mode);
        c.refresh();
        c
    }

    /// Connects the sync thread: sign-ins are sent at once, and the live
    /// item on screen is reported.
    pub fn set_sync(&mut self, sync: SyncSender) {
        self.sync = Some(sync);
        self.reported_playing = None;
        self.report_playing();
    }

    pub fn ui(&self) -> &AppWindow {
        &self.ui
    }

    pub fn nav(&self) -> &Nav {
        &self.nav
    }

    /// A key from the desktop keyboard.
    pub fn key(&mut self, key: RemoteKey) {
        if self.rollcall_key(key) || self.message_key(key) || self.popup_key(key) {
            return;
        }
        if self.on_remote_test() {
            self.test_key(KeySeen::from_keyboard(key));
        } else {
            self.act(key);
        }
    }

    /// A message from the evdev service or a replay. The same actions as
    /// the keyboard; only the remote test screen sees the difference.
    pub fn input(&mut self, msg: InputMessage) {
        match msg {
            InputMessage::Key { press, .. } => {
                if press.action.is_some_and(|a| {
                    self.rollcall_key(a) || self.message_key(a) || self.popup_key(a)
                }) {
                    return;
                }
                if self.on_remote_test() {
                    self.test_key(KeySeen::from_press(&press));
                } else if let Some(action) = press.action {
                    self.act(action);
                }
            }
            other => {
                if self.remote_test.device_message(&other) && self.on_remote_test() {
                    self.refresh();
                }
            }
        }
    }

    /// While an urgent notice is up, OK acknowledges it (once per box, kept
    /// in cache.db) and every other key is held back, so it is not missed.
    /// Returns whether the key was taken.
    fn popup_key(&mut self, key: RemoteKey) -> bool {
        let Some(id) = self.popup.clone() else {
            return false;
        };
        if key == RemoteKey::Ok {
            if let Err(e) = self.cache.acknowledge(&id, now_unix()) {
                tracing::warn!(error = %e, "cannot record the acknowledged notice");
            }
            let version = self.cache.item(&id).ok().flatten().map_or(1, |i| i.version);
            let _ = self.cache.mark_opened(&id, version);
            self.popup = None;
            self.refresh();
        }
        true
    }

    fn on_remote_test(&self) -> bool {
        *self.nav.screen() == Screen::RemoteTest
    }

    fn test_key(&mut self, key: KeySeen) {
        if self.remote_test.record(key) {
            self.nav.leave();
        }
        self.refresh();
    }

    fn act(&mut self, key: RemoteKey) {
        let pages = self.detail_pages.len().max(1);
        let changed = self.nav.handle_key(key, &CacheCounts(&self.cache), pages);
        match self.nav.action {
            Some(NavAction::TogglePause) => self.playback.toggle_pause(),
            Some(NavAction::SeekBy(seconds)) => self.playback.seek_by(seconds),
            Some(NavAction::SendRequest) => {
                self.nav.action = None;
                self.send_request();
            }
            Some(NavAction::SubmitForm) => {
                self.nav.action = None;
                self.submit_form(false);
            }
            Some(NavAction::OpenedTile(tile)) => {
                self.nav.action = None;
                self.count_use(tile);
            }
            Some(NavAction::Diagnose) => {
                self.nav.action = None;
                self.diagnose();
            }
            Some(NavAction::StreamTest) => {
                self.nav.action = None;
                self.stream_test();
            }
            Some(NavAction::Reprovision) => {
                self.nav.action = None;
                self.reprovision();
            }
            _ => {}
        }
        if let Some(NavAction::ToggleDisplayMode) = self.nav.action.take() {
            let mode = if self.nav.standard_mode {
                "standard"
            } else {
                "elder"
            };
            if let Err(e) = self.cache.set_display_mode(mode) {
                tracing::warn!(error = %e, "cannot remember the display mode");
            }
            bridge::apply_display_mode(&self.ui, self.nav.standard_mode);
            self.refresh();
        }
        if changed {
            if self.on_remote_test() {
                self.remote_test.reset_session();
            }
            self.mark_opened();
            self.mark_reply_read();
            self.refresh();
        }
    }

    /// An opened detail loses its "new" mark (for this version).
    fn mark_opened(&mut self) {
        let Screen::Detail(id) = self.nav.screen() else {
            return;
        };
        let version = match self.cache.item(id) {
            Ok(Some(item)) => item.version,
            _ => return,
        };
        let id = id.clone();
        if let Err(e) = self.cache.mark_opened(&id, version) {
            tracing::warn!(error = %e, "cannot remember that an item was opened");
        }
    }

    pub fn sync_event(&mut self, event: &SyncEvent) {
        match event {
            SyncEvent::RollCall { prompt, received } => {
                self.offer_rollcall(prompt.clone(), *received);
                return;
            }
            SyncEvent::Delivered(done) => {
                tracing::info!(count = done.len(), "outbox items delivered");
                // The attendance record changed on the headend: fetch it.
                if let Some(sync) = &self.sync {
                    sync.nudge();
                }
                return;
            }
            SyncEvent::OutboxWaiting { .. } => return,
            SyncEvent::Command(command) => {
                self.command(command);
                return;
            }
            _ => {}
        }
        if self.nav.sync_event(event, now_unix()) {
            self.nav.clamp_to(&CacheCounts(&self.cache));
        }
        self.refresh();
    }

    /// The view as the screen shows it now.
    pub fn view(&self) -> View {
        let mut v = self.unpaged_view();
        if v.screen == 3 {
            self.fill_page(&mut v);
        }
        v
    }

    fn fill_page(&self, v: &mut View) {
        let n = self.detail_pages.len();
        let page = v.detail_page.min(n.saturating_sub(1));
        v.detail_page = page;
        v.page_blocks = self.detail_pages.get(page).cloned().unwrap_or_default();
        v.page_text = if n > 1 {
            format!("第 {}/{} 页", page + 1, n)
        } else {
            String::new()
        };
    }

    fn unpaged_view(&self) -> View {
        let mut v = self.built_view();
        self.decorate_playback(&mut v);
        if v.screen == 3 {
            self.resolve_pictures(&mut v.blocks);
        }
        if !v.row_images.is_empty() {
            self.resolve_posters(&mut v);
        }
        if let Some(id) = &self.popup {
            v.popup = view::popup(&self.cache, id, &self.scope).ok().flatten();
        }
        if *self.nav.screen() == Screen::Diagnostics {
            v.rows = self
                .diagnosis
                .iter()
                .map(|l| {
                    (
                        format!("{}{}", if l.problem { "⚠ " } else { "" }, l.label),
                        l.value.clone(),
                    )
                })
                .collect();
            v.row_badges = vec![String::new(); v.rows.len()];
            v.focus = v.rows.len().saturating_sub(1);
        }
        if let Some(message) = &self.message {
            v.popup_badge = "中心消息".into();
            v.popup = Some((
                "县党建中心消息".into(),
                "看完请按确定键".into(),
                message.text.clone(),
            ));
        }
        v
    }

    /// Puts decoded pictures into image blocks, or says why there is none:
    /// still loading (the next sync fetches it), missing, or undecodable.
    fn resolve_pictures(&self, blocks: &mut [BlockView]) {
        let scale = bridge::scale_factor(&self.ui);
        let (body_width, _) = bridge::detail_body(&self.ui);
        let px = |logical: f32| (logical * scale).round().max(1.0) as u32;
        for block in blocks {
            let (sha, picture, status, width, what) = match block {
                BlockView::Image {
                    blob,
                    picture,
                    status,
                    ..
                } => (blob.as_str(), picture, status, body_width, "图片"),
                BlockView::Profile {
                    photo: Some(blob),
                    picture,
                    status,
                    ..
                } => (blob.as_str(), picture, status, PHOTO_W, "照片"),
                _ => continue,
            };
            let cached = |sha: &str| match self.cache.blob(sha) {
                Ok(state) => state,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read an image from the cache");
                    BlobState::Pending
                }
            };
            let got =
                self.pictures
                    .borrow_mut()
                    .get(sha, px(width), px(PICTURE_H), || match cached(sha) {
                        BlobState::Ready(bytes) => Some(bytes),
                        _ => None,
                    });
            *status = match got {
                Some(Ok(p)) => {
                    *picture = Some(p);
                    String::new()
                }
                Some(Err(_)) => format!("{what}无法显示"),
                None if cached(sha) == BlobState::Missing => format!("{what}缺失"),
                None => format!("{what}加载中…"),
            };
        }
    }

    /// Poster thumbnails of a video list; rows without one show text only.
    fn resolve_posters(&self, v: &mut View) {
        let scale = bridge::scale_factor(&self.ui);
        let px = |logical: f32| (logical * scale).round().max(1.0) as u32;
        v.row_pictures = v
            .row_images
            .iter()
            .map(|sha| {
                let sha = sha.as_deref()?;
                let got = self.pictures.borrow_mut().get(
                    sha,
                    px(bridge::POSTER_W),
                    px(bridge::POSTER_H),
                    || match self.cache.blob(sha) {
                        Ok(BlobState::Ready(bytes)) => Some(bytes),
                        _ => None,
                    },
                );
                got.and_then(Result::ok)
            })
            .collect();
    }

    fn built_view(&self) -> View {
        match view::build(&self.nav, &self.cache, &self.scope, &self.remote_test) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the local cache");
                View {
                    status: "本机存储出错".into(),
                    offline: true,
                    offline_text: "本机存储出错，请重启机顶盒；如仍不行请联系安装人员".into(),
                    ..View::default()
                }
            }
        }
    }

    pub fn refresh(&mut self) {
        self.reconcile_playback();
        if self.popup.is_none() {
            match self.cache.pending_urgent() {
                Ok(next) => self.popup = next,
                Err(e) => tracing::warn!(error = %e, "cannot look for urgent notices"),
            }
        }
        let mut v = self.unpaged_view();
        bridge::apply(&self.ui, &v);
        if matches!(v.screen, 8 | 9) {
            for (i, pane) in self.playback.panes().iter().enumerate() {
                bridge::apply_video_frame(&self.ui, v.screen, i, pane.frame().as_deref());
            }
        }
        if v.screen == 3 {
            // Title and meta are set, so the body's height is known now.
            let (width, height) = bridge::detail_body(&self.ui);
            let body = if self.nav.standard_mode { 26.0 } else { 32.0 };
            let metrics = Metrics {
                width,
                height,
                body,
            };
            let same = self
                .paged_from
                .as_ref()
                .is_some_and(|(blocks, m)| *m == metrics && *blocks == v.blocks);
            if !same {
                self.detail_pages = paging::paginate(&v.blocks, metrics);
                self.paged_from = Some((v.blocks.clone(), metrics));
            }
            self.fill_page(&mut v);
            bridge::apply_detail_page(&self.ui, &v);
        }
        self.show_rollcall();
        self.report_playing();
    }
}

impl Controller {
    /// Opens the streams the screen on show needs and closes the rest.
    fn reconcile_playback(&mut self) {
        let wanted = crate::view_media::wanted_streams(&self.nav, &self.cache, now_unix())
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read streams from the cache");
                Vec::new()
            });
        let size = bridge::video_size(&self.ui, wanted.len() > 1);
        let closed = self.playback.reconcile(&wanted, size);
        self.save_progress(&closed);
    }

    fn save_progress(&mut self, progress: &[Progress]) {
        for p in progress {
            if let Err(e) =
                self.cache
                    .save_resume(&p.item_id, p.position_ms, p.duration_ms, now_unix())
            {
                tracing::warn!(error = %e, "cannot remember where the video was");
            }
        }
    }

    /// Playback messages and progress over the player and the grid.
    fn decorate_playback(&self, v: &mut View) {
        let panes = self.playback.panes();
        match v.screen {
            8 => {
                if let Some(pane) = panes.first() {
                    if v.video.message.is_empty() {
                        v.video.message = pane.message();
                    }
                    if !pane.live {
                        if let Some((pos, dur)) = pane.progress_ms() {
                            v.video.progress = format!(
                                "{} / {}",
                                model::format_duration(pos / 1000),
                                model::format_duration(dur / 1000)
                            );
                        }
                    }
                }
            }
            9 => {
                for (view, pane) in v.panes.iter_mut().zip(panes) {
                    view.message = pane.message();
                }
            }
            _ => {}
        }
    }

    /// Applies what the player reported: new pictures go straight to the
    /// screen; state changes rebuild the view's messages.
    pub fn player_events(&mut self) {
        let drained = self.playback.drain();
        self.save_progress(&drained.progress);
        if let Some(sync) = &self.sync {
            let status = sync.status();
            for e in &drained.errors {
                status.error(e);
            }
        }
        let screen = self.ui.global::<crate::ui::AppState>().get_screen();
        if drained.state_changed {
            self.refresh();
        } else if matches!(screen, 8 | 9) {
            for i in drained.frames {
                let frame = self.playback.panes().get(i).and_then(|p| p.frame());
                bridge::apply_video_frame(&self.ui, screen, i, frame.as_deref());
            }
            if screen == 8 {
                // The position moves on; only the progress line changes.
                let mut v = View {
                    screen,
                    ..View::default()
                };
                self.decorate_playback(&mut v);
                bridge::apply_progress(&self.ui, &v.video.progress);
            }
        }
    }

    /// Panes on screen now: (item id, state, time to first picture).
    pub fn playback_panes(
        &self,
    ) -> Vec<(String, player::PlaybackState, Option<std::time::Duration>)> {
        self.playback
            .panes()
            .iter()
            .map(|p| (p.item_id.clone(), p.state, p.first_frame))
            .collect()
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        // Remember where videos were before their sessions stop.
        let closed = self.playback.close_all();
        self.save_progress(&closed);
        self.report_use(true);
    }
}
