//! Storage for yuqing: the embedded SQLite database (the default: WAL mode, a tantivy
//! search index beside it, see [`index`]) or a shared PostgreSQL database (full text in
//! the database, see [`search`]), through sqlx with numbered migrations per dialect
//! (see [`db`] for why one query text serves both).
//!
//! The database is the truth. Every item is written in one transaction together with
//! its SimHash bands and its raw page; ingest is idempotent on the canonical URL, so
//! collecting the same pages again adds nothing. The index follows the database and can
//! be rebuilt from it (`yuqing reindex`); on open, whatever the index missed (a crash
//! between the two commits) is caught up.
//!
//! On SQLite, writes are serialised inside the process by one async mutex: SQLite has
//! one writer anyway, and a deferred transaction that reads before it writes could
//! otherwise fail with SQLITE_BUSY when another connection commits in between. On
//! PostgreSQL several processes write at once: uniqueness is the database's (canonical
//! URLs, one open case per item, outbox keys), and work is shared out by leases taken
//! with `FOR UPDATE SKIP LOCKED` (sources in [`leases`], alerts in the outbox).

mod alerts;
mod bulletin_drafts;
mod bulletins;
mod cases;
mod counts;
pub mod db;
mod deferred;
mod duty;
mod events;
pub mod index;
pub mod leases;
mod library;
mod periods;
mod rule_counts;
pub mod search;
pub mod spikes;
#[cfg(feature = "testing")]
pub mod testing;
mod tone_corrections;
mod users;

pub use db::Backend;
pub use leases::Lease;
pub use library::{LibraryEntry, LibraryPage, LibraryQuery, Outcome};

pub use alerts::{
    ack_token, ack_token_valid, AckBy, AckOutcome, AlertRecord, EscalationRow, OpenAlert, OutboxCounts, OutboxRow,
};
pub use bulletin_drafts::{DraftError, DraftRow, IssueNumbers, IssuedBulletin};
pub use bulletins::BulletinRow;
pub use cases::{CaseDetail, CaseError, CaseFilter, CaseSummary, StepRecord};
pub use duty::{DutyNow, DutyStoreError, Imported, PeriodRecord, ShiftRecord};
pub use events::{EventDetail, EventHour, EventItem, EventSource, EventSummary, JoinReason, TierCount};
pub use periods::{AnswerBrief, CaseBrief, CaseTimes, PeriodItem, LEAD_CHARS};
pub use rule_counts::{RuleCounts, MAX_COUNTED_ITEMS};
pub use spikes::{HourCount, SpikeFinding, SpikePlan, SpikeRecord};
pub use tone_corrections::{
    corrected_score, training_tsv, tsv_field, ToneCorrection, ToneOutcome, TrainingRow, EXPORT_CONTENT_CHARS,
    MAX_CORRECTION_NOTE_CHARS, TRAINING_TSV_HEADER,
};

pub use users::User;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use db::Sql;
use index::{IndexDoc, SearchIndex};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::MutexGuard;
use yuqing_core::config::SourceConfig;
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_text::segment::ItemWords;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot connect to the database {url}: {source}; check `[store] url` (or --database-url / YUQING_DATABASE_URL) and that the server is up")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("search index error: {0}")]
    Index(String),
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Busy(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Times in the store: UTC, fixed width, so that text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// The raw page of an item, kept compressed for re-extraction.
#[derive(Debug, Clone)]
pub struct RawPage {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// An item with the CPU work of its ingest done ([`Store::prepare`]).
pub struct PreparedItem {
    item: NewItem,
    /// Content type and compressed body of the raw page.
    raw: Option<(Option<String>, Vec<u8>)>,
    terms: events::Prepared,
    /// The item's search tokens, from the same segmentation as its key terms.
    search: search::Prepared,
}

/// A judged, relevant item ready to be stored.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub source: String,
    pub tier: Tier,
    pub url: String,
    pub canonical_url: String,
    pub title: String,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub fetched_at: DateTime<Utc>,
    pub content: String,
    pub encoding: String,
    pub tone: Tone,
    pub tone_score: f32,
    pub categories: Vec<Category>,
    pub matched_rules: Vec<String>,
    pub level: Level,
    pub level_reason: String,
    pub simhash: u64,
    pub raw: Option<RawPage>,
    /// Alert channels this item goes to (from the routes); written to the outbox in the
    /// item's own transaction. A repost of an earlier item alerts nobody.
    pub alert_channels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new item, first of its kind.
    New { id: i64 },
    /// A new item that repeats an earlier one (a repost).
    Duplicate { id: i64, of: i64 },
    /// The canonical URL was already stored: nothing was written.
    Known { id: i64 },
}

/// An item as the stream, search and API show it (INTERFACES.md search object, extended).
#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub published_at: Option<String>,
    pub fetched_at: String,
    pub source: String,
    pub tier: Tier,
    pub tone: Tone,
    pub tone_score: f32,
    pub categories: Vec<Category>,
    pub matched_rules: Vec<String>,
    pub level: Level,
    pub level_reason: String,
    pub duplicate_of: Option<i64>,
    /// The tone was set by hand (倾向更正), not by the model; see `tone_corrections`.
    pub tone_corrected: bool,
}

/// An item with its text and its duplicates.
#[derive(Debug, Clone, Serialize)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: ItemSummary,
    pub canonical_url: String,
    pub encoding: String,
    pub content: String,
    /// Later items that repeat this one (when it is first-seen).
    pub duplicates: Vec<ItemSummary>,
}

/// Filters of the stream, search and API.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub tone: Option<Tone>,
    pub category: Option<Category>,
    pub tier: Option<Tier>,
    pub source: Option<String>,
    pub level: Option<Level>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// Full-text query; empty or None lists by time only.
    pub q: Option<String>,
    pub filter: ItemFilter,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemPage {
    pub items: Vec<ItemSummary>,
    pub total: usize,
    /// `total` is PostgreSQL's estimate, not a count: a very common term's count was
    /// still running when the page was due (see `counts.rs`). Shown as "约 N"; the API
    /// sends `"total_estimated": true` only then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_estimated: bool,
}

/// A source with its health.
#[derive(Debug, Clone, Serialize)]
pub struct SourceHealth {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub tier: String,
    pub weight: f64,
    pub interval_secs: i64,
    pub enabled: bool,
    pub last_polled_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub failures_in_row: i64,
    pub items: i64,
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub items: i64,
    pub duplicates: i64,
    pub seen_irrelevant: i64,
    pub sources: i64,
    pub sources_failing: i64,
}

/// First-seen items per band whose fingerprints an ingest compares with, at most
/// (newest first): eight bands, so at most 200 fingerprints an item.
const DUPLICATE_CANDIDATES_PER_BAND: usize = 25;

/// Runs CPU work or file syncs of a few milliseconds (a search of the embedded index, its
/// commit, a page's judgement in the pipeline) without holding up the other tasks of the
/// runtime's worker: with two workers under 100 connections, a search run inline made
/// every request queued behind it wait. Inline on a current-thread runtime (tests), where
/// `block_in_place` is not allowed.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// PostgreSQL search: the most rows a newest-first walk may be expected to test for one
/// page of hits for the walk to be tried ...
const WALK_MAX_ROWS: f64 = 5_000.0;
/// ... and the most it tests before the GIN index answers instead.
const WALK_ROWS: i64 = 20_000;

pub struct Store {
    pool: AnyPool,
    /// Where write transactions run ([`Store::begin_write`]): one connection on SQLite
    /// (see `open_with`), the pool itself on PostgreSQL.
    write_pool: AnyPool,
    backend: Backend,
    /// The embedded search index; `None` on PostgreSQL, where the items table holds
    /// the full text itself.
    index: Option<SearchIndex>,
    write_lock: tokio::sync::Mutex<()>,
    /// Names this process in leases (host, pid and a random part).
    owner: String,
    /// Largest item id added to the index writer but not yet committed.
    pending_max_id: AtomicU64,
    data_dir: PathBuf,
    deadlines: std::sync::RwLock<yuqing_cases::DeadlineConfig>,
    /// Grouping items into events (see [`events`]).
    events: events::EventState,
    /// List totals counted a moment ago (see [`counts`]).
    counts: std::sync::Arc<counts::CountCache>,
    /// Pages of large lists, served again for a second (see `counts.rs`).
    pages: counts::PageCache<ItemPage>,
    /// The stream filter's source names and the top bar's duty line (see [`counts::Recent`]).
    source_names_recent: counts::Recent<Vec<String>>,
    duty_recent: counts::Recent<DutyNow>,
    /// PostgreSQL's estimate of the items table's rows (see `newest_first_walk_is_short`).
    item_estimate: counts::Recent<i64>,
    /// `[spikes] max_item_age` in seconds: older items are not counted (see [`spikes`]).
    spike_max_age_secs: std::sync::atomic::AtomicI64,
    /// The `[level]` table and rule priorities that spread raises levels by.
    judging: std::sync::RwLock<events::Judging>,
    /// Items waiting for their ingest transaction (group commit, [`Store::ingest_prepared`]).
    ingest_queue: std::sync::Mutex<Vec<Queued>>,
    /// Held by the task that runs the queued ingests.
    ingest_turn: tokio::sync::Mutex<()>,
    /// Ingest transactions committed by this process (items per transaction = the
    /// items stored over this: how well group commit works).
    ingest_transactions: std::sync::atomic::AtomicU64,
}

/// An item waiting for its transaction, and where its outcome goes.
type Queued = (PreparedItem, tokio::sync::oneshot::Sender<Result<IngestOutcome>>);

/// At most this many items share one ingest transaction: long enough to amortise the
/// commit and the index update, short enough that the write lock is never held long
/// (a few hundred milliseconds at worst on a slow disk).
pub const MAX_INGEST_BATCH: usize = 64;

/// The PostgreSQL advisory lock that serialises ingest transactions across processes
/// (`yuqing` in ASCII).
const INGEST_LOCK_KEY: i64 = 0x79_75_71_69_6e_67;

/// Whether PostgreSQL aborted a transaction for a deadlock (40P01) or a serialisation
/// failure (40001): the same work succeeds when tried again.
fn is_retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Db(sqlx::Error::Database(d)) => matches!(d.code().as_deref(), Some("40P01") | Some("40001")),
        _ => false,
    }
}

/// An item written in a transaction not yet committed: what the search index gets after.
struct Written {
    id: i64,
    level: Level,
    sort_ts: i64,
}

pub(crate) const ITEM_COLUMNS: &str = "id, url, title, published_at, fetched_at, source, tier, tone, tone_score, \
     categories, matched_rules, level, level_reason, duplicate_of, tone_corrected_at";

fn to_i64(h: u64) -> i64 {
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// The eight 8-bit bands of a fingerprint. Two fingerprints within 7 bits share at least
/// one band exactly (pigeonhole), and at `NEAR_DUPLICATE_BITS` = 8 nearly always do.
fn bands(h: u64) -> [(i64, i64); 8] {
    [0u32, 1, 2, 3, 4, 5, 6, 7].map(|b| (i64::from(b), ((h >> (8 * b)) & 0xff) as i64))
}

/// Level of the raw pages' zstd frames. Level 1 compresses a 340 KB news page about
/// as small as deflate's default (ratio about 0.2) at several times its speed: deflate
/// took 15 ms a page, the largest single cost of an ingest (`bench-ingest`).
const RAW_ZSTD_LEVEL: i32 = 1;

/// Largest raw page read back (the fetcher caps bodies far below this); a damaged or
/// hostile frame cannot make a reader allocate more.
const MAX_RAW_PAGE: u64 = 64 * 1024 * 1024;

/// The zstd frame magic, as stored (little-endian 0xFD2FB528). No valid raw deflate
/// stream begins with these bytes (its first block would be a stored block whose
/// length and complement disagree), so older rows, written as deflate, are told apart.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

fn compress(body: &[u8]) -> Vec<u8> {
    match zstd::bulk::compress(body, RAW_ZSTD_LEVEL) {
        Ok(z) => z,
        Err(_) => {
            // zstd only fails on allocation or parameter errors; keep the page anyway.
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing into a Vec cannot fail.
            let _ = e.write_all(body);
            e.finish().unwrap_or_default()
        }
    }
}

/// Decompresses a stored raw page: a zstd frame, or raw deflate as rows written before
/// zstd were. At most [`MAX_RAW_PAGE`] bytes come out.
pub fn decompress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    if body.starts_with(&ZSTD_MAGIC) {
        zstd::stream::read::Decoder::new(body)?.take(MAX_RAW_PAGE + 1).read_to_end(&mut out)?;
    } else {
        flate2::read::DeflateDecoder::new(body).take(MAX_RAW_PAGE + 1).read_to_end(&mut out)?;
    }
    if out.len() as u64 > MAX_RAW_PAGE {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "raw page larger than 64 MB"));
    }
    Ok(out)
}

pub(crate) fn summary_from_row(r: &AnyRow) -> Result<ItemSummary> {
    let tier: String = r.try_get("tier")?;
    let tone: String = r.try_get("tone")?;
    let level: String = r.try_get("level")?;
    let cats: String = r.try_get("categories")?;
    let rules: String = r.try_get("matched_rules")?;
    let bad = |what: &str, v: &str| StoreError::Invalid(format!("stored {what} `{v}` is unknown"));
    Ok(ItemSummary {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        title: r.try_get("title")?,
        published_at: r.try_get("published_at")?,
        fetched_at: r.try_get("fetched_at")?,
        source: r.try_get("source")?,
        tier: Tier::from_id(&tier).ok_or_else(|| bad("tier", &tier))?,
        tone: Tone::from_id(&tone).ok_or_else(|| bad("tone", &tone))?,
        tone_score: r.try_get::<f64, _>("tone_score")? as f32,
        categories: serde_json::from_str::<Vec<String>>(&cats)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| Category::from_id(c))
            .collect(),
        matched_rules: serde_json::from_str(&rules).unwrap_or_default(),
        level: Level::from_id(&level).ok_or_else(|| bad("level", &level))?,
        level_reason: r.try_get("level_reason")?,
        duplicate_of: r.try_get("duplicate_of")?,
        tone_corrected: r.try_get::<Option<String>, _>("tone_corrected_at")?.is_some(),
    })
}

impl Store {
    /// Opens (creating as needed) the embedded store in `data_dir`: `yuqing.db` and `index/`.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        Store::open_with(data_dir, "").await
    }

    /// Opens the store: the embedded SQLite database in `data_dir` when `database_url` is
    /// empty, else the PostgreSQL database it names (migrated as needed). `data_dir` is
    /// still created: raw pages stay in the database, but commands keep their files there.
    pub async fn open_with(data_dir: &Path, database_url: &str) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Io { path: data_dir.to_path_buf(), source: e })?;
        let url = database_url.trim();
        let (pool, backend) = if url.is_empty() {
            // Readers keep 4 MiB of page cache each (SQLite's default is 2 MiB): another
            // connection's write empties a reader's cache anyway, and while the collector
            // writes all the time, 16 MiB each only added to serve's resident memory.
            (db::connect_sqlite(&data_dir.join("yuqing.db"), 4, 4096).await?, Backend::Sqlite)
        } else if db::is_postgres_url(url) {
            (db::connect_postgres(url, 8).await?, Backend::Postgres)
        } else {
            return Err(StoreError::Invalid(format!(
                "the database URL {} is not supported: use postgres://… or leave it empty for the embedded SQLite file",
                db::redact_url(url)
            )));
        };
        db::migrate(&pool, backend).await?;
        // On SQLite, write transactions always take the same connection: SQLite drops a
        // connection's page cache whenever another connection wrote since its last
        // transaction, so writes rotating over the pool read the indexes from the file
        // again every time (about 140 reads an item at a hundred thousand items).
        let write_pool = match backend {
            // The writer keeps 16 MiB: at a million items the ingest's index lookups
            // otherwise read the same pages from the file again and again.
            Backend::Sqlite => db::connect_sqlite(&data_dir.join("yuqing.db"), 1, 16384).await?,
            Backend::Postgres => pool.clone(),
        };
        let (index, created) = match backend {
            Backend::Sqlite => {
                let (index, created) = SearchIndex::open(&data_dir.join("index"))?;
                (Some(index), created)
            }
            Backend::Postgres => (None, false),
        };
        let owner = format!(
            "{}-{}-{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
            std::process::id(),
            rand::random::<u32>()
        );
        let store = Store {
            pool,
            write_pool,
            backend,
            index,
            write_lock: tokio::sync::Mutex::new(()),
            owner,
            pending_max_id: AtomicU64::new(0),
            counts: std::sync::Arc::default(),
            pages: counts::PageCache::default(),
            source_names_recent: counts::Recent::default(),
            duty_recent: counts::Recent::default(),
            item_estimate: counts::Recent::default(),
            data_dir: data_dir.to_path_buf(),
            deadlines: std::sync::RwLock::new(yuqing_cases::DeadlineConfig::default()),
            events: events::EventState::new(),
            spike_max_age_secs: std::sync::atomic::AtomicI64::new(48 * 3600),
            judging: std::sync::RwLock::default(),
            ingest_queue: std::sync::Mutex::new(Vec::new()),
            ingest_turn: tokio::sync::Mutex::new(()),
            ingest_transactions: std::sync::atomic::AtomicU64::new(0),
        };
        match store.catch_up_index(created).await {
            // Another process (a running `serve`) owns the index and will catch it up.
            Err(StoreError::Busy(why)) => tracing::debug!(%why, "index catch-up left to the process that writes it"),
            other => other?,
        }
        // Tone corrections the index missed (a crash after their commit); see `tone_corrections`.
        match store.catch_up_tone_index().await {
            Err(StoreError::Busy(why)) => {
                tracing::debug!(%why, "tone corrections left to the process that writes the index")
            }
            other => other?,
        }
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This process's name in leases.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred one that reads first could not upgrade when another
    /// process (`yuqing user add` beside `serve`) wrote in between, and would fail with
    /// SQLITE_BUSY instead of waiting its turn.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        // Bumped before the transaction, so a count that starts after this write
        // commits is never mistaken for one from before it.
        self.counts.bump();
        Ok(match self.backend {
            Backend::Sqlite => self.write_pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write_pool.begin().await?,
        })
    }

    /// Serialises writers inside the process on SQLite (see the crate comment); nothing
    /// on PostgreSQL, whose transactions take their own locks.
    pub(crate) async fn write_guard(&self) -> Option<MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Brings the index up to date with the store: indexes items past the last index
    /// commit, and rebuilds everything when the counts still disagree.
    async fn catch_up_index(&self, created: bool) -> Result<()> {
        let Some(index) = &self.index else { return Ok(()) };
        let (count, max_id): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(id) FROM items").fetch_one(&self.pool).await?;
        let max_id = max_id.unwrap_or(0);
        if created && count > 0 {
            self.reindex(|_, _| {}).await?;
            return Ok(());
        }
        let committed = index.committed_max_id();
        if committed < max_id {
            tracing::info!(from = committed, to = max_id, "indexing items the search index missed");
            self.index_range(index, committed, |_, _| {}).await?;
        }
        if index.num_docs() != count as u64 {
            tracing::warn!(
                index = index.num_docs(),
                store = count,
                "search index disagrees with the store; rebuilding"
            );
            self.reindex(|_, _| {}).await?;
        }
        Ok(())
    }

    async fn index_range(&self, index: &SearchIndex, after_id: i64, progress: impl Fn(usize, usize)) -> Result<usize> {
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE id > $1").bind(after_id).fetch_one(&self.pool).await?;
        let mut last = after_id;
        let mut done = 0usize;
        loop {
            let rows = sqlx::query(
                "SELECT id, title, content, source, tier, tone, level, categories, sort_at FROM items WHERE id > $1 ORDER BY id LIMIT 500",
            )
            .bind(last)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut owned = Vec::with_capacity(rows.len());
            for r in &rows {
                let cats: String = r.try_get("categories")?;
                let sort_at: String = r.try_get("sort_at")?;
                owned.push((
                    r.try_get::<i64, _>("id")?,
                    r.try_get::<String, _>("title")?,
                    r.try_get::<String, _>("content")?,
                    r.try_get::<String, _>("source")?,
                    r.try_get::<String, _>("tier")?,
                    r.try_get::<String, _>("tone")?,
                    r.try_get::<String, _>("level")?,
                    serde_json::from_str::<Vec<String>>(&cats).unwrap_or_default(),
                    parse_ts(&sort_at).map_or(0, |t| t.timestamp_millis()),
                ));
            }
            let docs: Vec<IndexDoc> = owned
                .iter()
                .map(|o| IndexDoc {
                    id: o.0,
                    title: &o.1,
                    content: &o.2,
                    tokens: None,
                    source: &o.3,
                    tier: &o.4,
                    tone: &o.5,
                    level: &o.6,
                    categories: &o.7,
                    sort_ts: o.8,
                })
                .collect();
            index.add(&docs).await?;
            last = owned.last().map_or(last, |o| o.0);
            done += owned.len();
            progress(done, total as usize);
        }
        index.commit(last).await?;
        Ok(done)
    }

    /// Rebuilds the search index from the store (on PostgreSQL: the full-text column of
    /// every item). `progress(done, total)` is called per batch.
    pub async fn reindex(&self, progress: impl Fn(usize, usize)) -> Result<usize> {
        let Some(index) = &self.index else { return self.reindex_postgres(progress).await };
        let _w = self.write_guard().await;
        index.clear().await?;
        self.index_range(index, 0, progress).await
    }

    async fn reindex_postgres(&self, progress: impl Fn(usize, usize)) -> Result<usize> {
        // Rows per batch: one read, segmentation on every core, one UPDATE. (Row by row
        // took 3 ms an item on one core: 50 minutes for a million items.)
        const BATCH: i64 = 500;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items").fetch_one(&self.pool).await?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (mut last, mut done) = (0i64, 0usize);
        loop {
            let rows: Vec<(i64, String, String)> =
                sqlx::query_as("SELECT id, title, content FROM items WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(last)
                    .bind(BATCH)
                    .fetch_all(&self.pool)
                    .await?;
            let Some(end) = rows.last().map(|r| r.0) else { break };
            let n = rows.len();
            let chunk = n.div_ceil(threads).max(1);
            let mut rows = rows;
            let mut parts = Vec::new();
            while !rows.is_empty() {
                let rest = rows.split_off(chunk.min(rows.len()));
                let part = std::mem::replace(&mut rows, rest);
                parts.push(tokio::task::spawn_blocking(move || {
                    part.into_iter()
                        .map(|(id, title, content)| (id, search::tsvector_literal(&title, &content)))
                        .collect::<Vec<_>>()
                }));
            }
            let mut q = Sql::new("UPDATE items AS i SET search_tsv = v.t::tsvector FROM (VALUES ");
            let mut first = true;
            for part in parts {
                let part = part.await.map_err(|e| StoreError::Invalid(format!("segmentation failed: {e}")))?;
                for (id, tsv) in part {
                    q.push(if first { "(" } else { ", (" }).bind(id).push("::bigint, ").bind(tsv).push("::text)");
                    first = false;
                }
            }
            q.push(") AS v (id, t) WHERE i.id = v.id");
            let (sql, args) = q.finish();
            sqlx::query_with(&sql, args).execute(&self.pool).await?;
            last = end;
            done += n;
            progress(done, total as usize);
        }
        Ok(done)
    }

    /// Claims the right to write items (tantivy's writer lock) before a collection starts:
    /// one process writes an embedded data folder at a time. On PostgreSQL any number of
    /// processes may write.
    pub async fn claim_writer(&self) -> Result<()> {
        match &self.index {
            Some(index) => index.claim_writer().await,
            None => Ok(()),
        }
    }

    /// Makes everything ingested so far visible to search.
    pub async fn flush(&self) -> Result<()> {
        let pending = self.pending_max_id.swap(0, Ordering::SeqCst);
        if let (Some(index), true) = (&self.index, pending > 0) {
            index.commit(pending as i64).await?;
        }
        Ok(())
    }

    /// Records the configured sources (health columns are kept across restarts).
    pub async fn sync_sources(&self, sources: &[SourceConfig]) -> Result<()> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sources SET in_config = 0").execute(&mut *tx).await?;
        for s in sources {
            sqlx::query(
                "INSERT INTO sources (name, kind, url, tier, weight, interval_secs, enabled, in_config)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
                 ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, url = excluded.url, tier = excluded.tier,
                   weight = excluded.weight, interval_secs = excluded.interval_secs, enabled = excluded.enabled, in_config = 1",
            )
            .bind(&s.name)
            .bind(s.kind.id())
            .bind(s.url.as_str())
            .bind(s.tier.id())
            .bind(s.weight)
            .bind(s.interval.as_secs() as i64)
            .bind(i64::from(s.enabled))
            .execute(&mut *tx)
            .await?;
        }
        let done = tx.commit().await;
        self.source_names_recent.clear();
        Ok(done?)
    }

    /// Whether a canonical URL is stored as an item or was seen and found irrelevant.
    pub async fn is_known(&self, canonical_url: &str, fingerprint: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM items WHERE canonical_url = $1 UNION ALL SELECT 1 FROM seen_urls WHERE fingerprint = $2 LIMIT 1",
        )
        .bind(canonical_url)
        .bind(fingerprint)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Records that a page matched no rule: only its URL's fingerprint is kept.
    pub async fn mark_seen(&self, fingerprint: &str, at: DateTime<Utc>) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query("INSERT INTO seen_urls (fingerprint, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(fingerprint)
            .bind(ts(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a relevant item, idempotently: a canonical URL already stored gives `Known`.
    /// A near-duplicate text (SimHash within `NEAR_DUPLICATE_BITS`) of an earlier item is
    /// stored with `duplicate_of` pointing at the first-seen item of its group.
    pub async fn ingest(&self, item: NewItem) -> Result<IngestOutcome> {
        self.ingest_prepared(self.prepare(item)).await
    }

    /// The CPU work of an ingest that needs no database: the raw page compressed and the
    /// item's key terms for event grouping. Any thread may run it, many at once, so a
    /// caller that ingests many pages (collection, `bench-ingest`) prepares them on its
    /// worker threads and keeps only the transaction on the serial path.
    pub fn prepare(&self, item: NewItem) -> PreparedItem {
        self.prepare_with_words(item, None)
    }

    /// [`Store::prepare`] with the item's title and text already segmented (the
    /// pipeline segments them once for the fingerprint, and the same words give the
    /// key terms and the search tokens here). Words that do not fit the item's text are
    /// ignored and the text segmented anew.
    pub fn prepare_with_words(&self, mut item: NewItem, words: Option<ItemWords>) -> PreparedItem {
        // A NUL character is valid UTF-8 but PostgreSQL refuses it in text: a hostile
        // or broken page must not fail there and pass on SQLite. It carries no meaning.
        for text in [&mut item.title, &mut item.content] {
            if text.contains('\0') {
                text.retain(|c| c != '\0');
            }
        }
        let words = match words {
            Some(w) if w.fits(&item.title, &item.content) => w,
            _ => ItemWords::new(&item.title, &item.content),
        };
        let raw = item.raw.take().map(|r| (r.content_type, compress(&r.body)));
        let terms = self.event_terms(&item, &words);
        let search = search::Prepared::new(self.backend, &words, &item.title, &item.content);
        PreparedItem { item, raw, terms, search }
    }

    /// [`Store::ingest`] of an item [`Store::prepare`] made.
    ///
    /// Group commit: ingests that arrive while another is being written wait in a queue,
    /// and the next to take its turn writes up to [`MAX_INGEST_BATCH`] of them in one
    /// transaction (and one index update). A single caller sees one item, one
    /// transaction, as before; the collector's concurrent fetches and `bench-ingest` share
    /// commits. If anything in a shared transaction fails, it is rolled back and every
    /// item of it is written again alone, so one bad item fails only itself.
    ///
    /// A caller that gives up (its future dropped) before its turn leaves its item in
    /// the queue: the next caller to take the turn, or the next ingest, writes it. A
    /// caller dropped while writing a batch rolls the batch back; the other callers of
    /// that batch get an error and nothing of theirs is stored (the collector fetches
    /// such pages again).
    pub async fn ingest_prepared(&self, prepared: PreparedItem) -> Result<IngestOutcome> {
        self.warm_events().await;
        let (answer, mut outcome) = tokio::sync::oneshot::channel();
        self.ingest_queue.lock().unwrap_or_else(|p| p.into_inner()).push((prepared, answer));
        // Whichever comes first: another caller's batch writes this item (its outcome
        // arrives), or this caller's turn to write what is queued. A caller whose item is
        // written must not wait for the turn: when every caller did, the many callers
        // already answered passed the turn on one batch at a time, each to write the one
        // or two items queued meanwhile, and batches never grew (PostgreSQL, 64 pages in
        // flight: 1.3 items a transaction).
        let turn = {
            let turn = std::pin::pin!(self.ingest_turn.lock());
            match futures_util::future::select(&mut outcome, turn).await {
                futures_util::future::Either::Left((result, _)) => {
                    return result.unwrap_or_else(|_| Err(interrupted()))
                }
                futures_util::future::Either::Right((turn, _)) => turn,
            }
        };
        {
            let _turn = turn;
            // What is queued, batch after batch, until this caller's own item is written;
            // then the turn passes on to the callers whose items are still queued (each
            // waits for it above). Writing until the queue was empty kept one caller, and
            // the fetch behind it, writing other callers' items for as long as pages kept
            // coming. Items left by callers that all gave up wait for the next ingest.
            loop {
                let batch: Vec<Queued> = {
                    let mut q = self.ingest_queue.lock().unwrap_or_else(|p| p.into_inner());
                    let n = q.len().min(MAX_INGEST_BATCH);
                    q.drain(..n).collect()
                };
                if batch.is_empty() {
                    break;
                }
                self.write_batch(batch).await;
                match outcome.try_recv() {
                    Ok(result) => return result,
                    Err(tokio::sync::oneshot::error::TryRecvError::Closed) => return Err(interrupted()),
                    Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
                }
            }
        }
        outcome.await.unwrap_or_else(|_| Err(interrupted()))
    }

    /// Ingest transactions this process committed (`/metrics`). With many ingests in
    /// flight, far fewer than the items they stored.
    pub fn ingest_transactions(&self) -> u64 {
        self.ingest_transactions.load(Ordering::Relaxed)
    }

    /// Writes queued items: together, or (after a failure, or a canonical URL another
    /// process stored meanwhile) one by one.
    async fn write_batch(&self, batch: Vec<Queued>) {
        let (items, answers): (Vec<PreparedItem>, Vec<_>) = batch.into_iter().unzip();
        tracing::trace!(items = items.len(), "one ingest transaction");
        let together = if items.len() > 1 { self.ingest_together(&items).await } else { Ok(None) };
        match together {
            Ok(Some(all)) => {
                for (answer, outcome) in answers.into_iter().zip(all) {
                    let _ = answer.send(Ok(outcome));
                }
            }
            other => {
                if let Err(e) = other {
                    tracing::debug!(error = %e, items = items.len(), "a shared ingest transaction failed; writing its items one by one");
                }
                // Each caller learns its outcome as soon as it is known.
                for (item, answer) in items.iter().zip(answers) {
                    let _ = answer.send(self.ingest_alone(item).await);
                }
            }
        }
    }

    /// One item in its own transaction; once more if PostgreSQL chose it as the victim of
    /// a deadlock or serialisation failure with another transaction (an ingest of another
    /// process is serialised by the advisory lock, but a correction or a case step is not).
    async fn ingest_alone(&self, item: &PreparedItem) -> Result<IngestOutcome> {
        match self.ingest_alone_once(item).await {
            Err(e) if is_retryable(&e) => {
                tracing::debug!(error = %e, "an ingest lost a deadlock; trying it once more");
                self.ingest_alone_once(item).await
            }
            other => other,
        }
    }

    async fn ingest_alone_once(&self, item: &PreparedItem) -> Result<IngestOutcome> {
        match self.ingest_together(std::slice::from_ref(item)).await? {
            Some(mut one) => one.pop().ok_or_else(|| StoreError::Invalid("an ingest returned no outcome".into())),
            None => {
                let id: i64 = sqlx::query_scalar("SELECT id FROM items WHERE canonical_url = $1")
                    .bind(&item.item.canonical_url)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(IngestOutcome::Known { id })
            }
        }
    }

    /// Items in one transaction, then their index documents. `None`: another process
    /// stored one of their canonical URLs meanwhile (rolled back; write them alone).
    async fn ingest_together(&self, items: &[PreparedItem]) -> Result<Option<Vec<IngestOutcome>>> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // One ingest transaction at a time across processes: a batch locks the rows of
            // many events and hourly counts in the order its items came, and two batches of
            // two processes would deadlock each other. SQLite's writer lock does this there.
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(INGEST_LOCK_KEY).execute(&mut *tx).await?;
        }
        let mut outcomes = Vec::with_capacity(items.len());
        let mut written = Vec::with_capacity(items.len());
        // The batch's canonical URLs already stored, in one statement; an item of the batch
        // joins them once inserted, so a second copy of it in the same batch is `Known`.
        let mut known = known_urls(&mut tx, items).await?;
        let mut deferred = deferred::Deferred::default();
        for p in items {
            match self.ingest_in_tx(&mut tx, &mut known, &mut deferred, p).await? {
                Some((outcome, w)) => {
                    outcomes.push(outcome);
                    written.push(w);
                }
                None => return Ok(None),
            }
        }
        deferred.flush(&mut tx).await?;
        tx.commit().await?;
        self.ingest_transactions.fetch_add(1, Ordering::Relaxed);
        let Some(index) = &self.index else { return Ok(Some(outcomes)) };
        let mut cats: Vec<Vec<String>> = Vec::with_capacity(items.len());
        for p in items {
            cats.push(p.item.categories.iter().map(|c| c.id().to_string()).collect());
        }
        let docs: Vec<IndexDoc> = items
            .iter()
            .zip(&written)
            .zip(&cats)
            .filter_map(|((p, w), cats)| {
                let w = w.as_ref()?;
                let item = &p.item;
                Some(IndexDoc {
                    id: w.id,
                    title: &item.title,
                    content: &item.content,
                    tokens: p.search.index_tokens(),
                    source: &item.source,
                    tier: item.tier.id(),
                    tone: item.tone.id(),
                    level: w.level.id(),
                    categories: cats,
                    sort_ts: w.sort_ts,
                })
            })
            .collect();
        // The items are stored: an index that refuses them now is caught up from the store
        // when it is next opened (its count then disagrees), so the outcomes stand.
        if !docs.is_empty() {
            match index.add(&docs).await {
                Ok(()) => {
                    let max = docs.iter().map(|d| d.id).max().unwrap_or(0);
                    self.pending_max_id.fetch_max(max as u64, Ordering::SeqCst);
                }
                Err(e) => {
                    tracing::error!(error = %e, items = docs.len(), "stored items could not be added to the search index; it is rebuilt from the store when next opened")
                }
            }
        }
        Ok(Some(outcomes))
    }

    /// One item's writes inside an ingest transaction: its outcome, and what the index
    /// gets once committed (`None` for a URL already stored). `Ok(None)`: another process
    /// stored the canonical URL since this transaction looked.
    async fn ingest_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        known: &mut HashMap<String, i64>,
        deferred: &mut deferred::Deferred,
        prepared: &PreparedItem,
    ) -> Result<Option<(IngestOutcome, Option<Written>)>> {
        let mut item = prepared.item.clone();
        let raw = &prepared.raw;
        let event_terms = prepared.terms.clone();
        if let Some(&id) = known.get(&item.canonical_url) {
            return Ok(Some((IngestOutcome::Known { id }, None)));
        }
        // Too little text makes fingerprints meaningless: no near-duplicate grouping then.
        let text_chars = item.title.chars().count() + item.content.chars().count();
        let mut duplicate_of: Option<i64> = None;
        if text_chars >= 40 {
            let b = bands(item.simhash);
            // Bounded per band, newest first, each arm read backwards along the bands'
            // primary key: a constant number of rows an ingest. (One OR over the eight
            // bands, ordered and limited as a whole, read every item sharing any band,
            // about N/256 rows per band: at 480,000 items a third of the ingest time.)
            // A hot story's band values are shared by many items; the most recent are the
            // ones a repost copies.
            let mut q = Sql::new("SELECT i.id, i.simhash, i.duplicate_of FROM items i WHERE i.id IN (");
            for (n, (band, value)) in b.iter().enumerate() {
                if n > 0 {
                    q.push(" UNION ALL ");
                }
                q.push("SELECT item_id FROM (SELECT item_id FROM item_simhash_bands WHERE band = ")
                    .bind(*band)
                    .push(" AND value = ")
                    .bind(*value)
                    .push(&format!(" ORDER BY item_id DESC LIMIT {DUPLICATE_CANDIDATES_PER_BAND}) b{n}"));
            }
            q.push(")");
            let (sql, args) = q.finish();
            let rows = sqlx::query_with(&sql, args).fetch_all(&mut **tx).await?;
            for r in rows {
                let other: i64 = r.try_get("simhash")?;
                let other = u64::from_ne_bytes(other.to_ne_bytes());
                if yuqing_text::simhash::hamming(other, item.simhash) <= yuqing_text::simhash::NEAR_DUPLICATE_BITS {
                    let id: i64 = r.try_get("id")?;
                    let root = r.try_get::<Option<i64>, _>("duplicate_of")?.unwrap_or(id);
                    duplicate_of = Some(duplicate_of.map_or(root, |d| d.min(root)));
                }
            }
        }
        let sort_at = item.published_at.map(|t| t.with_timezone(&Utc)).unwrap_or(item.fetched_at);
        // A page that claims to be from the future sorts at its fetch time.
        let sort_at = if sort_at > item.fetched_at + chrono::Duration::hours(1) { item.fetched_at } else { sort_at };
        let cats: Vec<&str> = item.categories.iter().map(|c| c.id()).collect();
        let cats_json = serde_json::to_string(&cats).unwrap_or_else(|_| "[]".into());
        let rules_json = serde_json::to_string(&item.matched_rules).unwrap_or_else(|_| "[]".into());
        // The item's event (see `events.rs`), and its level raised by the event's spread.
        let placement = self.place_event_in_tx(tx, deferred, sort_at, duplicate_of, event_terms).await?;
        self.level_by_spread(tx, &mut item, &placement).await?;
        // On PostgreSQL the item carries its own full text (`search.rs`); on SQLite the
        // tantivy index gets it after the commit.
        let insert = match self.backend {
            Backend::Sqlite => {
                "INSERT INTO items (source, tier, url, canonical_url, title, published_at, fetched_at, sort_at, content,
                   encoding, tone, tone_score, categories, matched_rules, level, level_reason, simhash, duplicate_of, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                 ON CONFLICT (canonical_url) DO NOTHING RETURNING id"
            }
            Backend::Postgres => {
                "INSERT INTO items (source, tier, url, canonical_url, title, published_at, fetched_at, sort_at, content,
                   encoding, tone, tone_score, categories, matched_rules, level, level_reason, simhash, duplicate_of, created_at,
                   search_tsv)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::tsvector)
                 ON CONFLICT (canonical_url) DO NOTHING RETURNING id"
            }
        };
        let mut insert = sqlx::query_scalar::<_, i64>(insert)
            .bind(&item.source)
            .bind(item.tier.id())
            .bind(&item.url)
            .bind(&item.canonical_url)
            .bind(&item.title)
            .bind(item.published_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)))
            .bind(ts(item.fetched_at))
            .bind(ts(sort_at))
            .bind(&item.content)
            .bind(&item.encoding)
            .bind(item.tone.id())
            .bind(f64::from(item.tone_score))
            .bind(&cats_json)
            .bind(&rules_json)
            .bind(item.level.id())
            .bind(&item.level_reason)
            .bind(to_i64(item.simhash))
            .bind(duplicate_of)
            .bind(ts(Utc::now()));
        if self.backend == Backend::Postgres {
            insert = insert.bind(prepared.search.tsvector(&item.title, &item.content));
        }
        let Some(id) = insert.fetch_optional(&mut **tx).await? else {
            // Another process stored the same canonical URL since the check above: the
            // caller rolls back and tries again alone.
            return Ok(None);
        };
        known.insert(item.canonical_url.clone(), id);
        // Only first-seen items carry bands: a repost is grouped with the first-seen item
        // it is near (no drift along a chain of reposts), and the candidate sets stay as
        // small as the number of distinct stories, not of copies (a hot story reposted
        // ten thousand times made every later ingest read ten thousand rows).
        if text_chars >= 40 && duplicate_of.is_none() {
            // One statement for the eight bands (each statement is a round trip).
            let mut q = Sql::new("INSERT INTO item_simhash_bands (band, value, item_id) VALUES ");
            for (n, (band, value)) in bands(item.simhash).into_iter().enumerate() {
                if n > 0 {
                    q.push(", ");
                }
                q.push("(").bind(band).push(", ").bind(value).push(", ").bind(id).push(")");
            }
            let (sql, args) = q.finish();
            sqlx::query_with(&sql, args).execute(&mut **tx).await?;
        }
        // The raw page, the alert outbox and the hourly counts are written with the
        // batch's others just before it commits (`deferred.rs`): nothing here reads them.
        if let Some((content_type, body)) = &raw {
            deferred.raw_page(id, content_type.clone(), body.clone(), ts(Utc::now()));
        }
        if duplicate_of.is_none() {
            let key = format!("item-{id}");
            for channel in &item.alert_channels {
                deferred.alert(key.clone(), channel.clone(), id, ts(Utc::now()));
            }
        }
        self.record_event_in_tx(tx, deferred, id, &item, sort_at, placement).await?;
        // Hourly counts per rule and category, for spikes (see `spikes.rs`).
        self.count_hourly(deferred, &item, sort_at);
        // The system reports a major-sensitive item itself, in the same transaction, so
        // that a crash can never leave such an item without its case. A repost of an
        // item that already has an open case adds nothing.
        if item.level == Level::MajorSensitive {
            let root_has_case = match duplicate_of {
                Some(root) => {
                    sqlx::query_scalar::<_, i64>("SELECT id FROM cases WHERE item_id = $1 AND state != 'closed'")
                        .bind(root)
                        .fetch_optional(&mut **tx)
                        .await?
                        .is_some()
                }
                None => false,
            };
            if !root_has_case {
                let note = format!("系统自动报送：{}", item.level_reason);
                self.report_in_tx(tx, id, &yuqing_cases::Actor::system(), &note, Utc::now())
                    .await
                    .map_err(|e| StoreError::Invalid(format!("could not open the case of item {id}: {e}")))?;
            }
        }
        let written = Written { id, level: item.level, sort_ts: sort_at.timestamp_millis() };
        let outcome = match duplicate_of {
            Some(of) => IngestOutcome::Duplicate { id, of },
            None => IngestOutcome::New { id },
        };
        Ok(Some((outcome, Some(written))))
    }

    /// The raw page of an item, decompressed, when still kept.
    pub async fn raw_page(&self, id: i64) -> Result<Option<RawPage>> {
        let row = sqlx::query("SELECT content_type, body FROM raw_pages WHERE item_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let body: Vec<u8> = r.try_get("body")?;
                let body = decompress(&body)
                    .map_err(|e| StoreError::Invalid(format!("raw page of item {id} is damaged: {e}")))?;
                Ok(Some(RawPage { content_type: r.try_get("content_type")?, body }))
            }
        }
    }

    /// Deletes raw pages older than `retention`; items are kept. Returns how many went.
    pub async fn prune_raw(&self, retention: Duration) -> Result<u64> {
        let cutoff = Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(36500));
        let _w = self.write_guard().await;
        let r = sqlx::query("DELETE FROM raw_pages WHERE stored_at < $1").bind(ts(cutoff)).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }

    pub async fn validators(&self, url: &str) -> Result<Option<(Option<String>, Option<String>)>> {
        let row = sqlx::query("SELECT etag, last_modified FROM http_validators WHERE url = $1")
            .bind(url)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get("etag")?, r.try_get("last_modified")?)),
            None => None,
        })
    }

    pub async fn save_validators(&self, url: &str, etag: Option<&str>, last_modified: Option<&str>) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query(
            "INSERT INTO http_validators (url, etag, last_modified, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, updated_at = excluded.updated_at",
        )
        .bind(url)
        .bind(etag)
        .bind(last_modified)
        .bind(ts(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the outcome of one poll of a source.
    pub async fn record_health(
        &self,
        source: &str,
        at: DateTime<Utc>,
        result: std::result::Result<(), String>,
    ) -> Result<()> {
        let _w = self.write_guard().await;
        let q = match &result {
            Ok(()) => sqlx::query(
                "UPDATE sources SET last_polled_at = $1, last_success_at = $1, failures_in_row = 0 WHERE name = $2",
            )
            .bind(ts(at))
            .bind(source),
            Err(e) => sqlx::query(
                "UPDATE sources SET last_polled_at = $1, last_error_at = $1, last_error = $3,
                   failures_in_row = failures_in_row + 1 WHERE name = $2",
            )
            .bind(ts(at))
            .bind(source)
            .bind(e.chars().take(1000).collect::<String>()),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    pub async fn last_polled(&self, source: &str) -> Result<Option<DateTime<Utc>>> {
        let v: Option<Option<String>> = sqlx::query_scalar("SELECT last_polled_at FROM sources WHERE name = $1")
            .bind(source)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.flatten().as_deref().and_then(parse_ts))
    }

    /// The configured sources' names in the order of [`Store::sources`], without their
    /// item counts: the stream's source filter, on every page view (counting a million
    /// items per source there cost more than the page itself).
    pub async fn source_names(&self) -> Result<Vec<String>> {
        if let Some(names) = self.source_names_recent.get() {
            return Ok(names);
        }
        let generation = self.source_names_recent.before_read();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sources WHERE in_config = 1
             ORDER BY CASE tier WHEN 'local' THEN 1 WHEN 'home-city' THEN 2 WHEN 'home-province' THEN 3
               WHEN 'central' THEN 4 WHEN 'portal' THEN 5 WHEN 'provincial' THEN 6 WHEN 'other' THEN 7 ELSE 8 END, name",
        )
        .fetch_all(&self.pool)
        .await?;
        self.source_names_recent.put(generation, names.clone());
        Ok(names)
    }

    /// Cases not closed: the navigation's badge on every page. Cached as list totals are
    /// (`counts.rs`): exact while nothing was written since for fewer than 10,000, else
    /// a moment old.
    pub async fn open_case_count(&self) -> Result<i64> {
        const KEY: &str = "(open cases)";
        if let Some(n) = self.counts.get(KEY) {
            return Ok(n);
        }
        let arrived = self.counts.before_count();
        let gate = self.counts.gate(KEY);
        let _counting = gate.lock().await;
        if let Some(n) = self.counts.fresh(KEY, arrived) {
            return Ok(n);
        }
        let generation = self.counts.before_count();
        let started = std::time::Instant::now();
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE state != 'closed'").fetch_one(&self.pool).await?;
        self.counts.put(KEY.to_string(), generation, n, started.elapsed());
        Ok(n)
    }

    /// Sources in the configuration, with their health.
    pub async fn sources(&self) -> Result<Vec<SourceHealth>> {
        let rows = sqlx::query(
            "SELECT s.*, (SELECT COUNT(*) FROM items i WHERE i.source = s.name) AS items
             FROM sources s WHERE in_config = 1
             ORDER BY CASE s.tier WHEN 'local' THEN 1 WHEN 'home-city' THEN 2 WHEN 'home-province' THEN 3
               WHEN 'central' THEN 4 WHEN 'portal' THEN 5 WHEN 'provincial' THEN 6 WHEN 'other' THEN 7 ELSE 8 END, s.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SourceHealth {
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    url: r.try_get("url")?,
                    tier: r.try_get("tier")?,
                    weight: r.try_get("weight")?,
                    interval_secs: r.try_get("interval_secs")?,
                    enabled: r.try_get::<i64, _>("enabled")? != 0,
                    last_polled_at: r.try_get("last_polled_at")?,
                    last_success_at: r.try_get("last_success_at")?,
                    last_error: r.try_get("last_error")?,
                    last_error_at: r.try_get("last_error_at")?,
                    failures_in_row: r.try_get("failures_in_row")?,
                    items: r.try_get("items")?,
                })
            })
            .collect()
    }

    /// Tests only: on PostgreSQL, how long a search waits for its count before it answers
    /// with the planner's estimate, the smallest estimate it answers with (by default
    /// 250 ms and 10,000), and a wait before every count (none by default): a test store
    /// is too small to make a count slow.
    #[doc(hidden)]
    pub fn tune_counting(&self, budget: Duration, estimate_from: i64, count_delay: Duration) {
        self.counts.tune(budget, estimate_from, count_delay);
    }

    /// Forgets the embedded index's cached search results (see `index.rs`) and the
    /// pages of large lists kept for a second (`counts.rs`), so that the next search is
    /// run on the index or the database: `bench-search` times that work, not the caches.
    pub fn forget_search_results(&self) {
        self.pages.edited();
        if let Some(index) = &self.index {
            index.forget_results();
        }
    }

    /// The stream and search: newest first, filtered, paged.
    pub async fn items(&self, q: &ItemQuery) -> Result<ItemPage> {
        let limit = q.limit.clamp(1, 500);
        let text = q.q.as_deref().map(str::trim).unwrap_or("");
        let query = search::parse(text);
        if let (Some(node), Some(index)) = (&query, &self.index) {
            // The page as the index is now: kept for the index generation, as the ids
            // are (`SearchIndex::search`), so it is what reading it again would give,
            // but for a tone corrected meanwhile (`PageCache::edited` clears it then).
            // Kept, the 50 summaries are not read again for every desk searching the
            // same term (SQLite, 30,000 items, 100 connections: 988-1,057 -> 1,621-1,979
            // req/s, BENCHMARKS.md).
            // After a commit the first reader reads the page anew while the others keep
            // the page of the generation before for those few milliseconds.
            let page_key = format!("index|{node:?}|{:?}|{limit}|{}", q.filter, q.offset);
            let generation = index.generation();
            if let Some(page) = self.pages.get_version(&page_key, generation) {
                return Ok(page);
            }
            let edits = self.pages.before_read();
            let (ids, total) = blocking(|| index.search(node, &q.filter, limit, q.offset))?;
            let items = self.summaries(&ids).await?;
            let page = ItemPage { items, total, total_estimated: false };
            self.pages.put_version(page_key, edits, generation, page.clone());
            return Ok(page);
        }
        // PostgreSQL full text (or no query at all): one SQL filter for count and page.
        let tsquery = query.as_ref().map(search::to_tsquery);
        // The filter and query spell the cache key; the total is counted again when the
        // cache may not answer (see `counts.rs`).
        let key = format!("{:?}|{:?}", q.filter, tsquery);
        // A page of a large list is served again for a second (`counts::PageCache`).
        let page_key = format!("{key}|{limit}|{}", q.offset);
        if let Some(page) = self.pages.get(&page_key) {
            return Ok(page);
        }
        let edits = self.pages.before_read();
        let page = self.items_from_sql(key, tsquery, &q.filter, limit, q.offset).await?;
        if page.total as i64 >= counts::EXACT_BELOW {
            self.pages.put(page_key, edits, page.clone());
        }
        Ok(page)
    }

    /// [`Store::items`] from SQL: the total (cached) and the page.
    async fn items_from_sql(
        &self,
        key: String,
        tsquery: Option<String>,
        filter: &ItemFilter,
        limit: usize,
        offset: usize,
    ) -> Result<ItemPage> {
        let (total, total_estimated) = match self.counts.get(&key) {
            Some(total) => (total, false),
            None => self.count_items(key, tsquery.clone(), filter).await?,
        };
        // A term in a tenth of a million items: PostgreSQL's planner fetches all its hits
        // through the GIN index and sorts them (a second and more), where walking the
        // newest-first index and testing each row finds a page of 50 after some 500 rows.
        // When the count says the walk is short, the newest WALK_ROWS rows are tested
        // (a subquery with its own LIMIT, which the GIN index cannot serve); a story's
        // hits may all be older than that, and then the page is not full and the GIN
        // plan below answers, having cost one bounded walk more.
        if let Some(tsq) = &tsquery {
            if self.newest_first_walk_is_short(total, limit + offset).await {
                let mut walk = Sql::new(format!(
                    "SELECT {ITEM_COLUMNS} FROM (SELECT {ITEM_COLUMNS}, sort_at, search_tsv FROM items WHERE 1 = 1"
                ));
                push_filter(&mut walk, filter);
                walk.push(" ORDER BY sort_at DESC, id DESC LIMIT ").bind(WALK_ROWS);
                walk.push(") w WHERE search_tsv @@ ").bind(tsq.clone()).push("::tsquery");
                walk.push(" ORDER BY sort_at DESC, id DESC LIMIT ").bind(limit as i64);
                walk.push(" OFFSET ").bind(offset as i64);
                let (sql, args) = walk.finish();
                let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await?;
                if rows.len() == limit {
                    let items = rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
                    return Ok(ItemPage { items, total: total as usize, total_estimated });
                }
            }
        }
        let mut list_q = count_sql(&format!("SELECT {ITEM_COLUMNS}"), tsquery.as_deref(), filter);
        list_q.push(" ORDER BY sort_at DESC, id DESC LIMIT ").bind(limit as i64);
        list_q.push(" OFFSET ").bind(offset as i64);
        let (sql, args) = list_q.finish();
        let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await?;
        let items = rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        Ok(ItemPage { items, total: total as usize, total_estimated })
    }

    /// Counts the items the filter and full-text query select, for [`Store::items`]
    /// when the cache had no total: one reader counts while the others wait for it (the
    /// gate, see `counts.rs`). On PostgreSQL a count still running after
    /// [`counts::COUNT_BUDGET`] goes on in the background and the page answers with
    /// the total kept before, or the planner's estimate when that is large (the second
    /// value is then true); readers that come meanwhile take the same.
    async fn count_items(&self, key: String, tsquery: Option<String>, filter: &ItemFilter) -> Result<(i64, bool)> {
        let postgres = self.backend == Backend::Postgres;
        let arrived = self.counts.before_count();
        let gate = self.counts.gate(&key);
        let guard = loop {
            if !postgres {
                break gate.clone().lock_owned().await;
            }
            match tokio::time::timeout(self.counts.budget(), gate.clone().lock_owned()).await {
                Ok(guard) => break guard,
                Err(_) => {
                    if let Some(n) = self.counts.estimate(&key) {
                        return Ok((n, true));
                    }
                    if let Some(n) = self.counts.stale(&key) {
                        return Ok((n, false));
                    }
                }
            }
        };
        if let Some(total) = self.counts.fresh(&key, arrived) {
            return Ok((total, false));
        }
        let generation = self.counts.before_count();
        let (pool, counts, filter_owned, tsq, task_key) =
            (self.pool.clone(), self.counts.clone(), filter.clone(), tsquery.clone(), key.clone());
        let mut count = tokio::spawn(async move {
            let _counting = guard;
            if let Some(delay) = counts.delay() {
                tokio::time::sleep(delay).await;
            }
            let started = std::time::Instant::now();
            let (sql, args) = count_sql("SELECT COUNT(*)", tsq.as_deref(), &filter_owned).finish();
            let counted = if postgres {
                // One core for the count: with PostgreSQL's parallel workers a count of a
                // third of a million items took every core for seconds, and every page
                // of every user waited behind it (stream p99 under wrk 432-484 -> 266-285
                // ms with the count on one core, BENCHMARKS.md). The pages answer meanwhile
                // with the kept total or the estimate, so the count may take longer.
                async {
                    let mut tx = pool.begin().await?;
                    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0").execute(&mut *tx).await?;
                    let n = sqlx::query_scalar_with::<_, i64, _>(&sql, args).fetch_one(&mut *tx).await?;
                    tx.commit().await?;
                    Ok::<i64, sqlx::Error>(n)
                }
                .await
            } else {
                sqlx::query_scalar_with::<_, i64, _>(&sql, args).fetch_one(&pool).await
            };
            match counted {
                Ok(total) => {
                    counts.put(task_key, generation, total, started.elapsed());
                    Ok(total)
                }
                Err(e) => {
                    counts.forget_estimate(&task_key);
                    Err(StoreError::from(e))
                }
            }
        });
        let joined = |r: std::result::Result<Result<i64>, tokio::task::JoinError>| {
            r.map_err(|e| StoreError::Busy(format!("counting items: {e}")))?.map(|n| (n, false))
        };
        if !postgres {
            return joined(count.await);
        }
        if let Ok(r) = tokio::time::timeout(self.counts.budget(), &mut count).await {
            return joined(r);
        }
        if let Some(n) = self.counts.stale(&key) {
            return Ok((n, false));
        }
        match self.planned_rows(tsquery.as_deref(), filter).await {
            Some(n) if n >= self.counts.estimate_from() => {
                self.counts.set_estimate(&key, n);
                if count.is_finished() {
                    // Done meanwhile: its put may have come before the estimate.
                    self.counts.forget_estimate(&key);
                    return joined(count.await);
                }
                Ok((n, true))
            }
            _ => joined(count.await),
        }
    }

    /// PostgreSQL's estimate of the rows the filter and query select (the first line of
    /// `EXPLAIN`, `rows=N`); `None` when it cannot be read.
    async fn planned_rows(&self, tsquery: Option<&str>, filter: &ItemFilter) -> Option<i64> {
        let (sql, args) = count_sql("EXPLAIN SELECT 1", tsquery, filter).finish();
        let first: String = sqlx::query_scalar_with(&sql, args).fetch_one(&self.pool).await.ok()?;
        plan_rows(&first)
    }

    /// Whether reading items newest first finds `wanted` of `total` hits within
    /// [`WALK_MAX_ROWS`] rows on average (PostgreSQL search; the table's size is the
    /// planner's own estimate, `pg_class.reltuples`).
    async fn newest_first_walk_is_short(&self, total: i64, wanted: usize) -> bool {
        if total <= 0 {
            return false;
        }
        let rows = match self.item_estimate.get() {
            Some(n) => n,
            None => {
                let generation = self.item_estimate.before_read();
                let n: f64 = match sqlx::query_scalar::<_, f64>(
                    "SELECT reltuples::float8 FROM pg_class WHERE oid = 'items'::regclass",
                )
                .fetch_one(&self.pool)
                .await
                {
                    Ok(n) => n,
                    Err(_) => return false,
                };
                let n = n as i64;
                self.item_estimate.put(generation, n);
                n
            }
        };
        // Never analysed (-1) or small: the planner's own choice is fine.
        rows > 0 && (wanted as f64) * (rows as f64) / (total as f64) <= WALK_MAX_ROWS
    }

    /// The summaries of `ids` in the order given (one query, not one per id: a search
    /// page of 50 hits made 50 round trips), leaving out ids no longer stored.
    async fn summaries(&self, ids: &[i64]) -> Result<Vec<ItemSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!("SELECT {ITEM_COLUMNS} FROM items WHERE id IN ("));
        for (n, id) in ids.iter().enumerate() {
            if n > 0 {
                q.push(", ");
            }
            q.bind(*id);
        }
        q.push(")");
        let (sql, args) = q.finish();
        let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await?;
        let mut by_id: HashMap<i64, ItemSummary> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let s = summary_from_row(r)?;
            by_id.insert(s.id, s);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// One item with its text and duplicates.
    pub async fn item(&self, id: i64) -> Result<Option<ItemDetail>> {
        let row =
            sqlx::query(&format!("SELECT {ITEM_COLUMNS}, canonical_url, encoding, content FROM items WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let item = summary_from_row(&row)?;
        let root = item.duplicate_of.unwrap_or(item.id);
        let dup_rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE (duplicate_of = $1 OR id = $1) AND id != $2 ORDER BY id LIMIT 200"
        ))
        .bind(root)
        .bind(item.id)
        .fetch_all(&self.pool)
        .await?;
        let duplicates = dup_rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        Ok(Some(ItemDetail {
            item,
            canonical_url: row.try_get("canonical_url")?,
            encoding: row.try_get("encoding")?,
            content: row.try_get("content")?,
            duplicates,
        }))
    }

    pub async fn counts(&self) -> Result<Counts> {
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM items) AS items,
                    (SELECT COUNT(*) FROM items WHERE duplicate_of IS NOT NULL) AS duplicates,
                    (SELECT COUNT(*) FROM seen_urls) AS seen,
                    (SELECT COUNT(*) FROM sources WHERE in_config = 1) AS sources,
                    (SELECT COUNT(*) FROM sources WHERE in_config = 1 AND failures_in_row > 0) AS failing",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Counts {
            items: r.try_get("items")?,
            duplicates: r.try_get("duplicates")?,
            seen_irrelevant: r.try_get("seen")?,
            sources: r.try_get("sources")?,
            sources_failing: r.try_get("failing")?,
        })
    }

    /// A cheap liveness check of the database.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        let _ = self.flush().await;
        self.write_pool.close().await;
        self.pool.close().await;
    }
}

/// The outcome of an ingest whose batch was dropped before it was known.
fn interrupted() -> StoreError {
    StoreError::Busy(
        "the ingest was interrupted before its outcome was known; ingesting the page again finds it if it was stored"
            .into(),
    )
}

/// The ids of the items whose canonical URL is one of the batch's, in one statement.
async fn known_urls(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    items: &[PreparedItem],
) -> Result<HashMap<String, i64>> {
    let mut q = Sql::new("SELECT id, canonical_url FROM items WHERE canonical_url IN (");
    for (n, p) in items.iter().enumerate() {
        if n > 0 {
            q.push(", ");
        }
        q.bind(p.item.canonical_url.clone());
    }
    q.push(")");
    let (sql, args) = q.finish();
    let mut known = HashMap::with_capacity(items.len());
    for r in sqlx::query_with(&sql, args).fetch_all(&mut **tx).await? {
        known.insert(r.try_get::<String, _>("canonical_url")?, r.try_get::<i64, _>("id")?);
    }
    Ok(known)
}

/// `{select} FROM items WHERE` the full-text query and the filter: the list's count,
/// its page, and the planner's estimate.
fn count_sql(select: &str, tsquery: Option<&str>, filter: &ItemFilter) -> Sql<'static> {
    let mut q = Sql::new(format!("{select} FROM items WHERE 1 = 1"));
    if let Some(tsq) = tsquery {
        q.push(" AND search_tsv @@ ").bind(tsq.to_string()).push("::tsquery");
    }
    push_filter(&mut q, filter);
    q
}

/// The `rows=N` of a plan line such as
/// `Bitmap Heap Scan on items  (cost=3.1..9.2 rows=322630 width=4)`.
pub(crate) fn plan_rows(line: &str) -> Option<i64> {
    let at = line.find(" rows=")? + " rows=".len();
    let digits: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn push_filter(q: &mut Sql<'_>, f: &ItemFilter) {
    if let Some(v) = f.tone {
        q.push(" AND tone = ").bind(v.id());
    }
    if let Some(v) = f.level {
        q.push(" AND level = ").bind(v.id());
    }
    if let Some(v) = f.tier {
        q.push(" AND tier = ").bind(v.id());
    }
    if let Some(v) = f.category {
        q.push(" AND categories LIKE ").bind(format!("%\"{}\"%", v.id()));
    }
    if let Some(v) = &f.source {
        q.push(" AND source = ").bind(v.clone());
    }
    if let Some(v) = f.since {
        q.push(" AND sort_at >= ").bind(ts(v));
    }
    if let Some(v) = f.until {
        q.push(" AND sort_at < ").bind(ts(v));
    }
}

#[cfg(test)]
mod raw_page_tests {
    use super::*;

    #[test]
    fn the_planners_row_estimate_is_read_from_the_plan() {
        assert_eq!(plan_rows("Bitmap Heap Scan on items  (cost=3.10..9.20 rows=322630 width=4)"), Some(322_630));
        assert_eq!(plan_rows("Gather  (cost=1000.00..2000.00 rows=12 width=0)"), Some(12));
        assert_eq!(plan_rows("Seq Scan on items"), None);
        assert_eq!(plan_rows(""), None);
    }

    fn page() -> Vec<u8> {
        "<html><head><meta charset=gbk><title>上犹县财政局</title></head><body>"
            .bytes()
            .chain((0..5000).flat_map(|i| format!("<p>第{i}段 补贴发放情况 &amp; 通知</p>").into_bytes()))
            .collect()
    }

    #[test]
    fn raw_pages_round_trip_as_zstd() {
        let body = page();
        let z = compress(&body);
        assert!(z.starts_with(&ZSTD_MAGIC));
        assert!(z.len() < body.len() / 4, "{} of {}", z.len(), body.len());
        assert_eq!(decompress(&z).unwrap(), body);
    }

    #[test]
    fn rows_written_as_deflate_still_read() {
        let body = page();
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        let old = e.finish().unwrap();
        assert!(!old.starts_with(&ZSTD_MAGIC));
        assert_eq!(decompress(&old).unwrap(), body);
        // An empty page, as deflate wrote it, too.
        let e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        assert_eq!(decompress(&e.finish().unwrap()).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn damaged_rows_are_errors_not_panics() {
        let z = compress(&page());
        assert!(decompress(&z[..z.len() / 2]).is_err());
        let mut bad = ZSTD_MAGIC.to_vec();
        bad.extend_from_slice(&[0xff; 32]);
        assert!(decompress(&bad).is_err());
        assert!(decompress(&[0xff, 0x00, 0x13]).is_err());
    }

    #[test]
    fn a_frame_that_claims_too_much_is_refused() {
        // 65 MB of zeros compresses to a few kilobytes: reading it back must stop at the bound.
        let big = vec![0u8; (MAX_RAW_PAGE + 1024) as usize];
        let z = zstd::bulk::compress(&big, 1).unwrap();
        assert!(z.len() < 1_000_000);
        assert!(decompress(&z).is_err());
    }
}
