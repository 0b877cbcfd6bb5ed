//! Several `yuqing serve` processes on one PostgreSQL (issue 7): each source is polled by
//! one process per interval, each page is fetched once, each item and alert exists once,
//! and when a process is killed its sources pass to the others.
//!
//! Runs when PostgreSQL is available (see `yuqing_store::testing`); required under CI.

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FEEDS: usize = 6;
const ARTICLES: usize = 3;
/// The shortest interval yuqing accepts (polite collection): the run lasts two of them.
const INTERVAL_SECS: f64 = 60.0;

#[derive(Default)]
struct Seen {
    /// (path, seconds since the site started)
    gets: Vec<(String, f64)>,
    /// Idempotency keys of the alerts received.
    hooks: Vec<String>,
}

#[derive(Clone)]
struct Site {
    seen: Arc<Mutex<Seen>>,
    start: Instant,
    base: Arc<Mutex<String>>,
}

/// Words for distinct article texts: each article draws its own sequence, so that no
/// two are near-duplicates (a repost would alert nobody and hide the count).
const WORDS: &[&str] = &[
    "春耕",
    "农资",
    "化肥",
    "种子",
    "水利",
    "灌溉",
    "道路",
    "桥梁",
    "学校",
    "医院",
    "养老",
    "低保",
    "医保",
    "社保",
    "就业",
    "培训",
    "创业",
    "贷款",
    "贴息",
    "产业",
    "脐橙",
    "茶叶",
    "蔬菜",
    "生猪",
    "旅游",
    "民宿",
    "电商",
    "物流",
    "供电",
    "供水",
    "燃气",
    "垃圾",
    "污水",
    "绿化",
    "造林",
    "防汛",
    "抗旱",
    "救灾",
    "安置",
    "搬迁",
    "住房",
    "棚改",
    "租金",
    "工资",
    "奖金",
    "绩效",
    "考核",
    "审计",
    "监督",
    "公示",
    "听证",
    "问卷",
    "走访",
    "座谈",
    "热线",
    "窗口",
    "审批",
    "备案",
    "许可",
    "执法",
    "检查",
    "整改",
    "通报",
    "约谈",
    "问责",
    "表彰",
    "慰问",
    "帮扶",
    "结对",
    "驻村",
    "合作社",
    "村委会",
    "居委会",
    "街道",
    "社区",
    "网格",
    "志愿者",
    "党员",
    "干部",
    "群众",
    "企业",
    "商户",
    "学生",
    "教师",
    "医生",
    "护士",
    "司机",
    "工人",
    "农户",
    "老人",
    "儿童",
    "残疾人",
    "退役军人",
    "预算",
    "决算",
    "债务",
    "专项",
    "转移支付",
    "国库",
    "采购",
    "招标",
    "合同",
    "验收",
    "结算",
    "拨付",
    "报账",
    "票据",
    "档案",
];

fn words(seed: usize, n: usize) -> String {
    let mut x = (seed as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = String::new();
    for i in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.push_str(WORDS[(x >> 33) as usize % WORDS.len()]);
        out.push_str(if i % 6 == 5 { "。" } else { "，" });
    }
    out
}

fn article_html(k: usize, j: usize) -> String {
    let seed = k * 100 + j;
    let (p1, p2, p3) = (words(seed * 3, 36), words(seed * 3 + 1, 36), words(seed * 3 + 2, 36));
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>上犹县财政补贴发放情况{k}-{j}_上犹新闻网</title></head>
<body><div class="nav"><a href="/">首页</a> | <a href="/news/">新闻</a></div>
<div class="main"><h1>上犹县财政补贴发放情况{k}-{j}</h1>
<div class="info">发布时间：2026-11-2{j} 10:0{k}　来源：上犹新闻网</div>
<div class="content">
<p>上犹县财政局近日通报：{p1}</p>
<p>{p2}</p>
<p>{p3}</p>
</div></div></body></html>"#
    )
}

fn feed_xml(base: &str, k: usize) -> String {
    let items: String = (0..ARTICLES)
        .map(|j| {
            format!(
                "<item><title>上犹县财政补贴发放情况{k}-{j}</title><link>{base}/a/{k}/{j}.html</link>\
                 <pubDate>Mon, 2{j} Nov 2026 02:0{k}:00 GMT</pubDate></item>"
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed {k}</title>
<link>{base}/</link><description>d</description>{items}</channel></rss>"#
    )
}

async fn handle(State(site): State<Site>, UrlPath(path): UrlPath<String>) -> Response {
    let path = format!("/{path}");
    let t = site.start.elapsed().as_secs_f64();
    if let Ok(mut s) = site.seen.lock() {
        s.gets.push((path.clone(), t));
    }
    let base = site.base.lock().map(|b| b.clone()).unwrap_or_default();
    if path == "/robots.txt" {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    if let Some(k) = path.strip_prefix("/feed/").and_then(|p| p.strip_suffix(".xml")).and_then(|k| k.parse().ok()) {
        return ([(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")], feed_xml(&base, k)).into_response();
    }
    let parts: Vec<&str> = path.trim_start_matches("/a/").trim_end_matches(".html").split('/').collect();
    if let [k, j] = parts.as_slice() {
        if let (Ok(k), Ok(j)) = (k.parse(), j.parse()) {
            return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], article_html(k, j)).into_response();
        }
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}

async fn hook(State(site): State<Site>, headers: HeaderMap) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if let Ok(mut s) = site.seen.lock() {
        s.hooks.push(key);
    }
    (StatusCode::OK, "ok").into_response()
}

fn start_site() -> (String, Site, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let site = Site { seen: Arc::default(), start: Instant::now(), base: Arc::default() };
    let s2 = site.clone();
    let addr = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().route("/hook", post(hook)).route("/{*path}", get(handle)).with_state(s2);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    });
    let base = format!("http://{addr}");
    if let Ok(mut b) = site.base.lock() {
        *b = base.clone();
    }
    (base, site, rt)
}

fn config(base: &str) -> String {
    let mut c = format!(
        r#"
[org]
name = "上犹县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about-our-monitoring"
allow_private = ["127.0.0.0/8"]
min_host_delay = "100ms"
timeout = "3s"
connect_timeout = "2s"
retries = 0
jitter = 0.0
concurrency = 2
source_lease = "3s"

[[rules]]
name = "上犹财政"
query = '上犹 AND (财政 OR 补贴)'
category = "livelihood"

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{base}/hook"

[[alerts.routes]]
channels = ["hook"]
"#
    );
    for k in 0..FEEDS {
        c.push_str(&format!(
            "\n[[sources]]\nname = \"feed{k}\"\nkind = \"feed\"\nurl = \"{base}/feed/{k}.xml\"\ntier = \"local\"\ninterval = \"{}s\"\n",
            INTERVAL_SECS as u64
        ));
    }
    c
}

struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn three_processes_share_one_database() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let Some(_) = rt.block_on(yuqing_store::testing::postgres_admin_url()) else {
        eprintln!("note: PostgreSQL not available; the multi-process test is skipped");
        return;
    };
    let db = rt.block_on(yuqing_store::testing::PgDatabase::create());
    let (base, site, _site_rt) = start_site();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("yuqing.toml");
    std::fs::write(&cfg, config(&base)).expect("config");

    let spawn = |n: usize| -> Child {
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .arg("--data")
            .arg(dir.path().join(format!("data{n}")))
            .arg("--config")
            .arg(&cfg)
            .arg("--database-url")
            .arg(&db.url)
            .args(["serve", "--no-web"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve")
    };
    let mut procs = Procs((0..3).map(spawn).collect());
    std::thread::sleep(Duration::from_secs(15));
    // Kill one process without warning, mid-run; the others go on.
    let killed_at = site.start.elapsed().as_secs_f64();
    let _ = procs.0[0].kill();
    let _ = procs.0[0].wait();
    // Until every feed is due a second time and has been polled again.
    std::thread::sleep(Duration::from_secs_f64(INTERVAL_SECS + 25.0 - 15.0));
    let stopped_at = site.start.elapsed().as_secs_f64();
    // Alerts the killed process had claimed go out once their claim runs out.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let keys: BTreeSet<String> = site.seen.lock().map(|s| s.hooks.iter().cloned().collect()).unwrap_or_default();
        if keys.len() >= FEEDS * ARTICLES || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(procs);

    let seen = site.seen.lock().map(|s| (s.gets.clone(), s.hooks.clone())).expect("log");
    let (gets, hooks) = seen;
    // Each article page fetched exactly once, by whichever process polled its feed.
    let mut per_path: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (p, t) in &gets {
        per_path.entry(p.clone()).or_default().push(*t);
    }
    for k in 0..FEEDS {
        for j in 0..ARTICLES {
            let p = format!("/a/{k}/{j}.html");
            assert_eq!(per_path.get(&p).map_or(0, Vec::len), 1, "{p} fetched once: {per_path:?}");
        }
    }
    // Each feed polled once per interval (no two processes in one interval), and again
    // after the kill: the killed process's sources were taken over.
    for k in 0..FEEDS {
        let times: Vec<f64> = per_path
            .get(&format!("/feed/{k}.xml"))
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| *t < stopped_at)
            .collect();
        assert!(times.len() >= 2, "feed {k} polled {times:?}");
        for w in times.windows(2) {
            assert!(w[1] - w[0] >= INTERVAL_SECS - 0.5, "feed {k} polled twice within an interval: {times:?}");
        }
        assert!(
            times.iter().any(|t| *t > killed_at + 3.0),
            "feed {k} was not polled after the kill at {killed_at:.1}s: {times:?}"
        );
        let max_polls = ((stopped_at / INTERVAL_SECS).floor() as usize) + 1;
        assert!(times.len() <= max_polls, "feed {k} polled {} times in {stopped_at:.1}s", times.len());
    }
    // Each item stored once, and each alert received (at least once, one key per item).
    let o = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg("--data")
        .arg(dir.path().join("data-read"))
        .arg("--config")
        .arg(&cfg)
        .arg("--database-url")
        .arg(&db.url)
        .args(["search", "--json", "--limit", "100"])
        .output()
        .expect("search");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = String::from_utf8_lossy(&o.stdout).lines().count();
    assert_eq!(lines, FEEDS * ARTICLES, "items stored once each");
    let keys: BTreeSet<&String> = hooks.iter().collect();
    assert_eq!(keys.len(), FEEDS * ARTICLES, "one alert key per item: {hooks:?}");
    assert!(keys.iter().all(|k| k.starts_with("item-")), "{keys:?}");
    drop(db);
}
