//! Loose-encoding primitives (openwire.md §4): the [`Reader`] and [`Writer`] every command
//! module marshals with, and the [`Marshal`] trait they implement.
//!
//! | kind | encoding |
//! |---|---|
//! | byte / bool | 1 byte (`00`/`01`) |
//! | short / int / long | 2 / 4 / 8 bytes, big-endian |
//! | string | bool present; `u16` length + modified UTF-8 |
//! | nested / cached object (cache off) | bool present; `u8` type + body |
//! | object array | bool present; `i16` count; count × nested object |
//! | byte sequence | bool present; `i32` length + bytes |
//! | throwable | see [`super::throwable`] |
//!
//! Every read checks the remaining length first, so a hostile length never allocates more
//! than the frame holds; nesting is bounded by [`MAX_DEPTH`].

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{mutf8, CodecError, WireSettings};

/// Maximum nesting of objects inside a frame (a message in a dispatch in a response …).
pub const MAX_DEPTH: u32 = 32;

/// Reads loose-encoded fields from one frame's body. Byte sequences are zero-copy slices.
#[derive(Debug)]
pub struct Reader {
    buf: Bytes,
    settings: WireSettings,
    depth: u32,
}

impl Reader {
    pub fn new(buf: Bytes, settings: WireSettings) -> Self {
        Reader {
            buf,
            settings,
            depth: 0,
        }
    }

    pub fn settings(&self) -> WireSettings {
        self.settings
    }

    /// The negotiated protocol version (fields are gated by it).
    pub fn version(&self) -> i32 {
        self.settings.version
    }

    pub fn remaining(&self) -> usize {
        self.buf.remaining()
    }

    fn need(&self, n: usize, rule: &'static str) -> Result<(), CodecError> {
        if self.buf.remaining() < n {
            Err(CodecError::malformed(
                rule,
                format!(
                    "needs {n} bytes, {} left in the frame",
                    self.buf.remaining()
                ),
            ))
        } else {
            Ok(())
        }
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        self.need(1, "byte")?;
        Ok(self.buf.get_u8())
    }

    pub fn i8(&mut self) -> Result<i8, CodecError> {
        self.need(1, "byte")?;
        Ok(self.buf.get_i8())
    }

    pub fn bool(&mut self) -> Result<bool, CodecError> {
        self.need(1, "boolean")?;
        Ok(self.buf.get_u8() != 0)
    }

    pub fn i16(&mut self) -> Result<i16, CodecError> {
        self.need(2, "short")?;
        Ok(self.buf.get_i16())
    }

    pub fn u16(&mut self) -> Result<u16, CodecError> {
        self.need(2, "short")?;
        Ok(self.buf.get_u16())
    }

    pub fn i32(&mut self) -> Result<i32, CodecError> {
        self.need(4, "int")?;
        Ok(self.buf.get_i32())
    }

    pub fn i64(&mut self) -> Result<i64, CodecError> {
        self.need(8, "long")?;
        Ok(self.buf.get_i64())
    }

    pub fn f32(&mut self) -> Result<f32, CodecError> {
        self.need(4, "float")?;
        Ok(self.buf.get_f32())
    }

    pub fn f64(&mut self) -> Result<f64, CodecError> {
        self.need(8, "double")?;
        Ok(self.buf.get_f64())
    }

    /// `n` raw bytes (zero-copy).
    pub fn raw(&mut self, n: usize, rule: &'static str) -> Result<Bytes, CodecError> {
        self.need(n, rule)?;
        Ok(self.buf.split_to(n))
    }

    /// A `u16` length and modified UTF-8, without the presence flag (`readUTF`).
    pub fn utf(&mut self) -> Result<String, CodecError> {
        let len = usize::from(self.u16()?);
        let raw = self.raw(len, "string")?;
        mutf8::decode(&raw).map_err(|e| CodecError::malformed("string", e.to_string()))
    }

    /// An `i32` length and modified UTF-8 (the primitive map's big string).
    pub fn big_utf(&mut self) -> Result<String, CodecError> {
        let len = self.len32("big string")?;
        let raw = self.raw(len, "big string")?;
        mutf8::decode(&raw).map_err(|e| CodecError::malformed("big string", e.to_string()))
    }

    /// A nullable string.
    pub fn string(&mut self) -> Result<Option<String>, CodecError> {
        if self.bool()? {
            self.utf().map(Some)
        } else {
            Ok(None)
        }
    }

    /// An `i32` length, checked against the bytes left (never allocates on trust).
    pub fn len32(&mut self, rule: &'static str) -> Result<usize, CodecError> {
        let len = self.i32()?;
        let len = usize::try_from(len)
            .map_err(|_| CodecError::malformed(rule, format!("negative length {len}")))?;
        self.need(len, rule)?;
        Ok(len)
    }

    /// A nullable byte sequence.
    pub fn bytes(&mut self) -> Result<Option<Bytes>, CodecError> {
        if self.bool()? {
            let len = self.len32("byte sequence")?;
            self.raw(len, "byte sequence").map(Some)
        } else {
            Ok(None)
        }
    }

    /// A nullable nested (or uncached cached) object of type `T`.
    pub fn nested<T: Marshal>(&mut self) -> Result<Option<T>, CodecError> {
        if !self.bool()? {
            return Ok(None);
        }
        let type_id = self.u8()?;
        if !T::accepts(type_id) {
            return Err(CodecError::malformed(
                T::NAME,
                format!("unexpected data structure type {type_id}"),
            ));
        }
        self.enter(|r| T::decode_body(type_id, r)).map(Some)
    }

    /// A nullable array of nested objects.
    pub fn array<T: Marshal>(&mut self) -> Result<Option<Vec<T>>, CodecError> {
        if !self.bool()? {
            return Ok(None);
        }
        let count = self.i16()?;
        let count = usize::try_from(count)
            .map_err(|_| CodecError::malformed("array", format!("negative count {count}")))?;
        // Each element takes at least one byte (its presence flag).
        self.need(count, "array")?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            let item = self
                .nested::<T>()?
                .ok_or_else(|| CodecError::malformed("array", "null element"))?;
            items.push(item);
        }
        Ok(Some(items))
    }

    /// Runs `f` one nesting level deeper.
    pub fn enter<T>(
        &mut self,
        f: impl FnOnce(&mut Reader) -> Result<T, CodecError>,
    ) -> Result<T, CodecError> {
        if self.depth >= MAX_DEPTH {
            return Err(CodecError::malformed("nesting", "objects nested too deep"));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }
}

/// Writes loose-encoded fields.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut BytesMut,
    settings: WireSettings,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut BytesMut, settings: WireSettings) -> Self {
        Writer { buf, settings }
    }

    pub fn settings(&self) -> WireSettings {
        self.settings
    }

    pub fn version(&self) -> i32 {
        self.settings.version
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.put_u8(v);
    }

    pub fn i8(&mut self, v: i8) {
        self.buf.put_i8(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.put_u8(u8::from(v));
    }

    pub fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.put_u16(v);
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    pub fn f32(&mut self, v: f32) {
        self.buf.put_f32(v);
    }

    pub fn f64(&mut self, v: f64) {
        self.buf.put_f64(v);
    }

    pub fn raw(&mut self, v: &[u8]) {
        self.buf.put_slice(v);
    }

    /// A `u16` length and modified UTF-8 (`writeUTF`); over 65535 bytes is an error.
    pub fn utf(&mut self, v: &str) -> Result<(), CodecError> {
        let encoded = mutf8::encode(v);
        let len = u16::try_from(encoded.len()).map_err(|_| {
            CodecError::unencodable("string", format!("{} bytes > 65535", encoded.len()))
        })?;
        self.u16(len);
        self.raw(&encoded);
        Ok(())
    }

    /// An `i32` length and modified UTF-8.
    pub fn big_utf(&mut self, v: &str) -> Result<(), CodecError> {
        let encoded = mutf8::encode(v);
        self.len32(encoded.len())?;
        self.raw(&encoded);
        Ok(())
    }

    pub fn len32(&mut self, len: usize) -> Result<(), CodecError> {
        let len = i32::try_from(len)
            .map_err(|_| CodecError::unencodable("length", format!("{len} > i32::MAX")))?;
        self.i32(len);
        Ok(())
    }

    pub fn string(&mut self, v: Option<&str>) -> Result<(), CodecError> {
        self.bool(v.is_some());
        match v {
            Some(s) => self.utf(s),
            None => Ok(()),
        }
    }

    pub fn bytes(&mut self, v: Option<&[u8]>) -> Result<(), CodecError> {
        self.bool(v.is_some());
        if let Some(b) = v {
            self.len32(b.len())?;
            self.raw(b);
        }
        Ok(())
    }

    pub fn nested<T: Marshal>(&mut self, v: Option<&T>) -> Result<(), CodecError> {
        self.bool(v.is_some());
        match v {
            Some(v) => {
                self.u8(v.type_id());
                v.encode_body(self)
            }
            None => Ok(()),
        }
    }

    pub fn array<T: Marshal>(&mut self, v: Option<&[T]>) -> Result<(), CodecError> {
        self.bool(v.is_some());
        if let Some(items) = v {
            let count = i16::try_from(items.len()).map_err(|_| {
                CodecError::unencodable("array", format!("{} elements > 32767", items.len()))
            })?;
            self.i16(count);
            for item in items {
                self.nested(Some(item))?;
            }
        }
        Ok(())
    }
}

/// A data structure with a loose layout: one per command, id and destination module.
pub trait Marshal: Sized {
    /// The type id when the structure has a single one.
    const TYPE: u8;
    /// The name used in error messages.
    const NAME: &'static str;

    /// Whether a nested object of type `type_id` decodes as `Self`.
    fn accepts(type_id: u8) -> bool {
        type_id == Self::TYPE
    }

    /// This value's type id on the wire.
    fn type_id(&self) -> u8 {
        Self::TYPE
    }

    /// Decodes the body; the type byte was read and [`Marshal::accepts`] it.
    fn decode_body(type_id: u8, r: &mut Reader) -> Result<Self, CodecError>;

    /// Encodes the body (after the type byte).
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError>;
}

/// `int commandId, bool responseRequired`: the first fields of every command but
/// WireFormatInfo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BaseCommand {
    pub command_id: i32,
    pub response_required: bool,
}

impl BaseCommand {
    pub fn new(command_id: i32, response_required: bool) -> Self {
        BaseCommand {
            command_id,
            response_required,
        }
    }

    pub fn decode(r: &mut Reader) -> Result<Self, CodecError> {
        Ok(BaseCommand {
            command_id: r.i32()?,
            response_required: r.bool()?,
        })
    }

    pub fn encode(&self, w: &mut Writer<'_>) {
        w.i32(self.command_id);
        w.bool(self.response_required);
    }
}
