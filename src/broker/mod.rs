//! The AMQP 0-9-1 broker core: vhosts, exchanges, queues, sessions and durable storage.
//!
//! It knows no wire protocol. Every front-end (AMQP, STOMP, OpenWire, the JNI shim) and
//! every route meets it through this API with the one internal [`Message`] type:
//! [`VHost`] to declare, bind and publish; [`Session`] to consume, get and acknowledge.
//!
//! Concurrency: no actor per queue. Publishing routes in the caller's task and each queue
//! dispatches under its own short lock, handing deliveries to the consumer's
//! [`DeliverySink`]. Persistent messages on durable queues go to the [`Store`], which
//! group-commits them; a publisher confirm fires once the write is durable.

pub mod alarm;
pub mod connections;
pub mod exchange;
pub mod queue;
pub mod session;
pub mod stats;
pub mod store;
pub mod vhost;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use parking_lot::{Mutex, RwLock};
use rand::RngCore;
use tokio::sync::watch;

use crate::error::{Error, Result};

pub use self::exchange::ExchangeKind;
pub use self::session::{ConsumeOptions, Delivery, DeliverySink, GetOk, MessageFilter, Session};
pub use self::store::Store;
pub use self::vhost::{ExchangeOptions, PublishOutcome, QueueInfo, QueueOptions, VHost};

/// Identifies one client connection (exclusive queues belong to one).
pub type ConnectionId = u64;

/// Called once per confirmed publish: true = ack, false = nack.
pub type ConfirmCallback = Box<dyn FnOnce(bool) + Send + 'static>;

/// The whole broker: its vhosts and store.
pub struct Broker {
    vhosts: RwLock<HashMap<String, Arc<VHost>>>,
    store: Arc<dyn Store>,
    next_connection: AtomicU64,
    alarm: watch::Sender<bool>,
    connections: Arc<connections::ConnectionRegistry>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("vhosts", &self.vhosts.read().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Broker {
    /// Create the broker with `vhosts` and everything the store recovered.
    pub fn open(store: Arc<dyn Store>, vhosts: &[String]) -> Result<Arc<Broker>> {
        let (alarm, _) = watch::channel(false);
        let broker = Arc::new(Broker {
            vhosts: RwLock::new(HashMap::new()),
            store: store.clone(),
            next_connection: AtomicU64::new(1),
            alarm,
            connections: Arc::default(),
        });
        for name in vhosts {
            broker.add_vhost(name);
        }
        let recovered = store
            .recover()
            .map_err(|e| Error::internal(e.to_string()))?;
        let (mut exchanges, mut queues, mut messages) = (0usize, 0usize, 0usize);
        for record in recovered.exchanges {
            let vhost = broker.add_vhost(&record.vhost);
            match vhost.restore_exchange(record) {
                Ok(()) => exchanges += 1,
                Err(e) => tracing::warn!(error = %e, "Skipping a stored exchange."),
            }
        }
        for q in recovered.queues {
            let vhost = broker.add_vhost(&q.record.vhost);
            let n = q.messages.len();
            match vhost.restore_queue(q) {
                Ok(()) => {
                    queues += 1;
                    messages += n;
                }
                Err(e) => tracing::warn!(error = %e, "Skipping a stored queue."),
            }
        }
        for b in recovered.bindings {
            let vhost = broker.add_vhost(&b.vhost);
            if let Err(e) = vhost.restore_binding(b) {
                tracing::warn!(error = %e, "Skipping a stored binding.");
            }
        }
        tracing::info!(exchanges, queues, messages, "Recovered durable state.");
        Ok(broker)
    }

    /// The vhost `name`, created if it does not exist yet (definitions import).
    pub fn ensure_vhost(&self, name: &str) -> Arc<VHost> {
        self.add_vhost(name)
    }

    fn add_vhost(&self, name: &str) -> Arc<VHost> {
        self.vhosts
            .write()
            .entry(name.to_string())
            .or_insert_with(|| VHost::new(name, self.store.clone()))
            .clone()
    }

    /// Delete the vhost `name` with everything in it (RabbitMQ's `DELETE /api/vhosts`): its
    /// connections are closed with `reason`, its queues (stored messages included) and
    /// exchanges deleted. False when there is no such vhost.
    pub fn delete_vhost(&self, name: &str, reason: &str) -> Result<bool> {
        let Some(vhost) = self.vhosts.write().remove(name) else {
            return Ok(false);
        };
        for c in self.connections.list() {
            if c.meta.vhost == name {
                c.close(reason);
            }
        }
        vhost.delete_everything()?;
        Ok(true)
    }

    pub fn vhost(&self, name: &str) -> Option<Arc<VHost>> {
        self.vhosts.read().get(name).cloned()
    }

    pub fn vhosts(&self) -> Vec<Arc<VHost>> {
        self.vhosts.read().values().cloned().collect()
    }

    /// The connections open now, on every listener.
    pub fn connections(&self) -> &Arc<connections::ConnectionRegistry> {
        &self.connections
    }

    pub fn next_connection_id(&self) -> ConnectionId {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// True while a resource alarm (memory or disk) is raised: publishers must be blocked.
    pub fn alarms(&self) -> watch::Receiver<bool> {
        self.alarm.subscribe()
    }

    pub fn set_alarm(&self, raised: bool) {
        self.alarm.send_if_modified(|current| {
            let changed = *current != raised;
            *current = raised;
            changed
        });
    }

    /// Wait until every store write is durable (at shutdown).
    pub fn flush(&self) -> Result<()> {
        self.store
            .flush()
            .map_err(|e| Error::internal(e.to_string()))
    }

    /// One housekeeping pass: TTL expiry and `x-expires` queue deletion.
    pub fn tick(&self) {
        let now = now_ms();
        for vhost in self.vhosts() {
            vhost.tick(now);
        }
    }

    /// Run housekeeping every `period` on the current tokio runtime until the broker is
    /// dropped.
    pub fn spawn_housekeeping(self: &Arc<Self>, period: Duration) {
        let weak: Weak<Broker> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(broker) = weak.upgrade() else { return };
                broker.tick();
            }
        });
    }
}

/// Counts the writes one publish waits for before its confirm fires.
pub(crate) struct PendingConfirm {
    remaining: AtomicUsize,
    nacked: AtomicBool,
    callback: Mutex<Option<ConfirmCallback>>,
}

impl PendingConfirm {
    pub(crate) fn new(callback: ConfirmCallback) -> Arc<Self> {
        Arc::new(PendingConfirm {
            // One for the publish itself, released when routing is done.
            remaining: AtomicUsize::new(1),
            nacked: AtomicBool::new(false),
            callback: Mutex::new(Some(callback)),
        })
    }

    /// One more store write to wait for; the returned callback releases it.
    pub(crate) fn expect_write(self: &Arc<Self>) -> store::OnDurable {
        self.remaining.fetch_add(1, Ordering::AcqRel);
        let me = self.clone();
        Box::new(move |result| {
            if let Err(e) = result {
                tracing::error!(error = %e, "A persistent message could not be stored; nacking it.");
                me.nack();
            }
            me.release();
        })
    }

    pub(crate) fn nack(&self) {
        self.nacked.store(true, Ordering::Release);
    }

    pub(crate) fn release(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if let Some(cb) = self.callback.lock().take() {
                cb(!self.nacked.load(Ordering::Acquire));
            }
        }
    }
}

/// Milliseconds since the Unix epoch (TTL deadlines survive restarts, so wall time).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A random suffix for server-generated names, as RabbitMQ's `amq.gen-…`.
pub(crate) fn random_suffix() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
