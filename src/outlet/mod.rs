//! Outlets: destinations that are not message brokers.

pub mod smtp;
