//! One collection pass over a source, and over many sources at once.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::watch;
use url::Url;
use yuqing_core::config::SourceConfig;
use yuqing_core::SourceKind;
use yuqing_extract::{Article, ExtractOptions};

use crate::canonical::canonical_url;
use crate::fetch::{FetchError, Fetched, Fetcher, Page, Validators};

/// The store side of collection; the binary implements it over its storage.
///
/// Every method may be cancelled at an await point (shutdown), as a crash could
/// interrupt it: implementations keep each call atomic.
pub trait Sink: Send + Sync {
    /// True when an item with this canonical URL was already accepted (or its link
    /// was recorded as seen). Known links are not fetched again.
    fn is_known(&self, canonical_url: &str) -> impl Future<Output = bool> + Send;
    /// Validators stored for a feed or list page URL.
    fn validators(&self, url: &str) -> impl Future<Output = Option<Validators>> + Send;
    /// Stores validators for a feed or list page URL (empty ones clear them).
    fn save_validators(&self, url: &str, v: &Validators) -> impl Future<Output = ()> + Send;
    /// Takes one collected article: stores it, judges it, or drops it as a duplicate.
    fn accept(&self, page: CollectedPage) -> impl Future<Output = Result<Accepted, String>> + Send;
    /// The outcome of fetching a source's feed or list page (the source's health).
    fn record_health(
        &self,
        source: &str,
        at: DateTime<Utc>,
        result: Result<(), String>,
    ) -> impl Future<Output = ()> + Send;
    /// When the source was last polled, whatever the outcome.
    fn last_polled(&self, source: &str) -> impl Future<Output = Option<DateTime<Utc>>> + Send;
    /// Asks to poll `source` now, holding it for `lease_for` (asked again to renew while
    /// the pass runs). Several processes sharing one database each ask; one is granted.
    /// A sink of one process grants always.
    fn lease(&self, source: &str, lease_for: std::time::Duration) -> impl Future<Output = LeaseAnswer> + Send {
        let _ = (source, lease_for);
        async { LeaseAnswer::Granted }
    }
    /// Ends the pass over `source`: its next pass is due at `next_due`.
    fn release(&self, source: &str, next_due: DateTime<Utc>) -> impl Future<Output = ()> + Send {
        let _ = (source, next_due);
        async {}
    }
}

/// A sink's answer to a lease request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseAnswer {
    /// Poll now.
    Granted,
    /// Not now (not due, or another process polls it): ask again at this time.
    Wait(DateTime<Utc>),
}

/// What the sink did with a collected page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    New,
    Duplicate,
    Irrelevant,
}

/// One article page, fetched and extracted, on its way to the sink.
#[derive(Debug, Clone)]
pub struct CollectedPage {
    /// The source's name.
    pub source: String,
    /// The link as the feed or list page gave it.
    pub url: Url,
    /// The URL after redirects.
    pub final_url: Url,
    /// `canonical_url(&url)`: the key `is_known` is asked about next time, so the sink
    /// should record it (and may also record the canonical form of `final_url`).
    pub canonical_url: String,
    pub fetched_at: DateTime<Utc>,
    pub content_type: Option<String>,
    /// The body as received (decompressed), for archiving and re-extraction.
    pub raw: Vec<u8>,
    /// The extracted article; its title and time fall back to the feed entry's.
    pub article: Article,
    pub feed_title: Option<String>,
    pub feed_published: Option<DateTime<FixedOffset>>,
}

/// An event of a pass, for a progress display.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The feed or list page was read and has `links` candidate links.
    SourceStarted {
        source: String,
        links: usize,
    },
    /// One candidate link was handled (fetched, skipped or failed).
    PageDone {
        source: String,
    },
    SourceDone {
        report: PassReport,
    },
}

pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Settings of a pass.
#[derive(Clone)]
pub struct PassOptions {
    /// Zone for times that pages write without one.
    pub tz: chrono_tz::Tz,
    /// Most article pages fetched per source and pass, unless the source says otherwise.
    pub max_articles: usize,
    pub on_progress: Option<ProgressFn>,
}

impl std::fmt::Debug for PassOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassOptions")
            .field("tz", &self.tz)
            .field("max_articles", &self.max_articles)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

/// What one pass over one source did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub source: String,
    /// Pages received with a body (the feed or list page included).
    pub pages_fetched: usize,
    /// The feed or list page answered 304; nothing else was fetched.
    pub not_modified: bool,
    pub new: usize,
    pub duplicate: usize,
    pub irrelevant: usize,
    /// Links skipped because their canonical URL is known.
    pub known: usize,
    /// One sentence per failure; a failure of the feed or list page comes first.
    pub errors: Vec<String>,
}

/// A link to follow, with what the feed said about it.
struct Candidate {
    url: Url,
    title: Option<String>,
    published: Option<DateTime<FixedOffset>>,
}

/// Collects one source once: the feed or list page (conditionally), then each link
/// not known yet, up to the source's or the pass's `max_articles`. Never panics and
/// never stops at one page's failure.
pub async fn collect_source<S: Sink>(
    fetcher: &Fetcher,
    source: &SourceConfig,
    sink: &S,
    opts: &PassOptions,
) -> PassReport {
    guarded_pass(fetcher, source, sink, opts, None).await
}

/// Collects the enabled `sources`, up to `concurrency` at a time, and returns their
/// reports in the order of `sources`. Requests to one host stay one at a time
/// whatever the concurrency: that is the fetcher's job.
pub async fn collect_all<S: Sink>(
    fetcher: &Fetcher,
    sources: &[SourceConfig],
    sink: &S,
    opts: &PassOptions,
    concurrency: usize,
) -> Vec<PassReport> {
    futures_util::stream::iter(sources.iter().filter(|s| s.enabled))
        .map(|source| guarded_pass(fetcher, source, sink, opts, None))
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// `run_pass`, with a panic anywhere below (the sink included) turned into a report.
pub(crate) async fn guarded_pass<S: Sink>(
    fetcher: &Fetcher,
    source: &SourceConfig,
    sink: &S,
    opts: &PassOptions,
    stop: Option<&watch::Receiver<bool>>,
) -> PassReport {
    match AssertUnwindSafe(run_pass(fetcher, source, sink, opts, stop)).catch_unwind().await {
        Ok(report) => report,
        Err(_) => {
            tracing::error!(source = %source.name, "A collection pass panicked; the source is skipped this time.");
            let report = PassReport {
                source: source.name.clone(),
                errors: vec![format!("the collection pass of source `{}` failed unexpectedly", source.name)],
                ..Default::default()
            };
            emit(opts, Progress::SourceDone { report: report.clone() });
            report
        }
    }
}

fn emit(opts: &PassOptions, event: Progress) {
    if let Some(f) = &opts.on_progress {
        f(event);
    }
}

async fn run_pass<S: Sink>(
    fetcher: &Fetcher,
    source: &SourceConfig,
    sink: &S,
    opts: &PassOptions,
    stop: Option<&watch::Receiver<bool>>,
) -> PassReport {
    let mut report = PassReport { source: source.name.clone(), ..Default::default() };
    let list_key = source.url.as_str();
    tracing::debug!(source = %source.name, url = %source.url, "Collecting a source.");

    let stored = sink.validators(list_key).await.filter(|v| !v.is_empty());
    let list = match fetcher.fetch(&source.url, stored.as_ref()).await {
        Ok(Fetched::NotModified) => {
            report.not_modified = true;
            sink.record_health(&source.name, Utc::now(), Ok(())).await;
            return finish(opts, report);
        }
        Ok(Fetched::Page(page)) => page,
        Err(e) => return fail_source(sink, opts, report, e.to_string()).await,
    };
    report.pages_fetched += 1;

    let candidates = match candidates(source, &list, opts).await {
        Ok(c) => c,
        Err(message) => {
            // Validators are not saved: the next pass reads the page in full again.
            return fail_source(sink, opts, report, message).await;
        }
    };
    sink.record_health(&source.name, Utc::now(), Ok(())).await;
    emit(opts, Progress::SourceStarted { source: source.name.clone(), links: candidates.len() });

    let limit = source.max_articles.unwrap_or(opts.max_articles);
    let mut fetched_articles = 0usize;
    // A pass is complete when every unknown link was tried and none failed in a way
    // that may pass later; only then may the next pass trust a 304 for the list.
    let mut complete = true;
    let mut seen = HashSet::new();
    for cand in candidates {
        if stop.is_some_and(|s| *s.borrow()) {
            complete = false;
            break;
        }
        // javascript:, mailto: and the like in a feed or list are not articles.
        if !matches!(cand.url.scheme(), "http" | "https") {
            continue;
        }
        let canonical = canonical_url(&cand.url);
        if !seen.insert(canonical.clone()) {
            continue;
        }
        if sink.is_known(&canonical).await {
            report.known += 1;
            emit(opts, Progress::PageDone { source: source.name.clone() });
            continue;
        }
        if fetched_articles >= limit {
            complete = false;
            break;
        }
        fetched_articles += 1;
        if let Err(e) = collect_article(fetcher, source, sink, opts, cand, canonical, &mut report).await {
            if e.may_pass_later() {
                complete = false;
            }
            tracing::info!(source = %source.name, error = %e.message, "An article page could not be collected.");
            report.errors.push(e.message);
        }
        emit(opts, Progress::PageDone { source: source.name.clone() });
    }

    let validators = if complete { list.validators } else { Validators::default() };
    sink.save_validators(list_key, &validators).await;
    finish(opts, report)
}

async fn fail_source<S: Sink>(sink: &S, opts: &PassOptions, mut report: PassReport, message: String) -> PassReport {
    tracing::warn!(source = %report.source, error = %message, "A source could not be collected.");
    sink.record_health(&report.source, Utc::now(), Err(message.clone())).await;
    report.errors.insert(0, message);
    finish(opts, report)
}

fn finish(opts: &PassOptions, report: PassReport) -> PassReport {
    tracing::info!(
        source = %report.source,
        pages = report.pages_fetched,
        not_modified = report.not_modified,
        new = report.new,
        duplicate = report.duplicate,
        irrelevant = report.irrelevant,
        known = report.known,
        errors = report.errors.len(),
        "Collected a source."
    );
    emit(opts, Progress::SourceDone { report: report.clone() });
    report
}

/// The links of the feed or list page. Parsing runs on the blocking pool: it is CPU
/// work on hostile input, and a panic there comes back as an error.
async fn candidates(source: &SourceConfig, list: &Page, opts: &PassOptions) -> Result<Vec<Candidate>, String> {
    let body = list.body.clone();
    let content_type = list.content_type.clone();
    let base = list.final_url.clone();
    let tz = opts.tz;
    let url = list.final_url.clone();
    match source.kind {
        SourceKind::Feed => {
            let parsed = tokio::task::spawn_blocking(move || {
                yuqing_extract::feed::parse_feed(&body, content_type.as_deref(), &base, tz)
            })
            .await;
            let mut entries = match parsed {
                Ok(Ok(entries)) => entries,
                Ok(Err(e)) => return Err(format!("the feed {url} could not be read: {e}")),
                Err(_) => return Err(format!("the feed {url} could not be read: the parser failed")),
            };
            // Newest first, so that a pass cut short by max_articles takes the latest;
            // undated entries after the dated ones, in feed order (the sort is stable).
            entries.sort_by_key(|e| (e.published_at.is_none(), Reverse(e.published_at)));
            Ok(entries
                .into_iter()
                .map(|e| Candidate { url: e.url, title: e.title, published: e.published_at })
                .collect())
        }
        SourceKind::Page => {
            let pattern = match source.pattern.as_deref().map(regex::Regex::new).transpose() {
                Ok(p) => p,
                Err(e) => return Err(format!("the link pattern of source `{}` is invalid: {e}", source.name)),
            };
            let selector = source.selector.clone();
            let parsed = tokio::task::spawn_blocking(move || {
                let html = yuqing_text::charset::decode_html(&body, content_type.as_deref());
                yuqing_extract::links::find_article_links(&html.text, &base, selector.as_deref(), pattern.as_ref())
            })
            .await;
            match parsed {
                Ok(Ok(links)) => {
                    Ok(links.into_iter().map(|url| Candidate { url, title: None, published: None }).collect())
                }
                Ok(Err(e)) => Err(format!("the links of the list page {url} could not be read: {e}")),
                Err(_) => Err(format!("the links of the list page {url} could not be read: the parser failed")),
            }
        }
    }
}

/// A failure of one article page.
struct ArticleError {
    message: String,
    retryable: bool,
}

impl ArticleError {
    fn may_pass_later(&self) -> bool {
        self.retryable
    }

    fn fetch(e: FetchError) -> Self {
        let retryable =
            matches!(e, FetchError::Timeout { .. } | FetchError::Network { .. } | FetchError::RobotsUnavailable { .. })
                || matches!(e, FetchError::Status { status, .. } if status >= 500 || status == 429);
        Self { message: e.to_string(), retryable }
    }

    fn other(message: String) -> Self {
        Self { message, retryable: false }
    }
}

async fn collect_article<S: Sink>(
    fetcher: &Fetcher,
    source: &SourceConfig,
    sink: &S,
    opts: &PassOptions,
    cand: Candidate,
    canonical: String,
    report: &mut PassReport,
) -> Result<(), ArticleError> {
    let page = match fetcher.fetch(&cand.url, None).await.map_err(ArticleError::fetch)? {
        Fetched::Page(page) => page,
        // Not asked for (no validators were sent); nothing to do.
        Fetched::NotModified => return Ok(()),
    };
    report.pages_fetched += 1;

    let Page { url, final_url, content_type, body, fetched_at, .. } = page;
    let extract_opts = ExtractOptions { tz: opts.tz, now: fetched_at, url: Some(final_url.clone()) };
    let ct = content_type.clone();
    let extracted = tokio::task::spawn_blocking(move || {
        yuqing_extract::extract(&body, ct.as_deref(), &extract_opts).map(|article| (article, body))
    })
    .await;
    let (mut article, raw) = match extracted {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(ArticleError::other(format!("no article could be extracted from {final_url}: {e}"))),
        Err(_) => {
            return Err(ArticleError::other(format!(
                "no article could be extracted from {final_url}: the extractor failed"
            )))
        }
    };
    if article.title.trim().is_empty() {
        if let Some(t) = &cand.title {
            article.title = t.clone();
        }
    }
    if article.published_at.is_none() {
        article.published_at = cand.published;
    }

    let collected = CollectedPage {
        source: source.name.clone(),
        url,
        final_url,
        canonical_url: canonical,
        fetched_at,
        content_type,
        raw,
        article,
        feed_title: cand.title,
        feed_published: cand.published,
    };
    let page_url = collected.url.clone();
    match sink.accept(collected).await {
        Ok(Accepted::New) => report.new += 1,
        Ok(Accepted::Duplicate) => report.duplicate += 1,
        Ok(Accepted::Irrelevant) => report.irrelevant += 1,
        Err(e) => {
            return Err(ArticleError { message: format!("{page_url} could not be stored: {e}"), retryable: true })
        }
    }
    Ok(())
}
