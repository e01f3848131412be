//! JMS selectors on arbitrary text: parsing must never panic, and a selector that parses
//! must evaluate against a message with typed properties without panicking.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mqbridge::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message, ShortString};
use mqbridge::selector::Selector;

fn message() -> Message {
    let mut headers = FieldTable::default();
    let mut put = |k: &str, v: AMQPValue| {
        headers.insert(ShortString::from(k), v);
    };
    put("color", AMQPValue::LongString(LongString::from("red")));
    put("n", AMQPValue::LongInt(7));
    put("big", AMQPValue::LongLongInt(i64::MAX));
    put("neg", AMQPValue::LongLongInt(i64::MIN));
    put("f", AMQPValue::Double(f64::NAN));
    put("b", AMQPValue::Boolean(true));
    put("s", AMQPValue::LongString(LongString::from("12.5")));
    let props = BasicProperties::default()
        .with_headers(headers)
        .with_priority(4)
        .with_message_id(ShortString::from("ID:1"))
        .with_timestamp(1_700_000_000);
    Message::new("amq.topic", "a.b", props, Bytes::from_static(b"body"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(selector) = Selector::parse(text) {
        let m = message();
        let _ = selector.evaluate(&m);
        let _ = selector.with_numeric_strings().evaluate(&m);
    }
});
