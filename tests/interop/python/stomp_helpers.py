"""Helpers for the STOMP interop suites (stomp.py for normal flows, raw sockets for bad input).

The STOMP endpoint comes from STOMP_HOST_PORT (e.g. 127.0.0.1:61613); the same broker's AMQP
side from AMQP_URL (the cross-protocol tests and the cleanup use pika). STOMP_BROKER says
what is under test: `mqbridge` (default) or `rabbitmq` (RabbitMQ's STOMP plugin, the
reference). Tests of mqbridge-only features carry `@mqbridge_only` and are skipped against
RabbitMQ; tests of a documented difference branch on `is_rabbitmq()`.
"""

import os
import socket
import threading
import time
import uuid

import pytest
import stomp

WAIT_S = 5.0


def stomp_host_port(hp: str | None = None) -> tuple[str, int]:
    hp = hp or os.environ.get("STOMP_HOST_PORT")
    if not hp:
        pytest.fail("STOMP_HOST_PORT is not set (host:port of the broker's STOMP listener)")
    host, _, port = hp.rpartition(":")
    return host, int(port)


def stomp_broker() -> str:
    b = os.environ.get("STOMP_BROKER", "mqbridge")
    if b not in ("mqbridge", "rabbitmq"):
        raise pytest.UsageError(f"STOMP_BROKER must be mqbridge or rabbitmq, not {b!r}")
    return b


def is_rabbitmq() -> bool:
    return stomp_broker() == "rabbitmq"


mqbridge_only = pytest.mark.skipif(
    os.environ.get("STOMP_BROKER", "mqbridge") == "rabbitmq",
    reason="mqbridge-only feature (an intended difference from RabbitMQ's STOMP plugin)",
)


class Collector(stomp.ConnectionListener):
    """Records every frame; wait_* block (bounded) until something arrives."""

    def __init__(self):
        self.cond = threading.Condition()
        self.messages: list[stomp.utils.Frame] = []
        self.errors: list[stomp.utils.Frame] = []
        self.receipts: list[str] = []
        self.connected: list[stomp.utils.Frame] = []
        self.heartbeats = 0
        self.disconnected = False

    def _add(self, fn):
        with self.cond:
            fn()
            self.cond.notify_all()

    def on_message(self, frame):
        self._add(lambda: self.messages.append(frame))

    def on_error(self, frame):
        self._add(lambda: self.errors.append(frame))

    def on_receipt(self, frame):
        self._add(lambda: self.receipts.append(frame.headers.get("receipt-id")))

    def on_connected(self, frame):
        self._add(lambda: self.connected.append(frame))

    def on_heartbeat(self):
        def inc():
            self.heartbeats += 1
        self._add(inc)

    def on_disconnected(self):
        def d():
            self.disconnected = True
        self._add(d)

    def wait_for(self, pred, timeout=WAIT_S) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return bool(pred())
                self.cond.wait(left)
            return True

    def wait_messages(self, n, timeout=WAIT_S):
        ok = self.wait_for(lambda: len(self.messages) >= n, timeout)
        assert ok, f"expected {n} MESSAGE frame(s), got {len(self.messages)}: " \
                   f"{[m.body for m in self.messages]} (errors: {[e.headers for e in self.errors]})"
        return self.messages[:n]

    def wait_receipt(self, rid, timeout=WAIT_S):
        ok = self.wait_for(lambda: rid in self.receipts, timeout)
        assert ok, f"no RECEIPT for {rid} (errors: {[(e.headers, e.body) for e in self.errors]})"

    def wait_error(self, timeout=WAIT_S):
        ok = self.wait_for(lambda: self.errors, timeout)
        assert ok, "expected an ERROR frame"
        return self.errors[0]

    def quiet(self, seconds=0.5):
        """Wait, then return what arrived in total (to check nothing more came)."""
        time.sleep(seconds)
        return list(self.messages)


class Stomp:
    """A stomp.py 1.2 connection (by default) with a Collector attached."""

    def __init__(self, version="1.2", heartbeats=(0, 0), login="guest", passcode="guest",
                 vhost="/", headers=None, wait=True, host_port=None):
        host, port = stomp_host_port(host_port)
        cls = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}[version]
        kwargs = dict(host_and_ports=[(host, port)], auto_decode=False, reconnect_attempts_max=1,
                      timeout=10)
        if version != "1.0":
            kwargs["heartbeats"] = heartbeats
            kwargs["vhost"] = vhost
        self.version = version
        self.conn = cls(**kwargs)
        self.listener = Collector()
        self.conn.set_listener("c", self.listener)
        self.conn.connect(login, passcode, wait=wait, headers=headers or {})

    def __getattr__(self, name):
        return getattr(self.conn, name)

    def send_receipt(self, destination, body, **headers):
        rid = "r-" + uuid.uuid4().hex[:8]
        self.conn.send(destination, body, headers={**headers, "receipt": rid})
        self.listener.wait_receipt(rid)

    def sync(self):
        """A receipt round trip: everything sent before it has been processed."""
        rid = "sync-" + uuid.uuid4().hex[:8]
        # A BEGIN/ABORT pair with a receipt is harmless on every broker.
        tx = "sync-tx-" + uuid.uuid4().hex[:6]
        self.conn.begin(tx)
        self.conn.abort(tx, headers={"receipt": rid})
        self.listener.wait_receipt(rid)

    def close(self):
        try:
            if self.conn.is_connected():
                self.conn.disconnect()
        except Exception:
            pass


# ------------------------------------------------------------------ raw frames


def _unescape(v: str) -> str:
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "c": ":", "\\": "\\", "r": "\r"}.get(v[i + 1], "\\" + v[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class RawFrame:
    def __init__(self, command, headers, body):
        self.command = command
        self.headers = headers
        self.body = body

    def __repr__(self):
        return f"RawFrame({self.command!r}, {self.headers!r}, {self.body[:200]!r})"


class RawStomp:
    """A plain socket speaking STOMP: exact bytes out, parsed frames in."""

    def __init__(self, timeout=10.0, host_port=None):
        host, port = stomp_host_port(host_port)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.eof = False

    def send_bytes(self, data: bytes):
        self.sock.sendall(data)

    def frame(self, command, headers=None, body=b"", content_length=True):
        if isinstance(body, str):
            body = body.encode()
        lines = [command]
        hs = dict(headers or {})
        if content_length and body and "content-length" not in hs:
            hs["content-length"] = str(len(body))
        lines += [f"{k}:{v}" for k, v in hs.items()]
        return ("\n".join(lines) + "\n\n").encode() + body + b"\x00"

    def send(self, command, headers=None, body=b"", content_length=True):
        self.send_bytes(self.frame(command, headers, body, content_length))

    def connect(self, version="1.2", host="/", login="guest", passcode="guest", heart_beat="0,0", **extra):
        h = {"accept-version": version, "host": host, "login": login, "passcode": passcode,
             "heart-beat": heart_beat, **extra}
        self.send("CONNECT", h)
        f = self.read_frame()
        assert f is not None and f.command == "CONNECTED", f"expected CONNECTED, got {f}"
        return f

    def _fill(self, deadline) -> bool:
        if self.eof:
            return False
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_frame(self, timeout=WAIT_S, skip_heartbeats=True):
        """The next frame, or None on EOF/timeout. Heart-beat EOLs are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            if skip_heartbeats:
                self.buf = self.buf.lstrip(b"\r\n")
            end = self.buf.find(b"\n\n")
            if end >= 0:
                head = self.buf[:end].decode("utf-8", "replace").replace("\r", "")
                lines = head.split("\n")
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers.setdefault(_unescape(k), _unescape(v))
                start = end + 2
                if "content-length" in headers:
                    n = int(headers["content-length"])
                    while len(self.buf) < start + n + 1:
                        if time.monotonic() >= deadline or not self._fill(deadline):
                            return None
                    body = self.buf[start:start + n]
                    self.buf = self.buf[start + n + 1:]
                else:
                    while self.buf.find(b"\x00", start) < 0:
                        if time.monotonic() >= deadline or not self._fill(deadline):
                            return None
                    z = self.buf.find(b"\x00", start)
                    body = self.buf[start:z]
                    self.buf = self.buf[z + 1:]
                return RawFrame(lines[0], headers, body)
            if time.monotonic() >= deadline or not self._fill(deadline):
                return None

    def expect_error_and_close(self, timeout=WAIT_S):
        """The next frame must be ERROR with a `message` header; then the socket closes."""
        f = self.read_frame(timeout)
        assert f is not None, "no ERROR frame (timeout or EOF)"
        assert f.command == "ERROR", f"expected ERROR, got {f}"
        assert f.headers.get("message"), f"ERROR without a message header: {f}"
        assert self.closed_by_peer(timeout), f"socket still open after {f}"
        return f

    def closed_by_peer(self, timeout=WAIT_S) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eof:
                return True
            self._fill(deadline)
        return self.eof

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def unique(label="s") -> str:
    return f"st.{uuid.uuid4().hex[:10]}.{label}"
