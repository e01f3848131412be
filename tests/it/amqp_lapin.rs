//! The AMQP listener with a real client (lapin 4.12): the happy paths.

use std::time::Duration;

use lapin::options::*;
use lapin::types::FieldTable;
use lapin::BasicProperties;

use crate::common::{deliveries, lapin_connect, next, start_bridge};

#[tokio::test]
async fn amqp_handshake_plain_and_amqplain() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    assert!(conn.status().connected());
    let uri = format!("{}?auth_mechanism=amqplain", bridge.amqp_uri());
    let conn2 = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .expect("AMQPLAIN login");
    assert!(conn2.status().connected());
    conn.close(200, "bye".into()).await.expect("close");
    conn2.close(200, "bye".into()).await.expect("close");
}

#[tokio::test]
async fn amqp_publish_consume_ack() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "work".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let consumer = ch
        .basic_consume(
            "work".into(),
            "c1".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    let body = vec![7u8; 300_000]; // several body frames at frame_max 131072
    ch.basic_publish(
        "".into(),
        "work".into(),
        BasicPublishOptions::default(),
        &body,
        BasicProperties::default().with_content_type("application/octet-stream".into()),
    )
    .await
    .unwrap();
    let d = next(&mut rx).await.expect("a delivery");
    assert_eq!(d.data, body);
    assert_eq!(d.routing_key.as_str(), "work");
    assert_eq!(
        d.properties.content_type().as_ref().map(|s| s.as_str()),
        Some("application/octet-stream")
    );
    assert!(!d.redelivered);
    d.ack(BasicAckOptions::default()).await.unwrap();
    let q = ch
        .queue_declare(
            "work".into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(q.message_count(), 0);
    conn.close(200, "bye".into()).await.unwrap();
}

#[tokio::test]
async fn amqp_many_channels_per_connection() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let mut channels = Vec::new();
    for i in 0..20 {
        let ch = conn.create_channel().await.unwrap();
        let name = format!("q{i}");
        ch.queue_declare(
            name.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        ch.basic_publish(
            "".into(),
            name.as_str().into(),
            BasicPublishOptions::default(),
            name.as_bytes(),
            BasicProperties::default(),
        )
        .await
        .unwrap();
        channels.push((ch, name));
    }
    for (ch, name) in &channels {
        let got = ch
            .basic_get(name.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
            .expect("a message");
        assert_eq!(got.delivery.data, name.as_bytes());
    }
}

#[tokio::test]
async fn amqp_publisher_confirms_persistent() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "durable-q".into(),
        QueueDeclareOptions::durable(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut confirms = Vec::new();
    for i in 0..200u32 {
        let c = ch
            .basic_publish(
                "".into(),
                "durable-q".into(),
                BasicPublishOptions::default(),
                &i.to_be_bytes(),
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        confirms.push(c);
    }
    for c in confirms {
        assert!(c.await.unwrap().is_ack());
    }
    let q = ch
        .queue_declare(
            "durable-q".into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(q.message_count(), 200);
}

#[tokio::test]
async fn amqp_mandatory_unroutable_is_returned_then_acked() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let confirm = ch
        .basic_publish(
            "".into(),
            "nowhere".into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            b"lost",
            BasicProperties::default().with_priority(3),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(confirm.is_ack());
    let returned = confirm.take_message().expect("basic.return before the ack");
    assert_eq!(returned.reply_code, 312);
    assert_eq!(returned.reply_text.as_str(), "NO_ROUTE");
    assert_eq!(returned.delivery.data, b"lost");
    assert_eq!(returned.delivery.properties.priority(), &Some(3));
}

#[tokio::test]
async fn amqp_get_and_get_empty_nack_requeue() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "g".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    assert!(ch
        .basic_get("g".into(), BasicGetOptions::default())
        .await
        .unwrap()
        .is_none());
    ch.basic_publish(
        "".into(),
        "g".into(),
        BasicPublishOptions::default(),
        b"one",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    let m = ch
        .basic_get("g".into(), BasicGetOptions::default())
        .await
        .unwrap()
        .expect("one");
    assert_eq!(m.delivery.data, b"one");
    assert!(!m.delivery.redelivered);
    m.delivery
        .nack(BasicNackOptions {
            requeue: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let m = ch
        .basic_get("g".into(), BasicGetOptions::default())
        .await
        .unwrap()
        .expect("requeued");
    assert!(m.delivery.redelivered);
    m.delivery
        .reject(BasicRejectOptions { requeue: false })
        .await
        .unwrap();
    assert!(ch
        .basic_get("g".into(), BasicGetOptions::default())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn amqp_tx_commit_and_rollback() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "t".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.tx_select().await.unwrap();
    ch.basic_publish(
        "".into(),
        "t".into(),
        BasicPublishOptions::default(),
        b"rolled back",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    ch.tx_rollback().await.unwrap();
    ch.basic_publish(
        "".into(),
        "t".into(),
        BasicPublishOptions::default(),
        b"committed",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    let other = conn.create_channel().await.unwrap();
    assert!(
        other
            .basic_get("t".into(), BasicGetOptions::default())
            .await
            .unwrap()
            .is_none(),
        "not before commit"
    );
    ch.tx_commit().await.unwrap();
    let m = other
        .basic_get("t".into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("after commit");
    assert_eq!(m.delivery.data, b"committed");
    assert!(other
        .basic_get("t".into(), BasicGetOptions::default())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn amqp_qos_limits_unacked_deliveries() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "p".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    for i in 0..3u8 {
        ch.basic_publish(
            "".into(),
            "p".into(),
            BasicPublishOptions::default(),
            &[i],
            BasicProperties::default(),
        )
        .await
        .unwrap();
    }
    ch.basic_qos(1, BasicQosOptions::default()).await.unwrap();
    let consumer = ch
        .basic_consume(
            "p".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    let first = next(&mut rx).await.expect("first");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "prefetch 1: nothing more before the ack"
    );
    first.ack(BasicAckOptions::default()).await.unwrap();
    let second = next(&mut rx).await.expect("second");
    assert_eq!(second.data, [1]);
}

#[tokio::test]
async fn amqp_queue_delete_cancels_consumer() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "doomed".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let consumer = ch
        .basic_consume(
            "doomed".into(),
            "watcher".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    let other = conn.create_channel().await.unwrap();
    other
        .queue_delete("doomed".into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    // lapin announces consumer_cancel_notify: the server's basic.cancel ends the consumer.
    assert!(
        next(&mut rx).await.is_none(),
        "consumer cancelled by the server"
    );
    assert!(ch.status().connected(), "the channel stays open");
}

#[tokio::test]
async fn amqp_recover_redelivers_unacked() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "r".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.basic_publish(
        "".into(),
        "r".into(),
        BasicPublishOptions::default(),
        b"x",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    let consumer = ch
        .basic_consume(
            "r".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    let first = next(&mut rx).await.expect("first");
    assert!(!first.redelivered);
    ch.basic_recover(BasicRecoverOptions { requeue: true })
        .await
        .unwrap();
    let again = next(&mut rx).await.expect("redelivered");
    assert!(again.redelivered);
    assert_eq!(again.data, b"x");
}

#[tokio::test]
async fn amqp_shutdown_closes_clients_with_320() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "s".into(),
        QueueDeclareOptions::durable(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(10), bridge.shutdown())
        .await
        .expect("shutdown in time");
    // lapin saw connection.close 320 and answered close-ok.
    let mut closed = false;
    for _ in 0..50 {
        if !conn.status().connected() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "the client connection is closed after shutdown");
}

#[tokio::test]
async fn amqp_confirmed_persistent_messages_survive_a_restart() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "kept".into(),
        QueueDeclareOptions::durable(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for i in 0..10u8 {
        let confirm = ch
            .basic_publish(
                "".into(),
                "kept".into(),
                BasicPublishOptions::default(),
                &[i],
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        assert!(confirm.await.unwrap().is_ack());
    }
    let dir = bridge.shutdown_keep_dir().await;
    let bridge = crate::common::restart_bridge(dir).await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    for i in 0..10u8 {
        let m = ch
            .basic_get("kept".into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
            .expect("recovered message");
        assert_eq!(m.delivery.data, [i]);
    }
}

#[tokio::test]
async fn amqp_cancel_stops_deliveries() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "cancel-q".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let consumer = ch
        .basic_consume(
            "cancel-q".into(),
            "to-cancel".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    ch.basic_cancel("to-cancel".into(), BasicCancelOptions::default())
        .await
        .unwrap();
    ch.basic_publish(
        "".into(),
        "cancel-q".into(),
        BasicPublishOptions::default(),
        b"kept",
        BasicProperties::default(),
    )
    .await
    .unwrap();
    let got = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
    assert!(
        !matches!(got, Ok(Some(Some(_)))),
        "no delivery after cancel: {got:?}"
    );
    let m = ch
        .basic_get("cancel-q".into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("the message stayed in the queue");
    assert_eq!(m.delivery.data, b"kept");
}
