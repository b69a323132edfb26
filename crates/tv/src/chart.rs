//! Charts for 收支情况 disclosures, built on the box from the income and
//! spending tables (no images from the server): this period's categories as
//! bars, and income against spending over the last periods.

use model::{Block, Content, DisclosureCategory, FeedItem, Money, Table, TableRole};
use store::{Cache, StoreError};

use crate::view::{BarView, BlockView, TrendPoint};

/// Periods shown in the trend, newest last.
pub const TREND_PERIODS: usize = 4;

fn role_table(body: &[Block], role: TableRole) -> Option<&Table> {
    body.iter().find_map(|b| match b {
        Block::Table(t) if t.role == Some(role) => Some(t),
        _ => None,
    })
}

/// (label, amount) of every row that has an amount, from the first money column.
fn rows(t: &Table) -> Vec<(String, Money)> {
    let Some(col) = t
        .columns
        .iter()
        .position(|c| c.kind == model::ColumnKind::Money)
    else {
        return Vec::new();
    };
    t.rows
        .iter()
        .filter_map(|r| Some((r.first()?.clone(), t.amount(r, col)?)))
        .collect()
}

fn total(t: &Table) -> Option<Money> {
    rows(t)
        .iter()
        .try_fold(Money::from_fen(0), |sum, (_, m)| sum.checked_add(*m))
}

fn fraction(m: Money, max: Money) -> f32 {
    if max.fen() <= 0 {
        0.0
    } else {
        (m.fen().max(0) as f64 / max.fen() as f64) as f32
    }
}

/// The bar chart of one period: income categories, then spending ones, on
/// one scale.
pub fn bars(body: &[Block]) -> Option<BlockView> {
    let income = rows(role_table(body, TableRole::Income)?);
    let spending = rows(role_table(body, TableRole::Spending)?);
    let max = income
        .iter()
        .chain(&spending)
        .map(|(_, m)| *m)
        .max_by_key(|m| m.fen())?;
    let bar = |(label, m): &(String, Money), income: bool| BarView {
        label: label.clone(),
        value: format!("{} 元", m.grouped()),
        fraction: fraction(*m, max),
        income,
    };
    let mut out: Vec<BarView> = income.iter().map(|r| bar(r, true)).collect();
    out.extend(spending.iter().map(|r| bar(r, false)));
    Some(BlockView::BarChart {
        title: "本期收支：绿色为收入，红色为支出".into(),
        bars: out,
    })
}

/// Income and spending totals of the last periods of this scope's 收支情况.
pub fn trend(cache: &Cache, item: &FeedItem) -> Result<Option<BlockView>, StoreError> {
    let mut points = Vec::new();
    let ids = cache.module_page(DisclosureCategory::Finance, "收支情况", 0, 200)?;
    for row in ids.iter().filter(|r| r.scope == item.scope.as_str()) {
        if row.published_at > item.published_at {
            continue;
        }
        let Some(other) = cache.item(&row.id)? else {
            continue;
        };
        let Content::Disclosure(d) = &other.content else {
            continue;
        };
        let (Some(i), Some(s)) = (
            role_table(&d.body, TableRole::Income).and_then(total),
            role_table(&d.body, TableRole::Spending).and_then(total),
        ) else {
            continue;
        };
        points.push((other.published_at, d.period.clone(), i, s));
        if points.len() == TREND_PERIODS {
            break;
        }
    }
    if points.len() < 2 {
        return Ok(None);
    }
    points.reverse();
    let max = points
        .iter()
        .flat_map(|(_, _, i, s)| [*i, *s])
        .max_by_key(|m| m.fen())
        .unwrap_or(Money::from_fen(0));
    Ok(Some(BlockView::Trend {
        title: format!("近{}期收支对比（元）", points.len()),
        points: points
            .into_iter()
            .map(|(_, period, i, s)| TrendPoint {
                label: period,
                income: fraction(i, max),
                spending: fraction(s, max),
                income_text: i.grouped(),
                spending_text: s.grouped(),
            })
            .collect(),
    }))
}
