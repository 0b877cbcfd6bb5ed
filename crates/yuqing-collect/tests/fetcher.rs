//! The fetcher against a local server: politeness, caps and the address guard.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::{config, serve, UA};
use yuqing_collect::{FetchError, Fetched, Fetcher, FetcherConfig, Validators};

fn html(s: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response()
}

fn page(f: Result<Fetched, FetchError>) -> yuqing_collect::Page {
    match f {
        Ok(Fetched::Page(p)) => p,
        other => panic!("expected a page, got {other:?}"),
    }
}

#[tokio::test]
async fn robots_disallowed_path_is_never_requested() {
    let app = Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /private\n\nUser-agent: yuqing\nDisallow: /private\nDisallow: /not-for-yuqing\n" }))
        .route("/private/report.html", get(|| async { html("secret") }))
        .route("/not-for-yuqing", get(|| async { html("no") }))
        .route("/public.html", get(|| async { html("<p>hello</p>") }));
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();

    let err = f.fetch(&srv.url("/private/report.html"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::RobotsDisallowed { .. }), "{err:?}");
    assert!(err.to_string().contains("/private/report.html"));
    let err = f.fetch(&srv.url("/not-for-yuqing"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::RobotsDisallowed { .. }), "our own group applies: {err:?}");
    let p = page(f.fetch(&srv.url("/public.html"), None).await);
    assert_eq!(p.body, b"<p>hello</p>");

    assert!(srv.hits_for("/private/report.html").is_empty());
    assert!(srv.hits_for("/not-for-yuqing").is_empty());
    assert_eq!(srv.hits_for("/robots.txt").len(), 1, "robots.txt is fetched once and cached");
    assert_eq!(f.stats().robots_refusals, 2);
}

#[tokio::test]
async fn robots_redirect_to_disallowed_target_is_refused() {
    let app = Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /hidden\n" }))
        .route("/go", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/hidden/page")]).into_response() }))
        .route("/hidden/page", get(|| async { html("x") }));
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    let err = f.fetch(&srv.url("/go"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::RobotsDisallowed { .. }), "{err:?}");
    assert!(srv.hits_for("/hidden/page").is_empty());
}

#[tokio::test]
async fn robots_server_error_closes_the_site_and_404_opens_it() {
    let closed = serve(
        Router::new()
            .route("/robots.txt", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
            .route("/a", get(|| async { html("a") })),
    )
    .await;
    let open = serve(Router::new().route("/a", get(|| async { html("a") }))).await;
    let mut cfg = config();
    cfg.retries = 0;
    let f = Fetcher::new(cfg).unwrap();

    let err = f.fetch(&closed.url("/a"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::RobotsUnavailable { .. }), "{err:?}");
    assert!(closed.hits_for("/a").is_empty());
    // Cached: asking again does not ask robots.txt again.
    let _ = f.fetch(&closed.url("/a"), None).await;
    assert_eq!(closed.hits_for("/robots.txt").len(), 1);

    page(f.fetch(&open.url("/a"), None).await);
}

#[tokio::test]
async fn user_agent_is_sent_on_pages_and_robots() {
    let srv = serve(Router::new().route("/", get(|| async { html("ok") }))).await;
    let f = Fetcher::new(config()).unwrap();
    page(f.fetch(&srv.url("/"), None).await);
    let hits = srv.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 2);
    for h in hits {
        assert_eq!(h.headers.get(header::USER_AGENT).unwrap(), UA, "{}", h.path);
    }
}

#[tokio::test]
async fn requests_to_one_host_are_spaced_by_the_delay() {
    let srv = serve(
        Router::new()
            .route("/a", get(|| async { html("a") }))
            .route("/b", get(|| async { html("b") }))
            .route("/c", get(|| async { html("c") })),
    )
    .await;
    let mut cfg = config();
    cfg.min_host_delay = Duration::from_millis(150);
    let f = Fetcher::new(cfg).unwrap();
    let (ua, ub, uc) = (srv.url("/a"), srv.url("/b"), srv.url("/c"));
    let (a, b, c) = tokio::join!(f.fetch(&ua, None), f.fetch(&ub, None), f.fetch(&uc, None));
    page(a);
    page(b);
    page(c);
    let mut times: Vec<Instant> = srv.hits.lock().unwrap().iter().map(|h| h.at).collect();
    assert_eq!(times.len(), 4, "robots.txt and three pages");
    times.sort();
    for w in times.windows(2) {
        // Loose: the server sees the request a little after the client's delay ends.
        assert!(w[1] - w[0] >= Duration::from_millis(120), "gap {:?}", w[1] - w[0]);
    }
}

#[tokio::test]
async fn etag_and_last_modified_give_not_modified() {
    let app = Router::new().route(
        "/feed.xml",
        get(|headers: HeaderMap| async move {
            let etag_ok = headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"");
            let lm_ok = headers.get(header::IF_MODIFIED_SINCE).is_some_and(|v| v == "Tue, 01 Jul 2025 08:00:00 GMT");
            if etag_ok && lm_ok {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                (
                    [
                        (header::ETAG, "\"v1\""),
                        (header::LAST_MODIFIED, "Tue, 01 Jul 2025 08:00:00 GMT"),
                        (header::CONTENT_TYPE, "application/rss+xml"),
                    ],
                    "<rss/>",
                )
                    .into_response()
            }
        }),
    );
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    let first = page(f.fetch(&srv.url("/feed.xml"), None).await);
    assert_eq!(
        first.validators,
        Validators { etag: Some("\"v1\"".into()), last_modified: Some("Tue, 01 Jul 2025 08:00:00 GMT".into()) }
    );
    assert_eq!(first.content_type.as_deref(), Some("application/rss+xml"));
    let second = f.fetch(&srv.url("/feed.xml"), Some(&first.validators)).await.unwrap();
    assert!(matches!(second, Fetched::NotModified));
    assert_eq!(f.stats().not_modified, 1);
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decoded() {
    let text = "财政局 公告 ".repeat(200);
    let gz = common::gzip(text.as_bytes());
    let br = common::brotli(text.as_bytes());
    let app = Router::new()
        .route(
            "/gz",
            get(move || async move {
                ([(header::CONTENT_ENCODING, "gzip"), (header::CONTENT_TYPE, "text/html; charset=utf-8")], gz)
                    .into_response()
            }),
        )
        .route(
            "/br",
            get(move || async move {
                ([(header::CONTENT_ENCODING, "br"), (header::CONTENT_TYPE, "text/html; charset=utf-8")], br)
                    .into_response()
            }),
        );
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    let p = page(f.fetch(&srv.url("/gz"), None).await);
    assert_eq!(p.body, text.as_bytes());
    let p = page(f.fetch(&srv.url("/br"), None).await);
    assert_eq!(p.body, text.as_bytes());
    let accept = srv.hits_for("/gz")[0].headers.get(header::ACCEPT_ENCODING).unwrap().to_str().unwrap().to_owned();
    assert!(accept.contains("gzip") && accept.contains("br"), "{accept}");
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    // 10 MB of zeros compress to about 10 KB: a small answer that is huge once decoded.
    let bomb = common::gzip(&vec![0u8; 10 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let app = Router::new()
        .route("/big", get(|| async { html_owned("x".repeat(100 * 1024)) }))
        .route(
            "/big-chunked",
            get(|| async {
                let chunks = (0..100).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 1024]));
                Body::from_stream(futures_util::stream::iter(chunks)).into_response()
            }),
        )
        .route("/bomb", get(move || async move { ([(header::CONTENT_ENCODING, "gzip")], bomb).into_response() }));
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    for path in ["/big", "/big-chunked", "/bomb"] {
        let err = f.fetch(&srv.url(path), None).await.unwrap_err();
        assert!(matches!(err, FetchError::TooLarge { limit: 65536, .. }), "{path}: {err:?}");
        assert_eq!(srv.hits_for(path).len(), 1, "{path}: a cap is not retried");
    }
    assert!(f.stats().bytes < 4 * 64 * 1024, "reading stopped near the cap: {:?}", f.stats());
}

fn html_owned(s: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html")], s).into_response()
}

#[tokio::test]
async fn a_server_that_stalls_after_the_headers_times_out() {
    let app = Router::new().route(
        "/stall",
        get(|| async {
            let first = futures_util::stream::once(async { Ok::<_, std::io::Error>(b"<html>".to_vec()) });
            let never = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
            use futures_util::StreamExt;
            Body::from_stream(first.chain(never)).into_response()
        }),
    );
    let srv = serve(app).await;
    let mut cfg = config();
    cfg.timeout = Duration::from_millis(300);
    cfg.retries = 0;
    let f = Fetcher::new(cfg).unwrap();
    let started = Instant::now();
    let err = f.fetch(&srv.url("/stall"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1200), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let srv = serve(app).await;
    let mut cfg = config();
    cfg.timeout = Duration::from_millis(200);
    cfg.retries = 1;
    let f = Fetcher::new(cfg).unwrap();
    let err = f.fetch(&srv.url("/slow"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert_eq!(srv.hits_for("/slow").len(), 2);
}

#[tokio::test]
async fn a_redirect_loop_ends_with_too_many_redirects() {
    let app = Router::new()
        .route("/a", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/b")]).into_response() }))
        .route("/b", get(|| async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "a")]).into_response() }));
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    let err = f.fetch(&srv.url("/a"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { .. }), "{err:?}");
    // max_redirects = 5: the first request and five hops.
    assert_eq!(srv.paths().iter().filter(|p| *p != "/robots.txt").count(), 6);
}

#[tokio::test]
async fn relative_redirects_are_followed() {
    let app = Router::new()
        .route(
            "/news/old",
            get(|| async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "new?id=1")]).into_response() }),
        )
        .route("/news/new", get(|| async { html("moved") }));
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    let p = page(f.fetch(&srv.url("/news/old"), None).await);
    assert_eq!(p.url, srv.url("/news/old"));
    assert_eq!(p.final_url, srv.url("/news/new?id=1"));
    assert_eq!(p.body, b"moved");
    assert_eq!(f.stats().redirects, 1);
}

#[tokio::test]
async fn redirects_to_forbidden_addresses_are_refused_before_connecting() {
    let port_holder = Arc::new(std::sync::OnceLock::<u16>::new());
    let ph = port_holder.clone();
    let app = Router::new()
        .route(
            "/to-private",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "http://10.0.0.1/admin")]).into_response() }),
        )
        .route(
            "/to-metadata",
            get(|| async {
                (StatusCode::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")]).into_response()
            }),
        )
        .route(
            "/to-v6-loopback",
            get(move || {
                let port = ph.get().copied().unwrap_or(80);
                async move {
                    (StatusCode::FOUND, [(header::LOCATION, format!("http://[::1]:{port}/secret"))]).into_response()
                }
            }),
        )
        .route(
            "/to-mapped",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "http://[::ffff:192.168.1.1]/")]).into_response() }),
        )
        .route("/secret", get(|| async { html("secret") }));
    let srv = serve(app).await;
    port_holder.set(srv.addr.port()).unwrap();
    let mut cfg = config();
    // Generous, to show the refusal does not wait for a connection attempt.
    cfg.connect_timeout = Duration::from_secs(5);
    let f = Fetcher::new(cfg).unwrap();
    for (path, addr) in [
        ("/to-private", "10.0.0.1"),
        ("/to-metadata", "169.254.169.254"),
        ("/to-v6-loopback", "::1"),
        ("/to-mapped", "::ffff:192.168.1.1"),
    ] {
        let started = Instant::now();
        let err = f.fetch(&srv.url(path), None).await.unwrap_err();
        match &err {
            FetchError::ForbiddenAddress { addr: a, .. } => assert_eq!(a, addr),
            other => panic!("{path}: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{path}: refused at once");
    }
    assert!(srv.hits_for("/secret").is_empty());
}

#[tokio::test]
async fn loopback_is_refused_without_allow_private() {
    let srv = serve(Router::new().route("/", get(|| async { html("local") }))).await;
    let mut cfg = config();
    cfg.allow_private = vec![];
    let f = Fetcher::new(cfg).unwrap();

    let err = f.fetch(&srv.url("/"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress { .. }), "{err:?}");
    assert!(err.to_string().contains("allow_private"), "{err}");

    // A name resolving to loopback is refused by the resolver, before any connection.
    let by_name = url::Url::parse(&format!("http://localhost:{}/", srv.addr.port())).unwrap();
    let err = f.fetch(&by_name, None).await.unwrap_err();
    assert!(matches!(err, FetchError::ForbiddenAddress { .. }), "{err:?}");
    assert!(srv.paths().is_empty(), "the server saw {:?}", srv.paths());
}

#[tokio::test]
async fn localhost_is_reachable_when_allowed() {
    let srv = serve(Router::new().route("/", get(|| async { html("local") }))).await;
    let f = Fetcher::new(config()).unwrap();
    let by_name = url::Url::parse(&format!("http://localhost:{}/", srv.addr.port())).unwrap();
    page(f.fetch(&by_name, None).await);
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let app = Router::new().route(
        "/flaky",
        get(move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    StatusCode::BAD_GATEWAY.into_response()
                } else {
                    html("finally")
                }
            }
        }),
    );
    let srv = serve(app).await;
    let f = Fetcher::new(config()).unwrap();
    let p = page(f.fetch(&srv.url("/flaky"), None).await);
    assert_eq!(p.body, b"finally");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(f.stats().retries, 2);
}

#[tokio::test]
async fn server_errors_beyond_the_retries_fail_with_the_status() {
    let srv = serve(Router::new().route("/down", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))).await;
    let mut cfg = config();
    cfg.retries = 1;
    let f = Fetcher::new(cfg).unwrap();
    let err = f.fetch(&srv.url("/down"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 500, .. }), "{err:?}");
    assert_eq!(srv.hits_for("/down").len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let srv = serve(Router::new()).await;
    let f = Fetcher::new(config()).unwrap();
    let err = f.fetch(&srv.url("/missing"), None).await.unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 404, .. }), "{err:?}");
    assert!(err.to_string().contains("/missing") && err.to_string().contains("404"), "{err}");
    assert_eq!(srv.hits_for("/missing").len(), 1);
    assert_eq!(f.stats().errors, 1);
}

#[tokio::test]
async fn only_http_and_https_are_fetched() {
    let f = Fetcher::new(config()).unwrap();
    for u in ["ftp://example.com/a", "file:///etc/passwd", "data:text/html,hi"] {
        let err = f.fetch(&url::Url::parse(u).unwrap(), None).await.unwrap_err();
        assert!(matches!(err, FetchError::UnsupportedScheme { .. }), "{u}: {err:?}");
    }
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg: FetcherConfig = config();
    cfg.retries = 0;
    let f = Fetcher::new(cfg).unwrap();
    let u = url::Url::parse(&format!("http://127.0.0.1:{port}/page")).unwrap();
    let err = f.fetch(&u, None).await.unwrap_err();
    // robots.txt cannot be read, so the site is left alone.
    assert!(matches!(err, FetchError::RobotsUnavailable { .. }), "{err:?}");
}

#[test]
fn user_agent_names_the_contact() {
    let c = yuqing_core::config::CollectConfig {
        user_agent_contact: "https://czj.example.gov.cn/yuqing".into(),
        ..Default::default()
    };
    let fc = FetcherConfig::from_collect(&c);
    assert_eq!(fc.user_agent, format!("yuqing/{} (+https://czj.example.gov.cn/yuqing)", env!("CARGO_PKG_VERSION")));
    assert_eq!(fc.max_body_bytes, c.max_body_bytes);
}
