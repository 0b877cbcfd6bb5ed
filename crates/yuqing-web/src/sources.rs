//! Sources (信源) and their health: the sources page and the sources API.

use crate::auth::{ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::view::{self, local_time, tier_label, Lang};
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use yuqing_core::{SourceKind, Tier};
use yuqing_store::SourceHealth;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/sources", get(sources_page))
}

#[derive(Debug, Serialize)]
pub(crate) struct SourceList {
    sources: Vec<SourceHealth>,
}

pub(crate) async fn api_list(_user: ApiUser, State(state): State<AppState>) -> Result<Json<SourceList>, ApiError> {
    Ok(Json(SourceList { sources: state.store.sources().await? }))
}

/// `3600` → `1h`, `5400` → `1h30m`: the way intervals are written in the configuration.
fn interval(secs: i64) -> String {
    if secs <= 0 {
        return "0s".into();
    }
    let (d, h, m, s) = (secs / 86400, secs % 86400 / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    url: String,
    url_is_link: bool,
    items_href: String,
    kind: String,
    tier: String,
    weight: String,
    interval: String,
    enabled: bool,
    last_polled: Option<String>,
    last_success: Option<String>,
    failures: i64,
    failing: bool,
    last_error: Option<String>,
    last_error_at: Option<String>,
    items: i64,
}

fn row(lang: Lang, tz: chrono_tz::Tz, s: SourceHealth) -> Row {
    let mut items = url::form_urlencoded::Serializer::new(String::new());
    items.append_pair("source", &s.name);
    let kind = match (lang, SourceKind::from_id(&s.kind)) {
        (Lang::Zh, Some(k)) => k.zh().to_string(),
        _ => s.kind.clone(),
    };
    let tier = Tier::from_id(&s.tier).map_or_else(|| s.tier.clone(), |t| tier_label(lang, t).to_string());
    Row {
        url_is_link: view::is_web_link(&s.url),
        items_href: format!("/?{}", items.finish()),
        kind,
        tier,
        weight: format!("{:.2}", s.weight),
        interval: interval(s.interval_secs),
        enabled: s.enabled,
        last_polled: s.last_polled_at.as_deref().map(|t| local_time(tz, t)),
        last_success: s.last_success_at.as_deref().map(|t| local_time(tz, t)),
        failures: s.failures_in_row,
        failing: s.failures_in_row > 0,
        last_error: s.last_error.clone(),
        last_error_at: s.last_error_at.as_deref().map(|t| local_time(tz, t)),
        items: s.items,
        name: s.name,
        url: s.url,
    }
}

async fn sources_page(ui: Ui, State(state): State<AppState>) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let rows: Vec<Row> = state.store.sources().await?.into_iter().map(|s| row(ui.lang, tz, s)).collect();
    let failing = rows.iter().filter(|r| r.failing).count();
    let page = serde_json::json!({
        "healthy": rows.len() - failing,
        "failing": failing,
        "rows": rows,
        // The rules page is for the office and admins.
        "rules_link": ui.user.role.is_office(),
    });
    let base = ui.base(&state, "sources");
    Ok(view::render("sources.html", &base, page)?.into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals_read_like_the_configuration() {
        assert_eq!(super::interval(600), "10m");
        assert_eq!(super::interval(5400), "1h30m");
        assert_eq!(super::interval(86400), "1d");
        assert_eq!(super::interval(0), "0s");
    }
}
