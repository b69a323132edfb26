//! The roll-call overlay (在线点名), independent of Slint.
//!
//! A prompt from the headend comes up over whatever is on screen (a meeting
//! keeps playing underneath) with a countdown. With one invited member in
//! the household, focus starts on 签到 and one OK signs in. With several,
//! arrows (or digits) and OK tick who is present, then 确认签到. If the box
//! is not showing the meeting, 观看会议 opens it. Back puts the prompt
//! away; the red key brings it back while the roll-call is still open.
//!
//! Time is only the monotonic clock: how old the roll-call was when the
//! headend sent it, plus how long the box has held it.

use std::time::{Duration, Instant};

use input::RemoteKey;
use model::RollCallPrompt;

/// A prompt is dropped this long after its window closed, answered or not
/// (late answers are still taken until then).
const KEEP_AFTER_WINDOW: Duration = Duration::from_secs(30 * 60);
/// How long 已签到 stays up by itself.
const DONE_SHOWN: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    SignIn,
    Watch,
    Later,
}

impl Button {
    pub fn label(self, many: bool) -> &'static str {
        match self {
            Button::SignIn if many => "确认签到",
            Button::SignIn => "签到",
            Button::Watch => "观看会议",
            Button::Later => "稍后再签",
        }
    }
}

/// What the controller must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverlayAction {
    None,
    /// Write these sign-ins to the outbox, then call [`RollCalls::signed`].
    SignIn {
        rollcall: String,
        /// (member id, name)
        members: Vec<(String, String)>,
        elapsed_ms: u64,
    },
    /// Open the meeting's live broadcast (feed item id) under the overlay.
    Watch(String),
}

#[derive(Debug)]
struct Active {
    prompt: RollCallPrompt,
    received: Instant,
    /// Invitees already answered on this box.
    signed: Vec<bool>,
    ticked: Vec<bool>,
    focus: usize,
    put_away: bool,
    /// 已签到 text and when it was shown.
    done: Option<(String, Instant)>,
    message: Option<String>,
}

impl Active {
    fn elapsed_ms(&self, now: Instant) -> u64 {
        self.prompt.age_ms + now.saturating_duration_since(self.received).as_millis() as u64
    }

    fn many(&self) -> bool {
        self.prompt.invitees.len() > 1
    }

    /// Member rows shown (only with several invitees), then the buttons.
    fn rows(&self) -> usize {
        if self.many() {
            self.prompt.invitees.len()
        } else {
            0
        }
    }

    fn buttons(&self, playing: Option<&str>) -> Vec<Button> {
        let mut b = vec![Button::SignIn];
        if let Some(item) = &self.prompt.live_item {
            if playing != Some(item.as_str()) {
                b.push(Button::Watch);
            }
        }
        b.push(Button::Later);
        b
    }

    fn all_signed(&self) -> bool {
        self.signed.iter().all(|s| *s)
    }
}

/// One member row as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub name: String,
    pub ticked: bool,
    pub signed: bool,
}

/// The overlay as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayView {
    /// e.g. `支部党员大会：东坡村党支部党员大会`
    pub meeting: String,
    /// e.g. `请在 1:45 内签到`, or the late notice.
    pub countdown: String,
    pub overdue: bool,
    pub members: Vec<MemberRow>,
    pub buttons: Vec<String>,
    /// Index into members then buttons.
    pub focus: usize,
    /// Set once signed in: `已签到：王建国 14:03`.
    pub done: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Default)]
pub struct RollCalls {
    active: Vec<Active>,
}

impl RollCalls {
    /// A prompt arrived. `signed` lists invitees who already answered this
    /// roll-call on this box. Returns whether the overlay changed.
    pub fn offer(&mut self, prompt: RollCallPrompt, received: Instant, signed: &[String]) -> bool {
        if let Some(a) = self
            .active
            .iter_mut()
            .find(|a| a.prompt.rollcall == prompt.rollcall)
        {
            // Sent again (reconnect, poll): keep the box's own clock.
            let _ = a;
            return false;
        }
        let signed: Vec<bool> = prompt
            .invitees
            .iter()
            .map(|i| signed.contains(&i.id))
            .collect();
        if signed.iter().all(|s| *s) {
            return false;
        }
        let n = prompt.invitees.len();
        let rows = if n > 1 { n } else { 0 };
        // One member: straight to 签到. Several: the first one not signed.
        let focus = if rows == 0 {
            0
        } else {
            signed.iter().position(|s| !s).unwrap_or(0)
        };
        self.active.push(Active {
            prompt,
            received,
            signed,
            ticked: vec![false; n],
            focus,
            put_away: false,
            done: None,
            message: None,
        });
        true
    }

    fn shown(&self) -> Option<usize> {
        self.active.iter().position(|a| !a.put_away)
    }

    pub fn visible(&self) -> bool {
        self.shown().is_some()
    }

    /// The red key: bring back prompts that were put away.
    pub fn reopen(&mut self) -> bool {
        let mut any = false;
        for a in &mut self.active {
            if a.put_away && !a.all_signed() {
                a.put_away = false;
                any = true;
            }
        }
        any
    }

    /// Drops finished and expired prompts; returns whether anything changed.
    pub fn tick(&mut self, now: Instant) -> bool {
        let before = self.active.len();
        let mut changed = false;
        self.active.retain_mut(|a| {
            if let Some((_, at)) = &a.done {
                if now.saturating_duration_since(*at) >= DONE_SHOWN {
                    changed = true;
                    if a.all_signed() {
                        return false;
                    }
                    a.done = None;
                }
            }
            let window = Duration::from_secs(u64::from(a.prompt.window_secs));
            Duration::from_millis(a.elapsed_ms(now)) < window + KEEP_AFTER_WINDOW
        });
        changed || self.active.len() != before || self.visible()
    }

    pub fn key(&mut self, key: RemoteKey, playing: Option<&str>, now: Instant) -> OverlayAction {
        let Some(i) = self.shown() else {
            return OverlayAction::None;
        };
        let a = &mut self.active[i];
        a.message = None;
        if a.done.is_some() {
            if matches!(key, RemoteKey::Ok | RemoteKey::Back) {
                a.done = None;
                if a.all_signed() {
                    self.active.remove(i);
                }
            }
            return OverlayAction::None;
        }
        let rows = a.rows();
        let buttons = a.buttons(playing);
        let last = rows + buttons.len() - 1;
        a.focus = a.focus.min(last);
        match key {
            RemoteKey::Up if a.focus > 0 && a.focus <= rows => a.focus -= 1,
            RemoteKey::Up if a.focus > rows && rows > 0 => a.focus = rows - 1,
            RemoteKey::Down if a.focus < rows => a.focus += 1,
            RemoteKey::Left if a.focus > rows => a.focus -= 1,
            RemoteKey::Right if a.focus >= rows && a.focus < last => a.focus += 1,
            RemoteKey::Digit(d) if rows > 0 => {
                let n = usize::from(d);
                if (1..=rows).contains(&n) && !a.signed[n - 1] {
                    a.ticked[n - 1] = !a.ticked[n - 1];
                    a.focus = n - 1;
                }
            }
            RemoteKey::Back => a.put_away = true,
            RemoteKey::Ok if a.focus < rows => {
                // A member already signed in stays unticked.
                let f = a.focus;
                a.ticked[f] = !a.ticked[f] && !a.signed[f];
            }
            RemoteKey::Ok => match buttons[a.focus - rows] {
                Button::SignIn => {
                    let members: Vec<(String, String)> = a
                        .prompt
                        .invitees
                        .iter()
                        .enumerate()
                        .filter(|(n, _)| !a.signed[*n] && (rows == 0 || a.ticked[*n]))
                        .map(|(_, m)| (m.id.clone(), m.name.clone()))
                        .collect();
                    if members.is_empty() {
                        a.message = Some("请先选择到场的人：移到名字上按“确定”打勾".into());
                        return OverlayAction::None;
                    }
                    return OverlayAction::SignIn {
                        rollcall: a.prompt.rollcall.clone(),
                        members,
                        elapsed_ms: a.elapsed_ms(now),
                    };
                }
                Button::Watch => {
                    if let Some(item) = a.prompt.live_item.clone() {
                        // Focus stays on the overlay, now on 签到.
                        a.focus = rows;
                        return OverlayAction::Watch(item);
                    }
                }
                Button::Later => a.put_away = true,
            },
            _ => {}
        }
        OverlayAction::None
    }

    /// The sign-ins of `members` are in the outbox: show 已签到.
    pub fn signed(&mut self, rollcall: &str, members: &[String], text: String, now: Instant) {
        if let Some(a) = self
            .active
            .iter_mut()
            .find(|a| a.prompt.rollcall == rollcall)
        {
            for (n, invitee) in a.prompt.invitees.iter().enumerate() {
                if members.contains(&invitee.id) {
                    a.signed[n] = true;
                    a.ticked[n] = false;
                }
            }
            a.done = Some((text, now));
            a.focus = a.signed.iter().position(|s| !s).unwrap_or(0).min(a.rows());
        }
    }

    /// Saving failed: say so and keep the prompt.
    pub fn failed(&mut self, rollcall: &str, message: &str) {
        if let Some(a) = self
            .active
            .iter_mut()
            .find(|a| a.prompt.rollcall == rollcall)
        {
            a.message = Some(message.to_string());
        }
    }

    pub fn view(&self, playing: Option<&str>, now: Instant) -> Option<OverlayView> {
        let a = &self.active[self.shown()?];
        let window_ms = u64::from(a.prompt.window_secs) * 1000;
        let elapsed = a.elapsed_ms(now);
        let overdue = elapsed > window_ms;
        let countdown = if overdue {
            "签到时间已过，现在签到记为迟到".to_string()
        } else {
            let left = (window_ms - elapsed).div_ceil(1000);
            format!("请在 {}:{:02} 内签到", left / 60, left % 60)
        };
        let rows = a.rows();
        let members = if rows == 0 {
            Vec::new()
        } else {
            a.prompt
                .invitees
                .iter()
                .enumerate()
                .map(|(n, m)| MemberRow {
                    name: format!("{}. {}", n + 1, m.name),
                    ticked: a.ticked[n],
                    signed: a.signed[n],
                })
                .collect()
        };
        let buttons = a.buttons(playing);
        // One member: the prompt names them, until they have answered.
        let single = (rows == 0 && a.done.is_none())
            .then(|| a.prompt.invitees.first().map(|m| m.name.clone()))
            .flatten();
        let meeting = match single {
            Some(name) => format!(
                "{}：{}\n{name}，请签到",
                a.prompt.meeting_kind.label(),
                a.prompt.meeting_title
            ),
            None => format!(
                "{}：{}",
                a.prompt.meeting_kind.label(),
                a.prompt.meeting_title
            ),
        };
        Some(OverlayView {
            meeting,
            countdown,
            overdue,
            members,
            buttons: buttons
                .iter()
                .map(|b| b.label(rows > 0).to_string())
                .collect(),
            focus: a.focus.min(rows + buttons.len() - 1),
            done: a.done.as_ref().map(|(t, _)| t.clone()),
            message: a.message.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Invitee, MeetingKind};

    fn prompt(id: &str, names: &[&str], live: Option<&str>) -> RollCallPrompt {
        RollCallPrompt {
            rollcall: id.into(),
            meeting: "m".into(),
            meeting_title: "党员大会".into(),
            meeting_kind: MeetingKind::MembersAssembly,
            live_item: live.map(str::to_string),
            window_secs: 120,
            age_ms: 5_000,
            invitees: names
                .iter()
                .enumerate()
                .map(|(n, name)| Invitee {
                    id: format!("m{}", n + 1),
                    name: name.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn one_member_signs_in_with_one_press() {
        let t0 = Instant::now();
        let mut r = RollCalls::default();
        assert!(r.offer(prompt("rc1", &["王建国"], Some("live")), t0, &[]));
        let v = r.view(Some("live"), t0).unwrap();
        assert_eq!(v.buttons, ["签到", "稍后再签"]);
        assert_eq!(v.countdown, "请在 1:55 内签到");
        let later = t0 + Duration::from_secs(3);
        match r.key(RemoteKey::Ok, Some("live"), later) {
            OverlayAction::SignIn {
                members,
                elapsed_ms,
                ..
            } => {
                assert_eq!(members, [("m1".to_string(), "王建国".to_string())]);
                assert_eq!(elapsed_ms, 8_000);
            }
            other => panic!("{other:?}"),
        }
        r.signed("rc1", &["m1".into()], "已签到：王建国 14:03".into(), later);
        assert_eq!(
            r.view(None, later).unwrap().done.as_deref(),
            Some("已签到：王建国 14:03")
        );
        // Sent again after a reconnect: not shown twice.
        r.tick(later + DONE_SHOWN);
        assert!(!r.visible());
        assert!(!r.offer(
            prompt("rc1", &["王建国"], Some("live")),
            later,
            &["m1".into()]
        ));
    }

    #[test]
    fn several_members_tick_then_confirm_and_watch_is_offered_off_the_meeting() {
        let t0 = Instant::now();
        let mut r = RollCalls::default();
        r.offer(
            prompt("rc1", &["王建国", "李桂兰", "王小明"], Some("live")),
            t0,
            &[],
        );
        let v = r.view(None, t0).unwrap();
        assert_eq!(v.buttons, ["确认签到", "观看会议", "稍后再签"]);
        assert_eq!(v.focus, 0);
        // Confirming with nobody ticked explains what to do.
        for k in [
            RemoteKey::Down,
            RemoteKey::Down,
            RemoteKey::Down,
            RemoteKey::Ok,
        ] {
            assert_eq!(r.key(k, None, t0), OverlayAction::None);
        }
        assert!(r.view(None, t0).unwrap().message.unwrap().contains("打勾"));
        // Tick 1 and 3 (arrows, then a digit), go to 观看会议, open it.
        for k in [
            RemoteKey::Up,
            RemoteKey::Up,
            RemoteKey::Up,
            RemoteKey::Ok,
            RemoteKey::Digit(3),
        ] {
            r.key(k, None, t0);
        }
        let v = r.view(None, t0).unwrap();
        assert_eq!(
            v.members.iter().map(|m| m.ticked).collect::<Vec<_>>(),
            [true, false, true]
        );
        r.key(RemoteKey::Down, None, t0);
        r.key(RemoteKey::Right, None, t0);
        assert_eq!(
            r.key(RemoteKey::Ok, None, t0),
            OverlayAction::Watch("live".into())
        );
        // Now playing: 观看会议 goes, focus is on 确认签到.
        let v = r.view(Some("live"), t0).unwrap();
        assert_eq!(v.buttons, ["确认签到", "稍后再签"]);
        assert_eq!(v.focus, 3);
        match r.key(RemoteKey::Ok, Some("live"), t0) {
            OverlayAction::SignIn { members, .. } => assert_eq!(
                members.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
                ["m1", "m3"]
            ),
            other => panic!("{other:?}"),
        }
        r.signed(
            "rc1",
            &["m1".into(), "m3".into()],
            "已签到：王建国、王小明".into(),
            t0,
        );
        r.key(RemoteKey::Ok, None, t0);
        // 李桂兰 can still answer; her row is the one in focus.
        let v = r.view(None, t0).unwrap();
        assert_eq!(v.focus, 1);
        assert!(v.members[0].signed && !v.members[1].signed);
    }

    #[test]
    fn back_puts_it_away_red_brings_it_back_and_the_window_runs_out() {
        let t0 = Instant::now();
        let mut r = RollCalls::default();
        r.offer(prompt("rc1", &["王建国"], None), t0, &[]);
        r.key(RemoteKey::Back, None, t0);
        assert!(!r.visible());
        assert!(r.reopen());
        let late = t0 + Duration::from_secs(200);
        let v = r.view(None, late).unwrap();
        assert!(v.overdue);
        assert!(v.countdown.contains("迟到"));
        // Long after the window the prompt goes by itself.
        r.tick(t0 + KEEP_AFTER_WINDOW + Duration::from_secs(120));
        assert!(!r.visible());
    }
}
