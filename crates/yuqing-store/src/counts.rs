//! A short-lived cache of list totals ("共 N 条") for the stream, the API and PostgreSQL
//! full-text search.
//!
//! Every stream page and API list shows its total, and an exact `COUNT(*)` over a
//! large store costs more than the page itself: at 100,000 items on SQLite the stream
//! page spent most of its ~4 ms of CPU counting, and under 100 concurrent users the
//! same count ran hundreds of times a second with the same answer. PostgreSQL counts
//! every full-text hit before it can answer at all.
//!
//! The rule, so that a total is never wrong where it matters:
//! - a cached total is used only while it is younger than [`TTL`];
//! - and, for totals below [`EXACT_BELOW`], only while no write transaction of this
//!   process has begun since it was counted (a write bumps [`CountCache::bump`]), so a
//!   small store (every test, a new office) always sees exact counts at once;
//! - a large total may be up to [`TTL`] old, which nobody can see in a list of tens of
//!   thousands, or ten times as old as its count took ([`COST_FACTOR`], at most
//!   [`LARGE_TTL_MAX`]): PostgreSQL takes 1.5 s to count a million items, with parallel
//!   workers on every core, and counting that anew every 2 s took most of the machine
//!   (the stream's p99 under wrk was 1.2 s). Writes of other processes on a shared
//!   PostgreSQL are seen within the same time.
//!
//! - when a large total expires, the first reader counts it again and the others keep
//!   the old total meanwhile (for at most [`STALE_MAX`]): at 1,000,000 items one count
//!   takes tens of milliseconds, and 100 readers all counting at once every [`TTL`]
//!   made the stream's p99 latency ten times its median.
//!
//! - on PostgreSQL, a count that is not done within [`COUNT_BUDGET`] goes on in the
//!   background while the page answers with the total kept before (if any) or the
//!   planner's estimate, which the page marks as such ("约"); readers that come
//!   meanwhile take that estimate ([`CountCache::estimate`]) rather than wait. At a
//!   million items the first count of a term in a third of them took seconds under
//!   load, and every connection's first search waited for it. An estimate is used only
//!   when it is large ([`EXACT_BELOW`] or more): a small total is always counted.
//!
//! The cache holds at most [`MAX_ENTRIES`] filters; when full it is emptied, which is
//! simpler than an LRU and costs one recount per filter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cached total may be used at most.
pub(crate) const TTL: Duration = Duration::from_secs(2);
/// Totals below this are used only while no write has happened since.
pub(crate) const EXACT_BELOW: i64 = 10_000;
/// Distinct filters kept.
const MAX_ENTRIES: usize = 256;
/// How long readers may keep an expired large total while one of them counts anew.
pub(crate) const STALE_MAX: Duration = Duration::from_secs(30);
/// A large total is kept this many times as long as its count took ...
pub(crate) const COST_FACTOR: u32 = 10;
/// ... but never longer than this.
pub(crate) const LARGE_TTL_MAX: Duration = Duration::from_secs(60);
/// How long a PostgreSQL reader waits for an exact count before it answers with an
/// estimate and lets the count finish in the background.
pub(crate) const COUNT_BUDGET: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Instant,
    generation: u64,
    total: i64,
    /// How long a large total is used (see [`COST_FACTOR`]).
    life: Duration,
    /// A reader is counting this total again since then.
    refreshing: Option<Instant>,
}

#[derive(Debug, Default)]
pub(crate) struct CountCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
    /// One count at a time per filter when there is no total to serve meanwhile (see
    /// [`CountCache::gate`]).
    gates: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    /// Estimates of totals being counted in the background (see the module comment).
    estimates: Mutex<HashMap<String, (Instant, i64)>>,
    /// Tests only ([`CountCache::tune`]): the budget in milliseconds + 1 (0: the default
    /// [`COUNT_BUDGET`]) and the smallest estimate used (0: [`EXACT_BELOW`]).
    budget_ms: AtomicU64,
    estimate_from: AtomicU64,
    /// Tests only: milliseconds every background count waits before it begins.
    delay_ms: AtomicU64,
}

impl CountCache {
    /// A write transaction began: small totals must be counted again.
    pub(crate) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached total for `key`, if the rule above allows it.
    pub(crate) fn get(&self, key: &str) -> Option<i64> {
        self.get_at(key, Instant::now())
    }

    fn get_at(&self, key: &str, now: Instant) -> Option<i64> {
        let mut entries = self.entries.lock().ok()?;
        let e = entries.get_mut(key)?;
        let age = now.saturating_duration_since(e.at);
        let unchanged = e.generation == self.generation();
        if e.total < EXACT_BELOW {
            return (age < TTL && unchanged).then_some(e.total);
        }
        if age < e.life {
            return Some(e.total);
        }
        // Expired: one reader counts again (None), the others keep the old total until
        // its new one is put, unless that count takes longer than STALE_MAX.
        match e.refreshing {
            Some(since) if now.saturating_duration_since(since) < STALE_MAX => Some(e.total),
            _ => {
                e.refreshing = Some(now);
                None
            }
        }
    }

    /// Remembers a total counted when the generation was `generation` (read before the
    /// count, so a write racing with the count makes the entry stale, not wrong), the
    /// count having taken `took`.
    pub(crate) fn put(&self, key: String, generation: u64, total: i64, took: Duration) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        let life = if total < EXACT_BELOW { TTL } else { TTL.max(took * COST_FACTOR).min(LARGE_TTL_MAX) };
        if let Ok(mut estimates) = self.estimates.lock() {
            estimates.remove(&key);
        }
        entries.insert(key, Entry { at: Instant::now(), generation, total, life, refreshing: None });
    }

    /// The last total counted for `key` if it is large, however old (at most
    /// [`STALE_MAX`] past its life): what the reader counting it again answers with when
    /// that count goes on in the background, as the other readers do meanwhile.
    pub(crate) fn stale(&self, key: &str) -> Option<i64> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        let age = Instant::now().saturating_duration_since(e.at);
        (e.total >= EXACT_BELOW && age < e.life + STALE_MAX).then_some(e.total)
    }

    /// Notes the estimate answered for `key` while its count runs in the background;
    /// [`CountCache::put`] (or [`CountCache::forget_estimate`]) ends it.
    pub(crate) fn set_estimate(&self, key: &str, total: i64) {
        let Ok(mut estimates) = self.estimates.lock() else { return };
        if estimates.len() >= MAX_ENTRIES && !estimates.contains_key(key) {
            estimates.clear();
        }
        estimates.insert(key.to_string(), (Instant::now(), total));
    }

    /// The count of `key` that ran in the background failed: no estimate stands for it.
    pub(crate) fn forget_estimate(&self, key: &str) {
        if let Ok(mut estimates) = self.estimates.lock() {
            estimates.remove(key);
        }
    }

    /// The estimate answered for `key` while it is counted (see the module comment),
    /// for at most [`STALE_MAX`].
    pub(crate) fn estimate(&self, key: &str) -> Option<i64> {
        let estimates = self.estimates.lock().ok()?;
        let (at, total) = estimates.get(key)?;
        (at.elapsed() < STALE_MAX).then_some(*total)
    }

    /// The lock a reader holds while it counts `key` when [`CountCache::get`] had no
    /// total for it: the readers that come meanwhile wait for that count and take its
    /// answer (they call [`CountCache::fresh`] once they hold the lock) rather than count too.
    /// When a server starts under load, 100 readers otherwise all counted the million
    /// items at once, and the first stream pages took seconds.
    pub(crate) fn gate(&self, key: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut gates = match self.gates.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if gates.len() >= MAX_ENTRIES && !gates.contains_key(key) {
            gates.clear();
        }
        gates.entry(key.to_string()).or_default().clone()
    }

    /// The cached total for `key` only if it is young and, for a small total, counted
    /// from a generation no older than `arrived` (read by the caller before it waited at
    /// the [`CountCache::gate`]): a count that began after every write the caller could
    /// have seen is as exact as its own. What a reader checks once it holds the gate, to
    /// take the count of the reader before it; under steady writes the readers waiting
    /// for a small total then count once, not one after another.
    pub(crate) fn fresh(&self, key: &str, arrived: u64) -> Option<i64> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        let young = Instant::now().saturating_duration_since(e.at) < e.life;
        let valid = e.total >= EXACT_BELOW || e.generation >= arrived;
        (young && valid).then_some(e.total)
    }

    /// How long a PostgreSQL reader waits for a count ([`COUNT_BUDGET`]).
    pub(crate) fn budget(&self) -> Duration {
        match self.budget_ms.load(Ordering::Relaxed) {
            0 => COUNT_BUDGET,
            n => Duration::from_millis(n - 1),
        }
    }

    /// The smallest total answered with an estimate ([`EXACT_BELOW`]).
    pub(crate) fn estimate_from(&self) -> i64 {
        match self.estimate_from.load(Ordering::Relaxed) {
            0 => EXACT_BELOW,
            n => n as i64,
        }
    }

    /// For tests, whose counts are never slow: another budget and estimate floor, and a
    /// wait before each count.
    pub(crate) fn tune(&self, budget: Duration, estimate_from: i64, delay: Duration) {
        self.budget_ms.store(budget.as_millis() as u64 + 1, Ordering::Relaxed);
        self.estimate_from.store(estimate_from.max(1) as u64, Ordering::Relaxed);
        self.delay_ms.store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// The wait [`CountCache::tune`] set (tests only; none otherwise).
    pub(crate) fn delay(&self) -> Option<Duration> {
        match self.delay_ms.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_millis(n)),
        }
    }

    /// The generation to pass to [`CountCache::put`]: read it before counting.
    pub(crate) fn before_count(&self) -> u64 {
        self.generation()
    }
}

/// How long a [`Recent`] value is used: writes of this process clear it at once, other
/// processes' (on a shared PostgreSQL) are seen within this.
pub(crate) const RECENT_TTL: Duration = Duration::from_secs(2);

/// A small value that every page shows and that changes rarely (the source names of the
/// stream's filter, who is on duty now), kept for [`RECENT_TTL`]: under 100 connections
/// each such query costs a page two thread hand-offs of the SQLite driver for the same
/// answer. The writers of this process call [`Recent::clear`]; a read that raced with a
/// write is not kept (the generation read before it no longer matches).
#[derive(Debug)]
pub(crate) struct Recent<T> {
    generation: AtomicU64,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent { generation: AtomicU64::new(0), slot: Mutex::new(None) }
    }
}

impl<T: Clone> Recent<T> {
    /// The value if it was read less than [`RECENT_TTL`] ago.
    pub(crate) fn get(&self) -> Option<T> {
        self.get_at(Instant::now())
    }

    fn get_at(&self, now: Instant) -> Option<T> {
        let slot = self.slot.lock().ok()?;
        let (at, v) = slot.as_ref()?;
        (now.saturating_duration_since(*at) < RECENT_TTL).then(|| v.clone())
    }

    /// Read before the query whose answer goes to [`Recent::put`].
    pub(crate) fn before_read(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `v`, read when the generation was `generation`, unless a write came since.
    pub(crate) fn put(&self, generation: u64, v: T) {
        let Ok(mut slot) = self.slot.lock() else { return };
        if self.generation.load(Ordering::Acquire) == generation {
            *slot = Some((Instant::now(), v));
        }
    }

    /// A write of this process changed the value: read it again next time.
    pub(crate) fn clear(&self) {
        let Ok(mut slot) = self.slot.lock() else { return };
        self.generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }
}

/// How long a page of a large list (a total of [`EXACT_BELOW`] or more) is served
/// again without asking the database.
pub(crate) const PAGE_TTL: Duration = Duration::from_secs(1);
/// How long readers may keep an expired page while one of them reads it anew.
pub(crate) const PAGE_STALE_MAX: Duration = Duration::from_secs(5);
/// Distinct pages kept; when full the cache is emptied.
const PAGE_ENTRIES: usize = 256;

#[derive(Debug)]
struct PageEntry<T> {
    at: Instant,
    /// What the page was read from (the index generation; 0 for the database).
    version: u64,
    page: T,
    /// A reader is reading this page again since then.
    refreshing: Option<Instant>,
}

/// Pages of large lists (the stream, the API's list, PostgreSQL full-text search),
/// served again for [`PAGE_TTL`]. Under 100 connections the newest page of a list of a
/// million items was read from the database hundreds of times a second with the same
/// answer; on PostgreSQL a common term's page tests thousands of rows each time
/// (`Store::items`). The embedded index keeps its own results per index generation,
/// and its pages (the ids with their summaries) are kept here under a key that names
/// the generation, whatever their size: exactly what reading them again would give
/// until the next index commit, but for a tone corrected meanwhile.
///
/// For pages read from the database the rule is as for totals: only a page whose list
/// holds [`EXACT_BELOW`] items or more is kept, so a small store (every test, a new
/// office) always sees the database's answer. Such a page may miss items stored in the last [`PAGE_TTL`] (on top of a
/// list of ten thousand); a change to items already listed (a tone correction) clears
/// the cache at once ([`PageCache::edited`]). When a page expires, the first reader
/// reads it anew and the others keep the old page meanwhile (at most
/// [`PAGE_STALE_MAX`]), so that 100 readers do not all query at once.
#[derive(Debug)]
pub(crate) struct PageCache<T> {
    edits: AtomicU64,
    entries: Mutex<HashMap<String, PageEntry<T>>>,
}

impl<T> Default for PageCache<T> {
    fn default() -> Self {
        PageCache { edits: AtomicU64::new(0), entries: Mutex::new(HashMap::new()) }
    }
}

impl<T: Clone> PageCache<T> {
    /// The page for `key`, if the rule above allows it.
    pub(crate) fn get(&self, key: &str) -> Option<T> {
        self.get_at(key, 0, Instant::now())
    }

    /// The page for `key` read from `version` (an index generation) within its TTL; a
    /// page of an older version counts as expired: the first reader reads it anew, the
    /// others keep the old page meanwhile.
    pub(crate) fn get_version(&self, key: &str, version: u64) -> Option<T> {
        self.get_at(key, version, Instant::now())
    }

    fn get_at(&self, key: &str, version: u64, now: Instant) -> Option<T> {
        let mut entries = self.entries.lock().ok()?;
        let e = entries.get_mut(key)?;
        if e.version == version && now.saturating_duration_since(e.at) < PAGE_TTL {
            return Some(e.page.clone());
        }
        match e.refreshing {
            Some(since) if now.saturating_duration_since(since) < PAGE_STALE_MAX => Some(e.page.clone()),
            _ if now.saturating_duration_since(e.at) >= PAGE_TTL + PAGE_STALE_MAX => {
                entries.remove(key);
                None
            }
            _ => {
                e.refreshing = Some(now);
                None
            }
        }
    }

    /// Read before the query whose page goes to [`PageCache::put`].
    pub(crate) fn before_read(&self) -> u64 {
        self.edits.load(Ordering::Acquire)
    }

    /// Keeps a page of a large list, read when the edit count was `edits`, unless an
    /// edit came since.
    pub(crate) fn put(&self, key: String, edits: u64, page: T) {
        self.put_version(key, edits, 0, page)
    }

    /// [`PageCache::put`] of a page read from `version`.
    pub(crate) fn put_version(&self, key: String, edits: u64, version: u64, page: T) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if self.edits.load(Ordering::Acquire) != edits {
            return;
        }
        if entries.len() >= PAGE_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, PageEntry { at: Instant::now(), version, page, refreshing: None });
    }

    /// Items already listed changed (or a benchmark wants the database's answer):
    /// every page is read again.
    pub(crate) fn edited(&self) {
        let Ok(mut entries) = self.entries.lock() else { return };
        self.edits.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_for_its_ttl_then_read_again_by_one_reader() {
        let c: PageCache<&str> = PageCache::default();
        assert_eq!(c.get("k"), None);
        c.put("k".into(), c.before_read(), "page 1");
        assert_eq!(c.get("k"), Some("page 1"));
        let expired = Instant::now() + PAGE_TTL + Duration::from_millis(1);
        assert_eq!(c.get_at("k", 0, expired), None, "the first reader after the TTL reads it anew");
        assert_eq!(c.get_at("k", 0, expired), Some("page 1"), "the others keep the old page meanwhile");
        c.put("k".into(), c.before_read(), "page 2");
        assert_eq!(c.get("k"), Some("page 2"));
        // A reader that never came back: after PAGE_STALE_MAX another one reads it.
        c.put("k".into(), c.before_read(), "page 3");
        assert_eq!(c.get_at("k", 0, expired), None);
        assert_eq!(c.get_at("k", 0, expired + PAGE_STALE_MAX), None, "too old to serve at all");
    }

    #[test]
    fn a_page_of_an_older_version_is_read_again_by_one_reader() {
        let c: PageCache<&str> = PageCache::default();
        c.put_version("q".into(), c.before_read(), 7, "generation 7");
        assert_eq!(c.get_version("q", 7), Some("generation 7"));
        assert_eq!(c.get_version("q", 8), None, "a new generation: the first reader reads it anew");
        assert_eq!(c.get_version("q", 8), Some("generation 7"), "the others keep the old page meanwhile");
        c.put_version("q".into(), c.before_read(), 8, "generation 8");
        assert_eq!(c.get_version("q", 8), Some("generation 8"));
        assert_eq!(c.get("q"), None, "a versioned page is not the database's");
    }

    #[test]
    fn an_edit_clears_the_pages_and_a_page_read_before_it_is_not_kept() {
        let c: PageCache<i32> = PageCache::default();
        c.put("k".into(), c.before_read(), 1);
        let before = c.before_read();
        c.edited();
        assert_eq!(c.get("k"), None, "an edit clears");
        c.put("k".into(), before, 2);
        assert_eq!(c.get("k"), None, "read before the edit: not kept");
        c.put("k".into(), c.before_read(), 4);
        assert_eq!(c.get("k"), Some(4));
    }

    #[test]
    fn a_recent_value_is_cleared_by_a_write_and_expires() {
        let r: Recent<Vec<String>> = Recent::default();
        assert_eq!(r.get(), None);
        let g = r.before_read();
        r.put(g, vec!["a".into()]);
        assert_eq!(r.get(), Some(vec!["a".into()]));
        assert_eq!(r.get_at(Instant::now() + RECENT_TTL), None, "expired after the TTL");
        r.clear();
        assert_eq!(r.get(), None, "a write clears it");
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let r: Recent<i64> = Recent::default();
        let g = r.before_read();
        r.clear(); // a write lands while the read runs
        r.put(g, 1);
        assert_eq!(r.get(), None, "the older answer would hide the write for the TTL");
        r.put(r.before_read(), 2);
        assert_eq!(r.get(), Some(2));
    }

    #[test]
    fn a_slow_count_is_kept_longer() {
        let c = CountCache::default();
        c.put("slow".into(), c.before_count(), 1_000_000, Duration::from_millis(1500));
        c.put("quick".into(), c.before_count(), 1_000_000, Duration::from_millis(10));
        c.put("small".into(), c.before_count(), 12, Duration::from_millis(1500));
        let later = Instant::now() + TTL + Duration::from_millis(1);
        assert_eq!(c.get_at("slow", later), Some(1_000_000), "15 s for a count of 1.5 s");
        assert_eq!(c.get_at("quick", later), None, "the TTL for a quick one");
        assert_eq!(c.get_at("small", later), None, "small totals keep the TTL");
        let much_later = Instant::now() + Duration::from_secs(15) + Duration::from_millis(1);
        assert_eq!(c.get_at("slow", much_later), None);
        c.put("slowest".into(), c.before_count(), 1_000_000, Duration::from_secs(60));
        let past_max = Instant::now() + LARGE_TTL_MAX + Duration::from_millis(1);
        assert_eq!(c.get_at("slowest", past_max), None, "never beyond LARGE_TTL_MAX");
    }

    #[test]
    fn fresh_never_serves_a_stale_total() {
        let c = CountCache::default();
        c.put("big".into(), c.before_count(), 50_000, Duration::ZERO);
        c.put("small".into(), c.before_count(), 12, Duration::ZERO);
        let arrived = c.before_count();
        assert_eq!((c.fresh("big", arrived), c.fresh("small", arrived)), (Some(50_000), Some(12)));
        c.bump();
        let later = c.before_count();
        assert_eq!(
            (c.fresh("big", later), c.fresh("small", later)),
            (Some(50_000), None),
            "a write before the reader came: small totals are counted again"
        );
        assert_eq!(c.fresh("small", arrived), Some(12), "a write after it came: the count is as good as its own");
        assert_eq!(c.fresh("none", arrived), None);
    }

    #[tokio::test]
    async fn readers_without_a_total_wait_for_the_one_counting() {
        let c = std::sync::Arc::new(CountCache::default());
        let gate = c.gate("all");
        let first = gate.lock().await;
        let (c2, waited) = (c.clone(), std::sync::Arc::new(AtomicU64::new(0)));
        let w = waited.clone();
        let second = tokio::spawn(async move {
            let arrived = c2.before_count();
            let gate = c2.gate("all");
            let _g = gate.lock().await;
            w.store(1, Ordering::SeqCst);
            c2.fresh("all", arrived)
        });
        tokio::task::yield_now().await;
        assert_eq!(waited.load(Ordering::SeqCst), 0, "the second reader waits for the count");
        c.put("all".into(), c.before_count(), 1_000_000, Duration::ZERO);
        drop(first);
        assert_eq!(second.await.expect("join"), Some(1_000_000), "and takes its answer");
    }

    #[test]
    fn small_totals_are_exact_after_a_write() {
        let c = CountCache::default();
        let g = c.before_count();
        c.put("all".into(), g, 12, Duration::ZERO);
        assert_eq!(c.get("all"), Some(12));
        c.bump();
        assert_eq!(c.get("all"), None, "a write makes a small total stale at once");
    }

    #[test]
    fn large_totals_live_until_the_ttl() {
        let c = CountCache::default();
        let g = c.before_count();
        c.put("all".into(), g, 50_000, Duration::ZERO);
        c.bump();
        assert_eq!(c.get("all"), Some(50_000), "a large total may be a moment old");
        let later = Instant::now() + TTL + Duration::from_millis(1);
        assert_eq!(c.get_at("all", later), None, "past the TTL the first reader counts again");
        assert_eq!(c.get_at("all", later), Some(50_000), "the others keep the old total meanwhile");
        c.put("all".into(), c.before_count(), 50_100, Duration::ZERO);
        assert_eq!(c.get("all"), Some(50_100), "and then see the new one");
    }

    #[test]
    fn a_refresh_that_never_finishes_is_taken_over() {
        let c = CountCache::default();
        c.put("all".into(), c.before_count(), 50_000, Duration::ZERO);
        let later = Instant::now() + TTL + Duration::from_millis(1);
        assert_eq!(c.get_at("all", later), None);
        let much_later = later + STALE_MAX + Duration::from_millis(1);
        assert_eq!(c.get_at("all", much_later), None, "a failed count does not freeze the total");
        assert_eq!(c.get_at("all", much_later), Some(50_000));
    }

    #[test]
    fn expired_small_totals_are_never_served() {
        let c = CountCache::default();
        c.put("all".into(), c.before_count(), 12, Duration::ZERO);
        let later = Instant::now() + TTL + Duration::from_millis(1);
        assert_eq!(c.get_at("all", later), None);
        assert_eq!(c.get_at("all", later), None);
    }

    #[test]
    fn a_write_racing_the_count_makes_the_entry_stale() {
        let c = CountCache::default();
        let g = c.before_count();
        c.bump(); // a write committed while the count ran
        c.put("all".into(), g, 3, Duration::ZERO);
        assert_eq!(c.get("all"), None);
    }

    #[test]
    fn an_estimate_stands_until_the_count_is_put() {
        let c = CountCache::default();
        assert_eq!(c.estimate("all"), None);
        c.set_estimate("all", 300_000);
        assert_eq!(c.estimate("all"), Some(300_000));
        c.put("all".into(), c.before_count(), 322_630, Duration::from_secs(2));
        assert_eq!(c.estimate("all"), None, "the exact count replaces it");
        assert_eq!(c.get("all"), Some(322_630));
        c.set_estimate("other", 20_000);
        c.forget_estimate("other");
        assert_eq!(c.estimate("other"), None, "a failed count leaves no estimate behind");
    }

    #[test]
    fn a_stale_total_is_only_a_large_one() {
        let c = CountCache::default();
        c.put("big".into(), c.before_count(), 50_000, Duration::ZERO);
        c.put("small".into(), c.before_count(), 12, Duration::ZERO);
        c.bump();
        assert_eq!((c.stale("big"), c.stale("small"), c.stale("none")), (Some(50_000), None, None));
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = CountCache::default();
        for i in 0..(MAX_ENTRIES * 3) {
            c.put(format!("k{i}"), c.before_count(), 1, Duration::ZERO);
        }
        assert!(c.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
