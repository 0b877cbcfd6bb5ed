//! Collection: the polite fetcher, the source kinds (`feed`, `page`) and the scheduler.
//!
//! # Politeness
//!
//! yuqing reads public pages only, and reads them the way a site owner would want a
//! crawler to (PRODUCT.md, "Polite collection"):
//!
//! - **robots.txt** is read once per origin (scheme, host, port) with our product token
//!   `yuqing` and cached for an hour. Every URL, and every redirect target, is checked
//!   against it. Following RFC 9309: a 4xx robots.txt means no rules; a 5xx, a 429 or
//!   no answer means the whole site is left alone for ten minutes.
//! - **An honest User-Agent**: `yuqing/<version> (+<contact>)`, the contact coming
//!   from the configuration.
//! - **One request at a time per host**, and at least `min_host_delay` (or the site's
//!   `Crawl-delay`, capped at 30 s) between the end of one request and the start of
//!   the next, robots.txt requests and retries included. Sources run concurrently;
//!   requests to one host still queue up behind each other.
//! - **Conditional GET** for feeds and list pages, so an unchanged page costs a 304;
//!   links already collected are never fetched again.
//! - **Retries only where they may help**: after a 5xx, a timeout or a connection
//!   error, with exponential backoff and jitter (honouring a short `Retry-After`);
//!   never after a 4xx.
//!
//! # Safety
//!
//! Every byte that comes back, and every URL in it, is hostile input:
//!
//! - **Address guard**: the collector refuses to connect to loopback, private,
//!   link-local, CGNAT, documentation, multicast and other reserved addresses (and
//!   their IPv4-mapped IPv6 forms) unless the administrator allows a network. Names are
//!   checked after DNS resolution, inside the HTTP client's resolver, so a public name
//!   pointing at 169.254.169.254 gets no connection; IP literals are checked before each
//!   request and each redirect hop. Proxies from the environment are ignored, since a
//!   proxy would resolve names behind the guard's back.
//! - **Redirects are followed by hand**, at most `max_redirects`, each hop checked as above.
//! - **Caps**: a connect timeout, a total timeout per attempt that includes reading the
//!   body (a server that stalls mid-body times out), and a cap on the *decompressed*
//!   body size, counted while streaming, so a gzip or brotli bomb stops at the cap.
//! - **No panics on input**: parsing of robots.txt, feeds, list pages and articles
//!   runs on the blocking pool, where a panic in a parser becomes an error of that one
//!   page; a whole pass is also guarded, so one source never takes the collector down.

mod canonical;
mod fetch;
mod guard;
mod pass;
mod schedule;

pub use canonical::{canonical_url, url_fingerprint};
pub use fetch::{
    user_agent, FetchError, FetchStats, Fetched, Fetcher, FetcherConfig, Page, Validators, ROBOTS_MAX_BYTES,
    ROBOTS_TOKEN,
};
pub use pass::{
    collect_all, collect_source, Accepted, CollectedPage, LeaseAnswer, PassOptions, PassReport, Progress, ProgressFn,
    Sink,
};
pub use schedule::{run_scheduler, ScheduleOptions};
