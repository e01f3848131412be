//! Raw-socket tests: what no well-behaved client sends.

use std::time::{Duration, Instant};

use amq_protocol::protocol::{basic, channel, connection, AMQPClass};
use lapin::options::*;
use lapin::types::FieldTable;
use lapin::BasicProperties;
use mqbridge::amqp::codec::{encode_method, PROTOCOL_HEADER};

use crate::common::raw::{RawClient, Read};
use crate::common::{lapin_connect, start_bridge, start_bridge_with};

#[tokio::test]
async fn raw_garbage_header_gets_our_protocol_header_and_close() {
    let bridge = start_bridge().await;
    let mut c = RawClient::connect(bridge.amqp_addr).await;
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let got = c
        .read_to_close(Duration::from_secs(5))
        .await
        .expect("socket closed");
    assert_eq!(got, PROTOCOL_HEADER);
}

#[tokio::test]
async fn raw_old_protocol_version_gets_our_header() {
    let bridge = start_bridge().await;
    let mut c = RawClient::connect(bridge.amqp_addr).await;
    c.send_raw(b"AMQP\x01\x01\x00\x09").await;
    let got = c
        .read_to_close(Duration::from_secs(5))
        .await
        .expect("socket closed");
    assert_eq!(got, PROTOCOL_HEADER);
}

#[tokio::test]
async fn raw_oversized_frame_is_501_before_the_payload() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.open_channel(1).await;
    // A method frame announcing 100 MB; no payload follows. The server must answer from
    // the header alone.
    let mut header = vec![1u8, 0, 1];
    header.extend_from_slice(&100_000_000u32.to_be_bytes());
    c.send_raw(&header).await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 501, "{text}");
    assert!(c.read_to_close(Duration::from_secs(5)).await.is_some());
}

#[tokio::test]
async fn raw_bad_frame_end_is_501() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    let mut frame = Vec::new();
    encode_method(
        &mut frame,
        1,
        AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {})),
    )
    .unwrap();
    let last = frame.len() - 1;
    frame[last] = 0x00;
    c.send_raw(&frame).await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 501, "{text}");
}

#[tokio::test]
async fn raw_method_on_unopened_channel_is_504() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.send(
        5,
        AMQPClass::Basic(basic::AMQPMethod::Qos(basic::Qos {
            prefetch_count: 1,
            global: false,
        })),
    )
    .await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 504, "{text}");
    // We answer close-ok; the server then closes the socket.
    c.send(
        0,
        AMQPClass::Connection(connection::AMQPMethod::CloseOk(connection::CloseOk {})),
    )
    .await;
    assert!(c.read_to_close(Duration::from_secs(5)).await.is_some());
}

#[tokio::test]
async fn raw_non_utf8_short_string_is_502() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.open_channel(1).await;
    // basic.publish: class 60, method 40, reserved u16, exchange "", routing key [0xFF], bits.
    let payload = [0u8, 60, 0, 40, 0, 0, 0, 1, 0xFF, 0];
    let mut frame = vec![1u8, 0, 1];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    frame.push(0xCE);
    c.send_raw(&frame).await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 502, "{text}");
}

#[tokio::test]
async fn raw_unknown_method_is_540() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.open_channel(1).await;
    let payload = [0u8, 60, 0, 99];
    let mut frame = vec![1u8, 0, 1];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    frame.push(0xCE);
    c.send_raw(&frame).await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 540, "{text}");
}

#[tokio::test]
async fn raw_ack_of_unknown_tag_is_406_on_the_channel() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.open_channel(1).await;
    c.send(
        1,
        AMQPClass::Basic(basic::AMQPMethod::Ack(basic::Ack {
            delivery_tag: 42,
            multiple: false,
        })),
    )
    .await;
    match c.method().await {
        AMQPClass::Channel(channel::AMQPMethod::Close(close)) => {
            assert_eq!(close.reply_code, 406, "{}", close.reply_text);
            assert_eq!((close.class_id, close.method_id), (60, 80));
        }
        other => panic!("expected channel.close, got {other:?}"),
    }
    // Frames on the closing channel are dropped until close-ok; then it can be reopened.
    c.send(
        1,
        AMQPClass::Basic(basic::AMQPMethod::Qos(basic::Qos {
            prefetch_count: 1,
            global: false,
        })),
    )
    .await;
    c.send(
        1,
        AMQPClass::Channel(channel::AMQPMethod::CloseOk(channel::CloseOk {})),
    )
    .await;
    c.open_channel(1).await;
}

#[tokio::test]
async fn raw_content_without_publish_is_505() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.open_channel(1).await;
    let mut frame = vec![3u8, 0, 1, 0, 0, 0, 3];
    frame.extend_from_slice(b"abc");
    frame.push(0xCE);
    c.send_raw(&frame).await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 505, "{text}");
}

#[tokio::test]
async fn raw_silent_client_is_dropped_after_two_heartbeats() {
    let bridge = start_bridge_with(|config| {
        if let Some(amqp) = config.listeners.amqp.as_mut() {
            amqp.heartbeat = 1;
        }
    })
    .await;
    let mut c = RawClient::open(bridge.amqp_addr, 1).await;
    let started = Instant::now();
    let mut heartbeats = 0;
    let closed = loop {
        match c.read_within(Duration::from_secs(6)).await {
            Read::Closed => break true,
            Read::TimedOut => break false,
            Read::Frame(_) => {}
        }
        heartbeats += 1;
    };
    let _ = heartbeats;
    let elapsed = started.elapsed();
    assert!(closed, "the server drops a silent client");
    assert!(
        elapsed >= Duration::from_millis(1500),
        "not before two intervals: {elapsed:?}"
    );
    assert!(
        elapsed <= Duration::from_secs(4),
        "soon after two intervals: {elapsed:?}"
    );
}

#[tokio::test]
async fn raw_server_sends_heartbeats() {
    let bridge = start_bridge_with(|config| {
        if let Some(amqp) = config.listeners.amqp.as_mut() {
            amqp.heartbeat = 1;
        }
    })
    .await;
    let mut c = RawClient::open(bridge.amqp_addr, 1).await;
    // Keep ourselves alive by sending heartbeats; count the server's raw heartbeat frames.
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 64];
    while Instant::now() < deadline {
        c.send_raw(&mqbridge::amqp::codec::HEARTBEAT_FRAME).await;
        if let Ok(Ok(n)) = tokio::time::timeout(
            Duration::from_millis(400),
            tokio::io::AsyncReadExt::read(&mut c.stream, &mut buf),
        )
        .await
        {
            assert!(n > 0, "the server must not close a live client");
            seen += buf[..n]
                .chunks(8)
                .filter(|f| f == &mqbridge::amqp::codec::HEARTBEAT_FRAME)
                .count();
        }
    }
    assert!(seen >= 2, "server heartbeats seen: {seen}");
}

#[tokio::test]
async fn raw_protocol_error_does_not_hurt_other_clients() {
    let bridge = start_bridge().await;
    let good = lapin_connect(&bridge).await;
    let ch = good.create_channel().await.unwrap();
    ch.queue_declare(
        "survivor".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();

    let mut bad = RawClient::open(bridge.amqp_addr, 0).await;
    bad.send_raw(&[9, 9, 9, 9, 9, 9, 9, 9]).await;
    let (code, _) = bad.expect_connection_close().await;
    assert_eq!(code, 501);

    ch.basic_publish(
        "".into(),
        "survivor".into(),
        BasicPublishOptions::default(),
        b"still here",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    let m = ch
        .basic_get("survivor".into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("message");
    assert_eq!(m.delivery.data, b"still here");
}

#[tokio::test]
async fn raw_shutdown_sends_connection_close_320() {
    let bridge = start_bridge().await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    let shutdown = tokio::spawn(bridge.shutdown());
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 320, "{text}");
    c.send(
        0,
        AMQPClass::Connection(connection::AMQPMethod::CloseOk(connection::CloseOk {})),
    )
    .await;
    assert!(c.read_to_close(Duration::from_secs(5)).await.is_some());
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown finishes")
        .unwrap();
}

/// Client properties announcing the `connection.blocked` capability.
fn blocked_capable() -> amq_protocol::types::FieldTable {
    use amq_protocol::types::{AMQPValue, FieldTable};
    let mut caps = FieldTable::default();
    caps.insert("connection.blocked".into(), AMQPValue::Boolean(true));
    let mut props = FieldTable::default();
    props.insert("capabilities".into(), AMQPValue::FieldTable(caps));
    props
}

#[tokio::test]
async fn raw_resource_alarm_blocks_publishers_until_cleared() {
    use amq_protocol::protocol::queue;
    let bridge = start_bridge().await;
    let mut c = RawClient::open_with(bridge.amqp_addr, 0, blocked_capable()).await;
    c.open_channel(1).await;
    c.send(
        1,
        AMQPClass::Queue(queue::AMQPMethod::Declare(queue::Declare {
            queue: "alarmed".into(),
            ..Default::default()
        })),
    )
    .await;
    assert!(matches!(
        c.method().await,
        AMQPClass::Queue(queue::AMQPMethod::DeclareOk(_))
    ));

    bridge.bridge.broker.set_alarm(true);
    match c.method().await {
        AMQPClass::Connection(connection::AMQPMethod::Blocked(b)) => {
            assert!(!b.reason.as_str().is_empty())
        }
        other => panic!("expected connection.blocked, got {other:?}"),
    }
    // A publish while blocked is accepted, but the connection is then no longer read:
    // the queue.declare after it is answered only once the alarm clears.
    let mut frames = Vec::new();
    encode_method(
        &mut frames,
        1,
        AMQPClass::Basic(basic::AMQPMethod::Publish(basic::Publish {
            exchange: "".into(),
            routing_key: "alarmed".into(),
            mandatory: false,
            immediate: false,
        })),
    )
    .unwrap();
    mqbridge::amqp::codec::encode_content(&mut frames, 1, &Default::default(), b"x", 131_072)
        .unwrap();
    c.send_raw(&frames).await;
    c.send(
        1,
        AMQPClass::Queue(queue::AMQPMethod::Declare(queue::Declare {
            queue: "alarmed".into(),
            passive: true,
            ..Default::default()
        })),
    )
    .await;
    assert!(
        matches!(
            c.read_within(Duration::from_millis(500)).await,
            Read::TimedOut
        ),
        "nothing is read from a blocked publisher"
    );
    bridge.bridge.broker.set_alarm(false);
    assert!(matches!(
        c.method().await,
        AMQPClass::Connection(connection::AMQPMethod::Unblocked(_))
    ));
    match c.method().await {
        AMQPClass::Queue(queue::AMQPMethod::DeclareOk(ok)) => assert_eq!(ok.message_count, 1),
        other => panic!("expected queue.declare-ok, got {other:?}"),
    }
}

#[tokio::test]
async fn raw_channel_flow_from_the_client_pauses_deliveries() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "flow".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let active = ch
        .channel_flow(ChannelFlowOptions { active: false })
        .await
        .unwrap();
    assert!(!active);
    let consumer = ch
        .basic_consume(
            "flow".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = crate::common::deliveries(&consumer);
    let publisher = conn.create_channel().await.unwrap();
    publisher
        .basic_publish(
            "".into(),
            "flow".into(),
            BasicPublishOptions::default(),
            b"later",
            BasicProperties::default(),
        )
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "no delivery while flow is off"
    );
    assert!(ch
        .channel_flow(ChannelFlowOptions { active: true })
        .await
        .unwrap());
    let d = crate::common::next(&mut rx)
        .await
        .expect("delivery after flow on");
    assert_eq!(d.data, b"later");
}

#[tokio::test]
async fn raw_channel_above_channel_max_is_530() {
    let bridge = start_bridge_with(|config| {
        if let Some(amqp) = config.listeners.amqp.as_mut() {
            amqp.channel_max = 2;
        }
    })
    .await;
    let mut c = RawClient::open(bridge.amqp_addr, 0).await;
    c.open_channel(2).await;
    c.send(
        3,
        AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {})),
    )
    .await;
    let (code, text) = c.expect_connection_close().await;
    assert_eq!(code, 530, "{text}");
}

#[tokio::test]
async fn raw_lowered_frame_max_splits_content_both_ways() {
    use amq_protocol::protocol::queue;
    use mqbridge::amqp::codec::{encode_content, Frame};
    let bridge = start_bridge().await;
    let mut c = RawClient::open_tuned(bridge.amqp_addr, 0, Some(4096), Default::default()).await;
    c.open_channel(1).await;
    c.send(
        1,
        AMQPClass::Queue(queue::AMQPMethod::Declare(queue::Declare {
            queue: "small-frames".into(),
            ..Default::default()
        })),
    )
    .await;
    c.method().await;
    let body: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let mut frames = Vec::new();
    encode_method(
        &mut frames,
        1,
        AMQPClass::Basic(basic::AMQPMethod::Publish(basic::Publish {
            exchange: "".into(),
            routing_key: "small-frames".into(),
            mandatory: false,
            immediate: false,
        })),
    )
    .unwrap();
    encode_content(&mut frames, 1, &Default::default(), &body, 4096).unwrap();
    c.send_raw(&frames).await;
    c.send(
        1,
        AMQPClass::Basic(basic::AMQPMethod::Get(basic::Get {
            queue: "small-frames".into(),
            no_ack: true,
        })),
    )
    .await;
    assert!(matches!(
        c.method().await,
        AMQPClass::Basic(basic::AMQPMethod::GetOk(_))
    ));
    match c.read().await {
        Read::Frame(Frame::Header(1, h)) => assert_eq!(h.body_size, 10_000),
        other => panic!("expected a content header, got {other:?}"),
    }
    let mut got = Vec::new();
    while got.len() < body.len() {
        match c.read().await {
            Read::Frame(Frame::Body(1, b)) => {
                assert!(b.len() + 8 <= 4096, "body frame of {} bytes", b.len());
                got.extend_from_slice(&b);
            }
            other => panic!("expected a body frame, got {other:?}"),
        }
    }
    assert_eq!(got, body);
}
