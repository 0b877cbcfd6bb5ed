//! The duty roster (值班表) and sensitive periods (敏感时期) through the web app: the top
//! bar of every page, the `/duty` page and its forms with each role's session, and the
//! duty API with each role's token. A fresh store per test; requests go to `app(state)`
//! with `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_cases::{SensitivePeriod, Shift};
use yuqing_core::config::Config;
use yuqing_core::Role;
use yuqing_store::Store;
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

const TZ: Tz = chrono_tz::Asia::Shanghai;

const ROLES: [(Role, &str); 4] =
    [(Role::Member, "xiaoli"), (Role::Office, "zhang"), (Role::Leader, "wangju"), (Role::Admin, "root")];

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    tokens: Vec<String>,
    /// The time the shifts and periods of a test are placed around (a whole minute).
    now: DateTime<Utc>,
}

impl Fixture {
    fn token(&self, role: Role) -> &str {
        &self.tokens[ROLES.iter().position(|(r, _)| *r == role).unwrap()]
    }

    fn store(&self) -> &Store {
        &self.state.store
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
    let state = AppState {
        store: Arc::new(store),
        config: Arc::new(config),
        metrics: Arc::new(Metrics::default()),
        started_at: Utc::now(),
    };
    Fixture { _guard: guard, state, tokens, now: minute(Utc::now()) }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
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

async fn api(f: &Fixture, role: Option<Role>, method: &str, uri: &str, body: &str) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(role) = role {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.token(role)));
    }
    send(f, req.body(Body::from(body.to_string())).unwrap()).await
}

/// A logged-in browser of `role`: (cookie header value, the session's CSRF token).
async fn session(f: &Fixture, role: Role) -> (String, String) {
    let name = ROLES.iter().find(|(r, _)| *r == role).unwrap().1;
    let user = f.store().user_by_name(name).await.unwrap().unwrap();
    let (token, csrf) = f.store().create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
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

/// A time as a `datetime-local` input sends it (the org's zone).
fn local_input(t: DateTime<Utc>) -> String {
    t.with_timezone(&TZ).format("%Y-%m-%dT%H:%M").to_string()
}

/// A time as a roster file writes it (the org's zone).
fn local_csv(t: DateTime<Utc>) -> String {
    t.with_timezone(&TZ).format("%Y-%m-%d %H:%M").to_string()
}

/// Whole minutes, as people type them.
fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp() / 60 * 60, 0).unwrap()
}

async fn add_shift(f: &Fixture, user: &str, from: TimeDelta, to: TimeDelta) -> i64 {
    let shift = Shift::new(user, f.now + from, f.now + to, None).unwrap();
    f.store().add_shift(&shift, "zhang").await.unwrap()
}

async fn add_period(f: &Fixture, reason: &str, from: TimeDelta, to: TimeDelta) -> i64 {
    let period = SensitivePeriod::new(f.now + from, f.now + to, reason).unwrap();
    f.store().add_period(&period, "zhang").await.unwrap()
}

fn h(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

// ---- the top bar ----------------------------------------------------------------------

#[tokio::test]
async fn the_top_bar_of_every_page_shows_who_is_on_duty() {
    let f = fixture().await;
    add_shift(&f, "zhang", h(-3), h(5)).await;
    add_shift(&f, "李四", h(-1), h(11)).await;
    add_shift(&f, "王五", h(-10), h(-2)).await; // over
    add_shift(&f, "赵六", h(2), h(10)).await; // not yet
    let (cookie, _) = session(&f, Role::Member).await;
    for uri in ["/", "/search", "/cases", "/sources", "/duty"] {
        let a = page(&f, uri, &cookie).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(a.body.contains("值班：zhang、李四</a>"), "{uri}: {}", a.body);
        assert!(!a.body.contains("无人值班</a>"), "{uri}");
        assert!(
            a.body.contains(r#"<a href="/duty""#) && a.body.contains(">值班</a>"),
            "{uri}: the navigation links the roster"
        );
    }
    let a = page(&f, "/?lang=en", &cookie).await;
    assert!(a.body.contains("On duty: zhang, 李四"), "{}", a.body);
    // Not logged in: the login page says nothing about the roster.
    let a = send(&f, Request::get("/login").body(Body::empty()).unwrap()).await;
    assert!(!a.body.contains("zhang"));
}

#[tokio::test]
async fn nobody_on_duty_is_flagged_in_the_top_bar() {
    let f = fixture().await;
    add_shift(&f, "王五", h(-10), h(-2)).await;
    let (cookie, _) = session(&f, Role::Office).await;
    let a = page(&f, "/", &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains(r#"<a class="on-duty nobody" href="/duty">无人值班</a>"#), "{}", a.body);
    assert!(!a.body.contains("sensitive-badge"));
}

#[tokio::test]
async fn a_sensitive_period_shows_a_red_badge_while_it_is_active() {
    let f = fixture().await;
    add_period(&f, "春节假期", h(24), h(48)).await; // upcoming: no badge yet
    let (cookie, _) = session(&f, Role::Leader).await;
    let a = page(&f, "/", &cookie).await;
    assert!(!a.body.contains("sensitive-badge"), "an upcoming period shows no badge");

    add_period(&f, "国庆假期", h(-1), h(24)).await;
    let a = page(&f, "/cases", &cookie).await;
    assert!(a.body.contains(r#"class="sensitive-badge""#), "{}", a.body);
    assert!(a.body.contains("敏感时期：国庆假期</a>"), "{}", a.body);
    // The roster page lists it as active and the upcoming one as upcoming.
    let a = page(&f, "/duty", &cookie).await;
    assert!(a.body.contains("进行中"), "{}", a.body);
    assert!(a.body.contains("即将开始"));
    assert!(a.body.contains("春节假期"));
}

// ---- the /duty page and its forms ---------------------------------------------------------

#[tokio::test]
async fn the_office_adds_a_shift_with_the_form_and_it_shows() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let a = page(&f, "/duty", &cookie).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains(r#"action="/duty/shifts""#));
    assert!(a.body.contains(&format!(r#"name="csrf" value="{csrf}""#)));
    assert!(a.body.contains(r#"<option value="xiaoli">"#), "the users are offered: {}", a.body);
    assert!(a.body.contains("无人值班"), "an empty roster is one long gap");

    let now = minute(Utc::now());
    let (from, to) = (local_input(now - h(1)), local_input(now + h(8)));
    let fields = [("csrf", csrf.as_str()), ("user", "xiaoli"), ("from", &from), ("to", &to), ("note", "带班领导")];
    let a = form(&f, "/duty/shifts", &cookie, &fields).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/duty");

    let shifts = f.store().on_duty(Utc::now()).await.unwrap();
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].shift.user, "xiaoli");
    assert_eq!(shifts[0].shift.from, now - h(1), "read in the organisation's zone");
    assert_eq!(shifts[0].created_by, "zhang");

    let a = page(&f, "/duty", &cookie).await;
    assert!(a.body.contains("值班：xiaoli</a>"));
    assert!(a.body.contains("带班领导"));
    assert!(a.body.contains("当前值班"));
    assert!(a.body.contains(r#"<tr class="gap">"#), "the rest of the 16 days is flagged");
    assert!(a.body.contains(r#"<tr class="shift now">"#));
    assert!(a.body.contains(&format!(r#"action="/duty/shifts/{}/delete""#, shifts[0].id)));

    // Free text: a name without an account is allowed, and marked.
    let fields = [("csrf", csrf.as_str()), ("user", "县领导 王局"), ("from", &from), ("to", &to)];
    assert_eq!(form(&f, "/duty/shifts", &cookie, &fields).await.status, StatusCode::SEE_OTHER);
    let a = page(&f, "/duty", &cookie).await;
    assert!(a.body.contains("县领导 王局"));
    assert!(a.body.contains("非系统用户"));

    // Deleting needs the token too.
    let id = shifts[0].id;
    let a = form(&f, &format!("/duty/shifts/{id}/delete"), &cookie, &[("csrf", "nope")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = form(&f, &format!("/duty/shifts/{id}/delete"), &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(f.store().shift(id).await.unwrap().is_none());
    let a = form(&f, &format!("/duty/shifts/{id}/delete"), &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_refused_shift_form_says_why_in_chinese_and_keeps_what_was_typed() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Admin).await;
    let now = Utc::now();
    let (from, to) = (local_input(now + h(8)), local_input(now + h(1)));
    let fields = [("csrf", csrf.as_str()), ("user", "xiaoli"), ("from", &from), ("to", &to), ("note", "备注<b>")];
    let a = form(&f, "/duty/shifts", &cookie, &fields).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("结束时间必须晚于开始时间"), "{}", a.body);
    assert!(a.body.contains(&format!(r#"value="{from}""#)), "what was typed is kept");
    assert!(a.body.contains("备注&lt;b&gt;"), "and escaped");

    let fields = [("csrf", csrf.as_str()), ("user", " "), ("from", "明天"), ("to", "")];
    let a = form(&f, "/duty/shifts", &cookie, &fields).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    for says in ["值班人员不能为空", "开始时间：“明天”不是有效时间", "结束时间不能为空"]
    {
        assert!(a.body.contains(says), "{says}: {}", a.body);
    }
    assert!(f.store().shifts(now - h(100), now + h(100)).await.unwrap().is_empty());

    // Without the session's token: refused before anything else.
    let a = form(&f, "/duty/shifts", &cookie, &[("user", "xiaoli")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn members_and_leaders_see_the_roster_read_only_and_get_403_on_every_form() {
    let f = fixture().await;
    let id = add_shift(&f, "zhang", h(-1), h(5)).await;
    let period = add_period(&f, "汛期", h(-1), h(5)).await;
    let now = Utc::now();
    let (from, to) = (local_input(now), local_input(now + h(4)));
    for role in [Role::Member, Role::Leader] {
        let (cookie, csrf) = session(&f, role).await;
        let a = page(&f, "/duty", &cookie).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("zhang"));
        assert!(a.body.contains("值班表由网宣办和管理员维护"));
        for action in ["/duty/shifts", "/duty/import", "/duty/periods", "/delete", "/end"] {
            assert!(!a.body.contains(&format!(r#"{action}""#)), "{role:?} sees a form posting to {action}");
        }
        for (uri, fields) in [
            ("/duty/shifts".to_string(), vec![("user", "xiaoli"), ("from", from.as_str()), ("to", to.as_str())]),
            ("/duty/import".to_string(), vec![("csv", "xiaoli,2026-12-01 08:00,2026-12-01 20:00")]),
            ("/duty/periods".to_string(), vec![("reason", "x"), ("from", from.as_str()), ("to", to.as_str())]),
            (format!("/duty/shifts/{id}/delete"), vec![]),
            (format!("/duty/periods/{period}/end"), vec![]),
            (format!("/duty/periods/{period}/delete"), vec![]),
        ] {
            let mut fields = fields;
            fields.push(("csrf", &csrf));
            let a = form(&f, &uri, &cookie, &fields).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?} {uri}");
            assert!(a.body.contains("只有网宣办和管理员"), "{}", a.body);
        }
    }
    assert_eq!(f.store().shifts(now - h(100), now + h(100)).await.unwrap().len(), 1, "nothing changed");
    assert!(f.store().active_period(Utc::now()).await.unwrap().is_some());
}

#[tokio::test]
async fn a_csv_with_a_bad_line_shows_every_problem_by_line_and_imports_nothing() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let day = Utc::now() + TimeDelta::days(1);
    let (a8, a20) = (local_csv(minute(day)), local_csv(minute(day) + h(12)));
    let csv = format!("姓名,开始,结束,备注\r\nxiaoli,{a8},{a20},白班\r\nzhang,{a20},明天早上,\r\n,{a8},{a20},\r\n");
    let a = form(&f, "/duty/import", &cookie, &[("csrf", &csrf), ("csv", &csv)]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("未导入任何班次"), "{}", a.body);
    assert!(a.body.contains("第 3 行"), "{}", a.body);
    assert!(a.body.contains("明天早上"), "the bad time is quoted");
    assert!(a.body.contains("第 4 行"), "every problem at once: {}", a.body);
    assert!(!a.body.contains("第 2 行"), "the good line has no problem");
    assert!(a.body.contains("xiaoli,"), "the pasted text is kept to fix it");
    let window = (Utc::now() - h(100), Utc::now() + h(100));
    assert!(f.store().shifts(window.0, window.1).await.unwrap().is_empty(), "nothing was imported");

    let good =
        format!("姓名,开始,结束,备注\nxiaoli,{a8},{a20},白班\nzhang,{a20},{},夜班\n", local_csv(minute(day) + h(24)));
    let a = form(&f, "/duty/import", &cookie, &[("csrf", &csrf), ("csv", &good)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/duty?added=2&unchanged=0");
    let a = page(&f, a.location(), &cookie).await;
    assert!(a.body.contains("已导入 2 个班次。"), "{}", a.body);
    assert!(a.body.contains("夜班"));
    // The same file again adds nothing.
    let a = form(&f, "/duty/import", &cookie, &[("csrf", &csrf), ("csv", &good)]).await;
    assert_eq!(a.location(), "/duty?added=0&unchanged=2");
    assert_eq!(f.store().shifts(window.0, window.1).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_office_declares_and_ends_a_sensitive_period_with_the_forms() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let now = minute(Utc::now());
    let (from, to) = (local_input(now - h(1)), local_input(now + h(48)));
    let fields = [("csrf", csrf.as_str()), ("reason", "县人代会期间"), ("from", &from), ("to", &to)];
    let a = form(&f, "/duty/periods", &cookie, &fields).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = page(&f, "/duty", &cookie).await;
    assert!(a.body.contains("敏感时期：县人代会期间</a>"));
    let p = f.store().active_period(Utc::now()).await.unwrap().unwrap();
    assert_eq!(p.created_by, "zhang");

    let fields = [("csrf", csrf.as_str()), ("reason", ""), ("from", &from), ("to", &from)];
    let a = form(&f, "/duty/periods", &cookie, &fields).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("原因不能为空") && a.body.contains("结束时间必须晚于开始时间"), "{}", a.body);

    let a = form(&f, &format!("/duty/periods/{}/end", p.id), &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(f.store().active_period(Utc::now()).await.unwrap().is_none());
    assert_eq!(f.store().period_records().await.unwrap().len(), 1, "an ended period keeps its record");
    let a = page(&f, "/", &cookie).await;
    assert!(!a.body.contains("sensitive-badge"));
}

// ---- API ------------------------------------------------------------------------------

#[tokio::test]
async fn the_duty_api_reads_the_roster_who_is_on_duty_and_the_period() {
    let f = fixture().await;
    add_shift(&f, "zhang", h(-2), h(6)).await;
    add_shift(&f, "李四", h(6), h(18)).await;
    add_period(&f, "国庆假期", h(-1), h(24)).await;
    let r = api(&f, Some(Role::Member), "GET", "/api/v1/duty", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["on_duty"], json!(["zhang"]));
    assert_eq!(v["shifts"].as_array().unwrap().len(), 2);
    assert_eq!(v["shifts"][1]["user"], "李四");
    assert_eq!(v["shifts"][0]["created_by"], "zhang");
    assert!(v["shifts"][0]["id"].is_i64());
    assert_eq!(v["sensitive_period"]["reason"], "国庆假期");
    assert_eq!(v["gaps"].as_array().unwrap().len(), 2, "before the first shift, after the last: {v}");

    // A window in local time: only the night shift's part of it.
    let from = local_csv(Utc::now() + h(10));
    let to = local_csv(Utc::now() + h(12));
    let uri = format!(
        "/api/v1/duty?from={}&to={}",
        url::form_urlencoded::byte_serialize(from.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(to.as_bytes()).collect::<String>()
    );
    let v = api(&f, Some(Role::Leader), "GET", &uri, "").await.json();
    assert_eq!(v["shifts"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["gaps"], json!([]));
    for bad in ["from=soon", "from=2026-12-02%2000:00&to=2026-12-01%2000:00"] {
        let r = api(&f, Some(Role::Member), "GET", &format!("/api/v1/duty?{bad}"), "").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let r = api(&f, Some(Role::Member), "GET", "/api/v1/sensitive-periods", "").await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["periods"].as_array().unwrap().len(), 1);
    assert_eq!(v["active"]["reason"], "国庆假期");
}

#[tokio::test]
async fn the_duty_api_writes_for_the_office_and_admins_only() {
    let f = fixture().await;
    let body = json!({"user": "xiaoli", "from": "2026-12-01 08:00", "to": "2026-12-01T20:00:00+08:00", "note": "白班"});
    for role in [Role::Member, Role::Leader] {
        let r = api(&f, Some(role), "POST", "/api/v1/duty/shifts", &body.to_string()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
        assert!(r.json()["error_zh"].as_str().unwrap().contains("网宣办"));
    }
    let r = api(&f, Some(Role::Office), "POST", "/api/v1/duty/shifts", &body.to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let shift = r.json()["shift"].clone();
    assert_eq!(shift["from"], "2026-12-01T00:00:00Z", "a local time in the organisation's zone");
    assert_eq!(shift["to"], "2026-12-01T12:00:00Z");
    assert_eq!(shift["note"], "白班");
    assert_eq!(shift["created_by"], "zhang");
    let id = shift["id"].as_i64().unwrap();

    let r = api(
        &f,
        Some(Role::Admin),
        "POST",
        "/api/v1/duty/shifts",
        r#"{"user": "", "from": "x", "to": "2026-12-01 08:00"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let v = r.json();
    assert_eq!(v["problems"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["error_zh"].as_str().unwrap().contains("值班人员不能为空"), "{v}");
    let r = api(
        &f,
        Some(Role::Admin),
        "POST",
        "/api/v1/duty/shifts",
        r#"{"user": "a", "from": "x", "to": "y", "colour": 1}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"].as_str().unwrap().contains("colour"));

    let uri = format!("/api/v1/duty/shifts/{id}");
    assert_eq!(api(&f, Some(Role::Member), "DELETE", &uri, "").await.status, StatusCode::FORBIDDEN);
    let r = api(&f, Some(Role::Admin), "DELETE", &uri, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["shift"]["user"], "xiaoli");
    assert_eq!(api(&f, Some(Role::Admin), "DELETE", &uri, "").await.status, StatusCode::NOT_FOUND);

    let period = json!({"from": "2026-10-01 00:00", "to": "2026-10-08 00:00", "reason": "国庆假期"}).to_string();
    assert_eq!(
        api(&f, Some(Role::Leader), "POST", "/api/v1/sensitive-periods", &period).await.status,
        StatusCode::FORBIDDEN
    );
    let r = api(&f, Some(Role::Office), "POST", "/api/v1/sensitive-periods", &period).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.json()["period"].clone();
    assert_eq!(p["from"], "2026-09-30T16:00:00Z");
    let r = api(
        &f,
        Some(Role::Office),
        "POST",
        "/api/v1/sensitive-periods",
        r#"{"from": "2026-10-01 00:00", "to": "2027-10-01 00:00", "reason": "全年"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error_zh"].as_str().unwrap().contains("92"), "{}", r.body);
    let uri = format!("/api/v1/sensitive-periods/{}", p["id"]);
    assert_eq!(api(&f, Some(Role::Member), "DELETE", &uri, "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(api(&f, Some(Role::Office), "DELETE", &uri, "").await.status, StatusCode::OK);
    assert!(f.store().period_records().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_import_api_reports_every_problem_by_line_and_imports_nothing() {
    let f = fixture().await;
    let bad = "user,from,to\nxiaoli,2026-12-01 08:00,2026-12-01 20:00\nzhang,2026-12-01 20:00,2026-12-09 08:00\n,2026-12-02 08:00,2026-12-02 20:00\n";
    let r = api(&f, Some(Role::Office), "POST", "/api/v1/duty/import", bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let v = r.json();
    let lines: Vec<i64> = v["problems"].as_array().unwrap().iter().map(|p| p["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [3, 4], "{v}");
    assert!(v["problems"][0]["message_zh"].as_str().unwrap().contains("7 天"), "{v}");
    assert!(v["error_zh"].as_str().unwrap().contains("第 3 行"));
    let all = f.store().shifts(Utc::now() - TimeDelta::days(3650), Utc::now() + TimeDelta::days(3650)).await.unwrap();
    assert!(all.is_empty());

    assert_eq!(api(&f, Some(Role::Member), "POST", "/api/v1/duty/import", bad).await.status, StatusCode::FORBIDDEN);
    // GBK, as a spreadsheet on a Chinese Windows saves it: "张三,…".
    let mut gbk = b"\xd5\xc5\xc8\xfd,".to_vec();
    gbk.extend_from_slice(b"2026-12-01 08:00,2026-12-01 20:00\r\n");
    let req = Request::post("/api/v1/duty/import")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.token(Role::Admin)))
        .header(header::CONTENT_TYPE, "text/csv; charset=gbk")
        .body(Body::from(gbk))
        .unwrap();
    let r = send(&f, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!({"added": 1, "unchanged": 0}));
    let v = api(&f, Some(Role::Member), "GET", "/api/v1/duty?from=2026-12-01%2000:00&to=2026-12-02%2000:00", "").await;
    assert_eq!(v.json()["shifts"][0]["user"], "张三");
    assert_eq!(v.json()["shifts"][0]["created_by"], "root");
}

#[tokio::test]
async fn the_duty_api_needs_a_token() {
    let f = fixture().await;
    for (method, uri) in [
        ("GET", "/api/v1/duty"),
        ("POST", "/api/v1/duty/shifts"),
        ("DELETE", "/api/v1/duty/shifts/1"),
        ("POST", "/api/v1/duty/import"),
        ("GET", "/api/v1/sensitive-periods"),
        ("POST", "/api/v1/sensitive-periods"),
        ("DELETE", "/api/v1/sensitive-periods/1"),
    ] {
        let r = api(&f, None, method, uri, "{}").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
    }
    // A browser session is no way into the API.
    let (cookie, _) = session(&f, Role::Office).await;
    let req = Request::get("/api/v1/duty").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&f, req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_documented_duty_operation_answers_as_documented() {
    let f = fixture().await;
    let doc = send(&f, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await.json();
    let shift = add_shift(&f, "zhang", h(1), h(2)).await;
    let period = add_period(&f, "汛期", h(1), h(2)).await;
    let paths = doc["paths"].as_object().unwrap();
    let mut walked = 0;
    for (path, ops) in paths {
        if !path.starts_with("/api/v1/duty") && !path.starts_with("/api/v1/sensitive-periods") {
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            let uri = path.replace("{id}", &if path.contains("/shifts/") { shift } else { period }.to_string());
            let body = match path.as_str() {
                "/api/v1/duty/shifts" => {
                    json!({"user": "xiaoli", "from": "2026-12-01 08:00", "to": "2026-12-01 20:00"}).to_string()
                }
                "/api/v1/duty/import" => "xiaoli,2026-12-02 08:00,2026-12-02 20:00\n".to_string(),
                "/api/v1/sensitive-periods" => {
                    json!({"from": "2026-12-01 00:00", "to": "2026-12-02 00:00", "reason": "x"}).to_string()
                }
                _ => String::new(),
            };
            for role in [Role::Office, Role::Member] {
                let r = api(&f, Some(role), &method.to_uppercase(), &uri, &body).await;
                let answered = r.status.as_str().to_string();
                assert!(
                    op["responses"].get(&answered).is_some(),
                    "{method} {path} answered {answered} to {role:?}, which it does not document: {}",
                    r.body
                );
                if role == Role::Office {
                    assert!(r.status.is_success(), "{method} {path}: {}", r.body);
                }
            }
            walked += 1;
        }
    }
    assert_eq!(walked, 7);
}
