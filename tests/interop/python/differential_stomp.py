"""Differential test, STOMP part: the same stomp.py (+ pika) scenarios on two brokers.

    STOMP_HOST_PORT=... AMQP_URL=...                      # mqbridge
    REFERENCE_STOMP_HOST_PORT=... REFERENCE_AMQP_URL=...  # RabbitMQ with rabbitmq_stomp
    pytest differential_stomp.py

    python differential_stomp.py STOMP_HOST_PORT AMQP_URL   # print one broker's transcripts

Each scenario records a normalised transcript: frame commands, the headers a client can rely
on, bodies, and what pika sees on the AMQP side. Session ids, message/ack ids, the server
header, the per-run name prefix and server-generated queue names are normalised away. The
intended differences (tests/interop/README.md) are removed before comparing:

- ERROR frames are compared by command only (the `message` texts differ; RabbitMQ keeps the
  connection open after some errors, mqbridge closes it as STOMP 1.2 requires);
- RabbitMQ copies the `receipt`, `content-length` and `transaction` frame headers into the AMQP headers
  table; mqbridge does not;
- STOMP `timestamp` is seconds in RabbitMQ and milliseconds in mqbridge (JMS): scenarios
  send none;
- mqbridge adds `expires` (absolute ms, for ActiveMQ clients) next to `expiration`, and
  `x-delivery-count` on redeliveries (DESIGN §5);
- mqbridge adds `mqbridge-types` (typed header carriage); RabbitMQ drops table/array/bool
  headers: scenarios use only string and integer headers.
"""

import json
import os
import sys
import time
import uuid

import pika
import pytest

from stomp_helpers import RawStomp, Stomp

# mqbridge adds `expires` (absolute ms, ActiveMQ) next to `expiration` and `x-delivery-count`
# on redeliveries (DESIGN §5); RabbitMQ has neither.
IGNORED_STOMP_HEADERS = {"mqbridge-types", "server", "session", "content-length", "expires", "x-delivery-count"}
IGNORED_AMQP_HEADERS = {"receipt", "content-length", "transaction"}


def _env(var):
    v = os.environ.get(var)
    if not v:
        pytest.fail(f"{var} is not set (scripts/test.sh sets STOMP_HOST_PORT, AMQP_URL and the REFERENCE_ pair)")
    return v


class Recorder:
    def __init__(self, host_port, amqp_url):
        self.hp = host_port
        self.url = amqp_url
        self.prefix = f"sdiff.{uuid.uuid4().hex[:8]}."
        self.lines: list[str] = []
        self.clients: list[Stomp] = []
        self.queues: list[str] = []
        self.exchanges: list[str] = []
        self.aliases: dict[str, str] = {}
        self.amqp = self._amqp()

    def _amqp(self):
        params = pika.URLParameters(self.url)
        params.connection_attempts = 1
        params.socket_timeout = 10
        return pika.BlockingConnection(params)

    def q(self, label):
        self.queues.append(self.prefix + label)
        return self.prefix + label

    def x(self, label):
        self.exchanges.append(self.prefix + label)
        return self.prefix + label

    def alias(self, real, label):
        self.aliases[real] = f"<{label}>"

    def norm(self, v):
        if isinstance(v, bytes):
            try:
                v = v.decode()
            except UnicodeDecodeError:
                return "bytes:" + v.hex()
        if isinstance(v, str):
            for real, a in sorted(self.aliases.items(), key=lambda kv: -len(kv[0])):
                v = v.replace(real, a)
            return v.replace(self.prefix, "<p>")
        if isinstance(v, dict):
            return {self.norm(k): self.norm(x) for k, x in sorted(v.items())}
        if isinstance(v, (list, tuple)):
            return [self.norm(x) for x in v]
        return v

    def rec(self, event, **fields):
        self.lines.append(f"{event} {json.dumps(self.norm(fields), sort_keys=True, default=str)}")

    def stomp(self, **kw):
        c = Stomp(host_port=self.hp, **kw)
        self.clients.append(c)
        return c

    def frame(self, event, f):
        h = {k: v for k, v in f.headers.items() if k not in IGNORED_STOMP_HEADERS}
        for k in ("message-id", "ack"):
            if k in h:
                h[k] = "<id>"
        self.rec(event, headers=h, body=f.body)

    def amqp_get(self, ch, q):
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            self.rec("amqp.get-empty", queue=q)
            return None
        props = {}
        for k in ("content_type", "content_encoding", "delivery_mode", "priority", "correlation_id",
                  "reply_to", "expiration", "message_id", "timestamp", "type", "user_id", "app_id"):
            if getattr(p, k) is not None:
                props[k] = getattr(p, k)
        headers = {k: v for k, v in (p.headers or {}).items() if k not in IGNORED_AMQP_HEADERS}
        self.rec("amqp.get-ok", body=b, props=props, headers=headers, redelivered=m.redelivered)
        return p

    def close(self):
        for c in self.clients:
            c.close()
        try:
            ch = self.amqp.channel()
            for q in self.queues:
                try:
                    ch.queue_delete(q)
                except Exception:
                    ch = self.amqp.channel()
            for x in self.exchanges:
                try:
                    ch.exchange_delete(x)
                except Exception:
                    ch = self.amqp.channel()
            self.amqp.close()
        except Exception:
            pass


def settle(s: Stomp, n, timeout=5.0):
    s.listener.wait_for(lambda: len(s.listener.messages) >= n, timeout)
    time.sleep(0.2)
    return list(s.listener.messages)


# ------------------------------------------------------------------ scenarios

PROPS = {"persistent": "true", "content-type": "text/plain", "correlation-id": "c1",
         "reply-to": "/queue/replies", "priority": "4", "type": "t1", "expiration": "60000",
         "amqp-message-id": "m1", "app-id": "a1", "region": "EU", "n": "42"}


def sc_stomp_to_stomp_ack_modes(r: Recorder):
    q = r.q("acks")
    s = r.stomp()
    s.subscribe(f"/queue/{q}", id="s1", ack="client-individual", headers={"prefetch-count": "10"})
    for i in range(3):
        s.send(f"/queue/{q}", f"m{i}".encode(), headers=PROPS)
    msgs = settle(s, 3)
    for m in msgs:
        r.frame("MESSAGE", m)
    s.nack(msgs[0].headers["ack"])
    s.ack(msgs[1].headers["ack"])
    s.nack(msgs[2].headers["ack"], requeue="false")
    msgs = settle(s, 4)
    for m in msgs[3:]:
        r.frame("MESSAGE(after nack)", m)
    s.ack(msgs[3].headers["ack"])
    s.sync()
    s.disconnect()
    r.amqp_get(r.amqp.channel(), q)


def sc_stomp_to_amqp(r: Recorder):
    q = r.q("s2a")
    s = r.stomp()
    s.send_receipt(f"/queue/{q}", b"to amqp", **PROPS)
    s.send_receipt(f"/queue/{q}", b"plain")
    ch = r.amqp.channel()
    r.amqp_get(ch, q)
    r.amqp_get(ch, q)
    r.amqp_get(ch, q)


def sc_amqp_to_stomp(r: Recorder):
    q = r.q("a2s")
    ch = r.amqp.channel()
    ch.queue_declare(q, durable=True)
    ch.basic_publish("", q, b"from amqp", pika.BasicProperties(
        content_type="application/json", delivery_mode=2, priority=2, correlation_id="c2",
        reply_to="rq", expiration="60000", message_id="m2", type="t2",
        app_id="a2", headers={"s": "v", "n": 7, "neg": -70000}))
    ch.basic_publish("", q, b"bare")
    s = r.stomp()
    s.subscribe(f"/queue/{q}", id="a", ack="auto")
    for m in settle(s, 2):
        r.frame("MESSAGE", m)


def sc_transactions(r: Recorder):
    q = r.q("tx")
    ch = r.amqp.channel()
    ch.queue_declare(q, durable=True)
    s = r.stomp()
    s.begin("t1")
    s.send(f"/queue/{q}", b"committed", headers={"transaction": "t1"})
    s.begin("t2")
    s.send(f"/queue/{q}", b"aborted", headers={"transaction": "t2"})
    s.abort("t2")
    s.commit("t1", headers={"receipt": "c"})
    s.listener.wait_receipt("c")
    r.rec("receipt", id="c")
    time.sleep(0.1)
    r.amqp_get(ch, q)
    r.amqp_get(ch, q)


def sc_destinations(r: Recorder):
    ch = r.amqp.channel()
    x = r.x("ex")
    ch.exchange_declare(x, "direct")
    bound = r.q("bound")
    ch.queue_declare(bound)
    ch.queue_bind(bound, x, "k")
    tq = r.q("topicq")
    ch.queue_declare(tq)
    ch.queue_bind(tq, "amq.topic", f"{r.prefix}t.*")
    s = r.stomp()
    s.subscribe(f"/topic/{r.prefix}t.#", id="topic", ack="auto")
    s.subscribe(f"/exchange/{x}/k2", id="exch", ack="auto", headers={"receipt": "subs"})
    s.listener.wait_receipt("subs")
    s.send(f"/topic/{r.prefix}t.a", b"topic msg", headers={"h": "1"})
    s.send(f"/exchange/{x}/k", b"exchange msg")
    ch.basic_publish(x, "k2", b"to exchange subscriber")
    ch.basic_publish("amq.topic", f"{r.prefix}t.b.c", b"amqp to topic")
    for m in sorted(settle(s, 3), key=lambda m: m.body):
        r.frame("MESSAGE", m)
    s.sync()
    r.amqp_get(ch, bound)
    r.amqp_get(ch, tq)
    r.amqp_get(ch, tq)


def sc_temp_queue(r: Recorder):
    q = r.q("svc")
    ch = r.amqp.channel()
    ch.queue_declare(q, durable=True)
    s = r.stomp()
    s.send_receipt(f"/queue/{q}", b"request", **{"reply-to": "/temp-queue/rpc", "correlation-id": "x"})
    m, p, b = ch.basic_get(q, auto_ack=True)
    r.alias(p.reply_to, "temp")
    r.rec("amqp.get-ok", body=b, reply_to=p.reply_to, starts_with_slash=p.reply_to.startswith("/"))
    ch.basic_publish("", p.reply_to, b"reply", pika.BasicProperties(correlation_id="x"))
    for m in settle(s, 1):
        r.frame("MESSAGE", m)


def sc_errors(r: Recorder):
    cases = [
        ("unknown command", lambda c: c.send("FROB")),
        ("send without destination", lambda c: c.send("SEND", {}, b"x")),
        ("ack of unknown id", lambda c: c.send("ACK", {"id": "nope"})),
        ("subscribe missing /amq/queue", lambda c: c.send(
            "SUBSCRIBE", {"destination": f"/amq/queue/{r.prefix}missing", "id": "1"})),
        ("send to missing exchange", lambda c: c.send("SEND", {"destination": f"/exchange/{r.prefix}missing/k"}, b"x")),
    ]
    for name, action in cases:
        c = RawStomp(host_port=r.hp)
        try:
            c.connect()
            action(c)
            f = c.read_frame()
            r.rec("error-case", case=name, command=f.command if f else None,
                  has_message=bool(f and f.headers.get("message")))
        finally:
            c.close()
    c = RawStomp(host_port=r.hp)
    try:
        c.send("CONNECT", {"accept-version": "1.2", "host": "/", "login": "guest", "passcode": "bad"})
        f = c.read_frame()
        r.rec("error-case", case="bad login", command=f.command if f else None)
    finally:
        c.close()


SCENARIOS = [sc_stomp_to_stomp_ack_modes, sc_stomp_to_amqp, sc_amqp_to_stomp, sc_transactions,
             sc_destinations, sc_temp_queue, sc_errors]


def transcript(host_port, amqp_url, scenario):
    r = Recorder(host_port, amqp_url)
    try:
        scenario(r)
    except Exception as e:  # a failure is part of the transcript
        r.rec("exception", kind=type(e).__name__, text=str(e)[:200])
    finally:
        r.close()
    return r.lines


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_stomp_same_transcript(scenario):
    import difflib

    got = transcript(_env("STOMP_HOST_PORT"), _env("AMQP_URL"), scenario)
    want = transcript(_env("REFERENCE_STOMP_HOST_PORT"), _env("REFERENCE_AMQP_URL"), scenario)
    if got != want:
        diff = "\n".join(difflib.unified_diff(want, got, "reference (RabbitMQ)", "under test", lineterm=""))
        pytest.fail(f"{scenario.__name__}: transcripts differ\n{diff}")
    assert got and not any(line.startswith("exception") for line in want), want


if __name__ == "__main__":
    hp, url = sys.argv[1], sys.argv[2]
    for sc in SCENARIOS:
        print(f"== {sc.__name__}")
        for line in transcript(hp, url, sc):
            print(line)
