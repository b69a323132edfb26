//! Navigation of the stream screens: 党群直播, 服务视窗 (halls, the 2x2
//! grid, one camera), 视频点播 and the player.
//!
//! A child of `app`, so it shares the navigation stack; kept apart because
//! the video screens have their own keys (Channel+/- switch streams, OK
//! pauses or shows the on-screen display, Left/Right seek).

use input::RemoteKey;
use model::VideoCategory;

use super::{Counts, Frame, Nav, NavAction, Screen};

/// Panes of the camera grid.
pub const GRID_PANES: usize = 4;
const GRID_COLUMNS: usize = 2;
/// Seconds Left/Right seek in a video.
const SEEK_BACK: i32 = -10;
const SEEK_FORWARD: i32 = 30;

/// The stream lists the core pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaList {
    /// The broadcasts, then [`ATTENDANCE_ROW`] when the box has a household.
    Live,
    Halls,
    Videos(VideoCategory),
    /// Entries of 我的签到记录.
    Attendance,
}

/// The last row of 党群直播, which opens 我的签到记录.
pub const ATTENDANCE_ROW: &str = "attendance";

/// What the full-screen player shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayItem {
    pub id: String,
    /// Where a video starts (0: the beginning; live ignores it).
    pub start_ms: u64,
}

impl Nav {
    /// Replaces the screen on top (switching streams keeps Back's target).
    fn replace(&mut self, screen: Screen) {
        self.current = Frame::new(screen);
    }

    fn open_player(&mut self, id: String, start_ms: u64) {
        self.osd = true;
        self.open(Screen::Player(PlayItem { id, start_ms }));
    }

    /// Opens a live broadcast full screen (the roll-call's 观看会议); Back
    /// returns to where the viewer was. Already on it: nothing changes.
    pub fn watch_live(&mut self, id: &str) -> bool {
        if matches!(self.screen(), Screen::Player(p) if p.id == id) {
            return false;
        }
        self.open_player(id.to_string(), 0);
        true
    }

    pub(super) fn media_key(&mut self, key: RemoteKey, screen: Screen, counts: &dyn Counts) {
        match screen {
            Screen::LiveList => {
                let len = counts.media_len(MediaList::Live);
                let ids = |_: &Nav, page| counts.media_ids(MediaList::Live, page);
                let before = self.stack.len();
                self.paged_key(key, len, ids, |id| {
                    if id == ATTENDANCE_ROW {
                        Screen::Attendance
                    } else {
                        Screen::Player(PlayItem { id, start_ms: 0 })
                    }
                });
                if self.stack.len() > before {
                    self.osd = true;
                }
            }
            // A record to read: arrows and Channel keys page, nothing opens.
            Screen::Attendance if !matches!(key, RemoteKey::Ok | RemoteKey::Digit(_)) => {
                let len = counts.media_len(MediaList::Attendance);
                self.paged_key(key, len, |_, _| Vec::new(), |_| Screen::Attendance);
            }
            Screen::Attendance => {}
            Screen::Halls => {
                let len = counts.media_len(MediaList::Halls);
                let ids = |_: &Nav, page| counts.media_ids(MediaList::Halls, page);
                self.paged_key(key, len, ids, Screen::CameraGrid);
            }
            Screen::CameraGrid(hall) => self.grid_key_cameras(key, &hall, counts),
            Screen::Camera(id) => self.camera_key(key, &id, counts),
            Screen::VideoCategories => {
                if let Some(i) = self.grid_key(key, VideoCategory::ALL.len()) {
                    self.open(Screen::Videos(VideoCategory::ALL[i]));
                }
            }
            Screen::Videos(category) => {
                let list = MediaList::Videos(category);
                let len = counts.media_len(list);
                let ids = |_: &Nav, page| counts.media_ids(list, page);
                let before = self.stack.len();
                self.paged_key(key, len, ids, Screen::ResumePrompt);
                // Only a video watched part way asks where to start.
                if self.stack.len() > before {
                    if let Screen::ResumePrompt(id) = self.current.screen.clone() {
                        if counts.resume_ms(&id).is_none() {
                            self.back();
                            self.open_player(id, 0);
                        }
                    }
                }
            }
            Screen::ResumePrompt(id) => self.resume_key(key, &id, counts),
            Screen::Player(item) => self.player_key(key, &item, counts),
            _ => {}
        }
    }

    fn grid_key_cameras(&mut self, key: RemoteKey, hall: &str, counts: &dyn Counts) {
        let cameras = counts.hall_cameras(hall);
        let pages = cameras.len().div_ceil(GRID_PANES).max(1);
        let page = self.current.page.min(pages - 1);
        let on_page = cameras
            .len()
            .saturating_sub(page * GRID_PANES)
            .min(GRID_PANES);
        let f = &mut self.current.focus;
        let chosen = match key {
            RemoteKey::Left if !f.is_multiple_of(GRID_COLUMNS) => {
                *f -= 1;
                None
            }
            RemoteKey::Right if f.is_multiple_of(GRID_COLUMNS) && *f + 1 < on_page => {
                *f += 1;
                None
            }
            RemoteKey::Up if *f >= GRID_COLUMNS => {
                *f -= GRID_COLUMNS;
                None
            }
            RemoteKey::Down if *f + GRID_COLUMNS < on_page => {
                *f += GRID_COLUMNS;
                None
            }
            RemoteKey::ChannelDown if page + 1 < pages => {
                self.current.page += 1;
                self.current.focus = 0;
                None
            }
            RemoteKey::ChannelUp if page > 0 => {
                self.current.page -= 1;
                self.current.focus = 0;
                None
            }
            RemoteKey::Ok if *f < on_page => Some(*f),
            RemoteKey::Digit(d) if (1..=on_page).contains(&usize::from(d)) => {
                *f = usize::from(d) - 1;
                Some(*f)
            }
            _ => None,
        };
        if let Some(pane) = chosen {
            if let Some(id) = cameras.get(page * GRID_PANES + pane) {
                self.open(Screen::Camera(id.clone()));
            }
        }
    }

    fn camera_key(&mut self, key: RemoteKey, id: &str, counts: &dyn Counts) {
        match key {
            RemoteKey::ChannelUp | RemoteKey::ChannelDown | RemoteKey::Up | RemoteKey::Down => {
                let all = counts.camera_ids();
                let forward = matches!(key, RemoteKey::ChannelDown | RemoteKey::Down);
                if let Some(next) = step(&all, id, forward) {
                    self.replace(Screen::Camera(next));
                }
            }
            // Digits pick a camera of the hall the grid showed.
            RemoteKey::Digit(d) => {
                let Some(Screen::CameraGrid(hall)) = self.stack.last().map(|f| f.screen.clone())
                else {
                    return;
                };
                let cameras = counts.hall_cameras(&hall);
                let n = usize::from(d);
                if let Some(next) = n.checked_sub(1).and_then(|i| cameras.get(i)) {
                    if let Some(grid) = self.stack.last_mut() {
                        grid.page = (n - 1) / GRID_PANES;
                        grid.focus = (n - 1) % GRID_PANES;
                    }
                    self.replace(Screen::Camera(next.clone()));
                }
            }
            RemoteKey::Ok => self.osd = !self.osd,
            _ => {}
        }
    }

    fn resume_key(&mut self, key: RemoteKey, id: &str, counts: &dyn Counts) {
        let f = &mut self.current.focus;
        let chosen = match key {
            RemoteKey::Left | RemoteKey::Up if *f > 0 => {
                *f -= 1;
                None
            }
            RemoteKey::Right | RemoteKey::Down if *f + 1 < 2 => {
                *f += 1;
                None
            }
            RemoteKey::Ok => Some(*f),
            RemoteKey::Digit(d @ 1..=2) => Some(usize::from(d) - 1),
            _ => None,
        };
        if let Some(choice) = chosen {
            let start = if choice == 0 {
                counts.resume_ms(id).unwrap_or(0)
            } else {
                0
            };
            self.back();
            self.open_player(id.to_string(), start);
        }
    }

    fn player_key(&mut self, key: RemoteKey, item: &PlayItem, counts: &dyn Counts) {
        let on_air = counts.on_air_ids();
        let live = on_air.contains(&item.id);
        match key {
            RemoteKey::Ok if live => self.osd = !self.osd,
            RemoteKey::Ok => self.action = Some(NavAction::TogglePause),
            RemoteKey::Left if !live => self.action = Some(NavAction::SeekBy(SEEK_BACK)),
            RemoteKey::Right if !live => self.action = Some(NavAction::SeekBy(SEEK_FORWARD)),
            RemoteKey::ChannelUp | RemoteKey::ChannelDown if live => {
                let forward = key == RemoteKey::ChannelDown;
                if let Some(next) = step(&on_air, &item.id, forward) {
                    self.replace(Screen::Player(PlayItem {
                        id: next,
                        start_ms: 0,
                    }));
                }
            }
            _ => {}
        }
    }
}

/// The next (or previous) id after `id`, wrapping around.
fn step(ids: &[String], id: &str, forward: bool) -> Option<String> {
    let n = ids.len();
    if n < 2 {
        return None;
    }
    let at = ids.iter().position(|i| i == id)?;
    let next = if forward {
        (at + 1) % n
    } else {
        (at + n - 1) % n
    };
    ids.get(next).cloned()
}
