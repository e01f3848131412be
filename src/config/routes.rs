//! The `connections:` and `routes:` sections: external brokers and mail servers by name,
//! and the routes that move messages between them and the embedded core.
//!
//! ```yaml
//! connections:
//!   legacy: { openwire: "failover:(tcp://amq1:61616,tcp://amq2:61616)", user: app, password_env: AMQ_PASSWORD }
//!   legacy-stomp: { stomp: "tcp://amq1:61613", user: app, password_env: AMQ_PASSWORD }
//!   rabbit: { amqp: ["amqp://rabbit1:5672/%2f", "amqp://rabbit2:5672/%2f"], user: bridge, password_env: RABBIT_PASSWORD }
//!   mail: { smtp: "smtp://mail.internal:25", from: "bridge@example.com" }
//! routes:
//!   - name: orders-to-rabbit
//!     from: { connection: legacy, queue: orders, selector: "region = 'EU'" }
//!     to: { connection: rabbit, exchange: orders, routing_key: "{type}" }
//!     headers: { set: { x-source: activemq }, rename: { legacy_id: order_id }, remove: [internal] }
//!     retry: { attempts: 10, backoff: "100ms..30s" }
//!     dead_letter: { queue: orders.failed }          # a queue of the embedded core
//!   - name: alerts-by-mail
//!     from: { queue: alerts }                        # no connection: the embedded core
//!     to: { connection: mail, to: "ops@example.com", subject: "{header.subject|alert}" }
//! ```
//!
//! Everything a route will need at run time is checked here: connection names resolve,
//! each endpoint uses the keys its protocol has (an AMQP source has a queue, an SMTP target
//! has recipients), selectors compile, templates parse, durations read, and `*_env`
//! variables are set. Errors point at the offending value.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::validate::ErrorAt;
use super::ConfigError;
use crate::routes::template::Template;
use crate::selector::Selector;

type Result<T> = std::result::Result<T, ConfigError>;

/// Default number of messages a route keeps in flight (unconfirmed by its target).
pub const DEFAULT_IN_FLIGHT: u16 = 256;
/// Default attempts at a message the target refuses, before it is dead-lettered.
pub const DEFAULT_ATTEMPTS: u32 = 10;
/// Default retry and reconnect backoff: exponential from the first to the second, with jitter.
pub const DEFAULT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(30));

// ---- the validated model ----------------------------------------------------------------

/// A password or other secret: kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A named connection to something outside the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    pub name: String,
    pub kind: ConnectionKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionKind {
    Amqp {
        /// `amqp://host:port/vhost` URLs tried in turn, credentials already inserted.
        urls: Vec<Secret>,
        heartbeat: u16,
    },
    Stomp {
        /// `host:port`, tried in turn.
        addresses: Vec<String>,
        user: Option<String>,
        password: Option<Secret>,
        /// The CONNECT frame's `host` header (RabbitMQ reads it as the vhost).
        host: Option<String>,
        heartbeat: Duration,
        /// The CONNECT `client-id` header (ActiveMQ keys durable subscriptions by it).
        client_id: Option<String>,
    },
    OpenWire {
        /// `host:port`, tried in turn (from `tcp://` or `failover:(...)`).
        addresses: Vec<String>,
        user: Option<String>,
        password: Option<Secret>,
        client_id: Option<String>,
    },
    Smtp {
        /// As lettre reads it: `smtp://` (plain), `smtp://...?tls=required` (STARTTLS),
        /// `smtps://` (TLS).
        url: String,
        user: Option<String>,
        password: Option<Secret>,
        from: String,
        pool_size: u32,
    },
}

impl ConnectionKind {
    /// The protocol's name as the file spells its key.
    pub fn protocol(&self) -> &'static str {
        match self {
            ConnectionKind::Amqp { .. } => "amqp",
            ConnectionKind::Stomp { .. } => "stomp",
            ConnectionKind::OpenWire { .. } => "openwire",
            ConnectionKind::Smtp { .. } => "smtp",
        }
    }
}

/// One route: where messages come from, what is done to them, where they go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    pub name: String,
    pub from: SourceConfig,
    pub to: TargetConfig,
    pub headers: HeaderMapping,
    pub retry: RetryPolicy,
    /// `None`: a message that cannot be delivered is rejected back to its source without
    /// requeue, so the source broker's own dead-lettering applies.
    pub dead_letter: Option<TargetConfig>,
    pub in_flight: u16,
}

/// Where a route reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// `None`: the embedded core.
    pub connection: Option<String>,
    /// The core's vhost (only for the core).
    pub vhost: String,
    pub address: SourceAddress,
    /// The selector text, already checked to compile.
    pub selector: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceAddress {
    Queue(String),
    /// A topic (STOMP or OpenWire sources); with a subscription name, a durable one.
    Topic {
        name: String,
        subscription: Option<String>,
    },
}

/// Where a route (or its dead letters) writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// `None`: the embedded core.
    pub connection: Option<String>,
    pub vhost: String,
    pub address: TargetAddress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetAddress {
    /// The core or an AMQP connection: an exchange and a routing key (`queue: q` is the
    /// default exchange with routing key `q`).
    Exchange {
        exchange: Template,
        routing_key: Template,
    },
    /// A STOMP or OpenWire connection: a queue or topic name.
    Queue(Template),
    Topic(Template),
    /// A STOMP connection: a destination as the peer spells it (`/exchange/x/key`).
    Destination(Template),
    /// An SMTP connection.
    Mail(MailTemplate),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTemplate {
    pub to: Vec<Template>,
    pub cc: Vec<Template>,
    pub bcc: Vec<Template>,
    pub subject: Template,
    /// `None`: the message body is the mail's body (text) or its attachment (binary).
    pub body: Option<Template>,
}

/// Header changes, applied in this order: remove, rename, set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMapping {
    pub remove: Vec<String>,
    pub rename: Vec<(String, String)>,
    pub set: Vec<(String, Template)>,
}

impl HeaderMapping {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.rename.is_empty() && self.set.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts at a message the target refuses (1 = no retry).
    pub attempts: u32,
    /// The first backoff; it doubles (with jitter) up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: DEFAULT_ATTEMPTS,
            initial_backoff: DEFAULT_BACKOFF.0,
            max_backoff: DEFAULT_BACKOFF.1,
        }
    }
}

// ---- the raw file shape -------------------------------------------------------------------

/// One string or a list of strings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A connection: exactly one of `amqp`, `stomp`, `openwire`, `smtp`, with its options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConnection {
    /// AMQP 0-9-1 URL(s), `amqp://[user[:password]@]host[:port][/vhost]`, tried in turn.
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub amqp: Option<Spanned<OneOrMany>>,
    /// STOMP address(es): `tcp://host:port`, `stomp://host:port` or `host:port`.
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub stomp: Option<Spanned<OneOrMany>>,
    /// OpenWire URL: `tcp://host:port` or `failover:(tcp://a:61616,tcp://b:61616)`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub openwire: Option<Spanned<String>>,
    /// SMTP URL: `smtp://host:25`, `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub smtp: Option<Spanned<String>>,
    /// The user name to log in with (AMQP: replaces the URL's).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// The password, in the file; `password_env` keeps it out of the file.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub password: Option<Spanned<String>>,
    /// The name of an environment variable holding the password.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub password_env: Option<Spanned<String>>,
    /// OpenWire and STOMP: the client id (ActiveMQ keys durable subscriptions by it).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub client_id: Option<Spanned<String>>,
    /// STOMP: the CONNECT `host` header (RabbitMQ's vhost).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// AMQP: seconds; STOMP: seconds both ways. 0 turns heartbeats off.
    #[serde(default)]
    #[schemars(with = "Option<u16>")]
    pub heartbeat: Option<Spanned<u16>>,
    /// SMTP: the sender address.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub from: Option<Spanned<String>>,
    /// SMTP: the most connections kept open.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub pool_size: Option<Spanned<u32>>,
}

/// A route: messages from `from`, changed by `headers`, to `to`, at least once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    /// The route's name, unique in the file (logs and reloads refer to it).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Where messages are read: a queue (or topic) of the embedded core or of a connection.
    #[schemars(with = "RawEndpoint")]
    pub from: Spanned<RawEndpoint>,
    /// Where messages go: an exchange or queue of the core or a connection, or mail.
    #[schemars(with = "RawEndpoint")]
    pub to: Spanned<RawEndpoint>,
    /// Header changes, applied in this order: remove, rename, set.
    #[serde(default)]
    pub headers: Option<RawHeaders>,
    /// Retries of a message the target refuses (default 10 attempts, `100ms..30s`).
    #[serde(default)]
    pub retry: Option<RawRetry>,
    /// Where a message goes after its last attempt, or at once when it cannot be
    /// translated; absent: it is rejected back to the source without requeue.
    #[serde(default)]
    #[schemars(with = "Option<RawEndpoint>")]
    pub dead_letter: Option<Spanned<RawEndpoint>>,
    /// Messages sent to the target and not yet confirmed (1 keeps strict order even
    /// around retries).
    #[serde(default)]
    #[schemars(with = "Option<u16>")]
    pub in_flight: Option<Spanned<u16>>,
}

/// A `from`, `to` or `dead_letter` endpoint. Which keys apply depends on the connection's
/// protocol (none: the embedded core).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEndpoint {
    /// A name from `connections:`; absent for the embedded core.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub connection: Option<Spanned<String>>,
    /// The embedded core's vhost (default `/`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub vhost: Option<Spanned<String>>,
    /// A queue: the source to read, or the target (a template, e.g. `orders.{header.region}`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub queue: Option<Spanned<String>>,
    /// A topic (STOMP and OpenWire connections; a template in a target).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub topic: Option<Spanned<String>>,
    /// Target on the core or AMQP: the exchange to publish to (a template).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub exchange: Option<Spanned<String>>,
    /// Target with `exchange`: the routing key (a template; default `{routing_key}`, the
    /// message's own).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub routing_key: Option<Spanned<String>>,
    /// STOMP target: a destination as the peer spells it.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub destination: Option<Spanned<String>>,
    /// Source on a topic: a durable subscription of this name.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub subscription: Option<Spanned<String>>,
    /// Source: a JMS selector.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub selector: Option<Spanned<String>>,
    /// SMTP target: recipients, subject and body (templates).
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub to: Option<Spanned<OneOrMany>>,
    /// SMTP target: Cc recipients (templates).
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub cc: Option<Spanned<OneOrMany>>,
    /// SMTP target: Bcc recipients (templates).
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub bcc: Option<Spanned<OneOrMany>>,
    /// SMTP target: the subject (a template; default `{header.subject|Message from mqbridge}`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub subject: Option<Spanned<String>>,
    /// SMTP target: the mail body (a template); absent: the message body is the text part,
    /// or an attachment when it is binary.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub body: Option<Spanned<String>>,
}

/// Header changes, applied in this order: remove, rename, set.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeaders {
    /// Header names to drop.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub remove: Option<Vec<Spanned<String>>>,
    /// `old: new` header names.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub rename: Option<BTreeMap<String, Spanned<String>>>,
    /// `name: template` values to set.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub set: Option<BTreeMap<String, Spanned<String>>>,
}

/// Retries of a message the target refuses.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    /// Attempts at a message the target refuses, at least 1 (1 = no retry; default 10).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub attempts: Option<Spanned<u32>>,
    /// `"FIRST..MAX"`, e.g. `"100ms..30s"`: exponential with jitter.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub backoff: Option<Spanned<String>>,
}

// ---- validation ---------------------------------------------------------------------------

pub(super) fn connections(
    raw: BTreeMap<String, Spanned<RawConnection>>,
    err: ErrorAt<'_>,
) -> Result<Vec<ConnectionConfig>> {
    raw.into_iter()
        .map(|(name, c)| {
            let at = c.referenced;
            connection(name, c.value, at, err)
        })
        .collect()
}

fn connection(
    name: String,
    raw: RawConnection,
    at: Location,
    err: ErrorAt<'_>,
) -> Result<ConnectionConfig> {
    let key = format!("connections.{name}");
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(err(at, format!("{key}: a connection name has no spaces")));
    }
    let protocols = [
        raw.amqp.is_some(),
        raw.stomp.is_some(),
        raw.openwire.is_some(),
        raw.smtp.is_some(),
    ];
    if protocols.iter().filter(|p| **p).count() != 1 {
        return Err(err(
            at,
            format!("{key}: give exactly one of amqp, stomp, openwire or smtp (the URL)"),
        ));
    }
    let password = password(&raw, &key, err)?;
    let user = raw.user.as_ref().map(|u| u.value.clone());
    let only = |field: &Option<Spanned<String>>, name: &str, protocols: &str| -> Result<()> {
        match field {
            Some(f) => Err(err(
                f.referenced,
                format!("{key}.{name}: only for {protocols} connections"),
            )),
            None => Ok(()),
        }
    };
    let kind = if let Some(urls) = raw.amqp {
        only(&raw.client_id, "client_id", "openwire and stomp")?;
        only(&raw.host, "host", "stomp")?;
        only(&raw.from, "from", "smtp")?;
        let at = urls.referenced;
        let urls = urls
            .value
            .into_vec()
            .iter()
            .map(|u| amqp_url(u, user.as_deref(), password.as_ref()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| err(at, format!("{key}.amqp: {e}")))?;
        if urls.is_empty() {
            return Err(err(at, format!("{key}.amqp: no URL")));
        }
        ConnectionKind::Amqp {
            urls,
            heartbeat: raw.heartbeat.map_or(60, |h| h.value),
        }
    } else if let Some(addresses) = raw.stomp {
        only(&raw.from, "from", "smtp")?;
        let at = addresses.referenced;
        let addresses = addresses
            .value
            .into_vec()
            .iter()
            .map(|a| host_port(a, &["tcp", "stomp"], 61613))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| err(at, format!("{key}.stomp: {e}")))?;
        if addresses.is_empty() {
            return Err(err(at, format!("{key}.stomp: no address")));
        }
        ConnectionKind::Stomp {
            addresses,
            user,
            password,
            host: raw.host.map(|h| h.value),
            heartbeat: Duration::from_secs(raw.heartbeat.map_or(10, |h| u64::from(h.value))),
            client_id: raw.client_id.map(|c| c.value),
        }
    } else if let Some(url) = raw.openwire {
        only(&raw.host, "host", "stomp")?;
        only(&raw.from, "from", "smtp")?;
        if let Some(h) = &raw.heartbeat {
            return Err(err(
                h.referenced,
                format!("{key}.heartbeat: OpenWire negotiates its own inactivity monitor"),
            ));
        }
        let addresses = openwire_addresses(&url.value)
            .map_err(|e| err(url.referenced, format!("{key}.openwire: {e}")))?;
        ConnectionKind::OpenWire {
            addresses,
            user,
            password,
            client_id: raw.client_id.map(|c| c.value),
        }
    } else if let Some(url) = raw.smtp {
        only(&raw.client_id, "client_id", "openwire and stomp")?;
        only(&raw.host, "host", "stomp")?;
        let scheme_ok = ["smtp://", "smtps://"]
            .iter()
            .any(|s| url.value.starts_with(s));
        if !scheme_ok {
            return Err(err(
                url.referenced,
                format!("{key}.smtp: expected smtp://host:port or smtps://host:port"),
            ));
        }
        let Some(from) = raw.from else {
            return Err(err(at, format!("{key}: an smtp connection needs `from`")));
        };
        if !from.value.contains('@') {
            return Err(err(
                from.referenced,
                format!("{key}.from: '{}' is not a mail address", from.value),
            ));
        }
        ConnectionKind::Smtp {
            url: url.value,
            user,
            password,
            from: from.value,
            pool_size: raw.pool_size.map_or(4, |p| p.value.max(1)),
        }
    } else {
        unreachable!("exactly one protocol was checked above")
    };
    Ok(ConnectionConfig { name, kind })
}

fn password(raw: &RawConnection, key: &str, err: ErrorAt<'_>) -> Result<Option<Secret>> {
    match (&raw.password, &raw.password_env) {
        (Some(_), Some(env)) => Err(err(
            env.referenced,
            format!("{key}: give password or password_env, not both"),
        )),
        (Some(p), None) => Ok(Some(Secret(p.value.clone()))),
        (None, Some(env)) => match std::env::var(&env.value) {
            Ok(value) => Ok(Some(Secret(value))),
            Err(_) => Err(err(
                env.referenced,
                format!(
                    "{key}.password_env: the environment variable {} is not set",
                    env.value
                ),
            )),
        },
        (None, None) => Ok(None),
    }
}

/// Check an AMQP URL and put `user`/`password` from the connection into it.
fn amqp_url(
    url: &str,
    user: Option<&str>,
    password: Option<&Secret>,
) -> std::result::Result<Secret, String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "amqp" || *s == "amqps")
        .ok_or_else(|| format!("'{url}' is not an amqp:// or amqps:// URL"))?;
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if hostport.is_empty() {
        return Err(format!("'{url}' has no host"));
    }
    if let Some((_, port)) = hostport
        .rsplit_once(':')
        .filter(|_| !hostport.ends_with(']'))
    {
        port.parse::<u16>()
            .map_err(|_| format!("'{url}': the port '{port}' is not a number"))?;
    }
    let userinfo = match (userinfo, user, password) {
        (_, Some(u), Some(p)) => Some(format!("{}:{}", encode(u), encode(&p.0))),
        (_, Some(u), None) => Some(encode(u)),
        (Some(info), None, Some(p)) => {
            let user = info.split(':').next().unwrap_or(info);
            Some(format!("{user}:{}", encode(&p.0)))
        }
        (info, None, None) => info.map(str::to_string),
        (None, None, Some(_)) => {
            return Err(format!(
                "'{url}': a password but no user (give `user`, or user@ in the URL)"
            ))
        }
    };
    let mut out = format!("{scheme}://");
    if let Some(info) = userinfo {
        out.push_str(&info);
        out.push('@');
    }
    out.push_str(hostport);
    if let Some(path) = path {
        out.push('/');
        out.push_str(path);
    }
    Ok(Secret(out))
}

/// Percent-encode what cannot stand in a URL's user info.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://host:port`, or `host:port`, with one of `schemes`; the port defaults.
fn host_port(
    text: &str,
    schemes: &[&str],
    default_port: u16,
) -> std::result::Result<String, String> {
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if schemes.contains(&scheme) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "'{text}': the scheme '{scheme}' is not one of {}",
                schemes.join(", ")
            ))
        }
        None => text,
    };
    // Options after `?` (ActiveMQ URLs carry them) do not change the address.
    let rest = rest.split(['?', '/']).next().unwrap_or(rest);
    if rest.is_empty() {
        return Err(format!("'{text}' has no host"));
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !rest.ends_with(']') => {
            port.parse::<u16>()
                .map_err(|_| format!("'{text}': the port '{port}' is not a number"))?;
            Ok(rest.to_string())
        }
        _ => Ok(format!("{rest}:{default_port}")),
    }
}

/// `tcp://h:p`, `nio://h:p`, or `failover:(tcp://a:p,tcp://b:p)?options`.
fn openwire_addresses(url: &str) -> std::result::Result<Vec<String>, String> {
    let list = match url.strip_prefix("failover:") {
        Some(rest) => {
            let rest = rest.trim_start_matches('(');
            let end = rest.find(')').unwrap_or(rest.len());
            &rest[..end]
        }
        None => url,
    };
    let addresses = list
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| host_port(a, &["tcp", "nio"], 61616))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if addresses.is_empty() {
        return Err(format!("'{url}' names no broker"));
    }
    Ok(addresses)
}

pub(super) fn routes(
    raw: Vec<RawRoute>,
    connections: &[ConnectionConfig],
    vhosts: &[String],
    err: ErrorAt<'_>,
) -> Result<Vec<RouteConfig>> {
    let mut names = HashSet::new();
    // Source connection with a client id → the route using it: a broker refuses a second
    // connection with the same client id, and each route connects on its own.
    let mut client_ids: BTreeMap<String, String> = BTreeMap::new();
    raw.into_iter()
        .map(|r| {
            let name = r.name.value.clone();
            if name.trim().is_empty() {
                return Err(err(
                    r.name.referenced,
                    "routes: a route needs a name".into(),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(err(
                    r.name.referenced,
                    format!("routes: two routes are named '{name}'"),
                ));
            }
            if let Some(c) = &r.from.value.connection {
                let has_client_id = connections.iter().any(|k| {
                    k.name == c.value
                        && matches!(
                            k.kind,
                            ConnectionKind::OpenWire {
                                client_id: Some(_),
                                ..
                            } | ConnectionKind::Stomp {
                                client_id: Some(_),
                                ..
                            }
                        )
                });
                if has_client_id {
                    if let Some(other) = client_ids.insert(c.value.clone(), name.clone()) {
                        return Err(err(
                            c.referenced,
                            format!(
                                "routes.{name}.from.connection: route '{other}' already reads \
                                 through '{}', whose client_id the broker allows on one \
                                 connection only; give this route its own connection entry \
                                 with another client_id",
                                c.value
                            ),
                        ));
                    }
                }
            }
            route(r, connections, vhosts, err)
        })
        .collect()
}

fn route(
    raw: RawRoute,
    connections: &[ConnectionConfig],
    vhosts: &[String],
    err: ErrorAt<'_>,
) -> Result<RouteConfig> {
    let name = raw.name.value;
    let key = format!("routes.{name}");
    let to_at = raw.to.referenced;
    let from = source(raw.from, &format!("{key}.from"), connections, vhosts, err)?;
    let to = target(raw.to, &format!("{key}.to"), connections, vhosts, err)?;
    if let (None, None, SourceAddress::Queue(queue)) =
        (&from.connection, &to.connection, &from.address)
    {
        let loops = match &to.address {
            TargetAddress::Exchange {
                exchange,
                routing_key,
            } => exchange.as_str().is_empty() && routing_key.as_str() == queue,
            _ => false,
        };
        if loops && from.vhost == to.vhost {
            return Err(err(
                to_at,
                format!("{key}.to: queue '{queue}' is the route's own source; every message would go round forever"),
            ));
        }
    }
    let dead_letter = raw
        .dead_letter
        .map(|d| {
            let k = format!("{key}.dead_letter");
            let at = d.referenced;
            let t = target(d, &k, connections, vhosts, err)?;
            if matches!(t.address, TargetAddress::Mail(_)) {
                return Err(err(at, format!("{k}: dead letters cannot go to mail")));
            }
            Ok(t)
        })
        .transpose()?;
    let headers = raw
        .headers
        .map(|h| headers(h, &format!("{key}.headers"), err))
        .transpose()?
        .unwrap_or_default();
    let retry = match raw.retry {
        Some(r) => retry(r, &format!("{key}.retry"), err)?,
        None => RetryPolicy::default(),
    };
    let in_flight = match raw.in_flight {
        Some(n) if n.value == 0 => {
            return Err(err(n.referenced, format!("{key}.in_flight: at least 1")))
        }
        Some(n) => n.value,
        None => DEFAULT_IN_FLIGHT,
    };
    Ok(RouteConfig {
        name,
        from,
        to,
        headers,
        retry,
        dead_letter,
        in_flight,
    })
}

/// The connection an endpoint names, and its protocol (`None` = the embedded core).
fn endpoint_connection<'c>(
    raw: &RawEndpoint,
    key: &str,
    connections: &'c [ConnectionConfig],
    err: ErrorAt<'_>,
) -> Result<Option<&'c ConnectionConfig>> {
    let Some(name) = &raw.connection else {
        return Ok(None);
    };
    connections
        .iter()
        .find(|c| c.name == name.value)
        .map(Some)
        .ok_or_else(|| {
            let known: Vec<&str> = connections.iter().map(|c| c.name.as_str()).collect();
            err(
                name.referenced,
                format!(
                    "{key}.connection: no connection named '{}' (connections: {})",
                    name.value,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
}

/// Refuse a key that this endpoint's protocol does not have.
fn refuse(
    field: &Option<Spanned<impl Sized>>,
    name: &str,
    key: &str,
    why: &str,
    err: ErrorAt<'_>,
) -> Result<()> {
    match field {
        Some(f) => Err(err(f.referenced, format!("{key}.{name}: {why}"))),
        None => Ok(()),
    }
}

fn core_vhost(raw: &RawEndpoint, key: &str, vhosts: &[String], err: ErrorAt<'_>) -> Result<String> {
    match &raw.vhost {
        None => Ok("/".to_string()),
        Some(v) if vhosts.contains(&v.value) => Ok(v.value.clone()),
        Some(v) => Err(err(
            v.referenced,
            format!("{key}.vhost: '{}' is not in vhosts", v.value),
        )),
    }
}

fn source(
    spanned: Spanned<RawEndpoint>,
    key: &str,
    connections: &[ConnectionConfig],
    vhosts: &[String],
    err: ErrorAt<'_>,
) -> Result<SourceConfig> {
    let at = spanned.referenced;
    let raw = spanned.value;
    let connection = endpoint_connection(&raw, key, connections, err)?;
    let protocol = connection.map_or("core", |c| c.kind.protocol());
    let not_source = "only for targets";
    refuse(&raw.exchange, "exchange", key, not_source, err)?;
    refuse(&raw.routing_key, "routing_key", key, not_source, err)?;
    refuse(&raw.destination, "destination", key, not_source, err)?;
    refuse(&raw.to, "to", key, not_source, err)?;
    refuse(&raw.cc, "cc", key, not_source, err)?;
    refuse(&raw.bcc, "bcc", key, not_source, err)?;
    refuse(&raw.subject, "subject", key, not_source, err)?;
    refuse(&raw.body, "body", key, not_source, err)?;
    if protocol == "smtp" {
        return Err(err(
            at,
            format!("{key}: an smtp connection can only be a target"),
        ));
    }
    if protocol != "core" {
        refuse(
            &raw.vhost,
            "vhost",
            key,
            "only for the embedded core (no connection)",
            err,
        )?;
    }
    let vhost = core_vhost(&raw, key, vhosts, err)?;
    let address = match (&raw.queue, &raw.topic) {
        (Some(q), None) => {
            refuse(
                &raw.subscription,
                "subscription",
                key,
                "only with a topic",
                err,
            )?;
            non_empty(q, &format!("{key}.queue"), err)?;
            SourceAddress::Queue(q.value.clone())
        }
        (None, Some(t)) => {
            if protocol == "core" || protocol == "amqp" {
                return Err(err(
                    t.referenced,
                    format!(
                        "{key}.topic: an {protocol} source reads a queue; bind a queue to the \
                         exchange (e.g. amq.topic) and read that"
                    ),
                ));
            }
            non_empty(t, &format!("{key}.topic"), err)?;
            if let Some(s) = &raw.subscription {
                non_empty(s, &format!("{key}.subscription"), err)?;
                if protocol == "openwire" {
                    let has_client_id = matches!(
                        connection.map(|c| &c.kind),
                        Some(ConnectionKind::OpenWire {
                            client_id: Some(_),
                            ..
                        })
                    );
                    if !has_client_id {
                        return Err(err(
                            s.referenced,
                            format!(
                                "{key}.subscription: a durable subscription needs a client_id on \
                                 the connection"
                            ),
                        ));
                    }
                }
            }
            SourceAddress::Topic {
                name: t.value.clone(),
                subscription: raw.subscription.as_ref().map(|s| s.value.clone()),
            }
        }
        (Some(_), Some(t)) => {
            return Err(err(
                t.referenced,
                format!("{key}: a queue or a topic, not both"),
            ))
        }
        (None, None) => return Err(err(at, format!("{key}: needs a queue (or a topic)"))),
    };
    let selector = match raw.selector {
        Some(s) => {
            Selector::parse(&s.value).map_err(|e| {
                err(
                    s.referenced,
                    format!(
                        "{key}.selector: {} (at character {})",
                        e.message,
                        e.position + 1
                    ),
                )
            })?;
            Some(s.value)
        }
        None => None,
    };
    Ok(SourceConfig {
        connection: connection.map(|c| c.name.clone()),
        vhost,
        address,
        selector,
    })
}

fn non_empty(value: &Spanned<String>, key: &str, err: ErrorAt<'_>) -> Result<()> {
    if value.value.trim().is_empty() {
        return Err(err(value.referenced, format!("{key}: must not be empty")));
    }
    Ok(())
}

fn template(value: &Spanned<String>, key: &str, err: ErrorAt<'_>) -> Result<Template> {
    Template::parse(&value.value).map_err(|e| err(value.referenced, format!("{key}: {e}")))
}

fn templates(
    value: Option<Spanned<OneOrMany>>,
    key: &str,
    err: ErrorAt<'_>,
) -> Result<Vec<Template>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let at = value.referenced;
    value
        .value
        .into_vec()
        .iter()
        .flat_map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|s| Template::parse(&s).map_err(|e| err(at, format!("{key}: {e}"))))
        .collect()
}

fn target(
    spanned: Spanned<RawEndpoint>,
    key: &str,
    connections: &[ConnectionConfig],
    vhosts: &[String],
    err: ErrorAt<'_>,
) -> Result<TargetConfig> {
    let at = spanned.referenced;
    let raw = spanned.value;
    let connection = endpoint_connection(&raw, key, connections, err)?;
    let protocol = connection.map_or("core", |c| c.kind.protocol());
    let not_target = "only for sources";
    refuse(&raw.subscription, "subscription", key, not_target, err)?;
    refuse(&raw.selector, "selector", key, not_target, err)?;
    if protocol != "core" {
        refuse(
            &raw.vhost,
            "vhost",
            key,
            "only for the embedded core (no connection)",
            err,
        )?;
    }
    let vhost = core_vhost(&raw, key, vhosts, err)?;
    let mail_only = format!("only for smtp targets (this is {protocol})");
    if protocol != "smtp" {
        refuse(&raw.to, "to", key, &mail_only, err)?;
        refuse(&raw.cc, "cc", key, &mail_only, err)?;
        refuse(&raw.bcc, "bcc", key, &mail_only, err)?;
        refuse(&raw.subject, "subject", key, &mail_only, err)?;
        refuse(&raw.body, "body", key, &mail_only, err)?;
    }
    let address = match protocol {
        "core" | "amqp" => {
            refuse(
                &raw.topic,
                "topic",
                key,
                &format!("an {protocol} target is an exchange (amq.topic for topics) or a queue"),
                err,
            )?;
            refuse(
                &raw.destination,
                "destination",
                key,
                "only for stomp targets",
                err,
            )?;
            match (&raw.queue, &raw.exchange) {
                (Some(q), None) => {
                    refuse(
                        &raw.routing_key,
                        "routing_key",
                        key,
                        "a queue target has no routing key (use exchange)",
                        err,
                    )?;
                    TargetAddress::Exchange {
                        exchange: Template::parse("").map_err(|e| err(at, e.to_string()))?,
                        routing_key: template(q, &format!("{key}.queue"), err)?,
                    }
                }
                (None, Some(x)) => TargetAddress::Exchange {
                    exchange: template(x, &format!("{key}.exchange"), err)?,
                    routing_key: match &raw.routing_key {
                        Some(k) => template(k, &format!("{key}.routing_key"), err)?,
                        // The message's own routing key, as a shovel forwards it.
                        None => {
                            Template::parse("{routing_key}").map_err(|e| err(at, e.to_string()))?
                        }
                    },
                },
                (Some(_), Some(x)) => {
                    return Err(err(
                        x.referenced,
                        format!("{key}: a queue or an exchange, not both"),
                    ))
                }
                (None, None) => {
                    return Err(err(at, format!("{key}: needs a queue or an exchange")))
                }
            }
        }
        "stomp" | "openwire" => {
            refuse(
                &raw.exchange,
                "exchange",
                key,
                &format!("a {protocol} target is a queue or a topic"),
                err,
            )?;
            refuse(
                &raw.routing_key,
                "routing_key",
                key,
                &format!("a {protocol} target is a queue or a topic"),
                err,
            )?;
            if protocol == "openwire" {
                refuse(
                    &raw.destination,
                    "destination",
                    key,
                    "only for stomp targets",
                    err,
                )?;
            }
            let given = [
                raw.queue.is_some(),
                raw.topic.is_some(),
                raw.destination.is_some(),
            ];
            if given.iter().filter(|g| **g).count() != 1 {
                return Err(err(
                    at,
                    format!(
                        "{key}: needs exactly one of queue, topic{}",
                        if protocol == "stomp" {
                            " or destination"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            if let Some(q) = &raw.queue {
                TargetAddress::Queue(template(q, &format!("{key}.queue"), err)?)
            } else if let Some(t) = &raw.topic {
                TargetAddress::Topic(template(t, &format!("{key}.topic"), err)?)
            } else if let Some(d) = &raw.destination {
                TargetAddress::Destination(template(d, &format!("{key}.destination"), err)?)
            } else {
                unreachable!("one of them was checked to be present")
            }
        }
        "smtp" => {
            for (field, name) in [
                (&raw.queue, "queue"),
                (&raw.topic, "topic"),
                (&raw.exchange, "exchange"),
                (&raw.routing_key, "routing_key"),
                (&raw.destination, "destination"),
            ] {
                refuse(
                    field,
                    name,
                    key,
                    "an smtp target has to/cc/bcc/subject/body",
                    err,
                )?;
            }
            let to = templates(raw.to, &format!("{key}.to"), err)?;
            let cc = templates(raw.cc, &format!("{key}.cc"), err)?;
            let bcc = templates(raw.bcc, &format!("{key}.bcc"), err)?;
            if to.is_empty() && cc.is_empty() && bcc.is_empty() {
                return Err(err(
                    at,
                    format!("{key}: an smtp target needs recipients (to)"),
                ));
            }
            let subject = match &raw.subject {
                Some(s) => template(s, &format!("{key}.subject"), err)?,
                None => Template::parse("{header.subject|Message from mqbridge}")
                    .map_err(|e| err(at, e.to_string()))?,
            };
            let body = raw
                .body
                .as_ref()
                .map(|b| template(b, &format!("{key}.body"), err))
                .transpose()?;
            TargetAddress::Mail(MailTemplate {
                to,
                cc,
                bcc,
                subject,
                body,
            })
        }
        other => unreachable!("protocol {other} is one of the four"),
    };
    Ok(TargetConfig {
        connection: connection.map(|c| c.name.clone()),
        vhost,
        address,
    })
}

fn headers(raw: RawHeaders, key: &str, err: ErrorAt<'_>) -> Result<HeaderMapping> {
    let remove = raw
        .remove
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            non_empty(&r, &format!("{key}.remove"), err)?;
            Ok(r.value)
        })
        .collect::<Result<_>>()?;
    let rename = raw
        .rename
        .unwrap_or_default()
        .into_iter()
        .map(|(old, new)| {
            non_empty(&new, &format!("{key}.rename.{old}"), err)?;
            Ok((old, new.value))
        })
        .collect::<Result<_>>()?;
    let set = raw
        .set
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            Ok((
                name.clone(),
                template(&value, &format!("{key}.set.{name}"), err)?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(HeaderMapping {
        remove,
        rename,
        set,
    })
}

fn retry(raw: RawRetry, key: &str, err: ErrorAt<'_>) -> Result<RetryPolicy> {
    let mut policy = RetryPolicy::default();
    if let Some(a) = raw.attempts {
        if a.value == 0 {
            return Err(err(a.referenced, format!("{key}.attempts: at least 1")));
        }
        policy.attempts = a.value;
    }
    if let Some(b) = raw.backoff {
        let (initial, max) = parse_backoff(&b.value)
            .map_err(|e| err(b.referenced, format!("{key}.backoff: {e}")))?;
        policy.initial_backoff = initial;
        policy.max_backoff = max;
    }
    Ok(policy)
}

/// `"100ms..30s"` or a single `"5s"` (constant).
pub fn parse_backoff(text: &str) -> std::result::Result<(Duration, Duration), String> {
    let (first, max) = match text.split_once("..") {
        Some((a, b)) => (parse_duration(a)?, parse_duration(b)?),
        None => {
            let d = parse_duration(text)?;
            (d, d)
        }
    };
    if first > max {
        return Err(format!(
            "'{text}': the first backoff is longer than the longest"
        ));
    }
    if first.is_zero() {
        return Err(format!("'{text}': the first backoff must be above zero"));
    }
    Ok((first, max))
}

/// `250ms`, `5s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{text}' needs a unit: ms, s, m or h"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 250ms or 5s"))?;
    let millis = match unit.trim() {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(format!("'{text}': the unit must be ms, s, m or h")),
    }
    .ok_or_else(|| format!("'{text}' is too long"))?;
    Ok(Duration::from_millis(millis))
}
