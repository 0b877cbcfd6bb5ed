//! Events (事件): items about one story, grouped as they arrive, and spikes in hourly
//! counts.
//!
//! An item joins an event in one of two ways, tried in this order:
//!
//! 1. **Repost** — its SimHash is within [`NEAR_DUPLICATE_BITS`] of an item seen in
//!    the window: it joins that item's event. Candidates come from a banded index
//!    (8 bands × 8 bits, as in the store): fingerprints within 7 bits always share a
//!    band, at 8 nearly always.
//! 2. **Follow-up** — the cosine between its key-term signature ([`terms`]) and an
//!    event's centroid (the sum of its items' signatures, the strongest
//!    [`GrouperConfig::centroid_terms`] kept) reaches
//!    [`GrouperConfig::follow_up_threshold`], and the event's last item is within the
//!    window. Only events that index one of the item's terms among their top
//!    [`GrouperConfig::top_terms`] are compared (an inverted index term → events), so
//!    a 补贴 story is never compared with a 水库 story.
//!
//! Otherwise the item starts a new event, whose id is the item's id.
//!
//! # Why it stays cheap
//! Only the window is kept: events whose last item is older than the window, and band
//! entries of items older than it, are dropped as time advances (time is the items'
//! own `at`, never a clock). The number of active events, recent items and postings
//! per term are capped, so the cost of one item depends on the rate of items, not on
//! how many came before.
//!
//! # Rebuilding
//! Nothing here reads the clock or depends on hash order: replaying the same items in
//! the same order (with signatures from a [`terms::KeyTerms`] fed the same items)
//! gives the same events. The store rebuilds the grouper that way at start-up.

pub mod gen;
pub mod spike;
pub mod terms;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::Serialize;
use yuqing_core::Tier;
use yuqing_text::simhash::{hamming, NEAR_DUPLICATE_BITS};

pub use spike::{Baseline, Spike, SpikeConfig, SpikeDetector};
pub use terms::{KeyTerms, Signature, TermConfig, WeightedTerm};

/// What the grouper needs of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSig {
    pub id: u64,
    /// `None` when the text is too short for a fingerprint to mean anything (the store
    /// fingerprints only items of 40 characters or more): no repost matching then.
    pub simhash: Option<u64>,
    /// The key-term signature, from [`KeyTerms::signature`].
    pub terms: Vec<WeightedTerm>,
    /// The item's rarest terms (mostly names), from [`KeyTerms::signature`]: a join
    /// needs one of them in the event. Empty: no such check.
    pub anchors: Vec<String>,
    pub at: DateTime<Utc>,
    pub source: String,
    pub tier: Tier,
}

/// Why an item joined its event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A near-duplicate of item `of` (the closest one, earliest on ties).
    Repost { of: u64 },
    /// Its key terms match the event's with this cosine.
    FollowUp { score: f32 },
    /// It starts a new event.
    New,
}

/// The event an item belongs to. For [`Reason::New`], `event_id` is the item's id.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assignment {
    pub event_id: u64,
    pub reason: Reason,
}

impl Assignment {
    /// The existing event the item joined, or `None` when it started one.
    pub fn joined(&self) -> Option<u64> {
        (!matches!(self.reason, Reason::New)).then_some(self.event_id)
    }
}

/// Grouping settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GrouperConfig {
    /// How far apart a repost and its original, or a follow-up and its event's last
    /// item, may be; also how long an idle event stays active.
    pub window: TimeDelta,
    /// Minimum cosine between an item's signature and an event's centroid.
    pub follow_up_threshold: f32,
    /// Minimum cosine for a near-duplicate to join.
    pub repost_min_similarity: f32,
    /// Anchors remembered per event (the most frequent among its items').
    pub event_anchors: usize,
    /// Of an item's anchors, how many the event must name for a join.
    pub shared_anchors: usize,
    /// Centroid terms under which an event is indexed (and shown).
    pub top_terms: usize,
    /// Active events kept; beyond it the least recently active is dropped.
    pub max_active_events: usize,
    /// Centroid terms kept per event.
    pub centroid_terms: usize,
    /// Recent items kept for repost matching, whatever the window.
    pub max_recent_items: usize,
    /// Events listed per term in the inverted index (the most recently indexed).
    pub max_postings: usize,
    /// Hours kept in an event's timeline (the most recent).
    pub timeline_hours: usize,
    /// Distinct sources remembered per event.
    pub max_sources: usize,
}

impl Default for GrouperConfig {
    fn default() -> Self {
        GrouperConfig {
            window: TimeDelta::hours(72),
            follow_up_threshold: 0.3,
            repost_min_similarity: 0.3,
            event_anchors: 16,
            shared_anchors: 1,
            top_terms: 8,
            max_active_events: 50_000,
            centroid_terms: 32,
            max_recent_items: 200_000,
            max_postings: 256,
            timeline_hours: 24 * 30,
            max_sources: 1_000,
        }
    }
}

/// What an event shows: where it started, how big and how wide it is, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventStats {
    pub event_id: u64,
    pub first_item: u64,
    pub first_source: String,
    pub first_tier: Tier,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Every item, reposts included.
    pub items: u64,
    /// Distinct sources per tier (up to [`GrouperConfig::max_sources`] in all).
    pub sources_per_tier: BTreeMap<Tier, u32>,
    /// Items per hour (hour start, count), oldest first, at most
    /// [`GrouperConfig::timeline_hours`] hours.
    pub timeline: Vec<(DateTime<Utc>, u32)>,
    /// The event's strongest terms, strongest first.
    pub top_terms: Vec<String>,
}

#[derive(Debug, Clone)]
struct Event {
    stats: EventStats,
    sources: BTreeSet<(Tier, String)>,
    /// Sorted by weight, strongest first; ties by term.
    centroid: Vec<(Box<str>, f32)>,
    norm: f32,
    /// The terms this event is listed under in the inverted index.
    indexed: Vec<Box<str>>,
    /// Its items' anchors with counts, most frequent first.
    anchors: Vec<(Box<str>, u32)>,
}

impl Event {
    /// See [`shares_anchor`].
    fn shares_anchor(&self, item: &ItemSig, need: usize) -> bool {
        shares_anchor(&self.anchors, &self.centroid, &item.terms, &item.anchors, need)
    }
}

/// True when an item and an event name the same things: at least `need` of the item's
/// anchors are anchors or centroid terms of the event, or the event's anchors are among
/// the item's key terms. Another story of the same kind shares the wording but not the
/// names. Shared by the grouper and the store, which keeps events in its tables.
pub fn shares_anchor<A: AsRef<str>, C: AsRef<str>>(
    event_anchors: &[(A, u32)],
    centroid: &[(C, f32)],
    terms: &[WeightedTerm],
    anchors: &[String],
    need: usize,
) -> bool {
    if anchors.is_empty() {
        return true;
    }
    let named_here =
        |a: &str| event_anchors.iter().any(|(b, _)| b.as_ref() == a) || centroid.iter().any(|(c, _)| c.as_ref() == a);
    // The item's names found here, and this event's names among the item's key terms
    // (a follow-up's rarest words are its new facts; the old names are then merely
    // frequent in it).
    let mut shared = anchors.iter().filter(|a| named_here(a)).count();
    shared += event_anchors
        .iter()
        .filter(|(b, _)| !anchors.iter().any(|a| a == b.as_ref()) && terms.iter().any(|(t, _)| t == b.as_ref()))
        .count();
    shared >= need.min(anchors.len())
}

/// Adds an item's signature to an event's centroid and anchors, keeping the strongest
/// `cfg.centroid_terms` terms and the most frequent `cfg.event_anchors` anchors (ties by
/// the term, so the order never depends on arrival details). Returns the new norm.
pub fn merge_profile<K: AsRef<str> + for<'a> From<&'a str> + Ord>(
    centroid: &mut Vec<(K, f32)>,
    event_anchors: &mut Vec<(K, u32)>,
    terms: &[WeightedTerm],
    anchors: &[String],
    cfg: &GrouperConfig,
) -> f32 {
    for (t, w) in terms {
        match centroid.iter_mut().find(|(c, _)| c.as_ref() == t) {
            Some((_, cw)) => *cw += *w,
            None => centroid.push((K::from(t.as_str()), *w)),
        }
    }
    centroid.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    centroid.truncate(cfg.centroid_terms);
    for a in anchors {
        match event_anchors.iter_mut().find(|(b, _)| b.as_ref() == a) {
            Some((_, n)) => *n += 1,
            None => event_anchors.push((K::from(a.as_str()), 1)),
        }
    }
    event_anchors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    event_anchors.truncate(cfg.event_anchors);
    centroid.iter().map(|(_, w)| w * w).sum::<f32>().sqrt()
}

#[derive(Debug, Clone, Copy)]
struct BandEntry {
    simhash: u64,
    item: u64,
    event: u64,
    at: i64,
}

/// Groups items into events, one item at a time. See the module documentation.
#[derive(Debug, Clone)]
pub struct EventGrouper {
    cfg: GrouperConfig,
    events: HashMap<u64, Event>,
    /// (last item time in seconds, event id): expiry and eviction order.
    by_last: BTreeSet<(i64, u64)>,
    postings: HashMap<Box<str>, VecDeque<u64>>,
    /// 8 bands × 256 values; each bucket in arrival order.
    bands: Vec<VecDeque<BandEntry>>,
    /// (time, fingerprint) of the items in `bands`, in arrival order.
    recent: VecDeque<(i64, u64)>,
    /// The latest item time seen.
    watermark: i64,
}

fn band_slots(h: u64) -> [usize; 8] {
    [0usize, 1, 2, 3, 4, 5, 6, 7].map(|b| b * 256 + ((h >> (8 * b)) & 0xff) as usize)
}

fn hour_start(hour: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(hour * 3600, 0).single().unwrap_or_default()
}

impl EventGrouper {
    pub fn new(cfg: GrouperConfig) -> EventGrouper {
        EventGrouper {
            cfg,
            events: HashMap::new(),
            by_last: BTreeSet::new(),
            postings: HashMap::new(),
            bands: vec![VecDeque::new(); 8 * 256],
            recent: VecDeque::new(),
            watermark: i64::MIN,
        }
    }

    pub fn config(&self) -> &GrouperConfig {
        &self.cfg
    }

    /// Assigns the item to an event (joining or starting one) and records it.
    pub fn assign(&mut self, item: &ItemSig) -> Assignment {
        let at = item.at.timestamp();
        let window = self.cfg.window.num_seconds().max(0);
        self.watermark = self.watermark.max(at);
        self.expire();

        let assignment = match self.find_repost(item, at, window) {
            Some((of, event)) => Assignment { event_id: event, reason: Reason::Repost { of } },
            None => match self.find_follow_up(item, at, window) {
                Some((event, score)) => Assignment { event_id: event, reason: Reason::FollowUp { score } },
                None => Assignment { event_id: item.id, reason: Reason::New },
            },
        };
        if matches!(assignment.reason, Reason::New) {
            self.start_event(item);
        } else {
            self.join_event(assignment.event_id, item);
        }
        if let Some(h) = item.simhash {
            for slot in band_slots(h) {
                self.bands[slot].push_back(BandEntry { simhash: h, item: item.id, event: assignment.event_id, at });
            }
            self.recent.push_back((at, h));
            while self.recent.len() > self.cfg.max_recent_items {
                self.pop_recent();
            }
        }
        assignment
    }

    /// An active event.
    pub fn event(&self, id: u64) -> Option<&EventStats> {
        self.events.get(&id).map(|e| &e.stats)
    }

    /// The active events, by id.
    pub fn active(&self) -> Vec<&EventStats> {
        let mut v: Vec<&EventStats> = self.events.values().map(|e| &e.stats).collect();
        v.sort_by_key(|s| s.event_id);
        v
    }

    pub fn active_events(&self) -> usize {
        self.events.len()
    }

    /// Items kept for repost matching.
    pub fn recent_items(&self) -> usize {
        self.recent.len()
    }

    /// Terms in the inverted index.
    pub fn indexed_terms(&self) -> usize {
        self.postings.len()
    }

    fn expire(&mut self) {
        let cutoff = self.watermark.saturating_sub(self.cfg.window.num_seconds().max(0));
        while let Some(&(last, id)) = self.by_last.first() {
            if last >= cutoff {
                break;
            }
            self.drop_event(id);
        }
        while self.recent.front().is_some_and(|(t, _)| *t < cutoff) {
            self.pop_recent();
        }
    }

    fn pop_recent(&mut self) {
        if let Some((_, h)) = self.recent.pop_front() {
            // Buckets are filled in arrival order, like `recent`, so this item's entry is
            // at the front of each of its buckets.
            for slot in band_slots(h) {
                self.bands[slot].pop_front();
            }
        }
    }

    fn drop_event(&mut self, id: u64) {
        if let Some(e) = self.events.remove(&id) {
            self.by_last.remove(&(e.stats.last_at.timestamp(), id));
            for t in &e.indexed {
                self.unpost(t, id);
            }
        }
    }

    fn unpost(&mut self, term: &str, id: u64) {
        if let Some(list) = self.postings.get_mut(term) {
            list.retain(|&e| e != id);
            if list.is_empty() {
                self.postings.remove(term);
            }
        }
    }

    /// The closest near-duplicate in the window whose event is still active:
    /// (item, event).
    fn find_repost(&self, item: &ItemSig, at: i64, window: i64) -> Option<(u64, u64)> {
        let h = item.simhash?;
        let mut best: Option<(u32, i64, u64, u64)> = None;
        for slot in band_slots(h) {
            for e in &self.bands[slot] {
                if e.item == item.id || (e.at - at).abs() > window {
                    continue;
                }
                let d = hamming(e.simhash, h);
                if d > NEAR_DUPLICATE_BITS {
                    continue;
                }
                let Some(ev) = self.events.get(&e.event) else { continue };
                if !ev.shares_anchor(item, self.cfg.shared_anchors)
                    || (!item.terms.is_empty()
                        && cosine(&item.terms, &ev.centroid, ev.norm) < self.cfg.repost_min_similarity)
                {
                    continue;
                }
                let key = (d, e.at, e.item, e.event);
                if best.is_none_or(|b| (key.0, key.1, key.2) < (b.0, b.1, b.2)) {
                    best = Some(key);
                }
            }
        }
        best.map(|(_, _, of, event)| (of, event))
    }

    /// The best-matching active event sharing an indexed term: (event, cosine).
    fn find_follow_up(&self, item: &ItemSig, at: i64, window: i64) -> Option<(u64, f32)> {
        let mut candidates: Vec<u64> = Vec::new();
        for (t, _) in &item.terms {
            if let Some(list) = self.postings.get(t.as_str()) {
                candidates.extend(list.iter().copied());
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(f32, u64)> = None;
        for id in candidates {
            let Some(e) = self.events.get(&id) else { continue };
            if at - e.stats.last_at.timestamp() > window || !e.shares_anchor(item, self.cfg.shared_anchors) {
                continue;
            }
            let score = cosine(&item.terms, &e.centroid, e.norm);
            if score >= self.cfg.follow_up_threshold && best.is_none_or(|(s, b)| score > s || (score == s && id < b)) {
                best = Some((score, id));
            }
        }
        best.map(|(s, id)| (id, s))
    }

    fn start_event(&mut self, item: &ItemSig) {
        let stats = EventStats {
            event_id: item.id,
            first_item: item.id,
            first_source: item.source.clone(),
            first_tier: item.tier,
            first_at: item.at,
            last_at: item.at,
            items: 0,
            sources_per_tier: BTreeMap::new(),
            timeline: Vec::new(),
            top_terms: Vec::new(),
        };
        let e = Event {
            stats,
            sources: BTreeSet::new(),
            centroid: Vec::new(),
            norm: 0.0,
            indexed: Vec::new(),
            anchors: Vec::new(),
        };
        self.events.insert(item.id, e);
        self.by_last.insert((item.at.timestamp(), item.id));
        self.join_event(item.id, item);
        while self.events.len() > self.cfg.max_active_events {
            let Some(&(_, oldest)) = self.by_last.first() else { break };
            self.drop_event(oldest);
        }
    }

    fn join_event(&mut self, id: u64, item: &ItemSig) {
        let cfg = &self.cfg;
        let Some(e) = self.events.get_mut(&id) else {
            // Callers pass an event they just found or created.
            return;
        };
        let old_last = e.stats.last_at.timestamp();
        e.stats.items += 1;
        if item.at > e.stats.last_at {
            e.stats.last_at = item.at;
        }
        if e.sources.len() < cfg.max_sources && e.sources.insert((item.tier, item.source.clone())) {
            *e.stats.sources_per_tier.entry(item.tier).or_insert(0) += 1;
        }
        add_hour(&mut e.stats.timeline, hour_start(item.at.timestamp().div_euclid(3600)), cfg.timeline_hours);

        // Centroid: add the signature, keep the strongest terms.
        e.norm = merge_profile(&mut e.centroid, &mut e.anchors, &item.terms, &item.anchors, cfg);
        let new_index: Vec<Box<str>> = e.centroid.iter().take(cfg.top_terms).map(|(t, _)| t.clone()).collect();
        e.stats.top_terms = new_index.iter().map(|t| t.to_string()).collect();
        let old_index = std::mem::replace(&mut e.indexed, new_index.clone());
        let new_last = e.stats.last_at.timestamp();

        if new_last != old_last {
            self.by_last.remove(&(old_last, id));
            self.by_last.insert((new_last, id));
        }
        for t in old_index.iter().filter(|t| !new_index.contains(t)) {
            self.unpost(t, id);
        }
        for t in new_index.iter().filter(|t| !old_index.contains(t)) {
            let list = self.postings.entry(t.clone()).or_default();
            list.push_back(id);
            if list.len() > self.cfg.max_postings {
                // The least recently indexed event stops being found under this term;
                // it keeps its other terms.
                list.pop_front();
            }
        }
    }
}

/// Counts an item in its hour; items mostly come in order, so this is usually the last
/// entry or a new one after it.
fn add_hour(hours: &mut Vec<(DateTime<Utc>, u32)>, hour: DateTime<Utc>, cap: usize) {
    match hours.last_mut() {
        Some((h, n)) if *h == hour => *n += 1,
        Some((h, _)) if *h > hour => match hours.binary_search_by_key(&hour, |(h, _)| *h) {
            Ok(i) => hours[i].1 += 1,
            Err(i) => hours.insert(i, (hour, 1)),
        },
        _ => hours.push((hour, 1)),
    }
    if hours.len() > cap.max(1) {
        let excess = hours.len() - cap.max(1);
        hours.drain(..excess);
    }
}

/// Cosine of a normalised signature with a centroid of the given norm.
pub fn cosine<C: AsRef<str>>(sig: &[WeightedTerm], centroid: &[(C, f32)], norm: f32) -> f32 {
    if norm <= 0.0 {
        return 0.0;
    }
    let dot: f32 =
        sig.iter().filter_map(|(t, w)| centroid.iter().find(|(c, _)| c.as_ref() == t).map(|(_, cw)| w * cw)).sum();
    dot / norm
}

#[cfg(test)]
mod tests;
