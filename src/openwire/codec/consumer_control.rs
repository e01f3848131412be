//! `ConsumerControl` (17): server → client; `close` closes that consumer, otherwise it sets
//! its prefetch.

use super::destination::Destination;
use super::ids::ConsumerId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumerControl {
    pub base: BaseCommand,
    pub destination: Option<Destination>,
    pub close: bool,
    pub consumer_id: Option<ConsumerId>,
    pub prefetch: i32,
    pub flush: bool,
    pub start: bool,
    pub stop: bool,
}

impl Marshal for ConsumerControl {
    const TYPE: u8 = 17;
    const NAME: &'static str = "ConsumerControl";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConsumerControl {
            base: BaseCommand::decode(r)?,
            destination: r.nested()?,
            close: r.bool()?,
            consumer_id: r.nested()?,
            prefetch: r.i32()?,
            flush: r.bool()?,
            start: r.bool()?,
            stop: r.bool()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.destination.as_ref())?;
        w.bool(self.close);
        w.nested(self.consumer_id.as_ref())?;
        w.i32(self.prefetch);
        w.bool(self.flush);
        w.bool(self.start);
        w.bool(self.stop);
        Ok(())
    }
}
