//! The writer task: the only code that writes to a connection's socket after the handshake.
//!
//! Everything a connection sends — replies from the reader task, deliveries pushed by the
//! broker through a channel's [`DeliverySink`](crate::broker::session::DeliverySink),
//! publisher confirms resolved on the store's thread — arrives as an [`Outgoing`] on one
//! unbounded mpsc. Unbounded is safe here: replies are bounded by the client's requests,
//! and deliveries by the broker's prefetch and write window, which this task reopens with
//! [`Session::written`] once a batch is on the socket.
//!
//! Batching: the task takes one item, then everything already queued (up to ~256 KiB of
//! encoded bytes), writes it with one `write_all` and moves on; there is no `BufWriter`
//! to flush because the batch buffer *is* the buffer. Deliveries are encoded here, once:
//! `basic.deliver` + content header + body frames split to `frame_max`.
//!
//! Heartbeats: when nothing was written for half the negotiated interval, a heartbeat
//! frame is sent, so the peer sees traffic at least once per interval.

use std::sync::Arc;
use std::time::Duration;

use amq_protocol::protocol::{basic, AMQPClass};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::codec::{encode_content, encode_method, HEARTBEAT_FRAME};
use super::reply::short_lossy;
use crate::broker::session::{Delivery, Session};
use crate::message::Message;

/// Largest batch encoded before it is written.
const BATCH_BYTES: usize = 256 * 1024;

/// One thing to send.
#[derive(Debug)]
pub enum Outgoing {
    /// A method frame.
    Method(u16, Box<AMQPClass>),
    /// A method with content (`basic.get-ok`, `basic.return`): method, header, body frames.
    Content(u16, Box<AMQPClass>, Arc<Message>),
    /// A delivery to a consumer; `session` is told once it is written.
    Deliver(u16, Delivery, Arc<Session>),
    /// Write what is queued, then close the socket and stop.
    Shutdown,
}

/// Run until [`Outgoing::Shutdown`], the sending side is dropped, or the socket fails.
///
/// `heartbeat` is the negotiated interval (zero = none).
pub async fn run_writer<W: AsyncWrite + Unpin>(
    mut socket: W,
    mut rx: UnboundedReceiver<Outgoing>,
    frame_max: u32,
    heartbeat: Duration,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut written: Vec<(Arc<Session>, usize)> = Vec::new();
    let half = heartbeat / 2;
    let mut last_write = Instant::now();
    loop {
        let first = tokio::select! {
            item = rx.recv() => item,
            _ = tokio::time::sleep_until(last_write + half), if !half.is_zero() => {
                if socket.write_all(&HEARTBEAT_FRAME).await.is_err() {
                    return;
                }
                last_write = Instant::now();
                continue;
            }
        };
        let Some(first) = first else {
            let _ = socket.shutdown().await;
            return;
        };
        let mut shutdown = encode(first, &mut buf, &mut written, frame_max);
        while !shutdown && buf.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(item) => shutdown = encode(item, &mut buf, &mut written, frame_max),
                Err(_) => break,
            }
        }
        if !buf.is_empty() {
            if let Err(e) = socket.write_all(&buf).await {
                tracing::debug!(error = %e, "AMQP write failed.");
                return;
            }
            let _ = socket.flush().await;
            buf.clear();
            if buf.capacity() > 4 * BATCH_BYTES {
                // One huge message must not pin its size for the connection's lifetime.
                buf = Vec::with_capacity(64 * 1024);
            }
            last_write = Instant::now();
        }
        for (session, n) in written.drain(..) {
            session.written(n);
        }
        if shutdown {
            let _ = socket.shutdown().await;
            return;
        }
    }
}

/// Append one item's frames to `buf`. True for [`Outgoing::Shutdown`].
fn encode(
    item: Outgoing,
    buf: &mut Vec<u8>,
    written: &mut Vec<(Arc<Session>, usize)>,
    frame_max: u32,
) -> bool {
    let result = match item {
        Outgoing::Shutdown => return true,
        Outgoing::Method(channel, method) => encode_method(buf, channel, *method),
        Outgoing::Content(channel, method, message) => encode_method(buf, channel, *method)
            .and_then(|()| {
                encode_content(buf, channel, &message.properties, &message.body, frame_max)
            }),
        Outgoing::Deliver(channel, delivery, session) => {
            match written.last_mut() {
                Some((s, n)) if Arc::ptr_eq(s, &session) => *n += 1,
                _ => written.push((session, 1)),
            }
            let message = &delivery.message;
            let deliver = AMQPClass::Basic(basic::AMQPMethod::Deliver(basic::Deliver {
                consumer_tag: short_lossy(&delivery.consumer_tag),
                delivery_tag: delivery.delivery_tag,
                redelivered: delivery.redelivered,
                exchange: short_lossy(&message.exchange),
                routing_key: short_lossy(&message.routing_key),
            }));
            encode_method(buf, channel, deliver).and_then(|()| {
                encode_content(buf, channel, &message.properties, &message.body, frame_max)
            })
        }
    };
    if let Err(e) = result {
        // Only a property that amq-protocol cannot encode gets here; the frame is skipped
        // rather than killing the connection's other channels.
        tracing::warn!(error = %e, "AMQP frame could not be encoded; skipped.");
    }
    false
}
