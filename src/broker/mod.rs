//! The AMQP 0-9-1 broker core.
pub mod store;
