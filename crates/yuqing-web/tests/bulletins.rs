//! Bulletins (舆情信息) and statistics reports through the web app: compile a draft,
//! edit, reorder and issue it, the roles, numbering under concurrency, corrections, the
//! downloads checked with real tools, and hostile text kept as text. A fresh store,
//! a few items of the last days, requests sent to `app(state)` with `oneshot`.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{Duration, Utc};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use yuqing_core::config::Config;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{IngestOutcome, NewItem};
use yuqing_web::compile::DraftDoc;
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

[[sources]]
name = "新浪新闻"
kind = "page"
url = "https://sina.example.org/"
tier = "portal"
interval = "30m"
weight = 0.8

[bulletin]
title = "财政网上舆情信息"
compiled_by = "测试县财政系统网宣办"
recipients = ["县财政系统网络文化建设和管理领导小组成员", "各乡镇财政所"]
"#;

const ROLES: [(Role, &str); 4] =
    [(Role::Member, "xiaoli"), (Role::Office, "zhang"), (Role::Leader, "wangju"), (Role::Admin, "root")];

const HEADLINE: &str = "测试县惠农补贴未发放 群众反映";
const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>测试县财政";
const FORMULA: &str = "=HYPERLINK(\"https://evil.example/\",\"点我\")";

struct Fixture {
    _guard: yuqing_store::testing::TestGuard,
    state: AppState,
    tokens: Vec<String>,
    /// The negative important item, its repost, the positive one, the hostile one, the formula one.
    ids: [i64; 5],
}

impl Fixture {
    fn token(&self, role: Role) -> &str {
        &self.tokens[ROLES.iter().position(|(r, _)| *r == role).unwrap()]
    }
}

#[allow(clippy::too_many_arguments)]
fn item(
    source: &str,
    tier: Tier,
    url: &str,
    title: &str,
    hours_ago: i64,
    content: &str,
    tone: Tone,
    level: Level,
    simhash: u64,
) -> NewItem {
    let published = (Utc::now() - Duration::hours(hours_ago)).fixed_offset();
    NewItem {
        source: source.into(),
        tier,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: Some(published),
        fetched_at: published.with_timezone(&Utc) + Duration::minutes(5),
        content: content.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: if tone == Tone::Negative { -0.8 } else { 0.2 },
        categories: vec![Category::Livelihood],
        matched_rules: vec!["测试财政".into()],
        level,
        level_reason: "测试".into(),
        simhash,
        raw: None,
        alert_channels: vec![],
    }
}

async fn fixture_with(config: &str) -> Fixture {
    let (store, guard) = yuqing_store::testing::fresh_default().await.into_parts();
    let mut tokens = vec![];
    for (role, name) in ROLES {
        store.upsert_user(name, role, "correct horse battery").await.unwrap();
        tokens.push(store.create_token(name).await.unwrap());
    }
    let config = Config::parse(config, "test", &|_| Ok(())).unwrap();
    store.sync_sources(&config.sources).await.unwrap();
    let complaint =
        "测试县部分群众反映，今年的惠农补贴至今未发放到一卡通，多次到财政所询问没有答复。\n希望有关部门尽快核实。";
    let items = [
        item(
            "县政府网",
            Tier::Local,
            "https://gov.example.org/a.html",
            HEADLINE,
            30,
            complaint,
            Tone::Negative,
            Level::Important,
            0x1,
        ),
        item(
            "新浪新闻",
            Tier::Portal,
            "https://sina.example.org/a.html",
            "转载：测试县惠农补贴未发放",
            20,
            complaint,
            Tone::Negative,
            Level::Important,
            0x3,
        ),
        item(
            "县政府网",
            Tier::Local,
            "https://gov.example.org/b.html",
            "测试县财政预算公开获好评",
            26,
            "测试县财政局在门户网站公开了年度预算和决算，群众评价积极。",
            Tone::Positive,
            Level::Ordinary,
            0xFFFF_FFFF_0000_0000,
        ),
        item(
            "新浪新闻",
            Tier::Portal,
            "https://sina.example.org/x.html",
            HOSTILE,
            10,
            "<b>正文</b>含有标记。",
            Tone::Neutral,
            Level::Ordinary,
            0x0F0F_0F0F_F0F0_F0F0,
        ),
        item(
            "新浪新闻",
            Tier::Portal,
            "https://sina.example.org/y.html",
            FORMULA,
            5,
            "一条普通的正文。",
            Tone::Neutral,
            Level::Ordinary,
            0x00FF_00FF_00FF_00FF,
        ),
    ];
    let mut ids = [0; 5];
    for (n, it) in items.into_iter().enumerate() {
        ids[n] = match store.ingest(it).await.unwrap() {
            IngestOutcome::New { id } | IngestOutcome::Duplicate { id, .. } => id,
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

async fn fixture() -> Fixture {
    fixture_with(CONFIG).await
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
    /// With minijinja's escaped `/` read back as `/`.
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
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap().to_vec();
    let body = String::from_utf8_lossy(&bytes).replace("&#x2f;", "/");
    Answer { status, headers, bytes, body }
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

async fn api(f: &Fixture, role: Role, method: &str, uri: &str, body: &str) -> Answer {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.token(role)))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(f, req).await
}

/// Compiles a draft of the default period as the office; returns its id.
async fn compile_draft(f: &Fixture, cookie: &str, csrf: &str) -> i64 {
    let a = form(f, "/bulletins/drafts", cookie, &[("csrf", csrf), ("since", ""), ("until", "")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.location().trim_start_matches("/bulletins/drafts/").parse().unwrap()
}

/// The revision an editor page carries.
fn revision_on(body: &str) -> String {
    let at = body.find("name=\"revision\" value=\"").expect("the editor carries the revision") + 23;
    body[at..].split('"').next().unwrap().to_string()
}

async fn draft_doc(f: &Fixture, id: i64) -> DraftDoc {
    DraftDoc::from_json(&f.state.store.draft(id).await.unwrap().unwrap().content).unwrap()
}

/// Issues draft `id` at its current revision; returns the issue's number.
async fn issue(f: &Fixture, cookie: &str, csrf: &str, id: i64) -> i64 {
    let rev = f.state.store.draft(id).await.unwrap().unwrap().revision.to_string();
    let a = form(f, &format!("/bulletins/drafts/{id}"), cookie, &[("csrf", csrf), ("revision", &rev), ("op", "issue")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.location().trim_start_matches("/bulletins/").parse().unwrap()
}

fn headlines(doc: &DraftDoc) -> Vec<String> {
    doc.bulletin.entries.iter().map(|e| e.headline.clone()).collect()
}

#[tokio::test]
async fn compile_edit_reorder_add_and_issue_then_frozen() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let list = page(&f, "/bulletins", &cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("action=\"/bulletins/drafts\""), "the office gets the compile form");

    let id = compile_draft(&f, &cookie, &csrf).await;
    let doc = draft_doc(&f, id).await;
    // One entry per event (the repost is in its event's spread), the serious one first.
    assert_eq!(doc.bulletin.entries.len(), 4, "{:?}", headlines(&doc));
    assert_eq!(doc.bulletin.entries[0].headline, HEADLINE);
    let spread = doc.bulletin.entries[0].spread.expect("the complaint was reposted");
    assert_eq!((spread.items, spread.sources), (2, 2));
    assert_eq!(doc.bulletin.number, 0, "a draft has no number");
    assert!(doc.bulletin.entries[0].summary.starts_with("测试县部分群众反映"), "the lead is the default summary");

    let editor = page(&f, &format!("/bulletins/drafts/{id}"), &cookie).await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.body);
    assert!(editor.body.contains(HEADLINE.split(' ').next().unwrap()));
    let rev = revision_on(&editor.body);
    assert_eq!(rev, "1");

    // Edit the first summary and the comment, and move the first entry down, in one post.
    let uri = format!("/bulletins/drafts/{id}");
    let a = form(
        &f,
        &uri,
        &cookie,
        &[
            ("csrf", &csrf),
            ("revision", &rev),
            ("summary_0", "网宣办改写的摘要。"),
            ("comment", "建议财政所三日内答复。"),
            ("op", "down:0"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(a.location().starts_with(&uri));
    let doc = draft_doc(&f, id).await;
    assert_eq!(doc.bulletin.entries[1].headline, HEADLINE, "moved down");
    assert_eq!(doc.bulletin.entries[1].summary, "网宣办改写的摘要。");
    assert_eq!(doc.items[1], Some(f.ids[0]), "the item goes with its entry");
    assert_eq!(doc.bulletin.comment.as_deref(), Some("建议财政所三日内答复。"));

    // Move it back up, remove the last entry, then add it again from the candidates.
    let rev = revision_on(&page(&f, &uri, &cookie).await.body);
    assert_eq!(
        form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", &rev), ("op", "up:1")]).await.status,
        StatusCode::SEE_OTHER
    );
    let doc = draft_doc(&f, id).await;
    assert_eq!(doc.bulletin.entries[0].headline, HEADLINE);
    let last = doc.bulletin.entries.len() - 1;
    let removed = doc.items[last].unwrap();
    let rev = revision_on(&page(&f, &uri, &cookie).await.body);
    let op = format!("remove:{last}");
    assert_eq!(
        form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", &rev), ("op", &op)]).await.status,
        StatusCode::SEE_OTHER
    );
    let doc = draft_doc(&f, id).await;
    assert_eq!(doc.bulletin.entries.len(), 3);
    assert!(!doc.items.contains(&Some(removed)));
    let editor = page(&f, &uri, &cookie).await;
    assert!(editor.body.contains(&format!("name=\"add\" value=\"{removed}\"")), "the removed item is offered again");
    assert!(
        !editor.body.contains(&format!("name=\"add\" value=\"{}\"", f.ids[1])),
        "a repost of an entry is not offered"
    );
    let rev = revision_on(&editor.body);
    let added = removed.to_string();
    let a = form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", &rev), ("add", &added), ("op", "add")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let doc = draft_doc(&f, id).await;
    assert_eq!(doc.items.last(), Some(&Some(removed)));
    assert_eq!(doc.bulletin.entries[0].summary, "网宣办改写的摘要。", "earlier edits are kept");

    // Preview: the report crate's document, with the number it would get.
    let preview = page(&f, &format!("{uri}/preview"), &cookie).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("class=\"yq-bulletin\""));
    assert!(preview.body.contains("第1期"));
    assert!(preview.body.contains("网宣办改写的摘要。"));
    assert!(preview.body.contains("本期发至"));

    let number = issue(&f, &cookie, &csrf, id).await;
    assert_eq!(number, 1);
    let issued = f.state.store.issued_bulletin(1).await.unwrap().unwrap();
    assert_eq!(issued.draft_id, Some(id));
    assert_eq!(issued.issued_by.as_deref(), Some("zhang"));
    let b: yuqing_report::Bulletin = serde_json::from_str(&issued.content).unwrap();
    assert_eq!(b.number, 1);
    assert_eq!(b.entries[0].summary, "网宣办改写的摘要。");
    assert_eq!(b.comment.as_deref(), Some("建议财政所三日内答复。"));
    assert_eq!(b.entries.len(), 4);
    let view = page(&f, "/bulletins/1", &cookie).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains("第1期") && view.body.contains("财政网上舆情信息"));
    assert!(page(&f, "/bulletins", &cookie).await.body.contains("href=\"/bulletins/1/download/pdf\""));

    // Frozen: every change to the issued draft is refused, and says why.
    let rev = f.state.store.draft(id).await.unwrap().unwrap().revision.to_string();
    for op in ["save", "up:1", "issue", "delete"] {
        let a = form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", &rev), ("summary_0", "改"), ("op", op)]).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{op}");
        assert!(a.body.contains("已签发"), "{op}: {}", a.body);
    }
    let again: yuqing_report::Bulletin =
        serde_json::from_str(&f.state.store.issued_bulletin(1).await.unwrap().unwrap().content).unwrap();
    assert_eq!(again, b, "the issue did not change");
    assert_eq!(f.state.store.issued_bulletins(10, 0).await.unwrap().1, 1, "issued once");
}

#[tokio::test]
async fn a_change_on_a_stale_revision_is_refused_with_who_changed_it() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let (admin, admin_csrf) = session(&f, Role::Admin).await;
    let id = compile_draft(&f, &cookie, &csrf).await;
    let uri = format!("/bulletins/drafts/{id}");
    // Both open revision 1; the admin saves first.
    let a = form(&f, &uri, &admin, &[("csrf", &admin_csrf), ("revision", "1"), ("comment", "管理员的意见")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", "1"), ("comment", "网宣办的意见"), ("op", "up:1")])
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("未保存") && a.body.contains("root"), "{}", a.body);
    assert!(a.body.contains("第 2 版") && a.body.contains("第 1 版"), "{}", a.body);
    assert!(a.body.contains("管理员的意见"), "the latest version is shown");
    let doc = draft_doc(&f, id).await;
    assert_eq!(doc.bulletin.comment.as_deref(), Some("管理员的意见"));
    assert_eq!(doc.bulletin.entries[0].headline, HEADLINE, "the stale move was not made");
    // Issuing on the stale revision is refused too.
    let a = form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", "1"), ("op", "issue")]).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(f.state.store.issued_bulletin(1).await.unwrap().is_none());
    // Without the CSRF token nothing happens.
    let a = form(&f, &uri, &cookie, &[("revision", "2"), ("op", "issue")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = form(&f, "/bulletins/drafts", &cookie, &[("csrf", "0000")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(f.state.store.issued_bulletin(1).await.unwrap().is_none());
}

#[tokio::test]
async fn members_and_leaders_read_only_the_office_and_admins_edit() {
    let f = fixture().await;
    let (office, office_csrf) = session(&f, Role::Office).await;
    let id = compile_draft(&f, &office, &office_csrf).await;
    let number = issue(&f, &office, &office_csrf, compile_draft(&f, &office, &office_csrf).await).await;
    let uri = format!("/bulletins/drafts/{id}");
    for role in [Role::Member, Role::Leader] {
        let (cookie, csrf) = session(&f, role).await;
        let list = page(&f, "/bulletins", &cookie).await;
        assert_eq!(list.status, StatusCode::OK, "{role:?}");
        assert!(list.body.contains(&format!("href=\"/bulletins/{number}\"")), "{role:?} sees the issued list");
        assert!(!list.body.contains("action=\"/bulletins/drafts\""), "{role:?} gets no compile form");
        assert!(!list.body.contains(&uri), "{role:?} does not see drafts");
        let view = page(&f, &format!("/bulletins/{number}"), &cookie).await;
        assert_eq!(view.status, StatusCode::OK, "{role:?}");
        assert!(!view.body.contains("/correct\""), "{role:?} gets no correction form");
        let pdf = page(&f, &format!("/bulletins/{number}/download/docx"), &cookie).await;
        assert_eq!(pdf.status, StatusCode::OK, "{role:?} downloads");
        assert_eq!(page(&f, &uri, &cookie).await.status, StatusCode::FORBIDDEN, "{role:?} opens no draft");
        assert_eq!(page(&f, &format!("{uri}/preview"), &cookie).await.status, StatusCode::FORBIDDEN);
        for (path, fields) in [
            ("/bulletins/drafts".to_string(), vec![("csrf", csrf.as_str())]),
            (uri.clone(), vec![("csrf", csrf.as_str()), ("revision", "1"), ("op", "issue")]),
            (format!("/bulletins/{number}/correct"), vec![("csrf", csrf.as_str())]),
        ] {
            let a = form(&f, &path, &cookie, &fields).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?} {path}");
        }
    }
    assert_eq!(f.state.store.issued_bulletins(10, 0).await.unwrap().1, 1, "the member issued nothing");
    assert!(f.state.store.draft(id).await.unwrap().unwrap().issued_number.is_none());
    // Not logged in: the login page.
    let a = send(&f, Request::get("/bulletins/1").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().starts_with("/login"));
    let a = send(&f, Request::get("/reports").body(Body::empty()).unwrap()).await;
    assert!(a.location().starts_with("/login"));
}

#[tokio::test]
async fn two_drafts_issued_at_once_get_distinct_numbers() {
    let f = fixture().await;
    let (office, csrf) = session(&f, Role::Office).await;
    let (admin, admin_csrf) = session(&f, Role::Admin).await;
    let a = compile_draft(&f, &office, &csrf).await;
    let b = compile_draft(&f, &admin, &admin_csrf).await;
    let (ua, ub) = (format!("/bulletins/drafts/{a}"), format!("/bulletins/drafts/{b}"));
    let fields_a = [("csrf", csrf.as_str()), ("revision", "1"), ("op", "issue")];
    let fields_b = [("csrf", admin_csrf.as_str()), ("revision", "1"), ("op", "issue")];
    let (ra, rb) = tokio::join!(form(&f, &ua, &office, &fields_a), form(&f, &ub, &admin, &fields_b));
    assert_eq!((ra.status, rb.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{} {}", ra.body, rb.body);
    let mut numbers = vec![ra.location().to_string(), rb.location().to_string()];
    numbers.sort();
    assert_eq!(numbers, ["/bulletins/1", "/bulletins/2"]);
    // The same draft issued twice at once: once only.
    let c = compile_draft(&f, &office, &csrf).await;
    let uc = format!("/bulletins/drafts/{c}");
    let (r1, r2) = tokio::join!(form(&f, &uc, &office, &fields_a), form(&f, &uc, &admin, &fields_b));
    let mut statuses = [r1.status, r2.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    assert_eq!(f.state.store.issued_bulletins(10, 0).await.unwrap().1, 3);
}

#[tokio::test]
async fn a_correction_is_a_new_issue_naming_the_one_it_corrects() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let first = issue(&f, &cookie, &csrf, compile_draft(&f, &cookie, &csrf).await).await;
    let a = form(&f, &format!("/bulletins/{first}/correct"), &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let draft: i64 = a.location().trim_start_matches("/bulletins/drafts/").parse().unwrap();
    let row = f.state.store.draft(draft).await.unwrap().unwrap();
    assert_eq!(row.corrects, Some(first));
    let doc = draft_doc(&f, draft).await;
    assert_eq!(doc.items[0], Some(f.ids[0]), "the entries keep their items");
    assert!(doc.bulletin.comment.as_deref().unwrap().contains("本期为对第1期"), "{:?}", doc.bulletin.comment);
    let uri = format!("/bulletins/drafts/{draft}");
    let a = form(&f, &uri, &cookie, &[("csrf", &csrf), ("revision", "1"), ("summary_0", "更正后的摘要。")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let second = issue(&f, &cookie, &csrf, draft).await;
    assert_eq!(second, first + 1);
    let issued = f.state.store.issued_bulletin(second).await.unwrap().unwrap();
    assert_eq!(issued.corrects, Some(first));
    let view = page(&f, &format!("/bulletins/{first}"), &cookie).await;
    assert!(view.body.contains(&format!("href=\"/bulletins/{second}\"")), "the corrected issue links its correction");
    let original: yuqing_report::Bulletin =
        serde_json::from_str(&f.state.store.issued_bulletin(first).await.unwrap().unwrap().content).unwrap();
    assert_ne!(original.entries[0].summary, "更正后的摘要。", "the corrected issue stays as issued");
    let pdf_text = page(&f, &format!("/bulletins/{second}/download/html"), &cookie).await.body;
    assert!(pdf_text.contains("第2期") && pdf_text.contains("更正后的摘要。"));
}

/// Text of a PDF by `pdftotext`.
fn pdftotext(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// One member of a ZIP file (DOCX, XLSX) by `unzip -p`.
fn unzip(bytes: &[u8], member: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("unzip").arg("-p").arg(&path).arg(member).output().expect("unzip runs");
    assert!(out.status.success(), "{member} is not in the file: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn attachment(a: &Answer, content_type: &str, ext: &str) {
    assert_eq!(a.status, StatusCode::OK, "{}", a.body.chars().take(300).collect::<String>());
    assert_eq!(a.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap(), content_type);
    let d = a.headers.get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap();
    assert!(d.starts_with("attachment;") && d.contains(&format!(".{ext}\"")), "{d}");
}

#[tokio::test]
async fn downloads_are_real_pdf_docx_xlsx_and_csv() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let n = issue(&f, &cookie, &csrf, compile_draft(&f, &cookie, &csrf).await).await;
    let (leader, _) = session(&f, Role::Leader).await;

    let started = std::time::Instant::now();
    let pdf = page(&f, &format!("/bulletins/{n}/download/pdf"), &leader).await;
    eprintln!("bulletin PDF ({} entries) rendered in {:?} (debug build)", 4, started.elapsed());
    attachment(&pdf, "application/pdf", "pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf.bytes);
    let flat: String = text.split_whitespace().collect();
    for want in ["财政网上舆情信息", "第1期", "测试县惠农补贴未发放", "本期发至", "测试县财政系统网宣办"]
    {
        assert!(flat.contains(want), "the PDF lacks {want}:\n{text}");
    }
    let docx = page(&f, &format!("/bulletins/{n}/download/docx"), &leader).await;
    attachment(&docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx");
    assert!(docx.bytes.starts_with(b"PK\x03\x04"));
    let xml = unzip(&docx.bytes, "word/document.xml");
    assert!(
        xml.contains("第1期") && xml.contains("测试县惠农补贴未发放") && xml.contains("本期发至"),
        "{}",
        &xml[..xml.len().min(2000)]
    );
    assert_eq!(page(&f, &format!("/bulletins/{n}/download/xlsx"), &leader).await.status, StatusCode::NOT_FOUND);

    // The report and the exports of the week.
    let q = "since=".to_string()
        + &(Utc::now() - Duration::days(3)).format("%Y-%m-%d").to_string()
        + "&until="
        + &(Utc::now() + Duration::days(1)).format("%Y-%m-%d").to_string();
    let pdf = page(&f, &format!("/reports/download/pdf?{q}"), &leader).await;
    attachment(&pdf, "application/pdf", "pdf");
    let text: String = pdftotext(&pdf.bytes).split_whitespace().collect();
    assert!(text.contains("测试县财政局网络舆情") && text.contains("信息走势"), "{text}");
    let docx = page(&f, &format!("/reports/download/docx?{q}"), &leader).await;
    attachment(&docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx");
    assert!(unzip(&docx.bytes, "word/document.xml").contains("处置时效"));
    let xlsx = page(&f, &format!("/reports/download/xlsx?{q}"), &leader).await;
    attachment(&xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx");
    assert!(xlsx.bytes.starts_with(b"PK\x03\x04"));
    let sheet = unzip(&xlsx.bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("测试县惠农补贴未发放"), "{}", &sheet[..sheet.len().min(1500)]);
    let csv = page(&f, &format!("/reports/download/csv?{q}"), &leader).await;
    attachment(&csv, "text/csv; charset=utf-8", "csv");
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"), "CSV starts with a BOM");
    assert_eq!(csv.body.matches("\r\n").count(), 6, "a header and five items:\n{}", csv.body);
    assert!(csv.body.contains("'=HYPERLINK("), "a formula is guarded:\n{}", csv.body);
    assert!(!csv.body.contains(",=HYPERLINK(") && !csv.body.contains(",\"=HYPERLINK("), "{}", csv.body);
}

#[tokio::test]
async fn a_hostile_title_stays_text_in_the_editor_the_preview_and_the_report() {
    let f = fixture().await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let id = compile_draft(&f, &cookie, &csrf).await;
    let doc = draft_doc(&f, id).await;
    assert!(doc.bulletin.entries.iter().any(|e| e.headline == HOSTILE), "the hostile item is an entry");
    let mut pages = vec![
        page(&f, &format!("/bulletins/drafts/{id}"), &cookie).await,
        page(&f, &format!("/bulletins/drafts/{id}/preview"), &cookie).await,
        page(&f, "/reports?kind=weekly", &cookie).await,
        page(&f, "/reports?kind=daily", &cookie).await,
        page(&f, "/reports?kind=monthly&lang=en", &cookie).await,
    ];
    let q = "since=".to_string()
        + &(Utc::now() - Duration::days(3)).format("%Y-%m-%d").to_string()
        + "&until="
        + &(Utc::now() + Duration::days(1)).format("%Y-%m-%d").to_string();
    pages.push(page(&f, &format!("/reports?{q}"), &cookie).await);
    for (n, p) in pages.iter().enumerate() {
        assert_eq!(p.status, StatusCode::OK, "page {n}: {}", p.body);
        assert!(!p.body.contains("<script"), "page {n} has a script tag");
        assert!(!p.body.contains("<img"), "page {n} has an img tag");
        assert!(!p.body.contains("<style"), "page {n} has inline style (the CSP forbids it)");
    }
    for p in &pages[..2] {
        assert!(
            p.body.contains("&lt;script&gt;alert(1)&lt;") || p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the title is shown escaped"
        );
    }
    // The report pages have their charts inline, as SVG.
    for p in &pages[2..] {
        assert!(p.body.contains("<svg") && p.body.contains("class=\"yq-report\""), "inline charts");
    }
    assert!(pages[3].body.contains("网络舆情日报") && pages[4].body.contains("网络舆情月报"));
    assert!(pages[4].body.contains("Statistics reports"), "the page around the report is in English");
    // The complaint and its repost are the period's top event.
    assert!(pages[5].body.contains("测试县惠农补贴未发放"));
}

#[tokio::test]
async fn the_bulletin_api_lists_issues_creates_with_the_role_and_serves_documents() {
    let f = fixture().await;
    let a = api(&f, Role::Member, "POST", "/api/v1/bulletins", "{}").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = api(&f, Role::Office, "POST", "/api/v1/bulletins", r#"{"since": "2026-13-01"}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let a = api(&f, Role::Office, "POST", "/api/v1/bulletins", "").await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.json()["bulletin"]["number"], 1);
    assert_eq!(a.json()["bulletin"]["label"], "第1期");
    assert_eq!(a.json()["bulletin"]["issued_by"], "zhang");
    let list = api(&f, Role::Leader, "GET", "/api/v1/bulletins", "").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["total"], 1);
    let one = api(&f, Role::Member, "GET", "/api/v1/bulletins/1", "").await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["content"]["entries"][0]["headline"], HEADLINE);
    assert_eq!(api(&f, Role::Member, "GET", "/api/v1/bulletins/9", "").await.status, StatusCode::NOT_FOUND);
    let docx = api(&f, Role::Member, "GET", "/api/v1/bulletins/1/document?format=docx", "").await;
    assert_eq!(docx.status, StatusCode::OK);
    assert!(docx.bytes.starts_with(b"PK\x03\x04"));
    assert_eq!(
        api(&f, Role::Member, "GET", "/api/v1/bulletins/1/document?format=exe", "").await.status,
        StatusCode::BAD_REQUEST
    );
    let report = api(&f, Role::Member, "GET", "/api/v1/reports?kind=daily", "").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.json()["spec"]["kind"], "daily");
    assert_eq!(api(&f, Role::Member, "GET", "/api/v1/reports?kind=hourly", "").await.status, StatusCode::BAD_REQUEST);
    // A browser session is no way into the API.
    let (cookie, _) = session(&f, Role::Office).await;
    let req = Request::get("/api/v1/bulletins").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    assert_eq!(send(&f, req).await.status, StatusCode::UNAUTHORIZED);
    // Every documented bulletin and report operation answers with a documented status.
    let doc = send(&f, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await.json();
    let mut walked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/bulletins") && !path.starts_with("/api/v1/reports") {
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            let uri = path.replace("{number}", "1");
            let r = api(&f, Role::Office, &method.to_uppercase(), &uri, "").await;
            assert!(r.status.is_success(), "{method} {path}: {}", r.status);
            assert!(op["responses"].get(r.status.as_str()).is_some(), "{method} {path} answered {}", r.status);
            walked += 1;
        }
    }
    assert_eq!(walked, 5);
}

#[tokio::test]
async fn yearly_numbering_reads_the_year_and_its_count() {
    let config = format!("{CONFIG}number_reset = \"yearly\"\n");
    let f = fixture_with(&config).await;
    let (cookie, csrf) = session(&f, Role::Office).await;
    let n = issue(&f, &cookie, &csrf, compile_draft(&f, &cookie, &csrf).await).await;
    let year = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y").to_string();
    let view = page(&f, &format!("/bulletins/{n}"), &cookie).await;
    assert!(view.body.contains(&format!("{year}年第1期")), "{}", view.body);
    let en = page(&f, &format!("/bulletins/{n}?lang=en"), &cookie).await;
    assert!(en.body.contains(&format!("No. 1 of {year}")));
}
