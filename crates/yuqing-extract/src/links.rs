//! List pages → article links. With a selector or a pattern from the source's
//! configuration, those decide; without, heuristics keep the links that look like
//! articles of the same site and drop navigation, index pages and attachments.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};

use super::*;

pub const MAX_LINKS: usize = 500;

/// Article links of a list page, in page order, de-duplicated, at most `MAX_LINKS`.
/// With `selector`, only `<a>` elements matched by it (or inside elements it matches);
/// with `pattern`, only URLs the regex matches; with neither, heuristics.
pub fn find_article_links(
    html: &str,
    base: &Url,
    selector: Option<&str>,
    pattern: Option<&regex::Regex>,
) -> Result<Vec<Url>, ExtractError> {
    let selector = selector
        .map(|s| {
            Selector::parse(s).map_err(|e| ExtractError::Selector { selector: s.to_string(), reason: e.to_string() })
        })
        .transpose()?;
    let mut end = html.len().min(MAX_INPUT_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let limited = crate::guard::limit_depth(&html[..end]);
    let doc = Html::parse_document(&limited);
    let base = doc_base(&doc, base);
    let anchors_sel = Selector::parse("a[href]")
        .map_err(|e| ExtractError::Selector { selector: "a[href]".to_string(), reason: e.to_string() })?;

    let anchors: Vec<ElementRef> = match &selector {
        Some(sel) => {
            let mut v = Vec::new();
            for m in doc.select(sel) {
                if m.value().name() == "a" {
                    v.push(m);
                } else {
                    v.extend(m.select(&anchors_sel));
                }
            }
            v
        }
        None => doc.select(&anchors_sel).collect(),
    };

    let heuristics = selector.is_none() && pattern.is_none();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in anchors {
        if out.len() >= MAX_LINKS {
            break;
        }
        let Some(href) = a.value().attr("href").map(str::trim) else { continue };
        let lower = href.to_ascii_lowercase();
        if href.is_empty() || href.starts_with('#') || lower.starts_with("javascript:") || lower.starts_with("mailto:")
        {
            continue;
        }
        let Ok(mut url) = base.join(href) else { continue };
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            continue;
        }
        url.set_fragment(None);
        if let Some(p) = pattern {
            if !p.is_match(url.as_str()) {
                continue;
            }
        }
        if heuristics && !(same_site(&url, &base) && looks_like_article(&url, &a)) {
            continue;
        }
        if seen.insert(url.as_str().to_string()) {
            out.push(url);
        }
    }
    Ok(out)
}

/// A `<base href>` in the page overrides the page's own address.
fn doc_base(doc: &Html, base: &Url) -> Url {
    Selector::parse("base[href]")
        .ok()
        .and_then(|s| doc.select(&s).next().and_then(|b| b.value().attr("href")).and_then(|h| base.join(h).ok()))
        .unwrap_or_else(|| base.clone())
}

/// Second-level labels under which registrations happen one level deeper
/// (`example.com.cn`, `county.gov.cn`).
const SECOND_LEVEL: &[&str] = &["com", "net", "org", "gov", "edu", "ac", "co", "mil", "gob", "or", "ne"];

/// The registrable part of a host: a cheap stand-in for the public suffix list,
/// right for the .cn/.hk/.tw/.com hosts this tool watches.
fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    if n >= 3 && labels[n - 1].len() == 2 && SECOND_LEVEL.contains(&labels[n - 2]) {
        return labels[n - 3..].join(".");
    }
    labels[n.saturating_sub(2)..].join(".")
}

fn same_site(url: &Url, base: &Url) -> bool {
    match (url.host_str(), base.host_str()) {
        (Some(a), Some(b)) => {
            a.eq_ignore_ascii_case(b) || registrable(&a.to_ascii_lowercase()) == registrable(&b.to_ascii_lowercase())
        }
        _ => false,
    }
}

static ARTICLE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)/(?:19|20)\d{2}[-/_]?(?:0[1-9]|1[0-2])(?:[-/_]?(?:0[1-9]|[12]\d|3[01]))?/",
        r"|/t(?:19|20)\d{6}_\d+\.s?html?$",
        r"|/(?:content|art|article|detail|news|show|info)[_-]?\d+\.s?html?$",
        r"|\.shtml$",
        r"|\d{5,}(?:\.s?html?|\.aspx?|\.php|\.jsp)?$",
        r"|[?&](?:id|aid|tid|articleid|newsid|contentid|infoid)=\d+",
    ))
    .unwrap_or_else(|e| panic!("ARTICLE_URL is a constant and must compile: {e}"))
});

static INDEX_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^/$|/$|/(?:index|default|main|home|list|more)(?:_\d+)?\.(?:s?html?|aspx?|php|jsp)$)")
        .unwrap_or_else(|e| panic!("INDEX_URL is a constant and must compile: {e}"))
});

static EXCLUDED_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:login|logout|signin|signup|register|passport|/search|sousuo)",
        r"|\.(?:jpe?g|png|gif|bmp|webp|svg|ico|pdf|zip|rar|7z|gz|tar|docx?|xlsx?|pptx?|wps|txt|mp[34]|avi|apk|exe)$",
    ))
    .unwrap_or_else(|e| panic!("EXCLUDED_URL is a constant and must compile: {e}"))
});

fn looks_like_article(url: &Url, a: &ElementRef) -> bool {
    let path = url.path();
    if EXCLUDED_URL.is_match(path) || INDEX_URL.is_match(path) || in_navigation(a) {
        return false;
    }
    let with_query = match url.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    if ARTICLE_URL.is_match(&with_query) {
        return true;
    }
    // Six characters: "县财政局召开会议" passes, "首页" and "更多>>" do not.
    let text: String = a.text().collect::<String>();
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    let title_attr = a.value().attr("title").map_or(0, |t| t.trim().chars().count());
    chars.max(title_attr) >= 6
}

/// Inside `<nav>`, `<header>`, `<footer>` or an element whose class/id says nav or
/// menu. The walk up is bounded: a link is not 30 levels deep in its menu.
fn in_navigation(a: &ElementRef) -> bool {
    let mut node = a.parent();
    let mut steps = 0;
    while let Some(n) = node {
        if steps > 30 {
            break;
        }
        if let Some(e) = n.value().as_element() {
            if matches!(e.name(), "nav" | "header" | "footer" | "menu") {
                return true;
            }
            let words = e.attr("class").into_iter().chain(e.attr("id"));
            for w in words {
                let lower = w.to_ascii_lowercase();
                if lower.split(|c: char| c.is_whitespace() || c == '-' || c == '_').any(|t| {
                    matches!(
                        t,
                        "nav"
                            | "navbar"
                            | "menu"
                            | "dh"
                            | "daohang"
                            | "footer"
                            | "crumb"
                            | "breadcrumb"
                            | "pager"
                            | "pagination"
                            | "fenye"
                            | "page"
                    )
                }) {
                    return true;
                }
            }
        }
        node = n.parent();
        steps += 1;
    }
    false
}
