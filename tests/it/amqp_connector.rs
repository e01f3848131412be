//! Integration tests: the AMQP connector (`mqbridge::amqp::connector`) against mqbridge's
//! own AMQP listener (always) and a real RabbitMQ when `MQB_RABBITMQ_URL` is set (e.g.
//! `amqp://guest:guest@127.0.0.1:5682/%2f`). Every scenario runs against both peers with
//! the same assertions; queues are declared with plain lapin (the connector never declares).

use std::time::Duration;

use bytes::Bytes;
use mqbridge::amqp::connector::{AmqpClientConfig, AmqpConnector};
use mqbridge::client::ErrorKind;
use mqbridge::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message, ShortString};

use crate::common::start_bridge;

const RABBITMQ_ENV: &str = "MQB_RABBITMQ_URL";

fn config(urls: Vec<String>) -> AmqpClientConfig {
    AmqpClientConfig {
        urls,
        connect_timeout: Duration::from_secs(5),
        heartbeat: 30,
        product: "mqbridge",
    }
}

fn rabbitmq_url() -> Option<String> {
    match std::env::var(RABBITMQ_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("{RABBITMQ_ENV} not set: skipping the RabbitMQ half of this test");
            None
        }
    }
}

/// A unique queue name, declared (non-durable, auto-delete off) with plain lapin.
async fn declare_queue(url: &str, prefix: &str) -> String {
    let name = format!(
        "mqb-connector-{prefix}-{}-{}",
        std::process::id(),
        rand_suffix()
    );
    let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
        .await
        .expect("lapin connects");
    let ch = conn.create_channel().await.expect("channel");
    ch.queue_declare(
        name.as_str().into(),
        lapin::options::QueueDeclareOptions::default(),
        lapin::types::FieldTable::default(),
    )
    .await
    .expect("queue declared");
    let _ = conn.close(200, "bye".into()).await;
    name
}

async fn delete_queue(url: &str, name: &str) {
    if let Ok(conn) = lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await
    {
        if let Ok(ch) = conn.create_channel().await {
            let _ = ch
                .queue_delete(name.into(), lapin::options::QueueDeleteOptions::default())
                .await;
        }
        let _ = conn.close(200, "bye".into()).await;
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos + N.fetch_add(1, Ordering::Relaxed)
}

fn message(body: &str) -> Message {
    Message::new(
        "",
        "",
        BasicProperties::default(),
        Bytes::copy_from_slice(body.as_bytes()),
    )
}

/// A port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

async fn recv(
    consumer: &mut mqbridge::amqp::connector::AmqpConsumer,
) -> mqbridge::client::Received {
    tokio::time::timeout(Duration::from_secs(10), consumer.recv())
        .await
        .expect("a delivery within 10 s")
        .expect("a delivery")
}

// ---- scenarios, each run against the bridge and RabbitMQ ----

async fn confirms_1000_pipelined_then_consume_and_ack(url: &str) {
    let queue = declare_queue(url, "bulk").await;
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    assert!(conn.is_connected());
    let publisher = conn.publisher().await.expect("publisher");
    let started = std::time::Instant::now();
    let mut confirms = Vec::new();
    for i in 0..1000 {
        confirms.push(
            publisher
                .publish("", &queue, &message(&format!("m{i}")), true)
                .await
                .expect("written"),
        );
    }
    for c in confirms {
        c.wait().await.expect("confirmed");
    }
    eprintln!("{url}: 1000 publishes confirmed in {:?}", started.elapsed());

    let mut consumer = conn.consumer(&queue, 100).await.expect("consumer");
    for i in 0..1000 {
        let r = recv(&mut consumer).await;
        assert_eq!(&r.message.body[..], format!("m{i}").as_bytes());
        assert_eq!(r.message.routing_key, queue);
        assert_eq!(r.message.exchange, "");
        assert!(!r.redelivered);
        consumer.ack(r.tag).await.expect("ack");
    }
    drop(consumer);
    conn.close().await;
    // All acked: nothing left to redeliver to a new consumer.
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let mut consumer = conn.consumer(&queue, 10).await.expect("consumer");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), consumer.recv())
            .await
            .is_err(),
        "every message was acked"
    );
    conn.close().await;
    delete_queue(url, &queue).await;
}

async fn properties_and_headers_pass_through(url: &str) {
    let queue = declare_queue(url, "props").await;
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let publisher = conn.publisher().await.expect("publisher");
    let mut headers = FieldTable::default();
    headers.insert(ShortString::from("orderId"), AMQPValue::LongLongInt(42));
    headers.insert(
        ShortString::from("name"),
        AMQPValue::LongString(LongString::from("Zoë")),
    );
    let props = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_message_id("id-1".into())
        .with_correlation_id("corr-1".into())
        .with_type("order".into())
        .with_app_id("tests".into())
        .with_delivery_mode(2)
        .with_priority(3)
        .with_timestamp(1_700_000_000)
        .with_headers(headers);
    let sent = Message::new("", "", props, Bytes::from_static(b"{\"a\":1}"));
    publisher
        .publish("", &queue, &sent, false)
        .await
        .expect("written")
        .wait()
        .await
        .expect("confirmed");
    let mut consumer = conn.consumer(&queue, 1).await.expect("consumer");
    let r = recv(&mut consumer).await;
    assert_eq!(r.message.properties, sent.properties);
    assert_eq!(r.message.body, sent.body);
    consumer.ack(r.tag).await.expect("ack");
    conn.close().await;
    delete_queue(url, &queue).await;
}

async fn nack_requeue_redelivers(url: &str) {
    let queue = declare_queue(url, "nack").await;
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let publisher = conn.publisher().await.expect("publisher");
    publisher
        .publish("", &queue, &message("again"), false)
        .await
        .expect("written")
        .wait()
        .await
        .expect("confirmed");
    let mut consumer = conn.consumer(&queue, 1).await.expect("consumer");
    let first = recv(&mut consumer).await;
    assert!(!first.redelivered);
    consumer.nack(first.tag, true).await.expect("nack");
    let second = recv(&mut consumer).await;
    assert!(
        second.redelivered,
        "requeued message is flagged redelivered"
    );
    assert_eq!(&second.message.body[..], b"again");
    consumer.ack(second.tag).await.expect("ack");
    // nack without requeue: dropped (no DLX here), nothing comes back.
    publisher
        .publish("", &queue, &message("drop"), false)
        .await
        .expect("written")
        .wait()
        .await
        .expect("confirmed");
    let third = recv(&mut consumer).await;
    consumer.nack(third.tag, false).await.expect("nack");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), consumer.recv())
            .await
            .is_err(),
        "a nack without requeue does not redeliver"
    );
    conn.close().await;
    delete_queue(url, &queue).await;
}

async fn missing_exchange_is_refused_and_the_publisher_recovers(url: &str) {
    let queue = declare_queue(url, "missing").await;
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let publisher = conn.publisher().await.expect("publisher");
    let err = match publisher
        .publish("mqb-no-such-exchange", "x", &message("lost"), false)
        .await
    {
        Ok(confirm) => confirm.wait().await.expect_err("refused"),
        Err(e) => e,
    };
    assert_eq!(err.kind, ErrorKind::Refused, "{err:?}");
    assert!(err.message.starts_with("404"), "{}", err.message);
    assert!(
        err.message.contains("mqb-no-such-exchange"),
        "{}",
        err.message
    );
    assert!(conn.is_connected(), "a channel error keeps the connection");

    // The next publish reopens the channel and works.
    let mut ok = false;
    for _ in 0..20 {
        match publisher
            .publish("", &queue, &message("after"), false)
            .await
        {
            Ok(c) => match c.wait().await {
                Ok(()) => {
                    ok = true;
                    break;
                }
                // Written before the broker's channel.close arrived: refused with it.
                Err(e) => assert_eq!(e.kind, ErrorKind::Refused, "{e:?}"),
            },
            Err(e) => panic!("publish after a channel error: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "publisher recovered its channel");

    // Mandatory and unroutable: refused with the return's reply.
    let err = publisher
        .publish("amq.direct", "mqb-no-binding", &message("r"), true)
        .await
        .expect("written")
        .wait()
        .await
        .expect_err("unroutable");
    assert_eq!(err.kind, ErrorKind::Refused);
    assert!(
        err.message.starts_with("unroutable: 312"),
        "{}",
        err.message
    );
    // Not mandatory: silently dropped, confirmed.
    publisher
        .publish("amq.direct", "mqb-no-binding", &message("r"), false)
        .await
        .expect("written")
        .wait()
        .await
        .expect("confirmed");

    // A consumer of a missing queue is refused (404), the connection stays.
    let err = conn
        .consumer("mqb-no-such-queue", 1)
        .await
        .expect_err("no queue");
    assert_eq!(err.kind, ErrorKind::Refused, "{err:?}");
    assert!(err.message.starts_with("404"), "{}", err.message);
    assert!(conn.is_connected());
    conn.close().await;
    delete_queue(url, &queue).await;
}

async fn cluster_list_skips_an_unreachable_url(url: &str) {
    let dead = format!("amqp://guest:guest@127.0.0.1:{}/%2f", closed_port());
    let conn = AmqpConnector::connect(&config(vec![dead, url.to_owned()]))
        .await
        .expect("second URL connects");
    assert!(conn.is_connected());
    assert!(conn.url().contains("***"), "{}", conn.url());
    conn.close().await;
}

// ---- the java-shim's needs: transactions, dead-letter delay queues, browsing ----

/// A `tx.select` channel: publishes and acks take effect at commit; rollback drops them and
/// leaves the consumed message unacknowledged until it is nacked (then redelivered).
async fn tx_channel_commits_and_rolls_back(url: &str) {
    let queue = declare_queue(url, "tx").await;
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let tx = conn.tx_channel().await.expect("tx channel");
    let mut watcher = conn.consumer(&queue, 10).await.expect("watcher");
    tx.publish("", &queue, &message("dropped"))
        .await
        .expect("published");
    tx.rollback().await.expect("rollback");
    tx.publish("", &queue, &message("kept"))
        .await
        .expect("published");
    assert!(
        tokio::time::timeout(Duration::from_millis(400), watcher.recv())
            .await
            .is_err(),
        "nothing before commit"
    );
    tx.commit().await.expect("commit");
    let got = recv(&mut watcher).await;
    assert_eq!(&got.message.body[..], b"kept");
    // Give it back (requeue) so the transactional consumer gets it.
    watcher.nack(got.tag, true).await.expect("nack");
    watcher.close().await;

    let mut consumer = tx.consumer(&conn, &queue, 10).await.expect("tx consumer");
    let first = recv(&mut consumer).await;
    tx.ack(first.tag).await.expect("ack in tx");
    tx.rollback().await.expect("rollback");
    // The ack was dropped: the message is still unacknowledged; requeue it in a commit.
    tx.nack(first.tag, true).await.expect("nack in tx");
    tx.commit().await.expect("commit");
    let again = recv(&mut consumer).await;
    assert!(again.redelivered, "requeued after the rollback");
    assert_eq!(&again.message.body[..], b"kept");
    tx.ack(again.tag).await.expect("ack");
    tx.commit().await.expect("commit");
    // A cancelled consumer hands back the tags it had buffered.
    for body in ["b1", "b2"] {
        tx.publish("", &queue, &message(body))
            .await
            .expect("published");
    }
    tx.commit().await.expect("commit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let buffered = consumer.cancel().await;
    assert_eq!(buffered.len(), 2, "two deliveries were buffered");
    for tag in buffered {
        tx.nack(tag, true).await.expect("nack");
    }
    tx.commit().await.expect("commit");
    assert!(tx.is_open());
    let mut after = conn.consumer(&queue, 10).await.expect("consumer");
    let b1 = recv(&mut after).await;
    let b2 = recv(&mut after).await;
    assert_eq!(
        (&b1.message.body[..], &b2.message.body[..]),
        (&b"b1"[..], &b"b2"[..])
    );
    after.ack(b2.tag).await.expect("ack");
    after.ack(b1.tag).await.expect("ack");
    tx.close().await;
    assert!(!tx.is_open());
    conn.close().await;
    delete_queue(url, &queue).await;
}

/// A delay queue (x-message-ttl + dead-lettering to the default exchange + x-expires):
/// the message reaches the target queue no earlier than the TTL.
async fn dead_letter_delay_queue_delivers_after_the_ttl(url: &str) {
    let target = declare_queue(url, "delayed").await;
    let delay_queue = format!("{target}.delay");
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let mut args = FieldTable::default();
    args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(700));
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(LongString::from("")),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(LongString::from(target.as_str())),
    );
    args.insert("x-expires".into(), AMQPValue::LongLongInt(60_000));
    conn.declare_queue_with_args(&delay_queue, args.clone())
        .await
        .expect("declared");
    // Declaring it again with the same arguments is fine (it resets x-expires).
    conn.declare_queue_with_args(&delay_queue, args)
        .await
        .expect("re-declared");
    let mut consumer = conn.consumer(&target, 1).await.expect("consumer");
    let publisher = conn.publisher().await.expect("publisher");
    let sent = std::time::Instant::now();
    publisher
        .publish("", &delay_queue, &message("later"), false)
        .await
        .expect("written")
        .wait()
        .await
        .expect("confirmed");
    let got = recv(&mut consumer).await;
    assert!(
        sent.elapsed() >= Duration::from_millis(700),
        "arrived after {:?}",
        sent.elapsed()
    );
    assert_eq!(&got.message.body[..], b"later");
    assert!(got.message.header("x-death").is_some(), "dead-lettered");
    consumer.ack(got.tag).await.expect("ack");
    conn.close().await;
    delete_queue(url, &delay_queue).await;
    delete_queue(url, &target).await;
}

/// A browser takes messages with basic.get and puts them back when it closes.
async fn browser_gets_in_order_and_requeues_on_close(url: &str) {
    let queue = declare_queue(url, "browse").await;
    let conn = AmqpConnector::connect(&config(vec![url.to_owned()]))
        .await
        .expect("connects");
    let publisher = conn.publisher().await.expect("publisher");
    for body in ["one", "two"] {
        publisher
            .publish("", &queue, &message(body), false)
            .await
            .expect("written")
            .wait()
            .await
            .expect("confirmed");
    }
    let browser = conn.browser(&queue).await.expect("browser");
    let a = browser.next().await.expect("get").expect("a message");
    let b = browser.next().await.expect("get").expect("a message");
    assert!(browser.next().await.expect("get").is_none(), "end of queue");
    assert_eq!(
        (&a.message.body[..], &b.message.body[..]),
        (&b"one"[..], &b"two"[..])
    );
    browser.close().await;
    let mut consumer = conn.consumer(&queue, 10).await.expect("consumer");
    let first = recv(&mut consumer).await;
    assert_eq!(
        &first.message.body[..],
        b"one",
        "back in the queue, in order"
    );
    assert!(first.redelivered, "browsed = delivered once");
    consumer.ack(first.tag).await.expect("ack");
    assert!(
        conn.browser("mqb-connector-no-such-queue").await.is_err(),
        "a missing queue is an error"
    );
    conn.close().await;
    delete_queue(url, &queue).await;
}

async fn run_all(url: &str) {
    confirms_1000_pipelined_then_consume_and_ack(url).await;
    properties_and_headers_pass_through(url).await;
    nack_requeue_redelivers(url).await;
    missing_exchange_is_refused_and_the_publisher_recovers(url).await;
    cluster_list_skips_an_unreachable_url(url).await;
    tx_channel_commits_and_rolls_back(url).await;
    dead_letter_delay_queue_delivers_after_the_ttl(url).await;
    browser_gets_in_order_and_requeues_on_close(url).await;
}

#[tokio::test]
async fn connector_against_the_bridge() {
    let bridge = start_bridge().await;
    run_all(&bridge.amqp_uri()).await;
    bridge.shutdown().await;
}

#[tokio::test]
async fn connector_against_rabbitmq() {
    let Some(url) = rabbitmq_url() else { return };
    run_all(&url).await;
}

#[tokio::test]
async fn only_closed_ports_is_a_connection_error_naming_every_url() {
    let a = closed_port();
    let b = closed_port();
    let urls = vec![
        format!("amqp://guest:s3cret@127.0.0.1:{a}/%2f"),
        format!("amqp://127.0.0.1:{b}"),
    ];
    let started = std::time::Instant::now();
    let err = AmqpConnector::connect(&config(urls))
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(
        err.message.contains(&format!("127.0.0.1:{a}")),
        "{}",
        err.message
    );
    assert!(
        err.message.contains(&format!("127.0.0.1:{b}")),
        "{}",
        err.message
    );
    assert!(err.message.contains("guest:***@"), "{}", err.message);
    assert!(!err.message.contains("s3cret"), "{}", err.message);
    assert!(started.elapsed() < Duration::from_secs(5), "refused fast");
}

#[tokio::test]
async fn a_silent_peer_times_out() {
    // Accepts TCP but never speaks AMQP: the connect timeout applies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut cfg = config(vec![format!("amqp://127.0.0.1:{port}")]);
    cfg.connect_timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let err = AmqpConnector::connect(&cfg).await.expect_err("times out");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test]
async fn closing_the_bridge_surfaces_as_connection_errors() {
    let bridge = start_bridge().await;
    let url = bridge.amqp_uri();
    let queue = declare_queue(&url, "down").await;
    let conn = AmqpConnector::connect(&config(vec![url.clone()]))
        .await
        .expect("connects");
    let publisher = conn.publisher().await.expect("publisher");
    let mut consumer = conn.consumer(&queue, 1).await.expect("consumer");
    bridge.shutdown().await;
    let err = tokio::time::timeout(Duration::from_secs(10), consumer.recv())
        .await
        .expect("the consumer notices within 10 s")
        .expect_err("connection gone");
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
    let err = match publisher.publish("", &queue, &message("x"), false).await {
        Ok(c) => c.wait().await.expect_err("not confirmed"),
        Err(e) => e,
    };
    assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
    assert!(!conn.is_connected());
}
