//! Embedded mode, `mqbridge:embedded?config=PATH`: the mqbridge server (the code
//! `mqbridge run --config PATH` runs, [`mqbridge::server::start`]) inside the JVM process,
//! on the shim's tokio runtime, like ActiveMQ's `vm://` broker.
//!
//! This module owns the embedded brokers: at most one per config file (canonical path) per
//! process, started by the first connection naming it and shut down (connections closed,
//! store flushed) when the last connection to it closes, or by [`shutdown_all`] (the Java
//! side calls it from a JVM shutdown hook). The shim reaches the broker through its AMQP
//! listener on loopback (a config without one gets `127.0.0.1:0` added); the config's other
//! listeners (OpenWire, STOMP) serve other clients as they would in `mqbridge run`.
//!
//! URI: `mqbridge:embedded?config=PATH[&user=U&password=P]` (percent-encoded values; the
//! default login is the built-in `guest`/`guest`, loopback-only).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use mqbridge::config::AmqpListenerConfig;
use mqbridge::server::RunningBridge;
use tokio::sync::Mutex;

use crate::client::{connect_url, jms, runtime, ShimError};

/// One running embedded broker and the connections holding it.
struct Embedded {
    bridge: RunningBridge,
    amqp: SocketAddr,
    connections: usize,
}

fn brokers() -> &'static Mutex<HashMap<PathBuf, Embedded>> {
    static BROKERS: OnceLock<Mutex<HashMap<PathBuf, Embedded>>> = OnceLock::new();
    BROKERS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The parts of an embedded URI.
#[derive(Debug, PartialEq, Eq)]
pub struct EmbeddedUri {
    pub config: PathBuf,
    pub user: String,
    pub password: String,
}

/// Parse `mqbridge:embedded?config=PATH[&user=U&password=P]`.
pub fn parse_uri(uri: &str) -> Result<EmbeddedUri, ShimError> {
    let query = uri
        .strip_prefix("mqbridge:embedded")
        .and_then(|rest| rest.strip_prefix('?'))
        .ok_or_else(|| {
            jms(format!(
                "invalid embedded URI {uri:?}: expected mqbridge:embedded?config=PATH"
            ))
        })?;
    let mut config = None;
    let mut user = "guest".to_owned();
    let mut password = "guest".to_owned();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value)
            .ok_or_else(|| jms(format!("invalid percent-encoding in {key}= of {uri:?}")))?;
        match key {
            "config" => config = Some(PathBuf::from(value)),
            "user" => user = value,
            "password" => password = value,
            other => {
                return Err(jms(format!(
                    "unknown parameter {other:?} in embedded URI {uri:?} (config, user, password)"
                )))
            }
        }
    }
    let config = config
        .filter(|c| !c.as_os_str().is_empty())
        .ok_or_else(|| jms(format!("embedded URI {uri:?} has no config=PATH")))?;
    Ok(EmbeddedUri {
        config,
        user,
        password,
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Start (or reuse) the embedded broker of the URI's config and connect to it.
pub fn connect(uri: &str, connect_timeout: Duration) -> Result<i64, ShimError> {
    let parsed = parse_uri(uri)?;
    // The same file named two ways is one broker.
    let key = std::fs::canonicalize(&parsed.config).unwrap_or_else(|_| parsed.config.clone());
    let rt = runtime()?;
    let amqp = rt.block_on(acquire(&key))?;
    let url = format!(
        "amqp://{}:{}@{amqp}",
        encode(&parsed.user),
        encode(&parsed.password)
    );
    match connect_url(url, connect_timeout, Some(key.clone())) {
        Ok(handle) => Ok(handle),
        Err(e) => {
            rt.block_on(release(&key));
            Err(e)
        }
    }
}

/// Take a reference on the broker of `path`, starting it if need be; its AMQP address.
async fn acquire(path: &Path) -> Result<SocketAddr, ShimError> {
    let mut brokers = brokers().lock().await;
    if let Some(e) = brokers.get_mut(path) {
        e.connections += 1;
        return Ok(e.amqp);
    }
    // ConfigError's text is `file:line:col: message` with the offending line.
    let mut config = mqbridge::config::load(path).map_err(|e| jms(e.to_string()))?;
    if config.listeners.amqp.is_none() {
        config.listeners.amqp = Some(AmqpListenerConfig::new("127.0.0.1:0"));
    }
    let bridge = mqbridge::server::start(config).await.map_err(|e| {
        jms(format!(
            "cannot start the embedded broker of {}: {e}",
            path.display()
        ))
    })?;
    let Some(bound) = bridge.amqp_addr else {
        bridge.shutdown().await;
        return Err(jms("the embedded broker has no AMQP listener"));
    };
    // A wildcard bind (0.0.0.0 / ::) is reached on loopback.
    let amqp = if bound.ip().is_unspecified() {
        let ip = if bound.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        SocketAddr::new(ip, bound.port())
    } else {
        bound
    };
    brokers.insert(
        path.to_path_buf(),
        Embedded {
            bridge,
            amqp,
            connections: 1,
        },
    );
    Ok(amqp)
}

/// Drop a connection's reference; the last one shuts the broker down.
pub async fn release(path: &Path) {
    let stopped = {
        let mut brokers = brokers().lock().await;
        let last = match brokers.get_mut(path) {
            Some(e) => {
                e.connections = e.connections.saturating_sub(1);
                e.connections == 0
            }
            None => false,
        };
        if last {
            brokers.remove(path)
        } else {
            None
        }
    };
    if let Some(e) = stopped {
        e.bridge.shutdown().await;
    }
}

/// Shut down every embedded broker (JVM exit): connections closed, stores flushed.
pub fn shutdown_all() -> Result<(), ShimError> {
    let rt = runtime()?;
    rt.block_on(async {
        let all: Vec<Embedded> = brokers().lock().await.drain().map(|(_, e)| e).collect();
        for e in all {
            e.bridge.shutdown().await;
        }
    });
    Ok(())
}

/// How many embedded brokers run (tests).
pub fn running() -> Result<usize, ShimError> {
    Ok(runtime()?.block_on(async { brokers().lock().await.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_embedded_uris() {
        let u = parse_uri("mqbridge:embedded?config=/tmp/a%20b.yaml&user=u%40x&password=p%26q")
            .map_err(|e| e.to_string());
        assert_eq!(
            u,
            Ok(EmbeddedUri {
                config: PathBuf::from("/tmp/a b.yaml"),
                user: "u@x".into(),
                password: "p&q".into()
            })
        );
        let d = parse_uri("mqbridge:embedded?config=c.yaml").map_err(|e| e.to_string());
        assert_eq!(
            d.map(|u| (u.user, u.password)),
            Ok(("guest".into(), "guest".into()))
        );
        for bad in [
            "mqbridge:embedded",
            "mqbridge:embedded?",
            "mqbridge:embedded?config=",
            "mqbridge:embedded?conf=x",
            "mqbridge:embedded?config=%zz",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
        assert_eq!(encode("a b@c"), "a%20b%40c");
    }

    #[test]
    fn a_bad_config_names_file_line_and_column() {
        let dir =
            std::env::temp_dir().join(format!("mqbridge-jni-embedded-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("bad.yaml");
        let written = std::fs::write(&path, "listeners:\n  amqp:\n    bind: [oops\n");
        assert!(written.is_ok());
        let uri = format!("mqbridge:embedded?config={}", path.display());
        match connect(&uri, Duration::from_secs(2)) {
            Err(ShimError::Throw(_, m)) => {
                assert!(m.contains(&format!("{}:", path.display())), "{m}")
            }
            other => panic!("unexpected {:?}", other.map_err(|e| e.to_string())),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
