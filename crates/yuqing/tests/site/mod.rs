//! A test site on 127.0.0.1 (port 0): feeds, list pages and articles in UTF-8 and GBK,
//! plus hostile pages. It records every request so tests can assert what was fetched.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let state = log.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            addr_tx.send(listener.local_addr().expect("addr")).expect("send addr");
            let app = Router::new().route("/hook", post(hook)).route("/{*path}", get(handle)).with_state(state);
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
    });
    let addr = addr_rx.recv().expect("site address");
    Site { addr, log, _shutdown: tx }
}
