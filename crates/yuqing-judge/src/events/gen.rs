//! Realistic test data for event grouping: there is no public Chinese repost corpus,
//! so we make one from the seed stories in `stories.txt` (written for this project).
//!
//! Each story instance is a seed with its own names (county, town, village, people,
//! road, company) and dates, and yields:
//! - the original, on a local source;
//! - 0..=`max_reposts` reposts over the next day and a half: a rewritten headline, an
//!   added lead (（本网讯）, 据XX报道), a cut ending, a portal's header and footer,
//!   now and then a character-level slip;
//! - with probability `follow_up_chance`, a follow-up a day or two later (the seed's
//!   second article: new facts, the same names and key terms) with its own reposts.
//!
//! Unrelated stories on the same topic come for free: each topic has four seeds (other
//! stories on subsidies, road works, …, with their own names), interleaved in time.
//! To scale, a seed recurs with other names, places and dates, by default not within
//! a week of its last use (see [`GenConfig::min_seed_gap`]). Everything is drawn from a
//! seeded LCG, so the same configuration gives the same items.

use chrono::{DateTime, TimeDelta, Utc};
use yuqing_core::Tier;

const STORIES: &str = include_str!("stories.txt");

/// A 64-bit LCG (Knuth's MMIX constants) with the output's high bits mixed down:
/// small, fast and the same everywhere.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        let mut l = Lcg(seed ^ 0x9E37_79B9_7F4A_7C15);
        l.next_u64();
        l
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 32)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            ((u128::from(self.next_u64() >> 11) * u128::from(n)) >> 53) as u64
        }
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// A seed story: its topic, the first article and its follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub topic: String,
    pub title: String,
    pub body: String,
    pub follow_title: String,
    pub follow_body: String,
}

/// The seed stories of `stories.txt`.
pub fn seeds() -> Vec<Seed> {
    let mut out: Vec<Seed> = Vec::new();
    let mut topic = String::new();
    let mut in_follow = false;
    for line in STORIES.lines() {
        let line = line.trim_end();
        if line.starts_with("%%") {
            topic = line.trim_start_matches('%').trim().to_string();
        } else if line.starts_with('%') || line.is_empty() {
            continue;
        } else if let Some(t) = line.strip_prefix("# ") {
            out.push(Seed {
                topic: topic.clone(),
                title: t.to_string(),
                body: String::new(),
                follow_title: String::new(),
                follow_body: String::new(),
            });
            in_follow = false;
        } else if let Some(t) = line.strip_prefix(">> ") {
            if let Some(s) = out.last_mut() {
                s.follow_title = t.to_string();
            }
            in_follow = true;
        } else if let Some(s) = out.last_mut() {
            let body = if in_follow { &mut s.follow_body } else { &mut s.body };
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(line);
        }
    }
    out
}

/// What an item is within its story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Original,
    Repost,
    FollowUp,
    FollowUpRepost,
}

/// A generated item with its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct GenItem {
    /// 1-based, in order of `at`.
    pub id: u64,
    /// The story instance: items of one story belong in one event.
    pub story: u64,
    /// One article and its reposts: `story * 2` for the first article, `+ 1` for the
    /// follow-up.
    pub version: u64,
    /// Index into [`seeds`].
    pub seed: usize,
    pub kind: Kind,
    pub title: String,
    pub content: String,
    pub at: DateTime<Utc>,
    pub source: String,
    pub tier: Tier,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    pub seed: u64,
    /// Items in all (the last story may be cut short).
    pub items: usize,
    /// Rate of items: story starts are spread over `items / items_per_day` days, so the
    /// number of stories alive at once does not grow with `items`.
    pub items_per_day: f64,
    pub max_reposts: u64,
    pub follow_up_chance: f64,
    pub start: DateTime<Utc>,
    /// A seed is not reused (with other names) within this time of its last use, so
    /// that the same text with another county's names is another story *elsewhere in
    /// time*, not a twin inside the grouping window. When seeds run out the clock
    /// waits, so the real rate can be below `items_per_day`. Zero: reuse at will (a
    /// stress case: many counties issuing one templated release at once).
    pub min_seed_gap: TimeDelta,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 1,
            items: 2_000,
            items_per_day: 300.0,
            max_reposts: 8,
            follow_up_chance: 0.7,
            start: DateTime::from_timestamp(1_704_067_200, 0).unwrap_or_default(), // 2024-01-01
            min_seed_gap: TimeDelta::days(7),
        }
    }
}

const COUNTY_CHARS: &[char] = &[
    '安', '宁', '丰', '兴', '永', '和', '平', '昌', '泰', '华', '清', '远', '德', '瑞', '崇', '信', '龙', '南', '定',
    '石', '城', '峡', '新', '宜', '乐', '修', '铜', '靖', '万', '芦', '莲', '阳', '东', '西', '山', '川', '溪', '源',
    '广', '长', '富', '嘉', '临', '江', '湖', '桂', '梅', '松', '柏', '云',
];
const SURNAMES: &[char] = &[
    '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '罗',
    '高', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹', '彭', '曾', '肖', '田', '董', '潘', '袁', '蔡',
    '蒋', '余', '杜', '叶', '程', '魏', '苏', '吕', '丁', '钟', '姜', '谭', '廖', '邹', '熊', '赖', '温', '邱',
];
const GIVEN: &[char] = &[
    '建', '国', '华', '明', '伟', '强', '军', '平', '红', '英', '芳', '丽', '敏', '静', '勇', '志', '文', '春', '海',
    '秀', '玉', '桂', '兰', '德', '林', '峰', '辉', '斌', '涛', '磊', '鹏', '琴', '燕', '霞', '刚', '荣', '新', '忠',
];
const ROAD_CHARS: &[char] = &[
    '长', '征', '红', '旗', '胜', '利', '建', '设', '解', '放', '光', '明', '振', '兴', '文', '峰', '翠', '微', '金',
    '沙', '章', '贡', '龙', '岗', '凤', '凰', '南', '门', '东', '湖',
];
const COMPANY_CHARS: &[char] = &[
    '鑫', '源', '华', '通', '恒', '发', '盛', '达', '泰', '隆', '金', '瑞', '宏', '远', '嘉', '禾', '天', '成', '永',
    '利', '博', '信', '众', '和', '富', '安',
];

/// (name, tier) of sources that repost; `{县}` is the story's county.
const REPOSTERS: &[(&str, Tier)] = &[
    ("{县}融媒体中心", Tier::Local),
    ("{县}论坛", Tier::Other),
    ("南江日报", Tier::HomeCity),
    ("南江新闻网", Tier::HomeCity),
    ("江右新闻网", Tier::HomeProvince),
    ("江右日报", Tier::HomeProvince),
    ("中国财经时报网", Tier::Central),
    ("新闻联播网", Tier::Central),
    ("网易新闻", Tier::Portal),
    ("新浪新闻", Tier::Portal),
    ("搜狐新闻", Tier::Portal),
    ("腾讯新闻", Tier::Portal),
    ("今日头条", Tier::Portal),
    ("凤凰网", Tier::Portal),
    ("百度贴吧", Tier::Other),
    ("天涯社区", Tier::Other),
    ("湘楚晨报", Tier::Provincial),
    ("闽南都市报", Tier::Provincial),
];

#[derive(Debug, Clone)]
struct Names {
    county: String,
    town: String,
    village: String,
    person: String,
    resident: String,
    road: String,
    company: String,
}

fn two(rng: &mut Lcg, pool: &[char]) -> String {
    let a = *rng.pick(pool);
    let mut b = *rng.pick(pool);
    while b == a {
        b = *rng.pick(pool);
    }
    [a, b].iter().collect()
}

fn person(rng: &mut Lcg) -> String {
    let mut s = String::new();
    s.push(*rng.pick(SURNAMES));
    s.push_str(&two(rng, GIVEN));
    s
}

impl Names {
    fn draw(rng: &mut Lcg) -> Names {
        Names {
            county: format!("{}县", two(rng, COUNTY_CHARS)),
            town: format!("{}镇", two(rng, COUNTY_CHARS)),
            village: format!("{}村", two(rng, COUNTY_CHARS)),
            person: person(rng),
            resident: person(rng),
            road: two(rng, ROAD_CHARS),
            company: two(rng, COMPANY_CHARS),
        }
    }

    fn fill(&self, s: &str) -> String {
        s.replace("{县}", &self.county)
            .replace("{镇}", &self.town)
            .replace("{村}", &self.village)
            .replace("{人}", &self.person)
            .replace("{民}", &self.resident)
            .replace("{路}", &self.road)
            .replace("{企}", &self.company)
    }
}

/// Generates items, sorted by time and numbered from 1.
pub fn generate(cfg: &GenConfig) -> Vec<GenItem> {
    let seeds = seeds();
    let mut rng = Lcg::new(cfg.seed);
    // About 1 + max/2 reposts and 0.7 × (1 + max/4) follow-up items per story.
    let per_story = 1.0 + cfg.max_reposts as f64 / 2.0 + cfg.follow_up_chance * (1.0 + cfg.max_reposts as f64 / 4.0);
    // Minutes between story starts: the asked rate, but no faster than the seeds allow
    // (else stories would come in a burst of every seed each gap).
    let sustainable = cfg.min_seed_gap.num_minutes() as f64 / seeds.len() as f64 * 1.05;
    let mean_gap = (24.0 * 60.0 * per_story / cfg.items_per_day.max(1.0)).max(sustainable).max(1.0);
    let mut items: Vec<GenItem> = Vec::with_capacity(cfg.items + 32);
    let mut story = 0u64;
    let mut clock = cfg.start;
    let mut free_at = vec![cfg.start; seeds.len()];
    while items.len() < cfg.items {
        clock += TimeDelta::minutes((rng.unit() * 2.0 * mean_gap) as i64);
        let earliest = free_at.iter().copied().min().unwrap_or(clock);
        clock = clock.max(earliest);
        let free: Vec<usize> = (0..seeds.len()).filter(|&s| free_at[s] <= clock).collect();
        let s = *rng.pick(&free);
        free_at[s] = clock + cfg.min_seed_gap;
        let seed = &seeds[s];
        let names = Names::draw(&mut rng);
        let t0 = clock;
        let origin = if rng.chance(0.7) {
            format!("{}人民政府网", names.county)
        } else {
            names.fill("{县}融媒体中心")
        };
        let mut push = |kind: Kind, version: u64, title: String, content: String, at, source: String, tier| {
            items.push(GenItem { id: 0, story, version, seed: s, kind, title, content, at, source, tier });
        };
        let (title, body) = (names.fill(&seed.title), names.fill(&seed.body));
        push(Kind::Original, story * 2, title.clone(), body.clone(), t0, origin.clone(), Tier::Local);
        for _ in 0..rng.below(cfg.max_reposts + 1) {
            let at = t0 + delay(&mut rng, 36);
            let (t, c, src, tier) = repost(&mut rng, &title, &body, &names);
            push(Kind::Repost, story * 2, t, c, at, src, tier);
        }
        if rng.chance(cfg.follow_up_chance) {
            let at0 = t0 + TimeDelta::minutes(18 * 60 + rng.below(36 * 60) as i64);
            let (title, body) = (names.fill(&seed.follow_title), names.fill(&seed.follow_body));
            push(Kind::FollowUp, story * 2 + 1, title.clone(), body.clone(), at0, origin, Tier::Local);
            for _ in 0..rng.below(cfg.max_reposts / 2 + 1) {
                let at = at0 + delay(&mut rng, 24);
                let (t, c, src, tier) = repost(&mut rng, &title, &body, &names);
                push(Kind::FollowUpRepost, story * 2 + 1, t, c, at, src, tier);
            }
        }
        story += 1;
    }
    items.truncate(cfg.items);
    // Stable: items at the same minute keep the order they were made in.
    items.sort_by_key(|i| i.at);
    for (n, i) in items.iter_mut().enumerate() {
        i.id = n as u64 + 1;
    }
    items
}

/// A delay of up to `hours`, most of them early (reposts come in a burst).
fn delay(rng: &mut Lcg, hours: u64) -> TimeDelta {
    let u = rng.unit();
    TimeDelta::minutes(5 + (u * u * (hours * 60) as f64) as i64)
}

fn repost(rng: &mut Lcg, title: &str, body: &str, names: &Names) -> (String, String, String, Tier) {
    let (src, tier) = *rng.pick(REPOSTERS);
    let src = names.fill(src);
    const MEDIA: &[&str] = &["南江日报", "{县}融媒体中心", "江右新闻网", "{县}发布", "南江电视台"];
    let media: &&str = rng.pick(MEDIA);
    let media = names.fill(media);

    // Headline rewrite.
    let (a, b) = title.split_once(' ').unwrap_or((title, ""));
    let title = match rng.below(8) {
        0 => title.to_string(),
        1 if !b.is_empty() => format!("{b}：{a}"),
        2 => a.to_string(),
        3 => format!("{}{a}，{b}", rng.pick(&["【关注】", "重磅！", "最新！", "热点｜", "【民生】"])),
        4 => format!("{title}{}", rng.pick(&["（图）", "（附详情）", "｜南江日报", "_网易新闻"])),
        5 if !b.is_empty() => format!("{}回应：{b}", names.county),
        6 => format!("{a}！{b}"),
        _ => title.replace(' ', "，"),
    };

    let mut text = body.to_string();
    // Cut ending.
    let paragraphs: Vec<&str> = body.split('\n').collect();
    match rng.below(10) {
        0..=3 if paragraphs.len() >= 3 => text = paragraphs[..paragraphs.len() - 1].join("\n"),
        4 | 5 => {
            let chars: Vec<char> = text.chars().collect();
            let keep = chars.len() * (65 + rng.below(26) as usize) / 100;
            text = chars[..keep].iter().collect::<String>() + "……";
        }
        _ => {}
    }
    // Character-level slips.
    if rng.chance(0.3) {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(chars.len() as u64) as usize;
            if rng.chance(0.5) {
                chars[i] = *rng.pick(&['的', '地', '得', '在', '再', '做', '作', '那', '哪']);
            } else if i < chars.len() {
                chars.remove(i);
            }
        }
        text = chars.into_iter().collect();
    }
    // Added lead.
    let lead = match rng.below(6) {
        0 => "（本网讯）".to_string(),
        1 => format!("据{media}报道，"),
        2 => format!("{media}讯（记者 {}）", person(rng)),
        3 => format!("近日，一则关于{}的消息引发网友关注。\n", names.county),
        4 => format!("编者按：以下内容转自{media}。\n"),
        _ => String::new(),
    };
    // Boilerplate header and footer.
    let header = match rng.below(3) {
        0 => format!(
            "来源：{media}　发布时间：2024-{:02}-{:02} {:02}:{:02}　浏览次数：{}\n",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(5000)
        ),
        1 => "字号：大 中 小　【打印】\n".to_string(),
        _ => String::new(),
    };
    let footer = match rng.below(5) {
        0 => format!("\n责任编辑：{}", person(rng)),
        1 => "\n【打印本页】【关闭窗口】扫一扫在手机上查看当前页面".to_string(),
        2 => format!("\n声明：本文转载自{media}，版权归原作者所有，如有侵权请联系删除。"),
        3 => format!("\n更多精彩内容，请关注{}发布微信公众号。", names.county),
        _ => String::new(),
    };
    (title, format!("{header}{lead}{text}{footer}"), src, tier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse() {
        let s = seeds();
        assert!(s.len() >= 30, "{}", s.len());
        for seed in &s {
            // Short, like a county's own releases; a story (both articles) is 300+.
            let n = seed.body.chars().count();
            assert!((200..=900).contains(&n), "{}: {n}", seed.title);
            assert!(n + seed.follow_body.chars().count() >= 300, "{}", seed.title);
            assert!(!seed.follow_title.is_empty() && seed.follow_body.chars().count() > 80, "{}", seed.title);
            assert!(!seed.topic.is_empty());
        }
        let topics: std::collections::BTreeSet<&str> = s.iter().map(|s| s.topic.as_str()).collect();
        assert!(topics.len() >= 6, "{topics:?}");
    }

    #[test]
    fn generator_is_deterministic() {
        let cfg = GenConfig { items: 500, ..GenConfig::default() };
        let a = generate(&cfg);
        assert_eq!(a, generate(&cfg));
        assert_eq!(a.len(), 500);
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at && w[0].id + 1 == w[1].id));
        assert_ne!(a, generate(&GenConfig { seed: 2, ..cfg }));
        for kind in [Kind::Original, Kind::Repost, Kind::FollowUp, Kind::FollowUpRepost] {
            assert!(a.iter().any(|i| i.kind == kind), "{kind:?}");
        }
        assert!(a.iter().all(|i| !i.content.contains('{') && !i.title.contains('{')));
    }

    #[test]
    fn lcg_is_uniform_enough() {
        let mut r = Lcg::new(3);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[r.below(10) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (900..1100).contains(&c)), "{counts:?}");
    }
}
