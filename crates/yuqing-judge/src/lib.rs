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
//! - **Level** ([`level`]) is a points table with a Chinese reason line naming every
//!   factor that scored, so a person can check it by hand.
//! - **Categories** come from the rules that matched (`category = …`); when none of them
//!   names one, and for `yuqing classify`, from built-in keyword queries in
//!   `categories.txt`, written in the same rule language.
//!
//! Nothing here panics on input: queries, titles and contents are hostile text (a
//! fuzz-style test feeds garbage to the parser and matcher).

pub mod events;
pub mod level;
pub mod rules;
mod text;
pub mod tone;
pub mod tone_model;

use rules::{Doc, Query, RuleError, Term};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use yuqing_core::config::RuleConfig;
use yuqing_core::{Category, Level, Tier, Tone};

/// A rule that matched an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    pub name: String,
    pub category: Option<Category>,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    name: String,
    category: Option<Category>,
    query: Query,
    /// The query's term i is the set's term `global[i]`.
    global: Vec<usize>,
}

/// The enabled watch rules, compiled once and matched against every item.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    /// Distinct terms over all rules.
    terms: Vec<Term>,
}

impl RuleSet {
    /// Compiles the enabled rules; disabled rules are skipped (not even parsed). Every
    /// broken rule is reported, not just the first.
    pub fn compile(rules: &[RuleConfig]) -> Result<RuleSet, Vec<(String, RuleError)>> {
        let mut set = RuleSet::default();
        let mut index: HashMap<Term, usize> = HashMap::new();
        let mut errors = Vec::new();
        for r in rules.iter().filter(|r| r.enabled) {
            match Query::parse(&r.query) {
                Ok(query) => {
                    let global = query
                        .terms
                        .iter()
                        .map(|t| {
                            *index.entry(t.clone()).or_insert_with(|| {
                                set.terms.push(t.clone());
                                set.terms.len() - 1
                            })
                        })
                        .collect();
                    set.rules.push(CompiledRule { name: r.name.clone(), category: r.category, query, global });
                }
                Err(e) => errors.push((r.name.clone(), e)),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// The rules the item matches, in configuration order.
    pub fn matching(&self, doc: &Doc) -> Vec<MatchedRule> {
        let mut cache: Vec<Option<bool>> = vec![None; self.terms.len()];
        let mut out = Vec::new();
        for r in &self.rules {
            let hit = r.query.eval_with(doc, &mut |i| {
                let g = r.global[i];
                *cache[g].get_or_insert_with(|| self.terms[g].present_in(doc.normalized()))
            });
            if hit {
                out.push(MatchedRule { name: r.name.clone(), category: r.category });
            }
        }
        out
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

/// Judges one item from a source of the given tier and weight.
///
/// An item no rule matches is not relevant and stays ordinary whatever its tone: it is
/// kept for search but must not raise alerts about matters outside the office's work.
pub fn judge(title: &str, content: &str, tier: Tier, weight: f64, rules: &RuleSet) -> Judgement {
    let doc = Doc::new(title, content);
    let matched = rules.matching(&doc);
    let relevant = !matched.is_empty();
    let mut categories: Vec<Category> = matched.iter().filter_map(|m| m.category).collect();
    if relevant && categories.is_empty() {
        categories = builtin_categories(&doc);
    }
    categories.sort();
    categories.dedup();
    let (tone, tone_score) = tone::judge(title, content);
    let (level, level_reason) = if relevant {
        level::level(&level::LevelInput {
            tier,
            weight,
            tone,
            tone_score,
            categories: &categories,
            matched_rules: matched.len(),
            duplicates: 0,
        })
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

/// For `yuqing classify` (no rules, no source): categories from the built-in keyword
/// queries, tone from the text, level from tone and categories with tier Other (and
/// its default weight). `relevant` is true when any category was found. A tab in the
/// line separates a title from the text ([`split_title`]).
pub fn classify_text(text: &str) -> Judgement {
    let (title, text) = split_title(text);
    let doc = Doc::new(title, text);
    let categories = builtin_categories(&doc);
    let (tone, tone_score) = tone::judge(title, text);
    let (level, level_reason) = level::level(&level::LevelInput {
        tier: Tier::Other,
        weight: Tier::Other.default_weight(),
        tone,
        tone_score,
        categories: &categories,
        matched_rules: 0,
        duplicates: 0,
    });
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

/// Checks a watch-rule query for configuration validation: the error is the
/// [`RuleError`]'s sentence ("at character N: …").
pub fn check_query(q: &str) -> Result<(), String> {
    Query::parse(q).map(|_| ()).map_err(|e| e.to_string())
}

const BUILTIN_CATEGORIES: &str = include_str!("categories.txt");

/// Parses `categories.txt`. Lines that do not parse are returned as errors; at run time
/// they are skipped (a test keeps the file clean), so a typo loses one category
/// rather than taking the judge down.
fn parse_builtin(src: &str) -> (Vec<(Category, Query)>, Vec<String>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line.split_once(':').ok_or_else(|| "no `:`".to_string()).and_then(|(id, q)| {
            let cat = Category::from_id(id.trim()).ok_or_else(|| format!("unknown category `{id}`"))?;
            let query = Query::parse(q).map_err(|e| e.to_string())?;
            Ok((cat, query))
        });
        match parsed {
            Ok(p) => out.push(p),
            Err(e) => bad.push(format!("categories.txt line {}: {e}", n + 1)),
        }
    }
    (out, bad)
}

fn builtin() -> &'static [(Category, Query)] {
    static CATS: OnceLock<Vec<(Category, Query)>> = OnceLock::new();
    CATS.get_or_init(|| parse_builtin(BUILTIN_CATEGORIES).0)
}

/// Categories whose built-in query matches, sorted.
fn builtin_categories(doc: &Doc) -> Vec<Category> {
    let mut out: Vec<Category> = builtin().iter().filter(|(_, q)| q.matches(doc)).map(|(c, _)| *c).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_categories_all_parse_and_cover_every_category() {
        let (cats, bad) = parse_builtin(BUILTIN_CATEGORIES);
        assert!(bad.is_empty(), "{bad:?}");
        for c in Category::ALL {
            assert!(cats.iter().any(|(k, _)| k == c), "no built-in query for {c}");
        }
    }

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
