//! `ShutdownInfo` (11): only the BaseCommand header. Sent by the client after the connection's RemoveInfo, before closing the socket.

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownInfo {
    pub base: BaseCommand,
}

impl Marshal for ShutdownInfo {
    const TYPE: u8 = 11;
    const NAME: &'static str = "ShutdownInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ShutdownInfo {
            base: BaseCommand::decode(r)?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        Ok(())
    }
}
