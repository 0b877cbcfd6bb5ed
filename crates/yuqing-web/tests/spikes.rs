//! The spikes page and API: a spike found in the store's hourly counts is listed with the
//! day before it as a small bar chart, in Chinese or English; a hostile rule name stays
//! text, also inside the SVG. On SQLite, or PostgreSQL with `YUQING_TEST_BACKEND=postgres`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::spikes::{hour_of, SpikeConfig};
use yuqing_store::{NewItem, SpikePlan};
use yuqing_web::{app, AppState, Metrics};

const HOSTILE_RULE: &str = "财政<script>alert(1)</script>";

fn item(n: usize, at: DateTime<Utc>) -> NewItem {
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
        matched_rules: vec![HOSTILE_RULE.into()],
        level: Level::Ordinary,
        level_reason: "一般".into(),
        simhash: yuqing_text::simhash::simhash(&body),
        raw: None,
        alert_channels: vec![],
    }
}

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    token: String,
    cookie: String,
    spike_hour: DateTime<Utc>,
}

async fn fixture() -> Fixture {
    let (store, guard) = yuqing_store::testing::fresh_default().await.into_parts();
    store.upsert_user("li", Role::Member, "correct horse battery").await.unwrap();
    let token = store.create_token("li").await.unwrap();
    let user = store.user_by_name("li").await.unwrap().unwrap();
    let (session, _csrf) = store.create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
    let config = Config::parse("[org]\nname = \"测试县财政局\"\n", "test", &|_| Ok(())).unwrap();
    // Thirty quiet hours (one item each, two in every third hour), then twelve in one hour.
    let start = hour_of(Utc::now()) - TimeDelta::hours(40);
    let mut n = 0;
    for k in 0..30 {
        for _ in 0..(1 + usize::from(k % 3 == 0)) {
            store.ingest(item(n, start + TimeDelta::hours(k) + TimeDelta::minutes(n as i64 % 50))).await.unwrap();
            n += 1;
        }
    }
    let spike_hour = start + TimeDelta::hours(30);
    for k in 0..12 {
        store.ingest(item(n, spike_hour + TimeDelta::minutes(k))).await.unwrap();
        n += 1;
    }
    let cfg = SpikeConfig { baseline_hours: 24 * 7, k: 3.0, min_count: 5, cooldown_hours: 6, min_history_hours: 24 };
    let recorded = store
        .check_spikes(spike_hour + TimeDelta::minutes(70), &cfg, |f| SpikePlan {
            title: format!("“{}”新增 {} 条", f.key, f.count),
            channels: vec![],
        })
        .await
        .unwrap();
    assert_eq!(recorded.len(), 2, "the rule's spike and the category's");
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::default()),
        started_at: Utc::now(),
    };
    Fixture { _guard: guard, state, token, cookie: format!("yuqing_session={session}"), spike_hour }
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
async fn the_spikes_page_lists_spikes_with_the_day_before() {
    let f = fixture().await;
    let (status, body) = page(&f, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("href=\"/spikes\""), "the stream links the spikes");

    let (status, body) = page(&f, "/spikes").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<h1>突增</h1>"));
    assert_eq!(body.matches("<tr id=\"spike-").count(), 2, "two spikes");
    assert!(body.contains("民生问题"), "the category's spike, by its Chinese name");
    // The category's spike links the stream of that category and day.
    let day = f.spike_hour.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    assert!(body.contains(&format!("href=\"/?category=livelihood&amp;since={day}\"")), "{body}");
    // 25 bars per spike: the 24 hours before and the spike's, the last marked.
    assert_eq!(body.matches("<rect class=\"bar").count(), 50);
    assert_eq!(body.matches("<rect class=\"bar spike-bar\"").count(), 2);
    let label = f.spike_hour.with_timezone(&chrono_tz::Asia::Shanghai).format("%m-%d %H:00").to_string();
    assert!(body.contains(&format!("<title>{label}: 12</title>")), "the spike's bar carries its count");
    // The rule's name is collected text's kin (configured by people, shown everywhere): text only.
    assert!(!body.contains("<script>alert(1)"), "a hostile name never becomes markup");
    assert!(body.contains("财政&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("style="), "no inline styles (the CSP forbids them)");

    let (status, body) = page(&f, "/spikes?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Spikes</h1>") && body.contains("livelihood"), "English");
    // Spikes older than `since` are not listed.
    let later = (f.spike_hour + TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, body) = page(&f, &format!("/spikes?since={later}")).await;
    assert_eq!(body.matches("<tr id=\"spike-").count(), 0);
    assert_eq!(page(&f, "/spikes?limit=0").await.0, StatusCode::BAD_REQUEST);
    // Without a session the page sends the browser to the login.
    let (status, _) = send(&f, Request::get("/spikes").body(Body::empty()).unwrap()).await;
    assert!(status.is_redirection(), "{status}");
}

#[tokio::test]
async fn the_spikes_api_answers_with_counts() {
    let f = fixture().await;
    let (status, body) = api(&f, "/api/v1/spikes", Some(&f.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let spikes = v["spikes"].as_array().unwrap();
    assert_eq!(spikes.len(), 2);
    let rule = spikes.iter().find(|s| s["scope"] == "rule").expect("the rule's spike");
    assert_eq!(rule["key"], HOSTILE_RULE);
    assert_eq!(rule["count"], 12);
    assert_eq!(rule["partial"], false);
    assert_eq!(rule["hour"], f.spike_hour.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let hours = rule["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 25);
    assert_eq!(hours[24]["count"], 12);
    // The day before: one item an hour, two in every third hour.
    let before: Vec<i64> = hours[..24].iter().map(|h| h["count"].as_i64().unwrap()).collect();
    assert!(before.iter().all(|c| *c == 1 || *c == 2), "{before:?}");
    assert_eq!(before.iter().sum::<i64>(), 32);

    let (status, body) = api(&f, "/api/v1/spikes?limit=1", Some(&f.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["spikes"].as_array().unwrap().len(), 1);
    assert_eq!(api(&f, "/api/v1/spikes?since=yesterday", Some(&f.token)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api(&f, "/api/v1/spikes", None).await.0, StatusCode::UNAUTHORIZED);
}
