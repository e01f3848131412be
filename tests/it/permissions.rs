//! Per-vhost permissions and size limits, on every protocol, against an in-process bridge.
//!
//! Users (password `pw` for all):
//! - `ro`: configure `.*`, write `""`, read `.*` (may not publish);
//! - `wo`: configure `.*`, write `.*`, read `""` (may not consume);
//! - `nc`: configure `""`, write `.*`, read `.*` (may not declare);
//! - `app`: `^app\.` / `app` / `app` (unanchored: `app` matches `my-app`);
//! - `novhost`: `permissions: {}` (may not open any vhost);
//! - `old`: no `permissions` key (full access, as before permissions existed).

use std::collections::BTreeMap;
use std::time::Duration;

use lapin::options::{
    BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueuePurgeOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, ExchangeKind};
use mqbridge::auth::VhostPermissions;
use mqbridge::config::{Config, HashingAlgorithm, PermissionConfig, UserConfig};
use mqbridge::openwire::codec::{
    Command, ConnectionId, ConnectionInfo, Destination, ExceptionResponse, SessionId, SessionInfo,
};
use mqbridge::openwire::message::JmsBody;

use crate::common::openwire::{base, OwClient};
use crate::common::stomp::{Read, StompClient};
use crate::common::{lapin_connect, reply_code, start_bridge_with, TestBridge};

const PASSWORD: &str = "pw";

fn user(name: &str, permissions: Option<&[(&str, &str, &str, &str)]>) -> UserConfig {
    let hash =
        mqbridge::auth::hash_password(HashingAlgorithm::RabbitPasswordHashingSha256, PASSWORD)
            .expect("hash");
    UserConfig {
        name: name.to_string(),
        password_hash: hash,
        hashing_algorithm: HashingAlgorithm::RabbitPasswordHashingSha256,
        tags: Vec::new(),
        loopback_only: None,
        permissions: permissions.map(|list| {
            list.iter()
                .map(|(v, c, w, r)| {
                    (
                        v.to_string(),
                        PermissionConfig {
                            configure: c.to_string(),
                            write: w.to_string(),
                            read: r.to_string(),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>()
        }),
    }
}

fn add_users(config: &mut Config) {
    config.users.extend([
        user("ro", Some(&[("/", ".*", "", ".*")])),
        user("wo", Some(&[("/", ".*", ".*", "")])),
        user("nc", Some(&[("/", "", ".*", ".*")])),
        user("app", Some(&[("/", "^app\\.", "app", "app")])),
        user("novhost", Some(&[])),
        user("old", None),
    ]);
}

async fn start() -> TestBridge {
    start_bridge_with(add_users).await
}

async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestBridge {
    start_bridge_with(|c| {
        add_users(c);
        adjust(c);
    })
    .await
}

// ----- AMQP -----

async fn amqp_as(bridge: &TestBridge, name: &str) -> lapin::Connection {
    let uri = format!("amqp://{name}:{PASSWORD}@{}/%2f", bridge.amqp_addr);
    lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .expect("logs in")
}

/// Publish with confirms on; the error the publish (or its confirm) ends with.
async fn publish_error(
    ch: &lapin::Channel,
    exchange: &str,
    key: &str,
    body: &[u8],
) -> lapin::Error {
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm.select");
    let result = ch
        .basic_publish(
            exchange.into(),
            key.into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default(),
        )
        .await;
    match result {
        Err(e) => e,
        Ok(confirm) => confirm.await.expect_err("the channel is closed"),
    }
}

async fn guest_declares(bridge: &TestBridge, queue: &str) {
    let conn = lapin_connect(bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("guest declares");
    conn.close(200, "bye".into()).await.unwrap();
}

#[tokio::test]
async fn amqp_publish_without_write_is_403() {
    let bridge = start().await;
    let conn = amqp_as(&bridge, "ro").await;
    let ch = conn.create_channel().await.unwrap();
    let err = publish_error(&ch, "", "q", b"x").await;
    assert_eq!(reply_code(&err), Some(403), "{err}");
    assert!(
        err.to_string().contains(
            "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'ro'"
        ),
        "{err}"
    );
    // A channel error: the connection stays open.
    assert!(conn.status().connected());
    let ch2 = conn.create_channel().await.unwrap();
    let err = publish_error(&ch2, "amq.topic", "k", b"x").await;
    assert!(
        err.to_string()
            .contains("access to exchange 'amq.topic' in vhost '/' refused for user 'ro'"),
        "{err}"
    );
}

#[tokio::test]
async fn amqp_consume_get_and_purge_without_read_are_403() {
    let bridge = start().await;
    guest_declares(&bridge, "perm.in").await;
    let conn = amqp_as(&bridge, "wo").await;
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .basic_consume(
            "perm.in".into(),
            "c".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("consume refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    assert!(
        err.to_string()
            .contains("access to queue 'perm.in' in vhost '/' refused for user 'wo'"),
        "{err}"
    );
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .basic_get("perm.in".into(), BasicGetOptions::default())
        .await
        .expect_err("get refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_purge("perm.in".into(), QueuePurgeOptions::default())
        .await
        .expect_err("purge refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    // Write is granted: publishing works.
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let confirm = ch
        .basic_publish(
            "".into(),
            "perm.in".into(),
            BasicPublishOptions::default(),
            b"ok",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(confirm.is_ack());
}

#[tokio::test]
async fn amqp_declare_and_delete_without_configure_are_403() {
    let bridge = start().await;
    guest_declares(&bridge, "perm.existing").await;
    let conn = amqp_as(&bridge, "nc").await;
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_declare(
            "perm.new".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("declare refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    assert!(
        err.to_string()
            .contains("access to queue 'perm.new' in vhost '/' refused for user 'nc'"),
        "{err}"
    );
    // A server-named queue is checked under its generated name.
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_declare(
            "".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("server-named declare refused");
    assert!(
        err.to_string().contains("access to queue 'amq.gen-"),
        "{err}"
    );
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .exchange_declare(
            "perm.x".into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("exchange declare refused");
    assert!(
        err.to_string()
            .contains("access to exchange 'perm.x' in vhost '/' refused for user 'nc'"),
        "{err}"
    );
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_delete("perm.existing".into(), Default::default())
        .await
        .expect_err("delete refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    // A passive declare only asks: no permission needed, as in RabbitMQ.
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "perm.existing".into(),
        QueueDeclareOptions {
            passive: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("passive declare is allowed");
}

#[tokio::test]
async fn amqp_regexes_are_unanchored_and_bind_needs_write_on_queue_and_read_on_exchange() {
    let bridge = start().await;
    let conn = amqp_as(&bridge, "app").await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "app.q".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("configure ^app\\. matches app.q");
    ch.exchange_declare(
        "app.x".into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("configure ^app\\. matches app.x");
    ch.queue_bind(
        "app.q".into(),
        "app.x".into(),
        "k".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("write on app.q, read on app.x");
    // `^app\.` is anchored: my-app.q is refused for configure...
    let err = ch
        .queue_declare(
            "my-app.q".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("anchored configure");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    // ...while the unanchored `app` grants read on amq.direct? No: it does not contain "app".
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_bind(
            "app.q".into(),
            "amq.direct".into(),
            "k".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("read on amq.direct refused");
    assert!(
        err.to_string()
            .contains("access to exchange 'amq.direct' in vhost '/' refused for user 'app'"),
        "{err}"
    );
    // Unanchored: write `app` matches the exchange `my-app.out` anywhere in the name.
    let guest = lapin_connect(&bridge).await;
    let gch = guest.create_channel().await.unwrap();
    gch.exchange_declare(
        "my-app.out".into(),
        ExchangeKind::Fanout,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let confirm = ch
        .basic_publish(
            "my-app.out".into(),
            "".into(),
            BasicPublishOptions::default(),
            b"x",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .expect("unanchored write matches");
    assert!(confirm.is_ack());
}

#[tokio::test]
async fn amqp_vhost_without_permissions_is_530_and_old_users_keep_full_access() {
    let bridge = start().await;
    let uri = format!("amqp://novhost:{PASSWORD}@{}/%2f", bridge.amqp_addr);
    let err = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .expect_err("vhost refused");
    assert_eq!(reply_code(&err), Some(530), "{err}");
    assert!(
        err.to_string()
            .contains("access to vhost '/' refused for user 'novhost'"),
        "{err}"
    );
    let conn = amqp_as(&bridge, "old").await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "old.q".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("a user without a permissions key may do anything");
}

#[tokio::test]
async fn amqp_permission_change_applies_to_an_open_connection() {
    let bridge = start().await;
    let conn = amqp_as(&bridge, "old").await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "live.q".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let changed = bridge.bridge.users.set_permissions(
        "old",
        "/",
        Some(VhostPermissions::new(".*", ".*", "^other$").unwrap()),
        &["/".to_string()],
    );
    assert!(changed);
    let err = ch
        .basic_get("live.q".into(), BasicGetOptions::default())
        .await
        .expect_err("read now refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
}

#[tokio::test]
async fn amqp_message_above_max_message_size_is_406() {
    let bridge = start_with(|c| c.limits.max_message_size = Some(1000)).await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    guest_declares(&bridge, "size.q").await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let ok = ch
        .basic_publish(
            "".into(),
            "size.q".into(),
            BasicPublishOptions::default(),
            &[b'a'; 1000],
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(ok.is_ack(), "exactly the limit is accepted");
    let err = match ch
        .basic_publish(
            "".into(),
            "size.q".into(),
            BasicPublishOptions::default(),
            &[b'a'; 1001],
            BasicProperties::default(),
        )
        .await
    {
        Err(e) => e,
        Ok(confirm) => confirm.await.expect_err("406"),
    };
    assert_eq!(reply_code(&err), Some(406), "{err}");
    assert!(
        err.to_string()
            .contains("message size 1001 is larger than configured max size 1000"),
        "{err}"
    );
}

// ----- STOMP -----

async fn stomp_as(bridge: &TestBridge, name: &str) -> StompClient {
    let mut c = StompClient::connect(bridge.stomp_addr).await;
    c.send(
        "CONNECT",
        &[
            ("accept-version", "1.2"),
            ("host", "/"),
            ("login", name),
            ("passcode", PASSWORD),
        ],
        b"",
    )
    .await;
    let connected = c.frame().await;
    assert_eq!(connected.command, "CONNECTED", "{connected:?}");
    c
}

fn body_text(f: &mqbridge::stomp::Frame) -> String {
    String::from_utf8_lossy(&f.body).into_owned()
}

#[tokio::test]
async fn stomp_send_without_write_is_an_error_frame() {
    let bridge = start().await;
    let mut c = stomp_as(&bridge, "ro").await;
    c.send(
        "SEND",
        &[("destination", "/queue/perm.s"), ("receipt", "r1")],
        b"x",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert_eq!(e.header("message"), Some("access_refused"), "{e:?}");
    assert_eq!(e.header("receipt-id"), Some("r1"), "{e:?}");
    assert!(
        body_text(&e).contains(
            "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'ro'"
        ),
        "{e:?}"
    );
    // Refused before anything was declared.
    let vhost = bridge.bridge.broker.vhost("/").unwrap();
    assert!(vhost.queue("perm.s").is_none());
    // A topic send needs write on amq.topic.
    let mut c = stomp_as(&bridge, "ro").await;
    c.send("SEND", &[("destination", "/topic/t")], b"x").await;
    let e = c.expect_error_and_close().await;
    assert!(body_text(&e).contains("exchange 'amq.topic'"), "{e:?}");
}

#[tokio::test]
async fn stomp_subscribe_without_read_is_an_error_frame() {
    let bridge = start().await;
    let mut c = stomp_as(&bridge, "wo").await;
    c.send(
        "SUBSCRIBE",
        &[("destination", "/queue/perm.r"), ("id", "s1")],
        b"",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert_eq!(e.header("message"), Some("access_refused"), "{e:?}");
    assert!(
        body_text(&e).contains("access to queue 'perm.r' in vhost '/' refused for user 'wo'"),
        "{e:?}"
    );
    // A topic subscription needs read on amq.topic (its binding's source).
    let mut c = stomp_as(&bridge, "wo").await;
    c.send(
        "SUBSCRIBE",
        &[("destination", "/topic/news"), ("id", "s1")],
        b"",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert!(
        body_text(&e).contains("access to exchange 'amq.topic' in vhost '/' refused for user 'wo'"),
        "{e:?}"
    );
}

#[tokio::test]
async fn stomp_send_creating_a_queue_needs_configure() {
    let bridge = start().await;
    guest_declares(&bridge, "perm.there").await;
    let mut c = stomp_as(&bridge, "nc").await;
    // The queue exists: nothing to create, write on amq.default suffices.
    c.send_with_receipt("SEND", &[("destination", "/queue/perm.there")], b"x", "r1")
        .await;
    c.send(
        "SEND",
        &[("destination", "/queue/perm.missing"), ("receipt", "r2")],
        b"x",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert!(
        body_text(&e).contains("access to queue 'perm.missing' in vhost '/' refused for user 'nc'"),
        "{e:?}"
    );
}

#[tokio::test]
async fn stomp_vhost_without_permissions_is_refused_at_connect() {
    let bridge = start().await;
    let mut c = StompClient::connect(bridge.stomp_addr).await;
    c.send(
        "CONNECT",
        &[
            ("accept-version", "1.2"),
            ("host", "/"),
            ("login", "novhost"),
            ("passcode", PASSWORD),
        ],
        b"",
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert_eq!(e.header("message"), Some("access refused"), "{e:?}");
    assert!(
        body_text(&e).contains("access to vhost '/' refused for user 'novhost'"),
        "{e:?}"
    );
}

#[tokio::test]
async fn stomp_message_and_frame_size_limits() {
    let bridge = start_with(|c| {
        c.limits.max_message_size = Some(1000);
        c.limits.max_frame_size = Some(8192);
    })
    .await;
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send_with_receipt(
        "SEND",
        &[("destination", "/queue/size.s")],
        &[b'a'; 1000],
        "small",
    )
    .await;
    c.send(
        "SEND",
        &[("destination", "/queue/size.s"), ("receipt", "big")],
        &[b'a'; 1001],
    )
    .await;
    let e = c.expect_error_and_close().await;
    assert_eq!(e.header("message"), Some("precondition_failed"), "{e:?}");
    assert!(
        body_text(&e).contains("message size 1001 is larger than configured max size 1000"),
        "{e:?}"
    );
    // A frame above max_frame_size: ERROR and close, whatever the message limit.
    let (mut c, _) = StompClient::open(bridge.stomp_addr).await;
    c.send("SEND", &[("destination", "/queue/size.s")], &[b'a'; 9000])
        .await;
    let f = c.frame().await;
    assert_eq!(f.command, "ERROR", "{f:?}");
    assert!(
        format!("{f:?}").contains("8192"),
        "the ERROR names the limit: {f:?}"
    );
    loop {
        match c.read(Duration::from_secs(5)).await {
            Read::Closed => break,
            Read::Frame(_) => continue,
            Read::TimedOut => panic!("not closed"),
        }
    }
}

// ----- OpenWire -----

/// Open an OpenWire connection as `name`; the reply to its ConnectionInfo.
async fn openwire_as(bridge: &TestBridge, name: &str) -> (OwClient, Command) {
    let mut c = OwClient::open(bridge.openwire_addr).await;
    c.client_id = format!("perm-{name}");
    let info = ConnectionInfo {
        base: base(0, true),
        connection_id: Some(ConnectionId::new(c.connection_id.clone())),
        client_id: Some(c.client_id.clone()),
        user_name: Some(name.to_string()),
        password: Some(PASSWORD.to_string()),
        manageable: true,
        client_master: true,
        ..ConnectionInfo::default()
    };
    let reply = c.request(Command::ConnectionInfo(info)).await;
    if matches!(reply, Command::Response(_)) {
        c.write(Command::SessionInfo(SessionInfo {
            base: base(0, false),
            session_id: Some(SessionId {
                connection_id: Some(c.connection_id.clone()),
                value: 1,
            }),
        }))
        .await;
    }
    (c, reply)
}

fn security_exception(reply: &Command) -> String {
    match reply {
        Command::ExceptionResponse(ExceptionResponse {
            exception: Some(t), ..
        }) => {
            assert_eq!(
                t.class.as_deref(),
                Some("javax.jms.JMSSecurityException"),
                "{t:?}"
            );
            t.message.clone().unwrap_or_default()
        }
        other => panic!("expected an ExceptionResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn openwire_producer_and_send_without_write_are_security_exceptions() {
    let bridge = start().await;
    let (mut c, reply) = openwire_as(&bridge, "ro").await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let info = mqbridge::openwire::codec::ProducerInfo {
        base: base(0, true),
        producer_id: Some(c.producer_id()),
        destination: Some(Destination::queue("perm.ow")),
        ..Default::default()
    };
    let reply = c.request(Command::ProducerInfo(info)).await;
    let text = security_exception(&reply);
    assert!(
        text.starts_with("User ro is not authorized to write to: queue://perm.ow"),
        "{text}"
    );
    assert!(
        text.contains("access to exchange 'amq.default' in vhost '/' refused for user 'ro'"),
        "{text}"
    );
    // An anonymous producer's send is refused the same way.
    c.producer(None).await;
    let m = c.message(Destination::topic("perm.t"), &JmsBody::Text("x".into()));
    let reply = c.send_sync(m).await;
    let text = security_exception(&reply);
    assert!(
        text.starts_with("User ro is not authorized to write to: topic://perm.t"),
        "{text}"
    );
}

#[tokio::test]
async fn openwire_consumer_without_read_is_a_security_exception() {
    let bridge = start().await;
    let (mut c, _) = openwire_as(&bridge, "wo").await;
    let (_, reply) = c.consume(Destination::queue("perm.owr"), 10, |_| {}).await;
    let text = security_exception(&reply);
    assert!(
        text.starts_with("User wo is not authorized to read from: queue://perm.owr"),
        "{text}"
    );
    let (_, reply) = c.consume(Destination::topic("perm.news"), 10, |_| {}).await;
    let text = security_exception(&reply);
    assert!(
        text.starts_with("User wo is not authorized to read from: topic://perm.news"),
        "{text}"
    );
}

#[tokio::test]
async fn openwire_creating_a_queue_needs_configure() {
    let bridge = start().await;
    let (mut c, _) = openwire_as(&bridge, "nc").await;
    let (_, reply) = c.consume(Destination::queue("perm.nc"), 10, |_| {}).await;
    let text = security_exception(&reply);
    assert!(
        text.starts_with("User nc is not authorized to create: queue://perm.nc"),
        "{text}"
    );
}

#[tokio::test]
async fn openwire_vhost_without_permissions_is_refused_at_connection_info() {
    let bridge = start().await;
    let (_, reply) = openwire_as(&bridge, "novhost").await;
    let text = security_exception(&reply);
    assert_eq!(text, "access to vhost '/' refused for user 'novhost'");
}

#[tokio::test]
async fn openwire_message_and_frame_size_limits() {
    let bridge = start_with(|c| {
        c.limits.max_message_size = Some(1000);
        c.limits.max_frame_size = Some(16384);
    })
    .await;
    let (mut c, _) = openwire_as(&bridge, "old").await;
    c.producer(None).await;
    let ok = c.message(
        Destination::queue("size.ow"),
        &JmsBody::Bytes(vec![1u8; 1000].into()),
    );
    let reply = c.send_sync(ok).await;
    assert!(matches!(reply, Command::Response(_)), "{reply:?}");
    let big = c.message(
        Destination::queue("size.ow"),
        &JmsBody::Bytes(vec![1u8; 1001].into()),
    );
    let reply = c.send_sync(big).await;
    match &reply {
        Command::ExceptionResponse(ExceptionResponse {
            exception: Some(t), ..
        }) => assert!(
            t.message
                .as_deref()
                .unwrap_or_default()
                .contains("message size 1001 is larger than configured max size 1000"),
            "{t:?}"
        ),
        other => panic!("expected an ExceptionResponse, got {other:?}"),
    }
    // A frame above max_frame_size closes the connection, as ActiveMQ does.
    let huge = c.message(
        Destination::queue("size.ow"),
        &JmsBody::Bytes(vec![1u8; 20_000].into()),
    );
    c.send_async(huge).await;
    assert!(c.closed_within(Duration::from_secs(5)).await);
}

/// A config reload brings the users in line: a new user logs in, a changed permission
/// holds on an open connection at its next operation, a removed user is refused.
#[tokio::test]
async fn a_reload_adds_changes_and_removes_users() {
    let bridge = start().await;
    let uri = |name: &str| format!("amqp://{name}:{PASSWORD}@{}/%2f", bridge.amqp_addr);
    let refused = |name: &'static str| {
        let uri = uri(name);
        async move {
            lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
                .await
                .expect_err("login refused")
        }
    };
    refused("newcomer").await;
    let old = amqp_as(&bridge, "old").await;
    let ch = old.create_channel().await.unwrap();
    ch.queue_declare(
        "reload.q".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();

    let mut config = mqbridge::config::Config::default();
    add_users(&mut config);
    config.users.retain(|u| u.name != "ro");
    config.users.push(user("newcomer", None));
    for u in config.users.iter_mut().filter(|u| u.name == "old") {
        *u = user("old", Some(&[("/", ".*", ".*", "^nothing$")]));
    }
    bridge.bridge.reloader.apply(config).await.expect("reload");

    let newcomer = amqp_as(&bridge, "newcomer").await;
    newcomer.close(200, "bye".into()).await.unwrap();
    let err = refused("ro").await;
    assert!(
        format!("{err:?}").contains("ACCESS_REFUSED") || reply_code(&err) == Some(403),
        "{err:?}"
    );
    let err = ch
        .basic_get("reload.q".into(), BasicGetOptions::default())
        .await
        .expect_err("read refused after the reload");
    assert_eq!(reply_code(&err), Some(403), "{err}");
}
