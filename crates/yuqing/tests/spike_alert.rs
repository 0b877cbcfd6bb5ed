//! A spike's alert from the built binary: a store whose hourly counts hold a surge in the
//! last complete hour is served with a `spikes = true` route to a local webhook; `yuqing
//! serve` records the spike and sends its alert, and a second process started after the
//! first one (the restart of a crash, or a second process on the database) finds the
//! spike recorded and sends nothing again.

mod common;
mod site;

use chrono::{TimeDelta, Utc};
use common::{wait_for, Desk, COLLECT};
use std::time::Duration;
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_store::spikes::hour_of;
use yuqing_store::{NewItem, Store};

fn item(n: usize, at: chrono::DateTime<Utc>) -> NewItem {
    let body = format!("第{n}号：上犹县某乡镇部分群众反映一卡通补贴迟迟未到账，编号{}，财政所正在逐户核实。", n * 7919);
    NewItem {
        source: "上犹论坛".into(),
        tier: Tier::Local,
        url: format!("https://bbs.example/{n}"),
        canonical_url: format!("https://bbs.example/{n}"),
        title: format!("补贴未到账（{n}）"),
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

/// Thirty hours of one item an hour, then fifteen items in the current hour (flagged while
/// it fills; if the hour turns before serve checks, it is the last complete one, checked too).
fn fill(data: &std::path::Path) -> chrono::DateTime<Utc> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = Store::open(data).await.expect("open");
        let current = hour_of(Utc::now());
        let start = current - TimeDelta::hours(30);
        let mut n = 0;
        for k in 0..30 {
            store.ingest(item(n, start + TimeDelta::hours(k) + TimeDelta::minutes(5))).await.expect("ingest");
            n += 1;
        }
        for k in 0..15 {
            store.ingest(item(n, current + TimeDelta::seconds(k))).await.expect("ingest");
            n += 1;
        }
        store.close().await;
        current
    })
}

#[test]
fn serve_sends_a_spike_alert_once() {
    let site = site::start();
    let config = format!(
        r#"{COLLECT}
[web]
public_url = "https://yuqing.example.org/"

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[alerts.routes]]
channels = ["hook"]
tone = "negative"

[[alerts.routes]]
channels = ["hook"]
spikes = true
rules = ["上犹财政"]
"#,
        hook = site.url("/receiver"),
    );
    let desk = Desk::new(&config);
    desk.ok(&["check-config"]);
    let hour = fill(&desk.path().join("data"));

    let serve = desk.serve(&["--no-collect"]);
    let hit = wait_for(Duration::from_secs(30), || site.extra.hits().into_iter().find(|h| h.key.starts_with("spike-")));
    let hit = hit.unwrap_or_else(|| panic!("no spike alert arrived\n{}", serve.log_text()));
    let b = &hit.body;
    assert_eq!(b["kind"], "spike");
    assert_eq!(b["rules"], serde_json::json!(["上犹财政"]));
    let local = hour.with_timezone(&chrono_tz::Asia::Shanghai).format("%-m月%-d日%-H时").to_string();
    let title = b["title"].as_str().unwrap_or("");
    assert!(title.starts_with(&format!("监测规则“上犹财政”{local}")), "{b}");
    assert!(title.ends_with("新增 15 条，过去30小时每小时平均 1.0 条"), "{b}");
    let id = hit.key.trim_start_matches("spike-");
    assert_eq!(b["link"], format!("https://yuqing.example.org/spikes#spike-{id}"));
    assert!(b["ack_link"].as_str().is_some_and(|l| l.contains(&format!("/alerts/ack/{}?t=", hit.key))), "{b}");
    assert!(b["text"].as_str().is_some_and(|t| t.starts_with("【舆情突增】")), "{b}");
    let log = serve.log_text();
    serve.kill();

    // A second process on the same store: it checks the same hours, finds the spike
    // recorded, and sends nothing again.
    let serve = desk.serve(&["--no-collect"]);
    let checked = wait_for(Duration::from_secs(30), || {
        (serve.log_text().matches("spike detection checked the hours").count() >= 2).then_some(())
    });
    checked.unwrap_or_else(|| panic!("the second process never checked\n{log}\n{}", serve.log_text()));
    std::thread::sleep(Duration::from_secs(3)); // a wrong repeat gets its chance
    let spikes: Vec<_> = site.extra.hits().into_iter().filter(|h| h.key.starts_with("spike-")).collect();
    assert_eq!(spikes.len(), 1, "one spike alert (the category's spike has no route), sent once: {spikes:?}");
    assert!(site.extra.hits().iter().all(|h| !h.key.starts_with("item-")), "stored items alert nobody here");
}
