//! The embedded core as a route endpoint: consume a core queue, publish to a core exchange.
//!
//! A route meets the core through the same in-process API the listeners use (a broker
//! [`Session`] per route, [`VHost::publish`] with a confirm callback), never through a
//! loopback client.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::broker::{
    Broker, ConsumeOptions, Delivery, DeliverySink, MessageFilter, Session, VHost,
};
use crate::client::{ClientError, Confirm, Received};
use crate::message::Message;
use crate::selector::Selector;

enum Event {
    Delivery(Delivery),
    Cancelled,
}

/// Hands deliveries from the queue to the route's task.
struct ChannelSink(mpsc::UnboundedSender<Event>);

impl DeliverySink for ChannelSink {
    fn deliver(&self, delivery: Delivery) -> bool {
        self.0.send(Event::Delivery(delivery)).is_ok()
    }

    fn consumer_cancelled(&self, _consumer_tag: &str) {
        let _ = self.0.send(Event::Cancelled);
    }
}

/// A consumer on a core queue. Unacked messages go back to the queue when it is dropped.
pub struct CoreSource {
    session: Arc<Session>,
    deliveries: mpsc::UnboundedReceiver<Event>,
    queue: String,
}

impl CoreSource {
    /// Consume `queue` with at most `prefetch` unacked messages. A selector is evaluated
    /// by the core: messages it does not select stay in the queue.
    pub fn open(
        broker: &Broker,
        vhost: &str,
        queue: &str,
        selector: Option<&str>,
        prefetch: u16,
    ) -> Result<CoreSource, ClientError> {
        let vhost = broker
            .vhost(vhost)
            .ok_or_else(|| ClientError::connection(format!("no vhost '{vhost}' in the core")))?;
        let filter = match selector {
            Some(text) => {
                let selector =
                    Selector::parse(text).map_err(|e| ClientError::rejected(e.to_string()))?;
                let filter: MessageFilter = Arc::new(move |m: &Message| selector.matches(m));
                Some(filter)
            }
            None => None,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let session = Session::new(
            vhost,
            broker.next_connection_id(),
            Arc::new(ChannelSink(tx)),
        );
        session.qos(prefetch, false);
        let options = ConsumeOptions {
            filter,
            ..ConsumeOptions::default()
        };
        if let Err(e) = session.consume(queue, options) {
            session.close();
            // The queue may be declared later (by a client or a config reload): keep trying.
            return Err(ClientError::connection(format!(
                "cannot consume core queue '{queue}': {e}"
            )));
        }
        Ok(CoreSource {
            session,
            deliveries: rx,
            queue: queue.to_string(),
        })
    }

    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        match self.deliveries.recv().await {
            Some(Event::Delivery(d)) => {
                // No socket between the queue and the route: the delivery is "written" now.
                self.session.written(1);
                Ok(Received {
                    message: Message::clone(&d.message),
                    redelivered: d.redelivered,
                    tag: d.delivery_tag,
                })
            }
            Some(Event::Cancelled) | None => Err(ClientError::connection(format!(
                "core queue '{}' was deleted",
                self.queue
            ))),
        }
    }

    pub fn ack(&self, tag: u64) -> Result<(), ClientError> {
        self.session
            .ack(tag, false)
            .map_err(|e| ClientError::connection(e.to_string()))
    }

    /// Acknowledge every delivery up to and including `tag`.
    pub fn ack_through(&self, tag: u64) -> Result<(), ClientError> {
        self.session
            .ack(tag, true)
            .map_err(|e| ClientError::connection(e.to_string()))
    }

    /// Give up on a message: rejected without requeue, so the queue's own dead-letter
    /// exchange (if any) takes it.
    pub fn reject(&self, tag: u64) -> Result<(), ClientError> {
        self.session
            .reject(tag, false)
            .map_err(|e| ClientError::connection(e.to_string()))
    }
}

impl Drop for CoreSource {
    fn drop(&mut self) {
        self.session.close();
    }
}

/// Publishing into a core vhost.
pub struct CoreSink {
    vhost: Arc<VHost>,
}

impl CoreSink {
    pub fn open(broker: &Broker, vhost: &str) -> Result<CoreSink, ClientError> {
        broker
            .vhost(vhost)
            .map(|vhost| CoreSink { vhost })
            .ok_or_else(|| ClientError::connection(format!("no vhost '{vhost}' in the core")))
    }

    /// Publish; the confirm resolves once every queue took the message (after the store
    /// made it durable when it is persistent and the queue durable). A message no queue
    /// takes is refused: a route exists to move messages somewhere, so one that would
    /// vanish is retried and then dead-lettered instead.
    pub fn publish(&self, message: Message) -> Confirm {
        let (exchange, routing_key) = (message.exchange.clone(), message.routing_key.clone());
        let (tx, confirm) = Confirm::pending();
        let callback = Box::new(move |ok: bool| {
            tx.send(if ok {
                Ok(())
            } else {
                Err(ClientError::refused(
                    "the core refused the message (a queue is full)",
                ))
            })
        });
        match self.vhost.publish(message, false, Some(callback)) {
            Ok(outcome) if outcome.routed => confirm,
            Ok(_) => Confirm::ready(Err(ClientError::refused(format!(
                "unroutable: no queue is bound to exchange '{exchange}' with routing key \
                 '{routing_key}'"
            )))),
            Err(e) => Confirm::ready(Err(ClientError::refused(e.to_string()))),
        }
    }
}
