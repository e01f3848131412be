#!/usr/bin/env bash
# THE one test command for mqbridge: installs what it needs, then runs every suite.
#
#   scripts/test.sh
#
# Steps: install peers (apt rabbitmq-server when missing, Python venv, npm ci, Maven deps),
# cargo fmt --check, clippy -D warnings, cargo test --workspace, cargo build --release, the
# web UI's browser tests (tests/ui, headless Chromium),
# start RabbitMQ (127.0.0.1:5682, its STOMP plugin on 127.0.0.1:61623) and mqbridge (release
# binary, AMQP and STOMP listeners on port 0, temp data dir), run the pika, amqplib and
# RabbitMQ-Java-client suites against mqbridge, the stomp.py suites (STOMP, STOMP<->AMQP)
# against mqbridge, the differential tests (AMQP and STOMP, mqbridge vs RabbitMQ), the pika
# and stomp.py suites against RabbitMQ, mqbridge's clean SIGTERM exit, the kill -9 crash
# test, the OpenWire JMS suites (tests/interop/openwire: stock ActiveMQ 5.18 and 6.1 clients,
# Spring JMS) in full against ActiveMQ 5.17 (Debian package, OpenWire 127.0.0.1:61626, STOMP
# 61633, incl. the failover/restart test) and in full against mqbridge (failover included:
# the bridge is restarted with kill -9 on pinned ports), the route interop tests
# (tests/interop/routes: ActiveMQ <-> RabbitMQ through mqbridge routes, faults included) and
# the routes operations tests (tests/interop/routes_ops: schema, check, hot reload, SMTP) and
# the TLS suite (tests/interop/tls: pika, stomp.py and the ActiveMQ JMS client over TLS with a
# test CA made by openssl), the java-shim's `mvn verify` (its JUnit suites over three
# targets); stop everything it started. Every suite runs even when an
# earlier one failed; the exit status is non-zero if any step failed.
#
# Environment:
#   CARGO_TARGET_DIR        honoured (the binary is taken from there)
#   CRASH_MESSAGES          messages in the crash test (default 20000)
#   CRASH_TEST_RABBITMQ=1   also run the crash test against RabbitMQ (kills and restarts it)
#   MQBRIDGE_SKIP_BRIDGE=1  developer convenience while the bridge is not runnable: run the
#                           client suites against RabbitMQ only. Refused when CI is set.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
export MQB_REPO_ROOT="$ROOT"
export PYTHONDONTWRITEBYTECODE=1
export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export MQBRIDGE_BIN="${MQBRIDGE_BIN:-$TARGET_DIR/release/mqbridge}"

# shellcheck source=lib/common.sh
source scripts/lib/common.sh
# shellcheck source=lib/rabbitmq.sh
source scripts/lib/rabbitmq.sh
# shellcheck source=lib/mqbridge.sh
source scripts/lib/mqbridge.sh
# shellcheck source=lib/activemq.sh
source scripts/lib/activemq.sh
# shellcheck source=lib/tls.sh
source scripts/lib/tls.sh
# shellcheck source=lib/admin.sh
source scripts/lib/admin.sh
# shellcheck source=lib/permissions.sh
source scripts/lib/permissions.sh
# shellcheck source=lib/ui.sh
source scripts/lib/ui.sh

SKIP_BRIDGE=0
if [ "${MQBRIDGE_SKIP_BRIDGE:-0}" = 1 ]; then
  if [ -n "${CI:-}" ] && [ "${CI}" != "false" ]; then
    echo "ERROR: MQBRIDGE_SKIP_BRIDGE=1 is a local developer convenience; CI must not set it." >&2
    exit 2
  fi
  SKIP_BRIDGE=1
fi

WORK=$(mktemp -d -t mqbridge-test.XXXXXX)
FAILED=()
PASSED=()
NOTES=()
START_TS=$(date +%s)

cleanup() {
  local rc=$?
  set +e
  if [ -n "${MQBRIDGE_PID:-}" ]; then
    mqbridge_kill9
  fi
  rabbitmq_stop
  activemq_stop
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step NAME CMD...: run CMD, record pass/fail, never abort the script.
step() {
  local name=$1 t0 rc=0
  shift
  section "$name"
  t0=$(date +%s)
  # errexit must hold inside the step: run it as a plain (non-conditional) subshell
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    PASSED+=("$name ($(($(date +%s) - t0))s)")
    info "PASS: $name"
  else
    FAILED+=("$name (exit $rc)")
    info "FAIL: $name (exit $rc)"
  fi
  return 0
}

# must NAME CMD...: a step whose failure stops everything (nothing after it can work).
must() {
  local before=${#FAILED[@]}
  step "$@"
  if [ "${#FAILED[@]}" -ne "$before" ]; then
    summary
    exit 1
  fi
}

summary() {
  section "Summary ($(($(date +%s) - START_TS))s)"
  local s
  for s in "${PASSED[@]}"; do printf '  ok    %s\n' "$s" >&2; done
  for s in "${FAILED[@]}"; do printf '  FAIL  %s\n' "$s" >&2; done
  for s in "${NOTES[@]}"; do printf '  NOTE  %s\n' "$s" >&2; done
  if [ "$SKIP_BRIDGE" = 1 ]; then
    printf '  NOTE  MQBRIDGE_SKIP_BRIDGE=1: mqbridge was NOT tested (developer mode)\n' >&2
  fi
}

# ---------------------------------------------------------------- installs

install_system() {
  rabbitmq_install
  local missing=()
  command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  info "python3 $(python3 --version 2>&1), node $(node --version), $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g')"
}

install_rust_components() {
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
  info "$(cargo --version), $(cargo fmt --version), $(cargo clippy --version)"
}

install_python() {
  local req=tests/interop/python/requirements.txt stamp=.venv/.requirements.sha256 want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    rm -rf .venv
    if ! python3 -m venv .venv; then
      apt_install python3-venv
      rm -rf .venv
      python3 -m venv .venv
    fi
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
  info "$(.venv/bin/python -c 'import pika, pytest, stomp; print("pika", pika.__version__, "stomp.py", stomp.__version__, "pytest", pytest.__version__)')"
}

install_node() {
  (cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)
  info "amqplib $(node -p 'require("./tests/interop/node/node_modules/amqplib/package.json").version')"
}

install_java() {
  # Resolve the client, JUnit and plugins now so a network problem shows up here.
  (cd tests/interop/java && mvn -q -B -DskipTests test-compile)
  # OpenWire suites: activemq-client 5.18 + 6.1, spring-jms, amqp-client (jms6 compiles a
  # jakarta copy of the jms5 sources here)
  (cd tests/interop/openwire && mvn -q -B -DskipTests test-compile)
}

# ---------------------------------------------------------------- suites

# Each test has its own deadline (15-30 s) and each suite a wall-clock cap, so a broker that
# hangs fails the run well inside the CI budget instead of stalling it.
pika_suite() { # URL
  AMQP_URL=$1 INTEROP_TEST_TIMEOUT=15 timeout -k 10 600 \
    .venv/bin/python -m pytest -p no:cacheprovider -q -rfE tests/interop/python \
    --ignore-glob='*/test_stomp*.py'
}

# stomp.py suites: STOMP alone and STOMP<->AMQP on one broker. BROKER is mqbridge or rabbitmq
# (mqbridge-only tests are skipped against RabbitMQ, listed by -rs).
stomp_suite() { # STOMP_HOST_PORT AMQP_URL BROKER
  [ -n "$1" ] || die "no STOMP listener to test ($3 did not report one; see its log)"
  STOMP_HOST_PORT=$1 AMQP_URL=$2 STOMP_BROKER=$3 INTEROP_TEST_TIMEOUT=15 timeout -k 10 300 \
    .venv/bin/python -m pytest -p no:cacheprovider -q -rfEs \
    tests/interop/python/test_stomp.py tests/interop/python/test_stomp_amqp.py
}

differential_stomp() { # STOMP_HOST_PORT AMQP_URL REFERENCE_STOMP_HOST_PORT REFERENCE_AMQP_URL
  [ -n "$1" ] || die "mqbridge has no STOMP listener (no listener=stomp line in its log)"
  STOMP_HOST_PORT=$1 AMQP_URL=$2 REFERENCE_STOMP_HOST_PORT=$3 REFERENCE_AMQP_URL=$4 \
    INTEROP_TEST_TIMEOUT=30 timeout -k 10 300 \
    .venv/bin/python -m pytest -p no:cacheprovider -q -rfE tests/interop/python/differential_stomp.py
}

node_suite() { # URL
  (cd tests/interop/node && AMQP_URL=$1 timeout -k 10 300 \
    node --test --test-timeout=20000 --test-reporter=spec)
}

java_suite() { # URL
  (cd tests/interop/java && AMQP_URL=$1 timeout -k 10 300 mvn -q -B test)
}

# OpenWire JMS suites (tests/interop/openwire: jms5, jms6, spring-app), all modules.
# openwire_suite OPENWIRE_URL BROKER_KIND [MAVEN ARGS...]; env STOMP_HOST_PORT, AMQP_URL and
# BROKER_RESTART_CMD are passed through when set (tests needing them skip otherwise).
openwire_suite() {
  local url=$1 kind=$2
  shift 2
  (cd tests/interop/openwire && OPENWIRE_URL=$url BROKER_KIND=$kind timeout -k 10 600 \
    mvn -q -B test "$@")
}

openwire_vs_activemq() {
  STOMP_HOST_PORT=$ACTIVEMQ_STOMP_HOST_PORT \
    BROKER_RESTART_CMD="bash -c 'source \"$ROOT/scripts/lib/activemq.sh\" && activemq_restart'" \
    openwire_suite "tcp://127.0.0.1:$ACTIVEMQ_OPENWIRE_PORT" activemq
}

# The OpenWire suites against mqbridge: a bridge of its own with AMQP, STOMP and OpenWire
# listeners on ports pinned after a first start, so the failover test can restart it (kill -9,
# same ports and data) through BROKER_RESTART_CMD. Every test runs, as against ActiveMQ.
# Run in this shell, not in a step: it records PASSED/FAILED itself.
openwire_vs_mqbridge() {
  local extra port rc=0 dir="$WORK/bridge-openwire"
  extra='listeners:
  amqp: { bind: "127.0.0.1:0" }
  stomp: { bind: "127.0.0.1:0" }
  openwire: { bind: "127.0.0.1:0" }'
  if ! MQBRIDGE_RUN_DIR="$dir" mqbridge_start_pinned "$extra" "$WORK/bridge-openwire-data"; then
    FAILED+=("OpenWire suites vs mqbridge (the bridge did not start with an OpenWire listener)")
    return 0
  fi
  port=$(mqbridge_read_port "$MQBRIDGE_LOG" openwire)
  section "OpenWire suites vs mqbridge"
  STOMP_HOST_PORT=${MQBRIDGE_STOMP_HOST_PORT:-} AMQP_URL=$MQBRIDGE_URL PIKA_PYTHON="$ROOT/.venv/bin/python" \
    BROKER_RESTART_CMD="bash -c 'source \"$ROOT/scripts/lib/mqbridge.sh\" && mqbridge_restart_in \"$dir\"'" \
    openwire_suite "tcp://127.0.0.1:$port" mqbridge || rc=$?
  MQBRIDGE_PID=$(cat "$dir/pid" 2>/dev/null || echo "${MQBRIDGE_PID:-}")
  mqbridge_kill9
  if [ "$rc" -eq 0 ]; then
    PASSED+=("OpenWire suites vs mqbridge")
  else
    FAILED+=("OpenWire suites vs mqbridge (exit $rc)")
  fi
}

differential() { # URL REFERENCE_URL
  AMQP_URL=$1 REFERENCE_AMQP_URL=$2 INTEROP_TEST_TIMEOUT=30 timeout -k 10 300 \
    .venv/bin/python -m pytest -p no:cacheprovider -q -rfE tests/interop/python/differential.py
}

crash_test_mqbridge() {
  local dir="$WORK/crash"
  mkdir -p "$dir/data"
  export MQBRIDGE_CRASH_CONFIG="$dir/mqbridge.yaml"
  mqbridge_write_config "$MQBRIDGE_CRASH_CONFIG" "" "$dir/data"
  CRASH_TEST_TIMEOUT=420 timeout -k 10 450 \
    .venv/bin/python tests/interop/crash_test.py --target mqbridge -n "${CRASH_MESSAGES:-20000}"
}

crash_test_rabbitmq() {
  RABBITMQ_URL=$RABBITMQ_URL .venv/bin/python tests/interop/crash_test.py --target rabbitmq \
    -n "${CRASH_MESSAGES:-20000}"
}

# Routes between ActiveMQ and RabbitMQ through the release binary (tests/interop/routes):
# 10,000-message flows both ways, selectors, dead letters, and faults (it restarts RabbitMQ
# and ActiveMQ, which must both be up, and kill -9s the bridges it starts itself).
routes_interop() {
  (cd tests/interop/routes/jms-tool && mvn -q -B package -DskipTests)
  RABBITMQ_URL=$RABBITMQ_URL ACTIVEMQ_OPENWIRE_PORT=$ACTIVEMQ_OPENWIRE_PORT \
    ACTIVEMQ_STOMP_PORT=$ACTIVEMQ_STOMP_PORT ROUTES_TEST_TIMEOUT=240 timeout -k 10 540 \
    .venv/bin/python -m pytest -p no:cacheprovider -q -rfE -s tests/interop/routes
}

# Operations of routes (tests/interop/routes_ops), mqbridge and Python only: the JSON Schema
# against every config/ file, `mqbridge check` errors by line and column, hot reload while
# pika traffic flows (no message lost), and core queue -> SMTP routes into smtp_sink.py.
routes_ops() {
  ROUTES_OPS_TEST_TIMEOUT=180 timeout -k 10 600 \
    .venv/bin/python -m pytest -p no:cacheprovider -q -rfE -s tests/interop/routes_ops
}

# The outbound clients of routes (tests/it: openwire_client, stomp_client, amqp_connector)
# against the real brokers too; without these variables those tests run against mqbridge only.
# --workspace keeps the feature set of the `cargo test --workspace` step: nothing recompiles.
clients_vs_peers() {
  MQB_ACTIVEMQ_OPENWIRE=127.0.0.1:$ACTIVEMQ_OPENWIRE_PORT MQB_ACTIVEMQ_STOMP=$ACTIVEMQ_STOMP_HOST_PORT \
    MQB_RABBITMQ_STOMP=$RABBITMQ_STOMP_HOST_PORT MQB_RABBITMQ_URL=$RABBITMQ_URL timeout -k 10 400 \
    cargo test --workspace --test it -- openwire_client stomp_client amqp_connector
}

# The java-shim (JMS provider over JNI): `mvn verify` builds the native library with cargo,
# packages the jar and runs the JUnit suites over three targets: the shim to an mqbridge it
# starts ($MQBRIDGE_BIN), the shim to RabbitMQ ($RABBITMQ_URL), and ActiveMQ's own client to
# that mqbridge's OpenWire listener; plus Spring, pika <-> shim, and the OpenWire identity checks.
java_shim() {
  RABBITMQ_URL=$RABBITMQ_URL MQBRIDGE_BIN=$MQBRIDGE_BIN PIKA_PYTHON="$ROOT/.venv/bin/python" \
    CARGO_TARGET_DIR=$TARGET_DIR timeout -k 10 1200 mvn -q -B -f java-shim/pom.xml verify
}

start_bridge() {
  # exports MQBRIDGE_STOMP_HOST_PORT too, or leaves it unset (and the STOMP steps fail)
  MQBRIDGE_RUN_DIR="$WORK/bridge" mqbridge_start "$MQBRIDGE_LISTENERS_AMQP_STOMP" "$WORK/bridge-data"
}

stop_bridge_cleanly() {
  mqbridge_stop
}

# ---------------------------------------------------------------- run

section "mqbridge test run ($(date -u +%Y-%m-%dT%H:%M:%SZ), CI=${CI:-unset})"
info "repo $ROOT, work dir $WORK, binary $MQBRIDGE_BIN"

must "install: system packages (apt)" install_system
must "install: rust components" install_rust_components
must "install: python venv (pika, stomp.py, pytest)" install_python
must "install: node (npm ci, amqplib)" install_node
must "install: java (maven, amqp-client, junit)" install_java

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
step "cargo test --workspace" cargo test --workspace
if [ "$SKIP_BRIDGE" = 1 ]; then
  info "MQBRIDGE_SKIP_BRIDGE=1: not building the release binary"
else
  must "cargo build --release" cargo build --release
  step "web UI: browser tests (headless Chromium, tests/ui)" ui_tests
  step "routes ops: schema, check, hot reload, SMTP route" routes_ops
  step "docker-compose.yml: valid, its mqbridge configs pass mqbridge check" compose_validate
fi

# rabbitmq_start exports RABBITMQ_URL and remembers whether we started it: run in this shell
section "start RabbitMQ"
if rabbitmq_start && port_open 127.0.0.1 "$RABBITMQ_PORT"; then
  PASSED+=("start RabbitMQ")
else
  FAILED+=("start RabbitMQ")
  summary
  exit 1
fi

step "HTTP API: definitions exported by RabbitMQ import into mqbridge" admin_rabbitmq_definitions

if [ "$SKIP_BRIDGE" = 1 ]; then
  step "pika suite vs RabbitMQ" pika_suite "$RABBITMQ_URL"
  step "amqplib suite vs RabbitMQ" node_suite "$RABBITMQ_URL"
  step "java suite vs RabbitMQ" java_suite "$RABBITMQ_URL"
  step "stomp.py suites vs RabbitMQ STOMP plugin" stomp_suite "$RABBITMQ_STOMP_HOST_PORT" "$RABBITMQ_URL" rabbitmq
else
  # start_bridge exports MQBRIDGE_PID/MQBRIDGE_URL: call it in this shell, not in step's subshell
  section "start mqbridge"
  if start_bridge; then
    PASSED+=("start mqbridge")
    step "pika suite vs mqbridge" pika_suite "$MQBRIDGE_URL"
    step "amqplib suite vs mqbridge" node_suite "$MQBRIDGE_URL"
    step "java suite vs mqbridge" java_suite "$MQBRIDGE_URL"
    step "differential: mqbridge vs RabbitMQ" differential "$MQBRIDGE_URL" "$RABBITMQ_URL"
    step "stomp.py suites vs mqbridge" stomp_suite "${MQBRIDGE_STOMP_HOST_PORT:-}" "$MQBRIDGE_URL" mqbridge
    step "differential STOMP: mqbridge vs RabbitMQ" differential_stomp "${MQBRIDGE_STOMP_HOST_PORT:-}" \
      "$MQBRIDGE_URL" "$RABBITMQ_STOMP_HOST_PORT" "$RABBITMQ_URL"
    section "mqbridge: SIGTERM gives a clean exit 0"
    if stop_bridge_cleanly; then PASSED+=("mqbridge SIGTERM exit 0"); else FAILED+=("mqbridge SIGTERM exit 0"); fi
  else
    FAILED+=("start mqbridge (see its log above)")
  fi
  step "pika suite vs RabbitMQ (reference)" pika_suite "$RABBITMQ_URL"
  step "stomp.py suites vs RabbitMQ STOMP plugin (reference)" stomp_suite "$RABBITMQ_STOMP_HOST_PORT" \
    "$RABBITMQ_URL" rabbitmq
  step "crash test: kill -9 mqbridge, no confirmed message lost" crash_test_mqbridge
  step "permissions and limits: pika, stomp.py, ActiveMQ JMS vs mqbridge; pika, stomp.py vs RabbitMQ" \
    permissions_suites "$WORK/permissions"
fi

# OpenWire: the full suites against ActiveMQ 5.17 (the reference), then mqbridge (tagged tests)
section "start ActiveMQ (OpenWire reference)"
if activemq_start && port_open 127.0.0.1 "$ACTIVEMQ_OPENWIRE_PORT"; then
  PASSED+=("start ActiveMQ")
  step "OpenWire JMS suites vs ActiveMQ 5.17 (reference, every test)" openwire_vs_activemq
else
  FAILED+=("start ActiveMQ")
fi
if [ "$SKIP_BRIDGE" = 1 ]; then
  NOTES+=("OpenWire suites vs mqbridge NOT RUN: MQBRIDGE_SKIP_BRIDGE=1")
else
  section "OpenWire suites vs mqbridge"
  openwire_vs_mqbridge
  step "routes: ActiveMQ <-> RabbitMQ" routes_interop
  step "route clients vs ActiveMQ and RabbitMQ" clients_vs_peers
  step "TLS: pika, stomp.py and the ActiveMQ JMS client (ssl://) over TLS" tls_interop
fi
if [ "$SKIP_BRIDGE" != 1 ]; then
  step "java-shim: mvn verify (shim -> mqbridge, shim -> RabbitMQ, ActiveMQ client -> OpenWire)" java_shim
fi

if [ "${CRASH_TEST_RABBITMQ:-0}" = 1 ]; then
  step "crash test: kill -9 RabbitMQ (reference)" crash_test_rabbitmq
fi

summary
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "scripts/test.sh: ${#FAILED[@]} step(s) failed" >&2
  exit 1
fi
echo "scripts/test.sh: all steps passed" >&2
