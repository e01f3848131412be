# shellcheck shell=bash
# The HTTP listener's CI steps: RabbitMQ definitions imported into mqbridge.
#
# admin_rabbitmq_definitions: give the running RabbitMQ a topology of its own (a user with
# permissions, a topic exchange, a queue with arguments, an exchange-to-queue and an
# exchange-to-exchange binding), export its definitions with rabbitmqctl, and run the
# integration test that imports that file into mqbridge through POST /api/definitions.
admin_rabbitmq_definitions() {
  local out="$WORK/rabbitmq-definitions.json"
  as_root rabbitmqctl -q add_user mqb-import import-pw >/dev/null 2>&1 ||
    as_root rabbitmqctl -q change_password mqb-import import-pw >/dev/null
  as_root rabbitmqctl -q set_user_tags mqb-import management >/dev/null
  as_root rabbitmqctl -q set_permissions -p / mqb-import '^mqb\.import\..*' '.*' '^mqb\.import\..*' >/dev/null
  "$ROOT/.venv/bin/python" - "$RABBITMQ_URL" <<'PY'
import sys, pika
c = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
ch = c.channel()
ch.exchange_declare("mqb.import.events", "topic", durable=True)
ch.exchange_declare("mqb.import.audit", "fanout", durable=True)
ch.queue_declare("mqb.import.orders", durable=True,
                 arguments={"x-max-length": 1000, "x-dead-letter-exchange": "mqb.import.audit"})
ch.queue_bind("mqb.import.orders", "mqb.import.events", "orders.#")
ch.exchange_bind("mqb.import.audit", "mqb.import.events", "#")
c.close()
PY
  as_root rabbitmqctl -q export_definitions - >"$out"
  info "exported $(wc -c <"$out") bytes of RabbitMQ definitions"
  MQB_RABBITMQ_DEFINITIONS="$out" timeout -k 10 300 \
    cargo test --workspace --test it -- admin::rabbitmq_definitions_import --exact --nocapture
}

# compose_validate: docker-compose.yml is valid and every mqbridge config it mounts passes
# `mqbridge check` (CI has no Docker engine to run it; tests/compose/check.sh does that).
compose_validate() {
  command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
  tests/compose/validate.sh "$MQBRIDGE_BIN"
}
