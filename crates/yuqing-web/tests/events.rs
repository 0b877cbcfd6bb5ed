//! The event page and API: an original, its repost and a follow-up make one event, shown
//! with its timeline chart, sources per tier and items; hostile titles stay text, also
//! inside the SVG. On SQLite, or PostgreSQL with `YUQING_TEST_BACKEND=postgres`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{IngestOutcome, NewItem};
use yuqing_web::{app, AppState, Metrics};

const CONFIG: &str = r#"
[org]
name = "测试县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about"

[[sources]]
name = "县融媒体中心"
kind = "page"
url = "https://local.example.org/"
tier = "local"
interval = "10m"

[[sources]]
name = "门户<转载>"
kind = "page"
url = "https://portal.example.org/"
tier = "portal"
interval = "10m"
"#;

const ORIGINAL: &str =
    "11月21日，上犹县财政局通过惠民惠农财政补贴资金一卡通系统，向全县农户发放2026年耕地地力保护补贴，\
共涉及农户三万余户，发放资金四千余万元。据了解，今年的补贴资金在10月底前已全部下达到各乡镇财政所，经过村级公示、\
乡镇审核、县级复核等环节后统一发放，确保资金安全、精准到户。";
const FOLLOW_UP: &str = "有网民在留言板反映，上犹县营前镇部分农户的耕地地力保护补贴迟迟未到一卡通。上犹县财政局回应，\
经核查，营前镇部分农户因银行账户信息变更未及时更新，导致耕地地力保护补贴发放失败，财政所正在逐户补发。";
const HOSTILE_TITLE: &str = "上犹县发放耕地地力保护补贴<script>alert(1)</script>\"'&";

fn item(url: &str, source: &str, tier: Tier, title: &str, body: &str, published: &str) -> NewItem {
    let at = DateTime::parse_from_rfc3339(published).unwrap();
    NewItem {
        source: source.into(),
        tier,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: Some(at),
        fetched_at: at.with_timezone(&Utc),
        content: body.into(),
        encoding: "utf-8".into(),
        tone: Tone::Neutral,
        tone_score: 0.0,
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        simhash: yuqing_text::simhash::simhash(body),
        raw: None,
        alert_channels: vec![],
    }
}

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    token: String,
    cookie: String,
    /// The original, its repost, the follow-up, an item alone in its event.
    ids: [i64; 4],
}

async fn fixture() -> Fixture {
    let (store, guard) = yuqing_store::testing::fresh_default().await.into_parts();
    store.upsert_user("li", Role::Member, "correct horse battery").await.unwrap();
    let token = store.create_token("li").await.unwrap();
    let user = store.user_by_name("li").await.unwrap().unwrap();
    let (session, _csrf) = store.create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
    let config = Config::parse(CONFIG, "test", &|_| Ok(())).unwrap();
    store.sync_sources(&config.sources).await.unwrap();
    let id = |o: IngestOutcome| match o {
        IngestOutcome::New { id } | IngestOutcome::Duplicate { id, .. } | IngestOutcome::Known { id } => id,
    };
    let a = store
        .ingest(item(
            "https://local.example.org/1",
            "县融媒体中心",
            Tier::Local,
            HOSTILE_TITLE,
            ORIGINAL,
            "2026-11-21T10:05:00+08:00",
        ))
        .await
        .unwrap();
    let r = store
        .ingest(item(
            "https://portal.example.org/2",
            "门户<转载>",
            Tier::Portal,
            "转载：上犹补贴发放",
            &format!("（转载）{ORIGINAL}"),
            "2026-11-21T13:40:00+08:00",
        ))
        .await
        .unwrap();
    assert!(matches!(r, IngestOutcome::Duplicate { .. }), "{r:?}");
    let f = store
        .ingest(item(
            "https://local.example.org/3",
            "县融媒体中心",
            Tier::Local,
            "上犹县营前镇耕地地力保护补贴未到账 财政局回应",
            FOLLOW_UP,
            "2026-11-21T14:30:00+08:00",
        ))
        .await
        .unwrap();
    let alone = store
        .ingest(item(
            "https://local.example.org/4",
            "县融媒体中心",
            Tier::Local,
            "崇义县阳岭水库出现渗漏险情",
            "崇义县水利局通报，受连日强降雨影响，阳岭水库出现渗漏险情，下游两个村的群众已连夜安全转移，抢险队伍正在加固大坝。",
            "2026-11-21T11:00:00+08:00",
        ))
        .await
        .unwrap();
    store.flush().await.unwrap();
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::default()),
        started_at: Utc::now(),
    };
    Fixture {
        _guard: guard,
        state,
        token,
        cookie: format!("yuqing_session={session}"),
        ids: [id(a), id(r), id(f), id(alone)],
    }
}

async fn send(f: &Fixture, req: Request<Body>) -> (StatusCode, String) {
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).replace("&#x2f;", "/"))
}

async fn page(f: &Fixture, uri: &str) -> (StatusCode, String) {
    send(f, Request::get(uri).header(header::COOKIE, &f.cookie).body(Body::empty()).unwrap()).await
}

async fn api(f: &Fixture, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(f, req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn the_item_page_links_its_event_and_the_event_page_shows_the_story() {
    let f = fixture().await;
    let [a, r, fu, alone] = f.ids;
    let (status, body) = page(&f, &format!("/items/{r}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("href=\"/events/{a}\"")), "the repost links its event");
    // An item alone in its event links nothing.
    let (_, body) = page(&f, &format!("/items/{alone}")).await;
    assert!(!body.contains("/events/"), "a lone item has no event link");

    let (status, body) = page(&f, &format!("/events/{a}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in [a, r, fu] {
        assert!(body.contains(&format!("href=\"/items/{id}\"")), "item {id} is listed");
    }
    assert!(!body.contains(&format!("href=\"/items/{alone}\"")), "another story is not listed");
    assert!(body.contains("<svg class=\"chart\""), "a timeline chart");
    // 10:05, 13:40 and 14:30 local: hours 10 to 14, two of them empty.
    assert_eq!(body.matches("<rect class=\"bar\"").count(), 5, "one bar per hour, gaps included");
    assert!(body.contains("2026-11-21 10:00"), "the first hour is labelled in the office's zone");
    assert!(body.contains("转载") && body.contains("后续报道") && body.contains("首发"), "why each item joined");
    // Sources per tier and the sources themselves; collected names and titles stay text.
    assert!(body.contains("本地 1") && body.contains("商业门户 1"), "sources per tier");
    assert!(body.contains("门户&lt;转载&gt;"), "a source name is escaped");
    assert!(!body.contains("<script>alert(1)"), "a hostile title never becomes markup");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the title is shown as text");
    assert!(!body.contains("style="), "no inline styles (the CSP forbids them)");
}

#[tokio::test]
async fn the_event_api_answers_with_the_event() {
    let f = fixture().await;
    let [a, r, fu, _] = f.ids;
    let (status, body) = api(&f, &format!("/api/v1/events/{a}"), Some(&f.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["id"], a);
    assert_eq!(v["first_item_id"], a);
    assert_eq!(v["first_source"], "县融媒体中心");
    assert_eq!(v["items"], 3);
    assert_eq!(v["title"], HOSTILE_TITLE);
    let listed: Vec<(i64, &str)> = v["item_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, vec![(a, "new"), (r, "repost"), (fu, "follow-up")]);
    let tiers: Vec<(&str, i64)> = v["sources_per_tier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tier"].as_str().unwrap(), t["sources"].as_i64().unwrap()))
        .collect();
    assert_eq!(tiers, vec![("local", 1), ("portal", 1)]);
    let hours: i64 = v["timeline"].as_array().unwrap().iter().map(|h| h["items"].as_i64().unwrap()).sum();
    assert_eq!(hours, 3);

    assert_eq!(api(&f, &format!("/api/v1/events/{a}"), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api(&f, "/api/v1/events/999999", Some(&f.token)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api(&f, "/api/v1/events/abc", Some(&f.token)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&f, "/events/0").await.0, StatusCode::NOT_FOUND);
    // Without a session the page sends the browser to the login.
    let (status, _) = send(&f, Request::get(format!("/events/{a}")).body(Body::empty()).unwrap()).await;
    assert!(status.is_redirection(), "{status}");
}
