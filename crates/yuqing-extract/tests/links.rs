//! Link discovery on list pages: heuristics, a selector, a pattern.

use regex::Regex;
use url::Url;
use yuqing_extract::links::find_article_links;
use yuqing_extract::ExtractError;

fn list_page() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/extract/list_page.html"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn base() -> Url {
    Url::parse("http://czj.example.gov.cn/gzdt/index.html").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn heuristics_keep_articles_and_drop_navigation() {
    let links = find_article_links(&list_page(), &base(), None, None).unwrap_or_else(|e| panic!("{e}"));
    let urls: Vec<&str> = links.iter().map(Url::as_str).collect();
    assert_eq!(urls.len(), 10, "{urls:#?}");
    assert_eq!(urls[0], "http://czj.example.gov.cn/gzdt/202611/t20261121_5123401.html");
    assert_eq!(urls[9], "http://czj.example.gov.cn/gzdt/202610/t20261025_5122870.html");
    assert!(urls.iter().all(|u| !u.contains("index")), "{urls:#?}");
}

#[test]
fn heuristics_on_a_mixed_page() {
    let html = r##"<html><body>
<nav><a href="/news/">新闻中心频道首页链接</a></nav>
<a href="https://news.example.com.cn/2026/11/21/c_123.htm#comments">县财政局发布补贴公告</a>
<a href="https://news.example.com.cn/2026/11/21/c_123.htm">县财政局发布补贴公告（重复）</a>
<a href="https://www.example.com.cn/content_45678.htm">短</a>
<a href="https://other.cn/2026/11/21/a.html">外站新闻标题很长很长</a>
<a href="javascript:void(0)">javascript 链接文字很长</a>
<a href="mailto:a@example.com.cn">发邮件给我们的地址</a>
<a href="/login.html">用户登录入口很长的文字</a>
<a href="/files/2026/通知附件.pdf">附件：补贴发放明细表</a>
<a href="/uploads/photo_12345.jpg">图片新闻的大图链接</a>
<a href="ftp://www.example.com.cn/x">FTP 下载地址很长</a>
<a href="#top">返回顶部返回顶部</a>
<a href="/a/b/">栏目列表页面的链接</a>
<a href="/news/show.shtml">县长调研惠农补贴发放工作</a>
<a href="/news/x.html">短标题</a>
</body></html>"##;
    let base = Url::parse("https://www.example.com.cn/list/").unwrap_or_else(|e| panic!("{e}"));
    let links = find_article_links(html, &base, None, None).unwrap_or_else(|e| panic!("{e}"));
    let urls: Vec<&str> = links.iter().map(Url::as_str).collect();
    assert_eq!(
        urls,
        vec![
            "https://news.example.com.cn/2026/11/21/c_123.htm",
            "https://www.example.com.cn/content_45678.htm",
            "https://www.example.com.cn/news/show.shtml",
        ]
    );
}

#[test]
fn selector_limits_to_matched_elements() {
    let links = find_article_links(&list_page(), &base(), Some("ul.list li:nth-child(-n+3)"), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(links.len(), 3);
    let nav = find_article_links(&list_page(), &base(), Some("div.nav a"), None).unwrap_or_else(|e| panic!("{e}"));
    // The selector is trusted: navigation links come back when asked for.
    assert_eq!(nav.len(), 5);
    assert_eq!(nav[0].as_str(), "http://czj.example.gov.cn/");
}

#[test]
fn pattern_limits_urls() {
    let re = Regex::new(r"/202610/").unwrap_or_else(|e| panic!("{e}"));
    let links = find_article_links(&list_page(), &base(), None, Some(&re)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(links.len(), 3);
    assert!(links.iter().all(|u| u.path().contains("/202610/")));
}

#[test]
fn bad_selector_is_an_error() {
    let r = find_article_links(&list_page(), &base(), Some("ul[[["), None);
    assert!(matches!(r, Err(ExtractError::Selector { .. })), "{r:?}");
}

#[test]
fn base_element_is_honoured() {
    let html = r#"<html><head><base href="https://www.example.gov.cn/xwzx/"></head><body><a href="202611/t20261121_1.html">通知</a></body></html>"#;
    let links = find_article_links(
        html,
        &Url::parse("https://www.example.gov.cn/").unwrap_or_else(|e| panic!("{e}")),
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].as_str(), "https://www.example.gov.cn/xwzx/202611/t20261121_1.html");
}
