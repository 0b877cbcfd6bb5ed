//! Judgement (研判) of collected items: relevance by watch rules, key-content
//! categories, tone and level.
//!
//! # Design
//!
//! - **Watch rules** ([`rules`]) are a small boolean language (AND / OR / NOT,
//!   juxtaposition, "phrases", `NEAR/n`, parentheses) with a real tokenizer and a
//!   recursive-descent parser, so that an administrator gets "at character 7: …" rather
//!   than a silently wrong rule. Matching is plain substring search (`str::contains`,
//!   which is SIMD-accelerated) over text normalised once per item in a [`rules::Doc`];
//!   we chose this over an inverted index or a regex automaton because a county's rule
//!   set is tens of rules, an item is a few thousand characters, and substring search is
//!   the one approach whose behaviour on Chinese (no spaces, no reliable segmentation) is
//!   obvious to the person writing the rule. A [`RuleSet`] shares the answer for each
//!   distinct term across all its rules, so 上犹 in fifty rules is searched for once.
//!   The token index that `NEAR` needs is built lazily, only when a NEAR is evaluated.
//! - **Segmentation is deliberately not used** for matching: a jieba split of
//!   上犹县财政局 into 上犹县 / 财政局 would make the rule 财政 miss. Tokens (for NEAR
//!   distances) are one CJK character or one run of letters/digits, the same everywhere.
//! - **Tone** ([`tone`]) comes from a trained model ([`tone_model`]: a 3-class
//!   logistic regression over hashed character 1–4-grams, trained by L-BFGS,
//!   deterministic) shipped in `models/tone.bin` and embedded in the binary; offices
//!   retrain it on their own corrections with `yuqing train tone`. The earlier lexicon
//!   scorer (negators, degree words, a heavier title) stays as
//!   [`tone::lexicon_score`] for explanation and fallback.
//! - **Level** ([`level`]) is a points table (`[level]` in the configuration) with a
//!   Chinese reason line naming every factor that scored, so a person can check it by hand.
//! - **Categories** come from the rules that matched (`category = …`) and from the
//!   category rule sets ([`categories`]): built-in keyword queries in `categories.txt`,
//!   written in the same rule language, which `[categories.<id>]` extends, replaces or
//!   turns off. By default the sets fill in when no matched rule names a category;
//!   `[categories] combine = "union"` gives an item both.
//! - A [`Judge`] is the whole configured judgement, compiled once: rules and category
//!   sets share one term table, so a term used by a rule and a category is searched for
//!   once per item.
//!
//! Nothing here panics on input: queries, titles and contents are hostile text (a
//! fuzz-style test feeds garbage to the parser and matcher).

pub mod categories;
pub mod events;
pub mod level;
pub mod rules;
mod text;
pub mod tone;
pub mod tone_model;

use categories::{CategoryHit, CategorySet};
use rules::{Doc, Query, RuleError, Term};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use tone_model::ToneModel;
use yuqing_core::config::{CategoriesConfig, CombineCategories, Config, LevelConfig, Priority, RuleConfig};
use yuqing_core::{Category, Level, Tier, Tone};

/// A rule that matched an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    pub name: String,
    pub category: Option<Category>,
    pub priority: Priority,
}

/// Distinct terms over several queries, so that each is searched for once per item.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    index: HashMap<Term, usize>,
    pub(crate) terms: Vec<Term>,
}

impl Interner {
    /// The table index of each of the query's terms.
    pub(crate) fn add(&mut self, query: &Query) -> Vec<usize> {
        query
            .terms
            .iter()
            .map(|t| {
                *self.index.entry(t.clone()).or_insert_with(|| {
                    self.terms.push(t.clone());
                    self.terms.len() - 1
                })
            })
            .collect()
    }
}

/// A query whose term i is the shared table's term `global[i]`.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) query: Query,
    global: Vec<usize>,
}

impl Compiled {
    pub(crate) fn new(query: Query, interner: &mut Interner) -> Compiled {
        let global = interner.add(&query);
        Compiled { query, global }
    }

    /// Evaluates with the answer for each distinct term cached in `cache` (one slot per
    /// term of `terms`).
    pub(crate) fn eval(&self, doc: &Doc, terms: &[Term], cache: &mut [Option<bool>]) -> bool {
        self.query.eval_with(doc, &mut |i| {
            let g = self.global[i];
            *cache[g].get_or_insert_with(|| terms[g].present_in(doc.normalized()))
        })
    }
}

#[derive(Debug, Clone)]
struct CompiledRule {
    name: String,
    category: Option<Category>,
    priority: Priority,
    text: String,
    compiled: Compiled,
}

/// The enabled watch rules, compiled once and matched against every item.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    /// Distinct terms over all rules (and, inside a [`Judge`], the category sets).
    terms: Vec<Term>,
}

impl RuleSet {
    /// Compiles the enabled rules; disabled rules are skipped (not even parsed). Every
    /// broken rule is reported, not just the first.
    pub fn compile(rules: &[RuleConfig]) -> Result<RuleSet, Vec<(String, RuleError)>> {
        let mut interner = Interner::default();
        let (mut set, errors) = RuleSet::compile_into(rules, &mut interner);
        set.terms = interner.terms;
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Compiles into a shared term table; the caller sets `terms` when it is complete.
    fn compile_into(rules: &[RuleConfig], interner: &mut Interner) -> (RuleSet, Vec<(String, RuleError)>) {
        let mut set = RuleSet::default();
        let mut errors = Vec::new();
        for r in rules.iter().filter(|r| r.enabled) {
            match Query::parse(&r.query) {
                Ok(query) => set.rules.push(CompiledRule {
                    name: r.name.clone(),
                    category: r.category,
                    priority: r.priority,
                    text: r.query.clone(),
                    compiled: Compiled::new(query, interner),
                }),
                Err(e) => errors.push((r.name.clone(), e)),
            }
        }
        (set, errors)
    }

    /// The rules the item matches, in configuration order.
    pub fn matching(&self, doc: &Doc) -> Vec<MatchedRule> {
        let mut cache: Vec<Option<bool>> = vec![None; self.terms.len()];
        self.matching_cached(doc, &mut cache)
    }

    fn matching_cached(&self, doc: &Doc, cache: &mut [Option<bool>]) -> Vec<MatchedRule> {
        self.rules
            .iter()
            .filter(|r| r.compiled.eval(doc, &self.terms, cache))
            .map(|r| MatchedRule { name: r.name.clone(), category: r.category, priority: r.priority })
            .collect()
    }

    /// The enabled rules, in configuration order: (name, query as written, category, priority).
    pub fn describe(&self) -> Vec<(&str, &str, Option<Category>, Priority)> {
        self.rules.iter().map(|r| (r.name.as_str(), r.text.as_str(), r.category, r.priority)).collect()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The judgement of one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// At least one watch rule matched.
    pub relevant: bool,
    /// Names of the matched rules, in configuration order.
    pub matched_rules: Vec<String>,
    /// Sorted, without repeats.
    pub categories: Vec<Category>,
    pub tone: Tone,
    pub tone_score: f32,
    pub level: Level,
    pub level_reason: String,
}

/// The whole configured judgement: watch rules, category sets and level table, compiled
/// once (at start or on reload) and used for every item.
#[derive(Debug, Clone)]
pub struct Judge {
    /// Its term table holds the category sets' terms too.
    rules: RuleSet,
    categories: CategorySet,
    level: LevelConfig,
    /// The tone model of `[judge] tone_model`; `None`: the built-in one ([`tone::judge`]).
    tone: Option<std::sync::Arc<ToneModel>>,
}

/// A text tried against the judge (the rules page): the judgement and every category
/// query that matched, whether or not the combination used it.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub judgement: Judgement,
    pub matched: Vec<MatchedRule>,
    pub category_hits: Vec<CategoryHit>,
}

impl Judge {
    /// Compiles a configuration's rules, category sets and level table. Every broken
    /// query is reported, labelled like check-config does (`rules[2] (name)`,
    /// `categories.livelihood`).
    pub fn compile(config: &Config) -> Result<Judge, Vec<(String, RuleError)>> {
        Judge::new(&config.rules, &config.categories, &config.level)
    }

    pub fn new(
        rules: &[RuleConfig],
        categories: &CategoriesConfig,
        level: &LevelConfig,
    ) -> Result<Judge, Vec<(String, RuleError)>> {
        let mut interner = Interner::default();
        let (mut set, mut errors) = RuleSet::compile_into(rules, &mut interner);
        for (name, _) in &mut errors {
            if let Some(i) = rules.iter().position(|r| r.name == *name) {
                *name = format!("rules[{i}] ({name})");
            }
        }
        let (cats, cat_errors) = CategorySet::compile_into(categories, &mut interner);
        errors.extend(cat_errors);
        set.terms = interner.terms;
        if errors.is_empty() {
            Ok(Judge { rules: set, categories: cats, level: level.clone(), tone: None })
        } else {
            Err(errors)
        }
    }

    /// No watch rules, the built-in category sets and the default level table: what
    /// `yuqing classify` uses without a configuration.
    pub fn builtin() -> &'static Judge {
        static JUDGE: OnceLock<Judge> = OnceLock::new();
        JUDGE.get_or_init(|| {
            let mut interner = Interner::default();
            let (categories, _) = CategorySet::compile_into(&CategoriesConfig::default(), &mut interner);
            let rules = RuleSet { rules: Vec::new(), terms: interner.terms };
            Judge { rules, categories, level: LevelConfig::default(), tone: None }
        })
    }

    /// [`Judge::compile`], and the tone model the configuration names (`[judge]
    /// tone_model`, read once per process): what `serve`, `classify` and the rules page
    /// judge with. The error is one line per problem, labelled like check-config's.
    pub fn load(config: &Config) -> Result<Judge, Vec<String>> {
        let mut problems = Vec::new();
        let judge = Judge::compile(config)
            .map_err(|errors| problems.extend(errors.iter().map(|(key, e)| format!("{key}: {e}"))))
            .ok();
        let tone = match &config.judge.tone_model {
            None => None,
            Some(path) => match ToneModel::cached(path) {
                Ok(m) => Some(m),
                Err(e) => {
                    problems.push(format!("judge.tone_model: {e}"));
                    None
                }
            },
        };
        match judge {
            Some(j) if problems.is_empty() => Ok(Judge { tone, ..j }),
            _ => Err(problems),
        }
    }

    /// The same judgement with another tone model.
    pub fn with_tone_model(self, model: std::sync::Arc<ToneModel>) -> Judge {
        Judge { tone: Some(model), ..self }
    }

    /// Whether the tone comes from a configured model rather than the built-in one.
    pub fn has_own_tone_model(&self) -> bool {
        self.tone.is_some()
    }

    /// The tone and tone score of a text by this judge's model.
    pub fn tone(&self, title: &str, content: &str) -> (Tone, f32) {
        match &self.tone {
            Some(m) => tone::judge_with(m, title, content),
            None => tone::judge(title, content),
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn category_sets(&self) -> &CategorySet {
        &self.categories
    }

    pub fn level_table(&self) -> &LevelConfig {
        &self.level
    }

    /// Each enabled rule's priority by name (for the store, which raises levels by spread).
    pub fn rule_priorities(&self) -> HashMap<String, Priority> {
        self.rules.rules.iter().map(|r| (r.name.clone(), r.priority)).collect()
    }

    /// Judges one item from a source of the given tier and weight (see [`judge`]).
    pub fn judge(&self, title: &str, content: &str, tier: Tier, weight: f64) -> Judgement {
        let doc = Doc::new(title, content);
        let mut cache: Vec<Option<bool>> = vec![None; self.rules.terms.len()];
        let matched = self.rules.matching_cached(&doc, &mut cache);
        let (tone, tone_score) = self.tone(title, content);
        decide(matched, tone, tone_score, tier, weight, self.categories.combine(), &self.level, || {
            self.categories.categories(&doc, &self.rules.terms, &mut cache)
        })
    }

    /// For `yuqing classify` (no rules, no source): categories from the category sets,
    /// tone from the text, level from tone and categories with tier Other (and its
    /// default weight). `relevant` is true when any category was found. A tab in the
    /// line separates a title from the text ([`split_title`]).
    pub fn classify(&self, text: &str) -> Judgement {
        let (title, text) = split_title(text);
        let doc = Doc::new(title, text);
        let mut cache: Vec<Option<bool>> = vec![None; self.rules.terms.len()];
        let categories = self.categories.categories(&doc, &self.rules.terms, &mut cache);
        let (tone, tone_score) = self.tone(title, text);
        classify_judgement(categories, tone, tone_score, &self.level)
    }

    /// A text as an administrator tries it: the judgement as for a collected item, the
    /// matched rules with their priorities, and every category query that matched.
    pub fn trial(&self, title: &str, content: &str, tier: Tier, weight: f64) -> Trial {
        let doc = Doc::new(title, content);
        let mut cache: Vec<Option<bool>> = vec![None; self.rules.terms.len()];
        let matched = self.rules.matching_cached(&doc, &mut cache);
        let category_hits = self.categories.hits(&doc, &self.rules.terms, &mut cache);
        let judgement = self.judge(title, content, tier, weight);
        Trial { judgement, matched, category_hits }
    }
}

/// Categories, level and reason from the matched rules and the tone.
#[allow(clippy::too_many_arguments)]
fn decide(
    matched: Vec<MatchedRule>,
    tone: Tone,
    tone_score: f32,
    tier: Tier,
    weight: f64,
    combine: CombineCategories,
    table: &LevelConfig,
    from_sets: impl FnOnce() -> Vec<Category>,
) -> Judgement {
    let relevant = !matched.is_empty();
    let mut categories: Vec<Category> = matched.iter().filter_map(|m| m.category).collect();
    if relevant && (categories.is_empty() || combine == CombineCategories::Union) {
        categories.extend(from_sets());
    }
    categories.sort();
    categories.dedup();
    let (level, level_reason) = if relevant {
        // The highest priority, and the first rule (in configuration order) that has it.
        let top = matched.iter().fold(None::<&MatchedRule>, |best, m| match best {
            Some(b) if b.priority >= m.priority => Some(b),
            _ => Some(m),
        });
        level::level_with(
            &level::LevelInput {
                tier,
                weight,
                tone,
                tone_score,
                categories: &categories,
                matched_rules: matched.len(),
                duplicates: 0,
                priority: top.map(|m| (m.priority, m.name.as_str())),
            },
            table,
        )
    } else {
        (Level::Ordinary, "未命中监测规则".to_string())
    };
    Judgement {
        relevant,
        matched_rules: matched.into_iter().map(|m| m.name).collect(),
        categories,
        tone,
        tone_score,
        level,
        level_reason,
    }
}

/// A `yuqing classify` line as title and text: a line with a tab is a title, the tab,
/// then the text (as `cut -f` of a TSV gives it); a line without one is all text.
/// Titles weigh differently from bodies (a headline names the story), so the judge is
/// told which is which when the line says so.
pub fn split_title(line: &str) -> (&str, &str) {
    match line.split_once('\t') {
        Some((title, text)) if !title.trim().is_empty() && !text.trim().is_empty() => (title.trim(), text),
        _ => ("", line),
    }
}

fn classify_judgement(categories: Vec<Category>, tone: Tone, tone_score: f32, table: &LevelConfig) -> Judgement {
    let (level, level_reason) = level::level_with(
        &level::LevelInput {
            tier: Tier::Other,
            weight: Tier::Other.default_weight(),
            tone,
            tone_score,
            categories: &categories,
            matched_rules: 0,
            duplicates: 0,
            priority: None,
        },
        table,
    );
    Judgement {
        relevant: !categories.is_empty(),
        matched_rules: Vec::new(),
        categories,
        tone,
        tone_score,
        level,
        level_reason,
    }
}

/// Judges one item from a source of the given tier and weight, with the built-in
/// category sets and the default level table (a [`Judge`] uses the configured ones).
///
/// An item no rule matches is not relevant and stays ordinary whatever its tone: it is
/// kept for search but must not raise alerts about matters outside the office's work.
pub fn judge(title: &str, content: &str, tier: Tier, weight: f64, rules: &RuleSet) -> Judgement {
    let doc = Doc::new(title, content);
    let matched = rules.matching(&doc);
    let (tone, tone_score) = tone::judge(title, content);
    let builtin = Judge::builtin();
    decide(matched, tone, tone_score, tier, weight, CombineCategories::FillIn, &builtin.level, || {
        let mut cache: Vec<Option<bool>> = vec![None; builtin.rules.terms.len()];
        builtin.categories.categories(&doc, &builtin.rules.terms, &mut cache)
    })
}

/// `yuqing classify` without a configuration: [`Judge::classify`] of [`Judge::builtin`].
pub fn classify_text(text: &str) -> Judgement {
    Judge::builtin().classify(text)
}

/// Checks a watch-rule query for configuration validation: the error is the
/// [`RuleError`]'s sentence ("at character N: …").
pub fn check_query(q: &str) -> Result<(), String> {
    Query::parse(q).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tab_separates_the_title() {
        assert_eq!(split_title("标题\t正文内容"), ("标题", "正文内容"));
        assert_eq!(split_title("没有制表符的一行"), ("", "没有制表符的一行"));
        // An empty side is no title: the whole line is the text.
        assert_eq!(split_title("\t正文"), ("", "\t正文"));
        assert_eq!(split_title("标题\t "), ("", "标题\t "));
        // Only the first tab separates.
        assert_eq!(split_title("标题\t正文\t更多"), ("标题", "正文\t更多"));
        let j = classify_text("县财政局拖欠工资\t群众多次投诉无果。");
        let k = classify_text("县财政局拖欠工资 群众多次投诉无果。");
        assert_eq!(j.tone, Tone::Negative);
        assert_eq!(k.tone, Tone::Negative);
    }
}
