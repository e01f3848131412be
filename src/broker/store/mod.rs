//! Durable storage behind one narrow trait.
//!
//! The broker calls the store for three things: topology (durable exchanges, queues,
//! bindings), which is written synchronously and is on disk when the call returns;
//! message operations (a persistent message enqueued on a durable queue, removed on ack),
//! which are group-committed: [`Store::submit`] returns at once and the `on_durable`
//! callback runs after the batch holding the operations has been fsynced; and recovery at
//! start. Operations are applied in submission order.

use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::message::{FieldTable, Message};

mod codec;
pub mod fjall_store;
pub mod memory;

pub use fjall_store::{FjallStore, FSYNC_METRIC};

/// Whether an enqueue handed to [`Store::submit_dispatchable`] went straight to a consumer.
/// The queue decides it once, right after its dispatch attempt (in the same critical
/// section as the submit); until then it is undecided, and a store that reads it early
/// should wait for the decision rather than guess "not dispatched".
#[derive(Debug, Default)]
pub struct DispatchHint(AtomicU8);

const HINT_UNDECIDED: u8 = 0;
const HINT_DISPATCHED: u8 = 1;
const HINT_KEPT: u8 = 2;

impl DispatchHint {
    /// An undecided hint.
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicU8::new(HINT_UNDECIDED)))
    }

    /// A hint decided from the start.
    pub fn decided(dispatched: bool) -> Arc<Self> {
        let hint = Self::new();
        hint.decide(dispatched);
        hint
    }

    /// Record whether the message went to a consumer.
    pub fn decide(&self, dispatched: bool) {
        let v = if dispatched {
            HINT_DISPATCHED
        } else {
            HINT_KEPT
        };
        self.0.store(v, Ordering::Release);
    }

    /// `Some(dispatched)` once decided.
    pub fn get(&self) -> Option<bool> {
        match self.0.load(Ordering::Acquire) {
            HINT_DISPATCHED => Some(true),
            HINT_KEPT => Some(false),
            _ => None,
        }
    }
}
pub use fjall_store::SyncPolicy;
pub use memory::MemoryStore;

/// A storage failure. The broker treats it as an internal error (541).
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// A durable exchange as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeRecord {
    pub vhost: String,
    pub name: String,
    /// `direct`, `fanout`, `topic` or `headers`.
    pub kind: String,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
}

/// A durable queue as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRecord {
    pub vhost: String,
    pub name: String,
    pub auto_delete: bool,
    pub arguments: FieldTable,
}

/// What a binding points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationKind {
    Queue,
    Exchange,
}

/// A binding between two durable entities, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BindingRecord {
    pub vhost: String,
    pub source: String,
    pub destination: String,
    pub destination_kind: DestinationKind,
    pub routing_key: String,
    pub arguments: FieldTable,
}

/// One message operation of a group commit.
#[derive(Debug, Clone)]
pub enum MessageOp {
    /// A persistent message enters a durable queue at position `seq` (unique and increasing
    /// per queue). `expires_at` is the absolute expiry in ms since the Unix epoch, if any.
    Enqueue {
        vhost: String,
        queue: String,
        seq: u64,
        expires_at: Option<u64>,
        message: Arc<Message>,
    },
    /// The message at `seq` left the queue (acked, expired, dropped, dead-lettered).
    Remove {
        vhost: String,
        queue: String,
        seq: u64,
    },
}

/// Called once the operations of a [`Store::submit`] are durable (or failed to be).
pub type OnDurable = Box<dyn FnOnce(StoreResult<()>) + Send + 'static>;

/// A message recovered at start, in queue order.
#[derive(Debug, Clone)]
pub struct RecoveredMessage {
    pub seq: u64,
    pub expires_at: Option<u64>,
    pub message: Message,
}

/// A durable queue with the messages it held, ordered by `seq`.
#[derive(Debug, Clone)]
pub struct RecoveredQueue {
    pub record: QueueRecord,
    pub messages: Vec<RecoveredMessage>,
}

/// Everything the store held at start.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    pub exchanges: Vec<ExchangeRecord>,
    pub queues: Vec<RecoveredQueue>,
    pub bindings: Vec<BindingRecord>,
}

/// Durable storage for the broker core.
pub trait Store: Send + Sync + 'static {
    /// Store (or overwrite) a durable exchange; durable on return.
    fn save_exchange(&self, record: &ExchangeRecord) -> StoreResult<()>;
    /// Forget a durable exchange and the bindings whose source or destination it is.
    fn delete_exchange(&self, vhost: &str, name: &str) -> StoreResult<()>;
    /// Store (or overwrite) a durable queue; durable on return.
    fn save_queue(&self, record: &QueueRecord) -> StoreResult<()>;
    /// Forget a durable queue, its messages and the bindings to it.
    fn delete_queue(&self, vhost: &str, name: &str) -> StoreResult<()>;
    /// Store a binding between durable entities; durable on return.
    fn save_binding(&self, record: &BindingRecord) -> StoreResult<()>;
    /// Forget a binding (same vhost, source, destination, kind, key and arguments).
    fn delete_binding(&self, record: &BindingRecord) -> StoreResult<()>;
    /// Remove every stored message of a queue (purge); durable on return.
    fn purge_queue(&self, vhost: &str, name: &str) -> StoreResult<()>;
    /// Queue message operations for the next group commit. `on_durable` runs (on the
    /// store's own thread) after they are fsynced; it must not block.
    fn submit(&self, ops: Vec<MessageOp>, on_durable: Option<OnDurable>);
    /// Like [`Store::submit`] for one enqueue whose message may be on its way to a consumer
    /// already: the queue decides `dispatched` just after the call. A store that batches
    /// writes may then wait briefly for the consumer's ack, which cancels the write: a
    /// message consumed before it was written never needs the disk (ActiveMQ's "concurrent
    /// store and dispatch"). The default ignores the hint.
    fn submit_dispatchable(
        &self,
        ops: Vec<MessageOp>,
        on_durable: Option<OnDurable>,
        dispatched: Arc<DispatchHint>,
    ) {
        let _ = dispatched;
        self.submit(ops, on_durable);
    }
    /// Everything stored, for recovery at start.
    fn recover(&self) -> StoreResult<Recovered>;
    /// Wait until every submitted operation is durable (used at shutdown).
    fn flush(&self) -> StoreResult<()>;
}

/// Open the configured store: fjall in `dir` when one is given, in memory otherwise
/// (`sync` is then irrelevant).
pub fn open_store(dir: Option<&Path>, sync: SyncPolicy) -> StoreResult<Arc<dyn Store>> {
    Ok(match dir {
        Some(dir) => Arc::new(FjallStore::open(dir, sync)?),
        None => Arc::new(MemoryStore::new()),
    })
}
