//! `ExceptionResponse` (31): an error reply; the client instantiates the throwable's class
//! by reflection with a `String` constructor (openwire.md §9, pitfall 18).

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::throwable::Throwable;
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExceptionResponse {
    pub base: BaseCommand,
    pub correlation_id: i32,
    pub exception: Option<Throwable>,
}

impl ExceptionResponse {
    /// `class` must be a loadable Throwable with a `(String)` constructor, e.g.
    /// `javax.jms.InvalidClientIDException`.
    pub fn to(correlation_id: i32, class: &str, message: &str) -> Self {
        ExceptionResponse {
            base: BaseCommand::default(),
            correlation_id,
            exception: Some(Throwable::new(class, message)),
        }
    }
}

impl Marshal for ExceptionResponse {
    const TYPE: u8 = 31;
    const NAME: &'static str = "ExceptionResponse";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ExceptionResponse {
            base: BaseCommand::decode(r)?,
            correlation_id: r.i32()?,
            exception: Throwable::decode(r)?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.i32(self.correlation_id);
        Throwable::encode(self.exception.as_ref(), w)
    }
}
