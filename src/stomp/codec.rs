//! The STOMP 1.0, 1.1 and 1.2 codec: pure, resumable, on `tokio_util::codec`.
//!
//! # Grammar (STOMP 1.2 "Augmented BNF", with the 1.0/1.1 differences)
//!
//! ```text
//! NULL = <US-ASCII null (octet 0)>
//! LF   = <US-ASCII line feed (octet 10)>
//! CR   = <US-ASCII carriage return (octet 13)>
//! EOL  = [CR] LF
//! frame-stream = 1*frame
//! frame   = command EOL *( header EOL ) EOL *OCTET NULL *( EOL )
//! command = client-command | server-command
//! header  = header-name ":" header-value
//! header-name  = 1*<any OCTET except CR or LF or ":">
//! header-value = *<any OCTET except CR or LF or ":">
//! ```
//!
//! - **Body.** With a `content-length` header (the first one), exactly that many octets
//!   follow the blank line and the next octet must be NUL: the body may contain NULs.
//!   Without it the body runs to the first NUL.
//! - **Heart-beats.** An EOL between frames is a heart-beat; each decodes to
//!   [`Item::Heartbeat`] (this also swallows the optional EOLs after a frame's NUL).
//! - **Escaping.** 1.0: none. 1.1: `\n`, `\c` (colon), `\\` in header names and values.
//!   1.2: adds `\r`. Any other escape is a fatal error (spec). `CONNECT`, `STOMP` and
//!   `CONNECTED` frames are never escaped (1.2 "Value Encoding").
//! - **Repeated headers** are all kept in order; the first one wins
//!   ([`Frame::header`]).
//!
//! # Deviations
//!
//! - CR-LF line endings are accepted in every version (the spec introduces them in 1.2;
//!   1.0 clients send them too). A CR not followed by LF is an error.
//! - In 1.0, where the spec says nothing, whitespace after the colon is trimmed, as
//!   ActiveMQ does (`login: system`). Before `CONNECTED` the codec is in 1.0 mode.
//! - On encode, a frame with a body and no `content-length` gets one, so bodies with NULs
//!   survive every version; in 1.0 (no escaping) CR and LF in generated values become spaces.
//! - Header names and values must be UTF-8 (the spec requires it).
//!
//! # Limits
//!
//! [`Limits`] bounds the whole frame, the number of headers and each header line. They are
//! checked while scanning, before a frame is buffered whole: a `content-length` beyond the
//! frame limit fails at once. Each breach is a [`CodecError::Limit`] naming the rule,
//! which the connection turns into an ERROR frame before closing.
//!
//! Resumable: the decoder remembers how far it scanned, so a frame that trickles in byte
//! by byte is scanned once, and a frame's bytes are split off whole (the body is a
//! zero-copy slice of them).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::frame::Frame;

/// A STOMP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Version {
    #[default]
    V1_0,
    V1_1,
    V1_2,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }

    pub fn parse(text: &str) -> Option<Version> {
        match text.trim() {
            "1.0" => Some(Version::V1_0),
            "1.1" => Some(Version::V1_1),
            "1.2" => Some(Version::V1_2),
            _ => None,
        }
    }
}

/// Size limits, each reported by name when exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole frame: command, headers and body.
    pub max_frame_bytes: usize,
    /// Header lines per frame.
    pub max_headers: usize,
    /// One header line (name, colon and value, as on the wire) or the command line.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    /// 16 MiB frames; 1000 headers of 10 KiB each (ActiveMQ's header limits).
    fn default() -> Self {
        Limits {
            max_frame_bytes: 16 * 1024 * 1024,
            max_headers: 1000,
            max_header_bytes: 10 * 1024,
        }
    }
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Frame(Frame),
    /// One EOL between frames.
    Heartbeat,
}

/// Why decoding failed. After any of these the stream cannot be resynchronised.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes break the grammar; `rule` names the part that failed.
    #[error("{rule}: {message}")]
    Malformed { rule: &'static str, message: String },
    /// A [`Limits`] bound was exceeded.
    #[error("{rule}: {message}")]
    Limit { rule: &'static str, message: String },
}

impl CodecError {
    fn malformed(rule: &'static str, message: impl Into<String>) -> Self {
        CodecError::Malformed {
            rule,
            message: message.into(),
        }
    }

    /// The short text for an ERROR frame's `message` header.
    pub fn rule(&self) -> &'static str {
        match self {
            CodecError::Io(_) => "i/o error",
            CodecError::Malformed { rule, .. } | CodecError::Limit { rule, .. } => rule,
        }
    }
}

#[derive(Debug)]
enum State {
    /// Looking for the end of the header block.
    Head {
        /// Bytes already scanned for LF.
        scanned: usize,
        /// Where the current line starts.
        line_start: usize,
        /// Header lines seen so far.
        headers: usize,
    },
    /// The header block is parsed; waiting for the body and its NUL.
    Body {
        command: String,
        headers: Vec<(String, String)>,
        head_len: usize,
        content_length: Option<usize>,
        scanned: usize,
    },
}

impl Default for State {
    fn default() -> Self {
        State::Head {
            scanned: 0,
            line_start: 0,
            headers: 0,
        }
    }
}

/// The codec. Set [`StompCodec::version`] once the version is negotiated.
#[derive(Debug, Default)]
pub struct StompCodec {
    pub version: Version,
    pub limits: Limits,
    state: State,
}

impl StompCodec {
    pub fn new(version: Version, limits: Limits) -> Self {
        StompCodec {
            version,
            limits,
            state: State::default(),
        }
    }

    fn limit(&self, rule: &'static str, what: &str, max: usize) -> CodecError {
        CodecError::Limit {
            rule,
            message: format!("{what} exceeds the limit of {max}"),
        }
    }
}

impl Decoder for StompCodec {
    type Item = Item;
    type Error = CodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Item>, CodecError> {
        loop {
            match &mut self.state {
                State::Head {
                    scanned,
                    line_start,
                    headers,
                } => {
                    if *scanned == 0 {
                        match buf.first() {
                            None => return Ok(None),
                            Some(b'\n') => {
                                buf.advance(1);
                                return Ok(Some(Item::Heartbeat));
                            }
                            Some(b'\r') => match buf.get(1) {
                                None => return Ok(None),
                                Some(b'\n') => {
                                    buf.advance(2);
                                    return Ok(Some(Item::Heartbeat));
                                }
                                Some(_) => {
                                    return Err(CodecError::malformed(
                                        "end of line",
                                        "a CR must be followed by LF",
                                    ))
                                }
                            },
                            Some(_) => {}
                        }
                    }
                    let Some(pos) = memchr(b'\n', &buf[*scanned..]) else {
                        *scanned = buf.len();
                        let line = buf.len() - *line_start;
                        if line > self.limits.max_header_bytes {
                            let max = self.limits.max_header_bytes;
                            return Err(self.limit("header too long", "a header line", max));
                        }
                        if buf.len() > self.limits.max_frame_bytes {
                            let max = self.limits.max_frame_bytes;
                            return Err(self.limit("frame too large", "the frame", max));
                        }
                        return Ok(None);
                    };
                    let end = *scanned + pos;
                    let mut line = &buf[*line_start..end];
                    if let Some(stripped) = line.strip_suffix(b"\r") {
                        line = stripped;
                    }
                    if line.len() > self.limits.max_header_bytes {
                        let max = self.limits.max_header_bytes;
                        return Err(self.limit("header too long", "a header line", max));
                    }
                    let is_command = *line_start == 0;
                    let empty = line.is_empty();
                    *scanned = end + 1;
                    *line_start = end + 1;
                    if is_command || !empty {
                        if !is_command {
                            *headers += 1;
                            if *headers > self.limits.max_headers {
                                let max = self.limits.max_headers;
                                return Err(self.limit(
                                    "too many headers",
                                    "the header count",
                                    max,
                                ));
                            }
                        }
                        continue;
                    }
                    let head_len = end + 1;
                    if head_len > self.limits.max_frame_bytes {
                        let max = self.limits.max_frame_bytes;
                        return Err(self.limit("frame too large", "the frame", max));
                    }
                    let (command, headers) = parse_head(&buf[..head_len], self.version)?;
                    let content_length = match first(&headers, "content-length") {
                        None => None,
                        Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
                            CodecError::malformed(
                                "content-length",
                                format!("content-length '{v}' is not a non-negative integer"),
                            )
                        })?),
                    };
                    if let Some(n) = content_length {
                        if head_len.saturating_add(n).saturating_add(1)
                            > self.limits.max_frame_bytes
                        {
                            let max = self.limits.max_frame_bytes;
                            return Err(self.limit("frame too large", "the frame", max));
                        }
                    }
                    self.state = State::Body {
                        command,
                        headers,
                        head_len,
                        content_length,
                        scanned: head_len,
                    };
                }
                State::Body {
                    head_len,
                    content_length,
                    scanned,
                    ..
                } => {
                    let head_len = *head_len;
                    let body_len = match *content_length {
                        Some(n) => {
                            let total = head_len + n + 1;
                            if buf.len() < total {
                                buf.reserve(total - buf.len());
                                return Ok(None);
                            }
                            if buf[head_len + n] != 0 {
                                return Err(CodecError::malformed(
                                    "content-length",
                                    format!("the octet after the {n}-byte body is not NUL"),
                                ));
                            }
                            n
                        }
                        None => match memchr(0, &buf[*scanned..]) {
                            Some(pos) => *scanned + pos - head_len,
                            None => {
                                *scanned = buf.len();
                                if buf.len() > self.limits.max_frame_bytes {
                                    let max = self.limits.max_frame_bytes;
                                    return Err(self.limit("frame too large", "the frame", max));
                                }
                                return Ok(None);
                            }
                        },
                    };
                    let (command, headers) = match std::mem::take(&mut self.state) {
                        State::Body {
                            command, headers, ..
                        } => (command, headers),
                        State::Head { .. } => (String::new(), Vec::new()),
                    };
                    let bytes = buf.split_to(head_len + body_len + 1).freeze();
                    let body = bytes.slice(head_len..head_len + body_len);
                    return Ok(Some(Item::Frame(Frame {
                        command,
                        headers,
                        body,
                    })));
                }
            }
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

fn first<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether frames with this command are written without escaping (1.2 "Value Encoding").
fn unescaped_command(command: &str) -> bool {
    matches!(command, "CONNECT" | "STOMP" | "CONNECTED")
}

/// Parse a complete header block (command line to blank line, inclusive).
fn parse_head(
    head: &[u8],
    version: Version,
) -> Result<(String, Vec<(String, String)>), CodecError> {
    let text = std::str::from_utf8(head).map_err(|e| {
        CodecError::malformed(
            "utf-8",
            format!("invalid UTF-8 at octet {}", e.valid_up_to()),
        )
    })?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let command = lines.next().unwrap_or_default();
    if command.is_empty() || !command.bytes().all(|b| b.is_ascii_alphabetic()) {
        let shown: String = command.chars().take(40).collect();
        return Err(CodecError::malformed(
            "command",
            format!("'{shown}' is not a STOMP command"),
        ));
    }
    let escaped = version >= Version::V1_1 && !unescaped_command(command);
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        // CR ends a line only before LF (1.2's grammar keeps it out of names and values;
        // 1.0 and 1.1 could not encode it back either).
        if line.contains('\r') {
            return Err(CodecError::malformed(
                "end of line",
                "a CR must be followed by LF",
            ));
        }
        let Some((name, value)) = line.split_once(':') else {
            let shown: String = line.chars().take(40).collect();
            return Err(CodecError::malformed(
                "header line",
                format!("header line without a colon: '{shown}'"),
            ));
        };
        let (name, value) = if escaped {
            (unescape(name, version)?, unescape(value, version)?)
        } else if version == Version::V1_0 {
            (name.to_string(), value.trim_start().to_string())
        } else {
            (name.to_string(), value.to_string())
        };
        headers.push((name, value));
    }
    Ok((command.to_string(), headers))
}

fn unescape(text: &str, version: Version) -> Result<String, CodecError> {
    if !text.contains('\\') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('c') => out.push(':'),
            Some('\\') => out.push('\\'),
            Some('r') if version >= Version::V1_2 => out.push('\r'),
            Some(other) => {
                return Err(CodecError::malformed(
                    "header escape",
                    format!("undefined escape sequence '\\{other}'"),
                ))
            }
            None => {
                return Err(CodecError::malformed(
                    "header escape",
                    "a header ends with a lone backslash",
                ))
            }
        }
    }
    Ok(out)
}

fn escape_into(text: &str, version: Version, escaped: bool, dst: &mut BytesMut) {
    if !escaped {
        if version == Version::V1_0 {
            for c in text.chars() {
                let c = if c == '\n' || c == '\r' { ' ' } else { c };
                let mut b = [0u8; 4];
                dst.put_slice(c.encode_utf8(&mut b).as_bytes());
            }
        } else {
            dst.put_slice(text.as_bytes());
        }
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => dst.put_slice(b"\\\\"),
            '\n' => dst.put_slice(b"\\n"),
            ':' => dst.put_slice(b"\\c"),
            '\r' if version >= Version::V1_2 => dst.put_slice(b"\\r"),
            '\r' => dst.put_u8(b' '),
            c => {
                let mut b = [0u8; 4];
                dst.put_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

/// Append `frame` in `version`'s encoding.
pub fn encode_frame(frame: &Frame, version: Version, dst: &mut BytesMut) {
    let escaped = version >= Version::V1_1 && !unescaped_command(&frame.command);
    let headers_len: usize = frame
        .headers
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum();
    dst.reserve(frame.command.len() + headers_len + frame.body.len() + 32);
    dst.put_slice(frame.command.as_bytes());
    dst.put_u8(b'\n');
    for (name, value) in &frame.headers {
        escape_into(name, version, escaped, dst);
        dst.put_u8(b':');
        escape_into(value, version, escaped, dst);
        dst.put_u8(b'\n');
    }
    if !frame.body.is_empty() && !frame.has("content-length") {
        dst.put_slice(b"content-length:");
        dst.put_slice(frame.body.len().to_string().as_bytes());
        dst.put_u8(b'\n');
    }
    dst.put_u8(b'\n');
    dst.put_slice(&frame.body);
    dst.put_u8(0);
}

impl Encoder<Item> for StompCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Item, dst: &mut BytesMut) -> Result<(), CodecError> {
        match item {
            Item::Heartbeat => dst.put_u8(b'\n'),
            Item::Frame(frame) => encode_frame(&frame, self.version, dst),
        }
        Ok(())
    }
}

impl Encoder<&Frame> for StompCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_frame(frame, self.version, dst);
        Ok(())
    }
}

/// Encode one frame to bytes (tests and one-off writes).
pub fn to_bytes(frame: &Frame, version: Version) -> Bytes {
    let mut buf = BytesMut::new();
    encode_frame(frame, version, &mut buf);
    buf.freeze()
}
