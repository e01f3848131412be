//! `DestinationInfo` (8): temp destination ADD/REMOVE (rr), and the payload of
//! temp-destination advisories.

use super::destination::Destination;
use super::ids::{BrokerId, ConnectionId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

pub const ADD_OPERATION: u8 = 0;
pub const REMOVE_OPERATION: u8 = 1;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DestinationInfo {
    pub base: BaseCommand,
    pub connection_id: Option<ConnectionId>,
    pub destination: Option<Destination>,
    /// [`ADD_OPERATION`] or [`REMOVE_OPERATION`].
    pub operation_type: u8,
    pub timeout: i64,
    pub broker_path: Option<Vec<BrokerId>>,
}

impl Marshal for DestinationInfo {
    const TYPE: u8 = 8;
    const NAME: &'static str = "DestinationInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(DestinationInfo {
            base: BaseCommand::decode(r)?,
            connection_id: r.nested()?,
            destination: r.nested()?,
            operation_type: r.u8()?,
            timeout: r.i64()?,
            broker_path: r.array()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.connection_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.u8(self.operation_type);
        w.i64(self.timeout);
        w.array(self.broker_path.as_deref())
    }
}
