//! Tests of the STOMP header mapping, including the check of `docs/mapping.yaml`.

use super::*;
use crate::mapping::typed;
use crate::message::{FieldArray, ShortString};
use amq_protocol::types::{ByteArray, DecimalValue};
use proptest::prelude::*;
use serde::Deserialize;
use std::collections::BTreeMap;

const NOW: u64 = 1_700_000_000_000;

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn send(pairs: &[(&str, &str)]) -> Result<Message, MappingError> {
    to_message(&h(pairs), Bytes::from_static(b"body"), "", "q", NOW)
}

fn ss(s: &str) -> ShortString {
    short_string(s).unwrap()
}

fn get<'a>(out: &'a [(String, String)], name: &str) -> Option<&'a str> {
    out.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn table(pairs: Vec<(&str, AMQPValue)>) -> FieldTable {
    FieldTable::from(
        pairs
            .into_iter()
            .map(|(k, v)| (ss(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn long(s: &str) -> AMQPValue {
    AMQPValue::LongString(s.into())
}

/// RabbitMQ's dead-lettering history: an array of tables with strings, longs, a timestamp
/// and a nested array.
fn x_death() -> AMQPValue {
    AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(table(vec![
        ("count", AMQPValue::LongLongInt(2)),
        ("reason", long("expired")),
        ("queue", long("orders")),
        ("time", AMQPValue::Timestamp(1_700_000_000)),
        ("exchange", long("")),
        (
            "routing-keys",
            AMQPValue::FieldArray(FieldArray::from(vec![long("orders")])),
        ),
    ]))]))
}

fn every_type_headers() -> FieldTable {
    table(vec![
        ("str", long("plain")),
        ("short", AMQPValue::ShortString(ss("s"))),
        ("bin", AMQPValue::LongString(vec![0xff, 0x00].into())),
        ("flag", AMQPValue::Boolean(true)),
        ("i8", AMQPValue::ShortShortInt(-8)),
        ("u8", AMQPValue::ShortShortUInt(8)),
        ("i16", AMQPValue::ShortInt(-16)),
        ("u16", AMQPValue::ShortUInt(16)),
        ("i32", AMQPValue::LongInt(-32)),
        ("u32", AMQPValue::LongUInt(32)),
        ("i64", AMQPValue::LongLongInt(i64::MIN)),
        ("f32", AMQPValue::Float(1.1)),
        ("f64", AMQPValue::Double(-2.5e-300)),
        (
            "dec",
            AMQPValue::DecimalValue(DecimalValue {
                scale: 3,
                value: 12345,
            }),
        ),
        ("ts", AMQPValue::Timestamp(1_700_000_001)),
        (
            "raw",
            AMQPValue::ByteArray(ByteArray::from(vec![1u8, 2, 3])),
        ),
        ("nothing", AMQPValue::Void),
        ("x-death", x_death()),
        ("x-delivery-count", AMQPValue::LongLongInt(3)),
        // Names that are taken in STOMP travel escaped.
        ("priority", long("not the property")),
        ("destination", long("not the frame header")),
        ("amqp-header-x", long("escaped twice")),
        ("x-message-ttl", AMQPValue::LongInt(5)),
        ("JMSTimestamp", AMQPValue::LongLongInt(1_700_000_000_123)),
    ])
}

fn full_message() -> Message {
    let props = BasicProperties::default()
        .with_content_type(ss("application/json"))
        .with_content_encoding(ss("gzip"))
        .with_headers(every_type_headers())
        .with_delivery_mode(2)
        .with_priority(7)
        .with_correlation_id(ss("corr-1"))
        .with_reply_to(ss("amq.gen-abc"))
        .with_expiration(ss("60000"))
        .with_message_id(ss("msg-1"))
        .with_timestamp(1_700_000_000)
        .with_type(ss("order.created"))
        .with_user_id(ss("guest"))
        .with_app_id(ss("billing"))
        .with_cluster_id(ss("c1"));
    Message::new("orders", "eu", props, Bytes::from_static(b"{}"))
}

fn back(m: &Message) -> Message {
    let out = from_message_at(m, false, NOW);
    to_message(&out, m.body.clone(), &m.exchange, &m.routing_key, NOW).unwrap()
}

#[test]
fn every_property_and_typed_header_round_trips_amqp_stomp_amqp() {
    let m = full_message();
    assert_eq!(back(&m), m);
    // And a second pass changes nothing either.
    assert_eq!(back(&back(&m)), m);
}

#[test]
fn message_headers_are_readable_text() {
    let out = from_message_at(&full_message(), true, NOW);
    let g = |n| get(&out, n).unwrap_or_else(|| panic!("no {n} in {out:?}"));
    assert_eq!(g("content-type"), "application/json");
    assert_eq!(g("persistent"), "true");
    assert_eq!(g("priority"), "7");
    assert_eq!(g("reply-to"), "/reply-queue/amq.gen-abc");
    assert_eq!(g("expiration"), "60000");
    assert_eq!(g("expires"), "1700000060000");
    assert_eq!(g("timestamp"), "1700000000123");
    assert_eq!(g("amqp-message-id"), "msg-1");
    assert_eq!(g("redelivered"), "true");
    assert_eq!(g("i32"), "-32");
    assert_eq!(g("flag"), "true");
    assert_eq!(g("f32"), "1.1");
    assert_eq!(g("dec"), "12.345");
    assert_eq!(g("raw"), "AQID");
    assert_eq!(g("nothing"), "");
    assert_eq!(
        g("x-death"),
        r#"[{"count":2,"exchange":"","queue":"orders","reason":"expired","routing-keys":["orders"],"time":1700000000}]"#
    );
    assert_eq!(g("x-delivery-count"), "3");
    assert_eq!(g("amqp-header-priority"), "not the property");
    assert_eq!(g("amqp-header-destination"), "not the frame header");
    assert_eq!(g("amqp-header-amqp-header-x"), "escaped twice");
    assert_eq!(g("amqp-header-x-message-ttl"), "5");
    assert!(get(&out, "destination").is_none());
    assert!(get(&out, "JMSTimestamp").is_none(), "folded into timestamp");
    let types: Json = serde_json::from_str(g(TYPES_HEADER)).unwrap();
    assert_eq!(types["i32"], "i32");
    assert_eq!(types["x-delivery-count"], "i64");
    assert_eq!(types["amqp-header-x-message-ttl"], "i32");
    assert!(
        types.get("str").is_none(),
        "UTF-8 long strings need no type"
    );
    assert_eq!(
        types["x-death"]["array"][0]["table"]["time"],
        Json::String("timestamp".into())
    );
}

#[test]
fn stomp_amqp_stomp_keeps_every_header() {
    let input = h(&[
        ("destination", "/queue/q"),
        ("receipt", "r-1"),
        ("content-length", "4"),
        ("content-type", "text/plain"),
        ("content-encoding", "utf-8"),
        ("correlation-id", "c-9"),
        ("reply-to", "/temp-queue/replies"),
        ("priority", "9"),
        ("persistent", "true"),
        ("expiration", "1500"),
        ("type", "t"),
        ("timestamp", "1700000000456"),
        ("amqp-message-id", "m-9"),
        ("user-id", "guest"),
        ("app-id", "app"),
        ("cluster-id", "cl"),
        ("my-header", "value: with colon"),
        ("empty", ""),
        ("JMSXGroupID", "g1"),
        ("x-delivery-count", "1"),
        ("unicode-ü", "☃"),
    ]);
    let m = to_message(&input, Bytes::new(), "", "q", NOW).unwrap();
    let out = from_message_at(&m, false, NOW);
    for (k, v) in &input {
        if matches!(k.as_str(), "destination" | "receipt" | "content-length") {
            assert!(get(&out, k).is_none(), "{k} is framing");
            continue;
        }
        assert_eq!(get(&out, k), Some(v.as_str()), "{k} in {out:?}");
    }
    // Added: expires (= now + expiration) and the redelivered flag; nothing typed.
    assert_eq!(get(&out, "expires"), Some("1700000001500"));
    assert_eq!(get(&out, "redelivered"), Some("false"));
    assert!(get(&out, TYPES_HEADER).is_none(), "{out:?}");
    assert_eq!(out.len(), input.len() - 3 + 2);
}

#[test]
fn properties_from_send() {
    let m = send(&[
        ("content-type", "text/plain"),
        ("persistent", "TRUE"),
        ("priority", "0"),
        ("reply-to", "/reply-queue/amq.gen-1"),
        ("amqp-message-id", "id-1"),
        ("message-id", "ignored"),
        ("timestamp", "1700000000999"),
    ])
    .unwrap();
    let p = &m.properties;
    assert_eq!(p.content_type().as_ref().unwrap().as_str(), "text/plain");
    assert_eq!(*p.delivery_mode(), Some(2));
    assert_eq!(*p.priority(), Some(0));
    assert_eq!(p.reply_to().as_ref().unwrap().as_str(), "amq.gen-1");
    assert_eq!(p.message_id().as_ref().unwrap().as_str(), "id-1");
    assert_eq!(*p.timestamp(), Some(1_700_000_000));
    assert_eq!(
        m.header("JMSTimestamp"),
        Some(&AMQPValue::LongLongInt(1_700_000_000_999))
    );
    assert!(m.header("message-id").is_none());
    assert_eq!(m.body, Bytes::from_static(b"body"));
    assert_eq!((m.exchange.as_str(), m.routing_key.as_str()), ("", "q"));
}

#[test]
fn persistent_false_is_delivery_mode_1_and_absent_is_unset() {
    // Absent leaves the delivery mode unset, as RabbitMQ's STOMP plugin does.
    assert_eq!(*send(&[]).unwrap().properties.delivery_mode(), None);
    assert_eq!(
        *send(&[("persistent", "false")])
            .unwrap()
            .properties
            .delivery_mode(),
        Some(1)
    );
    // And back: 1 → persistent:false, absent → no header.
    let out = from_message_at(&send(&[("persistent", "false")]).unwrap(), false, NOW);
    assert_eq!(get(&out, "persistent"), Some("false"));
    let none = Message::new("", "q", BasicProperties::default(), Bytes::new());
    assert!(get(&from_message_at(&none, false, NOW), "persistent").is_none());
}

#[test]
fn repeated_headers_first_wins() {
    let m = send(&[
        ("priority", "3"),
        ("priority", "x"),
        ("a", "1"),
        ("a", "2"),
        ("amqp-header-a", "3"),
        ("b", "4"),
        ("amqp-header-b", "5"),
    ])
    .unwrap();
    assert_eq!(*m.properties.priority(), Some(3));
    assert_eq!(m.header("a"), Some(&long("1")));
    assert_eq!(m.header("b"), Some(&long("4")));
}

#[test]
fn reserved_headers_never_become_amqp_headers() {
    let reserved: Vec<(&str, &str)> = RESERVED_HEADERS
        .iter()
        .chain(QUEUE_ARGUMENT_HEADERS)
        .map(|n| (*n, "1"))
        .chain([("activemq.prefetchSize", "1"), ("redelivered", "true")])
        .collect();
    let m = send(&reserved).unwrap();
    assert!(m.properties.headers().is_none(), "{:?}", m.properties);
}

#[test]
fn expires_and_expiration_arithmetic() {
    let exp = |pairs: &[(&str, &str)]| {
        send(pairs)
            .unwrap()
            .properties
            .expiration()
            .as_ref()
            .map(|s| s.as_str().to_owned())
    };
    assert_eq!(exp(&[("expires", "1700000005000")]), Some("5000".into()));
    assert_eq!(
        exp(&[("expires", "1600000000000")]),
        Some("0".into()),
        "past"
    );
    assert_eq!(exp(&[("expires", "0")]), None, "0 = never");
    assert_eq!(exp(&[("expiration", "250")]), Some("250".into()));
    assert_eq!(
        exp(&[("expires", "1700000005000"), ("expiration", "250")]),
        Some("250".into()),
        "relative wins"
    );
    // Back: both headers, expires from the clock given.
    let m = send(&[("expiration", "250")]).unwrap();
    let out = from_message_at(&m, false, 42);
    assert_eq!(get(&out, "expiration"), Some("250"));
    assert_eq!(get(&out, "expires"), Some("292"));
    // A non-numeric expiration (refused by the core on publish) is shown, without expires.
    let bad = Message::new(
        "",
        "q",
        BasicProperties::default().with_expiration(ss("soon")),
        Bytes::new(),
    );
    let out = from_message_at(&bad, false, NOW);
    assert_eq!(get(&out, "expiration"), Some("soon"));
    assert!(get(&out, "expires").is_none());
}

#[test]
fn timestamp_forms_round_trip() {
    let with = |ts: Option<u64>, jms: Option<AMQPValue>| {
        let mut p = BasicProperties::default().with_delivery_mode(1);
        if let Some(ts) = ts {
            p = p.with_timestamp(ts);
        }
        if let Some(v) = jms {
            p = p.with_headers(table(vec![("JMSTimestamp", v)]));
        }
        Message::new("", "q", p, Bytes::new())
    };
    for m in [
        with(Some(1_700_000_000), None),
        with(None, Some(AMQPValue::LongLongInt(1_700_000_000_123))),
        with(Some(5), Some(AMQPValue::LongLongInt(1_700_000_000_123))),
        with(Some(1_700_000_000), Some(AMQPValue::LongInt(7))),
        with(
            Some(1_700_000_000),
            Some(AMQPValue::LongLongInt(1_700_000_000_123)),
        ),
    ] {
        assert_eq!(back(&m), m, "{:?}", from_message_at(&m, false, NOW));
    }
    let out = from_message_at(&with(Some(1_700_000_000), None), false, NOW);
    assert_eq!(get(&out, "timestamp"), Some("1700000000000"));
}

#[test]
fn reply_to_forms() {
    for (stomp, amqp) in [
        ("/queue/replies", "/queue/replies"),
        ("/topic/t", "/topic/t"),
        ("/temp-queue/r", "/temp-queue/r"),
        ("/exchange/e/k", "/exchange/e/k"),
        ("/reply-queue/amq.gen-1", "amq.gen-1"),
    ] {
        let m = send(&[("reply-to", stomp)]).unwrap();
        assert_eq!(m.properties.reply_to().as_ref().unwrap().as_str(), amqp);
        assert_eq!(
            get(&from_message_at(&m, false, NOW), "reply-to"),
            Some(stomp)
        );
    }
}

#[test]
fn bad_values_are_mapping_errors() {
    let long = "x".repeat(256);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("priority", "high")], "priority"),
        (vec![("priority", "256")], "priority"),
        (vec![("priority", "-1")], "priority"),
        (vec![("persistent", "yes")], "persistent"),
        (vec![("expiration", "-5")], "expiration"),
        (vec![("expiration", "1.5")], "expiration"),
        (vec![("expires", "tomorrow")], "expires"),
        (vec![("timestamp", "now")], "timestamp"),
        (vec![("timestamp", "18446744073709551615")], "timestamp"),
        (vec![("correlation-id", &long)], "correlation-id"),
        (vec![("type", &long)], "type"),
        (vec![(&long, "v")], &long),
        (vec![(TYPES_HEADER, "[]")], TYPES_HEADER),
        (vec![(TYPES_HEADER, "{")], TYPES_HEADER),
        (vec![("n", "x"), (TYPES_HEADER, r#"{"n":"i32"}"#)], "n"),
        (
            vec![("n", "[1]"), (TYPES_HEADER, r#"{"n":{"table":{}}}"#)],
            "n",
        ),
    ];
    for (pairs, header) in cases {
        let err = send(&pairs).unwrap_err();
        let want: String = header.chars().take(64).collect();
        assert!(err.header.starts_with(&want), "{pairs:?} → {err}");
        assert!(err.to_string().starts_with("bad header '"), "{err}");
    }
}

#[test]
fn typed_header_from_a_stomp_client() {
    let m = send(&[
        ("retries", "3"),
        ("ok", "false"),
        (
            TYPES_HEADER,
            r#"{"retries":"i32","ok":"bool","absent":"i8"}"#,
        ),
    ])
    .unwrap();
    assert_eq!(m.header("retries"), Some(&AMQPValue::LongInt(3)));
    assert_eq!(m.header("ok"), Some(&AMQPValue::Boolean(false)));
    assert!(m.header("absent").is_none());
    assert!(m.header(TYPES_HEADER).is_none());
}

// ---- docs/mapping.yaml: the documented table, checked row by row ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    now_ms: u64,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    stomp: String,
    amqp: String,
    direction: String,
    example_stomp: String,
    #[serde(default)]
    example_amqp: Json,
    #[serde(default)]
    amqp_type: Option<Json>,
    #[serde(default)]
    also_amqp: Vec<AlsoAmqp>,
    #[serde(default)]
    also_stomp: Vec<AlsoStomp>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlsoAmqp {
    amqp: String,
    value: Json,
    #[serde(default)]
    amqp_type: Option<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlsoStomp {
    stomp: String,
    value: String,
}

/// The AMQP value a row's example stands for (`null` = absent).
fn expected_header(value: &Json, amqp_type: &Option<Json>) -> Option<AMQPValue> {
    if value.is_null() && amqp_type.is_none() {
        return None;
    }
    let d = amqp_type.clone().unwrap_or(Json::String("longstr".into()));
    Some(typed::decode_nested(value, &d).unwrap_or_else(|e| panic!("{value}: {e}")))
}

/// Read one AMQP field of a message as JSON (properties) or as an AMQP value (headers).
fn read_field(m: &Message, redelivered: bool, field: &str) -> Result<Json, Option<AMQPValue>> {
    let p = &m.properties;
    let s = |v: &Option<ShortString>| v.as_ref().map_or(Json::Null, |s| Json::from(s.as_str()));
    let n = |v: Option<u64>| v.map_or(Json::Null, Json::from);
    Ok(match field {
        "property:content_type" => s(p.content_type()),
        "property:content_encoding" => s(p.content_encoding()),
        "property:correlation_id" => s(p.correlation_id()),
        "property:reply_to" => s(p.reply_to()),
        "property:expiration" => s(p.expiration()),
        "property:message_id" => s(p.message_id()),
        "property:type" => s(p.kind()),
        "property:user_id" => s(p.user_id()),
        "property:app_id" => s(p.app_id()),
        "property:cluster_id" => s(p.cluster_id()),
        "property:priority" => n(p.priority().map(u64::from)),
        "property:delivery_mode" => n(p.delivery_mode().map(u64::from)),
        "property:timestamp" => n(*p.timestamp()),
        "flag:redelivered" => Json::Bool(redelivered),
        _ => match field.strip_prefix("header:") {
            Some(name) => return Err(m.header(name).cloned()),
            None => panic!("unknown amqp field '{field}'"),
        },
    })
}

/// Set one AMQP field from a row's example.
fn write_field(
    p: BasicProperties,
    headers: &mut BTreeMap<ShortString, AMQPValue>,
    redelivered: &mut bool,
    field: &str,
    value: &Json,
    amqp_type: &Option<Json>,
) -> BasicProperties {
    if value.is_null() && !field.starts_with("header:") {
        return p;
    }
    let s = || ss(value.as_str().unwrap_or_else(|| panic!("{field}: {value}")));
    let n = || value.as_u64().unwrap_or_else(|| panic!("{field}: {value}"));
    match field {
        "property:content_type" => p.with_content_type(s()),
        "property:content_encoding" => p.with_content_encoding(s()),
        "property:correlation_id" => p.with_correlation_id(s()),
        "property:reply_to" => p.with_reply_to(s()),
        "property:expiration" => p.with_expiration(s()),
        "property:message_id" => p.with_message_id(s()),
        "property:type" => p.with_type(s()),
        "property:user_id" => p.with_user_id(s()),
        "property:app_id" => p.with_app_id(s()),
        "property:cluster_id" => p.with_cluster_id(s()),
        "property:priority" => p.with_priority(u8::try_from(n()).unwrap()),
        "property:delivery_mode" => p.with_delivery_mode(u8::try_from(n()).unwrap()),
        "property:timestamp" => p.with_timestamp(n()),
        "flag:redelivered" => {
            *redelivered = value.as_bool().unwrap();
            p
        }
        _ => {
            let name = field
                .strip_prefix("header:")
                .unwrap_or_else(|| panic!("unknown amqp field '{field}'"));
            headers.insert(ss(name), expected_header(value, amqp_type).unwrap());
            p
        }
    }
}

fn check_amqp_field(m: &Message, field: &str, value: &Json, amqp_type: &Option<Json>, row: &str) {
    match read_field(m, false, field) {
        Ok(json) => assert_eq!(&json, value, "{row}: {field}"),
        Err(header) => assert_eq!(header, expected_header(value, amqp_type), "{row}: {field}"),
    }
}

#[test]
fn docs_mapping_yaml_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mapping.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Doc = serde_saphyr::from_str(&text).unwrap();
    assert!(doc.rows.len() > 30, "the table lost rows");
    let mut documented = HashSet::new();
    for row in &doc.rows {
        let name = format!("row stomp={} amqp={}", row.stomp, row.amqp);
        documented.insert(row.stomp.clone());
        let to_amqp = matches!(row.direction.as_str(), "both" | "to-amqp");
        let to_stomp = matches!(row.direction.as_str(), "both" | "to-stomp");
        assert!(
            to_amqp || to_stomp || row.direction == "reserved",
            "{name}: direction {}",
            row.direction
        );
        if to_amqp {
            let mut input = vec![(row.stomp.clone(), row.example_stomp.clone())];
            input.extend(
                row.also_stomp
                    .iter()
                    .map(|a| (a.stomp.clone(), a.value.clone())),
            );
            let m = to_message(&input, Bytes::new(), "", "q", doc.now_ms)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            check_amqp_field(&m, &row.amqp, &row.example_amqp, &row.amqp_type, &name);
            for also in &row.also_amqp {
                check_amqp_field(&m, &also.amqp, &also.value, &also.amqp_type, &name);
            }
        }
        if to_stomp {
            let mut headers = BTreeMap::new();
            let mut redelivered = false;
            let mut p = BasicProperties::default();
            p = write_field(
                p,
                &mut headers,
                &mut redelivered,
                &row.amqp,
                &row.example_amqp,
                &row.amqp_type,
            );
            for also in &row.also_amqp {
                p = write_field(
                    p,
                    &mut headers,
                    &mut redelivered,
                    &also.amqp,
                    &also.value,
                    &also.amqp_type,
                );
            }
            if !headers.is_empty() {
                p = p.with_headers(FieldTable::from(headers));
            }
            let out = from_message_at(
                &Message::new("", "q", p, Bytes::new()),
                redelivered,
                doc.now_ms,
            );
            assert_eq!(
                get(&out, &row.stomp),
                Some(row.example_stomp.as_str()),
                "{name}: {out:?}"
            );
            for also in &row.also_stomp {
                assert_eq!(
                    get(&out, &also.stomp),
                    Some(also.value.as_str()),
                    "{name}: {out:?}"
                );
            }
        }
        if row.direction == "reserved" {
            // Never an AMQP header from STOMP…
            let m = to_message(
                &[(row.stomp.clone(), row.example_stomp.clone())],
                Bytes::new(),
                "",
                "q",
                doc.now_ms,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(m.properties.headers().is_none(), "{name}");
            assert_eq!(row.amqp, "none", "{name}");
            // …and an AMQP header of that name reaches STOMP escaped, never as itself.
            let p = BasicProperties::default()
                .with_headers(table(vec![(row.stomp.as_str(), long(&row.example_stomp))]));
            let out = from_message_at(&Message::new("", "q", p, Bytes::new()), false, doc.now_ms);
            assert!(get(&out, &row.stomp).is_none(), "{name}");
            assert_eq!(
                get(&out, &format!("{ESCAPE_PREFIX}{}", row.stomp)),
                Some(row.example_stomp.as_str()),
                "{name}"
            );
        }
    }
    // Every name the code treats specially is documented.
    for name in PROPERTY_HEADERS
        .iter()
        .chain(RESERVED_HEADERS)
        .chain(QUEUE_ARGUMENT_HEADERS)
    {
        assert!(
            documented.contains(*name),
            "'{name}' missing from docs/mapping.yaml"
        );
    }
}

#[test]
fn docs_mapping_md_names_every_row_and_type_tag() {
    let md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mapping.md")).unwrap();
    let yaml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mapping.yaml")).unwrap();
    let doc: Doc = serde_saphyr::from_str(&yaml).unwrap();
    let generic = [
        "my-header",
        "JMSXGroupID",
        "retries",
        "urgent",
        "ratio",
        "price",
    ];
    let generic2 = ["checksum", "sent-at", "nothing", "activemq.prefetchSize"];
    for row in &doc.rows {
        let name = row.stomp.as_str();
        if generic.contains(&name) || generic2.contains(&name) {
            continue; // examples of "any other header"
        }
        let shown = name
            .strip_prefix(ESCAPE_PREFIX)
            .map_or(name, |_| "amqp-header-");
        assert!(
            md.contains(&format!("`{shown}")),
            "docs/mapping.md lacks `{shown}`"
        );
    }
    for (tag, _) in typed::TAGS {
        assert!(
            md.contains(&format!("`{tag}`")),
            "docs/mapping.md lacks tag `{tag}`"
        );
    }
}

// ---- never panic on peer input ----

proptest! {
    #[test]
    fn arbitrary_headers_never_panic(
        pairs in proptest::collection::vec(("\\PC{0,300}|[a-z-]{1,12}", "\\PC{0,300}"), 0..8),
        known in proptest::collection::vec(
            (prop_oneof![
                Just("priority"), Just("persistent"), Just("expires"), Just("expiration"),
                Just("timestamp"), Just("reply-to"), Just(TYPES_HEADER), Just("x"),
                Just("amqp-header-priority"), Just("correlation-id"),
            ], "\\PC{0,20}|[0-9]{1,25}|\\{\"x\":\"(i8|f32|decimal|bytes|void)\"\\}"),
            0..6),
        now in any::<u64>(),
    ) {
        let mut headers: Vec<(String, String)> =
            known.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        headers.extend(pairs);
        if let Ok(m) = to_message(&headers, Bytes::new(), "", "q", now) {
            let out = from_message_at(&m, true, now);
            // What came in as a message goes out and back in without error.
            let again = to_message(&out, Bytes::new(), "", "q", now);
            prop_assert!(again.is_ok(), "{:?}", again);
        }
    }

    #[test]
    fn any_typed_headers_table_round_trips(
        values in proptest::collection::btree_map("\\PC{0,12}", typed::tests::amqp_value(), 1..6)
    ) {
        let headers = FieldTable::from(
            values.into_iter().map(|(k, v)| (ss(&k), v)).collect::<BTreeMap<_, _>>(),
        );
        let m = Message::new(
            "",
            "q",
            BasicProperties::default().with_delivery_mode(1).with_headers(headers),
            Bytes::new(),
        );
        prop_assert_eq!(back(&m), m);
    }
}
