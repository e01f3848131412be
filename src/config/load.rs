//! Reading a config file: the raw serde shape of the YAML and [`ConfigError`].
//!
//! The raw types mirror the file one to one, reject unknown keys, and wrap every value a
//! semantic check may refuse in [`Spanned`], so that [`super::validate`] can point at the
//! exact line and column of a bad value, just as serde-saphyr does for a syntax or type
//! error. Nothing outside `config` sees them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::{ArgValue, Config, DestinationType, ExchangeType, HashingAlgorithm};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub listeners: Option<RawListeners>,
    #[serde(default)]
    pub storage: Option<RawStorage>,
    #[serde(default)]
    pub limits: Option<RawLimits>,
    #[serde(default)]
    pub vhosts: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub users: Option<Vec<RawUser>>,
    #[serde(default)]
    pub topology: Option<RawTopology>,
    #[serde(default)]
    pub connections: Option<BTreeMap<String, Spanned<super::routes::RawConnection>>>,
    #[serde(default)]
    pub routes: Option<Vec<super::routes::RawRoute>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListeners {
    #[serde(default)]
    pub amqp: Option<RawAmqpListener>,
    #[serde(default)]
    pub stomp: Option<RawListener>,
    #[serde(default)]
    pub openwire: Option<RawListener>,
    #[serde(default)]
    pub http: Option<RawListener>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListener {
    pub bind: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAmqpListener {
    pub bind: Spanned<String>,
    #[serde(default)]
    pub heartbeat: Option<u16>,
    #[serde(default)]
    pub frame_max: Option<Spanned<u32>>,
    #[serde(default)]
    pub channel_max: Option<Spanned<u16>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    #[serde(default)]
    pub dir: Option<Spanned<String>>,
    #[serde(default)]
    pub sync: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    #[serde(default)]
    pub memory_high_watermark: Option<Spanned<RawSize>>,
    #[serde(default)]
    pub disk_free_limit: Option<Spanned<RawSize>>,
}

/// A size as written: `1073741824`, `0.4` or `"1GiB"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawSize {
    Bytes(u64),
    Fraction(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    pub name: Spanned<String>,
    pub password_hash: Spanned<String>,
    #[serde(default)]
    pub hashing_algorithm: Option<Spanned<HashingAlgorithm>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub loopback_only: Option<bool>,
}

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExchange {
    pub name: Spanned<String>,
    #[serde(default)]
    pub vhost: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub kind: ExchangeType,
    #[serde(default)]
    pub durable: Option<bool>,
    #[serde(default)]
    pub auto_delete: Option<bool>,
    #[serde(default)]
    pub internal: Option<bool>,
    #[serde(default)]
    pub arguments: Option<RawArguments>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueue {
    pub name: Spanned<String>,
    #[serde(default)]
    pub vhost: Option<Spanned<String>>,
    #[serde(default)]
    pub durable: Option<bool>,
    #[serde(default)]
    pub auto_delete: Option<bool>,
    #[serde(default)]
    pub arguments: Option<RawArguments>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBinding {
    pub source: Spanned<String>,
    pub destination: Spanned<String>,
    #[serde(default)]
    pub destination_type: Option<DestinationType>,
    #[serde(default)]
    pub routing_key: Option<Spanned<String>>,
    #[serde(default)]
    pub vhost: Option<Spanned<String>>,
    #[serde(default)]
    pub arguments: Option<RawArguments>,
}
