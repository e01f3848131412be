//! `ConsumerInfo` (5): a consumer, durable subscriber or browser (rr). `additionalPredicate`
//! is a network-bridge BooleanExpression: decoded as a generic data structure.

use super::command::DataStructure;
use super::destination::Destination;
use super::ids::{BrokerId, ConsumerId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumerInfo {
    pub base: BaseCommand,
    pub consumer_id: Option<ConsumerId>,
    pub browser: bool,
    pub destination: Option<Destination>,
    pub prefetch_size: i32,
    pub maximum_pending_message_limit: i32,
    pub dispatch_async: bool,
    pub selector: Option<String>,
    /// Since v10 (always `None` below).
    pub client_id: Option<String>,
    pub subscription_name: Option<String>,
    pub no_local: bool,
    pub exclusive: bool,
    pub retroactive: bool,
    pub priority: i8,
    pub broker_path: Option<Vec<BrokerId>>,
    pub additional_predicate: Option<DataStructure>,
    pub network_subscription: bool,
    pub optimized_acknowledge: bool,
    pub no_range_acks: bool,
    pub network_consumer_path: Option<Vec<ConsumerId>>,
}

impl Marshal for ConsumerInfo {
    const TYPE: u8 = 5;
    const NAME: &'static str = "ConsumerInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConsumerInfo {
            base: BaseCommand::decode(r)?,
            consumer_id: r.nested()?,
            browser: r.bool()?,
            destination: r.nested()?,
            prefetch_size: r.i32()?,
            maximum_pending_message_limit: r.i32()?,
            dispatch_async: r.bool()?,
            selector: r.string()?,
            client_id: if r.version() >= 10 { r.string()? } else { None },
            subscription_name: r.string()?,
            no_local: r.bool()?,
            exclusive: r.bool()?,
            retroactive: r.bool()?,
            priority: r.i8()?,
            broker_path: r.array()?,
            additional_predicate: r.nested()?,
            network_subscription: r.bool()?,
            optimized_acknowledge: r.bool()?,
            no_range_acks: r.bool()?,
            network_consumer_path: r.array()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.consumer_id.as_ref())?;
        w.bool(self.browser);
        w.nested(self.destination.as_ref())?;
        w.i32(self.prefetch_size);
        w.i32(self.maximum_pending_message_limit);
        w.bool(self.dispatch_async);
        w.string(self.selector.as_deref())?;
        if w.version() >= 10 {
            w.string(self.client_id.as_deref())?;
        }
        w.string(self.subscription_name.as_deref())?;
        w.bool(self.no_local);
        w.bool(self.exclusive);
        w.bool(self.retroactive);
        w.i8(self.priority);
        w.array(self.broker_path.as_deref())?;
        w.nested(self.additional_predicate.as_ref())?;
        w.bool(self.network_subscription);
        w.bool(self.optimized_acknowledge);
        w.bool(self.no_range_acks);
        w.array(self.network_consumer_path.as_deref())
    }
}
