//! `MessageAck` (22). A STANDARD ack covers the range first..last of that consumer's
//! dispatched messages (`message_count` of them); DELIVERED only widens the prefetch window.

use super::destination::Destination;
use super::ids::{ConsumerId, MessageId, TransactionId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::throwable::Throwable;
use super::CodecError;

/// `MessageAck.ackType` values.
pub mod ack_type {
    /// Delivered but not consumed: extends the consumer's window, removes nothing.
    pub const DELIVERED: u8 = 0;
    /// Poison (beyond maximumRedeliveries): to the DLQ, with `poison_cause`.
    pub const POISON: u8 = 1;
    /// Consumed: removes the range.
    pub const STANDARD: u8 = 2;
    /// Redelivered locally by the client (rollback).
    pub const REDELIVERED: u8 = 3;
    /// INDIVIDUAL_ACKNOWLEDGE: removes only `last_message_id`.
    pub const INDIVIDUAL: u8 = 4;
    /// Unmatched (selector) durable subscription message.
    pub const UNMATCHED: u8 = 5;
    /// Expired on the client.
    pub const EXPIRED: u8 = 6;
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageAck {
    pub base: BaseCommand,
    pub destination: Option<Destination>,
    pub transaction_id: Option<TransactionId>,
    pub consumer_id: Option<ConsumerId>,
    /// One of [`ack_type`].
    pub ack_type: u8,
    pub first_message_id: Option<MessageId>,
    pub last_message_id: Option<MessageId>,
    pub message_count: i32,
    pub poison_cause: Option<Throwable>,
}

impl Marshal for MessageAck {
    const TYPE: u8 = 22;
    const NAME: &'static str = "MessageAck";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(MessageAck {
            base: BaseCommand::decode(r)?,
            destination: r.nested()?,
            transaction_id: r.nested()?,
            consumer_id: r.nested()?,
            ack_type: r.u8()?,
            first_message_id: r.nested()?,
            last_message_id: r.nested()?,
            message_count: r.i32()?,
            poison_cause: Throwable::decode(r)?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.destination.as_ref())?;
        w.nested(self.transaction_id.as_ref())?;
        w.nested(self.consumer_id.as_ref())?;
        w.u8(self.ack_type);
        w.nested(self.first_message_id.as_ref())?;
        w.nested(self.last_message_id.as_ref())?;
        w.i32(self.message_count);
        Throwable::encode(self.poison_cause.as_ref(), w)
    }
}
