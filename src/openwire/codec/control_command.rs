//! `ControlCommand` (14): a string command (broker-internal; decoded so it can be answered).

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlCommand {
    pub base: BaseCommand,
    pub command: Option<String>,
}

impl Marshal for ControlCommand {
    const TYPE: u8 = 14;
    const NAME: &'static str = "ControlCommand";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ControlCommand {
            base: BaseCommand::decode(r)?,
            command: r.string()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.string(self.command.as_deref())
    }
}
