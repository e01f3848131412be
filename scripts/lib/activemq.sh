# shellcheck shell=bash
# ActiveMQ Classic helpers (Debian package `activemq`), for benchmarks (a STOMP peer).
#
#   source scripts/lib/activemq.sh
#   activemq_install   # apt-get install activemq when missing
#   activemq_start     # starts the `main` instance if it is not up (idempotent); exports
#                      # ACTIVEMQ_STOMP_PORT, ACTIVEMQ_STOMP_HOST_PORT (127.0.0.1:PORT) and
#                      # ACTIVEMQ_OPENWIRE_PORT; returns once the STOMP port answers a CONNECT;
#                      # exports ACTIVEMQ_AMQP_PORT when the AMQP 1.0 connector is configured
#   activemq_amqp_install  # puts ActiveMQ's AMQP 1.0 transport into the instance (see below)
#   activemq_pid       # pid of the broker's java process (for CPU sampling)
#   activemq_stop      # stops the instance only if activemq_start started it
#
# The instance is Debian's `main` (/etc/activemq/instances-available/main, linked into
# instances-enabled/, run by /etc/init.d/activemq as user activemq; Debian's packages do not
# start services here). Its activemq.xml is written by this file (idempotent; a running
# broker with another config is restarted): STOMP on 127.0.0.1:${ACTIVEMQ_STOMP_PORT:-61633}
# and OpenWire on 127.0.0.1:${ACTIVEMQ_OPENWIRE_PORT:-61626} — never mqbridge's defaults
# 61613 (STOMP) / 61616 (OpenWire) nor RabbitMQ's STOMP plugin on 61623. Persistence stays
# Debian's default (KahaDB under /var/lib/activemq/main/data, journal disk syncs on), so
# persistent sends hit the disk as they do on the other brokers. The STOMP connector sets
# transport.tcpNoDelay=true: ActiveMQ's TCP transport leaves Nagle on by default, which cost
# it 10x in throughput (4-9 k vs 53-69 k msg/s, 16 B STOMP->STOMP) against consumers acking
# every 50 messages; RabbitMQ and mqbridge set TCP_NODELAY, so this is the fair setting.
#
# AMQP 1.0 connector (bench/routes.sh: a RabbitMQ shovel reads ActiveMQ through it) on
# 127.0.0.1:${ACTIVEMQ_AMQP_PORT:-5673}. Debian's package does not ship the AMQP transport, so
# activemq_amqp_install copies activemq-amqp (same version as the broker) and proton-j into
# /var/lib/activemq/main/lib (ActiveMQ's Main adds ${activemq.base}/lib to its class path),
# fetching them with Maven when they are not in ~/.m2. activemq_start tries that (best effort)
# and writes the connector only when both jars are there: a connector whose transport is
# missing would stop the broker from starting, and every suite with it.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ACTIVEMQ_STARTED_BY_US="${ACTIVEMQ_STARTED_BY_US:-0}"
ACTIVEMQ_INSTANCE=main
ACTIVEMQ_PIDFILE=/var/run/activemq/${ACTIVEMQ_INSTANCE}.pid
ACTIVEMQ_LIB_DIR=/var/lib/activemq/${ACTIVEMQ_INSTANCE}/lib
# proton-j as activemq-parent 5.17.x pins it (qpid-proton-version).
ACTIVEMQ_PROTON_VERSION="${ACTIVEMQ_PROTON_VERSION:-0.33.10}"

_mqb_amq_apt_updated=0
activemq_install() {
  if dpkg -s activemq >/dev/null 2>&1 && [ -x /usr/bin/activemq ]; then
    info "activemq already installed ($(dpkg-query -W -f='${Version}' activemq))"
    return 0
  fi
  if [ "$_mqb_amq_apt_updated" = 0 ]; then
    info "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _mqb_amq_apt_updated=1
  fi
  info "apt-get install activemq"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends activemq
}

# _activemq_upstream_version: the broker's upstream version (5.17.2 of 5.17.2+dfsg-2+deb12u1).
_activemq_upstream_version() {
  local v
  v=$(dpkg-query -W -f='${Version}' activemq 2>/dev/null) || return 1
  v=${v#*:}
  echo "${v%%[+~-]*}"
}

# activemq_amqp_jars_present: true when the AMQP transport and proton-j are in the instance lib.
activemq_amqp_jars_present() {
  local v
  v=$(_activemq_upstream_version) || return 1
  [ -f "$ACTIVEMQ_LIB_DIR/activemq-amqp-$v.jar" ] &&
    [ -f "$ACTIVEMQ_LIB_DIR/proton-j-$ACTIVEMQ_PROTON_VERSION.jar" ]
}

# activemq_amqp_install: copies activemq-amqp-<broker version>.jar and proton-j into the
# instance's lib dir, from ~/.m2 or fetched with `mvn dependency:get` (Maven Central). Fails
# (without changing anything) when they cannot be had.
activemq_amqp_install() {
  local v m2 art jar g a ver
  activemq_amqp_jars_present && return 0
  v=$(_activemq_upstream_version) || { die "activemq is not installed"; return 1; }
  m2="${MAVEN_REPO:-$HOME/.m2/repository}"
  for art in "org.apache.activemq:activemq-amqp:$v" "org.apache.qpid:proton-j:$ACTIVEMQ_PROTON_VERSION"; do
    IFS=: read -r g a ver <<<"$art"
    jar="$m2/${g//.//}/$a/$ver/$a-$ver.jar"
    if [ ! -f "$jar" ]; then
      command -v mvn >/dev/null 2>&1 || { die "mvn not found: cannot fetch $art"; return 1; }
      info "mvn dependency:get $art"
      (cd /tmp && timeout 180 mvn -q -B dependency:get -Dartifact="$art" -Dtransitive=false) >&2 ||
        { die "cannot fetch $art"; return 1; }
    fi
    [ -f "$jar" ] || { die "$jar missing after mvn dependency:get"; return 1; }
    as_root install -D -m 0644 "$jar" "$ACTIVEMQ_LIB_DIR/$a-$ver.jar" || return 1
  done
  info "ActiveMQ AMQP 1.0 transport installed in $ACTIVEMQ_LIB_DIR"
}

# _activemq_configure STOMP_PORT OPENWIRE_PORT [AMQP_PORT]: writes the instance's activemq.xml
# and enables the instance (with an AMQP 1.0 connector when AMQP_PORT is given). Prints
# "changed" when the XML was rewritten.
_activemq_configure() {
  local stomp=$1 openwire=$2 amqp=${3:-}
  local dir=/etc/activemq/instances-available/$ACTIVEMQ_INSTANCE
  local xml=$dir/activemq.xml want amqp_connector=""
  if [ -n "$amqp" ]; then
    amqp_connector=$'\n            <transportConnector name="amqp" uri="amqp://127.0.0.1:'"${amqp}"'?transport.tcpNoDelay=true"/>'
  fi
  want="<!-- Written by mqbridge scripts/lib/activemq.sh (Debian's default instance config,
     with a STOMP connector and OpenWire moved off 61616). -->
<beans
  xmlns=\"http://www.springframework.org/schema/beans\"
  xmlns:amq=\"http://activemq.apache.org/schema/core\"
  xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"
  xsi:schemaLocation=\"http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd\">

    <bean class=\"org.springframework.beans.factory.config.PropertyPlaceholderConfigurer\"/>

    <broker xmlns=\"http://activemq.apache.org/schema/core\"
            useJmx=\"false\"
            brokerName=\"localhost\"
            dataDirectory=\"\${activemq.base}/data\">

        <!-- KahaDB, Debian's default: persistent messages are journaled and synced to disk. -->
        <persistenceAdapter>
            <kahaDB directory=\"\${activemq.base}/data/kahadb\"/>
        </persistenceAdapter>

        <transportConnectors>
            <transportConnector name=\"openwire\" uri=\"tcp://127.0.0.1:${openwire}\"/>
            <transportConnector name=\"stomp\" uri=\"stomp://127.0.0.1:${stomp}?transport.tcpNoDelay=true\"/>${amqp_connector}
        </transportConnectors>

    </broker>

</beans>
"
  as_root mkdir -p "$dir" /etc/activemq/instances-enabled
  if [ ! -e "/etc/activemq/instances-enabled/$ACTIVEMQ_INSTANCE" ]; then
    as_root ln -s "$dir" "/etc/activemq/instances-enabled/$ACTIVEMQ_INSTANCE"
  fi
  if [ "$(cat "$xml" 2>/dev/null)" != "$(printf '%s' "$want")" ]; then
    printf '%s' "$want" | as_root tee "$xml" >/dev/null
    echo changed
  fi
}

# activemq_pid: pid of the broker's java process, empty when it does not run.
activemq_pid() {
  local pid
  pid=$(as_root cat "$ACTIVEMQ_PIDFILE" 2>/dev/null | tr -d '[:space:]')
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -q "activemq.base=.*/$ACTIVEMQ_INSTANCE\$"; then
    echo "$pid"
    return 0
  fi
  # No (valid) pidfile: the java process of this instance, if any.
  pgrep -u activemq -f "activemq.base=/var/lib/activemq/$ACTIVEMQ_INSTANCE" 2>/dev/null | head -n 1
}

activemq_running() {
  [ -n "$(activemq_pid)" ]
}

# activemq_stomp_ready HOST PORT: true when a STOMP CONNECT gets a CONNECTED frame back.
activemq_stomp_ready() {
  local host=$1 port=$2 reply=""
  reply=$(
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf 'CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\n\n\0' >&3
    timeout 3 head -c 9 <&3
  ) 2>/dev/null
  [ "$reply" = CONNECTED ]
}

_activemq_wait_stomp() {
  local port=$1 timeout=$2 i
  for ((i = 0; i < timeout * 2; i++)); do
    if activemq_stomp_ready 127.0.0.1 "$port"; then
      return 0
    fi
    if ((i > 10)) && ! activemq_running; then
      return 1
    fi
    sleep 0.5
  done
  return 1
}

activemq_start() {
  ACTIVEMQ_STOMP_PORT="${ACTIVEMQ_STOMP_PORT:-61633}"
  ACTIVEMQ_OPENWIRE_PORT="${ACTIVEMQ_OPENWIRE_PORT:-61626}"
  export ACTIVEMQ_STOMP_PORT ACTIVEMQ_OPENWIRE_PORT
  export ACTIVEMQ_STOMP_HOST_PORT="127.0.0.1:${ACTIVEMQ_STOMP_PORT}"
  if ! dpkg -s activemq >/dev/null 2>&1 || [ ! -x /usr/bin/activemq ]; then
    activemq_install || { die "cannot install activemq"; return 1; }
  fi
  local changed amqp=""
  # Best effort: without the jars the broker runs as before, with no AMQP connector.
  if activemq_amqp_jars_present || activemq_amqp_install; then
    ACTIVEMQ_AMQP_PORT="${ACTIVEMQ_AMQP_PORT:-5673}"
    export ACTIVEMQ_AMQP_PORT
    amqp=$ACTIVEMQ_AMQP_PORT
  else
    info "WARNING: no ActiveMQ AMQP 1.0 transport: the broker runs without its AMQP connector"
    unset ACTIVEMQ_AMQP_PORT
  fi
  changed=$(_activemq_configure "$ACTIVEMQ_STOMP_PORT" "$ACTIVEMQ_OPENWIRE_PORT" "$amqp")
  if activemq_running; then
    if [ -z "$changed" ] && activemq_stomp_ready 127.0.0.1 "$ACTIVEMQ_STOMP_PORT"; then
      info "ActiveMQ already running, STOMP on 127.0.0.1:${ACTIVEMQ_STOMP_PORT} (left running at exit)"
      return 0
    fi
    info "ActiveMQ runs with another config: restarting it"
    as_root /etc/init.d/activemq stop >/dev/null 2>&1 || true
  fi
  info "starting ActiveMQ (instance $ACTIVEMQ_INSTANCE)"
  as_root /etc/init.d/activemq start >/dev/null 2>&1 || true
  ACTIVEMQ_STARTED_BY_US=1
  if ! _activemq_wait_stomp "$ACTIVEMQ_STOMP_PORT" 90; then
    echo "---- ActiveMQ log ----" >&2
    as_root sh -c "tail -n 40 /var/lib/activemq/$ACTIVEMQ_INSTANCE/data/activemq.log" >&2 || true
    die "ActiveMQ STOMP did not answer a CONNECT on 127.0.0.1:${ACTIVEMQ_STOMP_PORT} within 90s"
    return 1
  fi
  if [ -n "$amqp" ] && ! wait_for_port 127.0.0.1 "$amqp" 30; then
    die "ActiveMQ's AMQP 1.0 connector does not listen on 127.0.0.1:$amqp"
    return 1
  fi
  info "ActiveMQ $(dpkg-query -W -f='${Version}' activemq) up, pid $(activemq_pid), STOMP on 127.0.0.1:${ACTIVEMQ_STOMP_PORT}, OpenWire on 127.0.0.1:${ACTIVEMQ_OPENWIRE_PORT}${amqp:+, AMQP 1.0 on 127.0.0.1:$amqp}"
}

activemq_stop() {
  if [ "${ACTIVEMQ_STARTED_BY_US:-0}" != 1 ]; then
    return 0
  fi
  info "stopping ActiveMQ"
  as_root timeout 60 /etc/init.d/activemq stop >/dev/null 2>&1 || true
  ACTIVEMQ_STARTED_BY_US=0
}

# activemq_restart: stop and start the instance (same ports, same KahaDB data), whoever started
# it; returns once STOMP answers a CONNECT and the OpenWire port accepts connections. Used as
# BROKER_RESTART_CMD by the OpenWire failover test.
activemq_restart() {
  ACTIVEMQ_STOMP_PORT="${ACTIVEMQ_STOMP_PORT:-61633}"
  ACTIVEMQ_OPENWIRE_PORT="${ACTIVEMQ_OPENWIRE_PORT:-61626}"
  info "restarting ActiveMQ (instance $ACTIVEMQ_INSTANCE)"
  as_root timeout 60 /etc/init.d/activemq stop >/dev/null 2>&1 || true
  as_root /etc/init.d/activemq start >/dev/null 2>&1 || true
  _activemq_wait_stomp "$ACTIVEMQ_STOMP_PORT" 90 || {
    die "ActiveMQ did not come back within 90s"
    return 1
  }
  wait_for_port 127.0.0.1 "$ACTIVEMQ_OPENWIRE_PORT" 30
}
