//! Collection passes against a local site, with a sink that records what it is given.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use common::{config, serve, TestServer};
use yuqing_collect::{
    canonical_url, collect_all, collect_source, run_scheduler, Accepted, CollectedPage, Fetcher, PassOptions, Progress,
    ScheduleOptions, Sink, Validators,
};
use yuqing_core::config::SourceConfig;
use yuqing_core::{SourceKind, Tier};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/collect/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A sink that keeps everything in memory, the way the store would.
#[derive(Default)]
struct RecordingSink {
    known: Mutex<HashSet<String>>,
    validators: Mutex<HashMap<String, Validators>>,
    accepted: Mutex<Vec<CollectedPage>>,
    health: Mutex<Vec<(String, Result<(), String>)>>,
    polled: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl RecordingSink {
    fn accepted_paths(&self) -> Vec<String> {
        self.accepted.lock().unwrap().iter().map(|p| p.url.path().to_owned()).collect()
    }
    fn health_of(&self, source: &str) -> Vec<Result<(), String>> {
        self.health.lock().unwrap().iter().filter(|(s, _)| s == source).map(|(_, r)| r.clone()).collect()
    }
}

impl Sink for RecordingSink {
    async fn is_known(&self, canonical_url: &str) -> bool {
        self.known.lock().unwrap().contains(canonical_url)
    }
    async fn validators(&self, url: &str) -> Option<Validators> {
        self.validators.lock().unwrap().get(url).cloned()
    }
    async fn save_validators(&self, url: &str, v: &Validators) {
        self.validators.lock().unwrap().insert(url.to_owned(), v.clone());
    }
    async fn accept(&self, page: CollectedPage) -> Result<Accepted, String> {
        let new = self.known.lock().unwrap().insert(page.canonical_url.clone());
        self.accepted.lock().unwrap().push(page);
        Ok(if new { Accepted::New } else { Accepted::Duplicate })
    }
    async fn record_health(&self, source: &str, at: DateTime<Utc>, result: Result<(), String>) {
        self.health.lock().unwrap().push((source.to_owned(), result));
        self.polled.lock().unwrap().insert(source.to_owned(), at);
    }
    async fn last_polled(&self, source: &str) -> Option<DateTime<Utc>> {
        self.polled.lock().unwrap().get(source).copied()
    }
}

fn source(name: &str, kind: SourceKind, url: url::Url) -> SourceConfig {
    SourceConfig {
        name: name.to_owned(),
        kind,
        url,
        tier: Tier::Local,
        interval: Duration::from_secs(600),
        weight: 1.0,
        enabled: true,
        selector: None,
        pattern: None,
        max_articles: None,
    }
}

fn opts() -> PassOptions {
    PassOptions { tz: chrono_tz::Asia::Shanghai, max_articles: 50, on_progress: None }
}

/// Answers 304 when the request carries the ETag, else the body with the ETag.
fn with_etag(headers: &HeaderMap, etag: &'static str, content_type: &'static str, body: Vec<u8>) -> Response {
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([(header::ETAG, etag), (header::CONTENT_TYPE, content_type)], body).into_response()
}

fn with_base(bytes: Vec<u8>, base: &str) -> Vec<u8> {
    String::from_utf8_lossy(&bytes).replace("{base}", base).into_bytes()
}

/// The county finance bureau's site: a feed, a list page and their articles.
async fn county_site() -> TestServer {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let article = fixture("article.html");
    let gbk = fixture("article-gbk.html");
    let html = |body: Vec<u8>| {
        move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response() }
        }
    };
    let app = Router::new()
        .route(
            "/feed.xml",
            get(move |headers: HeaderMap| {
                let body = with_base(fixture("feed.xml"), b.get().map(String::as_str).unwrap_or(""));
                async move { with_etag(&headers, "\"feed-1\"", "application/rss+xml; charset=utf-8", body) }
            }),
        )
        .route(
            "/bad-feed.xml",
            get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], fixture("malformed-feed.xml")) }),
        )
        .route(
            "/list.html",
            get(|headers: HeaderMap| async move {
                with_etag(&headers, "\"list-1\"", "text/html; charset=utf-8", fixture("list.html"))
            }),
        )
        .route("/art/1.html", get(html(article.clone())))
        .route("/art/2.html", get(html(article.clone())))
        .route("/art/old.html", get(html(article.clone())))
        .route("/news/2025/1101.html", get(html(article.clone())))
        .route("/news/2025/1102.html", get(html(article.clone())))
        // No charset in the header: the page's <meta> says GBK.
        .route(
            "/news/2025/gbk.html",
            get(move || {
                let body = gbk.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], body).into_response() }
            }),
        )
        .route("/about.html", get(html(article.clone())))
        .route("/contact.html", get(html(article)));
    let srv = serve(app).await;
    base.set(format!("http://{}", srv.addr)).unwrap();
    srv
}

#[tokio::test]
async fn feed_source_collects_new_entries_newest_first_and_skips_known() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = RecordingSink::default();
    sink.known.lock().unwrap().insert(canonical_url(&srv.url("/art/old.html")));
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let mut o = opts();
    o.on_progress = Some(Arc::new(move |p: Progress| ev.lock().unwrap().push(p)));

    let src = source("县政府财政信息", SourceKind::Feed, srv.url("/feed.xml"));
    let report = collect_source(&f, &src, &sink, &o).await;

    assert_eq!(report.errors, Vec::<String>::new());
    assert_eq!((report.new, report.known, report.pages_fetched), (2, 1, 3), "{report:?}");
    assert!(srv.hits_for("/art/old.html").is_empty(), "a known link is not fetched");
    // Newest first: item 2 is dated the 4th, item 1 the 3rd.
    assert_eq!(sink.accepted_paths(), ["/art/2.html", "/art/1.html"]);

    let accepted = sink.accepted.lock().unwrap();
    let first = &accepted[1];
    assert_eq!(first.source, "县政府财政信息");
    assert_eq!(first.canonical_url, canonical_url(&srv.url("/art/1.html")), "tracking parameter dropped");
    assert_eq!(first.feed_title.as_deref(), Some("县财政局发放2025年耕地地力保护补贴"));
    assert!(first.feed_published.is_some());
    assert!(first.article.content.contains("耕地地力保护补贴"), "{}", first.article.content);
    assert_eq!(first.raw, fixture("article.html"));
    drop(accepted);

    assert_eq!(sink.health_of("县政府财政信息"), [Ok(())]);
    assert_eq!(
        sink.validators.lock().unwrap().get(srv.url("/feed.xml").as_str()).and_then(|v| v.etag.clone()).as_deref(),
        Some("\"feed-1\"")
    );
    let events = events.lock().unwrap();
    assert!(matches!(&events[0], Progress::SourceStarted { links: 3, .. }), "{:?}", events[0]);
    assert_eq!(events.iter().filter(|e| matches!(e, Progress::PageDone { .. })).count(), 3);
    assert!(matches!(events.last(), Some(Progress::SourceDone { report: r }) if r.new == 2));
}

#[tokio::test]
async fn page_source_follows_only_the_selected_links_and_decodes_gbk() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = RecordingSink::default();
    let mut src = source("通知公告", SourceKind::Page, srv.url("/list.html"));
    src.selector = Some("ul.news-list".into());

    let report = collect_source(&f, &src, &sink, &opts()).await;
    assert_eq!(report.errors, Vec::<String>::new());
    assert_eq!(report.new, 3, "{report:?}");
    for outside in ["/", "/about.html", "/contact.html", "/news/"] {
        assert!(srv.hits_for(outside).is_empty(), "{outside} is outside the selector");
    }
    let accepted = sink.accepted.lock().unwrap();
    let gbk = accepted.iter().find(|p| p.url.path() == "/news/2025/gbk.html").expect("the GBK page");
    assert_eq!(gbk.article.encoding, "gbk");
    assert_eq!(gbk.article.title, "乡镇财政所开展涉农资金政策宣传活动");
    assert!(gbk.article.content.contains("惠民惠农财政补贴资金政策宣传"), "{}", gbk.article.content);
    assert!(gbk.article.published_at.is_some());
}

#[tokio::test]
async fn page_source_with_a_pattern() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = RecordingSink::default();
    let mut src = source("通知公告", SourceKind::Page, srv.url("/list.html"));
    src.pattern = Some(r"/news/2025/\d+\.html".into());
    let report = collect_source(&f, &src, &sink, &opts()).await;
    assert_eq!(report.errors, Vec::<String>::new());
    let mut paths = sink.accepted_paths();
    paths.sort();
    assert_eq!(paths, ["/news/2025/1101.html", "/news/2025/1102.html"]);
}

#[tokio::test]
async fn a_malformed_feed_is_recorded_and_the_other_sources_go_on() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = RecordingSink::default();
    let sources = vec![
        source("坏的订阅源", SourceKind::Feed, srv.url("/bad-feed.xml")),
        source("县政府财政信息", SourceKind::Feed, srv.url("/feed.xml")),
        source("不存在的页面", SourceKind::Page, srv.url("/gone.html")),
    ];
    let reports = collect_all(&f, &sources, &sink, &opts(), 3).await;
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0].source, "坏的订阅源");
    assert_eq!(reports[0].errors.len(), 1, "{:?}", reports[0]);
    assert!(reports[0].errors[0].contains("bad-feed.xml"), "{}", reports[0].errors[0]);
    assert!(matches!(sink.health_of("坏的订阅源").as_slice(), [Err(_)]));
    assert!(!sink.validators.lock().unwrap().contains_key(srv.url("/bad-feed.xml").as_str()));

    assert_eq!(reports[1].new, 3);
    assert_eq!(sink.health_of("县政府财政信息"), [Ok(())]);

    assert!(reports[2].errors[0].contains("404"), "{:?}", reports[2]);
    assert!(matches!(sink.health_of("不存在的页面").as_slice(), [Err(m)] if m.contains("404")));
}

#[tokio::test]
async fn a_second_pass_fetches_nothing_new() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = RecordingSink::default();
    let feed = source("县政府财政信息", SourceKind::Feed, srv.url("/feed.xml"));
    let mut list = source("通知公告", SourceKind::Page, srv.url("/list.html"));
    list.selector = Some("ul.news-list".into());

    let first = collect_all(&f, &[feed.clone(), list.clone()], &sink, &opts(), 2).await;
    assert_eq!(first.iter().map(|r| r.new).sum::<usize>(), 6, "{first:?}");
    let hits_after_first = srv.paths().len();

    // Same sink state: the feed and the list answer 304, nothing else is asked for.
    let second = collect_all(&f, &[feed.clone(), list.clone()], &sink, &opts(), 2).await;
    for r in &second {
        assert!(r.not_modified, "{r:?}");
        assert_eq!((r.new, r.pages_fetched), (0, 0), "{r:?}");
    }
    assert_eq!(srv.paths().len(), hits_after_first + 2);

    // Without validators (a server that ignores them), known links are still not fetched.
    sink.validators.lock().unwrap().clear();
    let third = collect_all(&f, &[feed, list], &sink, &opts(), 2).await;
    assert_eq!(third.iter().map(|r| r.new).sum::<usize>(), 0);
    assert_eq!(third.iter().map(|r| r.known).sum::<usize>(), 6, "{third:?}");
    assert_eq!(srv.paths().len(), hits_after_first + 4, "only the feed and the list again");
}

#[tokio::test]
async fn a_failing_article_is_counted_and_retried_next_pass() {
    let fail = Arc::new(AtomicUsize::new(1));
    let f1 = fail.clone();
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let app = Router::new()
        .route(
            "/feed.xml",
            get(move |headers: HeaderMap| {
                let base = b.get().cloned().unwrap_or_default();
                let body = format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
                    <item><title>好</title><link>{base}/ok.html</link></item>
                    <item><title>暂时坏</title><link>{base}/flaky.html</link></item>
                    <item><title>不存在</title><link>{base}/missing.html</link></item></channel></rss>"#
                );
                async move { with_etag(&headers, "\"f\"", "application/rss+xml", body.into_bytes()) }
            }),
        )
        .route(
            "/ok.html",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], fixture("article.html")) }),
        )
        .route(
            "/flaky.html",
            get(move || {
                let failing = f1.load(Ordering::SeqCst) > 0;
                async move {
                    if failing {
                        StatusCode::SERVICE_UNAVAILABLE.into_response()
                    } else {
                        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], fixture("article.html")).into_response()
                    }
                }
            }),
        );
    let srv = serve(app).await;
    base.set(format!("http://{}", srv.addr)).unwrap();
    let mut cfg = config();
    cfg.retries = 0;
    let f = Fetcher::new(cfg).unwrap();
    let sink = RecordingSink::default();
    let src = source("s", SourceKind::Feed, srv.url("/feed.xml"));

    let first = collect_source(&f, &src, &sink, &opts()).await;
    assert_eq!(first.new, 1);
    assert_eq!(first.errors.len(), 2, "{first:?}");
    assert!(first.errors.iter().any(|e| e.contains("503")) && first.errors.iter().any(|e| e.contains("404")));
    // A failure that may pass later clears the validators, so the feed is read again.
    assert_eq!(sink.validators.lock().unwrap().get(srv.url("/feed.xml").as_str()), Some(&Validators::default()));
    assert_eq!(sink.health_of("s"), [Ok(())], "the feed itself was fine");

    fail.store(0, Ordering::SeqCst);
    let second = collect_source(&f, &src, &sink, &opts()).await;
    assert!(!second.not_modified);
    assert_eq!((second.new, second.known), (1, 1), "{second:?}");
}

#[tokio::test]
async fn max_articles_takes_the_newest_and_leaves_the_rest_for_later() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = RecordingSink::default();
    let mut src = source("县政府财政信息", SourceKind::Feed, srv.url("/feed.xml"));
    src.max_articles = Some(1);
    let report = collect_source(&f, &src, &sink, &opts()).await;
    assert_eq!(sink.accepted_paths(), ["/art/2.html"]);
    assert_eq!(report.new, 1);
    // Not complete: the validators are cleared so the next pass reads the feed again.
    let second = collect_source(&f, &src, &sink, &opts()).await;
    assert_eq!((second.new, second.known), (1, 1), "{second:?}");
    assert_eq!(sink.accepted_paths(), ["/art/2.html", "/art/1.html"]);
}

#[tokio::test]
async fn the_scheduler_polls_due_sources_and_stops_on_shutdown() {
    let srv = county_site().await;
    let f = Arc::new(Fetcher::new(config()).unwrap());
    let sink = Arc::new(RecordingSink::default());
    // Polled just now with a long interval: not due during the test.
    sink.polled.lock().unwrap().insert("刚轮询过".into(), Utc::now());
    let mut fast = source("县政府财政信息", SourceKind::Feed, srv.url("/feed.xml"));
    fast.interval = Duration::from_millis(300);
    let mut broken = source("坏的订阅源", SourceKind::Feed, srv.url("/bad-feed.xml"));
    broken.interval = Duration::from_millis(300);
    let recent = source("刚轮询过", SourceKind::Page, srv.url("/list.html"));
    let mut disabled = source("停用", SourceKind::Page, srv.url("/list.html?disabled"));
    disabled.enabled = false;

    let (tx, rx) = tokio::sync::watch::channel(false);
    let schedule = ScheduleOptions { jitter: 0.1, concurrency: 2, lease_for: Duration::from_secs(60) };
    let task = tokio::spawn(run_scheduler(f, vec![fast, broken, recent, disabled], sink.clone(), opts(), schedule, rx));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stop = Instant::now();
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(3), task).await.expect("stops promptly").unwrap();
    assert!(stop.elapsed() < Duration::from_secs(3));

    assert!(sink.health_of("县政府财政信息").len() >= 2, "{:?}", sink.health.lock().unwrap());
    assert!(sink.health_of("坏的订阅源").len() >= 2, "a failing source keeps being polled");
    assert!(sink.health_of("刚轮询过").is_empty());
    assert!(sink.health_of("停用").is_empty());
    assert!(srv.hits_for("/list.html").is_empty());
}

/// A sink whose `accept` panics: the pass ends with an error instead of taking the
/// collector (and the other sources of `collect_all`) down.
struct PanickingSink(RecordingSink);

impl Sink for PanickingSink {
    async fn is_known(&self, c: &str) -> bool {
        self.0.is_known(c).await
    }
    async fn validators(&self, url: &str) -> Option<Validators> {
        self.0.validators(url).await
    }
    async fn save_validators(&self, url: &str, v: &Validators) {
        self.0.save_validators(url, v).await
    }
    async fn accept(&self, page: CollectedPage) -> Result<Accepted, String> {
        if page.url.path().contains("/art/") {
            panic!("storage exploded");
        }
        self.0.accept(page).await
    }
    async fn record_health(&self, source: &str, at: DateTime<Utc>, result: Result<(), String>) {
        self.0.record_health(source, at, result).await
    }
    async fn last_polled(&self, source: &str) -> Option<DateTime<Utc>> {
        self.0.last_polled(source).await
    }
}

#[tokio::test]
async fn a_panic_below_a_pass_fails_only_that_source() {
    let srv = county_site().await;
    let f = Fetcher::new(config()).unwrap();
    let sink = PanickingSink(RecordingSink::default());
    let mut list = source("通知公告", SourceKind::Page, srv.url("/list.html"));
    list.selector = Some("ul.news-list".into());
    let sources = [source("县政府财政信息", SourceKind::Feed, srv.url("/feed.xml")), list];
    let reports = collect_all(&f, &sources, &sink, &opts(), 2).await;
    assert_eq!(reports[0].errors.len(), 1, "{:?}", reports[0]);
    assert!(reports[0].errors[0].contains("县政府财政信息"));
    assert_eq!(reports[1].new, 3, "{:?}", reports[1]);
}
