"""Queue arguments (TTL, length limits, DLX, priority, expiry), queue lifecycle and errors."""

import datetime
import time

import pika
import pytest
from conftest import amqp_url, bodies, connect, message_count, settled_count, wait_until


def poll(predicate, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def queue_exists(name: str) -> bool:
    c = connect()
    try:
        c.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == 405:  # exclusive queue of another connection: it exists
            return True
        assert e.reply_code == 404
        return False
    finally:
        if c.is_open:
            c.close()


# ---------------------------------------------------------------- TTL


def test_queue_message_ttl_expires(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-message-ttl": 200})
    ch.basic_publish("", q, b"short-lived")
    time.sleep(0.6)
    assert ch.basic_get(q, auto_ack=True) == (None, None, None)
    assert message_count(ch, q) == 0


def test_queue_message_ttl_not_yet_expired_is_delivered(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-message-ttl": 60_000})
    ch.basic_publish("", q, b"alive")
    time.sleep(0.2)
    assert bodies(ch, q) == [b"alive"]


def test_per_message_expiration(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"expires", pika.BasicProperties(expiration="150"))
    time.sleep(0.5)
    ch.basic_publish("", q, b"stays", pika.BasicProperties(expiration="60000"))
    m, props, body = ch.basic_get(q, auto_ack=True)
    assert body == b"stays"
    assert props.expiration == "60000", "the expiration property is delivered unchanged"
    assert ch.basic_get(q)[0] is None


def test_per_message_expiration_shorter_of_queue_and_message(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-message-ttl": 150})
    ch.basic_publish("", q, b"msg-says-long", pika.BasicProperties(expiration="60000"))
    time.sleep(0.5)
    assert ch.basic_get(q)[0] is None


def test_invalid_expiration_is_406(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.basic_publish("", q, b"x", pika.BasicProperties(expiration="soon"))
    assert err.value.reply_code == 406


# ---------------------------------------------------------------- length limits


def test_max_length_drop_head(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length": 2})
    for b in (b"m1", b"m2", b"m3"):
        ch.basic_publish("", q, b)
    assert bodies(ch, q) == [b"m2", b"m3"]


def test_max_length_bytes_drop_head(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length-bytes": 10})
    for b in (b"aaaa", b"bbbb", b"cccc"):
        ch.basic_publish("", q, b)
    assert bodies(ch, q) == [b"bbbb", b"cccc"]


def test_max_length_reject_publish_nacks_with_confirms(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"m1")
    ch.basic_publish("", q, b"m2")
    with pytest.raises(pika.exceptions.NackError) as err:
        ch.basic_publish("", q, b"m3")
    assert ch.is_open, "a nack does not close the channel"
    assert bodies(ch, q) == [b"m1", b"m2"]
    ch.basic_publish("", q, b"m4")  # room again: acked
    assert bodies(ch, q) == [b"m4"]


# ---------------------------------------------------------------- dead lettering


def _dlx_setup(ch, names, queue_args):
    dlx = names.exchange("dlx")
    dlq = names.queue("dlq")
    q = names.queue("work")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dlq)
    ch.queue_bind(dlq, dlx, "")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": dlx, **queue_args})
    return q, dlx, dlq


def _get_one(ch, q, timeout=5.0):
    result = []
    assert poll(lambda: result.append(ch.basic_get(q, auto_ack=True)) or result[-1][0] is not None,
                timeout), f"nothing arrived on {q}"
    return result[-1]


def test_dead_letter_on_reject_with_x_death(ch, names):
    q, dlx, dlq = _dlx_setup(ch, names, {})
    props = pika.BasicProperties(headers={"app": "kept"}, message_id="dl-1")
    ch.basic_publish("", q, b"poison", props)
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    method, got, body = _get_one(ch, dlq)
    assert body == b"poison"
    assert method.exchange == dlx
    assert method.routing_key == q, "dead-lettered with the original routing key"
    assert got.message_id == "dl-1"
    h = got.headers
    assert h["app"] == "kept"
    (death,) = h["x-death"]
    assert death["count"] == 1
    assert death["reason"] == "rejected"
    assert death["queue"] == q
    assert death["exchange"] == ""
    assert death["routing-keys"] == [q]
    # an AMQP timestamp ('T'), which pika decodes to a datetime
    assert isinstance(death["time"], datetime.datetime)
    assert abs(death["time"].timestamp() - time.time()) < 300
    assert h["x-first-death-reason"] == "rejected"
    assert h["x-first-death-queue"] == q
    assert h["x-first-death-exchange"] == ""


def test_dead_letter_on_nack_and_count_increments(ch, names):
    q, dlx, dlq = _dlx_setup(ch, names, {})
    ch.basic_publish("", q, b"twice")
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=False)
    _, props, body = _get_one(ch, dlq)
    assert body == b"twice"
    # publish it again to the same queue with its headers: same queue+reason -> count 2
    ch.basic_publish("", q, body, pika.BasicProperties(headers=props.headers))
    m, _, _ = ch.basic_get(q)
    ch.basic_nack(m.delivery_tag, requeue=False)
    _, props2, _ = _get_one(ch, dlq)
    (death,) = props2.headers["x-death"]
    assert death["count"] == 2
    assert death["reason"] == "rejected"


def test_dead_letter_on_expiry_with_routing_key_override(ch, names):
    dlx = names.exchange("dlx")
    dlq = names.queue("dlq")
    q = names.queue("ttl")
    ch.exchange_declare(dlx, "direct")
    ch.queue_declare(dlq)
    ch.queue_bind(dlq, dlx, "expired-key")
    ch.queue_declare(q, arguments={"x-message-ttl": 100, "x-dead-letter-exchange": dlx,
                                   "x-dead-letter-routing-key": "expired-key"})
    ch.basic_publish("", q, b"late", pika.BasicProperties(expiration="50"))
    method, props, body = _get_one(ch, dlq)
    assert body == b"late"
    assert method.routing_key == "expired-key"
    assert props.expiration is None, "the per-message expiration is removed when dead-lettered"
    (death,) = props.headers["x-death"]
    assert death["reason"] == "expired"
    assert death["queue"] == q
    assert death["routing-keys"] == [q]
    assert death["original-expiration"] == "50"
    assert death["count"] == 1


def test_dead_letter_on_maxlen(ch, names):
    q, dlx, dlq = _dlx_setup(ch, names, {"x-max-length": 1})
    ch.basic_publish("", q, b"first")
    ch.basic_publish("", q, b"second")
    _, props, body = _get_one(ch, dlq)
    assert body == b"first"
    (death,) = props.headers["x-death"]
    assert death["reason"] == "maxlen"
    assert bodies(ch, q) == [b"second"]


# ---------------------------------------------------------------- priority


def test_max_priority_orders_by_priority(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-priority": 10})
    for prio, body in [(1, b"p1"), (5, b"p5"), (None, b"none"), (9, b"p9"), (5, b"p5b"), (0, b"p0")]:
        ch.basic_publish("", q, body, pika.BasicProperties(priority=prio))
    time.sleep(0.1)
    # no priority counts as 0; equal priorities keep FIFO order
    assert bodies(ch, q) == [b"p9", b"p5", b"p5b", b"p1", b"none", b"p0"]


def test_priority_above_max_is_capped(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-priority": 3})
    ch.basic_publish("", q, b"p3", pika.BasicProperties(priority=3))
    ch.basic_publish("", q, b"p200", pika.BasicProperties(priority=200))
    time.sleep(0.1)
    assert bodies(ch, q) == [b"p3", b"p200"], "200 is treated as the max (3): FIFO with p3"


# ---------------------------------------------------------------- lifecycle and errors


def test_exclusive_queue_from_second_connection_is_405(conn, conn2, names):
    q = names.queue()
    conn.channel().queue_declare(q, exclusive=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        conn2.channel().basic_get(q)
    assert err.value.reply_code == 405
    assert err.value.reply_text.startswith("RESOURCE_LOCKED")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        conn2.channel().queue_declare(q, passive=True)
    assert err.value.reply_code == 405


def test_exclusive_queue_deleted_with_its_connection(names):
    q = names.queue()
    c = connect()
    c.channel().queue_declare(q, exclusive=True)
    assert queue_exists(q)
    c.close()
    assert poll(lambda: not queue_exists(q))


def test_passive_declare_of_missing_queue_closes_channel_404(conn, names):
    ch = conn.channel()
    q = names.queue("missing")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.queue_declare(q, passive=True)
    assert err.value.reply_code == 404
    assert err.value.reply_text == f"NOT_FOUND - no queue '{q}' in vhost '/'"
    assert not ch.is_open
    assert conn.is_open, "404 is a channel error: the connection stays open"
    conn.channel().queue_declare(names.queue("other"))


def test_redeclare_with_different_args_is_406(conn, names):
    q = names.queue()
    conn.channel().queue_declare(q, arguments={"x-message-ttl": 1000})
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        conn.channel().queue_declare(q, arguments={"x-message-ttl": 2000})
    assert err.value.reply_code == 406
    assert err.value.reply_text.startswith("PRECONDITION_FAILED - inequivalent arg 'x-message-ttl'")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        conn.channel().queue_declare(q, durable=True, arguments={"x-message-ttl": 1000})
    assert err.value.reply_code == 406
    assert "durable" in err.value.reply_text
    # same args again is fine
    conn.channel().queue_declare(q, arguments={"x-message-ttl": 1000})


def test_delete_if_unused_and_if_empty_are_406(conn, names):
    q = names.queue()
    ch = conn.channel()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"x")
    assert settled_count(ch, q, 1) == 1
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        conn.channel().queue_delete(q, if_empty=True)
    assert err.value.reply_code == 406
    ch.basic_consume(q, lambda *a: None)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        conn.channel().queue_delete(q, if_unused=True)
    assert err.value.reply_code == 406
    assert queue_exists(q)


def test_delete_returns_message_count(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    for _ in range(3):
        ch.basic_publish("", q, b"x")
    assert settled_count(ch, q, 3) == 3
    assert ch.queue_delete(q).method.message_count == 3
    assert not queue_exists(q)


def test_server_named_queue(conn, names):
    ch = conn.channel()
    ok = ch.queue_declare("", exclusive=True)
    name = ok.method.queue
    assert name.startswith("amq.gen-") and len(name) > len("amq.gen-")
    ch.basic_publish("", name, b"to-generated")
    assert bodies(ch, name) == [b"to-generated"]
    assert ch.queue_declare("", exclusive=True).method.queue != name


def test_purge_returns_count(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    for i in range(5):
        ch.basic_publish("", q, str(i).encode())
    assert settled_count(ch, q, 5) == 5
    assert ch.queue_purge(q).method.message_count == 5
    assert message_count(ch, q) == 0
    assert ch.basic_get(q)[0] is None


def test_purge_keeps_unacked(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"held")
    ch.basic_publish("", q, b"ready")
    m, _, _ = ch.basic_get(q)
    assert ch.queue_purge(q).method.message_count == 1
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert bodies(ch, q) == [b"held"]


def test_x_expires_queue_disappears(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-expires": 300})
    assert queue_exists(q)
    # Careful: any queue.declare (passive too) counts as a use and restarts the x-expires
    # timer in RabbitMQ, so polling with passive declares too often keeps the queue alive.
    time.sleep(1.5)
    assert not queue_exists(q)


def test_auto_delete_queue_goes_after_last_consumer_cancels(conn, names):
    q = names.queue()
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    time.sleep(0.2)
    assert queue_exists(q), "one consumer left"
    ch.basic_cancel(t2)
    assert poll(lambda: not queue_exists(q))


def test_auto_delete_queue_without_consumers_stays(ch, names):
    q = names.queue()
    ch.queue_declare(q, auto_delete=True)
    time.sleep(0.3)
    assert queue_exists(q), "auto-delete only triggers once a consumer has come and gone"


def test_durable_queue_declare_ok_counts(conn, names):
    q = names.queue()
    ch = conn.channel()
    ok = ch.queue_declare(q, durable=True)
    assert (ok.method.message_count, ok.method.consumer_count) == (0, 0)
    ch.basic_publish("", q, b"1", pika.BasicProperties(delivery_mode=2))
    ch.basic_consume(q, lambda *a: None)
    conn.process_data_events(time_limit=0.2)
    ok = conn.channel().queue_declare(q, durable=True)
    assert ok.method.consumer_count == 1
    assert ok.method.message_count == 0, "the message went to the consumer (unacked)"


def test_bad_login_is_refused_403():
    params = pika.URLParameters(amqp_url())
    params.credentials = pika.PlainCredentials("guest", "wrong-password")
    params.connection_attempts = 1
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as err:
        pika.BlockingConnection(params)
    assert "(403) 'ACCESS_REFUSED" in str(err.value)


def test_unknown_user_is_refused_403():
    params = pika.URLParameters(amqp_url())
    params.credentials = pika.PlainCredentials("no-such-user", "x")
    params.connection_attempts = 1
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as err:
        pika.BlockingConnection(params)
    assert "(403) 'ACCESS_REFUSED" in str(err.value)


def test_unknown_vhost_is_refused():
    params = pika.URLParameters(amqp_url())
    params.virtual_host = "no-such-vhost"
    params.connection_attempts = 1
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as err:
        pika.BlockingConnection(params)
    text = str(err.value)  # the repr of (530, reply_text): quotes vary with the text
    assert "(530)" in text and "NOT_ALLOWED - vhost" in text and "no-such-vhost" in text
