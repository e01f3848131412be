//! Durable storage behind one narrow trait.
//!
//! The broker calls the store for three things: topology (durable exchanges, queues,
//! bindings), which is written synchronously and is on disk when the call returns;
//! message operations (a persistent message enqueued on a durable queue, removed on ack),
//! which are group-committed: [`Store::submit`] returns at once and the `on_durable`
//! callback runs after the batch holding the operations has been fsynced; and recovery at
//! start. Operations are applied in submission order.

use std::path::Path;
use std::sync::Arc;

use crate::message::{FieldTable, Message};

mod codec;
pub mod fjall_store;
pub mod memory;

pub use fjall_store::{FjallStore, FSYNC_METRIC};

/// A persistent enqueue whose message went straight to a consumer, held back for a moment
/// before it is written: a consumer's ack in that time cancels the write and its fsync, and
/// the publisher's confirm is due at once (ActiveMQ's "concurrent store and dispatch"; a
/// message consumed before it was written never needs the disk).
///
/// Whoever takes the operation first owns it: the store, to write it ([`HeldWrite::take`]),
/// or the queue, because the message left it ([`HeldWrite::cancel`]). The queue hands it to
/// the store with [`Store::hold`].
pub struct HeldWrite {
    pending: parking_lot::Mutex<Option<(MessageOp, Option<OnDurable>)>>,
}

/// What [`HeldWrite::cancel`] found.
pub enum Cancelled {
    /// Never written: run this confirm callback (if any) now; nothing is on disk to remove.
    Unwritten(Option<OnDurable>),
    /// The store took it first: remove the stored message as usual.
    Written,
}

impl HeldWrite {
    pub fn new(op: MessageOp, on_durable: Option<OnDurable>) -> Arc<Self> {
        Arc::new(HeldWrite {
            pending: parking_lot::Mutex::new(Some((op, on_durable))),
        })
    }

    /// The operation and its callback, to write now; `None` once taken or cancelled.
    pub fn take(&self) -> Option<(MessageOp, Option<OnDurable>)> {
        self.pending.lock().take()
    }

    /// The message left its queue: drop the write if it has not been taken yet.
    pub fn cancel(&self) -> Cancelled {
        match self.take() {
            Some((_, on_durable)) => Cancelled::Unwritten(on_durable),
            None => Cancelled::Written,
        }
    }

    /// Taken by the store or cancelled.
    pub fn is_settled(&self) -> bool {
        self.pending.lock().is_none()
    }
}

impl std::fmt::Debug for HeldWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldWrite")
            .field("settled", &self.is_settled())
            .finish()
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
    /// Write `write` shortly unless it is cancelled first (see [`HeldWrite`]); `on_durable`
    /// runs as for [`Store::submit`] once it is written. A store that does not batch writes
    /// has nothing to gain from waiting: the default writes it at once.
    fn hold(&self, write: Arc<HeldWrite>) {
        if let Some((op, on_durable)) = write.take() {
            self.submit(vec![op], on_durable);
        }
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
