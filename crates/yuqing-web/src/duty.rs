//! The duty roster (值班表) and sensitive periods (敏感时期): the `/duty` page, its forms,
//! and the duty API.
//!
//! - UI: `/duty` shows the roster of the past 2 days and the next 14, day by day, with
//!   the time nobody covers flagged ("无人值班"), and the current and upcoming sensitive
//!   periods. The office and admins get the forms: add a shift
//!   (`POST /duty/shifts`), delete one (`POST /duty/shifts/{id}/delete`), import a CSV
//!   pasted into a text box (`POST /duty/import`; every problem at once, with its line,
//!   and nothing imported), declare a period (`POST /duty/periods`), end an active one
//!   now (`POST /duty/periods/{id}/end`) or withdraw one (`POST /duty/periods/{id}/delete`).
//!   Members and leaders see the page read-only and get 403 on the forms.
//! - API: `GET /api/v1/duty`, `POST /api/v1/duty/shifts`, `DELETE /api/v1/duty/shifts/{id}`,
//!   `POST /api/v1/duty/import`, `GET`/`POST /api/v1/sensitive-periods`,
//!   `DELETE /api/v1/sensitive-periods/{id}`.
//!
//! Times typed by people (forms, CSV, API bodies without an offset) are wall-clock times
//! in the organisation's zone, read by [`yuqing_cases::duty::parse_time`] like a roster
//! file; the API answers in UTC (RFC 3339). What makes a shift or period valid is the
//! pure model's ([`Shift::new`], [`SensitivePeriod::new`]); its Chinese messages are the
//! ones shown.

use crate::auth::{csrf_ok, csrf_refused, ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::view::{self, Lang};
use crate::{AppState, WebError};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use yuqing_cases::duty::{local_to_utc, parse_time};
use yuqing_cases::{parse_roster_csv, CsvProblem, DutyError, Roster, SensitivePeriod, Shift};
use yuqing_core::Role;
use yuqing_store::{DutyNow, DutyStoreError, PeriodRecord, ShiftRecord, User};

/// Days of the past the roster page shows, and days ahead (today included).
const PAST_DAYS: i64 = 2;
const AHEAD_DAYS: i64 = 14;
/// The longest window `GET /api/v1/duty` answers for.
const MAX_WINDOW_DAYS: i64 = 366;
/// The largest CSV accepted, in bytes (a year of shifts is a few tens of KB).
const MAX_CSV_BYTES: usize = 1 << 20;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/duty", get(duty_page))
        .route("/duty/shifts", post(add_shift_form))
        .route("/duty/shifts/{id}/delete", post(delete_shift_form))
        .route("/duty/import", post(import_form))
        .route("/duty/periods", post(add_period_form))
        .route("/duty/periods/{id}/end", post(end_period_form))
        .route("/duty/periods/{id}/delete", post(delete_period_form))
}

/// Who may change the roster and declare periods: the office and admins.
fn may_edit(role: Role) -> bool {
    matches!(role, Role::Office | Role::Admin)
}

const FORBIDDEN_EN: &str = "Only the office and admins may change the duty roster and sensitive periods.";
const FORBIDDEN_ZH: &str = "只有网宣办和管理员可以修改值班表和敏感时期。";

/// Who is on duty now and the active period, for the top bar of every page. `None` when
/// it cannot be read (the page still renders; the error is logged).
pub(crate) async fn duty_now(state: &AppState) -> Option<DutyNow> {
    match state.store.duty_now_recent().await {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(error = %e, "could not read who is on duty");
            None
        }
    }
}

fn parse_id(what: &str, id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::NotFound(format!("There is no {what} `{id}`; ids are whole numbers.")))
}

/// A problem with a typed field or value, in both languages.
#[derive(Debug, Clone, Serialize)]
struct FieldProblem {
    message: String,
    message_zh: String,
}

impl FieldProblem {
    fn of(e: &DutyError) -> FieldProblem {
        FieldProblem { message: e.to_string(), message_zh: e.zh() }
    }

    /// A time that does not parse, with the field named (the model's message does not).
    fn of_time(field: &str, field_zh: &str, e: &DutyError) -> FieldProblem {
        FieldProblem { message: format!("{field}: {e}"), message_zh: format!("{field_zh}：{}", e.zh()) }
    }
}

/// Reads a typed time: empty is a problem, as is anything [`parse_time`] refuses.
fn typed_time(text: &str, field: &'static str, field_zh: &str, tz: Tz) -> Result<DateTime<Utc>, FieldProblem> {
    if text.trim().is_empty() {
        return Err(FieldProblem::of(&DutyError::Empty { field }));
    }
    parse_time(text, tz).map_err(|e| FieldProblem::of_time(field, field_zh, &e))
}

/// A shift from typed fields: every problem at once.
fn typed_shift(user: &str, from: &str, to: &str, note: &str, tz: Tz) -> Result<Shift, Vec<FieldProblem>> {
    let from = typed_time(from, "from", "开始时间", tz);
    let to = typed_time(to, "to", "结束时间", tz);
    match (from, to) {
        (Ok(from), Ok(to)) => {
            Shift::new(user, from, to, Some(note)).map_err(|es| es.iter().map(FieldProblem::of).collect())
        }
        (from, to) => {
            let mut problems = Vec::new();
            if user.trim().is_empty() {
                problems.push(FieldProblem::of(&DutyError::Empty { field: "user" }));
            }
            problems.extend(from.err());
            problems.extend(to.err());
            Err(problems)
        }
    }
}

/// A sensitive period from typed fields: every problem at once.
fn typed_period(from: &str, to: &str, reason: &str, tz: Tz) -> Result<SensitivePeriod, Vec<FieldProblem>> {
    let from = typed_time(from, "from", "开始时间", tz);
    let to = typed_time(to, "to", "结束时间", tz);
    match (from, to) {
        (Ok(from), Ok(to)) => {
            SensitivePeriod::new(from, to, reason).map_err(|es| es.iter().map(FieldProblem::of).collect())
        }
        (from, to) => {
            let mut problems = Vec::new();
            if reason.trim().is_empty() {
                problems.push(FieldProblem::of(&DutyError::Empty { field: "reason" }));
            }
            problems.extend(from.err());
            problems.extend(to.err());
            Err(problems)
        }
    }
}

/// CSV bytes as text: UTF-8 as it is (a BOM is skipped by the parser), anything else
/// (a spreadsheet saved as "CSV" on a Chinese Windows is GBK) decoded by its declared
/// charset or by detection, as collected pages are.
fn csv_text(bytes: &[u8], content_type: Option<&str>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => yuqing_text::charset::decode_html(bytes, content_type).text,
    }
}

// ---- API --------------------------------------------------------------------------------

/// An answer of the duty API other than success: a refusal with a Chinese message too
/// (`{"error", "error_zh", "problems"?}`), or any other web error as the rest of the API
/// answers it.
#[derive(Debug)]
pub(crate) enum DutyApiError {
    Refused { status: StatusCode, error: String, error_zh: String, problems: Option<serde_json::Value> },
    Web(WebError),
}

impl DutyApiError {
    fn forbidden() -> DutyApiError {
        DutyApiError::Refused {
            status: StatusCode::FORBIDDEN,
            error: FORBIDDEN_EN.into(),
            error_zh: FORBIDDEN_ZH.into(),
            problems: None,
        }
    }

    fn invalid(problems: &[FieldProblem]) -> DutyApiError {
        DutyApiError::Refused {
            status: StatusCode::BAD_REQUEST,
            error: problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "),
            error_zh: problems.iter().map(|p| p.message_zh.as_str()).collect::<Vec<_>>().join("；"),
            problems: serde_json::to_value(problems).ok(),
        }
    }

    fn csv(problems: &[CsvProblem]) -> DutyApiError {
        DutyApiError::Refused {
            status: StatusCode::BAD_REQUEST,
            error: format!(
                "The roster has {} problem(s); nothing was imported. {}",
                problems.len(),
                problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ),
            error_zh: format!(
                "值班表有 {} 处问题，未导入任何班次。{}",
                problems.len(),
                problems.iter().map(|p| format!("第 {} 行：{}", p.line, p.message_zh)).collect::<Vec<_>>().join("；")
            ),
            problems: serde_json::to_value(problems).ok(),
        }
    }

    fn not_found(error: String, error_zh: String) -> DutyApiError {
        DutyApiError::Refused { status: StatusCode::NOT_FOUND, error, error_zh, problems: None }
    }
}

impl From<WebError> for DutyApiError {
    fn from(e: WebError) -> Self {
        DutyApiError::Web(e)
    }
}

impl From<yuqing_store::StoreError> for DutyApiError {
    fn from(e: yuqing_store::StoreError) -> Self {
        DutyApiError::Web(e.into())
    }
}

impl From<DutyStoreError> for DutyApiError {
    fn from(e: DutyStoreError) -> Self {
        match e {
            DutyStoreError::Invalid(problems) | DutyStoreError::InvalidImport { problems, .. } => {
                DutyApiError::invalid(&problems.iter().map(FieldProblem::of).collect::<Vec<_>>())
            }
            DutyStoreError::Store(s) => s.into(),
            other => DutyApiError::Web(WebError::Internal(other.to_string())),
        }
    }
}

impl IntoResponse for DutyApiError {
    fn into_response(self) -> Response {
        match self {
            DutyApiError::Refused { status, error, error_zh, problems } => {
                let mut body = serde_json::json!({ "error": error, "error_zh": error_zh });
                if let Some(p) = problems {
                    body["problems"] = p;
                }
                (status, Json(body)).into_response()
            }
            DutyApiError::Web(e) => ApiError(e).into_response(),
        }
    }
}

fn require_editor(user: &User) -> Result<(), DutyApiError> {
    if may_edit(user.role) {
        Ok(())
    } else {
        Err(DutyApiError::forbidden())
    }
}

/// A JSON body of type `T`; serde names an unknown or malformed field.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, DutyApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WebError::BadRequest(format!("The body must be {what}; it is empty.")).into());
    }
    serde_json::from_slice(body).map_err(|e| WebError::BadRequest(format!("The body is not {what}: {e}.")).into())
}

#[derive(Debug, Serialize)]
struct Gap {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DutyOut {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// The shifts that share time with the window, in roster order.
    shifts: Vec<ShiftRecord>,
    /// The time of the window nobody covers.
    gaps: Vec<Gap>,
    /// Who is on duty now (names, each once).
    on_duty: Vec<String>,
    /// The sensitive period active now.
    sensitive_period: Option<PeriodRecord>,
}

/// The window of `GET /api/v1/duty`: `from` and `to` as RFC 3339 or local times in the
/// organisation's zone; by default the past 2 days and the next 14.
fn parse_window(raw: Option<&str>, tz: Tz, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), WebError> {
    // Whole seconds: the window is echoed in the answer.
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let (mut from, mut to) = (now - TimeDelta::days(PAST_DAYS), now + TimeDelta::days(AHEAD_DAYS));
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let slot = match k.as_ref() {
            "from" => &mut from,
            "to" => &mut to,
            _ => continue,
        };
        *slot = parse_time(v, tz).map_err(|e| WebError::BadRequest(format!("The parameter `{k}`: {e}.")))?;
    }
    if from >= to {
        return Err(WebError::BadRequest("The parameter `to` must be after `from`.".into()));
    }
    if to - from > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(WebError::BadRequest(format!("The window is longer than {MAX_WINDOW_DAYS} days.")));
    }
    Ok((from, to))
}

pub(crate) async fn api_duty(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<DutyOut>, DutyApiError> {
    let now = Utc::now();
    let (from, to) = parse_window(raw.as_deref(), state.config.org.timezone, now)?;
    let shifts = state.store.shifts(from, to).await?;
    let roster = Roster::new(shifts.iter().map(|s| s.shift.clone()).collect());
    let gaps = roster.gaps(from, to).into_iter().map(|(from, to)| Gap { from, to }).collect();
    let duty = state.store.duty_now(now).await?;
    Ok(Json(DutyOut { from, to, shifts, gaps, on_duty: duty.names(), sensitive_period: duty.sensitive_period }))
}

/// The body of `POST /api/v1/duty/shifts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftBody {
    user: String,
    from: String,
    to: String,
    #[serde(default)]
    note: Option<String>,
}

pub(crate) async fn api_add_shift(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, DutyApiError> {
    require_editor(&user)?;
    let b: ShiftBody = json_body(&body, "a JSON object like {\"user\", \"from\", \"to\", \"note\"}")?;
    let tz = state.config.org.timezone;
    let shift = typed_shift(&b.user, &b.from, &b.to, b.note.as_deref().unwrap_or(""), tz)
        .map_err(|p| DutyApiError::invalid(&p))?;
    let id = state.store.add_shift(&shift, &user.name).await?;
    tracing::info!(user = %user.name, shift = id, on_duty = %shift.user, "a shift was added");
    let record = state.store.shift(id).await?.ok_or_else(|| WebError::Internal(format!("shift {id} vanished")))?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "shift": record }))).into_response())
}

pub(crate) async fn api_delete_shift(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, DutyApiError> {
    require_editor(&user)?;
    let id = parse_id("shift", &id)?;
    match state.store.delete_shift(id).await? {
        Some(shift) => {
            tracing::info!(user = %user.name, shift = id, on_duty = %shift.shift.user, "a shift was deleted");
            Ok(Json(serde_json::json!({ "shift": shift })).into_response())
        }
        None => Err(DutyApiError::not_found(format!("There is no shift {id}."), format!("没有编号为 {id} 的班次。"))),
    }
}

pub(crate) async fn api_import(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DutyApiError> {
    require_editor(&user)?;
    if body.len() > MAX_CSV_BYTES {
        return Err(WebError::BadRequest(format!("The roster is larger than {MAX_CSV_BYTES} bytes.")).into());
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let text = csv_text(&body, content_type);
    let shifts = parse_roster_csv(&text, state.config.org.timezone).map_err(|p| DutyApiError::csv(&p))?;
    if shifts.is_empty() {
        return Err(WebError::BadRequest("The roster has no shifts.".into()).into());
    }
    let imported = state.store.import_shifts(&shifts, &user.name).await?;
    tracing::info!(user = %user.name, added = imported.added, unchanged = imported.unchanged, "a roster was imported");
    Ok(Json(imported).into_response())
}

#[derive(Debug, Serialize)]
pub(crate) struct PeriodsOut {
    /// Every declared period, in order.
    periods: Vec<PeriodRecord>,
    /// The one active now.
    active: Option<PeriodRecord>,
}

pub(crate) async fn api_periods(
    _user: ApiUser,
    State(state): State<AppState>,
) -> Result<Json<PeriodsOut>, DutyApiError> {
    let periods = state.store.period_records().await?;
    let active = state.store.active_period(Utc::now()).await?;
    Ok(Json(PeriodsOut { periods, active }))
}

/// The body of `POST /api/v1/sensitive-periods`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodBody {
    from: String,
    to: String,
    reason: String,
}

pub(crate) async fn api_add_period(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, DutyApiError> {
    require_editor(&user)?;
    let b: PeriodBody = json_body(&body, "a JSON object like {\"from\", \"to\", \"reason\"}")?;
    let period =
        typed_period(&b.from, &b.to, &b.reason, state.config.org.timezone).map_err(|p| DutyApiError::invalid(&p))?;
    let id = state.store.add_period(&period, &user.name).await?;
    tracing::info!(user = %user.name, period = id, reason = %period.reason, "a sensitive period was declared");
    let record = state
        .store
        .period_records()
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| WebError::Internal(format!("period {id} vanished")))?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "period": record }))).into_response())
}

pub(crate) async fn api_delete_period(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, DutyApiError> {
    require_editor(&user)?;
    let id = parse_id("sensitive period", &id)?;
    match state.store.delete_period(id).await? {
        Some(p) => {
            tracing::info!(user = %user.name, period = id, reason = %p.period.reason, "a sensitive period was withdrawn");
            Ok(Json(serde_json::json!({ "period": p })).into_response())
        }
        None => Err(DutyApiError::not_found(
            format!("There is no sensitive period {id}."),
            format!("没有编号为 {id} 的敏感时期。"),
        )),
    }
}

// ---- the page ---------------------------------------------------------------------------

fn weekday_label(lang: Lang, d: Weekday) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    match lang {
        Lang::Zh => ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][i],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
    }
}

fn day_label(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Zh => format!("{}月{}日 {}", d.month(), d.day(), weekday_label(lang, d.weekday())),
        Lang::En => format!("{} {}", weekday_label(lang, d.weekday()), d.format("%-d %b")),
    }
}

/// The start of a local day as an instant.
fn day_start(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_to_utc(d.and_time(NaiveTime::MIN), tz)
}

/// A time as seen from day `d`: `08:00` on that day, `24:00` at its end, `11-30 08:00`
/// on another day.
fn time_in_day(t: DateTime<Utc>, d: NaiveDate, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    if local.date_naive() == d {
        local.format("%H:%M").to_string()
    } else if local.date_naive() == d.succ_opt().unwrap_or(d) && local.time() == NaiveTime::MIN {
        "24:00".to_string()
    } else {
        local.format("%m-%d %H:%M").to_string()
    }
}

fn full_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The value of a `datetime-local` input for a time.
fn input_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

#[derive(Debug, Serialize)]
struct ShiftView {
    id: i64,
    user: String,
    /// The name is not a user's: an alert cannot reach them through yuqing.
    unknown_user: bool,
    from: String,
    to: String,
    note: Option<String>,
    on_now: bool,
    created_by: String,
}

#[derive(Debug, Serialize)]
struct GapView {
    from: String,
    to: String,
}

/// One row of a day: a shift, or time nobody covers.
#[derive(Debug, Serialize)]
struct DayRow {
    #[serde(skip)]
    at: DateTime<Utc>,
    shift: Option<ShiftView>,
    gap: Option<GapView>,
}

#[derive(Debug, Serialize)]
struct DayView {
    label: String,
    date: String,
    today: bool,
    past: bool,
    /// Shifts and gaps, in time order.
    rows: Vec<DayRow>,
}

#[derive(Debug, Serialize)]
struct PeriodView {
    id: i64,
    reason: String,
    from: String,
    to: String,
    active: bool,
    created_by: String,
}

/// What was typed into the page's forms, kept when one is refused.
#[derive(Debug, Default, Serialize)]
struct Typed {
    user: String,
    from: String,
    to: String,
    note: String,
    csv: String,
    period_from: String,
    period_to: String,
    reason: String,
}

/// The problems of a refused form, shown beside it.
#[derive(Debug, Default, Serialize)]
struct FormProblems {
    shift: Vec<String>,
    csv: Vec<CsvLine>,
    period: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CsvLine {
    line: usize,
    /// "第 3 行" / "Line 3".
    label: String,
    message: String,
}

impl CsvLine {
    fn new(lang: Lang, line: usize, message: String) -> CsvLine {
        let label = match lang {
            Lang::Zh => format!("第 {line} 行"),
            Lang::En => format!("Line {line}"),
        };
        CsvLine { line, label, message }
    }
}

fn problem_texts(lang: Lang, problems: &[FieldProblem]) -> Vec<String> {
    problems.iter().map(|p| if lang == Lang::Zh { p.message_zh.clone() } else { p.message.clone() }).collect()
}

async fn render_duty(
    ui: &Ui,
    state: &AppState,
    status: StatusCode,
    typed: Typed,
    problems: FormProblems,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let first = today - TimeDelta::days(PAST_DAYS);
    let (from, to) = (day_start(first, tz), day_start(today + TimeDelta::days(AHEAD_DAYS), tz));
    let shifts = state.store.shifts(from, to).await?;
    let roster = Roster::new(shifts.iter().map(|s| s.shift.clone()).collect());
    let users = state.store.user_names().await?;
    let known: HashSet<&str> = users.iter().map(String::as_str).collect();
    let days: Vec<DayView> = (0..PAST_DAYS + AHEAD_DAYS)
        .map(|n| {
            let d = first + TimeDelta::days(n);
            let (start, end) = (day_start(d, tz), day_start(d + TimeDelta::days(1), tz));
            let mut rows: Vec<DayRow> = shifts
                .iter()
                .filter(|s| s.shift.from < end && start < s.shift.to)
                .map(|s| DayRow {
                    at: s.shift.from,
                    shift: Some(ShiftView {
                        id: s.id,
                        user: s.shift.user.clone(),
                        unknown_user: !known.contains(s.shift.user.as_str()),
                        from: time_in_day(s.shift.from, d, tz),
                        to: time_in_day(s.shift.to, d, tz),
                        note: s.shift.note.clone(),
                        on_now: s.shift.covers(now),
                        created_by: s.created_by.clone(),
                    }),
                    gap: None,
                })
                .collect();
            rows.extend(roster.gaps(start, end).into_iter().map(|(a, b)| DayRow {
                at: a,
                shift: None,
                gap: Some(GapView { from: time_in_day(a, d, tz), to: time_in_day(b, d, tz) }),
            }));
            // Stable: shifts keep their roster order among themselves.
            rows.sort_by_key(|r| r.at);
            DayView {
                label: day_label(lang, d),
                date: d.format("%Y-%m-%d").to_string(),
                today: d == today,
                past: d < today,
                rows,
            }
        })
        .collect();
    let periods: Vec<PeriodView> = state
        .store
        .period_records()
        .await?
        .into_iter()
        .filter(|p| p.period.to > now)
        .map(|p| PeriodView {
            id: p.id,
            active: p.period.contains(now),
            reason: p.period.reason,
            from: full_time(p.period.from, tz),
            to: full_time(p.period.to, tz),
            created_by: p.created_by,
        })
        .collect();
    let page = serde_json::json!({
        "days": days,
        "periods": periods,
        "users": users,
        "can_edit": may_edit(ui.user.role),
        "typed": typed,
        "problems": problems,
        "notice": notice,
        "zone": tz.name(),
        "now_input": input_time(now, tz),
    });
    let base = ui.base(state, "duty");
    Ok((status, view::render("duty.html", &base, page)?).into_response())
}

async fn duty_page(ui: Ui, State(state): State<AppState>) -> Result<Response, PageError> {
    let notice = match (view::query_param(&ui.uri, "added"), view::query_param(&ui.uri, "unchanged")) {
        (Some(added), unchanged) => {
            let added: usize = added.parse().unwrap_or(0);
            let unchanged: usize = unchanged.and_then(|u| u.parse().ok()).unwrap_or(0);
            Some(match ui.lang {
                Lang::Zh if unchanged > 0 => format!("已导入 {added} 个班次；{unchanged} 个班次已存在，未重复导入。"),
                Lang::Zh => format!("已导入 {added} 个班次。"),
                Lang::En if unchanged > 0 => {
                    format!("{added} shift(s) imported; {unchanged} were already in the roster and were left alone.")
                }
                Lang::En => format!("{added} shift(s) imported."),
            })
        }
        _ => None,
    };
    render_duty(&ui, &state, StatusCode::OK, Typed::default(), FormProblems::default(), notice).await
}

/// Checks a roster form: the session's CSRF token, then the role.
fn check_form(ui: &Ui, csrf: &str) -> Result<(), PageError> {
    if !csrf_ok(&ui.csrf, csrf) {
        return Err(csrf_refused());
    }
    if !may_edit(ui.user.role) {
        return Err(PageError(WebError::Forbidden(format!("{FORBIDDEN_ZH} {FORBIDDEN_EN}"))));
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct ShiftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
}

async fn add_shift_form(
    ui: Ui,
    State(state): State<AppState>,
    form: Result<Form<ShiftForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(f)) = form else {
        return Err(csrf_refused());
    };
    check_form(&ui, &f.csrf)?;
    let tz = state.config.org.timezone;
    let refused = |problems: Vec<FieldProblem>, f: ShiftForm| {
        let typed = Typed { user: f.user, from: f.from, to: f.to, note: f.note, ..Typed::default() };
        let problems = FormProblems { shift: problem_texts(ui.lang, &problems), ..FormProblems::default() };
        (typed, problems)
    };
    let shift = match typed_shift(&f.user, &f.from, &f.to, &f.note, tz) {
        Ok(s) => s,
        Err(p) => {
            let (typed, problems) = refused(p, f);
            return render_duty(&ui, &state, StatusCode::BAD_REQUEST, typed, problems, None).await;
        }
    };
    match state.store.add_shift(&shift, &ui.user.name).await {
        Ok(id) => {
            tracing::info!(user = %ui.user.name, shift = id, on_duty = %shift.user, "a shift was added");
            Ok(Redirect::to("/duty").into_response())
        }
        Err(DutyStoreError::Invalid(es)) => {
            let (typed, problems) = refused(es.iter().map(FieldProblem::of).collect(), f);
            render_duty(&ui, &state, StatusCode::BAD_REQUEST, typed, problems, None).await
        }
        Err(e) => Err(PageError(WebError::Internal(e.to_string()))),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn delete_shift_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(f)) = form else {
        return Err(csrf_refused());
    };
    check_form(&ui, &f.csrf)?;
    let id = parse_id("shift", &id)?;
    match state.store.delete_shift(id).await? {
        Some(s) => {
            tracing::info!(user = %ui.user.name, shift = id, on_duty = %s.shift.user, "a shift was deleted");
            Ok(Redirect::to("/duty").into_response())
        }
        None => {
            Err(PageError(WebError::NotFound(format!("There is no shift {id}; it may have been deleted already."))))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    csv: String,
}

async fn import_form(
    ui: Ui,
    State(state): State<AppState>,
    form: Result<Form<ImportForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(f)) = form else {
        return Err(csrf_refused());
    };
    check_form(&ui, &f.csrf)?;
    let refused = |problems: Vec<CsvLine>, csv: String| {
        (Typed { csv, ..Typed::default() }, FormProblems { csv: problems, ..FormProblems::default() })
    };
    let parsed = if f.csv.len() > MAX_CSV_BYTES {
        Err(vec![CsvLine::new(ui.lang, 1, format!("CSV 超过 {} KB", MAX_CSV_BYTES / 1024))])
    } else {
        parse_roster_csv(&f.csv, state.config.org.timezone).map_err(|ps| {
            ps.into_iter()
                .map(|p| CsvLine::new(ui.lang, p.line, if ui.lang == Lang::Zh { p.message_zh } else { p.message }))
                .collect()
        })
    };
    let shifts = match parsed {
        Ok(s) if s.is_empty() => Err(vec![CsvLine::new(
            ui.lang,
            1,
            if ui.lang == Lang::Zh { "没有任何班次".into() } else { "There are no shifts.".into() },
        )]),
        other => other,
    };
    let shifts = match shifts {
        Ok(s) => s,
        Err(lines) => {
            let (typed, problems) = refused(lines, f.csv);
            return render_duty(&ui, &state, StatusCode::BAD_REQUEST, typed, problems, None).await;
        }
    };
    match state.store.import_shifts(&shifts, &ui.user.name).await {
        Ok(imported) => {
            tracing::info!(user = %ui.user.name, added = imported.added, unchanged = imported.unchanged, "a roster was imported");
            Ok(Redirect::to(&format!("/duty?added={}&unchanged={}", imported.added, imported.unchanged))
                .into_response())
        }
        Err(DutyStoreError::InvalidImport { index, problems }) => {
            // The parser checks what the store checks; kept in case they ever differ.
            let lines = problems
                .iter()
                .map(|p| CsvLine::new(ui.lang, index + 1, if ui.lang == Lang::Zh { p.zh() } else { p.to_string() }))
                .collect();
            let (typed, problems) = refused(lines, f.csv);
            render_duty(&ui, &state, StatusCode::BAD_REQUEST, typed, problems, None).await
        }
        Err(e) => Err(PageError(WebError::Internal(e.to_string()))),
    }
}

#[derive(Debug, Default, Deserialize)]
struct PeriodForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn add_period_form(
    ui: Ui,
    State(state): State<AppState>,
    form: Result<Form<PeriodForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(f)) = form else {
        return Err(csrf_refused());
    };
    check_form(&ui, &f.csrf)?;
    let refused = |problems: Vec<FieldProblem>, f: PeriodForm| {
        let typed = Typed { period_from: f.from, period_to: f.to, reason: f.reason, ..Typed::default() };
        (typed, FormProblems { period: problem_texts(ui.lang, &problems), ..FormProblems::default() })
    };
    let period = match typed_period(&f.from, &f.to, &f.reason, state.config.org.timezone) {
        Ok(p) => p,
        Err(p) => {
            let (typed, problems) = refused(p, f);
            return render_duty(&ui, &state, StatusCode::BAD_REQUEST, typed, problems, None).await;
        }
    };
    match state.store.add_period(&period, &ui.user.name).await {
        Ok(id) => {
            tracing::info!(user = %ui.user.name, period = id, reason = %period.reason, "a sensitive period was declared");
            Ok(Redirect::to("/duty").into_response())
        }
        Err(DutyStoreError::Invalid(es)) => {
            let (typed, problems) = refused(es.iter().map(FieldProblem::of).collect(), f);
            render_duty(&ui, &state, StatusCode::BAD_REQUEST, typed, problems, None).await
        }
        Err(e) => Err(PageError(WebError::Internal(e.to_string()))),
    }
}

async fn end_period_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(f)) = form else {
        return Err(csrf_refused());
    };
    check_form(&ui, &f.csrf)?;
    let id = parse_id("sensitive period", &id)?;
    match state.store.end_period(id, Utc::now()).await? {
        Some(p) => {
            tracing::info!(user = %ui.user.name, period = id, reason = %p.period.reason, "a sensitive period was ended");
            Ok(Redirect::to("/duty").into_response())
        }
        None => Err(PageError(WebError::NotFound(format!("There is no active sensitive period {id}.")))),
    }
}

async fn delete_period_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(f)) = form else {
        return Err(csrf_refused());
    };
    check_form(&ui, &f.csrf)?;
    let id = parse_id("sensitive period", &id)?;
    match state.store.delete_period(id).await? {
        Some(p) => {
            tracing::info!(user = %ui.user.name, period = id, reason = %p.period.reason, "a sensitive period was withdrawn");
            Ok(Redirect::to("/duty").into_response())
        }
        None => Err(PageError(WebError::NotFound(format!("There is no sensitive period {id}.")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn times_read_as_people_type_them_in_the_zone() {
        let s = typed_shift("张三", "2026-11-29T08:00", "2026-11-29 20:00", " ", SH).unwrap();
        assert_eq!(s.from, Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap());
        assert_eq!(s.to, Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap());
        assert_eq!(s.note, None);
        let problems = typed_shift("", "", "tomorrow", "", SH).unwrap_err();
        let zh: Vec<&str> = problems.iter().map(|p| p.message_zh.as_str()).collect();
        assert_eq!(zh.len(), 3, "{zh:?}");
        assert_eq!(zh[0], "值班人员不能为空");
        assert_eq!(zh[1], "开始时间不能为空");
        assert!(zh[2].starts_with("结束时间：“tomorrow”不是有效时间"), "{zh:?}");
        let problems = typed_period("2026-11-29 08:00", "2026-11-29 08:00", "", SH).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn times_within_a_day() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let t =
            |day, h| local_to_utc(NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(h, 0, 0).unwrap(), SH);
        assert_eq!(time_in_day(t(29, 8), d, SH), "08:00");
        assert_eq!(time_in_day(t(30, 0), d, SH), "24:00");
        assert_eq!(time_in_day(t(30, 8), d, SH), "11-30 08:00");
        assert_eq!(time_in_day(t(28, 20), d, SH), "11-28 20:00");
        assert_eq!(day_label(Lang::Zh, d), "11月29日 周日");
        assert_eq!(day_label(Lang::En, d), "Sun 29 Nov");
    }

    #[test]
    fn gbk_csv_is_decoded() {
        // "张三,…" in GBK.
        let bytes = b"\xd5\xc5\xc8\xfd,2026-11-29 08:00,2026-11-29 20:00\n";
        assert!(csv_text(bytes, Some("text/csv; charset=gbk")).starts_with("张三,"));
        assert_eq!(csv_text("张三".as_bytes(), None), "张三");
    }

    #[test]
    fn the_window_defaults_and_is_checked() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        let (from, to) = parse_window(None, SH, now).unwrap();
        assert_eq!((to - from).num_days(), PAST_DAYS + AHEAD_DAYS);
        let (from, _) = parse_window(Some("from=2026-11-29%2008:00&to=2026-11-30T00:00:00Z"), SH, now).unwrap();
        assert_eq!(from, now);
        assert!(parse_window(Some("from=2026-11-30%2000:00&to=2026-11-29%2000:00"), SH, now).is_err());
        assert!(parse_window(Some("from=soon"), SH, now).is_err());
        assert!(parse_window(Some("from=2020-01-01%2000:00"), SH, now).is_err(), "too long a window");
    }
}
