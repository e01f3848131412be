# shellcheck shell=bash
# RabbitMQ helpers (Debian package `rabbitmq-server`), for tests and benchmarks.
#
#   source scripts/lib/rabbitmq.sh
#   rabbitmq_install   # apt-get install rabbitmq-server when missing
#   rabbitmq_start     # starts the node on loopback if it is not up; exports RABBITMQ_PORT,
#                      # RABBITMQ_URL (amqp://guest:guest@127.0.0.1:PORT/%2f),
#                      # RABBITMQ_STOMP_PORT and RABBITMQ_STOMP_HOST_PORT (127.0.0.1:PORT)
#   rabbitmq_stop      # stops the node only if rabbitmq_start started it
#
# The node listens on 127.0.0.1:${RABBITMQ_PORT:-5682} (never 5672, mqbridge's default),
# distribution port AMQP+20000, node name rabbit@localhost. Config is written to
# /etc/rabbitmq/rabbitmq.conf and /etc/rabbitmq/rabbitmq-env.conf (idempotent).
# The STOMP plugin (rabbitmq_stomp, the reference for the STOMP interop suites) listens on
# 127.0.0.1:${RABBITMQ_STOMP_PORT:-61623} (never 61613, mqbridge's STOMP default). It is
# enabled offline before a start, or online (listener set first) on a node already running.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RABBITMQ_STARTED_BY_US="${RABBITMQ_STARTED_BY_US:-0}"

_mqb_apt_updated=0
apt_install() {
  if [ "$_mqb_apt_updated" = 0 ]; then
    info "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _mqb_apt_updated=1
  fi
  info "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

rabbitmq_install() {
  if dpkg -s rabbitmq-server >/dev/null 2>&1 && command -v rabbitmq-server >/dev/null 2>&1; then
    info "rabbitmq-server already installed ($(dpkg-query -W -f='${Version}' rabbitmq-server))"
    return 0
  fi
  apt_install rabbitmq-server
}

_rabbitmq_configure() {
  local port=$1 dist=$(($1 + 20000)) stomp=$2
  local conf=/etc/rabbitmq/rabbitmq.conf env=/etc/rabbitmq/rabbitmq-env.conf
  local want_conf want_env
  want_conf="# Written by mqbridge scripts/lib/rabbitmq.sh
listeners.tcp.default = 127.0.0.1:${port}
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = ${dist}
distribution.listener.port_range.max = ${dist}
loopback_users.guest = true
stomp.listeners.tcp.1 = 127.0.0.1:${stomp}
log.console = false
log.file.level = warning
"
  want_env="# Written by mqbridge scripts/lib/rabbitmq.sh
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=${port}
DIST_PORT=${dist}
"
  as_root mkdir -p /etc/rabbitmq
  if [ "$(cat "$conf" 2>/dev/null)" != "$(printf '%s' "$want_conf")" ]; then
    printf '%s' "$want_conf" | as_root tee "$conf" >/dev/null
  fi
  if [ "$(cat "$env" 2>/dev/null)" != "$(printf '%s' "$want_env")" ]; then
    printf '%s' "$want_env" | as_root tee "$env" >/dev/null
  fi
}

rabbitmq_running() {
  as_root rabbitmqctl -q status >/dev/null 2>&1
}

# rabbitmq_pid: OS pid of the running node.
rabbitmq_pid() {
  as_root rabbitmqctl -q eval 'os:getpid().' 2>/dev/null | tr -d '"[:space:]'
  echo
}

# _rabbitmq_stomp_online: the node runs but nothing listens on the STOMP port (started
# before the plugin was configured, or by someone else): set the listener, enable the plugin.
_rabbitmq_stomp_online() {
  local port=$1
  info "enabling rabbitmq_stomp online on 127.0.0.1:${port}"
  # The running node read its config before the stomp line existed: set the listener first,
  # or the plugin would bind its default 0.0.0.0:61613.
  as_root rabbitmqctl -q eval \
    "application:load(rabbitmq_stomp), application:set_env(rabbitmq_stomp, tcp_listeners, [{\"127.0.0.1\", ${port}}])." \
    >/dev/null
  as_root rabbitmq-plugins -q enable rabbitmq_stomp >/dev/null
  # Already listed in enabled_plugins (offline enable) but not running: start it explicitly.
  if ! wait_for_port 127.0.0.1 "$port" 5 2>/dev/null; then
    as_root rabbitmqctl -q eval 'rabbit_plugins:ensure(rabbit_plugins:enabled_plugins_file()).' >/dev/null 2>&1 ||
      as_root rabbitmqctl -q eval 'rabbit:start_apps([rabbitmq_stomp]).' >/dev/null
  fi
  wait_for_port 127.0.0.1 "$port" 30
}

rabbitmq_start() {
  RABBITMQ_PORT="${RABBITMQ_PORT:-5682}"
  RABBITMQ_STOMP_PORT="${RABBITMQ_STOMP_PORT:-61623}"
  export RABBITMQ_PORT RABBITMQ_STOMP_PORT
  export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:${RABBITMQ_PORT}/%2f"
  export RABBITMQ_STOMP_HOST_PORT="127.0.0.1:${RABBITMQ_STOMP_PORT}"
  command -v rabbitmq-server >/dev/null 2>&1 || rabbitmq_install
  _rabbitmq_configure "$RABBITMQ_PORT" "$RABBITMQ_STOMP_PORT"
  if rabbitmq_running && port_open 127.0.0.1 "$RABBITMQ_PORT"; then
    info "RabbitMQ already running on 127.0.0.1:${RABBITMQ_PORT} (left running at exit)"
    if ! port_open 127.0.0.1 "$RABBITMQ_STOMP_PORT"; then
      _rabbitmq_stomp_online "$RABBITMQ_STOMP_PORT" ||
        { die "cannot enable rabbitmq_stomp on 127.0.0.1:${RABBITMQ_STOMP_PORT}"; return 1; }
    fi
    info "RabbitMQ STOMP on 127.0.0.1:${RABBITMQ_STOMP_PORT}"
    return 0
  fi
  # Offline: writes /etc/rabbitmq/enabled_plugins; the node starts the plugin at boot.
  as_root rabbitmq-plugins -q enable --offline rabbitmq_stomp >/dev/null ||
    { die "rabbitmq-plugins enable --offline rabbitmq_stomp failed"; return 1; }
  info "starting RabbitMQ on 127.0.0.1:${RABBITMQ_PORT}"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  RABBITMQ_STARTED_BY_US=1
  local i ok=0
  for ((i = 0; i < 120; i++)); do
    # await_startup fails at once while the node is not yet registered: poll it.
    if as_root timeout 60 rabbitmqctl -q await_startup >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 1
  done
  if [ "$ok" != 1 ]; then
    echo "---- RabbitMQ logs ----" >&2
    as_root sh -c 'tail -n 50 /var/log/rabbitmq/*' >&2 || true
    die "RabbitMQ did not start within 120s"
    return 1
  fi
  wait_for_port 127.0.0.1 "$RABBITMQ_PORT" 60
  if ! wait_for_port 127.0.0.1 "$RABBITMQ_STOMP_PORT" 30; then
    _rabbitmq_stomp_online "$RABBITMQ_STOMP_PORT" ||
      { die "RabbitMQ STOMP is not listening on 127.0.0.1:${RABBITMQ_STOMP_PORT}"; return 1; }
  fi
  info "RabbitMQ STOMP on 127.0.0.1:${RABBITMQ_STOMP_PORT}"
  info "RabbitMQ $(as_root rabbitmqctl -q version 2>/dev/null || true) up, pid $(rabbitmq_pid)"
}

rabbitmq_stop() {
  if [ "${RABBITMQ_STARTED_BY_US:-0}" != 1 ]; then
    return 0
  fi
  info "stopping RabbitMQ"
  as_root timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || true
  RABBITMQ_STARTED_BY_US=0
}
