//! The on-disk byte layout of store keys and records (used by the fjall store).
//!
//! # Values
//!
//! Every value starts with a format version byte ([`FORMAT_V1`]) so a later layout can be
//! told apart and migrated. After it come fields in a fixed order, each in one of these
//! encodings (all integers big-endian):
//!
//! - `u8` / `u64`: the raw integer;
//! - option of `u64`: a `0`/`1` presence byte, then the `u64` when present;
//! - string / bytes: a `u32` length, then that many bytes (strings must be UTF-8);
//! - field table: a `u32` length, then amq-protocol's own encoding of the table
//!   (`gen_field_table`, itself length-prefixed as on the wire);
//! - basic properties: a `u32` length, then amq-protocol's `gen_properties` encoding (flags
//!   word + present properties, exactly as in a content header frame).
//!
//! Records (after the version byte):
//!
//! - exchange: vhost, name, kind (strings), flags `u8` (bit 0 auto-delete, bit 1
//!   internal), arguments (table);
//! - queue: vhost, name (strings), flags `u8` (bit 0 auto-delete), arguments (table);
//! - binding: vhost, source, destination (strings), destination kind `u8` (0 queue,
//!   1 exchange), routing key (string), arguments (table);
//! - message: expires_at (option of `u64`), exchange, routing key (strings), properties,
//!   body (bytes). Its vhost, queue and seq live in the key only.
//!
//! # Keys
//!
//! Key components are `u16`-length-prefixed rather than `\0`-separated: AMQP short strings
//! may contain `\0`, and with separators the prefix of queue `a` would also match queue
//! `a\0b`. With lengths, a prefix names exactly one entity.
//!
//! - `messages` keyspace: `[len vhost][vhost][len queue][queue][seq u64 BE]`, so a prefix
//!   scan returns one queue's messages in seq order;
//! - `meta` keyspace: a tag byte then components: `x` vhost name (exchange), `q` vhost name
//!   (queue), `b` vhost source kind-byte destination routing-key table-bytes (binding; the
//!   arguments are part of a binding's identity, and a `FieldTable` is a `BTreeMap`, so its
//!   encoding is deterministic).

use amq_protocol::frame::WriteContext;
use amq_protocol::protocol::basic::{gen_properties, parse_properties};
use amq_protocol::types::generation::gen_field_table;
use amq_protocol::types::parsing::parse_field_table;
use bytes::Bytes;

use super::{BindingRecord, DestinationKind, ExchangeRecord, QueueRecord, StoreError, StoreResult};
use crate::message::{BasicProperties, FieldTable, Message};

/// fjall's key size limit.
const MAX_KEY_LEN: usize = u16::MAX as usize;

/// The first byte of every value written by this version.
pub const FORMAT_V1: u8 = 1;

pub const TAG_EXCHANGE: u8 = b'x';
pub const TAG_QUEUE: u8 = b'q';
pub const TAG_BINDING: u8 = b'b';

fn err(what: impl Into<String>) -> StoreError {
    StoreError(what.into())
}

// ---------------------------------------------------------------------------------------
// Writing

/// Builds a value or key.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn opt_u64(&mut self, v: Option<u64>) -> &mut Self {
        match v {
            None => self.u8(0),
            Some(v) => self.u8(1).u64(v),
        }
    }

    fn len32(&mut self, n: usize) -> StoreResult<&mut Self> {
        let n = u32::try_from(n).map_err(|_| err(format!("field of {n} bytes is too large")))?;
        self.buf.extend_from_slice(&n.to_be_bytes());
        Ok(self)
    }

    pub fn bytes(&mut self, b: &[u8]) -> StoreResult<&mut Self> {
        self.len32(b.len())?;
        self.buf.extend_from_slice(b);
        Ok(self)
    }

    pub fn str(&mut self, s: &str) -> StoreResult<&mut Self> {
        self.bytes(s.as_bytes())
    }

    /// A key component: `u16` length then the bytes.
    pub fn key_str(&mut self, s: &str) -> StoreResult<&mut Self> {
        let n = u16::try_from(s.len())
            .map_err(|_| err(format!("name of {} bytes is too long for a key", s.len())))?;
        self.buf.extend_from_slice(&n.to_be_bytes());
        self.buf.extend_from_slice(s.as_bytes());
        Ok(self)
    }

    pub fn table(&mut self, t: &FieldTable) -> StoreResult<&mut Self> {
        let encoded = encode_table(t)?;
        self.bytes(&encoded)
    }

    pub fn properties(&mut self, p: &BasicProperties) -> StoreResult<&mut Self> {
        let ctx = gen_properties(p)(WriteContext::from(Vec::new()))
            .map_err(|e| err(format!("encoding properties: {e}")))?;
        let (encoded, _) = ctx.into_inner();
        self.bytes(&encoded)
    }

    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Finish a key. fjall panics on keys over 65535 bytes (and empty ones), so the
    /// limit is checked here and reported as an error.
    pub fn finish_key(&mut self) -> StoreResult<Vec<u8>> {
        let key = self.finish();
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(err(format!("key of {} bytes is too long", key.len())));
        }
        Ok(key)
    }

    /// Finish a value. fjall panics on values of 4 GiB or more.
    pub fn finish_value(&mut self) -> StoreResult<Vec<u8>> {
        let value = self.finish();
        if u32::try_from(value.len()).is_err() {
            return Err(err(format!("record of {} bytes is too large", value.len())));
        }
        Ok(value)
    }
}

fn encode_table(t: &FieldTable) -> StoreResult<Vec<u8>> {
    let ctx = gen_field_table(t)(WriteContext::from(Vec::new()))
        .map_err(|e| err(format!("encoding field table: {e}")))?;
    Ok(ctx.into_inner().0)
}

// ---------------------------------------------------------------------------------------
// Reading

/// Reads a value or key; every accessor checks bounds and returns an error, never panics.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> StoreResult<&'a [u8]> {
        if self.buf.len() < n {
            return Err(err(format!(
                "truncated record: need {n} bytes, have {}",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> StoreResult<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u64(&mut self) -> StoreResult<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    pub fn opt_u64(&mut self) -> StoreResult<Option<u64>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            b => Err(err(format!("bad option marker {b}"))),
        }
    }

    pub fn bytes(&mut self) -> StoreResult<&'a [u8]> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        let n = u32::from_be_bytes(a) as usize;
        self.take(n)
    }

    pub fn string(&mut self) -> StoreResult<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| err("string is not UTF-8"))
    }

    pub fn key_str(&mut self) -> StoreResult<String> {
        let mut a = [0u8; 2];
        a.copy_from_slice(self.take(2)?);
        let b = self.take(u16::from_be_bytes(a) as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| err("key component is not UTF-8"))
    }

    pub fn table(&mut self) -> StoreResult<FieldTable> {
        let b = self.bytes()?;
        match parse_field_table(b) {
            Ok(([], t)) => Ok(t),
            Ok((rest, _)) => Err(err(format!("{} stray bytes after field table", rest.len()))),
            Err(e) => Err(err(format!("decoding field table: {e}"))),
        }
    }

    pub fn properties(&mut self) -> StoreResult<BasicProperties> {
        let b = self.bytes()?;
        match parse_properties(b) {
            Ok(([], p)) => Ok(p),
            Ok((rest, _)) => Err(err(format!("{} stray bytes after properties", rest.len()))),
            Err(e) => Err(err(format!("decoding properties: {e}"))),
        }
    }

    pub fn version(&mut self) -> StoreResult<()> {
        match self.u8()? {
            FORMAT_V1 => Ok(()),
            v => Err(err(format!("unknown record format version {v}"))),
        }
    }

    pub fn end(&self) -> StoreResult<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(err(format!(
                "{} stray bytes at end of record",
                self.buf.len()
            )))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Keys

pub fn exchange_key(vhost: &str, name: &str) -> StoreResult<Vec<u8>> {
    Writer::default()
        .u8(TAG_EXCHANGE)
        .key_str(vhost)?
        .key_str(name)?
        .finish_key()
}

pub fn queue_key(vhost: &str, name: &str) -> StoreResult<Vec<u8>> {
    Writer::default()
        .u8(TAG_QUEUE)
        .key_str(vhost)?
        .key_str(name)?
        .finish_key()
}

/// Prefix of every binding key of a vhost.
pub fn binding_vhost_prefix(vhost: &str) -> StoreResult<Vec<u8>> {
    Writer::default()
        .u8(TAG_BINDING)
        .key_str(vhost)?
        .finish_key()
}

pub fn binding_key(b: &BindingRecord) -> StoreResult<Vec<u8>> {
    let args = encode_table(&b.arguments)?;
    let mut w = Writer::with_capacity(32 + args.len());
    w.u8(TAG_BINDING)
        .key_str(&b.vhost)?
        .key_str(&b.source)?
        .u8(kind_byte(b.destination_kind))
        .key_str(&b.destination)?
        .key_str(&b.routing_key)?;
    w.buf.extend_from_slice(&args);
    w.finish_key()
}

/// Prefix of every message key of a queue.
pub fn queue_messages_prefix(vhost: &str, queue: &str) -> StoreResult<Vec<u8>> {
    Writer::default()
        .key_str(vhost)?
        .key_str(queue)?
        .finish_key()
}

pub fn message_key(vhost: &str, queue: &str, seq: u64) -> StoreResult<Vec<u8>> {
    let mut w = Writer::with_capacity(4 + vhost.len() + queue.len() + 8);
    w.key_str(vhost)?.key_str(queue)?.u64(seq);
    w.finish_key()
}

/// (vhost, queue, seq) of a message key.
pub fn decode_message_key(key: &[u8]) -> StoreResult<(String, String, u64)> {
    let mut r = Reader::new(key);
    let vhost = r.key_str()?;
    let queue = r.key_str()?;
    let seq = r.u64()?;
    r.end()?;
    Ok((vhost, queue, seq))
}

/// A key for log lines: printable ASCII kept, the rest escaped.
pub fn show_key(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

// ---------------------------------------------------------------------------------------
// Records

fn kind_byte(k: DestinationKind) -> u8 {
    match k {
        DestinationKind::Queue => 0,
        DestinationKind::Exchange => 1,
    }
}

pub fn encode_exchange(r: &ExchangeRecord) -> StoreResult<Vec<u8>> {
    let flags = u8::from(r.auto_delete) | (u8::from(r.internal) << 1);
    Writer::default()
        .u8(FORMAT_V1)
        .str(&r.vhost)?
        .str(&r.name)?
        .str(&r.kind)?
        .u8(flags)
        .table(&r.arguments)?
        .finish_value()
}

pub fn decode_exchange(v: &[u8]) -> StoreResult<ExchangeRecord> {
    let mut r = Reader::new(v);
    r.version()?;
    let rec = ExchangeRecord {
        vhost: r.string()?,
        name: r.string()?,
        kind: r.string()?,
        auto_delete: false,
        internal: false,
        arguments: FieldTable::default(),
    };
    let flags = r.u8()?;
    let arguments = r.table()?;
    r.end()?;
    Ok(ExchangeRecord {
        auto_delete: flags & 1 != 0,
        internal: flags & 2 != 0,
        arguments,
        ..rec
    })
}

pub fn encode_queue(r: &QueueRecord) -> StoreResult<Vec<u8>> {
    Writer::default()
        .u8(FORMAT_V1)
        .str(&r.vhost)?
        .str(&r.name)?
        .u8(u8::from(r.auto_delete))
        .table(&r.arguments)?
        .finish_value()
}

pub fn decode_queue(v: &[u8]) -> StoreResult<QueueRecord> {
    let mut r = Reader::new(v);
    r.version()?;
    let vhost = r.string()?;
    let name = r.string()?;
    let flags = r.u8()?;
    let arguments = r.table()?;
    r.end()?;
    Ok(QueueRecord {
        vhost,
        name,
        auto_delete: flags & 1 != 0,
        arguments,
    })
}

pub fn encode_binding(b: &BindingRecord) -> StoreResult<Vec<u8>> {
    Writer::default()
        .u8(FORMAT_V1)
        .str(&b.vhost)?
        .str(&b.source)?
        .str(&b.destination)?
        .u8(kind_byte(b.destination_kind))
        .str(&b.routing_key)?
        .table(&b.arguments)?
        .finish_value()
}

pub fn decode_binding(v: &[u8]) -> StoreResult<BindingRecord> {
    let mut r = Reader::new(v);
    r.version()?;
    let vhost = r.string()?;
    let source = r.string()?;
    let destination = r.string()?;
    let destination_kind = match r.u8()? {
        0 => DestinationKind::Queue,
        1 => DestinationKind::Exchange,
        k => return Err(err(format!("unknown destination kind {k}"))),
    };
    let routing_key = r.string()?;
    let arguments = r.table()?;
    r.end()?;
    Ok(BindingRecord {
        vhost,
        source,
        destination,
        destination_kind,
        routing_key,
        arguments,
    })
}

pub fn encode_message(expires_at: Option<u64>, m: &Message) -> StoreResult<Vec<u8>> {
    let mut w = Writer::with_capacity(64 + m.exchange.len() + m.routing_key.len() + m.body.len());
    w.u8(FORMAT_V1)
        .opt_u64(expires_at)
        .str(&m.exchange)?
        .str(&m.routing_key)?
        .properties(&m.properties)?
        .bytes(&m.body)?;
    w.finish_value()
}

/// (expires_at, message) of a message value.
pub fn decode_message(v: &[u8]) -> StoreResult<(Option<u64>, Message)> {
    let mut r = Reader::new(v);
    r.version()?;
    let expires_at = r.opt_u64()?;
    let exchange = r.string()?;
    let routing_key = r.string()?;
    let properties = r.properties()?;
    let body = Bytes::copy_from_slice(r.bytes()?);
    r.end()?;
    Ok((
        expires_at,
        Message {
            exchange,
            routing_key,
            properties,
            body,
        },
    ))
}
