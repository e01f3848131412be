//! Tests of the `connections:` and `routes:` sections.

use std::time::Duration;

use super::*;

fn ok(text: &str) -> Config {
    match parse(text, "routes.yaml") {
        Ok(c) => c,
        Err(e) => panic!("expected a valid file, got:\n{e}"),
    }
}

/// The error's first line is `routes.yaml:LINE:COL: ` + `message_start`...
fn assert_err(text: &str, line: u64, column: u64, message_start: &str) {
    let e = match parse(text, "routes.yaml") {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    };
    let shown = e.to_string();
    let expected = format!("routes.yaml:{line}:{column}: {message_start}");
    assert!(
        shown
            .lines()
            .next()
            .unwrap_or_default()
            .starts_with(&expected),
        "expected `{expected}...`, got:\n{shown}"
    );
}

const CONNECTIONS: &str = r#"
connections:
  legacy: { openwire: "failover:(tcp://amq1:61616,tcp://amq2)?randomize=false", user: app, password: pw, client_id: bridge }
  amq-stomp: { stomp: "tcp://127.0.0.1:61633", user: admin, password: admin }
  rabbit: { amqp: ["amqp://rabbit1:5682/%2f", "amqp://rabbit2/vh"], user: "br idge", password: "p@ss" }
  mail: { smtp: "smtp://127.0.0.1:2525", from: "bridge@example.com" }
"#;

#[test]
fn a_full_routes_file() {
    let text = format!(
        "{CONNECTIONS}{}",
        r#"
routes:
  - name: orders-to-rabbit
    from: { connection: legacy, queue: orders, selector: "region = 'EU'" }
    to: { connection: rabbit, exchange: orders, routing_key: "{type}.{header.region|none}" }
    headers: { set: { x-source: activemq }, rename: { legacy_id: order_id }, remove: [internal] }
    retry: { attempts: 3, backoff: "50ms..2s" }
    dead_letter: { queue: orders.failed }
    in_flight: 1
  - name: durable
    from: { connection: amq-stomp, topic: prices, subscription: bridge-prices }
    to: { queue: prices }
  - name: alerts-by-mail
    from: { queue: alerts }
    to: { connection: mail, to: "ops@example.com, {header.owner}", subject: "{header.subject|alert}" }
  - name: back
    from: { connection: rabbit, queue: replies }
    to: { connection: amq-stomp, destination: "/queue/replies.{header.region}" }
"#
    );
    let config = ok(&text);
    assert_eq!(config.connections.len(), 4);
    let legacy = config.connection("legacy").unwrap();
    assert_eq!(
        legacy.kind,
        ConnectionKind::OpenWire {
            addresses: vec!["amq1:61616".into(), "amq2:61616".into()],
            user: Some("app".into()),
            password: Some(Secret("pw".into())),
            client_id: Some("bridge".into()),
        }
    );
    let ConnectionKind::Amqp { urls, .. } = &config.connection("rabbit").unwrap().kind else {
        panic!("rabbit is amqp");
    };
    assert_eq!(urls[0].0, "amqp://br%20idge:p%40ss@rabbit1:5682/%2f");
    assert_eq!(urls[1].0, "amqp://br%20idge:p%40ss@rabbit2/vh");
    // Secrets stay out of Debug output.
    assert!(!format!("{config:?}").contains("p%40ss"));

    let r = &config.routes[0];
    assert_eq!(r.name, "orders-to-rabbit");
    assert_eq!(r.from.connection.as_deref(), Some("legacy"));
    assert_eq!(r.from.address, SourceAddress::Queue("orders".into()));
    assert_eq!(r.from.selector.as_deref(), Some("region = 'EU'"));
    assert!(
        matches!(&r.to.address, TargetAddress::Exchange { exchange, routing_key }
        if exchange.as_str() == "orders" && routing_key.as_str() == "{type}.{header.region|none}")
    );
    assert_eq!(r.headers.remove, vec!["internal".to_string()]);
    assert_eq!(
        r.headers.rename,
        vec![("legacy_id".into(), "order_id".into())]
    );
    assert_eq!(r.retry.attempts, 3);
    assert_eq!(r.retry.initial_backoff, Duration::from_millis(50));
    assert_eq!(r.retry.max_backoff, Duration::from_secs(2));
    assert_eq!(r.in_flight, 1);
    assert_eq!(r.dead_letter.as_ref().unwrap().connection, None);

    assert_eq!(
        config.routes[1].from.address,
        SourceAddress::Topic {
            name: "prices".into(),
            subscription: Some("bridge-prices".into())
        }
    );
    let TargetAddress::Mail(mail) = &config.routes[2].to.address else {
        panic!("mail target");
    };
    assert_eq!(mail.to.len(), 2);
    assert_eq!(config.routes[2].in_flight, DEFAULT_IN_FLIGHT);
    assert!(matches!(
        &config.routes[3].to.address,
        TargetAddress::Destination(_)
    ));
}

#[test]
fn password_env_is_read_at_load() {
    std::env::set_var("MQB_TEST_ROUTES_PW", "from-env");
    let config =
        ok("connections:\n  s: { stomp: \"h:1\", user: u, password_env: MQB_TEST_ROUTES_PW }\n");
    assert!(matches!(&config.connections[0].kind,
        ConnectionKind::Stomp { password: Some(p), .. } if p.0 == "from-env"));
    assert_err(
        "connections:\n  s: { stomp: \"h:1\", user: u, password_env: MQB_TEST_ROUTES_UNSET_X }\n",
        2,
        45,
        "connections.s.password_env: the environment variable MQB_TEST_ROUTES_UNSET_X is not set",
    );
}

#[test]
fn bad_connections_point_at_the_value() {
    assert_err(
        "connections:\n  a: { amqp: \"http://x\" }\n",
        2,
        14,
        "connections.a.amqp: 'http://x' is not an amqp://",
    );
    assert_err(
        "connections:\n  a: { user: x }\n",
        2,
        6,
        "connections.a: give exactly one of amqp, stomp, openwire or smtp",
    );
    assert_err(
        "connections:\n  m: { smtp: \"smtp://h:25\" }\n",
        2,
        6,
        "connections.m: an smtp connection needs `from`",
    );
    assert_err(
        "connections:\n  o: { openwire: \"tcp://h:6161x\" }\n",
        2,
        18,
        "connections.o.openwire: 'tcp://h:6161x': the port",
    );
    assert_err(
        "connections:\n  o: { openwire: \"tcp://h:1\", host: vh }\n",
        2,
        37,
        "connections.o.host: only for stomp connections",
    );
    assert_err(
        "connections:\n  o: { openwire: \"tcp://h:1\", colour: red }\n",
        2,
        31,
        "unknown field `colour`",
    );
}

#[test]
fn bad_routes_point_at_the_value() {
    let with = |routes: &str| format!("{CONNECTIONS}routes:\n{routes}");
    // CONNECTIONS is 6 lines (a leading blank line), `routes:` is line 7.
    assert_err(
        &with("  - name: r\n    from: { connection: nope, queue: q }\n    to: { queue: x }\n"),
        9,
        25,
        "routes.r.from.connection: no connection named 'nope' (connections: amq-stomp, legacy, mail, rabbit)",
    );
    assert_err(
        &with("  - name: r\n    from: { queue: q, selector: \"a = \" }\n    to: { queue: x }\n"),
        9,
        33,
        "routes.r.from.selector:",
    );
    assert_err(
        &with("  - name: r\n    from: { queue: q }\n    to: { queue: \"x.{header.}\" }\n"),
        10,
        18,
        "routes.r.to.queue: 'header.' needs a header name",
    );
    assert_err(
        &with("  - name: r\n    from: { connection: rabbit, topic: t }\n    to: { queue: x }\n"),
        9,
        40,
        "routes.r.from.topic: an amqp source reads a queue",
    );
    assert_err(
        &with("  - name: r\n    from: { connection: mail, queue: q }\n    to: { queue: x }\n"),
        9,
        11,
        "routes.r.from: an smtp connection can only be a target",
    );
    assert_err(
        &with("  - name: r\n    from: { queue: q }\n    to: { connection: mail, subject: hi }\n"),
        10,
        9,
        "routes.r.to: an smtp target needs recipients",
    );
    assert_err(
        &with("  - name: r\n    from: { queue: q }\n    to: { connection: rabbit, topic: t }\n"),
        10,
        38,
        "routes.r.to.topic: an amqp target is an exchange",
    );
    assert_err(
        &with("  - name: r\n    from: { queue: q }\n    to: { queue: x }\n    retry: { backoff: \"5s..1s\" }\n"),
        11,
        23,
        "routes.r.retry.backoff: '5s..1s': the first backoff is longer",
    );
    assert_err(
        &with("  - name: r\n    from: { queue: q }\n    to: { queue: x }\n  - name: r\n    from: { queue: q }\n    to: { queue: y }\n"),
        11,
        11,
        "routes: two routes are named 'r'",
    );
    assert_err(
        &with("  - name: r\n    from: { connection: amq-stomp, topic: t, subscription: s }\n    to: { queue: x }\n    dead_letter: { connection: mail, to: a@b }\n"),
        11,
        18,
        "routes.r.dead_letter: dead letters cannot go to mail",
    );
}

#[test]
fn two_sources_cannot_share_a_client_id() {
    let text = format!(
        "{CONNECTIONS}routes:\n  - name: a\n    from: {{ connection: legacy, queue: q }}\n    to: {{ queue: x }}\n  - name: b\n    from: {{ connection: legacy, queue: r }}\n    to: {{ queue: x }}\n"
    );
    assert_err(
        &text,
        12,
        25,
        "routes.b.from.connection: route 'a' already reads through 'legacy'",
    );
}

#[test]
fn a_core_queue_cannot_route_to_itself() {
    assert_err(
        "routes:\n  - name: r\n    from: { queue: q }\n    to: { queue: q }\n",
        4,
        9,
        "routes.r.to: queue 'q' is the route's own source",
    );
    // Another vhost's queue of the same name is another queue.
    let config = ok("vhosts: [\"/\", other]\nroutes:\n  - name: r\n    from: { queue: q }\n    to: { queue: q, vhost: other }\n");
    assert_eq!(config.routes.len(), 1);
}

#[test]
fn durations_and_backoffs() {
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert!(parse_duration("5").is_err());
    assert!(parse_duration("5d").is_err());
    assert_eq!(
        parse_backoff("1s"),
        Ok((Duration::from_secs(1), Duration::from_secs(1)))
    );
    assert!(parse_backoff("0ms..1s").is_err());
}
