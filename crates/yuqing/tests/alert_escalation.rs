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
