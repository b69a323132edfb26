//! The body of a detail screen, per content kind: disclosures and notices
//! as their blocks (with charts for 收支情况), honours as a photo card with
//! the citation, the 党员积分 ranking as a table, and each 便民信息 topic
//! as tables and numbered paragraphs an elderly viewer can follow.

use model::{
    format_date, Block, ColumnKind, Content, FeedItem, Honour, Info, InfoPage, Money, Ranking,
};
use store::{Cache, StoreError};

use crate::view::{scope_label, BlockView, RowKind, TableRowView, View, TOTALS_WARNING};

pub fn table_view(table: &model::Table) -> BlockView {
    let right = |c: usize| table.columns[c].kind == ColumnKind::Money;
    let header: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let mut rows = vec![header_row(&header, right)];
    let cells = |row: &[String]| -> Vec<(String, bool)> {
        row.iter()
            .enumerate()
            .map(|(c, text)| match table.columns.get(c).map(|col| col.kind) {
                Some(ColumnKind::Money) => match text.parse::<Money>() {
                    Ok(m) => (m.grouped(), true),
                    Err(_) => (text.clone(), true),
                },
                _ => (text.clone(), false),
            })
            .collect()
    };
    rows.extend(table.rows.iter().map(|r| TableRowView {
        kind: RowKind::Body,
        cells: cells(r),
    }));
    if let Some(t) = &table.totals {
        rows.push(TableRowView {
            kind: RowKind::Totals,
            cells: cells(t),
        });
    }
    BlockView::Table {
        caption: table.caption.clone(),
        warning: if table.check_totals().is_ok() {
            String::new()
        } else {
            TOTALS_WARNING.to_string()
        },
        rows,
    }
}

fn header_row(names: &[String], right: impl Fn(usize) -> bool) -> TableRowView {
    TableRowView {
        kind: RowKind::Header,
        cells: names
            .iter()
            .enumerate()
            .map(|(c, n)| (n.clone(), right(c)))
            .collect(),
    }
}

/// A table built on the box: `right` says which columns are numbers.
fn simple_table(
    caption: String,
    header: &[&str],
    right: &[bool],
    body: Vec<Vec<String>>,
) -> BlockView {
    let names: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let is_right = |c: usize| right.get(c).copied().unwrap_or(false);
    let mut rows = vec![header_row(&names, is_right)];
    rows.extend(body.into_iter().map(|r| {
        TableRowView {
            kind: RowKind::Body,
            cells: r
                .into_iter()
                .enumerate()
                .map(|(c, t)| (t, is_right(c)))
                .collect(),
        }
    }));
    BlockView::Table {
        caption,
        warning: String::new(),
        rows,
    }
}

pub fn blocks_view(blocks: &[Block]) -> Vec<BlockView> {
    blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph { text } => BlockView::Paragraph(text.clone()),
            Block::Table(t) => table_view(t),
            Block::Image { blob, caption } => BlockView::Image {
                blob: blob.clone(),
                caption: caption.clone(),
                picture: None,
                status: String::new(),
            },
        })
        .collect()
}

fn meta(item: &FeedItem, own: &str) -> String {
    let mut parts = Vec::new();
    match &item.content {
        Content::Disclosure(d) => parts.push(d.period.clone()),
        Content::Notice(n) => parts.push(n.issuer.clone()),
        Content::Ranking(r) => parts.push(r.period.clone()),
        Content::Info(i) => parts.push(i.source.clone()),
        _ => {}
    }
    parts.push(scope_label(item.scope.as_str(), own).to_string());
    parts.push(format!("发布于{}", format_date(item.published_at)));
    if item.version > 1 {
        parts.push(format!("第{}版", item.version));
    }
    if matches!(&item.content, Content::Disclosure(d) if !d.corrections.is_empty()) {
        parts.push("已更正".into());
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" · ")
}

fn breadcrumb(content: &Content) -> String {
    match content {
        Content::Disclosure(d) => format!("三务公开 › {} › {}", d.category.label(), d.module),
        Content::Notice(n) if n.urgent => "通知公告 › 紧急通知".into(),
        Content::Notice(_) => "通知公告".into(),
        Content::Honour(h) => format!("时代先锋 › {}", h.kind.label()),
        Content::Ranking(_) => "时代先锋 › 党员积分".into(),
        Content::Info(i) => format!("便民信息 › {}", i.page.topic().label()),
        Content::Camera(c) => format!("服务视窗 › {}", c.hall),
        Content::Live(l) => format!("党群直播 › {}", l.meeting.label()),
        Content::Video(v) => format!("视频点播 › {}", v.category.label()),
        Content::ServiceMenu(_) => "一键服务".into(),
        Content::Questionnaire(q) => format!("党风评议 › {}", q.target.label()),
        Content::Exam(_) => "党教园地 › 在线考试".into(),
        Content::Unsupported => String::new(),
    }
}

/// Fills title, meta, breadcrumb and blocks of a detail screen.
pub fn fill(v: &mut View, cache: &Cache, item: &FeedItem, own: &str) -> Result<(), StoreError> {
    v.title = item.content.title();
    v.meta = meta(item, own);
    v.breadcrumb = breadcrumb(&item.content);
    v.blocks = match &item.content {
        Content::Disclosure(d) if d.module == "收支情况" => {
            let mut blocks = blocks_view(&d.body);
            // Charts after the opening paragraph, before the tables.
            let at = usize::from(matches!(blocks.first(), Some(BlockView::Paragraph(_))));
            let charts: Vec<BlockView> = crate::chart::bars(&d.body)
                .into_iter()
                .chain(crate::chart::trend(cache, item)?)
                .collect();
            blocks.splice(at..at, charts);
            blocks
        }
        Content::Disclosure(d) => blocks_view(&d.body),
        Content::Notice(n) => blocks_view(&n.body),
        Content::Honour(h) => honour_blocks(h),
        Content::Ranking(r) => ranking_blocks(r),
        Content::Info(i) => info_blocks(i),
        Content::Video(v) => paragraphs(&v.summary).collect(),
        Content::Camera(_)
        | Content::Live(_)
        | Content::ServiceMenu(_)
        | Content::Questionnaire(_)
        | Content::Exam(_)
        | Content::Unsupported => Vec::new(),
    };
    // A correction says so first, with every earlier one, so nobody reads
    // a changed figure without knowing it changed.
    if let Content::Disclosure(d) = &item.content {
        let notes: Vec<BlockView> = d
            .corrections
            .iter()
            .rev()
            .map(|c| {
                BlockView::Paragraph(format!(
                    "【更正】第{}版（{}）：{}",
                    c.version,
                    format_date(c.corrected_at),
                    c.reason
                ))
            })
            .collect();
        v.blocks.splice(0..0, notes);
    }
    Ok(())
}

fn paragraphs(text: &str) -> impl Iterator<Item = BlockView> + '_ {
    text.split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| BlockView::Paragraph(p.to_string()))
}

fn honour_blocks(h: &Honour) -> Vec<BlockView> {
    let mut lines = vec![h.award.clone()];
    if !h.unit.is_empty() {
        lines.push(format!("所在单位：{}", h.unit));
    }
    let mut blocks = vec![BlockView::Profile {
        photo: h.photo.clone(),
        picture: None,
        status: if h.photo.is_some() {
            String::new()
        } else {
            "暂无照片".into()
        },
        name: h.name.clone(),
        lines,
    }];
    blocks.extend(paragraphs(&h.citation));
    blocks
}

fn ranking_blocks(r: &Ranking) -> Vec<BlockView> {
    let body = r
        .ranked()
        .into_iter()
        .map(|(rank, e)| {
            vec![
                format!("第{rank}名"),
                e.name.clone(),
                e.branch.clone(),
                e.points.to_string(),
            ]
        })
        .collect();
    vec![simple_table(
        format!("{} 共 {} 名党员", r.period, r.entries.len()),
        &["名次", "姓名", "所在支部", "积分"],
        &[false, false, false, true],
        body,
    )]
}

/// `涨 0.20` / `跌 0.10` / `持平`, or empty without a previous quote.
fn price_change(item: &model::PriceItem) -> String {
    let (Some(now), Some(before)) = (item.price(), item.previous()) else {
        return String::new();
    };
    match now.checked_sub(before) {
        Some(d) if d > Money::ZERO => format!("涨 {}", d.grouped()),
        Some(d) if d < Money::ZERO => {
            format!("跌 {}", Money::ZERO.checked_sub(d).unwrap_or(d).grouped())
        }
        Some(_) => "持平".into(),
        None => String::new(),
    }
}

fn numbered(items: &[String]) -> impl Iterator<Item = BlockView> + '_ {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| BlockView::Paragraph(format!("{}. {s}", i + 1)))
}

fn info_blocks(info: &Info) -> Vec<BlockView> {
    match &info.page {
        InfoPage::Weather { place, days } => vec![simple_table(
            format!("{place} 未来{}天", days.len()),
            &["日期", "天气", "气温", "风力"],
            &[false, false, true, false],
            days.iter()
                .map(|d| {
                    let temp = if d.low == d.high {
                        format!("{}℃", d.low)
                    } else {
                        format!("{}～{}℃", d.low, d.high)
                    };
                    vec![d.date.clone(), d.sky.clone(), temp, d.wind.clone()]
                })
                .collect(),
        )],
        InfoPage::Prices { market, items } => vec![simple_table(
            market.clone(),
            &["品名", "今日价格", "单位", "比上期"],
            &[false, true, false, false],
            items
                .iter()
                .map(|i| {
                    let price = i.price().map_or_else(|| i.price.clone(), Money::grouped);
                    vec![i.product.clone(), price, i.unit.clone(), price_change(i)]
                })
                .collect(),
        )],
        InfoPage::Jobs { postings } => postings
            .iter()
            .enumerate()
            .map(|(n, p)| {
                let mut text = format!(
                    "{}. {}　招{} {} 人\n待遇：{}\n地点：{}\n联系：{}",
                    n + 1,
                    p.employer,
                    p.position,
                    p.openings,
                    p.pay,
                    p.place,
                    p.contact
                );
                if !p.until.is_empty() {
                    text.push_str(&format!("\n报名截止：{}", p.until));
                }
                BlockView::Paragraph(text)
            })
            .collect(),
        InfoPage::Policy {
            summary,
            points,
            body,
        } => {
            let mut blocks: Vec<BlockView> = paragraphs(summary).collect();
            if !points.is_empty() {
                blocks.push(BlockView::Paragraph("要点：".into()));
                blocks.extend(numbered(points));
            }
            blocks.extend(blocks_view(body));
            blocks
        }
        InfoPage::Procedure {
            office,
            hours,
            phone,
            materials,
            steps,
        } => {
            let mut blocks = vec![BlockView::Paragraph(format!(
                "办理地点：{office}\n办公时间：{hours}\n咨询电话：{phone}"
            ))];
            if !materials.is_empty() {
                blocks.push(BlockView::Paragraph("需要带的材料：".into()));
                blocks.extend(numbered(materials));
            }
            if !steps.is_empty() {
                blocks.push(BlockView::Paragraph("办理步骤：".into()));
                blocks.extend(
                    steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| BlockView::Paragraph(format!("第{}步　{s}", i + 1))),
                );
            }
            blocks
        }
    }
}
