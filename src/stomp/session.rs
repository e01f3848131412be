//! One STOMP connection's state machine: `handle_frame(frame) -> Next`, no sockets.
//!
//! Everything the session sends goes to the writer's channel ([`Outgoing`]), in order:
//! replies written here, MESSAGEs pushed by the broker through each subscription's sink,
//! and RECEIPTs for persistent SENDs written by the publish confirm (after the store made
//! the message durable). The listener (`listener.rs`) owns the socket, heart-beat timers
//! and shutdown, and acts on the returned [`Next`].
//!
//! Any refused or malformed frame gets an ERROR frame (`message` header, details in the
//! body, `receipt-id` when the frame asked for a receipt) and the connection closes, as
//! the spec requires.
//!
//! Destinations follow DESIGN.md §4 and RabbitMQ's STOMP plugin; the SUBSCRIBE side lives
//! in `subscribe.rs`. Each frame is checked against the user's permissions on the AMQP
//! resources it touches (docs/permissions.md): a refusal is ERROR `access_refused` with
//! RabbitMQ's text, a SEND above `limits.max_message_size` ERROR `precondition_failed`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::codec::Version;
use super::frame::Frame;
use super::subscription::{parse_ack_id, AckMode, Subscription};
use super::writer::Outgoing;
use crate::auth::{Access, AuthenticatedUser, Resource, Users};
use crate::broker::connections::{ConnectionGuard, ConnectionMeta};
use crate::broker::session::ConsumeOptions;
use crate::broker::vhost::{QueueOptions, VHost};
use crate::broker::{now_ms, Broker, ConnectionId};
use crate::mapping::destination::{parse_stomp, publish_target, StompDestination};
use crate::mapping::stomp::QUEUE_ARGUMENT_HEADERS;
use crate::message::{AMQPValue, FieldTable, LongString};
use crate::tls::TlsInfo;

/// Heart-beat intervals below this are raised to it (ms).
pub const MIN_HEARTBEAT_MS: u64 = 100;
/// The versions we speak, as the `version` header of a version ERROR lists them.
pub const SUPPORTED_VERSIONS: &str = "1.0,1.1,1.2";

/// What every connection of one listener shares.
#[derive(Debug)]
pub struct SessionContext {
    pub broker: Arc<Broker>,
    pub users: Arc<Users>,
    /// The largest SEND body accepted (`limits.max_message_size`).
    pub max_message_size: u64,
}

/// What the listener does after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// CONNECTED was sent: switch the codec to `version`; expect client traffic at least
    /// every `expect` (zero: no heart-beats expected).
    Connected {
        version: Version,
        send: Duration,
        expect: Duration,
    },
    /// An ERROR was sent: close once it is written.
    Close,
    /// DISCONNECT: send this RECEIPT once pending confirms are done, then close.
    Disconnect(Option<String>),
}

/// A refusal: the ERROR frame's `message` and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub details: String,
}

pub(crate) fn refuse(message: impl Into<String>, details: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        details: details.into(),
    }
}

impl From<crate::error::Error> for Refusal {
    fn from(e: crate::error::Error) -> Self {
        refuse(e.code.name().to_ascii_lowercase(), e.reply_text())
    }
}

pub(crate) type R<T = ()> = Result<T, Refusal>;

/// A frame held back by a transaction until COMMIT.
#[derive(Debug)]
enum TxOp {
    Send(Frame),
    Ack(Frame, bool),
}

/// The connection's state.
#[derive(Debug)]
pub struct StompSession {
    pub(crate) ctx: Arc<SessionContext>,
    peer: SocketAddr,
    pub(crate) out: UnboundedSender<Outgoing>,
    pub(crate) version: Version,
    pub(crate) vhost: Option<Arc<VHost>>,
    /// Who logged in (set with `vhost` by CONNECT).
    pub(crate) user: Option<AuthenticatedUser>,
    pub(crate) conn: ConnectionId,
    pub(crate) client_id: String,
    pub(crate) subscriptions: HashMap<String, Subscription>,
    /// Client name `N` of `/temp-queue/N` → the real queue.
    pub(crate) temp_queues: HashMap<String, String>,
    transactions: HashMap<String, Vec<TxOp>>,
    /// Publishes waiting for their confirm (a DISCONNECT receipt waits for them).
    pub pending: Arc<AtomicUsize>,
    /// This connection has sent: it stops being read while a resource alarm is up.
    pub publisher: bool,
    /// Its entry in the broker's connection list, from CONNECT on.
    pub(crate) registration: Option<ConnectionGuard>,
    /// Core sessions (one per subscription) opened so far, to number them in that list.
    pub(crate) sessions_opened: u32,
    /// Set on a TLS listener. The user a verified client certificate names
    /// (`peer_cert_login`) logs in a CONNECT without `login` (RabbitMQ's STOMP
    /// `ssl_cert_login`).
    pub tls: Option<TlsInfo>,
}

/// Decrements the pending-confirm count when dropped, whether or not the confirm ran.
struct PendingGuard(Arc<AtomicUsize>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl StompSession {
    pub fn new(ctx: Arc<SessionContext>, peer: SocketAddr, out: UnboundedSender<Outgoing>) -> Self {
        StompSession {
            ctx,
            peer,
            out,
            version: Version::V1_0,
            vhost: None,
            user: None,
            conn: 0,
            client_id: String::new(),
            subscriptions: HashMap::new(),
            temp_queues: HashMap::new(),
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

    pub(crate) fn send(&self, frame: Frame) {
        let _ = self.out.send(Outgoing::Frame(frame));
    }

    pub(crate) fn vhost(&self) -> R<Arc<VHost>> {
        self.vhost
            .clone()
            .ok_or_else(|| refuse("not connected", "send CONNECT or STOMP first"))
    }

    /// RabbitMQ's access check on the AMQP resource a frame touches; refused with an ERROR
    /// `access_refused` whose body is RabbitMQ's text, as its STOMP plugin answers.
    pub(crate) fn check(&self, access: Access, resource: Resource<'_>) -> R {
        let (Some(user), Some(vhost)) = (&self.user, &self.vhost) else {
            return Err(refuse("not connected", "send CONNECT or STOMP first"));
        };
        user.check(&vhost.name, access, resource)
            .map_err(|denied| crate::error::Error::access_refused(denied.to_string()).into())
    }

    /// Handle one frame from the client.
    pub fn handle_frame(&mut self, frame: Frame) -> Next {
        let receipt = frame.header("receipt").map(str::to_owned);
        let command = frame.command.clone();
        let result = if !self.is_connected() {
            match command.as_str() {
                "CONNECT" | "STOMP" => self.connect(&frame),
                other => Err(refuse(
                    "not connected",
                    format!("expected CONNECT or STOMP, got {other}"),
                )),
            }
        } else {
            self.dispatch(frame, receipt.clone())
        };
        match result {
            Ok(next) => next,
            Err(refusal) => {
                tracing::info!(command = %command, message = %refusal.message, details = %refusal.details, "STOMP frame refused.");
                let mut error = Frame::error(&refusal.message, &refusal.details);
                if let Some(r) = &receipt {
                    error.headers.push(("receipt-id".into(), r.clone()));
                }
                if !self.is_connected() {
                    error
                        .headers
                        .push(("version".into(), SUPPORTED_VERSIONS.into()));
                }
                self.send(error);
                Next::Close
            }
        }
    }

    fn dispatch(&mut self, frame: Frame, receipt: Option<String>) -> R<Next> {
        // RECEIPTs for SEND come from the publish confirm, for DISCONNECT from the listener.
        let immediate_receipt = !matches!(frame.command.as_str(), "SEND" | "DISCONNECT");
        match frame.command.as_str() {
            "SEND" => self.on_send(frame, receipt.clone())?,
            "SUBSCRIBE" => self.subscribe(&frame)?,
            "UNSUBSCRIBE" => self.unsubscribe(&frame)?,
            "ACK" => self.on_ack(frame, true)?,
            "NACK" => self.on_ack(frame, false)?,
            "BEGIN" => {
                let tx = self.transaction_header(&frame)?;
                if self.transactions.contains_key(&tx) {
                    return Err(refuse(
                        "bad transaction",
                        format!("transaction '{tx}' is already open"),
                    ));
                }
                self.transactions.insert(tx, Vec::new());
            }
            "COMMIT" => {
                let ops = self.take_transaction(&frame)?;
                return self.commit(ops, receipt);
            }
            "ABORT" => {
                self.take_transaction(&frame)?;
            }
            "DISCONNECT" => return Ok(Next::Disconnect(receipt)),
            "CONNECT" | "STOMP" => {
                return Err(refuse(
                    "already connected",
                    "a second CONNECT on one connection",
                ))
            }
            other => {
                return Err(refuse(
                    "unknown command",
                    format!("'{other}' is not a STOMP client command"),
                ))
            }
        }
        if let (true, Some(r)) = (immediate_receipt, receipt) {
            self.send(Frame::receipt(&r));
        }
        Ok(Next::Continue)
    }

    // ----- CONNECT -----

    fn connect(&mut self, frame: &Frame) -> R<Next> {
        let version = match frame.header("accept-version") {
            None => Version::V1_0,
            Some(list) => list
                .split(',')
                .filter_map(Version::parse)
                .max()
                .ok_or_else(|| {
                    refuse(
                        "unsupported protocol version",
                        format!("supported protocol versions are {SUPPORTED_VERSIONS}; the client accepts {list}"),
                    )
                })?,
        };
        let host = frame.header("host").unwrap_or("/");
        let vhost = self.ctx.broker.vhost(host).ok_or_else(|| {
            refuse(
                "bad CONNECT",
                format!("virtual host '{host}' does not exist"),
            )
        })?;
        let login = frame.header("login").unwrap_or(crate::auth::GUEST);
        let passcode = frame.header("passcode").unwrap_or(crate::auth::GUEST);
        let by_certificate = match (&self.tls, frame.header("login")) {
            (
                Some(TlsInfo {
                    peer_cert_login: Some(cn),
                    ..
                }),
                None,
            ) => Some(cn.as_str()),
            _ => None,
        };
        let users = &self.ctx.users;
        let user = match by_certificate {
            Some(cn) => users.authenticate_certificate(cn, self.peer.ip()),
            None => users.authenticate(login, passcode, self.peer.ip()),
        }
        .map_err(|e| {
            tracing::info!(error = %e, "STOMP login refused.");
            refuse("access refused", e.to_string())
        })?;
        user.check_vhost(&vhost.name).map_err(|denied| {
            tracing::info!(error = %denied, "STOMP vhost refused.");
            refuse("access refused", denied.to_string())
        })?;
        let (cx, cy) = match frame.header("heart-beat") {
            None => (0, 0),
            Some(hb) => parse_heartbeat(hb).ok_or_else(|| {
                refuse("bad CONNECT", format!("invalid heart-beat header '{hb}'"))
            })?,
        };
        // We can send as often as asked and accept what the client offers (RabbitMQ does
        // the same), with a floor so a tiny value cannot flood either side.
        let send = if cy == 0 { 0 } else { cy.max(MIN_HEARTBEAT_MS) };
        let expect = if cx == 0 { 0 } else { cx.max(MIN_HEARTBEAT_MS) };
        self.conn = self.ctx.broker.next_connection_id();
        let registration = self
            .ctx
            .broker
            .connections()
            .register(ConnectionMeta {
                id: self.conn,
                protocol: "stomp",
                peer: self.peer,
                user: user.name.clone(),
                vhost: vhost.name.clone(),
                client: frame.header("client-id").map(str::to_string),
                tls: self.tls.is_some(),
            })
            .map_err(|e| refuse("connection refused", e.to_string()))?;
        self.registration = Some(registration);
        self.version = version;
        self.vhost = Some(vhost.clone());
        self.user = Some(user.clone());
        self.client_id = frame.header("client-id").unwrap_or_default().to_string();
        tracing::info!(connection = self.conn, user = %user.name, vhost = %vhost.name, version = version.as_str(), "STOMP connection opened.");
        let mut connected = Frame::new("CONNECTED")
            .with("server", concat!("mqbridge/", env!("CARGO_PKG_VERSION")))
            .with("session", format!("session-{}", self.conn))
            .with("heart-beat", format!("{send},{expect}"));
        if frame.has("accept-version") {
            connected = connected.with("version", version.as_str());
        }
        self.send(connected);
        let _ = self.out.send(Outgoing::Negotiated {
            version,
            heartbeat: Duration::from_millis(send),
        });
        Ok(Next::Connected {
            version,
            send: Duration::from_millis(send),
            expect: Duration::from_millis(expect),
        })
    }

    // ----- SEND -----

    fn on_send(&mut self, frame: Frame, receipt: Option<String>) -> R {
        if !frame.has("destination") {
            return Err(refuse(
                "missing destination",
                "a SEND frame needs a destination header",
            ));
        }
        if let Some(tx) = frame.header("transaction") {
            let ops = self
                .transactions
                .get_mut(tx)
                .ok_or_else(|| unknown_tx(tx))?;
            ops.push(TxOp::Send(frame));
            if let Some(r) = receipt {
                self.send(Frame::receipt(&r));
            }
            return Ok(());
        }
        let confirm = receipt.map(|r| {
            let out = self.out.clone();
            Box::new(move |ok: bool| {
                if ok {
                    let _ = out.send(Outgoing::Frame(Frame::receipt(&r)));
                } else {
                    let mut e = Frame::error(
                        "message refused",
                        "the broker did not accept the message (queue full or store failure)",
                    );
                    e.headers.push(("receipt-id".into(), r));
                    let _ = out.send(Outgoing::Frame(e));
                    let _ = out.send(Outgoing::Close);
                }
            }) as Box<dyn FnOnce(bool) + Send>
        });
        self.publish(&frame, confirm)
    }

    /// Publish a SEND frame's message; `confirm` runs once it is routed (and durable when
    /// persistent).
    fn publish(&mut self, frame: &Frame, confirm: Option<Box<dyn FnOnce(bool) + Send>>) -> R {
        let vhost = self.vhost()?;
        let max = self.ctx.max_message_size;
        let size = frame.body.len() as u64;
        if size > max {
            // RabbitMQ's STOMP plugin relays the 406 its channel gets for the same message.
            return Err(crate::error::Error::precondition_failed(format!(
                "message size {size} is larger than configured max size {max}"
            ))
            .into());
        }
        let raw = frame.header("destination").unwrap_or_default();
        let destination = parse_stomp(raw).map_err(|e| refuse("bad destination", e))?;
        // Checked before anything is declared: a refused SEND leaves nothing behind.
        let target = match &destination {
            StompDestination::Queue(_)
            | StompDestination::AmqQueue(_)
            | StompDestination::TempQueue(_) => String::new(),
            other => publish_target(other).0,
        };
        self.check(Access::Write, Resource::exchange(&target))?;
        let (exchange, routing_key) = match &destination {
            StompDestination::Queue(q) => {
                self.declare_named_queue(&vhost, q, &frame.headers)?;
                (String::new(), q.clone())
            }
            StompDestination::AmqQueue(q) => {
                vhost.queue_for(q, self.conn)?;
                (String::new(), q.clone())
            }
            StompDestination::TempQueue(n) => (String::new(), self.temp_queue(n, false)?),
            other => publish_target(other),
        };
        let mut headers = frame.headers.clone();
        self.rewrite_reply_to(&mut headers)?;
        let message = crate::mapping::stomp::to_message(
            &headers,
            frame.body.clone(),
            &exchange,
            &routing_key,
            now_ms(),
        )
        .map_err(|e| refuse("bad header", e.to_string()))?;
        self.publisher = true;
        let confirm = confirm.map(|cb| {
            self.pending.fetch_add(1, Ordering::AcqRel);
            let guard = PendingGuard(self.pending.clone());
            Box::new(move |ok: bool| {
                cb(ok);
                drop(guard);
            }) as Box<dyn FnOnce(bool) + Send>
        });
        vhost.publish(message, false, confirm)?;
        Ok(())
    }

    /// `reply-to: /temp-queue/N` becomes `/reply-queue/<real queue>` (the AMQP `reply_to`
    /// is then the real name), creating the queue and its implicit subscription.
    fn rewrite_reply_to(&mut self, headers: &mut [(String, String)]) -> R {
        let Some(slot) = headers.iter_mut().find(|(k, _)| k == "reply-to") else {
            return Ok(());
        };
        if let Ok(StompDestination::TempQueue(n)) = parse_stomp(&slot.1) {
            let real = self.temp_queue(&n, true)?;
            slot.1 = format!("/reply-queue/{real}");
        }
        Ok(())
    }

    /// Declare the durable queue of a `/queue/X` destination, as RabbitMQ's STOMP plugin
    /// does; an existing queue is only re-declared (checked) when `x-*` arguments are given.
    pub(crate) fn declare_named_queue(
        &self,
        vhost: &Arc<VHost>,
        name: &str,
        headers: &[(String, String)],
    ) -> R {
        let arguments = queue_arguments(headers)?;
        if vhost.queue(name).is_some() && arguments.inner().is_empty() {
            return Ok(());
        }
        self.check(Access::Configure, Resource::Queue(name))?;
        let opts = QueueOptions {
            durable: true,
            arguments,
            ..QueueOptions::default()
        };
        vhost.queue_declare(name, opts, self.conn)?;
        Ok(())
    }

    /// The real queue behind `/temp-queue/N`, declared on first use (exclusive to this
    /// connection). With `implicit`, MESSAGEs arriving on it are delivered to this
    /// connection as subscription `/temp-queue/N`, as RabbitMQ does for `reply-to`.
    pub(crate) fn temp_queue(&mut self, name: &str, implicit: bool) -> R<String> {
        let vhost = self.vhost()?;
        let real = match self.temp_queues.get(name) {
            Some(real) => real.clone(),
            None => {
                let opts = QueueOptions {
                    exclusive: true,
                    ..QueueOptions::default()
                };
                let info = vhost.queue_declare("", opts, self.conn)?;
                self.temp_queues.insert(name.to_string(), info.name.clone());
                info.name
            }
        };
        let consumed = self.subscriptions.values().any(|s| s.queue == real);
        if implicit && !consumed {
            let id = format!("/temp-queue/{name}");
            let consume = ConsumeOptions::default();
            self.start_subscription(&vhost, &id, &real, AckMode::Auto, 0, consume, None)?;
        }
        Ok(real)
    }

    // ----- ACK / NACK -----

    fn on_ack(&mut self, frame: Frame, ack: bool) -> R {
        if let Some(tx) = frame.header("transaction") {
            let tx = tx.to_string();
            self.ack_id(&frame)?;
            let ops = self
                .transactions
                .get_mut(&tx)
                .ok_or_else(|| unknown_tx(&tx))?;
            ops.push(TxOp::Ack(frame, ack));
            return Ok(());
        }
        self.settle(&frame, ack)
    }

    fn ack_id(&self, frame: &Frame) -> R<String> {
        let header = if self.version >= Version::V1_2 {
            "id"
        } else {
            "message-id"
        };
        frame
            .header(header)
            .or_else(|| frame.header("id"))
            .or_else(|| frame.header("message-id"))
            .map(str::to_owned)
            .ok_or_else(|| {
                refuse(
                    "missing ack id",
                    format!("{} needs an '{header}' header", frame.command),
                )
            })
    }

    fn settle(&mut self, frame: &Frame, ack: bool) -> R {
        let id = self.ack_id(frame)?;
        let unknown = || {
            refuse(
                "unknown ack id",
                format!("no unacknowledged message has ack id '{id}'"),
            )
        };
        let (sub_id, tag) = parse_ack_id(&id).ok_or_else(unknown)?;
        let sub = self.subscriptions.get(sub_id).ok_or_else(unknown)?;
        if sub.info.ack == AckMode::Auto
            || tag == 0
            || tag > sub.info.max_tag.load(Ordering::Acquire)
        {
            return Err(unknown());
        }
        let multiple = sub.info.ack == AckMode::Client;
        let result = if ack {
            sub.session.ack(tag, multiple)
        } else {
            let requeue = frame.header("requeue") != Some("false");
            sub.session.nack(tag, multiple, requeue)
        };
        result.map_err(|_| unknown())
    }

    // ----- transactions -----

    fn transaction_header(&self, frame: &Frame) -> R<String> {
        frame
            .header("transaction")
            .map(str::to_owned)
            .ok_or_else(|| {
                refuse(
                    "missing transaction",
                    format!("{} needs a transaction header", frame.command),
                )
            })
    }

    fn take_transaction(&mut self, frame: &Frame) -> R<Vec<TxOp>> {
        let tx = self.transaction_header(frame)?;
        self.transactions.remove(&tx).ok_or_else(|| unknown_tx(&tx))
    }

    /// Apply a transaction's frames in order. A COMMIT receipt waits for every persistent
    /// message in it to be durable.
    fn commit(&mut self, ops: Vec<TxOp>, receipt: Option<String>) -> R<Next> {
        let barrier = receipt.map(|r| Barrier::new(r, self.out.clone()));
        for op in ops {
            match op {
                TxOp::Send(frame) => {
                    let confirm = barrier.as_ref().map(Barrier::expect);
                    self.publish(&frame, confirm)?;
                }
                TxOp::Ack(frame, ack) => self.settle(&frame, ack)?,
            }
        }
        if let Some(b) = barrier {
            b.release(true);
        }
        Ok(Next::Continue)
    }

    /// The connection ended: close every subscription (requeueing unacked messages) and
    /// drop the connection's exclusive queues.
    pub fn close(&mut self) {
        for (_, sub) in self.subscriptions.drain() {
            sub.session.close();
        }
        if let Some(vhost) = &self.vhost {
            vhost.connection_closed(self.conn);
            tracing::info!(connection = self.conn, "STOMP connection closed.");
        }
    }
}

/// Sends one RECEIPT when every expected confirm (and the commit itself) succeeded.
struct Barrier {
    inner: Arc<BarrierInner>,
}

struct BarrierInner {
    remaining: AtomicUsize,
    failed: std::sync::atomic::AtomicBool,
    receipt: String,
    out: UnboundedSender<Outgoing>,
}

impl Barrier {
    fn new(receipt: String, out: UnboundedSender<Outgoing>) -> Barrier {
        Barrier {
            inner: Arc::new(BarrierInner {
                remaining: AtomicUsize::new(1),
                failed: std::sync::atomic::AtomicBool::new(false),
                receipt,
                out,
            }),
        }
    }

    fn expect(&self) -> Box<dyn FnOnce(bool) + Send> {
        self.inner.remaining.fetch_add(1, Ordering::AcqRel);
        let inner = self.inner.clone();
        Box::new(move |ok| BarrierInner::done(&inner, ok))
    }

    fn release(self, ok: bool) {
        BarrierInner::done(&self.inner, ok);
    }
}

impl BarrierInner {
    fn done(me: &Arc<BarrierInner>, ok: bool) {
        if !ok {
            me.failed.store(true, Ordering::Release);
        }
        if me.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if me.failed.load(Ordering::Acquire) {
                let mut e = Frame::error(
                    "transaction refused",
                    "a message of the transaction was not accepted",
                );
                e.headers.push(("receipt-id".into(), me.receipt.clone()));
                let _ = me.out.send(Outgoing::Frame(e));
                let _ = me.out.send(Outgoing::Close);
            } else {
                let _ = me.out.send(Outgoing::Frame(Frame::receipt(&me.receipt)));
            }
        }
    }
}

fn unknown_tx(tx: &str) -> Refusal {
    refuse(
        "bad transaction",
        format!("invalid transaction identifier '{tx}'"),
    )
}

/// `heart-beat: cx,cy` in ms.
pub fn parse_heartbeat(text: &str) -> Option<(u64, u64)> {
    let (a, b) = text.split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Queue arguments RabbitMQ takes from `x-*` SEND/SUBSCRIBE headers, typed as it types them.
pub(crate) fn queue_arguments(headers: &[(String, String)]) -> R<FieldTable> {
    const TEXT: [&str; 4] = [
        "x-overflow",
        "x-dead-letter-exchange",
        "x-dead-letter-routing-key",
        "x-queue-type",
    ];
    let mut table = FieldTable::default();
    for name in QUEUE_ARGUMENT_HEADERS {
        let Some((_, value)) = headers.iter().find(|(k, _)| k == name) else {
            continue;
        };
        let v = if TEXT.contains(name) || *name == "x-max-age" {
            AMQPValue::LongString(LongString::from(value.as_str()))
        } else {
            let n: i64 = value.trim().parse().map_err(|_| {
                refuse(
                    "bad queue argument",
                    format!("'{name}: {value}' must be an integer"),
                )
            })?;
            AMQPValue::LongLongInt(n)
        };
        table.insert((*name).into(), v);
    }
    Ok(table)
}
