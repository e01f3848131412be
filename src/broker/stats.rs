//! Message counters for the management API and metrics.
//!
//! Each queue counts what happened to its messages, and each vhost keeps the totals, so a
//! deleted queue's history still shows in the overview. Counters only ever grow; rates are
//! computed by whoever samples them (the HTTP API), not here, so the hot path pays one
//! relaxed atomic add per event and nothing else.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Monotonic message counters (RabbitMQ's `message_stats` names).
#[derive(Debug, Default)]
pub struct MessageCounters {
    /// Messages accepted: into a queue for a queue, through `publish` for a vhost.
    publish: AtomicU64,
    /// Messages handed to a consumer or returned by a get.
    deliver_get: AtomicU64,
    /// Of those, deliveries of a message delivered before.
    redeliver: AtomicU64,
    /// Messages acknowledged by a consumer (a no-ack delivery counts as acked at once).
    ack: AtomicU64,
}

/// A copy of [`MessageCounters`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    pub publish: u64,
    pub deliver_get: u64,
    pub redeliver: u64,
    pub ack: u64,
}

impl MessageCounters {
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            publish: self.publish.load(Ordering::Relaxed),
            deliver_get: self.deliver_get.load(Ordering::Relaxed),
            redeliver: self.redeliver.load(Ordering::Relaxed),
            ack: self.ack.load(Ordering::Relaxed),
        }
    }
}

/// A queue's counters and its vhost's totals, bumped together.
#[derive(Debug, Default)]
pub(crate) struct QueueCounters {
    pub(crate) own: MessageCounters,
    pub(crate) vhost: Arc<MessageCounters>,
}

impl QueueCounters {
    pub(crate) fn new(vhost: Arc<MessageCounters>) -> Self {
        QueueCounters {
            own: MessageCounters::default(),
            vhost,
        }
    }

    /// A message entered the queue (the vhost counts publishes itself, once per message).
    pub(crate) fn enqueued(&self) {
        self.own.publish.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn delivered(&self, redelivered: bool) {
        for c in [&self.own, &*self.vhost] {
            c.deliver_get.fetch_add(1, Ordering::Relaxed);
            if redelivered {
                c.redeliver.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn acked(&self, n: u64) {
        if n > 0 {
            self.own.ack.fetch_add(n, Ordering::Relaxed);
            self.vhost.ack.fetch_add(n, Ordering::Relaxed);
        }
    }
}

impl MessageCounters {
    /// A message went through a vhost's `publish`.
    pub(crate) fn published(&self) {
        self.publish.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_events_reach_the_vhost_totals() {
        let vhost = Arc::new(MessageCounters::default());
        let q = QueueCounters::new(vhost.clone());
        q.enqueued();
        q.delivered(false);
        q.delivered(true);
        q.acked(2);
        vhost.published();
        assert_eq!(
            q.own.snapshot(),
            CounterSnapshot {
                publish: 1,
                deliver_get: 2,
                redeliver: 1,
                ack: 2
            }
        );
        assert_eq!(
            vhost.snapshot(),
            CounterSnapshot {
                publish: 1,
                deliver_get: 2,
                redeliver: 1,
                ack: 2
            }
        );
    }
}
