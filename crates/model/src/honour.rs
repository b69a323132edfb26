//! 时代先锋: honours for members, branches and households, and the
//! 党员积分 ranking.

/// Who is honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HonourKind {
    /// 优秀党员
    Member,
    /// 先进党支部
    Branch,
    /// 文明家庭
    Household,
}

impl HonourKind {
    pub const ALL: [HonourKind; 3] = [Self::Member, Self::Branch, Self::Household];

    pub fn label(self) -> &'static str {
        match self {
            Self::Member => "优秀党员",
            Self::Branch => "先进支部",
            Self::Household => "文明家庭",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Branch => "branch",
            Self::Household => "household",
        }
    }
}

/// One honour with its photo and citation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Honour {
    /// On the wire `category`: `kind` is taken by the content tag.
    #[serde(rename = "category")]
    pub kind: HonourKind,
    /// The person, branch or household, e.g. `李秀英` or `石桥村党支部`.
    pub name: String,
    /// The title awarded, e.g. `2026年度优秀共产党员`.
    pub award: String,
    /// Branch or village the person belongs to; empty for a branch.
    #[serde(default)]
    pub unit: String,
    /// Blob id (sha-256) of the photo, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// Why: a few sentences, shown in full.
    pub citation: String,
}

impl Honour {
    /// The list title: `优秀党员 李秀英`.
    pub fn title(&self) -> String {
        format!("{} {}", self.kind.label(), self.name)
    }
}

/// 党员积分 ranking for one period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ranking {
    pub title: String,
    pub period: String,
    pub entries: Vec<RankEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RankEntry {
    pub name: String,
    /// 所在支部
    pub branch: String,
    pub points: u32,
}

/// Most entries a ranking may carry: a town's members fit many times over.
pub const MAX_RANK_ENTRIES: usize = 2000;

impl Ranking {
    /// Entries by points, highest first, with competition ranks (1, 2, 2, 4):
    /// members with equal points share a place.
    pub fn ranked(&self) -> Vec<(usize, &RankEntry)> {
        let mut sorted: Vec<&RankEntry> = self.entries.iter().collect();
        sorted.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.name.cmp(&b.name)));
        let mut out: Vec<(usize, &RankEntry)> = Vec::with_capacity(sorted.len());
        for (i, entry) in sorted.iter().enumerate() {
            let rank = match out.last() {
                Some(&(r, prev)) if prev.points == entry.points => r,
                _ => i + 1,
            };
            out.push((rank, *entry));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, points: u32) -> RankEntry {
        RankEntry {
            name: name.into(),
            branch: "石桥村党支部".into(),
            points,
        }
    }

    #[test]
    fn equal_points_share_a_place() {
        let r = Ranking {
            title: "党员积分排行".into(),
            period: "2026年第三季度".into(),
            entries: vec![
                entry("丙", 90),
                entry("甲", 98),
                entry("乙", 95),
                entry("丁", 95),
            ],
        };
        let ranks: Vec<(usize, &str)> = r
            .ranked()
            .into_iter()
            .map(|(n, e)| (n, e.name.as_str()))
            .collect();
        assert_eq!(ranks, vec![(1, "甲"), (2, "丁"), (2, "乙"), (4, "丙")]);
    }
}

#[cfg(test)]
mod wire_tests {
    use crate::{Content, Honour, HonourKind, Info, InfoPage, WeatherDay};

    /// Each kind survives the feed's JSON: its fields must not collide with
    /// the `kind` tag of [`Content`] (an honour's kind is sent as `category`).
    #[test]
    fn new_kinds_round_trip_through_json() {
        let items = [
            Content::Honour(Honour {
                kind: HonourKind::Household,
                name: "周家".into(),
                award: "文明家庭".into(),
                unit: String::new(),
                photo: Some("ab".repeat(32)),
                citation: "孝老爱亲。".into(),
            }),
            Content::Ranking(super::Ranking {
                title: "党员积分排行".into(),
                period: "2026年10月".into(),
                entries: vec![super::tests_entry()],
            }),
            Content::Info(Info {
                title: "天气".into(),
                source: "县气象局".into(),
                page: InfoPage::Weather {
                    place: "东坡村".into(),
                    days: vec![WeatherDay {
                        date: "11月23日".into(),
                        sky: "晴".into(),
                        low: -2,
                        high: 9,
                        wind: "北风2级".into(),
                    }],
                },
            }),
        ];
        for content in items {
            let json = serde_json::to_string(&content).unwrap_or_default();
            let back: Content = serde_json::from_str(&json).unwrap_or(Content::Unsupported);
            assert_eq!(back, content, "{json}");
        }
    }
}

#[cfg(test)]
fn tests_entry() -> RankEntry {
    RankEntry {
        name: "李秀英".into(),
        branch: "东坡村党支部".into(),
        points: 98,
    }
}
