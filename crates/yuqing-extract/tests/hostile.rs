//! Hostile and broken input: extraction must return, quickly, without panicking.

use std::time::{Duration, Instant};

use chrono::Utc;
use yuqing_extract::{extract, links::find_article_links, ExtractError, ExtractOptions};

fn opts() -> ExtractOptions {
    ExtractOptions { tz: chrono_tz::Asia::Shanghai, now: Utc::now(), url: None }
}

/// Debug builds are slow; this bound catches quadratic blow-ups, not constant factors.
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn empty_input_is_an_error() {
    assert!(matches!(extract(b"", None, &opts()), Err(ExtractError::Empty)));
    assert!(matches!(extract(b"  \n\t ", None, &opts()), Err(ExtractError::Empty)));
}

/// html5ever scans its open-element stack on every block start tag: 100,000 nested
/// divs took about a minute before the depth guard.
#[test]
fn hundred_thousand_nested_divs() {
    let n = 100_000;
    let mut page = String::from("<html><head><title>深层嵌套</title></head><body>");
    page.push_str(&"<div>".repeat(n));
    page.push_str("<p>县财政局发布通知，请各单位认真落实。这是埋在深处的正文内容。</p>");
    page.push_str(&"</div>".repeat(n));
    page.push_str("</body></html>");
    let t = Instant::now();
    let a = extract(page.as_bytes(), None, &opts());
    assert!(t.elapsed() < LIMIT, "took {:?}", t.elapsed());
    assert!(a.is_ok());
    let t = Instant::now();
    let links = find_article_links(
        &page,
        &url::Url::parse("https://example.cn/").unwrap_or_else(|e| panic!("{e}")),
        None,
        None,
    );
    assert!(links.is_ok());
    assert!(t.elapsed() < LIMIT, "links took {:?}", t.elapsed());
}

#[test]
fn unclosed_nested_inline_and_table_soup() {
    let page = "<b><i><a href=x><table><p>".repeat(20_000);
    let t = Instant::now();
    assert!(extract(page.as_bytes(), None, &opts()).is_ok());
    assert!(t.elapsed() < LIMIT, "took {:?}", t.elapsed());
}

#[test]
fn twenty_megabyte_page() {
    let para = "<p>县财政局关于发放耕地地力保护补贴的通知，请各乡镇财政所认真落实。</p>\n";
    let mut page = String::from("<html><head><title>大页面</title></head><body><div class=\"content\">");
    while page.len() < 20 * 1024 * 1024 {
        page.push_str(para);
    }
    page.push_str("</div></body></html>");
    let t = Instant::now();
    let a = extract(page.as_bytes(), None, &opts());
    assert!(t.elapsed() < LIMIT * 2, "took {:?}", t.elapsed());
    let a = a.unwrap_or_else(|e| panic!("{e}"));
    assert!(a.content.len() <= 8 * 1024 * 1024);
    assert!(a.content.contains("耕地地力保护补贴"));
}

#[test]
fn one_megabyte_attribute() {
    let page = format!(
        "<html><head><title>长属性</title></head><body><div data-x=\"{}\"><p>正文，有内容。</p></div><a href=\"/{}\">x</a></body></html>",
        "a>\"'<".repeat(200_000),
        "b".repeat(1_000_000)
    );
    let t = Instant::now();
    assert!(extract(page.as_bytes(), None, &opts()).is_ok());
    assert!(t.elapsed() < LIMIT, "took {:?}", t.elapsed());
}

#[test]
fn truncated_pages() {
    let full = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/extract/central_news.html"))
        .unwrap_or_else(|e| panic!("{e}"));
    // Cut at every 97th byte, including inside UTF-8 sequences and tags.
    for cut in (1..full.len()).step_by(97) {
        let _ = extract(&full[..cut], None, &opts());
    }
    let a = extract(&full[..full.len() * 2 / 3], None, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.content.contains("新华社南昌"));
}

#[test]
fn binary_garbage() {
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let _ = extract(&bytes, None, &opts());
}

/// A hostile page's title had no bound: a megabyte `<title>` became the item's title in
/// lists, alerts and bulletins.
#[test]
fn a_huge_title_is_cut() {
    let page = format!(
        "<html><head><title>{}</title></head><body><h1>{}</h1><p>县财政局发布通知，请各单位认真落实，确保资金安全。</p></body></html>",
        "标".repeat(1_000_000),
        "题".repeat(1_000_000)
    );
    let a = extract(page.as_bytes(), None, &opts()).expect("extracts");
    assert!(a.title.chars().count() <= yuqing_extract::MAX_TITLE_CHARS, "{}", a.title.chars().count());
}

/// 50 MB of markup with next to no text: the page is cut to `MAX_INPUT_BYTES` before
/// parsing, and the parser itself keeps at most `MAX_NODES` nodes of whatever it is
/// given.
#[test]
fn fifty_megabytes_of_markup() {
    let unit = "<div class=\"a b\"><span id=x><a href=\"/p\"><i></i></a></span></div>\n";
    let mut page = String::from("<html><head><title>五十兆</title></head><body><p>开头一段正文，有标点。</p>");
    while page.len() < 50 * 1024 * 1024 {
        page.push_str(unit);
    }
    let a = extract(page.as_bytes(), None, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.content.contains("开头一段正文"), "{}", a.content.chars().take(200).collect::<String>());
    let doc = yuqing_extract::html::parse(&page);
    assert!(doc.nodes.len() <= yuqing_extract::html::MAX_NODES);
    assert!(doc.nodes.len() > 100_000, "{}", doc.nodes.len());
}

/// Deep nesting of elements that implied end tags and scopes treat differently from
/// `<div>`: inline formatting, list items in lists, table cells, headings.
#[test]
fn deep_nesting_of_every_kind() {
    for unit in ["<span>", "<b><i>", "<ul><li>", "<table><tr><td>", "<blockquote>", "<font>", "<a href=x>", "<h2>"] {
        let n = 50_000;
        let mut page = String::from("<html><head><title>深层</title></head><body>");
        page.push_str(&unit.repeat(n));
        page.push_str("<p>县政府发布通知，请各单位落实。</p>");
        page.push_str(&"</div></span></td></li>".repeat(n));
        let doc = yuqing_extract::html::parse(&page);
        let depth = |mut i: usize| {
            let mut d = 0;
            while let Some(p) = doc.nodes[i].parent {
                d += 1;
                i = p;
            }
            d
        };
        let deepest = (0..doc.nodes.len()).map(depth).max().unwrap_or(0);
        assert!(deepest <= yuqing_extract::html::MAX_DEPTH, "{unit}: depth {deepest}");
        let a = extract(page.as_bytes(), None, &opts()).unwrap_or_else(|e| panic!("{unit}: {e}"));
        // Inside an unclosed link the paragraph is link text, as a browser shows it.
        if !unit.starts_with("<a") {
            assert!(a.content.contains("请各单位落实"), "{unit}: {:?}", a.content);
        }
    }
}

/// Elements with a hundred thousand attributes, and attribute values that never end.
#[test]
fn huge_attribute_lists_and_unterminated_values() {
    let attrs: String = (0..100_000).map(|i| format!(" data-a{i}=\"{i}\"")).collect();
    let page = format!(
        "<html><head><title>属性</title></head><body><div{attrs} class=\"content\"><p>正文一段，有标点。</p></div></body></html>"
    );
    let doc = yuqing_extract::html::parse(&page);
    let div = doc.nodes.iter().position(|n| n.tag == "div").unwrap_or_else(|| panic!("no div"));
    // Only the first MAX_ATTRS are kept: the class after them is not.
    assert_eq!(doc.element(div).attr("data-a0"), Some("0"));
    assert_eq!(doc.element(div).attr("class"), None);
    let a = extract(page.as_bytes(), None, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.content.contains("正文一段"));

    // A quote that never closes swallows the rest of the page, as in a browser: no
    // element, no panic.
    let page = format!("<p>前文，有标点。</p><div title=\"{}", "很长的属性值".repeat(500_000));
    let a = extract(page.as_bytes(), None, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.content.contains("前文"));
}

/// Hundreds of thousands of end tags that close nothing, and start tags that are
/// never closed.
#[test]
fn stray_end_tags_and_unclosed_start_tags() {
    let mut page = String::from("<html><body><div class=main><p>正文开头，有标点。</p>");
    page.push_str(&"</span></b></table></li></td></h1></a></font>".repeat(40_000));
    page.push_str(&"<li><option><dd><td><tr><tbody><p>".repeat(40_000));
    page.push_str("</div></body></html>");
    let a = extract(page.as_bytes(), None, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.content.contains("正文开头"));
}
