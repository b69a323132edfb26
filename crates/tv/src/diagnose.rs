//! What an installer or the county centre needs to know about a box, in one
//! list: versions, identity, network, headend round trip, last sync, cache
//! size, pending outbox, remote input, and a stream test that plays the
//! first camera (or live channel) and reports its first-frame time. The
//! settings page and `dangjian-tv --diagnose` show the same lines.

use std::time::Duration;

use crate::config::Config;

/// One line: what, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub label: String,
    pub value: String,
    /// Something an installer should act on.
    pub problem: bool,
}

fn line(label: &str, value: impl Into<String>, problem: bool) -> Line {
    Line {
        label: label.into(),
        value: value.into(),
        problem,
    }
}

fn file_size(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    [path, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1_048_576.0;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else {
        format!("{mb:.1} MB")
    }
}

/// Everything but the stream test; `reach_timeout` bounds the headend
/// check.
pub fn diagnose(config: &Config, reach_timeout: Duration) -> Vec<Line> {
    let mut out = vec![line(
        "软件版本",
        format!(
            "dangjian-tv {} · GStreamer {}",
            env!("CARGO_PKG_VERSION"),
            player::version()
        ),
        false,
    )];
    match &config.device_id {
        Some(device) => out.push(line("本机编号", device.clone(), false)),
        None => out.push(line("本机编号", "未开通（只能看，不能签到和提交）", true)),
    }
    let village = store::Cache::open(&config.cache_path())
        .ok()
        .and_then(|(cache, _)| cache.region_names().ok())
        .map(|names| names.iter().rev().cloned().collect::<Vec<_>>().join(" "))
        .filter(|n| !n.is_empty());
    out.push(line(
        "所在村",
        match village {
            Some(name) => format!("{name}（{}）", config.village_code),
            None => config.village_code.to_string(),
        },
        false,
    ));
    match sync::local_ip_toward(&config.headend_url) {
        Some(ip) => out.push(line("本机地址", ip, false)),
        None => out.push(line("本机地址", "没有网络：请检查网线", true)),
    }
    match sync::Installer::new(&config.headend_url, reach_timeout).reach() {
        Ok(r) => out.push(line(
            "服务器",
            format!(
                "{} 连接正常，往返 {} 毫秒",
                config.headend_url,
                r.round_trip.as_millis().max(1)
            ),
            false,
        )),
        Err(e) => out.push(line(
            "服务器",
            format!("{} 连不上：{e}", config.headend_url),
            true,
        )),
    }
    let cache_path = config.cache_path();
    match store::Cache::open(&cache_path)
        .ok()
        .and_then(|(c, _)| c.sync_state().ok())
    {
        Some(state) => match state.last_synced {
            Some(at) => out.push(line(
                "上次同步",
                format!("{} {} 成功", model::format_date(at), crate::view::clock(at)),
                false,
            )),
            None => out.push(line("上次同步", "还没有同步过", true)),
        },
        None => out.push(line("上次同步", "本机缓存打不开", true)),
    }
    out.push(line("本机缓存", megabytes(file_size(&cache_path)), false));
    let pending = store::Outbox::open(&config.outbox_path(), crate::controller::now_unix())
        .ok()
        .and_then(|o| o.len().ok());
    match pending {
        Some(0) => out.push(line("待发送", "没有", false)),
        Some(n) => out.push(line("待发送", format!("{n} 条，联网后自动发送"), n > 20)),
        None => out.push(line("待发送", "发送队列打不开", true)),
    }
    out.push(line(
        "遥控器",
        if config.input.evdev {
            format!("红外接收：{}", config.input.devices_dir.display())
        } else {
            "红外接收未开启（开发机用键盘）".into()
        },
        false,
    ));
    if let Some(free) = sync::free_bytes(&config.data_dir) {
        out.push(line("剩余空间", megabytes(free), free < 50 * 1_048_576));
    }
    out
}

/// The first stream the box would play: a camera, else a live channel.
pub fn test_stream(config: &Config) -> Option<(String, model::StreamSpec)> {
    let (cache, _) = store::Cache::open(&config.cache_path()).ok()?;
    if let Some(cam) = cache.cameras().ok()?.into_iter().next() {
        return Some((cam.item.name.clone(), cam.item.stream));
    }
    let now = crate::controller::now_unix();
    cache
        .live_channels(now)
        .ok()?
        .into_iter()
        .next()
        .map(|l| (l.item.title.clone(), l.item.stream))
}

/// Plays the test stream into memory and reports its first-frame time.
pub fn stream_test(config: &Config, timeout: Duration) -> Line {
    let Some((name, spec)) = test_stream(config) else {
        return line("播放测试", "本机缓存里没有可测试的视频", true);
    };
    let mut player_config = config.player.clone();
    player_config.max_decoders = 1;
    let player = match player::Player::new(player_config) {
        Ok(p) => p,
        Err(e) => return line("播放测试", format!("播放器启动失败：{e}"), true),
    };
    let request = player::PlayRequest::from_spec(&spec, &config.headend_url, true, (640, 360));
    let (tx, rx) = std::sync::mpsc::channel();
    let session = match player.open(request, move |event| {
        let _ = tx.send(event);
    }) {
        Ok(s) => s,
        Err(e) => return line("播放测试", format!("{name}：{e}"), true),
    };
    let deadline = std::time::Instant::now() + timeout;
    let mut last_error = None;
    let result = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(player::PlayerEvent::FirstFrame { since_play, .. }) => {
                break line(
                    "播放测试",
                    format!("{name}：{} 毫秒出画面", since_play.as_millis()),
                    false,
                )
            }
            Ok(player::PlayerEvent::Error { reason, .. }) => last_error = Some(reason),
            Ok(_) => {}
            Err(_) => {
                let why = last_error.map_or("没有出画面", |r| r.message());
                break line(
                    "播放测试",
                    format!("{name}：{} 秒内{why}", timeout.as_secs()),
                    true,
                );
            }
        }
    };
    drop(session);
    result
}

/// The lines as text for a terminal (`--diagnose`).
pub fn to_text(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "{}{}：{}",
                if l.problem { "! " } else { "  " },
                l.label,
                l.value
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
