//! Spikes (突增) in the store: hourly counts per watch rule and per key-content category,
//! kept by ingest, and the spikes found in them (migration 0012).
//!
//! # Counting
//! Ingest adds one to the hour's count of every rule the item matched and every category
//! it carries, in the item's own transaction ([`Store::count_hourly`]): so a spike check
//! never scans items (at a million items it reads at most a week of rows per key), and a
//! crash never leaves an item counted but not stored, or the reverse. What counts:
//! - every *stored* item, first-seen or a near-duplicate (a repost on another site is
//!   spread, the very thing a surge is made of);
//! - not a page whose canonical URL is already stored: such an ingest returns `Known`
//!   before anything is written, so collecting the same pages again counts nothing;
//! - not an item published longer than `max_item_age` before it was found (a new
//!   source's back catalogue arrives all at once but is no surge).
//!
//! The hour is the UTC hour the item was *found* in (`fetched_at`): a spike says "this
//! hour brought N new items", and counts of past hours do not change after the fact
//! (hours from published times would, and pages dated without a time would all pile up
//! at midnight).
//!
//! # Detection
//! [`Store::check_spikes`] looks at the previous hour (complete, but an ingest that began
//! before the hour ended may commit just after, so it is looked at again until the next
//! hour ends) and the current one (flagged as soon as its count so far is above the
//! threshold: the baseline of an hour does not change while it fills, and counts only
//! grow). Each hour is compared with the trailing baseline of its key
//! ([`yuqing_judge::events::Baseline`]) over the hours since counting began.
//!
//! # Exactly once, whatever the number of processes
//! A spike is recorded by [`Store::record_spike`] in one transaction: the cool-down gate
//! (one conditional UPDATE of the key's row in `spike_keys`, which PostgreSQL's row lock
//! serialises between processes), the spike row (unique per scope, key and hour) and its
//! outbox rows (key `spike-{id}`). Two processes checking the same hour: one writes it,
//! the other finds the gate closed or the row there and writes nothing. A crash before
//! the commit leaves nothing, and the next check finds the spike again.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use sqlx::Row;
pub use yuqing_judge::events::{Baseline, SpikeConfig};

use crate::deferred::Deferred;
use crate::{parse_ts, ts, NewItem, Result, Store, StoreError};

/// `scope` of a watch rule's counts (the key is the rule's name).
pub const SCOPE_RULE: &str = "rule";
/// `scope` of a category's counts (the key is the category id).
pub const SCOPE_CATEGORY: &str = "category";
/// Spikes listed at most.
pub const MAX_SPIKES: usize = 500;

/// The start of the hour `t` falls in.
pub fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

/// A recorded spike.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpikeRecord {
    pub id: i64,
    /// `rule` or `category`.
    pub scope: String,
    /// The rule's name or the category id.
    pub key: String,
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// The hour's count: when flagged, raised by later checks while the hour filled.
    pub count: i64,
    /// The count when it was flagged (what the alert said).
    pub flag_count: i64,
    /// Baseline mean and standard deviation per hour, and the count the hour had to exceed.
    pub mean: f64,
    pub std_dev: f64,
    pub threshold: f64,
    pub baseline_hours: i64,
    /// Flagged before its hour ended.
    pub partial: bool,
    /// The alert's line, in Chinese.
    pub title: String,
    pub detected_at: DateTime<Utc>,
}

/// One hour's count of a key.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct HourCount {
    pub hour: DateTime<Utc>,
    pub count: i64,
}

/// An hour that stands out, before it is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeFinding {
    pub scope: String,
    pub key: String,
    pub hour: DateTime<Utc>,
    pub count: i64,
    pub baseline: Baseline,
    /// The hour is the current one, still filling.
    pub partial: bool,
}

/// What to write with a spike: its line and the channels its alert goes to.
#[derive(Debug, Clone, Default)]
pub struct SpikePlan {
    pub title: String,
    pub channels: Vec<String>,
}

fn time_of(r: &sqlx::any::AnyRow, col: &str) -> Result<DateTime<Utc>> {
    let s: String = r.try_get(col)?;
    parse_ts(&s).ok_or_else(|| StoreError::Invalid(format!("stored time `{s}` is not RFC 3339")))
}

fn spike_from_row(r: &sqlx::any::AnyRow) -> Result<SpikeRecord> {
    Ok(SpikeRecord {
        id: r.try_get("id")?,
        scope: r.try_get("scope")?,
        key: r.try_get("key")?,
        hour: time_of(r, "hour")?,
        count: r.try_get("count")?,
        flag_count: r.try_get("flag_count")?,
        mean: r.try_get("mean")?,
        std_dev: r.try_get("std_dev")?,
        threshold: r.try_get("threshold")?,
        baseline_hours: r.try_get("baseline_hours")?,
        partial: r.try_get::<i64, _>("partial")? != 0,
        title: r.try_get("title")?,
        detected_at: time_of(r, "detected_at")?,
    })
}

const SPIKE_COLUMNS: &str =
    "id, scope, key, hour, count, flag_count, mean, std_dev, threshold, baseline_hours, partial, title, detected_at";

impl Store {
    /// Counts a stored item in the hourly counts of its rules and categories (see the
    /// module comment for what counts). Keys are written in one order (scope, then key),
    /// so concurrent ingests on PostgreSQL lock the rows in the same order.
    pub(crate) fn count_hourly(&self, deferred: &mut Deferred, item: &NewItem, sort_at: DateTime<Utc>) {
        let max_age = TimeDelta::seconds(self.spike_max_age_secs.load(std::sync::atomic::Ordering::Relaxed));
        if item.fetched_at - sort_at > max_age {
            return;
        }
        let mut keys: Vec<(&str, &str)> = item
            .matched_rules
            .iter()
            .map(|r| (SCOPE_RULE, r.as_str()))
            .chain(item.categories.iter().map(|c| (SCOPE_CATEGORY, c.id())))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        // Written with the batch's other counts when its transaction ends, summed per
        // key and in key order (PostgreSQL's upsert takes each row once).
        let hour = ts(hour_of(item.fetched_at));
        for (scope, key) in keys {
            deferred.hourly(scope, key, hour.clone());
        }
    }

    /// Items published longer than this before they were found are not counted
    /// (`[spikes] max_item_age`, 48 hours unless set).
    pub fn set_spike_max_age(&self, max_age: std::time::Duration) {
        let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        self.spike_max_age_secs.store(secs, std::sync::atomic::Ordering::Relaxed);
    }

    /// The counts of one key for the hours in `[from, until)`, oldest first; hours
    /// without items are left out.
    pub async fn hourly_counts(
        &self,
        scope: &str,
        key: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<HourCount>> {
        let rows = sqlx::query(
            "SELECT hour, count FROM hourly_counts WHERE scope = $1 AND key = $2 AND hour >= $3 AND hour < $4 ORDER BY hour",
        )
        .bind(scope)
        .bind(key)
        .bind(ts(from))
        .bind(ts(until))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(HourCount { hour: time_of(r, "hour")?, count: r.try_get("count")? })).collect()
    }

    /// Deletes hourly counts of hours before `before` (`serve` keeps 180 days, far more
    /// than any baseline; the /spikes charts show the day before each spike). Bounds the
    /// table by time, not by the number of items. The history then starts at the oldest
    /// hour kept, which stays older than any baseline as long as anything is counted.
    pub async fn prune_hourly_counts(&self, before: DateTime<Utc>) -> Result<u64> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM hourly_counts WHERE hour < $1")
            .bind(ts(hour_of(before)))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// The first hour anything was counted in: hours before it are unknown, not zero.
    pub async fn counting_since(&self) -> Result<Option<DateTime<Utc>>> {
        let first: Option<String> =
            sqlx::query_scalar("SELECT MIN(hour) FROM hourly_counts").fetch_one(&self.pool).await?;
        Ok(first.as_deref().and_then(parse_ts))
    }

    /// The hours of the previous and the current hour (at `now`) that stand out against
    /// their baseline, oldest first (see the module comment). Reads only.
    pub async fn find_spikes(&self, now: DateTime<Utc>, cfg: &SpikeConfig) -> Result<Vec<SpikeFinding>> {
        let Some(since) = self.counting_since().await? else { return Ok(vec![]) };
        let current = hour_of(now);
        let previous = current - TimeDelta::hours(1);
        let rows = sqlx::query(
            "SELECT scope, key, hour, count FROM hourly_counts WHERE hour >= $1 AND hour <= $2 ORDER BY hour, scope, key",
        )
        .bind(ts(previous))
        .bind(ts(current))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let scope: String = r.try_get("scope")?;
            let key: String = r.try_get("key")?;
            let hour = time_of(r, "hour")?;
            let count: i64 = r.try_get("count")?;
            let known_hours = (hour - since).num_hours().max(0) as usize;
            if known_hours < cfg.min_history_hours {
                continue;
            }
            let span = known_hours.min(cfg.baseline_hours.max(1));
            let start = hour - TimeDelta::hours(span as i64);
            let mut counts = vec![0u32; span];
            for h in self.hourly_counts(&scope, &key, start, hour).await? {
                let i = (h.hour - start).num_hours();
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| counts.get_mut(i)) {
                    *slot = u32::try_from(h.count).unwrap_or(u32::MAX);
                }
            }
            let baseline = Baseline::of_counts(&counts, cfg);
            if baseline.is_spike(u32::try_from(count).unwrap_or(u32::MAX), cfg) {
                out.push(SpikeFinding { scope, key, hour, count, baseline, partial: hour == current });
            }
        }
        Ok(out)
    }

    /// Records a spike with its outbox rows (key `spike-{id}`, one per channel of the
    /// plan) in one transaction, once per (scope, key, hour) and never within the
    /// cool-down of the key's last spike, however many processes try (see the module
    /// comment). The new spike, or `None` when it was there already (its count is then
    /// raised to the finding's) or the cool-down holds it back.
    pub async fn record_spike(
        &self,
        f: &SpikeFinding,
        cooldown_hours: i64,
        plan: &SpikePlan,
        now: DateTime<Utc>,
    ) -> Result<Option<SpikeRecord>> {
        let hour = ts(f.hour);
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE spikes SET count = $1 WHERE scope = $2 AND key = $3 AND hour = $4 AND count < $1")
            .bind(f.count)
            .bind(&f.scope)
            .bind(&f.key)
            .bind(&hour)
            .execute(&mut *tx)
            .await?;
        let there: Option<i64> =
            sqlx::query_scalar("SELECT id FROM spikes WHERE scope = $1 AND key = $2 AND hour = $3")
                .bind(&f.scope)
                .bind(&f.key)
                .bind(&hour)
                .fetch_optional(&mut *tx)
                .await?;
        if there.is_some() {
            tx.commit().await?;
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO spike_keys (scope, key, last_hour) VALUES ($1, $2, NULL) ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(&f.scope)
        .bind(&f.key)
        .execute(&mut *tx)
        .await?;
        // The gate: passes only when the key's last spike is at least the cool-down before
        // this hour (an earlier hour checked late never passes after a later one).
        let open_before = ts(f.hour - TimeDelta::hours(cooldown_hours.max(1)));
        let passed = sqlx::query(
            "UPDATE spike_keys SET last_hour = $1 WHERE scope = $2 AND key = $3 AND (last_hour IS NULL OR last_hour <= $4)",
        )
        .bind(&hour)
        .bind(&f.scope)
        .bind(&f.key)
        .bind(&open_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if passed == 0 {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO spikes (scope, key, hour, count, flag_count, mean, std_dev, threshold, baseline_hours, partial, title, detected_at)
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (scope, key, hour) DO NOTHING RETURNING {SPIKE_COLUMNS}"
        ))
        .bind(&f.scope)
        .bind(&f.key)
        .bind(&hour)
        .bind(f.count)
        .bind(f.baseline.mean)
        .bind(f.baseline.std_dev)
        .bind(f.baseline.threshold)
        .bind(f.baseline.hours as i64)
        .bind(i64::from(f.partial))
        .bind(&plan.title)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let spike = spike_from_row(&row)?;
        let key = format!("spike-{}", spike.id);
        for channel in &plan.channels {
            sqlx::query(
                "INSERT INTO alert_outbox (key, channel, created_at, next_attempt_at, spike_id) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (key, channel) DO NOTHING",
            )
            .bind(&key)
            .bind(channel)
            .bind(ts(now))
            .bind(ts(now))
            .bind(spike.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(spike))
    }

    /// Finds the spikes at `now` and records the new ones (see [`Store::find_spikes`] and
    /// [`Store::record_spike`]); `plan` gives each its line and channels. The spikes this
    /// call recorded.
    pub async fn check_spikes(
        &self,
        now: DateTime<Utc>,
        cfg: &SpikeConfig,
        plan: impl Fn(&SpikeFinding) -> SpikePlan,
    ) -> Result<Vec<SpikeRecord>> {
        let mut recorded = Vec::new();
        for f in self.find_spikes(now, cfg).await? {
            if let Some(s) = self.record_spike(&f, cfg.cooldown_hours, &plan(&f), now).await? {
                recorded.push(s);
            }
        }
        Ok(recorded)
    }

    /// Spikes of hours at or after `since` (all when `None`), newest first, at most `limit`
    /// (capped at [`MAX_SPIKES`]).
    pub async fn spikes(&self, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<SpikeRecord>> {
        let since = since.map(ts).unwrap_or_default();
        let rows = sqlx::query(&format!(
            "SELECT {SPIKE_COLUMNS} FROM spikes WHERE hour >= $1 ORDER BY hour DESC, id DESC LIMIT $2"
        ))
        .bind(since)
        .bind(limit.clamp(1, MAX_SPIKES) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(spike_from_row).collect()
    }

    /// One spike.
    pub async fn spike(&self, id: i64) -> Result<Option<SpikeRecord>> {
        let row = sqlx::query(&format!("SELECT {SPIKE_COLUMNS} FROM spikes WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(spike_from_row).transpose()
    }
}
