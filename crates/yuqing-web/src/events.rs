//! Events (事件): the page of one story — where it started, how big and how wide it is,
//! its timeline as a chart, its sources per tier and its items — and the same as JSON
//! at `GET /api/v1/events/{id}`. Linked from the item page.
//!
//! The chart is inline SVG drawn by the template from numbers computed here: every text
//! in it (times, counts) goes through the template's auto-escaping like the rest of the
//! page, nothing is marked safe, and no `style` attribute is used (the CSP forbids inline
//! styles; SVG presentation attributes are not styles). At most [`MAX_BARS`] bars: a long
//! event is drawn in buckets of several hours.

use crate::auth::{ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::view::{self, level_label, local_time, tier_label, tone_label, Lang};
use crate::{AppState, WebError};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use yuqing_store::{EventDetail, EventHour, JoinReason};

/// Most bars in a timeline chart.
pub(crate) const MAX_BARS: i64 = 120;
const CHART_W: f64 = 720.0;
const CHART_H: f64 = 160.0;
const PLOT_LEFT: f64 = 36.0;
const PLOT_TOP: f64 = 12.0;
const PLOT_BOTTOM: f64 = 28.0;

pub(crate) const DICTIONARY: &[(&str, &str, &str)] = &[
    ("event", "事件", "Event"),
    ("event_of_item", "本条属于事件：", "This item belongs to the event:"),
    ("event_first", "首发", "First seen"),
    ("event_last", "最近一条", "Latest item"),
    ("event_size", "信息数（含转载）", "Items (reposts included)"),
    ("event_terms", "关键词", "Key terms"),
    ("event_timeline", "传播时间线（每小时信息数）", "Timeline (items per hour)"),
    ("event_timeline_buckets", "每根柱为", "each bar is"),
    ("event_hours", "小时", "hours"),
    ("event_sources", "信源", "Sources"),
    ("event_sources_per_tier", "各级别信源数", "Distinct sources per tier"),
    ("event_items", "信息", "Items"),
    ("event_items_capped", "仅列出最早的", "Only the earliest"),
    ("event_join", "归入方式", "Joined as"),
    ("event_count", "条数", "Items"),
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/events/{id}", get(event_page))
}

fn parse_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::NotFound(format!("There is no event `{id}`; event ids are whole numbers.")))
}

async fn load(state: &AppState, id: &str) -> Result<EventDetail, WebError> {
    let n = parse_id(id)?;
    state.store.event(n).await?.ok_or_else(|| WebError::NotFound(format!("There is no event {n}.")))
}

pub(crate) async fn api_get(
    _user: ApiUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    Ok(Json(load(&state, &id).await?))
}

/// For the item page: the item's event when it has others in it (`{id, title, items}`).
pub(crate) async fn event_link(state: &AppState, item_id: i64) -> Result<Option<serde_json::Value>, WebError> {
    let Some((id, title, items)) = state.store.event_brief_of(item_id).await? else { return Ok(None) };
    Ok((items > 1).then(|| serde_json::json!({ "id": id, "title": title, "items": items })))
}

/// One bar of the chart, in SVG user units, with its label.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub items: i64,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub baseline: f64,
    pub bars: Vec<Bar>,
    pub max: i64,
    /// Hours per bar.
    pub bucket_hours: i64,
    pub first_label: String,
    pub last_label: String,
    pub label_y: f64,
}

fn hour_index(h: &EventHour) -> Option<i64> {
    DateTime::parse_from_rfc3339(&h.hour).ok().map(|t| t.timestamp().div_euclid(3600))
}

/// The chart of a timeline: one bar per bucket of `bucket_hours` from the first hour
/// to the last (empty hours included, so gaps show), at most [`MAX_BARS`] bars.
pub(crate) fn chart(timeline: &[EventHour], tz: Tz) -> Option<Chart> {
    let hours: Vec<(i64, i64)> = timeline.iter().filter_map(|h| hour_index(h).map(|i| (i, h.items))).collect();
    let first = hours.iter().map(|h| h.0).min()?;
    let last = hours.iter().map(|h| h.0).max()?;
    let span = last - first + 1;
    let bucket_hours = (span + MAX_BARS - 1) / MAX_BARS;
    let n = (span + bucket_hours - 1) / bucket_hours;
    let mut counts = vec![0i64; n as usize];
    for (i, c) in &hours {
        counts[((i - first) / bucket_hours) as usize] += c;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let plot_right = CHART_W - 8.0;
    let baseline = CHART_H - PLOT_BOTTOM;
    let slot = (plot_right - PLOT_LEFT) / n as f64;
    let label_of = |hour: i64| {
        DateTime::<Utc>::from_timestamp(hour * 3600, 0).map(|t| local_time(tz, &t.to_rfc3339())).unwrap_or_default()
    };
    let bars = counts
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let h = (baseline - PLOT_TOP) * c as f64 / max as f64;
            let start = first + k as i64 * bucket_hours;
            Bar {
                x: round1(PLOT_LEFT + slot * k as f64 + slot * 0.1),
                y: round1(baseline - h),
                w: round1((slot * 0.8).max(0.5)),
                h: round1(h),
                items: c,
                label: label_of(start),
            }
        })
        .collect();
    Some(Chart {
        width: CHART_W,
        height: CHART_H,
        plot_left: PLOT_LEFT,
        plot_right,
        plot_top: PLOT_TOP,
        baseline,
        bars,
        max,
        bucket_hours,
        first_label: label_of(first),
        last_label: label_of(last),
        label_y: CHART_H - 8.0,
    })
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn reason_label(lang: Lang, r: JoinReason) -> &'static str {
    if lang == Lang::Zh {
        r.zh()
    } else {
        r.id()
    }
}

async fn event_page(ui: Ui, State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let lang = ui.lang;
    let d = load(&state, &id).await?;
    let e = &d.event;
    let items: Vec<serde_json::Value> = d
        .item_list
        .iter()
        .map(|i| {
            let it = &i.item;
            serde_json::json!({
                "href": format!("/items/{}", it.id),
                "title": if it.title.trim().is_empty() { it.url.clone() } else { it.title.clone() },
                "source": it.source,
                "tier": tier_label(lang, it.tier),
                "time": local_time(tz, it.published_at.as_deref().unwrap_or(&it.fetched_at)),
                "tone": it.tone.id(),
                "tone_label": tone_label(lang, it.tone),
                "level": it.level.id(),
                "level_label": level_label(lang, it.level),
                "reason": reason_label(lang, i.reason),
                "of_item": i.of_item,
            })
        })
        .collect();
    let sources: Vec<serde_json::Value> = d
        .sources
        .iter()
        .map(|s| {
            let mut link = url::form_urlencoded::Serializer::new(String::new());
            link.append_pair("source", &s.source);
            serde_json::json!({
                "source": s.source,
                "href": format!("/?{}", link.finish()),
                "tier": tier_label(lang, s.tier),
                "first": local_time(tz, &s.first_at),
                "items": s.items,
            })
        })
        .collect();
    let per_tier: Vec<serde_json::Value> = e
        .sources_per_tier
        .iter()
        .map(|t| serde_json::json!({ "tier": tier_label(lang, t.tier), "sources": t.sources }))
        .collect();
    let page = serde_json::json!({
        "id": e.id,
        "title": if e.title.trim().is_empty() { format!("#{}", e.id) } else { e.title.clone() },
        "first_item_id": e.first_item_id,
        "first_source": e.first_source,
        "first_tier": tier_label(lang, e.first_tier),
        "first_at": local_time(tz, &e.first_at),
        "last_at": local_time(tz, &e.last_at),
        "items": e.items,
        "top_terms": e.top_terms,
        "per_tier": per_tier,
        "sources": sources,
        "item_list": items,
        "capped": (d.item_list.len() as i64) < e.items,
        "listed": d.item_list.len(),
        "chart": chart(&d.timeline, tz),
    });
    let base = ui.base(&state, "stream");
    Ok(view::render("event.html", &base, page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(s: &str, items: i64) -> EventHour {
        EventHour { hour: s.into(), items }
    }

    #[test]
    fn gaps_show_as_empty_bars_and_the_tallest_fills_the_plot() {
        let tl = [hour("2026-11-21T02:00:00.000Z", 2), hour("2026-11-21T05:00:00.000Z", 4)];
        let c = chart(&tl, chrono_tz::Asia::Shanghai).expect("a chart");
        assert_eq!(c.bucket_hours, 1);
        let counts: Vec<i64> = c.bars.iter().map(|b| b.items).collect();
        assert_eq!(counts, vec![2, 0, 0, 4]);
        assert_eq!(c.max, 4);
        assert_eq!(c.bars[3].y, c.plot_top);
        assert_eq!(c.bars[1].h, 0.0);
        assert_eq!(c.first_label, "2026-11-21 10:00");
        assert_eq!(c.last_label, "2026-11-21 13:00");
    }

    #[test]
    fn a_long_event_is_drawn_in_buckets() {
        // 30 days of hours, one item every 5 hours.
        let tl: Vec<EventHour> = (0..(30 * 24 / 5))
            .map(|k| {
                let t = DateTime::<Utc>::from_timestamp(1_700_000_000 / 3600 * 3600 + k * 5 * 3600, 0).unwrap();
                hour(&t.to_rfc3339(), 1)
            })
            .collect();
        let c = chart(&tl, chrono_tz::Asia::Shanghai).expect("a chart");
        assert!(c.bars.len() as i64 <= MAX_BARS, "{}", c.bars.len());
        assert!(c.bucket_hours > 1);
        assert_eq!(c.bars.iter().map(|b| b.items).sum::<i64>(), tl.len() as i64);
        assert!(c.bars.iter().all(|b| b.x >= c.plot_left && b.x + b.w <= c.plot_right + 0.01));
    }

    #[test]
    fn no_hours_no_chart() {
        assert!(chart(&[], chrono_tz::Asia::Shanghai).is_none());
    }
}
