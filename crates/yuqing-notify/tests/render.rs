mod common;

use common::alert;
use serde_json::Value;
use yuqing_core::config::ChannelKind;
use yuqing_notify::{
    render, render_in, Alert, Rendered, CUT_MARK, DINGTALK_MAX_BYTES, FEISHU_CARD_MAX_BYTES, WECOM_MAX_BYTES,
};

fn json(kind: ChannelKind, a: &Alert) -> Value {
    match render(kind, a) {
        Rendered::Json(v) => v,
        other => panic!("expected JSON, got {other:?}"),
    }
}

fn wecom_content(a: &Alert) -> String {
    json(ChannelKind::Wecom, a)["markdown"]["content"].as_str().unwrap().to_string()
}

fn dingtalk_text(a: &Alert) -> String {
    json(ChannelKind::Dingtalk, a)["markdown"]["text"].as_str().unwrap().to_string()
}

fn feishu_card(a: &Alert) -> String {
    serde_json::to_string(&json(ChannelKind::Feishu, a)["card"]).unwrap()
}

#[test]
fn wecom_shape() {
    let v = json(ChannelKind::Wecom, &alert());
    assert_eq!(v["msgtype"], "markdown");
    assert_eq!(v.as_object().unwrap().len(), 2);
    let c = v["markdown"]["content"].as_str().unwrap();
    assert!(c.contains("【舆情预警】重要 · 负面"), "{c}");
    assert!(c.contains("**上犹县某乡镇惠农补贴发放迟缓引发群众不满**"));
    assert!(c.contains("> 来源：县政府网-留言板（本地）"));
    assert!(c.contains("> 时间：2024-05-01 10:30（北京时间）"), "{c}");
    assert!(c.contains("> 类别：民生问题、政策反馈"));
    assert!(c.contains("> 规则：上犹财政"));
    assert!(c.contains("耕地地力保护补贴"));
    assert!(c.contains("[在 yuqing 中查看](https://yuqing.example.org/items/17)"));
    assert!(c.contains("[查看原文](https://news.example.org/a/17.html)"));
    assert!(c.contains("值班：张三、李四"));
}

#[test]
fn dingtalk_shape() {
    let v = json(ChannelKind::Dingtalk, &alert());
    assert_eq!(v["msgtype"], "markdown");
    assert!(v["markdown"]["title"].as_str().unwrap().starts_with("【舆情预警】上犹县"));
    let t = v["markdown"]["text"].as_str().unwrap();
    assert!(t.starts_with("### 【舆情预警】重要 · 负面\n\n"), "{t}");
    assert!(t.contains("[查看原文](https://news.example.org/a/17.html)"));
    assert!(v.get("timestamp").is_none(), "signing happens when sending, in the URL");
}

#[test]
fn feishu_shape() {
    let v = json(ChannelKind::Feishu, &alert());
    assert_eq!(v["msg_type"], "interactive");
    let card = &v["card"];
    assert_eq!(card["header"]["title"]["content"], "【舆情预警】重要 · 负面");
    assert_eq!(card["header"]["template"], "orange");
    assert_eq!(card["elements"][0]["tag"], "div");
    assert_eq!(card["elements"][0]["text"]["tag"], "lark_md");
    let md = card["elements"][0]["text"]["content"].as_str().unwrap();
    assert!(md.contains("**上犹县某乡镇惠农补贴发放迟缓引发群众不满**"));
    let buttons = card["elements"][1]["actions"].as_array().unwrap();
    assert_eq!(buttons[0]["url"], "https://yuqing.example.org/items/17");
    assert_eq!(buttons[1]["url"], "https://news.example.org/a/17.html");
}

#[test]
fn webhook_shape() {
    let mut a = alert();
    a.escalation = Some(2);
    let v = json(ChannelKind::Webhook, &a);
    assert_eq!(v["key"], "item-17");
    assert_eq!(v["title"], a.title);
    assert_eq!(v["level"], "important");
    assert_eq!(v["tone"], "negative");
    assert_eq!(v["tier"], "local");
    assert_eq!(v["source"], "县政府网-留言板");
    assert_eq!(v["categories"], serde_json::json!(["livelihood", "policy"]));
    assert_eq!(v["rules"], serde_json::json!(["上犹财政"]));
    assert_eq!(v["at"], "2024-05-01T02:30:00+00:00");
    assert_eq!(v["escalation"], 2);
    assert_eq!(v["on_duty"], serde_json::json!(["张三", "李四"]));
    assert!(v["text"].as_str().unwrap().contains("第 2 次升级提醒"));
}

#[test]
fn email_parts_and_timezone() {
    let Rendered::Email { subject, text, html } = render_in(ChannelKind::Email, &alert(), chrono_tz::Asia::Urumqi)
    else {
        panic!("expected e-mail");
    };
    assert_eq!(subject, "【舆情预警】重要 · 负面：上犹县某乡镇惠农补贴发放迟缓引发群众不满");
    assert!(text.contains("时间：2024-05-01 08:30（Asia/Urumqi）"), "{text}");
    let html = html.unwrap();
    assert!(html.contains("<a href=\"https://yuqing.example.org/items/17\">"));
    let mut a = alert();
    a.title = "<script>x</script>".into();
    let Rendered::Email { html, .. } = render(ChannelKind::Email, &a) else { panic!() };
    assert!(html.unwrap().contains("&lt;script&gt;"));
}

/// A summary of CJK (3 bytes each) and ASCII padding that makes `measure` exactly
/// `target` bytes, found from the measure of a one-char summary (the size is linear in
/// the summary when it has no newlines and nothing JSON escapes).
fn summary_for(target: usize, measure: impl Fn(&Alert) -> usize) -> Alert {
    let mut a = alert();
    a.summary = "中".into();
    let overhead = measure(&a) - 3;
    let need = target - overhead;
    a.summary = format!("{}{}", "财政补贴".repeat(need / 12), "a".repeat(need % 12));
    assert_eq!(measure(&a), target, "calibration");
    a
}

fn check_limit(limit: usize, measure: impl Fn(&Alert) -> usize + Copy, text_of: impl Fn(&Alert) -> String) {
    // Exactly at the limit: untouched.
    let a = summary_for(limit, measure);
    let at = text_of(&a);
    assert!(at.contains(&a.summary) && !at.contains(CUT_MARK));

    // One byte over: cut, within the limit, the link kept, the summary a clean prefix.
    let mut a = a.clone();
    a.summary.push('a'); // the uncut message would now be limit + 1 bytes
    let over = text_of(&a);
    assert!(measure(&a) <= limit, "{} > {limit}", measure(&a));
    assert!(over.contains(CUT_MARK));
    assert!(over.contains("https://yuqing.example.org/items/17"));
    assert!(over.contains("https://news.example.org/a/17.html"));
    assert!(over.contains("值班：张三、李四"));
    let kept = over.split(CUT_MARK).next().unwrap();
    let start = kept.find("财政补贴").unwrap();
    assert!(a.summary.starts_with(&kept[start..]));

    // Far over, all CJK: still within, and no more than one character short of it.
    let mut a = alert();
    a.summary = "舆".repeat(limit);
    let n = measure(&a);
    assert!(n <= limit && n > limit - 3, "{n} vs {limit}");
}

#[test]
fn wecom_cut_at_4096_bytes() {
    check_limit(WECOM_MAX_BYTES, |a| wecom_content(a).len(), wecom_content);
}

#[test]
fn dingtalk_cut_at_20000_bytes() {
    check_limit(DINGTALK_MAX_BYTES, |a| dingtalk_text(a).len(), dingtalk_text);
}

#[test]
fn feishu_cut_at_30000_bytes() {
    check_limit(FEISHU_CARD_MAX_BYTES, |a| feishu_card(a).len(), feishu_card);
}

#[test]
fn a_markdown_link_in_the_summary_is_never_split() {
    let mut a = alert();
    let link = "[通报原文](https://www.example.gov.cn/tzgg/2024/0501/abc.html)";
    // Put the link where the cut must fall, then check every offset around it.
    for pad in 0..40 {
        a.summary = format!("{}{}{}", "补".repeat(1300 + pad), link, "贴".repeat(200));
        let c = wecom_content(&a);
        assert!(c.len() <= WECOM_MAX_BYTES);
        let kept = c.split(CUT_MARK).next().unwrap();
        let tail = &kept[kept.rfind('补').unwrap_or(0)..];
        if tail.contains('[') {
            assert!(tail.contains(link), "split link: {tail}");
        }
    }
}

#[test]
fn an_absurd_title_is_cut_and_the_link_stays() {
    let mut a = alert();
    a.title = "标题".repeat(3000);
    let c = wecom_content(&a);
    assert!(c.len() <= WECOM_MAX_BYTES, "{}", c.len());
    assert!(c.contains("https://yuqing.example.org/items/17"));
    // Cut at a character: the title line ends in "…" after either character.
    assert!(c.contains("**标题标题") && (c.contains("标…**") || c.contains("题…**")), "{c}");
}

/// An escalation round: the notice leads, the acknowledgement link comes first, and a
/// cut to the platform's limit keeps both.
#[test]
fn an_escalation_leads_with_its_notice_and_keeps_the_acknowledgement_link_when_cut() {
    let mut a = alert();
    a.escalation = Some(1);
    a.notice = Some("10 分钟无人确认，升级至：王五（下一值班人）".into());
    a.ack_link = Some("https://yuqing.example.org/alerts/ack/item-17?t=0123abcd".into());
    let c = wecom_content(&a);
    assert!(c.contains("（第 1 次升级提醒）"), "{c}");
    assert!(c.contains("> 提醒：10 分钟无人确认，升级至：王五（下一值班人）"), "{c}");
    let ack = "[确认收到](https://yuqing.example.org/alerts/ack/item-17?t=0123abcd)";
    assert!(c.find(ack) < c.find("[在 yuqing 中查看]"), "{c}");
    let Rendered::Email { subject, text, html } = render(ChannelKind::Email, &a) else { panic!("email") };
    assert!(subject.contains("升级"), "{subject}");
    assert!(
        text.contains("提醒：10 分钟无人确认") && text.contains("确认收到：https://yuqing.example.org/alerts/ack/")
    );
    assert!(html.is_some_and(|h| h.contains("href=\"https://yuqing.example.org/alerts/ack/item-17?t=0123abcd\"")));
    let hook = json(ChannelKind::Webhook, &a);
    assert_eq!(hook["ack_link"], "https://yuqing.example.org/alerts/ack/item-17?t=0123abcd");
    assert_eq!(hook["escalation"], 1);
    assert!(hook["notice"].as_str().is_some_and(|n| n.contains("王五")));
    let card = feishu_card(&a);
    assert!(card.contains("确认收到"), "{card}");

    a.summary = "补贴".repeat(20_000);
    for (kind, limit) in [
        (ChannelKind::Wecom, WECOM_MAX_BYTES),
        (ChannelKind::Dingtalk, DINGTALK_MAX_BYTES),
        (ChannelKind::Feishu, FEISHU_CARD_MAX_BYTES),
    ] {
        let text = match kind {
            ChannelKind::Wecom => wecom_content(&a),
            ChannelKind::Dingtalk => dingtalk_text(&a),
            _ => feishu_card(&a),
        };
        assert!(text.len() <= limit, "{kind:?}: {} bytes", text.len());
        assert!(text.contains("https://yuqing.example.org/alerts/ack/item-17?t=0123abcd"), "{kind:?} lost the link");
        assert!(text.contains("升级至：王五"), "{kind:?} lost the notice");
        assert!(text.contains(CUT_MARK), "{kind:?} was cut");
    }
}

#[test]
fn a_spike_reads_as_a_spike() {
    let mut a = alert();
    a.kind = yuqing_notify::AlertKind::Spike;
    a.key = "spike-3".into();
    a.title = "监测规则“上犹财政”近1小时新增 40 条，过去7天每小时平均 1.2 条".into();
    a.url = None;
    let v = json(ChannelKind::Webhook, &a);
    assert_eq!(v["kind"], "spike");
    assert_eq!(json(ChannelKind::Webhook, &alert())["kind"], "item");
    let text = v["text"].as_str().unwrap();
    assert!(text.starts_with("【舆情突增】"), "{text}");
    // An item's source line means nothing for a spike.
    assert!(!text.contains("来源"), "{text}");
    assert!(text.contains("规则：上犹财政"), "{text}");
    let Rendered::Email { subject, .. } = render(ChannelKind::Email, &a) else { panic!("expected e-mail") };
    assert_eq!(subject, format!("【舆情突增】：{}", a.title));
    let title = json(ChannelKind::Dingtalk, &a)["markdown"]["title"].as_str().unwrap().to_string();
    assert!(title.starts_with("【舆情突增】监测规则"), "{title}");
}
