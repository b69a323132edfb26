//! Shared by the playback tests: a player configured for loopback and a
//! way to wait for a session's events.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use player::{PlayRequest, Player, PlayerConfig, PlayerEvent, Session, SinkChoice};

pub fn player(max_decoders: usize) -> Player {
    Player::new(PlayerConfig {
        sink: SinkChoice::AppSink,
        audio_sink: "fakesink".into(),
        max_decoders,
        stall_secs: 2.0,
        start_timeout_secs: 10.0,
        max_backoff_secs: 1.0,
        multicast_iface: Some("lo".into()),
        ..PlayerConfig::default()
    })
    .expect("gstreamer starts")
}

pub fn request(url: &str, live: bool, size: (u32, u32)) -> PlayRequest {
    PlayRequest {
        url: url.to_string(),
        latency_ms: None,
        rtsp_udp: false,
        live,
        start_at: None,
        width: size.0,
        height: size.1,
    }
}

/// A session with its events on a channel.
pub struct Watched {
    pub session: Session,
    events: mpsc::Receiver<PlayerEvent>,
    pub seen: Vec<PlayerEvent>,
}

pub fn open(player: &Player, req: PlayRequest) -> Watched {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let session = player
        .open(req, move |event| {
            if event != PlayerEvent::Frame {
                let _ = tx.lock().map(|tx| tx.send(event));
            }
        })
        .expect("session opens");
    Watched {
        session,
        events: rx,
        seen: Vec::new(),
    }
}

impl Watched {
    /// The first event (from now on) that `pred` accepts, or `None` after
    /// `timeout` (a generous bound: it guards against hangs, not speed).
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&PlayerEvent) -> bool,
    ) -> Option<PlayerEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let event = self.events.recv_timeout(left).ok()?;
            self.seen.push(event.clone());
            if pred(&event) {
                return Some(event);
            }
        }
    }

    pub fn first_frame(&mut self) -> Option<Duration> {
        match self.wait_for(Duration::from_secs(30), |e| {
            matches!(e, PlayerEvent::FirstFrame { .. })
        })? {
            PlayerEvent::FirstFrame { since_play, .. } => Some(since_play),
            _ => None,
        }
    }
}

/// Distinct colours in a frame, sampled: a real picture has many.
pub fn colours(frame: &player::Frame) -> usize {
    let mut seen = std::collections::HashSet::new();
    for px in frame.rgb.chunks_exact(3).step_by(97) {
        seen.insert((px[0], px[1], px[2]));
    }
    seen.len()
}

/// Open file descriptors, threads and resident memory of this process.
pub fn process_usage() -> (usize, usize, u64) {
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (fds, field("Threads:") as usize, field("VmRSS:") * 1024)
}
