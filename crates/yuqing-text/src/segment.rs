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

/// jieba's words of an item's title and text, segmented once and shared by everything
/// that needs them (SimHash, the events' key terms, both search indexes): at ingest,
/// segmenting the same text three times took a third of the pipeline's CPU. Words are
/// kept as byte ranges, so the item can own its text meanwhile; pass the same title and
/// text back to read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemWords {
    title: Vec<(u32, u32)>,
    content: Vec<(u32, u32)>,
    lens: (usize, usize),
}

impl ItemWords {
    /// Segments `title` and `content` (jieba, HMM on, as [`words`]).
    pub fn new(title: &str, content: &str) -> ItemWords {
        ItemWords { title: ranges(title), content: ranges(content), lens: (title.len(), content.len()) }
    }

    /// Whether these are the words of this title and text (their lengths at least; a
    /// text changed since, for instance NUL characters dropped, must be segmented anew).
    pub fn fits(&self, title: &str, content: &str) -> bool {
        self.lens == (title.len(), content.len())
    }

    /// The title's words (the title given to [`ItemWords::new`]).
    pub fn title<'a>(&'a self, title: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.title.iter().filter_map(move |&(a, b)| title.get(a as usize..b as usize))
    }

    /// The text's words, with the byte offset where each begins.
    pub fn content<'a>(&'a self, content: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        self.content.iter().filter_map(move |&(a, b)| content.get(a as usize..b as usize).map(|w| (a as usize, w)))
    }
}

fn ranges(text: &str) -> Vec<(u32, u32)> {
    // Texts are bounded far below 4 GB (the extractor's page limit); a longer one is
    // segmented up to what u32 offsets can say.
    let text = &text[..text.floor_char_boundary(u32::MAX as usize)];
    let base = text.as_ptr() as usize;
    words(text)
        .into_iter()
        .map(|w| {
            let from = w.as_ptr() as usize - base;
            (from as u32, (from + w.len()) as u32)
        })
        .collect()
}

/// jieba's search mode from words [`words`] gave: exactly what
/// `Jieba::cut_for_search` makes of the same text (each word of more than two characters
/// preceded by its two- and three-character dictionary sub-words), punctuation and
/// whitespace dropped as by [`search_words`], without segmenting the text again.
pub fn search_words_of<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out = Vec::new();
    for word in words {
        let starts: Vec<usize> = word.char_indices().map(|(i, _)| i).collect();
        let n = starts.len();
        let end = |i: usize| starts.get(i).copied().unwrap_or(word.len());
        for size in [2, 3] {
            if n > size {
                for i in 0..=n - size {
                    let gram = &word[starts[i]..end(i + size)];
                    if JIEBA.has_word(gram) && !is_punctuation_or_blank(gram) {
                        out.push(gram);
                    }
                }
            }
        }
        if !is_punctuation_or_blank(word) {
            out.push(word);
        }
    }
    out
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

    const SAMPLES: &[&str] = &[
        "中华人民共和国财政部发布PPP项目，《通知》 全文！",
        "县财政局发放耕地地力保护补贴，群众反映到账及时。农机购置补贴资金186亿元惠及620万户",
        "  Mixed 文本 with Latin words, 5G 基站 and e-mail@example 地址\n第二段：城乡居民基本养老保险。",
        "",
        "。，！",
    ];

    #[test]
    fn search_words_from_words_equal_jiebas_search_mode() {
        for text in SAMPLES {
            assert_eq!(search_words_of(words(text)), search_words(text), "{text}");
        }
    }

    #[test]
    fn item_words_are_the_words_of_title_and_text() {
        let (title, content) = (SAMPLES[0], SAMPLES[1]);
        let w = ItemWords::new(title, content);
        assert!(w.fits(title, content));
        assert!(!w.fits(title, "其他"));
        assert_eq!(w.title(title).collect::<Vec<_>>(), words(title));
        let content_words: Vec<&str> = w.content(content).map(|(_, w)| w).collect();
        assert_eq!(content_words, words(content));
        for (at, word) in w.content(content) {
            assert_eq!(&content[at..at + word.len()], word);
        }
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
