"""Routes between the real ActiveMQ 5.17 and the real RabbitMQ through mqbridge.

- ActiveMQ -> RabbitMQ over an OpenWire source and over a STOMP source: ROUTES_N (default
  10,000) persistent JMS messages arrive at a pika consumer, each once, with the mapped
  headers (JMS properties as AMQP headers, JMSCorrelationID -> correlation_id, JMSType ->
  type, PERSISTENT -> delivery_mode 2) and the headers the route sets.
- RabbitMQ -> ActiveMQ (AMQP source; OpenWire target with ROUTES_N messages, STOMP target
  with ROUTES_STOMP_TARGET_N) read by a JMS consumer.
- A selector on an OpenWire source (the others stay in ActiveMQ) and on an AMQP source; an
  untranslatable message (routing key `{header.region}`, header missing) dead-lettered on
  RabbitMQ with x-mqbridge-reason / x-mqbridge-error.

Messages are produced before the bridge starts, so the rate printed is the route's own.
"""

import os
import time

import pytest

import routes_lib as rl

N = int(os.environ.get("ROUTES_N", "10000"))
STOMP_TARGET_N = int(os.environ.get("ROUTES_STOMP_TARGET_N", "2000"))

HEADERS = '{ set: { x-route: "{route}", x-tag: "via-{header.mid}" } }'
# ActiveMQ -> RabbitMQ: also rename and remove JMS properties.
AMQ_HEADERS = (
    '{ set: { x-route: "{route}", x-tag: "via-{header.mid}" }, '
    "rename: { even: is_even }, remove: [weight] }"
)


def amq_to_rabbit(bridges, names, rabbit, jms_tool, connection, route, check_headers):
    src, dst = names("amq-src"), rabbit.declare(names("rabbit-dst"))
    produced = rl.jms_produce(src, N, prefix="a-")
    ids = [f"a-{i}" for i in range(N)]
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route,
        f'{{ connection: {connection}, queue: "{src}" }}',
        f'{{ connection: rabbit, queue: "{dst}" }}',
        headers=AMQ_HEADERS,
    )
    t0 = time.monotonic()
    bridge = bridges(body).start(routes=[route])
    got = rabbit.drain(dst, expect=N, idle=30, timeout=180)
    # No fault, no retry: the route keeps the source's order.
    seqs = [int(b.decode().rsplit("-", 1)[1]) for _, b, _ in got]
    out_of_order = sum(1 for a, b in zip(seqs, seqs[1:]) if b < a)
    last = got[-1][2] if got else time.monotonic()
    rate = len(got) / max(last - t0, 1e-9)
    bad = []
    for props, body_, _ in got:
        bad += check_headers(props, body_.decode(), route)
    status = bridge.stop()
    left = [m["body"] for m in rl.jms_consume(src, idle=2, timeout=60)] if len(got) < N else []
    rl.Tally(f"activemq({connection})->rabbitmq", ids, [b.decode() for _, b, _ in got]).check(
        f"route {rate:.0f} msg/s (JMS producer {produced['rate']:.0f} msg/s)"
        + f" out_of_order={out_of_order}"
        + (f" left_in_activemq={len(left)}" if left else "")
    )
    assert not bad, f"{len(bad)} header problems, e.g. {bad[:8]}"
    assert out_of_order == 0, f"{out_of_order} messages arrived before an earlier one"
    assert status == 0, f"mqbridge exited {status} on SIGTERM:\n{bridge.tail()}"


def _common_checks(props, mid, route) -> list[str]:
    h = props.headers or {}
    bad = []
    if "weight" in h or "even" in h:
        bad.append(f"{mid}: removed/renamed headers still there: {h.get('weight')!r} {h.get('even')!r}")
    if h.get("mid") != mid:
        bad.append(f"{mid}: header mid={h.get('mid')!r}")
    if h.get("x-route") != route or h.get("x-tag") != f"via-{mid}":
        bad.append(f"{mid}: route headers x-route={h.get('x-route')!r} x-tag={h.get('x-tag')!r}")
    if props.correlation_id != f"corr-{mid}":
        bad.append(f"{mid}: correlation_id={props.correlation_id!r}")
    if props.type != "route-test":
        bad.append(f"{mid}: type={props.type!r}")
    if props.delivery_mode != 2:
        bad.append(f"{mid}: delivery_mode={props.delivery_mode!r}")
    return bad


def openwire_headers(props, mid, route) -> list[str]:
    """JMS typed properties keep their AMQP field types (docs/mapping.md §6.2)."""
    bad = _common_checks(props, mid, route)
    h = props.headers or {}
    i = int(mid.rsplit("-", 1)[1])
    # pika 1.4 decodes a double ('d') truncated to an integer (pika/data.py), so only the
    # integral part of `ratio` can be seen here.
    want = {"seq": i, "ratio": int(i / 4.0)}
    for k, v in want.items():
        value = h.get(k)
        if value != v or isinstance(value, bool) or not isinstance(value, int):
            bad.append(f"{mid}: header {k}={value!r}, want {v!r}")
    if h.get("is_even") is not (i % 2 == 0):
        bad.append(f"{mid}: header is_even={h.get('is_even')!r} (renamed from even)")
    return bad


def stomp_headers(props, mid, route) -> list[str]:
    """ActiveMQ's STOMP MESSAGE frames carry JMS properties as text."""
    bad = _common_checks(props, mid, route)
    h = props.headers or {}
    i = int(mid.rsplit("-", 1)[1])
    if str(h.get("seq")) != str(i):
        bad.append(f"{mid}: header seq={h.get('seq')!r}")
    if str(h.get("is_even")).lower() != str(i % 2 == 0).lower():
        bad.append(f"{mid}: header is_even={h.get('is_even')!r} (renamed from even)")
    return bad


def test_activemq_openwire_to_rabbitmq(bridges, names, rabbit, jms_tool):
    amq_to_rabbit(bridges, names, rabbit, jms_tool, "amq", "amq-ow-to-rabbit", openwire_headers)


def test_activemq_stomp_to_rabbitmq(bridges, names, rabbit, jms_tool):
    amq_to_rabbit(bridges, names, rabbit, jms_tool, "amq-stomp", "amq-stomp-to-rabbit", stomp_headers)


def rabbit_to_amq(bridges, names, rabbit, connection, route, n):
    src, dst = rabbit.declare(names("rabbit-src")), names("amq-dst")
    ids = [f"r-{i}" for i in range(n)]
    # No confirm per message (pika waits for each one): the depth check below sees them stored.
    pub_rate = rabbit.publish(src, ids, headers=lambda i, mid: {"region": "EU"}, confirm=False)
    rl.wait_until(f"{n} messages in RabbitMQ queue {src}", lambda: rabbit.depth(src) >= n, 30)
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route,
        f'{{ connection: rabbit, queue: "{src}" }}',
        f'{{ connection: {connection}, queue: "{dst}" }}',
        headers=HEADERS,
    )
    t0 = time.monotonic()
    bridge = bridges(body).start(routes=[route])
    got = rl.jms_consume(dst, expect=n, idle=30, timeout=180)
    elapsed = time.monotonic() - t0
    status = bridge.stop()
    left = rabbit.depth(src)
    bad = []
    for m in got:
        mid = m["body"]
        p = m["props"]
        if (p.get("mid") or {}).get("v") != mid:
            bad.append(f"{mid}: property mid={p.get('mid')}")
        if (p.get("x-route") or {}).get("v") != route or (p.get("x-tag") or {}).get("v") != f"via-{mid}":
            bad.append(f"{mid}: route properties {p.get('x-route')} {p.get('x-tag')}")
        if (p.get("region") or {}).get("v") != "EU":
            bad.append(f"{mid}: property region={p.get('region')}")
        if m["correlation_id"] != f"corr-{mid}" or m["type"] != "route-test" or not m["persistent"]:
            bad.append(
                f"{mid}: JMSCorrelationID={m['correlation_id']!r} JMSType={m['type']!r} persistent={m['persistent']}"
            )
        if connection == "amq" and (p.get("seq") or {}).get("t") != "Integer":
            bad.append(f"{mid}: property seq={p.get('seq')} (want an Integer)")
    rl.Tally(f"rabbitmq->activemq({connection})", ids, [m["body"] for m in got]).check(
        f"route {len(got) / max(elapsed, 1e-9):.0f} msg/s incl. JMS consumer "
        f"(pika producer {pub_rate:.0f} msg/s) left_in_rabbitmq={left}"
    )
    assert not bad, f"{len(bad)} header problems, e.g. {bad[:8]}"
    assert status == 0, f"mqbridge exited {status} on SIGTERM:\n{bridge.tail()}"


def test_rabbitmq_to_activemq_openwire(bridges, names, rabbit, jms_tool):
    rabbit_to_amq(bridges, names, rabbit, "amq", "rabbit-to-amq-ow", N)


def test_rabbitmq_to_activemq_stomp(bridges, names, rabbit, jms_tool):
    rabbit_to_amq(bridges, names, rabbit, "amq-stomp", "rabbit-to-amq-stomp", STOMP_TARGET_N)


@pytest.mark.parametrize("connection", ["amq", "amq-stomp"])
def test_selector_on_activemq_source_leaves_the_others(bridges, names, rabbit, jms_tool, connection):
    # 100 messages: ActiveMQ pages 200 messages per destination for selector matching, so a
    # larger backlog of unselected ones would hide the later matches (a broker trait).
    src, dst = names("sel-src"), rabbit.declare(names("sel-dst"))
    rl.jms_produce(src, 100, prefix="s-", extra=["--cycle", "region=EU|US"])
    ids = [f"s-{i}" for i in range(100)]
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        "amq-select",
        f"{{ connection: {connection}, queue: \"{src}\", selector: \"region = 'EU'\" }}",
        f'{{ connection: rabbit, queue: "{dst}" }}',
    )
    bridge = bridges(body).start(routes=["amq-select"])
    moved = rabbit.drain(dst, expect=50, idle=10, timeout=60)
    # Nothing else may follow once the bridge has had time to see the rest.
    moved += rabbit.drain(dst, idle=2, timeout=10)
    assert bridge.stop() == 0, bridge.tail()
    left = rl.jms_consume(src, idle=3, timeout=60)
    rl.Tally(f"activemq({connection}) selector (EU moved)", ids[0::2], [b.decode() for _, b, _ in moved]).check()
    rl.Tally(f"activemq({connection}) selector (US left)", ids[1::2], [m["body"] for m in left]).check()


def test_selector_on_rabbitmq_source(bridges, names, rabbit, jms_tool):
    # AMQP cannot select: the bridge evaluates the selector, and what it does not select is
    # acked at the source (counted as filtered) and must not reach the target.
    src, dst = rabbit.declare(names("sel-src")), names("sel-dst")
    ids = [f"q-{i}" for i in range(100)]
    rabbit.publish(src, ids, headers=lambda i, mid: {"region": "EU" if i % 2 == 0 else "US"})
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        "rabbit-select",
        f"{{ connection: rabbit, queue: \"{src}\", selector: \"region = 'EU'\" }}",
        f'{{ connection: amq, queue: "{dst}" }}',
    )
    bridge = bridges(body).start(routes=["rabbit-select"])
    got = rl.jms_consume(dst, expect=50, idle=10, timeout=60)
    got += rl.jms_consume(dst, idle=2, timeout=10)
    assert bridge.stop() == 0, bridge.tail()
    rl.Tally("rabbitmq selector (EU moved)", ids[0::2], [m["body"] for m in got]).check(
        f"left_in_rabbitmq={rabbit.depth(src)}"
    )


def test_untranslatable_message_is_dead_lettered(bridges, names, rabbit, jms_tool):
    src = names("dl-src")
    eu = rabbit.declare(names("byregion.EU"))
    dlq = rabbit.declare(names("dead"))
    prefix = eu.rsplit(".", 1)[0]
    # Even ids carry region=EU, odd ones no region at all.
    rl.jms_produce(src, 20, prefix="d-", extra=["--cycle", "region=EU|"])
    ids = [f"d-{i}" for i in range(20)]
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        "amq-by-region",
        f'{{ connection: amq, queue: "{src}" }}',
        f'{{ connection: rabbit, exchange: "", routing_key: "{prefix}.{{header.region}}" }}',
        dead_letter=f'{{ connection: rabbit, queue: "{dlq}" }}',
    )
    bridge = bridges(body).start(routes=["amq-by-region"])
    routed = rabbit.drain(eu, expect=10, idle=10, timeout=60)
    dead = rabbit.drain(dlq, expect=10, idle=10, timeout=60)
    assert bridge.stop() == 0, bridge.tail()
    rl.Tally("routed by {header.region}", ids[0::2], [b.decode() for _, b, _ in routed]).check()
    rl.Tally("dead-lettered (no region)", ids[1::2], [b.decode() for _, b, _ in dead]).check()
    for props, body_, _ in dead:
        h = props.headers or {}
        assert h.get("x-mqbridge-reason") == "untranslatable", h
        assert "region" in str(h.get("x-mqbridge-error")), h
        assert h.get("x-mqbridge-route") == "amq-by-region", h
        assert h.get("mid") == body_.decode() and props.correlation_id == f"corr-{body_.decode()}", (h, props)


def test_refused_messages_are_retried_then_dead_lettered(bridges, names, rabbit, jms_tool):
    # RabbitMQ refuses both: no queue for the routing key (a mandatory publish comes back
    # 312 NO_ROUTE) and no such exchange (404, the channel is closed). Each is tried
    # retry.attempts (5) times, then dead-lettered with reason "refused".
    src1, src2 = names("noroute-src"), names("noexchange-src")
    dlq = rabbit.declare(names("dead"))
    rl.jms_produce(src1, 3, prefix="u-")
    rl.jms_produce(src2, 3, prefix="x-")
    body = (
        rl.CONNECTIONS_YAML
        + "routes:\n"
        + rl.route_yaml(
            "no-route",
            f'{{ connection: amq, queue: "{src1}" }}',
            f'{{ connection: rabbit, queue: "{names("no-such-queue")}" }}',
            dead_letter=f'{{ connection: rabbit, queue: "{dlq}" }}',
        )
        + rl.route_yaml(
            "no-exchange",
            f'{{ connection: amq, queue: "{src2}" }}',
            f'{{ connection: rabbit, exchange: "{names("no-such-exchange")}", routing_key: k }}',
            dead_letter=f'{{ connection: rabbit, queue: "{dlq}" }}',
        )
    )
    bridge = bridges(body).start(routes=["no-route", "no-exchange"])
    dead = rabbit.drain(dlq, expect=6, idle=30, timeout=90)
    assert bridge.stop() == 0, bridge.tail()
    ids = [f"u-{i}" for i in range(3)] + [f"x-{i}" for i in range(3)]
    rl.Tally("refused -> dead letters", ids, [b.decode() for _, b, _ in dead]).check()
    for props, body_, _ in dead:
        h = props.headers or {}
        route = "no-route" if body_.startswith(b"u-") else "no-exchange"
        assert h.get("x-mqbridge-route") == route, h
        assert h.get("x-mqbridge-reason") == "refused", h
        assert h.get("x-mqbridge-attempts") == 5, h
        want = "NO_ROUTE" if route == "no-route" else "404"
        assert want in str(h.get("x-mqbridge-error")), h


# A regression test too: before e98e1f8 an OpenWire source released the message locally and
# got it straight back (a hot loop, ~90,000 give-ups a second, never in ActiveMQ.DLQ).
@pytest.mark.parametrize("connection", ["amq-stomp", "amq"])
def test_without_dead_letter_target_activemq_dlq_takes_it(bridges, names, rabbit, jms_tool, connection):
    # No dead_letter: an untranslatable message is given back to the source without requeue,
    # so ActiveMQ's own dead-lettering applies (ActiveMQ.DLQ), once per message.
    src = names("nodl-src")
    prefix = f"{src.split('.')[1]}-"
    rl.jms_produce(src, 2, prefix=prefix)
    route = f"no-dl-{connection}"
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route,
        f'{{ connection: {connection}, queue: "{src}" }}',
        '{ connection: rabbit, exchange: "", routing_key: "x.{header.region}" }',
    )
    bridge = bridges(body).start(routes=[route])

    def given_up() -> int:
        return bridge.current_log().count("dead-lettering a message")

    # A loop shows in the log within a fraction of a second; stop the bridge early then.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and given_up() <= 50:
        time.sleep(0.1)
    bridge.stop()
    times = given_up()
    in_dlq = rl.jms_consume("ActiveMQ.DLQ", idle=3, timeout=30, selector=f"mid LIKE '{prefix}%'")
    left = rl.jms_consume(src, idle=2, timeout=30)
    rl.report(
        f"no dead_letter ({connection}): given up {times} times, "
        f"in ActiveMQ.DLQ {len(in_dlq)}, left in source {len(left)}"
    )
    assert times == 2, f"the route gave the 2 messages up {times} times"
    assert sorted(m["body"] for m in in_dlq) == [f"{prefix}0", f"{prefix}1"], (
        "not in ActiveMQ.DLQ (read with a selector: if that queue holds hundreds of other "
        "messages, ActiveMQ's 200-message selector page can hide these)"
    )
    assert not left


def _padded(mid: str, pad: int) -> str:
    filler = ("0123456789" * (pad // 10 + 1))[:pad]
    return f"{mid} {filler}"


@pytest.mark.parametrize("connection", ["amq", "amq-stomp"])
def test_large_text_and_bytes_messages_activemq_to_rabbitmq(bridges, names, rabbit, jms_tool, connection):
    # 1 MiB bodies cross every frame-size boundary on the way (OpenWire/STOMP in, AMQP
    # frames of at most frame_max out); BytesMessages keep their exact bytes.
    pad = 1 << 20
    src, dst = names("big-src"), rabbit.declare(names("big-dst"))
    rl.jms_produce(src, 10, prefix="t-", extra=["--pad", str(pad)])
    rl.jms_produce(src, 10, prefix="b-", extra=["--pad", str(pad), "--bytes"])
    ids = [f"t-{i}" for i in range(10)] + [f"b-{i}" for i in range(10)]
    route = f"big-{connection}"
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route, f'{{ connection: {connection}, queue: "{src}" }}', f'{{ connection: rabbit, queue: "{dst}" }}'
    )
    bridge = bridges(body).start(routes=[route])
    got = rabbit.drain(dst, expect=20, idle=20, timeout=90)
    assert bridge.stop() == 0, bridge.tail()
    received = []
    for props, body_, _ in got:
        mid = (props.headers or {}).get("mid")
        received.append(mid)
        assert body_ == _padded(mid, pad).encode(), f"{mid}: body of {len(body_)} bytes differs"
    rl.Tally(f"1 MiB text+bytes activemq({connection})->rabbitmq", ids, received).check()


def test_large_messages_rabbitmq_to_activemq(bridges, names, rabbit, jms_tool):
    pad = 1 << 20
    src, dst = rabbit.declare(names("big-rsrc")), names("big-adst")
    ids = [f"r-{i}" for i in range(10)]
    with rl.rabbit_connect() as c:
        ch = c.channel()
        ch.confirm_delivery()
        for mid in ids:
            props = rl.pika.BasicProperties(delivery_mode=2, content_type="text/plain", headers={"mid": mid})
            ch.basic_publish("", src, _padded(mid, pad).encode(), props)
    route = "big-rabbit-to-amq"
    body = rl.CONNECTIONS_YAML + "routes:\n" + rl.route_yaml(
        route, f'{{ connection: rabbit, queue: "{src}" }}', f'{{ connection: amq, queue: "{dst}" }}'
    )
    bridge = bridges(body).start(routes=[route])
    got = rl.jms_consume(dst, expect=10, idle=20, timeout=90)
    assert bridge.stop() == 0, bridge.tail()
    for m in got:
        mid = m["props"]["mid"]["v"]
        assert m["body"] == _padded(mid, pad), f"{mid}: body of {len(m['body'] or '')} chars differs"
    rl.Tally("1 MiB rabbitmq->activemq(amq)", ids, [m["props"]["mid"]["v"] for m in got]).check()


@pytest.mark.parametrize("protocol", ["openwire", "stomp"])
def test_durable_topic_subscription_keeps_what_is_published_while_the_bridge_is_down(
    bridges, names, rabbit, jms_tool, protocol
):
    # A route from a durable subscription: what is published to the topic while the bridge
    # is stopped waits in ActiveMQ and arrives once it runs again.
    topic, dst = names("topic"), rabbit.declare(names("topic-dst"))
    client_id, subscription = f"{topic}.client", "routesinterop-sub"
    if protocol == "openwire":
        connection = f'  amq-durable: {{ openwire: "{rl.AMQ_OPENWIRE_URL}", client_id: "{client_id}" }}\n'
    else:
        connection = (
            f'  amq-durable: {{ stomp: "tcp://127.0.0.1:{rl.AMQ_STOMP_PORT}", user: admin, '
            f'password: admin, client_id: "{client_id}" }}\n'
        )
    route = f"durable-{protocol}"
    body = rl.CONNECTIONS_YAML + connection + "routes:\n" + rl.route_yaml(
        route,
        f'{{ connection: amq-durable, topic: "{topic}", subscription: {subscription} }}',
        f'{{ connection: rabbit, queue: "{dst}" }}',
    )
    bridge = bridges(body).start(routes=[route])
    try:
        rl.jms_produce(topic, 300, prefix="t-", extra=["--topic"])
        live = rabbit.drain(dst, expect=300, idle=15, timeout=60)
        assert bridge.stop() == 0, bridge.tail()
        rl.jms_produce(topic, 300, prefix="t-", extra=["--topic", "--start", "300"])
        bridge.start(routes=[route])
        later = rabbit.drain(dst, expect=300, idle=15, timeout=60)
        assert bridge.stop() == 0, bridge.tail()
    finally:
        bridge.kill9()
        rl.jms_unsubscribe(client_id, subscription)
    rl.Tally(
        f"durable topic ({protocol}) live+while down",
        [f"t-{i}" for i in range(600)],
        [b.decode() for _, b, _ in live + later],
    ).check(f"live={len(live)} after_restart={len(later)}")


def test_round_trip_activemq_rabbitmq_activemq_keeps_jms_types(bridges, names, rabbit, jms_tool):
    # Two routes in one bridge, both running at once: ActiveMQ -> RabbitMQ -> ActiveMQ. The
    # JMS consumer at the end sees what the JMS producer sent: typed properties (int, long,
    # double, boolean, String), JMSCorrelationID, JMSType, PERSISTENT, the text body.
    n = 2000
    src, mid_q, dst = names("rt-src"), rabbit.declare(names("rt-mid")), names("rt-dst")
    rl.jms_produce(src, n, prefix="rt-")
    body = (
        rl.CONNECTIONS_YAML
        + "routes:\n"
        + rl.route_yaml("rt-out", f'{{ connection: amq, queue: "{src}" }}', f'{{ connection: rabbit, queue: "{mid_q}" }}')
        + rl.route_yaml("rt-back", f'{{ connection: rabbit, queue: "{mid_q}" }}', f'{{ connection: amq, queue: "{dst}" }}')
    )
    t0 = time.monotonic()
    bridge = bridges(body).start(routes=["rt-out", "rt-back"])
    got = rl.jms_consume(dst, expect=n, idle=20, timeout=120)
    elapsed = time.monotonic() - t0
    assert bridge.stop() == 0, bridge.tail()
    bad = []
    for m in got:
        mid = m["body"]
        i = int(mid.rsplit("-", 1)[1])
        p = m["props"]
        want = {
            "mid": ("String", mid),
            "seq": ("Integer", str(i)),
            "weight": ("Long", str(i * 1000003)),
            "ratio": ("Double", str(i / 4.0)),
            "even": ("Boolean", str(i % 2 == 0).lower()),
        }
        for k, (t, v) in want.items():
            if (p.get(k) or {}).get("t") != t or (p.get(k) or {}).get("v") != v:
                bad.append(f"{mid}: property {k}={p.get(k)}, want {t} {v}")
        if m["correlation_id"] != f"corr-{mid}" or m["type"] != "route-test" or not m["persistent"]:
            bad.append(f"{mid}: {m['correlation_id']!r} {m['type']!r} persistent={m['persistent']}")
        if m["kind"] != "text":
            bad.append(f"{mid}: a {m['kind']} message, want text")
    rl.Tally("round trip activemq->rabbitmq->activemq", [f"rt-{i}" for i in range(n)], [m["body"] for m in got]).check(
        f"{len(got) / max(elapsed, 1e-9):.0f} msg/s end to end"
    )
    assert not bad, f"{len(bad)} problems, e.g. {bad[:8]}"
