//! The judgement's configuration: key-content category rule sets (`[categories.<id>]`),
//! watch-rule priority (`[[rules]] priority`) and the level table (`[level]`).
//!
//! Only data and validation live here (no I/O, no query language): `yuqing-judge`
//! compiles the queries, and `check_query` is handed in like for `[[rules]]`. Every
//! default reproduces the judgement yuqing had before these sections existed, so a
//! configuration without them judges exactly as before.

use super::{read, Problem};
use crate::{Category, Level, Tier};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

crate::named_enum! {
    /// How much a watch rule's match weighs in an item's level (`[[rules]] priority`);
    /// the points of each are in `[level.priorities]`.
    #[derive(Default)]
    pub enum Priority {
        #[default]
        Normal => ("normal", "普通"),
        High => ("high", "高"),
        Critical => ("critical", "紧急"),
    }
}

crate::named_enum! {
    /// How a category set's queries combine with the built-in ones (`[categories.<id>] mode`).
    #[derive(Default)]
    pub enum CategoryMode {
        /// The configured queries are added to the built-in ones.
        #[default]
        Extend => ("extend", "补充内置"),
        /// Only the configured queries are used.
        Replace => ("replace", "替换内置"),
    }
}

crate::named_enum! {
    /// How the categories named by matched rules combine with the category sets'
    /// (`[categories] combine`).
    #[derive(Default)]
    pub enum CombineCategories {
        /// The categories the matched rules name; the category sets fill in only when
        /// none of them names one (the behaviour before `[categories]` existed).
        #[default]
        FillIn => ("fill-in", "规则未指定时补充"),
        /// Both: the rules' categories and every category whose queries match.
        Union => ("union", "合并"),
    }
}

/// One key-content category's rule set, `[categories.<id>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySetConfig {
    /// `false`: the category's queries never assign it (a rule naming it still does).
    #[serde(default = "super::yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mode: CategoryMode,
    /// One query; shorthand for a one-element `queries`.
    #[serde(default)]
    pub query: Option<String>,
    /// The item is in the category when any query matches (watch-rule language).
    #[serde(default)]
    pub queries: Vec<String>,
}

impl CategorySetConfig {
    /// The configured queries: `query` first, then `queries`.
    pub fn own_queries(&self) -> impl Iterator<Item = &str> {
        self.query.iter().map(String::as_str).chain(self.queries.iter().map(String::as_str))
    }
}

/// `[categories]`: how rule and category-set categories combine, and the sets that
/// differ from the built-in default (a category not listed keeps its built-in queries).
#[derive(Debug, Clone, Default)]
pub struct CategoriesConfig {
    pub combine: CombineCategories,
    pub sets: BTreeMap<Category, CategorySetConfig>,
}

/// Points of the single factors of `[level.points]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LevelPoints {
    #[serde(default = "p2")]
    pub negative: u32,
    #[serde(default = "p3")]
    pub strongly_negative: u32,
    #[serde(default = "p1")]
    pub influential_source: u32,
    #[serde(default = "p1")]
    pub several_rules: u32,
    #[serde(default = "p1")]
    pub spread: u32,
    #[serde(default = "p2")]
    pub wide_spread: u32,
}

impl Default for LevelPoints {
    fn default() -> Self {
        LevelPoints {
            negative: 2,
            strongly_negative: 3,
            influential_source: 1,
            several_rules: 1,
            spread: 1,
            wide_spread: 2,
        }
    }
}

/// `[level]`: the points table that decides an item's level (see `yuqing_judge::level`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LevelConfig {
    /// Points from which an item is important.
    #[serde(default = "p4")]
    pub important_at: u32,
    /// Points from which an item is major-sensitive.
    #[serde(default = "p7")]
    pub major_sensitive_at: u32,
    /// The highest level a positive item gets (good news rarely needs the leaders at once).
    #[serde(default = "important")]
    pub positive_at_most: Level,
    /// Tone score at or below which negative counts as strongly negative.
    #[serde(default = "strongly_negative_at")]
    pub strongly_negative_at: f32,
    /// Source weight from which the source counts as influential.
    #[serde(default = "influential_weight")]
    pub influential_weight: f64,
    /// Matched rules from which `points.several_rules` is given.
    #[serde(default = "p2usize")]
    pub several_rules_at: usize,
    /// Earlier items of the item's event (reposts, follow-ups) from which it has spread.
    #[serde(default = "p3usize")]
    pub spread_at: usize,
    /// … and from which it has spread widely.
    #[serde(default = "p10usize")]
    pub wide_spread_at: usize,
    #[serde(default)]
    pub points: LevelPoints,
    /// Points by the source's tier; a tier not given keeps its default.
    #[serde(default = "default_tier_points", deserialize_with = "de_tier_points")]
    pub tiers: BTreeMap<Tier, u32>,
    /// Points by category (the highest of the item's categories counts, once).
    #[serde(default = "default_category_points", deserialize_with = "de_category_points")]
    pub categories: BTreeMap<Category, u32>,
    /// Points by the highest priority among the matched rules.
    #[serde(default = "default_priority_points", deserialize_with = "de_priority_points")]
    pub priorities: BTreeMap<Priority, u32>,
}

impl Default for LevelConfig {
    fn default() -> Self {
        LevelConfig {
            important_at: 4,
            major_sensitive_at: 7,
            positive_at_most: Level::Important,
            strongly_negative_at: strongly_negative_at(),
            influential_weight: influential_weight(),
            several_rules_at: 2,
            spread_at: 3,
            wide_spread_at: 10,
            points: LevelPoints::default(),
            tiers: default_tier_points(),
            categories: default_category_points(),
            priorities: default_priority_points(),
        }
    }
}

impl LevelConfig {
    pub fn tier_points(&self, t: Tier) -> u32 {
        self.tiers.get(&t).copied().unwrap_or(0)
    }
    pub fn category_points(&self, c: Category) -> u32 {
        self.categories.get(&c).copied().unwrap_or(0)
    }
    pub fn priority_points(&self, p: Priority) -> u32 {
        self.priorities.get(&p).copied().unwrap_or(0)
    }
}

fn p1() -> u32 {
    1
}
fn p2() -> u32 {
    2
}
fn p3() -> u32 {
    3
}
fn p4() -> u32 {
    4
}
fn p7() -> u32 {
    7
}
fn p2usize() -> usize {
    2
}
fn p3usize() -> usize {
    3
}
fn p10usize() -> usize {
    10
}
fn important() -> Level {
    Level::Important
}
fn strongly_negative_at() -> f32 {
    -0.6
}
fn influential_weight() -> f64 {
    0.9
}

fn default_tier_points() -> BTreeMap<Tier, u32> {
    Tier::ALL
        .iter()
        .map(|&t| {
            let p = match t {
                Tier::Local | Tier::HomeCity => 2,
                Tier::HomeProvince | Tier::Central => 1,
                Tier::Portal | Tier::Provincial | Tier::Other | Tier::Search => 0,
            };
            (t, p)
        })
        .collect()
}

fn default_category_points() -> BTreeMap<Category, u32> {
    Category::ALL
        .iter()
        .map(|&c| {
            let p = match c {
                Category::Rumour | Category::ServiceComplaint | Category::EconomySociety => 2,
                Category::Livelihood | Category::Policy => 1,
                Category::IncidentElsewhere => 0,
            };
            (c, p)
        })
        .collect()
}

fn default_priority_points() -> BTreeMap<Priority, u32> {
    Priority::ALL
        .iter()
        .map(|&p| {
            let n = match p {
                Priority::Normal => 0,
                Priority::High => 2,
                Priority::Critical => 4,
            };
            (p, n)
        })
        .collect()
}

/// A table of points by id laid over the defaults: keys not given keep theirs.
fn overlay<'de, D, K>(d: D, mut base: BTreeMap<K, u32>) -> Result<BTreeMap<K, u32>, D::Error>
where
    D: Deserializer<'de>,
    K: Ord + Deserialize<'de>,
{
    base.extend(BTreeMap::<K, u32>::deserialize(d)?);
    Ok(base)
}

fn de_tier_points<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Tier, u32>, D::Error> {
    overlay(d, default_tier_points())
}
fn de_category_points<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Category, u32>, D::Error> {
    overlay(d, default_category_points())
}
fn de_priority_points<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Priority, u32>, D::Error> {
    overlay(d, default_priority_points())
}

/// Reads `[categories]`, recording every problem.
pub(super) fn read_categories(value: toml::Value, problems: &mut Vec<Problem>) -> CategoriesConfig {
    let mut out = CategoriesConfig::default();
    let toml::Value::Table(table) = value else {
        problems.push(Problem { key: "categories".into(), message: "must be a table".into() });
        return out;
    };
    for (k, v) in table {
        let key = format!("categories.{k}");
        if k == "combine" {
            match v.as_str().map(|s| s.parse::<CombineCategories>()) {
                Some(Ok(c)) => out.combine = c,
                Some(Err(e)) => problems.push(Problem { key, message: e }),
                None => problems
                    .push(Problem { key, message: format!("must be a string, one of: {}", CombineCategories::ids()) }),
            }
        } else if let Some(c) = Category::from_id(&k) {
            if !v.is_table() {
                problems.push(Problem { key, message: format!("must be a table, written [categories.{k}]") });
            } else if let Some(set) = read::<CategorySetConfig>(v, &key, problems) {
                out.sets.insert(c, set);
            }
        } else {
            problems.push(Problem {
                key,
                message: format!("unknown key; [categories] has `combine` and the category ids: {}", Category::ids()),
            });
        }
    }
    out
}

/// Checks the category sets' queries and the level table.
pub(super) fn validate(
    categories: &CategoriesConfig,
    level: &LevelConfig,
    p: &mut dyn FnMut(String, String),
    check_query: &dyn Fn(&str) -> Result<(), String>,
) {
    for (c, set) in &categories.sets {
        let key = format!("categories.{c}");
        if let Some(q) = &set.query {
            if let Err(e) = check_query(q) {
                p(key.clone(), format!("`query` {e}"));
            }
        }
        for (i, q) in set.queries.iter().enumerate() {
            if let Err(e) = check_query(q) {
                p(key.clone(), format!("`queries[{i}]` {e}"));
            }
        }
        if set.enabled && set.mode == CategoryMode::Replace && set.own_queries().next().is_none() {
            p(
                key.clone(),
                "mode = \"replace\" needs at least one query in `query` or `queries`; to turn the category off \
                 write enabled = false"
                    .into(),
            );
        }
    }

    const MAX_POINTS: u32 = 100;
    if level.important_at == 0 {
        p("level.important_at".into(), "must be at least 1 (0 would make every item important)".into());
    }
    if level.major_sensitive_at < level.important_at {
        p(
            "level.major_sensitive_at".into(),
            format!("must be at least important_at ({}): a more serious level needs more points", level.important_at),
        );
    }
    if level.important_at > MAX_POINTS || level.major_sensitive_at > MAX_POINTS {
        p("level".into(), format!("thresholds must be at most {MAX_POINTS} points"));
    }
    if !(level.strongly_negative_at.is_finite() && (-1.0..=0.0).contains(&level.strongly_negative_at)) {
        p("level.strongly_negative_at".into(), "must be a tone score between -1 and 0".into());
    }
    if !(level.influential_weight.is_finite() && (0.0..=10.0).contains(&level.influential_weight)) {
        p("level.influential_weight".into(), "must be between 0 and 10, like source weights".into());
    }
    if level.several_rules_at < 2 {
        p("level.several_rules_at".into(), "must be at least 2 (one rule matches every relevant item)".into());
    }
    if level.spread_at == 0 {
        p("level.spread_at".into(), "must be at least 1".into());
    }
    if level.wide_spread_at < level.spread_at {
        p("level.wide_spread_at".into(), format!("must be at least spread_at ({})", level.spread_at));
    }
    let pts = &level.points;
    for (name, v) in [
        ("negative", pts.negative),
        ("strongly_negative", pts.strongly_negative),
        ("influential_source", pts.influential_source),
        ("several_rules", pts.several_rules),
        ("spread", pts.spread),
        ("wide_spread", pts.wide_spread),
    ] {
        if v > MAX_POINTS {
            p(format!("level.points.{name}"), format!("must be at most {MAX_POINTS}"));
        }
    }
    let maps = level
        .tiers
        .iter()
        .map(|(k, v)| (format!("level.tiers.{k}"), *v))
        .chain(level.categories.iter().map(|(k, v)| (format!("level.categories.{k}"), *v)))
        .chain(level.priorities.iter().map(|(k, v)| (format!("level.priorities.{k}"), *v)));
    for (key, v) in maps {
        if v > MAX_POINTS {
            p(key, format!("must be at most {MAX_POINTS}"));
        }
    }
    let pr = |x| level.priority_points(x);
    if !(pr(Priority::Normal) <= pr(Priority::High) && pr(Priority::High) <= pr(Priority::Critical)) {
        p(
            "level.priorities".into(),
            "must not fall from normal to high to critical: a higher priority never weighs less".into(),
        );
    }
}
