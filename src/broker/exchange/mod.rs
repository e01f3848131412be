//! Exchanges and their bindings: direct, fanout, topic and headers routing.
//!
//! An exchange only decides which destinations (queues or other exchanges) a message goes
//! to; following exchange-to-exchange bindings and alternate exchanges is the vhost's job.

pub mod headers;
pub mod topic;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::broker::store::DestinationKind;
use crate::error::{Error, Result};
use crate::message::{AMQPValue, FieldTable, Message};

use self::headers::MatchMode;
use self::topic::TopicTrie;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    Direct,
    Fanout,
    Topic,
    Headers,
}

impl ExchangeKind {
    /// The kind named by `exchange.declare`'s `type` field; `x-` plugins are not built in.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "direct" => Ok(ExchangeKind::Direct),
            "fanout" => Ok(ExchangeKind::Fanout),
            "topic" => Ok(ExchangeKind::Topic),
            "headers" => Ok(ExchangeKind::Headers),
            other => Err(Error::command_invalid(format!(
                "unknown exchange type '{other}'"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Direct => "direct",
            ExchangeKind::Fanout => "fanout",
            ExchangeKind::Topic => "topic",
            ExchangeKind::Headers => "headers",
        }
    }
}

impl fmt::Display for ExchangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a binding leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    pub kind: DestinationKind,
    pub name: Arc<str>,
}

impl Destination {
    pub fn queue(name: &str) -> Self {
        Destination {
            kind: DestinationKind::Queue,
            name: Arc::from(name),
        }
    }
    pub fn exchange(name: &str) -> Self {
        Destination {
            kind: DestinationKind::Exchange,
            name: Arc::from(name),
        }
    }
}

/// One binding as listed (for deletes, stats and the store).
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub destination: Destination,
    pub routing_key: String,
    pub arguments: FieldTable,
}

/// The routing table of one exchange, shaped by its kind.
#[derive(Debug)]
enum Table {
    Direct(HashMap<String, Vec<Destination>>),
    Fanout,
    Topic(TopicTrie<Destination>),
    Headers(Vec<(MatchMode, usize)>),
}

#[derive(Debug)]
struct Bindings {
    /// Every binding, in declaration order; the source of truth for fanout and headers.
    all: Vec<Binding>,
    table: Table,
}

/// A declared exchange.
#[derive(Debug)]
pub struct Exchange {
    pub name: String,
    pub kind: ExchangeKind,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
    /// `alternate-exchange` argument: where unroutable messages go.
    pub alternate: Option<String>,
    bindings: RwLock<Bindings>,
}

impl Exchange {
    pub fn new(
        name: &str,
        kind: ExchangeKind,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: FieldTable,
    ) -> Self {
        let alternate = match arguments.inner().get("alternate-exchange") {
            Some(AMQPValue::LongString(s)) => {
                Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
            }
            Some(AMQPValue::ShortString(s)) => Some(s.as_str().to_string()),
            _ => None,
        };
        let table = match kind {
            ExchangeKind::Direct => Table::Direct(HashMap::new()),
            ExchangeKind::Fanout => Table::Fanout,
            ExchangeKind::Topic => Table::Topic(TopicTrie::default()),
            ExchangeKind::Headers => Table::Headers(Vec::new()),
        };
        Exchange {
            name: name.to_string(),
            kind,
            durable,
            auto_delete,
            internal,
            arguments,
            alternate,
            bindings: RwLock::new(Bindings {
                all: Vec::new(),
                table,
            }),
        }
    }

    /// Add a binding; false if an identical one exists (binding is idempotent).
    pub fn bind(&self, binding: Binding) -> Result<bool> {
        let mut b = self.bindings.write();
        if b.all.contains(&binding) {
            return Ok(false);
        }
        match &mut b.table {
            Table::Direct(map) => {
                let dests = map.entry(binding.routing_key.clone()).or_default();
                if !dests.contains(&binding.destination) {
                    dests.push(binding.destination.clone());
                }
            }
            Table::Fanout => {}
            Table::Topic(trie) => {
                trie.insert(&binding.routing_key, binding.destination.clone());
            }
            Table::Headers(_) => {
                headers::match_mode(&binding.arguments).map_err(Error::precondition_failed)?;
            }
        }
        b.all.push(binding);
        rebuild_headers(&mut b);
        Ok(true)
    }

    /// Remove a binding; false if there was none like it.
    pub fn unbind(&self, binding: &Binding) -> bool {
        let mut b = self.bindings.write();
        let Some(pos) = b.all.iter().position(|x| x == binding) else {
            return false;
        };
        b.all.remove(pos);
        let still_bound_by_key = b
            .all
            .iter()
            .any(|x| x.destination == binding.destination && x.routing_key == binding.routing_key);
        match &mut b.table {
            Table::Direct(map) if !still_bound_by_key => {
                if let Some(dests) = map.get_mut(&binding.routing_key) {
                    dests.retain(|d| *d != binding.destination);
                    if dests.is_empty() {
                        map.remove(&binding.routing_key);
                    }
                }
            }
            Table::Topic(trie) if !still_bound_by_key => {
                trie.remove(&binding.routing_key, &binding.destination);
            }
            _ => {}
        }
        rebuild_headers(&mut b);
        true
    }

    /// Remove every binding to `destination`; returns them.
    pub fn unbind_destination(&self, destination: &Destination) -> Vec<Binding> {
        let doomed: Vec<Binding> = self
            .bindings
            .read()
            .all
            .iter()
            .filter(|b| b.destination == *destination)
            .cloned()
            .collect();
        for b in &doomed {
            self.unbind(b);
        }
        doomed
    }

    pub fn bindings(&self) -> Vec<Binding> {
        self.bindings.read().all.clone()
    }

    pub fn has_bindings(&self) -> bool {
        !self.bindings.read().all.is_empty()
    }

    /// The destinations this exchange alone routes `message` to (no e2e, no alternate).
    pub fn route(&self, message: &Message, out: &mut Vec<Destination>) {
        let b = self.bindings.read();
        match &b.table {
            Table::Direct(map) => {
                if let Some(dests) = map.get(&message.routing_key) {
                    out.extend(dests.iter().cloned());
                }
            }
            Table::Fanout => {
                let mut seen = HashSet::new();
                for binding in &b.all {
                    if seen.insert(&binding.destination) {
                        out.push(binding.destination.clone());
                    }
                }
            }
            Table::Topic(trie) => trie.matches(&message.routing_key, out),
            Table::Headers(modes) => {
                let msg_headers = message.properties.headers().as_ref();
                let mut seen = HashSet::new();
                for (mode, index) in modes {
                    let binding = &b.all[*index];
                    if headers::matches(&binding.arguments, *mode, msg_headers)
                        && seen.insert(&binding.destination)
                    {
                        out.push(binding.destination.clone());
                    }
                }
            }
        }
    }
}

/// Headers bindings keep their parsed `x-match` next to the binding index.
fn rebuild_headers(b: &mut Bindings) {
    if let Table::Headers(modes) = &mut b.table {
        modes.clear();
        for (i, binding) in b.all.iter().enumerate() {
            if let Ok(mode) = headers::match_mode(&binding.arguments) {
                modes.push((mode, i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::BasicProperties;
    use bytes::Bytes;

    fn msg(rk: &str) -> Message {
        Message::new("x", rk, BasicProperties::default(), Bytes::new())
    }

    fn binding(q: &str, key: &str) -> Binding {
        Binding {
            destination: Destination::queue(q),
            routing_key: key.into(),
            arguments: FieldTable::default(),
        }
    }

    #[test]
    fn direct_routes_by_exact_key() {
        let x = Exchange::new(
            "d",
            ExchangeKind::Direct,
            false,
            false,
            false,
            FieldTable::default(),
        );
        assert!(x.bind(binding("a", "k")).unwrap());
        assert!(!x.bind(binding("a", "k")).unwrap());
        x.bind(binding("b", "k")).unwrap();
        let mut out = Vec::new();
        x.route(&msg("k"), &mut out);
        assert_eq!(out.len(), 2);
        out.clear();
        x.route(&msg("other"), &mut out);
        assert!(out.is_empty());
        assert!(x.unbind(&binding("a", "k")));
        x.route(&msg("k"), &mut out);
        assert_eq!(out, vec![Destination::queue("b")]);
    }

    #[test]
    fn fanout_ignores_key_and_dedups() {
        let x = Exchange::new(
            "f",
            ExchangeKind::Fanout,
            false,
            false,
            false,
            FieldTable::default(),
        );
        x.bind(binding("a", "1")).unwrap();
        x.bind(binding("a", "2")).unwrap();
        x.bind(binding("b", "")).unwrap();
        let mut out = Vec::new();
        x.route(&msg("whatever"), &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn topic_unbind_keeps_other_keys() {
        let x = Exchange::new(
            "t",
            ExchangeKind::Topic,
            false,
            false,
            false,
            FieldTable::default(),
        );
        x.bind(binding("a", "eu.*")).unwrap();
        x.bind(binding("a", "#.de")).unwrap();
        x.unbind(&binding("a", "eu.*"));
        let mut out = Vec::new();
        x.route(&msg("eu.de"), &mut out);
        assert_eq!(out, vec![Destination::queue("a")]);
        assert_eq!(x.unbind_destination(&Destination::queue("a")).len(), 1);
        assert!(!x.has_bindings());
    }

    #[test]
    fn alternate_exchange_argument_is_read() {
        let mut args = FieldTable::default();
        args.insert(
            "alternate-exchange".into(),
            AMQPValue::LongString("ae".into()),
        );
        let x = Exchange::new("t", ExchangeKind::Topic, false, false, false, args);
        assert_eq!(x.alternate.as_deref(), Some("ae"));
    }
}
