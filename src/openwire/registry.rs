//! What the OpenWire connections of one listener share: who holds which ConnectionId and
//! client id (failover eviction, client id uniqueness), the temporary destinations and the
//! advisory consumers that must hear about them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::subscription::ConsumerState;
use super::writer::Outgoing;

/// A temporary destination's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TempKind {
    Queue,
    Topic,
}

/// One registered connection.
#[derive(Debug, Clone)]
struct Registered {
    generation: u64,
    client_id: String,
    kill: CancellationToken,
}

/// An advisory consumer (`ActiveMQ.Advisory.TempQueue,ActiveMQ.Advisory.TempTopic`).
#[derive(Debug, Clone)]
pub struct AdvisoryConsumer {
    pub generation: u64,
    pub state: Arc<ConsumerState>,
    pub out: UnboundedSender<Outgoing>,
    pub queues: bool,
    pub topics: bool,
}

/// A live temporary destination.
#[derive(Debug, Clone)]
pub struct TempDestination {
    pub kind: TempKind,
    /// The ConnectionId (string) of the connection that created it.
    pub owner: String,
    pub generation: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// ConnectionId → its registration.
    connections: HashMap<String, Registered>,
    /// client id → ConnectionId holding it.
    client_ids: HashMap<String, String>,
    temps: HashMap<(TempKind, String), TempDestination>,
    advisories: Vec<AdvisoryConsumer>,
    /// Queue → its JMS exclusive consumers; the first is the active one.
    exclusive: HashMap<String, Vec<Arc<ConsumerState>>>,
}

/// Shared by every connection of one listener.
#[derive(Debug, Default)]
pub struct Registry {
    next_generation: AtomicU64,
    inner: Mutex<Inner>,
}

/// Why a ConnectionInfo was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdInUse(pub String);

impl Registry {
    /// A number identifying one connection's lifetime (never reused).
    pub fn generation(&self) -> u64 {
        self.next_generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Register `connection_id` with `client_id`. A connection already registered under the
    /// same ConnectionId (a failover reconnect replaying it) is killed and replaced, as
    /// ActiveMQ does ("last one in wins"); a client id held by another ConnectionId is
    /// refused.
    pub fn register(
        &self,
        connection_id: &str,
        client_id: &str,
        generation: u64,
        kill: CancellationToken,
    ) -> Result<(), ClientIdInUse> {
        let mut inner = self.inner.lock();
        if let Some(old) = inner.connections.get(connection_id) {
            if old.generation != generation {
                tracing::info!(
                    connection_id,
                    "OpenWire ConnectionId reconnected; evicting the stale connection."
                );
                old.kill.cancel();
            }
            let old_client = old.client_id.clone();
            if inner.client_ids.get(&old_client).map(String::as_str) == Some(connection_id) {
                inner.client_ids.remove(&old_client);
            }
            inner.connections.remove(connection_id);
        }
        if let Some(holder) = inner.client_ids.get(client_id) {
            if holder != connection_id {
                return Err(ClientIdInUse(client_id.to_string()));
            }
        }
        inner
            .client_ids
            .insert(client_id.to_string(), connection_id.to_string());
        inner.connections.insert(
            connection_id.to_string(),
            Registered {
                generation,
                client_id: client_id.to_string(),
                kill,
            },
        );
        Ok(())
    }

    /// The connection of `generation` ended: forget what it registered (not what a newer
    /// connection with the same ConnectionId registered since).
    pub fn unregister(&self, connection_id: &str, generation: u64) {
        let mut inner = self.inner.lock();
        if let Some(r) = inner.connections.get(connection_id) {
            if r.generation == generation {
                let client = r.client_id.clone();
                inner.connections.remove(connection_id);
                if inner.client_ids.get(&client).map(String::as_str) == Some(connection_id) {
                    inner.client_ids.remove(&client);
                }
            }
        }
        inner.advisories.retain(|a| a.generation != generation);
    }

    /// Add an advisory consumer; returns the temporary destinations that exist now (to be
    /// replayed to it, as ActiveMQ's AdvisoryBroker does).
    pub fn add_advisory(&self, consumer: AdvisoryConsumer) -> Vec<(String, TempDestination)> {
        let mut inner = self.inner.lock();
        let existing = inner
            .temps
            .iter()
            .filter(|((kind, _), _)| match kind {
                TempKind::Queue => consumer.queues,
                TempKind::Topic => consumer.topics,
            })
            .map(|((_, name), t)| (name.clone(), t.clone()))
            .collect();
        inner.advisories.push(consumer);
        existing
    }

    pub fn remove_advisory(&self, state: &Arc<ConsumerState>) {
        self.inner
            .lock()
            .advisories
            .retain(|a| !Arc::ptr_eq(&a.state, state));
    }

    /// The advisory consumers interested in `kind`.
    pub fn advisories(&self, kind: TempKind) -> Vec<AdvisoryConsumer> {
        self.inner
            .lock()
            .advisories
            .iter()
            .filter(|a| match kind {
                TempKind::Queue => a.queues,
                TempKind::Topic => a.topics,
            })
            .cloned()
            .collect()
    }

    /// A JMS exclusive consumer arrives on `queue`: true when it is the active one.
    pub fn exclusive_join(&self, queue: &str, state: &Arc<ConsumerState>) -> bool {
        let mut inner = self.inner.lock();
        let line = inner.exclusive.entry(queue.to_string()).or_default();
        line.push(state.clone());
        line.len() == 1
    }

    /// A JMS exclusive consumer leaves `queue`: the consumer that becomes active, if any.
    pub fn exclusive_leave(
        &self,
        queue: &str,
        state: &Arc<ConsumerState>,
    ) -> Option<Arc<ConsumerState>> {
        let mut inner = self.inner.lock();
        let line = inner.exclusive.get_mut(queue)?;
        let was_active = line.first().is_some_and(|s| Arc::ptr_eq(s, state));
        line.retain(|s| !Arc::ptr_eq(s, state));
        let next = line.first().cloned();
        if line.is_empty() {
            inner.exclusive.remove(queue);
        }
        if was_active {
            next
        } else {
            None
        }
    }

    pub fn add_temp(&self, name: &str, temp: TempDestination) {
        self.inner
            .lock()
            .temps
            .insert((temp.kind, name.to_string()), temp);
    }

    /// Remove a temporary destination; its record if it existed.
    pub fn remove_temp(&self, kind: TempKind, name: &str) -> Option<TempDestination> {
        self.inner.lock().temps.remove(&(kind, name.to_string()))
    }

    pub fn temp(&self, kind: TempKind, name: &str) -> Option<TempDestination> {
        self.inner
            .lock()
            .temps
            .get(&(kind, name.to_string()))
            .cloned()
    }

    /// Every temporary destination created by the connection of `generation`.
    pub fn temps_of(&self, generation: u64) -> Vec<(String, TempDestination)> {
        self.inner
            .lock()
            .temps
            .iter()
            .filter(|(_, t)| t.generation == generation)
            .map(|((_, name), t)| (name.clone(), t.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_unique_and_a_replayed_connection_id_evicts() {
        let r = Registry::default();
        let (g1, g2, g3) = (r.generation(), r.generation(), r.generation());
        let k1 = CancellationToken::new();
        r.register("ID:a", "c1", g1, k1.clone()).unwrap();
        assert_eq!(
            r.register("ID:b", "c1", g2, CancellationToken::new()),
            Err(ClientIdInUse("c1".into()))
        );
        // Failover: same ConnectionId, new connection.
        r.register("ID:a", "c1", g3, CancellationToken::new())
            .unwrap();
        assert!(k1.is_cancelled());
        // The evicted connection's cleanup does not remove the new registration.
        r.unregister("ID:a", g1);
        assert_eq!(
            r.register("ID:b", "c1", g2, CancellationToken::new()),
            Err(ClientIdInUse("c1".into()))
        );
        r.unregister("ID:a", g3);
        r.register("ID:b", "c1", g2, CancellationToken::new())
            .unwrap();
    }
}
