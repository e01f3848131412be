//! The marshalled primitive map (openwire.md §7.1, `MarshallingSupport`): message
//! properties, MapMessage bodies, StreamMessage bodies and WireFormatInfo properties.
//!
//! Map: `i32 count` (-1 = null), then per entry `u16`-length modified-UTF-8 key, `u8` tag,
//! value. Tags: 0 null, 1 bool, 2 byte, 3 char (`u16`), 4 short, 5 int, 6 long, 7 double,
//! 8 float, 9 string (`u16` length; used when the string has < 8191 UTF-16 units), 10 byte[]
//! (`i32` length), 11 map, 12 list (`i32` count + tagged values), 13 big string (`i32`
//! length, modified UTF-8).

use bytes::{Bytes, BytesMut};

use super::loose::{Reader, Writer};
use super::{mutf8, CodecError, WireSettings};
use crate::openwire::message::JmsValue;

pub const NULL: u8 = 0;
pub const BOOLEAN: u8 = 1;
pub const BYTE: u8 = 2;
pub const CHAR: u8 = 3;
pub const SHORT: u8 = 4;
pub const INTEGER: u8 = 5;
pub const LONG: u8 = 6;
pub const DOUBLE: u8 = 7;
pub const FLOAT: u8 = 8;
pub const STRING: u8 = 9;
pub const BYTE_ARRAY: u8 = 10;
pub const MAP: u8 = 11;
pub const LIST: u8 = 12;
pub const BIG_STRING: u8 = 13;

/// Strings with at least this many UTF-16 units use [`BIG_STRING`].
pub const BIG_STRING_UNITS: usize = 8191;

/// A map; `None` for the null map (count -1).
pub fn decode_map(r: &mut Reader) -> Result<Option<Vec<(String, JmsValue)>>, CodecError> {
    let count = r.i32()?;
    if count < 0 {
        return Ok(None);
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    // Each entry takes at least 3 bytes (key length and tag).
    if r.remaining() / 3 < count {
        return Err(CodecError::malformed("map", "more entries than bytes"));
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let key = r.utf()?;
        let value = decode_value(r)?;
        entries.push((key, value));
    }
    Ok(Some(entries))
}

/// One tagged value.
pub fn decode_value(r: &mut Reader) -> Result<JmsValue, CodecError> {
    let tag = r.u8()?;
    Ok(match tag {
        NULL => JmsValue::Null,
        BOOLEAN => JmsValue::Bool(r.bool()?),
        BYTE => JmsValue::Byte(r.i8()?),
        CHAR => JmsValue::Char(r.u16()?),
        SHORT => JmsValue::Short(r.i16()?),
        INTEGER => JmsValue::Int(r.i32()?),
        LONG => JmsValue::Long(r.i64()?),
        DOUBLE => JmsValue::Double(r.f64()?),
        FLOAT => JmsValue::Float(r.f32()?),
        STRING => JmsValue::String(r.utf()?),
        BIG_STRING => JmsValue::String(r.big_utf()?),
        BYTE_ARRAY => {
            let len = r.len32("byte[]")?;
            JmsValue::Bytes(r.raw(len, "byte[]")?)
        }
        MAP => JmsValue::Map(r.enter(decode_map)?.unwrap_or_default()),
        LIST => r.enter(|r| {
            let count = r.len32("list")?;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(decode_value(r)?);
            }
            Ok(JmsValue::List(items))
        })?,
        other => {
            return Err(CodecError::malformed(
                "primitive",
                format!("unknown type tag {other}"),
            ))
        }
    })
}

pub fn encode_map(
    w: &mut Writer<'_>,
    map: Option<&[(String, JmsValue)]>,
) -> Result<(), CodecError> {
    let Some(entries) = map else {
        w.i32(-1);
        return Ok(());
    };
    w.len32(entries.len())?;
    for (key, value) in entries {
        w.utf(key)?;
        encode_value(w, value)?;
    }
    Ok(())
}

pub fn encode_value(w: &mut Writer<'_>, value: &JmsValue) -> Result<(), CodecError> {
    match value {
        JmsValue::Null => w.u8(NULL),
        JmsValue::Bool(v) => {
            w.u8(BOOLEAN);
            w.bool(*v);
        }
        JmsValue::Byte(v) => {
            w.u8(BYTE);
            w.i8(*v);
        }
        JmsValue::Char(v) => {
            w.u8(CHAR);
            w.u16(*v);
        }
        JmsValue::Short(v) => {
            w.u8(SHORT);
            w.i16(*v);
        }
        JmsValue::Int(v) => {
            w.u8(INTEGER);
            w.i32(*v);
        }
        JmsValue::Long(v) => {
            w.u8(LONG);
            w.i64(*v);
        }
        JmsValue::Double(v) => {
            w.u8(DOUBLE);
            w.f64(*v);
        }
        JmsValue::Float(v) => {
            w.u8(FLOAT);
            w.f32(*v);
        }
        JmsValue::String(v) => {
            if mutf8::utf16_len(v) < BIG_STRING_UNITS {
                w.u8(STRING);
                w.utf(v)?;
            } else {
                w.u8(BIG_STRING);
                w.big_utf(v)?;
            }
        }
        JmsValue::Bytes(v) => {
            w.u8(BYTE_ARRAY);
            w.len32(v.len())?;
            w.raw(v);
        }
        JmsValue::Map(v) => {
            w.u8(MAP);
            encode_map(w, Some(v))?;
        }
        JmsValue::List(v) => {
            w.u8(LIST);
            w.len32(v.len())?;
            for item in v {
                encode_value(w, item)?;
            }
        }
    }
    Ok(())
}

/// Parses a whole marshalled map (e.g. `marshalledProperties`); trailing bytes are an error.
pub fn parse_map(bytes: Bytes) -> Result<Vec<(String, JmsValue)>, CodecError> {
    let mut r = Reader::new(bytes, WireSettings::default());
    let map = decode_map(&mut r)?.unwrap_or_default();
    if r.remaining() != 0 {
        return Err(CodecError::malformed("map", "trailing bytes"));
    }
    Ok(map)
}

/// Marshals a map to bytes.
pub fn marshal_map(map: &[(String, JmsValue)]) -> Result<Bytes, CodecError> {
    let mut buf = BytesMut::new();
    encode_map(
        &mut Writer::new(&mut buf, WireSettings::default()),
        Some(map),
    )?;
    Ok(buf.freeze())
}

/// Parses concatenated tagged values (a StreamMessage body).
pub fn parse_stream(bytes: Bytes) -> Result<Vec<JmsValue>, CodecError> {
    let mut r = Reader::new(bytes, WireSettings::default());
    let mut items = Vec::new();
    while r.remaining() > 0 {
        items.push(decode_value(&mut r)?);
    }
    Ok(items)
}

/// Marshals values as concatenated tagged values.
pub fn marshal_stream(items: &[JmsValue]) -> Result<Bytes, CodecError> {
    let mut buf = BytesMut::new();
    let mut w = Writer::new(&mut buf, WireSettings::default());
    for item in items {
        encode_value(&mut w, item)?;
    }
    Ok(buf.freeze())
}
