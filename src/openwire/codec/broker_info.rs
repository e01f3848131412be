//! `BrokerInfo` (2): sent once after the WireFormatInfo exchange.

use super::ids::BrokerId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerInfo {
    pub base: BaseCommand,
    pub broker_id: Option<BrokerId>,
    pub broker_url: Option<String>,
    pub peer_broker_infos: Option<Vec<BrokerInfo>>,
    pub broker_name: Option<String>,
    pub slave_broker: bool,
    pub master_broker: bool,
    pub fault_tolerant_configuration: bool,
    pub duplex_connection: bool,
    pub network_connection: bool,
    pub connection_id: i64,
    pub broker_upload_url: Option<String>,
    pub network_properties: Option<String>,
}

impl Marshal for BrokerInfo {
    const TYPE: u8 = 2;
    const NAME: &'static str = "BrokerInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(BrokerInfo {
            base: BaseCommand::decode(r)?,
            broker_id: r.nested()?,
            broker_url: r.string()?,
            peer_broker_infos: r.array()?,
            broker_name: r.string()?,
            slave_broker: r.bool()?,
            master_broker: r.bool()?,
            fault_tolerant_configuration: r.bool()?,
            duplex_connection: r.bool()?,
            network_connection: r.bool()?,
            connection_id: r.i64()?,
            broker_upload_url: r.string()?,
            network_properties: r.string()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.broker_id.as_ref())?;
        w.string(self.broker_url.as_deref())?;
        w.array(self.peer_broker_infos.as_deref())?;
        w.string(self.broker_name.as_deref())?;
        w.bool(self.slave_broker);
        w.bool(self.master_broker);
        w.bool(self.fault_tolerant_configuration);
        w.bool(self.duplex_connection);
        w.bool(self.network_connection);
        w.i64(self.connection_id);
        w.string(self.broker_upload_url.as_deref())?;
        w.string(self.network_properties.as_deref())
    }
}
