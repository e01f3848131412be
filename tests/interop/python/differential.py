"""Differential test: the same scenarios on two brokers must give the same transcript.

    AMQP_URL=amqp://...mqbridge... REFERENCE_AMQP_URL=amqp://...rabbitmq... pytest differential.py

Each scenario drives a pika BlockingConnection and records a normalised transcript: method
names, reply codes and the symbolic part of reply texts, message bodies, properties,
headers, redelivered flags, return reasons. Server-generated names (amq.gen-*), consumer tags,
the per-run name prefix and timestamps are normalised away. The transcripts must be equal;
when they differ the test fails with a unified diff.
"""

import datetime
import difflib
import json
import os
import time
import uuid

import pika
import pytest


def _url(var):
    url = os.environ.get(var)
    if not url:
        pytest.fail(f"{var} is not set (scripts/test.sh sets both AMQP_URL and REFERENCE_AMQP_URL)")
    return url


# Headers whose presence depends on the RabbitMQ version, not on correctness: RabbitMQ 3.13
# added x-last-death-{reason,queue,exchange} next to x-death (the Debian reference is 3.10).
VERSION_DEPENDENT_HEADERS = {"x-last-death-reason", "x-last-death-queue", "x-last-death-exchange"}


class Recorder:
    def __init__(self, url):
        self.url = url
        self.prefix = f"diff.{uuid.uuid4().hex[:8]}."
        self.lines: list[str] = []
        self.conns: list[pika.BlockingConnection] = []
        self.queues: list[str] = []
        self.exchanges: list[str] = []
        self.generated: dict[str, str] = {}

    # -- naming / normalising
    def q(self, label):
        name = self.prefix + label
        self.queues.append(name)
        return name

    def x(self, label):
        name = self.prefix + label
        self.exchanges.append(name)
        return name

    def norm(self, value):
        if isinstance(value, bytes):
            try:
                return self.norm(value.decode())
            except UnicodeDecodeError:
                return "bytes:" + value.hex()
        if isinstance(value, str):
            value = value.replace(self.prefix, "<p>")
            for real, alias in self.generated.items():
                value = value.replace(real, alias)
            return value
        if isinstance(value, datetime.datetime):
            return "<timestamp>"
        if isinstance(value, dict):
            return {self.norm(k): (("<timestamp>" if k == "time" else self.norm(v)))
                    for k, v in sorted(value.items()) if k not in VERSION_DEPENDENT_HEADERS}
        if isinstance(value, (list, tuple)):
            return [self.norm(v) for v in value]
        return value

    def rec(self, event, **fields):
        payload = json.dumps(self.norm(fields), sort_keys=True, default=str)
        self.lines.append(f"{event} {payload}")

    def props(self, p: pika.BasicProperties):
        out = {}
        for k in ("content_type", "content_encoding", "headers", "delivery_mode", "priority",
                  "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
                  "user_id", "app_id"):
            v = getattr(p, k)
            if v is not None:
                out[k] = v
        return out

    def delivery(self, event, method, props, body):
        fields = {"body": body, "props": self.props(props)}
        for k in ("redelivered", "exchange", "routing_key", "message_count", "delivery_tag",
                  "reply_code", "reply_text"):
            if hasattr(method, k):
                fields[k] = getattr(method, k)
        self.rec(event, **fields)

    # -- connections
    def connect(self):
        params = pika.URLParameters(self.url)
        params.connection_attempts = 1
        params.socket_timeout = 10
        c = pika.BlockingConnection(params)
        self.conns.append(c)
        return c

    def channel_error(self, exc):
        code = getattr(exc, "reply_code", None)
        text = getattr(exc, "reply_text", "") or ""
        self.rec("error", kind=type(exc).__name__, code=code, text=text.split(" - ")[0])

    def close(self):
        try:
            c = self.connect()
            for q in self.queues:
                ch = c.channel()
                try:
                    ch.queue_delete(q)
                except Exception:
                    pass
            for x in self.exchanges:
                ch = c.channel()
                try:
                    ch.exchange_delete(x)
                except Exception:
                    pass
        except Exception:
            pass
        for c in self.conns:
            try:
                if c.is_open:
                    c.close()
            except Exception:
                pass


def pump(conn, pred, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not pred():
        conn.process_data_events(time_limit=0.05)


def drain(r: Recorder, ch, q, ack=True):
    while True:
        m, p, b = ch.basic_get(q, auto_ack=ack)
        if m is None:
            r.rec("get-empty", queue=q)
            return
        r.delivery("get-ok", m, p, b)


# ------------------------------------------------------------------ scenarios


def sc_routing(r: Recorder):
    c = r.connect()
    ch = c.channel()
    xs = {kind: r.x(kind) for kind in ("direct", "fanout", "topic", "headers")}
    for kind, name in xs.items():
        ch.exchange_declare(name, kind)
    qs = {k: r.q(k) for k in ("d1", "f1", "f2", "t1", "t2", "h1")}
    for q in qs.values():
        ok = ch.queue_declare(q)
        r.rec("queue.declare-ok", queue=ok.method.queue, messages=ok.method.message_count)
    ch.queue_bind(qs["d1"], xs["direct"], "k1")
    ch.queue_bind(qs["f1"], xs["fanout"], "")
    ch.queue_bind(qs["f2"], xs["fanout"], "")
    ch.queue_bind(qs["t1"], xs["topic"], "a.*.c")
    ch.queue_bind(qs["t2"], xs["topic"], "a.#")
    ch.queue_bind(qs["h1"], xs["headers"], "", {"x-match": "any", "k": "v", "n": 1})
    props = pika.BasicProperties(content_type="text/plain", headers={"k": "v", "i": 7, "neg": -70000,
                                 "b": False, "l": [1, "two"], "t": {"x": 1}},
                                 message_id="m", correlation_id="c", priority=4, type="t")
    for x, key in [(xs["direct"], "k1"), (xs["direct"], "k2"), (xs["fanout"], "z"),
                   (xs["topic"], "a.b.c"), (xs["topic"], "a"), (xs["topic"], "b.a"),
                   (xs["headers"], "")]:
        ch.basic_publish(x, key, f"{key}@{x}".encode(), props)
    time.sleep(0.1)
    for q in qs.values():
        drain(r, ch, q)


def sc_errors(r: Recorder):
    c = r.connect()
    q = r.q("e")
    for action in (
        lambda ch: ch.queue_declare(r.q("missing"), passive=True),
        lambda ch: ch.exchange_declare(r.x("missing"), "direct", passive=True),
        lambda ch: (ch.queue_declare(q, arguments={"x-max-length": 1}),
                    ch.queue_declare(q, arguments={"x-max-length": 2})),
        lambda ch: ch.exchange_declare("amq.direct", "fanout"),
        lambda ch: ch.exchange_declare("amq.custom", "direct"),
        lambda ch: ch.queue_bind(q, r.x("missing"), "k"),
        lambda ch: (ch.basic_ack(42), ch.queue_declare(q, passive=True)),
        lambda ch: ch.tx_commit(),
        lambda ch: (ch.confirm_delivery(), ch.basic_publish(r.x("nope"), "k", b"x")),
    ):
        ch = c.channel()
        try:
            action(ch)
            r.rec("ok")
        except pika.exceptions.ChannelClosedByBroker as e:
            r.channel_error(e)
        r.rec("connection-open", value=c.is_open)
    params = pika.URLParameters(r.url)
    params.credentials = pika.PlainCredentials("guest", "bad")
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params)
        r.rec("login-ok")
    except pika.exceptions.AMQPConnectionError as e:
        r.rec("login-refused", kind=type(e).__name__, access_refused="ACCESS_REFUSED" in str(e))


def sc_acks_and_returns(r: Recorder):
    c = r.connect()
    ch = c.channel()
    q = r.q("a")
    ch.queue_declare(q)
    returned = []
    ch.add_on_return_callback(lambda _c, m, p, b: returned.append((m, p, b)))
    ch.basic_publish("", r.q("nowhere"), b"returned", pika.BasicProperties(app_id="x"),
                     mandatory=True)
    pump(c, lambda: returned)
    for m, p, b in returned:
        r.delivery("basic.return", m, p, b)
    for i in range(4):
        ch.basic_publish("", q, f"m{i}".encode())
    time.sleep(0.1)
    m0, _, b0 = ch.basic_get(q)
    m1, _, b1 = ch.basic_get(q)
    r.rec("got", bodies=[b0, b1], tags=[m0.delivery_tag, m1.delivery_tag])
    ch.basic_nack(m0.delivery_tag, requeue=True)
    ch.basic_reject(m1.delivery_tag, requeue=False)
    drain(r, ch, q, ack=False)
    ch.close()
    ch = c.channel()
    drain(r, ch, q)


def sc_consumers(r: Recorder):
    c = r.connect()
    ch = c.channel()
    q = r.q("c")
    ch.queue_declare(q)
    ch.basic_qos(prefetch_count=2)
    got = []
    tag = ch.basic_consume(q, lambda _c, m, p, b: got.append((m, b)))
    r.generated[tag] = "<ctag>"
    for i in range(5):
        ch.basic_publish("", q, f"c{i}".encode())
    pump(c, lambda: len(got) >= 2)
    c.process_data_events(time_limit=0.3)
    r.rec("delivered-before-ack", bodies=[b for _, b in got])
    ch.basic_ack(got[-1][0].delivery_tag, multiple=True)
    pump(c, lambda: len(got) >= 4)
    c.process_data_events(time_limit=0.3)
    r.rec("delivered-after-ack", bodies=[b for _, b in got],
          tags=[m.delivery_tag for m, _ in got], ctag=[m.consumer_tag for m, _ in got])
    cancels = []
    ch.add_on_cancel_callback(lambda f: cancels.append(f.method))
    other = r.connect().channel()
    ok = other.queue_delete(q)
    r.rec("queue.delete-ok", messages=ok.method.message_count)
    pump(c, lambda: cancels)
    r.rec("broker-cancel", methods=[type(m).__name__ for m in cancels],
          tags=[m.consumer_tag for m in cancels])


def sc_queue_features(r: Recorder):
    c = r.connect()
    ch = c.channel()
    dlx = r.x("dlx")
    ch.exchange_declare(dlx, "fanout")
    dlq = r.q("dlq")
    ch.queue_declare(dlq)
    ch.queue_bind(dlq, dlx, "")
    q = r.q("feat")
    ch.queue_declare(q, arguments={"x-max-length": 2, "x-dead-letter-exchange": dlx,
                                   "x-max-priority": 5})
    for prio in (1, 3, 5):
        ch.basic_publish("", q, f"p{prio}".encode(), pika.BasicProperties(priority=prio))
    time.sleep(0.2)
    m, p, b = ch.basic_get(q)
    r.delivery("get-ok", m, p, b)
    ch.basic_reject(m.delivery_tag, requeue=False)
    time.sleep(0.2)
    drain(r, ch, q)
    drain(r, ch, dlq)
    ttl = r.q("ttl")
    ch.queue_declare(ttl, arguments={"x-message-ttl": 100, "x-dead-letter-exchange": dlx})
    ch.basic_publish("", ttl, b"expire-me")
    time.sleep(0.5)
    drain(r, ch, ttl)
    drain(r, ch, dlq)
    gen = ch.queue_declare("", exclusive=True).method.queue
    r.generated[gen] = "<generated>"
    r.rec("server-named", prefix=gen.split("-")[0] + "-", alias=gen)
    ch.basic_publish("", gen, b"g")
    time.sleep(0.1)
    r.rec("purge-ok", count=ch.queue_purge(gen).method.message_count)


def sc_tx_confirms(r: Recorder):
    c = r.connect()
    ch = c.channel()
    q = r.q("tx")
    ch.queue_declare(q, durable=True)
    ch.tx_select()
    ch.basic_publish("", q, b"committed", pika.BasicProperties(delivery_mode=2))
    ch.tx_commit()
    ch.basic_publish("", q, b"rolled-back")
    ch.tx_rollback()
    ch2 = c.channel()
    ch2.confirm_delivery()
    for i in range(3):
        ch2.basic_publish("", q, f"conf{i}".encode(), pika.BasicProperties(delivery_mode=2))
    try:
        ch2.basic_publish(r.x("nope"), "", b"x")
    except pika.exceptions.ChannelClosedByBroker as e:
        r.channel_error(e)
    drain(r, c.channel(), q)


SCENARIOS = [sc_routing, sc_errors, sc_acks_and_returns, sc_consumers, sc_queue_features,
             sc_tx_confirms]


def transcript(url, scenario):
    r = Recorder(url)
    try:
        scenario(r)
    except Exception as e:  # an unexpected failure is part of the transcript
        r.rec("exception", kind=type(e).__name__, text=str(e).split(" - ")[0])
    finally:
        r.close()
    return r.lines


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_same_transcript(scenario):
    url, ref = _url("AMQP_URL"), _url("REFERENCE_AMQP_URL")
    reference = transcript(ref, scenario)
    actual = transcript(url, scenario)
    assert not any(line.startswith("exception") for line in reference), \
        "scenario broke on the reference broker:\n" + "\n".join(reference)
    if actual != reference:
        diff = "\n".join(difflib.unified_diff(reference, actual, "reference (RabbitMQ)",
                                              "under test", lineterm=""))
        pytest.fail(f"transcripts differ for {scenario.__name__}:\n{diff}")
    assert len(reference) > 3


if __name__ == "__main__":
    import sys

    for sc in SCENARIOS:
        print(f"== {sc.__name__}")
        print("\n".join(transcript(sys.argv[1] if len(sys.argv) > 1 else os.environ["AMQP_URL"], sc)))
