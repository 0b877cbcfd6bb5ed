//! Input guards run before html5ever sees a page.
//!
//! html5ever's tree builder checks "is there a `<p>` in button scope" by scanning the
//! stack of open elements on every block start tag, so a page with 100,000 nested
//! `<div>`s costs O(n²) (about a minute in a debug build). No real article nests
//! more than a few dozen levels, so start tags past [`MAX_DEPTH`] open elements are
//! removed (with their matching end tags) before parsing. The scan is lexical and
//! approximate — tags HTML closes implicitly (`<p>`, `<li>`, `<td>`…) are not
//! counted — which is enough for a guard: it changes nothing on ordinary pages.

use std::borrow::Cow;

/// Open-element depth beyond which start tags are dropped.
pub const MAX_DEPTH: usize = 400;

/// Tags that never have content, or whose end HTML infers: not counted.
const UNCOUNTED: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "p",
    "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "tbody", "thead", "tfoot", "colgroup", "rp", "rt",
    "html", "head", "body", "!doctype",
];

/// Raw-text elements whose content is not markup.
const RAW_TEXT: &[&str] =
    &["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"];

/// Raw-text elements whose content is removed before parsing (never content, title or time).
const STRIPPED: &[&str] = &["script", "style"];

/// Returns `html` with start tags beyond [`MAX_DEPTH`] (and their end tags) removed,
/// and the bodies of `<script>` and `<style>` elements emptied.
pub fn limit_depth(html: &str) -> Cow<'_, str> {
    let b = html.as_bytes();
    let mut depth = 0usize;
    let mut dropped: Vec<(String, usize)> = Vec::new();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `html` already copied to `out`
    let mut i = 0;
    while let Some(lt) = memchr(b'<', &b[i..]) {
        let start = i + lt;
        i = start + 1;
        match b.get(start + 1) {
            Some(b'!') => {
                i = if html[start..].starts_with("<!--") {
                    html[start + 4..].find("-->").map_or(b.len(), |e| start + 4 + e + 3)
                } else {
                    memchr(b'>', &b[start..]).map_or(b.len(), |e| start + e + 1)
                };
            }
            Some(b'/') => {
                let (name, _) = tag_name(&b[start + 2..]);
                let tag_end = memchr(b'>', &b[start..]).map_or(b.len(), |e| start + e + 1);
                i = tag_end;
                if name.is_empty() || UNCOUNTED.contains(&name.as_str()) {
                    continue;
                }
                if let Some(slot) = dropped.iter_mut().find(|(n, _)| *n == name) {
                    if slot.1 > 0 {
                        slot.1 -= 1;
                        cut(html, &mut out, &mut copied, start, tag_end);
                        continue;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, _) = tag_name(&b[start + 1..]);
                let tag_end = start_tag_end(b, start + 1);
                i = tag_end;
                let self_closing = tag_end >= 2 && b.get(tag_end - 2) == Some(&b'/');
                if RAW_TEXT.contains(&name.as_str()) {
                    let close = format!("</{name}");
                    i = find_ci(&b[tag_end..], close.as_bytes()).map_or(b.len(), |e| tag_end + e);
                    // Scripts and styles are half the bytes of a modern Chinese portal
                    // page and are dropped after parsing anyway: html5ever need not
                    // tokenise them.
                    if STRIPPED.contains(&name.as_str()) && i > tag_end && !self_closing {
                        cut(html, &mut out, &mut copied, tag_end, i);
                    }
                    continue;
                }
                if self_closing || UNCOUNTED.contains(&name.as_str()) {
                    continue;
                }
                if depth >= MAX_DEPTH {
                    match dropped.iter_mut().find(|(n, _)| *n == name) {
                        Some(slot) => slot.1 += 1,
                        None => dropped.push((name, 1)),
                    }
                    cut(html, &mut out, &mut copied, start, tag_end);
                } else {
                    depth += 1;
                }
            }
            _ => {}
        }
    }
    match out {
        Some(mut s) => {
            s.push_str(&html[copied..]);
            Cow::Owned(s)
        }
        None => Cow::Borrowed(html),
    }
}

/// Copies `html[copied..from]` to `out` and skips `from..to`.
fn cut(html: &str, out: &mut Option<String>, copied: &mut usize, from: usize, to: usize) {
    let s = out.get_or_insert_with(|| String::with_capacity(html.len()));
    s.push_str(&html[*copied..from]);
    *copied = to.min(html.len());
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

/// `needle` starts with `<`: jump from one `<` to the next instead of testing every window.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = memchr(b'<', &hay[from..]) {
        let at = from + k;
        if hay.len() - at >= needle.len() && hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn tag_name(b: &[u8]) -> (String, usize) {
    let len = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':' || *c == b'!'))
        .unwrap_or(b.len());
    (String::from_utf8_lossy(&b[..len]).to_ascii_lowercase(), len)
}

/// Index just past the `>` closing a start tag, skipping quoted attribute values.
fn start_tag_end(b: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (k, &c) in b[from..].iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return from + k + 1,
            None => {}
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_are_untouched() {
        let html = "<html><body><div class=\"a>b\"><p>一<p>二<ul><li>x<li>y</ul><script></script></div></body></html>";
        assert!(matches!(limit_depth(html), Cow::Borrowed(_)));
    }

    #[test]
    fn script_and_style_bodies_are_emptied() {
        let html = "<p>一</p><script type=x>if (a<b) { document.write('<div>') }</script><STYLE>p{}</STYLE><p>二</p>";
        assert_eq!(limit_depth(html), "<p>一</p><script type=x></script><STYLE></STYLE><p>二</p>");
    }

    #[test]
    fn deep_nesting_is_cut() {
        let n = MAX_DEPTH + 100;
        let html = format!("{}x{}", "<div>".repeat(n), "</div>".repeat(n));
        let out = limit_depth(&html);
        assert_eq!(out.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains('x'));
    }
}
