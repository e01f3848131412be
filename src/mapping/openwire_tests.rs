//! Tests of the JMS ↔ core mapping: JMS → core → JMS keeps every header, property (with
//! its Java type) and body exactly; the AMQP side sees the documented properties.

use super::*;
use crate::message::jms::JmsDestinationKind;

const NOW: u64 = 1_700_000_000_000;

fn all_properties() -> Vec<(String, JmsValue)> {
    vec![
        ("pBool".into(), JmsValue::Bool(true)),
        ("pByte".into(), JmsValue::Byte(-7)),
        ("pShort".into(), JmsValue::Short(-300)),
        ("pInt".into(), JmsValue::Int(70_000)),
        ("pLong".into(), JmsValue::Long(1_234_567_890_123)),
        ("pFloat".into(), JmsValue::Float(1.5)),
        ("pDouble".into(), JmsValue::Double(-2.25)),
        ("pString".into(), JmsValue::String("héllo 😀".into())),
        ("pChar".into(), JmsValue::Char(u16::from(b'x'))),
    ]
}

fn jms(body: &JmsBody) -> JmsMessage {
    JmsMessage {
        destination: Some(JmsDestination::queue("q")),
        // The JMSMessageID of producer ID:host-1-2-3:1:1:1, sequence 5 (the wire MessageId's
        // text is checked in `openwire::jms`).
        message_id: Some("ID:host-1-2-3:1:1:1:5".into()),
        correlation_id: Some("corr-1".into()),
        persistent: true,
        expiration: 1_700_000_060_000,
        priority: 7,
        reply_to: Some(JmsDestination::queue("probe.reply")),
        timestamp: 1_700_000_000_123,
        jms_type: Some("probe-type".into()),
        group_id: Some("g".into()),
        group_sequence: 3,
        properties: all_properties(),
        // The kind the body is sent as (a plain Message without one).
        kind: body.kind().unwrap_or_default(),
        body: body.clone(),
        ..JmsMessage::default()
    }
}

fn round_trip(body: JmsBody) -> (Message, JmsMessage, JmsMessage) {
    let original = jms(&body);
    let core = to_message(&original, "", "q", NOW).unwrap();
    // Delivered 10 s later: JMSExpiration must not move.
    let back = from_message(&core, JmsDestination::queue("q"), NOW + 10_000);
    (core, original, back)
}

fn same_jms(a: &JmsMessage, b: &JmsMessage) {
    assert_eq!(a.kind, b.kind);
    // A MapMessage is a Java HashMap: compare without order.
    let sorted = |b: JmsBody| match b {
        JmsBody::Map(mut m) => {
            m.sort_by(|x, y| x.0.cmp(&y.0));
            JmsBody::Map(m)
        }
        other => other,
    };
    assert_eq!(sorted(a.body.clone()), sorted(b.body.clone()));
    let mut pa = a.properties.clone();
    let mut pb = b.properties.clone();
    pa.sort_by(|x, y| x.0.cmp(&y.0));
    pb.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(pa, pb);
    assert_eq!(a.message_id, b.message_id);
    assert_eq!(a.correlation_id, b.correlation_id);
    assert_eq!(a.persistent, b.persistent);
    assert_eq!(a.expiration, b.expiration);
    assert_eq!(a.priority, b.priority);
    assert_eq!(a.reply_to, b.reply_to);
    assert_eq!(a.timestamp, b.timestamp);
    assert_eq!(a.jms_type, b.jms_type);
    assert_eq!(a.group_id, b.group_id);
    assert_eq!(a.group_sequence, b.group_sequence);
}

#[test]
fn text_message_round_trips_and_reads_as_amqp() {
    let (core, original, back) = round_trip(JmsBody::Text("hello 😀 \0 é".into()));
    same_jms(&original, &back);
    let p = &core.properties;
    assert_eq!(&core.body[..], "hello 😀 \0 é".as_bytes());
    assert_eq!(
        p.content_type().as_ref().unwrap().as_str(),
        TEXT_CONTENT_TYPE
    );
    assert_eq!(
        p.message_id().as_ref().unwrap().as_str(),
        "ID:host-1-2-3:1:1:1:5"
    );
    assert_eq!(p.correlation_id().as_ref().unwrap().as_str(), "corr-1");
    assert_eq!(p.reply_to().as_ref().unwrap().as_str(), "probe.reply");
    assert_eq!(p.kind().as_ref().unwrap().as_str(), "probe-type");
    assert_eq!(*p.priority(), Some(7));
    assert_eq!(*p.delivery_mode(), Some(2));
    assert_eq!(p.expiration().as_ref().unwrap().as_str(), "60000");
    assert_eq!(*p.timestamp(), Some(1_700_000_000));
    assert_eq!(
        core.header(JMS_TIMESTAMP),
        Some(&AMQPValue::LongLongInt(1_700_000_000_123))
    );
    assert_eq!(core.header("pInt"), Some(&AMQPValue::LongInt(70_000)));
    assert_eq!(core.header("pShort"), Some(&AMQPValue::ShortInt(-300)));
    assert_eq!(core.header("pByte"), Some(&AMQPValue::ShortShortInt(-7)));
    assert_eq!(
        core.header("pLong"),
        Some(&AMQPValue::LongLongInt(1_234_567_890_123))
    );
    assert_eq!(core.header("pBool"), Some(&AMQPValue::Boolean(true)));
    assert_eq!(core.header("pFloat"), Some(&AMQPValue::Float(1.5)));
    assert_eq!(core.header("pDouble"), Some(&AMQPValue::Double(-2.25)));
    assert_eq!(core.header("pChar"), Some(&AMQPValue::ShortUInt(120)));
    assert_eq!(
        core.header(MSG_TYPE),
        Some(&AMQPValue::LongString("text".into()))
    );
}

#[test]
fn every_body_kind_round_trips() {
    let map = vec![
        ("i".to_string(), JmsValue::Int(42)),
        ("l".to_string(), JmsValue::Long(42)),
        ("s".to_string(), JmsValue::Short(42)),
        ("b".to_string(), JmsValue::Byte(1)),
        ("f".to_string(), JmsValue::Float(f32::NAN.abs().min(0.5))),
        ("d".to_string(), JmsValue::Double(f64::INFINITY)),
        ("t".to_string(), JmsValue::String("x".into())),
        ("z".to_string(), JmsValue::Bool(false)),
        ("c".to_string(), JmsValue::Char(0x263A)),
        (
            "y".to_string(),
            JmsValue::Bytes(Bytes::from_static(&[0, 1, 255])),
        ),
        ("n".to_string(), JmsValue::Null),
    ];
    let stream = vec![
        JmsValue::String("s".into()),
        JmsValue::Int(42),
        JmsValue::Bool(false),
        JmsValue::Long(7),
    ];
    for body in [
        JmsBody::Bytes(Bytes::from_static(&[1, 2, 3, 0, 255])),
        JmsBody::Map(map.clone()),
        JmsBody::Stream(stream),
        JmsBody::Object(Bytes::from_static(&[0xac, 0xed, 0, 5])),
        JmsBody::None,
    ] {
        let (core, original, back) = round_trip(body.clone());
        same_jms(&original, &back);
        if let JmsBody::Map(_) = body {
            assert_eq!(
                core.properties.content_type().as_ref().unwrap().as_str(),
                JSON_CONTENT_TYPE
            );
            let json: Json = serde_json::from_slice(&core.body).unwrap();
            assert_eq!(json["i"], Json::from(42));
            assert_eq!(json["d"], Json::from("inf"));
        }
    }
}

fn amqp(content_type: Option<&str>, body: &'static [u8]) -> Message {
    let mut p = BasicProperties::default();
    if let Some(ct) = content_type {
        p = p.with_content_type(ct.into());
    }
    Message::new("", "q", p, Bytes::from_static(body))
}

#[test]
fn amqp_messages_become_text_or_bytes_by_content_type() {
    for (ct, kind) in [
        (Some("text/plain"), JmsKind::Text),
        (Some("application/json"), JmsKind::Text),
        (Some("application/xml; charset=utf-8"), JmsKind::Text),
        (Some("application/octet-stream"), JmsKind::Bytes),
        (None, JmsKind::Bytes),
    ] {
        let jms = from_message(&amqp(ct, b"{\"a\":1}"), JmsDestination::queue("q"), NOW);
        assert_eq!(jms.kind, kind, "{ct:?}");
    }
    let jms = from_message(
        &amqp(Some("text/plain"), b"hi"),
        JmsDestination::queue("q"),
        NOW,
    );
    assert_eq!(jms.body, JmsBody::Text("hi".into()));
    // No JMSTimestamp header: the AMQP seconds; no priority: 4.
    assert_eq!(jms.timestamp, 0);
    assert_eq!(jms.priority, 4);
}

#[test]
fn amqp_header_types_widen_into_java_types_and_reply_to_topics_map_back() {
    let mut t = FieldTable::default();
    t.insert("u8".into(), AMQPValue::ShortShortUInt(200));
    t.insert("u32".into(), AMQPValue::LongUInt(4_000_000_000));
    t.insert("ts".into(), AMQPValue::Timestamp(1_700_000_000));
    t.insert(
        "dec".into(),
        AMQPValue::DecimalValue(amq_protocol::types::DecimalValue {
            scale: 2,
            value: 1234,
        }),
    );
    t.insert(DELIVERY_COUNT.into(), AMQPValue::LongLongInt(2));
    let p = BasicProperties::default()
        .with_headers(t)
        .with_reply_to("/topic/answers".into())
        .with_expiration("5000".into());
    let core = Message::new("amq.topic", "a.b", p, Bytes::new());
    let jms = from_message(&core, JmsDestination::topic("a.b"), NOW);
    let props = jms.properties.clone();
    let get = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("u8"), Some(JmsValue::Short(200)));
    assert_eq!(get("u32"), Some(JmsValue::Long(4_000_000_000)));
    assert_eq!(get("ts"), Some(JmsValue::Long(1_700_000_000)));
    assert_eq!(get("dec"), Some(JmsValue::String("12.34".into())));
    assert_eq!(get(DELIVERY_COUNT), None);
    assert_eq!(jms.reply_to, Some(JmsDestination::topic("answers")));
    assert_eq!(jms.expiration, i64::try_from(NOW).unwrap() + 5000);
    assert_eq!(redelivery_count(&core, true), 2);
    assert_eq!(redelivery_count(&amqp(None, b""), true), 1);
    assert_eq!(redelivery_count(&amqp(None, b""), false), 0);
}

#[test]
fn topic_reply_to_round_trips() {
    let mut m = jms(&JmsBody::Text("x".into()));
    m.reply_to = Some(JmsDestination::topic("t.x"));
    let core = to_message(&m, "amq.topic", "t", NOW).unwrap();
    assert_eq!(
        core.properties.reply_to().as_ref().unwrap().as_str(),
        "/topic/t.x"
    );
    let back = from_message(&core, JmsDestination::topic("t"), NOW);
    assert_eq!(back.reply_to, Some(JmsDestination::topic("t.x")));
}

// ---- docs/mapping-openwire.yaml: the documented table, checked row by row ----

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    now_ms: u64,
    rows: Vec<Row>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    jms: String,
    #[serde(default)]
    example_jms: Json,
    amqp: String,
    #[serde(default)]
    example_amqp: Json,
    #[serde(default)]
    amqp_type: Option<String>,
    direction: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

fn b64(j: &Json) -> Bytes {
    Bytes::from(BASE64.decode(j.as_str().unwrap()).unwrap())
}

fn destination(text: &str) -> JmsDestination {
    match text.split_once("://") {
        Some(("queue", n)) => JmsDestination::queue(n),
        Some(("topic", n)) => JmsDestination::topic(n),
        _ => panic!("destination {text}"),
    }
}

/// The JMS property value of a `property:<type>` row.
fn property_value(java: &str, j: &Json) -> JmsValue {
    match java {
        "boolean" => JmsValue::Bool(j.as_bool().unwrap()),
        "byte" => JmsValue::Byte(i8::try_from(j.as_i64().unwrap()).unwrap()),
        "short" => JmsValue::Short(i16::try_from(j.as_i64().unwrap()).unwrap()),
        "int" => JmsValue::Int(i32::try_from(j.as_i64().unwrap()).unwrap()),
        "long" => JmsValue::Long(j.as_i64().unwrap()),
        "float" => JmsValue::Float(j.as_f64().unwrap() as f32),
        "double" => JmsValue::Double(j.as_f64().unwrap()),
        "String" => JmsValue::String(j.as_str().unwrap().to_string()),
        "char" => JmsValue::Char(u16::try_from(j.as_u64().unwrap()).unwrap()),
        "byte[]" => JmsValue::Bytes(b64(j)),
        "null" => JmsValue::Null,
        other => panic!("java type {other}"),
    }
}

/// Build the JMS message of a row.
fn row_message(row: &Row) -> JmsMessage {
    let mut m = JmsMessage {
        destination: Some(JmsDestination::queue("q")),
        ..JmsMessage::default()
    };
    let j = &row.example_jms;
    let (what, arg) = row.jms.split_once(':').unwrap_or((row.jms.as_str(), ""));
    match what {
        "JMSCorrelationID" => m.correlation_id = j.as_str().map(str::to_owned),
        "JMSType" => m.jms_type = j.as_str().map(str::to_owned),
        "JMSPriority" => m.priority = i8::try_from(j.as_i64().unwrap()).unwrap(),
        "JMSDeliveryMode" => m.persistent = j.as_i64() == Some(2),
        "JMSReplyTo" => m.reply_to = Some(destination(j.as_str().unwrap())),
        "JMSMessageID" => m.message_id = j.as_str().map(str::to_owned),
        "JMSTimestamp" => m.timestamp = j.as_i64().unwrap(),
        "JMSExpiration" => m.expiration = j.as_i64().unwrap(),
        "JMSXGroupID" => m.group_id = j.as_str().map(str::to_owned),
        "JMSXGroupSeq" => m.group_sequence = i32::try_from(j.as_i64().unwrap()).unwrap(),
        "JMSXUserID" => m.user_id = j.as_str().map(str::to_owned),
        "property" => m.properties = vec![("p".to_string(), property_value(arg, j))],
        "body" => {
            let body = match arg {
                "text" => JmsBody::Text(j.as_str().unwrap().to_string()),
                "bytes" => JmsBody::Bytes(b64(j)),
                "object" => JmsBody::Object(b64(j)),
                other => panic!("body kind {other}"),
            };
            m.kind = body.kind().unwrap();
            m.body = body;
        }
        "kind" => {
            let body = match arg {
                "message" => JmsBody::None,
                "map" => JmsBody::Map(Vec::new()),
                "stream" => JmsBody::Stream(Vec::new()),
                other => panic!("kind {other}"),
            };
            m.kind = kind_from_name(arg).unwrap();
            m.body = body;
        }
        other => panic!("jms field {other}"),
    }
    m
}

/// The row's field of a JMS message, as JSON (the inverse of `row_message`).
fn jms_field(row: &Row, m: &JmsMessage) -> Json {
    let (what, arg) = row.jms.split_once(':').unwrap_or((row.jms.as_str(), ""));
    let s = |v: &Option<String>| v.clone().map_or(Json::Null, Json::String);
    match what {
        "JMSCorrelationID" => s(&m.correlation_id),
        "JMSType" => s(&m.jms_type),
        "JMSPriority" => Json::from(m.priority),
        "JMSDeliveryMode" => Json::from(if m.persistent { 2 } else { 1 }),
        "JMSReplyTo" => m.reply_to.as_ref().map_or(Json::Null, |d| {
            let scheme = match d.kind {
                JmsDestinationKind::Queue => "queue://",
                JmsDestinationKind::Topic => "topic://",
                JmsDestinationKind::TempQueue => "temp-queue://",
                JmsDestinationKind::TempTopic => "temp-topic://",
            };
            Json::String(format!("{scheme}{}", d.name))
        }),
        "JMSMessageID" => m.message_id.clone().map_or(Json::Null, Json::String),
        "JMSTimestamp" => Json::from(m.timestamp),
        "JMSExpiration" => Json::from(m.expiration),
        "JMSXGroupID" => s(&m.group_id),
        "JMSXGroupSeq" => Json::from(m.group_sequence),
        "JMSXUserID" => s(&m.user_id),
        "property" => {
            let v = m.property("p").cloned().expect("property p");
            assert_eq!(v, property_value(arg, &row.example_jms), "{}", row.jms);
            row.example_jms.clone()
        }
        "body" => match m.body.clone() {
            JmsBody::Text(t) => Json::String(t),
            JmsBody::Bytes(b) | JmsBody::Object(b) => Json::String(BASE64.encode(b)),
            other => panic!("{other:?}"),
        },
        "kind" => {
            assert_eq!(kind_name(m.kind), arg);
            Json::Null
        }
        other => panic!("jms field {other}"),
    }
}

/// The AMQP value a row names, as JSON.
fn amqp_field(row: &Row, m: &Message) -> Json {
    let p = &m.properties;
    let s = |v: Option<&crate::message::ShortString>| {
        v.map_or(Json::Null, |x| Json::String(x.as_str().to_owned()))
    };
    match row.amqp.split_once(':') {
        Some(("property", name)) => match name {
            "correlation_id" => s(p.correlation_id().as_ref()),
            "type" => s(p.kind().as_ref()),
            "reply_to" => s(p.reply_to().as_ref()),
            "message_id" => s(p.message_id().as_ref()),
            "content_type" => s(p.content_type().as_ref()),
            "expiration" => s(p.expiration().as_ref()),
            "priority" => p.priority().map_or(Json::Null, Json::from),
            "delivery_mode" => p.delivery_mode().map_or(Json::Null, Json::from),
            "timestamp" => p.timestamp().map_or(Json::Null, Json::from),
            other => panic!("property {other}"),
        },
        Some(("header", name)) => {
            let v = m.header(name).unwrap_or_else(|| panic!("header {name}"));
            let expected = match row.amqp_type.as_deref().unwrap_or("longstr") {
                "i8" => AMQPValue::ShortShortInt(
                    i8::try_from(row.example_amqp.as_i64().unwrap()).unwrap(),
                ),
                "i16" => {
                    AMQPValue::ShortInt(i16::try_from(row.example_amqp.as_i64().unwrap()).unwrap())
                }
                "i32" => {
                    AMQPValue::LongInt(i32::try_from(row.example_amqp.as_i64().unwrap()).unwrap())
                }
                "i64" => AMQPValue::LongLongInt(row.example_amqp.as_i64().unwrap()),
                "u16" => {
                    AMQPValue::ShortUInt(u16::try_from(row.example_amqp.as_u64().unwrap()).unwrap())
                }
                "f32" => AMQPValue::Float(row.example_amqp.as_f64().unwrap() as f32),
                "f64" => AMQPValue::Double(row.example_amqp.as_f64().unwrap()),
                "bool" => AMQPValue::Boolean(row.example_amqp.as_bool().unwrap()),
                "longstr" => AMQPValue::LongString(row.example_amqp.as_str().unwrap().into()),
                "bytes" => AMQPValue::ByteArray(b64(&row.example_amqp).to_vec().into()),
                "void" => AMQPValue::Void,
                other => panic!("amqp type {other}"),
            };
            assert_eq!(v, &expected, "{} {}", row.jms, row.amqp);
            row.example_amqp.clone()
        }
        None if row.amqp == "body" => {
            if row.amqp_type.as_deref() == Some("bytes") {
                Json::String(BASE64.encode(&m.body))
            } else {
                Json::String(String::from_utf8(m.body.to_vec()).unwrap())
            }
        }
        _ => panic!("amqp field {}", row.amqp),
    }
}

#[test]
fn docs_mapping_openwire_yaml_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mapping-openwire.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Doc = serde_saphyr::from_str(&text).unwrap();
    assert!(doc.rows.len() > 30, "the table lost rows");
    let md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mapping.md")).unwrap();
    for row in &doc.rows {
        let name = format!("row jms={} amqp={}", row.jms, row.amqp);
        assert!(
            matches!(row.direction.as_str(), "both" | "to-amqp"),
            "{name}: direction"
        );
        let field = row.jms.split_once(':').map_or(row.jms.as_str(), |(_, b)| b);
        assert!(md.contains(field), "docs/mapping.md §6 lacks {field}");
        let jms = row_message(row);
        let core = to_message(&jms, "", "q", doc.now_ms).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(amqp_field(row, &core), row.example_amqp, "{name}: to AMQP");
        if row.direction == "both" {
            let back = from_message(&core, JmsDestination::queue("q"), doc.now_ms);
            let expected = if row.jms.starts_with("kind:") {
                Json::Null
            } else {
                row.example_jms.clone()
            };
            assert_eq!(jms_field(row, &back), expected, "{name}: back to JMS");
        }
    }
    for header in RESERVED_HEADERS {
        assert!(
            md.contains(&format!("`{header}`")),
            "docs/mapping.md lacks `{header}`"
        );
    }
}
