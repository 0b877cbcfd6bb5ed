//! Feed parsing: RSS 2.0, RSS 1.0, Atom, JSON Feed, a GBK feed, a broken feed.

use url::Url;
use yuqing_extract::feed::parse_feed;
use yuqing_extract::ExtractError;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn base() -> Url {
    Url::parse("https://www.example.gov.cn/rss/").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rss2_with_relative_links_and_html_summaries() {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>县政府门户</title><link>https://www.example.gov.cn/</link>
<item><title>县财政局发布补贴公告</title><link>/zwgk/202611/t20261121_1.html</link>
<description><![CDATA[<p>补贴<b>标准</b>为每亩112.5元。</p><script>x()</script>]]></description>
<pubDate>Sat, 21 Nov 2026 09:30:00 +0800</pubDate></item>
<item><title>中文日期的条目</title><link>https://www.example.gov.cn/a/2.html</link><pubDate>2026-11-20 16:45</pubDate></item>
<item><title>没有链接的条目</title><description>无</description></item>
<item><title>脚本链接</title><link>javascript:void(0)</link></item>
</channel></rss>"#;
    let entries =
        parse_feed(xml.as_bytes(), Some("application/rss+xml"), &base(), TZ).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].url.as_str(), "https://www.example.gov.cn/zwgk/202611/t20261121_1.html");
    assert_eq!(entries[0].title.as_deref(), Some("县财政局发布补贴公告"));
    assert_eq!(entries[0].summary.as_deref(), Some("补贴标准为每亩112.5元。"));
    assert_eq!(entries[0].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-21T09:30:00+08:00"));
    assert_eq!(entries[1].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-20T16:45:00+08:00"));
}

#[test]
fn rss1_rdf() {
    let xml = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://news.example.cn/"><title>新闻</title><link>https://news.example.cn/</link><description>d</description></channel>
<item rdf:about="https://news.example.cn/a/1.html"><title>乡镇财政所开展业务培训</title><link>https://news.example.cn/a/1.html</link><dc:date>2026-11-19T08:00:00+08:00</dc:date></item>
</rdf:RDF>"#;
    let entries = parse_feed(xml.as_bytes(), None, &base(), TZ).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].url.as_str(), "https://news.example.cn/a/1.html");
    assert_eq!(entries[0].title.as_deref(), Some("乡镇财政所开展业务培训"));
    assert_eq!(entries[0].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-19T08:00:00+08:00"));
}

#[test]
fn atom_published_or_updated() {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>财经</title><id>urn:x</id><updated>2026-11-21T10:00:00Z</updated>
<entry><title type="html">&lt;b&gt;预算&lt;/b&gt;公开</title><id>urn:1</id><link rel="alternate" href="https://finance.example.com/2026/11/21/1.html"/><link rel="enclosure" href="https://finance.example.com/a.mp3"/>
<updated>2026-11-21T03:00:00Z</updated><summary>全县预算公开。</summary></entry>
<entry><title>已发布</title><id>urn:2</id><link href="2.html"/><published>2026-11-20T01:00:00Z</published><updated>2026-11-21T01:00:00Z</updated></entry>
</feed>"#;
    let entries = parse_feed(xml.as_bytes(), None, &base(), TZ).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].title.as_deref(), Some("预算公开"));
    assert_eq!(entries[0].url.as_str(), "https://finance.example.com/2026/11/21/1.html");
    assert_eq!(entries[0].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-21T11:00:00+08:00"));
    assert_eq!(entries[1].url.as_str(), "https://www.example.gov.cn/rss/2.html");
    assert_eq!(entries[1].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-20T09:00:00+08:00"));
}

#[test]
fn json_feed() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"博客","items":[
 {"id":"1","url":"https://blog.example.cn/p/1","title":"补贴到账了","content_html":"<p>今天<em>到账</em>。</p>","date_published":"2026-11-21T12:00:00+08:00"},
 {"id":"2","title":"无链接"}]}"#;
    let entries =
        parse_feed(json.as_bytes(), Some("application/feed+json"), &base(), TZ).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].url.as_str(), "https://blog.example.cn/p/1");
    assert_eq!(entries[0].summary.as_deref(), Some("今天到账。"));
    assert_eq!(entries[0].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-21T12:00:00+08:00"));
}

#[test]
fn gbk_rss_with_gb2312_declaration() {
    let xml = "<?xml version=\"1.0\" encoding=\"gb2312\"?>\n<rss version=\"2.0\"><channel><title>某某县新闻网</title><link>http://www.example.cn/</link>\
<item><title>县财政局召开惠农补贴发放推进会</title><link>http://www.example.cn/news/2026-11/21/content_1.htm</link><description>会议要求各乡镇按时发放。</description><pubDate>2026年11月21日 10:00</pubDate></item>\
</channel></rss>";
    let (bytes, _, _) = encoding_rs::GBK.encode(xml);
    let entries = parse_feed(&bytes, None, &base(), TZ).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title.as_deref(), Some("县财政局召开惠农补贴发放推进会"));
    assert_eq!(entries[0].summary.as_deref(), Some("会议要求各乡镇按时发放。"));
    assert_eq!(entries[0].published_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-21T10:00:00+08:00"));
}

#[test]
fn malformed_feed_is_an_error() {
    for bad in ["<html><body>not a feed</body></html>", "plain text", "{\"not\": \"a feed\"", ""] {
        let r = parse_feed(bad.as_bytes(), None, &base(), TZ);
        assert!(matches!(r, Err(ExtractError::Feed(_))), "{bad}: {r:?}");
    }
}

#[test]
fn entries_are_capped() {
    let mut xml = String::from("<rss version=\"2.0\"><channel><title>t</title>");
    for i in 0..1200 {
        xml.push_str(&format!("<item><title>条目{i}</title><link>https://e.cn/{i}.html</link></item>"));
    }
    xml.push_str("</channel></rss>");
    let entries = parse_feed(xml.as_bytes(), None, &base(), TZ).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(entries.len(), yuqing_extract::feed::MAX_ENTRIES);
}
