//! The conformance table (tests/fixtures/selector/conformance.yaml), edge cases the table
//! cannot express, and property tests that no input panics.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use serde::Deserialize;

use super::{Selector, SelectorError, MAX_DEPTH, MAX_LENGTH};
use crate::message::{
    AMQPValue, BasicProperties, FieldArray, FieldTable, LongString, Message, ShortString,
};

const CONFORMANCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/selector/conformance.yaml"
));

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    selector: String,
    #[serde(default)]
    message: FixtureMessage,
    /// `true`, `false`, `unknown` or `error`.
    expected: String,
    /// For `error`: the 0-based character offset the error must point at.
    #[serde(default)]
    position: Option<usize>,
    /// For `error`: a piece of text the message must contain.
    #[serde(default)]
    error_contains: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureMessage {
    #[serde(default)]
    properties: FixtureProperties,
    #[serde(default)]
    headers: BTreeMap<String, FixtureValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureProperties {
    delivery_mode: Option<u8>,
    priority: Option<u8>,
    message_id: Option<String>,
    correlation_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    reply_to: Option<String>,
    timestamp: Option<u64>,
}

/// A header value: plain YAML scalars map to bool, long, double and long string; a
/// one-key map names any other AMQP type (`{ i32: 5 }`, `{ short_string: x }`, …).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FixtureValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Typed(TypedValue),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TypedValue {
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    F32(f32),
    ShortString(String),
    /// A long string of raw bytes (to write non-UTF-8).
    RawBytes(Vec<u8>),
    ByteArray(Vec<u8>),
    Timestamp(u64),
    Table(BTreeMap<String, i64>),
    Array(Vec<i64>),
    Decimal((u8, u32)),
    Void(()),
}

fn amqp_value(value: &FixtureValue) -> AMQPValue {
    match value {
        FixtureValue::Bool(b) => AMQPValue::Boolean(*b),
        FixtureValue::Int(v) => AMQPValue::LongLongInt(*v),
        FixtureValue::Float(v) => AMQPValue::Double(*v),
        FixtureValue::Str(s) => AMQPValue::LongString(LongString::from(s.as_str())),
        FixtureValue::Typed(typed) => match typed {
            TypedValue::I8(v) => AMQPValue::ShortShortInt(*v),
            TypedValue::U8(v) => AMQPValue::ShortShortUInt(*v),
            TypedValue::I16(v) => AMQPValue::ShortInt(*v),
            TypedValue::U16(v) => AMQPValue::ShortUInt(*v),
            TypedValue::I32(v) => AMQPValue::LongInt(*v),
            TypedValue::U32(v) => AMQPValue::LongUInt(*v),
            TypedValue::F32(v) => AMQPValue::Float(*v),
            TypedValue::ShortString(s) => AMQPValue::ShortString(ShortString::from(s.as_str())),
            TypedValue::RawBytes(b) => AMQPValue::LongString(LongString::from(b.clone())),
            TypedValue::ByteArray(b) => AMQPValue::ByteArray(b.clone().into()),
            TypedValue::Timestamp(v) => AMQPValue::Timestamp(*v),
            TypedValue::Table(entries) => {
                let mut table = FieldTable::default();
                for (k, v) in entries {
                    table.insert(ShortString::from(k.as_str()), AMQPValue::LongLongInt(*v));
                }
                AMQPValue::FieldTable(table)
            }
            TypedValue::Array(items) => AMQPValue::FieldArray(FieldArray::from(
                items
                    .iter()
                    .map(|v| AMQPValue::LongLongInt(*v))
                    .collect::<Vec<_>>(),
            )),
            TypedValue::Decimal((scale, value)) => {
                AMQPValue::DecimalValue(amq_protocol::types::DecimalValue {
                    scale: *scale,
                    value: *value,
                })
            }
            TypedValue::Void(()) => AMQPValue::Void,
        },
    }
}

fn build_message(fixture: &FixtureMessage) -> Message {
    let p = &fixture.properties;
    let mut props = BasicProperties::default();
    if let Some(v) = p.delivery_mode {
        props = props.with_delivery_mode(v);
    }
    if let Some(v) = p.priority {
        props = props.with_priority(v);
    }
    if let Some(v) = &p.message_id {
        props = props.with_message_id(ShortString::from(v.as_str()));
    }
    if let Some(v) = &p.correlation_id {
        props = props.with_correlation_id(ShortString::from(v.as_str()));
    }
    if let Some(v) = &p.kind {
        props = props.with_type(ShortString::from(v.as_str()));
    }
    if let Some(v) = &p.reply_to {
        props = props.with_reply_to(ShortString::from(v.as_str()));
    }
    if let Some(v) = p.timestamp {
        props = props.with_timestamp(v);
    }
    if !fixture.headers.is_empty() {
        let mut table = FieldTable::default();
        for (name, value) in &fixture.headers {
            table.insert(ShortString::from(name.as_str()), amqp_value(value));
        }
        props = props.with_headers(table);
    }
    Message::new("", "q", props, Bytes::new())
}

fn empty_message() -> Message {
    Message::new("", "q", BasicProperties::default(), Bytes::new())
}

fn message_with(headers: &[(&str, AMQPValue)]) -> Message {
    let mut table = FieldTable::default();
    for (name, value) in headers {
        table.insert(ShortString::from(*name), value.clone());
    }
    Message::new(
        "",
        "q",
        BasicProperties::default().with_headers(table),
        Bytes::new(),
    )
}

#[test]
fn conformance_table() {
    let rows: Vec<Row> = serde_saphyr::from_str(CONFORMANCE).expect("conformance.yaml parses");
    assert!(rows.len() >= 120, "only {} conformance rows", rows.len());
    let mut failures = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let message = build_message(&row.message);
        let outcome = match Selector::parse(&row.selector) {
            Err(e) => Err(e),
            Ok(selector) => {
                let result = selector.evaluate(&message);
                // `matches` must agree with `evaluate` on every row.
                assert_eq!(selector.matches(&message), result == Some(true));
                Ok(result)
            }
        };
        let ok = match (row.expected.as_str(), &outcome) {
            ("true", Ok(Some(true))) | ("false", Ok(Some(false))) | ("unknown", Ok(None)) => true,
            ("error", Err(e)) => {
                let position = row
                    .position
                    .unwrap_or_else(|| panic!("row {i}: an error row needs a position"));
                e.position == position
                    && row
                        .error_contains
                        .as_ref()
                        .is_none_or(|text| e.message.contains(text.as_str()))
            }
            ("true" | "false" | "unknown" | "error", _) => false,
            (other, _) => panic!("row {i}: unknown expectation {other:?}"),
        };
        if !ok {
            failures.push(format!(
                "row {i}: {:?} expected {}{} got {:?}",
                row.selector,
                row.expected,
                row.position.map(|p| format!(" at {p}")).unwrap_or_default(),
                outcome
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// The JMS spec's truth tables, over every pair of TRUE, FALSE and UNKNOWN.
#[test]
fn three_valued_tables_exhaustive() {
    // t is TRUE, f is FALSE, u (missing) is UNKNOWN.
    let message = message_with(&[
        ("t", AMQPValue::Boolean(true)),
        ("f", AMQPValue::Boolean(false)),
    ]);
    let value = |name: &str| match name {
        "t" => Some(true),
        "f" => Some(false),
        _ => None,
    };
    let and = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    };
    let or = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    };
    for a in ["t", "f", "u"] {
        let sel = Selector::parse(&format!("NOT {a}")).unwrap();
        assert_eq!(sel.evaluate(&message), value(a).map(|b| !b), "NOT {a}");
        for b in ["t", "f", "u"] {
            let sel = Selector::parse(&format!("{a} AND {b}")).unwrap();
            assert_eq!(
                sel.evaluate(&message),
                and(value(a), value(b)),
                "{a} AND {b}"
            );
            let sel = Selector::parse(&format!("{a} OR {b}")).unwrap();
            assert_eq!(sel.evaluate(&message), or(value(a), value(b)), "{a} OR {b}");
        }
    }
}

#[test]
fn empty_selector_matches_everything() {
    for text in ["", "   ", "\t\n "] {
        let sel = Selector::parse(text).unwrap();
        assert!(sel.matches(&empty_message()));
        assert_eq!(sel.text(), text);
    }
}

#[test]
fn error_display_names_position_and_token() {
    let err = Selector::parse("a = = 1").unwrap_err();
    assert_eq!(err.position, 4);
    assert_eq!(
        err.to_string(),
        "selector error at position 4: unexpected '=', expected an expression"
    );
    // Positions count characters, not bytes.
    let err = Selector::parse("'héllo' = x =").unwrap_err();
    assert_eq!(err.position, 12);
}

#[test]
fn selector_is_clone_send_sync() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync>() {}
    assert_traits::<Selector>();
    let sel = Selector::parse("a > 1").unwrap();
    let copy = sel.clone();
    assert_eq!(copy.text(), "a > 1");
}

#[test]
fn limits_are_errors_not_overflows() {
    // Deep nesting of every recursive construct, far past the depth limit but within the
    // length limit.
    let n = 10_000;
    let cases = [
        format!("{}a = 1{}", "(".repeat(n), ")".repeat(n)),
        format!("{}a", "NOT ".repeat(n)),
        format!("{}1 = a", "-".repeat(n)),
        format!("{}1 = a", "+ ".repeat(n)),
        format!("{}a = 1", "a + ".repeat(n / 5)),
        format!("{} = 1", vec!["a"; n / 5].join(" * ")),
    ];
    for case in &cases {
        let err = Selector::parse(case).unwrap_err();
        assert!(err.message.contains("nested too deeply"), "{err}");
    }
    // Just inside the limits: fine, and evaluates.
    let depth = MAX_DEPTH - 2;
    let ok = format!("{}a = 1{}", "(".repeat(depth), ")".repeat(depth));
    let sel = Selector::parse(&ok).unwrap();
    assert!(sel.matches(&message_with(&[("a", AMQPValue::LongLongInt(1))])));
    let chain = format!("{}a = {}", "a + ".repeat(MAX_DEPTH - 3), MAX_DEPTH - 2);
    let sel = Selector::parse(&chain).unwrap();
    assert!(sel.matches(&message_with(&[("a", AMQPValue::LongLongInt(1))])));
    // A long OR chain is flat, whatever its length.
    let alternatives: Vec<String> = (0..3000).map(|i| format!("a = {i}")).collect();
    let sel = Selector::parse(&alternatives.join(" OR ")).unwrap();
    assert!(sel.matches(&message_with(&[("a", AMQPValue::LongLongInt(2999))])));

    let long = format!("a = '{}'", "x".repeat(MAX_LENGTH));
    let err = Selector::parse(&long).unwrap_err();
    assert_eq!(err.position, MAX_LENGTH);
    assert!(err.message.contains("limit"), "{err}");
}

#[test]
fn like_matcher_backtracks_without_blowup() {
    let text = "a".repeat(5000);
    let sel = Selector::parse("s LIKE '%a%a%a%a%a%a%a%a%b'").unwrap();
    let message = message_with(&[("s", AMQPValue::LongString(LongString::from(text.as_str())))]);
    assert!(!sel.matches(&message));
    let sel = Selector::parse("s LIKE '%a%a%a%a%a%a%a%a%'").unwrap();
    assert!(sel.matches(&message));
}

#[test]
fn arithmetic_edges_do_not_panic() {
    let message = message_with(&[
        ("max", AMQPValue::LongLongInt(i64::MAX)),
        ("min", AMQPValue::LongLongInt(i64::MIN)),
        ("zero", AMQPValue::LongLongInt(0)),
        ("nan", AMQPValue::Double(f64::NAN)),
    ]);
    let cases: [(&str, Option<bool>); 13] = [
        ("max + 1 > max", Some(true)),
        // In f64, min - 1 rounds back to min: overflowed arithmetic is approximate.
        ("min - 1 <= min", Some(true)),
        ("min * 2 < min", Some(true)),
        ("max * max > 0", Some(true)),
        ("min / -1 > 0", Some(true)),
        ("-min > 0", Some(true)),
        ("min * -1 > 0", Some(true)),
        ("max / zero = 1", None),
        ("1.5 / zero = 1", None),
        ("nan = nan", Some(false)),
        ("nan <> nan", Some(true)),
        ("nan < 1", Some(false)),
        ("-9223372036854775808 = min", Some(true)),
    ];
    for (text, expected) in cases {
        let sel = Selector::parse(text).unwrap();
        assert_eq!(sel.evaluate(&message), expected, "{text}");
    }
}

fn fuzz_message() -> Message {
    message_with(&[
        ("a", AMQPValue::LongLongInt(1)),
        ("b", AMQPValue::Double(2.5)),
        ("s", AMQPValue::LongString(LongString::from("x_y%z"))),
        ("t", AMQPValue::Boolean(true)),
        ("n", AMQPValue::Void),
    ])
}

/// Pieces of selector syntax, so that random sequences often get past the lexer.
const FRAGMENTS: &[&str] = &[
    "a",
    "b",
    "s",
    "t",
    "n",
    "JMSPriority",
    "JMSType",
    "JMSXDeliveryCount",
    "x",
    "NOT",
    "AND",
    "OR",
    "BETWEEN",
    "LIKE",
    "IN",
    "IS",
    "NULL",
    "ESCAPE",
    "TRUE",
    "FALSE",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    ",",
    "'x'",
    "'%'",
    "'_'",
    "'!'",
    "''",
    "0",
    "1",
    "-1",
    "0x1F",
    "017",
    "9223372036854775807",
    "9223372036854775808",
    "1.5",
    ".5",
    "7.",
    "1e3",
    "1E-400",
    "1e400",
    "'",
    "é",
    "$",
    "_",
    "\"",
    ";",
    "?",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_ascii_never_panics(text in "[ -~]{0,80}") {
        let message = fuzz_message();
        match Selector::parse(&text) {
            Ok(sel) => {
                let _ = sel.matches(&message);
                let _ = sel.evaluate(&empty_message());
            }
            Err(SelectorError { position, .. }) => {
                prop_assert!(position <= text.chars().count());
            }
        }
    }

    #[test]
    fn random_token_soup_never_panics(
        picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..40),
        spaced in any::<bool>(),
    ) {
        let words: Vec<&str> = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        let text = words.join(if spaced { " " } else { "" });
        let message = fuzz_message();
        match Selector::parse(&text) {
            Ok(sel) => {
                let _ = sel.matches(&message);
                let _ = sel.evaluate(&empty_message());
            }
            Err(e) => {
                prop_assert!(e.position <= text.chars().count());
                prop_assert!(e.to_string().starts_with("selector error at position "));
            }
        }
    }
}

/// The worst cases just inside the limits fit a 1 MiB stack (half a tokio worker's) even in
/// a debug build, parsing and evaluating.
#[test]
fn deepest_selectors_fit_a_small_stack() {
    let d = MAX_DEPTH - 2;
    let cases = [
        format!("{}a = 1{}", "(".repeat(d), ")".repeat(d)),
        format!("{}a = 1", "NOT ".repeat(d)),
        format!("{}a = 1", "- ".repeat(d)),
        format!("{}a = 1", "+ ".repeat(d)),
        format!("{}a = 1", "a + ".repeat(d)),
        format!("{}a{} = 1", "(a + ".repeat(d / 2), ")".repeat(d / 2)),
        format!("{}a = 1{}", "(NOT ".repeat(d / 2), ")".repeat(d / 2)),
    ];
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            let message = message_with(&[("a", AMQPValue::LongLongInt(1))]);
            for case in &cases {
                let sel = Selector::parse(case).unwrap_or_else(|e| panic!("{case}: {e}"));
                let _ = sel.evaluate(&message);
                let copy = sel.clone();
                drop(sel);
                drop(copy);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// The obvious exponential LIKE matcher, as the reference for the real one.
fn like_reference(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|i| like_reference(rest, &text[i..])),
        Some(('_', rest)) => !text.is_empty() && like_reference(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && like_reference(rest, &text[1..]),
    }
}

proptest! {
    #[test]
    fn like_agrees_with_reference(pattern in "[ab_%é]{0,8}", text in "[abé]{0,10}") {
        let compiled = super::ast::Pattern::compile(&pattern, None).unwrap();
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        prop_assert_eq!(compiled.matches(&text), like_reference(&p, &t), "{} LIKE {}", text, pattern);
    }
}

#[test]
fn numeric_strings_compare_as_numbers_when_asked() {
    let mut headers = FieldTable::default();
    headers.insert("n".into(), AMQPValue::LongString("3".into()));
    headers.insert("id".into(), AMQPValue::LongString("12".into()));
    headers.insert("word".into(), AMQPValue::LongString("three".into()));
    let m = Message::new(
        "",
        "q",
        BasicProperties::default().with_headers(headers),
        Bytes::new(),
    );
    let plain = Selector::parse("n > 2").unwrap();
    assert_eq!(
        plain.evaluate(&m),
        None,
        "a string is no number by default (JMS)"
    );
    let both = Selector::parse("id = '12' AND n > 2")
        .unwrap()
        .with_numeric_strings();
    assert!(
        both.matches(&m),
        "string equality and numeric comparison at once"
    );
    let word = Selector::parse("word > 2").unwrap().with_numeric_strings();
    assert_eq!(
        word.evaluate(&m),
        None,
        "a non-numeric string stays UNKNOWN"
    );
    let between = Selector::parse("n BETWEEN 1 AND 5")
        .unwrap()
        .with_numeric_strings();
    assert!(between.matches(&m));
}
