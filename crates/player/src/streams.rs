//! Real streams on loopback for tests, benches and the demo: an RTSP server
//! (H.264, 1 s keyframe interval), HLS live and VOD segments written by
//! `hlssink2` (served over HTTP by whoever owns the directory, the headend
//! in the demo), and a multicast MPEG-TS sender on the loopback interface.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    #[error("gstreamer: {0}")]
    Gst(String),
    #[error("rtsp server could not listen on 127.0.0.1:{0}")]
    Bind(u16),
    #[error("writing hls segments in {dir}: {why}")]
    Hls { dir: PathBuf, why: String },
}

/// Picture settings of a generated stream.
#[derive(Debug, Clone, Copy)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// `videotestsrc` pattern, so streams look different side by side.
    pub pattern: &'static str,
}

impl Picture {
    pub const HD: Picture = Picture {
        width: 1280,
        height: 720,
        fps: 25,
        pattern: "smpte",
    };
    pub const SMALL: Picture = Picture {
        width: 480,
        height: 270,
        fps: 25,
        pattern: "ball",
    };

    pub fn with_pattern(self, pattern: &'static str) -> Self {
        Self { pattern, ..self }
    }

    /// Live test picture encoded to H.264 with a keyframe every second.
    fn h264(&self, live: bool) -> String {
        format!(
            "videotestsrc is-live={live} pattern={} ! video/x-raw,width={},height={},framerate={}/1 ! \
             timeoverlay font-desc=\"Sans 24\" ! videoconvert ! \
             x264enc tune=zerolatency speed-preset=ultrafast key-int-max={} bitrate=1500 ! \
             video/x-h264,profile=constrained-baseline",
            self.pattern, self.width, self.height, self.fps, self.fps
        )
    }
}

fn gst_err(e: impl std::fmt::Display) -> StreamsError {
    StreamsError::Gst(e.to_string())
}

/// An RTSP server on 127.0.0.1 serving one live test stream per mount.
/// Dropping it (or [`RtspServer::stop`]) closes every client connection
/// and the listening socket, like a camera losing power.
pub struct RtspServer {
    port: u16,
    main_loop: glib::MainLoop,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RtspServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtspServer")
            .field("port", &self.port)
            .finish()
    }
}

impl RtspServer {
    /// Serves `mounts` (e.g. `("/hall1", Picture::SMALL)`) on `port` (0: any free one).
    pub fn start(port: u16, mounts: &[(&str, Picture)]) -> Result<Self, StreamsError> {
        gst::init().map_err(gst_err)?;
        let mounts: Vec<(String, String)> = mounts
            .iter()
            .map(|(path, pic)| {
                (
                    path.to_string(),
                    format!(
                        "( {} ! rtph264pay name=pay0 pt=96 config-interval=-1 )",
                        pic.h264(true)
                    ),
                )
            })
            .collect();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rtsp-server".into())
            .spawn(move || serve(port, mounts, tx))
            .map_err(gst_err)?;
        match rx.recv() {
            Ok(Ok((port, main_loop))) => Ok(Self {
                port,
                main_loop,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(StreamsError::Bind(port)),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, mount: &str) -> String {
        format!("rtsp://127.0.0.1:{}{mount}", self.port)
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.main_loop.quit();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type Started = Result<(u16, glib::MainLoop), StreamsError>;

fn serve(port: u16, mounts: Vec<(String, String)>, started: mpsc::Sender<Started>) {
    let context = glib::MainContext::new();
    let result = context.with_thread_default(|| {
        let server = rtsp::RTSPServer::new();
        server.set_address("127.0.0.1");
        server.set_service(&port.to_string());
        let Some(points) = server.mount_points() else {
            let _ = started.send(Err(StreamsError::Gst("no mount points".into())));
            return;
        };
        for (path, launch) in &mounts {
            let factory = rtsp::RTSPMediaFactory::new();
            factory.set_launch(launch);
            factory.set_shared(true);
            points.add_factory(path, factory);
        }
        let source = match server.attach(Some(&context)) {
            Ok(source) => source,
            Err(_) => {
                let _ = started.send(Err(StreamsError::Bind(port)));
                return;
            }
        };
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let bound = u16::try_from(server.bound_port()).unwrap_or(port);
        if started.send(Ok((bound, main_loop.clone()))).is_err() {
            return;
        }
        main_loop.run();
        // Like a camera losing power: every session and the socket go.
        server.client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
        // The source lives in our own context, so destroy it there
        // (`SourceId::remove` looks in the default context).
        if let Some(source) = context.find_source_by_id(&source) {
            source.destroy();
        }
        // Let the removals run before the context goes.
        while context.iteration(false) {}
    });
    if result.is_err() {
        let _ = started.send(Err(StreamsError::Gst("main context busy".into())));
    }
}

/// A running generator pipeline, stopped on drop.
pub struct Generator {
    pipeline: gst::Element,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").finish()
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn launch(description: &str) -> Result<gst::Element, StreamsError> {
    gst::init().map_err(gst_err)?;
    let pipeline = gst::parse::launch(description).map_err(gst_err)?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| StreamsError::Gst(format!("{description}: {e}")))?;
    Ok(pipeline)
}

fn hls_sink(dir: &Path, playlist_length: u32, max_files: u32) -> String {
    format!(
        "hlssink2 target-duration=1 playlist-length={playlist_length} max-files={max_files} \
         location=\"{}\" playlist-location=\"{}\"",
        dir.join("segment%05d.ts").display(),
        dir.join("index.m3u8").display()
    )
}

/// Live HLS: a rolling playlist of 1 s segments in `dir/index.m3u8`,
/// written for as long as the generator lives.
pub fn hls_live(dir: &Path, picture: Picture) -> Result<Generator, StreamsError> {
    std::fs::create_dir_all(dir).map_err(|e| StreamsError::Hls {
        dir: dir.to_path_buf(),
        why: e.to_string(),
    })?;
    let description = format!(
        "{} ! h264parse ! {}",
        picture.h264(true),
        hls_sink(dir, 6, 12)
    );
    Ok(Generator {
        pipeline: launch(&description)?,
    })
}

/// HLS video on demand: `seconds` of video as 1 s segments and a playlist
/// ending in `#EXT-X-ENDLIST`, written now (faster than real time).
pub fn hls_vod(dir: &Path, picture: Picture, seconds: u32) -> Result<(), StreamsError> {
    let fail = |why: String| StreamsError::Hls {
        dir: dir.to_path_buf(),
        why,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let description = format!(
        "{} ! h264parse ! {}",
        picture.h264(false).replacen(
            "videotestsrc",
            &format!("videotestsrc num-buffers={}", seconds * picture.fps),
            1
        ),
        hls_sink(dir, 0, 0)
    );
    let pipeline = launch(&description)?;
    let bus = pipeline.bus().ok_or_else(|| fail("no bus".into()))?;
    let outcome = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    let _ = pipeline.set_state(gst::State::Null);
    match outcome.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => {}
        Some(gst::MessageView::Error(e)) => return Err(fail(e.error().to_string())),
        _ => return Err(fail("encoding did not finish in 120 s".into())),
    }
    let playlist = dir.join("index.m3u8");
    let text = std::fs::read_to_string(&playlist).map_err(|e| fail(e.to_string()))?;
    if !text.contains("#EXT-X-ENDLIST") {
        std::fs::write(&playlist, format!("{}#EXT-X-ENDLIST\n", text))
            .map_err(|e| fail(e.to_string()))?;
    }
    Ok(())
}

/// Multicast MPEG-TS on the loopback interface, as a cable headend sends
/// channels: `udp://group:port` with 7 TS packets per datagram.
pub fn multicast(group: &str, port: u16, picture: Picture) -> Result<Generator, StreamsError> {
    let description = format!(
        "{} ! h264parse config-interval=-1 ! mpegtsmux alignment=7 ! \
         udpsink host={group} port={port} auto-multicast=true multicast-iface=lo ttl-mc=0 sync=true",
        picture.h264(true)
    );
    Ok(Generator {
        pipeline: launch(&description)?,
    })
}

/// A local video file of `seconds` test video: MP4 if `path` ends in
/// `.mp4`, MPEG-TS otherwise.
pub fn video_file(path: &Path, picture: Picture, seconds: u32) -> Result<(), StreamsError> {
    let mux = if path.extension().is_some_and(|e| e == "mp4") {
        "mp4mux"
    } else {
        "mpegtsmux"
    };
    let description = format!(
        "{} ! h264parse ! {mux} ! filesink location=\"{}\"",
        picture.h264(false).replacen(
            "videotestsrc",
            &format!("videotestsrc num-buffers={}", seconds * picture.fps),
            1
        ),
        path.display()
    );
    let pipeline = launch(&description)?;
    let bus = pipeline.bus().ok_or_else(|| gst_err("no bus"))?;
    let outcome = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    let _ = pipeline.set_state(gst::State::Null);
    match outcome.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => Ok(()),
        Some(gst::MessageView::Error(e)) => Err(gst_err(e.error())),
        _ => Err(gst_err("encoding did not finish in 120 s")),
    }
}

/// Waits until `dir/index.m3u8` lists at least `segments` segments.
pub fn wait_for_segments(dir: &Path, segments: usize, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        let listed = std::fs::read_to_string(dir.join("index.m3u8"))
            .map(|t| t.lines().filter(|l| l.ends_with(".ts")).count())
            .unwrap_or(0);
        if listed >= segments {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
