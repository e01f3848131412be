//! STOMP listener over raw TCP frames: CONNECT and versions, SEND/SUBSCRIBE and ack modes,
//! receipts, transactions, heart-beats, and an ERROR-then-close for every bad frame.

use std::time::Duration;

use crate::common::start_bridge;
use crate::common::stomp::{Read, StompClient};

#[tokio::test]
async fn connect_negotiates_the_highest_common_version() {
    let bridge = start_bridge().await;
    for (accept, expected) in [("1.0,1.1,1.2", "1.2"), ("1.1", "1.1"), ("1.0,1.1", "1.1")] {
        let (_c, connected) = StompClient::open_with(
            bridge.stomp_addr,
            &[("accept-version", accept), ("host", "/")],
        )
        .await;
        assert_eq!(connected.header("version"), Some(expected));
        assert!(connected.header("session").is_some());
    }
    // STOMP 1.0: no accept-version, no host; CONNECTED has no version header.
    let (_c, connected) = StompClient::open_with(bridge.stomp_addr, &[]).await;
    assert_eq!(connected.header("version"), None);
    // The STOMP command works like CONNECT.
    let mut c = StompClient::connect(bridge.stomp_addr).await;
    c.send(
        "STOMP",
        &[
            ("accept-version", "1.2"),
            ("host", "/"),
            ("login", "guest"),
            ("passcode", "guest"),
        ],
        b"",
    )
    .await;
    assert_eq!(c.frame().await.command, "CONNECTED");
}

#[tokio::test]
async fn connect_refusals_are_errors_then_close() {
    let bridge = start_bridge().await;
    let cases: [&[(&str, &str)]; 3] = [
        &[
            ("accept-version", "9.9"),
            ("host", "/"),
            ("login", "guest"),
            ("passcode", "guest"),
        ],
        &[
            ("accept-version", "1.2"),
            ("host", "/nope"),
            ("login", "guest"),
            ("passcode", "guest"),
        ],
        &[
            ("accept-version", "1.2"),
            ("host", "/"),
            ("login", "guest"),
            ("passcode", "wrong"),
        ],
    ];
    for headers in cases {
        let mut c = StompClient::connect(bridge.stomp_addr).await;
        c.send("CONNECT", headers, b"").await;
        let e = c.expect_error_and_close().await;
        assert_eq!(e.header("version"), Some("1.0,1.1,1.2"), "{e:?}");
    }
    let mut c = StompClient::connect(bridge.stomp_addr).await;
    c.send("SEND", &[("destination", "/queue/x")], b"x").await;
    c.expect_error_and_close().await;
}

#[tokio::test]
async fn send_subscribe_auto_ack_with_receipts() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send_with_receipt(
        "SUBSCRIBE",
        &[("destination", "/queue/auto"), ("id", "s1")],
        b"",
        "r-sub",
    )
    .await;
    c.send(
        "SEND",
        &[
            ("destination", "/queue/auto"),
            ("persistent", "true"),
            ("x-custom", "a:b\nc"),
            ("receipt", "r-send"),
        ],
        b"bin\0ary",
    )
    .await;
    let (receipts, mut frames) = c.frames_and_receipts(2).await;
    assert_eq!(receipts, ["r-send"]);
    let m = frames.remove(0);
    assert_eq!(m.command, "MESSAGE");
    assert_eq!(m.header("subscription"), Some("s1"));
    assert_eq!(m.header("destination"), Some("/queue/auto"));
    assert_eq!(m.header("x-custom"), Some("a:b\nc"));
    assert_eq!(m.header("persistent"), Some("true"));
    assert_eq!(m.header("ack"), None, "auto ack: no ack header");
    assert_eq!(&m.body[..], b"bin\0ary");
    c.send_with_receipt("DISCONNECT", &[], b"", "bye").await;
    c.expect_closed().await;
}

#[tokio::test]
async fn client_ack_is_cumulative_and_unacked_are_redelivered() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/cum"),
            ("id", "s"),
            ("ack", "client"),
        ],
        b"",
    )
    .await;
    for body in ["1", "2", "3"] {
        c.send("SEND", &[("destination", "/queue/cum")], body.as_bytes())
            .await;
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        let m = c.frame().await;
        ids.push(m.header("ack").expect("ack header").to_string());
    }
    // Acking the second acks the first too; the third comes back after reconnecting.
    c.send_with_receipt("ACK", &[("id", &ids[1])], b"", "a")
        .await;
    drop(c);
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/cum"),
            ("id", "s"),
            ("ack", "client"),
        ],
        b"",
    )
    .await;
    let m = c.frame().await;
    assert_eq!(&m.body[..], b"3");
    assert_eq!(m.header("redelivered"), Some("true"));
    c.expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn client_individual_ack_nack_and_prefetch() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    let sub = [
        ("destination", "/queue/ind"),
        ("id", "s"),
        ("ack", "client-individual"),
        ("prefetch-count", "1"),
    ];
    c.send("SUBSCRIBE", &sub, b"").await;
    c.send("SEND", &[("destination", "/queue/ind")], b"a").await;
    c.send("SEND", &[("destination", "/queue/ind")], b"b").await;
    let m1 = c.frame().await;
    assert_eq!(&m1.body[..], b"a");
    c.expect_silence(Duration::from_millis(200)).await; // prefetch 1
    c.send("NACK", &[("id", m1.header("ack").unwrap())], b"")
        .await;
    let again = c.frame().await;
    assert_eq!(&again.body[..], b"a");
    assert_eq!(again.header("redelivered"), Some("true"));
    c.send("ACK", &[("id", again.header("ack").unwrap())], b"")
        .await;
    let m2 = c.frame().await;
    assert_eq!(&m2.body[..], b"b");
    c.send_with_receipt("ACK", &[("id", m2.header("ack").unwrap())], b"", "done")
        .await;
    // The ActiveMQ spelling of prefetch works too.
    c.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/amq-pf"),
            ("id", "t"),
            ("ack", "client"),
            ("activemq.prefetchSize", "1"),
        ],
        b"",
    )
    .await;
    c.send("SEND", &[("destination", "/queue/amq-pf")], b"x")
        .await;
    c.send("SEND", &[("destination", "/queue/amq-pf")], b"y")
        .await;
    assert_eq!(&c.frame().await.body[..], b"x");
    c.expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn stomp_11_acks_by_message_id_and_10_without_ids() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open_with(
        bridge.stomp_addr,
        &[("accept-version", "1.1"), ("host", "/")],
    )
    .await;
    c.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/v11"),
            ("id", "s"),
            ("ack", "client"),
        ],
        b"",
    )
    .await;
    c.send("SEND", &[("destination", "/queue/v11")], b"eleven")
        .await;
    let m = c.frame().await;
    assert_eq!(m.header("ack"), None, "1.1 has no ack header");
    let id = m.header("message-id").unwrap().to_string();
    c.send_with_receipt(
        "ACK",
        &[("message-id", &id), ("subscription", "s")],
        b"",
        "a",
    )
    .await;

    let (mut c, _) = StompClient::open_with(bridge.stomp_addr, &[]).await;
    c.send("SUBSCRIBE", &[("destination", "/queue/v10")], b"")
        .await;
    c.send("SEND", &[("destination", "/queue/v10")], b"ten")
        .await;
    let m = c.frame().await;
    assert_eq!(m.header("subscription"), Some("/queue/v10"));
    assert_eq!(&m.body[..], b"ten");
    c.send_with_receipt("UNSUBSCRIBE", &[("destination", "/queue/v10")], b"", "u")
        .await;
}

#[tokio::test]
async fn transactions_apply_on_commit_only() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/tx"),
            ("id", "s"),
            ("ack", "client-individual"),
        ],
        b"",
    )
    .await;
    c.send("BEGIN", &[("transaction", "t1")], b"").await;
    c.send(
        "SEND",
        &[("destination", "/queue/tx"), ("transaction", "t1")],
        b"aborted",
    )
    .await;
    c.send_with_receipt("ABORT", &[("transaction", "t1")], b"", "ab")
        .await;
    c.expect_silence(Duration::from_millis(200)).await;
    c.send("BEGIN", &[("transaction", "t2")], b"").await;
    c.send(
        "SEND",
        &[
            ("destination", "/queue/tx"),
            ("transaction", "t2"),
            ("persistent", "true"),
        ],
        b"committed",
    )
    .await;
    c.expect_silence(Duration::from_millis(200)).await;
    c.send("COMMIT", &[("transaction", "t2"), ("receipt", "co")], b"")
        .await;
    let (receipts, mut frames) = c.frames_and_receipts(2).await;
    assert_eq!(receipts, ["co"]);
    let m = frames.remove(0);
    assert_eq!(&m.body[..], b"committed");
    // A transactional ACK counts only once committed.
    let ack = m.header("ack").unwrap().to_string();
    c.send("BEGIN", &[("transaction", "t3")], b"").await;
    c.send("ACK", &[("id", &ack), ("transaction", "t3")], b"")
        .await;
    c.send_with_receipt("ABORT", &[("transaction", "t3")], b"", "ab3")
        .await;
    c.send("BEGIN", &[("transaction", "t4")], b"").await;
    c.send("ACK", &[("id", &ack), ("transaction", "t4")], b"")
        .await;
    c.send_with_receipt("COMMIT", &[("transaction", "t4")], b"", "co4")
        .await;
    drop(c);
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send(
        "SUBSCRIBE",
        &[("destination", "/queue/tx"), ("id", "s")],
        b"",
    )
    .await;
    c.expect_silence(Duration::from_millis(300)).await;
    c.send("COMMIT", &[("transaction", "never-begun")], b"")
        .await;
    c.expect_error_and_close().await;
}

#[tokio::test]
async fn heartbeats_both_ways_and_a_silent_client_is_dropped() {
    let bridge = start_bridge().await;
    let (mut c, connected) = StompClient::open_with(
        bridge.stomp_addr,
        &[
            ("accept-version", "1.2"),
            ("host", "/"),
            ("heart-beat", "0,100"),
        ],
    )
    .await;
    assert_eq!(connected.header("heart-beat"), Some("100,0"));
    c.expect_silence(Duration::from_millis(500)).await;
    assert!(c.heartbeats >= 2, "server heart-beats: {}", c.heartbeats);

    let (mut c, connected) = StompClient::open_with(
        bridge.stomp_addr,
        &[
            ("accept-version", "1.2"),
            ("host", "/"),
            ("heart-beat", "100,0"),
        ],
    )
    .await;
    assert_eq!(connected.header("heart-beat"), Some("0,100"));
    // Heart-beating keeps it open...
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(80)).await;
        c.send_raw(b"\n").await;
    }
    c.send_with_receipt("SEND", &[("destination", "/queue/hb")], b"alive", "r")
        .await;
    // ...silence drops it.
    match c.read(Duration::from_secs(3)).await {
        Read::Closed => {}
        other => panic!("expected the silent client to be dropped, got {other:?}"),
    }
}

async fn connected(bridge: &crate::common::TestBridge) -> StompClient {
    StompClient::open(bridge.stomp_addr).await.0
}

#[tokio::test]
async fn malformed_frames_get_an_error_then_close() {
    let bridge = start_bridge().await;
    let cases: [(&[u8], &str); 5] = [
        (
            b"SEND\ndestination:/queue/m\nno-colon-here\n\nx\0",
            "header line",
        ),
        (
            b"SEND\ndestination:/queue/m\ncontent-length:abc\n\nx\0",
            "content-length",
        ),
        (
            b"SEND\ndestination:/queue/m\ncontent-length:2\n\nxyz\0",
            "content-length",
        ),
        (
            b"SEND\ndestination:/queue/m\ncontent-length:99999999999\n\n",
            "frame too large",
        ),
        (
            b"SEND\ndestination:/queue/m\nk:bad\\escape\n\n\0",
            "header escape",
        ),
    ];
    for (raw, rule) in cases {
        let mut c = connected(&bridge).await;
        c.send_raw(raw).await;
        let e = c.expect_error_and_close().await;
        assert_eq!(
            e.header("message"),
            Some(rule),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
    // Too many headers and an endless header line.
    let mut c = connected(&bridge).await;
    let mut many = b"SEND\n".to_vec();
    for i in 0..1100 {
        many.extend_from_slice(format!("h{i}:v\n").as_bytes());
    }
    c.send_raw(&many).await;
    assert_eq!(
        c.expect_error_and_close().await.header("message"),
        Some("too many headers")
    );
    let mut c = connected(&bridge).await;
    let mut long = b"SEND\nh:".to_vec();
    long.extend(std::iter::repeat_n(b'v', 20 * 1024));
    c.send_raw(&long).await;
    assert_eq!(
        c.expect_error_and_close().await.header("message"),
        Some("header too long")
    );
}

#[tokio::test]
async fn refused_frames_get_an_error_then_close() {
    let bridge = start_bridge().await;
    let mut c = connected(&bridge).await;
    c.send("FROB", &[("a", "b")], b"").await;
    assert_eq!(
        c.expect_error_and_close().await.header("message"),
        Some("unknown command")
    );

    let mut c = connected(&bridge).await;
    c.send("SEND", &[("receipt", "bad-1")], b"nowhere").await;
    let e = c.expect_error_and_close().await;
    assert_eq!(e.header("receipt-id"), Some("bad-1"));
    assert_eq!(e.header("message"), Some("missing destination"));

    let mut c = connected(&bridge).await;
    c.send("ACK", &[("id", "no-such-ack-id-42")], b"").await;
    assert_eq!(
        c.expect_error_and_close().await.header("message"),
        Some("unknown ack id")
    );

    let mut c = connected(&bridge).await;
    c.send(
        "SUBSCRIBE",
        &[("destination", "/queue/a"), ("id", "s"), ("ack", "client")],
        b"",
    )
    .await;
    c.send("ACK", &[("id", "s@@7")], b"").await;
    assert_eq!(
        c.expect_error_and_close().await.header("message"),
        Some("unknown ack id")
    );

    let mut c = connected(&bridge).await;
    c.send("SEND", &[("destination", "/amq/queue/missing")], b"x")
        .await;
    let e = c.expect_error_and_close().await;
    assert!(
        String::from_utf8_lossy(&e.body).contains("NOT_FOUND"),
        "{e:?}"
    );

    let mut c = connected(&bridge).await;
    c.send("SEND", &[("destination", "/exchange/missing/k")], b"x")
        .await;
    c.expect_error_and_close().await;

    let mut c = connected(&bridge).await;
    c.send("SEND", &[("destination", "orders")], b"x").await;
    assert_eq!(
        c.expect_error_and_close().await.header("message"),
        Some("bad destination")
    );

    let mut c = connected(&bridge).await;
    c.send(
        "SUBSCRIBE",
        &[
            ("destination", "/queue/a"),
            ("id", "s"),
            ("selector", "a = = 1"),
        ],
        b"",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert!(
        e.header("message")
            .unwrap()
            .starts_with("invalid selector at position"),
        "{e:?}"
    );
}

#[tokio::test]
async fn topic_subscriptions_with_wildcards_and_selectors() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send_with_receipt(
        "SUBSCRIBE",
        &[("destination", "/topic/prices.>"), ("id", "all")],
        b"",
        "r1",
    )
    .await;
    c.send_with_receipt(
        "SUBSCRIBE",
        &[
            ("destination", "/topic/prices.*"),
            ("id", "eu"),
            ("selector", "region = 'EU'"),
        ],
        b"",
        "r2",
    )
    .await;
    c.send(
        "SEND",
        &[("destination", "/topic/prices.x"), ("region", "US")],
        b"us",
    )
    .await;
    c.send(
        "SEND",
        &[("destination", "/topic/prices.y"), ("region", "EU")],
        b"eu",
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = c.frame().await;
        got.push((
            m.header("subscription").unwrap().to_string(),
            String::from_utf8_lossy(&m.body).to_string(),
        ));
        assert!(m
            .header("destination")
            .unwrap()
            .starts_with("/topic/prices."));
    }
    got.sort();
    assert_eq!(
        got,
        [
            ("all".into(), "eu".into()),
            ("all".into(), "us".into()),
            ("eu".into(), "eu".into())
        ]
    );
    c.expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn durable_topic_subscription_survives_disconnect() {
    let bridge = start_bridge().await;
    for (headers, name) in [
        (vec![("durable", "true"), ("id", "d1")], "rabbit"),
        (
            vec![("activemq.subscriptionName", "d2"), ("id", "x")],
            "activemq",
        ),
    ] {
        let topic = format!("/topic/news.{name}");
        let mut sub: Vec<(&str, &str)> = headers.clone();
        sub.push(("destination", &topic));
        let (mut c, _) = StompClient::open_with(
            bridge.stomp_addr,
            &[
                ("accept-version", "1.2"),
                ("host", "/"),
                ("client-id", "app"),
            ],
        )
        .await;
        c.send_with_receipt("SUBSCRIBE", &sub, b"", "s").await;
        c.send_with_receipt("DISCONNECT", &[], b"", "bye").await;
        let (mut p, _) = StompClient::open(bridge.stomp_addr).await;
        p.send_with_receipt("SEND", &[("destination", &topic)], b"while away", "p")
            .await;
        let (mut c, _) = StompClient::open_with(
            bridge.stomp_addr,
            &[
                ("accept-version", "1.2"),
                ("host", "/"),
                ("client-id", "app"),
            ],
        )
        .await;
        c.send("SUBSCRIBE", &sub, b"").await;
        let m = c.frame().await;
        assert_eq!(&m.body[..], b"while away", "{name}");
    }
}

#[tokio::test]
async fn temp_queue_reply_to_gets_an_implicit_subscription() {
    let bridge = start_bridge().await;
    let (mut server, _) = StompClient::open(bridge.stomp_addr).await;
    server
        .send_with_receipt(
            "SUBSCRIBE",
            &[("destination", "/queue/rpc"), ("id", "s")],
            b"",
            "r",
        )
        .await;
    let (mut client, _) = StompClient::open(bridge.stomp_addr).await;
    client
        .send(
            "SEND",
            &[
                ("destination", "/queue/rpc"),
                ("reply-to", "/temp-queue/answers"),
            ],
            b"ping",
        )
        .await;
    let req = server.frame().await;
    let reply_to = req.header("reply-to").unwrap().to_string();
    assert!(reply_to.starts_with("/reply-queue/amq.gen-"), "{reply_to}");
    server
        .send("SEND", &[("destination", &reply_to)], b"pong")
        .await;
    let reply = client.frame().await;
    assert_eq!(reply.header("subscription"), Some("/temp-queue/answers"));
    assert!(
        reply
            .header("destination")
            .unwrap()
            .starts_with("/queue/amq.gen-"),
        "{reply:?}"
    );
    assert_eq!(&reply.body[..], b"pong");
}

#[tokio::test]
async fn shutdown_sends_an_error_frame() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    let stop = tokio::spawn(bridge.shutdown());
    let e = c.frame().await;
    assert_eq!(e.command, "ERROR");
    assert_eq!(e.header("message"), Some("broker shutdown"));
    c.expect_closed().await;
    stop.await.unwrap();
}

#[tokio::test]
async fn exchange_and_amq_queue_destinations() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    // /exchange/E/K: a subscriber queue bound to E with K.
    c.send_with_receipt(
        "SUBSCRIBE",
        &[("destination", "/exchange/amq.direct/k1"), ("id", "x")],
        b"",
        "r1",
    )
    .await;
    c.send(
        "SEND",
        &[("destination", "/exchange/amq.direct/k2")],
        b"other key",
    )
    .await;
    c.send("SEND", &[("destination", "/exchange/amq.direct/k1")], b"k1")
        .await;
    let m = c.frame().await;
    assert_eq!(&m.body[..], b"k1");
    assert_eq!(m.header("destination"), Some("/exchange/amq.direct/k1"));
    // /amq/queue/X: an existing queue, never declared.
    c.send(
        "SUBSCRIBE",
        &[("destination", "/amq/queue/nope"), ("id", "n")],
        b"",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert!(
        String::from_utf8_lossy(&e.body).contains("no queue 'nope'"),
        "{e:?}"
    );
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send_with_receipt("SEND", &[("destination", "/queue/made")], b"m", "r")
        .await;
    c.send(
        "SUBSCRIBE",
        &[("destination", "/amq/queue/made"), ("id", "a")],
        b"",
    )
    .await;
    let m = c.frame().await;
    assert_eq!(&m.body[..], b"m");
    assert_eq!(m.header("destination"), Some("/queue/made"));
}

#[tokio::test]
async fn resource_alarm_stops_reading_from_a_publisher() {
    let bridge = start_bridge().await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send_with_receipt("SEND", &[("destination", "/queue/alarmed")], b"1", "r1")
        .await;
    bridge.bridge.broker.set_alarm(true);
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send(
        "SEND",
        &[("destination", "/queue/alarmed"), ("receipt", "r2")],
        b"2",
    )
    .await;
    c.expect_silence(Duration::from_millis(400)).await;
    bridge.bridge.broker.set_alarm(false);
    let f = c.frame().await;
    assert_eq!(f.header("receipt-id"), Some("r2"), "{f:?}");
}
