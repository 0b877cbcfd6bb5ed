//! Spike detection in `yuqing serve` (`[spikes]`): every `check_interval`, the previous
//! and the current hour of every watch rule and category are compared with their
//! trailing baseline (`yuqing_store::spikes`), and a new spike is recorded together with
//! its alert outbox rows in one transaction, so the alert sender of `alerts.rs` sends it
//! like any alert (retries, de-duplication key `spike-{id}`, acknowledgement).
//!
//! Several processes may run this loop on one PostgreSQL: the store records each spike
//! once (unique per key and hour, the cool-down gate in the same transaction).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::sync::Arc;
use std::time::Duration;
use yuqing_core::config::{Config, SpikesConfig};
use yuqing_core::Category;
use yuqing_judge::events::SpikeConfig;
use yuqing_store::spikes::{SCOPE_CATEGORY, SCOPE_RULE};
use yuqing_store::{SpikeFinding, SpikePlan, SpikeRecord, Store};

/// The detector's settings from `[spikes]` (validated by check-config: whole hours).
pub fn detector_config(c: &SpikesConfig) -> SpikeConfig {
    let hours = |d: Duration| (d.as_secs() / 3600) as usize;
    SpikeConfig {
        baseline_hours: hours(c.baseline).max(1),
        k: c.k,
        min_count: c.min_count,
        cooldown_hours: hours(c.cooldown).max(1) as i64,
        min_history_hours: hours(c.min_history),
    }
}

/// The rules and categories a spike carries for route filters: a rule's spike carries
/// the rule and its category, a category's spike the category alone.
pub fn route_keys(config: &Config, scope: &str, key: &str) -> (Vec<String>, Vec<Category>) {
    match scope {
        SCOPE_RULE => {
            let cat = config.rules.iter().find(|r| r.name == key).and_then(|r| r.category);
            (vec![key.to_string()], cat.into_iter().collect())
        }
        _ => (vec![], Category::from_id(key).into_iter().collect()),
    }
}

/// "监测规则“上犹财政”" or "重点内容类别“民生问题”".
pub fn subject(scope: &str, key: &str) -> String {
    match (scope, Category::from_id(key)) {
        (SCOPE_CATEGORY, Some(c)) => format!("重点内容类别“{}”", c.zh()),
        (SCOPE_CATEGORY, None) => format!("重点内容类别“{key}”"),
        _ => format!("监测规则“{key}”"),
    }
}

/// "过去7天" or "过去36小时": the baseline's span.
fn span(hours: usize) -> String {
    if hours >= 24 && hours.is_multiple_of(24) {
        format!("过去{}天", hours / 24)
    } else {
        format!("过去{hours}小时")
    }
}

/// The alert's line, e.g. 「监测规则“上犹财政”12月3日15时新增 40 条，过去7天每小时平均 1.2 条」;
/// an hour still filling says so.
pub fn title(f: &SpikeFinding, tz: Tz) -> String {
    let hour = f.hour.with_timezone(&tz).format("%-m月%-d日%-H时");
    let so_far = if f.partial { "起（本小时未过完）" } else { "" };
    format!(
        "{}{hour}{so_far}新增 {} 条，{}每小时平均 {:.1} 条",
        subject(&f.scope, &f.key),
        f.count,
        span(f.baseline.hours),
        f.baseline.mean
    )
}

/// The line and channels of a spike's alert.
pub fn plan(config: &Config, f: &SpikeFinding) -> SpikePlan {
    let (rules, categories) = route_keys(config, &f.scope, &f.key);
    let channels = yuqing_notify::spike_channels_for(&config.alerts.routes, &rules, &categories)
        .into_iter()
        .map(str::to_string)
        .collect();
    SpikePlan { title: title(f, config.org.timezone), channels }
}

/// The page in yuqing a spike's alert links to: the stream of its category that day, or
/// the spike in the list of spikes (the stream has no filter by rule).
pub fn link_path(s: &SpikeRecord, tz: Tz) -> String {
    match (s.scope.as_str(), Category::from_id(&s.key)) {
        (SCOPE_CATEGORY, Some(c)) => {
            format!("?category={}&since={}", c.id(), s.hour.with_timezone(&tz).format("%Y-%m-%d"))
        }
        _ => format!("spikes#spike-{}", s.id),
    }
}

/// One check at `now`; the spikes it recorded.
pub async fn check(store: &Store, config: &Config, now: DateTime<Utc>) -> yuqing_store::Result<Vec<SpikeRecord>> {
    let cfg = detector_config(&config.spikes);
    store.check_spikes(now, &cfg, |f| plan(config, f)).await
}

/// Checks every `check_interval` until shutdown.
pub async fn run(
    store: Arc<Store>,
    config: Arc<Config>,
    metrics: Arc<yuqing_web::Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(config.spikes.check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        match check(&store, &config, Utc::now()).await {
            Ok(new) => {
                metrics.spikes.fetch_add(new.len() as u64, std::sync::atomic::Ordering::Relaxed);
                for s in new {
                    tracing::info!(scope = %s.scope, key = %s.key, hour = %s.hour, count = s.count, threshold = s.threshold, "a spike: an hour with far more items than usual");
                }
            }
            Err(e) => {
                metrics.spike_checks_failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(error = %e, "cannot check for spikes")
            }
        }
        if std::mem::take(&mut first) {
            tracing::info!(every = ?config.spikes.check_interval, "spike detection checked the hours and runs on");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yuqing_judge::events::Baseline;

    fn finding(scope: &str, key: &str, partial: bool) -> SpikeFinding {
        let cfg = SpikeConfig::default();
        SpikeFinding {
            scope: scope.into(),
            key: key.into(),
            hour: DateTime::parse_from_rfc3339("2026-12-03T07:00:00Z").unwrap().with_timezone(&Utc),
            count: 40,
            baseline: Baseline::of_counts(&[1, 1, 2].repeat(56), &cfg),
            partial,
        }
    }

    #[test]
    fn lines_read_naturally() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(
            title(&finding(SCOPE_RULE, "上犹财政", false), tz),
            "监测规则“上犹财政”12月3日15时新增 40 条，过去7天每小时平均 1.3 条"
        );
        assert_eq!(
            title(&finding(SCOPE_CATEGORY, "livelihood", true), tz),
            "重点内容类别“民生问题”12月3日15时起（本小时未过完）新增 40 条，过去7天每小时平均 1.3 条"
        );
        assert_eq!(span(36), "过去36小时");
    }

    #[test]
    fn spikes_reach_the_spike_routes_by_rule_and_category() {
        let text = r#"
[[rules]]
name = "上犹财政"
query = "上犹 财政"
category = "livelihood"
[[rules]]
name = "招聘"
query = "招聘"
[[alerts.channels]]
name = "items"
kind = "webhook"
url = "https://h.example.org/items"
[[alerts.channels]]
name = "duty"
kind = "webhook"
url = "https://h.example.org/duty"
[[alerts.routes]]
channels = ["items"]
[[alerts.routes]]
channels = ["duty"]
spikes = true
categories = ["livelihood"]
"#;
        let config = Config::parse(text, "t", &|_| Ok(())).expect("valid");
        assert_eq!(plan(&config, &finding(SCOPE_RULE, "上犹财政", false)).channels, ["duty"]);
        assert_eq!(plan(&config, &finding(SCOPE_CATEGORY, "livelihood", false)).channels, ["duty"]);
        assert!(plan(&config, &finding(SCOPE_RULE, "招聘", false)).channels.is_empty());
        assert!(plan(&config, &finding(SCOPE_CATEGORY, "rumour", false)).channels.is_empty());
        assert_eq!(detector_config(&config.spikes), SpikeConfig::default());
    }
}
