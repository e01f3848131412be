"""STOMP 1.0-1.2 with a real client (stomp.py) and raw sockets for malformed input.

    STOMP_HOST_PORT=127.0.0.1:61613 AMQP_URL=amqp://... [STOMP_BROKER=mqbridge|rabbitmq] pytest test_stomp.py

Written to RabbitMQ's STOMP plugin's behaviour where it has the feature; `@mqbridge_only`
tests cover what RabbitMQ lacks (selectors, ActiveMQ headers, typed headers, a frame-size
limit); `is_rabbitmq()` branches pin the documented differences (tests/interop/README.md).
"""

import re
import time

import pika
import pytest

from conftest import message_count, settled_count
from stomp_helpers import RawStomp, Stomp, is_rabbitmq, mqbridge_only


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


@pytest.fixture
def raw():
    socks = []

    def make(**kw):
        r = RawStomp(**kw)
        socks.append(r)
        return r

    yield make
    for r in socks:
        r.close()


def amqp_get(ch, queue):
    m, p, b = ch.basic_get(queue, auto_ack=True)
    assert m is not None, f"queue {queue} is empty"
    return p, b


# ------------------------------------------------------------------ CONNECT


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_connect_negotiates_version(raw, version):
    r = raw()
    f = r.connect(version=version)
    if version != "1.0":
        assert f.headers.get("version") == version
    else:
        assert f.headers.get("version", "1.0") == "1.0"
    assert f.headers.get("session")


def test_connect_picks_highest_common_version_and_stomp_command(raw):
    r = raw()
    r.send("STOMP", {"accept-version": "1.0,1.1,1.2", "host": "/", "login": "guest", "passcode": "guest"})
    f = r.read_frame()
    assert f is not None and f.command == "CONNECTED", f
    assert f.headers["version"] == "1.2"


def test_connect_bad_passcode_error_then_close(raw):
    r = raw()
    r.send("CONNECT", {"accept-version": "1.2", "host": "/", "login": "guest", "passcode": "wrong"})
    f = r.expect_error_and_close(timeout=12)  # RabbitMQ closes ~5 s after a failed login
    assert f.headers["message"]


def test_connect_unknown_vhost_error(raw):
    r = raw()
    r.send("CONNECT", {"accept-version": "1.2", "host": "/no-such-vhost", "login": "guest", "passcode": "guest"})
    f = r.read_frame()
    assert f is not None and f.command == "ERROR", f
    assert f.headers.get("message")


def test_connect_unsupported_version_error(raw):
    r = raw()
    r.send("CONNECT", {"accept-version": "9.9", "host": "/", "login": "guest", "passcode": "guest"})
    f = r.read_frame()
    assert f is not None and f.command == "ERROR", f
    assert f.headers.get("message")


def test_frame_before_connect_error(raw):
    r = raw()
    r.send("SEND", {"destination": "/queue/never"}, b"x")
    f = r.read_frame()
    assert f is not None and f.command == "ERROR", f
    assert f.headers.get("message")


# ------------------------------------------------------------------ SEND / SUBSCRIBE / ack modes


def test_send_subscribe_auto_ack(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="sub-1", ack="auto")
    for i in range(3):
        s.send(f"/queue/{q}", f"m{i}".encode())
    msgs = s.listener.wait_messages(3)
    assert [m.body for m in msgs] == [b"m0", b"m1", b"m2"]
    for m in msgs:
        assert m.headers["destination"] == f"/queue/{q}"
        assert m.headers["subscription"] == "sub-1"
        assert m.headers["message-id"]
        assert "ack" not in m.headers, "auto mode: nothing to ack"
    assert settled_count(ch, q, 0) == 0


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_send_subscribe_older_versions(st, names, version):
    q = names.queue()
    s = st(version=version)
    s.subscribe(f"/queue/{q}", id="s", ack="auto")
    s.send(f"/queue/{q}", b"old")
    assert s.listener.wait_messages(1)[0].body == b"old"


def test_client_ack_is_cumulative(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="c", ack="client")
    for i in range(3):
        s.send(f"/queue/{q}", f"m{i}".encode())
    msgs = s.listener.wait_messages(3)
    s.ack(msgs[1].headers["ack"])  # acks m0 and m1
    s.sync()
    s.disconnect()
    assert settled_count(ch, q, 1) == 1
    p, b = amqp_get(ch, q)
    assert b == b"m2"


def test_client_individual_ack_acks_one(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="ci", ack="client-individual")
    for i in range(3):
        s.send(f"/queue/{q}", f"m{i}".encode())
    msgs = s.listener.wait_messages(3)
    s.ack(msgs[1].headers["ack"])
    s.sync()
    s.disconnect()
    assert settled_count(ch, q, 2) == 2
    got = sorted([amqp_get(ch, q)[1] for _ in range(2)])
    assert got == [b"m0", b"m2"]


def test_unacked_messages_redelivered_on_reconnect(st, names):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="c", ack="client-individual")
    s.send(f"/queue/{q}", b"again")
    m = s.listener.wait_messages(1)[0]
    assert m.headers.get("redelivered", "false") == "false"
    s.disconnect()
    s2 = st()
    s2.subscribe(f"/queue/{q}", id="c", ack="client-individual")
    m2 = s2.listener.wait_messages(1)[0]
    assert m2.body == b"again"
    assert m2.headers.get("redelivered") == "true"
    s2.ack(m2.headers["ack"])


def test_nack_requeues_by_default(st, names):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="n", ack="client-individual")
    s.send(f"/queue/{q}", b"nacked")
    m = s.listener.wait_messages(1)[0]
    s.nack(m.headers["ack"])
    m2 = s.listener.wait_messages(2)[1]
    assert m2.body == b"nacked"
    assert m2.headers.get("redelivered") == "true"
    if not is_rabbitmq():  # JMSXDeliveryCount (DESIGN §5)
        assert m2.headers.get("x-delivery-count") == "1", m2.headers
    s.ack(m2.headers["ack"])


def test_nack_without_requeue_dead_letters(st, names, ch):
    q, dlq = names.queue("work"), names.queue("dead")
    ch.queue_declare(dlq, durable=True)
    ch.queue_declare(q, durable=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    s = st()
    s.subscribe(f"/amq/queue/{q}", id="n", ack="client-individual")
    s.send(f"/amq/queue/{q}", b"to-dlx")
    m = s.listener.wait_messages(1)[0]
    s.nack(m.headers["ack"], requeue="false")
    s.sync()
    assert settled_count(ch, dlq, 1) == 1
    p, b = amqp_get(ch, dlq)
    assert b == b"to-dlx"
    death = p.headers["x-death"][0]
    assert death["queue"] == q and death["reason"] == "rejected"
    assert s.listener.quiet(0.3)[1:] == [], "no redelivery after NACK requeue:false"


def test_nack_without_requeue_no_dlx_drops(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="n", ack="client-individual")
    s.send(f"/queue/{q}", b"gone")
    m = s.listener.wait_messages(1)[0]
    s.nack(m.headers["ack"], requeue="false")
    s.sync()
    s.disconnect()
    time.sleep(0.2)
    assert message_count(ch, q) == 0


def test_prefetch_count_limits_unacked(st, names):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="p", ack="client-individual", headers={"prefetch-count": "2"})
    for i in range(5):
        s.send(f"/queue/{q}", f"m{i}".encode())
    s.listener.wait_messages(2)
    assert len(s.listener.quiet(0.5)) == 2, "prefetch-count:2 allows two unacked messages"
    s.ack(s.listener.messages[0].headers["ack"])
    s.listener.wait_messages(3)
    assert len(s.listener.quiet(0.3)) == 3


@mqbridge_only
def test_activemq_prefetch_size_limits_unacked(st, names):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="p", ack="client-individual", headers={"activemq.prefetchSize": "1"})
    for i in range(3):
        s.send(f"/queue/{q}", f"m{i}".encode())
    s.listener.wait_messages(1)
    assert len(s.listener.quiet(0.5)) == 1, "activemq.prefetchSize:1 allows one unacked message"
    s.ack(s.listener.messages[0].headers["ack"])
    s.listener.wait_messages(2)
    assert len(s.listener.quiet(0.3)) == 2


def test_unsubscribe_stops_delivery(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="u", ack="auto")
    s.send(f"/queue/{q}", b"before")
    s.listener.wait_messages(1)
    s.unsubscribe("u", headers={"receipt": "unsub"})
    s.listener.wait_receipt("unsub")
    s.send_receipt(f"/queue/{q}", b"after")
    assert len(s.listener.quiet(0.4)) == 1
    assert settled_count(ch, q, 1) == 1


# ------------------------------------------------------------------ receipts, DISCONNECT


def test_receipt_on_every_client_frame(st, names):
    q = names.queue()
    s = st()
    c = s.conn
    c.subscribe(f"/queue/{q}", id="r", ack="client-individual", headers={"receipt": "r-sub"})
    c.send(f"/queue/{q}", b"x", headers={"receipt": "r-send"})
    m = s.listener.wait_messages(1)[0]
    c.begin("tx1", headers={"receipt": "r-begin"})
    c.ack(m.headers["ack"], transaction="tx1", receipt="r-ack")
    c.commit("tx1", headers={"receipt": "r-commit"})
    c.begin("tx2")
    c.abort("tx2", headers={"receipt": "r-abort"})
    c.send(f"/queue/{q}", b"y")
    m2 = s.listener.wait_messages(2)[1]
    c.nack(m2.headers["ack"], receipt="r-nack", requeue="false")
    c.unsubscribe("r", headers={"receipt": "r-unsub"})
    for rid in ("r-sub", "r-send", "r-begin", "r-ack", "r-commit", "r-abort", "r-nack", "r-unsub"):
        s.listener.wait_receipt(rid)


def test_persistent_send_receipt_means_stored(st, names, ch):
    q = names.queue()
    s = st()
    s.send_receipt(f"/queue/{q}", b"durable", persistent="true")
    p, b = amqp_get(ch, q)  # the receipt came after the broker had it
    assert b == b"durable" and p.delivery_mode == 2
    ok = ch.queue_declare(q, passive=True)
    assert ok.method.queue == q


def test_disconnect_with_receipt_then_close(raw):
    r = raw()
    r.connect()
    r.send("DISCONNECT", {"receipt": "bye-1"})
    f = r.read_frame()
    assert f is not None and f.command == "RECEIPT" and f.headers["receipt-id"] == "bye-1", f
    assert r.closed_by_peer(5)


# ------------------------------------------------------------------ transactions


def test_transaction_commit_publishes_all(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    s = st()
    s.begin("t1")
    s.send(f"/queue/{q}", b"a", headers={"transaction": "t1"})
    s.send(f"/queue/{q}", b"b", headers={"transaction": "t1"})
    s.sync()
    time.sleep(0.2)
    assert message_count(ch, q) == 0, "nothing before COMMIT"
    s.commit("t1", headers={"receipt": "c1"})
    s.listener.wait_receipt("c1")
    assert settled_count(ch, q, 2) == 2
    assert [amqp_get(ch, q)[1] for _ in range(2)] == [b"a", b"b"]


def test_transaction_abort_discards(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    s = st()
    s.begin("t1")
    s.send(f"/queue/{q}", b"a", headers={"transaction": "t1"})
    s.abort("t1", headers={"receipt": "a1"})
    s.listener.wait_receipt("a1")
    s.send_receipt(f"/queue/{q}", b"outside")
    assert settled_count(ch, q, 1) == 1
    assert amqp_get(ch, q)[1] == b"outside"


def test_transactional_ack_commit_and_abort(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="t", ack="client-individual")
    s.send(f"/queue/{q}", b"kept")
    s.send(f"/queue/{q}", b"acked")
    m1, m2 = s.listener.wait_messages(2)
    s.begin("ta")
    s.ack(m1.headers["ack"], transaction="ta")
    s.abort("ta")
    s.begin("tc")
    s.ack(m2.headers["ack"], transaction="tc")
    s.commit("tc")
    s.sync()
    s.disconnect()
    assert settled_count(ch, q, 1) == 1, "the aborted ACK did not count; the committed one did"
    assert amqp_get(ch, q)[1] == b"kept"


# ------------------------------------------------------------------ escaping, bodies, heart-beats


ODD_VALUE = "a:b\nc\\d\re,f"


def test_header_escaping_1_2(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="e", ack="auto")
    s.send(f"/queue/{q}", b"esc", headers={"odd": ODD_VALUE})
    m = s.listener.wait_messages(1)[0]
    assert m.headers["odd"] == ODD_VALUE


def test_header_escaping_reaches_amqp_unescaped(st, names, ch):
    q = names.queue()
    s = st()
    s.send_receipt(f"/queue/{q}", b"esc", odd=ODD_VALUE)
    p, _ = amqp_get(ch, q)
    assert p.headers["odd"] in (ODD_VALUE, ODD_VALUE.encode())


def test_header_escaping_raw_1_1(raw, names):
    q = names.queue()
    r = raw()
    r.connect(version="1.1")
    r.send("SUBSCRIBE", {"destination": f"/queue/{q}", "id": "0", "ack": "auto"})
    r.send_bytes(f"SEND\ndestination:/queue/{q}\nk\\cx:line1\\nline2\\\\\n\nbody\x00".encode())
    f = r.read_frame()
    assert f is not None and f.command == "MESSAGE", f
    assert f.headers["k:x"] == "line1\nline2\\"
    assert f.body == b"body"


def test_binary_body_with_nuls(st, names, ch):
    q = names.queue()
    body = bytes(range(256)) * 8 + b"\x00\x00end"
    s = st()
    s.subscribe(f"/queue/{q}", id="b", ack="auto")
    s.send(f"/queue/{q}", body, headers={"content-type": "application/octet-stream"})
    m = s.listener.wait_messages(1)[0]
    assert m.body == body
    assert int(m.headers["content-length"]) == len(body)


def test_binary_body_from_amqp(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    body = b"\x00\xff\x00" * 1000
    ch.basic_publish("", q, body)
    s = st()
    s.subscribe(f"/queue/{q}", id="b", ack="auto")
    assert s.listener.wait_messages(1)[0].body == body


def test_large_body(st, names):
    q = names.queue()
    body = bytes(range(256)) * 4096  # 1 MiB
    s = st()
    s.subscribe(f"/queue/{q}", id="l", ack="auto")
    s.send(f"/queue/{q}", body)
    assert s.listener.wait_messages(1, timeout=10)[0].body == body


def test_server_sends_heartbeats(raw):
    r = raw()
    f = r.connect(heart_beat="0,500")
    sx = int(f.headers["heart-beat"].split(",")[0])
    assert 0 < sx <= 2000, f"server heart-beat send interval {sx} (we asked for 500 ms)"
    t0 = time.monotonic()
    data = b""
    r.sock.settimeout(0.2)
    while time.monotonic() - t0 < 3 * sx / 1000 + 0.5:
        try:
            chunk = r.sock.recv(64)
        except OSError:
            continue
        assert chunk, "server closed the connection"
        data += chunk
    assert data.count(b"\n") >= 2, f"expected heart-beat EOLs every {sx} ms, got {data!r}"
    assert data.strip(b"\r\n") == b"", data


def test_silent_client_that_promised_heartbeats_is_disconnected(raw):
    r = raw()
    f = r.connect(heart_beat="500,0")
    cy = int(f.headers["heart-beat"].split(",")[1])
    assert 0 < cy <= 2000, f.headers
    assert r.closed_by_peer(12), "a client that stops heart-beating must be disconnected"


def test_client_heartbeats_keep_connection(st, names):
    q = names.queue()
    s = st(heartbeats=(500, 500))
    time.sleep(2.5)
    s.send_receipt(f"/queue/{q}", b"alive")
    assert s.conn.is_connected()
    assert s.listener.heartbeats >= 1


# ------------------------------------------------------------------ malformed frames


def _rabbit_just_closes(r):
    """RabbitMQ 3.10 drops the connection on a frame it cannot parse, without ERROR."""
    f = r.read_frame()
    assert f is None or f.command == "ERROR", f
    assert r.closed_by_peer(5)


def _connected(raw):
    r = raw()
    r.connect()
    return r


def test_malformed_header_without_colon(raw, names):
    r = _connected(raw)
    r.send_bytes(f"SEND\ndestination:/queue/{names.queue()}\nno-colon-here\n\nx\x00".encode())
    if is_rabbitmq():
        _rabbit_just_closes(r)
    else:
        r.expect_error_and_close()


def test_malformed_content_length_not_a_number(raw, names):
    r = _connected(raw)
    r.send_bytes(f"SEND\ndestination:/queue/{names.queue()}\ncontent-length:abc\n\nx\x00".encode())
    if is_rabbitmq():
        _rabbit_just_closes(r)
    else:
        r.expect_error_and_close()


def test_malformed_content_length_mismatch(raw, names):
    r = _connected(raw)
    # content-length says 2, but the octet after two body octets is not NUL
    r.send_bytes(f"SEND\ndestination:/queue/{names.queue()}\ncontent-length:2\n\nxyz\x00".encode())
    if is_rabbitmq():
        _rabbit_just_closes(r)
    else:
        r.expect_error_and_close()


@mqbridge_only
def test_oversized_frame(raw, names):
    """mqbridge's limit is 16 MiB; RabbitMQ 3.10's plugin has no STOMP frame limit."""
    r = _connected(raw)
    n = 64 * 1024 * 1024
    r.send_bytes(f"SEND\ndestination:/queue/{names.queue()}\ncontent-length:{n}\n\n".encode())
    f = r.expect_error_and_close()
    assert re.search(r"size|large|limit|exceed", (f.headers["message"] + f.body.decode()).lower()), f


@mqbridge_only
def test_oversized_header_block(raw, names):
    r = _connected(raw)
    r.send_bytes(f"SEND\ndestination:/queue/{names.queue()}\n".encode())
    try:
        for _ in range(20):  # 20 MiB of headers, never finished
            r.send_bytes((b"h:" + b"v" * 1024 + b"\n") * 1024)
    except OSError:
        pass  # the server may close before we are done
    r.expect_error_and_close()


def test_unknown_command(raw):
    r = _connected(raw)
    r.send("FROB", {"a": "b"})
    if is_rabbitmq():  # RabbitMQ answers ERROR but keeps the connection open
        f = r.read_frame()
        assert f is not None and f.command == "ERROR" and f.headers.get("message"), f
    else:
        r.expect_error_and_close()


def test_send_without_destination(raw):
    r = _connected(raw)
    r.send("SEND", {}, b"nowhere")
    if is_rabbitmq():
        f = r.read_frame()
        assert f is not None and f.command == "ERROR" and f.headers.get("message"), f
    else:
        r.expect_error_and_close()


def test_ack_of_unknown_id(raw):
    r = _connected(raw)
    r.send("ACK", {"id": "no-such-ack-id-42"})
    if is_rabbitmq():
        f = r.read_frame()
        assert f is not None and f.command == "ERROR" and f.headers.get("message"), f
    else:
        r.expect_error_and_close()


def test_error_frame_carries_receipt_id(raw):
    r = _connected(raw)
    r.send("SEND", {"receipt": "bad-1"}, b"nowhere")
    f = r.read_frame()
    assert f is not None and f.command == "ERROR", f
    if not is_rabbitmq():  # STOMP 1.2: an ERROR for a frame with a receipt names it
        assert f.headers.get("receipt-id") == "bad-1", f


# ------------------------------------------------------------------ destinations


def test_topic_fans_out_to_every_subscriber(st):
    key = f"st.{time.monotonic_ns()}.news"
    a, b = st(), st()
    a.subscribe(f"/topic/{key}", id="a", ack="auto", headers={"receipt": "ra"})
    b.subscribe(f"/topic/{key}", id="b", ack="auto", headers={"receipt": "rb"})
    a.listener.wait_receipt("ra")
    b.listener.wait_receipt("rb")
    a.send(f"/topic/{key}", b"hello all")
    assert a.listener.wait_messages(1)[0].body == b"hello all"
    assert b.listener.wait_messages(1)[0].body == b"hello all"
    assert b.listener.messages[0].headers["destination"] == f"/topic/{key}"


def test_topic_wildcards(st):
    base = f"st{time.monotonic_ns()}"
    s = st()
    s.subscribe(f"/topic/{base}.*.x", id="star", ack="auto")
    s.subscribe(f"/topic/{base}.#", id="hash", ack="auto", headers={"receipt": "r"})
    s.listener.wait_receipt("r")
    s.send(f"/topic/{base}.a.x", b"1")
    s.send(f"/topic/{base}.a.b.c", b"2")
    s.listener.wait_messages(3)
    got = sorted((m.headers["subscription"], m.body) for m in s.listener.quiet(0.3))
    assert got == [("hash", b"1"), ("hash", b"2"), ("star", b"1")]


def test_topic_without_subscriber_is_dropped(st, names):
    key = f"st.{time.monotonic_ns()}.void"
    s = st()
    s.send_receipt(f"/topic/{key}", b"lost")
    s.subscribe(f"/topic/{key}", id="late", ack="auto")
    assert s.listener.quiet(0.4) == []


def test_exchange_destination(st, names, ch):
    x = names.exchange()
    q = names.queue()
    ch.exchange_declare(x, "direct")
    ch.queue_declare(q)
    ch.queue_bind(q, x, "k1")
    s = st()
    s.send_receipt(f"/exchange/{x}/k1", b"via exchange")
    s.send_receipt(f"/exchange/{x}/other", b"unrouted")
    assert settled_count(ch, q, 1) == 1
    assert amqp_get(ch, q)[1] == b"via exchange"
    s.subscribe(f"/exchange/{x}/k2", id="x", ack="auto", headers={"receipt": "rx"})
    s.listener.wait_receipt("rx")
    ch.basic_publish(x, "k2", b"to subscriber")
    assert s.listener.wait_messages(1)[0].body == b"to subscriber"


def test_exchange_destination_missing_exchange_error(st, names):
    s = st()
    s.send(f"/exchange/{names.exchange('missing')}/k", b"x")
    f = s.listener.wait_error()
    assert f.headers.get("message")


def test_amq_queue_existing(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, auto_delete=False, durable=False)  # /amq/queue/ must not redeclare it
    s = st()
    s.subscribe(f"/amq/queue/{q}", id="aq", ack="auto")
    s.send(f"/amq/queue/{q}", b"amq")
    m = s.listener.wait_messages(1)[0]
    assert m.body == b"amq"


def test_amq_queue_missing_is_an_error(st, names):
    s = st()
    s.subscribe(f"/amq/queue/{names.queue('missing')}", id="m", ack="auto")
    f = s.listener.wait_error()
    assert f.headers.get("message")


def test_queue_destination_declares_durable_queue(st, names, ch):
    q = names.queue()
    s = st()
    s.send_receipt(f"/queue/{q}", b"x")
    ch.queue_declare(q, durable=True, passive=True)
    # a redeclare with durable=True (same args) is accepted only if it is durable
    ch.queue_declare(q, durable=True)


def test_temp_queue_request_reply(st, names, ch):
    q = names.queue("svc")
    ch.queue_declare(q, durable=True)
    s = st()
    s.send_receipt(f"/queue/{q}", b"request", **{"reply-to": "/temp-queue/answers", "correlation-id": "c-1"})
    p, b = amqp_get(ch, q)
    assert b == b"request"
    assert p.reply_to and not p.reply_to.startswith("/"), \
        f"reply_to must be the real queue name for AMQP clients, got {p.reply_to!r}"
    ch.basic_publish("", p.reply_to, b"reply", pika.BasicProperties(correlation_id="c-1"))
    m = s.listener.wait_messages(1)[0]
    assert m.body == b"reply"
    assert m.headers["correlation-id"] == "c-1"
    assert m.headers["subscription"] == "/temp-queue/answers"


def test_temp_queue_deleted_on_disconnect(st, names, ch):
    q = names.queue("svc")
    ch.queue_declare(q, durable=True)
    s = st()
    s.send_receipt(f"/queue/{q}", b"request", **{"reply-to": "/temp-queue/t"})
    p, _ = amqp_get(ch, q)
    s.disconnect()
    time.sleep(0.3)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(p.reply_to, passive=True)
    assert e.value.reply_code == 404


def test_queue_arguments_from_x_headers(st, names, ch):
    q = names.queue()
    s = st()
    for i in range(3):
        s.send_receipt(f"/queue/{q}", f"m{i}".encode(), **{"x-max-length": "2"})
    assert settled_count(ch, q, 2) == 2
    assert [amqp_get(ch, q)[1] for _ in range(2)] == [b"m1", b"m2"]
    # the queue really has the argument: a redeclare without it is refused (406)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(q, durable=True)
    assert e.value.reply_code == 406


def test_queue_argument_message_ttl_from_subscribe(st, names, ch):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="t", ack="auto", headers={"x-message-ttl": "100", "receipt": "r"})
    s.listener.wait_receipt("r")
    s.unsubscribe("t", headers={"receipt": "u"})
    s.listener.wait_receipt("u")
    s.send_receipt(f"/queue/{q}", b"short-lived")
    time.sleep(0.4)
    assert message_count(ch, q) == 0


def test_expiration_header_is_relative_ttl(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    s = st()
    s.send_receipt(f"/queue/{q}", b"ttl", expiration="150")
    s.send_receipt(f"/queue/{q}", b"keep")
    time.sleep(0.4)
    assert [b for b in [amqp_get(ch, q)[1]]] == [b"keep"]


def test_durable_topic_subscription_rabbitmq_style(st):
    key = f"st.{time.monotonic_ns()}.dur"
    sub = {"durable": "true", "auto-delete": "false"}
    s = st()
    s.subscribe(f"/topic/{key}", id="dsub", ack="client-individual", headers={**sub, "receipt": "r"})
    s.listener.wait_receipt("r")
    s.disconnect()
    p = st()
    p.send_receipt(f"/topic/{key}", b"while away", persistent="true")
    s2 = st()
    try:
        s2.subscribe(f"/topic/{key}", id="dsub", ack="client-individual", headers=sub)
        m = s2.listener.wait_messages(1)[0]
        assert m.body == b"while away"
        s2.ack(m.headers["ack"])
    finally:
        s2.unsubscribe("dsub", headers={**sub, "receipt": "gone"})  # deletes the queue
        s2.listener.wait_receipt("gone")
    s2.disconnect()
    p.send_receipt(f"/topic/{key}", b"after unsubscribe")
    s3 = st()
    s3.subscribe(f"/topic/{key}", id="dsub", ack="auto", headers=sub)
    try:
        assert s3.listener.quiet(0.4) == [], "UNSUBSCRIBE with durable:true removed the subscription"
    finally:
        s3.unsubscribe("dsub", headers={**sub, "receipt": "gone3"})
        s3.listener.wait_receipt("gone3")


@mqbridge_only
def test_durable_topic_subscription_activemq_style(st):
    key = f"st.{time.monotonic_ns()}.amqdur"
    client_id = f"cid-{time.monotonic_ns()}"
    sub = {"activemq.subscriptionName": "mysub"}
    s = st(headers={"client-id": client_id})
    s.subscribe(f"/topic/{key}", id="1", ack="client-individual", headers={**sub, "receipt": "r"})
    s.listener.wait_receipt("r")
    s.disconnect()
    st().send_receipt(f"/topic/{key}", b"kept for mysub", persistent="true")
    s2 = st(headers={"client-id": client_id})
    s2.subscribe(f"/topic/{key}", id="2", ack="client-individual", headers=sub)
    m = s2.listener.wait_messages(1)[0]
    assert m.body == b"kept for mysub"
    s2.ack(m.headers["ack"])
    s2.unsubscribe("2", headers={**sub, "receipt": "gone"})
    s2.listener.wait_receipt("gone")


@mqbridge_only
def test_activemq_expires_absolute(st, names, ch):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    s = st()
    now_ms = int(time.time() * 1000)
    s.send_receipt(f"/queue/{q}", b"already expired", expires=str(now_ms - 1000))
    s.send_receipt(f"/queue/{q}", b"expires later", expires=str(now_ms + 60000))
    time.sleep(0.2)
    p, b = amqp_get(ch, q)
    assert b == b"expires later"
    assert 50000 <= int(p.expiration) <= 60000, p.expiration
    assert ch.basic_get(q)[0] is None


# ------------------------------------------------------------------ selectors (mqbridge only)


@mqbridge_only
def test_selector_subscriber_receives_only_matching(st, names):
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="sel", ack="auto",
                headers={"selector": "color = 'red' AND size IN ('L', 'XL')", "receipt": "r"})
    s.listener.wait_receipt("r")
    p = st()
    for color, size in [("red", "S"), ("red", "L"), ("blue", "XL"), ("red", "XL")]:
        p.send(f"/queue/{q}", f"{color}-{size}".encode(), headers={"color": color, "size": size})
    p.sync()
    s.listener.wait_messages(2)
    assert [m.body for m in s.listener.quiet(0.4)] == [b"red-L", b"red-XL"]


@mqbridge_only
def test_selector_numeric_comparison_on_string_and_typed_headers(st, names):
    """STOMP headers are strings; as in ActiveMQ's STOMP (convert_string_expressions) a
    numeric string compares as a number, and so does a header typed in `mqbridge-types`.
    A non-numeric string compared with a number is UNKNOWN: not delivered."""
    q = names.queue()
    s = st()
    s.subscribe(f"/queue/{q}", id="sel", ack="auto", headers={"selector": "n > 2", "receipt": "r"})
    s.listener.wait_receipt("r")
    p = st()
    for n in (1, 3):
        p.send(f"/queue/{q}", f"typed{n}".encode(), headers={"n": str(n), "mqbridge-types": '{"n":"i32"}'})
    for n in ("2", "5", "abc"):
        p.send(f"/queue/{q}", f"string{n}".encode(), headers={"n": n})
    p.send(f"/queue/{q}", b"missing")
    p.sync()
    s.listener.wait_messages(2)
    assert [m.body for m in s.listener.quiet(0.4)] == [b"typed3", b"string5"]


@mqbridge_only
def test_selector_on_topic_and_jms_headers(st):
    key = f"st.{time.monotonic_ns()}.sel"
    s = st()
    s.subscribe(f"/topic/{key}", id="sel", ack="auto",
                headers={"selector": "JMSPriority > 4 AND JMSType = 'order'", "receipt": "r"})
    s.listener.wait_receipt("r")
    s.send(f"/topic/{key}", b"hi-order", headers={"priority": "7", "type": "order"})
    s.send(f"/topic/{key}", b"lo-order", headers={"priority": "1", "type": "order"})
    s.send(f"/topic/{key}", b"hi-other", headers={"priority": "9", "type": "other"})
    s.listener.wait_messages(1)
    assert [m.body for m in s.listener.quiet(0.4)] == [b"hi-order"]


@mqbridge_only
def test_bad_selector_error_names_position(st, names):
    s = st()
    s.subscribe(f"/queue/{names.queue()}", id="bad", ack="auto", headers={"selector": "color = = 'red'"})
    f = s.listener.wait_error()
    text = f.headers["message"] + " " + (f.body.decode() if isinstance(f.body, bytes) else f.body)
    assert "selector" in text.lower(), text
    # the second '=' is at offset 8 (column 9)
    assert re.search(r"\b(8|9)\b", text), f"ERROR does not name the position: {text!r}"
