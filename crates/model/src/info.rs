//! 便民信息: service information as structured pages, so the box can lay
//! each topic out for the screen (a forecast table, a price list with
//! changes, job cards, numbered steps) instead of showing free text.

use crate::{Block, Money};

/// The topics of 便民信息, in the order the box shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InfoTopic {
    Weather,
    Prices,
    Jobs,
    Policy,
    Procedure,
}

impl InfoTopic {
    pub const ALL: [InfoTopic; 5] = [
        Self::Weather,
        Self::Prices,
        Self::Jobs,
        Self::Policy,
        Self::Procedure,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Weather => "天气预报",
            Self::Prices => "农产品价格",
            Self::Jobs => "招工信息",
            Self::Policy => "政策指南",
            Self::Procedure => "办事指南",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weather => "weather",
            Self::Prices => "prices",
            Self::Jobs => "jobs",
            Self::Policy => "policy",
            Self::Procedure => "procedure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One page of 便民信息.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Info {
    pub title: String,
    /// Who it comes from, e.g. `县气象局`.
    #[serde(default)]
    pub source: String,
    pub page: InfoPage,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "topic", rename_all = "snake_case")]
pub enum InfoPage {
    Weather {
        /// Where the forecast is for, e.g. `青石镇`.
        place: String,
        days: Vec<WeatherDay>,
    },
    Prices {
        /// The market quoted, e.g. `青石镇农贸市场`.
        market: String,
        items: Vec<PriceItem>,
    },
    Jobs {
        postings: Vec<JobPosting>,
    },
    Policy {
        /// One or two sentences: what it is and who it is for.
        summary: String,
        /// 要点, shown numbered.
        points: Vec<String>,
        #[serde(default)]
        body: Vec<Block>,
    },
    Procedure {
        /// Where to go, e.g. `青石镇便民服务中心一号窗口`.
        office: String,
        hours: String,
        phone: String,
        /// 所需材料, shown numbered.
        materials: Vec<String>,
        /// 办理步骤, shown numbered.
        steps: Vec<String>,
    },
}

impl InfoPage {
    pub fn topic(&self) -> InfoTopic {
        match self {
            Self::Weather { .. } => InfoTopic::Weather,
            Self::Prices { .. } => InfoTopic::Prices,
            Self::Jobs { .. } => InfoTopic::Jobs,
            Self::Policy { .. } => InfoTopic::Policy,
            Self::Procedure { .. } => InfoTopic::Procedure,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WeatherDay {
    /// e.g. `11月23日`
    pub date: String,
    /// e.g. `多云转小雨`
    pub sky: String,
    /// Degrees Celsius.
    pub low: i16,
    pub high: i16,
    /// e.g. `东北风3级`
    #[serde(default)]
    pub wind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PriceItem {
    /// e.g. `玉米`
    pub product: String,
    /// e.g. `元/斤`
    pub unit: String,
    /// Yuan per unit as a decimal string, like money everywhere.
    pub price: String,
    /// Last quote, so the box can show the change; absent for new items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl PriceItem {
    pub fn price(&self) -> Option<Money> {
        self.price.parse().ok()
    }

    pub fn previous(&self) -> Option<Money> {
        self.previous.as_ref()?.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobPosting {
    pub employer: String,
    pub position: String,
    pub openings: u32,
    /// e.g. `每天150元，管午饭`
    pub pay: String,
    pub place: String,
    pub contact: String,
    /// e.g. `12月10日前`
    #[serde(default)]
    pub until: String,
}
