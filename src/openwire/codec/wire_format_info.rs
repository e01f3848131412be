//! `WireFormatInfo` (1): magic `ActiveMQ`, `i32` version, nullable byte sequence holding a
//! primitive map of options. No BaseCommand header; always loose, uncached, size-prefixed.

use bytes::BytesMut;

use super::loose::{Marshal, Reader, Writer};
use super::primitive_map::{decode_map, encode_map};
use super::{CodecError, WireSettings};
use crate::openwire::message::JmsValue;

pub const MAGIC: [u8; 8] = *b"ActiveMQ";

#[derive(Debug, Clone, PartialEq)]
pub struct WireFormatInfo {
    pub version: i32,
    /// The options in wire order (names are exact, including `…InitalDelay`); `None` when
    /// the map is absent.
    pub properties: Option<Vec<(String, JmsValue)>>,
}

impl WireFormatInfo {
    /// The server's proposal: loose encoding, no cache, no stack traces (openwire.md §3).
    pub fn server(max_inactivity_ms: i64, max_frame_size: i64, provider: &str) -> Self {
        let props = vec![
            ("TightEncodingEnabled".to_owned(), JmsValue::Bool(false)),
            ("CacheEnabled".to_owned(), JmsValue::Bool(false)),
            ("SizePrefixDisabled".to_owned(), JmsValue::Bool(false)),
            ("StackTraceEnabled".to_owned(), JmsValue::Bool(false)),
            ("TcpNoDelayEnabled".to_owned(), JmsValue::Bool(true)),
            ("CacheSize".to_owned(), JmsValue::Int(0)),
            (
                "MaxInactivityDuration".to_owned(),
                JmsValue::Long(max_inactivity_ms),
            ),
            (
                "MaxInactivityDurationInitalDelay".to_owned(),
                JmsValue::Long(10_000),
            ),
            ("MaxFrameSize".to_owned(), JmsValue::Long(max_frame_size)),
            (
                "ProviderName".to_owned(),
                JmsValue::String(provider.to_owned()),
            ),
        ];
        WireFormatInfo {
            version: super::MAX_VERSION,
            properties: Some(props),
        }
    }

    pub fn property(&self, name: &str) -> Option<&JmsValue> {
        self.properties
            .as_ref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// A boolean option; missing or not a boolean means false (Java's `Boolean.TRUE ==`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.property(name), Some(JmsValue::Bool(true)))
    }

    /// A long option (`MaxInactivityDuration`, `MaxFrameSize` …); missing means 0.
    pub fn long(&self, name: &str) -> i64 {
        match self.property(name) {
            Some(JmsValue::Long(v)) => *v,
            Some(JmsValue::Int(v)) => i64::from(*v),
            _ => 0,
        }
    }

    pub fn tight_encoding_enabled(&self) -> bool {
        self.flag("TightEncodingEnabled")
    }
    pub fn cache_enabled(&self) -> bool {
        self.flag("CacheEnabled")
    }
    pub fn size_prefix_disabled(&self) -> bool {
        self.flag("SizePrefixDisabled")
    }
    pub fn stack_trace_enabled(&self) -> bool {
        self.flag("StackTraceEnabled")
    }
    pub fn tcp_no_delay_enabled(&self) -> bool {
        self.flag("TcpNoDelayEnabled")
    }
    pub fn max_inactivity_duration(&self) -> i64 {
        self.long("MaxInactivityDuration")
    }
    pub fn max_inactivity_duration_initial_delay(&self) -> i64 {
        self.long("MaxInactivityDurationInitalDelay")
    }
    pub fn max_frame_size(&self) -> i64 {
        self.long("MaxFrameSize")
    }
}

impl Marshal for WireFormatInfo {
    const TYPE: u8 = 1;
    const NAME: &'static str = "WireFormatInfo";
    fn decode_body(_: u8, r: &mut Reader) -> Result<Self, CodecError> {
        let magic = r.raw(8, "WireFormatInfo magic")?;
        if magic[..] != MAGIC {
            return Err(CodecError::malformed(
                "WireFormatInfo magic",
                "remote wire format magic is invalid",
            ));
        }
        let version = r.i32()?;
        let properties = match r.bytes()? {
            Some(raw) => {
                let mut inner = Reader::new(raw, WireSettings::default());
                inner.enter(decode_map)?
            }
            None => None,
        };
        Ok(WireFormatInfo {
            version,
            properties,
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.raw(&MAGIC);
        w.i32(self.version);
        match &self.properties {
            Some(props) => {
                let mut buf = BytesMut::new();
                encode_map(&mut Writer::new(&mut buf, w.settings()), Some(props))?;
                w.bytes(Some(&buf))
            }
            None => w.bytes(None),
        }
    }
}
