"""Cross-protocol: stomp.py and pika on the same broker, named by path.

    test_stomp_amqp_*        STOMP in, AMQP 0-9-1 out
    test_amqp_stomp_*        AMQP 0-9-1 in, STOMP out
    test_stomp_amqp_stomp_*  STOMP -> AMQP consumer republishes unchanged -> STOMP

Env: STOMP_HOST_PORT, AMQP_URL (the same broker), STOMP_BROKER=mqbridge|rabbitmq.
"""

import decimal
import json
import time

import pika
import pytest

from conftest import settled_count
from stomp_helpers import Stomp, is_rabbitmq, mqbridge_only


@pytest.fixture
def st():
    clients = []

    def make(**kw):
        c = Stomp(**kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def amqp_get(ch, queue):
    m, p, b = ch.basic_get(queue, auto_ack=True)
    assert m is not None, f"queue {queue} is empty"
    return p, b


# RabbitMQ 3.10 copies the `receipt`, `content-length` and `transaction` frame headers into the
# AMQP headers table; mqbridge does not (an intended difference).
RABBITMQ_LEAKS = {"receipt", "content-length", "transaction"}

STOMP_PROPS = {
    "persistent": "true",
    "content-type": "text/plain",
    "content-encoding": "identity",
    "correlation-id": "corr-1",
    "reply-to": "/queue/replies",
    "priority": "5",
    "type": "order.created",
    "expiration": "60000",
    "amqp-message-id": "msg-1",
    "app-id": "app-1",
    "user-id": "guest",
}
CUSTOM = {"region": "EU", "x-trace": "t-1", "n": "42", "empty": ""}


# STOMP `timestamp`: RabbitMQ copies it to the AMQP timestamp (seconds) as it is; mqbridge
# reads it as milliseconds (JMS/ActiveMQ, DESIGN §5): AMQP timestamp = ms / 1000 plus the
# exact value in the `JMSTimestamp` header, and back. An intended difference.
TS_S = 1700000000
TS_MS = 1700000000123


def test_stomp_amqp_send_maps_properties(st, names, ch):
    q = names.queue()
    s = st()
    ts = str(TS_S) if is_rabbitmq() else str(TS_MS)
    s.send_receipt(f"/queue/{q}", b"payload", **STOMP_PROPS, **CUSTOM, timestamp=ts)
    p, b = amqp_get(ch, q)
    assert b == b"payload"
    assert p.delivery_mode == 2
    assert p.content_type == "text/plain"
    assert p.content_encoding == "identity"
    assert p.correlation_id == "corr-1"
    assert p.reply_to == "/queue/replies"
    assert p.priority == 5
    assert p.type == "order.created"
    assert p.expiration == "60000"
    assert p.message_id == "msg-1"
    assert p.timestamp == TS_S
    assert p.app_id == "app-1"
    assert p.user_id == "guest"
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (p.headers or {}).items()}
    for k, v in CUSTOM.items():
        assert headers.get(k) == v, f"custom header {k}: {headers}"
    if not is_rabbitmq():
        assert headers.get("JMSTimestamp") == TS_MS, headers
    extra = set(headers) - set(CUSTOM)
    allowed = RABBITMQ_LEAKS if is_rabbitmq() else {"JMSTimestamp"}
    assert extra <= allowed, f"frame/property headers leaked into the AMQP headers: {extra - allowed}"


def test_stomp_amqp_non_persistent_is_transient(st, names, ch):
    q = names.queue()
    s = st()
    s.send_receipt(f"/queue/{q}", b"t")
    p, _ = amqp_get(ch, q)
    assert p.delivery_mode in (None, 1)


def test_stomp_amqp_topic_reaches_bound_queue(st, names, ch):
    key = f"stx.{names.token}.evt"
    q_exact, q_wild, q_other = names.queue("exact"), names.queue("wild"), names.queue("other")
    for q in (q_exact, q_wild, q_other):
        ch.queue_declare(q)
    ch.queue_bind(q_exact, "amq.topic", key)
    ch.queue_bind(q_wild, "amq.topic", f"stx.{names.token}.*")
    ch.queue_bind(q_other, "amq.topic", f"stx.{names.token}.nope")
    s = st()
    s.send_receipt(f"/topic/{key}", b"event", **{"content-type": "application/json", "k": "v"})
    for q in (q_exact, q_wild):
        assert settled_count(ch, q, 1) == 1, q
        p, b = amqp_get(ch, q)
        assert b == b"event"
        assert p.content_type == "application/json"
        assert (p.headers or {}).get("k") in ("v", b"v")
    assert settled_count(ch, q_other, 0) == 0


def test_stomp_amqp_exchange_destination(st, names, ch):
    x, q = names.exchange(), names.queue()
    ch.exchange_declare(x, "topic")
    ch.queue_declare(q)
    ch.queue_bind(q, x, "a.#")
    s = st()
    s.send_receipt(f"/exchange/{x}/a.b.c", b"routed", priority="3")
    p, b = amqp_get(ch, q)
    assert (b, p.priority) == (b"routed", 3)


def test_stomp_amqp_temp_queue_reply_to_is_real_queue(st, names, ch):
    q = names.queue("svc")
    ch.queue_declare(q, durable=True)
    s = st()
    s.send_receipt(f"/queue/{q}", b"ping", **{"reply-to": "/temp-queue/rpc", "correlation-id": "k1"})
    p, _ = amqp_get(ch, q)
    assert p.reply_to and not p.reply_to.startswith("/"), p.reply_to
    # an AMQP server answers the usual way: default exchange, routing key = reply_to
    ch.basic_publish("", p.reply_to, b"pong", pika.BasicProperties(correlation_id=p.correlation_id))
    m = s.listener.wait_messages(1)[0]
    assert (m.body, m.headers["correlation-id"]) == (b"pong", "k1")


def test_amqp_stomp_properties_become_headers(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    props = pika.BasicProperties(
        content_type="text/plain", content_encoding="identity", delivery_mode=2, priority=6,
        correlation_id="c-9", reply_to="replies", expiration="60000", message_id="mid-9",
        timestamp=1700000001, type="t-9", user_id="guest", app_id="app-9",
        headers={"region": "EU", "n": 7, "s": "str"})
    ch.basic_publish("", q, b"from amqp", props)
    s = st()
    s.subscribe(f"/queue/{q}", id="s", ack="auto")
    m = s.listener.wait_messages(1)[0]
    h = m.headers
    assert m.body == b"from amqp"
    assert h["persistent"] == "true"
    assert h["content-type"] == "text/plain"
    assert h["content-encoding"] == "identity"
    assert h["priority"] == "6"
    assert h["correlation-id"] == "c-9"
    assert h["reply-to"] == "/reply-queue/replies", "a bare AMQP reply_to is a queue name"
    assert h["expiration"] == "60000"
    assert h["amqp-message-id"] == "mid-9"
    if not is_rabbitmq():  # ActiveMQ's absolute `expires` (ms) next to RabbitMQ's `expiration`
        now_ms = int(time.time() * 1000)
        assert now_ms + 50000 <= int(h["expires"]) <= now_ms + 61000, h["expires"]
    assert h["timestamp"] == ("1700000001" if is_rabbitmq() else "1700000001000"), "s (RabbitMQ) / ms (mqbridge)"
    assert h["type"] == "t-9"
    assert h["user-id"] == "guest"
    assert h["app-id"] == "app-9"
    assert (h["region"], h["n"], h["s"]) == ("EU", "7", "str")
    assert h["message-id"] and h["destination"] == f"/queue/{q}"


def test_amqp_stomp_topic_subscriber(st, names, ch):
    key = f"stx.{names.token}.news"
    s = st()
    s.subscribe(f"/topic/stx.{names.token}.*", id="t", ack="auto", headers={"receipt": "r"})
    s.listener.wait_receipt("r")
    ch.basic_publish("amq.topic", key, b"breaking", pika.BasicProperties(headers={"k": "v"}))
    ch.basic_publish("amq.topic", f"stx.{names.token}.a.b", b"not matching")
    m = s.listener.wait_messages(1)[0]
    assert (m.body, m.headers["k"]) == (b"breaking", "v")
    assert m.headers["destination"] == f"/topic/{key}"
    assert len(s.listener.quiet(0.3)) == 1


def test_amqp_stomp_dead_letter_x_death(st, names, ch):
    """x-death (an array of tables) reaches STOMP on mqbridge; RabbitMQ drops it."""
    q, dlq = names.queue("src"), names.queue("dlq")
    ch.queue_declare(dlq, durable=True)
    ch.queue_declare(q, durable=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"doomed", pika.BasicProperties(headers={"keep": "me"}))
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    s = st()
    s.subscribe(f"/queue/{dlq}", id="d", ack="auto")
    f = s.listener.wait_messages(1)[0]
    assert f.body == b"doomed" and f.headers["keep"] == "me"
    if is_rabbitmq():
        assert "x-death" not in f.headers, "RabbitMQ drops table/array headers"
        assert f.headers.get("x-first-death-queue") == q
    else:
        death = json.loads(f.headers["x-death"])
        assert isinstance(death, list) and death[0]["queue"] == q and death[0]["reason"] == "rejected"
        assert "mqbridge-types" in f.headers


@mqbridge_only
def test_amqp_stomp_amqp_typed_headers_round_trip(st, names, ch):
    """Typed AMQP headers survive a STOMP hop when the STOMP client sends the headers back."""
    q1, q2 = names.queue("in"), names.queue("out")
    ch.queue_declare(q1, durable=True)
    ch.queue_declare(q2, durable=True)
    headers = {"i": 7, "big": 2 ** 40, "neg": -70000, "b": True, "d": decimal.Decimal("12.34"), "s": "str",
               "t": {"x": 1, "y": "z"}, "l": [1, "two", False], "bytes": b"\x00\x01"}
    ch.basic_publish("", q1, b"typed", pika.BasicProperties(headers=headers))
    s = st()
    s.subscribe(f"/queue/{q1}", id="s", ack="auto")
    m = s.listener.wait_messages(1)[0]
    h = m.headers
    assert (h["i"], h["big"], h["neg"], h["b"], h["s"]) == ("7", str(2 ** 40), "-70000", "true", "str")
    assert json.loads(h["t"]) == {"x": 1, "y": "z"}
    assert json.loads(h["l"]) == [1, "two", False]
    types = json.loads(h["mqbridge-types"])
    assert set(types) >= {"i", "big", "neg", "b", "d", "t", "l", "bytes"}, types
    back = {k: v for k, v in h.items()
            if k not in ("destination", "message-id", "subscription", "content-length", "ack", "redelivered")}
    s.send_receipt(f"/queue/{q2}", m.body, **back)
    p, b = amqp_get(ch, q2)
    assert b == b"typed"
    got = dict(p.headers)
    assert got == headers, f"typed headers changed on the way through STOMP: {got}"


def test_stomp_amqp_stomp_round_trip_keeps_headers(st, names, ch):
    q_in, q_out = names.queue("in"), names.queue("out")
    ch.queue_declare(q_in, durable=True)
    ch.queue_declare(q_out, durable=True)
    sent = {**STOMP_PROPS, **CUSTOM}
    s = st()
    s.send_receipt(f"/queue/{q_in}", b"\x00round\xfftrip", **sent)
    p, b = amqp_get(ch, q_in)
    ch.basic_publish("", q_out, b, p)  # an AMQP relay: everything unchanged
    s.subscribe(f"/queue/{q_out}", id="o", ack="auto")
    m = s.listener.wait_messages(1)[0]
    assert m.body == b"\x00round\xfftrip"
    for k, v in sent.items():
        assert m.headers.get(k) == v, f"header {k}: sent {v!r}, got {m.headers.get(k)!r}"


def test_stomp_amqp_stomp_escaped_values_round_trip(st, names, ch):
    q_in, q_out = names.queue("in"), names.queue("out")
    ch.queue_declare(q_in, durable=True)
    ch.queue_declare(q_out, durable=True)
    odd = {"odd": "a:b\nc\\d", "utf8": "żółć ✓"}
    s = st()
    s.send_receipt(f"/queue/{q_in}", b"x", **odd)
    p, b = amqp_get(ch, q_in)
    ch.basic_publish("", q_out, b, p)
    s.subscribe(f"/queue/{q_out}", id="o", ack="auto")
    m = s.listener.wait_messages(1)[0]
    assert {k: m.headers.get(k) for k in odd} == odd


@mqbridge_only
def test_amqp_stomp_selector_on_amqp_published(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    s = st()
    s.subscribe(f"/queue/{q}", id="sel", ack="auto",
                headers={"selector": "region = 'EU' AND JMSCorrelationID LIKE 'ok%'", "receipt": "r"})
    s.listener.wait_receipt("r")
    for region, corr in [("EU", "ok-1"), ("US", "ok-2"), ("EU", "no-3"), ("EU", "ok-4")]:
        ch.basic_publish("", q, f"{region}/{corr}".encode(),
                         pika.BasicProperties(correlation_id=corr, headers={"region": region}))
    s.listener.wait_messages(2)
    assert [m.body for m in s.listener.quiet(0.4)] == [b"EU/ok-1", b"EU/ok-4"]
