//! `Response` (30): the reply to an rr command. The server's own commandId may always be 0;
//! `correlation_id` is the request's commandId.

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Response {
    pub base: BaseCommand,
    pub correlation_id: i32,
}

impl Response {
    pub fn to(correlation_id: i32) -> Self {
        Response {
            base: BaseCommand::default(),
            correlation_id,
        }
    }
}

impl Marshal for Response {
    const TYPE: u8 = 30;
    const NAME: &'static str = "Response";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(Response {
            base: BaseCommand::decode(r)?,
            correlation_id: r.i32()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.i32(self.correlation_id);
        Ok(())
    }
}

// The other reply types, under their former paths (each has its own module now).
pub use super::data_array_response::DataArrayResponse;
pub use super::data_response::DataResponse;
pub use super::exception_response::ExceptionResponse;
pub use super::integer_response::IntegerResponse;
