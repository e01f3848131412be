"""Helpers of the routes operations tests (tests/interop/routes_ops): the mqbridge binary
(`check`, `schema`, `run`), a bridge process whose log is read for its listener port and its
reload lines, pika publishers and consumers that number their messages, and an SMTP sink.

Only mqbridge itself and Python are needed: the bridge runs the embedded core alone (AMQP
listener on port 0), the mail server is tests/interop/python/smtp_sink.py. The binary is
$MQBRIDGE_BIN (default <repo>/target/release/mqbridge). Every wait is bounded and fails
saying what it waited for, with the end of the bridge's log.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
MQBRIDGE_BIN = os.environ.get("MQBRIDGE_BIN") or str(ROOT / "target" / "release" / "mqbridge")
SMTP_SINK = ROOT / "tests" / "interop" / "python" / "smtp_sink.py"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def require_binary() -> str:
    if not os.access(MQBRIDGE_BIN, os.X_OK):
        raise AssertionError(f"no mqbridge binary at {MQBRIDGE_BIN} (cargo build --release, or set MQBRIDGE_BIN)")
    return MQBRIDGE_BIN


def run_cli(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """`mqbridge ARGS...`, output captured as text."""
    full_env = dict(os.environ, NO_COLOR="1")
    full_env.pop("MQBRIDGE_CONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [require_binary(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def wait_until(what: str, predicate, timeout: float, interval: float = 0.05, log=None):
    """Poll `predicate` until it returns a true value; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    tail = f"\n---- mqbridge log ----\n{log()}" if log else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_in_place(path: Path, text: str) -> None:
    """Truncate and rewrite the file itself (same inode), as `>` in a shell does."""
    with open(path, "r+" if path.exists() else "w", encoding="utf-8") as f:
        f.seek(0)
        f.truncate()
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def write_by_rename(path: Path, text: str) -> None:
    """Write a new file beside it and rename it over the old one (a new inode), as editors
    and configuration managers do."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- the bridge


class Bridge:
    """`mqbridge run --config FILE`, stdout and stderr in FILE's directory as mqbridge.log."""

    def __init__(self, config: Path, env: dict | None = None):
        self.config = config
        self.log_path = config.parent / "mqbridge.log"
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.amqp_port: int | None = None

    def log(self) -> str:
        try:
            return ANSI.sub("", self.log_path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2f"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30) -> "Bridge":
        env = dict(os.environ, NO_COLOR="1", MQBRIDGE_LOG=os.environ.get("ROUTES_OPS_LOG", "info"))
        env.pop("MQBRIDGE_CONFIG", None)
        env.update(self.env)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [require_binary(), "run", "--config", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
        )
        log.close()

        def listening():
            self.assert_alive()
            # Up to the newline: the line may be half written when the log is read.
            m = re.search(r"Listening\..*listener=\"?amqp\"? address=\"?[^ \"]*:(\d+)\"?\n", self.log())
            return m and int(m.group(1))

        self.amqp_port = wait_until("the 'Listening. listener=amqp' line", listening, timeout, log=self.tail)
        return self

    def assert_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = self.proc.returncode if self.proc else None
            raise AssertionError(f"mqbridge is not running (exit {code}):\n{self.tail()}")

    def hup(self) -> None:
        self.assert_alive()
        self.proc.send_signal(signal.SIGHUP)

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def reloads(self) -> list[str]:
        """The `config reloaded ...` lines so far."""
        return [line for line in self.log().splitlines() if "config reloaded" in line]

    def refusals(self) -> list[str]:
        """Each refusal: its log line and the error lines after it (the error is multi-line)."""
        lines = self.log().splitlines()
        out = []
        for i, line in enumerate(lines):
            if "config reload refused; the running config stays" in line:
                out.append("\n".join(lines[i : i + 5]))
        return out

    def wait_reloads(self, n: int, timeout: float = 20) -> str:
        """Wait for the n-th `config reloaded` line; return it."""
        wait_until(f"{n} 'config reloaded' line(s)", lambda: len(self.reloads()) >= n, timeout, log=self.tail)
        return self.reloads()[n - 1]

    def wait_refusals(self, n: int, timeout: float = 20) -> str:
        wait_until(
            f"{n} 'config reload refused' line(s)", lambda: len(self.refusals()) >= n, timeout, log=self.tail
        )
        return self.refusals()[n - 1]

    def stop(self, timeout: float = 25) -> int:
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"mqbridge did not exit within {timeout}s of SIGTERM:\n{self.tail()}") from None


def route_names(line: str, field: str) -> list[str]:
    """The route names in a `config reloaded` line's field (`restarted=["a", "b"]`)."""
    m = re.search(field + r"=\[([^\]]*)\]", line)
    assert m, f"no {field}=[...] in {line!r}"
    return re.findall(r'"([^"]*)"', m.group(1))


# ---------------------------------------------------------------- traffic


class Publisher(threading.Thread):
    """Publishes numbered messages to each of `queues` in turn (default exchange, persistent,
    publisher confirms) until stopped; `confirmed[queue]` holds the ids the bridge confirmed.
    `rate` caps messages per second (all queues together)."""

    def __init__(self, url: str, queues: list[str], rate: float = 400):
        super().__init__(daemon=True)
        self.url = url
        self.queues = queues
        self.interval = 1.0 / rate
        self.confirmed: dict[str, list[int]] = {q: [] for q in queues}
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            conn = pika.BlockingConnection(pika.URLParameters(self.url))
            ch = conn.channel()
            ch.confirm_delivery()
            n = 0
            next_at = time.monotonic()
            while not self._halt.is_set():
                for q in self.queues:
                    n += 1
                    ch.basic_publish(
                        "",
                        q,
                        str(n).encode(),
                        pika.BasicProperties(message_id=str(n), delivery_mode=2),
                        mandatory=True,
                    )
                    self.confirmed[q].append(n)
                next_at += self.interval * len(self.queues)
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            conn.close()
        except BaseException as e:  # reported by stop()
            self.error = e

    def total(self, queue: str) -> int:
        return len(self.confirmed[queue])

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=20)
        if self.error:
            raise AssertionError(f"the publisher failed: {self.error!r}")


class Consumer(threading.Thread):
    """Consumes `queues` and records each message id per queue (with repeats)."""

    def __init__(self, url: str, queues: list[str]):
        super().__init__(daemon=True)
        self.url = url
        self.queues = queues
        self.seen: dict[str, list[int]] = {q: [] for q in queues}
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            conn = pika.BlockingConnection(pika.URLParameters(self.url))
            ch = conn.channel()
            for q in self.queues:

                def on_message(ch, method, props, body, q=q):
                    with self.lock:
                        self.seen[q].append(int(props.message_id))
                    ch.basic_ack(method.delivery_tag)

                ch.basic_qos(prefetch_count=200)
                ch.basic_consume(q, on_message)
            self.ready.set()
            while not self._halt.is_set():
                conn.process_data_events(time_limit=0.1)
            conn.close()
        except BaseException as e:
            self.error = e
            self.ready.set()

    def count(self, queue: str) -> int:
        with self.lock:
            return len(self.seen[queue])

    def ids(self, *queues: str) -> list[int]:
        with self.lock:
            return [i for q in queues for i in self.seen[q]]

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=20)
        if self.error:
            raise AssertionError(f"the consumer failed: {self.error!r}")


# ---------------------------------------------------------------- mail


class SmtpSink:
    """tests/interop/python/smtp_sink.py on a free port, writing .eml files to `out`."""

    def __init__(self, out: Path, *args: str, port: int | None = None):
        self.out = out
        self.port = port or free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(SMTP_SINK), "--port", str(self.port), "--dir", str(out), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.proc.stdout.readline()
        if "listening" not in line:
            self.proc.kill()
            raise AssertionError(f"smtp_sink.py did not start: {line!r}")

    def mails(self) -> list[Path]:
        return sorted(self.out.glob("*.eml"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
