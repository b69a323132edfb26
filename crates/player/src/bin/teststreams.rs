//! `dangjian-teststreams`: the demo's streams on loopback, so the demo has
//! live cameras, a live meeting and videos without internet.
//!
//! Writes HLS into `--media-dir` (VOD under `vod/<name>/`, the live meeting
//! under `live/meeting/`), serves cameras over RTSP, sends a multicast
//! channel, prints one JSON line with the addresses, and runs until killed.

use std::path::PathBuf;

use player::streams::{self, Picture, RtspServer};

/// Camera mounts: main streams and the grid's sub-streams.
const CAMERAS: [(&str, &str); 6] = [
    ("/hall1", "smpte"),
    ("/hall2", "ball"),
    ("/hall3", "pinwheel"),
    ("/hall4", "spokes"),
    ("/hall5", "colors"),
    ("/hall6", "zone-plate"),
];
/// The same names and lengths as the headend's `DEMO_VIDEOS`.
const VIDEOS: [(&str, u32); 3] = [("news-1", 40), ("lesson-1", 60), ("skills-1", 30)];
const MULTICAST: (&str, u16) = ("239.255.10.1", 5004);

fn main() {
    if let Err(e) = run() {
        eprintln!("dangjian-teststreams: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut media = PathBuf::from("target/demo/media");
    let mut port = 0u16;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--media-dir" => media = PathBuf::from(args.next().ok_or("--media-dir needs a path")?),
            "--rtsp-port" => port = args.next().ok_or("--rtsp-port needs a number")?.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    for (name, seconds) in VIDEOS {
        let dir = media.join("vod").join(name);
        if !dir.join("index.m3u8").exists() {
            let _ = std::fs::remove_dir_all(&dir);
            streams::hls_vod(&dir, Picture::HD.with_pattern("smpte100"), seconds)?;
        }
    }
    let live_dir = media.join("live/meeting");
    let _ = std::fs::remove_dir_all(&live_dir);
    let _live = streams::hls_live(&live_dir, Picture::HD.with_pattern("bar"))?;
    let mut mounts = Vec::new();
    for (path, pattern) in CAMERAS {
        mounts.push((path.to_string(), Picture::HD.with_pattern(pattern)));
        mounts.push((format!("{path}/sub"), Picture::SMALL.with_pattern(pattern)));
    }
    let mounts: Vec<(&str, Picture)> = mounts.iter().map(|(p, pic)| (p.as_str(), *pic)).collect();
    let server = RtspServer::start(port, &mounts)?;
    let _multicast = streams::multicast(
        MULTICAST.0,
        MULTICAST.1,
        Picture::SMALL.with_pattern("circular"),
    )?;
    println!(
        "{{\"rtsp\":\"rtsp://127.0.0.1:{}\",\"multicast\":\"udp://{}:{}\",\"media_dir\":{:?}}}",
        server.port(),
        MULTICAST.0,
        MULTICAST.1,
        media.display().to_string()
    );
    loop {
        std::thread::park();
    }
}
