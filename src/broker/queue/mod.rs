//! Queues: ready messages (by priority, in order), delivered-but-unacked messages, and the
//! consumers they are dispatched to.
//!
//! Dispatch runs in the task that caused it (a publish, an ack, a new consumer) under the
//! queue's own lock, handing each delivery to the consumer's session, which passes it to
//! its connection without blocking. Lock order: vhost maps → queue state → session state.
//! Dead letters are collected under the lock and republished after it is released, so a
//! dead-letter cycle back into the same queue cannot deadlock.

pub mod args;
pub mod deadletter;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::broker::session::Consumer;
use crate::broker::stats::{MessageCounters, QueueCounters};
use crate::broker::store::{Cancelled, HeldWrite, MessageOp, OnDurable, Store};
use crate::broker::vhost::VHost;
use crate::broker::{now_ms, ConnectionId, PendingConfirm};
use crate::error::{Error, Result};
use crate::message::{AMQPValue, FieldTable, Message, ShortString};

pub use self::args::{Overflow, QueueArgs};
use self::deadletter::{DeadLetter, Reason};

/// A message sitting in a queue.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    pub seq: u64,
    pub message: Arc<Message>,
    /// Absolute expiry, ms since the Unix epoch.
    pub expires_at: Option<u64>,
    /// Its copy in the store, if any.
    pub stored: Stored,
    /// How many times it was handed to a consumer before.
    pub deliveries: u32,
}

/// Where a message stands with the store.
#[derive(Debug, Clone)]
pub enum Stored {
    /// Transient, or on a non-durable queue: never written.
    No,
    /// Persistent, and written or on its way to be: leaving the queue takes a removal.
    Yes,
    /// Persistent, its write held back by the store for a consumer's ack
    /// ([`HeldWrite`]); leaving the queue before the store takes it cancels the write.
    Held(Arc<HeldWrite>),
}

/// What [`Queue::forget_stored`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forgotten {
    NothingStored,
    Removed,
    /// The held write was cancelled: nothing reached the disk.
    Cancelled,
    /// The write was held, but the store took it before the message left.
    WrittenAnyway,
}

/// Work collected under a queue's lock, done once it is released ([`Queue::finish`]).
#[derive(Default)]
struct AfterUnlock {
    dead_letters: Vec<DeadLetter>,
    /// Publisher confirms of held writes cancelled because their message left the queue.
    confirms: Vec<OnDurable>,
}

fn fire_confirms(confirms: Vec<OnDurable>) {
    for confirm in confirms {
        confirm(Ok(()));
    }
}

/// Whether holding writes for acks pays off on this queue: its consumers' acks arrive
/// while the store still holds the write. Each held write whose ack cancelled it scores +1,
/// each the store had to write anyway −2 (bounded); writes are held while the score is not
/// negative, and otherwise once every [`HOLD_PROBE_EVERY`] chances, so that consumers that
/// ack late (in batches, or slowly) do not add the hold to every write, and the queue
/// notices when they speed up.
#[derive(Debug, Default)]
struct HoldScore {
    score: i32,
    skipped: u32,
}

const HOLD_SCORE_BOUND: i32 = 8;
pub(crate) const HOLD_PROBE_EVERY: u32 = 64;

impl HoldScore {
    fn should_hold(&mut self) -> bool {
        if self.score >= 0 {
            return true;
        }
        self.skipped += 1;
        if self.skipped < HOLD_PROBE_EVERY {
            return false;
        }
        self.skipped = 0;
        true
    }

    fn record(&mut self, forgotten: Forgotten) {
        match forgotten {
            Forgotten::Cancelled => self.score = (self.score + 1).min(HOLD_SCORE_BOUND),
            Forgotten::WrittenAnyway => self.score = (self.score - 2).max(-HOLD_SCORE_BOUND),
            Forgotten::NothingStored | Forgotten::Removed => {}
        }
    }
}

/// A ready message's place: its priority level and index in that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    level: usize,
    index: usize,
}

/// Ready messages, one FIFO per priority level, each ordered by `seq`.
#[derive(Debug, Default)]
struct Ready {
    levels: Vec<VecDeque<QueuedMessage>>,
    len: usize,
    bytes: usize,
}

impl Ready {
    fn new(max_priority: Option<u8>) -> Self {
        let levels = usize::from(max_priority.unwrap_or(0)) + 1;
        Ready {
            levels: (0..levels).map(|_| VecDeque::new()).collect(),
            len: 0,
            bytes: 0,
        }
    }

    fn level_of(&self, message: &Message) -> usize {
        usize::from(message.priority()).min(self.levels.len() - 1)
    }

    fn push_back(&mut self, m: QueuedMessage) {
        let level = self.level_of(&m.message);
        self.len += 1;
        self.bytes += m.message.body_len();
        self.levels[level].push_back(m);
    }

    /// Put a returned message back where it was, by `seq` (RabbitMQ keeps requeued
    /// messages in their original position).
    fn insert_sorted(&mut self, m: QueuedMessage) {
        let level = self.level_of(&m.message);
        self.len += 1;
        self.bytes += m.message.body_len();
        let deque = &mut self.levels[level];
        let pos = deque.partition_point(|x| x.seq < m.seq);
        deque.insert(pos, m);
    }

    /// Where the next message to deliver sits: the highest non-empty level's head.
    fn head_position(&self) -> Option<Position> {
        let level = (0..self.levels.len())
            .rev()
            .find(|&l| !self.levels[l].is_empty())?;
        Some(Position { level, index: 0 })
    }

    /// The position after `p` in delivery order.
    fn next_position(&self, p: Position) -> Option<Position> {
        if p.index + 1 < self.levels[p.level].len() {
            return Some(Position {
                level: p.level,
                index: p.index + 1,
            });
        }
        let level = (0..p.level).rev().find(|&l| !self.levels[l].is_empty())?;
        Some(Position { level, index: 0 })
    }

    fn get(&self, p: Position) -> Option<&QueuedMessage> {
        self.levels.get(p.level)?.get(p.index)
    }

    fn remove(&mut self, p: Position) -> Option<QueuedMessage> {
        let m = self.levels.get_mut(p.level)?.remove(p.index)?;
        self.len -= 1;
        self.bytes -= m.message.body_len();
        Some(m)
    }

    fn front(&self) -> Option<&QueuedMessage> {
        self.levels.iter().rev().find_map(|l| l.front())
    }

    fn pop_front(&mut self) -> Option<QueuedMessage> {
        let m = self.levels.iter_mut().rev().find_map(|l| l.pop_front())?;
        self.len -= 1;
        self.bytes -= m.message.body_len();
        Some(m)
    }

    fn drain(&mut self) -> Vec<QueuedMessage> {
        self.len = 0;
        self.bytes = 0;
        self.levels.iter_mut().flat_map(|l| l.drain(..)).collect()
    }
}

#[derive(Debug)]
struct QueueState {
    ready: Ready,
    unacked: HashMap<u64, QueuedMessage>,
    consumers: Vec<Arc<Consumer>>,
    next_consumer: usize,
    next_seq: u64,
    /// Last time the queue was used (x-expires): declare, consume, get.
    last_used_ms: u64,
    had_consumer: bool,
    deleted: bool,
    holds: HoldScore,
}

/// Counts reported by declare-ok and the management view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    pub ready: u32,
    pub unacked: u32,
    pub consumers: u32,
}

/// A declared queue.
pub struct Queue {
    pub name: Arc<str>,
    pub vhost_name: Arc<str>,
    pub durable: bool,
    pub auto_delete: bool,
    /// The connection that declared an exclusive queue.
    pub exclusive_owner: Option<ConnectionId>,
    pub arguments: FieldTable,
    pub args: QueueArgs,
    state: Mutex<QueueState>,
    store: Arc<dyn Store>,
    vhost: Weak<VHost>,
    counters: QueueCounters,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name)
            .field("durable", &self.durable)
            .finish()
    }
}

/// The result of offering a message to a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Accepted,
    /// Refused by `x-overflow: reject-publish(-dlx)`.
    Rejected,
}

#[allow(clippy::too_many_arguments)]
impl Queue {
    pub(crate) fn new(
        name: &str,
        vhost: &Arc<VHost>,
        durable: bool,
        auto_delete: bool,
        exclusive_owner: Option<ConnectionId>,
        arguments: FieldTable,
        args: QueueArgs,
        store: Arc<dyn Store>,
    ) -> Self {
        Queue {
            name: Arc::from(name),
            vhost_name: Arc::from(vhost.name.as_str()),
            durable,
            auto_delete,
            exclusive_owner,
            arguments,
            state: Mutex::new(QueueState {
                ready: Ready::new(args.max_priority),
                unacked: HashMap::new(),
                consumers: Vec::new(),
                next_consumer: 0,
                next_seq: 1,
                last_used_ms: now_ms(),
                had_consumer: false,
                deleted: false,
                holds: HoldScore::default(),
            }),
            args,
            store,
            vhost: Arc::downgrade(vhost),
            counters: QueueCounters::new(vhost.counters.clone()),
        }
    }

    pub fn counts(&self) -> QueueCounts {
        let st = self.state.lock();
        QueueCounts {
            ready: st.ready.len as u32,
            unacked: st.unacked.len() as u32,
            consumers: st.consumers.len() as u32,
        }
    }

    /// What happened to this queue's messages so far.
    pub fn counters(&self) -> &MessageCounters {
        &self.counters.own
    }

    /// The consumers attached now, in dispatch order.
    pub fn consumers(&self) -> Vec<Arc<Consumer>> {
        self.state.lock().consumers.clone()
    }

    /// Bytes of message bodies ready for delivery.
    pub fn ready_bytes(&self) -> usize {
        self.state.lock().ready.bytes
    }

    /// Whether `conn` may use this queue (exclusive queues belong to one connection).
    pub fn check_access(&self, conn: ConnectionId) -> Result<()> {
        match self.exclusive_owner {
            Some(owner) if owner != conn => Err(Error::resource_locked(format!(
                "cannot obtain exclusive access to locked queue '{}' in vhost '{}'. It could be \
                 originally declared on another connection or the exclusive property value does \
                 not match that of the original declaration.",
                self.name, self.vhost_name
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn touch(&self) {
        self.state.lock().last_used_ms = now_ms();
    }

    /// Put back messages recovered from the store at start.
    pub(crate) fn restore(&self, messages: Vec<crate::broker::store::RecoveredMessage>) {
        let mut st = self.state.lock();
        for m in messages {
            st.next_seq = st.next_seq.max(m.seq + 1);
            st.ready.push_back(QueuedMessage {
                seq: m.seq,
                message: Arc::new(m.message),
                expires_at: m.expires_at,
                stored: Stored::Yes,
                // It may have been delivered before the restart: flag it redelivered.
                deliveries: 1,
            });
        }
    }

    /// Offer a published message. A persistent message on a durable queue is written to
    /// the store; `confirm` then waits for that write.
    pub(crate) fn enqueue(
        self: &Arc<Self>,
        message: &Arc<Message>,
        message_ttl: Option<u64>,
        confirm: Option<&Arc<PendingConfirm>>,
    ) -> Enqueued {
        let now = now_ms();
        let mut after = AfterUnlock::default();
        let outcome = {
            let mut st = self.state.lock();
            if st.deleted {
                return Enqueued::Accepted;
            }
            let ttl = match (self.args.message_ttl, message_ttl) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let size = message.body_len();
            let would_overflow = self
                .args
                .max_length
                .is_some_and(|max| st.ready.len as u64 >= max)
                || self
                    .args
                    .max_length_bytes
                    .is_some_and(|max| (st.ready.bytes + size) as u64 > max);
            if would_overflow && self.args.overflow() != Overflow::DropHead {
                if self.args.overflow() == Overflow::RejectPublishDlx {
                    self.dead_letter_into(&mut after, message, Reason::MaxLen);
                }
                Enqueued::Rejected
            } else {
                let seq = st.next_seq;
                st.next_seq += 1;
                let expires_at = ttl.map(|t| now.saturating_add(t));
                // Handed to the store once dispatch has decided where the message went:
                // cancelled if it left at once, held for the ack if it went to a consumer.
                let write = (self.durable && message.is_persistent()).then(|| {
                    let op = MessageOp::Enqueue {
                        vhost: self.vhost_name.to_string(),
                        queue: self.name.to_string(),
                        seq,
                        expires_at,
                        message: message.clone(),
                    };
                    HeldWrite::new(op, confirm.map(|c| c.expect_write()))
                });
                self.counters.enqueued();
                st.ready.push_back(QueuedMessage {
                    seq,
                    message: message.clone(),
                    expires_at,
                    stored: write.clone().map_or(Stored::No, Stored::Held),
                    deliveries: 0,
                });
                self.enforce_limits(&mut st, &mut after);
                self.dispatch_locked(&mut st, now, &mut after);
                if let Some(write) = write {
                    self.hand_to_store(&mut st, seq, write);
                }
                Enqueued::Accepted
            }
        };
        self.finish(after);
        outcome
    }

    /// The new message `seq` went through dispatch: hold its write for the ack if it went to
    /// a consumer (and that pays off here), else write it now.
    fn hand_to_store(&self, st: &mut QueueState, seq: u64, write: Arc<HeldWrite>) {
        if write.is_settled() {
            // It left during dispatch (a no-ack consumer, a length limit): cancelled.
            return;
        }
        if st.unacked.contains_key(&seq) && st.holds.should_hold() {
            self.store.hold(write);
            return;
        }
        let queued = match st.unacked.get_mut(&seq) {
            Some(m) => Some(m),
            // Not dispatched: it is the newest of its priority level.
            None => st
                .ready
                .levels
                .iter_mut()
                .find_map(|level| level.back_mut().filter(|m| m.seq == seq)),
        };
        if let Some(m) = queued {
            m.stored = Stored::Yes;
        }
        if let Some((op, on_durable)) = write.take() {
            self.store.submit(vec![op], on_durable);
        }
    }

    /// Drop (dead-letter) ready messages from the head while over a length limit.
    fn enforce_limits(&self, st: &mut QueueState, after: &mut AfterUnlock) {
        let over = |st: &QueueState| {
            self.args
                .max_length
                .is_some_and(|max| st.ready.len as u64 > max)
                || self
                    .args
                    .max_length_bytes
                    .is_some_and(|max| st.ready.bytes as u64 > max)
        };
        while over(st) {
            let Some(m) = st.ready.pop_front() else { break };
            self.drop_message(m, Reason::MaxLen, after);
        }
    }

    /// A message leaves the queue for good without being acked.
    fn drop_message(&self, m: QueuedMessage, reason: Reason, after: &mut AfterUnlock) {
        self.forget_stored(&m, after);
        self.dead_letter_into(after, &m.message, reason);
    }

    fn dead_letter_into(&self, after: &mut AfterUnlock, message: &Message, reason: Reason) {
        if let Some(dlx) = &self.args.dead_letter_exchange {
            after.dead_letters.push(deadletter::dead_letter(
                message,
                &self.name,
                reason,
                dlx,
                self.args.dead_letter_routing_key.as_deref(),
                now_ms() / 1000,
            ));
        }
    }

    fn remove_op(&self, seq: u64) -> MessageOp {
        MessageOp::Remove {
            vhost: self.vhost_name.to_string(),
            queue: self.name.to_string(),
            seq,
        }
    }

    /// What had to wait for the queue's lock to be released: confirms that came due and
    /// dead letters to republish (which may route back into this queue).
    fn finish(&self, after: AfterUnlock) {
        fire_confirms(after.confirms);
        if after.dead_letters.is_empty() {
            return;
        }
        if let Some(vhost) = self.vhost.upgrade() {
            for d in after.dead_letters {
                vhost.publish_dead_letter(d);
            }
        }
    }

    /// The message left the queue for good: remove its stored copy, or cancel its write if
    /// the store still holds it (its publisher's confirm is then due). Under the queue's
    /// lock, so a removal always reaches the store after the write it undoes.
    fn forget_stored(&self, m: &QueuedMessage, after: &mut AfterUnlock) -> Forgotten {
        let mut removes = Vec::new();
        let forgotten = self.forget_stored_into(m, after, &mut removes);
        if !removes.is_empty() {
            self.store.submit(removes, None);
        }
        forgotten
    }

    /// [`Queue::forget_stored`] for many messages: the removals are collected in
    /// `removes`, for one submit before the lock is released.
    fn forget_stored_into(
        &self,
        m: &QueuedMessage,
        after: &mut AfterUnlock,
        removes: &mut Vec<MessageOp>,
    ) -> Forgotten {
        let held = match &m.stored {
            Stored::No => return Forgotten::NothingStored,
            Stored::Yes => None,
            Stored::Held(write) => Some(write),
        };
        if let Some(write) = held {
            if let Cancelled::Unwritten(confirm) = write.cancel() {
                after.confirms.extend(confirm);
                return Forgotten::Cancelled;
            }
        }
        removes.push(self.remove_op(m.seq));
        if held.is_some() {
            Forgotten::WrittenAnyway
        } else {
            Forgotten::Removed
        }
    }

    /// Expire ready messages at the head (RabbitMQ expires only at the head).
    fn expire_head(&self, st: &mut QueueState, now: u64, after: &mut AfterUnlock) {
        while let Some(front) = st.ready.front() {
            match front.expires_at {
                Some(at) if at < now => {
                    if let Some(m) = st.ready.pop_front() {
                        self.drop_message(m, Reason::Expired, after);
                    }
                }
                _ => break,
            }
        }
    }

    /// Hand ready messages to consumers with credit, round robin.
    fn dispatch_locked(self: &Arc<Self>, st: &mut QueueState, now: u64, after: &mut AfterUnlock) {
        loop {
            self.expire_head(st, now, after);
            if st.ready.len == 0 || st.consumers.is_empty() {
                return;
            }
            let Some((position, index)) = self.pick(st, after) else {
                return;
            };
            st.next_consumer = (index + 1) % st.consumers.len();
            let consumer = st.consumers[index].clone();
            let Some(mut m) = st.ready.remove(position) else {
                return;
            };
            let redelivered = m.deliveries > 0;
            let message = with_delivery_count(&m.message, m.deliveries);
            m.deliveries += 1;
            if consumer
                .session()
                .deliver(self, &consumer, m.seq, message, redelivered)
            {
                self.counters.delivered(redelivered);
                if consumer.no_ack {
                    self.counters.acked(1);
                    self.forget_stored(&m, after);
                } else {
                    st.unacked.insert(m.seq, m);
                }
            } else {
                // The consumer's connection is gone: keep the message, drop the consumer.
                m.deliveries -= 1;
                st.ready.insert_sorted(m);
                st.consumers.remove(index);
                st.next_consumer = 0;
            }
        }
    }

    /// The next (ready position, consumer index) to deliver. Without filters it is the head
    /// and the next consumer with credit. With filters (selectors) it is the first message,
    /// within [`FILTER_SCAN_LIMIT`], that a consumer with credit accepts; a message no
    /// consumer can ever want is dropped when every consumer discards unmatched messages
    /// (a topic subscriber's own queue).
    fn pick(&self, st: &mut QueueState, after: &mut AfterUnlock) -> Option<(Position, usize)> {
        if !st.consumers.iter().any(|c| c.filter.is_some()) {
            let index = next_consumer(st, None)?;
            return Some((st.ready.head_position()?, index));
        }
        if !st.consumers.iter().any(|c| c.has_credit()) {
            return None;
        }
        let discard = st.consumers.iter().all(|c| c.discard_unmatched);
        let mut scanned = 0;
        let mut position = st.ready.head_position()?;
        loop {
            let message = st.ready.get(position)?.message.clone();
            if let Some(index) = next_consumer(st, Some(&message)) {
                return Some((position, index));
            }
            if discard && !st.consumers.iter().any(|c| c.accepts(&message)) {
                if let Some(m) = st.ready.remove(position) {
                    // Not for this subscriber: it leaves the queue as if acked.
                    self.forget_stored(&m, after);
                }
                position = st.ready.head_position()?;
                continue;
            }
            scanned += 1;
            if scanned >= FILTER_SCAN_LIMIT {
                return None;
            }
            position = st.ready.next_position(position)?;
        }
    }

    /// Run dispatch (after credit was released or a consumer was added).
    pub fn dispatch(self: &Arc<Self>) {
        let mut after = AfterUnlock::default();
        {
            let mut st = self.state.lock();
            if st.deleted {
                return;
            }
            self.dispatch_locked(&mut st, now_ms(), &mut after);
        }
        self.finish(after);
    }

    /// Periodic housekeeping: expire messages at the head. Returns true when the queue
    /// has been unused for longer than `x-expires` and should be deleted.
    pub(crate) fn tick(self: &Arc<Self>, now: u64) -> bool {
        let mut after = AfterUnlock::default();
        let expired_queue = {
            let mut st = self.state.lock();
            if st.deleted {
                return false;
            }
            self.dispatch_locked(&mut st, now, &mut after);
            self.args.expires.is_some_and(|ttl| {
                st.consumers.is_empty() && now.saturating_sub(st.last_used_ms) >= ttl
            })
        };
        self.finish(after);
        expired_queue
    }

    pub(crate) fn add_consumer(self: &Arc<Self>, consumer: Arc<Consumer>) -> Result<()> {
        {
            let mut st = self.state.lock();
            if st.deleted {
                return Err(Error::not_found(format!(
                    "no queue '{}' in vhost '{}'",
                    self.name, self.vhost_name
                )));
            }
            let exclusive_in_use = st.consumers.iter().any(|c| c.exclusive);
            if exclusive_in_use || (consumer.exclusive && !st.consumers.is_empty()) {
                return Err(Error::access_refused(format!(
                    "queue '{}' in vhost '{}' in exclusive use",
                    self.name, self.vhost_name
                )));
            }
            st.consumers.push(consumer);
            st.had_consumer = true;
            st.last_used_ms = now_ms();
        }
        self.dispatch();
        Ok(())
    }

    /// Remove a consumer; true when an auto-delete queue has just lost its last one.
    pub(crate) fn remove_consumer(&self, consumer: &Arc<Consumer>) -> bool {
        let mut st = self.state.lock();
        st.consumers.retain(|c| !Arc::ptr_eq(c, consumer));
        st.next_consumer = 0;
        st.last_used_ms = now_ms();
        self.auto_delete && st.had_consumer && st.consumers.is_empty() && !st.deleted
    }

    /// A snapshot of up to `limit` ready messages in delivery order, left in place (a JMS
    /// queue browser): each with whether it was delivered before.
    pub fn browse(&self, limit: usize) -> Vec<(Arc<Message>, bool)> {
        let st = self.state.lock();
        st.ready
            .levels
            .iter()
            .rev()
            .flat_map(|level| level.iter())
            .take(limit)
            .map(|m| (m.message.clone(), m.deliveries > 0))
            .collect()
    }

    /// basic.get: the next ready message, with the count left behind it.
    pub(crate) fn get(self: &Arc<Self>) -> Option<(QueuedMessage, u32)> {
        let mut after = AfterUnlock::default();
        let got = {
            let mut st = self.state.lock();
            st.last_used_ms = now_ms();
            self.expire_head(&mut st, now_ms(), &mut after);
            st.ready.pop_front().map(|m| {
                self.counters.delivered(m.deliveries > 0);
                let left = st.ready.len as u32;
                (m, left)
            })
        };
        self.finish(after);
        got
    }

    /// Record a message handed out by basic.get as unacked (not for no-ack gets).
    pub(crate) fn track_unacked(&self, m: QueuedMessage) {
        self.state.lock().unacked.insert(m.seq, m);
    }

    /// The message was handed out with no-ack: it leaves the queue now.
    pub(crate) fn settle_no_ack(&self, m: &QueuedMessage) {
        self.counters.acked(1);
        let mut after = AfterUnlock::default();
        self.forget_stored(m, &mut after);
        self.finish(after);
    }

    /// Acked: the messages leave the queue. An ack that finds the message's write still
    /// held cancels it, and the publisher's confirm goes out from here, without waiting
    /// for the store.
    pub(crate) fn ack(&self, seqs: &[u64]) {
        let mut after = AfterUnlock::default();
        {
            let mut st = self.state.lock();
            let mut removes = Vec::new();
            let mut acked = 0;
            for seq in seqs {
                if let Some(m) = st.unacked.remove(seq) {
                    acked += 1;
                    let forgotten = self.forget_stored_into(&m, &mut after, &mut removes);
                    st.holds.record(forgotten);
                }
            }
            self.counters.acked(acked);
            if !removes.is_empty() {
                self.store.submit(removes, None);
            }
        }
        self.finish(after);
    }

    /// Returned unacked (nack/reject with requeue, recover, channel closed): back to ready
    /// at their original position, flagged redelivered.
    pub(crate) fn requeue(self: &Arc<Self>, seqs: &[u64]) {
        let mut after = AfterUnlock::default();
        {
            let mut st = self.state.lock();
            for seq in seqs {
                if let Some(m) = st.unacked.remove(seq) {
                    st.ready.insert_sorted(m);
                }
            }
            if st.deleted {
                return;
            }
            self.dispatch_locked(&mut st, now_ms(), &mut after);
        }
        self.finish(after);
    }

    /// Rejected without requeue: dead-lettered if the queue has a DLX, else dropped.
    pub(crate) fn reject(&self, seqs: &[u64]) {
        let mut after = AfterUnlock::default();
        {
            let mut st = self.state.lock();
            for seq in seqs {
                if let Some(m) = st.unacked.remove(seq) {
                    self.drop_message(m, Reason::Rejected, &mut after);
                }
            }
        }
        self.finish(after);
    }

    /// Drop every ready message; returns how many.
    pub(crate) fn purge(&self) -> Result<u32> {
        let mut after = AfterUnlock::default();
        let purged = {
            let mut st = self.state.lock();
            let dropped = st.ready.drain();
            let mut removes = Vec::new();
            for m in &dropped {
                self.forget_stored_into(m, &mut after, &mut removes);
            }
            if !removes.is_empty() {
                self.store.submit(removes, None);
            }
            dropped.len() as u32
        };
        self.finish(after);
        Ok(purged)
    }

    /// Mark the queue deleted and hand back its consumers (to be told) and ready count.
    pub(crate) fn mark_deleted(&self) -> (Vec<Arc<Consumer>>, u32) {
        let mut confirms = Vec::new();
        let deleted = {
            let mut st = self.state.lock();
            st.deleted = true;
            let count = st.ready.len as u32;
            let unacked = std::mem::take(&mut st.unacked).into_values();
            // Writes still held are cancelled (their confirms are due: the message is gone
            // with its queue); what was written goes with the queue's stored messages.
            for m in st.ready.drain().into_iter().chain(unacked) {
                if let Stored::Held(write) = m.stored {
                    if let Cancelled::Unwritten(confirm) = write.cancel() {
                        confirms.extend(confirm);
                    }
                }
            }
            (std::mem::take(&mut st.consumers), count)
        };
        fire_confirms(confirms);
        deleted
    }

    pub fn is_deleted(&self) -> bool {
        self.state.lock().deleted
    }
}

/// How many ready messages dispatch looks at to find one a filtered consumer accepts.
pub const FILTER_SCAN_LIMIT: usize = 10_000;

/// The consumer to serve next: round robin among those with credit (and, for `message`,
/// whose filter accepts it), the highest `x-priority` first (as RabbitMQ's consumer
/// priorities).
fn next_consumer(st: &QueueState, message: Option<&Message>) -> Option<usize> {
    let n = st.consumers.len();
    let mut best: Option<usize> = None;
    for index in (0..n).map(|i| (st.next_consumer + i) % n) {
        let c = &st.consumers[index];
        if best.is_some_and(|b| st.consumers[b].priority >= c.priority)
            || !c.has_credit()
            || message.is_some_and(|m| !c.accepts(m))
        {
            continue;
        }
        best = Some(index);
    }
    best
}

/// A redelivered message carries `x-delivery-count` (how many times it was delivered
/// before), as RabbitMQ's quorum queues write it. First deliveries are shared untouched.
fn with_delivery_count(message: &Arc<Message>, previous: u32) -> Arc<Message> {
    if previous == 0 {
        return message.clone();
    }
    let mut m = Message::clone(message);
    let mut headers = m.properties.headers().clone().unwrap_or_default();
    headers.insert(
        ShortString::from("x-delivery-count"),
        AMQPValue::LongLongInt(i64::from(previous)),
    );
    m.properties = m.properties.with_headers(headers);
    Arc::new(m)
}
