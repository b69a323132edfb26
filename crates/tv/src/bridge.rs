//! Hands view data to the Slint globals. The only file that knows both.

use slint::{
    ComponentHandle, Image, Model, ModelRc, Rgb8Pixel, Rgba8Pixel, SharedPixelBuffer, SharedString,
    VecModel,
};

use crate::picture::Picture;
use crate::rollcall::OverlayView;
use crate::ui::{
    AppState, AppWindow, BarData, BlockData, CategoriesState, CategoryData, CellData, ComingState,
    DetailState, FormState, GridState, HomeState, KeyRowData, ListState, OptionData, PaneData,
    PointData, RemoteTestState, RollCallMemberData, RollCallState, RowData, SettingsState,
    TableRowData, Theme, TileData, VideoState,
};
use crate::view::{BlockView, RowKind, View};

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn s(text: &str) -> SharedString {
    SharedString::from(text)
}

pub fn apply(ui: &AppWindow, v: &View) {
    let app = ui.global::<AppState>();
    app.set_screen(v.screen);
    app.set_region(s(&v.region));
    app.set_status(s(&v.status));
    app.set_offline(v.offline);
    app.set_offline_text(s(&v.offline_text));
    app.set_hint(s(&v.hint));
    app.set_breadcrumb(s(&v.breadcrumb));
    let (title, meta, text) = v.popup.clone().unwrap_or_default();
    app.set_popup(v.popup.is_some());
    app.set_popup_title(s(&title));
    app.set_popup_badge(s(if v.popup_badge.is_empty() {
        "紧急通知"
    } else {
        &v.popup_badge
    }));
    app.set_popup_meta(s(&meta));
    app.set_popup_text(s(&text));
    let focus = v.focus as i32;
    match v.screen {
        0 => {
            let home = ui.global::<HomeState>();
            home.set_tiles(model(
                v.tiles
                    .iter()
                    .map(|t| TileData {
                        label: s(&t.label),
                        glyph: s(&t.glyph),
                        badge: s(&t.badge),
                    })
                    .collect(),
            ));
            home.set_focus(focus);
        }
        1 | 7 => {
            let c = ui.global::<CategoriesState>();
            c.set_title(s(&v.title));
            c.set_categories(model(
                v.categories
                    .iter()
                    .enumerate()
                    .map(|(i, (label, count))| CategoryData {
                        label: s(label),
                        count: s(count),
                        badge: s(v.card_badges.get(i).map_or("", String::as_str)),
                    })
                    .collect(),
            ));
            c.set_focus(focus);
        }
        2 => {
            let l = ui.global::<ListState>();
            l.set_title(s(&v.title));
            let mut list = rows(&v.rows, &v.row_badges);
            for (row, p) in list.iter_mut().zip(&v.row_pictures) {
                row.image = picture(p);
            }
            l.set_rows(model(list));
            l.set_focus(focus);
            l.set_page(s(&v.page_text));
            l.set_empty_text(s(&v.empty_text));
        }
        3 => {
            let d = ui.global::<DetailState>();
            d.set_title(s(&v.title));
            d.set_meta(s(&v.meta));
            d.set_blocks(model(v.page_blocks.iter().map(block).collect()));
            d.set_page_text(s(&v.page_text));
        }
        5 => {
            let st = ui.global::<SettingsState>();
            st.set_title(s(&v.title));
            st.set_rows(model(rows(&v.rows, &v.row_badges)));
            st.set_focus(focus);
            st.set_compact(v.compact_rows);
        }
        6 => {
            let t = ui.global::<RemoteTestState>();
            t.set_title(s(&v.title));
            t.set_status(s(&v.test_status));
            t.set_notes(s(&v.test_notes));
            t.set_keys(model(
                v.test_keys
                    .iter()
                    .map(|k| KeyRowData {
                        name: s(&k.name),
                        scancode: s(&k.scancode),
                        action: s(&k.action),
                        unmapped: k.unmapped,
                    })
                    .collect(),
            ));
        }
        8 => {
            let p = ui.global::<VideoState>();
            p.set_title(s(&v.video.title));
            p.set_subtitle(s(&v.video.subtitle));
            p.set_live(v.video.live);
            p.set_osd(v.video.osd);
            p.set_message(s(&v.video.message));
            p.set_progress(s(&v.video.progress));
            p.set_hint(s(&v.video.hint));
            p.set_clock(s(&v.video.clock));
        }
        9 => {
            let g = ui.global::<GridState>();
            g.set_title(s(&v.title));
            g.set_meta(s(&v.meta));
            g.set_page(s(&v.page_text));
            g.set_focus(focus);
            // Keep the pictures already shown; only the words change here.
            let old = g.get_panes();
            g.set_panes(model(
                v.panes
                    .iter()
                    .enumerate()
                    .map(|(i, pane)| PaneData {
                        label: s(&pane.label),
                        message: s(&pane.message),
                        image: old.row_data(i).map(|p| p.image).unwrap_or_default(),
                    })
                    .collect(),
            ));
        }
        10 => {
            let f = ui.global::<FormState>();
            let form = &v.form;
            f.set_title(s(&form.title));
            f.set_progress_text(s(&form.progress_text));
            f.set_progress(form.progress);
            f.set_timer(s(&form.timer));
            f.set_prompt(s(&form.prompt));
            f.set_field(s(&form.field));
            f.set_has_field(form.has_field);
            f.set_options(model(
                form.options
                    .iter()
                    .map(|(label, chosen, confirm)| OptionData {
                        label: s(label),
                        chosen: *chosen,
                        confirm: *confirm,
                    })
                    .collect(),
            ));
            f.set_focus(form.focus as i32);
            f.set_message(s(&form.message));
            f.set_message_ok(form.message_ok);
        }
        _ => {
            let c = ui.global::<ComingState>();
            c.set_title(s(&v.title));
            c.set_text(s(if v.meta.is_empty() {
                "这部分功能即将开放，敬请期待。"
            } else {
                &v.meta
            }));
        }
    }
}

fn rows(rows: &[(String, String)], badges: &[String]) -> Vec<RowData> {
    rows.iter()
        .enumerate()
        .map(|(i, (title, meta))| RowData {
            title: s(title),
            meta: s(meta),
            badge: s(badges.get(i).map_or("", String::as_str)),
            image: Image::default(),
        })
        .collect()
}

/// 长辈模式 (large text, the default) or 标准模式.
pub fn apply_display_mode(ui: &AppWindow, standard: bool) {
    ui.global::<Theme>().set_standard(standard);
}

/// The body area a detail page has, in logical pixels.
pub fn detail_body(ui: &AppWindow) -> (f32, f32) {
    (ui.get_detail_body_width(), ui.get_detail_body_height())
}

/// Puts one page of a detail on screen.
pub fn apply_detail_page(ui: &AppWindow, v: &View) {
    let d = ui.global::<DetailState>();
    d.set_blocks(model(v.page_blocks.iter().map(block).collect()));
    d.set_page_text(s(&v.page_text));
}

fn picture(p: &Option<Picture>) -> Image {
    match p {
        Some(p) => Image::from_rgba8(SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(
            &p.rgba, p.width, p.height,
        )),
        None => Image::default(),
    }
}

fn block(b: &BlockView) -> BlockData {
    match b {
        BlockView::Paragraph(text) => BlockData {
            kind: 0,
            text: s(text),
            ..BlockData::default()
        },
        BlockView::Table {
            caption,
            warning,
            rows,
        } => BlockData {
            kind: 1,
            text: s(caption),
            warning: s(warning),
            rows: model(
                rows.iter()
                    .map(|r| TableRowData {
                        kind: match r.kind {
                            RowKind::Header => 0,
                            RowKind::Body => 1,
                            RowKind::Totals => 2,
                        },
                        cells: model(
                            r.cells
                                .iter()
                                .map(|(text, right)| CellData {
                                    text: s(text),
                                    right: *right,
                                })
                                .collect(),
                        ),
                    })
                    .collect(),
            ),
            ..BlockData::default()
        },
        BlockView::BarChart { title, bars } => BlockData {
            kind: 3,
            text: s(title),
            bars: model(
                bars.iter()
                    .map(|b| BarData {
                        label: s(&b.label),
                        value: s(&b.value),
                        fraction: b.fraction,
                        income: b.income,
                    })
                    .collect(),
            ),
            ..BlockData::default()
        },
        BlockView::Trend { title, points } => BlockData {
            kind: 4,
            text: s(title),
            points: model(
                points
                    .iter()
                    .map(|p| PointData {
                        label: s(&p.label),
                        income: p.income,
                        spending: p.spending,
                        income_text: s(&p.income_text),
                        spending_text: s(&p.spending_text),
                    })
                    .collect(),
            ),
            ..BlockData::default()
        },
        BlockView::Image {
            caption,
            picture: p,
            status,
            ..
        } => BlockData {
            kind: 2,
            text: s(caption),
            warning: s(status),
            image: picture(p),
            ..BlockData::default()
        },
        BlockView::Profile {
            picture: p,
            status,
            name,
            lines,
            ..
        } => BlockData {
            kind: 5,
            text: s(name),
            warning: s(status),
            image: picture(p),
            lines: model(lines.iter().map(|l| s(l)).collect()),
            ..BlockData::default()
        },
    }
}

/// Size of a video poster in a list row, logical pixels (16:9).
pub const POSTER_W: f32 = 144.0;
pub const POSTER_H: f32 = 81.0;

/// Physical pixels per logical pixel (1.5 on a 1080p screen).
pub fn scale_factor(ui: &AppWindow) -> f32 {
    ui.window().scale_factor()
}

fn frame_image(frame: Option<&player::Frame>) -> Image {
    match frame {
        Some(f) => Image::from_rgb8(SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(
            &f.rgb, f.width, f.height,
        )),
        None => Image::default(),
    }
}

/// Puts a stream's newest picture on screen: the player (screen 8) or a
/// pane of the camera grid (screen 9). `None` clears it, so a stream that
/// stopped never leaves an old picture up.
pub fn apply_video_frame(ui: &AppWindow, screen: i32, pane: usize, frame: Option<&player::Frame>) {
    match screen {
        8 if pane == 0 => ui.global::<VideoState>().set_frame(frame_image(frame)),
        9 => {
            let panes = ui.global::<GridState>().get_panes();
            if let Some(mut row) = panes.row_data(pane) {
                row.image = frame_image(frame);
                panes.set_row_data(pane, row);
            }
        }
        _ => {}
    }
}

/// The player's `5:20 / 12:34` line.
pub fn apply_progress(ui: &AppWindow, progress: &str) {
    ui.global::<VideoState>().set_progress(s(progress));
}

/// Physical size to decode at: the whole screen, or one pane of the grid.
pub fn video_size(ui: &AppWindow, grid: bool) -> (u32, u32) {
    let size = ui.window().size();
    let (w, h) = (size.width.max(2), size.height.max(2));
    if grid {
        // A pane is a little under half the width and a third of the height.
        ((w * 43 / 100) & !1, (h * 30 / 100) & !1)
    } else {
        (w & !1, h & !1)
    }
}

/// The roll-call overlay, or hides it.
pub fn apply_rollcall(ui: &AppWindow, v: Option<&OverlayView>) {
    let state = ui.global::<RollCallState>();
    let Some(v) = v else {
        state.set_visible(false);
        return;
    };
    state.set_meeting(s(&v.meeting));
    state.set_countdown(s(&v.countdown));
    state.set_overdue(v.overdue);
    state.set_members(model(
        v.members
            .iter()
            .map(|m| RollCallMemberData {
                name: s(&m.name),
                ticked: m.ticked,
                signed: m.signed,
            })
            .collect(),
    ));
    state.set_buttons(model(v.buttons.iter().map(|b| s(b)).collect()));
    state.set_focus(v.focus as i32);
    state.set_done(s(v.done.as_deref().unwrap_or("")));
    state.set_message(s(v.message.as_deref().unwrap_or("")));
    state.set_visible(true);
}
