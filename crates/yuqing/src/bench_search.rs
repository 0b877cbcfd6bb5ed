//! `yuqing bench-search`: search latency in process (the call the stream, the search
//! page and the API make: `Store::items`, a page of 50 with its total), for the scale
//! benchmarks of issue 7. Each query runs a few times to warm caches, then `--runs`
//! times; the report gives p50, p99 and the largest time per query and over all runs.
//! The embedded index's cache of results is emptied before each run; list totals stay
//! cached as they are for the stream (`counts.rs`).

use anyhow::Result;
use chrono::Utc;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use yuqing_core::{Level, Tone};
use yuqing_store::{ItemFilter, ItemQuery, Store};

/// Typical queries: what an office types (words, OR, NOT, a phrase), filters the stream
/// offers, and the stream itself (no query: newest first).
fn typical() -> Vec<(String, ItemQuery)> {
    let q = |text: &str, filter: ItemFilter| ItemQuery {
        q: (!text.is_empty()).then(|| text.to_string()),
        filter,
        limit: 50,
        offset: 0,
    };
    let none = ItemFilter::default;
    let month = ItemFilter { since: Some(Utc::now() - chrono::Duration::days(30)), ..ItemFilter::default() };
    vec![
        ("补贴".into(), q("补贴", none())),
        ("养老金".into(), q("养老金", none())),
        ("拖欠 工资".into(), q("拖欠 工资", none())),
        ("补贴 OR 补助".into(), q("补贴 OR 补助", none())),
        ("\"专项资金\"".into(), q("\"专项资金\"", none())),
        ("财政 -谣言".into(), q("财政 -谣言", none())),
        ("补贴, tone=negative".into(), q("补贴", ItemFilter { tone: Some(Tone::Negative), ..none() })),
        ("养老金, last 30 days".into(), q("养老金", month.clone())),
        ("(stream) newest first".into(), q("", none())),
        ("(stream) level=major-sensitive".into(), q("", ItemFilter { level: Some(Level::MajorSensitive), ..none() })),
        ("(stream) last 30 days".into(), q("", month)),
        ("(stream) page 20".into(), ItemQuery { offset: 950, ..q("", none()) }),
    ]
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn search(store: &Store, runs: usize, extra: &[String]) -> Result<ExitCode> {
    let mut queries = typical();
    for e in extra {
        queries
            .push((e.clone(), ItemQuery { q: Some(e.clone()), filter: ItemFilter::default(), limit: 50, offset: 0 }));
    }
    let counts = store.counts().await?;
    println!(
        "bench-search: backend {}, {} items, {runs} runs per query (after 3 to warm up)",
        store.backend().name(),
        counts.items
    );
    println!("{:<34} {:>9} {:>9} {:>9} {:>9}", "query", "hits", "p50 ms", "p99 ms", "max ms");
    let mut all = Vec::new();
    for (name, query) in &queries {
        let mut total = String::new();
        for _ in 0..3 {
            total = hits(&store.items(query).await?);
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            // Each run searches the index: identical searches of an unchanged index are
            // otherwise answered from memory, which is not what this measures.
            store.forget_search_results();
            let t = Instant::now();
            let page = store.items(query).await?;
            times.push(t.elapsed());
            total = hits(&page);
        }
        times.sort();
        println!(
            "{:<34} {:>9} {:>9.2} {:>9.2} {:>9.2}",
            name,
            total,
            pct(&times, 0.50),
            pct(&times, 0.99),
            pct(&times, 1.0)
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "{:<34} {:>9} {:>9.2} {:>9.2} {:>9.2}",
        "all queries",
        "",
        pct(&all, 0.50),
        pct(&all, 0.99),
        pct(&all, 1.0)
    );
    Ok(ExitCode::SUCCESS)
}

/// The page's total, `~` before an estimate (PostgreSQL, a count still running).
fn hits(page: &yuqing_store::ItemPage) -> String {
    format!("{}{}", if page.total_estimated { "~" } else { "" }, page.total)
}
