"""Helpers of the route interop tests: a bridge process on a config file, the JMS tool, pika
producers and consumers that number their messages, peer restarts, and the tally.

Everything here talks to real peers: RabbitMQ (RABBITMQ_URL, default
amqp://guest:guest@127.0.0.1:5682/%2f), ActiveMQ 5.17 (OpenWire ACTIVEMQ_OPENWIRE_PORT, default
61626; STOMP ACTIVEMQ_STOMP_PORT, default 61633) and the mqbridge release binary
(MQBRIDGE_BIN, default $CARGO_TARGET_DIR/release/mqbridge, else
<repo>/target/release/mqbridge). Every wait is bounded and fails with a message saying what was
being waited for.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
MQBRIDGE_BIN = os.environ.get("MQBRIDGE_BIN") or str(
    Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "release" / "mqbridge"
)
RABBITMQ_URL = os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5682/%2f"
AMQ_OPENWIRE_PORT = int(os.environ.get("ACTIVEMQ_OPENWIRE_PORT") or 61626)
AMQ_STOMP_PORT = int(os.environ.get("ACTIVEMQ_STOMP_PORT") or 61633)
AMQ_OPENWIRE_URL = f"tcp://127.0.0.1:{AMQ_OPENWIRE_PORT}"
JMS_TOOL_DIR = HERE / "jms-tool"
JMS_TOOL_JAR = JMS_TOOL_DIR / "target" / "jms-tool.jar"
# Log filter of the bridges started here: route life-cycle lines are at info.
BRIDGE_LOG_FILTER = os.environ.get("ROUTES_BRIDGE_LOG", "info")

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def token() -> str:
    return uuid.uuid4().hex[:8]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Fatal(AssertionError):
    """Raised by a `wait_until` predicate when waiting longer cannot help."""


def wait_until(what: str, predicate, timeout: float, interval: float = 0.2):
    """Poll `predicate` until it returns a true value; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Fatal:
            raise
        except Exception as e:  # a peer in the middle of a restart: keep polling
            last_error = e
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last_error!r})" if last_error else "")
    )


def report(line: str) -> None:
    """A result line, in the pytest output (run with -s) and in ROUTES_RESULTS when set."""
    print(f"\nROUTES {line}", flush=True)
    path = os.environ.get("ROUTES_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# ---------------------------------------------------------------- the bridge


CONNECTIONS_YAML = f"""connections:
  amq: {{ openwire: "tcp://127.0.0.1:{AMQ_OPENWIRE_PORT}" }}
  amq-stomp: {{ stomp: "tcp://127.0.0.1:{AMQ_STOMP_PORT}", user: admin, password: admin }}
  rabbit: {{ amqp: "{RABBITMQ_URL}" }}
"""


class Bridge:
    """mqbridge run --config FILE, its AMQP listener on port 0, stderr and stdout in a log file.

    `body` is the YAML after `listeners:` and `storage:` (connections, topology, routes)."""

    def __init__(self, workdir: Path, body: str, name: str = "bridge"):
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "mqbridge.yaml"
        self.log_path = self.dir / "mqbridge.log"
        self.config.write_text(
            "# written by tests/interop/routes\n"
            'listeners:\n  amqp: { bind: "127.0.0.1:0" }\n'
            f'storage: {{ dir: "{self.dir / "data"}" }}\n' + body,
            encoding="utf-8",
        )
        self.proc: subprocess.Popen | None = None
        self.amqp_port: int | None = None
        self.starts = 0
        self._log_offset = 0

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2f"

    def log(self) -> str:
        try:
            return ANSI.sub("", self.log_path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            return ""

    def current_log(self) -> str:
        """The log of the running process only (a restart appends to the same file)."""
        return self.log()[self._log_offset :]

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def start(self, routes: list[str] = (), timeout: float = 30) -> "Bridge":
        if not os.access(MQBRIDGE_BIN, os.X_OK):
            raise AssertionError(f"no mqbridge binary at {MQBRIDGE_BIN} (cargo build --release)")
        self._log_offset = len(self.log())
        env = dict(os.environ, NO_COLOR="1", MQBRIDGE_LOG=BRIDGE_LOG_FILTER)
        env.pop("MQBRIDGE_CONFIG", None)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [MQBRIDGE_BIN, "run", "--config", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
        )
        log.close()
        self.starts += 1

        def listening():
            if self.proc.poll() is not None:
                raise Fatal(f"mqbridge exited with {self.proc.returncode} during start")
            # Only a complete line: the log may be read while the line is being written.
            m = re.search(r"listener=\"?amqp\"? address=\"?[^ \"\n]*:(\d+)\"?[ \t]*\n", self.current_log())
            return m and int(m.group(1))

        try:
            self.amqp_port = wait_until("mqbridge's 'Listening.' line", listening, timeout, 0.05)
            for route in routes:
                self.wait_route_running(route, timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}\n---- mqbridge log ----\n{self.tail()}") from None
        return self

    def route_running_count(self, route: str) -> int:
        pattern = re.compile(r"route running.*route=\"?" + re.escape(route) + r"\"?(\s|$)")
        return sum(1 for line in self.current_log().splitlines() if pattern.search(line))

    def wait_route_running(self, route: str, timeout: float = 30, times: int = 1) -> None:
        def running():
            if self.proc is not None and self.proc.poll() is not None:
                raise Fatal(f"mqbridge exited with {self.proc.returncode}")
            return self.route_running_count(route) >= times

        try:
            wait_until(f"route '{route}' running (x{times}) in the mqbridge log", running, timeout, 0.05)
        except AssertionError as e:
            raise AssertionError(f"{e}\n---- mqbridge log ----\n{self.tail()}") from None

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 25) -> int:
        """SIGTERM; returns the exit status (kills and fails after `timeout`)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(
                f"mqbridge did not exit within {timeout}s of SIGTERM:\n{self.tail()}"
            ) from None


def route_yaml(
    name: str,
    source: str,
    target: str,
    headers: str | None = None,
    dead_letter: str | None = None,
    extra: str = "",
) -> str:
    lines = [f"  - name: {name}", f"    from: {source}", f"    to: {target}"]
    if headers:
        lines.append(f"    headers: {headers}")
    if dead_letter:
        lines.append(f"    dead_letter: {dead_letter}")
    if extra:
        lines.append(extra)
    # Quick retries and reconnects: the fault tests measure recovery, not patience.
    lines.append('    retry: { attempts: 5, backoff: "100ms..2s" }')
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the JMS tool


def ensure_jms_tool() -> Path:
    if not JMS_TOOL_JAR.exists():
        subprocess.run(
            ["mvn", "-q", "-B", "package", "-DskipTests"],
            cwd=JMS_TOOL_DIR,
            check=True,
            timeout=300,
        )
    return JMS_TOOL_JAR


def _jms_args(command: str, queue: str, url: str, extra: list[str]) -> list[str]:
    return ["java", "-jar", str(JMS_TOOL_JAR), command, "--url", url, "--queue", queue, *extra]


def jms_produce(
    queue: str,
    count: int,
    prefix: str,
    url: str = AMQ_OPENWIRE_URL,
    extra: list[str] = (),
    timeout: float = 180,
) -> dict:
    args = _jms_args("produce", queue, url, ["--count", str(count), "--prefix", prefix, *extra])
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"jms-tool produce failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def jms_produce_background(
    queue: str, count: int, prefix: str, url: str, extra: list[str], log: Path
) -> subprocess.Popen:
    f = open(log, "wb")
    p = subprocess.Popen(
        _jms_args("produce", queue, url, ["--count", str(count), "--prefix", prefix, *extra]),
        stdout=f,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    f.close()
    return p


def jms_unsubscribe(client_id: str, subscription: str, url: str = AMQ_OPENWIRE_URL) -> None:
    p = subprocess.run(
        _jms_args("unsubscribe", subscription, url, ["--client-id", client_id]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if p.returncode != 0:
        raise AssertionError(f"jms-tool unsubscribe failed ({p.returncode}):\n{p.stderr[-3000:]}")


def jms_consume(
    queue: str,
    expect: int | None = None,
    idle: float = 5,
    timeout: float = 120,
    selector: str | None = None,
    url: str = AMQ_OPENWIRE_URL,
) -> list[dict]:
    extra = ["--idle", str(idle), "--timeout", str(timeout)]
    if expect is not None:
        extra += ["--expect", str(expect)]
    if selector:
        extra += ["--selector", selector]
    p = subprocess.run(
        _jms_args("consume", queue, url, extra),
        capture_output=True,
        text=True,
        timeout=timeout + 60,
    )
    if p.returncode != 0:
        raise AssertionError(f"jms-tool consume failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------- RabbitMQ (pika)


def rabbit_connect(url: str = RABBITMQ_URL, attempts: int = 3) -> pika.BlockingConnection:
    params = pika.URLParameters(url)
    params.connection_attempts = attempts
    params.retry_delay = 1
    params.socket_timeout = 10
    params.blocked_connection_timeout = 60
    params.heartbeat = 30
    return pika.BlockingConnection(params)


class Rabbit:
    """Queues on RabbitMQ (or on the bridge's own AMQP listener), deleted by `close`."""

    def __init__(self, url: str = RABBITMQ_URL):
        self.url = url
        self.declared: list[str] = []

    def declare(self, name: str) -> str:
        with rabbit_connect(self.url) as c:
            c.channel().queue_declare(name, durable=True)
        self.declared.append(name)
        return name

    def depth(self, name: str) -> int:
        with rabbit_connect(self.url, attempts=1) as c:
            return c.channel().queue_declare(name, passive=True).method.message_count

    def close(self) -> None:
        for name in self.declared:
            try:
                with rabbit_connect(self.url, attempts=1) as c:
                    c.channel().queue_delete(name)
            except Exception:
                pass

    def publish(
        self,
        routing_key: str,
        ids: list[str],
        headers=lambda i, mid: {},
        exchange: str = "",
        confirm: bool = True,
        **properties,
    ) -> float:
        """Publish persistent text messages (body = id) with confirms; returns msgs/s."""
        t0 = time.monotonic()
        with rabbit_connect(self.url) as c:
            ch = c.channel()
            if confirm:
                ch.confirm_delivery()
            for i, mid in enumerate(ids):
                props = pika.BasicProperties(
                    delivery_mode=2,
                    content_type="text/plain",
                    correlation_id=f"corr-{mid}",
                    type="route-test",
                    headers={"mid": mid, "seq": i, **headers(i, mid)},
                    **properties,
                )
                ch.basic_publish(exchange, routing_key, mid.encode(), props)
        return len(ids) / max(time.monotonic() - t0, 1e-9)

    def drain(
        self,
        name: str,
        expect: int | None = None,
        idle: float = 10,
        timeout: float = 120,
    ) -> list[tuple[pika.BasicProperties, bytes, float]]:
        """Consume (and ack) until `expect` messages, `idle` seconds of silence, or `timeout`.
        Returns (properties, body, arrival time.monotonic()) in arrival order."""
        got: list[tuple[pika.BasicProperties, bytes, float]] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        with rabbit_connect(self.url) as c:
            ch = c.channel()
            ch.basic_qos(prefetch_count=1000)
            unacked = 0
            last_tag = 0

            def on_message(ch_, method, props, body):
                nonlocal unacked, last_tag, last
                got.append((props, body, time.monotonic()))
                last = time.monotonic()
                last_tag = method.delivery_tag
                unacked += 1
                if unacked >= 200:
                    ch_.basic_ack(last_tag, multiple=True)
                    unacked = 0

            ch.basic_consume(name, on_message, auto_ack=False)
            while time.monotonic() < deadline and time.monotonic() - last < idle:
                if expect is not None and len(got) >= expect:
                    break
                c.process_data_events(time_limit=0.2)
                if unacked:
                    ch.basic_ack(last_tag, multiple=True)
                    unacked = 0
        return got


# ---------------------------------------------------------------- peer restarts


def _bash(script: str, timeout: float) -> None:
    p = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if p.returncode != 0:
        raise AssertionError(f"`{script}` failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")


def restart_rabbitmq() -> None:
    """stop_app + start_app: the node (and its durable queues) stays, its listeners go away."""
    _bash(
        "source scripts/lib/common.sh && as_root timeout 60 rabbitmqctl -q stop_app && "
        "sleep 1 && as_root timeout 60 rabbitmqctl -q start_app && "
        "as_root timeout 60 rabbitmqctl -q await_startup",
        timeout=150,
    )
    port = int(RABBITMQ_URL.rsplit(":", 1)[1].split("/")[0])
    wait_until(f"RabbitMQ's AMQP port {port} after start_app", lambda: port_open("127.0.0.1", port), 60)


def ensure_rabbitmq_up() -> None:
    port = int(RABBITMQ_URL.rsplit(":", 1)[1].split("/")[0])
    if not port_open("127.0.0.1", port):
        _bash("source scripts/lib/rabbitmq.sh && rabbitmq_start || "
              "(source scripts/lib/common.sh && as_root rabbitmqctl -q start_app)", timeout=180)


def restart_activemq() -> None:
    _bash("source scripts/lib/activemq.sh && activemq_restart", timeout=200)


def ensure_activemq_up() -> None:
    if not (port_open("127.0.0.1", AMQ_OPENWIRE_PORT) and port_open("127.0.0.1", AMQ_STOMP_PORT)):
        _bash("source scripts/lib/activemq.sh && activemq_start", timeout=200)


# ---------------------------------------------------------------- counting


@dataclass
class Tally:
    label: str
    sent: list[str]
    received: list[str]
    counts: collections.Counter = field(init=False)

    def __post_init__(self):
        self.counts = collections.Counter(self.received)

    @property
    def lost(self) -> list[str]:
        return [i for i in self.sent if i not in self.counts]

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.counts.values() if n > 1)

    @property
    def unexpected(self) -> list[str]:
        sent = set(self.sent)
        return sorted(i for i in self.counts if i not in sent)

    def line(self, extra: str = "") -> str:
        return (
            f"{self.label}: sent={len(self.sent)} received={len(self.received)} "
            f"lost={len(self.lost)} duplicates={self.duplicates} "
            f"unexpected={len(self.unexpected)}" + (f" {extra}" if extra else "")
        )

    def check(self, extra: str = "", duplicates_allowed: bool = False) -> None:
        report(self.line(extra))
        assert not self.lost, f"{self.label}: {len(self.lost)} lost, e.g. {self.lost[:10]}"
        assert not self.unexpected, f"{self.label}: unexpected ids {self.unexpected[:10]}"
        if not duplicates_allowed:
            assert self.duplicates == 0, f"{self.label}: {self.duplicates} duplicates"
