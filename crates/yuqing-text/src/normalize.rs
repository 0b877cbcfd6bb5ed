//! Whitespace and width normalisation for extracted text.

/// Full-width ASCII to half-width, NBSP and ideographic spaces to spaces, runs of
/// blanks collapsed within a line, lines trimmed, empty lines dropped.
///
/// The full-width punctuation that *is* Chinese punctuation — ，！？；：（） — is
/// kept: turning "，" into "," would make every Chinese sentence look foreign and
/// would hide the punctuation that text-density scoring counts. Full-width letters,
/// digits and the other symbols (１２３, ＡＢＣ, ％, ．) become ASCII.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for raw_line in text.lines() {
        let mut line = String::with_capacity(raw_line.len());
        let mut pending_space = false;
        for c in raw_line.chars().map(half_width) {
            match c {
                // Zero-width characters and stray BOMs carry nothing.
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
                c if c.is_whitespace() => pending_space = true,
                c => {
                    if pending_space && !line.is_empty() {
                        line.push(' ');
                    }
                    pending_space = false;
                    line.push(c);
                }
            }
        }
        if !line.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
    }
    out
}

fn half_width(c: char) -> char {
    match c {
        '\u{3000}' | '\u{00A0}' => ' ',
        '，' | '！' | '？' | '；' | '：' | '（' | '）' => c,
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn widths_spaces_and_lines() {
        let s = "\u{3000}\u{3000}县财政局　发放２０２６年\u{00A0}\u{00A0}补贴，共计１２．５万元！\r\n\n   \n  ＡＢＣ  def\t\tg  \n";
        assert_eq!(normalize(s), "县财政局 发放2026年 补贴，共计12.5万元！\nABC def g");
    }

    #[test]
    fn zero_width_and_empty() {
        assert_eq!(normalize("\u{200B}\u{FEFF}"), "");
        assert_eq!(normalize("a\u{200B}b"), "ab");
    }
}
