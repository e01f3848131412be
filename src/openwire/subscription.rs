//! OpenWire consumers: one broker [`Session`] each, the sink that hands its deliveries to
//! the connection's writer, and the JMS prefetch window.
//!
//! A `MessageDispatch` carries the delivery tag as the `brokerSequenceId` of the message's
//! `MessageId`; the client returns that `MessageId` untouched in its `MessageAck`s, so an
//! ack range `first..last` is the tag range `first.brokerSequenceId..=last.brokerSequenceId`
//! and needs no lookup table.
//!
//! Prefetch (openwire.md §13 item 7, pitfall 5): the broker session's *global* prefetch is
//! the window `prefetchSize + extension`, where the extension counts the outstanding
//! messages the client reported with a DELIVERED ack (or acked inside a still-open
//! transaction). So CLIENT_ACK and transacted consumers, which hold many messages unacked,
//! keep receiving, as ActiveMQ's `prefetchExtension` allows.
//!
//! Prefetch 0 (MessagePull): the window is opened for exactly one message per pull
//! (`outstanding + 1`) and closed again by the sink or by the pull's timeout, which sends the
//! null-message dispatch.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

use super::writer::Outgoing;
use crate::broker::session::{Delivery, DeliverySink, Session};

/// The largest window the broker session takes (its prefetch is a u16).
const MAX_WINDOW: u32 = u16::MAX as u32;

/// Outstanding (delivered, unacked) tags of one consumer and the DELIVERED-ack mark.
#[derive(Debug, Default)]
pub struct Tracker {
    pub outstanding: BTreeSet<u64>,
    /// Highest tag the client said it had delivered (DELIVERED ack, or acked in an open
    /// transaction): outstanding tags up to it do not count against the prefetch.
    pub delivered_upto: u64,
}

impl Tracker {
    /// The window for the broker session: prefetch + outstanding tags at or below the mark.
    pub fn window(&self, prefetch: u32) -> u32 {
        let extension = self.outstanding.range(..=self.delivered_upto).count();
        let extension = u32::try_from(extension).unwrap_or(u32::MAX);
        prefetch.saturating_add(extension).clamp(1, MAX_WINDOW)
    }

    /// The outstanding tags in `first..=last`.
    pub fn in_range(&self, first: u64, last: u64) -> Vec<u64> {
        if first > last {
            return Vec::new();
        }
        self.outstanding.range(first..=last).copied().collect()
    }
}

/// What the writer and the session need to know about a consumer.
#[derive(Debug)]
pub struct ConsumerState {
    /// The client's ConsumerId, as the codec has it (put into every dispatch).
    pub id: super::codec::ConsumerId,
    /// The destination the consumer subscribed to (put into every dispatch).
    pub destination: super::codec::Destination,
    /// The client's prefetchSize (0: pull).
    pub prefetch: u32,
    pub tracker: Mutex<Tracker>,
    /// A MessagePull is waiting for a message.
    pub pull_pending: AtomicBool,
    /// The broker session, once created.
    pub session: OnceLock<Weak<Session>>,
}

impl ConsumerState {
    pub fn session(&self) -> Option<Arc<Session>> {
        self.session.get().and_then(Weak::upgrade)
    }

    /// Push the current window to the broker session (dispatching if it grew).
    pub fn refresh_window(&self) {
        if self.prefetch == 0 {
            return;
        }
        let window = self.tracker.lock().window(self.prefetch);
        if let Some(s) = self.session() {
            s.qos(u16::try_from(window).unwrap_or(u16::MAX), true);
        }
    }

    /// Open the window for one more message (a MessagePull).
    pub fn open_pull(&self) {
        self.pull_pending.store(true, Ordering::Release);
        let outstanding = self.tracker.lock().outstanding.len();
        let window = u32::try_from(outstanding)
            .unwrap_or(u32::MAX)
            .saturating_add(1)
            .min(MAX_WINDOW);
        if let Some(s) = self.session() {
            s.qos(u16::try_from(window).unwrap_or(u16::MAX), true);
            s.set_flow(true);
        }
    }

    /// End a pull without a message: true when it was still pending (the caller sends the
    /// null dispatch).
    pub fn close_pull(&self) -> bool {
        let was = self.pull_pending.swap(false, Ordering::AcqRel);
        if let Some(s) = self.session() {
            s.set_flow(false);
        }
        was
    }
}

/// The broker's [`DeliverySink`] for one consumer.
pub struct ConsumerSink {
    pub state: Arc<ConsumerState>,
    pub out: UnboundedSender<Outgoing>,
}

impl std::fmt::Debug for ConsumerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerSink").finish()
    }
}

impl DeliverySink for ConsumerSink {
    fn deliver(&self, delivery: Delivery) -> bool {
        self.state
            .tracker
            .lock()
            .outstanding
            .insert(delivery.delivery_tag);
        if self.state.prefetch == 0 {
            // One message per pull: stop until the next MessagePull. (Called under the
            // session lock: set_flow(false) only stores a flag.)
            self.state.pull_pending.store(false, Ordering::Release);
            if let Some(s) = self.state.session() {
                s.set_flow(false);
            }
        }
        self.out
            .send(Outgoing::Deliver(delivery, self.state.clone()))
            .is_ok()
    }

    fn consumer_cancelled(&self, consumer_tag: &str) {
        tracing::info!(
            consumer = consumer_tag,
            "OpenWire consumer's queue was deleted; no more messages for it."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_acks_widen_the_window() {
        let mut t = Tracker::default();
        for tag in 1..=10 {
            t.outstanding.insert(tag);
        }
        assert_eq!(t.window(10), 10);
        t.delivered_upto = 5;
        assert_eq!(t.window(10), 15);
        t.outstanding.retain(|&x| x > 5);
        assert_eq!(t.window(10), 10);
        assert_eq!(t.in_range(7, 9), vec![7, 8, 9]);
        assert_eq!(t.in_range(9, 7), Vec::<u64>::new());
        assert_eq!(Tracker::default().window(100_000), MAX_WINDOW);
    }
}
