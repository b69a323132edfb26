//! Streams as content: service-hall cameras (服务视窗), live meetings and
//! lessons (党群直播) and the video library (视频点播, 党教园地).
//!
//! How a stream is opened (transport, latency, sub-stream) travels with the
//! item, so a county can fix a camera's settings on the headend without a
//! new box build.

use crate::ValidationError;

/// Where a stream comes from and how to open it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StreamSpec {
    /// `rtsp://`, `http(s)://…m3u8` (HLS), `udp://group:port` (multicast
    /// MPEG-TS), `file://`, or a path starting with `/` that the box resolves
    /// against its headend (HLS the headend serves).
    pub url: String,
    /// Receiver jitter buffer in milliseconds (RTSP). `None`: the player's
    /// low-latency default (200 ms), never GStreamer's 2 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u32>,
    /// RTSP over UDP instead of the default interleaved TCP (for cameras on
    /// the same LAN as the box).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rtsp_udp: bool,
}

/// The kind of source a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Rtsp,
    Hls,
    Multicast,
    File,
}

impl StreamKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Rtsp => "RTSP",
            Self::Hls => "HLS",
            Self::Multicast => "组播",
            Self::File => "本地文件",
        }
    }
}

impl StreamSpec {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            latency_ms: None,
            rtsp_udp: false,
        }
    }

    /// The source kind, from the URL's scheme (or a headend path: HLS).
    pub fn kind(&self) -> Option<StreamKind> {
        let url = self.url.trim();
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("rtsp://") || lower.starts_with("rtsps://") {
            Some(StreamKind::Rtsp)
        } else if lower.starts_with("udp://") {
            Some(StreamKind::Multicast)
        } else if lower.starts_with("file:///") {
            Some(StreamKind::File)
        } else if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with('/')
        {
            Some(StreamKind::Hls)
        } else {
            None
        }
    }

    /// The URL to open: headend paths are joined to `headend_base`.
    pub fn resolve(&self, headend_base: &str) -> String {
        let url = self.url.trim();
        if url.starts_with('/') {
            format!("{}{url}", headend_base.trim_end_matches('/'))
        } else {
            url.to_string()
        }
    }

    pub(crate) fn validate(&self, id: &str) -> Result<(), ValidationError> {
        let bad = |why: &'static str| ValidationError::BadStream {
            id: id.to_string(),
            url: self.url.clone(),
            why,
        };
        match self.kind() {
            None => Err(bad(
                "the scheme must be rtsp, http(s), udp or file, or a headend path",
            )),
            Some(StreamKind::Multicast) => {
                let rest = &self.url.trim()["udp://".len()..];
                let rest = rest.trim_start_matches('@');
                let addr: std::net::SocketAddrV4 = rest
                    .parse()
                    .map_err(|_| bad("a multicast url is udp://group:port"))?;
                if !addr.ip().is_multicast() || addr.port() == 0 {
                    return Err(bad("the group must be a multicast address with a port"));
                }
                Ok(())
            }
            Some(_) if self.latency_ms.is_some_and(|ms| ms > 10_000) => {
                Err(bad("latency above 10 s is a mistake"))
            }
            Some(_) => Ok(()),
        }
    }
}

/// 服务视窗: a camera in a service hall, with cadres on duty in view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Camera {
    /// The hall, e.g. `东坡村党群服务中心`; the box groups cameras by it.
    pub hall: String,
    /// What this camera shows, e.g. `办事大厅`.
    pub name: String,
    /// Position within the hall's cameras (1-based); digits pick by it.
    #[serde(default)]
    pub order: u32,
    pub stream: StreamSpec,
    /// A lower-resolution stream for the 2x2 grid, when the camera has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_stream: Option<StreamSpec>,
}

/// Meeting types of 三会一课 and others broadcast live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// 支部党员大会
    MembersAssembly,
    /// 支委会
    BranchCommittee,
    /// 党小组会
    PartyGroup,
    /// 党课
    PartyLesson,
    /// 培训
    Training,
    /// 视频会议
    VideoConference,
}

impl MeetingKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::MembersAssembly => "支部党员大会",
            Self::BranchCommittee => "支委会",
            Self::PartyGroup => "党小组会",
            Self::PartyLesson => "党课",
            Self::Training => "培训",
            Self::VideoConference => "视频会议",
        }
    }
}

/// 党群直播: a live meeting or lesson with its schedule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LiveChannel {
    pub title: String,
    pub meeting: MeetingKind,
    /// The branch holding it, e.g. `东坡村党支部`.
    pub branch: String,
    /// Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub stream: StreamSpec,
}

/// Whether a live channel is on now, later, or over, at `now` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Scheduled,
    OnAir,
    Ended,
}

impl LiveChannel {
    pub fn status(&self, now: i64) -> LiveStatus {
        if now < self.starts_at {
            LiveStatus::Scheduled
        } else if now < self.ends_at {
            LiveStatus::OnAir
        } else {
            LiveStatus::Ended
        }
    }
}

/// Shelves of the video library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCategory {
    /// 今日: local news.
    News,
    /// 党教园地: party education and training.
    PartyEducation,
    /// 技能培训: farming and job skills.
    Skills,
    /// 文化娱乐
    Entertainment,
}

impl VideoCategory {
    pub const ALL: [VideoCategory; 4] = [
        Self::News,
        Self::PartyEducation,
        Self::Skills,
        Self::Entertainment,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::News => "今日新闻",
            Self::PartyEducation => "党教园地",
            Self::Skills => "技能培训",
            Self::Entertainment => "文化娱乐",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::News => "news",
            Self::PartyEducation => "party_education",
            Self::Skills => "skills",
            Self::Entertainment => "entertainment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A video on demand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Video {
    pub title: String,
    pub category: VideoCategory,
    /// Whole seconds, as the headend measured it.
    pub duration_s: u32,
    /// Poster image blob (sha-256), fetched like any image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<String>,
    #[serde(default)]
    pub summary: String,
    pub stream: StreamSpec,
}

/// Where to resume a video: only when more than 5% and less than 90% was
/// watched; otherwise it starts from the beginning.
pub fn resume_point(position_ms: u64, duration_ms: u64) -> Option<u64> {
    if duration_ms == 0 {
        return None;
    }
    let watched = position_ms as f64 / duration_ms as f64;
    (watched > 0.05 && watched < 0.90).then_some(position_ms)
}

/// `h:mm:ss` or `m:ss`, for durations and positions on screen.
pub fn format_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_url() {
        let k = |u: &str| StreamSpec::new(u).kind();
        assert_eq!(k("rtsp://10.0.0.5/main"), Some(StreamKind::Rtsp));
        assert_eq!(k("http://h/x/index.m3u8"), Some(StreamKind::Hls));
        assert_eq!(k("/media/vod/a/index.m3u8"), Some(StreamKind::Hls));
        assert_eq!(k("udp://239.255.1.1:5004"), Some(StreamKind::Multicast));
        assert_eq!(k("file:///srv/a.mp4"), Some(StreamKind::File));
        assert_eq!(k("ftp://x"), None);
        assert_eq!(
            StreamSpec::new("/media/a.m3u8").resolve("http://127.0.0.1:9000/"),
            "http://127.0.0.1:9000/media/a.m3u8"
        );
    }

    #[test]
    fn multicast_urls_must_name_a_group_and_port() {
        assert!(StreamSpec::new("udp://239.255.1.1:5004")
            .validate("x")
            .is_ok());
        assert!(StreamSpec::new("udp://@239.255.1.1:5004")
            .validate("x")
            .is_ok());
        assert!(StreamSpec::new("udp://10.0.0.1:5004")
            .validate("x")
            .is_err());
        assert!(StreamSpec::new("udp://239.255.1.1").validate("x").is_err());
    }

    #[test]
    fn resume_only_between_five_and_ninety_percent() {
        assert_eq!(resume_point(4_000, 100_000), None);
        assert_eq!(resume_point(6_000, 100_000), Some(6_000));
        assert_eq!(resume_point(89_000, 100_000), Some(89_000));
        assert_eq!(resume_point(90_000, 100_000), None);
        assert_eq!(resume_point(10, 0), None);
        assert_eq!(format_duration(754), "12:34");
        assert_eq!(format_duration(3_725), "1:02:05");
    }
}
