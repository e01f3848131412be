#!/usr/bin/env bash
# bench/run.sh: mqbridge vs RabbitMQ (and ActiveMQ for STOMP and OpenWire), same load generators,
# taking turns.
#
#   bench/run.sh [--duration S] [--warmup S] [--only FILTER]
#                [--amqp-only | --stomp-only | --openwire-only]
#                [--bridge-only | --rabbit-only | --brokers LIST] [--results FILE]
#                [--threads N] [--no-build] [-- EXTRA LOADGEN ARGS...]
#
# Builds the release binaries, starts RabbitMQ (Debian rabbitmq-server, 127.0.0.1:5682, STOMP
# plugin on 127.0.0.1:61623 via scripts/lib/rabbitmq.sh), ActiveMQ for the STOMP->STOMP runs
# (Debian activemq, STOMP on 127.0.0.1:61633 via scripts/lib/activemq.sh) and mqbridge (AMQP +
# STOMP on 127.0.0.1:<ephemeral> via scripts/lib/mqbridge.sh), runs the AMQP configurations
# (16 B / 4 KiB x 1p1c / 4p4c x confirms off/on x transient/persistent) and the STOMP ones
# (STOMP->AMQP and STOMP->STOMP x 16 B / 4 KiB x 1p1c / 4p4c x transient / persistent with
# receipts) against each broker in turn, then the OpenWire ones (JMS->JMS and JMS->AMQP x 16 B /
# 4 KiB x 1p1c x transient with async sends / persistent with sync sends; the JVM load generator
# bench/jms-loadgen, built with Maven; ActiveMQ's OpenWire on 127.0.0.1:61626, mqbridge's on
# 127.0.0.1:<ephemeral>), and prints Markdown tables with ratio rows.
# A benchmark, not a test: it never fails on speed (exit status != 0 only when it could
# not run). Everything it started is stopped on exit. See bench/README.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"

DURATION=10
WARMUP=2
ONLY=""
BROKERS="rabbitmq activemq mqbridge"
SETS="amqp stomp openwire"
RESULTS=""
THREADS=1
BUILD=1
EXTRA=()

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --duration S     measurement window per run, seconds (default 10)
  --warmup S       warm-up per run, excluded from the figures (default 2)
  --only FILTER    run only configurations whose name matches this extended regex,
                   e.g. --only '^16B' or --only '4p4c.*persistent' or --only '^stomp-stomp/'
  --amqp-only      only the AMQP->AMQP configurations (the table as before STOMP)
  --stomp-only     only the STOMP->AMQP and STOMP->STOMP configurations
  --openwire-only  only the OpenWire configurations (JMS->JMS on ActiveMQ and mqbridge, JMS->AMQP
                   on mqbridge: ActiveMQ has no AMQP 0-9-1; bench/jms-loadgen)
  --bridge-only    run mqbridge only (no other broker is started)
  --rabbit-only    run RabbitMQ only (mqbridge is neither built nor started)
  --brokers LIST   space- or comma-separated subset of: rabbitmq activemq mqbridge
                   (ActiveMQ only takes part in STOMP->STOMP and JMS->JMS; RabbitMQ not in
                   the OpenWire set)
  --results FILE   also keep the raw JSON lines in FILE (default: a temp file, printed)
  --threads N      loadgen tokio worker threads (1 = current_thread; default 1)
  --no-build       use the binaries (and bench/jms-loadgen/target/*.jar) already built
  -- ARGS...       extra arguments passed to every mqbridge-loadgen run (not to the JMS one:
                   use JMS_LOADGEN_ARGS="..." for that, e.g. "--ack-mode client")
Config names: AMQP  <size>/<producers>p<consumers>c/<confirm|noconfirm>/<transient|persistent>
              STOMP stomp-<amqp|stomp>/<size>/<producers>p<consumers>c/<noreceipt/transient|receipt/persistent>
              (stomp-amqp: STOMP producers, AMQP consumers; stomp-stomp: STOMP both sides)
              OpenWire jms-<jms|amqp>/<size>/1p1c/<async/transient|sync/persistent>
              (JMS producers; JMS consumers, AUTO_ACKNOWLEDGE, or AMQP consumers)
Environment: MQBRIDGE_BIN, CARGO_TARGET_DIR (binaries), JAVA (default java),
             JMS_LOADGEN_JAVA_OPTS, JMS_LOADGEN_ARGS (extra JVM / JMS loadgen arguments).
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --bridge-only) BROKERS="mqbridge"; shift ;;
    --rabbit-only) BROKERS="rabbitmq"; shift ;;
    --brokers) BROKERS=$(tr ',' ' ' <<<"${2:?}"); shift 2 ;;
    --amqp-only) SETS="amqp"; shift ;;
    --stomp-only) SETS="stomp"; shift ;;
    --openwire-only) SETS="openwire"; shift ;;
    --results) RESULTS=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
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
LOADGEN="$TARGET_DIR/release/mqbridge-loadgen"
JMS_LOADGEN_DIR="$BENCH_DIR/jms-loadgen"
JMS_LOADGEN_JAR="$JMS_LOADGEN_DIR/target/mqbridge-jms-loadgen.jar"
JAVA="${JAVA:-java}"
# The binary built above, unless MQBRIDGE_BIN was given.
MQBRIDGE_BIN="${USER_MQBRIDGE_BIN:-$TARGET_DIR/release/mqbridge}"

want() { [[ " $BROKERS " == *" $1 "* ]]; }
want_set() { [[ " $SETS " == *" $1 "* ]]; }

WORK_DIR="$(mktemp -d -t mqbridge-bench.XXXXXX)"
[ -n "$RESULTS" ] || RESULTS="$WORK_DIR/results.jsonl"
: >"$RESULTS"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${MQBRIDGE_PID:-}" ]; then
    mqbridge_stop || true
  fi
  rabbitmq_stop || true
  activemq_stop || true
  rm -rf "$WORK_DIR/data"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- configurations (decided before the brokers: ActiveMQ starts only if needed) ----
configs=()
add_config() {
  if [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; then
    configs+=("$1")
  fi
}
if want_set amqp; then
  for size in 16B 4KiB; do
    for topo in 1p1c 4p4c; do
      for confirm in noconfirm confirm; do
        for persist in transient persistent; do
          add_config "$size/$topo/$confirm/$persist"
        done
      done
    done
  done
fi
if want_set stomp; then
  for flow in stomp-amqp stomp-stomp; do
    for size in 16B 4KiB; do
      for topo in 1p1c 4p4c; do
        for mode in noreceipt/transient receipt/persistent; do
          add_config "$flow/$size/$topo/$mode"
        done
      done
    done
  done
fi
if want_set openwire; then
  for flow in jms-jms jms-amqp; do
    for size in 16B 4KiB; do
      for mode in async/transient sync/persistent; do
        add_config "$flow/$size/1p1c/$mode"
      done
    done
  done
fi
[ ${#configs[@]} -gt 0 ] || { die "no configuration matches --only '$ONLY'"; exit 2; }
NEED_STOMP=0 NEED_ACTIVEMQ=0 NEED_OPENWIRE=0 NEED_RUST_LOADGEN=0 NEED_RABBIT=0
for name in "${configs[@]}"; do
  case "$name" in
    stomp-stomp/*) NEED_STOMP=1; want activemq && NEED_ACTIVEMQ=1 ;;
    stomp-*) NEED_STOMP=1 ;;
    jms-jms/*) NEED_OPENWIRE=1; want activemq && NEED_ACTIVEMQ=1 ;;
    jms-*) NEED_OPENWIRE=1 ;;
  esac
  case "$name" in
    jms-*) ;;
    *) NEED_RUST_LOADGEN=1; want rabbitmq && NEED_RABBIT=1 ;;
  esac
done

# brokers_for CONFIG: the brokers that take part (ActiveMQ has no AMQP 0-9-1: STOMP->STOMP and
# JMS->JMS only; RabbitMQ has no OpenWire).
brokers_for() {
  local b out=""
  for b in $BROKERS; do
    if [ "$b" = activemq ] && [[ $1 != stomp-stomp/* && $1 != jms-jms/* ]]; then
      continue
    fi
    if [ "$b" = rabbitmq ] && [[ $1 == jms-* ]]; then
      continue
    fi
    out+="$b "
  done
  echo "$out"
}

# ---- build ----
if [ "$BUILD" = 1 ]; then
  pkgs=()
  [ "$NEED_RUST_LOADGEN" = 1 ] && pkgs+=(-p mqbridge-loadgen)
  # MQBRIDGE_BIN given: that binary is used as is.
  want mqbridge && [ -z "$USER_MQBRIDGE_BIN" ] && pkgs+=(-p mqbridge)
  if [ ${#pkgs[@]} -gt 0 ]; then
    section "cargo build --release ${pkgs[*]}"
    (cd "$REPO_ROOT" && cargo build --release "${pkgs[@]}")
  fi
  if [ "$NEED_OPENWIRE" = 1 ]; then
    section "mvn package (bench/jms-loadgen)"
    (cd "$JMS_LOADGEN_DIR" && mvn -q -B package -DskipTests) >&2
  fi
fi
if [ "$NEED_RUST_LOADGEN" = 1 ] && [ ! -x "$LOADGEN" ]; then
  die "loadgen not found at $LOADGEN"
  exit 1
fi
if [ "$NEED_OPENWIRE" = 1 ] && [ ! -f "$JMS_LOADGEN_JAR" ]; then
  die "JMS loadgen not found at $JMS_LOADGEN_JAR (cd bench/jms-loadgen && mvn -q -B package -DskipTests)"
  exit 1
fi

# ---- brokers ----
CLK_TCK=$(getconf CLK_TCK)
RABBIT_VERSION="-" ACTIVEMQ_VERSION="-" MQBRIDGE_EXTRA=""
if [ "$NEED_STOMP" = 1 ] || [ "$NEED_OPENWIRE" = 1 ]; then
  MQBRIDGE_EXTRA='listeners:
  amqp: { bind: "127.0.0.1:0" }'
  [ "$NEED_STOMP" = 1 ] && MQBRIDGE_EXTRA+=$'\n  stomp: { bind: "127.0.0.1:0" }'
  [ "$NEED_OPENWIRE" = 1 ] && MQBRIDGE_EXTRA+=$'\n  openwire: { bind: "127.0.0.1:0" }'
fi
# mqbridge_openwire_port: MQBRIDGE_OPENWIRE_PORT from the `listener=openwire address=...` log line
# of the running bridge (empty when it has none).
mqbridge_openwire_port() {
  local i
  MQBRIDGE_OPENWIRE_PORT=""
  for ((i = 0; i < 100; i++)); do
    MQBRIDGE_OPENWIRE_PORT=$(mqbridge_read_port "$MQBRIDGE_LOG" openwire)
    [ -n "$MQBRIDGE_OPENWIRE_PORT" ] && break
    kill -0 "${MQBRIDGE_PID:-0}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$MQBRIDGE_OPENWIRE_PORT" ]; then
    wait_for_port 127.0.0.1 "$MQBRIDGE_OPENWIRE_PORT" 30 || MQBRIDGE_OPENWIRE_PORT=""
  fi
  if [ -n "$MQBRIDGE_OPENWIRE_PORT" ]; then
    info "mqbridge OpenWire on 127.0.0.1:$MQBRIDGE_OPENWIRE_PORT"
  else
    info "WARNING: no 'listener=openwire address=...' line in the mqbridge log ($MQBRIDGE_LOG)"
  fi
}
if [ "$NEED_RABBIT" = 1 ]; then
  section "RabbitMQ"
  rabbitmq_start
  RABBIT_PID=$(rabbitmq_pid)
  RABBIT_VERSION=$(as_root rabbitmqctl -q version 2>/dev/null || echo '?')
  [ -n "$RABBIT_PID" ] || { die "cannot read the RabbitMQ (beam.smp) pid"; exit 1; }
  info "RabbitMQ $RABBIT_VERSION, beam.smp pid $RABBIT_PID, $RABBITMQ_URL"
fi
if [ "$NEED_ACTIVEMQ" = 1 ]; then
  section "ActiveMQ"
  activemq_start
  ACTIVEMQ_PID=$(activemq_pid)
  ACTIVEMQ_VERSION=$(dpkg-query -W -f='${Version}' activemq 2>/dev/null || echo '?')
  [ -n "$ACTIVEMQ_PID" ] || { die "cannot read the ActiveMQ (java) pid"; exit 1; }
  info "ActiveMQ $ACTIVEMQ_VERSION, java pid $ACTIVEMQ_PID, STOMP $ACTIVEMQ_STOMP_HOST_PORT, OpenWire 127.0.0.1:$ACTIVEMQ_OPENWIRE_PORT"
fi
if want mqbridge; then
  section "mqbridge"
  mqbridge_start "$MQBRIDGE_EXTRA" "$WORK_DIR/data"
  if [ "$NEED_STOMP" = 1 ] && [ -z "${MQBRIDGE_STOMP_PORT:-}" ]; then
    info "WARNING: this mqbridge build has no STOMP listener: its STOMP runs are skipped"
  fi
  [ "$NEED_OPENWIRE" = 1 ] && mqbridge_openwire_port
fi
[ "$NEED_OPENWIRE" = 1 ] && info "JMS loadgen: $("$JAVA" -version 2>&1 | head -n 1), activemq-client 5.18.7"

# run_jms CONFIG: one OpenWire configuration (jms-<jms|amqp>/<size>/<P>p<C>c/<async|sync>/<mode>)
# against each broker taking part, with the JVM load generator (bench/jms-loadgen).
run_jms() {
  local name=$1 flow sz topo send persist size prod cons broker pid out err
  local args conn
  IFS=/ read -r flow sz topo send persist <<<"$name"
  size=$([ "$sz" = 16B ] && echo 16 || echo 4096)
  prod=${topo%%p*}
  cons=${topo#*p}; cons=${cons%c}
  args=(--size "$size" --producers "$prod" --consumers "$cons"
    --duration "$DURATION" --warmup "$WARMUP" --clk-tck "$CLK_TCK")
  [ "$send" = sync ] && args+=(--sync-send)
  [ "$persist" = persistent ] && args+=(--persistent)
  [ "$flow" = jms-amqp ] && args+=(--consumer-protocol amqp)
  for broker in $(brokers_for "$name"); do
    if [ "$broker" = activemq ]; then
      if [ -z "${ACTIVEMQ_PID:-}" ] || ! kill -0 "$ACTIVEMQ_PID" 2>/dev/null; then
        info "ActiveMQ (pid ${ACTIVEMQ_PID:-?}) is gone; starting it again"
        activemq_start || true
        ACTIVEMQ_PID=$(activemq_pid)
      fi
      pid=${ACTIVEMQ_PID:-0}
      conn=(--url "tcp://127.0.0.1:$ACTIVEMQ_OPENWIRE_PORT")
    else
      pid=${MQBRIDGE_PID:-0}
      if ! kill -0 "$pid" 2>/dev/null; then
        info "mqbridge is gone; restarting it (log: ${MQBRIDGE_LOG:-?})"
        mqbridge_start "$MQBRIDGE_EXTRA" "$WORK_DIR/data" || true
        pid=${MQBRIDGE_PID:-0}
        mqbridge_openwire_port
      fi
      if [ -z "${MQBRIDGE_OPENWIRE_PORT:-}" ]; then
        info "$name on $broker: skipped (no OpenWire listener)"
        printf '{"label":"%s|%s","error":"skipped: no OpenWire listener in this mqbridge build"}\n' \
          "$name" "$broker" >>"$RESULTS"
        continue
      fi
      # The AMQP URL: AMQP consumers, and the queue is deleted over AMQP at the end.
      conn=(--url "tcp://127.0.0.1:$MQBRIDGE_OPENWIRE_PORT" --amqp-url "${MQBRIDGE_URL:-}")
    fi
    info "$name on $broker"
    # shellcheck disable=SC2086 # JMS_LOADGEN_JAVA_OPTS / JMS_LOADGEN_ARGS are word lists
    if out=$("$JAVA" ${JMS_LOADGEN_JAVA_OPTS:-} -jar "$JMS_LOADGEN_JAR" "${conn[@]}" \
      --broker-pid "$pid" --label "$name|$broker" "${args[@]}" ${JMS_LOADGEN_ARGS:-} \
      2>"$WORK_DIR/loadgen.err"); then
      printf '%s\n' "$out" >>"$RESULTS"
    else
      err=$(grep -v '^\s*at ' "$WORK_DIR/loadgen.err" | tail -n 1 | tr -d '"\\')
      info "FAILED: $err"
      printf '{"label":"%s|%s","error":"%s"}\n' "$name" "$broker" "$err" >>"$RESULTS"
    fi
    sleep 1
  done
}

# ---- runs ----
section "${#configs[@]} configuration(s) x [$BROKERS], ${WARMUP}s warm-up + ${DURATION}s each"
info "machine: $(nproc) cores, $(uname -r); loadgen threads: $THREADS"
for name in "${configs[@]}"; do
  if [[ $name == jms-* ]]; then
    run_jms "$name"
    continue
  fi
  flow=amqp
  rest=$name
  if [[ $name == stomp-* ]]; then
    flow=${name%%/*}
    rest=${name#*/}
  fi
  IFS=/ read -r sz topo confirm persist <<<"$rest"
  size=$([ "$sz" = 16B ] && echo 16 || echo 4096)
  prod=${topo%%p*}
  cons=${topo#*p}; cons=${cons%c}
  args=(--size "$size" --producers "$prod" --consumers "$cons"
    --duration "$DURATION" --warmup "$WARMUP" --threads "$THREADS" --clk-tck "$CLK_TCK")
  [[ $confirm == confirm || $confirm == receipt ]] && args+=(--confirm)
  [ "$persist" = persistent ] && args+=(--persistent)
  case "$flow" in
    stomp-amqp) args+=(--protocol stomp --consumer-protocol amqp) ;;
    stomp-stomp) args+=(--protocol stomp --consumer-protocol stomp) ;;
  esac
  for broker in $(brokers_for "$name"); do
    conn=()
    if [ "$broker" = activemq ]; then
      if [ -z "${ACTIVEMQ_PID:-}" ] || ! kill -0 "$ACTIVEMQ_PID" 2>/dev/null; then
        info "ActiveMQ (pid ${ACTIVEMQ_PID:-?}) is gone; starting it again"
        activemq_start || true
        ACTIVEMQ_PID=$(activemq_pid)
      fi
      pid=${ACTIVEMQ_PID:-0}
      conn=(--stomp-addr "$ACTIVEMQ_STOMP_HOST_PORT")
    elif [ "$broker" = rabbitmq ]; then
      if ! kill -0 "$RABBIT_PID" 2>/dev/null; then
        # The node is shared with other users of scripts/lib/rabbitmq.sh on this machine.
        info "RabbitMQ (pid $RABBIT_PID) is gone; starting it again"
        rabbitmq_start || true
        RABBIT_PID=$(rabbitmq_pid)
      fi
      pid=${RABBIT_PID:-0}
      conn=(--url "$RABBITMQ_URL")
      [ "$flow" = amqp ] || conn+=(--stomp-addr "$RABBITMQ_STOMP_HOST_PORT")
    else
      pid=$MQBRIDGE_PID
      if ! kill -0 "$pid" 2>/dev/null; then
        info "mqbridge is gone; restarting it (log: $MQBRIDGE_LOG)"
        mqbridge_start "$MQBRIDGE_EXTRA" "$WORK_DIR/data" || true
        pid=${MQBRIDGE_PID:-0}
      fi
      conn=(--url "${MQBRIDGE_URL:-}")
      if [ "$flow" != amqp ]; then
        if [ -z "${MQBRIDGE_STOMP_PORT:-}" ]; then
          info "$name on $broker: skipped (no STOMP listener)"
          printf '{"label":"%s|%s","error":"skipped: no STOMP listener in this mqbridge build"}\n' \
            "$name" "$broker" >>"$RESULTS"
          continue
        fi
        conn+=(--stomp-addr "127.0.0.1:$MQBRIDGE_STOMP_PORT")
      fi
    fi
    info "$name on $broker"
    if out=$("$LOADGEN" "${conn[@]}" --broker-pid "$pid" --label "$name|$broker" "${args[@]}" \
      ${EXTRA[@]+"${EXTRA[@]}"} 2>"$WORK_DIR/loadgen.err"); then
      printf '%s\n' "$out" >>"$RESULTS"
    else
      err=$(tail -n 1 "$WORK_DIR/loadgen.err" | tr -d '"\\')
      info "FAILED: $err"
      printf '{"label":"%s|%s","error":"%s"}\n' "$name" "$broker" "$err" >>"$RESULTS"
    fi
    sleep 1
  done
done

section "results ($(date -u +%Y-%m-%dT%H:%MZ), RabbitMQ $RABBIT_VERSION, ActiveMQ $ACTIVEMQ_VERSION, raw: $RESULTS)"
python3 "$BENCH_DIR/report.py" "$RESULTS"
