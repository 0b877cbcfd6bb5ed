//! Sending: the configured channels, their secrets, rate limits and the platforms'
//! answers, classified as retryable or permanent.

use crate::email::EmailTarget;
use crate::rate::{Limiter, RateLimit};
use crate::render::{render_full, Rendered};
use crate::{Alert, Delivery, NotifyError};
use base64::Engine as _;
use chrono_tz::Tz;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::time::Duration;
use url::Url;
use yuqing_core::config::{ChannelConfig, ChannelKind};

/// How long one HTTP post may take before it counts as a (retryable) time-out.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// The configured alert channels, ready to send.
pub struct Sender {
    client: reqwest::Client,
    channels: HashMap<String, Channel>,
    tz: Tz,
}

impl std::fmt::Debug for Sender {
    // Hand-written so that a `{:?}` of the sender never prints a URL or a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.channels.keys().collect();
        names.sort();
        f.debug_struct("Sender").field("channels", &names).field("tz", &self.tz).finish()
    }
}

struct Channel {
    name: String,
    kind: ChannelKind,
    target: Target,
    limiter: Limiter,
    redactor: Redactor,
}

enum Target {
    Http { url: Url, secret: Option<String> },
    Email(Box<EmailTarget>),
}

impl Sender {
    /// Sets up every channel: reads secrets through `env` (normally `std::env::var`),
    /// parses addresses, builds the SMTP transports (no connection yet). Reports every
    /// problem at once as [`NotifyError::Config`]; no secret value appears in it.
    pub fn new(
        client: reqwest::Client,
        channels: &[ChannelConfig],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Sender, NotifyError> {
        let mut problems = Vec::new();
        let mut out = HashMap::new();
        for ch in channels {
            let mut p = |msg: String| problems.push(format!("channel `{}`: {msg}", ch.name));
            if out.contains_key(&ch.name) {
                p("the name is used by another channel".into());
                continue;
            }
            let read_env = |key: &str, what: &str, p: &mut dyn FnMut(String)| -> Option<String> {
                match env(key).filter(|v| !v.is_empty()) {
                    Some(v) => Some(v),
                    None => {
                        p(format!("environment variable `{key}` ({what}) is not set"));
                        None
                    }
                }
            };
            let mut redactor = Redactor::default();
            let target = match ch.kind {
                ChannelKind::Email => {
                    let password = match (&ch.username, &ch.password_env) {
                        (Some(_), Some(key)) => read_env(key, "SMTP password", &mut p),
                        (Some(_), None) => {
                            p("`username` is set but `password_env` is not".into());
                            None
                        }
                        (None, Some(key)) => {
                            let _ = read_env(key, "SMTP password", &mut p);
                            p("`password_env` is set but `username` is not".into());
                            None
                        }
                        (None, None) => None,
                    };
                    if let Some(pw) = &password {
                        redactor.add(pw);
                    }
                    match EmailTarget::new(ch, password) {
                        Ok(t) => Some(Target::Email(Box::new(t))),
                        Err(errs) => {
                            errs.into_iter().for_each(&mut p);
                            None
                        }
                    }
                }
                ChannelKind::Webhook | ChannelKind::Wecom | ChannelKind::Dingtalk | ChannelKind::Feishu => {
                    let secret = match (&ch.secret_env, ch.kind) {
                        (Some(key), ChannelKind::Dingtalk | ChannelKind::Feishu) => {
                            read_env(key, "signing secret", &mut p)
                        }
                        (Some(_), _) => {
                            p("`secret_env` applies to kind = \"dingtalk\" and \"feishu\" only".into());
                            None
                        }
                        (None, _) => None,
                    };
                    if let Some(s) = &secret {
                        redactor.add(s);
                    }
                    match &ch.url {
                        Some(url) if matches!(url.scheme(), "http" | "https") => {
                            redactor.add_url(url);
                            Some(Target::Http { url: url.clone(), secret })
                        }
                        Some(url) => {
                            p(format!("`url` must be http or https, not {}", url.scheme()));
                            None
                        }
                        None => {
                            p("needs `url`, the address to post to".into());
                            None
                        }
                    }
                }
            };
            if let Some(target) = target {
                let limiter = Limiter::new(&RateLimit::defaults(ch.kind));
                out.insert(
                    ch.name.clone(),
                    Channel { name: ch.name.clone(), kind: ch.kind, target, limiter, redactor },
                );
            }
        }
        if !problems.is_empty() {
            return Err(NotifyError::Config { problems });
        }
        Ok(Sender { client, channels: out, tz: chrono_tz::Asia::Shanghai })
    }

    /// Times in messages are shown in this zone (`[org] timezone`; default Asia/Shanghai).
    pub fn with_timezone(mut self, tz: Tz) -> Sender {
        self.tz = tz;
        self
    }

    /// Replaces a channel's rate limits (all must allow a send), e.g. a webhook
    /// receiver's own limit. Unknown channel → `Permanent`.
    pub fn with_rate_limits(mut self, channel: &str, limits: &[RateLimit]) -> Result<Sender, NotifyError> {
        match self.channels.get_mut(channel) {
            Some(ch) => {
                ch.limiter = Limiter::new(limits);
                Ok(self)
            }
            None => Err(unknown(channel)),
        }
    }

    /// The configured channel names.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.channels.keys().map(String::as_str)
    }

    /// How long until `channel` could send without waiting (zero: now). Unknown
    /// channels are ready at once (their send fails permanently).
    pub fn next_ready(&self, channel: &str) -> Duration {
        self.channels.get(channel).map(|c| c.limiter.next_ready()).unwrap_or(Duration::ZERO)
    }

    /// Sends one alert to one channel, waiting for the channel's rate limit first.
    pub async fn send(&self, channel: &str, alert: &Alert) -> Result<Delivery, NotifyError> {
        let ch = self.channels.get(channel).ok_or_else(|| unknown(channel))?;
        let (rendered, truncated) = render_full(ch.kind, alert, self.tz);
        let waited = ch.limiter.acquire().await;
        let result = match (&ch.target, rendered) {
            (Target::Http { url, secret }, Rendered::Json(body)) => {
                self.post(ch, url, secret.as_deref(), alert, body).await
            }
            (Target::Email(target), Rendered::Email { subject, text, html }) => {
                target.send(&alert.key, subject, text, html).await.map_err(|(retry, reason)| (retry, reason, false))
            }
            // Broken invariant: render_full gives Json for the HTTP kinds and Email for email.
            _ => unreachable!("channel kind and rendering disagree"),
        };
        match result {
            Ok(detail) => {
                tracing::info!(channel = %ch.name, key = %alert.key, truncated, "Alert sent.");
                Ok(Delivery { channel: ch.name.clone(), kind: ch.kind, waited, truncated, detail })
            }
            Err((retryable, reason, rate_limited)) => {
                if rate_limited {
                    ch.limiter.exhaust();
                }
                let reason = ch.redactor.apply(&reason);
                tracing::warn!(channel = %ch.name, key = %alert.key, retryable, reason = %reason, "Alert not sent.");
                let channel = ch.name.clone();
                Err(if retryable {
                    NotifyError::Retryable { channel, reason }
                } else {
                    NotifyError::Permanent { channel, reason }
                })
            }
        }
    }

    /// Posts a platform body; `Err((retryable, reason, rate_limited))`.
    async fn post(
        &self,
        ch: &Channel,
        url: &Url,
        secret: Option<&str>,
        alert: &Alert,
        mut body: Value,
    ) -> Result<String, (bool, String, bool)> {
        let mut url = url.clone();
        if let Some(secret) = secret {
            let now = chrono::Utc::now();
            match ch.kind {
                ChannelKind::Dingtalk => {
                    let ms = now.timestamp_millis();
                    url.query_pairs_mut()
                        .append_pair("timestamp", &ms.to_string())
                        .append_pair("sign", &dingtalk_sign(secret, ms));
                }
                ChannelKind::Feishu => {
                    let ts = now.timestamp();
                    if let Value::Object(map) = &mut body {
                        map.insert("timestamp".into(), Value::String(ts.to_string()));
                        map.insert("sign".into(), Value::String(feishu_sign(secret, ts)));
                    }
                }
                _ => {}
            }
        }
        tracing::debug!(channel = %ch.name, url = %mask_url(&url), "Posting alert.");
        // Serializing a `Value` cannot fail.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut req = self
            .client
            .post(url)
            .timeout(HTTP_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(bytes);
        if ch.kind == ChannelKind::Webhook {
            req = req.header("Idempotency-Key", alert.key.as_str());
        }
        let resp = req.send().await.map_err(|e| {
            let e = e.without_url();
            let retry = !e.is_builder() && !e.is_redirect();
            (retry, error_chain(&e), false)
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        classify(ch.kind, status.as_u16(), &text)
    }
}

fn unknown(channel: &str) -> NotifyError {
    NotifyError::Permanent { channel: channel.to_string(), reason: "no such channel in [[alerts.channels]]".into() }
}

/// Reads a platform's answer: `Ok(detail)` or `Err((retryable, reason, rate_limited))`.
pub(crate) fn classify(kind: ChannelKind, status: u16, body: &str) -> Result<String, (bool, String, bool)> {
    let snippet: String = body.chars().take(200).collect();
    if !(200..300).contains(&status) {
        let rate_limited = status == 429;
        let retry = rate_limited || status == 408 || status >= 500;
        return Err((retry, format!("HTTP {status}: {snippet}"), rate_limited));
    }
    let (field, rate_codes, busy_codes): (&[&str], &[i64], &[i64]) = match kind {
        ChannelKind::Webhook | ChannelKind::Email => return Ok(format!("HTTP {status}")),
        // 45009: API frequency over the limit; -1: system busy.
        ChannelKind::Wecom => (&["errcode"], &[45009], &[-1]),
        // 130101: sending too fast; -1: system busy.
        ChannelKind::Dingtalk => (&["errcode"], &[130101], &[-1]),
        // 9499 / 11232: frequency limits. Older answers carry `StatusCode`.
        ChannelKind::Feishu => (&["code", "StatusCode"], &[9499, 11232, 11233], &[]),
    };
    let json: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        // A 2xx that is not the platform's JSON (a proxy's page?): try again later.
        Err(_) => return Err((true, format!("HTTP {status} with an unexpected body: {snippet}"), false)),
    };
    let code = field.iter().find_map(|f| json.get(*f)).and_then(Value::as_i64);
    let msg =
        ["errmsg", "msg", "StatusMessage"].iter().find_map(|f| json.get(*f)).and_then(Value::as_str).unwrap_or("");
    match code {
        Some(0) => Ok(format!("{} 0", field[0])),
        Some(c) if rate_codes.contains(&c) => Err((true, format!("rate limited by the platform ({c} {msg})"), true)),
        Some(c) if busy_codes.contains(&c) => Err((true, format!("platform busy ({c} {msg})"), false)),
        Some(c) => Err((false, format!("platform error {c}: {msg}"), false)),
        None => Err((true, format!("HTTP {status} without a result code: {snippet}"), false)),
    }
}

/// DingTalk's robot signature: `urlencode(base64(hmac_sha256(key = secret, msg =
/// "<timestamp_ms>\n<secret>")))`; this returns the base64, the URL builder encodes it.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    hmac_b64(secret.as_bytes(), format!("{timestamp_ms}\n{secret}").as_bytes())
}

/// Feishu's custom-bot signature: `base64(hmac_sha256(key = "<timestamp_s>\n<secret>",
/// msg = ""))`, sent with `timestamp` in the body.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    hmac_b64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A URL safe to show: no user info, no query, no fragment, long path segments (bot
/// tokens such as Feishu's hook id) replaced by `***`.
pub fn mask_url(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    for seg in url.path_segments().into_iter().flatten() {
        out.push('/');
        out.push_str(if looks_secret(seg) { "***" } else { seg });
    }
    if url.query().is_some() {
        out.push_str("?***");
    }
    out
}

fn looks_secret(seg: &str) -> bool {
    seg.len() >= 16 || (seg.len() >= 8 && seg.chars().any(|c| c.is_ascii_digit()))
}

/// Replaces every known secret of a channel in a text.
#[derive(Default)]
struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    fn add(&mut self, s: &str) {
        if s.len() >= 4 {
            self.secrets.push(s.to_string());
        }
    }

    fn add_url(&mut self, url: &Url) {
        self.add(url.as_str());
        for (_, v) in url.query_pairs() {
            self.add(&v);
        }
        if let Some(q) = url.query() {
            self.add(q);
        }
        for seg in url.path_segments().into_iter().flatten() {
            if looks_secret(seg) {
                self.add(seg);
            }
        }
        if let Some(p) = url.password() {
            self.add(p);
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        // Longest first, so a full URL goes before the token inside it.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_string();
        for s in secrets {
            out = out.replace(s.as_str(), "***");
        }
        out
    }
}

/// "outer: inner: innermost", without repeating a message the wrapper already shows.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let s = inner.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = inner.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_tokens_in_query_and_path() {
        let u = Url::parse("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx").unwrap();
        assert_eq!(mask_url(&u), "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***");
        let u =
            Url::parse("https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789-abcd-ef0123456789").unwrap();
        assert_eq!(mask_url(&u), "https://open.feishu.cn/open-apis/bot/v2/hook/***");
    }

    #[test]
    fn redactor_hides_url_and_parts() {
        let mut r = Redactor::default();
        let u = Url::parse("https://oapi.dingtalk.com/robot/send?access_token=abcdef123456").unwrap();
        r.add_url(&u);
        r.add("SECsecret");
        let t = r.apply(
            "failed for https://oapi.dingtalk.com/robot/send?access_token=abcdef123456, token abcdef123456, SECsecret",
        );
        assert!(!t.contains("abcdef123456") && !t.contains("SECsecret"), "{t}");
    }

    #[test]
    fn classification() {
        use ChannelKind::*;
        assert!(classify(Webhook, 200, "").is_ok());
        assert!(matches!(classify(Webhook, 500, ""), Err((true, _, false))));
        assert!(matches!(classify(Webhook, 503, ""), Err((true, _, false))));
        assert!(matches!(classify(Webhook, 429, ""), Err((true, _, true))));
        assert!(matches!(classify(Webhook, 400, ""), Err((false, _, false))));
        assert!(matches!(classify(Webhook, 404, ""), Err((false, _, false))));
        assert!(classify(Wecom, 200, r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(matches!(classify(Wecom, 200, r#"{"errcode":45009,"errmsg":"freq"}"#), Err((true, _, true))));
        assert!(matches!(
            classify(Wecom, 200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#),
            Err((false, _, _))
        ));
        assert!(matches!(
            classify(Dingtalk, 200, r#"{"errcode":130101,"errmsg":"send too fast"}"#),
            Err((true, _, true))
        ));
        assert!(matches!(
            classify(Dingtalk, 200, r#"{"errcode":310000,"errmsg":"sign not match"}"#),
            Err((false, _, _))
        ));
        assert!(classify(Feishu, 200, r#"{"code":0,"msg":"success","data":{}}"#).is_ok());
        assert!(classify(Feishu, 200, r#"{"StatusCode":0,"StatusMessage":"success"}"#).is_ok());
        assert!(matches!(classify(Feishu, 200, r#"{"code":11232,"msg":"frequency limited"}"#), Err((true, _, true))));
        assert!(matches!(classify(Feishu, 200, r#"{"code":9499,"msg":"too many"}"#), Err((true, _, true))));
        assert!(matches!(classify(Feishu, 200, r#"{"code":19021,"msg":"sign match fail"}"#), Err((false, _, _))));
        assert!(matches!(classify(Feishu, 200, "<html>"), Err((true, _, _))));
    }
}
