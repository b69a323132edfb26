//! Demo 时代先锋 and 便民信息 for 东坡村 and 青石镇: honoured members, a
//! branch and a household with photos, the 党员积分 ranking, and one page
//! of each service-information topic. Photos are the illustrations in
//! `assets/demo/photos` (we have no real ones), uploaded before publishing.

use model::{
    AreaCode, Content, Honour, HonourKind, Info, InfoPage, JobPosting, PriceItem, RankEntry,
    Ranking, WeatherDay,
};
use sha2::Digest;

use crate::db::{Db, DbError, NewItem};

/// 2026-11-02 09:00 Beijing time: honours and info came after the October items.
const AT: i64 = 1_793_581_200;
const DAY: i64 = 86_400;

/// (file bytes) of each demo photo, in the order [`honours`] uses them.
pub const PHOTOS: [&[u8]; 5] = [
    include_bytes!("../../../assets/demo/photos/member-1.jpg"),
    include_bytes!("../../../assets/demo/photos/member-2.jpg"),
    include_bytes!("../../../assets/demo/photos/member-3.jpg"),
    include_bytes!("../../../assets/demo/photos/branch.jpg"),
    include_bytes!("../../../assets/demo/photos/household.jpg"),
];

fn sha(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Uploads the demo photos; publishing refuses honours whose photo is absent.
pub fn upload_photos(db: &Db) -> Result<(), DbError> {
    for photo in PHOTOS {
        db.put_image(photo)?;
    }
    Ok(())
}

fn item(scope: &str, id: &str, day: i64, content: Content) -> NewItem {
    NewItem {
        id: id.into(),
        scope: scope
            .parse::<AreaCode>()
            .unwrap_or_else(|_| unreachable!("demo codes are valid")),
        published_at: AT + day * DAY,
        content,
    }
}

const LONG_CITATION: &str =
    "李秀英同志担任东坡村第三村民小组党小组长十二年，始终把群众的事当作自己的事。\
2026年汛期，她连续二十多天带领党员志愿者巡查河堤、转移独居老人，组织群众加固堤坝三处；\
平时坚持每周走访困难户和留守老人，帮助办理低保、养老保险等事项四十余件，调解邻里纠纷十余起。\
她带头发展林下养鸡，带动十二户村民增收，被群众亲切地称为“李大姐”。\n\
经东坡村党支部推荐、青石镇党委审核，评为2026年度优秀共产党员。";

/// Honours of 东坡村 and its ranking; photos by index into [`PHOTOS`].
pub fn honours(village: &str) -> Vec<NewItem> {
    let honour = |kind, name: &str, award: &str, unit: &str, photo: usize, citation: &str| {
        Content::Honour(Honour {
            kind,
            name: name.into(),
            award: award.into(),
            unit: unit.into(),
            photo: Some(sha(PHOTOS[photo])),
            citation: citation.into(),
        })
    };
    let member = HonourKind::Member;
    let mut items = vec![
        item(village, "honour-li-xiuying-2026", 0, honour(member, "李秀英", "2026年度优秀共产党员", "东坡村党支部", 0, LONG_CITATION)),
        item(village, "honour-wang-jianguo-2026", 1, honour(member, "王建国", "2026年度优秀共产党员", "东坡村党支部", 1,
            "王建国同志退伍不褪色，义务维护村里的自来水管网八年，随叫随到，不收分文。")),
        item(village, "honour-zhang-deming-2026", 2, honour(member, "张德明", "2026年度优秀共产党员", "东坡村党支部", 2,
            "张德明同志是村里的“科技带头人”，免费为村民讲授果树修剪和病虫害防治，今年带动全村柑橘增产两成。")),
        item(village, "honour-branch-2026", 3, honour(HonourKind::Branch, "东坡村党支部", "2026年度先进基层党组织", "", 3,
            "东坡村党支部坚持“三会一课”制度，党员积分管理规范，村务公开及时，集体经济收入连续三年增长。")),
        item(village, "honour-zhou-family-2026", 4, honour(HonourKind::Household, "周家", "2026年度文明家庭", "东坡村第二村民小组", 4,
            "周家三代同堂，孝老爱亲，邻里和睦；家中两名党员带头参与人居环境整治，庭院整洁美观。")),
    ];
    let entries = [
        ("李秀英", 98),
        ("王建国", 95),
        ("张德明", 95),
        ("陈桂兰", 92),
        ("刘志强", 90),
        ("赵春梅", 88),
        ("黄永福", 88),
        ("周玉珍", 86),
        ("吴国平", 85),
        ("杨淑芬", 83),
        ("孙建华", 80),
        ("马德林", 78),
        ("朱秀云", 76),
        ("胡长青", 72),
        ("郭金凤", 70),
    ]
    .into_iter()
    .map(|(name, points)| RankEntry {
        name: name.into(),
        branch: "东坡村党支部".into(),
        points,
    })
    .collect();
    items.push(item(
        village,
        "ranking-points-2026-10",
        5,
        Content::Ranking(Ranking {
            title: "东坡村党员积分排行".into(),
            period: "2026年10月".into(),
            entries,
        }),
    ));
    items
}

fn info(scope: &str, id: &str, day: i64, title: &str, source: &str, page: InfoPage) -> NewItem {
    item(
        scope,
        id,
        day,
        Content::Info(Info {
            title: title.into(),
            source: source.into(),
            page,
        }),
    )
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// One page of each 便民信息 topic: weather for the village, the rest from the town.
pub fn service_info(village: &str, town: &str) -> Vec<NewItem> {
    let days = [
        ("11月23日", "多云", 3, 12, "北风2级"),
        ("11月24日", "小雨", 4, 9, "东北风3级"),
        ("11月25日", "阴", 2, 8, "北风3级"),
        ("11月26日", "晴", -1, 10, "微风"),
        ("11月27日", "晴", 0, 11, "微风"),
        ("11月28日", "多云转阴", 2, 9, "南风2级"),
        ("11月29日", "雨夹雪", 1, 1, "北风4级"),
    ]
    .into_iter()
    .map(|(date, sky, low, high, wind)| WeatherDay {
        date: date.into(),
        sky: sky.into(),
        low,
        high,
        wind: wind.into(),
    })
    .collect();
    let prices = [
        ("玉米", "元/斤", "1.32", Some("1.28")),
        ("稻谷", "元/斤", "1.45", Some("1.45")),
        ("黄豆", "元/斤", "2.90", Some("3.05")),
        ("生猪", "元/斤", "7.60", Some("7.35")),
        ("鸡蛋", "元/斤", "4.80", Some("5.10")),
        ("柑橘", "元/斤", "2.20", Some("2.00")),
        ("大白菜", "元/斤", "0.65", Some("0.70")),
        ("土鸡", "元/只", "95.00", None),
    ]
    .into_iter()
    .map(|(product, unit, price, previous)| PriceItem {
        product: product.into(),
        unit: unit.into(),
        price: price.into(),
        previous: previous.map(str::to_string),
    })
    .collect();
    let job = |employer: &str,
               position: &str,
               openings,
               pay: &str,
               place: &str,
               contact: &str,
               until: &str| JobPosting {
        employer: employer.into(),
        position: position.into(),
        openings,
        pay: pay.into(),
        place: place.into(),
        contact: contact.into(),
        until: until.into(),
    };
    vec![
        info(village, "info-weather-2026-11-23", 21, "东坡村未来七天天气预报", "青山县气象局",
            InfoPage::Weather { place: "东坡村".into(), days }),
        info(town, "info-prices-2026-11-22", 20, "青石镇农贸市场本周价格", "青石镇农业服务中心",
            InfoPage::Prices { market: "青石镇农贸市场 11月22日".into(), items: prices }),
        info(town, "info-jobs-2026-11", 18, "青石镇本月招工信息", "青石镇劳动保障所",
            InfoPage::Jobs { postings: vec![
                job("青石镇柑橘合作社", "采摘工", 20, "每天150元，管午饭", "青石镇各果园", "王经理 13800001111", "12月10日前"),
                job("青山县食品厂", "包装工", 8, "月薪3600元，交社保", "青山县工业园区", "人事部 0871-60002222", "12月15日前"),
                job("东坡村集体工程", "小工", 6, "每天180元", "东坡村村道", "村委会 0871-60003333", ""),
                job("青石镇卫生院", "保洁员", 1, "月薪2600元", "青石镇卫生院", "办公室 0871-60004444", "11月30日前"),
            ]}),
        info(town, "info-policy-insurance-2027", 15, "2027年度城乡居民医疗保险缴费指南", "青石镇医保服务站",
            InfoPage::Policy {
                summary: "2027年度城乡居民医保集中缴费期为2026年11月1日至12月31日，未参加职工医保的城乡居民都可以参保。".into(),
                points: strings(&[
                    "个人缴费标准为每人每年400元，低保对象、特困人员由政府全额或部分资助。",
                    "可在村委会代缴，也可在银行网点或用手机缴费。",
                    "缴费后2027年1月1日起享受待遇，住院报销比例最高75%。",
                    "错过集中缴费期的，待遇等待期为3个月。",
                ]),
                body: vec![model::Block::Paragraph { text: "有疑问请咨询村医保协办员或拨打 0871-12393。".into() }],
            }),
        info(town, "info-procedure-dibao", 12, "如何申请最低生活保障（低保）", "青石镇便民服务中心",
            InfoPage::Procedure {
                office: "青石镇便民服务中心 三号窗口".into(),
                hours: "周一至周五 上午8:30-12:00，下午14:30-17:30".into(),
                phone: "0871-60005555".into(),
                materials: strings(&[
                    "户口簿和家庭成员身份证",
                    "家庭收入、财产情况说明",
                    "患病或残疾的，带病历或残疾证",
                    "本人银行卡或存折",
                ]),
                steps: strings(&[
                    "向村委会或便民服务中心提出申请，填写申请表",
                    "村委会入户调查，并在村务公开栏公示7天",
                    "镇政府审核，县民政局审批",
                    "批准后按月发放到本人银行卡",
                ]),
            }),
    ]
}
