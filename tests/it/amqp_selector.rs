//! The AMQP listener's `x-selector` consume argument (docs/mapping.md §6.5) with a real
//! client (lapin): filtering, refused messages left for other consumers, the 406 for an
//! invalid selector, and the connector's detection of the feature (mqbridge yes, RabbitMQ no).

use std::time::Duration;

use lapin::options::*;
use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;
use mqbridge::amqp::connector::{AmqpClientConfig, AmqpConnector};

use crate::common::{deliveries, lapin_connect, next, reply_code, start_bridge};

fn selector(text: &str) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-selector".into(), AMQPValue::LongString(text.into()));
    args
}

fn colored(color: &str, priority: u8) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert("color".into(), AMQPValue::LongString(color.into()));
    BasicProperties::default()
        .with_headers(headers)
        .with_priority(priority)
}

#[tokio::test]
async fn x_selector_filters_and_leaves_refused_messages_for_others() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "sel".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    for (body, color, priority) in [
        ("r1", "red", 1),
        ("b1", "blue", 1),
        ("r-urgent", "red", 9),
        ("r2", "red", 1),
    ] {
        ch.basic_publish(
            "".into(),
            "sel".into(),
            BasicPublishOptions::default(),
            body.as_bytes(),
            colored(color, priority),
        )
        .await
        .unwrap();
    }
    let red = ch
        .basic_consume(
            "sel".into(),
            "red".into(),
            BasicConsumeOptions::default(),
            selector("color = 'red' AND JMSPriority < 5"),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&red);
    for expected in ["r1", "r2"] {
        let d = next(&mut rx).await.expect("a delivery");
        assert_eq!(d.data, expected.as_bytes());
        d.ack(BasicAckOptions::default()).await.unwrap();
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "nothing else matches"
    );
    // The refused messages are still in the queue, in order, for a plain consumer.
    let ch2 = conn.create_channel().await.unwrap();
    let all = ch2
        .basic_consume(
            "sel".into(),
            "all".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx2 = deliveries(&all);
    for expected in ["b1", "r-urgent"] {
        let d = next(&mut rx2).await.expect("a delivery");
        assert_eq!(d.data, expected.as_bytes());
        d.ack(BasicAckOptions::default()).await.unwrap();
    }
    conn.close(200, "bye".into()).await.unwrap();
    bridge.shutdown().await;
}

#[tokio::test]
async fn invalid_x_selector_is_406_on_the_channel() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "sel-bad".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let err = ch
        .basic_consume(
            "sel-bad".into(),
            "c".into(),
            BasicConsumeOptions::default(),
            selector("color = "),
        )
        .await
        .expect_err("406");
    assert_eq!(reply_code(&err), Some(406), "{err}");
    assert!(err.to_string().contains("invalid selector"), "{err}");
    // A non-string selector too.
    let ch = conn.create_channel().await.unwrap();
    let mut args = FieldTable::default();
    args.insert("x-selector".into(), AMQPValue::LongInt(7));
    let err = ch
        .basic_consume(
            "sel-bad".into(),
            "c".into(),
            BasicConsumeOptions::default(),
            args,
        )
        .await
        .expect_err("406");
    assert_eq!(reply_code(&err), Some(406), "{err}");
    assert!(conn.status().connected(), "a channel error only");
    // An empty selector selects everything.
    let ch = conn.create_channel().await.unwrap();
    ch.basic_consume(
        "sel-bad".into(),
        "c".into(),
        BasicConsumeOptions::default(),
        selector("  "),
    )
    .await
    .expect("empty selector accepted");
    conn.close(200, "bye".into()).await.unwrap();
    bridge.shutdown().await;
}

fn connector_config(url: String) -> AmqpClientConfig {
    AmqpClientConfig {
        urls: vec![url],
        connect_timeout: Duration::from_secs(5),
        heartbeat: 30,
        product: "mqbridge",
    }
}

#[tokio::test]
async fn the_connector_detects_selector_support() {
    let bridge = start_bridge().await;
    let conn = AmqpConnector::connect(&connector_config(bridge.amqp_uri()))
        .await
        .expect("connect");
    assert_eq!(conn.supports_selectors().await.ok(), Some(true));
    // Asked once, and the connection is unharmed by the probe.
    assert_eq!(conn.supports_selectors().await.ok(), Some(true));
    assert!(conn.is_connected());
    conn.close().await;
    bridge.shutdown().await;

    match std::env::var("RABBITMQ_URL") {
        Ok(url) if !url.is_empty() => {
            let conn = AmqpConnector::connect(&connector_config(url))
                .await
                .expect("connect to RabbitMQ");
            assert_eq!(conn.supports_selectors().await.ok(), Some(false));
            assert!(conn.is_connected());
            conn.close().await;
        }
        _ => eprintln!("RABBITMQ_URL not set: skipping the RabbitMQ half of this test"),
    }
}
