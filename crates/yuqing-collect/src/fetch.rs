//! The polite fetcher: robots.txt, per-host serialisation and delay, address guard,
//! size and time caps, conditional GET, hand-made redirects and bounded retries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use rand::Rng;
use reqwest::header::{self, HeaderMap, HeaderValue};
use texting_robots::Robot;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::{Host, Url};
use yuqing_core::config::CollectConfig;

use crate::guard::{AddressGuard, ForbiddenResolve, GuardedResolver};

/// The product token matched against `User-agent:` lines of robots.txt.
pub const ROBOTS_TOKEN: &str = "yuqing";
/// robots.txt is read up to this many bytes; the rest is ignored (RFC 9309 asks
/// crawlers to parse at least 500 KiB).
pub const ROBOTS_MAX_BYTES: u64 = 512 * 1024;
/// How long a fetched (or absent, 4xx) robots.txt is trusted.
const ROBOTS_TTL: Duration = Duration::from_secs(3600);
/// How long a host whose robots.txt could not be fetched (5xx, 429, network) stays
/// closed before we ask again.
const ROBOTS_FAILURE_TTL: Duration = Duration::from_secs(600);
/// Redirects followed for robots.txt itself (RFC 9309: at least five).
const ROBOTS_MAX_REDIRECTS: usize = 5;
/// A `Crawl-delay` above this is capped, so that one odd robots.txt cannot stall a source.
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);
/// Backoffs between retries never exceed this; a `Retry-After` above it ends the retries.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// The per-host and per-origin tables are pruned of idle entries beyond this size.
const MAX_TABLE: usize = 10_000;

const ACCEPT: &str = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5";
const ACCEPT_LANGUAGE: &str = "zh-CN,zh;q=0.9,en;q=0.5";

/// What the fetcher needs to know; see [`FetcherConfig::from_collect`].
#[derive(Debug, Clone)]
pub struct FetcherConfig {
    /// Sent on every request, robots.txt included.
    pub user_agent: String,
    /// Networks that may be reached although private or reserved.
    pub allow_private: Vec<IpNet>,
    /// Least time between the end of one request and the start of the next to the same host.
    pub min_host_delay: Duration,
    pub connect_timeout: Duration,
    /// Total time of one request attempt, body included.
    pub timeout: Duration,
    /// Cap on a body after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Retries after a 5xx answer, a timeout or a connection error (never after a 4xx).
    pub retries: u32,
}

impl FetcherConfig {
    /// The fetcher settings of the `[collect]` section, with the User-Agent
    /// `yuqing/<version> (+<contact>)`.
    pub fn from_collect(c: &CollectConfig) -> Self {
        Self {
            user_agent: user_agent(&c.user_agent_contact),
            allow_private: c.allow_private.clone(),
            min_host_delay: c.min_host_delay,
            connect_timeout: c.connect_timeout,
            timeout: c.timeout,
            max_body_bytes: c.max_body_bytes,
            max_redirects: c.max_redirects,
            retries: c.retries,
        }
    }
}

/// `yuqing/<version> (+<contact>)`, or `yuqing/<version>` without a contact.
pub fn user_agent(contact: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let contact = contact.trim();
    if contact.is_empty() {
        format!("yuqing/{version}")
    } else {
        format!("yuqing/{version} (+{contact})")
    }
}

/// HTTP validators of a previous answer, sent back for a conditional GET.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    fn from_headers(h: &HeaderMap) -> Self {
        let get = |name| h.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
        Self { etag: get(header::ETAG), last_modified: get(header::LAST_MODIFIED) }
    }
}

/// The outcome of a successful fetch.
// Not boxed: a `Fetched` lives only until it is matched, and `Fetched::Page(page)`
// is the agreed shape other crates match on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: the validators still match.
    NotModified,
    Page(Page),
}

/// A fetched page (a 2xx answer).
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL that was asked for.
    pub url: Url,
    /// The URL after redirects.
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    /// The body, decompressed, at most `max_body_bytes`.
    pub body: Vec<u8>,
    /// The final answer's validators, to send next time.
    pub validators: Validators,
    pub fetched_at: DateTime<Utc>,
}

/// Why a fetch failed. Each message is one sentence naming the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("robots.txt of the site disallows fetching {url}")]
    RobotsDisallowed { url: Url },
    #[error("robots.txt for {url} could not be read ({reason}), so the site is left alone for now")]
    RobotsUnavailable { url: Url, reason: String },
    #[error("refused to connect to {addr} for {url}: the address is private, local or reserved (list it in collect.allow_private to allow it)")]
    ForbiddenAddress { url: Url, addr: String },
    #[error("the body of {url} is larger than the limit of {limit} bytes")]
    TooLarge { url: Url, limit: u64 },
    #[error("too many redirects while fetching {url}")]
    TooManyRedirects { url: Url },
    #[error("{url} redirects to an invalid location `{location}`")]
    BadRedirect { url: Url, location: String },
    #[error("fetching {url} timed out")]
    Timeout { url: Url },
    #[error("{url} answered with HTTP status {status}")]
    Status { url: Url, status: u16 },
    #[error("{url} is not an http or https URL")]
    UnsupportedScheme { url: Url },
    #[error("network error while fetching {url}: {reason}")]
    Network { url: Url, reason: String },
    #[error("the HTTP client could not be set up: {reason}")]
    Client { reason: String },
}

impl FetchError {
    /// The URL the error is about, when there is one.
    pub fn url(&self) -> Option<&Url> {
        match self {
            FetchError::RobotsDisallowed { url }
            | FetchError::RobotsUnavailable { url, .. }
            | FetchError::ForbiddenAddress { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::TooManyRedirects { url }
            | FetchError::BadRedirect { url, .. }
            | FetchError::Timeout { url }
            | FetchError::Status { url, .. }
            | FetchError::UnsupportedScheme { url }
            | FetchError::Network { url, .. } => Some(url),
            FetchError::Client { .. } => None,
        }
    }

    /// Worth another attempt: the server or the network may do better next time.
    fn is_transient(&self) -> bool {
        matches!(self, FetchError::Timeout { .. } | FetchError::Network { .. })
    }
}

/// A snapshot of the fetcher's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// HTTP requests sent (attempts, robots.txt included).
    pub requests: u64,
    /// Body bytes received, after decompression.
    pub bytes: u64,
    /// `fetch` calls that ended in an error.
    pub errors: u64,
    /// `fetch` calls answered 304.
    pub not_modified: u64,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// Redirect hops followed.
    pub redirects: u64,
    /// robots.txt documents requested.
    pub robots_fetches: u64,
    /// `fetch` calls refused by robots.txt.
    pub robots_refusals: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    not_modified: AtomicU64,
    retries: AtomicU64,
    redirects: AtomicU64,
    robots_fetches: AtomicU64,
    robots_refusals: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// The state of one host: held (async-locked) for the whole of each request to it.
#[derive(Debug, Default)]
struct HostSlot {
    /// When the last request to the host ended.
    last: Option<Instant>,
    /// `Crawl-delay` of the host's robots.txt, capped.
    crawl_delay: Option<Duration>,
}

enum RobotsRules {
    AllowAll,
    DisallowAll { reason: String },
    Rules(Robot),
}

struct RobotsEntry {
    rules: Arc<RobotsRules>,
    expires: Instant,
}

type Table<T> = StdMutex<HashMap<String, Arc<Mutex<T>>>>;

/// One answer as read off the wire: the body only for 2xx answers.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// The polite HTTP client. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Fetcher {
    client: reqwest::Client,
    cfg: FetcherConfig,
    guard: Arc<AddressGuard>,
    hosts: Table<HostSlot>,
    robots: Table<Option<RobotsEntry>>,
    counters: Counters,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

impl Fetcher {
    pub fn new(cfg: FetcherConfig) -> Result<Self, FetchError> {
        let guard = Arc::new(AddressGuard::new(cfg.allow_private.clone()));
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            // Redirects are followed by hand so that each hop passes robots.txt and the guard.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself and bypass the address guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { guard: Arc::clone(&guard) }))
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .referer(false)
            .pool_max_idle_per_host(2)
            .build()
            .map_err(|e| FetchError::Client { reason: error_chain(&e) })?;
        Ok(Self {
            client,
            cfg,
            guard,
            hosts: Default::default(),
            robots: Default::default(),
            counters: Default::default(),
        })
    }

    pub fn config(&self) -> &FetcherConfig {
        &self.cfg
    }

    pub fn stats(&self) -> FetchStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FetchStats {
            requests: get(&c.requests),
            bytes: get(&c.bytes),
            errors: get(&c.errors),
            not_modified: get(&c.not_modified),
            retries: get(&c.retries),
            redirects: get(&c.redirects),
            robots_fetches: get(&c.robots_fetches),
            robots_refusals: get(&c.robots_refusals),
        }
    }

    /// Fetches `url` politely; with `validators`, conditionally.
    pub async fn fetch(&self, url: &Url, validators: Option<&Validators>) -> Result<Fetched, FetchError> {
        let result = self.fetch_inner(url, validators).await;
        match &result {
            Ok(Fetched::NotModified) => {
                bump(&self.counters.not_modified, 1);
                tracing::debug!(url = %url, "Not modified.");
            }
            Ok(Fetched::Page(p)) => {
                tracing::debug!(url = %url, final_url = %p.final_url, status = p.status, bytes = p.body.len(), "Fetched.");
            }
            Err(e) => {
                bump(&self.counters.errors, 1);
                if matches!(e, FetchError::RobotsDisallowed { .. }) {
                    bump(&self.counters.robots_refusals, 1);
                }
                tracing::debug!(url = %url, error = %e, "Fetch failed.");
            }
        }
        result
    }

    async fn fetch_inner(&self, url: &Url, validators: Option<&Validators>) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut redirects = 0usize;
        loop {
            self.check_target(&current)?;
            self.check_robots(&current).await?;
            // Validators go on every hop: the chain is normally the same as last time,
            // and the hop that serves the page is the one that can answer 304.
            let raw = self.send_with_retries(&current, validators, self.cfg.max_body_bytes, false).await?;
            match raw.status {
                200..=299 => {
                    let content_type =
                        raw.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    return Ok(Fetched::Page(Page {
                        url: url.clone(),
                        final_url: current,
                        status: raw.status,
                        content_type,
                        validators: Validators::from_headers(&raw.headers),
                        body: raw.body,
                        fetched_at: Utc::now(),
                    }));
                }
                304 => return Ok(Fetched::NotModified),
                301 | 302 | 303 | 307 | 308 => {
                    let next = redirect_target(&current, &raw.headers)?;
                    redirects += 1;
                    if redirects > self.cfg.max_redirects {
                        return Err(FetchError::TooManyRedirects { url: url.clone() });
                    }
                    bump(&self.counters.redirects, 1);
                    tracing::debug!(from = %current, to = %next, "Following a redirect.");
                    current = next;
                }
                status => return Err(FetchError::Status { url: current, status }),
            }
        }
    }

    /// Scheme and IP-literal checks, done before anything is sent. Names are checked
    /// by the resolver once resolved.
    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::UnsupportedScheme { url: url.clone() });
        }
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => std::net::IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => std::net::IpAddr::V6(v6),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::UnsupportedScheme { url: url.clone() }),
        };
        if self.guard.allows(ip) {
            Ok(())
        } else {
            tracing::warn!(url = %url, addr = %ip, "Refused a private or reserved address.");
            Err(FetchError::ForbiddenAddress { url: url.clone(), addr: ip.to_string() })
        }
    }

    async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        let cell = table_entry(&self.robots, &origin_key(url));
        // Held while robots.txt is fetched, so that concurrent fetches to one origin ask
        // for it once. Lock order is always robots cell, then host slot (never the other
        // way round), so this cannot deadlock with `send_once`.
        let mut entry = cell.lock().await;
        let now = Instant::now();
        let rules = match &*entry {
            Some(e) if e.expires > now => Arc::clone(&e.rules),
            _ => {
                let (rules, ttl) = self.fetch_robots(url).await?;
                let rules = Arc::new(rules);
                *entry = Some(RobotsEntry { rules: Arc::clone(&rules), expires: Instant::now() + ttl });
                rules
            }
        };
        drop(entry);
        match &*rules {
            RobotsRules::AllowAll => Ok(()),
            RobotsRules::DisallowAll { reason } => {
                Err(FetchError::RobotsUnavailable { url: url.clone(), reason: reason.clone() })
            }
            RobotsRules::Rules(robot) if robot.allowed(url.as_str()) => Ok(()),
            RobotsRules::Rules(_) => Err(FetchError::RobotsDisallowed { url: url.clone() }),
        }
    }

    /// Reads and parses the robots.txt of `url`'s origin, following the usual
    /// convention (RFC 9309): 2xx → its rules; 4xx → no rules; 5xx, 429 or no
    /// answer → everything disallowed for a while. The one error returned (and not
    /// cached) is a refused address of the origin itself: that is about `url`, not
    /// about its robots.txt.
    async fn fetch_robots(&self, url: &Url) -> Result<(RobotsRules, Duration), FetchError> {
        let mut current = match url.join("/robots.txt") {
            Ok(u) => u,
            Err(e) => return Ok((RobotsRules::DisallowAll { reason: e.to_string() }, ROBOTS_FAILURE_TTL)),
        };
        for hop in 0..=ROBOTS_MAX_REDIRECTS {
            let result = match self.check_target(&current) {
                Ok(()) => {
                    bump(&self.counters.robots_fetches, 1);
                    self.send_with_retries(&current, None, ROBOTS_MAX_BYTES, true).await
                }
                Err(e) => Err(e),
            };
            let raw = match result {
                Ok(raw) => raw,
                Err(FetchError::ForbiddenAddress { addr, .. }) if hop == 0 => {
                    return Err(FetchError::ForbiddenAddress { url: url.clone(), addr });
                }
                Err(e) => {
                    tracing::info!(url = %current, error = %e, "robots.txt could not be fetched; the site is left alone for now.");
                    return Ok((RobotsRules::DisallowAll { reason: e.to_string() }, ROBOTS_FAILURE_TTL));
                }
            };
            match raw.status {
                200..=299 => return Ok(self.parse_robots(url, &current, raw.body).await),
                301 | 302 | 303 | 307 | 308 => match redirect_target(&current, &raw.headers) {
                    Ok(next) => current = next,
                    Err(_) => return Ok((RobotsRules::AllowAll, ROBOTS_TTL)),
                },
                429 | 500..=599 => {
                    let reason = format!("HTTP status {}", raw.status);
                    tracing::info!(url = %current, status = raw.status, "robots.txt answered with a server error; the site is left alone for now.");
                    return Ok((RobotsRules::DisallowAll { reason }, ROBOTS_FAILURE_TTL));
                }
                _ => return Ok((RobotsRules::AllowAll, ROBOTS_TTL)),
            }
        }
        // More redirects than the convention asks to follow: treated as absent.
        Ok((RobotsRules::AllowAll, ROBOTS_TTL))
    }

    async fn parse_robots(&self, url: &Url, robots_url: &Url, body: Vec<u8>) -> (RobotsRules, Duration) {
        // Parsed off the async workers, and a panic in the parser on a hostile file
        // becomes a JoinError instead of taking the collector down.
        let parsed =
            tokio::task::spawn_blocking(move || Robot::new(ROBOTS_TOKEN, &body).map_err(|e| e.to_string())).await;
        match parsed {
            Ok(Ok(robot)) => {
                if let Some(delay) = robot.delay.filter(|d| d.is_finite() && *d > 0.0) {
                    let delay = Duration::from_secs_f32(delay.min(MAX_CRAWL_DELAY.as_secs_f32()));
                    let slot = table_entry(&self.hosts, &host_key(url));
                    slot.lock().await.crawl_delay = Some(delay);
                }
                (RobotsRules::Rules(robot), ROBOTS_TTL)
            }
            Ok(Err(reason)) => {
                tracing::warn!(url = %robots_url, error = %reason, "robots.txt could not be parsed; the site is left alone.");
                (RobotsRules::DisallowAll { reason: format!("unparseable: {reason}") }, ROBOTS_TTL)
            }
            Err(e) => {
                tracing::warn!(url = %robots_url, error = %e, "The robots.txt parser failed; the site is left alone.");
                (RobotsRules::DisallowAll { reason: "unparseable".to_owned() }, ROBOTS_TTL)
            }
        }
    }

    /// Sends one request, retrying transient failures with exponential backoff and
    /// jitter. A 5xx answer left after the retries is returned as it is.
    async fn send_with_retries(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        cap: u64,
        truncate: bool,
    ) -> Result<Raw, FetchError> {
        let mut attempt: u32 = 0;
        loop {
            let result = self.send_once(url, validators, cap, truncate).await;
            let retry_after = match &result {
                Ok(raw) if raw.status >= 500 => retry_after(&raw.headers),
                Err(e) if e.is_transient() => None,
                _ => return result,
            };
            if attempt >= self.cfg.retries {
                return result;
            }
            let base = self.cfg.min_host_delay.max(Duration::from_millis(100));
            let backoff = base.saturating_mul(1u32 << attempt.min(16)).min(MAX_BACKOFF);
            let jitter = base.mul_f64(rand::thread_rng().gen_range(0.0..0.5));
            let wait = match retry_after {
                Some(ra) if ra > MAX_BACKOFF => return result,
                Some(ra) => ra.max(backoff),
                None => backoff + jitter,
            };
            attempt += 1;
            bump(&self.counters.retries, 1);
            match &result {
                Ok(raw) => {
                    tracing::debug!(url = %url, status = raw.status, attempt, wait_ms = wait.as_millis() as u64, "Retrying after a server error.")
                }
                Err(e) => {
                    tracing::debug!(url = %url, error = %e, attempt, wait_ms = wait.as_millis() as u64, "Retrying after a transient error.")
                }
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt, holding the host's slot from the delay through the end of the body.
    async fn send_once(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        cap: u64,
        truncate: bool,
    ) -> Result<Raw, FetchError> {
        let slot = table_entry(&self.hosts, &host_key(url));
        let mut slot = slot.lock().await;
        if let Some(last) = slot.last {
            let delay = self.cfg.min_host_delay.max(slot.crawl_delay.unwrap_or_default());
            tokio::time::sleep_until(last + delay).await;
        }
        bump(&self.counters.requests, 1);
        let result = match tokio::time::timeout(self.cfg.timeout, self.exchange(url, validators, cap, truncate)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout { url: url.clone() }),
        };
        slot.last = Some(Instant::now());
        result
    }

    async fn exchange(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        cap: u64,
        truncate: bool,
    ) -> Result<Raw, FetchError> {
        let mut req = self
            .client
            .get(url.clone())
            .header(header::ACCEPT, ACCEPT)
            .header(header::ACCEPT_LANGUAGE, ACCEPT_LANGUAGE);
        if let Some(v) = validators {
            // A stored validator that is not a valid header value is skipped, not fatal.
            if let Some(etag) = v.etag.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v.last_modified.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut resp = req.send().await.map_err(|e| map_reqwest(url, &e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        if (200..300).contains(&status) {
            // content_length() is the decompressed length when known (None when the body
            // is compressed), so this early refusal never misfires on compressed bodies.
            if !truncate && resp.content_length().is_some_and(|n| n > cap) {
                return Err(FetchError::TooLarge { url: url.clone(), limit: cap });
            }
            // Chunks arrive decompressed; counting them caps the decompressed size,
            // which is what stops a compression bomb.
            while let Some(chunk) = resp.chunk().await.map_err(|e| map_reqwest(url, &e))? {
                bump(&self.counters.bytes, chunk.len() as u64);
                let room = usize::try_from(cap).unwrap_or(usize::MAX).saturating_sub(body.len());
                if chunk.len() > room {
                    if truncate {
                        body.extend_from_slice(&chunk[..room]);
                        break;
                    }
                    return Err(FetchError::TooLarge { url: url.clone(), limit: cap });
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Raw { status, headers, body })
    }
}

fn redirect_target(current: &Url, headers: &HeaderMap) -> Result<Url, FetchError> {
    let Some(location) = headers.get(header::LOCATION) else {
        return Err(FetchError::BadRedirect { url: current.clone(), location: String::new() });
    };
    // Non-UTF-8 bytes in Location do occur (raw GBK paths); read them lossily.
    let location = String::from_utf8_lossy(location.as_bytes()).trim().to_owned();
    current.join(&location).map_err(|_| FetchError::BadRedirect { url: current.clone(), location })
}

/// `Retry-After` in seconds (the HTTP-date form is rare and read as absent).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// robots.txt scope: scheme, host and port.
fn origin_key(url: &Url) -> String {
    format!("{}://{}:{}", url.scheme(), url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
}

/// Rate-limit scope: the host, whatever the scheme or port (same machine).
fn host_key(url: &Url) -> String {
    url.host_str().unwrap_or("").to_ascii_lowercase()
}

fn table_entry<T: Default>(table: &Table<T>, key: &str) -> Arc<Mutex<T>> {
    // A poisoned lock only means another thread panicked while holding it; the map
    // itself is still consistent (each operation is a single insert or lookup).
    let mut map = table.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(entry) = map.get(key) {
        return Arc::clone(entry);
    }
    if map.len() >= MAX_TABLE {
        // Entries nobody holds right now; their delay has long passed in practice.
        map.retain(|_, v| Arc::strong_count(v) > 1);
    }
    let entry = Arc::new(Mutex::new(T::default()));
    map.insert(key.to_owned(), Arc::clone(&entry));
    entry
}

fn map_reqwest(url: &Url, e: &reqwest::Error) -> FetchError {
    if let Some(f) = find_forbidden(e) {
        return FetchError::ForbiddenAddress { url: url.clone(), addr: format!("{} ({})", f.addrs, f.host) };
    }
    if e.is_timeout() {
        return FetchError::Timeout { url: url.clone() };
    }
    FetchError::Network { url: url.clone(), reason: error_chain(e) }
}

/// The resolver's refusal, wherever the client wrapped it.
fn find_forbidden<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a ForbiddenResolve> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(f) = err.downcast_ref::<ForbiddenResolve>() {
            return Some(f);
        }
        // io::Error's source() skips the error it wraps, so look inside explicitly.
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(f) = find_forbidden(inner) {
                return Some(f);
            }
        }
        cur = err.source();
    }
    None
}

/// "outer: inner: innermost", without repeating a message the wrapper already shows.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        let msg = err.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = err.source();
    }
    out
}
