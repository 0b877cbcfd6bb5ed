//! What the bulletin and report pages share: the report crate's markup placed in a
//! page, document downloads, and PDF rendering off the async threads.
//!
//! **Markup.** The pages show the bulletin and report exactly as the report crate
//! writes them (one wording for every format): its HTML with the charts as inline
//! SVG. That markup is the one thing the UI ever marks safe, and only after two
//! steps: the crate's `<style>` element is dropped (the page's Content-Security-Policy
//! allows no inline style; `static/reports.css` styles the same classes), and
//! [`trusted_markup`] checks every tag and attribute against a short allow-list. The
//! crate escapes all collected text itself, so the check can only fail on a bug
//! there; it is defence in depth, and on failure the page shows a notice instead.
//! A sanitiser library (ammonia) was weighed: it rewrites rather than checks, does not
//! keep SVG's case-sensitive attributes (`viewBox`), and pulls in html5ever again.
//!
//! **PDF.** typst is CPU-bound for a second or more per document: it runs on the
//! blocking pool, one document at a time (a small office server has two cores and
//! other work), with the fonts scanned once per process.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;
use yuqing_report::{Bulletin, FontSet, Report};

use crate::WebError;

/// Tags the report crate writes.
const TAGS: &[&str] = &[
    "article", "header", "main", "footer", "section", "h1", "h2", "h3", "div", "span", "p", "hr", "br", "table",
    "thead", "tbody", "tr", "th", "td", "a", "strong", "em", "svg", "g", "rect", "line", "text", "tspan", "title",
    "path", "polyline", "circle",
];

/// Attributes that could run script or load something are refused by name; links
/// must be web links or fragments.
fn attribute_ok(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if name.starts_with("on")
        || name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
    {
        return false;
    }
    match name.as_str() {
        "style" | "src" | "srcdoc" | "srcset" | "action" | "formaction" | "xlink:href" | "data" | "background" => false,
        "href" => {
            let v = value.trim().to_ascii_lowercase();
            v.starts_with("http://") || v.starts_with("https://") || v.starts_with('#')
        }
        _ => true,
    }
}

/// Whether `html` holds only allowed tags and attributes (see the module comment).
#[cfg(test)]
pub(crate) fn markup_ok(html: &str) -> bool {
    markup_problem(html).is_none()
}

/// The first tag or attribute of `html` that is not allowed, with where it is.
pub(crate) fn markup_problem(html: &str) -> Option<String> {
    let at = |i: usize| {
        let (mut a, mut z) = (i.saturating_sub(40), (i + 40).min(html.len()));
        while !html.is_char_boundary(a) {
            a -= 1;
        }
        while !html.is_char_boundary(z) {
            z += 1;
        }
        html[a..z].to_string()
    };
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        let closing = b.get(i) == Some(&b'/');
        if closing {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let tag = html[start..i].to_ascii_lowercase();
        if !TAGS.contains(&tag.as_str()) {
            return Some(at(i));
        }
        // Attributes up to the end of the tag.
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            match b.get(i) {
                None => return Some(at(i)),
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    break;
                }
                Some(_) if closing => return Some(at(i)),
                Some(_) => {}
            }
            let name_start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
                i += 1;
            }
            let name = &html[name_start..i];
            let mut value = "";
            if b.get(i) == Some(&b'=') {
                i += 1;
                let Some(&q) = b.get(i) else { return Some(at(i)) };
                if q != b'"' && q != b'\'' {
                    // The crate always quotes; anything else is not its markup.
                    return Some(at(i));
                }
                let Some(end) = html[i + 1..].find(q as char) else { return Some(at(i)) };
                value = &html[i + 1..i + 1 + end];
                i += end + 2;
            }
            if !attribute_ok(name, value) {
                return Some(at(i));
            }
        }
    }
    None
}

/// Drops the crate's `<style>` elements (their rules are in `static/reports.css`).
/// Collected text cannot hold `<style>`: the crate escapes every `<` of it.
fn without_styles(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(a) = rest.find("<style>") {
        out.push_str(&rest[..a]);
        match rest[a..].find("</style>") {
            Some(z) => rest = &rest[a + z + "</style>".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The report crate's markup as a value templates print unescaped, when it passes
/// [`markup_ok`]; `None` (logged) otherwise.
pub(crate) fn trusted_markup(html: &str) -> Option<minijinja::Value> {
    let html = without_styles(html);
    match markup_problem(&html) {
        None => Some(minijinja::Value::from_safe_string(html)),
        Some(near) => {
            tracing::error!(near = %near, "the report crate's markup failed the allow-list check and is not shown");
            None
        }
    }
}

/// The bulletin's document body (header, sections, recipients), for a page.
pub(crate) fn bulletin_markup(b: &Bulletin) -> Option<minijinja::Value> {
    let doc = yuqing_report::render_html(b);
    let body =
        doc.split_once("<body>").map(|(_, rest)| rest).and_then(|rest| rest.rsplit_once("</body>")).map(|(b, _)| b);
    match body {
        Some(body) => trusted_markup(&format!("<article class=\"yq-bulletin\">{body}</article>")),
        None => {
            tracing::error!("the bulletin HTML has no body");
            None
        }
    }
}

/// The report's fragment, for a page.
pub(crate) fn report_markup(r: &Report) -> Option<minijinja::Value> {
    trusted_markup(&yuqing_report::report_html_fragment(r))
}

/// The document formats offered for download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pdf,
    Docx,
    Html,
    Xlsx,
    Csv,
}

impl Format {
    pub(crate) fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "pdf" => Format::Pdf,
            "docx" => Format::Docx,
            "html" => Format::Html,
            "xlsx" => Format::Xlsx,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    pub(crate) fn ext(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Html => "html",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Html => "text/html; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// A download: the bytes as an attachment named `ascii_name.ext` (and the Chinese
/// `name.ext` for browsers that read RFC 5987 names).
pub(crate) fn download(bytes: Vec<u8>, format: Format, ascii_name: &str, name: &str) -> Response {
    let ext = format.ext();
    let encoded: String = url::form_urlencoded::byte_serialize(format!("{name}.{ext}").as_bytes())
        // form encoding writes spaces as `+`; RFC 5987 wants `%20`.
        .map(|s| if s == "+" { "%20" } else { s })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{encoded}");
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn fonts() -> Result<Arc<FontSet>, WebError> {
    static FONTS: OnceLock<Arc<FontSet>> = OnceLock::new();
    if let Some(f) = FONTS.get() {
        return Ok(f.clone());
    }
    // Not cached on failure: installing the fonts later should not need a restart.
    let f = Arc::new(
        FontSet::load_system().map_err(|e| WebError::Internal(format!("cannot load the fonts for the PDF: {e}")))?,
    );
    Ok(FONTS.get_or_init(|| f).clone())
}

/// One PDF at a time (see the module comment).
fn pdf_slot() -> &'static Semaphore {
    static SLOT: OnceLock<Semaphore> = OnceLock::new();
    SLOT.get_or_init(|| Semaphore::new(1))
}

/// Runs a PDF renderer on the blocking pool with the process's fonts.
async fn pdf(
    render: impl FnOnce(&FontSet) -> Result<Vec<u8>, yuqing_report::ReportError> + Send + 'static,
) -> Result<Vec<u8>, WebError> {
    let _slot = pdf_slot().acquire().await.map_err(|e| WebError::Internal(format!("PDF queue closed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let fonts = fonts()?;
        render(&fonts).map_err(|e| WebError::Internal(format!("rendering the PDF failed: {e}")))
    })
    .await
    .map_err(|e| WebError::Internal(format!("the PDF task failed: {e}")))?
}

/// The bulletin in `format` (PDF, DOCX or HTML).
pub(crate) async fn bulletin_bytes(b: Bulletin, format: Format) -> Result<Vec<u8>, WebError> {
    match format {
        Format::Pdf => pdf(move |f| yuqing_report::render_pdf(&b, f)).await,
        Format::Docx => {
            yuqing_report::render_docx(&b).map_err(|e| WebError::Internal(format!("writing the DOCX failed: {e}")))
        }
        Format::Html => Ok(yuqing_report::render_html(&b).into_bytes()),
        Format::Xlsx | Format::Csv => Err(WebError::NotFound("A bulletin is a PDF, DOCX or HTML document.".into())),
    }
}

/// The report in `format` (PDF, DOCX or HTML).
pub(crate) async fn report_bytes(r: Report, format: Format) -> Result<Vec<u8>, WebError> {
    match format {
        Format::Pdf => pdf(move |f| yuqing_report::render_report_pdf(&r, f)).await,
        Format::Docx => yuqing_report::render_report_docx(&r)
            .map_err(|e| WebError::Internal(format!("writing the DOCX failed: {e}"))),
        Format::Html => Ok(yuqing_report::render_report_html(&r).into_bytes()),
        Format::Xlsx | Format::Csv => Err(WebError::NotFound("A report is a PDF, DOCX or HTML document.".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crates_markup_passes_and_anything_else_does_not() {
        let b = Bulletin::sample();
        assert!(bulletin_markup(&b).is_some(), "the sample bulletin must pass");
        assert!(report_markup(&Report::sample()).is_some(), "the sample report must pass");
        for bad in [
            "<p>ok</p><script>alert(1)</script>",
            "<p onclick=\"x()\">a</p>",
            "<a href=\"javascript:alert(1)\">a</a>",
            "<p style=\"color:red\">a</p>",
            "<img src=\"x\">",
            "<svg><foreignObject></foreignObject></svg>",
            "<p class=unquoted>a</p>",
            "<!-- comment -->",
            "<p",
        ] {
            assert!(!markup_ok(bad), "{bad} passed");
        }
        assert!(markup_ok(
            "<p class=\"meta\">a &lt;script&gt;</p><a href=\"https://x.example/\" rel=\"noopener\">x</a>"
        ));
    }

    #[test]
    fn hostile_text_in_a_bulletin_stays_text() {
        let mut b = Bulletin::sample();
        b.entries[0].headline = "<script>alert(1)</script><style>p{}</style>".into();
        b.entries[0].url = "javascript:alert(2)".into();
        b.comment = Some("\"><img src=x onerror=alert(3)>".into());
        let v = bulletin_markup(&b).expect("passes");
        let s = v.to_string();
        assert!(!s.contains("<script"), "{s}");
        assert!(s.contains("&lt;script&gt;"));
        assert!(s.contains("&lt;style&gt;"), "an escaped style stays text");
        assert!(!s.contains("<img"));
    }

    #[test]
    fn styles_are_dropped() {
        assert_eq!(without_styles("a<style>x</style>b<style>y</style>c"), "abc");
        assert_eq!(without_styles("a<style>x"), "a");
    }
}
