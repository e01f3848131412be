//! Protocol ↔ core message mapping: pure, table-driven, symmetric pairs.
//!
//! This module owns how a front-end's frame headers and destinations become the core's
//! [`Message`](crate::message::Message) (AMQP 0-9-1 properties + headers table + body) and
//! back. It owns *no* I/O, no sessions and no broker state: every function is a pure
//! function of its inputs (the clock comes in as `now_ms`), so the mapping can be tested
//! exhaustively and documented as data (`docs/mapping.md`, `docs/mapping.yaml`, the latter
//! checked row by row by a unit test).
//!
//! - [`stomp`]: STOMP SEND headers → core message, core message → STOMP MESSAGE headers.
//! - [`destination`]: STOMP destination strings (`/queue/`, `/topic/`, `/exchange/`,
//!   `/amq/queue/`, `/temp-queue/`, `/reply-queue/`), where a publish to them goes, JMS
//!   topic wildcards and durable-subscription queue names.
//! - [`smtp`]: core message → mail parts and `X-` headers (the SMTP outlet sends them).
//! - `typed` (private): the JSON encoding that carries typed AMQP header values (ints,
//!   tables, arrays such as `x-death`, bytes…) through text-only protocols.
//!
//! Import rule: mapping imports `message` only: no tokio, no front-end, never `broker`.

pub mod destination;
pub mod openwire;
pub mod smtp;
pub mod stomp;
mod typed;

pub use stomp::MappingError;
