//! The STOMP 1.0–1.2 listener.
//!
//! | file | owns |
//! |---|---|
//! | `codec.rs` | frames ↔ bytes: grammar, escaping, heart-beat EOLs, limits (grammar in its doc) |
//! | `frame.rs` | the [`Frame`] type |

pub mod codec;
pub mod frame;

#[cfg(test)]
mod codec_tests;

pub use codec::{Item, Limits, StompCodec, Version};
pub use frame::Frame;
