//! Alert channels: which channels an alert goes to (routes), what it looks like on each
//! platform (rendering, with the platforms' size limits), and sending it there at the
//! pace each platform allows.
//!
//! The pieces and their trade-offs:
//!
//! - [`route_matches`] / [`channels_for`] apply the `[[alerts.routes]]` filters of
//!   INTERFACES.md; every filter that is set must hold.
//! - [`render`] is pure: one [`Alert`] in, the platform's message out, in Chinese. A
//!   message over the platform's size limit is *cut*, never rejected: the summary goes
//!   first (at a character boundary, ending in "…（全文见链接）"), the links to the item are
//!   always kept, so the person on duty can read the rest in yuqing.
//! - [`Sender`] owns one rate limiter per channel and *waits* for a token rather than
//!   dropping a message; the persistent outbox (another crate) asks
//!   [`Sender::next_ready`] when to come back and retries [`NotifyError::Retryable`]
//!   with backoff while parking [`NotifyError::Permanent`].
//! - Delivery is at least once; receivers de-duplicate by the alert's key where the
//!   platform allows it (the webhook's `Idempotency-Key` header, the e-mail's
//!   Message-ID). The chat bots have no such mechanism.
//!
//! Secrets (bot keys in webhook URLs, signing secrets, SMTP passwords) never appear in
//! errors or logs: URLs are shown masked and every error text goes through a redactor
//! that knows the channel's secrets.
//!
//! yuqing only alerts the office's own people (PRODUCT.md): nothing here posts anywhere
//! public.

mod email;
mod rate;
mod render;
mod send;

use chrono::{DateTime, Utc};
use std::time::Duration;
use yuqing_core::config::{ChannelKind, RouteConfig};
use yuqing_core::{Category, Level, Tier, Tone};

pub use rate::RateLimit;
pub use render::{render, render_in, Rendered, CUT_MARK, DINGTALK_MAX_BYTES, FEISHU_CARD_MAX_BYTES, WECOM_MAX_BYTES};
pub use send::{dingtalk_sign, feishu_sign, mask_url, Sender};

/// What an alert is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlertKind {
    /// One item (or an escalation round of its alert).
    #[default]
    Item,
    /// A spike (突增): an hour whose count of new items for a watch rule or a category
    /// stood out against its baseline. The title says it all; `source`, `tier`, `tone`
    /// and `url` mean nothing for it and are not shown.
    Spike,
}

impl AlertKind {
    pub fn id(self) -> &'static str {
        match self {
            AlertKind::Item => "item",
            AlertKind::Spike => "spike",
        }
    }
}

/// One alert about one item (or one escalation round of it), or about a spike.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    /// Idempotency key, stable across retries, e.g. `"item-17"` or `"item-17-esc-1"`.
    pub key: String,
    pub title: String,
    pub level: Level,
    pub tone: Tone,
    /// The source's configured name.
    pub source: String,
    pub tier: Tier,
    /// The original page.
    pub url: Option<String>,
    /// The item's page in yuqing (where it is acknowledged).
    pub link: Option<String>,
    pub summary: String,
    pub categories: Vec<Category>,
    /// Names of the watch rules the item matched.
    pub rules: Vec<String>,
    /// When the item was published (or found, when the page gives no time).
    pub at: DateTime<Utc>,
    /// Names of the people on duty, shown in the message.
    pub on_duty: Vec<String>,
    /// Escalation round, when this alert escalates an unacknowledged one.
    pub escalation: Option<u32>,
    /// The acknowledgement link (确认收到): a page in yuqing, behind its login, that
    /// records who acknowledged the alert; opening it changes nothing by itself.
    pub ack_link: Option<String>,
    /// A line the message leads with, e.g. why it escalates and to whom
    /// ("30 分钟无人确认，升级至：李四（下一值班人）"). Kept short; never cut.
    pub notice: Option<String>,
}

/// Whether an alert passes every filter the route sets (an unset filter always holds).
/// A route with `spikes = true` carries spike alerts only, filtered by its `rules` and
/// `categories` (see [`spike_channels_for`]); any other route carries item alerts only.
pub fn route_matches(route: &RouteConfig, alert: &Alert) -> bool {
    if route.spikes != (alert.kind == AlertKind::Spike) {
        return false;
    }
    route.tone.is_none_or(|t| t == alert.tone)
        && route.min_level.is_none_or(|min| alert.level >= min)
        && (route.rules.is_empty() || alert.rules.iter().any(|r| route.rules.contains(r)))
        && (route.categories.is_empty() || alert.categories.iter().any(|c| route.categories.contains(c)))
        && (route.tiers.is_empty() || route.tiers.contains(&alert.tier))
}

/// The channels of every route the alert matches, each once, in configuration order.
pub fn channels_for<'a>(routes: &'a [RouteConfig], alert: &Alert) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = Vec::new();
    for route in routes.iter().filter(|r| route_matches(r, alert)) {
        for name in &route.channels {
            if !out.contains(&name.as_str()) {
                out.push(name);
            }
        }
    }
    out
}

/// The channels of every `spikes = true` route a spike passes, each once, in
/// configuration order. A spike of a watch rule carries that rule and the rule's
/// category (if it has one); a spike of a category carries that category and no rule, so
/// a route that filters on `rules` never gets category spikes.
pub fn spike_channels_for<'a>(routes: &'a [RouteConfig], rules: &[String], categories: &[Category]) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = Vec::new();
    let passes = |r: &RouteConfig| {
        r.spikes
            && (r.rules.is_empty() || rules.iter().any(|x| r.rules.contains(x)))
            && (r.categories.is_empty() || categories.iter().any(|c| r.categories.contains(c)))
    };
    for route in routes.iter().filter(|r| passes(r)) {
        for name in &route.channels {
            if !out.contains(&name.as_str()) {
                out.push(name);
            }
        }
    }
    out
}

/// What a successful send did.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub channel: String,
    pub kind: ChannelKind,
    /// How long the send waited for the channel's rate limit.
    pub waited: Duration,
    /// Whether the message was cut to fit the platform's size limit.
    pub truncated: bool,
    /// The receiver's answer in short: `HTTP 200`, `errcode 0`, the SMTP reply.
    pub detail: String,
}

/// Why an alert could not be sent. Texts never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Worth retrying later: 5xx, 408/429, time-outs, connection errors, the platform's
    /// rate-limit codes, SMTP 4xx replies.
    #[error("alert channel `{channel}`: temporary failure, will retry: {reason}")]
    Retryable { channel: String, reason: String },
    /// Retrying will not help until someone changes something: 4xx, invalid token or
    /// signature, SMTP 5xx replies, a channel name that is not configured.
    #[error("alert channel `{channel}`: failed: {reason}")]
    Permanent { channel: String, reason: String },
    /// The channels cannot be set up; every problem found, at once.
    #[error("alert channels are not usable: {}", problems.join("; "))]
    Config { problems: Vec<String> },
}

impl NotifyError {
    /// Whether the outbox should retry this (with backoff).
    pub fn is_retryable(&self) -> bool {
        matches!(self, NotifyError::Retryable { .. })
    }
}
