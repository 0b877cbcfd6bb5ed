//! Feature extraction for the tone model: hashed character n-grams of a *letters-only*
//! view of the text.
//!
//! The view keeps CJK characters and letters (lower-cased, full-width folded) and drops
//! everything else: punctuation, whitespace, digits and symbols. The shared news data
//! has exactly that degradation (punctuation, digits and spaces stripped), while real
//! pages are punctuated; normalising both the same way at training and prediction time
//! means the model never learns to depend on the absence of a comma. An n-gram may then
//! span what was a sentence boundary, which costs little.
//!
//! Each n-gram (n in `min_n..=max_n`) is hashed with a fixed FNV-1a over its code points
//! followed by a 64-bit finaliser (the `fmix64` of MurmurHash3), so that a bucket number
//! is the same on every machine, every run and every Rust version: the model file
//! depends on it. `std`'s `RandomState` would change with every process.
//!
//! Values are binary (present or not; a title n-gram counts `title_weight`), and the
//! vector is L2-normalised, so a 2,000-character article and a 30-character headline
//! produce logits on the same scale.

use crate::text::fold_width;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// MurmurHash3's 64-bit finaliser: FNV's low bits are weak on short inputs, and the
/// bucket is taken from the low bits.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

#[inline]
fn fnv_step(h: u64, c: char) -> u64 {
    // Four bytes of the code point, little end first.
    let mut h = h;
    for b in (c as u32).to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The hash of one n-gram given as characters: exposed for the stability test.
pub fn ngram_hash(chars: &[char]) -> u64 {
    let mut h = FNV_OFFSET;
    for &c in chars {
        h = fnv_step(h, c);
    }
    fmix64(h ^ chars.len() as u64)
}

/// True for a character kept in the letters-only view.
#[inline]
fn keep(c: char) -> bool {
    c.is_alphabetic()
}

/// Appends the letters-only view of `text`, at most `max_chars` characters of it, to
/// `out`.
pub fn letters_into(text: &str, max_chars: usize, out: &mut Vec<char>) {
    let start = out.len();
    for c in text.chars() {
        if out.len() - start >= max_chars {
            break;
        }
        let c = fold_width(c);
        if !keep(c) {
            continue;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c.is_lowercase() || !c.is_uppercase() {
            out.push(c);
        } else {
            // Multi-char lower-case forms are rare; the first is enough for hashing.
            out.push(c.to_lowercase().next().unwrap_or(c));
        }
    }
}

/// How text becomes features; stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureConfig {
    /// Number of buckets is `1 << buckets_log2`.
    pub buckets_log2: u8,
    pub min_n: u8,
    pub max_n: u8,
    /// Value of an n-gram seen in the title (content n-grams count 1).
    pub title_weight: f32,
    /// Letters of the content used, from its start.
    pub content_chars: u32,
    /// Letters of the title used.
    pub title_chars: u32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig { buckets_log2: 20, min_n: 1, max_n: 4, title_weight: 2.0, content_chars: 2000, title_chars: 200 }
    }
}

/// A sparse, L2-normalised feature vector: sorted distinct buckets and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

/// Reusable buffers, so the hot path does not allocate per text.
#[derive(Debug, Default)]
pub struct Extractor {
    chars: Vec<char>,
    pairs: Vec<(u32, f32)>,
}

impl Extractor {
    fn push_ngrams(&mut self, from: usize, cfg: &FeatureConfig, value: f32) {
        let mask = (1u64 << cfg.buckets_log2) - 1;
        let chars = &self.chars[from..];
        let (lo, hi) = (usize::from(cfg.min_n.max(1)), usize::from(cfg.max_n));
        for i in 0..chars.len() {
            let mut h = FNV_OFFSET;
            for n in 1..=hi {
                let Some(&c) = chars.get(i + n - 1) else { break };
                h = fnv_step(h, c);
                if n >= lo {
                    self.pairs.push(((fmix64(h ^ n as u64) & mask) as u32, value));
                }
            }
        }
    }

    /// Features of an item: title n-grams (value `title_weight`) and content n-grams
    /// (value 1), the larger value where a bucket has both, L2-normalised.
    pub fn extract(&mut self, title: &str, content: &str, cfg: &FeatureConfig, out: &mut Features) {
        self.pairs.clear();
        self.chars.clear();
        letters_into(title, cfg.title_chars as usize, &mut self.chars);
        self.push_ngrams(0, cfg, cfg.title_weight);
        let body = self.chars.len();
        letters_into(content, cfg.content_chars as usize, &mut self.chars);
        self.push_ngrams(body, cfg, 1.0);
        self.pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        out.idx.clear();
        out.val.clear();
        let mut norm = 0.0f32;
        for &(b, v) in &self.pairs {
            // Sorted by bucket, larger value first: the first of a run wins.
            if out.idx.last() == Some(&b) {
                continue;
            }
            out.idx.push(b);
            out.val.push(v);
            norm += v * v;
        }
        if norm > 0.0 {
            let inv = 1.0 / norm.sqrt();
            for v in &mut out.val {
                *v *= inv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feats(title: &str, content: &str) -> Features {
        let mut f = Features::default();
        Extractor::default().extract(title, content, &FeatureConfig::default(), &mut f);
        f
    }

    #[test]
    fn hashes_are_fixed_across_runs_and_machines() {
        // Pinned values: changing the hash function silently breaks every model file.
        // Computed independently (FNV-1a over little-endian code points, then fmix64).
        assert_eq!(ngram_hash(&['好']), 0x548f_2a54_f383_94aa);
        assert_eq!(ngram_hash(&['不', '满']), 0x19b2_a4a3_df40_8adb);
        assert_eq!(ngram_hash(&['没', '有', '拖', '欠']), 0xde1a_2e38_70a2_a96c);
        assert_ne!(ngram_hash(&['不', '满']), ngram_hash(&['满', '不']));
    }

    #[test]
    fn buckets_are_the_pinned_hashes() {
        let cfg = FeatureConfig::default();
        let mask = (1u64 << cfg.buckets_log2) - 1;
        let f = feats("", "不满");
        let mut want: Vec<u32> =
            [&['不'][..], &['满'], &['不', '满']].iter().map(|g| (ngram_hash(g) & mask) as u32).collect();
        want.sort_unstable();
        assert_eq!(f.idx, want);
    }

    #[test]
    fn extraction_is_deterministic_and_normalised() {
        let a = feats("标题", "群众强烈不满，投诉无门。");
        let b = feats("标题", "群众强烈不满，投诉无门。");
        assert_eq!(a, b);
        assert!(a.idx.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        let norm: f32 = a.val.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }

    #[test]
    fn punctuation_digits_and_spaces_do_not_matter() {
        assert_eq!(feats("", "群众强烈不满，投诉无门。2024年 ！"), feats("", "群众强烈不满投诉无门年"));
        assert_eq!(feats("", "ＡＢＣ好评"), feats("", "abc好评"));
    }

    #[test]
    fn title_counts_more_and_content_is_capped() {
        let t = feats("不满", "");
        let c = feats("", "不满");
        assert_eq!(t.idx, c.idx);
        let long = "好".repeat(10_000);
        let cfg = FeatureConfig::default();
        let mut x = Extractor::default();
        x.extract("", &long, &cfg, &mut Features::default());
        assert_eq!(x.chars.len(), cfg.content_chars as usize);
        // Title and content together: the title's n-grams weigh twice.
        let both = feats("不满", "满意");
        let bu = both.idx.iter().position(|&b| t.idx.contains(&b) && !feats("", "满意").idx.contains(&b));
        let yi = both.idx.iter().position(|&b| feats("", "意").idx.contains(&b));
        if let (Some(bu), Some(yi)) = (bu, yi) {
            assert!((both.val[bu] / both.val[yi] - 2.0).abs() < 1e-4);
        } else {
            panic!("missing buckets");
        }
    }

    #[test]
    fn empty_text_has_no_features() {
        let f = feats("", "，。！ 123");
        assert!(f.idx.is_empty());
    }
}
