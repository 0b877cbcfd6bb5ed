//! Operations endpoints: `/healthz` and `/metrics` (Prometheus text format). Neither needs
//! a login, as monitoring systems expect; firewall `/metrics` like any metrics endpoint.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the binary (collector) and the web layer increment; `/metrics` reads them.
#[derive(Debug, Default)]
pub struct Metrics {
    pub pages_fetched: AtomicU64,
    pub fetch_errors: AtomicU64,
    pub items_new: AtomicU64,
    pub items_duplicate: AtomicU64,
    pub items_irrelevant: AtomicU64,
    pub source_passes: AtomicU64,
    pub http_requests: AtomicU64,
    pub alerts_sent: AtomicU64,
    pub alerts_failed: AtomicU64,
    /// Spikes (突增) this process recorded.
    pub spikes: AtomicU64,
    /// Spike checks that could not read or write the store.
    pub spike_checks_failed: AtomicU64,
}

pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable").into_response()
        }
    }
}

fn sample(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    // Writing into a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let mut out = String::with_capacity(2048);
    let counters: [(&str, &str, &AtomicU64); 11] = [
        ("yuqing_pages_fetched_total", "Pages fetched by the collector.", &m.pages_fetched),
        ("yuqing_fetch_errors_total", "Fetches that failed.", &m.fetch_errors),
        ("yuqing_items_new_total", "New relevant items stored.", &m.items_new),
        ("yuqing_items_duplicate_total", "Items stored as near-duplicates of an earlier item.", &m.items_duplicate),
        ("yuqing_items_irrelevant_total", "Pages judged irrelevant (matched no watch rule).", &m.items_irrelevant),
        ("yuqing_source_passes_total", "Collection passes over a source.", &m.source_passes),
        ("yuqing_http_requests_total", "HTTP requests served by the web UI and API.", &m.http_requests),
        ("yuqing_alerts_sent_total", "Alerts a channel accepted.", &m.alerts_sent),
        ("yuqing_alerts_failed_total", "Alert attempts that failed (retried or parked).", &m.alerts_failed),
        ("yuqing_spikes_total", "Spikes (an hour far above its baseline) this process recorded.", &m.spikes),
        (
            "yuqing_spike_checks_failed_total",
            "Spike checks that failed (retried at the next check).",
            &m.spike_checks_failed,
        ),
    ];
    for (name, help, v) in counters {
        sample(&mut out, name, "counter", help, v.load(Ordering::Relaxed));
    }
    sample(
        &mut out,
        "yuqing_ingest_transactions_total",
        "counter",
        "Ingest transactions committed (items stored per transaction show how well concurrent ingests share commits).",
        state.store.ingest_transactions(),
    );
    // Store counts are gauges; when the database does not answer, say so instead of
    // failing the whole scrape, so the counters above still arrive.
    match state.store.counts().await {
        Ok(c) => {
            sample(&mut out, "yuqing_store_up", "gauge", "Whether the database answered (1) or not (0).", 1);
            sample(&mut out, "yuqing_items", "gauge", "Items stored.", c.items);
            sample(
                &mut out,
                "yuqing_items_duplicates",
                "gauge",
                "Stored items that repeat an earlier item.",
                c.duplicates,
            );
            sample(
                &mut out,
                "yuqing_seen_irrelevant",
                "gauge",
                "Pages seen and found irrelevant (only their URL fingerprint is kept).",
                c.seen_irrelevant,
            );
            sample(&mut out, "yuqing_sources", "gauge", "Configured sources.", c.sources);
            sample(
                &mut out,
                "yuqing_sources_failing",
                "gauge",
                "Configured sources whose last poll failed.",
                c.sources_failing,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics could not read the store counts");
            sample(&mut out, "yuqing_store_up", "gauge", "Whether the database answered (1) or not (0).", 0);
        }
    }
    if let Ok(o) = state.store.outbox_counts().await {
        sample(&mut out, "yuqing_alerts_pending", "gauge", "Alerts waiting in the outbox.", o.pending);
        sample(&mut out, "yuqing_alerts_parked", "gauge", "Alerts a channel refused for good.", o.parked);
    }
    let uptime = (chrono::Utc::now() - state.started_at).num_milliseconds().max(0) as f64 / 1000.0;
    sample(&mut out, "yuqing_uptime_seconds", "gauge", "Seconds since the process started.", uptime);
    let mut res = out.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res
}
