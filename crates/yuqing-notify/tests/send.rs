mod common;

use base64::Engine as _;
use common::{alert, channel, Fake};
use hmac::{Hmac, Mac};
use std::time::Duration;
use yuqing_core::config::ChannelKind;
use yuqing_notify::{dingtalk_sign, feishu_sign, NotifyError, RateLimit, Sender};

const WECOM_OK: &str = r#"{"errcode":0,"errmsg":"ok"}"#;
const FEISHU_OK: &str = r#"{"code":0,"msg":"success","data":{}}"#;

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
}

fn sender(chs: &[yuqing_core::config::ChannelConfig], env: &'static [(&'static str, &'static str)]) -> Sender {
    Sender::new(reqwest::Client::new(), chs, env_of(env)).unwrap()
}

/// The signature computed here, separately from the crate: HMAC-SHA256, base64.
fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

#[test]
fn signature_vectors() {
    // Vectors computed with Python's hmac module, following the platforms' published
    // sample code (DingTalk: key = secret, message = "ts\nsecret"; Feishu: key =
    // "ts\nsecret", empty message).
    assert_eq!(dingtalk_sign("SEC0123456789abcdef", 1_700_000_000_000), "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=");
    assert_eq!(feishu_sign("feishu-secret", 1_700_000_000), "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=");
}

#[tokio::test]
async fn webhook_posts_json_with_idempotency_key() {
    let fake = Fake::start(204, "").await;
    let s = sender(&[channel("hook", ChannelKind::Webhook, Some(&fake.url("/yuqing")))], &[]);
    let d = s.send("hook", &alert()).await.unwrap();
    assert_eq!(d.channel, "hook");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/yuqing");
    assert_eq!(r.headers["idempotency-key"], "item-17");
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(r.body["key"], "item-17");
    assert_eq!(r.body["level"], "important");
    assert_eq!(r.body["tone"], "negative");
}

#[tokio::test]
async fn wecom_posts_markdown_to_the_bot_url() {
    let fake = Fake::start(200, WECOM_OK).await;
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&fake.url("/cgi-bin/webhook/send?key=abc-123")))], &[]);
    let d = s.send("wx", &alert()).await.unwrap();
    assert_eq!(d.detail, "errcode 0");
    let r = &fake.requests()[0];
    assert_eq!(r.query.as_deref(), Some("key=abc-123"));
    assert_eq!(r.body["msgtype"], "markdown");
    assert!(r.body["markdown"]["content"].as_str().unwrap().contains("【舆情预警】"));
    assert!(r.headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn dingtalk_signs_the_url() {
    let fake = Fake::start(200, r#"{"errcode":0,"errmsg":"ok"}"#).await;
    let mut ch = channel("dd", ChannelKind::Dingtalk, Some(&fake.url("/robot/send?access_token=tok123")));
    ch.secret_env = Some("DD_SECRET".into());
    let s = sender(&[ch], &[("DD_SECRET", "SECabc+/=xyz")]);
    s.send("dd", &alert()).await.unwrap();
    let r = &fake.requests()[0];
    let q: Vec<(String, String)> =
        url::form_urlencoded::parse(r.query.as_deref().unwrap().as_bytes()).into_owned().collect();
    assert_eq!(q[0], ("access_token".into(), "tok123".into()));
    assert_eq!(q[1].0, "timestamp");
    assert_eq!(q[2].0, "sign");
    let ts: i64 = q[1].1.parse().unwrap();
    assert!((chrono::Utc::now().timestamp_millis() - ts).abs() < 60_000, "milliseconds, now");
    assert_eq!(q[2].1, hmac_b64(b"SECabc+/=xyz", format!("{ts}\nSECabc+/=xyz").as_bytes()));
    // The base64 is URL-encoded in the raw query (no bare '+', '/' or '=').
    let raw_sign = r.query.as_deref().unwrap().split("sign=").nth(1).unwrap();
    assert!(!raw_sign.contains(['+', '/', '=']), "{raw_sign}");
    assert_eq!(r.body["msgtype"], "markdown");
    assert!(r.body["markdown"]["title"].is_string() && r.body["markdown"]["text"].is_string());
}

#[tokio::test]
async fn feishu_signs_the_body() {
    let fake = Fake::start(200, FEISHU_OK).await;
    let mut ch = channel("fs", ChannelKind::Feishu, Some(&fake.url("/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789")));
    ch.secret_env = Some("FS_SECRET".into());
    let s = sender(&[ch], &[("FS_SECRET", "fs-secret")]);
    s.send("fs", &alert()).await.unwrap();
    let b = &fake.requests()[0].body;
    assert_eq!(b["msg_type"], "interactive");
    assert!(b["card"]["elements"].is_array());
    let ts: i64 = b["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60, "seconds, now");
    assert_eq!(b["sign"].as_str().unwrap(), hmac_b64(format!("{ts}\nfs-secret").as_bytes(), b""));
}

#[tokio::test]
async fn feishu_without_secret_sends_no_signature() {
    let fake = Fake::start(200, r#"{"StatusCode":0,"StatusMessage":"success"}"#).await;
    let s = sender(&[channel("fs", ChannelKind::Feishu, Some(&fake.url("/hook/x")))], &[]);
    s.send("fs", &alert()).await.unwrap();
    let b = &fake.requests()[0].body;
    assert!(b.get("sign").is_none() && b.get("timestamp").is_none());
}

#[tokio::test]
async fn rate_limit_queues_and_loses_nothing() {
    // 3 per 300 ms stands in for WeCom's 20 a minute: the 4th and later wait their turn.
    let fake = Fake::start(200, WECOM_OK).await;
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&fake.url("/send?key=k")))], &[])
        .with_rate_limits("wx", &[RateLimit { count: 3, per: Duration::from_millis(300) }])
        .unwrap();
    let s = std::sync::Arc::new(s);
    assert_eq!(s.next_ready("wx"), Duration::ZERO);
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..7 {
        let s = s.clone();
        let mut a = alert();
        a.key = format!("item-{i}");
        a.title = format!("第{i}条");
        tasks.push(tokio::spawn(async move { s.send("wx", &a).await }));
        // Hand them over in a known order.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut waited = Vec::new();
    for t in tasks {
        waited.push(t.await.unwrap().unwrap().waited);
    }
    let elapsed = start.elapsed();
    let titles: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| {
            let c = r.body["markdown"]["content"].as_str().unwrap();
            c.split("**").nth(1).unwrap().to_string()
        })
        .collect();
    let want: Vec<String> = (0..7).map(|i| format!("第{i}条")).collect();
    assert_eq!(titles, want, "all sent, in order");
    // 7 sends at 3 per 300 ms need at least ~400 ms after the burst of 3.
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    assert!(waited[6] > Duration::from_millis(100), "{waited:?}");
    assert!(s.next_ready("wx") > Duration::ZERO);
}

#[tokio::test]
async fn classification_over_http() {
    let fake = Fake::start(200, WECOM_OK).await;
    // A fast limit, so that the rate-limited answers below do not slow the test down.
    let fast = [RateLimit::per_second(1000)];
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&fake.url("/send?key=k")))], &[])
        .with_rate_limits("wx", &fast)
        .unwrap();
    let cases: &[(u16, &str, bool)] = &[
        (500, "oops", true),
        (502, "", true),
        (429, "", true),
        (400, "bad", false),
        (404, "", false),
        (200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#, true),
        (200, r#"{"errcode":-1,"errmsg":"system busy"}"#, true),
        (200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#, false),
    ];
    for (status, body, retry) in cases {
        fake.reply_next(*status, body);
        let e = s.send("wx", &alert()).await.unwrap_err();
        assert_eq!(e.is_retryable(), *retry, "{status} {body}: {e}");
        match e {
            NotifyError::Retryable { channel, .. } | NotifyError::Permanent { channel, .. } => {
                assert_eq!(channel, "wx")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_platform_rate_limit_answer_makes_the_channel_wait() {
    let fake = Fake::start(200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#).await;
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&fake.url("/send?key=k")))], &[]);
    assert!(s.send("wx", &alert()).await.unwrap_err().is_retryable());
    // 20 a minute: the emptied bucket needs about 3 s for the next token.
    assert!(s.next_ready("wx") > Duration::from_secs(1), "{:?}", s.next_ready("wx"));
}

#[tokio::test]
async fn dingtalk_and_feishu_codes() {
    let fake = Fake::start(200, "{}").await;
    let s = sender(
        &[
            channel("dd", ChannelKind::Dingtalk, Some(&fake.url("/robot/send?access_token=t"))),
            channel("fs", ChannelKind::Feishu, Some(&fake.url("/hook/x"))),
        ],
        &[],
    );
    let fast = [RateLimit::per_second(1000)];
    let s = s.with_rate_limits("dd", &fast).unwrap().with_rate_limits("fs", &fast).unwrap();
    for (ch, body, retry) in [
        ("dd", r#"{"errcode":130101,"errmsg":"send too fast"}"#, true),
        ("dd", r#"{"errcode":310000,"errmsg":"sign not match"}"#, false),
        ("fs", r#"{"code":11232,"msg":"frequency limited"}"#, true),
        ("fs", r#"{"code":9499,"msg":"Bad Request"}"#, true),
        (
            "fs",
            r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#,
            false,
        ),
    ] {
        fake.reply_next(200, body);
        let e = s.send(ch, &alert()).await.unwrap_err();
        assert_eq!(e.is_retryable(), retry, "{ch} {body}: {e}");
    }
}

#[tokio::test]
async fn connection_refused_is_retryable_and_masked() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/cgi-bin/webhook/send?key=SUPERSECRETKEY42");
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&url))], &[]);
    let e = s.send("wx", &alert()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let text = format!("{e} {e:?}");
    assert!(!text.contains("SUPERSECRETKEY42"), "{text}");
}

#[tokio::test]
async fn secrets_echoed_by_the_platform_are_masked() {
    let fake = Fake::start(200, WECOM_OK).await;
    let mut ch = channel("dd", ChannelKind::Dingtalk, Some(&fake.url("/robot/send?access_token=TOKEN9876543")));
    ch.secret_env = Some("DD_SECRET".into());
    let s = sender(&[ch], &[("DD_SECRET", "SECverysecret")]);
    fake.reply_next(
        400,
        &format!(
            "bad request for {} token TOKEN9876543 secret SECverysecret",
            fake.url("/robot/send?access_token=TOKEN9876543")
        ),
    );
    let e = s.send("dd", &alert()).await.unwrap_err();
    assert!(!e.is_retryable());
    let text = format!("{e} {e:?} {s:?}");
    assert!(!text.contains("TOKEN9876543") && !text.contains("SECverysecret"), "{text}");
    assert!(text.contains("***"), "{text}");
}

#[tokio::test]
async fn unknown_channel_is_permanent() {
    let s = sender(&[], &[]);
    let e = s.send("nope", &alert()).await.unwrap_err();
    assert!(matches!(e, NotifyError::Permanent { .. }), "{e}");
}

#[test]
fn missing_secrets_are_all_reported() {
    let mut dd = channel("dd", ChannelKind::Dingtalk, Some("https://oapi.dingtalk.com/robot/send?access_token=t"));
    dd.secret_env = Some("DD_SECRET".into());
    let mut fs = channel("fs", ChannelKind::Feishu, Some("https://open.feishu.cn/open-apis/bot/v2/hook/x"));
    fs.secret_env = Some("FS_SECRET".into());
    let mut mail = channel("mail", ChannelKind::Email, None);
    mail.smtp = Some("smtp.example.org:587".into());
    mail.from = Some("yuqing@example.org".into());
    mail.to = vec!["office@example.org".into()];
    mail.username = Some("yuqing".into());
    mail.password_env = Some("SMTP_PW".into());
    let mut bad_mail = channel("bad-mail", ChannelKind::Email, None);
    bad_mail.smtp = Some("smtp.example.org:notaport".into());
    bad_mail.from = Some("not an address".into());
    let no_url = channel("hook", ChannelKind::Webhook, None);
    let chs = [dd, fs, mail, bad_mail, no_url];

    let err = Sender::new(reqwest::Client::new(), &chs, |_| None).unwrap_err();
    let NotifyError::Config { problems } = &err else { panic!("{err:?}") };
    let all = problems.join("\n");
    for want in
        ["DD_SECRET", "FS_SECRET", "SMTP_PW", "port `notaport`", "`from`", "`to`", "channel `hook`: needs `url`"]
    {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
    assert!(err.to_string().contains("DD_SECRET") && err.to_string().contains("SMTP_PW"));

    // With the variables set, only the broken channels remain.
    let env = |k: &str| ["DD_SECRET", "FS_SECRET", "SMTP_PW"].contains(&k).then(|| "s3cret-value".to_string());
    let err = Sender::new(reqwest::Client::new(), &chs, env).unwrap_err();
    let NotifyError::Config { problems } = &err else { panic!("{err:?}") };
    assert!(problems.iter().all(|p| p.contains("bad-mail") || p.contains("hook")), "{problems:?}");
    assert!(!err.to_string().contains("s3cret-value"));
}

#[tokio::test]
async fn wecom_default_is_20_a_minute() {
    let fake = Fake::start(200, WECOM_OK).await;
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&fake.url("/send?key=k")))], &[]);
    for _ in 0..20 {
        let d = s.send("wx", &alert()).await.unwrap();
        assert!(d.waited < Duration::from_millis(500), "the first 20 go at once");
    }
    // The 21st would wait about 3 s (60 s / 20); the outbox sees it without sending.
    let wait = s.next_ready("wx");
    assert!(wait > Duration::from_secs(2) && wait <= Duration::from_secs(3), "{wait:?}");
    assert_eq!(fake.requests().len(), 20);
}

#[tokio::test]
async fn a_long_alert_is_cut_not_rejected() {
    let fake = Fake::start(200, WECOM_OK).await;
    let s = sender(&[channel("wx", ChannelKind::Wecom, Some(&fake.url("/send?key=k")))], &[]);
    let mut a = alert();
    a.summary = "财政".repeat(5000);
    let d = s.send("wx", &a).await.unwrap();
    assert!(d.truncated);
    let content = fake.requests()[0].body["markdown"]["content"].as_str().unwrap().to_string();
    assert!(content.len() <= yuqing_notify::WECOM_MAX_BYTES);
    assert!(content.contains("https://yuqing.example.org/items/17"));
}
