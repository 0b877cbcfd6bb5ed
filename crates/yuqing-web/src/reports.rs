//! Statistics reports (日报 / 周报 / 月报, or a chosen period) in the UI and the API: the
//! report crate's document with its SVG charts inline, its downloads (PDF, DOCX, HTML)
//! and the export of the period's items (XLSX, CSV).
//!
//! - UI: `/reports?kind=daily|weekly|monthly&day=YYYY-MM-DD` or `/reports?since=&until=`,
//!   `/reports/download/{pdf|docx|html|xlsx|csv}` with the same query.
//! - API: `GET /api/v1/reports` with the same query, the report's counts as JSON.
//!
//! Every logged-in role may read reports: they count what the stream already shows.

use crate::auth::{ApiUser, Ui};
use crate::compile::{self, CompileError, Period};
use crate::documents::{self, Format};
use crate::error::{ApiError, PageError};
use crate::view::{self, Lang};
use crate::{AppState, WebError};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, Utc};
use serde::Serialize;
use yuqing_report::{Report, ReportKind};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/reports", get(report_page)).route("/reports/download/{format}", get(report_download))
}

fn compile_error(e: CompileError) -> WebError {
    match e {
        CompileError::Store(s) => s.into(),
        other => WebError::BadRequest(format!("{other}.")),
    }
}

/// What a report request names: a kind and a day in its period, or a chosen period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Choice {
    pub kind: ReportKind,
    pub period: Period,
    /// A chosen period rather than the kind's usual one.
    pub custom: bool,
}

fn date(s: &str, what: &str) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| WebError::BadRequest(format!("The parameter `{what}` must be a date like 2026-11-29, not `{s}`.")))
}

/// The kind a chosen period reads as: a day, up to a week, or longer.
fn kind_of(p: Period) -> ReportKind {
    match (p.until - p.since).num_days() {
        0 => ReportKind::Daily,
        1..=6 => ReportKind::Weekly,
        _ => ReportKind::Monthly,
    }
}

/// Reads `kind`, `day`, `since`, `until`; by default the week of today.
pub(crate) fn choice(raw: Option<&str>, today: NaiveDate) -> Result<Choice, WebError> {
    let q: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let (Some(s), Some(u)) = (get("since"), get("until")) {
        let period = Period::new(date(s, "since")?, date(u, "until")?).map_err(compile_error)?;
        return Ok(Choice { kind: kind_of(period), period, custom: true });
    }
    let kind = match get("kind") {
        None => ReportKind::Weekly,
        Some(k) => ReportKind::from_id(k).ok_or_else(|| {
            WebError::BadRequest(format!("The parameter `kind` must be one of daily, weekly, monthly, not `{k}`."))
        })?,
    };
    let day = match get("day") {
        Some(d) => date(d, "day")?,
        None => today,
    };
    let (since, until) = kind.period_containing(day);
    Ok(Choice { kind, period: Period::new(since, until).map_err(compile_error)?, custom: false })
}

/// The query that names a choice (for links).
fn query_of(c: &Choice) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if c.custom {
        s.append_pair("since", &c.period.since.to_string()).append_pair("until", &c.period.until.to_string());
    } else {
        s.append_pair("kind", c.kind.id()).append_pair("day", &c.period.since.to_string());
    }
    s.finish()
}

async fn compile_report(state: &AppState, c: &Choice) -> Result<Report, WebError> {
    compile::compile_report(&state.store, &state.config, c.kind, c.period, Utc::now()).await.map_err(compile_error)
}

#[derive(Debug, Serialize)]
struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn kind_label(lang: Lang, k: ReportKind) -> &'static str {
    match (lang, k) {
        (Lang::Zh, k) => k.zh(),
        (Lang::En, ReportKind::Daily) => "Daily",
        (Lang::En, ReportKind::Weekly) => "Weekly",
        (Lang::En, _) => "Monthly",
    }
}

async fn report_page(ui: Ui, State(state): State<AppState>, uri: Uri) -> Result<Response, PageError> {
    let today = compile::today(&state.config, Utc::now());
    let c = choice(uri.query(), today)?;
    let report = compile_report(&state, &c).await?;
    let markup = documents::report_markup(&report);
    // The neighbouring periods of the same kind (for a chosen period: of the same length).
    let step = |forward: bool| -> Choice {
        let days = (c.period.until - c.period.since).num_days() + 1;
        let (since, until) = if c.custom {
            let d = Duration::days(if forward { days } else { -days });
            (c.period.since + d, c.period.until + d)
        } else if forward {
            c.kind.period_containing(c.period.until + Duration::days(1))
        } else {
            c.kind.period_containing(c.period.since - Duration::days(1))
        };
        Choice { period: Period { since, until }, ..c }
    };
    let kinds: Vec<KindOption> = [ReportKind::Daily, ReportKind::Weekly, ReportKind::Monthly]
        .into_iter()
        .map(|k| KindOption { value: k.id(), label: kind_label(ui.lang, k), selected: !c.custom && k == c.kind })
        .collect();
    let html = view::render(
        "reports.html",
        &ui.base(&state, "reports"),
        minijinja::context! {
            kinds => kinds,
            custom => c.custom,
            day => c.period.since.to_string(),
            since => c.period.since.to_string(),
            until => c.period.until.to_string(),
            title => report.spec.title,
            query => query_of(&c),
            prev => query_of(&step(false)),
            next => query_of(&step(true)),
            total => report.total,
            markup => markup,
        },
    )?;
    Ok(html.into_response())
}

async fn report_download(
    _ui: Ui,
    State(state): State<AppState>,
    UrlPath(format): UrlPath<String>,
    uri: Uri,
) -> Result<Response, PageError> {
    let format = Format::parse(&format)
        .ok_or_else(|| WebError::NotFound("A report downloads as pdf, docx, html, xlsx or csv.".into()))?;
    let c = choice(uri.query(), compile::today(&state.config, Utc::now()))?;
    let stem = format!("{}_{}", c.period.since, c.period.until);
    match format {
        Format::Xlsx | Format::Csv => {
            let rows = compile::export_rows(&state.store, &state.config, c.period).await.map_err(compile_error)?;
            let bytes = match format {
                Format::Xlsx => yuqing_report::export_xlsx(&rows),
                _ => yuqing_report::export_csv(&rows),
            }
            .map_err(|e| WebError::Internal(format!("writing the export failed: {e}")))?;
            let name = format!("{}舆情信息_{stem}", state.config.org.name.trim());
            Ok(documents::download(bytes, format, &format!("items-{stem}"), &name))
        }
        _ => {
            let report = compile_report(&state, &c).await?;
            let name = format!("{}_{stem}", report.spec.title);
            let bytes = documents::report_bytes(report, format).await?;
            Ok(documents::download(bytes, format, &format!("report-{}-{stem}", c.kind.id()), &name))
        }
    }
}

pub(crate) async fn api_report(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Report>, ApiError> {
    let c = choice(raw.as_deref(), compile::today(&state.config, Utc::now()))?;
    Ok(Json(compile_report(&state, &c).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_read_kinds_days_and_periods() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let c = choice(None, today).unwrap();
        assert_eq!(
            (c.kind, c.period.since.to_string(), c.period.until.to_string()),
            (ReportKind::Weekly, "2026-11-23".into(), "2026-11-29".into())
        );
        let c = choice(Some("kind=monthly&day=2026-02-10"), today).unwrap();
        assert_eq!(
            (c.period.since.to_string(), c.period.until.to_string()),
            ("2026-02-01".into(), "2026-02-28".into())
        );
        let c = choice(Some("since=2026-11-01&until=2026-11-01&kind=weekly"), today).unwrap();
        assert!(c.custom);
        assert_eq!(c.kind, ReportKind::Daily);
        assert!(choice(Some("kind=yearly"), today).is_err());
        assert!(choice(Some("since=2026-11-09&until=2026-11-01"), today).is_err());
        assert_eq!(query_of(&choice(Some("kind=daily&day=2026-11-03"), today).unwrap()), "kind=daily&day=2026-11-03");
    }
}
