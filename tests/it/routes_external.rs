//! Routes through every outbound client, against a second bridge standing in for the
//! external brokers: its OpenWire, STOMP and AMQP listeners are the peers (they are tested
//! against the stock ActiveMQ, stomp.py and RabbitMQ clients elsewhere). The same flows
//! against the real ActiveMQ and RabbitMQ run in tests/interop/routes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mqbridge::broker::{Delivery, DeliverySink, QueueOptions, Session};
use mqbridge::config::{parse, Config};
use mqbridge::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message};

use crate::common::{restart_bridge_at, start_bridge, start_bridge_with, TestBridge};

struct NoSink;
impl DeliverySink for NoSink {
    fn deliver(&self, _: Delivery) -> bool {
        true
    }
    fn consumer_cancelled(&self, _: &str) {}
}

fn declare(peer: &TestBridge, queues: &[&str]) {
    let vhost = peer.bridge.broker.vhost("/").expect("vhost");
    for q in queues {
        let opts = QueueOptions {
            durable: true,
            ..QueueOptions::default()
        };
        vhost.queue_declare(q, opts, 0).expect("declare");
    }
}

fn publish(peer: &TestBridge, queue: &str, id: usize) {
    let mut headers = FieldTable::default();
    headers.insert(
        "id".into(),
        AMQPValue::LongInt(i32::try_from(id).unwrap_or(0)),
    );
    headers.insert(
        "region".into(),
        AMQPValue::LongString(LongString::from("EU")),
    );
    let props = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("text/plain".into())
        .with_correlation_id(format!("c-{id}").as_str().into())
        .with_headers(headers);
    let m = Message::new("", queue, props, Bytes::from(format!("m{id}")));
    let vhost = peer.bridge.broker.vhost("/").expect("vhost");
    assert!(vhost.publish(m, false, None).expect("publish").routed);
}

/// Take every message from `queue` until `want` distinct bodies were seen or 30 s passed;
/// returns body → times seen.
async fn drain(
    peer: &TestBridge,
    queue: &str,
    want: usize,
) -> HashMap<String, (usize, Arc<Message>)> {
    let vhost = peer.bridge.broker.vhost("/").expect("vhost");
    let session = Session::new(
        vhost,
        peer.bridge.broker.next_connection_id(),
        Arc::new(NoSink),
    );
    let mut seen: HashMap<String, (usize, Arc<Message>)> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < want && tokio::time::Instant::now() < deadline {
        match session.get(queue, true).expect("get") {
            Some(got) => {
                let body = String::from_utf8_lossy(&got.message.body).into_owned();
                seen.entry(body).or_insert((0, got.message.clone())).0 += 1;
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    session.close();
    seen
}

fn router_config(peer: &TestBridge, extra: &str) -> Config {
    let text = format!(
        r#"
connections:
  ow: {{ openwire: "tcp://{ow}", user: guest, password: guest }}
  st: {{ stomp: "tcp://{st}", user: guest, password: guest }}
  am: {{ amqp: "amqp://guest:guest@{am}/%2f" }}
routes:
  - name: openwire-to-amqp
    from: {{ connection: ow, queue: ow.src }}
    to: {{ connection: am, queue: am.dst }}
    headers: {{ set: {{ x-route: "{{route}}" }} }}
    retry: {{ backoff: "20ms..200ms" }}
  - name: stomp-to-openwire
    from: {{ connection: st, queue: st.src }}
    to: {{ connection: ow, queue: ow.dst }}
    retry: {{ backoff: "20ms..200ms" }}
  - name: amqp-to-stomp
    from: {{ connection: am, queue: am.src, selector: "region = 'EU'" }}
    to: {{ connection: st, queue: st.dst }}
    retry: {{ backoff: "20ms..200ms" }}
{extra}"#,
        ow = peer.openwire_addr,
        st = peer.stomp_addr,
        am = peer.amqp_addr,
    );
    match parse(&text, "router.yaml") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

const QUEUES: [&str; 6] = ["ow.src", "ow.dst", "st.src", "st.dst", "am.src", "am.dst"];

#[tokio::test]
async fn every_client_moves_messages_with_their_headers() {
    let peer = start_bridge().await;
    declare(&peer, &QUEUES);
    let router = start_bridge_with(|_| {}).await;
    let summary = router
        .bridge
        .reloader
        .apply(router_config(&peer, ""))
        .await
        .expect("apply");
    assert_eq!(summary.started.len(), 3);

    const N: usize = 300;
    for id in 0..N {
        publish(&peer, "ow.src", id);
        publish(&peer, "st.src", id);
        publish(&peer, "am.src", id);
    }
    for (queue, route) in [
        ("am.dst", Some("openwire-to-amqp")),
        ("ow.dst", None),
        ("st.dst", None),
    ] {
        let seen = drain(&peer, queue, N).await;
        assert_eq!(seen.len(), N, "{queue}: {} of {N} arrived", seen.len());
        let (_, m) = &seen["m7"];
        assert_eq!(
            m.properties.correlation_id().as_ref().map(|c| c.as_str()),
            Some("c-7"),
            "{queue}"
        );
        assert!(m.is_persistent(), "{queue}");
        let id = m.header("id").cloned();
        assert!(
            matches!(
                id,
                Some(AMQPValue::LongInt(7)) | Some(AMQPValue::LongLongInt(7))
            ) || matches!(&id, Some(AMQPValue::LongString(s)) if s.as_bytes() == b"7"),
            "{queue}: id header {id:?}"
        );
        if let Some(route) = route {
            assert_eq!(
                m.header("x-route"),
                Some(&AMQPValue::LongString(LongString::from(route.as_bytes()))),
                "{queue}"
            );
        }
        let duplicates: usize = seen.values().map(|(n, _)| n - 1).sum();
        assert_eq!(duplicates, 0, "{queue}: no fault, no duplicate");
    }
    // A message can reach its queue a moment before its confirm reaches the route.
    let mut status = router.bridge.routes.status().await;
    for _ in 0..100 {
        if status.iter().all(|s| s.moved == N as u64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = router.bridge.routes.status().await;
    }
    assert!(status.iter().all(|s| s.moved == N as u64), "{status:?}");
    router.shutdown().await;
    peer.shutdown().await;
}

#[tokio::test]
async fn a_peer_restart_mid_stream_loses_nothing() {
    let peer = start_bridge().await;
    declare(&peer, &QUEUES);
    let (amqp, stomp, openwire) = (peer.amqp_addr, peer.stomp_addr, peer.openwire_addr);
    let config = router_config(&peer, "");
    let router = start_bridge_with(|_| {}).await;
    router.bridge.reloader.apply(config).await.expect("apply");

    const N: usize = 2000;
    for id in 0..N {
        publish(&peer, "ow.src", id);
        publish(&peer, "am.src", id);
    }
    // Let some move, then restart the peer (same data dir, same ports).
    // (stomp-to-openwire has nothing to move in this test.)
    let moved_by = |status: &[mqbridge::routes::RouteStatus], name: &str| {
        status
            .iter()
            .find(|s| s.name == name)
            .map_or(0, |s| s.moved)
    };
    for _ in 0..1000 {
        let status = router.bridge.routes.status().await;
        if moved_by(&status, "openwire-to-amqp") >= 100 && moved_by(&status, "amqp-to-stomp") >= 100
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dir = peer.shutdown_keep_dir().await;
    let at_restart = router.bridge.routes.status().await;
    println!("at the restart: {at_restart:?}");
    assert!(
        at_restart.iter().any(|s| s.moved < N as u64),
        "the restart came after everything moved: {at_restart:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let peer = restart_bridge_at(dir, amqp, stomp, openwire).await;
    for (queue, total) in [("am.dst", N), ("st.dst", N)] {
        let seen = drain(&peer, queue, total).await;
        let duplicates: usize = seen.values().map(|(n, _)| n - 1).sum();
        println!(
            "{queue}: {} of {total} arrived, {duplicates} duplicates",
            seen.len()
        );
        assert_eq!(seen.len(), total, "{queue}: lost {}", total - seen.len());
    }
    let status = router.bridge.routes.status().await;
    assert!(status.iter().any(|s| s.reconnects > 0), "{status:?}");
    router.shutdown().await;
    peer.shutdown().await;
}
