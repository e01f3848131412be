//! The OpenWire client: consume from and produce to an existing ActiveMQ (routes).
