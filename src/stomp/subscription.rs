//! STOMP subscriptions: one broker [`Session`] each, and the sink that hands its
//! deliveries to the connection's writer.
//!
//! One broker session per subscription makes the STOMP ack modes direct: `client`
//! (cumulative per subscription) is `ack(tag, multiple = true)` on that session,
//! `client-individual` a single ack, `auto` a `no_ack` consumer. The `ack`/`message-id` of a
//! MESSAGE is `<subscription id>@@<delivery tag>`: parsing it back finds the session, and
//! a tag above the highest one delivered is refused as unknown.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use tokio::sync::mpsc::UnboundedSender;

use super::writer::Outgoing;
use crate::broker::session::{Delivery, DeliverySink, Session};

/// A subscription's `ack` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    Auto,
    /// Cumulative: acking one message acks every earlier one of the subscription.
    Client,
    ClientIndividual,
}

impl AckMode {
    pub fn parse(text: Option<&str>) -> Option<AckMode> {
        match text.unwrap_or("auto") {
            "auto" => Some(AckMode::Auto),
            "client" => Some(AckMode::Client),
            "client-individual" => Some(AckMode::ClientIndividual),
            _ => None,
        }
    }
}

/// What the writer needs to turn a delivery into a MESSAGE frame.
#[derive(Debug)]
pub struct SubscriptionInfo {
    pub id: String,
    pub ack: AckMode,
    /// Highest delivery tag handed out: ACK ids above it are unknown.
    pub max_tag: AtomicU64,
    /// The broker session, told how many deliveries were written.
    pub session: OnceLock<Weak<Session>>,
}

impl SubscriptionInfo {
    /// The `ack`/`message-id` value of a delivery.
    pub fn ack_id(&self, tag: u64) -> String {
        format!("{}@@{}", self.id, tag)
    }

    /// The broker session, while it exists.
    pub fn session(&self) -> Option<Arc<Session>> {
        self.session.get().and_then(Weak::upgrade)
    }
}

/// Split an ack id into (subscription id, delivery tag).
pub fn parse_ack_id(id: &str) -> Option<(&str, u64)> {
    let (sub, tag) = id.rsplit_once("@@")?;
    Some((sub, tag.parse().ok()?))
}

/// The broker's [`DeliverySink`] for one subscription.
#[derive(Debug)]
pub struct SubscriptionSink {
    pub info: Arc<SubscriptionInfo>,
    pub out: UnboundedSender<Outgoing>,
}

impl DeliverySink for SubscriptionSink {
    fn deliver(&self, delivery: Delivery) -> bool {
        self.info
            .max_tag
            .fetch_max(delivery.delivery_tag, Ordering::AcqRel);
        self.out
            .send(Outgoing::Deliver(delivery, self.info.clone()))
            .is_ok()
    }

    fn consumer_cancelled(&self, consumer_tag: &str) {
        // STOMP has no server-side cancel frame (ERROR would end the whole connection).
        tracing::info!(subscription = %self.info.id, consumer = consumer_tag, "STOMP subscription's queue was deleted; no more messages for it.");
    }
}

/// One live subscription of a connection.
#[derive(Debug)]
pub struct Subscription {
    pub info: Arc<SubscriptionInfo>,
    pub session: Arc<Session>,
    pub queue: String,
    /// The durable queue behind a durable topic subscription (deleted on an UNSUBSCRIBE
    /// that asks for it).
    pub durable_queue: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_ids_round_trip_even_with_at_signs_in_the_id() {
        assert_eq!(parse_ack_id("s@@1@@42"), Some(("s@@1", 42)));
        assert_eq!(parse_ack_id("nope"), None);
        assert_eq!(parse_ack_id("s@@x"), None);
        assert_eq!(AckMode::parse(None), Some(AckMode::Auto));
        assert_eq!(AckMode::parse(Some("bogus")), None);
    }
}
