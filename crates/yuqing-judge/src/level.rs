//! Level (等级): a points table anyone can check by hand, and a reason line that names
//! every factor that scored, so the office can see why an item was raised and argue
//! with it. The table is `[level]` in the configuration ([`LevelConfig`]); its defaults:
//!
//! | factor | points |
//! | --- | --- |
//! | negative tone (score ≤ -0.6: strongly negative) | 2 (3) |
//! | local or home-city source / home-province or central source | 2 / 1 |
//! | source weight ≥ 0.9 | 1 |
//! | category rumour, service-complaint, economy-society / livelihood, policy (the highest counts) | 2 / 1 |
//! | the highest priority of the matched rules: normal / high / critical | 0 / 2 / 4 |
//! | two or more rules matched | 1 |
//! | reposts seen ≥ 3 / ≥ 10 | 1 / 2 |
//!
//! ≥ 7 points: major-sensitive; ≥ 4: important; else ordinary (so a routine notice
//! from an influential local source, 3 points, stays ordinary). A positive item is
//! never above important: good news does not need the leadership in 30 minutes.

use std::sync::OnceLock;
use yuqing_core::config::{LevelConfig, Priority};
use yuqing_core::{Category, Level, Tier, Tone};

// The defaults of `[level]` (yuqing-core's `LevelConfig::default()` holds the same).
/// Score at or below which negative counts as strongly negative.
pub const STRONGLY_NEGATIVE_AT: f32 = -0.6;
/// Points from which an item is important / major-sensitive.
pub const IMPORTANT_AT: u32 = 4;
pub const MAJOR_SENSITIVE_AT: u32 = 7;
/// Earlier items of its event (reposts and follow-ups) from which spread scores 1 / 2.
pub const SPREAD_AT: usize = 3;
pub const WIDE_SPREAD_AT: usize = 10;

/// What the level is decided from.
#[derive(Debug, Clone, Copy)]
pub struct LevelInput<'a> {
    pub tier: Tier,
    pub weight: f64,
    pub tone: Tone,
    pub tone_score: f32,
    pub categories: &'a [Category],
    pub matched_rules: usize,
    /// Earlier items of its event (reposts and follow-ups: the store counts them when it
    /// places the item); 0 for a first item.
    pub duplicates: usize,
    /// The highest priority among the matched rules, with the first matched rule that
    /// has it (named in the reason); `None` when no rule matched.
    pub priority: Option<(Priority, &'a str)>,
}

/// The default table (`[level]` left out).
pub fn default_table() -> &'static LevelConfig {
    static TABLE: OnceLock<LevelConfig> = OnceLock::new();
    TABLE.get_or_init(LevelConfig::default)
}

/// How the reason line names a tier that scored.
fn tier_reason(t: Tier) -> &'static str {
    match t {
        Tier::Local => "本地信源",
        Tier::HomeCity => "本市信源",
        Tier::HomeProvince => "本省信源",
        Tier::Central => "中央媒体",
        Tier::Portal => "商业门户网站",
        Tier::Provincial => "外省媒体",
        Tier::Other => "其他网站论坛",
        Tier::Search => "搜索引擎结果",
    }
}

/// The level by the default table.
pub fn level(input: &LevelInput) -> (Level, String) {
    level_with(input, default_table())
}

/// The level and one line in Chinese saying why (the scoring factors, joined by "；"),
/// by the given table.
pub fn level_with(input: &LevelInput, table: &LevelConfig) -> (Level, String) {
    let pts = &table.points;
    let mut points = 0u32;
    let mut why: Vec<String> = Vec::new();
    let mut add = |n: u32, reason: String| {
        if n > 0 {
            points = points.saturating_add(n);
            why.push(reason);
        }
    };

    if input.tone == Tone::Negative {
        // A strongly negative item gets the larger of the two, so a table that gives
        // strongly negative fewer points than negative never ranks it below.
        if input.tone_score <= table.strongly_negative_at && pts.strongly_negative >= pts.negative {
            add(pts.strongly_negative, "强烈负面".into());
        } else {
            add(pts.negative, "负面".into());
        }
    }

    add(table.tier_points(input.tier), tier_reason(input.tier).into());

    // NaN (an unset weight) compares false and scores nothing.
    if input.weight >= table.influential_weight {
        add(pts.influential_source, "信源影响力大".into());
    }

    let best = input.categories.iter().map(|&c| table.category_points(c)).max().unwrap_or(0);
    if best > 0 {
        let mut names: Vec<&str> = Vec::new();
        for &c in input.categories {
            if table.category_points(c) > 0 && !names.contains(&c.zh()) {
                names.push(c.zh());
            }
        }
        add(best, format!("涉及{}", names.join("、")));
    }

    if let Some((p, rule)) = input.priority {
        add(table.priority_points(p), format!("命中{}优先级规则「{rule}」", p.zh()));
    }

    if input.matched_rules >= table.several_rules_at {
        add(pts.several_rules, format!("命中{}条监测规则", input.matched_rules));
    }

    if input.duplicates >= table.wide_spread_at && pts.wide_spread > 0 {
        add(pts.wide_spread, format!("已被转载{}次，传播较广", input.duplicates));
    } else if input.duplicates >= table.spread_at {
        add(pts.spread, format!("已被转载{}次", input.duplicates));
    }

    let mut level = if points >= table.major_sensitive_at {
        Level::MajorSensitive
    } else if points >= table.important_at {
        Level::Important
    } else {
        Level::Ordinary
    };
    if input.tone == Tone::Positive && level > table.positive_at_most {
        level = table.positive_at_most;
        why.push(format!("正面信息，至多为{}", level.zh()));
    }
    let reason = if why.is_empty() { "无风险因素".to_string() } else { why.join("；") };
    (level, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(tier: Tier, tone: Tone, score: f32, cats: &[Category]) -> LevelInput<'_> {
        LevelInput {
            tier,
            weight: 0.5,
            tone,
            tone_score: score,
            categories: cats,
            matched_rules: 1,
            duplicates: 0,
            priority: None,
        }
    }

    #[test]
    fn nothing_scores_ordinary() {
        let (l, why) = level(&input(Tier::Other, Tone::Neutral, 0.0, &[]));
        assert_eq!(l, Level::Ordinary);
        assert_eq!(why, "无风险因素");
    }

    #[test]
    fn three_points_ordinary_four_important() {
        // negative (2) + central (1) = 3
        let (l, why) = level(&input(Tier::Central, Tone::Negative, -0.3, &[]));
        assert_eq!((l, why.as_str()), (Level::Ordinary, "负面；中央媒体"));
        // a routine notice from an influential local source: local 2 + weight 1 = 3
        let mut i = input(Tier::Local, Tone::Neutral, 0.0, &[]);
        i.weight = 1.0;
        assert_eq!(level(&i).0, Level::Ordinary);
        // negative (2) + local (2) = 4
        let (l, why) = level(&input(Tier::Local, Tone::Negative, -0.3, &[]));
        assert_eq!((l, why.as_str()), (Level::Important, "负面；本地信源"));
        // strongly negative (3) + central (1) = 4; -0.59 is only negative
        let (l, why) = level(&input(Tier::Central, Tone::Negative, -0.6, &[]));
        assert_eq!((l, why.as_str()), (Level::Important, "强烈负面；中央媒体"));
        let (l, _) = level(&input(Tier::Central, Tone::Negative, -0.59, &[]));
        assert_eq!(l, Level::Ordinary);
    }

    #[test]
    fn six_points_important_seven_major() {
        // negative 2 + local 2 + livelihood 1 + weight 1 = 6
        let cats = [Category::Livelihood];
        let mut i = input(Tier::Local, Tone::Negative, -0.3, &cats);
        i.weight = 0.9;
        let (l, why) = level(&i);
        assert_eq!(l, Level::Important);
        assert_eq!(why, "负面；本地信源；信源影响力大；涉及民生问题");
        // strongly negative: 3 + 2 + 1 + 1 = 7
        let mut i = input(Tier::Local, Tone::Negative, -0.7, &cats);
        i.weight = 0.9;
        let (l, why) = level(&i);
        assert_eq!(l, Level::MajorSensitive);
        assert_eq!(why, "强烈负面；本地信源；信源影响力大；涉及民生问题");
    }

    #[test]
    fn highest_category_counts_once_and_all_are_named() {
        let cats = [Category::Policy, Category::ServiceComplaint, Category::IncidentElsewhere];
        let (l, why) = level(&input(Tier::HomeProvince, Tone::Negative, -0.3, &cats));
        // negative 2 + home-province 1 + service-complaint 2 = 5 (not 6: the highest category counts)
        assert_eq!(l, Level::Important);
        assert_eq!(why, "负面；本省信源；涉及政策反馈、服务不满");
    }

    #[test]
    fn rules_and_spread_add_points() {
        let mut i = input(Tier::Other, Tone::Neutral, 0.0, &[]);
        i.matched_rules = 2;
        i.duplicates = 3;
        let (l, why) = level(&i);
        assert_eq!((l, why.as_str()), (Level::Ordinary, "命中2条监测规则；已被转载3次"));
        i.duplicates = 10;
        let (l, why) = level(&i);
        assert_eq!((l, why.as_str()), (Level::Ordinary, "命中2条监测规则；已被转载10次，传播较广"));
        i.tier = Tier::Central;
        assert_eq!(level(&i).0, Level::Important);
        i.duplicates = 2;
        i.matched_rules = 1;
        assert_eq!(level(&i).0, Level::Ordinary);
    }

    #[test]
    fn positive_is_never_above_important() {
        let cats = [Category::Rumour];
        let mut i = input(Tier::Local, Tone::Positive, 0.8, &cats);
        i.weight = 1.0;
        i.duplicates = 12;
        let (l, why) = level(&i);
        assert_eq!(l, Level::Important);
        assert!(why.ends_with("正面信息，至多为重要"), "{why}");
    }

    #[test]
    fn nan_weight_scores_nothing() {
        let mut i = input(Tier::Other, Tone::Neutral, 0.0, &[]);
        i.weight = f64::NAN;
        assert_eq!(level(&i).0, Level::Ordinary);
    }
}
