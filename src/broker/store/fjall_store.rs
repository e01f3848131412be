//! The durable [`Store`] on fjall: topology and persistent messages on local disk.
//!
//! Owns the database directory, its two keyspaces (`meta`: exchanges, queues, bindings;
//! `messages`: one record per stored message, see [`super::codec`] for the layout) and the
//! single writer thread.
//!
//! Every write goes through that one writer thread, in submission order: message
//! operations ([`Store::submit`]) are group-committed (the thread drains whatever is
//! pending, up to [`MAX_BATCH_OPS`] operations or [`MAX_BATCH_BYTES`] of bodies, writes one
//! atomic fjall batch, fsyncs it, then runs the `on_durable` callbacks in order); topology
//! writes and purges are sent to the same thread and the caller waits for them. Routing
//! topology through the writer too is what keeps "enqueue on q, then delete q" from
//! resurrecting the message: the delete sees every operation submitted before it.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch, PersistMode};
use parking_lot::Mutex;

use super::codec;
use super::{
    BindingRecord, DestinationKind, DispatchHint, ExchangeRecord, MessageOp, OnDurable,
    QueueRecord, Recovered, RecoveredMessage, RecoveredQueue, Store, StoreError, StoreResult,
};

/// At most this many message operations go into one group commit.
pub const MAX_BATCH_OPS: usize = 4096;
/// A group commit stops draining once its message bodies reach this many bytes.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// The histogram of message-batch fsync times, in seconds (a write batch with
/// `every-batch`, the periodic fsync with an interval).
pub const FSYNC_METRIC: &str = "mqbridge_store_fsync_seconds";

/// When message operations are fsynced. Topology writes, purges and [`Store::flush`]
/// always fsync before they return, under either policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Group commit: one `fdatasync` per batch, callbacks right after it.
    EveryBatch,
    /// Batches are written to the OS at once but fsynced at most once per interval; the
    /// callbacks of every batch run after the fsync that covers it.
    Interval(Duration),
}

fn fjall_err(context: &str, e: fjall::Error) -> StoreError {
    StoreError(format!("{context}: {e}"))
}

/// The database handles, shared by the writer thread and readers.
#[derive(Clone)]
struct Shared {
    db: Database,
    meta: Keyspace,
    messages: Keyspace,
}

/// Work run on the writer thread, in order with message operations. It commits its own
/// fjall batch; the writer makes it durable.
type Job = Box<dyn FnOnce(&Shared) -> StoreResult<()> + Send>;

/// What a consumer's ack may cancel: decided once the enqueued message went to a consumer
/// (or did not).
type Dispatched = Arc<DispatchHint>;

enum Cmd {
    Ops(Vec<MessageOp>, Option<OnDurable>, Option<Dispatched>),
    /// Make everything before this durable, then run the job (if any) durably, then reply.
    Sync(Option<Job>, mpsc::SyncSender<StoreResult<()>>),
    Shutdown,
}

/// fjall-backed store; see the module documentation.
pub struct FjallStore {
    shared: Shared,
    tx: Sender<Cmd>,
    writer: Mutex<Option<JoinHandle<()>>>,
    writer_id: ThreadId,
}

impl FjallStore {
    fn send_ops(
        &self,
        ops: Vec<MessageOp>,
        on_durable: Option<OnDurable>,
        hint: Option<Dispatched>,
    ) {
        if let Err(mpsc::SendError(Cmd::Ops(_, Some(cb), _))) =
            self.tx.send(Cmd::Ops(ops, on_durable, hint))
        {
            cb(Err(StoreError(
                "the store writer thread has stopped".into(),
            )));
        }
    }

    /// Open (or create) the store in `dir` and start its writer thread.
    pub fn open(dir: &Path, sync: SyncPolicy) -> StoreResult<Self> {
        let db = Database::builder(dir)
            .open()
            .map_err(|e| fjall_err(&format!("opening {}", dir.display()), e))?;
        let meta = db
            .keyspace("meta", KeyspaceCreateOptions::default)
            .map_err(|e| fjall_err("opening keyspace meta", e))?;
        let messages = db
            .keyspace("messages", KeyspaceCreateOptions::default)
            .map_err(|e| fjall_err("opening keyspace messages", e))?;
        let shared = Shared { db, meta, messages };
        let (tx, rx) = mpsc::channel();
        let writer_state = Writer::new(shared.clone(), sync);
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_state.run(rx))
            .map_err(|e| StoreError(format!("starting the store writer thread: {e}")))?;
        let writer_id = handle.thread().id();
        Ok(FjallStore {
            shared,
            tx,
            writer: Mutex::new(Some(handle)),
            writer_id,
        })
    }

    /// Run `job` on the writer thread after everything submitted so far, and wait for it
    /// to be durable.
    fn sync_job(&self, job: Option<Job>) -> StoreResult<()> {
        // From an `on_durable` callback this would wait for its own thread for ever.
        if std::thread::current().id() == self.writer_id {
            return Err(StoreError(
                "synchronous store call from an on_durable callback".into(),
            ));
        }
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        self.tx
            .send(Cmd::Sync(job, reply_tx))
            .map_err(|_| StoreError("the store writer thread has stopped".into()))?;
        reply_rx
            .recv()
            .map_err(|_| StoreError("the store writer thread stopped before replying".into()))?
    }
}

impl Drop for FjallStore {
    fn drop(&mut self) {
        // The writer drains and fsyncs everything before Shutdown, then exits.
        let _ = self.tx.send(Cmd::Shutdown);
        // The last handle may be dropped by an `on_durable` callback running on the writer
        // itself; joining our own thread would deadlock, and the writer exits on its own.
        if std::thread::current().id() == self.writer_id {
            return;
        }
        if let Some(handle) = self.writer.lock().take() {
            if handle.join().is_err() {
                tracing::error!("the store writer thread panicked");
            }
        }
    }
}

/// Remove every key starting with `prefix` into `batch`.
fn remove_prefix(ks: &Keyspace, prefix: &[u8], batch: &mut OwnedWriteBatch) -> StoreResult<usize> {
    let mut n = 0;
    for guard in ks.prefix(prefix) {
        let (key, _) = guard.into_inner().map_err(|e| fjall_err("scanning", e))?;
        batch.remove(ks, key);
        n += 1;
    }
    Ok(n)
}

/// Remove the bindings of `vhost` that `doomed` selects. Unreadable bindings are kept
/// (and reported) rather than guessed at.
fn remove_bindings(
    s: &Shared,
    vhost: &str,
    batch: &mut OwnedWriteBatch,
    doomed: impl Fn(&BindingRecord) -> bool,
) -> StoreResult<()> {
    let prefix = codec::binding_vhost_prefix(vhost)?;
    for guard in s.meta.prefix(&prefix) {
        let (key, value) = guard
            .into_inner()
            .map_err(|e| fjall_err("scanning bindings", e))?;
        match codec::decode_binding(&value) {
            Ok(b) if doomed(&b) => batch.remove(&s.meta, key),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(key = %codec::show_key(&key), error = %e, "skipping unreadable binding")
            }
        }
    }
    Ok(())
}

fn commit_durable(batch: OwnedWriteBatch) -> StoreResult<()> {
    batch
        .durability(Some(PersistMode::SyncData))
        .commit()
        .map_err(|e| fjall_err("committing", e))
}

impl Store for FjallStore {
    fn save_exchange(&self, record: &ExchangeRecord) -> StoreResult<()> {
        let key = codec::exchange_key(&record.vhost, &record.name)?;
        let value = codec::encode_exchange(record)?;
        self.sync_job(Some(Box::new(move |s: &Shared| {
            let mut batch = s.db.batch();
            batch.insert(&s.meta, key, value);
            commit_durable(batch)
        })))
    }

    fn delete_exchange(&self, vhost: &str, name: &str) -> StoreResult<()> {
        let key = codec::exchange_key(vhost, name)?;
        let (vhost, name) = (vhost.to_owned(), name.to_owned());
        self.sync_job(Some(Box::new(move |s: &Shared| {
            let mut batch = s.db.batch();
            batch.remove(&s.meta, key);
            remove_bindings(s, &vhost, &mut batch, |b| {
                b.source == name
                    || (b.destination_kind == DestinationKind::Exchange && b.destination == name)
            })?;
            commit_durable(batch)
        })))
    }

    fn save_queue(&self, record: &QueueRecord) -> StoreResult<()> {
        let key = codec::queue_key(&record.vhost, &record.name)?;
        let value = codec::encode_queue(record)?;
        self.sync_job(Some(Box::new(move |s: &Shared| {
            let mut batch = s.db.batch();
            batch.insert(&s.meta, key, value);
            commit_durable(batch)
        })))
    }

    fn delete_queue(&self, vhost: &str, name: &str) -> StoreResult<()> {
        let key = codec::queue_key(vhost, name)?;
        let prefix = codec::queue_messages_prefix(vhost, name)?;
        let (vhost, name) = (vhost.to_owned(), name.to_owned());
        self.sync_job(Some(Box::new(move |s: &Shared| {
            // One atomic batch: the queue never reappears without its bindings or with
            // only part of its messages.
            let mut batch = s.db.batch();
            batch.remove(&s.meta, key);
            remove_prefix(&s.messages, &prefix, &mut batch)?;
            remove_bindings(s, &vhost, &mut batch, |b| {
                b.destination_kind == DestinationKind::Queue && b.destination == name
            })?;
            commit_durable(batch)
        })))
    }

    fn save_binding(&self, record: &BindingRecord) -> StoreResult<()> {
        let key = codec::binding_key(record)?;
        let value = codec::encode_binding(record)?;
        self.sync_job(Some(Box::new(move |s: &Shared| {
            let mut batch = s.db.batch();
            batch.insert(&s.meta, key, value);
            commit_durable(batch)
        })))
    }

    fn delete_binding(&self, record: &BindingRecord) -> StoreResult<()> {
        let key = codec::binding_key(record)?;
        self.sync_job(Some(Box::new(move |s: &Shared| {
            let mut batch = s.db.batch();
            batch.remove(&s.meta, key);
            commit_durable(batch)
        })))
    }

    fn purge_queue(&self, vhost: &str, name: &str) -> StoreResult<()> {
        let prefix = codec::queue_messages_prefix(vhost, name)?;
        self.sync_job(Some(Box::new(move |s: &Shared| {
            let mut batch = s.db.batch();
            remove_prefix(&s.messages, &prefix, &mut batch)?;
            commit_durable(batch)
        })))
    }

    fn submit(&self, ops: Vec<MessageOp>, on_durable: Option<OnDurable>) {
        self.send_ops(ops, on_durable, None);
    }

    fn submit_dispatchable(
        &self,
        ops: Vec<MessageOp>,
        on_durable: Option<OnDurable>,
        dispatched: Arc<DispatchHint>,
    ) {
        self.send_ops(ops, on_durable, Some(dispatched));
    }

    fn recover(&self) -> StoreResult<Recovered> {
        // Read after everything submitted so far has been applied.
        self.flush()?;
        let s = &self.shared;
        let mut out = Recovered::default();
        let mut queue_index: HashMap<(String, String), usize> = HashMap::new();

        for guard in s.meta.iter() {
            let (key, value) = guard
                .into_inner()
                .map_err(|e| fjall_err("reading meta", e))?;
            let decoded = match key.first().copied() {
                Some(codec::TAG_EXCHANGE) => {
                    codec::decode_exchange(&value).map(|r| out.exchanges.push(r))
                }
                Some(codec::TAG_QUEUE) => codec::decode_queue(&value).map(|record| {
                    queue_index.insert(
                        (record.vhost.clone(), record.name.clone()),
                        out.queues.len(),
                    );
                    out.queues.push(RecoveredQueue {
                        record,
                        messages: Vec::new(),
                    });
                }),
                Some(codec::TAG_BINDING) => {
                    codec::decode_binding(&value).map(|r| out.bindings.push(r))
                }
                _ => Err(StoreError("unknown meta key tag".into())),
            };
            if let Err(e) = decoded {
                tracing::warn!(key = %codec::show_key(&key), error = %e, "skipping unreadable topology record");
            }
        }

        // Keys sort by (vhost, queue, seq big-endian): one pass yields each queue's
        // messages in seq order.
        let mut orphans: Vec<Vec<u8>> = Vec::new();
        let mut orphan_queues: HashSet<(String, String)> = HashSet::new();
        for guard in s.messages.iter() {
            let (key, value) = guard
                .into_inner()
                .map_err(|e| fjall_err("reading messages", e))?;
            let (vhost, queue, seq) = match codec::decode_message_key(&key) {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(key = %codec::show_key(&key), error = %e, "skipping message with unreadable key");
                    continue;
                }
            };
            let id = (vhost, queue);
            let Some(&qi) = queue_index.get(&id) else {
                // Left by an enqueue that raced a queue deletion; nobody can ever read it.
                orphans.push(key.to_vec());
                orphan_queues.insert(id);
                continue;
            };
            match codec::decode_message(&value) {
                Ok((expires_at, message)) => out.queues[qi].messages.push(RecoveredMessage {
                    seq,
                    expires_at,
                    message,
                }),
                Err(e) => {
                    tracing::warn!(key = %codec::show_key(&key), error = %e, "skipping unreadable message")
                }
            }
        }
        if !orphans.is_empty() {
            tracing::warn!(
                count = orphans.len(),
                queues = ?orphan_queues,
                "removing stored messages of queues that no longer exist"
            );
            self.sync_job(Some(Box::new(move |s: &Shared| {
                let mut batch = s.db.batch();
                for key in orphans {
                    batch.remove(&s.messages, key);
                }
                commit_durable(batch)
            })))?;
        }
        Ok(out)
    }

    fn flush(&self) -> StoreResult<()> {
        self.sync_job(None)
    }
}

// ---------------------------------------------------------------------------------------
// The writer thread

/// A pending write of the batch being built.
enum Pending {
    /// A message to write; with the flag its enqueue set once it went to a consumer.
    Put(Vec<u8>, Option<Dispatched>),
    Delete,
}

/// How long a batch whose every message went straight to a consumer waits for their
/// acks before it is written: an ack in that time cancels the write and its fsync, and
/// the publisher's confirm fires at once. About one local consumer round trip; a batch
/// with any message not on its way to a consumer is written without waiting.
const LINGER_FOR_ACKS: Duration = Duration::from_micros(200);
/// Lingering is adaptive: consumers that ack later than [`LINGER_FOR_ACKS`] (batched or
/// slow acks) would only add the wait to every write. Each linger that cancelled its
/// writes scores +1, each that did not −2 (bounded); the writer lingers while the score is
/// not negative, and otherwise tries once every [`LINGER_PROBE_EVERY`] eligible batches.
const LINGER_SCORE_BOUND: i32 = 8;
/// The longest the writer waits for a queue to decide whether an enqueue it just
/// submitted went to a consumer (see `Writer::await_dispatch_decisions`).
const DISPATCH_DECISION_WAIT: Duration = Duration::from_micros(50);
const LINGER_PROBE_EVERY: u32 = 64;

struct Writer {
    shared: Shared,
    policy: SyncPolicy,
    /// The batch being built: key -> last operation on it (keys are distinct per queue
    /// and seq, so the order between different keys does not matter).
    batch: HashMap<Vec<u8>, Pending>,
    /// Callbacks of the batch being built.
    batch_cbs: Vec<OnDurable>,
    /// Callbacks of batches written to the OS but not yet fsynced (Interval policy).
    unsynced_cbs: Vec<OnDurable>,
    /// Something was written since the last fsync.
    dirty: bool,
    /// When the last fsync happened; `None` before the first.
    last_sync: Option<Instant>,
    /// How well lingering for acks has paid off lately (see [`LINGER_SCORE_BOUND`]).
    linger_score: i32,
    /// Eligible batches written without lingering since the last try.
    linger_skipped: u32,
}

fn fire(cbs: Vec<OnDurable>, result: &StoreResult<()>) {
    for cb in cbs {
        let r = match result {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError(e.0.clone())),
        };
        // A panicking callback must not take the writer (and every later confirm) down.
        if catch_unwind(AssertUnwindSafe(|| cb(r))).is_err() {
            tracing::error!("an on_durable callback panicked");
        }
    }
}

impl Writer {
    fn new(shared: Shared, policy: SyncPolicy) -> Self {
        Writer {
            shared,
            policy,
            batch: HashMap::new(),
            batch_cbs: Vec::new(),
            unsynced_cbs: Vec::new(),
            dirty: false,
            last_sync: None,
            linger_score: 0,
            linger_skipped: 0,
        }
    }

    fn run(mut self, rx: Receiver<Cmd>) {
        // A command received while lingering that is not message operations.
        let mut carried: Option<Cmd> = None;
        loop {
            let first = match (carried.take(), self.next_wait()) {
                (Some(cmd), _) => Ok(cmd),
                (None, None) => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                (None, Some(wait)) => rx.recv_timeout(wait),
            };
            let first = match first {
                Ok(cmd) => Some(cmd),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    // Failures were logged and handed to the callbacks already.
                    let _ = self.make_durable();
                    return;
                }
            };
            if let Some(cmd) = first {
                let (mut ops, mut bytes) = (0usize, 0usize);
                let mut next = Some(cmd);
                while let Some(cmd) = next.take() {
                    match cmd {
                        Cmd::Ops(batch_ops, cb, hint) => {
                            ops += batch_ops.len();
                            bytes += self.add_ops(batch_ops, cb, hint);
                        }
                        Cmd::Sync(job, reply) => {
                            let r = self.make_durable().and_then(|()| match job {
                                Some(job) => job(&self.shared),
                                None => Ok(()),
                            });
                            let _ = reply.send(r);
                        }
                        Cmd::Shutdown => {
                            let _ = self.make_durable();
                            return;
                        }
                    }
                    if ops < MAX_BATCH_OPS && bytes < MAX_BATCH_BYTES {
                        next = rx.try_recv().ok();
                    }
                }
                if self.policy == SyncPolicy::EveryBatch {
                    carried = self.linger_for_acks(&rx);
                }
                self.commit_batch();
            }
            if self.dirty && self.sync_wait() == Some(Duration::ZERO) {
                let _ = self.sync();
            }
        }
    }

    /// How long to wait for more work before an interval fsync is due; `None` to wait for
    /// work without a deadline.
    fn next_wait(&self) -> Option<Duration> {
        if self.dirty {
            self.sync_wait()
        } else {
            None
        }
    }

    /// Time left until the Interval policy allows the next fsync (zero when it is due);
    /// `None` under EveryBatch.
    fn sync_wait(&self) -> Option<Duration> {
        match (self.policy, self.last_sync) {
            (SyncPolicy::Interval(_), None) => Some(Duration::ZERO),
            (SyncPolicy::Interval(every), Some(at)) => Some(every.saturating_sub(at.elapsed())),
            (SyncPolicy::EveryBatch, _) => None,
        }
    }

    /// While every message in the batch is on its way to a consumer, wait (up to
    /// [`LINGER_FOR_ACKS`]) for more operations: the consumers' acks cancel the writes.
    /// Returns a non-message command that arrived meanwhile, for the main loop.
    fn linger_for_acks(&mut self, rx: &Receiver<Cmd>) -> Option<Cmd> {
        self.await_dispatch_decisions();
        if !self.only_dispatched_puts() {
            return None;
        }
        if self.linger_score < 0 {
            self.linger_skipped += 1;
            if self.linger_skipped < LINGER_PROBE_EVERY {
                return None;
            }
        }
        self.linger_skipped = 0;
        let deadline = Instant::now() + LINGER_FOR_ACKS;
        let mut carried = None;
        while {
            self.await_dispatch_decisions();
            self.only_dispatched_puts()
        } {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(left) {
                Ok(Cmd::Ops(ops, cb, hint)) => {
                    self.add_ops(ops, cb, hint);
                }
                Ok(other) => {
                    carried = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let paid_off = !self.batch.values().any(|p| matches!(p, Pending::Put(..)));
        self.linger_score = if paid_off {
            (self.linger_score + 1).min(LINGER_SCORE_BOUND)
        } else {
            (self.linger_score - 2).max(-LINGER_SCORE_BOUND)
        };
        carried
    }

    /// The writer thread can wake for an enqueue before its queue has tried to dispatch
    /// it (the queue submits, then dispatches, then decides the hint, all under its lock):
    /// wait those few microseconds instead of writing a message whose ack is on its way.
    /// Bounded, so a queue that never decides only delays the write.
    fn await_dispatch_decisions(&self) {
        let deadline = Instant::now() + DISPATCH_DECISION_WAIT;
        while self
            .batch
            .values()
            .any(|p| matches!(p, Pending::Put(_, Some(hint)) if hint.get().is_none()))
        {
            if Instant::now() >= deadline {
                return;
            }
            std::thread::yield_now();
        }
    }

    /// The batch writes messages, and every one of them went to a consumer already.
    fn only_dispatched_puts(&self) -> bool {
        let mut puts = 0;
        for pending in self.batch.values() {
            match pending {
                Pending::Put(_, Some(hint)) if hint.get() == Some(true) => puts += 1,
                Pending::Put(..) => return false,
                Pending::Delete => {}
            }
        }
        puts > 0
    }

    /// Add a submit's operations to the batch being built; returns the body bytes added.
    fn add_ops(
        &mut self,
        ops: Vec<MessageOp>,
        cb: Option<OnDurable>,
        hint: Option<Dispatched>,
    ) -> usize {
        let mut bytes = 0;
        let mut failure: Option<StoreError> = None;
        for op in ops {
            match op {
                MessageOp::Enqueue {
                    vhost,
                    queue,
                    seq,
                    expires_at,
                    message,
                } => {
                    let encoded = codec::message_key(&vhost, &queue, seq)
                        .and_then(|k| Ok((k, codec::encode_message(expires_at, &message)?)));
                    match encoded {
                        Ok((key, value)) => {
                            bytes += value.len();
                            self.batch.insert(key, Pending::Put(value, hint.clone()));
                        }
                        Err(e) => failure = Some(e),
                    }
                }
                MessageOp::Remove { vhost, queue, seq } => {
                    match codec::message_key(&vhost, &queue, seq) {
                        Ok(key) => {
                            // An enqueue and its removal in the same batch cancel out: seqs
                            // are unique, so the key cannot be on disk already.
                            if let Some(Pending::Put(..)) = self.batch.get(&key) {
                                self.batch.remove(&key);
                            } else {
                                self.batch.insert(key, Pending::Delete);
                            }
                        }
                        Err(e) => failure = Some(e),
                    }
                }
            }
        }
        if let Some(cb) = cb {
            match failure {
                // Only an unencodable name or body gets here (> 64 KiB name, > 4 GiB body);
                // the other operations of the submit are still written.
                Some(e) => fire(vec![cb], &Err(e)),
                None => self.batch_cbs.push(cb),
            }
        }
        bytes
    }

    /// Write the batch being built; with EveryBatch it is fsynced in the same step.
    fn commit_batch(&mut self) {
        let sync_now = self.policy == SyncPolicy::EveryBatch;
        if !self.batch.is_empty() {
            let mut batch = self.shared.db.batch();
            for (key, pending) in self.batch.drain() {
                match pending {
                    Pending::Put(value, _) => batch.insert(&self.shared.messages, key, value),
                    Pending::Delete => batch.remove(&self.shared.messages, key),
                }
            }
            let mode = if sync_now {
                PersistMode::SyncData
            } else {
                PersistMode::Buffer
            };
            let started = Instant::now();
            let committed = batch.durability(Some(mode)).commit();
            if sync_now {
                metrics::histogram!(FSYNC_METRIC).record(started.elapsed().as_secs_f64());
            }
            if let Err(e) = committed {
                let e = fjall_err("committing messages", e);
                tracing::error!(error = %e, "group commit failed");
                fire(std::mem::take(&mut self.batch_cbs), &Err(e));
                return;
            }
            if sync_now {
                self.last_sync = Some(Instant::now());
            } else {
                self.dirty = true;
            }
        }
        let cbs = std::mem::take(&mut self.batch_cbs);
        if self.dirty {
            // Wait for the fsync that covers this batch (and the earlier unsynced ones).
            self.unsynced_cbs.extend(cbs);
        } else {
            // Everything written is synced: this batch (or, if it cancelled out entirely,
            // every earlier one) is durable.
            fire(cbs, &Ok(()));
        }
    }

    /// fsync what was written since the last fsync and confirm it.
    fn sync(&mut self) -> StoreResult<()> {
        let result = if self.dirty {
            let started = Instant::now();
            let synced = self
                .shared
                .db
                .persist(PersistMode::SyncData)
                .map_err(|e| fjall_err("fsync", e));
            metrics::histogram!(FSYNC_METRIC).record(started.elapsed().as_secs_f64());
            synced
        } else {
            Ok(())
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, "store fsync failed");
        }
        self.dirty = false;
        self.last_sync = Some(Instant::now());
        fire(std::mem::take(&mut self.unsynced_cbs), &result);
        result
    }

    /// Write and fsync everything received so far.
    fn make_durable(&mut self) -> StoreResult<()> {
        self.commit_batch();
        self.sync()
    }
}

#[cfg(test)]
mod tests;
