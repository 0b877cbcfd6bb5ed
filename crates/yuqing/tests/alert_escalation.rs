//! Acknowledgement and escalation from the built binary: `yuqing serve` sends a negative
//! item's alert with a signed acknowledgement link; opening the link without a session
//! changes nothing (it asks for the login); nobody acknowledges within `ack_within`, so
//! round 1 of the escalation goes out, to the leaders since the roster is empty; an
//! office user acknowledges it through the API (a member may not), once, and no more
//! rounds are written.

mod common;
mod site;

use common::{wait_for, Api, Desk, COLLECT};
use std::time::Duration;

fn config(site: &site::Site) -> String {
    format!(
        r#"{COLLECT}
[[sources]]
name = "上犹论坛"
kind = "feed"
url = "{neg}"
tier = "local"
interval = "10m"

[web]
public_url = "https://yuqing.example.org/"

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[alerts.channels]]
name = "leaders-hook"
kind = "webhook"
url = "{hook}?leaders"

[[alerts.routes]]
channels = ["hook"]
tone = "negative"

[alerts.escalation]
ack_within = "2s"
ack_within_sensitive = "1s"
repeat_every = "10m"
leader_channels = ["leaders-hook"]
"#,
        neg = site.url("/neg/rss.xml"),
        hook = site.url("/receiver"),
    )
}

#[test]
fn an_unacknowledged_alert_escalates_once_to_the_leaders_and_stops_when_acknowledged() {
    let site = site::start();
    let desk = Desk::new(&config(&site));
    desk.ok(&["check-config"]);
    desk.add_user("zhang", "office", "a-long-password");
    desk.add_user("liu", "leader", "a-long-password");
    desk.add_user("zhao", "member", "a-long-password");
    let office = desk.token("zhang");
    let member = desk.token("zhao");
    let serve = desk.serve(&[]);
    let api = Api::new(&serve);

    // The item's alert, with the acknowledgement link.
    let first =
        wait_for(Duration::from_secs(25), || site.extra.hits().into_iter().find(|h| h.key.starts_with("item-")));
    let first = first.unwrap_or_else(|| panic!("no alert\n{}", serve.log_text()));
    let key = first.key.clone();
    let ack = first.body["ack_link"].as_str().unwrap_or_else(|| panic!("no ack link: {}", first.body)).to_string();
    let prefix = format!("https://yuqing.example.org/alerts/ack/{key}?t=");
    assert!(ack.starts_with(&prefix) && ack.len() == prefix.len() + 32, "{ack}");
    assert!(first.body["text"]
        .as_str()
        .is_some_and(|t| t.contains("确认收到：https://yuqing.example.org/alerts/ack/")));
    let level = first.body["level"].as_str().unwrap_or("");
    assert!(level == "important" || level == "major-sensitive", "the test item must escalate: {level}");

    // Opening the link without a session (a link preview) asks for the login and
    // acknowledges nothing.
    let no_redirects = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    let r = no_redirects.get(serve.url(&ack["https://yuqing.example.org".len()..])).send().expect("GET the link");
    assert!(r.status().is_redirection(), "{}", r.status());
    let to = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(to.starts_with("/login?next=%2Falerts%2Fack%2F"), "{to}");

    // Round 1 after 2 s: to the leaders (nobody is on the roster), on the alert's own
    // channel and the leaders' one, with the same acknowledgement link.
    let rounds = wait_for(Duration::from_secs(20), || {
        let esc: Vec<_> = site.extra.hits().into_iter().filter(|h| h.key.contains("-escalation-")).collect();
        (esc.len() >= 2).then_some(esc)
    });
    let rounds = rounds.unwrap_or_else(|| panic!("no escalation: {:?}\n{}", site.extra.hits(), serve.log_text()));
    for h in &rounds {
        assert_eq!(h.key, "alert-1-escalation-1");
        assert_eq!(h.body["escalation"], 1);
        assert_eq!(h.body["ack_link"], ack.as_str());
        let notice = h.body["notice"].as_str().unwrap_or("");
        assert!(notice.contains("无人确认") && notice.contains("报领导：liu"), "{notice}");
    }
    let (status, list) = api.get(&office, "/api/v1/alerts?unacknowledged=true");
    assert_eq!(status, 200, "{list}");
    let alert = &list["alerts"][0];
    assert_eq!((alert["key"].as_str(), alert["rounds"].as_i64()), (Some(key.as_str()), Some(1)), "{list}");
    assert!(alert["acked_at"].is_null());

    // A member may not acknowledge; the office does, once.
    let (status, body) = api.post(&member, &format!("/api/v1/alerts/{key}/ack"), &serde_json::json!({}));
    assert_eq!(status, 403, "{body}");
    let (status, body) = api.post(&office, &format!("/api/v1/alerts/{key}/ack"), &serde_json::json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acknowledged_now"], true);
    assert_eq!(body["alert"]["acked_by"], "zhang");
    assert_eq!(body["alert"]["acked_via"], "api");
    assert!(body["alert"]["next_check_at"].is_null(), "{body}");
    let (status, again) = api.post(&office, &format!("/api/v1/alerts/{key}/ack"), &serde_json::json!({}));
    assert_eq!((status, again["acknowledged_now"].as_bool()), (200, Some(false)), "{again}");
    let (status, _) = api.post(&office, "/api/v1/alerts/item-999/ack", &serde_json::json!({}));
    assert_eq!(status, 404);
    let (_, list) = api.get(&office, "/api/v1/alerts?unacknowledged=true");
    assert_eq!(list["alerts"].as_array().map(Vec::len), Some(0), "{list}");

    // Round 1 went out once per channel: the escalation loop saw the round was written.
    std::thread::sleep(Duration::from_secs(3));
    let esc = site.extra.hits().into_iter().filter(|h| h.key.contains("-escalation-")).count();
    assert_eq!(esc, 2, "{:?}", site.extra.hits());
}

/// Quiet hours all day, nobody on duty, no sensitive period: alerts below
/// major-sensitive wait. A sensitive period declared through the API releases them
/// (round the clock); sent in it, they escalate after `ack_within_sensitive` (1 s),
/// where ordinary times would give them an hour.
#[test]
fn quiet_hours_hold_alerts_until_a_sensitive_period_sends_them_round_the_clock_and_escalates_them_sooner() {
    let site = site::start();
    let config = format!(
        r#"{COLLECT}
[[sources]]
name = "上犹新闻网"
kind = "feed"
url = "{main}"
tier = "local"
interval = "10m"

[[sources]]
name = "上犹论坛"
kind = "feed"
url = "{neg}"
tier = "local"
interval = "10m"

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[alerts.routes]]
channels = ["hook"]
rules = ["上犹财政"]

[alerts]
# Quiet all day but the minute before midnight (Beijing): the test fails only if it
# happens to run in that minute.
quiet_hours = "00:00-23:59"

[alerts.escalation]
ack_within = "1h"
ack_within_sensitive = "1s"
repeat_every = "10m"
"#,
        main = site.url("/rss.xml"),
        neg = site.url("/neg/rss.xml"),
        hook = site.url("/receiver"),
    );
    let desk = Desk::new(&config);
    desk.ok(&["check-config"]);
    desk.add_user("zhang", "office", "a-long-password");
    let office = desk.token("zhang");
    let serve = desk.serve(&[]);
    let api = Api::new(&serve);

    // Everything collected; only major-sensitive items (if any) went out.
    let items = wait_for(Duration::from_secs(30), || {
        let (_, v) = api.get(&office, "/api/v1/items?limit=50");
        let items = v["items"].as_array()?.clone();
        let titles: Vec<&str> = items.iter().filter_map(|i| i["title"].as_str()).collect();
        (titles.contains(&site::A1_TITLE) && titles.contains(&site::NEG_TITLE)).then_some(items)
    });
    let items = items.unwrap_or_else(|| panic!("not collected\n{}", serve.log_text()));
    let major: Vec<String> = items
        .iter()
        .filter(|i| i["level"] == "major-sensitive" && i["duplicate_of"].is_null())
        .filter_map(|i| i["id"].as_i64().map(|id| format!("item-{id}")))
        .collect();
    let held: Vec<String> = items
        .iter()
        .filter(|i| i["level"] != "major-sensitive" && i["duplicate_of"].is_null())
        .filter_map(|i| i["id"].as_i64().map(|id| format!("item-{id}")))
        .collect();
    assert!(!held.is_empty(), "{items:?}");
    std::thread::sleep(Duration::from_secs(4)); // a wrong delivery gets its chance
    let keys: Vec<String> = site.extra.hits().into_iter().map(|h| h.key).collect();
    assert!(held.iter().all(|k| !keys.contains(k)), "held alerts went out: {keys:?}");
    assert!(major.iter().all(|k| keys.contains(k)), "major-sensitive alerts are never held: {keys:?}");

    // A sensitive period from now: the held alerts go out within the recheck.
    let now = chrono::Utc::now();
    let period = serde_json::json!({
        "from": (now - chrono::Duration::minutes(1)).to_rfc3339(),
        "to": (now + chrono::Duration::days(1)).to_rfc3339(),
        "reason": "县人代会期间",
    });
    let (status, body) = api.post(&office, "/api/v1/sensitive-periods", &period);
    assert_eq!(status, 201, "{body}");
    let sent = wait_for(Duration::from_secs(40), || {
        let keys: Vec<String> = site.extra.hits().into_iter().map(|h| h.key).collect();
        held.iter().all(|k| keys.contains(k)).then_some(keys)
    });
    assert!(sent.is_some(), "the period did not release {held:?}: {:?}\n{}", site.extra.hits(), serve.log_text());

    // Sent in the period: marked so, and the important ones escalate after 1 s.
    let (_, list) = api.get(&office, "/api/v1/alerts");
    let alerts = list["alerts"].as_array().cloned().unwrap_or_default();
    let in_period: Vec<&serde_json::Value> =
        alerts.iter().filter(|a| held.contains(&a["key"].as_str().unwrap_or("").to_string())).collect();
    assert_eq!(in_period.len(), held.len(), "{list}");
    assert!(in_period.iter().all(|a| a["sensitive"] == true), "{list}");
    let escalating: Vec<i64> =
        in_period.iter().filter(|a| a["level"] != "ordinary").filter_map(|a| a["id"].as_i64()).collect();
    for id in &escalating {
        let key = format!("alert-{id}-escalation-1");
        let hit = wait_for(Duration::from_secs(15), || site.extra.hits().into_iter().find(|h| h.key == key));
        assert!(hit.is_some(), "{key} did not go out: {:?}", site.extra.hits());
    }
    // One sent before the period (major-sensitive, an hour to acknowledge) has not.
    for a in alerts.iter().filter(|a| major.contains(&a["key"].as_str().unwrap_or("").to_string())) {
        assert_eq!(a["sensitive"], false);
        assert_eq!(a["rounds"], 0, "{a}");
    }
}

/// A case past its deadline escalates to the leaders once, on the leaders' channel.
#[test]
fn an_overdue_case_escalates_to_the_leaders_once() {
    let site = site::start();
    let config = format!(
        r#"{}
[cases.deadlines.ordinary]
assess_within = "1s"
[cases.deadlines.important]
assess_within = "1s"
[cases.deadlines.major-sensitive]
assess_within = "1s"
"#,
        config(&site)
    );
    let desk = Desk::new(&config);
    desk.ok(&["check-config"]);
    desk.add_user("liu", "leader", "a-long-password");
    desk.add_user("zhao", "member", "a-long-password");
    let member = desk.token("zhao");
    let serve = desk.serve(&[]);
    let api = Api::new(&serve);
    let id = wait_for(Duration::from_secs(25), || {
        let (_, v) = api.get(&member, "/api/v1/items?tone=negative");
        v["items"].as_array()?.first()?["id"].as_i64()
    });
    let id = id.unwrap_or_else(|| panic!("not collected\n{}", serve.log_text()));
    let (status, body) =
        api.post(&member, &format!("/api/v1/items/{id}/report"), &serde_json::json!({"note": "请关注"}));
    assert_eq!(status, 201, "{body}");
    let case = body["case"]["id"].as_i64().expect("case id");
    let key = format!("case-{case}-overdue-assess");
    let hit = wait_for(Duration::from_secs(40), || site.extra.hits().into_iter().find(|h| h.key == key));
    let hit = hit.unwrap_or_else(|| panic!("{key} did not go out: {:?}\n{}", site.extra.hits(), serve.log_text()));
    let notice = hit.body["notice"].as_str().unwrap_or("");
    assert!(notice.contains(&format!("处置单 #{case} 逾期未研判")) && notice.contains("报领导：liu"), "{notice}");
    assert_eq!(hit.body["link"], format!("https://yuqing.example.org/cases/{case}"));
    // The next scan (every 15 s) finds it escalated already.
    std::thread::sleep(Duration::from_secs(17));
    let n = site.extra.hits().into_iter().filter(|h| h.key == key).count();
    assert_eq!(n, 1, "once, on the leaders' channel: {:?}", site.extra.hits());
}
