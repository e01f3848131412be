//! `ConnectionInfo` (3): the client's connection, sent rr; a duplicate client id is answered
//! with an ExceptionResponse `javax.jms.InvalidClientIDException`.

use super::ids::{BrokerId, ConnectionId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionInfo {
    pub base: BaseCommand,
    pub connection_id: Option<ConnectionId>,
    pub client_id: Option<String>,
    pub password: Option<String>,
    pub user_name: Option<String>,
    pub broker_path: Option<Vec<BrokerId>>,
    pub broker_master_connector: bool,
    pub manageable: bool,
    pub client_master: bool,
    pub fault_tolerant: bool,
    pub failover_reconnect: bool,
    pub client_ip: Option<String>,
}

impl Marshal for ConnectionInfo {
    const TYPE: u8 = 3;
    const NAME: &'static str = "ConnectionInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConnectionInfo {
            base: BaseCommand::decode(r)?,
            connection_id: r.nested()?,
            client_id: r.string()?,
            password: r.string()?,
            user_name: r.string()?,
            broker_path: r.array()?,
            broker_master_connector: r.bool()?,
            manageable: r.bool()?,
            client_master: r.bool()?,
            fault_tolerant: r.bool()?,
            failover_reconnect: r.bool()?,
            client_ip: r.string()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.connection_id.as_ref())?;
        w.string(self.client_id.as_deref())?;
        w.string(self.password.as_deref())?;
        w.string(self.user_name.as_deref())?;
        w.array(self.broker_path.as_deref())?;
        w.bool(self.broker_master_connector);
        w.bool(self.manageable);
        w.bool(self.client_master);
        w.bool(self.fault_tolerant);
        w.bool(self.failover_reconnect);
        w.string(self.client_ip.as_deref())
    }
}
