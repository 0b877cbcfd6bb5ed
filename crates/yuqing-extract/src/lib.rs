//! HTML page → article (title, published time, main text); feeds → entries; list
//! pages → article links. Pure functions over bytes, no network.
//!
//! Trade-offs:
//! - The main text is found by a text-density algorithm (Chinese punctuation, text
//!   length, link density; see `article`), not by per-site templates. That works on
//!   the long tail of county and provincial sites nobody will write templates for,
//!   at the price of occasional stray lines on unusual layouts; a source may still
//!   give a CSS selector for its list pages (`links`).
//! - Pages are parsed by the crate's own bounded parser (`html`), not html5ever:
//!   extraction needs which blocks hold which text, not the whole HTML5 tree
//!   construction, and the parse was most of the time.
//! - Hostile pages are bounded, not rejected: input past 8 MB is cut, the parser
//!   keeps at most `html::MAX_DEPTH` open elements, `html::MAX_NODES` nodes and
//!   `html::MAX_ATTRS` attributes per element, every scan moves forward and every
//!   traversal is a flat loop. (`links` still parses with html5ever, after
//!   flattening nesting past a few hundred levels: html5ever is quadratic on it.)
//! - Published times prefer what the page says for machines (meta tags, `<time>`),
//!   then the info line under the headline; footers and related-news lists are never
//!   searched, since a wrong date is worse than none for the duty office.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use url::Url;

mod article;
mod dom;
mod guard;
pub mod html;

/// Bytes beyond this are cut before parsing.
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    #[error("the page is empty")]
    Empty,
    #[error("the feed could not be parsed: {0}")]
    Feed(String),
    #[error("invalid CSS selector `{selector}`: {reason}")]
    Selector { selector: String, reason: String },
}

#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Zone for times the page writes without one.
    pub tz: Tz,
    /// "Now" for relative times ("3小时前"): the fetch time.
    pub now: DateTime<Utc>,
    /// The page's address, when known (resolves relative links, helps the heuristics).
    pub url: Option<Url>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    Article,
    List,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Article {
    pub title: String,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// Main text only, paragraphs separated by '\n'.
    pub content: String,
    pub encoding: &'static str,
    pub kind: PageKind,
}

/// Longest title kept, in characters: a headline is short; a hostile page's `<title>` or
/// `<h1>` may not be, and titles go to lists, alerts and bulletins.
pub const MAX_TITLE_CHARS: usize = 300;

/// Cuts a title to [`MAX_TITLE_CHARS`] on a character boundary.
pub fn bound_title(title: String) -> String {
    match title.char_indices().nth(MAX_TITLE_CHARS) {
        Some((end, _)) => title[..end].to_string(),
        None => title,
    }
}

/// Decodes and extracts one saved or fetched page.
pub fn extract(bytes: &[u8], content_type: Option<&str>, opts: &ExtractOptions) -> Result<Article, ExtractError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExtractError::Empty);
    }
    let bytes = &bytes[..bytes.len().min(MAX_INPUT_BYTES)];
    // The host's top-level domain helps the detector tell Big5 (.tw/.hk) from GBK (.cn).
    let tld = opts.url.as_ref().and_then(|u| u.host_str()).and_then(|h| h.rsplit('.').next()).map(str::as_bytes);
    let decoded = yuqing_text::charset::decode_html_with_tld(bytes, content_type, tld);
    if decoded.text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    let doc = html::parse(&decoded.text);
    let parts = article::analyse(&doc, opts);
    Ok(Article {
        title: bound_title(parts.title),
        published_at: parts.published_at,
        content: parts.content,
        encoding: decoded.encoding,
        kind: parts.kind,
    })
}

pub mod eval;
pub mod feed;
pub mod links;
