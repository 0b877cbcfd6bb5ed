//! Several processes on one database (issue 7): search that agrees between tantivy and
//! PostgreSQL full text, source leases, alert claims and ingest that stay exactly-once
//! when two stores (two processes) work at once.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use std::sync::Arc;
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_store::testing::{backends, each, fresh};
use yuqing_store::{Backend, IngestOutcome, ItemFilter, ItemQuery, Lease, NewItem, Store};

fn item(n: usize, title: &str, body: &str, tone: Tone) -> NewItem {
    let published: DateTime<FixedOffset> =
        FixedOffset::east_opt(8 * 3600).and_then(|z| z.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).single()).expect("time")
            + Duration::minutes(n as i64 * 7);
    NewItem {
        source: if n.is_multiple_of(2) { "县政府网".into() } else { "人民网".into() },
        tier: if n.is_multiple_of(2) { Tier::Local } else { Tier::Central },
        url: format!("https://site{}.example/a/{n}", n % 5),
        canonical_url: format!("https://site{}.example/a/{n}", n % 5),
        title: title.into(),
        published_at: Some(published),
        fetched_at: Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("time"),
        content: body.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: 0.0,
        categories: if body.contains("补贴") { vec![Category::Livelihood] } else { vec![] },
        matched_rules: vec!["r".into()],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        // Distinct fingerprints: this corpus is about search, not reposts.
        simhash: (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        raw: None,
        alert_channels: vec![],
    }
}

/// A small corpus that mirrors the desk's items: subsidies, salaries, fees, notices,
/// with Latin words, numbers and a shared phrase in different orders.
const CORPUS: &[(&str, &str)] = &[
    ("上犹县发放耕地地力保护补贴", "上犹县财政局通过一卡通系统向农户发放耕地地力保护补贴，资金四千余万元。"),
    ("网民反映一卡通补贴未到账", "有网民在留言板反映，某乡镇部分群众的一卡通补贴迟迟未到账，财政所正在核实。"),
    ("县财政局回应补贴发放问题", "针对网民反映的补贴发放问题，县财政局回应称已全部补发到位。"),
    ("教师工资拖欠引关注", "有教师反映工资被拖欠三个月，讨薪无门，县教育局表示将尽快解决。"),
    ("养老金调整政策解读", "2026年城乡居民基础养老金标准提高，财政部门确保按时足额发放。"),
    ("县政府召开常务会议", "会议研究了预算执行、重点项目建设等事项，部署下一阶段工作。"),
    ("COVID-19 防控经费下达", "县财政下达 COVID-19 防控经费 500 万元，用于疫苗接种和物资采购。"),
    ("乡镇收费不规范被曝光", "群众反映某乡镇违规收取卫生费，县纪委已介入调查，责令退还。"),
    ("农民补贴发放一卡通", "补贴 发放 一卡通 农民 都是同一批词，顺序不同。"),
    ("一卡通补贴发放农民", "一卡通补贴发放农民，顺序又不同：补贴发放。"),
    ("招聘财政所工作人员公告", "县财政局公开招聘财政所工作人员10名，报名时间为12月1日至10日。"),
    ("预算公开情况通报", "全县各部门预算公开率达100%，三公经费同比下降。"),
    ("Shangyou county budget report", "The county finance bureau published its budget report for 2026."),
    ("谣言：补贴将被取消", "网传耕地地力保护补贴明年取消，县财政局辟谣：消息不实，政策不变。"),
    ("暴雨致多处道路中断", "连日暴雨导致多处道路中断，县里紧急拨付救灾资金。"),
    ("财政惠民政策宣传进社区", "县财政局工作人员走进社区，宣传惠民惠农财政补贴政策。"),
];

const QUERIES: &[&str] = &[
    "补贴",
    "一卡通",
    "一卡通 补贴",
    "补贴 -一卡通",
    "补贴 NOT 一卡通",
    "工资 OR 养老金",
    "(工资 | 养老金) 发放",
    "\"补贴发放\"",
    "“一卡通补贴”",
    "covid",
    "COVID-19",
    "budget",
    "2026",
    "县财政局",
    "财政局 回应",
    "-补贴",
    "谣言 OR 辟谣",
    "不存在的词语组合",
    "上犹",
    "留言板",
    "，。",
];

async fn load(store: &Store) {
    for (n, (title, body)) in CORPUS.iter().enumerate() {
        let tone = if n % 3 == 0 { Tone::Negative } else { Tone::Neutral };
        let out = store.ingest(item(n, title, body, tone)).await.expect("ingest");
        assert!(matches!(out, IngestOutcome::New { .. }), "{out:?}");
    }
    store.flush().await.expect("flush");
}

async fn results(store: &Store, q: &str, filter: ItemFilter) -> (usize, Vec<String>) {
    let page = store.items(&ItemQuery { q: Some(q.into()), filter, limit: 100, offset: 0 }).await.expect("search");
    (page.total, page.items.into_iter().map(|i| i.url).collect())
}

/// The issue's bar: search on PostgreSQL agrees with tantivy's on the test corpus, with
/// the same query language and filters.
#[tokio::test]
async fn postgres_full_text_agrees_with_tantivy() {
    if !backends().await.contains(&Backend::Postgres) {
        return;
    }
    let lite = fresh(Backend::Sqlite).await;
    let pg = fresh(Backend::Postgres).await;
    load(&lite.store).await;
    load(&pg.store).await;
    let filters = [
        ItemFilter::default(),
        ItemFilter { tone: Some(Tone::Negative), ..Default::default() },
        ItemFilter { tier: Some(Tier::Local), ..Default::default() },
        ItemFilter { category: Some(Category::Livelihood), ..Default::default() },
        ItemFilter { source: Some("人民网".into()), ..Default::default() },
        ItemFilter {
            since: Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 30, 0).single().expect("t")),
            until: Some(Utc.with_ymd_and_hms(2026, 11, 1, 1, 30, 0).single().expect("t")),
            ..Default::default()
        },
    ];
    let mut non_empty = 0;
    for q in QUERIES {
        for f in &filters {
            let a = results(&lite.store, q, f.clone()).await;
            let b = results(&pg.store, q, f.clone()).await;
            assert_eq!(a, b, "query {q:?} with {f:?}: tantivy vs PostgreSQL");
            non_empty += usize::from(a.0 > 0);
        }
    }
    // The corpus and queries exercise real matches, not only empty results.
    assert!(non_empty > 40, "{non_empty}");
    // Spot checks of the language itself.
    assert_eq!(results(&pg.store, "补贴 -一卡通", ItemFilter::default()).await.1.len(), 3);
    assert_eq!(results(&pg.store, "\"补贴发放\"", ItemFilter::default()).await.0, 3);
    lite.close().await;
    pg.close().await;
}

/// Reindexing rebuilds the same results (the full-text column on PostgreSQL). The
/// ingest indexes tokens made from the words segmented once for the item (pre-tokenized
/// text, a prepared tsvector); the rebuild tokenizes the stored text: every query of the
/// shared list must find the same items both ways.
#[tokio::test]
async fn reindex_keeps_search_results() {
    for t in each().await {
        load(&t.store).await;
        let mut every = Vec::new();
        for q in QUERIES {
            every.push(results(&t.store, q, ItemFilter::default()).await);
        }
        assert!(every.iter().filter(|r| r.0 > 0).count() > 10, "{every:?}");
        let before = results(&t.store, "补贴 OR 工资", ItemFilter::default()).await;
        assert!(!before.1.is_empty());
        if t.backend == Backend::Postgres {
            // Lose the full text first, so that only the rebuild can bring results back.
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(t.url()).await.expect("connect");
            sqlx::query("UPDATE items SET search_tsv = ''::tsvector").execute(&pool).await.expect("clear");
            pool.close().await;
            assert!(results(&t.store, "补贴 OR 工资", ItemFilter::default()).await.1.is_empty());
        }
        let n = t.store.reindex(|_, _| {}).await.expect("reindex");
        assert_eq!(n, CORPUS.len());
        assert_eq!(results(&t.store, "补贴 OR 工资", ItemFilter::default()).await, before);
        for (q, was) in QUERIES.iter().zip(&every) {
            assert_eq!(&results(&t.store, q, ItemFilter::default()).await, was, "{q:?} on {:?}", t.backend);
        }
        t.close().await;
    }
}

/// On PostgreSQL a count that misses its budget goes on in the background: the page is
/// answered at once, its total marked as an estimate, and the exact total follows. (A
/// test store counts in a millisecond: each count here first waits 400 ms, the budget
/// is 20 ms, and every estimate is used.)
#[tokio::test]
async fn a_slow_count_is_answered_with_a_marked_estimate_then_the_exact_total() {
    for t in each().await {
        if t.backend != Backend::Postgres {
            continue;
        }
        load(&t.store).await;
        // The same database through a store counting as usual.
        let reference = t.reopen().await;
        t.store.tune_counting(std::time::Duration::from_millis(20), 1, std::time::Duration::from_millis(400));
        for q in ["补贴", "一卡通 补贴", "工资 OR 养老金", "县财政局"] {
            let (exact, urls) = results(&reference, q, ItemFilter::default()).await;
            assert!(exact > 0, "{q}");
            let query = ItemQuery { q: Some(q.into()), limit: 100, ..Default::default() };
            let first = t.store.items(&query).await.expect("search");
            assert_eq!(
                first.items.iter().map(|i| i.url.clone()).collect::<Vec<_>>(),
                urls,
                "{q}: the page itself is exact"
            );
            assert!(first.total_estimated, "{q}: the count is slower than the budget");
            assert!(first.total > 0, "{q}: the planner's estimate");
            // A reader that comes meanwhile takes the estimate rather than wait.
            let started = std::time::Instant::now();
            let second = t.store.items(&query).await.expect("search");
            assert!(second.total_estimated && started.elapsed() < std::time::Duration::from_millis(300), "{q}");
            let json = serde_json::to_value(&first).expect("json");
            assert_eq!(json.get("total_estimated").is_some(), first.total_estimated, "{q}: the API says so only then");
            // The background count lands within moments.
            let mut settled = None;
            for _ in 0..200 {
                let page = t.store.items(&query).await.expect("search");
                if !page.total_estimated {
                    settled = Some(page.total);
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            assert_eq!(settled, Some(exact), "{q}: the exact total follows the estimate");
        }
        reference.close().await;
        t.close().await;
    }
}

async fn one_source(store: &Store) {
    let cfg = yuqing_core::config::Config::parse(
        "[[sources]]\nname='s1'\nkind='feed'\nurl='https://a.example/rss'\ntier='local'\ninterval='10m'\n",
        "t",
        &|_| Ok(()),
    )
    .expect("config");
    store.sync_sources(&cfg.sources).await.expect("sync");
}

/// One process polls a source per interval; a dead process's lease passes to another.
#[tokio::test]
async fn source_leases_go_to_one_process_and_expire() {
    for t in each().await {
        let a = t.reopen().await;
        let b = t.reopen().await;
        one_source(&a).await;
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).single().expect("t");
        let lease = Duration::seconds(60);
        assert_eq!(a.lease_source("s1", t0, lease).await.expect("lease"), Lease::Granted);
        // The holder may renew; the other process is told to wait for the lease's end.
        assert_eq!(a.lease_source("s1", t0 + Duration::seconds(20), lease).await.expect("renew"), Lease::Granted);
        let Lease::Wait(until) = b.lease_source("s1", t0 + Duration::seconds(30), lease).await.expect("lease") else {
            panic!("a held lease is not granted twice")
        };
        assert_eq!(until, t0 + Duration::seconds(80));
        // The pass ends: the next is due in ten minutes, for everybody.
        assert!(a.release_source("s1", t0 + Duration::minutes(10)).await.expect("release"));
        assert_eq!(
            b.lease_source("s1", t0 + Duration::minutes(1), lease).await.expect("lease"),
            Lease::Wait(t0 + Duration::minutes(10))
        );
        assert_eq!(b.lease_source("s1", t0 + Duration::minutes(10), lease).await.expect("lease"), Lease::Granted);
        // b dies mid-pass: after its lease runs out, a takes the source over.
        let t1 = t0 + Duration::minutes(10);
        assert!(matches!(
            a.lease_source("s1", t1 + Duration::seconds(59), lease).await.expect("lease"),
            Lease::Wait(_)
        ));
        assert_eq!(a.lease_source("s1", t1 + Duration::seconds(61), lease).await.expect("lease"), Lease::Granted);
        // The dead process's late release changes nothing.
        assert!(!b.release_source("s1", t1 + Duration::hours(5)).await.expect("release"));
        assert_eq!(a.source_next_due("s1").await.expect("due"), Some(t0 + Duration::minutes(10)));
        a.close().await;
        b.close().await;
        t.close().await;
    }
}

/// Two processes asking at the same instant: exactly one is granted.
#[tokio::test]
async fn simultaneous_lease_requests_grant_one() {
    for t in each().await {
        one_source(&t.store).await;
        let stores: Vec<Arc<Store>> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(Arc::new(t.reopen().await));
            }
            v
        };
        let now = Utc::now();
        let tasks: Vec<_> = stores
            .iter()
            .map(|s| {
                let s = s.clone();
                tokio::spawn(async move { s.lease_source("s1", now, Duration::seconds(60)).await.expect("lease") })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            granted += usize::from(task.await.expect("join") == Lease::Granted);
        }
        assert_eq!(granted, 1, "on {}", t.backend.name());
        for s in stores {
            s.close().await;
        }
        t.close().await;
    }
}

/// An alert claimed by one process is not sent by another until the claim runs out.
#[tokio::test]
async fn alert_claims_keep_two_senders_apart() {
    for t in each().await {
        let mut it = item(0, CORPUS[1].0, CORPUS[1].1, Tone::Negative);
        it.alert_channels = vec!["hook".into(), "mail".into()];
        t.store.ingest(it).await.expect("ingest");
        let a = t.reopen().await;
        let b = t.reopen().await;
        let now = Utc::now();
        let claim = Duration::minutes(2);
        let got_a = a.claim_due_alerts(now, 10, claim).await.expect("claim");
        let got_b = b.claim_due_alerts(now, 10, claim).await.expect("claim");
        assert_eq!((got_a.len(), got_b.len()), (2, 0));
        a.mark_alert_sent(got_a[0].id, now).await.expect("sent");
        // a died before recording the second: b sends it once the claim has run out.
        assert!(b.claim_due_alerts(now + Duration::seconds(119), 10, claim).await.expect("claim").is_empty());
        let late = b.claim_due_alerts(now + Duration::seconds(121), 10, claim).await.expect("claim");
        assert_eq!(late.iter().map(|r| r.id).collect::<Vec<_>>(), [got_a[1].id]);
        a.close().await;
        b.close().await;
        t.close().await;
    }
}

/// The same page stored by several processes (PostgreSQL) or tasks (SQLite, which one
/// process writes) at once is one item.
#[tokio::test]
async fn concurrent_ingest_of_one_url_stores_one_item() {
    for t in each().await {
        let stores: Vec<Arc<Store>> = {
            let mut v = Vec::new();
            let shared = Arc::new(t.reopen().await);
            for _ in 0..3 {
                v.push(match t.backend {
                    Backend::Postgres => Arc::new(t.reopen().await),
                    Backend::Sqlite => shared.clone(),
                });
            }
            v
        };
        let mut tasks = Vec::new();
        for (round, (title, text)) in CORPUS.iter().enumerate().take(10) {
            for s in &stores {
                let s = s.clone();
                let it = item(round, title, text, Tone::Neutral);
                tasks.push(tokio::spawn(async move { s.ingest(it).await.expect("ingest") }));
            }
        }
        let mut new = 0;
        for task in tasks {
            new += usize::from(matches!(task.await.expect("join"), IngestOutcome::New { .. }));
        }
        assert_eq!(new, 10, "on {}", t.backend.name());
        assert_eq!(t.store.counts().await.expect("counts").items, 10);
        for s in stores {
            s.close().await;
        }
        t.close().await;
    }
}
