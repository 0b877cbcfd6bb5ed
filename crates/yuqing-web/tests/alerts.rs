//! Acknowledging alerts and the learning library, through the app (on the test backend):
//! the signed link's page changes nothing on a GET, asks for the login, refuses a wrong
//! token and a missing CSRF token, and records who confirmed it; the `/alerts` list has
//! the same button; members may not acknowledge. The library finds closed cases by text,
//! category, level and outcome, as a page and through the API.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::Utc;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_cases::{Action, Actor, Path};
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{ack_token, IngestOutcome, NewItem, OpenAlert};
use yuqing_web::{app, AppState, Metrics};

const CONFIG: &str = r#"
[org]
name = "测试县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about"
"#;

const ROLES: [(Role, &str); 3] = [(Role::Member, "xiaoli"), (Role::Office, "zhang"), (Role::Leader, "wangju")];

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    tokens: Vec<String>,
    ids: Vec<i64>,
}

impl Fixture {
    fn token(&self, role: Role) -> &str {
        &self.tokens[ROLES.iter().position(|(r, _)| *r == role).unwrap()]
    }
}

fn item(n: u64, title: &str, level: Level, category: Category) -> NewItem {
    let content = format!("{title}。测试县部分群众反映，今年的惠农补贴至今未发放到一卡通，多次到财政所询问没有答复。");
    NewItem {
        source: "县政府网".into(),
        tier: Tier::Local,
        url: format!("https://gov.example.org/{n}.html"),
        canonical_url: format!("https://gov.example.org/{n}.html"),
        title: title.into(),
        published_at: None,
        fetched_at: Utc::now(),
        content,
        encoding: "utf-8".into(),
        tone: Tone::Negative,
        tone_score: -0.7,
        categories: vec![category],
        matched_rules: vec![],
        level,
        level_reason: "负面；本地信源".into(),
        simhash: n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        raw: None,
        alert_channels: vec!["hook".into()],
    }
}

async fn fixture() -> Fixture {
    let (store, guard) = yuqing_store::testing::fresh_default().await.into_parts();
    let mut tokens = vec![];
    for (role, name) in ROLES {
        store.upsert_user(name, role, "correct horse battery").await.unwrap();
        tokens.push(store.create_token(name).await.unwrap());
    }
    let config = Config::parse(CONFIG, "test", &|_| Ok(())).unwrap();
    let mut ids = vec![];
    for (n, (title, level, cat)) in [
        ("测试县惠农补贴未发放 群众反映", Level::Important, Category::Livelihood),
        ("网传测试县财政局停发津贴", Level::MajorSensitive, Category::Rumour),
    ]
    .into_iter()
    .enumerate()
    {
        match store.ingest(item(n as u64 + 1, title, level, cat)).await.unwrap() {
            IngestOutcome::New { id } => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    // Both alerts went out (as the sender would record it).
    for row in store.due_alerts(Utc::now() + chrono::Duration::seconds(1), 10).await.unwrap() {
        let open = OpenAlert {
            level: Level::Important,
            sensitive: false,
            alerted: vec!["zhang".into()],
            next_check_at: Some(Utc::now() + chrono::Duration::minutes(30)),
        };
        store.mark_alert_sent_opening(&row, Utc::now(), &open).await.unwrap();
    }
    store.flush().await.unwrap();
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::default()),
        started_at: Utc::now(),
    };
    Fixture { _guard: guard, state, tokens, ids }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn send(f: &Fixture, req: Request<Body>) -> Answer {
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20).await.unwrap().to_vec();
    let body = String::from_utf8_lossy(&bytes).replace("&#x2f;", "/");
    Answer { status, headers, body }
}

async fn session(f: &Fixture, role: Role) -> (String, String) {
    let name = ROLES.iter().find(|(r, _)| *r == role).unwrap().1;
    let user = f.state.store.user_by_name(name).await.unwrap().unwrap();
    let (token, csrf) = f.state.store.create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
    (format!("yuqing_session={token}"), csrf)
}

async fn page(f: &Fixture, uri: &str, cookie: &str) -> Answer {
    send(f, Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await
}

async fn form(f: &Fixture, uri: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        body.append_pair(k, v);
    }
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .header(header::HOST, "desk.example.org")
        .body(Body::from(body.finish()))
        .unwrap();
    send(f, req).await
}

async fn api_get(f: &Fixture, role: Role, uri: &str) -> Answer {
    let req = Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {}", f.token(role))).body(Body::empty());
    send(f, req.unwrap()).await
}

#[tokio::test]
async fn the_acknowledgement_link_confirms_on_a_page_with_csrf_and_records_who() {
    let f = fixture().await;
    let key = format!("item-{}", f.ids[0]);
    let secret = f.state.store.ack_secret().await.unwrap();
    let link = format!("/alerts/ack/{key}?t={}", ack_token(&secret, &key));

    // Without a session (a link preview): the login, and nothing recorded.
    let a = page(&f, &link, "").await;
    assert!(a.status.is_redirection(), "{}", a.status);
    assert!(a.location().starts_with("/login?next=%2Falerts%2Fack%2Fitem-"), "{}", a.location());

    let (office, csrf) = session(&f, Role::Office).await;
    // A wrong token, or another alert's token: not found.
    let wrong = format!("/alerts/ack/{key}?t={}", ack_token(&secret, "item-999"));
    assert_eq!(page(&f, &wrong, &office).await.status, StatusCode::NOT_FOUND);
    assert_eq!(page(&f, &format!("/alerts/ack/{key}"), &office).await.status, StatusCode::NOT_FOUND);

    // The page: the alert and a confirm form; the GET changed nothing.
    let a = page(&f, &link, &office).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("测试县惠农补贴未发放 群众反映"), "{}", a.body);
    assert!(a.body.contains(&format!("action=\"/alerts/ack/{key}\"")) && a.body.contains("id=\"ack-button\""));
    assert!(a.body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
    let stored = f.state.store.alert_by_key(&key).await.unwrap().unwrap();
    assert!(stored.acked_at.is_none(), "a GET must not acknowledge");

    // The POST needs the session's CSRF token.
    let token = ack_token(&secret, &key);
    let a = form(&f, &format!("/alerts/ack/{key}"), &office, &[("t", &token)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = form(&f, &format!("/alerts/ack/{key}"), &office, &[("csrf", "0".repeat(64).as_str()), ("t", &token)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(f.state.store.alert_by_key(&key).await.unwrap().unwrap().acked_at.is_none());

    // A member sees the alert but may not acknowledge it.
    let (member, member_csrf) = session(&f, Role::Member).await;
    let a = page(&f, &link, &member).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("id=\"ack-button\"") && a.body.contains("id=\"ack-state\""), "{}", a.body);
    let a = form(&f, &format!("/alerts/ack/{key}"), &member, &[("csrf", &member_csrf), ("t", &token)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let a = form(&f, &format!("/alerts/ack/{key}"), &office, &[("csrf", &csrf), ("t", &token)]).await;
    assert!(a.status.is_redirection(), "{} {}", a.status, a.body);
    assert_eq!(a.location(), format!("/alerts?acked={key}"));
    let stored = f.state.store.alert_by_key(&key).await.unwrap().unwrap();
    assert_eq!((stored.acked_by.as_deref(), stored.acked_via.as_deref()), (Some("zhang"), Some("link")));
    assert!(stored.acked_at.is_some() && stored.next_check_at.is_none());
    // The page now says who confirmed it.
    let a = page(&f, &link, &office).await;
    assert!(a.body.contains("id=\"ack-state\"") && a.body.contains("zhang"), "{}", a.body);

    // The list: the other alert has the button; pressing it records "ui".
    let (leader, leader_csrf) = session(&f, Role::Leader).await;
    let list = page(&f, "/alerts", &leader).await;
    assert_eq!(list.status, StatusCode::OK);
    let other = format!("item-{}", f.ids[1]);
    assert!(list.body.contains(&format!("data-key=\"{other}\"")) && list.body.contains("网传测试县财政局停发津贴"));
    assert!(list.body.contains(&format!("action=\"/alerts/ack/{other}\"")), "{}", list.body);
    let a = form(&f, &format!("/alerts/ack/{other}"), &leader, &[("csrf", &leader_csrf)]).await;
    assert!(a.status.is_redirection(), "{}", a.status);
    let stored = f.state.store.alert_by_key(&other).await.unwrap().unwrap();
    assert_eq!((stored.acked_by.as_deref(), stored.acked_via.as_deref()), (Some("wangju"), Some("ui")));
    let done = page(&f, &format!("/alerts?acked={other}"), &leader).await;
    assert!(done.body.contains("id=\"ack-done\""));
    assert!(page(&f, "/alerts?unacknowledged=true", &leader).await.body.contains("暂无预警"));

    // The API lists them, each with who acknowledged it.
    let a = api_get(&f, Role::Member, "/api/v1/alerts").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    let by: Vec<&str> = v["alerts"].as_array().unwrap().iter().filter_map(|a| a["acked_by"].as_str()).collect();
    assert_eq!(by.len(), 2, "{v}");
    assert!(by.contains(&"zhang") && by.contains(&"wangju"));
}

#[tokio::test]
async fn the_library_finds_closed_cases_by_text_category_level_and_outcome() {
    let f = fixture().await;
    let store = &f.state.store;
    let office = store.user_by_name("zhang").await.unwrap().unwrap();
    let zhang = Actor::user(office.id, "zhang", Role::Office);
    let now = Utc::now();
    // The first item: answered by policy. The second is reported by the system
    // (major-sensitive) and dismissed.
    let c1 = store.report_item(f.ids[0], &zhang, "请核实", now).await.unwrap().case.id;
    let steps = [
        Action::Assess { level: Level::Important, path: Path::Policy, note: String::new() },
        Action::Respond {
            channel: "县政府网站“政民互动”".into(),
            text: "经核实，补贴已于11月25日补发到位。".into(),
            url: None,
            note: String::new(),
        },
        Action::ReportBack { note: "已向县网宣办报告".into() },
    ];
    for a in &steps {
        store.case_action(c1, &zhang, a, now).await.unwrap();
    }
    let c2 = store.cases(&Default::default(), now, 10).await.unwrap().iter().find(|c| c.id != c1).unwrap().id;
    store.case_action(c2, &zhang, &Action::Dismiss { note: "系旧闻，已辟谣".into() }, now).await.unwrap();

    // The case page shows its item's alert, with the button for the office.
    let (office_cookie, office_csrf) = session(&f, Role::Office).await;
    let key = format!("item-{}", f.ids[0]);
    let a = page(&f, &format!("/cases/{c1}"), &office_cookie).await;
    assert!(a.body.contains(&format!("data-alert=\"{key}\"")), "{}", a.body);
    assert!(a.body.contains(&format!("action=\"/alerts/ack/{key}\"")));
    let a = form(&f, &format!("/alerts/ack/{key}"), &office_cookie, &[("csrf", &office_csrf)]).await;
    assert!(a.status.is_redirection());
    let a = page(&f, &format!("/cases/{c1}"), &office_cookie).await;
    assert!(a.body.contains("已确认：zhang") && !a.body.contains(&format!("action=\"/alerts/ack/{key}\"")));

    let (cookie, _) = session(&f, Role::Member).await;
    let a = page(&f, "/library?q=补发", &cookie).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains(&format!("data-case=\"{c1}\"")) && !a.body.contains(&format!("data-case=\"{c2}\"")));
    assert!(a.body.contains("政民互动") && a.body.contains("依政策答复"), "{}", a.body);
    let a = page(&f, "/library?outcome=dismissed", &cookie).await;
    assert!(a.body.contains(&format!("data-case=\"{c2}\"")) && !a.body.contains(&format!("data-case=\"{c1}\"")));
    assert!(a.body.contains("系旧闻，已辟谣"));
    let a = page(&f, "/library?category=rumour&level=important", &cookie).await;
    assert!(a.body.contains("没有符合条件的已办结处置单"), "{}", a.body);
    let a = page(&f, "/cases", &cookie).await;
    assert!(a.body.contains("href=\"/library\""));

    let a = api_get(&f, Role::Member, "/api/v1/library?category=livelihood").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["cases"][0]["id"], c1);
    assert_eq!(v["cases"][0]["outcome"], "answered");
    assert_eq!(v["cases"][0]["steps"].as_array().map(Vec::len), Some(4));
    let a = api_get(&f, Role::Member, "/api/v1/library?outcome=maybe").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("outcome"));
}
