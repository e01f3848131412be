//! `SessionInfo` (4): sent without rr by `createSession()`.

use super::ids::SessionId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionInfo {
    pub base: BaseCommand,
    pub session_id: Option<SessionId>,
}

impl Marshal for SessionInfo {
    const TYPE: u8 = 4;
    const NAME: &'static str = "SessionInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(SessionInfo {
            base: BaseCommand::decode(r)?,
            session_id: r.nested()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.session_id.as_ref())
    }
}
