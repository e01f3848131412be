//! The STOMP 1.0–1.2 listener.
//!
//! | file | owns |
//! |---|---|
//! | `codec.rs` | frames ↔ bytes: grammar, escaping, heart-beat EOLs, limits (grammar in its doc) |
//! | `frame.rs` | the [`Frame`] type |
//! | `listener.rs` | accept loop; per connection the reader loop: CONNECT deadline, heart-beats, alarms, shutdown |
//! | `session.rs` | the connection state machine `handle_frame(frame) -> Next`: CONNECT, SEND, ACK/NACK, transactions, receipts |
//! | `subscribe.rs` | SUBSCRIBE/UNSUBSCRIBE: destinations → queues, durable subscriptions, selectors, prefetch |
//! | `subscription.rs` | one broker session per subscription, its delivery sink, ack ids |
//! | `writer.rs` | the writer task: replies, MESSAGE frames, receipts and heart-beats onto the socket |
//!
//! Per connection there are two tasks: the reader (which calls the broker) and the writer.
//! Deliveries reach the writer from the broker through each subscription's sink without
//! another hop; a SEND is routed in the reader's task, and its RECEIPT is written when the
//! publish confirm fires (after the store made a persistent message durable).
//!
//! The front-end meets the core only through `broker`, `mapping` (headers, destinations)
//! and `selector`; it never imports another front-end.

pub mod client;
pub mod codec;
pub mod frame;
pub mod listener;
pub mod session;
mod subscribe;
pub mod subscription;
pub mod writer;

#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod session_tests;

pub use codec::{Item, Limits, StompCodec, Version};
pub use frame::Frame;
pub use listener::{accept_loop, bind, ListenerContext};
pub use session::SessionContext;
