//! Demo interactive services: the county's 一键服务 menu, two questionnaires
//! (青石镇领导班子 and 东坡村两委), a 党章 question bank and an exam drawn from
//! it in order, so the demo and the tests have something to answer.

use model::{
    AreaCode, Content, EvaluationTarget, Question, QuestionKind, Questionnaire, ServiceMenu,
};

use crate::db::{menu_id, BankQuestion, Db, DbError, NewExam, NewItem};
use crate::{COUNTY, DEMO_ADMIN, TOWNS, VILLAGES};

/// Feed ids of the demo's questionnaires and exam.
pub const TOWN_EVALUATION: &str = "eval-qingshi-leadership-2026";
pub const VILLAGE_EVALUATION: &str = "eval-dongpo-committee-2026";
pub const DEMO_EXAM: &str = "exam-dangzhang-2026";

fn code(s: &str) -> Result<AreaCode, DbError> {
    s.parse().map_err(|_| DbError::UnknownRegion(s.to_string()))
}

fn single(id: &str, text: &str, options: &[&str]) -> Question {
    Question {
        id: id.into(),
        text: text.into(),
        kind: QuestionKind::Single {
            options: options.iter().map(|o| o.to_string()).collect(),
        },
    }
}

fn rating(id: &str, text: &str) -> Question {
    Question {
        id: id.into(),
        text: text.into(),
        kind: QuestionKind::Rating,
    }
}

/// The 党章 bank: (id, question, options, answer index). Ten single-choice
/// questions, then two true/false.
const BANK: [(&str, &str, &[&str], u8); 12] = [
    (
        "dz-01",
        "中国共产党党员必须是年满多少岁的中国工人、农民、军人、知识分子和其他社会阶层的先进分子？",
        &["十六岁", "十八岁", "二十岁", "二十二岁"],
        1,
    ),
    (
        "dz-02",
        "预备党员的预备期为多长时间？",
        &["半年", "一年", "两年", "三年"],
        1,
    ),
    (
        "dz-03",
        "党的最高领导机关是什么？",
        &[
            "党的全国代表大会和它所产生的中央委员会",
            "中央政治局",
            "中央纪律检查委员会",
            "中央书记处",
        ],
        0,
    ),
    (
        "dz-04",
        "党的基层组织设立的条件是：有正式党员几人以上？",
        &["二人", "三人", "五人", "七人"],
        1,
    ),
    (
        "dz-05",
        "党员如果没有正当理由，连续几个月不参加党的组织生活、不交纳党费，就被认为是自行脱党？",
        &["三个月", "六个月", "九个月", "十二个月"],
        1,
    ),
    (
        "dz-06",
        "党的纪律处分有几种？",
        &["三种", "四种", "五种", "六种"],
        2,
    ),
    (
        "dz-07",
        "党的根本组织原则是什么？",
        &["民主集中制", "集体领导", "少数服从多数", "个人服从组织"],
        0,
    ),
    (
        "dz-08",
        "党支部党员大会一般每季度召开几次？",
        &["一次", "两次", "三次", "每月一次"],
        0,
    ),
    (
        "dz-09",
        "“三会一课”中的“一课”指的是什么？",
        &["党课", "团课", "业务课", "法治课"],
        0,
    ),
    (
        "dz-10",
        "入党誓词中，誓言“永不叛党”之前的一句是什么？",
        &[
            "随时准备为党和人民牺牲一切",
            "对党忠诚",
            "保守党的秘密",
            "积极工作",
        ],
        0,
    ),
    (
        "dz-11",
        "党员有权在党的会议上对党的任何组织和任何党员提出有根据的批评。",
        &[],
        0,
    ),
    ("dz-12", "预备党员有表决权、选举权和被选举权。", &[], 1),
];

pub fn bank() -> Vec<BankQuestion> {
    BANK.iter()
        .map(|(id, text, options, answer)| {
            let kind = if options.is_empty() {
                QuestionKind::TrueFalse
            } else {
                QuestionKind::Single {
                    options: options.iter().map(|o| o.to_string()).collect(),
                }
            };
            BankQuestion {
                question: Question {
                    id: id.to_string(),
                    text: text.to_string(),
                    kind,
                },
                answer: vec![*answer],
                tag: "党章".into(),
            }
        })
        .collect()
}

/// Publishes the demo's services content, open from a week ago for a month,
/// as reviewed by the demo admin (the history says so): boxes see nothing
/// that no reviewer approved.
pub fn seed_services(db: &Db, now: i64) -> Result<(), DbError> {
    let county = code(COUNTY.0)?;
    let qingshi = code(TOWNS[0].0)?;
    let dongpo = code(VILLAGES[0].0)?;
    let (opens_at, closes_at) = (now - 7 * 86_400, now + 30 * 86_400);
    let satisfaction = &["满意", "基本满意", "不满意", "不了解"];
    let items = [
        NewItem {
            id: menu_id(&county),
            scope: county,
            published_at: now,
            content: Content::ServiceMenu(ServiceMenu::standard()),
        },
        NewItem {
            id: TOWN_EVALUATION.into(),
            scope: qingshi,
            published_at: now,
            content: Content::Questionnaire(Questionnaire {
                title: "2026年度青石镇领导班子党风廉政评议".into(),
                target: EvaluationTarget::TownLeadership,
                target_name: "青石镇领导班子".into(),
                opens_at,
                closes_at,
                questions: vec![
                    rating("q1", "对镇领导班子整体工作的满意程度"),
                    single("q2", "镇领导班子落实惠农政策的情况", satisfaction),
                    single(
                        "q3",
                        "镇领导干部下村入户的次数",
                        &["经常", "偶尔", "很少", "没见过"],
                    ),
                    Question {
                        id: "q4".into(),
                        text: "您认为最需要改进的方面（可多选）".into(),
                        kind: QuestionKind::Multiple {
                            options: ["办事效率", "服务态度", "政务公开", "廉洁自律", "联系群众"]
                                .iter()
                                .map(|s| s.to_string())
                                .collect(),
                        },
                    },
                    rating("q5", "对镇纪委监督执纪工作的满意程度"),
                ],
            }),
        },
        NewItem {
            id: VILLAGE_EVALUATION.into(),
            scope: dongpo,
            published_at: now,
            content: Content::Questionnaire(Questionnaire {
                title: "东坡村两委成员年度评议".into(),
                target: EvaluationTarget::VillageCommittee,
                target_name: "东坡村两委".into(),
                opens_at,
                closes_at,
                questions: vec![
                    rating("q1", "村党支部书记王建国的工作"),
                    rating("q2", "村委会主任李桂兰的工作"),
                    single("q3", "村务公开是否及时", &["及时", "基本及时", "不及时"]),
                ],
            }),
        },
    ];
    for item in &items {
        db.publish_reviewed(DEMO_ADMIN.0, item)?;
    }
    for q in bank() {
        db.put_bank_question(&q)?;
    }
    let exam = db.draw_exam(&NewExam {
        scope: code(COUNTY.0)?,
        title: "2026年党章知识考试".into(),
        time_limit_s: 600,
        opens_at,
        closes_at,
        questions: BANK.iter().take(10).map(|q| q.0.to_string()).collect(),
        pick: 0,
        tag: None,
    })?;
    db.publish_reviewed(
        DEMO_ADMIN.0,
        &NewItem {
            id: DEMO_EXAM.into(),
            scope: code(COUNTY.0)?,
            published_at: now,
            content: Content::Exam(exam),
        },
    )?;
    Ok(())
}
