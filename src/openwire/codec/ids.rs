//! Identifiers (openwire.md §6.1): connection, session, consumer, producer, broker, message
//! and transaction ids. None carries a BaseCommand header.

use std::fmt;

use super::loose::{Marshal, Reader, Writer};
use super::CodecError;

/// `ConnectionId` (120): `ID:<host>-<port>-<startMillis>-<n>:<m>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    pub value: Option<String>,
}

impl ConnectionId {
    pub fn new(value: impl Into<String>) -> Self {
        ConnectionId {
            value: Some(value.into()),
        }
    }
}

impl Marshal for ConnectionId {
    const TYPE: u8 = 120;
    const NAME: &'static str = "ConnectionId";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConnectionId { value: r.string()? })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.string(self.value.as_deref())
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value.as_deref().unwrap_or("null"))
    }
}

/// `SessionId` (121): value 1, 2, …; -1 is the connection's internal session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SessionId {
    pub connection_id: Option<String>,
    pub value: i64,
}

impl Marshal for SessionId {
    const TYPE: u8 = 121;
    const NAME: &'static str = "SessionId";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(SessionId {
            connection_id: r.string()?,
            value: r.i64()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.string(self.connection_id.as_deref())?;
        w.i64(self.value);
        Ok(())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conn = self.connection_id.as_deref().unwrap_or("null");
        write!(f, "{conn}:{}", self.value)
    }
}

/// `ConsumerId` (122): `conn:session:value`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConsumerId {
    pub connection_id: Option<String>,
    pub session_id: i64,
    pub value: i64,
}

impl Marshal for ConsumerId {
    const TYPE: u8 = 122;
    const NAME: &'static str = "ConsumerId";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ConsumerId {
            connection_id: r.string()?,
            session_id: r.i64()?,
            value: r.i64()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.string(self.connection_id.as_deref())?;
        w.i64(self.session_id);
        w.i64(self.value);
        Ok(())
    }
}

impl fmt::Display for ConsumerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conn = self.connection_id.as_deref().unwrap_or("null");
        write!(f, "{conn}:{}:{}", self.session_id, self.value)
    }
}

/// `ProducerId` (123). On the wire the value comes **before** the session id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProducerId {
    pub connection_id: Option<String>,
    pub value: i64,
    pub session_id: i64,
}

impl Marshal for ProducerId {
    const TYPE: u8 = 123;
    const NAME: &'static str = "ProducerId";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(ProducerId {
            connection_id: r.string()?,
            value: r.i64()?,
            session_id: r.i64()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.string(self.connection_id.as_deref())?;
        w.i64(self.value);
        w.i64(self.session_id);
        Ok(())
    }
}

impl fmt::Display for ProducerId {
    /// `conn:session:value`, as Java's `ProducerId.toString()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conn = self.connection_id.as_deref().unwrap_or("null");
        write!(f, "{conn}:{}:{}", self.session_id, self.value)
    }
}

/// `BrokerId` (124).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BrokerId {
    pub value: Option<String>,
}

impl Marshal for BrokerId {
    const TYPE: u8 = 124;
    const NAME: &'static str = "BrokerId";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(BrokerId { value: r.string()? })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.string(self.value.as_deref())
    }
}

/// `MessageId` (110). Equality in Java uses producer id + producer sequence only; this
/// derive compares every field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MessageId {
    /// Absent in v9 and earlier (always `None` when decoded at those versions).
    pub text_view: Option<String>,
    pub producer_id: Option<ProducerId>,
    pub producer_sequence_id: i64,
    pub broker_sequence_id: i64,
}

impl MessageId {
    /// `JMSMessageID`: the text view (prefixed `ID:` if missing), else
    /// `producerId:producerSequenceId`.
    pub fn jms_message_id(&self) -> String {
        match &self.text_view {
            Some(t) if t.starts_with("ID:") => t.clone(),
            Some(t) => format!("ID:{t}"),
            None => {
                let producer = self
                    .producer_id
                    .as_ref()
                    .map_or_else(|| "null".to_owned(), ToString::to_string);
                format!("{producer}:{}", self.producer_sequence_id)
            }
        }
    }
}

impl Marshal for MessageId {
    const TYPE: u8 = 110;
    const NAME: &'static str = "MessageId";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        let text_view = if r.version() >= 10 { r.string()? } else { None };
        Ok(MessageId {
            text_view,
            producer_id: r.nested()?,
            producer_sequence_id: r.i64()?,
            broker_sequence_id: r.i64()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        if w.version() >= 10 {
            w.string(self.text_view.as_deref())?;
        }
        w.nested(self.producer_id.as_ref())?;
        w.i64(self.producer_sequence_id);
        w.i64(self.broker_sequence_id);
        Ok(())
    }
}

/// `LocalTransactionId` (111): value 1, 2, 3 … per connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LocalTransactionId {
    pub value: i64,
    pub connection_id: Option<ConnectionId>,
}

/// `XATransactionId` (112).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct XaTransactionId {
    pub format_id: i32,
    pub global_transaction_id: Option<bytes::Bytes>,
    pub branch_qualifier: Option<bytes::Bytes>,
}

/// A `TransactionId`: local or XA.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionId {
    Local(LocalTransactionId),
    Xa(XaTransactionId),
}

impl Marshal for TransactionId {
    const TYPE: u8 = 111;
    const NAME: &'static str = "TransactionId";
    fn accepts(type_id: u8) -> bool {
        type_id == 111 || type_id == 112
    }
    fn type_id(&self) -> u8 {
        match self {
            TransactionId::Local(_) => 111,
            TransactionId::Xa(_) => 112,
        }
    }
    fn decode_body(type_id: u8, r: &mut Reader) -> Result<Self, CodecError> {
        if type_id == 111 {
            Ok(TransactionId::Local(LocalTransactionId {
                value: r.i64()?,
                connection_id: r.nested()?,
            }))
        } else {
            Ok(TransactionId::Xa(XaTransactionId {
                format_id: r.i32()?,
                global_transaction_id: r.bytes()?,
                branch_qualifier: r.bytes()?,
            }))
        }
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        match self {
            TransactionId::Local(t) => {
                w.i64(t.value);
                w.nested(t.connection_id.as_ref())
            }
            TransactionId::Xa(t) => {
                w.i32(t.format_id);
                w.bytes(t.global_transaction_id.as_deref())?;
                w.bytes(t.branch_qualifier.as_deref())
            }
        }
    }
}
