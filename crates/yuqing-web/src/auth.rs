//! Who is asking: browser sessions for the UI (login, logout, CSRF) and bearer tokens
//! for the API.
//!
//! - The session cookie holds a random token (the store keeps only its hash); it is
//!   `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when configured, and lives as long
//!   as `web.session_ttl`.
//! - Logged-in forms carry the session's CSRF token (kept by the store). The login form
//!   has no session yet, so it uses a double-submit cookie: a random token both in a
//!   `csrf` cookie and in a hidden field, compared in constant time. A cross-site page
//!   can make a browser send the cookie but cannot read it to fill in the field.
//! - A failed login answers with one generic message no sooner than a fixed time after
//!   the request came in, so neither the text nor the timing (an unknown user skips the
//!   argon2 check) tells whether the user exists.

use crate::error::{ApiError, PageError};
use crate::view::{self, Base, Lang};
use crate::{AppState, WebError};
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use rand::Rng;
use serde::Deserialize;
use std::time::{Duration, Instant};
use yuqing_store::User;

pub(crate) const SESSION_COOKIE: &str = "yuqing_session";
const CSRF_COOKIE: &str = "csrf";
/// A failed login is answered no sooner than this after the request arrived: longer than
/// an argon2 check takes, so the answer time is the same for unknown and known users.
const LOGIN_FAILURE_FLOOR: Duration = Duration::from_millis(1000);

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/login", get(login_page).post(login)).route("/logout", post(logout))
}

/// A logged-in browser user, with the session's CSRF token and the page's language.
/// Without a live session the request is redirected to the login page.
pub(crate) struct Ui {
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
    pub uri: Uri,
    /// Open cases, for the "处置" link of the top navigation.
    pub open_cases: Option<i64>,
    /// Who is on duty now and the active sensitive period, for the top bar.
    pub duty: Option<yuqing_store::DutyNow>,
}

impl Ui {
    pub(crate) fn base(&self, state: &AppState, nav: &'static str) -> Base {
        Base::new(&state.config.org.name, self.lang, &self.uri, Some((&self.user, &self.csrf)), nav)
            .with_open_cases(self.open_cases)
            .with_duty(self.duty.as_ref().map(|d| view::DutyBar::new(self.lang, state.config.org.timezone, d)))
    }
}

impl FromRequestParts<AppState> for Ui {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::of_parts(parts);
        match current_session(state, &parts.headers).await {
            Ok(Some((user, csrf, _))) => {
                let open_cases = crate::cases::open_case_count(state).await;
                let duty = crate::duty::duty_now(state).await;
                Ok(Ui { user, csrf, lang, uri: parts.uri.clone(), open_cases, duty })
            }
            Ok(None) => {
                let here = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_string();
                let mut to = url::form_urlencoded::Serializer::new(String::new());
                to.append_pair("next", &here);
                Err(Redirect::to(&format!("/login?{}", to.finish())).into_response())
            }
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// The live session of the request's cookie: user, CSRF token, cookie token.
async fn current_session(state: &AppState, headers: &HeaderMap) -> Result<Option<(User, String, String)>, WebError> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    // Session tokens are 64 hex digits; anything else cannot match and is not looked up.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(state.store.session(&token).await?.map(|(user, csrf)| (user, csrf, token)))
}

/// An API caller, from `Authorization: Bearer TOKEN`. Cookies are ignored here on purpose.
/// Every role may read items and sources and report items; the case actions check the
/// user's role.
pub(crate) struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError(WebError::Unauthorized(
                "This API needs an `Authorization: Bearer TOKEN` header; create a token with `yuqing token create`."
                    .into(),
            )));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty() && t.len() <= 256);
        let invalid = || {
            ApiError(WebError::Unauthorized(
                "The API token is not valid; create a new one with `yuqing token create`.".into(),
            ))
        };
        let Some(token) = token else {
            return Err(invalid());
        };
        match state.store.user_by_token(token).await? {
            Some(user) => Ok(ApiUser(user)),
            None => Err(invalid()),
        }
    }
}

/// A random token for cookies and forms: 32 bytes, hex.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// Compares two secrets in time that depends only on their lengths (which are public).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a submitted CSRF token matches the expected one (an empty one never does).
pub(crate) fn csrf_ok(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && constant_time_eq(expected, submitted)
}

pub(crate) fn csrf_refused() -> PageError {
    PageError(WebError::Forbidden(
        "The form's security token is missing or out of date; go back, reload the page and try again.".into(),
    ))
}

fn cookie(state: &AppState, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.web.secure_cookies { "; Secure" } else { "" };
    // Names and values are ours (fixed names, hex tokens), so the header is always valid.
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// `next` only ever leads to a local path: no scheme, no `//host`, no backslash tricks.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 2000 =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

fn login_form(
    state: &AppState,
    lang: Lang,
    uri: &Uri,
    csrf: &str,
    next: &str,
    failed: bool,
) -> Result<axum::response::Html<String>, WebError> {
    let base = Base::new(&state.config.org.name, lang, uri, None, "login");
    view::render("login.html", &base, serde_json::json!({ "csrf": csrf, "next": next, "failed": failed }))
}

async fn login_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Result<Response, PageError> {
    let next = safe_next(view::query_param(&uri, "next").as_deref());
    if current_session(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let lang = Lang::of(&uri, &headers);
    // Reuse the login CSRF cookie if there is one, so two open login tabs both work.
    let token = CookieJar::from_headers(&headers)
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token);
    let html = login_form(&state, lang, &uri, &token, &next, false)?;
    let mut res = html.into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie(&state, CSRF_COOKIE, &token, 3600));
    Ok(res)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, PageError> {
    let started = Instant::now();
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    let jar = CookieJar::from_headers(&headers);
    let expected = jar.get(CSRF_COOKIE).map(|c| c.value()).unwrap_or("");
    if !csrf_ok(expected, &form.csrf) {
        return Err(csrf_refused());
    }
    let next = safe_next(Some(&form.next));
    let name = form.username.trim();
    let user = if name.is_empty() || form.password.is_empty() || form.password.len() > 1024 {
        None
    } else {
        state.store.verify_password(name, &form.password).await?
    };
    let Some(user) = user else {
        tracing::info!("a login failed");
        tokio::time::sleep_until((started + LOGIN_FAILURE_FLOOR).into()).await;
        let lang = Lang::of(&uri, &headers);
        let html = login_form(&state, lang, &uri, expected, &next, true)?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, html).into_response());
    };
    // A session cookie from before the login is ended, so a planted one is worthless.
    if let Some((_, _, old)) = current_session(&state, &headers).await? {
        state.store.delete_session(&old).await?;
    }
    let ttl = state.config.web.session_ttl;
    let (token, _csrf) = state.store.create_session(user.id, ttl).await?;
    tracing::info!(user = %user.name, "a user logged in");
    let mut res = Redirect::to(&next).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, cookie(&state, SESSION_COOKIE, &token, ttl.as_secs()));
    h.append(header::SET_COOKIE, cookie(&state, CSRF_COOKIE, "", 0));
    Ok(res)
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if let Some((user, csrf, token)) = current_session(&state, &headers).await? {
        if !csrf_ok(&csrf, &form.csrf) {
            return Err(csrf_refused());
        }
        state.store.delete_session(&token).await?;
        tracing::info!(user = %user.name, "a user logged out");
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie(&state, SESSION_COOKIE, "", 0));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_local() {
        assert_eq!(safe_next(Some("/items/3?lang=en")), "/items/3?lang=en");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/a\nb")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn csrf_comparison() {
        assert!(csrf_ok("abc", "abc"));
        assert!(!csrf_ok("abc", "abd"));
        assert!(!csrf_ok("abc", "ab"));
        assert!(!csrf_ok("", ""));
    }
}
