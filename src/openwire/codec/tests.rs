//! Codec tests: fixtures captured from the real client and broker (decode every frame,
//! re-encode byte for byte), splits at every point, garbage, limits, modified UTF-8.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

use super::*;
use crate::openwire::message::{JmsBody, JmsValue};

const SCENARIOS: &[&str] = &[
    "basic",
    "compressed",
    "transacted",
    "acks",
    "temp",
    "pull",
    "durable",
    "error",
    "keepalive",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/openwire/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Splits a stream into whole frames (size prefix included).
fn frames(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    while rest.len() >= 4 {
        let size = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        out.push(&rest[..4 + size]);
        rest = &rest[4 + size..];
    }
    assert!(rest.is_empty(), "a partial frame at the end of the capture");
    out
}

fn wfi(frame: &[u8]) -> WireFormatInfo {
    match decode_frame(Bytes::copy_from_slice(&frame[4..]), WireSettings::default()) {
        Ok(Command::WireFormatInfo(w)) => w,
        other => panic!("not a WireFormatInfo: {other:?}"),
    }
}

/// Both directions of a scenario, decoded, with the negotiated settings.
struct Capture {
    settings: WireSettings,
    client: Vec<(Vec<u8>, Command)>,
    server: Vec<(Vec<u8>, Command)>,
}

fn capture(name: &str) -> Capture {
    let client_bytes = fixture(&format!("{name}.client.bin"));
    let server_bytes = fixture(&format!("{name}.server.bin"));
    let client_wfi = wfi(frames(&client_bytes)[0]);
    let server_wfi = wfi(frames(&server_bytes)[0]);
    let settings = WireSettings::negotiate(&server_wfi, &client_wfi).unwrap();
    let decode_all = |bytes: &[u8], local: &WireFormatInfo| {
        // The receiving side's codec, negotiating against what it sent itself.
        let mut codec = OpenWireCodec::new(local.clone(), Limits::default());
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        for frame in frames(bytes) {
            let cmd = codec
                .decode(&mut buf)
                .unwrap_or_else(|e| panic!("{name}: {e} in {frame:02x?}"))
                .unwrap();
            out.push((frame.to_vec(), cmd));
        }
        assert!(buf.is_empty());
        assert_eq!(codec.settings(), settings);
        out
    };
    Capture {
        settings,
        client: decode_all(&client_bytes, &server_wfi),
        server: decode_all(&server_bytes, &client_wfi),
    }
}

#[test]
fn every_fixture_frame_decodes_and_reencodes_identically() {
    let mut total = 0;
    for name in SCENARIOS {
        let cap = capture(name);
        assert_eq!(cap.settings.version, 12, "{name}");
        for (frame, cmd) in cap.client.iter().chain(&cap.server) {
            let mut out = BytesMut::new();
            encode_frame(cmd, cap.settings, Limits::default(), &mut out).unwrap();
            assert_eq!(
                &out[..],
                &frame[..],
                "{name}: {} re-encodes differently",
                cmd.name()
            );
            total += 1;
        }
    }
    assert!(total > 100, "only {total} frames");
}

fn commands(frames: &[(Vec<u8>, Command)]) -> impl Iterator<Item = &Command> {
    frames.iter().map(|(_, c)| c)
}

fn sent_messages(cap: &Capture) -> Vec<&Message> {
    commands(&cap.client)
        .filter_map(|c| match c {
            Command::Message(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

fn expected_properties() -> Vec<(&'static str, JmsValue)> {
    vec![
        ("pBool", JmsValue::Bool(true)),
        ("pByte", JmsValue::Byte(-7)),
        ("pShort", JmsValue::Short(-300)),
        ("pInt", JmsValue::Int(123456)),
        ("pLong", JmsValue::Long(1234567890123)),
        ("pFloat", JmsValue::Float(1.5)),
        ("pDouble", JmsValue::Double(-2.25)),
        ("pString", JmsValue::String(NON_BMP.into())),
        ("pBigString", JmsValue::String("x".repeat(9000))),
        ("pNull", JmsValue::Null),
    ]
}

const NON_BMP: &str = "h\u{e9}llo \u{1F600} nul[\0] \u{4e2d}";

fn check_all_types(name: &str, compressed: bool) {
    let cap = capture(name);
    let messages = sent_messages(&cap);
    assert_eq!(messages.len(), 6, "{name}");
    for m in &messages {
        assert_eq!(m.compressed, compressed && m.kind != MessageKind::Message);
        let props = m.properties().unwrap();
        for (key, value) in expected_properties() {
            let found = props.iter().find(|(k, _)| k == key).map(|(_, v)| v);
            assert_eq!(found, Some(&value), "{name}: property {key}");
        }
        assert_eq!(m.correlation_id.as_deref(), Some("corr-1"));
        assert_eq!(m.jms_type.as_deref(), Some("fixture-type"));
        assert_eq!(m.group_id.as_deref(), Some("group-1"));
        assert_eq!(m.group_sequence, 3);
        assert_eq!(m.priority, 7);
        assert!(m.expiration > m.timestamp);
        assert!(m.reply_to.as_ref().unwrap().name().ends_with(".reply"));
        assert!(m.jms_message_id().unwrap().starts_with("ID:"));
        let body = m.body().unwrap();
        match m.kind {
            MessageKind::Message => assert_eq!(body, JmsBody::None),
            MessageKind::Text => assert_eq!(body, JmsBody::Text(NON_BMP.into())),
            MessageKind::Bytes => {
                assert_eq!(
                    body,
                    JmsBody::Bytes(Bytes::from_static(&[0, 1, 2, 0xff, 42]))
                )
            }
            MessageKind::Object => match body {
                JmsBody::Object(b) => assert_eq!(&b[..2], &[0xac, 0xed]),
                other => panic!("{other:?}"),
            },
            MessageKind::Map => {
                let JmsBody::Map(map) = body else {
                    panic!("{body:?}")
                };
                let get = |k: &str| map.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
                assert_eq!(get("c"), Some(JmsValue::Char(0x20ac)));
                assert_eq!(get("str"), Some(JmsValue::String(NON_BMP.into())));
                assert_eq!(
                    get("bytes"),
                    Some(JmsValue::Bytes(Bytes::from_static(&[9, 8, 7])))
                );
                assert_eq!(
                    get("nested"),
                    Some(JmsValue::Map(vec![(
                        "k".into(),
                        JmsValue::String("v".into())
                    )]))
                );
                assert_eq!(
                    get("list"),
                    Some(JmsValue::List(vec![
                        JmsValue::Int(1),
                        JmsValue::String("two".into()),
                        JmsValue::Double(3.0)
                    ]))
                );
                assert_eq!(get("f"), Some(JmsValue::Float(5.5)));
            }
            MessageKind::Stream => assert_eq!(
                body,
                JmsBody::Stream(vec![
                    JmsValue::String("s".into()),
                    JmsValue::Int(42),
                    JmsValue::Bool(false),
                    JmsValue::Char(u16::from(b'z')),
                    JmsValue::Bytes(Bytes::from_static(&[1, 2])),
                    JmsValue::Double(0.125),
                    JmsValue::Null,
                ])
            ),
        }
        // Rebuilding the body gives the same body (and, uncompressed, the same bytes).
        let mut rebuilt = (*m).clone();
        rebuilt.set_body(&m.body().unwrap(), compressed).unwrap();
        assert_eq!(rebuilt.body().unwrap(), m.body().unwrap());
        if !compressed {
            assert_eq!(rebuilt.content, m.content, "{:?}", m.kind);
        }
        let mut reprops = (*m).clone();
        reprops.set_properties(&props).unwrap();
        assert_eq!(reprops.marshalled_properties, m.marshalled_properties);
    }
    // The broker dispatched all six back with the same bodies.
    let dispatched: Vec<_> = commands(&cap.server)
        .filter_map(|c| match c {
            Command::MessageDispatch(d) => d.message.as_deref(),
            _ => None,
        })
        .collect();
    assert_eq!(dispatched.len(), 6);
    for got in &dispatched {
        let seq = |m: &Message| m.message_id.as_ref().unwrap().producer_sequence_id;
        let sent = messages.iter().find(|m| seq(m) == seq(got)).unwrap();
        assert_eq!(sent.body().unwrap(), got.body().unwrap());
        assert_eq!(sent.kind, got.kind);
        assert!(got.message_id.as_ref().unwrap().broker_sequence_id > 0);
    }
}

#[test]
fn basic_every_message_type_and_property_type() {
    check_all_types("basic", false);
    let cap = capture("basic");
    let names: Vec<_> = commands(&cap.client).map(Command::name).collect();
    for want in [
        "WireFormatInfo",
        "ConnectionInfo",
        "SessionInfo",
        "ProducerInfo",
        "ConsumerInfo",
        "MessageAck",
        "RemoveInfo",
        "ShutdownInfo",
    ] {
        assert!(names.contains(&want), "client sent no {want}: {names:?}");
    }
    let server: Vec<_> = commands(&cap.server).map(Command::name).collect();
    for want in [
        "WireFormatInfo",
        "BrokerInfo",
        "Response",
        "MessageDispatch",
    ] {
        assert!(server.contains(&want), "broker sent no {want}: {server:?}");
    }
    // Every rr command was answered with its correlation id.
    for c in commands(&cap.client).filter(|c| c.response_required()) {
        let answered = commands(&cap.server).any(|s| match s {
            Command::Response(r) => r.correlation_id == c.command_id(),
            _ => false,
        });
        assert!(
            answered || c.name() == "ShutdownInfo",
            "{} unanswered",
            c.name()
        );
    }
}

#[test]
fn compressed_bodies_inflate() {
    check_all_types("compressed", true);
}

#[test]
fn transactions_acks_pull_temp_durable_keepalive() {
    let tx = capture("transacted");
    let kinds: Vec<u8> = commands(&tx.client)
        .filter_map(|c| match c {
            Command::TransactionInfo(t) => Some(t.kind),
            _ => None,
        })
        .collect();
    assert!(kinds.contains(&transaction_type::BEGIN));
    assert!(kinds.contains(&transaction_type::COMMIT_ONE_PHASE));
    assert!(kinds.contains(&transaction_type::ROLLBACK));
    assert!(commands(&tx.client).any(|c| matches!(c,
        Command::MessageAck(a) if matches!(a.transaction_id, Some(TransactionId::Local(_))))));

    let acks = capture("acks");
    let types: Vec<u8> = commands(&acks.client)
        .filter_map(|c| match c {
            Command::MessageAck(a) => Some(a.ack_type),
            _ => None,
        })
        .collect();
    assert!(types.contains(&ack_type::STANDARD), "{types:?}");
    assert!(types.contains(&ack_type::INDIVIDUAL), "{types:?}");
    assert!(commands(&acks.client).any(|c| matches!(c,
        Command::MessageAck(a) if a.ack_type == ack_type::STANDARD && a.message_count == 4)));

    let pull = capture("pull");
    assert!(commands(&pull.client).any(|c| matches!(c, Command::MessagePull(p) if p.timeout == -1)));
    assert!(commands(&pull.server)
        .any(|c| matches!(c, Command::MessageDispatch(d) if d.message.is_none())));
    assert!(commands(&pull.client).any(|c| matches!(c, Command::ConsumerInfo(i) if i.browser)));

    let temp = capture("temp");
    assert!(commands(&temp.client).any(|c| matches!(c,
        Command::DestinationInfo(d) if d.destination.as_ref().is_some_and(|d| d.kind == DestinationKind::TempQueue))));
    // The advisory dispatch carries a DestinationInfo as its data structure.
    assert!(commands(&temp.server).any(|c| matches!(c,
        Command::MessageDispatch(d) if d.message.as_ref().is_some_and(|m|
            matches!(&m.data_structure, Some(DataStructure::Command(inner)) if inner.name() == "DestinationInfo")))));

    let durable = capture("durable");
    assert!(commands(&durable.client).any(|c| matches!(c,
        Command::RemoveSubscriptionInfo(r) if r.subscription_name.as_deref() == Some("sub1"))));
    assert!(commands(&durable.client).any(|c| matches!(c,
        Command::ConsumerInfo(i) if i.selector.as_deref() == Some("pInt > 5"))));

    let ka = capture("keepalive");
    assert!(commands(&ka.client).any(|c| matches!(c, Command::KeepAliveInfo(_))));
    assert!(commands(&ka.server).any(|c| matches!(c, Command::KeepAliveInfo(_))));
}

#[test]
fn exception_response_with_stack_trace() {
    let cap = capture("error");
    assert!(cap.settings.stack_trace_enabled);
    let ex = commands(&cap.server)
        .find_map(|c| match c {
            Command::ExceptionResponse(e) => Some(e),
            _ => None,
        })
        .expect("no ExceptionResponse");
    let t = ex.exception.as_ref().unwrap();
    assert_eq!(
        t.class.as_deref(),
        Some("javax.jms.InvalidClientIDException")
    );
    assert!(!t.stack_trace.is_empty());
}

#[test]
fn server_wire_format_info_matches_the_verified_bytes() {
    // openwire.md §3: the 271-byte WireFormatInfo the stock client accepted.
    let hex = "0000010b014163746976654d510000000c01000000f90000000a0014546967\
        6874456e636f64696e67456e61626c65640100000c4361636865456e61626c6564\
        010000125369\
        7a6550726566697844697361626c656401000011537461636b547261636545\
        6e61626c65640100001154\
        63704e6f44656c6179456e61626c656401010009436163686553697a65050000\
        0000001\
        54d6178496e61637469766974794475726174696f6e0600000000000075300020\
        4d6178496e61637469766974794475726174696f6e496e6974616c44656c6179\
        060000000000002710000c4d61784672616d6553697a65060000000006400000\
        000c50726f76696465724e616d650900\
        0a66616b6562726f6b6572";
    let want: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let info = WireFormatInfo::server(30_000, 104_857_600, "fakebroker");
    let mut out = BytesMut::new();
    let mut codec = OpenWireCodec::new(info.clone(), Limits::default());
    codec
        .encode(Command::WireFormatInfo(info), &mut out)
        .unwrap();
    assert_eq!(out.len(), 271);
    assert_eq!(&out[..], &want[..]);
}

#[test]
fn small_exception_response_matches_the_verified_bytes() {
    let mut out = BytesMut::new();
    let cmd = Command::ExceptionResponse(ExceptionResponse::to(
        1,
        "javax.jms.InvalidClientIDException",
        "dup",
    ));
    encode_frame(&cmd, WireSettings::default(), Limits::default(), &mut out).unwrap();
    let mut want = vec![
        0, 0, 0, 0x36, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0x22,
    ];
    want.extend_from_slice(b"javax.jms.InvalidClientIDException");
    want.extend_from_slice(&[1, 0, 3]);
    want.extend_from_slice(b"dup");
    assert_eq!(&out[..], &want[..]);
    // And the Response of §10.
    out.clear();
    encode_frame(
        &Response::to(1).into(),
        WireSettings::default(),
        Limits::default(),
        &mut out,
    )
    .unwrap();
    assert_eq!(&out[..], &[0, 0, 0, 0x0a, 0x1e, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn first_frame_must_be_wire_format_info() {
    let mut codec = OpenWireCodec::new(WireFormatInfo::server(0, 0, "t"), Limits::default());
    let mut buf = BytesMut::from(&[0u8, 0, 0, 6, 10, 0, 0, 0, 0, 0][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(CodecError::Negotiation(_))
    ));
}

#[test]
fn oversized_prefix_fails_before_buffering() {
    let mut codec = OpenWireCodec::negotiated(WireSettings::default(), Limits::default());
    let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff, 1][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(CodecError::FrameTooLarge { .. })
    ));
    assert!(buf.capacity() < 1024);
    let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(CodecError::Malformed { .. })
    ));
    // A 2 GiB byte-sequence length inside a frame within the limit fails too.
    let mut frame = vec![0, 0, 0, 0];
    frame.extend_from_slice(&[28, 0, 0, 0, 1, 0]); // Text message header
    frame.extend_from_slice(&[0; 11]); // nulls up to groupSequence
    frame.extend_from_slice(&[1, 0x7f, 0xff, 0xff, 0xff]);
    let size = (frame.len() - 4) as u32;
    frame[..4].copy_from_slice(&size.to_be_bytes());
    assert!(codec.decode(&mut BytesMut::from(&frame[..])).is_err());
}

#[test]
fn unknown_type_carries_the_command_id() {
    let mut codec = OpenWireCodec::negotiated(WireSettings::default(), Limits::default());
    let mut buf = BytesMut::from(
        &[
            0u8, 0, 0, 6, 65, 0, 0, 0, 9, 1, 0, 0, 0, 6, 10, 0, 0, 0, 0, 0,
        ][..],
    );
    match codec.decode(&mut buf) {
        Err(CodecError::UnknownType {
            type_id: 65,
            command_id: Some(9),
        }) => {}
        other => panic!("{other:?}"),
    }
    // The frame was consumed: the next one decodes.
    assert!(matches!(
        codec.decode(&mut buf),
        Ok(Some(Command::KeepAliveInfo(_)))
    ));
}

#[test]
fn negotiation_refuses_old_versions() {
    let local = WireFormatInfo::server(0, 0, "t");
    let mut peer = local.clone();
    peer.version = 9;
    assert!(WireSettings::negotiate(&local, &peer).is_err());
    peer.version = 11;
    assert_eq!(WireSettings::negotiate(&local, &peer).unwrap().version, 11);
}

#[test]
fn modified_utf8_edge_cases() {
    assert_eq!(mutf8::encode("\0"), vec![0xC0, 0x80]);
    assert_eq!(
        mutf8::encode("\u{1F600}"),
        vec![0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]
    );
    assert_eq!(mutf8::encode("é"), "é".as_bytes());
    assert_eq!(mutf8::encode("\u{FFFF}"), vec![0xEF, 0xBF, 0xBF]);
    assert_eq!(mutf8::encoded_len("a\0\u{1F600}é"), 1 + 2 + 6 + 2);
    // Decoding accepts both forms.
    assert_eq!(mutf8::decode(&[0xC0, 0x80]).unwrap(), "\0");
    assert_eq!(mutf8::decode(&[0]).unwrap(), "\0");
    assert_eq!(
        mutf8::decode(&[0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]).unwrap(),
        "\u{1F600}"
    );
    assert_eq!(mutf8::decode("\u{1F600}".as_bytes()).unwrap(), "\u{1F600}");
    // Lone surrogates become U+FFFD; broken sequences are errors.
    assert_eq!(mutf8::decode(&[0xED, 0xA0, 0xBD]).unwrap(), "\u{FFFD}");
    assert_eq!(
        mutf8::decode(&[0xED, 0xB8, 0x80, b'a']).unwrap(),
        "\u{FFFD}a"
    );
    assert!(mutf8::decode(&[0xC3]).is_err());
    assert!(mutf8::decode(&[0xC1, 0x81]).is_err());
    assert!(mutf8::decode(&[0xFF]).is_err());
    assert!(mutf8::decode(&[0xE0, 0x80, 0x80]).is_err());
    // A string over 65535 encoded bytes cannot be a loose string.
    let mut buf = BytesMut::new();
    assert!(Writer::new(&mut buf, WireSettings::default())
        .utf(&"\0".repeat(40_000))
        .is_err());
}

#[test]
fn big_strings_switch_tags_at_8191_units() {
    for (len, tag) in [
        (8190, primitive_map::STRING),
        (8191, primitive_map::BIG_STRING),
    ] {
        let raw =
            primitive_map::marshal_map(&[("k".into(), JmsValue::String("a".repeat(len)))]).unwrap();
        assert_eq!(raw[7], tag);
        assert_eq!(
            primitive_map::parse_map(raw).unwrap()[0].1,
            JmsValue::String("a".repeat(len))
        );
    }
}

#[test]
fn built_message_round_trips() {
    let mut m = Message {
        kind: MessageKind::Text,
        destination: Some(Destination::queue("q")),
        message_id: Some(MessageId {
            producer_id: Some(ProducerId {
                connection_id: Some("ID:bridge-1".into()),
                value: 1,
                session_id: 1,
            }),
            producer_sequence_id: 7,
            ..MessageId::default()
        }),
        ..Message::default()
    };
    m.set_body(&JmsBody::Text("😀\0".into()), true).unwrap();
    m.set_properties(&[("n".into(), JmsValue::Long(-1))])
        .unwrap();
    assert_eq!(m.jms_message_id().as_deref(), Some("ID:bridge-1:1:1:7"));
    let dispatch = Command::MessageDispatch(MessageDispatch {
        consumer_id: Some(ConsumerId::default()),
        message: Some(Box::new(m.clone())),
        redelivery_counter: 2,
        ..MessageDispatch::default()
    });
    let mut buf = BytesMut::new();
    let mut codec = OpenWireCodec::negotiated(WireSettings::default(), Limits::default());
    codec.encode(&dispatch, &mut buf).unwrap();
    let back = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(back, dispatch);
    let Command::MessageDispatch(d) = back else {
        unreachable!()
    };
    let got = d.message.unwrap();
    assert_eq!(got.body().unwrap(), JmsBody::Text("😀\0".into()));
    assert_eq!(got.property("n").unwrap(), Some(JmsValue::Long(-1)));
    // Compressed bytes carry the uncompressed length first.
    let mut b = Message::default();
    b.set_body(&JmsBody::Bytes(Bytes::from_static(b"abcabcabc")), true)
        .unwrap();
    assert_eq!(&b.content.as_ref().unwrap()[..4], &[0, 0, 0, 9]);
    assert_eq!(
        b.body().unwrap(),
        JmsBody::Bytes(Bytes::from_static(b"abcabcabc"))
    );
}

fn all_fixture_bytes() -> Vec<(String, Vec<u8>, Vec<usize>)> {
    // Per stream: bytes and the frame boundaries.
    let mut out = Vec::new();
    for name in ["transacted", "temp", "pull", "error"] {
        for side in ["client", "server"] {
            let bytes = fixture(&format!("{name}.{side}.bin"));
            let n = frames(&bytes).len();
            out.push((format!("{name}.{side}"), bytes, vec![n]));
        }
    }
    out
}

fn decode_chunked(bytes: &[u8], cuts: &[usize]) -> Vec<Command> {
    let settings = WireSettings {
        version: 12,
        stack_trace_enabled: true,
    };
    let mut codec = OpenWireCodec::negotiated(settings, Limits::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        buf.extend_from_slice(&bytes[last..cut]);
        last = cut;
        while let Some(c) = codec.decode(&mut buf).unwrap() {
            out.push(c);
        }
    }
    assert!(buf.is_empty());
    out
}

#[test]
fn split_at_every_point() {
    for (name, bytes, counts) in all_fixture_bytes().into_iter().take(2) {
        let whole = decode_chunked(&bytes, &[]);
        assert_eq!(whole.len(), counts[0], "{name}");
        for cut in 0..=bytes.len() {
            assert_eq!(
                decode_chunked(&bytes, &[cut]),
                whole,
                "{name} split at {cut}"
            );
        }
    }
}

proptest! {
    #[test]
    fn split_anywhere(which in 0usize..8, mut cuts in proptest::collection::vec(0usize..100_000, 0..12)) {
        let streams = all_fixture_bytes();
        let (_, bytes, _) = &streams[which];
        for c in cuts.iter_mut() { *c %= bytes.len() + 1; }
        cuts.sort_unstable();
        prop_assert_eq!(decode_chunked(bytes, &cuts), decode_chunked(bytes, &[]));
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut codec = OpenWireCodec::negotiated(WireSettings { version: 12, stack_trace_enabled: true }, Limits::default());
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
        let mut fresh = OpenWireCodec::new(WireFormatInfo::server(0, 0, "t"), Limits::default());
        let _ = fresh.decode(&mut BytesMut::from(&data[..]));
        let _ = mutf8::decode(&data);
        let _ = primitive_map::parse_map(Bytes::from(data.clone()));
        let _ = primitive_map::parse_stream(Bytes::from(data));
    }

    #[test]
    fn framed_garbage_never_panics(ty in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut frame = Vec::with_capacity(data.len() + 5);
        frame.extend_from_slice(&((data.len() + 1) as i32).to_be_bytes());
        frame.push(ty);
        frame.extend_from_slice(&data);
        let mut codec = OpenWireCodec::negotiated(WireSettings::default(), Limits::default());
        if let Ok(Some(Command::Message(m))) = codec.decode(&mut BytesMut::from(&frame[..])) {
            let _ = m.body();
            let _ = m.properties();
        }
    }

    #[test]
    fn mutf8_round_trips(s in ".*") {
        let encoded = mutf8::encode(&s);
        prop_assert_eq!(encoded.len(), mutf8::encoded_len(&s));
        prop_assert!(!encoded.contains(&0));
        prop_assert!(!encoded.iter().any(|b| *b >= 0xF0));
        prop_assert_eq!(mutf8::decode(&encoded).unwrap(), s);
    }
}
