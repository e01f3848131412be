//! The writer task: the only code that writes to a STOMP connection's socket.
//!
//! Replies from the reader task, MESSAGE deliveries pushed by the broker through a
//! subscription's sink and RECEIPTs resolved on the store's thread all arrive as
//! [`Outgoing`] items on one unbounded mpsc (bounded in practice by the client's requests
//! and the broker's prefetch and write window, reopened here with [`Session::written`]
//! once a batch is on the socket). Deliveries are encoded here, once, with the headers
//! from `mapping::stomp::from_message`; the body is written from the same `Bytes`.
//!
//! Heart-beats: when nothing was written for the negotiated interval, one EOL is sent.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::codec::{encode_frame, Version};
use super::frame::Frame;
use super::subscription::{AckMode, SubscriptionInfo};
use crate::broker::session::{Delivery, Session};
use crate::mapping::destination::{format_stomp, from_publish};

/// Largest batch encoded before it is written.
const BATCH_BYTES: usize = 256 * 1024;

/// One thing to send.
#[derive(Debug)]
pub enum Outgoing {
    Frame(Frame),
    /// A delivery for a subscription.
    Deliver(Delivery, Arc<SubscriptionInfo>),
    /// From now on: encode for `version`, heart-beat every `heartbeat` (zero: never).
    Negotiated {
        version: Version,
        heartbeat: Duration,
    },
    /// Write what is queued, then close the socket and stop.
    Close,
}

/// The MESSAGE frame for a delivery.
pub fn message_frame(delivery: &Delivery, info: &SubscriptionInfo, version: Version) -> Frame {
    let message = &delivery.message;
    let ack_id = info.ack_id(delivery.delivery_tag);
    // From the message's exchange and routing key, as RabbitMQ does (a reply on a
    // temporary queue shows `/queue/<real name>`; its subscription is `/temp-queue/N`).
    let destination = format_stomp(&from_publish(&message.exchange, &message.routing_key));
    let mut headers = vec![
        ("subscription".to_string(), info.id.clone()),
        ("destination".to_string(), destination),
        ("message-id".to_string(), ack_id.clone()),
    ];
    if version >= Version::V1_2 && info.ack != AckMode::Auto {
        headers.push(("ack".to_string(), ack_id));
    }
    headers.extend(crate::mapping::stomp::from_message(
        message,
        delivery.redelivered,
    ));
    headers.push(("content-length".to_string(), message.body.len().to_string()));
    Frame {
        command: "MESSAGE".to_string(),
        headers,
        body: message.body.clone(),
    }
}

/// Run until [`Outgoing::Close`], the sending side is dropped, or the socket fails.
pub async fn run_writer<W: AsyncWrite + Unpin>(mut socket: W, mut rx: UnboundedReceiver<Outgoing>) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut written: Vec<(Arc<Session>, usize)> = Vec::new();
    let mut version = Version::V1_0;
    let mut heartbeat = Duration::ZERO;
    let mut last_write = Instant::now();
    loop {
        let first = tokio::select! {
            item = rx.recv() => item,
            _ = tokio::time::sleep_until(last_write + heartbeat), if !heartbeat.is_zero() => {
                if socket.write_all(b"\n").await.is_err() {
                    return;
                }
                let _ = socket.flush().await;
                last_write = Instant::now();
                continue;
            }
        };
        let Some(first) = first else {
            let _ = socket.shutdown().await;
            return;
        };
        let mut close = encode(first, &mut buf, &mut written, &mut version, &mut heartbeat);
        while !close && buf.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(item) => {
                    close = encode(item, &mut buf, &mut written, &mut version, &mut heartbeat)
                }
                Err(_) => break,
            }
        }
        if !buf.is_empty() {
            if let Err(e) = socket.write_all(&buf).await {
                tracing::debug!(error = %e, "STOMP write failed.");
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
    buf: &mut BytesMut,
    written: &mut Vec<(Arc<Session>, usize)>,
    version: &mut Version,
    heartbeat: &mut Duration,
) -> bool {
    match item {
        Outgoing::Close => return true,
        Outgoing::Negotiated {
            version: v,
            heartbeat: h,
        } => {
            *version = v;
            *heartbeat = h;
        }
        Outgoing::Frame(frame) => encode_frame(&frame, *version, buf),
        Outgoing::Deliver(delivery, info) => {
            if let Some(session) = info.session() {
                match written.last_mut() {
                    Some((s, n)) if Arc::ptr_eq(s, &session) => *n += 1,
                    _ => written.push((session, 1)),
                }
            }
            encode_frame(&message_frame(&delivery, &info, *version), *version, buf);
        }
    }
    false
}
