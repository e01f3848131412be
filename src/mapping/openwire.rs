//! JMS message ↔ core message (DESIGN.md §5), a symmetric pair:
//! [`to_message`] for a message a JMS producer sent, [`from_message`] for a delivery to a
//! JMS consumer. The table, with every edge case, is `docs/mapping.md` §6.
//!
//! | JMS | core (AMQP 0-9-1) |
//! |---|---|
//! | JMSMessageID | `message_id` (a JMS producer's `ID:…`; back to JMS as the MessageId's text) |
//! | JMSCorrelationID | `correlation_id` |
//! | JMSReplyTo queue `X` / topic `T` | `reply_to` `X` / `/topic/T` (temporary ones alike) |
//! | JMSType | `type` |
//! | JMSPriority | `priority` |
//! | JMSDeliveryMode PERSISTENT / NON_PERSISTENT | `delivery_mode` 2 / 1 |
//! | JMSExpiration (absolute ms) | `expiration` (relative ms) + header `JMSExpiration` (exact) |
//! | JMSTimestamp (ms) | `timestamp` (s) + header `JMSTimestamp` (ms, exact) |
//! | JMSXGroupID / JMSXGroupSeq / JMSXUserID | headers `JMSXGroupID` (string) / `JMSXGroupSeq` (i32) / `JMSXUserID` (string) |
//! | redelivery counter | `redelivered` flag + header `x-delivery-count` (the broker's) |
//! | user properties | headers table: boolean→bool, byte→i8, short→i16, int→i32, long→i64, float→f32, double→f64, String→longstr, char→u16, byte[]→bytes, null→void, map→table, list→array |
//! | message kind | header `x-jms-msg-type`: text, bytes, map, stream, object, message |
//! | TextMessage | UTF-8 body, `text/plain; charset=utf-8` |
//! | BytesMessage | raw body, `application/octet-stream` |
//! | MapMessage / StreamMessage | JSON object / array, `application/json`; Java types in header `x-jms-body-types` |
//! | ObjectMessage | the serialized bytes, `application/x-java-serialized-object` (never deserialized) |
//!
//! Back to JMS: `x-jms-msg-type` decides; without it a `text/*`, `application/json` or
//! `application/xml` content type gives a TextMessage, anything else (no content type
//! included) a BytesMessage. AMQP header types JMS lacks widen: u8→short,
//! u32→long, timestamp→long, decimal→String, short string→String, a non-UTF-8 long
//! string→byte[].
//!
//! The JMS side is the protocol-neutral [`JmsMessage`] of `message::jms`: the OpenWire
//! front-end (and later the JNI shim) converts its wire form to and from it.
//!
//! Pure: the clock comes in as `now_ms`.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Number, Value as Json};

use crate::message::jms::{JmsBody, JmsDestination, JmsKind, JmsValue};
use crate::message::{
    short_string, AMQPValue, BasicProperties, FieldArray, FieldTable, LongString, Message,
};

pub use crate::message::jms::JmsMessage;

/// Header naming the JMS message kind.
pub const MSG_TYPE: &str = "x-jms-msg-type";
/// Header holding the Java types of a Map/Stream body (JSON).
pub const BODY_TYPES: &str = "x-jms-body-types";
/// Exact JMSTimestamp (ms).
pub const JMS_TIMESTAMP: &str = "JMSTimestamp";
/// Exact JMSExpiration (absolute ms).
pub const JMS_EXPIRATION: &str = "JMSExpiration";
pub const JMSX_GROUP_ID: &str = "JMSXGroupID";
pub const JMSX_GROUP_SEQ: &str = "JMSXGroupSeq";
pub const JMSX_USER_ID: &str = "JMSXUserID";
/// The broker's redelivery header.
pub const DELIVERY_COUNT: &str = "x-delivery-count";

/// Headers that carry JMS headers, not user properties.
pub const RESERVED_HEADERS: &[&str] = &[
    MSG_TYPE,
    BODY_TYPES,
    JMS_TIMESTAMP,
    JMS_EXPIRATION,
    JMSX_GROUP_ID,
    JMSX_GROUP_SEQ,
    JMSX_USER_ID,
    DELIVERY_COUNT,
];

pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
pub const BYTES_CONTENT_TYPE: &str = "application/octet-stream";
pub const JSON_CONTENT_TYPE: &str = "application/json";
pub const OBJECT_CONTENT_TYPE: &str = "application/x-java-serialized-object";

/// A JMS message that cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    pub field: String,
    pub message: String,
}

impl MappingError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        MappingError {
            field: field.chars().take(64).collect(),
            message: message.into(),
        }
    }
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot map {}: {}", self.field, self.message)
    }
}

impl std::error::Error for MappingError {}

fn short(field: &str, v: &str) -> Result<crate::message::ShortString, MappingError> {
    short_string(v).map_err(|e| MappingError::new(field, e))
}

fn kind_name(kind: JmsKind) -> &'static str {
    match kind {
        JmsKind::Message => "message",
        JmsKind::Text => "text",
        JmsKind::Bytes => "bytes",
        JmsKind::Map => "map",
        JmsKind::Stream => "stream",
        JmsKind::Object => "object",
    }
}

fn kind_from_name(name: &str) -> Option<JmsKind> {
    Some(match name {
        "message" => JmsKind::Message,
        "text" => JmsKind::Text,
        "bytes" => JmsKind::Bytes,
        "map" => JmsKind::Map,
        "stream" => JmsKind::Stream,
        "object" => JmsKind::Object,
        _ => return None,
    })
}

/// The `reply_to` string of a JMS destination.
pub fn reply_to_string(d: &JmsDestination) -> String {
    if d.kind.is_topic() {
        format!("/topic/{}", d.name)
    } else {
        d.name.clone()
    }
}

/// The JMS destination of a `reply_to` string (`/topic/T` → topic, `/queue/X` → queue,
/// anything else → the queue of that name, as an AMQP reply queue).
pub fn reply_to_destination(text: &str) -> JmsDestination {
    if let Some(t) = text.strip_prefix("/topic/") {
        JmsDestination::topic(t)
    } else if let Some(q) = text.strip_prefix("/queue/") {
        JmsDestination::queue(q)
    } else {
        JmsDestination::queue(text)
    }
}

/// A JMS message → core message published to (`exchange`, `routing_key`).
pub fn to_message(
    jms: &JmsMessage,
    exchange: &str,
    routing_key: &str,
    now_ms: u64,
) -> Result<Message, MappingError> {
    let mut props = BasicProperties::default();
    let mut table: BTreeMap<crate::message::ShortString, AMQPValue> = BTreeMap::new();
    let kind = jms.kind;
    table.insert(
        short(MSG_TYPE, MSG_TYPE)?,
        AMQPValue::LongString(LongString::from(kind_name(kind))),
    );
    let (bytes, content_type) = match &jms.body {
        JmsBody::None => (Bytes::new(), None),
        JmsBody::Text(text) => (
            Bytes::copy_from_slice(text.as_bytes()),
            Some(TEXT_CONTENT_TYPE),
        ),
        JmsBody::Bytes(b) => (b.clone(), Some(BYTES_CONTENT_TYPE)),
        JmsBody::Object(b) => (b.clone(), Some(OBJECT_CONTENT_TYPE)),
        JmsBody::Map(entries) => {
            let mut obj = Map::new();
            let mut types = Map::new();
            for (k, v) in entries {
                let (j, t) = value_json(v);
                obj.insert(k.clone(), j);
                types.insert(k.clone(), t);
            }
            table.insert(
                short(BODY_TYPES, BODY_TYPES)?,
                AMQPValue::LongString(LongString::from(Json::Object(types).to_string())),
            );
            (
                Bytes::from(Json::Object(obj).to_string().into_bytes()),
                Some(JSON_CONTENT_TYPE),
            )
        }
        JmsBody::Stream(items) => {
            let (arr, types): (Vec<Json>, Vec<Json>) = items.iter().map(value_json).unzip();
            table.insert(
                short(BODY_TYPES, BODY_TYPES)?,
                AMQPValue::LongString(LongString::from(Json::Array(types).to_string())),
            );
            (
                Bytes::from(Json::Array(arr).to_string().into_bytes()),
                Some(JSON_CONTENT_TYPE),
            )
        }
    };
    if let Some(ct) = content_type {
        props = props.with_content_type(short("content_type", ct)?);
    }
    if let Some(id) = &jms.message_id {
        props = props.with_message_id(short("JMSMessageID", id)?);
    }
    if let Some(c) = &jms.correlation_id {
        props = props.with_correlation_id(short("JMSCorrelationID", c)?);
    }
    if let Some(r) = &jms.reply_to {
        props = props.with_reply_to(short("JMSReplyTo", &reply_to_string(r))?);
    }
    if let Some(t) = &jms.jms_type {
        props = props.with_type(short("JMSType", t)?);
    }
    props = props.with_priority(u8::try_from(jms.priority.clamp(0, 9)).unwrap_or(4));
    props = props.with_delivery_mode(if jms.persistent { 2 } else { 1 });
    if jms.expiration > 0 {
        let at = u64::try_from(jms.expiration).unwrap_or(0);
        props = props.with_expiration(short(
            "JMSExpiration",
            &at.saturating_sub(now_ms).to_string(),
        )?);
        table.insert(
            short(JMS_EXPIRATION, JMS_EXPIRATION)?,
            AMQPValue::LongLongInt(jms.expiration),
        );
    }
    if jms.timestamp != 0 {
        props = props.with_timestamp(u64::try_from(jms.timestamp / 1000).unwrap_or(0));
        table.insert(
            short(JMS_TIMESTAMP, JMS_TIMESTAMP)?,
            AMQPValue::LongLongInt(jms.timestamp),
        );
    }
    if let Some(g) = &jms.group_id {
        table.insert(
            short(JMSX_GROUP_ID, JMSX_GROUP_ID)?,
            AMQPValue::LongString(LongString::from(g.as_str())),
        );
    }
    if jms.group_sequence != 0 {
        table.insert(
            short(JMSX_GROUP_SEQ, JMSX_GROUP_SEQ)?,
            AMQPValue::LongInt(jms.group_sequence),
        );
    }
    if let Some(u) = &jms.user_id {
        table.insert(
            short(JMSX_USER_ID, JMSX_USER_ID)?,
            AMQPValue::LongString(LongString::from(u.as_str())),
        );
    }
    for (name, value) in &jms.properties {
        if RESERVED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let key = short(name, name)?;
        table.insert(key, value_amqp(value));
    }
    props = props.with_headers(FieldTable::from(table));
    Ok(Message::new(exchange, routing_key, props, bytes))
}

/// The redelivery counter of a delivery: the broker's `x-delivery-count` (deliveries before
/// this one), at least 1 when the broker flags it redelivered.
pub fn redelivery_count(message: &Message, redelivered: bool) -> i32 {
    let n = match message.header(DELIVERY_COUNT) {
        Some(v) => amqp_int(v).unwrap_or(0),
        None => 0,
    };
    let n = i32::try_from(n.max(0)).unwrap_or(i32::MAX);
    if redelivered {
        n.max(1)
    } else {
        n
    }
}

fn amqp_int(v: &AMQPValue) -> Option<i64> {
    Some(match v {
        AMQPValue::ShortShortInt(n) => i64::from(*n),
        AMQPValue::ShortShortUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::LongLongInt(n) => *n,
        _ => return None,
    })
}

/// A core message → the JMS message a consumer of `destination` receives. Its
/// `message_id` is the original JMSMessageID (the front-end adds its own wire ids); the
/// redelivery counter is left 0 (see [`redelivery_count`]).
pub fn from_message(message: &Message, destination: JmsDestination, now_ms: u64) -> JmsMessage {
    let p = &message.properties;
    let mut jms = JmsMessage {
        destination: Some(destination),
        ..JmsMessage::default()
    };
    let empty = FieldTable::default();
    let headers = p.headers().as_ref().unwrap_or(&empty).inner();
    let header_str = |name: &str| -> Option<String> {
        match headers.get(name)? {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok().map(str::to_owned),
            AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
            _ => None,
        }
    };
    let kind = header_str(MSG_TYPE)
        .and_then(|k| kind_from_name(&k))
        .unwrap_or_else(|| {
            let ct = p
                .content_type()
                .as_ref()
                .map(|c| c.as_str().to_ascii_lowercase())
                .unwrap_or_default();
            let mime = ct.split(';').next().unwrap_or("").trim();
            if mime.starts_with("text/") || mime == "application/json" || mime == "application/xml"
            {
                JmsKind::Text
            } else {
                JmsKind::Bytes
            }
        });
    let body = &message.body;
    let jms_body = match kind {
        JmsKind::Message => JmsBody::None,
        JmsKind::Text => JmsBody::Text(String::from_utf8_lossy(body).into_owned()),
        JmsKind::Bytes => JmsBody::Bytes(body.clone()),
        JmsKind::Object => JmsBody::Object(body.clone()),
        JmsKind::Map | JmsKind::Stream => {
            let types: Json = header_str(BODY_TYPES)
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Json::Null);
            match serde_json::from_slice::<Json>(body) {
                Ok(Json::Object(obj)) if kind == JmsKind::Map => JmsBody::Map(
                    obj.iter()
                        .map(|(k, v)| (k.clone(), json_value(v, types.get(k))))
                        .collect(),
                ),
                Ok(Json::Array(arr)) if kind == JmsKind::Stream => JmsBody::Stream(
                    arr.iter()
                        .enumerate()
                        .map(|(i, v)| json_value(v, types.get(i)))
                        .collect(),
                ),
                // Not the JSON the kind needs: the bytes as they are.
                _ => JmsBody::Bytes(body.clone()),
            }
        }
    };
    // A body of another kind (Map/Stream JSON that did not parse) sets the kind.
    jms.kind = jms_body.kind().unwrap_or(kind);
    jms.body = jms_body;
    jms.message_id = p.message_id().as_ref().map(|m| m.as_str().to_owned());
    jms.correlation_id = p.correlation_id().as_ref().map(|c| c.as_str().to_owned());
    jms.reply_to = p
        .reply_to()
        .as_ref()
        .map(|r| reply_to_destination(r.as_str()));
    jms.jms_type = p.kind().as_ref().map(|t| t.as_str().to_owned());
    jms.priority = p
        .priority()
        .map_or(4, |n| i8::try_from(n.min(9)).unwrap_or(4));
    jms.persistent = *p.delivery_mode() == Some(2);
    jms.timestamp = match headers.get(JMS_TIMESTAMP).and_then(amqp_int) {
        Some(ms) => ms,
        None => p
            .timestamp()
            .map_or(0, |s| i64::try_from(s).unwrap_or(0).saturating_mul(1000)),
    };
    jms.expiration = match headers.get(JMS_EXPIRATION).and_then(amqp_int) {
        Some(at) => at,
        None => p
            .expiration()
            .as_ref()
            .and_then(|e| e.as_str().parse::<u64>().ok())
            .map_or(0, |ttl| {
                i64::try_from(now_ms.saturating_add(ttl)).unwrap_or(i64::MAX)
            }),
    };
    jms.group_id = header_str(JMSX_GROUP_ID);
    jms.group_sequence = headers
        .get(JMSX_GROUP_SEQ)
        .and_then(amqp_int)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(0);
    jms.user_id = header_str(JMSX_USER_ID);
    jms.properties = headers
        .iter()
        .filter(|(k, _)| !RESERVED_HEADERS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str().to_owned(), amqp_value(v)))
        .collect();
    jms
}

/// A JMS property value → AMQP header value.
pub fn value_amqp(v: &JmsValue) -> AMQPValue {
    match v {
        JmsValue::Null => AMQPValue::Void,
        JmsValue::Bool(b) => AMQPValue::Boolean(*b),
        JmsValue::Byte(n) => AMQPValue::ShortShortInt(*n),
        JmsValue::Short(n) => AMQPValue::ShortInt(*n),
        JmsValue::Int(n) => AMQPValue::LongInt(*n),
        JmsValue::Long(n) => AMQPValue::LongLongInt(*n),
        JmsValue::Float(f) => AMQPValue::Float(*f),
        JmsValue::Double(f) => AMQPValue::Double(*f),
        JmsValue::Char(c) => AMQPValue::ShortUInt(*c),
        JmsValue::String(s) => AMQPValue::LongString(LongString::from(s.as_str())),
        JmsValue::Bytes(b) => AMQPValue::ByteArray(b.to_vec().into()),
        JmsValue::Map(entries) => {
            let mut t = FieldTable::default();
            for (k, v) in entries {
                if let Ok(key) = short_string(k) {
                    t.insert(key, value_amqp(v));
                }
            }
            AMQPValue::FieldTable(t)
        }
        JmsValue::List(items) => AMQPValue::FieldArray(FieldArray::from(
            items.iter().map(value_amqp).collect::<Vec<_>>(),
        )),
    }
}

/// An AMQP header value → JMS property value (types JMS lacks widen, see the module doc).
pub fn amqp_value(v: &AMQPValue) -> JmsValue {
    match v {
        AMQPValue::Boolean(b) => JmsValue::Bool(*b),
        AMQPValue::ShortShortInt(n) => JmsValue::Byte(*n),
        AMQPValue::ShortShortUInt(n) => JmsValue::Short(i16::from(*n)),
        AMQPValue::ShortInt(n) => JmsValue::Short(*n),
        AMQPValue::ShortUInt(n) => JmsValue::Char(*n),
        AMQPValue::LongInt(n) => JmsValue::Int(*n),
        AMQPValue::LongUInt(n) => JmsValue::Long(i64::from(*n)),
        AMQPValue::LongLongInt(n) => JmsValue::Long(*n),
        AMQPValue::Float(f) => JmsValue::Float(*f),
        AMQPValue::Double(f) => JmsValue::Double(*f),
        AMQPValue::DecimalValue(d) => {
            let scale = u32::from(d.scale);
            let value = i64::from(d.value);
            let text = if scale == 0 {
                value.to_string()
            } else {
                let pow = 10i64.pow(scale.min(18));
                let sign = if value < 0 { "-" } else { "" };
                let abs = value.unsigned_abs();
                let pow = pow.unsigned_abs();
                format!(
                    "{sign}{}.{:0width$}",
                    abs / pow,
                    abs % pow,
                    width = scale as usize
                )
            };
            JmsValue::String(text)
        }
        AMQPValue::ShortString(s) => JmsValue::String(s.as_str().to_owned()),
        AMQPValue::LongString(s) => match std::str::from_utf8(s.as_bytes()) {
            Ok(t) => JmsValue::String(t.to_owned()),
            Err(_) => JmsValue::Bytes(Bytes::copy_from_slice(s.as_bytes())),
        },
        AMQPValue::Timestamp(t) => JmsValue::Long(i64::try_from(*t).unwrap_or(i64::MAX)),
        AMQPValue::ByteArray(b) => JmsValue::Bytes(Bytes::copy_from_slice(b.as_slice())),
        AMQPValue::Void => JmsValue::Null,
        AMQPValue::FieldTable(t) => JmsValue::Map(
            t.inner()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), amqp_value(v)))
                .collect(),
        ),
        AMQPValue::FieldArray(a) => JmsValue::List(a.as_slice().iter().map(amqp_value).collect()),
    }
}

fn float_json(f: f64) -> Json {
    Number::from_f64(f).map_or_else(
        || {
            Json::String(if f.is_nan() {
                "NaN".into()
            } else if f > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            })
        },
        Json::Number,
    )
}

/// A Map/Stream body value → (natural JSON, its Java type descriptor).
fn value_json(v: &JmsValue) -> (Json, Json) {
    let tag = |t: &str| Json::String(t.to_string());
    match v {
        JmsValue::Null => (Json::Null, tag("null")),
        JmsValue::Bool(b) => (Json::Bool(*b), tag("boolean")),
        JmsValue::Byte(n) => (Json::from(*n), tag("byte")),
        JmsValue::Short(n) => (Json::from(*n), tag("short")),
        JmsValue::Int(n) => (Json::from(*n), tag("int")),
        JmsValue::Long(n) => (Json::from(*n), tag("long")),
        JmsValue::Float(f) => (float_json(f64::from(*f)), tag("float")),
        JmsValue::Double(f) => (float_json(*f), tag("double")),
        JmsValue::Char(c) => (
            Json::String(char::from_u32(u32::from(*c)).map_or_else(String::new, String::from)),
            Json::Object(Map::from_iter([("char".to_string(), Json::from(*c))])),
        ),
        JmsValue::String(s) => (Json::String(s.clone()), tag("string")),
        JmsValue::Bytes(b) => (Json::String(BASE64.encode(b)), tag("bytes")),
        JmsValue::Map(entries) => {
            let mut obj = Map::new();
            let mut types = Map::new();
            for (k, v) in entries {
                let (j, t) = value_json(v);
                obj.insert(k.clone(), j);
                types.insert(k.clone(), t);
            }
            (
                Json::Object(obj),
                Json::Object(Map::from_iter([("map".to_string(), Json::Object(types))])),
            )
        }
        JmsValue::List(items) => {
            let (arr, types): (Vec<Json>, Vec<Json>) = items.iter().map(value_json).unzip();
            (
                Json::Array(arr),
                Json::Object(Map::from_iter([("list".to_string(), Json::Array(types))])),
            )
        }
    }
}

fn json_float(j: &Json) -> f64 {
    match j {
        Json::Number(n) => n.as_f64().unwrap_or(0.0),
        Json::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or(0.0),
        },
        _ => 0.0,
    }
}

/// JSON (+ optional Java type descriptor) → JMS value. Without a descriptor: integers →
/// int when they fit, else long; other numbers → double; strings, booleans, null, objects
/// (map) and arrays (list) as they are.
fn json_value(j: &Json, descriptor: Option<&Json>) -> JmsValue {
    let int = |j: &Json| j.as_i64().unwrap_or(0);
    match descriptor {
        Some(Json::String(t)) => match (t.as_str(), j) {
            ("null", _) => return JmsValue::Null,
            ("boolean", Json::Bool(b)) => return JmsValue::Bool(*b),
            ("byte", _) if j.is_i64() => return JmsValue::Byte(i8::try_from(int(j)).unwrap_or(0)),
            ("short", _) if j.is_i64() => {
                return JmsValue::Short(i16::try_from(int(j)).unwrap_or(0))
            }
            ("int", _) if j.is_i64() => return JmsValue::Int(i32::try_from(int(j)).unwrap_or(0)),
            ("long", _) if j.is_i64() => return JmsValue::Long(int(j)),
            ("float", _) => return JmsValue::Float(json_float(j) as f32),
            ("double", _) => return JmsValue::Double(json_float(j)),
            ("string", Json::String(s)) => return JmsValue::String(s.clone()),
            ("bytes", Json::String(s)) => {
                if let Ok(b) = BASE64.decode(s) {
                    return JmsValue::Bytes(Bytes::from(b));
                }
            }
            _ => {}
        },
        Some(Json::Object(o)) => {
            if let Some(c) = o.get("char").and_then(Json::as_u64) {
                return JmsValue::Char(u16::try_from(c).unwrap_or(0));
            }
            if let (Some(types), Json::Object(obj)) = (o.get("map"), j) {
                return JmsValue::Map(
                    obj.iter()
                        .map(|(k, v)| (k.clone(), json_value(v, types.get(k))))
                        .collect(),
                );
            }
            if let (Some(types), Json::Array(arr)) = (o.get("list"), j) {
                return JmsValue::List(
                    arr.iter()
                        .enumerate()
                        .map(|(i, v)| json_value(v, types.get(i)))
                        .collect(),
                );
            }
        }
        _ => {}
    }
    match j {
        Json::Null => JmsValue::Null,
        Json::Bool(b) => JmsValue::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(v) => match i32::try_from(v) {
                Ok(i) => JmsValue::Int(i),
                Err(_) => JmsValue::Long(v),
            },
            None => JmsValue::Double(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => JmsValue::String(s.clone()),
        Json::Array(a) => JmsValue::List(a.iter().map(|v| json_value(v, None)).collect()),
        Json::Object(o) => JmsValue::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), json_value(v, None)))
                .collect(),
        ),
    }
}

#[cfg(test)]
#[path = "openwire_tests.rs"]
mod tests;
