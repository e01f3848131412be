//! STOMP ↔ AMQP through the one broker core: a STOMP SEND read by lapin, an AMQP publish
//! read by a STOMP subscriber, a persistent receipt meaning stored, a STOMP reply to an
//! AMQP `reply_to`, and NACK dead-lettering.

use std::time::Duration;

use lapin::options::{
    BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;

use crate::common::stomp::StompClient;
use crate::common::{deliveries, lapin_connect, next, restart_bridge, start_bridge};

#[tokio::test]
async fn stomp_send_is_read_by_lapin() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "s2a".into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    let consumer = ch
        .basic_consume(
            "s2a".into(),
            "c".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    let (mut s, _) = StompClient::open(bridge.stomp_addr).await;
    s.send(
        "SEND",
        &[
            ("destination", "/queue/s2a"),
            ("content-type", "text/plain"),
            ("persistent", "true"),
            ("correlation-id", "c-1"),
            ("priority", "7"),
            ("x-app", "v"),
        ],
        b"from stomp",
    )
    .await;
    let d = next(&mut rx).await.expect("delivery");
    assert_eq!(&d.data[..], b"from stomp");
    assert_eq!(d.properties.delivery_mode(), &Some(2));
    assert_eq!(
        d.properties.correlation_id().as_ref().map(|s| s.as_str()),
        Some("c-1")
    );
    assert_eq!(d.properties.priority(), &Some(7));
    let headers = d.properties.headers().clone().unwrap_or_default();
    assert!(
        matches!(headers.inner().get("x-app"), Some(AMQPValue::LongString(v)) if v.to_string() == "v"),
        "{headers:?}"
    );
}

#[tokio::test]
async fn amqp_publish_reaches_a_stomp_topic_subscriber() {
    let bridge = start_bridge().await;
    let (mut s, _) = StompClient::open(bridge.stomp_addr).await;
    s.send_with_receipt(
        "SUBSCRIBE",
        &[("destination", "/topic/a.*"), ("id", "t")],
        b"",
        "r",
    )
    .await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.basic_publish(
        "amq.topic".into(),
        "a.b".into(),
        BasicPublishOptions::default(),
        b"from amqp\0!",
        BasicProperties::default().with_reply_to("replies".into()),
    )
    .await
    .unwrap();
    let m = s.frame().await;
    assert_eq!(m.header("destination"), Some("/topic/a.b"));
    assert_eq!(m.header("reply-to"), Some("/reply-queue/replies"));
    assert_eq!(&m.body[..], b"from amqp\0!");
}

#[tokio::test]
async fn persistent_receipt_means_stored() {
    let bridge = start_bridge().await;
    let (mut s, _) = StompClient::open(bridge.stomp_addr).await;
    s.send_with_receipt(
        "SEND",
        &[("destination", "/queue/kept"), ("persistent", "true")],
        b"durable",
        "r",
    )
    .await;
    drop(s);
    let dir = bridge.shutdown_keep_dir().await;
    let bridge = restart_bridge(dir).await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    let got = ch
        .basic_get("kept".into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap();
    assert_eq!(
        &got.expect("message survived").delivery.data[..],
        b"durable"
    );
}

#[tokio::test]
async fn stomp_temp_queue_reply_from_amqp() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "svc".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let (mut s, _) = StompClient::open(bridge.stomp_addr).await;
    s.send_with_receipt(
        "SEND",
        &[("destination", "/queue/svc"), ("reply-to", "/temp-queue/r")],
        b"q",
        "x",
    )
    .await;
    let got = ch
        .basic_get("svc".into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("request");
    let reply_to = got
        .delivery
        .properties
        .reply_to()
        .clone()
        .expect("reply_to")
        .to_string();
    assert!(
        reply_to.starts_with("amq.gen-"),
        "the real queue name: {reply_to}"
    );
    ch.basic_publish(
        "".into(),
        reply_to.as_str().into(),
        BasicPublishOptions::default(),
        b"answer",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    let m = s.frame().await;
    assert_eq!(m.header("subscription"), Some("/temp-queue/r"));
    assert_eq!(&m.body[..], b"answer");
}

#[tokio::test]
async fn nack_without_requeue_dead_letters() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "dead".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let (mut s, _) = StompClient::open(bridge.stomp_addr).await;
    // Queue arguments from x-* headers, as RabbitMQ's STOMP plugin takes them.
    s.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/work"),
            ("id", "w"),
            ("ack", "client-individual"),
            ("x-dead-letter-exchange", ""),
            ("x-dead-letter-routing-key", "dead"),
        ],
        b"",
    )
    .await;
    s.send("SEND", &[("destination", "/queue/work")], b"poison")
        .await;
    let m = s.frame().await;
    s.send_with_receipt(
        "NACK",
        &[("id", m.header("ack").unwrap()), ("requeue", "false")],
        b"",
        "n",
    )
    .await;
    let mut got = None;
    for _ in 0..50 {
        got = ch
            .basic_get("dead".into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap();
        if got.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = got.expect("dead-lettered");
    assert_eq!(&got.delivery.data[..], b"poison");
    assert!(got
        .delivery
        .properties
        .headers()
        .as_ref()
        .unwrap()
        .inner()
        .contains_key("x-death"));
}
