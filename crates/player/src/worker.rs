//! The thread behind a session: runs its pipeline, turns bus messages into
//! events, and rebuilds the pipeline when the picture stops.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::config::PlayerConfig;
use crate::event::{PlaybackState, PlayerEvent, Reason};
use crate::frame::FrameSlot;
use crate::session::{Listener, PlayRequest};
use crate::source::{self, Probe, FIRST_FRAME};

pub(crate) enum Command {
    Play,
    Pause,
    Seek(Duration),
    Resize(u32, u32),
    Stop,
}

/// How long the thread waits on the bus before looking at commands and the
/// watchdog again.
const TICK: Duration = Duration::from_millis(20);
/// Video on demand retries a broken stream this many times, then gives up.
const VOD_RETRIES: u32 = 3;

struct Running {
    pipeline: gst::Element,
    bus: gst::Bus,
    probe: Arc<Probe>,
    size_filter: Option<gst::Element>,
    /// The pipeline said it is live (no preroll): buffering never pauses it.
    live: bool,
}

pub(crate) struct Worker {
    config: Arc<PlayerConfig>,
    request: PlayRequest,
    listener: Listener,
    frames: Arc<FrameSlot>,
    state: Arc<Mutex<PlaybackState>>,
    shared: Arc<Mutex<Option<gst::Element>>>,
    commands: mpsc::Receiver<Command>,
    running: Option<Running>,
    /// Rebuilds since the last picture; 0 while pictures flow.
    attempt: u32,
    /// Pipelines built so far (the first is not a reconnection).
    generation: u32,
    retry_at: Option<Instant>,
    user_paused: bool,
    buffering: bool,
    pending_seek: Option<Duration>,
    last_position: Option<Duration>,
    ever_played: bool,
    finished: bool,
}

impl Worker {
    pub fn new(
        config: Arc<PlayerConfig>,
        request: PlayRequest,
        listener: Listener,
        frames: Arc<FrameSlot>,
        state: Arc<Mutex<PlaybackState>>,
        shared: Arc<Mutex<Option<gst::Element>>>,
        commands: mpsc::Receiver<Command>,
    ) -> Self {
        let pending_seek = request.start_at;
        Self {
            config,
            request,
            listener,
            frames,
            state,
            shared,
            commands,
            running: None,
            attempt: 0,
            generation: 0,
            retry_at: None,
            user_paused: false,
            buffering: false,
            pending_seek,
            last_position: None,
            ever_played: false,
            finished: false,
        }
    }

    pub fn run(mut self) {
        self.start();
        'outer: loop {
            let bus = self.running.as_ref().map(|r| r.bus.clone());
            match bus {
                Some(bus) => {
                    let timeout = gst::ClockTime::from_mseconds(TICK.as_millis() as u64);
                    let mut next = bus.timed_pop(timeout);
                    while let Some(msg) = next {
                        self.on_message(&msg);
                        // The pipeline may have been torn down by the message.
                        next = match &self.running {
                            Some(r) if r.bus == bus => bus.pop(),
                            _ => None,
                        };
                    }
                }
                None => match self.commands.recv_timeout(TICK) {
                    Ok(cmd) => {
                        if !self.on_command(cmd) {
                            break 'outer;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break 'outer,
                },
            }
            loop {
                match self.commands.try_recv() {
                    Ok(cmd) => {
                        if !self.on_command(cmd) {
                            break 'outer;
                        }
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => break 'outer,
                }
            }
            self.watchdog();
        }
        self.teardown();
    }

    fn emit(&self, event: PlayerEvent) {
        (self.listener)(event);
    }

    fn set_state(&self, new: PlaybackState) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if *state != new {
            *state = new;
            drop(state);
            self.emit(PlayerEvent::State(new));
        }
    }

    fn start(&mut self) {
        let probe = Probe::new();
        let built = match source::build(
            &self.config,
            &self.request,
            &probe,
            &self.frames,
            &self.listener,
        ) {
            Ok(built) => built,
            Err(e) => {
                self.finished = true;
                self.emit(PlayerEvent::Error {
                    reason: Reason::Unsupported,
                    detail: e.to_string(),
                });
                self.set_state(PlaybackState::Failed(Reason::Unsupported));
                return;
            }
        };
        self.generation += 1;
        let Some(bus) = built.pipeline.bus() else {
            self.finished = true;
            self.set_state(PlaybackState::Failed(Reason::Other));
            return;
        };
        let target = if self.pending_seek.is_some() || self.user_paused {
            gst::State::Paused
        } else {
            gst::State::Playing
        };
        // A failure here also posts an error on the bus, handled there.
        let live = matches!(
            built.pipeline.set_state(target),
            Ok(gst::StateChangeSuccess::NoPreroll)
        );
        *self.shared.lock().unwrap_or_else(|e| e.into_inner()) = Some(built.pipeline.clone());
        self.running = Some(Running {
            pipeline: built.pipeline,
            bus,
            probe,
            size_filter: built.size_filter,
            live,
        });
        if self.generation == 1 {
            self.set_state(PlaybackState::Connecting);
        }
    }

    fn teardown(&mut self) {
        if let Some(running) = self.running.take() {
            *self.shared.lock().unwrap_or_else(|e| e.into_inner()) = None;
            // Null stops the streaming threads before the pipeline is dropped.
            let _ = running.pipeline.set_state(gst::State::Null);
        }
        self.frames.clear();
    }

    fn on_command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Stop => return false,
            Command::Pause => {
                self.user_paused = true;
                if let Some(r) = &self.running {
                    let _ = r.pipeline.set_state(gst::State::Paused);
                }
            }
            Command::Play => {
                self.user_paused = false;
                if let Some(r) = &self.running {
                    restart_stall_clock(&r.probe);
                    if !self.buffering {
                        let _ = r.pipeline.set_state(gst::State::Playing);
                    }
                }
            }
            Command::Seek(to) => {
                if let Some(r) = &self.running {
                    restart_stall_clock(&r.probe);
                    let flags = gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT;
                    let at = gst::ClockTime::from_nseconds(to.as_nanos() as u64);
                    if r.pipeline.seek_simple(flags, at).is_err() {
                        // Not prerolled yet: seek once it is.
                        self.pending_seek = Some(to);
                    }
                }
            }
            Command::Resize(w, h) => {
                self.request.width = w;
                self.request.height = h;
                if let Some(filter) = self.running.as_ref().and_then(|r| r.size_filter.as_ref()) {
                    filter.set_property("caps", source::size_caps(w, h));
                }
            }
        }
        true
    }

    fn on_message(&mut self, msg: &gst::Message) {
        use gst::MessageView;
        let Some(running) = &self.running else {
            return;
        };
        let from_pipeline = msg.src() == Some(running.pipeline.upcast_ref::<gst::Object>());
        match msg.view() {
            MessageView::Application(app) => {
                let Some(s) = app.structure() else { return };
                if s.name() == FIRST_FRAME {
                    let micros = s.get::<u64>("micros").unwrap_or(0);
                    self.on_first_frame(Duration::from_micros(micros));
                }
            }
            MessageView::Error(err) => {
                let reason = classify(&err.error());
                let origin = msg
                    .src()
                    .map(|s| s.path_string().to_string())
                    .unwrap_or_default();
                let detail = format!(
                    "{origin}: {} ({})",
                    err.error(),
                    err.debug().map(|d| d.to_string()).unwrap_or_default()
                );
                tracing::warn!(url = %self.request.url, %detail, "playback error");
                self.emit(PlayerEvent::Error { reason, detail });
                self.recover(reason);
            }
            MessageView::Eos(_) => {
                if self.request.live {
                    // A live source does not end: the server went away.
                    tracing::info!(url = %self.request.url, "live stream ended; reconnecting");
                    self.recover(Reason::Unreachable);
                } else {
                    self.finished = true;
                    // State first: whoever hears the event sees the state.
                    self.set_state(PlaybackState::Ended);
                    self.emit(PlayerEvent::EndOfStream);
                }
            }
            MessageView::Buffering(b) => {
                let percent = b.percent().clamp(0, 100) as u8;
                self.emit(PlayerEvent::Buffering { percent });
                if running.live {
                    return;
                }
                let pipeline = running.pipeline.clone();
                let probe = running.probe.clone();
                if percent < 100 {
                    self.buffering = true;
                    let _ = pipeline.set_state(gst::State::Paused);
                    self.set_state(PlaybackState::Buffering(percent));
                } else {
                    self.buffering = false;
                    restart_stall_clock(&probe);
                    if !self.user_paused && self.pending_seek.is_none() {
                        let _ = pipeline.set_state(gst::State::Playing);
                    }
                }
            }
            MessageView::StateChanged(change) if from_pipeline => {
                let seen = running.probe.first_seen.load(Ordering::Acquire);
                match change.current() {
                    gst::State::Playing if seen => self.set_state(PlaybackState::Playing),
                    gst::State::Paused if self.user_paused && seen => {
                        self.set_state(PlaybackState::Paused)
                    }
                    _ => {}
                }
            }
            MessageView::AsyncDone(_) => {
                if let Some(to) = self.pending_seek.take() {
                    let pipeline = running.pipeline.clone();
                    let flags = gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT;
                    let at = gst::ClockTime::from_nseconds(to.as_nanos() as u64);
                    if pipeline.seek_simple(flags, at).is_err() {
                        tracing::warn!(url = %self.request.url, ?to, "could not seek to the resume point");
                    }
                    if !self.user_paused {
                        let _ = pipeline.set_state(gst::State::Playing);
                    }
                }
            }
            MessageView::Latency(_) => {
                let _ = running
                    .pipeline
                    .downcast_ref::<gst::Bin>()
                    .map(|bin| bin.recalculate_latency());
            }
            MessageView::Warning(w) => {
                tracing::debug!(url = %self.request.url, warning = %w.error(), "playback warning");
            }
            _ => {}
        }
    }

    fn on_first_frame(&mut self, since_play: Duration) {
        let reconnected = self.generation > 1;
        self.attempt = 0;
        self.ever_played = true;
        if self.user_paused {
            self.set_state(PlaybackState::Paused);
        } else {
            self.set_state(PlaybackState::Playing);
        }
        self.emit(PlayerEvent::FirstFrame {
            since_play,
            reconnected,
        });
    }

    /// The stream failed or stopped: rebuild after a backoff, or give up.
    fn recover(&mut self, reason: Reason) {
        if self.finished {
            return;
        }
        if !self.request.live {
            self.request.start_at = self.last_position;
        }
        let retry = self.request.live || (self.ever_played && self.attempt < VOD_RETRIES);
        self.teardown();
        if !retry {
            self.finished = true;
            self.set_state(PlaybackState::Failed(reason));
            return;
        }
        let after = self.config.backoff(self.attempt);
        self.attempt += 1;
        self.retry_at = Some(Instant::now() + after);
        self.pending_seek = self.request.start_at;
        self.set_state(PlaybackState::Reconnecting);
        self.emit(PlayerEvent::Reconnecting {
            attempt: self.attempt,
            after,
        });
    }

    fn watchdog(&mut self) {
        let Some(running) = &self.running else {
            if let Some(at) = self.retry_at {
                if Instant::now() >= at {
                    self.retry_at = None;
                    self.start();
                }
            }
            return;
        };
        if self.finished {
            return;
        }
        let probe = running.probe.clone();
        let elapsed = probe.started.elapsed();
        if !probe.first_seen.load(Ordering::Acquire) {
            if elapsed > self.config.start_timeout() && !self.user_paused {
                self.emit(PlayerEvent::Error {
                    reason: Reason::NoSignal,
                    detail: format!("no picture within {:?}", self.config.start_timeout()),
                });
                self.recover(Reason::NoSignal);
            }
            return;
        }
        if !self.request.live {
            if let Some(pos) = running.pipeline.query_position::<gst::ClockTime>() {
                self.last_position = Some(Duration::from_nanos(pos.nseconds()));
            }
        }
        if self.user_paused || self.buffering || self.pending_seek.is_some() {
            return;
        }
        let last = Duration::from_millis(probe.last_frame_ms.load(Ordering::Relaxed));
        if elapsed.saturating_sub(last) > self.config.stall() {
            tracing::info!(url = %self.request.url, "no picture for {:?}; rebuilding", self.config.stall());
            self.recover(Reason::NoSignal);
        }
    }
}

/// After a pause, seek or buffering the stall clock starts again, so the
/// time spent waiting is not taken for a dead stream.
fn restart_stall_clock(probe: &Probe) {
    let ms = probe.started.elapsed().as_millis().max(1) as u64;
    probe.last_frame_ms.store(ms, Ordering::Relaxed);
}

fn classify(err: &gst::glib::Error) -> Reason {
    if let Some(e) = err.kind::<gst::ResourceError>() {
        return match e {
            gst::ResourceError::NotFound => Reason::NotFound,
            _ => Reason::Unreachable,
        };
    }
    if let Some(e) = err.kind::<gst::StreamError>() {
        return match e {
            gst::StreamError::CodecNotFound => Reason::Unsupported,
            _ => Reason::BadStream,
        };
    }
    if let Some(gst::CoreError::MissingPlugin) = err.kind::<gst::CoreError>() {
        return Reason::Unsupported;
    }
    Reason::Other
}
