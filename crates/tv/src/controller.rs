//! Ties the core, the cache and the Slint window together on the UI thread.

use input::RemoteKey;
use store::Cache;
use sync::SyncEvent;

use crate::app::Nav;
use crate::bridge;
use crate::ui::AppWindow;
use crate::view::{self, CacheCounts, View};

pub struct Controller {
    nav: Nav,
    cache: Cache,
    ui: AppWindow,
    scope: String,
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Controller {
    pub fn new(ui: AppWindow, cache: Cache, scope: String) -> Controller {
        let mut c = Controller {
            nav: Nav::new(),
            cache,
            ui,
            scope,
        };
        c.refresh();
        c
    }

    pub fn ui(&self) -> &AppWindow {
        &self.ui
    }

    pub fn nav(&self) -> &Nav {
        &self.nav
    }

    pub fn key(&mut self, key: RemoteKey) {
        let pages = self.ui.get_detail_page_count().max(1) as usize;
        if self.nav.handle_key(key, &CacheCounts(&self.cache), pages) {
            self.refresh();
        }
    }

    pub fn sync_event(&mut self, event: &SyncEvent) {
        if self.nav.sync_event(event, now_unix()) {
            self.nav.clamp_to(&CacheCounts(&self.cache));
        }
        self.refresh();
    }

    /// The view as the screen shows it now.
    pub fn view(&self) -> View {
        match view::build(&self.nav, &self.cache, &self.scope) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the local cache");
                View {
                    status: "本机存储出错".into(),
                    offline: true,
                    offline_text: "本机存储出错，请重启机顶盒；如仍不行请联系安装人员".into(),
                    ..View::default()
                }
            }
        }
    }

    pub fn refresh(&mut self) {
        let v = self.view();
        bridge::apply(&self.ui, &v);
    }
}
