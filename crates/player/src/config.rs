//! What a box integrator sets in `tv.toml` under `[player]`.

use std::time::Duration;

/// Where decoded video goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum SinkChoice {
    /// Frames into the UI through an `appsink`, scaled by GStreamer to the
    /// size they are drawn at. For the desktop, tests and boxes without a
    /// video plane.
    AppSink,
    /// A GStreamer sink description, e.g. `kmssink plane-id=31
    /// can-scale=true`, for boxes that put video on a hardware plane under
    /// the UI. Used as given; the UI then draws nothing where the video is.
    Element { description: String },
    /// Decode and discard (measurements).
    Fake,
}

/// Playback settings of one box.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlayerConfig {
    pub sink: SinkChoice,
    /// Audio sink description; `autoaudiosink` finds the box's output.
    pub audio_sink: String,
    /// Most sessions decoding at once (the 2x2 grid needs 4).
    pub max_decoders: usize,
    /// Seconds without a frame before a playing stream is rebuilt.
    pub stall_secs: f64,
    /// Seconds to wait for the first frame before calling it no signal.
    pub start_timeout_secs: f64,
    /// Longest wait between reconnect attempts.
    pub max_backoff_secs: f64,
    /// RTSP jitter buffer when the item does not set one.
    pub default_latency_ms: u32,
    /// Interface to join multicast groups on (e.g. `eth0`; `lo` in tests).
    pub multicast_iface: Option<String>,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        Self {
            sink: SinkChoice::AppSink,
            audio_sink: "autoaudiosink".into(),
            max_decoders: 4,
            stall_secs: 4.0,
            start_timeout_secs: 10.0,
            max_backoff_secs: 8.0,
            default_latency_ms: 200,
            multicast_iface: None,
        }
    }
}

impl PlayerConfig {
    pub(crate) fn stall(&self) -> Duration {
        Duration::from_secs_f64(self.stall_secs.max(0.5))
    }

    pub(crate) fn start_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.start_timeout_secs.max(1.0))
    }

    /// 0.5 s, 1 s, 2 s, … up to the configured maximum.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let secs = 0.5 * f64::from(1u32 << attempt.min(10));
        Duration::from_secs_f64(secs.min(self.max_backoff_secs.max(0.5)))
    }
}
