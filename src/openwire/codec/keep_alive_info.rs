//! `KeepAliveInfo` (10): only the BaseCommand header. Keep-alive; when rr=true the peer echoes a KeepAliveInfo with rr=false (not a Response).

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepAliveInfo {
    pub base: BaseCommand,
}

impl Marshal for KeepAliveInfo {
    const TYPE: u8 = 10;
    const NAME: &'static str = "KeepAliveInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(KeepAliveInfo {
            base: BaseCommand::decode(r)?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        Ok(())
    }
}
