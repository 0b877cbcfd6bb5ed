//! Leases: how several `yuqing serve` processes on one PostgreSQL share the collection
//! without polling a source twice in one interval.
//!
//! Before a pass over a source a collector asks for its lease. It gets it when the
//! source is due (`next_due_at` passed) and nobody else holds a live lease; the row is
//! taken with `FOR UPDATE SKIP LOCKED`, so two processes asking at the same moment
//! never both win, and neither waits for the other. At the end of the pass the holder
//! sets the next due time (its start plus the interval) and gives the lease back. A
//! process that dies mid-pass leaves a lease that runs out after `lease_for`; then
//! another process takes the source over.
//!
//! On SQLite one process writes the data folder; the same rows then keep that process's
//! schedule across restarts.

use crate::{parse_ts, ts, Backend, Result, Store};
use chrono::{DateTime, Utc};

/// The answer to a lease request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// Poll the source now; give the lease back with [`Store::release_source`].
    Granted,
    /// Not now: the source is not due, or another process holds it. Ask again at this time.
    Wait(DateTime<Utc>),
}

impl Store {
    /// Asks for the lease of `source` for a pass of at most `lease_for`.
    pub async fn lease_source(&self, source: &str, now: DateTime<Utc>, lease_for: chrono::Duration) -> Result<Lease> {
        let _w = self.write_guard().await;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let now_s = ts(now);
        let granted: Option<String> = sqlx::query_scalar(&format!(
            "UPDATE sources SET lease_owner = $1, lease_until = $2
             WHERE name = (SELECT name FROM sources WHERE name = $3
                             AND (lease_until IS NULL OR lease_until <= $4 OR lease_owner = $1)
                             AND (next_due_at IS NULL OR next_due_at <= $4){lock})
             RETURNING name"
        ))
        .bind(&self.owner)
        .bind(ts(now + lease_for))
        .bind(source)
        .bind(&now_s)
        .fetch_optional(&self.pool)
        .await?;
        if granted.is_some() {
            return Ok(Lease::Granted);
        }
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT next_due_at, lease_until FROM sources WHERE name = $1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?;
        // Unknown source (not synced yet) or a row locked this instant: ask again soon.
        let soon = now + chrono::Duration::seconds(1);
        let Some((due, until)) = row else { return Ok(Lease::Wait(soon)) };
        let due = due.as_deref().and_then(parse_ts);
        let until = until.as_deref().and_then(parse_ts).filter(|u| *u > now);
        let at = [due, until].into_iter().flatten().max().unwrap_or(soon);
        Ok(Lease::Wait(at.max(soon)))
    }

    /// Gives the lease of `source` back, with the time its next pass is due. Does
    /// nothing when the lease was lost (it ran out and another process took it).
    pub async fn release_source(&self, source: &str, next_due: DateTime<Utc>) -> Result<bool> {
        let _w = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE sources SET lease_owner = NULL, lease_until = NULL, next_due_at = $1
             WHERE name = $2 AND lease_owner = $3",
        )
        .bind(ts(next_due))
        .bind(source)
        .bind(&self.owner)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The time a source is next due, as recorded by the last pass of any process.
    pub async fn source_next_due(&self, source: &str) -> Result<Option<DateTime<Utc>>> {
        let v: Option<Option<String>> = sqlx::query_scalar("SELECT next_due_at FROM sources WHERE name = $1")
            .bind(source)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.flatten().as_deref().and_then(parse_ts))
    }

    /// On the embedded store, which one process writes: frees what an earlier run of
    /// this data folder left leased or claimed (it was killed mid-pass), so that nothing
    /// waits for a lease to run out. Returns (sources, alerts) freed. Does nothing on
    /// PostgreSQL, where other live processes hold leases.
    pub async fn recover_after_restart(&self, now: DateTime<Utc>) -> Result<(u64, u64)> {
        if self.backend != Backend::Sqlite {
            return Ok((0, 0));
        }
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let sources = sqlx::query(
            "UPDATE sources SET lease_owner = NULL, lease_until = NULL
             WHERE lease_owner IS NOT NULL AND lease_owner != $1",
        )
        .bind(&self.owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let alerts = sqlx::query(
            "UPDATE alert_outbox SET next_attempt_at = $1, claimed_by = NULL
             WHERE sent_at IS NULL AND parked = 0 AND claimed_by IS NOT NULL AND claimed_by != $2",
        )
        .bind(ts(now))
        .bind(&self.owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok((sources, alerts))
    }
}
