//! Alerts from the built binary to real receivers: `yuqing serve` collects a negative
//! item from the local test site and it reaches a real SMTP server (aiosmtpd, Debian's
//! `python3-aiosmtpd`) and a webhook receiver; a SIGKILL between writing the item and
//! sending its alert loses nothing and, after the receiver drops repeats by key, the
//! alert arrives exactly once.

mod common;
mod site;
#[path = "../../yuqing-notify/tests/common/smtpd.rs"]
mod smtpd;

use common::{wait_for, Api, Desk, COLLECT};
use serde_json::Value;
use smtpd::{part, Options, Smtpd};
use std::collections::HashSet;
use std::time::Duration;

/// Sources: the negative feed, and the main feed (whose items are not negative, so the
/// `tone = "negative"` route must not alert them). Channels: e-mail and webhook.
fn config(site: &site::Site, smtp: &str, with_main_feed: bool) -> String {
    let main = if with_main_feed {
        format!(
            "[[sources]]\nname = \"上犹新闻网\"\nkind = \"feed\"\nurl = \"{}\"\ntier = \"local\"\ninterval = \"10m\"\n",
            site.url("/rss.xml")
        )
    } else {
        String::new()
    };
    format!(
        r#"{COLLECT}
[[sources]]
name = "上犹论坛"
kind = "feed"
url = "{neg}"
tier = "local"
interval = "10m"

{main}
[web]
public_url = "https://yuqing.example.org/"

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[alerts.channels]]
name = "office-mail"
kind = "email"
smtp = "{smtp}"
tls = "none"
from = "yuqing@finance.example.org"
to = ["office@finance.example.org", "duty@finance.example.org"]

[[alerts.routes]]
channels = ["hook", "office-mail"]
tone = "negative"
"#,
        neg = site.url("/neg/rss.xml"),
        hook = site.url("/receiver"),
    )
}

#[test]
fn a_negative_item_reaches_the_smtp_server_and_the_webhook() {
    let site = site::start();
    let mut smtp = Smtpd::start(Options::default());
    let desk = Desk::new(&config(&site, &smtp.addr(), true));
    desk.ok(&["check-config"]);
    desk.add_user("reader", "member", "a-long-password");
    let token = desk.token("reader");
    let serve = desk.serve(&[]);

    let mail = smtp.wait_messages(1, Duration::from_secs(25));
    let hit = wait_for(Duration::from_secs(10), || site.extra.hits().first().cloned());
    assert_eq!(mail.len(), 1, "no mail arrived\n{}", serve.log_text());
    let hit = hit.unwrap_or_else(|| panic!("no webhook request\n{}", serve.log_text()));

    // The item as the API has it: its id is in the alert's key and link.
    let api = Api::new(&serve);
    let (status, items) = api.get(&token, "/api/v1/items?tone=negative");
    assert_eq!(status, 200, "{items}");
    let neg = items["items"].as_array().and_then(|a| a.iter().find(|i| i["title"] == site::NEG_TITLE)).cloned();
    let neg = neg.unwrap_or_else(|| panic!("the negative item is not stored: {items}"));
    let id = neg["id"].as_i64().expect("id");
    let key = format!("item-{id}");
    let link = format!("https://yuqing.example.org/items/{id}");

    // The webhook: the key as Idempotency-Key, the generic JSON shape.
    assert_eq!(hit.key, key);
    let b = &hit.body;
    assert_eq!(b["key"], key.as_str());
    assert_eq!(b["title"], site::NEG_TITLE);
    assert_eq!(b["tone"], "negative");
    assert_eq!(b["tone_zh"], "负面");
    assert_eq!(b["source"], "上犹论坛");
    assert_eq!(b["tier"], "local");
    assert_eq!(b["link"], link.as_str());
    assert_eq!(b["url"], site.url("/neg/a3.html").as_str());
    assert_eq!(b["categories"], serde_json::json!(["livelihood"]));
    assert_eq!(b["rules"], serde_json::json!(["上犹财政"]));
    assert!(["ordinary", "important", "major-sensitive"].contains(&b["level"].as_str().unwrap_or("")), "{b}");
    assert!(b["summary"].as_str().is_some_and(|s| s.contains("耕地地力保护补贴")), "{b}");

    // The mail, as Python's email package decodes it.
    let m = &mail[0];
    assert_eq!(m["accepted"], true);
    assert_eq!(m["mail_from"], "yuqing@finance.example.org");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["office@finance.example.org", "duty@finance.example.org"]));
    assert_eq!(m["from"], "yuqing@finance.example.org");
    assert_eq!(m["to"], serde_json::json!(["office@finance.example.org", "duty@finance.example.org"]));
    let subject = m["subject"].as_str().unwrap_or("");
    assert!(subject.starts_with("【舆情预警】") && subject.ends_with(site::NEG_TITLE), "{subject}");
    assert!(subject.contains("负面"), "{subject}");
    let mid = m["message_id"].as_str().unwrap_or("");
    assert!(mid.starts_with("<yuqing.") && mid.ends_with("@finance.example.org>"), "{mid}");
    let text = part(m, "text/plain").expect("text part");
    assert!(text.contains(site::NEG_TITLE) && text.contains("耕地地力保护补贴"), "{text}");
    assert!(text.contains(&link), "{text}");
    assert!(part(m, "text/html").is_some_and(|h| h.contains(&format!("href=\"{link}\""))));

    // Only the negative item alerts, once per channel: the main feed's items are stored
    // (they are relevant) but their tone is not negative.
    let stored = wait_for(Duration::from_secs(15), || {
        let (_, all) = api.get(&token, "/api/v1/items?limit=50");
        let titles: Vec<String> =
            all["items"].as_array()?.iter().filter_map(|i| i["title"].as_str().map(str::to_string)).collect();
        titles.iter().any(|t| t == site::A1_TITLE).then_some(all)
    });
    let stored = stored.unwrap_or_else(|| panic!("the main feed was not collected\n{}", serve.log_text()));
    std::thread::sleep(Duration::from_secs(3)); // a wrong extra alert gets its chance
    let negatives: Vec<i64> = stored["items"]
        .as_array()
        .map(|a| a.iter().filter(|i| i["tone"] == "negative").filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default();
    let hits: Vec<String> = site.extra.hits().iter().map(|h| h.key.clone()).collect();
    let expected: Vec<String> = negatives.iter().map(|i| format!("item-{i}")).collect();
    let mut sorted_hits = hits.clone();
    sorted_hits.sort();
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    assert_eq!(sorted_hits, sorted_expected, "one webhook call per negative item, none for the others: {stored}");
    assert_eq!(smtp.messages().len(), expected.len(), "one mail per negative item");
}

/// Unique keys of the receiver's requests, and how many requests there were.
fn dedup(keys: impl IntoIterator<Item = String>) -> (HashSet<String>, usize) {
    let mut n = 0;
    let set = keys.into_iter().inspect(|_| n += 1).collect();
    (set, n)
}

#[test]
fn a_kill_between_writing_the_item_and_sending_its_alert_loses_nothing() {
    let site = site::start();
    // The webhook receiver hangs on the first request: yuqing has written the item and
    // its outbox rows and is in the middle of sending when it is killed. The mail row
    // (second in the outbox) has not been tried at all.
    site.extra.hold_next(1);
    let mut smtp = Smtpd::start(Options::default());
    let desk = Desk::new(&config(&site, &smtp.addr(), false));
    let serve = desk.serve(&[]);
    let first = wait_for(Duration::from_secs(25), || site.extra.hits().first().cloned());
    let first = first.unwrap_or_else(|| panic!("the alert was never tried\n{}", serve.log_text()));
    assert!(first.held);
    assert!(smtp.messages().is_empty(), "the mail waits behind the hanging webhook");
    let log = serve.log_text();
    serve.kill();

    // Restart: the outbox still holds both rows; both go out.
    let serve = desk.serve(&[]);
    let mail = smtp.wait_messages(1, Duration::from_secs(25));
    let delivered = wait_for(Duration::from_secs(10), || {
        let hits = site.extra.hits();
        hits.iter().any(|h| !h.held).then_some(hits)
    });
    if delivered.is_none() {
        panic!("no delivery after restart\n{log}\n{}", serve.log_text());
    }
    // Give a wrong repeat its chance, then look at what the receivers saw.
    std::thread::sleep(Duration::from_secs(5));
    let hits_after = site.extra.hits();
    let mail_after = smtp.messages();
    drop(serve);

    // At least once: the webhook got it (the held try plus the delivery), the mail once.
    assert!(hits_after.iter().filter(|h| !h.held).count() >= 1);
    let (keys, requests) = dedup(hits_after.iter().map(|h| h.key.clone()));
    assert_eq!(keys.len(), 1, "exactly one alert after de-duplication by Idempotency-Key: {hits_after:?}");
    assert!(requests >= 2, "the held try and the delivery after restart");
    assert!(keys.iter().all(|k| k.starts_with("item-")));
    assert_eq!(hits_after.iter().filter(|h| !h.held).count(), 1, "delivered once after restart, not repeated");
    assert!(hits_after.iter().all(|h| h.body["title"] == site::NEG_TITLE));

    assert_eq!(mail.len(), 1);
    let (ids, _) = dedup(mail_after.iter().map(|m| m["message_id"].as_str().unwrap_or("").to_string()));
    assert_eq!(ids.len(), 1, "exactly one mail after de-duplication by Message-ID: {mail_after:?}");
    assert_eq!(mail_after.len(), 1, "the mail row had not been tried before the kill: sent once");
    assert!(mail_after[0]["subject"].as_str().is_some_and(|s| s.ends_with(site::NEG_TITLE)));
}

#[test]
fn alerts_written_by_collect_once_are_sent_by_the_next_serve() {
    // `collect --once` writes items and their outbox rows but sends nothing (no sender
    // runs); the process ends. A later `serve --no-collect` sends them, once.
    let site = site::start();
    let mut smtp = Smtpd::start(Options::default());
    let desk = Desk::new(&config(&site, &smtp.addr(), false));
    let out = desk.ok(&["collect", "--once"]);
    assert!(out.contains("items new: 1"), "{out}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(site.extra.hits().is_empty() && smtp.messages().is_empty(), "collect --once sends nothing");
    let serve = desk.serve(&["--no-collect"]);
    let mail = smtp.wait_messages(1, Duration::from_secs(20));
    let hits = wait_for(Duration::from_secs(10), || Some(site.extra.hits()).filter(|h| !h.is_empty()));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.len(), 1, "{}", serve.log_text());
    assert_eq!(smtp.messages().len(), 1);
    let hits = hits.unwrap_or_default();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(site.extra.hits().len(), 1);
    let body: &Value = &hits[0].body;
    assert_eq!(body["title"], site::NEG_TITLE);
}
