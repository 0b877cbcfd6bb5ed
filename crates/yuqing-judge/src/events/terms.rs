//! Key terms of an item: the few words that say which story it is about.
//!
//! jieba words of the title and the first [`TermConfig::content_chars`] characters of
//! the content; stop words, punctuation, numbers and single characters dropped (a
//! lone 县 or 的 names no story); weighted by `(1 + ln tf) × idf`, the title's words
//! counted [`TermConfig::title_boost`] times. The document frequencies behind the idf
//! are kept here and updated as items arrive, so the weights follow what the desk
//! actually sees: 财政 is rare on a national portal and everywhere on ours.
//!
//! Memory is bounded: when the vocabulary passes [`TermConfig::max_vocabulary`] the
//! rarest terms are forgotten (a forgotten term counts as unseen, which gives it the
//! top idf it would nearly have anyway), and every [`TermConfig::halve_every`]
//! documents all counts are halved so that old topics fade. Both depend only on the
//! sequence of items, so replaying the same items gives the same signatures.

use std::collections::HashMap;

use yuqing_text::segment::{is_punctuation_or_blank, words};

/// One term of a signature and its weight; signatures are L2-normalised.
pub type WeightedTerm = (String, f32);

/// What the grouper compares: the weighted key terms, and the anchors — the item's
/// rarest terms, which are mostly its names (people, towns, roads, companies).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signature {
    pub terms: Vec<WeightedTerm>,
    pub anchors: Vec<String>,
}

/// Words that occur in news about anything and would only blur signatures.
const STOP_WORDS: &[&str] = &[
    "我们",
    "他们",
    "你们",
    "自己",
    "一个",
    "没有",
    "就是",
    "这个",
    "那个",
    "这样",
    "那样",
    "可以",
    "已经",
    "进行",
    "目前",
    "近日",
    "日前",
    "今天",
    "昨天",
    "明天",
    "今年",
    "去年",
    "明年",
    "以来",
    "以后",
    "之后",
    "期间",
    "其中",
    "同时",
    "此外",
    "另外",
    "以及",
    "还是",
    "或者",
    "因为",
    "所以",
    "但是",
    "如果",
    "通过",
    "根据",
    "按照",
    "对于",
    "关于",
    "由于",
    "表示",
    "介绍",
    "认为",
    "指出",
    "获悉",
    "记者",
    "报道",
    "本报",
    "本网",
    "本网讯",
    "来源",
    "编辑",
    "责任编辑",
    "发布",
    "发布时间",
    "浏览",
    "次数",
    "打印",
    "关闭",
    "窗口",
    "分享",
    "相关",
    "有关",
    "情况",
    "工作",
    "问题",
    "方面",
    "部门",
    "有关部门",
    "负责人",
    "要求",
    "全面",
    "进一步",
    "不少",
    "部分",
    "一些",
    "多个",
    "各种",
    "左右",
    "以上",
    "以下",
    "不是",
    "一定",
    "需要",
    "能够",
    "希望",
    "时候",
    "现在",
    "当时",
    "今后",
    "下一步",
];

/// How key terms are chosen and weighted.
#[derive(Debug, Clone, PartialEq)]
pub struct TermConfig {
    /// Terms kept per item (the signature).
    pub top_k: usize,
    /// Characters of content read after the title.
    pub content_chars: usize,
    /// A title word counts this many times.
    pub title_boost: f64,
    /// Anchors kept per item: its terms of highest idf.
    pub anchors: usize,
    /// Distinct terms whose document frequency is kept; beyond it the rarest are pruned.
    pub max_vocabulary: usize,
    /// Every this many documents, all counts are halved.
    pub halve_every: u64,
}

impl Default for TermConfig {
    fn default() -> Self {
        TermConfig {
            top_k: 12,
            anchors: 8,
            content_chars: 1000,
            title_boost: 3.0,
            max_vocabulary: 200_000,
            halve_every: 200_000,
        }
    }
}

/// The key-term extractor with its incrementally kept document frequencies.
#[derive(Debug, Clone)]
pub struct KeyTerms {
    cfg: TermConfig,
    df: HashMap<Box<str>, u32>,
    docs: u64,
}

impl KeyTerms {
    pub fn new(cfg: TermConfig) -> KeyTerms {
        KeyTerms { cfg, df: HashMap::new(), docs: 0 }
    }

    pub fn config(&self) -> &TermConfig {
        &self.cfg
    }

    /// Documents counted (after halvings).
    pub fn documents(&self) -> u64 {
        self.docs
    }

    /// Distinct terms whose frequency is kept.
    pub fn vocabulary(&self) -> usize {
        self.df.len()
    }

    /// Counts the item's terms into the document frequencies, then returns its
    /// signature: the top `top_k` terms by `(1 + ln tf) × idf`, L2-normalised, ties
    /// broken by the term so that the order never depends on hashing; and its
    /// `anchors` terms of highest idf.
    pub fn signature(&mut self, title: &str, content: &str) -> Signature {
        let tf = self.term_frequencies(title, content);
        self.observe(tf.iter().map(|(t, _)| t.as_str()));
        self.weigh(tf)
    }

    /// The signature of an item whose [`term_frequencies`] were taken beforehand (the
    /// store segments outside its write lock), counting it like [`KeyTerms::signature`].
    pub fn signature_of(&mut self, tf: Vec<(String, f64)>) -> Signature {
        self.observe(tf.iter().map(|(t, _)| t.as_str()));
        self.weigh(tf)
    }

    /// The signature of an item whose terms are already counted (written again after
    /// a rolled-back attempt): weighed like [`KeyTerms::signature_of`], counted no more.
    pub fn signature_uncounted(&self, tf: Vec<(String, f64)>) -> Signature {
        self.weigh(tf)
    }

    /// The signature the item would get, without counting it.
    pub fn peek(&self, title: &str, content: &str) -> Signature {
        self.weigh(self.term_frequencies(title, content))
    }

    /// Candidate terms and their boosted frequencies, sorted by term.
    pub fn term_frequencies(&self, title: &str, content: &str) -> Vec<(String, f64)> {
        term_frequencies(&self.cfg, title, content)
    }

    fn observe<'a>(&mut self, terms: impl Iterator<Item = &'a str>) {
        for t in terms {
            match self.df.get_mut(t) {
                Some(n) => *n += 1,
                None => {
                    self.df.insert(t.into(), 1);
                }
            }
        }
        self.docs += 1;
        if self.docs >= self.cfg.halve_every.max(2) {
            self.docs /= 2;
            self.df.retain(|_, n| {
                *n /= 2;
                *n > 0
            });
        }
        if self.df.len() > self.cfg.max_vocabulary {
            // Forget the rarest terms until a quarter of the room is free again; retain
            // does not depend on iteration order, so neither does the result.
            let target = self.cfg.max_vocabulary - self.cfg.max_vocabulary / 4;
            let mut floor = 1;
            while self.df.len() > target {
                self.df.retain(|_, n| *n > floor);
                floor += 1;
            }
        }
    }

    fn idf(&self, term: &str) -> f64 {
        let df = self.df.get(term).copied().unwrap_or(0);
        ((1.0 + self.docs as f64) / (1.0 + f64::from(df))).ln() + 1.0
    }

    fn weigh(&self, tf: Vec<(String, f64)>) -> Signature {
        let mut w: Vec<(String, f64, f64)> = tf
            .into_iter()
            .map(|(t, f)| {
                let idf = self.idf(&t);
                let x = (1.0 + f.max(1.0).ln()) * idf;
                (t, x, idf)
            })
            .collect();
        // Anchors: highest idf, then the more frequent in the item, then the term.
        w.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| b.1.total_cmp(&a.1)).then_with(|| a.0.cmp(&b.0)));
        let anchors = w.iter().take(self.cfg.anchors).map(|(t, _, _)| t.clone()).collect();
        w.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        w.truncate(self.cfg.top_k);
        let norm = w.iter().map(|(_, x, _)| x * x).sum::<f64>().sqrt();
        let terms =
            if norm > 0.0 { w.into_iter().map(|(t, x, _)| (t, (x / norm) as f32)).collect() } else { Vec::new() };
        Signature { terms, anchors }
    }
}

/// Candidate terms of an item and their boosted frequencies, sorted by term: the
/// expensive part of a signature (segmentation), which needs no counts.
pub fn term_frequencies(cfg: &TermConfig, title: &str, content: &str) -> Vec<(String, f64)> {
    let end = content_end(cfg, content);
    frequencies(cfg, words(title), words(&content[..end]))
}

/// [`term_frequencies`] from words already segmented (the whole text's; those that end
/// within [`TermConfig::content_chars`] are counted). The same terms but, at most, for
/// the word the limit cuts through, which the whole text's segmentation leaves whole and
/// drops, and which segmenting only the first characters would cut short.
pub fn term_frequencies_of(
    cfg: &TermConfig,
    words: &yuqing_text::segment::ItemWords,
    title: &str,
    content: &str,
) -> Vec<(String, f64)> {
    let end = content_end(cfg, content);
    let body = words.content(content).take_while(|(at, w)| at + w.len() <= end).map(|(_, w)| w);
    frequencies(cfg, words.title(title), body)
}

fn content_end(cfg: &TermConfig, content: &str) -> usize {
    content.char_indices().nth(cfg.content_chars).map_or(content.len(), |(i, _)| i)
}

fn frequencies<'a>(
    cfg: &TermConfig,
    title: impl IntoIterator<Item = &'a str>,
    content: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, f64)> {
    let mut tf: HashMap<String, f64> = HashMap::new();
    for w in title {
        if let Some(t) = key_term(w) {
            *tf.entry(t).or_insert(0.0) += cfg.title_boost;
        }
    }
    for w in content {
        if let Some(t) = key_term(w) {
            *tf.entry(t).or_insert(0.0) += 1.0;
        }
    }
    let mut v: Vec<(String, f64)> = tf.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The word as a key term (Latin lower-cased), or `None` for stop words, punctuation,
/// numbers, single characters and mixed tokens.
pub fn key_term(w: &str) -> Option<String> {
    if is_punctuation_or_blank(w) {
        return None;
    }
    let n = w.chars().count();
    if n < 2 || STOP_WORDS.contains(&w) {
        return None;
    }
    if w.chars().all(is_cjk) {
        return Some(w.to_string());
    }
    // Latin words (letters, possibly with digits, as in 5G), never digits alone.
    if w.chars().all(|c| c.is_ascii_alphanumeric()) && w.chars().any(|c| c.is_ascii_alphabetic()) {
        return Some(w.to_ascii_lowercase());
    }
    None
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_from_words_are_the_terms_of_the_text() {
        let cfg = TermConfig { content_chars: 40, ..TermConfig::default() };
        let title = "县财政局回应耕地地力保护补贴发放";
        let content = "近日有群众反映耕地地力保护补贴迟迟未到账，县财政局回应称补贴资金已于本月全部拨付到乡镇财政所，农户可到一卡通账户查询。";
        let words = yuqing_text::segment::ItemWords::new(title, content);
        let of = term_frequencies_of(&cfg, &words, title, content);
        let direct = term_frequencies(&cfg, title, content);
        // The word the 40-character limit cuts through may differ; every other term agrees.
        let differ: Vec<_> =
            direct.iter().filter(|t| !of.contains(t)).chain(of.iter().filter(|t| !direct.contains(t))).collect();
        assert!(differ.len() <= 2, "{differ:?}");
        let whole = TermConfig { content_chars: 10_000, ..TermConfig::default() };
        assert_eq!(term_frequencies_of(&whole, &words, title, content), term_frequencies(&whole, title, content));
    }

    #[test]
    fn key_term_filters() {
        assert_eq!(key_term("补贴").as_deref(), Some("补贴"));
        assert_eq!(key_term("PPP").as_deref(), Some("ppp"));
        assert_eq!(key_term("5G").as_deref(), Some("5g"));
        for w in ["的", "县", "2024", "，", "  ", "近日", "记者", "12万", "a"] {
            assert_eq!(key_term(w), None, "{w}");
        }
    }

    #[test]
    fn names_and_story_words_outrank_common_words() {
        let mut k = KeyTerms::new(TermConfig { anchors: 3, ..TermConfig::default() });
        // Background: many items about subsidies in general.
        for i in 0..50 {
            k.signature("财政补贴资金发放", &format!("财政局补贴资金发放到农户，第{i}批补贴资金已经发放。"));
        }
        let sig = k.signature("上犹县耕地地力补贴发放", "上犹县财政局发放耕地地力保护补贴，营前镇农户领到补贴资金。");
        // Anchors are the words this item has that the background lacks.
        assert!(sig.anchors.contains(&"上犹县".to_string()), "{:?}", sig.anchors);
        for common in ["补贴", "发放", "资金", "农户"] {
            assert!(!sig.anchors.contains(&common.to_string()), "{:?}", sig.anchors);
        }
        let sig = sig.terms;
        let terms: Vec<&str> = sig.iter().map(|(t, _)| t.as_str()).collect();
        assert!(terms.len() <= 12, "{terms:?}");
        let pos = |w: &str| terms.iter().position(|t| *t == w);
        assert!(pos("耕地").is_some(), "{terms:?}");
        // 补贴 is in every item: if it is kept at all, it ranks below the story's words.
        if let (Some(b), Some(g)) = (pos("补贴"), pos("耕地")) {
            assert!(g < b, "{terms:?}");
        }
        let norm: f32 = sig.iter().map(|(_, w)| w * w).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(!terms.contains(&"的") && !terms.iter().any(|t| t.chars().count() < 2), "{terms:?}");
    }

    #[test]
    fn title_words_are_boosted() {
        let k = KeyTerms::new(TermConfig::default());
        let sig = k.peek("水库渗漏", "下游群众撤离，群众安全转移，大坝抢险。").terms;
        assert!(sig[0].0 == "水库" || sig[0].0 == "渗漏", "{sig:?}");
    }

    #[test]
    fn vocabulary_is_bounded_and_pruning_is_deterministic() {
        let cfg = TermConfig { max_vocabulary: 100, halve_every: 50, ..TermConfig::default() };
        let run = || {
            let mut k = KeyTerms::new(cfg.clone());
            let mut sigs = Vec::new();
            for i in 0..200u32 {
                let name = format!(
                    "{}{}",
                    char::from_u32(0x4E00 + i * 7).unwrap_or('甲'),
                    char::from_u32(0x4E01 + i * 13).unwrap_or('乙')
                );
                sigs.push(k.signature(&format!("{name}补贴"), &format!("{name}财政局发放补贴资金，{name}农户")));
                assert!(k.vocabulary() <= 101, "{}", k.vocabulary());
            }
            (sigs, k.documents())
        };
        assert_eq!(run(), run());
    }
}
