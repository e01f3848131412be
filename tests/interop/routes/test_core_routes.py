"""Routes inside mqbridge's embedded core, driven by pika through the bridge's own AMQP
listener: a queue-to-queue move with header mapping, a selector (unselected messages stay in
the source queue), and an untranslatable message (routing-key template on a missing header)
dead-lettered with the x-mqbridge-* headers. No external broker is needed.
"""

import os
import time

import routes_lib as rl

N = int(os.environ.get("ROUTES_CORE_N", "5000"))

HEADERS = '{ set: { x-route: "{route}", x-tag: "via-{header.mid}" }, remove: [drop-me] }'


def queues_yaml(*queues: str) -> str:
    return "topology:\n  queues:\n" + "".join(f'    - {{ name: "{q}" }}\n' for q in queues)


def test_core_queue_to_core_queue(bridges, names):
    src, dst = names("src"), names("dst")
    body = queues_yaml(src, dst) + "routes:\n" + rl.route_yaml(
        "core-move", f'{{ queue: "{src}" }}', f'{{ queue: "{dst}" }}', headers=HEADERS
    )
    bridge = bridges(body).start(routes=["core-move"])
    core = rl.Rabbit(bridge.amqp_url)
    ids = [f"c-{i}" for i in range(N)]
    t0 = time.monotonic()
    core.publish(src, ids, headers=lambda i, mid: {"drop-me": "x", "region": "EU"})
    got = core.drain(dst, expect=N, idle=15, timeout=120)
    elapsed = time.monotonic() - t0
    bad = []
    for props, body_, _ in got:
        mid = body_.decode()
        h = props.headers or {}
        want = {"mid": mid, "region": "EU", "x-route": "core-move", "x-tag": f"via-{mid}"}
        for k, v in want.items():
            if h.get(k) != v:
                bad.append(f"{mid}: header {k}={h.get(k)!r}, want {v!r}")
        if "drop-me" in h:
            bad.append(f"{mid}: header drop-me was not removed")
        if props.correlation_id != f"corr-{mid}" or props.type != "route-test" or props.delivery_mode != 2:
            bad.append(f"{mid}: properties {props}")
    rl.Tally("core->core", ids, [b.decode() for _, b, _ in got]).check(
        f"publish+move {N / elapsed:.0f} msg/s"
    )
    assert not bad, f"{len(bad)} header problems, e.g. {bad[:5]}"
    assert bridge.stop() == 0, f"mqbridge did not exit 0 on SIGTERM:\n{bridge.tail()}"


def test_core_selector_and_dead_letter(bridges, names):
    src1, dst1 = names("sel-src"), names("sel-dst")
    src2, eu, dlq = names("dl-src"), names("byregion.EU"), names("dlq")
    prefix = eu.rsplit(".", 1)[0]
    body = (
        queues_yaml(src1, dst1, src2, eu, dlq)
        + "routes:\n"
        + rl.route_yaml(
            "core-select",
            f"{{ queue: \"{src1}\", selector: \"region = 'EU'\" }}",
            f'{{ queue: "{dst1}" }}',
        )
        + rl.route_yaml(
            "core-dlq",
            f'{{ queue: "{src2}" }}',
            f'{{ exchange: "", routing_key: "{prefix}.{{header.region}}" }}',
            dead_letter=f'{{ queue: "{dlq}" }}',
        )
    )
    bridge = bridges(body).start(routes=["core-select", "core-dlq"])
    core = rl.Rabbit(bridge.amqp_url)

    ids = [f"s-{i}" for i in range(100)]
    core.publish(src1, ids, headers=lambda i, mid: {"region": "EU" if i % 2 == 0 else "US"})
    moved = core.drain(dst1, expect=50, idle=5, timeout=60)
    moved_ids = [b.decode() for _, b, _ in moved]
    rl.Tally("core selector (EU moved)", ids[0::2], moved_ids).check()
    # The US ones stay in the source queue (the core evaluates the selector).
    rl.wait_until(f"50 unselected messages left in {src1}", lambda: core.depth(src1) == 50, 10)
    left = core.drain(src1, expect=50, idle=3, timeout=30)
    rl.Tally("core selector (US left)", ids[1::2], [b.decode() for _, b, _ in left]).check()

    ids2 = [f"d-{i}" for i in range(20)]
    core.publish(src2, ids2, headers=lambda i, mid: {"region": "EU"} if i % 2 == 0 else {})
    routed = core.drain(eu, expect=10, idle=5, timeout=60)
    dead = core.drain(dlq, expect=10, idle=5, timeout=60)
    rl.Tally("core routed by {header.region}", ids2[0::2], [b.decode() for _, b, _ in routed]).check()
    rl.Tally("core dead letters (no region)", ids2[1::2], [b.decode() for _, b, _ in dead]).check()
    for props, body_, _ in dead:
        h = props.headers or {}
        assert h.get("x-mqbridge-reason") == "untranslatable", h
        assert "region" in str(h.get("x-mqbridge-error")), h
        assert h.get("x-mqbridge-route") == "core-dlq", h
        assert h.get("mid") == body_.decode(), h
    assert bridge.stop() == 0, f"mqbridge did not exit 0 on SIGTERM:\n{bridge.tail()}"
