//! Cases (处置单): the handling flow of INTERFACES.md, as a JSON API and as pages.
//!
//! - API: `POST /api/v1/items/{id}/report`, `GET /api/v1/cases`, `GET /api/v1/cases/{id}`,
//!   `POST /api/v1/cases/{id}/actions` (the body is a [`yuqing_cases::Action`], exactly).
//! - UI: the "report to the office" form of every item page (`POST /items/{id}/report`),
//!   the case board (`/cases`), the case page (`/cases/{id}`) with one form per action the
//!   user's role may take in the case's state (`POST /cases/{id}/actions`).
//! - The learning library (学习培训, `/library` and `GET /api/v1/library`): closed cases,
//!   how they were judged and handled, by text, category, level and outcome.
//!
//! Every decision (who may, in which state, with which fields) is the flow's
//! ([`yuqing_cases::transition`], through the store); this module only turns requests
//! into actions and answers into JSON or HTML. A refusal keeps its status everywhere:
//! 403 for the role, 409 for the state, 400 for the fields, in the API and on the page.

use crate::auth::{csrf_ok, csrf_refused, ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::view::{self, level_label, tier_label, tone_label, Lang};
use crate::{AppState, WebError};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use yuqing_cases::{
    allowed_actions, Action, ActionKind, Actor, CaseState, CaseView, FlowError, InvalidReason, Overdue, Path,
    MAX_CHANNEL_CHARS, MAX_NOTE_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS,
};
use yuqing_core::{Level, Role};
use yuqing_store::{
    CaseDetail, CaseError, CaseFilter, CaseSummary, LibraryEntry, LibraryPage, LibraryQuery, Outcome, StoreError, User,
};

/// Cases the API lists unless `limit` says otherwise, and the most it lists.
const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 1000;
/// Open cases the board shows at most (an office never has this many open at once).
const BOARD_OPEN_LIMIT: usize = 1000;
/// Closed cases the board shows, newest first.
const BOARD_CLOSED_LIMIT: usize = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(board))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/actions", post(case_form))
        .route("/items/{id}/report", post(report_form))
        .route("/library", get(library_page))
}

fn actor(user: &User) -> Actor {
    Actor::user(user.id, user.name.clone(), user.role)
}

fn parse_id(what: &str, id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::NotFound(format!("There is no {what} `{id}`; {what} ids are whole numbers.")))
}

fn no_case(id: i64) -> WebError {
    WebError::NotFound(format!("There is no case {id}."))
}

// ---- store helpers the store does not offer -------------------------------------------

/// The number of open cases, for the top navigation. `None` when it cannot be counted
/// (the page still renders; the error is logged).
pub(crate) async fn open_case_count(state: &AppState) -> Option<i64> {
    match state.store.open_case_count().await {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "could not count the open cases");
            None
        }
    }
}

/// The cases of an item, newest first: (id, state).
pub(crate) async fn cases_of_item(state: &AppState, item_id: i64) -> Result<Vec<(i64, CaseState)>, WebError> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM cases WHERE item_id = $1 ORDER BY id DESC")
        .bind(item_id)
        .fetch_all(state.store.pool())
        .await
        .map_err(|e| WebError::Internal(format!("cases of item {item_id}: {e}")))?;
    Ok(rows.into_iter().filter_map(|(id, s)| CaseState::from_id(&s).map(|s| (id, s))).collect())
}

// ---- API --------------------------------------------------------------------------------

/// A case as the API answers it: the store's case, and what the caller may do next.
#[derive(Debug, Serialize)]
pub(crate) struct CaseOut {
    #[serde(flatten)]
    case: CaseDetail,
    /// The actions the caller's role may take in the case's current state.
    allowed_actions: Vec<ActionKind>,
}

impl CaseOut {
    fn new(case: CaseDetail, role: Role) -> CaseOut {
        let allowed_actions = allowed_actions(case.case.view.state, role);
        CaseOut { case, allowed_actions }
    }
}

/// An API error of the case endpoints: a refusal of the flow keeps its status and says
/// why in English (`error`) and Chinese (`error_zh`).
#[derive(Debug)]
pub(crate) enum CaseApiError {
    Flow(FlowError),
    Web(WebError),
}

impl From<WebError> for CaseApiError {
    fn from(e: WebError) -> Self {
        CaseApiError::Web(e)
    }
}

impl From<StoreError> for CaseApiError {
    fn from(e: StoreError) -> Self {
        CaseApiError::Web(e.into())
    }
}

impl From<CaseError> for CaseApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::Flow(FlowError::BrokenLog { .. }) => CaseApiError::Web(WebError::Internal(e.to_string())),
            CaseError::Flow(f) => CaseApiError::Flow(f),
            CaseError::NoItem(id) => CaseApiError::Web(WebError::NotFound(format!("There is no item {id}."))),
            CaseError::NoCase(id) => CaseApiError::Web(no_case(id)),
            CaseError::Store(s) => CaseApiError::Web(s.into()),
        }
    }
}

impl IntoResponse for CaseApiError {
    fn into_response(self) -> Response {
        match self {
            CaseApiError::Flow(e) => {
                let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, Json(serde_json::json!({ "error": e.to_string(), "error_zh": e.zh() }))).into_response()
            }
            CaseApiError::Web(e) => ApiError(e).into_response(),
        }
    }
}

/// The body of `POST /api/v1/items/{id}/report`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    #[serde(default)]
    note: String,
}

/// Reads a JSON body; an empty body is `T::default()` where `empty_ok`.
fn json_body<T: serde::de::DeserializeOwned + Default>(body: &[u8], what: &str, empty_ok: bool) -> Result<T, WebError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(T::default())
        } else {
            Err(WebError::BadRequest(format!("The body must be {what}; it is empty.")))
        };
    }
    serde_json::from_slice(body).map_err(|e| WebError::BadRequest(format!("The body is not {what}: {e}.")))
}

#[derive(Debug, Serialize)]
struct Reported {
    case: CaseOut,
}

pub(crate) async fn api_report(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Result<Response, CaseApiError> {
    let item_id = parse_id("item", &id)?;
    let ReportBody { note } = json_body(&body, "a JSON object like {\"note\": \"…\"}", true)?;
    let case = state.store.report_item(item_id, &actor(&user), &note, Utc::now()).await?;
    tracing::info!(user = %user.name, item = item_id, case = case.case.id, "an item was reported to the office");
    Ok((StatusCode::CREATED, Json(Reported { case: CaseOut::new(case, user.role) })).into_response())
}

#[derive(Debug, Serialize)]
pub(crate) struct CaseList {
    cases: Vec<CaseSummary>,
}

fn bad_param(name: &str, why: &str) -> WebError {
    WebError::BadRequest(format!("The parameter `{name}` {why}"))
}

/// The list filters: `state`, `level`, `open` (true/false), `limit`. Unknown parameters
/// are ignored; an empty value means "not set".
fn parse_case_filter(raw: Option<&str>) -> Result<(CaseFilter, usize), WebError> {
    let mut filter = CaseFilter::default();
    let mut limit = DEFAULT_LIMIT;
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "state" => {
                filter.state = Some(
                    CaseState::from_id(v)
                        .ok_or_else(|| bad_param("state", &format!("must be one of: {}.", CaseState::ids())))?,
                )
            }
            "level" => {
                filter.level = Some(
                    Level::from_id(v)
                        .ok_or_else(|| bad_param("level", &format!("must be one of: {}.", Level::ids())))?,
                )
            }
            "open" => {
                filter.open = match v {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad_param("open", "must be true or false.")),
                }
            }
            "limit" => {
                limit = match v.parse::<usize>() {
                    Ok(0) | Err(_) => return Err(bad_param("limit", "must be a whole number, 1 or more.")),
                    Ok(n) => n.min(MAX_LIMIT),
                }
            }
            _ => {}
        }
    }
    Ok((filter, limit))
}

pub(crate) async fn api_list(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CaseList>, CaseApiError> {
    let (filter, limit) = parse_case_filter(raw.as_deref())?;
    Ok(Json(CaseList { cases: state.store.cases(&filter, Utc::now(), limit).await? }))
}

async fn load_case(state: &AppState, id: &str, now: DateTime<Utc>) -> Result<CaseDetail, WebError> {
    let n = parse_id("case", id)?;
    state.store.case(n, now).await?.ok_or_else(|| no_case(n))
}

pub(crate) async fn api_get(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<CaseOut>, CaseApiError> {
    let case = load_case(&state, &id, Utc::now()).await?;
    Ok(Json(CaseOut::new(case, user.role)))
}

pub(crate) async fn api_action(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Result<Json<CaseOut>, CaseApiError> {
    let case_id = parse_id("case", &id)?;
    let action: Action = json_body_action(&body)?;
    let case = state.store.case_action(case_id, &actor(&user), &action, Utc::now()).await?;
    tracing::info!(user = %user.name, case = case_id, action = %action.kind(), "a case action was taken");
    Ok(Json(CaseOut::new(case, user.role)))
}

/// An action body; serde names an unknown action or field.
fn json_body_action(body: &[u8]) -> Result<Action, WebError> {
    let what = "a valid action (a JSON object with `action` and that action's fields)";
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WebError::BadRequest(format!("The body must be {what}; it is empty.")));
    }
    serde_json::from_slice(body).map_err(|e| WebError::BadRequest(format!("The body is not {what}: {e}.")))
}

// ---- labels -----------------------------------------------------------------------------

fn state_label(lang: Lang, s: CaseState) -> &'static str {
    match lang {
        Lang::Zh => s.zh(),
        Lang::En => match s {
            CaseState::Reported => "Reported",
            CaseState::FactFinding => "Establishing facts",
            CaseState::LeadershipReview => "Leadership review",
            CaseState::Answering => "To answer",
            CaseState::Answered => "Answered",
            CaseState::Closed => "Closed",
        },
    }
}

fn path_label(lang: Lang, p: Path) -> &'static str {
    match lang {
        Lang::Zh => p.zh(),
        Lang::En => match p {
            Path::Policy => "Answer by existing policy",
            Path::Facts => "Establish the facts first",
            Path::Leadership => "Leaders decide",
        },
    }
}

fn action_label(lang: Lang, a: ActionKind) -> &'static str {
    match lang {
        Lang::Zh => a.zh(),
        Lang::En => match a {
            ActionKind::Report => "Report",
            ActionKind::Assess => "Assess",
            ActionKind::EstablishFacts => "Establish the facts",
            ActionKind::Decide => "Decide",
            ActionKind::Respond => "Record the response",
            ActionKind::ReportBack => "Report back",
            ActionKind::Dismiss => "Dismiss",
        },
    }
}

/// "研判" / "回应": the deadline's own step.
fn deadline_label(lang: Lang, d: Overdue) -> &'static str {
    match (lang, d) {
        (Lang::Zh, Overdue::Assess) => "研判",
        (Lang::Zh, Overdue::Answer) => "回应",
        (Lang::En, Overdue::Assess) => "assessment",
        (Lang::En, Overdue::Answer) => "answer",
    }
}

fn time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A length of time, to the minute: `1小时20分`, `2天3小时`, `35分` / `1h 20m`.
pub(crate) fn span(lang: Lang, d: TimeDelta) -> String {
    let mins = d.num_minutes().abs();
    let (days, hours, m) = (mins / 1440, mins % 1440 / 60, mins % 60);
    match lang {
        Lang::Zh => match (days, hours, m) {
            (0, 0, 0) => "不足1分".to_string(),
            (0, 0, m) => format!("{m}分"),
            (0, h, 0) => format!("{h}小时"),
            (0, h, m) => format!("{h}小时{m}分"),
            (d, 0, _) => format!("{d}天"),
            (d, h, _) => format!("{d}天{h}小时"),
        },
        Lang::En => match (days, hours, m) {
            (0, 0, 0) => "under a minute".to_string(),
            (0, 0, m) => format!("{m}m"),
            (0, h, 0) => format!("{h}h"),
            (0, h, m) => format!("{h}h {m}m"),
            (d, 0, _) => format!("{d}d"),
            (d, h, _) => format!("{d}d {h}h"),
        },
    }
}

/// "还剩 1小时20分" before `due`, "已超时 35分" after it.
fn relative(lang: Lang, due: DateTime<Utc>, now: DateTime<Utc>) -> (bool, String) {
    let late = now > due;
    let s = span(lang, due - now);
    let text = match (lang, late) {
        (Lang::Zh, false) => format!("还剩 {s}"),
        (Lang::Zh, true) => format!("已超时 {s}"),
        (Lang::En, false) => format!("{s} left"),
        (Lang::En, true) => format!("overdue by {s}"),
    };
    (late, text)
}

/// "超时：研判、回应" for the deadlines a case is past now and still has to meet.
fn overdue_text(lang: Lang, view: &CaseView, now: DateTime<Utc>) -> Option<String> {
    let ds = view.overdue_deadlines(now);
    if ds.is_empty() {
        return None;
    }
    let names: Vec<&str> = ds.iter().map(|d| deadline_label(lang, *d)).collect();
    Some(match lang {
        Lang::Zh => format!("超时：{}", names.join("、")),
        Lang::En => format!("Overdue: {}", names.join(", ")),
    })
}

// ---- the board --------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct Card {
    id: i64,
    href: String,
    title: String,
    state: &'static str,
    state_label: &'static str,
    level: &'static str,
    level_label: &'static str,
    opened: String,
    /// "超时：研判", when past a deadline still to meet.
    overdue: Option<String>,
    /// The next deadline still to meet: "研判 还剩 1小时20分" and whether it is past.
    next_due: Option<String>,
    next_due_late: bool,
    /// Deadlines missed (kept after closing): "曾超时：研判".
    late: Option<String>,
    closed: Option<String>,
}

fn card(lang: Lang, tz: Tz, c: &CaseSummary, now: DateTime<Utc>) -> Card {
    let v = &c.view;
    let (next_due, next_due_late) = match v.next_due() {
        Some((d, due)) => {
            let (late, text) = relative(lang, due, now);
            (Some(format!("{} {text}", deadline_label(lang, d))), late)
        }
        None => (None, false),
    };
    let late = (!v.late.is_empty() && v.overdue.is_none()).then(|| {
        let names: Vec<&str> = v.late.iter().map(|d| deadline_label(lang, *d)).collect();
        match lang {
            Lang::Zh => format!("曾超时：{}", names.join("、")),
            Lang::En => format!("Was late: {}", names.join(", ")),
        }
    });
    Card {
        id: c.id,
        href: format!("/cases/{}", c.id),
        title: match &c.title {
            Some(t) if !t.trim().is_empty() => t.clone(),
            _ => format!("#{}", c.id),
        },
        state: v.state.id(),
        state_label: state_label(lang, v.state),
        level: v.level.id(),
        level_label: level_label(lang, v.level),
        opened: time(tz, v.opened_at),
        overdue: overdue_text(lang, v, now),
        next_due,
        next_due_late,
        late,
        closed: v.closed_at.map(|t| time(tz, t)),
    }
}

#[derive(Debug, Serialize)]
struct Column {
    state: &'static str,
    label: &'static str,
    cards: Vec<Card>,
}

#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

async fn board(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let now = Utc::now();
    let level_param = view::query_param(&ui.uri, "level").unwrap_or_default();
    let (filter, _) = parse_case_filter(raw.as_deref().map(only_level).as_deref())?;
    let open = state.store.cases(&CaseFilter { open: true, ..filter.clone() }, now, BOARD_OPEN_LIMIT).await?;
    let closed = state
        .store
        .cases(&CaseFilter { state: Some(CaseState::Closed), ..filter.clone() }, now, BOARD_CLOSED_LIMIT)
        .await?;
    // The store orders overdue first; each column keeps that order.
    let columns: Vec<Column> = CaseState::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|&s| Column {
            state: s.id(),
            label: state_label(lang, s),
            cards: open.iter().filter(|c| c.view.state == s).map(|c| card(lang, tz, c, now)).collect(),
        })
        .collect();
    let overdue = open.iter().filter(|c| c.view.overdue.is_some()).count();
    // Newest closed first (the store puts once-overdue ones first otherwise).
    let mut closed_cards: Vec<&CaseSummary> = closed.iter().collect();
    closed_cards.sort_by_key(|c| std::cmp::Reverse(c.view.closed_at));
    let levels: Vec<Choice> = Level::ALL
        .iter()
        .map(|&l| Choice { value: l.id(), label: level_label(lang, l), selected: l.id() == level_param })
        .collect();
    let page = serde_json::json!({
        "columns": columns,
        "open": open.len(),
        "overdue": overdue,
        "closed": closed_cards.iter().map(|c| card(lang, tz, c, now)).collect::<Vec<_>>(),
        "levels": levels,
        "filtered": !level_param.is_empty(),
    });
    let base = ui.base(&state, "cases");
    Ok(view::render("cases.html", &base, page)?.into_response())
}

/// The board filters by level only (its columns are the states).
fn only_level(raw: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        if k == "level" {
            s.append_pair("level", &v);
        }
    }
    s.finish()
}

// ---- the case page ----------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct DeadlineRow {
    label: &'static str,
    due: String,
    /// `pending`, `overdue`, `met`, `met-late`.
    status: &'static str,
    text: String,
}

fn deadline_row(lang: Lang, tz: Tz, v: &CaseView, d: Overdue, now: DateTime<Utc>) -> DeadlineRow {
    let due = v.due(d);
    let (status, text) = match v.met_at(d) {
        Some(t) if t > due => (
            "met-late",
            match lang {
                Lang::Zh => format!("{} 完成，超时 {}", time(tz, t), span(lang, t - due)),
                Lang::En => format!("met {}, late by {}", time(tz, t), span(lang, t - due)),
            },
        ),
        Some(t) => (
            "met",
            match lang {
                Lang::Zh => format!("{} 按时完成", time(tz, t)),
                Lang::En => format!("met in time, {}", time(tz, t)),
            },
        ),
        None => {
            let (late, text) = relative(lang, due, now);
            (if late { "overdue" } else { "pending" }, text)
        }
    };
    let label = match (lang, d) {
        (Lang::Zh, Overdue::Assess) => "研判期限",
        (Lang::Zh, Overdue::Answer) => "回应期限",
        (Lang::En, Overdue::Assess) => "Assess by",
        (Lang::En, Overdue::Answer) => "Answer by",
    };
    DeadlineRow { label, due: time(tz, due), status, text }
}

#[derive(Debug, Serialize)]
struct StepView {
    seq: i64,
    action: &'static str,
    action_label: &'static str,
    actor: String,
    at: String,
    from: Option<&'static str>,
    to: &'static str,
    note: String,
    /// assess: its level and path.
    level: Option<&'static str>,
    path: Option<&'static str>,
    /// respond: the official channel, the text, the link (clickable only for http/https).
    channel: Option<String>,
    text: Option<String>,
    url: Option<String>,
    url_is_link: bool,
}

fn step_view(lang: Lang, tz: Tz, s: &yuqing_store::StepRecord) -> StepView {
    let f = &s.step.fields;
    let field = |k: &str| f.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let url = field("url").filter(|u| !u.trim().is_empty());
    StepView {
        seq: s.seq,
        action: s.step.action.id(),
        action_label: action_label(lang, s.step.action),
        actor: s.step.actor.clone(),
        at: time(tz, s.step.at),
        from: s.step.from_state.map(|st| state_label(lang, st)),
        to: state_label(lang, s.step.to_state),
        note: s.step.note.clone(),
        level: field("level").and_then(|l| Level::from_id(&l)).map(|l| level_label(lang, l)),
        path: field("path").and_then(|p| Path::from_id(&p)).map(|p| path_label(lang, p)),
        channel: field("channel"),
        text: field("text"),
        url_is_link: url.as_deref().is_some_and(view::is_web_link),
        url,
    }
}

/// One action form of the case page.
#[derive(Debug, Serialize)]
struct ActionFormView {
    action: &'static str,
    label: &'static str,
    note_required: bool,
    /// What the note of this action records.
    hint: &'static str,
}

/// The label of an action's form on the case page, and what its note records.
fn form_texts(lang: Lang, k: ActionKind) -> (&'static str, &'static str) {
    match (lang, k) {
        (Lang::Zh, ActionKind::Report) => ("追加报送", "补充的情况"),
        (Lang::Zh, ActionKind::Assess) => ("研判", "研判意见"),
        (Lang::Zh, ActionKind::EstablishFacts) => ("核实情况", "核实的事实及适用的法规政策"),
        (Lang::Zh, ActionKind::Decide) => ("领导决定", "领导小组的决定"),
        (Lang::Zh, ActionKind::Respond) => ("记录回应", "如：审批人"),
        (Lang::Zh, ActionKind::ReportBack) => ("反馈结果", "向谁反馈、反馈了什么"),
        (Lang::Zh, ActionKind::Dismiss) => ("无需处置", "无需处置的理由"),
        (Lang::En, ActionKind::Report) => ("Add a report", "What you add"),
        (Lang::En, ActionKind::Assess) => ("Assess", "The assessment"),
        (Lang::En, ActionKind::EstablishFacts) => ("Establish the facts", "The facts and the rules that apply"),
        (Lang::En, ActionKind::Decide) => ("Decide", "The leadership's decision"),
        (Lang::En, ActionKind::Respond) => ("Record the response", "E.g. who approved it"),
        (Lang::En, ActionKind::ReportBack) => ("Report back", "To whom, and what"),
        (Lang::En, ActionKind::Dismiss) => ("Dismiss", "Why no action is needed"),
    }
}

/// What the user typed, kept when an action is refused so nothing has to be retyped.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    url: String,
}

/// A refusal shown on the page: its status and message.
#[derive(Debug, Serialize)]
struct Problem {
    status: u16,
    zh: String,
    en: Option<String>,
}

impl Problem {
    fn of(lang: Lang, e: &FlowError) -> Problem {
        Problem { status: e.http_status(), zh: e.zh(), en: (lang == Lang::En).then(|| e.to_string()) }
    }
}

async fn render_case(
    ui: &Ui,
    state: &AppState,
    case: &CaseDetail,
    now: DateTime<Utc>,
    problem: Option<Problem>,
    typed: Option<ActionForm>,
) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let v = &case.case.view;
    let forms: Vec<ActionFormView> = allowed_actions(v.state, ui.user.role)
        .into_iter()
        .map(|k| {
            let (label, hint) = form_texts(lang, k);
            ActionFormView { action: k.id(), label, note_required: k.note_required(), hint }
        })
        .collect();
    let typed = typed.unwrap_or_default();
    let current_level = if typed.action == "assess" && !typed.level.is_empty() {
        typed.level.clone()
    } else {
        v.level.id().to_string()
    };
    let levels: Vec<Choice> = Level::ALL
        .iter()
        .map(|&l| Choice { value: l.id(), label: level_label(lang, l), selected: l.id() == current_level })
        .collect();
    let paths: Vec<Choice> = Path::ALL
        .iter()
        .map(|&p| Choice {
            value: p.id(),
            label: path_label(lang, p),
            selected: typed.action == "assess" && p.id() == typed.path,
        })
        .collect();
    let item = case.item.as_ref().map(|it| {
        serde_json::json!({
            "id": it.id,
            "href": format!("/items/{}", it.id),
            "title": if it.title.trim().is_empty() { it.url.clone() } else { it.title.clone() },
            "source": it.source,
            "tier": tier_label(lang, it.tier),
            "tone": it.tone.id(),
            "tone_label": tone_label(lang, it.tone),
            "level": it.level.id(),
            "level_label": level_label(lang, it.level),
            "published": it.published_at.as_deref().map(|t| view::local_time(tz, t)),
        })
    });
    // The item's alerts: acknowledged by whom, or a button (office, leaders, admins).
    let alerts = match case.case.item_id {
        Some(item_id) => state.store.alerts_of_item(item_id).await?,
        None => vec![],
    };
    let alerts: Vec<serde_json::Value> = alerts
        .iter()
        .map(|a| {
            serde_json::json!({
                "key": a.key,
                "sent": time(tz, a.sent_at),
                "acked_by": a.acked_by,
                "acked_at": a.acked_at.map(|t| time(tz, t)),
                "rounds": a.rounds,
            })
        })
        .collect();
    let status = problem.as_ref().and_then(|p| StatusCode::from_u16(p.status).ok()).unwrap_or(StatusCode::OK);
    let page = serde_json::json!({
        "id": case.case.id,
        "item": item,
        "alerts": alerts,
        "may_ack": ui.user.role != Role::Member,
        "state": v.state.id(),
        "state_label": state_label(lang, v.state),
        "level": v.level.id(),
        "level_label": level_label(lang, v.level),
        "path_label": v.path.map(|p| path_label(lang, p)),
        "opened": time(tz, v.opened_at),
        "closed": v.closed_at.map(|t| time(tz, t)),
        "overdue": overdue_text(lang, v, now),
        "deadlines": [deadline_row(lang, tz, v, Overdue::Assess, now), deadline_row(lang, tz, v, Overdue::Answer, now)],
        "steps": case.steps.iter().map(|s| step_view(lang, tz, s)).collect::<Vec<_>>(),
        "forms": forms,
        "levels": levels,
        "paths": paths,
        "problem": problem,
        "typed": typed,
        "max": {
            "note": MAX_NOTE_CHARS, "text": MAX_TEXT_CHARS, "channel": MAX_CHANNEL_CHARS, "url": MAX_URL_CHARS,
        },
    });
    let base = ui.base(state, "cases");
    Ok((status, view::render("case.html", &base, page)?).into_response())
}

async fn case_page(ui: Ui, State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Response, PageError> {
    let now = Utc::now();
    let case = load_case(&state, &id, now).await?;
    render_case(&ui, &state, &case, now, None, None).await
}

/// Form text as the flow stores it: the browser's CRLF line ends become `\n`.
fn form_text(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// The action a case form describes. `Err(Ok(flow))`: a field the flow would name;
/// `Err(Err(web))`: a form no page of ours sends.
fn action_from_form(f: &ActionForm) -> Result<Action, Result<FlowError, WebError>> {
    let note = form_text(&f.note);
    let kind = ActionKind::from_id(f.action.trim()).ok_or_else(|| {
        Err(WebError::BadRequest(format!("`{}` is not an action; actions are: {}.", f.action, ActionKind::ids())))
    })?;
    let missing = |field: &'static str| Ok(FlowError::Invalid { field, reason: InvalidReason::Empty });
    Ok(match kind {
        ActionKind::Report => Action::Report { note },
        ActionKind::Assess => {
            let level = match f.level.trim() {
                "" => return Err(missing("level")),
                l => Level::from_id(l)
                    .ok_or_else(|| Err(WebError::BadRequest(format!("The level must be one of: {}.", Level::ids()))))?,
            };
            let path = match f.path.trim() {
                "" => return Err(missing("path")),
                p => Path::from_id(p)
                    .ok_or_else(|| Err(WebError::BadRequest(format!("The path must be one of: {}.", Path::ids()))))?,
            };
            Action::Assess { level, path, note }
        }
        ActionKind::EstablishFacts => Action::EstablishFacts { note },
        ActionKind::Decide => Action::Decide { note },
        ActionKind::Respond => Action::Respond {
            channel: form_text(&f.channel),
            text: form_text(&f.text),
            url: Some(f.url.trim().to_string()).filter(|u| !u.is_empty()),
            note,
        },
        ActionKind::ReportBack => Action::ReportBack { note },
        ActionKind::Dismiss => Action::Dismiss { note },
    })
}

async fn case_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if !csrf_ok(&ui.csrf, &form.csrf) {
        return Err(csrf_refused());
    }
    let now = Utc::now();
    let case = load_case(&state, &id, now).await?;
    let case_id = case.case.id;
    let action = match action_from_form(&form) {
        Ok(a) => a,
        Err(Err(web)) => return Err(PageError(web)),
        Err(Ok(invalid)) => {
            // The flow checks the role, then the state, then the fields: so does the page.
            let kind = ActionKind::from_id(form.action.trim()).unwrap_or(ActionKind::Report);
            let st = case.case.view.state;
            let e = if !kind.permits(Some(ui.user.role), Level::Ordinary) {
                FlowError::Forbidden { action: kind, role: Some(ui.user.role) }
            } else if !kind.applies_in(Some(st)) {
                FlowError::WrongState { action: kind, state: Some(st) }
            } else {
                invalid
            };
            let problem = Problem::of(ui.lang, &e);
            return render_case(&ui, &state, &case, now, Some(problem), Some(form)).await;
        }
    };
    match state.store.case_action(case_id, &actor(&ui.user), &action, now).await {
        Ok(_) => {
            tracing::info!(user = %ui.user.name, case = case_id, action = %action.kind(), "a case action was taken");
            Ok(Redirect::to(&format!("/cases/{case_id}")).into_response())
        }
        Err(CaseError::Flow(e)) if !matches!(e, FlowError::BrokenLog { .. }) => {
            // Show the case as it is now (another user may have moved it on).
            let case = load_case(&state, &id, now).await?;
            render_case(&ui, &state, &case, now, Some(Problem::of(ui.lang, &e)), Some(form)).await
        }
        Err(e) => Err(PageError(page_case_error(e))),
    }
}

fn page_case_error(e: CaseError) -> WebError {
    match e {
        CaseError::NoItem(id) => WebError::NotFound(format!("There is no item {id}.")),
        CaseError::NoCase(id) => no_case(id),
        CaseError::Store(s) => s.into(),
        CaseError::Flow(f) => WebError::Internal(f.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// The item page's "report to the office" form: opens (or adds to) the item's case and
/// goes to it.
async fn report_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    form: Result<Form<ReportForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if !csrf_ok(&ui.csrf, &form.csrf) {
        return Err(csrf_refused());
    }
    let item_id = parse_id("item", &id)?;
    let note = form_text(&form.note);
    match state.store.report_item(item_id, &actor(&ui.user), &note, Utc::now()).await {
        Ok(case) => {
            tracing::info!(user = %ui.user.name, item = item_id, case = case.case.id, "an item was reported to the office");
            Ok(Redirect::to(&format!("/cases/{}", case.case.id)).into_response())
        }
        Err(CaseError::Flow(e)) if !matches!(e, FlowError::BrokenLog { .. }) => {
            let problem = Problem::of(ui.lang, &e);
            crate::items::render_item(&ui, &state, &id, Some(serde_json::to_value(problem).unwrap_or_default()), &note)
                .await
        }
        Err(e) => Err(PageError(page_case_error(e))),
    }
}

// ---- the learning library (学习培训) ---------------------------------------------------------

/// Cases a library page shows.
const LIBRARY_PAGE: usize = 20;

/// `q`, `category`, `level`, `outcome`, `limit`, `offset`; an empty value is "not set",
/// unknown parameters are ignored.
fn parse_library_query(raw: Option<&str>) -> Result<LibraryQuery, WebError> {
    let mut q = LibraryQuery { limit: LIBRARY_PAGE, ..LibraryQuery::default() };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "q" => q.text = Some(v.chars().take(200).collect()),
            "category" => {
                q.category = Some(yuqing_core::Category::from_id(v).ok_or_else(|| {
                    bad_param("category", &format!("must be one of: {}.", yuqing_core::Category::ids()))
                })?)
            }
            "level" => {
                q.level = Some(
                    Level::from_id(v)
                        .ok_or_else(|| bad_param("level", &format!("must be one of: {}.", Level::ids())))?,
                )
            }
            "outcome" => {
                q.outcome = Some(
                    Outcome::from_id(v)
                        .ok_or_else(|| bad_param("outcome", &format!("must be one of: {}.", Outcome::ids())))?,
                )
            }
            "limit" => {
                q.limit = match v.parse::<usize>() {
                    Ok(0) | Err(_) => return Err(bad_param("limit", "must be a whole number, 1 or more.")),
                    Ok(n) => n.min(200),
                }
            }
            "offset" => {
                q.offset = v.parse::<usize>().map_err(|_| bad_param("offset", "must be a whole number."))?;
            }
            _ => {}
        }
    }
    Ok(q)
}

pub(crate) async fn api_library(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LibraryPage>, CaseApiError> {
    let q = parse_library_query(raw.as_deref())?;
    Ok(Json(state.store.library(&q, Utc::now()).await?))
}

fn outcome_label(lang: Lang, o: Outcome) -> &'static str {
    match (lang, o) {
        (Lang::Zh, _) => o.zh(),
        (Lang::En, Outcome::Answered) => "Answered and reported back",
        (Lang::En, Outcome::Dismissed) => "No action needed",
    }
}

#[derive(Debug, Serialize)]
struct LibraryCard {
    #[serde(flatten)]
    card: Card,
    outcome: &'static str,
    outcome_label: &'static str,
    path_label: Option<&'static str>,
    categories: Vec<&'static str>,
    /// The steps in short: "研判 · 张三：…".
    steps: Vec<String>,
}

fn library_card(lang: Lang, tz: Tz, e: &LibraryEntry, now: DateTime<Utc>) -> LibraryCard {
    let steps = e
        .case
        .steps
        .iter()
        .map(|s| {
            let mut text = s.step.note.trim().to_owned();
            if let Some(answer) = s.step.fields.get("text").and_then(|t| t.as_str()) {
                let channel = s.step.fields.get("channel").and_then(|c| c.as_str()).unwrap_or("");
                text = format!("{channel}：{answer}{}{text}", if text.is_empty() { "" } else { " — " });
            }
            let short: String = text.chars().take(160).collect();
            let cut = if text.chars().count() > 160 { "…" } else { "" };
            format!("{} · {}：{short}{cut}", action_label(lang, s.step.action), s.step.actor)
        })
        .collect();
    LibraryCard {
        card: card(lang, tz, &e.case.case, now),
        outcome: e.outcome.id(),
        outcome_label: outcome_label(lang, e.outcome),
        path_label: e.case.case.view.path.map(|p| path_label(lang, p)),
        categories: e
            .case
            .item
            .as_ref()
            .map(|i| i.categories.iter().map(|c| view::category_label(lang, *c)).collect())
            .unwrap_or_default(),
        steps,
    }
}

async fn library_page(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let now = Utc::now();
    let q = parse_library_query(raw.as_deref())?;
    let found = state.store.library(&q, now).await?;
    let param = |k: &str| view::query_param(&ui.uri, k).unwrap_or_default();
    let (cat, lvl, out) = (param("category"), param("level"), param("outcome"));
    let categories: Vec<Choice> = yuqing_core::Category::ALL
        .iter()
        .map(|&c| Choice { value: c.id(), label: view::category_label(lang, c), selected: c.id() == cat })
        .collect();
    let levels: Vec<Choice> = Level::ALL
        .iter()
        .map(|&l| Choice { value: l.id(), label: level_label(lang, l), selected: l.id() == lvl })
        .collect();
    let outcomes: Vec<Choice> = Outcome::ALL
        .iter()
        .map(|&o| Choice { value: o.id(), label: outcome_label(lang, o), selected: o.id() == out })
        .collect();
    let next = (q.offset + found.cases.len() < usize::try_from(found.total).unwrap_or(0))
        .then(|| view::with_param(&ui.uri, "offset", Some(&(q.offset + q.limit).to_string())));
    let prev = (q.offset > 0)
        .then(|| view::with_param(&ui.uri, "offset", Some(&q.offset.saturating_sub(q.limit).to_string())));
    let zh = lang == Lang::Zh;
    let page = serde_json::json!({
        "l": {
            "heading": if zh { "学习培训：已办结处置单" } else { "Learning library: closed cases" },
            "intro": if zh { "已办结的处置单及其研判、处置过程，供学习培训参考。" } else { "Closed cases, with how they were judged and handled, for training." },
            "search": if zh { "关键词" } else { "Words" },
            "category": if zh { "重点内容类别" } else { "Category" },
            "level": if zh { "等级" } else { "Level" },
            "outcome": if zh { "结果" } else { "Outcome" },
            "any": if zh { "不限" } else { "Any" },
            "button": if zh { "查找" } else { "Search" },
            "found": if zh { "共找到" } else { "Found" },
            "none": if zh { "没有符合条件的已办结处置单" } else { "No closed case matches" },
            "prev": if zh { "上一页" } else { "Previous" },
            "next": if zh { "下一页" } else { "Next" },
            "path": if zh { "处置方式" } else { "Path" },
        },
        "q": q.text.clone().unwrap_or_default(),
        "categories": categories,
        "levels": levels,
        "outcomes": outcomes,
        "total": found.total,
        "cases": found.cases.iter().map(|e| library_card(lang, tz, e, now)).collect::<Vec<_>>(),
        "prev": prev,
        "next": next,
    });
    let base = ui.base(&state, "cases");
    Ok(view::render("library.html", &base, page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_naturally() {
        let m = TimeDelta::minutes;
        assert_eq!(span(Lang::Zh, m(80)), "1小时20分");
        assert_eq!(span(Lang::Zh, m(-35)), "35分");
        assert_eq!(span(Lang::Zh, m(120)), "2小时");
        assert_eq!(span(Lang::Zh, m(60 * 27 + 5)), "1天3小时");
        assert_eq!(span(Lang::Zh, TimeDelta::seconds(20)), "不足1分");
        assert_eq!(span(Lang::En, m(80)), "1h 20m");
        assert_eq!(span(Lang::En, m(48 * 60)), "2d");
    }

    #[test]
    fn filters_name_the_bad_parameter() {
        for (raw, name) in
            [("state=open", "`state`"), ("level=huge", "`level`"), ("open=maybe", "`open`"), ("limit=0", "`limit`")]
        {
            match parse_case_filter(Some(raw)) {
                Err(WebError::BadRequest(m)) => assert!(m.contains(name), "{raw}: {m}"),
                other => panic!("{raw}: {other:?}"),
            }
        }
        let (f, limit) = parse_case_filter(Some("state=fact-finding&level=important&open=true&limit=5000")).unwrap();
        assert_eq!(f.state, Some(CaseState::FactFinding));
        assert_eq!(f.level, Some(Level::Important));
        assert!(f.open);
        assert_eq!(limit, MAX_LIMIT);
    }

    #[test]
    fn forms_make_actions() {
        let f = ActionForm {
            action: "respond".into(),
            channel: "县政府网站".into(),
            text: "第一行\r\n第二行".into(),
            url: "  ".into(),
            ..Default::default()
        };
        match action_from_form(&f) {
            Ok(Action::Respond { text, url, .. }) => {
                assert_eq!(text, "第一行\n第二行");
                assert_eq!(url, None);
            }
            other => panic!("{other:?}"),
        }
        let f = ActionForm { action: "assess".into(), path: "policy".into(), ..Default::default() };
        assert!(matches!(action_from_form(&f), Err(Ok(FlowError::Invalid { field: "level", .. }))));
        let f = ActionForm { action: "delete".into(), ..Default::default() };
        assert!(matches!(action_from_form(&f), Err(Err(WebError::BadRequest(_)))));
    }
}
