//! One route's task: connect both ends, move messages, acknowledge each at its source only
//! after its target confirmed it, retry what the target refuses, dead-letter what cannot
//! be delivered, and reconnect with backoff when a connection fails.
//!
//! The states a route goes through: `connecting` → `running` → (a connection fails)
//! `waiting` for the backoff → `connecting` ... → `stopped` when it is cancelled.
//!
//! Up to `in_flight` messages are sent and not yet confirmed; confirms are handled in the
//! order the messages were sent, so source acks keep the source's order. A message the
//! target refuses is retried in place before any later confirm is handled; the messages
//! sent after it are already on their way, so with `in_flight` above 1 a retried message
//! arrives after them. A connection failure drops every unconfirmed message without an
//! ack: the source redelivers them once the route is back (at least once, never lost).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use futures::stream::{FuturesOrdered, StreamExt};
use futures::FutureExt;
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::client::{ClientError, ErrorKind, Received};
use crate::config::{ConnectionConfig, RouteConfig};
use crate::selector::Selector;

use super::backoff::Backoff;
use super::endpoint::{bridge_selector, Context, Sink, Source};
use super::translate::{dead_letter, translate, Outbound};

/// Where a route is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteState {
    Connecting,
    Running,
    /// Waiting to reconnect after a failure.
    Waiting,
    Stopped,
}

impl RouteState {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteState::Connecting => "connecting",
            RouteState::Running => "running",
            RouteState::Waiting => "waiting",
            RouteState::Stopped => "stopped",
        }
    }
}

/// A route's counters, shared with whoever reports on it.
#[derive(Debug)]
pub struct RouteStats {
    state: Mutex<RouteState>,
    /// Delivered to the target and acknowledged at the source.
    pub moved: AtomicU64,
    /// Sends repeated after a refusal.
    pub retried: AtomicU64,
    /// Sent to the dead-letter target (or rejected back to the source).
    pub dead_lettered: AtomicU64,
    /// Not selected by the route's selector (AMQP sources, which cannot select).
    pub filtered: AtomicU64,
    /// Connections lost or refused.
    pub reconnects: AtomicU64,
    last_error: Mutex<Option<(SystemTime, String)>>,
}

impl Default for RouteStats {
    fn default() -> Self {
        RouteStats {
            state: Mutex::new(RouteState::Connecting),
            moved: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }
}

impl RouteStats {
    pub fn state(&self) -> RouteState {
        *self.state.lock()
    }

    pub fn last_error(&self) -> Option<(SystemTime, String)> {
        self.last_error.lock().clone()
    }

    fn set_state(&self, state: RouteState) {
        *self.state.lock() = state;
    }

    fn error(&self, text: String) {
        *self.last_error.lock() = Some((SystemTime::now(), text));
    }
}

/// Everything a running route needs, fixed for its lifetime (a config change restarts it).
pub struct RouteTask {
    pub route: RouteConfig,
    pub source_connection: Option<ConnectionConfig>,
    pub target_connection: Option<ConnectionConfig>,
    pub dead_letter_connection: Option<ConnectionConfig>,
    pub ctx: Arc<Context>,
    pub stats: Arc<RouteStats>,
    pub cancel: CancellationToken,
}

/// Run a route until it is cancelled.
pub async fn run(task: RouteTask) {
    let name = task.route.name.clone();
    let retry = task.route.retry;
    let mut reconnect = Backoff::new(retry.initial_backoff, retry.max_backoff);
    loop {
        task.stats.set_state(RouteState::Connecting);
        match session(&task, &mut reconnect).await {
            Ok(()) => break,
            Err(e) => {
                task.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                task.stats.error(e.message.clone());
                task.stats.set_state(RouteState::Waiting);
                let delay = reconnect.next_delay();
                tracing::warn!(route = %name, error = %e, retry_in = ?delay, "route interrupted");
                tokio::select! {
                    _ = task.cancel.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
        if task.cancel.is_cancelled() {
            break;
        }
    }
    task.stats.set_state(RouteState::Stopped);
    tracing::info!(route = %name, "route stopped");
}

/// One confirmed-or-failed send, in send order.
type Done = (Received, Outbound, Result<(), ClientError>);

/// Open both ends and move messages until a connection fails (`Err`) or the route is
/// cancelled (`Ok`).
async fn session(task: &RouteTask, reconnect: &mut Backoff) -> Result<(), ClientError> {
    let route = &task.route;
    let ctx = &task.ctx;
    let source = tokio::select! {
        _ = task.cancel.cancelled() => return Ok(()),
        s = Source::open(&route.from, task.source_connection.as_ref(), route.in_flight, ctx) => s?,
    };
    let sink = tokio::select! {
        _ = task.cancel.cancelled() => return Ok(()),
        s = Sink::open(&route.to, task.target_connection.as_ref(), ctx) => s?,
    };
    let dead = match &route.dead_letter {
        Some(target) => Some(tokio::select! {
            _ = task.cancel.cancelled() => return Ok(()),
            s = Sink::open(target, task.dead_letter_connection.as_ref(), ctx) => s?,
        }),
        None => None,
    };
    let selector = if source.needs_bridge_selector() {
        bridge_selector(&route.from)
    } else {
        None
    };
    reconnect.reset();
    task.stats.set_state(RouteState::Running);
    tracing::info!(route = %route.name, "route running");
    let mut ends = Ends {
        task,
        source,
        sink,
        dead,
        selector,
    };
    let result = ends.pump().await;
    let Ends {
        source, sink, dead, ..
    } = ends;
    source.close().await;
    sink.close().await;
    if let Some(dead) = dead {
        dead.close().await;
    }
    result
}

struct Ends<'a> {
    task: &'a RouteTask,
    source: Source,
    sink: Sink,
    dead: Option<Sink>,
    selector: Option<Selector>,
}

impl Ends<'_> {
    async fn pump(&mut self) -> Result<(), ClientError> {
        let window = usize::from(self.task.route.in_flight);
        let mut pending = FuturesOrdered::new();
        loop {
            tokio::select! {
                biased;
                _ = self.task.cancel.cancelled() => {
                    // Settle what is already on its way, then stop; anything unconfirmed
                    // is redelivered by the source later.
                    while let Some(done) = pending.next().await {
                        self.settle(done).await?;
                    }
                    return Ok(());
                }
                Some(done) = pending.next(), if !pending.is_empty() => {
                    // Take every confirm that is already in, so their acks go out together.
                    let mut ready = vec![done];
                    while let Some(Some(more)) = pending.next().now_or_never() {
                        ready.push(more);
                    }
                    self.settle_all(ready).await?;
                }
                received = self.source.recv(), if pending.len() < window => {
                    let received = match received {
                        Ok(received) => received,
                        // The source could not read this one message and gave it to its
                        // own dead-letter handling (an OpenWire message the mapping refuses
                        // is POISON-acked): count it and go on.
                        Err(e) if e.kind == ErrorKind::Rejected => {
                            tracing::warn!(route = %self.task.route.name, error = %e, "the source dead-lettered a message it could not read");
                            self.task.stats.error(e.message.clone());
                            self.task.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if let Some(selector) = &self.selector {
                        if !selector.matches(&received.message) {
                            self.source.ack(received.tag).await?;
                            self.task.stats.filtered.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                    match translate(&self.task.route, &received.message) {
                        Ok(outbound) => {
                            let confirm = self.sink.send(&outbound).await;
                            pending.push_back(async move {
                                let result = match confirm {
                                    Ok(confirm) => confirm.wait().await,
                                    Err(e) => Err(e),
                                };
                                (received, outbound, result)
                            });
                        }
                        Err(e) => {
                            // Settle earlier messages first so the source sees acks in order.
                            while let Some(done) = pending.next().await {
                                self.settle(done).await?;
                            }
                            self.dead_letter(&received, "untranslatable", &e.0, 0).await?;
                        }
                    }
                }
            }
        }
    }

    /// Handle confirms in send order: the delivered ones are acknowledged together (one
    /// cumulative ack where the source has it), the others one by one.
    async fn settle_all(&mut self, ready: Vec<Done>) -> Result<(), ClientError> {
        let mut delivered = Vec::with_capacity(ready.len());
        for done in ready {
            if done.2.is_ok() {
                delivered.push(done.0.tag);
                continue;
            }
            self.ack_delivered(&mut delivered).await?;
            self.settle(done).await?;
        }
        self.ack_delivered(&mut delivered).await
    }

    async fn ack_delivered(&mut self, tags: &mut Vec<u64>) -> Result<(), ClientError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.source.ack_all(tags).await?;
        let count = u64::try_from(tags.len()).unwrap_or(u64::MAX);
        self.task.stats.moved.fetch_add(count, Ordering::Relaxed);
        tags.clear();
        Ok(())
    }

    /// Handle one send's outcome: ack, retry, dead-letter, or fail the session.
    async fn settle(&mut self, done: Done) -> Result<(), ClientError> {
        let (received, outbound, mut result) = done;
        let policy = self.task.route.retry;
        let mut backoff = Backoff::new(policy.initial_backoff, policy.max_backoff);
        let mut attempts = 1;
        loop {
            match result {
                Ok(()) => {
                    self.source.ack(received.tag).await?;
                    self.task.stats.moved.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) if e.kind == ErrorKind::Connection => return Err(e),
                Err(e) if e.kind == ErrorKind::Rejected => {
                    return self
                        .dead_letter(&received, "rejected", &e.message, attempts)
                        .await;
                }
                Err(e) if attempts >= policy.attempts => {
                    return self
                        .dead_letter(&received, "refused", &e.message, attempts)
                        .await;
                }
                Err(e) => {
                    self.task.stats.error(e.message.clone());
                    let delay = backoff.next_delay();
                    tracing::debug!(route = %self.task.route.name, error = %e, attempt = attempts, retry_in = ?delay, "target refused a message");
                    tokio::select! {
                        // Unacked: the source redelivers it when the route runs again.
                        _ = self.task.cancel.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(delay) => {}
                    }
                    attempts += 1;
                    self.task.stats.retried.fetch_add(1, Ordering::Relaxed);
                    result = match self.sink.send(&outbound).await {
                        Ok(confirm) => confirm.wait().await,
                        Err(e) => Err(e),
                    };
                }
            }
        }
    }

    /// Send a message the route cannot deliver to its dead-letter target (then ack it at
    /// the source), or, without one, give it back to the source without requeue.
    async fn dead_letter(
        &mut self,
        received: &Received,
        reason: &str,
        error: &str,
        attempts: u32,
    ) -> Result<(), ClientError> {
        let route = &self.task.route;
        tracing::warn!(route = %route.name, reason, error, attempts, "dead-lettering a message");
        self.task.stats.error(format!("{reason}: {error}"));
        let (Some(dead), Some(target)) = (&self.dead, &route.dead_letter) else {
            self.source.give_up(received.tag).await?;
            self.task
                .stats
                .dead_lettered
                .fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        let outbound = match dead_letter(
            target,
            &route.name,
            &received.message,
            reason,
            error,
            attempts,
        ) {
            Ok(outbound) => outbound,
            Err(e) => {
                tracing::error!(route = %route.name, error = %e, "cannot address the dead letter; giving it back to the source");
                self.source.give_up(received.tag).await?;
                self.task
                    .stats
                    .dead_lettered
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
        };
        // A dead letter that cannot be stored is not dropped: the session restarts and the
        // source redelivers the message.
        dead.send(&outbound)
            .await?
            .wait()
            .await
            .map_err(|e| ClientError::connection(format!("dead-letter target: {e}")))?;
        self.source.ack(received.tag).await?;
        self.task
            .stats
            .dead_lettered
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
