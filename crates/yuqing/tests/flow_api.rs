//! The handling flow through the HTTP API of a running `yuqing serve`, with member,
//! office, leader and admin tokens made by `yuqing user add` and `yuqing token create`:
//! the walk of INTERFACES.md (member reports, office assesses with path `leadership`,
//! leader decides, office responds and reports back) with the 403s and 409s on the way,
//! and every action × every role × every state against the table, written out here from
//! INTERFACES.md (not taken from the `yuqing-cases` crate under test).

mod common;
mod site;

use chrono::{DateTime, Utc};
use common::{Api, Desk, Serve, COLLECT};
use serde_json::{json, Value};

const ROLES: [&str; 4] = ["member", "office", "leader", "admin"];
const STATES: [&str; 6] = ["reported", "fact-finding", "leadership-review", "answering", "answered", "closed"];
const ACTIONS: [&str; 7] = ["report", "assess", "establish-facts", "decide", "respond", "report-back", "dismiss"];

/// User name of each role.
fn name(role: &str) -> &'static str {
    match role {
        "member" => "xiaoli",
        "office" => "zhang",
        "leader" => "wangju",
        _ => "root",
    }
}

struct Desk4 {
    _site: site::Site,
    _desk: Desk,
    serve: Serve,
    api: Api,
    /// Tokens in the order of [`ROLES`].
    tokens: Vec<String>,
    /// Ids of the collected items.
    items: Vec<i64>,
}

impl Desk4 {
    fn token(&self, role: &str) -> &str {
        &self.tokens[ROLES.iter().position(|r| *r == role).expect("role")]
    }
    fn get_case(&self, id: i64) -> Value {
        let (status, case) = self.api.get(self.token("member"), &format!("/api/v1/cases/{id}"));
        assert_eq!(status, 200, "{case}");
        case
    }
    fn act(&self, role: &str, case: i64, body: &Value) -> (u16, Value) {
        self.api.post(self.token(role), &format!("/api/v1/cases/{case}/actions"), body)
    }
}

/// Collects the local site's items once, adds the four users and their tokens, serves.
fn desk() -> Desk4 {
    let site = site::start();
    let config = format!(
        "{COLLECT}\n[[sources]]\nname = \"上犹新闻网\"\nkind = \"feed\"\nurl = \"{}\"\ntier = \"local\"\n\n\
         [[sources]]\nname = \"赣南资讯网\"\nkind = \"page\"\nurl = \"{}\"\ntier = \"home-city\"\n",
        site.url("/rss.xml"),
        site.url("/gbk/list.html")
    );
    let desk = Desk::new(&config);
    let out = desk.ok(&["collect", "--once"]);
    assert!(out.contains("items new: 2"), "{out}");
    let mut tokens = Vec::new();
    for role in ROLES {
        desk.add_user(name(role), role, "a-long-password-1");
        tokens.push(desk.token(name(role)));
    }
    let serve = desk.serve(&["--no-collect"]);
    let api = Api::new(&serve);
    let (status, list) = api.get(&tokens[0], "/api/v1/items?limit=10");
    assert_eq!(status, 200, "{list}");
    let items: Vec<i64> =
        list["items"].as_array().map(|a| a.iter().filter_map(|i| i["id"].as_i64()).collect()).unwrap_or_default();
    assert_eq!(items.len(), 3, "{list}");
    Desk4 { _site: site, _desk: desk, serve, api, tokens, items }
}

fn at(step: &Value) -> DateTime<Utc> {
    step["at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("step without an RFC 3339 time: {step}"))
}

/// Checks the last step: its action, its actor, a time between `before` and now.
fn check_last_step(case: &Value, action: &str, actor: &str, before: DateTime<Utc>) {
    let steps = case["steps"].as_array().expect("steps");
    let last = steps.last().expect("a step");
    assert_eq!(last["action"], action, "{last}");
    assert_eq!(last["actor"], actor, "{last}");
    let t = at(last);
    let slack = chrono::Duration::seconds(1);
    assert!(t >= before - slack && t <= Utc::now() + slack, "step time {t} not within the request ({before})");
    assert_eq!(last["to_state"], case["state"], "{last}");
}

fn refused(status: u16, body: &Value, want: u16, context: &str) {
    assert_eq!(status, want, "{context}: {body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{context}: an English reason: {body}");
    assert!(body["error_zh"].as_str().is_some_and(|e| !e.is_empty()), "{context}: a Chinese reason: {body}");
}

#[test]
fn member_reports_office_assesses_for_the_leaders_leader_decides_office_answers_and_reports_back() {
    let d = desk();
    let item = d.items[0];
    let t0 = Utc::now();

    // No token, a wrong token: 401.
    let r = d.api.http.post(d.serve.url(&format!("/api/v1/items/{item}/report"))).json(&json!({})).send();
    assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(401));
    let (s, _) = d.api.post("not-a-token", &format!("/api/v1/items/{item}/report"), &json!({"note": "x"}));
    assert_eq!(s, 401);

    // A member reports the item.
    let (s, body) = d.api.post(
        d.token("member"),
        &format!("/api/v1/items/{item}/report"),
        &json!({"note": "论坛帖子，请网宣办关注"}),
    );
    assert_eq!(s, 201, "{body}");
    let case = &body["case"];
    let id = case["id"].as_i64().expect("case id");
    assert_eq!(case["state"], "reported");
    assert_eq!(case["item_id"], item);
    assert_eq!(case["allowed_actions"], json!(["report"]), "a member may only add reports");
    check_last_step(case, "report", "xiaoli", t0);
    assert_eq!(case["steps"][0]["note"], "论坛帖子，请网宣办关注");

    // A second report of the same item adds to the open case.
    let (s, body) = d.api.post(d.token("leader"), &format!("/api/v1/items/{item}/report"), &json!({}));
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["case"]["id"], id, "no second case for an item under an open case");
    assert_eq!(body["case"]["steps"].as_array().map(Vec::len), Some(2));

    let assess = json!({"action": "assess", "level": "major-sensitive", "path": "leadership", "note": "涉及补贴资金，报领导决定"});
    let decide = json!({"action": "decide", "note": "同意核实后在政民互动公开答复"});
    let respond = json!({"action": "respond", "channel": "县政府网站“政民互动”", "text": "您好，经核实，您反映的补贴已于12月1日补发到户。",
        "url": "https://www.example.gov.cn/hd/123.html", "note": "经局长审定"});
    let back = json!({"action": "report-back", "note": "已向县网宣办报告处置结果"});

    // reported: the member may not assess, the leader may not assess, nothing else fits.
    let (s, b) = d.act("member", id, &assess);
    refused(s, &b, 403, "member assess");
    let (s, b) = d.act("leader", id, &assess);
    refused(s, &b, 403, "leader assess");
    let (s, b) = d.act("office", id, &decide);
    refused(s, &b, 403, "office decide");
    let (s, b) = d.act("leader", id, &decide);
    refused(s, &b, 409, "leader decide before the assessment");
    let (s, b) = d.act("office", id, &respond);
    refused(s, &b, 409, "office respond before the assessment");
    let (s, b) = d.act("office", id, &back);
    refused(s, &b, 409, "office report-back before the assessment");

    let t = Utc::now();
    let (s, case) = d.act("office", id, &assess);
    assert_eq!(s, 200, "{case}");
    assert_eq!(case["state"], "leadership-review");
    assert_eq!(case["level"], "major-sensitive");
    assert_eq!(case["path"], "leadership");
    check_last_step(&case, "assess", "zhang", t);
    assert_eq!(case["steps"][2]["fields"], json!({"level": "major-sensitive", "path": "leadership"}));

    // leadership-review: only a leader decides.
    let (s, b) = d.act("office", id, &assess);
    refused(s, &b, 409, "assess twice");
    let (s, b) = d.act("office", id, &decide);
    refused(s, &b, 403, "office decide");
    let (s, b) = d.act("admin", id, &decide);
    refused(s, &b, 403, "admin decide");
    let (s, b) = d.act("member", id, &decide);
    refused(s, &b, 403, "member decide");
    let (s, b) = d.act("office", id, &respond);
    refused(s, &b, 409, "respond before the decision");

    let t = Utc::now();
    let (s, case) = d.act("leader", id, &decide);
    assert_eq!(s, 200, "{case}");
    assert_eq!(case["state"], "answering");
    check_last_step(&case, "decide", "wangju", t);

    // answering: the office records the answer.
    let (s, b) = d.act("leader", id, &decide);
    refused(s, &b, 409, "decide twice");
    let (s, b) = d.act("leader", id, &respond);
    refused(s, &b, 403, "leader respond");
    let (s, b) = d.act("member", id, &respond);
    refused(s, &b, 403, "member respond");
    let (s, b) = d.act("office", id, &back);
    refused(s, &b, 409, "report-back before the answer");
    let (s, b) = d.act("office", id, &json!({"action": "respond", "channel": "", "text": "x"}));
    assert_eq!(s, 400, "a response without its channel: {b}");

    let t = Utc::now();
    let (s, case) = d.act("office", id, &respond);
    assert_eq!(s, 200, "{case}");
    assert_eq!(case["state"], "answered");
    check_last_step(&case, "respond", "zhang", t);

    // answered: the office reports back.
    let (s, b) = d.act("office", id, &respond);
    refused(s, &b, 409, "respond twice");
    let (s, b) = d.act("member", id, &back);
    refused(s, &b, 403, "member report-back");
    let (s, b) = d.act("leader", id, &back);
    refused(s, &b, 403, "leader report-back");

    let t = Utc::now();
    let (s, case) = d.act("office", id, &back);
    assert_eq!(s, 200, "{case}");
    assert_eq!(case["state"], "closed");
    check_last_step(&case, "report-back", "zhang", t);

    // closed: nothing fits any more; roles are still checked first.
    let (s, b) = d.act("office", id, &json!({"action": "dismiss", "note": "无需处置"}));
    refused(s, &b, 409, "dismiss a closed case");
    let (s, b) = d.act("leader", id, &decide);
    refused(s, &b, 409, "decide on a closed case");
    let (s, b) = d.act("member", id, &json!({"action": "dismiss", "note": "无需处置"}));
    refused(s, &b, 403, "member dismiss");
    let (s, b) = d.act("office", id, &back);
    refused(s, &b, 409, "report-back twice");

    // The record, as anyone reads it: each action with its actor and time, in order.
    let case = d.get_case(id);
    assert_eq!(case["state"], "closed");
    assert_eq!(case["allowed_actions"], json!([]));
    let steps = case["steps"].as_array().expect("steps");
    let got: Vec<(&str, &str)> =
        steps.iter().map(|s| (s["action"].as_str().unwrap_or(""), s["actor"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        got,
        [
            ("report", "xiaoli"),
            ("report", "wangju"),
            ("assess", "zhang"),
            ("decide", "wangju"),
            ("respond", "zhang"),
            ("report-back", "zhang")
        ]
    );
    let times: Vec<DateTime<Utc>> = steps.iter().map(at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "steps in time order: {times:?}");
    assert!(times[0] >= t0 - chrono::Duration::seconds(1));
    assert_eq!(steps[3]["note"], "同意核实后在政民互动公开答复");
    assert_eq!(
        steps[4]["fields"],
        json!({"channel": "县政府网站“政民互动”", "text": "您好，经核实，您反映的补贴已于12月1日补发到户。",
               "url": "https://www.example.gov.cn/hd/123.html"})
    );
    assert_eq!(steps[4]["note"], "经局长审定");
    assert_eq!(steps[5]["note"], "已向县网宣办报告处置结果");
    assert!(!case["closed_at"].is_null());

    // The list shows it closed; reporting the item again opens a new case.
    let (s, list) = d.api.get(d.token("leader"), "/api/v1/cases?state=closed");
    assert_eq!(s, 200);
    assert!(list["cases"].as_array().is_some_and(|c| c.iter().any(|c| c["id"] == id)), "{list}");
    let (s, body) =
        d.api.post(d.token("member"), &format!("/api/v1/items/{item}/report"), &json!({"note": "又有新帖"}));
    assert_eq!(s, 201);
    assert_ne!(body["case"]["id"], id, "a closed case is not reopened");
}

// ---- every action × every role × every state ---------------------------------------------

/// What INTERFACES.md's table says: `Err(403)` for a role that may not, `Err(409)` for a
/// state the action does not fit (roles are checked first), or the state it leads to.
fn expected(state: &str, action: &str, role: &str, path: &str) -> Result<&'static str, u16> {
    let office = role == "office" || role == "admin";
    let may = match action {
        "report" => true,
        "decide" => role == "leader",
        "dismiss" => office || role == "leader",
        _ => office,
    };
    if !may {
        return Err(403);
    }
    let open = state != "closed";
    let to = match (action, state) {
        ("report", s) if open => STATES.iter().find(|x| **x == s).copied(),
        ("assess", "reported") => Some(match path {
            "policy" => "answering",
            "facts" => "fact-finding",
            _ => "leadership-review",
        }),
        ("establish-facts", "fact-finding") => Some("answering"),
        ("decide", "leadership-review") => Some("answering"),
        ("respond", "answering") => Some("answered"),
        ("report-back", "answered") => Some("closed"),
        ("dismiss", _) if open => Some("closed"),
        _ => None,
    };
    to.ok_or(409)
}

fn body(action: &str, path: &str) -> Value {
    match action {
        "assess" => json!({"action": "assess", "level": "important", "path": path, "note": "涉及惠农补贴"}),
        "respond" => json!({"action": "respond", "channel": "县政府网站“政民互动”", "text": "您好，补贴已发放。",
                            "url": "https://www.example.gov.cn/hd/1.html", "note": ""}),
        a => json!({"action": a, "note": format!("{a} 的说明")}),
    }
}

impl Desk4 {
    /// A new case of `item` walked to `state` by the office and the leader.
    fn case_in(&self, item: i64, state: &str) -> i64 {
        let (s, b) = self.api.post(self.token("member"), &format!("/api/v1/items/{item}/report"), &json!({}));
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["case"]["state"], "reported", "the item's earlier case is closed: a new case opens: {b}");
        let id = b["case"]["id"].as_i64().expect("id");
        let walk: &[(&str, Value)] = &match state {
            "reported" => vec![],
            "fact-finding" => vec![("office", body("assess", "facts"))],
            "leadership-review" => vec![("office", body("assess", "leadership"))],
            "answering" => vec![("office", body("assess", "policy"))],
            "answered" => vec![("office", body("assess", "policy")), ("office", body("respond", ""))],
            _ => vec![
                ("office", body("assess", "policy")),
                ("office", body("respond", "")),
                ("office", body("report-back", "")),
            ],
        };
        for (role, b) in walk {
            let (s, r) = self.act(role, id, b);
            assert_eq!(s, 200, "walking to {state}: {r}");
        }
        assert_eq!(self.get_case(id)["state"], state);
        id
    }

    /// Closes the case if it is still open, so that its item can open a new one.
    fn close(&self, id: i64) {
        if self.get_case(id)["state"] != "closed" {
            let (s, r) = self.act("office", id, &body("dismiss", ""));
            assert_eq!(s, 200, "{r}");
        }
    }
}

#[test]
fn every_action_by_every_role_in_every_state_is_as_the_table_says() {
    let d = desk();
    let item = d.items[1];
    let mut checked = 0;
    for state in STATES {
        // Refusals and reports leave the state as it is: one case serves them all.
        let shared = d.case_in(item, state);
        let mut to_try_fresh = Vec::new();
        for action in ACTIONS {
            for role in ROLES {
                // `assess` goes where its path says: the office takes one path, admins another.
                let path = if role == "admin" { "facts" } else { "leadership" };
                match expected(state, action, role, path) {
                    Ok(to) if to != state => to_try_fresh.push((action, role, path, to)),
                    want => {
                        let before = d.get_case(shared);
                        let t = Utc::now();
                        let (s, r) = d.act(role, shared, &body(action, path));
                        let context = format!("{action} by {role} in {state}");
                        let after = d.get_case(shared);
                        let n_before = before["steps"].as_array().map_or(0, Vec::len);
                        let n_after = after["steps"].as_array().map_or(0, Vec::len);
                        match want {
                            Err(code) => {
                                refused(s, &r, code, &context);
                                assert_eq!(n_after, n_before, "{context}: a refusal adds no step");
                            }
                            Ok(to) => {
                                assert_eq!(s, 200, "{context}: {r}");
                                assert_eq!(r["state"], to, "{context}");
                                assert_eq!(n_after, n_before + 1, "{context}");
                                check_last_step(&after, action, name(role), t);
                            }
                        }
                        assert_eq!(after["state"], state, "{context}");
                        checked += 1;
                    }
                }
            }
        }
        d.close(shared);
        for (action, role, path, to) in to_try_fresh {
            let id = d.case_in(item, state);
            let t = Utc::now();
            let (s, r) = d.act(role, id, &body(action, path));
            let context = format!("{action} by {role} in {state}");
            assert_eq!(s, 200, "{context}: {r}");
            assert_eq!(r["state"], to, "{context}: {r}");
            let case = d.get_case(id);
            assert_eq!(case["state"], to, "{context}");
            check_last_step(&case, action, name(role), t);
            assert_eq!(
                case["steps"].as_array().and_then(|s| s.last()).map(|s| s["from_state"].clone()),
                Some(json!(state))
            );
            if action == "assess" {
                assert_eq!(case["path"], path, "{context}");
                assert_eq!(case["level"], "important", "{context}");
            }
            d.close(id);
            checked += 1;
        }
    }
    assert_eq!(checked, STATES.len() * ACTIONS.len() * ROLES.len());

    // `allowed_actions` of each role agrees with the table in every state.
    for state in STATES {
        let id = d.case_in(item, state);
        for (k, role) in ROLES.iter().enumerate() {
            let (s, case) = d.api.get(&d.tokens[k], &format!("/api/v1/cases/{id}"));
            assert_eq!(s, 200);
            let want: Vec<&str> =
                ACTIONS.iter().copied().filter(|a| expected(state, a, role, "policy").is_ok()).collect();
            assert_eq!(case["allowed_actions"], json!(want), "{role} in {state}");
        }
        d.close(id);
    }
}
