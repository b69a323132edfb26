//! What each step of the wizard shows.

use super::{Pending, Step, Wizard, WizardView, ROWS_PER_PAGE, STEPS};

impl Wizard {
    pub fn view(&self) -> WizardView {
        let mut v = WizardView {
            error: self.error.clone(),
            focus: self.focus,
            busy: self.pending.is_some(),
            ..WizardView::default()
        };
        let number = match self.step {
            Step::Network | Step::Address => 1,
            Step::Region => 2,
            Step::Code => 3,
            Step::Members => 4,
            Step::Done => 5,
        };
        v.step_text = format!("开通本机 · 第 {number} 步，共 {STEPS} 步");
        match self.step {
            Step::Network => {
                v.title = "检查网络".into();
                let reach = match (&self.pending, &self.reach) {
                    (Some(Pending::Reach), _) | (_, None) => "正在连接服务器，请稍候…".to_string(),
                    (_, Some(Ok(rtt))) => {
                        format!("服务器连接正常，往返 {} 毫秒", rtt.as_millis().max(1))
                    }
                    (_, Some(Err(e))) => e.clone(),
                };
                v.prompt = format!(
                    "本机地址：{}\n服务器：{}\n{reach}",
                    self.ip.as_deref().unwrap_or("未连接网络"),
                    self.url
                );
                v.rows = vec![
                    ("下一步：选择所在的村".into(), String::new()),
                    ("修改服务器地址".into(), String::new()),
                    ("重新检查网络".into(), String::new()),
                ];
                v.hint = "上下键选择，确定键执行".into();
                if self.pending == Some(Pending::Regions) {
                    v.prompt.push_str("\n正在读取村的名单…");
                }
            }
            Step::Address => {
                v.title = "修改服务器地址".into();
                v.prompt = "输入县里给的服务器地址，例如 10.20.0.5:8080".into();
                v.field_label = "服务器地址".into();
                v.field = format!("http://{}", self.address);
                v.hint = "数字键输入；右键输入“.”，黄键输入“:”，左键删除；确定键保存".into();
            }
            Step::Region => {
                v.title = "选择所在的村".into();
                let chain: Vec<String> = self.path.iter().map(|c| self.region_name(c)).collect();
                v.prompt = if chain.is_empty() {
                    "请选择县".into()
                } else {
                    format!("{} › 请选择", chain.join(" › "))
                };
                v.rows = self
                    .region_rows()
                    .iter()
                    .map(|r| (r.name.clone(), r.code.to_string()))
                    .collect();
                v.field_label = "或输入 12 位村编码".into();
                v.field = self.typed_village.clone();
                v.hint = "上下键选择，确定键进入；数字键直接输入村编码；返回键回上一级".into();
            }
            Step::Code => {
                v.title = "输入开通码".into();
                if let Some(village) = &self.village {
                    let town = village
                        .parent
                        .as_ref()
                        .map(|t| self.region_name(t))
                        .unwrap_or_default();
                    v.prompt = format!("{town} {}（{}）", village.name, village.code);
                }
                if self.pending == Some(Pending::Provision) {
                    v.prompt.push_str("\n正在开通，请稍候…");
                }
                v.field_label = "开通码（县里发的 8 位数字）".into();
                v.field = self.code.clone();
                v.hint = "数字键输入，左键删除，确定键开通；返回键重选村".into();
            }
            Step::Members => {
                v.title = "谁住在这里".into();
                v.prompt = "选中住在这户的党员（确定键选中或取消），最后选“完成”".into();
                v.rows = self
                    .members()
                    .iter()
                    .zip(&self.chosen)
                    .map(|(m, on)| {
                        (
                            format!("{} {}", if *on { "☑" } else { "☐" }, m.name),
                            m.branch_name.clone(),
                        )
                    })
                    .collect();
                let n = self.chosen.iter().filter(|on| **on).count();
                v.rows.push(("完成".into(), format!("已选 {n} 人")));
                v.hint = "上下键移动，确定键选中".into();
            }
            Step::Done => {
                v.title = "开通完成".into();
                if let (Some(p), Some(village)) = (&self.provisioned, &self.village) {
                    let names: Vec<&str> = p
                        .members
                        .iter()
                        .zip(&self.chosen)
                        .filter(|(_, on)| **on)
                        .map(|(m, _)| m.name.as_str())
                        .collect();
                    v.prompt = format!(
                        "本机编号：{}\n所在村：{}\n住户党员：{}",
                        p.device,
                        village.name,
                        if names.is_empty() {
                            "无".to_string()
                        } else {
                            names.join("、")
                        }
                    );
                }
                v.rows = vec![("进入首页".into(), String::new())];
                v.hint = "按确定键进入首页".into();
            }
        }
        // Long lists scroll a page at a time around the focus.
        if v.rows.len() > ROWS_PER_PAGE {
            let pages = v.rows.len().div_ceil(ROWS_PER_PAGE);
            let start = self.focus / ROWS_PER_PAGE * ROWS_PER_PAGE;
            let end = (start + ROWS_PER_PAGE).min(v.rows.len());
            v.rows = v.rows[start..end].to_vec();
            v.focus = self.focus - start;
            v.hint = format!("{}（第 {}/{pages} 页）", v.hint, start / ROWS_PER_PAGE + 1);
        }
        v
    }
}
