//! Word segmentation with jieba's default dictionary. The dictionary takes a few
//! hundred milliseconds and ~50 MB to load, so it is loaded once per process, on
//! first use.

use std::sync::LazyLock;

use jieba_rs::Jieba;

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Words of `text` by jieba (HMM on), punctuation and whitespace included as they come.
pub fn words(text: &str) -> Vec<&str> {
    JIEBA.cut(text, true)
}

/// jieba's search mode (long words also give their dictionary sub-words), as slices of
/// `text` so that callers can compute offsets; punctuation and whitespace dropped.
pub fn search_words(text: &str) -> Vec<&str> {
    JIEBA.cut_for_search(text, true).into_iter().filter(|t| !is_punctuation_or_blank(t)).collect()
}

/// Tokens for a search index or a query: jieba's search mode, lower-cased, with
/// whitespace and punctuation dropped. Latin runs stay whole words.
pub fn index_tokens(text: &str) -> Vec<String> {
    JIEBA
        .cut_for_search(text, true)
        .into_iter()
        .filter(|t| !is_punctuation_or_blank(t))
        .map(str::to_lowercase)
        .collect()
}

/// True for whitespace and for ASCII, CJK, full-width and general punctuation and
/// symbols (，。！？；：、“”《》…— and friends).
pub fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(c as u32,
        0x00A1..=0x00BF | 0x00D7 | 0x00F7
        | 0x2000..=0x206F // general punctuation: “” ‘’ … — ‖
        | 0x2190..=0x21FF | 0x2500..=0x27BF // arrows, box drawing, shapes, dingbats
        | 0x3000..=0x303F // CJK symbols and punctuation: 、。〈〉《》「」【】
        | 0xFE10..=0xFE1F | 0xFE30..=0xFE6F // vertical and small forms
        | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65
        | 0xFFE0..=0xFFEE)
}

/// A token made only of whitespace and punctuation.
pub fn is_punctuation_or_blank(token: &str) -> bool {
    token.chars().all(|c| c.is_whitespace() || is_punctuation(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_punctuation_and_split_chinese() {
        let w = words("县财政局发放耕地补贴。");
        assert_eq!(w.concat(), "县财政局发放耕地补贴。");
        assert!(w.contains(&"财政局") || w.contains(&"县财政局"), "{w:?}");
        assert!(w.contains(&"补贴"), "{w:?}");
        assert_eq!(w.last(), Some(&"。"));
    }

    #[test]
    fn index_tokens_lower_case_without_punctuation() {
        let t = index_tokens("中华人民共和国财政部发布PPP项目，《通知》 全文！");
        assert!(t.contains(&"财政部".to_string()), "{t:?}");
        assert!(t.contains(&"中华".to_string()), "search mode splits long words: {t:?}");
        assert!(t.contains(&"ppp".to_string()), "{t:?}");
        assert!(t.iter().all(|x| !is_punctuation_or_blank(x)), "{t:?}");
    }

    #[test]
    fn punctuation_classes() {
        for c in "，。！？；：、“”《》…—（）【】,.!?".chars() {
            assert!(is_punctuation(c), "{c}");
        }
        for c in "财a1政".chars() {
            assert!(!is_punctuation(c), "{c}");
        }
    }
}
