//! `ProducerAck` (19): releases `size` bytes of a producer's flow-control window (only
//! used when its `windowSize` > 0).

use super::ids::ProducerId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProducerAck {
    pub base: BaseCommand,
    pub producer_id: Option<ProducerId>,
    pub size: i32,
}

impl Marshal for ProducerAck {
    const TYPE: u8 = 19;
    const NAME: &'static str = "ProducerAck";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ProducerAck {
            base: BaseCommand::decode(r)?,
            producer_id: r.nested()?,
            size: r.i32()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.producer_id.as_ref())?;
        w.i32(self.size);
        Ok(())
    }
}
