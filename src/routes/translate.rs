//! What a route does to one message between its source and its target: header mapping,
//! then the target address filled from the (mapped) message. Pure, so `mqbridge route
//! test` shows exactly what a running route would do.
//!
//! Order: `remove`, then `rename`, then `set` (whose templates read the message as it came
//! from the source). The target's templates (routing key, destination, recipients) read
//! the message after mapping, so a header set by the route can steer it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{HeaderMapping, RouteConfig, TargetAddress, TargetConfig};
use crate::mapping::smtp::MailSpec;
use crate::message::{AMQPValue, FieldTable, LongString, Message};

use super::template::Template;

/// Where a translated message goes, with every template filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The core or an AMQP broker.
    Exchange {
        exchange: String,
        routing_key: String,
    },
    /// STOMP or OpenWire.
    Queue(String),
    Topic(String),
    /// STOMP: as the peer spells it.
    Destination(String),
    Mail(MailSpec),
}

/// A message ready for a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub message: Message,
    pub target: Target,
}

/// Why a message cannot be translated; it is dead-lettered at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError(pub String);

impl std::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Map a message's headers and address it to the route's target.
pub fn translate(route: &RouteConfig, message: &Message) -> Result<Outbound, TranslateError> {
    let mapped = map_headers(&route.headers, message, &route.name)?;
    address(&route.to, mapped, &route.name)
}

/// The dead-letter form of a message: the message as it came from the source, with
/// headers saying why, addressed to the dead-letter target.
pub fn dead_letter(
    target: &TargetConfig,
    route: &str,
    message: &Message,
    reason: &str,
    error: &str,
    attempts: u32,
) -> Result<Outbound, TranslateError> {
    let mut message = message.clone();
    let mut headers = message.properties.headers().clone().unwrap_or_default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let text = |s: &str| AMQPValue::LongString(LongString::from(s.as_bytes()));
    headers.insert("x-mqbridge-route".into(), text(route));
    headers.insert("x-mqbridge-reason".into(), text(reason));
    headers.insert("x-mqbridge-error".into(), text(error));
    headers.insert(
        "x-mqbridge-attempts".into(),
        AMQPValue::LongLongInt(i64::from(attempts)),
    );
    headers.insert(
        "x-mqbridge-failed-at".into(),
        AMQPValue::LongLongInt(now_ms),
    );
    headers.insert(
        "x-mqbridge-original-exchange".into(),
        text(&message.exchange),
    );
    headers.insert(
        "x-mqbridge-original-routing-key".into(),
        text(&message.routing_key),
    );
    message.properties = message.properties.with_headers(headers);
    address(target, message, route)
}

fn map_headers(
    mapping: &HeaderMapping,
    message: &Message,
    route: &str,
) -> Result<Message, TranslateError> {
    if mapping.is_empty() {
        return Ok(message.clone());
    }
    // FieldTable has no remove: work on its map and rebuild it.
    let mut table = message
        .properties
        .headers()
        .as_ref()
        .map(|h| h.inner().clone())
        .unwrap_or_default();
    for name in &mapping.remove {
        table.remove(name.as_str());
    }
    for (old, new) in &mapping.rename {
        if let Some(value) = table.remove(old.as_str()) {
            let key = crate::message::short_string(new).map_err(TranslateError)?;
            table.insert(key, value);
        }
    }
    let mut table = FieldTable::from(table);
    for (name, template) in &mapping.set {
        let value = render(template, message, route)?;
        let key = crate::message::short_string(name).map_err(TranslateError)?;
        table.insert(
            key,
            AMQPValue::LongString(LongString::from(value.into_bytes())),
        );
    }
    let mut mapped = message.clone();
    mapped.properties = mapped.properties.with_headers(table);
    Ok(mapped)
}

fn render(template: &Template, message: &Message, route: &str) -> Result<String, TranslateError> {
    template
        .render(message, route)
        .map_err(|e| TranslateError(e.message))
}

fn address(
    target: &TargetConfig,
    mut message: Message,
    route: &str,
) -> Result<Outbound, TranslateError> {
    let non_empty = |what: &str, value: String| {
        if value.is_empty() {
            Err(TranslateError(format!("the {what} came out empty")))
        } else {
            Ok(value)
        }
    };
    let target = match &target.address {
        TargetAddress::Exchange {
            exchange,
            routing_key,
        } => {
            let exchange = render(exchange, &message, route)?;
            let routing_key = render(routing_key, &message, route)?;
            if exchange.is_empty() && routing_key.is_empty() {
                return Err(TranslateError("the queue name came out empty".into()));
            }
            for (what, value) in [("exchange", &exchange), ("routing key", &routing_key)] {
                if value.len() > 255 {
                    return Err(TranslateError(format!(
                        "the {what} is {} bytes long; AMQP allows 255",
                        value.len()
                    )));
                }
            }
            message.exchange = exchange.clone();
            message.routing_key = routing_key.clone();
            Target::Exchange {
                exchange,
                routing_key,
            }
        }
        TargetAddress::Queue(t) => Target::Queue(non_empty("queue", render(t, &message, route)?)?),
        TargetAddress::Topic(t) => Target::Topic(non_empty("topic", render(t, &message, route)?)?),
        TargetAddress::Destination(t) => {
            Target::Destination(non_empty("destination", render(t, &message, route)?)?)
        }
        TargetAddress::Mail(mail) => {
            let list = |templates: &[Template]| -> Result<Vec<String>, TranslateError> {
                let mut out = Vec::new();
                for t in templates {
                    let rendered = render(t, &message, route)?;
                    out.extend(
                        rendered
                            .split(',')
                            .map(str::trim)
                            .filter(|a| !a.is_empty())
                            .map(str::to_string),
                    );
                }
                Ok(out)
            };
            let spec = MailSpec {
                to: list(&mail.to)?,
                cc: list(&mail.cc)?,
                bcc: list(&mail.bcc)?,
                subject: render(&mail.subject, &message, route)?,
                body: mail
                    .body
                    .as_ref()
                    .map(|b| render(b, &message, route))
                    .transpose()?,
            };
            if spec.to.is_empty() && spec.cc.is_empty() && spec.bcc.is_empty() {
                return Err(TranslateError(
                    "no recipient after filling the templates".into(),
                ));
            }
            Target::Mail(spec)
        }
    };
    Ok(Outbound { message, target })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::message::BasicProperties;
    use bytes::Bytes;

    fn route(yaml: &str) -> RouteConfig {
        let text = format!(
            "connections:\n  mail: {{ smtp: \"smtp://h:25\", from: \"a@b.c\" }}\n  amq: {{ stomp: \"h:1\" }}\nroutes:\n  - name: r\n{yaml}"
        );
        match parse(&text, "t.yaml") {
            Ok(mut c) => c.routes.remove(0),
            Err(e) => panic!("{e}"),
        }
    }

    fn message() -> Message {
        let mut headers = FieldTable::default();
        headers.insert("region".into(), AMQPValue::LongString("EU".into()));
        headers.insert("internal".into(), AMQPValue::Boolean(true));
        headers.insert("legacy_id".into(), AMQPValue::LongInt(7));
        headers.insert("owner".into(), AMQPValue::LongString("dev@x.org".into()));
        let props = BasicProperties::default()
            .with_type("order.created".into())
            .with_headers(headers);
        Message::new("", "orders", props, Bytes::from_static(b"body"))
    }

    #[test]
    fn headers_are_removed_renamed_and_set_then_the_target_is_filled() {
        let r = route(
            "    from: { queue: q }\n    to: { exchange: x, routing_key: \"{type}.{header.region}.{header.src}\" }\n    headers: { remove: [internal], rename: { legacy_id: order_id }, set: { src: \"amq-{header.region}\" } }\n",
        );
        let out = translate(&r, &message()).unwrap();
        assert_eq!(
            out.target,
            Target::Exchange {
                exchange: "x".into(),
                routing_key: "order.created.EU.amq-EU".into()
            }
        );
        assert_eq!(out.message.exchange, "x");
        assert_eq!(out.message.header("internal"), None);
        assert_eq!(out.message.header("legacy_id"), None);
        assert_eq!(out.message.header("order_id"), Some(&AMQPValue::LongInt(7)));
        assert_eq!(
            out.message.header("src"),
            Some(&AMQPValue::LongString("amq-EU".into()))
        );
    }

    #[test]
    fn a_missing_header_cannot_be_translated() {
        let r = route("    from: { queue: q }\n    to: { queue: \"out.{header.country}\" }\n");
        let err = translate(&r, &message()).unwrap_err();
        assert!(err.0.contains("no header 'country'"), "{err}");
    }

    #[test]
    fn mail_targets_split_recipient_lists() {
        let r = route(
            "    from: { queue: q }\n    to: { connection: mail, to: [\"ops@x.org\", \"{header.owner}\"], subject: \"{type}\" }\n",
        );
        let out = translate(&r, &message()).unwrap();
        let Target::Mail(mail) = out.target else {
            panic!("mail");
        };
        assert_eq!(mail.to, vec!["ops@x.org", "dev@x.org"]);
        assert_eq!(mail.subject, "order.created");
        assert_eq!(mail.body, None);
    }

    #[test]
    fn dead_letters_say_why() {
        let r = route(
            "    from: { queue: q }\n    to: { connection: amq, queue: \"x\" }\n    dead_letter: { queue: failed }\n",
        );
        let target = r.dead_letter.clone().unwrap();
        let out = dead_letter(&target, "r", &message(), "refused", "451 busy", 3).unwrap();
        assert_eq!(
            out.target,
            Target::Exchange {
                exchange: String::new(),
                routing_key: "failed".into()
            }
        );
        assert_eq!(
            out.message.header("x-mqbridge-reason"),
            Some(&AMQPValue::LongString("refused".into()))
        );
        assert_eq!(
            out.message.header("x-mqbridge-attempts"),
            Some(&AMQPValue::LongLongInt(3))
        );
        assert_eq!(
            out.message.header("x-mqbridge-original-routing-key"),
            Some(&AMQPValue::LongString("orders".into()))
        );
        assert_eq!(out.message.header("region"), message().header("region"));
    }
}
