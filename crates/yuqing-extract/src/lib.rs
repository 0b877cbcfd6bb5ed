//! HTML page → article (title, published time, main text); feeds → entries; list
//! pages → article links. Pure functions over bytes, no network.
//!
//! (API contract; bodies to be written.)

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use url::Url;

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

/// Decodes and extracts one saved or fetched page.
pub fn extract(bytes: &[u8], content_type: Option<&str>, opts: &ExtractOptions) -> Result<Article, ExtractError> {
    let _ = (bytes, content_type, opts);
    todo!()
}

pub mod feed {
    use super::*;

    #[derive(Debug, Clone)]
    pub struct FeedEntry {
        pub url: Url,
        pub title: Option<String>,
        pub published_at: Option<DateTime<FixedOffset>>,
        pub summary: Option<String>,
    }

    /// RSS 0.9x/1.0/2.0, Atom and JSON Feed, in any charset; links resolved against `base`.
    pub fn parse_feed(bytes: &[u8], content_type: Option<&str>, base: &Url, tz: Tz) -> Result<Vec<FeedEntry>, ExtractError> {
        let _ = (bytes, content_type, base, tz);
        todo!()
    }
}

pub mod links {
    use super::*;

    /// Article links of a list page, in page order, de-duplicated, at most `MAX_LINKS`.
    /// With `selector`, only `<a>` elements matched by it (or inside elements it matches);
    /// with `pattern`, only URLs the regex matches; with neither, heuristics.
    pub fn find_article_links(html: &str, base: &Url, selector: Option<&str>, pattern: Option<&regex::Regex>) -> Result<Vec<Url>, ExtractError> {
        let _ = (html, base, selector, pattern);
        todo!()
    }

    pub const MAX_LINKS: usize = 500;
}
