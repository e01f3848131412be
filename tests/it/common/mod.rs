//! Shared helpers: start a bridge on port 0 with a temporary data dir, raw AMQP clients.

#![allow(dead_code)]

pub mod http;
pub mod openwire;
pub mod raw;
pub mod stomp;

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};

use mqbridge::config::{AmqpListenerConfig, Config, ListenerConfig};
use mqbridge::server::{start, RunningBridge};

/// A byte stream a test client runs on: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A bridge running inside the test's runtime. Dropping it leaks the listener task until
/// the runtime ends; call [`TestBridge::shutdown`] to test a clean stop.
pub struct TestBridge {
    pub amqp_addr: SocketAddr,
    pub stomp_addr: SocketAddr,
    pub openwire_addr: SocketAddr,
    /// The HTTP listener's address, when the test turned it on.
    pub http_addr: Option<SocketAddr>,
    pub bridge: RunningBridge,
    pub dir: tempfile::TempDir,
}

impl TestBridge {
    /// `amqp://guest:guest@127.0.0.1:PORT/%2f`
    pub fn amqp_uri(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.amqp_addr)
    }

    pub async fn shutdown(self) {
        self.bridge.shutdown().await;
    }

    /// Shut down but keep the data dir, to start again on it ([`restart_bridge`]).
    pub async fn shutdown_keep_dir(self) -> tempfile::TempDir {
        self.bridge.shutdown().await;
        self.dir
    }
}

/// Start a bridge with the AMQP, STOMP and OpenWire listeners on 127.0.0.1:0 and a temp data dir.
pub async fn start_bridge() -> TestBridge {
    start_bridge_with(|_| {}).await
}

/// Start a bridge on the data dir of a previous one.
pub async fn restart_bridge(dir: tempfile::TempDir) -> TestBridge {
    start_bridge_on(dir, |_| {}).await
}

/// Start a bridge on the data dir of a previous one, letting the test adjust the config.
pub async fn restart_bridge_with(
    dir: tempfile::TempDir,
    adjust: impl FnOnce(&mut Config),
) -> TestBridge {
    start_bridge_on(dir, adjust).await
}

/// Start a bridge on the data dir of a previous one, on the same addresses (clients and
/// routes configured with them reconnect to it).
pub async fn restart_bridge_at(
    dir: tempfile::TempDir,
    amqp: SocketAddr,
    stomp: SocketAddr,
    openwire: SocketAddr,
) -> TestBridge {
    start_bridge_on(dir, move |c| {
        c.listeners.amqp = Some(AmqpListenerConfig::new(amqp.to_string()));
        c.listeners.stomp = Some(ListenerConfig::new(stomp.to_string()));
        c.listeners.openwire = Some(ListenerConfig::new(openwire.to_string()));
    })
    .await
}

/// Like [`start_bridge`], letting the test adjust the config first.
pub async fn start_bridge_with(adjust: impl FnOnce(&mut Config)) -> TestBridge {
    start_bridge_on(tempfile::tempdir().expect("temp dir"), adjust).await
}

async fn start_bridge_on(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> TestBridge {
    let mut config = Config::default();
    config.listeners.amqp = Some(AmqpListenerConfig::new("127.0.0.1:0"));
    config.listeners.stomp = Some(ListenerConfig::new("127.0.0.1:0"));
    config.listeners.openwire = Some(ListenerConfig::new("127.0.0.1:0"));
    config.storage.dir = Some(dir.path().to_path_buf());
    adjust(&mut config);
    let bridge = start(config).await.expect("bridge starts");
    let amqp_addr = bridge.amqp_addr.expect("AMQP listener bound");
    let stomp_addr = bridge.stomp_addr.expect("STOMP listener bound");
    let openwire_addr = bridge.openwire_addr.expect("OpenWire listener bound");
    TestBridge {
        amqp_addr,
        stomp_addr,
        openwire_addr,
        http_addr: bridge.http_addr,
        bridge,
        dir,
    }
}

/// A lapin connection to the bridge.
pub async fn lapin_connect(bridge: &TestBridge) -> lapin::Connection {
    lapin::Connection::connect(&bridge.amqp_uri(), lapin::ConnectionProperties::default())
        .await
        .expect("lapin connects")
}

/// The AMQP reply code of a lapin error, if it is a protocol error.
pub fn reply_code(err: &lapin::Error) -> Option<u16> {
    match err.kind() {
        lapin::ErrorKind::ProtocolError(e) => Some(e.get_id()),
        _ => None,
    }
}

/// Deliveries of a lapin consumer on a tokio channel; `None` = the consumer was cancelled.
pub fn deliveries(
    consumer: &lapin::Consumer,
) -> tokio::sync::mpsc::UnboundedReceiver<Option<lapin::message::Delivery>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    consumer.set_delegate(move |delivery: lapin::message::DeliveryResult| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(delivery.ok().flatten());
        }
    });
    rx
}

/// The next item from `rx` within 5 s.
pub async fn next<T>(rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("timed out waiting")
        .expect("channel closed")
}
