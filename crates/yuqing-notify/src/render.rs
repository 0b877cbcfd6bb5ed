//! What an alert looks like on each platform, in Chinese, within the platform's size
//! limit.
//!
//! Every platform gets the same facts in the same order: the headline (【舆情预警】 with
//! level and tone), the title, source and tier, time, categories and rules, the summary,
//! the links, who is on duty. Only the summary is long, so a message over the limit is
//! cut there first; if even an empty summary does not fit (absurdly long titles or
//! lists), the title is cut next, then the original URL dropped, then the lists. The link
//! to the item in yuqing is never dropped, and a cut never falls inside a UTF-8
//! character or a markdown link.

use crate::{Alert, AlertKind};
use chrono_tz::Tz;
use serde_json::{json, Value};
use std::borrow::Cow;
use yuqing_core::config::ChannelKind;
use yuqing_core::Level;

/// WeCom group bot: `markdown.content` at most 4,096 bytes of UTF-8.
pub const WECOM_MAX_BYTES: usize = 4096;
/// DingTalk robot: the markdown `text` at most 20,000 bytes.
pub const DINGTALK_MAX_BYTES: usize = 20_000;
/// Feishu bot: the card, serialized as JSON, at most 30 KB (taken as 30,000 bytes, which
/// holds whether the platform means 1,000 or 1,024).
pub const FEISHU_CARD_MAX_BYTES: usize = 30_000;
/// Ends a summary that was cut.
pub const CUT_MARK: &str = "…（全文见链接）";

/// A message ready for its channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Email {
        subject: String,
        text: String,
        html: Option<String>,
    },
    /// The JSON body to post (without the platform's signature fields).
    Json(Value),
}

/// Renders for a channel kind with times in Asia/Shanghai (北京时间).
pub fn render(kind: ChannelKind, alert: &Alert) -> Rendered {
    render_in(kind, alert, chrono_tz::Asia::Shanghai)
}

/// Renders for a channel kind with times in the given zone (`[org] timezone`).
pub fn render_in(kind: ChannelKind, alert: &Alert, tz: Tz) -> Rendered {
    render_full(kind, alert, tz).0
}

/// The message and whether it had to be cut.
pub(crate) fn render_full(kind: ChannelKind, alert: &Alert, tz: Tz) -> (Rendered, bool) {
    match kind {
        ChannelKind::Webhook => (Rendered::Json(webhook_json(alert, tz)), false),
        ChannelKind::Email => {
            let v = View::full(alert, tz);
            let subject = format!("{}：{}", v.headline(), one_line(&alert.title));
            let rendered = Rendered::Email { subject, text: v.plain(), html: Some(v.html()) };
            (rendered, false)
        }
        ChannelKind::Wecom => {
            let (v, cut) = fit(alert, tz, WECOM_MAX_BYTES, |v| v.markdown(Flavor::Wecom).len());
            let body = json!({"msgtype": "markdown", "markdown": {"content": v.markdown(Flavor::Wecom)}});
            (Rendered::Json(body), cut)
        }
        ChannelKind::Dingtalk => {
            let (v, cut) = fit(alert, tz, DINGTALK_MAX_BYTES, |v| v.markdown(Flavor::Dingtalk).len());
            let head = if alert.kind == AlertKind::Spike { "【舆情突增】" } else { "【舆情预警】" };
            let title = format!("{head}{}", char_prefix(&one_line(&alert.title), 40));
            let body =
                json!({"msgtype": "markdown", "markdown": {"title": title, "text": v.markdown(Flavor::Dingtalk)}});
            (Rendered::Json(body), cut)
        }
        ChannelKind::Feishu => {
            let (v, cut) = fit(alert, tz, FEISHU_CARD_MAX_BYTES, |v| json_len(&v.feishu_card()));
            (Rendered::Json(json!({"msg_type": "interactive", "card": v.feishu_card()})), cut)
        }
    }
}

fn json_len(v: &Value) -> usize {
    // Serializing a `Value` cannot fail (string keys only).
    serde_json::to_string(v).map(|s| s.len()).unwrap_or(usize::MAX)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Wecom,
    Dingtalk,
    Feishu,
}

/// The alert as shown, with the parts a cut may shorten.
struct View<'a> {
    alert: &'a Alert,
    tz: Tz,
    title: Cow<'a, str>,
    summary: Cow<'a, str>,
    keep_url: bool,
    /// Leave out the categories, rules and on-duty lists (last resort).
    minimal: bool,
}

impl<'a> View<'a> {
    fn full(alert: &'a Alert, tz: Tz) -> View<'a> {
        View {
            alert,
            tz,
            title: Cow::Owned(one_line(&alert.title)),
            summary: Cow::Borrowed(alert.summary.trim()),
            keep_url: true,
            minimal: false,
        }
    }

    fn headline(&self) -> String {
        let a = self.alert;
        if a.kind == AlertKind::Spike {
            return "【舆情突增】".to_string();
        }
        let mut s = format!("【舆情预警】{} · {}", a.level.zh(), a.tone.zh());
        if let Some(round) = a.escalation {
            s.push_str(&format!("（第 {round} 次升级提醒）"));
        }
        s
    }

    fn time(&self) -> String {
        let local = self.alert.at.with_timezone(&self.tz);
        let zone =
            if self.tz == chrono_tz::Asia::Shanghai { "北京时间".to_string() } else { self.tz.name().to_string() };
        format!("{}（{zone}）", local.format("%Y-%m-%d %H:%M"))
    }

    /// (label, value) lines after the title.
    fn meta(&self) -> Vec<(&'static str, String)> {
        let a = self.alert;
        let mut m = Vec::new();
        if let Some(notice) = a.notice.as_deref().map(one_line).filter(|n| !n.is_empty()) {
            m.push(("提醒", notice));
        }
        if a.kind == AlertKind::Item {
            m.push(("来源", format!("{}（{}）", a.source, a.tier.zh())));
        }
        m.push(("时间", self.time()));
        if !self.minimal {
            if !a.categories.is_empty() {
                m.push(("类别", a.categories.iter().map(|c| c.zh()).collect::<Vec<_>>().join("、")));
            }
            if !a.rules.is_empty() {
                m.push(("规则", a.rules.join("、")));
            }
        }
        m
    }

    fn on_duty(&self) -> Option<String> {
        (!self.minimal && !self.alert.on_duty.is_empty()).then(|| self.alert.on_duty.join("、"))
    }

    fn links(&self) -> Vec<(&'static str, &'a str)> {
        let mut l = Vec::new();
        if let Some(ack) = self.alert.ack_link.as_deref() {
            l.push(("确认收到", ack));
        }
        if let Some(link) = self.alert.link.as_deref() {
            l.push(("在 yuqing 中查看", link));
        }
        if self.keep_url {
            if let Some(url) = self.alert.url.as_deref() {
                l.push(("查看原文", url));
            }
        }
        l
    }

    fn markdown(&self, flavor: Flavor) -> String {
        // DingTalk's markdown needs a blank line to break a line; WeCom and lark_md
        // break on a single newline.
        let nl = if flavor == Flavor::Dingtalk { "\n\n" } else { "\n" };
        let mut out = String::new();
        if flavor != Flavor::Feishu {
            let head = self.headline();
            match flavor {
                Flavor::Wecom if self.alert.level >= Level::Important => {
                    out.push_str(&format!("### <font color=\"warning\">{head}</font>"));
                }
                _ => out.push_str(&format!("### {head}")),
            }
            out.push_str(nl);
        }
        out.push_str(&format!("**{}**", self.title));
        out.push_str(nl);
        for (k, v) in self.meta() {
            out.push_str(&format!("> {k}：{v}"));
            out.push_str(nl);
        }
        if !self.summary.is_empty() {
            out.push_str(nl);
            let summary =
                if flavor == Flavor::Dingtalk { self.summary.replace('\n', "\n\n") } else { self.summary.to_string() };
            out.push_str(&summary);
            out.push_str(nl);
        }
        if flavor != Flavor::Feishu {
            let links = self.links();
            if !links.is_empty() {
                out.push_str(nl);
                let ls: Vec<String> = links.iter().map(|(label, url)| md_link(label, url)).collect();
                out.push_str(&ls.join("　"));
                out.push_str(nl);
            }
        }
        if let Some(names) = self.on_duty() {
            out.push_str(&format!("值班：{names}"));
        }
        out.trim_end().to_string()
    }

    fn feishu_card(&self) -> Value {
        let template = match self.alert.level {
            Level::MajorSensitive => "red",
            Level::Important => "orange",
            Level::Ordinary => "blue",
        };
        let mut elements =
            vec![json!({"tag": "div", "text": {"tag": "lark_md", "content": self.markdown(Flavor::Feishu)}})];
        let buttons: Vec<Value> = self
            .links()
            .iter()
            .enumerate()
            .map(|(i, (label, url))| {
                json!({"tag": "button", "text": {"tag": "plain_text", "content": label}, "url": url,
                       "type": if i == 0 { "primary" } else { "default" }})
            })
            .collect();
        if !buttons.is_empty() {
            elements.push(json!({"tag": "action", "actions": buttons}));
        }
        json!({
            "config": {"wide_screen_mode": true},
            "header": {"title": {"tag": "plain_text", "content": self.headline()}, "template": template},
            "elements": elements,
        })
    }

    fn plain(&self) -> String {
        let mut out = format!("{}\n\n{}\n", self.headline(), self.title);
        for (k, v) in self.meta() {
            out.push_str(&format!("{k}：{v}\n"));
        }
        if !self.summary.is_empty() {
            out.push_str(&format!("\n{}\n", self.summary));
        }
        let links = self.links();
        if !links.is_empty() {
            out.push('\n');
            for (label, url) in links {
                out.push_str(&format!("{label}：{url}\n"));
            }
        }
        if let Some(names) = self.on_duty() {
            out.push_str(&format!("\n值班：{names}\n"));
        }
        out
    }

    fn html(&self) -> String {
        let mut out =
            String::from("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head><body>\n");
        out.push_str(&format!(
            "<h2>{}</h2>\n<p><strong>{}</strong></p>\n<ul>\n",
            esc(&self.headline()),
            esc(&self.title)
        ));
        for (k, v) in self.meta() {
            out.push_str(&format!("<li>{k}：{}</li>\n", esc(&v)));
        }
        out.push_str("</ul>\n");
        for para in self.summary.split('\n').filter(|p| !p.trim().is_empty()) {
            out.push_str(&format!("<p>{}</p>\n", esc(para)));
        }
        let links = self.links();
        if !links.is_empty() {
            let ls: Vec<String> =
                links.iter().map(|(label, url)| format!("<a href=\"{}\">{}</a>", esc(url), esc(label))).collect();
            out.push_str(&format!("<p>{}</p>\n", ls.join(" | ")));
        }
        if let Some(names) = self.on_duty() {
            out.push_str(&format!("<p>值班：{}</p>\n", esc(&names)));
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// Fits the view under `limit` bytes as measured; returns it and whether it was cut.
fn fit<'a>(alert: &'a Alert, tz: Tz, limit: usize, measure: impl Fn(&View<'_>) -> usize) -> (View<'a>, bool) {
    let mut v = View::full(alert, tz);
    if measure(&v) <= limit {
        return (v, false);
    }
    let summary = alert.summary.trim();
    let bounds = char_bounds(summary);
    // The largest summary prefix that fits (size grows with the prefix, so bisect).
    let best = largest(bounds.len() - 1, |n| {
        v.summary = Cow::Owned(cut_summary(summary, bounds[n]));
        measure(&v) <= limit
    });
    if let Some(n) = best {
        v.summary = Cow::Owned(cut_summary(summary, bounds[n]));
        return (v, true);
    }
    // Even the bare mark does not fit: shorten the title, then drop the original URL,
    // then the lists; the link to the item stays.
    v.summary = Cow::Borrowed(CUT_MARK);
    let title = one_line(&alert.title);
    let tb = char_bounds(&title);
    for step in 0..3 {
        match step {
            1 => v.keep_url = false,
            2 => v.minimal = true,
            _ => {}
        }
        let best = largest(tb.len() - 1, |n| {
            v.title = Cow::Owned(cut_title(&title, tb[n]));
            measure(&v) <= limit
        });
        if let Some(n) = best {
            v.title = Cow::Owned(cut_title(&title, tb[n]));
            return (v, true);
        }
    }
    v.title = Cow::Borrowed("…");
    (v, true)
}

/// Largest `n` in `0..=max` with `ok(n)`, assuming `ok` holds up to some point and not
/// after; `None` when `ok(0)` fails.
fn largest(max: usize, mut ok: impl FnMut(usize) -> bool) -> Option<usize> {
    if !ok(0) {
        return None;
    }
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// Byte offsets of every char boundary, including the end.
fn char_bounds(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len())).collect()
}

fn cut_summary(summary: &str, at: usize) -> String {
    let prefix = outside_link(summary, at);
    format!("{}{CUT_MARK}", prefix.trim_end())
}

fn cut_title(title: &str, at: usize) -> String {
    if at >= title.len() {
        return title.to_string();
    }
    format!("{}…", outside_link(title, at).trim_end())
}

/// `&s[..at]` (`at` a char boundary), moved back before a markdown link `[text](url)`
/// that the cut would split.
fn outside_link(s: &str, at: usize) -> &str {
    let prefix = &s[..at];
    let Some(open) = prefix.rfind('[') else { return prefix };
    let rest = &s[open..];
    if let Some(mid) = rest.find("](") {
        if let Some(close) = rest[mid + 2..].find(')') {
            let end = open + mid + 2 + close + 1;
            if end > at && !rest[..mid].contains('\n') {
                return &s[..open];
            }
        }
    }
    prefix
}

fn char_prefix(s: &str, n: usize) -> String {
    let mut it = s.chars();
    let head: String = it.by_ref().take(n).collect();
    if it.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A markdown link whose URL cannot end the link early.
fn md_link(label: &str, url: &str) -> String {
    let mut u = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' => u.push_str("%20"),
            '(' => u.push_str("%28"),
            ')' => u.push_str("%29"),
            '<' => u.push_str("%3C"),
            '>' => u.push_str("%3E"),
            c => u.push(c),
        }
    }
    format!("[{label}]({u})")
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn webhook_json(alert: &Alert, tz: Tz) -> Value {
    let v = View::full(alert, tz);
    json!({
        "kind": alert.kind.id(),
        "key": alert.key,
        "title": alert.title,
        "level": alert.level.id(),
        "level_zh": alert.level.zh(),
        "tone": alert.tone.id(),
        "tone_zh": alert.tone.zh(),
        "source": alert.source,
        "tier": alert.tier.id(),
        "tier_zh": alert.tier.zh(),
        "url": alert.url,
        "link": alert.link,
        "summary": alert.summary,
        "categories": alert.categories.iter().map(|c| c.id()).collect::<Vec<_>>(),
        "rules": alert.rules,
        "at": alert.at.to_rfc3339(),
        "on_duty": alert.on_duty,
        "escalation": alert.escalation,
        "ack_link": alert.ack_link,
        "notice": alert.notice,
        "text": v.plain(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_bisects() {
        assert_eq!(largest(10, |n| n <= 7), Some(7));
        assert_eq!(largest(10, |_| true), Some(10));
        assert_eq!(largest(10, |_| false), None);
        assert_eq!(largest(0, |_| true), Some(0));
    }

    #[test]
    fn a_cut_never_splits_a_markdown_link() {
        let s = "前文[链接文字](https://example.org/a)后文";
        let inside = s.find("example").unwrap();
        assert_eq!(outside_link(s, inside), "前文");
        let after = s.find("后文").unwrap();
        assert_eq!(outside_link(s, after), &s[..after]);
        assert_eq!(outside_link("a [b] c", 4), "a [b");
    }

    #[test]
    fn urls_cannot_close_a_link_early() {
        assert_eq!(md_link("原文", "https://x.org/a (1)"), "[原文](https://x.org/a%20%281%29)");
    }
}
