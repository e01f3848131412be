#!/usr/bin/env python3
"""Render mqbridge-loadgen JSON lines (one per run) as a Markdown table.

Usage: python3 bench/report.py results.jsonl

Rows are grouped per configuration (label "<config>|<broker>"); when both brokers ran a
configuration, a ratio row mqbridge/RabbitMQ follows (throughput, latencies, CPU/msg).
Python 3 standard library only.
"""

import json
import sys

BROKER_ORDER = {"rabbitmq": 0, "mqbridge": 1}


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

    print("| config | broker | msg/s | p50 ms | p99 ms | p99.9 ms | broker CPU µs/msg | loadgen CPU µs/msg |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for config in order:
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
        a, b = brokers.get("mqbridge"), brokers.get("rabbitmq")
        if a and b and "error" not in a and "error" not in b:
            print(
                f"| {config} | **mqbridge/RabbitMQ** | {fmt_ratio(a['msgs_per_s'], b['msgs_per_s'])} "
                f"| {fmt_ratio(a['p50_us'], b['p50_us'])} | {fmt_ratio(a['p99_us'], b['p99_us'])} "
                f"| {fmt_ratio(a['p999_us'], b['p999_us'])} "
                f"| {fmt_ratio(a.get('broker_cpu_us_per_msg'), b.get('broker_cpu_us_per_msg'))} | |"
            )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
