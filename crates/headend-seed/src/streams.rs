//! Demo streams: service-hall cameras (RTSP), live broadcasts (HLS live
//! served from `/media/`, and a multicast channel) and videos on demand
//! (HLS VOD from `/media/`). The streams themselves come from
//! `dangjian-teststreams`; this only publishes the items that point at them.

use model::{Camera, Content, LiveChannel, MeetingKind, StreamSpec, Video, VideoCategory};

use crate::db::{Db, DbError, NewItem};
use crate::{COUNTY, TOWNS, VILLAGES};

/// Where the demo's streams are.
#[derive(Debug, Clone)]
pub struct DemoStreams {
    /// e.g. `rtsp://127.0.0.1:8554`; cameras are `/hall1` … `/hall6`, each
    /// with a `/sub` stream for the 2x2 grid.
    pub rtsp_base: String,
    /// e.g. `udp://239.255.10.1:5004`.
    pub multicast: String,
}

/// Videos `dangjian-teststreams` writes under `vod/<name>/`, with seconds.
pub const DEMO_VIDEOS: [(&str, u32); 3] = [("news-1", 40), ("lesson-1", 60), ("skills-1", 30)];

/// Poster of each demo video, in [`DEMO_VIDEOS`] order (title cards from
/// `assets/demo/posters`).
pub const POSTERS: [&[u8]; 3] = [
    include_bytes!("../../../assets/demo/posters/news-1.jpg"),
    include_bytes!("../../../assets/demo/posters/lesson-1.jpg"),
    include_bytes!("../../../assets/demo/posters/skills-1.jpg"),
];

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const HOUR: i64 = 3_600;

fn item(id: &str, scope: &str, published_at: i64, content: Content) -> NewItem {
    NewItem {
        id: id.to_string(),
        // Scopes come from the demo constants, valid by construction.
        scope: scope
            .parse()
            .unwrap_or_else(|_| panic!("bad demo scope {scope}")),
        published_at,
        content,
    }
}

fn camera(streams: &DemoStreams, hall: &str, name: &str, order: u32, mount: u32) -> Content {
    let base = streams.rtsp_base.trim_end_matches('/');
    Content::Camera(Camera {
        hall: hall.to_string(),
        name: name.to_string(),
        order,
        stream: StreamSpec::new(format!("{base}/hall{mount}")),
        sub_stream: Some(StreamSpec::new(format!("{base}/hall{mount}/sub"))),
    })
}

/// The demo's stream items, with live broadcasts placed around `now`.
pub fn stream_items(streams: &DemoStreams, now: i64) -> Vec<NewItem> {
    let village = VILLAGES[0].0;
    let town = TOWNS[0].0;
    let county = COUNTY.0;
    let mut items = Vec::new();
    let village_hall = "东坡村党群服务中心";
    for (i, name) in ["办事大厅", "党员活动室", "便民服务窗口", "文化广场"]
        .iter()
        .enumerate()
    {
        let n = i as u32 + 1;
        items.push(item(
            &format!("camera-dongpo-{n}"),
            village,
            now - 30 * 86_400,
            camera(streams, village_hall, name, n, n),
        ));
    }
    let town_hall = "青石镇便民服务中心";
    for (i, name) in ["综合受理窗口", "社保医保窗口"].iter().enumerate() {
        let n = i as u32 + 1;
        items.push(item(
            &format!("camera-qingshi-{n}"),
            town,
            now - 30 * 86_400,
            camera(streams, town_hall, name, n, n + 4),
        ));
    }
    let live = |title: &str, meeting, branch: &str, starts_at, ends_at, url: &str| {
        Content::Live(LiveChannel {
            title: title.to_string(),
            meeting,
            branch: branch.to_string(),
            starts_at,
            ends_at,
            stream: StreamSpec::new(url),
        })
    };
    items.push(item(
        "live-qingshi-party-day",
        town,
        now - HOUR,
        live(
            "青石镇11月主题党日：学习贯彻全会精神",
            MeetingKind::PartyLesson,
            "青石镇党委",
            now - HOUR / 3,
            now + 2 * HOUR,
            "/media/live/meeting/index.m3u8",
        ),
    ));
    items.push(item(
        "live-county-winter-training",
        county,
        now - HOUR,
        live(
            "县委党校冬训直播课",
            MeetingKind::Training,
            "青山县委组织部",
            now - HOUR / 6,
            now + 3 * HOUR,
            &streams.multicast,
        ),
    ));
    items.push(item(
        "live-dongpo-assembly",
        village,
        now - HOUR,
        live(
            "东坡村党支部党员大会",
            MeetingKind::MembersAssembly,
            "东坡村党支部",
            now + 26 * HOUR,
            now + 28 * HOUR,
            "/media/live/meeting/index.m3u8",
        ),
    ));
    let videos = [
        (
            "news-1",
            town,
            "青石镇冬季农田水利建设全面铺开",
            VideoCategory::News,
            "全镇12个村同步开工，修缮水渠8.6公里，新建机井14眼，预计明年春耕前完工。",
        ),
        (
            "lesson-1",
            county,
            "党章学习第一讲：党的性质和宗旨",
            VideoCategory::PartyEducation,
            "县委党校教师讲解党章总纲，适合支部集中学习和党员自学。",
        ),
        (
            "skills-1",
            county,
            "大棚蔬菜冬季管理技术",
            VideoCategory::Skills,
            "县农技站专家讲解保温、通风和病虫害防治要点。",
        ),
    ];
    let videos = videos.into_iter().zip(DEMO_VIDEOS).zip(POSTERS);
    for (((name, scope, title, category, summary), (_, seconds)), poster) in videos {
        items.push(item(
            &format!("video-{name}"),
            scope,
            now - 2 * 86_400,
            Content::Video(Video {
                title: title.to_string(),
                category,
                duration_s: seconds,
                poster: Some(sha(poster)),
                summary: summary.to_string(),
                stream: StreamSpec::new(format!("/media/vod/{name}/index.m3u8")),
            }),
        ));
    }
    items
}

/// Publishes the stream items (again: ids are stable, so re-running the
/// demo makes new versions rather than duplicates).
pub fn seed_streams(db: &Db, streams: &DemoStreams, now: i64) -> Result<usize, DbError> {
    for poster in POSTERS {
        db.put_image(poster)?;
    }
    Ok(db.publish(&stream_items(streams, now))?.len())
}
