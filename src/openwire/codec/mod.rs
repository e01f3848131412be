//! The OpenWire codec: pure, resumable, loose encoding only, on `tokio_util::codec`.
//!
//! # Framing (openwire.md §2)
//!
//! ```text
//! frame = size:i32 BE   ; bytes after the size: 1 + len(body)
//!         type:u8       ; the data structure type (CommandTypes)
//!         body          ; loose-encoded fields of that type, version-gated
//! ```
//!
//! The size is checked against [`Limits::max_frame_bytes`] as soon as its 4 bytes are in,
//! before anything is buffered, and must be at least 1. A frame is split off whole, so byte
//! sequences (message bodies, properties) are zero-copy slices of it.
//!
//! # Negotiation
//!
//! A fresh [`OpenWireCodec`] only accepts a `WireFormatInfo` (the first frame of both
//! peers, always loose, uncached and size-prefixed). Decoding it negotiates with the
//! codec's own proposal ([`OpenWireCodec::local`]) as ActiveMQ's `renegotiateWireFormat`
//! does: the version is the minimum of both, the booleans are ANDed. Our proposal always
//! says tight encoding and caching off, so the rest of the connection is loose and
//! uncached. Versions 10–12 are supported (5.x/6.x clients announce 12); lower ones fail.
//! An encoder-only codec (a writer half) is built with [`OpenWireCodec::negotiated`].
//!
//! # What is not implemented
//!
//! Tight encoding, the marshal cache, `SizePrefixDisabled`, and the network-bridge,
//! journal and blob types: an unknown type is [`CodecError::UnknownType`] carrying the type
//! and the command id (the frame is consumed first, so the caller can still answer it).
//!
//! # Modules
//!
//! One module per command (`broker_info` … `wire_format_info`), `ids` and `destination` for the identifiers, `loose` for the primitives,
//! `mutf8` for Java's modified UTF-8, `primitive_map` for typed maps, `throwable`.

pub mod broker_info;
pub mod command;
pub mod connection_control;
pub mod connection_error;
pub mod connection_info;
pub mod consumer_control;
pub mod consumer_info;
pub mod control_command;
pub mod data_array_response;
pub mod data_response;
pub mod destination;
pub mod destination_info;
pub mod exception_response;
pub mod flush_command;
pub mod ids;
pub mod integer_response;
pub mod keep_alive_info;
pub mod loose;
pub mod message;
pub mod message_ack;
pub mod message_dispatch;
pub mod message_pull;
pub mod mutf8;
pub mod primitive_map;
pub mod producer_ack;
pub mod producer_info;
pub mod remove_info;
pub mod remove_subscription_info;
pub mod response;
pub mod session_info;
pub mod shutdown_info;
pub mod throwable;
pub mod transaction_info;
pub mod wire_format_info;

#[cfg(test)]
mod tests;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub use broker_info::BrokerInfo;
pub use command::{Command, DataStructure};
pub use connection_control::ConnectionControl;
pub use connection_error::ConnectionError;
pub use connection_info::ConnectionInfo;
pub use consumer_control::ConsumerControl;
pub use consumer_info::ConsumerInfo;
pub use control_command::ControlCommand;
pub use data_array_response::DataArrayResponse;
pub use data_response::DataResponse;
pub use destination::{Destination, DestinationKind};
pub use destination_info::DestinationInfo;
pub use exception_response::ExceptionResponse;
pub use flush_command::FlushCommand;
pub use ids::{
    BrokerId, ConnectionId, ConsumerId, LocalTransactionId, MessageId, ProducerId, SessionId,
    TransactionId, XaTransactionId,
};
pub use integer_response::IntegerResponse;
pub use keep_alive_info::KeepAliveInfo;
pub use loose::{BaseCommand, Marshal, Reader, Writer};
pub use message::{Message, MessageKind};
pub use message_ack::{ack_type, MessageAck};
pub use message_dispatch::MessageDispatch;
pub use message_pull::MessagePull;
pub use producer_ack::ProducerAck;
pub use producer_info::ProducerInfo;
pub use remove_info::RemoveInfo;
pub use remove_subscription_info::RemoveSubscriptionInfo;
pub use response::Response;
pub use session_info::SessionInfo;
pub use shutdown_info::ShutdownInfo;
pub use throwable::{StackFrame, Throwable};
pub use transaction_info::{transaction_type, TransactionInfo};
pub use wire_format_info::WireFormatInfo;

/// The highest protocol version implemented (`CommandTypes.PROTOCOL_VERSION`).
pub const MAX_VERSION: i32 = 12;
/// The lowest protocol version accepted at negotiation.
pub const MIN_VERSION: i32 = 10;

/// Why decoding or encoding failed. After a decode error the stream is not resynchronised
/// (except after [`CodecError::UnknownType`], whose frame was consumed).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The size prefix exceeds [`Limits::max_frame_bytes`] (checked before buffering).
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    FrameTooLarge { size: u64, max: usize },
    /// A data structure type this codec does not know; `command_id` is read from the frame
    /// when it is long enough to hold a BaseCommand header.
    #[error("unknown data structure type {type_id} (command id {command_id:?})")]
    UnknownType {
        type_id: u8,
        command_id: Option<i32>,
    },
    /// The bytes break the layout; `rule` names the part that failed.
    #[error("{rule}: {message}")]
    Malformed { rule: &'static str, message: String },
    /// Before negotiation, anything but a WireFormatInfo; or a WireFormatInfo we refuse.
    #[error("wire format negotiation: {0}")]
    Negotiation(String),
    /// A value cannot be encoded (a string over 65535 bytes, a frame over the limit …).
    #[error("cannot encode {rule}: {message}")]
    Unencodable { rule: &'static str, message: String },
}

impl CodecError {
    pub fn malformed(rule: &'static str, message: impl Into<String>) -> Self {
        CodecError::Malformed {
            rule,
            message: message.into(),
        }
    }

    pub fn unencodable(rule: &'static str, message: impl Into<String>) -> Self {
        CodecError::Unencodable {
            rule,
            message: message.into(),
        }
    }
}

/// What was negotiated and changes the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireSettings {
    /// The protocol version (10–12).
    pub version: i32,
    /// Throwables carry stack frames and causes.
    pub stack_trace_enabled: bool,
}

impl Default for WireSettings {
    /// Version 12, no stack traces (what our server proposal yields).
    fn default() -> Self {
        WireSettings {
            version: MAX_VERSION,
            stack_trace_enabled: false,
        }
    }
}

impl WireSettings {
    /// ActiveMQ's `renegotiateWireFormat`: min of the versions, AND of the booleans. Fails
    /// when the peer's version is below [`MIN_VERSION`] or when tight encoding, caching or
    /// a missing size prefix would result (we never propose them).
    pub fn negotiate(
        local: &WireFormatInfo,
        peer: &WireFormatInfo,
    ) -> Result<WireSettings, CodecError> {
        let version = local.version.min(peer.version);
        if version < MIN_VERSION {
            return Err(CodecError::Negotiation(format!(
                "version {} is below the supported minimum {MIN_VERSION}",
                peer.version
            )));
        }
        if local.tight_encoding_enabled() && peer.tight_encoding_enabled() {
            return Err(CodecError::Negotiation(
                "tight encoding is not supported".into(),
            ));
        }
        if local.cache_enabled() && peer.cache_enabled() {
            return Err(CodecError::Negotiation("caching is not supported".into()));
        }
        if local.size_prefix_disabled() && peer.size_prefix_disabled() {
            return Err(CodecError::Negotiation(
                "SizePrefixDisabled is not supported".into(),
            ));
        }
        Ok(WireSettings {
            version,
            stack_trace_enabled: local.stack_trace_enabled() && peer.stack_trace_enabled(),
        })
    }
}

/// Size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame accepted or written (the size prefix's value).
    pub max_frame_bytes: usize,
}

impl Default for Limits {
    /// 100 MiB (what the server advertises as `MaxFrameSize`).
    fn default() -> Self {
        Limits {
            max_frame_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Decodes one frame body (the bytes after the size prefix: type byte + body).
pub fn decode_frame(frame: Bytes, settings: WireSettings) -> Result<Command, CodecError> {
    let mut r = Reader::new(frame, settings);
    let type_id = r.u8()?;
    if !Command::is_known(type_id) {
        let command_id = if r.remaining() >= 4 {
            r.i32().ok()
        } else {
            None
        };
        return Err(CodecError::UnknownType {
            type_id,
            command_id,
        });
    }
    Command::decode_body(type_id, &mut r)
}

/// Appends one size-prefixed frame.
pub fn encode_frame(
    command: &Command,
    settings: WireSettings,
    limits: Limits,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    let start = dst.len();
    dst.put_i32(0);
    dst.put_u8(command.type_id());
    if let Err(e) = command.encode_body(&mut Writer::new(dst, settings)) {
        dst.truncate(start);
        return Err(e);
    }
    let size = dst.len() - start - 4;
    if size > limits.max_frame_bytes {
        dst.truncate(start);
        return Err(CodecError::unencodable(
            "frame",
            format!(
                "{size} bytes exceed the limit of {}",
                limits.max_frame_bytes
            ),
        ));
    }
    let size = i32::try_from(size)
        .map_err(|_| CodecError::unencodable("frame", "size exceeds i32::MAX"))?;
    dst[start..start + 4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// The codec. One instance per direction is fine: the decoder negotiates on the peer's
/// WireFormatInfo; an encoder half needs [`OpenWireCodec::set_settings`] (or
/// [`OpenWireCodec::negotiated`]) once negotiation is known.
#[derive(Debug, Clone)]
pub struct OpenWireCodec {
    pub limits: Limits,
    local: WireFormatInfo,
    settings: WireSettings,
    negotiated: bool,
}

impl OpenWireCodec {
    /// A codec in "WireFormatInfo only" mode, negotiating against `local` (what we send).
    pub fn new(local: WireFormatInfo, limits: Limits) -> Self {
        OpenWireCodec {
            limits,
            local,
            settings: WireSettings::default(),
            negotiated: false,
        }
    }

    /// A codec that is already past negotiation (e.g. the writer half).
    pub fn negotiated(settings: WireSettings, limits: Limits) -> Self {
        OpenWireCodec {
            limits,
            local: WireFormatInfo::server(0, 0, "mqbridge"),
            settings,
            negotiated: true,
        }
    }

    /// Our own proposal.
    pub fn local(&self) -> &WireFormatInfo {
        &self.local
    }

    pub fn settings(&self) -> WireSettings {
        self.settings
    }

    pub fn is_negotiated(&self) -> bool {
        self.negotiated
    }

    /// Sets the negotiated settings and leaves "WireFormatInfo only" mode.
    pub fn set_settings(&mut self, settings: WireSettings) {
        self.settings = settings;
        self.negotiated = true;
    }
}

impl Decoder for OpenWireCodec {
    type Item = Command;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Command>, CodecError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let size = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| CodecError::malformed("frame size", format!("invalid size {size}")))?;
        if size > self.limits.max_frame_bytes {
            return Err(CodecError::FrameTooLarge {
                size: size as u64,
                max: self.limits.max_frame_bytes,
            });
        }
        if src.len() < 4 + size {
            src.reserve((4 + size - src.len()).min(1 << 20));
            return Ok(None);
        }
        src.advance(4);
        let frame = src.split_to(size).freeze();
        if !self.negotiated {
            if frame[0] != WireFormatInfo::TYPE {
                return Err(CodecError::Negotiation(format!(
                    "expected WireFormatInfo first, got type {}",
                    frame[0]
                )));
            }
            let command = decode_frame(frame, WireSettings::default())?;
            if let Command::WireFormatInfo(peer) = &command {
                self.settings = WireSettings::negotiate(&self.local, peer)?;
                self.negotiated = true;
            }
            return Ok(Some(command));
        }
        decode_frame(frame, self.settings).map(Some)
    }
}

impl Encoder<Command> for OpenWireCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_frame(&item, self.settings, self.limits, dst)
    }
}

impl Encoder<&Command> for OpenWireCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_frame(item, self.settings, self.limits, dst)
    }
}
