"""Fixtures of the route interop tests (tests/interop/routes).

Each test gets a work dir, unique queue names and a per-test deadline (ROUTES_TEST_TIMEOUT,
default 240 s) so that a hung peer or route fails the test instead of stalling CI. Bridges a
test starts are stopped (SIGKILL if need be) and its RabbitMQ queues deleted afterwards.
"""

import os
import signal

import pytest

import routes_lib as rl

TEST_TIMEOUT_S = int(os.environ.get("ROUTES_TEST_TIMEOUT", "240"))


@pytest.fixture(autouse=True)
def _per_test_deadline():
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT_S}s (ROUTES_TEST_TIMEOUT)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def names():
    """Unique queue names: `names('label')` -> routesinterop.<token>.label."""
    t = rl.token()
    return lambda label: f"routesinterop.{t}.{label}"


@pytest.fixture
def bridges(tmp_path):
    """`bridges(yaml_body)` -> a Bridge (not started); all are stopped at the end."""
    made: list[rl.Bridge] = []

    def make(body: str, name: str = "bridge") -> rl.Bridge:
        b = rl.Bridge(tmp_path, body, name=f"{name}{len(made)}")
        made.append(b)
        return b

    yield make
    for b in made:
        try:
            b.stop(timeout=15)
        except Exception:
            b.kill9()


@pytest.fixture
def rabbit():
    """Queues on the external RabbitMQ, deleted afterwards."""
    if not rl.port_open("127.0.0.1", int(rl.RABBITMQ_URL.rsplit(":", 1)[1].split("/")[0])):
        pytest.fail(f"RabbitMQ is not reachable at {rl.RABBITMQ_URL} (scripts/lib/rabbitmq.sh rabbitmq_start)")
    r = rl.Rabbit(rl.RABBITMQ_URL)
    yield r
    rl.ensure_rabbitmq_up()
    r.close()


@pytest.fixture(scope="session")
def jms_tool():
    if not (rl.port_open("127.0.0.1", rl.AMQ_OPENWIRE_PORT) and rl.port_open("127.0.0.1", rl.AMQ_STOMP_PORT)):
        pytest.fail(
            f"ActiveMQ is not reachable (OpenWire {rl.AMQ_OPENWIRE_PORT}, STOMP {rl.AMQ_STOMP_PORT}; "
            "scripts/lib/activemq.sh activemq_start)"
        )
    return rl.ensure_jms_tool()
