//! `TransactionInfo` (7): begin, commit, rollback … of a local or XA transaction.

use super::ids::{ConnectionId, TransactionId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

/// `TransactionInfo.type` values.
pub mod transaction_type {
    pub const BEGIN: u8 = 0;
    pub const PREPARE: u8 = 1;
    pub const COMMIT_ONE_PHASE: u8 = 2;
    pub const COMMIT_TWO_PHASE: u8 = 3;
    pub const ROLLBACK: u8 = 4;
    pub const RECOVER: u8 = 5;
    pub const FORGET: u8 = 6;
    pub const END: u8 = 7;
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransactionInfo {
    pub base: BaseCommand,
    pub connection_id: Option<ConnectionId>,
    pub transaction_id: Option<TransactionId>,
    /// One of [`transaction_type`].
    pub kind: u8,
}

impl Marshal for TransactionInfo {
    const TYPE: u8 = 7;
    const NAME: &'static str = "TransactionInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(TransactionInfo {
            base: BaseCommand::decode(r)?,
            connection_id: r.nested()?,
            transaction_id: r.nested()?,
            kind: r.u8()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.connection_id.as_ref())?;
        w.nested(self.transaction_id.as_ref())?;
        w.u8(self.kind);
        Ok(())
    }
}
