//! Typed AMQP header values carried through text-only header protocols (STOMP).
//!
//! An AMQP headers-table value has a type (bool, i8…i64, u8…u32, f32, f64, decimal,
//! short/long string, timestamp, byte array, void, nested table, array). A STOMP header
//! value is a string. Dropping non-string values (what RabbitMQ's STOMP plugin does with
//! tables such as `x-death`) loses information; stringifying them without a type loses the
//! way back. So a value is split in two:
//!
//! - the **text**, readable by any STOMP client: strings as they are, bool/ints/floats/
//!   timestamps as decimal text (`true`, `42`, `1.5`, `1700000000`), decimals as `12.34`,
//!   byte arrays (and long strings that are not UTF-8) as standard base64, void as the
//!   empty string, tables and arrays as JSON text with *natural* JSON inside (objects,
//!   arrays, strings, numbers, booleans, `null` for void, base64 strings for bytes,
//!   decimal strings for decimals, `"NaN"`/`"inf"`/`"-inf"` strings for non-finite floats);
//! - the **descriptor**, a JSON value naming the exact AMQP type of the text: a tag string
//!   (see [`Tag`]) for a scalar, `{"table": {field: descriptor…}}` for a table and
//!   `{"array": [descriptor…]}` for an array. The STOMP mapping collects the descriptors of
//!   one frame in its `mqbridge-types` header (a JSON object: header name → descriptor).
//!
//! Decoding the text with its descriptor gives back the identical [`AMQPValue`] (f32 goes
//! through f64 exactly; floats print in Rust's shortest round-trip form).

use crate::message::{short_string, AMQPValue, FieldArray, FieldTable, LongString};
use amq_protocol::types::{ByteArray, DecimalValue};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};
use std::collections::BTreeMap;

/// The scalar type tags, as they appear in descriptors. Kept as data so docs and code agree.
pub(crate) const TAGS: &[(&str, &str)] = &[
    ("bool", "boolean (t)"),
    ("i8", "short-short-int (b)"),
    ("u8", "short-short-uint (B)"),
    ("i16", "short-int (s/U)"),
    ("u16", "short-uint (u)"),
    ("i32", "long-int (I)"),
    ("u32", "long-uint (i)"),
    ("i64", "long-long-int (l/L)"),
    ("f32", "float (f)"),
    ("f64", "double (d)"),
    ("decimal", "decimal (D), text `12.34` = scale 2, value 1234"),
    ("shortstr", "short string"),
    (
        "longstr",
        "long string, UTF-8 (only needed inside tables/arrays)",
    ),
    ("binstr", "long string that is not UTF-8, text is base64"),
    ("timestamp", "timestamp (T), seconds"),
    ("bytes", "byte array (x), text is base64"),
    ("void", "void (V), text empty / JSON null"),
];

/// Encode a top-level header value: its text, and its descriptor unless it is a plain UTF-8
/// long string (the STOMP default, which needs none).
pub(crate) fn encode_top(value: &AMQPValue) -> (String, Option<Json>) {
    match value {
        AMQPValue::LongString(s) => match std::str::from_utf8(s.as_bytes()) {
            Ok(text) => (text.to_owned(), None),
            Err(_) => (BASE64.encode(s.as_bytes()), Some(tag("binstr"))),
        },
        AMQPValue::FieldTable(_) | AMQPValue::FieldArray(_) => {
            let (json, descriptor) = encode_nested(value);
            (json.to_string(), Some(descriptor))
        }
        AMQPValue::ShortString(s) => (s.as_str().to_owned(), Some(tag("shortstr"))),
        AMQPValue::Boolean(b) => (b.to_string(), Some(tag("bool"))),
        AMQPValue::ShortShortInt(n) => (n.to_string(), Some(tag("i8"))),
        AMQPValue::ShortShortUInt(n) => (n.to_string(), Some(tag("u8"))),
        AMQPValue::ShortInt(n) => (n.to_string(), Some(tag("i16"))),
        AMQPValue::ShortUInt(n) => (n.to_string(), Some(tag("u16"))),
        AMQPValue::LongInt(n) => (n.to_string(), Some(tag("i32"))),
        AMQPValue::LongUInt(n) => (n.to_string(), Some(tag("u32"))),
        AMQPValue::LongLongInt(n) => (n.to_string(), Some(tag("i64"))),
        AMQPValue::Float(f) => (f.to_string(), Some(tag("f32"))),
        AMQPValue::Double(f) => (f.to_string(), Some(tag("f64"))),
        AMQPValue::DecimalValue(d) => (format_decimal(d), Some(tag("decimal"))),
        AMQPValue::Timestamp(t) => (t.to_string(), Some(tag("timestamp"))),
        AMQPValue::ByteArray(b) => (BASE64.encode(b.as_slice()), Some(tag("bytes"))),
        AMQPValue::Void => (String::new(), Some(tag("void"))),
    }
}

/// Decode a top-level header text with its descriptor. The error says what was expected.
pub(crate) fn decode_top(text: &str, descriptor: &Json) -> Result<AMQPValue, String> {
    match descriptor {
        Json::String(t) => decode_scalar_text(text, t),
        Json::Object(_) => {
            let json: Json = serde_json::from_str(text)
                .map_err(|e| format!("typed as a table/array but not JSON: {e}"))?;
            decode_nested(&json, descriptor)
        }
        _ => Err(format!("bad type descriptor {descriptor}")),
    }
}

fn tag(t: &str) -> Json {
    Json::String(t.to_owned())
}

/// A value inside a table or array: natural JSON plus its descriptor.
fn encode_nested(value: &AMQPValue) -> (Json, Json) {
    match value {
        AMQPValue::FieldTable(t) => {
            let mut values = Map::new();
            let mut types = Map::new();
            for (k, v) in t {
                let (json, descriptor) = encode_nested(v);
                values.insert(k.as_str().to_owned(), json);
                types.insert(k.as_str().to_owned(), descriptor);
            }
            let mut d = Map::new();
            d.insert("table".to_owned(), Json::Object(types));
            (Json::Object(values), Json::Object(d))
        }
        AMQPValue::FieldArray(a) => {
            let (values, types): (Vec<Json>, Vec<Json>) =
                a.as_slice().iter().map(encode_nested).unzip();
            let mut d = Map::new();
            d.insert("array".to_owned(), Json::Array(types));
            (Json::Array(values), Json::Object(d))
        }
        AMQPValue::LongString(s) => match std::str::from_utf8(s.as_bytes()) {
            Ok(text) => (Json::String(text.to_owned()), tag("longstr")),
            Err(_) => (Json::String(BASE64.encode(s.as_bytes())), tag("binstr")),
        },
        AMQPValue::ShortString(s) => (Json::String(s.as_str().to_owned()), tag("shortstr")),
        AMQPValue::Boolean(b) => (Json::Bool(*b), tag("bool")),
        AMQPValue::ShortShortInt(n) => (Json::from(*n), tag("i8")),
        AMQPValue::ShortShortUInt(n) => (Json::from(*n), tag("u8")),
        AMQPValue::ShortInt(n) => (Json::from(*n), tag("i16")),
        AMQPValue::ShortUInt(n) => (Json::from(*n), tag("u16")),
        AMQPValue::LongInt(n) => (Json::from(*n), tag("i32")),
        AMQPValue::LongUInt(n) => (Json::from(*n), tag("u32")),
        AMQPValue::LongLongInt(n) => (Json::from(*n), tag("i64")),
        // f32 → f64 is exact, and f64 → f32 on the way back gives the same f32.
        AMQPValue::Float(f) => (float_json(f64::from(*f)), tag("f32")),
        AMQPValue::Double(f) => (float_json(*f), tag("f64")),
        AMQPValue::DecimalValue(d) => (Json::String(format_decimal(d)), tag("decimal")),
        AMQPValue::Timestamp(t) => (Json::from(*t), tag("timestamp")),
        AMQPValue::ByteArray(b) => (Json::String(BASE64.encode(b.as_slice())), tag("bytes")),
        AMQPValue::Void => (Json::Null, tag("void")),
    }
}

/// JSON has no NaN or infinities: those travel as the strings Rust parses back.
fn float_json(f: f64) -> Json {
    match Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None => Json::String(f.to_string()),
    }
}

/// Decode a natural JSON value with its descriptor (a value inside a table or array; the
/// docs' YAML examples use the same form).
pub(crate) fn decode_nested(json: &Json, descriptor: &Json) -> Result<AMQPValue, String> {
    match descriptor {
        Json::String(t) => decode_scalar_json(json, t),
        Json::Object(d) if d.len() == 1 => {
            if let Some(Json::Object(types)) = d.get("table") {
                let Json::Object(values) = json else {
                    return Err(format!("expected a JSON object, got {}", kind(json)));
                };
                let mut table = BTreeMap::new();
                for (k, v) in values {
                    let field_descriptor = types
                        .get(k)
                        .ok_or_else(|| format!("no type for table field '{k}'"))?;
                    let key = short_string(k).map_err(|e| format!("table field name {e}"))?;
                    table.insert(key, decode_nested(v, field_descriptor)?);
                }
                Ok(AMQPValue::FieldTable(FieldTable::from(table)))
            } else if let Some(Json::Array(types)) = d.get("array") {
                let Json::Array(values) = json else {
                    return Err(format!("expected a JSON array, got {}", kind(json)));
                };
                if values.len() != types.len() {
                    return Err(format!(
                        "array has {} values but {} types",
                        values.len(),
                        types.len()
                    ));
                }
                let items = values
                    .iter()
                    .zip(types)
                    .map(|(v, d)| decode_nested(v, d))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(AMQPValue::FieldArray(FieldArray::from(items)))
            } else {
                Err(format!("bad type descriptor {descriptor}"))
            }
        }
        _ => Err(format!("bad type descriptor {descriptor}")),
    }
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A scalar inside JSON: numbers as JSON numbers, but their decimal text is accepted too
/// (a client may have re-serialised everything as strings).
fn decode_scalar_json(json: &Json, t: &str) -> Result<AMQPValue, String> {
    match (t, json) {
        ("bool", Json::Bool(b)) => Ok(AMQPValue::Boolean(*b)),
        ("void", Json::Null) => Ok(AMQPValue::Void),
        (_, Json::String(s)) => decode_scalar_text(s, t),
        (_, Json::Number(n)) => decode_scalar_text(&n.to_string(), t),
        _ => Err(format!("expected a {t} value, got {}", kind(json))),
    }
}

fn int<T: std::str::FromStr>(text: &str, t: &str) -> Result<T, String> {
    text.parse::<T>()
        .map_err(|_| format!("'{}' is not a valid {t}", preview(text)))
}

fn preview(text: &str) -> String {
    let start: String = text.chars().take(40).collect();
    if start.len() < text.len() {
        format!("{start}…")
    } else {
        start
    }
}

fn decode_scalar_text(text: &str, t: &str) -> Result<AMQPValue, String> {
    Ok(match t {
        "longstr" => AMQPValue::LongString(LongString::from(text)),
        "shortstr" => AMQPValue::ShortString(short_string(text)?),
        "binstr" => AMQPValue::LongString(LongString::from(base64(text)?)),
        "bytes" => AMQPValue::ByteArray(ByteArray::from(base64(text)?)),
        "bool" => match text {
            "true" => AMQPValue::Boolean(true),
            "false" => AMQPValue::Boolean(false),
            _ => return Err(format!("'{}' is not true or false", preview(text))),
        },
        "i8" => AMQPValue::ShortShortInt(int(text, t)?),
        "u8" => AMQPValue::ShortShortUInt(int(text, t)?),
        "i16" => AMQPValue::ShortInt(int(text, t)?),
        "u16" => AMQPValue::ShortUInt(int(text, t)?),
        "i32" => AMQPValue::LongInt(int(text, t)?),
        "u32" => AMQPValue::LongUInt(int(text, t)?),
        "i64" => AMQPValue::LongLongInt(int(text, t)?),
        // Direct f32 parsing: exact both for Rust's shortest f32 text and for the (longer)
        // f64 text JSON holds of an f32 widened to f64.
        "f32" => AMQPValue::Float(int(text, t)?),
        "f64" => AMQPValue::Double(int(text, t)?),
        "timestamp" => AMQPValue::Timestamp(int(text, t)?),
        "decimal" => AMQPValue::DecimalValue(parse_decimal(text)?),
        "void" => AMQPValue::Void,
        _ => {
            let known: Vec<&str> = TAGS.iter().map(|(tag, _)| *tag).collect();
            return Err(format!(
                "unknown type tag '{}' (known: {}, {{\"table\": …}}, {{\"array\": […]}})",
                preview(t),
                known.join(", ")
            ));
        }
    })
}

fn base64(text: &str) -> Result<Vec<u8>, String> {
    BASE64.decode(text).map_err(|e| format!("not base64 ({e})"))
}

/// `value` with `scale` digits after the point: {scale 2, value 5} → `0.05`.
fn format_decimal(d: &DecimalValue) -> String {
    let digits = d.value.to_string();
    let scale = usize::from(d.scale);
    if scale == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int_part, frac) = padded.split_at(padded.len() - scale);
    format!("{int_part}.{frac}")
}

/// The inverse of [`format_decimal`]: the scale is the number of digits after the point.
fn parse_decimal(text: &str) -> Result<DecimalValue, String> {
    let bad = || format!("'{}' is not a decimal like 12.34", preview(text));
    let (int_part, frac) = text.split_once('.').unwrap_or((text, ""));
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return Err(bad());
    }
    let scale = u8::try_from(frac.len()).map_err(|_| bad())?;
    let value = format!("{int_part}{frac}")
        .parse::<u32>()
        .map_err(|_| format!("'{}' does not fit a 32-bit decimal", preview(text)))?;
    Ok(DecimalValue { scale, value })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(v: &AMQPValue) -> AMQPValue {
        let (text, d) = encode_top(v);
        match d {
            None => AMQPValue::LongString(LongString::from(text)),
            Some(d) => decode_top(&text, &d).unwrap(),
        }
    }

    #[test]
    fn scalars_print_as_plain_text() {
        assert_eq!(encode_top(&AMQPValue::LongLongInt(42)).0, "42");
        assert_eq!(encode_top(&AMQPValue::Boolean(true)).0, "true");
        assert_eq!(encode_top(&AMQPValue::Double(1.5)).0, "1.5");
        assert_eq!(encode_top(&AMQPValue::Float(0.1)).0, "0.1");
        assert_eq!(
            encode_top(&AMQPValue::DecimalValue(DecimalValue {
                scale: 2,
                value: 5
            }))
            .0,
            "0.05"
        );
        assert_eq!(
            encode_top(&AMQPValue::DecimalValue(DecimalValue {
                scale: 0,
                value: 7
            }))
            .0,
            "7"
        );
        assert_eq!(
            encode_top(&AMQPValue::ByteArray(ByteArray::from(vec![0u8, 255]))).0,
            "AP8="
        );
        assert_eq!(
            encode_top(&AMQPValue::LongString("x".into())),
            ("x".into(), None)
        );
    }

    #[test]
    fn decimals_parse_strictly() {
        for bad in ["", ".5", "5.", "1.2.3", "-1", "1e3", "99999999999"] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_decimal("12.340").unwrap(),
            DecimalValue {
                scale: 3,
                value: 12340
            }
        );
    }

    #[test]
    fn non_finite_floats_round_trip() {
        for f in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(round_trip(&AMQPValue::Double(f)), AMQPValue::Double(f));
            let arr = AMQPValue::FieldArray(vec![AMQPValue::Double(f)].into());
            assert_eq!(round_trip(&arr), arr);
        }
        match round_trip(&AMQPValue::FieldArray(
            vec![AMQPValue::Float(f32::NAN)].into(),
        )) {
            AMQPValue::FieldArray(a) => {
                assert!(matches!(a.as_slice()[0], AMQPValue::Float(f) if f.is_nan()))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_descriptors_and_values_are_errors() {
        let d = |s: &str| serde_json::from_str::<Json>(s).unwrap();
        assert!(decode_top("300", &d("\"u8\"")).is_err());
        assert!(decode_top("x", &d("\"nope\"")).is_err());
        assert!(decode_top("{}", &d("{\"array\":[]}")).is_err());
        assert!(decode_top("[1]", &d("{\"array\":[]}")).is_err());
        assert!(decode_top("{\"a\":1}", &d("{\"table\":{}}")).is_err());
        assert!(decode_top("not json", &d("{\"table\":{}}")).is_err());
        assert!(decode_top("1", &d("[]")).is_err());
        assert!(decode_top("!!", &d("\"bytes\"")).is_err());
        let long_key = format!("{{\"{}\":1}}", "k".repeat(300));
        let long_d = format!("{{\"table\":{{\"{}\":\"i8\"}}}}", "k".repeat(300));
        assert!(decode_top(&long_key, &d(&long_d)).is_err());
    }

    /// Any AMQP value except NaN (NaN != NaN), any nesting.
    pub(crate) fn amqp_value() -> impl Strategy<Value = AMQPValue> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(AMQPValue::Boolean),
            any::<i8>().prop_map(AMQPValue::ShortShortInt),
            any::<u8>().prop_map(AMQPValue::ShortShortUInt),
            any::<i16>().prop_map(AMQPValue::ShortInt),
            any::<u16>().prop_map(AMQPValue::ShortUInt),
            any::<i32>().prop_map(AMQPValue::LongInt),
            any::<u32>().prop_map(AMQPValue::LongUInt),
            any::<i64>().prop_map(AMQPValue::LongLongInt),
            any::<f32>()
                .prop_filter("NaN", |f| !f.is_nan())
                .prop_map(AMQPValue::Float),
            any::<f64>()
                .prop_filter("NaN", |f| !f.is_nan())
                .prop_map(AMQPValue::Double),
            (any::<u8>(), any::<u32>())
                .prop_map(|(scale, value)| AMQPValue::DecimalValue(DecimalValue { scale, value })),
            "\\PC{0,20}".prop_map(|s| AMQPValue::ShortString(short_string(&s).unwrap())),
            ".{0,20}".prop_map(|s| AMQPValue::LongString(s.into())),
            proptest::collection::vec(any::<u8>(), 0..20)
                .prop_map(|b| AMQPValue::LongString(b.into())),
            any::<u64>().prop_map(AMQPValue::Timestamp),
            proptest::collection::vec(any::<u8>(), 0..20)
                .prop_map(|b| AMQPValue::ByteArray(b.into())),
            Just(AMQPValue::Void),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| AMQPValue::FieldArray(v.into())),
                proptest::collection::btree_map("[a-z-]{0,8}", inner, 0..4).prop_map(|m| {
                    AMQPValue::FieldTable(FieldTable::from(
                        m.into_iter()
                            .map(|(k, v)| (short_string(&k).unwrap(), v))
                            .collect::<BTreeMap<_, _>>(),
                    ))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_value_round_trips(v in amqp_value()) {
            prop_assert_eq!(round_trip(&v), v);
        }

        #[test]
        fn arbitrary_text_and_descriptors_never_panic(text in ".{0,40}", d in ".{0,40}") {
            if let Ok(d) = serde_json::from_str::<Json>(&d) {
                let _ = decode_top(&text, &d);
            }
            let _ = decode_top(&text, &Json::String(d));
        }
    }
}
