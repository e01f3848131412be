//! The OpenWire client: consume from and produce to an existing ActiveMQ (or any OpenWire
//! broker, mqbridge's own listener included) for routes (`crate::client` is the contract).
//! Integration tests: `tests/it/openwire_client.rs`.
//!
//! This module owns one client TCP connection and everything on it: the handshake, the
//! reader and writer tasks, request/response correlation, keep-alives, consumers and
//! producers. Facts and the verified flow: `shared/reference/openwire.md` §11.
//!
//! # Connection
//!
//! [`OpenWireClient::connect`] tries each address in turn: TCP connect, our WireFormatInfo
//! (version 12, loose, no cache, no stack traces: the broker ANDs the flags, so the rest of
//! the connection is loose and uncached whatever it proposes; a broker offering 10 or 11
//! gets that), the broker's WireFormatInfo, then `ConnectionInfo` (rr) with the client id
//! and credentials and one `SessionInfo` every consumer and producer shares. An
//! ExceptionResponse to the ConnectionInfo (bad login, duplicate client id) is
//! [`ErrorKind::Refused`] carrying the broker's class and text; anything that prevents
//! talking to the broker is [`ErrorKind::Connection`].
//!
//! Two tasks serve the connection: the reader decodes frames and routes them (Responses to
//! the request waiting for that command id, MessageDispatches to their consumer, broker
//! KeepAliveInfo answered, BrokerInfo noted); the writer writes encoded frames in batches
//! and sends a KeepAliveInfo after a third of the negotiated inactivity period without
//! output. Commands are encoded in the caller's task, so a message that cannot be encoded
//! fails alone ([`ErrorKind::Rejected`]) instead of breaking the connection.
//!
//! Any socket failure, EOF, malformed frame, silence beyond twice the inactivity period,
//! `ConnectionError` or `ShutdownInfo` fails the connection once: every pending
//! [`Confirm`] and request resolves with a [`ErrorKind::Connection`] error, and every
//! consumer's `recv` returns one. The connection lives as long as the [`OpenWireClient`]:
//! dropping it (or [`OpenWireClient::close`]) ends it for its consumers and producers too.
//!
//! # Consumers
//!
//! `ConsumerInfo` (rr) with the prefetch, selector and, for a durable topic subscription,
//! the subscription name and the connection's client id. The broker may dispatch before it
//! answers (openwire.md pitfall 12): the consumer is registered before the request goes
//! out. A dispatched message becomes a core message through `openwire::jms` and
//! `mapping::openwire`, exactly as the listener converts a JMS producer's message, with
//! the exchange and routing key of its destination (DESIGN.md §4: queue `X` → (`""`,
//! `X`), topic `T` → (`amq.topic`, `T`)); `redelivered` is `redeliveryCounter > 0`.
//!
//! - [`OpenWireConsumer::ack`] sends an INDIVIDUAL ack (type 4) for that one message, which
//!   ActiveMQ 5.17 and mqbridge remove whatever the order of acks (a STANDARD ack would
//!   cover a range). Acks are one-way, as the Java client sends them; a lost ack means a
//!   redelivery, never a loss.
//! - [`OpenWireConsumer::release`] gives the message back: a live OpenWire consumer never
//!   gets a message redispatched by the broker (only a closed consumer's unacked messages
//!   go back to the queue), so, like the Java client after `rollback()`/`recover()`, the
//!   message is redelivered locally: the next `recv` returns it again with
//!   `redelivered = true`. It stays unacknowledged at the broker meanwhile, so if the
//!   connection or consumer goes away first, the broker redelivers it.
//! - A message that cannot be mapped to the core model (a malformed body, a property name
//!   over 255 bytes) is acknowledged as POISON (type 1: ActiveMQ moves it to its DLQ) and
//!   `recv` returns [`ErrorKind::Rejected`] for it; the next `recv` goes on.
//! - Prefetch 0 (pull consumers) is not used: it is raised to 1.
//! - A durable subscription needs a topic and a configured `client_id` (a generated one
//!   would orphan the subscription on the broker); [`OpenWireClient::unsubscribe`]
//!   deletes one.
//!
//! # Producers
//!
//! One anonymous `ProducerInfo` (rr, no destination) per [`OpenWireProducer`] (ActiveMQ
//! refuses sends from an unregistered producer, pitfall 13). Each send is a wire message
//! with `responseRequired=true` (a synchronous send, persistent or not) and a unique
//! `MessageId{producerId, sequence}`; the original message id stays its text view (the
//! JMSMessageID consumers see). The returned [`Confirm`] resolves on the broker's Response
//! (Ok) or ExceptionResponse ([`ErrorKind::Refused`], `class: message`). `send` returns
//! once the frame is queued for the writer (an unbounded queue): the caller bounds what is
//! in flight by the confirms it holds, as routes do with their window.
//!
//! # Close
//!
//! [`OpenWireClient::close`]: `RemoveInfo(ConnectionId)` (rr, waited for at most
//! [`CLOSE_TIMEOUT`]), `ShutdownInfo`, then the socket is closed. Dropping a consumer or a
//! producer sends its `RemoveInfo` (the broker requeues the consumer's unacked messages).
//!
//! [`ErrorKind::Connection`]: crate::client::ErrorKind::Connection
//! [`ErrorKind::Refused`]: crate::client::ErrorKind::Refused
//! [`ErrorKind::Rejected`]: crate::client::ErrorKind::Rejected

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::codec::remove_info::LAST_DELIVERED_UNKNOWN;
use super::codec::{
    ack_type, encode_frame, BaseCommand, CodecError, Command, ConnectionId, ConnectionInfo,
    ConsumerId, ConsumerInfo, DataStructure, Destination, KeepAliveInfo, Limits, MessageAck,
    MessageDispatch, MessageId, OpenWireCodec, ProducerId, ProducerInfo, RemoveInfo,
    RemoveSubscriptionInfo, SessionId, SessionInfo, ShutdownInfo, Throwable, WireFormatInfo,
    WireSettings,
};
use crate::client::{ClientError, Confirm, ConfirmSender, Received};
use crate::mapping::destination::TOPIC_EXCHANGE;
use crate::message::jms::JmsDestination;
use crate::message::Message;

/// The inactivity period we announce (ms): ActiveMQ's default.
pub const MAX_INACTIVITY_MS: i64 = 30_000;
/// The largest frame we accept and announce (the broker's own limit may be lower).
pub const MAX_FRAME_SIZE: i64 = 100 * 1024 * 1024;
/// How long [`OpenWireClient::close`] waits for the broker's answer and for the writer.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default prefetch of [`ConsumerOptions`].
pub const DEFAULT_PREFETCH: u16 = 100;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct OpenWireClientConfig {
    /// `host:port` (also `tcp://host:port[?options]`), tried in turn.
    pub addresses: Vec<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The JMS client id, needed for durable subscriptions; generated when `None`.
    pub client_id: Option<String>,
    /// Bounds the TCP connect and each handshake step, and every later request
    /// (ConsumerInfo, ProducerInfo).
    pub connect_timeout: Duration,
}

impl OpenWireClientConfig {
    /// One address, no credentials, a generated client id, a 10 s timeout.
    pub fn new(address: impl Into<String>) -> Self {
        OpenWireClientConfig {
            addresses: vec![address.into()],
            user: None,
            password: None,
            client_id: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// How to consume.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// A JMS selector, evaluated by the broker.
    pub selector: Option<String>,
    /// A durable subscription name (topics only; keyed by the connection's client id).
    pub durable_subscription: Option<String>,
    /// Messages the broker may send ahead of acks (0 is raised to 1).
    pub prefetch: u16,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            selector: None,
            durable_subscription: None,
            prefetch: DEFAULT_PREFETCH,
        }
    }
}

/// What the writer task writes.
enum Out {
    Frame(Bytes),
    /// Write what is queued, shut the socket's write side down, stop.
    Close,
}

/// Mutable connection state, behind one lock so that registering a waiter and failing the
/// connection cannot interleave (a waiter registered after the failure would hang).
#[derive(Default)]
struct State {
    /// Set once, when the connection fails or is closed.
    error: Option<ClientError>,
    /// Requests and sends waiting for their Response, by command id.
    pending: HashMap<i32, ConfirmSender>,
    /// Live consumers by `ConsumerId.value`.
    consumers: HashMap<i64, mpsc::UnboundedSender<MessageDispatch>>,
}

/// What the client, its consumers and producers, and the two tasks share.
struct Shared {
    connection_id: String,
    client_id: String,
    /// The client id came from the config (a generated one changes at every connect).
    client_id_configured: bool,
    session_id: SessionId,
    settings: WireSettings,
    limits: Limits,
    request_timeout: Duration,
    out: mpsc::UnboundedSender<Out>,
    next_command_id: AtomicU32,
    next_consumer: AtomicI64,
    next_producer: AtomicI64,
    state: Mutex<State>,
    /// Cancelled when the connection fails: both tasks stop, the socket closes.
    dead: CancellationToken,
    broker_name: Mutex<Option<String>>,
}

impl Shared {
    /// A positive command id (ActiveMQ's own ids start at 1; 0 is the broker's).
    fn next_id(&self) -> i32 {
        let n = self.next_command_id.fetch_add(1, Ordering::Relaxed);
        // Wraps after 2^31 - 1 commands without ever giving 0 or a negative id.
        i32::try_from(n % (i32::MAX as u32)).unwrap_or(0) + 1
    }

    fn error(&self) -> Option<ClientError> {
        self.state.lock().error.clone()
    }

    /// The connection's error, or `fallback` while it is still up.
    fn error_or(&self, fallback: &str) -> ClientError {
        self.error()
            .unwrap_or_else(|| ClientError::connection(fallback))
    }

    fn check(&self) -> Result<(), ClientError> {
        match self.error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn encode(&self, command: &Command) -> Result<Bytes, ClientError> {
        let mut buf = BytesMut::new();
        encode_frame(command, self.settings, self.limits, &mut buf).map_err(|e| {
            ClientError::rejected(format!("cannot encode the {}: {e}", command.name()))
        })?;
        Ok(buf.freeze())
    }

    /// Queue an encoded frame. A closed writer means the connection has failed (the
    /// writer only stops after [`Shared::fail`] or on close), so waiters are resolved.
    fn push(&self, frame: Bytes) {
        let _ = self.out.send(Out::Frame(frame));
    }

    /// Encode and queue a one-way command.
    fn oneway(&self, command: &Command) -> Result<(), ClientError> {
        self.check()?;
        let frame = self.encode(command)?;
        self.push(frame);
        Ok(())
    }

    /// Register a waiter for command `id`; fails when the connection already failed.
    fn register(&self, id: i32) -> Result<Confirm, ClientError> {
        let mut state = self.state.lock();
        if let Some(e) = &state.error {
            return Err(e.clone());
        }
        let (tx, confirm) = Confirm::pending();
        state.pending.insert(id, tx);
        Ok(confirm)
    }

    /// Send `command` (its base set to a fresh id, rr=true) and wait for the answer. No
    /// answer within the request timeout fails the connection: its state is unknown.
    async fn request(&self, build: impl FnOnce(BaseCommand) -> Command) -> Result<(), ClientError> {
        let id = self.next_id();
        let command = build(BaseCommand::new(id, true));
        let name = command.name();
        let frame = self.encode(&command)?;
        let confirm = self.register(id)?;
        self.push(frame);
        match tokio::time::timeout(self.request_timeout, confirm.wait()).await {
            Ok(result) => result,
            Err(_) => {
                let err = ClientError::connection(format!(
                    "no answer to the {name} within {:?}",
                    self.request_timeout
                ));
                self.fail(err.clone());
                Err(err)
            }
        }
    }

    /// The answer to command `id`.
    fn resolve(&self, id: i32, result: Result<(), ClientError>) {
        let waiter = self.state.lock().pending.remove(&id);
        match waiter {
            Some(tx) => tx.send(result),
            None => tracing::debug!(correlation_id = id, "OpenWire answer to no request."),
        }
    }

    /// Fail the connection once: every waiter gets `err`, every consumer's channel closes,
    /// both tasks stop.
    fn fail(&self, err: ClientError) {
        let (pending, consumers) = {
            let mut state = self.state.lock();
            if state.error.is_some() {
                return;
            }
            state.error = Some(err.clone());
            (
                std::mem::take(&mut state.pending),
                std::mem::take(&mut state.consumers),
            )
        };
        tracing::info!(connection = %self.connection_id, error = %err, "OpenWire client connection ended.");
        for (_, tx) in pending {
            tx.send(Err(err.clone()));
        }
        drop(consumers);
        self.dead.cancel();
    }

    fn remove_consumer(&self, value: i64) {
        self.state.lock().consumers.remove(&value);
    }
}

/// `class: message` of a broker's throwable.
fn describe(t: Option<&Throwable>) -> String {
    let Some(t) = t else {
        return "the broker refused the command (no exception given)".to_string();
    };
    match (t.class.as_deref(), t.message.as_deref()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => "the broker refused the command".to_string(),
    }
}

/// Our WireFormatInfo: loose, no cache, no stack traces (openwire.md §11 step 1). The
/// option types matter to the broker's getters: longs are longs, the cache size an int.
fn client_wire_format() -> WireFormatInfo {
    use crate::message::jms::JmsValue;
    let props = vec![
        ("TightEncodingEnabled".to_owned(), JmsValue::Bool(false)),
        ("CacheEnabled".to_owned(), JmsValue::Bool(false)),
        ("SizePrefixDisabled".to_owned(), JmsValue::Bool(false)),
        ("StackTraceEnabled".to_owned(), JmsValue::Bool(false)),
        ("TcpNoDelayEnabled".to_owned(), JmsValue::Bool(true)),
        ("CacheSize".to_owned(), JmsValue::Int(0)),
        (
            "MaxInactivityDuration".to_owned(),
            JmsValue::Long(MAX_INACTIVITY_MS),
        ),
        (
            "MaxInactivityDurationInitalDelay".to_owned(),
            JmsValue::Long(10_000),
        ),
        ("MaxFrameSize".to_owned(), JmsValue::Long(MAX_FRAME_SIZE)),
        (
            "ProviderName".to_owned(),
            JmsValue::String("mqbridge".to_owned()),
        ),
        (
            "ProviderVersion".to_owned(),
            JmsValue::String(env!("CARGO_PKG_VERSION").to_owned()),
        ),
        (
            "PlatformDetails".to_owned(),
            JmsValue::String("Rust".to_owned()),
        ),
    ];
    WireFormatInfo {
        version: super::codec::MAX_VERSION,
        properties: Some(props),
    }
}

/// The inactivity period both sides agreed on: the smaller of both, none when either side
/// announces none (ActiveMQ's `InactivityMonitor`).
fn negotiated_inactivity(ours_ms: i64, theirs_ms: i64) -> Duration {
    if ours_ms <= 0 || theirs_ms <= 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(u64::try_from(ours_ms.min(theirs_ms)).unwrap_or(0))
}

/// The frame limit for what we write: ours, or the broker's when smaller.
fn write_limits(broker_max_frame: i64) -> Limits {
    let ours = usize::try_from(MAX_FRAME_SIZE).unwrap_or(usize::MAX);
    let theirs = usize::try_from(broker_max_frame)
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(ours);
    Limits {
        max_frame_bytes: ours.min(theirs),
    }
}

/// `host:port` from an address as users write it: `host:port`, `tcp://host:port`,
/// `tcp://host:port?options`, `nio://…`, `ssl://` is refused (no TLS here).
pub fn parse_address(address: &str) -> Result<String, ClientError> {
    let address = address.trim();
    let rest = match address.split_once("://") {
        Some(("tcp" | "nio" | "auto", rest)) => rest,
        Some((scheme, _)) => {
            return Err(ClientError::rejected(format!(
                "'{address}': the {scheme}:// transport is not supported (tcp://host:port)"
            )))
        }
        None => address,
    };
    let host_port = rest.split(['?', '/']).next().unwrap_or_default().trim();
    let valid = host_port
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !valid {
        return Err(ClientError::rejected(format!(
            "'{address}': expected host:port"
        )));
    }
    Ok(host_port.to_string())
}

/// Where a message received from `destination` goes in the core (DESIGN.md §4): a queue
/// through the default exchange with its name as routing key, a topic through `amq.topic`.
pub fn core_target(destination: &JmsDestination) -> (&'static str, &str) {
    if destination.kind.is_topic() {
        (TOPIC_EXCHANGE, destination.name.as_str())
    } else {
        ("", destination.name.as_str())
    }
}

/// A unique-enough id part: host, pid, start time and a process-wide counter, the shape
/// of the Java client's `ID:host-port-millis-n:m`.
fn generate_id() -> String {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(1);
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "mqbridge".to_string());
    format!(
        "ID:{host}-{}-{}-{}",
        std::process::id(),
        crate::broker::now_ms(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Commands off the socket: a read buffer plus the codec.
struct CommandReader {
    read: OwnedReadHalf,
    buf: BytesMut,
    codec: OpenWireCodec,
}

impl CommandReader {
    /// The next command; `None` at EOF. Cancel-safe (the buffer keeps partial frames).
    async fn next(&mut self) -> Option<Result<Command, CodecError>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(command)) => return Some(Ok(command)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            match self.read.read_buf(&mut self.buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(CodecError::Io(e))),
            }
        }
    }
}

/// One OpenWire connection to a broker.
pub struct OpenWireClient {
    shared: Arc<Shared>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    /// The address that answered.
    address: String,
}

impl std::fmt::Debug for OpenWireClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenWireClient")
            .field("address", &self.address)
            .field("connection_id", &self.shared.connection_id)
            .field("client_id", &self.shared.client_id)
            .finish()
    }
}

impl OpenWireClient {
    /// Connect to the first address that answers (see the module doc).
    pub async fn connect(config: &OpenWireClientConfig) -> Result<Self, ClientError> {
        if config.addresses.is_empty() {
            return Err(ClientError::connection("no OpenWire address configured"));
        }
        let mut last = None;
        for address in &config.addresses {
            let host_port = parse_address(address)?;
            match Self::connect_one(&host_port, config).await {
                Ok(client) => return Ok(client),
                Err(e) if e.is_connection() => {
                    tracing::info!(address = %host_port, error = %e, "OpenWire connect failed.");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::connection("no OpenWire address answered")))
    }

    async fn connect_one(
        address: &str,
        config: &OpenWireClientConfig,
    ) -> Result<Self, ClientError> {
        let timeout = config.connect_timeout;
        let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .map_err(|_| {
                ClientError::connection(format!(
                    "connecting to {address} timed out after {timeout:?}"
                ))
            })?
            .map_err(|e| ClientError::connection(format!("connecting to {address}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let local = client_wire_format();
        let read_limits = Limits {
            max_frame_bytes: usize::try_from(MAX_FRAME_SIZE).unwrap_or(usize::MAX),
        };
        // Our WireFormatInfo goes first; the broker sends its own without waiting for it.
        let mut hello = BytesMut::new();
        encode_frame(
            &Command::WireFormatInfo(local.clone()),
            WireSettings::default(),
            read_limits,
            &mut hello,
        )
        .map_err(|e| ClientError::connection(format!("encoding our WireFormatInfo: {e}")))?;
        let mut reader = CommandReader {
            read,
            buf: BytesMut::with_capacity(16 * 1024),
            codec: OpenWireCodec::new(local, read_limits),
        };
        let handshake = async {
            write
                .write_all(&hello)
                .await
                .map_err(|e| ClientError::connection(format!("writing to {address}: {e}")))?;
            match reader.next().await {
                Some(Ok(Command::WireFormatInfo(info))) => Ok(info),
                Some(Ok(other)) => Err(ClientError::connection(format!(
                    "{address} sent a {} before its WireFormatInfo",
                    other.name()
                ))),
                Some(Err(e)) => Err(ClientError::connection(format!(
                    "{address} is not an OpenWire broker we can talk to: {e}"
                ))),
                None => Err(ClientError::connection(format!(
                    "{address} closed the connection during the handshake"
                ))),
            }
        };
        let broker_wf = tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| {
                ClientError::connection(format!(
                    "{address} sent no WireFormatInfo within {timeout:?}"
                ))
            })??;
        // The codec negotiated while decoding it (min version ≥ 10, flags ANDed).
        let settings = reader.codec.settings();
        let inactivity =
            negotiated_inactivity(MAX_INACTIVITY_MS, broker_wf.max_inactivity_duration());
        let connection_id = generate_id();
        let client_id = config
            .client_id
            .clone()
            .unwrap_or_else(|| format!("{connection_id}:0"));
        let (out, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            session_id: SessionId {
                connection_id: Some(connection_id.clone()),
                value: 1,
            },
            connection_id,
            client_id,
            client_id_configured: config.client_id.is_some(),
            settings,
            limits: write_limits(broker_wf.max_frame_size()),
            request_timeout: timeout,
            out,
            next_command_id: AtomicU32::new(0),
            next_consumer: AtomicI64::new(1),
            next_producer: AtomicI64::new(1),
            state: Mutex::new(State::default()),
            dead: CancellationToken::new(),
            broker_name: Mutex::new(None),
        });
        tracing::debug!(
            address,
            version = settings.version,
            inactivity_ms = inactivity.as_millis() as u64,
            "OpenWire wire format negotiated."
        );
        let writer = tokio::spawn(run_writer(write, rx, shared.clone(), inactivity / 3));
        let reader = tokio::spawn(run_reader(reader, shared.clone(), inactivity * 2));
        let client = OpenWireClient {
            shared,
            reader,
            writer,
            address: address.to_string(),
        };
        let s = client.shared.clone();
        let info = move |base| {
            Command::ConnectionInfo(ConnectionInfo {
                base,
                connection_id: Some(ConnectionId::new(s.connection_id.clone())),
                client_id: Some(s.client_id.clone()),
                password: config.password.clone(),
                user_name: config.user.clone(),
                // Not manageable: the broker then skips ConnectionControl (§11 step 2).
                manageable: false,
                client_master: true,
                ..ConnectionInfo::default()
            })
        };
        client.shared.request(info).await?;
        client.shared.oneway(&Command::SessionInfo(SessionInfo {
            base: BaseCommand::new(client.shared.next_id(), false),
            session_id: Some(client.shared.session_id.clone()),
        }))?;
        tracing::info!(
            address,
            connection = %client.shared.connection_id,
            client_id = %client.shared.client_id,
            "OpenWire client connected."
        );
        Ok(client)
    }

    /// The client id the broker knows this connection by.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The address that answered.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The broker's name from its BrokerInfo, once it arrived.
    pub fn broker_name(&self) -> Option<String> {
        self.shared.broker_name.lock().clone()
    }

    /// The connection's error once it failed or was closed.
    pub fn error(&self) -> Option<ClientError> {
        self.shared.error()
    }

    /// Subscribe to `destination` (a queue, a topic, or a durable topic subscription).
    pub async fn consumer(
        &self,
        destination: &JmsDestination,
        options: ConsumerOptions,
    ) -> Result<OpenWireConsumer, ClientError> {
        if options.durable_subscription.is_some() {
            if !destination.kind.is_topic() {
                return Err(ClientError::rejected(format!(
                    "a durable subscription needs a topic, not queue '{}'",
                    destination.name
                )));
            }
            // A generated client id changes at every connect: the subscription would be
            // orphaned on the broker, keeping every message for nobody.
            if !self.shared.client_id_configured {
                return Err(ClientError::rejected(
                    "a durable subscription needs a configured client_id",
                ));
            }
        }
        let shared = &self.shared;
        let value = shared.next_consumer.fetch_add(1, Ordering::Relaxed);
        let id = ConsumerId {
            connection_id: Some(shared.connection_id.clone()),
            session_id: shared.session_id.value,
            value,
        };
        let wire_destination = super::jms::destination_from_jms(destination);
        // Registered before the ConsumerInfo goes out: dispatches may precede its Response.
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut state = shared.state.lock();
            if let Some(e) = &state.error {
                return Err(e.clone());
            }
            state.consumers.insert(value, tx);
        }
        let info = ConsumerInfo {
            consumer_id: Some(id.clone()),
            destination: Some(wire_destination.clone()),
            prefetch_size: i32::from(options.prefetch.max(1)),
            dispatch_async: true,
            selector: options.selector.clone(),
            client_id: Some(shared.client_id.clone()),
            subscription_name: options.durable_subscription.clone(),
            ..ConsumerInfo::default()
        };
        let result = shared
            .request(move |base| Command::ConsumerInfo(ConsumerInfo { base, ..info }))
            .await;
        if let Err(e) = result {
            shared.remove_consumer(value);
            return Err(e);
        }
        Ok(OpenWireConsumer {
            shared: shared.clone(),
            id,
            destination: wire_destination,
            rx,
            book: Mutex::new(Book::default()),
            last_delivered: AtomicI64::new(-1),
        })
    }

    /// Delete the durable subscription `name` of this connection's client id
    /// (`RemoveSubscriptionInfo`); the broker refuses while a consumer uses it.
    pub async fn unsubscribe(&self, name: &str) -> Result<(), ClientError> {
        let shared = &self.shared;
        let info = RemoveSubscriptionInfo {
            connection_id: Some(ConnectionId::new(shared.connection_id.clone())),
            subscription_name: Some(name.to_string()),
            client_id: Some(shared.client_id.clone()),
            ..RemoveSubscriptionInfo::default()
        };
        shared
            .request(move |base| {
                Command::RemoveSubscriptionInfo(RemoveSubscriptionInfo { base, ..info })
            })
            .await
    }

    /// An anonymous producer (the destination is given per message).
    pub async fn producer(&self) -> Result<OpenWireProducer, ClientError> {
        let shared = &self.shared;
        let id = ProducerId {
            connection_id: Some(shared.connection_id.clone()),
            value: shared.next_producer.fetch_add(1, Ordering::Relaxed),
            session_id: shared.session_id.value,
        };
        let producer_id = id.clone();
        shared
            .request(move |base| {
                Command::ProducerInfo(ProducerInfo {
                    base,
                    producer_id: Some(producer_id),
                    ..ProducerInfo::default()
                })
            })
            .await?;
        Ok(OpenWireProducer {
            shared: shared.clone(),
            id,
            sequence: AtomicI64::new(0),
        })
    }

    /// Close gracefully: `RemoveInfo(ConnectionId)` (the broker releases every consumer's
    /// unacked messages), `ShutdownInfo`, socket closed. Pending confirms and consumers get
    /// a connection error.
    pub async fn close(mut self) {
        let shared = self.shared.clone();
        if shared.error().is_none() {
            let connection_id = ConnectionId::new(shared.connection_id.clone());
            let remove = shared.request(|base| {
                Command::RemoveInfo(RemoveInfo {
                    base,
                    object_id: Some(DataStructure::ConnectionId(connection_id)),
                    last_delivered_sequence_id: LAST_DELIVERED_UNKNOWN,
                })
            });
            if let Err(e) = tokio::time::timeout(CLOSE_TIMEOUT, remove)
                .await
                .unwrap_or_else(|_| Err(ClientError::connection("close timed out")))
            {
                tracing::debug!(error = %e, "OpenWire RemoveInfo(connection) not answered.");
            }
            let shutdown = Command::ShutdownInfo(ShutdownInfo {
                base: BaseCommand::new(shared.next_id(), false),
            });
            if let Ok(frame) = shared.encode(&shutdown) {
                shared.push(frame);
            }
            let _ = shared.out.send(Out::Close);
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, &mut self.writer).await;
        }
        shared.fail(ClientError::connection(
            "the connection was closed by the client",
        ));
        // Drop runs next: the tasks are told to stop (already done by `fail`).
    }
}

impl Drop for OpenWireClient {
    fn drop(&mut self) {
        self.shared.fail(ClientError::connection(
            "the connection was closed by the client",
        ));
        // The tasks stop on `dead`; aborting covers a writer blocked on a full socket.
        self.reader.abort();
        self.writer.abort();
    }
}

/// Write queued frames in batches; KeepAliveInfo after `keepalive` without output.
async fn run_writer(
    mut write: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Out>,
    shared: Arc<Shared>,
    keepalive: Duration,
) {
    /// Flush once a batch holds this much.
    const BATCH_BYTES: usize = 256 * 1024;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let result: Result<(), std::io::Error> = async {
        loop {
            let next = tokio::select! {
                biased;
                _ = shared.dead.cancelled() => return Ok(()),
                next = rx.recv() => next,
                _ = tokio::time::sleep(keepalive), if !keepalive.is_zero() => {
                    let ping = Command::KeepAliveInfo(KeepAliveInfo {
                        base: BaseCommand::new(shared.next_id(), false),
                    });
                    if let Ok(frame) = shared.encode(&ping) {
                        write.write_all(&frame).await?;
                    }
                    continue;
                }
            };
            let mut close = false;
            let mut item = next;
            loop {
                match item {
                    None => return Ok(()),
                    Some(Out::Frame(frame)) => buf.extend_from_slice(&frame),
                    Some(Out::Close) => {
                        close = true;
                        break;
                    }
                }
                if buf.len() >= BATCH_BYTES {
                    break;
                }
                match rx.try_recv() {
                    Ok(o) => item = Some(o),
                    Err(_) => break,
                }
            }
            if !buf.is_empty() {
                write.write_all(&buf).await?;
                buf.clear();
            }
            if close {
                let _ = write.shutdown().await;
                return Ok(());
            }
        }
    }
    .await;
    if let Err(e) = result {
        shared.fail(ClientError::connection(format!(
            "writing to the broker failed: {e}"
        )));
    }
}

/// Read and route commands until the connection ends; any failure fails the connection.
async fn run_reader(mut reader: CommandReader, shared: Arc<Shared>, silence: Duration) {
    let mut last_read = Instant::now();
    let err = loop {
        let deadline = last_read + silence;
        let command = tokio::select! {
            _ = shared.dead.cancelled() => return,
            _ = tokio::time::sleep_until(deadline), if !silence.is_zero() => {
                break ClientError::connection(format!(
                    "the broker sent nothing for {silence:?}"
                ));
            }
            command = reader.next() => command,
        };
        last_read = Instant::now();
        match command {
            None => break ClientError::connection("the broker closed the connection"),
            Some(Ok(command)) => {
                if let Err(e) = handle(&shared, command) {
                    break e;
                }
            }
            Some(Err(CodecError::UnknownType { type_id, .. })) => {
                // The frame was consumed; nothing we use travels in unknown types.
                tracing::debug!(
                    type_id,
                    "Unknown OpenWire command type from the broker; ignored."
                );
            }
            Some(Err(CodecError::Io(e))) => {
                break ClientError::connection(format!("reading from the broker failed: {e}"))
            }
            Some(Err(e)) => {
                break ClientError::connection(format!(
                    "malformed OpenWire frame from the broker: {e}"
                ))
            }
        }
    };
    shared.fail(err);
}

/// Route one command from the broker; an error ends the connection.
fn handle(shared: &Shared, command: Command) -> Result<(), ClientError> {
    match command {
        Command::Response(r) => shared.resolve(r.correlation_id, Ok(())),
        Command::ExceptionResponse(r) => shared.resolve(
            r.correlation_id,
            Err(ClientError::refused(describe(r.exception.as_ref()))),
        ),
        Command::DataResponse(r) => shared.resolve(r.correlation_id, Ok(())),
        Command::DataArrayResponse(r) => shared.resolve(r.correlation_id, Ok(())),
        Command::IntegerResponse(r) => shared.resolve(r.correlation_id, Ok(())),
        Command::MessageDispatch(d) => {
            let Some(value) = d.consumer_id.as_ref().map(|c| c.value) else {
                return Ok(());
            };
            if d.message.is_none() {
                // A null dispatch (pull timeout, end of browse): we neither pull nor browse.
                return Ok(());
            }
            let state = shared.state.lock();
            match state.consumers.get(&value) {
                Some(tx) => {
                    let _ = tx.send(d);
                }
                // A consumer we closed: the broker requeues what it had dispatched to it.
                None => tracing::debug!(consumer = value, "Dispatch to a closed consumer."),
            }
        }
        Command::KeepAliveInfo(k) => {
            if k.base.response_required {
                shared.oneway(&Command::KeepAliveInfo(KeepAliveInfo {
                    base: BaseCommand::new(shared.next_id(), false),
                }))?;
            }
        }
        Command::BrokerInfo(b) => {
            *shared.broker_name.lock() = b.broker_name;
        }
        Command::ShutdownInfo(_) => {
            return Err(ClientError::connection("the broker is shutting down"));
        }
        Command::ConnectionError(e) => {
            return Err(ClientError::connection(format!(
                "connection error from the broker: {}",
                describe(e.exception.as_ref())
            )));
        }
        Command::ConsumerControl(c) => {
            if c.close {
                if let Some(id) = &c.consumer_id {
                    tracing::info!(consumer = %id, "The broker closed an OpenWire consumer.");
                    shared.remove_consumer(id.value);
                }
            }
        }
        other => {
            // ConnectionControl, ProducerAck, a WireFormatInfo again …: nothing to do.
            tracing::debug!(
                command = other.name(),
                "OpenWire command from the broker ignored."
            );
        }
    }
    Ok(())
}

/// A dispatched message not yet acked or released.
struct Unacked {
    dispatch: MessageDispatch,
}

/// A consumer's local bookkeeping.
#[derive(Default)]
struct Book {
    next_tag: u64,
    unacked: HashMap<u64, Unacked>,
    /// Released messages, redelivered before anything new.
    released: VecDeque<MessageDispatch>,
}

/// A consumer on one destination (see the module doc for ack and release).
pub struct OpenWireConsumer {
    shared: Arc<Shared>,
    id: ConsumerId,
    destination: Destination,
    rx: mpsc::UnboundedReceiver<MessageDispatch>,
    book: Mutex<Book>,
    /// The broker sequence id of the last message handed out (for RemoveInfo).
    last_delivered: AtomicI64,
}

impl std::fmt::Debug for OpenWireConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenWireConsumer")
            .field("id", &self.id.to_string())
            .field("destination", &self.destination.to_string())
            .finish()
    }
}

impl OpenWireConsumer {
    /// The next message. A connection failure is [`ErrorKind::Connection`]; a message that
    /// cannot be mapped is acked as POISON and returned as [`ErrorKind::Rejected`].
    ///
    /// [`ErrorKind::Connection`]: crate::client::ErrorKind::Connection
    /// [`ErrorKind::Rejected`]: crate::client::ErrorKind::Rejected
    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        let released = self.book.lock().released.pop_front();
        let dispatch = match released {
            Some(d) => d,
            None => match self.rx.recv().await {
                Some(d) => d,
                None => return Err(self.shared.error_or("the broker closed this consumer")),
            },
        };
        self.shared.check()?;
        let converted = convert(&dispatch);
        let seq = dispatch
            .message
            .as_ref()
            .and_then(|m| m.message_id.as_ref())
            .map_or(-1, |id| id.broker_sequence_id);
        self.last_delivered.fetch_max(seq, Ordering::Relaxed);
        match converted {
            Ok((message, redelivered)) => {
                let mut book = self.book.lock();
                book.next_tag += 1;
                let tag = book.next_tag;
                book.unacked.insert(tag, Unacked { dispatch });
                Ok(Received {
                    message,
                    redelivered,
                    tag,
                })
            }
            Err(reason) => {
                tracing::warn!(consumer = %self.id, error = %reason, "OpenWire message cannot be mapped; acked as poison.");
                self.send_ack(&dispatch, ack_type::POISON, Some(&reason))?;
                Err(ClientError::rejected(reason))
            }
        }
    }

    /// Acknowledge one message (INDIVIDUAL ack): the broker removes it.
    pub async fn ack(&self, tag: u64) -> Result<(), ClientError> {
        self.shared.check()?;
        let unacked = self.book.lock().unacked.remove(&tag);
        let Some(unacked) = unacked else {
            return Err(ClientError::rejected(format!(
                "no unacknowledged message with tag {tag} on this consumer"
            )));
        };
        self.send_ack(&unacked.dispatch, ack_type::INDIVIDUAL, None)
    }

    /// Give up on one message: a POISON ack, so the broker moves it to its dead-letter
    /// queue (ActiveMQ.DLQ by default) with `reason` as the cause.
    pub async fn poison(&self, tag: u64, reason: &str) -> Result<(), ClientError> {
        self.shared.check()?;
        let unacked = self.book.lock().unacked.remove(&tag);
        let Some(unacked) = unacked else {
            return Err(ClientError::rejected(format!(
                "no unacknowledged message with tag {tag} on this consumer"
            )));
        };
        self.send_ack(&unacked.dispatch, ack_type::POISON, Some(reason))
    }

    /// Give a message back: the next `recv` returns it again, `redelivered` (see the module
    /// doc: the broker itself redelivers only after the consumer or connection closes).
    pub async fn release(&self, tag: u64) -> Result<(), ClientError> {
        self.shared.check()?;
        let mut book = self.book.lock();
        let Some(Unacked { mut dispatch }) = book.unacked.remove(&tag) else {
            return Err(ClientError::rejected(format!(
                "no unacknowledged message with tag {tag} on this consumer"
            )));
        };
        dispatch.redelivery_counter = dispatch.redelivery_counter.saturating_add(1);
        book.released.push_back(dispatch);
        Ok(())
    }

    /// Messages received and neither acked nor released.
    pub fn unacked(&self) -> usize {
        self.book.lock().unacked.len()
    }

    fn send_ack(
        &self,
        dispatch: &MessageDispatch,
        kind: u8,
        cause: Option<&str>,
    ) -> Result<(), ClientError> {
        let message_id = dispatch.message.as_ref().and_then(|m| m.message_id.clone());
        let ack = MessageAck {
            base: BaseCommand::new(self.shared.next_id(), false),
            destination: dispatch
                .destination
                .clone()
                .or_else(|| Some(self.destination.clone())),
            transaction_id: None,
            consumer_id: Some(self.id.clone()),
            ack_type: kind,
            first_message_id: None,
            last_message_id: message_id,
            message_count: 1,
            poison_cause: cause.map(|c| Throwable::new("javax.jms.JMSException", c)),
        };
        self.shared.oneway(&Command::MessageAck(ack))
    }
}

impl Drop for OpenWireConsumer {
    fn drop(&mut self) {
        self.shared.remove_consumer(self.id.value);
        if self.shared.error().is_some() {
            return;
        }
        // The broker requeues what it dispatched to us and we did not ack.
        let remove = Command::RemoveInfo(RemoveInfo {
            base: BaseCommand::new(self.shared.next_id(), false),
            object_id: Some(DataStructure::ConsumerId(self.id.clone())),
            last_delivered_sequence_id: self.last_delivered.load(Ordering::Relaxed),
        });
        let _ = self.shared.oneway(&remove);
    }
}

/// A dispatch → (core message, redelivered), or why it cannot be mapped.
fn convert(dispatch: &MessageDispatch) -> Result<(Message, bool), String> {
    let wire = dispatch
        .message
        .as_deref()
        .ok_or_else(|| "a dispatch without a message".to_string())?;
    let jms = super::jms::to_jms(wire).map_err(|e| e.to_string())?;
    // The message's own destination (a wildcard or composite subscription's concrete
    // one); the dispatch's when the message has none.
    let destination = jms
        .destination
        .clone()
        .or_else(|| {
            dispatch
                .destination
                .as_ref()
                .map(super::jms::destination_to_jms)
        })
        .ok_or_else(|| "a message without a destination".to_string())?;
    let (exchange, routing_key) = core_target(&destination);
    let message =
        crate::mapping::openwire::to_message(&jms, exchange, routing_key, crate::broker::now_ms())
            .map_err(|e| e.to_string())?;
    // JMSRedelivered comes from the dispatch's counter, not the message's (pitfall 9).
    Ok((message, dispatch.redelivery_counter > 0))
}

/// An anonymous producer: each send names its destination.
pub struct OpenWireProducer {
    shared: Arc<Shared>,
    id: ProducerId,
    sequence: AtomicI64,
}

impl std::fmt::Debug for OpenWireProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenWireProducer")
            .field("id", &self.id.to_string())
            .finish()
    }
}

impl OpenWireProducer {
    /// Send `message` to `destination`; returns once the frame is queued for writing. The
    /// [`Confirm`] resolves on the broker's Response (Ok), ExceptionResponse
    /// ([`ErrorKind::Refused`]) or the connection's end ([`ErrorKind::Connection`]). A
    /// message the wire cannot carry is [`ErrorKind::Rejected`] at once.
    ///
    /// [`ErrorKind::Refused`]: crate::client::ErrorKind::Refused
    /// [`ErrorKind::Connection`]: crate::client::ErrorKind::Connection
    /// [`ErrorKind::Rejected`]: crate::client::ErrorKind::Rejected
    pub async fn send(
        &self,
        destination: &JmsDestination,
        message: &Message,
    ) -> Result<Confirm, ClientError> {
        self.shared.check()?;
        let now = crate::broker::now_ms();
        let jms = crate::mapping::openwire::from_message(message, destination.clone(), now);
        let mut wire = super::jms::from_jms(jms, &message.body);
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let id = self.shared.next_id();
        wire.base = BaseCommand::new(id, true);
        wire.producer_id = Some(self.id.clone());
        wire.persistent = message.is_persistent();
        if wire.timestamp == 0 {
            // The Java client stamps every send (JMSTimestamp) unless told not to.
            wire.timestamp = i64::try_from(now).unwrap_or(0);
        }
        // (producerId, sequence) is the broker's identity of the message (pitfall 20); the
        // original id stays the text view.
        let message_id = wire.message_id.get_or_insert_with(MessageId::default);
        message_id.producer_id = Some(self.id.clone());
        message_id.producer_sequence_id = seq;
        message_id.broker_sequence_id = 0;
        let frame = self.shared.encode(&Command::Message(Box::new(wire)))?;
        let confirm = self.shared.register(id)?;
        self.shared.push(frame);
        Ok(confirm)
    }
}

impl Drop for OpenWireProducer {
    fn drop(&mut self) {
        if self.shared.error().is_some() {
            return;
        }
        let remove = Command::RemoveInfo(RemoveInfo {
            base: BaseCommand::new(self.shared.next_id(), false),
            object_id: Some(DataStructure::ProducerId(self.id.clone())),
            last_delivered_sequence_id: LAST_DELIVERED_UNKNOWN,
        });
        let _ = self.shared.oneway(&remove);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::jms::JmsDestinationKind;

    #[test]
    fn handles_can_move_between_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<OpenWireClient>();
        send_sync::<OpenWireProducer>();
        send_sync::<OpenWireConsumer>();
    }

    #[test]
    fn addresses_as_users_write_them() {
        assert_eq!(parse_address("127.0.0.1:61616").unwrap(), "127.0.0.1:61616");
        assert_eq!(
            parse_address("tcp://amq.internal:61616").unwrap(),
            "amq.internal:61616"
        );
        assert_eq!(
            parse_address(" tcp://amq:61616?wireFormat.maxInactivityDuration=0 ").unwrap(),
            "amq:61616"
        );
        assert_eq!(parse_address("nio://h:1/").unwrap(), "h:1");
        for bad in ["amq", "amq:", ":61616", "amq:99999", "ssl://amq:61617", ""] {
            let e = parse_address(bad).unwrap_err();
            assert_eq!(e.kind, crate::client::ErrorKind::Rejected, "{bad}");
        }
    }

    #[test]
    fn queues_and_topics_go_where_the_listener_sends_them() {
        assert_eq!(
            core_target(&JmsDestination::queue("orders")),
            ("", "orders")
        );
        assert_eq!(
            core_target(&JmsDestination::topic("prices.eu")),
            ("amq.topic", "prices.eu")
        );
        let temp = JmsDestination::new(JmsDestinationKind::TempQueue, "ID:x:1:1");
        assert_eq!(core_target(&temp), ("", "ID:x:1:1"));
        let temp = JmsDestination::new(JmsDestinationKind::TempTopic, "ID:x:1:2");
        assert_eq!(core_target(&temp), ("amq.topic", "ID:x:1:2"));
    }

    #[test]
    fn inactivity_is_the_smaller_period_and_off_when_either_side_is_off() {
        assert_eq!(
            negotiated_inactivity(30_000, 30_000),
            Duration::from_secs(30)
        );
        assert_eq!(
            negotiated_inactivity(30_000, 10_000),
            Duration::from_secs(10)
        );
        assert_eq!(negotiated_inactivity(30_000, 0), Duration::ZERO);
        assert_eq!(negotiated_inactivity(0, 30_000), Duration::ZERO);
        assert_eq!(negotiated_inactivity(30_000, -1), Duration::ZERO);
    }

    #[test]
    fn frames_respect_the_smaller_limit() {
        let ours = usize::try_from(MAX_FRAME_SIZE).unwrap();
        assert_eq!(write_limits(i64::MAX).max_frame_bytes, ours);
        assert_eq!(write_limits(1024).max_frame_bytes, 1024);
        assert_eq!(write_limits(0).max_frame_bytes, ours);
        assert_eq!(write_limits(-5).max_frame_bytes, ours);
    }

    #[test]
    fn our_wire_format_forces_loose_uncached_frames() {
        let wf = client_wire_format();
        assert_eq!(wf.version, 12);
        assert!(!wf.tight_encoding_enabled());
        assert!(!wf.cache_enabled());
        assert!(!wf.stack_trace_enabled());
        assert!(wf.tcp_no_delay_enabled());
        // The broker's getters cast: longs must be longs.
        assert!(matches!(
            wf.property("MaxInactivityDuration"),
            Some(crate::message::jms::JmsValue::Long(30_000))
        ));
        // Negotiating with a stock 5.17 broker (tight + cache on, version 12) stays loose.
        let mut broker = WireFormatInfo::server(30_000, i64::MAX, "ActiveMQ");
        if let Some(props) = &mut broker.properties {
            for (k, v) in props.iter_mut() {
                if k == "TightEncodingEnabled" || k == "CacheEnabled" {
                    *v = crate::message::jms::JmsValue::Bool(true);
                }
            }
        }
        let s = WireSettings::negotiate(&wf, &broker).unwrap();
        assert_eq!(s.version, 12);
        assert!(!s.stack_trace_enabled);
        broker.version = 10;
        assert_eq!(WireSettings::negotiate(&wf, &broker).unwrap().version, 10);
        broker.version = 9;
        assert!(WireSettings::negotiate(&wf, &broker).is_err());
    }

    #[test]
    fn broker_exceptions_read_as_class_and_message() {
        let t = Throwable::new(
            "javax.jms.JMSSecurityException",
            "User name [x] or password is invalid.",
        );
        assert_eq!(
            describe(Some(&t)),
            "javax.jms.JMSSecurityException: User name [x] or password is invalid."
        );
        assert!(describe(None).contains("refused"));
    }

    #[test]
    fn a_dispatch_maps_like_a_jms_producers_message() {
        use crate::openwire::codec::{Message as Wire, MessageKind};
        use crate::openwire::message::{JmsBody, JmsValue};
        let mut m = Wire {
            kind: MessageKind::Text,
            destination: Some(Destination::topic("prices.eu")),
            correlation_id: Some("c-1".into()),
            jms_type: Some("quote".into()),
            persistent: true,
            message_id: Some(MessageId {
                producer_id: Some(ProducerId {
                    connection_id: Some("ID:p-1".into()),
                    value: 1,
                    session_id: 1,
                }),
                producer_sequence_id: 7,
                ..MessageId::default()
            }),
            ..Wire::default()
        };
        m.set_body(&JmsBody::Text("héllo".into()), false).unwrap();
        m.set_properties(&[("n".into(), JmsValue::Long(42))])
            .unwrap();
        let d = MessageDispatch {
            destination: Some(Destination::topic("prices.*")),
            message: Some(Box::new(m)),
            redelivery_counter: 1,
            ..MessageDispatch::default()
        };
        let (core, redelivered) = convert(&d).unwrap();
        assert!(redelivered);
        assert_eq!(core.exchange, "amq.topic");
        assert_eq!(core.routing_key, "prices.eu");
        assert_eq!(&core.body[..], "héllo".as_bytes());
        assert!(core.is_persistent());
        assert_eq!(
            core.properties.message_id().as_ref().map(|s| s.as_str()),
            Some("ID:p-1:1:1:7")
        );
        assert_eq!(
            core.header("n"),
            Some(&crate::message::AMQPValue::LongLongInt(42))
        );
        // A body that breaks the layout is a mapping error, not a panic.
        let mut bad = d.clone();
        if let Some(m) = bad.message.as_mut() {
            m.content = Some(Bytes::from_static(&[0, 0, 0, 9, b'x']));
        }
        assert!(convert(&bad).is_err());
        let empty = MessageDispatch::default();
        assert!(convert(&empty).is_err());
    }

    fn test_shared() -> Shared {
        let (out, _rx) = mpsc::unbounded_channel();
        Shared {
            connection_id: "c".into(),
            client_id: "c".into(),
            client_id_configured: false,
            session_id: SessionId::default(),
            settings: WireSettings::default(),
            limits: Limits::default(),
            request_timeout: Duration::from_secs(1),
            out,
            next_command_id: AtomicU32::new(0),
            next_consumer: AtomicI64::new(1),
            next_producer: AtomicI64::new(1),
            state: Mutex::new(State::default()),
            dead: CancellationToken::new(),
            broker_name: Mutex::new(None),
        }
    }

    #[test]
    fn command_ids_stay_positive_across_the_wrap() {
        let shared = test_shared();
        shared
            .next_command_id
            .store(i32::MAX as u32 - 2, Ordering::Relaxed);
        let ids: Vec<i32> = (0..6).map(|_| shared.next_id()).collect();
        assert!(ids.iter().all(|i| *i > 0), "{ids:?}");
        assert_eq!(ids[0], i32::MAX - 1);
        assert_eq!(ids[1], i32::MAX);
        assert_eq!(ids[2], 1);
    }

    #[tokio::test]
    async fn failing_resolves_every_waiter_and_refuses_new_ones() {
        let shared = test_shared();
        let a = shared.register(1).unwrap();
        let b = shared.register(2).unwrap();
        shared.resolve(1, Ok(()));
        shared.fail(ClientError::connection("gone"));
        shared.fail(ClientError::connection("second failure is ignored"));
        assert!(a.wait().await.is_ok());
        assert_eq!(b.wait().await.unwrap_err().message, "gone");
        assert!(shared.register(3).unwrap_err().is_connection());
        assert!(shared.dead.is_cancelled());
    }
}
