//! Sessions and consumers: what one AMQP channel (or one STOMP/OpenWire session) holds in
//! the core — delivery tags, unacked messages, prefetch limits and consumers.
//!
//! A front-end creates one [`Session`] per channel and gives it a [`DeliverySink`] that
//! forwards deliveries to its connection's writer without blocking. Prefetch is counted
//! per consumer (`basic.qos` global=false) and per session (global=true). Every delivery
//! also counts against a write window until the front-end reports it written
//! ([`Session::written`]), so a slow socket stops dispatch instead of growing memory.
//!
//! Lock order: queue state → session state. Methods that take queue locks (ack, nack,
//! cancel, close) never hold the session lock while doing so.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::broker::queue::Queue;
use crate::broker::vhost::VHost;
use crate::broker::ConnectionId;
use crate::error::{Error, Result};
use crate::message::{FieldTable, Message};

/// Deliveries pushed to a sink and not yet reported written before dispatch pauses.
pub const WRITE_WINDOW: usize = 4096;

/// Where a session's deliveries go: implemented by each front-end per channel/session.
pub trait DeliverySink: Send + Sync {
    /// Pass a delivery on. Must not block. False when the connection is gone.
    fn deliver(&self, delivery: Delivery) -> bool;
    /// The broker cancelled a consumer (its queue was deleted).
    fn consumer_cancelled(&self, consumer_tag: &str);
}

/// One message handed to a consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub consumer_tag: Arc<str>,
    pub delivery_tag: u64,
    pub redelivered: bool,
    pub message: Arc<Message>,
}

/// A consumer-side message filter (a JMS selector): only accepted messages are delivered.
pub type MessageFilter = Arc<dyn Fn(&Message) -> bool + Send + Sync>;

#[derive(Clone, Default)]
pub struct ConsumeOptions {
    /// Empty: the broker generates `amq.ctag-…`.
    pub tag: String,
    pub no_ack: bool,
    pub exclusive: bool,
    pub arguments: FieldTable,
    /// Deliver only the messages this accepts; others stay for other consumers.
    pub filter: Option<MessageFilter>,
    /// With a filter: drop the messages no consumer of the queue accepts instead of keeping
    /// them (for a topic subscriber's own queue, where nobody else will ever want them).
    pub discard_unmatched: bool,
}

impl std::fmt::Debug for ConsumeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumeOptions")
            .field("tag", &self.tag)
            .field("no_ack", &self.no_ack)
            .field("exclusive", &self.exclusive)
            .field("filter", &self.filter.is_some())
            .finish()
    }
}

/// The answer to basic.get.
#[derive(Debug, Clone)]
pub struct GetOk {
    pub delivery_tag: u64,
    pub redelivered: bool,
    /// Ready messages left in the queue.
    pub message_count: u32,
    pub message: Arc<Message>,
}

/// A consumer on one queue, owned by one session.
pub struct Consumer {
    pub tag: Arc<str>,
    pub no_ack: bool,
    pub exclusive: bool,
    /// `x-priority` argument: higher-priority consumers with credit are served first.
    pub priority: i64,
    pub(crate) filter: Option<MessageFilter>,
    pub(crate) discard_unmatched: bool,
    prefetch: u32,
    unacked: AtomicU32,
    session: Arc<Session>,
    queue: Arc<Queue>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("tag", &self.tag)
            .field("queue", &self.queue.name)
            .finish()
    }
}

impl Consumer {
    /// The queue consumed from.
    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// The prefetch limit (0: none) and the messages delivered and not acked yet.
    pub fn prefetch_and_unacked(&self) -> (u32, u32) {
        (self.prefetch, self.unacked.load(Ordering::Acquire))
    }

    /// The connection the consumer belongs to.
    pub fn connection(&self) -> ConnectionId {
        self.session.conn
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Whether this consumer's filter (if any) accepts `message`.
    pub(crate) fn accepts(&self, message: &Message) -> bool {
        self.filter.as_ref().is_none_or(|f| f(message))
    }

    /// May the queue hand this consumer one more message now?
    pub(crate) fn has_credit(&self) -> bool {
        let s = &self.session;
        if !s.flow.load(Ordering::Acquire) || s.closed.load(Ordering::Acquire) {
            return false;
        }
        if s.pending_writes.load(Ordering::Acquire) >= WRITE_WINDOW {
            s.stalled.store(true, Ordering::Release);
            return false;
        }
        if self.no_ack {
            return true;
        }
        let consumer_ok =
            self.prefetch == 0 || self.unacked.load(Ordering::Acquire) < self.prefetch;
        let channel_limit = s.prefetch_channel.load(Ordering::Acquire);
        let channel_ok =
            channel_limit == 0 || s.channel_unacked.load(Ordering::Acquire) < channel_limit;
        consumer_ok && channel_ok
    }
}

struct Unacked {
    queue: Arc<Queue>,
    seq: u64,
    /// The consumer whose prefetch it counts against; None for basic.get.
    consumer: Option<Arc<Consumer>>,
}

#[derive(Default)]
struct SessionState {
    next_tag: u64,
    unacked: BTreeMap<u64, Unacked>,
    consumers: HashMap<Arc<str>, Arc<Consumer>>,
}

/// One channel's worth of consuming state.
pub struct Session {
    vhost: Arc<VHost>,
    conn: ConnectionId,
    sink: Arc<dyn DeliverySink>,
    state: Mutex<SessionState>,
    prefetch_channel: AtomicU32,
    prefetch_consumer: AtomicU32,
    channel_unacked: AtomicU32,
    flow: AtomicBool,
    closed: AtomicBool,
    pending_writes: AtomicUsize,
    stalled: AtomicBool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("conn", &self.conn).finish()
    }
}

impl Session {
    pub fn new(vhost: Arc<VHost>, conn: ConnectionId, sink: Arc<dyn DeliverySink>) -> Arc<Session> {
        Arc::new(Session {
            vhost,
            conn,
            sink,
            state: Mutex::new(SessionState::default()),
            prefetch_channel: AtomicU32::new(0),
            prefetch_consumer: AtomicU32::new(0),
            channel_unacked: AtomicU32::new(0),
            flow: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            pending_writes: AtomicUsize::new(0),
            stalled: AtomicBool::new(false),
        })
    }

    pub fn vhost(&self) -> &Arc<VHost> {
        &self.vhost
    }

    /// The consumers of this session now.
    pub fn consumers(&self) -> Vec<Arc<Consumer>> {
        self.state.lock().consumers.values().cloned().collect()
    }

    /// basic.qos prefetch counts: (whole session, each new consumer); 0 is no limit.
    pub fn prefetch(&self) -> (u32, u32) {
        (
            self.prefetch_channel.load(Ordering::Acquire),
            self.prefetch_consumer.load(Ordering::Acquire),
        )
    }

    pub fn connection(&self) -> ConnectionId {
        self.conn
    }

    /// basic.qos: `global` limits the whole session, otherwise each consumer created from
    /// now on (RabbitMQ's reading of the flag). 0 means no limit.
    pub fn qos(&self, prefetch_count: u16, global: bool) {
        if global {
            self.prefetch_channel
                .store(u32::from(prefetch_count), Ordering::Release);
        } else {
            self.prefetch_consumer
                .store(u32::from(prefetch_count), Ordering::Release);
        }
        self.kick();
    }

    /// basic.consume. Returns the consumer tag.
    pub fn consume(self: &Arc<Self>, queue: &str, opts: ConsumeOptions) -> Result<Arc<str>> {
        let q = self.vhost.queue_for(queue, self.conn)?;
        let priority = match opts.arguments.inner().get("x-priority") {
            None => 0,
            Some(v) => crate::broker::queue::args::integer(v)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| {
                    Error::precondition_failed(format!(
                        "invalid arg 'x-priority' for consumer on queue '{queue}': {v:?}"
                    ))
                })?,
        };
        let tag: Arc<str> = if opts.tag.is_empty() {
            Arc::from(format!("amq.ctag-{}", crate::broker::random_suffix()))
        } else {
            Arc::from(opts.tag.as_str())
        };
        let consumer = Arc::new(Consumer {
            tag: tag.clone(),
            no_ack: opts.no_ack,
            exclusive: opts.exclusive,
            priority,
            filter: opts.filter,
            discard_unmatched: opts.discard_unmatched,
            prefetch: self.prefetch_consumer.load(Ordering::Acquire),
            unacked: AtomicU32::new(0),
            session: self.clone(),
            queue: q.clone(),
        });
        {
            let mut st = self.state.lock();
            if st.consumers.contains_key(&tag) {
                return Err(Error::not_allowed(format!(
                    "attempt to reuse consumer tag '{tag}'"
                )));
            }
            st.consumers.insert(tag.clone(), consumer.clone());
        }
        if let Err(e) = q.add_consumer(consumer) {
            self.state.lock().consumers.remove(&tag);
            return Err(e);
        }
        Ok(tag)
    }

    /// basic.cancel. False if there was no such consumer (not an error in AMQP).
    pub fn cancel(&self, tag: &str) -> bool {
        let Some(consumer) = self.state.lock().consumers.remove(tag) else {
            return false;
        };
        if consumer.queue.remove_consumer(&consumer) {
            self.vhost
                .delete_queue_if_unused_auto_delete(&consumer.queue);
        }
        true
    }

    /// The broker removed a consumer (queue deleted): forget it and tell the front-end.
    pub(crate) fn consumer_gone(&self, tag: &str) {
        if self.state.lock().consumers.remove(tag).is_some() {
            self.sink.consumer_cancelled(tag);
        }
    }

    /// basic.get.
    pub fn get(&self, queue: &str, no_ack: bool) -> Result<Option<GetOk>> {
        let q = self.vhost.queue_for(queue, self.conn)?;
        let Some((mut m, message_count)) = q.get() else {
            return Ok(None);
        };
        let redelivered = m.deliveries > 0;
        m.deliveries += 1;
        let message = m.message.clone();
        let seq = m.seq;
        // Queue lock first, session lock after (never both the other way round).
        if no_ack {
            q.settle_no_ack(&m);
        } else {
            q.track_unacked(m);
        }
        let mut st = self.state.lock();
        st.next_tag += 1;
        let delivery_tag = st.next_tag;
        if !no_ack {
            st.unacked.insert(
                delivery_tag,
                Unacked {
                    queue: q,
                    seq,
                    consumer: None,
                },
            );
        }
        Ok(Some(GetOk {
            delivery_tag,
            redelivered,
            message_count,
            message,
        }))
    }

    /// Called by a queue under its lock: give the delivery a tag and pass it on.
    pub(crate) fn deliver(
        &self,
        queue: &Arc<Queue>,
        consumer: &Arc<Consumer>,
        seq: u64,
        message: Arc<Message>,
        redelivered: bool,
    ) -> bool {
        let mut st = self.state.lock();
        st.next_tag += 1;
        let delivery_tag = st.next_tag;
        let delivery = Delivery {
            consumer_tag: consumer.tag.clone(),
            delivery_tag,
            redelivered,
            message,
        };
        if !self.sink.deliver(delivery) {
            st.next_tag -= 1;
            return false;
        }
        self.pending_writes.fetch_add(1, Ordering::AcqRel);
        if !consumer.no_ack {
            consumer.unacked.fetch_add(1, Ordering::AcqRel);
            self.channel_unacked.fetch_add(1, Ordering::AcqRel);
            st.unacked.insert(
                delivery_tag,
                Unacked {
                    queue: queue.clone(),
                    seq,
                    consumer: Some(consumer.clone()),
                },
            );
        }
        true
    }

    /// The front-end wrote `deliveries` deliveries to its socket: reopen the window.
    pub fn written(&self, deliveries: usize) {
        let _ = self
            .pending_writes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(deliveries))
            });
        if self.stalled.swap(false, Ordering::AcqRel) {
            self.kick();
        }
    }

    /// Take the unacked entries named by `tag`/`multiple`, releasing their credit.
    fn take_unacked(&self, tag: u64, multiple: bool) -> Result<Vec<Unacked>> {
        let mut st = self.state.lock();
        let taken: Vec<Unacked> = if multiple {
            // Tag 0 with multiple means "everything outstanding" (spec, basic.ack).
            let keep = if tag == 0 {
                BTreeMap::new()
            } else {
                st.unacked.split_off(&(tag + 1))
            };
            let taken = std::mem::replace(&mut st.unacked, keep);
            if taken.is_empty() && tag != 0 {
                return Err(unknown_tag(tag));
            }
            taken.into_values().collect()
        } else {
            match st.unacked.remove(&tag) {
                Some(u) => vec![u],
                None => return Err(unknown_tag(tag)),
            }
        };
        drop(st);
        for u in &taken {
            if let Some(c) = &u.consumer {
                c.unacked.fetch_sub(1, Ordering::AcqRel);
                self.channel_unacked.fetch_sub(1, Ordering::AcqRel);
            }
        }
        Ok(taken)
    }

    /// basic.ack. An unknown tag is a 406 channel error.
    pub fn ack(&self, tag: u64, multiple: bool) -> Result<()> {
        let taken = self.take_unacked(tag, multiple)?;
        for (queue, seqs) in by_queue(taken) {
            queue.ack(&seqs);
        }
        self.kick();
        Ok(())
    }

    /// basic.nack.
    pub fn nack(&self, tag: u64, multiple: bool, requeue: bool) -> Result<()> {
        let taken = self.take_unacked(tag, multiple)?;
        for (queue, seqs) in by_queue(taken) {
            if requeue {
                queue.requeue(&seqs);
            } else {
                queue.reject(&seqs);
            }
        }
        self.kick();
        Ok(())
    }

    /// basic.reject.
    pub fn reject(&self, tag: u64, requeue: bool) -> Result<()> {
        self.nack(tag, false, requeue)
    }

    /// basic.recover: every unacked message goes back to its queue, to be redelivered.
    pub fn recover(&self, _requeue: bool) {
        let taken = self.take_all_unacked();
        for (queue, seqs) in by_queue(taken) {
            queue.requeue(&seqs);
        }
        self.kick();
    }

    fn take_all_unacked(&self) -> Vec<Unacked> {
        let taken: Vec<Unacked> = std::mem::take(&mut self.state.lock().unacked)
            .into_values()
            .collect();
        for u in &taken {
            if let Some(c) = &u.consumer {
                c.unacked.fetch_sub(1, Ordering::AcqRel);
                self.channel_unacked.fetch_sub(1, Ordering::AcqRel);
            }
        }
        taken
    }

    /// channel.flow from the client: pause or resume deliveries.
    pub fn set_flow(&self, active: bool) {
        self.flow.store(active, Ordering::Release);
        if active {
            self.kick();
        }
    }

    /// The channel is closed (or its connection lost): cancel its consumers and requeue
    /// what it had not acked.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let consumers: Vec<Arc<Consumer>> = std::mem::take(&mut self.state.lock().consumers)
            .into_values()
            .collect();
        for c in &consumers {
            if c.queue.remove_consumer(c) {
                self.vhost.delete_queue_if_unused_auto_delete(&c.queue);
            }
        }
        for (queue, seqs) in by_queue(self.take_all_unacked()) {
            queue.requeue(&seqs);
        }
    }

    /// Credit was released: let the queues of this session's consumers dispatch again.
    fn kick(&self) {
        let queues: Vec<Arc<Queue>> = self
            .state
            .lock()
            .consumers
            .values()
            .map(|c| c.queue.clone())
            .collect();
        for q in queues {
            q.dispatch();
        }
    }

    /// Number of delivered, unacked messages (basic.get ones included).
    pub fn unacked_count(&self) -> usize {
        self.state.lock().unacked.len()
    }
}

fn unknown_tag(tag: u64) -> Error {
    Error::precondition_failed(format!("unknown delivery tag {tag}"))
}

/// Group unacked entries by queue, keeping each queue's seqs in tag order.
fn by_queue(entries: Vec<Unacked>) -> Vec<(Arc<Queue>, Vec<u64>)> {
    let mut groups: Vec<(Arc<Queue>, Vec<u64>)> = Vec::new();
    for u in entries {
        match groups.iter_mut().find(|(q, _)| Arc::ptr_eq(q, &u.queue)) {
            Some((_, seqs)) => seqs.push(u.seq),
            None => groups.push((u.queue, vec![u.seq])),
        }
    }
    groups
}
