//! The STOMP client: consume from and send to an existing STOMP broker (ActiveMQ, RabbitMQ's
//! STOMP plugin, mqbridge itself) for routes. Integration tests: `stomp_client`.
//!
//! This module owns the client side of one STOMP connection: CONNECT (addresses tried in
//! turn), version and heart-beat negotiation, receipts, subscriptions with
//! `client-individual` acks, and the translation of frames to and from the core
//! [`Message`] through the same `mapping::stomp` and `mapping::destination` the listener
//! uses, so a MESSAGE read here is the Message a SEND of the same frame to mqbridge's own
//! listener would publish.
//!
//! Per connection there are two tasks: the reader (RECEIPT/ERROR → pending receipts,
//! MESSAGE → the subscription's channel, read deadline from the heart-beat) and the writer
//! (frames from a bounded channel, written in batches; a heart-beat EOL when idle).
//! Any failure — EOF, I/O or codec error, a missed heart-beat, an ERROR frame — fails the
//! whole connection: every pending confirm resolves with [`ErrorKind::Connection`] (except
//! the one an ERROR names in `receipt-id`, which is [`ErrorKind::Refused`]), every
//! subscription's `recv` returns that error. The caller (the route engine) reconnects.
//!
//! Broker differences handled here (the `server` header of CONNECTED tells which):
//! - ActiveMQ's NACK dead-letters the message (a "poison ack"), and STOMP 1.0 has no NACK.
//!   There `nack` closes the connection instead, which makes the broker redeliver every
//!   unacknowledged message (with `redelivered:true`), and returns a connection error.
//! - ActiveMQ takes a SEND without `content-length` as a TextMessage: a text body (by
//!   DESIGN §5's rule) is written without one so JMS consumers get a TextMessage. ActiveMQ
//!   reads `expires` (absolute), RabbitMQ `expiration` (relative): only the broker's own
//!   header is sent. `reply-to: /reply-queue/X` (an AMQP queue) becomes `/queue/X` for
//!   ActiveMQ, which knows no `/reply-queue/`.
//! - RabbitMQ's STOMP plugin ignores `selector`: subscribing with one there is refused
//!   rather than silently unfiltered.
//! - The CONNECT `host` defaults to `/`, not the address host the STOMP spec suggests:
//!   RabbitMQ and mqbridge read `host` as the virtual host (RabbitMQ refuses `127.0.0.1`),
//!   and ActiveMQ ignores it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::FramedRead;

use super::codec::{encode_frame, Item, Limits, StompCodec, Version};
use super::frame::Frame;
use crate::client::{ClientError, Confirm, ConfirmSender, Received};
use crate::mapping::destination::{parse_stomp, publish_target};
use crate::mapping::stomp::{from_message, to_message, ESCAPE_PREFIX};
use crate::message::Message;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct StompClientConfig {
    /// `host:port` addresses, tried in turn until one answers CONNECTED.
    pub addresses: Vec<String>,
    pub login: Option<String>,
    pub passcode: Option<String>,
    /// The CONNECT `host` header; `/` when absent (see the module doc for why).
    pub host: Option<String>,
    /// Heart-beat asked for in both directions; zero turns heart-beats off.
    pub heartbeat: Duration,
    /// Bounds the TCP connect plus the CONNECT/CONNECTED exchange, per address.
    pub connect_timeout: Duration,
    /// The CONNECT `client-id` header: ActiveMQ keys durable topic subscriptions by it (and
    /// refuses a second connection with the same id). Needed for a durable subscription on
    /// ActiveMQ.
    pub client_id: Option<String>,
}

impl Default for StompClientConfig {
    fn default() -> Self {
        StompClientConfig {
            addresses: Vec::new(),
            login: None,
            passcode: None,
            host: None,
            heartbeat: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            client_id: None,
        }
    }
}

/// How to subscribe.
#[derive(Debug, Clone, Default)]
pub struct SubscribeOptions {
    /// A JMS selector (`selector` header; ActiveMQ and mqbridge honour it).
    pub selector: Option<String>,
    /// Unacknowledged messages the broker may have in flight to this subscription
    /// (`activemq.prefetchSize` and `prefetch-count`); 0 leaves the broker's default
    /// (ActiveMQ: 1000; RabbitMQ: unlimited). ActiveMQ's own 0 would mean "never push".
    pub prefetch: u16,
    /// A durable topic subscription with this name: ActiveMQ `activemq.subscriptionName`
    /// (with the config's `client_id`), RabbitMQ `durable:true`, `auto-delete:false` and
    /// the name as the subscription `id`.
    pub durable_name: Option<String>,
}

/// Which broker is on the other end, from CONNECTED's `server` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    ActiveMq,
    RabbitMq,
    /// mqbridge or any other STOMP server: the spec's behaviour.
    Other,
}

impl Flavour {
    fn from_server(server: Option<&str>) -> Flavour {
        match server {
            Some(s) if s.starts_with("ActiveMQ") => Flavour::ActiveMq,
            Some(s) if s.starts_with("RabbitMQ") => Flavour::RabbitMq,
            _ => Flavour::Other,
        }
    }
}

/// What the writer task is handed.
enum Outgoing {
    /// A frame; `text` asks for no `content-length` (ActiveMQ's TextMessage rule).
    Frame { frame: Frame, text: bool },
}

/// Someone waiting for a RECEIPT.
enum Waiter {
    Send(ConfirmSender),
    Wait(oneshot::Sender<Result<(), ClientError>>),
}

impl Waiter {
    fn resolve(self, result: Result<(), ClientError>) {
        match self {
            Waiter::Send(tx) => tx.send(result),
            Waiter::Wait(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

/// A subscription as the reader sees it.
struct SubEntry {
    tx: mpsc::UnboundedSender<Received>,
    acks: Arc<Mutex<HashMap<u64, String>>>,
    destination: String,
}

#[derive(Default)]
struct State {
    failed: Option<ClientError>,
    receipts: HashMap<String, Waiter>,
    subs: HashMap<String, SubEntry>,
}

/// What the client, its subscriptions and its two tasks share.
struct Shared {
    state: Mutex<State>,
    version: Version,
    flavour: Flavour,
    client_id: Option<String>,
    next_id: AtomicU64,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters more than losing the connection: keep going with the data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The error the connection failed with (or a generic one while it is still up).
    fn failure(&self) -> ClientError {
        self.lock()
            .failed
            .clone()
            .unwrap_or_else(|| ClientError::connection("the STOMP connection is closed"))
    }

    /// Fail the connection once: resolve every pending receipt with `err`, end every
    /// subscription and stop both tasks.
    fn fail(&self, err: ClientError) {
        let (err, receipts, subs) = {
            let mut st = self.lock();
            let err = st.failed.get_or_insert(err).clone();
            (
                err,
                std::mem::take(&mut st.receipts),
                std::mem::take(&mut st.subs),
            )
        };
        for waiter in receipts.into_values() {
            waiter.resolve(Err(err.clone()));
        }
        // Dropping the senders ends every subscription's `recv` with the failure.
        drop(subs);
        let _ = self.shutdown.send(true);
    }
}

/// One STOMP connection to a broker.
pub struct StompClient {
    shared: Arc<Shared>,
    out: mpsc::Sender<Outgoing>,
    close_wait: Duration,
}

/// A subscription of a [`StompClient`]: `client-individual` acks by tag.
pub struct StompSubscription {
    shared: Arc<Shared>,
    out: mpsc::Sender<Outgoing>,
    id: String,
    rx: mpsc::UnboundedReceiver<Received>,
    acks: Arc<Mutex<HashMap<u64, String>>>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `heart-beat: x,y` in ms.
fn parse_heartbeat(text: &str) -> Option<(u64, u64)> {
    let (a, b) = text.split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn error_text(frame: &Frame) -> String {
    let message = frame.header("message").unwrap_or("ERROR");
    let body = String::from_utf8_lossy(&frame.body);
    let body = body.trim();
    if body.is_empty() {
        message.to_string()
    } else {
        format!("{message}: {body}")
    }
}

/// A negotiated connection, before the tasks start.
struct Handshake {
    reader: FramedRead<OwnedReadHalf, StompCodec>,
    writer: OwnedWriteHalf,
    connected: Frame,
}

async fn handshake(address: &str, connect: &Frame) -> Result<Handshake, ClientError> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| ClientError::connection(format!("{address}: {e}")))?;
    // Receipts and small frames must not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let (r, mut writer) = stream.into_split();
    let mut buf = BytesMut::new();
    encode_frame(connect, Version::V1_0, &mut buf);
    writer
        .write_all(&buf)
        .await
        .map_err(|e| ClientError::connection(format!("{address}: {e}")))?;
    let mut reader = FramedRead::new(r, StompCodec::new(Version::V1_0, Limits::default()));
    loop {
        match reader.next().await {
            None => {
                return Err(ClientError::connection(format!(
                    "{address}: closed before CONNECTED"
                )))
            }
            Some(Err(e)) => return Err(ClientError::connection(format!("{address}: {e}"))),
            Some(Ok(Item::Heartbeat)) => continue,
            Some(Ok(Item::Frame(f))) if f.command == "CONNECTED" => {
                return Ok(Handshake {
                    reader,
                    writer,
                    connected: f,
                })
            }
            Some(Ok(Item::Frame(f))) if f.command == "ERROR" => {
                return Err(ClientError::refused(format!(
                    "{address}: {}",
                    error_text(&f)
                )))
            }
            Some(Ok(Item::Frame(f))) => {
                return Err(ClientError::connection(format!(
                    "{address}: expected CONNECTED, got {}",
                    f.command
                )))
            }
        }
    }
}

impl StompClient {
    /// Connect to the first address that answers. An ERROR in answer to CONNECT (bad login,
    /// unknown virtual host) is [`ErrorKind::Refused`](crate::client::ErrorKind::Refused)
    /// with the broker's `message`; unreachable addresses and timeouts are `Connection`.
    pub async fn connect(config: &StompClientConfig) -> Result<Self, ClientError> {
        if config.addresses.is_empty() {
            return Err(ClientError::connection("no STOMP address configured"));
        }
        let hb = u64::try_from(config.heartbeat.as_millis()).unwrap_or(u64::MAX);
        let mut connect = Frame::new("CONNECT")
            .with("accept-version", "1.0,1.1,1.2")
            .with("host", config.host.as_deref().unwrap_or("/"))
            .with("heart-beat", format!("{hb},{hb}"));
        if let Some(login) = &config.login {
            connect = connect.with("login", login.as_str());
        }
        if let Some(passcode) = &config.passcode {
            connect = connect.with("passcode", passcode.as_str());
        }
        if let Some(id) = &config.client_id {
            connect = connect.with("client-id", id.as_str());
        }
        let mut failures = Vec::new();
        for address in &config.addresses {
            match tokio::time::timeout(config.connect_timeout, handshake(address, &connect)).await {
                Ok(Ok(h)) => return Ok(Self::start(h, config, hb)),
                // The broker answered and said no: another address of the same service will
                // say the same.
                Ok(Err(e)) if !e.is_connection() => return Err(e),
                Ok(Err(e)) => failures.push(e.message),
                Err(_) => failures.push(format!(
                    "{address}: no CONNECTED within {:?}",
                    config.connect_timeout
                )),
            }
        }
        Err(ClientError::connection(format!(
            "could not connect to any STOMP address: {}",
            failures.join("; ")
        )))
    }

    fn start(h: Handshake, config: &StompClientConfig, hb: u64) -> StompClient {
        let Handshake {
            mut reader,
            writer,
            connected,
        } = h;
        let version = connected
            .header("version")
            .and_then(Version::parse)
            .unwrap_or(Version::V1_0);
        reader.decoder_mut().version = version;
        let (sx, sy) = connected
            .header("heart-beat")
            .and_then(parse_heartbeat)
            .unwrap_or((0, 0));
        // Spec: each side beats at the larger of what one offers and the other wants.
        let send_every = if hb == 0 || sy == 0 { 0 } else { hb.max(sy) };
        let expect_every = if hb == 0 || sx == 0 { 0 } else { hb.max(sx) };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            version,
            flavour: Flavour::from_server(connected.header("server")),
            client_id: config.client_id.clone(),
            next_id: AtomicU64::new(0),
            shutdown,
        });
        tracing::info!(
            server = connected.header("server").unwrap_or(""),
            version = version.as_str(),
            send_heartbeat_ms = send_every,
            expect_heartbeat_ms = expect_every,
            "STOMP client connected."
        );
        let (out, rx) = mpsc::channel(4096);
        tokio::spawn(write_loop(
            shared.clone(),
            writer,
            rx,
            Duration::from_millis(send_every),
            shutdown_rx.clone(),
        ));
        tokio::spawn(read_loop(
            shared.clone(),
            reader,
            Duration::from_millis(expect_every),
            shutdown_rx,
        ));
        StompClient {
            shared,
            out,
            close_wait: config.connect_timeout.max(Duration::from_secs(1)),
        }
    }

    /// The negotiated STOMP version.
    pub fn version(&self) -> Version {
        self.shared.version
    }

    /// The error the connection failed with, if it has.
    pub fn failed(&self) -> Option<ClientError> {
        self.shared.lock().failed.clone()
    }

    /// Register a receipt waiter and write `frame`; fails at once when the connection has.
    async fn write_with_receipt(
        &self,
        mut frame: Frame,
        text: bool,
        waiter: Waiter,
    ) -> Result<(), ClientError> {
        let receipt = format!("r-{}", self.shared.next());
        frame.headers.push(("receipt".into(), receipt.clone()));
        {
            let mut st = self.shared.lock();
            if let Some(e) = &st.failed {
                return Err(e.clone());
            }
            st.receipts.insert(receipt.clone(), waiter);
        }
        if self
            .out
            .send(Outgoing::Frame { frame, text })
            .await
            .is_err()
        {
            let waiter = self.shared.lock().receipts.remove(&receipt);
            drop(waiter);
            return Err(self.shared.failure());
        }
        Ok(())
    }

    /// Subscribe to `destination` (`/queue/x`, `/topic/x`, as the broker spells them) with
    /// `client-individual` acks. Waits for the broker's RECEIPT, so a refused subscription
    /// (ERROR: bad destination, selector, permissions) is an error here.
    pub async fn subscribe(
        &self,
        destination: &str,
        options: SubscribeOptions,
    ) -> Result<StompSubscription, ClientError> {
        if options.selector.is_some() && self.shared.flavour == Flavour::RabbitMq {
            return Err(ClientError::rejected(
                "RabbitMQ's STOMP plugin ignores selectors; filter in the route instead",
            ));
        }
        let id = match &options.durable_name {
            Some(name) => name.clone(),
            None => format!("sub-{}", self.shared.next()),
        };
        let mut frame = Frame::new("SUBSCRIBE")
            .with("destination", destination)
            .with("id", id.as_str())
            .with("ack", "client-individual");
        if options.prefetch > 0 {
            let n = options.prefetch.to_string();
            frame = frame
                .with("activemq.prefetchSize", n.as_str())
                .with("prefetch-count", n);
        }
        if let Some(selector) = &options.selector {
            frame = frame.with("selector", selector.as_str());
        }
        if let Some(name) = &options.durable_name {
            if self.shared.flavour == Flavour::ActiveMq && self.shared.client_id.is_none() {
                return Err(ClientError::rejected(
                    "a durable subscription on ActiveMQ needs the connection's client_id",
                ));
            }
            // Every broker's spelling at once: each ignores the others'.
            frame = frame
                .with("activemq.subscriptionName", name.as_str())
                .with("durable", "true")
                .with("auto-delete", "false");
        }
        let acks = Arc::new(Mutex::new(HashMap::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut st = self.shared.lock();
            if let Some(e) = &st.failed {
                return Err(e.clone());
            }
            if st.subs.contains_key(&id) {
                return Err(ClientError::rejected(format!(
                    "subscription '{id}' already exists on this connection"
                )));
            }
            // Registered before SUBSCRIBE is written: MESSAGEs may precede the RECEIPT.
            st.subs.insert(
                id.clone(),
                SubEntry {
                    tx,
                    acks: acks.clone(),
                    destination: destination.to_string(),
                },
            );
        }
        let (wtx, wrx) = oneshot::channel();
        let result = match self
            .write_with_receipt(frame, false, Waiter::Wait(wtx))
            .await
        {
            Ok(()) => wrx.await.unwrap_or_else(|_| Err(self.shared.failure())),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            self.shared.lock().subs.remove(&id);
            return Err(e);
        }
        Ok(StompSubscription {
            shared: self.shared.clone(),
            out: self.out.clone(),
            id,
            rx,
            acks,
        })
    }

    /// Send `message` to `destination` with a receipt. Returns once the frame is queued for
    /// writing; the [`Confirm`] resolves `Ok` on the RECEIPT, `Refused` on an ERROR naming
    /// this receipt, `Connection` when the connection fails first.
    pub async fn send(&self, destination: &str, message: &Message) -> Result<Confirm, ClientError> {
        let mut frame = Frame::new("SEND").with("destination", destination);
        frame
            .headers
            .extend(send_headers(self.shared.flavour, message));
        frame.body = message.body.clone();
        let text = self.shared.flavour == Flavour::ActiveMq && is_text(message);
        let (tx, confirm) = Confirm::pending();
        self.write_with_receipt(frame, text, Waiter::Send(tx))
            .await?;
        Ok(confirm)
    }

    /// DISCONNECT with a receipt (so every frame written before, acks included, has been
    /// processed), then close the socket. Pending confirms still unresolved fail.
    pub async fn close(self) {
        let (wtx, wrx) = oneshot::channel();
        if self
            .write_with_receipt(Frame::new("DISCONNECT"), false, Waiter::Wait(wtx))
            .await
            .is_ok()
        {
            let _ = tokio::time::timeout(self.close_wait, wrx).await;
        }
        self.shared
            .fail(ClientError::connection("the STOMP client was closed"));
    }
}

/// The SEND headers for `message`: the listener's MESSAGE mapping, adjusted to what
/// `flavour` reads (module doc).
fn send_headers(flavour: Flavour, message: &Message) -> Vec<(String, String)> {
    from_message(message, false)
        .into_iter()
        .filter(|(k, _)| {
            k != "redelivered"
                && !(flavour == Flavour::ActiveMq && k == "expiration")
                && !(flavour == Flavour::RabbitMq && k == "expires")
        })
        .map(|(k, v)| match (flavour, k.as_str()) {
            (Flavour::ActiveMq, "reply-to") => match v.strip_prefix("/reply-queue/") {
                Some(q) => (k, format!("/queue/{q}")),
                None => (k, v),
            },
            _ => (k, v),
        })
        .collect()
}

/// Whether ActiveMQ should get this body as a TextMessage (DESIGN §5's rule, and a body
/// that can travel without `content-length`: UTF-8 without NUL).
fn is_text(message: &Message) -> bool {
    let kind = match message.header("x-jms-msg-type") {
        Some(crate::message::AMQPValue::LongString(s)) => Some(s.to_string()),
        _ => None,
    };
    let text = match kind.as_deref() {
        Some(k) => k == "text",
        None => message
            .properties
            .content_type()
            .as_ref()
            .is_some_and(|ct| {
                let ct = ct.as_str().to_ascii_lowercase();
                ct.starts_with("text/")
                    || ct.starts_with("application/json")
                    || ct.starts_with("application/xml")
            }),
    };
    text && !message.body.contains(&0) && std::str::from_utf8(&message.body).is_ok()
}

impl StompSubscription {
    /// The subscription id (the durable name for a durable subscription).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The next message. After the connection failed, its error (kind `Connection`).
    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        match self.rx.recv().await {
            Some(r) => Ok(r),
            None => Err(self.shared.failure()),
        }
    }

    fn take_ack_id(&self, tag: u64) -> Result<String, ClientError> {
        if let Some(e) = self.shared.lock().failed.clone() {
            return Err(e);
        }
        self.acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&tag)
            .ok_or_else(|| {
                ClientError::rejected(format!(
                    "tag {tag} is unknown to subscription '{}' or already settled",
                    self.id
                ))
            })
    }

    fn settle_frame(&self, command: &str, ack_id: String) -> Frame {
        match self.shared.version {
            Version::V1_2 => Frame::new(command).with("id", ack_id),
            Version::V1_1 => Frame::new(command)
                .with("message-id", ack_id)
                .with("subscription", self.id.as_str()),
            Version::V1_0 => Frame::new(command).with("message-id", ack_id),
        }
    }

    async fn write(&self, frame: Frame) -> Result<(), ClientError> {
        self.out
            .send(Outgoing::Frame { frame, text: false })
            .await
            .map_err(|_| self.shared.failure())
    }

    /// Acknowledge one message (written, not confirmed: a lost ACK means a redelivery).
    pub async fn ack(&self, tag: u64) -> Result<(), ClientError> {
        let id = self.take_ack_id(tag)?;
        self.write(self.settle_frame("ACK", id)).await
    }

    /// Give up on one message: the broker's dead-letter handling takes it. A NACK on
    /// ActiveMQ moves it to its DLQ at once; on RabbitMQ a NACK with `requeue:false` drops
    /// it or dead-letters it through the queue's dead-letter exchange. STOMP 1.0 has no
    /// NACK: the message is acknowledged (dropped), which is what a 1.0 server offers.
    pub async fn reject(&self, tag: u64) -> Result<(), ClientError> {
        let id = self.take_ack_id(tag)?;
        if self.shared.version == Version::V1_0 {
            return self.write(self.settle_frame("ACK", id)).await;
        }
        let mut frame = self.settle_frame("NACK", id);
        if self.shared.flavour == Flavour::RabbitMq {
            frame = frame.with("requeue", "false");
        }
        self.write(frame).await
    }

    /// Give one message back for redelivery. Where NACK does not redeliver (ActiveMQ
    /// dead-letters it; STOMP 1.0 has none) the connection is closed instead, so the broker
    /// redelivers every unacknowledged message, and a `Connection` error is returned.
    pub async fn nack(&self, tag: u64) -> Result<(), ClientError> {
        let id = self.take_ack_id(tag)?;
        if self.shared.flavour == Flavour::ActiveMq || self.shared.version == Version::V1_0 {
            let err = ClientError::connection(
                "nack: this broker's NACK does not redeliver; the connection was closed so it \
                 redelivers every unacknowledged message",
            );
            self.shared.fail(err.clone());
            return Err(err);
        }
        self.write(self.settle_frame("NACK", id)).await
    }
}

async fn write_loop(
    shared: Arc<Shared>,
    mut writer: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Outgoing>,
    heartbeat: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let version = shared.version;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    // Beat a little early so network delay does not trip the peer's deadline.
    let beat = heartbeat.mul_f64(0.8);
    let mut last_write = Instant::now();
    let mut stopping = false;
    loop {
        let idle = if heartbeat.is_zero() {
            Duration::from_secs(3600)
        } else {
            beat.saturating_sub(last_write.elapsed())
        };
        tokio::select! {
            biased;
            down = shutdown.wait_for(|down| *down) => {
                // The watch guard is not Send: keep it out of the awaits below.
                drop(down);
                stopping = true;
            }
            item = rx.recv() => {
                let Some(item) = item else { break };
                encode(item, version, &mut buf);
                // Batch whatever else is ready into one write.
                while buf.len() < 256 * 1024 {
                    match rx.try_recv() {
                        Ok(item) => encode(item, version, &mut buf),
                        Err(_) => break,
                    }
                }
            }
            _ = tokio::time::sleep(idle) => {
                if !heartbeat.is_zero() {
                    buf.put_u8(b'\n');
                }
            }
        }
        if stopping {
            // Frames queued before the end (acks above all) still go out, so a deliberate
            // close does not turn them into redeliveries.
            while let Ok(item) = rx.try_recv() {
                encode(item, version, &mut buf);
            }
            if !buf.is_empty() {
                let _ = tokio::time::timeout(Duration::from_secs(1), writer.write_all(&buf)).await;
            }
            break;
        }
        if buf.is_empty() {
            continue;
        }
        if let Err(e) = writer.write_all(&buf).await {
            shared.fail(ClientError::connection(format!("STOMP write failed: {e}")));
            break;
        }
        buf.clear();
        last_write = Instant::now();
    }
    let _ = writer.shutdown().await;
    // Every handle is gone (or the connection failed): make sure the reader stops too.
    shared.fail(ClientError::connection("the STOMP connection is closed"));
}

fn encode(item: Outgoing, version: Version, buf: &mut BytesMut) {
    let Outgoing::Frame { frame, text } = item;
    if text && !frame.body.is_empty() {
        // The codec adds `content-length` to any body; ActiveMQ must not see one here.
        let body = frame.body.clone();
        let head = Frame {
            body: bytes::Bytes::new(),
            ..frame
        };
        encode_frame(&head, version, buf);
        buf.truncate(buf.len() - 1); // the NUL that ended the empty body
        buf.put_slice(&body);
        buf.put_u8(0);
    } else {
        encode_frame(&frame, version, buf);
    }
}

async fn read_loop(
    shared: Arc<Shared>,
    mut reader: FramedRead<OwnedReadHalf, StompCodec>,
    expect: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    // Twice the negotiated interval plus a second: ActiveMQ checks for idleness once per
    // interval and only then beats, so its gaps reach twice the interval (seen at 500 ms).
    let deadline = if expect.is_zero() {
        Duration::from_secs(365 * 24 * 3600)
    } else {
        expect * 2 + Duration::from_secs(1)
    };
    let err = loop {
        let next = tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            next = tokio::time::timeout(deadline, reader.next()) => next,
        };
        match next {
            Err(_) => {
                break ClientError::connection(format!(
                    "no data from the STOMP server for {deadline:?} (heart-beat missed)"
                ))
            }
            Ok(None) => break ClientError::connection("the STOMP server closed the connection"),
            Ok(Some(Err(e))) => break ClientError::connection(format!("bad STOMP data: {e}")),
            Ok(Some(Ok(Item::Heartbeat))) => {}
            Ok(Some(Ok(Item::Frame(frame)))) => {
                if let Some(err) = on_frame(&shared, frame) {
                    break err;
                }
            }
        }
    };
    tracing::info!(error = %err, "STOMP client connection failed.");
    shared.fail(err);
}

/// Handle one server frame; `Some(error)` ends the connection.
fn on_frame(shared: &Shared, frame: Frame) -> Option<ClientError> {
    match frame.command.as_str() {
        "MESSAGE" => {
            deliver(shared, frame);
            None
        }
        "RECEIPT" => {
            let waiter = frame
                .header("receipt-id")
                .and_then(|id| shared.lock().receipts.remove(id));
            if let Some(w) = waiter {
                w.resolve(Ok(()));
            }
            None
        }
        "ERROR" => {
            let text = error_text(&frame);
            // The send (or subscribe) the ERROR names is refused; the server closes the
            // connection after an ERROR (spec), so everything else fails with it.
            let waiter = frame
                .header("receipt-id")
                .and_then(|id| shared.lock().receipts.remove(id));
            if let Some(w) = waiter {
                w.resolve(Err(ClientError::refused(text.clone())));
            }
            Some(ClientError::connection(format!("STOMP ERROR: {text}")))
        }
        // A stray CONNECTED or an unknown command: nothing to act on.
        _ => None,
    }
}

/// A MESSAGE → the subscription's channel, with a fresh tag.
fn deliver(shared: &Shared, frame: Frame) {
    let st = shared.lock();
    let entry = match frame.header("subscription") {
        Some(id) => st.subs.get(id),
        // STOMP 1.0 servers may omit `subscription`: find it by destination.
        None => st
            .subs
            .values()
            .find(|s| Some(s.destination.as_str()) == frame.header("destination"))
            .or_else(|| {
                if st.subs.len() == 1 {
                    st.subs.values().next()
                } else {
                    None
                }
            }),
    };
    let Some(entry) = entry else {
        tracing::warn!(
            subscription = frame.header("subscription").unwrap_or(""),
            "STOMP MESSAGE for no known subscription dropped (it stays unacknowledged)."
        );
        return;
    };
    let ack_id = match shared.version {
        Version::V1_2 => frame.header("ack").or_else(|| frame.header("message-id")),
        _ => frame.header("message-id"),
    }
    .unwrap_or_default()
    .to_string();
    let redelivered = frame
        .header("redelivered")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let raw_dest = frame
        .header("destination")
        .unwrap_or(entry.destination.as_str());
    let (exchange, routing_key) = parse_stomp(raw_dest)
        .or_else(|_| parse_stomp(&entry.destination))
        .map(|d| publish_target(&d))
        .unwrap_or_else(|_| (String::new(), raw_dest.to_string()));
    let message = map_message(frame.headers, frame.body, &exchange, &routing_key);
    let tag = shared.next();
    entry
        .acks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tag, ack_id);
    let _ = entry.tx.send(Received {
        message,
        redelivered,
        tag,
    });
}

/// `to_message`, but a header it cannot map is kept as an ordinary string header (renamed
/// with `amqp-header-`) rather than losing the message; a header whose name cannot be an
/// AMQP name at all is dropped with a warning.
fn map_message(
    mut headers: Vec<(String, String)>,
    body: bytes::Bytes,
    exchange: &str,
    routing_key: &str,
) -> Message {
    let now = now_ms();
    for _ in 0..=headers.len() {
        let err = match to_message(&headers, body.clone(), exchange, routing_key, now) {
            Ok(m) => return m,
            Err(e) => e,
        };
        let wanted = err.header.trim_end_matches('…');
        let Some(i) = headers
            .iter()
            .position(|(k, _)| k == &err.header || k.starts_with(wanted))
        else {
            break;
        };
        let name = headers[i].0.clone();
        if name.starts_with(ESCAPE_PREFIX) || name.len() > 200 {
            tracing::warn!(header = %name, error = %err, "STOMP header dropped: it has no AMQP form.");
            headers.remove(i);
        } else {
            tracing::warn!(header = %name, error = %err, "STOMP header kept as a plain string header.");
            headers[i].0 = format!("{ESCAPE_PREFIX}{name}");
        }
    }
    // Unreachable in practice (each round removes or renames one header); keep the body.
    Message::new(exchange, routing_key, Default::default(), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{AMQPValue, BasicProperties, LongString};
    use bytes::Bytes;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_unmappable_header_is_kept_as_a_plain_header() {
        let headers = h(&[
            ("priority", "high"),
            ("mqbridge-types", "not json"),
            ("correlation-id", "c1"),
        ]);
        let m = map_message(headers, Bytes::from_static(b"x"), "", "q");
        assert_eq!(*m.properties.priority(), None);
        assert_eq!(
            m.header("priority"),
            Some(&AMQPValue::LongString(LongString::from("high")))
        );
        assert_eq!(
            m.header("mqbridge-types"),
            Some(&AMQPValue::LongString(LongString::from("not json")))
        );
        assert_eq!(
            m.properties.correlation_id().as_ref().map(|s| s.as_str()),
            Some("c1")
        );
        assert_eq!(&m.body[..], b"x");
    }

    #[test]
    fn send_headers_follow_the_broker() {
        let props = BasicProperties::default()
            .with_expiration("1000".into())
            .with_reply_to("replies".into());
        let m = Message::new("", "", props, Bytes::new());
        let names = |f| {
            send_headers(f, &m)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        let amq = names(Flavour::ActiveMq);
        assert!(amq.iter().any(|x| x.starts_with("expires=")), "{amq:?}");
        assert!(!amq.iter().any(|x| x.starts_with("expiration=")), "{amq:?}");
        assert!(
            amq.contains(&"reply-to=/queue/replies".to_string()),
            "{amq:?}"
        );
        assert!(
            !amq.iter().any(|x| x.starts_with("redelivered=")),
            "{amq:?}"
        );
        let rmq = names(Flavour::RabbitMq);
        assert!(rmq.contains(&"expiration=1000".to_string()), "{rmq:?}");
        assert!(!rmq.iter().any(|x| x.starts_with("expires=")), "{rmq:?}");
        assert!(
            rmq.contains(&"reply-to=/reply-queue/replies".to_string()),
            "{rmq:?}"
        );
    }

    #[test]
    fn text_detection_and_server_flavour() {
        let text = |ct: &str, body: &'static [u8]| {
            let p = BasicProperties::default().with_content_type(ct.into());
            is_text(&Message::new("", "", p, Bytes::from_static(body)))
        };
        assert!(text("text/plain; charset=utf-8", b"hi"));
        assert!(text("application/json", b"{}"));
        assert!(!text("text/plain", b"a\0b"));
        assert!(!text("application/octet-stream", b"hi"));
        assert_eq!(
            Flavour::from_server(Some("ActiveMQ/5.17.2")),
            Flavour::ActiveMq
        );
        assert_eq!(
            Flavour::from_server(Some("RabbitMQ/3.10.8")),
            Flavour::RabbitMq
        );
        assert_eq!(Flavour::from_server(Some("mqbridge/0.1.0")), Flavour::Other);
        assert_eq!(Flavour::from_server(None), Flavour::Other);
        assert_eq!(parse_heartbeat("100, 200"), Some((100, 200)));
        assert_eq!(parse_heartbeat("x"), None);
    }
}
