//! The typed configuration: what a YAML config file means once it has been read and checked.
//!
//! This module owns the *validated* model every other part of the bridge codes against
//! ([`Config`] and its parts). Reading the YAML (and turning serde-saphyr's errors into
//! `FILE:LINE:COLUMN: message`) lives in [`load`]; the semantic checks that turn the raw,
//! span-carrying document into these types live in [`validate`]. A [`Config`] that exists
//! has passed every check, so its users never re-validate: a bind address parses, a size
//! is in bytes, a password hash decodes.
//!
//! The file shape (see `config/mqbridge.yaml` and `config/examples/`):
//!
//! ```yaml
//! listeners:            # a listener absent from the file is off
//!   amqp: { bind: "0.0.0.0:5672", tls_bind: "0.0.0.0:5671", heartbeat: 60, frame_max: 131072, channel_max: 2047 }
//!   stomp: { bind: "0.0.0.0:61613" }
//!   openwire: { tls_bind: "0.0.0.0:61617" }          # TLS only
//! tls: { cert: server.pem, key: server.key, ca: ca.pem, verify: optional }
//! storage: { dir: ./data, sync: every-batch }     # or sync: 50ms
//! limits: { memory_high_watermark: 0.4, disk_free_limit: 50MiB, max_message_size: 16MiB }
//! vhosts: ["/"]
//! users:
//!   - { name: orders-app, password_hash: "$argon2id$...", hashing_algorithm: argon2id,
//!       permissions: { "/": { configure: "^orders", write: ".*", read: ".*" } } }
//! topology:
//!   exchanges: [ { name: orders, type: topic } ]
//!   queues: [ { name: orders, arguments: { x-dead-letter-exchange: dlx } } ]
//!   bindings: [ { source: orders, destination: orders, routing_key: "eu.#" } ]
//! ```

mod load;
mod routes;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::message::{AMQPValue, FieldArray, FieldTable, LongString};

pub use load::{load, parse, ConfigError, Position};
pub use routes::{
    parse_backoff, parse_duration, ConnectionConfig, ConnectionKind, HeaderMapping, MailTemplate,
    RetryPolicy, RouteConfig, Secret, SourceAddress, SourceConfig, TargetAddress, TargetConfig,
    DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, DEFAULT_IN_FLIGHT,
};
pub use schema::{schema, schema_json};

/// The default AMQP heartbeat the server proposes, in seconds (RabbitMQ's default).
pub const DEFAULT_HEARTBEAT: u16 = 60;
/// The default largest frame the server accepts, in bytes (RabbitMQ's default).
pub const DEFAULT_FRAME_MAX: u32 = 131_072;
/// The default highest channel number a connection may open (RabbitMQ's default).
pub const DEFAULT_CHANNEL_MAX: u16 = 2047;
/// The smallest `frame_max` AMQP 0-9-1 allows a peer to negotiate.
pub const MIN_FRAME_MAX: u32 = 4096;

/// The whole, validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listeners: Listeners,
    pub storage: Storage,
    pub limits: Limits,
    /// The virtual hosts that exist at start; never empty after loading (default `["/"]`).
    pub vhosts: Vec<String>,
    /// Users from the file. The built-in `guest` is not in here; [`crate::auth::Users`] adds it.
    pub users: Vec<UserConfig>,
    pub topology: Topology,
    /// External brokers and mail servers, by name.
    pub connections: Vec<ConnectionConfig>,
    /// Routes between the core and the connections.
    pub routes: Vec<RouteConfig>,
    /// Certificate and key for every listener's `tls_bind`; `None`: no TLS listener.
    pub tls: Option<TlsConfig>,
}

impl Config {
    /// The connection with this name.
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }
}

impl Default for Config {
    /// No listener, in-memory storage, the `/` vhost, no users, no topology. Handy for tests,
    /// which then set the listeners they need (usually bound to port 0).
    fn default() -> Self {
        Config {
            listeners: Listeners::default(),
            storage: Storage::default(),
            limits: Limits::default(),
            vhosts: vec!["/".to_string()],
            users: Vec::new(),
            topology: Topology::default(),
            connections: Vec::new(),
            routes: Vec::new(),
            tls: None,
        }
    }
}

/// The protocol listeners; `None` means the listener is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listeners {
    pub amqp: Option<AmqpListenerConfig>,
    pub stomp: Option<ListenerConfig>,
    pub openwire: Option<ListenerConfig>,
    pub http: Option<ListenerConfig>,
}

/// A listener that only needs an address.
///
/// At least one of `bind` and `tls_bind` is set (checked at load); both may be, for the
/// plain and the TLS listener side by side, as RabbitMQ runs 5672 and 5671.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// The plain listener, as written in the file: `host:port`, `[::1]:port` or
    /// `localhost:port`. Checked at load. `None`: TLS only.
    pub bind: Option<String>,
    /// The TLS listener for the same protocol (needs the top-level `tls`).
    pub tls_bind: Option<String>,
}

impl ListenerConfig {
    /// A plain listener on `bind`.
    pub fn new(bind: impl Into<String>) -> Self {
        ListenerConfig {
            bind: Some(bind.into()),
            tls_bind: None,
        }
    }

    /// The plain listener's address, if there is one (see [`parse_bind_addr`]).
    pub fn bind_addr(&self) -> Option<Result<SocketAddr, BindAddrError>> {
        self.bind.as_deref().map(parse_bind_addr)
    }

    /// The TLS listener's address, if there is one.
    pub fn tls_bind_addr(&self) -> Option<Result<SocketAddr, BindAddrError>> {
        self.tls_bind.as_deref().map(parse_bind_addr)
    }
}

/// The AMQP 0-9-1 listener and the tuning values it proposes in `connection.tune`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpListenerConfig {
    /// The plain listener (see [`ListenerConfig::bind`]); `None`: TLS only.
    pub bind: Option<String>,
    /// The AMQPS listener (see [`ListenerConfig::tls_bind`]).
    pub tls_bind: Option<String>,
    /// Seconds; 0 disables heartbeats.
    pub heartbeat: u16,
    /// Bytes, at least [`MIN_FRAME_MAX`].
    pub frame_max: u32,
    /// At least 1.
    pub channel_max: u16,
}

impl AmqpListenerConfig {
    /// A listener on `bind` with RabbitMQ's default tuning.
    pub fn new(bind: impl Into<String>) -> Self {
        AmqpListenerConfig {
            bind: Some(bind.into()),
            tls_bind: None,
            heartbeat: DEFAULT_HEARTBEAT,
            frame_max: DEFAULT_FRAME_MAX,
            channel_max: DEFAULT_CHANNEL_MAX,
        }
    }

    /// The plain listener's address, if there is one (see [`parse_bind_addr`]).
    pub fn bind_addr(&self) -> Option<Result<SocketAddr, BindAddrError>> {
        self.bind.as_deref().map(parse_bind_addr)
    }

    /// The AMQPS listener's address, if there is one.
    pub fn tls_bind_addr(&self) -> Option<Result<SocketAddr, BindAddrError>> {
        self.tls_bind.as_deref().map(parse_bind_addr)
    }
}

/// The TLS settings all TLS listeners share (RabbitMQ's `ssl_options`). The PEM files were
/// read and checked at load (cert and key match, the CA file holds certificates); they are
/// read again when the listeners start, so a renewed certificate needs only a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM: the server certificate, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM: the CAs that sign client certificates; required unless `verify` is `none`.
    pub ca: Option<PathBuf>,
    pub verify: TlsVerify,
    /// Which part of a verified client certificate names its user.
    pub cert_login: CertLogin,
}

/// Where a certificate login takes its user name (RabbitMQ's `ssl_cert_login_from`,
/// `ssl_cert_login_san_type` and `ssl_cert_login_san_index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertLogin {
    pub from: CertLoginFrom,
    /// With [`CertLoginFrom::SubjectAlternativeName`]: the kind of name to use...
    pub san_type: SanType,
    /// ...and which one of that kind, from 0.
    pub san_index: usize,
}

/// The certificate field a certificate login reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertLoginFrom {
    /// The subject's common name (CN); several are joined with `,`.
    #[default]
    CommonName,
    /// The whole subject in RFC 4514 form, as RabbitMQ writes it (`CN=app,O=Acme,C=DE`).
    DistinguishedName,
    /// One of the subject alternative names (`cert_login_san_type`, `cert_login_san_index`).
    #[serde(alias = "subject_alt_name")]
    SubjectAlternativeName,
}

/// A subject alternative name's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SanType {
    #[default]
    Dns,
    Ip,
    Email,
    Uri,
}

/// Whether TLS clients must present a certificate signed by `ca`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsVerify {
    /// No client certificate is asked for.
    None,
    /// A client certificate is asked for and, if sent, must be valid; clients without one
    /// are accepted (RabbitMQ's `verify_peer` with `fail_if_no_peer_cert = false`).
    Optional,
    /// Clients without a valid certificate are refused in the TLS handshake (RabbitMQ's
    /// `fail_if_no_peer_cert = true`).
    Required,
}

/// Why a `bind` string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid bind address '{bind}': {reason}")]
pub struct BindAddrError {
    pub bind: String,
    pub reason: String,
}

/// Parse a listener address: `1.2.3.4:5672`, `0.0.0.0:5672`, `[::1]:5672`, `[::]:5672` or
/// `localhost:5672` (which means 127.0.0.1).
///
/// No other host name is accepted: resolving names at bind time would make the listener's
/// address depend on DNS, and a name resolving to several addresses has no single meaning.
pub fn parse_bind_addr(bind: &str) -> Result<SocketAddr, BindAddrError> {
    let err = |reason: &str| BindAddrError {
        bind: bind.to_string(),
        reason: reason.to_string(),
    };
    if let Ok(addr) = bind.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = bind.rsplit_once(':') else {
        return Err(err("expected host:port, e.g. 0.0.0.0:5672 or [::1]:5672"));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| err("the port must be a number from 0 to 65535"))?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if host.contains(':') && !host.starts_with('[') {
        return Err(err("an IPv6 address must be in brackets, e.g. [::1]:5672"));
    }
    if host.is_empty() {
        return Err(err("the host is missing, e.g. 0.0.0.0:5672"));
    }
    Err(err("the host must be an IP address or localhost"))
}

/// Where and how durable state is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Storage {
    /// `None`: in memory only, nothing survives a restart. A relative path is relative to
    /// the working directory (as for any path on a command line), not to the config file.
    pub dir: Option<PathBuf>,
    pub sync: SyncSetting,
}

/// When the store fsyncs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncSetting {
    /// Every write batch is synced before it is confirmed (`every-batch`).
    #[default]
    EveryBatch,
    /// At most every interval (`"<N>ms"`); a crash may lose the last interval's confirmed writes.
    Interval(Duration),
}

/// Resource alarms, resolved to bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Publishers are blocked above this much memory. A fraction in the file has been
    /// multiplied by the physical memory at load.
    pub memory_high_watermark: Option<u64>,
    /// Publishers are blocked when the storage disk has less free space than this.
    pub disk_free_limit: Option<u64>,
    /// The most client connections open at once, over every listener; `None`: no limit.
    pub max_connections: Option<usize>,
    /// The largest message body accepted; `None`: [`DEFAULT_MAX_MESSAGE_SIZE`].
    pub max_message_size: Option<u64>,
    /// The largest STOMP and OpenWire frame; `None`: each protocol's default.
    pub max_frame_size: Option<u64>,
}

/// RabbitMQ's default `max_message_size` (128 MiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 128 * 1024 * 1024;
/// RabbitMQ's upper bound for `max_message_size` (512 MiB).
pub const MAX_MAX_MESSAGE_SIZE: u64 = 512 * 1024 * 1024;
/// The smallest `max_frame_size` accepted: a STOMP CONNECT or an OpenWire ConnectionInfo
/// with long credentials must still fit.
pub const MIN_MAX_FRAME_SIZE: u64 = 4096;

impl Limits {
    /// The largest message body accepted, in bytes.
    pub fn max_message_size(&self) -> u64 {
        self.max_message_size.unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

/// How a user's `password_hash` was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HashingAlgorithm {
    /// An argon2id PHC string (`$argon2id$v=19$m=...`), as printed by `mqbridge hash-password`.
    Argon2id,
    /// RabbitMQ's scheme: base64(salt(4) ‖ SHA-256(salt ‖ password)), so users exported with
    /// `rabbitmqctl export_definitions` work unchanged.
    RabbitPasswordHashingSha256,
}

impl HashingAlgorithm {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            HashingAlgorithm::Argon2id => "argon2id",
            HashingAlgorithm::RabbitPasswordHashingSha256 => "rabbit_password_hashing_sha256",
        }
    }
}

impl fmt::Display for HashingAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user from the file. Its hash has been checked to decode for its algorithm.
#[derive(Clone, PartialEq, Eq)]
pub struct UserConfig {
    pub name: String,
    pub password_hash: String,
    pub hashing_algorithm: HashingAlgorithm,
    pub tags: Vec<String>,
    /// `None`: the default, which is loopback-only for `guest` and not for anyone else.
    pub loopback_only: Option<bool>,
    /// Per-vhost regexes, checked at load (they compile, the vhosts exist). `None`: the key
    /// is absent, which grants `.*` on every vhost (see [`crate::auth::Grants::AllVhosts`]).
    pub permissions: Option<BTreeMap<String, PermissionConfig>>,
}

/// A user's permissions on one vhost as written: RabbitMQ's three regexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionConfig {
    pub configure: String,
    pub write: String,
    pub read: String,
}

impl PermissionConfig {
    /// `.*` for all three.
    pub fn full() -> Self {
        PermissionConfig {
            configure: ".*".to_string(),
            write: ".*".to_string(),
            read: ".*".to_string(),
        }
    }
}

impl fmt::Debug for UserConfig {
    // The hash is not a secret in the way a password is, but it is offline-crackable, so
    // it stays out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .field("hashing_algorithm", &self.hashing_algorithm)
            .field("tags", &self.tags)
            .field("loopback_only", &self.loopback_only)
            .field("permissions", &self.permissions)
            .finish()
    }
}

/// Exchanges, queues and bindings declared at start, like RabbitMQ definitions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Topology {
    pub exchanges: Vec<ExchangeConfig>,
    pub queues: Vec<QueueConfig>,
    pub bindings: Vec<BindingConfig>,
}

/// The exchange types the core implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeType {
    Direct,
    Fanout,
    Topic,
    Headers,
}

impl ExchangeType {
    /// The AMQP name of the type (`exchange.declare`'s `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeType::Direct => "direct",
            ExchangeType::Fanout => "fanout",
            ExchangeType::Topic => "topic",
            ExchangeType::Headers => "headers",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeConfig {
    pub name: String,
    pub vhost: String,
    pub kind: ExchangeType,
    /// Default `true`: something declared in the config is meant to last.
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: Arguments,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    pub name: String,
    pub vhost: String,
    /// Default `true`.
    pub durable: bool,
    pub auto_delete: bool,
    pub arguments: Arguments,
}

/// What a binding's destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DestinationType {
    Queue,
    Exchange,
}

/// A binding. Its source and destination need not be declared in the file: they may be
/// built in (`amq.topic`) or already exist in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct BindingConfig {
    pub vhost: String,
    pub source: String,
    pub destination: String,
    pub destination_type: DestinationType,
    pub routing_key: String,
    pub arguments: Arguments,
}

/// An `arguments` value, as YAML gives it. Kept apart from AMQP's types so the file's
/// meaning (a YAML integer) is independent of the wire type chosen for it.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(
    description = "An argument value: integers become AMQP long-long ints, strings long strings, maps tables, lists arrays."
)]
pub enum ArgValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<ArgValue>),
    Map(BTreeMap<String, ArgValue>),
}

impl ArgValue {
    /// The AMQP field value: ints become LongLongInt, strings LongString, bools Boolean,
    /// floats Double, maps FieldTable, lists FieldArray, null Void.
    pub fn to_amqp_value(&self) -> AMQPValue {
        match self {
            ArgValue::Null => AMQPValue::Void,
            ArgValue::Bool(b) => AMQPValue::Boolean(*b),
            ArgValue::Int(i) => AMQPValue::LongLongInt(*i),
            ArgValue::Float(f) => AMQPValue::Double(*f),
            ArgValue::String(s) => AMQPValue::LongString(LongString::from(s.as_bytes())),
            ArgValue::List(items) => AMQPValue::FieldArray(FieldArray::from(
                items
                    .iter()
                    .map(ArgValue::to_amqp_value)
                    .collect::<Vec<_>>(),
            )),
            ArgValue::Map(map) => AMQPValue::FieldTable(map_to_field_table(map)),
        }
    }

    /// The value as a non-negative integer, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            ArgValue::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The value as text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ArgValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The longest table key anywhere inside this value, for the 255-byte check.
    fn longest_key(&self) -> Option<&str> {
        match self {
            ArgValue::List(items) => items
                .iter()
                .filter_map(ArgValue::longest_key)
                .max_by_key(|k| k.len()),
            ArgValue::Map(map) => map
                .iter()
                .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.longest_key()))
                .max_by_key(|k| k.len()),
            _ => None,
        }
    }
}

/// An `arguments:` map (`x-dead-letter-exchange`, `x-max-length`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arguments(pub BTreeMap<String, ArgValue>);

impl Arguments {
    pub fn get(&self, key: &str) -> Option<&ArgValue> {
        self.0.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The AMQP table for `queue.declare`/`exchange.declare`/`queue.bind` arguments.
    pub fn to_field_table(&self) -> FieldTable {
        map_to_field_table(&self.0)
    }
}

fn map_to_field_table(map: &BTreeMap<String, ArgValue>) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in map {
        // Keys were checked to fit a short string at load; one that does not (a hand-built
        // Arguments) is skipped rather than panicking in amq-protocol's `From<&str>`.
        if let Ok(key) = crate::message::short_string(key) {
            table.insert(key, value.to_amqp_value());
        }
    }
    table
}

#[cfg(test)]
mod routes_tests;
#[cfg(test)]
mod tests;
