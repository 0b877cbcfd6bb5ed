//! End to end, through the binary as a user runs it: check-config, collect --once twice,
//! search --json, then serve with a token for the API — against a local test site.

mod site;

use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn yuqing(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(dir.join("yuqing.toml"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run yuqing")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn config(site: &site::Site) -> String {
    format!(
        r#"
[org]
name = "上犹县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about-our-monitoring"
allow_private = ["127.0.0.0/8"]
min_host_delay = "100ms"
timeout = "2s"
connect_timeout = "2s"
max_body_bytes = 1048576
retries = 1

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

[[sources]]
name = "坏订阅源"
kind = "feed"
url = "{bad}"
tier = "other"

[[sources]]
name = "恶意页面"
kind = "page"
url = "{hostile}"
tier = "other"
selector = "ul.list"

[[rules]]
name = "上犹财政"
query = '上犹 AND (财政 OR 补贴)'
category = "livelihood"

[bulletin]
title = "财政网上舆情信息"
compiled_by = "上犹县财政系统网宣办"
recipients = ["县财政系统网络文化建设和管理领导小组成员", "各乡镇财政所", "局属各单位"]
"#,
        rss = site.url("/rss.xml"),
        gbk = site.url("/gbk/list.html"),
        bad = site.url("/bad.xml"),
        hostile = site.url("/hostile/list.html"),
    )
}

fn search_json(dir: &Path, q: &str) -> Vec<Value> {
    let o = yuqing(dir, &["search", "--json", q]);
    assert!(o.status.success(), "search failed: {}", String::from_utf8_lossy(&o.stderr));
    stdout(&o).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

#[test]
fn collect_search_and_serve_end_to_end() {
    // With YUQING_TEST_BACKEND=postgres the same run goes against a fresh PostgreSQL
    // database (this binary holds this one test, so the variable is set for it alone).
    let _db = (yuqing_store::testing::default_backend() == yuqing_store::Backend::Postgres).then(|| {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let db = rt.block_on(yuqing_store::testing::PgDatabase::create());
        std::env::set_var("YUQING_DATABASE_URL", &db.url);
        db
    });
    let site = site::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("yuqing.toml"), config(&site)).expect("write config");

    let o = yuqing(dir.path(), &["check-config"]);
    assert!(o.status.success(), "check-config: {}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));

    // First pass: two relevant articles and one repost; the rest is irrelevant or refused.
    let o = yuqing(dir.path(), &["collect", "--once"]);
    let out = stdout(&o);
    assert!(o.status.success(), "collect: {out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("items new: 2"), "{out}");
    assert!(out.contains("duplicate: 1"), "{out}");
    assert!(out.contains("坏订阅源"), "the bad feed's error is reported: {out}");
    // Hostile pages are errors of their source's pass, and the pass goes on.
    for needle in
        ["robots.txt", "larger than the limit", "timed out", "too many redirects", "refused to connect to ::1"]
    {
        assert!(out.contains(needle), "missing `{needle}` in: {out}");
    }

    // robots.txt forbids /private/: never fetched. The UA is honest.
    assert_eq!(site.log.count("/private/secret.html"), 0);
    assert!(site.log.count("/robots.txt") >= 1);
    assert!(site.log.user_agents().iter().all(|ua| ua.contains("yuqing") && ua.contains("example.org")));

    let items = search_json(dir.path(), "上犹");
    assert_eq!(items.len(), 3, "{items:?}");
    let by_title = |t: &str| items.iter().find(|i| i["title"] == t).unwrap_or_else(|| panic!("no item {t}: {items:?}"));
    let a1 = by_title(site::A1_TITLE);
    assert_eq!(a1["published_at"], "2026-11-21T14:05:00+08:00");
    assert_eq!(a1["source"], "上犹新闻网");
    assert_eq!(a1["tier"], "local");
    assert_eq!(a1["categories"], serde_json::json!(["livelihood"]));
    assert!(a1["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/news/a1.html?utm_source=rss&utm_medium=feed") || u.ends_with("/news/a1.html")));
    assert!(a1["duplicate_of"].is_null());
    let a2 = by_title(site::A2_TITLE);
    assert_eq!(a2["published_at"], "2026-11-22T09:30:00+08:00");
    assert!(a2["duplicate_of"].is_null());
    let repost = by_title(site::REPOST_TITLE);
    assert_eq!(repost["duplicate_of"], a1["id"], "the GBK repost points at the first-seen item");
    // Newest first.
    assert_eq!(items[0]["title"], site::A2_TITLE);
    assert!(search_json(dir.path(), "马拉松").is_empty(), "irrelevant pages are not kept");

    // Second pass: idempotent.
    let fetched_before = site.log.paths().len();
    let o = yuqing(dir.path(), &["collect", "--once"]);
    let out = stdout(&o);
    assert!(out.contains("items new: 0"), "{out}");
    assert!(out.contains("duplicate: 0"), "{out}");
    assert_eq!(search_json(dir.path(), "上犹").len(), 3);
    let refetched: Vec<String> = site.log.paths()[fetched_before..].to_vec();
    for p in ["/news/a1.html", "/news/marathon.html", "/gbk/202611/t20261122_1001.html"] {
        assert!(!refetched.iter().any(|r| r == p), "{p} fetched again: {refetched:?}");
    }

    // Filters.
    let o = yuqing(dir.path(), &["search", "--json", "--tier", "home-city", "上犹"]);
    assert_eq!(stdout(&o).lines().count(), 2);

    // Bulletins: two issues in a row get numbers n and n+1; issue n renders as PDF,
    // DOCX and HTML with the title, number, compiled-by line, recipients and headlines.
    let o = yuqing(dir.path(), &["bulletin", "create", "--since", "2026-11-01", "--until", "2026-11-30"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n: i64 = stdout(&o).trim().parse().expect("a number");
    let o = yuqing(dir.path(), &["bulletin", "create", "--since", "2026-11-01", "--until", "2026-11-30"]);
    assert_eq!(stdout(&o).trim().parse::<i64>().expect("a number"), n + 1);
    let html = dir.path().join("b.html");
    let o = yuqing(
        dir.path(),
        &["bulletin", "render", &n.to_string(), "--format", "html", "-o", html.to_str().expect("p")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pdf = dir.path().join("b.pdf");
    let o =
        yuqing(dir.path(), &["bulletin", "render", &n.to_string(), "--format", "pdf", "-o", pdf.to_str().expect("p")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let docx = dir.path().join("b.docx");
    let o = yuqing(
        dir.path(),
        &["bulletin", "render", &n.to_string(), "--format", "docx", "-o", docx.to_str().expect("p")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text =
        Command::new("pdftotext").arg(&pdf).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout).replace([' ', '\n'], "");
    let page = std::fs::read_to_string(&html).expect("html");
    for needle in [
        "财政网上舆情信息",
        &format!("第{n}期"),
        "上犹县财政系统网宣办",
        "本期发至",
        "各乡镇财政所",
        site::A1_TITLE,
        site::A2_TITLE,
    ] {
        assert!(text.contains(needle), "PDF lacks {needle}: {text}");
        assert!(page.contains(needle), "HTML lacks {needle}");
    }
    let fonts = Command::new("pdffonts").arg(&pdf).output().expect("pdffonts");
    assert!(String::from_utf8_lossy(&fonts.stdout).to_lowercase().contains("cjk"), "no CJK font embedded");
    assert!(std::fs::read(&docx).expect("docx").starts_with(b"PK"), "a DOCX is a zip");
    let o = yuqing(dir.path(), &["bulletin", "render", "999", "--format", "pdf", "-o", pdf.to_str().expect("p")]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("no bulletin number 999"));

    // The API: a token, then serve.
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(dir.path().join("yuqing.toml"))
        .args(["user", "add", "reader", "--role", "member"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("user add");
    child.stdin.take().expect("stdin").write_all(b"a-long-password\n").expect("password");
    assert!(child.wait().expect("user add").success());
    let o = yuqing(dir.path(), &["token", "create", "--user", "reader"]);
    assert!(o.status.success());
    let token = stdout(&o).trim().to_string();

    let mut server = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(dir.path().join("yuqing.toml"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-collect"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut out = server.stdout.take().expect("stdout");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let mut buf = [0u8; 512];
        let n = out.read(&mut buf).unwrap_or(0);
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(rest) = seen.split("serving on http://").nth(1) {
            if let Some(a) = rest.split('/').next().filter(|_| rest.contains('/')) {
                break a.to_string();
            }
        }
        assert!(n > 0 && Instant::now() < deadline, "serve did not start: {seen}");
    };
    // No admin existed yet: serve creates one and prints its password once.
    assert!(seen.contains("admin"), "{seen}");

    let http = reqwest::blocking::Client::new();
    let r = http.get(format!("http://{addr}/healthz")).send().expect("healthz");
    assert_eq!(r.status(), 200);
    let r = http.get(format!("http://{addr}/api/v1/items")).send().expect("items");
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("http://{addr}/api/v1/items?q=上犹&tone=&limit=10"))
        .bearer_auth(&token)
        .send()
        .expect("items");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().expect("json");
    assert_eq!(body["total"], 3, "{body}");
    let id = body["items"][0]["id"].as_i64().expect("id");
    let r = http.get(format!("http://{addr}/api/v1/items/{id}")).bearer_auth(&token).send().expect("item");
    let item: Value = r.json().expect("json");
    assert!(item["content"].as_str().is_some_and(|c| c.contains("乡镇财政所")), "{item}");
    let r = http.get(format!("http://{addr}/api/v1/sources")).bearer_auth(&token).send().expect("sources");
    let sources: Value = r.json().expect("json");
    let bad = sources["sources"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "坏订阅源")).cloned();
    assert!(bad.is_some_and(|b| b["failures_in_row"].as_i64() >= Some(1) && !b["last_error"].is_null()));
    let _ = server.kill();
    let _ = server.wait();
}
