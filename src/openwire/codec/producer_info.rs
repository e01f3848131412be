//! `ProducerInfo` (6): rr; the destination is null for `createProducer(null)`.

use super::destination::Destination;
use super::ids::{BrokerId, ProducerId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProducerInfo {
    pub base: BaseCommand,
    pub producer_id: Option<ProducerId>,
    pub destination: Option<Destination>,
    pub broker_path: Option<Vec<BrokerId>>,
    pub dispatch_async: bool,
    /// Producer flow-control window in bytes; > 0 means the client waits for ProducerAcks.
    pub window_size: i32,
}

impl Marshal for ProducerInfo {
    const TYPE: u8 = 6;
    const NAME: &'static str = "ProducerInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ProducerInfo {
            base: BaseCommand::decode(r)?,
            producer_id: r.nested()?,
            destination: r.nested()?,
            broker_path: r.array()?,
            dispatch_async: r.bool()?,
            window_size: r.i32()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.producer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.array(self.broker_path.as_deref())?;
        w.bool(self.dispatch_async);
        w.i32(self.window_size);
        Ok(())
    }
}
