# shellcheck shell=bash
# Permissions and limits interop suites, for scripts/test.sh.
#
#   source scripts/lib/permissions.sh
#   permissions_users_rabbitmq   create the perm-* users of tests/interop/permissions.yaml in
#                                the local RabbitMQ (rabbitmqctl, idempotent)
#   permissions_suites WORKDIR   start mqbridge with tests/interop/permissions.yaml (AMQP,
#                                STOMP and OpenWire listeners on port 0), run the pika +
#                                stomp.py suite (tests/interop/python/test_permissions.py) and
#                                the ActiveMQ JMS clients' PermissionsTest (5.x and 6.x) against
#                                it, then stop it; then run the Python suite against RabbitMQ
#                                (its AMQP port and STOMP plugin) with the same users, as the
#                                reference. Needs RABBITMQ_URL and RABBITMQ_STOMP_HOST_PORT.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=mqbridge.sh
source "$(dirname "${BASH_SOURCE[0]}")/mqbridge.sh"

PERMISSIONS_CONFIG="$MQB_REPO_ROOT/tests/interop/permissions.yaml"

permissions_users_rabbitmq() {
  local user
  for user in perm-ro perm-wo perm-nc perm-novhost; do
    as_root rabbitmqctl -q delete_user "$user" >/dev/null 2>&1 || true
    as_root rabbitmqctl -q add_user "$user" perm-pw >/dev/null
  done
  as_root rabbitmqctl -q set_permissions -p / perm-ro '.*' '' '.*' >/dev/null
  as_root rabbitmqctl -q set_permissions -p / perm-wo '.*' '.*' '' >/dev/null
  as_root rabbitmqctl -q set_permissions -p / perm-nc '' '.*' '.*' >/dev/null
}

# permissions_python AMQP_URL STOMP_HOST_PORT BROKER [MAX_MESSAGE_SIZE]
permissions_python() {
  PERM_USERS=1 AMQP_URL=$1 STOMP_HOST_PORT=$2 STOMP_BROKER=$3 PERM_MAX_MESSAGE_SIZE=${4:-} \
    INTEROP_TEST_TIMEOUT=30 timeout -k 10 300 \
    "$MQB_REPO_ROOT/.venv/bin/python" -m pytest -p no:cacheprovider -q -rfEs \
    "$MQB_REPO_ROOT/tests/interop/python/test_permissions.py"
}

# permissions_suites WORKDIR
permissions_suites() {
  local work=${1:?permissions_suites needs a work dir} extra openwire rc=0 max
  extra="listeners:
  amqp: { bind: \"127.0.0.1:0\" }
  stomp: { bind: \"127.0.0.1:0\" }
  openwire: { bind: \"127.0.0.1:0\" }
$(grep -v '^#' "$PERMISSIONS_CONFIG")"
  max=$(sed -n 's/^ *max_message_size: *\([0-9]*\).*/\1/p' "$PERMISSIONS_CONFIG")
  "$MQBRIDGE_BIN" check "$PERMISSIONS_CONFIG" >/dev/null
  MQBRIDGE_RUN_DIR="$work/bridge" mqbridge_start "$extra" "$work/data"
  openwire=$(mqbridge_read_port "$MQBRIDGE_LOG" openwire)
  if [ -z "$openwire" ]; then
    mqbridge_kill9
    die "mqbridge has no OpenWire listener"
  fi
  info "permissions: pika + stomp.py vs mqbridge"
  permissions_python "$MQBRIDGE_URL" "${MQBRIDGE_STOMP_HOST_PORT:?}" mqbridge "$max" || rc=1
  info "permissions: ActiveMQ JMS clients (5.x, 6.x) vs mqbridge"
  (cd "$MQB_REPO_ROOT/tests/interop/openwire" &&
    PERM_USERS=1 OPENWIRE_URL="tcp://127.0.0.1:$openwire" BROKER_KIND=mqbridge \
      PERM_MAX_MESSAGE_SIZE="$max" timeout -k 10 600 \
      mvn -q -B test -pl jms5,jms6 -Dtest=PermissionsTest -Dsurefire.failIfNoSpecifiedTests=false) || rc=1
  mqbridge_stop || rc=1
  info "permissions: pika + stomp.py vs RabbitMQ (reference)"
  permissions_users_rabbitmq
  permissions_python "${RABBITMQ_URL:?}" "${RABBITMQ_STOMP_HOST_PORT:?}" rabbitmq || rc=1
  return "$rc"
}
