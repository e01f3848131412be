//! Integration tests: the STOMP client (`mqbridge::stomp::client`) against mqbridge's own
//! STOMP listener (always), and against real ActiveMQ and RabbitMQ STOMP when
//! `MQB_ACTIVEMQ_STOMP` / `MQB_RABBITMQ_STOMP` (host:port) are set.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use mqbridge::client::{ErrorKind, Received};
use mqbridge::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message};
use mqbridge::stomp::client::{
    StompClient, StompClientConfig, StompSubscription, SubscribeOptions,
};

use crate::common::start_bridge;
use crate::common::stomp::StompClient as RawStomp;

const WAIT: Duration = Duration::from_secs(10);

fn config(address: &str) -> StompClientConfig {
    StompClientConfig {
        addresses: vec![address.to_string()],
        login: Some("guest".into()),
        passcode: Some("guest".into()),
        host: None,
        heartbeat: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        client_id: None,
    }
}

/// A name no earlier run used (the real brokers keep their queues).
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A message with every mapped property and two custom headers (one typed).
fn rich_message(body: &str) -> Message {
    let mut table = BTreeMap::new();
    table.insert(
        "region".into(),
        AMQPValue::LongString(LongString::from("EU")),
    );
    table.insert("n".into(), AMQPValue::LongInt(3));
    let props = BasicProperties::default()
        .with_content_type("text/plain; charset=utf-8".into())
        .with_delivery_mode(2)
        .with_priority(7)
        .with_expiration("60000".into())
        .with_correlation_id("corr-1".into())
        .with_reply_to("/queue/replies".into())
        .with_type("order".into())
        .with_headers(FieldTable::from(table));
    Message::new("", "", props, Bytes::from(body.to_string()))
}

fn text_message(body: &str, region: &str) -> Message {
    let mut table = BTreeMap::new();
    table.insert(
        "region".into(),
        AMQPValue::LongString(LongString::from(region)),
    );
    let props = BasicProperties::default()
        .with_content_type("text/plain".into())
        .with_delivery_mode(2)
        .with_headers(FieldTable::from(table));
    Message::new("", "", props, Bytes::from(body.to_string()))
}

async fn recv(sub: &mut StompSubscription) -> Received {
    tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("a message within the wait")
        .expect("the subscription is alive")
}

async fn expect_nothing(sub: &mut StompSubscription, wait: Duration) {
    if let Ok(r) = tokio::time::timeout(wait, sub.recv()).await {
        panic!("expected no message, got {r:?}");
    }
}

fn opts(prefetch: u16) -> SubscribeOptions {
    SubscribeOptions {
        prefetch,
        ..SubscribeOptions::default()
    }
}

/// The mapped fields every broker keeps (expiration is checked loosely: ActiveMQ carries
/// an absolute `expires`, read back as the time left).
fn assert_mapped(m: &Message, body: &str) {
    let p = &m.properties;
    assert_eq!(&m.body[..], body.as_bytes());
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(*p.delivery_mode(), Some(2));
    assert_eq!(*p.priority(), Some(7));
    assert_eq!(
        p.correlation_id().as_ref().map(|s| s.as_str()),
        Some("corr-1")
    );
    assert_eq!(
        p.reply_to().as_ref().map(|s| s.as_str()),
        Some("/queue/replies")
    );
    assert_eq!(p.kind().as_ref().map(|s| s.as_str()), Some("order"));
    let ttl: u64 = p
        .expiration()
        .as_ref()
        .map(|s| s.as_str().parse().expect("numeric expiration"))
        .expect("an expiration");
    assert!((50_000..=60_000).contains(&ttl), "expiration {ttl}");
    assert_eq!(
        m.header("region"),
        Some(&AMQPValue::LongString(LongString::from("EU")))
    );
    assert_eq!(m.header("n"), Some(&AMQPValue::LongInt(3)));
}

// ----- against mqbridge's own listener -----

#[tokio::test]
async fn bridge_send_receipt_subscribe_recv_mapped_fields_and_ack() {
    let bridge = start_bridge().await;
    let addr = bridge.stomp_addr.to_string();
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let sent = rich_message("hello");
    client
        .send("/queue/sc-a", &sent)
        .await
        .expect("send")
        .wait()
        .await
        .expect("receipt");
    let mut sub = client
        .subscribe("/queue/sc-a", opts(10))
        .await
        .expect("subscribe");
    let r = recv(&mut sub).await;
    assert!(!r.redelivered);
    assert_mapped(&r.message, "hello");
    // The same core message a STOMP SEND to the listener made: properties exactly.
    assert_eq!(r.message.properties, sent.properties);
    assert_eq!(
        (r.message.exchange.as_str(), r.message.routing_key.as_str()),
        ("", "sc-a")
    );
    sub.ack(r.tag).await.expect("ack");
    // A tag is settled once.
    let again = sub.ack(r.tag).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::Rejected);
    client.close().await;

    // Acked: gone for the next consumer.
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let mut sub = client
        .subscribe("/queue/sc-a", opts(10))
        .await
        .expect("subscribe");
    expect_nothing(&mut sub, Duration::from_millis(500)).await;
    client.close().await;
}

#[tokio::test]
async fn bridge_unacked_message_is_redelivered_after_close_and_after_nack() {
    let bridge = start_bridge().await;
    let addr = bridge.stomp_addr.to_string();
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let mut sub = client
        .subscribe("/queue/sc-redeliver", opts(10))
        .await
        .expect("subscribe");
    client
        .send("/queue/sc-redeliver", &text_message("once", "EU"))
        .await
        .expect("send")
        .wait()
        .await
        .expect("receipt");
    let r = recv(&mut sub).await;
    assert!(!r.redelivered);
    client.close().await;
    // The subscription ends with its connection.
    let err = tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("no hang")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);

    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let mut sub = client
        .subscribe("/queue/sc-redeliver", opts(10))
        .await
        .expect("subscribe");
    let r = recv(&mut sub).await;
    assert!(r.redelivered);
    assert_eq!(&r.message.body[..], b"once");
    // NACK gives it back on the same connection.
    sub.nack(r.tag).await.expect("nack");
    let r = recv(&mut sub).await;
    assert!(r.redelivered);
    sub.ack(r.tag).await.expect("ack");
    client.close().await;
}

#[tokio::test]
async fn bridge_selector_is_honoured() {
    let bridge = start_bridge().await;
    let addr = bridge.stomp_addr.to_string();
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    for (body, region) in [("us-1", "US"), ("eu-1", "EU"), ("us-2", "US")] {
        client
            .send("/queue/sc-sel", &text_message(body, region))
            .await
            .expect("send")
            .wait()
            .await
            .expect("receipt");
    }
    let mut eu = client
        .subscribe(
            "/queue/sc-sel",
            SubscribeOptions {
                selector: Some("region = 'EU'".into()),
                prefetch: 10,
                durable_name: None,
            },
        )
        .await
        .expect("subscribe with selector");
    let r = recv(&mut eu).await;
    assert_eq!(&r.message.body[..], b"eu-1");
    eu.ack(r.tag).await.expect("ack");
    expect_nothing(&mut eu, Duration::from_millis(300)).await;
    // What the selector refused is still there for others.
    let mut all = client
        .subscribe("/queue/sc-sel", opts(10))
        .await
        .expect("subscribe");
    let a = recv(&mut all).await;
    let b = recv(&mut all).await;
    assert_eq!(
        (&a.message.body[..], &b.message.body[..]),
        (&b"us-1"[..], &b"us-2"[..])
    );
    client.close().await;
}

#[tokio::test]
async fn bridge_error_on_bad_destination_refuses_the_confirm_and_fails_the_connection() {
    let bridge = start_bridge().await;
    let addr = bridge.stomp_addr.to_string();
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let mut sub = client
        .subscribe("/queue/sc-err", opts(10))
        .await
        .expect("subscribe");
    let confirm = client
        .send("/nowhere/x", &text_message("x", "EU"))
        .await
        .expect("written");
    let err = tokio::time::timeout(WAIT, confirm.wait())
        .await
        .expect("no hang")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");
    assert!(err.message.contains("bad destination"), "{err}");
    // The listener closes after an ERROR: everything else is a connection failure.
    let err = tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("no hang")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);
    let err = client
        .send("/queue/sc-err", &text_message("x", "EU"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(client.failed().is_some());
    // A refused subscription is an error from subscribe, not a silent one.
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let err = client
        .subscribe(
            "/queue/sc-err",
            SubscribeOptions {
                selector: Some("region = = 'x'".into()),
                ..SubscribeOptions::default()
            },
        )
        .await
        .err()
        .expect("bad selector refused");
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");
}

#[tokio::test]
async fn bridge_login_refused_closed_port_and_address_failover() {
    let bridge = start_bridge().await;
    let addr = bridge.stomp_addr.to_string();
    let mut bad = config(&addr);
    bad.passcode = Some("wrong".into());
    let err = StompClient::connect(&bad).await.err().expect("refused");
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");
    assert!(err.message.contains("access refused"), "{err}");

    let closed = closed_port().await;
    let err = StompClient::connect(&config(&closed))
        .await
        .err()
        .expect("nothing listens");
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");

    // A silent peer: the connect timeout, not a hang.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mut cfg = config(&silent.local_addr().expect("addr").to_string());
    cfg.connect_timeout = Duration::from_millis(300);
    let err = StompClient::connect(&cfg).await.err().expect("timeout");
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");

    // Addresses are tried in turn.
    let mut cfg = config(&closed);
    cfg.addresses.push(addr);
    let client = StompClient::connect(&cfg).await.expect("second address");
    client.close().await;
}

#[tokio::test]
async fn bridge_pipelined_sends_and_heartbeats() {
    let bridge = start_bridge().await;
    let addr = bridge.stomp_addr.to_string();
    let mut cfg = config(&addr);
    cfg.heartbeat = Duration::from_millis(200);
    let client = StompClient::connect(&cfg).await.expect("connect");
    let mut confirms = Vec::new();
    for i in 0..1000 {
        let m = text_message(&format!("m{i}"), "EU");
        confirms.push(client.send("/queue/sc-pipe", &m).await.expect("send"));
    }
    for c in confirms {
        c.wait().await.expect("every send confirmed");
    }
    // Idle for several heart-beat periods: both sides keep the connection up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(client.failed().is_none(), "{:?}", client.failed());
    let mut sub = client
        .subscribe("/queue/sc-pipe", opts(100))
        .await
        .expect("subscribe");
    for i in 0..1000 {
        let r = recv(&mut sub).await;
        assert_eq!(r.message.body, Bytes::from(format!("m{i}")));
        sub.ack(r.tag).await.expect("ack");
    }
    client.close().await;
}

async fn closed_port() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr").to_string();
    drop(l);
    addr
}

// ----- against real brokers -----

fn peer(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            eprintln!("{var} not set: skipping the test against the real broker");
            None
        }
    }
}

async fn round_trip_with_headers(addr: &str) {
    let q = format!("/queue/{}", unique("sc-rt"));
    let client = StompClient::connect(&config(addr)).await.expect("connect");
    client
        .send(&q, &rich_message("round trip"))
        .await
        .expect("send")
        .wait()
        .await
        .expect("receipt");
    let mut sub = client.subscribe(&q, opts(10)).await.expect("subscribe");
    let r = recv(&mut sub).await;
    assert!(!r.redelivered);
    assert_mapped(&r.message, "round trip");
    assert_eq!(r.message.exchange, "");
    assert_eq!(r.message.routing_key, q.trim_start_matches("/queue/"));
    sub.ack(r.tag).await.expect("ack");
    client.close().await;
}

async fn pipelined_1000(addr: &str) {
    let q = format!("/queue/{}", unique("sc-pipe"));
    let client = StompClient::connect(&config(addr)).await.expect("connect");
    let started = std::time::Instant::now();
    let mut confirms = Vec::new();
    for i in 0..1000 {
        let m = text_message(&format!("m{i}"), "EU");
        confirms.push(client.send(&q, &m).await.expect("send"));
    }
    for c in confirms {
        tokio::time::timeout(WAIT, c.wait())
            .await
            .expect("confirm in time")
            .expect("confirmed");
    }
    eprintln!(
        "{addr}: 1000 pipelined persistent sends confirmed in {:?}",
        started.elapsed()
    );
    let mut sub = client.subscribe(&q, opts(200)).await.expect("subscribe");
    for i in 0..1000 {
        let r = recv(&mut sub).await;
        assert_eq!(r.message.body, Bytes::from(format!("m{i}")));
        sub.ack(r.tag).await.expect("ack");
    }
    client.close().await;
}

async fn ack_and_redelivery(addr: &str, nack_redelivers_in_place: bool) {
    let q = format!("/queue/{}", unique("sc-redeliver"));
    let client = StompClient::connect(&config(addr)).await.expect("connect");
    client
        .send(&q, &text_message("again", "EU"))
        .await
        .expect("send")
        .wait()
        .await
        .expect("receipt");
    let mut sub = client.subscribe(&q, opts(10)).await.expect("subscribe");
    let r = recv(&mut sub).await;
    assert!(!r.redelivered);
    client.close().await;

    // Not acked: back, flagged redelivered.
    let client = StompClient::connect(&config(addr)).await.expect("connect");
    let mut sub = client.subscribe(&q, opts(10)).await.expect("subscribe");
    let r = recv(&mut sub).await;
    assert!(r.redelivered);
    assert_eq!(&r.message.body[..], b"again");
    let client = match sub.nack(r.tag).await {
        Ok(()) => {
            assert!(nack_redelivers_in_place);
            client
        }
        Err(e) => {
            // ActiveMQ: NACK would dead-letter; the client closed the connection instead.
            assert!(!nack_redelivers_in_place);
            assert_eq!(e.kind, ErrorKind::Connection);
            let c = StompClient::connect(&config(addr)).await.expect("connect");
            sub = c.subscribe(&q, opts(10)).await.expect("subscribe");
            c
        }
    };
    let r = recv(&mut sub).await;
    assert!(r.redelivered);
    assert_eq!(&r.message.body[..], b"again");
    sub.ack(r.tag).await.expect("ack");
    client.close().await;

    // Acked: gone.
    let client = StompClient::connect(&config(addr)).await.expect("connect");
    let mut sub = client.subscribe(&q, opts(10)).await.expect("subscribe");
    expect_nothing(&mut sub, Duration::from_secs(1)).await;
    client.close().await;
}

async fn heartbeats_keep_an_idle_connection(addr: &str) {
    let mut cfg = config(addr);
    cfg.heartbeat = Duration::from_millis(500);
    let client = StompClient::connect(&cfg).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(client.failed().is_none(), "{:?}", client.failed());
    let q = format!("/queue/{}", unique("sc-hb"));
    client
        .send(&q, &text_message("alive", "EU"))
        .await
        .expect("send")
        .wait()
        .await
        .expect("receipt after idling");
    let mut sub = client.subscribe(&q, opts(10)).await.expect("subscribe");
    let r = recv(&mut sub).await;
    sub.ack(r.tag).await.expect("ack");
    client.close().await;
}

async fn closed_port_is_a_connection_error() {
    let err = StompClient::connect(&config(&closed_port().await))
        .await
        .err()
        .expect("nothing listens");
    assert_eq!(err.kind, ErrorKind::Connection);
}

#[tokio::test]
async fn activemq_round_trip_pipelining_redelivery_and_errors() {
    let Some(addr) = peer("MQB_ACTIVEMQ_STOMP") else {
        return;
    };
    round_trip_with_headers(&addr).await;
    pipelined_1000(&addr).await;
    ack_and_redelivery(&addr, false).await;
    heartbeats_keep_an_idle_connection(&addr).await;
    closed_port_is_a_connection_error().await;
    // The test instance has no authentication plugin (scripts/lib/activemq.sh): any login
    // is accepted there, so a bad login is checked against RabbitMQ and mqbridge.
}

#[tokio::test]
async fn activemq_text_and_binary_bodies_survive() {
    let Some(addr) = peer("MQB_ACTIVEMQ_STOMP") else {
        return;
    };
    // A text body goes without content-length (an ActiveMQ TextMessage, which ActiveMQ
    // hands back without one); a binary body with NULs goes with one and survives.
    let q = format!("/queue/{}", unique("sc-bodies"));
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let bin = Message::new(
        "",
        "",
        BasicProperties::default().with_content_type("application/octet-stream".into()),
        Bytes::from_static(b"a\0b"),
    );
    for m in [text_message("héllo", "EU"), bin] {
        client
            .send(&q, &m)
            .await
            .expect("send")
            .wait()
            .await
            .expect("receipt");
    }
    client.close().await;
    let sock: std::net::SocketAddr = addr.parse().expect("MQB_ACTIVEMQ_STOMP is host:port");
    let (mut raw, _) = RawStomp::open(sock).await;
    raw.send(
        "SUBSCRIBE",
        &[("destination", q.as_str()), ("id", "raw"), ("ack", "auto")],
        b"",
    )
    .await;
    let t = raw.frame().await;
    assert_eq!(&t.body[..], "héllo".as_bytes());
    assert_eq!(t.header("content-length"), None, "{t:?}");
    let b = raw.frame().await;
    assert_eq!(&b.body[..], b"a\0b");
    assert_eq!(b.header("content-length"), Some("3"), "{b:?}");
}

#[tokio::test]
async fn activemq_durable_topic_subscription_gets_what_was_sent_offline() {
    let Some(addr) = peer("MQB_ACTIVEMQ_STOMP") else {
        return;
    };
    let topic = format!("/topic/{}", unique("sc-dur"));
    let mut cfg = config(&addr);
    cfg.client_id = Some(unique("sc-client"));
    let durable = || SubscribeOptions {
        selector: None,
        prefetch: 10,
        durable_name: Some("d1".into()),
    };
    let client = StompClient::connect(&cfg).await.expect("connect");
    let sub = client.subscribe(&topic, durable()).await.expect("durable");
    drop(sub);
    client.close().await;

    let sender = StompClient::connect(&config(&addr)).await.expect("connect");
    sender
        .send(&topic, &text_message("while offline", "EU"))
        .await
        .expect("send")
        .wait()
        .await
        .expect("receipt");
    sender.close().await;

    let client = StompClient::connect(&cfg).await.expect("reconnect");
    let mut sub = client.subscribe(&topic, durable()).await.expect("durable");
    let r = recv(&mut sub).await;
    assert_eq!(&r.message.body[..], b"while offline");
    assert_eq!(r.message.exchange, "amq.topic");
    sub.ack(r.tag).await.expect("ack");
    client.close().await;

    // Without a client id ActiveMQ cannot keep the subscription: refused up front.
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let err = client
        .subscribe(&topic, durable())
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind, ErrorKind::Rejected);
    client.close().await;
}

#[tokio::test]
async fn activemq_selector_is_honoured() {
    let Some(addr) = peer("MQB_ACTIVEMQ_STOMP") else {
        return;
    };
    let q = format!("/queue/{}", unique("sc-sel"));
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    for (body, region) in [("us-1", "US"), ("eu-1", "EU")] {
        client
            .send(&q, &text_message(body, region))
            .await
            .expect("send")
            .wait()
            .await
            .expect("receipt");
    }
    let mut eu = client
        .subscribe(
            &q,
            SubscribeOptions {
                selector: Some("region = 'EU'".into()),
                prefetch: 10,
                durable_name: None,
            },
        )
        .await
        .expect("subscribe");
    let r = recv(&mut eu).await;
    assert_eq!(&r.message.body[..], b"eu-1");
    eu.ack(r.tag).await.expect("ack");
    let mut all = client.subscribe(&q, opts(10)).await.expect("subscribe");
    let r = recv(&mut all).await;
    assert_eq!(&r.message.body[..], b"us-1");
    all.ack(r.tag).await.expect("ack");
    client.close().await;
}

#[tokio::test]
async fn rabbitmq_round_trip_pipelining_redelivery_and_errors() {
    let Some(addr) = peer("MQB_RABBITMQ_STOMP") else {
        return;
    };
    round_trip_with_headers(&addr).await;
    pipelined_1000(&addr).await;
    ack_and_redelivery(&addr, true).await;
    heartbeats_keep_an_idle_connection(&addr).await;
    closed_port_is_a_connection_error().await;

    let mut bad = config(&addr);
    bad.passcode = Some("wrong".into());
    let err = StompClient::connect(&bad).await.err().expect("refused");
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");

    // RabbitMQ ignores selectors: refused rather than silently unfiltered.
    let client = StompClient::connect(&config(&addr)).await.expect("connect");
    let err = client
        .subscribe(
            "/queue/sc-unused",
            SubscribeOptions {
                selector: Some("a = 1".into()),
                ..SubscribeOptions::default()
            },
        )
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind, ErrorKind::Rejected);
    // An ERROR without a receipt-id (RabbitMQ's unknown destination) fails the connection:
    // the pending confirm resolves, no hang.
    let confirm = client
        .send("/nowhere/x", &text_message("x", "EU"))
        .await
        .expect("written");
    let err = tokio::time::timeout(WAIT, confirm.wait())
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Refused | ErrorKind::Connection),
        "{err}"
    );
    assert!(client.failed().is_some());
}
