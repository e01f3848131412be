//! The writer task: the only code that writes to an OpenWire connection's socket.
//!
//! Responses from the reader task, MessageDispatches pushed by the broker through each
//! consumer's sink, Responses to synchronous sends resolved by publish confirms and
//! advisories from other connections all arrive as [`Outgoing`] items on one unbounded
//! mpsc (bounded in practice by the client's requests and the broker's prefetch and write
//! window, reopened here with [`Session::written`] once a batch is on the socket).
//! Deliveries are turned into JMS messages here (`mapping::openwire::from_message`, then
//! `jms::from_jms` for the wire form), once.
//!
//! Keep-alive: when nothing was written for the interval, a KeepAliveInfo is sent
//! (openwire.md pitfall 4: a client that hears nothing for its inactivity period drops the
//! connection).

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tokio_util::codec::Encoder;

use super::codec::{
    Command, Destination, DestinationKind, KeepAliveInfo, Limits, MessageDispatch, MessageId,
    OpenWireCodec, ProducerId, WireFormatInfo, WireSettings,
};
use super::registry::{Registry, TempKind};
use super::subscription::ConsumerState;
use crate::broker::session::{Delivery, Session};
use crate::mapping::destination::TOPIC_EXCHANGE;

/// Largest batch encoded before it is written.
const BATCH_BYTES: usize = 256 * 1024;

/// One thing to send.
#[derive(Debug)]
pub enum Outgoing {
    Command(Command),
    /// A delivery for a consumer.
    Deliver(Delivery, Arc<ConsumerState>),
    /// From now on: encode with protocol `version`, keep-alive every `keepalive` (zero:
    /// never).
    Negotiated {
        settings: WireSettings,
        keepalive: Duration,
    },
    /// Write what is queued, then close the socket and stop.
    Close,
}

/// The JMS destination a delivery shows (JMSDestination): from the message's exchange and
/// routing key (the real queue or topic it was sent to), else the consumer's.
pub fn delivery_destination(
    delivery: &Delivery,
    consumer: &ConsumerState,
    registry: &Registry,
) -> Destination {
    let m = &delivery.message;
    match m.exchange.as_str() {
        "" => {
            let kind = if registry.temp(TempKind::Queue, &m.routing_key).is_some() {
                DestinationKind::TempQueue
            } else {
                DestinationKind::Queue
            };
            Destination::new(kind, m.routing_key.clone())
        }
        TOPIC_EXCHANGE => {
            let kind = if registry.temp(TempKind::Topic, &m.routing_key).is_some() {
                DestinationKind::TempTopic
            } else {
                DestinationKind::Topic
            };
            Destination::new(kind, m.routing_key.clone())
        }
        _ => consumer.destination.clone(),
    }
}

/// The MessageDispatch for a delivery: the delivery tag travels as the MessageId's
/// `brokerSequenceId` (the client returns it in its acks), the redelivery counter comes
/// from `x-delivery-count` (openwire.md pitfall 9).
pub fn dispatch_for(delivery: &Delivery, consumer: &ConsumerState, registry: &Registry) -> Command {
    let destination = delivery_destination(delivery, consumer, registry);
    let tag = i64::try_from(delivery.delivery_tag).unwrap_or(i64::MAX);
    let jms = crate::mapping::openwire::from_message(
        &delivery.message,
        super::jms::destination_to_jms(&destination),
        crate::broker::now_ms(),
    );
    let mut message = super::jms::from_jms(jms, &delivery.message.body);
    // The wire destination as it is (the neutral one only carries kind and name).
    message.destination = Some(destination);
    let redelivery_counter =
        crate::mapping::openwire::redelivery_count(&delivery.message, delivery.redelivered);
    upgrade_temp_reply_to(&mut message, registry);
    // (producerId, producerSequenceId) unique per dispatch (pitfall 20): the consumer's id
    // and the delivery tag; the original JMSMessageID stays the MessageId's text.
    let id = message.message_id.get_or_insert_with(MessageId::default);
    id.producer_id = Some(ProducerId {
        connection_id: Some(format!("ID:mqbridge-dispatch:{}", consumer.id)),
        value: 1,
        session_id: 1,
    });
    id.producer_sequence_id = tag;
    id.broker_sequence_id = tag;
    message.redelivery_counter = redelivery_counter;
    message.producer_id = id.producer_id.clone();
    Command::MessageDispatch(MessageDispatch {
        consumer_id: Some(consumer.id.clone()),
        destination: Some(consumer.destination.clone()),
        message: Some(Box::new(message)),
        redelivery_counter,
        ..MessageDispatch::default()
    })
}

/// A reply-to naming a live temporary queue/topic is shown as one (the client then checks
/// it against the advisories it has seen).
fn upgrade_temp_reply_to(message: &mut super::codec::Message, registry: &Registry) {
    if let Some(reply) = &mut message.reply_to {
        let kind = match reply.kind {
            DestinationKind::Queue => (TempKind::Queue, DestinationKind::TempQueue),
            DestinationKind::Topic => (TempKind::Topic, DestinationKind::TempTopic),
            _ => return,
        };
        if registry.temp(kind.0, reply.name()).is_some() {
            reply.kind = kind.1;
        }
    }
}

/// Run until [`Outgoing::Close`], the sending side is dropped, or the socket fails.
pub async fn run_writer<W: AsyncWrite + Unpin>(
    mut socket: W,
    mut rx: UnboundedReceiver<Outgoing>,
    registry: Arc<super::session::SessionContext>,
) {
    let mut codec = OpenWireCodec::new(WireFormatInfo::server(0, 0, "mqbridge"), Limits::default());
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut written: Vec<(Arc<Session>, usize)> = Vec::new();
    let mut keepalive = Duration::ZERO;
    let mut last_write = Instant::now();
    loop {
        let first = tokio::select! {
            item = rx.recv() => item,
            _ = tokio::time::sleep_until(last_write + keepalive), if !keepalive.is_zero() => {
                Some(Outgoing::Command(Command::KeepAliveInfo(KeepAliveInfo::default())))
            }
        };
        let Some(first) = first else {
            let _ = socket.shutdown().await;
            return;
        };
        let mut close = encode(
            first,
            &mut codec,
            &mut buf,
            &mut written,
            &mut keepalive,
            &registry,
        );
        while !close && buf.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(item) => {
                    close = encode(
                        item,
                        &mut codec,
                        &mut buf,
                        &mut written,
                        &mut keepalive,
                        &registry,
                    )
                }
                Err(_) => break,
            }
        }
        if !buf.is_empty() {
            if let Err(e) = socket.write_all(&buf).await {
                tracing::debug!(error = %e, "OpenWire write failed.");
                return;
            }
            let _ = socket.flush().await;
            buf.clear();
            if buf.capacity() > 4 * BATCH_BYTES {
                buf = BytesMut::with_capacity(64 * 1024);
            }
            last_write = Instant::now();
        }
        for (session, n) in written.drain(..) {
            session.written(n);
        }
        if close {
            let _ = socket.shutdown().await;
            return;
        }
    }
}

/// Append one item to `buf`. True for [`Outgoing::Close`].
fn encode(
    item: Outgoing,
    codec: &mut OpenWireCodec,
    buf: &mut BytesMut,
    written: &mut Vec<(Arc<Session>, usize)>,
    keepalive: &mut Duration,
    ctx: &super::session::SessionContext,
) -> bool {
    let command = match item {
        Outgoing::Close => return true,
        Outgoing::Negotiated {
            settings,
            keepalive: k,
        } => {
            codec.set_settings(settings);
            *keepalive = k;
            return false;
        }
        Outgoing::Command(command) => command,
        Outgoing::Deliver(delivery, consumer) => {
            if let Some(session) = consumer.session() {
                match written.last_mut() {
                    Some((s, n)) if Arc::ptr_eq(s, &session) => *n += 1,
                    _ => written.push((session, 1)),
                }
            }
            dispatch_for(&delivery, &consumer, &ctx.registry)
        }
    };
    let mark = buf.len();
    if let Err(e) = codec.encode(command, buf) {
        // Unencodable (e.g. a string over 65535 bytes): drop it, keep the connection.
        buf.truncate(mark);
        tracing::warn!(error = %e, "OpenWire command could not be encoded; dropped.");
    }
    false
}
