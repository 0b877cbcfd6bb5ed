//! The alert outbox: rows written with their item, then sent, retried and parked by
//! the sender loop of `yuqing serve`. Sending is at least once; the key lets the
//! receiving side drop repeats (webhook `Idempotency-Key`, email Message-ID).

use crate::{ts, Backend, Result, Store};
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
    /// Claims alerts due for (another) attempt, oldest first, for `claim_for`: until
    /// then no other process picks them up. The claim ends when the attempt is recorded
    /// (sent, retry or parked) or runs out (the process died).
    pub async fn claim_due_alerts(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        claim_for: chrono::Duration,
    ) -> Result<Vec<OutboxRow>> {
        let _w = self.write_guard().await;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "UPDATE alert_outbox SET next_attempt_at = $1, claimed_by = $2
             WHERE id IN (SELECT id FROM alert_outbox
                          WHERE sent_at IS NULL AND parked = 0 AND next_attempt_at <= $3 ORDER BY id LIMIT $4{lock})
             RETURNING id, key, channel, item_id, attempts"
        ))
        .bind(ts(now + claim_for))
        .bind(&self.owner)
        .bind(ts(now))
        .bind(limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(OutboxRow {
                    id: r.try_get("id")?,
                    key: r.try_get("key")?,
                    channel: r.try_get("channel")?,
                    item_id: r.try_get("item_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Alerts due now, claimed for two minutes (see [`Store::claim_due_alerts`]).
    pub async fn due_alerts(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxRow>> {
        self.claim_due_alerts(now, limit, chrono::Duration::minutes(2)).await
    }

    pub async fn mark_alert_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query("UPDATE alert_outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, claimed_by = NULL WHERE id = $2")
            .bind(ts(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed attempt that may succeed later.
    pub async fn retry_alert(&self, id: i64, next_at: DateTime<Utc>, error: &str) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query(
            "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, claimed_by = NULL WHERE id = $3",
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
        let _w = self.write_guard().await;
        sqlx::query("UPDATE alert_outbox SET attempts = attempts + 1, parked = 1, last_error = $1, claimed_by = NULL WHERE id = $2")
            .bind(error.chars().take(1000).collect::<String>())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let r = sqlx::query(
            "SELECT COUNT(CASE WHEN sent_at IS NULL AND parked = 0 THEN 1 END) AS pending,
                    COUNT(sent_at) AS sent,
                    COUNT(CASE WHEN parked = 1 THEN 1 END) AS parked FROM alert_outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxCounts { pending: r.try_get("pending")?, sent: r.try_get("sent")?, parked: r.try_get("parked")? })
    }
}
