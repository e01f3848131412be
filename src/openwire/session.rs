//! One OpenWire connection's state machine: `handle(command) -> Next`, no sockets.
//!
//! Everything the connection sends goes to the writer's channel ([`Outgoing`]) in order:
//! Responses written here, MessageDispatches pushed by the broker through each consumer's
//! sink, Responses to synchronous sends written by the publish confirm (after the store
//! made a persistent message durable). The listener owns the socket, the negotiation,
//! keep-alives and shutdown.
//!
//! Rules (openwire.md §13, §14):
//! - every command with `responseRequired` gets a `Response{correlationId}`, or an
//!   `ExceptionResponse` whose class is a loadable `javax.jms.*` exception;
//! - a ConnectionInfo replaying a registered ConnectionId (failover) evicts the older
//!   connection; a client id held by another ConnectionId is refused with
//!   `javax.jms.InvalidClientIDException`;
//! - one broker [`Session`](crate::broker::Session) per JMS consumer (`subscription.rs`);
//! - acks: STANDARD acks a tag range, INDIVIDUAL one tag, DELIVERED widens the prefetch
//!   window, POISON rejects (dead-letters through the queue's DLX, else drops),
//!   REDELIVERED only counts; UNMATCHED/EXPIRED remove;
//! - transactions buffer sends and acks until COMMIT; ROLLBACK discards them and the client
//!   redelivers itself (the server must not redispatch, pitfall 11);
//! - temporary destinations are announced to every advisory consumer of the listener
//!   (pitfall 7) and replayed to new ones.
//!
//! Permissions (docs/permissions.md): producers, sends and consumers are checked against
//! the user's permissions on the AMQP resources they touch; a refusal is a
//! `JMSSecurityException` worded as ActiveMQ's AuthorizationBroker's. A message body above
//! `limits.max_message_size` is refused with a `JMSException`.
//!
//! Destinations follow DESIGN.md §4: queue `X` → durable queue `X` via the default
//! exchange; topic `T` → `amq.topic` with key `T` (`*`/`>` wildcards → `*`/`#`), each
//! subscriber on its own exclusive queue; a durable subscriber (client id `C`, name `S`) on
//! the durable queue `C:S`; a temporary queue is a queue named by the client's temporary
//! name (usable as AMQP `reply_to`), owned by its connection through the registry.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::codec::Message as WireMessage;
use super::codec::{
    BrokerInfo, Command, ConnectionInfo, ConsumerId, ConsumerInfo, Destination, DestinationInfo,
    DestinationKind, ExceptionResponse, KeepAliveInfo, MessageAck, MessageDispatch, MessageId,
    MessagePull, ProducerId, ProducerInfo, RemoveInfo, RemoveSubscriptionInfo, Response, Throwable,
    TransactionId, TransactionInfo,
};
use super::registry::{AdvisoryConsumer, Registry, TempDestination, TempKind};
use super::subscription::{ConsumerSink, ConsumerState, Tracker};
use super::writer::Outgoing;
use crate::auth::{Access, AuthenticatedUser, Resource, Users};
use crate::broker::connections::{ConnectionGuard, ConnectionMeta};
use crate::broker::session::{ConsumeOptions, MessageFilter, Session};
use crate::broker::vhost::{QueueOptions, VHost};
use crate::broker::{Broker, ConnectionId};
use crate::error::ReplyCode;
use crate::mapping::destination::{durable_subscription_queue, TOPIC_EXCHANGE};
use crate::message::Message;
use crate::selector::Selector;
use crate::tls::TlsInfo;

/// The virtual host OpenWire connections use (OpenWire has no vhost field).
pub const VHOST: &str = "/";
/// Most messages one browser enumeration shows.
pub const MAX_BROWSE: u64 = 10_000;
/// The advisory topics' common prefix.
pub const ADVISORY_PREFIX: &str = "ActiveMQ.Advisory.";

/// ExceptionResponse classes (loadable by every 5.x/6.x client; 6.1+ maps them to jakarta).
pub mod class {
    pub const JMS: &str = "javax.jms.JMSException";
    pub const INVALID_CLIENT_ID: &str = "javax.jms.InvalidClientIDException";
    pub const INVALID_DESTINATION: &str = "javax.jms.InvalidDestinationException";
    pub const INVALID_SELECTOR: &str = "javax.jms.InvalidSelectorException";
    pub const SECURITY: &str = "javax.jms.JMSSecurityException";
    pub const ILLEGAL_STATE: &str = "javax.jms.IllegalStateException";
    pub const RESOURCE: &str = "javax.jms.ResourceAllocationException";
    pub const TX_ROLLED_BACK: &str = "javax.jms.TransactionRolledBackException";
}

/// What every connection of one listener shares.
#[derive(Debug)]
pub struct SessionContext {
    pub broker: Arc<Broker>,
    pub users: Arc<Users>,
    /// The largest message body accepted (`limits.max_message_size`).
    pub max_message_size: u64,
    pub registry: Registry,
    /// This bridge's BrokerId and name in BrokerInfo and advisories.
    pub broker_id: String,
    /// The producer id of messages the bridge itself makes (advisories).
    advisory_seq: AtomicU64,
}

impl SessionContext {
    pub fn new(broker: Arc<Broker>, users: Arc<Users>) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "mqbridge".to_string());
        SessionContext {
            broker,
            users,
            max_message_size: crate::config::DEFAULT_MAX_MESSAGE_SIZE,
            registry: Registry::default(),
            broker_id: format!(
                "ID:{host}-{}-{}",
                std::process::id(),
                crate::broker::now_ms()
            ),
            advisory_seq: AtomicU64::new(0),
        }
    }

    /// The BrokerInfo sent after negotiation (pitfall 19: XA clients wait for it).
    pub fn broker_info(&self, url: &str) -> Command {
        Command::BrokerInfo(BrokerInfo {
            broker_id: Some(super::codec::BrokerId {
                value: Some(self.broker_id.clone()),
            }),
            broker_url: Some(url.to_string()),
            broker_name: Some("mqbridge".to_string()),
            ..BrokerInfo::default()
        })
    }
}

/// What the listener does after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// ShutdownInfo or a fatal refusal: close once queued output is written.
    Close,
}

/// A refused command: the exception class and text of its ExceptionResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub class: &'static str,
    pub message: String,
}

pub(crate) fn refuse(class: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        class,
        message: message.into(),
    }
}

impl From<crate::error::Error> for Refusal {
    fn from(e: crate::error::Error) -> Self {
        let class = match e.code {
            ReplyCode::NotFound => class::INVALID_DESTINATION,
            ReplyCode::AccessRefused => class::SECURITY,
            ReplyCode::ResourceLocked => class::ILLEGAL_STATE,
            ReplyCode::ResourceError => class::RESOURCE,
            _ => class::JMS,
        };
        refuse(class, e.reply_text())
    }
}

pub(crate) type R<T = ()> = Result<T, Refusal>;

/// The ExceptionResponse for `refusal`, answering command `correlation_id`.
pub fn exception_response(correlation_id: i32, refusal: &Refusal) -> Command {
    Command::ExceptionResponse(ExceptionResponse {
        correlation_id,
        exception: Some(Throwable::new(refusal.class, refusal.message.clone())),
        ..ExceptionResponse::default()
    })
}

pub fn response(correlation_id: i32) -> Command {
    Command::Response(Response {
        correlation_id,
        ..Response::default()
    })
}

/// A send or ack held back by a transaction until COMMIT.
#[derive(Debug)]
enum TxOp {
    Send(Box<WireMessage>),
    Ack(MessageAck),
}

/// One JMS consumer of this connection.
#[derive(Debug)]
struct Consumer {
    state: Arc<ConsumerState>,
    /// None for advisory consumers (served by the registry, not a queue).
    session: Option<Arc<Session>>,
    /// The durable queue behind a durable topic subscription.
    durable_queue: Option<String>,
    /// The queue this JMS exclusive consumer holds or waits for.
    exclusive_queue: Option<String>,
}

/// The connection's state.
#[derive(Debug)]
pub struct OpenWireSession {
    pub(crate) ctx: Arc<SessionContext>,
    peer: SocketAddr,
    pub(crate) out: UnboundedSender<Outgoing>,
    /// This connection's lifetime in the registry.
    pub generation: u64,
    /// Cancelled when a failover reconnect with our ConnectionId evicts us.
    pub kill: CancellationToken,
    vhost: Option<Arc<VHost>>,
    /// Who logged in (set with `vhost` by ConnectionInfo).
    user: Option<AuthenticatedUser>,
    pub conn: ConnectionId,
    connection_id: Option<String>,
    client_id: String,
    consumers: HashMap<ConsumerId, Consumer>,
    /// Open producers and their flow-control window (bytes; 0: none).
    producers: HashMap<ProducerId, i32>,
    transactions: HashMap<TransactionId, Vec<TxOp>>,
    /// Synchronous sends waiting for their confirm.
    pub pending: Arc<AtomicUsize>,
    /// This connection has sent messages: it is not read while a resource alarm is up.
    pub publisher: bool,
    /// Its entry in the broker's connection list, from ConnectionInfo on.
    registration: Option<ConnectionGuard>,
    /// Core sessions (one per consumer) opened so far, to number them in that list.
    sessions_opened: u32,
    /// Set on a TLS listener. The user a verified client certificate names
    /// (`peer_cert_login`) logs in a ConnectionInfo without a user name.
    pub tls: Option<TlsInfo>,
}

struct PendingGuard(Arc<AtomicUsize>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The correlation id to answer, if the command asked for a response.
fn wants_response(command: &Command) -> Option<i32> {
    let base = command.base()?;
    base.response_required.then_some(base.command_id)
}

impl OpenWireSession {
    pub fn new(ctx: Arc<SessionContext>, peer: SocketAddr, out: UnboundedSender<Outgoing>) -> Self {
        let generation = ctx.registry.generation();
        OpenWireSession {
            ctx,
            peer,
            out,
            generation,
            kill: CancellationToken::new(),
            vhost: None,
            user: None,
            conn: 0,
            connection_id: None,
            client_id: String::new(),
            consumers: HashMap::new(),
            producers: HashMap::new(),
            transactions: HashMap::new(),
            pending: Arc::new(AtomicUsize::new(0)),
            publisher: false,
            registration: None,
            sessions_opened: 0,
            tls: None,
        }
    }

    /// Cancelled when an operator closes this connection (from CONNECT on), with the
    /// reason to give the client.
    pub fn close_requested(&self) -> Option<Arc<crate::broker::connections::ConnectionEntry>> {
        self.registration.as_ref().map(|r| r.entry().clone())
    }

    pub fn is_connected(&self) -> bool {
        self.vhost.is_some()
    }

    fn send(&self, command: Command) {
        let _ = self.out.send(Outgoing::Command(command));
    }

    fn vhost(&self) -> R<Arc<VHost>> {
        self.vhost.clone().ok_or_else(|| {
            refuse(
                class::ILLEGAL_STATE,
                "no ConnectionInfo yet: the connection is not open",
            )
        })
    }

    /// RabbitMQ's access check on the AMQP resource a command touches. The refusal reads
    /// as ActiveMQ's AuthorizationBroker's (`User u is not authorized to write to:
    /// queue://X`) followed by RabbitMQ's text, in a `JMSSecurityException`.
    fn check(&self, access: Access, resource: Resource<'_>, dest: &str) -> R {
        let (Some(user), Some(vhost)) = (&self.user, &self.vhost) else {
            return Err(refuse(
                class::ILLEGAL_STATE,
                "no ConnectionInfo yet: the connection is not open",
            ));
        };
        user.check(&vhost.name, access, resource).map_err(|denied| {
            let verb = match access {
                Access::Configure => "create",
                Access::Write => "write to",
                Access::Read => "read from",
            };
            refuse(
                class::SECURITY,
                format!(
                    "User {} is not authorized to {verb}: {dest} ({denied})",
                    user.name
                ),
            )
        })
    }

    /// Handle one command from the client (after the WireFormatInfo exchange).
    pub fn handle(&mut self, command: Command) -> Next {
        let correlation = wants_response(&command);
        let name = command.name();
        match self.dispatch(command, correlation) {
            Ok(Reply::Now) => {
                if let Some(id) = correlation {
                    self.send(response(id));
                }
                Next::Continue
            }
            Ok(Reply::Later) => Next::Continue,
            Ok(Reply::Close) => Next::Close,
            Err(refusal) => {
                tracing::info!(command = name, class = refusal.class, message = %refusal.message, "OpenWire command refused.");
                match correlation {
                    Some(id) => self.send(exception_response(id, &refusal)),
                    None => {
                        // Nothing to answer: the client learns it through the
                        // connection's ExceptionListener.
                        self.send(Command::ConnectionError(super::codec::ConnectionError {
                            exception: Some(Throwable::new(refusal.class, refusal.message.clone())),
                            ..Default::default()
                        }));
                    }
                }
                Next::Continue
            }
        }
    }

    fn dispatch(&mut self, command: Command, correlation: Option<i32>) -> R<Reply> {
        if !self.is_connected() {
            match &command {
                Command::ConnectionInfo(_)
                | Command::KeepAliveInfo(_)
                | Command::ShutdownInfo(_)
                | Command::WireFormatInfo(_)
                | Command::ConnectionControl(_)
                | Command::RemoveInfo(_) => {}
                other => {
                    return Err(refuse(
                        class::ILLEGAL_STATE,
                        format!("{} before ConnectionInfo", other.name()),
                    ))
                }
            }
        }
        match command {
            Command::ConnectionInfo(info) => self.on_connection_info(info),
            Command::SessionInfo(_) => Ok(Reply::Now),
            Command::ProducerInfo(info) => self.on_producer_info(info),
            Command::ConsumerInfo(info) => self.on_consumer_info(info),
            Command::RemoveInfo(info) => self.on_remove(info),
            Command::RemoveSubscriptionInfo(info) => self.on_remove_subscription(info),
            Command::Message(message) => self.on_message(message, correlation),
            Command::MessageAck(ack) => self.on_ack(ack),
            Command::MessagePull(pull) => self.on_pull(pull),
            Command::TransactionInfo(info) => self.on_transaction(info, correlation),
            Command::DestinationInfo(info) => self.on_destination_info(info),
            Command::KeepAliveInfo(k) => {
                if k.base.response_required {
                    self.send(Command::KeepAliveInfo(KeepAliveInfo::default()));
                }
                Ok(Reply::Later)
            }
            Command::ShutdownInfo(_) => Ok(Reply::Close),
            Command::WireFormatInfo(_) => Ok(Reply::Later),
            Command::ConnectionControl(_)
            | Command::ConsumerControl(_)
            | Command::FlushCommand(_)
            | Command::ControlCommand(_)
            | Command::ProducerAck(_) => Ok(Reply::Now),
            Command::Response(_) | Command::ExceptionResponse(_) => Ok(Reply::Later),
            other => Err(refuse(
                class::JMS,
                format!("{} is not supported by this broker", other.name()),
            )),
        }
    }

    // ----- connection -----

    fn on_connection_info(&mut self, info: ConnectionInfo) -> R<Reply> {
        let connection_id = info
            .connection_id
            .and_then(|c| c.value)
            .ok_or_else(|| refuse(class::JMS, "ConnectionInfo without a ConnectionId"))?;
        if let Some(current) = &self.connection_id {
            if *current == connection_id {
                return Ok(Reply::Now);
            }
            return Err(refuse(
                class::ILLEGAL_STATE,
                "a second ConnectionInfo on one connection",
            ));
        }
        let vhost =
            self.ctx.broker.vhost(VHOST).ok_or_else(|| {
                refuse(class::JMS, format!("virtual host '{VHOST}' does not exist"))
            })?;
        let login = info.user_name.as_deref().unwrap_or(crate::auth::GUEST);
        let passcode = info.password.as_deref().unwrap_or(crate::auth::GUEST);
        let users = &self.ctx.users;
        let user = match (&self.tls, info.user_name.as_deref()) {
            (
                Some(TlsInfo {
                    peer_cert_login: Some(cn),
                    ..
                }),
                None,
            ) => users.authenticate_certificate(cn, self.peer.ip()),
            _ => users.authenticate(login, passcode, self.peer.ip()),
        }
        .map_err(|e| refuse(class::SECURITY, e.to_string()))?;
        user.check_vhost(VHOST)
            .map_err(|denied| refuse(class::SECURITY, denied.to_string()))?;
        let client_id = info.client_id.unwrap_or_else(|| connection_id.clone());
        let conn = self.ctx.broker.next_connection_id();
        let registration = self
            .ctx
            .broker
            .connections()
            .register(ConnectionMeta {
                id: conn,
                protocol: "openwire",
                peer: self.peer,
                user: user.name.clone(),
                vhost: vhost.name.clone(),
                client: Some(client_id.clone()),
                tls: self.tls.is_some(),
            })
            .map_err(|e| refuse(class::JMS, e.to_string()))?;
        self.ctx
            .registry
            .register(
                &connection_id,
                &client_id,
                self.generation,
                self.kill.clone(),
            )
            .map_err(|e| {
                refuse(
                    class::INVALID_CLIENT_ID,
                    format!("Broker: mqbridge - Client: {} already connected", e.0),
                )
            })?;
        self.conn = conn;
        self.registration = Some(registration);
        self.vhost = Some(vhost);
        self.user = Some(user.clone());
        self.connection_id = Some(connection_id.clone());
        self.client_id = client_id;
        tracing::info!(connection = self.conn, user = %user.name, connection_id = %connection_id, client_id = %self.client_id, "OpenWire connection opened.");
        Ok(Reply::Now)
    }

    // ----- producers and sends -----

    fn on_producer_info(&mut self, info: ProducerInfo) -> R<Reply> {
        if let Some(dest) = &info.destination {
            // A producer bound to a destination is refused when it is created, as
            // ActiveMQ's AuthorizationBroker refuses addProducer.
            self.check_send(dest)?;
            if dest.kind == DestinationKind::Queue {
                let vhost = self.vhost()?;
                for name in split_composite(dest.name()) {
                    self.declare_queue(&vhost, name)?;
                }
            }
        }
        if let Some(id) = info.producer_id {
            self.producers.insert(id, info.window_size);
        }
        Ok(Reply::Now)
    }

    fn on_message(&mut self, message: Box<WireMessage>, correlation: Option<i32>) -> R<Reply> {
        // A producer with a window (producerWindowSize) waits for ProducerAcks of its
        // asynchronous sends: the size is the client's own `Message.getSize()`.
        if correlation.is_none() {
            if let Some(id) = &message.producer_id {
                if self.producers.get(id).is_some_and(|w| *w > 0) {
                    let size = 1024
                        + message
                            .marshalled_properties
                            .as_ref()
                            .map_or(0, |p| p.len())
                        + message.content.as_ref().map_or(0, |c| c.len());
                    self.send(Command::ProducerAck(super::codec::ProducerAck {
                        producer_id: Some(id.clone()),
                        size: i32::try_from(size).unwrap_or(i32::MAX),
                        ..Default::default()
                    }));
                }
            }
        }
        if let Some(tx) = message.transaction_id.clone() {
            self.transactions
                .entry(tx)
                .or_default()
                .push(TxOp::Send(message));
            return Ok(Reply::Now);
        }
        let confirm = correlation.map(|id| {
            let out = self.out.clone();
            Box::new(move |ok: bool| {
                let reply = if ok {
                    response(id)
                } else {
                    exception_response(
                        id,
                        &refuse(
                            class::RESOURCE,
                            "the broker did not accept the message (queue full or store failure)",
                        ),
                    )
                };
                let _ = out.send(Outgoing::Command(reply));
            }) as Box<dyn FnOnce(bool) + Send>
        });
        self.publish(&message, confirm)?;
        Ok(Reply::Later)
    }

    /// Publish a JMS message to its destination(s); `confirm` runs once (true when every
    /// target accepted it).
    fn publish(
        &mut self,
        message: &WireMessage,
        confirm: Option<Box<dyn FnOnce(bool) + Send>>,
    ) -> R {
        let vhost = self.vhost()?;
        let dest = message.destination.clone().ok_or_else(|| {
            refuse(
                class::INVALID_DESTINATION,
                "a message without a destination",
            )
        })?;
        self.check_send(&dest)?;
        let targets = self.publish_targets(&vhost, &dest)?;
        self.publisher = true;
        let barrier = confirm.map(|cb| {
            self.pending.fetch_add(1, Ordering::AcqRel);
            let guard = PendingGuard(self.pending.clone());
            Barrier::new(Box::new(move |ok| {
                cb(ok);
                drop(guard);
            }))
        });
        let mut result = Ok(());
        // Decoded once, at the first target (as before, no targets decode nothing).
        let mut jms = None;
        for (exchange, key) in targets {
            let jms = match &mut jms {
                Some(j) => j,
                None => jms.insert(
                    super::jms::to_jms(message).map_err(|e| refuse(class::JMS, e.to_string()))?,
                ),
            };
            let core =
                crate::mapping::openwire::to_message(jms, &exchange, &key, crate::broker::now_ms())
                    .map_err(|e| refuse(class::JMS, e.to_string()))?;
            let (size, max) = (core.body.len() as u64, self.ctx.max_message_size);
            if size > max {
                result = Err(Refusal::from(crate::error::Error::precondition_failed(
                    format!("message size {size} is larger than configured max size {max}"),
                )));
                break;
            }
            let cb = barrier.as_ref().map(Barrier::expect);
            if let Err(e) = vhost.publish(core, false, cb) {
                result = Err(Refusal::from(e));
                break;
            }
        }
        // A refused send is answered once, with the refusal's own ExceptionResponse (by
        // `handle`); the barrier's generic "did not accept" would be a second answer.
        if let Some(b) = barrier {
            match result {
                Ok(()) => b.release(true),
                Err(_) => b.abandon(),
            }
        }
        result
    }

    /// Write on the exchange(s) a send to `dest` goes through: `amq.default` for queues,
    /// `amq.topic` for topics.
    fn check_send(&self, dest: &Destination) -> R {
        let exchange = match dest.kind {
            DestinationKind::Queue | DestinationKind::TempQueue => "",
            DestinationKind::Topic | DestinationKind::TempTopic => TOPIC_EXCHANGE,
        };
        self.check(
            Access::Write,
            Resource::exchange(exchange),
            &dest.to_string(),
        )
    }

    /// Where a send to `dest` goes: (exchange, routing key) per target.
    fn publish_targets(&self, vhost: &Arc<VHost>, dest: &Destination) -> R<Vec<(String, String)>> {
        let mut targets = Vec::new();
        for name in split_composite(dest.name()) {
            match dest.kind {
                DestinationKind::Queue => {
                    self.declare_queue(vhost, name)?;
                    targets.push((String::new(), name.to_string()));
                }
                DestinationKind::TempQueue => {
                    if vhost.queue(name).is_none() {
                        return Err(refuse(
                            class::INVALID_DESTINATION,
                            format!("Cannot publish to a deleted Destination: temp-queue://{name}"),
                        ));
                    }
                    targets.push((String::new(), name.to_string()));
                }
                DestinationKind::Topic | DestinationKind::TempTopic => {
                    targets.push((TOPIC_EXCHANGE.to_string(), name.to_string()));
                }
            }
        }
        if targets.is_empty() {
            return Err(refuse(
                class::INVALID_DESTINATION,
                "an empty destination name",
            ));
        }
        Ok(targets)
    }

    /// The durable queue behind JMS queue `name` (ActiveMQ creates destinations on use).
    ///
    /// A plain durable queue, FIFO like ActiveMQ's default policy (`prioritizedMessages=false`):
    /// no `x-max-priority`, so an AMQP application that declares the same queue (durable, no
    /// arguments) shares it instead of getting 406 PRECONDITION_FAILED. A queue declared
    /// beforehand with `x-max-priority` (config topology, an AMQP client) orders by priority.
    fn declare_queue(&self, vhost: &Arc<VHost>, name: &str) -> R {
        if vhost.queue(name).is_some() {
            return Ok(());
        }
        self.check(
            Access::Configure,
            Resource::Queue(name),
            &format!("queue://{name}"),
        )?;
        let opts = QueueOptions {
            durable: true,
            ..QueueOptions::default()
        };
        vhost.queue_declare(name, opts, self.conn)?;
        Ok(())
    }

    // ----- consumers -----

    fn on_consumer_info(&mut self, info: ConsumerInfo) -> R<Reply> {
        let vhost = self.vhost()?;
        let id = info
            .consumer_id
            .clone()
            .ok_or_else(|| refuse(class::JMS, "ConsumerInfo without a ConsumerId"))?;
        if self.consumers.contains_key(&id) {
            // A failover replay of a consumer we already have.
            return Ok(Reply::Now);
        }
        let dest = info.destination.clone().ok_or_else(|| {
            refuse(
                class::INVALID_DESTINATION,
                "a consumer without a destination",
            )
        })?;
        let prefetch = u32::try_from(info.prefetch_size.max(0)).unwrap_or(0);
        let state = Arc::new(ConsumerState {
            id: id.clone(),
            destination: dest.clone(),
            prefetch,
            tracker: Mutex::new(Tracker::default()),
            pull_pending: AtomicBool::new(false),
            session: OnceLock::new(),
        });
        if dest.kind == DestinationKind::Topic && dest.name().starts_with(ADVISORY_PREFIX) {
            return self.add_advisory_consumer(id, &dest, state);
        }
        let selector = match info.selector.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Selector::parse(text).map_err(|e| {
                refuse(
                    class::INVALID_SELECTOR,
                    format!("invalid selector '{text}' at position {}: {e}", e.position),
                )
            })?),
        };
        let no_local = info
            .no_local
            .then(|| format!("{}:", self.connection_id.clone().unwrap_or_default()));
        let filter: Option<MessageFilter> = match (selector, no_local) {
            (None, None) => None,
            (selector, no_local) => Some(Arc::new(move |m: &Message| {
                if let Some(prefix) = &no_local {
                    let own = m
                        .properties
                        .message_id()
                        .as_ref()
                        .is_some_and(|id| id.as_str().starts_with(prefix.as_str()));
                    if own {
                        return false;
                    }
                }
                selector.as_ref().is_none_or(|s| s.matches(m))
            })),
        };
        let names: Vec<String> = split_composite(dest.name()).map(str::to_owned).collect();
        let (queue, own_queue, durable_queue) = match dest.kind {
            DestinationKind::Queue | DestinationKind::TempQueue => {
                let [name] = names.as_slice() else {
                    return Err(refuse(
                        class::INVALID_DESTINATION,
                        "consuming a composite queue destination is not supported",
                    ));
                };
                if dest.kind == DestinationKind::Queue {
                    self.check(
                        Access::Read,
                        Resource::Queue(name),
                        &format!("queue://{name}"),
                    )?;
                    self.declare_queue(&vhost, name)?;
                } else {
                    let mine = self.connection_id.as_deref();
                    match self.ctx.registry.temp(TempKind::Queue, name) {
                        Some(t) if Some(t.owner.as_str()) == mine && vhost.queue(name).is_some() => {}
                        Some(_) => {
                            return Err(refuse(
                                class::INVALID_DESTINATION,
                                format!("Cannot consume from temp-queue://{name}: it belongs to another connection"),
                            ))
                        }
                        None => {
                            return Err(refuse(
                                class::INVALID_DESTINATION,
                                format!("temp-queue://{name} does not exist"),
                            ))
                        }
                    }
                }
                (name.clone(), false, None)
            }
            DestinationKind::Topic | DestinationKind::TempTopic => {
                let subscription = info.subscription_name.clone().filter(|s| !s.is_empty());
                let (q, durable) = self.subscriber_queue(&vhost, &names, subscription, &info)?;
                (q, true, durable)
            }
        };
        if info.browser {
            return self.browse(id, state, &vhost, &queue, filter);
        }
        let sink = Arc::new(ConsumerSink {
            state: state.clone(),
            out: self.out.clone(),
        });
        let session = Session::new(vhost.clone(), self.conn, sink);
        let _ = state.session.set(Arc::downgrade(&session));
        if let Some(registration) = &self.registration {
            self.sessions_opened += 1;
            registration.session_opened(self.sessions_opened, &session);
        }
        if prefetch == 0 {
            session.qos(1, true);
            session.set_flow(false);
        } else {
            session.qos(u16::try_from(prefetch).unwrap_or(u16::MAX), true);
        }
        // JMS exclusive consumers wait their turn instead of being refused (ActiveMQ): the
        // first gets everything; the next one starts when it goes.
        let exclusive_queue = (info.exclusive && !own_queue).then(|| queue.clone());
        if let Some(q) = &exclusive_queue {
            if !self.ctx.registry.exclusive_join(q, &state) {
                session.set_flow(false);
            }
        }
        let tag = crate::message::short_string(&id.to_string())
            .map(|_| id.to_string())
            .unwrap_or_default();
        let opts = ConsumeOptions {
            tag,
            no_ack: false,
            exclusive: false,
            discard_unmatched: own_queue && filter.is_some(),
            filter,
            ..ConsumeOptions::default()
        };
        if let Err(e) = session.consume(&queue, opts) {
            session.close();
            if let Some(q) = &exclusive_queue {
                self.ctx.registry.exclusive_leave(q, &state);
            }
            if own_queue && durable_queue.is_none() {
                let _ = vhost.queue_delete(&queue, false, false, self.conn);
            }
            return Err(e.into());
        }
        self.consumers.insert(
            id,
            Consumer {
                state,
                session: Some(session),
                durable_queue,
                exclusive_queue,
            },
        );
        Ok(Reply::Now)
    }

    /// The queue of a topic subscriber: its own exclusive auto-delete one, or the durable
    /// `C:S` one of a durable subscription. Bound to `amq.topic` with each topic's key.
    fn subscriber_queue(
        &mut self,
        vhost: &Arc<VHost>,
        topics: &[String],
        subscription: Option<String>,
        info: &ConsumerInfo,
    ) -> R<(String, Option<String>)> {
        for topic in topics {
            self.check(
                Access::Read,
                Resource::exchange(TOPIC_EXCHANGE),
                &format!("topic://{topic}"),
            )?;
        }
        let (name, opts, durable) = match subscription {
            Some(sub) => {
                let client_id = info.client_id.as_deref().unwrap_or(&self.client_id);
                let name = durable_subscription_queue(client_id, &sub);
                // The durable subscription's queue is a named, lasting resource: created
                // (configure), bound as destination (write) and consumed (read).
                let shown = format!("topic://{}", topics.join(","));
                if vhost.queue(&name).is_none() {
                    self.check(Access::Configure, Resource::Queue(&name), &shown)?;
                }
                self.check(Access::Write, Resource::Queue(&name), &shown)?;
                self.check(Access::Read, Resource::Queue(&name), &shown)?;
                if let Some(existing) = self
                    .consumers
                    .values()
                    .find(|c| c.durable_queue.as_deref() == Some(name.as_str()))
                {
                    let _ = existing;
                    return Err(refuse(
                        class::JMS,
                        format!("durable subscription '{sub}' of client '{client_id}' is already active"),
                    ));
                }
                let opts = QueueOptions {
                    durable: true,
                    ..QueueOptions::default()
                };
                (name.clone(), opts, Some(name))
            }
            None => {
                let opts = QueueOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueOptions::default()
                };
                (String::new(), opts, None)
            }
        };
        let q = vhost.queue_declare(&name, opts, self.conn)?;
        for topic in topics {
            // `>` matches zero or more words, as ActiveMQ's (`a.>` also gets what is sent to `a`).
            let key = crate::mapping::destination::jms_topic_to_amqp(topic);
            if let Err(e) = vhost.queue_bind(
                &q.name,
                TOPIC_EXCHANGE,
                &key,
                &Default::default(),
                self.conn,
            ) {
                if durable.is_none() {
                    let _ = vhost.queue_delete(&q.name, false, false, self.conn);
                }
                return Err(e.into());
            }
        }
        Ok((q.name, durable))
    }

    /// A queue browser: dispatch copies of what the queue holds now (left in place, not
    /// delivered), then the null-message dispatch (end of browse).
    fn browse(
        &mut self,
        id: ConsumerId,
        state: Arc<ConsumerState>,
        vhost: &Arc<VHost>,
        queue: &str,
        filter: Option<MessageFilter>,
    ) -> R<Reply> {
        let q = vhost.queue_for(queue, self.conn)?;
        let mut tag = 0u64;
        // With a selector, look further than MAX_BROWSE messages, but not without bound
        // (the snapshot is taken under the queue lock).
        let scan = if filter.is_some() {
            10 * MAX_BROWSE
        } else {
            MAX_BROWSE
        };
        for (message, redelivered) in q.browse(scan as usize) {
            if filter.as_ref().is_some_and(|f| !f(&message)) {
                continue;
            }
            tag += 1;
            let delivery = crate::broker::session::Delivery {
                consumer_tag: Arc::from(""),
                delivery_tag: tag,
                redelivered,
                message,
            };
            let _ = self.out.send(Outgoing::Deliver(delivery, state.clone()));
            if tag >= MAX_BROWSE {
                break;
            }
        }
        self.send(null_dispatch(&state));
        self.consumers.insert(
            id,
            Consumer {
                state,
                session: None,
                durable_queue: None,
                exclusive_queue: None,
            },
        );
        Ok(Reply::Now)
    }

    fn add_advisory_consumer(
        &mut self,
        id: ConsumerId,
        dest: &Destination,
        state: Arc<ConsumerState>,
    ) -> R<Reply> {
        let name = dest.name();
        let queues = name.contains("TempQueue") || name.contains("TempDestination");
        let topics = name.contains("TempTopic") || name.contains("TempDestination");
        // Answer first: the replay below goes out after the Response.
        let existing = self.ctx.registry.add_advisory(AdvisoryConsumer {
            generation: self.generation,
            state: state.clone(),
            out: self.out.clone(),
            queues,
            topics,
        });
        self.consumers.insert(
            id,
            Consumer {
                state: state.clone(),
                session: None,
                durable_queue: None,
                exclusive_queue: None,
            },
        );
        for (name, temp) in existing {
            let advisory = self.advisory(&state, &name, &temp, true);
            let _ = self.out.send(Outgoing::Command(advisory));
        }
        Ok(Reply::Now)
    }

    /// The advisory MessageDispatch announcing that `name` was added or removed.
    fn advisory(
        &self,
        state: &ConsumerState,
        name: &str,
        temp: &TempDestination,
        add: bool,
    ) -> Command {
        advisory_dispatch(&self.ctx, state, name, temp, add)
    }

    // ----- acks -----

    fn on_ack(&mut self, ack: MessageAck) -> R<Reply> {
        if let Some(tx) = ack.transaction_id.clone() {
            // Acked inside a transaction: does not count against the prefetch any more.
            if let Some(c) = ack
                .consumer_id
                .as_ref()
                .and_then(|id| self.consumers.get(id))
            {
                let last = tag_of(ack.last_message_id.as_ref());
                {
                    let mut t = c.state.tracker.lock();
                    t.delivered_upto = t.delivered_upto.max(last);
                }
                c.state.refresh_window();
            }
            self.transactions
                .entry(tx)
                .or_default()
                .push(TxOp::Ack(ack));
            return Ok(Reply::Now);
        }
        self.settle(&ack)?;
        Ok(Reply::Now)
    }

    /// Apply one MessageAck to its consumer's broker session.
    fn settle(&self, ack: &MessageAck) -> R {
        let Some(consumer) = ack
            .consumer_id
            .as_ref()
            .and_then(|id| self.consumers.get(id))
        else {
            // Acks for a consumer already closed (its messages went back to the queue).
            return Ok(());
        };
        let Some(session) = &consumer.session else {
            return Ok(()); // advisory or browser: nothing to settle
        };
        let state = &consumer.state;
        let last = tag_of(ack.last_message_id.as_ref());
        let first = ack
            .first_message_id
            .as_ref()
            .map_or(last, |m| tag_of(Some(m)));
        match ack.ack_type {
            // DELIVERED: widen the window only.
            0 => {
                let mut t = state.tracker.lock();
                t.delivered_upto = t.delivered_upto.max(last);
                drop(t);
                state.refresh_window();
                return Ok(());
            }
            // REDELIVERED: the client redelivers locally; nothing to remove.
            3 => return Ok(()),
            _ => {}
        }
        let tags = {
            let mut t = state.tracker.lock();
            let tags = if ack.ack_type == 4 {
                if t.outstanding.contains(&last) {
                    vec![last]
                } else {
                    Vec::new()
                }
            } else {
                t.in_range(first, last)
            };
            for tag in &tags {
                t.outstanding.remove(tag);
            }
            tags
        };
        for tag in tags {
            let result = if ack.ack_type == 1 {
                // POISON: reject, no requeue (dead-letter exchange if the queue has one).
                session.nack(tag, false, false)
            } else {
                session.ack(tag, false)
            };
            if let Err(e) = result {
                tracing::debug!(tag, error = %e, "OpenWire ack for an unknown delivery.");
            }
        }
        state.refresh_window();
        Ok(())
    }

    // ----- pulls (prefetch 0) -----

    fn on_pull(&mut self, pull: MessagePull) -> R<Reply> {
        let Some(consumer) = pull
            .consumer_id
            .as_ref()
            .and_then(|id| self.consumers.get(id))
        else {
            return Ok(Reply::Now);
        };
        let state = consumer.state.clone();
        if state.prefetch != 0 || consumer.session.is_none() {
            return Ok(Reply::Now);
        }
        state.open_pull();
        match pull.timeout {
            t if t < 0 => {
                if state.close_pull() {
                    self.send(null_dispatch(&state));
                }
            }
            0 => {}
            t => {
                let out = self.out.clone();
                let ms = u64::try_from(t).unwrap_or(u64::MAX).min(24 * 3600 * 1000);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    if state.close_pull() {
                        let _ = out.send(Outgoing::Command(null_dispatch(&state)));
                    }
                });
            }
        }
        Ok(Reply::Now)
    }

    // ----- transactions -----

    fn on_transaction(&mut self, info: TransactionInfo, correlation: Option<i32>) -> R<Reply> {
        let tx = info
            .transaction_id
            .clone()
            .ok_or_else(|| refuse(class::JMS, "TransactionInfo without a transaction id"))?;
        if matches!(tx, TransactionId::Xa(_)) {
            return Err(refuse(class::JMS, "XA transactions are not supported"));
        }
        match info.kind {
            // BEGIN
            0 => {
                self.transactions.entry(tx).or_default();
                Ok(Reply::Now)
            }
            // COMMIT_ONE_PHASE (2) / COMMIT_TWO_PHASE (3)
            2 | 3 => {
                let ops = self.transactions.remove(&tx).unwrap_or_default();
                self.commit(ops, correlation)
            }
            // ROLLBACK: discard; the client redelivers what it had received.
            4 => {
                self.transactions.remove(&tx);
                Ok(Reply::Now)
            }
            // END / FORGET
            6 | 7 => Ok(Reply::Now),
            other => Err(refuse(
                class::JMS,
                format!("transaction operation {other} is not supported (local transactions only)"),
            )),
        }
    }

    /// Apply a transaction's sends and acks in order; the Response waits until every
    /// persistent message is durable.
    fn commit(&mut self, ops: Vec<TxOp>, correlation: Option<i32>) -> R<Reply> {
        let barrier = correlation.map(|id| {
            let out = self.out.clone();
            Barrier::new(Box::new(move |ok| {
                let reply = if ok {
                    response(id)
                } else {
                    exception_response(
                        id,
                        &refuse(
                            class::TX_ROLLED_BACK,
                            "a message of the transaction was not accepted",
                        ),
                    )
                };
                let _ = out.send(Outgoing::Command(reply));
            }))
        });
        let mut result = Ok(());
        for op in ops {
            let step = match op {
                TxOp::Send(message) => {
                    let cb = barrier.as_ref().map(Barrier::expect);
                    self.publish(&message, cb)
                }
                TxOp::Ack(ack) => self.settle(&ack),
            };
            if let Err(e) = step {
                result = Err(e);
                break;
            }
        }
        match (barrier, result) {
            (Some(b), Ok(())) => {
                b.release(true);
                Ok(Reply::Later)
            }
            (Some(b), Err(e)) => {
                // The barrier would answer too: mark it failed without a second reply.
                b.abandon();
                Err(e)
            }
            (None, r) => r.map(|()| Reply::Now),
        }
    }

    // ----- temporary destinations -----

    fn on_destination_info(&mut self, info: DestinationInfo) -> R<Reply> {
        let vhost = self.vhost()?;
        let dest = info.destination.clone().ok_or_else(|| {
            refuse(
                class::INVALID_DESTINATION,
                "DestinationInfo without a destination",
            )
        })?;
        let name = dest.name().to_string();
        if name.is_empty() {
            return Err(refuse(
                class::INVALID_DESTINATION,
                "an empty destination name",
            ));
        }
        let kind = match dest.kind {
            DestinationKind::TempQueue => TempKind::Queue,
            DestinationKind::TempTopic => TempKind::Topic,
            DestinationKind::Queue => {
                if info.operation_type == 0 {
                    self.declare_queue(&vhost, &name)?;
                } else {
                    vhost.queue_delete(&name, false, false, self.conn)?;
                }
                return Ok(Reply::Now);
            }
            DestinationKind::Topic => return Ok(Reply::Now),
        };
        match info.operation_type {
            0 => {
                // Not an AMQP-exclusive queue: its owner is the registry's (a failover
                // reconnect replaying this ADD takes the queue over from the evicted
                // connection, whose cleanup then leaves it alone).
                if kind == TempKind::Queue && vhost.queue(&name).is_none() {
                    vhost.queue_declare(&name, QueueOptions::default(), self.conn)?;
                }
                let temp = TempDestination {
                    kind,
                    owner: self.connection_id.clone().unwrap_or_default(),
                    generation: self.generation,
                };
                self.ctx.registry.add_temp(&name, temp.clone());
                self.announce(&name, &temp, true);
            }
            1 => {
                let mine = self.connection_id.as_deref();
                if let Some(t) = self.ctx.registry.temp(kind, &name) {
                    if Some(t.owner.as_str()) != mine {
                        return Err(refuse(
                            class::INVALID_DESTINATION,
                            format!("{name} is a temporary destination of another connection"),
                        ));
                    }
                }
                if kind == TempKind::Queue {
                    if self.consumers.values().any(|c| {
                        c.state.destination.kind == DestinationKind::TempQueue
                            && c.state.destination.name() == name
                    }) {
                        return Err(refuse(
                            class::ILLEGAL_STATE,
                            format!("temp-queue://{name} is in use"),
                        ));
                    }
                    vhost.queue_delete(&name, false, false, self.conn)?;
                }
                if let Some(temp) = self.ctx.registry.remove_temp(kind, &name) {
                    self.announce(&name, &temp, false);
                }
            }
            other => {
                return Err(refuse(
                    class::JMS,
                    format!("unknown DestinationInfo operation {other}"),
                ))
            }
        }
        Ok(Reply::Now)
    }

    /// Tell every advisory consumer about a temporary destination.
    fn announce(&self, name: &str, temp: &TempDestination, add: bool) {
        for a in self.ctx.registry.advisories(temp.kind) {
            let command = advisory_dispatch(&self.ctx, &a.state, name, temp, add);
            let _ = a.out.send(Outgoing::Command(command));
        }
    }

    // ----- removal -----

    fn on_remove(&mut self, info: RemoveInfo) -> R<Reply> {
        use super::codec::DataStructure;
        match info.object_id {
            Some(DataStructure::ConsumerId(id)) => {
                self.close_consumer(&id);
            }
            Some(DataStructure::ProducerId(id)) => {
                self.producers.remove(&id);
            }
            Some(DataStructure::SessionId(id)) => {
                let ids: Vec<ConsumerId> = self
                    .consumers
                    .keys()
                    .filter(|c| c.session_id == id.value && c.connection_id == id.connection_id)
                    .cloned()
                    .collect();
                for c in ids {
                    self.close_consumer(&c);
                }
                self.producers.retain(|p, _| {
                    !(p.session_id == id.value && p.connection_id == id.connection_id)
                });
            }
            Some(DataStructure::ConnectionId(_)) => {
                self.close_consumers();
                self.transactions.clear();
            }
            _ => {}
        }
        Ok(Reply::Now)
    }

    fn close_consumer(&mut self, id: &ConsumerId) {
        if let Some(c) = self.consumers.remove(id) {
            if let Some(s) = &c.session {
                // Unacked messages go back to the queue and come again with
                // redeliveryCounter + 1.
                s.close();
                if let Some(q) = &c.exclusive_queue {
                    if let Some(next) = self.ctx.registry.exclusive_leave(q, &c.state) {
                        if let Some(session) = next.session() {
                            if next.prefetch != 0 {
                                session.set_flow(true);
                            }
                        }
                    }
                }
            } else {
                self.ctx.registry.remove_advisory(&c.state);
            }
        }
    }

    fn close_consumers(&mut self) {
        let ids: Vec<ConsumerId> = self.consumers.keys().cloned().collect();
        for id in ids {
            self.close_consumer(&id);
        }
    }

    fn on_remove_subscription(&mut self, info: RemoveSubscriptionInfo) -> R<Reply> {
        let vhost = self.vhost()?;
        let sub = info.subscription_name.ok_or_else(|| {
            refuse(
                class::INVALID_DESTINATION,
                "RemoveSubscriptionInfo without a subscription name",
            )
        })?;
        let client_id = info.client_id.unwrap_or_else(|| self.client_id.clone());
        let queue = durable_subscription_queue(&client_id, &sub);
        if self
            .consumers
            .values()
            .any(|c| c.durable_queue.as_deref() == Some(queue.as_str()))
        {
            return Err(refuse(
                class::ILLEGAL_STATE,
                format!("durable subscription '{sub}' is in use: close its consumer first"),
            ));
        }
        if vhost.queue(&queue).is_none() {
            return Err(refuse(
                class::INVALID_DESTINATION,
                format!("no durable subscription '{sub}' for client '{client_id}'"),
            ));
        }
        self.check(
            Access::Configure,
            Resource::Queue(&queue),
            &format!("durable subscription '{sub}'"),
        )?;
        vhost.queue_delete(&queue, false, false, self.conn)?;
        Ok(Reply::Now)
    }

    /// The connection ended: close every consumer (requeueing unacked messages), drop the
    /// connection's temporary destinations (announcing it) and exclusive queues.
    pub fn close(&mut self) {
        self.close_consumers();
        if let Some(vhost) = &self.vhost {
            vhost.connection_closed(self.conn);
        }
        for (name, temp) in self.ctx.registry.temps_of(self.generation) {
            self.ctx.registry.remove_temp(temp.kind, &name);
            if let (TempKind::Queue, Some(vhost)) = (temp.kind, &self.vhost) {
                if let Err(e) = vhost.queue_delete(&name, false, false, self.conn) {
                    tracing::warn!(queue = %name, error = %e, "Deleting a temporary queue failed.");
                }
            }
            self.announce(&name, &temp, false);
        }
        if let Some(id) = &self.connection_id {
            self.ctx.registry.unregister(id, self.generation);
        }
        if self.vhost.is_some() {
            tracing::info!(connection = self.conn, "OpenWire connection closed.");
        }
    }
}

/// How a handled command is answered.
enum Reply {
    /// A Response now (if it asked for one).
    Now,
    /// Answered elsewhere (a confirm) or not at all.
    Later,
    Close,
}

/// The delivery tag a dispatched MessageId carries (its brokerSequenceId).
fn tag_of(id: Option<&MessageId>) -> u64 {
    id.map_or(0, |m| u64::try_from(m.broker_sequence_id).unwrap_or(0))
}

/// `a,b,c` → `a`, `b`, `c` (composite destinations), empty names skipped.
fn split_composite(name: &str) -> impl Iterator<Item = &str> {
    name.split(',').map(str::trim).filter(|n| !n.is_empty())
}

/// A MessageDispatch without a message: pull timeout or end of browse.
pub fn null_dispatch(state: &ConsumerState) -> Command {
    Command::MessageDispatch(MessageDispatch {
        consumer_id: Some(state.id.clone()),
        destination: Some(state.destination.clone()),
        message: None,
        redelivery_counter: 0,
        ..MessageDispatch::default()
    })
}

/// The advisory message about a temporary destination, as ActiveMQ sends it: an
/// ActiveMQMessage of type "Advisory" on `ActiveMQ.Advisory.TempQueue`/`TempTopic` whose
/// dataStructure is the DestinationInfo.
fn advisory_dispatch(
    ctx: &SessionContext,
    state: &ConsumerState,
    name: &str,
    temp: &TempDestination,
    add: bool,
) -> Command {
    let (topic, kind) = match temp.kind {
        TempKind::Queue => ("ActiveMQ.Advisory.TempQueue", DestinationKind::TempQueue),
        TempKind::Topic => ("ActiveMQ.Advisory.TempTopic", DestinationKind::TempTopic),
    };
    let seq = ctx.advisory_seq.fetch_add(1, Ordering::AcqRel) + 1;
    let producer = ProducerId {
        connection_id: Some(format!("{}-advisory", ctx.broker_id)),
        value: 1,
        session_id: 1,
    };
    let info = DestinationInfo {
        connection_id: Some(super::codec::ConnectionId::new(temp.owner.clone())),
        destination: Some(Destination::new(kind, name)),
        operation_type: if add { 0 } else { 1 },
        ..DestinationInfo::default()
    };
    let message = WireMessage {
        kind: super::codec::MessageKind::Message,
        producer_id: Some(producer.clone()),
        destination: Some(Destination::topic(topic)),
        message_id: Some(MessageId {
            text_view: None,
            producer_id: Some(producer),
            producer_sequence_id: i64::try_from(seq).unwrap_or(i64::MAX),
            broker_sequence_id: 0,
        }),
        persistent: false,
        priority: 0,
        jms_type: Some("Advisory".to_string()),
        timestamp: i64::try_from(crate::broker::now_ms()).unwrap_or(0),
        data_structure: Some(super::codec::DataStructure::Command(Box::new(
            Command::DestinationInfo(info),
        ))),
        ..WireMessage::default()
    };
    Command::MessageDispatch(MessageDispatch {
        consumer_id: Some(state.id.clone()),
        destination: Some(Destination::topic(topic)),
        message: Some(Box::new(message)),
        redelivery_counter: 0,
        ..MessageDispatch::default()
    })
}

type Done = Box<dyn FnOnce(bool) + Send>;

/// Runs `done(all ok)` once every expected confirm (and the release) has reported.
struct Barrier {
    inner: Arc<BarrierInner>,
}

struct BarrierInner {
    remaining: AtomicUsize,
    failed: AtomicBool,
    done: Mutex<Option<Done>>,
}

impl Barrier {
    fn new(done: Box<dyn FnOnce(bool) + Send>) -> Barrier {
        Barrier {
            inner: Arc::new(BarrierInner {
                remaining: AtomicUsize::new(1),
                failed: AtomicBool::new(false),
                done: Mutex::new(Some(done)),
            }),
        }
    }

    fn expect(&self) -> Box<dyn FnOnce(bool) + Send> {
        self.inner.remaining.fetch_add(1, Ordering::AcqRel);
        let inner = self.inner.clone();
        Box::new(move |ok| BarrierInner::report(&inner, ok))
    }

    fn release(self, ok: bool) {
        BarrierInner::report(&self.inner, ok);
    }

    /// Never call `done` (the caller answers itself).
    fn abandon(self) {
        self.inner.done.lock().take();
    }
}

impl BarrierInner {
    fn report(me: &Arc<BarrierInner>, ok: bool) {
        if !ok {
            me.failed.store(true, Ordering::Release);
        }
        if me.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if let Some(done) = me.done.lock().take() {
                done(!me.failed.load(Ordering::Acquire));
            }
        }
    }
}
