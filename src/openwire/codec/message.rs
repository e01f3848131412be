//! `ActiveMQMessage` and its subtypes (23 plain, 24 Bytes, 25 Map, 26 Object, 27 Stream,
//! 28 Text): one layout (openwire.md §6.3). `content` and `marshalled_properties` stay the
//! raw wire bytes (zero-copy slices of the frame), so a decoded message re-encodes
//! identically; [`crate::openwire::message`] interprets them.

use bytes::Bytes;

use super::command::DataStructure;
use super::destination::Destination;
use super::ids::{BrokerId, ConsumerId, MessageId, ProducerId, TransactionId};
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::CodecError;

/// The JMS message class (the neutral [`crate::message::jms::JmsKind`]); the wire type id
/// is below.
pub use crate::message::jms::JmsKind as MessageKind;

impl MessageKind {
    pub fn type_id(self) -> u8 {
        match self {
            MessageKind::Message => 23,
            MessageKind::Bytes => 24,
            MessageKind::Map => 25,
            MessageKind::Object => 26,
            MessageKind::Stream => 27,
            MessageKind::Text => 28,
        }
    }

    pub fn from_type_id(type_id: u8) -> Option<Self> {
        Some(match type_id {
            23 => MessageKind::Message,
            24 => MessageKind::Bytes,
            25 => MessageKind::Map,
            26 => MessageKind::Object,
            27 => MessageKind::Stream,
            28 => MessageKind::Text,
            _ => return None,
        })
    }
}

/// One message as on the wire (all 32 fields of v12, in order).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub kind: MessageKind,
    /// rr=true ⇔ the producer waits for a Response (persistent, non-transacted sends).
    pub base: BaseCommand,
    pub producer_id: Option<ProducerId>,
    /// JMSDestination.
    pub destination: Option<Destination>,
    pub transaction_id: Option<TransactionId>,
    pub original_destination: Option<Destination>,
    /// JMSMessageID.
    pub message_id: Option<MessageId>,
    pub original_transaction_id: Option<TransactionId>,
    /// JMSXGroupID.
    pub group_id: Option<String>,
    /// JMSXGroupSeq.
    pub group_sequence: i32,
    /// JMSCorrelationID.
    pub correlation_id: Option<String>,
    /// JMSDeliveryMode PERSISTENT.
    pub persistent: bool,
    /// JMSExpiration, epoch ms, 0 = never.
    pub expiration: i64,
    /// JMSPriority 0–9.
    pub priority: i8,
    /// JMSReplyTo.
    pub reply_to: Option<Destination>,
    /// JMSTimestamp, epoch ms.
    pub timestamp: i64,
    /// JMSType.
    pub jms_type: Option<String>,
    /// The body as marshalled (openwire.md §7.2), possibly deflated.
    pub content: Option<Bytes>,
    /// The user properties as a marshalled primitive map (never compressed).
    pub marshalled_properties: Option<Bytes>,
    /// Advisory payload (e.g. a DestinationInfo).
    pub data_structure: Option<DataStructure>,
    pub target_consumer_id: Option<ConsumerId>,
    /// `content` is zlib-compressed.
    pub compressed: bool,
    /// Overwritten by `MessageDispatch.redelivery_counter` on the client.
    pub redelivery_counter: i32,
    pub broker_path: Option<Vec<BrokerId>>,
    pub arrival: i64,
    /// JMSXUserID.
    pub user_id: Option<String>,
    /// (sic) broker-internal.
    pub recieved_by_df_bridge: bool,
    pub droppable: bool,
    pub cluster: Option<Vec<BrokerId>>,
    pub broker_in_time: i64,
    pub broker_out_time: i64,
    /// Since v10.
    pub jmsx_group_first_for_consumer: bool,
}

impl Default for Message {
    fn default() -> Self {
        Message {
            kind: MessageKind::Message,
            base: BaseCommand::default(),
            producer_id: None,
            destination: None,
            transaction_id: None,
            original_destination: None,
            message_id: None,
            original_transaction_id: None,
            group_id: None,
            group_sequence: 0,
            correlation_id: None,
            persistent: false,
            expiration: 0,
            priority: 4,
            reply_to: None,
            timestamp: 0,
            jms_type: None,
            content: None,
            marshalled_properties: None,
            data_structure: None,
            target_consumer_id: None,
            compressed: false,
            redelivery_counter: 0,
            broker_path: None,
            arrival: 0,
            user_id: None,
            recieved_by_df_bridge: false,
            droppable: false,
            cluster: None,
            broker_in_time: 0,
            broker_out_time: 0,
            jmsx_group_first_for_consumer: false,
        }
    }
}

impl Marshal for Message {
    const TYPE: u8 = 23;
    const NAME: &'static str = "Message";
    fn accepts(type_id: u8) -> bool {
        MessageKind::from_type_id(type_id).is_some()
    }
    fn type_id(&self) -> u8 {
        self.kind.type_id()
    }
    fn decode_body(type_id: u8, r: &mut Reader) -> Result<Self, CodecError> {
        let kind = MessageKind::from_type_id(type_id)
            .ok_or_else(|| CodecError::malformed("Message", "not a message type"))?;
        Ok(Message {
            kind,
            base: BaseCommand::decode(r)?,
            producer_id: r.nested()?,
            destination: r.nested()?,
            transaction_id: r.nested()?,
            original_destination: r.nested()?,
            message_id: r.nested()?,
            original_transaction_id: r.nested()?,
            group_id: r.string()?,
            group_sequence: r.i32()?,
            correlation_id: r.string()?,
            persistent: r.bool()?,
            expiration: r.i64()?,
            priority: r.i8()?,
            reply_to: r.nested()?,
            timestamp: r.i64()?,
            jms_type: r.string()?,
            content: r.bytes()?,
            marshalled_properties: r.bytes()?,
            data_structure: r.nested()?,
            target_consumer_id: r.nested()?,
            compressed: r.bool()?,
            redelivery_counter: r.i32()?,
            broker_path: r.array()?,
            arrival: r.i64()?,
            user_id: r.string()?,
            recieved_by_df_bridge: r.bool()?,
            droppable: r.bool()?,
            cluster: r.array()?,
            broker_in_time: r.i64()?,
            broker_out_time: r.i64()?,
            jmsx_group_first_for_consumer: if r.version() >= 10 { r.bool()? } else { false },
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.base.encode(w);
        w.nested(self.producer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.nested(self.transaction_id.as_ref())?;
        w.nested(self.original_destination.as_ref())?;
        w.nested(self.message_id.as_ref())?;
        w.nested(self.original_transaction_id.as_ref())?;
        w.string(self.group_id.as_deref())?;
        w.i32(self.group_sequence);
        w.string(self.correlation_id.as_deref())?;
        w.bool(self.persistent);
        w.i64(self.expiration);
        w.i8(self.priority);
        w.nested(self.reply_to.as_ref())?;
        w.i64(self.timestamp);
        w.string(self.jms_type.as_deref())?;
        w.bytes(self.content.as_deref())?;
        w.bytes(self.marshalled_properties.as_deref())?;
        w.nested(self.data_structure.as_ref())?;
        w.nested(self.target_consumer_id.as_ref())?;
        w.bool(self.compressed);
        w.i32(self.redelivery_counter);
        w.array(self.broker_path.as_deref())?;
        w.i64(self.arrival);
        w.string(self.user_id.as_deref())?;
        w.bool(self.recieved_by_df_bridge);
        w.bool(self.droppable);
        w.array(self.cluster.as_deref())?;
        w.i64(self.broker_in_time);
        w.i64(self.broker_out_time);
        if w.version() >= 10 {
            w.bool(self.jmsx_group_first_for_consumer);
        }
        Ok(())
    }
}
