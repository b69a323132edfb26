//! The floor for measurements: a bare `playbin3` into a `fakesink`.

use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::PlayerError;

/// Time from building and starting the pipeline to the first buffer reaching a plain fakesink, with
/// none of this crate's machinery; `None` on error or after `timeout`.
/// `multicast_iface` is set on a multicast source, as a session would.
pub fn bare_first_buffer(
    url: &str,
    timeout: Duration,
    multicast_iface: Option<&str>,
) -> Result<Option<Duration>, PlayerError> {
    crate::init()?;
    // From "play" like a session: building the pipeline counts too.
    let started = Instant::now();
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", true)
        .build()
        .map_err(|e| PlayerError::Init(e.to_string()))?;
    let audio = gst::ElementFactory::make("fakesink")
        .build()
        .map_err(|e| PlayerError::Init(e.to_string()))?;
    let playbin = gst::ElementFactory::make("playbin3")
        .property("uri", url)
        .property("video-sink", &sink)
        .property("audio-sink", &audio)
        .build()
        .map_err(|e| PlayerError::Init(e.to_string()))?;
    // Same decoder settings as a session, so the comparison is fair.
    crate::source::tune_decoders(&playbin);
    if let Some(iface) = multicast_iface.map(str::to_string) {
        playbin.connect("source-setup", false, move |args| {
            let source = args.get(1).and_then(|v| v.get::<gst::Element>().ok())?;
            if source.has_property("multicast-iface") {
                source.set_property("multicast-iface", &iface);
            }
            None
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(pad) = sink.static_pad("sink") {
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            let _ = tx.send(Instant::now());
            gst::PadProbeReturn::Remove
        });
    }
    let _ = playbin.set_state(gst::State::Playing);
    let first = rx.recv_timeout(timeout).ok().map(|t| t - started);
    let _ = playbin.set_state(gst::State::Null);
    Ok(first)
}
