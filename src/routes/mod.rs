//! Routes: move messages between the embedded core and external brokers or mail, at least once.

pub mod backoff;
pub mod core;
pub mod template;
pub mod translate;
