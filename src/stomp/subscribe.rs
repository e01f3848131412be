//! SUBSCRIBE and UNSUBSCRIBE: which queue a destination means, and the consumer on it.
//!
//! | destination | queue consumed |
//! |---|---|
//! | `/queue/X` | `X`, declared durable if missing (with `x-*` arguments) |
//! | `/amq/queue/X` | the existing `X` (404 ERROR if missing) |
//! | `/topic/T` | a server-named exclusive auto-delete queue bound to `amq.topic` with `T` (JMS `>` → `#`) |
//! | `/topic/T`, durable | `C:S` (`mapping::destination::durable_subscription_queue`), durable, surviving disconnects |
//! | `/exchange/E/K` | a server-named exclusive auto-delete queue bound to `E` with `K` |
//! | `/temp-queue/N` | the connection's temporary queue `N` (ActiveMQ allows this; RabbitMQ only `reply-to`) |
//!
//! A durable topic subscription is asked for with RabbitMQ's `durable:true` (or
//! `persistent:true`) + `id`, ActiveMQ's `activemq.subscriptionName`, or Artemis'
//! `durable-subscription-name`; `x-queue-name` names the queue explicitly (RabbitMQ).
//! Prefetch comes from `prefetch-count` (RabbitMQ) or `activemq.prefetchSize` (ActiveMQ).
//! A `selector` (JMS syntax, as on ActiveMQ) filters: on a queue other consumers still get
//! what it refuses; on a subscriber's own topic queue refused messages are dropped.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use super::frame::Frame;
use super::session::{queue_arguments, refuse, StompSession, R};
use super::subscription::{AckMode, Subscription, SubscriptionInfo, SubscriptionSink};
use crate::broker::session::{ConsumeOptions, MessageFilter, Session};
use crate::broker::vhost::{QueueOptions, VHost};
use crate::mapping::destination::{
    durable_subscription_queue, jms_topic_to_amqp, parse_stomp, StompDestination, TOPIC_EXCHANGE,
};
use crate::message::Message;
use crate::selector::Selector;

fn truthy(frame: &Frame, name: &str) -> bool {
    frame
        .header(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl StompSession {
    pub(crate) fn subscribe(&mut self, frame: &Frame) -> R {
        let vhost = self.vhost()?;
        let raw = frame.header("destination").ok_or_else(|| {
            refuse(
                "missing destination",
                "a SUBSCRIBE frame needs a destination header",
            )
        })?;
        let id = match frame.header("id") {
            Some(id) => id.to_string(),
            // STOMP 1.0 made `id` optional: the destination names the subscription.
            None if self.version == crate::stomp::Version::V1_0 => raw.to_string(),
            None => return Err(refuse("missing id", "a SUBSCRIBE frame needs an id header")),
        };
        if self.subscriptions.contains_key(&id) {
            return Err(refuse(
                "duplicate subscription",
                format!("subscription id '{id}' is already in use"),
            ));
        }
        let ack = AckMode::parse(frame.header("ack")).ok_or_else(|| {
            refuse(
                "bad ack mode",
                format!(
                    "ack '{}' is not auto, client or client-individual",
                    frame.header("ack").unwrap_or_default()
                ),
            )
        })?;
        let prefetch = prefetch(frame)?;
        let selector = match frame.header("selector") {
            None => None,
            Some(text) => Some(Selector::parse(text).map_err(|e| {
                refuse(
                    format!("invalid selector at position {}", e.position),
                    format!("selector '{text}': {e}"),
                )
            })?),
        };
        let filter = selector.map(stomp_filter);
        let destination = parse_stomp(raw).map_err(|e| refuse("bad destination", e))?;
        let (queue, own_queue, durable_queue) = match &destination {
            StompDestination::Queue(q) => {
                self.declare_named_queue(&vhost, q, &frame.headers)?;
                (q.clone(), false, None)
            }
            StompDestination::AmqQueue(q) => {
                vhost.queue_for(q, self.conn)?;
                (q.clone(), false, None)
            }
            StompDestination::TempQueue(n) => (self.temp_queue(n, false)?, true, None),
            StompDestination::ReplyQueue(_) => {
                return Err(refuse(
                    "bad destination",
                    format!("cannot subscribe to '{raw}'"),
                ))
            }
            StompDestination::Topic(t) => {
                let key = jms_topic_to_amqp(t);
                let (q, durable) =
                    self.subscriber_queue(&vhost, frame, &id, TOPIC_EXCHANGE, &key)?;
                (q, true, durable)
            }
            StompDestination::Exchange {
                exchange,
                routing_key,
            } => {
                let (q, durable) =
                    self.subscriber_queue(&vhost, frame, &id, exchange, routing_key)?;
                (q, true, durable)
            }
        };
        let consume = ConsumeOptions {
            // RabbitMQ's exclusive consumer (`exclusive:true`).
            exclusive: truthy(frame, "exclusive"),
            discard_unmatched: own_queue && filter.is_some(),
            filter,
            ..ConsumeOptions::default()
        };
        self.start_subscription(&vhost, &id, &queue, ack, prefetch, consume, durable_queue)
    }

    /// The queue of a topic/exchange subscriber: its own server-named one, or the durable
    /// named one. Bound to `exchange` with `key`.
    fn subscriber_queue(
        &mut self,
        vhost: &Arc<VHost>,
        frame: &Frame,
        id: &str,
        exchange: &str,
        key: &str,
    ) -> R<(String, Option<String>)> {
        let subscription_name = frame
            .header("activemq.subscriptionName")
            .or_else(|| frame.header("durable-subscription-name"))
            .or_else(|| (truthy(frame, "durable") || truthy(frame, "persistent")).then_some(id));
        let arguments = queue_arguments(&frame.headers)?;
        let named = frame.header("x-queue-name").map(str::to_owned);
        let (name, opts, durable) = match subscription_name {
            Some(sub) => {
                let client_id = frame.header("client-id").unwrap_or(&self.client_id);
                let name = named.unwrap_or_else(|| durable_subscription_queue(client_id, sub));
                let opts = QueueOptions {
                    durable: true,
                    auto_delete: truthy(frame, "auto-delete"),
                    arguments,
                    ..QueueOptions::default()
                };
                (name.clone(), opts, Some(name))
            }
            None => {
                let opts = QueueOptions {
                    exclusive: true,
                    auto_delete: true,
                    arguments,
                    ..QueueOptions::default()
                };
                (named.unwrap_or_default(), opts, None)
            }
        };
        let info = vhost.queue_declare(&name, opts, self.conn)?;
        if let Err(e) = vhost.queue_bind(&info.name, exchange, key, &Default::default(), self.conn)
        {
            if durable.is_none() {
                let _ = vhost.queue_delete(&info.name, false, false, self.conn);
            }
            return Err(e.into());
        }
        Ok((info.name, durable))
    }

    /// Start consuming `queue` as subscription `id`, on a broker session of its own.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_subscription(
        &mut self,
        vhost: &Arc<VHost>,
        id: &str,
        queue: &str,
        ack: AckMode,
        prefetch: u16,
        consume: ConsumeOptions,
        durable_queue: Option<String>,
    ) -> R {
        let info = Arc::new(SubscriptionInfo {
            id: id.to_string(),
            ack,
            max_tag: AtomicU64::new(0),
            session: OnceLock::new(),
        });
        let sink = Arc::new(SubscriptionSink {
            info: info.clone(),
            out: self.out.clone(),
        });
        let session = Session::new(vhost.clone(), self.conn, sink);
        let _ = info.session.set(Arc::downgrade(&session));
        if let Some(registration) = &self.registration {
            self.sessions_opened += 1;
            registration.session_opened(self.sessions_opened, &session);
        }
        session.qos(prefetch, false);
        let tag = crate::message::short_string(id)
            .map(|_| id.to_string())
            .map_err(|e| refuse("bad subscription id", e))?;
        let opts = ConsumeOptions {
            tag,
            no_ack: ack == AckMode::Auto,
            ..consume
        };
        session.consume(queue, opts)?;
        self.subscriptions.insert(
            id.to_string(),
            Subscription {
                info,
                session,
                queue: queue.to_string(),
                durable_queue,
            },
        );
        Ok(())
    }

    pub(crate) fn unsubscribe(&mut self, frame: &Frame) -> R {
        let id = frame
            .header("id")
            .or_else(|| {
                (self.version == crate::stomp::Version::V1_0)
                    .then(|| frame.header("destination"))
                    .flatten()
            })
            .ok_or_else(|| refuse("missing id", "an UNSUBSCRIBE frame needs an id header"))?
            .to_string();
        let sub = self.subscriptions.remove(&id).ok_or_else(|| {
            refuse(
                "unknown subscription",
                format!("no subscription with id '{id}'"),
            )
        })?;
        sub.session.close();
        // Ending a durable subscription for good: RabbitMQ's `durable:true` on UNSUBSCRIBE,
        // ActiveMQ's `activemq.subscriptionName`.
        let forget = truthy(frame, "durable")
            || truthy(frame, "persistent")
            || frame.has("activemq.subscriptionName");
        if let (true, Some(q)) = (forget, &sub.durable_queue) {
            self.vhost()?.queue_delete(q, false, false, self.conn)?;
        }
        Ok(())
    }
}

/// A selector as ActiveMQ applies it to STOMP subscribers ("convert_string_expressions"):
/// STOMP headers are strings, so `n > 2` must compare a header `n:3` as a number.
fn stomp_filter(selector: Selector) -> MessageFilter {
    let selector = selector.with_numeric_strings();
    Arc::new(move |m: &Message| selector.matches(m))
}

/// `prefetch-count` (RabbitMQ) or `activemq.prefetchSize` (ActiveMQ); 0 = unlimited.
fn prefetch(frame: &Frame) -> R<u16> {
    let Some((name, value)) = ["prefetch-count", "activemq.prefetchSize"]
        .iter()
        .find_map(|n| frame.header(n).map(|v| (*n, v)))
    else {
        return Ok(0);
    };
    let n: u64 = value.trim().parse().map_err(|_| {
        refuse(
            "bad prefetch",
            format!("'{name}: {value}' is not a non-negative integer"),
        )
    })?;
    Ok(u16::try_from(n).unwrap_or(u16::MAX))
}
