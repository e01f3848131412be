//! `ConnectionControl` (18): broker → client after a manageable ConnectionInfo (all false,
//! empty strings); client → broker `faultTolerant` on failover reconnect.

use bytes::Bytes;

use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionControl {
    pub base: BaseCommand,
    pub close: bool,
    pub exit: bool,
    pub fault_tolerant: bool,
    pub resume: bool,
    pub suspend: bool,
    pub connected_brokers: Option<String>,
    pub reconnect_to: Option<String>,
    pub rebalance_connection: bool,
    pub token: Option<Bytes>,
}

impl Marshal for ConnectionControl {
    const TYPE: u8 = 18;
    const NAME: &'static str = "ConnectionControl";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConnectionControl {
            base: BaseCommand::decode(r)?,
            close: r.bool()?,
            exit: r.bool()?,
            fault_tolerant: r.bool()?,
            resume: r.bool()?,
            suspend: r.bool()?,
            connected_brokers: r.string()?,
            reconnect_to: r.string()?,
            rebalance_connection: r.bool()?,
            token: r.bytes()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.bool(self.close);
        w.bool(self.exit);
        w.bool(self.fault_tolerant);
        w.bool(self.resume);
        w.bool(self.suspend);
        w.string(self.connected_brokers.as_deref())?;
        w.string(self.reconnect_to.as_deref())?;
        w.bool(self.rebalance_connection);
        w.bytes(self.token.as_deref())
    }
}
