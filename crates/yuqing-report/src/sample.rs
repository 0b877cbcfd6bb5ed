//! A made-up issue, for previews, tests and the example.

use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use yuqing_core::{Category, Level, Tier, Tone};

use crate::model::{Bulletin, Entry, Overview};

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
                    ("城乡居民医保缴费标准调整引发讨论".to_string(), 12, 5),
                    ("网传某镇惠农补贴发放延迟".to_string(), 6, 3),
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
                    spread: Some((6, 3)),
                    case: Some(("已答复".to_string(), Some("已联系发帖网民说明情况，网民表示理解。".to_string()))),
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
                    spread: Some((12, 5)),
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
                    spread: None,
                    case: Some(("处置中".to_string(), None)),
                },
            ],
            comment: Some("建议相关乡镇财政所进一步做好惠农补贴发放的政策解读和进度公开，及时回应群众关切。".to_string()),
        }
    }
}
