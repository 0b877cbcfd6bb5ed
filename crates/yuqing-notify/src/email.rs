//! The e-mail channel: SMTP through lettre, with no TLS, STARTTLS or implicit TLS
//! (rustls with ring), a text and an HTML part in UTF-8, and a Message-ID derived from
//! the alert key so that a retried alert is the same message to mail clients.

use crate::send::error_chain;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use std::time::Duration;
use yuqing_core::config::{ChannelConfig, SmtpTls};

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct EmailTarget {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    domain: String,
}

impl EmailTarget {
    /// Builds the transport (no connection is made); every problem at once.
    pub(crate) fn new(ch: &ChannelConfig, password: Option<String>) -> Result<EmailTarget, Vec<String>> {
        let mut problems = Vec::new();
        let (host, port) = match ch.smtp.as_deref().and_then(|s| s.rsplit_once(':')) {
            Some((h, p)) if !h.is_empty() => match p.parse::<u16>() {
                Ok(port) => (h.trim_matches(|c| c == '[' || c == ']').to_string(), port),
                Err(_) => {
                    problems.push(format!("`smtp` port `{p}` is not a number"));
                    (String::new(), 0)
                }
            },
            _ => {
                problems.push("needs `smtp = \"host:port\"`".into());
                (String::new(), 0)
            }
        };
        let from = match ch.from.as_deref().map(str::parse::<Mailbox>) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                problems.push(format!("`from` is not an e-mail address: {e}"));
                None
            }
            None => {
                problems.push("needs `from`".into());
                None
            }
        };
        let mut to = Vec::new();
        for addr in &ch.to {
            match addr.parse::<Mailbox>() {
                Ok(m) => to.push(m),
                Err(e) => problems.push(format!("`to` entry `{addr}` is not an e-mail address: {e}")),
            }
        }
        if ch.to.is_empty() {
            problems.push("needs at least one `to` address".into());
        }
        let domain = from.as_ref().map(|m| m.email.domain().to_string()).unwrap_or_else(|| "yuqing.invalid".into());
        let builder = if problems.is_empty() {
            let b = match ch.tls.unwrap_or(SmtpTls::Starttls) {
                SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())),
                SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
                SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
            };
            match b {
                Ok(b) => Some(b),
                Err(e) => {
                    problems.push(format!("cannot set up TLS for `{host}`: {}", error_chain(&e)));
                    None
                }
            }
        } else {
            None
        };
        match (builder, from) {
            (Some(b), Some(from)) if problems.is_empty() => {
                let mut b = b.port(port).timeout(Some(SMTP_TIMEOUT)).hello_name(ClientId::Domain(domain.clone()));
                if let (Some(user), Some(pw)) = (&ch.username, password) {
                    b = b.credentials(Credentials::new(user.clone(), pw));
                }
                Ok(EmailTarget { transport: b.build(), from, to, domain })
            }
            _ => Err(problems),
        }
    }

    /// Sends; `Ok(server reply)` or `Err((retryable, reason))`.
    pub(crate) async fn send(
        &self,
        key: &str,
        subject: String,
        text: String,
        html: Option<String>,
    ) -> Result<String, (bool, String)> {
        let mut b =
            Message::builder().from(self.from.clone()).subject(subject).message_id(Some(message_id(key, &self.domain)));
        for to in &self.to {
            b = b.to(to.clone());
        }
        let body = match html {
            Some(html) => MultiPart::alternative_plain_html(text, html),
            None => MultiPart::mixed().singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text)),
        };
        let message = b.multipart(body).map_err(|e| (false, format!("cannot build the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(resp) => Ok(format!("SMTP {} {}", resp.code(), resp.message().collect::<Vec<_>>().join(" "))),
            Err(e) => {
                // 5xx replies (bad recipient, authentication refused) will not change by
                // retrying; 4xx replies, time-outs and connection failures may.
                let retry = !e.is_permanent() && !e.is_client() && !e.is_tls();
                Err((retry, format!("SMTP: {}", error_chain(&e))))
            }
        }
    }
}

/// `<yuqing.HASH@domain>`: the same key gives the same id, so clients thread and
/// de-duplicate a resent alert.
pub(crate) fn message_id(key: &str, domain: &str) -> String {
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    format!("<yuqing.{}@{domain}>", &hash[..32])
}
