//! STOMP headers ↔ core message (DESIGN.md §5), as RabbitMQ's STOMP plugin maps them
//! (`rabbit_stomp_util:message_properties/1`, `message_headers/1`) except where DESIGN.md
//! says otherwise. The full table, with every edge case, is `docs/mapping.md`; the same
//! table as data is `docs/mapping.yaml`, which a test below checks row by row.
//!
//! This module owns the *header* mapping only. The destination (→ exchange, routing key) is
//! [`super::destination`]'s; the frame headers the session adds to a MESSAGE
//! (`subscription`, `message-id`, `destination`, `ack`) and the rewriting of `/temp-queue/`
//! names in `reply-to` are the STOMP session's; the body is never looked at (so
//! `content-length` never decides text vs bytes).
//!
//! Deviations from RabbitMQ, and why:
//! - `timestamp` is milliseconds (JMS, ActiveMQ), not AMQP seconds: it sets the AMQP
//!   `timestamp` property (seconds) *and* the `JMSTimestamp` header (exact ms), DESIGN §5.
//! - ActiveMQ's `expires` (absolute ms) is accepted besides RabbitMQ's `expiration`
//!   (relative ms), and a MESSAGE carries both.
//! - `priority` must be an integer 0–255 (RabbitMQ ignores a bad one; a silent default
//!   hides client bugs) and `persistent` must be `true`/`false`.
//! - Headers of every AMQP type reach STOMP (RabbitMQ drops all but strings and ints,
//!   rabbitmq-stomp#143 `x-death`), typed through the `mqbridge-types` header so they come
//!   back with their exact types ([`super::typed`]).
//! - Headers with a reserved STOMP meaning (`destination`, `receipt`, queue arguments…)
//!   never become AMQP headers; an AMQP header whose name is taken in STOMP travels as
//!   `amqp-header-<name>` instead of overriding a frame header (rabbitmq-server PR#17451).

use std::collections::HashSet;
use std::fmt;

use bytes::Bytes;
use serde_json::{Map, Value as Json};

use super::destination::PREFIXES;
use super::typed;
use crate::message::{short_string, AMQPValue, BasicProperties, FieldTable, LongString, Message};

/// A STOMP header that cannot be mapped: which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// The STOMP header name (cut to 64 characters, with `…`, when longer).
    pub header: String,
    /// What is wrong with it.
    pub message: String,
}

impl MappingError {
    fn new(header: &str, message: impl Into<String>) -> Self {
        let mut name: String = header.chars().take(64).collect();
        if name.len() < header.len() {
            name.push('…');
        }
        MappingError {
            header: name,
            message: message.into(),
        }
    }
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad header '{}': {}", self.header, self.message)
    }
}

impl std::error::Error for MappingError {}

/// The companion header listing typed (non-UTF-8-string) header values: a JSON object,
/// STOMP header name → type descriptor (see `docs/mapping.md`, "Typed headers").
pub const TYPES_HEADER: &str = "mqbridge-types";

/// An AMQP header whose name is taken in STOMP travels as this prefix + its name.
pub const ESCAPE_PREFIX: &str = "amqp-header-";

/// The `JMSTimestamp` header (ms) that goes with the `timestamp` property (s), DESIGN §5.
pub const JMS_TIMESTAMP: &str = "JMSTimestamp";

/// In [`TYPES_HEADER`], `"timestamp": "seconds"` says the MESSAGE's `timestamp` came from
/// the AMQP `timestamp` property alone (no `JMSTimestamp` header to restore).
const TIMESTAMP_SECONDS: &str = "seconds";

/// STOMP headers that are AMQP basic properties (or the redelivered flag), both ways.
pub const PROPERTY_HEADERS: &[&str] = &[
    "content-type",
    "content-encoding",
    "correlation-id",
    "reply-to",
    "priority",
    "persistent",
    "expiration",
    "expires",
    "type",
    "timestamp",
    "amqp-message-id",
    "user-id",
    "app-id",
    "cluster-id",
    "redelivered",
];

/// STOMP headers with a reserved meaning on SEND/SUBSCRIBE/MESSAGE: framing, session,
/// acknowledgement, subscription and queue-declare options. They never become AMQP
/// headers (the session reads the ones it needs from the frame).
pub const RESERVED_HEADERS: &[&str] = &[
    "destination",
    "receipt",
    "transaction",
    "content-length",
    "ack",
    "id",
    "subscription",
    "message-id",
    "prefetch-count",
    "selector",
    "durable",
    "auto-delete",
    "exclusive",
    "x-queue-name",
    // Consumer options (RabbitMQ streams).
    "x-stream-offset",
    "x-stream-filter",
];

/// Queue arguments RabbitMQ's STOMP plugin takes from SEND/SUBSCRIBE headers for the
/// queue.declare it makes (`?HEADER_ARGUMENTS`, plus `x-overflow`): reserved too.
pub const QUEUE_ARGUMENT_HEADERS: &[&str] = &[
    "x-message-ttl",
    "x-expires",
    "x-max-length",
    "x-max-length-bytes",
    "x-overflow",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-priority",
    "x-queue-type",
    "x-max-age",
    "x-stream-max-segment-size-bytes",
    "x-stream-filter-size-bytes",
];

/// Reserved name prefixes: ActiveMQ consumer options (`activemq.prefetchSize`,
/// `activemq.subscriptionName`, …).
pub const RESERVED_PREFIXES: &[&str] = &["activemq."];

/// Is `name` reserved in STOMP (never an AMQP header)?
pub fn is_reserved(name: &str) -> bool {
    RESERVED_HEADERS.contains(&name)
        || QUEUE_ARGUMENT_HEADERS.contains(&name)
        || RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Is `name` unusable as the STOMP name of an ordinary AMQP header (it would be read back
/// as something else)?
fn is_taken(name: &str) -> bool {
    is_reserved(name)
        || PROPERTY_HEADERS.contains(&name)
        || name == TYPES_HEADER
        || name.starts_with(ESCAPE_PREFIX)
}

fn short(header: &str, value: &str) -> Result<amq_protocol::types::ShortString, MappingError> {
    short_string(value).map_err(|e| MappingError::new(header, e))
}

fn parse_u64(header: &str, value: &str, what: &str) -> Result<u64, MappingError> {
    value
        .parse::<u64>()
        .map_err(|_| MappingError::new(header, format!("'{value}' is not {what}")))
}

/// A STOMP SEND's headers (already unescaped, in frame order, repeated names allowed — first
/// wins) and body → core Message. `exchange`/`routing_key` come from the destination (see
/// [`super::destination`]); this fills the properties. `now_ms` (ms since the epoch) turns
/// ActiveMQ's absolute `expires` into AMQP's relative `expiration`.
pub fn to_message(
    headers: &[(String, String)],
    body: Bytes,
    exchange: &str,
    routing_key: &str,
    now_ms: u64,
) -> Result<Message, MappingError> {
    // First occurrence wins (STOMP 1.2 §"Repeated Header Entries").
    let mut seen = HashSet::new();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| seen.insert(k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let get = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);

    let types: Map<String, Json> = match get(TYPES_HEADER) {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Json::Object(map)) => map,
            _ => {
                return Err(MappingError::new(
                    TYPES_HEADER,
                    "expected a JSON object of header name → type",
                ))
            }
        },
    };

    let mut props = BasicProperties::default();
    let mut table = std::collections::BTreeMap::new();

    if let Some(v) = get("content-type") {
        props = props.with_content_type(short("content-type", v)?);
    }
    if let Some(v) = get("content-encoding") {
        props = props.with_content_encoding(short("content-encoding", v)?);
    }
    if let Some(v) = get("correlation-id") {
        props = props.with_correlation_id(short("correlation-id", v)?);
    }
    if let Some(v) = get("reply-to") {
        // `/reply-queue/X` names the AMQP queue X (what a MESSAGE showed for reply_to X);
        // any other destination stays a STOMP destination string, as RabbitMQ keeps it.
        let reply_to = v.strip_prefix("/reply-queue/").unwrap_or(v);
        props = props.with_reply_to(short("reply-to", reply_to)?);
    }
    if let Some(v) = get("priority") {
        let p = v.parse::<u8>().map_err(|_| {
            MappingError::new("priority", format!("'{v}' is not an integer from 0 to 255"))
        })?;
        props = props.with_priority(p);
    }
    // An absent header leaves the delivery mode unset, as RabbitMQ's STOMP plugin does
    // (AMQP reads that as transient too).
    let persistent = match get("persistent") {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        Some(v) => {
            return Err(MappingError::new(
                "persistent",
                format!("'{v}' is not true or false"),
            ))
        }
    };
    if let Some(persistent) = persistent {
        props = props.with_delivery_mode(if persistent { 2 } else { 1 });
    }
    // RabbitMQ's relative `expiration` wins over ActiveMQ's absolute `expires`: it needs no
    // clock, and a MESSAGE echoed back carries both.
    if let Some(v) = get("expiration") {
        parse_u64("expiration", v, "a TTL in milliseconds")?;
        props = props.with_expiration(short("expiration", v)?);
    } else if let Some(v) = get("expires") {
        let at = parse_u64("expires", v, "a time in ms since the epoch")?;
        if at != 0 {
            // Already past: TTL 0, the message expires unless a consumer takes it at once.
            let ttl = at.saturating_sub(now_ms).to_string();
            props = props.with_expiration(short("expires", &ttl)?);
        }
    }
    if let Some(v) = get("amqp-message-id") {
        props = props.with_message_id(short("amqp-message-id", v)?);
    }
    if let Some(v) = get("timestamp") {
        let ms = parse_u64("timestamp", v, "a time in ms since the epoch")?;
        props = props.with_timestamp(ms / 1000);
        let seconds_only = types.get("timestamp").and_then(Json::as_str) == Some(TIMESTAMP_SECONDS);
        if !seconds_only && get(JMS_TIMESTAMP).is_none() {
            let ms = i64::try_from(ms)
                .map_err(|_| MappingError::new("timestamp", format!("'{v}' is too large")))?;
            table.insert(
                short(JMS_TIMESTAMP, JMS_TIMESTAMP)?,
                AMQPValue::LongLongInt(ms),
            );
        }
    }
    if let Some(v) = get("type") {
        props = props.with_type(short("type", v)?);
    }
    if let Some(v) = get("user-id") {
        props = props.with_user_id(short("user-id", v)?);
    }
    if let Some(v) = get("app-id") {
        props = props.with_app_id(short("app-id", v)?);
    }
    if let Some(v) = get("cluster-id") {
        props = props.with_cluster_id(short("cluster-id", v)?);
    }

    for &(name, value) in &headers {
        if is_reserved(name) || PROPERTY_HEADERS.contains(&name) || name == TYPES_HEADER {
            continue;
        }
        let amqp_name = name.strip_prefix(ESCAPE_PREFIX).unwrap_or(name);
        let key = short_string(amqp_name)
            .map_err(|e| MappingError::new(name, format!("header name {e}")))?;
        let amqp_value = match types.get(name) {
            Some(descriptor) => {
                typed::decode_top(value, descriptor).map_err(|e| MappingError::new(name, e))?
            }
            None => AMQPValue::LongString(LongString::from(value)),
        };
        // `foo` and `amqp-header-foo` both name AMQP `foo`: the first in the frame wins, as
        // for repeated names.
        table.entry(key).or_insert(amqp_value);
    }
    if !table.is_empty() {
        props = props.with_headers(FieldTable::from(table));
    }
    Ok(Message::new(exchange, routing_key, props, body))
}

/// A core Message → the STOMP MESSAGE headers (besides `subscription`, `message-id`,
/// `destination` and `ack`, which the session adds). Uses the system clock for `expires`;
/// see [`from_message_at`].
pub fn from_message(message: &Message, redelivered: bool) -> Vec<(String, String)> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    from_message_at(message, redelivered, now_ms)
}

/// [`from_message`] with an explicit clock (ms since the epoch), for `expires` = now +
/// `expiration`: pure, so tests and the docs' examples are exact.
pub fn from_message_at(message: &Message, redelivered: bool, now_ms: u64) -> Vec<(String, String)> {
    let p = &message.properties;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: &str| out.push((k.to_owned(), v.to_owned()));
    let mut types = Map::new();

    if let Some(v) = p.content_type() {
        push("content-type", v.as_str());
    }
    if let Some(v) = p.content_encoding() {
        push("content-encoding", v.as_str());
    }
    if let Some(mode) = p.delivery_mode() {
        push("persistent", if *mode == 2 { "true" } else { "false" });
    }
    if let Some(v) = p.priority() {
        push("priority", &v.to_string());
    }
    if let Some(v) = p.correlation_id() {
        push("correlation-id", v.as_str());
    }
    if let Some(v) = p.reply_to() {
        // A plain AMQP queue name becomes `/reply-queue/X`, a destination a STOMP client can
        // SEND its reply to (RabbitMQ's `headers_post_process`).
        let v = v.as_str();
        if PREFIXES.iter().any(|prefix| v.starts_with(prefix)) {
            push("reply-to", v);
        } else {
            push("reply-to", &format!("/reply-queue/{v}"));
        }
    }
    if let Some(v) = p.expiration() {
        push("expiration", v.as_str());
        if let Ok(ttl) = v.as_str().parse::<u64>() {
            push("expires", &now_ms.saturating_add(ttl).to_string());
        }
    }
    if let Some(v) = p.message_id() {
        push("amqp-message-id", v.as_str());
    }

    // `timestamp` (ms) from `JMSTimestamp` when it is the exact form of the property,
    // else from the property (s × 1000) with a marker so no JMSTimestamp is invented on
    // the way back; a JMSTimestamp that does not match travels as an ordinary header.
    let jms_ts = match message.header(JMS_TIMESTAMP) {
        Some(AMQPValue::LongLongInt(ms)) => u64::try_from(*ms).ok(),
        _ => None,
    };
    let mut jms_ts_consumed = false;
    match (*p.timestamp(), jms_ts) {
        (Some(s), Some(ms)) if ms / 1000 == s => {
            push("timestamp", &ms.to_string());
            jms_ts_consumed = true;
        }
        (Some(s), _) => {
            push("timestamp", &s.saturating_mul(1000).to_string());
            types.insert(
                "timestamp".to_owned(),
                Json::String(TIMESTAMP_SECONDS.to_owned()),
            );
        }
        (None, _) => {}
    }
    if let Some(v) = p.kind() {
        push("type", v.as_str());
    }
    if let Some(v) = p.user_id() {
        push("user-id", v.as_str());
    }
    if let Some(v) = p.app_id() {
        push("app-id", v.as_str());
    }
    if let Some(v) = p.cluster_id() {
        push("cluster-id", v.as_str());
    }
    push("redelivered", if redelivered { "true" } else { "false" });

    if let Some(table) = p.headers() {
        for (name, value) in table {
            let name = name.as_str();
            if jms_ts_consumed && name == JMS_TIMESTAMP {
                continue;
            }
            let stomp_name = if is_taken(name) {
                format!("{ESCAPE_PREFIX}{name}")
            } else {
                name.to_owned()
            };
            let (text, descriptor) = typed::encode_top(value);
            if let Some(d) = descriptor {
                types.insert(stomp_name.clone(), d);
            }
            push(&stomp_name, &text);
        }
    }
    if !types.is_empty() {
        push(TYPES_HEADER, &Json::Object(types).to_string());
    }
    out
}

#[cfg(test)]
#[path = "stomp_tests.rs"]
mod tests;
