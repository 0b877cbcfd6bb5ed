//! Items (信息): the stream, search and item pages, and the items API. One parser reads
//! the filter parameters for both, so the UI form and the API accept the same values.

use crate::auth::{ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::view::{self, category_label, level_label, local_time, tier_label, tone_label, Lang};
use crate::{AppState, WebError};
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_store::{ItemDetail, ItemFilter, ItemPage, ItemQuery, ItemSummary};

/// Items per page unless `limit` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// Largest `limit`; larger values are cut to it.
pub(crate) const MAX_LIMIT: usize = 500;
/// Largest `offset`: the search index keeps `offset + limit` hits in memory, so an
/// unbounded offset would let one request claim any amount of it.
pub(crate) const MAX_OFFSET: usize = 100_000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(stream)).route("/search", get(search)).route("/items/{id}", get(item_page))
}

/// The filter parameters as given (for the UI form), and the query they make.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Params {
    pub q: String,
    pub tone: String,
    pub category: String,
    pub tier: String,
    pub source: String,
    pub level: String,
    pub since: String,
    pub until: String,
}

impl Params {
    fn any_filter(&self) -> bool {
        [&self.tone, &self.category, &self.tier, &self.source, &self.level, &self.since, &self.until]
            .iter()
            .any(|v| !v.is_empty())
    }
}

fn bad(name: &str, why: &str) -> WebError {
    WebError::BadRequest(format!("The parameter `{name}` {why}"))
}

fn enum_param<T>(name: &str, v: &str, parse: fn(&str) -> Option<T>, ids: String) -> Result<Option<T>, WebError> {
    if v.is_empty() {
        return Ok(None);
    }
    parse(v).map(Some).ok_or_else(|| bad(name, &format!("must be one of: {ids}.")))
}

/// A time filter: RFC 3339, or a date read in the organisation's zone. A date in `until`
/// includes that whole day (the store's `until` is exclusive).
pub(crate) fn time_param(name: &str, v: &str, tz: Tz, end_of_day: bool) -> Result<Option<DateTime<Utc>>, WebError> {
    if v.is_empty() {
        return Ok(None);
    }
    // An unencoded `+08:00` arrives as ` 08:00` (form encoding reads `+` as a space).
    let repaired = v.replace(' ', "+");
    for candidate in [v, repaired.as_str()] {
        if let Ok(t) = DateTime::parse_from_rfc3339(candidate) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
    }
    let err = || bad(name, "must be an RFC 3339 time (2026-11-21T14:05:00+08:00) or a date (2026-11-21).");
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| err())?;
    let date = if end_of_day { date.succ_opt().ok_or_else(err)? } else { date };
    let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(err)?;
    let local = tz.from_local_datetime(&midnight);
    local
        .earliest()
        .or_else(|| local.latest())
        .map(|t| Some(t.with_timezone(&Utc)))
        // Midnight skipped by a clock change: start the day an hour later.
        .or_else(|| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
                .map(|t| Some(t.with_timezone(&Utc)))
        })
        .ok_or_else(err)
}

fn count_param(name: &str, v: &str) -> Result<Option<usize>, WebError> {
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<usize>().map(Some).map_err(|_| bad(name, "must be a whole number, 0 or more."))
}

/// Reads the filter, paging and search parameters of the stream, search and API.
/// Unknown parameters are ignored; an empty value means "not set" (as a GET form sends).
pub(crate) fn parse_params(raw: Option<&str>, tz: Tz) -> Result<(Params, ItemQuery), WebError> {
    let mut p = Params::default();
    let mut limit = String::new();
    let mut offset = String::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.trim().to_string();
        let slot = match k.as_ref() {
            "q" => &mut p.q,
            "tone" => &mut p.tone,
            "category" => &mut p.category,
            "tier" => &mut p.tier,
            "source" => &mut p.source,
            "level" => &mut p.level,
            "since" => &mut p.since,
            "until" => &mut p.until,
            "limit" => &mut limit,
            "offset" => &mut offset,
            _ => continue,
        };
        *slot = v;
    }
    if p.q.chars().count() > 500 {
        return Err(bad("q", "is too long (500 characters at most)."));
    }
    let filter = ItemFilter {
        tone: enum_param("tone", &p.tone, Tone::from_id, Tone::ids())?,
        category: enum_param("category", &p.category, Category::from_id, Category::ids())?,
        tier: enum_param("tier", &p.tier, Tier::from_id, Tier::ids())?,
        level: enum_param("level", &p.level, Level::from_id, Level::ids())?,
        source: (!p.source.is_empty()).then(|| p.source.clone()),
        since: time_param("since", &p.since, tz, false)?,
        until: time_param("until", &p.until, tz, true)?,
    };
    if let (Some(s), Some(u)) = (filter.since, filter.until) {
        if s >= u {
            return Err(bad("since", "must be before `until`."));
        }
    }
    let limit = match count_param("limit", &limit)? {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(bad("limit", "must be at least 1.")),
        Some(n) => n.min(MAX_LIMIT),
    };
    let offset = count_param("offset", &offset)?.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(bad("offset", &format!("must be at most {MAX_OFFSET}; narrow the filters instead.")));
    }
    let query = ItemQuery { q: (!p.q.is_empty()).then(|| p.q.clone()), filter, limit, offset };
    Ok((p, query))
}

// ---- API ----------------------------------------------------------------------------

pub(crate) async fn api_list(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ItemPage>, ApiError> {
    let (_, query) = parse_params(raw.as_deref(), state.config.org.timezone)?;
    Ok(Json(state.store.items(&query).await?))
}

pub(crate) fn parse_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::NotFound(format!("There is no item `{id}`; item ids are whole numbers.")))
}

async fn load_item(state: &AppState, id: &str) -> Result<ItemDetail, WebError> {
    let n = parse_id(id)?;
    state.store.item(n).await?.ok_or_else(|| WebError::NotFound(format!("There is no item {n}.")))
}

pub(crate) async fn api_get(
    _user: ApiUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ItemDetail>, ApiError> {
    Ok(Json(load_item(&state, &id).await?))
}

// ---- UI -----------------------------------------------------------------------------

/// One row of the stream and search lists.
#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    title: String,
    href: String,
    source: String,
    source_href: String,
    tier: &'static str,
    time: String,
    tone: &'static str,
    tone_label: &'static str,
    level: &'static str,
    level_label: &'static str,
    categories: Vec<&'static str>,
    duplicate_of: Option<i64>,
}

fn row(lang: Lang, tz: Tz, it: &ItemSummary) -> Row {
    let mut source_link = url::form_urlencoded::Serializer::new(String::new());
    source_link.append_pair("source", &it.source);
    Row {
        id: it.id,
        title: if it.title.trim().is_empty() { it.url.clone() } else { it.title.clone() },
        href: format!("/items/{}", it.id),
        source: it.source.clone(),
        source_href: format!("/?{}", source_link.finish()),
        tier: tier_label(lang, it.tier),
        time: local_time(tz, it.published_at.as_deref().unwrap_or(&it.fetched_at)),
        tone: it.tone.id(),
        tone_label: tone_label(lang, it.tone),
        level: it.level.id(),
        level_label: level_label(lang, it.level),
        categories: it.categories.iter().map(|c| category_label(lang, *c)).collect(),
        duplicate_of: it.duplicate_of,
    }
}

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices<T: Copy>(
    all: &[T],
    id: fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    current: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice { value: id(*v).to_string(), label: label(*v).to_string(), selected: id(*v) == current })
        .collect()
}

#[derive(Debug, Serialize)]
struct Paging {
    total: usize,
    /// `total` is an estimate (see `ItemPage::total_estimated`).
    estimated: bool,
    from: usize,
    to: usize,
    prev: Option<String>,
    next: Option<String>,
}

fn paging(uri: &Uri, page: &ItemPage, shown: usize, q: &ItemQuery) -> Paging {
    let total = page.total;
    // An estimate may be above or below the hits there are; the page itself is exact:
    // a full page may have a next one, a short page is the last.
    let more = if page.total_estimated { shown == q.limit } else { q.offset + shown < total };
    let link = |offset: usize| {
        let off = offset.to_string();
        view::with_param(uri, "offset", (offset > 0).then_some(off.as_str()))
    };
    Paging {
        total,
        estimated: page.total_estimated,
        from: if shown == 0 { 0 } else { q.offset + 1 },
        to: q.offset + shown,
        prev: (q.offset > 0).then(|| link(q.offset.saturating_sub(q.limit))),
        next: (more && q.offset + q.limit <= MAX_OFFSET).then(|| link(q.offset + q.limit)),
    }
}

async fn stream(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    list_page(ui, state, raw, false).await
}

async fn search(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    list_page(ui, state, raw, true).await
}

/// The stream (`/`) and search (`/search`): the same list and filters; search adds the
/// query box and lists nothing until asked.
async fn list_page(ui: Ui, state: AppState, raw: Option<String>, is_search: bool) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let (params, query) = parse_params(raw.as_deref(), tz)?;
    let asked = !is_search || !params.q.is_empty() || params.any_filter();
    let (rows, paging) = if asked {
        let page = state.store.items(&query).await?;
        let rows: Vec<Row> = page.items.iter().map(|it| row(lang, tz, it)).collect();
        let paging = paging(&ui.uri, &page, rows.len(), &query);
        (rows, Some(paging))
    } else {
        (vec![], None)
    };
    let mut source_names: Vec<String> = state.store.source_names().await?;
    if !params.source.is_empty() && !source_names.contains(&params.source) {
        source_names.push(params.source.clone());
    }
    let sources: Vec<Choice> =
        source_names.into_iter().map(|n| Choice { selected: n == params.source, label: n.clone(), value: n }).collect();
    let filters = serde_json::json!({
        "action": if is_search { "/search" } else { "/" },
        "tones": choices(Tone::ALL, Tone::id, |v| tone_label(lang, v), &params.tone),
        "categories": choices(Category::ALL, Category::id, |v| category_label(lang, v), &params.category),
        "tiers": choices(Tier::ALL, Tier::id, |v| tier_label(lang, v), &params.tier),
        "levels": choices(Level::ALL, Level::id, |v| level_label(lang, v), &params.level),
        "sources": sources,
        "since": params.since,
        "until": params.until,
        "q": params.q,
        "filtered": params.any_filter(),
        "clear_href": clear_href(is_search, &params.q),
    });
    let (template, nav) = if is_search { ("search.html", "search") } else { ("stream.html", "stream") };
    let base = ui.base(&state, nav);
    Ok(view::render(template, &base, serde_json::json!({ "rows": rows, "paging": paging, "f": filters }))?
        .into_response())
}

/// The list without filters (keeping the search words).
fn clear_href(is_search: bool, q: &str) -> String {
    if !is_search {
        return "/".into();
    }
    if q.is_empty() {
        return "/search".into();
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", q);
    format!("/search?{}", s.finish())
}

async fn item_page(ui: Ui, State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    render_item(&ui, &state, &id, None, "").await
}

/// The item page. `problem` (`{status, zh, en}`) is a refused report, shown above the
/// report form with the note the user typed kept in it; the page then answers with the
/// refusal's status.
pub(crate) async fn render_item(
    ui: &Ui,
    state: &AppState,
    id: &str,
    problem: Option<serde_json::Value>,
    typed_note: &str,
) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let d = load_item(state, id).await?;
    let it = &d.item;
    let first_seen = it.duplicate_of;
    let duplicates: Vec<serde_json::Value> = d
        .duplicates
        .iter()
        .map(|other| {
            let r = row(lang, tz, other);
            serde_json::json!({ "row": r, "first_seen": Some(other.id) == first_seen })
        })
        .collect();
    // Collected text is hostile: it goes to the template as plain strings, one per
    // paragraph, and the template escapes them.
    let paragraphs: Vec<&str> = d.content.split('\n').map(str::trim).filter(|p| !p.is_empty()).collect();
    // The item's cases: the open one (at most one) takes further reports.
    let cases = crate::cases::cases_of_item(state, it.id).await?;
    let event = crate::events::event_link(state, it.id).await?;
    let tone = crate::corrections::item_panel(ui, state, it).await?;
    let open_case = cases.iter().find(|(_, s)| s.is_open()).map(|(id, _)| *id);
    let closed_cases: Vec<i64> = cases.iter().filter(|(_, s)| !s.is_open()).map(|(id, _)| *id).collect();
    let status = problem
        .as_ref()
        .and_then(|p| p["status"].as_u64())
        .and_then(|s| axum::http::StatusCode::from_u16(s as u16).ok())
        .unwrap_or(axum::http::StatusCode::OK);
    let page = serde_json::json!({
        "row": row(lang, tz, it),
        "url": it.url,
        "url_is_link": view::is_web_link(&it.url),
        "published": it.published_at.as_deref().map(|t| local_time(tz, t)),
        "fetched": local_time(tz, &it.fetched_at),
        "tone_score": format!("{:+.2}", it.tone_score),
        "level_reason": it.level_reason,
        "matched_rules": it.matched_rules,
        "paragraphs": paragraphs,
        "first_seen": first_seen,
        "duplicates": duplicates,
        "event": event,
        "open_case": open_case,
        "closed_cases": closed_cases,
        "problem": problem,
        "typed_note": typed_note,
        "max_note": yuqing_cases::MAX_NOTE_CHARS,
        "tone": tone,
    });
    let base = ui.base(state, "stream");
    Ok((status, view::render("item.html", &base, page)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn an_estimated_total_is_marked_and_a_full_page_has_a_next_one() {
        let uri: Uri = "/search?q=x".parse().unwrap();
        let q = ItemQuery { q: Some("x".into()), limit: 50, offset: 100, ..Default::default() };
        // The estimate says 120, but the page of 101-150 is full: there may be more.
        let page = ItemPage { items: vec![], total: 120, total_estimated: true };
        let p = paging(&uri, &page, 50, &q);
        assert!(p.estimated && p.next.is_some(), "{p:?}");
        // An exact total of 150 ends there.
        let page = ItemPage { items: vec![], total: 150, total_estimated: false };
        let p = paging(&uri, &page, 50, &q);
        assert!(!p.estimated && p.next.is_none(), "{p:?}");
        // A short page ends the list, whatever the estimate said.
        let page = ItemPage { items: vec![], total: 100_000, total_estimated: true };
        assert!(paging(&uri, &page, 20, &q).next.is_none(), "the estimate is above what there is");
    }

    #[test]
    fn dates_are_read_in_the_zone_and_until_includes_the_day() {
        let (_, q) = parse_params(Some("since=2026-11-21&until=2026-11-21"), TZ).unwrap();
        assert_eq!(q.filter.since.unwrap().to_rfc3339(), "2026-11-20T16:00:00+00:00");
        assert_eq!(q.filter.until.unwrap().to_rfc3339(), "2026-11-21T16:00:00+00:00");
    }

    #[test]
    fn rfc3339_with_an_unencoded_plus_is_accepted() {
        let (_, q) = parse_params(Some("since=2026-11-21T14:05:00+08:00"), TZ).unwrap();
        assert_eq!(q.filter.since.unwrap().to_rfc3339(), "2026-11-21T06:05:00+00:00");
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (raw, name) in [
            ("tone=angry", "`tone`"),
            ("since=yesterday", "`since`"),
            ("until=2026-13-01", "`until`"),
            ("limit=many", "`limit`"),
            ("limit=0", "`limit`"),
            ("offset=-1", "`offset`"),
            ("offset=100000000", "`offset`"),
        ] {
            match parse_params(Some(raw), TZ) {
                Err(WebError::BadRequest(m)) => assert!(m.contains(name), "{raw}: {m}"),
                other => panic!("{raw}: expected a bad request, got {other:?}"),
            }
        }
    }

    #[test]
    fn limit_defaults_and_is_capped_and_empty_means_unset() {
        let (_, q) = parse_params(Some("tone=&limit=&q="), TZ).unwrap();
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert!(q.filter.tone.is_none() && q.q.is_none());
        let (_, q) = parse_params(Some("limit=9999"), TZ).unwrap();
        assert_eq!(q.limit, MAX_LIMIT);
    }
}
