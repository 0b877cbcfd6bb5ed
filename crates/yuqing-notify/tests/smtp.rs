//! The e-mail channel against a minimal SMTP server written here (EHLO, AUTH PLAIN,
//! MAIL, RCPT, DATA, QUIT; no TLS), which records what it received.

mod common;

use base64::Engine as _;
use common::{alert, channel};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use yuqing_core::config::{ChannelKind, SmtpTls};
use yuqing_notify::{NotifyError, Sender};

#[derive(Debug, Default, Clone)]
struct Received {
    ehlo: String,
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

/// Starts the server; `rcpt_reply` is what it answers to RCPT (e.g. "250 OK").
async fn smtp_server(rcpt_reply: &'static str) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let store = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let mut cur = Received::default();
                w.write_all(b"220 fake.test ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: String = if upper.starts_with("EHLO") {
                        cur.ehlo = line[5..].to_string();
                        "250-fake.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN".into()
                    } else if upper.starts_with("AUTH PLAIN ") {
                        let raw = base64::engine::general_purpose::STANDARD.decode(line[11..].trim()).unwrap();
                        cur.auth = Some(String::from_utf8(raw).unwrap());
                        "235 2.7.0 Authentication successful".into()
                    } else if upper.starts_with("MAIL FROM:") {
                        cur.from = line[10..].to_string();
                        "250 OK".into()
                    } else if upper.starts_with("RCPT TO:") {
                        cur.to.push(line[8..].to_string());
                        rcpt_reply.into()
                    } else if upper == "DATA" {
                        w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                            data.push('\n');
                        }
                        cur.data = data;
                        store.lock().unwrap().push(cur.clone());
                        "250 OK queued as 42".into()
                    } else if upper == "QUIT" {
                        w.write_all(b"221 Bye\r\n").await.unwrap();
                        return;
                    } else if upper == "RSET" || upper == "NOOP" {
                        "250 OK".into()
                    } else {
                        "502 Command not implemented".into()
                    };
                    w.write_all(format!("{reply}\r\n").as_bytes()).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

fn mail_channel(port: u16) -> yuqing_core::config::ChannelConfig {
    let mut ch = channel("office-mail", ChannelKind::Email, None);
    ch.smtp = Some(format!("127.0.0.1:{port}"));
    ch.tls = Some(SmtpTls::None);
    ch.from = Some("yuqing@finance.example.org".into());
    ch.to = vec!["office@finance.example.org".into(), "duty@finance.example.org".into()];
    ch.username = Some("yuqing".into());
    ch.password_env = Some("YUQING_SMTP_PASSWORD".into());
    ch
}

fn mail_sender(port: u16) -> Sender {
    let env = |k: &str| (k == "YUQING_SMTP_PASSWORD").then(|| "pa55-w0rd".to_string());
    Sender::new(reqwest::Client::new(), &[mail_channel(port)], env).unwrap()
}

/// The value of a header (first occurrence, unfolded).
fn header(msg: &str, name: &str) -> Option<String> {
    let head = msg.split("\n\n").next().unwrap();
    let mut out: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = out.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim_start());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                out = Some(v.trim().to_string());
            }
        }
    }
    out
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words (what lettre writes for non-ASCII). The
/// words' bytes are joined before decoding UTF-8, as mail clients do.
fn decode_words(v: &str) -> String {
    let mut bytes = Vec::new();
    for word in v.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            bytes.extend(base64::engine::general_purpose::STANDARD.decode(&word[10..word.len() - 2]).unwrap());
        } else {
            bytes.extend_from_slice(word.as_bytes());
        }
    }
    String::from_utf8(bytes).unwrap()
}

fn decode_qp(s: &str) -> String {
    let mut bytes = Vec::new();
    for line in s.split('\n') {
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                bytes.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                bytes.push(b[i]);
                i += 1;
            }
        }
        if !soft {
            bytes.push(b'\n');
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// The decoded bodies of a multipart message's parts, with their content types.
fn parts(msg: &str) -> Vec<(String, String)> {
    let ct = header(msg, "Content-Type").unwrap();
    let boundary = ct.split("boundary=").nth(1).unwrap().trim_matches('"').to_string();
    let mut out = Vec::new();
    for chunk in msg.split(&format!("--{boundary}")).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.trim_start_matches('\n');
        let (head, body) = chunk.split_once("\n\n").unwrap();
        let ctype = header(&format!("{head}\n\n"), "Content-Type").unwrap();
        let cte = header(&format!("{head}\n\n"), "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
        let text = match cte.as_str() {
            "base64" => {
                let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(clean).unwrap()).unwrap()
            }
            "quoted-printable" => decode_qp(body.trim_end()),
            _ => body.to_string(),
        };
        out.push((ctype, text));
    }
    out
}

#[tokio::test]
async fn email_is_received_with_utf8_parts_and_a_stable_message_id() {
    let (port, got) = smtp_server("250 OK").await;
    let s = mail_sender(port);
    let d = s.send("office-mail", &alert()).await.unwrap();
    assert!(d.detail.starts_with("SMTP 250"), "{}", d.detail);
    s.send("office-mail", &alert()).await.unwrap(); // a retry of the same alert
    let mut other = alert();
    other.key = "item-18".into();
    s.send("office-mail", &other).await.unwrap();

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let m = &got[0];
    assert_eq!(m.ehlo, "finance.example.org");
    assert_eq!(m.auth.as_deref(), Some("\0yuqing\0pa55-w0rd"));
    assert!(m.from.contains("yuqing@finance.example.org"));
    assert_eq!(m.to.len(), 2);
    assert!(m.to[1].contains("duty@finance.example.org"));

    let msg = m.data.replace("\r\n", "\n");
    let subject = decode_words(&header(&msg, "Subject").unwrap());
    assert_eq!(subject, "【舆情预警】重要 · 负面：上犹县某乡镇惠农补贴发放迟缓引发群众不满");
    let id = header(&msg, "Message-ID").unwrap();
    assert!(id.starts_with("<yuqing.") && id.ends_with("@finance.example.org>"), "{id}");
    let id_retry = header(&got[1].data.replace("\r\n", "\n"), "Message-ID").unwrap();
    let id_other = header(&got[2].data.replace("\r\n", "\n"), "Message-ID").unwrap();
    assert_eq!(id, id_retry, "a resent alert is the same message");
    assert_ne!(id, id_other);
    assert!(header(&msg, "Content-Type").unwrap().starts_with("multipart/alternative"));

    let ps = parts(&msg);
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert!(ps[0].0.starts_with("text/plain") && ps[0].0.to_ascii_lowercase().contains("charset=utf-8"));
    assert!(ps[0].1.contains("【舆情预警】重要 · 负面"), "{}", ps[0].1);
    assert!(ps[0].1.contains("有群众反映，今年的耕地地力保护补贴至今未到账。"));
    assert!(ps[0].1.contains("在 yuqing 中查看：https://yuqing.example.org/items/17"));
    assert!(ps[0].1.contains("值班：张三、李四"));
    assert!(ps[1].0.starts_with("text/html"));
    assert!(ps[1].1.contains("<a href=\"https://yuqing.example.org/items/17\">"), "{}", ps[1].1);
}

#[tokio::test]
async fn smtp_replies_are_classified() {
    let (port, _) = smtp_server("550 5.1.1 No such user").await;
    let e = mail_sender(port).send("office-mail", &alert()).await.unwrap_err();
    assert!(matches!(e, NotifyError::Permanent { .. }), "{e}");
    assert!(!e.to_string().contains("pa55-w0rd"));

    let (port, _) = smtp_server("451 4.3.0 Try again later").await;
    let e = mail_sender(port).send("office-mail", &alert()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = mail_sender(port).send("office-mail", &alert()).await.unwrap_err();
    assert!(e.is_retryable(), "connection refused: {e}");
}
