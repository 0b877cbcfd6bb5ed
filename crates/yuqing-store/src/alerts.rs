//! The alert outbox: rows written with their item, then sent, retried and parked by
//! the sender loop of `yuqing serve`. Sending is at least once; the key lets the
//! receiving side drop repeats (webhook `Idempotency-Key`, email Message-ID).
//!
//! Alerts as people see them (migration 0009): an [`AlertRecord`] is opened in the
//! transaction that marks an item alert's first message sent; it is acknowledged
//! ([`Store::acknowledge_alert`]) through the signed link in the message
//! ([`ack_token`]) or the button in the UI, and until then the escalation loop writes
//! its rounds to the outbox ([`Store::write_escalation`]), each round once.

use crate::{parse_ts, ts, Backend, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use yuqing_core::{Level, Role};

/// One alert waiting to go out on one channel.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub key: String,
    pub channel: String,
    pub item_id: Option<i64>,
    pub attempts: i64,
    /// The alert this row escalates (an escalation round), if it does.
    pub alert_id: Option<i64>,
    pub escalation_round: Option<i64>,
    /// The overdue case this row escalates, if it does.
    pub case_id: Option<i64>,
    /// The line the message leads with, fixed when the row was written.
    pub notice: Option<String>,
    /// The spike this row alerts (`spike-{id}` keys), if it does.
    pub spike_id: Option<i64>,
}

impl OutboxRow {
    /// An item's own first alert (not an escalation of an alert or a case).
    pub fn is_first_alert(&self) -> bool {
        self.alert_id.is_none() && self.case_id.is_none()
    }
}

fn outbox_from_row(r: &sqlx::any::AnyRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        channel: r.try_get("channel")?,
        item_id: r.try_get("item_id")?,
        attempts: r.try_get("attempts")?,
        alert_id: r.try_get("alert_id")?,
        escalation_round: r.try_get("escalation_round")?,
        case_id: r.try_get("case_id")?,
        notice: r.try_get("notice")?,
        spike_id: r.try_get("spike_id")?,
    })
}

/// An alert as people see it: when it went out, who acknowledged it, how far it escalated.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRecord {
    pub id: i64,
    /// The outbox key of its first messages, e.g. `item-17`.
    pub key: String,
    pub item_id: Option<i64>,
    /// The spike it alerted, for a spike's alert (`spike-{id}`).
    pub spike_id: Option<i64>,
    /// The item's title (a spike's line), for lists.
    pub title: Option<String>,
    pub level: Level,
    pub sent_at: DateTime<Utc>,
    /// A sensitive period was active when it went out (it escalates sooner).
    pub sensitive: bool,
    /// Who the message called on (the people on duty then).
    pub alerted: Vec<String>,
    pub acked_at: Option<DateTime<Utc>>,
    pub acked_by: Option<String>,
    /// `link`, `ui` or `api`.
    pub acked_via: Option<String>,
    /// Escalation rounds written so far.
    pub rounds: i64,
    /// When the escalation loop looks at it again; `None` once acknowledged or for an
    /// alert that never escalates.
    pub next_check_at: Option<DateTime<Utc>>,
}

const ALERT_COLUMNS: &str = "a.id, a.key, a.item_id, a.spike_id, COALESCE(i.title, sp.title) AS title, a.level, a.sent_at, a.sensitive, a.alerted, a.acked_at, \
     a.acked_by, a.acked_via, a.rounds, a.next_check_at";

fn time_col(r: &sqlx::any::AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    let s: Option<String> = r.try_get(col)?;
    match s {
        None => Ok(None),
        Some(s) => {
            parse_ts(&s).map(Some).ok_or_else(|| StoreError::Invalid(format!("stored time `{s}` is not RFC 3339")))
        }
    }
}

fn alert_from_row(r: &sqlx::any::AnyRow) -> Result<AlertRecord> {
    let level: String = r.try_get("level")?;
    let alerted: String = r.try_get("alerted")?;
    Ok(AlertRecord {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        item_id: r.try_get("item_id")?,
        spike_id: r.try_get("spike_id")?,
        title: r.try_get("title")?,
        level: Level::from_id(&level).unwrap_or(Level::Ordinary),
        sent_at: time_col(r, "sent_at")?.unwrap_or_default(),
        sensitive: r.try_get::<i64, _>("sensitive")? != 0,
        alerted: serde_json::from_str(&alerted).unwrap_or_default(),
        acked_at: time_col(r, "acked_at")?,
        acked_by: r.try_get("acked_by")?,
        acked_via: r.try_get("acked_via")?,
        rounds: r.try_get("rounds")?,
        next_check_at: time_col(r, "next_check_at")?,
    })
}

/// What the sender knows when an item alert's first message goes out, to open its
/// [`AlertRecord`].
#[derive(Debug, Clone)]
pub struct OpenAlert {
    pub level: Level,
    pub sensitive: bool,
    pub alerted: Vec<String>,
    /// When to look at its escalation first (its acknowledgement deadline); `None` for an
    /// alert that never escalates.
    pub next_check_at: Option<DateTime<Utc>>,
}

/// Who acknowledges an alert.
#[derive(Debug, Clone)]
pub struct AckBy<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
    /// `link`, `ui` or `api`.
    pub via: &'a str,
}

/// The answer to [`Store::acknowledge_alert`].
#[derive(Debug, Clone)]
pub enum AckOutcome {
    /// Acknowledged now, by this call.
    Acknowledged(AlertRecord),
    /// Somebody had acknowledged it already; the record says who and when.
    Already(AlertRecord),
    /// No such alert (or its first message has not gone out yet).
    NoAlert,
}

/// The HMAC-SHA256 of `message` under `key` (RFC 2104), written out with sha2 alone.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The token of the acknowledgement link of alert `key`: 128 bits of HMAC-SHA256 under
/// the database's secret ([`Store::ack_secret`]), hex. Stable for a key (a retried
/// message carries the same link) and unguessable without the secret.
pub fn ack_token(secret: &[u8], key: &str) -> String {
    hex::encode(&hmac_sha256(secret, format!("yuqing-ack:{key}").as_bytes())[..16])
}

/// Whether `token` is the acknowledgement token of `key`, compared in constant time.
pub fn ack_token_valid(secret: &[u8], key: &str, token: &str) -> bool {
    let want = ack_token(secret, key);
    want.len() == token.len() && want.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// One outbox row of an escalation, to write.
#[derive(Debug, Clone)]
pub struct EscalationRow {
    pub channel: String,
    pub notice: String,
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
             RETURNING id, key, channel, item_id, attempts, alert_id, escalation_round, case_id, notice, spike_id"
        ))
        .bind(ts(now + claim_for))
        .bind(&self.owner)
        .bind(ts(now))
        .bind(limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(outbox_from_row).collect::<Result<Vec<_>>>()?;
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

impl Store {
    /// Marks an item alert's message sent and, when it is the first of its key to go
    /// out, opens the alert's [`AlertRecord`] in the same transaction (the time to
    /// acknowledge counts from this moment). Later messages of the same key (other
    /// channels, repeats) leave the record as it is.
    pub async fn mark_alert_sent_opening(&self, row: &OutboxRow, now: DateTime<Utc>, open: &OpenAlert) -> Result<()> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE alert_outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, claimed_by = NULL WHERE id = $2")
            .bind(ts(now))
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO alerts (key, item_id, level, sent_at, sensitive, alerted, next_check_at, spike_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&row.key)
        .bind(row.item_id)
        .bind(open.level.id())
        .bind(ts(now))
        .bind(i64::from(open.sensitive))
        .bind(serde_json::to_string(&open.alerted).unwrap_or_else(|_| "[]".into()))
        .bind(open.next_check_at.map(ts))
        .bind(row.spike_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Holds an alert back until `until` without counting an attempt (quiet hours with
    /// nobody on duty): the claim ends and the row waits.
    pub async fn defer_alert(&self, id: i64, until: DateTime<Utc>) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query(
            "UPDATE alert_outbox SET next_attempt_at = $1, claimed_by = NULL WHERE id = $2 AND sent_at IS NULL",
        )
        .bind(ts(until))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The alert with this key.
    pub async fn alert_by_key(&self, key: &str) -> Result<Option<AlertRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN items i ON i.id = a.item_id LEFT JOIN spikes sp ON sp.id = a.spike_id WHERE a.key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        r.as_ref().map(alert_from_row).transpose()
    }

    /// The alert with this id.
    pub async fn alert(&self, id: i64) -> Result<Option<AlertRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN items i ON i.id = a.item_id LEFT JOIN spikes sp ON sp.id = a.spike_id WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        r.as_ref().map(alert_from_row).transpose()
    }

    /// Recent alerts, newest first; only the unacknowledged ones with `unacked_only`.
    pub async fn alerts(&self, unacked_only: bool, limit: usize) -> Result<Vec<AlertRecord>> {
        let filter = if unacked_only { " WHERE a.acked_at IS NULL" } else { "" };
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN items i ON i.id = a.item_id LEFT JOIN spikes sp ON sp.id = a.spike_id{filter} ORDER BY a.sent_at DESC, a.id DESC LIMIT $1"
        ))
        .bind(limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// The alerts of an item, newest first.
    pub async fn alerts_of_item(&self, item_id: i64) -> Result<Vec<AlertRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN items i ON i.id = a.item_id LEFT JOIN spikes sp ON sp.id = a.spike_id WHERE a.item_id = $1 ORDER BY a.id DESC"
        ))
        .bind(item_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Records that `by` acknowledged alert `key`: once; a second acknowledgement
    /// changes nothing and is told who was first. Escalation stops with it.
    pub async fn acknowledge_alert(&self, key: &str, by: &AckBy<'_>, now: DateTime<Utc>) -> Result<AckOutcome> {
        let done = {
            let _w = self.write_guard().await;
            sqlx::query(
                "UPDATE alerts SET acked_at = $1, acked_by = $2, acked_user_id = $3, acked_via = $4, next_check_at = NULL
                 WHERE key = $5 AND acked_at IS NULL",
            )
            .bind(ts(now))
            .bind(by.name)
            .bind(by.user_id)
            .bind(by.via)
            .bind(key)
            .execute(&self.pool)
            .await?
            .rows_affected()
        };
        Ok(match self.alert_by_key(key).await? {
            None => AckOutcome::NoAlert,
            Some(a) if done > 0 => AckOutcome::Acknowledged(a),
            Some(a) => AckOutcome::Already(a),
        })
    }

    /// Unacknowledged alerts whose escalation is due to be looked at (`next_check_at <= now`),
    /// oldest first.
    pub async fn alerts_due_for_escalation(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a LEFT JOIN items i ON i.id = a.item_id LEFT JOIN spikes sp ON sp.id = a.spike_id
             WHERE a.acked_at IS NULL AND a.next_check_at IS NOT NULL AND a.next_check_at <= $1
             ORDER BY a.next_check_at, a.id LIMIT $2"
        ))
        .bind(ts(now))
        .bind(limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// The channels an alert's first messages were written to, in outbox order.
    pub async fn alert_channels(&self, key: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT channel FROM alert_outbox WHERE key = $1 ORDER BY id")
            .bind(key)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("channel")?)).collect()
    }

    /// Writes round `round` of the escalation of alert `alert_id` to the outbox (one row
    /// per channel, key [`yuqing_cases::periods::alert_escalation_key`]) and moves the
    /// alert's next check to `next_check_at`, in one transaction and only if the alert is
    /// still unacknowledged and the round is new: each round is written once, however
    /// many processes or restarts try. Whether this call wrote it.
    pub async fn write_escalation(
        &self,
        alert_id: i64,
        item_id: Option<i64>,
        round: u32,
        next_check_at: Option<DateTime<Utc>>,
        rows: &[EscalationRow],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE alerts SET rounds = $1, next_check_at = $2 WHERE id = $3 AND acked_at IS NULL AND rounds < $4",
        )
        .bind(i64::from(round))
        .bind(next_check_at.map(ts))
        .bind(alert_id)
        .bind(i64::from(round))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        let key = yuqing_cases::periods::alert_escalation_key(alert_id, round);
        for row in rows {
            sqlx::query(
                "INSERT INTO alert_outbox (key, channel, item_id, created_at, next_attempt_at, alert_id, escalation_round, notice)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key, channel) DO NOTHING",
            )
            .bind(&key)
            .bind(&row.channel)
            .bind(item_id)
            .bind(ts(now))
            .bind(ts(now))
            .bind(alert_id)
            .bind(i64::from(round))
            .bind(&row.notice)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Moves an unacknowledged alert's next escalation check (nothing new was due).
    pub async fn reschedule_alert_check(&self, alert_id: i64, next_check_at: Option<DateTime<Utc>>) -> Result<()> {
        let _w = self.write_guard().await;
        sqlx::query("UPDATE alerts SET next_check_at = $1 WHERE id = $2 AND acked_at IS NULL")
            .bind(next_check_at.map(ts))
            .bind(alert_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes the escalation of an overdue deadline of a case (key
    /// [`yuqing_cases::Overdue::escalation_key`]), one row per channel, once: a key
    /// already in the outbox is left as it is. Whether any row was new.
    pub async fn write_case_escalation(
        &self,
        case_id: i64,
        item_id: Option<i64>,
        key: &str,
        rows: &[EscalationRow],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let _w = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let mut new = 0;
        for row in rows {
            new += sqlx::query(
                "INSERT INTO alert_outbox (key, channel, item_id, created_at, next_attempt_at, case_id, notice)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key, channel) DO NOTHING",
            )
            .bind(key)
            .bind(&row.channel)
            .bind(item_id)
            .bind(ts(now))
            .bind(ts(now))
            .bind(case_id)
            .bind(&row.notice)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(new > 0)
    }

    /// The keys of the case escalations written so far (`case-{id}-overdue-{deadline}`).
    pub async fn case_escalation_keys(&self) -> Result<std::collections::HashSet<String>> {
        let rows = sqlx::query("SELECT DISTINCT key FROM alert_outbox WHERE case_id IS NOT NULL")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("key")?)).collect()
    }

    /// The names of the enabled users with `role`, by name.
    pub async fn user_names_with_role(&self, role: Role) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT name FROM users WHERE role = $1 AND disabled = 0 ORDER BY name")
            .bind(role.id())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
    }

    /// The key that signs acknowledgement links: made once (32 random bytes) by the first
    /// process that asks, the same for every process on this database.
    pub async fn ack_secret(&self) -> Result<Vec<u8>> {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT secret FROM alert_secret WHERE id = 1").fetch_optional(&self.pool).await?;
        let hex_secret = match existing {
            Some(s) => s,
            None => {
                let fresh = hex::encode(rand::random::<[u8; 32]>());
                {
                    let _w = self.write_guard().await;
                    sqlx::query("INSERT INTO alert_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                        .bind(&fresh)
                        .execute(&self.pool)
                        .await?;
                }
                sqlx::query_scalar("SELECT secret FROM alert_secret WHERE id = 1").fetch_one(&self.pool).await?
            }
        };
        hex::decode(&hex_secret).map_err(|e| StoreError::Invalid(format!("the acknowledgement secret is not hex: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::{ack_token, ack_token_valid, hmac_sha256};

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn tokens_are_per_key_and_per_secret() {
        let t = ack_token(b"secret-1", "item-17");
        assert_eq!(t.len(), 32);
        assert!(ack_token_valid(b"secret-1", "item-17", &t));
        assert!(!ack_token_valid(b"secret-2", "item-17", &t));
        assert!(!ack_token_valid(b"secret-1", "item-18", &t));
        assert!(!ack_token_valid(b"secret-1", "item-17", &t[..31]));
        assert!(!ack_token_valid(b"secret-1", "item-17", ""));
    }
}
