//! The public handle: open a stream, control it, read its frames, drop it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::config::PlayerConfig;
use crate::event::{PlaybackState, PlayerEvent};
use crate::frame::{Frame, FrameSlot};
use crate::worker::{Command, Worker};

/// Receives a session's events, on the session's thread or a streaming thread.
pub(crate) type Listener = Arc<dyn Fn(PlayerEvent) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    #[error("gstreamer could not start: {0}")]
    Init(String),
    #[error("{max} streams are already playing; close one before opening another")]
    TooManyDecoders { max: usize },
    #[error("{url:?} is not a stream address this box can play")]
    BadUrl { url: String },
    #[error("could not start the playback thread: {0}")]
    Thread(String),
}

/// What to play and at what size.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayRequest {
    /// Absolute URL (resolve headend paths first).
    pub url: String,
    pub latency_ms: Option<u32>,
    pub rtsp_udp: bool,
    /// Live sources (cameras, meetings) reconnect forever; others give up.
    pub live: bool,
    /// Where to start a video on demand.
    pub start_at: Option<Duration>,
    /// Size the picture is drawn at, in physical pixels.
    pub width: u32,
    pub height: u32,
}

impl PlayRequest {
    /// From a content item's stream, drawn at `width` x `height`.
    pub fn from_spec(
        spec: &model::StreamSpec,
        headend_base: &str,
        live: bool,
        (width, height): (u32, u32),
    ) -> Self {
        Self {
            url: spec.resolve(headend_base),
            latency_ms: spec.latency_ms,
            rtsp_udp: spec.rtsp_udp,
            live,
            start_at: None,
            width,
            height,
        }
    }
}

/// Opens sessions within the decoder budget.
#[derive(Clone)]
pub struct Player {
    config: Arc<PlayerConfig>,
    active: Arc<AtomicUsize>,
    next_id: Arc<AtomicU64>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("active", &self.active.load(Ordering::Relaxed))
            .finish()
    }
}

impl Player {
    pub fn new(config: PlayerConfig) -> Result<Self, PlayerError> {
        crate::init()?;
        Ok(Self {
            config: Arc::new(config),
            active: Arc::new(AtomicUsize::new(0)),
            next_id: Arc::new(AtomicU64::new(1)),
        })
    }

    pub fn config(&self) -> &PlayerConfig {
        &self.config
    }

    /// Sessions open now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Starts playing. Events go to `listener` until the session is dropped.
    pub fn open(
        &self,
        request: PlayRequest,
        listener: impl Fn(PlayerEvent) + Send + Sync + 'static,
    ) -> Result<Session, PlayerError> {
        if !looks_like_uri(&request.url) {
            return Err(PlayerError::BadUrl { url: request.url });
        }
        let max = self.config.max_decoders.max(1);
        let taken = self
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(PlayerError::TooManyDecoders { max });
        }
        let slot = DecoderSlot(self.active.clone());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frames = Arc::new(FrameSlot::default());
        let state = Arc::new(Mutex::new(PlaybackState::Connecting));
        let pipeline = Arc::new(Mutex::new(None));
        let (tx, rx) = mpsc::channel();
        let worker = Worker::new(
            self.config.clone(),
            request,
            Arc::new(listener),
            frames.clone(),
            state.clone(),
            pipeline.clone(),
            rx,
        );
        let thread = std::thread::Builder::new()
            .name(format!("player-{id}"))
            .spawn(move || worker.run())
            .map_err(|e| PlayerError::Thread(e.to_string()))?;
        Ok(Session {
            id,
            commands: tx,
            thread: Some(thread),
            frames,
            state,
            pipeline,
            _slot: slot,
        })
    }
}

/// `scheme://rest` with a plain scheme; playbin3 finds the source by scheme.
fn looks_like_uri(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
        }
        None => false,
    }
}

/// Gives a decoder back when the session goes.
struct DecoderSlot(Arc<AtomicUsize>);

impl Drop for DecoderSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One stream playing. Dropping it stops it: the pipeline goes to `Null`
/// and the session's thread is joined before `drop` returns.
pub struct Session {
    id: u64,
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
    frames: Arc<FrameSlot>,
    state: Arc<Mutex<PlaybackState>>,
    pipeline: Arc<Mutex<Option<gst::Element>>>,
    _slot: DecoderSlot,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("state", &self.state())
            .finish()
    }
}

impl Session {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The newest picture (appsink only); `None` before the first one and
    /// while reconnecting.
    pub fn latest_frame(&self) -> Option<Arc<Frame>> {
        self.frames.get()
    }

    /// Playback as the bus last reported it.
    pub fn state(&self) -> PlaybackState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn pause(&self) {
        let _ = self.commands.send(Command::Pause);
    }

    pub fn resume(&self) {
        let _ = self.commands.send(Command::Play);
    }

    pub fn seek(&self, to: Duration) {
        let _ = self.commands.send(Command::Seek(to));
    }

    /// The UI drew the picture at a new size; GStreamer rescales to it.
    pub fn set_size(&self, width: u32, height: u32) {
        let _ = self.commands.send(Command::Resize(width, height));
    }

    pub fn position(&self) -> Option<Duration> {
        self.query(|p| p.query_position::<gst::ClockTime>())
    }

    pub fn duration(&self) -> Option<Duration> {
        self.query(|p| p.query_duration::<gst::ClockTime>())
    }

    fn query(&self, f: impl Fn(&gst::Element) -> Option<gst::ClockTime>) -> Option<Duration> {
        let guard = self.pipeline.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .and_then(f)
            .map(|t| Duration::from_nanos(t.nseconds()))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.frames.clear();
    }
}
