//! What a session reports, and the plain words the screen uses for it.

use std::time::Duration;

/// Why playback failed, in terms a viewer can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The address is wrong or the programme is gone (404, unknown host).
    NotFound,
    /// The source could not be reached or dropped the connection.
    Unreachable,
    /// What arrived is not a stream this box understands.
    BadStream,
    /// The box has no decoder for this format.
    Unsupported,
    /// Connected, but no picture arrived in time.
    NoSignal,
    /// Anything else.
    Other,
}

impl Reason {
    /// The sentence the screen shows.
    pub fn message(self) -> &'static str {
        match self {
            Self::NotFound => "找不到这个节目，请稍后再试或联系村里",
            Self::Unreachable => "连不上信号源，请检查网络",
            Self::BadStream => "信号无法识别，请联系村里",
            Self::Unsupported => "盒子不支持这种视频格式",
            Self::NoSignal => "没有收到信号",
            Self::Other => "播放出错，请稍后再试",
        }
    }
}

/// Playback as the bus last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackState {
    /// Opening the source; no picture yet.
    Connecting,
    /// Filling the buffer (percent).
    Buffering(u8),
    Playing,
    Paused,
    /// The picture stopped or the source failed; rebuilding (信号中断，正在重连).
    Reconnecting,
    /// Gave up (video on demand and files do not retry).
    Failed(Reason),
    /// The video ended.
    Ended,
}

impl PlaybackState {
    /// The line the on-screen display shows, if any.
    pub fn message(self) -> Option<&'static str> {
        match self {
            Self::Connecting => Some("正在连接…"),
            Self::Buffering(_) => Some("正在缓冲…"),
            Self::Playing => None,
            Self::Paused => Some("已暂停"),
            Self::Reconnecting => Some("信号中断，正在重连"),
            Self::Failed(reason) => Some(reason.message()),
            Self::Ended => Some("播放完毕"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    /// The first picture of this pipeline reached the sink.
    FirstFrame {
        /// From `open` (or from the rebuild, when `reconnected`).
        since_play: Duration,
        reconnected: bool,
    },
    /// A new picture is ready in [`crate::Session::latest_frame`]. Sent from a
    /// streaming thread; only the appsink sends it.
    Frame,
    State(PlaybackState),
    Buffering {
        percent: u8,
    },
    /// The source failed. Live sources go on to reconnect.
    Error {
        reason: Reason,
        detail: String,
    },
    /// Rebuilding after `after` (attempt counts from 1).
    Reconnecting {
        attempt: u32,
        after: Duration,
    },
    EndOfStream,
}
