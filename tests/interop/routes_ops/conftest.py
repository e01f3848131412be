"""Fixtures of the routes operations tests: a per-test deadline (ROUTES_OPS_TEST_TIMEOUT,
default 180 s) so a hung bridge fails the test instead of stalling CI, and bridges and sinks
that are always stopped."""

import os
import signal

import pytest

import ops_lib as ol

TEST_TIMEOUT_S = int(os.environ.get("ROUTES_OPS_TEST_TIMEOUT", "180"))


@pytest.fixture(autouse=True)
def _per_test_deadline():
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT_S}s (ROUTES_OPS_TEST_TIMEOUT)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def bridges():
    """`bridges(config_path, env=None)` -> a started Bridge; all are stopped at the end."""
    made = []

    def make(config, env=None):
        b = ol.Bridge(config, env)
        made.append(b)
        return b.start()

    yield make
    for b in made:
        try:
            b.stop(timeout=15)
        except Exception:
            if b.proc and b.proc.poll() is None:
                b.proc.kill()


@pytest.fixture
def sinks(tmp_path):
    """`sinks(*args, port=None)` -> a running smtp_sink.py (on a free port unless given) writing
    to a fresh dir; stopped at the end."""
    made = []

    def make(*args, port=None):
        s = ol.SmtpSink(tmp_path / f"mail{len(made)}", *args, port=port)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()
