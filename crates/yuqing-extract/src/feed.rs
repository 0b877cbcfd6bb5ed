//! Feeds → entries. feed-rs does the parsing (RSS 0.9x/1.0/2.0, Atom, JSON Feed);
//! this module decodes the bytes first (feed-rs would trust a wrong `encoding=`),
//! reads Chinese dates feed-rs does not know, resolves links and strips summaries.

use super::*;

/// At most this many entries are returned from one feed.
pub const MAX_ENTRIES: usize = 1000;

#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub url: Url,
    pub title: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub summary: Option<String>,
}

/// RSS 0.9x/1.0/2.0, Atom and JSON Feed, in any charset; links resolved against `base`.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    tz: Tz,
) -> Result<Vec<FeedEntry>, ExtractError> {
    let bytes = &bytes[..bytes.len().min(MAX_INPUT_BYTES)];
    let decoded = yuqing_text::charset::decode_xml(bytes, content_type);
    let now = Utc::now();
    // feed-rs hands every date string to this parser: RFC 2822/3339 and the Chinese
    // forms ("2026-11-21 14:05", "2026年11月21日") are all read by yuqing_text, with
    // zone-less times in the source's zone.
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .timestamp_parser(move |s| yuqing_text::dates::parse_datetime(s, tz, now).map(|d| d.with_timezone(&Utc)))
        .build();
    let feed = parser.parse(decoded.text.as_bytes()).map_err(|e| ExtractError::Feed(e.to_string()))?;
    let mut out = Vec::new();
    for entry in feed.entries {
        if out.len() >= MAX_ENTRIES {
            break;
        }
        let Some(url) = entry_url(&entry, base) else { continue };
        let title = entry.title.as_ref().map(|t| crate::bound_title(strip_html(&t.content))).filter(|t| !t.is_empty());
        let summary = entry
            .summary
            .as_ref()
            .map(|t| t.content.as_str())
            .or_else(|| entry.content.as_ref().and_then(|c| c.body.as_deref()))
            .map(strip_html)
            .filter(|s| !s.is_empty());
        let published_at = entry.published.or(entry.updated).map(|d| d.with_timezone(&tz).fixed_offset());
        out.push(FeedEntry { url, title, published_at, summary });
    }
    Ok(out)
}

/// The entry's page: its alternate (or only) link, else an id that is a URL
/// (RSS `<guid isPermaLink>`), resolved against `base`; http(s) only.
fn entry_url(entry: &feed_rs::model::Entry, base: &Url) -> Option<Url> {
    let links = &entry.links;
    let link = links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| links.first())
        .and_then(|l| base.join(l.href.trim()).ok());
    // The id only counts when it is an absolute URL in its own right: feed-rs
    // generates hash ids for entries that have none, which must not be read as
    // relative paths.
    let id = || Url::parse(entry.id.trim()).ok();
    link.into_iter().chain(id()).find(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Summaries are HTML more often than not; keep the text, normalised. Parsed as a
/// fragment by html5ever (bounded: a summary is cut at 64 KB first).
fn strip_html(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return yuqing_text::normalize::normalize(s).replace('\n', " ");
    }
    let mut end = s.len().min(64 * 1024);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let fragment = scraper::Html::parse_fragment(&s[..end]);
    let mut text = String::new();
    // ego_tree's traverse is an iterator, not recursion: safe on deep fragments.
    let mut skipping = 0usize;
    for edge in fragment.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                scraper::Node::Element(e) if matches!(e.name(), "script" | "style") => skipping += 1,
                scraper::Node::Element(e) if crate::dom::is_block(e.name()) => text.push('\n'),
                scraper::Node::Text(t) if skipping == 0 => text.push_str(t),
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                if node.value().as_element().is_some_and(|e| matches!(e.name(), "script" | "style")) {
                    skipping = skipping.saturating_sub(1);
                }
            }
        }
    }
    yuqing_text::normalize::normalize(&text).replace('\n', " ")
}
