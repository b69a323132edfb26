//! Feed content: what the headend publishes and the box shows.

use crate::honour::{Honour, Ranking, MAX_RANK_ENTRIES};
use crate::info::{Info, InfoPage};
use crate::media::{Camera, LiveChannel, Video};
use crate::services::{Exam, Questionnaire, ServiceMenu};
use crate::{AreaCode, Money};

/// One published item as the feed carries it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedItem {
    /// Stable id; a new version of the same item keeps its id.
    pub id: String,
    /// Position in the headend's change sequence; cursors count in these.
    pub seq: u64,
    /// The region it was published for (village, town or county).
    pub scope: AreaCode,
    /// Unix seconds when it was published.
    pub published_at: i64,
    /// 1 for the first publication, +1 for each correction.
    pub version: u32,
    pub content: Content,
}

/// An item that was withdrawn; the box deletes it from its cache.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tombstone {
    pub id: String,
    pub seq: u64,
}

/// One page of `GET /api/v1/feed`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedPage {
    pub upserts: Vec<FeedItem>,
    pub tombstones: Vec<Tombstone>,
    /// Pass as `since` for the next page.
    pub next_cursor: u64,
    /// True when another page follows immediately.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    Disclosure(Disclosure),
    Notice(Notice),
    /// 时代先锋: an honoured member, branch or household.
    Honour(Honour),
    /// 时代先锋: the 党员积分 ranking of a period.
    Ranking(Ranking),
    /// 便民信息: weather, prices, jobs, policies, procedures.
    Info(Info),
    /// 服务视窗: a service-hall camera.
    Camera(Camera),
    /// 党群直播: a live meeting or lesson.
    Live(LiveChannel),
    /// 视频点播 / 党教园地: a video on demand.
    Video(Video),
    /// 一键服务: a county's categories and preset descriptions.
    ServiceMenu(ServiceMenu),
    /// 党风评议: a questionnaire.
    Questionnaire(Questionnaire),
    /// An exam (党章考试 and others), without its answers.
    Exam(Exam),
    /// A kind this build does not know yet. The box skips it; a newer build
    /// refetches everything once (see `CONTENT_SCHEMA` in the store).
    #[serde(other)]
    Unsupported,
}

impl Content {
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Disclosure(_) => "disclosure",
            Content::Notice(_) => "notice",
            Content::Honour(_) => "honour",
            Content::Ranking(_) => "ranking",
            Content::Info(_) => "info",
            Content::Camera(_) => "camera",
            Content::Live(_) => "live",
            Content::Video(_) => "video",
            Content::ServiceMenu(_) => "service_menu",
            Content::Questionnaire(_) => "questionnaire",
            Content::Exam(_) => "exam",
            Content::Unsupported => "unsupported",
        }
    }

    /// The blocks of free-form kinds; structured kinds have none.
    pub fn body(&self) -> &[Block] {
        match self {
            Content::Disclosure(d) => &d.body,
            Content::Notice(n) => &n.body,
            Content::Info(Info {
                page: InfoPage::Policy { body, .. },
                ..
            }) => body,
            _ => &[],
        }
    }

    /// Blob ids of the images this content shows.
    pub fn image_blobs(&self) -> Vec<&str> {
        let photo = match self {
            Content::Honour(h) => h.photo.as_deref(),
            Content::Video(v) => v.poster.as_deref(),
            _ => None,
        };
        photo
            .into_iter()
            .chain(self.body().iter().filter_map(|b| match b {
                Block::Image { blob, .. } => Some(blob.as_str()),
                _ => None,
            }))
            .collect()
    }

    pub fn title(&self) -> String {
        match self {
            Content::Disclosure(d) => d.title.clone(),
            Content::Notice(n) => n.title.clone(),
            Content::Honour(h) => h.title(),
            Content::Ranking(r) => r.title.clone(),
            Content::Info(i) => i.title.clone(),
            Content::Camera(c) => format!("{} · {}", c.hall, c.name),
            Content::Live(l) => l.title.clone(),
            Content::Video(v) => v.title.clone(),
            Content::ServiceMenu(_) => "一键服务".to_string(),
            Content::Questionnaire(q) => q.title.clone(),
            Content::Exam(e) => e.title.clone(),
            Content::Unsupported => String::new(),
        }
    }
}

/// 三务公开: the three kinds of public disclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureCategory {
    /// 党务公开
    Party,
    /// 村务公开
    Village,
    /// 财务公开
    Finance,
}

impl DisclosureCategory {
    pub const ALL: [DisclosureCategory; 3] = [Self::Party, Self::Village, Self::Finance];

    pub fn label(self) -> &'static str {
        match self {
            Self::Party => "党务公开",
            Self::Village => "村务公开",
            Self::Finance => "财务公开",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Party => "party",
            Self::Village => "village",
            Self::Finance => "finance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The modules county platforms use under each category.
    pub fn modules(self) -> &'static [&'static str] {
        match self {
            Self::Party => &[
                "组织建设",
                "党员积分",
                "党费缴纳",
                "支部生活日",
                "发展党员",
                "督查通报",
            ],
            Self::Village => &["低保户", "计划生育", "居民养老保险", "其他事项"],
            Self::Finance => &["收支情况", "补助资金", "集体工程项目"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Disclosure {
    pub category: DisclosureCategory,
    /// One of [`DisclosureCategory::modules`], e.g. `收支情况`.
    pub module: String,
    pub title: String,
    /// The period it covers, e.g. `2026年第三季度` or `2026年10月`.
    pub period: String,
    pub body: Vec<Block>,
    /// Corrections so far, oldest first: a published disclosure is never
    /// edited in place, each correction is a new version with its reason,
    /// which the box shows as 更正.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<Correction>,
}

/// One correction of a disclosure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Correction {
    /// The version this correction made (2 for the first).
    pub version: u32,
    /// Unix seconds.
    pub corrected_at: i64,
    /// Why, in the words of whoever corrected it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    pub title: String,
    /// Who issued it, e.g. `青石镇党委`.
    pub issuer: String,
    /// Urgent notices pop up over whatever is on screen.
    pub urgent: bool,
    pub body: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph { text: String },
    Table(Table),
    Image { blob: String, caption: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    /// Cells are amounts in yuan, e.g. `12345.60`.
    Money,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// What a finance table lists, so the box can chart 收支情况.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableRole {
    /// 收入: one row per income category.
    Income,
    /// 支出: one row per spending category.
    Spending,
}

/// A table as finance disclosures use them. Cells travel as strings; cells
/// of money columns must parse as [`Money`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// The 合计 row: text columns hold a label, money columns the sums.
    pub totals: Option<Vec<String>>,
    /// Set on the income and spending tables of 收支情况 disclosures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<TableRole>,
}

/// Why an item is not acceptable. Cell references use spreadsheet notation
/// (`C7`: third column, seventh row counting the header as row 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("item {id}: {field} must not be empty")]
    Empty { id: String, field: &'static str },
    #[error("item {id}: module {module:?} does not belong to {category}")]
    UnknownModule {
        id: String,
        module: String,
        category: &'static str,
    },
    #[error("table {table:?}: row {row} has {found} cells but the table has {expected} columns")]
    RowWidth {
        table: String,
        row: usize,
        found: usize,
        expected: usize,
    },
    #[error("table {table:?} cell {cell}: {value:?} is not an amount in yuan")]
    BadAmount {
        table: String,
        cell: String,
        value: String,
    },
    #[error("table {table:?} cell {cell}: total {stated} does not match the rows, which add up to {computed}")]
    TotalMismatch {
        table: String,
        cell: String,
        stated: Money,
        computed: Money,
    },
    #[error("image block has {0:?} where a sha-256 blob id (64 hex digits) belongs")]
    BadBlobId(String),
    #[error("item {id}: price of {product:?} is {value:?}, which is not an amount in yuan")]
    BadPrice {
        id: String,
        product: String,
        value: String,
    },
    #[error("item {id}: forecast for {date} has a low of {low}°C above its high of {high}°C")]
    Temperatures {
        id: String,
        date: String,
        low: i16,
        high: i16,
    },
    #[error("item {id}: stream {url:?}: {why}")]
    BadStream {
        id: String,
        url: String,
        why: &'static str,
    },
    #[error("item {id}: a live broadcast must end after it starts")]
    Schedule { id: String },
    #[error("item {id}: {why}")]
    Form { id: String, why: String },
    #[error("item {id}: the ranking has {found} entries; at most {max} are allowed")]
    TooManyEntries {
        id: String,
        found: usize,
        max: usize,
    },
}

fn cell_ref(col: usize, row_1based: usize) -> String {
    let mut name = String::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        name.insert(0, char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    format!("{name}{row_1based}")
}

impl Table {
    /// Shape and amount format. Does not compare totals (see [`Table::check_totals`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let expected = self.columns.len();
        let all_rows = self.rows.iter().chain(self.totals.iter());
        for (i, row) in all_rows.enumerate() {
            if row.len() != expected {
                return Err(ValidationError::RowWidth {
                    table: self.caption.clone(),
                    row: i + 2,
                    found: row.len(),
                    expected,
                });
            }
            for (c, col) in self.columns.iter().enumerate() {
                if col.kind == ColumnKind::Money && row[c].parse::<Money>().is_err() {
                    return Err(ValidationError::BadAmount {
                        table: self.caption.clone(),
                        cell: cell_ref(c, i + 2),
                        value: row[c].clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The amount in a money cell; `None` for text columns or bad cells.
    pub fn amount(&self, row: &[String], col: usize) -> Option<Money> {
        match self.columns.get(col)?.kind {
            ColumnKind::Money => row.get(col)?.parse().ok(),
            ColumnKind::Text => None,
        }
    }

    /// Each money column of the totals row must equal the sum of its rows,
    /// to the fen. The headend refuses to publish otherwise and the box
    /// warns (合计与明细不符) rather than show a wrong total.
    pub fn check_totals(&self) -> Result<(), ValidationError> {
        self.validate()?;
        let Some(totals) = &self.totals else {
            return Ok(());
        };
        for (c, col) in self.columns.iter().enumerate() {
            if col.kind != ColumnKind::Money {
                continue;
            }
            let mut sum = Money::ZERO;
            for row in &self.rows {
                let amount = self.amount(row, c).unwrap_or(Money::ZERO);
                sum = sum.checked_add(amount).unwrap_or(sum);
            }
            let stated = self.amount(totals, c).unwrap_or(Money::ZERO);
            if stated != sum {
                return Err(ValidationError::TotalMismatch {
                    table: self.caption.clone(),
                    cell: cell_ref(c, self.rows.len() + 2),
                    stated,
                    computed: sum,
                });
            }
        }
        Ok(())
    }
}

fn validate_blocks(blocks: &[Block]) -> Result<(), ValidationError> {
    for block in blocks {
        match block {
            Block::Paragraph { .. } => {}
            Block::Table(t) => t.validate()?,
            Block::Image { blob, .. } => check_blob_id(blob)?,
        }
    }
    Ok(())
}

fn check_blob_id(blob: &str) -> Result<(), ValidationError> {
    if blob.len() != 64 || !blob.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ValidationError::BadBlobId(blob.to_string()));
    }
    Ok(())
}

impl FeedItem {
    /// Structural checks the box runs on every page before applying it.
    /// Totals are checked separately: see [`FeedItem::check_totals`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        let empty = |field| ValidationError::Empty {
            id: self.id.clone(),
            field,
        };
        if self.id.trim().is_empty() {
            return Err(empty("id"));
        }
        match &self.content {
            Content::Disclosure(d) => {
                if d.title.trim().is_empty() {
                    return Err(empty("title"));
                }
                if d.corrections.iter().any(|c| c.reason.trim().is_empty()) {
                    return Err(empty("correction reason"));
                }
                if !d.category.modules().contains(&d.module.as_str()) {
                    return Err(ValidationError::UnknownModule {
                        id: self.id.clone(),
                        module: d.module.clone(),
                        category: d.category.label(),
                    });
                }
                validate_blocks(&d.body)
            }
            Content::Notice(n) => {
                if n.title.trim().is_empty() {
                    return Err(empty("title"));
                }
                validate_blocks(&n.body)
            }
            Content::Honour(h) => {
                for (field, value) in [
                    ("name", &h.name),
                    ("award", &h.award),
                    ("citation", &h.citation),
                ] {
                    if value.trim().is_empty() {
                        return Err(empty(field));
                    }
                }
                match &h.photo {
                    Some(blob) => check_blob_id(blob),
                    None => Ok(()),
                }
            }
            Content::Ranking(r) => {
                if r.title.trim().is_empty() {
                    return Err(empty("title"));
                }
                if r.entries.is_empty() {
                    return Err(empty("entries"));
                }
                if r.entries.len() > MAX_RANK_ENTRIES {
                    return Err(ValidationError::TooManyEntries {
                        id: self.id.clone(),
                        found: r.entries.len(),
                        max: MAX_RANK_ENTRIES,
                    });
                }
                if r.entries.iter().any(|e| e.name.trim().is_empty()) {
                    return Err(empty("entries.name"));
                }
                Ok(())
            }
            Content::Info(info) => {
                if info.title.trim().is_empty() {
                    return Err(empty("title"));
                }
                self.validate_info_page(&info.page)
            }
            Content::Camera(c) => {
                for (field, value) in [("hall", &c.hall), ("name", &c.name)] {
                    if value.trim().is_empty() {
                        return Err(empty(field));
                    }
                }
                c.stream.validate(&self.id)?;
                match &c.sub_stream {
                    Some(sub) => sub.validate(&self.id),
                    None => Ok(()),
                }
            }
            Content::Live(l) => {
                if l.title.trim().is_empty() {
                    return Err(empty("title"));
                }
                if l.ends_at <= l.starts_at {
                    return Err(ValidationError::Schedule {
                        id: self.id.clone(),
                    });
                }
                l.stream.validate(&self.id)
            }
            Content::Video(v) => {
                if v.title.trim().is_empty() {
                    return Err(empty("title"));
                }
                if let Some(poster) = &v.poster {
                    check_blob_id(poster)?;
                }
                v.stream.validate(&self.id)
            }
            Content::ServiceMenu(m) => crate::services::validate_menu(&self.id, m),
            Content::Questionnaire(q) => crate::services::validate_questionnaire(&self.id, q),
            Content::Exam(e) => crate::services::validate_exam(&self.id, e),
            Content::Unsupported => Ok(()),
        }
    }

    fn validate_info_page(&self, page: &InfoPage) -> Result<(), ValidationError> {
        let empty = |field| ValidationError::Empty {
            id: self.id.clone(),
            field,
        };
        match page {
            InfoPage::Weather { days, .. } => {
                if days.is_empty() {
                    return Err(empty("days"));
                }
                for d in days {
                    if d.low > d.high {
                        return Err(ValidationError::Temperatures {
                            id: self.id.clone(),
                            date: d.date.clone(),
                            low: d.low,
                            high: d.high,
                        });
                    }
                }
                Ok(())
            }
            InfoPage::Prices { items, .. } => {
                if items.is_empty() {
                    return Err(empty("items"));
                }
                for item in items {
                    let values = std::iter::once(&item.price).chain(item.previous.iter());
                    for value in values {
                        if value.parse::<Money>().is_err() {
                            return Err(ValidationError::BadPrice {
                                id: self.id.clone(),
                                product: item.product.clone(),
                                value: value.clone(),
                            });
                        }
                    }
                }
                Ok(())
            }
            InfoPage::Jobs { postings } => {
                if postings.is_empty() {
                    return Err(empty("postings"));
                }
                Ok(())
            }
            InfoPage::Policy { summary, body, .. } => {
                if summary.trim().is_empty() {
                    return Err(empty("summary"));
                }
                validate_blocks(body)
            }
            InfoPage::Procedure { office, steps, .. } => {
                if office.trim().is_empty() {
                    return Err(empty("office"));
                }
                if steps.is_empty() {
                    return Err(empty("steps"));
                }
                Ok(())
            }
        }
    }

    /// Publication check on the headend: structure plus table totals.
    pub fn check_totals(&self) -> Result<(), ValidationError> {
        self.validate()?;
        for block in self.content.body() {
            if let Block::Table(t) = block {
                t.check_totals()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[[&str; 2]], total: &str) -> Table {
        Table {
            role: None,
            caption: "收支明细".into(),
            columns: vec![
                Column {
                    name: "项目".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    name: "金额(元)".into(),
                    kind: ColumnKind::Money,
                },
            ],
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
            totals: Some(vec!["合计".into(), total.into()]),
        }
    }

    #[test]
    fn totals_must_match_to_the_fen() {
        let t = table(
            &[["道路维修", "12000.10"], ["办公用品", "350.25"]],
            "12350.35",
        );
        assert_eq!(t.check_totals(), Ok(()));
        let wrong = table(
            &[["道路维修", "12000.10"], ["办公用品", "350.25"]],
            "12350.36",
        );
        let err = wrong.check_totals().unwrap_err();
        assert_eq!(
            err.to_string(),
            "table \"收支明细\" cell B4: total 12350.36 does not match the rows, which add up to 12350.35"
        );
    }

    #[test]
    fn bad_amount_names_the_cell() {
        let t = table(&[["道路维修", "12,000.1"], ["办公用品", "三百"]], "0");
        let err = t.validate().unwrap_err();
        assert!(err.to_string().contains("cell B3"), "{err}");
    }

    #[test]
    fn unknown_content_kinds_are_tolerated() {
        let json = r#"{"id":"x","seq":3,"scope":"530102003001","published_at":0,"version":1,
            "content":{"kind":"lottery","name":"张三"}}"#;
        let item: FeedItem = serde_json::from_str(json).unwrap();
        assert_eq!(item.content, Content::Unsupported);
        assert_eq!(item.validate(), Ok(()));
    }

    #[test]
    fn module_must_belong_to_category() {
        let item = FeedItem {
            id: "d1".into(),
            seq: 1,
            scope: "530102003001".parse().unwrap(),
            published_at: 0,
            version: 1,
            content: Content::Disclosure(Disclosure {
                category: DisclosureCategory::Finance,
                module: "低保户".into(),
                title: "t".into(),
                period: "2026年10月".into(),
                body: vec![],
                corrections: vec![],
            }),
        };
        assert!(matches!(
            item.validate(),
            Err(ValidationError::UnknownModule { .. })
        ));
    }

    #[test]
    fn cell_refs_are_spreadsheet_style() {
        assert_eq!(cell_ref(0, 1), "A1");
        assert_eq!(cell_ref(25, 3), "Z3");
        assert_eq!(cell_ref(26, 3), "AA3");
    }
}
