//! OpenWire, ActiveMQ's native protocol, so that stock ActiveMQ JMS clients connect
//! unchanged (facts: `shared/reference/openwire.md`).
//!
//! | module | owns |
//! |---|---|
//! | `codec/` | frames ↔ commands: size-prefixed framing, WireFormatInfo negotiation, loose encoding, modified UTF-8, primitive maps, one module per command (fields gated by version) |
//! | `message.rs` | the JMS view of a wire message: [`JmsValue`] properties, [`JmsBody`] bodies (compressed or not), JMS headers |
//! | `jms.rs` | wire message ↔ the neutral `message::jms::JmsMessage` that `mapping::openwire` maps to the core |
//!
//! Pure: no networking, no broker. Tight encoding and the marshal cache are never
//! negotiated (our WireFormatInfo turns them off, and the client follows).

pub mod codec;
pub mod jms;
pub mod message;

pub use codec::{Command, OpenWireCodec};
pub use message::{JmsBody, JmsValue};
pub mod client;
pub mod listener;
pub mod registry;
pub mod session;
pub mod subscription;
pub mod writer;
