//! A virtual host: its exchanges, queues and bindings, declare/delete rules, and routing
//! of published messages to queues.
//!
//! The maps are behind read-write locks taken briefly: publish reads them to route, then
//! releases them before touching any queue.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::broker::exchange::{Binding, Destination, Exchange, ExchangeKind};
use crate::broker::queue::deadletter::{self, DeadLetter};
use crate::broker::queue::{Enqueued, Queue, QueueArgs};
use crate::broker::stats::MessageCounters;
use crate::broker::store::{BindingRecord, DestinationKind, ExchangeRecord, QueueRecord, Store};
use crate::broker::{random_suffix, ConfirmCallback, ConnectionId, PendingConfirm};
use crate::error::{Error, Result};
use crate::message::{FieldTable, Message};

/// A fresh server-generated queue name (`amq.gen-...`, as RabbitMQ names them).
pub fn generated_queue_name() -> String {
    format!("amq.gen-{}", random_suffix())
}

/// exchange.declare options.
#[derive(Debug, Clone, Default)]
pub struct ExchangeOptions {
    pub passive: bool,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
}

/// queue.declare options.
#[derive(Debug, Clone, Default)]
pub struct QueueOptions {
    pub passive: bool,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    pub arguments: FieldTable,
}

/// queue.declare-ok.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    pub name: String,
    pub message_count: u32,
    pub consumer_count: u32,
}

/// What happened to a published message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishOutcome {
    /// It reached at least one queue (else a mandatory publish is returned, 312 NO_ROUTE).
    pub routed: bool,
}

/// The histogram of publish-to-confirm times, in seconds, over every protocol (AMQP
/// confirms, STOMP receipts, OpenWire responses to synchronous sends).
pub const CONFIRM_LATENCY_METRIC: &str = "mqbridge_confirm_latency_seconds";

/// The built-in exchanges every vhost has.
const BUILT_IN: [(&str, ExchangeKind); 6] = [
    ("", ExchangeKind::Direct),
    ("amq.direct", ExchangeKind::Direct),
    ("amq.fanout", ExchangeKind::Fanout),
    ("amq.topic", ExchangeKind::Topic),
    ("amq.headers", ExchangeKind::Headers),
    ("amq.match", ExchangeKind::Headers),
];

pub struct VHost {
    pub name: String,
    exchanges: RwLock<HashMap<String, Arc<Exchange>>>,
    queues: RwLock<HashMap<String, Arc<Queue>>>,
    store: Arc<dyn Store>,
    /// Totals over every queue this vhost had, and its publishes.
    pub(crate) counters: Arc<MessageCounters>,
    /// Set when the vhost is deleted: declares and binds that race the deletion are
    /// refused, and undo what they stored, so nothing brings the vhost back at restart.
    deleted: AtomicBool,
}

impl std::fmt::Debug for VHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VHost").field("name", &self.name).finish()
    }
}

fn store_err(e: crate::broker::store::StoreError) -> Error {
    Error::internal(e.to_string())
}

impl VHost {
    pub(crate) fn new(name: &str, store: Arc<dyn Store>) -> Arc<VHost> {
        let exchanges = BUILT_IN
            .iter()
            .map(|(n, kind)| {
                (
                    n.to_string(),
                    Arc::new(Exchange::new(
                        n,
                        *kind,
                        true,
                        false,
                        false,
                        FieldTable::default(),
                    )),
                )
            })
            .collect();
        Arc::new(VHost {
            name: name.to_string(),
            exchanges: RwLock::new(exchanges),
            queues: RwLock::new(HashMap::new()),
            store,
            counters: Arc::default(),
            deleted: AtomicBool::new(false),
        })
    }

    fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::SeqCst)
    }

    fn deleted_error(&self) -> Error {
        Error::not_found(format!("vhost '{}' was deleted", self.name))
    }

    fn no_exchange(&self, name: &str) -> Error {
        Error::not_found(format!("no exchange '{name}' in vhost '{}'", self.name))
    }

    fn no_queue(&self, name: &str) -> Error {
        Error::not_found(format!("no queue '{name}' in vhost '{}'", self.name))
    }

    /// Message totals of this vhost (publishes, deliveries, acks).
    pub fn counters(&self) -> &MessageCounters {
        &self.counters
    }

    pub fn exchange(&self, name: &str) -> Option<Arc<Exchange>> {
        self.exchanges.read().get(name).cloned()
    }

    pub fn queue(&self, name: &str) -> Option<Arc<Queue>> {
        self.queues.read().get(name).cloned()
    }

    /// All queues (for stats and housekeeping).
    pub fn queues(&self) -> Vec<Arc<Queue>> {
        self.queues.read().values().cloned().collect()
    }

    /// All exchanges (for stats).
    pub fn exchanges(&self) -> Vec<Arc<Exchange>> {
        self.exchanges.read().values().cloned().collect()
    }

    /// A queue `conn` may use: 404 if missing, 405 if another connection's exclusive queue.
    pub fn queue_for(&self, name: &str, conn: ConnectionId) -> Result<Arc<Queue>> {
        let q = self.queue(name).ok_or_else(|| self.no_queue(name))?;
        q.check_access(conn)?;
        Ok(q)
    }

    // ----- exchanges -----

    pub fn exchange_declare(&self, name: &str, kind: &str, opts: ExchangeOptions) -> Result<()> {
        if let Some(existing) = self.exchange(name) {
            if opts.passive {
                return Ok(());
            }
            if name.is_empty() {
                return Err(Error::access_refused(
                    "operation not permitted on the default exchange",
                ));
            }
            let kind = ExchangeKind::parse(kind)?;
            let inequivalent = |arg: &str, received: String, current: String| {
                Error::precondition_failed(format!(
                    "inequivalent arg '{arg}' for exchange '{name}' in vhost '{}': received '{received}' but current is '{current}'",
                    self.name
                ))
            };
            if existing.kind != kind {
                return Err(inequivalent(
                    "type",
                    kind.to_string(),
                    existing.kind.to_string(),
                ));
            }
            if existing.durable != opts.durable {
                return Err(inequivalent(
                    "durable",
                    opts.durable.to_string(),
                    existing.durable.to_string(),
                ));
            }
            if existing.auto_delete != opts.auto_delete {
                return Err(inequivalent(
                    "auto_delete",
                    opts.auto_delete.to_string(),
                    existing.auto_delete.to_string(),
                ));
            }
            if existing.internal != opts.internal {
                return Err(inequivalent(
                    "internal",
                    opts.internal.to_string(),
                    existing.internal.to_string(),
                ));
            }
            if existing.alternate
                != Exchange::new(name, kind, false, false, false, opts.arguments).alternate
            {
                return Err(Error::precondition_failed(format!(
                    "inequivalent arg 'alternate-exchange' for exchange '{name}' in vhost '{}'",
                    self.name
                )));
            }
            return Ok(());
        }
        if opts.passive {
            return Err(self.no_exchange(name));
        }
        let kind = ExchangeKind::parse(kind)?;
        if name.starts_with("amq.") {
            return Err(Error::access_refused(format!(
                "exchange name '{name}' contains reserved prefix 'amq.*'"
            )));
        }
        if self.is_deleted() {
            return Err(self.deleted_error());
        }
        let exchange = Exchange::new(
            name,
            kind,
            opts.durable,
            opts.auto_delete,
            opts.internal,
            opts.arguments,
        );
        let durable = exchange.durable;
        if durable {
            self.store
                .save_exchange(&exchange_record(&self.name, &exchange))
                .map_err(store_err)?;
        }
        let inserted = {
            let mut exchanges = self.exchanges.write();
            // Checked under the lock the deletion lists exchanges with: an exchange is
            // either in that list or refused here.
            let live = !self.is_deleted();
            if live {
                exchanges
                    .entry(name.to_string())
                    .or_insert_with(|| Arc::new(exchange));
            }
            live
        };
        if !inserted {
            if durable {
                let _ = self.store.delete_exchange(&self.name, name);
            }
            return Err(self.deleted_error());
        }
        Ok(())
    }

    pub fn exchange_delete(&self, name: &str, if_unused: bool) -> Result<()> {
        if name.is_empty() || name.starts_with("amq.") {
            return Err(Error::access_refused(format!(
                "operation not permitted on the {} exchange",
                if name.is_empty() {
                    "default".to_string()
                } else {
                    format!("built-in '{name}'")
                }
            )));
        }
        let Some(exchange) = self.exchange(name) else {
            return Ok(());
        };
        if if_unused && exchange.has_bindings() {
            return Err(Error::precondition_failed(format!(
                "exchange '{name}' in vhost '{}' in use",
                self.name
            )));
        }
        self.remove_exchange(&exchange)
    }

    fn remove_exchange(&self, exchange: &Arc<Exchange>) -> Result<()> {
        if exchange.durable {
            self.store
                .delete_exchange(&self.name, &exchange.name)
                .map_err(store_err)?;
        }
        self.exchanges.write().remove(&exchange.name);
        // Bindings that lead to it from other exchanges go with it.
        let me = Destination::exchange(&exchange.name);
        for other in self.exchanges() {
            if !other.unbind_destination(&me).is_empty() {
                self.maybe_auto_delete_exchange(&other);
            }
        }
        Ok(())
    }

    fn maybe_auto_delete_exchange(&self, exchange: &Arc<Exchange>) {
        if exchange.auto_delete && !exchange.has_bindings() {
            if let Err(e) = self.remove_exchange(exchange) {
                tracing::warn!(exchange = %exchange.name, error = %e, "Auto-delete of exchange failed.");
            }
        }
    }

    pub fn exchange_bind(
        &self,
        destination: &str,
        source: &str,
        routing_key: &str,
        arguments: &FieldTable,
    ) -> Result<()> {
        let dest = self
            .exchange(destination)
            .ok_or_else(|| self.no_exchange(destination))?;
        self.bind(
            source,
            Destination::exchange(destination),
            dest.durable,
            routing_key,
            arguments,
        )
    }

    pub fn exchange_unbind(
        &self,
        destination: &str,
        source: &str,
        routing_key: &str,
        arguments: &FieldTable,
    ) -> Result<()> {
        let dest = self
            .exchange(destination)
            .ok_or_else(|| self.no_exchange(destination))?;
        self.unbind(
            source,
            Destination::exchange(destination),
            dest.durable,
            routing_key,
            arguments,
        )
    }

    /// The exchange a binding starts from: never the default exchange (its bindings are
    /// implicit), 404 when missing.
    fn binding_source(&self, source: &str) -> Result<Arc<Exchange>> {
        if source.is_empty() {
            return Err(Error::access_refused(
                "operation not permitted on the default exchange",
            ));
        }
        self.exchange(source)
            .ok_or_else(|| self.no_exchange(source))
    }

    fn bind(
        &self,
        source: &str,
        dest: Destination,
        dest_durable: bool,
        routing_key: &str,
        arguments: &FieldTable,
    ) -> Result<()> {
        let exchange = self.binding_source(source)?;
        let binding = Binding {
            destination: dest,
            routing_key: routing_key.to_string(),
            arguments: arguments.clone(),
        };
        let record = binding_record(&self.name, source, &binding);
        if exchange.bind(binding)? && exchange.durable && dest_durable {
            self.store.save_binding(&record).map_err(store_err)?;
            // The deletion removes stored bindings with their exchanges; one stored after
            // that is removed here.
            if self.is_deleted() {
                let _ = self.store.delete_binding(&record);
                return Err(self.deleted_error());
            }
        }
        Ok(())
    }

    fn unbind(
        &self,
        source: &str,
        dest: Destination,
        dest_durable: bool,
        routing_key: &str,
        arguments: &FieldTable,
    ) -> Result<()> {
        let exchange = self.binding_source(source)?;
        let binding = Binding {
            destination: dest,
            routing_key: routing_key.to_string(),
            arguments: arguments.clone(),
        };
        if exchange.unbind(&binding) {
            if exchange.durable && dest_durable {
                self.store
                    .delete_binding(&binding_record(&self.name, source, &binding))
                    .map_err(store_err)?;
            }
            self.maybe_auto_delete_exchange(&exchange);
        }
        Ok(())
    }

    // ----- queues -----

    pub fn queue_declare(
        self: &Arc<Self>,
        name: &str,
        opts: QueueOptions,
        conn: ConnectionId,
    ) -> Result<QueueInfo> {
        if let Some(existing) = self.queue(name) {
            existing.check_access(conn)?;
            if !opts.passive {
                self.check_equivalent(&existing, &opts)?;
            }
            existing.touch();
            let counts = existing.counts();
            return Ok(QueueInfo {
                name: name.to_string(),
                message_count: counts.ready,
                consumer_count: counts.consumers,
            });
        }
        if opts.passive {
            return Err(self.no_queue(name));
        }
        let name = if name.is_empty() {
            generated_queue_name()
        } else if name.starts_with("amq.") {
            return Err(Error::access_refused(format!(
                "queue name '{name}' contains reserved prefix 'amq.*'"
            )));
        } else {
            name.to_string()
        };
        if self.is_deleted() {
            return Err(self.deleted_error());
        }
        let args = QueueArgs::parse(&opts.arguments, &name, &self.name)?;
        let owner = opts.exclusive.then_some(conn);
        // Exclusive queues die with their connection, so they are never stored.
        let durable = opts.durable && !opts.exclusive;
        let queue = Arc::new(Queue::new(
            &name,
            self,
            durable,
            opts.auto_delete,
            owner,
            opts.arguments.clone(),
            args,
            self.store.clone(),
        ));
        if durable {
            self.store
                .save_queue(&QueueRecord {
                    vhost: self.name.clone(),
                    name: name.clone(),
                    auto_delete: opts.auto_delete,
                    arguments: opts.arguments,
                })
                .map_err(store_err)?;
        }
        let inserted = {
            let mut queues = self.queues.write();
            // Checked under the lock the deletion lists queues with (see exchange_declare).
            (!self.is_deleted()).then(|| queues.entry(name.clone()).or_insert(queue).clone())
        };
        let Some(queue) = inserted else {
            if durable {
                let _ = self.store.delete_queue(&self.name, &name);
            }
            return Err(self.deleted_error());
        };
        queue.check_access(conn)?;
        let counts = queue.counts();
        Ok(QueueInfo {
            name,
            message_count: counts.ready,
            consumer_count: counts.consumers,
        })
    }

    fn check_equivalent(&self, q: &Queue, opts: &QueueOptions) -> Result<()> {
        let inequivalent = |arg: &str, received: String, current: String| {
            Err(Error::precondition_failed(format!(
                "inequivalent arg '{arg}' for queue '{}' in vhost '{}': received '{received}' but current is '{current}'",
                q.name, self.name
            )))
        };
        let durable = q.durable || q.exclusive_owner.is_some() && opts.durable;
        if durable != opts.durable {
            return inequivalent("durable", opts.durable.to_string(), q.durable.to_string());
        }
        if q.exclusive_owner.is_some() != opts.exclusive {
            return inequivalent(
                "exclusive",
                opts.exclusive.to_string(),
                q.exclusive_owner.is_some().to_string(),
            );
        }
        if q.auto_delete != opts.auto_delete {
            return inequivalent(
                "auto_delete",
                opts.auto_delete.to_string(),
                q.auto_delete.to_string(),
            );
        }
        let received = QueueArgs::parse(&opts.arguments, &q.name, &self.name)?;
        if received != q.args {
            for key in [
                "x-message-ttl",
                "x-expires",
                "x-max-length",
                "x-max-length-bytes",
                "x-overflow",
                "x-dead-letter-exchange",
                "x-dead-letter-routing-key",
                "x-max-priority",
            ] {
                let a = opts.arguments.inner().get(key);
                let b = q.arguments.inner().get(key);
                if a != b {
                    return inequivalent(
                        key,
                        a.map_or("none".to_string(), |v| format!("{v:?}")),
                        b.map_or("none".to_string(), |v| format!("{v:?}")),
                    );
                }
            }
        }
        Ok(())
    }

    pub fn queue_bind(
        &self,
        queue: &str,
        exchange: &str,
        routing_key: &str,
        arguments: &FieldTable,
        conn: ConnectionId,
    ) -> Result<()> {
        let q = self.queue_for(queue, conn)?;
        self.bind(
            exchange,
            Destination::queue(queue),
            q.durable,
            routing_key,
            arguments,
        )
    }

    pub fn queue_unbind(
        &self,
        queue: &str,
        exchange: &str,
        routing_key: &str,
        arguments: &FieldTable,
        conn: ConnectionId,
    ) -> Result<()> {
        let q = self.queue_for(queue, conn)?;
        self.unbind(
            exchange,
            Destination::queue(queue),
            q.durable,
            routing_key,
            arguments,
        )
    }

    pub fn queue_purge(&self, queue: &str, conn: ConnectionId) -> Result<u32> {
        self.queue_for(queue, conn)?.purge()
    }

    /// queue.delete: deleting a missing queue is not an error (RabbitMQ 3.x), it deletes 0.
    pub fn queue_delete(
        &self,
        queue: &str,
        if_unused: bool,
        if_empty: bool,
        conn: ConnectionId,
    ) -> Result<u32> {
        let Some(q) = self.queue(queue) else {
            return Ok(0);
        };
        q.check_access(conn)?;
        let counts = q.counts();
        if if_unused && counts.consumers > 0 {
            return Err(Error::precondition_failed(format!(
                "queue '{queue}' in vhost '{}' in use",
                self.name
            )));
        }
        if if_empty && counts.ready + counts.unacked > 0 {
            return Err(Error::precondition_failed(format!(
                "queue '{queue}' in vhost '{}' is not empty",
                self.name
            )));
        }
        self.remove_queue(&q)
    }

    /// Remove a queue: its bindings, its stored state, and tell its consumers.
    fn remove_queue(&self, q: &Arc<Queue>) -> Result<u32> {
        {
            let mut queues = self.queues.write();
            match queues.get(&*q.name) {
                Some(current) if Arc::ptr_eq(current, q) => {
                    queues.remove(&*q.name);
                }
                _ => return Ok(0),
            }
        }
        let me = Destination::queue(&q.name);
        for exchange in self.exchanges() {
            if !exchange.unbind_destination(&me).is_empty() {
                self.maybe_auto_delete_exchange(&exchange);
            }
        }
        let stored = if q.durable {
            self.store
                .delete_queue(&self.name, &q.name)
                .map_err(store_err)
        } else {
            Ok(())
        };
        let (consumers, count) = q.mark_deleted();
        for c in consumers {
            c.session().consumer_gone(&c.tag);
        }
        stored.map(|()| count)
    }

    /// Delete every queue (with its stored messages) and every exchange but the built-in
    /// ones, when the vhost itself goes. Consumers are told, as for a deleted queue.
    pub(crate) fn delete_everything(&self) -> Result<()> {
        // First, so a declare or bind in flight is either listed below or refused.
        self.deleted.store(true, Ordering::SeqCst);
        for q in self.queues() {
            self.remove_queue(&q)?;
        }
        for exchange in self.exchanges() {
            if !exchange.name.is_empty() && !exchange.name.starts_with("amq.") {
                self.remove_exchange(&exchange)?;
            }
        }
        Ok(())
    }

    pub(crate) fn delete_queue_if_unused_auto_delete(&self, q: &Arc<Queue>) {
        if q.counts().consumers == 0 {
            if let Err(e) = self.remove_queue(q) {
                tracing::warn!(queue = %q.name, error = %e, "Auto-delete of queue failed.");
            }
        }
    }

    /// A connection closed: its exclusive queues go.
    pub fn connection_closed(&self, conn: ConnectionId) {
        let mine: Vec<Arc<Queue>> = self
            .queues
            .read()
            .values()
            .filter(|q| q.exclusive_owner == Some(conn))
            .cloned()
            .collect();
        for q in mine {
            if let Err(e) = self.remove_queue(&q) {
                tracing::warn!(queue = %q.name, error = %e, "Removing an exclusive queue failed.");
            }
        }
    }

    /// Housekeeping: expire messages, delete queues past `x-expires`.
    pub(crate) fn tick(&self, now: u64) {
        for q in self.queues() {
            if q.tick(now) {
                if let Err(e) = self.remove_queue(&q) {
                    tracing::warn!(queue = %q.name, error = %e, "Expiring an unused queue failed.");
                }
            }
        }
    }

    // ----- publishing -----

    /// basic.publish into `message.exchange` with `message.routing_key`.
    ///
    /// `confirm` (publisher confirms) is called once with `true` when every queue the
    /// message reached has accepted it and, for a persistent message on a durable queue,
    /// written it to disk; with `false` when a queue refused it (`x-overflow`) or the store
    /// failed. It may run on the store's thread.
    pub fn publish(
        &self,
        message: Message,
        mandatory: bool,
        confirm: Option<ConfirmCallback>,
    ) -> Result<PublishOutcome> {
        let _ = mandatory;
        let ttl = message
            .expiration_ms()
            .map_err(Error::precondition_failed)?;
        let exchange = self
            .exchange(&message.exchange)
            .ok_or_else(|| self.no_exchange(&message.exchange))?;
        if exchange.internal {
            return Err(Error::access_refused(format!(
                "cannot publish to internal exchange '{}' in vhost '{}'",
                exchange.name, self.name
            )));
        }
        self.counters.published();
        // From here to the callback is what a publisher waits for its confirm.
        let confirm = confirm.map(|confirm| {
            let started = std::time::Instant::now();
            Box::new(move |ok: bool| {
                metrics::histogram!(CONFIRM_LATENCY_METRIC).record(started.elapsed().as_secs_f64());
                confirm(ok)
            }) as ConfirmCallback
        });
        let queues = self.route(&exchange, &message);
        let message = Arc::new(message);
        let pending = confirm.map(PendingConfirm::new);
        for q in &queues {
            if q.enqueue(&message, ttl, pending.as_ref()) == Enqueued::Rejected {
                if let Some(p) = &pending {
                    p.nack();
                }
            }
        }
        if let Some(p) = pending {
            p.release();
        }
        Ok(PublishOutcome {
            routed: !queues.is_empty(),
        })
    }

    /// Republish a dead-lettered message; it is dropped if its exchange is gone or it would
    /// loop back into a queue it expired from (no rejection in the cycle).
    pub(crate) fn publish_dead_letter(&self, dead: DeadLetter) {
        let Some(exchange) = self.exchange(&dead.exchange) else {
            tracing::debug!(exchange = %dead.exchange, "Dead-letter exchange missing; message dropped.");
            return;
        };
        let ttl = dead.message.expiration_ms().ok().flatten();
        let queues = self.route(&exchange, &dead.message);
        let message = Arc::new(dead.message);
        for q in queues {
            if !deadletter::is_cycle(&message, &q.name) {
                q.enqueue(&message, ttl, None);
            }
        }
    }

    /// The queues `message` reaches from `start`, following exchange-to-exchange bindings
    /// and alternate exchanges, each queue once.
    fn route(&self, start: &Arc<Exchange>, message: &Message) -> Vec<Arc<Queue>> {
        let exchanges = self.exchanges.read();
        let queues = self.queues.read();
        let mut found: Vec<Arc<Queue>> = Vec::new();
        let mut seen_queues: HashSet<Arc<str>> = HashSet::new();
        let mut visited: HashSet<String> = HashSet::new();
        let mut stack = vec![start.clone()];
        let mut dests = Vec::new();
        while let Some(x) = stack.pop() {
            if !visited.insert(x.name.clone()) {
                continue;
            }
            dests.clear();
            if x.name.is_empty() {
                if queues.contains_key(&message.routing_key) {
                    dests.push(Destination::queue(&message.routing_key));
                }
            } else {
                x.route(message, &mut dests);
            }
            if dests.is_empty() {
                if let Some(ae) = x.alternate.as_ref().and_then(|name| exchanges.get(name)) {
                    stack.push(ae.clone());
                }
                continue;
            }
            for d in dests.drain(..) {
                match d.kind {
                    DestinationKind::Queue => {
                        if let Some(q) = queues.get(&*d.name) {
                            if seen_queues.insert(d.name.clone()) {
                                found.push(q.clone());
                            }
                        }
                    }
                    DestinationKind::Exchange => {
                        if let Some(e) = exchanges.get(&*d.name) {
                            stack.push(e.clone());
                        }
                    }
                }
            }
        }
        found
    }

    // ----- recovery -----

    pub(crate) fn restore_exchange(&self, record: ExchangeRecord) -> Result<()> {
        let kind = ExchangeKind::parse(&record.kind)?;
        let exchange = Exchange::new(
            &record.name,
            kind,
            true,
            record.auto_delete,
            record.internal,
            record.arguments,
        );
        self.exchanges
            .write()
            .insert(record.name, Arc::new(exchange));
        Ok(())
    }

    pub(crate) fn restore_queue(
        self: &Arc<Self>,
        recovered: crate::broker::store::RecoveredQueue,
    ) -> Result<()> {
        let r = recovered.record;
        let args = QueueArgs::parse(&r.arguments, &r.name, &self.name)?;
        let queue = Arc::new(Queue::new(
            &r.name,
            self,
            true,
            r.auto_delete,
            None,
            r.arguments,
            args,
            self.store.clone(),
        ));
        queue.restore(recovered.messages);
        self.queues.write().insert(r.name, queue);
        Ok(())
    }

    pub(crate) fn restore_binding(&self, record: BindingRecord) -> Result<()> {
        let exchange = self
            .exchange(&record.source)
            .ok_or_else(|| self.no_exchange(&record.source))?;
        let destination = Destination {
            kind: record.destination_kind,
            name: Arc::from(record.destination.as_str()),
        };
        exchange.bind(Binding {
            destination,
            routing_key: record.routing_key,
            arguments: record.arguments,
        })?;
        Ok(())
    }
}

fn exchange_record(vhost: &str, x: &Exchange) -> ExchangeRecord {
    ExchangeRecord {
        vhost: vhost.to_string(),
        name: x.name.clone(),
        kind: x.kind.as_str().to_string(),
        auto_delete: x.auto_delete,
        internal: x.internal,
        arguments: x.arguments.clone(),
    }
}

fn binding_record(vhost: &str, source: &str, b: &Binding) -> BindingRecord {
    BindingRecord {
        vhost: vhost.to_string(),
        source: source.to_string(),
        destination: b.destination.name.to_string(),
        destination_kind: b.destination.kind,
        routing_key: b.routing_key.clone(),
        arguments: b.arguments.clone(),
    }
}
