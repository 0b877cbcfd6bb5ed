//! 64-bit SimHash fingerprints for near-duplicate detection: the same story reposted
//! by a portal with a different lead, a cut ending or a source line added should
//! land within a few bits of the original, while another story on the same topic
//! should not.
//!
//! Features are jieba words (punctuation, stop words and single Latin letters
//! dropped), weighted by term frequency times a small bonus for longer words, which
//! carry more of a text's identity than 的/了-class particles. The hash is FNV-1a,
//! fixed forever: fingerprints are stored, so they must not change between runs or
//! builds (std's `RandomState` would).

use std::collections::HashMap;

use crate::segment::{is_punctuation_or_blank, words, ItemWords};

/// Texts at least this long are fingerprinted without their title (see [`item_simhash`]).
pub const BODY_ONLY_CHARS: usize = 100;

/// Two texts whose fingerprints differ in at most this many bits are near-duplicates.
///
/// Calibrated by the tests below on a news-length text (~600 characters): a repost
/// with a rewritten lead, a source line and the last paragraph cut is 5 bits away;
/// another story on the same topic with much the same vocabulary is 18–19 bits away
/// (unrelated 64-bit fingerprints average 32). 8 leaves a margin on both sides; the
/// usual web-scale value of 3 is tuned for long pages and misses portal reposts.
pub const NEAR_DUPLICATE_BITS: u32 = 8;

/// Function words that appear in every Chinese text and say nothing about which one.
const STOP_WORDS: &[&str] = &[
    "的", "了", "是", "在", "和", "与", "及", "或", "也", "都", "就", "而", "并", "对", "把", "被", "从", "向", "为",
    "以", "于", "等", "这", "那", "有", "个", "之", "其", "中", "上", "下", "将", "已", "要", "会", "能", "还", "又",
    "但", "我", "你", "他", "她", "它", "我们", "他们", "一个", "没有", "不", "就是", "这个", "那个", "着", "过", "吗",
    "呢", "吧", "啊", "by", "the", "of", "and", "to", "in", "a", "is",
];

/// 64-bit weighted SimHash over segmented words (stop words and punctuation dropped).
pub fn simhash(text: &str) -> u64 {
    simhash_of_words(words(text))
}

/// An item's fingerprint: reposts rewrite headlines, so the text alone when there is
/// enough of it ([`BODY_ONLY_CHARS`]), else the title, a line break and the text.
pub fn item_simhash(title: &str, content: &str) -> u64 {
    item_simhash_of(&ItemWords::new(title, content), title, content)
}

/// [`item_simhash`] from words already segmented: the same value (the line break between
/// title and text is a word of its own in jieba's segmentation, and no feature).
pub fn item_simhash_of(words: &ItemWords, title: &str, content: &str) -> u64 {
    let body = words.content(content).map(|(_, w)| w);
    if content.chars().nth(BODY_ONLY_CHARS - 1).is_some() {
        simhash_of_words(body)
    } else {
        simhash_of_words(words.title(title).chain(body))
    }
}

/// SimHash over words as [`crate::segment::words`] gives them.
pub fn simhash_of_words<'a>(words: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut tf: HashMap<&str, u32> = HashMap::new();
    for w in words {
        if is_feature(w) {
            *tf.entry(w).or_insert(0) += 1;
        }
    }
    // Integer weights: float sums depend on the order they are added in, and a
    // HashMap's order changes from run to run; a stored fingerprint must not.
    let mut acc = [0i64; 64];
    for (word, count) in tf {
        let chars = word.chars().count() as f64;
        let weight = i64::from(count) * (1000.0 * (1.0 + chars.ln())).round() as i64;
        let h = fnv1a64(word.as_bytes());
        for (bit, slot) in acc.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *slot += weight;
            } else {
                *slot -= weight;
            }
        }
    }
    acc.iter().enumerate().filter(|(_, v)| **v > 0).fold(0u64, |fp, (bit, _)| fp | 1 << bit)
}

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

fn is_feature(w: &str) -> bool {
    if is_punctuation_or_blank(w) || STOP_WORDS.contains(&w) {
        return false;
    }
    let mut chars = w.chars();
    // A lone Latin letter or digit is noise from abbreviations and numbering.
    !matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_alphanumeric())
}

/// FNV-1a, 64-bit: tiny, stable across platforms and releases.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "新华社南昌11月21日电 记者从江西省财政厅获悉，今年以来，江西省各级财政部门持续加大惠农补贴资金投入力度，截至10月底，全省已通过“一卡通”发放耕地地力保护补贴、农机购置补贴等各类惠民惠农补贴资金186亿元，惠及农户620万户。
省财政厅有关负责人介绍，为确保补贴资金安全、及时、足额发放到户，全省推行补贴资金“一卡通”管理，所有补贴资金通过社会保障卡直接发放到群众手中，杜绝了截留、挤占、挪用等问题。同时，各地建立了补贴资金公示制度，在村务公开栏和政府网站公示补贴对象、标准和金额，接受群众监督。
据介绍，今年江西省还开展了惠民惠农财政补贴资金“一卡通”专项治理“回头看”，重点检查补贴政策落实、资金发放管理等环节，共发现并整改问题1200余个，追回违规资金860万元。下一步，省财政厅将继续完善补贴资金发放管理机制，推进补贴政策信息公开，让惠民惠农政策真正落到实处。
该负责人表示，群众如对补贴发放有疑问，可拨打当地财政部门公布的监督电话进行咨询和举报，财政部门将及时核实处理并反馈结果。";

    /// A portal's repost: its own lead sentence, an added source line, the last
    /// paragraph cut.
    const REPOST: &str = "【财经频道】惠民惠农补贴怎么发？一卡通让资金直达农户。
记者从江西省财政厅获悉，今年以来，江西省各级财政部门持续加大惠农补贴资金投入力度，截至10月底，全省已通过“一卡通”发放耕地地力保护补贴、农机购置补贴等各类惠民惠农补贴资金186亿元，惠及农户620万户。
省财政厅有关负责人介绍，为确保补贴资金安全、及时、足额发放到户，全省推行补贴资金“一卡通”管理，所有补贴资金通过社会保障卡直接发放到群众手中，杜绝了截留、挤占、挪用等问题。同时，各地建立了补贴资金公示制度，在村务公开栏和政府网站公示补贴对象、标准和金额，接受群众监督。
据介绍，今年江西省还开展了惠民惠农财政补贴资金“一卡通”专项治理“回头看”，重点检查补贴政策落实、资金发放管理等环节，共发现并整改问题1200余个，追回违规资金860万元。
（来源：新华网）";

    /// Same topic, same vocabulary, a different story.
    const UNRELATED: &str = "本报讯 近日，某县财政局召开耕地地力保护补贴发放工作推进会，对全县补贴发放工作进行再部署。会议要求，各乡镇财政所要严格按照核定面积和补贴标准，及时将补贴资金发放到农户“一卡通”账户，做到不漏户、不错发。
会上，县财政局通报了上半年补贴发放中群众反映的问题，包括部分农户银行卡信息错误导致发放失败、个别村组公示不及时等，并逐一明确了整改时限和责任人。
会议强调，补贴资金是党和政府惠及农民的重要政策，各单位要增强责任意识，畅通群众咨询投诉渠道，对群众反映的问题要第一时间调查核实、及时答复，切实维护农民群众的合法权益。";

    #[test]
    fn an_items_fingerprint_is_the_pipelines_rule_from_one_segmentation() {
        let short = "县财政局发放耕地补贴";
        for (title, content) in [("一卡通补贴到账", ORIGINAL), ("一卡通补贴到账", short), ("", short), ("标题", "")]
        {
            let expected = if content.chars().count() >= BODY_ONLY_CHARS {
                simhash(content)
            } else {
                simhash(&format!("{title}\n{content}"))
            };
            assert_eq!(item_simhash(title, content), expected, "{title} / {content}");
        }
    }

    #[test]
    fn stable_fingerprint() {
        // FNV-1a test vector: the hash must never change, fingerprints are stored.
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(simhash(ORIGINAL), simhash(ORIGINAL));
        assert_eq!(simhash(""), 0);
    }

    #[test]
    fn repost_is_near_duplicate() {
        let d = hamming(simhash(ORIGINAL), simhash(REPOST));
        eprintln!("repost distance {d}");
        assert!(d <= NEAR_DUPLICATE_BITS, "repost distance {d}");
    }

    #[test]
    fn same_topic_other_story_is_not() {
        let d = hamming(simhash(ORIGINAL), simhash(UNRELATED));
        eprintln!("unrelated distance {d}");
        assert!(d > NEAR_DUPLICATE_BITS, "unrelated distance {d}");
        let d = hamming(simhash(REPOST), simhash(UNRELATED));
        eprintln!("unrelated distance {d}");
        assert!(d > NEAR_DUPLICATE_BITS, "unrelated distance {d}");
    }

    #[test]
    fn punctuation_and_spacing_do_not_matter() {
        let a = simhash("县财政局发放耕地补贴资金，惠及农户三千户。");
        let b = simhash("县财政局 发放耕地补贴资金 惠及农户三千户");
        assert!(hamming(a, b) <= 2, "{}", hamming(a, b));
    }
}

/// Broke once: weights were summed as floats in HashMap order, so the same text could
/// get a different bit from one run (or one call) to the next.
#[cfg(test)]
mod determinism {
    #[test]
    fn the_same_text_always_gives_the_same_fingerprint() {
        let text =
            "上犹县财政局通过惠民惠农财政补贴资金一卡通系统，向全县农户发放耕地地力保护补贴，共涉及农户三万余户。\
                    据了解，今年的补贴资金已全部下达到各乡镇财政所，经过村级公示、乡镇审核、县级复核等环节后统一发放。";
        let first = super::simhash(text);
        for _ in 0..200 {
            assert_eq!(super::simhash(text), first);
        }
    }
}
