//! First-boot provisioning, UI-agnostic: network check -> headend address
//! -> county, town, village (arrows, or the 12-digit code typed) -> the
//! installer code -> who lives here -> done. Every failure is said in plain
//! words on the step where it happened.
//!
//! Network calls go through [`Backend`]. A key that needs one leaves a
//! [`Pending`] action, so the front end can draw "请稍候" before it runs
//! [`Wizard::run_pending`]. The identity is saved as soon as the headend
//! provisions the box, so a power cut during the members step loses
//! nothing: the box starts provisioned.

use std::path::PathBuf;
use std::time::Duration;

use input::RemoteKey;
use model::{is_installer_code, AreaCode, Member, Provisioned, Region, RegionLevel};

use crate::identity::Identity;

mod backend;
mod view;

pub use backend::HeadendBackend;

/// Marker left in the data directory by the settings page: provision the
/// box again on the next start.
pub const REPROVISION_MARKER: &str = "reprovision";

/// Asks for provisioning on the next start.
pub fn request_reprovision(data_dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(data_dir.join(REPROVISION_MARKER), b"")
}

/// Whether provisioning was asked for; the request is used up.
pub fn take_reprovision_request(data_dir: &std::path::Path) -> bool {
    std::fs::remove_file(data_dir.join(REPROVISION_MARKER)).is_ok()
}

/// Rows on one screen of a list step.
pub const ROWS_PER_PAGE: usize = 5;
/// Steps the installer sees numbered.
pub const STEPS: usize = 5;

/// The headend calls provisioning makes, with failures in plain words.
pub trait Backend {
    fn reach(&self, url: &str) -> Result<Duration, String>;
    fn regions(&self, url: &str) -> Result<Vec<Region>, String>;
    /// `device` and `token` are the box's id and current token when it is
    /// provisioned again.
    fn provision(
        &self,
        url: &str,
        village: &AreaCode,
        code: &str,
        device: Option<&str>,
        token: Option<&str>,
    ) -> Result<Provisioned, String>;
    fn set_members(
        &self,
        url: &str,
        device: &str,
        token: &str,
        members: &[String],
    ) -> Result<(), String>;
    /// This box's address toward `url`.
    fn local_ip(&self, url: &str) -> Option<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Network,
    Address,
    Region,
    Code,
    Members,
    Done,
}

/// A network call the front end runs after drawing the busy state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Reach,
    Regions,
    Provision,
    Members,
}

/// What the screen shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WizardView {
    pub step_text: String,
    pub title: String,
    pub prompt: String,
    /// The text being typed (address, village code, installer code).
    pub field: String,
    pub field_label: String,
    pub rows: Vec<(String, String)>,
    pub focus: usize,
    pub error: String,
    pub hint: String,
    pub busy: bool,
}

pub struct Wizard {
    pub step: Step,
    url: String,
    data_dir: PathBuf,
    /// The id the box had, when it is provisioned again.
    previous_device: Option<String>,
    /// Its token then: proves to the headend that this is that box.
    previous_token: Option<String>,
    ip: Option<String>,
    reach: Option<Result<Duration, String>>,
    address: String,
    regions: Vec<Region>,
    /// County, then town, as chosen.
    path: Vec<AreaCode>,
    focus: usize,
    typed_village: String,
    village: Option<Region>,
    code: String,
    provisioned: Option<Provisioned>,
    chosen: Vec<bool>,
    error: String,
    pending: Option<Pending>,
    /// Set when the installer left (re-provisioning only) or finished.
    pub finished: Option<bool>,
}

impl Wizard {
    /// Starts at the network check (its call is pending).
    pub fn new(settings: &crate::config::InstallSettings) -> Wizard {
        Wizard {
            step: Step::Network,
            url: settings.headend_url.clone(),
            data_dir: settings.data_dir.clone(),
            previous_device: settings.device_id.clone(),
            previous_token: settings.device_token.clone(),
            ip: None,
            reach: None,
            address: String::new(),
            regions: Vec::new(),
            path: Vec::new(),
            focus: 0,
            typed_village: String::new(),
            village: None,
            code: String::new(),
            provisioned: None,
            chosen: Vec::new(),
            error: String::new(),
            pending: Some(Pending::Reach),
            finished: None,
        }
    }

    pub fn pending(&self) -> Option<Pending> {
        self.pending
    }

    pub fn headend_url(&self) -> &str {
        &self.url
    }

    /// Runs the network call a key asked for.
    pub fn run_pending(&mut self, backend: &dyn Backend) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        self.error.clear();
        match pending {
            Pending::Reach => {
                self.ip = backend.local_ip(&self.url);
                self.reach = Some(backend.reach(&self.url));
            }
            Pending::Regions => match backend.regions(&self.url) {
                Ok(regions) if regions.iter().any(|r| r.level == RegionLevel::Village) => {
                    self.regions = regions;
                    self.path.clear();
                    self.focus = 0;
                    // One county: start inside it.
                    let counties = self.children(None);
                    if let [only] = counties.as_slice() {
                        self.path.push(only.code.clone());
                    }
                    self.step = Step::Region;
                }
                Ok(_) => self.error = "服务器上还没有村，请联系县里".into(),
                Err(e) => self.error = e,
            },
            Pending::Provision => {
                let Some(village) = self.village.clone() else {
                    return;
                };
                match backend.provision(
                    &self.url,
                    &village.code,
                    &self.code,
                    self.previous_device.as_deref(),
                    self.previous_token.as_deref(),
                ) {
                    Ok(p) => {
                        let identity = Identity {
                            device: p.device.clone(),
                            village: p.village.clone(),
                            token: p.token.clone(),
                        };
                        if let Err(e) = identity.save(&self.data_dir) {
                            self.error = format!("开通成功，但保存到本机失败：{e}");
                            return;
                        }
                        self.chosen = vec![false; p.members.len()];
                        self.provisioned = Some(p);
                        self.focus = 0;
                        self.step = Step::Members;
                    }
                    Err(e) => {
                        self.error = e;
                        self.code.clear();
                    }
                }
            }
            Pending::Members => {
                let Some(p) = &self.provisioned else {
                    return;
                };
                let members: Vec<String> = p
                    .members
                    .iter()
                    .zip(&self.chosen)
                    .filter(|(_, on)| **on)
                    .map(|(m, _)| m.id.clone())
                    .collect();
                match backend.set_members(&self.url, &p.device, &p.token, &members) {
                    Ok(()) => {
                        self.step = Step::Done;
                        self.focus = 0;
                    }
                    Err(e) => self.error = e,
                }
            }
        }
    }

    fn children(&self, parent: Option<&AreaCode>) -> Vec<Region> {
        let mut out: Vec<Region> = self
            .regions
            .iter()
            .filter(|r| match parent {
                None => r.level == RegionLevel::County,
                Some(p) => r.parent.as_ref() == Some(p),
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        out
    }

    fn region_rows(&self) -> Vec<Region> {
        self.children(self.path.last())
    }

    fn members(&self) -> &[Member] {
        self.provisioned
            .as_ref()
            .map_or(&[], |p| p.members.as_slice())
    }

    fn row_count(&self) -> usize {
        match self.step {
            Step::Network => 3,
            Step::Region => self.region_rows().len(),
            Step::Members => self.members().len() + 1,
            Step::Done => 1,
            Step::Address | Step::Code => 0,
        }
    }

    pub fn key(&mut self, key: RemoteKey) {
        if self.pending.is_some() {
            return;
        }
        let rows = self.row_count();
        match key {
            RemoteKey::Up if self.focus > 0 => {
                self.focus -= 1;
                return;
            }
            RemoteKey::Down if self.focus + 1 < rows => {
                self.focus += 1;
                return;
            }
            _ => {}
        }
        match self.step {
            Step::Network => self.network_key(key),
            Step::Address => self.address_key(key),
            Step::Region => self.region_key(key),
            Step::Code => self.code_key(key),
            Step::Members => self.members_key(key),
            Step::Done => {
                if key == RemoteKey::Ok {
                    self.finished = Some(true);
                }
            }
        }
    }

    fn network_key(&mut self, key: RemoteKey) {
        match key {
            RemoteKey::Ok => match self.focus {
                0 => match &self.reach {
                    Some(Ok(_)) => self.pending = Some(Pending::Regions),
                    _ => self.error = "服务器还连不上：请检查网线，或选“修改服务器地址”".into(),
                },
                1 => {
                    self.address = self
                        .url
                        .trim_start_matches("http://")
                        .trim_start_matches("https://")
                        .trim_end_matches('/')
                        .to_string();
                    self.error.clear();
                    self.step = Step::Address;
                }
                _ => self.pending = Some(Pending::Reach),
            },
            RemoteKey::Back if self.previous_device.is_some() => self.finished = Some(false),
            _ => {}
        }
    }

    fn address_key(&mut self, key: RemoteKey) {
        match key {
            RemoteKey::Digit(d) if self.address.len() < 40 => {
                self.address.push(char::from(b'0' + d))
            }
            RemoteKey::Right => self.address.push('.'),
            RemoteKey::Yellow => self.address.push(':'),
            RemoteKey::Left => {
                self.address.pop();
            }
            RemoteKey::Ok => {
                if self.address.is_empty() {
                    self.error = "请先输入服务器地址".into();
                    return;
                }
                self.url = format!("http://{}", self.address);
                self.step = Step::Network;
                self.focus = 0;
                self.pending = Some(Pending::Reach);
            }
            RemoteKey::Back => {
                self.step = Step::Network;
                self.error.clear();
            }
            _ => {}
        }
    }

    fn region_key(&mut self, key: RemoteKey) {
        match key {
            RemoteKey::Digit(d) => {
                self.error.clear();
                if self.typed_village.len() < 12 {
                    self.typed_village.push(char::from(b'0' + d));
                }
                if self.typed_village.len() == 12 {
                    let typed = std::mem::take(&mut self.typed_village);
                    match self
                        .regions
                        .iter()
                        .find(|r| r.code.as_str() == typed && r.level == RegionLevel::Village)
                    {
                        Some(v) => self.choose_village(v.clone()),
                        None => self.error = format!("没有编码为 {typed} 的村，请核对"),
                    }
                }
            }
            RemoteKey::Left if !self.typed_village.is_empty() => {
                self.typed_village.pop();
            }
            RemoteKey::Ok => {
                let rows = self.region_rows();
                let Some(chosen) = rows.get(self.focus) else {
                    return;
                };
                if chosen.level == RegionLevel::Village {
                    self.choose_village(chosen.clone());
                } else {
                    self.path.push(chosen.code.clone());
                    self.focus = 0;
                }
            }
            RemoteKey::Back => {
                self.typed_village.clear();
                self.error.clear();
                let single_county = self.children(None).len() == 1;
                if self.path.len() > usize::from(single_county) {
                    self.path.pop();
                    self.focus = 0;
                } else {
                    self.step = Step::Network;
                    self.focus = 0;
                }
            }
            _ => {}
        }
    }

    fn choose_village(&mut self, village: Region) {
        self.village = Some(village);
        self.code.clear();
        self.error.clear();
        self.step = Step::Code;
    }

    fn code_key(&mut self, key: RemoteKey) {
        match key {
            RemoteKey::Digit(d) if self.code.len() < model::INSTALLER_CODE_LEN => {
                self.error.clear();
                self.code.push(char::from(b'0' + d));
            }
            RemoteKey::Left => {
                self.code.pop();
            }
            RemoteKey::Ok => {
                if is_installer_code(&self.code) {
                    self.pending = Some(Pending::Provision);
                } else {
                    self.error = format!(
                        "开通码是 {} 位数字，现在输入了 {} 位",
                        model::INSTALLER_CODE_LEN,
                        self.code.len()
                    );
                }
            }
            RemoteKey::Back => {
                self.step = Step::Region;
                self.error.clear();
            }
            _ => {}
        }
    }

    fn members_key(&mut self, key: RemoteKey) {
        if key != RemoteKey::Ok {
            return;
        }
        let n = self.members().len();
        if self.focus < n {
            if let Some(on) = self.chosen.get_mut(self.focus) {
                *on = !*on;
            }
        } else {
            self.pending = Some(Pending::Members);
        }
    }

    fn region_name(&self, code: &AreaCode) -> String {
        self.regions
            .iter()
            .find(|r| &r.code == code)
            .map_or_else(|| code.to_string(), |r| r.name.clone())
    }
}
