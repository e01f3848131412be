#!/usr/bin/env python3
"""Render mqbridge-loadgen JSON lines (one per run) as a Markdown table.

Usage: python3 bench/report.py results.jsonl

Rows are grouped per configuration (label "<config>|<broker>"), one table per protocol set
(AMQP->AMQP, STOMP->AMQP, STOMP->STOMP, JMS->JMS, JMS->AMQP: configurations named
stomp-amqp/..., stomp-stomp/..., jms-jms/... and jms-amqp/...; the jms-* lines come from
bench/jms-loadgen, same schema). When mqbridge and another broker ran a configuration, ratio
rows mqbridge/RabbitMQ and mqbridge/ActiveMQ follow (throughput, latencies, CPU/msg). ActiveMQ
has no AMQP 0-9-1, so a jms-amqp/X row of mqbridge is compared with ActiveMQ's jms-jms/X run
(the same JMS producers; ActiveMQ's consumers are JMS). Summaries of the throughput ratios
against the STOMP and OpenWire aims close the output.
Python 3 standard library only.
"""

import json
import sys

BROKER_ORDER = {"rabbitmq": 0, "activemq": 1, "mqbridge": 2}
PEERS = [("rabbitmq", "RabbitMQ"), ("activemq", "ActiveMQ")]
SETS = [
    ("amqp", "AMQP -> AMQP"),
    ("stomp-amqp", "STOMP -> AMQP (STOMP producers, AMQP consumers)"),
    ("stomp-stomp", "STOMP -> STOMP"),
    ("jms-jms", "OpenWire: JMS -> JMS"),
    ("jms-amqp", "OpenWire: JMS -> AMQP (JMS producers, AMQP consumers; ActiveMQ reference: its JMS -> JMS run)"),
]


def set_of(config):
    head = config.split("/", 1)[0]
    return head if head in ("stomp-amqp", "stomp-stomp", "jms-jms", "jms-amqp") else "amqp"


def fmt_rate(v):
    return f"{v:,.0f}".replace(",", " ")


def fmt_ms(us):
    ms = us / 1000.0
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def main(path):
    runs = {}
    order = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            config, _, broker = r.get("label", "?|?").partition("|")
            if config not in runs:
                runs[config] = {}
                order.append(config)
            runs[config][broker] = r

    sets_present = [s for s, _ in SETS if any(set_of(c) == s for c in order)]
    for set_name, title in SETS:
        if set_name not in sets_present:
            continue
        if len(sets_present) > 1 or set_name != "amqp":
            print(f"\n### {title}\n")
        table(runs, [c for c in order if set_of(c) == set_name])
    summary(runs, order)
    openwire_summary(runs, order)


def ok(r):
    return r is not None and "error" not in r


def peer_run(runs, config, peer):
    """The peer's run to compare mqbridge's `config` with: the same configuration, or for
    jms-amqp/X (ActiveMQ has no AMQP 0-9-1) ActiveMQ's jms-jms/X."""
    r = runs.get(config, {}).get(peer)
    if r is None and peer == "activemq" and config.startswith("jms-amqp/"):
        r = runs.get("jms-jms/" + config[len("jms-amqp/"):], {}).get(peer)
    return r


def openwire_summary(runs, order):
    """Throughput ratios against the OpenWire aims: >= 1.5x ActiveMQ, >= 3x for persistent
    messages with sync sends (printed, never enforced)."""
    lines = []
    for prefix, must, aim, what in [
        ("jms-jms/", None, 1.5, "JMS->JMS vs ActiveMQ"),
        ("jms-amqp/", None, 1.5, "JMS->AMQP vs ActiveMQ JMS->JMS"),
        ("jms-", "sync/persistent", 3.0, "persistent with sync sends vs ActiveMQ"),
    ]:
        ratios = []
        for c in order:
            if not c.startswith(prefix) or (must and must not in c):
                continue
            a, b = runs[c].get("mqbridge"), peer_run(runs, c, "activemq")
            if ok(a) and ok(b) and b["msgs_per_s"] > 0:
                ratios.append((a["msgs_per_s"] / b["msgs_per_s"], c))
        if not ratios:
            continue
        lo, hi = min(ratios), max(ratios)
        met = sum(1 for r, _ in ratios if r >= aim)
        lines.append(
            f"- {what}: mqbridge/ActiveMQ {lo[0]:.2f}x ({lo[1]}) .. {hi[0]:.2f}x ({hi[1]}); "
            f"aim >= {aim}x met in {met}/{len(ratios)}"
        )
    if lines:
        print("\nOpenWire ratios (msg/s):\n")
        print("\n".join(lines))


def summary(runs, order):
    """Throughput ratios against the issue's STOMP aims (printed, never enforced)."""
    lines = []
    aims = [
        ("stomp-amqp", "rabbitmq", "RabbitMQ", None, 1.5, "STOMP->AMQP throughput vs RabbitMQ"),
        ("stomp-stomp", "rabbitmq", "RabbitMQ", None, None, "STOMP->STOMP throughput vs RabbitMQ"),
        ("stomp-stomp", "activemq", "ActiveMQ", None, None, "STOMP->STOMP throughput vs ActiveMQ"),
        ("stomp-", "activemq", "ActiveMQ", "receipt/persistent", 3.0,
         "persistent sends with receipts vs ActiveMQ"),
    ]
    for prefix, peer, peer_name, must, aim, what in aims:
        ratios = []
        for c in order:
            if not c.startswith(prefix) or (must and must not in c):
                continue
            a, b = runs[c].get("mqbridge"), runs[c].get(peer)
            if ok(a) and ok(b) and b["msgs_per_s"] > 0:
                ratios.append((a["msgs_per_s"] / b["msgs_per_s"], c))
        if not ratios:
            continue
        lo, hi = min(ratios), max(ratios)
        text = f"- {what}: mqbridge/{peer_name} {lo[0]:.2f}x ({lo[1]}) .. {hi[0]:.2f}x ({hi[1]})"
        if aim is not None:
            met = sum(1 for r, _ in ratios if r >= aim)
            text += f"; aim >= {aim}x met in {met}/{len(ratios)}"
        lines.append(text)
    if lines:
        print("\nSTOMP ratios (msg/s):\n")
        print("\n".join(lines))


def table(runs, configs):
    print("| config | broker | msg/s | p50 ms | p99 ms | p99.9 ms | broker CPU µs/msg | loadgen CPU µs/msg |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for config in configs:
        brokers = runs[config]
        for broker in sorted(brokers, key=lambda b: BROKER_ORDER.get(b, 9)):
            r = brokers[broker]
            if "error" in r:
                print(f"| {config} | {broker} | FAILED: {r['error']} | | | | | |")
                continue
            cpu = r.get("broker_cpu_us_per_msg")
            n = r.get("messages") or 0
            lg = r.get("loadgen_cpu_us")
            lg_per = lg / n if (lg is not None and n) else None
            print(
                f"| {config} | {broker} | {fmt_rate(r['msgs_per_s'])} | {fmt_ms(r['p50_us'])} "
                f"| {fmt_ms(r['p99_us'])} | {fmt_ms(r['p999_us'])} "
                f"| {'-' if cpu is None else f'{cpu:.1f}'} "
                f"| {'-' if lg_per is None else f'{lg_per:.1f}'} |"
            )
        a = brokers.get("mqbridge")
        for peer, peer_name in PEERS:
            b = peer_run(runs, config, peer)
            if ok(a) and ok(b):
                print(
                    f"| {config} | **mqbridge/{peer_name}** "
                    f"| {fmt_ratio(a['msgs_per_s'], b['msgs_per_s'])} "
                    f"| {fmt_ratio(a['p50_us'], b['p50_us'])} | {fmt_ratio(a['p99_us'], b['p99_us'])} "
                    f"| {fmt_ratio(a['p999_us'], b['p999_us'])} "
                    f"| {fmt_ratio(a.get('broker_cpu_us_per_msg'), b.get('broker_cpu_us_per_msg'))} | |"
                )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
