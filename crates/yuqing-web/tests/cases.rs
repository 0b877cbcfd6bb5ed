//! The handling flow (处置单) through the web app: the case API with each role's token,
//! and the case pages with each role's session. A fresh store in a temporary folder,
//! a few items, requests sent to `app(state)` with `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_cases::Actor;
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
name = "县政府网"
kind = "page"
url = "https://gov.example.org/list.html"
tier = "local"
interval = "10m"
weight = 1.0
"#;

const ROLES: [(Role, &str); 4] =
    [(Role::Member, "xiaoli"), (Role::Office, "zhang"), (Role::Leader, "wangju"), (Role::Admin, "root")];

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    /// API tokens by role, in the order of [`ROLES`].
    tokens: Vec<String>,
    /// The negative important item, the ordinary neutral one.
    ids: [i64; 2],
}

impl Fixture {
    fn token(&self, role: Role) -> &str {
        &self.tokens[ROLES.iter().position(|(r, _)| *r == role).unwrap()]
    }
}

fn item(url: &str, title: &str, content: &str, tone: Tone, level: Level, simhash: u64) -> NewItem {
    let published = DateTime::parse_from_rfc3339("2026-11-20T10:00:00+08:00").unwrap();
    NewItem {
        source: "县政府网".into(),
        tier: Tier::Local,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: Some(published),
        fetched_at: published.with_timezone(&Utc),
        content: content.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: if tone == Tone::Negative { -0.8 } else { 0.0 },
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level,
        level_reason: "测试".into(),
        simhash,
        raw: None,
        alert_channels: vec![],
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
    store.sync_sources(&config.sources).await.unwrap();
    let mut ids = [0; 2];
    for (n, it) in [
        item(
            "https://gov.example.org/a.html",
            "上犹县惠农补贴未发放 群众反映",
            "群众反映惠农补贴至今未发放。",
            Tone::Negative,
            Level::Important,
            0x1,
        ),
        item(
            "https://gov.example.org/b.html",
            "上犹县财政局召开工作会议",
            "财政局召开年度工作会议。",
            Tone::Neutral,
            Level::Ordinary,
            0xFFFF_FFFF_0000_0000,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        ids[n] = match store.ingest(it).await.unwrap() {
            IngestOutcome::New { id } => id,
            other => panic!("{other:?}"),
        };
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
    /// With minijinja's escaped `/` read back as `/`.
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
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

async fn api_get(f: &Fixture, role: Role, uri: &str) -> Answer {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.token(role)))
        .body(Body::empty())
        .unwrap();
    send(f, req).await
}

async fn api_post(f: &Fixture, role: Role, uri: &str, body: &str) -> Answer {
    let req = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.token(role)))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(f, req).await
}

async fn act(f: &Fixture, role: Role, case: i64, action: Value) -> Answer {
    api_post(f, role, &format!("/api/v1/cases/{case}/actions"), &action.to_string()).await
}

/// Reports an item by the API and returns the case's id.
async fn report(f: &Fixture, role: Role, item: i64, note: &str) -> i64 {
    let a = api_post(f, role, &format!("/api/v1/items/{item}/report"), &json!({ "note": note }).to_string()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.json()["case"]["id"].as_i64().unwrap()
}

async fn member_actor(f: &Fixture) -> Actor {
    let u = f.state.store.user_by_name("xiaoli").await.unwrap().unwrap();
    Actor::user(u.id, u.name, u.role)
}

fn actions_of(case: &Value) -> Vec<&str> {
    case["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect()
}

// ---- API ----------------------------------------------------------------------------

#[tokio::test]
async fn report_opens_a_case_and_reporting_again_adds_to_it() {
    let f = fixture().await;
    let [a, _] = f.ids;
    let r = api_post(&f, Role::Member, &format!("/api/v1/items/{a}/report"), r#"{"note": "论坛有人转发"}"#).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case = &r.json()["case"];
    assert_eq!(case["state"], "reported");
    assert_eq!(case["level"], "important");
    assert_eq!(case["item_id"], a);
    assert_eq!(case["item"]["title"], "上犹县惠农补贴未发放 群众反映");
    assert!(case["path"].is_null());
    for key in ["opened_at", "assess_due", "answer_due", "overdue", "late"] {
        assert!(case.get(key).is_some(), "the case lacks {key}");
    }
    assert_eq!(case["allowed_actions"], json!(["report"]), "a member may only add reports");
    let steps = case["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["action"], "report");
    assert_eq!(steps[0]["actor"], "xiaoli");
    assert_eq!(steps[0]["note"], "论坛有人转发");
    assert_eq!(steps[0]["to_state"], "reported");
    assert!(steps[0]["from_state"].is_null());
    assert!(steps[0]["at"].is_string());
    let id = case["id"].as_i64().unwrap();

    // Again, by someone else, with an empty body: the same case, one more step.
    let r = api_post(&f, Role::Leader, &format!("/api/v1/items/{a}/report"), "").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case = &r.json()["case"];
    assert_eq!(case["id"], id);
    assert_eq!(actions_of(case), ["report", "report"]);
    assert_eq!(case["steps"][1]["actor"], "wangju");
    assert_eq!(case["steps"][1]["seq"], 2);
    assert_eq!(case["state"], "reported");

    let r = api_post(&f, Role::Office, "/api/v1/items/99999/report", "{}").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].as_str().unwrap().contains("99999"));
    let r = api_post(&f, Role::Office, &format!("/api/v1/items/{a}/report"), r#"{"nope": 1}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn roles_and_states_are_enforced_with_403_and_409() {
    let f = fixture().await;
    let id = report(&f, Role::Member, f.ids[0], "").await;

    let r = act(&f, Role::Member, id, json!({"action": "assess", "level": "important", "path": "policy"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let v = r.json();
    assert!(v["error"].as_str().unwrap().contains("member"), "{v}");
    assert!(v["error_zh"].as_str().unwrap().contains("无权"), "{v}");

    let r = act(&f, Role::Office, id, json!({"action": "report-back", "note": "已报县网宣办"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.json()["error_zh"].as_str().unwrap().contains("已报送"));

    let r = act(&f, Role::Office, id, json!({"action": "decide", "note": "同意"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only leaders decide");
    let r = act(&f, Role::Leader, id, json!({"action": "decide", "note": "同意"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a leader, but the case is not under review");

    // Nothing refused left a step.
    let v = api_get(&f, Role::Office, &format!("/api/v1/cases/{id}")).await.json();
    assert_eq!(actions_of(&v), ["report"]);
    assert_eq!(v["allowed_actions"], json!(["report", "assess", "dismiss"]));
}

#[tokio::test]
async fn bad_bodies_are_400_and_say_what_is_wrong() {
    let f = fixture().await;
    let id = report(&f, Role::Member, f.ids[0], "").await;
    for (body, says) in [
        (r#"{"action": "assess", "level": "important", "path": "policy", "colour": "red"}"#, "colour"),
        (r#"{"action": "approve"}"#, "approve"),
        (r#"{"action": "assess", "level": "huge", "path": "policy"}"#, "huge"),
        (r#"{"note": "no action"}"#, "action"),
        ("not json", "valid action"),
        ("", "empty"),
    ] {
        let r = api_post(&f, Role::Office, &format!("/api/v1/cases/{id}/actions"), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        let msg = r.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains(says), "{body}: {msg}");
    }
    // Fields the flow checks: named, in both languages.
    let r = act(&f, Role::Office, id, json!({"action": "dismiss", "note": "  "})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"].as_str().unwrap().contains("`note`"));
    assert_eq!(r.json()["error_zh"], "说明不能为空");

    let r = act(&f, Role::Office, 424242, json!({"action": "dismiss", "note": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api_get(&f, Role::Office, "/api/v1/cases/424242").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api_get(&f, Role::Office, "/api/v1/cases/abc").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].is_string());
}

#[tokio::test]
async fn policy_path_walks_to_closed_with_five_steps_in_order() {
    let f = fixture().await;
    let id = report(&f, Role::Member, f.ids[0], "看到网上有人反映").await;
    let r = act(
        &f,
        Role::Office,
        id,
        json!({"action": "assess", "level": "major-sensitive", "path": "policy", "note": "有政策依据"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "answering");
    assert_eq!(v["level"], "major-sensitive");
    assert_eq!(v["path"], "policy");
    assert!(v["assessed_at"].is_string());

    let r = act(
        &f,
        Role::Admin,
        id,
        json!({
            "action": "respond",
            "channel": "县政府网站“政民互动”",
            "text": "您反映的补贴已于11月25日发放到户。",
            "url": "https://gov.example.org/hd/1.html",
            "note": "经局长审定"
        }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "admins have the office's rights: {}", r.body);
    assert_eq!(r.json()["state"], "answered");

    // A response link must be a web link.
    let id2 = report(&f, Role::Member, f.ids[1], "").await;
    act(&f, Role::Office, id2, json!({"action": "assess", "level": "ordinary", "path": "policy"})).await;
    let r = act(
        &f,
        Role::Office,
        id2,
        json!({"action": "respond", "channel": "x", "text": "y", "url": "javascript:alert(1)"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"].as_str().unwrap().contains("`url`"));

    let r = act(&f, Role::Office, id, json!({"action": "report-back", "note": "已报县网宣办"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "closed");
    assert!(v["closed_at"].is_string());
    assert_eq!(actions_of(&v), ["report", "assess", "respond", "report-back"]);

    let v = api_get(&f, Role::Member, &format!("/api/v1/cases/{id}")).await.json();
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.iter().map(|s| s["seq"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(
        steps.iter().map(|s| s["actor"].as_str().unwrap()).collect::<Vec<_>>(),
        ["xiaoli", "zhang", "root", "zhang"]
    );
    assert_eq!(steps[1]["fields"], json!({"level": "major-sensitive", "path": "policy"}));
    assert_eq!(steps[2]["fields"]["channel"], "县政府网站“政民互动”");
    assert_eq!(steps[2]["fields"]["url"], "https://gov.example.org/hd/1.html");
    assert_eq!(steps[3]["to_state"], "closed");
    assert_eq!(v["allowed_actions"], json!([]));

    // A closed case takes nothing more, and reporting the item again opens a new case.
    let r = act(&f, Role::Office, id, json!({"action": "dismiss", "note": "x"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let again = report(&f, Role::Member, f.ids[0], "又出现了").await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn full_walk_with_five_steps_including_a_second_report() {
    let f = fixture().await;
    let id = report(&f, Role::Member, f.ids[0], "").await;
    report(&f, Role::Office, f.ids[0], "补充：已有多个网站转载").await;
    act(&f, Role::Office, id, json!({"action": "assess", "level": "important", "path": "policy"})).await;
    act(&f, Role::Office, id, json!({"action": "respond", "channel": "官方微博", "text": "已发放"})).await;
    let v = act(&f, Role::Office, id, json!({"action": "report-back", "note": "已报县网宣办"})).await.json();
    assert_eq!(v["state"], "closed");
    assert_eq!(actions_of(&v), ["report", "report", "assess", "respond", "report-back"]);
    let states: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["to_state"].as_str().unwrap()).collect();
    assert_eq!(states, ["reported", "reported", "answering", "answered", "closed"]);
}

#[tokio::test]
async fn leadership_path_needs_the_leaders_decision() {
    let f = fixture().await;
    let id = report(&f, Role::Member, f.ids[0], "").await;
    let v = act(&f, Role::Office, id, json!({"action": "assess", "level": "major-sensitive", "path": "leadership"}))
        .await
        .json();
    assert_eq!(v["state"], "leadership-review");

    let r = act(&f, Role::Office, id, json!({"action": "respond", "channel": "官网", "text": "答复"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no answer before the decision");
    let r = act(&f, Role::Admin, id, json!({"action": "decide", "note": "同意"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "admins have the office's rights, not the leaders'");
    let r = act(&f, Role::Leader, id, json!({"action": "decide", "note": ""})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a decision must say what it is");

    let r =
        act(&f, Role::Leader, id, json!({"action": "decide", "note": "同意按政策答复，由财政所负责核实发放"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "answering");
    assert_eq!(v["steps"][2]["actor"], "wangju");
    assert_eq!(v["allowed_actions"], json!(["report", "dismiss"]), "for the leader");

    let v = api_get(&f, Role::Office, &format!("/api/v1/cases/{id}")).await.json();
    assert_eq!(v["allowed_actions"], json!(["report", "respond", "dismiss"]));
}

#[tokio::test]
async fn facts_path_and_dismissal_by_a_leader() {
    let f = fixture().await;
    let [a, b] = f.ids;
    let id = report(&f, Role::Member, a, "").await;
    act(&f, Role::Office, id, json!({"action": "assess", "level": "important", "path": "facts"})).await;
    let r = act(&f, Role::Office, id, json!({"action": "establish-facts", "note": "经核实，已于11月25日发放"})).await;
    assert_eq!(r.json()["state"], "answering");

    let id2 = report(&f, Role::Member, b, "").await;
    let r = act(&f, Role::Member, id2, json!({"action": "dismiss", "note": "无关"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = act(&f, Role::Leader, id2, json!({"action": "dismiss", "note": "与本局工作无关"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "closed");
    assert_eq!(v["steps"][1]["action"], "dismiss");
    assert_eq!(v["steps"][1]["actor"], "wangju");
    assert_eq!(v["steps"][1]["note"], "与本局工作无关");
}

#[tokio::test]
async fn the_list_filters_and_puts_overdue_first() {
    let f = fixture().await;
    let [a, b] = f.ids;
    // Reported three hours ago: an important case must be assessed within two.
    let store = &f.state.store;
    let member = member_actor(&f).await;
    let old = store.report_item(a, &member, "", Utc::now() - chrono::Duration::hours(3)).await.unwrap().case.id;
    let new = report(&f, Role::Member, b, "").await;

    let v = api_get(&f, Role::Member, "/api/v1/cases").await.json();
    let ids: Vec<i64> = v["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [old, new], "overdue first, though older");
    assert_eq!(v["cases"][0]["overdue"], "assess");
    assert_eq!(v["cases"][0]["late"], json!(["assess"]));
    assert!(v["cases"][1]["overdue"].is_null());
    assert!(v["cases"][0].get("steps").is_none(), "the list gives summaries");

    act(&f, Role::Office, new, json!({"action": "dismiss", "note": "无需处置"})).await;
    let ids_for =
        |v: Value| -> Vec<i64> { v["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect() };
    for (query, want) in [
        ("state=closed", vec![new]),
        ("state=reported", vec![old]),
        ("level=important", vec![old]),
        ("level=ordinary", vec![new]),
        ("open=true", vec![old]),
        ("state=answering", vec![]),
        ("state=&level=", vec![old, new]),
    ] {
        let v = api_get(&f, Role::Office, &format!("/api/v1/cases?{query}")).await.json();
        assert_eq!(ids_for(v), want, "{query}");
    }
    for (query, name) in [("state=pending", "`state`"), ("level=urgent", "`level`")] {
        let r = api_get(&f, Role::Office, &format!("/api/v1/cases?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(r.json()["error"].as_str().unwrap().contains(name), "{query}");
    }
}

#[tokio::test]
async fn the_case_api_needs_a_token() {
    let f = fixture().await;
    let id = report(&f, Role::Member, f.ids[0], "").await;
    for (method, uri, body) in [
        ("POST", format!("/api/v1/items/{}/report", f.ids[0]), "{}"),
        ("GET", "/api/v1/cases".to_string(), ""),
        ("GET", format!("/api/v1/cases/{id}"), ""),
        ("POST", format!("/api/v1/cases/{id}/actions"), r#"{"action": "dismiss", "note": "x"}"#),
    ] {
        let req = Request::builder().method(method).uri(&uri).body(Body::from(body)).unwrap();
        let r = send(&f, req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        let req = Request::builder()
            .method(method)
            .uri(&uri)
            .header(header::AUTHORIZATION, "Bearer yq_wrong")
            .body(Body::from(body))
            .unwrap();
        assert_eq!(send(&f, req).await.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
    let v = api_get(&f, Role::Office, &format!("/api/v1/cases/{id}")).await.json();
    assert_eq!(actions_of(&v), ["report"], "nothing was done without a token");
}

#[tokio::test]
async fn every_openapi_operation_answers_and_describes_the_flow() {
    let f = fixture().await;
    let r = send(&f, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await;
    let doc = r.json();
    let case = report(&f, Role::Member, f.ids[0], "").await;
    let item = f.ids[0];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        // The duty routes are walked with real shifts and periods in tests/duty.rs.
        if !path.starts_with("/api/v1/items") && !path.starts_with("/api/v1/cases") {
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            let uri = if path.contains("/cases/") {
                path.replace("{id}", &case.to_string())
            } else {
                path.replace("{id}", &item.to_string())
            };
            let r = match method.as_str() {
                "get" => api_get(&f, Role::Office, &uri).await,
                "post" if path.ends_with("/report") => api_post(&f, Role::Office, &uri, r#"{"note": "再报"}"#).await,
                "post" => act(&f, Role::Office, case, json!({"action": "report", "note": "补充"})).await,
                other => panic!("undocumented method {other}"),
            };
            assert!(r.status.is_success(), "{method} {path}: {}", r.status);
            let documented: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            assert!(
                documented.iter().any(|s| s.as_str() == r.status.as_str()),
                "{method} {path} answered {} which is not documented",
                r.status
            );
        }
    }
    let actions = &doc["paths"]["/api/v1/cases/{id}/actions"]["post"];
    for code in ["200", "400", "401", "403", "404", "409"] {
        assert!(actions["responses"].get(code).is_some(), "actions lack {code}");
    }
    assert!(doc["paths"]["/api/v1/items/{id}/report"]["post"]["responses"].get("201").is_some());
    let action = &doc["components"]["schemas"]["Action"];
    assert_eq!(action["discriminator"]["propertyName"], "action");
    let mapping = action["discriminator"]["mapping"].as_object().unwrap();
    for kind in yuqing_cases::ActionKind::ALL {
        let target = mapping[kind.id()].as_str().unwrap();
        let name = target.trim_start_matches("#/components/schemas/");
        let schema = &doc["components"]["schemas"][name];
        assert_eq!(schema["properties"]["action"]["const"], kind.id());
        assert_eq!(schema["additionalProperties"], false);
    }
    assert_eq!(action["oneOf"].as_array().unwrap().len(), yuqing_cases::ActionKind::ALL.len());
}

// ---- UI -----------------------------------------------------------------------------

/// A logged-in browser of `role`: (cookie header value, the session's CSRF token).
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

/// The action forms a case page offers.
fn forms_on(body: &str) -> Vec<String> {
    body.match_indices("<input type=\"hidden\" name=\"action\" value=\"")
        .map(|(i, m)| body[i + m.len()..].split('"').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_item_page_reports_to_the_office_and_goes_to_the_case() {
    let f = fixture().await;
    let [a, _] = f.ids;
    let (cookie, csrf) = session(&f, Role::Member).await;
    let p = page(&f, &format!("/items/{a}"), &cookie).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains(&format!("action=\"/items/{a}/report\"")), "the report form");
    assert!(p.body.contains("报送网宣办"));
    assert!(!p.body.contains("已在处置中"));

    let r =
        form(&f, &format!("/items/{a}/report"), &cookie, &[("csrf", &csrf), ("note", "请网宣办关注\r\n第二行")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location().to_string();
    assert!(to.starts_with("/cases/"), "{to}");
    let id: i64 = to.trim_start_matches("/cases/").parse().unwrap();
    let case = f.state.store.case(id, Utc::now()).await.unwrap().unwrap();
    assert_eq!(case.steps[0].step.note, "请网宣办关注\n第二行", "CRLF from the textarea is stored as \\n");
    assert_eq!(case.steps[0].step.actor, "xiaoli");

    // The item now links to its case, and the navigation counts it.
    let p = page(&f, &format!("/items/{a}"), &cookie).await;
    assert!(p.body.contains("已在处置中"));
    assert!(p.body.contains(&format!("href=\"/cases/{id}\"")));
    assert!(p.body.contains("<span class=\"nav-count\" title=\"处置中\">1</span>"), "nav count");

    // Reporting again from the page adds to the same case.
    let r = form(&f, &format!("/items/{a}/report"), &cookie, &[("csrf", &csrf), ("note", "")]).await;
    assert_eq!(r.location(), to);
    assert_eq!(f.state.store.case(id, Utc::now()).await.unwrap().unwrap().steps.len(), 2);
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let f = fixture().await;
    let [a, _] = f.ids;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let zeros = "0".repeat(64);
    for fields in [vec![("note", "x")], vec![("csrf", zeros.as_str()), ("note", "x")]] {
        let r = form(&f, &format!("/items/{a}/report"), &cookie, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert!(f.state.store.cases(&Default::default(), Utc::now(), 10).await.unwrap().is_empty(), "no case opened");

    let id = report(&f, Role::Member, a, "").await;
    let r = form(&f, &format!("/cases/{id}/actions"), &cookie, &[("action", "dismiss"), ("note", "无关")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = form(
        &f,
        &format!("/cases/{id}/actions"),
        &cookie,
        &[("csrf", "nope"), ("action", "dismiss"), ("note", "无关")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(f.state.store.case(id, Utc::now()).await.unwrap().unwrap().steps.len(), 1, "no step added");

    // Another user's token is not this session's.
    let (_, other_csrf) = session(&f, Role::Leader).await;
    let r = form(
        &f,
        &format!("/cases/{id}/actions"),
        &cookie,
        &[("csrf", &other_csrf), ("action", "dismiss"), ("note", "x")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Without a session at all: to the login page.
    let r =
        form(&f, &format!("/cases/{id}/actions"), "", &[("csrf", &csrf), ("action", "dismiss"), ("note", "x")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"));
}

#[tokio::test]
async fn the_board_lists_cases_by_state_with_overdue_first() {
    let f = fixture().await;
    let [a, b] = f.ids;
    let member = member_actor(&f).await;
    let store = &f.state.store;
    // Important, reported three hours ago: past its two hours to assess.
    let late = store.report_item(a, &member, "", Utc::now() - chrono::Duration::hours(3)).await.unwrap().case.id;
    let fresh = report(&f, Role::Member, b, "").await;

    let (cookie, _) = session(&f, Role::Member).await;
    let p = page(&f, "/cases", &cookie).await;
    assert_eq!(p.status, StatusCode::OK);
    for text in
        ["已报送", "核实中", "领导研判", "待回应", "已回应", "已办结", "超时：研判", "已超时 1小时", "还剩 23小时59分"]
    {
        assert!(p.body.contains(text), "the board lacks `{text}`");
    }
    assert!(p.body.contains("<a href=\"/cases\" class=\"on\" aria-current=\"page\">处置"), "nav marks 处置");
    assert!(p.body.contains("<span class=\"nav-count\" title=\"处置中\">2</span>"));
    let pos = |id: i64| p.body.find(&format!("href=\"/cases/{id}\"")).unwrap_or_else(|| panic!("case {id} not listed"));
    assert!(pos(late) < pos(fresh), "overdue first");
    assert!(p.body.contains("class=\"card overdue\""));
    assert!(p.body.contains("上犹县惠农补贴未发放 群众反映"));
    assert!(!p.body.contains("style=") && !p.body.contains("<script"));

    // Moved on: the case shows in its new column; closed ones go to the folded list.
    act(&f, Role::Office, fresh, json!({"action": "assess", "level": "ordinary", "path": "facts"})).await;
    act(&f, Role::Office, late, json!({"action": "dismiss", "note": "已核实不属实"})).await;
    let p = page(&f, "/cases", &cookie).await;
    let column = |state: &str| {
        let start = p.body.find(&format!("class=\"column state-{state}\"")).unwrap();
        let end = p.body[start..].find("</section>").unwrap() + start;
        p.body[start..end].to_string()
    };
    assert!(column("fact-finding").contains(&format!("href=\"/cases/{fresh}\"")));
    assert!(!column("reported").contains("href=\"/cases/"));
    let closed = &p.body[p.body.find("<details class=\"closed-cases\">").unwrap()..];
    assert!(closed.contains(&format!("href=\"/cases/{late}\"")));
    assert!(closed.contains("曾超时：研判"), "lateness stays visible after closing");
    assert!(p.body.contains("<span class=\"nav-count\" title=\"处置中\">1</span>"));

    // Filter by level; a bad level names the parameter.
    let p = page(&f, "/cases?level=important", &cookie).await;
    assert!(!p.body.contains(&format!("href=\"/cases/{fresh}\"")));
    let p = page(&f, "/cases?level=huge", &cookie).await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("`level`"));

    let p = page(&f, "/cases?lang=en", &cookie).await;
    assert!(p.body.contains("Establishing facts") && p.body.contains(">Cases"), "English board");
}

#[tokio::test]
async fn the_case_page_shows_the_timeline_and_only_the_roles_forms() {
    let f = fixture().await;
    let [a, _] = f.ids;
    let id = report(&f, Role::Member, a, "网上有人反映").await;
    let uri = format!("/cases/{id}");

    let (member, _) = session(&f, Role::Member).await;
    let p = page(&f, &uri, &member).await;
    assert_eq!(p.status, StatusCode::OK);
    for text in [
        "处置单 #",
        "上犹县惠农补贴未发放 群众反映",
        &format!("href=\"/items/{a}\""),
        "县政府网",
        "badge tone negative",
        "已报送",
        "研判期限",
        "回应期限",
        "还剩 1小时59分",
        "网上有人反映",
        "xiaoli",
        "报送",
    ] {
        assert!(p.body.contains(text), "the case page lacks `{text}`");
    }
    assert_eq!(forms_on(&p.body), ["report"], "a member may only add a report");

    let (office, _) = session(&f, Role::Office).await;
    let p = page(&f, &uri, &office).await;
    assert_eq!(forms_on(&p.body), ["report", "assess", "dismiss"]);
    let assess = &p.body[p.body.find("value=\"assess\"").unwrap()..];
    let assess = &assess[..assess.find("</form>").unwrap()];
    for field in ["name=\"level\"", "name=\"path\"", "name=\"note\"", "依政策答复", "先核实后答复", "报领导决定"]
    {
        assert!(assess.contains(field), "the assess form lacks {field}");
    }
    assert!(!assess.contains("name=\"channel\""));

    let (leader, _) = session(&f, Role::Leader).await;
    assert_eq!(forms_on(&page(&f, &uri, &leader).await.body), ["report", "dismiss"]);

    let p = page(&f, "/cases/424242", &member).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_case_forms_walk_the_flow_and_show_refusals_in_chinese() {
    let f = fixture().await;
    let [a, _] = f.ids;
    let id = report(&f, Role::Member, a, "").await;
    let uri = format!("/cases/{id}");
    let to = format!("{uri}/actions");
    let (office, csrf) = session(&f, Role::Office).await;

    // Missing path: refused on the page, 400, in Chinese, with what was typed kept.
    let r = form(
        &f,
        &to,
        &office,
        &[("csrf", &csrf), ("action", "assess"), ("level", "important"), ("note", "我的研判意见")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("处置方式不能为空"), "{}", r.body);
    assert!(r.body.contains("<span class=\"status\">400</span>"));
    assert!(r.body.contains("我的研判意见"), "the note is kept");

    let r = form(
        &f,
        &to,
        &office,
        &[("csrf", &csrf), ("action", "assess"), ("level", "major-sensitive"), ("path", "policy"), ("note", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), uri);

    // A member trying an office action: 403 on the page, whatever the fields.
    let (member, member_csrf) = session(&f, Role::Member).await;
    let r = form(&f, &to, &member, &[("csrf", &member_csrf), ("action", "respond")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("干部职工无权执行“回应”"), "{}", r.body);

    // The wrong state: 409.
    let r = form(&f, &to, &office, &[("csrf", &csrf), ("action", "report-back"), ("note", "已报")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("处置单当前状态为“待回应”，不能执行“反馈结果”"), "{}", r.body);

    let p = page(&f, &uri, &office).await;
    assert_eq!(forms_on(&p.body), ["report", "respond", "dismiss"]);
    let respond = &p.body[p.body.find("value=\"respond\"").unwrap()..];
    let respond = &respond[..respond.find("</form>").unwrap()];
    for field in ["name=\"channel\"", "name=\"text\"", "name=\"url\"", "name=\"note\""] {
        assert!(respond.contains(field), "the respond form lacks {field}");
    }
    assert!(!respond.contains("name=\"level\""));

    let r = form(
        &f,
        &to,
        &office,
        &[
            ("csrf", &csrf),
            ("action", "respond"),
            ("channel", "县政府网站“政民互动”"),
            ("text", "补贴已发放。"),
            ("url", "https://gov.example.org/hd/1.html"),
            ("note", "经王局长审定"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let p = page(&f, &uri, &office).await;
    for text in [
        "研判",
        "回应",
        "县政府网站“政民互动”",
        "补贴已发放。",
        "href=\"https://gov.example.org/hd/1.html\" target=\"_blank\" rel=\"noopener noreferrer nofollow\"",
        "经王局长审定",
        "依政策答复",
        "重大敏感",
        "已回应",
    ] {
        assert!(p.body.contains(text), "the timeline lacks `{text}`");
    }
    assert_eq!(forms_on(&p.body), ["report", "report-back", "dismiss"]);
    let r = form(&f, &to, &office, &[("csrf", &csrf), ("action", "report-back"), ("note", "已报县网宣办")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let p = page(&f, &uri, &office).await;
    assert!(p.body.contains("已办结"));
    assert!(forms_on(&p.body).is_empty());
    assert!(p.body.contains("没有可执行的操作"));
    let v = api_get(&f, Role::Office, &format!("/api/v1/cases/{id}")).await.json();
    assert_eq!(actions_of(&v), ["report", "assess", "respond", "report-back"]);
}

#[tokio::test]
async fn user_text_is_escaped_and_only_web_links_are_links() {
    let f = fixture().await;
    let [a, _] = f.ids;
    let xss = "<script>alert('note')</script><img src=x onerror=alert(1)>";
    let id = report(&f, Role::Member, a, xss).await;
    act(&f, Role::Office, id, json!({"action": "assess", "level": "important", "path": "policy"})).await;
    // A link with markup in it is still only an attribute value.
    act(&f, Role::Office, id, json!({"action": "respond", "channel": "<b>官网</b>", "text": "<script>x()</script>", "url": "https://gov.example.org/\"><script>"}))
        .await;
    let (cookie, _) = session(&f, Role::Member).await;
    let p = page(&f, &format!("/cases/{id}"), &cookie).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("<script") && !p.body.contains("<img") && !p.body.contains("<b>"), "{}", p.body);
    assert!(p.body.contains("&lt;script&gt;alert("));
    assert!(p.body.contains("&lt;b&gt;官网&lt;/b&gt;"));

    // The report form keeps a refused note escaped too.
    let (cookie, csrf) = session(&f, Role::Member).await;
    let long = format!("{xss}{}", "长".repeat(yuqing_cases::MAX_NOTE_CHARS));
    let r = form(&f, &format!("/items/{a}/report"), &cookie, &[("csrf", &csrf), ("note", &long)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("说明不能超过 10000 个字"), "{}", &r.body[..500.min(r.body.len())]);
    assert!(!r.body.contains("<script") && !r.body.contains("<img"));
}
