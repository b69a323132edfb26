//! The UI-agnostic core of the TV app: navigation, focus and sync status.
//!
//! It takes [`RemoteKey`]s and [`SyncEvent`]s and keeps a stack of screens
//! with the focus each had, so Back always returns to where the person was.
//! It knows nothing of Slint; `view.rs` turns its state into plain view
//! data and `bridge.rs` hands that to the UI.

use input::RemoteKey;
use model::{DisclosureCategory, InfoTopic, VideoCategory};
use store::Shelf;
use sync::{FailureKind, SyncEvent};

#[path = "app_media.rs"]
mod media;

pub use media::{MediaList, PlayItem, ATTENDANCE_ROW, GRID_PANES};

/// Rows shown per list page: what fits at 32 px between header and footer.
pub const LIST_PAGE_SIZE: usize = 4;
const HOME_COLUMNS: usize = 5;

/// The ten home tiles, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tile {
    Disclosures,
    Notices,
    Live,
    Cameras,
    PartyEducation,
    VideoOnDemand,
    Honours,
    Evaluation,
    OneKeyService,
    LocalInfo,
}

impl Tile {
    pub const ALL: [Tile; 10] = [
        Tile::Disclosures,
        Tile::Notices,
        Tile::Live,
        Tile::Cameras,
        Tile::PartyEducation,
        Tile::VideoOnDemand,
        Tile::Honours,
        Tile::Evaluation,
        Tile::OneKeyService,
        Tile::LocalInfo,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tile::Disclosures => "三务公开",
            Tile::Notices => "通知公告",
            Tile::Live => "党群直播",
            Tile::Cameras => "服务视窗",
            Tile::PartyEducation => "党教园地",
            Tile::VideoOnDemand => "视频点播",
            Tile::Honours => "时代先锋",
            Tile::Evaluation => "党风评议",
            Tile::OneKeyService => "一键服务",
            Tile::LocalInfo => "便民信息",
        }
    }

    /// The large character drawn on the tile in place of an icon.
    pub fn glyph(self) -> &'static str {
        match self {
            Tile::Disclosures => "公",
            Tile::Notices => "告",
            Tile::Live => "播",
            Tile::Cameras => "窗",
            Tile::PartyEducation => "学",
            Tile::VideoOnDemand => "影",
            Tile::Honours => "星",
            Tile::Evaluation => "评",
            Tile::OneKeyService => "帮",
            Tile::LocalInfo => "民",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    Categories,
    /// The modules of one category (组织建设, 收支情况, …).
    Modules(DisclosureCategory),
    /// One module's items, newest first.
    List(DisclosureCategory, &'static str),
    /// 通知公告: urgent first, then newest first.
    Notices,
    /// 时代先锋 (honours and the 党员积分 ranking) or one 便民信息 topic.
    Shelf(Shelf),
    /// 便民信息: the five topics (天气预报, 农产品价格, …).
    InfoTopics,
    Detail(String),
    /// A part of the product that is not built yet, by its title.
    Coming(&'static str),
    /// 设置 (Menu key).
    Settings,
    /// 遥控器测试, from settings; keys are shown, not acted on.
    RemoteTest,
    /// 党群直播: live now, then scheduled, then 我的签到记录.
    LiveList,
    /// 我的签到记录: the household's roll-call record, newest first.
    Attendance,
    /// 服务视窗: the service halls, the box's village first.
    Halls,
    /// Up to four cameras of one hall (by its key) in a 2x2 grid.
    CameraGrid(String),
    /// One camera full screen, by item id.
    Camera(String),
    /// 视频点播: the video shelves.
    VideoCategories,
    Videos(VideoCategory),
    /// 继续播放 or 从头播放, for a video watched part way.
    ResumePrompt(String),
    /// A live broadcast or a video, full screen.
    Player(PlayItem),
}

/// Entries of the settings page, in order: 显示模式 toggles, 遥控器测试 opens.
pub const SETTINGS_LEN: usize = 2;

/// Something the controller must do for the core (it owns storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavAction {
    /// Switch 长辈模式 and 标准模式, and remember it.
    ToggleDisplayMode,
    /// Video on demand: OK pauses and resumes.
    TogglePause,
    /// Video on demand: Left/Right seek by seconds.
    SeekBy(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    screen: Screen,
    focus: usize,
    page: usize,
}

impl Frame {
    fn new(screen: Screen) -> Frame {
        Frame {
            screen,
            focus: 0,
            page: 0,
        }
    }
}

/// What the header and banner say about sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    /// Nothing heard from sync yet.
    Starting,
    Syncing,
    Synced {
        at: i64,
    },
    Failed {
        kind: FailureKind,
    },
}

/// Module tiles per row on the modules screen.
pub const MODULE_COLUMNS: usize = 3;

/// Counts the core needs from the cache to move focus correctly.
pub trait Counts {
    fn list_len(&self, category: DisclosureCategory, module: &str) -> usize;
    /// Ids of one list page, to open the focused one.
    fn list_ids(&self, category: DisclosureCategory, module: &str, page: usize) -> Vec<String>;
    fn notice_len(&self) -> usize;
    fn notice_ids(&self, page: usize) -> Vec<String>;
    fn shelf_len(&self, shelf: Shelf) -> usize;
    fn shelf_ids(&self, shelf: Shelf, page: usize) -> Vec<String>;
    /// Lengths and page ids of the stream lists (hall keys for halls).
    fn media_len(&self, list: MediaList) -> usize;
    fn media_ids(&self, list: MediaList, page: usize) -> Vec<String>;
    /// Camera ids of a hall, in order.
    fn hall_cameras(&self, hall: &str) -> Vec<String>;
    /// Every camera id, in list order (Channel+/- walks these).
    fn camera_ids(&self) -> Vec<String>;
    /// Live broadcasts on air now, in list order.
    fn on_air_ids(&self) -> Vec<String>;
    /// Where a video was left, when it is worth resuming.
    fn resume_ms(&self, video: &str) -> Option<u64>;
}

#[derive(Debug)]
pub struct Nav {
    stack: Vec<Frame>,
    current: Frame,
    pub sync: SyncStatus,
    /// Last successful sync, kept while offline so the banner can say how old.
    pub last_synced: Option<i64>,
    /// 标准模式 (smaller text) instead of the default 长辈模式.
    pub standard_mode: bool,
    /// Left for the controller by the last key.
    pub action: Option<NavAction>,
    /// The on-screen display over live video (OK toggles it).
    pub osd: bool,
}

impl Default for Nav {
    fn default() -> Self {
        Nav::new()
    }
}

impl Nav {
    pub fn new() -> Nav {
        Nav {
            stack: Vec::new(),
            current: Frame::new(Screen::Home),
            sync: SyncStatus::Starting,
            last_synced: None,
            standard_mode: false,
            action: None,
            osd: true,
        }
    }

    pub fn screen(&self) -> &Screen {
        &self.current.screen
    }

    pub fn focus(&self) -> usize {
        self.current.focus
    }

    pub fn page(&self) -> usize {
        self.current.page
    }

    pub fn is_offline(&self) -> bool {
        matches!(self.sync, SyncStatus::Failed { .. })
    }

    fn open(&mut self, screen: Screen) {
        let previous = std::mem::replace(&mut self.current, Frame::new(screen));
        self.stack.push(previous);
    }

    /// Leaves the current screen, as Back does.
    pub fn leave(&mut self) {
        self.back();
    }

    fn back(&mut self) {
        if let Some(frame) = self.stack.pop() {
            self.current = frame;
        }
    }

    fn home(&mut self) {
        if let Some(first) = self.stack.first().cloned() {
            self.current = first;
        }
        self.stack.clear();
    }

    fn open_tile(&mut self, tile: Tile) {
        match tile {
            Tile::Disclosures => self.open(Screen::Categories),
            Tile::Notices => self.open(Screen::Notices),
            Tile::Honours => self.open(Screen::Shelf(Shelf::Honours)),
            Tile::LocalInfo => self.open(Screen::InfoTopics),
            Tile::Live => self.open(Screen::LiveList),
            Tile::Cameras => self.open(Screen::Halls),
            Tile::PartyEducation => self.open(Screen::Videos(VideoCategory::PartyEducation)),
            Tile::VideoOnDemand => self.open(Screen::VideoCategories),
            other => self.open(Screen::Coming(other.label())),
        }
    }

    /// Colour keys are shortcuts from anywhere; they start from home so Back
    /// after a shortcut lands somewhere sensible.
    fn shortcut(&mut self, tile: Tile) {
        self.home();
        if let Some(i) = Tile::ALL.iter().position(|t| *t == tile) {
            self.current.focus = i;
        }
        self.open_tile(tile);
    }

    /// Handles one key. `detail_pages` is how many pages the open detail has
    /// as laid out on screen. Returns whether anything changed.
    pub fn handle_key(&mut self, key: RemoteKey, counts: &dyn Counts, detail_pages: usize) -> bool {
        let before = (self.current.clone(), self.stack.len());
        match key {
            RemoteKey::Back => self.back(),
            RemoteKey::Home => self.home(),
            RemoteKey::Menu => {
                if !matches!(self.current.screen, Screen::Settings | Screen::RemoteTest) {
                    self.open(Screen::Settings);
                }
            }
            RemoteKey::Red => self.shortcut(Tile::Live),
            RemoteKey::Green => self.shortcut(Tile::Disclosures),
            RemoteKey::Yellow => self.shortcut(Tile::OneKeyService),
            RemoteKey::Blue => self.shortcut(Tile::Notices),
            _ => match self.current.screen.clone() {
                Screen::Home => self.home_key(key),
                Screen::Categories => self.categories_key(key),
                Screen::Modules(category) => self.modules_key(key, category),
                Screen::List(category, module) => {
                    let len = counts.list_len(category, module);
                    let ids = |_: &Nav, page| counts.list_ids(category, module, page);
                    self.paged_key(key, len, ids, Screen::Detail)
                }
                Screen::Notices => {
                    let ids = |_: &Nav, page| counts.notice_ids(page);
                    self.paged_key(key, counts.notice_len(), ids, Screen::Detail)
                }
                Screen::Shelf(shelf) => {
                    let len = counts.shelf_len(shelf);
                    let ids = |_: &Nav, page| counts.shelf_ids(shelf, page);
                    self.paged_key(key, len, ids, Screen::Detail)
                }
                Screen::InfoTopics => {
                    if let Some(i) = self.grid_key(key, InfoTopic::ALL.len()) {
                        self.open(Screen::Shelf(Shelf::Info(InfoTopic::ALL[i])));
                    }
                }
                Screen::Detail(_) => self.detail_key(key, detail_pages),
                Screen::Coming(_) => {
                    if key == RemoteKey::Ok {
                        self.back();
                    }
                }
                Screen::Settings => self.settings_key(key),
                // The controller shows keys there instead of acting on them.
                Screen::RemoteTest => {}
                screen => self.media_key(key, screen, counts),
            },
        }
        (self.current.clone(), self.stack.len()) != before
    }

    fn home_key(&mut self, key: RemoteKey) {
        let n = Tile::ALL.len();
        let f = &mut self.current.focus;
        match key {
            RemoteKey::Left if !f.is_multiple_of(HOME_COLUMNS) => *f -= 1,
            RemoteKey::Right if *f % HOME_COLUMNS < HOME_COLUMNS - 1 && *f + 1 < n => *f += 1,
            RemoteKey::Up if *f >= HOME_COLUMNS => *f -= HOME_COLUMNS,
            RemoteKey::Down if *f + HOME_COLUMNS < n => *f += HOME_COLUMNS,
            RemoteKey::Ok => {
                let tile = Tile::ALL[*f];
                self.open_tile(tile);
            }
            // 1..9 open tiles 1..9, 0 opens the tenth.
            RemoteKey::Digit(d) => {
                let i = if d == 0 { 9 } else { usize::from(d) - 1 };
                if i < n {
                    self.current.focus = i;
                    self.open_tile(Tile::ALL[i]);
                }
            }
            _ => {}
        }
    }

    fn settings_key(&mut self, key: RemoteKey) {
        let n = SETTINGS_LEN;
        let f = &mut self.current.focus;
        let chosen = match key {
            RemoteKey::Up if *f > 0 => {
                *f -= 1;
                None
            }
            RemoteKey::Down if *f + 1 < n => {
                *f += 1;
                None
            }
            RemoteKey::Ok => Some(*f),
            RemoteKey::Digit(d) if (1..=n).contains(&usize::from(d)) => Some(usize::from(d) - 1),
            _ => None,
        };
        match chosen {
            Some(0) => {
                self.current.focus = 0;
                self.standard_mode = !self.standard_mode;
                self.action = Some(NavAction::ToggleDisplayMode);
            }
            Some(i) => {
                self.current.focus = i;
                self.open(Screen::RemoteTest);
            }
            None => {}
        }
    }

    fn categories_key(&mut self, key: RemoteKey) {
        let n = DisclosureCategory::ALL.len();
        match key {
            RemoteKey::Left if self.current.focus > 0 => self.current.focus -= 1,
            RemoteKey::Right if self.current.focus + 1 < n => self.current.focus += 1,
            RemoteKey::Ok => {
                let c = DisclosureCategory::ALL[self.current.focus];
                self.open(Screen::Modules(c));
            }
            RemoteKey::Digit(d) if (1..=n).contains(&usize::from(d)) => {
                self.current.focus = usize::from(d) - 1;
                let c = DisclosureCategory::ALL[self.current.focus];
                self.open(Screen::Modules(c));
            }
            _ => {}
        }
    }

    fn modules_key(&mut self, key: RemoteKey, category: DisclosureCategory) {
        let modules = category.modules();
        if let Some(i) = self.grid_key(key, modules.len()) {
            self.open(Screen::List(category, modules[i]));
        }
    }

    /// Moves focus in a grid of `n` cards, MODULE_COLUMNS wide; returns the
    /// card to open (OK, or digit N for the Nth card).
    fn grid_key(&mut self, key: RemoteKey, n: usize) -> Option<usize> {
        let f = &mut self.current.focus;
        match key {
            RemoteKey::Left if !f.is_multiple_of(MODULE_COLUMNS) => *f -= 1,
            RemoteKey::Right if *f % MODULE_COLUMNS < MODULE_COLUMNS - 1 && *f + 1 < n => *f += 1,
            RemoteKey::Up if *f >= MODULE_COLUMNS => *f -= MODULE_COLUMNS,
            RemoteKey::Down if *f + MODULE_COLUMNS < n => *f += MODULE_COLUMNS,
            RemoteKey::Ok if *f < n => return Some(*f),
            RemoteKey::Digit(d) if (1..=n).contains(&usize::from(d)) => {
                *f = usize::from(d) - 1;
                return Some(*f);
            }
            _ => {}
        }
        None
    }

    /// A list shown LIST_PAGE_SIZE rows at a time; `ids` gives a page's ids.
    fn paged_key(
        &mut self,
        key: RemoteKey,
        len: usize,
        ids: impl FnOnce(&Nav, usize) -> Vec<String>,
        to_screen: impl FnOnce(String) -> Screen,
    ) {
        if len == 0 {
            return;
        }
        let pages = len.div_ceil(LIST_PAGE_SIZE);
        // Focus is an index within the page; absolute = page * size + focus.
        let absolute = self.current.page * LIST_PAGE_SIZE + self.current.focus;
        let set = |nav: &mut Nav, abs: usize| {
            nav.current.page = abs / LIST_PAGE_SIZE;
            nav.current.focus = abs % LIST_PAGE_SIZE;
        };
        let open = match key {
            RemoteKey::Up if absolute > 0 => {
                set(self, absolute - 1);
                None
            }
            RemoteKey::Down if absolute + 1 < len => {
                set(self, absolute + 1);
                None
            }
            RemoteKey::ChannelUp | RemoteKey::Left if self.current.page > 0 => {
                set(self, (self.current.page - 1) * LIST_PAGE_SIZE);
                None
            }
            RemoteKey::ChannelDown | RemoteKey::Right if self.current.page + 1 < pages => {
                set(self, (self.current.page + 1) * LIST_PAGE_SIZE);
                None
            }
            RemoteKey::Ok => Some(self.current.focus),
            RemoteKey::Digit(d) if (1..=LIST_PAGE_SIZE).contains(&usize::from(d)) => {
                Some(usize::from(d) - 1)
            }
            _ => None,
        };
        if let Some(index) = open {
            if let Some(id) = ids(self, self.current.page).get(index) {
                self.current.focus = index;
                self.open(to_screen(id.clone()));
            }
        }
    }

    fn detail_key(&mut self, key: RemoteKey, pages: usize) {
        let page = &mut self.current.page;
        match key {
            RemoteKey::Up | RemoteKey::ChannelUp | RemoteKey::Left if *page > 0 => *page -= 1,
            RemoteKey::Down | RemoteKey::ChannelDown | RemoteKey::Right | RemoteKey::Ok
                if *page + 1 < pages =>
            {
                *page += 1
            }
            _ => {}
        }
    }

    /// Applies a sync event. Returns true when cached content may have changed.
    pub fn sync_event(&mut self, event: &SyncEvent, now: i64) -> bool {
        match event {
            SyncEvent::Syncing => {
                // Keep the offline banner up while retrying; don't flicker.
                if !self.is_offline() {
                    self.sync = SyncStatus::Syncing;
                }
                false
            }
            SyncEvent::Synced(report) => {
                self.sync = SyncStatus::Synced { at: now };
                self.last_synced = Some(now);
                report.changed() || report.full_refetch
            }
            SyncEvent::Failed { kind, .. } => {
                self.sync = SyncStatus::Failed { kind: *kind };
                false
            }
            // The household's attendance record is content like any other.
            SyncEvent::HouseholdChanged => true,
            SyncEvent::RollCall { .. }
            | SyncEvent::Delivered(_)
            | SyncEvent::OutboxWaiting { .. } => false,
        }
    }

    /// After content changed under an open list, keep focus on a real row.
    pub fn clamp_to(&mut self, counts: &dyn Counts) {
        let len = match self.current.screen.clone() {
            Screen::List(category, module) => Some(counts.list_len(category, module)),
            Screen::Notices => Some(counts.notice_len()),
            Screen::Shelf(shelf) => Some(counts.shelf_len(shelf)),
            Screen::LiveList => Some(counts.media_len(MediaList::Live)),
            Screen::Attendance => Some(counts.media_len(MediaList::Attendance)),
            Screen::Halls => Some(counts.media_len(MediaList::Halls)),
            Screen::Videos(c) => Some(counts.media_len(MediaList::Videos(c))),
            _ => None,
        };
        if let Some(len) = len {
            let absolute = (self.current.page * LIST_PAGE_SIZE + self.current.focus)
                .min(len.saturating_sub(1));
            self.current.page = absolute / LIST_PAGE_SIZE;
            self.current.focus = absolute % LIST_PAGE_SIZE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(usize);
    impl Counts for Fake {
        fn list_len(&self, _: DisclosureCategory, _: &str) -> usize {
            self.0
        }
        fn notice_len(&self) -> usize {
            3
        }
        fn notice_ids(&self, _: usize) -> Vec<String> {
            vec!["n0".into(), "n1".into(), "n2".into()]
        }
        fn list_ids(&self, _: DisclosureCategory, _: &str, page: usize) -> Vec<String> {
            (page * LIST_PAGE_SIZE..(page * LIST_PAGE_SIZE + LIST_PAGE_SIZE).min(self.0))
                .map(|i| format!("item{i}"))
                .collect()
        }
        fn shelf_len(&self, _: Shelf) -> usize {
            2
        }
        fn shelf_ids(&self, shelf: Shelf, _: usize) -> Vec<String> {
            let name = match shelf {
                Shelf::Honours => "honour",
                Shelf::Info(topic) => topic.as_str(),
            };
            vec![format!("{name}0"), format!("{name}1")]
        }
        fn media_len(&self, list: MediaList) -> usize {
            match list {
                MediaList::Live => 4,
                MediaList::Halls => 2,
                MediaList::Videos(_) => 2,
                MediaList::Attendance => 12,
            }
        }
        fn media_ids(&self, list: MediaList, _: usize) -> Vec<String> {
            match list {
                MediaList::Live => vec![
                    "live0".into(),
                    "live1".into(),
                    "later".into(),
                    ATTENDANCE_ROW.into(),
                ],
                MediaList::Halls => vec!["hallA".into(), "hallB".into()],
                MediaList::Videos(_) => vec!["watched".into(), "fresh".into()],
                MediaList::Attendance => Vec::new(),
            }
        }
        fn hall_cameras(&self, hall: &str) -> Vec<String> {
            (1..=5).map(|i| format!("{hall}-cam{i}")).collect()
        }
        fn camera_ids(&self) -> Vec<String> {
            ["hallA", "hallB"]
                .iter()
                .flat_map(|h| self.hall_cameras(h))
                .collect()
        }
        fn on_air_ids(&self) -> Vec<String> {
            vec!["live0".into(), "live1".into()]
        }
        fn resume_ms(&self, video: &str) -> Option<u64> {
            (video == "watched").then_some(42_000)
        }
    }

    fn press(nav: &mut Nav, keys: &[RemoteKey]) {
        for k in keys {
            nav.handle_key(*k, &Fake(12), 3);
        }
    }

    use RemoteKey::*;

    #[test]
    fn home_grid_moves_within_bounds() {
        let mut nav = Nav::new();
        press(&mut nav, &[Left, Up]);
        assert_eq!(nav.focus(), 0);
        press(&mut nav, &[Right, Right, Down]);
        assert_eq!(nav.focus(), 7);
        press(&mut nav, &[Down, Right, Right, Right]);
        assert_eq!(nav.focus(), 9);
    }

    #[test]
    fn back_returns_to_the_focus_you_left() {
        let mut nav = Nav::new();
        press(
            &mut nav,
            &[
                Ok, Right, Right, Ok, Right, Ok, Down, Down, Down, Down, Down, Down, Ok,
            ],
        );
        assert_eq!(nav.screen(), &Screen::Detail("item6".into()));
        press(&mut nav, &[Back]);
        assert_eq!(
            nav.screen(),
            &Screen::List(DisclosureCategory::Finance, "补助资金")
        );
        assert_eq!((nav.page(), nav.focus()), (1, 2));
        press(&mut nav, &[Back]);
        assert_eq!(
            (nav.screen(), nav.focus()),
            (&Screen::Modules(DisclosureCategory::Finance), 1)
        );
        press(&mut nav, &[Back]);
        assert_eq!((nav.screen(), nav.focus()), (&Screen::Categories, 2));
        press(&mut nav, &[Back, Back]);
        assert_eq!((nav.screen(), nav.focus()), (&Screen::Home, 0));
    }

    #[test]
    fn digits_and_channel_keys() {
        let mut nav = Nav::new();
        press(
            &mut nav,
            &[
                Digit(1),
                Digit(3),
                Digit(1),
                ChannelDown,
                ChannelDown,
                ChannelDown,
            ],
        );
        assert_eq!(nav.page(), 2);
        press(&mut nav, &[Digit(2)]);
        assert_eq!(nav.screen(), &Screen::Detail("item9".into()));
        press(&mut nav, &[ChannelDown, ChannelDown, ChannelDown]);
        assert_eq!(nav.page(), 2, "detail stops at its last page");
        press(&mut nav, &[Home]);
        assert_eq!(nav.screen(), &Screen::Home);
        press(&mut nav, &[Digit(0)]);
        assert_eq!(nav.screen(), &Screen::InfoTopics);
    }

    #[test]
    fn honours_and_every_info_topic_open_from_home_by_digits() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(7)]);
        assert_eq!(nav.screen(), &Screen::Shelf(Shelf::Honours));
        press(&mut nav, &[Down, Ok]);
        assert_eq!(nav.screen(), &Screen::Detail("honour1".into()));
        press(&mut nav, &[Back]);
        assert_eq!(nav.focus(), 1, "Back keeps the row");
        for (i, topic) in InfoTopic::ALL.iter().enumerate() {
            let mut nav = Nav::new();
            press(&mut nav, &[Digit(0), Digit(i as u8 + 1), Digit(1)]);
            let id = format!("{}0", topic.as_str());
            assert_eq!(nav.screen(), &Screen::Detail(id));
            press(&mut nav, &[Back, Back]);
            assert_eq!((nav.screen(), nav.focus()), (&Screen::InfoTopics, i));
        }
    }

    #[test]
    fn colour_keys_are_shortcuts_and_back_goes_home() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(1), Digit(1), Green]);
        assert_eq!(nav.screen(), &Screen::Categories);
        press(&mut nav, &[Back]);
        assert_eq!(nav.screen(), &Screen::Home);
        press(&mut nav, &[Blue, Down, Ok]);
        assert_eq!(nav.screen(), &Screen::Detail("n1".into()));
        press(&mut nav, &[Back, Back]);
        assert_eq!((nav.screen(), nav.focus()), (&Screen::Home, 1));
        press(&mut nav, &[Yellow]);
        assert_eq!(nav.screen(), &Screen::Coming("一键服务"));
        press(&mut nav, &[Back]);
        assert_eq!((nav.screen(), nav.focus()), (&Screen::Home, 8));
    }

    #[test]
    fn every_module_is_three_digits_from_home() {
        for (c, category) in DisclosureCategory::ALL.iter().enumerate() {
            for (m, module) in category.modules().iter().enumerate() {
                let mut nav = Nav::new();
                press(
                    &mut nav,
                    &[Digit(1), Digit(c as u8 + 1), Digit(m as u8 + 1)],
                );
                assert_eq!(nav.screen(), &Screen::List(*category, module));
                // And from anywhere: Home first, four presses in all.
                press(&mut nav, &[Digit(2), Home]);
                press(
                    &mut nav,
                    &[Digit(1), Digit(c as u8 + 1), Digit(m as u8 + 1)],
                );
                assert_eq!(nav.screen(), &Screen::List(*category, module));
            }
        }
    }

    #[test]
    fn settings_toggle_the_display_mode_and_open_the_remote_test() {
        let mut nav = Nav::new();
        press(&mut nav, &[Menu, Ok]);
        assert!(nav.standard_mode);
        assert_eq!(nav.action.take(), Some(NavAction::ToggleDisplayMode));
        assert_eq!(nav.screen(), &Screen::Settings);
        press(&mut nav, &[Ok]);
        assert!(!nav.standard_mode);
        press(&mut nav, &[Down, Ok]);
        assert_eq!(nav.screen(), &Screen::RemoteTest);
        press(&mut nav, &[Back, Digit(2)]);
        assert_eq!(nav.screen(), &Screen::RemoteTest);
    }

    #[test]
    fn module_grid_moves_in_three_columns() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(1), Digit(1), Right, Right, Right, Down]);
        assert_eq!(nav.focus(), 5);
        press(&mut nav, &[Down, Left, Up]);
        assert_eq!(nav.focus(), 1);
        press(&mut nav, &[Ok]);
        assert_eq!(
            nav.screen(),
            &Screen::List(DisclosureCategory::Party, "党员积分")
        );
    }

    #[test]
    fn camera_grid_picks_panes_and_channel_keys_walk_every_camera() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(4), Digit(1)]);
        assert_eq!(nav.screen(), &Screen::CameraGrid("hallA".into()));
        press(&mut nav, &[Right, Down, Right, Ok]);
        assert_eq!(nav.screen(), &Screen::Camera("hallA-cam4".into()));
        press(&mut nav, &[ChannelDown, ChannelDown]);
        assert_eq!(nav.screen(), &Screen::Camera("hallB-cam1".into()));
        press(&mut nav, &[Digit(2)]);
        assert_eq!(nav.screen(), &Screen::Camera("hallA-cam2".into()));
        press(&mut nav, &[Back]);
        assert_eq!(
            (nav.screen(), nav.focus()),
            (&Screen::CameraGrid("hallA".into()), 1)
        );
        // Channel+ shows the next four; the fifth camera is alone there.
        press(&mut nav, &[ChannelDown, Right, Down, Ok]);
        assert_eq!(nav.screen(), &Screen::Camera("hallA-cam5".into()));
        press(&mut nav, &[Back, Back]);
        assert_eq!((nav.screen(), nav.focus()), (&Screen::Halls, 0));
    }

    #[test]
    fn videos_ask_to_resume_only_when_watched_part_way() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(6), Digit(2), Digit(2)]);
        assert_eq!(
            nav.screen(),
            &Screen::Player(PlayItem {
                id: "fresh".into(),
                start_ms: 0
            })
        );
        press(&mut nav, &[Right]);
        assert_eq!(nav.action.take(), Some(NavAction::SeekBy(30)));
        press(&mut nav, &[Back, Digit(1)]);
        assert_eq!(nav.screen(), &Screen::ResumePrompt("watched".into()));
        press(&mut nav, &[Ok]);
        assert_eq!(
            nav.screen(),
            &Screen::Player(PlayItem {
                id: "watched".into(),
                start_ms: 42_000
            })
        );
        press(&mut nav, &[Ok]);
        assert_eq!(nav.action.take(), Some(NavAction::TogglePause));
        press(&mut nav, &[Back]);
        assert_eq!(nav.screen(), &Screen::Videos(VideoCategory::PartyEducation));
        press(&mut nav, &[Digit(1), Digit(2)]);
        assert_eq!(
            nav.screen(),
            &Screen::Player(PlayItem {
                id: "watched".into(),
                start_ms: 0
            })
        );
    }

    #[test]
    fn red_opens_live_and_channel_keys_switch_broadcasts() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(1), Red, Ok]);
        let live = |id: &str| {
            Screen::Player(PlayItem {
                id: id.into(),
                start_ms: 0,
            })
        };
        assert_eq!(nav.screen(), &live("live0"));
        assert!(nav.osd);
        press(&mut nav, &[Ok]);
        assert!(!nav.osd, "OK hides the on-screen display on live video");
        press(&mut nav, &[ChannelDown]);
        assert_eq!(nav.screen(), &live("live1"));
        press(&mut nav, &[ChannelDown]);
        assert_eq!(nav.screen(), &live("live0"), "wraps around");
        press(&mut nav, &[Back]);
        assert_eq!(nav.screen(), &Screen::LiveList);
    }

    #[test]
    fn the_attendance_record_opens_from_the_end_of_the_live_list_and_only_pages() {
        let mut nav = Nav::new();
        press(&mut nav, &[Red, Digit(4)]);
        assert_eq!(nav.screen(), &Screen::Attendance);
        // OK and digits open nothing; Channel- pages through 12 entries.
        press(&mut nav, &[Ok, Digit(2), ChannelDown]);
        assert_eq!(nav.screen(), &Screen::Attendance);
        assert_eq!(nav.page(), 1);
        press(&mut nav, &[Back]);
        assert_eq!(nav.screen(), &Screen::LiveList);
        assert_eq!(nav.focus(), 3);
    }

    #[test]
    fn offline_banner_does_not_flicker_while_retrying() {
        let mut nav = Nav::new();
        nav.sync_event(
            &SyncEvent::Failed {
                kind: FailureKind::Unreachable,
                detail: String::new(),
                retry_in: std::time::Duration::from_secs(2),
            },
            10,
        );
        nav.sync_event(&SyncEvent::Syncing, 11);
        assert!(nav.is_offline());
        nav.sync_event(&SyncEvent::Synced(Default::default()), 12);
        assert!(!nav.is_offline());
        assert_eq!(nav.last_synced, Some(12));
    }
}
