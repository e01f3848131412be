//! `MessageDispatch` (21): a delivery to a consumer. A null `message` means pull timeout or
//! end of browse. `JMSRedelivered`/`JMSXDeliveryCount` come from this `redelivery_counter`.

use super::destination::Destination;
use super::ids::ConsumerId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::message::Message;
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageDispatch {
    pub base: BaseCommand,
    pub consumer_id: Option<ConsumerId>,
    pub destination: Option<Destination>,
    pub message: Option<Box<Message>>,
    pub redelivery_counter: i32,
}

impl Marshal for MessageDispatch {
    const TYPE: u8 = 21;
    const NAME: &'static str = "MessageDispatch";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(MessageDispatch {
            base: BaseCommand::decode(r)?,
            consumer_id: r.nested()?,
            destination: r.nested()?,
            message: r.nested::<Message>()?.map(Box::new),
            redelivery_counter: r.i32()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.consumer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.nested(self.message.as_deref())?;
        w.i32(self.redelivery_counter);
        Ok(())
    }
}
