//! `ConnectionError` (16): a fatal error, delivered to the client's ExceptionListener.

use super::ids::ConnectionId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::throwable::Throwable;
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionError {
    pub base: BaseCommand,
    pub exception: Option<Throwable>,
    pub connection_id: Option<ConnectionId>,
}

impl Marshal for ConnectionError {
    const TYPE: u8 = 16;
    const NAME: &'static str = "ConnectionError";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConnectionError {
            base: BaseCommand::decode(r)?,
            exception: Throwable::decode(r)?,
            connection_id: r.nested()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        Throwable::encode(self.exception.as_ref(), w)?;
        w.nested(self.connection_id.as_ref())
    }
}
