//! The HTTP listener: management API on real state (after AMQP, STOMP and OpenWire
//! traffic), its permissions, definitions export/import, /metrics and /readyz.

use std::time::Duration;

use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::BasicProperties;
use serde_json::{json, Value};

use crate::common::http::{get, request, Response, GUEST};
use crate::common::openwire::OwClient;
use crate::common::stomp::StompClient;
use crate::common::{deliveries, lapin_connect, next, start_bridge_with, TestBridge};
use mqbridge::auth::hash_password;
use mqbridge::config::{parse, Config, HashingAlgorithm, ListenerConfig, UserConfig};
use mqbridge::openwire::codec::Destination;
use mqbridge::openwire::message::JmsBody;

fn user(name: &str, password: &str, tags: &[&str]) -> UserConfig {
    UserConfig {
        name: name.into(),
        password_hash: hash_password(HashingAlgorithm::RabbitPasswordHashingSha256, password)
            .expect("hash"),
        hashing_algorithm: HashingAlgorithm::RabbitPasswordHashingSha256,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        loopback_only: None,
        permissions: None,
    }
}

async fn bridge_with_http(adjust: impl FnOnce(&mut Config)) -> (TestBridge, std::net::SocketAddr) {
    let bridge = start_bridge_with(|c| {
        c.listeners.http = Some(ListenerConfig::new("127.0.0.1:0"));
        c.users.push(user("ops", "ops-pw", &["management"]));
        c.users.push(user("app", "app-pw", &[]));
        adjust(c);
    })
    .await;
    let http = bridge.http_addr.expect("HTTP listener bound");
    (bridge, http)
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|o| o[key] == value)
}

/// Poll `path` until `check` holds (rates need a sample or two).
async fn eventually(
    http: std::net::SocketAddr,
    path: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v = get(http, path).await.json();
        if check(&v) || tokio::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_shows_traffic_from_every_protocol() {
    let (bridge, http) = bridge_with_http(|_| {}).await;

    // AMQP: declare, bind, publish with confirms, consume and ack.
    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.expect("channel");
    ch.exchange_declare(
        "orders".into(),
        lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("exchange");
    ch.queue_declare(
        "orders.eu".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("queue");
    ch.queue_bind(
        "orders.eu".into(),
        "orders".into(),
        "eu.#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    for i in 0..20 {
        ch.basic_publish(
            "orders".into(),
            "eu.fr".into(),
            BasicPublishOptions::default(),
            format!("order {i}").as_bytes(),
            BasicProperties::default(),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    }
    let consumer_ch = conn.create_channel().await.expect("channel");
    consumer_ch
        .basic_qos(5, BasicQosOptions::default())
        .await
        .expect("qos");
    let consumer = consumer_ch
        .basic_consume(
            "orders.eu".into(),
            "amqp-consumer".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut rx = deliveries(&consumer);
    let first = next(&mut rx).await.expect("a delivery");
    first.ack(BasicAckOptions::default()).await.expect("ack");

    // STOMP: send to a queue and subscribe to another.
    let (mut stomp, _) = StompClient::open(bridge.stomp_addr).await;
    stomp
        .send_with_receipt(
            "SEND",
            &[("destination", "/queue/stomp.in")],
            b"from stomp",
            "r1",
        )
        .await;
    stomp
        .send(
            "SUBSCRIBE",
            &[("destination", "/queue/stomp.watch"), ("id", "s1")],
            b"",
        )
        .await;

    // OpenWire: a producer and a consumer.
    let mut ow = OwClient::connect(bridge.openwire_addr, "api-test").await;
    ow.producer(None).await;
    let q = Destination::queue("ow.in");
    let m = ow.message(q.clone(), &JmsBody::Text("from openwire".into()));
    ow.send_sync(m).await;
    let (_id, reply) = ow.consume(Destination::queue("ow.watch"), 10, |_| {}).await;
    assert!(matches!(
        reply,
        mqbridge::openwire::codec::Command::Response(_)
    ));

    // Connections, by protocol, with their users and channels.
    let conns = get(http, "/api/connections").await.json();
    for protocol in ["amqp", "stomp", "openwire"] {
        let c = find(&conns, "protocol", protocol)
            .unwrap_or_else(|| panic!("no {protocol} connection in {conns}"));
        assert_eq!(c["user"], "guest");
        assert_eq!(c["vhost"], "/");
        assert_eq!(c["peer_host"], "127.0.0.1");
    }
    let amqp = find(&conns, "protocol", "amqp").expect("amqp");
    assert_eq!(amqp["channels"], 2, "{amqp}");
    let overview = eventually(http, "/api/overview", |o| {
        o["message_stats"]["publish_details"]["rate"].as_f64() > Some(0.0)
    })
    .await;
    assert_eq!(overview["connections_by_protocol"]["amqp"], 1, "{overview}");
    assert_eq!(overview["connections_by_protocol"]["stomp"], 1);
    assert_eq!(overview["connections_by_protocol"]["openwire"], 1);
    assert!(
        overview["object_totals"]["queues"].as_u64() >= Some(5),
        "{overview}"
    );
    assert!(
        overview["message_stats"]["publish"].as_u64() >= Some(22),
        "{overview}"
    );
    assert!(
        overview["message_stats"]["ack"].as_u64() >= Some(1),
        "{overview}"
    );

    // Channels and consumers name their connection.
    let channels = get(http, "/api/channels").await.json();
    let consumer_channel = channels
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["consumer_count"] == 1 && c["connection_details"]["protocol"] == "amqp")
        .unwrap_or_else(|| panic!("no consuming AMQP channel in {channels}"));
    assert_eq!(consumer_channel["prefetch_count"], 5);
    let consumers = get(http, "/api/consumers").await.json();
    let c = find(&consumers, "consumer_tag", "amqp-consumer").expect("the AMQP consumer");
    assert_eq!(c["queue"]["name"], "orders.eu");
    assert_eq!(c["ack_required"], true);
    assert_eq!(c["channel_details"]["protocol"], "amqp");
    assert!(consumers
        .as_array()
        .expect("array")
        .iter()
        .any(
            |c| c["queue"]["name"] == "stomp.watch" && c["channel_details"]["protocol"] == "stomp"
        ));
    assert!(consumers.as_array().expect("array").iter().any(
        |c| c["queue"]["name"] == "ow.watch" && c["channel_details"]["protocol"] == "openwire"
    ));

    // Queues: depth, unacked, consumers, rates.
    let queue = eventually(http, "/api/queues/%2F/orders.eu", |q| {
        q["message_stats"]["publish_details"]["rate"].as_f64() > Some(0.0)
    })
    .await;
    assert_eq!(queue["messages"], 19, "{queue}");
    assert_eq!(queue["messages_unacknowledged"], 5, "{queue}");
    assert_eq!(queue["messages_ready"], 14, "{queue}");
    assert_eq!(queue["consumers"], 1);
    assert_eq!(queue["message_stats"]["publish"], 20);
    assert_eq!(queue["message_stats"]["ack"], 1);
    let queues = get(http, "/api/queues").await.json();
    assert_eq!(
        find(&queues, "name", "stomp.in").expect("stomp.in")["messages"],
        1
    );
    assert_eq!(
        find(&queues, "name", "ow.in").expect("ow.in")["messages"],
        1
    );

    // Exchanges and bindings.
    let exchanges = get(http, "/api/exchanges/%2F").await.json();
    assert_eq!(
        find(&exchanges, "name", "orders").expect("orders")["type"],
        "topic"
    );
    let bindings = get(http, "/api/bindings/%2F").await.json();
    assert!(bindings
        .as_array()
        .expect("array")
        .iter()
        .any(|b| b["source"] == "orders"
            && b["destination"] == "orders.eu"
            && b["routing_key"] == "eu.#"));
    let vhosts = get(http, "/api/vhosts").await.json();
    assert_eq!(vhosts[0]["name"], "/");

    // A connection leaves the list when it closes.
    conn.close(200, "bye".into()).await.expect("close");
    let conns = eventually(http, "/api/connections", |c| {
        find(c, "protocol", "amqp").is_none()
    })
    .await;
    assert!(find(&conns, "protocol", "amqp").is_none(), "{conns}");
    bridge.shutdown().await;
}

fn body(v: Value) -> String {
    v.to_string()
}

#[tokio::test]
async fn declare_publish_get_purge_and_delete_through_the_api() {
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let put = |path: &'static str, v: Value| async move {
        request(http, "PUT", path, GUEST, Some(&body(v))).await
    };
    let r = put(
        "/api/exchanges/%2F/api.x",
        json!({"type": "direct", "durable": true}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = put(
        "/api/exchanges/%2F/api.x",
        json!({"type": "direct", "durable": true}),
    )
    .await;
    assert_eq!(r.status, 204, "declaring again is fine");
    let r = put("/api/exchanges/%2F/api.x", json!({"type": "fanout"})).await;
    assert_eq!(r.status, 400, "inequivalent: {}", r.body);
    assert!(r.json()["reason"]
        .as_str()
        .unwrap_or("")
        .contains("inequivalent"));
    let r = put(
        "/api/queues/%2F/api.q",
        json!({"durable": true, "arguments": {"x-max-length": 100}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = request(
        http,
        "POST",
        "/api/bindings/%2F/e/api.x/q/api.q",
        GUEST,
        Some(&body(json!({"routing_key": "k"}))),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/api/bindings/%2F/e/api.x/q/api.q/k")
    );

    for i in 0..3 {
        let r = request(
            http,
            "POST",
            "/api/exchanges/%2F/api.x/publish",
            GUEST,
            Some(&body(json!({
                "properties": {"delivery_mode": 2, "headers": {"n": i}, "content_type": "text/plain"},
                "routing_key": "k", "payload": format!("hello {i}"), "payload_encoding": "string"
            }))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["routed"], true);
    }
    let r = request(
        http,
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        GUEST,
        Some(&body(
            json!({"properties": {}, "routing_key": "nowhere", "payload": "x"}),
        )),
    )
    .await;
    assert_eq!(r.json()["routed"], false);

    // get with requeue leaves the messages; without requeue takes them.
    let getq = |ackmode: &'static str, count: u32| async move {
        request(
            http,
            "POST",
            "/api/queues/%2F/api.q/get",
            GUEST,
            Some(&body(
                json!({"count": count, "ackmode": ackmode, "encoding": "auto"}),
            )),
        )
        .await
    };
    let r = getq("ack_requeue_true", 2).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = r.json();
    assert_eq!(got.as_array().map(Vec::len), Some(2));
    assert_eq!(got[0]["payload"], "hello 0");
    assert_eq!(got[0]["payload_encoding"], "string");
    assert_eq!(got[0]["properties"]["headers"]["n"], 0);
    assert_eq!(got[0]["properties"]["delivery_mode"], 2);
    assert_eq!(got[0]["routing_key"], "k");
    assert_eq!(
        get(http, "/api/queues/%2F/api.q").await.json()["messages"],
        3
    );
    let again = getq("ack_requeue_true", 1).await.json();
    assert_eq!(
        again[0]["redelivered"], true,
        "a requeued message is redelivered"
    );
    let taken = getq("ack_requeue_false", 1).await.json();
    assert_eq!(taken[0]["payload"], "hello 0");
    assert_eq!(
        get(http, "/api/queues/%2F/api.q").await.json()["messages"],
        2
    );
    assert_eq!(getq("bogus", 1).await.status, 400);

    // purge, unbind, delete.
    let r = request(
        http,
        "DELETE",
        "/api/queues/%2F/api.q/contents",
        GUEST,
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        get(http, "/api/queues/%2F/api.q").await.json()["messages"],
        0
    );
    let r = request(
        http,
        "DELETE",
        "/api/bindings/%2F/e/api.x/q/api.q/k",
        GUEST,
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = request(
        http,
        "DELETE",
        "/api/bindings/%2F/e/api.x/q/api.q/k",
        GUEST,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = request(http, "DELETE", "/api/queues/%2F/api.q", GUEST, None).await;
    assert_eq!(r.status, 204);
    assert_eq!(get(http, "/api/queues/%2F/api.q").await.status, 404);
    let r = request(http, "DELETE", "/api/exchanges/%2F/api.x", GUEST, None).await;
    assert_eq!(r.status, 204);
    assert_eq!(get(http, "/api/exchanges/%2F/api.x").await.status, 404);

    // Bad input: 400/404 with a reason, never a 500.
    for (method, path, b) in [
        ("PUT", "/api/queues/%2F/bad", "{not json"),
        ("PUT", "/api/queues/%2F/bad", r#"{"durable": "yes"}"#),
        (
            "PUT",
            "/api/queues/%2F/bad",
            r#"{"arguments": {"x-max-length": "ten"}}"#,
        ),
        ("PUT", "/api/exchanges/%2F/bad", r#"{"type": "nonsense"}"#),
        (
            "POST",
            "/api/exchanges/%2F/amq.default/publish",
            r#"{"routing_key": "q"}"#,
        ),
        (
            "POST",
            "/api/exchanges/%2F/amq.default/publish",
            r#"{"routing_key": "q", "payload": "x", "payload_encoding": "base64"}"#,
        ),
    ] {
        let r = request(http, method, path, GUEST, Some(b)).await;
        assert_eq!(r.status, 400, "{method} {path} {b}: {}", r.body);
        assert!(r.json()["reason"].is_string());
    }
    assert_eq!(get(http, "/api/queues/nope").await.status, 404);
    assert_eq!(get(http, "/api/nothing/here").await.status, 404);
    let r = request(http, "PUT", "/api/queues/%2F/amq.q", GUEST, Some("{}")).await;
    assert_eq!(r.status, 403, "amq. names are reserved");
    bridge.shutdown().await;
}

#[tokio::test]
async fn the_api_needs_a_management_user() {
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let r = request(http, "GET", "/api/overview", None, None).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    let r = request(http, "GET", "/api/overview", Some(("guest", "wrong")), None).await;
    assert_eq!(r.status, 401);
    let r = request(http, "GET", "/api/overview", Some(("nobody", "x")), None).await;
    assert_eq!(r.status, 401);
    // app has no management tag: it may use the protocols, not the API.
    let r = request(http, "GET", "/api/overview", Some(("app", "app-pw")), None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("Not management user"), "{}", r.body);
    // ops (management) may use the API, but definitions need administrator.
    let ops = Some(("ops", "ops-pw"));
    assert_eq!(
        request(http, "GET", "/api/overview", ops, None)
            .await
            .status,
        200
    );
    let me = request(http, "GET", "/api/whoami", ops, None).await.json();
    assert_eq!(me, json!({"name": "ops", "tags": ["management"]}));
    assert_eq!(
        request(http, "GET", "/api/definitions", ops, None)
            .await
            .status,
        403
    );
    assert_eq!(
        request(http, "POST", "/api/definitions", ops, Some("{}"))
            .await
            .status,
        403
    );
    // Health and metrics need no login.
    assert_eq!(
        request(http, "GET", "/healthz", None, None).await.status,
        200
    );
    assert_eq!(
        request(http, "GET", "/metrics", None, None).await.status,
        200
    );
    bridge.shutdown().await;
}

#[tokio::test]
async fn definitions_round_trip_between_two_bridges() {
    let (source, http) = bridge_with_http(|_| {}).await;
    let put = |path: &'static str, v: Value| async move {
        let r = request(http, "PUT", path, GUEST, Some(&body(v))).await;
        assert!(r.status == 201 || r.status == 204, "{path}: {}", r.body);
    };
    put("/api/exchanges/%2F/defs.x", json!({"type": "topic"})).await;
    put(
        "/api/queues/%2F/defs.q",
        json!({"arguments": {"x-message-ttl": 60000}}),
    )
    .await;
    let r = request(
        http,
        "POST",
        "/api/bindings/%2F/e/defs.x/q/defs.q",
        GUEST,
        Some(r#"{"routing_key": "a.*"}"#),
    )
    .await;
    assert_eq!(r.status, 201);
    let defs = get(http, "/api/definitions").await.json();
    assert_eq!(defs["vhosts"][0]["name"], "/");
    assert!(
        find(&defs["exchanges"], "name", "defs.x").is_some(),
        "{defs}"
    );
    assert_eq!(
        find(&defs["queues"], "name", "defs.q").expect("queue")["arguments"]["x-message-ttl"],
        60000
    );
    assert!(find(&defs["bindings"], "routing_key", "a.*").is_some());

    let (target, http2) = bridge_with_http(|_| {}).await;
    let r = request(
        http2,
        "POST",
        "/api/definitions",
        GUEST,
        Some(&defs.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let q = get(http2, "/api/queues/%2F/defs.q").await.json();
    assert_eq!(q["arguments"]["x-message-ttl"], 60000);
    let b = get(http2, "/api/bindings/%2F/e/defs.x/q/defs.q")
        .await
        .json();
    assert_eq!(b[0]["routing_key"], "a.*");
    // A document that is not definitions is a 400, and nothing is half-applied by it.
    let r = request(
        http2,
        "POST",
        "/api/definitions",
        GUEST,
        Some(r#"{"queues": 5}"#),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    source.shutdown().await;
    target.shutdown().await;
}

/// A definitions file exported by the Debian RabbitMQ (`rabbitmqctl export_definitions`),
/// given by the CI step in MQB_RABBITMQ_DEFINITIONS, imports into mqbridge.
#[tokio::test]
async fn rabbitmq_definitions_import() {
    let Ok(path) = std::env::var("MQB_RABBITMQ_DEFINITIONS") else {
        eprintln!("MQB_RABBITMQ_DEFINITIONS unset: skipping the RabbitMQ definitions import");
        return;
    };
    let text = std::fs::read_to_string(&path).expect("definitions file");
    let defs: Value = serde_json::from_str(&text).expect("JSON");
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let r = request(http, "POST", "/api/definitions", GUEST, Some(&text)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for q in defs["queues"].as_array().expect("queues") {
        let vhost = q["vhost"].as_str().expect("vhost").replace('/', "%2F");
        let name = q["name"].as_str().expect("name");
        let got = get(http, &format!("/api/queues/{vhost}/{name}")).await;
        assert_eq!(got.status, 200, "queue {name}: {}", got.body);
        assert_eq!(got.json()["durable"], q["durable"]);
        assert_eq!(got.json()["arguments"], q["arguments"], "queue {name}");
    }
    for x in defs["exchanges"].as_array().expect("exchanges") {
        let vhost = x["vhost"].as_str().expect("vhost").replace('/', "%2F");
        let name = x["name"].as_str().expect("name");
        let got = get(http, &format!("/api/exchanges/{vhost}/{name}"))
            .await
            .json();
        assert_eq!(got["type"], x["type"], "exchange {name}");
    }
    let exported = get(http, "/api/definitions").await.json();
    for b in defs["bindings"].as_array().expect("bindings") {
        assert!(
            exported["bindings"]
                .as_array()
                .expect("bindings")
                .iter()
                .any(|e| e["source"] == b["source"]
                    && e["destination"] == b["destination"]
                    && e["routing_key"] == b["routing_key"]),
            "binding {b} missing after import"
        );
    }
    for u in defs["users"].as_array().expect("users") {
        assert!(
            find(
                &exported["users"],
                "name",
                u["name"].as_str().expect("name")
            )
            .is_some(),
            "user {u} missing after import"
        );
    }
    bridge.shutdown().await;
}

fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_traffic() {
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let text = request(http, "GET", "/metrics", None, None).await;
    assert!(text
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    assert_eq!(
        metric(&text.body, "mqbridge_connections{protocol=\"amqp\"}"),
        Some(0.0)
    );

    let conn = lapin_connect(&bridge).await;
    let ch = conn.create_channel().await.expect("channel");
    ch.queue_declare(
        "m.q".into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("queue");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    for _ in 0..10 {
        ch.basic_publish(
            "".into(),
            "m.q".into(),
            BasicPublishOptions::default(),
            b"persistent",
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    }
    let (mut stomp, _) = StompClient::open(bridge.stomp_addr).await;
    stomp
        .send_with_receipt("SEND", &[("destination", "/queue/m.q")], b"via stomp", "r")
        .await;

    let text = request(http, "GET", "/metrics", None, None).await.body;
    assert_eq!(
        metric(&text, "mqbridge_connections{protocol=\"amqp\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "mqbridge_connections{protocol=\"stomp\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "mqbridge_queue_messages_ready{vhost=\"/\",queue=\"m.q\"}"
        ),
        Some(11.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "mqbridge_queue_messages_published_total{vhost=\"/\",queue=\"m.q\"}"
        ),
        Some(11.0)
    );
    assert!(metric(&text, "mqbridge_messages_published_total{vhost=\"/\"}") >= Some(11.0));
    // Every confirmed publish recorded its latency; the persistent ones were fsynced.
    assert!(
        metric(&text, "mqbridge_confirm_latency_seconds_count") >= Some(11.0),
        "{text}"
    );
    assert!(
        metric(&text, "mqbridge_store_fsync_seconds_count") >= Some(1.0),
        "{text}"
    );
    assert!(metric(&text, "mqbridge_store_size_bytes") > Some(0.0));

    let consumer = ch
        .basic_consume(
            "m.q".into(),
            "m".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut rx = deliveries(&consumer);
    for _ in 0..11 {
        next(&mut rx).await.expect("delivery");
    }
    let text = request(http, "GET", "/metrics", None, None).await.body;
    assert_eq!(
        metric(
            &text,
            "mqbridge_queue_messages_ready{vhost=\"/\",queue=\"m.q\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        metric(
            &text,
            "mqbridge_queue_messages_acked_total{vhost=\"/\",queue=\"m.q\"}"
        ),
        Some(11.0)
    );
    assert_eq!(
        metric(&text, "mqbridge_queue_consumers{vhost=\"/\",queue=\"m.q\"}"),
        Some(1.0)
    );
    bridge.shutdown().await;
}

/// `/readyz` follows the routes: not ready while a route's external broker is down, ready
/// again once it is back. The external broker is a second mqbridge, stopped and restarted
/// on the same addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_routes_external_broker() {
    let peer = crate::common::start_bridge().await;
    let (amqp, stomp, openwire) = (peer.amqp_addr, peer.stomp_addr, peer.openwire_addr);
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let config = parse(
        &format!(
            r#"
listeners:
  http: {{ bind: "127.0.0.1:0" }}
connections:
  peer: {{ amqp: "amqp://guest:guest@{amqp}/%2f" }}
routes:
  - name: from-peer
    from: {{ connection: peer, queue: ready.src }}
    to: {{ queue: ready.dst }}
    retry: {{ backoff: "50ms..200ms" }}
"#
        ),
        "ready.yaml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    {
        let vhost = peer.bridge.broker.vhost("/").expect("vhost");
        vhost
            .queue_declare(
                "ready.src",
                mqbridge::broker::vhost::QueueOptions {
                    durable: true,
                    ..Default::default()
                },
                peer.bridge.broker.next_connection_id(),
            )
            .expect("declare");
    }
    bridge.bridge.reloader.apply(config).await.expect("apply");
    let ready = |want: u16| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r: Response = request(http, "GET", "/readyz", None, None).await;
            if r.status == want || tokio::time::Instant::now() > deadline {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let r = ready(200).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let dir = peer.shutdown_keep_dir().await;
    let r = ready(503).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["routes_not_running"][0]["route"], "from-peer");
    let text = request(http, "GET", "/metrics", None, None).await.body;
    assert_eq!(
        metric(&text, "mqbridge_route_up{route=\"from-peer\"}"),
        Some(0.0)
    );
    let peer = crate::common::restart_bridge_at(dir, amqp, stomp, openwire).await;
    let r = ready(200).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let text = request(http, "GET", "/metrics", None, None).await.body;
    assert_eq!(
        metric(&text, "mqbridge_route_up{route=\"from-peer\"}"),
        Some(1.0)
    );
    assert!(
        metric(
            &text,
            "mqbridge_route_reconnects_total{route=\"from-peer\"}"
        ) >= Some(1.0)
    );
    peer.shutdown().await;
    bridge.shutdown().await;
}

/// `limits.max_connections` counts every protocol; one more is refused with each
/// protocol's error, and a slot freed by a close is usable again.
#[tokio::test]
async fn max_connections_refuses_with_each_protocols_error() {
    use mqbridge::openwire::codec::{Command, ExceptionResponse};
    let (bridge, http) = bridge_with_http(|c| c.limits.max_connections = Some(1)).await;
    let first = lapin_connect(&bridge).await;

    let err =
        lapin::Connection::connect(&bridge.amqp_uri(), lapin::ConnectionProperties::default())
            .await
            .expect_err("a second AMQP connection is refused");
    assert_eq!(crate::common::reply_code(&err), Some(530), "{err:?}");

    let mut stomp = StompClient::connect(bridge.stomp_addr).await;
    stomp
        .send("CONNECT", &[("accept-version", "1.2"), ("host", "/")], b"")
        .await;
    let error = stomp.expect_error_and_close().await;
    assert!(
        String::from_utf8_lossy(&error.body).contains("connection limit (1) is reached"),
        "{error:?}"
    );

    let mut ow = OwClient::open(bridge.openwire_addr).await;
    match ow.connection_info("limited").await {
        Command::ExceptionResponse(ExceptionResponse {
            exception: Some(t), ..
        }) => assert!(
            t.message
                .as_deref()
                .is_some_and(|m| m.contains("connection limit (1) is reached")),
            "{t:?}"
        ),
        other => panic!("expected an ExceptionResponse, got {other:?}"),
    }
    let conns = get(http, "/api/connections").await.json();
    assert_eq!(conns.as_array().map(Vec::len), Some(1), "{conns}");

    first.close(200, "bye".into()).await.expect("close");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let again = loop {
        match lapin::Connection::connect(&bridge.amqp_uri(), lapin::ConnectionProperties::default())
            .await
        {
            Ok(c) => break c,
            Err(e) if tokio::time::Instant::now() > deadline => {
                panic!("the freed slot was not reusable: {e:?}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    again.close(200, "bye".into()).await.expect("close");
    bridge.shutdown().await;
}

/// A management user's API calls are held to the same vhost permissions as the protocols.
#[tokio::test]
async fn api_operations_need_the_users_permissions() {
    let (bridge, http) = bridge_with_http(|c| {
        let mut limited = user("limited", "pw", &["management"]);
        limited.permissions = Some(
            [(
                "/".to_string(),
                mqbridge::config::PermissionConfig {
                    configure: "^mine\\.".into(),
                    write: "^mine\\.".into(),
                    read: "^mine\\.".into(),
                },
            )]
            .into_iter()
            .collect(),
        );
        c.users.push(limited);
        c.vhosts.push("other".into());
    })
    .await;
    let limited = Some(("limited", "pw"));
    let r = request(http, "PUT", "/api/queues/%2F/mine.q", limited, Some("{}")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = request(http, "PUT", "/api/queues/%2F/theirs.q", limited, Some("{}")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["reason"]
        .as_str()
        .unwrap_or("")
        .contains("configure"));
    let r = request(
        http,
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        limited,
        Some(r#"{"routing_key": "mine.q", "payload": "x"}"#),
    )
    .await;
    assert_eq!(r.status, 403, "no write on amq.default: {}", r.body);
    let r = request(
        http,
        "POST",
        "/api/queues/%2F/mine.q/get",
        limited,
        Some(r#"{"count": 1, "ackmode": "ack_requeue_true"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The vhost it has no permissions on is invisible and refused.
    let vhosts = request(http, "GET", "/api/vhosts", limited, None)
        .await
        .json();
    assert_eq!(vhosts.as_array().map(Vec::len), Some(1), "{vhosts}");
    let r = request(http, "GET", "/api/queues/other", limited, None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // guest (administrator) sees both.
    let vhosts = get(http, "/api/vhosts").await.json();
    assert_eq!(vhosts.as_array().map(Vec::len), Some(2), "{vhosts}");
    bridge.shutdown().await;
}

/// Users, permissions and vhosts a definitions import adds survive a restart, as in
/// RabbitMQ; an unreadable record of them stops the start instead of locking users out.
#[tokio::test]
async fn imported_users_survive_a_restart() {
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let hash =
        hash_password(HashingAlgorithm::RabbitPasswordHashingSha256, "imp-pw").expect("hash");
    let defs = json!({
        "vhosts": [{"name": "imported"}],
        "users": [{"name": "imp", "password_hash": hash,
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "management"}],
        "permissions": [{"user": "imp", "vhost": "imported",
                         "configure": ".*", "write": ".*", "read": ".*"}],
    });
    let r = request(
        http,
        "POST",
        "/api/definitions",
        GUEST,
        Some(&defs.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let login = |addr: std::net::SocketAddr, vhost: &'static str| async move {
        lapin::Connection::connect(
            &format!("amqp://imp:imp-pw@{addr}/{vhost}"),
            lapin::ConnectionProperties::default(),
        )
        .await
    };
    login(bridge.amqp_addr, "imported")
        .await
        .expect("imp logs in");

    let dir = bridge.shutdown_keep_dir().await;
    let file = dir.path().join("imported-definitions.json");
    let again = crate::common::restart_bridge_with(dir, |c| {
        c.listeners.http = Some(ListenerConfig::new("127.0.0.1:0"));
    })
    .await;
    let http = again.http_addr.expect("http");
    login(again.amqp_addr, "imported")
        .await
        .expect("imp logs in after the restart");
    let err = login(again.amqp_addr, "%2f")
        .await
        .expect_err("no permission on /");
    assert_eq!(crate::common::reply_code(&err), Some(530), "{err:?}");
    let me = request(http, "GET", "/api/whoami", Some(("imp", "imp-pw")), None).await;
    assert_eq!(me.json(), json!({"name": "imp", "tags": ["management"]}));
    let dir = again.shutdown_keep_dir().await;

    std::fs::write(&file, b"{ not json").expect("corrupt the file");
    let mut config = Config::default();
    config.storage.dir = Some(dir.path().to_path_buf());
    let refused = mqbridge::server::start(config)
        .await
        .expect_err("a corrupt file stops the start");
    assert!(refused.contains("imported-definitions.json"), "{refused}");
}

fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `DELETE /api/connections/{name}` closes a client its protocol's way, with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_closed_through_the_api() {
    use mqbridge::openwire::codec::Command;
    let (bridge, http) = bridge_with_http(|_| {}).await;
    let mut amqp = crate::common::raw::RawClient::open(bridge.amqp_addr, 0).await;
    let (mut stomp, _) = StompClient::open(bridge.stomp_addr).await;
    let mut ow = OwClient::connect(bridge.openwire_addr, "to-close").await;

    let conns = get(http, "/api/connections").await.json();
    let name_of = |protocol: &str| {
        find(&conns, "protocol", protocol)
            .and_then(|c| c["name"].as_str())
            .map(path_segment)
            .unwrap_or_else(|| panic!("no {protocol} connection in {conns}"))
    };
    let (amqp_name, stomp_name, ow_name) = (name_of("amqp"), name_of("stomp"), name_of("openwire"));
    let one = get(http, &format!("/api/connections/{amqp_name}")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["protocol"], "amqp");

    // A management user may not close someone else's connection.
    let r = request(
        http,
        "DELETE",
        &format!("/api/connections/{amqp_name}"),
        Some(("ops", "ops-pw")),
        None,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let delete = |name: String| async move {
        let mut stream = tokio::net::TcpStream::connect(http).await.expect("connect");
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let req = format!(
            "DELETE /api/connections/{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\nX-Reason: maintenance window\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut out = String::new();
        stream.read_to_string(&mut out).await.expect("read");
        out
    };
    let r = delete(amqp_name.clone()).await;
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    let (code, text) = amqp.expect_connection_close().await;
    assert_eq!(code, 320);
    assert_eq!(text, "CONNECTION_FORCED - maintenance window");

    let r = delete(stomp_name).await;
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    let error = stomp.expect_error_and_close().await;
    assert!(
        String::from_utf8_lossy(&error.body).contains("maintenance window"),
        "{error:?}"
    );

    let r = delete(ow_name).await;
    assert!(r.starts_with("HTTP/1.1 204"), "{r}");
    let got = ow.read_any_within(Duration::from_secs(5)).await;
    assert!(matches!(got, Some(Command::ShutdownInfo(_))), "{got:?}");

    let conns = eventually(http, "/api/connections", |c| {
        c.as_array().is_some_and(|a| a.is_empty())
    })
    .await;
    assert_eq!(conns, json!([]));
    assert_eq!(
        request(
            http,
            "DELETE",
            &format!("/api/connections/{amqp_name}"),
            GUEST,
            None
        )
        .await
        .status,
        404
    );
    bridge.shutdown().await;
}

/// Log in over AMQP as `user` to `vhost` (percent-encoded).
async fn amqp_login(
    addr: std::net::SocketAddr,
    user: &str,
    password: &str,
    vhost: &str,
) -> Result<lapin::Connection, lapin::Error> {
    lapin::Connection::connect(
        &format!("amqp://{user}:{password}@{addr}/{vhost}"),
        lapin::ConnectionProperties::default(),
    )
    .await
}

fn put(v: Value) -> String {
    v.to_string()
}

/// `/api/users` and `/api/permissions` as in RabbitMQ: a user and its permissions made
/// through the API log in and are held to them at once, survive a restart, and bad input
/// gets 400/404 with the reason; only administrators may use them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_permissions_through_the_api() {
    let root = Some(("root", "root-pw"));
    let (bridge, http) =
        bridge_with_http(|c| c.users.push(user("root", "root-pw", &["administrator"]))).await;

    let r = request(http, "PUT", "/api/vhosts/billing", root, Some("{}")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = request(http, "PUT", "/api/vhosts/billing", root, None).await;
    assert_eq!(r.status, 204, "{}", r.body);

    let alice = put(json!({"password": "alice-pw", "tags": "management"}));
    let r = request(http, "PUT", "/api/users/alice", root, Some(&alice)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let me = request(http, "GET", "/api/users/alice", root, None)
        .await
        .json();
    assert_eq!(me["tags"], json!(["management"]));
    assert_eq!(me["hashing_algorithm"], "rabbit_password_hashing_sha256");
    assert!(find(&get(http, "/api/users").await.json(), "name", "alice").is_some());

    // A new user has no vhost until a permission grants one.
    let err = amqp_login(bridge.amqp_addr, "alice", "alice-pw", "billing")
        .await
        .expect_err("no permission yet");
    assert_eq!(crate::common::reply_code(&err), Some(530), "{err:?}");
    let grant = put(json!({"configure": "^alice\\.", "write": ".*", "read": ".*"}));
    let path = "/api/permissions/billing/alice";
    let r = request(http, "PUT", path, root, Some(&grant)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = request(http, "PUT", path, root, Some(&grant)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let got = request(http, "GET", path, root, None).await.json();
    assert_eq!(got["configure"], "^alice\\.");
    let listed = request(http, "GET", "/api/users/alice/permissions", root, None).await;
    assert_eq!(
        listed.json().as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );
    let listed = request(http, "GET", "/api/vhosts/billing/permissions", root, None).await;
    assert!(
        find(&listed.json(), "user", "alice").is_some(),
        "{}",
        listed.body
    );

    let conn = amqp_login(bridge.amqp_addr, "alice", "alice-pw", "billing")
        .await
        .expect("alice logs in");
    let ch = conn.create_channel().await.expect("channel");
    ch.queue_declare(
        "alice.q".into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("configure on ^alice\\.");
    let err = ch
        .queue_declare(
            "other".into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect_err("no configure on 'other'");
    assert_eq!(crate::common::reply_code(&err), Some(403), "{err:?}");
    let _ = conn.close(200, "bye".into()).await;

    // Bad input.
    for (method, path, body, status) in [
        (
            "PUT",
            "/api/permissions/billing/alice",
            json!({"configure": "(", "write": "", "read": ""}),
            400,
        ),
        (
            "PUT",
            "/api/permissions/billing/alice",
            json!({"configure": ".*"}),
            400,
        ),
        (
            "PUT",
            "/api/permissions/billing/nobody",
            json!({"configure": "", "write": "", "read": ""}),
            404,
        ),
        (
            "PUT",
            "/api/permissions/nowhere/alice",
            json!({"configure": "", "write": "", "read": ""}),
            404,
        ),
        ("PUT", "/api/users/bob", json!({"tags": "management"}), 400),
        (
            "PUT",
            "/api/users/bob",
            json!({"password": "a", "password_hash": "b"}),
            400,
        ),
        (
            "PUT",
            "/api/users/bob",
            json!({"password_hash": "not-a-hash"}),
            400,
        ),
        (
            "PUT",
            "/api/users/bob",
            json!({"password": "a", "tags": 7}),
            400,
        ),
        ("GET", "/api/users/nobody", Value::Null, 404),
        ("DELETE", "/api/users/nobody", Value::Null, 404),
        ("GET", "/api/permissions/%2F/alice", Value::Null, 404),
    ] {
        let body = (!body.is_null()).then(|| body.to_string());
        let r = request(http, method, path, root, body.as_deref()).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(
            !r.json()["reason"].as_str().unwrap_or_default().is_empty(),
            "{}",
            r.body
        );
    }
    assert!(
        !ctx_has_user(http, root, "bob").await,
        "a refused PUT creates nothing"
    );
    // Administrators only.
    let r = request(http, "GET", "/api/users", Some(("ops", "ops-pw")), None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = request(
        http,
        "PUT",
        "/api/users/x",
        Some(("ops", "ops-pw")),
        Some(&alice),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // A new password works at once, and the old one stops working (no cached login).
    let whoami = |pw: &'static str| request(http, "GET", "/api/whoami", Some(("alice", pw)), None);
    assert_eq!(whoami("alice-pw").await.status, 200);
    let changed = put(json!({"password": "new-pw", "tags": ["management", "monitoring"]}));
    let r = request(http, "PUT", "/api/users/alice", root, Some(&changed)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(whoami("alice-pw").await.status, 401);
    assert_eq!(whoami("new-pw").await.status, 200);

    let dir = bridge.shutdown_keep_dir().await;
    let again = crate::common::restart_bridge_with(dir, |c| {
        c.listeners.http = Some(ListenerConfig::new("127.0.0.1:0"));
        c.users.push(user("root", "root-pw", &["administrator"]));
    })
    .await;
    let http = again.http_addr.expect("http");
    amqp_login(again.amqp_addr, "alice", "new-pw", "billing")
        .await
        .expect("alice, her password and her permission survive a restart");
    let me = request(http, "GET", "/api/users/alice", root, None)
        .await
        .json();
    assert_eq!(me["tags"], json!(["management", "monitoring"]));

    let path = "/api/permissions/billing/alice";
    assert_eq!(request(http, "DELETE", path, root, None).await.status, 204);
    assert_eq!(request(http, "DELETE", path, root, None).await.status, 404);
    let err = amqp_login(again.amqp_addr, "alice", "new-pw", "billing")
        .await
        .expect_err("permission gone");
    assert_eq!(crate::common::reply_code(&err), Some(530), "{err:?}");
    again.shutdown().await;
}

async fn ctx_has_user(http: std::net::SocketAddr, auth: Option<(&str, &str)>, name: &str) -> bool {
    request(http, "GET", &format!("/api/users/{name}"), auth, None)
        .await
        .status
        == 200
}

/// `DELETE /api/vhosts/{name}` closes its connections (320) and deletes its queues with
/// their stored messages; a deleted user (even the built-in guest) stays deleted across a
/// restart, while a user the config file names comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vhosts_and_users_are_deleted_for_good() {
    let root = Some(("root", "root-pw"));
    let (bridge, http) =
        bridge_with_http(|c| c.users.push(user("root", "root-pw", &["administrator"]))).await;
    let r = request(http, "PUT", "/api/vhosts/tmp", root, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let grant = put(json!({"configure": ".*", "write": ".*", "read": ".*"}));
    let r = request(http, "PUT", "/api/permissions/tmp/root", root, Some(&grant)).await;
    assert!(r.status == 201 || r.status == 204, "{}", r.body);

    let conn = amqp_login(bridge.amqp_addr, "root", "root-pw", "tmp")
        .await
        .expect("root on tmp");
    let mut events = conn.events_listener();
    let ch = conn.create_channel().await.expect("channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.queue_declare("kept".into(), durable, FieldTable::default())
        .await
        .expect("queue");
    ch.basic_publish(
        "".into(),
        "kept".into(),
        BasicPublishOptions::default(),
        b"stored",
        BasicProperties::default().with_delivery_mode(2),
    )
    .await
    .expect("publish")
    .await
    .expect("confirmed");

    assert_eq!(
        request(http, "DELETE", "/api/vhosts/tmp", root, None)
            .await
            .status,
        204
    );
    let err = tokio::time::timeout(Duration::from_secs(5), async {
        use futures::StreamExt as _;
        loop {
            match events.next().await {
                Some(lapin::Event::Error(e)) => return e,
                Some(_) => continue,
                None => panic!("events ended without an error"),
            }
        }
    })
    .await
    .expect("the connection on tmp is closed");
    assert_eq!(crate::common::reply_code(&err), Some(320), "{err:?}");
    assert_eq!(get(http, "/api/vhosts/tmp").await.status, 404);
    assert_eq!(
        request(http, "DELETE", "/api/vhosts/tmp", root, None)
            .await
            .status,
        404
    );
    let perms = request(http, "GET", "/api/users/root/permissions", root, None)
        .await
        .json();
    assert!(find(&perms, "vhost", "tmp").is_none(), "{perms}");

    assert_eq!(
        request(http, "DELETE", "/api/users/guest", root, None)
            .await
            .status,
        204
    );
    assert_eq!(
        request(http, "DELETE", "/api/users/ops", root, None)
            .await
            .status,
        204
    );
    assert_eq!(get(http, "/api/whoami").await.status, 401, "guest is gone");

    let dir = bridge.shutdown_keep_dir().await;
    let again = crate::common::restart_bridge_with(dir, |c| {
        c.listeners.http = Some(ListenerConfig::new("127.0.0.1:0"));
        c.users.push(user("root", "root-pw", &["administrator"]));
        c.users.push(user("ops", "ops-pw", &["management"]));
    })
    .await;
    let http = again.http_addr.expect("http");
    assert_eq!(
        get(http, "/api/whoami").await.status,
        401,
        "guest stays deleted"
    );
    assert!(
        ctx_has_user(http, root, "ops").await,
        "the config file's ops comes back"
    );
    assert_eq!(
        request(http, "GET", "/api/vhosts/tmp", root, None)
            .await
            .status,
        404
    );
    let err = amqp_login(again.amqp_addr, "root", "root-pw", "tmp")
        .await
        .expect_err("no vhost tmp");
    assert_eq!(crate::common::reply_code(&err), Some(530), "{err:?}");
    let queues = request(http, "GET", "/api/queues", root, None).await.json();
    assert!(find(&queues, "name", "kept").is_none(), "{queues}");
    again.shutdown().await;
}
