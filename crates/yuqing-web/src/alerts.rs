//! Acknowledging alerts (确认收到) and the list of recent alerts.
//!
//! Every alert message carries a link `/alerts/ack/{key}?t=TOKEN`, the token an HMAC of
//! the key under the database's secret (`yuqing_store::ack_token`). Opening the link
//! changes nothing: a GET shows the alert and a confirm button, behind the login (a
//! link preview or a mail scanner that fetches it is sent to the login page and
//! acknowledges nothing), and the acknowledgement is a POST with the session's CSRF
//! token, recorded with the user's name. A link with a wrong token is "not found", so
//! keys cannot be tried one by one. The list at `/alerts` has the same button for each
//! unacknowledged alert, and the API has `POST /api/v1/alerts/{key}/ack`.
//!
//! Members read the stream and report items; acknowledging an alert stops its
//! escalation, so it is for the office, leaders and admins (the people on duty).

use crate::auth::{csrf_ok, csrf_refused, ApiUser, Ui};
use crate::error::{ApiError, PageError, WebError};
use crate::view::{self, level_label, Lang};
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path as UrlPath, Query, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use yuqing_core::Role;
use yuqing_store::{AckBy, AckOutcome, AlertRecord, User};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/alerts", get(list_page)).route("/alerts/ack/{key}", get(ack_page).post(ack_form))
}

/// Whether the user may acknowledge alerts.
fn may_ack(user: &User) -> bool {
    user.role != Role::Member
}

const MAY_NOT: &str = "Acknowledging an alert stops its escalation: it is for the office, leaders and admins.";

/// An alert key as the outbox writes them: `item-17`, or `spike-3` for a spike's alert.
/// Anything else is not looked up.
fn valid_key(key: &str) -> bool {
    key.len() <= 64
        && key.split_once('-').is_some_and(|(k, n)| (k == "item" || k == "spike") && n.parse::<i64>().is_ok())
}

fn time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The page texts, Chinese or English.
fn texts(lang: Lang) -> serde_json::Value {
    let zh = lang == Lang::Zh;
    let pick = |a: &str, b: &str| if zh { a.to_owned() } else { b.to_owned() };
    serde_json::json!({
        "heading": pick("预警", "Alerts"),
        "confirm_heading": pick("确认收到预警", "Acknowledge the alert"),
        "confirm_intro": pick("确认后，该预警不再升级；确认人和时间将被记录。", "Once acknowledged, the alert no longer escalates; who and when are recorded."),
        "confirm_button": pick("确认收到", "Acknowledge"),
        "acked": pick("已确认", "Acknowledged"),
        "unacked": pick("未确认", "Not acknowledged"),
        "by": pick("确认人", "By"),
        "sent": pick("发出", "Sent"),
        "rounds": pick("升级次数", "Escalations"),
        "sensitive": pick("敏感时期", "Sensitive period"),
        "item": pick("信息", "Item"),
        "level": pick("级别", "Level"),
        "alerted": pick("通知", "Alerted"),
        "none": pick("暂无预警", "No alerts"),
        "only_unacked": pick("只看未确认", "Unacknowledged only"),
        "all": pick("全部", "All"),
        "may_not": pick("确认预警会停止其升级，仅限网宣办、领导小组和管理员。", MAY_NOT),
        "just_acked": pick("已确认收到。", "Acknowledged."),
        "already": pick("该预警此前已被确认。", "This alert had been acknowledged already."),
    })
}

#[derive(Debug, Serialize)]
struct AlertView {
    key: String,
    title: String,
    href: Option<String>,
    level: &'static str,
    level_label: &'static str,
    sent: String,
    acked: bool,
    acked_by: Option<String>,
    acked_at: Option<String>,
    rounds: i64,
    sensitive: bool,
    alerted: String,
}

fn alert_view(lang: Lang, tz: Tz, a: &AlertRecord) -> AlertView {
    AlertView {
        key: a.key.clone(),
        title: a.title.clone().unwrap_or_else(|| a.key.clone()),
        href: a.item_id.map(|i| format!("/items/{i}")).or_else(|| a.spike_id.map(|s| format!("/spikes#spike-{s}"))),
        level: a.level.id(),
        level_label: level_label(lang, a.level),
        sent: time(tz, a.sent_at),
        acked: a.acked_at.is_some(),
        acked_by: a.acked_by.clone(),
        acked_at: a.acked_at.map(|t| time(tz, t)),
        rounds: a.rounds,
        sensitive: a.sensitive,
        alerted: a.alerted.join("、"),
    }
}

async fn list_page(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let unacked = view::query_param(&ui.uri, "unacknowledged").is_some_and(|v| v == "true");
    let acked_now = view::query_param(&ui.uri, "acked");
    let _ = raw;
    let alerts = state.store.alerts(unacked, 200).await?;
    let page = serde_json::json!({
        "l": texts(ui.lang),
        "mode": "list",
        "alerts": alerts.iter().map(|a| alert_view(ui.lang, tz, a)).collect::<Vec<_>>(),
        "unacked_only": unacked,
        "may_ack": may_ack(&ui.user),
        "acked_now": acked_now,
    });
    let base = ui.base(&state, "alerts");
    Ok(view::render("alerts.html", &base, page)?.into_response())
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    #[serde(default)]
    t: String,
}

fn not_found(key: &str) -> WebError {
    WebError::NotFound(format!("There is no alert `{key}`, or the link is not valid."))
}

/// The signed link must match; a wrong or missing token is "not found".
async fn check_link(state: &AppState, key: &str, token: &str) -> Result<(), WebError> {
    let secret = state.store.ack_secret().await?;
    if valid_key(key) && yuqing_store::ack_token_valid(&secret, key, token) {
        Ok(())
    } else {
        Err(not_found(key))
    }
}

async fn ack_page(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(key): UrlPath<String>,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    check_link(&state, &key, &q.t).await?;
    let alert = state.store.alert_by_key(&key).await?.ok_or_else(|| not_found(&key))?;
    let page = serde_json::json!({
        "l": texts(ui.lang),
        "mode": "confirm",
        "alert": alert_view(ui.lang, state.config.org.timezone, &alert),
        "token": q.t,
        "may_ack": may_ack(&ui.user),
    });
    let base = ui.base(&state, "alerts");
    Ok(view::render("alerts.html", &base, page)?.into_response())
}

#[derive(Debug, Deserialize)]
struct AckForm {
    #[serde(default)]
    csrf: String,
    /// The link's token, when the form came from the link's page.
    #[serde(default)]
    t: String,
}

async fn ack_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(key): UrlPath<String>,
    form: Result<Form<AckForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if !csrf_ok(&ui.csrf, &form.csrf) {
        return Err(csrf_refused());
    }
    if !may_ack(&ui.user) {
        return Err(PageError(WebError::Forbidden(MAY_NOT.into())));
    }
    if !valid_key(&key) {
        return Err(PageError(not_found(&key)));
    }
    let via = if form.t.is_empty() { "ui" } else { "link" };
    let by = AckBy { user_id: Some(ui.user.id), name: &ui.user.name, via };
    match state.store.acknowledge_alert(&key, &by, Utc::now()).await? {
        AckOutcome::NoAlert => Err(PageError(not_found(&key))),
        AckOutcome::Acknowledged(_) => {
            tracing::info!(user = %ui.user.name, alert = %key, via, "an alert was acknowledged");
            Ok(Redirect::to(&format!("/alerts?acked={key}")).into_response())
        }
        AckOutcome::Already(_) => Ok(Redirect::to(&format!("/alerts?acked={key}")).into_response()),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct AlertList {
    alerts: Vec<AlertRecord>,
}

pub(crate) async fn api_list(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<AlertList>, ApiError> {
    let unacked = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "unacknowledged" && (v == "true" || v == "1"));
    Ok(Json(AlertList { alerts: state.store.alerts(unacked, 200).await? }))
}

#[derive(Debug, Serialize)]
pub(crate) struct AckAnswer {
    alert: AlertRecord,
    /// False when somebody had acknowledged it before (the alert says who).
    acknowledged_now: bool,
}

pub(crate) async fn api_ack(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    UrlPath(key): UrlPath<String>,
) -> Result<Json<AckAnswer>, ApiError> {
    if !may_ack(&user) {
        return Err(ApiError(WebError::Forbidden(MAY_NOT.into())));
    }
    if !valid_key(&key) {
        return Err(ApiError(not_found(&key)));
    }
    let by = AckBy { user_id: Some(user.id), name: &user.name, via: "api" };
    match state.store.acknowledge_alert(&key, &by, Utc::now()).await? {
        AckOutcome::NoAlert => Err(ApiError(not_found(&key))),
        AckOutcome::Acknowledged(alert) => Ok(Json(AckAnswer { alert, acknowledged_now: true })),
        AckOutcome::Already(alert) => Ok(Json(AckAnswer { alert, acknowledged_now: false })),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn only_item_keys_are_looked_up() {
        assert!(valid_key("item-17"));
        assert!(valid_key("spike-3"));
        assert!(!valid_key("spike-x"));
        assert!(!valid_key("item-"));
        assert!(!valid_key("case-1-overdue-assess"));
        assert!(!valid_key("item-1 OR 1=1"));
        assert!(!valid_key(&format!("item-{}", "9".repeat(80))));
    }
}
