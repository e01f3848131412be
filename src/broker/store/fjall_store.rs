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
//!
//! Held writes ([`Store::hold`]: a persistent message on its way to a consumer) wait in a
//! queue beside the channel, each for [`HOLD_FOR_ACK`]; the writer takes the ones whose
//! hold is over into its next batch, and a synchronous call takes them all first. An ack
//! cancels a held write on the acking thread, without involving the writer.

use std::collections::{HashMap, HashSet, VecDeque};
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
    BindingRecord, DestinationKind, ExchangeRecord, HeldWrite, MessageOp, OnDurable, QueueRecord,
    Recovered, RecoveredMessage, RecoveredQueue, Store, StoreError, StoreResult,
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

/// Writes held back for acks ([`Store::hold`]), oldest first, each with the time it is due.
/// Only the writer pops; the front's deadline is always one the writer will wake for.
type HeldWrites = Arc<Mutex<VecDeque<(Instant, Arc<HeldWrite>)>>>;

enum Cmd {
    Ops(Vec<MessageOp>, Option<OnDurable>),
    /// A held write arrived while none was pending: the writer may be waiting without a
    /// deadline.
    Wake,
    /// Make everything before this durable, then run the job (if any) durably, then reply.
    Sync(Option<Job>, mpsc::SyncSender<StoreResult<()>>),
    Shutdown,
}

/// fjall-backed store; see the module documentation.
pub struct FjallStore {
    shared: Shared,
    tx: Sender<Cmd>,
    held: HeldWrites,
    /// How long [`Store::hold`] holds a write: [`HOLD_FOR_ACK`].
    hold_for: Duration,
    writer: Mutex<Option<JoinHandle<()>>>,
    writer_id: ThreadId,
}

impl FjallStore {
    fn writer_stopped() -> StoreError {
        StoreError("the store writer thread has stopped".into())
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
        let held = HeldWrites::default();
        let writer_state = Writer::new(shared.clone(), sync, held.clone());
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_state.run(rx))
            .map_err(|e| StoreError(format!("starting the store writer thread: {e}")))?;
        let writer_id = handle.thread().id();
        Ok(FjallStore {
            shared,
            tx,
            held,
            hold_for: HOLD_FOR_ACK,
            writer: Mutex::new(Some(handle)),
            writer_id,
        })
    }

    /// The same store holding writes for `hold_for` (tests that must cancel in time).
    #[cfg(test)]
    fn holding_writes_for(mut self, hold_for: Duration) -> Self {
        self.hold_for = hold_for;
        self
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
        if let Err(mpsc::SendError(Cmd::Ops(_, Some(cb)))) = self.tx.send(Cmd::Ops(ops, on_durable))
        {
            cb(Err(Self::writer_stopped()));
        }
    }

    /// Queued with its deadline; the writer is woken only when the queue was empty, since
    /// otherwise it already waits for an earlier deadline (at most [`HOLD_FOR_ACK`] away).
    fn hold(&self, write: Arc<HeldWrite>) {
        let was_empty = {
            let mut held = self.held.lock();
            let was_empty = held.is_empty();
            held.push_back((Instant::now() + self.hold_for, write));
            was_empty
        };
        if was_empty && self.tx.send(Cmd::Wake).is_err() {
            // No writer to write them: fail what is still held.
            let stranded: Vec<_> = self.held.lock().drain(..).collect();
            for (_, write) in stranded {
                if let Some((_, Some(cb))) = write.take() {
                    cb(Err(Self::writer_stopped()));
                }
            }
        }
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
    Put(Vec<u8>),
    Delete,
}

/// How long a held write ([`Store::hold`]) waits for its consumer's ack before it is
/// written: about one local consumer round trip. The queue stops holding writes for
/// consumers that ack later than this (see `HoldScore` in the queue module).
pub const HOLD_FOR_ACK: Duration = Duration::from_micros(200);

struct Writer {
    shared: Shared,
    policy: SyncPolicy,
    held: HeldWrites,
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

/// Which held writes to take.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Those whose hold is over.
    Expired,
    /// All of them (before a synchronous call, at shutdown).
    All,
}

impl Writer {
    fn new(shared: Shared, policy: SyncPolicy, held: HeldWrites) -> Self {
        Writer {
            shared,
            policy,
            held,
            batch: HashMap::new(),
            batch_cbs: Vec::new(),
            unsynced_cbs: Vec::new(),
            dirty: false,
            last_sync: None,
        }
    }

    fn run(mut self, rx: Receiver<Cmd>) {
        loop {
            let first = match self.next_wait() {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(wait) => rx.recv_timeout(wait),
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
            let (mut ops, mut bytes) = (0usize, 0usize);
            let mut next = first;
            while let Some(cmd) = next.take() {
                match cmd {
                    Cmd::Ops(batch_ops, cb) => {
                        ops += batch_ops.len();
                        bytes += self.add_ops(batch_ops, cb);
                    }
                    Cmd::Wake => {}
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
            self.take_held(Due::Expired);
            self.commit_batch();
            if self.dirty && self.sync_wait() == Some(Duration::ZERO) {
                let _ = self.sync();
            }
        }
    }

    /// How long to wait for more work before a held write or an interval fsync is due;
    /// `None` to wait for work without a deadline.
    fn next_wait(&self) -> Option<Duration> {
        let held = self
            .held
            .lock()
            .front()
            .map(|(due, _)| due.saturating_duration_since(Instant::now()));
        let sync = if self.dirty { self.sync_wait() } else { None };
        match (held, sync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
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

    /// Move held writes into the batch being built: cancelled ones are dropped, due ones
    /// are taken; stops at the first still held (they are in deadline order).
    fn take_held(&mut self, due: Due) {
        let now = Instant::now();
        let mut taken = Vec::new();
        {
            let mut held = self.held.lock();
            while let Some((deadline, write)) = held.front() {
                if write.is_settled() {
                    held.pop_front();
                    continue;
                }
                if due == Due::Expired && *deadline > now {
                    break;
                }
                if let Some(op) = write.take() {
                    taken.push(op);
                }
                held.pop_front();
            }
        }
        for (op, cb) in taken {
            self.add_ops(vec![op], cb);
        }
    }

    /// Add a submit's operations to the batch being built; returns the body bytes added.
    fn add_ops(&mut self, ops: Vec<MessageOp>, cb: Option<OnDurable>) -> usize {
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
                            self.batch.insert(key, Pending::Put(value));
                        }
                        Err(e) => failure = Some(e),
                    }
                }
                MessageOp::Remove { vhost, queue, seq } => {
                    match codec::message_key(&vhost, &queue, seq) {
                        Ok(key) => {
                            // An enqueue and its removal in the same batch cancel out: seqs
                            // are unique, so the key cannot be on disk already.
                            if let Some(Pending::Put(_)) = self.batch.get(&key) {
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
                    Pending::Put(value) => batch.insert(&self.shared.messages, key, value),
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

    /// Write and fsync everything received so far, held writes included.
    fn make_durable(&mut self) -> StoreResult<()> {
        self.take_held(Due::All);
        self.commit_batch();
        self.sync()
    }
}

#[cfg(test)]
mod tests;
