"""Shared fixtures for the pika interop suite.

The broker under test comes from AMQP_URL (e.g. amqp://guest:guest@127.0.0.1:5672/%2f).
Every test is written against RabbitMQ's real behaviour; mqbridge must match it.
"""

import os
import signal
import time
import uuid

import pika
import pytest

TEST_TIMEOUT_S = int(os.environ.get("INTEROP_TEST_TIMEOUT", "60"))


def amqp_url() -> str:
    url = os.environ.get("AMQP_URL")
    if not url:
        raise pytest.UsageError("AMQP_URL is not set (amqp://guest:guest@127.0.0.1:PORT/%2f)")
    return url


def connect(url: str | None = None, **overrides) -> pika.BlockingConnection:
    params = pika.URLParameters(url or amqp_url())
    params.connection_attempts = 1
    params.socket_timeout = 10
    params.blocked_connection_timeout = 30
    for key, value in overrides.items():
        setattr(params, key, value)
    return pika.BlockingConnection(params)


@pytest.fixture(autouse=True)
def _per_test_deadline():
    """A hung broker must fail the test, not the CI job."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT_S}s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Names:
    """Unique names per test; everything named here is deleted afterwards."""

    def __init__(self):
        self.token = uuid.uuid4().hex[:10]
        self.queues: list[str] = []
        self.exchanges: list[str] = []

    def queue(self, label: str = "q") -> str:
        name = f"it.{self.token}.{label}"
        self.queues.append(name)
        return name

    def exchange(self, label: str = "x") -> str:
        name = f"it.{self.token}.{label}"
        self.exchanges.append(name)
        return name

    def cleanup(self):
        try:
            conn = connect()
        except Exception:  # broker gone: nothing to clean
            return
        try:
            for name in self.queues:
                ch = conn.channel()
                try:
                    ch.queue_delete(name)
                    ch.close()
                except Exception:
                    pass
            for name in self.exchanges:
                ch = conn.channel()
                try:
                    ch.exchange_delete(name)
                    ch.close()
                except Exception:
                    pass
        finally:
            try:
                conn.close()
            except Exception:
                pass


@pytest.fixture
def names():
    n = Names()
    yield n
    n.cleanup()


@pytest.fixture
def conn():
    c = connect()
    yield c
    if c.is_open:
        try:
            c.close()
        except Exception:
            pass


@pytest.fixture
def ch(conn):
    return conn.channel()


@pytest.fixture
def conn2():
    c = connect()
    yield c
    if c.is_open:
        try:
            c.close()
        except Exception:
            pass


def wait_until(conn: pika.BlockingConnection, predicate, timeout: float = 5.0) -> bool:
    """Pump I/O on conn until predicate() is true or timeout; returns the last predicate value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        conn.process_data_events(time_limit=0.05)
    return bool(predicate())


def drain(ch, queue: str) -> list[tuple]:
    """basic.get (auto-ack) until empty; returns [(method, properties, body)]."""
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((method, props, body))


def bodies(ch, queue: str) -> list[bytes]:
    return [body for _, _, body in drain(ch, queue)]


def message_count(ch, queue: str) -> int:
    return ch.queue_declare(queue, passive=True).method.message_count


def settled_count(ch, queue: str, expected: int, timeout: float = 3.0) -> int:
    """queue.declare-ok message_count, polled until it equals expected (or timeout).

    RabbitMQ's count is eventually consistent: right after a publish on the same channel
    it may not include the message yet. To check that a count *stays* at a value, the
    caller sleeps first; this helper then returns the first value read if it matches.
    """
    deadline = time.monotonic() + timeout
    while True:
        n = message_count(ch, queue)
        if n == expected or time.monotonic() >= deadline:
            return n
        time.sleep(0.05)
