//! One AMQP channel: its state machine, content assembly and method dispatch to the broker.
//!
//! A channel is `Open` until either side closes it. After an error we send `channel.close`
//! and the channel is `Closing`: every frame is dropped until the client's `close-ok`
//! (spec §2.2.4). Content (`basic.publish` → content header → body frames) is assembled
//! here; a frame out of that order is 505 UNEXPECTED_FRAME on the connection. Each channel
//! owns one broker [`Session`] (delivery tags, unacked messages, prefetch, consumers) and
//! the [`ChannelSink`] the session delivers through.
//!
//! Modes: plain; confirm (`confirm.select`: every publish gets a sequence number, see
//! `confirm.rs`); transactional (`tx.select`: publishes and acks are buffered until
//! `tx.commit`, dropped by `tx.rollback`). The two modes exclude each other (406), as in
//! RabbitMQ.

use std::sync::{Arc, Weak};

use amq_protocol::frame::AMQPContentHeader;
use amq_protocol::protocol::{
    basic, channel, confirm, exchange, queue, tx, AMQPClass, BasicProperties,
};
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

use super::confirm::Confirms;
use super::reply::short_lossy;
use super::writer::Outgoing;
use crate::broker::session::{ConsumeOptions, Delivery, DeliverySink, Session};
use crate::broker::vhost::{ExchangeOptions, QueueOptions, VHost};
use crate::broker::ConnectionId;
use crate::error::{Error, ReplyCode, Result};
use crate::message::Message;

/// Largest message body accepted (RabbitMQ's default `max_message_size`, 128 MiB).
pub const MAX_MESSAGE_SIZE: u64 = 128 * 1024 * 1024;
/// Bodies below this size are copied out of the read buffer (see `finish_publish`).
const SMALL_BODY: u64 = 4096;

/// An error with the method it answers (`channel.close`/`connection.close` name it).
#[derive(Debug, Clone)]
pub struct MethodError {
    pub error: Error,
    pub class_id: u16,
    pub method_id: u16,
}

impl MethodError {
    pub fn new(error: Error, class_id: u16, method_id: u16) -> Self {
        MethodError {
            error,
            class_id,
            method_id,
        }
    }
}

/// Forwards a session's deliveries to the connection's writer without blocking.
///
/// While a `basic.consume` is being processed the sink *holds* deliveries, so that
/// `consume-ok` reaches the client before the first `basic.deliver` (the broker may
/// dispatch inside `Session::consume`).
pub struct ChannelSink {
    channel: u16,
    out: UnboundedSender<Outgoing>,
    session: Mutex<Weak<Session>>,
    /// The client announced `consumer_cancel_notify`: tell it when the broker cancels.
    cancel_notify: bool,
    state: Mutex<SinkState>,
}

#[derive(Default)]
struct SinkState {
    holding: bool,
    held: Vec<Delivery>,
    closed: bool,
}

impl std::fmt::Debug for ChannelSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSink")
            .field("channel", &self.channel)
            .finish()
    }
}

impl ChannelSink {
    fn send_delivery(&self, delivery: Delivery) -> bool {
        let Some(session) = self.session.lock().upgrade() else {
            return false;
        };
        self.out
            .send(Outgoing::Deliver(self.channel, delivery, session))
            .is_ok()
    }

    fn hold(&self) {
        self.state.lock().holding = true;
    }

    fn release(&self) {
        let mut st = self.state.lock();
        st.holding = false;
        for d in std::mem::take(&mut st.held) {
            self.send_delivery(d);
        }
    }

    fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        st.held.clear();
    }
}

impl DeliverySink for ChannelSink {
    fn deliver(&self, delivery: Delivery) -> bool {
        let mut st = self.state.lock();
        if st.closed {
            return false;
        }
        if st.holding {
            st.held.push(delivery);
            return true;
        }
        self.send_delivery(delivery)
    }

    fn consumer_cancelled(&self, consumer_tag: &str) {
        if self.cancel_notify && !self.state.lock().closed {
            let cancel = basic::AMQPMethod::Cancel(basic::Cancel {
                consumer_tag: short_lossy(consumer_tag),
                nowait: true,
            });
            let _ = self.out.send(Outgoing::Method(
                self.channel,
                Box::new(AMQPClass::Basic(cancel)),
            ));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    Open,
    /// We sent `channel.close`; waiting for `close-ok`.
    Closing,
}

/// A publish waiting for its content header or body frames.
struct PendingContent {
    publish: basic::Publish,
    header: Option<(u64, BasicProperties)>,
    /// Body frames so far; a single frame stays a zero-copy slice.
    body: Vec<Bytes>,
    received: u64,
}

enum TxOp {
    Publish(Message, bool),
    Ack(u64, bool),
    Nack(u64, bool, bool),
}

enum Mode {
    Plain,
    Confirm(Arc<Confirms>),
    Tx(Vec<TxOp>),
}

/// One open channel.
pub struct Channel {
    pub id: u16,
    pub state: ChannelState,
    conn: ConnectionId,
    vhost: Arc<VHost>,
    session: Arc<Session>,
    sink: Arc<ChannelSink>,
    out: UnboundedSender<Outgoing>,
    content: Option<PendingContent>,
    mode: Mode,
    /// The last queue this channel declared: an empty queue name means it (spec).
    last_queue: Option<String>,
}

type Res = std::result::Result<(), MethodError>;

impl Channel {
    /// The core session behind this channel.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Open channel `id` (after `channel.open`) and send `open-ok`.
    pub fn open(
        id: u16,
        conn: ConnectionId,
        vhost: Arc<VHost>,
        out: UnboundedSender<Outgoing>,
        cancel_notify: bool,
    ) -> Channel {
        let sink = Arc::new(ChannelSink {
            channel: id,
            out: out.clone(),
            session: Mutex::new(Weak::new()),
            cancel_notify,
            state: Mutex::new(SinkState::default()),
        });
        let session = Session::new(vhost.clone(), conn, sink.clone());
        *sink.session.lock() = Arc::downgrade(&session);
        let channel = Channel {
            id,
            state: ChannelState::Open,
            conn,
            vhost,
            session,
            sink,
            out,
            content: None,
            mode: Mode::Plain,
            last_queue: None,
        };
        channel.reply(AMQPClass::Channel(channel::AMQPMethod::OpenOk(
            channel::OpenOk {},
        )));
        channel
    }

    /// Release everything the broker holds for this channel (requeue unacked, cancel consumers).
    pub fn release(&mut self) {
        self.sink.close();
        self.session.close();
        self.content = None;
        match &mut self.mode {
            Mode::Tx(ops) => ops.clear(),
            Mode::Confirm(confirms) => confirms.close(),
            Mode::Plain => {}
        }
    }

    /// Whether a publish is waiting for its content header or body.
    pub fn expects_content(&self) -> bool {
        self.content.is_some()
    }

    fn reply(&self, method: AMQPClass) {
        let _ = self.out.send(Outgoing::Method(self.id, Box::new(method)));
    }

    /// A method frame for this (open) channel. Channel and connection classes are handled
    /// by the connection; everything else lands here.
    pub fn handle_method(&mut self, method: AMQPClass) -> Res {
        let (class_id, method_id) = (method.get_amqp_class_id(), method.get_amqp_method_id());
        if self.content.is_some() {
            return Err(MethodError::new(
                Error::unexpected_frame(format!(
                    "expected content header or body for basic.publish, got method {class_id}.{method_id}"
                ))
                .on_connection(),
                class_id,
                method_id,
            ));
        }
        let at = |e: Error| MethodError::new(e, class_id, method_id);
        match method {
            AMQPClass::Basic(m) => self.basic(m).map_err(at),
            AMQPClass::Exchange(m) => self.exchange(m).map_err(at),
            AMQPClass::Queue(m) => self.queue(m).map_err(at),
            AMQPClass::Confirm(confirm::AMQPMethod::Select(sel)) => {
                if matches!(self.mode, Mode::Tx(_)) {
                    return Err(at(Error::precondition_failed(
                        "cannot switch from tx to confirm mode",
                    )));
                }
                if !matches!(self.mode, Mode::Confirm(_)) {
                    self.mode = Mode::Confirm(Confirms::new(self.id, self.out.clone()));
                }
                if !sel.nowait {
                    self.reply(AMQPClass::Confirm(confirm::AMQPMethod::SelectOk(
                        confirm::SelectOk {},
                    )));
                }
                Ok(())
            }
            AMQPClass::Tx(m) => self.tx(m).map_err(at),
            AMQPClass::Access(_) => {
                // access.request is deprecated; RabbitMQ answers it with request-ok.
                self.reply(AMQPClass::Access(
                    amq_protocol::protocol::access::AMQPMethod::RequestOk(
                        amq_protocol::protocol::access::RequestOk {},
                    ),
                ));
                Ok(())
            }
            other => Err(at(Error::command_invalid(format!(
                "method {}.{} is not valid from a client",
                other.get_amqp_class_id(),
                other.get_amqp_method_id()
            ))
            .on_connection())),
        }
    }

    /// A content header frame.
    pub fn handle_header(&mut self, header: AMQPContentHeader) -> Res {
        let publish_err = |e: Error| MethodError::new(e, 60, 40);
        let Some(pending) = self.content.as_mut().filter(|p| p.header.is_none()) else {
            return Err(publish_err(
                Error::unexpected_frame("content header without basic.publish").on_connection(),
            ));
        };
        if header.class_id != 60 {
            return Err(publish_err(
                Error::unexpected_frame(format!("content header for class {}", header.class_id))
                    .on_connection(),
            ));
        }
        if header.body_size > MAX_MESSAGE_SIZE {
            self.content = None;
            return Err(publish_err(Error::precondition_failed(format!(
                "message size {} is larger than configured max size {MAX_MESSAGE_SIZE}",
                header.body_size
            ))));
        }
        pending.header = Some((header.body_size, header.properties));
        if header.body_size == 0 {
            return self.finish_publish().map_err(publish_err);
        }
        Ok(())
    }

    /// A content body frame.
    pub fn handle_body(&mut self, body: Bytes) -> Res {
        let publish_err = |e: Error| MethodError::new(e, 60, 40);
        let Some(pending) = self.content.as_mut() else {
            return Err(publish_err(
                Error::unexpected_frame("content body without basic.publish").on_connection(),
            ));
        };
        let Some((size, _)) = &pending.header else {
            return Err(publish_err(
                Error::unexpected_frame("content body before the content header").on_connection(),
            ));
        };
        pending.received += body.len() as u64;
        if pending.received > *size {
            return Err(publish_err(
                Error::frame_error(format!(
                    "content body of {} bytes exceeds the announced {size}",
                    pending.received
                ))
                .on_connection(),
            ));
        }
        let done = pending.received == *size;
        pending.body.push(body);
        if done {
            return self.finish_publish().map_err(publish_err);
        }
        Ok(())
    }

    fn finish_publish(&mut self) -> Result<()> {
        let Some(pending) = self.content.take() else {
            return Ok(());
        };
        let properties = pending.header.map(|(_, p)| p).unwrap_or_default();
        let body = match pending.body.len() {
            0 => Bytes::new(),
            // A small body is copied out of the read buffer: as a slice it would keep the
            // whole buffer block (16 KiB or more) alive for as long as it sits in a queue.
            1 if pending.received < SMALL_BODY => Bytes::copy_from_slice(&pending.body[0]),
            1 => pending.body.into_iter().next().unwrap_or_default(),
            _ => {
                let mut joined = BytesMut::with_capacity(pending.received as usize);
                for part in &pending.body {
                    joined.extend_from_slice(part);
                }
                joined.freeze()
            }
        };
        let publish = pending.publish;
        let message = Message::new(
            publish.exchange.as_str(),
            publish.routing_key.as_str(),
            properties,
            body,
        );
        match &mut self.mode {
            Mode::Tx(ops) => {
                ops.push(TxOp::Publish(message, publish.mandatory));
                Ok(())
            }
            Mode::Confirm(confirms) => {
                let confirms = confirms.clone();
                let seq = confirms.begin_publish();
                let callback = {
                    let confirms = confirms.clone();
                    Box::new(move |ack: bool| confirms.resolve(seq, ack))
                };
                let result = self.publish(message, publish.mandatory, Some(callback));
                confirms.end_publish();
                result
            }
            Mode::Plain => self.publish(message, publish.mandatory, None),
        }
    }

    fn publish(
        &self,
        message: Message,
        mandatory: bool,
        confirm: Option<crate::broker::ConfirmCallback>,
    ) -> Result<()> {
        // Kept for basic.return; cheap: the body is a shared `Bytes`.
        let returned = mandatory.then(|| message.clone());
        let outcome = self.vhost.publish(message, mandatory, confirm)?;
        if let (false, Some(message)) = (outcome.routed, returned) {
            let ret = basic::AMQPMethod::Return(basic::Return {
                reply_code: ReplyCode::NoRoute.code(),
                reply_text: short_lossy("NO_ROUTE"),
                exchange: short_lossy(&message.exchange),
                routing_key: short_lossy(&message.routing_key),
            });
            let _ = self.out.send(Outgoing::Content(
                self.id,
                Box::new(AMQPClass::Basic(ret)),
                Arc::new(message),
            ));
        }
        Ok(())
    }

    fn queue_name(&self, name: &str) -> Result<String> {
        if !name.is_empty() {
            return Ok(name.to_string());
        }
        self.last_queue
            .clone()
            .ok_or_else(|| Error::not_found("no previously declared queue"))
    }

    fn basic(&mut self, m: basic::AMQPMethod) -> Result<()> {
        use basic::AMQPMethod as B;
        match m {
            B::Publish(p) => {
                if p.immediate {
                    return Err(Error::not_implemented("immediate=true").on_connection());
                }
                self.content = Some(PendingContent {
                    publish: p,
                    header: None,
                    body: Vec::new(),
                    received: 0,
                });
            }
            B::Qos(q) => {
                self.session.qos(q.prefetch_count, q.global);
                self.reply(AMQPClass::Basic(B::QosOk(basic::QosOk {})));
            }
            B::Consume(c) => {
                let queue = self.queue_name(c.queue.as_str())?;
                let filter = selector_filter(&c.arguments)?;
                let opts = ConsumeOptions {
                    tag: c.consumer_tag.as_str().to_string(),
                    no_ack: c.no_ack,
                    exclusive: c.exclusive,
                    arguments: c.arguments,
                    filter,
                    ..ConsumeOptions::default()
                };
                self.sink.hold();
                let result = self.session.consume(&queue, opts);
                if let Ok(tag) = &result {
                    if !c.nowait {
                        self.reply(AMQPClass::Basic(B::ConsumeOk(basic::ConsumeOk {
                            consumer_tag: short_lossy(tag),
                        })));
                    }
                }
                self.sink.release();
                result?;
            }
            B::Cancel(c) => {
                self.session.cancel(c.consumer_tag.as_str());
                if !c.nowait {
                    self.reply(AMQPClass::Basic(B::CancelOk(basic::CancelOk {
                        consumer_tag: c.consumer_tag,
                    })));
                }
            }
            B::Get(g) => {
                let queue = self.queue_name(g.queue.as_str())?;
                match self.session.get(&queue, g.no_ack)? {
                    Some(ok) => {
                        let method = B::GetOk(basic::GetOk {
                            delivery_tag: ok.delivery_tag,
                            redelivered: ok.redelivered,
                            exchange: short_lossy(&ok.message.exchange),
                            routing_key: short_lossy(&ok.message.routing_key),
                            message_count: ok.message_count,
                        });
                        let _ = self.out.send(Outgoing::Content(
                            self.id,
                            Box::new(AMQPClass::Basic(method)),
                            ok.message,
                        ));
                    }
                    None => self.reply(AMQPClass::Basic(B::GetEmpty(basic::GetEmpty {}))),
                }
            }
            B::Ack(a) => match &mut self.mode {
                Mode::Tx(ops) => ops.push(TxOp::Ack(a.delivery_tag, a.multiple)),
                _ => self.session.ack(a.delivery_tag, a.multiple)?,
            },
            B::Nack(n) => match &mut self.mode {
                Mode::Tx(ops) => ops.push(TxOp::Nack(n.delivery_tag, n.multiple, n.requeue)),
                _ => self.session.nack(n.delivery_tag, n.multiple, n.requeue)?,
            },
            B::Reject(r) => match &mut self.mode {
                Mode::Tx(ops) => ops.push(TxOp::Nack(r.delivery_tag, false, r.requeue)),
                _ => self.session.reject(r.delivery_tag, r.requeue)?,
            },
            B::Recover(r) => {
                self.session.recover(r.requeue);
                self.reply(AMQPClass::Basic(B::RecoverOk(basic::RecoverOk {})));
            }
            B::RecoverAsync(r) => self.session.recover(r.requeue),
            other => {
                return Err(Error::command_invalid(format!(
                    "method 60.{} is not valid from a client",
                    AMQPClass::Basic(other).get_amqp_method_id()
                ))
                .on_connection())
            }
        }
        Ok(())
    }

    fn exchange(&mut self, m: exchange::AMQPMethod) -> Result<()> {
        use exchange::AMQPMethod as X;
        match m {
            X::Declare(d) => {
                let opts = ExchangeOptions {
                    passive: d.passive,
                    durable: d.durable,
                    auto_delete: d.auto_delete,
                    internal: d.internal,
                    arguments: d.arguments,
                };
                self.vhost
                    .exchange_declare(d.exchange.as_str(), d.kind.as_str(), opts)?;
                if !d.nowait {
                    self.reply(AMQPClass::Exchange(X::DeclareOk(exchange::DeclareOk {})));
                }
            }
            X::Delete(d) => {
                self.vhost
                    .exchange_delete(d.exchange.as_str(), d.if_unused)?;
                if !d.nowait {
                    self.reply(AMQPClass::Exchange(X::DeleteOk(exchange::DeleteOk {})));
                }
            }
            X::Bind(b) => {
                self.vhost.exchange_bind(
                    b.destination.as_str(),
                    b.source.as_str(),
                    b.routing_key.as_str(),
                    &b.arguments,
                )?;
                if !b.nowait {
                    self.reply(AMQPClass::Exchange(X::BindOk(exchange::BindOk {})));
                }
            }
            X::Unbind(b) => {
                self.vhost.exchange_unbind(
                    b.destination.as_str(),
                    b.source.as_str(),
                    b.routing_key.as_str(),
                    &b.arguments,
                )?;
                if !b.nowait {
                    self.reply(AMQPClass::Exchange(X::UnbindOk(exchange::UnbindOk {})));
                }
            }
            other => {
                return Err(Error::command_invalid(format!(
                    "method 40.{} is not valid from a client",
                    AMQPClass::Exchange(other).get_amqp_method_id()
                ))
                .on_connection())
            }
        }
        Ok(())
    }

    fn queue(&mut self, m: queue::AMQPMethod) -> Result<()> {
        use queue::AMQPMethod as Q;
        match m {
            Q::Declare(d) => {
                let opts = QueueOptions {
                    passive: d.passive,
                    durable: d.durable,
                    exclusive: d.exclusive,
                    auto_delete: d.auto_delete,
                    arguments: d.arguments,
                };
                // A passive declare of "" means the last declared queue.
                let name = if d.passive {
                    self.queue_name(d.queue.as_str())?
                } else {
                    d.queue.to_string()
                };
                let info = self.vhost.queue_declare(&name, opts, self.conn)?;
                self.last_queue = Some(info.name.clone());
                if !d.nowait {
                    self.reply(AMQPClass::Queue(Q::DeclareOk(queue::DeclareOk {
                        queue: short_lossy(&info.name),
                        message_count: info.message_count,
                        consumer_count: info.consumer_count,
                    })));
                }
            }
            Q::Bind(b) => {
                let name = self.queue_name(b.queue.as_str())?;
                self.vhost.queue_bind(
                    &name,
                    b.exchange.as_str(),
                    b.routing_key.as_str(),
                    &b.arguments,
                    self.conn,
                )?;
                if !b.nowait {
                    self.reply(AMQPClass::Queue(Q::BindOk(queue::BindOk {})));
                }
            }
            Q::Unbind(b) => {
                let name = self.queue_name(b.queue.as_str())?;
                self.vhost.queue_unbind(
                    &name,
                    b.exchange.as_str(),
                    b.routing_key.as_str(),
                    &b.arguments,
                    self.conn,
                )?;
                self.reply(AMQPClass::Queue(Q::UnbindOk(queue::UnbindOk {})));
            }
            Q::Purge(p) => {
                let name = self.queue_name(p.queue.as_str())?;
                let message_count = self.vhost.queue_purge(&name, self.conn)?;
                if !p.nowait {
                    self.reply(AMQPClass::Queue(Q::PurgeOk(queue::PurgeOk {
                        message_count,
                    })));
                }
            }
            Q::Delete(d) => {
                let name = self.queue_name(d.queue.as_str())?;
                let message_count =
                    self.vhost
                        .queue_delete(&name, d.if_unused, d.if_empty, self.conn)?;
                if !d.nowait {
                    self.reply(AMQPClass::Queue(Q::DeleteOk(queue::DeleteOk {
                        message_count,
                    })));
                }
            }
            other => {
                return Err(Error::command_invalid(format!(
                    "method 50.{} is not valid from a client",
                    AMQPClass::Queue(other).get_amqp_method_id()
                ))
                .on_connection())
            }
        }
        Ok(())
    }

    fn tx(&mut self, m: tx::AMQPMethod) -> Result<()> {
        use tx::AMQPMethod as T;
        match m {
            T::Select(_) => {
                if matches!(self.mode, Mode::Confirm(_)) {
                    return Err(Error::precondition_failed(
                        "cannot switch from confirm to tx mode",
                    ));
                }
                if !matches!(self.mode, Mode::Tx(_)) {
                    self.mode = Mode::Tx(Vec::new());
                }
                self.reply(AMQPClass::Tx(T::SelectOk(tx::SelectOk {})));
            }
            T::Commit(_) => {
                let Mode::Tx(ops) = &mut self.mode else {
                    return Err(Error::precondition_failed("channel is not transactional"));
                };
                let ops = std::mem::take(ops);
                for op in ops {
                    match op {
                        TxOp::Publish(message, mandatory) => {
                            self.publish(message, mandatory, None)?
                        }
                        TxOp::Ack(tag, multiple) => self.session.ack(tag, multiple)?,
                        TxOp::Nack(tag, multiple, requeue) => {
                            self.session.nack(tag, multiple, requeue)?
                        }
                    }
                }
                self.reply(AMQPClass::Tx(T::CommitOk(tx::CommitOk {})));
            }
            T::Rollback(_) => {
                let Mode::Tx(ops) = &mut self.mode else {
                    return Err(Error::precondition_failed("channel is not transactional"));
                };
                ops.clear();
                self.reply(AMQPClass::Tx(T::RollbackOk(tx::RollbackOk {})));
            }
            other => {
                return Err(Error::command_invalid(format!(
                    "method 90.{} is not valid from a client",
                    AMQPClass::Tx(other).get_amqp_method_id()
                ))
                .on_connection())
            }
        }
        Ok(())
    }

    /// channel.flow from the client: pause or resume deliveries to it.
    pub fn flow(&mut self, active: bool) {
        self.session.set_flow(active);
        self.reply(AMQPClass::Channel(channel::AMQPMethod::FlowOk(
            channel::FlowOk { active },
        )));
    }
}

/// The `basic.consume` argument carrying a JMS message selector (an mqbridge extension,
/// announced as the `x-selector` server capability; docs/mapping.md §6.5).
pub const SELECTOR_ARGUMENT: &str = "x-selector";

/// The consumer filter of an `x-selector` argument: the JMS selector evaluated against the
/// core message exactly as the OpenWire listener evaluates a consumer's selector, so
/// messages it refuses stay in the queue for other consumers. An empty selector selects
/// everything; a non-string or unparsable one is 406 PRECONDITION_FAILED (a channel error).
fn selector_filter(
    arguments: &amq_protocol::types::FieldTable,
) -> Result<Option<crate::broker::session::MessageFilter>> {
    use amq_protocol::types::AMQPValue;
    let text = match arguments.inner().get(SELECTOR_ARGUMENT) {
        None => return Ok(None),
        Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        Some(AMQPValue::ShortString(s)) => s.as_str().to_owned(),
        Some(other) => {
            return Err(Error::precondition_failed(format!(
                "invalid {SELECTOR_ARGUMENT} argument: a string was expected, got {other:?}"
            )))
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let selector = crate::selector::Selector::parse(text)
        .map_err(|e| Error::precondition_failed(format!("invalid selector '{text}': {e}")))?;
    Ok(Some(Arc::new(move |m: &Message| selector.matches(m))))
}
