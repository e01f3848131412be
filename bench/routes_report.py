#!/usr/bin/env python3
"""Render bench/routes.sh results (one JSON line per run, from `mqbridge-routes-load watch`).

Usage: python3 bench/routes_report.py results.jsonl

One row per mover (label "<config>/<mover>"): each run's msg/s (first to N-th arrival), the
median, the mean and the spread (max-min over mean), start-up (ready to first arrival), CPU per message of
RabbitMQ, ActiveMQ and mqbridge (mqbridge: whole process life, start-up included), and what
draining the destination found (duplicates / missing, summed over runs). Then ratio rows
mqbridge/shovel per configuration: the ratio of the medians (and of the means), and the range
over all pairs of runs (worst mqbridge run / best shovel run .. best / worst).
Python 3 standard library only.
"""

import json
import sys


def fmt_rate(v):
    return "-" if v is None else f"{v:,.0f}".replace(",", " ")


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def median(xs):
    if not xs:
        return None
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def cpu_of(run, name):
    for c in run.get("cpu") or []:
        if c.get("name") == name:
            return c.get("cpu_us_per_msg")
    return None


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
            label = r.get("label", "?")
            if label not in runs:
                runs[label] = []
                order.append(label)
            runs[label].append(r)

    configs = []
    for label in order:
        config = label.split("/", 1)[0]
        if config not in configs:
            configs.append(config)

    print("| config | mover | runs msg/s | median msg/s | mean msg/s | spread | start-up s "
          "| RabbitMQ CPU µs/msg | ActiveMQ CPU µs/msg | mqbridge CPU µs/msg | dup / missing |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rates = {}
    for config in configs:
        for label in [x for x in order if x.split("/", 1)[0] == config]:
            mover = label.split("/", 1)[1] if "/" in label else label
            rs = runs[label]
            ok = [r for r in rs if r.get("complete") and r.get("msgs_per_s")]
            failed = [r for r in rs if r not in ok]
            rate_list = [r["msgs_per_s"] for r in ok]
            rates[label] = rate_list
            m = mean(rate_list)
            spread = (max(rate_list) - min(rate_list)) / m * 100 if len(rate_list) > 1 else None
            each = ", ".join(fmt_rate(x) for x in rate_list)
            if failed:
                errs = "; ".join(
                    (r.get("error") or f"incomplete: {r.get('arrived')} of {r.get('count')}")
                    for r in failed
                )
                each = (each + "; " if each else "") + f"FAILED: {errs}"
            dups = sum(r.get("duplicates") or 0 for r in rs)
            missing = sum(r.get("missing") or 0 for r in ok)
            print(
                f"| {config} | {mover} | {each} | {fmt_rate(median(rate_list))} | {fmt_rate(m)} | "
                f"{'-' if spread is None else f'{spread:.0f} %'} | "
                f"{fmt(mean([r['setup_s'] for r in ok if r.get('setup_s') is not None]), 2)} | "
                f"{fmt(mean([x for x in (cpu_of(r, 'rabbitmq') for r in ok) if x is not None]))} | "
                f"{fmt(mean([x for x in (cpu_of(r, 'activemq') for r in ok) if x is not None]))} | "
                f"{fmt(mean([x for x in (cpu_of(r, 'mqbridge') for r in ok) if x is not None]))} | "
                f"{dups} / {missing} |"
            )

    print()
    lines = []
    for config in configs:
        shovel = rates.get(f"{config}/shovel") or []
        for label in order:
            if not label.startswith(config + "/") or label.endswith("/shovel"):
                continue
            mine = rates.get(label) or []
            if not mine or not shovel:
                why = "no shovel run" if not shovel else "no complete mqbridge run"
                lines.append(f"- {label} / {config}/shovel: - ({why})")
                continue
            r = median(mine) / median(shovel)
            rm = mean(mine) / mean(shovel)
            lo = min(mine) / max(shovel)
            hi = max(mine) / min(shovel)
            lines.append(
                f"- **{label} / shovel: {r:.2f}x** (medians {fmt_rate(median(mine))} vs "
                f"{fmt_rate(median(shovel))} msg/s; means {rm:.2f}x; over all pairs of runs "
                f"{lo:.2f}x .. {hi:.2f}x)"
            )
    if lines:
        print("Throughput ratios (> 1: mqbridge moves faster):\n")
        print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
