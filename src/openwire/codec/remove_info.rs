//! `RemoveInfo` (12): closes a connection, session, consumer or producer.

use super::command::DataStructure;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

/// `lastDeliveredSequenceId` when not set.
pub const LAST_DELIVERED_UNSET: i64 = -1;
/// `lastDeliveredSequenceId` when unknown (producers, sessions).
pub const LAST_DELIVERED_UNKNOWN: i64 = -2;

#[derive(Debug, Clone, PartialEq)]
pub struct RemoveInfo {
    pub base: BaseCommand,
    /// A ConnectionId, SessionId, ConsumerId or ProducerId.
    pub object_id: Option<DataStructure>,
    pub last_delivered_sequence_id: i64,
}

impl Marshal for RemoveInfo {
    const TYPE: u8 = 12;
    const NAME: &'static str = "RemoveInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(RemoveInfo {
            base: BaseCommand::decode(r)?,
            object_id: r.nested()?,
            last_delivered_sequence_id: r.i64()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.object_id.as_ref())?;
        w.i64(self.last_delivered_sequence_id);
        Ok(())
    }
}
