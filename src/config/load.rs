//! Reading a config file: the raw serde shape of the YAML and [`ConfigError`].
//!
//! The raw types mirror the file one to one, reject unknown keys, and wrap every value a
//! semantic check may refuse in [`Spanned`], so that [`super::validate`] can point at the
//! exact line and column of a bad value, just as serde-saphyr does for a syntax or type
//! error. Nothing outside `config` sees them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::{
    ArgValue, CertLoginFrom, Config, DestinationType, ExchangeType, HashingAlgorithm, SanType,
    TlsVerify,
};

/// A 1-based line and column (in characters) in a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// Why a config file was refused: `FILE:LINE:COLUMN: message`, then the offending line
/// with a caret under the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    origin: String,
    position: Option<Position>,
    message: String,
    snippet: Option<String>,
}

impl ConfigError {
    /// An error at a place in `text` (the whole file), with a snippet of that line.
    pub(super) fn at(origin: &str, text: &str, location: Location, message: String) -> Self {
        let position = (location != Location::UNKNOWN).then(|| Position {
            line: location.line(),
            column: location.column(),
        });
        ConfigError {
            origin: origin.to_string(),
            snippet: position.and_then(|p| snippet(text, p)),
            position,
            message: sanitize(&message),
        }
    }

    /// An error about the file as a whole (it cannot be read).
    fn whole_file(origin: &str, message: String) -> Self {
        ConfigError {
            origin: origin.to_string(),
            position: None,
            message,
            snippet: None,
        }
    }

    /// The file name (or other origin) given to [`load`] or [`parse`].
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Where in the file, when the error is about one place.
    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// The message alone, without the location or the snippet.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(Position { line, column }) => {
                write!(f, "{}:{line}:{column}: {}", self.origin, self.message)?
            }
            None => write!(f, "{}: {}", self.origin, self.message)?,
        }
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Read and validate the config file at `path`. Errors name the path as given.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::whole_file(&origin, format!("cannot read the file: {e}")))?;
    parse(&text, &origin)
}

/// Parse and validate config text; `origin` names it in errors (usually the file path).
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
    // Strict booleans: `yes`/`on` are strings, as in YAML 1.2, so `durable: yes` is an
    // error rather than a silent guess. Snippets are rendered by ConfigError itself so
    // syntax and semantic errors look the same.
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    let raw: RawConfig = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let location = e.location().unwrap_or(Location::UNKNOWN);
        let message = UserMessageFormatter
            .format_message(e.without_snippet())
            .into_owned();
        let message = match key_of_value_at(text, location) {
            Some(key) => format!("{key}: {message}"),
            None => message,
        };
        ConfigError::at(origin, text, location, message)
    })?;
    super::validate::validate(raw, &|location, message| {
        ConfigError::at(origin, text, location, message)
    })
}

/// The key whose value starts at `location`, when that value is on the key's line
/// (`heartbeat: 70000`, `{ type: topix }`).
///
/// serde-saphyr's type errors ("invalid u16", "unknown variant `md5`") point at the value
/// but do not name its key; this names it so the message stands without the snippet.
/// Errors about a key itself (unknown, duplicate or missing field) point at the key, so
/// nothing ends in `:` before their column and they are left alone.
fn key_of_value_at(text: &str, location: Location) -> Option<String> {
    let index = usize::try_from(location.line().checked_sub(1)?).ok()?;
    let line = text.lines().nth(index)?;
    let column = usize::try_from(location.column().checked_sub(1)?).ok()?;
    let before: String = line.chars().take(column).collect();
    let before = before.trim_end().strip_suffix(':')?;
    let start = before
        .rfind(['{', ',', ' ', '\t', '['])
        .map_or(0, |i| i + 1);
    let key = before[start..].trim_matches(['"', '\'']);
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c)))
    .then(|| key.to_string())
}

/// Make a message safe to print on one line of a terminal: a key from the file may hold
/// control characters.
fn sanitize(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// ` 7 |     bnd: x` and a caret line under `column`, or `None` past the end of the text.
fn snippet(text: &str, position: Position) -> Option<String> {
    let index = usize::try_from(position.line.checked_sub(1)?).ok()?;
    let line = text.lines().nth(index)?;
    let number = position.line.to_string();
    let gutter = " ".repeat(number.len());
    // Keep tabs as tabs so the caret lines up however the terminal expands them.
    let pad: String = line
        .chars()
        .take(usize::try_from(position.column.saturating_sub(1)).unwrap_or(0))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!(
        "{gutter} |\n{number} | {}\n{gutter} | {pad}^",
        sanitize(line)
    ))
}

// ---- the raw file shape -------------------------------------------------------------
//
// These types are also the source of the JSON Schema (`mqbridge schema`,
// config/mqbridge.schema.json): their `///` docs are what an editor shows on hover, so
// they describe the file, not the code. `Spanned<T>` is invisible in the file, hence the
// `#[schemars(with = "T")]` on every such field.

/// The mqbridge configuration file. Every section is optional; a listener absent from the
/// file is off. Validate a file with `mqbridge check FILE`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mqbridge configuration")]
pub(super) struct RawConfig {
    /// The protocol listeners; a listener absent here is off.
    #[serde(default)]
    pub listeners: Option<RawListeners>,
    /// Where durable state is kept; absent: everything in memory.
    #[serde(default)]
    pub storage: Option<RawStorage>,
    /// Resource alarms: publishers are blocked above these.
    #[serde(default)]
    pub limits: Option<RawLimits>,
    /// The virtual hosts that exist at start (default `["/"]`).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub vhosts: Option<Spanned<Vec<Spanned<String>>>>,
    /// Users besides the built-in `guest`/`guest` (loopback only).
    #[serde(default)]
    pub users: Option<Vec<RawUser>>,
    /// Exchanges, queues and bindings declared at start, like RabbitMQ definitions.
    #[serde(default)]
    pub topology: Option<RawTopology>,
    /// External brokers and mail servers, by name; routes refer to them by that name.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, super::routes::RawConnection>>")]
    pub connections: Option<BTreeMap<String, Spanned<super::routes::RawConnection>>>,
    /// Routes moving messages between the embedded core and the connections, at least once.
    #[serde(default)]
    pub routes: Option<Vec<super::routes::RawRoute>>,
    /// Certificate, key and client-certificate policy shared by every listener's
    /// `tls_bind` (RabbitMQ's `ssl_options`).
    #[serde(default)]
    #[schemars(with = "Option<RawTls>")]
    pub tls: Option<Spanned<RawTls>>,
}

/// TLS settings shared by every TLS listener. Paths are relative to the working directory;
/// the files are read and checked by `mqbridge check`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    /// PEM file: the server certificate, then any intermediate certificates.
    #[schemars(with = "String")]
    pub cert: Spanned<String>,
    /// PEM file: the private key of `cert` (PKCS#8, PKCS#1 or SEC1).
    #[schemars(with = "String")]
    pub key: Spanned<String>,
    /// PEM file: the CA certificates that sign client certificates. Needed for `verify:
    /// optional` or `required`, and for AMQP's EXTERNAL login.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ca: Option<Spanned<String>>,
    /// Client certificates: `none` (not asked for), `optional` (asked for; if sent it must be
    /// valid) or `required` (clients without a valid one are refused, RabbitMQ's
    /// `fail_if_no_peer_cert`). Default: `optional` when `ca` is set, else `none`.
    #[serde(default)]
    #[schemars(with = "Option<TlsVerify>")]
    pub verify: Option<Spanned<TlsVerify>>,
    /// What names the user of a certificate login (AMQP EXTERNAL, STOMP and OpenWire
    /// without credentials): `common_name` (default), `distinguished_name` (RFC 4514, as
    /// RabbitMQ writes it: `CN=app,O=Acme,C=DE`) or `subject_alternative_name`.
    #[serde(default)]
    #[schemars(with = "Option<CertLoginFrom>")]
    pub cert_login_from: Option<Spanned<CertLoginFrom>>,
    /// With `cert_login_from: subject_alternative_name`: `dns` (default), `ip`, `email` or
    /// `uri`.
    #[serde(default)]
    #[schemars(with = "Option<SanType>")]
    pub cert_login_san_type: Option<Spanned<SanType>>,
    /// With `cert_login_from: subject_alternative_name`: which name of that type, from 0
    /// (default 0).
    #[serde(default)]
    #[schemars(with = "Option<usize>")]
    pub cert_login_san_index: Option<Spanned<usize>>,
}

/// The protocol listeners.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListeners {
    /// AMQP 0-9-1 (RabbitMQ clients), usually `0.0.0.0:5672` (AMQPS: `tls_bind`, 5671).
    #[serde(default)]
    #[schemars(with = "Option<RawAmqpListener>")]
    pub amqp: Option<Spanned<RawAmqpListener>>,
    /// STOMP 1.0-1.2, usually `0.0.0.0:61613` (over TLS: `tls_bind`, 61614).
    #[serde(default)]
    #[schemars(with = "Option<RawListener>")]
    pub stomp: Option<Spanned<RawListener>>,
    /// OpenWire (ActiveMQ JMS clients), usually `0.0.0.0:61616` (`ssl://`: `tls_bind`, 61617).
    #[serde(default)]
    #[schemars(with = "Option<RawListener>")]
    pub openwire: Option<Spanned<RawListener>>,
    /// HTTP API, metrics and health checks, usually `127.0.0.1:15672` (HTTPS: `tls_bind`,
    /// 15671).
    #[serde(default)]
    #[schemars(with = "Option<RawListener>")]
    pub http: Option<Spanned<RawListener>>,
}

/// A listener that only needs an address.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["bind"]}, {"required": ["tls_bind"]}]))]
pub(super) struct RawListener {
    /// `host:port`: an IP address (IPv6 in brackets, `[::1]:61613`) or `localhost`; port 0
    /// picks a free port, logged at start. Absent or null: no plain listener (TLS only).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub bind: Option<Spanned<String>>,
    /// `host:port` of a TLS listener for the same protocol, next to the plain one; needs the
    /// top-level `tls`. Usual ports: STOMP 61614, OpenWire 61617 (`ssl://`), HTTPS 15671.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tls_bind: Option<Spanned<String>>,
}

/// The AMQP 0-9-1 listener and the tuning it proposes to clients.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["bind"]}, {"required": ["tls_bind"]}]))]
pub(super) struct RawAmqpListener {
    /// `host:port`: an IP address (IPv6 in brackets, `[::]:5672`) or `localhost`; port 0
    /// picks a free port, logged at start. Absent or null: no plain listener (AMQPS only).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub bind: Option<Spanned<String>>,
    /// `host:port` of the AMQPS (TLS) listener, usually `0.0.0.0:5671`; needs the top-level
    /// `tls`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tls_bind: Option<Spanned<String>>,
    /// Seconds proposed to clients (default 60); 0 disables heartbeats.
    #[serde(default)]
    pub heartbeat: Option<u16>,
    /// The largest frame in bytes (default 131072, at least 4096).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub frame_max: Option<Spanned<u32>>,
    /// The highest channel number a connection may open (default 2047, at least 1).
    #[serde(default)]
    #[schemars(with = "Option<u16>")]
    pub channel_max: Option<Spanned<u16>>,
}

/// Durable storage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    /// The data directory (relative to the working directory); absent or null: in memory,
    /// nothing survives a restart.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub dir: Option<Spanned<String>>,
    /// `every-batch` (default: a publish is confirmed once on disk) or `"<N>ms"` (fsync at
    /// most every N ms; a crash may lose the last N ms of confirmed messages).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sync: Option<Spanned<String>>,
}

/// Resource alarms.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    /// Publishers are blocked above this much memory: bytes, a fraction of the physical
    /// memory (`0.4`) or a size (`"2GiB"`).
    #[serde(default)]
    #[schemars(with = "Option<RawSize>")]
    pub memory_high_watermark: Option<Spanned<RawSize>>,
    /// Publishers are blocked when the storage disk has less free space: bytes or a size
    /// (`"50MiB"`).
    #[serde(default)]
    #[schemars(with = "Option<RawSize>")]
    pub disk_free_limit: Option<Spanned<RawSize>>,
    /// The most client connections open at once, over every listener (AMQP, STOMP,
    /// OpenWire, the java-shim); a connection beyond it is refused with the protocol's
    /// error. Default: no limit.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_connections: Option<Spanned<u32>>,
    /// The largest message body accepted on every protocol: bytes or a size (`"16MiB"`);
    /// default 128MiB, at most 512MiB (RabbitMQ's `max_message_size`). A larger message is
    /// refused: AMQP channel.close 406, STOMP ERROR, OpenWire ExceptionResponse.
    #[serde(default)]
    #[schemars(with = "Option<RawSize>")]
    pub max_message_size: Option<Spanned<RawSize>>,
    /// The largest STOMP and OpenWire frame: bytes or a size; default 16MiB for STOMP and
    /// 100MiB for OpenWire (announced as `MaxFrameSize`). A larger frame closes the
    /// connection (STOMP: after an ERROR frame). AMQP has its own `listeners.amqp.frame_max`.
    #[serde(default)]
    #[schemars(with = "Option<RawSize>")]
    pub max_frame_size: Option<Spanned<RawSize>>,
}

/// A size as written: `1073741824`, `0.4` or `"1GiB"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(super) enum RawSize {
    Bytes(u64),
    Fraction(f64),
    Text(String),
}

/// A user who may log in with a password.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    /// The user name.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The password's hash: `mqbridge hash-password < pw.txt`, or RabbitMQ's from
    /// `rabbitmqctl export_definitions`.
    #[schemars(with = "String")]
    pub password_hash: Spanned<String>,
    /// How `password_hash` was made (default `argon2id`).
    #[serde(default)]
    #[schemars(with = "Option<HashingAlgorithm>")]
    pub hashing_algorithm: Option<Spanned<HashingAlgorithm>>,
    /// RabbitMQ user tags (`administrator`, `monitoring`, ...).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// May log in from loopback only (default false; true for `guest`).
    #[serde(default)]
    pub loopback_only: Option<bool>,
    /// Per-vhost permissions, RabbitMQ's model: `{ "/": { configure: ".*", write: ".*",
    /// read: ".*" } }`. Each value is a regex matched unanchored against queue and exchange
    /// names (`^orders$` for exactly `orders`); `""` grants nothing. A vhost not listed
    /// may not be opened. Absent: full access to every vhost (configs from before
    /// permissions keep working); `{}`: no vhost at all.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, RawPermission>>")]
    pub permissions: Option<HashMap<Spanned<String>, RawPermission>>,
}

/// A user's permissions on one vhost: three regexes (RabbitMQ's `set_permissions`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPermission {
    /// Declaring and deleting queues and exchanges whose name matches.
    #[schemars(with = "String")]
    pub configure: Spanned<String>,
    /// Publishing to matching exchanges; binding matching queues (and exchanges) as
    /// destination.
    #[schemars(with = "String")]
    pub write: Spanned<String>,
    /// Consuming from, getting from and purging matching queues; binding from matching
    /// exchanges as source.
    #[schemars(with = "String")]
    pub read: Spanned<String>,
}

/// Exchanges, queues and bindings declared at start (idempotent).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTopology {
    #[serde(default)]
    pub exchanges: Option<Vec<RawExchange>>,
    #[serde(default)]
    pub queues: Option<Vec<RawQueue>>,
    #[serde(default)]
    pub bindings: Option<Vec<RawBinding>>,
}

pub(super) type RawArguments = BTreeMap<String, Spanned<ArgValue>>;

/// An exchange declared at start.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExchange {
    /// The exchange name.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The vhost (default `/`); it must be in `vhosts`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub vhost: Option<Spanned<String>>,
    /// The exchange type.
    #[serde(rename = "type")]
    pub kind: ExchangeType,
    /// Survives a restart (default true).
    #[serde(default)]
    pub durable: Option<bool>,
    /// Deleted when its last binding goes (default false).
    #[serde(default)]
    pub auto_delete: Option<bool>,
    /// Clients cannot publish to it, only other exchanges (default false).
    #[serde(default)]
    pub internal: Option<bool>,
    /// Exchange arguments (`alternate-exchange`, ...).
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, ArgValue>>")]
    pub arguments: Option<RawArguments>,
}

/// A queue declared at start.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueue {
    /// The queue name.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The vhost (default `/`); it must be in `vhosts`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub vhost: Option<Spanned<String>>,
    /// Survives a restart (default true).
    #[serde(default)]
    pub durable: Option<bool>,
    /// Deleted when its last consumer goes (default false).
    #[serde(default)]
    pub auto_delete: Option<bool>,
    /// Queue arguments: `x-dead-letter-exchange`, `x-message-ttl`, `x-max-length`, ...
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, ArgValue>>")]
    pub arguments: Option<RawArguments>,
}

/// A binding declared at start; its source and destination may be built in or already exist.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBinding {
    /// The exchange messages come from.
    #[schemars(with = "String")]
    pub source: Spanned<String>,
    /// The queue (or exchange) they go to.
    #[schemars(with = "String")]
    pub destination: Spanned<String>,
    /// What `destination` is (default `queue`).
    #[serde(default)]
    pub destination_type: Option<DestinationType>,
    /// The binding key (default empty); `*` and `#` wildcards for topic exchanges.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub routing_key: Option<Spanned<String>>,
    /// The vhost (default `/`); it must be in `vhosts`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub vhost: Option<Spanned<String>>,
    /// Binding arguments (`x-match` and the headers to match, for headers exchanges).
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, ArgValue>>")]
    pub arguments: Option<RawArguments>,
}
