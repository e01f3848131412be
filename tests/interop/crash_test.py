#!/usr/bin/env python3
"""Crash test: no publisher-confirmed persistent message may be lost by a kill -9.

Publishes N persistent messages with publisher confirms (windowed, asynchronous) to a durable
queue; a watcher thread sends SIGKILL to the broker once about half are confirmed; the
broker is restarted on the same data; then everything in the queue is consumed and every
confirmed body must be there. Prints counts (published, confirmed, received, duplicates).

Targets:
  --target mqbridge   env MQBRIDGE_BIN (binary) and MQBRIDGE_CRASH_CONFIG (YAML config with
                      the AMQP listener on port 0 and a storage dir); the test starts the
                      bridge itself, reads the port from its log `listener=amqp address=H:P`,
                      and stops it with SIGTERM at the end (exit status must be 0).
  --target rabbitmq   env RABBITMQ_URL; kills the local node found by `rabbitmqctl`
                      (pid from os:getpid()) and restarts it with `rabbitmq-server -detached`.
Exit status 0 when no confirmed message was lost.
"""

import argparse
import atexit
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pika

QUEUE = "crash-test.durable"
PORT_RE = re.compile(r'listener="?amqp"?\s+address="?[^\s"]*:(\d+)')
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


class Deadline(BaseException):
    """Raised by SIGALRM/SIGTERM; not an OSError, so no handler below swallows it."""


def log(msg):
    print(f"[crash-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Mqbridge:
    def __init__(self):
        self.bin = os.environ["MQBRIDGE_BIN"]
        self.config = os.environ["MQBRIDGE_CRASH_CONFIG"]
        self.proc = None
        self.logdir = tempfile.mkdtemp(prefix="mqbridge-crash-")
        self.starts = 0
        self.url = None

    def start(self):
        self.starts += 1
        logpath = os.path.join(self.logdir, f"mqbridge.{self.starts}.log")
        logf = open(logpath, "wb")
        env = dict(os.environ, NO_COLOR="1")
        # the binary reads MQBRIDGE_CONFIG (--config default) and MQBRIDGE_LOG (log filter)
        env.pop("MQBRIDGE_CONFIG", None)
        env["MQBRIDGE_LOG"] = os.environ.get("MQBRIDGE_LOG_FILTER", "info")
        self.proc = subprocess.Popen([self.bin, "run", "--config", self.config], stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(logpath, "rb") as f:
                text = ANSI_RE.sub("", f.read().decode("utf-8", "replace"))
            m = PORT_RE.search(text)
            if m:
                self.url = f"amqp://guest:guest@127.0.0.1:{m.group(1)}/%2f"
                log(f"mqbridge pid {self.proc.pid} listening on port {m.group(1)} (log {logpath})")
                return self.url
            if self.proc.poll() is not None:
                raise SystemExit(f"mqbridge exited with {self.proc.returncode} during start:\n{text}")
            time.sleep(0.1)
        raise SystemExit(f"no listener=amqp line in {logpath} after 60s")

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        log(f"mqbridge pid {self.proc.pid} killed with SIGKILL")

    def restart(self):
        return self.start()

    def reap(self):
        """Never leave a bridge behind, whatever happened."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise SystemExit("mqbridge did not exit within 20s of SIGTERM")
            if rc != 0:
                raise SystemExit(f"mqbridge exited with status {rc} after SIGTERM (expected 0)")
            log("mqbridge stopped cleanly (exit 0)")


class RabbitMQ:
    def __init__(self):
        self.url = os.environ["RABBITMQ_URL"]

    @staticmethod
    def ctl(*args, timeout=120):
        return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                              timeout=timeout)

    def start(self):
        return self.url

    def kill9(self):
        pid = int(self.ctl("eval", "os:getpid().").stdout.strip().strip('"'))
        os.kill(pid, signal.SIGKILL)
        log(f"RabbitMQ pid {pid} killed with SIGKILL")

    def restart(self):
        # wait for the old node to be gone before starting a new one
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.ctl("status", timeout=30).returncode == 0:
            time.sleep(0.5)
        subprocess.run(["rabbitmq-server", "-detached"], capture_output=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.ctl("await_startup", timeout=60).returncode == 0:
                log("RabbitMQ restarted")
                return self.url
            time.sleep(1)
        raise SystemExit("RabbitMQ did not come back")

    def stop(self):
        pass

    def reap(self):
        pass


def connect(url, attempts=50):
    last = None
    for _ in range(attempts):
        try:
            params = pika.URLParameters(url)
            params.connection_attempts = 1
            params.socket_timeout = 10
            params.heartbeat = 0
            return pika.BlockingConnection(params)
        except pika.exceptions.AMQPConnectionError as e:
            last = e
            time.sleep(0.2)
    raise SystemExit(f"cannot connect to {url}: {last!r}")


def body_of(i):
    return f"crash-{i:07d}-".encode() + b"x" * 100


def publish(url, n, window, broker):
    """Returns (published, confirmed set of indexes, nacked set)."""
    conn = connect(url)
    ch = conn.channel()
    ch.queue_declare(QUEUE, durable=True)
    ch.queue_purge(QUEUE)
    impl = ch._impl  # asynchronous confirms on the blocking connection's channel
    confirmed, nacked = set(), set()
    state = {"next_seq": 1, "acked_upto": 0}
    seq_to_idx = {}

    def on_confirm(frame):
        m = frame.method
        tags = [t for t in list(seq_to_idx) if t <= m.delivery_tag] if m.multiple else [m.delivery_tag]
        target = confirmed if isinstance(m, pika.spec.Basic.Ack) else nacked
        for t in tags:
            idx = seq_to_idx.pop(t, None)
            if idx is not None:
                target.add(idx)

    impl.confirm_delivery(on_confirm)
    conn.process_data_events(time_limit=0.2)

    killed = threading.Event()

    def watcher():
        while len(confirmed) < n // 2:
            time.sleep(0.001)
        broker.kill9()
        killed.set()

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    props = pika.BasicProperties(delivery_mode=2)
    published = 0
    try:
        while published < n:
            while len(seq_to_idx) >= window:
                conn.process_data_events(time_limit=0.01)
            impl.basic_publish("", QUEUE, body_of(published), props)
            seq_to_idx[state["next_seq"]] = published
            state["next_seq"] += 1
            published += 1
            if published % 200 == 0:
                conn.process_data_events(time_limit=0)
        deadline = time.monotonic() + 60
        while seq_to_idx and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.05)
    except (pika.exceptions.AMQPError, OSError) as e:
        log(f"publisher stopped by the crash after {published} publishes: {type(e).__name__}")
    if not killed.wait(timeout=120):
        raise SystemExit(f"the kill never happened (confirmed {len(confirmed)} of {n}); "
                         "N too small or confirms not arriving")
    try:
        conn.close()
    except Exception:
        pass
    return published, confirmed, nacked


def consume_all(url):
    conn = connect(url, attempts=150)
    ch = conn.channel()
    ch.queue_declare(QUEUE, durable=True, passive=True)
    ch.basic_qos(prefetch_count=1000)
    received = []
    ch.basic_consume(QUEUE, lambda c, m, p, b: (received.append(b), c.basic_ack(m.delivery_tag)))
    idle_since = time.monotonic()
    last = 0
    while time.monotonic() - idle_since < 3.0:
        conn.process_data_events(time_limit=0.1)
        if len(received) != last:
            last = len(received)
            idle_since = time.monotonic()
    left = ch.queue_declare(QUEUE, durable=True, passive=True).method.message_count
    ch.queue_delete(QUEUE)
    conn.close()
    return received, left


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=["mqbridge", "rabbitmq"], default="mqbridge")
    ap.add_argument("-n", type=int, default=int(os.environ.get("CRASH_MESSAGES", "20000")))
    ap.add_argument("--window", type=int, default=500, help="max unconfirmed publishes in flight")
    args = ap.parse_args()
    def on_deadline(signum, frame):
        raise Deadline(f"crash test interrupted by signal {signum} (deadline or timeout)")

    signal.signal(signal.SIGALRM, on_deadline)
    signal.signal(signal.SIGTERM, on_deadline)
    signal.alarm(int(os.environ.get("CRASH_TEST_TIMEOUT", "600")))

    broker = Mqbridge() if args.target == "mqbridge" else RabbitMQ()
    atexit.register(broker.reap)
    url = broker.start()
    try:
        published, confirmed, nacked = publish(url, args.n, args.window, broker)
        log(f"published {published}, confirmed {len(confirmed)}, nacked {len(nacked)} before/at the crash")
        url = broker.restart()
        received_bodies, left = consume_all(url)
    finally:
        broker.stop()

    received = {}
    for b in received_bodies:
        received[b] = received.get(b, 0) + 1
    duplicates = sum(c - 1 for c in received.values())
    expected = {body_of(i) for i in confirmed}
    lost = sorted(expected - received.keys())
    unknown = [b for b in received if not b.startswith(b"crash-")]
    unconfirmed_kept = len(received.keys() - expected)
    log(f"RESULT published={published} confirmed={len(confirmed)} received={len(received_bodies)} "
        f"distinct={len(received)} duplicates={duplicates} unconfirmed_but_kept={unconfirmed_kept} "
        f"lost_confirmed={len(lost)} left_in_queue={left}")
    ok = True
    if len(confirmed) < args.n // 2:
        log(f"FAIL: fewer than half confirmed ({len(confirmed)})")
        ok = False
    if lost:
        log(f"FAIL: {len(lost)} confirmed messages lost, first: {[b[:14] for b in lost[:5]]}")
        ok = False
    if unknown:
        log(f"FAIL: {len(unknown)} bodies that were never published")
        ok = False
    if left:
        log(f"FAIL: {left} messages still in the queue after consuming")
        ok = False
    log("PASS: every confirmed message survived the kill -9" if ok else "crash test FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
