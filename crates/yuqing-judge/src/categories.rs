//! Key-content category rule sets (重点内容类别): for each of the six categories, queries
//! in the watch-rule language; an item is in a category when any of its queries match,
//! and may be in several.
//!
//! The built-in sets are `categories.txt` (one `ID: QUERY` line each, several lines per
//! category allowed). `[categories.<id>]` in the configuration adds queries to a set
//! (`mode = "extend"`, the default), replaces it (`mode = "replace"`) or turns it off
//! (`enabled = false`); a category not configured keeps its built-in set.

use crate::rules::{Doc, Query, RuleError, Term};
use crate::{Compiled, Interner};
use serde::Serialize;
use std::sync::OnceLock;
use yuqing_core::config::{CategoriesConfig, CategoryMode, CombineCategories};
use yuqing_core::Category;

const BUILTIN_CATEGORIES: &str = include_str!("categories.txt");

/// Parses `categories.txt`: (category, query as written). Lines that do not parse are
/// returned as errors; at run time they are skipped (a test keeps the file clean), so a
/// typo loses one query rather than taking the judge down.
fn parse_builtin(src: &str) -> (Vec<(Category, &str, Query)>, Vec<String>) {
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
            Ok((cat, q.trim(), query))
        });
        match parsed {
            Ok(p) => out.push(p),
            Err(e) => bad.push(format!("categories.txt line {}: {e}", n + 1)),
        }
    }
    (out, bad)
}

fn builtin() -> &'static [(Category, &'static str, Query)] {
    static CATS: OnceLock<Vec<(Category, &'static str, Query)>> = OnceLock::new();
    CATS.get_or_init(|| parse_builtin(BUILTIN_CATEGORIES).0)
}

/// The built-in queries, (category, query as written), in file order.
pub fn builtin_queries() -> Vec<(Category, &'static str)> {
    builtin().iter().map(|(c, q, _)| (*c, *q)).collect()
}

#[derive(Debug, Clone)]
struct Entry {
    category: Category,
    text: String,
    builtin: bool,
    compiled: Compiled,
}

/// A category query that matched a text (the rules page's "try a text").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryHit {
    pub category: Category,
    pub query: String,
    pub builtin: bool,
}

/// One category's set as in effect, for display.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryView {
    pub category: Category,
    pub enabled: bool,
    /// `None`: the built-in set, not configured.
    pub mode: Option<CategoryMode>,
    /// (query as written, built-in) in evaluation order.
    pub queries: Vec<(String, bool)>,
}

/// The category sets in effect, compiled against a shared term table.
#[derive(Debug, Clone)]
pub struct CategorySet {
    /// Grouped by category, in `Category::ALL` order.
    entries: Vec<Entry>,
    combine: CombineCategories,
    views: Vec<(Category, bool, Option<CategoryMode>)>,
}

impl CategorySet {
    /// Compiles the sets; a broken configured query is reported as
    /// (`categories.<id>`, error) with its position, like a rule's.
    pub(crate) fn compile_into(
        config: &CategoriesConfig,
        interner: &mut Interner,
    ) -> (CategorySet, Vec<(String, RuleError)>) {
        let mut set = CategorySet { entries: Vec::new(), combine: config.combine, views: Vec::new() };
        let mut errors = Vec::new();
        for &c in Category::ALL {
            let configured = config.sets.get(&c);
            let enabled = configured.is_none_or(|s| s.enabled);
            set.views.push((c, enabled, configured.map(|s| s.mode)));
            if !enabled {
                continue;
            }
            if configured.is_none_or(|s| s.mode == CategoryMode::Extend) {
                for (_, text, query) in builtin().iter().filter(|(k, _, _)| *k == c) {
                    let compiled = Compiled::new(query.clone(), interner);
                    set.entries.push(Entry { category: c, text: (*text).to_string(), builtin: true, compiled });
                }
            }
            for (i, q) in configured.into_iter().flat_map(|s| s.own_queries()).enumerate() {
                match Query::parse(q) {
                    Ok(query) => {
                        let compiled = Compiled::new(query, interner);
                        set.entries.push(Entry { category: c, text: q.to_string(), builtin: false, compiled });
                    }
                    Err(e) => errors.push((format!("categories.{c} (query {})", i + 1), e)),
                }
            }
        }
        (set, errors)
    }

    pub fn combine(&self) -> CombineCategories {
        self.combine
    }

    /// The categories whose queries match, sorted (a category's later queries are not
    /// evaluated once one matched).
    pub(crate) fn categories(&self, doc: &Doc, terms: &[Term], cache: &mut [Option<bool>]) -> Vec<Category> {
        let mut out: Vec<Category> = Vec::new();
        for e in &self.entries {
            if out.last() == Some(&e.category) {
                continue;
            }
            if e.compiled.eval(doc, terms, cache) {
                out.push(e.category);
            }
        }
        out
    }

    /// Every query that matches.
    pub(crate) fn hits(&self, doc: &Doc, terms: &[Term], cache: &mut [Option<bool>]) -> Vec<CategoryHit> {
        self.entries
            .iter()
            .filter(|e| e.compiled.eval(doc, terms, cache))
            .map(|e| CategoryHit { category: e.category, query: e.text.clone(), builtin: e.builtin })
            .collect()
    }

    /// The six sets as in effect, in `Category::ALL` order.
    pub fn describe(&self) -> Vec<CategoryView> {
        self.views
            .iter()
            .map(|&(category, enabled, mode)| CategoryView {
                category,
                enabled,
                mode,
                queries: self
                    .entries
                    .iter()
                    .filter(|e| e.category == category)
                    .map(|e| (e.text.clone(), e.builtin))
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_categories_all_parse_and_cover_every_category() {
        let (cats, bad) = parse_builtin(BUILTIN_CATEGORIES);
        assert!(bad.is_empty(), "{bad:?}");
        for c in Category::ALL {
            assert!(cats.iter().any(|(k, _, _)| k == c), "no built-in query for {c}");
        }
    }
}
