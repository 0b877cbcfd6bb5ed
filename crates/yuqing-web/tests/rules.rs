//! The rules page (/rules): office and admins only; the watch rules and category sets in
//! effect with their items of the last 7 days; "try a text" judges a pasted text with the
//! configured judge; hostile rule names, queries and texts stay text. On SQLite, or
//! PostgreSQL with `YUQING_TEST_BACKEND=postgres`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::Utc;
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::NewItem;
use yuqing_web::{app, AppState, Metrics};

const CONFIG: &str = r#"
[org]
name = "测试县财政局"

[collect]
user_agent_contact = "https://example.org/about"

[[sources]]
name = "县融媒体中心"
kind = "page"
url = "https://local.example.org/"
tier = "local"

[[rules]]
name = "上犹财政"
query = '上犹 AND (财政 OR 补贴)'
category = "livelihood"
priority = "critical"

[[rules]]
name = "规则<b>粗</b>"
query = '"<script>alert(1)</script>" OR 冒领'

[[rules]]
name = "停用的规则"
query = '停用'
enabled = false

[categories.rumour]
mode = "replace"
queries = ['"<img src=x onerror=alert(2)>"', '网传']

[categories.policy]
enabled = false
"#;

fn item(url: &str, rules: &[&str], categories: &[Category]) -> NewItem {
    let now = Utc::now();
    NewItem {
        source: "县融媒体中心".into(),
        tier: Tier::Local,
        url: url.into(),
        canonical_url: url.into(),
        title: format!("上犹县财政补贴 {url}"),
        published_at: None,
        fetched_at: now,
        content: format!("正文 {url}"),
        encoding: "utf-8".into(),
        tone: Tone::Neutral,
        tone_score: 0.0,
        categories: categories.to_vec(),
        matched_rules: rules.iter().map(|r| r.to_string()).collect(),
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        simhash: yuqing_text::simhash::simhash(url),
        raw: None,
        alert_channels: vec![],
    }
}

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    /// Session cookies of a member, an office user and an admin.
    member: String,
    office: String,
    admin: String,
}

async fn fixture() -> Fixture {
    let (store, guard) = yuqing_store::testing::fresh_default().await.into_parts();
    let mut cookies = Vec::new();
    for (name, role) in [("li", Role::Member), ("wang", Role::Office), ("root", Role::Admin)] {
        store.upsert_user(name, role, "correct horse battery").await.unwrap();
        let user = store.user_by_name(name).await.unwrap().unwrap();
        let (session, _csrf) = store.create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
        cookies.push(format!("yuqing_session={session}"));
    }
    let config = Config::parse(CONFIG, "test", &yuqing_judge::check_query).unwrap();
    store.sync_sources(&config.sources).await.unwrap();
    store.ingest(item("https://local.example.org/1", &["上犹财政"], &[Category::Livelihood])).await.unwrap();
    store
        .ingest(item(
            "https://local.example.org/2",
            &["上犹财政", "规则<b>粗</b>"],
            &[Category::Livelihood, Category::Rumour],
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
    let [member, office, admin] = <[String; 3]>::try_from(cookies).unwrap();
    Fixture { _guard: guard, state, member, office, admin }
}

async fn page(f: &Fixture, cookie: &str, uri: &str) -> (StatusCode, String) {
    let req = Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).replace("&#x2f;", "/"))
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn only_the_office_and_admins_see_the_rules_page() {
    let f = fixture().await;
    let (status, _) = page(&f, &f.member, "/rules").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for cookie in [&f.office, &f.admin] {
        let (status, body) = page(&f, cookie, "/rules").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("监测规则与重点内容类别"));
    }
    // Not logged in: the login page.
    let req = Request::get("/rules").body(Body::empty()).unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    // The sources page links it for them, not for members.
    let (_, body) = page(&f, &f.office, "/sources").await;
    assert!(body.contains("href=\"/rules\""));
    let (_, body) = page(&f, &f.member, "/sources").await;
    assert!(!body.contains("href=\"/rules\""));
}

#[tokio::test]
async fn the_page_lists_rules_and_category_sets_with_counts_escaped() {
    let f = fixture().await;
    let (status, body) = page(&f, &f.admin, "/rules").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Rules: name, query, category, priority, items in 7 days.
    let row = body.split("<tr").find(|r| r.contains("上犹 AND (财政 OR 补贴)")).expect("the rule's row");
    assert!(row.contains("上犹财政") && row.contains("民生问题") && row.contains("紧急"), "{row}");
    assert!(row.contains("<td class=\"num\">2</td>"), "two items matched it: {row}");
    let row = body.split("<tr").find(|r| r.contains("冒领")).expect("the hostile rule's row");
    assert!(row.contains("<td class=\"num\">1</td>"), "{row}");
    assert!(body.contains("停用的规则"), "a disabled rule is listed, marked");
    // Hostile names and queries are text.
    assert!(!body.contains("<b>粗</b>") && body.contains("规则&lt;b&gt;粗&lt;/b&gt;"));
    assert!(!body.contains("<script>alert(1)") && body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("<img src=x") && body.contains("&lt;img src=x onerror=alert(2)&gt;"));
    // Category sets: built-in, replaced, disabled; built-in queries shown.
    let row = body.split("<tr").find(|r| r.contains("rumour")).expect("rumour row");
    assert!(row.contains("已替换内置") && row.contains("网传") && !row.contains("辟谣"), "{row}");
    assert!(row.contains("<td class=\"num\">1</td>"), "{row}");
    let row = body.split("<tr").find(|r| r.contains(">policy<")).expect("policy row");
    assert!(row.contains("已停用"), "{row}");
    let row = body.split("<tr").find(|r| r.contains(">livelihood<")).expect("livelihood row");
    assert!(row.contains("内置") && row.contains("养老金"), "{row}");
    assert!(row.contains("<td class=\"num\">2</td>"), "{row}");
    // English.
    let (_, body) = page(&f, &f.admin, "/rules?lang=en").await;
    assert!(body.contains("Watch rules and categories") && body.contains("critical") && body.contains("replaced"));
}

#[tokio::test]
async fn try_a_text_shows_rules_categories_tone_level_and_the_reason() {
    let f = fixture().await;
    let text = "上犹县财政补贴被冒领<script>alert(3)</script>，网传已立案";
    let (status, body) = page(&f, &f.office, &format!("/rules?text={}&tier=local", q(text))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("研判结果"));
    // Both rules, with their priorities; the rumour set's configured query.
    assert!(body.contains("上犹财政") && body.contains("规则&lt;b&gt;粗&lt;/b&gt;"));
    assert!(body.contains("<code>网传</code>"), "the matching category query is shown");
    // The reason line names the critical rule, and the level follows from it.
    assert!(body.contains("命中紧急优先级规则「上犹财政」"), "{body}");
    assert!(body.contains("本地信源"), "the tier chosen counts");
    assert!(body.contains("badge level major-sensitive") || body.contains("badge level important"), "{body}");
    // The pasted text is echoed as text only.
    assert!(!body.contains("<script>alert(3)"), "a hostile text never becomes markup");
    assert!(body.contains("&lt;script&gt;alert(3)&lt;/script&gt;"));
    // A text no rule matches: not relevant, and still the category queries that match.
    let (_, body) = page(&f, &f.office, &format!("/rules?text={}", q("网传某地停发"))).await;
    assert!(body.contains("未命中任何监测规则") && body.contains("<code>网传</code>"), "{body}");
    assert!(body.contains("未命中监测规则"), "the reason line of an irrelevant item");
}

#[tokio::test]
async fn a_query_being_written_is_tried_against_the_text() {
    let f = fixture().await;
    let text = "上犹县惠农补贴一卡通资金被冒领";
    let (_, body) = page(&f, &f.office, &format!("/rules?text={}&query={}", q(text), q("一卡通 NEAR/3 资金"))).await;
    assert!(body.contains("命中本文") && body.contains("(一卡通 NEAR/3 资金)"), "{body}");
    let (_, body) = page(&f, &f.office, &format!("/rules?text={}&query={}", q(text), q("一卡通 AND NOT 冒领"))).await;
    assert!(body.contains("未命中本文"), "{body}");
    let (_, body) = page(&f, &f.office, &format!("/rules?text={}&query={}", q(text), q("<b>一卡通</b> AND"))).await;
    assert!(body.contains("检索式有误") && body.contains("at character 11"), "{body}");
    assert!(!body.contains("<b>一卡通</b>") && body.contains("&lt;b&gt;一卡通&lt;/b&gt;"));
}
