//! 通知公告: an urgent notice pops up over whatever is on screen once per
//! box until OK, unread counts badge the home tiles, the list puts urgent
//! notices first.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use e2e::{box_config, demo_headend_db, screenshot_dir, start_headend};
use input::RemoteKey::{Back, Blue, Digit, Down, Home, Ok as OkKey};
use sync::SyncEvent;
use tv::{Display, HeadlessSession};

const URGENT: &str = "关于做好秋季强降雨防范工作的紧急通知";

#[test]
fn an_urgent_notice_pops_up_once_per_box_until_ok() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_headend(demo_headend_db(dir.path()));
    let config = box_config(&server.url(), &dir.path().join("box"));
    let mut tv = HeadlessSession::start(&config, true).unwrap();
    let synced = tv.wait_for_sync_result(Duration::from_secs(30)).unwrap();
    assert!(matches!(synced, SyncEvent::Synced(_)), "{synced:?}");

    // Over the home screen, with the issuer and the text.
    let (title, meta, text) = tv.view().popup.expect("the urgent notice is up");
    assert_eq!(title, URGENT);
    assert!(meta.starts_with("青山县应急管理局 · 本县 · "), "{meta}");
    assert!(text.contains("防汛值班电话"), "{text}");
    let texts = tv.visible_texts();
    for needle in ["紧急通知", URGENT, "请按“确定”键表示已知晓"] {
        assert!(texts.iter().any(|t| t == needle), "{needle}: {texts:?}");
    }
    for display in [Display::HD, Display::FULL_HD] {
        tv.set_display(display);
        tv.save_png(&screenshot_dir().join(format!(
            "e2e-urgent-notice-{}x{}.png",
            display.width, display.height
        )))
        .unwrap();
    }
    tv.set_display(Display::HD);

    // Other keys do not get past it.
    tv.press(Digit(1));
    tv.press(Down);
    assert_eq!(tv.view().screen, 0);
    assert!(tv.view().popup.is_some());

    // OK acknowledges it; the home badges count what is unread.
    tv.press(OkKey);
    let view = tv.view();
    assert!(view.popup.is_none());
    assert_eq!(view.tiles[1].label, "通知公告");
    assert_eq!(
        view.tiles[1].badge, "3",
        "four notices, the urgent one read"
    );
    assert_eq!(
        view.tiles[0].badge, "12",
        "twelve disclosures not opened yet"
    );

    // The list: urgent first and marked, the others new.
    tv.press(Blue);
    let view = tv.view();
    assert_eq!(view.title, "通知公告");
    assert_eq!(view.rows.len(), 4);
    assert_eq!(view.rows[0].0, URGENT);
    assert_eq!(view.row_badges, ["紧急", "新", "新", "新"]);
    tv.save_png(&screenshot_dir().join("e2e-notices-1280x720.png"))
        .unwrap();
    tv.press(Down);
    tv.press(OkKey);
    let view = tv.view();
    assert_eq!(view.screen, 3);
    assert_eq!(view.breadcrumb, "通知公告");
    tv.press(Back);
    assert_eq!(tv.view().row_badges[1], "");
    tv.press(Home);
    assert_eq!(tv.view().tiles[1].badge, "2");
    drop(tv);

    // After a restart the acknowledged notice does not come back.
    let data = config.clone();
    std::thread::spawn(move || {
        let tv = HeadlessSession::start(&data, false).unwrap();
        assert!(tv.view().popup.is_none());
        assert_eq!(tv.view().tiles[1].badge, "2");
    })
    .join()
    .unwrap();
}
