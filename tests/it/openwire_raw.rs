//! The OpenWire listener driven by a client on the bridge's own codec, command by command
//! as the stock ActiveMQ JMS client sends them (openwire.md §8), with AMQP (lapin) on the
//! other side where the mapping matters.

use std::time::Duration;

use bytes::Bytes;
use lapin::options::{BasicConsumeOptions, BasicPublishOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;

use mqbridge::openwire::codec::{
    ack_type, transaction_type, Command, DataStructure, Destination, DestinationInfo,
    DestinationKind, LocalTransactionId, MessagePull, RemoveSubscriptionInfo, TransactionId,
    TransactionInfo,
};
use mqbridge::openwire::message::{JmsBody, JmsValue};

use crate::common::openwire::{base, body, kind, property, text, OwClient};
use crate::common::{deliveries, lapin_connect, next, start_bridge};

fn text_body(s: &str) -> JmsBody {
    JmsBody::Text(s.to_string())
}

fn exception_class(reply: &Command) -> String {
    match reply {
        Command::ExceptionResponse(e) => e
            .exception
            .as_ref()
            .and_then(|t| t.class.clone())
            .unwrap_or_default(),
        other => panic!("expected an ExceptionResponse, got {other:?}"),
    }
}

fn local_tx(c: &OwClient, value: i64) -> TransactionId {
    TransactionId::Local(LocalTransactionId {
        value,
        connection_id: Some(mqbridge::openwire::codec::ConnectionId::new(
            c.connection_id.clone(),
        )),
    })
}

async fn tx(c: &mut OwClient, id: &TransactionId, kind: u8, rr: bool) -> Option<Command> {
    let info = TransactionInfo {
        base: base(0, rr),
        connection_id: None,
        transaction_id: Some(id.clone()),
        kind,
    };
    if rr {
        Some(c.request(Command::TransactionInfo(info)).await)
    } else {
        let mut info = info;
        info.base = base(c.next_command_id(), false);
        c.write(Command::TransactionInfo(info)).await;
        None
    }
}

#[tokio::test]
async fn openwire_negotiates_and_refuses_a_duplicate_client_id_but_lets_failover_evict() {
    let bridge = start_bridge().await;
    let mut a = OwClient::connect(bridge.openwire_addr, "dup").await;
    // Another ConnectionId with the same client id: refused, with a loadable class.
    let mut b = OwClient::open(bridge.openwire_addr).await;
    let reply = b.connection_info("dup").await;
    assert_eq!(
        exception_class(&reply),
        "javax.jms.InvalidClientIDException"
    );
    // A failover reconnect replays the same ConnectionId: the old connection is evicted.
    let mut again = OwClient::open(bridge.openwire_addr).await;
    again.connection_id = a.connection_id.clone();
    let reply = again.connection_info("dup").await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    assert!(a.closed_within(Duration::from_secs(5)).await);
    // Commands before ConnectionInfo are refused, not ignored.
    let mut c = OwClient::open(bridge.openwire_addr).await;
    c.client_id = "x".into();
    let reply = c.request(Command::ProducerInfo(Default::default())).await;
    assert_eq!(exception_class(&reply), "javax.jms.IllegalStateException");
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_text_message_with_typed_properties_reaches_amqp() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    let mut c = OwClient::connect(bridge.openwire_addr, "typed").await;
    let q = Destination::queue("ow.typed");
    c.producer(Some(q.clone())).await;
    let mut m = c.message(q, &text_body("héllo 😀"));
    m.correlation_id = Some("corr-1".into());
    m.jms_type = Some("probe-type".into());
    m.priority = 7;
    m.reply_to = Some(Destination::queue("probe.reply"));
    m.set_properties(&[
        ("pInt".into(), JmsValue::Int(42)),
        ("pLong".into(), JmsValue::Long(1_234_567_890_123)),
        ("pShort".into(), JmsValue::Short(-3)),
        ("pByte".into(), JmsValue::Byte(9)),
        ("pBool".into(), JmsValue::Bool(true)),
        ("pDouble".into(), JmsValue::Double(2.5)),
        ("pString".into(), JmsValue::String("s".into())),
    ])
    .unwrap();
    let reply = c.send_sync(m).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let consumer = ch
        .basic_consume(
            "ow.typed".into(),
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut rx = deliveries(&consumer);
    let d = next(&mut rx).await.expect("a delivery");
    assert_eq!(&d.data[..], "héllo 😀".as_bytes());
    let p = &d.properties;
    assert_eq!(
        p.content_type().as_ref().unwrap().as_str(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(p.correlation_id().as_ref().unwrap().as_str(), "corr-1");
    assert_eq!(p.kind().as_ref().unwrap().as_str(), "probe-type");
    assert_eq!(p.reply_to().as_ref().unwrap().as_str(), "probe.reply");
    assert_eq!(*p.priority(), Some(7));
    assert_eq!(*p.delivery_mode(), Some(2));
    assert!(p
        .message_id()
        .as_ref()
        .unwrap()
        .as_str()
        .starts_with(&c.connection_id));
    let h = p.headers().as_ref().unwrap().inner();
    assert_eq!(h.get("pInt"), Some(&AMQPValue::LongInt(42)));
    assert_eq!(
        h.get("pLong"),
        Some(&AMQPValue::LongLongInt(1_234_567_890_123))
    );
    assert_eq!(h.get("pShort"), Some(&AMQPValue::ShortInt(-3)));
    assert_eq!(h.get("pByte"), Some(&AMQPValue::ShortShortInt(9)));
    assert_eq!(h.get("pBool"), Some(&AMQPValue::Boolean(true)));
    assert_eq!(h.get("pDouble"), Some(&AMQPValue::Double(2.5)));
    assert_eq!(
        h.get("x-jms-msg-type"),
        Some(&AMQPValue::LongString("text".into()))
    );
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_consumer_receives_amqp_messages_and_auto_acks() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "ow.in".into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    let mut headers = FieldTable::default();
    headers.insert("n".into(), AMQPValue::LongInt(7));
    let props = BasicProperties::default()
        .with_content_type("text/plain".into())
        .with_correlation_id("c-9".into())
        .with_headers(headers);
    ch.basic_publish(
        "".into(),
        "ow.in".into(),
        BasicPublishOptions::default(),
        b"from amqp",
        props,
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let mut c = OwClient::connect(bridge.openwire_addr, "in").await;
    let (id, reply) = c.consume(Destination::queue("ow.in"), 1000, |_| {}).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let d = c.dispatch().await;
    assert_eq!(text(&d), "from amqp");
    assert_eq!(property(&d, "n"), Some(JmsValue::Int(7)));
    assert_eq!(d.redelivery_counter, 0);
    let m = d.message.as_ref().unwrap();
    assert_eq!(m.correlation_id.as_deref(), Some("c-9"));
    assert_eq!(m.destination, Some(Destination::queue("ow.in")));
    c.ack(&id, ack_type::STANDARD, Some(&d), &d, 1, None).await;
    // Acked: closing the consumer does not bring it back.
    c.remove(DataStructure::ConsumerId(id)).await;
    let (_, _) = c.consume(Destination::queue("ow.in"), 1000, |_| {}).await;
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_delivered_acks_widen_the_window_and_standard_acks_a_range() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "window").await;
    let q = Destination::queue("ow.window");
    c.producer(Some(q.clone())).await;
    for i in 0..6 {
        let m = c.message(q.clone(), &text_body(&format!("m{i}")));
        c.send_sync(m).await;
    }
    let (id, _) = c.consume(q.clone(), 2, |_| {}).await;
    let d1 = c.dispatch().await;
    let d2 = c.dispatch().await;
    // Window full (prefetch 2, nothing acked).
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    // DELIVERED for both: two more may come, nothing is removed.
    c.ack(&id, ack_type::DELIVERED, Some(&d1), &d2, 2, None)
        .await;
    let d3 = c.dispatch().await;
    let d4 = c.dispatch().await;
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    // STANDARD for the range d1..d3 removes three: the window reopens.
    c.ack(&id, ack_type::STANDARD, Some(&d1), &d3, 3, None)
        .await;
    let d5 = c.dispatch().await;
    assert_eq!(text(&d5), "m4");
    // INDIVIDUAL for d5 only; close the consumer: d4 comes back redelivered.
    c.ack(&id, ack_type::INDIVIDUAL, None, &d5, 1, None).await;
    let d6 = c.dispatch().await;
    assert_eq!(text(&d6), "m5");
    c.remove(DataStructure::ConsumerId(id)).await;
    let (id2, _) = c.consume(q, 10, |_| {}).await;
    let again = c.dispatch().await;
    assert_eq!(text(&again), text(&d4));
    assert_eq!(again.redelivery_counter, 1);
    let again6 = c.dispatch().await;
    assert_eq!(text(&again6), "m5");
    c.ack(&id2, ack_type::STANDARD, Some(&again), &again6, 2, None)
        .await;
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_transactions_commit_sends_and_acks_and_rollback_discards() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "tx").await;
    let q = Destination::queue("ow.tx");
    c.producer(Some(q.clone())).await;
    let t1 = local_tx(&c, 1);
    tx(&mut c, &t1, transaction_type::BEGIN, false).await;
    for s in ["a", "b"] {
        let mut m = c.message(q.clone(), &text_body(s));
        m.transaction_id = Some(t1.clone());
        c.send_async(m).await;
    }
    let (id, _) = c.consume(q.clone(), 10, |_| {}).await;
    // Nothing before the commit.
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    let reply = tx(&mut c, &t1, transaction_type::COMMIT_ONE_PHASE, true).await;
    assert!(matches!(reply, Some(Command::Response(_))), "{reply:?}");
    let a = c.dispatch().await;
    let b = c.dispatch().await;
    // Ack in a transaction, then roll back: nothing is redispatched (the client redelivers).
    let t2 = local_tx(&c, 2);
    tx(&mut c, &t2, transaction_type::BEGIN, false).await;
    c.ack(&id, ack_type::STANDARD, Some(&a), &b, 2, Some(t2.clone()))
        .await;
    let reply = tx(&mut c, &t2, transaction_type::ROLLBACK, true).await;
    assert!(matches!(reply, Some(Command::Response(_))), "{reply:?}");
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    // Acked again in a committed transaction: gone for good.
    let t3 = local_tx(&c, 3);
    tx(&mut c, &t3, transaction_type::BEGIN, false).await;
    c.ack(&id, ack_type::STANDARD, Some(&a), &b, 2, Some(t3.clone()))
        .await;
    tx(&mut c, &t3, transaction_type::COMMIT_ONE_PHASE, true).await;
    c.remove(DataStructure::ConsumerId(id)).await;
    let _ = c.consume(q, 10, |_| {}).await;
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_prefetch_zero_pulls_with_every_timeout_kind() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "pull").await;
    let q = Destination::queue("ow.pull");
    c.producer(Some(q.clone())).await;
    let (id, _) = c.consume(q.clone(), 0, |_| {}).await;
    let pull = |timeout: i64, cid: i32| {
        Command::MessagePull(MessagePull {
            base: base(cid, false),
            consumer_id: Some(id.clone()),
            destination: Some(q.clone()),
            timeout,
            ..Default::default()
        })
    };
    // receiveNoWait on an empty queue: a null dispatch at once.
    let cid = c.next_command_id();
    c.write(pull(-1, cid)).await;
    let d = c.dispatch().await;
    assert!(d.message.is_none());
    // receive(300): null after the timeout.
    let cid = c.next_command_id();
    let start = std::time::Instant::now();
    c.write(pull(300, cid)).await;
    let d = c.dispatch().await;
    assert!(d.message.is_none());
    assert!(start.elapsed() >= Duration::from_millis(250));
    // Two messages, no pull: nothing is pushed.
    for s in ["x", "y"] {
        let m = c.message(q.clone(), &text_body(s));
        c.send_sync(m).await;
    }
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    // receive() (0 = wait): exactly one message.
    let cid = c.next_command_id();
    c.write(pull(0, cid)).await;
    let x = c.dispatch().await;
    assert_eq!(text(&x), "x");
    c.ack(&id, ack_type::STANDARD, Some(&x), &x, 1, None).await;
    assert!(c.read_within(Duration::from_millis(300)).await.is_none());
    let cid = c.next_command_id();
    c.write(pull(-1, cid)).await;
    let y = c.dispatch().await;
    assert_eq!(text(&y), "y");
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_topics_with_wildcards_selectors_and_no_local() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "topics").await;
    let mut other = OwClient::connect(bridge.openwire_addr, "topics-2").await;
    let (all, _) = c.consume(Destination::topic("ow.t.>"), 100, |_| {}).await;
    let (sel, _) = c
        .consume(Destination::topic("ow.t.*"), 100, |i| {
            i.selector = Some("n > 5".into())
        })
        .await;
    let (mine, _) = c
        .consume(Destination::topic("ow.t.a"), 100, |i| i.no_local = true)
        .await;
    // A bad selector: InvalidSelectorException.
    let (_, reply) = c
        .consume(Destination::topic("ow.t.a"), 100, |i| {
            i.selector = Some("n >".into())
        })
        .await;
    assert_eq!(
        exception_class(&reply),
        "javax.jms.InvalidSelectorException"
    );
    other.producer(None).await;
    c.producer(None).await;
    for n in [9, 1] {
        let mut m = other.message(Destination::topic("ow.t.a"), &text_body(&n.to_string()));
        m.set_properties(&[("n".into(), JmsValue::Int(n))]).unwrap();
        other.send_sync(m).await;
    }
    let own = c.message(Destination::topic("ow.t.a"), &text_body("own"));
    c.send_sync(own).await;
    let mut got: Vec<(String, String)> = Vec::new();
    while let Some(cmd) = c.read_within(Duration::from_millis(500)).await {
        if let Command::MessageDispatch(d) = cmd {
            let who = d.consumer_id.clone().unwrap();
            let name = if who == all {
                "all"
            } else if who == sel {
                "sel"
            } else if who == mine {
                "mine"
            } else {
                "?"
            };
            assert_eq!(
                d.message.as_ref().unwrap().destination,
                Some(Destination::topic("ow.t.a"))
            );
            got.push((name.to_string(), text(&d)));
        }
    }
    got.sort();
    let expected: Vec<(String, String)> = [
        ("all", "1"),
        ("all", "9"),
        ("all", "own"),
        ("mine", "1"),
        ("mine", "9"),
        ("sel", "9"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, expected);
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_durable_subscription_keeps_messages_while_offline_and_can_be_removed() {
    let bridge = start_bridge().await;
    let t = Destination::topic("ow.durable");
    let mut c = OwClient::connect(bridge.openwire_addr, "dur-client").await;
    let (id, reply) = c
        .consume(t.clone(), 100, |i| i.subscription_name = Some("sub".into()))
        .await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    c.remove(DataStructure::ConsumerId(id)).await;
    c.producer(None).await;
    let m = c.message(t.clone(), &text_body("while away"));
    c.send_sync(m).await;
    let (id, _) = c
        .consume(t.clone(), 100, |i| i.subscription_name = Some("sub".into()))
        .await;
    let d = c.dispatch().await;
    assert_eq!(text(&d), "while away");
    c.ack(&id, ack_type::STANDARD, Some(&d), &d, 1, None).await;
    // Unsubscribe while active: refused; after closing: done.
    let unsubscribe = |client: &OwClient| {
        Command::RemoveSubscriptionInfo(RemoveSubscriptionInfo {
            base: base(0, true),
            connection_id: None,
            subscription_name: Some("sub".into()),
            client_id: Some(client.client_id.clone()),
        })
    };
    let reply = c.request(unsubscribe(&c)).await;
    assert!(matches!(reply, Command::ExceptionResponse(_)), "{reply:?}");
    c.remove(DataStructure::ConsumerId(id)).await;
    let reply = c.request(unsubscribe(&c)).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let reply = c.request(unsubscribe(&c)).await;
    assert_eq!(
        exception_class(&reply),
        "javax.jms.InvalidDestinationException"
    );
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_temp_queue_request_reply_across_connections_with_advisories() {
    let bridge = start_bridge().await;
    let mut requester = OwClient::connect(bridge.openwire_addr, "req").await;
    let mut replier = OwClient::connect(bridge.openwire_addr, "rep").await;
    // The replier's connection listens to temp-destination advisories, as the client does.
    let advisory = Destination::topic("ActiveMQ.Advisory.TempQueue,ActiveMQ.Advisory.TempTopic");
    let (_, reply) = replier.consume(advisory, 1000, |i| i.no_local = true).await;
    assert!(matches!(reply, Command::Response(_)));
    let temp_name = format!("{}:1:1", requester.connection_id);
    let temp = Destination::new(DestinationKind::TempQueue, temp_name.clone());
    let reply = requester
        .request(Command::DestinationInfo(DestinationInfo {
            base: base(0, true),
            connection_id: None,
            destination: Some(temp.clone()),
            operation_type: 0,
            ..Default::default()
        }))
        .await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    // The advisory reaches the replier.
    let adv = replier.dispatch().await;
    let m = adv.message.as_ref().unwrap();
    assert_eq!(m.jms_type.as_deref(), Some("Advisory"));
    match &m.data_structure {
        Some(DataStructure::Command(c)) => match c.as_ref() {
            Command::DestinationInfo(info) => {
                assert_eq!(info.destination.as_ref(), Some(&temp));
                assert_eq!(info.operation_type, 0);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // Request with JMSReplyTo = the temp queue; the reply comes back on it.
    let (rid, _) = requester.consume(temp.clone(), 10, |_| {}).await;
    requester.producer(None).await;
    let mut req = requester.message(Destination::queue("ow.service"), &text_body("ping"));
    req.reply_to = Some(temp.clone());
    requester.send_sync(req).await;
    let (sid, _) = replier
        .consume(Destination::queue("ow.service"), 10, |_| {})
        .await;
    let d = replier.dispatch().await;
    assert_eq!(d.consumer_id, Some(sid));
    let reply_to = d.message.as_ref().unwrap().reply_to.clone().unwrap();
    assert_eq!(reply_to, temp);
    replier.producer(None).await;
    let answer = replier.message(reply_to, &text_body("pong"));
    let r = replier.send_sync(answer).await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    let back = requester.dispatch().await;
    assert_eq!(back.consumer_id, Some(rid));
    assert_eq!(text(&back), "pong");
    // A new advisory consumer gets the existing temp queue replayed.
    let mut late = OwClient::connect(bridge.openwire_addr, "late").await;
    let advisory = Destination::topic("ActiveMQ.Advisory.TempQueue");
    late.consume(advisory, 1000, |_| {}).await;
    let replayed = late.dispatch().await;
    assert!(replayed.message.is_some());
    // The requester goes: REMOVE advisory, and sends to the temp queue are refused.
    drop(requester);
    let removed = replier.dispatch().await;
    match &removed.message.as_ref().unwrap().data_structure {
        Some(DataStructure::Command(c)) => match c.as_ref() {
            Command::DestinationInfo(info) => assert_eq!(info.operation_type, 1),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let late_answer = replier.message(temp, &text_body("too late"));
    let r = replier.send_sync(late_answer).await;
    assert_eq!(exception_class(&r), "javax.jms.InvalidDestinationException");
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_browser_sees_copies_then_a_null_dispatch() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "browse").await;
    let q = Destination::queue("ow.browse");
    c.producer(Some(q.clone())).await;
    for s in ["1", "2"] {
        let m = c.message(q.clone(), &text_body(s));
        c.send_sync(m).await;
    }
    let (_, reply) = c.consume(q.clone(), 500, |i| i.browser = true).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let a = c.dispatch().await;
    let b = c.dispatch().await;
    let end = c.dispatch().await;
    assert_eq!((text(&a).as_str(), text(&b).as_str()), ("1", "2"));
    assert!(end.message.is_none());
    // Still there for a real consumer.
    let (_, _) = c.consume(q, 10, |_| {}).await;
    let d = c.dispatch().await;
    assert_eq!(text(&d), "1");
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_map_and_bytes_messages_round_trip_between_jms_clients() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "kinds").await;
    let q = Destination::queue("ow.kinds");
    c.producer(Some(q.clone())).await;
    let map = vec![
        ("i".to_string(), JmsValue::Int(1)),
        ("l".to_string(), JmsValue::Long(2)),
        ("c".to_string(), JmsValue::Char(65)),
        ("s".to_string(), JmsValue::String("x".into())),
    ];
    let bodies = [
        JmsBody::Map(map),
        JmsBody::Bytes(Bytes::from_static(&[0, 1, 2, 255])),
        JmsBody::Stream(vec![JmsValue::Short(3), JmsValue::Bool(true)]),
        JmsBody::Object(Bytes::from_static(&[0xac, 0xed, 0, 5, 1])),
        JmsBody::None,
    ];
    for b in &bodies {
        let m = c.message(q.clone(), b);
        c.send_sync(m).await;
    }
    let _ = c.consume(q, 10, |_| {}).await;
    for b in &bodies {
        let d = c.dispatch().await;
        // A MapMessage is a Java HashMap: compare without order.
        let sorted = |b: JmsBody| match b {
            JmsBody::Map(mut m) => {
                m.sort_by(|x, y| x.0.cmp(&y.0));
                JmsBody::Map(m)
            }
            other => other,
        };
        assert_eq!(sorted(body(&d)), sorted(b.clone()));
        assert_eq!(Some(kind(&d)), b.kind().or(Some(kind(&d))));
    }
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_exclusive_consumers_take_turns_and_priorities_order_a_queue() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "excl").await;
    let q = Destination::queue("ow.excl");
    c.producer(Some(q.clone())).await;
    let (first, r1) = c.consume(q.clone(), 10, |i| i.exclusive = true).await;
    let (second, r2) = c.consume(q.clone(), 10, |i| i.exclusive = true).await;
    assert!(matches!(r1, Command::Response(_)), "{r1:?}");
    assert!(matches!(r2, Command::Response(_)), "{r2:?}");
    for s in ["a", "b", "c"] {
        let m = c.message(q.clone(), &text_body(s));
        c.send_sync(m).await;
    }
    for s in ["a", "b", "c"] {
        let d = c.dispatch().await;
        assert_eq!(d.consumer_id.as_ref(), Some(&first));
        assert_eq!(text(&d), s);
        c.ack(&first, ack_type::STANDARD, Some(&d), &d, 1, None)
            .await;
    }
    c.remove(DataStructure::ConsumerId(first)).await;
    let m = c.message(q.clone(), &text_body("d"));
    c.send_sync(m).await;
    let d = c.dispatch().await;
    assert_eq!(d.consumer_id.as_ref(), Some(&second));
    c.ack(&second, ack_type::STANDARD, Some(&d), &d, 1, None)
        .await;
    c.remove(DataStructure::ConsumerId(second)).await;
    // JMS queues the bridge creates are FIFO (as ActiveMQ's default policy); a queue declared
    // with x-max-priority (here as the config topology or an AMQP client would) orders by
    // JMSPriority.
    let mut arguments = mqbridge::message::FieldTable::default();
    arguments.insert(
        "x-max-priority".into(),
        mqbridge::message::AMQPValue::ShortShortUInt(9),
    );
    let opts = mqbridge::broker::QueueOptions {
        durable: true,
        arguments,
        ..Default::default()
    };
    let vhost = bridge.bridge.broker.vhost("/").expect("default vhost");
    vhost
        .queue_declare("ow.prio", opts, 0)
        .expect("declare a priority queue");
    let pq = Destination::queue("ow.prio");
    for (i, p) in [4i8, 1, 9, 0, 7].iter().enumerate() {
        let mut m = c.message(pq.clone(), &text_body(&format!("p{p}-{i}")));
        m.priority = *p;
        c.send_sync(m).await;
    }
    let _ = c.consume(pq, 10, |_| {}).await;
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(text(&c.dispatch().await));
    }
    assert_eq!(got, ["p9-2", "p7-4", "p4-0", "p1-1", "p0-3"]);
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_producer_window_gets_producer_acks_and_unknown_commands_get_exceptions() {
    let bridge = start_bridge().await;
    let mut c = OwClient::connect(bridge.openwire_addr, "window").await;
    let q = Destination::queue("ow.pwin");
    let info = mqbridge::openwire::codec::ProducerInfo {
        base: base(0, true),
        producer_id: Some(c.producer_id()),
        destination: Some(q.clone()),
        window_size: 4096,
        ..Default::default()
    };
    let reply = c.request(Command::ProducerInfo(info)).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let m = c.message(q.clone(), &text_body("windowed"));
    let expected = 1024
        + m.marshalled_properties.as_ref().map_or(0, |p| p.len())
        + m.content.as_ref().map_or(0, |b| b.len());
    c.send_async(m).await;
    match c.read().await {
        Command::ProducerAck(ack) => {
            assert_eq!(ack.producer_id, Some(c.producer_id()));
            assert_eq!(usize::try_from(ack.size).unwrap(), expected);
        }
        other => panic!("expected a ProducerAck, got {other:?}"),
    }
    // A command type the bridge does not know (50, a journal type): ExceptionResponse for
    // its command id, and the connection goes on.
    c.write_raw(&[0, 0, 0, 6, 50, 0, 0, 0, 77, 1]).await;
    match c.read().await {
        Command::ExceptionResponse(e) => assert_eq!(e.correlation_id, 77),
        other => panic!("expected an ExceptionResponse, got {other:?}"),
    }
    let (_, reply) = c.consume(q, 10, |_| {}).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    assert_eq!(text(&c.dispatch().await), "windowed");
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_keep_alive_both_ways_and_a_silent_client_is_dropped() {
    let bridge = start_bridge().await;
    // The client announces 1 s: the bridge writes a KeepAliveInfo every third of it when
    // idle, answers KeepAliveInfo(rr) and drops a client silent for twice the period.
    let mut c = OwClient::open_with_inactivity(bridge.openwire_addr, 1_000).await;
    let reply = c.connection_info("keepalive").await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let got = c.read_any_within(Duration::from_millis(800)).await;
    assert!(matches!(got, Some(Command::KeepAliveInfo(_))), "{got:?}");
    c.write(Command::KeepAliveInfo(
        mqbridge::openwire::codec::KeepAliveInfo {
            base: base(99, true),
        },
    ))
    .await;
    let mut answered = false;
    for _ in 0..5 {
        match c.read_any_within(Duration::from_millis(800)).await {
            Some(Command::KeepAliveInfo(k)) if !k.base.response_required => answered = true,
            other => panic!("{other:?}"),
        }
        if answered {
            break;
        }
    }
    assert!(answered);
    assert!(c.closed_within(Duration::from_secs(4)).await);
    bridge.shutdown().await;
}

#[tokio::test]
async fn openwire_failover_reconnect_takes_over_its_temp_queue() {
    let bridge = start_bridge().await;
    let mut old = OwClient::connect(bridge.openwire_addr, "fo-temp").await;
    let temp = Destination::new(
        DestinationKind::TempQueue,
        format!("{}:1:1", old.connection_id),
    );
    let add = |c: &OwClient| {
        let _ = c;
        Command::DestinationInfo(DestinationInfo {
            base: base(0, true),
            connection_id: None,
            destination: Some(temp.clone()),
            operation_type: 0,
            ..Default::default()
        })
    };
    let r = old.request(add(&old)).await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    let (_, r) = old.consume(temp.clone(), 10, |_| {}).await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    // Another connection may not consume it.
    let mut other = OwClient::connect(bridge.openwire_addr, "fo-other").await;
    let (_, r) = other.consume(temp.clone(), 10, |_| {}).await;
    assert_eq!(exception_class(&r), "javax.jms.InvalidDestinationException");
    // The failover client replays ConnectionInfo (same ConnectionId), the ADD, the consumer.
    let mut new = OwClient::open(bridge.openwire_addr).await;
    new.connection_id = old.connection_id.clone();
    let r = new.connection_info("fo-temp").await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    let r = new.request(add(&new)).await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    assert!(old.closed_within(Duration::from_secs(5)).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (cid, r) = new.consume(temp.clone(), 10, |_| {}).await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    other.producer(None).await;
    let m = other.message(temp, &text_body("after failover"));
    let r = other.send_sync(m).await;
    assert!(matches!(r, Command::Response(_)), "{r:?}");
    let d = new.dispatch().await;
    assert_eq!(d.consumer_id, Some(cid));
    assert_eq!(text(&d), "after failover");
    bridge.shutdown().await;
}
