//! The alert sender of `yuqing serve`: drains the outbox the store fills in the same
//! transaction as each alerting item. At least once: a row is marked sent only after
//! the channel accepted it; a crash in between sends it again, and the receiver drops
//! the repeat by its key. Retryable failures back off exponentially (30 s doubling, at
//! most an hour); permanent ones are parked with their error for the record.
//!
//! Beside sending, the same loop
//! - holds alerts during `[alerts] quiet_hours` when nobody is on duty and no sensitive
//!   period is active (major-sensitive items are never held): round the clock in a
//!   sensitive period ([`yuqing_cases::alert_targets`]);
//! - opens the alert's record when its first message goes out, with its
//!   acknowledgement deadline (`[alerts.escalation]`, sooner in a sensitive period);
//! - escalates unacknowledged alerts of important and major-sensitive items: round 1 to
//!   the next person on the roster, later rounds to the leaders, each round written to
//!   the outbox once (the store checks the round is new in the same transaction);
//! - escalates the deadlines of overdue cases to the leaders, once per deadline.
//!
//! Every message carries a signed acknowledgement link (`/alerts/ack/{key}?t=…`): the
//! page it opens asks the user to log in and confirm (a POST with the session's CSRF
//! token), so a link preview that fetches it changes nothing.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use yuqing_cases::{
    alert_targets, escalate_unacknowledged, escalates, escalation_target, needs_escalation, EscalationPolicy, Overdue,
    Periods, Roster,
};
use yuqing_core::config::Config;
use yuqing_core::{Level, Role, Tier, Tone};
use yuqing_notify::{Alert, AlertKind, Sender};
use yuqing_store::{AlertRecord, CaseFilter, EscalationRow, OpenAlert, OutboxRow, Store};
use yuqing_web::Metrics;

/// How long to wait before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempts.clamp(0, 7) as u32);
    Duration::from_secs(secs.min(3600))
}

/// `[alerts.escalation]`: the timing of [`EscalationPolicy`] plus where escalations go.
///
/// ```toml
/// [alerts.escalation]
/// ack_within = "30m"
/// ack_within_sensitive = "10m"
/// repeat_every = "30m"
/// channels = ["duty-wecom"]           # besides the alert's own channels, every round
/// leader_channels = ["leaders-mail"]  # rounds to the leaders, and overdue cases
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Escalation {
    pub policy: EscalationPolicy,
    pub channels: Vec<String>,
    pub leader_channels: Vec<String>,
}

/// The escalation settings of a configuration, or every problem in them.
pub fn escalation(config: &Config) -> Result<Escalation, Vec<String>> {
    let Some(raw) = &config.alerts.escalation else { return Ok(Escalation::default()) };
    let key = EscalationPolicy::KEY;
    let Some(table) = raw.as_table() else { return Err(vec![format!("{key}: must be a table")]) };
    let mut table = table.clone();
    let mut problems = Vec::new();
    let defined: Vec<&str> = config.alerts.channels.iter().map(|c| c.name.as_str()).collect();
    let mut list = |field: &str| -> Vec<String> {
        let Some(v) = table.remove(field) else { return vec![] };
        match v.try_into::<Vec<String>>() {
            Ok(names) => {
                for n in &names {
                    if !defined.contains(&n.as_str()) {
                        problems.push(format!("{key}.{field}: channel `{n}` is not defined in [[alerts.channels]]"));
                    }
                }
                names
            }
            Err(_) => {
                problems.push(format!("{key}.{field}: must be a list of channel names"));
                vec![]
            }
        }
    };
    let channels = list("channels");
    let leader_channels = list("leader_channels");
    let policy = match toml::Value::Table(table).try_into::<EscalationPolicy>() {
        Ok(p) => {
            problems.extend(p.validate().iter().map(|p| p.to_string()));
            p
        }
        Err(e) => {
            problems.push(format!("{key}: {}", e.to_string().trim().replace('\n', " ")));
            EscalationPolicy::default()
        }
    };
    if problems.is_empty() {
        Ok(Escalation { policy, channels, leader_channels })
    } else {
        Err(problems)
    }
}

/// A duration in Chinese for messages: "30 分钟", "2 小时", "1 小时 30 分钟", "45 秒".
pub fn zh_span(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} 小时"));
    }
    if m > 0 {
        parts.push(format!("{m} 分钟"));
    }
    if s > 0 && h == 0 {
        parts.push(format!("{s} 秒"));
    }
    if parts.is_empty() {
        "0 秒".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The line an escalation round leads with.
pub fn escalation_notice(round: u32, waited: Duration, people: &[String], leaders: bool) -> String {
    let who = if people.is_empty() { "（名单为空，请网宣办处理）".to_owned() } else { people.join("、") };
    if leaders {
        format!("第 {round} 次升级：预警发出已 {}，仍无人确认，报领导：{who}", zh_span(waited))
    } else {
        format!("预警发出已 {}，无人确认，升级至：{who}（下一值班人）", zh_span(waited))
    }
}

/// Everything the loop reads once and keeps.
struct Ctx {
    store: Arc<Store>,
    config: Arc<Config>,
    escalation: Escalation,
    secret: Vec<u8>,
}

impl Ctx {
    fn link(&self, path: &str) -> Option<String> {
        self.config.web.public_url.as_ref().and_then(|u| u.join(path).ok()).map(|u| u.to_string())
    }

    fn ack_link(&self, key: &str) -> Option<String> {
        let token = yuqing_store::ack_token(&self.secret, key);
        self.link(&format!("alerts/ack/{key}?t={token}"))
    }

    async fn duty(&self, now: DateTime<Utc>) -> (Roster, Periods) {
        let roster = self.store.roster(now - TimeDelta::days(8), now + TimeDelta::days(8)).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the duty roster");
            Roster::default()
        });
        let periods = self.store.periods().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the sensitive periods; alerts go out as in one");
            Periods::default()
        });
        (roster, periods)
    }
}

/// How often an alert held for quiet hours is looked at again.
const HOLD_RECHECK_SECS: i64 = 15;

/// The message of one outbox row, or why it is not sent.
enum Prepared {
    Send(Box<Alert>, Option<OpenAlert>),
    /// Hold until then (quiet hours, nobody on duty).
    Hold(DateTime<Utc>),
    /// Not sent, for good (the item is gone; the alert was acknowledged first).
    Drop(&'static str),
}

/// The message of a spike's alert (`spike-{id}`): held in quiet hours like an ordinary
/// item's, acknowledged like any alert, never escalated.
async fn prepare_spike(ctx: &Ctx, row: &OutboxRow, spike_id: i64, now: DateTime<Utc>) -> Prepared {
    let Ok(Some(spike)) = ctx.store.spike(spike_id).await else {
        return Prepared::Drop("the spike of this alert no longer exists");
    };
    let (roster, periods) = ctx.duty(now).await;
    let tz = ctx.config.org.timezone;
    let targets = alert_targets(&roster, &periods, now, ctx.config.alerts.quiet_hours, tz);
    if let Some(hold) = targets.hold {
        return Prepared::Hold(hold.until.min(now + TimeDelta::seconds(HOLD_RECHECK_SECS)));
    }
    let open = OpenAlert {
        level: Level::Ordinary,
        sensitive: targets.round_the_clock,
        alerted: targets.on_duty,
        next_check_at: None,
    };
    let (rules, categories) = crate::spikes::route_keys(&ctx.config, &spike.scope, &spike.key);
    let alert = Alert {
        kind: AlertKind::Spike,
        key: row.key.clone(),
        title: spike.title.clone(),
        level: Level::Ordinary,
        tone: Tone::Neutral,
        source: String::new(),
        tier: Tier::Local,
        url: None,
        link: ctx.link(&crate::spikes::link_path(&spike, tz)),
        summary: format!(
            "阈值 {:.1} 条（{}小时基线：平均 {:.1} 条，标准差 {:.1}）。",
            spike.threshold, spike.baseline_hours, spike.mean, spike.std_dev
        ),
        categories,
        rules,
        at: spike.hour,
        on_duty: roster.users_on_duty(now),
        escalation: None,
        ack_link: ctx.ack_link(&row.key),
        notice: None,
    };
    Prepared::Send(Box::new(alert), Some(open))
}

async fn prepare(ctx: &Ctx, row: &OutboxRow, now: DateTime<Utc>) -> Prepared {
    if let Some(spike_id) = row.spike_id {
        return prepare_spike(ctx, row, spike_id, now).await;
    }
    let Some(item) = (match row.item_id {
        Some(id) => ctx.store.item(id).await.ok().flatten(),
        None => None,
    }) else {
        return Prepared::Drop("the item of this alert no longer exists");
    };
    let (roster, periods) = ctx.duty(now).await;
    let tz = ctx.config.org.timezone;
    let mut open = None;
    let mut ack_link = None;
    if row.is_first_alert() {
        // Major-sensitive items wake people at night; the rest wait for a shift.
        let quiet = ctx.config.alerts.quiet_hours.filter(|_| item.item.level < Level::MajorSensitive);
        let targets = alert_targets(&roster, &periods, now, quiet, tz);
        if let Some(hold) = targets.hold {
            // Looked at again soon, not only when the hold ends: a shift added or a
            // sensitive period declared meanwhile releases the alert.
            return Prepared::Hold(hold.until.min(now + TimeDelta::seconds(HOLD_RECHECK_SECS)));
        }
        let sensitive = targets.round_the_clock;
        let next_check_at = escalates(item.item.level).then(|| ctx.escalation.policy.ack_due(now, sensitive));
        open = Some(OpenAlert { level: item.item.level, sensitive, alerted: targets.on_duty, next_check_at });
        ack_link = ctx.ack_link(&row.key);
    } else if let Some(alert_id) = row.alert_id {
        match ctx.store.alert(alert_id).await {
            Ok(Some(a)) if a.acked_at.is_some() => {
                return Prepared::Drop("acknowledged before this escalation went out")
            }
            Ok(Some(a)) => ack_link = ctx.ack_link(&a.key),
            _ => {}
        }
    }
    let link = match row.case_id {
        Some(case) => ctx.link(&format!("cases/{case}")),
        None => ctx.link(&format!("items/{}", item.item.id)),
    };
    let at = item
        .item
        .published_at
        .as_deref()
        .or(Some(item.item.fetched_at.as_str()))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let alert = Alert {
        kind: AlertKind::Item,
        key: row.key.clone(),
        title: item.item.title.clone(),
        level: item.item.level,
        tone: item.item.tone,
        source: item.item.source.clone(),
        tier: item.item.tier,
        url: Some(item.item.url.clone()),
        link,
        summary: item.content.chars().take(300).collect(),
        categories: item.item.categories.clone(),
        rules: item.item.matched_rules.clone(),
        at,
        on_duty: roster.users_on_duty(now),
        escalation: row.escalation_round.and_then(|r| u32::try_from(r).ok()),
        ack_link,
        notice: row.notice.clone(),
    };
    Prepared::Send(Box::new(alert), open)
}

/// Each channel once, in order.
fn union(lists: &[&[String]]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        for c in list.iter() {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    out
}

/// Writes the rounds that fell due for the unacknowledged alerts.
async fn escalate_alerts(ctx: &Ctx, now: DateTime<Utc>) -> yuqing_store::Result<()> {
    let due = ctx.store.alerts_due_for_escalation(now, 50).await?;
    if due.is_empty() {
        return Ok(());
    }
    let (roster, _) = ctx.duty(now).await;
    let leaders = ctx.store.user_names_with_role(Role::Leader).await?;
    for a in due {
        escalate_one(ctx, &a, &roster, &leaders, now).await?;
    }
    Ok(())
}

async fn escalate_one(
    ctx: &Ctx,
    a: &AlertRecord,
    roster: &Roster,
    leaders: &[String],
    now: DateTime<Utc>,
) -> yuqing_store::Result<()> {
    let policy = &ctx.escalation.policy;
    let e = escalate_unacknowledged(a.sent_at, None, now, policy, a.sensitive);
    let round = e.rounds;
    if !e.escalate || i64::from(round) <= a.rounds {
        return ctx.store.reschedule_alert_check(a.id, e.next_at).await;
    }
    let target = escalation_target(round, roster, now, &a.alerted, leaders);
    let waited = (now - a.sent_at).to_std().unwrap_or_default();
    // Whole minutes (whole seconds below a minute) read better than the scan's jitter.
    let waited = if waited >= Duration::from_secs(60) {
        Duration::from_secs(waited.as_secs() / 60 * 60)
    } else {
        Duration::from_secs(waited.as_secs())
    };
    let notice = escalation_notice(round, waited, &target.people, target.leaders);
    let own = ctx.store.alert_channels(&a.key).await?;
    let leader_channels: &[String] = if target.leaders { &ctx.escalation.leader_channels } else { &[] };
    let channels = union(&[&own, &ctx.escalation.channels, leader_channels]);
    let rows: Vec<EscalationRow> =
        channels.into_iter().map(|channel| EscalationRow { channel, notice: notice.clone() }).collect();
    if ctx.store.write_escalation(a.id, a.item_id, round, e.next_at, &rows, now).await? {
        tracing::info!(alert = %a.key, round, to = %target.people.join(","), "an unacknowledged alert escalates");
    }
    Ok(())
}

/// Writes the escalation of every newly overdue deadline of an open case, once each.
async fn escalate_cases(ctx: &Ctx, now: DateTime<Utc>) -> yuqing_store::Result<()> {
    let open = ctx.store.cases(&CaseFilter { open: true, ..CaseFilter::default() }, now, 500).await?;
    let overdue: Vec<_> = open.iter().filter(|c| c.view.overdue.is_some()).collect();
    if overdue.is_empty() {
        return Ok(());
    }
    let done: HashSet<String> = ctx.store.case_escalation_keys().await?;
    let (roster, _) = ctx.duty(now).await;
    let leaders = ctx.store.user_names_with_role(Role::Leader).await?;
    let target = escalation_target(2, &roster, now, &[], &leaders);
    let tz = ctx.config.org.timezone;
    for c in overdue {
        let already: Vec<Overdue> =
            Overdue::ALL.iter().copied().filter(|d| done.contains(&d.escalation_key(c.id))).collect();
        for deadline in needs_escalation(&c.view, now, &already) {
            let mut channels = union(&[&ctx.escalation.leader_channels, &ctx.escalation.channels]);
            if channels.is_empty() {
                if let Some(item) = c.item_id {
                    channels = ctx.store.alert_channels(&format!("item-{item}")).await?;
                }
            }
            if channels.is_empty() {
                channels = ctx.config.alerts.channels.iter().map(|ch| ch.name.clone()).collect();
            }
            let due = c.view.due(deadline).with_timezone(&tz).format("%m-%d %H:%M");
            let who = if target.people.is_empty() { "领导小组".to_owned() } else { target.people.join("、") };
            let what = match deadline {
                Overdue::Assess => "逾期未研判",
                Overdue::Answer => "逾期未回应",
            };
            let notice = format!("处置单 #{} {what}（应于 {due} 前），报领导：{who}", c.id);
            let rows: Vec<EscalationRow> =
                channels.into_iter().map(|channel| EscalationRow { channel, notice: notice.clone() }).collect();
            let key = deadline.escalation_key(c.id);
            if ctx.store.write_case_escalation(c.id, c.item_id, &key, &rows, now).await? {
                tracing::info!(case = c.id, deadline = %deadline, "an overdue case escalates to the leaders");
            }
        }
    }
    Ok(())
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
    let escalation = escalation(&config).unwrap_or_else(|problems| {
        tracing::error!(problems = %problems.join("; "), "[alerts.escalation] is not usable; the defaults apply");
        Escalation::default()
    });
    let secret = loop {
        match store.ack_secret().await {
            Ok(s) => break s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the acknowledgement secret; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    };
    let ctx = Ctx { store: store.clone(), config: config.clone(), escalation, secret };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_case_scan: Option<std::time::Instant> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = Utc::now();
        if let Err(e) = escalate_alerts(&ctx, now).await {
            tracing::error!(error = %e, "cannot escalate unacknowledged alerts");
        }
        if last_case_scan.is_none_or(|t| t.elapsed() >= Duration::from_secs(15)) {
            last_case_scan = Some(std::time::Instant::now());
            if let Err(e) = escalate_cases(&ctx, now).await {
                tracing::error!(error = %e, "cannot escalate overdue cases");
            }
        }
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
            let (alert, open) = match prepare(&ctx, &row, Utc::now()).await {
                Prepared::Send(alert, open) => (alert, open),
                Prepared::Hold(until) => {
                    tracing::debug!(key = %row.key, until = %until, "quiet hours and nobody on duty: the alert waits");
                    let _ = store.defer_alert(row.id, until).await;
                    continue;
                }
                Prepared::Drop(why) => {
                    let _ = store.park_alert(row.id, why).await;
                    continue;
                }
            };
            match sender.send(&row.channel, &alert).await {
                Ok(_) => {
                    metrics.alerts_sent.fetch_add(1, Ordering::Relaxed);
                    let done = match &open {
                        Some(open) => store.mark_alert_sent_opening(&row, Utc::now(), open).await,
                        None => store.mark_alert_sent(row.id, Utc::now()).await,
                    };
                    if let Err(e) = done {
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
    use super::{backoff, escalation_notice, zh_span};
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_30s_and_stops_at_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(240));
        assert_eq!(backoff(50), Duration::from_secs(3600));
        assert_eq!(backoff(-1), Duration::from_secs(30));
    }

    #[test]
    fn notices_read_naturally() {
        assert_eq!(zh_span(Duration::from_secs(30 * 60)), "30 分钟");
        assert_eq!(zh_span(Duration::from_secs(90 * 60)), "1 小时 30 分钟");
        assert_eq!(zh_span(Duration::from_secs(45)), "45 秒");
        assert_eq!(zh_span(Duration::ZERO), "0 秒");
        let next = escalation_notice(1, Duration::from_secs(600), &["李四".into()], false);
        assert_eq!(next, "预警发出已 10 分钟，无人确认，升级至：李四（下一值班人）");
        let leaders = escalation_notice(2, Duration::from_secs(3600), &["刘书记".into(), "王局".into()], true);
        assert_eq!(leaders, "第 2 次升级：预警发出已 1 小时，仍无人确认，报领导：刘书记、王局");
    }
}
