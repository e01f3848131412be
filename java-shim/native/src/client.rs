//! The Rust side of the provider's objects, independent of JNI: one lazily created tokio
//! runtime, the handle registry, and the connection / session / producer / consumer /
//! queue browser state behind each handle (a transacted session's producers and consumers
//! share its one `tx.select` channel). `lib.rs` only converts arguments and results at the
//! JNI edge.
//!
//! Handles are positive `i64`s from a counter (never reused), keys of a registry of
//! `Arc`ed Rust objects: Java never sees a pointer, so a stale or forged handle is an
//! `IllegalStateException`, never memory corruption. Closing removes the entry (closing an
//! unknown handle is a no-op, so `close()` is idempotent); an operation already running on
//! the object keeps its `Arc` until it returns.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mqbridge::amqp::connector::{
    AmqpBrowser, AmqpClientConfig, AmqpConnector, AmqpConsumer, AmqpPublisher, AmqpTxChannel,
};
use mqbridge::client::{ClientError, Confirm, ErrorKind};
use mqbridge::mapping::destination::{
    durable_subscription_queue, jms_topic_to_amqp, TOPIC_EXCHANGE,
};
use mqbridge::mapping::openwire::{from_message, redelivery_count, to_message};
use mqbridge::message::jms::{JmsDestination, JmsDestinationKind};
use mqbridge::message::{AMQPValue, FieldTable, Message};
use mqbridge::selector::Selector;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::codec;

/// The Java exception class an error surfaces as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaClass {
    /// `javax.jms.JMSException`
    Jms,
    /// `javax.jms.JMSSecurityException` (bad login, access refused)
    Security,
    /// `javax.jms.IllegalStateException` (closed or unknown handle)
    IllegalState,
    /// `javax.jms.InvalidDestinationException`
    InvalidDestination,
    /// `javax.jms.InvalidSelectorException`
    InvalidSelector,
    /// `javax.jms.TransactionRolledBackException` (a commit the broker rolled back)
    TransactionRolledBack,
}

impl JavaClass {
    /// The JNI class name.
    pub fn name(self) -> &'static str {
        match self {
            JavaClass::Jms => "javax/jms/JMSException",
            JavaClass::Security => "javax/jms/JMSSecurityException",
            JavaClass::IllegalState => "javax/jms/IllegalStateException",
            JavaClass::InvalidDestination => "javax/jms/InvalidDestinationException",
            JavaClass::InvalidSelector => "javax/jms/InvalidSelectorException",
            JavaClass::TransactionRolledBack => "javax/jms/TransactionRolledBackException",
        }
    }
}

/// An error on its way to Java: the exception class and its message.
#[derive(Debug)]
pub enum ShimError {
    /// Throw `class(message)`.
    Throw(JavaClass, String),
    /// A JNI call failed (an exception may already be pending).
    Jni(jni::errors::Error),
}

impl std::fmt::Display for ShimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShimError::Throw(_, m) => f.write_str(m),
            ShimError::Jni(e) => write!(f, "JNI error: {e}"),
        }
    }
}

impl std::error::Error for ShimError {}

impl From<jni::errors::Error> for ShimError {
    fn from(e: jni::errors::Error) -> Self {
        ShimError::Jni(e)
    }
}

impl From<codec::CodecError> for ShimError {
    fn from(e: codec::CodecError) -> Self {
        ShimError::Throw(JavaClass::Jms, e.to_string())
    }
}

/// A ClientError → the JMSException subclass it surfaces as. A refused login is reported by
/// the broker as `403 ACCESS_REFUSED` (or by lapin as an authentication failure) and becomes
/// a `JMSSecurityException`; everything else keeps its cause text in a `JMSException`.
impl From<ClientError> for ShimError {
    fn from(e: ClientError) -> Self {
        let lower = e.message.to_ascii_lowercase();
        let class = if lower.contains("access_refused")
            || lower.contains("access refused")
            || lower.contains("authentication")
            || lower.contains("login was refused")
        {
            JavaClass::Security
        } else if e.kind == ErrorKind::Rejected {
            JavaClass::InvalidDestination
        } else {
            JavaClass::Jms
        };
        ShimError::Throw(class, e.message)
    }
}

/// Shorthand for a `JMSException`.
pub fn jms(message: impl Into<String>) -> ShimError {
    ShimError::Throw(JavaClass::Jms, message.into())
}

fn closed(what: &str) -> ShimError {
    ShimError::Throw(JavaClass::IllegalState, format!("{what} is closed"))
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The one runtime every handle's I/O runs on (created on first use; 2 worker threads are
/// plenty for a client and keep the JVM's thread count low).
pub fn runtime() -> Result<&'static Runtime, ShimError> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mqbridge-jni")
        .enable_all()
        .build()
        .map_err(|e| jms(format!("cannot start the native runtime: {e}")))?;
    // Another thread may have won the race; its runtime is kept and ours dropped.
    let _ = RUNTIME.set(rt);
    RUNTIME
        .get()
        .ok_or_else(|| jms("native runtime unavailable"))
}

/// One AMQP connection.
pub struct ConnectionState {
    connector: tokio::sync::Mutex<Option<Arc<AmqpConnector>>>,
    /// Stamped as `app_id` on every message this connection publishes (noLocal).
    local_id: Arc<str>,
    /// The embedded broker this connection holds a reference on (`mqbridge:embedded`).
    embedded: Option<std::path::PathBuf>,
    /// Cancelled by close: ends a waiting [`await_connection_loss`].
    closing: CancellationToken,
}

/// A session: the connection it belongs to; a transacted session's channel.
pub struct SessionState {
    connector: Arc<AmqpConnector>,
    /// The connection's [`ConnectionState::local_id`].
    local_id: Arc<str>,
    /// Transacted sessions only: the channel its producers and consumers share.
    tx: Option<Arc<TxState>>,
}

/// A producer: its own confirm channel (or its transacted session's channel); queues it
/// has declared; the confirms of sends not yet awaited.
pub struct ProducerState {
    connector: Arc<AmqpConnector>,
    /// The connection's [`ConnectionState::local_id`], stamped as `app_id`.
    local_id: Arc<str>,
    publisher: Option<AmqpPublisher>,
    declared: Mutex<HashSet<String>>,
    tx: Option<Arc<TxState>>,
    pending: Mutex<HashMap<i64, Confirm>>,
    next_token: AtomicI64,
}

/// A synchronous consumer of one queue.
pub struct ConsumerState {
    destination: JmsDestination,
    /// Topic subscriptions with a selector or noLocal: deliveries it refuses are
    /// acknowledged and dropped here (see [`crate::filter`]).
    filter: Option<crate::filter::LocalFilter>,
    consumer: tokio::sync::Mutex<Option<AmqpConsumer>>,
    /// Cancelled by close: wakes a `receive` blocked in another thread.
    closing: CancellationToken,
    /// Consumers of a transacted session: acks go into its transaction.
    tx: Option<Arc<TxState>>,
}

/// What a handle refers to.
#[derive(Clone)]
pub enum Object {
    Connection(Arc<ConnectionState>),
    Session(Arc<SessionState>),
    Producer(Arc<ProducerState>),
    Consumer(Arc<ConsumerState>),
    Browser(Arc<BrowserState>),
}

static NEXT_HANDLE: AtomicI64 = AtomicI64::new(1);

fn registry() -> &'static Mutex<HashMap<i64, Object>> {
    static REGISTRY: OnceLock<Mutex<HashMap<i64, Object>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock_registry() -> std::sync::MutexGuard<'static, HashMap<i64, Object>> {
    // A panic while holding the lock cannot leave the map half-updated (single inserts and
    // removes), so a poisoned lock is still usable.
    registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn register(object: Object) -> i64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    lock_registry().insert(handle, object);
    handle
}

fn lookup(handle: i64) -> Option<Object> {
    lock_registry().get(&handle).cloned()
}

/// The number of live handles (for tests: closing must release them).
pub fn live_handles() -> usize {
    lock_registry().len()
}

fn connection(handle: i64) -> Result<Arc<ConnectionState>, ShimError> {
    match lookup(handle) {
        Some(Object::Connection(c)) => Ok(c),
        _ => Err(closed("connection")),
    }
}

fn session(handle: i64) -> Result<Arc<SessionState>, ShimError> {
    match lookup(handle) {
        Some(Object::Session(s)) => Ok(s),
        _ => Err(closed("session")),
    }
}

fn producer(handle: i64) -> Result<Arc<ProducerState>, ShimError> {
    match lookup(handle) {
        Some(Object::Producer(p)) => Ok(p),
        _ => Err(closed("producer")),
    }
}

fn consumer(handle: i64) -> Result<Arc<ConsumerState>, ShimError> {
    match lookup(handle) {
        Some(Object::Consumer(c)) => Ok(c),
        _ => Err(closed("consumer")),
    }
}

/// `mqbridge://user:pass@host:port/vhost` → the AMQP URL it names. An empty vhost
/// (`.../` or no path) means the default vhost `/` (in an AMQP URL a trailing `/` would name
/// the vhost `""`); `%2f` or other encoded names pass through.
pub fn amqp_url(uri: &str) -> Result<String, ShimError> {
    if let Some(rest) = uri.strip_prefix("mqbridge://") {
        return Ok(match rest.split_once('/') {
            Some((authority, "")) => format!("amqp://{authority}"),
            _ => format!("amqp://{rest}"),
        });
    }
    if uri.starts_with("mqbridge:embedded") {
        return Err(jms(format!(
            "{uri} starts an embedded broker: it has no AMQP URL of its own"
        )));
    }
    Err(jms(format!(
        "unsupported URI {uri:?}: expected mqbridge://user:pass@host:port/vhost"
    )))
}

/// Connect; returns the connection handle.
pub fn connect(uri: &str, connect_timeout: Duration) -> Result<i64, ShimError> {
    if uri.starts_with("mqbridge:embedded") {
        return crate::embedded::connect(uri, connect_timeout);
    }
    connect_url(amqp_url(uri)?, connect_timeout, None)
}

/// Connect to the AMQP URL; `embedded` is the embedded broker the connection holds a
/// reference on (released by [`close`]).
pub(crate) fn connect_url(
    url: String,
    connect_timeout: Duration,
    embedded: Option<std::path::PathBuf>,
) -> Result<i64, ShimError> {
    let config = AmqpClientConfig {
        urls: vec![url],
        connect_timeout,
        heartbeat: 30,
        product: mqbridge::amqp::JNI_CLIENT_PRODUCT,
    };
    let connector = runtime()?.block_on(AmqpConnector::connect(&config))?;
    Ok(register(Object::Connection(Arc::new(ConnectionState {
        connector: tokio::sync::Mutex::new(Some(Arc::new(connector))),
        local_id: crate::filter::new_local_id().into(),
        embedded,
        closing: CancellationToken::new(),
    }))))
}

/// How long a close waits for the broker's close-ok before giving up.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often [`await_connection_loss`] looks at the connection's state.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);

/// Block until the connection is lost (returns the reason) or closed by the application
/// (returns `None`). The Java side runs this on a daemon thread per connection with an
/// ExceptionListener, so no Rust thread ever has to call into the JVM.
pub fn await_connection_loss(connection_handle: i64) -> Result<Option<String>, ShimError> {
    let conn = connection(connection_handle)?;
    let rt = runtime()?;
    let Some(connector) = rt.block_on(async { conn.connector.lock().await.clone() }) else {
        return Ok(None);
    };
    Ok(rt.block_on(async {
        loop {
            if !connector.is_connected() {
                return Some(format!("AMQP connection to {} lost", connector.url()));
            }
            tokio::select! {
                _ = conn.closing.cancelled() => return None,
                _ = tokio::time::sleep(WATCH_INTERVAL) => {}
            }
        }
    }))
}

/// A session on a connection.
pub fn create_session(connection_handle: i64) -> Result<i64, ShimError> {
    let conn = connection(connection_handle)?;
    let connector = runtime()?
        .block_on(async { conn.connector.lock().await.clone() })
        .ok_or_else(|| closed("connection"))?;
    Ok(register(Object::Session(Arc::new(SessionState {
        connector,
        local_id: conn.local_id.clone(),
        tx: None,
    }))))
}

/// Declare temporary queue `name`, exclusive to the session's connection.
pub fn create_temporary_queue(session_handle: i64, name: &str) -> Result<(), ShimError> {
    let s = session(session_handle)?;
    Ok(runtime()?.block_on(s.connector.declare_exclusive_queue(name))?)
}

/// Delete queue `name` (TemporaryQueue.delete).
pub fn delete_queue(session_handle: i64, name: &str) -> Result<(), ShimError> {
    let s = session(session_handle)?;
    Ok(runtime()?.block_on(s.connector.delete_queue(name))?)
}

/// A producer on a session.
pub fn create_producer(session_handle: i64) -> Result<i64, ShimError> {
    let s = session(session_handle)?;
    // A transacted session's producers publish on its channel (tx and confirms exclude
    // each other on one channel).
    let publisher = match &s.tx {
        Some(_) => None,
        None => Some(runtime()?.block_on(s.connector.publisher())?),
    };
    Ok(register(Object::Producer(Arc::new(ProducerState {
        connector: s.connector.clone(),
        local_id: s.local_id.clone(),
        publisher,
        declared: Mutex::new(HashSet::new()),
        tx: s.tx.clone(),
        pending: Mutex::new(HashMap::new()),
        next_token: AtomicI64::new(1),
    }))))
}

/// The (exchange, routing key) a JMS destination is published to (DESIGN.md §5).
fn route(d: &JmsDestination) -> (&'static str, &str) {
    if d.kind.is_topic() {
        (TOPIC_EXCHANGE, d.name.as_str())
    } else {
        ("", d.name.as_str())
    }
}

/// Declare a JMS queue durable, as the OpenWire listener does. A queue that exists with
/// other properties (e.g. a temporary queue named in a JMSReplyTo, which arrives as a plain
/// queue name) is refused by the broker with 405/406: it exists, which is all a send needs.
async fn declare_queue(connector: &AmqpConnector, name: &str) -> Result<(), ShimError> {
    match connector.declare_queue(name).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind == ErrorKind::Refused => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Send one message record and wait for the broker's confirm (at most
/// [`DEFAULT_CONFIRM_TIMEOUT`]). Queues are declared durable on first use, as the OpenWire
/// listener does, so a send before any consumer is kept.
pub fn send(producer_handle: i64, record: &[u8], now_ms: u64) -> Result<(), ShimError> {
    let token = publish(
        producer_handle,
        record,
        0,
        0,
        DEFAULT_CONFIRM_TIMEOUT,
        now_ms,
    )?;
    await_confirm(
        producer_handle,
        token,
        DEFAULT_CONFIRM_TIMEOUT,
        DEFAULT_CONFIRM_TIMEOUT,
    )
}

fn is_declared(p: &ProducerState, queue: &str) -> bool {
    p.declared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(queue)
}

/// A consumer of a queue (declared durable if missing) or a non-durable topic subscription
/// (a server-named exclusive queue bound to `amq.topic`, JMS wildcards `*`/`>` translated as
/// the OpenWire listener does). A temporary queue must have been created by
/// [`create_temporary_queue`] on the same connection.
///
/// `prefetch` bounds the unacknowledged deliveries: 1 for AUTO_ACKNOWLEDGE (a receive holds
/// at most one message beyond the one it returns, so other consumers are not starved), more
/// for CLIENT_ACKNOWLEDGE, where messages stay unacknowledged until `acknowledge()`.
pub fn create_consumer(
    session_handle: i64,
    kind: JmsDestinationKind,
    name: &str,
    prefetch: u16,
) -> Result<i64, ShimError> {
    let s = session(session_handle)?;
    if let Some(tx) = &s.tx {
        return create_tx_consumer(&s, tx, kind, name, prefetch);
    }
    let consumer = match kind {
        JmsDestinationKind::Queue => runtime()?.block_on(async {
            declare_queue(&s.connector, name).await?;
            Ok::<_, ShimError>(s.connector.consumer(name, prefetch).await?)
        })?,
        JmsDestinationKind::TempQueue => {
            runtime()?.block_on(s.connector.consumer(name, prefetch))?
        }
        JmsDestinationKind::Topic | JmsDestinationKind::TempTopic => runtime()?.block_on(
            s.connector
                .subscriber(TOPIC_EXCHANGE, &jms_topic_to_amqp(name), prefetch),
        )?,
    };
    Ok(register(Object::Consumer(Arc::new(ConsumerState {
        destination: JmsDestination::new(kind, name),
        filter: None,
        consumer: tokio::sync::Mutex::new(Some(consumer)),
        closing: CancellationToken::new(),
        tx: s.tx.clone(),
    }))))
}

/// A durable subscriber of `topic`: the durable queue `C:S` of (client id, subscription
/// name) bound to `amq.topic`, exactly as the OpenWire listener names and binds it, so an
/// ActiveMQ client and the shim share the subscription.
pub fn create_durable_consumer(
    session_handle: i64,
    client_id: &str,
    subscription: &str,
    topic: &str,
    prefetch: u16,
) -> Result<i64, ShimError> {
    let s = session(session_handle)?;
    let queue = durable_subscription_queue(client_id, subscription);
    let consumer = runtime()?.block_on(async {
        s.connector.declare_queue(&queue).await?;
        s.connector
            .bind_queue(&queue, TOPIC_EXCHANGE, &jms_topic_to_amqp(topic))
            .await?;
        match &s.tx {
            Some(tx) => tx.channel.consumer(&s.connector, &queue, prefetch).await,
            None => s.connector.consumer(&queue, prefetch).await,
        }
    })?;
    Ok(register(Object::Consumer(Arc::new(ConsumerState {
        destination: JmsDestination::topic(topic),
        filter: None,
        consumer: tokio::sync::Mutex::new(Some(consumer)),
        closing: CancellationToken::new(),
        tx: s.tx.clone(),
    }))))
}

/// Remove a durable subscription (its queue and the messages kept for it). JMS 2.0: a
/// subscription with an active consumer (on any connection: the broker's consumer count) is
/// an `IllegalStateException`, one that does not exist an `InvalidDestinationException`.
pub fn unsubscribe(
    session_handle: i64,
    client_id: &str,
    subscription: &str,
) -> Result<(), ShimError> {
    let s = session(session_handle)?;
    let queue = durable_subscription_queue(client_id, subscription);
    runtime()?.block_on(async {
        match s.connector.queue_consumer_count(&queue).await? {
            None => Err(ShimError::Throw(
                JavaClass::InvalidDestination,
                format!("no durable subscription '{subscription}' (queue '{queue}')"),
            )),
            Some(n) if n > 0 => Err(ShimError::Throw(
                JavaClass::IllegalState,
                format!(
                    "durable subscription '{subscription}' has {n} active consumer(s): close them before unsubscribing"
                ),
            )),
            Some(_) => Ok(s.connector.delete_queue(&queue).await?),
        }
    })
}

/// A consumer with a message selector and/or noLocal (`createConsumer(dest, selector,
/// noLocal)`). The selector is parsed here first (`InvalidSelectorException`).
///
/// - Topic: a non-durable subscription whose deliveries the selector or noLocal refuses are
///   acknowledged and dropped ([`crate::filter`]): nobody else reads that queue.
/// - Queue: messages the selector refuses must stay for other consumers, so the broker has
///   to filter: mqbridge does with the `x-selector` consume argument
///   ([`AmqpConnector::supports_selectors`]); any other broker (RabbitMQ cannot filter a
///   queue) is refused with a `JMSException` naming the reason. noLocal has no effect on a
///   queue (JMS 2.0 leaves it unspecified there).
pub fn create_filtered_consumer(
    session_handle: i64,
    kind: JmsDestinationKind,
    name: &str,
    selector: Option<&str>,
    no_local: bool,
    prefetch: u16,
) -> Result<i64, ShimError> {
    let selector = crate::filter::parse_selector(selector)?;
    if kind.is_topic() {
        let handle = create_consumer(session_handle, kind, name, prefetch)?;
        let s = session(session_handle)?;
        let filter =
            crate::filter::LocalFilter::new(selector, no_local.then(|| s.local_id.clone()));
        return set_filter(handle, filter);
    }
    let Some((text, _)) = selector else {
        return create_consumer(session_handle, kind, name, prefetch);
    };
    let s = session(session_handle)?;
    let consumer = runtime()?.block_on(async {
        if !s.connector.supports_selectors().await? {
            return Err(jms(format!(
                "message selectors on a queue need a broker that filters queues (mqbridge's x-selector); \
                 the AMQP broker at {} cannot, so the selector \"{text}\" on queue '{name}' is refused",
                s.connector.url()
            )));
        }
        if kind == JmsDestinationKind::Queue {
            declare_queue(&s.connector, name).await?;
        }
        let arguments = crate::filter::selector_arguments(&text);
        Ok(match &s.tx {
            Some(tx) => {
                tx.channel
                    .consumer_with_arguments(&s.connector, name, prefetch, arguments)
                    .await?
            }
            None => {
                s.connector
                    .consumer_with_arguments(name, prefetch, arguments)
                    .await?
            }
        })
    })?;
    Ok(register(Object::Consumer(Arc::new(ConsumerState {
        destination: JmsDestination::new(kind, name),
        filter: None,
        consumer: tokio::sync::Mutex::new(Some(consumer)),
        closing: CancellationToken::new(),
        tx: s.tx.clone(),
    }))))
}

/// Replace consumer `handle`'s registry entry by one with `filter` (before any receive).
fn set_filter(handle: i64, filter: Option<crate::filter::LocalFilter>) -> Result<i64, ShimError> {
    let Some(filter) = filter else {
        return Ok(handle);
    };
    let mut registry = lock_registry();
    let Some(Object::Consumer(c)) = registry.get(&handle).cloned() else {
        return Err(closed("consumer"));
    };
    // Nobody else holds the fresh consumer yet: move its AMQP consumer into the new state.
    let amqp = c.consumer.try_lock().ok().and_then(|mut g| g.take());
    let Some(amqp) = amqp else {
        drop(registry);
        let _ = close(handle);
        return Err(jms("consumer busy while being created"));
    };
    registry.insert(
        handle,
        Object::Consumer(Arc::new(ConsumerState {
            destination: c.destination.clone(),
            filter: Some(filter),
            consumer: tokio::sync::Mutex::new(Some(amqp)),
            closing: CancellationToken::new(),
            tx: c.tx.clone(),
        })),
    );
    Ok(handle)
}

/// What kind of topic subscription [`create_subscription`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// Unshared durable (`createDurableConsumer`): needs the client ID.
    Durable,
    /// JMS 2.0 shared durable (`createSharedDurableConsumer`): stays until unsubscribe.
    SharedDurable,
    /// JMS 2.0 shared non-durable (`createSharedConsumer`): gone with its last consumer.
    Shared,
}

/// A consumer on a named topic subscription. The queue is
/// `durable_subscription_queue(clientId, name)`, the OpenWire listener's durable naming
/// (`C:S`, `:S` without a client ID), so a shim shared or unshared durable subscription
/// and an ActiveMQ client's durable subscriber of the same client ID and name are one
/// subscription. Shared: several consumers (any connection) read the one queue, the broker
/// spreads messages between them; the non-durable kind is an auto-delete queue the broker
/// removes when its last consumer goes. Selector and noLocal filter client-side (as for
/// non-durable subscribers); a subscription created again with another selector keeps its
/// queue (and messages), only the new filter applies.
#[allow(clippy::too_many_arguments)]
pub fn create_subscription(
    session_handle: i64,
    kind: SubscriptionKind,
    client_id: &str,
    subscription: &str,
    topic: &str,
    selector: Option<&str>,
    no_local: bool,
    prefetch: u16,
) -> Result<i64, ShimError> {
    let selector = crate::filter::parse_selector(selector)?;
    let s = session(session_handle)?;
    let queue = durable_subscription_queue(client_id, subscription);
    let (durable, auto_delete) = match kind {
        SubscriptionKind::Durable | SubscriptionKind::SharedDurable => (true, false),
        SubscriptionKind::Shared => (false, true),
    };
    let consumer = runtime()?.block_on(async {
        if kind == SubscriptionKind::Durable {
            if let Some(n) = s.connector.queue_consumer_count(&queue).await? {
                if n > 0 {
                    return Err(ShimError::Throw(
                        JavaClass::IllegalState,
                        format!(
                            "durable subscription '{subscription}' of client '{client_id}' is already active"
                        ),
                    ));
                }
            }
        }
        s.connector
            .declare_shared_queue(&queue, durable, auto_delete)
            .await
            .map_err(|e| {
                if e.kind == ErrorKind::Refused {
                    jms(format!(
                        "subscription '{subscription}' exists with another durability ({}): {}",
                        if durable { "it is not durable" } else { "it is durable" },
                        e.message
                    ))
                } else {
                    e.into()
                }
            })?;
        s.connector
            .bind_queue(&queue, TOPIC_EXCHANGE, &jms_topic_to_amqp(topic))
            .await?;
        Ok::<_, ShimError>(match &s.tx {
            Some(tx) => tx.channel.consumer(&s.connector, &queue, prefetch).await?,
            None => s.connector.consumer(&queue, prefetch).await?,
        })
    })?;
    let filter = crate::filter::LocalFilter::new(selector, no_local.then(|| s.local_id.clone()));
    Ok(register(Object::Consumer(Arc::new(ConsumerState {
        destination: JmsDestination::topic(topic),
        filter,
        consumer: tokio::sync::Mutex::new(Some(consumer)),
        closing: CancellationToken::new(),
        tx: s.tx.clone(),
    }))))
}

/// Receive one message: `timeout_ms` < 0 waits until a message arrives or the consumer is
/// closed, 0 only takes a message already there, > 0 waits that long. `None` on timeout or
/// close; the record carries the delivery tag to pass to [`ack`].
pub fn receive(
    consumer_handle: i64,
    timeout_ms: i64,
    now_ms: impl FnOnce() -> u64,
) -> Result<Option<Vec<u8>>, ShimError> {
    let c = consumer(consumer_handle)?;
    let received = runtime()?.block_on(async {
        let mut guard = c.consumer.lock().await;
        let Some(amqp) = guard.as_mut() else {
            return Err(closed("consumer"));
        };
        // 0 ("no wait") still gives an already-prefetched delivery time to be polled.
        let wait = match u64::try_from(timeout_ms) {
            Ok(0) => Some(Duration::from_millis(1)),
            Ok(ms) => Some(Duration::from_millis(ms)),
            Err(_) => None,
        };
        let deadline = wait.map(|d| tokio::time::Instant::now() + d);
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, amqp.recv()).await.ok(),
                    None => Some(amqp.recv().await),
                }
            };
            let received = tokio::select! {
                _ = c.closing.cancelled() => return Ok(None),
                r = next => r.transpose().map_err(ShimError::from)?,
            };
            let Some(received) = received else {
                return Ok(None);
            };
            match &c.filter {
                // Not part of this subscription: the subscription's queue is this
                // subscriber's (or its shared subscription's), so nobody else wants it.
                // In a transaction the ack is part of it (a rollback requeues it as well).
                Some(f) if !f.accepts(&received.message) => match &c.tx {
                    Some(tx) => tx.ack(received.tag).await?,
                    None => amqp.ack(received.tag).await?,
                },
                _ => return Ok(Some(received)),
            }
        }
    })?;
    let Some(received) = received else {
        return Ok(None);
    };
    // A (wildcard) topic subscription reports the topic the message was sent to.
    let destination = if c.destination.kind.is_topic() && !received.message.routing_key.is_empty() {
        JmsDestination::topic(received.message.routing_key.clone())
    } else {
        c.destination.clone()
    };
    let mut jms = from_message(&received.message, destination, now_ms());
    jms.redelivery_counter = redelivery_count(&received.message, received.redelivered);
    // JMS message ids start with "ID:"; an AMQP publisher's `abc` shows as `ID:abc`, as
    // ActiveMQ's client shows it through the OpenWire listener (docs/mapping.md §6.2).
    if let Some(id) = jms.message_id.as_mut().filter(|id| !id.starts_with("ID:")) {
        id.insert_str(0, "ID:");
    }
    Ok(Some(codec::encode(&jms, received.tag)))
}

/// Acknowledge the delivery with `tag` (from a received record).
pub fn ack(consumer_handle: i64, tag: i64) -> Result<(), ShimError> {
    let c = consumer(consumer_handle)?;
    let tag = u64::try_from(tag).map_err(|_| jms(format!("invalid delivery tag {tag}")))?;
    if let Some(tx) = &c.tx {
        return runtime()?.block_on(tx.ack(tag));
    }
    runtime()?.block_on(async {
        let guard = c.consumer.lock().await;
        match guard.as_ref() {
            Some(amqp) => amqp.ack(tag).await.map_err(ShimError::from),
            None => Err(closed("consumer")),
        }
    })
}

/// Acknowledge every delivery of the consumer up to and including `tag` (CLIENT_ACKNOWLEDGE).
pub fn ack_through(consumer_handle: i64, tag: i64) -> Result<(), ShimError> {
    let c = consumer(consumer_handle)?;
    let tag = u64::try_from(tag).map_err(|_| jms(format!("invalid delivery tag {tag}")))?;
    runtime()?.block_on(async {
        let guard = c.consumer.lock().await;
        match guard.as_ref() {
            Some(amqp) => amqp.ack_through(tag).await.map_err(ShimError::from),
            None => Err(closed("consumer")),
        }
    })
}

/// Reject the delivery with `tag`; `requeue` puts it back (redelivered).
pub fn nack(consumer_handle: i64, tag: i64, requeue: bool) -> Result<(), ShimError> {
    let c = consumer(consumer_handle)?;
    let tag = u64::try_from(tag).map_err(|_| jms(format!("invalid delivery tag {tag}")))?;
    runtime()?.block_on(async {
        let guard = c.consumer.lock().await;
        match guard.as_ref() {
            Some(amqp) => amqp.nack(tag, requeue).await.map_err(ShimError::from),
            None => Err(closed("consumer")),
        }
    })
}

/// Close whatever `handle` refers to; unknown (already closed) handles are a no-op.
pub fn close(handle: i64) -> Result<(), ShimError> {
    let Some(object) = lock_registry().remove(&handle) else {
        return Ok(());
    };
    let rt = runtime()?;
    match object {
        Object::Connection(c) => rt.block_on(async {
            c.closing.cancel();
            let connector = c.connector.lock().await.take();
            if let Some(connector) = connector {
                // A peer that never answers connection.close must not hang close() (and the
                // application thread calling it): give up waiting; lapin drops the socket.
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, connector.close_shared()).await;
                if let Some(path) = &c.embedded {
                    crate::embedded::release(path).await;
                }
            }
        }),
        Object::Session(s) => {
            if let Some(tx) = &s.tx {
                // Closing the channel rolls the open transaction back and requeues its
                // unacknowledged deliveries (JMS: closing a transacted session rolls back).
                rt.block_on(async {
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, tx.channel.close()).await;
                });
            }
        }
        Object::Producer(_) => {}
        Object::Browser(b) => rt.block_on(async {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, b.browser.close()).await;
        }),
        Object::Consumer(c) => {
            c.closing.cancel();
            rt.block_on(async {
                let consumer = c.consumer.lock().await.take();
                if let Some(consumer) = consumer {
                    match &c.tx {
                        // The deliveries it had buffered stay unacknowledged on the shared
                        // channel until the transaction ends: requeue them then.
                        Some(tx) => {
                            let tags = consumer.cancel().await;
                            tx.book.lock().await.orphans.extend(tags);
                        }
                        None => {
                            let _ = tokio::time::timeout(CLOSE_TIMEOUT, consumer.close()).await;
                        }
                    }
                }
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Transacted sessions, sends with a confirm deadline and asynchronous completion, delivery
// delay, queue browsers.
// ---------------------------------------------------------------------------------------

/// How long a synchronous send waits for the broker's confirm unless told otherwise.
pub const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// Prefix of the queues that hold delayed messages (see [`delay_queue`]).
pub const DELAY_QUEUE_PREFIX: &str = "mqbridge.delay.";

/// AMQP header carrying JMSDeliveryTime (absolute ms) of a message sent with a delivery
/// delay; the Java side turns it back into JMSDeliveryTime.
pub const DELIVERY_TIME_HEADER: &str = "JMSDeliveryTime";

/// How long a delay queue outlives its last use (a delayed send re-declares it, which
/// resets the timer): every message in it has been dead-lettered by then.
const DELAY_QUEUE_GRACE_MS: u64 = 60_000;

/// The transaction state of a transacted session: its channel (`tx.select`) and what the
/// open transaction acknowledged. Commit and rollback hold `book`, so they never interleave
/// with an acknowledgement of another thread (a MessageListener of the same session).
pub struct TxState {
    channel: AmqpTxChannel,
    book: tokio::sync::Mutex<TxBook>,
}

#[derive(Default)]
struct TxBook {
    /// Deliveries acknowledged inside the open transaction: rollback requeues them.
    acked: Vec<u64>,
    /// Deliveries a closed consumer had buffered but never handed out: still
    /// unacknowledged on the channel; requeued when the transaction ends.
    orphans: Vec<u64>,
}

impl TxState {
    /// Acknowledge a delivery inside the open transaction.
    async fn ack(&self, tag: u64) -> Result<(), ShimError> {
        let mut book = self.book.lock().await;
        self.channel.ack(tag).await?;
        book.acked.push(tag);
        Ok(())
    }
}

fn transaction_rolled_back(message: impl Into<String>) -> ShimError {
    ShimError::Throw(JavaClass::TransactionRolledBack, message.into())
}

/// A transacted session: one channel in `tx.select` mode that its producers publish on
/// and its consumers consume on, so sends and acknowledgements are one AMQP transaction
/// (what RabbitMQ's JMS client does).
pub fn create_transacted_session(connection_handle: i64) -> Result<i64, ShimError> {
    let conn = connection(connection_handle)?;
    let rt = runtime()?;
    let connector = rt
        .block_on(async { conn.connector.lock().await.clone() })
        .ok_or_else(|| closed("connection"))?;
    let channel = rt.block_on(connector.tx_channel())?;
    Ok(register(Object::Session(Arc::new(SessionState {
        connector,
        local_id: conn.local_id.clone(),
        tx: Some(Arc::new(TxState {
            channel,
            book: tokio::sync::Mutex::new(TxBook::default()),
        })),
    }))))
}

/// A consumer on a transacted session's channel (see [`create_consumer`]).
fn create_tx_consumer(
    s: &SessionState,
    tx: &Arc<TxState>,
    kind: JmsDestinationKind,
    name: &str,
    prefetch: u16,
) -> Result<i64, ShimError> {
    let consumer = runtime()?.block_on(async {
        match kind {
            JmsDestinationKind::Queue => {
                declare_queue(&s.connector, name).await?;
                Ok::<_, ShimError>(tx.channel.consumer(&s.connector, name, prefetch).await?)
            }
            JmsDestinationKind::TempQueue => {
                Ok(tx.channel.consumer(&s.connector, name, prefetch).await?)
            }
            JmsDestinationKind::Topic | JmsDestinationKind::TempTopic => Ok(tx
                .channel
                .subscriber(TOPIC_EXCHANGE, &jms_topic_to_amqp(name), prefetch)
                .await?),
        }
    })?;
    Ok(register(Object::Consumer(Arc::new(ConsumerState {
        destination: JmsDestination::new(kind, name),
        filter: None,
        consumer: tokio::sync::Mutex::new(Some(consumer)),
        closing: CancellationToken::new(),
        tx: Some(tx.clone()),
    }))))
}

fn tx_of(session_handle: i64) -> Result<Arc<TxState>, ShimError> {
    session(session_handle)?.tx.clone().ok_or_else(|| {
        ShimError::Throw(
            JavaClass::IllegalState,
            "the session is not transacted".into(),
        )
    })
}

/// Commit the session's transaction. The broker refusing the commit, or a channel that is
/// already closed (the broker discards an open transaction with its channel), is a
/// `TransactionRolledBackException`; a connection lost while the commit was on its way is
/// a plain `JMSException` (the outcome is unknown).
pub fn commit(session_handle: i64) -> Result<(), ShimError> {
    let tx = tx_of(session_handle)?;
    runtime()?.block_on(async {
        let mut book = tx.book.lock().await;
        if !tx.channel.is_open() {
            book.acked.clear();
            book.orphans.clear();
            return Err(transaction_rolled_back(
                "the session's AMQP channel is closed: the broker rolled the transaction back",
            ));
        }
        for tag in std::mem::take(&mut book.orphans) {
            tx.channel.nack(tag, true).await?;
        }
        match tx.channel.commit().await {
            Ok(()) => {
                book.acked.clear();
                Ok(())
            }
            Err(e) => {
                book.acked.clear();
                if e.kind == ErrorKind::Refused {
                    // A channel error in answer to tx.commit: the broker closed the channel
                    // and discarded the transaction.
                    return Err(transaction_rolled_back(format!(
                        "the broker rolled the transaction back: {}",
                        e.message
                    )));
                }
                Err(jms(format!(
                    "commit failed, its outcome is unknown: {}",
                    e.message
                )))
            }
        }
    })
}

/// Roll the session's transaction back: `tx.rollback` drops its sends and acks, then the
/// messages it had acknowledged (and those a closed consumer had buffered) are nacked with
/// requeue and that is committed, so they are delivered again, flagged redelivered. A
/// closed channel has nothing left to roll back (the broker did it).
pub fn rollback(session_handle: i64) -> Result<(), ShimError> {
    let tx = tx_of(session_handle)?;
    runtime()?.block_on(async {
        let mut book = tx.book.lock().await;
        let mut tags = std::mem::take(&mut book.acked);
        tags.append(&mut book.orphans);
        if !tx.channel.is_open() {
            return Ok(());
        }
        tx.channel.rollback().await?;
        if !tags.is_empty() {
            tags.sort_unstable();
            for tag in tags {
                tx.channel.nack(tag, true).await?;
            }
            tx.channel.commit().await?;
        }
        Ok(())
    })
}

/// The delay queue of a delayed send: `mqbridge.delay.<ms>.<queue|topic>.<name>`, declared
/// with `x-message-ttl` = the delay, dead-lettering to the real destination (exchange and
/// routing key) and `x-expires` so unused ones go away. Plain AMQP (no plugin): works on
/// RabbitMQ and on mqbridge's core alike.
pub fn delay_queue(
    delay_ms: u64,
    destination: &JmsDestination,
) -> Result<(String, FieldTable), ShimError> {
    let kind = if destination.kind.is_topic() {
        "topic"
    } else {
        "queue"
    };
    let name = format!("{DELAY_QUEUE_PREFIX}{delay_ms}.{kind}.{}", destination.name);
    if name.len() > 255 {
        return Err(ShimError::Throw(
            JavaClass::InvalidDestination,
            format!(
                "destination name too long for a delayed send (the delay queue {name:.40}... exceeds 255 bytes)"
            ),
        ));
    }
    let (exchange, key) = route(destination);
    let ttl = i64::try_from(delay_ms).map_err(|_| jms(format!("delay {delay_ms} ms too large")))?;
    let expires = ttl.saturating_add(i64::try_from(DELAY_QUEUE_GRACE_MS).unwrap_or(i64::MAX));
    let mut args = FieldTable::default();
    args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(exchange.into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(key.into()),
    );
    args.insert("x-expires".into(), AMQPValue::LongLongInt(expires));
    Ok((name, args))
}

/// `message` with header `name` set to `value`.
fn with_header(message: &mut Message, name: &str, value: AMQPValue) {
    let mut headers = message.properties.headers().clone().unwrap_or_default();
    headers.insert(name.into(), value);
    message.properties = message.properties.clone().with_headers(headers);
}

/// Publish one message record without waiting for its confirm; returns the token to pass to
/// [`await_confirm`] (0: nothing to wait for — a send in a transaction, which takes effect
/// at commit, or a delayed message that would expire before its delivery time and is
/// dropped, as JMS lets a provider drop expired messages).
///
/// `delay_ms` > 0 sends through the destination's delay queue ([`delay_queue`]); then
/// `delivery_time` (JMSDeliveryTime, absolute ms) travels in header [`DELIVERY_TIME_HEADER`]
/// and the JMS expiration only in header `JMSExpiration`: an AMQP per-message TTL shorter
/// than the delay would dead-letter the message early. Everything, queue declarations
/// included, must be done within `timeout` (a broker that stopped reading, e.g. under a
/// resource alarm, must not hang the caller).
pub fn publish(
    producer_handle: i64,
    record: &[u8],
    delay_ms: u64,
    delivery_time: i64,
    timeout: Duration,
    now_ms: u64,
) -> Result<i64, ShimError> {
    let p = producer(producer_handle)?;
    let mut jms_message = codec::decode(record)?;
    let destination = jms_message.destination.clone().ok_or_else(|| {
        ShimError::Throw(
            JavaClass::InvalidDestination,
            "the message has no destination".into(),
        )
    })?;
    let (exchange, key) = route(&destination);
    let delayed = if delay_ms > 0 {
        let expiration = jms_message.expiration;
        if expiration > 0 && expiration <= delivery_time {
            return Ok(0);
        }
        jms_message.expiration = 0;
        Some((delay_queue(delay_ms, &destination)?, expiration))
    } else {
        None
    };
    let mut message =
        to_message(&jms_message, exchange, key, now_ms).map_err(|e| jms(e.to_string()))?;
    // Marks the publishing connection, for noLocal subscribers (crate::filter).
    message.properties = message
        .properties
        .with_app_id(mqbridge::message::ShortString::from(p.local_id.to_string()));
    if let Some((_, expiration)) = &delayed {
        if *expiration > 0 {
            with_header(
                &mut message,
                mqbridge::mapping::openwire::JMS_EXPIRATION,
                AMQPValue::LongLongInt(*expiration),
            );
        }
        with_header(
            &mut message,
            DELIVERY_TIME_HEADER,
            AMQPValue::LongLongInt(delivery_time),
        );
    }
    let work = async {
        // The target queue must exist before a delayed message is dead-lettered to it.
        if destination.kind == JmsDestinationKind::Queue && !is_declared(&p, &destination.name) {
            declare_queue(&p.connector, &destination.name).await?;
            p.declared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(destination.name.clone());
        }
        let (exchange, key) = match &delayed {
            Some(((queue, args), _)) => {
                // Declared on every delayed send: that resets its x-expires timer.
                p.connector
                    .declare_queue_with_args(queue, args.clone())
                    .await?;
                ("", queue.as_str())
            }
            None => (exchange, key),
        };
        if let Some(tx) = &p.tx {
            tx.channel.publish(exchange, key, &message).await?;
            return Ok::<_, ShimError>(None);
        }
        let publisher = p
            .publisher
            .as_ref()
            .ok_or_else(|| jms("producer has no publishing channel"))?;
        Ok(Some(
            publisher.publish(exchange, key, &message, false).await?,
        ))
    };
    let confirm = runtime()?
        .block_on(async { tokio::time::timeout(timeout, work).await })
        .map_err(|_| {
            jms(format!(
                "the broker did not take the message within {} ms",
                timeout.as_millis()
            ))
        })??;
    let Some(confirm) = confirm else {
        return Ok(0);
    };
    let token = p.next_token.fetch_add(1, Ordering::Relaxed);
    p.pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(token, confirm);
    Ok(token)
}

/// Wait (at most `timeout`) for the broker's confirm of the send with `token` (from
/// [`publish`]). A nack is a `JMSException`; so is no answer in time (the message may or
/// may not have been delivered). `confirm_timeout` is the send's whole budget, of which
/// `timeout` is what is left: the error names the budget the application configured.
pub fn await_confirm(
    producer_handle: i64,
    token: i64,
    timeout: Duration,
    confirm_timeout: Duration,
) -> Result<(), ShimError> {
    if token == 0 {
        return Ok(());
    }
    let p = producer(producer_handle)?;
    let confirm = p
        .pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&token)
        .ok_or_else(|| jms(format!("no pending send {token} on this producer")))?;
    runtime()?
        .block_on(async { tokio::time::timeout(timeout, confirm.wait()).await })
        .map_err(|_| {
            jms(format!(
                "no confirm from the broker within {} ms: the message may or may not have been delivered",
                confirm_timeout.as_millis()
            ))
        })??;
    Ok(())
}

/// A queue browser (see [`AmqpBrowser`]); `selector` filters what it returns.
pub struct BrowserState {
    browser: AmqpBrowser,
    destination: JmsDestination,
    selector: Option<Selector>,
}

fn browser_state(handle: i64) -> Result<Arc<BrowserState>, ShimError> {
    match lookup(handle) {
        Some(Object::Browser(b)) => Ok(b),
        _ => Err(closed("browser")),
    }
}

/// Start browsing queue `name` (declared durable if missing, as for a consumer), keeping
/// only messages that match `selector` (JMS selector syntax; `None` or empty: all).
pub fn create_browser(
    session_handle: i64,
    name: &str,
    selector: Option<&str>,
) -> Result<i64, ShimError> {
    let s = session(session_handle)?;
    let selector = match selector.map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Selector::parse(text).map_err(|e| {
            ShimError::Throw(JavaClass::InvalidSelector, format!("invalid selector: {e}"))
        })?),
    };
    let browser = runtime()?.block_on(async {
        declare_queue(&s.connector, name).await?;
        Ok::<_, ShimError>(s.connector.browser(name).await?)
    })?;
    Ok(register(Object::Browser(Arc::new(BrowserState {
        browser,
        destination: JmsDestination::queue(name),
        selector,
    }))))
}

/// The next browsed message as a record (delivery tag 0: nothing to acknowledge), or
/// `None` when the queue has no more (matching) messages.
pub fn browse_next(browser_handle: i64, now_ms: u64) -> Result<Option<Vec<u8>>, ShimError> {
    let b = browser_state(browser_handle)?;
    runtime()?.block_on(async {
        loop {
            let Some(received) = b.browser.next().await? else {
                return Ok(None);
            };
            if b.selector
                .as_ref()
                .is_some_and(|sel| !sel.matches(&received.message))
            {
                continue;
            }
            let mut jms_message = from_message(&received.message, b.destination.clone(), now_ms);
            jms_message.redelivery_counter =
                redelivery_count(&received.message, received.redelivered);
            return Ok(Some(codec::encode(&jms_message, 0)));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_maps_to_amqp_url() {
        let url = |u: &str| amqp_url(u).map_err(|e| e.to_string());
        assert_eq!(url("mqbridge://u:p@h:1/"), Ok("amqp://u:p@h:1".into()));
        assert_eq!(url("mqbridge://u:p@h:1"), Ok("amqp://u:p@h:1".into()));
        assert_eq!(
            url("mqbridge://u:p@h:1/prod"),
            Ok("amqp://u:p@h:1/prod".into())
        );
        assert!(url("tcp://h:1").is_err());
    }

    #[test]
    fn login_refusals_are_security_exceptions() {
        let class = |e: ClientError| match ShimError::from(e) {
            ShimError::Throw(c, _) => Some(c),
            ShimError::Jni(_) => None,
        };
        assert_eq!(
            class(ClientError::connection(
                "403 ACCESS_REFUSED - Login was refused"
            )),
            Some(JavaClass::Security)
        );
        assert_eq!(
            class(ClientError::connection("connection refused")),
            Some(JavaClass::Jms)
        );
    }

    #[test]
    fn unknown_handles_are_illegal_state_and_close_is_idempotent() {
        let class = |r: Result<i64, ShimError>| match r {
            Err(ShimError::Throw(c, m)) => Some((c, m)),
            _ => None,
        };
        assert_eq!(
            class(create_session(i64::MAX)),
            Some((JavaClass::IllegalState, "connection is closed".into()))
        );
        assert_eq!(
            class(create_producer(-1)).map(|(c, _)| c),
            Some(JavaClass::IllegalState)
        );
        assert!(matches!(
            receive(0, 0, || 0),
            Err(ShimError::Throw(JavaClass::IllegalState, _))
        ));
        assert!(close(i64::MAX).is_ok());
        assert!(close(i64::MAX).is_ok());
    }

    #[test]
    fn delay_queues_are_named_per_delay_and_destination_and_dead_letter_to_it() {
        let (name, args) = delay_queue(1500, &JmsDestination::queue("orders")).unwrap_or_default();
        assert_eq!(name, "mqbridge.delay.1500.queue.orders");
        let arg = |k: &str| args.inner().get(k).cloned();
        assert_eq!(arg("x-message-ttl"), Some(AMQPValue::LongLongInt(1500)));
        assert_eq!(
            arg("x-dead-letter-exchange"),
            Some(AMQPValue::LongString("".into()))
        );
        assert_eq!(
            arg("x-dead-letter-routing-key"),
            Some(AMQPValue::LongString("orders".into()))
        );
        assert_eq!(arg("x-expires"), Some(AMQPValue::LongLongInt(61_500)));
        let (name, args) = delay_queue(10, &JmsDestination::topic("a.b")).unwrap_or_default();
        assert_eq!(name, "mqbridge.delay.10.topic.a.b");
        assert_eq!(
            args.inner().get("x-dead-letter-exchange").cloned(),
            Some(AMQPValue::LongString(TOPIC_EXCHANGE.into()))
        );
        assert!(matches!(
            delay_queue(10, &JmsDestination::queue("x".repeat(250))),
            Err(ShimError::Throw(JavaClass::InvalidDestination, _))
        ));
    }

    #[test]
    fn transactions_and_browsers_need_live_handles() {
        let class = |r: Result<(), ShimError>| match r {
            Err(ShimError::Throw(c, _)) => Some(c),
            _ => None,
        };
        assert_eq!(class(commit(i64::MAX)), Some(JavaClass::IllegalState));
        assert_eq!(class(rollback(i64::MAX)), Some(JavaClass::IllegalState));
        assert!(matches!(
            browse_next(i64::MAX, 0),
            Err(ShimError::Throw(JavaClass::IllegalState, _))
        ));
        assert!(matches!(
            create_browser(i64::MAX, "q", None),
            Err(ShimError::Throw(JavaClass::IllegalState, _))
        ));
        assert!(matches!(
            create_transacted_session(i64::MAX),
            Err(ShimError::Throw(JavaClass::IllegalState, _))
        ));
        // Token 0 (a send inside a transaction) has nothing to wait for.
        assert!(await_confirm(
            i64::MAX,
            0,
            Duration::from_millis(1),
            Duration::from_millis(1)
        )
        .is_ok());
        assert_eq!(
            class(await_confirm(
                i64::MAX,
                7,
                Duration::from_millis(1),
                Duration::from_millis(1)
            )),
            Some(JavaClass::IllegalState)
        );
    }

    #[test]
    fn connect_to_a_closed_port_names_the_cause() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let uri = format!("mqbridge://guest:guest@127.0.0.1:{port}/");
        match connect(&uri, Duration::from_secs(3)) {
            Err(ShimError::Throw(JavaClass::Jms, m)) => {
                assert!(m.contains(&format!("127.0.0.1:{port}")), "{m}");
                assert!(m.to_ascii_lowercase().contains("refused"), "{m}");
            }
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(_) => panic!("connected to a closed port"),
        }
    }
}
