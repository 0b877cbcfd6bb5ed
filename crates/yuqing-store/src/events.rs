//! Events (事件) in the store: items about one story, grouped as they are ingested, in
//! the item's own transaction (migration 0007).
//!
//! An item joins an event in one of two ways, as in `yuqing_judge::events`:
//!
//! 1. **Repost** — ingest linked it to an earlier item (`duplicate_of`, SimHash): it
//!    joins that item's event.
//! 2. **Follow-up** — its key-term signature reaches the follow-up threshold against an
//!    event's centroid, the event names the same things (anchors, see
//!    [`yuqing_judge::events::shares_anchor`]), and the event's last item is within the
//!    window.
//!
//! Otherwise it starts an event, whose id is the item's id.
//!
//! # Why it stays cheap
//! Ingest never reads the text of earlier items. An event keeps its centroid and
//! anchors (JSON, a few hundred bytes) and is listed under its top terms in
//! `event_terms` with its last item time. The candidates of a follow-up are read per
//! term of the item, within the window, newest first, at most [`POSTINGS_PER_TERM`]
//! each; only the [`MAX_CANDIDATES`] best by their listed terms have their centroid
//! read. So one item costs a fixed number of index range scans, however many items
//! came before.
//!
//! # Key-term weights
//! Signatures weigh terms by idf over the items seen ([`KeyTerms`]); those counts live
//! in memory. A process warms them from the newest [`WARM_ITEMS`] items before its
//! first ingest (the one place that reads earlier texts, once), so signatures after a
//! restart weigh like the ones before it. Segmentation runs before the write lock. An
//! item is counted once, even when its batch rolls back and it is written again alone.
//!
//! # Crash safety and idempotence
//! Everything an item changes here is written in its ingest transaction; a `Known`
//! ingest writes nothing. A crash loses at most the in-memory term counts of items
//! that were never committed, which only nudges later weights.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use yuqing_core::config::{LevelConfig, Priority};
use yuqing_core::Tier;
use yuqing_judge::events::terms::{term_frequencies, term_frequencies_of, KeyTerms, Signature, TermConfig};
use yuqing_judge::events::{cosine, merge_profile, shares_anchor, GrouperConfig};
use yuqing_judge::level::{level_with, LevelInput};

use crate::db::Sql;
use crate::deferred::Deferred;
use crate::{parse_ts, summary_from_row, ts, ItemSummary, NewItem, Result, Store, StoreError, ITEM_COLUMNS};

/// Events read per term of an item when looking for the event it follows up.
pub const POSTINGS_PER_TERM: i64 = 64;
/// Candidate events whose centroid is compared with the item.
pub const MAX_CANDIDATES: usize = 16;
/// Newest items whose terms warm the idf counts before a process's first ingest.
pub const WARM_ITEMS: i64 = 1000;
/// Items listed on an event's page (the earliest; the count covers all).
pub const MAX_EVENT_ITEMS: i64 = 500;
/// Hours of an event's timeline read (the most recent).
pub const MAX_TIMELINE_HOURS: i64 = 24 * 30;
/// Sources of an event listed.
pub const MAX_EVENT_SOURCES: i64 = 1000;

/// What the store scores spread with: the level table and the rules' priorities.
#[derive(Debug, Default)]
pub(crate) struct Judging {
    pub(crate) table: LevelConfig,
    pub(crate) priorities: HashMap<String, Priority>,
}

/// The grouping state of a process: the key-term counts and the settings.
pub(crate) struct EventState {
    terms: std::sync::Mutex<KeyTerms>,
    term_cfg: TermConfig,
    cfg: GrouperConfig,
    warmed: tokio::sync::OnceCell<()>,
}

impl EventState {
    pub(crate) fn new() -> EventState {
        let term_cfg = TermConfig::default();
        EventState {
            terms: std::sync::Mutex::new(KeyTerms::new(term_cfg.clone())),
            term_cfg,
            cfg: GrouperConfig::default(),
            warmed: tokio::sync::OnceCell::new(),
        }
    }
}

/// An item's terms, taken before the write lock.
#[derive(Clone)]
pub(crate) struct Prepared {
    tf: Vec<(String, f64)>,
    /// Set once the item's terms are in the key-term counts: an item written again
    /// after its batch rolled back (see `ingest_prepared`) is not counted twice.
    counted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Where an item goes, decided before it is written.
pub(crate) struct Placement {
    /// The event it joins; `None` starts one.
    event: Option<i64>,
    reason: JoinReason,
    of_item: Option<i64>,
    score: Option<f64>,
    sig: Signature,
    /// Items of the event before this one.
    size_before: i64,
    /// The event's row as read to place the item, so that counting the item in does
    /// not read it again: events are written by ingest only, one ingest transaction at
    /// a time (SQLite's writer; on PostgreSQL the ingest's advisory lock), so the row
    /// read earlier in the same transaction is still the row.
    row: Option<EventRow>,
}

/// What counting an item into its event reads of the event's row.
pub(crate) struct EventRow {
    last_at: String,
    centroid: Centroid,
    anchors: Anchors,
}

/// Why an item is in its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JoinReason {
    /// It started the event.
    New,
    /// A near-duplicate of an earlier item of the event.
    Repost,
    /// Same key terms within the window.
    FollowUp,
}

impl JoinReason {
    pub fn id(self) -> &'static str {
        match self {
            JoinReason::New => "new",
            JoinReason::Repost => "repost",
            JoinReason::FollowUp => "follow-up",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            JoinReason::New => "首发",
            JoinReason::Repost => "转载",
            JoinReason::FollowUp => "后续报道",
        }
    }

    fn from_id(s: &str) -> Option<JoinReason> {
        [JoinReason::New, JoinReason::Repost, JoinReason::FollowUp].into_iter().find(|r| r.id() == s)
    }
}

/// What an event shows in lists and at the top of its page.
#[derive(Debug, Clone, Serialize)]
pub struct EventSummary {
    pub id: i64,
    pub title: String,
    pub first_item_id: i64,
    pub first_source: String,
    pub first_tier: Tier,
    pub first_at: String,
    pub last_at: String,
    /// Every item, reposts included.
    pub items: i64,
    /// Distinct sources per tier, in tier order.
    pub sources_per_tier: Vec<TierCount>,
    /// The event's strongest terms, strongest first.
    pub top_terms: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierCount {
    pub tier: Tier,
    pub sources: i64,
}

/// One hour of an event's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct EventHour {
    /// The hour's start (UTC, as stored times).
    pub hour: String,
    pub items: i64,
}

/// One source of an event.
#[derive(Debug, Clone, Serialize)]
pub struct EventSource {
    pub source: String,
    pub tier: Tier,
    pub first_at: String,
    pub items: i64,
}

/// One item of an event.
#[derive(Debug, Clone, Serialize)]
pub struct EventItem {
    #[serde(flatten)]
    pub item: ItemSummary,
    pub reason: JoinReason,
    /// For a repost: the item it repeats.
    pub of_item: Option<i64>,
    /// For a follow-up: its cosine with the event when it joined.
    pub score: Option<f64>,
}

/// An event with its timeline, sources and items (bounded, see the constants).
#[derive(Debug, Clone, Serialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventSummary,
    /// Items per hour, oldest first (at most [`MAX_TIMELINE_HOURS`], the most recent).
    pub timeline: Vec<EventHour>,
    pub sources: Vec<EventSource>,
    /// The earliest [`MAX_EVENT_ITEMS`] items, in time order.
    pub item_list: Vec<EventItem>,
}

fn hour_of(t: DateTime<Utc>) -> String {
    let h = t.timestamp().div_euclid(3600) * 3600;
    ts(Utc.timestamp_opt(h, 0).single().unwrap_or(t))
}

type Centroid = Vec<(String, f32)>;
type Anchors = Vec<(String, u32)>;

fn parse_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Invalid(format!("stored {what} `{v}` is unknown"))
}

/// The item being placed.
struct Member<'a> {
    id: i64,
    source: &'a str,
    tier: Tier,
    at: DateTime<Utc>,
    reason: JoinReason,
    of_item: Option<i64>,
    score: Option<f64>,
}

impl Store {
    /// Warms the key-term counts once per process, then segments the item: everything
    /// of grouping that needs no lock.
    /// Warms the key-term counts from the newest items, once per process, before the
    /// first item is placed.
    pub(crate) async fn warm_events(&self) {
        self.events
            .warmed
            .get_or_init(|| async {
                if let Err(e) = self.warm_terms().await {
                    tracing::warn!(error = %e, "could not warm the key-term counts; events group from fresh counts");
                }
            })
            .await;
    }

    /// The item's key terms (segmentation: CPU only, on any thread).
    pub(crate) fn event_terms(&self, item: &NewItem, words: &yuqing_text::segment::ItemWords) -> Prepared {
        Prepared {
            tf: term_frequencies_of(&self.events.term_cfg, words, &item.title, &item.content),
            counted: Default::default(),
        }
    }

    async fn warm_terms(&self) -> Result<()> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT title, content FROM items ORDER BY id DESC LIMIT $1")
            .bind(WARM_ITEMS)
            .fetch_all(&self.pool)
            .await?;
        let tfs: Vec<_> = rows.iter().rev().map(|(t, c)| term_frequencies(&self.events.term_cfg, t, c)).collect();
        let mut k = self.events.terms.lock().unwrap_or_else(|p| p.into_inner());
        for tf in tfs {
            k.signature_of(tf);
        }
        Ok(())
    }

    /// Finds the item's event before the item is written (so that its level can count
    /// the event's spread): its root's event for a repost, the best follow-up match,
    /// or none (a new event).
    pub(crate) async fn place_event_in_tx(
        &self,
        tx: &mut Transaction<'static, Any>,
        deferred: &mut Deferred,
        at: DateTime<Utc>,
        duplicate_of: Option<i64>,
        prepared: Prepared,
    ) -> Result<Placement> {
        let sig = {
            let mut terms = self.events.terms.lock().unwrap_or_else(|p| p.into_inner());
            if prepared.counted.swap(true, std::sync::atomic::Ordering::Relaxed) {
                terms.signature_uncounted(prepared.tf)
            } else {
                terms.signature_of(prepared.tf)
            }
        };
        let mut p = Placement {
            event: None,
            reason: JoinReason::New,
            of_item: None,
            score: None,
            sig,
            size_before: 0,
            row: None,
        };
        if let Some(root) = duplicate_of {
            // The root's event, its size so far and its profile: one round trip.
            let found = sqlx::query(
                "SELECT e.id, e.last_at, e.centroid, e.anchors, e.items FROM event_items ei
                 JOIN events e ON e.id = ei.event_id WHERE ei.item_id = $1",
            )
            .bind(root)
            .fetch_optional(&mut **tx)
            .await?;
            let event = match found {
                Some(r) => {
                    let (e, size): (i64, i64) = (r.try_get("id")?, r.try_get("items")?);
                    let row = EventRow {
                        last_at: r.try_get("last_at")?,
                        centroid: parse_json(&r.try_get::<String, _>("centroid")?),
                        anchors: parse_json(&r.try_get::<String, _>("anchors")?),
                    };
                    self.repost_fits(&row, &p.sig, at).then_some((e, size, Some(row)))
                }
                None => match self.adopt_legacy_root(tx, deferred, root).await? {
                    Some(e) => Some((e, self.event_size(tx, e).await?, None)),
                    None => None,
                },
            };
            if let Some((e, size, row)) = event {
                (p.event, p.reason, p.of_item, p.size_before, p.row) =
                    (Some(e), JoinReason::Repost, Some(root), size, row);
            }
        }
        // Not a repost (or a near-duplicate of another story, or of an old one): a
        // follow-up, or a new event.
        if p.event.is_none() {
            if let Some((e, score, size, row)) = self.find_follow_up(tx, &p.sig, at).await? {
                (p.event, p.reason, p.score, p.size_before, p.row) =
                    (Some(e), JoinReason::FollowUp, Some(f64::from(score)), size, Some(row));
            }
        }
        Ok(p)
    }

    /// Raises the item's level by its event's spread (yuqing-judge's level with the
    /// event's size so far, by the configured `[level]` table) when the level it brings
    /// is exactly what the judge gives without spread; a level decided otherwise is left
    /// alone. Never lowers it.
    pub(crate) async fn level_by_spread(
        &self,
        tx: &mut Transaction<'static, Any>,
        item: &mut NewItem,
        placement: &Placement,
    ) -> Result<()> {
        let spread_at = self.judging.read().unwrap_or_else(|p| p.into_inner()).table.spread_at;
        if placement.size_before < i64::try_from(spread_at).unwrap_or(i64::MAX) {
            return Ok(());
        }
        let weight: Option<f64> = sqlx::query_scalar("SELECT weight FROM sources WHERE name = $1")
            .bind(&item.source)
            .fetch_optional(&mut **tx)
            .await?;
        let judging = self.judging.read().unwrap_or_else(|p| p.into_inner());
        // The highest priority among the matched rules, first in order (as the judge does).
        let mut top: Option<(Priority, &str)> = None;
        for name in &item.matched_rules {
            let p = judging.priorities.get(name).copied().unwrap_or_default();
            if top.is_none_or(|(b, _)| p > b) {
                top = Some((p, name.as_str()));
            }
        }
        let mut input = LevelInput {
            tier: item.tier,
            weight: weight.unwrap_or_else(|| item.tier.default_weight()),
            tone: item.tone,
            tone_score: item.tone_score,
            categories: &item.categories,
            matched_rules: item.matched_rules.len(),
            duplicates: 0,
            priority: top,
        };
        if level_with(&input, &judging.table) != (item.level, item.level_reason.clone()) {
            return Ok(());
        }
        input.duplicates = usize::try_from(placement.size_before).unwrap_or(usize::MAX);
        let (raised, reason) = level_with(&input, &judging.table);
        drop(judging);
        if raised >= item.level {
            item.level = raised;
            item.level_reason = reason;
        }
        Ok(())
    }

    /// Sets the level table and the watch rules' priorities that spread is scored with
    /// (`yuqing serve` passes the configuration's, the judge's own). Until called, the
    /// defaults: every rule normal, the default `[level]`.
    pub fn set_level_table(&self, table: LevelConfig, priorities: HashMap<String, Priority>) {
        *self.judging.write().unwrap_or_else(|p| p.into_inner()) = Judging { table, priorities };
    }

    /// Counts the newly inserted item into the event found for it (or a new one), in
    /// the ingest transaction. Returns the event's id.
    pub(crate) async fn record_event_in_tx(
        &self,
        tx: &mut Transaction<'static, Any>,
        deferred: &mut Deferred,
        item_id: i64,
        item: &NewItem,
        at: DateTime<Utc>,
        placement: Placement,
    ) -> Result<i64> {
        let member = Member {
            id: item_id,
            source: &item.source,
            tier: item.tier,
            at,
            reason: placement.reason,
            of_item: placement.of_item,
            score: placement.score,
        };
        match placement.event {
            Some(event_id) => {
                self.add_member(tx, deferred, event_id, &member, &placement.sig, placement.row).await?;
                Ok(event_id)
            }
            None => {
                self.start_event_with(tx, deferred, &member, &item.title, &placement.sig).await?;
                Ok(item_id)
            }
        }
    }

    /// A new event of one item, written with its profile at once (every statement is a
    /// round trip: a new story is most items, and an empty event read back and updated
    /// cost three more).
    async fn start_event_with(
        &self,
        tx: &mut Transaction<'static, Any>,
        deferred: &mut Deferred,
        m: &Member<'_>,
        title: &str,
        sig: &Signature,
    ) -> Result<()> {
        let (mut centroid, mut anchors) = (Centroid::new(), Anchors::new());
        let norm = merge_profile(&mut centroid, &mut anchors, &sig.terms, &sig.anchors, &self.events.cfg);
        let at = ts(m.at);
        sqlx::query(
            "INSERT INTO events (id, first_item_id, first_source, first_tier, first_at, last_at, items, title, centroid, anchors)
             VALUES ($1, $1, $2, $3, $4, $4, 1, $5, $6, $7)",
        )
        .bind(m.id)
        .bind(m.source)
        .bind(m.tier.id())
        .bind(&at)
        .bind(title)
        .bind(serde_json::to_string(&centroid).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&anchors).unwrap_or_else(|_| "[]".into()))
        .execute(&mut **tx)
        .await?;
        self.write_member_rows(tx, deferred, m.id, m, &centroid, norm, &at, true).await
    }

    /// Whether a near-duplicate joins its root's event, as in the grouper: the event is
    /// still active (its last item within the window), names the same things and
    /// shares enough key terms. SimHash links texts at any distance in time, and a
    /// templated notice with another county's names is near-duplicate text of another
    /// story.
    fn repost_fits(&self, row: &EventRow, sig: &Signature, at: DateTime<Utc>) -> bool {
        let cfg = &self.events.cfg;
        if parse_ts(&row.last_at).is_some_and(|last| at - last > cfg.window) {
            return false;
        }
        if row.centroid.is_empty() {
            // An event adopted from an item stored before events: nothing to compare.
            return true;
        }
        let norm = row.centroid.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        shares_anchor(&row.anchors, &row.centroid, &sig.terms, &sig.anchors, cfg.shared_anchors)
            && (sig.terms.is_empty() || cosine(&sig.terms, &row.centroid, norm) >= cfg.repost_min_similarity)
    }

    async fn event_size(&self, tx: &mut Transaction<'static, Any>, event: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT items FROM events WHERE id = $1")
            .bind(event)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or(0))
    }

    /// An item stored before events existed gets its event when it is first reposted:
    /// its own row, counted as the first item, with an empty centroid (its text is not
    /// read) that the repost's terms then fill.
    async fn adopt_legacy_root(
        &self,
        tx: &mut Transaction<'static, Any>,
        deferred: &mut Deferred,
        root: i64,
    ) -> Result<Option<i64>> {
        let Some(r) = sqlx::query("SELECT source, tier, title, sort_at FROM items WHERE id = $1")
            .bind(root)
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Ok(None);
        };
        let source: String = r.try_get("source")?;
        let tier: String = r.try_get("tier")?;
        let tier = Tier::from_id(&tier).ok_or_else(|| bad("tier", &tier))?;
        let sort_at: String = r.try_get("sort_at")?;
        let at = parse_ts(&sort_at).ok_or_else(|| bad("time", &sort_at))?;
        let title: String = r.try_get("title")?;
        start_event(tx, root, &source, tier, at, &title).await?;
        let member =
            Member { id: root, source: &source, tier, at, reason: JoinReason::New, of_item: None, score: None };
        self.add_member(tx, deferred, root, &member, &Signature::default(), None).await?;
        Ok(Some(root))
    }

    /// The active event the signature follows up best: (event, cosine, its size so far,
    /// its row).
    async fn find_follow_up(
        &self,
        tx: &mut Transaction<'static, Any>,
        sig: &Signature,
        at: DateTime<Utc>,
    ) -> Result<Option<(i64, f32, i64, EventRow)>> {
        if sig.terms.is_empty() {
            return Ok(None);
        }
        let cutoff = ts(at - self.events.cfg.window);
        let mut q = Sql::new("");
        for (n, (term, _)) in sig.terms.iter().enumerate() {
            if n > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT event_id, term, weight FROM (SELECT event_id, term, weight FROM event_terms WHERE term = ")
                .bind(term.clone())
                .push(" AND last_at >= ")
                .bind(cutoff.clone())
                .push(" ORDER BY last_at DESC LIMIT ")
                .bind(POSTINGS_PER_TERM)
                .push(&format!(") t{n}"));
        }
        let (sql, args) = q.finish();
        let rows = sqlx::query_with(&sql, args).fetch_all(&mut **tx).await?;
        // Rank by the dot product over the listed terms (a lower bound of the cosine).
        let mut partial: HashMap<i64, f32> = HashMap::new();
        for r in &rows {
            let event: i64 = r.try_get("event_id")?;
            let term: String = r.try_get("term")?;
            let w: f64 = r.try_get("weight")?;
            let iw = sig.terms.iter().find(|(t, _)| *t == term).map_or(0.0, |(_, w)| *w);
            *partial.entry(event).or_insert(0.0) += iw * w as f32;
        }
        let mut ranked: Vec<(i64, f32)> = partial.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(MAX_CANDIDATES);
        if ranked.is_empty() {
            return Ok(None);
        }
        let mut q = Sql::new("SELECT id, last_at, centroid, anchors, items FROM events WHERE id IN (");
        for (n, (id, _)) in ranked.iter().enumerate() {
            if n > 0 {
                q.push(", ");
            }
            q.bind(*id);
        }
        q.push(")");
        let (sql, args) = q.finish();
        let rows = sqlx::query_with(&sql, args).fetch_all(&mut **tx).await?;
        let cfg = &self.events.cfg;
        let mut best: Option<(f32, i64, i64, EventRow)> = None;
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let size: i64 = r.try_get("items")?;
            let centroid: Centroid = parse_json(&r.try_get::<String, _>("centroid")?);
            let anchors: Anchors = parse_json(&r.try_get::<String, _>("anchors")?);
            if !shares_anchor(&anchors, &centroid, &sig.terms, &sig.anchors, cfg.shared_anchors) {
                continue;
            }
            let norm = centroid.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            let score = cosine(&sig.terms, &centroid, norm);
            if score >= cfg.follow_up_threshold
                && best.as_ref().is_none_or(|(s, b, _, _)| score > *s || (score == *s && id < *b))
            {
                best = Some((score, id, size, EventRow { last_at: r.try_get("last_at")?, centroid, anchors }));
            }
        }
        Ok(best.map(|(s, id, size, row)| (id, s, size, row)))
    }

    /// Counts the item into its event: size, last time, centroid and anchors, listed
    /// terms, source, hour and membership.
    /// `row`: the event's row if this transaction read it already (see [`Placement`]).
    async fn add_member(
        &self,
        tx: &mut Transaction<'static, Any>,
        deferred: &mut Deferred,
        event_id: i64,
        m: &Member<'_>,
        sig: &Signature,
        row: Option<EventRow>,
    ) -> Result<()> {
        // Only ingest writes events, one ingest transaction at a time (SQLite's writer,
        // PostgreSQL's ingest advisory lock), so the read-modify-write of the centroid
        // needs no row lock.
        let EventRow { last_at, mut centroid, mut anchors } = match row {
            Some(row) => row,
            None => {
                let r = sqlx::query("SELECT last_at, centroid, anchors FROM events WHERE id = $1")
                    .bind(event_id)
                    .fetch_one(&mut **tx)
                    .await?;
                EventRow {
                    last_at: r.try_get("last_at")?,
                    centroid: parse_json(&r.try_get::<String, _>("centroid")?),
                    anchors: parse_json(&r.try_get::<String, _>("anchors")?),
                }
            }
        };
        let at = ts(m.at);
        let last_at = if at > last_at { at.clone() } else { last_at };
        let cfg = &self.events.cfg;
        let norm = merge_profile(&mut centroid, &mut anchors, &sig.terms, &sig.anchors, cfg);
        sqlx::query("UPDATE events SET items = items + 1, last_at = $1, centroid = $2, anchors = $3 WHERE id = $4")
            .bind(&last_at)
            .bind(serde_json::to_string(&centroid).unwrap_or_else(|_| "[]".into()))
            .bind(serde_json::to_string(&anchors).unwrap_or_else(|_| "[]".into()))
            .bind(event_id)
            .execute(&mut **tx)
            .await?;
        self.write_member_rows(tx, deferred, event_id, m, &centroid, norm, &last_at, false).await
    }

    /// The rows an item adds to its event beside the event's own: the listed terms
    /// (replaced, unless the event is new) and membership now, its source's and hour's
    /// counts when the transaction ends ([`Deferred`]: nothing in the ingest reads them).
    #[allow(clippy::too_many_arguments)]
    async fn write_member_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        deferred: &mut Deferred,
        event_id: i64,
        m: &Member<'_>,
        centroid: &Centroid,
        norm: f32,
        last_at: &str,
        new_event: bool,
    ) -> Result<()> {
        let cfg = &self.events.cfg;
        let at = ts(m.at);
        if !new_event {
            sqlx::query("DELETE FROM event_terms WHERE event_id = $1").bind(event_id).execute(&mut **tx).await?;
        }
        if norm > 0.0 {
            let mut q = Sql::new("INSERT INTO event_terms (term, event_id, weight, last_at) VALUES ");
            for (n, (term, w)) in centroid.iter().take(cfg.top_terms).enumerate() {
                if n > 0 {
                    q.push(", ");
                }
                q.push("(")
                    .bind(term.clone())
                    .push(", ")
                    .bind(event_id)
                    .push(", ")
                    .bind(f64::from(*w / norm))
                    .push(", ")
                    .bind(last_at.to_string())
                    .push(")");
            }
            let (sql, args) = q.finish();
            sqlx::query_with(&sql, args).execute(&mut **tx).await?;
        }
        // A missing score is written as a literal NULL: sqlx's Any driver declares a null
        // f64 as float4 on PostgreSQL, and the cached statement then refuses a float8.
        let mut q = Sql::new("INSERT INTO event_items (item_id, event_id, reason, of_item, at, score) VALUES (");
        q.bind(m.id).push(", ").bind(event_id).push(", ").bind(m.reason.id()).push(", ");
        q.bind(m.of_item).push(", ").bind(at.clone()).push(", ");
        match m.score {
            Some(score) => q.bind(score),
            None => q.push("NULL"),
        };
        q.push(")");
        let (sql, args) = q.finish();
        sqlx::query_with(&sql, args).execute(&mut **tx).await?;
        deferred.event_source(event_id, m.source, m.tier.id(), &at);
        deferred.event_hour(event_id, hour_of(m.at));
        Ok(())
    }

    /// The event an item belongs to.
    pub async fn event_of(&self, item_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT event_id FROM event_items WHERE item_id = $1")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The event of an item as its page links to it: (id, title, items), in one query. The
    /// full [`Store::event_summary`] also counts the event's sources per tier: at a
    /// million items a story's event has thousands of sources, which made that count most
    /// of the item page's cost.
    pub async fn event_brief_of(&self, item_id: i64) -> Result<Option<(i64, String, i64)>> {
        let row = sqlx::query(
            "SELECT e.id, e.title, e.items FROM event_items ei JOIN events e ON e.id = ei.event_id
             WHERE ei.item_id = $1",
        )
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((r.try_get("id")?, r.try_get("title")?, r.try_get("items")?))),
            None => Ok(None),
        }
    }

    /// An event's summary, without its lists.
    pub async fn event_summary(&self, id: i64) -> Result<Option<EventSummary>> {
        let Some(r) = sqlx::query(
            "SELECT id, title, first_item_id, first_source, first_tier, first_at, last_at, items, centroid
             FROM events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let tier_rows = sqlx::query("SELECT tier, COUNT(*) AS n FROM event_sources WHERE event_id = $1 GROUP BY tier")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let mut sources_per_tier = Vec::new();
        for t in &tier_rows {
            let tier: String = t.try_get("tier")?;
            let tier = Tier::from_id(&tier).ok_or_else(|| bad("tier", &tier))?;
            sources_per_tier.push(TierCount { tier, sources: t.try_get("n")? });
        }
        sources_per_tier.sort_by_key(|t| t.tier);
        let first_tier: String = r.try_get("first_tier")?;
        let centroid: Centroid = parse_json(&r.try_get::<String, _>("centroid")?);
        Ok(Some(EventSummary {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            first_item_id: r.try_get("first_item_id")?,
            first_source: r.try_get("first_source")?,
            first_tier: Tier::from_id(&first_tier).ok_or_else(|| bad("tier", &first_tier))?,
            first_at: r.try_get("first_at")?,
            last_at: r.try_get("last_at")?,
            items: r.try_get("items")?,
            sources_per_tier,
            top_terms: centroid.into_iter().take(self.events.cfg.top_terms).map(|(t, _)| t).collect(),
        }))
    }

    /// An event with its timeline, sources and items, each bounded.
    pub async fn event(&self, id: i64) -> Result<Option<EventDetail>> {
        let Some(event) = self.event_summary(id).await? else { return Ok(None) };
        let hours = sqlx::query("SELECT hour, items FROM event_hours WHERE event_id = $1 ORDER BY hour DESC LIMIT $2")
            .bind(id)
            .bind(MAX_TIMELINE_HOURS)
            .fetch_all(&self.pool)
            .await?;
        let mut timeline = hours
            .iter()
            .map(|r| Ok(EventHour { hour: r.try_get("hour")?, items: r.try_get("items")? }))
            .collect::<Result<Vec<_>>>()?;
        timeline.reverse();
        let source_rows = sqlx::query(
            "SELECT source, tier, first_at, items FROM event_sources WHERE event_id = $1
             ORDER BY first_at, source LIMIT $2",
        )
        .bind(id)
        .bind(MAX_EVENT_SOURCES)
        .fetch_all(&self.pool)
        .await?;
        let mut sources = Vec::with_capacity(source_rows.len());
        for r in &source_rows {
            let tier: String = r.try_get("tier")?;
            sources.push(EventSource {
                source: r.try_get("source")?,
                tier: Tier::from_id(&tier).ok_or_else(|| bad("tier", &tier))?,
                first_at: r.try_get("first_at")?,
                items: r.try_get("items")?,
            });
        }
        let item_rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS}, m.reason, m.of_item, m.score FROM event_items m JOIN items ON items.id = m.item_id
             WHERE m.event_id = $1 ORDER BY m.at, m.item_id LIMIT $2"
        ))
        .bind(id)
        .bind(MAX_EVENT_ITEMS)
        .fetch_all(&self.pool)
        .await?;
        let mut item_list = Vec::with_capacity(item_rows.len());
        for r in &item_rows {
            let reason: String = r.try_get("reason")?;
            item_list.push(EventItem {
                item: summary_from_row(r)?,
                reason: JoinReason::from_id(&reason).ok_or_else(|| bad("event reason", &reason))?,
                of_item: r.try_get("of_item")?,
                score: r.try_get("score")?,
            });
        }
        Ok(Some(EventDetail { event, timeline, sources, item_list }))
    }
}

async fn start_event(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    source: &str,
    tier: Tier,
    at: DateTime<Utc>,
    title: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (id, first_item_id, first_source, first_tier, first_at, last_at, items, title, centroid, anchors)
         VALUES ($1, $1, $2, $3, $4, $4, 0, $5, '[]', '[]')",
    )
    .bind(id)
    .bind(source)
    .bind(tier.id())
    .bind(ts(at))
    .bind(title)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
