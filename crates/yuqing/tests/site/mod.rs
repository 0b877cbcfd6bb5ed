//! A test site on 127.0.0.1 (port 0): feeds, list pages and articles in UTF-8 and GBK,
//! plus hostile pages. It records every request so tests can assert what was fetched.
//!
//! Beside it, [`Extra`]: a feed with one negative article (`/neg/rss.xml`), generated
//! feeds of distinct negative articles (`/live/{n}/rss.xml`) that note when each page
//! was served, and an alert receiver (`POST /receiver`) that records each request with
//! its arrival time and can hold requests unanswered, like a receiver that hangs.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each request's path and User-Agent.
type Requests = Vec<(String, Option<String>)>;

#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Requests>>);

impl Log {
    pub fn paths(&self) -> Vec<String> {
        self.0.lock().map(|v| v.iter().map(|(p, _)| p.clone()).collect()).unwrap_or_default()
    }
    pub fn count(&self, path: &str) -> usize {
        self.paths().iter().filter(|p| *p == path).count()
    }
    pub fn user_agents(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|v| v.iter().filter(|(p, _)| !p.starts_with("POST ")).filter_map(|(_, ua)| ua.clone()).collect())
            .unwrap_or_default()
    }
    /// The alerts the webhook received: "KEY TITLE" each.
    pub fn hooks(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|v| v.iter().filter(|(p, _)| p == "POST /hook").filter_map(|(_, k)| k.clone()).collect())
            .unwrap_or_default()
    }
}

pub struct Site {
    pub addr: SocketAddr,
    pub log: Log,
    pub extra: Extra,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Site {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

pub fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

const FILLER: &str = "上犹县财政局相关负责人表示，将严格按照政策规定，把各项资金及时足额发放到群众手中，\
同时畅通咨询渠道，群众可拨打服务热线了解补贴标准和发放进度。财政所工作人员还深入各村组开展政策宣传，\
确保每一位符合条件的群众都能享受到政策红利。";

fn article(title: &str, site: &str, time: &str, body: &[&str]) -> String {
    let paragraphs: String = body.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_{site}</title></head>
<body>
<div class="nav"><a href="/">首页</a> | <a href="/news/">新闻中心</a> | <a href="/gov/">政务公开</a> | <a href="/service/">办事服务</a></div>
<div class="main">
<h1>{title}</h1>
<div class="info">发布时间：{time}　来源：{site}　<a href="javascript:print()">打印本页</a></div>
<div class="content">
{paragraphs}
</div>
<div class="share">分享到：微信 微博</div>
</div>
<div class="related"><h3>相关新闻</h3><ul>
<li><a href="/news/old1.html">县委召开全体会议部署下半年工作</a> 2025-03-01</li>
<li><a href="/news/old2.html">我县举办农民丰收节庆祝活动</a> 2025-09-23</li>
</ul></div>
<div class="footer">Copyright © 2008-2026 {site} 版权所有 赣ICP备00000000号</div>
</body></html>"#
    )
}

fn gbk_article(title: &str, site: &str, time: &str, body: &[&str]) -> Vec<u8> {
    gbk(&article(title, site, time, body).replace(
        r#"<meta charset="utf-8">"#,
        r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#,
    ))
}

pub const A1_TITLE: &str = "上犹县财政局发放2026年惠农补贴";
pub const A2_TITLE: &str = "上犹县财政局回应网民关于一卡通补贴发放的留言";
pub const REPOST_TITLE: &str = "转载：上犹惠农补贴资金发放到位";
pub const IRRELEVANT_TITLE: &str = "赣州市举办2026年城市马拉松比赛";
pub const SECRET_TITLE: &str = "上犹县财政局内部资料";

const A1_BODY: [&str; 4] = [
    "11月21日，上犹县财政局通过惠民惠农财政补贴资金“一卡通”系统，向全县农户发放2026年耕地地力保护补贴，共涉及农户三万余户，发放资金四千余万元。",
    "据了解，今年的补贴资金在10月底前已全部下达到各乡镇财政所，经过村级公示、乡镇审核、县级复核等环节后统一发放，确保资金安全、精准到户。",
    FILLER,
    "下一步，上犹县财政局将继续加强对惠农补贴资金的监督检查，严肃查处截留、挪用、冒领等违规行为。",
];

fn a1() -> String {
    article(A1_TITLE, "上犹新闻网", "2026-11-21 14:05", &A1_BODY)
}

fn repost() -> Vec<u8> {
    // A repost elsewhere: a new headline, an added lead, the last paragraph cut, GBK.
    let mut body = vec!["（本网讯）记者从上犹县获悉："];
    body.extend_from_slice(&A1_BODY[..3]);
    gbk_article(REPOST_TITLE, "赣南资讯网", "2026年11月21日 16:30", &body)
}

fn a2() -> Vec<u8> {
    gbk_article(
        A2_TITLE,
        "赣南资讯网",
        "2026年11月22日 09:30",
        &[
            "近日，有网民在留言板反映，上犹县某乡镇部分群众的一卡通补贴迟迟未到账。上犹县财政局高度重视，第一时间组织人员核实情况。",
            "经核查，该乡镇部分农户因银行账户信息变更未及时更新，导致补贴发放失败。县财政局已会同乡镇财政所逐户联系，目前相关补贴已全部补发到位。",
            FILLER,
            "上犹县财政局提醒广大群众，如银行账户信息发生变化，请及时到所在乡镇财政所办理变更手续。",
        ],
    )
}

fn irrelevant() -> String {
    article(
        IRRELEVANT_TITLE,
        "赣南资讯网",
        "2026-11-20 08:00",
        &[
            "11月20日，2026赣州马拉松在赣州市章贡区鸣枪开跑，来自全国各地的两万名跑友参加了比赛。",
            "本次比赛设全程马拉松、半程马拉松和欢乐跑三个项目，赛道途经多个城市地标，展示了赣州的城市风貌。",
            "赛事组委会表示，将总结办赛经验，进一步提升赛事服务水平，把赛事打造成为城市名片。",
        ],
    )
}

fn rss(base: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>上犹新闻网</title><link>{base}/</link><description>测试</description>
<item><title>{A1_TITLE}</title><link>{base}/news/a1.html?utm_source=rss&amp;utm_medium=feed</link><pubDate>Sat, 21 Nov 2026 14:05:00 +0800</pubDate></item>
<item><title>{IRRELEVANT_TITLE}</title><link>{base}/news/marathon.html</link><pubDate>Fri, 20 Nov 2026 08:00:00 +0800</pubDate></item>
<item><title>{SECRET_TITLE}</title><link>{base}/private/secret.html</link><pubDate>Fri, 20 Nov 2026 09:00:00 +0800</pubDate></item>
</channel></rss>"#
    )
}

fn gbk_list() -> Vec<u8> {
    gbk(&format!(
        r#"<html><head><meta charset="gbk"><title>新闻列表_赣南资讯网</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/gbk/">资讯</a><a href="/about.html">关于我们</a></div>
<ul class="list">
<li><a href="/gbk/202611/t20261122_1001.html">{A2_TITLE}</a><span>2026-11-22</span></li>
<li><a href="/gbk/202611/t20261121_1000.html">{REPOST_TITLE}</a><span>2026-11-21</span></li>
<li><a href="/gbk/202611/t20261121_0999.html">县里召开会议研究部署冬季森林防火工作</a><span>2026-11-21</span></li>
</ul>
<div class="footer">版权所有 赣南资讯网</div></body></html>"#
    ))
}

fn hostile_list() -> String {
    r#"<html><head><meta charset="utf-8"><title>专题</title></head><body><ul class="list">
<li><a href="/hostile/huge-page-over-the-cap.html">一个超过大小上限的页面标题很长</a></li>
<li><a href="/hostile/stalling-server-page.html">一个迟迟不返回内容的页面标题</a></li>
<li><a href="/hostile/redirect-loop-page.html">一个无限重定向的页面标题很长</a></li>
<li><a href="/hostile/redirect-to-forbidden.html">一个重定向到禁止地址的页面标题</a></li>
<li><a href="/hostile/broken-markup-page.html">一个标记残缺的页面标题很长很长</a></li>
</ul></body></html>"#
        .to_string()
}

async fn handle(State(log): State<Log>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/{path}");
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Ok(mut l) = log.0.lock() {
        l.push((path.clone(), ua));
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_string();
    let base = format!("http://{host}");
    let html = |b: Vec<u8>| ok("text/html", b);
    match path.as_str() {
        "/robots.txt" => ok("text/plain", b"User-agent: *\nDisallow: /private/\n".to_vec()),
        "/rss.xml" => ok("application/rss+xml", rss(&base).into_bytes()),
        "/bad.xml" => ok("application/rss+xml", b"<rss><channel><item><title>broken".to_vec()),
        "/news/a1.html" => html(a1().into_bytes()),
        "/news/marathon.html" => html(irrelevant().into_bytes()),
        "/private/secret.html" => html(article(SECRET_TITLE, "x", "2026-11-20", &A1_BODY).into_bytes()),
        // The GBK site labels its pages only in <meta>, as many old sites do.
        "/gbk/list.html" => ok("text/html", gbk_list()),
        "/gbk/202611/t20261122_1001.html" => ok("text/html", a2()),
        "/gbk/202611/t20261121_1000.html" => ok("text/html", repost()),
        "/gbk/202611/t20261121_0999.html" => ok(
            "text/html",
            gbk(&article(
                "县里召开会议研究部署冬季森林防火工作",
                "赣南资讯网",
                "2026-11-21",
                &["会议要求各地加强巡查，严防森林火灾发生。"; 3],
            )),
        ),
        "/hostile/list.html" => html(hostile_list().into_bytes()),
        "/hostile/huge-page-over-the-cap.html" => html(vec![b'a'; 3 * 1024 * 1024]),
        "/hostile/stalling-server-page.html" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            html(b"late".to_vec())
        }
        "/hostile/redirect-loop-page.html" => redirect("/hostile/redirect-loop-page2.html"),
        "/hostile/redirect-loop-page2.html" => redirect("/hostile/redirect-loop-page.html"),
        // ::1 is loopback but outside the allowed 127.0.0.0/8: the collector must refuse it.
        "/hostile/redirect-to-forbidden.html" => redirect("http://[::1]:9/secret"),
        "/hostile/broken-markup-page.html" => html(
            format!("<html><body><div><div><p>标记残缺的页面 {}<div><span><b>未闭合", "<div>".repeat(5000))
                .into_bytes(),
        ),
        _ => Response::builder().status(StatusCode::NOT_FOUND).body(Body::from("not found")).unwrap_or_default(),
    }
}

/// An alert webhook: records `POST /hook` with the alert's idempotency key.
async fn hook(State(log): State<Log>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let title = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["title"].as_str().map(str::to_string))
        .unwrap_or_default();
    if let Ok(mut l) = log.0.lock() {
        l.push(("POST /hook".into(), Some(format!("{key} {title}"))));
    }
    Response::builder().status(StatusCode::OK).body(Body::from("{}")).unwrap_or_default()
}

fn ok(ct: &str, body: Vec<u8>) -> Response {
    Response::builder().header(header::CONTENT_TYPE, ct).body(Body::from(body)).unwrap_or_default()
}

fn redirect(to: &str) -> Response {
    Response::builder().status(StatusCode::FOUND).header(header::LOCATION, to).body(Body::empty()).unwrap_or_default()
}

/// Starts the site on its own thread and runtime; it stops when `Site` is dropped.
pub fn start() -> Site {
    let log = Log::default();
    let extra = Extra::default();
    let extra_state = extra.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let state = log.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            addr_tx.send(listener.local_addr().expect("addr")).expect("send addr");
            let extra_routes = Router::new()
                .route("/receiver", post(receiver))
                .route("/neg/rss.xml", get(neg_feed))
                .route("/neg/a3.html", get(neg_article))
                .route("/live/{n}/rss.xml", get(live_feed))
                .route("/live/{n}/{page}", get(live_article))
                .with_state(extra_state);
            let app = Router::new()
                .route("/hook", post(hook))
                .route("/{*path}", get(handle))
                .with_state(state)
                .merge(extra_routes);
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
    });
    let addr = addr_rx.recv().expect("site address");
    Site { addr, log, extra, _shutdown: tx }
}

// ---- Extra: a negative article, generated feeds, an alert receiver ---------------------

/// One request to `POST /receiver`.
#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    /// The `Idempotency-Key` header: the alert's key.
    pub key: String,
    pub body: serde_json::Value,
    /// Held: recorded, never answered (the sender cannot know it arrived).
    pub held: bool,
}

#[derive(Clone, Default)]
pub struct Extra {
    hits: Arc<Mutex<Vec<Hit>>>,
    hold: Arc<AtomicUsize>,
    served: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Extra {
    /// The next `n` requests to the receiver are recorded and then held unanswered.
    pub fn hold_next(&self, n: usize) {
        self.hold.store(n, Ordering::SeqCst);
    }
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }
    /// When a page of `/neg/` or `/live/` was first served (its path).
    pub fn served(&self, path: &str) -> Option<Instant> {
        self.served.lock().ok().and_then(|s| s.get(path).copied())
    }
    fn note_served(&self, path: String) {
        if let Ok(mut s) = self.served.lock() {
            s.entry(path).or_insert_with(Instant::now);
        }
    }
}

pub const NEG_TITLE: &str = "上犹县多名群众反映惠农补贴长期被拖欠，投诉无门";

fn neg() -> String {
    article(
        NEG_TITLE,
        "上犹论坛",
        "2026-11-28 20:15",
        &[
            "近日，上犹县社溪镇多名群众在网上发帖反映，去年的耕地地力保护补贴至今仍未发放到位，群众多次到镇财政所询问，工作人员态度冷漠、互相推诿。",
            "有村民表示，补贴资金被拖欠已经一年多，拨打县财政局服务热线无人接听，到镇里反映也没有结果，投诉无门，大家对此非常不满，质疑补贴资金被截留挪用。",
            "帖子发出后迅速引发网友围观，不少网友跟帖称自己所在乡镇也存在类似问题，要求有关部门尽快查明原因、严肃追责，给群众一个说法。",
            "截至发稿时，相关部门尚未作出回应，群众的愤怒情绪仍在发酵。",
        ],
    )
}

async fn neg_feed(headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>上犹论坛</title><link>http://{host}/</link><description>测试</description>
<item><title>{NEG_TITLE}</title><link>http://{host}/neg/a3.html</link><pubDate>Sat, 28 Nov 2026 20:15:00 +0800</pubDate></item>
</channel></rss>"#
    );
    ok("application/rss+xml", body.into_bytes())
}

async fn neg_article(State(x): State<Extra>) -> Response {
    x.note_served("/neg/a3.html".into());
    ok("text/html", neg().into_bytes())
}

const PLACES: [&str; 14] = [
    "东山镇",
    "陡水镇",
    "社溪镇",
    "营前镇",
    "梅水乡",
    "油石乡",
    "安和乡",
    "寺下镇",
    "双溪乡",
    "水岩乡",
    "平富乡",
    "紫阳乡",
    "五指峰乡",
    "黄埠镇",
];
const SUBSIDIES: [&str; 10] = [
    "惠农补贴",
    "低保金",
    "危房改造补助",
    "城乡居民养老保险补贴",
    "耕地地力保护补贴",
    "生态公益林补偿",
    "营养餐补助",
    "残疾人两项补贴",
    "退耕还林补助",
    "农机购置补贴",
];
/// Sentences of a complaint; `{p}` a place, `{s}` a subsidy, `{n}` a number, `{m}` a month.
const SENTENCES: [&str; 24] = [
    "{p}村民反映，{s}已经拖欠{n}个月，多次询问财政所都没有结果。",
    "有网友发帖称，{p}部分农户的{s}被无故扣减，金额少了{n}百元。",
    "群众质疑{s}发放名单不公开，{p}有干部亲属冒领。",
    "{p}一位老人说，自己符合条件却领不到{s}，跑了{n}趟县财政局也没人管。",
    "帖子称{p}财政所工作人员态度恶劣，群众咨询{s}时被当场呵斥。",
    "据网友爆料，{p}今年{m}月应发的{s}至今未到账，涉及农户{n}十余户。",
    "多名群众表示对{s}的审核程序极为不满，认为{p}办事拖拉、推诿扯皮。",
    "有人在留言板投诉，{p}的{s}一卡通被他人挪用，钱款去向不明。",
    "网友指出，{p}{s}公示期间提出的异议{n}周内无人答复。",
    "{p}有村民反映，领取{s}需要层层盖章，来回奔波{n}次仍被拒之门外。",
    "群众怀疑{p}的{s}资金被截留，要求县财政局彻查。",
    "评论区有网友跟帖，称自己所在的{p}也遇到{s}迟迟不发的问题。",
    "一名自称{p}村民的网友说，去年{m}月起就再没收到过{s}。",
    "有群众称，{p}在发放{s}时索要好处费，每户{n}十元。",
    "网帖反映{p}的{s}标准忽高忽低，群众搞不清楚政策，怨声载道。",
    "{p}多户贫困家庭的{s}被取消，理由一直没有说明。",
    "有网民称拨打{s}咨询电话{n}次都无人接听，对{p}的服务非常失望。",
    "群众反映{p}将{s}与缴纳其他费用捆绑，不缴费就不发放。",
    "网友质问，{p}{s}的账目为何迟迟不向群众公开。",
    "有村民担心{p}的{s}被挪作他用，已向上级部门实名举报。",
    "该帖在{n}小时内被转发数百次，网友纷纷指责{p}相关部门失职。",
    "据反映，{p}部分群众的{s}被错发到已去世人员名下。",
    "多位网友要求上犹县财政局就{p}{s}问题尽快公开回应。",
    "有群众表示，{p}的{s}问题已经反映了{n}年，始终没有解决。",
];

/// A small deterministic generator (xorshift): each article differs in its sentences,
/// places, subsidies and numbers, so none is a near-duplicate of another.
fn live_text(i: usize) -> (String, Vec<String>) {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let place = PLACES[i % PLACES.len()];
    let subsidy = SUBSIDIES[(i / PLACES.len() + i) % SUBSIDIES.len()];
    let title = format!("上犹县{place}群众反映{subsidy}问题（{i}）");
    let mut order: Vec<usize> = (0..SENTENCES.len()).collect();
    for k in (1..order.len()).rev() {
        order.swap(k, (next() % (k as u64 + 1)) as usize);
    }
    let paragraphs = order[..7]
        .iter()
        .map(|&k| {
            let p = PLACES[(next() % PLACES.len() as u64) as usize];
            let s = SUBSIDIES[(next() % SUBSIDIES.len() as u64) as usize];
            SENTENCES[k]
                .replace("{p}", if next() % 2 == 0 { place } else { p })
                .replace("{s}", if next() % 2 == 0 { subsidy } else { s })
                .replace("{n}", &(2 + next() % 8).to_string())
                .replace("{m}", &(1 + next() % 12).to_string())
        })
        .collect();
    (title, paragraphs)
}

/// The title of `/live/{n}/{i}.html`.
pub fn live_title(i: usize) -> String {
    live_text(i).0
}

async fn live_feed(Path(n): Path<usize>, headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let items: String = (0..n.min(1000))
        .map(|i| {
            format!(
                "<item><title>{}</title><link>http://{host}/live/{n}/{i}.html</link><pubDate>Sat, 28 Nov 2026 20:15:00 +0800</pubDate></item>\n",
                live_title(i)
            )
        })
        .collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>上犹网友留言</title><link>http://{host}/</link><description>测试</description>
{items}</channel></rss>"#
    );
    ok("application/rss+xml", body.into_bytes())
}

async fn live_article(State(x): State<Extra>, Path((n, page)): Path<(usize, String)>) -> Response {
    let Some(i) = page.strip_suffix(".html").and_then(|p| p.parse::<usize>().ok()).filter(|i| *i < n) else {
        return Response::builder().status(StatusCode::NOT_FOUND).body(Body::from("not found")).unwrap_or_default();
    };
    let (title, paragraphs) = live_text(i);
    let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    let body = article(&title, "上犹网友留言", "2026-11-28 20:15", &refs);
    x.note_served(format!("/live/{n}/{page}"));
    ok("text/html", body.into_bytes())
}

/// The alert receiver: records each request, holds it unanswered while `hold` lasts.
async fn receiver(State(x): State<Extra>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let at = Instant::now();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let held = x.hold.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |h| h.checked_sub(1)).is_ok();
    if let Ok(mut h) = x.hits.lock() {
        h.push(Hit { at, key, body, held });
    }
    if held {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    Response::builder().status(StatusCode::OK).body(Body::from("{}")).unwrap_or_default()
}
