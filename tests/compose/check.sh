#!/usr/bin/env bash
# Run docker-compose.yml for real and move one message through each of its routes.
# Needs Docker with the compose plugin and curl; CI machines have no Docker engine, so CI
# runs tests/compose/validate.sh instead and users run this:
#
#   tests/compose/check.sh          (from the repository root; `docker compose down -v` at the end)
set -euo pipefail
cd "$(dirname "$0")/../.."

compose() { docker compose -f docker-compose.yml "$@"; }
fail() { echo "FAIL: $*" >&2; compose logs --tail 50 mqbridge >&2 || true; exit 1; }
# wait_for SECONDS DESCRIPTION CMD...: retry CMD every second until it succeeds.
wait_for() {
  local seconds=$1 what=$2; shift 2
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then echo "ok: $what"; return 0; fi
    sleep 1
  done
  fail "$what (after ${seconds}s)"
}

trap 'compose down -v >/dev/null 2>&1 || true' EXIT
compose up -d --build --wait

api="http://localhost:15672"
auth=(-u admin:admin)
wait_for 120 "mqbridge /readyz: every route connected" curl -fsS "$api/readyz"
curl -fsS "${auth[@]}" "$api/api/routes" | grep -q '"state":"running"' || fail "routes not running"

# ActiveMQ -> RabbitMQ over OpenWire.
compose exec -T activemq /opt/apache-activemq/bin/activemq producer \
  --destination queue://orders --messageCount 1 --message "order from compose check" >/dev/null
orders_in_rabbitmq() {
  compose exec -T rabbitmq rabbitmqctl -q list_queues name messages | awk '$1 == "orders" && $2 >= 1 {found=1} END {exit !found}'
}
wait_for 60 "ActiveMQ queue orders -> RabbitMQ queue orders" orders_in_rabbitmq

# RabbitMQ -> ActiveMQ over STOMP.
curl -fsS -u bridge:bridge -H 'content-type: application/json' \
  -d '{"properties":{},"routing_key":"replies","payload":"reply from compose check","payload_encoding":"string"}' \
  http://localhost:15673/api/exchanges/%2F/amq.default/publish | grep -q '"routed":true' || fail "publish to RabbitMQ"
replies_in_activemq() {
  compose exec -T activemq /opt/apache-activemq/bin/activemq consumer \
    --destination queue://replies --messageCount 1 2>&1 | grep -q "reply from compose check"
}
wait_for 60 "RabbitMQ queue replies -> ActiveMQ queue replies" replies_in_activemq

# mqbridge -> mail.
curl -fsS "${auth[@]}" -H 'content-type: application/json' \
  -d '{"properties":{"headers":{"severity":"warn","subject":"compose check"}},"routing_key":"alerts","payload":"disk almost full","payload_encoding":"string"}' \
  "$api/api/exchanges/%2F/amq.default/publish" | grep -q '"routed":true' || fail "publish to mqbridge"
mail_arrived() { curl -fsS http://localhost:8025/api/v1/messages | grep -q "compose check"; }
wait_for 60 "mqbridge queue alerts -> mail in Mailpit" mail_arrived

curl -fsS "${auth[@]}" "$api/api/routes"
echo
echo "compose check: every route moved its message"
