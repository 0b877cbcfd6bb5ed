//! The alert sender of `yuqing serve`: drains the outbox the store fills in the same
//! transaction as each alerting item. At least once: a row is marked sent only after
//! the channel accepted it; a crash in between sends it again, and the receiver drops
//! the repeat by its key. Retryable failures back off exponentially (30 s doubling, at
//! most an hour); permanent ones are parked with their error for the record.

use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use yuqing_core::config::Config;
use yuqing_notify::{Alert, Sender};
use yuqing_store::{OutboxRow, Store};
use yuqing_web::Metrics;

/// How long to wait before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempts.clamp(0, 7) as u32);
    Duration::from_secs(secs.min(3600))
}

async fn alert_for(store: &Store, config: &Config, row: &OutboxRow, now: DateTime<Utc>) -> Option<Alert> {
    let item = store.item(row.item_id?).await.ok()??;
    let on_duty = store
        .duty_now(now)
        .await
        .map(|d| {
            let mut names: Vec<String> = d.shifts.into_iter().map(|s| s.shift.user).collect();
            names.dedup();
            names
        })
        .unwrap_or_default();
    let link = config.web.public_url.as_ref().and_then(|u| u.join(&format!("items/{}", item.item.id)).ok());
    let at = item
        .item
        .published_at
        .as_deref()
        .or(Some(item.item.fetched_at.as_str()))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    Some(Alert {
        key: row.key.clone(),
        title: item.item.title.clone(),
        level: item.item.level,
        tone: item.item.tone,
        source: item.item.source.clone(),
        tier: item.item.tier,
        url: Some(item.item.url.clone()),
        link: link.map(|u| u.to_string()),
        summary: item.content.chars().take(300).collect(),
        categories: item.item.categories.clone(),
        rules: item.item.matched_rules.clone(),
        at,
        on_duty,
        escalation: None,
    })
}

/// Sends what is due until shutdown.
pub async fn run(
    store: Arc<Store>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("yuqing/", env!("CARGO_PKG_VERSION"), " (alerts)"))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up the HTTP client for alerts; no alert will be sent");
            return;
        }
    };
    let sender = match Sender::new(client, &config.alerts.channels, |k| std::env::var(k).ok()) {
        Ok(s) => s.with_timezone(config.org.timezone),
        Err(e) => {
            tracing::error!(error = %e, "the alert channels cannot be used; alerts stay in the outbox until this is fixed");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = Utc::now();
        // Claimed for 30 s: when several processes share one database, each alert goes
        // out from one of them; a claim of a process that died runs out and another
        // sends it (at least once; receivers drop repeats by key).
        let due = match store.claim_due_alerts(now, 10, chrono::Duration::seconds(30)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the alert outbox");
                continue;
            }
        };
        for row in due {
            if *shutdown.borrow() {
                return;
            }
            let Some(alert) = alert_for(&store, &config, &row, now).await else {
                let _ = store.park_alert(row.id, "the item of this alert no longer exists").await;
                continue;
            };
            match sender.send(&row.channel, &alert).await {
                Ok(_) => {
                    metrics.alerts_sent.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = store.mark_alert_sent(row.id, Utc::now()).await {
                        tracing::error!(error = %e, key = %row.key, "an alert went out but could not be marked sent; it will be sent again");
                    }
                }
                Err(e) if e.is_retryable() => {
                    metrics.alerts_failed.fetch_add(1, Ordering::Relaxed);
                    let next = Utc::now() + chrono::Duration::from_std(backoff(row.attempts)).unwrap_or_default();
                    tracing::warn!(error = %e, key = %row.key, channel = %row.channel, "an alert could not be sent; it will be retried");
                    let _ = store.retry_alert(row.id, next, &e.to_string()).await;
                }
                Err(e) => {
                    metrics.alerts_failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, key = %row.key, channel = %row.channel, "a channel refused an alert for good");
                    let _ = store.park_alert(row.id, &e.to_string()).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_30s_and_stops_at_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(240));
        assert_eq!(backoff(50), Duration::from_secs(3600));
        assert_eq!(backoff(-1), Duration::from_secs(30));
    }
}
