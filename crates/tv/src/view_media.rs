//! View data for the stream screens: the 党群直播 and video lists, the
//! service halls, the camera grid and the full-screen player. Playback
//! state (connecting, 信号中断，正在重连, …) is added by the controller
//! from the player's events.

use model::{format_date, format_duration, Content, LiveStatus, VideoCategory};
use store::{Cache, MediaEntry, StoreError};

use crate::app::{MediaList, Nav, PlayItem, Screen, ATTENDANCE_ROW, GRID_PANES, LIST_PAGE_SIZE};
use crate::view::{clock, scope_label, View};

/// The full-screen player's text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoView {
    pub title: String,
    pub subtitle: String,
    /// 直播 badge.
    pub live: bool,
    /// The on-screen display is up.
    pub osd: bool,
    /// A sentence over the picture (connecting, reconnecting, not started…).
    pub message: String,
    /// `5:20 / 12:34` for videos.
    pub progress: String,
    pub hint: String,
    /// The time now, `19:42`.
    pub clock: String,
}

/// One pane of the camera grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaneView {
    pub label: String,
    pub message: String,
}

/// A hall's key: its region and name.
pub fn hall_key(scope: &str, hall: &str) -> String {
    format!("{scope}|{hall}")
}

/// A service hall and its cameras.
#[derive(Debug, Clone, PartialEq)]
pub struct Hall {
    /// See [`hall_key`].
    pub key: String,
    pub scope: String,
    pub name: String,
    /// Camera item ids, in order.
    pub cameras: Vec<String>,
}

/// Halls in list order.
pub fn halls(cache: &Cache) -> Result<Vec<Hall>, StoreError> {
    let mut out: Vec<Hall> = Vec::new();
    for MediaEntry { id, scope, item } in cache.cameras()? {
        let key = hall_key(&scope, &item.hall);
        match out.last_mut() {
            Some(last) if last.key == key => last.cameras.push(id),
            _ => out.push(Hall {
                key,
                scope,
                name: item.hall,
                cameras: vec![id],
            }),
        }
    }
    Ok(out)
}

pub fn media_ids(cache: &Cache, list: MediaList, now: i64) -> Result<Vec<String>, StoreError> {
    Ok(match list {
        MediaList::Live => {
            let mut ids: Vec<String> = cache
                .live_channels(now)?
                .into_iter()
                .map(|e| e.id)
                .collect();
            if !cache.household()?.members.is_empty() {
                ids.push(ATTENDANCE_ROW.to_string());
            }
            ids
        }
        MediaList::Attendance => (0..attendance_rows(cache)?.len())
            .map(|n| format!("attendance-{n}"))
            .collect(),
        MediaList::Halls => halls(cache)?.into_iter().map(|h| h.key).collect(),
        MediaList::Videos(c) => cache.videos(c)?.into_iter().map(|e| e.id).collect(),
    })
}

/// 我的签到记录 as rows: (meeting, who and when, status), newest first
/// across the household's members.
fn attendance_rows(cache: &Cache) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut all: Vec<(i64, String, String, String)> = Vec::new();
    for record in cache.attendance()? {
        for e in &record.entries {
            all.push((
                e.starts_at,
                format!("{}：{}", e.kind.label(), e.title),
                format!("{} · {}", record.name, when(e.starts_at)),
                e.status.label().to_string(),
            ));
        }
    }
    all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    Ok(all.into_iter().map(|(_, t, m, s)| (t, m, s)).collect())
}

pub fn page_of(ids: Vec<String>, page: usize) -> Vec<String> {
    ids.into_iter()
        .skip(page * LIST_PAGE_SIZE)
        .take(LIST_PAGE_SIZE)
        .collect()
}

/// Beijing date and time, `11月26日 19:30`.
fn when(unix: i64) -> String {
    let secs = (unix + 8 * 3600).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        format_date(unix),
        secs / 3600,
        (secs % 3600) / 60
    )
}

fn page_text(len: usize, page: usize) -> String {
    let pages = len.div_ceil(LIST_PAGE_SIZE);
    if pages > 1 {
        format!("第 {}/{} 页", page + 1, pages)
    } else {
        String::new()
    }
}

/// Fills `v` for a stream screen; false if `screen` is not one.
pub fn build(
    v: &mut View,
    nav: &Nav,
    cache: &Cache,
    own: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let page = nav.page();
    match nav.screen().clone() {
        Screen::LiveList => {
            v.screen = 2;
            v.title = "党群直播".into();
            v.hint = "确定键观看；红色键随时回到这里".into();
            let live = cache.live_channels(now)?;
            v.page_text = page_text(live.len(), page);
            let shown = live.iter().skip(page * LIST_PAGE_SIZE).take(LIST_PAGE_SIZE);
            for e in shown {
                let on_air = e.item.status(now) == LiveStatus::OnAir;
                let meta = if on_air {
                    format!("{} · {} · 直播中", e.item.branch, e.item.meeting.label())
                } else {
                    format!("{} 开始 · {}", when(e.item.starts_at), e.item.branch)
                };
                v.rows.push((e.item.title.clone(), meta));
                v.row_badges.push(if on_air {
                    "直播".into()
                } else {
                    "预告".into()
                });
            }
            // 我的签到记录 closes the list, on its last page.
            let household = cache.household()?;
            let total = live.len() + usize::from(!household.members.is_empty());
            v.page_text = page_text(total, page);
            if !household.members.is_empty() && (page + 1) * LIST_PAGE_SIZE >= total {
                let names: Vec<&str> = household.members.iter().map(|m| m.name.as_str()).collect();
                v.rows.push((
                    "我的签到记录".into(),
                    format!("{} 的会议签到", names.join("、")),
                ));
                v.row_badges.push(String::new());
            }
            v.empty_text = "现在没有直播，也没有预告。".into();
        }
        Screen::Attendance => {
            v.screen = 2;
            v.title = "我的签到记录".into();
            v.breadcrumb = "党群直播 › 我的签到记录".into();
            v.hint = "频道键翻页；按返回键回到党群直播".into();
            let rows = attendance_rows(cache)?;
            v.page_text = page_text(rows.len(), page);
            for (title, meta, badge) in rows
                .into_iter()
                .skip(page * LIST_PAGE_SIZE)
                .take(LIST_PAGE_SIZE)
            {
                v.rows.push((title, meta));
                v.row_badges.push(badge);
            }
            v.empty_text = "还没有签到记录。开会时电视上出现“在线点名”，按确定键就能签到。".into();
        }
        Screen::Halls => {
            v.screen = 2;
            v.title = "服务视窗".into();
            v.hint = "确定键打开四画面；在四画面里按确定看单个画面".into();
            let halls = halls(cache)?;
            v.page_text = page_text(halls.len(), page);
            for hall in halls
                .iter()
                .skip(page * LIST_PAGE_SIZE)
                .take(LIST_PAGE_SIZE)
            {
                let (label, n) = (scope_label(&hall.scope, own), hall.cameras.len());
                v.rows
                    .push((hall.name.clone(), format!("{label} · {n} 个画面")));
                v.row_badges.push(String::new());
            }
            v.empty_text = "还没有接入服务大厅的摄像头。".into();
        }
        Screen::CameraGrid(hall) => {
            v.screen = 9;
            let halls = halls(cache)?;
            let Some(Hall {
                scope,
                name,
                cameras: cams,
                ..
            }) = halls.into_iter().find(|h| h.key == hall)
            else {
                v.title = "这个服务大厅已不在列表中".into();
                return Ok(true);
            };
            v.title = name.clone();
            v.breadcrumb = format!("服务视窗 › {name}");
            let pages = cams.len().div_ceil(GRID_PANES);
            v.page_text = if pages > 1 {
                format!("第 {}/{} 组", page + 1, pages)
            } else {
                String::new()
            };
            v.meta = scope_label(&scope, own).to_string();
            for (i, id) in cams
                .iter()
                .enumerate()
                .skip(page * GRID_PANES)
                .take(GRID_PANES)
            {
                let label = match cache.item(id)?.map(|it| it.content) {
                    Some(Content::Camera(c)) => c.name,
                    _ => String::new(),
                };
                v.panes.push(PaneView {
                    label: format!("{} {label}", i + 1),
                    message: "正在连接…".into(),
                });
            }
            v.hint = "方向键选画面，确定键全屏；返回键回到列表".into();
        }
        Screen::Camera(id) => {
            v.screen = 8;
            v.video.clock = clock(now);
            v.video.live = true;
            v.video.osd = nav.osd;
            v.video.hint = "频道键换摄像头；数字键选画面；返回键回到四画面".into();
            if let Some(item) = cache.item(&id)? {
                if let Content::Camera(c) = item.content {
                    v.video.title = format!("{} · {}", c.hall, c.name);
                    v.video.subtitle =
                        format!("服务视窗 · {}", scope_label(item.scope.as_str(), own));
                }
            }
        }
        Screen::VideoCategories => {
            v.screen = 7;
            v.title = "视频点播".into();
            v.hint = "方向键选择，确定键打开；数字键直达".into();
            for c in VideoCategory::ALL {
                let n = cache.videos(c)?.len();
                v.categories.push((c.label().into(), format!("{n} 个视频")));
                v.card_badges.push(String::new());
            }
        }
        Screen::Videos(category) => {
            v.screen = 2;
            v.title = category.label().into();
            v.breadcrumb = if category == VideoCategory::PartyEducation {
                "党教园地".into()
            } else {
                format!("视频点播 › {}", category.label())
            };
            v.hint = "确定键播放；看过一部分的可以接着看".into();
            let videos = cache.videos(category)?;
            v.page_text = page_text(videos.len(), page);
            for e in videos
                .iter()
                .skip(page * LIST_PAGE_SIZE)
                .take(LIST_PAGE_SIZE)
            {
                let mut meta = format!(
                    "时长 {} · {}",
                    format_duration(u64::from(e.item.duration_s)),
                    scope_label(&e.scope, own)
                );
                if let Some(ms) = cache.resume_point(&e.id)? {
                    meta.push_str(&format!(" · 上次看到 {}", format_duration(ms / 1000)));
                }
                v.rows.push((e.item.title.clone(), meta));
                v.row_badges.push(String::new());
                v.row_images.push(e.item.poster.clone());
            }
            v.empty_text = "这里还没有视频。".into();
        }
        Screen::ResumePrompt(id) => {
            v.screen = 7;
            let at = cache.resume_point(&id)?.unwrap_or(0);
            v.title = cache
                .item(&id)?
                .map(|i| i.content.title())
                .unwrap_or_default();
            v.breadcrumb = "上次没看完".into();
            v.categories = vec![
                (
                    "继续播放".into(),
                    format!("从 {} 接着看", format_duration(at / 1000)),
                ),
                ("从头播放".into(), "从 0:00 开始".into()),
            ];
            v.card_badges = vec![String::new(), String::new()];
            v.hint = "确定键选择；返回键回到列表".into();
        }
        Screen::Player(PlayItem { id, .. }) => {
            v.screen = 8;
            v.video.clock = clock(now);
            v.video.osd = nav.osd;
            match cache.item(&id)?.map(|i| i.content) {
                Some(Content::Live(l)) => {
                    v.video.title = l.title.clone();
                    v.video.subtitle = format!("{} · {}", l.branch, l.meeting.label());
                    v.video.live = true;
                    v.video.hint = "确定键显示或隐藏字幕；频道键换直播；返回键离开".into();
                    match l.status(now) {
                        LiveStatus::Scheduled => {
                            v.video.live = false;
                            v.video.message = format!("直播将于 {} 开始", when(l.starts_at));
                        }
                        LiveStatus::Ended => v.video.message = "直播已结束".into(),
                        LiveStatus::OnAir => {}
                    }
                }
                Some(Content::Video(video)) => {
                    v.video.title = video.title.clone();
                    v.video.subtitle = video.category.label().into();
                    v.video.hint = "确定键暂停/继续；左右键快退/快进；返回键离开".into();
                }
                _ => v.video.message = "这个节目已下线".into(),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Items the player should be playing for this screen: (item id, stream,
/// live, start). The grid uses sub-streams where cameras have them.
pub fn wanted_streams(
    nav: &Nav,
    cache: &Cache,
    now: i64,
) -> Result<Vec<(String, model::StreamSpec, bool, u64)>, StoreError> {
    let mut out = Vec::new();
    match nav.screen().clone() {
        Screen::CameraGrid(hall) => {
            if let Some(h) = halls(cache)?.into_iter().find(|h| h.key == hall) {
                for id in h
                    .cameras
                    .iter()
                    .skip(nav.page() * GRID_PANES)
                    .take(GRID_PANES)
                {
                    if let Some(Content::Camera(c)) = cache.item(id)?.map(|i| i.content) {
                        out.push((id.clone(), c.sub_stream.unwrap_or(c.stream), true, 0));
                    }
                }
            }
        }
        Screen::Camera(id) => {
            if let Some(Content::Camera(c)) = cache.item(&id)?.map(|i| i.content) {
                out.push((id, c.stream, true, 0));
            }
        }
        Screen::Player(PlayItem { id, start_ms }) => match cache.item(&id)?.map(|i| i.content) {
            Some(Content::Live(l)) if l.status(now) == LiveStatus::OnAir => {
                out.push((id, l.stream, true, 0));
            }
            Some(Content::Video(v)) => out.push((id, v.stream, false, start_ms)),
            _ => {}
        },
        _ => {}
    }
    Ok(out)
}
