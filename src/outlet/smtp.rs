//! The SMTP outlet: a core message becomes a mail, sent through a pooled lettre transport.
//!
//! This module owns the SMTP connection pool, the translation of a
//! [`MailContent`](crate::mapping::smtp::MailContent) (decided by the pure
//! `mapping::smtp`, which documents parts and `X-` headers) into lettre types, and the
//! mapping of SMTP outcomes onto [`ErrorKind`]:
//!
//! | outcome | kind |
//! |---|---|
//! | `250` after DATA | `Ok(())`: the relay took responsibility, the source may be acked |
//! | a recipient or sender address lettre cannot parse, no recipient at all | `Rejected` (config/template output, retrying will not help) |
//! | `5xx` (e.g. `550` on RCPT TO, `554` on DATA) | `Rejected`, text `"550 <server text>"` |
//! | `4xx` (e.g. `451`, `452`) | `Refused`, text `"451 <server text>"` |
//! | `421` (service closing), `530`/`534`/`535`/`538` (authentication) | `Connection`: not the message's fault; reconnect with backoff instead of dead-lettering every message |
//! | connect refused, TLS failure, timeout, connection lost, unparsable reply | `Connection` |
//!
//! One mail to several recipients is one SMTP transaction: when the relay refuses one RCPT
//! TO, lettre aborts the whole transaction and the error above applies to the whole mail.
//!
//! Pool: lettre keeps up to `pool_size` connections and reuses them (one TCP connection for
//! consecutive mails). An idle pooled connection is closed after [`POOL_IDLE_TIMEOUT`],
//! shorter than common relays' idle timeouts; and because a relay may still close it first
//! (lettre#743: the next send fails with "incomplete response"), a send that fails that way
//! is retried once on a fresh connection. That retry happens before DATA was accepted, so it
//! cannot duplicate a mail.
//!
//! Sends are not pipelined: [`SmtpOutlet::send`] returns when the relay answered DATA, so
//! a route wanting several mails in flight calls it concurrently (it takes `&self`; the
//! pool hands each call its own connection).

use std::error::Error as _;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue, MIME_VERSION_1_0};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::client::ClientError;
use crate::mapping::smtp::{mail_content, MailContent, MailSpec, TextKind};
use crate::message::Message;

/// How long a pooled connection may stay idle before the pool closes it (see module doc).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Where and how to send mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS),
    /// `smtps://host:port` (TLS), as lettre's `from_url` reads it. Credentials in the URL
    /// are used unless `user`/`password` are given.
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The `From:` mailbox and envelope sender, e.g. `mqbridge <bridge@example.com>`.
    pub from: String,
    /// Most connections the pool keeps open at once.
    pub pool_size: u32,
    /// Timeout of each SMTP command (connect included).
    pub timeout: Duration,
}

/// A pooled SMTP client that sends core messages as mail.
#[derive(Clone)]
pub struct SmtpOutlet {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpOutlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpOutlet")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpOutlet {
    /// Build the transport. Checks the URL and the `from` address (config-time errors);
    /// does not connect: the first [`send`](Self::send) does.
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from = Mailbox::from_str(config.from.trim())
            .map_err(|e| format!("invalid from address '{}': {e}", config.from))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| format!("invalid SMTP url '{}': {e}", redact_url(&config.url)))?;
        match (&config.user, &config.password) {
            (Some(user), password) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.clone().unwrap_or_default(),
                ));
            }
            (None, Some(_)) => return Err("SMTP password given without a user".to_owned()),
            (None, None) => {}
        }
        let transport = builder
            .timeout(Some(config.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(config.pool_size.max(1))
                    .idle_timeout(POOL_IDLE_TIMEOUT),
            )
            .build();
        Ok(SmtpOutlet { transport, from })
    }

    /// Send `message` as the mail `mail` describes; `Ok` once the relay answered `250` to
    /// DATA. Errors as in the module doc.
    pub async fn send(&self, mail: &MailSpec, message: &Message) -> Result<(), ClientError> {
        let email = self.build(mail, message)?;
        match self.transport.send(email.clone()).await {
            Ok(_) => Ok(()),
            Err(e) if is_stale_pooled_connection(&e) => {
                tracing::debug!(error = %e, "SMTP: pooled connection was closed by the relay, retrying once");
                self.transport
                    .send(email)
                    .await
                    .map(|_| ())
                    .map_err(|e| smtp_error(&e))
            }
            Err(e) => Err(smtp_error(&e)),
        }
    }

    /// The lettre mail for one message (addresses parsed, parts and headers from the
    /// mapping).
    fn build(&self, mail: &MailSpec, message: &Message) -> Result<lettre::Message, ClientError> {
        let content = mail_content(mail, message);
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone());
        if mail.to.is_empty() && mail.cc.is_empty() && mail.bcc.is_empty() {
            return Err(ClientError::rejected("the mail has no recipient"));
        }
        for addr in &mail.to {
            builder = builder.to(parse_mailbox("to", addr)?);
        }
        for addr in &mail.cc {
            builder = builder.cc(parse_mailbox("cc", addr)?);
        }
        for addr in &mail.bcc {
            builder = builder.bcc(parse_mailbox("bcc", addr)?);
        }
        for (name, value) in &content.headers {
            // The mapping only produces valid names; a refusal here would be a mapping bug,
            // so the header is skipped rather than failing the mail.
            if let Ok(name) = HeaderName::new_from_ascii(name.clone()) {
                builder = builder.raw_header(HeaderValue::new(name, value.clone()));
            }
        }
        let built = match body_parts(content) {
            Body::Single(content_type, body) => builder
                .header(MIME_VERSION_1_0)
                .header(content_type)
                .body(body),
            Body::Multi(parts) => builder.multipart(parts),
        };
        built.map_err(|e| ClientError::rejected(format!("cannot build the mail: {e}")))
    }
}

enum Body {
    /// A mail that is one text part: its content type and encoded body.
    Single(ContentType, lettre::message::Body),
    Multi(MultiPart),
}

fn body_parts(content: MailContent) -> Body {
    let content_type = match content.text_kind {
        TextKind::Plain => ContentType::TEXT_PLAIN,
        TextKind::Html => ContentType::TEXT_HTML,
    };
    match content.attachment {
        None => {
            // lettre ends a single-part mail with an extra CRLF and the SMTP terminator adds
            // another, so the reader would see the text with blank lines appended. Sent as a
            // raw body without its final CRLF (the terminator's CRLF ends the last line),
            // the text arrives exactly. Only the bytes lettre itself encoded are sent.
            let body = lettre::message::Body::new(content.text);
            let encoding = body.encoding();
            let mut bytes = body.into_vec();
            if bytes.ends_with(b"\r\n") {
                bytes.truncate(bytes.len() - 2);
            }
            Body::Single(
                content_type,
                lettre::message::Body::dangerous_pre_encoded(bytes, encoding),
            )
        }
        Some(a) => {
            let text = SinglePart::builder()
                .content_type(content_type)
                .body(content.text);
            let content_type = ContentType::parse(&a.content_type).unwrap_or_else(|_| {
                ContentType::parse("application/octet-stream").unwrap_or(ContentType::TEXT_PLAIN)
            });
            let attachment = Attachment::new(a.filename).body(a.data.to_vec(), content_type);
            Body::Multi(MultiPart::mixed().singlepart(text).singlepart(attachment))
        }
    }
}

fn parse_mailbox(field: &str, address: &str) -> Result<Mailbox, ClientError> {
    Mailbox::from_str(address.trim())
        .map_err(|e| ClientError::rejected(format!("invalid {field} address '{address}': {e}")))
}

/// lettre#743: the relay closed a pooled connection; the next command reads EOF.
fn is_stale_pooled_connection(e: &lettre::transport::smtp::Error) -> bool {
    e.is_response() && source_text(e).contains("incomplete response")
}

fn source_text(e: &lettre::transport::smtp::Error) -> String {
    e.source().map(|s| s.to_string()).unwrap_or_default()
}

/// SMTP failure → [`ClientError`] (table in the module doc).
fn smtp_error(e: &lettre::transport::smtp::Error) -> ClientError {
    if let Some(code) = e.status() {
        let code = code.to_string();
        let text = format!("{code} {}", source_text(e).trim());
        return match code.as_str() {
            "421" => ClientError::connection(format!("SMTP relay closing: {text}")),
            "530" | "534" | "535" | "538" => {
                ClientError::connection(format!("SMTP authentication failed: {text}"))
            }
            _ if e.is_permanent() => ClientError::rejected(text),
            _ => ClientError::refused(text),
        };
    }
    ClientError::connection(format!("SMTP: {e}"))
}

/// The URL without its password, for error texts.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str, from: &str) -> SmtpConfig {
        SmtpConfig {
            url: url.into(),
            user: None,
            password: None,
            from: from.into(),
            pool_size: 2,
            timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn config_errors_are_texts() {
        let err = SmtpOutlet::new(&config("smtp://localhost:25", "not an address")).unwrap_err();
        assert!(err.contains("from address"), "{err}");
        let err = SmtpOutlet::new(&config("ftp://u:secret@host", "a@b.example")).unwrap_err();
        assert!(err.contains("invalid SMTP url"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(SmtpOutlet::new(&config("smtp://localhost:2525", "Bridge <a@b.example>")).is_ok());
        assert!(SmtpOutlet::new(&config("smtps://localhost:465", "a@b.example")).is_ok());
    }

    #[tokio::test]
    async fn subject_and_header_values_cannot_inject_headers() {
        use crate::message::{AMQPValue, BasicProperties, FieldTable, LongString, ShortString};
        let outlet = SmtpOutlet::new(&config("smtp://localhost:2525", "a@b.example")).unwrap();
        let mut headers = FieldTable::default();
        headers.insert(
            ShortString::from("h"),
            AMQPValue::LongString(LongString::from("v\r\nBcc: evil@x.example")),
        );
        let message = Message::new(
            "",
            "",
            BasicProperties::default().with_headers(headers),
            bytes::Bytes::from_static(b"body\r\n.\r\nRSET\r\n"),
        );
        let spec = MailSpec {
            to: vec!["to@b.example".into()],
            subject: "hi\r\nBcc: evil@x.example".into(),
            ..Default::default()
        };
        let mail = outlet.build(&spec, &message).unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(!raw.contains("\nBcc:"), "{raw}");
        assert_eq!(mail.envelope().to().len(), 1);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("smtp://u:p@h:25"), "smtp://u:***@h:25");
        assert_eq!(redact_url("smtp://h:25"), "smtp://h:25");
    }
}
