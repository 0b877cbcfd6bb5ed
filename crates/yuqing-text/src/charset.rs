//! Bytes to text. Pages in China still come in GBK/GB2312 (older government portals),
//! Big5 (Hong Kong and Taiwan sites) and UTF-8, and their labels are sometimes wrong,
//! so the label is trusted only as far as the bytes agree with it.

use encoding_rs::{Encoding, BIG5, GB18030, GBK, UTF_8};

/// Text decoded from bytes, with the name of the encoding that was used
/// (lower-case: "utf-8", "gbk", "gb18030", "big5", "windows-1252", ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// How far into the document a `<meta charset>` or an XML declaration is looked for.
/// Browsers use 1024 bytes; Chinese CMS templates often put long comments and
/// `<script>` blocks first, so we look a little further.
const PRESCAN_BYTES: usize = 4096;

/// chardetng is fast, but there is no point in feeding it megabytes: the first
/// 256 KB of a page decide its encoding as well as the whole would.
const DETECT_BYTES: usize = 256 * 1024;

/// Decodes an HTML page: charset from the HTTP `Content-Type`, else BOM, else
/// `<meta charset>` / `<meta http-equiv>`, else detection. GB2312 and GBK labels are
/// decoded as GB18030 (a superset) but reported as "gbk".
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    decode_html_with_tld(bytes, content_type, None)
}

/// [`decode_html`] with the top-level domain of the page's host (`b"cn"`, `b"tw"`,
/// `b"hk"`) as a hint for detection when the page declares nothing.
pub fn decode_html_with_tld(bytes: &[u8], content_type: Option<&str>, tld: Option<&[u8]>) -> Decoded {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    decode_with(bytes, content_type, || meta_charset(head), tld)
}

/// Decodes an XML document (a feed): HTTP header, BOM, `<?xml encoding=…?>`, detection.
/// The returned text has its XML declaration's encoding rewritten to UTF-8 (or removed)
/// so that an XML parser reading the UTF-8 bytes does not decode it twice.
pub fn decode_xml(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let mut decoded = decode_with(bytes, content_type, || xml_declared_encoding(bytes), None);
    decoded.text = rewrite_xml_declaration(&decoded.text);
    decoded
}

/// Shared decision procedure; `declared` finds the in-document label (meta or XML).
fn decode_with(
    bytes: &[u8],
    content_type: Option<&str>,
    declared: impl FnOnce() -> Option<Label>,
    tld: Option<&[u8]>,
) -> Decoded {
    // A BOM is unambiguous and beats any label (as in the WHATWG encoding sniffing
    // algorithm): a server that says gbk for a file starting with EF BB BF is wrong.
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded { text: text.into_owned(), encoding: name_of(enc, None) };
    }
    let label = content_type.and_then(content_type_charset).or_else(declared);
    match label {
        Some(label) => decode_labelled(bytes, label),
        None => {
            // Valid UTF-8 with non-ASCII in it is what chardetng answers anyway (its
            // UTF-8 candidate survives any valid input and wins when allowed), and std
            // validates at memory speed where chardetng's candidates read ~100 MB/s.
            if !bytes.is_ascii() {
                if let Ok(s) = std::str::from_utf8(bytes) {
                    return Decoded { text: s.to_owned(), encoding: "utf-8" };
                }
            }
            let enc = detect(bytes, tld);
            let (text, _) = enc.decode_without_bom_handling(bytes);
            Decoded { text: text.into_owned(), encoding: name_of(enc, None) }
        }
    }
}

/// An encoding found in a label, with the label's own spelling when it matters for
/// the reported name (gb18030 vs gbk).
#[derive(Clone, Copy)]
struct Label {
    encoding: &'static Encoding,
    gb18030_spelled: bool,
}

fn label_from(raw: &[u8]) -> Option<Label> {
    let trimmed = trim_ascii(raw);
    let mut encoding = Encoding::for_label(trimmed)?;
    // A page cannot really be UTF-16 if we could read its ASCII meta tag; the HTML
    // spec says to treat such a label as UTF-8. `x-user-defined` likewise.
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        encoding = UTF_8;
    }
    Some(Label { encoding, gb18030_spelled: trimmed.eq_ignore_ascii_case(b"gb18030") })
}

fn decode_labelled(bytes: &[u8], label: Label) -> Decoded {
    // GBK's decoder in encoding_rs is the GB18030 decoder (WHATWG), so a gb2312 page
    // that uses characters outside GB2312 still decodes.
    let enc = label.encoding;
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if enc != UTF_8 {
        // Labelled legacy, but the bytes are valid UTF-8 with real non-ASCII content:
        // a template copied from an old site. GBK text that happens to be valid UTF-8
        // is vanishingly rare beyond a few characters, so trust the bytes.
        if had_errors || looks_like_utf8(bytes) {
            if let Ok(s) = std::str::from_utf8(bytes) {
                if had_errors || s.chars().filter(|c| !c.is_ascii()).count() >= 4 {
                    return Decoded { text: s.to_string(), encoding: "utf-8" };
                }
            }
        }
        return Decoded { text: text.into_owned(), encoding: name_of(enc, Some(label)) };
    }
    if had_errors && replacement_rate_high(&text) {
        // Labelled UTF-8 but it is not: ask the detector (UTF-8 excluded).
        let guess = detect_legacy(bytes, None);
        let (alt, alt_errors) = guess.decode_without_bom_handling(bytes);
        if !alt_errors || count_replacements(&alt) * 4 < count_replacements(&text) {
            return Decoded { text: alt.into_owned(), encoding: name_of(guess, None) };
        }
    }
    Decoded { text: text.into_owned(), encoding: "utf-8" }
}

fn looks_like_utf8(bytes: &[u8]) -> bool {
    // Cheap pre-check before a full validation: a UTF-8 three-byte lead byte
    // followed by a continuation byte somewhere in the head.
    let head = &bytes[..bytes.len().min(DETECT_BYTES)];
    head.windows(2).any(|w| (0xE0..=0xEF).contains(&w[0]) && (0x80..=0xBF).contains(&w[1]))
}

fn count_replacements(text: &str) -> usize {
    text.chars().filter(|&c| c == '\u{FFFD}').count()
}

/// More than 1 in 50 non-ASCII characters is a replacement character: the label is wrong.
fn replacement_rate_high(text: &str) -> bool {
    let non_ascii = text.chars().filter(|c| !c.is_ascii()).count();
    let bad = count_replacements(text);
    bad > 0 && bad * 50 >= non_ascii.max(1)
}

fn detect(bytes: &[u8], tld: Option<&[u8]>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let sample = &bytes[..bytes.len().min(DETECT_BYTES)];
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(tld, true)
}

fn detect_legacy(bytes: &[u8], tld: Option<&[u8]>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let sample = &bytes[..bytes.len().min(DETECT_BYTES)];
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(tld, false)
}

/// The reported, lower-case name. GBK (including gb2312 labels) is "gbk"; GB18030 is
/// reported only when the label said so, since encoding_rs maps the gb18030 label to
/// its own encoding object anyway.
fn name_of(enc: &'static Encoding, label: Option<Label>) -> &'static str {
    if enc == GB18030 || label.is_some_and(|l| l.gb18030_spelled) {
        return "gb18030";
    }
    if enc == GBK {
        return "gbk";
    }
    if enc == BIG5 {
        return "big5";
    }
    if enc == UTF_8 {
        return "utf-8";
    }
    const NAMES: &[&str] = &[
        "utf-16le",
        "utf-16be",
        "shift_jis",
        "euc-jp",
        "iso-2022-jp",
        "euc-kr",
        "koi8-r",
        "koi8-u",
        "macintosh",
        "x-mac-cyrillic",
        "x-user-defined",
        "replacement",
        "iso-8859-2",
        "iso-8859-3",
        "iso-8859-4",
        "iso-8859-5",
        "iso-8859-6",
        "iso-8859-7",
        "iso-8859-8",
        "iso-8859-8-i",
        "iso-8859-10",
        "iso-8859-13",
        "iso-8859-14",
        "iso-8859-15",
        "iso-8859-16",
        "ibm866",
    ];
    let name = enc.name();
    // Most encoding_rs names are already lower case ("windows-1252"); the few that are
    // not are listed above.
    NAMES.iter().find(|n| n.eq_ignore_ascii_case(name)).copied().unwrap_or(name)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

/// `text/html; charset="gbk"` → GBK.
fn content_type_charset(ct: &str) -> Option<Label> {
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = lower[at + "charset".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let value: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | ';' | ',' | ' '))
        .collect();
    label_from(value.as_bytes())
}

/// Finds `charset=` inside a `<meta …>` tag of the head, working on bytes so that
/// it runs before we know how to decode. Covers `<meta charset="gbk">` and
/// `<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`.
fn meta_charset(head: &[u8]) -> Option<Label> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let tag_start = from + pos;
        let tag_end = find(&lower[tag_start..], b">").map_or(lower.len(), |e| tag_start + e);
        let tag = &lower[tag_start..tag_end];
        if let Some(cs) = find(tag, b"charset") {
            if let Some(label) = value_after_equals(&tag[cs + b"charset".len()..]) {
                if let Some(label) = label_from(label) {
                    return Some(label);
                }
            }
        }
        from = tag_end;
    }
    None
}

/// `<?xml version="1.0" encoding="gb2312"?>` → GBK.
fn xml_declared_encoding(bytes: &[u8]) -> Option<Label> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let start = head.iter().position(|c| !c.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = find(head, b"?>")?;
    let decl = head[..end].to_ascii_lowercase();
    let at = find(&decl, b"encoding")?;
    value_after_equals(&decl[at + b"encoding".len()..]).and_then(label_from)
}

/// The value after `=` (optional blanks and quotes), up to a quote, blank, `;` or `/`.
fn value_after_equals(s: &[u8]) -> Option<&[u8]> {
    let s = &s[s.iter().position(|c| !c.is_ascii_whitespace())?..];
    let s = s.strip_prefix(b"=")?;
    let s = &s[s.iter().position(|c| !c.is_ascii_whitespace())?..];
    let s = match s.first() {
        Some(b'"') | Some(b'\'') => &s[1..],
        _ => s,
    };
    let end = s
        .iter()
        .position(|c| matches!(c, b'"' | b'\'' | b';' | b'/' | b'>') || c.is_ascii_whitespace())
        .unwrap_or(s.len());
    (end > 0).then_some(&s[..end])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Rewrites `encoding="…"` in a leading XML declaration to UTF-8, which is what the
/// text now is.
fn rewrite_xml_declaration(text: &str) -> String {
    let body = text.trim_start_matches('\u{FEFF}');
    let lead = body.len() - body.trim_start().len();
    let trimmed = &body[lead..];
    if !trimmed.starts_with("<?xml") {
        return body.to_string();
    }
    let Some(end) = trimmed.find("?>") else {
        return body.to_string();
    };
    let decl = &trimmed[..end];
    let Some(at) = decl.find("encoding") else {
        return body.to_string();
    };
    let after = &decl[at + "encoding".len()..];
    let Some(eq) = after.find('=') else {
        return body.to_string();
    };
    let value = after[eq + 1..].trim_start();
    let skipped_blanks = after[eq + 1..].len() - value.len();
    let quote = value.chars().next();
    let value_len = match quote {
        Some(q @ ('"' | '\'')) => value[1..].find(q).map_or(value.len(), |e| e + 2),
        _ => value.find(|c: char| c.is_whitespace()).unwrap_or(value.len()),
    };
    let value_start = lead + at + "encoding".len() + eq + 1 + skipped_blanks;
    let mut out = String::with_capacity(body.len());
    out.push_str(&body[..value_start]);
    out.push_str("\"UTF-8\"");
    out.push_str(&body[value_start + value_len..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZH: &str = "县财政局关于发放二〇二六年耕地地力保护补贴的通知，请各乡镇财政所认真落实。";

    fn html(meta: &str, body: &str) -> String {
        format!("<html><head>{meta}<title>测试</title></head><body><p>{body}</p></body></html>")
    }

    #[test]
    fn utf8_without_any_label_is_detected() {
        let d = decode_html(html("", ZH).as_bytes(), None);
        assert_eq!(d.encoding, "utf-8");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn gbk_meta_charset_is_reported_as_gbk() {
        let page = html(r#"<meta charset="gb2312">"#, ZH);
        let (bytes, _, _) = GBK.encode(&page);
        let d = decode_html(&bytes, None);
        assert_eq!(d.encoding, "gbk");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn gbk_http_equiv_meta() {
        let page = html(r#"<META http-equiv="Content-Type" content="text/html; charset=GBK" />"#, ZH);
        let (bytes, _, _) = GBK.encode(&page);
        let d = decode_html(&bytes, None);
        assert_eq!(d.encoding, "gbk");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn gb18030_label_is_reported_as_gb18030() {
        let page = html(r#"<meta charset="gb18030">"#, ZH);
        let (bytes, _, _) = GB18030.encode(&page);
        let d = decode_html(&bytes, None);
        assert_eq!(d.encoding, "gb18030");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn http_header_wins_over_meta() {
        let page = html(r#"<meta charset="utf-8">"#, ZH);
        let (bytes, _, _) = GBK.encode(&page);
        let d = decode_html(&bytes, Some("text/html; charset=\"GB2312\""));
        assert_eq!(d.encoding, "gbk");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn gbk_without_label_is_detected() {
        let page = html("", &ZH.repeat(5));
        let (bytes, _, _) = GBK.encode(&page);
        let d = decode_html(&bytes, None);
        assert!(d.encoding == "gbk" || d.encoding == "gb18030", "{}", d.encoding);
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn big5_meta() {
        let zh = "香港特區政府財政司今日公布新一年度財政預算案。";
        let page = html(r#"<meta http-equiv="content-type" content="text/html;charset=big5">"#, zh);
        let (bytes, _, _) = BIG5.encode(&page);
        let d = decode_html(&bytes, None);
        assert_eq!(d.encoding, "big5");
        assert!(d.text.contains(zh));
    }

    #[test]
    fn big5_detected_with_tld_hint() {
        let zh = "香港特區政府財政司今日公布新一年度財政預算案，市民關注稅務寬減措施。".repeat(4);
        let page = html("", &zh);
        let (bytes, _, _) = BIG5.encode(&page);
        let d = decode_html_with_tld(&bytes, None, Some(b"hk"));
        assert_eq!(d.encoding, "big5");
        assert!(d.text.contains(&zh));
    }

    #[test]
    fn bom_beats_wrong_header() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(html("", ZH).as_bytes());
        let d = decode_html(&bytes, Some("text/html; charset=gbk"));
        assert_eq!(d.encoding, "utf-8");
        assert!(d.text.starts_with("<html>"));
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn utf16_bom() {
        let text = html("", ZH);
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let d = decode_html(&bytes, None);
        assert_eq!(d.encoding, "utf-16le");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn wrong_meta_gbk_label_on_utf8_page_is_read_as_utf8() {
        let page = html(r#"<meta charset="gbk">"#, ZH);
        let d = decode_html(page.as_bytes(), None);
        assert_eq!(d.encoding, "utf-8");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn wrong_utf8_header_on_gbk_page_falls_back() {
        let page = html("", &ZH.repeat(3));
        let (bytes, _, _) = GBK.encode(&page);
        let d = decode_html(&bytes, Some("text/html; charset=utf-8"));
        assert_ne!(d.encoding, "utf-8");
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn unknown_label_falls_back_to_detection() {
        let page = html(r#"<meta charset="no-such-charset">"#, ZH);
        let d = decode_html(page.as_bytes(), Some("text/html"));
        assert_eq!(d.encoding, "utf-8");
    }

    #[test]
    fn xml_declaration_is_rewritten() {
        let xml = "<?xml version=\"1.0\" encoding=\"gb2312\"?>\n<rss version=\"2.0\"><channel><title>财政新闻</title></channel></rss>";
        let (bytes, _, _) = GBK.encode(xml);
        let d = decode_xml(&bytes, None);
        assert_eq!(d.encoding, "gbk");
        assert!(d.text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{}", d.text);
        assert!(d.text.contains("财政新闻"));
    }

    #[test]
    fn xml_single_quoted_declaration() {
        let xml = "<?xml version='1.0' encoding='big5' ?><rss/>";
        let d = decode_xml(xml.as_bytes(), None);
        assert_eq!(d.text, "<?xml version='1.0' encoding=\"UTF-8\" ?><rss/>");
    }

    #[test]
    fn xml_without_declaration_is_untouched() {
        let d = decode_xml("<feed>新闻</feed>".as_bytes(), None);
        assert_eq!(d.text, "<feed>新闻</feed>");
        assert_eq!(d.encoding, "utf-8");
    }

    #[test]
    fn empty_input() {
        let d = decode_html(b"", None);
        assert_eq!(d.text, "");
    }
}
