//! Navigation tests with a fake cache.
use super::*;

struct Fake(usize);
impl Counts for Fake {
    fn list_len(&self, _: DisclosureCategory, _: &str) -> usize {
        self.0
    }
    fn notice_len(&self) -> usize {
        3
    }
    fn notice_ids(&self, _: usize) -> Vec<String> {
        vec!["n0".into(), "n1".into(), "n2".into()]
    }
    fn list_ids(&self, _: DisclosureCategory, _: &str, page: usize) -> Vec<String> {
        (page * LIST_PAGE_SIZE..(page * LIST_PAGE_SIZE + LIST_PAGE_SIZE).min(self.0))
            .map(|i| format!("item{i}"))
            .collect()
    }
    fn shelf_len(&self, _: Shelf) -> usize {
        2
    }
    fn shelf_ids(&self, shelf: Shelf, _: usize) -> Vec<String> {
        let name = match shelf {
            Shelf::Honours => "honour",
            Shelf::Info(topic) => topic.as_str(),
        };
        vec![format!("{name}0"), format!("{name}1")]
    }
    fn media_len(&self, list: MediaList) -> usize {
        match list {
            MediaList::Live => 4,
            MediaList::Halls => 2,
            MediaList::Videos(_) => 2,
            MediaList::Attendance => 12,
        }
    }
    fn media_ids(&self, list: MediaList, _: usize) -> Vec<String> {
        match list {
            MediaList::Live => vec![
                "live0".into(),
                "live1".into(),
                "later".into(),
                ATTENDANCE_ROW.into(),
            ],
            MediaList::Halls => vec!["hallA".into(), "hallB".into()],
            MediaList::Videos(_) => vec!["watched".into(), "fresh".into()],
            MediaList::Attendance => Vec::new(),
        }
    }
    fn hall_cameras(&self, hall: &str) -> Vec<String> {
        (1..=5).map(|i| format!("{hall}-cam{i}")).collect()
    }
    fn camera_ids(&self) -> Vec<String> {
        ["hallA", "hallB"]
            .iter()
            .flat_map(|h| self.hall_cameras(h))
            .collect()
    }
    fn on_air_ids(&self) -> Vec<String> {
        vec!["live0".into(), "live1".into()]
    }
    fn resume_ms(&self, video: &str) -> Option<u64> {
        (video == "watched").then_some(42_000)
    }
}

fn press(nav: &mut Nav, keys: &[RemoteKey]) {
    for k in keys {
        nav.handle_key(*k, &Fake(12), 3);
    }
}

use RemoteKey::*;

#[test]
fn home_grid_moves_within_bounds() {
    let mut nav = Nav::new();
    press(&mut nav, &[Left, Up]);
    assert_eq!(nav.focus(), 0);
    press(&mut nav, &[Right, Right, Down]);
    assert_eq!(nav.focus(), 7);
    press(&mut nav, &[Down, Right, Right, Right]);
    assert_eq!(nav.focus(), 9);
}

#[test]
fn back_returns_to_the_focus_you_left() {
    let mut nav = Nav::new();
    press(
        &mut nav,
        &[
            Ok, Right, Right, Ok, Right, Ok, Down, Down, Down, Down, Down, Down, Ok,
        ],
    );
    assert_eq!(nav.screen(), &Screen::Detail("item6".into()));
    press(&mut nav, &[Back]);
    assert_eq!(
        nav.screen(),
        &Screen::List(DisclosureCategory::Finance, "补助资金")
    );
    assert_eq!((nav.page(), nav.focus()), (1, 2));
    press(&mut nav, &[Back]);
    assert_eq!(
        (nav.screen(), nav.focus()),
        (&Screen::Modules(DisclosureCategory::Finance), 1)
    );
    press(&mut nav, &[Back]);
    assert_eq!((nav.screen(), nav.focus()), (&Screen::Categories, 2));
    press(&mut nav, &[Back, Back]);
    assert_eq!((nav.screen(), nav.focus()), (&Screen::Home, 0));
}

#[test]
fn digits_and_channel_keys() {
    let mut nav = Nav::new();
    press(
        &mut nav,
        &[
            Digit(1),
            Digit(3),
            Digit(1),
            ChannelDown,
            ChannelDown,
            ChannelDown,
        ],
    );
    assert_eq!(nav.page(), 2);
    press(&mut nav, &[Digit(2)]);
    assert_eq!(nav.screen(), &Screen::Detail("item9".into()));
    press(&mut nav, &[ChannelDown, ChannelDown, ChannelDown]);
    assert_eq!(nav.page(), 2, "detail stops at its last page");
    press(&mut nav, &[Home]);
    assert_eq!(nav.screen(), &Screen::Home);
    press(&mut nav, &[Digit(0)]);
    assert_eq!(nav.screen(), &Screen::InfoTopics);
}

#[test]
fn honours_and_every_info_topic_open_from_home_by_digits() {
    let mut nav = Nav::new();
    press(&mut nav, &[Digit(7)]);
    assert_eq!(nav.screen(), &Screen::Shelf(Shelf::Honours));
    press(&mut nav, &[Down, Ok]);
    assert_eq!(nav.screen(), &Screen::Detail("honour1".into()));
    press(&mut nav, &[Back]);
    assert_eq!(nav.focus(), 1, "Back keeps the row");
    for (i, topic) in InfoTopic::ALL.iter().enumerate() {
        let mut nav = Nav::new();
        press(&mut nav, &[Digit(0), Digit(i as u8 + 1), Digit(1)]);
        let id = format!("{}0", topic.as_str());
        assert_eq!(nav.screen(), &Screen::Detail(id));
        press(&mut nav, &[Back, Back]);
        assert_eq!((nav.screen(), nav.focus()), (&Screen::InfoTopics, i));
    }
}

#[test]
fn colour_keys_are_shortcuts_and_back_goes_home() {
    let mut nav = Nav::new();
    press(&mut nav, &[Digit(1), Digit(1), Green]);
    assert_eq!(nav.screen(), &Screen::Categories);
    press(&mut nav, &[Back]);
    assert_eq!(nav.screen(), &Screen::Home);
    press(&mut nav, &[Blue, Down, Ok]);
    assert_eq!(nav.screen(), &Screen::Detail("n1".into()));
    press(&mut nav, &[Back, Back]);
    assert_eq!((nav.screen(), nav.focus()), (&Screen::Home, 1));
    press(&mut nav, &[Yellow]);
    assert_eq!(nav.screen(), &Screen::Services);
    press(&mut nav, &[Back]);
    assert_eq!((nav.screen(), nav.focus()), (&Screen::Home, 8));
}

#[test]
fn every_module_is_three_digits_from_home() {
    for (c, category) in DisclosureCategory::ALL.iter().enumerate() {
        for (m, module) in category.modules().iter().enumerate() {
            let mut nav = Nav::new();
            press(
                &mut nav,
                &[Digit(1), Digit(c as u8 + 1), Digit(m as u8 + 1)],
            );
            assert_eq!(nav.screen(), &Screen::List(*category, module));
            // And from anywhere: Home first, four presses in all.
            press(&mut nav, &[Digit(2), Home]);
            press(
                &mut nav,
                &[Digit(1), Digit(c as u8 + 1), Digit(m as u8 + 1)],
            );
            assert_eq!(nav.screen(), &Screen::List(*category, module));
        }
    }
}

#[test]
fn settings_toggle_the_display_mode_and_open_the_remote_test() {
    let mut nav = Nav::new();
    press(&mut nav, &[Menu, Ok]);
    assert!(nav.standard_mode);
    assert_eq!(nav.action.take(), Some(NavAction::ToggleDisplayMode));
    assert_eq!(nav.screen(), &Screen::Settings);
    press(&mut nav, &[Ok]);
    assert!(!nav.standard_mode);
    press(&mut nav, &[Down, Ok]);
    assert_eq!(nav.screen(), &Screen::RemoteTest);
    press(&mut nav, &[Back, Digit(2)]);
    assert_eq!(nav.screen(), &Screen::RemoteTest);
}

#[test]
fn module_grid_moves_in_three_columns() {
    let mut nav = Nav::new();
    press(&mut nav, &[Digit(1), Digit(1), Right, Right, Right, Down]);
    assert_eq!(nav.focus(), 5);
    press(&mut nav, &[Down, Left, Up]);
    assert_eq!(nav.focus(), 1);
    press(&mut nav, &[Ok]);
    assert_eq!(
        nav.screen(),
        &Screen::List(DisclosureCategory::Party, "党员积分")
    );
}

#[test]
fn camera_grid_picks_panes_and_channel_keys_walk_every_camera() {
    let mut nav = Nav::new();
    press(&mut nav, &[Digit(4), Digit(1)]);
    assert_eq!(nav.screen(), &Screen::CameraGrid("hallA".into()));
    press(&mut nav, &[Right, Down, Right, Ok]);
    assert_eq!(nav.screen(), &Screen::Camera("hallA-cam4".into()));
    press(&mut nav, &[ChannelDown, ChannelDown]);
    assert_eq!(nav.screen(), &Screen::Camera("hallB-cam1".into()));
    press(&mut nav, &[Digit(2)]);
    assert_eq!(nav.screen(), &Screen::Camera("hallA-cam2".into()));
    press(&mut nav, &[Back]);
    assert_eq!(
        (nav.screen(), nav.focus()),
        (&Screen::CameraGrid("hallA".into()), 1)
    );
    // Channel+ shows the next four; the fifth camera is alone there.
    press(&mut nav, &[ChannelDown, Right, Down, Ok]);
    assert_eq!(nav.screen(), &Screen::Camera("hallA-cam5".into()));
    press(&mut nav, &[Back, Back]);
    assert_eq!((nav.screen(), nav.focus()), (&Screen::Halls, 0));
}

#[test]
fn videos_ask_to_resume_only_when_watched_part_way() {
    let mut nav = Nav::new();
    press(&mut nav, &[Digit(6), Digit(2), Digit(2)]);
    assert_eq!(
        nav.screen(),
        &Screen::Player(PlayItem {
            id: "fresh".into(),
            start_ms: 0
        })
    );
    press(&mut nav, &[Right]);
    assert_eq!(nav.action.take(), Some(NavAction::SeekBy(30)));
    press(&mut nav, &[Back, Digit(1)]);
    assert_eq!(nav.screen(), &Screen::ResumePrompt("watched".into()));
    press(&mut nav, &[Ok]);
    assert_eq!(
        nav.screen(),
        &Screen::Player(PlayItem {
            id: "watched".into(),
            start_ms: 42_000
        })
    );
    press(&mut nav, &[Ok]);
    assert_eq!(nav.action.take(), Some(NavAction::TogglePause));
    press(&mut nav, &[Back]);
    assert_eq!(nav.screen(), &Screen::Videos(VideoCategory::PartyEducation));
    press(&mut nav, &[Digit(1), Digit(2)]);
    assert_eq!(
        nav.screen(),
        &Screen::Player(PlayItem {
            id: "watched".into(),
            start_ms: 0
        })
    );
}

#[test]
fn red_opens_live_and_channel_keys_switch_broadcasts() {
    let mut nav = Nav::new();
    press(&mut nav, &[Digit(1), Red, Ok]);
    let live = |id: &str| {
        Screen::Player(PlayItem {
            id: id.into(),
            start_ms: 0,
        })
    };
    assert_eq!(nav.screen(), &live("live0"));
    assert!(nav.osd);
    press(&mut nav, &[Ok]);
    assert!(!nav.osd, "OK hides the on-screen display on live video");
    press(&mut nav, &[ChannelDown]);
    assert_eq!(nav.screen(), &live("live1"));
    press(&mut nav, &[ChannelDown]);
    assert_eq!(nav.screen(), &live("live0"), "wraps around");
    press(&mut nav, &[Back]);
    assert_eq!(nav.screen(), &Screen::LiveList);
}

#[test]
fn the_attendance_record_opens_from_the_end_of_the_live_list_and_only_pages() {
    let mut nav = Nav::new();
    press(&mut nav, &[Red, Digit(4)]);
    assert_eq!(nav.screen(), &Screen::Attendance);
    // OK and digits open nothing; Channel- pages through 12 entries.
    press(&mut nav, &[Ok, Digit(2), ChannelDown]);
    assert_eq!(nav.screen(), &Screen::Attendance);
    assert_eq!(nav.page(), 1);
    press(&mut nav, &[Back]);
    assert_eq!(nav.screen(), &Screen::LiveList);
    assert_eq!(nav.focus(), 3);
}

#[test]
fn offline_banner_does_not_flicker_while_retrying() {
    let mut nav = Nav::new();
    nav.sync_event(
        &SyncEvent::Failed {
            kind: FailureKind::Unreachable,
            detail: String::new(),
            retry_in: std::time::Duration::from_secs(2),
        },
        10,
    );
    nav.sync_event(&SyncEvent::Syncing, 11);
    assert!(nav.is_offline());
    nav.sync_event(&SyncEvent::Synced(Default::default()), 12);
    assert!(!nav.is_offline());
    assert_eq!(nav.last_synced, Some(12));
}

/// A household of two with one open exam of a single choice, a multiple
/// choice and a true/false question.
struct Household;
impl Counts for Household {
    fn list_len(&self, _: DisclosureCategory, _: &str) -> usize {
        0
    }
    fn list_ids(&self, _: DisclosureCategory, _: &str, _: usize) -> Vec<String> {
        Vec::new()
    }
    fn notice_len(&self) -> usize {
        0
    }
    fn notice_ids(&self, _: usize) -> Vec<String> {
        Vec::new()
    }
    fn shelf_len(&self, _: Shelf) -> usize {
        0
    }
    fn shelf_ids(&self, _: Shelf, _: usize) -> Vec<String> {
        Vec::new()
    }
    fn media_len(&self, _: MediaList) -> usize {
        0
    }
    fn media_ids(&self, _: MediaList, _: usize) -> Vec<String> {
        Vec::new()
    }
    fn hall_cameras(&self, _: &str) -> Vec<String> {
        Vec::new()
    }
    fn camera_ids(&self) -> Vec<String> {
        Vec::new()
    }
    fn on_air_ids(&self) -> Vec<String> {
        Vec::new()
    }
    fn resume_ms(&self, _: &str) -> Option<u64> {
        None
    }
    fn service_len(&self, list: &ServiceList) -> usize {
        self.service_ids(list, 0).len()
    }
    fn service_ids(&self, list: &ServiceList, _: usize) -> Vec<String> {
        match list {
            ServiceList::Exams => vec!["exam".into(), RESULTS_ROW.into()],
            ServiceList::ExamMembers(_) => vec!["m1".into(), "m2".into()],
            _ => Vec::new(),
        }
    }
    fn exam(&self, _: &str) -> Option<model::Exam> {
        let q = |id: &str, kind| model::Question {
            id: id.into(),
            text: id.into(),
            kind,
        };
        let options = vec!["甲".to_string(), "乙".into(), "丙".into()];
        Some(model::Exam {
            title: "测验".into(),
            time_limit_s: 60,
            opens_at: 0,
            closes_at: i64::MAX,
            questions: vec![
                q(
                    "single",
                    model::QuestionKind::Single {
                        options: options.clone(),
                    },
                ),
                q("multiple", model::QuestionKind::Multiple { options }),
                q("truefalse", model::QuestionKind::TrueFalse),
            ],
        })
    }
    fn members(&self) -> Vec<(String, String)> {
        vec![
            ("m1".into(), "王建国".into()),
            ("m2".into(), "李桂兰".into()),
        ]
    }
    fn last_phone(&self) -> Option<String> {
        Some("13812345678".into())
    }
}

fn press_in(nav: &mut Nav, keys: &[RemoteKey]) {
    for k in keys {
        nav.handle_key(*k, &Household, 3);
    }
}

#[test]
fn the_phone_field_remembers_the_last_number_and_refuses_a_short_one() {
    let mut nav = Nav::new();
    press_in(&mut nav, &[Yellow]);
    assert_eq!(
        nav.action.take(),
        Some(NavAction::OpenedTile(Tile::OneKeyService)),
        "counted for the use statistics"
    );
    press_in(&mut nav, &[Ok, Ok]);
    assert!(matches!(nav.screen(), Screen::ServicePhone(d) if d.preset.is_some()));
    assert_eq!(nav.phone(), "13812345678");
    press_in(&mut nav, &[Left, Ok]);
    assert_eq!(nav.action, None, "ten digits are not sent");
    assert!(nav.form_message().contains("11位"));
    press_in(&mut nav, &[Digit(9)]);
    assert!(nav.form_message().contains("按OK提交"));
    press_in(&mut nav, &[Digit(9)]);
    assert_eq!(nav.phone(), "138123456799", "twelve fit a landline");
    press_in(&mut nav, &[Digit(1)]);
    assert_eq!(nav.phone().len(), MAX_PHONE_DIGITS);
    press_in(&mut nav, &[Left, Ok]);
    assert_eq!(nav.action.take(), Some(NavAction::SendRequest));
    nav.request_sent("k1".into());
    assert_eq!(nav.screen(), &Screen::ServiceSent("k1".into()));
    press_in(&mut nav, &[Ok]);
    assert_eq!(nav.screen(), &Screen::Services, "back to the categories");
}

#[test]
fn an_exam_is_answered_one_question_per_screen_and_handed_in_from_the_review() {
    let mut nav = Nav::new();
    // 党教园地, 在线考试, the exam, the second member, start.
    press_in(&mut nav, &[Digit(5), Digit(2), Ok, Digit(2)]);
    assert_eq!(
        nav.screen(),
        &Screen::ExamIntro {
            exam: "exam".into(),
            member: "m2".into()
        }
    );
    press_in(&mut nav, &[Ok]);
    assert_eq!(nav.screen(), &Screen::Form);
    assert!(nav.form().unwrap().deadline.is_some());
    // A digit picks, OK confirms and moves on.
    press_in(&mut nav, &[Digit(3), Ok]);
    assert_eq!(nav.form().unwrap().index, 1);
    // Multiple choice: digits toggle; OK on 下一题 with nothing ticked asks
    // for a tick.
    press_in(&mut nav, &[Digit(1), Digit(3), Digit(1), Down, Down, Down]);
    assert_eq!(nav.form_focus(), 3, "下一题 row");
    assert_eq!(nav.form().unwrap().answers[1], vec![2]);
    press_in(&mut nav, &[Ok]);
    assert_eq!(nav.form().unwrap().index, 2);
    // Right skips the true/false; the review shows one unanswered.
    press_in(&mut nav, &[Right]);
    assert_eq!(nav.screen(), &Screen::FormReview);
    assert_eq!(nav.form().unwrap().answered(), 2);
    // Left goes back to check; OK hands in even with a gap (an exam).
    press_in(&mut nav, &[Left]);
    assert_eq!(nav.screen(), &Screen::Form);
    press_in(&mut nav, &[Digit(1), Ok, Ok]);
    assert_eq!(nav.action.take(), Some(NavAction::SubmitForm));
    assert_eq!(nav.form().unwrap().answers, vec![vec![2], vec![2], vec![0]]);
    nav.form_submitted(false);
    assert_eq!(
        nav.screen(),
        &Screen::FormDone {
            item: "exam".into(),
            member: "m2".into()
        }
    );
    assert!(nav.form().is_none());
}

#[test]
fn an_exam_out_of_time_is_handed_in_from_wherever_the_member_is() {
    let mut nav = Nav::new();
    press_in(&mut nav, &[Digit(5), Digit(2), Ok, Ok, Ok, Digit(2), Ok]);
    let deadline = nav.form().unwrap().deadline.unwrap();
    assert!(!nav.exam_time_up(deadline - std::time::Duration::from_secs(1)));
    // The member stepped back to the list; time runs out there.
    press_in(&mut nav, &[Back]);
    assert!(nav.exam_time_up(deadline));
    assert_eq!(nav.screen(), &Screen::Form);
    nav.form_submitted(true);
    assert!(nav.form_message().contains("时间到"));
}
