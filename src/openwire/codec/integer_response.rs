//! `IntegerResponse` (34): XA prepare's answer.

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

/// XA prepare's answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntegerResponse {
    pub base: BaseCommand,
    pub correlation_id: i32,
    pub result: i32,
}

impl Marshal for IntegerResponse {
    const TYPE: u8 = 34;
    const NAME: &'static str = "IntegerResponse";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(IntegerResponse {
            base: BaseCommand::decode(r)?,
            correlation_id: r.i32()?,
            result: r.i32()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.i32(self.correlation_id);
        w.i32(self.result);
        Ok(())
    }
}
