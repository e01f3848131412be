//! THE internal message model: AMQP 0-9-1 basic properties, a headers table and the body.
//!
//! Every front-end translates its own frames into a [`Message`] (through `mapping/`) before
//! it reaches the broker core, and back when it delivers. The body is a [`Bytes`] so it is
//! shared between queues and deliveries, never copied.
//!
//! The property and table types are amq-protocol's: the core's model *is* AMQP 0-9-1, and
//! reusing them means the AMQP front-end never converts and the store can serialise with
//! the spec's own encoding.
//!
//! [`jms`] is the protocol-neutral JMS view (headers, typed properties, decoded body) that
//! `mapping::openwire` translates to and from [`Message`]; JMS front-ends convert their wire
//! form to it.

use bytes::Bytes;

pub mod jms;

pub use amq_protocol::protocol::BasicProperties;
pub use amq_protocol::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};

/// A message as published: where it was sent, its properties and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub exchange: String,
    pub routing_key: String,
    pub properties: BasicProperties,
    pub body: Bytes,
}

impl Message {
    pub fn new(
        exchange: impl Into<String>,
        routing_key: impl Into<String>,
        properties: BasicProperties,
        body: Bytes,
    ) -> Self {
        Message {
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            properties,
            body,
        }
    }

    /// Delivery mode 2: the message should survive a restart when its queue is durable.
    pub fn is_persistent(&self) -> bool {
        *self.properties.delivery_mode() == Some(2)
    }

    /// The `priority` property, 0 when absent.
    pub fn priority(&self) -> u8 {
        self.properties.priority().unwrap_or(0)
    }

    /// The per-message TTL from the `expiration` property, in milliseconds.
    ///
    /// `Ok(None)` when absent; an error text when it is not a non-negative integer, which
    /// RabbitMQ answers with a 406 channel error on publish.
    pub fn expiration_ms(&self) -> Result<Option<u64>, String> {
        match self.properties.expiration() {
            None => Ok(None),
            Some(s) => s
                .as_str()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("invalid expiration '{}'", s.as_str())),
        }
    }

    /// One header from the headers table.
    pub fn header(&self, name: &str) -> Option<&AMQPValue> {
        self.properties
            .headers()
            .as_ref()
            .and_then(|h| h.inner().get(name))
    }

    /// The body size in bytes, as counted by `x-max-length-bytes`.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }
}

/// Make a [`ShortString`] from text a peer or a config controls, refusing what does not fit.
///
/// amq-protocol's `From<&str>` panics above 255 bytes; this never does.
pub fn short_string(text: &str) -> Result<ShortString, String> {
    ShortString::try_new(text).map_err(|_| {
        let start: String = text.chars().take(32).collect();
        format!("'{start}…' is longer than 255 bytes")
    })
}
