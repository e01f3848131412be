//! The connections open right now, whatever their protocol, for the management API,
//! metrics and the `max_connections` limit.
//!
//! A front-end registers a connection once its peer has logged in (so every entry has a
//! user and a vhost) and keeps the returned [`ConnectionGuard`] for the connection's life;
//! dropping the guard removes the entry. The core does not interpret the protocol name: it
//! is a label the front-end chooses (`amqp`, `stomp`, `openwire`, `jni`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::SystemTime;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::broker::session::Session;
use crate::broker::ConnectionId;

/// What a front-end knows about a connection when its peer has logged in.
#[derive(Debug, Clone)]
pub struct ConnectionMeta {
    pub id: ConnectionId,
    /// `amqp`, `stomp`, `openwire` or `jni`.
    pub protocol: &'static str,
    pub peer: SocketAddr,
    pub user: String,
    pub vhost: String,
    /// What the client says it is (AMQP `client_properties.product`, STOMP `host`, the
    /// OpenWire client id), if anything.
    pub client: Option<String>,
    /// Whether the connection runs over TLS.
    pub tls: bool,
}

/// A registered connection.
#[derive(Debug)]
pub struct ConnectionEntry {
    pub meta: ConnectionMeta,
    pub connected_at: SystemTime,
    /// Channels (AMQP) or sessions (OpenWire, STOMP) by number.
    sessions: Mutex<BTreeMap<u32, Weak<Session>>>,
    /// Cancelled when an operator closes the connection (management API); the front-end
    /// closes it its protocol's way with [`ConnectionEntry::close_reason`].
    close_requested: CancellationToken,
    close_reason: Mutex<Option<String>>,
}

impl ConnectionEntry {
    /// RabbitMQ's connection name: `PEER -> LOCAL`; ours adds the id, which is unique even
    /// when two listeners share a peer address.
    pub fn name(&self) -> String {
        format!("{} #{}", self.meta.peer, self.meta.id)
    }

    /// The channels or sessions still open, by number.
    pub fn sessions(&self) -> Vec<(u32, Arc<Session>)> {
        self.sessions
            .lock()
            .iter()
            .filter_map(|(n, s)| s.upgrade().map(|s| (*n, s)))
            .collect()
    }

    /// Ask the connection's front-end to close it, telling the client `reason`.
    pub fn close(&self, reason: impl Into<String>) {
        *self.close_reason.lock() = Some(reason.into());
        self.close_requested.cancel();
    }

    /// Cancelled once [`ConnectionEntry::close`] was called.
    pub fn close_requested(&self) -> CancellationToken {
        self.close_requested.clone()
    }

    /// Why the connection is being closed by an operator.
    pub fn close_reason(&self) -> String {
        self.close_reason
            .lock()
            .clone()
            .unwrap_or_else(|| "closed by an operator".to_string())
    }

    pub fn session_count(&self) -> usize {
        self.sessions
            .lock()
            .values()
            .filter(|s| s.strong_count() > 0)
            .count()
    }
}

/// Resolves once an operator asked to close `entry`'s connection; never for `None` (a
/// connection whose peer has not logged in yet).
pub async fn closed_by_operator(entry: Option<&Arc<ConnectionEntry>>) {
    match entry {
        Some(entry) => entry.close_requested.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Why a connection may not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("connection limit ({0}) is reached")]
pub struct ConnectionLimitReached(pub usize);

/// Every open connection of the broker.
#[derive(Debug, Default)]
pub struct ConnectionRegistry {
    entries: Mutex<HashMap<ConnectionId, Arc<ConnectionEntry>>>,
    /// 0: no limit.
    max_connections: AtomicUsize,
}

impl ConnectionRegistry {
    /// Set the most connections that may be open at once (0: no limit). Connections open
    /// beyond a lowered limit stay; new ones are refused.
    pub fn set_max_connections(&self, max: usize) {
        self.max_connections.store(max, Ordering::Relaxed);
    }

    /// Add a logged-in connection, unless the limit is reached.
    pub fn register(
        self: &Arc<Self>,
        meta: ConnectionMeta,
    ) -> Result<ConnectionGuard, ConnectionLimitReached> {
        let mut entries = self.entries.lock();
        let max = self.max_connections.load(Ordering::Relaxed);
        if max > 0 && entries.len() >= max {
            return Err(ConnectionLimitReached(max));
        }
        let entry = Arc::new(ConnectionEntry {
            meta,
            connected_at: SystemTime::now(),
            sessions: Mutex::new(BTreeMap::new()),
            close_requested: CancellationToken::new(),
            close_reason: Mutex::new(None),
        });
        entries.insert(entry.meta.id, entry.clone());
        Ok(ConnectionGuard {
            registry: Arc::downgrade(self),
            entry,
        })
    }

    /// The open connections, oldest first.
    pub fn list(&self) -> Vec<Arc<ConnectionEntry>> {
        let mut all: Vec<_> = self.entries.lock().values().cloned().collect();
        all.sort_by_key(|e| e.meta.id);
        all
    }

    /// The connection named `name` ([`ConnectionEntry::name`]), if open.
    pub fn find(&self, name: &str) -> Option<Arc<ConnectionEntry>> {
        self.entries
            .lock()
            .values()
            .find(|e| e.name() == name)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keeps a connection registered until dropped.
#[derive(Debug)]
pub struct ConnectionGuard {
    registry: Weak<ConnectionRegistry>,
    entry: Arc<ConnectionEntry>,
}

impl ConnectionGuard {
    /// A channel (AMQP) or session (OpenWire, STOMP) was opened.
    pub fn session_opened(&self, number: u32, session: &Arc<Session>) {
        self.entry
            .sessions
            .lock()
            .insert(number, Arc::downgrade(session));
    }

    pub fn session_closed(&self, number: u32) {
        self.entry.sessions.lock().remove(&number);
    }

    pub fn entry(&self) -> &Arc<ConnectionEntry> {
        &self.entry
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.entries.lock().remove(&self.entry.meta.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: ConnectionId) -> ConnectionMeta {
        ConnectionMeta {
            id,
            protocol: "amqp",
            peer: SocketAddr::from(([127, 0, 0, 1], 40000 + id as u16)),
            user: "guest".into(),
            vhost: "/".into(),
            client: None,
            tls: false,
        }
    }

    #[test]
    fn a_dropped_guard_unregisters() {
        let registry = Arc::new(ConnectionRegistry::default());
        let a = registry.register(meta(1)).unwrap();
        let b = registry.register(meta(2)).unwrap();
        assert_eq!(registry.len(), 2);
        drop(a);
        let left: Vec<_> = registry.list().iter().map(|e| e.meta.id).collect();
        assert_eq!(left, vec![2]);
        drop(b);
        assert!(registry.is_empty());
    }

    #[test]
    fn close_requests_reach_the_connection_by_name() {
        let registry = Arc::new(ConnectionRegistry::default());
        let guard = registry.register(meta(7)).unwrap();
        let token = guard.entry().close_requested();
        assert!(!token.is_cancelled());
        let name = guard.entry().name();
        registry
            .find(&name)
            .expect("found by name")
            .close("maintenance");
        assert!(token.is_cancelled());
        assert_eq!(guard.entry().close_reason(), "maintenance");
        assert!(registry.find("nobody #0").is_none());
    }

    #[test]
    fn the_limit_refuses_new_connections_only() {
        let registry = Arc::new(ConnectionRegistry::default());
        registry.set_max_connections(1);
        let first = registry.register(meta(1)).unwrap();
        assert_eq!(
            registry.register(meta(2)).unwrap_err(),
            ConnectionLimitReached(1)
        );
        drop(first);
        assert!(registry.register(meta(3)).is_ok());
    }
}
