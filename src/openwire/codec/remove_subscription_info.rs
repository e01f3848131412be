//! `RemoveSubscriptionInfo` (9): `unsubscribe(name)` of a durable subscription (rr).

use super::ids::ConnectionId;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoveSubscriptionInfo {
    pub base: BaseCommand,
    pub connection_id: Option<ConnectionId>,
    pub subscription_name: Option<String>,
    pub client_id: Option<String>,
}

impl Marshal for RemoveSubscriptionInfo {
    const TYPE: u8 = 9;
    const NAME: &'static str = "RemoveSubscriptionInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(RemoveSubscriptionInfo {
            base: BaseCommand::decode(r)?,
            connection_id: r.nested()?,
            subscription_name: r.string()?,
            client_id: r.string()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.connection_id.as_ref())?;
        w.string(self.subscription_name.as_deref())?;
        w.string(self.client_id.as_deref())
    }
}
