//! Rendering: the embedded templates and stylesheet, the UI language (Chinese by
//! default, English on request), the dictionary of UI strings, labels of the core enums,
//! and times in the organisation's zone.
//!
//! Templates are named `*.html`, which turns minijinja's HTML auto-escaping on for them;
//! the one thing ever marked safe is the report crate's document markup on the bulletin
//! and report pages, after an allow-list check (`documents.rs`); collected text never
//! becomes markup. Undefined
//! variables are errors, so a misspelt dictionary key fails the tests instead of
//! rendering as blank.

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::DateTime;
use chrono_tz::Tz;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::User;

use crate::WebError;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("stream.html", include_str!("../templates/stream.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("_filters.html", include_str!("../templates/_filters.html")),
    ("_items.html", include_str!("../templates/_items.html")),
    ("item.html", include_str!("../templates/item.html")),
    ("event.html", include_str!("../templates/event.html")),
    ("cases.html", include_str!("../templates/cases.html")),
    ("case.html", include_str!("../templates/case.html")),
    ("sources.html", include_str!("../templates/sources.html")),
    ("duty.html", include_str!("../templates/duty.html")),
    ("alerts.html", include_str!("../templates/alerts.html")),
    ("library.html", include_str!("../templates/library.html")),
    ("bulletins.html", include_str!("../templates/bulletins.html")),
    ("bulletin_draft.html", include_str!("../templates/bulletin_draft.html")),
    ("bulletin_view.html", include_str!("../templates/bulletin_view.html")),
    ("reports.html", include_str!("../templates/reports.html")),
    ("_tone.html", include_str!("../templates/_tone.html")),
    ("corrections.html", include_str!("../templates/corrections.html")),
    ("spikes.html", include_str!("../templates/spikes.html")),
    ("rules.html", include_str!("../templates/rules.html")),
];

const STYLESHEET: &str = include_str!("../static/app.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            // A broken embedded template is caught by the tests; at run time the page
            // using it then fails with a logged internal error rather than a panic.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "an embedded template does not parse");
            }
        }
        env
    })
}

pub(crate) async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], STYLESHEET)
        .into_response()
}

/// The UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Lang {
    Zh,
    En,
}

impl Lang {
    fn from_code(s: &str) -> Option<Lang> {
        match s {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// `?lang=` of this request if given, else the `lang` cookie, else Chinese.
    pub(crate) fn of(uri: &Uri, headers: &HeaderMap) -> Lang {
        query_lang(uri)
            .or_else(|| CookieJar::from_headers(headers).get("lang").and_then(|c| Lang::from_code(c.value())))
            .unwrap_or(Lang::Zh)
    }

    pub(crate) fn of_parts(parts: &Parts) -> Lang {
        Lang::of(&parts.uri, &parts.headers)
    }
}

/// The first value of a query parameter.
pub(crate) fn query_param(uri: &Uri, key: &str) -> Option<String> {
    let q = uri.query()?;
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

fn query_lang(uri: &Uri) -> Option<Lang> {
    let q = uri.query()?;
    url::form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| k == "lang").find_map(|(_, v)| Lang::from_code(&v))
}

/// Remembers `?lang=` in a cookie, so the choice holds on the following pages.
pub(crate) async fn remember_lang(req: Request, next: Next) -> Response {
    let chosen = if req.uri().path().starts_with("/api/") { None } else { query_lang(req.uri()) };
    let mut res = next.run(req).await;
    if let Some(lang) = chosen {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// UI strings: key, Chinese, English. Domain words follow PRODUCT.md's table.
const DICTIONARY: &[(&str, &str, &str)] = &[
    ("app_name", "舆情监测", "Opinion monitoring"),
    ("nav_stream", "信息流", "Stream"),
    ("nav_search", "搜索", "Search"),
    ("nav_sources", "信源", "Sources"),
    ("logout", "退出", "Log out"),
    ("login_title", "登录", "Log in"),
    ("username", "用户名", "User name"),
    ("password", "密码", "Password"),
    ("login_button", "登录", "Log in"),
    ("login_failed", "用户名或密码错误。", "The user name or password is wrong."),
    ("filter_button", "筛选", "Filter"),
    ("clear_filters", "清除筛选", "Clear filters"),
    ("any", "全部", "Any"),
    ("tone", "倾向", "Tone"),
    ("category", "重点内容类别", "Category"),
    ("tier", "级别", "Tier"),
    ("level", "等级", "Level"),
    ("source", "信源", "Source"),
    ("since", "起始日期", "Since"),
    ("until", "截止日期", "Until"),
    ("query", "关键词", "Words"),
    ("search_button", "搜索", "Search"),
    (
        "search_hint",
        "输入关键词，在全部已采集的信息中全文检索；可同时使用筛选条件。",
        "Type words to search every collected item; the filters apply too.",
    ),
    ("count_before", "共 ", ""),
    ("count_after", " 条", " items"),
    ("count_about", "约 ", "about "),
    (
        "count_estimated",
        "这是数据库的估算；精确计数在后台进行，稍后刷新即可看到。",
        "An estimate of the database; the exact count runs in the background and shows on a later visit.",
    ),
    ("showing", "当前", "showing"),
    ("prev", "上一页", "Previous"),
    ("next", "下一页", "Next"),
    ("no_items", "没有符合条件的信息。", "No items match."),
    ("duplicate", "重复", "Duplicate"),
    ("duplicate_hint", "重复信息：查看首发", "Repeats an earlier item: open the first-seen one"),
    ("time", "时间", "Time"),
    ("title", "标题", "Title"),
    ("published", "发布时间", "Published"),
    ("fetched", "采集时间", "Collected"),
    ("not_given", "未注明", "not given"),
    ("tone_score", "倾向值", "score"),
    ("level_reason", "定级依据", "Why this level"),
    ("matched_rules", "命中监测规则", "Matched watch rules"),
    ("none", "无", "none"),
    ("original", "查看原文", "Open the original"),
    (
        "original_not_web",
        "原文地址不是网页链接，仅显示文本：",
        "The original address is not a web link; shown as text only:",
    ),
    ("content", "正文", "Text"),
    ("no_content", "（无正文）", "(no text)"),
    ("duplicates", "重复信息", "Duplicates"),
    ("first_seen", "首发", "first seen"),
    ("this_repeats", "本条重复首发信息：", "This item repeats the first-seen item:"),
    ("item", "信息", "Item"),
    ("kind", "类型", "Kind"),
    ("weight", "权重", "Weight"),
    ("interval", "采集间隔", "Interval"),
    ("last_poll", "最近采集", "Last poll"),
    ("last_success", "最近成功", "Last success"),
    ("failures", "连续失败", "Failures in a row"),
    ("last_error", "最近错误", "Last error"),
    ("items_count", "信息数", "Items"),
    ("healthy", "正常", "Healthy"),
    ("failing", "异常", "Failing"),
    ("disabled", "已停用", "Disabled"),
    ("never", "从未", "never"),
    ("no_sources", "尚未配置信源。", "No sources are configured."),
    ("name", "名称", "Name"),
    ("back_to_stream", "返回信息流", "Back to the stream"),
    ("nav_cases", "处置", "Cases"),
    ("open_cases", "处置中", "Open cases"),
    ("overdue_count", "超时", "Overdue"),
    ("case", "处置单", "Case"),
    ("report_heading", "报送网宣办", "Report to the office"),
    ("report_button", "报送网宣办", "Report to the office"),
    ("report_note_hint", "可选：为什么需要关注，涉及哪些情况", "Optional: why it needs attention"),
    ("in_handling", "已在处置中：", "Already being handled:"),
    ("report_adds", "再次报送将追加到该处置单", "reporting again adds to this case"),
    ("closed_cases", "已办结的处置单", "Closed cases"),
    ("note", "说明", "Note"),
    ("optional", "（选填）", "(optional)"),
    ("opened", "报送时间", "Reported"),
    ("closed_at", "办结时间", "Closed"),
    ("no_cases", "暂无", "None"),
    ("closed_heading", "已办结", "Closed"),
    ("handling", "处置情况", "Handling"),
    ("case_state", "状态", "State"),
    ("path", "处置方式", "Path"),
    ("not_assessed", "尚未研判", "not assessed yet"),
    ("steps", "处置记录", "Steps"),
    ("channel", "回应渠道", "Channel"),
    ("response_text", "回应内容", "Text of the response"),
    ("response_url", "回应链接", "Link"),
    ("actions", "可执行的操作", "Actions"),
    ("no_actions", "您的角色在当前状态下没有可执行的操作。", "Your role has no action on the case in this state."),
    ("choose", "请选择", "Choose"),
    (
        "respond_hint",
        "记录已在官方渠道公开作出的署名回应（本系统不代为发布任何内容）；请在说明中注明审批人。",
        "Records the official, attributed answer given on an official channel (yuqing posts nothing itself); name who approved it in the note.",
    ),
    ("channel_hint", "如：县政府网站“政民互动”", "e.g. the county portal's Q&A section"),
    ("nav_duty", "值班", "Duty"),
    ("colon", "：", ": "),
    ("on_duty", "值班", "On duty"),
    ("nobody_on_duty", "无人值班", "Nobody on duty"),
    ("sensitive_period", "敏感时期", "Sensitive period"),
    ("until_label", "至", "until"),
    ("duty_title", "值班表", "Duty roster"),
    ("duty_window", "近 2 天及未来 14 天的值班安排", "The past 2 days and the next 14"),
    ("duty_person", "值班人员", "On watch"),
    ("duty_from", "开始时间", "From"),
    ("duty_to", "结束时间", "To"),
    ("duty_note", "备注", "Note"),
    ("duty_note_hint", "如：带班领导、分机号", "e.g. leader on call, extension"),
    ("created_by", "录入人", "Entered by"),
    ("today", "今天", "today"),
    ("on_now", "当前值班", "on duty now"),
    ("not_a_user", "非系统用户", "not a user"),
    ("no_shifts_day", "当天没有排班", "No shift this day"),
    ("gap", "无人值班", "Nobody on duty"),
    ("delete", "删除", "Delete"),
    ("add_shift", "添加班次", "Add a shift"),
    ("add_shift_button", "添加", "Add"),
    ("time_hint", "按本单位时区填写，如 2026-11-29 08:00", "In the organisation's zone, e.g. 2026-11-29 08:00"),
    ("import_csv", "导入值班表（CSV）", "Import a roster (CSV)"),
    (
        "import_hint",
        "从表格软件另存为 CSV 后粘贴到此处。表头可选：姓名,开始,结束,备注；每行一个班次。有任何一行出错时不导入任何内容。",
        "Paste a roster saved as CSV from a spreadsheet. Header optional: user,from,to,note; one shift a line. If any line is wrong, nothing is imported.",
    ),
    ("import_button", "导入", "Import"),
    ("csv_problems", "CSV 有以下问题，未导入任何班次：", "The CSV has these problems; nothing was imported:"),
    ("form_problems", "未保存：", "Not saved:"),
    ("periods_title", "敏感时期", "Sensitive periods"),
    ("periods_hint", "敏感时期内全天候监测，告警不受夜间静默限制，未确认的告警更快升级。", "In a sensitive period the stream is watched round the clock, alerts go out at night too and escalate sooner."),
    ("period_active", "进行中", "Active"),
    ("period_upcoming", "即将开始", "Upcoming"),
    ("no_periods", "当前及近期没有敏感时期。", "No current or upcoming sensitive period."),
    ("reason", "原因", "Reason"),
    ("reason_hint", "如：国庆假期、县人代会期间", "e.g. National Day holiday"),
    ("declare_period", "宣布敏感时期", "Declare a sensitive period"),
    ("declare_button", "宣布", "Declare"),
    ("end_now", "立即结束", "End now"),
    ("withdraw", "撤销", "Withdraw"),
    ("read_only_duty", "值班表由网宣办和管理员维护。", "The office and admins keep the roster."),
];

fn dictionary(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    // The bulletin and report pages keep their strings beside their handlers.
    DICTIONARY
        .iter()
        .chain(crate::bulletins::DICTIONARY)
        .chain(crate::events::DICTIONARY)
        .chain(crate::corrections::DICTIONARY)
        .chain(crate::rules::DICTIONARY)
        .map(|(k, zh, en)| (*k, if lang == Lang::Zh { *zh } else { *en }))
        .collect()
}

/// The dictionary as a template value, built once per language: building and sorting
/// its few hundred entries for every page was a tenth of a page's CPU under load.
fn dictionary_value(lang: Lang) -> minijinja::Value {
    static VALUES: OnceLock<[minijinja::Value; 2]> = OnceLock::new();
    let values = VALUES.get_or_init(|| [Lang::Zh, Lang::En].map(|l| minijinja::Value::from_serialize(dictionary(l))));
    values[usize::from(lang != Lang::Zh)].clone()
}

/// Labels of the core enums: their Chinese names, or their English ids.
pub(crate) fn tier_label(lang: Lang, v: Tier) -> &'static str {
    if lang == Lang::Zh {
        v.zh()
    } else {
        v.id()
    }
}
pub(crate) fn tone_label(lang: Lang, v: Tone) -> &'static str {
    if lang == Lang::Zh {
        v.zh()
    } else {
        v.id()
    }
}
pub(crate) fn level_label(lang: Lang, v: Level) -> &'static str {
    if lang == Lang::Zh {
        v.zh()
    } else {
        v.id()
    }
}
pub(crate) fn category_label(lang: Lang, v: Category) -> &'static str {
    if lang == Lang::Zh {
        v.zh()
    } else {
        v.id()
    }
}
fn role_label(lang: Lang, v: Role) -> &'static str {
    if lang == Lang::Zh {
        v.zh()
    } else {
        v.id()
    }
}

/// A stored RFC 3339 time shown in the organisation's zone, like `2026-11-21 14:05`.
pub(crate) fn local_time(tz: Tz, stored: &str) -> String {
    match DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        // Times are written by the store in RFC 3339; anything else is shown as stored.
        Err(_) => stored.to_string(),
    }
}

/// Only web links become clickable: a collected `javascript:` or `data:` URL stays text.
pub(crate) fn is_web_link(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// The logged-in user as the top bar shows them.
#[derive(Debug, Serialize)]
struct UserView {
    name: String,
    role: &'static str,
}

/// What every page's layout needs: organisation, language, user, nav, CSRF token.
#[derive(Debug, Serialize)]
pub(crate) struct Base {
    org: String,
    lang: Lang,
    html_lang: &'static str,
    user: Option<UserView>,
    csrf: Option<String>,
    nav: &'static str,
    lang_href: String,
    lang_label: &'static str,
    /// Open cases, shown beside the "处置" link.
    open_cases: Option<i64>,
    /// Who is on duty now and the active sensitive period, for the top bar.
    duty: Option<DutyBar>,
}

/// The top bar's duty line: "值班：张三、李四" (or "无人值班"), and a red
/// "敏感时期：…" badge while a sensitive period is active.
#[derive(Debug, Serialize)]
pub(crate) struct DutyBar {
    /// The names, joined ("张三、李四"); empty when nobody is on duty.
    names: String,
    nobody: bool,
    period: Option<String>,
    /// When the active period ends, in the organisation's zone.
    period_until: Option<String>,
}

impl DutyBar {
    pub(crate) fn new(lang: Lang, tz: Tz, now: &yuqing_store::DutyNow) -> DutyBar {
        let names = now.names();
        DutyBar {
            names: names.join(if lang == Lang::Zh { "、" } else { ", " }),
            nobody: names.is_empty(),
            period: now.sensitive_period.as_ref().map(|p| p.period.reason.clone()),
            period_until: now
                .sensitive_period
                .as_ref()
                .map(|p| p.period.to.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()),
        }
    }
}

impl Base {
    pub(crate) fn new(org: &str, lang: Lang, uri: &Uri, session: Option<(&User, &str)>, nav: &'static str) -> Base {
        Base {
            org: org.to_string(),
            lang,
            html_lang: if lang == Lang::Zh { "zh-CN" } else { "en" },
            user: session.map(|(u, _)| UserView { name: u.name.clone(), role: role_label(lang, u.role) }),
            csrf: session.map(|(_, c)| c.to_string()),
            nav,
            lang_href: with_param(uri, "lang", Some(lang.other().code())),
            lang_label: if lang == Lang::Zh { "English" } else { "中文" },
            open_cases: None,
            duty: None,
        }
    }

    pub(crate) fn with_duty(mut self, duty: Option<DutyBar>) -> Base {
        self.duty = duty;
        self
    }

    pub(crate) fn with_open_cases(mut self, n: Option<i64>) -> Base {
        self.open_cases = n;
        self
    }
}

/// The request's path and query with one parameter replaced (or removed with `None`),
/// as a local link.
pub(crate) fn with_param(uri: &Uri, key: &str, value: Option<&str>) -> String {
    let pairs: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != key)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        s.append_pair(k, v);
    }
    if let Some(v) = value {
        s.append_pair(key, v);
    }
    let q = s.finish();
    if q.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{q}", uri.path())
    }
}

/// Renders a page template with the layout's context (`b`), the dictionary (`t`) and the
/// page's own values (`p`).
pub(crate) fn render(name: &str, base: &Base, page: impl Serialize) -> Result<Html<String>, WebError> {
    let tmpl = env().get_template(name).map_err(|e| WebError::Internal(format!("template {name}: {e}")))?;
    tmpl.render(minijinja::context! { b => base, t => dictionary_value(base.lang), p => page })
        .map(Html)
        .map_err(|e| WebError::Internal(format!("rendering {name}: {e:#}")))
}

/// The bilingual error page (see `PageError`).
pub(crate) fn render_error(status: u16, zh: &str, en: &str, message: &str) -> Result<String, minijinja::Error> {
    env().get_template("error.html")?.render(minijinja::context! {
        status, zh, en, message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "template {name} does not parse");
        }
    }

    #[test]
    fn dictionary_keys_are_unique_and_filled() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in DICTIONARY
            .iter()
            .chain(crate::bulletins::DICTIONARY)
            .chain(crate::events::DICTIONARY)
            .chain(crate::corrections::DICTIONARY)
            .chain(crate::rules::DICTIONARY)
        {
            assert!(seen.insert(*k), "dictionary key {k} twice");
            assert!(!zh.is_empty(), "dictionary key {k} has no Chinese");
            // `count_before` is empty in English by design ("12 items").
            assert!(!en.is_empty() || *k == "count_before", "dictionary key {k} has no English");
        }
    }

    #[test]
    fn with_param_replaces_and_keeps_the_rest() {
        let uri: Uri = "/search?q=%E8%B4%A2%E6%94%BF&lang=zh&tone=negative".parse().unwrap();
        assert_eq!(with_param(&uri, "lang", Some("en")), "/search?q=%E8%B4%A2%E6%94%BF&tone=negative&lang=en");
        let bare: Uri = "/sources".parse().unwrap();
        assert_eq!(with_param(&bare, "lang", Some("en")), "/sources?lang=en");
        assert_eq!(with_param(&bare, "offset", None), "/sources");
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(is_web_link("https://example.org/a"));
        assert!(!is_web_link("javascript:alert(1)"));
        assert!(!is_web_link("data:text/html,<b>x</b>"));
        assert!(!is_web_link("/relative"));
    }

    #[test]
    fn local_time_uses_the_zone() {
        assert_eq!(local_time(chrono_tz::Asia::Shanghai, "2026-11-21T06:05:00.000Z"), "2026-11-21 14:05");
    }
}
