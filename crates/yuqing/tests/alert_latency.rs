//! Alert latency, a benchmark (ignored by `cargo test`; speed is measured, never asserted):
//! from the moment the local test site serves an article page to `yuqing serve` to the
//! moment the alert for it reaches the webhook receiver, over a generated feed of
//! distinct negative articles. Prints p50 / p95 / max. Run (see docs/BENCHMARKS.md):
//!
//! ```sh
//! cargo build --release -p yuqing
//! YUQING_BIN=target/release/yuqing cargo test -p yuqing --test alert_latency -- --ignored --nocapture
//! ```
//!
//! `YUQING_BENCH_ITEMS` (default 60) sets the number of articles, `YUQING_BENCH_DELAY`
//! (default `100ms`) the collector's `min_host_delay` between two article fetches.

mod common;
mod site;

use common::{wait_for, Desk, COLLECT};
use std::collections::HashMap;
use std::time::Duration;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Nearest rank: the smallest value with at least p of the values at or below it.
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn alert_latency_from_page_served_to_webhook_received() {
    let n: usize = std::env::var("YUQING_BENCH_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let delay = std::env::var("YUQING_BENCH_DELAY").unwrap_or_else(|_| "100ms".into());
    let site = site::start();
    let config = format!(
        r#"{}
[[sources]]
name = "上犹网友留言"
kind = "feed"
url = "{feed}"
tier = "local"
interval = "10m"
max_articles = {n}

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[alerts.routes]]
channels = ["hook"]
rules = ["上犹财政"]
"#,
        COLLECT.replace("min_host_delay = \"100ms\"", &format!("min_host_delay = \"{delay}\"")),
        feed = site.url(&format!("/live/{n}/rss.xml")),
        hook = site.url("/receiver"),
    );
    let desk = Desk::new(&config);
    desk.ok(&["check-config"]);
    let serve = desk.serve(&[]);
    let budget = Duration::from_secs(60) + Duration::from_millis(300) * n as u32;
    let done = wait_for(budget, || {
        let keys: std::collections::HashSet<String> = site.extra.hits().into_iter().map(|h| h.key).collect();
        (keys.len() >= n).then_some(())
    });
    // Late extra deliveries would show as repeats below.
    std::thread::sleep(Duration::from_secs(3));
    let hits = site.extra.hits();
    let log = serve.log_text();
    drop(serve);

    let mut first: HashMap<String, std::time::Instant> = HashMap::new();
    for h in &hits {
        first.entry(h.key.clone()).or_insert(h.at);
    }
    let mut latencies = Vec::new();
    let mut by_index = Vec::new();
    for h in &hits {
        if first.get(&h.key) != Some(&h.at) {
            continue;
        }
        let title = h.body["title"].as_str().unwrap_or("");
        let Some(i) = (0..n).find(|&i| site::live_title(i) == title) else { continue };
        let Some(served) = site.extra.served(&format!("/live/{n}/{i}.html")) else { continue };
        let l = h.at.saturating_duration_since(served);
        latencies.push(l);
        by_index.push((i, l));
    }
    by_index.sort();
    let mut sorted = latencies.clone();
    sorted.sort();
    println!("alerts received: {} for {n} articles ({} requests in all)", first.len(), hits.len());
    if sorted.is_empty() {
        panic!("no alert arrived\n{log}");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "latency page served -> webhook received: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms, min {:.0} ms (n = {})",
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.95)),
        ms(*sorted.last().unwrap_or(&Duration::ZERO)),
        ms(sorted[0]),
        sorted.len()
    );
    let line: Vec<String> = by_index.iter().map(|(i, l)| format!("{i}:{:.0}", ms(*l))).collect();
    println!("per article (index:ms): {}", line.join(" "));
    // The generated articles are random sentences: now and then one is judged a
    // near-duplicate of an earlier one (a repost alerts nobody) or misses the watch rule.
    // Those are left out of the figures; most must alert.
    let missing: Vec<usize> = (0..n).filter(|i| !by_index.iter().any(|(j, _)| j == i)).collect();
    println!("articles without an alert (near-duplicates or not relevant): {missing:?}");
    if done.is_none() {
        assert!(first.len() * 10 >= n * 9, "only {} of {n} articles alerted\n{log}", first.len());
    }
    assert_eq!(hits.len(), first.len(), "no alert delivered twice");
}
