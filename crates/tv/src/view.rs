//! Plain view data for each screen, built from the core and the cache.
//! Every string here is what a viewer reads; tests assert on them.

use model::{format_date, Block, Content, DisclosureCategory, InfoTopic};
use store::{Cache, Shelf, StoreError};
use sync::FailureKind;

use crate::app::{Counts, MediaList, Nav, Screen, SyncStatus, Tile, LIST_PAGE_SIZE};
use crate::picture::Picture;
use crate::remote_test::RemoteTest;
pub use crate::view_media::{PaneView, VideoView};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct View {
    /// 0 home, 1 categories, 2 list, 3 detail, 4 coming, 5 settings,
    /// 6 remote test, 7 modules, 8 player, 9 camera grid (matches
    /// `AppState.screen`).
    pub screen: i32,
    /// The full-screen player (8).
    pub video: VideoView,
    /// The camera grid's panes (9).
    pub panes: Vec<PaneView>,
    pub region: String,
    pub status: String,
    pub offline: bool,
    pub offline_text: String,
    pub hint: String,
    pub focus: usize,
    pub tiles: Vec<TileView>,
    pub title: String,
    /// Where the viewer is: 三务公开 › 财务公开 › 收支情况.
    pub breadcrumb: String,
    /// Category or module cards: (label, count text).
    pub categories: Vec<(String, String)>,
    /// "3 条新" per card, empty when nothing is new.
    pub card_badges: Vec<String>,
    pub rows: Vec<(String, String)>,
    /// "新" per row for items not opened on this box yet.
    pub row_badges: Vec<String>,
    /// A poster (blob id) per row, for video lists; decoded by the
    /// controller into `row_pictures`.
    pub row_images: Vec<Option<String>>,
    pub row_pictures: Vec<Option<Picture>>,
    pub page_text: String,
    pub empty_text: String,
    pub meta: String,
    /// The whole detail; `page_blocks` is the part on screen.
    pub blocks: Vec<BlockView>,
    pub page_blocks: Vec<BlockView>,
    pub detail_page: usize,
    /// An urgent notice shown over the screen until OK: title, meta, text.
    pub popup: Option<(String, String, String)>,
    /// The popup's badge; empty: 紧急通知.
    pub popup_badge: String,
    /// Rows as single label/value lines (本机信息与诊断).
    pub compact_rows: bool,
    /// Remote test: which remotes are connected, keymap notes, keys seen.
    pub test_status: String,
    pub test_notes: String,
    pub test_keys: Vec<KeyRowView>,
    /// The form page (10).
    pub form: crate::view_services::FormView,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyRowView {
    pub name: String,
    pub scancode: String,
    pub action: String,
    pub unmapped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TileView {
    pub label: String,
    pub glyph: String,
    pub badge: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockView {
    Paragraph(String),
    Table {
        caption: String,
        /// 合计与明细不符 when the totals row does not add up.
        warning: String,
        rows: Vec<TableRowView>,
    },
    /// An image with its caption; `picture` is filled in by the controller
    /// when the image is cached, else `status` says why it is not shown.
    Image {
        blob: String,
        caption: String,
        picture: Option<Picture>,
        status: String,
    },
    /// 时代先锋: photo on the left, name and award on the right.
    Profile {
        photo: Option<String>,
        picture: Option<Picture>,
        status: String,
        name: String,
        lines: Vec<String>,
    },
    /// 收支情况: one bar per income or spending category.
    BarChart {
        title: String,
        bars: Vec<BarView>,
    },
    /// 收支情况: income against spending over the last periods.
    Trend {
        title: String,
        points: Vec<TrendPoint>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BarView {
    pub label: String,
    /// `86,000.00 元`
    pub value: String,
    /// Length against the largest bar, 0..=1.
    pub fraction: f32,
    pub income: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// The period, e.g. 2026年第三季度.
    pub label: String,
    pub income: f32,
    pub spending: f32,
    pub income_text: String,
    pub spending_text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRowView {
    pub kind: RowKind,
    /// (text, right-aligned)
    pub cells: Vec<(String, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Header,
    Body,
    Totals,
}

pub const TOTALS_WARNING: &str = "合计与明细不符，请以村委会公开栏为准";

/// The cache as the navigation core sees it.
pub struct CacheCounts<'a>(pub &'a Cache);

impl Counts for CacheCounts<'_> {
    fn list_len(&self, category: DisclosureCategory, module: &str) -> usize {
        self.0.module_len(category, module).unwrap_or(0)
    }

    fn notice_len(&self) -> usize {
        self.0.notice_len().unwrap_or(0)
    }

    fn notice_ids(&self, page: usize) -> Vec<String> {
        self.0
            .notice_page(page * LIST_PAGE_SIZE, LIST_PAGE_SIZE)
            .map(|rows| rows.into_iter().map(|r| r.id).collect())
            .unwrap_or_default()
    }

    fn list_ids(&self, category: DisclosureCategory, module: &str, page: usize) -> Vec<String> {
        self.0
            .module_page(category, module, page * LIST_PAGE_SIZE, LIST_PAGE_SIZE)
            .map(|rows| rows.into_iter().map(|r| r.id).collect())
            .unwrap_or_default()
    }

    fn shelf_len(&self, shelf: Shelf) -> usize {
        self.0.shelf_len(shelf).unwrap_or(0)
    }

    fn shelf_ids(&self, shelf: Shelf, page: usize) -> Vec<String> {
        self.0
            .shelf_page(shelf, page * LIST_PAGE_SIZE, LIST_PAGE_SIZE)
            .map(|rows| rows.into_iter().map(|r| r.id).collect())
            .unwrap_or_default()
    }

    fn media_len(&self, list: MediaList) -> usize {
        crate::view_media::media_ids(self.0, list, crate::controller::now_unix())
            .map_or(0, |ids| ids.len())
    }

    fn media_ids(&self, list: MediaList, page: usize) -> Vec<String> {
        crate::view_media::media_ids(self.0, list, crate::controller::now_unix())
            .map(|ids| crate::view_media::page_of(ids, page))
            .unwrap_or_default()
    }

    fn hall_cameras(&self, hall: &str) -> Vec<String> {
        crate::view_media::halls(self.0)
            .ok()
            .and_then(|halls| halls.into_iter().find(|h| h.key == hall))
            .map(|h| h.cameras)
            .unwrap_or_default()
    }

    fn camera_ids(&self) -> Vec<String> {
        self.0
            .cameras()
            .map(|c| c.into_iter().map(|e| e.id).collect())
            .unwrap_or_default()
    }

    fn on_air_ids(&self) -> Vec<String> {
        let now = crate::controller::now_unix();
        self.0
            .live_channels(now)
            .map(|l| {
                l.into_iter()
                    .filter(|e| e.item.status(now) == model::LiveStatus::OnAir)
                    .map(|e| e.id)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn resume_ms(&self, video: &str) -> Option<u64> {
        self.0.resume_point(video).ok().flatten()
    }

    fn service_menu(&self) -> model::ServiceMenu {
        self.0
            .service_menu()
            .unwrap_or_else(|_| model::ServiceMenu::standard())
    }

    fn service_len(&self, list: &crate::app::ServiceList) -> usize {
        crate::view_services::service_rows(self.0, list, crate::controller::now_unix())
            .map_or(0, |rows| rows.len())
    }

    fn service_ids(&self, list: &crate::app::ServiceList, page: usize) -> Vec<String> {
        crate::view_services::service_rows(self.0, list, crate::controller::now_unix())
            .map(|rows| crate::view_media::page_of(rows.into_iter().map(|r| r.id).collect(), page))
            .unwrap_or_default()
    }

    fn questionnaire(&self, id: &str) -> Option<model::Questionnaire> {
        self.0
            .questionnaires()
            .ok()?
            .into_iter()
            .find(|q| q.id == id)
            .map(|q| q.item)
    }

    fn exam(&self, id: &str) -> Option<model::Exam> {
        self.0
            .exams()
            .ok()?
            .into_iter()
            .find(|e| e.id == id)
            .map(|e| e.item)
    }

    fn members(&self) -> Vec<(String, String)> {
        self.0
            .household()
            .map(|h| h.members.into_iter().map(|m| (m.id, m.name)).collect())
            .unwrap_or_default()
    }

    fn last_phone(&self) -> Option<String> {
        self.0.last_phone().ok().flatten()
    }

    fn taken(&self, kind: store::TakenKind, item: &str, member: &str) -> bool {
        crate::view_services::is_taken(self.0, kind, item, member)
    }
}

/// Unopened items across every 便民信息 topic (the home badge).
fn new_info(cache: &Cache) -> Result<usize, StoreError> {
    InfoTopic::ALL
        .iter()
        .map(|t| cache.shelf_new(Shelf::Info(*t)))
        .sum()
}

/// Rows of a module or shelf list: title, then period · 本村 · date, and "新".
fn list_rows(v: &mut View, rows: &[store::DisclosureRow], own_scope: &str) {
    v.rows = rows
        .iter()
        .map(|r| {
            let mut meta = vec![r.period.clone(), scope_label(&r.scope, own_scope).into()];
            meta.push(format_date(r.published_at));
            meta.retain(|p| !p.is_empty());
            (r.title.clone(), meta.join(" · "))
        })
        .collect();
    v.row_badges = rows
        .iter()
        .map(|r| if r.new { "新".into() } else { String::new() })
        .collect();
}

/// What a list says when it has nothing to show.
fn empty_list_text(cache: &Cache, nav: &Nav, nothing: &str) -> Result<String, StoreError> {
    Ok(if cache.sync_state()?.last_synced.is_some() {
        nothing.into()
    } else if nav.is_offline() {
        "暂无内容。网络恢复后会自动获取。".into()
    } else {
        "正在获取内容，请稍候…".into()
    })
}

fn new_badge(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{n} 条新")
    }
}

/// `10:05` in Beijing time.
pub(crate) fn clock(unix: i64) -> String {
    let secs = (unix + 8 * 3600).rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

/// What a box the headend no longer accepts says, in plain words.
pub fn refused_text(revoked: bool) -> String {
    if revoked {
        "本机已被停用，请联系安装人员用开通码重新开通".into()
    } else {
        "本机开通已失效，请联系安装人员用开通码重新开通".into()
    }
}

fn offline_text(kind: FailureKind, last_synced: Option<i64>) -> String {
    let what = match kind {
        FailureKind::Unreachable => "网络未连接",
        FailureKind::Server => "服务器暂时无法访问",
        FailureKind::BadData => "收到的内容有误，已忽略",
        FailureKind::LocalStorage => "本机存储出错，正在修复",
        FailureKind::DeviceRefused => return refused_text(false),
    };
    match last_synced {
        Some(at) => format!(
            "{what}，正在显示{}{}保存的内容，会自动重试",
            format_date(at),
            clock(at)
        ),
        None => format!("{what}，正在显示本机保存的内容，会自动重试"),
    }
}

/// 本村, 本镇 or 本县: whose disclosure this is, as the viewer sees it.
pub(crate) fn scope_label(scope: &str, own: &str) -> &'static str {
    // Codes tell the level by their tail: county ends in 000000, town in 000.
    if scope == own {
        "本村"
    } else if scope.ends_with("000000") {
        "本县"
    } else {
        "本镇"
    }
}

/// The urgent notice to pop up, as (title, meta, text).
pub fn popup(
    cache: &Cache,
    id: &str,
    own_scope: &str,
) -> Result<Option<(String, String, String)>, StoreError> {
    let Some(item) = cache.item(id)? else {
        return Ok(None);
    };
    let Content::Notice(n) = &item.content else {
        return Ok(None);
    };
    let text: Vec<&str> = n
        .body
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut text = text.join("\n");
    // The overlay holds about six lines; the full text is in 通知公告.
    const MAX_CHARS: usize = 150;
    if text.chars().count() > MAX_CHARS {
        text = text.chars().take(MAX_CHARS).collect::<String>() + "……（全文见“通知公告”）";
    }
    let meta = format!(
        "{} · {} · {}",
        n.issuer,
        scope_label(item.scope.as_str(), own_scope),
        format_date(item.published_at)
    );
    Ok(Some((n.title.clone(), meta, text)))
}

/// Builds what the screen shows now.
pub fn build(
    nav: &Nav,
    cache: &Cache,
    own_scope: &str,
    remote_test: &RemoteTest,
) -> Result<View, StoreError> {
    let regions = cache.region_names()?;
    let mut v = View {
        region: regions.iter().rev().cloned().collect::<Vec<_>>().join(" "),
        focus: nav.focus(),
        ..View::default()
    };
    v.status = match &nav.sync {
        SyncStatus::Starting => "正在启动…".into(),
        SyncStatus::Syncing => "正在同步…".into(),
        SyncStatus::Synced { at } => format!("已同步 {}", clock(*at)),
        SyncStatus::Failed { .. } => "离线".into(),
    };
    if let SyncStatus::Failed { kind } = nav.sync {
        v.offline = true;
        v.offline_text = offline_text(kind, nav.last_synced.or(cache.sync_state()?.last_synced));
    }
    if let Some(revoked) = nav.refused {
        v.status = "已停用".into();
        v.offline = true;
        v.offline_text = refused_text(revoked);
    }
    match nav.screen() {
        Screen::Home => {
            v.screen = 0;
            v.hint = "方向键选择，确定键打开；数字键直达".into();
            let new_disclosures: usize = cache.new_per_category()?.iter().sum();
            let unread_notices = cache.unread_notices()?;
            let new_honours = cache.shelf_new(Shelf::Honours)?;
            let new_info = new_info(cache)?;
            let unread_replies = cache.unread_replies()?;
            let open_evaluations = crate::view_services::service_rows(
                cache,
                &crate::app::ServiceList::Evaluations,
                crate::controller::now_unix(),
            )?
            .iter()
            .filter(|r| r.badge.is_empty())
            .count();
            let count = |n: usize| if n == 0 { String::new() } else { n.to_string() };
            v.tiles = Tile::ALL
                .iter()
                .map(|t| TileView {
                    label: t.label().into(),
                    glyph: t.glyph().into(),
                    badge: match t {
                        Tile::Disclosures => count(new_disclosures),
                        Tile::Notices => count(unread_notices),
                        Tile::Honours => count(new_honours),
                        Tile::LocalInfo => count(new_info),
                        Tile::OneKeyService => count(unread_replies),
                        Tile::Evaluation => count(open_evaluations),
                        _ => String::new(),
                    },
                })
                .collect();
        }
        Screen::Categories => {
            v.screen = 1;
            v.title = "三务公开".into();
            v.hint = "左右键选择，确定键打开，返回键回首页".into();
            v.categories = cache
                .disclosure_counts()?
                .into_iter()
                .map(|c| (c.category.label().to_string(), format!("共 {} 条", c.count)))
                .collect();
            v.card_badges = cache
                .new_per_category()?
                .into_iter()
                .map(new_badge)
                .collect();
        }
        Screen::Modules(category) => {
            v.screen = 7;
            v.title = category.label().into();
            v.breadcrumb = "三务公开".into();
            v.hint = "方向键选择，确定键打开；数字键直达".into();
            let modules = cache.module_counts(*category)?;
            v.categories = modules
                .iter()
                .map(|m| (m.module.to_string(), format!("共 {} 条", m.count)))
                .collect();
            v.card_badges = modules.iter().map(|m| new_badge(m.new)).collect();
        }
        Screen::List(category, module) => {
            v.screen = 2;
            v.title = (*module).into();
            v.breadcrumb = format!("三务公开 › {}", category.label());
            v.hint = "上下键选择，确定键查看，频道键翻页".into();
            let len = cache.module_len(*category, module)?;
            let pages = len.div_ceil(LIST_PAGE_SIZE).max(1);
            v.page_text = format!("第 {}/{} 页", nav.page() + 1, pages);
            let rows = cache.module_page(
                *category,
                module,
                nav.page() * LIST_PAGE_SIZE,
                LIST_PAGE_SIZE,
            )?;
            list_rows(&mut v, &rows, own_scope);
            v.empty_text = empty_list_text(cache, nav, "暂无公开内容")?;
        }
        Screen::InfoTopics => {
            v.screen = 7;
            v.title = "便民信息".into();
            v.hint = "方向键选择，确定键打开；数字键直达".into();
            let mut badges = Vec::new();
            for topic in InfoTopic::ALL {
                let shelf = Shelf::Info(topic);
                v.categories.push((
                    topic.label().to_string(),
                    format!("共 {} 条", cache.shelf_len(shelf)?),
                ));
                badges.push(new_badge(cache.shelf_new(shelf)?));
            }
            v.card_badges = badges;
        }
        Screen::Shelf(shelf) => {
            v.screen = 2;
            let (title, breadcrumb, nothing) = match shelf {
                Shelf::Honours => ("时代先锋".to_string(), String::new(), "暂无先进典型"),
                Shelf::Info(topic) => (
                    topic.label().to_string(),
                    "便民信息".to_string(),
                    "暂无信息",
                ),
            };
            v.title = title;
            v.breadcrumb = breadcrumb;
            v.hint = "上下键选择，确定键查看，频道键翻页".into();
            let len = cache.shelf_len(*shelf)?;
            let pages = len.div_ceil(LIST_PAGE_SIZE).max(1);
            v.page_text = format!("第 {}/{} 页", nav.page() + 1, pages);
            let rows = cache.shelf_page(*shelf, nav.page() * LIST_PAGE_SIZE, LIST_PAGE_SIZE)?;
            list_rows(&mut v, &rows, own_scope);
            v.empty_text = empty_list_text(cache, nav, nothing)?;
        }
        Screen::Notices => {
            v.screen = 2;
            v.title = "通知公告".into();
            v.hint = "上下键选择，确定键查看，频道键翻页".into();
            let len = cache.notice_len()?;
            let pages = len.div_ceil(LIST_PAGE_SIZE).max(1);
            v.page_text = format!("第 {}/{} 页", nav.page() + 1, pages);
            let rows = cache.notice_page(nav.page() * LIST_PAGE_SIZE, LIST_PAGE_SIZE)?;
            v.rows = rows
                .iter()
                .map(|r| {
                    let meta = format!(
                        "{} · {}",
                        scope_label(&r.scope, own_scope),
                        format_date(r.published_at)
                    );
                    (r.title.clone(), meta)
                })
                .collect();
            v.row_badges = rows
                .iter()
                .map(|r| match (r.urgent, r.new) {
                    (true, _) => "紧急".into(),
                    (false, true) => "新".into(),
                    _ => String::new(),
                })
                .collect();
            v.empty_text = "暂无通知".into();
        }
        Screen::Detail(id) => {
            v.screen = 3;
            v.hint = "上下键或频道键翻页，返回键回到列表".into();
            v.detail_page = nav.page();
            match cache.item(id)? {
                Some(item) => crate::detail::fill(&mut v, cache, &item, own_scope)?,
                None => {
                    v.title = "这条内容已撤回".into();
                    v.blocks = vec![BlockView::Paragraph("请按返回键回到列表。".into())];
                }
            }
        }
        Screen::Coming(title) => {
            v.screen = 4;
            v.title = (*title).to_string();
            v.hint = "按返回键回到上一页".into();
        }
        Screen::Diagnostics => {
            // The controller fills the lines in.
            v.screen = 5;
            v.title = "本机信息与诊断".into();
            v.compact_rows = true;
            v.hint = "确定键开始播放测试，返回键回到设置".into();
        }
        Screen::Settings => {
            v.screen = 5;
            v.title = "设置".into();
            v.hint = "上下键选择，确定键打开，返回键回到上一页".into();
            v.rows = vec![
                (
                    if nav.standard_mode {
                        "显示模式：标准模式".into()
                    } else {
                        "显示模式：长辈模式".into()
                    },
                    if nav.standard_mode {
                        "字小一些，一页显示更多；按确定键换回长辈模式".into()
                    } else {
                        "大字，看得清楚；按确定键换成标准模式".into()
                    },
                ),
                (
                    "遥控器测试".into(),
                    "逐个按键，查看机顶盒收到的键名和功能".into(),
                ),
                (
                    "本机信息与诊断".into(),
                    "网络、服务器、同步、缓存、待发送，和播放测试".into(),
                ),
                (
                    "重新开通本机".into(),
                    "换村或换户时用；需要县里发的开通码".into(),
                ),
            ];
            v.row_badges = vec![String::new(); v.rows.len()];
        }
        Screen::RemoteTest => {
            v.screen = 6;
            v.title = "遥控器测试".into();
            v.hint = "连按两次返回键退出".into();
            remote_test_view(&mut v, remote_test);
        }
        _ => {
            let now = crate::controller::now_unix();
            if !crate::view_services::build(&mut v, nav, cache, now)? {
                crate::view_media::build(&mut v, nav, cache, own_scope, now)?;
            }
        }
    }
    Ok(v)
}

fn remote_test_view(v: &mut View, t: &RemoteTest) {
    v.test_status = if !t.remotes.is_empty() {
        let names: Vec<String> = t
            .remotes
            .iter()
            .map(|(path, name)| {
                let node = path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                format!("{name}（{node}）")
            })
            .collect();
        format!("已连接：{}", names.join("、"))
    } else if !t.evdev_enabled {
        "未开启遥控器接收（tv.toml 中 [input] evdev = true），现在只收键盘按键".into()
    } else {
        "没有找到遥控器接收器，请检查连接".into()
    };
    let mut notes = vec![if t.total == 0 {
        "请逐个按遥控器上的键".to_string()
    } else {
        format!(
            "已收到 {} 次按键，其中未设置功能 {} 次",
            t.total, t.unmapped
        )
    }];
    notes.extend(
        t.keymap_errors
            .iter()
            .map(|e| format!("按键表有误，未使用：{e}")),
    );
    v.test_notes = notes.join("\n");
    v.test_keys = t
        .seen
        .iter()
        .map(|k| KeyRowView {
            name: if k.repeat {
                format!("{}（按住）", k.name)
            } else {
                k.name.clone()
            },
            scancode: k
                .scancode
                .map(|s| format!("扫描码 {s:#x}"))
                .unwrap_or_default(),
            action: match k.action {
                Some(a) => a.label(),
                None => "未设置功能，请在按键表中添加".into(),
            },
            unmapped: k.action.is_none(),
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_beijing_time() {
        assert_eq!(clock(1_795_276_800), "00:00");
        assert_eq!(clock(1_795_276_800 + 10 * 3600 + 5 * 60), "10:05");
    }
}
