//! Events in the store: reposts join their original's event, follow-ups (same key terms
//! within the window) join too, other stories start their own; the event keeps its
//! first item and source, its size, its sources per tier and a timeline, written with
//! the item (a Known ingest changes nothing). Both backends.

use chrono::{DateTime, FixedOffset, Utc};
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_store::testing::each;
use yuqing_store::{IngestOutcome, JoinReason, NewItem, Store};

const ORIGINAL: &str =
    "11月21日，上犹县财政局通过惠民惠农财政补贴资金一卡通系统，向全县农户发放2026年耕地地力保护补贴，\
共涉及农户三万余户，发放资金四千余万元。据了解，今年的补贴资金在10月底前已全部下达到各乡镇财政所，经过村级公示、\
乡镇审核、县级复核等环节后统一发放，确保资金安全、精准到户。";
const FOLLOW_UP: &str = "有网民在留言板反映，上犹县营前镇部分农户的耕地地力保护补贴迟迟未到一卡通。上犹县财政局回应，\
经核查，营前镇部分农户因银行账户信息变更未及时更新，导致耕地地力保护补贴发放失败，财政所正在逐户补发。";
const OTHER_STORY: &str = "崇义县水利局通报，受连日强降雨影响，阳岭水库出现渗漏险情，下游两个村的群众已连夜安全转移，\
抢险队伍正在加固大坝，水库水位已开始回落，目前未造成人员伤亡。";

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

fn item(url: &str, source: &str, tier: Tier, title: &str, body: &str, published: &str) -> NewItem {
    NewItem {
        source: source.into(),
        tier,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: Some(at(published)),
        fetched_at: at(published).with_timezone(&Utc),
        content: body.into(),
        encoding: "utf-8".into(),
        tone: Tone::Neutral,
        tone_score: 0.0,
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        simhash: yuqing_text::simhash::simhash(body),
        raw: None,
        alert_channels: vec![],
    }
}

fn id(o: IngestOutcome) -> i64 {
    match o {
        IngestOutcome::New { id } | IngestOutcome::Duplicate { id, .. } | IngestOutcome::Known { id } => id,
    }
}

async fn ingest(store: &Store, i: NewItem) -> i64 {
    id(store.ingest(i).await.expect("ingest"))
}

async fn table_counts(store: &Store) -> Vec<i64> {
    let mut out = Vec::new();
    for t in ["events", "event_items", "event_sources", "event_hours", "event_terms"] {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(store.pool()).await.expect("count");
        out.push(n);
    }
    let sizes: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(items), 0) AS BIGINT) FROM events")
        .fetch_one(store.pool())
        .await
        .expect("sum");
    out.push(sizes);
    out
}

#[tokio::test]
async fn reposts_and_follow_ups_join_other_stories_do_not() {
    for t in each().await {
        reposts_and_follow_ups_join_other_stories_do_not_on(&t.store).await;
        t.close().await;
    }
}

async fn reposts_and_follow_ups_join_other_stories_do_not_on(store: &Store) {
    let a = ingest(
        store,
        item(
            "https://a.example/1",
            "上犹县融媒体中心",
            Tier::Local,
            "上犹县发放耕地地力保护补贴",
            ORIGINAL,
            "2026-11-21T10:05:00+08:00",
        ),
    )
    .await;
    // A repost on a portal: a new lead, the same text.
    let repost = format!("（转自上犹县融媒体中心）{ORIGINAL}");
    let r = store
        .ingest(item(
            "https://portal.example/9",
            "某门户",
            Tier::Portal,
            "转载：上犹补贴发放",
            &repost,
            "2026-11-21T10:40:00+08:00",
        ))
        .await
        .expect("ingest");
    let IngestOutcome::Duplicate { id: r, of } = r else { panic!("a repost: {r:?}") };
    assert_eq!(of, a);
    // A follow-up two hours later from the city paper: other words, same story.
    let f = ingest(
        store,
        item(
            "https://city.example/3",
            "市日报",
            Tier::HomeCity,
            "上犹县营前镇耕地地力保护补贴未到账 财政局回应",
            FOLLOW_UP,
            "2026-11-21T12:30:00+08:00",
        ),
    )
    .await;
    // Another story the same morning: an event of its own.
    let o = ingest(
        store,
        item(
            "https://b.example/5",
            "崇义发布",
            Tier::Local,
            "崇义县阳岭水库出现渗漏险情",
            OTHER_STORY,
            "2026-11-21T11:00:00+08:00",
        ),
    )
    .await;

    assert_eq!(store.event_of(a).await.expect("event"), Some(a));
    assert_eq!(store.event_of(r).await.expect("event"), Some(a), "the repost joins its original's event");
    assert_eq!(store.event_of(f).await.expect("event"), Some(a), "the follow-up joins the event");
    assert_eq!(store.event_of(o).await.expect("event"), Some(o), "another story starts its own");

    let e = store.event(a).await.expect("event").expect("exists");
    assert_eq!(e.event.first_item_id, a);
    assert_eq!(e.event.first_source, "上犹县融媒体中心");
    assert_eq!(e.event.first_tier, Tier::Local);
    assert_eq!(e.event.title, "上犹县发放耕地地力保护补贴");
    assert_eq!(e.event.items, 3);
    // What an item's page links to, read in one query.
    let brief = Some((a, "上犹县发放耕地地力保护补贴".to_string(), 3));
    assert_eq!(store.event_brief_of(f).await.expect("brief"), brief);
    assert_eq!(store.event_brief_of(o).await.expect("brief").map(|b| b.2), Some(1));
    assert_eq!(store.event_brief_of(i64::MAX).await.expect("brief"), None);
    let tiers: Vec<(Tier, i64)> = e.event.sources_per_tier.iter().map(|t| (t.tier, t.sources)).collect();
    assert_eq!(tiers, vec![(Tier::Local, 1), (Tier::Portal, 1), (Tier::HomeCity, 1)]);
    // Items per hour (UTC): 02:05 and 02:40 in one hour, 04:30 in another.
    let hours: Vec<(&str, i64)> = e.timeline.iter().map(|h| (h.hour.as_str(), h.items)).collect();
    assert_eq!(hours, vec![("2026-11-21T02:00:00.000Z", 2), ("2026-11-21T04:00:00.000Z", 1)]);
    let reasons: Vec<(i64, JoinReason, Option<i64>)> =
        e.item_list.iter().map(|i| (i.item.id, i.reason, i.of_item)).collect();
    assert_eq!(
        reasons,
        vec![(a, JoinReason::New, None), (r, JoinReason::Repost, Some(a)), (f, JoinReason::FollowUp, None)]
    );
    assert!(e.item_list[2].score.is_some_and(|s| s >= 0.3), "{:?}", e.item_list[2].score);
    assert!(e.event.top_terms.iter().any(|t| t == "补贴" || t == "耕地" || t == "上犹县"), "{:?}", e.event.top_terms);
    assert_eq!(e.sources.len(), 3);
    assert_eq!(e.sources[0].source, "上犹县融媒体中心");

    let other = store.event(o).await.expect("event").expect("exists");
    assert_eq!(other.event.items, 1);
    assert!(store.event(999_999).await.expect("event").is_none());
}

#[tokio::test]
async fn a_known_ingest_changes_no_event() {
    for t in each().await {
        let store = &t.store;
        let first = item(
            "https://a.example/1",
            "甲",
            Tier::Local,
            "上犹县发放耕地地力保护补贴",
            ORIGINAL,
            "2026-11-21T10:05:00+08:00",
        );
        let a = ingest(store, first.clone()).await;
        ingest(
            store,
            item(
                "https://city.example/3",
                "乙",
                Tier::HomeCity,
                "上犹县营前镇补贴未到账",
                FOLLOW_UP,
                "2026-11-21T12:30:00+08:00",
            ),
        )
        .await;
        let before = table_counts(store).await;
        assert_eq!(store.ingest(first).await.expect("again"), IngestOutcome::Known { id: a });
        assert_eq!(table_counts(store).await, before);
        // Reopened (a restart warms the term counts from the stored items) it still adds
        // nothing for a known page.
        let again = t.reopen().await;
        let first = item(
            "https://a.example/1",
            "甲",
            Tier::Local,
            "上犹县发放耕地地力保护补贴",
            ORIGINAL,
            "2026-11-21T10:05:00+08:00",
        );
        assert_eq!(again.ingest(first).await.expect("again"), IngestOutcome::Known { id: a });
        assert_eq!(table_counts(&again).await, before);
        again.close().await;
        t.close().await;
    }
}

#[tokio::test]
async fn a_follow_up_after_the_window_starts_a_new_event() {
    for t in each().await {
        let store = &t.store;
        let a = ingest(
            store,
            item(
                "https://a.example/1",
                "甲",
                Tier::Local,
                "上犹县发放耕地地力保护补贴",
                ORIGINAL,
                "2026-11-01T10:05:00+08:00",
            ),
        )
        .await;
        // Ten days later, past the 72-hour window.
        let late = ingest(
            store,
            item(
                "https://city.example/3",
                "乙",
                Tier::HomeCity,
                "上犹县营前镇耕地地力保护补贴未到账 财政局回应",
                FOLLOW_UP,
                "2026-11-11T12:30:00+08:00",
            ),
        )
        .await;
        assert_eq!(store.event_of(a).await.expect("event"), Some(a));
        assert_eq!(store.event_of(late).await.expect("event"), Some(late));
        // Within the window of the late one, a repost joins it, not the old event.
        let repost = format!("（转载）{FOLLOW_UP}");
        let r = ingest(
            store,
            item("https://portal.example/4", "丙", Tier::Portal, "转载", &repost, "2026-11-11T13:00:00+08:00"),
        )
        .await;
        assert_eq!(store.event_of(r).await.expect("event"), Some(late));
        assert_eq!(store.event(late).await.expect("event").expect("exists").event.items, 2);
        assert_eq!(store.event(a).await.expect("event").expect("exists").event.items, 1);
        t.close().await;
    }
}

#[tokio::test]
async fn a_repost_of_an_item_stored_before_events_gets_an_event() {
    for t in each().await {
        let store = &t.store;
        let a = ingest(
            store,
            item(
                "https://a.example/1",
                "甲",
                Tier::Local,
                "上犹县发放耕地地力保护补贴",
                ORIGINAL,
                "2026-11-21T10:05:00+08:00",
            ),
        )
        .await;
        // As if the item had been stored before migration 0007.
        for sql in [
            "DELETE FROM event_terms",
            "DELETE FROM event_hours",
            "DELETE FROM event_sources",
            "DELETE FROM event_items",
            "DELETE FROM events",
        ] {
            sqlx::query(sql).execute(store.pool()).await.expect("clear");
        }
        let repost = format!("（转载）{ORIGINAL}");
        let r = ingest(
            store,
            item("https://portal.example/4", "丙", Tier::Portal, "转载", &repost, "2026-11-21T13:00:00+08:00"),
        )
        .await;
        assert_eq!(store.event_of(r).await.expect("event"), Some(a));
        let e = store.event(a).await.expect("event").expect("exists");
        assert_eq!((e.event.first_item_id, e.event.items), (a, 2));
        assert_eq!(e.item_list[0].reason, JoinReason::New);
        t.close().await;
    }
}

/// Pairwise precision and recall of the store's grouping against the generator's
/// stories, and the cost of ingest early and late in the run. A measurement, not a
/// gate: `YUQING_EVENTS_ITEMS=20000 cargo test -p yuqing-store --release --test events
/// -- --ignored --nocapture measure` (SQLite, a temporary folder).
#[tokio::test]
#[ignore = "a measurement, not a gate: run with --ignored --nocapture (YUQING_EVENTS_ITEMS sets the size)"]
async fn measure_grouping_through_ingest() {
    use std::collections::HashMap;
    use yuqing_judge::events::gen::{generate, GenConfig};
    let n: usize = std::env::var("YUQING_EVENTS_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let t = yuqing_store::testing::fresh(yuqing_store::Backend::Sqlite).await;
    let items = generate(&GenConfig { items: n, ..GenConfig::default() });
    let mut ids = Vec::with_capacity(items.len());
    let mut times = Vec::with_capacity(items.len());
    for g in &items {
        let mut i = item(
            &format!("https://gen.example/{}", g.id),
            &g.source,
            g.tier,
            &g.title,
            &g.content,
            "2026-01-01T00:00:00+08:00",
        );
        i.published_at = Some(g.at.fixed_offset());
        i.fetched_at = g.at;
        let simhash_text =
            if g.content.chars().count() >= 100 { g.content.clone() } else { format!("{}\n{}", g.title, g.content) };
        i.simhash = yuqing_text::simhash::simhash(&simhash_text);
        let start = std::time::Instant::now();
        ids.push(ingest(&t.store, i).await);
        times.push(start.elapsed());
    }
    let mut pair_counts: HashMap<(u64, i64), u64> = HashMap::new();
    let (mut by_story, mut by_event): (HashMap<u64, u64>, HashMap<i64, u64>) = (HashMap::new(), HashMap::new());
    for (g, id) in items.iter().zip(&ids) {
        let e = t.store.event_of(*id).await.expect("event").expect("every item has an event");
        *pair_counts.entry((g.story, e)).or_default() += 1;
        *by_story.entry(g.story).or_default() += 1;
        *by_event.entry(e).or_default() += 1;
    }
    let pairs = |m: &mut dyn Iterator<Item = u64>| m.map(|c| c * c.saturating_sub(1) / 2).sum::<u64>();
    let together = pairs(&mut pair_counts.values().copied());
    let same_story = pairs(&mut by_story.values().copied());
    let same_event = pairs(&mut by_event.values().copied());
    let avg = |d: &[std::time::Duration]| d.iter().map(|d| d.as_secs_f64()).sum::<f64>() / d.len().max(1) as f64 * 1e3;
    let k = (n / 10).max(1);
    println!(
        "items {n}: stories {}, events {}, pairwise precision {:.4}, recall {:.4}; ingest ms/item first {k} {:.3}, last {k} {:.3}, all {:.3}",
        by_story.len(),
        by_event.len(),
        together as f64 / same_event.max(1) as f64,
        together as f64 / same_story.max(1) as f64,
        avg(&times[..k]),
        avg(&times[times.len() - k..]),
        avg(&times),
    );
    assert_eq!(ids.len(), n);
    t.close().await;
}

#[tokio::test]
async fn the_level_counts_the_event_spread() {
    for t in each().await {
        let store = &t.store;
        // As the pipeline judges: negative portal items on livelihood, no spread.
        let table = yuqing_core::config::LevelConfig::default();
        let judged = |url: &str, n: u32| judged_repost(url, n, &table, None);
        assert_eq!(judged("https://p.example/0", 0).level, Level::Ordinary);
        let mut ids = Vec::new();
        for n in 0..5u32 {
            ids.push(ingest(store, judged(&format!("https://p.example/{n}"), n)).await);
        }
        let levels: Vec<(Level, String)> = {
            let mut v = Vec::new();
            for id in &ids {
                let d = store.item(*id).await.expect("item").expect("exists");
                v.push((d.item.level, d.item.level_reason));
            }
            v
        };
        // The first three see fewer than three earlier items; the fourth and fifth are
        // raised to important (negative 2 + livelihood 1 + spread 1) and say why.
        for (l, why) in &levels[..3] {
            assert_eq!(*l, Level::Ordinary, "{why}");
        }
        assert_eq!(levels[3], (Level::Important, "负面；涉及民生问题；已被转载3次".to_string()));
        assert_eq!(levels[4], (Level::Important, "负面；涉及民生问题；已被转载4次".to_string()));
        // A level decided otherwise (not the judge's) is left as it came.
        let mut manual = judged("https://p.example/manual", 6);
        manual.level_reason = "人工定级".into();
        let m = ingest(store, manual).await;
        let d = store.item(m).await.expect("item").expect("exists");
        assert_eq!((d.item.level, d.item.level_reason.as_str()), (Level::Ordinary, "人工定级"));
        t.close().await;
    }
}

#[tokio::test]
async fn spread_is_scored_by_the_configured_level_table_and_rule_priorities() {
    use yuqing_core::config::{LevelConfig, Priority};
    let table = LevelConfig {
        spread_at: 1,
        wide_spread_at: 100,
        points: yuqing_core::config::LevelPoints { spread: 3, ..Default::default() },
        ..Default::default()
    };
    for t in each().await {
        let store = &t.store;
        store.set_level_table(table.clone(), [("上犹财政".to_string(), Priority::High)].into());
        // As the pipeline judges with this table: negative 2 + livelihood 1 + high 2 = 5.
        let judged = |url: &str, n: u32| judged_repost(url, n, &table, Some((Priority::High, "上犹财政")));
        let first = ingest(store, judged("https://p.example/0", 0)).await;
        let second = ingest(store, judged("https://p.example/1", 1)).await;
        let d = store.item(first).await.expect("item").expect("exists");
        assert_eq!(
            (d.item.level, d.item.level_reason.as_str()),
            (Level::Important, "负面；涉及民生问题；命中高优先级规则「上犹财政」")
        );
        // spread_at = 1: the repost already has one earlier item; 5 + 3 = 8.
        let d = store.item(second).await.expect("item").expect("exists");
        assert_eq!(
            (d.item.level, d.item.level_reason.as_str()),
            (Level::MajorSensitive, "负面；涉及民生问题；命中高优先级规则「上犹财政」；已被转载1次")
        );
        t.close().await;
    }
}

/// A negative portal repost of ORIGINAL (`n` characters prepended), judged as the
/// pipeline judges it with `table` and the matched rule's `priority`, no spread yet.
fn judged_repost(
    url: &str,
    n: u32,
    table: &yuqing_core::config::LevelConfig,
    priority: Option<(yuqing_core::config::Priority, &str)>,
) -> NewItem {
    use yuqing_judge::level::{level_with, LevelInput};
    let mut i = item(
        url,
        "某门户",
        Tier::Portal,
        "转载：上犹补贴发放",
        &format!("{}{ORIGINAL}", "转".repeat(n as usize)),
        "2026-11-21T10:05:00+08:00",
    );
    i.tone = Tone::Negative;
    i.tone_score = -0.5;
    let (l, why) = level_with(
        &LevelInput {
            tier: i.tier,
            weight: i.tier.default_weight(),
            tone: i.tone,
            tone_score: i.tone_score,
            categories: &i.categories,
            matched_rules: i.matched_rules.len(),
            duplicates: 0,
            priority,
        },
        table,
    );
    i.level = l;
    i.level_reason = why;
    i
}
