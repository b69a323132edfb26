//! Deterministic demo content: a fictional county (province code 99 does not
//! exist, so no code collides with a real place) with two towns of three
//! villages each, disclosures in all three categories for every village, and
//! county and town notices. Same input, same database: tests rely on it.
//!
//! Its own crate: the demo (`dangjian-headend seed-*`), the tests and the
//! benchmarks seed through it; the headend's layers do not.

use model::{
    AreaCode, Block, Column, ColumnKind, Content, Disclosure, DisclosureCategory, Money, Notice,
    Region, RegionLevel, Table, TableRole,
};

use crate::db::{Db, DbError, NewItem};

pub mod meetings;
mod people;
pub mod services;
pub mod streams;

/// The store, as the seeds see it.
pub use headend_store as db;

/// Seconds since the Unix epoch (seeding runs at the machine's time).
fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub const COUNTY: (&str, &str) = ("990101000000", "青山县");
pub const TOWNS: [(&str, &str); 2] = [("990101101000", "青石镇"), ("990101102000", "柳溪乡")];
pub const VILLAGES: [(&str, &str, usize); 6] = [
    ("990101101001", "东坡村", 0),
    ("990101101002", "河湾村", 0),
    ("990101101003", "桃源村", 0),
    ("990101102001", "柳林村", 1),
    ("990101102002", "石桥村", 1),
    ("990101102003", "新田村", 1),
];

/// 2026-10-08 09:00 Beijing time; items are spread over the following weeks.
const BASE_TIME: i64 = 1_791_421_200;
const DAY: i64 = 86_400;

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 16] = [
    "建国", "秀英", "桂兰", "志强", "玉珍", "德明", "春花", "国华", "海燕", "永福", "淑芬", "长青",
    "金凤", "立新", "红梅", "水生",
];

fn code(s: &str) -> AreaCode {
    // The constants above are valid by construction; a typo fails the seed tests.
    s.parse()
        .unwrap_or_else(|_| panic!("bad demo area code {s}"))
}

fn person(village: usize, n: usize) -> String {
    let s = SURNAMES[(village * 5 + n * 7) % SURNAMES.len()];
    let g = GIVEN[(village * 3 + n * 5) % GIVEN.len()];
    format!("{s}{g}")
}

/// An amount that varies by village but is reproducible: `base` yuan scaled
/// by a per-village factor, kept in whole fen.
fn amount(village: usize, n: usize, base_yuan: i64) -> Money {
    let fen = base_yuan * 100 * (100 + (village as i64 * 13 + n as i64 * 7) % 41) / 100
        + ((village * 37 + n * 11) % 100) as i64;
    Money::from_fen(fen)
}

fn p(text: impl Into<String>) -> Block {
    Block::Paragraph { text: text.into() }
}

fn text_col(name: &str) -> Column {
    Column {
        name: name.into(),
        kind: ColumnKind::Text,
    }
}

fn money_col(name: &str) -> Column {
    Column {
        name: name.into(),
        kind: ColumnKind::Money,
    }
}

/// A table whose money columns get a correct 合计 row.
pub fn table_with_totals(caption: &str, columns: Vec<Column>, rows: Vec<Vec<String>>) -> Table {
    let mut totals = Vec::with_capacity(columns.len());
    for (c, col) in columns.iter().enumerate() {
        totals.push(match col.kind {
            ColumnKind::Text if c == 0 => "合计".to_string(),
            ColumnKind::Text => String::new(),
            ColumnKind::Money => {
                let sum: i64 = rows
                    .iter()
                    .filter_map(|r| r[c].parse::<Money>().ok())
                    .map(Money::fen)
                    .sum();
                Money::from_fen(sum).to_string()
            }
        });
    }
    Table {
        caption: caption.into(),
        columns,
        rows,
        totals: Some(totals),
        role: None,
    }
}

fn with_role(mut t: Table, role: TableRole) -> Table {
    t.role = Some(role);
    t
}

fn disclosure(
    category: DisclosureCategory,
    module: &str,
    title: String,
    period: &str,
    body: Vec<Block>,
) -> Content {
    Content::Disclosure(Disclosure {
        category,
        module: module.into(),
        title,
        period: period.into(),
        body,
        corrections: vec![],
    })
}

fn village_items(v: usize, vcode: &str, vname: &str) -> Vec<NewItem> {
    use DisclosureCategory::{Finance, Party, Village};
    let scope = code(vcode);
    let mut out = Vec::new();
    let mut push = |key: &str, day: i64, content: Content| {
        out.push(NewItem {
            id: format!("{vcode}-{key}"),
            scope: scope.clone(),
            published_at: BASE_TIME + day * DAY + v as i64 * 600,
            content,
        });
    };

    // 财务公开 / 收支情况: income and spending with totals, to the fen.
    let income_items = [
        "上级转移支付",
        "集体土地承包费",
        "集体资产租赁收入",
        "村级公益事业一事一议奖补",
    ];
    let spend_items = [
        "村干部报酬",
        "办公经费",
        "道路维修",
        "环境卫生保洁",
        "水利设施维护",
    ];
    let income_rows: Vec<Vec<String>> = income_items
        .iter()
        .enumerate()
        .map(|(n, name)| {
            vec![
                name.to_string(),
                amount(v, n, [86_000, 42_500, 18_300, 30_000][n]).to_string(),
            ]
        })
        .collect();
    let spend_rows: Vec<Vec<String>> = spend_items
        .iter()
        .enumerate()
        .map(|(n, name)| {
            vec![
                name.to_string(),
                amount(v, n + 4, [64_800, 12_600, 35_400, 9_800, 15_200][n]).to_string(),
                [
                    "9月发放",
                    "含电费、网络费",
                    "村道修补1.2公里",
                    "保洁员2名",
                    "清淤灌渠",
                ][n]
                    .to_string(),
            ]
        })
        .collect();
    push(
        "fin-income-2026q3",
        2,
        disclosure(
            Finance,
            "收支情况",
            format!("{vname}2026年第三季度财务收支公开"),
            "2026年第三季度",
            vec![
                p(format!("根据村务公开有关规定，现将{vname}2026年第三季度集体财务收支情况公布如下，接受全体村民监督。如有疑问，请于公布之日起十日内向村务监督委员会反映。")),
                Block::Table(with_role(
                    table_with_totals(
                        "收入明细",
                        vec![text_col("收入项目"), money_col("金额(元)")],
                        income_rows,
                    ),
                    TableRole::Income,
                )),
                Block::Table(with_role(
                    table_with_totals(
                        "支出明细",
                        vec![text_col("支出项目"), money_col("金额(元)"), text_col("说明")],
                        spend_rows,
                    ),
                    TableRole::Spending,
                )),
                p("监督电话：0871-6000" .to_string() + &format!("{:04}", 1000 + v * 17)),
            ],
        ),
    );

    // The two quarters before, so the box can draw the trend.
    for (quarter, key, day, salt) in [
        ("2026年第一季度", "fin-income-2026q1", -180, 20),
        ("2026年第二季度", "fin-income-2026q2", -88, 30),
    ] {
        let rows = |names: &[&str], bases: &[i64], offset: usize| -> Vec<Vec<String>> {
            names
                .iter()
                .enumerate()
                .map(|(n, name)| {
                    vec![
                        name.to_string(),
                        amount(v, n + salt + offset, bases[n]).to_string(),
                    ]
                })
                .collect()
        };
        push(
            key,
            day,
            disclosure(
                Finance,
                "收支情况",
                format!("{vname}{quarter}财务收支公开"),
                quarter,
                vec![
                    p(format!(
                        "现将{vname}{quarter}集体财务收支情况公布如下，接受全体村民监督。"
                    )),
                    Block::Table(with_role(
                        table_with_totals(
                            "收入明细",
                            vec![text_col("收入项目"), money_col("金额(元)")],
                            rows(&income_items, &[72_000, 45_000, 18_000, 20_000], 0),
                        ),
                        TableRole::Income,
                    )),
                    Block::Table(with_role(
                        table_with_totals(
                            "支出明细",
                            vec![text_col("支出项目"), money_col("金额(元)")],
                            rows(&spend_items, &[64_800, 11_000, 28_000, 9_800, 22_000], 5),
                        ),
                        TableRole::Spending,
                    )),
                ],
            ),
        );
    }

    // 财务公开 / 补助资金
    let subsidy_rows: Vec<Vec<String>> = (0..6)
        .map(|n| {
            vec![
                person(v, n),
                [
                    "耕地地力保护补贴",
                    "农机购置补贴",
                    "生态公益林补偿",
                    "耕地地力保护补贴",
                    "良种补贴",
                    "危房改造补助",
                ][n]
                    .to_string(),
                amount(v, n + 10, [1_260, 3_500, 820, 1_480, 300, 15_000][n]).to_string(),
            ]
        })
        .collect();
    push(
        "fin-subsidy-2026-10",
        9,
        disclosure(
            Finance,
            "补助资金",
            format!("{vname}2026年10月惠农补助资金发放公示"),
            "2026年10月",
            vec![
                p("以下补助资金已通过“一卡通”直接发放到户，请各户核对。"),
                Block::Table(table_with_totals(
                    "补助资金发放明细",
                    vec![
                        text_col("户主"),
                        text_col("补助项目"),
                        money_col("金额(元)"),
                    ],
                    subsidy_rows,
                )),
            ],
        ),
    );

    // 财务公开 / 集体工程项目
    push(
        "fin-project-2026",
        16,
        disclosure(
            Finance,
            "集体工程项目",
            format!("{vname}村内道路硬化工程预决算公开"),
            "2026年",
            vec![
                p(format!("工程名称：{vname}村内道路硬化工程。建设内容：硬化村内道路{}米，宽3.5米。经村民代表大会讨论通过，采用竞争性谈判方式确定施工单位。", 800 + v * 150)),
                Block::Table(table_with_totals(
                    "预算与决算对比",
                    vec![text_col("费用项目"), money_col("预算(元)"), money_col("决算(元)")],
                    (0..4)
                        .map(|n| {
                            vec![
                                ["材料费", "人工费", "机械使用费", "监理费"][n].to_string(),
                                amount(v, n, [168_000, 92_000, 36_000, 8_000][n]).to_string(),
                                amount(v, n + 1, [165_000, 93_500, 34_800, 8_000][n]).to_string(),
                            ]
                        })
                        .collect(),
                )),
            ],
        ),
    );

    // 党务公开
    push(
        "party-org-2026",
        1,
        disclosure(
            Party,
            "组织建设",
            format!("中共{vname}支部委员会组成人员公示"),
            "2026年",
            vec![
                p(format!(
                    "{vname}党支部现有党员{}名，其中预备党员{}名。支部委员会组成如下：",
                    28 + v * 3,
                    1 + v % 2
                )),
                Block::Table(Table {
                    role: None,
                    caption: "支部委员会".into(),
                    columns: vec![text_col("职务"), text_col("姓名"), text_col("分工")],
                    rows: vec![
                        vec!["党支部书记".into(), person(v, 0), "主持全面工作".into()],
                        vec!["组织委员".into(), person(v, 1), "组织发展、党员教育".into()],
                        vec!["宣传委员".into(), person(v, 2), "宣传、意识形态".into()],
                    ],
                    totals: None,
                }),
            ],
        ),
    );
    push(
        "party-dues-2026q3",
        5,
        disclosure(
            Party,
            "党费缴纳",
            format!("{vname}党支部2026年第三季度党费收缴情况"),
            "2026年第三季度",
            vec![
                p("按照党费收缴有关规定，现将本季度党费收缴情况公示如下。"),
                Block::Table(table_with_totals(
                    "党费收缴明细",
                    vec![
                        text_col("姓名"),
                        text_col("缴纳月份"),
                        money_col("金额(元)"),
                    ],
                    (0..8)
                        .map(|n| {
                            vec![
                                person(v, n),
                                "7—9月".into(),
                                Money::from_fen(
                                    [600, 600, 1_500, 300, 600, 2_400, 600, 900][n]
                                        + (v as i64 % 3) * 300,
                                )
                                .to_string(),
                            ]
                        })
                        .collect(),
                )),
            ],
        ),
    );
    push(
        "party-day-2026-10",
        12,
        disclosure(
            Party,
            "支部生活日",
            format!("{vname}党支部10月主题党日活动"),
            "2026年10月",
            vec![
                p("活动主题：学习党的二十届四中全会精神，争做乡村振兴带头人。"),
                p(format!("活动时间：2026年10月{}日上午9时；地点：{vname}党群服务中心。", 15 + v)),
                p("活动内容：重温入党誓词；集中学习；党员志愿服务（清理村内沟渠、走访慰问困难群众）。"),
            ],
        ),
    );
    push(
        "party-points-2026q3",
        20,
        disclosure(
            Party,
            "党员积分",
            format!("{vname}党员2026年第三季度积分排名"),
            "2026年第三季度",
            vec![Block::Table(Table {
                role: None,
                caption: "党员积分".into(),
                columns: vec![text_col("排名"), text_col("姓名"), text_col("积分")],
                rows: (0..6)
                    .map(|n| {
                        vec![
                            format!("{}", n + 1),
                            person(v, n + 3),
                            format!("{}", 98 - n * 3 - v % 3),
                        ]
                    })
                    .collect(),
                totals: None,
            })],
        ),
    );

    // 村务公开
    push(
        "village-dibao-2026-10",
        7,
        disclosure(
            Village,
            "低保户",
            format!("{vname}2026年10月农村低保对象公示"),
            "2026年10月",
            vec![
                p("经本人申请、入户调查、民主评议和乡镇审核，以下家庭纳入农村最低生活保障，公示期七天。"),
                Block::Table(table_with_totals(
                    "低保对象名单",
                    vec![text_col("户主"), text_col("保障人数"), money_col("月保障金(元)")],
                    (0..4)
                        .map(|n| vec![person(v, n + 6), format!("{}", 1 + (n + v) % 4), amount(v, n, [520, 780, 390, 1_040][n]).to_string()])
                        .collect(),
                )),
            ],
        ),
    );
    push(
        "village-pension-2026",
        14,
        disclosure(
            Village,
            "居民养老保险",
            format!("{vname}2026年度城乡居民养老保险缴费通知"),
            "2026年",
            vec![
                p("2026年度城乡居民基本养老保险缴费工作已经开始，缴费档次为每年200元至3000元，多缴多得。"),
                p("年满60周岁的参保人员可按月领取基础养老金。有疑问请到村委会或拨打12333咨询。"),
            ],
        ),
    );
    push(
        "village-family-2026",
        18,
        disclosure(
            Village,
            "计划生育",
            format!("{vname}计划生育奖励扶助对象公示"),
            "2026年",
            vec![Block::Table(table_with_totals(
                "奖励扶助对象",
                vec![
                    text_col("姓名"),
                    text_col("类别"),
                    money_col("年扶助金(元)"),
                ],
                (0..3)
                    .map(|n| {
                        vec![
                            person(v, n + 9),
                            "农村部分计划生育家庭奖励扶助".into(),
                            Money::from_fen(120_000).to_string(),
                        ]
                    })
                    .collect(),
            ))],
        ),
    );
    out
}

fn notice(
    scope: &str,
    id: &str,
    day: i64,
    issuer: &str,
    title: &str,
    urgent: bool,
    body: &[&str],
) -> NewItem {
    NewItem {
        id: format!("{scope}-{id}"),
        scope: code(scope),
        published_at: BASE_TIME + day * DAY,
        content: Content::Notice(Notice {
            title: title.into(),
            issuer: issuer.into(),
            urgent,
            body: body.iter().map(|t| p(*t)).collect(),
        }),
    }
}

/// The demo regions and items, in publishing order.
pub fn demo_content() -> (Vec<Region>, Vec<NewItem>) {
    let mut regions = vec![Region {
        code: code(COUNTY.0),
        name: COUNTY.1.into(),
        level: RegionLevel::County,
        parent: None,
    }];
    for (c, n) in TOWNS {
        regions.push(Region {
            code: code(c),
            name: n.into(),
            level: RegionLevel::Town,
            parent: Some(code(COUNTY.0)),
        });
    }
    for (c, n, t) in VILLAGES {
        regions.push(Region {
            code: code(c),
            name: n.into(),
            level: RegionLevel::Village,
            parent: Some(code(TOWNS[t].0)),
        });
    }
    let mut items = vec![
        notice(COUNTY.0, "notice-flood-2026-10", 3, "青山县应急管理局", "关于做好秋季强降雨防范工作的紧急通知", true, &[
            "据气象部门预报，未来三天我县将出现强降雨天气，局地有暴雨。",
            "请居住在河道两侧、山体边坡附近的群众注意防范，听从村组干部安排，必要时及时转移。",
            "防汛值班电话：0871-60001234。",
        ]),
        notice(COUNTY.0, "notice-insurance-2026", 10, "青山县医疗保障局", "2027年度城乡居民医保集中缴费开始", false, &[
            "2027年度城乡居民基本医疗保险集中缴费期为2026年11月1日至12月31日，个人缴费标准为每人每年400元。",
            "可通过村委会代缴、银行网点或手机缴费。",
        ]),
    ];
    for (i, (c, n)) in TOWNS.iter().enumerate() {
        items.push(notice(c, "notice-meeting-2026-11", 21 + i as i64, &format!("{n}党委"), &format!("{n}关于召开11月党员大会的通知"), false, &[
            "定于11月15日上午9时召开全体党员大会，通过电视党建平台同步直播，请各支部组织党员按时收看并参加在线点名。",
        ]));
        items.push(notice(
            c,
            "notice-vaccine-2026",
            24 + i as i64,
            &format!("{n}卫生院"),
            "65岁以上老人免费体检通知",
            false,
            &["卫生院将于本月为65岁以上老年人免费健康体检，请携带身份证和医保卡，空腹前往。"],
        ));
    }
    for (v, (c, n, _)) in VILLAGES.iter().enumerate() {
        items.extend(village_items(v, c, n));
    }
    items.extend(crate::people::honours(VILLAGES[0].0));
    items.extend(crate::people::service_info(VILLAGES[0].0, TOWNS[0].0));
    (regions, items)
}

/// Writes the demo into `db`. Running it twice publishes new versions of
/// the same ids, which is what a re-seed of a live server should do.
pub fn seed_demo(db: &Db) -> Result<usize, DbError> {
    let (regions, items) = demo_content();
    for r in &regions {
        db.upsert_region(r)?;
    }
    crate::people::upload_photos(db)?;
    crate::meetings::seed_people(db)?;
    let published = db.publish(&items)?.len();
    crate::services::seed_services(db, now_secs())?;
    seed_admin(db)?;
    Ok(published)
}

/// The demo's county admin: user name and password. **Demo only**: a real
/// headend gets its first admin from `dangjian-headend admin create-account`.
pub const DEMO_ADMIN: (&str, &str) = ("qingshan-admin", "dangjian-demo");

/// Creates [`DEMO_ADMIN`] for 青山县 unless it exists.
pub fn seed_admin(db: &Db) -> Result<(), DbError> {
    if db.account(DEMO_ADMIN.0)?.is_some() {
        return Ok(());
    }
    db.create_account(
        &crate::db::NewAccount {
            username: DEMO_ADMIN.0.into(),
            display_name: "青山县管理员（演示）".into(),
            region: code(COUNTY.0),
            role: crate::db::Role::Admin,
            password: DEMO_ADMIN.1.into(),
        },
        None,
        now_secs(),
    )?;
    Ok(())
}

/// `count` extra finance disclosures for one village, for sync benchmarks.
pub fn seed_bulk(db: &Db, village: &AreaCode, count: usize) -> Result<usize, DbError> {
    let mut batch = Vec::with_capacity(500);
    let mut total = 0;
    for n in 0..count {
        let rows: Vec<Vec<String>> = (0..5)
            .map(|r| {
                vec![
                    format!("支出项目{}", r + 1),
                    amount(n, r, 1_000 + r as i64 * 250).to_string(),
                ]
            })
            .collect();
        batch.push(NewItem {
            id: format!("{village}-bulk-{n:06}"),
            scope: village.clone(),
            published_at: BASE_TIME + (n as i64 % 365) * DAY,
            content: disclosure(
                DisclosureCategory::Finance,
                "收支情况",
                format!("历史收支公开 第{}期", n + 1),
                "2025年",
                vec![
                    p("本期收支明细如下，接受村民监督。"),
                    Block::Table(table_with_totals(
                        "支出明细",
                        vec![text_col("项目"), money_col("金额(元)")],
                        rows,
                    )),
                ],
            ),
        });
        if batch.len() == 500 {
            total += db.publish(&batch)?.len();
            batch.clear();
        }
    }
    total += db.publish(&batch)?.len();
    Ok(total)
}

/// Title of the 200-household subsidy ledger [`seed_long_tables`] adds.
pub const LONG_TABLE_TITLE: &str = "2026年耕地地力保护补贴发放明细（200户）";
/// Title of the 30-column table [`seed_long_tables`] adds.
pub const WIDE_TABLE_TITLE: &str = "2026年各村民小组一事一议筹资筹劳明细";

/// Two big tables for one village, newest in their modules: a 200-row
/// subsidy ledger (补助资金) and a 30-column table (收支情况). For the
/// render benchmark and the tests of text that does not fit a screen.
pub fn seed_long_tables(db: &Db, village: &AreaCode) -> Result<usize, DbError> {
    const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    const GIVEN: [&str; 10] = [
        "建国", "秀英", "志强", "桂兰", "海涛", "玉梅", "德明", "春花", "永福", "淑芬",
    ];
    let rows: Vec<Vec<String>> = (0..200)
        .map(|i| {
            let mu = 2 + (i * 7) % 11;
            let yuan = Money::from_fen(mu as i64 * 12_550 + (i as i64 % 3) * 33);
            vec![
                format!("{:03}", i + 1),
                format!("{}{}", SURNAMES[i % 10], GIVEN[(i / 10) % 10]),
                format!("{mu}.0"),
                yuan.to_string(),
            ]
        })
        .collect();
    let ledger = NewItem {
        id: format!("{village}-fin-subsidy-ledger-2026"),
        scope: village.clone(),
        published_at: BASE_TIME + 60 * DAY,
        content: disclosure(
            DisclosureCategory::Finance,
            "补助资金",
            LONG_TABLE_TITLE.to_string(),
            "2026年",
            vec![
                p("按照县农业农村局通知，现将本村2026年耕地地力保护补贴发放明细公示如下，每亩125.50元。"),
                Block::Table(table_with_totals(
                    "补贴发放明细",
                    vec![
                        text_col("户号"),
                        text_col("户主"),
                        text_col("面积(亩)"),
                        money_col("补贴(元)"),
                    ],
                    rows,
                )),
            ],
        ),
    };
    let mut columns = vec![text_col("项目")];
    columns.extend((1..=29).map(|g| money_col(&format!("第{g}组(元)"))));
    let wide_rows: Vec<Vec<String>> = ["筹资", "筹劳折资", "财政奖补"]
        .iter()
        .enumerate()
        .map(|(r, name)| {
            std::iter::once(name.to_string())
                .chain(
                    (1..=29)
                        .map(|g| Money::from_fen((g * 10_000 + r as i64 * 2_500) * 10).to_string()),
                )
                .collect()
        })
        .collect();
    let wide = NewItem {
        id: format!("{village}-fin-groups-2026"),
        scope: village.clone(),
        published_at: BASE_TIME + 61 * DAY,
        content: disclosure(
            DisclosureCategory::Finance,
            "收支情况",
            WIDE_TABLE_TITLE.to_string(),
            "2026年",
            vec![Block::Table(table_with_totals(
                "各组筹资筹劳",
                columns,
                wide_rows,
            ))],
        ),
    };
    Ok(db.publish(&[ledger, wide])?.len())
}
