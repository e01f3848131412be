//! Message selectors and noLocal for the shim's consumers: parsing a selector at consumer
//! creation (an invalid one is an `InvalidSelectorException` before anything reaches the
//! broker), the client-side filter of topic subscriptions, the `x-selector` consume
//! argument that makes mqbridge filter a queue server-side, and the connection identity
//! noLocal compares.
//!
//! Selectors are evaluated by the main crate's [`Selector`] against the core (AMQP) message
//! as received, which is exactly what mqbridge's OpenWire and AMQP listeners evaluate them
//! against (the JMS view of docs/mapping.md §6: `JMSPriority` is `priority`, user
//! properties are headers, ...), so a selector means the same on every path.
//!
//! noLocal: every message a shim connection publishes carries the connection's random
//! [`new_local_id`] as AMQP `app_id` (JMS has no `app_id`, the mapping leaves it unused); a
//! noLocal subscriber drops deliveries carrying its own connection's id. That works with any
//! broker and with `setDisableMessageID(true)`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mqbridge::message::{AMQPValue, FieldTable, Message, ShortString};
use mqbridge::selector::Selector;

use crate::client::{JavaClass, ShimError};

/// The `basic.consume` argument mqbridge's AMQP listener filters a consumer by.
pub const SELECTOR_ARGUMENT: &str = "x-selector";

/// Prefix of every [`new_local_id`].
const LOCAL_ID_PREFIX: &str = "mqbridge-jms:";

/// A fresh identity for one connection: process id, clock and a counter make it unique
/// among the connections of every JVM of a host (and practically across hosts).
pub fn new_local_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{LOCAL_ID_PREFIX}{}-{nanos:x}-{n}", std::process::id())
}

/// Parse a selector; `None`, empty or blank selects everything (JMS: no selector).
/// Returns the trimmed text with the compiled selector.
pub fn parse_selector(text: Option<&str>) -> Result<Option<(String, Selector)>, ShimError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match Selector::parse(text) {
        Ok(selector) => Ok(Some((text.to_owned(), selector))),
        Err(e) => Err(ShimError::Throw(
            JavaClass::InvalidSelector,
            format!("invalid selector '{text}': {e}"),
        )),
    }
}

/// The consume arguments asking mqbridge to filter by `selector`.
pub fn selector_arguments(selector: &str) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        ShortString::from(SELECTOR_ARGUMENT),
        AMQPValue::LongString(selector.into()),
    );
    arguments
}

/// What a topic subscriber accepts: its selector, and with noLocal nothing its own
/// connection published.
pub struct LocalFilter {
    selector: Option<Selector>,
    /// The subscriber's connection's local id (noLocal).
    no_local: Option<Arc<str>>,
}

impl LocalFilter {
    /// `None` when nothing is filtered.
    pub fn new(selector: Option<(String, Selector)>, no_local: Option<Arc<str>>) -> Option<Self> {
        if selector.is_none() && no_local.is_none() {
            return None;
        }
        Some(LocalFilter {
            selector: selector.map(|(_, s)| s),
            no_local,
        })
    }

    /// Whether the subscriber gets `message`.
    pub fn accepts(&self, message: &Message) -> bool {
        if let Some(own) = &self.no_local {
            let from_us = message
                .properties
                .app_id()
                .as_ref()
                .is_some_and(|a| a.as_str() == &**own);
            if from_us {
                return false;
            }
        }
        self.selector.as_ref().is_none_or(|s| s.matches(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqbridge::message::BasicProperties;

    fn message(app_id: Option<&str>, color: &str) -> Message {
        let mut headers = FieldTable::default();
        headers.insert("color".into(), AMQPValue::LongString(color.into()));
        let mut p = BasicProperties::default().with_headers(headers);
        if let Some(a) = app_id {
            p = p.with_app_id(a.into());
        }
        Message::new("amq.topic", "t", p, bytes::Bytes::new())
    }

    #[test]
    fn invalid_selectors_are_invalid_selector_exceptions() {
        match parse_selector(Some("color = ")) {
            Err(ShimError::Throw(JavaClass::InvalidSelector, m)) => {
                assert!(m.contains("'color ='"), "{m}")
            }
            other => panic!("unexpected {:?}", other.map(|o| o.map(|(t, _)| t))),
        }
        assert!(matches!(parse_selector(None), Ok(None)));
        assert!(matches!(parse_selector(Some("  ")), Ok(None)));
        assert!(matches!(parse_selector(Some("a > 1")), Ok(Some(_))));
    }

    #[test]
    fn filter_applies_selector_and_no_local() {
        let own: Arc<str> = new_local_id().into();
        let f = LocalFilter::new(
            parse_selector(Some("color = 'red'")).ok().flatten(),
            Some(own.clone()),
        )
        .map(Some)
        .unwrap_or(None);
        let Some(f) = f else { panic!("a filter") };
        assert!(f.accepts(&message(None, "red")));
        assert!(f.accepts(&message(Some("mqbridge-jms:other"), "red")));
        assert!(!f.accepts(&message(Some(&own), "red")));
        assert!(!f.accepts(&message(None, "blue")));
        assert!(LocalFilter::new(None, None).is_none());
        assert_ne!(new_local_id(), new_local_id());
    }
}
