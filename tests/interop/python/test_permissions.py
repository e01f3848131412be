"""Per-vhost permissions with real clients: pika (AMQP) and stomp.py (STOMP).

Written to RabbitMQ's behaviour (its access-control table and refusal texts); run against
mqbridge started with tests/interop/permissions.yaml and against RabbitMQ with the same
users created by rabbitmqctl (scripts/lib/permissions.sh). Skipped unless PERM_USERS=1
says those users exist. Users (password `perm-pw`):

- perm-ro:      configure ".*", write "",   read ".*"   (may not publish)
- perm-wo:      configure ".*", write ".*", read ""     (may not consume)
- perm-nc:      configure "",   write ".*", read ".*"   (may not declare)
- perm-novhost: no permissions on "/"                   (may not open it)

Env: AMQP_URL (guest, for setup), STOMP_HOST_PORT, STOMP_BROKER (mqbridge|rabbitmq),
PERM_MAX_MESSAGE_SIZE (the broker's max_message_size, for the size test; mqbridge only).
"""

import os
import time
import urllib.parse
import uuid

import pika
import pika.exceptions
import pytest
import stomp

from conftest import amqp_url, connect
from stomp_helpers import Stomp, is_rabbitmq

PASSWORD = "perm-pw"

pytestmark = pytest.mark.skipif(
    os.environ.get("PERM_USERS") != "1",
    reason="PERM_USERS=1 not set: the perm-* users are not configured on this broker",
)


def url_as(user: str) -> str:
    u = urllib.parse.urlsplit(amqp_url())
    netloc = f"{user}:{PASSWORD}@{u.hostname}:{u.port}"
    return urllib.parse.urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


def token() -> str:
    return "perm." + uuid.uuid4().hex[:10]


@pytest.fixture
def guest_queue():
    """A durable queue declared by guest, deleted afterwards."""
    name = token()
    conn = connect()
    ch = conn.channel()
    ch.queue_declare(name, durable=True)
    yield name
    ch.queue_delete(name)
    conn.close()


# ----- AMQP (pika) -----


def test_publish_without_write_is_403_channel_close():
    conn = connect(url_as("perm-ro"))
    ch = conn.channel()
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_publish("", "anything", b"x")
    assert e.value.reply_code == 403
    assert e.value.reply_text == (
        "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'perm-ro'"
    )
    # A channel error: the connection is still usable.
    assert conn.is_open
    conn.channel().close()
    conn.close()


def test_consume_and_get_without_read_are_403(guest_queue):
    conn = connect(url_as("perm-wo"))
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_consume(guest_queue, lambda *a: None)
    assert e.value.reply_code == 403
    assert e.value.reply_text == (
        f"ACCESS_REFUSED - access to queue '{guest_queue}' in vhost '/' refused for user 'perm-wo'"
    )
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_get(guest_queue)
    assert e.value.reply_code == 403
    # Write is granted.
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("", guest_queue, b"ok")
    conn.close()


def test_declare_without_configure_is_403():
    conn = connect(url_as("perm-nc"))
    ch = conn.channel()
    name = token()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(name)
    assert e.value.reply_code == 403
    assert e.value.reply_text == (
        f"ACCESS_REFUSED - access to queue '{name}' in vhost '/' refused for user 'perm-nc'"
    )
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.exchange_declare(name, "fanout")
    assert e.value.reply_code == 403
    assert "access to exchange" in e.value.reply_text
    conn.close()


def test_vhost_without_permissions_is_refused():
    # pika reports a close during connection.open as a probable access denial, wrapping the
    # broker's connection.close.
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as e:
        connect(url_as("perm-novhost"))
    assert str(e.value) == (
        "ConnectionClosedByBroker: (530) "
        "\"NOT_ALLOWED - access to vhost '/' refused for user 'perm-novhost'\""
    )


@pytest.mark.skipif(not os.environ.get("PERM_MAX_MESSAGE_SIZE"),
                    reason="PERM_MAX_MESSAGE_SIZE not set (the broker's max_message_size)")
def test_message_above_max_message_size_is_406(guest_queue):
    limit = int(os.environ["PERM_MAX_MESSAGE_SIZE"])
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("", guest_queue, b"a" * limit)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_publish("", guest_queue, b"a" * (limit + 1))
    assert e.value.reply_code == 406
    assert e.value.reply_text == (
        f"PRECONDITION_FAILED - message size {limit + 1} is larger than configured max size {limit}"
    )
    conn.close()


# ----- STOMP (stomp.py) -----


def stomp_as(user: str, wait=True) -> Stomp:
    return Stomp(login=user, passcode=PASSWORD, wait=wait)


def error_of(s: Stomp):
    e = s.listener.wait_error()
    body = e.body.decode() if isinstance(e.body, bytes) else e.body
    return e.headers.get("message"), body


def test_stomp_send_without_write_is_an_error_frame():
    s = stomp_as("perm-ro")
    try:
        s.send(f"/queue/{token()}", b"x", headers={"receipt": "r1"})
        message, body = error_of(s)
        assert message == "access_refused"
        assert ("ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' "
                "refused for user 'perm-ro'") in body
    finally:
        s.close()


def test_stomp_subscribe_without_read_is_an_error_frame(guest_queue):
    s = stomp_as("perm-wo")
    try:
        s.subscribe(f"/amq/queue/{guest_queue}", id="s1", ack="auto")
        message, body = error_of(s)
        assert message == "access_refused"
        assert (f"access to queue '{guest_queue}' in vhost '/' refused for user 'perm-wo'"
                in body)
    finally:
        s.close()


def test_stomp_send_declaring_a_queue_without_configure_is_an_error_frame():
    s = stomp_as("perm-nc")
    name = token()
    try:
        s.send(f"/queue/{name}", b"x", headers={"receipt": "r1"})
        message, body = error_of(s)
        assert message == "access_refused"
        assert f"access to queue '{name}' in vhost '/' refused for user 'perm-nc'" in body
    finally:
        s.close()


def test_stomp_vhost_without_permissions_is_refused_at_connect():
    s = stomp_as("perm-novhost", wait=False)
    try:
        deadline = time.time() + 10
        while not s.listener.errors and time.time() < deadline:
            time.sleep(0.05)
        assert s.listener.errors, "expected an ERROR frame for the CONNECT"
        e = s.listener.errors[0]
        body = e.body.decode() if isinstance(e.body, bytes) else e.body
        text = (e.headers.get("message", "") + " " + body).lower()
        # RabbitMQ: "Bad CONNECT" / "Virtual host '/' access denied"; mqbridge: "access
        # refused" / RabbitMQ's AMQP text. Both name the vhost and refuse.
        assert "access" in text and "/" in text, (e.headers, body)
    finally:
        s.close()


@pytest.mark.skipif(not os.environ.get("PERM_MAX_MESSAGE_SIZE") or is_rabbitmq(),
                    reason="needs the broker's max_message_size (mqbridge's permissions bridge)")
def test_stomp_message_above_max_message_size_is_an_error_frame(guest_queue):
    limit = int(os.environ["PERM_MAX_MESSAGE_SIZE"])
    s = Stomp()
    try:
        s.send_receipt(f"/amq/queue/{guest_queue}", b"a" * limit)
        s.send(f"/amq/queue/{guest_queue}", b"a" * (limit + 1), headers={"receipt": "big"})
        message, body = error_of(s)
        assert message == "precondition_failed"
        assert f"message size {limit + 1} is larger than configured max size {limit}" in body
    finally:
        s.close()
