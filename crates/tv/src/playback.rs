//! The controller's side of playback: which sessions are open for the
//! screen on show, their state as the player's events report it, and the
//! newest picture of each.
//!
//! Events arrive on GStreamer threads. They are queued here and a `notify`
//! callback asks the UI thread to drain them (the window uses
//! `slint::invoke_from_event_loop`; headless tests drain them themselves),
//! so every change to what is shown happens on the UI thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use model::StreamSpec;
use player::{Frame, PlayRequest, PlaybackState, Player, PlayerConfig, PlayerEvent, Session};

/// Asks the UI thread to call [`Playback::drain`] soon.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// How often a playing video's position is written to cache.db, so a
/// power cut loses at most this much of "where was I".
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// One stream on screen.
pub struct Pane {
    pub item_id: String,
    pub live: bool,
    session: Option<Session>,
    pub state: PlaybackState,
    /// Why it could not even start (no decoder left, bad address).
    pub open_error: Option<String>,
    /// Time from "play" to the first picture, once there is one.
    pub first_frame: Option<Duration>,
    saved_at: Instant,
}

impl Pane {
    /// What to show over the picture, if anything.
    pub fn message(&self) -> String {
        if let Some(e) = &self.open_error {
            return e.clone();
        }
        self.state.message().unwrap_or_default().to_string()
    }

    pub fn frame(&self) -> Option<Arc<Frame>> {
        self.session.as_ref().and_then(Session::latest_frame)
    }

    /// (position, duration) in milliseconds of a video on demand.
    pub fn progress_ms(&self) -> Option<(u64, u64)> {
        let s = self.session.as_ref()?;
        let pos = s.position()?.as_millis() as u64;
        let dur = s.duration()?.as_millis() as u64;
        (dur > 0).then_some((pos, dur))
    }
}

/// A video pane that closed, for the resume table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub item_id: String,
    pub position_ms: u64,
    pub duration_ms: u64,
}

/// What a drain found.
#[derive(Debug, Default)]
pub struct Drained {
    /// Pane states changed: the view's messages need rebuilding.
    pub state_changed: bool,
    /// Panes with a new picture.
    pub frames: Vec<usize>,
    /// Videos to remember the position of (periodic saves, ends).
    pub progress: Vec<Progress>,
    /// Stream errors, for the heartbeat's recent errors.
    pub errors: Vec<String>,
}

type Queued = (u64, usize, PlayerEvent);

pub struct Playback {
    player: Result<Player, String>,
    headend: String,
    panes: Vec<Pane>,
    sender: mpsc::Sender<Queued>,
    events: mpsc::Receiver<Queued>,
    /// Taken off the channel by [`Playback::wait`], not applied yet.
    waited: Vec<Queued>,
    /// Bumped whenever the panes are replaced; older events are ignored.
    generation: u64,
    notify: Notify,
    scheduled: Arc<AtomicBool>,
}

/// A stream the screen wants: (item id, stream, live, start in ms).
pub type Wanted = (String, StreamSpec, bool, u64);

impl Playback {
    pub fn new(config: &PlayerConfig, headend: &str, notify: Notify) -> Playback {
        let player = Player::new(config.clone()).map_err(|e| {
            tracing::error!(error = %e, "playback is unavailable");
            "播放组件无法启动，请重启机顶盒".to_string()
        });
        let (sender, events) = mpsc::channel();
        Playback {
            player,
            headend: headend.to_string(),
            panes: Vec::new(),
            sender,
            events,
            waited: Vec::new(),
            generation: 0,
            notify,
            scheduled: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn panes(&self) -> &[Pane] {
        &self.panes
    }

    /// Opens and closes sessions so exactly `wanted` plays, each drawn at
    /// `size` physical pixels. Returns the progress of videos it closed.
    pub fn reconcile(&mut self, wanted: &[Wanted], size: (u32, u32)) -> Vec<Progress> {
        let same = wanted.len() == self.panes.len()
            && wanted
                .iter()
                .zip(&self.panes)
                .all(|(w, p)| w.0 == p.item_id);
        if same {
            return Vec::new();
        }
        let closed = self.close_all();
        self.generation += 1;
        for (index, (id, spec, live, start_ms)) in wanted.iter().enumerate() {
            let pane = self.open_pane(index, id, spec, *live, *start_ms, size);
            self.panes.push(pane);
        }
        closed
    }

    fn open_pane(
        &self,
        index: usize,
        id: &str,
        spec: &StreamSpec,
        live: bool,
        start_ms: u64,
        size: (u32, u32),
    ) -> Pane {
        let mut pane = Pane {
            item_id: id.to_string(),
            live,
            session: None,
            state: PlaybackState::Connecting,
            open_error: None,
            first_frame: None,
            saved_at: Instant::now(),
        };
        let player = match &self.player {
            Ok(p) => p,
            Err(message) => {
                pane.open_error = Some(message.clone());
                return pane;
            }
        };
        let mut request = PlayRequest::from_spec(spec, &self.headend, live, size);
        request.start_at = (start_ms > 0).then(|| Duration::from_millis(start_ms));
        let sender = std::sync::Mutex::new(self.sender.clone());
        let notify = self.notify.clone();
        let scheduled = self.scheduled.clone();
        let generation = self.generation;
        let opened = player.open(request, move |event| {
            if let Ok(sender) = sender.lock() {
                let _ = sender.send((generation, index, event));
            }
            if !scheduled.swap(true, Ordering::AcqRel) {
                notify();
            }
        });
        match opened {
            Ok(session) => pane.session = Some(session),
            Err(e) => {
                tracing::warn!(error = %e, item = id, "cannot open a stream");
                pane.open_error = Some(match e {
                    player::PlayerError::TooManyDecoders { .. } => {
                        "同时播放的画面太多，请先关闭一个".into()
                    }
                    player::PlayerError::BadUrl { .. } => "节目地址有误，请联系村里".into(),
                    _ => "播放组件无法启动，请重启机顶盒".into(),
                });
            }
        }
        pane
    }

    /// Closes every pane (pipelines go to Null before this returns).
    pub fn close_all(&mut self) -> Vec<Progress> {
        let progress = self
            .panes
            .iter()
            .filter(|p| !p.live)
            .filter_map(|p| {
                p.progress_ms().map(|(position_ms, duration_ms)| Progress {
                    item_id: p.item_id.clone(),
                    position_ms,
                    duration_ms,
                })
            })
            .collect();
        self.panes.clear();
        progress
    }

    /// Applies queued events.
    pub fn drain(&mut self) -> Drained {
        self.scheduled.store(false, Ordering::Release);
        let mut out = Drained::default();
        let waited = std::mem::take(&mut self.waited);
        let queued = waited
            .into_iter()
            .chain(std::iter::from_fn(|| self.events.try_recv().ok()));
        for (generation, index, event) in queued.collect::<Vec<_>>() {
            if generation != self.generation {
                continue;
            }
            let Some(pane) = self.panes.get_mut(index) else {
                continue;
            };
            match event {
                PlayerEvent::Frame if !out.frames.contains(&index) => out.frames.push(index),
                PlayerEvent::FirstFrame { since_play, .. } => {
                    pane.first_frame.get_or_insert(since_play);
                }
                PlayerEvent::State(state) => {
                    pane.state = state;
                    out.state_changed = true;
                    if state == PlaybackState::Ended {
                        if let Some((_, duration_ms)) = pane.progress_ms() {
                            out.progress.push(Progress {
                                item_id: pane.item_id.clone(),
                                position_ms: duration_ms,
                                duration_ms,
                            });
                        }
                    }
                }
                PlayerEvent::Error { reason, detail } => {
                    tracing::info!(item = %pane.item_id, ?reason, %detail, "stream error");
                    out.errors
                        .push(format!("{}: {}", pane.item_id, reason.message()));
                }
                _ => {}
            }
        }
        for pane in self.panes.iter_mut().filter(|p| !p.live) {
            if pane.state == PlaybackState::Playing && pane.saved_at.elapsed() >= SAVE_EVERY {
                pane.saved_at = Instant::now();
                if let Some((position_ms, duration_ms)) = pane.progress_ms() {
                    out.progress.push(Progress {
                        item_id: pane.item_id.clone(),
                        position_ms,
                        duration_ms,
                    });
                }
            }
        }
        out
    }

    /// Blocks up to `timeout` for the next event and keeps it for
    /// [`Playback::drain`]; for headless use, where no event loop runs.
    pub fn wait(&mut self, timeout: Duration) {
        if let Ok(event) = self.events.recv_timeout(timeout) {
            self.waited.push(event);
        }
    }

    pub fn toggle_pause(&self) {
        for pane in &self.panes {
            if let Some(s) = &pane.session {
                match pane.state {
                    PlaybackState::Paused => s.resume(),
                    _ => s.pause(),
                }
            }
        }
    }

    pub fn seek_by(&self, seconds: i32) {
        for pane in self.panes.iter().filter(|p| !p.live) {
            if let (Some(s), Some((pos, dur))) = (&pane.session, pane.progress_ms()) {
                let target = (pos as i64 + i64::from(seconds) * 1000).clamp(0, dur as i64 - 1000);
                s.seek(Duration::from_millis(target.max(0) as u64));
            }
        }
    }
}
