//! Measuring main-text extraction against hand-labelled pages.
//!
//! The metric is a bag-of-tokens F1 per page, averaged over pages: every CJK
//! character is one token, every run of ASCII letters and digits is one token
//! (lower-cased), everything else (punctuation, blanks, other scripts) is dropped.
//! Counting characters rather than jieba words keeps the metric independent of the
//! segmenter's dictionary and makes a missing paragraph cost what it weighs; a bag
//! rather than a sequence forgives a different paragraph order, which matters less
//! to the duty office than missing or stray text.
//!
//! The loader reads a data set laid out as the magic-html benchmark is: an
//! `index.tsv` (`subset id url contains_chinese remark`, with a header line), and
//! per subset a `base.json` (`{id: {"url", "content"}}`) and `htmls/ID.html.gz`
//! (gzip) or `htmls/ID.html`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{extract, ExtractOptions};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid JSON of the form {{id: {{\"content\": …}}}}: {reason}")]
    Json { path: PathBuf, reason: String },
    #[error("{path} line {line}: expected at least 4 tab-separated columns (subset id url contains_chinese)")]
    Index { path: PathBuf, line: usize },
    #[error("page {id} of subset {subset} has no expected content in its base.json")]
    MissingTruth { subset: String, id: String },
}

/// True for the characters the metric counts one by one: CJK unified ideographs
/// (with extension A) and compatibility ideographs.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// The metric's tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c.to_ascii_lowercase());
            continue;
        }
        if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
        if is_cjk(c) {
            out.push(c.to_string());
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

fn bag(text: &str) -> HashMap<String, u32> {
    let mut m = HashMap::new();
    for t in tokens(text) {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

/// Precision, recall and F1 of one page.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Bag-of-tokens precision, recall and F1 of `predicted` against `expected`. Two
/// texts without tokens agree perfectly; one empty side scores zero.
pub fn score(predicted: &str, expected: &str) -> Scores {
    let p = bag(predicted);
    let g = bag(expected);
    let p_total: u32 = p.values().sum();
    let g_total: u32 = g.values().sum();
    if p_total == 0 && g_total == 0 {
        return Scores { precision: 1.0, recall: 1.0, f1: 1.0 };
    }
    let overlap: u32 = p.iter().map(|(t, &n)| n.min(g.get(t).copied().unwrap_or(0))).sum();
    let precision = f64::from(overlap) / f64::from(p_total.max(1));
    let recall = f64::from(overlap) / f64::from(g_total.max(1));
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Scores { precision, recall, f1 }
}

/// One labelled page.
#[derive(Debug, Clone)]
pub struct Sample {
    pub subset: String,
    pub id: String,
    pub url: String,
    pub contains_chinese: bool,
    pub remark: String,
    /// The expected main text.
    pub expected: String,
    /// The page as stored (already decompressed).
    pub html: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Keep only the pages whose index row says `contains_chinese == yes`.
    pub chinese_only: bool,
    /// Keep only these subsets (all when empty).
    pub subsets: Vec<String>,
}

/// Loads every page listed in `dir/index.tsv`, in index order.
pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Vec<Sample>, EvalError> {
    let index_path = dir.join("index.tsv");
    let index =
        std::fs::read_to_string(&index_path).map_err(|source| EvalError::Io { path: index_path.clone(), source })?;
    let mut truths: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut out = Vec::new();
    for (n, line) in index.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            return Err(EvalError::Index { path: index_path, line: n + 1 });
        }
        let (subset, id, url) = (cols[0], cols[1], cols[2]);
        let contains_chinese = cols[3].eq_ignore_ascii_case("yes");
        if opts.chinese_only && !contains_chinese {
            continue;
        }
        if !opts.subsets.is_empty() && !opts.subsets.iter().any(|s| s == subset) {
            continue;
        }
        if !truths.contains_key(subset) {
            truths.insert(subset.to_string(), load_truth(&dir.join(subset).join("base.json"))?);
        }
        let expected = truths
            .get(subset)
            .and_then(|t| t.get(id))
            .cloned()
            .ok_or_else(|| EvalError::MissingTruth { subset: subset.to_string(), id: id.to_string() })?;
        let html = load_page(&dir.join(subset).join("htmls"), id)?;
        out.push(Sample {
            subset: subset.to_string(),
            id: id.to_string(),
            url: url.to_string(),
            contains_chinese,
            remark: cols.get(4).copied().unwrap_or("").to_string(),
            expected,
            html,
        });
    }
    Ok(out)
}

fn load_truth(path: &Path) -> Result<HashMap<String, String>, EvalError> {
    let raw = std::fs::read(path).map_err(|source| EvalError::Io { path: path.to_path_buf(), source })?;
    let json: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| EvalError::Json { path: path.to_path_buf(), reason: e.to_string() })?;
    let obj = json
        .as_object()
        .ok_or_else(|| EvalError::Json { path: path.to_path_buf(), reason: "not an object".to_string() })?;
    Ok(obj
        .iter()
        .map(|(id, v)| (id.clone(), v.get("content").and_then(|c| c.as_str()).unwrap_or("").to_string()))
        .collect())
}

fn load_page(htmls: &Path, id: &str) -> Result<Vec<u8>, EvalError> {
    let gz = htmls.join(format!("{id}.html.gz"));
    if gz.exists() {
        let file = std::fs::File::open(&gz).map_err(|source| EvalError::Io { path: gz.clone(), source })?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .map_err(|source| EvalError::Io { path: gz.clone(), source })?;
        return Ok(bytes);
    }
    let plain = htmls.join(format!("{id}.html"));
    std::fs::read(&plain).map_err(|source| EvalError::Io { path: plain, source })
}

/// One page's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageScore {
    pub subset: String,
    pub id: String,
    pub url: String,
    pub scores: Scores,
    /// `article` or `list`, or `error` when extraction failed.
    pub kind: String,
    pub title: String,
}

/// Means over a set of pages.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Summary {
    pub pages: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Share of pages with F1 ≥ 0.9.
    pub good_share: f64,
}

impl Summary {
    pub fn of<'a>(pages: impl IntoIterator<Item = &'a PageScore>) -> Summary {
        let mut s = Summary::default();
        let mut good = 0usize;
        for p in pages {
            s.pages += 1;
            s.precision += p.scores.precision;
            s.recall += p.scores.recall;
            s.f1 += p.scores.f1;
            good += usize::from(p.scores.f1 >= 0.9);
        }
        if s.pages > 0 {
            let n = s.pages as f64;
            s.precision /= n;
            s.recall /= n;
            s.f1 /= n;
            s.good_share = good as f64 / n;
        }
        s
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub pages: Vec<PageScore>,
    /// Over all pages.
    pub summary: Summary,
    /// Per subset, in first-seen order.
    pub subsets: Vec<(String, Summary)>,
}

impl Report {
    /// The `n` pages with the lowest F1, worst first.
    pub fn worst(&self, n: usize) -> Vec<&PageScore> {
        let mut v: Vec<&PageScore> = self.pages.iter().collect();
        v.sort_by(|a, b| a.scores.f1.total_cmp(&b.scores.f1));
        v.truncate(n);
        v
    }
}

/// Extracts every sample with `opts` (the page's URL from the index is set on a copy
/// of the options) and scores its content. A failed extraction scores as empty text.
pub fn evaluate(samples: &[Sample], opts: &ExtractOptions) -> Report {
    let mut pages = Vec::with_capacity(samples.len());
    for s in samples {
        let mut o = opts.clone();
        o.url = url::Url::parse(&s.url).ok();
        let (content, kind, title) = match extract(&s.html, None, &o) {
            Ok(a) => (a.content, if a.kind == crate::PageKind::List { "list" } else { "article" }, a.title),
            Err(_) => (String::new(), "error", String::new()),
        };
        pages.push(PageScore {
            subset: s.subset.clone(),
            id: s.id.clone(),
            url: s.url.clone(),
            scores: score(&content, &s.expected),
            kind: kind.to_string(),
            title,
        });
    }
    let summary = Summary::of(&pages);
    let mut names: Vec<String> = Vec::new();
    for p in &pages {
        if !names.contains(&p.subset) {
            names.push(p.subset.clone());
        }
    }
    let subsets = names.into_iter().map(|n| (n.clone(), Summary::of(pages.iter().filter(|p| p.subset == n)))).collect();
    Report { pages, summary, subsets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_cjk_and_ascii_runs() {
        assert_eq!(
            tokens("县财政局2026年发放PPP补贴，Hello-World！"),
            vec!["县", "财", "政", "局", "2026", "年", "发", "放", "ppp", "补", "贴", "hello", "world"]
        );
        assert!(tokens("，。！ —— …").is_empty());
        // Kana and Hangul are not counted; compatibility ideographs are.
        assert_eq!(tokens("ひらがな한글\u{F900}"), vec!["\u{F900}"]);
    }

    #[test]
    fn identical_and_empty_texts() {
        assert_eq!(score("补贴发放", "补贴，发放。").f1, 1.0);
        assert_eq!(score("", "").f1, 1.0);
        assert_eq!(score("", "补贴").f1, 0.0);
        assert_eq!(score("补贴", "").f1, 0.0);
    }

    #[test]
    fn partial_overlap_counts_multiplicity() {
        // predicted 4 tokens (补 贴 补 贴), expected 2 (补 贴): P 0.5, R 1.
        let s = score("补贴补贴", "补贴");
        assert!((s.precision - 0.5).abs() < 1e-9);
        assert!((s.recall - 1.0).abs() < 1e-9);
        assert!((s.f1 - 2.0 / 3.0).abs() < 1e-9);
        // Case does not matter for ASCII runs.
        assert_eq!(score("GDP grew", "gdp GREW").f1, 1.0);
    }

    #[test]
    fn summary_means_and_good_share() {
        let page = |f1: f64| PageScore {
            subset: "a".into(),
            id: String::new(),
            url: String::new(),
            scores: Scores { precision: f1, recall: f1, f1 },
            kind: "article".into(),
            title: String::new(),
        };
        let s = Summary::of(&[page(1.0), page(0.5), page(0.95), page(0.0)]);
        assert_eq!(s.pages, 4);
        assert!((s.f1 - 0.6125).abs() < 1e-9);
        assert!((s.good_share - 0.5).abs() < 1e-9);
    }
}
