//! The e-mail channel against a real SMTP server (aiosmtpd, from Debian) on 127.0.0.1:
//! what it receives is decoded by Python's `email` package, so the Chinese subject and
//! body, the addresses and the Message-ID are checked by a decoder other than lettre's.
//! `smtp.rs` keeps the byte-level checks against a scripted server.

mod common;
#[path = "common/smtpd.rs"]
mod smtpd;

use common::{alert, channel};
use smtpd::{part, Options, Smtpd, Tls};
use std::time::Duration;
use yuqing_core::config::{ChannelKind, SmtpTls};
use yuqing_notify::{NotifyError, Sender};

const PASSWORD: &str = "pa55-w0rd-测试";

fn sender(addr: &str, tls: SmtpTls) -> Sender {
    let mut ch = channel("office-mail", ChannelKind::Email, None);
    ch.smtp = Some(addr.to_string());
    ch.tls = Some(tls);
    ch.from = Some("yuqing@finance.example.org".into());
    ch.to = vec!["office@finance.example.org".into(), "duty@finance.example.org".into()];
    ch.username = Some("yuqing".into());
    ch.password_env = Some("YUQING_SMTP_PASSWORD".into());
    let env = |k: &str| (k == "YUQING_SMTP_PASSWORD").then(|| PASSWORD.to_string());
    Sender::new(reqwest::Client::new(), &[ch], env).unwrap()
}

fn with_auth(tls: Tls) -> Options {
    Options { tls, auth: Some(("yuqing".into(), PASSWORD.into())), ..Options::default() }
}

#[tokio::test]
async fn a_real_server_receives_the_alert_with_its_headers_and_chinese_body() {
    let mut server = Smtpd::start(with_auth(Tls::None));
    let s = sender(&server.addr(), SmtpTls::None);
    let d = s.send("office-mail", &alert()).await.unwrap();
    assert!(d.detail.starts_with("SMTP 250"), "{}", d.detail);
    s.send("office-mail", &alert()).await.unwrap(); // a retry of the same alert
    let mut other = alert();
    other.key = "item-18".into();
    other.title = "另一条：某村低保评定不公引发质疑".into();
    s.send("office-mail", &other).await.unwrap();

    let got = server.wait_messages(3, Duration::from_secs(10));
    assert_eq!(got.len(), 3, "{got:?}");
    let m = &got[0];
    assert_eq!(m["accepted"], true);
    assert_eq!(m["auth_login"], "yuqing", "logged in with the configured user");
    assert_eq!(m["helo"], "finance.example.org");
    assert_eq!(m["mail_from"], "yuqing@finance.example.org");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["office@finance.example.org", "duty@finance.example.org"]));
    assert_eq!(m["from"], "yuqing@finance.example.org");
    assert_eq!(m["to"], serde_json::json!(["office@finance.example.org", "duty@finance.example.org"]));
    assert_eq!(m["subject"], "【舆情预警】重要 · 负面：上犹县某乡镇惠农补贴发放迟缓引发群众不满");
    assert_eq!(m["defects"], serde_json::json!([]), "Python's parser found the message malformed");
    assert!(!m["date"].as_str().unwrap_or("").is_empty(), "a Date header");

    let id = m["message_id"].as_str().unwrap();
    assert!(id.starts_with("<yuqing.") && id.ends_with("@finance.example.org>"), "{id}");
    assert_eq!(got[1]["message_id"], id, "a resent alert is the same message, for the receiver to drop");
    assert_ne!(got[2]["message_id"], id);
    assert_eq!(got[2]["subject"], "【舆情预警】重要 · 负面：另一条：某村低保评定不公引发质疑");

    assert_eq!(m["content_type"], "multipart/alternative");
    let text = part(m, "text/plain").expect("a text part");
    assert!(text.contains("【舆情预警】重要 · 负面"), "{text}");
    assert!(text.contains("有群众反映，今年的耕地地力保护补贴至今未到账。"), "{text}");
    assert!(text.contains("在 yuqing 中查看：https://yuqing.example.org/items/17"), "{text}");
    assert!(text.contains("值班：张三、李四"), "{text}");
    let html = part(m, "text/html").expect("an HTML part");
    assert!(html.contains("<a href=\"https://yuqing.example.org/items/17\">"), "{html}");
    assert!(html.contains("耕地地力保护补贴"), "{html}");
    for p in m["parts"].as_array().unwrap() {
        assert_eq!(p["charset"], "utf-8", "{p}");
    }
}

#[tokio::test]
async fn a_wrong_password_is_a_permanent_refusal() {
    let mut server = Smtpd::start(Options { auth: Some(("yuqing".into(), "another".into())), ..Options::default() });
    let e = sender(&server.addr(), SmtpTls::None).send("office-mail", &alert()).await.unwrap_err();
    assert!(matches!(e, NotifyError::Permanent { .. }), "{e}");
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    assert!(server.events(Duration::from_millis(300)).iter().all(|e| e["event"] != "message"));
}

#[tokio::test]
async fn starttls_is_negotiated_and_an_untrusted_certificate_stops_the_mail_before_the_password() {
    // The server offers STARTTLS with a self-signed certificate. yuqing trusts the
    // public roots only (webpki-roots), so it must upgrade, refuse the certificate, and
    // neither authenticate nor send. (A success over STARTTLS would need a way to add a
    // private CA, which the channel does not have.) The refusal is retryable: the alert
    // stays in the outbox until the server's certificate is fixed.
    let mut server = Smtpd::start(with_auth(Tls::Starttls));
    let e = sender(&server.addr(), SmtpTls::Starttls).send("office-mail", &alert()).await.unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    let events = server.events(Duration::from_millis(500));
    assert!(events.iter().any(|e| e["event"] == "starttls"), "the client asked for STARTTLS: {events:?}");
    assert!(!events.iter().any(|e| e["event"] == "auth" || e["event"] == "message"), "{events:?}");
}

#[tokio::test]
async fn starttls_required_but_not_offered_sends_nothing_in_the_clear() {
    let mut server = Smtpd::start(with_auth(Tls::None));
    let e = sender(&server.addr(), SmtpTls::Starttls).send("office-mail", &alert()).await.unwrap_err();
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    let events = server.events(Duration::from_millis(500));
    assert!(!events.iter().any(|e| e["event"] == "auth" || e["event"] == "message"), "{events:?}");
}

#[tokio::test]
async fn implicit_tls_with_an_untrusted_certificate_sends_nothing() {
    let mut server = Smtpd::start(with_auth(Tls::Implicit));
    let e = sender(&server.addr(), SmtpTls::Tls).send("office-mail", &alert()).await.unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    let events = server.events(Duration::from_millis(500));
    assert!(!events.iter().any(|e| e["event"] == "auth" || e["event"] == "message"), "{events:?}");
}
