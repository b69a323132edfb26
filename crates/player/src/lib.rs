//! Playback for the box: the only crate that touches GStreamer.
//!
//! A [`Player`] opens [`Session`]s: one per stream on screen (one full-screen
//! stream, or up to four for the 2x2 camera grid; the limit is
//! [`PlayerConfig::max_decoders`]). Each session runs `playbin3` (RTSP, HLS
//! via `hlsdemux2`, multicast MPEG-TS, local files) into the configured sink:
//! an `appsink` that GStreamer scales to the size the UI draws at, whose
//! frames the UI pulls with [`Session::latest_frame`], or a hardware sink
//! such as `kmssink` on a box with a video plane.
//!
//! What the UI shows about playback comes from [`PlayerEvent`]s, which are
//! made from bus messages (first frame, buffering, errors, end of stream),
//! never from what was last asked for. A watchdog rebuilds a pipeline that
//! stops delivering frames, with backoff, so a camera that drops off comes
//! back by itself. Dropping a session takes its pipeline to `Null` and joins
//! its thread before returning.
//!
//! With the `test-streams` feature, [`streams`] generates real streams on
//! loopback for tests, benches and the demo.

mod bare;
mod config;
mod event;
mod frame;
mod session;
mod source;
#[cfg(feature = "test-streams")]
pub mod streams;
mod worker;

pub use bare::bare_first_buffer;
pub use config::{PlayerConfig, SinkChoice};
pub use event::{PlaybackState, PlayerEvent, Reason};
pub use frame::Frame;
pub use session::{PlayRequest, Player, PlayerError, Session};

/// GStreamer's version, e.g. `1.22.0` (initialises it if needed).
pub fn version() -> String {
    if init().is_err() {
        return "不可用".into();
    }
    let (major, minor, micro, _) = gstreamer::version();
    format!("{major}.{minor}.{micro}")
}

/// Initialises GStreamer once; cheap to call again.
pub fn init() -> Result<(), PlayerError> {
    gstreamer::init().map_err(|e| PlayerError::Init(e.to_string()))
}
