//! mqbridge: a JMS-to-AMQP interoperability bridge with an embedded AMQP 0-9-1 broker core.
//!
//! # Layout
//!
//! - [`net`]: TCP binding, the accept loop every listener shares, plain or TLS streams.
//! - [`tls`]: the rustls server config from the `tls` section; what a handshake tells.
//! - [`message`]: the one internal message model (AMQP 0-9-1 properties, headers, body).
//! - [`mapping`]: pure, table-driven protocol ↔ core message mapping (STOMP headers,
//!   destinations); documented in `docs/mapping.md`.
//! - [`broker`]: the AMQP 0-9-1 core (vhosts, exchanges, queues, consumers, store). It
//!   knows no wire protocol.
//! - [`amqp`]: the AMQP 0-9-1 listener, on the amq-protocol codec.
//! - [`stomp`]: the STOMP 1.0–1.2 listener, on our own codec.
//! - [`openwire`]: the OpenWire codec (ActiveMQ JMS clients) and its JMS message model.
//! - [`routes`]: YAML routes between the core and external brokers or mail, at least once.
//! - [`admin`]: the HTTP listener: management API, Prometheus metrics, health, web UI.
//! - [`reload`]: hot reload of the config file (SIGHUP, file changes).
//! - [`outlet`]: destinations that are not brokers (the SMTP outlet).
//! - [`client`]: what the outbound clients (AMQP connector, STOMP and OpenWire clients, SMTP
//!   outlet) share with routes: error kinds, pipelined confirms, received messages.
//! - [`config`]: the typed YAML configuration, its loading and validation.
//! - [`auth`]: users and password verification (argon2id, RabbitMQ's SHA-256 scheme).
//! - [`error`]: the core error, an AMQP reply code with its scope.
//! - [`selector`]: JMS message selectors, parsed once and evaluated against a [`message::Message`].

pub mod admin;
pub mod amqp;
pub mod auth;
pub mod broker;
pub mod client;
pub mod config;
pub mod error;
pub mod mapping;
pub mod message;
pub mod net;
pub mod openwire;
pub mod outlet;
pub mod reload;
pub mod routes;
pub mod selector;
pub mod server;
pub mod stomp;
pub mod tls;
pub mod topology;
