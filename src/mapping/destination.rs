//! STOMP destinations and what they mean in the core (DESIGN.md §4).
//!
//! This module owns the destination *names*: parsing and formatting STOMP destination
//! headers, where a publish to one goes (exchange, routing key), the JMS ↔ AMQP topic
//! wildcard translation and the name of a durable subscriber's queue. Declaring queues,
//! binding them and rewriting temporary-queue names is the STOMP session's job.
//!
//! | STOMP destination | [`StompDestination`] | publish goes to (exchange, routing key) |
//! |---|---|---|
//! | `/queue/X` | `Queue(X)` | (`""`, `X`): the durable queue `X`, declared by the session |
//! | `/topic/T` | `Topic(T)` | (`amq.topic`, `T`) |
//! | `/exchange/E` , `/exchange/E/K` | `Exchange { E, K }` (`K` empty when absent) | (`E`, `K`) |
//! | `/amq/queue/X` | `AmqQueue(X)` | (`""`, `X`): an existing queue, never declared |
//! | `/temp-queue/N` | `TempQueue(N)` | (`""`, `N`): the session substitutes the real queue name |
//! | `/reply-queue/R` | `ReplyQueue(R)` | (`""`, `R`): an AMQP `reply_to` queue |
//!
//! As in RabbitMQ's STOMP plugin (`rabbit_stomp_util`/`rabbit_routing_parser`): a name is
//! one path segment, `%2F` in it stands for `/` (and `%25` for `%`, which RabbitMQ writes
//! but does not read back; we read it so [`format_stomp`] ∘ [`parse_stomp`] is the
//! identity); `/reply-queue/` takes the rest verbatim, slashes included. Bare names
//! (`orders`, `queue://orders`) are refused: ActiveMQ's STOMP connector would take a bare
//! name as a queue, but silently guessing queue vs topic is how messages get lost, and every
//! STOMP client can send the `/queue/` prefix.

use sha2::{Digest, Sha256};

/// A parsed STOMP destination header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StompDestination {
    /// `/queue/X`: the (durable) queue `X`.
    Queue(String),
    /// `/topic/T`: `amq.topic` with routing key / binding key `T`.
    Topic(String),
    /// `/exchange/E[/K]`: exchange `E` with routing key / binding key `K` (empty if absent).
    Exchange {
        exchange: String,
        routing_key: String,
    },
    /// `/amq/queue/X`: an existing queue `X`, never declared by the bridge.
    AmqQueue(String),
    /// `/temp-queue/N`: the session's temporary queue known to the client as `N`.
    TempQueue(String),
    /// `/reply-queue/R`: the queue an AMQP client named in `reply_to`.
    ReplyQueue(String),
}

const QUEUE: &str = "/queue/";
const TOPIC: &str = "/topic/";
const EXCHANGE: &str = "/exchange/";
const AMQ_QUEUE: &str = "/amq/queue/";
const TEMP_QUEUE: &str = "/temp-queue/";
const REPLY_QUEUE: &str = "/reply-queue/";

/// Every destination prefix, as data (the STOMP `reply-to` mapping uses it too).
pub const PREFIXES: &[&str] = &[QUEUE, TOPIC, EXCHANGE, AMQ_QUEUE, TEMP_QUEUE, REPLY_QUEUE];

/// The exchange `/topic/` destinations publish to and subscribe on.
pub const TOPIC_EXCHANGE: &str = "amq.topic";

/// Parse a STOMP `destination` (or `reply-to`) header.
pub fn parse_stomp(destination: &str) -> Result<StompDestination, String> {
    let simple = |rest: &str, kind: &str| -> Result<String, String> {
        match segments(rest)?.as_slice() {
            [name] if !name.is_empty() => Ok(name.clone()),
            [_] => Err(format!("'{destination}': empty {kind} name")),
            _ => Err(format!(
                "'{destination}': a {kind} name is one segment (write '/' in it as %2F)"
            )),
        }
    };
    if let Some(rest) = destination.strip_prefix(QUEUE) {
        simple(rest, "queue").map(StompDestination::Queue)
    } else if let Some(rest) = destination.strip_prefix(TOPIC) {
        simple(rest, "topic").map(StompDestination::Topic)
    } else if let Some(rest) = destination.strip_prefix(AMQ_QUEUE) {
        simple(rest, "queue").map(StompDestination::AmqQueue)
    } else if let Some(rest) = destination.strip_prefix(TEMP_QUEUE) {
        simple(rest, "temporary queue").map(StompDestination::TempQueue)
    } else if let Some(rest) = destination.strip_prefix(REPLY_QUEUE) {
        // Reply queue names come from AMQP clients and may contain slashes: verbatim.
        if rest.is_empty() {
            Err(format!("'{destination}': empty reply queue name"))
        } else {
            Ok(StompDestination::ReplyQueue(rest.to_owned()))
        }
    } else if let Some(rest) = destination.strip_prefix(EXCHANGE) {
        match segments(rest)?.as_slice() {
            // The default exchange cannot be named this way (as in RabbitMQ): it means
            // different things for SEND and SUBSCRIBE.
            [exchange, ..] if exchange.is_empty() => {
                Err(format!("'{destination}': missing exchange name"))
            }
            [exchange] => Ok(StompDestination::Exchange {
                exchange: exchange.clone(),
                routing_key: String::new(),
            }),
            [exchange, key] => Ok(StompDestination::Exchange {
                exchange: exchange.clone(),
                routing_key: key.clone(),
            }),
            _ => Err(format!(
                "'{destination}': expected /exchange/NAME or /exchange/NAME/KEY (write '/' as %2F)"
            )),
        }
    } else {
        Err(format!(
            "unknown destination '{destination}': expected one of {}",
            PREFIXES.join(", ")
        ))
    }
}

/// Split on `/` and percent-decode each segment.
fn segments(rest: &str) -> Result<Vec<String>, String> {
    rest.split('/').map(unescape).collect()
}

/// `%2F` → `/`, `%25` → `%` (hex case-insensitive); any other `%` stays as it is, as
/// RabbitMQ leaves it.
fn unescape(segment: &str) -> Result<String, String> {
    let mut out = String::with_capacity(segment.len());
    let mut rest = segment;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        let code = after.get(1..3).map(str::to_ascii_uppercase);
        match code.as_deref() {
            Some("2F") => {
                out.push('/');
                rest = &after[3..];
            }
            Some("25") => {
                out.push('%');
                rest = &after[3..];
            }
            _ => {
                out.push('%');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn escape(name: &str) -> String {
    name.replace('%', "%25").replace('/', "%2F")
}

/// Format a destination as a STOMP header value (the inverse of [`parse_stomp`]).
pub fn format_stomp(destination: &StompDestination) -> String {
    match destination {
        StompDestination::Queue(q) => format!("{QUEUE}{}", escape(q)),
        StompDestination::Topic(t) => format!("{TOPIC}{}", escape(t)),
        StompDestination::AmqQueue(q) => format!("{AMQ_QUEUE}{}", escape(q)),
        StompDestination::TempQueue(q) => format!("{TEMP_QUEUE}{}", escape(q)),
        StompDestination::ReplyQueue(q) => format!("{REPLY_QUEUE}{q}"),
        StompDestination::Exchange {
            exchange,
            routing_key,
        } if routing_key.is_empty() => format!("{EXCHANGE}{}", escape(exchange)),
        StompDestination::Exchange {
            exchange,
            routing_key,
        } => format!("{EXCHANGE}{}/{}", escape(exchange), escape(routing_key)),
    }
}

/// The destination a delivery from (exchange, routing key) shows in a MESSAGE frame, as
/// RabbitMQ's `format_destination`: default exchange → `/queue/`, `amq.topic` → `/topic/`,
/// anything else → `/exchange/`.
pub fn from_publish(exchange: &str, routing_key: &str) -> StompDestination {
    match exchange {
        "" => StompDestination::Queue(routing_key.to_owned()),
        TOPIC_EXCHANGE => StompDestination::Topic(routing_key.to_owned()),
        _ => StompDestination::Exchange {
            exchange: exchange.to_owned(),
            routing_key: routing_key.to_owned(),
        },
    }
}

/// Where a publish to it goes in the core: (exchange, routing key), per DESIGN.md §4.
///
/// For `TempQueue(N)` this is (`""`, `N`) with the client's name `N`: the session knows the
/// real queue behind it and must substitute it.
pub fn publish_target(destination: &StompDestination) -> (String, String) {
    match destination {
        StompDestination::Queue(q)
        | StompDestination::AmqQueue(q)
        | StompDestination::TempQueue(q)
        | StompDestination::ReplyQueue(q) => (String::new(), q.clone()),
        StompDestination::Topic(t) => (TOPIC_EXCHANGE.to_owned(), t.clone()),
        StompDestination::Exchange {
            exchange,
            routing_key,
        } => (exchange.clone(), routing_key.clone()),
    }
}

/// ActiveMQ/JMS topic wildcards (`*` one word, `>` the rest) → AMQP topic binding key (`*`,
/// `#`), word by word on `.`.
///
/// Only whole words are wildcards (`a*.b` is literal in both). ActiveMQ's `>` matches one or
/// more trailing words while AMQP's `#` matches zero or more, so `a.>` also receives what is
/// sent to `a` itself: the nearest AMQP can express. A literal `#` in a JMS topic name has
/// no escape in AMQP and becomes a wildcard.
pub fn jms_topic_to_amqp(pattern: &str) -> String {
    map_words(pattern, |w| if w == ">" { "#" } else { w })
}

/// AMQP topic binding key → ActiveMQ/JMS wildcards (`#` → `>`, `*` stays).
pub fn amqp_topic_to_jms(key: &str) -> String {
    map_words(key, |w| if w == "#" { ">" } else { w })
}

fn map_words<'a>(text: &'a str, f: impl Fn(&'a str) -> &'a str) -> String {
    text.split('.').map(f).collect::<Vec<_>>().join(".")
}

/// The most bytes an AMQP queue name may have.
const MAX_QUEUE_NAME: usize = 255;

/// The durable queue name for a durable topic subscriber (client id `C`, subscription name
/// `S`), as DESIGN.md §4: `C:S`.
///
/// Why `C:S` and not RabbitMQ STOMP's `stomp-subscription-<base64(md5(destination, id))>`
/// (used there for `durable:true` + `id`, unless `x-queue-name` names the queue):
/// - JMS identifies a durable subscription by (client id, subscription name), not by the
///   topic: re-subscribing with the same pair and another topic must find (and re-bind or
///   replace) the *same* queue, which a name hashed from the destination cannot do;
/// - `C:S` is ActiveMQ Classic's own key for it (`SubscriptionKey.toString()`), so operators
///   migrating from ActiveMQ recognise the queue in the management UI.
///
/// The STOMP session passes the CONNECT `client-id` header (ActiveMQ) as `C` and the
/// `activemq.subscriptionName`, `durable-subscription-name` or `id` header as `S`; a SUBSCRIBE
/// carrying `x-queue-name` names its queue explicitly, as in RabbitMQ.
///
/// The mapping is injective: `%` and `:` are percent-encoded in `C` so the first `:` always
/// separates, and a leading `amq.` (reserved for the server in AMQP) is written `amq%2E`.
/// Names over 255 bytes keep a readable prefix and end in `~` + 32 hex digits of
/// SHA-256(`C` NUL `S`).
pub fn durable_subscription_queue(client_id: &str, subscription: &str) -> String {
    let mut c = client_id.replace('%', "%25").replace(':', "%3A");
    if c.starts_with("amq.") {
        c.replace_range(3..4, "%2E");
    }
    let name = format!("{c}:{subscription}");
    if name.len() <= MAX_QUEUE_NAME {
        return name;
    }
    let mut hasher = Sha256::new();
    hasher.update(client_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(subscription.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    // 255 - '~' - 32 hex digits; cut on a char boundary.
    let mut keep = MAX_QUEUE_NAME - 1 - hex.len();
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}~{hex}", &name[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use StompDestination::*;

    fn ex(e: &str, k: &str) -> StompDestination {
        Exchange {
            exchange: e.into(),
            routing_key: k.into(),
        }
    }

    #[test]
    fn parses_every_prefix() {
        let cases = [
            ("/queue/orders", Queue("orders".into())),
            ("/topic/prices.eu", Topic("prices.eu".into())),
            ("/topic/prices.>", Topic("prices.>".into())),
            ("/exchange/logs", ex("logs", "")),
            ("/exchange/logs/app.error", ex("logs", "app.error")),
            ("/amq/queue/existing", AmqQueue("existing".into())),
            ("/temp-queue/replies", TempQueue("replies".into())),
            ("/reply-queue/amq.gen-x/y", ReplyQueue("amq.gen-x/y".into())),
            ("/queue/a%2Fb", Queue("a/b".into())),
            ("/queue/a%2fb%25c", Queue("a/b%c".into())),
            ("/queue/100%", Queue("100%".into())),
            ("/exchange/e%2F1/k%2F2", ex("e/1", "k/2")),
        ];
        for (text, want) in cases {
            assert_eq!(parse_stomp(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn refuses_bad_destinations() {
        for bad in [
            "",
            "orders",
            "queue://orders",
            "/queue/",
            "/queue",
            "/queue/a/b",
            "/topic/",
            "/exchange/",
            "/exchange//k",
            "/exchange/e/k/x",
            "/amq/queue/",
            "/temp-queue/",
            "/reply-queue/",
            "/unknown/x",
            "/QUEUE/x",
        ] {
            assert!(parse_stomp(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn formats_back() {
        for text in [
            "/queue/orders",
            "/topic/a.b",
            "/exchange/logs",
            "/exchange/logs/k",
            "/amq/queue/q",
            "/temp-queue/t",
            "/reply-queue/amq.gen-1/2",
            "/queue/a%2Fb%25c",
        ] {
            assert_eq!(format_stomp(&parse_stomp(text).unwrap()), text);
        }
    }

    #[test]
    fn publish_targets_follow_design_section_4() {
        let t = |d: &str| publish_target(&parse_stomp(d).unwrap());
        assert_eq!(t("/queue/q"), ("".into(), "q".into()));
        assert_eq!(t("/topic/a.b"), ("amq.topic".into(), "a.b".into()));
        assert_eq!(t("/exchange/e/k"), ("e".into(), "k".into()));
        assert_eq!(t("/exchange/e"), ("e".into(), "".into()));
        assert_eq!(t("/amq/queue/q"), ("".into(), "q".into()));
        assert_eq!(t("/temp-queue/t"), ("".into(), "t".into()));
        assert_eq!(t("/reply-queue/r"), ("".into(), "r".into()));
        assert_eq!(from_publish("", "q"), Queue("q".into()));
        assert_eq!(from_publish("amq.topic", "t"), Topic("t".into()));
        assert_eq!(from_publish("e", ""), ex("e", ""));
    }

    #[test]
    fn wildcards() {
        assert_eq!(jms_topic_to_amqp("prices.*.eu"), "prices.*.eu");
        assert_eq!(jms_topic_to_amqp("prices.>"), "prices.#");
        assert_eq!(jms_topic_to_amqp(">"), "#");
        assert_eq!(jms_topic_to_amqp("a>.b"), "a>.b");
        assert_eq!(jms_topic_to_amqp("plain"), "plain");
        assert_eq!(amqp_topic_to_jms("a.#"), "a.>");
        assert_eq!(amqp_topic_to_jms("*.b.#"), "*.b.>");
        assert_eq!(amqp_topic_to_jms("a#.b"), "a#.b");
    }

    #[test]
    fn durable_subscription_names() {
        assert_eq!(durable_subscription_queue("app1", "orders"), "app1:orders");
        assert_eq!(durable_subscription_queue("a:b", "c"), "a%3Ab:c");
        assert_eq!(durable_subscription_queue("a", "b:c"), "a:b:c");
        assert_eq!(durable_subscription_queue("amq.x", "s"), "amq%2Ex:s");
        assert_ne!(
            durable_subscription_queue("a:b", "c"),
            durable_subscription_queue("a", "b:c")
        );
        let long = durable_subscription_queue(&"é".repeat(200), "s");
        assert!(long.len() <= 255 && long.contains('~'), "{long}");
        assert_ne!(long, durable_subscription_queue(&"é".repeat(200), "t"));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_formats_back(text in "\\PC{0,40}") {
            if let Ok(d) = parse_stomp(&text) {
                let again = parse_stomp(&format_stomp(&d)).unwrap();
                prop_assert_eq!(again, d);
            }
        }

        #[test]
        fn names_round_trip(name in "\\PC{1,20}") {
            for d in [Queue(name.clone()), Topic(name.clone()), AmqQueue(name.clone()),
                      TempQueue(name.clone()), ReplyQueue(name.clone()), ex(&name, &name), ex(&name, "")] {
                prop_assert_eq!(parse_stomp(&format_stomp(&d)).unwrap(), d);
            }
        }

        #[test]
        fn wildcard_conversion_is_symmetric(words in proptest::collection::vec("[a-z]{1,4}|\\*|>", 1..5)) {
            let jms = words.join(".");
            prop_assert_eq!(amqp_topic_to_jms(&jms_topic_to_amqp(&jms)), jms);
        }

        #[test]
        fn durable_names_fit(c in "\\PC{0,300}", s in "\\PC{0,300}") {
            prop_assert!(durable_subscription_queue(&c, &s).len() <= 255);
        }
    }
}
