//! Playback for the box.
//!
//! This crate will own GStreamer: playback sessions for live meetings (RTSP,
//! HLS, multicast MPEG-TS), service-hall cameras (up to four at once) and
//! video on demand, sinks that bring frames into the UI, and first-frame and
//! buffering events from the bus. Nothing is played yet; see the playback
//! issue. It exists now so the workspace has its final shape.

/// Where a stream comes from, as a content item describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSource {
    Rtsp { url: String },
    Hls { url: String },
    Multicast { group: String, port: u16 },
    File { path: String },
}
