//! The JMS view of a wire [`Message`]: its typed property values ([`JmsValue`]), bodies
//! ([`JmsBody`]) and JMS headers. The value and body types are the neutral ones of
//! [`crate::message::jms`], re-exported here.
//!
//! The wire message keeps `content` and `marshalled_properties` as the raw bytes the peer
//! sent, so a message passed through unchanged re-encodes byte for byte; these functions
//! interpret them on demand ([`Message::body`], [`Message::properties`]) and build them
//! ([`Message::set_body`], [`Message::set_properties`]).
//!
//! # Bodies (openwire.md §7.2)
//!
//! | kind | content | compressed |
//! |---|---|---|
//! | Text (28) | `i32` byte length + modified UTF-8 | zlib of the same |
//! | Bytes (24) | raw bytes | `i32` uncompressed length + zlib |
//! | Map (25) | primitive map | zlib of it |
//! | Object (26) | Java serialization (opaque here) | zlib of it |
//! | Stream (27) | concatenated tagged primitives | zlib of it |
//! | Message (23) | absent | – |
//!
//! A null `content` is [`JmsBody::None`] whatever the kind (a TextMessage with null text).

use std::io::{Read, Write};

use bytes::{BufMut, Bytes, BytesMut};
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::codec::loose::{Reader, Writer};
use super::codec::message::{Message, MessageKind};
use super::codec::primitive_map::{marshal_map, marshal_stream, parse_map, parse_stream};
use super::codec::{mutf8, CodecError, WireSettings};

pub use crate::message::jms::{JmsBody, JmsValue};

/// Why a body or properties could not be read or built.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Codec(#[from] CodecError),
    #[error("inflating the body: {0}")]
    Inflate(std::io::Error),
    #[error("the inflated body exceeds the limit of {0} bytes")]
    TooLarge(usize),
}

/// Default cap on an inflated body (ActiveMQ 6.x `maxInflatedDataSize` has the same role).
pub const DEFAULT_MAX_INFLATED: usize = 100 * 1024 * 1024;

fn inflate(data: &[u8], max: usize) -> Result<Bytes, BodyError> {
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    ZlibDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(BodyError::Inflate)?;
    if out.len() > max {
        return Err(BodyError::TooLarge(max));
    }
    Ok(Bytes::from(out))
}

/// Inflates at most `max` bytes (the rest of the stream is not read).
fn inflate_prefix(data: &[u8], max: usize) -> Result<Bytes, BodyError> {
    let mut out = Vec::new();
    ZlibDecoder::new(data)
        .take(u64::try_from(max).unwrap_or(u64::MAX))
        .read_to_end(&mut out)
        .map_err(BodyError::Inflate)?;
    Ok(Bytes::from(out))
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, BodyError> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).map_err(BodyError::Inflate)?;
    enc.finish().map_err(BodyError::Inflate)
}

impl Message {
    /// The content with compression undone (for Bytes, the length prefix is dropped).
    pub fn uncompressed_content(&self, max_inflated: usize) -> Result<Option<Bytes>, BodyError> {
        let Some(content) = &self.content else {
            return Ok(None);
        };
        if !self.compressed {
            return Ok(Some(content.clone()));
        }
        if self.kind == MessageKind::Bytes {
            // `i32` length, then a zlib stream. The Java client deflates its whole buffer
            // (`Deflater.setInput(bytes.data)`), so the stream may inflate to more than the
            // declared length: only the declared bytes are the body.
            let mut r = Reader::new(content.clone(), WireSettings::default());
            let declared = r.i32()?;
            let declared = usize::try_from(declared).map_err(|_| {
                CodecError::malformed("compressed bytes", format!("negative length {declared}"))
            })?;
            if declared > max_inflated {
                return Err(BodyError::TooLarge(max_inflated));
            }
            let mut data = inflate_prefix(&content[4..], declared)?;
            if data.len() < declared {
                return Err(CodecError::malformed(
                    "compressed bytes",
                    format!("declared {declared} bytes, inflated {}", data.len()),
                )
                .into());
            }
            data.truncate(declared);
            return Ok(Some(data));
        }
        inflate(content, max_inflated).map(Some)
    }

    /// The body, decoded per the message kind (inflated when `compressed`).
    pub fn body(&self) -> Result<JmsBody, BodyError> {
        self.body_with_limit(DEFAULT_MAX_INFLATED)
    }

    /// [`Message::body`] with an explicit cap on the inflated size.
    pub fn body_with_limit(&self, max_inflated: usize) -> Result<JmsBody, BodyError> {
        let Some(content) = self.uncompressed_content(max_inflated)? else {
            return Ok(JmsBody::None);
        };
        Ok(match self.kind {
            MessageKind::Message => JmsBody::None,
            MessageKind::Bytes => JmsBody::Bytes(content),
            MessageKind::Object => JmsBody::Object(content),
            MessageKind::Map => JmsBody::Map(parse_map(content)?),
            MessageKind::Stream => JmsBody::Stream(parse_stream(content)?),
            MessageKind::Text => {
                let mut r = Reader::new(content, WireSettings::default());
                let text = r.big_utf()?;
                if r.remaining() != 0 {
                    return Err(CodecError::malformed("text body", "trailing bytes").into());
                }
                JmsBody::Text(text)
            }
        })
    }

    /// Sets the body (and the kind, unless `body` is [`JmsBody::None`]), deflating it when
    /// `compress` is set, as the Java client does with `useCompression`.
    pub fn set_body(&mut self, body: &JmsBody, compress: bool) -> Result<(), BodyError> {
        if let Some(kind) = body.kind() {
            self.kind = kind;
        }
        let raw: Bytes = match body {
            JmsBody::None => {
                self.content = None;
                self.compressed = false;
                return Ok(());
            }
            JmsBody::Text(text) => {
                let mut buf = BytesMut::new();
                Writer::new(&mut buf, WireSettings::default()).big_utf(text)?;
                buf.freeze()
            }
            JmsBody::Bytes(b) | JmsBody::Object(b) => b.clone(),
            JmsBody::Map(map) => marshal_map(map)?,
            JmsBody::Stream(items) => marshal_stream(items)?,
        };
        self.compressed = compress;
        self.content = Some(if !compress {
            raw
        } else if self.kind == MessageKind::Bytes {
            let len = i32::try_from(raw.len())
                .map_err(|_| CodecError::unencodable("bytes body", "over i32::MAX bytes"))?;
            let mut buf = BytesMut::new();
            buf.put_i32(len);
            buf.put_slice(&deflate(&raw)?);
            buf.freeze()
        } else {
            Bytes::from(deflate(&raw)?)
        });
        Ok(())
    }

    /// The user properties, in wire order (empty when absent).
    pub fn properties(&self) -> Result<Vec<(String, JmsValue)>, CodecError> {
        match &self.marshalled_properties {
            Some(raw) => parse_map(raw.clone()),
            None => Ok(Vec::new()),
        }
    }

    /// One user property.
    pub fn property(&self, name: &str) -> Result<Option<JmsValue>, CodecError> {
        Ok(self
            .properties()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v))
    }

    /// Replaces the user properties (absent when empty, as the Java client sends them).
    pub fn set_properties(&mut self, properties: &[(String, JmsValue)]) -> Result<(), CodecError> {
        self.marshalled_properties = if properties.is_empty() {
            None
        } else {
            Some(marshal_map(properties)?)
        };
        Ok(())
    }

    /// `JMSMessageID` (`ID:…`).
    pub fn jms_message_id(&self) -> Option<String> {
        self.message_id.as_ref().map(|id| id.jms_message_id())
    }

    /// `JMSDeliveryMode`: 2 persistent, 1 non-persistent.
    pub fn jms_delivery_mode(&self) -> i32 {
        if self.persistent {
            2
        } else {
            1
        }
    }

    /// `JMSRedelivered` given the dispatch's redelivery counter.
    pub fn jms_redelivered(redelivery_counter: i32) -> bool {
        redelivery_counter > 0
    }

    /// The text of a TextMessage without building a [`JmsBody`].
    pub fn text(&self) -> Result<Option<String>, BodyError> {
        match self.body()? {
            JmsBody::Text(t) => Ok(Some(t)),
            _ => Ok(None),
        }
    }
}

/// Java's `String.length()` of a text body, for size accounting.
pub fn java_len(text: &str) -> usize {
    mutf8::utf16_len(text)
}
