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
#[path = "app_services.rs"]
mod services;

pub use media::{MediaList, PlayItem, ATTENDANCE_ROW, GRID_PANES};
pub use services::{
    presets, FormDraft, FormKind, RequestDraft, ServiceList, MAX_PHONE_DIGITS,
    PARTY_EDUCATION_CARDS, RESULTS_ROW,
};

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
    /// 本机信息与诊断, from settings: OK runs the stream test.
    Diagnostics,
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
    /// 一键服务: the categories, then 我的服务.
    Services,
    /// A category's preset descriptions (by category id), then 不选内容.
    ServicePresets(String),
    /// The contact phone for a request.
    ServicePhone(RequestDraft),
    /// 已提交, for the request written with this outbox key.
    ServiceSent(String),
    /// 我的服务: the household's requests.
    MyRequests,
    /// One request with its status and reply, by outbox key.
    RequestDetail(String),
    /// 党风评议: open questionnaires.
    Evaluations,
    /// 已参加: the household answered this questionnaire already.
    Taken(String),
    /// 党教园地: 学习视频 and 在线考试.
    PartyEducation,
    /// 在线考试: open exams, then 我的成绩.
    Exams,
    /// Who in the household takes this exam.
    ExamMembers(String),
    /// What the exam is like, before its clock starts.
    ExamIntro {
        exam: String,
        member: String,
    },
    /// 我的成绩.
    ExamResults,
    /// The question on screen of the form being answered.
    Form,
    /// All questions seen: hand in, or go back.
    FormReview,
    /// Handed in: thanks, or the exam's score when it is back.
    FormDone {
        item: String,
        member: String,
    },
}

/// Entries of the settings page, in order: 显示模式 toggles, 遥控器测试,
/// 本机信息与诊断 open, 重新开通本机 restarts into provisioning.
pub const SETTINGS_LEN: usize = 4;

/// Something the controller must do for the core (it owns storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavAction {
    /// Switch 长辈模式 and 标准模式, and remember it.
    ToggleDisplayMode,
    /// Video on demand: OK pauses and resumes.
    TogglePause,
    /// Video on demand: Left/Right seek by seconds.
    SeekBy(i32),
    /// Write the request on the phone screen to the outbox.
    SendRequest,
    /// Write the form (questionnaire or exam) to the outbox.
    SubmitForm,
    /// A home module was opened: counted for the headend's use statistics.
    OpenedTile(Tile),
    /// 本机信息与诊断 opened: gather what the box knows about itself.
    Diagnose,
    /// Play the test stream and report its first-frame time.
    StreamTest,
    /// Provision the box again (behind the installer code).
    Reprovision,
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
    /// The 一键服务 menu that applies to this box.
    fn service_menu(&self) -> model::ServiceMenu {
        model::ServiceMenu::standard()
    }
    fn service_len(&self, _list: &ServiceList) -> usize {
        0
    }
    fn service_ids(&self, _list: &ServiceList, _page: usize) -> Vec<String> {
        Vec::new()
    }
    fn questionnaire(&self, _id: &str) -> Option<model::Questionnaire> {
        None
    }
    fn exam(&self, _id: &str) -> Option<model::Exam> {
        None
    }
    /// The household's members: (id, name).
    fn members(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The phone number given last time.
    fn last_phone(&self) -> Option<String> {
        None
    }
    /// Whether the household (member: empty) or a member handed it in.
    fn taken(&self, _kind: store::TakenKind, _item: &str, _member: &str) -> bool {
        false
    }
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
    /// The headend refused this box's token (`Some(true)`: revoked). It
    /// keeps showing its cache and says it must be provisioned again.
    pub refused: Option<bool>,
    /// The on-screen display over live video (OK toggles it).
    pub osd: bool,
    /// Digits typed into the phone field of a service request.
    phone: String,
    /// What a form screen says under its field or options.
    message: String,
    /// The questionnaire or exam being answered.
    form: Option<FormDraft>,
    /// The focused option of the question on screen.
    form_focus: usize,
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
            refused: None,
            osd: true,
            phone: String::new(),
            message: String::new(),
            form: None,
            form_focus: 0,
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
        self.action = Some(NavAction::OpenedTile(tile));
        match tile {
            Tile::Disclosures => self.open(Screen::Categories),
            Tile::Notices => self.open(Screen::Notices),
            Tile::Honours => self.open(Screen::Shelf(Shelf::Honours)),
            Tile::LocalInfo => self.open(Screen::InfoTopics),
            Tile::Live => self.open(Screen::LiveList),
            Tile::Cameras => self.open(Screen::Halls),
            Tile::PartyEducation => self.open(Screen::PartyEducation),
            Tile::VideoOnDemand => self.open(Screen::VideoCategories),
            Tile::Evaluation => self.open(Screen::Evaluations),
            Tile::OneKeyService => self.open(Screen::Services),
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
        let before = (
            self.current.clone(),
            self.stack.len(),
            (self.phone.clone(), self.message.clone()),
            (self.form.clone(), self.form_focus),
        );
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
                Screen::Diagnostics => {
                    if key == RemoteKey::Ok {
                        self.action = Some(NavAction::StreamTest);
                    }
                }
                screen @ (Screen::Services
                | Screen::ServicePresets(_)
                | Screen::ServicePhone(_)
                | Screen::ServiceSent(_)
                | Screen::MyRequests
                | Screen::RequestDetail(_)
                | Screen::Evaluations
                | Screen::Taken(_)
                | Screen::PartyEducation
                | Screen::Exams
                | Screen::ExamMembers(_)
                | Screen::ExamIntro { .. }
                | Screen::ExamResults
                | Screen::Form
                | Screen::FormReview
                | Screen::FormDone { .. }) => self.service_key(key, screen, counts),
                screen => self.media_key(key, screen, counts),
            },
        }
        (
            self.current.clone(),
            self.stack.len(),
            (self.phone.clone(), self.message.clone()),
            (self.form.clone(), self.form_focus),
        ) != before
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
            Some(1) => {
                self.current.focus = 1;
                self.open(Screen::RemoteTest);
            }
            Some(2) => {
                self.current.focus = 2;
                self.open(Screen::Diagnostics);
                self.action = Some(NavAction::Diagnose);
            }
            Some(i) => {
                self.current.focus = i;
                self.action = Some(NavAction::Reprovision);
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
            SyncEvent::DeviceRefused { revoked } => {
                self.refused = Some(*revoked);
                false
            }
            SyncEvent::RollCall { .. }
            | SyncEvent::Command(_)
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
#[path = "app_tests.rs"]
mod tests;
