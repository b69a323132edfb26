//! Charts drawn on the server as inline SVG: no chart library, no script.
//! Each chart has a `<title>` for screen readers and every bar or point is
//! labelled with its number, so nothing is only a colour or a height.

use maud::{html, Markup};

const WIDTH: f64 = 560.0;
const ROW: f64 = 30.0;
const LABEL: f64 = 130.0;
const NUMBER: f64 = 60.0;

/// Horizontal bars, one per `(label, value)`, with the value beside each.
pub(crate) fn bars(title: &str, rows: &[(String, f64)], unit: &str) -> Markup {
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1.0);
    let height = ROW * rows.len().max(1) as f64 + 10.0;
    let span = WIDTH - LABEL - NUMBER;
    html! {
        svg.chart role="img" viewBox=(format!("0 0 {WIDTH} {height}")) {
            title { (title) }
            @if rows.is_empty() {
                text x="0" y="20" { "暂无数据" }
            }
            @for (i, (label, value)) in rows.iter().enumerate() {
                @let y = i as f64 * ROW + 5.0;
                @let w = (value / max * span).max(if *value > 0.0 { 2.0 } else { 0.0 });
                text x=(LABEL - 8.0) y=(y + 18.0) text-anchor="end" { (label) }
                rect x=(LABEL) y=(y + 4.0) width=(format!("{w:.1}")) height=(ROW - 10.0)
                    fill="#b71c1c" rx="3" {}
                text x=(LABEL + w + 6.0) y=(y + 18.0) { (trim(*value)) (unit) }
            }
        }
    }
}

/// A trend line over `(label, percent)` points in order, each labelled.
pub(crate) fn trend(title: &str, points: &[(String, f64)]) -> Markup {
    let height = 220.0;
    let (left, right, top, bottom) = (40.0, 20.0, 20.0, 50.0);
    let plot_w = WIDTH - left - right;
    let plot_h = height - top - bottom;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let at = |i: usize, v: f64| {
        let x = left + step * i as f64 + if points.len() == 1 { plot_w / 2.0 } else { 0.0 };
        let y = top + plot_h * (1.0 - v.clamp(0.0, 100.0) / 100.0);
        (x, y)
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let (x, y) = at(i, *v);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg.chart role="img" viewBox=(format!("0 0 {WIDTH} {height}")) {
            title { (title) }
            @for pct in [0.0, 50.0, 100.0] {
                @let (_, y) = at(0, pct);
                line x1=(left) x2=(WIDTH - right) y1=(y) y2=(y) stroke="#d0d7de" {}
                text x=(left - 6.0) y=(y + 4.0) text-anchor="end" { (trim(pct)) "%" }
            }
            @if points.is_empty() {
                text x=(left + 10.0) y=(top + plot_h / 2.0) { "暂无数据" }
            } @else {
                polyline points=(path.join(" ")) fill="none" stroke="#b71c1c" stroke-width="3" {}
            }
            @for (i, (label, v)) in points.iter().enumerate() {
                @let (x, y) = at(i, *v);
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="5" fill="#b71c1c" {}
                text x=(format!("{x:.1}")) y=(format!("{:.1}", y - 10.0)) text-anchor="middle" { (trim(*v)) "%" }
                text x=(format!("{x:.1}")) y=(height - bottom + 22.0) text-anchor="middle" { (label) }
            }
        }
    }
}

/// `3` rather than `3.0`; one decimal otherwise.
fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bar_carries_its_number() {
        let svg = bars(
            "上传",
            &[("东坡村".into(), 3.0), ("西岭村".into(), 0.0)],
            "条",
        )
        .into_string();
        assert!(svg.contains("东坡村") && svg.contains(">3条<") && svg.contains(">0条<"));
        let line = trend("到会率", &[("11-01".into(), 87.5)]).into_string();
        assert!(line.contains("87.5%"));
        assert!(bars("空", &[], "条").into_string().contains("暂无数据"));
    }
}
