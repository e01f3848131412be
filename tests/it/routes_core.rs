//! Routes inside the embedded core (core queue → core exchange): the route engine's
//! at-least-once moves, header mapping, selectors, retries, dead letters and reloads,
//! without external peers. Routes to external brokers are tested in tests/interop.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mqbridge::broker::{Delivery, DeliverySink, Session};
use mqbridge::config::{parse, Config};
use mqbridge::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message};
use mqbridge::routes::RouteState;

use crate::common::{start_bridge_with, TestBridge};

const TOPOLOGY: &str = r#"
topology:
  queues: [ { name: in }, { name: out }, { name: eu }, { name: failed } ]
  bindings: [ { source: amq.topic, destination: eu, routing_key: "orders.EU.#" } ]
"#;

fn config(routes: &str) -> Config {
    match parse(&format!("{TOPOLOGY}routes:\n{routes}"), "routes.yaml") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

async fn bridge(routes: &str) -> TestBridge {
    let parsed = config(routes);
    start_bridge_with(move |c| {
        c.topology = parsed.topology;
        c.routes = parsed.routes;
    })
    .await
}

fn message(routing_key: &str, headers: &[(&str, &str)], body: &'static [u8]) -> Message {
    let mut table = FieldTable::default();
    for (k, v) in headers {
        table.insert(
            (*k).into(),
            AMQPValue::LongString(LongString::from(v.as_bytes())),
        );
    }
    let props = BasicProperties::default()
        .with_delivery_mode(2)
        .with_type("created".into())
        .with_headers(table);
    Message::new("", routing_key, props, Bytes::from_static(body))
}

fn publish(bridge: &TestBridge, m: Message) {
    let vhost = bridge.bridge.broker.vhost("/").expect("vhost");
    let outcome = vhost.publish(m, false, None).expect("publish");
    assert!(outcome.routed);
}

struct NoSink;
impl DeliverySink for NoSink {
    fn deliver(&self, _: Delivery) -> bool {
        true
    }
    fn consumer_cancelled(&self, _: &str) {}
}

/// Wait up to 10 s for a message on `queue` and take it (acked).
async fn take(bridge: &TestBridge, queue: &str) -> Option<Arc<Message>> {
    let vhost = bridge.bridge.broker.vhost("/").expect("vhost");
    let session = Session::new(
        vhost,
        bridge.bridge.broker.next_connection_id(),
        Arc::new(NoSink),
    );
    for _ in 0..200 {
        if let Some(got) = session.get(queue, true).expect("get") {
            session.close();
            return Some(got.message);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    session.close();
    None
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a AMQPValue> {
    m.header(name)
}

fn text(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v.as_bytes()))
}

#[tokio::test]
async fn a_route_moves_maps_and_addresses_messages() {
    let b = bridge(
        "  - name: in-to-topic
    from: { queue: in }
    to: { exchange: amq.topic, routing_key: \"orders.{header.region}.{type}\" }
    headers: { remove: [secret], rename: { legacy_id: order_id }, set: { x-via: \"{route}\" } }
",
    )
    .await;
    publish(
        &b,
        message(
            "in",
            &[("region", "EU"), ("secret", "s"), ("legacy_id", "7")],
            b"one",
        ),
    );
    let m = take(&b, "eu")
        .await
        .expect("the message reaches eu through amq.topic");
    assert_eq!(m.body.as_ref(), b"one");
    assert_eq!(m.routing_key, "orders.EU.created");
    assert_eq!(header(&m, "secret"), None);
    assert_eq!(header(&m, "order_id"), Some(&text("7")));
    assert_eq!(header(&m, "x-via"), Some(&text("in-to-topic")));
    assert!(m.is_persistent());
    // Acked at the source: nothing left in `in`.
    assert!(take(&b, "in").await.is_none());
    let status = b.bridge.routes.status().await;
    assert_eq!(status[0].moved, 1);
    assert_eq!(status[0].state, RouteState::Running);
    b.shutdown().await;
}

#[tokio::test]
async fn a_selector_leaves_unselected_messages_in_the_source() {
    let b = bridge(
        "  - name: eu-only
    from: { queue: in, selector: \"region = 'EU'\" }
    to: { queue: out }
",
    )
    .await;
    publish(&b, message("in", &[("region", "US")], b"us"));
    publish(&b, message("in", &[("region", "EU")], b"eu"));
    let m = take(&b, "out").await.expect("the EU message moves");
    assert_eq!(m.body.as_ref(), b"eu");
    let left = take(&b, "in")
        .await
        .expect("the US message stays in the source");
    assert_eq!(left.body.as_ref(), b"us");
    b.shutdown().await;
}

#[tokio::test]
async fn untranslatable_and_undeliverable_messages_are_dead_lettered_with_reasons() {
    let b = bridge(
        "  - name: needs-region
    from: { queue: in }
    to: { exchange: amq.topic, routing_key: \"orders.{header.region}\" }
    retry: { attempts: 3, backoff: \"10ms..20ms\" }
    dead_letter: { queue: failed }
",
    )
    .await;
    // No `region` header: cannot be addressed, dead-lettered at once.
    publish(&b, message("in", &[], b"no-region"));
    let m = take(&b, "failed").await.expect("dead letter");
    assert_eq!(m.body.as_ref(), b"no-region");
    assert_eq!(
        header(&m, "x-mqbridge-reason"),
        Some(&text("untranslatable"))
    );
    assert_eq!(header(&m, "x-mqbridge-route"), Some(&text("needs-region")));
    assert_eq!(
        header(&m, "x-mqbridge-original-routing-key"),
        Some(&text("in"))
    );
    // `orders.US` is bound nowhere: refused (unroutable) three times, then dead-lettered.
    publish(&b, message("in", &[("region", "US")], b"unroutable"));
    let m = take(&b, "failed").await.expect("dead letter");
    assert_eq!(m.body.as_ref(), b"unroutable");
    assert_eq!(header(&m, "x-mqbridge-reason"), Some(&text("refused")));
    assert_eq!(
        header(&m, "x-mqbridge-attempts"),
        Some(&AMQPValue::LongLongInt(3))
    );
    let error = match header(&m, "x-mqbridge-error") {
        Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => panic!("x-mqbridge-error: {other:?}"),
    };
    assert!(error.contains("unroutable"), "{error}");
    // A good one still moves.
    publish(&b, message("in", &[("region", "EU")], b"good"));
    assert_eq!(take(&b, "eu").await.expect("moves").body.as_ref(), b"good");
    let status = &b.bridge.routes.status().await[0];
    assert_eq!(
        (status.moved, status.dead_lettered, status.retried),
        (1, 2, 2)
    );
    b.shutdown().await;
}

#[tokio::test]
async fn a_missing_source_queue_waits_and_resumes_when_it_appears() {
    let b = bridge(
        "  - name: later
    from: { queue: later }
    to: { queue: out }
    retry: { backoff: \"20ms..50ms\" }
",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = &b.bridge.routes.status().await[0];
    assert_ne!(status.state, RouteState::Running);
    assert!(
        status.last_error.as_deref().unwrap_or("").contains("later"),
        "{status:?}"
    );
    let vhost = b.bridge.broker.vhost("/").expect("vhost");
    vhost
        .queue_declare("later", Default::default(), 0)
        .expect("declare");
    publish(&b, message("later", &[], b"late"));
    assert_eq!(take(&b, "out").await.expect("moves").body.as_ref(), b"late");
    b.shutdown().await;
}

#[tokio::test]
async fn reload_restarts_only_changed_routes() {
    let b = bridge(
        "  - name: keep
    from: { queue: in }
    to: { queue: out }
  - name: change
    from: { queue: eu }
    to: { queue: out }
  - name: drop
    from: { queue: failed }
    to: { queue: out }
",
    )
    .await;
    let summary = b
        .bridge
        .reloader
        .apply(config(
            "  - name: keep
    from: { queue: in }
    to: { queue: out }
  - name: change
    from: { queue: eu }
    to: { queue: failed }
  - name: new
    from: { queue: failed }
    to: { queue: eu }
",
        ))
        .await
        .expect("reload");
    assert_eq!(summary.unchanged, vec!["keep"]);
    assert_eq!(summary.restarted, vec!["change"]);
    assert_eq!(summary.stopped, vec!["drop"]);
    assert_eq!(summary.started, vec!["new"]);
    b.shutdown().await;
}
