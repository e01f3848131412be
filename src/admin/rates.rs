//! Message rates for the API: counters sampled once a second, a rate being the growth over
//! the last few samples.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::broker::stats::CounterSnapshot;
use crate::broker::Broker;

/// How often counters are sampled.
pub const SAMPLE_PERIOD: Duration = Duration::from_secs(1);
/// Samples kept per object: a rate covers up to this many periods.
const WINDOW: usize = 5;

/// What a rate is of: a vhost's totals or one queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    VHost(String),
    Queue { vhost: String, queue: String },
}

/// Per-second rates of each counter.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub publish: f64,
    pub deliver_get: f64,
    pub redeliver: f64,
    pub ack: f64,
}

impl std::ops::AddAssign for Rates {
    fn add_assign(&mut self, other: Rates) {
        self.publish += other.publish;
        self.deliver_get += other.deliver_get;
        self.redeliver += other.redeliver;
        self.ack += other.ack;
    }
}

/// Recent samples of every vhost's and queue's counters.
#[derive(Debug, Default)]
pub struct RateTracker {
    samples: Mutex<HashMap<RateKey, VecDeque<(Instant, CounterSnapshot)>>>,
}

impl RateTracker {
    /// Take one sample of everything; objects gone since the last one are forgotten.
    pub fn sample(&self, broker: &Broker) {
        let now = Instant::now();
        let mut current = Vec::new();
        for vhost in broker.vhosts() {
            current.push((
                RateKey::VHost(vhost.name.clone()),
                vhost.counters().snapshot(),
            ));
            for q in vhost.queues() {
                current.push((
                    RateKey::Queue {
                        vhost: vhost.name.clone(),
                        queue: q.name.to_string(),
                    },
                    q.counters().snapshot(),
                ));
            }
        }
        let mut samples = self.samples.lock();
        let mut next = HashMap::with_capacity(current.len());
        for (key, snapshot) in current {
            let mut window = samples.remove(&key).unwrap_or_default();
            if window.len() == WINDOW {
                window.pop_front();
            }
            window.push_back((now, snapshot));
            next.insert(key, window);
        }
        *samples = next;
    }

    /// The rates of `key` from its oldest kept sample to `now` (zero before two samples).
    pub fn rates(&self, key: &RateKey, now: CounterSnapshot) -> Rates {
        let samples = self.samples.lock();
        let Some((at, then)) = samples.get(key).and_then(|w| w.front()) else {
            return Rates::default();
        };
        let secs = at.elapsed().as_secs_f64();
        if secs < 0.5 {
            return Rates::default();
        }
        let per_sec = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
        Rates {
            publish: per_sec(now.publish, then.publish),
            deliver_get: per_sec(now.deliver_get, then.deliver_get),
            redeliver: per_sec(now.redeliver, then.redeliver),
            ack: per_sec(now.ack, then.ack),
        }
    }

    /// Sample every [`SAMPLE_PERIOD`] until the broker is dropped.
    pub fn spawn(self: &Arc<Self>, broker: &Arc<Broker>) {
        let tracker = Arc::downgrade(self);
        let broker = Arc::downgrade(broker);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (Some(tracker), Some(broker)) = (tracker.upgrade(), broker.upgrade()) else {
                    return;
                };
                tracker.sample(&broker);
            }
        });
    }
}
