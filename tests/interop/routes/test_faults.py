"""Faults in the middle of an ActiveMQ -> mqbridge -> RabbitMQ stream: restart RabbitMQ,
restart ActiveMQ (OpenWire and STOMP sources), kill -9 the bridge or stop it with SIGTERM
(and start it again on the same config); and in the reverse direction (AMQP source, OpenWire target) restart RabbitMQ
and ActiveMQ while the route drains a backlog. Each run
prints sent / received / lost / duplicates and asserts that nothing is lost; duplicates are
what at-least-once allows (a message confirmed by RabbitMQ whose ack to ActiveMQ did not
happen comes again) and are only printed.

ROUTES_FAULT_N (default 3000) persistent JMS messages: half of them queued in ActiveMQ before
the bridge starts (so the route runs at full speed, its window full, when the fault hits),
the other half sent at ROUTES_FAULT_RATE msg/s (default 500) through the failover transport
(so an ActiveMQ restart only pauses it) while the route runs. The fault is injected once a
sixth of them reached RabbitMQ. When the producer is done and
the RabbitMQ queue stops growing, the queue is drained and every id counted; what the route
left in ActiveMQ is counted too.
"""

import os
import time

import routes_lib as rl

N = int(os.environ.get("ROUTES_FAULT_N", "3000"))
RATE = float(os.environ.get("ROUTES_FAULT_RATE", "500"))


def settle(rabbit, queue, producer, n, timeout=150):
    """Wait until the producer is done and the queue depth is steady: 3 s once it holds at
    least n messages, 20 s otherwise (then messages are missing; the tally shows which)."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        try:
            depth = rabbit.depth(queue)
        except Exception:
            time.sleep(0.5)
            continue
        now = time.monotonic()
        if depth != last:
            last, since = depth, now
        if producer.poll() is not None:
            steady = now - since
            if (depth >= n and steady >= 3) or steady >= 20:
                return depth
        time.sleep(0.25)
    return last


def fault_run(label, fault, bridges, names, rabbit, tmp_path, connection="amq"):
    src, dst = names("fault-src"), rabbit.declare(names("fault-dst"))
    route = f"fault-{label}"
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route, f'{{ connection: {connection}, queue: "{src}" }}', f'{{ connection: rabbit, queue: "{dst}" }}'
    )
    ids = [f"f-{i}" for i in range(N)]
    # A backlog first, so the fault finds the route at full speed with its window full...
    backlog = N // 2
    rl.jms_produce(src, backlog, prefix="f-")
    bridge = bridges(body).start(routes=[route])
    not_back = None
    # ...then a paced stream that goes on through the fault.
    producer_log = tmp_path / "producer.log"
    producer = rl.jms_produce_background(
        src,
        N - backlog,
        "f-",
        url=f"failover:({rl.AMQ_OPENWIRE_URL})?initialReconnectDelay=100&maxReconnectDelay=1000",
        extra=["--start", str(backlog), "--batch", "0", "--rate", str(RATE)],
        log=producer_log,
    )
    try:
        # Early in the backlog (polled fast: the route drains it in well under a second), so
        # a kill -9 finds the window full.
        rl.wait_until(
            f"{N // 6} messages through the route before the fault",
            lambda: rabbit.depth(dst) >= N // 6,
            90,
            interval=0.02,
        )
        t_fault = time.monotonic()
        fault(bridge, route)
        fault_s = time.monotonic() - t_fault
        # The route must come back by itself (a new process for kill -9: its first run).
        try:
            bridge.wait_route_running(route, timeout=90, times=1 if label.startswith("bridge-") else 2)
        except AssertionError as e:
            not_back = e  # tally first, so the run still shows what was lost
        try:
            producer.wait(timeout=180)
        except Exception:
            producer.kill()
            raise AssertionError(f"the JMS producer did not finish:\n{producer_log.read_text()[-3000:]}")
        assert producer.returncode == 0, f"JMS producer failed:\n{producer_log.read_text()[-3000:]}"
        depth = settle(rabbit, dst, producer, N)
        got = rabbit.drain(dst, expect=depth, idle=5, timeout=120)
    finally:
        if producer.poll() is None:
            producer.kill()
    restarts = bridge.route_running_count(route) - 1
    status = bridge.stop()
    left = rl.jms_consume(src, idle=2, timeout=60)
    tally = rl.Tally(f"fault {label}", ids, [b.decode() for _, b, _ in got])
    tally.check(
        f"left_in_activemq={len(left)} route_reconnects={restarts} fault_took={fault_s:.1f}s",
        duplicates_allowed=True,
    )
    if not_back:
        raise not_back
    assert status == 0, f"mqbridge exited {status} on SIGTERM:\n{bridge.tail()}"


def test_restart_rabbitmq_mid_stream(bridges, names, rabbit, jms_tool, tmp_path):
    def fault(bridge, route):
        try:
            rl.restart_rabbitmq()
        finally:
            rl.ensure_rabbitmq_up()

    fault_run("rabbitmq-restart", fault, bridges, names, rabbit, tmp_path)


def test_restart_activemq_mid_stream(bridges, names, rabbit, jms_tool, tmp_path):
    def fault(bridge, route):
        try:
            rl.restart_activemq()
        finally:
            rl.ensure_activemq_up()

    fault_run("activemq-restart", fault, bridges, names, rabbit, tmp_path)


def test_kill9_bridge_mid_stream(bridges, names, rabbit, jms_tool, tmp_path):
    def fault(bridge, route):
        bridge.kill9()
        bridge.start(routes=[route])

    fault_run("bridge-kill9", fault, bridges, names, rabbit, tmp_path)


def reverse_fault_run(label, fault, bridges, names, rabbit):
    """RabbitMQ (AMQP source) -> ActiveMQ (OpenWire target), the fault injected while the
    route drains a backlog of N messages. What the route had sent but not acked at RabbitMQ
    is requeued there and comes again after the route reconnects."""
    src, dst = rabbit.declare(names("fault-rsrc")), names("fault-adst")
    route = f"fault-{label}"
    ids = [f"g-{i}" for i in range(N)]
    rabbit.publish(src, ids, confirm=False)
    rl.wait_until(f"{N} messages in RabbitMQ queue {src}", lambda: rabbit.depth(src) >= N, 30)
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route, f'{{ connection: rabbit, queue: "{src}" }}', f'{{ connection: amq, queue: "{dst}" }}'
    )
    bridge = bridges(body).start(routes=[route])
    rl.wait_until(
        f"a third of {src} drained by the route before the fault",
        lambda: rabbit.depth(src) <= N - N // 3,
        90,
    )
    t_fault = time.monotonic()
    fault()
    fault_s = time.monotonic() - t_fault
    not_back = None
    try:
        bridge.wait_route_running(route, timeout=90, times=2)
    except AssertionError as e:
        not_back = e
    got = rl.jms_consume(dst, expect=N, idle=20, timeout=150)
    # Duplicates still on their way after the last id arrived.
    got += rl.jms_consume(dst, idle=3, timeout=30)
    left = rabbit.depth(src)
    status = bridge.stop()
    rl.Tally(f"fault {label}", ids, [m["body"] for m in got]).check(
        f"left_in_rabbitmq={left} route_reconnects={bridge.route_running_count(route) - 1} "
        f"fault_took={fault_s:.1f}s",
        duplicates_allowed=True,
    )
    if not_back:
        raise not_back
    assert status == 0, f"mqbridge exited {status} on SIGTERM:\n{bridge.tail()}"


def test_restart_rabbitmq_under_an_amqp_source(bridges, names, rabbit, jms_tool):
    def fault():
        try:
            rl.restart_rabbitmq()
        finally:
            rl.ensure_rabbitmq_up()

    reverse_fault_run("rabbitmq-restart-amqp-source", fault, bridges, names, rabbit)


def test_restart_activemq_under_an_openwire_target(bridges, names, rabbit, jms_tool):
    def fault():
        try:
            rl.restart_activemq()
        finally:
            rl.ensure_activemq_up()

    reverse_fault_run("activemq-restart-openwire-target", fault, bridges, names, rabbit)


def test_restart_activemq_under_a_stomp_source(bridges, names, rabbit, jms_tool, tmp_path):
    def fault(bridge, route):
        try:
            rl.restart_activemq()
        finally:
            rl.ensure_activemq_up()

    fault_run("activemq-restart-stomp", fault, bridges, names, rabbit, tmp_path, connection="amq-stomp")


def test_sigterm_bridge_mid_stream(bridges, names, rabbit, jms_tool, tmp_path):
    # A clean stop mid-stream: the route settles what it has in flight, the bridge exits 0,
    # and a new one on the same config carries on.
    def fault(bridge, route):
        status = bridge.stop()
        assert status == 0, f"mqbridge exited {status} on SIGTERM mid-stream:\n{bridge.tail()}"
        bridge.start(routes=[route])

    fault_run("bridge-sigterm", fault, bridges, names, rabbit, tmp_path)
