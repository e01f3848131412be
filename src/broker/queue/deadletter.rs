//! Dead-lettering: the message a queue gives up on (rejected, expired, over its length
//! limit) is republished to the queue's dead-letter exchange with an `x-death` header
//! written the way RabbitMQ writes it.
//!
//! `x-death` is an array of tables, newest first, one per (queue, reason) pair, each with
//! `count`, `reason`, `queue`, `time`, `exchange`, `routing-keys` and, when the message had
//! a per-message TTL, `original-expiration`. A repeat death in the same queue for the same
//! reason increments `count` and moves the entry to the front. The first death is also
//! recorded in `x-first-death-queue`, `-reason` and `-exchange`, and the latest in
//! `x-last-death-queue`, `-reason` and `-exchange`.

use crate::message::{AMQPValue, FieldArray, FieldTable, LongString, Message, ShortString};

/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Rejected,
    Expired,
    MaxLen,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Rejected => "rejected",
            Reason::Expired => "expired",
            Reason::MaxLen => "maxlen",
        }
    }
}

/// A message to publish to a dead-letter exchange once the queue lock is released.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub exchange: String,
    pub message: Message,
}

fn long(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

fn text_of(v: &AMQPValue) -> Option<&[u8]> {
    match v {
        AMQPValue::LongString(s) => Some(s.as_bytes()),
        AMQPValue::ShortString(s) => Some(s.as_str().as_bytes()),
        _ => None,
    }
}

/// Build the dead-lettered copy of `message` that left `queue` for `reason`.
///
/// `routing_key` is the queue's `x-dead-letter-routing-key`; without one the message keeps
/// its routing key. `now_secs` is the death time (AMQP timestamps are seconds).
pub fn dead_letter(
    message: &Message,
    queue: &str,
    reason: Reason,
    exchange: &str,
    routing_key: Option<&str>,
    now_secs: u64,
) -> DeadLetter {
    let mut properties = message.properties.clone();
    let mut headers = properties.headers().clone().unwrap_or_default();
    let original_expiration = properties.expiration().clone();

    let mut deaths: Vec<AMQPValue> = match headers.inner().get("x-death") {
        Some(AMQPValue::FieldArray(a)) => a.as_slice().to_vec(),
        _ => Vec::new(),
    };
    let same = deaths.iter().position(|d| match d {
        AMQPValue::FieldTable(t) => {
            t.inner().get("queue").and_then(text_of) == Some(queue.as_bytes())
                && t.inner().get("reason").and_then(text_of) == Some(reason.as_str().as_bytes())
        }
        _ => false,
    });
    let entry = match same {
        Some(i) => {
            let mut t = match deaths.remove(i) {
                AMQPValue::FieldTable(t) => t,
                _ => FieldTable::default(),
            };
            let count = match t.inner().get("count") {
                Some(AMQPValue::LongLongInt(n)) => *n + 1,
                Some(AMQPValue::LongInt(n)) => i64::from(*n) + 1,
                _ => 1,
            };
            t.insert(ShortString::from("count"), AMQPValue::LongLongInt(count));
            t.insert(ShortString::from("time"), AMQPValue::Timestamp(now_secs));
            t
        }
        None => {
            let mut t = FieldTable::default();
            t.insert(ShortString::from("count"), AMQPValue::LongLongInt(1));
            t.insert(ShortString::from("reason"), long(reason.as_str()));
            t.insert(ShortString::from("queue"), long(queue));
            t.insert(ShortString::from("time"), AMQPValue::Timestamp(now_secs));
            t.insert(ShortString::from("exchange"), long(&message.exchange));
            let mut keys = FieldArray::default();
            keys.push(long(&message.routing_key));
            if let Some(AMQPValue::FieldArray(cc)) = headers.inner().get("CC") {
                for k in cc.as_slice() {
                    keys.push(k.clone());
                }
            }
            t.insert(
                ShortString::from("routing-keys"),
                AMQPValue::FieldArray(keys),
            );
            if let Some(exp) = &original_expiration {
                t.insert(ShortString::from("original-expiration"), long(exp.as_str()));
            }
            t
        }
    };
    deaths.insert(0, AMQPValue::FieldTable(entry));
    headers.insert(
        ShortString::from("x-death"),
        AMQPValue::FieldArray(deaths.into()),
    );
    if !headers.contains_key("x-first-death-reason") {
        headers.insert(
            ShortString::from("x-first-death-reason"),
            long(reason.as_str()),
        );
        headers.insert(ShortString::from("x-first-death-queue"), long(queue));
        headers.insert(
            ShortString::from("x-first-death-exchange"),
            long(&message.exchange),
        );
    }
    headers.insert(
        ShortString::from("x-last-death-reason"),
        long(reason.as_str()),
    );
    headers.insert(ShortString::from("x-last-death-queue"), long(queue));
    headers.insert(
        ShortString::from("x-last-death-exchange"),
        long(&message.exchange),
    );
    // The per-message TTL is spent: it is kept in x-death, not applied again.
    properties = properties.with_headers(headers);
    let properties = if original_expiration.is_some() {
        let mut p = crate::message::BasicProperties::default();
        copy_without_expiration(&properties, &mut p);
        p
    } else {
        properties
    };
    DeadLetter {
        exchange: exchange.to_string(),
        message: Message {
            exchange: exchange.to_string(),
            routing_key: routing_key.unwrap_or(&message.routing_key).to_string(),
            properties,
            body: message.body.clone(),
        },
    }
}

/// amq-protocol's properties have no setter to clear a field, so rebuild without it.
fn copy_without_expiration(
    from: &crate::message::BasicProperties,
    to: &mut crate::message::BasicProperties,
) {
    let mut p = crate::message::BasicProperties::default();
    if let Some(v) = from.content_type() {
        p = p.with_content_type(v.clone());
    }
    if let Some(v) = from.content_encoding() {
        p = p.with_content_encoding(v.clone());
    }
    if let Some(v) = from.headers() {
        p = p.with_headers(v.clone());
    }
    if let Some(v) = from.delivery_mode() {
        p = p.with_delivery_mode(*v);
    }
    if let Some(v) = from.priority() {
        p = p.with_priority(*v);
    }
    if let Some(v) = from.correlation_id() {
        p = p.with_correlation_id(v.clone());
    }
    if let Some(v) = from.reply_to() {
        p = p.with_reply_to(v.clone());
    }
    if let Some(v) = from.message_id() {
        p = p.with_message_id(v.clone());
    }
    if let Some(v) = from.timestamp() {
        p = p.with_timestamp(*v);
    }
    if let Some(v) = from.kind() {
        p = p.with_type(v.clone());
    }
    if let Some(v) = from.user_id() {
        p = p.with_user_id(v.clone());
    }
    if let Some(v) = from.app_id() {
        p = p.with_app_id(v.clone());
    }
    if let Some(v) = from.cluster_id() {
        p = p.with_cluster_id(v.clone());
    }
    *to = p;
}

/// Whether dead-lettering `message` into `target_queue` would close a cycle with no
/// rejection in it; RabbitMQ drops such messages instead of looping forever.
pub fn is_cycle(message: &Message, target_queue: &str) -> bool {
    let Some(AMQPValue::FieldArray(deaths)) = message.header("x-death") else {
        return false;
    };
    let mut seen_target = false;
    for d in deaths.as_slice() {
        if let AMQPValue::FieldTable(t) = d {
            if t.inner().get("reason").and_then(text_of) == Some(b"rejected") {
                return false;
            }
            if t.inner().get("queue").and_then(text_of) == Some(target_queue.as_bytes()) {
                seen_target = true;
            }
        }
    }
    seen_target
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::BasicProperties;
    use bytes::Bytes;

    fn death_entry(m: &Message, i: usize) -> FieldTable {
        match m.header("x-death") {
            Some(AMQPValue::FieldArray(a)) => match &a.as_slice()[i] {
                AMQPValue::FieldTable(t) => t.clone(),
                other => panic!("not a table: {other:?}"),
            },
            other => panic!("no x-death: {other:?}"),
        }
    }

    #[test]
    fn first_death_writes_rabbitmq_fields() {
        let props = BasicProperties::default().with_expiration("5000".into());
        let m = Message::new("orders", "eu.de", props, Bytes::from_static(b"x"));
        let dl = dead_letter(&m, "q1", Reason::Expired, "dlx", Some("dead"), 1700);
        assert_eq!(dl.exchange, "dlx");
        assert_eq!(dl.message.routing_key, "dead");
        assert!(dl.message.properties.expiration().is_none());
        let e = death_entry(&dl.message, 0);
        assert_eq!(e.inner().get("count"), Some(&AMQPValue::LongLongInt(1)));
        assert_eq!(e.inner().get("reason"), Some(&long("expired")));
        assert_eq!(e.inner().get("queue"), Some(&long("q1")));
        assert_eq!(e.inner().get("exchange"), Some(&long("orders")));
        assert_eq!(e.inner().get("time"), Some(&AMQPValue::Timestamp(1700)));
        assert_eq!(e.inner().get("original-expiration"), Some(&long("5000")));
        let keys = match e.inner().get("routing-keys") {
            Some(AMQPValue::FieldArray(a)) => a.as_slice().to_vec(),
            _ => vec![],
        };
        assert_eq!(keys, vec![long("eu.de")]);
        assert_eq!(dl.message.header("x-first-death-queue"), Some(&long("q1")));
        assert_eq!(
            dl.message.header("x-first-death-reason"),
            Some(&long("expired"))
        );
    }

    #[test]
    fn repeat_death_increments_and_moves_to_front() {
        let m = Message::new("x", "k", BasicProperties::default(), Bytes::new());
        let once = dead_letter(&m, "a", Reason::Rejected, "dlx", None, 1).message;
        let twice = dead_letter(&once, "b", Reason::Expired, "dlx", None, 2).message;
        let thrice = dead_letter(&twice, "a", Reason::Rejected, "dlx", None, 3).message;
        let first = death_entry(&thrice, 0);
        assert_eq!(first.inner().get("queue"), Some(&long("a")));
        assert_eq!(first.inner().get("count"), Some(&AMQPValue::LongLongInt(2)));
        assert_eq!(
            death_entry(&thrice, 1).inner().get("queue"),
            Some(&long("b"))
        );
        assert_eq!(thrice.header("x-first-death-queue"), Some(&long("a")));
        assert_eq!(
            thrice.header("x-last-death-reason"),
            Some(&long("rejected"))
        );
    }

    #[test]
    fn cycles_without_rejection_are_detected() {
        let m = Message::new("x", "k", BasicProperties::default(), Bytes::new());
        let expired = dead_letter(&m, "a", Reason::Expired, "dlx", None, 1).message;
        assert!(is_cycle(&expired, "a"));
        assert!(!is_cycle(&expired, "b"));
        let rejected = dead_letter(&m, "a", Reason::Rejected, "dlx", None, 1).message;
        assert!(!is_cycle(&rejected, "a"));
    }
}
