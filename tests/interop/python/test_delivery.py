"""basic.get, acks, prefetch, confirms, transactions, consumers and cancellation."""

import pika
import pytest
import time

from conftest import bodies, connect, message_count, settled_count, wait_until


def test_basic_get_and_get_empty(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    assert ch.basic_get(q) == (None, None, None), "get-empty on an empty queue"
    for i in range(3):
        ch.basic_publish("", q, f"m{i}".encode())
    m0, _, b0 = ch.basic_get(q, auto_ack=False)
    assert b0 == b"m0"
    assert m0.message_count == 2, "message_count counts what is left in the queue"
    assert m0.delivery_tag == 1
    m1, _, b1 = ch.basic_get(q, auto_ack=True)
    assert (b1, m1.message_count, m1.delivery_tag) == (b"m1", 1, 2)
    ch.basic_ack(m0.delivery_tag)
    assert bodies(ch, q) == [b"m2"]
    assert ch.basic_get(q) == (None, None, None)


def test_nack_requeue_sets_redelivered(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"once")
    m, _, body = ch.basic_get(q)
    assert body == b"once" and m.redelivered is False
    ch.basic_nack(m.delivery_tag, requeue=True)
    m2, _, body2 = ch.basic_get(q)
    assert body2 == b"once" and m2.redelivered is True
    ch.basic_reject(m2.delivery_tag, requeue=True)
    m3, _, body3 = ch.basic_get(q)
    assert body3 == b"once" and m3.redelivered is True
    ch.basic_ack(m3.delivery_tag)
    assert message_count(ch, q) == 0


def test_requeued_message_keeps_its_position(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    for b in (b"a", b"b", b"c"):
        ch.basic_publish("", q, b)
    m, _, body = ch.basic_get(q)
    assert body == b"a"
    ch.basic_reject(m.delivery_tag, requeue=True)
    got = [(mm.redelivered, bb) for mm, _, bb in [ch.basic_get(q, auto_ack=True) for _ in range(3)]]
    assert got == [(True, b"a"), (False, b"b"), (False, b"c")]


def test_reject_and_nack_without_requeue_drop(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"r")
    ch.basic_publish("", q, b"n")
    m1, _, _ = ch.basic_get(q)
    m2, _, _ = ch.basic_get(q)
    ch.basic_reject(m1.delivery_tag, requeue=False)
    ch.basic_nack(m2.delivery_tag, requeue=False)
    time.sleep(0.2)
    assert message_count(ch, q) == 0


def test_nack_multiple_requeues_all(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    for i in range(4):
        ch.basic_publish("", q, str(i).encode())
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(4)]
    ch.basic_nack(tags[2], multiple=True, requeue=True)  # 0,1,2 back
    ch.basic_ack(tags[3])
    got = [(m.redelivered, b) for m, _, b in [ch.basic_get(q, auto_ack=True) for _ in range(3)]]
    assert got == [(True, b"0"), (True, b"1"), (True, b"2")]
    assert ch.basic_get(q)[0] is None


def test_unacked_messages_return_when_channel_closes(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"unacked")
    m, _, _ = ch.basic_get(q)
    assert m is not None
    assert message_count(conn.channel(), q) == 0
    ch.close()
    ch2 = conn.channel()
    m2, _, body = ch2.basic_get(q, auto_ack=True)
    assert body == b"unacked" and m2.redelivered is True


def test_ack_unknown_delivery_tag_is_406(conn, ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_ack(999)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.queue_declare(q, passive=True)  # a round trip to observe the close
    assert err.value.reply_code == 406
    assert "unknown delivery tag" in err.value.reply_text
    assert conn.is_open


def test_consume_and_ack(conn, ch, names):
    q = names.queue()
    ch.queue_declare(q)
    got = []

    def on_msg(c, method, props, body):
        got.append((method.consumer_tag, method.redelivered, body))
        c.basic_ack(method.delivery_tag)

    tag = ch.basic_consume(q, on_msg)
    assert ch.queue_declare(q, passive=True).method.consumer_count == 1
    for i in range(10):
        ch.basic_publish("", q, f"c{i}".encode())
    assert wait_until(conn, lambda: len(got) == 10)
    assert [b for _, _, b in got] == [f"c{i}".encode() for i in range(10)]
    assert all(t == tag and not r for t, r, _ in got)
    ch.basic_cancel(tag)
    assert message_count(ch, q) == 0


def test_prefetch_one_spreads_to_the_other_consumer(conn, names):
    q = names.queue()
    setup = conn.channel()
    setup.queue_declare(q)
    ch_a, ch_b = conn.channel(), conn.channel()
    ch_a.basic_qos(prefetch_count=1)
    ch_b.basic_qos(prefetch_count=1)
    deliveries = []  # (who, channel, delivery_tag, body)
    ch_a.basic_consume(q, lambda c, m, p, b: deliveries.append(("a", c, m.delivery_tag, b)))
    ch_b.basic_consume(q, lambda c, m, p, b: deliveries.append(("b", c, m.delivery_tag, b)))
    setup.basic_publish("", q, b"m1")
    assert wait_until(conn, lambda: len(deliveries) == 1)
    setup.basic_publish("", q, b"m2")
    assert wait_until(conn, lambda: len(deliveries) == 2)
    (who1, c1, tag1, b1), (who2, _, _, b2) = deliveries
    assert (b1, b2) == (b"m1", b"m2")
    assert who1 != who2, "m2 must go to the consumer that has no unacked message"
    setup.basic_publish("", q, b"m3")
    conn.process_data_events(time_limit=0.5)
    assert len(deliveries) == 2, "both consumers are at their prefetch limit"
    assert settled_count(setup, q, 1) == 1
    c1.basic_ack(tag1)
    assert wait_until(conn, lambda: len(deliveries) == 3)
    assert deliveries[2][0] == who1 and deliveries[2][3] == b"m3"


def test_publisher_confirms(ch, names):
    q = names.queue()
    ch.queue_declare(q, durable=True)
    ch.confirm_delivery()
    for i in range(50):
        ch.basic_publish("", q, f"p{i}".encode(), pika.BasicProperties(delivery_mode=2))
    assert settled_count(ch, q, 50) == 50


def test_confirm_select_delivers_ack_frames(names):
    """Raw confirm flow with the async-style API: every publish gets a basic.ack with its seq no."""
    conn = connect()
    try:
        ch = conn.channel()
        q = names.queue()
        ch.queue_declare(q)
        acks = []
        ch._impl.add_callback(lambda frame: acks.append(frame.method), [pika.spec.Basic.Ack], one_shot=False)
        ch._impl.confirm_delivery(lambda frame: acks.append(frame.method))
        conn.process_data_events(time_limit=0.2)
        for i in range(5):
            ch._impl.basic_publish("", q, f"{i}".encode())
        assert wait_until(conn, lambda: acks and max(a.delivery_tag for a in acks) >= 5)
        assert all(isinstance(a, pika.spec.Basic.Ack) for a in acks)
        covered = set()
        last = 0
        for a in acks:
            if a.multiple:
                covered.update(range(last + 1, a.delivery_tag + 1))
            else:
                covered.add(a.delivery_tag)
            last = max(last, a.delivery_tag)
        assert covered == {1, 2, 3, 4, 5}
    finally:
        conn.close()


def test_tx_commit_and_rollback(conn, names):
    q = names.queue()
    observer = conn.channel()
    observer.queue_declare(q)
    tx = conn.channel()
    tx.tx_select()
    tx.basic_publish("", q, b"t1")
    tx.basic_publish("", q, b"t2")
    time.sleep(0.3)
    assert message_count(observer, q) == 0, "nothing visible before commit"
    tx.tx_commit()
    assert settled_count(observer, q, 2) == 2
    tx.basic_publish("", q, b"rolled-back")
    tx.tx_rollback()
    time.sleep(0.3)
    assert message_count(observer, q) == 2
    # acks inside a transaction are applied on commit only
    m, _, body = tx.basic_get(q)
    assert body == b"t1"
    tx.basic_ack(m.delivery_tag)
    tx.tx_rollback()
    tx.tx_commit()
    time.sleep(0.2)
    assert message_count(observer, q) == 1, "rolled-back ack leaves t1 unacked, not requeued yet"
    tx.close()
    assert sorted(bodies(observer, q)) == [b"t1", b"t2"]


def test_tx_commit_without_select_is_406(ch):
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        ch.tx_commit()
    assert err.value.reply_code == 406


def test_basic_cancel_stops_delivery(conn, ch, names):
    q = names.queue()
    ch.queue_declare(q)
    got = []
    tag = ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    ch.basic_publish("", q, b"before")
    assert wait_until(conn, lambda: got == [b"before"])
    ch.basic_cancel(tag)
    ch.basic_publish("", q, b"after")
    conn.process_data_events(time_limit=0.3)
    assert got == [b"before"]
    assert settled_count(ch, q, 1) == 1
    assert ch.queue_declare(q, passive=True).method.consumer_count == 0


def test_queue_delete_while_consuming_sends_basic_cancel(conn, names, conn2):
    q = names.queue()
    ch = conn.channel()
    ch.queue_declare(q)
    cancels = []
    ch.add_on_cancel_callback(lambda frame: cancels.append(frame.method))
    tag = ch.basic_consume(q, lambda *a: None)
    conn2.channel().queue_delete(q)
    assert wait_until(conn, lambda: cancels), "consumer_cancel_notify: the broker sends basic.cancel"
    assert isinstance(cancels[0], pika.spec.Basic.Cancel)
    assert cancels[0].consumer_tag == tag
    assert ch.is_open, "the channel stays open"


def test_consumer_tag_reuse_on_channel_is_530(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_consume(q, lambda *a: None, consumer_tag="dup")
    ch2 = conn.channel()  # a second channel may use the same tag
    ch2.basic_consume(q, lambda *a: None, consumer_tag="dup")
    # pika refuses a duplicate tag on one channel client-side, so go raw
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as err:
        ch._impl._send_method(pika.spec.Basic.Consume(queue=q, consumer_tag="dup"))
        conn.process_data_events(time_limit=2)
        conn.process_data_events(time_limit=1)
    assert err.value.reply_code == 530


def test_exclusive_consumer_refuses_a_second_consumer_403(conn, names):
    q = names.queue()
    ch = conn.channel()
    ch.queue_declare(q)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    other = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        other.basic_consume(q, lambda *a: None)
    assert err.value.reply_code == 403
    assert err.value.reply_text.startswith("ACCESS_REFUSED")


def test_consumer_on_queue_with_consumers_cannot_be_exclusive_403(conn, names):
    q = names.queue()
    ch = conn.channel()
    ch.queue_declare(q)
    ch.basic_consume(q, lambda *a: None)
    other = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
        other.basic_consume(q, lambda *a: None, exclusive=True)
    assert err.value.reply_code == 403


def test_round_robin_between_consumers(conn, names):
    q = names.queue()
    setup = conn.channel()
    setup.queue_declare(q)
    got = {"a": [], "b": []}
    ca, cb = conn.channel(), conn.channel()
    ca.basic_consume(q, lambda c, m, p, b: got["a"].append(b), auto_ack=True)
    cb.basic_consume(q, lambda c, m, p, b: got["b"].append(b), auto_ack=True)
    for i in range(10):
        setup.basic_publish("", q, str(i).encode())
    assert wait_until(conn, lambda: len(got["a"]) + len(got["b"]) == 10)
    assert len(got["a"]) == 5 and len(got["b"]) == 5
