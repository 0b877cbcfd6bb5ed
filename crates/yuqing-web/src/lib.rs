//! The web UI and JSON API of yuqing (axum).
//!
//! [`app`] builds the whole router from an [`AppState`]; the binary serves it and tests
//! drive it with `tower::ServiceExt::oneshot`, so nothing here opens a socket.
//!
//! Two audiences, two ways in, kept apart on purpose:
//! - the **web UI** (`/`, `/search`, `/items/{id}`, `/events/{id}`, `/spikes`, `/cases`, `/cases/{id}`, `/duty`, `/bulletins`, `/reports`,
//!   `/sources`, `/corrections`, `/login`) is server-rendered
//!   HTML (minijinja, auto-escaping on, templates and CSS embedded in the binary, no
//!   JavaScript). It authenticates with a session cookie (`HttpOnly`, `SameSite=Strict`)
//!   and every state-changing form carries a CSRF token;
//! - the **JSON API** (`/api/v1/…`) authenticates only with `Authorization: Bearer`.
//!   A session cookie is deliberately not accepted there: a request a browser sends on
//!   its own (with cookies) then can never act on the API, so the API needs no CSRF defence.
//!
//! Collected pages are hostile input. Their text is only ever rendered escaped, as plain
//! paragraphs; their links are only made clickable for `http`/`https` URLs; a strict
//! Content-Security-Policy (no inline script or style at all) backs this up.
//!
//! `/healthz` and `/metrics` need no login, as monitoring systems expect; `/metrics`
//! shows only counts, but like any metrics endpoint it should be firewalled from the
//! public internet.

mod alerts;
mod api;
mod auth;
mod bulletins;
mod cases;
pub mod compile;
mod corrections;
mod documents;
mod duty;
mod error;
mod events;
mod items;
mod ops;
mod reports;
mod rules;
mod sources;
mod spikes;
mod view;

pub(crate) use error::WebError;
pub use ops::Metrics;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use yuqing_core::config::Config;
use yuqing_store::Store;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub started_at: DateTime<Utc>,
}

/// The whole HTTP application: UI, API, health and metrics, with the security middleware.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/static/app.css", get(view::stylesheet))
        .merge(auth::routes())
        .merge(items::routes())
        .merge(events::routes())
        .merge(sources::routes())
        .merge(spikes::routes())
        .merge(cases::routes())
        .merge(alerts::routes())
        .merge(corrections::routes())
        .merge(duty::routes())
        .merge(bulletins::routes())
        .merge(reports::routes())
        .merge(rules::routes())
        .merge(api::routes())
        .fallback(not_found)
        .layer(middleware::from_fn(view::remember_lang))
        .layer(middleware::from_fn(reject_cross_origin))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .with_state(state)
}

/// Unknown paths: JSON under `/api/`, an HTML page elsewhere.
async fn not_found(req: Request) -> Response {
    let err = WebError::NotFound("There is no page at this address.".into());
    if req.uri().path().starts_with("/api/") {
        error::ApiError(err).into_response()
    } else {
        error::PageError(err).into_response()
    }
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    next.run(req).await
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   frame-ancestors 'none'; form-action 'self'";

/// Security headers on every response, errors and fallbacks included.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages and API answers carry what users may see; no shared cache should keep them.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Refuses state-changing requests another site made a browser send. The CSRF tokens
/// are the main defence; this is the second, and catches a token leak too.
async fn reject_cross_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let cross_site = headers
        .get(HeaderName::from_static("sec-fetch-site"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    let origin_ok = match headers.get(header::ORIGIN) {
        // Non-browser clients and some older browsers send no Origin: the tokens decide.
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            origin
                .to_str()
                .ok()
                .and_then(|o| url::Url::parse(o).ok())
                .zip(host)
                .is_some_and(|(o, host)| origin_authority(&o).eq_ignore_ascii_case(host))
        }
    };
    if cross_site || !origin_ok {
        let err = WebError::Forbidden("This request came from another site and was refused.".into());
        return if req.uri().path().starts_with("/api/") {
            error::ApiError(err).into_response()
        } else {
            error::PageError(err).into_response()
        };
    }
    next.run(req).await
}

/// `host[:port]` of an Origin as a Host header would spell it (default ports omitted).
fn origin_authority(o: &url::Url) -> String {
    let host = o.host_str().unwrap_or("");
    match o.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}
