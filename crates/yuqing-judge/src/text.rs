//! The text primitives every part of the judge shares: one normalisation and one
//! tokenisation, so that a rule, a NEAR distance and the tone lexicon all see the
//! same characters.

/// Normalises text for matching: full-width ASCII → half-width, the ideographic space
/// → a space, lower-case, every whitespace run → one space, leading and trailing
/// whitespace dropped, zero-width characters dropped.
///
/// Zero-width characters are removed because scraped pages (and some deliberately
/// obfuscated posts) put them between the characters of a word, which would otherwise
/// hide the word from every rule.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        let c = fold_width(c);
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Full-width ASCII forms (U+FF01..U+FF5E) to their ASCII counterparts.
pub(crate) fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// A character written in a CJK script: Han ideographs (all extensions), kana,
/// Hangul, bopomofo, and the ideographic iteration and zero marks. Each such
/// character is a token of its own.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x3134F
        | 0x3040..=0x30FF
        | 0x3100..=0x312F
        | 0xAC00..=0xD7AF
        | 0x3005
        | 0x3007
    )
}

/// A character that belongs to a run-of-letters token (Latin and other alphabets,
/// digits), as opposed to a CJK character (a token alone) or punctuation (no token).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Byte ranges of the tokens of `text`: each CJK character, and each maximal run of
/// word characters. Punctuation and whitespace are not tokens, so they do not count
/// in NEAR distances.
pub(crate) fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(text.len() / 3);
    let mut run_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            if run_start.is_none() {
                run_start = Some(i);
            }
            continue;
        }
        if let Some(s) = run_start.take() {
            out.push((s, i));
        }
        if is_cjk(c) {
            out.push((i, i + c.len_utf8()));
        }
    }
    if let Some(s) = run_start {
        out.push((s, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_width_case_and_space() {
        assert_eq!(normalize("  ＭａｃＢｏｏｋ\u{3000}Ｐｒｏ  "), "macbook pro");
        assert_eq!(normalize("上犹\n\n\t财政"), "上犹 财政");
        assert_eq!(normalize("上\u{200B}犹"), "上犹");
        assert_eq!(normalize("５Ｇ建设"), "5g建设");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn tokens_are_cjk_chars_and_word_runs() {
        let t = "推进5g建设, mac os";
        let toks: Vec<&str> = token_spans(t).iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(toks, ["推", "进", "5g", "建", "设", "mac", "os"]);
    }
}
