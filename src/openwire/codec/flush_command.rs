//! `FlushCommand` (15): only the BaseCommand header. No fields.

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushCommand {
    pub base: BaseCommand,
}

impl Marshal for FlushCommand {
    const TYPE: u8 = 15;
    const NAME: &'static str = "FlushCommand";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(FlushCommand {
            base: BaseCommand::decode(r)?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        Ok(())
    }
}
