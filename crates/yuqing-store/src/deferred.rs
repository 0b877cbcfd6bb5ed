//! Rows an ingest transaction writes once for all of its items, just before it commits.
//!
//! Every statement is a round trip (on SQLite, to sqlx's worker thread and back), and
//! the serial part of an ingest is a chain of them. Rows that nothing later in the same
//! transaction reads — the raw page, the alert outbox, the hourly counts for spikes, an
//! event's per-source and per-hour counts — are gathered here while the batch's items
//! are written and go out as one multi-row statement per table at the end, in the same
//! transaction: what a crash rolls back is unchanged (all of the batch or none of it).
//! Counts of the same key are summed first, and keys are written in sorted order, so
//! concurrent transactions on PostgreSQL lock rows in one order.
//!
//! What later items of the batch do read (the item rows, SimHash bands, event rows and
//! their listed terms and members) is still written item by item.

use crate::db::Sql;
use crate::Result;
use sqlx::{Any, Transaction};
use std::collections::BTreeMap;

/// Rows per statement: far below SQLite's and PostgreSQL's limits on bound values (a
/// batch holds at most [`crate::MAX_INGEST_BATCH`] items, so this is rarely reached).
const ROWS_PER_STATEMENT: usize = 200;

#[derive(Debug, Default)]
pub(crate) struct Deferred {
    /// item id → (content type, compressed body, stored at).
    raw: Vec<(i64, Option<String>, Vec<u8>, String)>,
    /// (key, channel) → (item id, created at); the first of a key wins, as
    /// `ON CONFLICT DO NOTHING` would have kept it.
    alerts: BTreeMap<(String, String), (i64, String)>,
    /// (scope, key, hour) → items.
    hourly: BTreeMap<(String, String, String), i64>,
    /// (event, source) → (tier, first at, items).
    event_sources: BTreeMap<(i64, String), (String, String, i64)>,
    /// (event, hour) → items.
    event_hours: BTreeMap<(i64, String), i64>,
}

impl Deferred {
    pub(crate) fn raw_page(&mut self, item_id: i64, content_type: Option<String>, body: Vec<u8>, at: String) {
        self.raw.push((item_id, content_type, body, at));
    }

    pub(crate) fn alert(&mut self, key: String, channel: String, item_id: i64, at: String) {
        self.alerts.entry((key, channel)).or_insert((item_id, at));
    }

    pub(crate) fn hourly(&mut self, scope: &str, key: &str, hour: String) {
        *self.hourly.entry((scope.to_string(), key.to_string(), hour)).or_insert(0) += 1;
    }

    pub(crate) fn event_source(&mut self, event: i64, source: &str, tier: &str, at: &str) {
        let e = self
            .event_sources
            .entry((event, source.to_string()))
            .or_insert_with(|| (tier.to_string(), at.to_string(), 0));
        if at < e.1.as_str() {
            e.1 = at.to_string();
        }
        e.2 += 1;
    }

    pub(crate) fn event_hour(&mut self, event: i64, hour: String) {
        *self.event_hours.entry((event, hour)).or_insert(0) += 1;
    }

    /// Writes everything gathered, in the transaction.
    pub(crate) async fn flush(self, tx: &mut Transaction<'static, Any>) -> Result<()> {
        let Deferred { raw, alerts, hourly, event_sources, event_hours } = self;
        for chunk in raw.chunks(ROWS_PER_STATEMENT) {
            let mut q = Sql::new("INSERT INTO raw_pages (item_id, content_type, body, stored_at) VALUES ");
            for (n, (id, content_type, body, at)) in chunk.iter().enumerate() {
                q.push(if n == 0 { "(" } else { ", (" });
                q.bind(*id).push(", ").bind(content_type.clone()).push(", ").bind(body.clone());
                q.push(", ").bind(at.clone()).push(")");
            }
            run(tx, q).await?;
        }
        let alerts: Vec<_> = alerts.into_iter().collect();
        for chunk in alerts.chunks(ROWS_PER_STATEMENT) {
            let mut q =
                Sql::new("INSERT INTO alert_outbox (key, channel, item_id, created_at, next_attempt_at) VALUES ");
            for (n, ((key, channel), (id, at))) in chunk.iter().enumerate() {
                q.push(if n == 0 { "(" } else { ", (" });
                q.bind(key.clone()).push(", ").bind(channel.clone()).push(", ").bind(*id);
                q.push(", ").bind(at.clone()).push(", ").bind(at.clone()).push(")");
            }
            q.push(" ON CONFLICT (key, channel) DO NOTHING");
            run(tx, q).await?;
        }
        let hourly: Vec<_> = hourly.into_iter().collect();
        for chunk in hourly.chunks(ROWS_PER_STATEMENT) {
            let mut q = Sql::new("INSERT INTO hourly_counts (scope, key, hour, count) VALUES ");
            for (n, ((scope, key, hour), count)) in chunk.iter().enumerate() {
                q.push(if n == 0 { "(" } else { ", (" });
                q.bind(scope.clone()).push(", ").bind(key.clone()).push(", ").bind(hour.clone());
                q.push(", ").bind(*count).push(")");
            }
            q.push(" ON CONFLICT (scope, key, hour) DO UPDATE SET count = hourly_counts.count + excluded.count");
            run(tx, q).await?;
        }
        let event_sources: Vec<_> = event_sources.into_iter().collect();
        for chunk in event_sources.chunks(ROWS_PER_STATEMENT) {
            let mut q = Sql::new("INSERT INTO event_sources (event_id, source, tier, first_at, items) VALUES ");
            for (n, ((event, source), (tier, at, items))) in chunk.iter().enumerate() {
                q.push(if n == 0 { "(" } else { ", (" });
                q.bind(*event).push(", ").bind(source.clone()).push(", ").bind(tier.clone());
                q.push(", ").bind(at.clone()).push(", ").bind(*items).push(")");
            }
            q.push(
                " ON CONFLICT (event_id, source) DO UPDATE SET items = event_sources.items + excluded.items,
                   first_at = CASE WHEN excluded.first_at < event_sources.first_at THEN excluded.first_at
                              ELSE event_sources.first_at END",
            );
            run(tx, q).await?;
        }
        let event_hours: Vec<_> = event_hours.into_iter().collect();
        for chunk in event_hours.chunks(ROWS_PER_STATEMENT) {
            let mut q = Sql::new("INSERT INTO event_hours (event_id, hour, items) VALUES ");
            for (n, ((event, hour), items)) in chunk.iter().enumerate() {
                q.push(if n == 0 { "(" } else { ", (" });
                q.bind(*event).push(", ").bind(hour.clone()).push(", ").bind(*items).push(")");
            }
            q.push(" ON CONFLICT (event_id, hour) DO UPDATE SET items = event_hours.items + excluded.items");
            run(tx, q).await?;
        }
        Ok(())
    }
}

async fn run(tx: &mut Transaction<'static, Any>, q: Sql<'_>) -> Result<()> {
    let (sql, args) = q.finish();
    sqlx::query_with(&sql, args).execute(&mut **tx).await?;
    Ok(())
}
