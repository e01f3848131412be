#!/usr/bin/env bash
# JMS send/receive through the java-shim, side by side with the stock JMS stacks, as ratios:
#
#   bench/shim.sh [--duration S] [--warmup S] [--sizes "16 4096"] [--no-build] [--results FILE]
#
# Runs bench/jms-shim (one producer connection, one AUTO_ACKNOWLEDGE consumer connection, one
# queue, as fast as the provider goes) for each payload size, transient and persistent, with:
#   shim -> mqbridge        the java-shim over AMQP 0-9-1 to an mqbridge started here
#   activemq -> ActiveMQ    ActiveMQ's own client over OpenWire to ActiveMQ 5.17 (Debian package)
#   rabbitmq-jms -> RabbitMQ  RabbitMQ's JMS client (com.rabbitmq.jms:rabbitmq-jms) to RabbitMQ
#   shim -> RabbitMQ        the java-shim to that same RabbitMQ (client against client)
# and prints received msg/s with the ratios shim/ActiveMQ and shim/RabbitMQ-JMS. It never
# fails on speed; a non-zero exit means it could not run.
#
# What "a send" means differs, and the table says so: the shim waits for the publisher confirm
# on every send; ActiveMQ's client waits for the broker's response on persistent sends only;
# RabbitMQ's JMS client never waits (no confirms), so its sends are fire-and-forget.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
DURATION=5
WARMUP=2
SIZES="16 4096"
BUILD=1
RESULTS=""

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --sizes) SIZES=${2:?}; shift 2 ;;
    --results) RESULTS=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

export MQB_REPO_ROOT="$REPO_ROOT"
USER_MQBRIDGE_BIN="${MQBRIDGE_BIN:-}"
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"
source "$REPO_ROOT/scripts/lib/mqbridge.sh"
source "$REPO_ROOT/scripts/lib/activemq.sh"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
MQBRIDGE_BIN="${USER_MQBRIDGE_BIN:-$TARGET_DIR/release/mqbridge}"
JAR="$BENCH_DIR/jms-shim/target/mqbridge-jms-shim-bench.jar"

WORK_DIR="$(mktemp -d -t mqbridge-shim-bench.XXXXXX)"
[ -n "$RESULTS" ] || RESULTS="$WORK_DIR/results.jsonl"
: >"$RESULTS"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${MQBRIDGE_PID:-}" ]; then mqbridge_stop || true; fi
  rm -rf "$WORK_DIR/data"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$BUILD" = 1 ]; then
  if [ -z "$USER_MQBRIDGE_BIN" ]; then
    section "cargo build --release -p mqbridge"
    (cd "$REPO_ROOT" && cargo build --release -p mqbridge)
  fi
  section "mvn install java-shim (builds the native library), package bench/jms-shim"
  (cd "$REPO_ROOT" && mvn -q -B -f java-shim/pom.xml install -DskipTests)
  (cd "$BENCH_DIR/jms-shim" && mvn -q -B package)
fi
[ -f "$JAR" ] || { die "bench jar not found at $JAR"; exit 1; }

section "start RabbitMQ, ActiveMQ, mqbridge"
rabbitmq_start
activemq_start
MQBRIDGE_RUN_DIR="$WORK_DIR/bridge" mqbridge_start "" "$WORK_DIR/data"
BRIDGE_PORT=$(mqbridge_read_port "$MQBRIDGE_LOG" amqp)
RABBIT_HOSTPORT="127.0.0.1:${RABBITMQ_PORT:-5682}"

run() { # LABEL PROVIDER URL USER PASSWORD SIZE PERSISTENT(0|1)
  local label=$1 provider=$2 url=$3 user=$4 password=$5 size=$6 persistent=$7 line args
  args=(--provider "$provider" --url "$url" --user "$user" --password "$password" --size "$size"
    --warmup "$WARMUP" --duration "$DURATION")
  [ "$persistent" = 1 ] && args+=(--persistent)
  info "run: $label, ${size} B, $([ "$persistent" = 1 ] && echo persistent || echo transient)"
  # RabbitMQ's JMS client prints a warning on stdout: the result is the last JSON line.
  if java -jar "$JAR" "${args[@]}" >"$WORK_DIR/last.out" 2>"$WORK_DIR/last.err" &&
    line=$(grep '^{' "$WORK_DIR/last.out" | tail -n 1) && [ -n "$line" ]; then
    echo "{\"label\":\"$label\",${line#\{}" >>"$RESULTS"
  else
    info "  failed: $(tail -n 3 "$WORK_DIR/last.err")"
    echo "{\"label\":\"$label\",\"provider\":\"$provider\",\"size\":$size,\"persistent\":$([ "$persistent" = 1 ] && echo true || echo false),\"failed\":true}" >>"$RESULTS"
  fi
}

for size in $SIZES; do
  for persistent in 0 1; do
    run "shim -> mqbridge" shim "mqbridge://guest:guest@127.0.0.1:$BRIDGE_PORT/" guest guest "$size" "$persistent"
    run "activemq -> ActiveMQ" activemq "tcp://127.0.0.1:${ACTIVEMQ_OPENWIRE_PORT:-61626}" admin admin "$size" "$persistent"
    run "rabbitmq-jms -> RabbitMQ" rabbitmq-jms "amqp://guest:guest@$RABBIT_HOSTPORT/%2f" guest guest "$size" "$persistent"
    run "shim -> RabbitMQ" shim "mqbridge://guest:guest@$RABBIT_HOSTPORT/" guest guest "$size" "$persistent"
  done
done

section "results ($RESULTS)"
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def rate(label, size, persistent):
    for r in rows:
        if r["label"] == label and r["size"] == size and r["persistent"] == persistent and not r.get("failed"):
            return r["received_per_s"]
    return None
def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"
def fmt(v):
    return f"{v:,.0f}" if v else "failed"
print(f"{'size':>6} {'mode':<10} {'shim->mqbridge':>15} {'ActiveMQ':>10} {'RabbitMQ-JMS':>13} {'shim->RabbitMQ':>15}"
      f" {'shim/ActiveMQ':>14} {'shim/RMQ-JMS':>13} {'shim->RMQ/RMQ-JMS':>18}")
for size in sorted({r["size"] for r in rows}):
    for persistent in (False, True):
        s = rate("shim -> mqbridge", size, persistent)
        a = rate("activemq -> ActiveMQ", size, persistent)
        j = rate("rabbitmq-jms -> RabbitMQ", size, persistent)
        sr = rate("shim -> RabbitMQ", size, persistent)
        mode = "persistent" if persistent else "transient"
        print(f"{size:>6} {mode:<10} {fmt(s):>15} {fmt(a):>10} {fmt(j):>13} {fmt(sr):>15}"
              f" {ratio(s, a):>14} {ratio(s, j):>13} {ratio(sr, j):>18}")
print("received msg/s, one producer and one consumer connection each; the shim waits for a confirm on")
print("every send, ActiveMQ's client on persistent sends only, RabbitMQ's JMS client never.")
PY
