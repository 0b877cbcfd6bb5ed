//! The web app end to end: a fresh store in a temporary folder, a few items, and
//! requests sent to `app(state)` with `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::NewItem;
use yuqing_web::{app, AppState, Metrics};

const PASSWORD: &str = "correct horse battery";

const CONFIG: &str = r#"
[org]
name = "测试县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about"

[[sources]]
name = "县政府网"
kind = "page"
url = "https://gov.example.org/list.html"
tier = "local"
interval = "10m"
weight = 1.0

[[sources]]
name = "人民网-财经"
kind = "feed"
url = "https://people.example.org/finance.xml"
tier = "central"
interval = "30m"
weight = 0.9

[[sources]]
name = "新浪新闻"
kind = "page"
url = "https://sina.example.org/"
tier = "portal"
interval = "1h30m"
weight = 0.8
"#;

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    token: String,
    /// Ids of: the negative local item, the positive central one, the repost of the
    /// first, the item with a `javascript:` URL.
    ids: [i64; 4],
}

fn time(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn item(
    source: &str,
    tier: Tier,
    url: &str,
    title: &str,
    published: &str,
    content: &str,
    tone: Tone,
    level: Level,
    categories: Vec<Category>,
    simhash: u64,
) -> NewItem {
    NewItem {
        source: source.into(),
        tier,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: Some(time(published)),
        fetched_at: time(published).with_timezone(&Utc) + chrono::Duration::minutes(5),
        content: content.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: match tone {
            Tone::Negative => -0.8,
            Tone::Positive => 0.7,
            Tone::Neutral => 0.0,
        },
        categories,
        matched_rules: vec!["上犹惠民补贴".into()],
        level,
        level_reason: "本地信源，负面，涉及民生".into(),
        simhash,
        raw: None,
        alert_channels: vec![],
    }
}

async fn fixture() -> Fixture {
    let (store, guard) = yuqing_store::testing::fresh_default().await.into_parts();
    store.upsert_user("zhang", Role::Office, PASSWORD).await.unwrap();
    let token = store.create_token("zhang").await.unwrap();
    let config = Config::parse(CONFIG, "test", &|_| Ok(())).unwrap();
    store.sync_sources(&config.sources).await.unwrap();
    store.record_health("新浪新闻", Utc::now(), Err("HTTP 503 from sina.example.org".into())).await.unwrap();
    store.record_health("县政府网", Utc::now(), Ok(())).await.unwrap();

    let long = "上犹县部分群众反映，今年的惠农补贴至今未发放到一卡通，多次到财政所询问没有答复。\n<script>alert(1)</script>\n希望有关部门尽快核实。";
    let a = store
        .ingest(item(
            "县政府网",
            Tier::Local,
            "https://gov.example.org/a.html",
            "上犹县惠农补贴未发放 群众反映",
            "2026-11-20T10:00:00+08:00",
            long,
            Tone::Negative,
            Level::Important,
            vec![Category::Livelihood, Category::ServiceComplaint],
            0x0000_0000_0000_0001,
        ))
        .await
        .unwrap();
    let b = store
        .ingest(item(
            "人民网-财经",
            Tier::Central,
            "https://people.example.org/b.html",
            "上犹县财政预算公开获好评",
            "2026-11-21T09:00:00+08:00",
            "上犹县财政局在门户网站公开了年度预算和决算，群众评价积极，认为财政资金使用更加透明。",
            Tone::Positive,
            Level::Ordinary,
            vec![Category::Policy],
            0xFFFF_FFFF_0000_0000,
        ))
        .await
        .unwrap();
    let c = store
        .ingest(item(
            "新浪新闻",
            Tier::Portal,
            "https://sina.example.org/c.html",
            "转载：上犹县惠农补贴未发放",
            "2026-11-22T08:30:00+08:00",
            long,
            Tone::Negative,
            Level::Important,
            vec![Category::Livelihood],
            0x0000_0000_0000_0003,
        ))
        .await
        .unwrap();
    let d = store
        .ingest(item(
            "县政府网",
            Tier::Local,
            "javascript:alert(2)",
            "一条地址可疑的信息",
            "2026-11-01T08:00:00+08:00",
            "短文",
            Tone::Neutral,
            Level::Ordinary,
            vec![],
            0x0F0F_0F0F_F0F0_F0F0,
        ))
        .await
        .unwrap();
    store.flush().await.unwrap();
    let id = |o: yuqing_store::IngestOutcome| match o {
        yuqing_store::IngestOutcome::New { id }
        | yuqing_store::IngestOutcome::Duplicate { id, .. }
        | yuqing_store::IngestOutcome::Known { id } => id,
    };
    assert!(
        matches!(c, yuqing_store::IngestOutcome::Duplicate { of, .. } if of == id(a)),
        "the repost should be stored as a duplicate: {c:?}"
    );
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::default()),
        started_at: Utc::now(),
    };
    Fixture { _guard: guard, state, token, ids: [id(a), id(b), id(c), id(d)] }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    /// The body, with minijinja's escaped `/` (`&#x2f;`) read back as `/` so that
    /// assertions can spell links plainly; every other escape is kept.
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect()
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies().into_iter().find(|c| c.starts_with(&format!("{name}=")))
    }

    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).map(|v| v.to_str().unwrap()).unwrap_or("")
    }
}

async fn send(f: &Fixture, req: Request<Body>) -> Answer {
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20).await.unwrap();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).replace("&#x2f;", "/") }
}

async fn get(f: &Fixture, uri: &str) -> Answer {
    send(f, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn api(f: &Fixture, uri: &str) -> Answer {
    let req =
        Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {}", f.token)).body(Body::empty()).unwrap();
    send(f, req).await
}

/// A logged-in browser: (cookie header value, CSRF token of the session).
async fn login_session(f: &Fixture) -> (String, String) {
    let user = f.state.store.user_by_name("zhang").await.unwrap().unwrap();
    let (token, csrf) = f.state.store.create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
    (format!("yuqing_session={token}"), csrf)
}

async fn page(f: &Fixture, uri: &str, cookie: &str) -> Answer {
    let req = Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    send(f, req).await
}

fn ids_of(v: &serde_json::Value) -> Vec<i64> {
    v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

fn form_post(uri: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .header(header::HOST, "desk.example.org")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---- health and metrics -------------------------------------------------------------

#[tokio::test]
async fn healthz_answers_ok() {
    let f = fixture().await;
    let a = get(&f, "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "ok");
}

#[tokio::test]
async fn metrics_show_counters_and_store_counts() {
    let f = fixture().await;
    f.state.metrics.pages_fetched.fetch_add(7, std::sync::atomic::Ordering::Relaxed);
    get(&f, "/healthz").await;
    let a = get(&f, "/metrics").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    for line in [
        "# TYPE yuqing_pages_fetched_total counter",
        "yuqing_pages_fetched_total 7",
        "yuqing_http_requests_total 2",
        "yuqing_items 4",
        "yuqing_items_duplicates 1",
        "yuqing_sources 3",
        "yuqing_sources_failing 1",
        "# TYPE yuqing_uptime_seconds gauge",
    ] {
        assert!(a.body.lines().any(|l| l == line), "missing `{line}` in:\n{}", a.body);
    }
}

// ---- API ----------------------------------------------------------------------------

#[tokio::test]
async fn api_needs_a_valid_bearer_token() {
    let f = fixture().await;
    let a = get(&f, "/api/v1/items").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(a.json()["error"].as_str().unwrap().contains("Authorization"));

    let req = Request::get("/api/v1/items")
        .header(header::AUTHORIZATION, "Bearer yq_not_a_token")
        .body(Body::empty())
        .unwrap();
    let a = send(&f, req).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.json()["error"].is_string());

    // A browser session is not an API credential (keeps CSRF out of the API).
    let (cookie, _) = login_session(&f).await;
    let a = page(&f, "/api/v1/items", &cookie).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    let a = api(&f, "/api/v1/items").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["total"], 4);
    let [x, y, z, w] = f.ids;
    // Newest first.
    assert_eq!(ids_of(&v), vec![z, y, x, w]);
    let first = &v["items"][0];
    for key in ["id", "url", "title", "published_at", "source", "tier", "tone", "categories", "level", "duplicate_of"] {
        assert!(first.get(key).is_some(), "search object lacks {key}");
    }
    assert_eq!(first["duplicate_of"], x);
    assert_eq!(first["tier"], "portal");
}

#[tokio::test]
async fn api_filters() {
    let f = fixture().await;
    let [a, b, c, d] = f.ids;
    let cases: &[(&str, Vec<i64>)] = &[
        ("tone=negative", vec![c, a]),
        ("tier=central", vec![b]),
        ("level=important", vec![c, a]),
        ("category=policy", vec![b]),
        (&format!("source={}", enc("县政府网")), vec![a, d]),
        ("since=2026-11-21", vec![c, b]),
        ("until=2026-11-21", vec![b, a, d]),
        ("since=2026-11-20&until=2026-11-20", vec![a]),
        ("since=2026-11-21T09:00:00%2B08:00&until=2026-11-22T00:00:00Z", vec![b]),
        ("limit=2", vec![c, b]),
        ("limit=2&offset=2", vec![a, d]),
        ("tone=&tier=&q=", vec![c, b, a, d]),
    ];
    for (query, want) in cases {
        let v = api(&f, &format!("/api/v1/items?{query}")).await.json();
        assert_eq!(&ids_of(&v), want, "{query}");
    }
    let v = api(&f, "/api/v1/items?limit=1").await.json();
    assert_eq!(v["total"], 4, "total counts every match, not the page");
}

#[tokio::test]
async fn api_full_text_search() {
    let f = fixture().await;
    let [a, b, c, _] = f.ids;
    let v = api(&f, &format!("/api/v1/items?q={}", enc("惠农补贴"))).await.json();
    assert_eq!(ids_of(&v), vec![c, a]);
    assert_eq!(v["total"], 2);
    let v = api(&f, &format!("/api/v1/items?q={}&tier=portal", enc("补贴"))).await.json();
    assert_eq!(ids_of(&v), vec![c]);
    let v = api(&f, &format!("/api/v1/items?q={}", enc("预算"))).await.json();
    assert_eq!(ids_of(&v), vec![b]);
}

#[tokio::test]
async fn api_rejects_bad_parameters_by_name() {
    let f = fixture().await;
    for (query, name) in [
        ("since=last-week", "since"),
        ("until=2026-02-30", "until"),
        ("tone=angry", "tone"),
        ("limit=lots", "limit"),
        ("offset=-3", "offset"),
    ] {
        let a = api(&f, &format!("/api/v1/items?{query}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        let msg = a.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains(&format!("`{name}`")), "{query}: {msg}");
    }
}

#[tokio::test]
async fn api_item_and_missing_item() {
    let f = fixture().await;
    let [a, _, c, _] = f.ids;
    let v = api(&f, &format!("/api/v1/items/{a}")).await.json();
    assert_eq!(v["id"], a);
    assert!(v["content"].as_str().unwrap().contains("惠农补贴"));
    assert_eq!(v["duplicates"][0]["id"], c);

    for missing in ["/api/v1/items/99999", "/api/v1/items/abc"] {
        let r = api(&f, missing).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(r.json()["error"].is_string());
    }
    let r = api(&f, "/api/v1/no-such-thing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].is_string());
}

#[tokio::test]
async fn api_sources_with_health() {
    let f = fixture().await;
    let v = api(&f, "/api/v1/sources").await.json();
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3);
    let sina = sources.iter().find(|s| s["name"] == "新浪新闻").unwrap();
    assert_eq!(sina["failures_in_row"], 1);
    assert!(sina["last_error"].as_str().unwrap().contains("503"));
    let gov = sources.iter().find(|s| s["name"] == "县政府网").unwrap();
    assert_eq!(gov["items"], 2);
    assert!(gov["last_success_at"].is_string());
}

#[tokio::test]
async fn openapi_parses_and_every_documented_route_answers() {
    let f = fixture().await;
    let a = get(&f, "/api/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for p in ["/api/v1/items", "/api/v1/items/{id}", "/api/v1/sources"] {
        assert!(paths.iter().any(|q| *q == p), "{p} is not documented");
    }
    // The case routes are walked with real cases in tests/cases.rs; here every GET
    // answers, and a POST with an empty body answers as documented.
    for p in paths {
        let uri = p.replace("{id}", &f.ids[0].to_string());
        for method in doc["paths"][p.as_str()].as_object().unwrap().keys() {
            let r = match method.as_str() {
                // Bulletins are walked with real issues in tests/bulletins.rs.
                "get" if p.starts_with("/api/v1/cases/") || p.starts_with("/api/v1/bulletins/") => continue,
                "get" => api(&f, &uri).await,
                "post" => {
                    let req = Request::post(&uri)
                        .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
                        .body(Body::from("{}"))
                        .unwrap();
                    send(&f, req).await
                }
                "delete" => {
                    let req = Request::delete(&uri)
                        .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
                        .body(Body::empty())
                        .unwrap();
                    send(&f, req).await
                }
                other => panic!("{p}: unexpected method {other}"),
            };
            let answered = r.status.as_u16().to_string();
            assert!(
                doc["paths"][p.as_str()][method.as_str()]["responses"].get(&answered).is_some(),
                "documented {method} {p} answered {answered}, which it does not document"
            );
            if method == "get" {
                assert_eq!(r.status, StatusCode::OK, "documented {p} does not answer");
            }
        }
    }
}

// ---- UI: login, sessions, CSRF ------------------------------------------------------

#[tokio::test]
async fn ui_pages_redirect_to_login_without_a_session() {
    let f = fixture().await;
    for (uri, next) in
        [("/", "%2F"), ("/search?q=x", "%2Fsearch%3Fq%3Dx"), ("/items/1", "%2Fitems%2F1"), ("/sources", "%2Fsources")]
    {
        let a = get(&f, uri).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(a.location(), format!("/login?next={next}"), "{uri}");
    }
    // A forged or expired cookie is no session either.
    let a = page(&f, "/", &format!("yuqing_session={}", "ab".repeat(32))).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
}

/// GET /login: (cookie header with the login CSRF cookie, the hidden field's token).
async fn login_form(f: &Fixture) -> (String, String) {
    let a = get(f, "/login?next=%2Fsources").await;
    assert_eq!(a.status, StatusCode::OK);
    let set = a.cookie("csrf").expect("login page sets a csrf cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let value = set.trim_start_matches("csrf=").split(';').next().unwrap().to_string();
    assert!(a.body.contains(&format!("name=\"csrf\" value=\"{value}\"")), "the form carries the same token");
    assert!(a.body.contains("name=\"next\" value=\"/sources\""));
    (format!("csrf={value}"), value)
}

#[tokio::test]
async fn login_with_the_right_password_sets_a_strict_session_cookie() {
    let f = fixture().await;
    let (cookie, csrf) = login_form(&f).await;
    let body = format!("username=zhang&password={}&csrf={csrf}&next=%2Fsources", enc(PASSWORD));
    let a = send(&f, form_post("/login", &cookie, &body)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/sources");
    let session = a.cookie("yuqing_session").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(session.contains(flag), "{flag} missing: {session}");
    }
    assert!(!session.contains("Secure"), "secure_cookies is off by default");
    let token = session.trim_start_matches("yuqing_session=").split(';').next().unwrap();
    let a = page(&f, "/sources", &format!("yuqing_session={token}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("zhang"));
}

#[tokio::test]
async fn login_failures_are_generic_and_set_no_session() {
    let f = fixture().await;
    let (cookie, csrf) = login_form(&f).await;
    let mut bodies = vec![];
    for (user, pw) in [("zhang", "wrong password"), ("nobody", PASSWORD)] {
        let started = std::time::Instant::now();
        let body = format!("username={user}&password={}&csrf={csrf}&next=%2F", enc(pw));
        let a = send(&f, form_post("/login", &cookie, &body)).await;
        assert!(started.elapsed() >= std::time::Duration::from_millis(900), "no delay");
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{user}");
        assert!(a.cookie("yuqing_session").is_none());
        assert!(a.body.contains("用户名或密码错误"), "{}", a.body);
        bodies.push(a.body);
    }
    assert_eq!(bodies[0], bodies[1], "an unknown user looks like a wrong password");
}

#[tokio::test]
async fn login_without_a_valid_csrf_token_is_refused() {
    let f = fixture().await;
    let (cookie, csrf) = login_form(&f).await;
    let pw = enc(PASSWORD);
    for (cookie, body) in [
        (cookie.as_str(), format!("username=zhang&password={pw}")),
        (cookie.as_str(), format!("username=zhang&password={pw}&csrf={}", "0".repeat(64))),
        ("", format!("username=zhang&password={pw}&csrf={csrf}")),
    ] {
        let a = send(&f, form_post("/login", cookie, &body)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{cookie} {body}");
        assert!(a.cookie("yuqing_session").is_none());
    }
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let f = fixture().await;
    let (cookie, csrf) = login_form(&f).await;
    let body = format!("username=zhang&password={}&csrf={csrf}", enc(PASSWORD));
    let mut req = form_post("/login", &cookie, &body);
    req.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(send(&f, req).await.status, StatusCode::FORBIDDEN);

    let mut req = form_post("/login", &cookie, &body);
    req.headers_mut().insert(header::ORIGIN, "http://desk.example.org".parse().unwrap());
    assert_eq!(send(&f, req).await.status, StatusCode::SEE_OTHER, "same origin is fine");
}

#[tokio::test]
async fn login_next_must_be_local() {
    let f = fixture().await;
    let (cookie, csrf) = login_form(&f).await;
    let body = format!("username=zhang&password={}&csrf={csrf}&next={}", enc(PASSWORD), enc("//evil.example/x"));
    let a = send(&f, form_post("/login", &cookie, &body)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/");
}

#[tokio::test]
async fn logout_needs_the_session_csrf_token_and_ends_the_session() {
    let f = fixture().await;
    let (cookie, csrf) = login_session(&f).await;
    let a = send(&f, form_post("/logout", &cookie, "csrf=nope")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(page(&f, "/", &cookie).await.status, StatusCode::OK);

    let a = send(&f, form_post("/logout", &cookie, &format!("csrf={csrf}"))).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/login");
    assert!(a.cookie("yuqing_session").unwrap().contains("Max-Age=0"));
    assert_eq!(page(&f, "/", &cookie).await.status, StatusCode::SEE_OTHER);
}

// ---- UI pages -----------------------------------------------------------------------

#[tokio::test]
async fn stream_lists_items_with_badges_and_the_duplicate_marker() {
    let f = fixture().await;
    let (cookie, csrf) = login_session(&f).await;
    let a = page(&f, "/", &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    let [x, y, _, _] = f.ids;
    for text in [
        "上犹县惠农补贴未发放 群众反映",
        "上犹县财政预算公开获好评",
        "转载：上犹县惠农补贴未发放",
        "测试县财政局",
        "信息流",
        "共 4 条",
        "badge tone negative",
        "badge tone positive",
        "负面",
        "重要",
        "民生问题",
        "本地",
        "2026-11-20 10:00",
        &format!("href=\"/items/{y}\""),
        &format!("class=\"dup\" href=\"/items/{x}\""),
        &format!("name=\"csrf\" value=\"{csrf}\""),
    ] {
        assert!(a.body.contains(text), "stream lacks `{text}`");
    }
    assert!(a.body.contains("网宣办"), "the user's role is shown");

    // Filters and paging.
    let a = page(&f, "/?tone=positive", &cookie).await;
    assert!(a.body.contains("上犹县财政预算公开获好评"));
    assert!(!a.body.contains("群众反映"));
    assert!(a.body.contains("<option value=\"positive\" selected>"));
    let a = page(&f, "/?limit=2", &cookie).await;
    assert!(a.body.contains("href=\"/?limit=2&amp;offset=2\""), "next page link");
    let a = page(&f, "/?limit=2&offset=2", &cookie).await;
    assert!(a.body.contains("href=\"/?limit=2\""), "previous page link");
    let a = page(&f, "/?since=nonsense", &cookie).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("`since`"));
}

#[tokio::test]
async fn search_page_finds_by_words() {
    let f = fixture().await;
    let (cookie, _) = login_session(&f).await;
    let a = page(&f, "/search", &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("群众反映"), "nothing listed before asking");
    let a = page(&f, &format!("/search?q={}", enc("预算")), &cookie).await;
    assert!(a.body.contains("上犹县财政预算公开获好评"));
    assert!(!a.body.contains("群众反映"));
    assert!(a.body.contains("value=\"预算\""));
}

#[tokio::test]
async fn item_page_renders_collected_text_escaped() {
    let f = fixture().await;
    let (cookie, _) = login_session(&f).await;
    let [x, _, z, w] = f.ids;
    let a = page(&f, &format!("/items/{x}"), &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", a.body);
    assert!(!a.body.contains("<script"), "no script element may appear");
    assert!(a.body.contains("<p>希望有关部门尽快核实。</p>"), "paragraphs split on newlines");
    assert!(a.body.contains("rel=\"noopener noreferrer nofollow\""));
    assert!(a.body.contains("href=\"https://gov.example.org/a.html\""));
    assert!(a.body.contains("本地信源，负面，涉及民生"), "level reason");
    assert!(a.body.contains("-0.80"), "tone score");
    assert!(a.body.contains("上犹惠民补贴"), "matched rules");
    assert!(a.body.contains(&format!("href=\"/items/{z}\"")), "duplicates listed");

    // The repost points at the first-seen item.
    let a = page(&f, &format!("/items/{z}"), &cookie).await;
    assert!(a.body.contains(&format!("<a href=\"/items/{x}\">#{x}</a>")));

    // A collected `javascript:` address is shown as text, never linked.
    let a = page(&f, &format!("/items/{w}"), &cookie).await;
    assert!(!a.body.contains("href=\"javascript:"));
    assert!(a.body.contains("javascript:alert(2)"));

    let a = page(&f, "/items/424242", &cookie).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn sources_page_shows_health() {
    let f = fixture().await;
    let (cookie, _) = login_session(&f).await;
    let a = page(&f, "/sources", &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    for text in [
        "新浪新闻",
        "HTTP 503 from sina.example.org",
        "class=\"failing\"",
        "正常 2",
        "异常 1",
        "1h30m",
        "订阅源",
        "从未",
    ] {
        assert!(a.body.contains(text), "sources page lacks `{text}`");
    }
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let f = fixture().await;
    let (cookie, _) = login_session(&f).await;
    let answers = [
        get(&f, "/healthz").await,
        get(&f, "/login").await,
        get(&f, "/").await,
        page(&f, "/", &cookie).await,
        get(&f, "/no/such/page").await,
        get(&f, "/api/v1/items").await,
        get(&f, "/static/app.css").await,
    ];
    for a in answers {
        let h = &a.headers;
        assert_eq!(
            h["content-security-policy"],
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["x-frame-options"], "DENY");
    }
    let css = get(&f, "/static/app.css").await;
    assert!(css.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    assert!(css.body.contains(".badge.tone.negative"));
    // The strict CSP forbids inline styles and scripts: the pages must not need them.
    let a = page(&f, &format!("/items/{}", f.ids[0]), &cookie).await;
    assert!(!a.body.contains("style=") && !a.body.contains("<style") && !a.body.contains("<script"));
}

#[tokio::test]
async fn lang_en_switches_the_ui_strings_and_is_remembered() {
    let f = fixture().await;
    let (cookie, _) = login_session(&f).await;
    let a = page(&f, "/?lang=en", &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.cookie("lang").unwrap().starts_with("lang=en"));
    for text in ["<html lang=\"en\"", ">Stream<", ">Sources<", "Log out", "negative", "4 items", "href=\"/?lang=zh\""] {
        assert!(a.body.contains(text), "English page lacks `{text}`");
    }
    assert!(!a.body.contains("信息流"));

    let a = page(&f, "/sources", &format!("{cookie}; lang=en")).await;
    assert!(a.body.contains("Failures in a row"), "the cookie keeps English");

    let a = page(&f, "/", &cookie).await;
    assert!(a.body.contains("<html lang=\"zh-CN\"") && a.body.contains("信息流"), "Chinese by default");

    let a = get(&f, "/login?lang=en").await;
    assert!(a.body.contains("User name"));
}
