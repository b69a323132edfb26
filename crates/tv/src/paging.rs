//! Splits a detail's blocks into screen pages, so a page never cuts a line
//! or a table row, every page of a long table repeats its header row, and a
//! table too wide for the screen is shown in column groups that each keep
//! the first (label) column. Heights are estimated from the font metrics:
//! CJK glyphs are one em wide, other characters are counted at 0.6 em,
//! which is wider than Noto Sans CJK draws them, so estimates err towards
//! shorter pages and never towards cut text.

use crate::view::{BlockView, RowKind, TableRowView};

/// Sizes in the 1280x720 design's logical pixels, as `ui/` uses them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Width of the page body.
    pub width: f32,
    /// Height available for blocks on one page.
    pub height: f32,
    /// Body text size: 32 in elder mode, 26 in standard mode (`Theme`).
    pub body: f32,
}

/// Line height of Noto Sans CJK (ascent + descent), as a multiple of size.
const LINE: f32 = 1.45;
const BLOCK_GAP: f32 = 20.0;
const INNER_GAP: f32 = 8.0;
const CELL_PAD_X: f32 = 16.0;
const CELL_PAD_Y: f32 = 8.0;
const CELL_GAP: f32 = 16.0;
const WARNING_H: f32 = 56.0;
/// An image or a photo is drawn this tall (see ui/pages/detail.slint); a
/// photo 3:4, so PHOTO_W wide. A body image's caption adds a line below.
pub const PICTURE_H: f32 = 300.0;
pub const PHOTO_W: f32 = 225.0;
/// One bar of a bar chart, and the trend chart (see ui/pages/detail.slint).
pub const BAR_H: f32 = 48.0;
pub const TREND_H: f32 = 300.0;
/// A column narrower than this cannot show an amount like 1,234,567.89.
const MIN_COLUMN: f32 = 200.0;

fn text_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f32>()
        * size
}

fn lines(text: &str, width: f32, size: f32) -> usize {
    if width <= size {
        return text.chars().count().max(1);
    }
    text.split('\n')
        .map(|l| ((text_width(l, size) / width).ceil() as usize).max(1))
        .sum()
}

fn line_h(body: f32) -> f32 {
    (body * LINE).ceil()
}

fn column_width(total: f32, columns: usize) -> f32 {
    let n = columns.max(1) as f32;
    (total - 2.0 * CELL_PAD_X - (n - 1.0) * CELL_GAP) / n
}

fn row_height(row: &TableRowView, width: f32, body: f32) -> f32 {
    let w = column_width(width, row.cells.len());
    let most = row
        .cells
        .iter()
        .map(|(text, _)| lines(text, w, body))
        .max()
        .unwrap_or(1);
    most as f32 * line_h(body) + 2.0 * CELL_PAD_Y + 2.0
}

/// How many columns fit side by side.
pub fn max_columns(width: f32) -> usize {
    (((width - 2.0 * CELL_PAD_X + CELL_GAP) / (MIN_COLUMN + CELL_GAP)) as usize).max(2)
}

/// Splits a wide table into groups of columns, each keeping column 0.
fn column_groups(rows: &[TableRowView], width: f32) -> Vec<Vec<usize>> {
    let n = rows.first().map_or(0, |r| r.cells.len());
    let max = max_columns(width);
    if n <= max {
        return vec![(0..n).collect()];
    }
    (1..n)
        .collect::<Vec<_>>()
        .chunks(max - 1)
        .map(|chunk| std::iter::once(0).chain(chunk.iter().copied()).collect())
        .collect()
}

struct Pager {
    metrics: Metrics,
    pages: Vec<Vec<BlockView>>,
    used: f32,
}

impl Pager {
    fn current(&mut self) -> &mut Vec<BlockView> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn gap(&self) -> f32 {
        if self.used > 0.0 {
            BLOCK_GAP
        } else {
            0.0
        }
    }

    fn fits(&self, h: f32) -> bool {
        self.used + self.gap() + h <= self.metrics.height
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.used = 0.0;
    }

    fn place(&mut self, block: BlockView, h: f32) {
        if !self.fits(h) && self.used > 0.0 {
            self.new_page();
        }
        self.used += self.gap() + h;
        self.current().push(block);
    }

    fn paragraph(&mut self, text: &str) {
        let lh = line_h(self.metrics.body);
        let width = self.metrics.width;
        let mut rest: Vec<char> = text.chars().collect();
        while !rest.is_empty() {
            let room = ((self.metrics.height - self.used - self.gap()) / lh).floor() as usize;
            let all = lines(&rest.iter().collect::<String>(), width, self.metrics.body);
            if all <= room || (room == 0 && self.used == 0.0) {
                let h = all as f32 * lh;
                self.place(BlockView::Paragraph(rest.iter().collect()), h);
                return;
            }
            if room == 0 {
                self.new_page();
                continue;
            }
            // Take as many characters as fit in `room` lines.
            let take = fitting_chars(&rest, width, self.metrics.body, room).max(1);
            let head: String = rest[..take].iter().collect();
            let h = lines(&head, width, self.metrics.body) as f32 * lh;
            self.place(BlockView::Paragraph(head), h);
            rest.drain(..take);
            self.new_page();
        }
    }

    fn bars(&mut self, title: &str, bars: &[crate::view::BarView]) {
        let head = line_h(self.metrics.body) + INNER_GAP;
        let mut i = 0;
        while i < bars.len() {
            if !self.fits(head + BAR_H) && self.used > 0.0 {
                self.new_page();
            }
            let room = self.metrics.height - self.used - self.gap() - head;
            let n = ((room / BAR_H).floor() as usize).clamp(1, bars.len() - i);
            let label = if i == 0 {
                title.to_string()
            } else {
                format!("{title}（续）")
            };
            self.place(
                BlockView::BarChart {
                    title: label,
                    bars: bars[i..i + n].to_vec(),
                },
                head + n as f32 * BAR_H,
            );
            i += n;
            if i < bars.len() {
                self.new_page();
            }
        }
    }

    fn table(&mut self, caption: &str, warning: &str, rows: &[TableRowView]) {
        let width = self.metrics.width;
        let groups = column_groups(rows, width);
        let parts = groups.len();
        for (g, cols) in groups.iter().enumerate() {
            let pick = |r: &TableRowView| TableRowView {
                kind: r.kind,
                cells: cols
                    .iter()
                    .filter_map(|c| r.cells.get(*c).cloned())
                    .collect(),
            };
            let rows: Vec<TableRowView> = rows.iter().map(pick).collect();
            let header: Vec<TableRowView> = rows
                .iter()
                .filter(|r| r.kind == RowKind::Header)
                .cloned()
                .collect();
            let body: Vec<&TableRowView> =
                rows.iter().filter(|r| r.kind != RowKind::Header).collect();
            let title = if parts > 1 {
                format!("{caption}（第 {} / {parts} 部分）", g + 1)
            } else {
                caption.to_string()
            };
            let head_h: f32 = header
                .iter()
                .map(|r| row_height(r, width, self.metrics.body))
                .sum();
            let body_size = self.metrics.body;
            let chrome = |title: &str, warning: &str| {
                let mut h = 0.0;
                if !title.is_empty() {
                    h += line_h(body_size) + INNER_GAP;
                }
                if !warning.is_empty() {
                    h += WARNING_H + INNER_GAP;
                }
                h
            };
            let mut i = 0;
            let mut first = true;
            while i < body.len() || first {
                let label = if first {
                    title.clone()
                } else {
                    format!("{title}（续）")
                };
                let top = chrome(&label, warning) + head_h;
                let first_row = body
                    .get(i)
                    .map_or(0.0, |r| row_height(r, width, self.metrics.body));
                if !self.fits(top + first_row) && self.used > 0.0 {
                    self.new_page();
                }
                let room = self.metrics.height - self.used - self.gap() - top;
                let mut slice = header.clone();
                let mut h = top;
                let mut taken = 0;
                while let Some(r) = body.get(i + taken) {
                    let rh = row_height(r, width, self.metrics.body);
                    if taken > 0 && h - top + rh > room {
                        break;
                    }
                    h += rh;
                    slice.push((*r).clone());
                    taken += 1;
                }
                i += taken;
                self.place(
                    BlockView::Table {
                        caption: label,
                        warning: warning.to_string(),
                        rows: slice,
                    },
                    h,
                );
                first = false;
                if i < body.len() {
                    self.new_page();
                }
            }
        }
    }
}

fn image_h(caption: &str, m: Metrics) -> f32 {
    if caption.is_empty() {
        PICTURE_H
    } else {
        PICTURE_H + INNER_GAP + lines(caption, m.width, m.body) as f32 * line_h(m.body)
    }
}

/// The name (title size, 1.4x body) and the lines beside the photo.
fn profile_text_h(name: &str, text: &[String], m: Metrics) -> f32 {
    let w = m.width - PHOTO_W - 32.0;
    let name_h = lines(name, w, m.body * 1.4) as f32 * line_h(m.body * 1.4);
    let text_h: f32 = text
        .iter()
        .map(|t| lines(t, w, m.body) as f32 * line_h(m.body) + INNER_GAP)
        .sum();
    name_h + text_h
}

/// The photo or the text beside it, whichever is taller.
fn profile_h(name: &str, text: &[String], m: Metrics) -> f32 {
    PICTURE_H.max(profile_text_h(name, text, m))
}

/// How many leading characters of `text` fit in `max_lines` lines.
fn fitting_chars(text: &[char], width: f32, size: f32, max_lines: usize) -> usize {
    let mut take = 0;
    while take < text.len()
        && lines(&text[..take + 1].iter().collect::<String>(), width, size) <= max_lines
    {
        take += 1;
    }
    take
}

/// Moves the paragraphs after an honour card (its citation) up beside the
/// photo as far as they fit, so a short citation shares the first page with
/// the photo instead of starting a page of its own. The rest follows below.
fn wrap_beside_photo(blocks: &[BlockView], m: Metrics) -> Vec<BlockView> {
    let mut out: Vec<BlockView> = Vec::with_capacity(blocks.len());
    let mut i = 0;
    while i < blocks.len() {
        let BlockView::Profile {
            photo,
            picture,
            status,
            name,
            lines: card_lines,
        } = &blocks[i]
        else {
            out.push(blocks[i].clone());
            i += 1;
            continue;
        };
        let mut card_lines = card_lines.clone();
        let w = m.width - PHOTO_W - 32.0;
        let lh = line_h(m.body);
        i += 1;
        let mut rest = None;
        while let Some(BlockView::Paragraph(text)) = blocks.get(i) {
            // Each line beside the photo also costs the layout's spacing.
            let free = PICTURE_H - profile_text_h(name, &card_lines, m);
            let room = ((free - INNER_GAP) / lh).floor().max(0.0) as usize;
            let chars: Vec<char> = text.chars().collect();
            let take = fitting_chars(&chars, w, m.body, room);
            if take > 0 {
                card_lines.push(chars[..take].iter().collect());
            }
            i += 1;
            if take < chars.len() {
                rest = Some(BlockView::Paragraph(chars[take..].iter().collect()));
                break;
            }
        }
        out.push(BlockView::Profile {
            photo: photo.clone(),
            picture: picture.clone(),
            status: status.clone(),
            name: name.clone(),
            lines: card_lines,
        });
        out.extend(rest);
    }
    out
}

/// Pages of blocks; always at least one (possibly empty) page.
pub fn paginate(blocks: &[BlockView], metrics: Metrics) -> Vec<Vec<BlockView>> {
    let mut p = Pager {
        metrics,
        pages: vec![Vec::new()],
        used: 0.0,
    };
    let blocks = if blocks
        .iter()
        .any(|b| matches!(b, BlockView::Profile { .. }))
    {
        wrap_beside_photo(blocks, metrics)
    } else {
        blocks.to_vec()
    };
    for block in &blocks {
        match block {
            BlockView::Paragraph(text) => p.paragraph(text),
            BlockView::Table {
                caption,
                warning,
                rows,
            } => p.table(caption, warning, rows),
            BlockView::Image { caption, .. } => p.place(block.clone(), image_h(caption, metrics)),
            BlockView::Profile { name, lines, .. } => {
                p.place(block.clone(), profile_h(name, lines, metrics))
            }
            BlockView::BarChart { title, bars } => p.bars(title, bars),
            BlockView::Trend { .. } => {
                p.place(block.clone(), line_h(metrics.body) + INNER_GAP + TREND_H)
            }
        }
    }
    p.pages.retain(|page| !page.is_empty());
    if p.pages.is_empty() {
        p.pages.push(Vec::new());
    }
    p.pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: usize, cols: usize) -> BlockView {
        let row = |kind, prefix: &str| TableRowView {
            kind,
            cells: (0..cols).map(|c| (format!("{prefix}{c}"), c > 0)).collect(),
        };
        let mut all = vec![row(RowKind::Header, "列")];
        all.extend((0..rows).map(|r| row(RowKind::Body, &format!("{r}-"))));
        all.push(row(RowKind::Totals, "合计"));
        BlockView::Table {
            caption: "明细".into(),
            warning: String::new(),
            rows: all,
        }
    }

    const M: Metrics = Metrics {
        width: 1152.0,
        height: 400.0,
        body: 32.0,
    };

    fn tables(page: &[BlockView]) -> Vec<&Vec<TableRowView>> {
        page.iter()
            .filter_map(|b| match b {
                BlockView::Table { rows, .. } => Some(rows),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_long_table_repeats_its_header_on_every_page_and_loses_no_row() {
        let pages = paginate(&[table(200, 3)], M);
        assert!(pages.len() > 20, "{}", pages.len());
        let mut body = 0;
        for page in &pages {
            for rows in tables(page) {
                assert_eq!(rows[0].kind, RowKind::Header);
                body += rows.iter().filter(|r| r.kind == RowKind::Body).count();
            }
        }
        assert_eq!(body, 200);
        let last = tables(pages.last().unwrap())[0];
        assert_eq!(last.last().unwrap().kind, RowKind::Totals);
    }

    #[test]
    fn a_wide_table_is_split_into_column_groups_keeping_the_label_column() {
        let pages = paginate(&[table(3, 30)], M);
        let groups: Vec<&Vec<TableRowView>> = pages.iter().flat_map(|p| tables(p)).collect();
        let cols = max_columns(M.width);
        assert!(groups.len() >= 29usize.div_ceil(cols - 1));
        let mut seen = std::collections::BTreeSet::new();
        for rows in &groups {
            assert!(rows[0].cells.len() <= cols);
            assert_eq!(rows[0].cells[0].0, "列0");
            for (text, _) in &rows[0].cells {
                seen.insert(text.clone());
            }
        }
        assert_eq!(seen.len(), 30, "every column shown");
    }

    #[test]
    fn a_long_paragraph_is_split_by_lines_and_keeps_every_character() {
        let text = "村务公开内容。".repeat(300);
        let pages = paginate(&[BlockView::Paragraph(text.clone())], M);
        assert!(pages.len() > 3);
        let joined: String = pages
            .iter()
            .flatten()
            .map(|b| match b {
                BlockView::Paragraph(t) => t.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn estimated_heights_stay_within_the_page() {
        let blocks = vec![
            BlockView::Paragraph("说明".repeat(40)),
            table(12, 3),
            BlockView::Image {
                blob: "ab".repeat(32),
                caption: "现场".into(),
                picture: None,
                status: "照片加载中…".into(),
            },
            table(40, 8),
        ];
        for page in paginate(&blocks, M) {
            let mut h = 0.0;
            for (i, b) in page.iter().enumerate() {
                if i > 0 {
                    h += BLOCK_GAP;
                }
                h += match b {
                    BlockView::Paragraph(t) => lines(t, M.width, M.body) as f32 * line_h(M.body),
                    BlockView::Image { caption, .. } => image_h(caption, M),
                    BlockView::Profile { name, lines, .. } => profile_h(name, lines, M),
                    BlockView::BarChart { bars, .. } => {
                        line_h(M.body) + INNER_GAP + bars.len() as f32 * BAR_H
                    }
                    BlockView::Trend { .. } => line_h(M.body) + INNER_GAP + TREND_H,
                    BlockView::Table {
                        caption,
                        warning,
                        rows,
                    } => {
                        let mut t: f32 = rows.iter().map(|r| row_height(r, M.width, M.body)).sum();
                        if !caption.is_empty() {
                            t += line_h(M.body) + INNER_GAP;
                        }
                        if !warning.is_empty() {
                            t += WARNING_H + INNER_GAP;
                        }
                        t
                    }
                };
            }
            assert!(h <= M.height, "page of {h} px");
        }
    }
}
