//! Spikes in the store (migration 0012), on every backend: hourly counts kept by ingest
//! (reposts count, a page stored again does not, a back catalogue does not), a spike
//! recorded once with its outbox rows however many processes check, the cool-down, and
//! a spike flagged while its hour fills.

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_judge::events::SpikeConfig;
use yuqing_store::spikes::{hour_of, SCOPE_CATEGORY, SCOPE_RULE};
use yuqing_store::testing::each;
use yuqing_store::{IngestOutcome, NewItem, SpikePlan, Store};

/// The start of the hour 60 hours ago: the tests' hours are counted from it.
fn base() -> DateTime<Utc> {
    hour_of(Utc::now()) - TimeDelta::hours(60)
}

fn h(n: i64) -> DateTime<Utc> {
    base() + TimeDelta::hours(n)
}

/// An item found at `at`, matching the rule 上犹财政 (livelihood); `n` makes its text and
/// URL its own.
fn item(n: usize, at: DateTime<Utc>) -> NewItem {
    let body = format!(
        "第{n}号通报：有网民在留言板反映，上犹县某乡镇部分群众的一卡通补贴迟迟未到账，编号{n}。上犹县财政局第一时间组织人员核实情况，并公布了核查结果{}。",
        n * 7919
    );
    NewItem {
        source: "上犹论坛".into(),
        tier: Tier::Local,
        url: format!("https://bbs.example/{n}"),
        canonical_url: format!("https://bbs.example/{n}"),
        title: format!("一卡通补贴迟迟未到账（{n}）"),
        published_at: None,
        fetched_at: at,
        content: body.clone(),
        encoding: "utf-8".into(),
        tone: Tone::Negative,
        tone_score: -0.8,
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level: Level::Ordinary,
        level_reason: "一般".into(),
        simhash: yuqing_text::simhash::simhash(&body),
        raw: None,
        alert_channels: vec![],
    }
}

fn cfg() -> SpikeConfig {
    SpikeConfig { baseline_hours: 24 * 7, k: 3.0, min_count: 5, cooldown_hours: 6, min_history_hours: 24 }
}

fn plan<'a>(channels: &'a [&'a str]) -> impl Fn(&yuqing_store::SpikeFinding) -> SpikePlan + 'a {
    move |f| SpikePlan {
        title: format!("监测规则“{}”近1小时新增 {} 条", f.key, f.count),
        channels: channels.iter().map(|c| c.to_string()).collect(),
    }
}

/// One item an hour for hours `0..hours` (numbered from `first`), so that counting has
/// a history with a steady baseline.
async fn history(store: &Store, hours: i64, first: usize) -> usize {
    let mut n = first;
    for k in 0..hours {
        store.ingest(item(n, h(k) + TimeDelta::minutes(10))).await.expect("ingest");
        n += 1;
    }
    n
}

/// `items` more items found during hour `hour`.
async fn surge(store: &Store, n: &mut usize, hour: i64, items: usize) {
    for k in 0..items {
        store.ingest(item(*n + k, h(hour) + TimeDelta::seconds(k as i64))).await.expect("ingest");
    }
    *n += items;
}

async fn count(store: &Store, scope: &str, key: &str, hour: DateTime<Utc>) -> i64 {
    let c = store.hourly_counts(scope, key, hour, hour + TimeDelta::hours(1)).await.expect("counts");
    c.first().map_or(0, |c| c.count)
}

#[tokio::test]
async fn ingest_counts_per_rule_and_category_once() {
    for t in each().await {
        counts_on(&t.store).await;
        t.close().await;
    }
}

async fn counts_on(store: &Store) {
    let at = h(3) + TimeDelta::minutes(5);
    assert!(matches!(store.ingest(item(1, at)).await.expect("ingest"), IngestOutcome::New { .. }));
    // A repost (the same text on another page) is spread: it counts.
    let mut repost = item(1, at + TimeDelta::minutes(20));
    repost.url = "https://portal.example/copy-of-1".into();
    repost.canonical_url = repost.url.clone();
    assert!(matches!(store.ingest(repost).await.expect("ingest"), IngestOutcome::Duplicate { .. }));
    // The same page collected again is `Known`: ingest is idempotent, nothing counts twice.
    assert!(matches!(store.ingest(item(1, at)).await.expect("ingest"), IngestOutcome::Known { .. }));
    // Two rules, one of them without a category; the category counts once per item.
    let mut two = item(2, at);
    two.matched_rules = vec!["上犹财政".into(), "一卡通发放".into(), "上犹财政".into()];
    store.ingest(two).await.expect("ingest");
    assert_eq!(count(store, SCOPE_RULE, "上犹财政", h(3)).await, 3);
    assert_eq!(count(store, SCOPE_RULE, "一卡通发放", h(3)).await, 1);
    assert_eq!(count(store, SCOPE_CATEGORY, "livelihood", h(3)).await, 3);
    assert_eq!(count(store, SCOPE_RULE, "上犹财政", h(4)).await, 0);
    // A page published three days before it was found is a back catalogue: stored, not counted.
    let mut old = item(3, h(4));
    old.published_at = Some((h(4) - TimeDelta::days(3)).with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap()));
    assert!(!matches!(store.ingest(old).await.expect("ingest"), IngestOutcome::Known { .. }));
    assert_eq!(count(store, SCOPE_RULE, "上犹财政", h(4)).await, 0);
    // ...unless the setting allows it.
    store.set_spike_max_age(std::time::Duration::from_secs(4 * 86400));
    let mut old = item(4, h(4));
    old.published_at = Some((h(4) - TimeDelta::days(3)).with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap()));
    store.ingest(old).await.expect("ingest");
    assert_eq!(count(store, SCOPE_RULE, "上犹财政", h(4)).await, 1);
    assert_eq!(store.counting_since().await.expect("since"), Some(h(3)));
    // Pruning drops whole hours before the bound (a time inside h(4) keeps h(4)).
    assert_eq!(store.prune_hourly_counts(h(3)).await.expect("prune"), 0);
    let pruned = store.prune_hourly_counts(h(4) + TimeDelta::minutes(30)).await.expect("prune");
    assert_eq!(pruned, 3, "the h(3) rows of two rules and one category");
    assert_eq!(count(store, SCOPE_RULE, "上犹财政", h(3)).await, 0);
    assert_eq!(count(store, SCOPE_RULE, "上犹财政", h(4)).await, 1);
    assert_eq!(store.counting_since().await.expect("since"), Some(h(4)));
}

#[tokio::test]
async fn a_spike_is_recorded_once_with_its_alerts_by_two_processes() {
    for t in each().await {
        let second = t.reopen().await;
        once_on(&t.store, &second).await;
        second.close().await;
        t.close().await;
    }
}

async fn once_on(store: &Store, other_process: &Store) {
    let n = history(store, 30, 100).await;
    // Hour 30: twelve items against a baseline of one an hour.
    for k in 0..12 {
        store.ingest(item(n + k, h(30) + TimeDelta::minutes(k as i64))).await.expect("ingest");
    }
    // Checked during hour 31: hour 30 is the previous, complete hour.
    let now = h(31) + TimeDelta::minutes(3);
    let found = store.find_spikes(now, &cfg()).await.expect("find");
    let keys: Vec<(&str, &str)> = found.iter().map(|f| (f.scope.as_str(), f.key.as_str())).collect();
    assert_eq!(keys, [(SCOPE_CATEGORY, "livelihood"), (SCOPE_RULE, "上犹财政")]);
    assert!(found.iter().all(|f| f.hour == h(30) && f.count == 12 && !f.partial && f.baseline.mean == 1.0));
    let channels = ["hook", "mail"];
    let c = cfg();
    let (a, b) = tokio::join!(
        store.check_spikes(now, &c, plan(&channels)),
        other_process.check_spikes(now, &c, plan(&channels))
    );
    let (a, b) = (a.expect("check"), b.expect("check"));
    assert_eq!(a.len() + b.len(), 2, "each spike once: {a:?} {b:?}");
    // Checking again, from either process, records nothing.
    assert!(store.check_spikes(now, &cfg(), plan(&channels)).await.expect("check").is_empty());
    assert!(other_process
        .check_spikes(now + TimeDelta::minutes(30), &cfg(), plan(&channels))
        .await
        .expect("check")
        .is_empty());
    let spikes = store.spikes(None, 50).await.expect("list");
    assert_eq!(spikes.len(), 2);
    let rule = spikes.iter().find(|s| s.scope == SCOPE_RULE).expect("the rule's spike");
    assert_eq!((rule.key.as_str(), rule.hour, rule.count, rule.flag_count), ("上犹财政", h(30), 12, 12));
    assert_eq!(rule.title, "监测规则“上犹财政”近1小时新增 12 条");
    assert!(rule.threshold > 1.0 && rule.threshold < 12.0, "{}", rule.threshold);
    assert_eq!(store.spike(rule.id).await.expect("one"), Some(rule.clone()));
    // Its alerts: one outbox row per channel, keyed by the spike, no item.
    let due = store.due_alerts(now + TimeDelta::minutes(31), 50).await.expect("due");
    let mine: Vec<_> = due.iter().filter(|r| r.spike_id == Some(rule.id)).collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|r| r.key == format!("spike-{}", rule.id) && r.item_id.is_none() && r.is_first_alert()));
    assert_eq!(due.len(), 4, "two spikes, two channels each: {due:?}");
    // Its alert opens like an item's, titled by the spike's line.
    let open =
        yuqing_store::OpenAlert { level: Level::Ordinary, sensitive: false, alerted: vec![], next_check_at: None };
    store.mark_alert_sent_opening(mine[0], now, &open).await.expect("sent");
    let a = store.alert_by_key(&format!("spike-{}", rule.id)).await.expect("read").expect("opened");
    assert_eq!((a.spike_id, a.item_id, a.title.as_deref()), (Some(rule.id), None, Some(rule.title.as_str())));
}

#[tokio::test]
async fn the_cool_down_holds_repeats_and_a_filling_hour_is_flagged_once() {
    for t in each().await {
        cool_down_on(&t.store).await;
        t.close().await;
    }
}

async fn cool_down_on(store: &Store) {
    let mut n = history(store, 30, 1000).await;
    let cfg = SpikeConfig { min_count: 8, ..cfg() };
    let only_rule = |f: &yuqing_store::SpikeFinding| SpikePlan {
        title: format!("{} {}", f.key, f.count),
        channels: if f.scope == SCOPE_RULE { vec!["hook".into()] } else { vec![] },
    };
    // Hour 30 fills: at five items it is below min_count, nothing is flagged.
    surge(store, &mut n, 30, 5).await;
    let during = h(30) + TimeDelta::minutes(20);
    assert!(store.check_spikes(during, &cfg, only_rule).await.expect("check").is_empty());
    // At ten it is flagged while still filling (the current, partial hour)...
    surge(store, &mut n, 30, 5).await;
    let first = store.check_spikes(during, &cfg, only_rule).await.expect("check");
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|s| s.partial && s.count == 10 && s.hour == h(30)));
    // ...and once the hour has filled to 25, the same spike shows the count, without a new alert.
    surge(store, &mut n, 30, 15).await;
    assert!(store.check_spikes(h(31) + TimeDelta::minutes(1), &cfg, only_rule).await.expect("check").is_empty());
    let rule = store.spikes(None, 10).await.expect("list").into_iter().find(|s| s.scope == SCOPE_RULE).expect("spike");
    assert_eq!((rule.count, rule.flag_count, rule.partial), (25, 10, true));
    // Hour 33 surges again, within the six-hour cool-down: no new spike.
    surge(store, &mut n, 33, 40).await;
    assert!(store.find_spikes(h(34), &cfg).await.expect("find").iter().any(|f| f.hour == h(33)));
    assert!(store.check_spikes(h(34), &cfg, only_rule).await.expect("check").is_empty());
    // Hour 37 is past it: flagged again, and the earlier hour 36 checked late is not.
    surge(store, &mut n, 37, 60).await;
    let again = store.check_spikes(h(37) + TimeDelta::minutes(59), &cfg, only_rule).await.expect("check");
    assert_eq!(again.iter().map(|s| s.hour).collect::<Vec<_>>(), [h(37), h(37)]);
    surge(store, &mut n, 36, 60).await;
    assert!(store.check_spikes(h(37) + TimeDelta::minutes(59), &cfg, only_rule).await.expect("check").is_empty());
    let hours: Vec<_> = store.spikes(None, 10).await.expect("list").iter().map(|s| s.hour).collect();
    assert_eq!(hours, [h(37), h(37), h(30), h(30)]);
    let since = store.spikes(Some(h(31)), 10).await.expect("list");
    assert_eq!(since.len(), 2);
    // Only the rule's spikes had channels: two alerts in all.
    let due = store.due_alerts(h(40), 50).await.expect("due");
    assert_eq!(due.iter().filter(|r| r.spike_id.is_some()).count(), 2);
}
