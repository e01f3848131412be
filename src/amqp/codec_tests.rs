//! Codec tests: a captured real session (amqplib ↔ RabbitMQ, see testdata/README.md),
//! known bytes, every frame-level error, and a proptest that splits input anywhere.

use amq_protocol::protocol::{basic, channel, confirm, connection, queue};
use amq_protocol::types::{AMQPValue, LongString};
use proptest::prelude::*;

use super::*;

const CLIENT: &[u8] = include_bytes!("testdata/amqplib_to_rabbitmq.bin");
const SERVER: &[u8] = include_bytes!("testdata/rabbitmq_to_amqplib.bin");

/// Decode a whole stream (minus a leading protocol header); panics on an error.
fn decode_all(bytes: &[u8], frame_max: u32) -> Vec<Frame> {
    let bytes = bytes.strip_prefix(&PROTOCOL_HEADER[..]).unwrap_or(bytes);
    let decoder = FrameDecoder::new(frame_max);
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut buf).expect("valid frame") {
        frames.push(frame);
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    frames
}

fn method(frame: &Frame) -> Option<&AMQPClass> {
    match frame {
        Frame::Method(_, m) => Some(m),
        _ => None,
    }
}

#[test]
fn captured_client_stream_decodes() {
    let frames = decode_all(CLIENT, 131_072);
    let methods: Vec<&AMQPClass> = frames.iter().filter_map(method).collect();
    let AMQPClass::Connection(connection::AMQPMethod::StartOk(start_ok)) = methods[0] else {
        panic!("first frame: {:?}", methods[0]);
    };
    assert_eq!(start_ok.mechanism.as_str(), "PLAIN");
    assert_eq!(start_ok.response.as_bytes(), b"\0guest\0guest");
    assert!(matches!(
        methods[1],
        AMQPClass::Connection(connection::AMQPMethod::TuneOk(_))
    ));
    assert!(matches!(
        methods[2],
        AMQPClass::Connection(connection::AMQPMethod::Open(_))
    ));
    assert!(matches!(
        methods[3],
        AMQPClass::Channel(channel::AMQPMethod::Open(_))
    ));
    assert!(methods
        .iter()
        .any(|m| matches!(m, AMQPClass::Confirm(confirm::AMQPMethod::Select(_)))));
    assert!(methods
        .iter()
        .any(|m| matches!(m, AMQPClass::Queue(queue::AMQPMethod::Declare(_)))));
    assert!(methods
        .iter()
        .any(|m| matches!(m, AMQPClass::Basic(basic::AMQPMethod::Ack(_)))));
    assert!(matches!(
        methods.last(),
        Some(AMQPClass::Connection(connection::AMQPMethod::Close(_)))
    ));

    let header = frames
        .iter()
        .find_map(|f| match f {
            Frame::Header(1, h) => Some(h),
            _ => None,
        })
        .expect("a content header");
    assert_eq!(header.body_size, 200_000);
    assert_eq!(
        header
            .properties
            .content_type()
            .as_ref()
            .map(|s| s.as_str()),
        Some("text/plain")
    );
    assert_eq!(*header.properties.delivery_mode(), Some(2));
    let headers = header.properties.headers().as_ref().expect("headers");
    assert_eq!(
        headers.inner().get("JMSType"),
        Some(&AMQPValue::LongString(LongString::from("order")))
    );
    let bodies: Vec<&Bytes> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Body(1, b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies.len(),
        2,
        "amqplib splits 200 000 bytes at frame_max 131072"
    );
    assert_eq!(bodies.iter().map(|b| b.len()).sum::<usize>(), 200_000);
    assert!(bodies.iter().all(|b| b.iter().all(|&c| c == b'a')));
}

#[test]
fn captured_server_stream_decodes() {
    let frames = decode_all(SERVER, 0);
    let methods: Vec<&AMQPClass> = frames.iter().filter_map(method).collect();
    let AMQPClass::Connection(connection::AMQPMethod::Start(start)) = methods[0] else {
        panic!("first frame: {:?}", methods[0]);
    };
    assert!(start.mechanisms.to_string().contains("PLAIN"));
    assert!(start.server_properties.inner().contains_key("capabilities"));
    let deliver = methods
        .iter()
        .find_map(|m| match m {
            AMQPClass::Basic(basic::AMQPMethod::Deliver(d)) => Some(d),
            _ => None,
        })
        .expect("a basic.deliver");
    assert_eq!(deliver.consumer_tag.as_str(), "cap");
    assert_eq!(deliver.delivery_tag, 1);
    let body: usize = frames
        .iter()
        .map(|f| match f {
            Frame::Body(_, b) => b.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(body, 200_000);
}

#[test]
fn every_captured_frame_reencodes_to_an_equal_frame() {
    for frame in decode_all(CLIENT, 0)
        .into_iter()
        .chain(decode_all(SERVER, 0))
    {
        let mut out = Vec::new();
        match &frame {
            Frame::Method(ch, m) => encode_method(&mut out, *ch, (**m).clone()).unwrap(),
            Frame::Header(ch, h) => {
                encode_frame(&mut out, &AMQPFrame::Header(*ch, (**h).clone())).unwrap()
            }
            Frame::Body(ch, b) => {
                encode_content(&mut out, *ch, &Default::default(), b, 0).unwrap();
                // Skip the header frame encode_content writes first.
                let size = u32::from_be_bytes([out[3], out[4], out[5], out[6]]) as usize;
                out.drain(..size + FRAME_OVERHEAD);
            }
            Frame::Heartbeat => out.extend_from_slice(&HEARTBEAT_FRAME),
        }
        let again = FrameDecoder::new(0)
            .decode(&mut BytesMut::from(&out[..]))
            .unwrap();
        assert_eq!(again.as_ref(), Some(&frame));
    }
}

#[test]
fn known_bytes() {
    let mut out = Vec::new();
    encode_method(
        &mut out,
        1,
        AMQPClass::Channel(channel::AMQPMethod::OpenOk(channel::OpenOk {})),
    )
    .unwrap();
    // channel.open-ok carries a reserved long string (4 zero bytes).
    assert_eq!(out, [1, 0, 1, 0, 0, 0, 8, 0, 20, 0, 11, 0, 0, 0, 0, 0xCE]);
    let mut buf = BytesMut::from(&[1u8, 0, 1, 0, 0, 0, 5, 0, 20, 0, 10, 0, 0xCE][..]);
    let frame = FrameDecoder::new(4096).decode(&mut buf).unwrap();
    assert_eq!(
        frame,
        Some(Frame::Method(
            1,
            Box::new(AMQPClass::Channel(channel::AMQPMethod::Open(
                channel::Open {}
            )))
        ))
    );
    let mut buf = BytesMut::from(&HEARTBEAT_FRAME[..]);
    assert_eq!(
        FrameDecoder::new(4096).decode(&mut buf).unwrap(),
        Some(Frame::Heartbeat)
    );
}

fn decode_err(bytes: &[u8], frame_max: u32) -> FrameError {
    FrameDecoder::new(frame_max)
        .decode(&mut BytesMut::from(bytes))
        .expect_err("an error")
}

#[test]
fn oversized_frame_is_refused_from_its_header_alone() {
    // Only the 7 header bytes: the size is checked before any payload is buffered.
    let e = decode_err(&[3, 0, 1, 0x10, 0, 0, 0], 131_072);
    assert_eq!(e.code, ReplyCode::FrameError);
    // Exactly frame_max (payload + 8) is fine.
    let mut ok = vec![3u8, 0, 1, 0, 0, 0x0F, 0xF8];
    ok.resize(7 + 4088, b'x');
    ok.push(FRAME_END);
    let frame = FrameDecoder::new(4096)
        .decode(&mut BytesMut::from(&ok[..]))
        .unwrap();
    assert!(matches!(frame, Some(Frame::Body(1, b)) if b.len() == 4088));
    ok[6] = 0xF9;
    assert_eq!(decode_err(&ok, 4096).code, ReplyCode::FrameError);
}

#[test]
fn frame_errors_have_their_codes() {
    assert_eq!(
        decode_err(&[1, 0, 1, 0, 0, 0, 5, 0, 20, 0, 10, 0, 0x00], 0).code,
        ReplyCode::FrameError
    );
    assert_eq!(
        decode_err(&[7, 0, 0, 0, 0, 0, 0, 0xCE], 0).code,
        ReplyCode::FrameError
    );
    assert_eq!(
        decode_err(&[8, 0, 3, 0, 0, 0, 0, 0xCE], 0).code,
        ReplyCode::FrameError
    );
    // A method frame too short for its ids, a truncated method, an unknown method.
    assert_eq!(
        decode_err(&[1, 0, 1, 0, 0, 0, 2, 0, 20, 0xCE], 0).code,
        ReplyCode::SyntaxError
    );
    let e = decode_err(&[1, 0, 1, 0, 0, 0, 5, 0, 60, 0, 40, 0, 0xCE], 0);
    assert_eq!(
        (e.code, e.class_id, e.method_id),
        (ReplyCode::SyntaxError, 60, 40)
    );
    let e = decode_err(&[1, 0, 1, 0, 0, 0, 4, 0, 60, 0, 99, 0xCE], 0);
    assert_eq!(e.code, ReplyCode::NotImplemented);
    // basic.publish with a non-UTF-8 routing key.
    let e = decode_err(
        &[
            1, 0, 1, 0, 0, 0, 10, 0, 60, 0, 40, 0, 0, 0, 1, 0xFF, 0, 0xCE,
        ],
        0,
    );
    assert_eq!(e.code, ReplyCode::SyntaxError);
}

#[test]
fn partial_frames_wait_for_more() {
    let decoder = FrameDecoder::new(0);
    let mut buf = BytesMut::from(&HEARTBEAT_FRAME[..5]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(buf.len(), 5, "an incomplete frame stays in the buffer");
}

#[test]
fn bodies_are_split_to_frame_max() {
    let body = vec![1u8; 10_000];
    let mut out = Vec::new();
    encode_content(&mut out, 3, &Default::default(), &body, 4096).unwrap();
    let frames = decode_all(&out, 4096);
    assert!(matches!(&frames[0], Frame::Header(3, h) if h.body_size == 10_000));
    let sizes: Vec<usize> = frames[1..]
        .iter()
        .map(|f| match f {
            Frame::Body(3, b) => b.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, [4088, 4088, 1824]);
}

/// Decode `bytes` fed in chunks cut at `cuts`.
fn decode_chunked(bytes: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let bytes = bytes.strip_prefix(&PROTOCOL_HEADER[..]).unwrap_or(bytes);
    let decoder = FrameDecoder::new(131_072);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    let mut start = 0;
    for end in points {
        buf.extend_from_slice(&bytes[start..end]);
        start = end;
        while let Some(f) = decoder.decode(&mut buf).expect("valid frame") {
            frames.push(f);
        }
    }
    frames
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn split_anywhere_gives_the_same_frames(cuts in proptest::collection::vec(any::<usize>(), 0..40)) {
        let whole = decode_all(CLIENT, 131_072);
        prop_assert_eq!(decode_chunked(CLIENT, &cuts), whole);
        let whole = decode_all(SERVER, 131_072);
        prop_assert_eq!(decode_chunked(SERVER, &cuts), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let decoder = FrameDecoder::new(4096);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(_)) = decoder.decode(&mut buf) {}
    }
}
