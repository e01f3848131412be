//! Errors with a real client (lapin): the right reply code on the right scope, and the
//! rest of the connection (and other connections) unharmed.

use lapin::options::*;
use lapin::types::FieldTable;
use lapin::BasicProperties;

use crate::common::{lapin_connect, reply_code, start_bridge};

#[tokio::test]
async fn amqp_passive_declare_missing_queue_is_404_on_the_channel() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_declare(
            "missing".into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect_err("404");
    assert_eq!(reply_code(&err), Some(404), "{err}");
    assert!(
        conn.status().connected(),
        "a channel error keeps the connection"
    );
    let ch2 = conn.create_channel().await.unwrap();
    ch2.queue_declare(
        "present".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn amqp_redeclare_with_other_flags_is_406() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        "q406".into(),
        QueueDeclareOptions::durable(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let err = ch
        .queue_declare(
            "q406".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("406");
    assert_eq!(reply_code(&err), Some(406), "{err}");
    assert!(conn.status().connected());
}

#[tokio::test]
async fn amqp_exclusive_queue_of_another_connection_is_405() {
    let bridge = start_bridge().await;
    let owner = lapin_connect(&bridge).await;
    let ch = owner.create_channel().await.unwrap();
    ch.queue_declare(
        "mine".into(),
        QueueDeclareOptions {
            exclusive: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    let other = lapin_connect(&bridge).await;
    let ch2 = other.create_channel().await.unwrap();
    let err = ch2
        .basic_consume(
            "mine".into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("405");
    assert_eq!(reply_code(&err), Some(405), "{err}");
    // When the owner goes, its exclusive queue goes with it.
    owner.close(200, "bye".into()).await.unwrap();
    let ch3 = other.create_channel().await.unwrap();
    let err = ch3
        .queue_declare(
            "mine".into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect_err("gone");
    assert_eq!(reply_code(&err), Some(404), "{err}");
}

#[tokio::test]
async fn amqp_publish_to_missing_exchange_is_404() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let result = ch
        .basic_publish(
            "no-such-exchange".into(),
            "k".into(),
            BasicPublishOptions::default(),
            b"x",
            BasicProperties::default(),
        )
        .await;
    let err = match result {
        Err(e) => e,
        Ok(confirm) => confirm.await.expect_err("the channel is closed with 404"),
    };
    assert_eq!(reply_code(&err), Some(404), "{err}");
    assert!(conn.status().connected());
}

#[tokio::test]
async fn amqp_bad_password_is_403() {
    let bridge = start_bridge().await;
    let uri = format!("amqp://guest:wrong@{}/%2f", bridge.amqp_addr);
    let err = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .expect_err("refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
}

#[tokio::test]
async fn amqp_unknown_vhost_is_530() {
    let bridge = start_bridge().await;
    let uri = format!("amqp://guest:guest@{}/nope", bridge.amqp_addr);
    let err = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .expect_err("refused");
    assert_eq!(reply_code(&err), Some(530), "{err}");
}

#[tokio::test]
async fn amqp_tx_and_confirm_exclude_each_other() {
    let bridge = start_bridge().await;
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let err = ch.tx_select().await.expect_err("406");
    assert_eq!(reply_code(&err), Some(406), "{err}");
}

#[tokio::test]
async fn amqp_config_user_with_hashed_password() {
    use mqbridge::config::{HashingAlgorithm, UserConfig};
    let hash =
        mqbridge::auth::hash_password(HashingAlgorithm::RabbitPasswordHashingSha256, "s3cret")
            .expect("hash");
    let bridge = crate::common::start_bridge_with(|config| {
        config.users.push(UserConfig {
            name: "orders-app".into(),
            password_hash: hash,
            hashing_algorithm: HashingAlgorithm::RabbitPasswordHashingSha256,
            tags: Vec::new(),
            loopback_only: None,
        });
    })
    .await;
    let ok = format!("amqp://orders-app:s3cret@{}/%2f", bridge.amqp_addr);
    let conn = lapin::Connection::connect(&ok, lapin::ConnectionProperties::default())
        .await
        .expect("configured user logs in");
    assert!(conn.status().connected());
    let bad = format!("amqp://orders-app:nope@{}/%2f", bridge.amqp_addr);
    let err = lapin::Connection::connect(&bad, lapin::ConnectionProperties::default())
        .await
        .expect_err("refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
}

/// A non-loopback IPv4 address of this machine, if it has one.
fn non_loopback_ipv4() -> Option<std::net::Ipv4Addr> {
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    match socket.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

#[tokio::test]
async fn amqp_guest_is_refused_from_a_non_loopback_address() {
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!("no non-loopback IPv4 address here; skipping");
        return;
    };
    let bridge = crate::common::start_bridge_with(|config| {
        if let Some(amqp) = config.listeners.amqp.as_mut() {
            amqp.bind = Some("0.0.0.0:0".into());
        }
    })
    .await;
    let uri = format!("amqp://guest:guest@{ip}:{}/%2f", bridge.amqp_addr.port());
    let err = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .expect_err("guest is loopback-only");
    assert_eq!(reply_code(&err), Some(403), "{err}");
}
