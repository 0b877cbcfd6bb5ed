//! The JSON API under `/api/v1` and its OpenAPI document.
//!
//! [`ROUTES`] is the one list of API routes: the router is built from it and a test
//! checks that the OpenAPI document describes exactly these, so the two cannot drift.

use crate::{alerts, bulletins, cases, corrections, duty, events, items, reports, sources, spikes, AppState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;

/// The OpenAPI 3.1 document, written by hand.
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

/// Every `/api/v1` route: (method, path). One path may appear with several methods.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/items"),
    ("get", "/api/v1/items/{id}"),
    ("post", "/api/v1/items/{id}/report"),
    ("post", "/api/v1/items/{id}/tone"),
    ("get", "/api/v1/tone-corrections"),
    ("get", "/api/v1/tone-corrections/export"),
    ("get", "/api/v1/events/{id}"),
    ("get", "/api/v1/spikes"),
    ("get", "/api/v1/sources"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/cases/{id}"),
    ("post", "/api/v1/cases/{id}/actions"),
    ("get", "/api/v1/library"),
    ("get", "/api/v1/alerts"),
    ("post", "/api/v1/alerts/{key}/ack"),
    ("get", "/api/v1/duty"),
    ("post", "/api/v1/duty/shifts"),
    ("delete", "/api/v1/duty/shifts/{id}"),
    ("post", "/api/v1/duty/import"),
    ("get", "/api/v1/sensitive-periods"),
    ("post", "/api/v1/sensitive-periods"),
    ("delete", "/api/v1/sensitive-periods/{id}"),
    ("get", "/api/v1/bulletins"),
    ("post", "/api/v1/bulletins"),
    ("get", "/api/v1/bulletins/{number}"),
    ("get", "/api/v1/bulletins/{number}/document"),
    ("get", "/api/v1/reports"),
];

fn handler(method: &str, path: &str) -> Option<MethodRouter<AppState>> {
    Some(match (method, path) {
        ("get", "/api/v1/items") => get(items::api_list),
        ("get", "/api/v1/items/{id}") => get(items::api_get),
        ("post", "/api/v1/items/{id}/report") => post(cases::api_report),
        ("post", "/api/v1/items/{id}/tone") => post(corrections::api_correct),
        ("get", "/api/v1/tone-corrections") => get(corrections::api_list),
        ("get", "/api/v1/tone-corrections/export") => get(corrections::api_export),
        ("get", "/api/v1/events/{id}") => get(events::api_get),
        ("get", "/api/v1/spikes") => get(spikes::api_list),
        ("get", "/api/v1/sources") => get(sources::api_list),
        ("get", "/api/v1/cases") => get(cases::api_list),
        ("get", "/api/v1/cases/{id}") => get(cases::api_get),
        ("post", "/api/v1/cases/{id}/actions") => post(cases::api_action),
        ("get", "/api/v1/library") => get(cases::api_library),
        ("get", "/api/v1/alerts") => get(alerts::api_list),
        ("post", "/api/v1/alerts/{key}/ack") => post(alerts::api_ack),
        ("get", "/api/v1/duty") => get(duty::api_duty),
        ("post", "/api/v1/duty/shifts") => post(duty::api_add_shift),
        ("delete", "/api/v1/duty/shifts/{id}") => delete(duty::api_delete_shift),
        ("post", "/api/v1/duty/import") => post(duty::api_import),
        ("get", "/api/v1/sensitive-periods") => get(duty::api_periods),
        ("post", "/api/v1/sensitive-periods") => post(duty::api_add_period),
        ("delete", "/api/v1/sensitive-periods/{id}") => delete(duty::api_delete_period),
        ("get", "/api/v1/bulletins") => get(bulletins::api_list),
        ("post", "/api/v1/bulletins") => post(bulletins::api_create),
        ("get", "/api/v1/bulletins/{number}") => get(bulletins::api_get),
        ("get", "/api/v1/bulletins/{number}/document") => get(bulletins::api_document),
        ("get", "/api/v1/reports") => get(reports::api_report),
        _ => return None,
    })
}

pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new().route("/api/openapi.json", get(openapi));
    for (method, path) in ROUTES {
        match handler(method, path) {
            Some(h) => router = router.route(path, h),
            // A route listed without a handler is caught by the tests, never served.
            None => tracing::error!(method, path, "an API route has no handler"),
        }
    }
    router
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_handler() {
        for (method, path) in ROUTES {
            assert!(handler(method, path).is_some(), "{method} {path} has no handler");
        }
    }

    #[test]
    fn openapi_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        let mut documented: Vec<(String, String)> = paths
            .iter()
            .filter(|(p, _)| p.starts_with("/api/v1/") || *p == "/api/v1")
            .flat_map(|(p, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                    .map(move |m| (m.clone(), p.clone()))
            })
            .collect();
        documented.sort();
        let mut routed: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        routed.sort();
        assert_eq!(documented, routed);
    }
}
