//! `MessagePull` (20): a prefetch-0 consumer's `receive(t)`: timeout -1 = answer now
//! (`receiveNoWait`), 0 = wait forever, t > 0 = a null dispatch after t ms.

use super::destination::Destination;
use super::ids::{ConsumerId, MessageId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagePull {
    pub base: BaseCommand,
    pub consumer_id: Option<ConsumerId>,
    pub destination: Option<Destination>,
    pub timeout: i64,
    pub correlation_id: Option<String>,
    pub message_id: Option<MessageId>,
}

impl Marshal for MessagePull {
    const TYPE: u8 = 20;
    const NAME: &'static str = "MessagePull";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(MessagePull {
            base: BaseCommand::decode(r)?,
            consumer_id: r.nested()?,
            destination: r.nested()?,
            timeout: r.i64()?,
            correlation_id: r.string()?,
            message_id: r.nested()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.consumer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.i64(self.timeout);
        w.string(self.correlation_id.as_deref())?;
        w.nested(self.message_id.as_ref())
    }
}
