//! `DataResponse` (32): a reply carrying one data structure.

use super::command::DataStructure;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

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
