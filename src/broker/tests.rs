//! Broker core tests through the public API, with an in-memory store (and the fjall store
//! for recovery), a collecting sink standing in for a connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::*;
use crate::broker::queue::HOLD_PROBE_EVERY;
use crate::broker::store::{
    BindingRecord, ExchangeRecord, FjallStore, HeldWrite, MemoryStore, MessageOp, OnDurable,
    QueueRecord, Recovered, Store, StoreResult, SyncPolicy,
};
use crate::error::ReplyCode;
use crate::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message};

#[derive(Default)]
struct Sink {
    deliveries: Mutex<Vec<Delivery>>,
    cancelled: Mutex<Vec<String>>,
}

impl DeliverySink for Sink {
    fn deliver(&self, d: Delivery) -> bool {
        self.deliveries.lock().push(d);
        true
    }
    fn consumer_cancelled(&self, tag: &str) {
        self.cancelled.lock().push(tag.to_string());
    }
}

impl Sink {
    fn bodies(&self) -> Vec<String> {
        self.deliveries
            .lock()
            .iter()
            .map(|d| String::from_utf8_lossy(&d.message.body).into_owned())
            .collect()
    }
    fn take(&self) -> Vec<Delivery> {
        std::mem::take(&mut *self.deliveries.lock())
    }
}

fn broker() -> (Arc<Broker>, Arc<VHost>) {
    let b = Broker::open(Arc::new(MemoryStore::new()), &["/".to_string()]).unwrap();
    let v = b.vhost("/").unwrap();
    (b, v)
}

fn msg(exchange: &str, rk: &str, body: &str) -> Message {
    Message::new(
        exchange,
        rk,
        BasicProperties::default(),
        Bytes::from(body.to_string()),
    )
}

fn args(pairs: &[(&str, AMQPValue)]) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in pairs {
        t.insert((*k).into(), v.clone());
    }
    t
}

fn s(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v))
}

fn declare(v: &Arc<VHost>, name: &str, arguments: FieldTable) -> String {
    v.queue_declare(
        name,
        QueueOptions {
            arguments,
            ..Default::default()
        },
        1,
    )
    .unwrap()
    .name
}

fn session(v: &Arc<VHost>, sink: &Arc<Sink>) -> Arc<Session> {
    Session::new(v.clone(), 1, sink.clone())
}

#[test]
fn default_exchange_routes_by_queue_name() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    assert!(v.publish(msg("", "q", "a"), false, None).unwrap().routed);
    assert!(!v.publish(msg("", "nope", "b"), true, None).unwrap().routed);
    assert_eq!(v.queue("q").unwrap().counts().ready, 1);
}

#[test]
fn publish_errors_have_reply_codes() {
    let (_b, v) = broker();
    assert_eq!(
        v.publish(msg("missing", "k", ""), false, None)
            .unwrap_err()
            .code,
        ReplyCode::NotFound
    );
    v.exchange_declare(
        "int",
        "direct",
        ExchangeOptions {
            internal: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        v.publish(msg("int", "k", ""), false, None)
            .unwrap_err()
            .code,
        ReplyCode::AccessRefused
    );
    let mut m = msg("", "q", "");
    m.properties = m.properties.with_expiration("soon".into());
    assert_eq!(
        v.publish(m, false, None).unwrap_err().code,
        ReplyCode::PreconditionFailed
    );
}

#[test]
fn declare_rules() {
    let (_b, v) = broker();
    let e = v
        .exchange_declare("amq.custom", "direct", ExchangeOptions::default())
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::AccessRefused);
    v.exchange_declare("x", "direct", ExchangeOptions::default())
        .unwrap();
    let e = v
        .exchange_declare("x", "fanout", ExchangeOptions::default())
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
    // An unknown type is checked first, as RabbitMQ does: 503 on the connection.
    let e = v
        .exchange_declare("x", "nonsense", ExchangeOptions::default())
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::CommandInvalid);
    let e = v
        .exchange_declare("y", "nonsense", ExchangeOptions::default())
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::CommandInvalid);
    let e = v
        .exchange_declare(
            "nope",
            "direct",
            ExchangeOptions {
                passive: true,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::NotFound);
    let e = v
        .queue_declare(
            "nope",
            QueueOptions {
                passive: true,
                ..Default::default()
            },
            1,
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::NotFound);
    declare(&v, "q", FieldTable::default());
    let e = v
        .queue_declare(
            "q",
            QueueOptions {
                durable: true,
                ..Default::default()
            },
            1,
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
    let e = v
        .queue_declare(
            "q",
            QueueOptions {
                arguments: args(&[("x-max-length", AMQPValue::LongInt(1))]),
                ..Default::default()
            },
            1,
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
    let named = declare(&v, "", FieldTable::default());
    assert!(named.starts_with("amq.gen-"), "{named}");
    let e = v
        .queue_bind("q", "", "q", &FieldTable::default(), 1)
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::AccessRefused);
    let e = v
        .queue_bind("q", "missing", "q", &FieldTable::default(), 1)
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::NotFound);
}

#[test]
fn exclusive_queue_is_locked_to_its_connection_and_dies_with_it() {
    let (_b, v) = broker();
    v.queue_declare(
        "ex",
        QueueOptions {
            exclusive: true,
            ..Default::default()
        },
        7,
    )
    .unwrap();
    let e = v
        .queue_declare(
            "ex",
            QueueOptions {
                exclusive: true,
                ..Default::default()
            },
            8,
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::ResourceLocked);
    assert_eq!(
        v.queue_purge("ex", 8).unwrap_err().code,
        ReplyCode::ResourceLocked
    );
    // Publishing into it from elsewhere is allowed.
    assert!(v.publish(msg("", "ex", "x"), false, None).unwrap().routed);
    v.connection_closed(7);
    assert!(v.queue("ex").is_none());
}

#[test]
fn topic_exchange_to_exchange_and_alternate() {
    let (_b, v) = broker();
    v.exchange_declare("ae", "fanout", ExchangeOptions::default())
        .unwrap();
    v.exchange_declare(
        "orders",
        "topic",
        ExchangeOptions {
            arguments: args(&[("alternate-exchange", s("ae"))]),
            ..Default::default()
        },
    )
    .unwrap();
    v.exchange_declare("eu", "fanout", ExchangeOptions::default())
        .unwrap();
    for q in ["eu-all", "de-only", "unrouted"] {
        declare(&v, q, FieldTable::default());
    }
    v.exchange_bind("eu", "orders", "eu.#", &FieldTable::default())
        .unwrap();
    v.queue_bind("eu-all", "eu", "", &FieldTable::default(), 1)
        .unwrap();
    v.queue_bind("de-only", "orders", "*.de", &FieldTable::default(), 1)
        .unwrap();
    v.queue_bind("unrouted", "ae", "", &FieldTable::default(), 1)
        .unwrap();
    v.publish(msg("orders", "eu.de", "1"), false, None).unwrap();
    v.publish(msg("orders", "us.ny", "2"), false, None).unwrap();
    assert_eq!(v.queue("eu-all").unwrap().counts().ready, 1);
    assert_eq!(v.queue("de-only").unwrap().counts().ready, 1);
    assert_eq!(v.queue("unrouted").unwrap().counts().ready, 1);
}

#[test]
fn headers_exchange_any_and_all() {
    let (_b, v) = broker();
    declare(&v, "all", FieldTable::default());
    declare(&v, "any", FieldTable::default());
    v.queue_bind(
        "all",
        "amq.headers",
        "",
        &args(&[("x-match", s("all")), ("a", s("1")), ("b", s("2"))]),
        1,
    )
    .unwrap();
    v.queue_bind(
        "any",
        "amq.headers",
        "",
        &args(&[("x-match", s("any")), ("a", s("1")), ("b", s("2"))]),
        1,
    )
    .unwrap();
    let mut m = msg("amq.headers", "", "x");
    m.properties = m.properties.with_headers(args(&[("a", s("1"))]));
    v.publish(m, false, None).unwrap();
    assert_eq!(v.queue("all").unwrap().counts().ready, 0);
    assert_eq!(v.queue("any").unwrap().counts().ready, 1);
    let e = v
        .queue_bind(
            "all",
            "amq.headers",
            "",
            &args(&[("x-match", s("some"))]),
            1,
        )
        .unwrap_err();
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
}

#[test]
fn prefetch_per_consumer_and_per_channel() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    for i in 0..5 {
        v.publish(msg("", "q", &i.to_string()), false, None)
            .unwrap();
    }
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    ses.qos(2, false);
    ses.consume("q", ConsumeOptions::default()).unwrap();
    assert_eq!(sink.bodies(), vec!["0", "1"]);
    ses.written(2);
    ses.ack(1, false).unwrap();
    assert_eq!(sink.bodies(), vec!["0", "1", "2"]);
    // Channel-wide limit of 1 with two consumers: only one message out at a time.
    let sink2 = Arc::new(Sink::default());
    let ses2 = session(&v, &sink2);
    ses2.qos(1, true);
    declare(&v, "q2", FieldTable::default());
    for i in 0..3 {
        v.publish(msg("", "q2", &i.to_string()), false, None)
            .unwrap();
    }
    ses2.consume("q2", ConsumeOptions::default()).unwrap();
    ses2.consume("q2", ConsumeOptions::default()).unwrap();
    assert_eq!(sink2.bodies().len(), 1);
    ses2.ack(1, false).unwrap();
    assert_eq!(sink2.bodies().len(), 2);
    // Unknown tag is a 406.
    assert_eq!(
        ses2.ack(99, false).unwrap_err().code,
        ReplyCode::PreconditionFailed
    );
}

#[test]
fn round_robin_between_consumers() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    let (a, b) = (Arc::new(Sink::default()), Arc::new(Sink::default()));
    session(&v, &a)
        .consume(
            "q",
            ConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
        )
        .unwrap();
    session(&v, &b)
        .consume(
            "q",
            ConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
        )
        .unwrap();
    for i in 0..4 {
        v.publish(msg("", "q", &i.to_string()), false, None)
            .unwrap();
    }
    assert_eq!(a.bodies(), vec!["0", "2"]);
    assert_eq!(b.bodies(), vec!["1", "3"]);
}

#[test]
fn requeue_keeps_position_and_flags_redelivery() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    for i in 0..3 {
        v.publish(msg("", "q", &i.to_string()), false, None)
            .unwrap();
    }
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    ses.qos(1, false);
    ses.consume("q", ConsumeOptions::default()).unwrap();
    let first = sink.take();
    assert_eq!(first.len(), 1);
    assert!(!first[0].redelivered);
    ses.written(1);
    ses.nack(first[0].delivery_tag, false, true).unwrap();
    let again = sink.take();
    assert_eq!(again.len(), 1);
    assert_eq!(&again[0].message.body[..], b"0");
    assert!(again[0].redelivered);
    assert_eq!(
        again[0].message.header("x-delivery-count"),
        Some(&AMQPValue::LongLongInt(1))
    );
    // Closing the channel puts the unacked message back for others.
    ses.close();
    assert_eq!(v.queue("q").unwrap().counts().ready, 3);
}

#[test]
fn basic_get_and_counts() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    assert!(ses.get("q", false).unwrap().is_none());
    v.publish(msg("", "q", "a"), false, None).unwrap();
    v.publish(msg("", "q", "b"), false, None).unwrap();
    let got = ses.get("q", false).unwrap().unwrap();
    assert_eq!(got.message_count, 1);
    ses.reject(got.delivery_tag, true).unwrap();
    let again = ses.get("q", true).unwrap().unwrap();
    assert!(again.redelivered);
    assert_eq!(&again.message.body[..], b"a");
    assert_eq!(ses.get("nope", true).unwrap_err().code, ReplyCode::NotFound);
}

#[test]
fn ttl_expires_and_dead_letters_with_x_death() {
    let (b, v) = broker();
    v.exchange_declare("dlx", "fanout", ExchangeOptions::default())
        .unwrap();
    declare(&v, "dead", FieldTable::default());
    v.queue_bind("dead", "dlx", "", &FieldTable::default(), 1)
        .unwrap();
    declare(
        &v,
        "q",
        args(&[
            ("x-message-ttl", AMQPValue::LongInt(20)),
            ("x-dead-letter-exchange", s("dlx")),
        ]),
    );
    v.publish(msg("", "q", "old"), false, None).unwrap();
    let mut m = msg("", "q", "per-message");
    m.properties = m.properties.with_expiration("0".into());
    v.publish(m, false, None).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(40));
    b.tick();
    assert_eq!(v.queue("q").unwrap().counts().ready, 0);
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    let got = ses.get("dead", true).unwrap().unwrap();
    assert_eq!(&got.message.body[..], b"old");
    let Some(AMQPValue::FieldArray(deaths)) = got.message.header("x-death") else {
        panic!("no x-death")
    };
    let AMQPValue::FieldTable(entry) = &deaths.as_slice()[0] else {
        panic!("bad entry")
    };
    assert_eq!(entry.inner().get("reason"), Some(&s("expired")));
    assert_eq!(entry.inner().get("queue"), Some(&s("q")));
    assert_eq!(entry.inner().get("count"), Some(&AMQPValue::LongLongInt(1)));
}

#[test]
fn reject_without_requeue_dead_letters_with_routing_key() {
    let (_b, v) = broker();
    v.exchange_declare("dlx", "direct", ExchangeOptions::default())
        .unwrap();
    declare(&v, "parking", FieldTable::default());
    v.queue_bind("parking", "dlx", "parked", &FieldTable::default(), 1)
        .unwrap();
    declare(
        &v,
        "work",
        args(&[
            ("x-dead-letter-exchange", s("dlx")),
            ("x-dead-letter-routing-key", s("parked")),
        ]),
    );
    v.publish(msg("", "work", "bad"), false, None).unwrap();
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    let got = ses.get("work", false).unwrap().unwrap();
    ses.reject(got.delivery_tag, false).unwrap();
    let dead = ses.get("parking", true).unwrap().unwrap();
    assert_eq!(dead.message.routing_key, "parked");
    assert_eq!(
        dead.message.header("x-first-death-reason"),
        Some(&s("rejected"))
    );
}

#[test]
fn max_length_drop_head_and_reject_publish() {
    let (_b, v) = broker();
    declare(&v, "drop", args(&[("x-max-length", AMQPValue::LongInt(2))]));
    for i in 0..4 {
        v.publish(msg("", "drop", &i.to_string()), false, None)
            .unwrap();
    }
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    assert_eq!(
        &ses.get("drop", true).unwrap().unwrap().message.body[..],
        b"2"
    );

    declare(
        &v,
        "reject",
        args(&[
            ("x-max-length", AMQPValue::LongInt(1)),
            ("x-overflow", s("reject-publish")),
        ]),
    );
    let acks = Arc::new(Mutex::new(Vec::new()));
    for i in 0..2 {
        let acks = acks.clone();
        v.publish(
            msg("", "reject", &i.to_string()),
            false,
            Some(Box::new(move |ok| acks.lock().push(ok))),
        )
        .unwrap();
    }
    assert_eq!(*acks.lock(), vec![true, false]);
    assert_eq!(v.queue("reject").unwrap().counts().ready, 1);

    declare(
        &v,
        "bytes",
        args(&[("x-max-length-bytes", AMQPValue::LongInt(5))]),
    );
    v.publish(msg("", "bytes", "abc"), false, None).unwrap();
    v.publish(msg("", "bytes", "def"), false, None).unwrap();
    assert_eq!(v.queue("bytes").unwrap().counts().ready, 1);
}

#[test]
fn priorities_deliver_highest_first() {
    let (_b, v) = broker();
    declare(
        &v,
        "p",
        args(&[("x-max-priority", AMQPValue::ShortShortUInt(5))]),
    );
    for (body, prio) in [("low", 1u8), ("high", 5), ("capped", 9), ("none", 0)] {
        let mut m = msg("", "p", body);
        m.properties = m.properties.with_priority(prio);
        v.publish(m, false, None).unwrap();
    }
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    let order: Vec<String> = (0..4)
        .map(|_| {
            String::from_utf8_lossy(&ses.get("p", true).unwrap().unwrap().message.body).into_owned()
        })
        .collect();
    assert_eq!(order, vec!["high", "capped", "low", "none"]);
}

#[test]
fn deleting_a_queue_cancels_its_consumers() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    let tag = ses.consume("q", ConsumeOptions::default()).unwrap();
    let e = v.queue_delete("q", true, false, 1).unwrap_err();
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
    v.queue_delete("q", false, false, 1).unwrap();
    assert_eq!(*sink.cancelled.lock(), vec![tag.to_string()]);
    assert!(!ses.cancel(&tag));
}

#[test]
fn auto_delete_and_expires() {
    let (b, v) = broker();
    v.queue_declare(
        "auto",
        QueueOptions {
            auto_delete: true,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    let tag = ses.consume("auto", ConsumeOptions::default()).unwrap();
    assert!(v.queue("auto").is_some());
    ses.cancel(&tag);
    assert!(v.queue("auto").is_none());

    declare(
        &v,
        "short-lived",
        args(&[("x-expires", AMQPValue::LongInt(10))]),
    );
    std::thread::sleep(std::time::Duration::from_millis(30));
    b.tick();
    assert!(v.queue("short-lived").is_none());
}

#[test]
fn exclusive_consumer_refuses_others() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    ses.consume(
        "q",
        ConsumeOptions {
            exclusive: true,
            ..Default::default()
        },
    )
    .unwrap();
    let e = ses.consume("q", ConsumeOptions::default()).unwrap_err();
    assert_eq!(e.code, ReplyCode::AccessRefused);
}

#[test]
fn write_window_pauses_dispatch_until_written() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    for i in 0..(session::WRITE_WINDOW + 10) {
        v.publish(msg("", "q", &i.to_string()), false, None)
            .unwrap();
    }
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    ses.consume(
        "q",
        ConsumeOptions {
            no_ack: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(sink.take().len(), session::WRITE_WINDOW);
    ses.written(session::WRITE_WINDOW);
    assert_eq!(sink.take().len(), 10);
}

#[test]
fn confirms_wait_for_the_store_and_state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Arc::new(FjallStore::open(dir.path(), SyncPolicy::EveryBatch).unwrap());
        let b = Broker::open(store, &["/".to_string()]).unwrap();
        let v = b.vhost("/").unwrap();
        v.exchange_declare(
            "orders",
            "topic",
            ExchangeOptions {
                durable: true,
                ..Default::default()
            },
        )
        .unwrap();
        v.queue_declare(
            "durable",
            QueueOptions {
                durable: true,
                ..Default::default()
            },
            1,
        )
        .unwrap();
        v.queue_declare("transient", QueueOptions::default(), 1)
            .unwrap();
        v.queue_bind("durable", "orders", "eu.#", &FieldTable::default(), 1)
            .unwrap();
        let confirmed = Arc::new(AtomicUsize::new(0));
        for (i, mode) in [(0, 2u8), (1, 1), (2, 2)] {
            let mut m = msg("orders", "eu.de", &i.to_string());
            m.properties = m.properties.with_delivery_mode(mode);
            let c = confirmed.clone();
            v.publish(
                m,
                false,
                Some(Box::new(move |ok| {
                    assert!(ok);
                    c.fetch_add(1, Ordering::SeqCst);
                })),
            )
            .unwrap();
        }
        b.flush().unwrap();
        assert_eq!(confirmed.load(Ordering::SeqCst), 3);
        // Ack one persistent message: it must not come back.
        let sink = Arc::new(Sink::default());
        let ses = session(&v, &sink);
        let got = ses.get("durable", false).unwrap().unwrap();
        assert_eq!(&got.message.body[..], b"0");
        ses.ack(got.delivery_tag, false).unwrap();
        b.flush().unwrap();
    }
    let store = Arc::new(FjallStore::open(dir.path(), SyncPolicy::EveryBatch).unwrap());
    let b = Broker::open(store, &["/".to_string()]).unwrap();
    let v = b.vhost("/").unwrap();
    assert!(v.queue("transient").is_none());
    let q = v.queue("durable").unwrap();
    // The transient message (delivery mode 1) is gone, the unacked persistent one is back.
    assert_eq!(q.counts().ready, 1);
    v.publish(msg("orders", "eu.fr", "after"), false, None)
        .unwrap();
    assert_eq!(q.counts().ready, 2, "binding recovered");
    let sink = Arc::new(Sink::default());
    let got = session(&v, &sink).get("durable", true).unwrap().unwrap();
    assert_eq!(&got.message.body[..], b"2");
    assert!(got.redelivered);
}

#[test]
fn higher_priority_consumers_are_served_first() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    let (low, high) = (Arc::new(Sink::default()), Arc::new(Sink::default()));
    let high_session = session(&v, &high);
    high_session.qos(1, false);
    session(&v, &low)
        .consume(
            "q",
            ConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
        )
        .unwrap();
    let opts = ConsumeOptions {
        arguments: args(&[("x-priority", AMQPValue::LongInt(10))]),
        ..Default::default()
    };
    high_session.consume("q", opts).unwrap();
    for i in 0..3 {
        v.publish(msg("", "q", &i.to_string()), false, None)
            .unwrap();
    }
    // The high-priority consumer takes what its prefetch allows; the rest overflows.
    assert_eq!(high.bodies(), vec!["0"]);
    assert_eq!(low.bodies(), vec!["1", "2"]);
    let bad = ConsumeOptions {
        arguments: args(&[("x-priority", s("high"))]),
        ..Default::default()
    };
    assert_eq!(
        high_session.consume("q", bad).unwrap_err().code,
        ReplyCode::PreconditionFailed
    );
}

#[test]
fn filtered_consumers_get_only_what_they_accept() {
    let (_b, v) = broker();
    declare(&v, "q", FieldTable::default());
    for body in ["eu-1", "us-1", "eu-2", "us-2"] {
        v.publish(msg("", "q", body), false, None).unwrap();
    }
    let eu = Arc::new(Sink::default());
    let filter: session::MessageFilter = Arc::new(|m: &Message| m.body.starts_with(b"eu"));
    let opts = ConsumeOptions {
        no_ack: true,
        filter: Some(filter),
        ..Default::default()
    };
    session(&v, &eu).consume("q", opts).unwrap();
    assert_eq!(eu.bodies(), vec!["eu-1", "eu-2"]);
    // What the filter refused stays for others.
    assert_eq!(v.queue("q").unwrap().counts().ready, 2);
    let rest = Arc::new(Sink::default());
    session(&v, &rest)
        .consume(
            "q",
            ConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(rest.bodies(), vec!["us-1", "us-2"]);
}

#[test]
fn a_subscriber_queue_discards_what_its_filter_refuses() {
    let (_b, v) = broker();
    declare(&v, "sub", FieldTable::default());
    let sink = Arc::new(Sink::default());
    let filter: session::MessageFilter = Arc::new(|m: &Message| m.body.as_ref() == b"yes");
    let opts = ConsumeOptions {
        filter: Some(filter),
        discard_unmatched: true,
        ..Default::default()
    };
    session(&v, &sink).consume("sub", opts).unwrap();
    for body in ["no", "yes", "no"] {
        v.publish(msg("", "sub", body), false, None).unwrap();
    }
    assert_eq!(sink.bodies(), vec!["yes"]);
    assert_eq!(v.queue("sub").unwrap().counts().ready, 0);
}

#[test]
fn browsing_leaves_messages_in_place() {
    let (_b, v) = broker();
    declare(
        &v,
        "q",
        args(&[("x-max-priority", AMQPValue::ShortShortUInt(5))]),
    );
    for (body, prio) in [("a", 0u8), ("b", 5), ("c", 0)] {
        let mut m = msg("", "q", body);
        m.properties = m.properties.with_priority(prio);
        v.publish(m, false, None).unwrap();
    }
    let q = v.queue("q").unwrap();
    let seen: Vec<String> = q
        .browse(10)
        .iter()
        .map(|(m, redelivered)| {
            assert!(!redelivered);
            String::from_utf8_lossy(&m.body).into_owned()
        })
        .collect();
    assert_eq!(seen, vec!["b", "a", "c"]);
    assert_eq!(q.browse(1).len(), 1);
    assert_eq!(q.counts().ready, 3);
    let sink = Arc::new(Sink::default());
    let got = session(&v, &sink).get("q", true).unwrap().unwrap();
    assert!(!got.redelivered, "browsing is not a delivery");
}

/// A store that keeps held writes for the test to settle, and counts what reaches it.
#[derive(Default)]
struct HoldingStore {
    inner: MemoryStore,
    held: Mutex<Vec<Arc<HeldWrite>>>,
    enqueues: AtomicUsize,
    removes: AtomicUsize,
}

impl HoldingStore {
    /// What the fjall writer does once a hold is over: take the write and store it.
    fn write_held(&self) {
        for write in std::mem::take(&mut *self.held.lock()) {
            if let Some((op, cb)) = write.take() {
                self.submit(vec![op], cb);
            }
        }
    }
}

impl Store for HoldingStore {
    fn save_exchange(&self, r: &ExchangeRecord) -> StoreResult<()> {
        self.inner.save_exchange(r)
    }
    fn delete_exchange(&self, vhost: &str, name: &str) -> StoreResult<()> {
        self.inner.delete_exchange(vhost, name)
    }
    fn save_queue(&self, r: &QueueRecord) -> StoreResult<()> {
        self.inner.save_queue(r)
    }
    fn delete_queue(&self, vhost: &str, name: &str) -> StoreResult<()> {
        self.inner.delete_queue(vhost, name)
    }
    fn save_binding(&self, r: &BindingRecord) -> StoreResult<()> {
        self.inner.save_binding(r)
    }
    fn delete_binding(&self, r: &BindingRecord) -> StoreResult<()> {
        self.inner.delete_binding(r)
    }
    fn purge_queue(&self, vhost: &str, name: &str) -> StoreResult<()> {
        self.inner.purge_queue(vhost, name)
    }
    fn submit(&self, ops: Vec<MessageOp>, on_durable: Option<OnDurable>) {
        for op in &ops {
            match op {
                MessageOp::Enqueue { .. } => self.enqueues.fetch_add(1, Ordering::SeqCst),
                MessageOp::Remove { .. } => self.removes.fetch_add(1, Ordering::SeqCst),
            };
        }
        self.inner.submit(ops, on_durable);
    }
    fn hold(&self, write: Arc<HeldWrite>) {
        self.held.lock().push(write);
    }
    fn recover(&self) -> StoreResult<Recovered> {
        self.inner.recover()
    }
    fn flush(&self) -> StoreResult<()> {
        self.inner.flush()
    }
}

/// A broker on a [`HoldingStore`] with the durable queue `q`.
fn holding_broker() -> (Arc<HoldingStore>, Arc<Broker>, Arc<VHost>) {
    let store = Arc::new(HoldingStore::default());
    let b = Broker::open(store.clone(), &["/".to_string()]).unwrap();
    let v = b.vhost("/").unwrap();
    let durable = QueueOptions {
        durable: true,
        ..Default::default()
    };
    v.queue_declare("q", durable, 1).unwrap();
    (store, b, v)
}

fn persistent(body: &str) -> Message {
    let mut m = msg("", "q", body);
    m.properties = m.properties.with_delivery_mode(2);
    m
}

/// Publish with a confirm; the returned counter is 1 once it was confirmed (positively).
fn publish_confirmed(v: &Arc<VHost>, m: Message) -> Arc<AtomicUsize> {
    let confirmed = Arc::new(AtomicUsize::new(0));
    let c = confirmed.clone();
    v.publish(
        m,
        false,
        Some(Box::new(move |ok| {
            assert!(ok);
            c.fetch_add(1, Ordering::SeqCst);
        })),
    )
    .unwrap();
    confirmed
}

/// A persistent message that went straight to a consumer is held, not written: the ack
/// cancels the write and releases the publisher's confirm without the store. One that
/// waits in the queue is written at once; one the store wrote before the ack is removed.
#[test]
fn an_ack_cancels_a_held_write_and_confirms_it() {
    let (store, _b, v) = holding_broker();

    // No consumer: written at once, confirmed by the store.
    let queued = publish_confirmed(&v, persistent("queued"));
    assert_eq!(store.enqueues.load(Ordering::SeqCst), 1);
    assert_eq!(queued.load(Ordering::SeqCst), 1);
    assert!(store.held.lock().is_empty());

    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    ses.consume("q", ConsumeOptions::default()).unwrap();
    let first = sink.take();
    ses.ack(first[0].delivery_tag, false).unwrap();
    assert_eq!(store.removes.load(Ordering::SeqCst), 1);

    // Straight to the consumer: held, and the confirm waits for the ack.
    let held = publish_confirmed(&v, persistent("held"));
    assert_eq!(store.held.lock().len(), 1);
    assert_eq!(held.load(Ordering::SeqCst), 0);
    let d = sink.take();
    ses.ack(d[0].delivery_tag, false).unwrap();
    assert_eq!(held.load(Ordering::SeqCst), 1);
    assert!(store.held.lock()[0].is_settled());
    assert_eq!(store.enqueues.load(Ordering::SeqCst), 1, "never written");
    assert_eq!(store.removes.load(Ordering::SeqCst), 1, "nothing to remove");
    store.held.lock().clear();

    // The store wrote it before the ack came: confirmed by the write, removed by the ack.
    let late = publish_confirmed(&v, persistent("late"));
    store.write_held();
    assert_eq!(late.load(Ordering::SeqCst), 1);
    assert_eq!(store.enqueues.load(Ordering::SeqCst), 2);
    let d = sink.take();
    ses.ack(d[0].delivery_tag, false).unwrap();
    assert_eq!(store.removes.load(Ordering::SeqCst), 2);
}

/// Holding adapts to the consumers: after acks that keep coming too late the queue writes
/// at once, trying a hold again now and then, and holds again once one pays off.
#[test]
fn holds_stop_while_acks_come_too_late_and_resume_when_they_pay_off() {
    let (store, _b, v) = holding_broker();
    let sink = Arc::new(Sink::default());
    let ses = session(&v, &sink);
    ses.consume("q", ConsumeOptions::default()).unwrap();
    let publish_and_ack = |late: bool| -> bool {
        let held_before = store.held.lock().len();
        publish_confirmed(&v, persistent("m"));
        let was_held = store.held.lock().len() > held_before;
        if late {
            store.write_held();
        }
        for d in sink.take() {
            ses.ack(d.delivery_tag, false).unwrap();
        }
        was_held
    };
    // Score 0 - 2 < 0 after one late ack: the next ones are written at once...
    assert!(publish_and_ack(true));
    for _ in 1..HOLD_PROBE_EVERY {
        assert!(!publish_and_ack(false), "held while acks came late");
    }
    // ...but every 64th is held again, to find out whether acks got faster. A late ack
    // cost 2, a timely one gives 1: two probes that pay off resume holding.
    assert!(publish_and_ack(false), "no probe");
    for _ in 1..HOLD_PROBE_EVERY {
        assert!(!publish_and_ack(false));
    }
    assert!(publish_and_ack(false), "no second probe");
    assert!(
        publish_and_ack(false),
        "probes that paid off resume holding"
    );
    assert!(publish_and_ack(false));
    store.held.lock().clear();
}

/// Messages that leave at once (a no-ack consumer) or with their queue never reach the
/// store, and their confirms are released.
#[test]
fn held_writes_of_messages_gone_otherwise_are_cancelled_and_confirmed() {
    let (store, _b, v) = holding_broker();
    let sink = Arc::new(Sink::default());
    let no_ack = session(&v, &sink);
    let opts = ConsumeOptions {
        no_ack: true,
        ..Default::default()
    };
    let tag = no_ack.consume("q", opts).unwrap();
    let gone = publish_confirmed(&v, persistent("no-ack"));
    assert_eq!(gone.load(Ordering::SeqCst), 1);
    assert_eq!(sink.take().len(), 1);
    assert!(no_ack.cancel(&tag));

    let ses = session(&v, &sink);
    ses.consume("q", ConsumeOptions::default()).unwrap();
    let deleted = publish_confirmed(&v, persistent("deleted"));
    assert_eq!(deleted.load(Ordering::SeqCst), 0);
    v.queue_delete("q", false, false, 1).unwrap();
    assert_eq!(deleted.load(Ordering::SeqCst), 1);
    assert!(store.held.lock().iter().all(|w| w.is_settled()));
    assert_eq!(store.enqueues.load(Ordering::SeqCst), 0);
    assert_eq!(store.removes.load(Ordering::SeqCst), 0);
}

/// A connection still holding a deleted vhost can neither declare nor bind in it, and what
/// it tried leaves nothing in the store: the vhost does not come back at restart.
#[test]
fn a_deleted_vhost_refuses_declares_and_stays_deleted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Arc::new(FjallStore::open(dir.path(), SyncPolicy::EveryBatch).unwrap());
        let b = Broker::open(store, &["/".to_string()]).unwrap();
        let v = b.ensure_vhost("tmp");
        let durable = QueueOptions {
            durable: true,
            ..Default::default()
        };
        v.queue_declare("kept", durable.clone(), 1).unwrap();
        assert!(b.delete_vhost("tmp", "bye").unwrap());
        assert!(!b.delete_vhost("tmp", "bye").unwrap());
        assert!(b.vhost("tmp").is_none());
        let refused = v.queue_declare("late", durable, 1).unwrap_err();
        assert_eq!(refused.code, ReplyCode::NotFound);
        let durable_exchange = ExchangeOptions {
            durable: true,
            ..Default::default()
        };
        let refused = v
            .exchange_declare("late-x", "topic", durable_exchange)
            .unwrap_err();
        assert_eq!(refused.code, ReplyCode::NotFound);
        let refused = v
            .queue_bind("kept", "amq.topic", "#", &FieldTable::default(), 1)
            .unwrap_err();
        assert_eq!(refused.code, ReplyCode::NotFound);
        b.flush().unwrap();
    }
    let store = Arc::new(FjallStore::open(dir.path(), SyncPolicy::EveryBatch).unwrap());
    let b = Broker::open(store, &["/".to_string()]).unwrap();
    assert!(b.vhost("tmp").is_none(), "nothing stored brings it back");
}
