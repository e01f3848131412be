//! Core message → mail: what the SMTP outlet (`outlet::smtp`) puts in a mail.
//!
//! This module owns the *decisions* (which part carries the body, which `X-` headers the mail
//! gets, what the attachment is called); `outlet::smtp` only turns a [`MailContent`] into
//! lettre types and sends it. Pure: no lettre, no I/O.
//!
//! # Body
//!
//! - [`MailSpec::body`] is `Some(text)` (a rendered template): `text` is the mail's text
//!   part (`text/plain; charset=utf-8`). The message body is attached as well when it is
//!   *binary* (below); a *text* message body is not repeated (the template decides whether
//!   it shows it).
//! - [`MailSpec::body`] is `None` and the message body is **text**: the body is the mail's
//!   only part, `text/plain; charset=utf-8` (`text/html; charset=utf-8` when the message's
//!   content type is `text/html`).
//! - Otherwise the body is **binary**: the mail is `multipart/mixed` with a short text part
//!   ("The message body (N bytes, TYPE) is attached as NAME.") and the body as an
//!   attachment (base64) whose content type is the message's `content_type` property
//!   (`application/octet-stream` when absent or not a valid MIME type).
//!
//! A body is **text** when its `content_type` is absent or `text/*` (any parameters), *and*
//! the bytes are valid UTF-8. A `text/*` body that is not UTF-8 (e.g. `charset=iso-8859-1`)
//! is binary, so its bytes and declared charset travel unchanged.
//!
//! The attachment's file name is the `filename` header (a string value) when present, with
//! any directory part (`/` or `\`) and control characters removed and cut to 100
//! characters; `message.bin` otherwise.
//!
//! # Headers
//!
//! Every property that is set, and every entry of the headers table, becomes one `X-` mail
//! header, in this order:
//!
//! | source | mail header |
//! |---|---|
//! | exchange, routing key (of the message as it reached the outlet) | `X-Mqbridge-Exchange`, `X-Mqbridge-Routing-Key` (always; the default exchange is the empty value) |
//! | `content_type`, `content_encoding`, `delivery_mode`, `priority`, `correlation_id`, `reply_to`, `expiration`, `message_id`, `timestamp`, `type`, `user_id`, `app_id`, `cluster_id` | `X-Mqbridge-Content-Type`, `X-Mqbridge-Content-Encoding`, `X-Mqbridge-Delivery-Mode`, `X-Mqbridge-Priority`, `X-Mqbridge-Correlation-Id`, `X-Mqbridge-Reply-To`, `X-Mqbridge-Expiration`, `X-Mqbridge-Message-Id`, `X-Mqbridge-Timestamp`, `X-Mqbridge-Type`, `X-Mqbridge-User-Id`, `X-Mqbridge-App-Id`, `X-Mqbridge-Cluster-Id` |
//! | headers-table entry `NAME` (sorted by name) | `X-Mqbridge-Header-NAME` (the name's case kept) |
//!
//! Values are text: strings as they are; numbers, booleans and timestamps (seconds since
//! the epoch) in decimal; byte arrays and non-UTF-8 strings in base64; tables and arrays as
//! JSON; void as the empty value (the same text as the STOMP mapping, `mapping::typed`).
//! Control characters (CR, LF, TAB, …) in a value become spaces, so a value can never start
//! a new header. The outlet hands the values to lettre's `HeaderValue::new`, which encodes
//! non-ASCII text as RFC 2047 encoded words (`=?utf-8?b?…?=`) and folds long values over
//! several lines at 76 characters; a mail reader decodes both back to the original text.
//!
//! A header-table name is dropped (not sent; the rest of the mail is) when the full mail
//! header name would be invalid: characters other than printable ASCII (33–126), a `:`, an
//! empty name, or a name longer than 76 characters in total (lettre's limit: the name must
//! fit on one line), i.e. a table name of more than 58 characters. Mail header names are
//! case-insensitive: of two table names that differ only in case, the first in sort order
//! is kept.

use bytes::Bytes;

use super::typed;
use crate::message::{AMQPValue, Message, ShortString};

/// Prefix of every mail header made from a message property.
pub const PROPERTY_PREFIX: &str = "X-Mqbridge-";
/// Prefix of every mail header made from a headers-table entry.
pub const HEADER_PREFIX: &str = "X-Mqbridge-Header-";
/// File name of the attachment when the message has no usable `filename` header.
pub const DEFAULT_FILENAME: &str = "message.bin";
/// The longest mail header name lettre accepts (one line, RFC 5322 §2.1.1 suggests 78).
pub const MAX_HEADER_NAME: usize = 76;

/// What a route asks the outlet to send for one message: recipients, subject and an
/// optional rendered body (templates are the route engine's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailSpec {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    /// Rendered text from a template; `None` = use the message body.
    pub body: Option<String>,
}

/// The kind of the mail's text part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// `text/plain; charset=utf-8`
    Plain,
    /// `text/html; charset=utf-8`
    Html,
}

/// The message body carried as an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub filename: String,
    /// The message's content type, or `application/octet-stream`; the outlet falls back to
    /// that as well when the MIME parser refuses this text.
    pub content_type: String,
    pub data: Bytes,
}

/// Everything the mail carries besides the envelope and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContent {
    pub text: String,
    pub text_kind: TextKind,
    /// `Some` = `multipart/mixed` with the text part first and this attachment second.
    pub attachment: Option<MailAttachment>,
    /// `X-` headers: (full header name, raw value), names valid, values without controls.
    pub headers: Vec<(String, String)>,
}

/// Decide the mail's parts and `X-` headers for `message` (see the module doc).
pub fn mail_content(spec: &MailSpec, message: &Message) -> MailContent {
    let headers = mail_headers(message);
    let content_type = message
        .properties
        .content_type()
        .as_ref()
        .map(|c| c.as_str());
    let text_body = body_as_text(content_type, &message.body);
    match (&spec.body, text_body) {
        (Some(rendered), Some(_)) => MailContent {
            text: rendered.clone(),
            text_kind: TextKind::Plain,
            attachment: None,
            headers,
        },
        (Some(rendered), None) => MailContent {
            text: rendered.clone(),
            text_kind: TextKind::Plain,
            attachment: Some(attachment(message, content_type)),
            headers,
        },
        (None, Some(text)) => MailContent {
            text: text.to_owned(),
            text_kind: text_kind(content_type),
            attachment: None,
            headers,
        },
        (None, None) => {
            let attachment = attachment(message, content_type);
            MailContent {
                text: format!(
                    "The message body ({} bytes, {}) is attached as {}.\n",
                    attachment.data.len(),
                    attachment.content_type,
                    attachment.filename
                ),
                text_kind: TextKind::Plain,
                attachment: Some(attachment),
                headers,
            }
        }
    }
}

/// The body as text when it is text (absent or `text/*` content type, valid UTF-8).
fn body_as_text<'a>(content_type: Option<&str>, body: &'a [u8]) -> Option<&'a str> {
    let textual = match content_type {
        None => true,
        Some(ct) => mime_essence(ct).starts_with("text/"),
    };
    if textual {
        std::str::from_utf8(body).ok()
    } else {
        None
    }
}

/// `type/subtype` in lower case, without parameters.
fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn text_kind(content_type: Option<&str>) -> TextKind {
    match content_type.map(mime_essence).as_deref() {
        Some("text/html") => TextKind::Html,
        _ => TextKind::Plain,
    }
}

fn attachment(message: &Message, content_type: Option<&str>) -> MailAttachment {
    let content_type = content_type
        .map(str::trim)
        .filter(|ct| is_plausible_mime(ct))
        .unwrap_or("application/octet-stream")
        .to_owned();
    MailAttachment {
        filename: filename(message),
        content_type,
        data: message.body.clone(),
    }
}

/// A cheap syntactic check (`token/token[;…]`, printable ASCII) so obvious junk never
/// reaches the MIME parser; the outlet still falls back if the parser refuses it.
fn is_plausible_mime(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim();
    let mut parts = essence.splitn(2, '/');
    let (Some(kind), Some(sub)) = (parts.next(), parts.next()) else {
        return false;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    token(kind) && token(sub) && ct.bytes().all(|b| (32..127).contains(&b))
}

/// The attachment's file name: the `filename` header without directories and controls.
fn filename(message: &Message) -> String {
    let raw = match message.header("filename") {
        Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        Some(AMQPValue::ShortString(s)) => s.as_str().to_owned(),
        _ => return DEFAULT_FILENAME.to_owned(),
    };
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        DEFAULT_FILENAME.to_owned()
    } else {
        clean.to_owned()
    }
}

/// The `X-` headers for `message` (see the module doc for names, order and values).
pub fn mail_headers(message: &Message) -> Vec<(String, String)> {
    let p = &message.properties;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut prop = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            out.push((format!("{PROPERTY_PREFIX}{name}"), clean_value(&v)));
        }
    };
    prop("Exchange", Some(message.exchange.clone()));
    prop("Routing-Key", Some(message.routing_key.clone()));
    let s = |v: &Option<ShortString>| v.as_ref().map(|s| s.as_str().to_owned());
    prop("Content-Type", s(p.content_type()));
    prop("Content-Encoding", s(p.content_encoding()));
    prop("Delivery-Mode", p.delivery_mode().map(|v| v.to_string()));
    prop("Priority", p.priority().map(|v| v.to_string()));
    prop("Correlation-Id", s(p.correlation_id()));
    prop("Reply-To", s(p.reply_to()));
    prop("Expiration", s(p.expiration()));
    prop("Message-Id", s(p.message_id()));
    prop("Timestamp", p.timestamp().map(|v| v.to_string()));
    prop("Type", s(p.kind()));
    prop("User-Id", s(p.user_id()));
    prop("App-Id", s(p.app_id()));
    prop("Cluster-Id", s(p.cluster_id()));

    let mut seen: Vec<String> = Vec::new();
    if let Some(table) = p.headers() {
        for (name, value) in table.inner() {
            let full = format!("{HEADER_PREFIX}{}", name.as_str());
            if name.as_str().is_empty() || !is_valid_header_name(&full) {
                continue;
            }
            let lower = full.to_ascii_lowercase();
            if seen.contains(&lower) {
                continue;
            }
            seen.push(lower);
            let (text, _descriptor) = typed::encode_top(value);
            out.push((full, clean_value(&text)));
        }
    }
    out
}

/// A mail header name lettre will write and a reader will parse: printable ASCII except
/// `:` (RFC 5322 §3.6.8 `ftext`), 1 to [`MAX_HEADER_NAME`] characters.
pub fn is_valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_HEADER_NAME
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// Control characters become spaces: a CR/LF in a value must never start a new header.
fn clean_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A quick syntax check of one recipient address (`local@domain`, or `Name <local@domain>`)
/// for config-time checks of fixed recipients; the outlet parses every address with
/// lettre's own parser at send time (an address it refuses is `Rejected`).
pub fn looks_like_address(address: &str) -> bool {
    let addr = match (address.rfind('<'), address.rfind('>')) {
        (Some(l), Some(r)) if l < r => &address[l + 1..r],
        (None, None) => address,
        _ => return false,
    };
    let addr = addr.trim();
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !addr.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{BasicProperties, FieldTable, LongString};

    fn msg(content_type: Option<&str>, body: &[u8]) -> Message {
        let mut props = BasicProperties::default();
        if let Some(ct) = content_type {
            props = props.with_content_type(ShortString::from(ct));
        }
        Message::new("ex", "rk", props, Bytes::copy_from_slice(body))
    }

    fn with_headers(mut m: Message, headers: &[(&str, AMQPValue)]) -> Message {
        let mut table = FieldTable::default();
        for (k, v) in headers {
            table.insert(ShortString::from(*k), v.clone());
        }
        m.properties = m.properties.clone().with_headers(table);
        m
    }

    fn header<'a>(c: &'a MailContent, name: &str) -> Option<&'a str> {
        c.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn utf8_body_without_content_type_is_the_text_part() {
        let c = mail_content(&MailSpec::default(), &msg(None, "grüße".as_bytes()));
        assert_eq!(c.text, "grüße");
        assert_eq!(c.text_kind, TextKind::Plain);
        assert!(c.attachment.is_none());
    }

    #[test]
    fn text_types_are_text_and_html_stays_html() {
        let c = mail_content(&MailSpec::default(), &msg(Some("text/csv"), b"a,b"));
        assert_eq!((c.text.as_str(), c.text_kind), ("a,b", TextKind::Plain));
        let c = mail_content(
            &MailSpec::default(),
            &msg(Some("Text/HTML; charset=utf-8"), b"<p>x</p>"),
        );
        assert_eq!(c.text_kind, TextKind::Html);
        assert!(c.attachment.is_none());
    }

    #[test]
    fn binary_body_is_an_attachment_with_its_content_type() {
        let c = mail_content(
            &MailSpec::default(),
            &msg(Some("application/pdf"), b"%PDF\x00\xff"),
        );
        let a = c.attachment.expect("attachment");
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.filename, "message.bin");
        assert_eq!(&a.data[..], b"%PDF\x00\xff");
        assert!(c.text.contains("6 bytes"), "{}", c.text);
        assert!(c.text.contains("message.bin"));
    }

    #[test]
    fn json_and_non_utf8_text_are_attachments() {
        let c = mail_content(&MailSpec::default(), &msg(Some("application/json"), b"{}"));
        assert_eq!(c.attachment.unwrap().content_type, "application/json");
        let c = mail_content(
            &MailSpec::default(),
            &msg(Some("text/plain; charset=iso-8859-1"), b"gr\xfc\xdfe"),
        );
        assert_eq!(
            c.attachment.unwrap().content_type,
            "text/plain; charset=iso-8859-1"
        );
        let c = mail_content(&MailSpec::default(), &msg(None, b"\xff\xfe"));
        assert_eq!(
            c.attachment.unwrap().content_type,
            "application/octet-stream"
        );
    }

    #[test]
    fn junk_content_type_falls_back_to_octet_stream() {
        for ct in ["garbage", "a/b c", "/x", "x/", "ü/x"] {
            let c = mail_content(&MailSpec::default(), &msg(Some(ct), b"\xff"));
            assert_eq!(
                c.attachment.unwrap().content_type,
                "application/octet-stream",
                "{ct}"
            );
        }
    }

    #[test]
    fn filename_header_is_used_without_directories() {
        let m = with_headers(
            msg(Some("image/png"), b"\x89PNG"),
            &[(
                "filename",
                AMQPValue::LongString(LongString::from("../../etc/pass\r\nwd.png")),
            )],
        );
        let c = mail_content(&MailSpec::default(), &m);
        assert_eq!(c.attachment.unwrap().filename, "passwd.png");
        let m = with_headers(
            msg(None, b"\xff"),
            &[("filename", AMQPValue::LongString(LongString::from("dir/")))],
        );
        let c = mail_content(&MailSpec::default(), &m);
        assert_eq!(c.attachment.unwrap().filename, DEFAULT_FILENAME);
    }

    #[test]
    fn template_body_replaces_text_and_keeps_binary_attachment() {
        let spec = MailSpec {
            body: Some("rendered".into()),
            ..Default::default()
        };
        let c = mail_content(&spec, &msg(None, b"plain"));
        assert_eq!(c.text, "rendered");
        assert!(c.attachment.is_none());
        let c = mail_content(&spec, &msg(Some("application/octet-stream"), b"\x00"));
        assert_eq!(c.text, "rendered");
        assert!(c.attachment.is_some());
    }

    #[test]
    fn properties_and_headers_become_x_headers() {
        let mut m = msg(Some("text/plain"), b"x");
        m.properties = m
            .properties
            .clone()
            .with_message_id("m-1".into())
            .with_correlation_id("c-1".into())
            .with_type("order".into())
            .with_app_id("app".into())
            .with_timestamp(1_700_000_000)
            .with_delivery_mode(2)
            .with_priority(5);
        let m = with_headers(
            m,
            &[
                ("orderId", AMQPValue::LongLongInt(42)),
                ("name", AMQPValue::LongString(LongString::from("Zoë"))),
                ("flag", AMQPValue::Boolean(true)),
                ("bytes", AMQPValue::ByteArray(vec![1u8, 2, 3].into())),
            ],
        );
        let c = mail_content(&MailSpec::default(), &m);
        assert_eq!(header(&c, "X-Mqbridge-Exchange"), Some("ex"));
        assert_eq!(header(&c, "X-Mqbridge-Routing-Key"), Some("rk"));
        assert_eq!(header(&c, "X-Mqbridge-Message-Id"), Some("m-1"));
        assert_eq!(header(&c, "X-Mqbridge-Correlation-Id"), Some("c-1"));
        assert_eq!(header(&c, "X-Mqbridge-Type"), Some("order"));
        assert_eq!(header(&c, "X-Mqbridge-App-Id"), Some("app"));
        assert_eq!(header(&c, "X-Mqbridge-Timestamp"), Some("1700000000"));
        assert_eq!(header(&c, "X-Mqbridge-Delivery-Mode"), Some("2"));
        assert_eq!(header(&c, "X-Mqbridge-Priority"), Some("5"));
        assert_eq!(header(&c, "X-Mqbridge-Content-Type"), Some("text/plain"));
        assert_eq!(header(&c, "X-Mqbridge-Header-orderId"), Some("42"));
        assert_eq!(header(&c, "X-Mqbridge-Header-name"), Some("Zoë"));
        assert_eq!(header(&c, "X-Mqbridge-Header-flag"), Some("true"));
        assert_eq!(header(&c, "X-Mqbridge-Header-bytes"), Some("AQID"));
        assert_eq!(header(&c, "X-Mqbridge-User-Id"), None);
    }

    #[test]
    fn invalid_names_are_dropped_and_controls_removed() {
        let long = "n".repeat(59);
        let ok = "n".repeat(58);
        let m = with_headers(
            msg(None, b""),
            &[
                ("has space", AMQPValue::Boolean(true)),
                ("co:lon", AMQPValue::Boolean(true)),
                ("ümlaut", AMQPValue::Boolean(true)),
                ("", AMQPValue::Boolean(true)),
                (long.as_str(), AMQPValue::Boolean(true)),
                (ok.as_str(), AMQPValue::Boolean(true)),
                ("Dup", AMQPValue::LongInt(1)),
                ("dup", AMQPValue::LongInt(2)),
                (
                    "inject",
                    AMQPValue::LongString(LongString::from("a\r\nBcc: evil@x")),
                ),
            ],
        );
        let c = mail_content(&MailSpec::default(), &m);
        let names: Vec<&str> = c
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with(HEADER_PREFIX))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            names,
            vec![
                "X-Mqbridge-Header-Dup".to_string(),
                "X-Mqbridge-Header-inject".to_string(),
                format!("X-Mqbridge-Header-{ok}"),
            ]
        );
        assert_eq!(
            header(&c, "X-Mqbridge-Header-inject"),
            Some("a  Bcc: evil@x")
        );
        for (n, v) in &c.headers {
            assert!(is_valid_header_name(n), "{n}");
            assert!(!v.chars().any(char::is_control), "{v:?}");
        }
    }

    #[test]
    fn address_check() {
        assert!(looks_like_address("a@b.example"));
        assert!(looks_like_address("Ann <a@b.example>"));
        assert!(!looks_like_address("nobody"));
        assert!(!looks_like_address("a @b"));
        assert!(!looks_like_address("<a@b"));
        assert!(!looks_like_address("@b"));
    }
}
