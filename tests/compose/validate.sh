#!/usr/bin/env bash
# What CI can check of docker-compose.yml without a Docker engine: the file is valid for
# the compose CLI (Debian's docker-compose parses and normalises it without a daemon), and
# every mqbridge config it mounts passes `mqbridge check` with the environment the compose
# file gives the mqbridge service.
#
#   tests/compose/validate.sh [MQBRIDGE_BIN]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/mqbridge}

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "docker-compose (the compose CLI) is missing: install Debian's docker-compose" >&2
  exit 1
fi
normalized=$(mktemp)
trap 'rm -f "$normalized"' EXIT
docker-compose -f docker-compose.yml config >"$normalized"
echo "ok: docker-compose.yml is valid ($(grep -c '^  [a-z]' "$normalized") top-level entries normalised)"

# Each mqbridge config mounted into a service, with that service's environment.
python3 - "$normalized" <<'PY' | while IFS=$'\t' read -r file env; do
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for name, svc in doc.get("services", {}).items():
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    for vol in svc.get("volumes") or []:
        source = vol.get("source") if isinstance(vol, dict) else vol.split(":")[0]
        target = vol.get("target") if isinstance(vol, dict) else vol.split(":")[1]
        if source and source.endswith((".yaml", ".yml")) and target.startswith("/etc/mqbridge/"):
            print(source + "\t" + " ".join(f"{k}={v}" for k, v in env.items()))
PY
  [ -n "$file" ] || continue
  # shellcheck disable=SC2086
  env $env "$bin" check "$file"
done
checked=$(grep -c '/etc/mqbridge/' docker-compose.yml)
[ "$checked" -ge 1 ] || { echo "no mqbridge config is mounted by docker-compose.yml" >&2; exit 1; }
python3 -c 'import json,sys; json.load(open("config/compose/rabbitmq-definitions.json"))'
echo "ok: config/compose/rabbitmq-definitions.json is JSON"
