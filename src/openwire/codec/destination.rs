//! Destinations (openwire.md §6.1): queue (100), topic (101), temp queue (102), temp topic
//! (103). The type byte carries the kind; the physical name has no `queue://` prefix.
//! Composite destinations are comma lists; wildcards are `.` `*` `>`.

use std::fmt;

use super::loose::{Marshal, Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationKind {
    Queue,
    Topic,
    TempQueue,
    TempTopic,
}

impl DestinationKind {
    pub fn type_id(self) -> u8 {
        match self {
            DestinationKind::Queue => 100,
            DestinationKind::Topic => 101,
            DestinationKind::TempQueue => 102,
            DestinationKind::TempTopic => 103,
        }
    }

    pub fn from_type_id(type_id: u8) -> Option<Self> {
        match type_id {
            100 => Some(DestinationKind::Queue),
            101 => Some(DestinationKind::Topic),
            102 => Some(DestinationKind::TempQueue),
            103 => Some(DestinationKind::TempTopic),
            _ => None,
        }
    }

    /// The URI scheme of `toString()`: `queue://`, `topic://`, `temp-queue://`, `temp-topic://`.
    pub fn scheme(self) -> &'static str {
        match self {
            DestinationKind::Queue => "queue://",
            DestinationKind::Topic => "topic://",
            DestinationKind::TempQueue => "temp-queue://",
            DestinationKind::TempTopic => "temp-topic://",
        }
    }

    pub fn is_topic(self) -> bool {
        matches!(self, DestinationKind::Topic | DestinationKind::TempTopic)
    }

    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            DestinationKind::TempQueue | DestinationKind::TempTopic
        )
    }
}

/// An `ActiveMQDestination`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    pub kind: DestinationKind,
    pub physical_name: Option<String>,
}

impl Destination {
    pub fn new(kind: DestinationKind, name: impl Into<String>) -> Self {
        Destination {
            kind,
            physical_name: Some(name.into()),
        }
    }

    pub fn queue(name: impl Into<String>) -> Self {
        Destination::new(DestinationKind::Queue, name)
    }

    pub fn topic(name: impl Into<String>) -> Self {
        Destination::new(DestinationKind::Topic, name)
    }

    pub fn name(&self) -> &str {
        self.physical_name.as_deref().unwrap_or("")
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind.scheme(), self.name())
    }
}

impl Marshal for Destination {
    const TYPE: u8 = 100;
    const NAME: &'static str = "Destination";
    fn accepts(type_id: u8) -> bool {
        DestinationKind::from_type_id(type_id).is_some()
    }
    fn type_id(&self) -> u8 {
        self.kind.type_id()
    }
    fn decode_body(type_id: u8, r: &mut Reader) -> Result<Self, CodecError> {
        let kind = DestinationKind::from_type_id(type_id)
            .ok_or_else(|| CodecError::malformed("Destination", "not a destination type"))?;
        Ok(Destination {
            kind,
            physical_name: r.string()?,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.string(self.physical_name.as_deref())
    }
}
