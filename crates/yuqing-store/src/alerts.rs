//! The alert outbox: rows written with their item, then sent, retried and parked by
//! the sender loop of `yuqing serve`. Sending is at least once; the key lets the
//! receiving side drop repeats (webhook `Idempotency-Key`, email Message-ID).

use crate::{ts, Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

/// One alert waiting to go out on one channel.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub key: String,
    pub channel: String,
    pub item_id: Option<i64>,
    pub attempts: i64,
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub parked: i64,
}

impl Store {
    /// Alerts due for (another) attempt, oldest first.
    pub async fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT id, key, channel, item_id, attempts FROM alert_outbox
             WHERE sent_at IS NULL AND parked = 0 AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        )
        .bind(ts(now))
        .bind(limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    id: r.try_get("id")?,
                    key: r.try_get("key")?,
                    channel: r.try_get("channel")?,
                    item_id: r.try_get("item_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    pub async fn mark_alert_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let _w = self.write_lock.lock().await;
        sqlx::query("UPDATE alert_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
            .bind(ts(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed attempt that may succeed later.
    pub async fn retry_alert(&self, id: i64, next_at: DateTime<Utc>, error: &str) -> Result<()> {
        let _w = self.write_lock.lock().await;
        sqlx::query(
            "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
        )
        .bind(ts(next_at))
        .bind(error.chars().take(1000).collect::<String>())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that a channel refused an alert for good; it stays for the record.
    pub async fn park_alert(&self, id: i64, error: &str) -> Result<()> {
        let _w = self.write_lock.lock().await;
        sqlx::query("UPDATE alert_outbox SET attempts = attempts + 1, parked = 1, last_error = ? WHERE id = ?")
            .bind(error.chars().take(1000).collect::<String>())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let r = sqlx::query(
            "SELECT COALESCE(SUM(sent_at IS NULL AND parked = 0), 0) AS pending,
                    COALESCE(SUM(sent_at IS NOT NULL), 0) AS sent,
                    COALESCE(SUM(parked = 1), 0) AS parked FROM alert_outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxCounts { pending: r.try_get("pending")?, sent: r.try_get("sent")?, parked: r.try_get("parked")? })
    }
}
