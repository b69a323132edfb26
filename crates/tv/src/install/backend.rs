//! [`Backend`] over the real headend client, with failures in plain words.

use std::time::Duration;

use model::{AreaCode, Provisioned, Region};

use super::Backend;

fn plain_refusal(code: &str) -> String {
    match code {
        model::refusal::CODE_EXPIRED => "开通码已过期，请向县里要一个新的开通码".into(),
        model::refusal::CODE_USED => "这个开通码已经用过了，每个开通码只能开通一台机顶盒".into(),
        model::refusal::CODE_UNKNOWN => "开通码不对，请核对后重新输入".into(),
        model::refusal::CODE_OUTSIDE => "这个开通码不是发给这个村的，请核对所选的村".into(),
        model::refusal::VILLAGE_UNKNOWN => "服务器上没有这个村，请重新选择".into(),
        model::refusal::CODE_LOCKED => {
            "这个开通码多次用在别的村，已被锁定，请向县里要一个新的开通码".into()
        }
        model::refusal::DEVICE_ELSEWHERE => {
            "这台机顶盒已在别的地方开通，请联系原来所在乡镇或县里先在管理平台上释放它".into()
        }
        model::refusal::PROVISION_THROTTLED => "输错的次数太多，请等几分钟再输入开通码".into(),
        other => format!("服务器拒绝开通（{other}）"),
    }
}

/// [`Backend`] over the real headend client.
pub struct HeadendBackend {
    pub timeout: Duration,
}

fn unreachable_text(e: &sync::SyncError) -> String {
    match e.kind() {
        sync::FailureKind::Unreachable => "连不上服务器：请检查网线和服务器地址".into(),
        sync::FailureKind::Server => format!("服务器出错，请稍后再试（{e}）"),
        sync::FailureKind::BadData => "服务器的回答看不懂，请确认服务器地址".into(),
        _ => e.to_string(),
    }
}

impl Backend for HeadendBackend {
    fn reach(&self, url: &str) -> Result<Duration, String> {
        sync::Installer::new(url, self.timeout)
            .reach()
            .map(|r| r.round_trip)
            .map_err(|e| unreachable_text(&e))
    }

    fn regions(&self, url: &str) -> Result<Vec<Region>, String> {
        sync::Installer::new(url, self.timeout)
            .regions()
            .map_err(|e| unreachable_text(&e))
    }

    fn provision(
        &self,
        url: &str,
        village: &AreaCode,
        code: &str,
        device: Option<&str>,
        token: Option<&str>,
    ) -> Result<Provisioned, String> {
        match sync::Installer::new(url, self.timeout).provision(village, code, device, token) {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(refusal)) => Err(plain_refusal(&refusal.code)),
            Err(e) => Err(unreachable_text(&e)),
        }
    }

    fn set_members(
        &self,
        url: &str,
        device: &str,
        token: &str,
        members: &[String],
    ) -> Result<(), String> {
        sync::Installer::new(url, self.timeout)
            .set_members(device, token, members)
            .map(|_| ())
            .map_err(|e| match e {
                // model::refusal::MEMBER_ELSEWHERE
                sync::SyncError::Server { status: 409, .. } => {
                    "有的成员已登记在别的机顶盒上：请只选住在这里的人，或请村里的管理员在后台确认搬迁".into()
                }
                e => unreachable_text(&e),
            })
    }

    fn local_ip(&self, url: &str) -> Option<String> {
        sync::local_ip_toward(url)
    }
}
