//! Building one pipeline: `playbin3` for the source, the configured sink.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;

use crate::config::{PlayerConfig, SinkChoice};
use crate::event::PlayerEvent;
use crate::frame::FrameSlot;
use crate::session::{Listener, PlayRequest};

/// Name of the application message the sink posts on its first picture.
pub(crate) const FIRST_FRAME: &str = "dangjian-first-frame";

/// What the streaming threads share with the worker for one pipeline.
pub(crate) struct Probe {
    /// When this pipeline was asked to play.
    pub started: Instant,
    /// Milliseconds since `started` of the newest picture (0: none yet).
    pub last_frame_ms: AtomicU64,
    pub first_seen: AtomicBool,
}

impl Probe {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            last_frame_ms: AtomicU64::new(0),
            first_seen: AtomicBool::new(false),
        })
    }

    /// Records a picture; on the first one, posts [`FIRST_FRAME`] on the bus
    /// so the worker learns of it the same way as of everything else.
    fn saw_frame(&self, element: &gst::Element) {
        let ms = self.started.elapsed().as_millis().max(1) as u64;
        self.last_frame_ms.store(ms, Ordering::Relaxed);
        if !self.first_seen.swap(true, Ordering::AcqRel) {
            let micros = self.started.elapsed().as_micros() as u64;
            let s = gst::Structure::builder(FIRST_FRAME)
                .field("micros", micros)
                .build();
            let _ = element.post_message(gst::message::Application::new(s));
        }
    }
}

pub(crate) struct Built {
    pub pipeline: gst::Element,
    /// The scaling caps filter of the appsink path, for resizes.
    pub size_filter: Option<gst::Element>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildError {
    #[error("gstreamer element {0} is missing; install the gstreamer1.0-plugins packages")]
    Missing(&'static str),
    #[error("sink description {description:?} does not parse: {why}")]
    Sink { description: String, why: String },
}

pub(crate) fn size_caps(width: u32, height: u32) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("format", "RGB")
        .field("width", width.max(2) as i32)
        .field("height", height.max(2) as i32)
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
        .build()
}

pub(crate) fn build(
    config: &PlayerConfig,
    req: &PlayRequest,
    probe: &Arc<Probe>,
    frames: &Arc<FrameSlot>,
    listener: &Listener,
) -> Result<Built, BuildError> {
    let playbin = gst::ElementFactory::make("playbin3")
        .property("uri", &req.url)
        .build()
        .map_err(|_| BuildError::Missing("playbin3"))?;
    let (sink, size_filter) = video_sink(config, req, probe, frames, listener)?;
    playbin.set_property("video-sink", &sink);
    let audio = gst::parse::bin_from_description(&config.audio_sink, true)
        .map(|b| b.upcast::<gst::Element>())
        .or_else(|_| gst::ElementFactory::make("fakesink").build())
        .map_err(|_| BuildError::Missing("fakesink"))?;
    playbin.set_property("audio-sink", &audio);

    // Source settings come from the item (latency, transport) and the box
    // (multicast interface), applied when playbin3 creates the source.
    let latency = req.latency_ms.unwrap_or(config.default_latency_ms);
    let tcp = !req.rtsp_udp;
    let iface = config.multicast_iface.clone();
    playbin.connect("source-setup", false, move |args| {
        let source = args.get(1).and_then(|v| v.get::<gst::Element>().ok())?;
        let factory = source.factory().map(|f| f.name().to_string());
        match factory.as_deref() {
            Some("rtspsrc") => {
                source.set_property("latency", latency);
                // 4 = TCP; 1|2|4 lets rtspsrc fall back from UDP.
                source.set_property_from_str("protocols", if tcp { "tcp" } else { "udp+tcp" });
                source.set_property("drop-on-latency", true);
                source.set_property("tcp-timeout", 5_000_000u64);
            }
            Some("udpsrc") => {
                if let Some(iface) = &iface {
                    source.set_property("multicast-iface", iface);
                }
                source.set_property("buffer-size", 2_097_152i32);
            }
            Some("souphttpsrc") => {
                source.set_property("timeout", 5u32);
                source.set_property("retries", 1i32);
            }
            _ => {}
        }
        None
    });
    tune_decoders(&playbin);
    Ok(Built {
        pipeline: playbin,
        size_filter,
    })
}

/// Decoder settings every pipeline gets. Joining a live stream between
/// keyframes makes software decoders emit smeared grey-green pictures until
/// the next keyframe; they must not be shown (nor counted as the first
/// picture). And playbin3's software deinterlacer, colour balance and
/// subtitle overlay are left out: they cost a small box CPU for nothing.
pub(crate) fn tune_decoders(pipeline: &gst::Element) {
    pipeline.set_property_from_str("flags", "video+audio+soft-volume");
    let Some(bin) = pipeline.downcast_ref::<gst::Bin>() else {
        return;
    };
    bin.connect_deep_element_added(|_, _, element| {
        let is_libav = element
            .factory()
            .is_some_and(|f| f.name().starts_with("avdec_"));
        if is_libav && element.has_property("output-corrupt") {
            element.set_property("output-corrupt", false);
        }
        // Slice threading loses slices of RTP H.264 that carries several
        // slices per picture (x264's zerolatency, many encoders): the top
        // of the picture stays grey-green. Frame threading decodes it whole.
        if is_libav && element.has_property("thread-type") {
            element.set_property_from_str("thread-type", "frame");
        }
    });
}

fn video_sink(
    config: &PlayerConfig,
    req: &PlayRequest,
    probe: &Arc<Probe>,
    frames: &Arc<FrameSlot>,
    listener: &Listener,
) -> Result<(gst::Element, Option<gst::Element>), BuildError> {
    match &config.sink {
        SinkChoice::AppSink => app_sink(req, probe, frames, listener),
        SinkChoice::Element { description } => {
            let bin = gst::parse::bin_from_description(description, true).map_err(|e| {
                BuildError::Sink {
                    description: description.clone(),
                    why: e.to_string(),
                }
            })?;
            watch_sink_pad(&bin.clone().upcast(), probe);
            Ok((bin.upcast(), None))
        }
        SinkChoice::Fake => {
            let sink = gst::ElementFactory::make("fakesink")
                .property("sync", true)
                .build()
                .map_err(|_| BuildError::Missing("fakesink"))?;
            watch_sink_pad(&sink, probe);
            Ok((sink, None))
        }
    }
}

/// For sinks we cannot see into: a picture counts when it enters the sink.
fn watch_sink_pad(sink: &gst::Element, probe: &Arc<Probe>) {
    let Some(pad) = sink.static_pad("sink") else {
        return;
    };
    let probe = probe.clone();
    let element = sink.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        probe.saw_frame(&element);
        gst::PadProbeReturn::Ok
    });
}

fn app_sink(
    req: &PlayRequest,
    probe: &Arc<Probe>,
    frames: &Arc<FrameSlot>,
    listener: &Listener,
) -> Result<(gst::Element, Option<gst::Element>), BuildError> {
    let make = |name: &'static str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|_| BuildError::Missing(name))
    };
    let bin = gst::Bin::new();
    // Colour conversion and scaling in one pass where GStreamer has it
    // (1.22+): one walk over each picture instead of two.
    let mut chain = match gst::ElementFactory::make("videoconvertscale").build() {
        Ok(both) => vec![both],
        Err(_) => vec![make("videoconvert")?, make("videoscale")?],
    };
    if let Some(scaler) = chain.last() {
        // Letterbox rather than stretch when the stream's shape differs.
        scaler.set_property("add-borders", true);
    }
    // A 720p picture converted on one core costs a few milliseconds per
    // frame; split it across the box's cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4)) as u32;
    for element in &chain {
        if element.has_property("n-threads") {
            element.set_property("n-threads", cores);
        }
    }
    let filter = gst::ElementFactory::make("capsfilter")
        .property("caps", size_caps(req.width, req.height))
        .build()
        .map_err(|_| BuildError::Missing("capsfilter"))?;
    // One buffer, dropped when the UI is behind; no last-sample kept, so a
    // stopped stream never shows an old picture as if it were live.
    let appsink = gst_app::AppSink::builder()
        .max_buffers(1)
        .drop(true)
        .sync(true)
        .enable_last_sample(false)
        .build();
    chain.push(filter.clone());
    chain.push(appsink.clone().upcast());
    let missing = |_| BuildError::Missing("videoconvert");
    bin.add_many(&chain).map_err(missing)?;
    gst::Element::link_many(&chain).map_err(missing)?;
    let pad = chain[0]
        .static_pad("sink")
        .ok_or(BuildError::Missing("videoconvert"))?;
    let ghost = gst::GhostPad::with_target(&pad).map_err(missing)?;
    bin.add_pad(&ghost).map_err(missing)?;

    // A live sink waits out the pipeline latency (the jitter buffer, the
    // demuxer's PCR margin) before it presents a picture in sync. The first
    // picture is shown the moment it is decoded instead, so a zap shows the
    // new channel at once; the synced pictures follow from the second one.
    // (A video on demand prerolls and is presented at once anyway.)
    let pad = appsink.static_pad("sink").filter(|_| req.live);
    if let Some(pad) = pad {
        let probe = probe.clone();
        let frames = frames.clone();
        let listener = listener.clone();
        // The sink is found through the pad: holding it here would make
        // sink -> pad -> probe -> sink a cycle that never frees.
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            if probe.first_seen.load(Ordering::Acquire) {
                return gst::PadProbeReturn::Remove;
            }
            let Some(sink) = pad.parent_element() else {
                return gst::PadProbeReturn::Ok;
            };
            let put = pad
                .current_caps()
                .zip(info.buffer())
                .and_then(|(caps, buffer)| put_frame(&frames, &caps, buffer));
            if put.is_some() {
                probe.saw_frame(&sink);
                listener(PlayerEvent::Frame);
            }
            gst::PadProbeReturn::Ok
        });
    }
    let probe = probe.clone();
    let frames = frames.clone();
    let listener = listener.clone();
    appsink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let put = sample
                    .caps()
                    .zip(sample.buffer())
                    .and_then(|(caps, buffer)| put_frame(&frames, caps, buffer));
                if put.is_some() {
                    probe.saw_frame(sink.upcast_ref());
                    listener(PlayerEvent::Frame);
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok((bin.upcast(), Some(filter)))
}

/// Copies the RGB plane, with its stride, into the session's frame slot.
fn put_frame(frames: &FrameSlot, caps: &gst::CapsRef, buffer: &gst::BufferRef) -> Option<u64> {
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).ok()?;
    let stride = usize::try_from(*frame.plane_stride().first()?).ok()?;
    let plane = frame.plane_data(0).ok()?;
    frames.put_plane(info.width(), info.height(), stride, plane)
}
