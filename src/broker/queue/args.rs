//! Queue arguments (`x-message-ttl`, `x-max-length`, …) parsed once at declare time.
//!
//! Bad values are refused the way RabbitMQ refuses them: 406 PRECONDITION_FAILED naming
//! the argument, the queue and the vhost.

use crate::error::{Error, Result};
use crate::message::{AMQPValue, FieldTable};

/// What a full queue does with one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Drop (or dead-letter) the oldest ready message.
    DropHead,
    /// Refuse the new message (a publisher confirm becomes a nack).
    RejectPublish,
    /// Refuse the new message and dead-letter it.
    RejectPublishDlx,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueArgs {
    pub message_ttl: Option<u64>,
    pub expires: Option<u64>,
    pub max_length: Option<u64>,
    pub max_length_bytes: Option<u64>,
    pub overflow: Option<Overflow>,
    pub dead_letter_exchange: Option<String>,
    pub dead_letter_routing_key: Option<String>,
    pub max_priority: Option<u8>,
}

impl QueueArgs {
    pub fn overflow(&self) -> Overflow {
        self.overflow.unwrap_or(Overflow::DropHead)
    }

    /// Parse the arguments of `queue.declare` for `queue` in `vhost`.
    pub fn parse(arguments: &FieldTable, queue: &str, vhost: &str) -> Result<Self> {
        let bad = |name: &str, why: String| {
            Error::precondition_failed(format!(
                "invalid arg '{name}' for queue '{queue}' in vhost '{vhost}': {why}"
            ))
        };
        let mut args = QueueArgs::default();
        for (key, value) in arguments.inner() {
            let name = key.as_str();
            match name {
                "x-message-ttl" => {
                    args.message_ttl = Some(non_negative(value).map_err(|w| bad(name, w))?)
                }
                "x-expires" => {
                    let v = non_negative(value).map_err(|w| bad(name, w))?;
                    if v == 0 {
                        return Err(bad(name, "{value_zero,0}".into()));
                    }
                    args.expires = Some(v);
                }
                "x-max-length" => {
                    args.max_length = Some(non_negative(value).map_err(|w| bad(name, w))?)
                }
                "x-max-length-bytes" => {
                    args.max_length_bytes = Some(non_negative(value).map_err(|w| bad(name, w))?)
                }
                "x-max-priority" => {
                    let v = non_negative(value).map_err(|w| bad(name, w))?;
                    if v > 255 {
                        return Err(bad(name, format!("{{value_too_large,{v}}}")));
                    }
                    args.max_priority = Some(v as u8);
                }
                "x-overflow" => {
                    args.overflow = Some(match text(value).as_deref() {
                        Some("drop-head") => Overflow::DropHead,
                        Some("reject-publish") => Overflow::RejectPublish,
                        Some("reject-publish-dlx") => Overflow::RejectPublishDlx,
                        _ => return Err(bad(name, format!("{{unknown_value,{value:?}}}"))),
                    })
                }
                "x-dead-letter-exchange" => {
                    args.dead_letter_exchange =
                        Some(text(value).ok_or_else(|| bad(name, "{unacceptable_type}".into()))?)
                }
                "x-dead-letter-routing-key" => {
                    args.dead_letter_routing_key =
                        Some(text(value).ok_or_else(|| bad(name, "{unacceptable_type}".into()))?)
                }
                "x-queue-type" => match text(value).as_deref() {
                    Some("classic") => {}
                    _ => {
                        return Err(bad(
                            name,
                            format!("{value:?}: only classic queues are supported"),
                        ))
                    }
                },
                // Other arguments are kept and compared on redeclare, as RabbitMQ does.
                _ => {}
            }
        }
        if args.dead_letter_routing_key.is_some() && args.dead_letter_exchange.is_none() {
            return Err(Error::precondition_failed(format!(
                "invalid arg 'x-dead-letter-routing-key' for queue '{queue}' in vhost '{vhost}': \
                 Key x-dead-letter-exchange must be present"
            )));
        }
        Ok(args)
    }
}

/// An integer argument of any AMQP integer type, refusing negatives and non-integers.
pub fn integer(value: &AMQPValue) -> Option<i128> {
    Some(match value {
        AMQPValue::ShortShortInt(n) => *n as i128,
        AMQPValue::ShortShortUInt(n) => *n as i128,
        AMQPValue::ShortInt(n) => *n as i128,
        AMQPValue::ShortUInt(n) => *n as i128,
        AMQPValue::LongInt(n) => *n as i128,
        AMQPValue::LongUInt(n) => *n as i128,
        AMQPValue::LongLongInt(n) => *n as i128,
        AMQPValue::Timestamp(n) => *n as i128,
        _ => return None,
    })
}

fn non_negative(value: &AMQPValue) -> std::result::Result<u64, String> {
    match integer(value) {
        Some(n) if n < 0 => Err(format!("{{value_negative,{n}}}")),
        Some(n) => u64::try_from(n).map_err(|_| format!("{{value_too_large,{n}}}")),
        None => Err(format!("{{unacceptable_type,{value:?}}}")),
    }
}

/// A string argument, sent as a long or short string.
pub fn text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, AMQPValue)]) -> FieldTable {
        let mut t = FieldTable::default();
        for (k, v) in pairs {
            t.insert((*k).into(), v.clone());
        }
        t
    }

    #[test]
    fn parses_every_argument() {
        let args = QueueArgs::parse(
            &table(&[
                ("x-message-ttl", AMQPValue::LongInt(1000)),
                ("x-expires", AMQPValue::LongLongInt(60000)),
                ("x-max-length", AMQPValue::ShortInt(10)),
                ("x-max-length-bytes", AMQPValue::LongUInt(4096)),
                ("x-overflow", AMQPValue::LongString("reject-publish".into())),
                (
                    "x-dead-letter-exchange",
                    AMQPValue::LongString("dlx".into()),
                ),
                (
                    "x-dead-letter-routing-key",
                    AMQPValue::LongString("dead".into()),
                ),
                ("x-max-priority", AMQPValue::ShortShortUInt(9)),
            ]),
            "q",
            "/",
        )
        .unwrap();
        assert_eq!(args.message_ttl, Some(1000));
        assert_eq!(args.expires, Some(60000));
        assert_eq!(args.max_length, Some(10));
        assert_eq!(args.max_length_bytes, Some(4096));
        assert_eq!(args.overflow(), Overflow::RejectPublish);
        assert_eq!(args.dead_letter_exchange.as_deref(), Some("dlx"));
        assert_eq!(args.dead_letter_routing_key.as_deref(), Some("dead"));
        assert_eq!(args.max_priority, Some(9));
    }

    #[test]
    fn refuses_bad_values_with_406() {
        for (k, v) in [
            ("x-message-ttl", AMQPValue::LongInt(-1)),
            ("x-expires", AMQPValue::LongInt(0)),
            ("x-max-length", AMQPValue::LongString("ten".into())),
            ("x-overflow", AMQPValue::LongString("explode".into())),
            ("x-max-priority", AMQPValue::LongInt(256)),
            ("x-queue-type", AMQPValue::LongString("stream".into())),
        ] {
            let err = QueueArgs::parse(&table(&[(k, v)]), "q", "/").unwrap_err();
            assert_eq!(err.code, crate::error::ReplyCode::PreconditionFailed, "{k}");
            assert!(err.text.contains(k), "{}", err.text);
        }
        let err = QueueArgs::parse(
            &table(&[(
                "x-dead-letter-routing-key",
                AMQPValue::LongString("k".into()),
            )]),
            "q",
            "/",
        )
        .unwrap_err();
        assert_eq!(err.code, crate::error::ReplyCode::PreconditionFailed);
    }
}
