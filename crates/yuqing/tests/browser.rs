//! One browser test: headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs) against a running `yuqing serve`. The office logs in, reports an
//! item from its page and assesses it for the leaders; the leader logs in and decides;
//! the office records the answer and reports back, and the case is closed — all through
//! the forms of the web UI (CSRF tokens included), checked afterwards through the API.
//!
//! Chromium is driven by the W3C WebDriver protocol over HTTP: a few JSON calls with
//! reqwest, written here rather than pulling a WebDriver crate (fantoccini would add
//! hyper-util, cookie and webdriver crates for the dozen endpoints this test uses).
//!
//! Without Chromium the test prints a notice and passes, except under `CI=true`, where a
//! missing browser is a failure.

mod common;
mod site;

use common::{wait_for, Api, Desk, COLLECT};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")]) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// chromedriver and the browser session; the session is ended (the browser quits) and
/// chromedriver killed when dropped.
struct Browser {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    fn start(chromium: &std::path::Path, chromedriver: &std::path::Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let http =
            reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).no_proxy().build().expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let mut b = Browser { http, base, session: String::new(), driver, profile };
        let ready = wait_for(Duration::from_secs(15), || {
            let r = b.http.get(format!("{}/status", b.base)).send().ok()?;
            let v: Value = r.json().ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        });
        assert!(ready.is_some(), "chromedriver did not get ready");
        // This machine's network is closed: no first-run, sync, update or QUIC traffic.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1024",
        ];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", b.profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
        }}});
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        b
    }

    /// One WebDriver command; its `value`. A WebDriver error fails the test.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let r = req.send().unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = r.status();
        let v: Value = r.json().unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None).as_str().unwrap_or("").to_string()
    }

    fn find(&self, css: &str) -> String {
        let v = self.call("POST", &self.s("/element"), Some(json!({"using": "css selector", "value": css})));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    fn exists(&self, css: &str) -> bool {
        let v = self.call("POST", &self.s("/elements"), Some(json!({"using": "css selector", "value": css})));
        v.as_array().is_some_and(|a| !a.is_empty())
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &self.s(&format!("/element/{e}/clear")), None);
        self.call("POST", &self.s(&format!("/element/{e}/value")), Some(json!({ "text": text })));
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &self.s(&format!("/element/{e}/click")), None);
    }

    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.call("GET", &self.s(&format!("/element/{e}/text")), None).as_str().unwrap_or("").to_string()
    }

    fn login(&self, base: &str, user: &str, password: &str) {
        self.goto(&format!("{base}/login"));
        self.type_into("input[name=username]", user);
        self.type_into("input[name=password]", password);
        self.click("form[action='/login'] button[type=submit]");
        let ok = wait_for(Duration::from_secs(10), || (!self.url().contains("/login")).then_some(()));
        assert!(ok.is_some(), "login as {user} did not leave the login page: {}", self.url());
        assert!(self.text("span.user").contains(user));
    }

    fn logout(&self) {
        self.click("form[action='/logout'] button");
        let ok = wait_for(Duration::from_secs(10), || self.exists("input[name=username]").then_some(()));
        assert!(ok.is_some(), "logout did not show the login page");
    }

    /// Submits the case page's form of `action` after `fill`, and waits for the new page.
    fn act(&self, action: &str, fill: impl Fn(&Browser, &str)) {
        let form = format!("form.action-{action}");
        fill(self, &form);
        self.click(&format!("{form} button[type=submit]"));
        let ok = wait_for(Duration::from_secs(10), || {
            (self.exists(&format!("li.step.action-{action}")) && !self.exists("#problem")).then_some(())
        });
        assert!(
            ok.is_some(),
            "{action}: no step on the page after submitting (problem shown: {})",
            self.exists("#problem")
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn office_and_leader_walk_a_case_to_closed_in_headless_chromium() {
    let chromium = find_program(&["chromium", "chromium-browser"]);
    let chromedriver = find_program(&["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let msg =
            "the browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("NOTICE: skipped: {msg}");
        return;
    };

    let site = site::start();
    let desk = Desk::new(&format!(
        "{COLLECT}\n[[sources]]\nname = \"上犹新闻网\"\nkind = \"feed\"\nurl = \"{}\"\ntier = \"local\"\n",
        site.url("/rss.xml")
    ));
    let out = desk.ok(&["collect", "--once"]);
    assert!(out.contains("items new: 1"), "{out}");
    desk.add_user("zhang", "office", "office-password-1");
    desk.add_user("wangju", "leader", "leader-password-1");
    let token = desk.token("zhang");
    let serve = desk.serve(&["--no-collect"]);
    let api = Api::new(&serve);
    let (_, items) = api.get(&token, "/api/v1/items");
    let item = items["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("no item: {items}"));
    let base = serve.url("");

    let b = Browser::start(&chromium, &chromedriver);

    // Not logged in: the item page sends the browser to the login page.
    b.goto(&format!("{base}/items/{item}"));
    assert!(b.url().contains("/login"), "{}", b.url());

    // The office logs in and reports the item from its page.
    b.login(&base, "zhang", "office-password-1");
    b.goto(&format!("{base}/items/{item}"));
    assert!(b.text("h1").contains(site::A1_TITLE), "{}", b.text("h1"));
    b.type_into("form[action$='/report'] textarea[name=note]", "网上有人转发此稿，请研判");
    b.click("form[action$='/report'] button[type=submit]");
    let case_url = wait_for(Duration::from_secs(10), || Some(b.url()).filter(|u| u.contains("/cases/")));
    let case_url = case_url.unwrap_or_else(|| panic!("reporting did not open the case page: {}", b.url()));
    let case_id: i64 = case_url.rsplit('/').next().and_then(|s| s.parse().ok()).expect("case id in the URL");
    assert!(b.exists("li.step.action-report"));
    assert!(b.text("li.step.action-report").contains("zhang"));

    // Assess: important, for the leaders to decide.
    b.act("assess", |b, f| {
        b.click(&format!("{f} select[name=level] option[value=important]"));
        b.click(&format!("{f} select[name=path] option[value=leadership]"));
        b.type_into(&format!("{f} textarea[name=note]"), "涉及惠农补贴，报领导决定");
    });
    assert!(!b.exists("form.action-decide"), "the office may not decide");
    b.logout();

    // The leader decides.
    b.login(&base, "wangju", "leader-password-1");
    b.goto(&case_url);
    b.act("decide", |b, f| b.type_into(&format!("{f} textarea[name=note]"), "同意按政策公开答复"));
    b.logout();

    // The office records the answer and reports back.
    b.login(&base, "zhang", "office-password-1");
    b.goto(&case_url);
    b.act("respond", |b, f| {
        b.type_into(&format!("{f} input[name=channel]"), "县政府网站“政民互动”");
        b.type_into(&format!("{f} textarea[name=text]"), "您好，补贴已全部发放到户。");
        b.type_into(&format!("{f} input[name=url]"), "https://www.example.gov.cn/hd/7.html");
    });
    b.act("report-back", |b, f| b.type_into(&format!("{f} textarea[name=note]"), "已向县网宣办报告处置结果"));
    assert!(b.text("h1 .badge.state").contains("已办结"), "{}", b.text("h1"));
    assert!(!b.exists("form.action"), "a closed case offers no action");
    let timeline = b.text("ol.timeline");
    assert!(timeline.contains("您好，补贴已全部发放到户。") && timeline.contains("wangju"), "{timeline}");

    // The same record through the API.
    let (status, case) = api.get(&token, &format!("/api/v1/cases/{case_id}"));
    assert_eq!(status, 200);
    assert_eq!(case["state"], "closed");
    let steps: Vec<(String, String)> = case["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| (s["action"].as_str().unwrap_or("").into(), s["actor"].as_str().unwrap_or("").into()))
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<(String, String)> = [
        ("report", "zhang"),
        ("assess", "zhang"),
        ("decide", "wangju"),
        ("respond", "zhang"),
        ("report-back", "zhang"),
    ]
    .iter()
    .map(|(a, u)| (a.to_string(), u.to_string()))
    .collect();
    assert_eq!(steps, want);
    assert_eq!(case["path"], "leadership");
    assert_eq!(case["level"], "important");
    assert_eq!(case["steps"][3]["fields"]["channel"], "县政府网站“政民互动”");
}
