"""Exchange types, bindings, alternate exchange, mandatory returns."""

import pika
import pytest
from conftest import bodies, connect, wait_until

PERSISTENT = pika.DeliveryMode.Persistent


def test_default_exchange_roundtrip_keeps_properties(ch, names):
    q = names.queue()
    ok = ch.queue_declare(q)
    assert ok.method.queue == q
    assert ok.method.message_count == 0 and ok.method.consumer_count == 0
    props = pika.BasicProperties(
        content_type="application/json",
        content_encoding="utf-8",
        headers={"str": "v", "int": 42, "neg": -7, "bool": True, "nested": {"k": "v"}},
        delivery_mode=PERSISTENT,
        priority=3,
        correlation_id="corr-1",
        reply_to="reply.q",
        expiration="60000",
        message_id="msg-1",
        timestamp=1700000000,
        type="order.created",
        app_id="interop",
    )
    body = b'{"hello": "world"}' + bytes(range(256))
    ch.basic_publish("", q, body, props)
    method, got, got_body = ch.basic_get(q, auto_ack=True)
    assert method is not None, "message did not arrive through the default exchange"
    assert got_body == body
    assert method.exchange == "" and method.routing_key == q
    assert method.redelivered is False
    assert method.message_count == 0
    assert got.content_type == "application/json"
    assert got.content_encoding == "utf-8"
    assert got.headers == {"str": "v", "int": 42, "neg": -7, "bool": True, "nested": {"k": "v"}}
    assert got.delivery_mode == 2
    assert got.priority == 3
    assert got.correlation_id == "corr-1"
    assert got.reply_to == "reply.q"
    assert got.expiration == "60000"
    assert got.message_id == "msg-1"
    assert got.timestamp == 1700000000
    assert got.type == "order.created"
    assert got.app_id == "interop"


def test_empty_and_large_bodies(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    big = bytes(i % 251 for i in range(1_000_000))  # spans many frames
    ch.basic_publish("", q, b"")
    ch.basic_publish("", q, big)
    assert bodies(ch, q) == [b"", big]


def test_direct_exchange_routes_by_exact_key(ch, names):
    x = names.exchange()
    qa, qb, qab = names.queue("a"), names.queue("b"), names.queue("ab")
    ch.exchange_declare(x, "direct")
    for q in (qa, qb, qab):
        ch.queue_declare(q)
    ch.queue_bind(qa, x, "a")
    ch.queue_bind(qb, x, "b")
    ch.queue_bind(qab, x, "a")
    ch.queue_bind(qab, x, "b")
    for key in ("a", "b", "c", "a.b"):
        ch.basic_publish(x, key, key.encode())
    assert bodies(ch, qa) == [b"a"]
    assert bodies(ch, qb) == [b"b"]
    assert bodies(ch, qab) == [b"a", b"b"]
    ch.queue_unbind(qab, x, "a")
    ch.basic_publish(x, "a", b"again")
    assert bodies(ch, qa) == [b"again"]
    assert bodies(ch, qab) == []


def test_fanout_exchange_copies_to_every_queue(ch, names):
    x = names.exchange()
    qs = [names.queue(f"f{i}") for i in range(3)]
    ch.exchange_declare(x, "fanout")
    for q in qs:
        ch.queue_declare(q)
        ch.queue_bind(q, x, "ignored-key")
    ch.basic_publish(x, "any.key", b"m1")
    ch.basic_publish(x, "", b"m2")
    for q in qs:
        assert bodies(ch, q) == [b"m1", b"m2"]


def test_topic_exchange_star_and_hash(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "topic")
    patterns = {
        "star": "stock.*.nyse",
        "hash_tail": "stock.#",
        "hash_all": "#",
        "hash_mid": "a.#.z",
        "star_only": "*",
        "exact": "stock.usd.nyse",
    }
    queues = {}
    for label, pattern in patterns.items():
        q = names.queue(label)
        queues[label] = q
        ch.queue_declare(q)
        ch.queue_bind(q, x, pattern)
    keys = ["stock.usd.nyse", "stock.eur.nyse.extra", "stock", "a.z", "a.b.c.z", "a.b", "single", ""]
    for key in keys:
        ch.basic_publish(x, key, key.encode() or b"<empty>")
    got = {label: bodies(ch, q) for label, q in queues.items()}
    assert got["star"] == [b"stock.usd.nyse"]
    assert got["hash_tail"] == [b"stock.usd.nyse", b"stock.eur.nyse.extra", b"stock"]
    assert got["hash_all"] == [k.encode() or b"<empty>" for k in keys]
    assert got["hash_mid"] == [b"a.z", b"a.b.c.z"]
    assert got["star_only"] == [b"stock", b"single"]
    assert got["exact"] == [b"stock.usd.nyse"]


def test_headers_exchange_all_and_any(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "headers")
    q_all, q_any = names.queue("all"), names.queue("any")
    ch.queue_declare(q_all)
    ch.queue_declare(q_any)
    ch.queue_bind(q_all, x, "", arguments={"x-match": "all", "format": "pdf", "type": "report"})
    ch.queue_bind(q_any, x, "", arguments={"x-match": "any", "format": "pdf", "type": "log"})

    def pub(body, headers):
        ch.basic_publish(x, "ignored", body, pika.BasicProperties(headers=headers))

    pub(b"both", {"format": "pdf", "type": "report"})
    pub(b"both+extra", {"format": "pdf", "type": "report", "extra": 1})
    pub(b"format-only", {"format": "pdf"})
    pub(b"type-log", {"type": "log"})
    pub(b"wrong-values", {"format": "zip", "type": "report"})
    pub(b"no-headers", None)
    assert bodies(ch, q_all) == [b"both", b"both+extra"]
    assert bodies(ch, q_any) == [b"both", b"both+extra", b"format-only", b"type-log"]


def test_headers_exchange_default_match_is_all(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "headers")
    q = names.queue()
    ch.queue_declare(q)
    ch.queue_bind(q, x, "", arguments={"a": 1, "b": 2})
    ch.basic_publish(x, "", b"one", pika.BasicProperties(headers={"a": 1}))
    ch.basic_publish(x, "", b"two", pika.BasicProperties(headers={"a": 1, "b": 2}))
    assert bodies(ch, q) == [b"two"]


def test_exchange_to_exchange_binding(ch, names):
    src, dst = names.exchange("src"), names.exchange("dst")
    ch.exchange_declare(src, "topic")
    ch.exchange_declare(dst, "direct")
    q = names.queue()
    ch.queue_declare(q)
    ch.queue_bind(q, dst, "orders.eu")
    ch.exchange_bind(destination=dst, source=src, routing_key="orders.*")
    ch.basic_publish(src, "orders.eu", b"via-e2e")
    ch.basic_publish(src, "orders.us", b"bound-but-no-queue")
    ch.basic_publish(src, "other.eu", b"not-bound")
    assert bodies(ch, q) == [b"via-e2e"]
    ch.exchange_unbind(destination=dst, source=src, routing_key="orders.*")
    ch.basic_publish(src, "orders.eu", b"after-unbind")
    assert bodies(ch, q) == []


def test_alternate_exchange_gets_unroutable(ch, names):
    main, ae = names.exchange("main"), names.exchange("ae")
    ch.exchange_declare(ae, "fanout")
    ch.exchange_declare(main, "direct", arguments={"alternate-exchange": ae})
    q_main, q_ae = names.queue("main"), names.queue("ae")
    ch.queue_declare(q_main)
    ch.queue_declare(q_ae)
    ch.queue_bind(q_main, main, "known")
    ch.queue_bind(q_ae, ae, "")
    ch.basic_publish(main, "known", b"routed")
    ch.basic_publish(main, "unknown", b"unroutable")
    assert bodies(ch, q_main) == [b"routed"]
    ((method, _, body),) = [(m, p, b) for m, p, b in _drain_all(ch, q_ae)]
    assert body == b"unroutable"
    assert method.exchange == main, "the original exchange is kept on AE delivery"
    assert method.routing_key == "unknown"


def _drain_all(ch, q):
    out = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((m, p, b))


def test_mandatory_publish_without_route_is_returned(conn, ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    returned = []
    ch.add_on_return_callback(lambda c, method, props, body: returned.append((method, props, body)))
    ch.basic_publish(x, "nowhere", b"bounce", pika.BasicProperties(message_id="r1"), mandatory=True)
    ch.basic_publish(x, "nowhere", b"dropped-silently", mandatory=False)
    assert wait_until(conn, lambda: len(returned) >= 1)
    conn.process_data_events(time_limit=0.3)
    assert len(returned) == 1, "only the mandatory message comes back"
    method, props, body = returned[0]
    assert method.reply_code == 312
    assert method.reply_text == "NO_ROUTE"
    assert method.exchange == x
    assert method.routing_key == "nowhere"
    assert body == b"bounce"
    assert props.message_id == "r1"


def test_mandatory_publish_to_default_exchange_missing_queue(conn, ch, names):
    returned = []
    ch.add_on_return_callback(lambda c, method, props, body: returned.append(method))
    ch.basic_publish("", names.queue("missing"), b"x", mandatory=True)
    assert wait_until(conn, lambda: returned)
    assert returned[0].reply_code == 312


def test_mandatory_with_confirms_raises_unroutable(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "fanout")
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError) as err:
        ch.basic_publish(x, "", b"no-queue", mandatory=True)
    (msg,) = err.value.messages
    assert msg.body == b"no-queue"
    assert msg.method.reply_code == 312


def test_publish_to_missing_exchange_closes_channel_404(ch, names):
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.basic_publish(names.exchange("missing"), "k", b"x")
    assert err.value.reply_code == 404
    assert err.value.reply_text.startswith("NOT_FOUND")


def test_exchange_passive_declare_and_delete(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "topic", durable=True)
    ch.exchange_declare(x, "topic", passive=True)
    ch.exchange_delete(x)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.exchange_declare(x, "topic", passive=True)
    assert err.value.reply_code == 404


def test_exchange_redeclare_with_other_type_is_406(conn, names):
    ch = conn.channel()
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.exchange_declare(x, "fanout")
    assert err.value.reply_code == 406
    assert err.value.reply_text.startswith("PRECONDITION_FAILED")
    assert conn.is_open, "a channel error must not close the connection"
    conn.channel().exchange_declare(x, "direct", passive=True)


def test_amq_prefix_reserved_is_403(ch):
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.exchange_declare("amq.mqbridge-test", "direct")
    assert err.value.reply_code == 403


def test_builtin_exchanges_exist(ch):
    for name, kind in [("amq.direct", "direct"), ("amq.fanout", "fanout"), ("amq.topic", "topic"),
                       ("amq.headers", "headers"), ("amq.match", "headers")]:
        ch.exchange_declare(name, kind, passive=True)


def test_separate_connection_sees_same_topology(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"cross-connection")
    other = connect()
    try:
        assert bodies(other.channel(), q) == [b"cross-connection"]
    finally:
        other.close()
