//! The protocol-neutral JMS message model: what a JMS application sees of a message
//! (JMS headers, typed properties, the decoded body), whichever way it reached the bridge
//! (OpenWire today, the JNI shim later).
//!
//! `mapping/` translates a [`JmsMessage`] to and from the core [`super::Message`]; each JMS
//! front-end converts its own wire form to and from a [`JmsMessage`] (ids, producer ids,
//! marshalled properties and bodies are wire concerns and stay there). Pure: no tokio, no
//! front-end.

use bytes::Bytes;

/// A typed JMS value: a property, a MapMessage entry or a StreamMessage item.
#[derive(Debug, Clone, PartialEq)]
pub enum JmsValue {
    Null,
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    /// A Java `char` (one UTF-16 unit).
    Char(u16),
    String(String),
    Bytes(Bytes),
    Map(Vec<(String, JmsValue)>),
    List(Vec<JmsValue>),
}

/// The JMS message class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum JmsKind {
    /// A plain `Message`: no body.
    #[default]
    Message,
    Bytes,
    Map,
    Object,
    Stream,
    Text,
}

/// A decoded message body.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum JmsBody {
    /// No content (plain Message, or a null body of any kind).
    #[default]
    None,
    Text(String),
    Bytes(Bytes),
    Map(Vec<(String, JmsValue)>),
    Stream(Vec<JmsValue>),
    /// A serialized Java object, never deserialized by the bridge.
    Object(Bytes),
}

impl JmsBody {
    /// The message kind this body is sent as (`None` keeps the message's kind).
    pub fn kind(&self) -> Option<JmsKind> {
        Some(match self {
            JmsBody::None => return None,
            JmsBody::Text(_) => JmsKind::Text,
            JmsBody::Bytes(_) => JmsKind::Bytes,
            JmsBody::Map(_) => JmsKind::Map,
            JmsBody::Stream(_) => JmsKind::Stream,
            JmsBody::Object(_) => JmsKind::Object,
        })
    }
}

/// The kind of a JMS destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JmsDestinationKind {
    Queue,
    Topic,
    TempQueue,
    TempTopic,
}

impl JmsDestinationKind {
    pub fn is_topic(self) -> bool {
        matches!(
            self,
            JmsDestinationKind::Topic | JmsDestinationKind::TempTopic
        )
    }

    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            JmsDestinationKind::TempQueue | JmsDestinationKind::TempTopic
        )
    }
}

/// A JMS destination (`JMSDestination`, `JMSReplyTo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JmsDestination {
    pub kind: JmsDestinationKind,
    pub name: String,
}

impl JmsDestination {
    pub fn new(kind: JmsDestinationKind, name: impl Into<String>) -> Self {
        JmsDestination {
            kind,
            name: name.into(),
        }
    }

    pub fn queue(name: impl Into<String>) -> Self {
        JmsDestination::new(JmsDestinationKind::Queue, name)
    }

    pub fn topic(name: impl Into<String>) -> Self {
        JmsDestination::new(JmsDestinationKind::Topic, name)
    }
}

/// A JMS message as the application sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct JmsMessage {
    /// The message class (kept apart from `body`: a TextMessage may have a null body).
    pub kind: JmsKind,
    /// JMSMessageID as text (`ID:…` for a JMS producer's).
    pub message_id: Option<String>,
    /// JMSCorrelationID.
    pub correlation_id: Option<String>,
    /// JMSDestination.
    pub destination: Option<JmsDestination>,
    /// JMSReplyTo.
    pub reply_to: Option<JmsDestination>,
    /// JMSType.
    pub jms_type: Option<String>,
    /// JMSPriority 0–9 (4 by default).
    pub priority: i8,
    /// JMSDeliveryMode PERSISTENT (else NON_PERSISTENT).
    pub persistent: bool,
    /// JMSExpiration, epoch ms, 0 = never.
    pub expiration: i64,
    /// JMSTimestamp, epoch ms, 0 = not set.
    pub timestamp: i64,
    /// Deliveries before this one (`JMSRedelivered` when > 0).
    pub redelivery_counter: i32,
    /// JMSXUserID.
    pub user_id: Option<String>,
    /// JMSXGroupID.
    pub group_id: Option<String>,
    /// JMSXGroupSeq (0 = not set).
    pub group_sequence: i32,
    /// User properties, in order.
    pub properties: Vec<(String, JmsValue)>,
    pub body: JmsBody,
}

impl Default for JmsMessage {
    fn default() -> Self {
        JmsMessage {
            kind: JmsKind::Message,
            message_id: None,
            correlation_id: None,
            destination: None,
            reply_to: None,
            jms_type: None,
            priority: 4,
            persistent: false,
            expiration: 0,
            timestamp: 0,
            redelivery_counter: 0,
            user_id: None,
            group_id: None,
            group_sequence: 0,
            properties: Vec::new(),
            body: JmsBody::None,
        }
    }
}

impl JmsMessage {
    /// `JMSDeliveryMode`: 2 persistent, 1 non-persistent.
    pub fn delivery_mode(&self) -> i32 {
        if self.persistent {
            2
        } else {
            1
        }
    }

    /// `JMSRedelivered`.
    pub fn redelivered(&self) -> bool {
        self.redelivery_counter > 0
    }

    /// One user property (the first of that name).
    pub fn property(&self, name: &str) -> Option<&JmsValue> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}
