//! The one web error type, and its two renderings: JSON for the API, an HTML page for
//! the UI. Internal errors are logged with their detail and shown as a plain sentence.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use yuqing_store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// A parameter or form field is wrong; the message names it.
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials (API token).
    #[error("{0}")]
    Unauthorized(String),
    /// Known caller, refused: a role without the right, a missing or wrong CSRF token.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit the current state (a draft changed or issued meanwhile).
    #[error("{0}")]
    Conflict(String),
    /// Anything that is our fault; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence shown to the caller. Logs internal errors, once, as a side effect of
    /// being rendered (every error is rendered exactly once).
    fn public_message(&self) -> String {
        match self {
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "a request failed with an internal error");
                "Something went wrong on the server; the error has been logged.".to_string()
            }
            other => other.to_string(),
        }
    }
}

/// A [`WebError`] answered as `{"error": "…"}` (API routes).
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = serde_json::json!({ "error": self.0.public_message() });
        let mut res = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// A [`WebError`] answered as a small HTML page (UI routes). The page is bilingual
/// because an error may come before the language is known.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let (zh, en) = match status {
            StatusCode::BAD_REQUEST => ("请求有误", "Bad request"),
            StatusCode::UNAUTHORIZED => ("需要登录", "Login required"),
            StatusCode::FORBIDDEN => ("请求被拒绝", "Refused"),
            StatusCode::NOT_FOUND => ("未找到", "Not found"),
            StatusCode::CONFLICT => ("与当前状态冲突", "Conflict"),
            _ => ("服务器出错", "Server error"),
        };
        let message = self.0.public_message();
        match crate::view::render_error(status.as_u16(), zh, en, &message) {
            Ok(html) => (status, Html(html)).into_response(),
            // The error page itself failed to render: plain text still says what happened.
            Err(_) => (status, format!("{} {en}: {message}", status.as_u16())).into_response(),
        }
    }
}
