//! The AMQP 0-9-1 frame layer: bytes ↔ frames, pure (no tokio, no broker).
//!
//! A frame on the wire is
//!
//! ```text
//! type:u8  channel:u16  size:u32  payload[size]  frame-end:0xCE
//! ```
//!
//! We split this envelope ourselves and hand only the payload to amq-protocol, for two
//! reasons (deps.md §1, caveat 1): amq-protocol's `parse_raw_frame` does `take(size)` on
//! the peer's 32-bit length with no cap, so a client could make us buffer 4 GiB before
//! anything is checked; here the 7-byte header is checked against the negotiated
//! `frame_max` *before* a byte of the payload is buffered. And a body frame's payload is
//! taken as a [`Bytes`] slice of the read buffer (zero copy), where amq-protocol would
//! collect it into a `Vec<u8>`.
//!
//! Method payloads go through amq-protocol's generated `parse_class`, content headers
//! through `parse_content_header`; writing methods and content headers uses its
//! `gen_frame`. Only the body-frame envelope is written by hand (7 bytes + 0xCE), so a
//! body goes from the message's `Bytes` to the socket buffer without an intermediate
//! `Vec`.
//!
//! Errors map to the spec's reply codes: a frame larger than `frame_max`, an unknown
//! frame type, a bad frame-end octet or a heartbeat on a channel other than 0 → 501
//! FRAME_ERROR; a method or content header that does not parse (truncated fields, a
//! non-UTF-8 short string) → 502 SYNTAX_ERROR; an unknown class or method id → 540
//! NOT_IMPLEMENTED. Every one closes the connection.

use amq_protocol::frame::parsing::parse_content_header;
use amq_protocol::frame::{gen_frame, AMQPContentHeader, AMQPFrame, WriteContext};
use amq_protocol::protocol::{parse_class, AMQPClass};
use bytes::{Buf, Bytes, BytesMut};

use crate::error::{Error, ReplyCode};

/// The protocol header a 0-9-1 client sends first, and the one we answer a wrong header with.
pub const PROTOCOL_HEADER: &[u8; 8] = b"AMQP\x00\x00\x09\x01";
/// type + channel + size.
pub const FRAME_HEADER_SIZE: usize = 7;
/// The octet that ends every frame.
pub const FRAME_END: u8 = 0xCE;
/// Header and end octet: what a frame costs on top of its payload.
pub const FRAME_OVERHEAD: usize = FRAME_HEADER_SIZE + 1;

const FRAME_METHOD: u8 = 1;
const FRAME_HEADER: u8 = 2;
const FRAME_BODY: u8 = 3;
const FRAME_HEARTBEAT: u8 = 8;

/// A decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A method; boxed because the generated enum is large and most frames are bodies.
    Method(u16, Box<AMQPClass>),
    /// A content header (after `basic.publish`).
    Header(u16, Box<AMQPContentHeader>),
    /// A content body: a slice of the read buffer, never copied.
    Body(u16, Bytes),
    /// A heartbeat (always on channel 0; any other channel is a frame error).
    Heartbeat,
}

/// A frame-layer failure: always closes the connection with `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: ReplyCode,
    pub text: String,
    /// The class and method the failing frame carried, when known (0 otherwise).
    pub class_id: u16,
    pub method_id: u16,
}

impl FrameError {
    fn new(code: ReplyCode, text: impl Into<String>) -> Self {
        FrameError {
            code,
            text: text.into(),
            class_id: 0,
            method_id: 0,
        }
    }

    /// The same failure as a connection-scoped core error.
    pub fn to_error(&self) -> Error {
        Error::new(self.code, self.text.clone()).on_connection()
    }
}

/// Splits frames off a read buffer, checking each against the negotiated `frame_max`.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    /// Largest whole frame (header, payload and end octet) we accept; 0 = no limit.
    frame_max: u32,
}

impl FrameDecoder {
    pub fn new(frame_max: u32) -> Self {
        FrameDecoder { frame_max }
    }

    /// Change the limit (after `connection.tune-ok`).
    pub fn set_frame_max(&mut self, frame_max: u32) {
        self.frame_max = frame_max;
    }

    pub fn frame_max(&self) -> u32 {
        self.frame_max
    }

    /// Take one frame off the front of `buf`.
    ///
    /// # Returns
    /// `Ok(None)` when `buf` does not yet hold a whole frame (read more and call again);
    /// the buffer is untouched then. An error is fatal for the connection.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.is_empty() {
            return Ok(None);
        }
        let frame_type = buf[0];
        if !matches!(
            frame_type,
            FRAME_METHOD | FRAME_HEADER | FRAME_BODY | FRAME_HEARTBEAT
        ) {
            return Err(FrameError::new(
                ReplyCode::FrameError,
                format!("unknown frame type {frame_type}"),
            ));
        }
        if buf.len() < FRAME_HEADER_SIZE {
            return Ok(None);
        }
        let channel = u16::from_be_bytes([buf[1], buf[2]]);
        let size = u32::from_be_bytes([buf[3], buf[4], buf[5], buf[6]]);
        // The size check happens before the payload is buffered (caveat 1 above).
        let total = size as u64 + FRAME_OVERHEAD as u64;
        if self.frame_max != 0 && total > u64::from(self.frame_max) {
            return Err(FrameError::new(
                ReplyCode::FrameError,
                format!("frame size {total} exceeds frame_max {}", self.frame_max),
            ));
        }
        let total = total as usize;
        if buf.len() < total {
            buf.reserve(total - buf.len());
            return Ok(None);
        }
        if buf[total - 1] != FRAME_END {
            return Err(FrameError::new(
                ReplyCode::FrameError,
                format!("bad frame end octet 0x{:02X}", buf[total - 1]),
            ));
        }
        let mut frame = buf.split_to(total).freeze();
        frame.advance(FRAME_HEADER_SIZE);
        frame.truncate(size as usize);
        let payload = frame;
        match frame_type {
            FRAME_METHOD => decode_method(channel, &payload).map(Some),
            FRAME_HEADER => match parse_content_header(&payload[..]) {
                Ok(([], header)) => Ok(Some(Frame::Header(channel, Box::new(header)))),
                Ok(_) => Err(FrameError::new(
                    ReplyCode::SyntaxError,
                    "trailing bytes after the content header properties",
                )),
                Err(e) => Err(FrameError::new(
                    ReplyCode::SyntaxError,
                    format!("malformed content header: {e}"),
                )),
            },
            FRAME_BODY => Ok(Some(Frame::Body(channel, payload))),
            _ => {
                if channel != 0 {
                    return Err(FrameError::new(
                        ReplyCode::FrameError,
                        format!("heartbeat frame on channel {channel}"),
                    ));
                }
                Ok(Some(Frame::Heartbeat))
            }
        }
    }
}

fn decode_method(channel: u16, payload: &[u8]) -> Result<Frame, FrameError> {
    if payload.len() < 4 {
        return Err(FrameError::new(
            ReplyCode::SyntaxError,
            "method frame shorter than its ids",
        ));
    }
    let class_id = u16::from_be_bytes([payload[0], payload[1]]);
    let method_id = u16::from_be_bytes([payload[2], payload[3]]);
    let located = |code, text: String| FrameError {
        code,
        text,
        class_id,
        method_id,
    };
    if !is_known_method(class_id, method_id) {
        return Err(located(
            ReplyCode::NotImplemented,
            format!("unknown method {class_id}.{method_id}"),
        ));
    }
    match parse_class(payload) {
        Ok(([], class)) => Ok(Frame::Method(channel, Box::new(class))),
        Ok(_) => Err(located(
            ReplyCode::SyntaxError,
            format!("trailing bytes after method {class_id}.{method_id}"),
        )),
        Err(e) => Err(located(
            ReplyCode::SyntaxError,
            format!("malformed method {class_id}.{method_id}: {e}"),
        )),
    }
}

/// Whether the 0-9-1 spec (RabbitMQ flavour, the one amq-protocol implements) defines the method.
fn is_known_method(class_id: u16, method_id: u16) -> bool {
    match class_id {
        10 => matches!(
            method_id,
            10 | 11 | 20 | 21 | 30 | 31 | 40 | 41 | 50 | 51 | 60 | 61 | 70 | 71
        ),
        20 => matches!(method_id, 10 | 11 | 20 | 21 | 40 | 41),
        30 => matches!(method_id, 10 | 11),
        40 => matches!(method_id, 10 | 11 | 20 | 21 | 30 | 31 | 40 | 51),
        50 => matches!(method_id, 10 | 11 | 20 | 21 | 30 | 31 | 40 | 41 | 50 | 51),
        60 => matches!(
            method_id,
            10 | 11
                | 20
                | 21
                | 30
                | 31
                | 40
                | 50
                | 60
                | 70
                | 71
                | 72
                | 80
                | 90
                | 100
                | 110
                | 111
                | 120
        ),
        85 => matches!(method_id, 10 | 11),
        90 => matches!(method_id, 10 | 11 | 20 | 21 | 30 | 31),
        _ => false,
    }
}

/// Append a method frame to `out`.
pub fn encode_method(out: &mut Vec<u8>, channel: u16, method: AMQPClass) -> Result<(), Error> {
    encode_frame(out, &AMQPFrame::Method(channel, method))
}

/// Append any amq-protocol frame (methods, content headers, heartbeats) to `out`.
pub fn encode_frame(out: &mut Vec<u8>, frame: &AMQPFrame) -> Result<(), Error> {
    // cookie-factory consumes the buffer and does not give it back on error, so a frame is
    // generated into its own small vector: a generator failure (a value too large for its
    // field) then leaves `out`, which may hold other frames of the batch, intact.
    match gen_frame(frame)(WriteContext::from(Vec::with_capacity(64))) {
        Ok(ctx) => {
            out.extend_from_slice(&ctx.into_inner().0);
            Ok(())
        }
        Err(e) => Err(Error::internal(format!("cannot encode {frame}: {e}"))),
    }
}

/// Append a content header and the body frames for `body`, split so that no frame is
/// larger than `frame_max` (0 = no limit).
pub fn encode_content(
    out: &mut Vec<u8>,
    channel: u16,
    properties: &amq_protocol::protocol::BasicProperties,
    body: &[u8],
    frame_max: u32,
) -> Result<(), Error> {
    let header = AMQPContentHeader {
        class_id: 60,
        body_size: body.len() as u64,
        properties: properties.clone(),
    };
    encode_frame(out, &AMQPFrame::Header(channel, header))?;
    let max_payload = if frame_max == 0 {
        // Bounded by the u32 size field.
        u32::MAX as usize - FRAME_OVERHEAD
    } else {
        (frame_max as usize).saturating_sub(FRAME_OVERHEAD).max(1)
    };
    for chunk in body.chunks(max_payload) {
        out.reserve(chunk.len() + FRAME_OVERHEAD);
        out.push(FRAME_BODY);
        out.extend_from_slice(&channel.to_be_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        out.extend_from_slice(chunk);
        out.push(FRAME_END);
    }
    Ok(())
}

/// The 8 bytes of a heartbeat frame.
pub const HEARTBEAT_FRAME: [u8; 8] = [FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END];

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
