//! Semantic checks: the raw document (already well-typed) becomes a [`Config`], or the first
//! problem is reported at the line and column of the offending value.
//!
//! What serde already refuses (unknown keys, wrong types, unknown enum names such as a
//! misspelt `hashing_algorithm`) never gets here. What is checked here is what a type cannot
//! say: addresses, sizes, durations, duplicate names, hashes that do not decode, names
//! that do not fit AMQP's 255-byte short strings, and the well-known `x-` arguments.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use crate::tls::TlsFile;

use super::load::{
    RawAmqpListener, RawArguments, RawConfig, RawLimits, RawListener, RawPermission, RawSize,
    RawStorage, RawTls, RawTopology, RawUser,
};
use super::{
    parse_bind_addr, AmqpListenerConfig, ArgValue, Arguments, BindingConfig, CertLogin,
    CertLoginFrom, Config, ConfigError, DestinationType, ExchangeConfig, HashingAlgorithm, Limits,
    ListenerConfig, Listeners, PermissionConfig, QueueConfig, Storage, SyncSetting, TlsConfig,
    TlsVerify, Topology, UserConfig, DEFAULT_CHANNEL_MAX, DEFAULT_FRAME_MAX, DEFAULT_HEARTBEAT,
    MAX_MAX_MESSAGE_SIZE, MIN_FRAME_MAX, MIN_MAX_FRAME_SIZE,
};

/// Builds a [`ConfigError`] at a location of the file being validated.
pub(super) type ErrorAt<'a> = &'a dyn Fn(Location, String) -> ConfigError;

type Result<T> = std::result::Result<T, ConfigError>;

pub(super) fn validate(raw: RawConfig, err: ErrorAt<'_>) -> Result<Config> {
    let tls = raw.tls.map(|t| tls(t, err)).transpose()?;
    let has_tls = tls.is_some();
    let listeners = match raw.listeners {
        Some(l) => Listeners {
            amqp: l
                .amqp
                .map(|a| amqp_listener(a, "listeners.amqp", has_tls, err))
                .transpose()?,
            stomp: l
                .stomp
                .map(|s| listener(s, "listeners.stomp", has_tls, err))
                .transpose()?,
            openwire: l
                .openwire
                .map(|s| listener(s, "listeners.openwire", has_tls, err))
                .transpose()?,
            http: l
                .http
                .map(|s| listener(s, "listeners.http", has_tls, err))
                .transpose()?,
        },
        None => Listeners::default(),
    };
    let storage = raw
        .storage
        .map(|s| storage(s, err))
        .transpose()?
        .unwrap_or_default();
    let limits = raw
        .limits
        .map(|l| limits(l, err))
        .transpose()?
        .unwrap_or_default();
    let vhosts = vhosts(raw.vhosts, err)?;
    let users = users(raw.users.unwrap_or_default(), &vhosts, err)?;
    let topology = raw
        .topology
        .map(|t| topology(t, &vhosts, err))
        .transpose()?
        .unwrap_or_default();
    let connections = super::routes::connections(raw.connections.unwrap_or_default(), err)?;
    let routes = super::routes::routes(raw.routes.unwrap_or_default(), &connections, &vhosts, err)?;
    Ok(Config {
        listeners,
        storage,
        limits,
        vhosts,
        users,
        topology,
        connections,
        routes,
        tls,
    })
}

fn bind(bind: Spanned<String>, key: &str, err: ErrorAt<'_>) -> Result<String> {
    match parse_bind_addr(&bind.value) {
        Ok(_) => Ok(bind.value),
        Err(e) => Err(err(bind.referenced, format!("{key}: {e}"))),
    }
}

/// A listener's `bind` and `tls_bind`: each an address, at least one of them, and
/// `tls_bind` only with a top-level `tls` section.
fn binds(
    at: Location,
    plain: Option<Spanned<String>>,
    tls_bind: Option<Spanned<String>>,
    key: &str,
    has_tls: bool,
    err: ErrorAt<'_>,
) -> Result<(Option<String>, Option<String>)> {
    if plain.is_none() && tls_bind.is_none() {
        return Err(err(
            at,
            format!("{key}: needs bind, tls_bind or both (leave the listener out to turn it off)"),
        ));
    }
    if let Some(t) = &tls_bind {
        if !has_tls {
            return Err(err(
                t.referenced,
                format!("{key}.tls_bind: needs the top-level tls section (cert and key)"),
            ));
        }
    }
    Ok((
        plain
            .map(|b| bind(b, &format!("{key}.bind"), err))
            .transpose()?,
        tls_bind
            .map(|b| bind(b, &format!("{key}.tls_bind"), err))
            .transpose()?,
    ))
}

fn listener(
    raw: Spanned<RawListener>,
    key: &str,
    has_tls: bool,
    err: ErrorAt<'_>,
) -> Result<ListenerConfig> {
    let (bind, tls_bind) = binds(
        raw.referenced,
        raw.value.bind,
        raw.value.tls_bind,
        key,
        has_tls,
        err,
    )?;
    Ok(ListenerConfig { bind, tls_bind })
}

fn tls(raw: Spanned<RawTls>, err: ErrorAt<'_>) -> Result<TlsConfig> {
    let raw = raw.value;
    let path = |p: &Spanned<String>, key: &str| -> Result<PathBuf> {
        if p.value.trim().is_empty() {
            return Err(err(p.referenced, format!("tls.{key}: empty path")));
        }
        Ok(PathBuf::from(&p.value))
    };
    let verify =
        match (&raw.verify, &raw.ca) {
            (Some(v), None) if v.value != TlsVerify::None => return Err(err(
                v.referenced,
                "tls.verify: checking client certificates needs tls.ca (the CAs that sign them)"
                    .to_string(),
            )),
            (Some(v), _) => v.value,
            (None, Some(_)) => TlsVerify::Optional,
            (None, None) => TlsVerify::None,
        };
    let from = raw
        .cert_login_from
        .as_ref()
        .map(|f| f.value)
        .unwrap_or_default();
    if from != CertLoginFrom::SubjectAlternativeName {
        let san_key = match (&raw.cert_login_san_type, &raw.cert_login_san_index) {
            (Some(t), _) => Some((t.referenced, "cert_login_san_type")),
            (None, Some(i)) => Some((i.referenced, "cert_login_san_index")),
            (None, None) => None,
        };
        if let Some((at, key)) = san_key {
            return Err(err(
                at,
                format!("tls.{key}: only used with cert_login_from: subject_alternative_name"),
            ));
        }
    }
    let config = TlsConfig {
        cert: path(&raw.cert, "cert")?,
        key: path(&raw.key, "key")?,
        ca: raw.ca.as_ref().map(|c| path(c, "ca")).transpose()?,
        verify,
        cert_login: CertLogin {
            from,
            san_type: raw.cert_login_san_type.map(|t| t.value).unwrap_or_default(),
            san_index: raw
                .cert_login_san_index
                .map(|i| i.value)
                .unwrap_or_default(),
        },
    };
    if let Err(e) = crate::tls::check(&config) {
        let (at, key) = match e.file {
            TlsFile::Cert => (raw.cert.referenced, "cert"),
            TlsFile::Key => (raw.key.referenced, "key"),
            TlsFile::Ca => match &raw.ca {
                Some(ca) => (ca.referenced, "ca"),
                None => (raw.cert.referenced, "cert"),
            },
        };
        return Err(err(at, format!("tls.{key}: {e}")));
    }
    Ok(config)
}

fn amqp_listener(
    raw: Spanned<RawAmqpListener>,
    key: &str,
    has_tls: bool,
    err: ErrorAt<'_>,
) -> Result<AmqpListenerConfig> {
    let at = raw.referenced;
    let raw = raw.value;
    let frame_max = match raw.frame_max {
        Some(f) if f.value < MIN_FRAME_MAX => {
            return Err(err(
                f.referenced,
                format!(
                    "{key}.frame_max: {} is below AMQP's minimum of {MIN_FRAME_MAX}",
                    f.value
                ),
            ))
        }
        Some(f) => f.value,
        None => DEFAULT_FRAME_MAX,
    };
    let channel_max = match raw.channel_max {
        // AMQP reads 0 as "no limit"; we always announce a real limit, so 0 is refused
        // rather than silently meaning 65535.
        Some(c) if c.value == 0 => {
            return Err(err(
                c.referenced,
                format!("{key}.channel_max: must be from 1 to 65535"),
            ))
        }
        Some(c) => c.value,
        None => DEFAULT_CHANNEL_MAX,
    };
    let (bind, tls_bind) = binds(at, raw.bind, raw.tls_bind, key, has_tls, err)?;
    Ok(AmqpListenerConfig {
        bind,
        tls_bind,
        heartbeat: raw.heartbeat.unwrap_or(DEFAULT_HEARTBEAT),
        frame_max,
        channel_max,
    })
}

fn storage(raw: RawStorage, err: ErrorAt<'_>) -> Result<Storage> {
    let dir = match raw.dir {
        Some(d) if d.value.trim().is_empty() => {
            return Err(err(
                d.referenced,
                "storage.dir: empty; leave it out (or null) for in-memory storage".to_string(),
            ))
        }
        Some(d) => Some(PathBuf::from(d.value)),
        None => None,
    };
    let sync = match raw.sync {
        Some(s) => parse_sync(&s.value)
            .map_err(|reason| err(s.referenced, format!("storage.sync: {reason}")))?,
        None => SyncSetting::EveryBatch,
    };
    Ok(Storage { dir, sync })
}

/// `every-batch`, `<N>ms` or `<N>s`.
fn parse_sync(text: &str) -> std::result::Result<SyncSetting, String> {
    let bad = || format!("'{text}' is not every-batch or an interval such as 50ms");
    let text = text.trim();
    if text == "every-batch" {
        return Ok(SyncSetting::EveryBatch);
    }
    let (number, millis_per_unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(bad());
    };
    let n: u64 = number.trim().parse().map_err(|_| bad())?;
    if n == 0 {
        return Err("a zero interval means every batch; write every-batch".to_string());
    }
    let millis = n.checked_mul(millis_per_unit).ok_or_else(bad)?;
    Ok(SyncSetting::Interval(Duration::from_millis(millis)))
}

fn limits(raw: RawLimits, err: ErrorAt<'_>) -> Result<Limits> {
    let memory_high_watermark = match raw.memory_high_watermark {
        Some(s) => Some(
            resolve_size(&s.value, physical_memory)
                .map_err(|r| err(s.referenced, format!("limits.memory_high_watermark: {r}")))?,
        ),
        None => None,
    };
    let disk_free_limit = match raw.disk_free_limit {
        Some(s) => Some(
            resolve_size(&s.value, || None)
                .map_err(|r| err(s.referenced, format!("limits.disk_free_limit: {r}")))?,
        ),
        None => None,
    };
    let max_connections = match raw.max_connections {
        Some(m) if m.value == 0 => {
            return Err(err(
                m.referenced,
                "limits.max_connections: must be at least 1 (leave it out for no limit)".into(),
            ))
        }
        Some(m) => Some(m.value as usize),
        None => None,
    };
    let max_message_size = match raw.max_message_size {
        Some(s) => {
            let n = resolve_size(&s.value, || None)
                .map_err(|r| err(s.referenced, format!("limits.max_message_size: {r}")))?;
            if n == 0 || n > MAX_MAX_MESSAGE_SIZE {
                return Err(err(
                    s.referenced,
                    format!(
                        "limits.max_message_size: {n} must be from 1 to {MAX_MAX_MESSAGE_SIZE} (512MiB)"
                    ),
                ));
            }
            Some(n)
        }
        None => None,
    };
    let max_frame_size = match raw.max_frame_size {
        Some(s) => {
            let n = resolve_size(&s.value, || None)
                .map_err(|r| err(s.referenced, format!("limits.max_frame_size: {r}")))?;
            // OpenWire announces it as a Java long and the codecs count in usize.
            if n < MIN_MAX_FRAME_SIZE || n > i32::MAX as u64 {
                return Err(err(
                    s.referenced,
                    format!(
                        "limits.max_frame_size: {n} must be from {MIN_MAX_FRAME_SIZE} to {}",
                        i32::MAX
                    ),
                ));
            }
            Some(n)
        }
        None => None,
    };
    Ok(Limits {
        memory_high_watermark,
        disk_free_limit,
        max_connections,
        max_message_size,
        max_frame_size,
    })
}

/// A size in bytes. `total` gives the quantity a fraction is of (`None`: fractions are not
/// allowed for this setting, or the total is unknown on this platform).
fn resolve_size(
    raw: &RawSize,
    total: impl Fn() -> Option<u64>,
) -> std::result::Result<u64, String> {
    let fraction = |f: f64| -> std::result::Result<u64, String> {
        if !(f > 0.0 && f <= 1.0) {
            return Err(format!("the fraction {f} must be above 0 and at most 1"));
        }
        let total = total().ok_or_else(|| {
            "a fraction is only accepted for memory_high_watermark on Linux; give a size such as 1GiB"
                .to_string()
        })?;
        // f64 holds any realistic memory size exactly enough; the cast saturates.
        Ok((total as f64 * f) as u64)
    };
    match raw {
        RawSize::Bytes(n) => Ok(*n),
        RawSize::Fraction(f) => fraction(*f),
        RawSize::Text(text) => match parse_size(text) {
            Some(n) => Ok(n),
            None => match text.trim().parse::<f64>() {
                Ok(f) if text.contains('.') => fraction(f),
                _ => Err(format!(
                    "'{text}' is not a size (a byte count, or a number with B, KB, MB, GB, KiB, MiB or GiB)"
                )),
            },
        },
    }
}

/// `1024`, `64KiB`, `1 GiB`, `50MB` (units are not case-sensitive; KB is 1000, KiB 1024).
pub(super) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

/// Physical memory in bytes (Linux `/proc/meminfo`), for a fractional watermark.
fn physical_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn vhosts(raw: Option<Spanned<Vec<Spanned<String>>>>, err: ErrorAt<'_>) -> Result<Vec<String>> {
    let Some(raw) = raw else {
        return Ok(vec!["/".to_string()]);
    };
    if raw.value.is_empty() {
        // A broker without a vhost accepts no connection at all.
        return Err(err(
            raw.referenced,
            "vhosts: empty; leave it out for the default [\"/\"]".to_string(),
        ));
    }
    let raw = raw.value;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, v) in raw.into_iter().enumerate() {
        check_short_name(&v, &format!("vhosts[{i}]"), false, err)?;
        if !seen.insert(v.value.clone()) {
            return Err(err(
                v.referenced,
                format!("vhosts[{i}]: duplicate vhost '{}'", v.value),
            ));
        }
        out.push(v.value);
    }
    Ok(out)
}

/// A name sent in AMQP short strings: at most 255 bytes, and not empty unless allowed.
fn check_short_name(
    name: &Spanned<String>,
    key: &str,
    allow_empty: bool,
    err: ErrorAt<'_>,
) -> Result<()> {
    if !allow_empty && name.value.is_empty() {
        return Err(err(name.referenced, format!("{key}: must not be empty")));
    }
    if name.value.len() > 255 {
        return Err(err(
            name.referenced,
            format!(
                "{key}: {} bytes long; AMQP names are at most 255 bytes",
                name.value.len()
            ),
        ));
    }
    Ok(())
}

fn users(raw: Vec<RawUser>, vhosts: &[String], err: ErrorAt<'_>) -> Result<Vec<UserConfig>> {
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, u) in raw.into_iter().enumerate() {
        let key = format!("users[{i}]");
        check_short_name(&u.name, &format!("{key}.name"), false, err)?;
        if let Some(line) = first_line.get(&u.name.value) {
            return Err(err(
                u.name.referenced,
                format!(
                    "{key}.name: duplicate user '{}' (first defined on line {line})",
                    u.name.value
                ),
            ));
        }
        first_line.insert(u.name.value.clone(), u.name.referenced.line());
        let algorithm = u
            .hashing_algorithm
            .map_or(HashingAlgorithm::Argon2id, |a| a.value);
        if let Err(reason) = crate::auth::check_password_hash(algorithm, &u.password_hash.value) {
            return Err(err(
                u.password_hash.referenced,
                format!("{key}.password_hash: not a valid {algorithm} hash: {reason}"),
            ));
        }
        let permissions = u
            .permissions
            .map(|p| permissions(p, &key, vhosts, err))
            .transpose()?;
        out.push(UserConfig {
            name: u.name.value,
            password_hash: u.password_hash.value,
            hashing_algorithm: algorithm,
            tags: u.tags.unwrap_or_default(),
            loopback_only: u.loopback_only,
            permissions,
        });
    }
    Ok(out)
}

/// A user's `permissions`: every vhost exists, every regex compiles.
fn permissions(
    raw: HashMap<Spanned<String>, RawPermission>,
    key: &str,
    vhosts: &[String],
    err: ErrorAt<'_>,
) -> Result<BTreeMap<String, PermissionConfig>> {
    // Reported in file order, so the first problem in the file is the one named.
    let mut entries: Vec<_> = raw.into_iter().collect();
    entries.sort_by_key(|(v, _)| (v.referenced.line(), v.referenced.column()));
    let mut out = BTreeMap::new();
    for (vhost, p) in entries {
        if !vhosts.contains(&vhost.value) {
            return Err(err(
                vhost.referenced,
                format!(
                    "{key}.permissions: vhost '{}' is not in vhosts ({})",
                    vhost.value,
                    vhosts.join(", ")
                ),
            ));
        }
        for (name, regex) in [
            ("configure", &p.configure),
            ("write", &p.write),
            ("read", &p.read),
        ] {
            if let Err(e) = regex::Regex::new(&regex.value) {
                // The regex crate's message spans several lines (pattern, caret, reason);
                // its last line is the reason.
                let text = e.to_string();
                let reason = text.lines().last().unwrap_or("invalid regex").trim();
                let reason = reason.strip_prefix("error: ").unwrap_or(reason);
                return Err(err(
                    regex.referenced,
                    format!(
                        "{key}.permissions.{}.{name}: '{}' is not a valid regex: {reason}",
                        vhost.value, regex.value
                    ),
                ));
            }
        }
        out.insert(
            vhost.value,
            PermissionConfig {
                configure: p.configure.value,
                write: p.write.value,
                read: p.read.value,
            },
        );
    }
    Ok(out)
}

fn topology(raw: RawTopology, vhosts: &[String], err: ErrorAt<'_>) -> Result<Topology> {
    let vhost = |v: Option<Spanned<String>>, key: &str| -> Result<String> {
        match v {
            None => Ok("/".to_string()),
            Some(v) if vhosts.contains(&v.value) => Ok(v.value),
            Some(v) => Err(err(
                v.referenced,
                format!(
                    "{key}.vhost: '{}' is not in vhosts ({})",
                    v.value,
                    vhosts.join(", ")
                ),
            )),
        }
    };
    // A vhost named only by default ("/") must exist too.
    let check_default_vhost = |name: &Spanned<String>, key: &str| -> Result<()> {
        if vhosts.iter().any(|v| v == "/") {
            Ok(())
        } else {
            Err(err(
                name.referenced,
                format!("{key}: has no vhost and '/' is not in vhosts"),
            ))
        }
    };

    let mut exchanges = Vec::new();
    let mut seen = HashSet::new();
    for (i, e) in raw.exchanges.unwrap_or_default().into_iter().enumerate() {
        let key = format!("topology.exchanges[{i}]");
        check_short_name(&e.name, &format!("{key}.name"), false, err)?;
        if e.name.value.starts_with("amq.") {
            return Err(err(
                e.name.referenced,
                format!(
                    "{key}.name: '{}': the amq. prefix is reserved for built-in exchanges",
                    e.name.value
                ),
            ));
        }
        if e.vhost.is_none() {
            check_default_vhost(&e.name, &key)?;
        }
        let vhost = vhost(e.vhost, &key)?;
        if !seen.insert((vhost.clone(), e.name.value.clone())) {
            return Err(err(
                e.name.referenced,
                format!(
                    "{key}.name: exchange '{}' is declared twice in vhost '{vhost}'",
                    e.name.value
                ),
            ));
        }
        exchanges.push(ExchangeConfig {
            arguments: arguments(e.arguments, &key, ArgsOf::Exchange, err)?,
            name: e.name.value,
            vhost,
            kind: e.kind,
            durable: e.durable.unwrap_or(true),
            auto_delete: e.auto_delete.unwrap_or(false),
            internal: e.internal.unwrap_or(false),
        });
    }

    let mut queues = Vec::new();
    let mut seen = HashSet::new();
    for (i, q) in raw.queues.unwrap_or_default().into_iter().enumerate() {
        let key = format!("topology.queues[{i}]");
        check_short_name(&q.name, &format!("{key}.name"), false, err)?;
        if q.name.value.starts_with("amq.") {
            return Err(err(
                q.name.referenced,
                format!(
                    "{key}.name: '{}': the amq. prefix is reserved for server-named queues",
                    q.name.value
                ),
            ));
        }
        if q.vhost.is_none() {
            check_default_vhost(&q.name, &key)?;
        }
        let vhost = vhost(q.vhost, &key)?;
        if !seen.insert((vhost.clone(), q.name.value.clone())) {
            return Err(err(
                q.name.referenced,
                format!(
                    "{key}.name: queue '{}' is declared twice in vhost '{vhost}'",
                    q.name.value
                ),
            ));
        }
        queues.push(QueueConfig {
            arguments: arguments(q.arguments, &key, ArgsOf::Queue, err)?,
            name: q.name.value,
            vhost,
            durable: q.durable.unwrap_or(true),
            auto_delete: q.auto_delete.unwrap_or(false),
        });
    }

    let mut bindings = Vec::new();
    for (i, b) in raw.bindings.unwrap_or_default().into_iter().enumerate() {
        let key = format!("topology.bindings[{i}]");
        // The source may be "" (the default exchange) in RabbitMQ definitions, but binding
        // to it is refused by AMQP, so it is refused here too.
        check_short_name(&b.source, &format!("{key}.source"), false, err)?;
        check_short_name(&b.destination, &format!("{key}.destination"), false, err)?;
        let routing_key = match b.routing_key {
            Some(rk) => {
                check_short_name(&rk, &format!("{key}.routing_key"), true, err)?;
                rk.value
            }
            None => String::new(),
        };
        if b.vhost.is_none() {
            check_default_vhost(&b.source, &key)?;
        }
        bindings.push(BindingConfig {
            vhost: vhost(b.vhost, &key)?,
            arguments: arguments(b.arguments, &key, ArgsOf::Binding, err)?,
            source: b.source.value,
            destination: b.destination.value,
            destination_type: b.destination_type.unwrap_or(DestinationType::Queue),
            routing_key,
        });
    }
    Ok(Topology {
        exchanges,
        queues,
        bindings,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArgsOf {
    Exchange,
    Queue,
    Binding,
}

fn arguments(
    raw: Option<RawArguments>,
    key: &str,
    of: ArgsOf,
    err: ErrorAt<'_>,
) -> Result<Arguments> {
    let mut out = BTreeMap::new();
    for (name, value) in raw.unwrap_or_default() {
        let at = |reason: String| {
            err(
                value.referenced,
                format!("{key}.arguments.{name}: {reason}"),
            )
        };
        if name.len() > 255 {
            return Err(at("argument names are at most 255 bytes".to_string()));
        }
        if let Some(long) = value.value.longest_key().filter(|k| k.len() > 255) {
            let start: String = long.chars().take(32).collect();
            return Err(at(format!(
                "the table key '{start}…' is longer than 255 bytes"
            )));
        }
        if of == ArgsOf::Queue {
            check_queue_argument(&name, &value.value).map_err(at)?;
        }
        if of == ArgsOf::Exchange && name == "alternate-exchange" && value.value.as_str().is_none()
        {
            return Err(at("must be an exchange name".to_string()));
        }
        out.insert(name, value.value);
    }
    Ok(Arguments(out))
}

/// The queue arguments whose type RabbitMQ checks at declare (a wrong type is a 406 there);
/// refusing them at load beats a broker that will not start its topology.
fn check_queue_argument(name: &str, value: &ArgValue) -> std::result::Result<(), String> {
    let non_negative = || {
        value
            .as_u64()
            .map(|_| ())
            .ok_or_else(|| "must be a non-negative integer".to_string())
    };
    match name {
        "x-message-ttl" | "x-max-length" | "x-max-length-bytes" | "x-delivery-limit" => {
            non_negative()
        }
        "x-expires" => match value.as_u64() {
            Some(n) if n > 0 => Ok(()),
            _ => Err("must be a positive integer (milliseconds)".to_string()),
        },
        "x-max-priority" => match value.as_u64() {
            Some(n) if (1..=255).contains(&n) => Ok(()),
            _ => Err("must be an integer from 1 to 255".to_string()),
        },
        "x-dead-letter-exchange" | "x-dead-letter-routing-key" => match value.as_str() {
            Some(s) if s.len() <= 255 => Ok(()),
            Some(_) => Err("at most 255 bytes".to_string()),
            None => Err("must be a string".to_string()),
        },
        "x-overflow" => match value.as_str() {
            Some("drop-head" | "reject-publish" | "reject-publish-dlx") => Ok(()),
            _ => Err("must be drop-head, reject-publish or reject-publish-dlx".to_string()),
        },
        _ => Ok(()),
    }
}
