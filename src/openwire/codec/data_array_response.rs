//! `DataArrayResponse` (33): a reply carrying an array of data structures (XA recover).

use super::command::DataStructure;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

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
