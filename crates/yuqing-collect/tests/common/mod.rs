//! A local test server that records every request it sees.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use yuqing_collect::FetcherConfig;

#[derive(Debug, Clone)]
pub struct Hit {
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub at: Instant,
}

pub type Hits = Arc<Mutex<Vec<Hit>>>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub hits: Hits,
}

impl TestServer {
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{}", self.addr, path)).unwrap()
    }

    pub fn hits_for(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path == path).cloned().collect()
    }

    pub fn paths(&self) -> Vec<String> {
        self.hits.lock().unwrap().iter().map(|h| h.path.clone()).collect()
    }
}

async fn record(State(hits): State<Hits>, req: Request, next: Next) -> Response {
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    hits.lock().unwrap().push(Hit { path, headers: req.headers().clone(), at: Instant::now() });
    next.run(req).await
}

/// Serves `router` on 127.0.0.1, port chosen by the OS, recording each request.
pub async fn serve(router: Router) -> TestServer {
    let hits: Hits = Arc::default();
    let app = router.layer(middleware::from_fn_with_state(hits.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    TestServer { addr, hits }
}

pub const UA: &str = "yuqing/0.1.0 (+https://finance.example.gov.cn/crawler)";

/// Fast settings that may reach 127.0.0.0/8.
pub fn config() -> FetcherConfig {
    FetcherConfig {
        user_agent: UA.to_owned(),
        allow_private: vec!["127.0.0.0/8".parse().unwrap()],
        min_host_delay: Duration::from_millis(10),
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(1500),
        max_body_bytes: 64 * 1024,
        max_redirects: 5,
        retries: 2,
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams::default();
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out
}
