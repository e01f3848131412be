//! The replies to rr commands: `Response` (30), `ExceptionResponse` (31), `DataResponse`
//! (32), `DataArrayResponse` (33), `IntegerResponse` (34). The server's own commandId may
//! always be 0; `correlation_id` is the request's commandId.

use super::command::DataStructure;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::throwable::Throwable;
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataResponse {
    pub base: BaseCommand,
    pub correlation_id: i32,
    pub data: Option<DataStructure>,
}

impl Marshal for DataResponse {
    const TYPE: u8 = 32;
    const NAME: &'static str = "DataResponse";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(DataResponse {
            base: BaseCommand::decode(r)?,
            correlation_id: r.i32()?,
            data: r.nested()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.i32(self.correlation_id);
        w.nested(self.data.as_ref())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataArrayResponse {
    pub base: BaseCommand,
    pub correlation_id: i32,
    pub data: Option<Vec<DataStructure>>,
}

impl Marshal for DataArrayResponse {
    const TYPE: u8 = 33;
    const NAME: &'static str = "DataArrayResponse";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(DataArrayResponse {
            base: BaseCommand::decode(r)?,
            correlation_id: r.i32()?,
            data: r.array()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.i32(self.correlation_id);
        w.array(self.data.as_deref())
    }
}

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
