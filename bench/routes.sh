#!/usr/bin/env bash
# bench/routes.sh — route throughput: mqbridge routes vs RabbitMQ's shovel doing the same move.
#
# A benchmark, not a test: it prints figures and never fails on speed (a non-zero exit status
# only means it could not run). See bench/README.md, section "Routes".
#
# Each run pre-loads N persistent messages into a source queue, then times one mover taking
# them to an empty durable RabbitMQ queue: from the first message's arrival there to the
# N-th (watched by passive queue.declare every 5 ms), then drains the destination and counts
# ids (duplicates, missing). Movers, each at-least-once (source acked after the target
# confirmed):
#   amqp-amqp      RabbitMQ queue -> RabbitMQ queue (same node, 127.0.0.1:5682)
#                  mqbridge   route: amqp source, amqp target
#                  shovel     dynamic shovel, amqp091 -> amqp091, ack-mode on-confirm
#   activemq-amqp  ActiveMQ queue -> RabbitMQ queue
#                  mqbridge-openwire  route: openwire source (127.0.0.1:61626), amqp target
#                  mqbridge-stomp     route: stomp source (127.0.0.1:61633), amqp target
#                  shovel     dynamic shovel, amqp10 source (ActiveMQ's AMQP 1.0 connector,
#                             127.0.0.1:5673) -> amqp091, ack-mode on-confirm
# Runs take turns (mover A, B, C, A, B, C, ...) so drift on a shared machine hits all alike.
# A run during which RabbitMQ or ActiveMQ restarted (another suite's fault test) is reported
# as failed, not counted. The brokers are started when down and always left running.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"

COUNT=20000
SIZE=1024
RUNS=2
ONLY=""
RESULTS=""
BUILD=1
IN_FLIGHT=""
PREFETCH=""

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --count N        messages per run (default 20000)
  --size BYTES     body size (default 1024)
  --runs R         runs per mover (default 2)
  --only REGEX     only configuration/mover names matching this extended regex, e.g.
                   --only '^amqp-amqp/' or --only 'shovel'
  --in-flight N    the routes' in_flight (default: the route default, 256)
  --prefetch N     the shovels' src-prefetch-count (default: the shovel default, 1000)
  --results FILE   also keep the raw JSON lines in FILE (default: a temp file, printed)
  --no-build       use the binaries already built
Environment: CARGO_TARGET_DIR (binaries), MQBRIDGE_BIN.
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --in-flight) IN_FLIGHT=${2:?}; shift 2 ;;
    --prefetch) PREFETCH=${2:?}; shift 2 ;;
    --results) RESULTS=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

export MQB_REPO_ROOT="$REPO_ROOT"
USER_MQBRIDGE_BIN="${MQBRIDGE_BIN:-}"
# shellcheck source=../scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"
# shellcheck source=../scripts/lib/mqbridge.sh
source "$REPO_ROOT/scripts/lib/mqbridge.sh"
# shellcheck source=../scripts/lib/activemq.sh
source "$REPO_ROOT/scripts/lib/activemq.sh"

TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
LOAD="$TARGET_DIR/release/mqbridge-routes-load"
MQBRIDGE_BIN="${USER_MQBRIDGE_BIN:-$TARGET_DIR/release/mqbridge}"
CLK_TCK=$(getconf CLK_TCK)

# ---- what runs ----
movers=()
add_mover() {
  if [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; then
    movers+=("$1")
  fi
}
add_mover amqp-amqp/mqbridge
add_mover amqp-amqp/shovel
add_mover activemq-amqp/mqbridge-openwire
add_mover activemq-amqp/mqbridge-stomp
add_mover activemq-amqp/shovel
[ ${#movers[@]} -gt 0 ] || { die "nothing matches --only '$ONLY'"; exit 2; }
NEED_ACTIVEMQ=0 NEED_MQBRIDGE=0 NEED_SHOVEL=0
for m in "${movers[@]}"; do
  [[ $m == activemq-* ]] && NEED_ACTIVEMQ=1
  [[ $m == */mqbridge* ]] && NEED_MQBRIDGE=1
  [[ $m == */shovel ]] && NEED_SHOVEL=1
done

WORK_DIR="$(mktemp -d -t mqbridge-routes-bench.XXXXXX)"
[ -n "$RESULTS" ] || RESULTS="$WORK_DIR/results.jsonl"
: >"$RESULTS"
SHOVEL_NAME=""
WATCH_PID=""
RUN_FAILED=0

# clear_shovel NAME: delete a dynamic shovel (retried: rabbitmqctl can fail while the node is
# busy or being restarted by another suite).
clear_shovel() {
  local i
  for ((i = 0; i < 3; i++)); do
    as_root rabbitmqctl -q clear_parameter shovel "$1" >/dev/null 2>&1 && return 0
    as_root rabbitmqctl -q list_parameters 2>/dev/null |
      grep -q "^shovel[[:space:]]$1[[:space:]]" || return 0
    sleep 1
  done
  info "WARNING: could not delete shovel $1 (rabbitmqctl clear_parameter shovel $1)"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$WATCH_PID" ]; then kill "$WATCH_PID" 2>/dev/null || true; fi
  if [ -n "${MQBRIDGE_PID:-}" ]; then mqbridge_stop || true; fi
  if [ -n "$SHOVEL_NAME" ]; then clear_shovel "$SHOVEL_NAME"; fi
  # RabbitMQ and ActiveMQ are left running, even when this script started them: they are
  # shared with the test suites, whose fault tests restart them (a node restarted by someone
  # else while this script looked would otherwise count as "started by us" and be stopped).
  rm -rf "$WORK_DIR/data"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ----
if [ "$BUILD" = 1 ]; then
  pkgs=(-p mqbridge-loadgen)
  [ "$NEED_MQBRIDGE" = 1 ] && [ -z "$USER_MQBRIDGE_BIN" ] && pkgs+=(-p mqbridge)
  section "cargo build --release ${pkgs[*]}"
  (cd "$REPO_ROOT" && cargo build --release "${pkgs[@]}")
fi
[ -x "$LOAD" ] || { die "loader not found at $LOAD"; exit 1; }
if [ "$NEED_MQBRIDGE" = 1 ] && [ ! -x "$MQBRIDGE_BIN" ]; then
  die "mqbridge not found at $MQBRIDGE_BIN"
  exit 1
fi

# ---- brokers ----
# wait_settled: another suite's fault test may be restarting a broker right now (process up,
# port not yet answering). Starting it then would restart it under that test: wait instead.
wait_settled() {
  local i
  for ((i = 0; i < 90; i++)); do
    if pgrep -u rabbitmq -f -- 'beam\.smp .*-s rabbit boot' >/dev/null 2>&1 &&
      ! port_open 127.0.0.1 "${RABBITMQ_PORT:-5682}"; then
      sleep 1
      continue
    fi
    if [ "$NEED_ACTIVEMQ" = 1 ] && activemq_running &&
      ! activemq_stomp_ready 127.0.0.1 "${ACTIVEMQ_STOMP_PORT:-61633}"; then
      sleep 1
      continue
    fi
    return 0
  done
  info "WARNING: a broker runs but does not answer after 90 s; (re)starting it"
}
wait_settled
section "RabbitMQ"
rabbitmq_start
RABBIT_PID=$(rabbitmq_pid)
[ -n "$RABBIT_PID" ] || { die "cannot read the RabbitMQ (beam.smp) pid"; exit 1; }
RABBIT_VERSION=$(as_root rabbitmqctl -q version 2>/dev/null || echo '?')
info "RabbitMQ $RABBIT_VERSION, beam.smp pid $RABBIT_PID"
if [ "$NEED_SHOVEL" = 1 ]; then
  # Shipped with Debian's rabbitmq-server; enabling it online is idempotent.
  as_root rabbitmq-plugins -q enable rabbitmq_shovel >/dev/null ||
    { die "rabbitmq-plugins enable rabbitmq_shovel failed"; exit 1; }
  # Shovels left by an interrupted run would keep moving messages: delete them.
  for old in $(as_root rabbitmqctl -q list_parameters 2>/dev/null |
    awk '$1 == "shovel" && $2 ~ /^bench-routes-/ {print $2}'); do
    info "deleting shovel $old (left by an earlier run)"
    clear_shovel "$old"
  done
fi
ACTIVEMQ_VERSION="-" ACTIVEMQ_PID=""
if [ "$NEED_ACTIVEMQ" = 1 ]; then
  section "ActiveMQ"
  activemq_start
  ACTIVEMQ_PID=$(activemq_pid)
  ACTIVEMQ_VERSION=$(dpkg-query -W -f='${Version}' activemq 2>/dev/null || echo '?')
  info "ActiveMQ $ACTIVEMQ_VERSION, java pid $ACTIVEMQ_PID, AMQP 1.0 on 127.0.0.1:${ACTIVEMQ_AMQP_PORT:-none}"
fi

# broker_pids: RABBIT_PID and ACTIVEMQ_PID as they are now (the nodes are shared: another
# suite's fault tests may restart them, and a run across a restart is not a measurement).
broker_pids() {
  # `|| true`: a broker that is down (being restarted) gives an empty pid, not an exit.
  # The node's beam.smp (rabbitmqctl runs a beam.smp as user rabbitmq too).
  RABBIT_PID=$(pgrep -u rabbitmq -f -- 'beam\.smp .*-s rabbit boot' 2>/dev/null | head -n 1) || true
  [ -n "$RABBIT_PID" ] || RABBIT_PID=$(rabbitmq_pid) || true
  if [ "$NEED_ACTIVEMQ" = 1 ]; then
    ACTIVEMQ_PID=$(activemq_pid) || true
  fi
}

# cpu_us PID: utime+stime of a process in µs (empty when it is gone).
cpu_us() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  rest=${stat##*) }
  # shellcheck disable=SC2086 # split into fields on purpose
  set -- $rest
  echo $(((${12} + ${13}) * 1000000 / CLK_TCK))
}

# route_yaml MOVER SRC DST: the mqbridge config (connections + one route) for a mover.
route_yaml() {
  local mover=$1 src=$2 dst=$3 from
  case "$mover" in
    */mqbridge) from="{ connection: rabbit-src, queue: $src }" ;;
    */mqbridge-openwire) from="{ connection: amq, queue: $src }" ;;
    */mqbridge-stomp) from="{ connection: amq-stomp, queue: $src }" ;;
  esac
  cat <<EOF
connections:
  rabbit-src: { amqp: "amqp://127.0.0.1:${RABBITMQ_PORT}/%2f", user: guest, password: guest }
  rabbit: { amqp: "amqp://127.0.0.1:${RABBITMQ_PORT}/%2f", user: guest, password: guest }
EOF
  if [ "$NEED_ACTIVEMQ" = 1 ]; then
    cat <<EOF
  amq: { openwire: "tcp://127.0.0.1:${ACTIVEMQ_OPENWIRE_PORT}", user: admin, password: admin }
  amq-stomp: { stomp: "tcp://127.0.0.1:${ACTIVEMQ_STOMP_PORT}", user: admin, password: admin }
EOF
  fi
  cat <<EOF
routes:
  - name: bench
    from: $from
    to: { connection: rabbit, queue: $dst }
EOF
  [ -n "$IN_FLIGHT" ] && echo "    in_flight: $IN_FLIGHT"
  return 0
}

# shovel_json MOVER SRC DST
shovel_json() {
  local mover=$1 src=$2 dst=$3 prefetch=""
  [ -n "$PREFETCH" ] && prefetch=", \"src-prefetch-count\": $PREFETCH"
  if [[ $mover == amqp-amqp/* ]]; then
    printf '{"src-protocol": "amqp091", "src-uri": "amqp://guest:guest@127.0.0.1:%s", "src-queue": "%s", "dest-protocol": "amqp091", "dest-uri": "amqp://guest:guest@127.0.0.1:%s", "dest-queue": "%s", "ack-mode": "on-confirm", "src-delete-after": "never"%s}' \
      "$RABBITMQ_PORT" "$src" "$RABBITMQ_PORT" "$dst" "$prefetch"
  else
    # ActiveMQ's AMQP 1.0 connector: address "queue://X" is the JMS queue X.
    printf '{"src-protocol": "amqp10", "src-uri": "amqp://admin:admin@127.0.0.1:%s", "src-address": "queue://%s", "dest-protocol": "amqp091", "dest-uri": "amqp://guest:guest@127.0.0.1:%s", "dest-queue": "%s", "ack-mode": "on-confirm", "src-delete-after": "never"%s}' \
      "${ACTIVEMQ_AMQP_PORT:?no ActiveMQ AMQP connector}" "$src" "$RABBITMQ_PORT" "$dst" "$prefetch"
  fi
}

# drain_activemq_src MOVER SRC: after a failed ActiveMQ run, consume what is left of its source
# queue (ActiveMQ cannot delete a queue over STOMP; undrained, it would stay in KahaDB).
drain_activemq_src() {
  local n
  [[ $1 == activemq-* ]] || return 0
  n=$("$LOAD" drain-stomp --addr "$ACTIVEMQ_STOMP_HOST_PORT" --queue "$2" 2>/dev/null) || n="?"
  info "drained $n message(s) left in ActiveMQ queue $2"
}

# record MOVER "error text": a failed run as a JSON line.
record_error() {
  RUN_FAILED=1
  printf '{"label": "%s", "run": %s, "error": "%s"}\n' "$1" "$2" "$(tr -d '"\\' <<<"$3")" >>"$RESULTS"
  info "FAILED: $3"
}

# one_run MOVER RUN
one_run() {
  local mover=$1 run=$2 tag src dst ready out err line pids mqb_cpu1="" mqb_pid="" before after
  tag="routes-$(date +%s%N | cut -c8-16)-$RANDOM"
  RUN_FAILED=0
  broker_pids
  before="$RABBIT_PID/$ACTIVEMQ_PID"
  src="$tag-src" dst="$tag-dst"
  info "$mover run $run: pre-loading $COUNT x $SIZE B into $src"
  if [[ $mover == amqp-amqp/* ]]; then
    "$LOAD" fill-amqp --url "$RABBITMQ_URL" --queue "$src" --count "$COUNT" --size "$SIZE" ||
      { record_error "$mover" "$run" "pre-load failed"; return 0; }
  else
    "$LOAD" fill-stomp --addr "$ACTIVEMQ_STOMP_HOST_PORT" --queue "$src" --count "$COUNT" --size "$SIZE" ||
      { record_error "$mover" "$run" "pre-load failed"; drain_activemq_src "$mover" "$src"; return 0; }
  fi
  pids=()
  if [ -n "$RABBIT_PID" ]; then pids+=(--pid "rabbitmq=$RABBIT_PID"); fi
  if [ -n "$ACTIVEMQ_PID" ] && [[ $mover == activemq-* ]]; then
    pids+=(--pid "activemq=$ACTIVEMQ_PID")
  fi
  ready="$WORK_DIR/ready.$tag" out="$WORK_DIR/watch.$tag.json" err="$WORK_DIR/watch.$tag.err"
  "$LOAD" watch --url "$RABBITMQ_URL" --queue "$dst" --count "$COUNT" --label "$mover" \
    --clk-tck "$CLK_TCK" --stall-s 15 --ready-file "$ready" ${pids[@]+"${pids[@]}"} >"$out" 2>"$err" &
  WATCH_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    [ -e "$ready" ] && break
    kill -0 "$WATCH_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -e "$ready" ]; then
    wait "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=""
    record_error "$mover" "$run" "watcher did not start: $(tail -n 1 "$err")"
    drain_activemq_src "$mover" "$src"
    return 0
  fi
  case "$mover" in
    */shovel)
      SHOVEL_NAME="bench-$tag"
      as_root rabbitmqctl -q set_parameter shovel "$SHOVEL_NAME" \
        "$(shovel_json "$mover" "$src" "$dst")" >/dev/null ||
        info "rabbitmqctl set_parameter shovel $SHOVEL_NAME failed (the run will stall)"
      ;;
    *)
      route_yaml "$mover" "$src" "$dst" >"$WORK_DIR/route.$tag.yaml"
      mqbridge_start "$(cat "$WORK_DIR/route.$tag.yaml")" "$WORK_DIR/data/$tag" >/dev/null 2>&1 ||
        info "mqbridge did not start (log: ${MQBRIDGE_LOG:-?})"
      mqb_pid=${MQBRIDGE_PID:-}
      ;;
  esac
  wait "$WATCH_PID" || true
  WATCH_PID=""
  if [ -n "$mqb_pid" ]; then
    mqb_cpu1=$(cpu_us "$mqb_pid")
    cp "$MQBRIDGE_LOG" "$WORK_DIR/mqbridge.$tag.log" 2>/dev/null || true
    mqbridge_stop >/dev/null 2>&1 || info "mqbridge did not stop cleanly (log: $WORK_DIR/mqbridge.$tag.log)"
    MQBRIDGE_PID=""
  fi
  if [ -n "$SHOVEL_NAME" ]; then
    clear_shovel "$SHOVEL_NAME"
    SHOVEL_NAME=""
  fi
  line=$(tail -n 1 "$out")
  if [[ $line == *'"complete":false'* ]]; then RUN_FAILED=1; fi
  broker_pids
  after="$RABBIT_PID/$ACTIVEMQ_PID"
  if [ "$before" != "$after" ]; then
    record_error "$mover" "$run" "a broker restarted during the run (pids $before -> $after): not counted"
  elif [ -z "$line" ]; then
    record_error "$mover" "$run" "watcher: $(tail -n 1 "$err")"
  else
    # Add the run number and mqbridge's CPU over its whole life (start-up included).
    python3 - "$line" "$run" "${mqb_cpu1:-}" "$COUNT" "$SIZE" >>"$RESULTS" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r["run"] = int(sys.argv[2])
r["size"] = int(sys.argv[5])
if sys.argv[3]:
    r["cpu"].append({"name": "mqbridge", "pid": None,
                     "cpu_us_per_msg": int(sys.argv[3]) / int(sys.argv[4]), "whole_life": True})
print(json.dumps(r))
PY
    python3 - "$line" <<'PY' >&2
import json, sys
r = json.loads(sys.argv[1])
rate = r.get("msgs_per_s")
print("  -> %s: %s msg/s, %s of %s arrived, duplicates %s, missing %s%s" % (
    r["label"], "%.0f" % rate if rate else "-", r["arrived"], r["count"], r.get("duplicates"),
    r.get("missing"), ", " + r["error"] if r.get("error") else ""))
PY
  fi
  # The source queue: empty when all moved; a RabbitMQ one is deleted, an ActiveMQ one stays
  # (no delete over STOMP; empty queues cost nothing there; a failed run's is drained).
  if [ "$RUN_FAILED" = 1 ]; then
    drain_activemq_src "$mover" "$src"
  fi
  if [[ $mover == amqp-amqp/* ]]; then
    "$LOAD" delete-amqp --url "$RABBITMQ_URL" "$src" "$dst" || true
  else
    "$LOAD" delete-amqp --url "$RABBITMQ_URL" "$dst" || true
  fi
  sleep 1
}

section "${#movers[@]} mover(s) x $RUNS run(s), $COUNT persistent messages of $SIZE B each"
info "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((run = 1; run <= RUNS; run++)); do
  for m in "${movers[@]}"; do
    one_run "$m" "$run"
  done
done

section "results ($(date -u +%Y-%m-%dT%H:%MZ), RabbitMQ $RABBIT_VERSION, ActiveMQ $ACTIVEMQ_VERSION, raw: $RESULTS)"
python3 "$BENCH_DIR/routes_report.py" "$RESULTS"
