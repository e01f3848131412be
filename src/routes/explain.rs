//! `mqbridge route test`: run one sample message through a route and tell what each hop
//! made of it, with no side effects (no connection is opened, nothing is sent).
//!
//! The sample is the message as the route's source hands it over, in the core's model,
//! written as YAML or JSON:
//!
//! ```yaml
//! routing_key: orders            # and `exchange:`, both optional
//! properties: { content_type: text/plain, type: order.created, correlation_id: c-1, delivery_mode: 2, priority: 4 }
//! headers: { region: EU, amount: 12, vip: true }
//! body: "hello"                  # or body_base64: "AAEC"
//! ```
//!
//! The hops: the source, the selector, the header mapping, the target address, and the
//! message as the target's protocol would carry it (AMQP properties, STOMP headers, the
//! JMS message over OpenWire, or the mail).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;

use crate::config::{Config, ConnectionKind, RouteConfig, SourceAddress, TargetConfig};
use crate::mapping::smtp::mail_content;
use crate::message::jms::{JmsBody, JmsDestination, JmsValue};
use crate::message::{AMQPValue, BasicProperties, FieldTable, LongString, Message};
use crate::selector::Selector;

use super::template::value_text;
use super::translate::{dead_letter, translate, Outbound, Target};

/// A sample message file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    #[serde(default)]
    exchange: String,
    #[serde(default)]
    routing_key: String,
    #[serde(default)]
    properties: SampleProperties,
    #[serde(default)]
    headers: BTreeMap<String, SampleValue>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleProperties {
    content_type: Option<String>,
    content_encoding: Option<String>,
    correlation_id: Option<String>,
    reply_to: Option<String>,
    expiration: Option<String>,
    message_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    user_id: Option<String>,
    app_id: Option<String>,
    delivery_mode: Option<u8>,
    priority: Option<u8>,
    timestamp: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SampleValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// Read a sample message (YAML or JSON); `origin` names it in errors.
pub fn parse_sample(text: &str, origin: &str) -> Result<Message, String> {
    let sample: Sample = serde_saphyr::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let short =
        |field: &str, v: &Option<String>| -> Result<Option<crate::message::ShortString>, String> {
            v.as_deref()
                .map(crate::message::short_string)
                .transpose()
                .map_err(|e| format!("{origin}: properties.{field}: {e}"))
        };
    let p = &sample.properties;
    let mut props = BasicProperties::default();
    if let Some(v) = short("content_type", &p.content_type)? {
        props = props.with_content_type(v);
    }
    if let Some(v) = short("content_encoding", &p.content_encoding)? {
        props = props.with_content_encoding(v);
    }
    if let Some(v) = short("correlation_id", &p.correlation_id)? {
        props = props.with_correlation_id(v);
    }
    if let Some(v) = short("reply_to", &p.reply_to)? {
        props = props.with_reply_to(v);
    }
    if let Some(v) = short("expiration", &p.expiration)? {
        props = props.with_expiration(v);
    }
    if let Some(v) = short("message_id", &p.message_id)? {
        props = props.with_message_id(v);
    }
    if let Some(v) = short("type", &p.kind)? {
        props = props.with_type(v);
    }
    if let Some(v) = short("user_id", &p.user_id)? {
        props = props.with_user_id(v);
    }
    if let Some(v) = short("app_id", &p.app_id)? {
        props = props.with_app_id(v);
    }
    if let Some(v) = p.delivery_mode {
        props = props.with_delivery_mode(v);
    }
    if let Some(v) = p.priority {
        props = props.with_priority(v);
    }
    if let Some(v) = p.timestamp {
        props = props.with_timestamp(v);
    }
    if !sample.headers.is_empty() {
        let mut table = FieldTable::default();
        for (name, value) in &sample.headers {
            let key = crate::message::short_string(name)
                .map_err(|e| format!("{origin}: headers: {e}"))?;
            let value = match value {
                SampleValue::Bool(b) => AMQPValue::Boolean(*b),
                SampleValue::Int(i) => AMQPValue::LongLongInt(*i),
                SampleValue::Float(f) => AMQPValue::Double(*f),
                SampleValue::Text(t) => AMQPValue::LongString(LongString::from(t.as_bytes())),
            };
            table.insert(key, value);
        }
        props = props.with_headers(table);
    }
    let body = match (sample.body, sample.body_base64) {
        (Some(_), Some(_)) => {
            return Err(format!("{origin}: give body or body_base64, not both"));
        }
        (Some(text), None) => Bytes::from(text.into_bytes()),
        (None, Some(b64)) => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| format!("{origin}: body_base64: {e}"))?,
        ),
        (None, None) => Bytes::new(),
    };
    Ok(Message::new(
        sample.exchange,
        sample.routing_key,
        props,
        body,
    ))
}

/// What `route test` prints for `message` going through the route named `route`.
pub fn explain(config: &Config, route: &str, message: &Message) -> Result<String, String> {
    let route = config
        .routes
        .iter()
        .find(|r| r.name == route)
        .ok_or_else(|| {
            let names: Vec<&str> = config.routes.iter().map(|r| r.name.as_str()).collect();
            format!(
                "no route named '{route}' (routes: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })?;
    let mut out = String::new();
    let _ = writeln!(out, "route {}", route.name);
    let _ = writeln!(out, "1. source: {}", describe_source(route, config));
    describe_message(&mut out, message);

    if let Some(text) = &route.from.selector {
        let selected = Selector::parse(text)
            .map(|s| s.matches(message))
            .unwrap_or(false);
        let _ = writeln!(
            out,
            "2. selector \"{text}\": {}",
            if selected { "selected" } else { "NOT selected" }
        );
        if !selected {
            let stays = match route
                .from
                .connection
                .as_deref()
                .and_then(|c| config.connection(c))
            {
                Some(c) if matches!(c.kind, ConnectionKind::Amqp { .. }) => {
                    "the route acknowledges it and moves nothing (AMQP sources cannot select)"
                }
                _ => "the message stays in the source; the route never sees it",
            };
            let _ = writeln!(out, "   {stays}");
            return Ok(out);
        }
    } else {
        let _ = writeln!(out, "2. selector: none (every message)");
    }

    let h = &route.headers;
    if h.is_empty() {
        let _ = writeln!(out, "3. headers: unchanged");
    } else {
        let _ = writeln!(
            out,
            "3. headers: remove {:?}, rename {:?}, set {:?}",
            h.remove,
            h.rename,
            h.set
                .iter()
                .map(|(k, t)| (k.as_str(), t.as_str()))
                .collect::<Vec<_>>()
        );
    }
    match translate(route, message) {
        Ok(outbound) => {
            let _ = writeln!(
                out,
                "4. target: {}",
                describe_target(&route.to, config, &outbound)
            );
            let _ = writeln!(out, "5. as sent:");
            describe_outbound(&mut out, &route.to, config, &outbound);
        }
        Err(e) => {
            let _ = writeln!(out, "4. cannot be translated: {e}");
            match &route.dead_letter {
                Some(target) => {
                    let dead = dead_letter(target, &route.name, message, "untranslatable", &e.0, 0)
                        .map_err(|e| format!("the dead letter cannot be addressed either: {e}"))?;
                    let _ = writeln!(
                        out,
                        "5. dead letter: {}",
                        describe_target(target, config, &dead)
                    );
                    describe_outbound(&mut out, target, config, &dead);
                }
                None => {
                    let _ = writeln!(
                        out,
                        "5. no dead_letter: rejected back to the source without requeue"
                    );
                }
            }
        }
    }
    Ok(out)
}

fn connection_label(name: Option<&str>, config: &Config) -> String {
    match name.and_then(|n| config.connection(n)) {
        Some(c) => format!("{} connection '{}'", c.kind.protocol(), c.name),
        None => "the embedded core".to_string(),
    }
}

fn describe_source(route: &RouteConfig, config: &Config) -> String {
    let at = connection_label(route.from.connection.as_deref(), config);
    match &route.from.address {
        SourceAddress::Queue(q) => format!("{at}, queue '{q}'"),
        SourceAddress::Topic {
            name,
            subscription: Some(s),
        } => {
            format!("{at}, topic '{name}', durable subscription '{s}'")
        }
        SourceAddress::Topic {
            name,
            subscription: None,
        } => format!("{at}, topic '{name}'"),
    }
}

fn describe_target(target: &TargetConfig, config: &Config, outbound: &Outbound) -> String {
    let at = connection_label(target.connection.as_deref(), config);
    match &outbound.target {
        Target::Exchange {
            exchange,
            routing_key,
        } if exchange.is_empty() => {
            format!("{at}, queue '{routing_key}' (default exchange)")
        }
        Target::Exchange {
            exchange,
            routing_key,
        } => {
            format!("{at}, exchange '{exchange}', routing key '{routing_key}'")
        }
        Target::Queue(q) => format!("{at}, queue '{q}'"),
        Target::Topic(t) => format!("{at}, topic '{t}'"),
        Target::Destination(d) => format!("{at}, destination '{d}'"),
        Target::Mail(m) => format!("{at}, mail to {:?}", m.to),
    }
}

fn describe_message(out: &mut String, m: &Message) {
    let _ = writeln!(
        out,
        "   exchange '{}', routing key '{}'",
        m.exchange, m.routing_key
    );
    let p = &m.properties;
    let props: Vec<(&str, Option<String>)> = vec![
        (
            "content_type",
            p.content_type().as_ref().map(|v| v.to_string()),
        ),
        (
            "content_encoding",
            p.content_encoding().as_ref().map(|v| v.to_string()),
        ),
        ("delivery_mode", p.delivery_mode().map(|v| v.to_string())),
        ("priority", p.priority().map(|v| v.to_string())),
        (
            "correlation_id",
            p.correlation_id().as_ref().map(|v| v.to_string()),
        ),
        ("reply_to", p.reply_to().as_ref().map(|v| v.to_string())),
        ("expiration", p.expiration().as_ref().map(|v| v.to_string())),
        ("message_id", p.message_id().as_ref().map(|v| v.to_string())),
        ("timestamp", p.timestamp().map(|v| v.to_string())),
        ("type", p.kind().as_ref().map(|v| v.to_string())),
        ("user_id", p.user_id().as_ref().map(|v| v.to_string())),
        ("app_id", p.app_id().as_ref().map(|v| v.to_string())),
    ];
    for (name, value) in props {
        if let Some(value) = value {
            let _ = writeln!(out, "   {name}: {value}");
        }
    }
    if let Some(headers) = p.headers() {
        for (name, value) in headers.inner() {
            let shown = value_text(value).unwrap_or_else(|| format!("{value:?}"));
            let _ = writeln!(out, "   header {name} = {shown} ({})", amqp_type(value));
        }
    }
    let _ = match std::str::from_utf8(&m.body) {
        Ok(text) => writeln!(out, "   body ({} bytes): {text:?}", m.body.len()),
        Err(_) => writeln!(out, "   body ({} bytes, binary)", m.body.len()),
    };
}

fn amqp_type(v: &AMQPValue) -> &'static str {
    match v {
        AMQPValue::Boolean(_) => "boolean",
        AMQPValue::ShortShortInt(_) | AMQPValue::ShortShortUInt(_) => "byte",
        AMQPValue::ShortInt(_) | AMQPValue::ShortUInt(_) => "short",
        AMQPValue::LongInt(_) | AMQPValue::LongUInt(_) => "int",
        AMQPValue::LongLongInt(_) => "long",
        AMQPValue::Float(_) => "float",
        AMQPValue::Double(_) => "double",
        AMQPValue::DecimalValue(_) => "decimal",
        AMQPValue::ShortString(_) | AMQPValue::LongString(_) => "string",
        AMQPValue::Timestamp(_) => "timestamp",
        AMQPValue::ByteArray(_) => "bytes",
        AMQPValue::FieldArray(_) => "array",
        AMQPValue::FieldTable(_) => "table",
        AMQPValue::Void => "void",
    }
}

fn describe_outbound(out: &mut String, target: &TargetConfig, config: &Config, o: &Outbound) {
    let protocol = target
        .connection
        .as_deref()
        .and_then(|c| config.connection(c))
        .map_or("core", |c| c.kind.protocol());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    match (&o.target, protocol) {
        (Target::Exchange { .. }, _) => {
            let _ = writeln!(out, "   basic.publish (AMQP 0-9-1):");
            describe_message(out, &o.message);
        }
        (Target::Queue(_) | Target::Topic(_) | Target::Destination(_), "stomp") => {
            let destination = match &o.target {
                Target::Queue(q) => format!("/queue/{q}"),
                Target::Topic(t) => format!("/topic/{t}"),
                Target::Destination(d) => d.clone(),
                _ => String::new(),
            };
            let _ = writeln!(out, "   SEND (STOMP)");
            let _ = writeln!(out, "   destination:{destination}");
            for (k, v) in crate::mapping::stomp::from_message_at(&o.message, false, now_ms) {
                let _ = writeln!(out, "   {k}:{v}");
            }
            let _ = writeln!(out, "   body ({} bytes)", o.message.body.len());
        }
        (Target::Queue(_) | Target::Topic(_), _) => {
            let destination = match &o.target {
                Target::Topic(t) => JmsDestination::topic(t.clone()),
                Target::Queue(q) => JmsDestination::queue(q.clone()),
                _ => JmsDestination::queue(String::new()),
            };
            let jms = crate::mapping::openwire::from_message(&o.message, destination, now_ms);
            let _ = writeln!(out, "   JMS message (OpenWire): {:?}", jms.kind);
            let _ = writeln!(out, "   JMSDestination: {:?}", jms.destination);
            let fields: [(&str, Option<String>); 6] = [
                ("JMSCorrelationID", jms.correlation_id.clone()),
                ("JMSType", jms.jms_type.clone()),
                (
                    "JMSReplyTo",
                    jms.reply_to.as_ref().map(|d| format!("{d:?}")),
                ),
                (
                    "JMSDeliveryMode",
                    Some(
                        if jms.persistent {
                            "PERSISTENT"
                        } else {
                            "NON_PERSISTENT"
                        }
                        .to_string(),
                    ),
                ),
                ("JMSPriority", Some(jms.priority.to_string())),
                (
                    "JMSExpiration",
                    (jms.expiration != 0).then(|| jms.expiration.to_string()),
                ),
            ];
            for (name, value) in fields {
                if let Some(value) = value {
                    let _ = writeln!(out, "   {name}: {value}");
                }
            }
            for (name, value) in &jms.properties {
                let _ = writeln!(out, "   property {name} = {}", jms_value(value));
            }
            let _ = match &jms.body {
                JmsBody::Text(t) => writeln!(out, "   body (text): {t:?}"),
                JmsBody::None => writeln!(out, "   body: none"),
                other => writeln!(out, "   body: {:?}", other.kind()),
            };
        }
        (Target::Mail(spec), _) => {
            let content = mail_content(spec, &o.message);
            let _ = writeln!(out, "   mail (SMTP)");
            let _ = writeln!(out, "   To: {}", spec.to.join(", "));
            if !spec.cc.is_empty() {
                let _ = writeln!(out, "   Cc: {}", spec.cc.join(", "));
            }
            if !spec.bcc.is_empty() {
                let _ = writeln!(out, "   Bcc: {}", spec.bcc.join(", "));
            }
            let _ = writeln!(out, "   Subject: {}", spec.subject);
            for (k, v) in &content.headers {
                let _ = writeln!(out, "   {k}: {v}");
            }
            let _ = writeln!(
                out,
                "   text part ({:?}): {:?}",
                content.text_kind, content.text
            );
            if let Some(a) = &content.attachment {
                let _ = writeln!(
                    out,
                    "   attachment {} ({}, {} bytes)",
                    a.filename,
                    a.content_type,
                    a.data.len()
                );
            }
        }
        (target, protocol) => {
            let _ = writeln!(out, "   {target:?} over {protocol}");
        }
    }
}

fn jms_value(v: &JmsValue) -> String {
    match v {
        JmsValue::Null => "null".to_string(),
        JmsValue::Bool(b) => format!("{b} (boolean)"),
        JmsValue::Byte(b) => format!("{b} (byte)"),
        JmsValue::Short(s) => format!("{s} (short)"),
        JmsValue::Int(i) => format!("{i} (int)"),
        JmsValue::Long(l) => format!("{l} (long)"),
        JmsValue::Float(f) => format!("{f} (float)"),
        JmsValue::Double(d) => format!("{d} (double)"),
        JmsValue::Char(c) => format!("{c} (char)"),
        JmsValue::String(s) => format!("{s:?} (String)"),
        JmsValue::Bytes(b) => format!("{} bytes (byte[])", b.len()),
        JmsValue::Map(m) => format!("map of {}", m.len()),
        JmsValue::List(l) => format!("list of {}", l.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    const CONFIG: &str = r#"
connections:
  amq: { openwire: "tcp://127.0.0.1:61616" }
  rabbit: { amqp: "amqp://guest:guest@127.0.0.1:5672/%2f" }
  mail: { smtp: "smtp://127.0.0.1:25", from: "bridge@example.com" }
routes:
  - name: to-rabbit
    from: { connection: amq, queue: orders, selector: "region = 'EU'" }
    to: { connection: rabbit, exchange: orders, routing_key: "{type}.{header.region}" }
    headers: { set: { x-source: activemq } }
    dead_letter: { queue: orders.failed }
  - name: back
    from: { connection: rabbit, queue: replies }
    to: { connection: amq, queue: "replies.{header.region}" }
  - name: mail
    from: { queue: alerts }
    to: { connection: mail, to: "ops@example.com", subject: "{header.subject|alert}" }
"#;

    const SAMPLE: &str = r#"
routing_key: orders
properties: { content_type: text/plain, type: order.created, correlation_id: c-1, delivery_mode: 2 }
headers: { region: EU, amount: 12 }
body: "hello"
"#;

    fn config() -> Config {
        parse(CONFIG, "routes.yaml").unwrap()
    }

    #[test]
    fn an_amqp_target_shows_the_publish() {
        let message = parse_sample(SAMPLE, "sample.yaml").unwrap();
        let text = explain(&config(), "to-rabbit", &message).unwrap();
        assert!(text.contains("selected"), "{text}");
        assert!(
            text.contains("exchange 'orders', routing key 'order.created.EU'"),
            "{text}"
        );
        assert!(
            text.contains("header x-source = activemq (string)"),
            "{text}"
        );
        assert!(text.contains("header amount = 12 (long)"), "{text}");
    }

    #[test]
    fn an_openwire_target_shows_the_jms_message() {
        let message = parse_sample(SAMPLE, "sample.yaml").unwrap();
        let text = explain(&config(), "back", &message).unwrap();
        assert!(text.contains("queue 'replies.EU'"), "{text}");
        assert!(
            text.contains("TextMessage") || text.contains("Text"),
            "{text}"
        );
        assert!(text.contains("JMSCorrelationID: c-1"), "{text}");
        assert!(text.contains("property amount = 12 (long)"), "{text}");
    }

    #[test]
    fn unselected_untranslatable_and_mail() {
        let us = parse_sample("headers: { region: US }\nbody: x\n", "s").unwrap();
        let text = explain(&config(), "to-rabbit", &us).unwrap();
        assert!(text.contains("NOT selected"), "{text}");
        let no_type = parse_sample("headers: { region: EU }\nbody: x\n", "s").unwrap();
        let text = explain(&config(), "to-rabbit", &no_type).unwrap();
        assert!(text.contains("cannot be translated"), "{text}");
        assert!(
            text.contains("dead letter: the embedded core, queue 'orders.failed'"),
            "{text}"
        );
        assert!(
            text.contains("x-mqbridge-reason = untranslatable"),
            "{text}"
        );
        let message = parse_sample(SAMPLE, "sample.yaml").unwrap();
        let text = explain(&config(), "mail", &message).unwrap();
        assert!(text.contains("Subject: alert"), "{text}");
        assert!(text.contains("To: ops@example.com"), "{text}");
        assert!(explain(&config(), "nope", &message)
            .unwrap_err()
            .contains("to-rabbit, back, mail"));
        assert!(parse_sample("body: a\nbody_base64: YQ==\n", "s").is_err());
        assert!(parse_sample("colour: red\n", "s").is_err());
    }
}
