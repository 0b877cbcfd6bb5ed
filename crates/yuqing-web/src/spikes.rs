//! Spikes (突增): the list of recent spikes at `/spikes` (linked from the stream) and
//! `GET /api/v1/spikes?since=&limit=`. Each spike comes with the hourly counts of its key
//! over the day before and its own hour, drawn on the page as a small inline SVG bar chart
//! from numbers computed here: every text in it goes through the template's
//! auto-escaping, nothing is marked safe, no `style` attribute is used (the CSP forbids
//! inline styles; SVG presentation attributes are not styles).

use crate::auth::{ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::view::{self, category_label, Lang};
use crate::{AppState, WebError};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use yuqing_core::Category;
use yuqing_store::spikes::SCOPE_CATEGORY;
use yuqing_store::{HourCount, SpikeRecord};

/// Hours before a spike's own hour shown with it.
pub(crate) const HOURS_BEFORE: i64 = 24;
/// Spikes an answer lists at most (each reads its day of counts).
pub(crate) const MAX_LIMIT: usize = 200;
const DEFAULT_LIMIT: usize = 50;
const CHART_W: f64 = 250.0;
const CHART_H: f64 = 48.0;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/spikes", get(list_page))
}

/// A spike with the counts of the day before it and of its own hour, oldest first,
/// every hour listed (zero when nothing was counted).
#[derive(Debug, Serialize)]
pub(crate) struct SpikeWithHours {
    #[serde(flatten)]
    spike: SpikeRecord,
    hours: Vec<HourCount>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SpikeList {
    spikes: Vec<SpikeWithHours>,
}

/// `since` (RFC 3339 or a local date) and `limit` from the query; every problem is a 400.
fn params(raw: Option<&str>, tz: Tz) -> Result<(Option<DateTime<Utc>>, usize), WebError> {
    let (mut since, mut limit) = (None, DEFAULT_LIMIT);
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "since" => since = crate::items::time_param("since", &v, tz, false)?,
            "limit" => {
                limit = v.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                    WebError::BadRequest(format!("`limit` must be a whole number from 1 to {MAX_LIMIT}."))
                })?
            }
            _ => {}
        }
    }
    Ok((since, limit))
}

async fn load(state: &AppState, since: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<SpikeWithHours>, WebError> {
    let mut out = Vec::new();
    for spike in state.store.spikes(since, limit).await? {
        let from = spike.hour - TimeDelta::hours(HOURS_BEFORE);
        let until = spike.hour + TimeDelta::hours(1);
        let counted = state.store.hourly_counts(&spike.scope, &spike.key, from, until).await?;
        let hours = (0..=HOURS_BEFORE)
            .map(|k| {
                let hour = from + TimeDelta::hours(k);
                HourCount { hour, count: counted.iter().find(|c| c.hour == hour).map_or(0, |c| c.count) }
            })
            .collect();
        out.push(SpikeWithHours { spike, hours });
    }
    Ok(out)
}

pub(crate) async fn api_list(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SpikeList>, ApiError> {
    let (since, limit) = params(raw.as_deref(), state.config.org.timezone)?;
    Ok(Json(SpikeList { spikes: load(&state, since, limit).await? }))
}

/// One bar of a spike's chart, in SVG user units.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub count: i64,
    pub label: String,
    /// The spike's own hour (drawn in another colour).
    pub spike: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    pub width: f64,
    pub height: f64,
    pub baseline: f64,
    pub max: i64,
    pub bars: Vec<Bar>,
}

/// The bars of a spike's hours, the tallest filling the height; the last is the spike's.
pub(crate) fn chart(hours: &[HourCount], tz: Tz) -> Chart {
    let max = hours.iter().map(|h| h.count).max().unwrap_or(0).max(1);
    let baseline = CHART_H - 1.0;
    let slot = CHART_W / hours.len().max(1) as f64;
    let bars = hours
        .iter()
        .enumerate()
        .map(|(k, h)| {
            let height = (baseline - 2.0) * h.count as f64 / max as f64;
            Bar {
                x: round1(slot * k as f64 + slot * 0.1),
                y: round1(baseline - height),
                w: round1(slot * 0.8),
                h: round1(height),
                count: h.count,
                label: h.hour.with_timezone(&tz).format("%m-%d %H:00").to_string(),
                spike: k + 1 == hours.len(),
            }
        })
        .collect();
    Chart { width: CHART_W, height: CHART_H, baseline, max, bars }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn texts(lang: Lang) -> serde_json::Value {
    let zh = lang == Lang::Zh;
    let pick = |a: &str, b: &str| if zh { a.to_owned() } else { b.to_owned() };
    serde_json::json!({
        "heading": pick("突增", "Spikes"),
        "intro": pick(
            "某条监测规则或某个重点内容类别一小时内新增的信息数远超过去的每小时水平（平均值加若干倍标准差）时，记为突增，并按预警路由通知。",
            "An hour in which a watch rule or a key-content category gets far more new items than its usual hourly level (the mean plus a few standard deviations) is a spike, alerted through the alert routes."
        ),
        "back": pick("返回信息流", "Back to the stream"),
        "hour": pick("时段", "Hour"),
        "what": pick("规则 / 类别", "Rule / category"),
        "rule": pick("监测规则", "Watch rule"),
        "category": pick("重点内容类别", "Category"),
        "count": pick("新增条数", "New items"),
        "usual": pick("过去每小时平均", "Usual per hour"),
        "threshold": pick("阈值", "Threshold"),
        "partial": pick("发现时本小时未过完，发现时", "found while the hour was filling, at"),
        "day": pick("前24小时及当小时", "The 24 hours before, and the hour"),
        "stream": pick("查看信息", "See the items"),
        "none": pick("近期没有突增。", "No recent spikes."),
    })
}

async fn list_page(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let (since, limit) = params(raw.as_deref(), tz)?;
    let since = since.or_else(|| Some(Utc::now() - TimeDelta::days(30)));
    let spikes: Vec<serde_json::Value> = load(&state, since, limit)
        .await?
        .iter()
        .map(|s| {
            let sp = &s.spike;
            let category = (sp.scope == SCOPE_CATEGORY).then(|| Category::from_id(&sp.key)).flatten();
            let name = match category {
                Some(c) => category_label(lang, c).to_string(),
                None => sp.key.clone(),
            };
            let stream = category.map(|c| {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("category", c.id());
                q.append_pair("since", &sp.hour.with_timezone(&tz).format("%Y-%m-%d").to_string());
                format!("/?{}", q.finish())
            });
            serde_json::json!({
                "id": sp.id,
                "is_category": sp.scope == SCOPE_CATEGORY,
                "name": name,
                "title": sp.title,
                "hour": sp.hour.with_timezone(&tz).format("%Y-%m-%d %H:00").to_string(),
                "count": sp.count,
                "flag_count": sp.flag_count,
                "partial": sp.partial,
                "mean": format!("{:.1}", sp.mean),
                "threshold": format!("{:.1}", sp.threshold),
                "stream": stream,
                "chart": chart(&s.hours, tz),
            })
        })
        .collect();
    let page = serde_json::json!({ "l": texts(lang), "spikes": spikes });
    let base = ui.base(&state, "stream");
    Ok(view::render("spikes.html", &base, page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_fills_the_chart_and_the_last_is_the_spike() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-03T00:00:00Z").unwrap().with_timezone(&Utc);
        let hours: Vec<HourCount> = (0..25)
            .map(|k| HourCount { hour: t0 + TimeDelta::hours(k), count: if k == 24 { 40 } else { k % 3 } })
            .collect();
        let c = chart(&hours, chrono_tz::Asia::Shanghai);
        assert_eq!(c.bars.len(), 25);
        assert_eq!(c.max, 40);
        let last = c.bars.last().unwrap();
        assert!(last.spike && last.count == 40 && last.y == 2.0, "{last:?}");
        assert_eq!(c.bars.iter().filter(|b| b.spike).count(), 1);
        assert_eq!(c.bars[0].h, 0.0);
        assert_eq!(c.bars[0].label, "12-03 08:00");
        assert!(c.bars.iter().all(|b| b.x >= 0.0 && b.x + b.w <= c.width + 0.01));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let tz = chrono_tz::Asia::Shanghai;
        assert!(params(Some("limit=0"), tz).is_err());
        assert!(params(Some("limit=9999"), tz).is_err());
        assert!(params(Some("since=yesterday"), tz).is_err());
        let (since, limit) = params(Some("since=2026-12-03&limit=5"), tz).unwrap();
        assert_eq!((since.unwrap().to_rfc3339().as_str(), limit), ("2026-12-02T16:00:00+00:00", 5));
        assert_eq!(params(None, tz).unwrap(), (None, DEFAULT_LIMIT));
    }
}
