//! Tone corrections (倾向更正) through the app (on the test backend): the office corrects
//! an item's tone on its page (with the session's CSRF token), the page marks the tone
//! "已更正" and shows the history escaped, a form sent twice records one correction;
//! members and leaders get no form and are refused; the API answers 200/400/401/403/404;
//! the list page and the TSV export (UI and API) give training data the tone trainer reads.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{IngestOutcome, NewItem, TRAINING_TSV_HEADER};
use yuqing_web::{app, AppState, Metrics};

const CONFIG: &str = r#"
[org]
name = "测试县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about"
"#;

const ROLES: [(Role, &str); 4] =
    [(Role::Member, "xiaoli"), (Role::Office, "zhang"), (Role::Leader, "wangju"), (Role::Admin, "root")];

const HOSTILE_TITLE: &str = "补贴<img src=x onerror=alert(1)>到账";
const HOSTILE_NOTE: &str = "核实为投诉<script>alert(1)</script>";

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

    async fn tone(&self, id: i64) -> Tone {
        self.state.store.item(id).await.unwrap().unwrap().item.tone
    }

    async fn rows(&self) -> usize {
        self.state.store.tone_corrections(None, 1000).await.unwrap().len()
    }
}

fn item(n: u64, title: &str, content: &str, tone: Tone) -> NewItem {
    NewItem {
        source: "县政府网".into(),
        tier: Tier::Local,
        url: format!("https://gov.example.org/{n}.html"),
        canonical_url: format!("https://gov.example.org/{n}.html"),
        title: title.into(),
        published_at: None,
        fetched_at: Utc::now(),
        content: content.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: 0.3,
        categories: vec![Category::Livelihood],
        matched_rules: vec![],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        simhash: n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
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
    let mut ids = vec![];
    for (n, (title, content)) in [
        ("测试县惠农补贴发放进度说明", "县财政局说明：补贴已发放九成。\n其余\t本周内发放。"),
        (HOSTILE_TITLE, "群众称补贴到账，表示感谢。"),
    ]
    .into_iter()
    .enumerate()
    {
        match store.ingest(item(n as u64 + 1, title, content, Tone::Neutral)).await.unwrap() {
            IngestOutcome::New { id } => ids.push(id),
            other => panic!("{other:?}"),
        }
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

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
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

async fn api(f: &Fixture, role: Option<Role>, method: &str, uri: &str, body: Option<String>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(role) = role {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.token(role)));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    send(f, req.body(Body::from(body.unwrap_or_default())).unwrap()).await
}

async fn api_post(f: &Fixture, role: Role, id: impl std::fmt::Display, body: Value) -> Answer {
    api(f, Some(role), "POST", &format!("/api/v1/items/{id}/tone"), Some(body.to_string())).await
}

#[tokio::test]
async fn the_office_corrects_on_the_item_page_with_csrf_and_the_page_shows_the_history_escaped() {
    let f = fixture().await;
    let id = f.ids[0];
    let (office, csrf) = session(&f, Role::Office).await;
    let uri = format!("/items/{id}/tone");

    // The page: the form with the session's token, no mark yet.
    let a = page(&f, &format!("/items/{id}"), &office).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("id=\"tone-form\"") && a.body.contains(&format!("action=\"{uri}\"")), "{}", a.body);
    assert!(a.body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
    assert!(a.body.contains("<option value=\"neutral\" selected>中性</option>"), "{}", a.body);
    assert!(a.body.contains("暂无更正记录") && !a.body.contains("class=\"badge corrected\""));
    assert!(a.body.contains("href=\"/corrections\""));

    // Without the token, or with a wrong one: refused, nothing recorded.
    let a = form(&f, &uri, &office, &[("tone", "negative"), ("note", "x")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let wrong = "0".repeat(64);
    let a = form(&f, &uri, &office, &[("csrf", &wrong), ("tone", "negative")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!((f.tone(id).await, f.rows().await), (Tone::Neutral, 0));

    // A tone no page of ours sends: a bad request.
    let a = form(&f, &uri, &office, &[("csrf", &csrf), ("tone", "angry")]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);

    // Corrected, with a hostile note.
    let a = form(&f, &uri, &office, &[("csrf", &csrf), ("tone", "negative"), ("note", HOSTILE_NOTE)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), format!("/items/{id}?tone_fix=done#tone"));
    assert_eq!((f.tone(id).await, f.rows().await), (Tone::Negative, 1));
    let a = page(&f, &format!("/items/{id}?tone_fix=done"), &office).await;
    assert!(a.body.contains("id=\"tone-result\"") && a.body.contains("倾向已更正"), "{}", a.body);
    assert!(a.body.contains("class=\"badge corrected\"") && a.body.contains(">已更正</a>"));
    assert!(a.body.contains("<span class=\"badge tone negative\" id=\"item-tone\">负面</span>"));
    assert!(a.body.contains("<td class=\"who\">zhang</td>"), "{}", a.body);
    assert!(a.body.contains("中性</span> → <span class=\"badge tone negative\">负面</span>"));
    assert!(a.body.contains("核实为投诉&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", a.body);
    assert!(!a.body.contains("<script>alert(1)"));
    assert!(a.body.contains("<option value=\"negative\" selected>负面</option>"));

    // The same form sent again (a double click): nothing more recorded.
    let a = form(&f, &uri, &office, &[("csrf", &csrf), ("tone", "negative"), ("note", HOSTILE_NOTE)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), format!("/items/{id}?tone_fix=unchanged#tone"));
    assert_eq!(f.rows().await, 1);
    let a = page(&f, &format!("/items/{id}?tone_fix=unchanged"), &office).await;
    assert!(a.body.contains("该信息已是此倾向"), "{}", a.body);

    // English on request.
    let a = page(&f, &format!("/items/{id}?lang=en"), &office).await;
    assert!(a.body.contains("Correct the tone") && a.body.contains(">corrected</a>"), "{}", a.body);
    assert!(a.body.contains("neutral</span> → <span class=\"badge tone negative\">negative</span>"));

    // An admin has the office's rights.
    let (admin, admin_csrf) = session(&f, Role::Admin).await;
    let a = form(&f, &uri, &admin, &[("csrf", &admin_csrf), ("tone", "positive")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!((f.tone(id).await, f.rows().await), (Tone::Positive, 2));
    // An unknown item.
    let a = form(&f, "/items/9999/tone", &office, &[("csrf", &csrf), ("tone", "negative")]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_and_leaders_see_the_history_but_no_form_and_are_refused() {
    let f = fixture().await;
    let id = f.ids[0];
    let zhang = f.state.store.user_by_name("zhang").await.unwrap().unwrap();
    f.state.store.correct_tone(id, Tone::Negative, &zhang, HOSTILE_NOTE, Utc::now()).await.unwrap();
    for role in [Role::Member, Role::Leader] {
        let (cookie, csrf) = session(&f, role).await;
        let a = page(&f, &format!("/items/{id}"), &cookie).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(!a.body.contains("id=\"tone-form\"") && !a.body.contains("/tone\""), "{role}: {}", a.body);
        assert!(a.body.contains(">已更正</a>") && a.body.contains("<td class=\"who\">zhang</td>"), "{}", a.body);
        assert!(a.body.contains("&lt;script&gt;") && !a.body.contains("<script>alert"));
        assert!(!a.body.contains("href=\"/corrections\""));
        let a = form(&f, &format!("/items/{id}/tone"), &cookie, &[("csrf", &csrf), ("tone", "positive")]).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(page(&f, "/corrections", &cookie).await.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(page(&f, "/corrections/export.tsv", &cookie).await.status, StatusCode::FORBIDDEN, "{role}");
    }
    assert_eq!((f.tone(id).await, f.rows().await), (Tone::Negative, 1));
    // Without a session: the login.
    let a = page(&f, "/corrections", "").await;
    assert!(a.status.is_redirection() && a.location().starts_with("/login?next="), "{}", a.status);
}

#[tokio::test]
async fn the_api_corrects_lists_and_refuses_as_documented() {
    let f = fixture().await;
    let id = f.ids[0];
    let body = json!({"tone": "negative", "note": "核实为投诉"});

    // 401 without a token; 403 for members and leaders.
    let a = api(&f, None, "POST", &format!("/api/v1/items/{id}/tone"), Some(body.to_string())).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    for role in [Role::Member, Role::Leader] {
        let a = api_post(&f, role, id, body.clone()).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role}: {}", a.body);
        assert!(a.json()["error"].as_str().unwrap().contains("office"));
    }
    // 400 for a bad tone or body; 404 for an unknown item.
    for bad in [
        json!({"tone": "angry"}),
        json!({"tone": "负面"}),
        json!({"note": "no tone"}),
        json!({"tone": "negative", "extra": 1}),
        json!({"tone": "negative", "note": "字".repeat(501)}),
    ] {
        let a = api_post(&f, Role::Office, id, bad.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
    }
    let a = api(&f, Some(Role::Office), "POST", &format!("/api/v1/items/{id}/tone"), Some("not json".into())).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["error"].as_str().unwrap().contains("tone"));
    assert_eq!(api_post(&f, Role::Office, 9999, body.clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api_post(&f, Role::Office, "abc", body.clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!((f.tone(id).await, f.rows().await), (Tone::Neutral, 0));

    // 200: the item's tone now and the correction.
    let a = api_post(&f, Role::Office, id, body.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let v = a.json();
    assert_eq!(
        (v["item_id"].as_i64(), v["tone"].as_str(), v["tone_score"].as_f64()),
        (Some(id), Some("negative"), Some(-1.0))
    );
    assert_eq!((v["changed"].as_bool(), v["tone_corrected"].as_bool()), (Some(true), Some(true)));
    let c = &v["correction"];
    assert_eq!(
        (c["tone_before"].as_str(), c["tone_after"].as_str(), c["user"].as_str()),
        (Some("neutral"), Some("negative"), Some("zhang"))
    );
    assert_eq!((c["note"].as_str(), c["item_id"].as_i64()), (Some("核实为投诉"), Some(id)));
    assert!((c["score_before"].as_f64().unwrap() - 0.3).abs() < 1e-6, "{c}");
    let first = c["id"].as_i64().unwrap();
    // The same again: 200, nothing changed, the existing correction.
    let a = api_post(&f, Role::Office, id, body.clone()).await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(
        (v["changed"].as_bool(), v["correction"]["id"].as_i64(), v["tone"].as_str()),
        (Some(false), Some(first), Some("negative"))
    );
    // An item the model already gave this tone, never corrected: nothing, and no correction.
    let a = api_post(&f, Role::Office, f.ids[1], json!({"tone": "neutral"})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!((a.json()["changed"].as_bool(), a.json()["correction"].is_null()), (Some(false), true));
    // The item API carries the mark.
    let a = api(&f, Some(Role::Member), "GET", &format!("/api/v1/items/{id}"), None).await;
    assert_eq!(a.json()["tone_corrected"].as_bool(), Some(true));
    // Admins have the office's rights; a note may be null.
    let a = api_post(&f, Role::Admin, f.ids[1], json!({"tone": "positive", "note": null})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["correction"]["user"].as_str(), Some("root"));
    assert_eq!(f.rows().await, 2);

    // The list, newest first; for the office and admins only.
    let a = api(&f, Some(Role::Office), "GET", "/api/v1/tone-corrections", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let list = a.json()["corrections"].as_array().unwrap().clone();
    assert_eq!(list.iter().map(|c| c["item_id"].as_i64().unwrap()).collect::<Vec<_>>(), [f.ids[1], id]);
    assert_eq!(list[0]["title"].as_str(), Some(HOSTILE_TITLE));
    let a = api(&f, Some(Role::Office), "GET", "/api/v1/tone-corrections?limit=1", None).await;
    assert_eq!(a.json()["corrections"].as_array().unwrap().len(), 1);
    let tomorrow = (Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let a = api(&f, Some(Role::Admin), "GET", &format!("/api/v1/tone-corrections?since={tomorrow}"), None).await;
    assert!(a.json()["corrections"].as_array().unwrap().is_empty());
    for bad in ["limit=0", "since=yesterday"] {
        let a = api(&f, Some(Role::Office), "GET", &format!("/api/v1/tone-corrections?{bad}"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        api(&f, Some(Role::Member), "GET", "/api/v1/tone-corrections", None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api(&f, Some(Role::Leader), "GET", "/api/v1/tone-corrections", None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(api(&f, None, "GET", "/api/v1/tone-corrections", None).await.status, StatusCode::UNAUTHORIZED);
}

/// The export's rows, read by the tone trainer's own reader: (id, tone, title, content).
fn read_export(body: &str) -> Vec<(String, Tone, String, String)> {
    let examples = yuqing_judge::tone_model::read_tsv_str(body, std::path::Path::new("export.tsv"))
        .unwrap_or_else(|e| panic!("the trainer does not read the export: {e}\n{body}"));
    examples.into_iter().map(|e| (e.id.unwrap_or_default(), e.tone, e.title, e.content)).collect()
}

#[tokio::test]
async fn the_export_is_training_data_in_the_ui_and_the_api_and_the_list_page_escapes() {
    let f = fixture().await;
    let (a_id, b_id) = (f.ids[0], f.ids[1]);
    let (office, csrf) = session(&f, Role::Office).await;
    for (id, tone, note) in [(a_id, "negative", HOSTILE_NOTE), (b_id, "positive", ""), (a_id, "positive", "再改")] {
        let a =
            form(&f, &format!("/items/{id}/tone"), &office, &[("csrf", &csrf), ("tone", tone), ("note", note)]).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    }

    // The API export: TSV, an attachment, each item once with its latest tone, tabs and
    // line breaks of the text replaced.
    let a = api(&f, Some(Role::Office), "GET", "/api/v1/tone-corrections/export", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/tab-separated-values"));
    assert!(a.header(header::CONTENT_DISPOSITION).starts_with("attachment; filename=\"tone-corrections-"));
    assert!(a.body.starts_with(&format!("{TRAINING_TSV_HEADER}\n")));
    assert!(a.body.lines().skip(1).all(|l| l.split('\t').count() == 4), "{}", a.body);
    let rows = read_export(&a.body);
    assert_eq!(
        rows,
        [
            (
                format!("item-{b_id}"),
                Tone::Positive,
                HOSTILE_TITLE.to_string(),
                "群众称补贴到账，表示感谢。".to_string()
            ),
            (
                format!("item-{a_id}"),
                Tone::Positive,
                "测试县惠农补贴发放进度说明".to_string(),
                "县财政局说明：补贴已发放九成。 其余 本周内发放。".to_string()
            ),
        ]
    );
    for role in [Role::Member, Role::Leader] {
        let a = api(&f, Some(role), "GET", "/api/v1/tone-corrections/export", None).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role}");
    }
    assert_eq!(api(&f, None, "GET", "/api/v1/tone-corrections/export", None).await.status, StatusCode::UNAUTHORIZED);
    let tomorrow = (Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let a = api(&f, Some(Role::Admin), "GET", &format!("/api/v1/tone-corrections/export?since={tomorrow}"), None).await;
    assert_eq!(a.body, format!("{TRAINING_TSV_HEADER}\n"));

    // The UI download is the same file.
    let ui = page(&f, "/corrections/export.tsv", &office).await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(ui.header(header::CONTENT_TYPE).starts_with("text/tab-separated-values"));
    assert_eq!(read_export(&ui.body), rows);
    assert_eq!(page(&f, &format!("/corrections/export.tsv?since={tomorrow}"), &office).await.body.lines().count(), 1);

    // The list page: every correction, newest first, escaped, with the download.
    let a = page(&f, "/corrections", &office).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("href=\"/corrections/export.tsv\"") && a.body.contains("action=\"/corrections/export.tsv\"")
    );
    assert_eq!(a.body.matches("<tr class=\"tone-change\"").count(), 3, "{}", a.body);
    assert!(a.body.contains("补贴&lt;img src=x onerror=alert(1)&gt;到账") && !a.body.contains("<img src=x"));
    assert!(a.body.contains("&lt;script&gt;") && !a.body.contains("<script>alert"));
    let first = a.body.find(&format!("data-item=\"{a_id}\"")).unwrap();
    assert!(first < a.body.find(&format!("data-item=\"{b_id}\"")).unwrap(), "newest first");
    assert!(a.body.contains("倾向更正") && a.body.contains("导出训练数据"));
    let a = page(&f, "/corrections?lang=en", &office).await;
    assert!(a.body.contains("Tone corrections") && a.body.contains("Download the training data"), "{}", a.body);
}
