//! A made-up issue, for previews, tests and the example.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use yuqing_cases::CaseState;
use yuqing_core::{Category, Level, Tier, Tone};

use crate::model::{Answer, Bulletin, CaseInfo, Entry, Overview, Spread, TopEvent};
use crate::stats::{Report, ReportCase, ReportItem, ReportKind, ReportSpec};

impl Bulletin {
    /// A plausible issue (第3期 of 上犹县财政局's bulletin) with a week of counts and
    /// a few entries, to preview the layout without a database.
    pub fn sample() -> Bulletin {
        let start = NaiveDate::from_ymd_opt(2026, 4, 27).unwrap_or_default();
        let end = start + Duration::days(6);
        let daily_counts = [[2, 5, 1], [1, 4, 3], [0, 6, 2], [3, 2, 0], [1, 7, 4], [0, 3, 1], [2, 4, 2]];
        let daily: Vec<_> =
            daily_counts.iter().enumerate().map(|(i, c)| (start + Duration::days(i as i64), *c)).collect();
        let total: usize = daily_counts.iter().flatten().sum();
        let tone_sum = |k: usize| daily_counts.iter().map(|c| c[k]).sum::<usize>();
        let cst = FixedOffset::east_opt(8 * 3600);
        let at = |d: u32, h: u32, m: u32| cst.and_then(|z| z.with_ymd_and_hms(2026, 4, d, h, m, 0).single());
        Bulletin {
            title: "财政网上舆情信息".to_string(),
            year: 2026,
            number: 3,
            series_number_in_year: None,
            compiled_by: "上犹县财政系统网宣办".to_string(),
            date: end + Duration::days(1),
            recipients: vec![
                "县财政系统网络文化建设和管理领导小组成员".to_string(),
                "各乡镇财政所".to_string(),
                "局属各单位".to_string(),
            ],
            period: (start, end),
            overview: Overview {
                total,
                by_tone: [(Tone::Positive, tone_sum(0)), (Tone::Neutral, tone_sum(1)), (Tone::Negative, tone_sum(2))],
                by_level: vec![(Level::Ordinary, total - 5), (Level::Important, 4), (Level::MajorSensitive, 1)],
                by_category: vec![(Category::Livelihood, 9), (Category::Policy, 6), (Category::ServiceComplaint, 3)],
                daily,
                top_events: vec![
                    TopEvent { title: "城乡居民医保缴费标准调整引发讨论".to_string(), items: 12, sources: 5 },
                    TopEvent { title: "网传某镇惠农补贴发放延迟".to_string(), items: 6, sources: 3 },
                ],
            },
            entries: vec![
                Entry {
                    headline: "网传某镇惠农补贴“一卡通”发放延迟，财政所回应".to_string(),
                    source: "赣州论坛".to_string(),
                    tier: Tier::HomeCity,
                    published: at(28, 9, 42),
                    url: "https://bbs.example.org/thread-1024.html".to_string(),
                    summary: "有网民发帖称，某镇部分农户今年第一季度耕地地力保护补贴尚未到账，质疑资金被挪用。\n经核实，系银行代发批次调整所致，资金已于4月29日全部发放到户。".to_string(),
                    tone: Tone::Negative,
                    level: Level::Important,
                    categories: vec![Category::Livelihood, Category::Rumour],
                    spread: Some(Spread { items: 6, sources: 3 }),
                    case: Some(CaseInfo {
                        state: CaseState::Answered,
                        overdue: false,
                        answer: Some(Answer {
                            channel: "县财政局门户网站".to_string(),
                            text: "经核实，补贴因银行代发批次调整晚到账三天，已于4月29日全部发放到户。".to_string(),
                            url: Some("https://www.example.gov.cn/art/2026/4/29/art_2.html".to_string()),
                            at: at(29, 11, 30),
                        }),
                    }),
                },
                Entry {
                    headline: "我县2026年城乡居民医保财政补助标准提高".to_string(),
                    source: "上犹县人民政府网".to_string(),
                    tier: Tier::Local,
                    published: at(29, 15, 0),
                    url: "https://www.example.gov.cn/art/2026/4/29/art_1.html".to_string(),
                    summary: "县财政局、县医保局联合发布通知，2026年城乡居民医保人均财政补助标准提高30元。".to_string(),
                    tone: Tone::Positive,
                    level: Level::Ordinary,
                    categories: vec![Category::Policy, Category::Livelihood],
                    spread: Some(Spread { items: 12, sources: 5 }),
                    case: None,
                },
                Entry {
                    headline: "网民反映办理政府采购备案“跑多次”".to_string(),
                    source: "人民网领导留言板".to_string(),
                    tier: Tier::Central,
                    published: at(30, 20, 15),
                    url: "https://liuyan.example.cn/threads/content?tid=2048".to_string(),
                    summary: "网民留言反映，企业在办理政府采购合同备案时需多次往返，希望推行网上办理。".to_string(),
                    tone: Tone::Negative,
                    level: Level::MajorSensitive,
                    categories: vec![Category::ServiceComplaint],
                    spread: None,
                    case: Some(CaseInfo { state: CaseState::FactFinding, overdue: true, answer: None }),
                },
            ],
            comment: Some("建议相关乡镇财政所进一步做好惠农补贴发放的政策解读和进度公开，及时回应群众关切。".to_string()),
        }
    }
}

/// A made-up week (2026-04-27 to 05-03) compiled from generated items and cases, so
/// the sample exercises [`Report::compile`] itself.
pub(crate) fn sample_report() -> Report {
    let start = NaiveDate::from_ymd_opt(2026, 4, 27).unwrap_or_default();
    let spec = ReportSpec {
        kind: ReportKind::Weekly,
        title: ReportSpec::default_title("上犹县财政局", ReportKind::Weekly),
        compiled_by: "上犹县财政系统网宣办".to_string(),
        date: start + Duration::days(7),
        period: ReportKind::Weekly.period_containing(start),
    };
    let sources: [(&str, Tier); 8] = [
        ("上犹县人民政府网", Tier::Local),
        ("赣州论坛", Tier::HomeCity),
        ("大江网", Tier::HomeProvince),
        ("人民网领导留言板", Tier::Central),
        ("新浪新闻", Tier::Portal),
        ("上犹发布", Tier::Local),
        ("百度搜索", Tier::Search),
        ("某地方论坛", Tier::Other),
    ];
    let cats: [&[Category]; 5] = [
        &[Category::Livelihood],
        &[Category::Policy],
        &[Category::Policy, Category::Livelihood],
        &[],
        &[Category::ServiceComplaint],
    ];
    let events = [(1_i64, "城乡居民医保缴费标准调整引发讨论"), (2, "网传某镇惠农补贴发放延迟")];
    let daily_counts: [usize; 7] = [8, 8, 8, 5, 12, 4, 8];
    // Constants: UTC+8 and the sample's dates are valid, so these cannot fail.
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    let mut items = Vec::new();
    let mut k = 0usize;
    for (d, count) in daily_counts.iter().enumerate() {
        for i in 0..*count {
            k += 1;
            let day = start + Duration::days(d as i64);
            let at = cst
                .from_local_datetime(&day.and_hms_opt(8 + (i as u32 % 12), (k as u32 * 7) % 60, 0).unwrap_or_default())
                .single()
                .expect("a fixed offset maps every local time once");
            let (source, tier) = sources[(k * 5 + d) % 7 + usize::from(k.is_multiple_of(11))];
            let tone = match k % 5 {
                0 | 3 => Tone::Negative,
                1 => Tone::Positive,
                _ => Tone::Neutral,
            };
            let level = match k % 13 {
                0 => Level::MajorSensitive,
                4 | 8 => Level::Important,
                _ => Level::Ordinary,
            };
            let event = match k % 6 {
                0 | 3 => Some(events[0]),
                1 => Some(events[1]),
                _ => None,
            };
            items.push(ReportItem { at, source, tier, tone, level, categories: cats[k % 5], event });
        }
    }
    let at = |d: u32, h: u32, m: u32| {
        cst.with_ymd_and_hms(2026, if d >= 27 { 4 } else { 5 }, d, h, m, 0).single().expect("a valid sample date")
    };
    let case = |level: Level, reported: DateTime<FixedOffset>, assessed: Option<i64>, answered: Option<i64>| {
        let (assess_h, answer_h) = match level {
            Level::MajorSensitive => (0, 5),
            Level::Important => (2, 24),
            Level::Ordinary => (24, 48),
        };
        let assess_due = if level == Level::MajorSensitive {
            reported + Duration::minutes(30)
        } else {
            reported + Duration::hours(assess_h)
        };
        ReportCase {
            level,
            reported_at: reported,
            assess_due,
            answer_due: reported + Duration::hours(answer_h),
            assessed_at: assessed.map(|m| reported + Duration::minutes(m)),
            answered_at: answered.map(|m| reported + Duration::minutes(m)),
            dismissed_at: None,
        }
    };
    let mut cases = vec![
        case(Level::Important, at(28, 9, 50), Some(40), Some(26 * 60)),
        case(Level::MajorSensitive, at(30, 20, 30), Some(25), Some(4 * 60)),
        case(Level::Ordinary, at(29, 10, 0), Some(3 * 60), Some(20 * 60)),
        case(Level::Ordinary, at(1, 16, 0), Some(30 * 60), None),
        case(Level::Important, at(3, 9, 0), Some(60), None),
    ];
    let mut dismissed = case(Level::Ordinary, at(2, 11, 0), None, None);
    dismissed.dismissed_at = Some(at(2, 15, 0));
    cases.push(dismissed);
    Report::compile(spec, items, &cases, at(3, 18, 0))
}
