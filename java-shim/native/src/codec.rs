//! The byte[] record a JMS message crosses JNI as, in both directions (Java side:
//! `io.mqbridge.jms.MessageCodec`). Big-endian throughout, as `java.io.DataOutputStream`
//! writes it. One record, version 1:
//!
//! | field | encoding |
//! |---|---|
//! | version | u8 = 1 |
//! | delivery tag | i64 (0 when sending; the AMQP delivery tag on receive, passed back to `ack`) |
//! | kind | u8: 0 Message, 1 Bytes, 2 Map, 3 Object, 4 Stream, 5 Text |
//! | JMSMessageID, JMSCorrelationID, JMSType | str? each |
//! | destination, JMSReplyTo | dest? each |
//! | JMSPriority | u8 (0..=9) |
//! | JMSDeliveryMode persistent | u8 (0/1) |
//! | JMSExpiration, JMSTimestamp | i64 each (absolute ms, 0 = none) |
//! | redelivery counter | i32 (JMSRedelivered = counter > 0; JMSXDeliveryCount = counter + 1) |
//! | JMSXUserID, JMSXGroupID | str? each |
//! | JMSXGroupSeq | i32 |
//! | properties | i32 count, then per property: str name, value |
//! | body | i32 length (-1 = no body), then the bytes: UTF-8 text (Text), raw (Bytes, Object: the serialized object), i32 count + count × (str name, value) (Map), i32 count + count × value (Stream) |
//!
//! `str?` is an i32 byte length (-1 = null) followed by standard UTF-8 (not Java's modified
//! UTF-8: Java writes `String.getBytes(UTF_8)`). `dest?` is a u8 kind (0 none, 1 queue,
//! 2 topic, 3 temporary queue, 4 temporary topic) followed, unless 0, by a `str?` name.
//! A property value is a u8 tag and its payload: 0 null, 1 boolean (u8), 2 byte (i8),
//! 3 short (i16), 4 int (i32), 5 long (i64), 6 float (f32), 7 double (f64), 8 char (u16),
//! 9 String (`str?`), 10 byte[] (i32 length + bytes).
//!
//! Properties that JMS cannot hold (AMQP tables and arrays arriving from AMQP publishers) are left out
//! of a received record.

use bytes::Bytes;
use mqbridge::message::jms::{
    JmsBody, JmsDestination, JmsDestinationKind, JmsKind, JmsMessage, JmsValue,
};

/// The record version this crate reads and writes.
pub const VERSION: u8 = 1;

/// A malformed record (the Java side and this crate disagree: a bug, not a user error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed message record: {}", self.0)
    }
}

fn kind_code(kind: JmsKind) -> u8 {
    match kind {
        JmsKind::Message => 0,
        JmsKind::Bytes => 1,
        JmsKind::Map => 2,
        JmsKind::Object => 3,
        JmsKind::Stream => 4,
        JmsKind::Text => 5,
    }
}

fn dest_code(kind: JmsDestinationKind) -> u8 {
    match kind {
        JmsDestinationKind::Queue => 1,
        JmsDestinationKind::Topic => 2,
        JmsDestinationKind::TempQueue => 3,
        JmsDestinationKind::TempTopic => 4,
    }
}

/// The destination kind of a `dest?` code (0 is "none", handled by the caller).
pub fn dest_kind(code: u8) -> Option<JmsDestinationKind> {
    Some(match code {
        1 => JmsDestinationKind::Queue,
        2 => JmsDestinationKind::Topic,
        3 => JmsDestinationKind::TempQueue,
        4 => JmsDestinationKind::TempTopic,
        _ => return None,
    })
}

/// Encode `jms` (a delivery with AMQP delivery tag `tag`) as a record.
pub fn encode(jms: &JmsMessage, tag: u64) -> Vec<u8> {
    let mut w = Vec::with_capacity(128);
    w.push(VERSION);
    w.extend_from_slice(&i64::try_from(tag).unwrap_or(i64::MAX).to_be_bytes());
    // A body the record cannot carry yet is sent as its kind with no body, so Java sees an
    // (empty) message rather than nothing; the kind tells it what it was.
    w.push(kind_code(jms.kind));
    put_str(&mut w, jms.message_id.as_deref());
    put_str(&mut w, jms.correlation_id.as_deref());
    put_str(&mut w, jms.jms_type.as_deref());
    put_dest(&mut w, jms.destination.as_ref());
    put_dest(&mut w, jms.reply_to.as_ref());
    w.push(u8::try_from(jms.priority.clamp(0, 9)).unwrap_or(4));
    w.push(u8::from(jms.persistent));
    w.extend_from_slice(&jms.expiration.to_be_bytes());
    w.extend_from_slice(&jms.timestamp.to_be_bytes());
    w.extend_from_slice(&jms.redelivery_counter.to_be_bytes());
    put_str(&mut w, jms.user_id.as_deref());
    put_str(&mut w, jms.group_id.as_deref());
    w.extend_from_slice(&jms.group_sequence.to_be_bytes());
    let props: Vec<&(String, JmsValue)> = jms
        .properties
        .iter()
        .filter(|(_, v)| !matches!(v, JmsValue::Map(_) | JmsValue::List(_)))
        .collect();
    put_len(&mut w, props.len());
    for (name, value) in props {
        put_str(&mut w, Some(name));
        put_value(&mut w, value);
    }
    match &jms.body {
        JmsBody::None => w.extend_from_slice(&(-1i32).to_be_bytes()),
        JmsBody::Text(t) => put_bytes(&mut w, t.as_bytes()),
        JmsBody::Bytes(b) | JmsBody::Object(b) => put_bytes(&mut w, b),
        JmsBody::Map(entries) => {
            let mut inner = Vec::new();
            put_len(&mut inner, entries.len());
            for (name, value) in entries {
                put_str(&mut inner, Some(name));
                put_value(&mut inner, value);
            }
            put_bytes(&mut w, &inner);
        }
        JmsBody::Stream(items) => {
            let mut inner = Vec::new();
            put_len(&mut inner, items.len());
            for value in items {
                put_value(&mut inner, value);
            }
            put_bytes(&mut w, &inner);
        }
    }
    w
}

fn put_len(w: &mut Vec<u8>, n: usize) {
    w.extend_from_slice(&i32::try_from(n).unwrap_or(i32::MAX).to_be_bytes());
}

fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    put_len(w, b.len());
    w.extend_from_slice(b);
}

fn put_str(w: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_bytes(w, s.as_bytes()),
        None => w.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

fn put_dest(w: &mut Vec<u8>, d: Option<&JmsDestination>) {
    match d {
        Some(d) => {
            w.push(dest_code(d.kind));
            put_str(w, Some(&d.name));
        }
        None => w.push(0),
    }
}

fn put_value(w: &mut Vec<u8>, v: &JmsValue) {
    match v {
        JmsValue::Null | JmsValue::Map(_) | JmsValue::List(_) => w.push(0),
        JmsValue::Bool(b) => {
            w.push(1);
            w.push(u8::from(*b));
        }
        JmsValue::Byte(n) => {
            w.push(2);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::Short(n) => {
            w.push(3);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::Int(n) => {
            w.push(4);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::Long(n) => {
            w.push(5);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::Float(n) => {
            w.push(6);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::Double(n) => {
            w.push(7);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::Char(n) => {
            w.push(8);
            w.extend_from_slice(&n.to_be_bytes());
        }
        JmsValue::String(s) => {
            w.push(9);
            put_str(w, Some(s));
        }
        JmsValue::Bytes(b) => {
            w.push(10);
            put_bytes(w, b);
        }
    }
}

/// A cursor over a record.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError(format!("truncated at {what}")));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u8(&mut self, what: &str) -> Result<u8, CodecError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn i32(&mut self, what: &str) -> Result<i32, CodecError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &str) -> Result<i64, CodecError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    fn bytes(&mut self, what: &str) -> Result<Option<&'a [u8]>, CodecError> {
        let n = self.i32(what)?;
        if n < 0 {
            return Ok(None);
        }
        let n = usize::try_from(n).map_err(|_| CodecError(format!("bad length at {what}")))?;
        self.take(n, what).map(Some)
    }

    fn str(&mut self, what: &str) -> Result<Option<String>, CodecError> {
        match self.bytes(what)? {
            None => Ok(None),
            Some(b) => String::from_utf8(b.to_vec())
                .map(Some)
                .map_err(|_| CodecError(format!("{what} is not UTF-8"))),
        }
    }

    fn done(&self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError(format!("{} trailing bytes", self.buf.len())))
        }
    }

    fn dest(&mut self, what: &str) -> Result<Option<JmsDestination>, CodecError> {
        let code = self.u8(what)?;
        if code == 0 {
            return Ok(None);
        }
        let kind = dest_kind(code).ok_or_else(|| CodecError(format!("{what}: kind {code}")))?;
        let name = self
            .str(what)?
            .ok_or_else(|| CodecError(format!("{what}: no name")))?;
        Ok(Some(JmsDestination::new(kind, name)))
    }

    fn value(&mut self, what: &str) -> Result<JmsValue, CodecError> {
        Ok(match self.u8(what)? {
            0 => JmsValue::Null,
            1 => JmsValue::Bool(self.u8(what)? != 0),
            2 => JmsValue::Byte(i8::from_be_bytes(self.array(what)?)),
            3 => JmsValue::Short(i16::from_be_bytes(self.array(what)?)),
            4 => JmsValue::Int(self.i32(what)?),
            5 => JmsValue::Long(self.i64(what)?),
            6 => JmsValue::Float(f32::from_be_bytes(self.array(what)?)),
            7 => JmsValue::Double(f64::from_be_bytes(self.array(what)?)),
            8 => JmsValue::Char(u16::from_be_bytes(self.array(what)?)),
            9 => JmsValue::String(self.str(what)?.unwrap_or_default()),
            10 => JmsValue::Bytes(Bytes::copy_from_slice(
                self.bytes(what)?.unwrap_or_default(),
            )),
            t => return Err(CodecError(format!("{what}: value tag {t}"))),
        })
    }
}

/// Decode a record (a message a Java producer sends); the delivery tag is ignored.
pub fn decode(buf: &[u8]) -> Result<JmsMessage, CodecError> {
    let mut r = Reader { buf };
    let version = r.u8("version")?;
    if version != VERSION {
        return Err(CodecError(format!("version {version}, expected {VERSION}")));
    }
    let _tag = r.i64("delivery tag")?;
    let kind = match r.u8("kind")? {
        0 => JmsKind::Message,
        1 => JmsKind::Bytes,
        5 => JmsKind::Text,
        2 => JmsKind::Map,
        3 => JmsKind::Object,
        4 => JmsKind::Stream,
        k => return Err(CodecError(format!("kind {k}"))),
    };
    let mut jms = JmsMessage {
        kind,
        message_id: r.str("JMSMessageID")?,
        correlation_id: r.str("JMSCorrelationID")?,
        jms_type: r.str("JMSType")?,
        destination: r.dest("destination")?,
        reply_to: r.dest("JMSReplyTo")?,
        ..JmsMessage::default()
    };
    jms.priority = i8::try_from(r.u8("JMSPriority")?.min(9)).unwrap_or(4);
    jms.persistent = r.u8("JMSDeliveryMode")? != 0;
    jms.expiration = r.i64("JMSExpiration")?;
    jms.timestamp = r.i64("JMSTimestamp")?;
    jms.redelivery_counter = r.i32("redelivery counter")?;
    jms.user_id = r.str("JMSXUserID")?;
    jms.group_id = r.str("JMSXGroupID")?;
    jms.group_sequence = r.i32("JMSXGroupSeq")?;
    let count = r.i32("property count")?;
    for _ in 0..count.max(0) {
        let name = r
            .str("property name")?
            .ok_or_else(|| CodecError("null property name".into()))?;
        let value = r.value(&name)?;
        jms.properties.push((name, value));
    }
    let body = r.bytes("body")?;
    jms.body = match (kind, body) {
        (_, None) => JmsBody::None,
        (JmsKind::Text, Some(b)) => JmsBody::Text(
            String::from_utf8(b.to_vec()).map_err(|_| CodecError("text is not UTF-8".into()))?,
        ),
        (JmsKind::Object, Some(b)) => JmsBody::Object(Bytes::copy_from_slice(b)),
        (JmsKind::Map, Some(b)) => {
            let mut inner = Reader { buf: b };
            let n = inner.i32("map size")?;
            let mut entries = Vec::new();
            for _ in 0..n.max(0) {
                let name = inner
                    .str("map key")?
                    .ok_or_else(|| CodecError("null map key".into()))?;
                let value = inner.value(&name)?;
                entries.push((name, value));
            }
            inner.done()?;
            JmsBody::Map(entries)
        }
        (JmsKind::Stream, Some(b)) => {
            let mut inner = Reader { buf: b };
            let n = inner.i32("stream size")?;
            let mut items = Vec::new();
            for _ in 0..n.max(0) {
                items.push(inner.value("stream item")?);
            }
            inner.done()?;
            JmsBody::Stream(items)
        }
        (_, Some(b)) => JmsBody::Bytes(Bytes::copy_from_slice(b)),
    };
    r.done()?;
    Ok(jms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field() {
        let jms = JmsMessage {
            kind: JmsKind::Text,
            message_id: Some("ID:1".into()),
            correlation_id: Some("corr".into()),
            jms_type: Some("order".into()),
            destination: Some(JmsDestination::queue("q")),
            reply_to: Some(JmsDestination::topic("t")),
            priority: 7,
            persistent: true,
            expiration: 99,
            timestamp: 42,
            redelivery_counter: 2,
            user_id: Some("u".into()),
            group_id: Some("g".into()),
            group_sequence: 3,
            properties: vec![
                ("b".into(), JmsValue::Bool(true)),
                ("y".into(), JmsValue::Byte(-1)),
                ("s".into(), JmsValue::Short(-2)),
                ("i".into(), JmsValue::Int(-3)),
                ("l".into(), JmsValue::Long(-4)),
                ("f".into(), JmsValue::Float(1.5)),
                ("d".into(), JmsValue::Double(2.5)),
                ("c".into(), JmsValue::Char(65)),
                ("str".into(), JmsValue::String("héllo".into())),
                ("n".into(), JmsValue::Null),
                (
                    "bytes".into(),
                    JmsValue::Bytes(Bytes::from_static(b"\x00\xff")),
                ),
            ],
            body: JmsBody::Text("hé".into()),
        };
        let record = encode(&jms, 5);
        assert_eq!(decode(&record), Ok(jms));
    }

    #[test]
    fn map_stream_and_object_bodies_round_trip() {
        for (kind, body) in [
            (
                JmsKind::Map,
                JmsBody::Map(vec![
                    ("a".into(), JmsValue::Int(1)),
                    ("b".into(), JmsValue::String("x".into())),
                    ("c".into(), JmsValue::Bytes(Bytes::from_static(b"\x01"))),
                ]),
            ),
            (
                JmsKind::Stream,
                JmsBody::Stream(vec![JmsValue::Bool(true), JmsValue::Double(0.5)]),
            ),
            (
                JmsKind::Object,
                JmsBody::Object(Bytes::from_static(b"\xac\xed")),
            ),
        ] {
            let jms = JmsMessage {
                kind,
                body,
                ..JmsMessage::default()
            };
            assert_eq!(decode(&encode(&jms, 1)), Ok(jms));
        }
    }

    #[test]
    fn truncated_and_unknown_records_are_errors_not_panics() {
        let jms = JmsMessage {
            kind: JmsKind::Bytes,
            body: JmsBody::Bytes(Bytes::from_static(b"abc")),
            ..JmsMessage::default()
        };
        let record = encode(&jms, 0);
        for n in 0..record.len() {
            assert!(decode(&record[..n]).is_err(), "prefix {n}");
        }
        let mut bad = record.clone();
        bad[0] = 9;
        assert!(decode(&bad).is_err());
        let mut map = record;
        map[9] = 2;
        assert!(decode(&map).is_err(), "a bytes body is not a map");
    }
}
