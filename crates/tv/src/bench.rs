//! Key-to-frame latency, for `cargo xtask bench keys`.
//!
//! The whole live path runs: a writer thread plays the remote into a FIFO
//! named `event0` in a directory the input service watches (inotify), the
//! service's reader thread reads `struct input_event`s from it, the decoder
//! turns them into keys, the sink hands them to the UI thread with
//! `slint::invoke_from_event_loop`, the controller updates the screen and
//! the event loop renders the frame with the software renderer. Latency is
//! from the moment the reader thread had the bytes to the moment that frame
//! was rendered. Each key is sent after the previous frame, so this measures
//! latency, not queueing.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use input::event::{EventLayout, RawEvent, KEY_PRESS, KEY_RELEASE};
use input::keymap::key_code;
use input::{InputConfig, InputMessage, RecordingOpener};

use crate::{load_keymap, with_controller, AppError, HeadlessSession};

/// One tour of the app that changes the screen on every key: the home grid,
/// 三务公开, the finance modules, a list, a two-page detail and back home.
pub const TOUR: [&str; 23] = [
    "KEY_RIGHT",
    "KEY_RIGHT",
    "KEY_RIGHT",
    "KEY_DOWN",
    "KEY_LEFT",
    "KEY_LEFT",
    "KEY_UP",
    "KEY_LEFT",
    "KEY_NUMERIC_1",
    "KEY_RIGHT",
    "KEY_RIGHT",
    "KEY_OK",
    "KEY_RIGHT",
    "KEY_RIGHT",
    "KEY_OK",
    "KEY_OK",
    "KEY_DOWN",
    "KEY_UP",
    "KEY_BACK",
    "KEY_BACK",
    "KEY_LEFT",
    "KEY_BACK",
    "KEY_BACK",
];

#[derive(Debug, Default)]
pub struct KeyLatency {
    /// Event read to frame rendered, one per key that changed the screen.
    pub latencies: Vec<Duration>,
    /// Keys that did not change the screen (no frame to time).
    pub no_frame: usize,
}

thread_local! {
    static READ_AT: Cell<Option<Instant>> = const { Cell::new(None) };
}

fn bench_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Ui(format!("keys bench: {what}: {e}"))
}

/// Presses `presses` keys through the live input path; see the module docs.
pub fn key_latency(session: &mut HeadlessSession, presses: usize) -> Result<KeyLatency, AppError> {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("dangjian-keys-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| bench_error("temp dir", e))?;
    let fifo = dir.join("event0");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map_err(|e| bench_error("mkfifo", e))?;
    if !made.success() {
        return Err(bench_error("mkfifo", made));
    }

    session.acknowledge_notices();
    let (keymap, _) = load_keymap(&session.config);
    let config = InputConfig::new(&dir, keymap);
    let input = input::spawn(config, Box::new(RecordingOpener::default()), |msg| {
        let read_at = match &msg {
            InputMessage::Key { read_at, .. } => Some(*read_at),
            _ => None,
        };
        let _ = slint::invoke_from_event_loop(move || {
            READ_AT.with(|r| r.set(read_at));
            with_controller(|c| c.input(msg));
        });
    })
    .map_err(AppError::InputThread)?;

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo)?;
        let layout = EventLayout::native();
        let mut t = Duration::from_secs(1_800_000_000);
        let mut packet = |t: Duration, code: u16, value: i32| -> std::io::Result<()> {
            let events = [RawEvent::key(t, code, value), RawEvent::syn(t)];
            pipe.write_all(&layout.encode_all(&events))
        };
        for i in 0..presses {
            let code = key_code(TOUR[i % TOUR.len()]).unwrap_or(0);
            t += Duration::from_millis(300);
            packet(t, code, KEY_PRESS)?;
            if done_rx.recv_timeout(Duration::from_secs(10)).is_err() {
                break;
            }
            packet(t + Duration::from_millis(100), code, KEY_RELEASE)?;
        }
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
        Ok(())
    });

    let result = Rc::new(RefCell::new(KeyLatency::default()));
    let sink = result.clone();
    session.run_event_loop(move |drew| {
        let Some(read_at) = READ_AT.with(Cell::take) else {
            return;
        };
        let mut r = sink.borrow_mut();
        if drew {
            r.latencies.push(read_at.elapsed());
        } else {
            r.no_frame += 1;
        }
        let _ = done_tx.send(());
    })?;
    drop(input);
    writer
        .join()
        .map_err(|_| bench_error("writer", "panicked"))?
        .map_err(|e| bench_error("writing to the FIFO", e))?;
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::mem::take(&mut *result.borrow_mut());
    Ok(out)
}

/// Page-change render times, for `cargo xtask bench render`.
#[derive(Debug, Default)]
pub struct RenderTimes {
    /// Each step home -> 三务公开 -> 财务公开 -> 补助资金 list.
    pub to_module_list: Vec<Duration>,
    /// Opening the 200-row ledger from its list (paging included).
    pub open_long_table: Vec<Duration>,
    /// Channel- inside the ledger.
    pub table_page_down: Vec<Duration>,
}

/// Times key handling plus a full software-rendered frame for each page
/// change, `rounds` times over. Expects a cache with the long tables
/// (`dangjian-headend seed-long-tables`).
pub fn render_changes(session: &mut HeadlessSession, rounds: usize) -> RenderTimes {
    use input::RemoteKey::{ChannelDown, Digit, Home, Ok};
    session.acknowledge_notices();
    let mut t = RenderTimes::default();
    let timed = |s: &mut HeadlessSession, key| {
        let start = Instant::now();
        s.press(key);
        s.render_frame();
        start.elapsed()
    };
    for _ in 0..rounds {
        session.press(Home);
        session.render_frame();
        for key in [Digit(1), Digit(3), Digit(2)] {
            t.to_module_list.push(timed(session, key));
        }
        t.open_long_table.push(timed(session, Ok));
        t.table_page_down.push(timed(session, ChannelDown));
    }
    t
}
