//! Publisher confirms for one channel in confirm mode.
//!
//! Every publish gets the next sequence number (from 1). The broker resolves each one
//! (ack or nack), possibly out of order and on another thread (the store's group commit).
//! We send confirms in sequence order only: resolved numbers wait until every lower one is
//! resolved, and a run of acks goes out as one `basic.ack` with `multiple` set. Nacks are
//! sent one by one.
//!
//! While a publish call is in progress its number is a *barrier*: a confirm the broker
//! resolves synchronously inside `publish` waits until the channel has written the
//! `basic.return` of an unroutable mandatory message, because the spec wants the return
//! before the ack.

use std::collections::BTreeMap;
use std::sync::Arc;

use amq_protocol::protocol::{basic, AMQPClass};
use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

use super::writer::Outgoing;

/// One confirm frame to send: `(delivery_tag, multiple, ack)`.
pub type ConfirmFrame = (u64, bool, bool);

/// The pure bookkeeping, kept apart from the sending so it can be tested alone.
#[derive(Debug, Default)]
pub struct ConfirmState {
    /// The last sequence number given out.
    last_seq: u64,
    /// Every number up to this one has been confirmed on the wire.
    sent_upto: u64,
    /// Resolved numbers above `sent_upto`, waiting for a lower one.
    resolved: BTreeMap<u64, bool>,
    /// A publish in progress; confirms from it on wait.
    barrier: Option<u64>,
    /// The channel is closed: late confirms (from the store's thread) are dropped, so they
    /// never reach a new channel that reuses the number.
    closed: bool,
}

impl ConfirmState {
    /// The next sequence number, made the barrier until [`ConfirmState::end_publish`].
    pub fn begin_publish(&mut self) -> u64 {
        self.last_seq += 1;
        self.barrier = Some(self.last_seq);
        self.last_seq
    }

    /// The publish returned; confirms held by the barrier may go.
    pub fn end_publish(&mut self) -> Vec<ConfirmFrame> {
        self.barrier = None;
        self.drain()
    }

    /// Record the outcome of `seq`; returns the frames that can be sent now.
    pub fn resolve(&mut self, seq: u64, ack: bool) -> Vec<ConfirmFrame> {
        if seq > self.sent_upto {
            self.resolved.insert(seq, ack);
        }
        self.drain()
    }

    fn drain(&mut self) -> Vec<ConfirmFrame> {
        let mut frames = Vec::new();
        if self.closed {
            return frames;
        }
        let mut acks_from: Option<u64> = None;
        loop {
            let next = self.sent_upto + 1;
            if self.barrier == Some(next) {
                break;
            }
            let Some(ack) = self.resolved.remove(&next) else {
                break;
            };
            self.sent_upto = next;
            if ack {
                acks_from.get_or_insert(next);
            } else {
                if let Some(from) = acks_from.take() {
                    frames.push((next - 1, next - 1 > from, true));
                }
                frames.push((next, false, false));
            }
        }
        if let Some(from) = acks_from {
            frames.push((self.sent_upto, self.sent_upto > from, true));
        }
        frames
    }
}

/// A channel's confirm tracker, shared with the broker's confirm callbacks.
#[derive(Debug)]
pub struct Confirms {
    channel: u16,
    out: UnboundedSender<Outgoing>,
    state: Mutex<ConfirmState>,
}

impl Confirms {
    pub fn new(channel: u16, out: UnboundedSender<Outgoing>) -> Arc<Confirms> {
        Arc::new(Confirms {
            channel,
            out,
            state: Mutex::new(ConfirmState::default()),
        })
    }

    pub fn begin_publish(&self) -> u64 {
        self.state.lock().begin_publish()
    }

    pub fn end_publish(&self) {
        let mut state = self.state.lock();
        let frames = state.end_publish();
        // Sent under the lock so that frames from two threads keep their order.
        self.send(frames);
    }

    /// The channel closed: send nothing more.
    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.resolved.clear();
    }

    pub fn resolve(&self, seq: u64, ack: bool) {
        let mut state = self.state.lock();
        let frames = state.resolve(seq, ack);
        self.send(frames);
    }

    fn send(&self, frames: Vec<ConfirmFrame>) {
        for (delivery_tag, multiple, ack) in frames {
            let method = if ack {
                basic::AMQPMethod::Ack(basic::Ack {
                    delivery_tag,
                    multiple,
                })
            } else {
                basic::AMQPMethod::Nack(basic::Nack {
                    delivery_tag,
                    multiple,
                    requeue: false,
                })
            };
            // A closed connection drops its confirms; nothing to do then.
            let _ = self.out.send(Outgoing::Method(
                self.channel,
                Box::new(AMQPClass::Basic(method)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_acks_go_out_one_by_one() {
        let mut s = ConfirmState::default();
        let a = s.begin_publish();
        assert!(s.resolve(a, true).is_empty(), "held by the barrier");
        assert_eq!(s.end_publish(), vec![(1, false, true)]);
        let b = s.begin_publish();
        s.end_publish();
        assert_eq!(s.resolve(b, true), vec![(2, false, true)]);
    }

    #[test]
    fn out_of_order_acks_wait_and_coalesce() {
        let mut s = ConfirmState::default();
        for _ in 0..4 {
            s.begin_publish();
            s.end_publish();
        }
        assert!(s.resolve(3, true).is_empty());
        assert!(s.resolve(2, true).is_empty());
        assert_eq!(s.resolve(1, true), vec![(3, true, true)]);
        assert_eq!(s.resolve(4, true), vec![(4, false, true)]);
    }

    #[test]
    fn a_nack_splits_the_run() {
        let mut s = ConfirmState::default();
        for _ in 0..4 {
            s.begin_publish();
            s.end_publish();
        }
        assert!(s.resolve(2, true).is_empty());
        assert!(s.resolve(3, false).is_empty());
        assert!(s.resolve(4, true).is_empty());
        assert_eq!(
            s.resolve(1, true),
            vec![(2, true, true), (3, false, false), (4, false, true)]
        );
        assert!(s.resolve(4, true).is_empty(), "a late duplicate is ignored");
    }

    #[test]
    fn nothing_after_close() {
        let mut s = ConfirmState::default();
        s.begin_publish();
        s.end_publish();
        s.closed = true;
        assert!(s.resolve(1, true).is_empty());
    }
}
