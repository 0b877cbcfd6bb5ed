//! Alerts end to end: `yuqing serve` collects from a local site, writes an alert for each
//! new relevant item in the item's own transaction, and delivers it to a webhook once
//! per item and channel, with the item's key for de-duplication; reposts alert nobody.

mod site;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_collects_and_alerts_the_webhook_once_per_item() {
    let site = site::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        r#"
[collect]
user_agent_contact = "https://example.org/about-our-monitoring"
allow_private = ["127.0.0.0/8"]
min_host_delay = "100ms"
timeout = "2s"

[[sources]]
name = "上犹新闻网"
kind = "feed"
url = "{rss}"
tier = "local"
interval = "10m"

[[sources]]
name = "赣南资讯网"
kind = "page"
url = "{gbk}"
tier = "home-city"
interval = "10m"

[[rules]]
name = "上犹财政"
query = '上犹 AND (财政 OR 补贴)'
category = "livelihood"

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[alerts.routes]]
channels = ["hook"]
categories = ["livelihood"]
"#,
        rss = site.url("/rss.xml"),
        gbk = site.url("/gbk/list.html"),
        hook = site.url("/hook"),
    );
    std::fs::write(dir.path().join("yuqing.toml"), config).expect("config");
    let mut server = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(dir.path().join("yuqing.toml"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    // Two new items (the GBK repost alerts nobody).
    let deadline = Instant::now() + Duration::from_secs(60);
    while site.log.hooks().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Give a wrong extra delivery the chance to show.
    std::thread::sleep(Duration::from_secs(3));
    let _ = server.kill();
    let _ = server.wait();
    let hooks = site.log.hooks();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    assert!(hooks.iter().all(|h| h.starts_with("item-")), "{hooks:?}");
    assert!(hooks.iter().any(|h| h.contains(site::A1_TITLE)), "{hooks:?}");
    assert!(hooks.iter().any(|h| h.contains(site::A2_TITLE)), "{hooks:?}");
    assert!(!hooks.iter().any(|h| h.contains(site::REPOST_TITLE)), "{hooks:?}");
}
