//! Templates in route configs: `"orders.{header.region}"`, `"{type|unknown}"`.
//!
//! A template is text with `{reference}` or `{reference|default}` fields; `{{` and `}}` are
//! literal braces. A reference names a part of the message:
//!
//! | reference | value |
//! |---|---|
//! | `header.NAME` | the headers-table entry NAME (JMS properties and STOMP custom headers live here) |
//! | `exchange`, `routing_key` | where the message was published |
//! | `content_type`, `content_encoding`, `correlation_id`, `reply_to`, `expiration`, `message_id`, `type`, `user_id`, `app_id`, `cluster_id` | the AMQP property |
//! | `delivery_mode`, `priority`, `timestamp` | the AMQP property, as a decimal number |
//! | `body` | the body as UTF-8 text |
//! | `route` | the route's name |
//!
//! A field whose value is absent uses its default; with no default the message cannot be
//! translated, which dead-letters it at once (a route never invents an address). Templates
//! are parsed when the config is loaded, so a typo in a reference is a config error with
//! its line and column, not a runtime surprise.

use std::fmt;

use crate::message::{AMQPValue, Message};

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field {
        reference: Reference,
        default: Option<String>,
    },
}

/// What a `{...}` field refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Header(String),
    Exchange,
    RoutingKey,
    Property(Property),
    Body,
    Route,
}

/// The AMQP basic properties a template can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    ContentType,
    ContentEncoding,
    CorrelationId,
    ReplyTo,
    Expiration,
    MessageId,
    Type,
    UserId,
    AppId,
    ClusterId,
    DeliveryMode,
    Priority,
    Timestamp,
}

const PROPERTIES: [(&str, Property); 13] = [
    ("content_type", Property::ContentType),
    ("content_encoding", Property::ContentEncoding),
    ("correlation_id", Property::CorrelationId),
    ("reply_to", Property::ReplyTo),
    ("expiration", Property::Expiration),
    ("message_id", Property::MessageId),
    ("type", Property::Type),
    ("user_id", Property::UserId),
    ("app_id", Property::AppId),
    ("cluster_id", Property::ClusterId),
    ("delivery_mode", Property::DeliveryMode),
    ("priority", Property::Priority),
    ("timestamp", Property::Timestamp),
];

/// Why a template text was refused; `offset` is a 0-based character offset into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

impl std::error::Error for TemplateError {}

/// Why a template could not be filled for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderError {}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().enumerate().peekable();
        while let Some((offset, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(TemplateError {
                        offset,
                        message: "a lone '}': write '}}' for a literal brace".to_string(),
                    })
                }
                '{' => {
                    let mut field = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        field.push(c);
                    }
                    if !closed {
                        return Err(TemplateError {
                            offset,
                            message: "a '{' without its '}': write '{{' for a literal brace"
                                .to_string(),
                        });
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    let (name, default) = match field.split_once('|') {
                        Some((name, default)) => (name, Some(default.to_string())),
                        None => (field.as_str(), None),
                    };
                    let reference =
                        parse_reference(name.trim()).map_err(|message| TemplateError {
                            offset: offset + 1,
                            message,
                        })?;
                    parts.push(Part::Field { reference, default });
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }

    /// The text as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the template has no fields: its value is the same for every message.
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// Fill the template from a message.
    pub fn render(&self, message: &Message, route: &str) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Field { reference, default } => {
                    match (lookup(reference, message, route), default) {
                        (Some(value), _) => out.push_str(&value),
                        (None, Some(default)) => out.push_str(default),
                        (None, None) => {
                            return Err(RenderError {
                                message: format!(
                                    "template '{}': the message has no {}",
                                    self.text,
                                    describe(reference)
                                ),
                            })
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_reference(name: &str) -> Result<Reference, String> {
    if let Some(header) = name.strip_prefix("header.") {
        if header.is_empty() {
            return Err("'header.' needs a header name, e.g. {header.region}".to_string());
        }
        return Ok(Reference::Header(header.to_string()));
    }
    match name {
        "exchange" => return Ok(Reference::Exchange),
        "routing_key" => return Ok(Reference::RoutingKey),
        "body" => return Ok(Reference::Body),
        "route" => return Ok(Reference::Route),
        "" => return Err("an empty field '{}'".to_string()),
        _ => {}
    }
    PROPERTIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| Reference::Property(*p))
        .ok_or_else(|| {
            format!(
                "unknown field '{name}': expected header.NAME, exchange, routing_key, body, \
                 route or a property ({})",
                PROPERTIES.map(|(n, _)| n).join(", ")
            )
        })
}

fn describe(reference: &Reference) -> String {
    match reference {
        Reference::Header(name) => format!("header '{name}'"),
        Reference::Exchange => "exchange".to_string(),
        Reference::RoutingKey => "routing key".to_string(),
        Reference::Body => "UTF-8 text body".to_string(),
        Reference::Route => "route".to_string(),
        Reference::Property(p) => {
            let name = PROPERTIES
                .iter()
                .find(|(_, q)| q == p)
                .map_or("property", |(n, _)| n);
            format!("'{name}' property")
        }
    }
}

fn lookup(reference: &Reference, message: &Message, route: &str) -> Option<String> {
    let props = &message.properties;
    let text = |s: &Option<crate::message::ShortString>| s.as_ref().map(|s| s.to_string());
    match reference {
        Reference::Header(name) => message.header(name).and_then(value_text),
        Reference::Exchange => Some(message.exchange.clone()),
        Reference::RoutingKey => Some(message.routing_key.clone()),
        Reference::Body => std::str::from_utf8(&message.body).ok().map(str::to_string),
        Reference::Route => Some(route.to_string()),
        Reference::Property(p) => match p {
            Property::ContentType => text(props.content_type()),
            Property::ContentEncoding => text(props.content_encoding()),
            Property::CorrelationId => text(props.correlation_id()),
            Property::ReplyTo => text(props.reply_to()),
            Property::Expiration => text(props.expiration()),
            Property::MessageId => text(props.message_id()),
            Property::Type => text(props.kind()),
            Property::UserId => text(props.user_id()),
            Property::AppId => text(props.app_id()),
            Property::ClusterId => text(props.cluster_id()),
            Property::DeliveryMode => props.delivery_mode().map(|v| v.to_string()),
            Property::Priority => props.priority().map(|v| v.to_string()),
            Property::Timestamp => props.timestamp().map(|v| v.to_string()),
        },
    }
}

/// A header value as template text. Tables and arrays have no one text form: absent.
pub fn value_text(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::Boolean(b) => b.to_string(),
        AMQPValue::ShortShortInt(v) => v.to_string(),
        AMQPValue::ShortShortUInt(v) => v.to_string(),
        AMQPValue::ShortInt(v) => v.to_string(),
        AMQPValue::ShortUInt(v) => v.to_string(),
        AMQPValue::LongInt(v) => v.to_string(),
        AMQPValue::LongUInt(v) => v.to_string(),
        AMQPValue::LongLongInt(v) => v.to_string(),
        AMQPValue::Float(v) => v.to_string(),
        AMQPValue::Double(v) => v.to_string(),
        AMQPValue::DecimalValue(d) => format!("{}e-{}", d.value, d.scale),
        AMQPValue::ShortString(s) => s.to_string(),
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::Timestamp(t) => t.to_string(),
        AMQPValue::ByteArray(b) => String::from_utf8_lossy(b.as_slice()).into_owned(),
        AMQPValue::FieldArray(_) | AMQPValue::FieldTable(_) | AMQPValue::Void => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{BasicProperties, FieldTable, LongString};
    use bytes::Bytes;

    fn message() -> Message {
        let mut headers = FieldTable::default();
        headers.insert(
            "region".into(),
            AMQPValue::LongString(LongString::from("EU")),
        );
        headers.insert("amount".into(), AMQPValue::LongInt(12));
        let props = BasicProperties::default()
            .with_type("order.created".into())
            .with_priority(4)
            .with_headers(headers);
        Message::new("orders", "o.1", props, Bytes::from_static(b"hello"))
    }

    #[test]
    fn fields_literals_and_escapes() {
        let t =
            Template::parse("{{x}} {type}.{header.region}-{header.amount} p{priority}").unwrap();
        assert_eq!(
            t.render(&message(), "r").unwrap(),
            "{x} order.created.EU-12 p4"
        );
        let t = Template::parse("{routing_key}@{exchange} {body} {route}").unwrap();
        assert_eq!(t.render(&message(), "r1").unwrap(), "o.1@orders hello r1");
        assert!(Template::parse("plain").unwrap().is_constant());
    }

    #[test]
    fn a_missing_value_uses_the_default_or_fails() {
        let t = Template::parse("{header.country|none}/{correlation_id|}").unwrap();
        assert_eq!(t.render(&message(), "r").unwrap(), "none/");
        let err = Template::parse("{header.country}")
            .unwrap()
            .render(&message(), "r")
            .unwrap_err();
        assert!(err.message.contains("no header 'country'"), "{err}");
    }

    #[test]
    fn bad_templates_say_where() {
        let err = Template::parse("ab{typo}").unwrap_err();
        assert_eq!(err.offset, 3);
        assert!(err.message.contains("unknown field 'typo'"), "{err}");
        assert_eq!(Template::parse("ab{type").unwrap_err().offset, 2);
        assert_eq!(Template::parse("a}b").unwrap_err().offset, 1);
        assert!(Template::parse("{header.}").is_err());
        assert!(Template::parse("{}").is_err());
    }
}
