#!/usr/bin/env bash
# bench/run.sh: mqbridge vs RabbitMQ, same load generator, taking turns.
#
#   bench/run.sh [--duration S] [--warmup S] [--only FILTER] [--bridge-only | --rabbit-only]
#                [--results FILE] [--threads N] [--no-build] [-- EXTRA LOADGEN ARGS...]
#
# Builds the release binaries, starts RabbitMQ (Debian rabbitmq-server, 127.0.0.1:5682 via
# scripts/lib/rabbitmq.sh) and mqbridge (127.0.0.1:<ephemeral> via scripts/lib/mqbridge.sh),
# runs the 16 configurations (16 B / 4 KiB x 1p1c / 4p4c x confirms off/on x
# transient/persistent) against RabbitMQ then mqbridge, and prints a Markdown table.
# A benchmark, not a test: it never fails on speed (exit status != 0 only when it could
# not run). Everything it started is stopped on exit. See bench/README.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"

DURATION=10
WARMUP=2
ONLY=""
BROKERS="rabbitmq mqbridge"
RESULTS=""
THREADS=1
BUILD=1
EXTRA=()

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --duration S     measurement window per run, seconds (default 10)
  --warmup S       warm-up per run, excluded from the figures (default 2)
  --only FILTER    run only configurations whose name matches this extended regex,
                   e.g. --only '^16B' or --only '4p4c.*persistent'
  --bridge-only    run mqbridge only (RabbitMQ is not started)
  --rabbit-only    run RabbitMQ only (mqbridge is neither built nor started)
  --results FILE   also keep the raw JSON lines in FILE (default: a temp file, printed)
  --threads N      loadgen tokio worker threads (1 = current_thread; default 1)
  --no-build       use the binaries already built
  -- ARGS...       extra arguments passed to every mqbridge-loadgen run
Config names: <size>/<producers>p<consumers>c/<confirm|noconfirm>/<transient|persistent>
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --bridge-only) BROKERS="mqbridge"; shift ;;
    --rabbit-only) BROKERS="rabbitmq"; shift ;;
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

TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
LOADGEN="$TARGET_DIR/release/mqbridge-loadgen"
# The binary built above, unless MQBRIDGE_BIN was given.
MQBRIDGE_BIN="${USER_MQBRIDGE_BIN:-$TARGET_DIR/release/mqbridge}"

want() { [[ " $BROKERS " == *" $1 "* ]]; }

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
  rm -rf "$WORK_DIR/data"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ----
if [ "$BUILD" = 1 ]; then
  section "cargo build --release"
  pkgs=(-p mqbridge-loadgen)
  want mqbridge && pkgs+=(-p mqbridge)
  (cd "$REPO_ROOT" && cargo build --release "${pkgs[@]}")
fi
[ -x "$LOADGEN" ] || { die "loadgen not found at $LOADGEN"; exit 1; }

# ---- brokers ----
CLK_TCK=$(getconf CLK_TCK)
RABBIT_VERSION="-"
if want rabbitmq; then
  section "RabbitMQ"
  rabbitmq_start
  RABBIT_PID=$(rabbitmq_pid)
  RABBIT_VERSION=$(as_root rabbitmqctl -q version 2>/dev/null || echo '?')
  [ -n "$RABBIT_PID" ] || { die "cannot read the RabbitMQ (beam.smp) pid"; exit 1; }
  info "RabbitMQ $RABBIT_VERSION, beam.smp pid $RABBIT_PID, $RABBITMQ_URL"
fi
if want mqbridge; then
  section "mqbridge"
  mqbridge_start "" "$WORK_DIR/data"
fi

# ---- runs ----
configs=()
for size in 16 4096; do
  for topo in 1p1c 4p4c; do
    for confirm in noconfirm confirm; do
      for persist in transient persistent; do
        name="$([ "$size" = 16 ] && echo 16B || echo 4KiB)/$topo/$confirm/$persist"
        if [ -z "$ONLY" ] || [[ $name =~ $ONLY ]]; then
          configs+=("$name")
        fi
      done
    done
  done
done
[ ${#configs[@]} -gt 0 ] || { die "no configuration matches --only '$ONLY'"; exit 2; }

section "${#configs[@]} configuration(s) x [$BROKERS], ${WARMUP}s warm-up + ${DURATION}s each"
info "machine: $(nproc) cores, $(uname -r); loadgen threads: $THREADS"
for name in "${configs[@]}"; do
  IFS=/ read -r sz topo confirm persist <<<"$name"
  size=$([ "$sz" = 16B ] && echo 16 || echo 4096)
  prod=${topo%%p*}
  cons=${topo#*p}; cons=${cons%c}
  args=(--size "$size" --producers "$prod" --consumers "$cons"
    --duration "$DURATION" --warmup "$WARMUP" --threads "$THREADS" --clk-tck "$CLK_TCK")
  [ "$confirm" = confirm ] && args+=(--confirm)
  [ "$persist" = persistent ] && args+=(--persistent)
  for broker in $BROKERS; do
    if [ "$broker" = rabbitmq ]; then
      if ! kill -0 "$RABBIT_PID" 2>/dev/null; then
        # The node is shared with other users of scripts/lib/rabbitmq.sh on this machine.
        info "RabbitMQ (pid $RABBIT_PID) is gone; starting it again"
        rabbitmq_start || true
        RABBIT_PID=$(rabbitmq_pid)
      fi
      url=$RABBITMQ_URL pid=${RABBIT_PID:-0}
    else
      url=$MQBRIDGE_URL pid=$MQBRIDGE_PID
      if ! kill -0 "$pid" 2>/dev/null; then
        info "mqbridge is gone; restarting it (log: $MQBRIDGE_LOG)"
        mqbridge_start "" "$WORK_DIR/data" || true
        url=${MQBRIDGE_URL:-} pid=${MQBRIDGE_PID:-0}
      fi
    fi
    info "$name on $broker"
    if out=$("$LOADGEN" --url "$url" --broker-pid "$pid" --label "$name|$broker" "${args[@]}" \
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

section "results ($(date -u +%Y-%m-%dT%H:%MZ), RabbitMQ $RABBIT_VERSION, raw: $RESULTS)"
python3 "$BENCH_DIR/report.py" "$RESULTS"
